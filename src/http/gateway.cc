#include "http/gateway.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "domain/money.h"
#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "http/console_assets.h"
#include "http/routes.h"
#include "http/status_http.h"
#include "partnerledger/limits.h"
#include "util/host_port.h"
#include "util/httplib_config.h"
#include "util/status_macros.h"

namespace partnerledger::http {
namespace {

// The trailer an ABORTED append carries (server/status_map.h); passed on as
// a response header of the same name.
constexpr char kCurrentRevisionHeader[] = "x-current-revision";

// A fixed pool of workers with a bounded queue of accepted connections.
// When the queue is full, enqueue() (called on httplib's accept thread)
// waits, so the listener stops accepting until a worker frees up: the
// kernel's listen backlog absorbs the rest. Close() releases a waiting
// enqueue at shutdown; queued connections are still served (each bounded by
// the idle timeout), so none is dropped without a response.
class BoundedPool final : public httplib::TaskQueue {
 public:
  BoundedPool(size_t workers, size_t queued_max) : queued_max_(queued_max) {
    for (size_t i = 0; i < workers; ++i) {
      threads_.emplace_back([this] { Work(); });
    }
  }
  ~BoundedPool() override = default;

  void enqueue(std::function<void()> fn) override {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &BoundedPool::HasSpaceOrClosed));
    jobs_.push_back(std::move(fn));
  }

  void shutdown() override {
    {
      absl::MutexLock lock(&mu_);
      closed_ = true;
      stopping_ = true;
    }
    for (std::thread& t : threads_) t.join();
  }

  void Close() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }

 private:
  bool HasSpaceOrClosed() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return jobs_.size() < queued_max_ || closed_;
  }
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !jobs_.empty() || stopping_;
  }

  void Work() {
    while (true) {
      std::function<void()> fn;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(this, &BoundedPool::HasWorkOrStopping));
        if (jobs_.empty()) return;
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      fn();
    }
  }

  const size_t queued_max_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Constant after construction.
  std::vector<std::thread> threads_;
};

void SendError(httplib::Response& res, const absl::Status& status) {
  res.status = HttpStatusOf(status.code());
  res.set_header("Cache-Control", "no-store");
  res.set_content(ErrorJson(status), "application/json");
}

// A header value gRPC metadata can carry (printable ASCII, bounded).
bool ValidMetadataValue(const std::string& v) {
  if (v.size() > 8192) return false;
  return std::all_of(v.begin(), v.end(),
                     [](char c) { return c >= 0x20 && c <= 0x7e; });
}

struct CallResult {
  grpc::Status status;
  grpc::ByteBuffer response;
  std::string current_revision;
};

// {"AED":2,...}: every currency code the ledger accepts with its minor-unit
// exponent, so the console formats amounts by the ledger's own table.
std::string CurrenciesJson() {
  std::string out = "{";
  char code[4] = {'A', 'A', 'A', 0};
  for (code[0] = 'A'; code[0] <= 'Z'; ++code[0]) {
    for (code[1] = 'A'; code[1] <= 'Z'; ++code[1]) {
      for (code[2] = 'A'; code[2] <= 'Z'; ++code[2]) {
        const std::optional<int> e = domain::CurrencyExponent(code);
        if (!e.has_value()) continue;
        absl::StrAppend(&out, out.size() > 1 ? "," : "", "\"", code, "\":", *e);
      }
    }
  }
  return out + "}";
}

}  // namespace

struct HttpGateway::Impl {
  std::unique_ptr<httplib::Server> http;
  // Created by Start; owned by `http` once its serving thread takes it
  // (pool_taken), else by this.
  BoundedPool* pool = nullptr;
  std::atomic<bool> pool_taken{false};
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<grpc::GenericStub> stub;
  std::vector<BoundRoute> routes;
  std::string openapi;
  std::string currencies;
  std::thread thread;
  std::atomic<bool> thread_done{false};
  int port = 0;
  bool stopped = false;

  ~Impl() {
    if (pool != nullptr && !pool_taken.load()) {
      pool->shutdown();
      delete pool;
    }
  }

  CallResult Call(const BoundRoute& route, const std::string& request,
                  const std::string& authorization) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(limits::kHttpCallTimeoutMs));
    if (!authorization.empty()) ctx.AddMetadata("authorization", authorization);
    grpc::Slice slice(request);
    grpc::ByteBuffer buffer(&slice, 1);
    CallResult result;
    // Completed on this worker's own queue: no hand-over to another thread
    // on the way back.
    grpc::CompletionQueue cq;
    std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
        stub->PrepareUnaryCall(&ctx, route.grpc_method, buffer, &cq);
    call->StartCall();
    call->Finish(&result.response, &result.status, &cq);
    void* tag = nullptr;
    bool ok = false;
    if (!cq.Next(&tag, &ok) || !ok) {
      result.status =
          grpc::Status(grpc::StatusCode::INTERNAL, "call: no completion");
    }
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
    const auto& trailers = ctx.GetServerTrailingMetadata();
    if (auto it = trailers.find(kCurrentRevisionHeader); it != trailers.end()) {
      result.current_revision.assign(it->second.data(), it->second.size());
    }
    return result;
  }

  void Serve(const BoundRoute& route, const httplib::Request& req,
             httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    std::vector<std::string> path_values;
    for (size_t i = 1; i < req.matches.size(); ++i) {
      path_values.push_back(req.matches[i].str());
    }
    // A POST is its body alone (httplib would read a form-encoded body into
    // params); a GET its query string alone.
    const bool post = std::string(route.route.http_method) == "POST";
    std::vector<std::pair<std::string, std::string>> query;
    if (!post) query.assign(req.params.begin(), req.params.end());
    absl::StatusOr<std::unique_ptr<google::protobuf::Message>> msg =
        BuildRequest(route, path_values, query, post ? req.body : "");
    if (!msg.ok()) return SendError(res, msg.status());
    const std::string authorization = req.get_header_value("Authorization");
    if (!ValidMetadataValue(authorization)) {
      return SendError(res, absl::UnauthenticatedError(
                                "authorization: not a valid header value"));
    }
    CallResult call = Call(route, (*msg)->SerializeAsString(), authorization);
    if (!call.current_revision.empty()) {
      res.set_header(kCurrentRevisionHeader, call.current_revision);
    }
    if (!call.status.ok()) {
      return SendError(
          res,
          absl::Status(static_cast<absl::StatusCode>(call.status.error_code()),
                       call.status.error_message()));
    }
    std::vector<grpc::Slice> slices;
    std::string bytes;
    if (call.response.Dump(&slices).ok()) {
      for (const grpc::Slice& s : slices) {
        bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
    std::unique_ptr<google::protobuf::Message> out(
        google::protobuf::MessageFactory::generated_factory()
            ->GetPrototype(route.method->output_type())
            ->New());
    if (!out->ParseFromString(bytes)) {
      return SendError(res, absl::InternalError("response: unparseable"));
    }
    absl::StatusOr<std::string> json = ResponseJson(*out);
    if (!json.ok()) return SendError(res, json.status());
    res.status = 200;
    res.set_content(*json, "application/json");
  }

  void AddRoutes() {
    for (const BoundRoute& route : routes) {
      const BoundRoute* r = &route;
      auto handler = [this, r](const httplib::Request& req,
                               httplib::Response& res) { Serve(*r, req, res); };
      if (std::string(route.route.http_method) == "POST") {
        http->Post(route.path_regex, handler);
      } else {
        http->Get(route.path_regex, handler);
      }
    }
    http->Get("/v1/openapi.json",
              [this](const httplib::Request&, httplib::Response& res) {
                res.set_content(openapi, "application/json");
              });
    http->Get("/console/currencies.json",
              [this](const httplib::Request&, httplib::Response& res) {
                res.set_content(currencies, "application/json");
              });
    for (const ConsoleAsset& asset : ConsoleAssets()) {
      const ConsoleAsset* a = &asset;
      http->Get(asset.path,
                [a](const httplib::Request&, httplib::Response& res) {
                  res.set_header("Content-Security-Policy",
                                 "default-src 'self'; img-src 'self' data:; "
                                 "frame-ancestors 'none'");
                  res.set_header("X-Content-Type-Options", "nosniff");
                  res.set_header("Referrer-Policy", "no-referrer");
                  res.set_content(std::string(a->body), a->content_type);
                });
    }
    http->set_error_handler([](const httplib::Request& req,
                               httplib::Response& res) {
      if (!res.body.empty()) return;
      switch (res.status) {
        case 404:
          return SendError(res, absl::NotFoundError(absl::StrCat(
                                    "no route ", req.method, " ", req.path)));
        case 413:
          SendError(res, absl::ResourceExhaustedError(absl::StrCat(
                             "body: larger than ", limits::kHttpBodyBytesMax,
                             " bytes")));
          res.status = 413;  // Payload Too Large says more than 429 here
          return;
        default:
          return SendError(res, absl::InvalidArgumentError(absl::StrCat(
                                    "request: HTTP ", res.status)));
      }
    });
  }
};

HttpGateway::HttpGateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpGateway::~HttpGateway() { Stop(); }

int HttpGateway::port() const { return impl_->port; }

void HttpGateway::Stop() {
  if (impl_ == nullptr || impl_->stopped) return;
  impl_->stopped = true;
  impl_->pool->Close();
  // httplib's stop() is a no-op until the serving thread has entered its
  // accept loop; repeat it until that thread has returned.
  while (!impl_->thread_done.load()) {
    impl_->http->stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (impl_->thread.joinable()) impl_->thread.join();
}

absl::StatusOr<std::unique_ptr<HttpGateway>> HttpGateway::Start(
    const GatewayOptions& options, std::shared_ptr<grpc::Channel> channel) {
  ASSIGN_OR_RETURN(const HostPort address,
                   ParseHostPort("http_listen", options.listen));
  ASSIGN_OR_RETURN(std::vector<BoundRoute> routes, BindRoutes());
  auto impl = std::make_unique<Impl>();
  if (!options.tls_cert_file.empty()) {
    auto tls = std::make_unique<httplib::SSLServer>(
        options.tls_cert_file.c_str(), options.tls_key_file.c_str(),
        options.tls_client_ca_file.empty()
            ? nullptr
            : options.tls_client_ca_file.c_str());
    if (!tls->is_valid()) {
      return absl::InvalidArgumentError(
          "http_listen: cannot use the TLS certificate, key or client CA");
    }
    impl->http = std::move(tls);
  } else {
    impl->http = std::make_unique<httplib::Server>();
  }
  impl->channel = std::move(channel);
  impl->stub = std::make_unique<grpc::GenericStub>(impl->channel);
  impl->routes = std::move(routes);
  impl->openapi = OpenApiDocument(impl->routes);
  impl->currencies = CurrenciesJson();
  Impl* raw = impl.get();
  httplib::Server& http = *impl->http;
  impl->pool =
      new BoundedPool(limits::kHttpWorkers, limits::kHttpQueuedConnectionsMax);
  http.new_task_queue = [raw]() -> httplib::TaskQueue* {
    raw->pool_taken.store(true);
    return raw->pool;
  };
  const std::chrono::milliseconds idle(limits::kHttpIdleTimeoutMs);
  http.set_read_timeout(idle);
  http.set_write_timeout(idle);
  http.set_keep_alive_timeout(
      std::max<time_t>(1, limits::kHttpIdleTimeoutMs / 1000));
  http.set_payload_max_length(limits::kHttpBodyBytesMax);
  // A response leaves in more than one write (headers, body): without
  // TCP_NODELAY, Nagle's algorithm holds the second write until the client's
  // delayed ACK, about 40 ms on every keep-alive request.
  http.set_tcp_nodelay(true);
  impl->AddRoutes();
  const std::string& host = address.host;
  if (address.port == 0) {
    impl->port = http.bind_to_any_port(host);
  } else if (http.bind_to_port(host, address.port)) {
    impl->port = address.port;
  }
  if (impl->port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("http_listen: cannot bind ", options.listen));
  }
  impl->thread = std::thread([raw] {
    raw->http->listen_after_bind();
    raw->thread_done.store(true);
  });
  return std::unique_ptr<HttpGateway>(new HttpGateway(std::move(impl)));
}

}  // namespace partnerledger::http

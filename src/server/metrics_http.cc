#include "server/metrics_http.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/httplib_config.h"

namespace partnerledger::server {
namespace {

// Scrapes are small and rare: two threads, tiny request bodies.
constexpr size_t kHttpThreads = 2;
constexpr size_t kHttpPayloadBytesMax = 4096;

}  // namespace

struct MetricsHttpServer::Impl {
  httplib::Server http;
  std::thread thread;
  std::atomic<bool> thread_done{false};
  int port = 0;
  bool stopped = false;
};

MetricsHttpServer::MetricsHttpServer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

MetricsHttpServer::~MetricsHttpServer() { Stop(); }

int MetricsHttpServer::port() const { return impl_->port; }

void MetricsHttpServer::Stop() {
  if (impl_ == nullptr || impl_->stopped) return;
  impl_->stopped = true;
  // httplib's stop() is a no-op until the serving thread has entered its
  // accept loop; repeat it until that thread has returned.
  while (!impl_->thread_done.load()) {
    impl_->http.stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (impl_->thread.joinable()) impl_->thread.join();
}

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& listen, std::function<std::string()> render,
    std::function<bool()> healthy) {
  std::string host;
  std::string port_text;
  if (!listen.empty() && listen[0] == '[') {
    const size_t close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() ||
        listen[close + 1] != ':') {
      return absl::InvalidArgumentError(
          absl::StrCat("metrics_listen: \"", listen, "\" is not [host]:port"));
    }
    host = listen.substr(1, close - 1);
    port_text = listen.substr(close + 2);
  } else {
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("metrics_listen: \"", listen, "\" is not host:port"));
    }
    host = listen.substr(0, colon);
    port_text = listen.substr(colon + 1);
  }
  int port = 0;
  if (!absl::SimpleAtoi(port_text, &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics_listen: bad port in \"", listen, "\""));
  }
  auto impl = std::make_unique<Impl>();
  httplib::Server& http = impl->http;
  http.new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  http.set_payload_max_length(kHttpPayloadBytesMax);
  http.Get(
      "/metrics", [render](const httplib::Request&, httplib::Response& res) {
        res.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
      });
  http.Get("/healthz",
           [healthy](const httplib::Request&, httplib::Response& res) {
             const bool ok = healthy();
             res.status = ok ? 200 : 503;
             res.set_content(ok ? "SERVING\n" : "NOT_SERVING\n", "text/plain");
           });
  if (port == 0) {
    impl->port = http.bind_to_any_port(host);
  } else if (http.bind_to_port(host, port)) {
    impl->port = port;
  }
  if (impl->port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("metrics_listen: cannot bind ", listen));
  }
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    raw->http.listen_after_bind();
    raw->thread_done.store(true);
  });
  return std::unique_ptr<MetricsHttpServer>(
      new MetricsHttpServer(std::move(impl)));
}

}  // namespace partnerledger::server

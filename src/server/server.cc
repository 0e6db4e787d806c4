#include "server/server.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "http/gateway.h"
#include "ledger/ledger_internal.h"
#include "ledger/maintenance.h"
#include "server/admin_service.h"
#include "server/audit_service.h"
#include "server/event_store_service.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/metrics_http.h"
#include "server/query_service.h"
#include "server/unparseable_request.h"
#include "util/host_port.h"
#include "util/status_macros.h"

namespace partnerledger::server {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* flag) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": cannot read ", path));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": ", path, " is not PEM"));
  }
  return ss.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const ServerOptions& o) {
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "tls_cert and tls_key: give both or neither");
  }
  if (o.tls_cert_file.empty()) {
    if (!o.tls_client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "tls_client_ca: requires tls_cert and tls_key (mTLS is TLS)");
    }
    return grpc::InsecureServerCredentials();
  }
  ASSIGN_OR_RETURN(std::string cert, ReadPem(o.tls_cert_file, "tls_cert"));
  ASSIGN_OR_RETURN(std::string key, ReadPem(o.tls_key_file, "tls_key"));
  grpc::SslServerCredentialsOptions ssl(
      GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (!o.tls_client_ca_file.empty()) {
    ASSIGN_OR_RETURN(ssl.pem_root_certs,
                     ReadPem(o.tls_client_ca_file, "tls_client_ca"));
    // Refuse the handshake without a client certificate that chains to
    // the CA: nothing reaches a handler unverified.
    ssl.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  ssl.pem_key_cert_pairs.push_back({key, cert});
  return grpc::SslServerCredentials(ssl);
}

// Why `address` cannot be bound, from a bind() of our own after gRPC's
// failed (gRPC only logs its reason): "address already in use", "cannot
// assign requested address", ... Empty when our bind succeeds.
std::string BindError(const HostPort& address) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(address.port);
  if (const int rc =
          getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found);
      rc != 0) {
    return absl::AsciiStrToLower(gai_strerror(rc));
  }
  std::string error;
  for (addrinfo* a = found; a != nullptr && error.empty(); a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    // As gRPC binds: SO_REUSEADDR (TIME_WAIT is no obstacle), no
    // SO_REUSEPORT.
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0) {
      error = absl::AsciiStrToLower(std::strerror(errno));
    }
    close(fd);
  }
  freeaddrinfo(found);
  return error;
}

absl::StatusOr<CheckpointSigner> LoadSigner(const ServerOptions& o) {
  if (o.signing_key_file.empty()) {
    return CheckpointSigner("ledgerd runs without --signing_key");
  }
  std::ifstream in(o.signing_key_file);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("signing_key: cannot read ", o.signing_key_file));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  absl::StatusOr<merkle::SignerKey> key = merkle::ParseSignerKey(ss.str());
  if (!key.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "signing_key: ", o.signing_key_file, ": ", key.status().message()));
  }
  return CheckpointSigner(std::move(*key));
}

// Secured: callers are authenticated and their tokens travel encrypted.
bool Secured(const ServerOptions& o) {
  return o.auth.has_value() && !o.tls_cert_file.empty();
}

}  // namespace

bool IsLoopbackAddress(const std::string& host_port) {
  std::string host = host_port;
  if (absl::StartsWith(host, "[")) {
    host = host.substr(1, host.find(']') - 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  return host == "localhost" || host == "::1" || absl::StartsWith(host, "127.");
}

// An exclusive flock(2) on DATA_DIR/ledgerd.lock for the server's lifetime,
// taken before RocksDB opens the directory, so a second server on the same
// directory (another process or this one) is told plainly who holds it
// instead of getting RocksDB's "lock file" I/O error. The kernel drops the
// lock when the process dies, so a crash never leaves it stale.
class DataDirLock {
 public:
  static absl::StatusOr<std::unique_ptr<DataDirLock>> Take(
      const std::string& data_dir) {
    std::error_code ec;
    std::filesystem::create_directories(data_dir, ec);
    const std::string path = data_dir + "/ledgerd.lock";
    const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return absl::UnavailableError(absl::StrCat("data_dir: cannot open ", path,
                                                 ": ", std::strerror(errno)));
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      char holder[32] = {};
      const ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
      close(fd);
      if (err == EWOULDBLOCK) {
        std::string pid = n > 0 ? std::string(holder, n) : "";
        absl::StripAsciiWhitespace(&pid);
        return absl::FailedPreconditionError(
            absl::StrCat("another ledgerd is using ", data_dir,
                         pid.empty() ? "" : absl::StrCat(" (pid ", pid, ")"),
                         "; stop it or choose another --data_dir"));
      }
      return absl::UnavailableError(absl::StrCat("data_dir: cannot lock ", path,
                                                 ": ", std::strerror(err)));
    }
    // The holder's pid, for the message above (advisory only).
    const std::string pid = absl::StrCat(getpid(), "\n");
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) !=
                                     static_cast<ssize_t>(pid.size())) {
      // The lock is what matters; the pid is a courtesy.
    }
    return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
  }
  ~DataDirLock() { close(fd_); }
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  const int fd_;
};

namespace {

// The HTTP/JSON API over the server's in-process channel: every HTTP call is
// a call of the same services, through the same interceptors and
// authorization, with the same message size limits.
absl::StatusOr<std::unique_ptr<http::HttpGateway>> StartHttpGateway(
    const ServerOptions& options, grpc::Server& server) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(limits::kGrpcMessageBytesMax));
  args.SetMaxSendMessageSize(static_cast<int>(limits::kGrpcMessageBytesMax));
  http::GatewayOptions o;
  o.listen = options.http_listen;
  o.tls_cert_file = options.tls_cert_file;
  o.tls_key_file = options.tls_key_file;
  o.tls_client_ca_file = options.tls_client_ca_file;
  return http::HttpGateway::Start(o, server.InProcessChannel(args));
}

}  // namespace

struct LedgerServer::Impl {
  // Constant after Start.
  ServerOptions options;
  // Declared before `ledger`: released only after RocksDB is closed.
  std::unique_ptr<DataDirLock> data_dir_lock;
  std::unique_ptr<Authorizer> auth;
  Metrics metrics;
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<EventStoreService> event_store;
  std::unique_ptr<QueryService> queries;
  std::unique_ptr<AdminService> admin;
  std::unique_ptr<AuditService> audit;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<MetricsHttpServer> metrics_http;
  std::unique_ptr<http::HttpGateway> http_gateway;
  std::unique_ptr<ledger::Scrub> scrubber;
  int port = 0;

  std::atomic<bool> serving{false};
  std::once_flag storage_failure_logged;
  std::atomic<bool> data_loss{false};
  std::once_flag rpc_data_loss_logged;
  std::once_flag scrub_data_loss_logged;
  bool shut_down = false;

  void SetServing(bool on) {
    serving.store(on);
    grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
    if (health == nullptr) return;
    health->SetServingStatus(on);
  }

  // From the append path, on any thread, possibly many times.
  void OnStorageFailure() {
    std::call_once(storage_failure_logged, [this] {
      const bool invariant =
          absl::StartsWith(ledger->unhealthy_reason(), kInvariantBrokenPrefix);
      Log(LogLevel::kError,
          invariant ? "invariant broken; writer stopped, appends refused, "
                      "health NOT_SERVING"
                    : "storage failed; appends refused, health NOT_SERVING",
          {{"reason", ledger->unhealthy_reason()},
           {"head_position", ledger->head_position()},
           {"data_dir", options.ledger.data_dir}});
    });
    SetServing(false);
  }

  // Corruption found (a call answered DATA_LOSS, or the scrub): the data
  // cannot be trusted whole, so health says NOT_SERVING; logged once per
  // source, counted every time.
  void OnDataLoss(bool scrub, const std::string& where,
                  const std::string& error) {
    data_loss.store(true);
    if (scrub) metrics.CountScrubDataLoss();
    std::call_once(scrub ? scrub_data_loss_logged : rpc_data_loss_logged, [&] {
      Log(LogLevel::kError, "data loss found; health NOT_SERVING",
          {{"source", scrub ? "scrub" : "rpc"},
           {"where", where},
           {"error", error},
           {"data_dir", options.ledger.data_dir}});
    });
    SetServing(false);
  }

  std::string RenderMetrics() const {
    std::string out = metrics.Render(Inputs());
    if (options.extra_metrics) out += options.extra_metrics();
    return out;
  }

  MetricsInputs Inputs() const {
    MetricsInputs in;
    in.ledger = ledger->stats();
    in.healthy = ledger->healthy() && !data_loss.load();
    if (const auto torn = ledger::TornWalTailOf(*ledger); torn) {
      in.wal_torn_tail_bytes = torn->dropped_bytes;
    }
    in.serving = serving.load();
    in.max_concurrent_streams =
        static_cast<uint64_t>(options.max_concurrent_streams);
    if (scrubber != nullptr) {
      const ledger::Scrub::Progress st = scrubber->progress();
      in.scrub_passes = st.passes;
      in.scrub_bytes = st.bytes_checked;
    }
    const ReadBudget& budget = event_store->read_budget();
    in.read_in_flight_bytes = budget.in_flight_bytes();
    in.read_in_flight_bytes_max = budget.bytes_max();
    in.read_in_flight_peak_bytes = budget.peak_bytes();
    in.reads_refused = budget.refused();
    in.read_memory_trims = budget.trims();
    in.subscribers = event_store->subscribers();
    in.subscribers_max = options.subscribers_max;
    in.writer_queue_max = options.ledger.writer_queue_max;
    in.auth_unauthenticated = auth->unauthenticated_total();
    in.auth_permission_denied = auth->permission_denied_total();
    const ledger::StorageGauges g = ledger::StorageGaugesOf(*ledger);
    in.total_sst_files_bytes = g.total_sst_files_bytes;
    in.live_sst_files_bytes = g.live_sst_files_bytes;
    in.actual_delayed_write_rate = g.actual_delayed_write_rate;
    in.is_write_stopped = g.is_write_stopped;
    return in;
  }
};

LedgerServer::LedgerServer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

LedgerServer::~LedgerServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<LedgerServer>> LedgerServer::Start(
    const ServerOptions& options) {
  ASSIGN_OR_RETURN(const HostPort listen,
                   ParseHostPort("listen", options.listen));
  if (!options.metrics_listen.empty()) {
    RETURN_IF_ERROR(
        ParseHostPort("metrics_listen", options.metrics_listen).status());
  }
  if (!options.http_listen.empty()) {
    RETURN_IF_ERROR(ParseHostPort("http_listen", options.http_listen).status());
  }
  const bool secured = Secured(options);
  for (const std::string* addr :
       {&options.listen, &options.metrics_listen, &options.http_listen}) {
    if (addr->empty() || IsLoopbackAddress(*addr)) continue;
    if (!secured && !options.allow_insecure_remote) {
      return absl::InvalidArgumentError(
          absl::StrCat(*addr,
                       " is not loopback; beyond loopback the server requires "
                       "--auth_config and --tls_cert/--tls_key (pass "
                       "--allow_insecure_remote to override)"));
    }
  }
  if (options.scrub_interval_s <= 0) {
    return absl::InvalidArgumentError("scrub_interval_s must be positive");
  }
  if (options.max_concurrent_streams <= 0 || options.subscribers_max == 0) {
    return absl::InvalidArgumentError(
        "max_concurrent_streams and subscribers_max must be positive");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> creds,
                   Credentials(options));
  ASSIGN_OR_RETURN(CheckpointSigner signer, LoadSigner(options));

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->auth = std::make_unique<Authorizer>(options.auth);
  ASSIGN_OR_RETURN(impl->data_dir_lock,
                   DataDirLock::Take(options.ledger.data_dir));
  ASSIGN_OR_RETURN(impl->ledger,
                   ledger::OpenWithRules(options.ledger, options.rules));

  if (const auto torn = ledger::TornWalTailOf(*impl->ledger); torn) {
    Log(LogLevel::kWarn,
        "dropped a torn write-ahead log tail: the last record of an append "
        "whose fsync never returned (never acknowledged)",
        {{"wal_file", torn->wal_file},
         {"offset", torn->offset},
         {"dropped_bytes", torn->dropped_bytes},
         {"reason", torn->reason},
         {"saved_as", torn->saved_as}});
  }
  Impl* raw = impl.get();
  impl->metrics.SetDataLossHandler(
      [raw](const std::string& method, const std::string& message) {
        raw->OnDataLoss(false, method, message);
      });
  impl->event_store = std::make_unique<EventStoreService>(
      impl->ledger.get(), impl->auth.get(), &impl->metrics,
      [raw] { raw->OnStorageFailure(); }, options.subscribers_max,
      options.read_bytes_in_flight_max);
  impl->queries =
      std::make_unique<QueryService>(impl->ledger.get(), impl->auth.get());
  impl->admin = std::make_unique<AdminService>(
      impl->ledger.get(), impl->auth.get(), options.backup_root);
  impl->audit = std::make_unique<AuditService>(
      impl->ledger.get(), impl->auth.get(), std::move(signer));

  RouteProtobufLogs();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, creds, &impl->port);
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(limits::kGrpcMessageBytesMax));
  builder.SetMaxSendMessageSize(static_cast<int>(limits::kGrpcMessageBytesMax));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             options.max_concurrent_streams);
  // gRPC sets SO_REUSEPORT by default: a second server on a taken port
  // would start, and the kernel would split connections between two
  // ledgers. Without it the second bind fails.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  if (options.grpc_threads_max > 0 || options.grpc_memory_bytes_max > 0) {
    grpc::ResourceQuota quota("ledgerd");
    if (options.grpc_threads_max > 0)
      quota.SetMaxThreads(options.grpc_threads_max);
    if (options.grpc_memory_bytes_max > 0)
      quota.Resize(options.grpc_memory_bytes_max);
    builder.SetResourceQuota(quota);
  }
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  // First, so metrics count the status it gives an unparseable request.
  interceptors.push_back(NewUnparseableRequestInterceptorFactory());
  interceptors.push_back(impl->metrics.NewInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.RegisterService(impl->event_store.get());
  builder.RegisterService(impl->queries.get());
  builder.RegisterService(impl->admin.get());
  builder.RegisterService(impl->audit.get());
  impl->server = builder.BuildAndStart();
  if (impl->server == nullptr || impl->port == 0) {
    const std::string why = BindError(listen);
    return absl::UnavailableError(
        absl::StrCat("listen: cannot bind ", options.listen,
                     why.empty() ? "" : absl::StrCat(": ", why)));
  }
  impl->SetServing(impl->ledger->healthy());
  impl->scrubber = std::make_unique<ledger::Scrub>(
      impl->ledger.get(), options.scrub_bytes_per_s,
      std::chrono::seconds(options.scrub_interval_s),
      [raw](const absl::Status& s) {
        raw->OnDataLoss(true, "SST checksums", std::string(s.message()));
      });
  impl->scrubber->Start();

  if (!options.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsHttpServer>> http =
        MetricsHttpServer::Start(
            options.metrics_listen, [raw] { return raw->RenderMetrics(); },
            [raw] { return raw->serving.load(); });
    if (!http.ok()) {
      std::unique_ptr<LedgerServer> partial(new LedgerServer(std::move(impl)));
      partial->Shutdown(0);
      return http.status();
    }
    raw->metrics_http = std::move(*http);
  }
  if (!options.http_listen.empty()) {
    absl::StatusOr<std::unique_ptr<http::HttpGateway>> gateway =
        StartHttpGateway(options, *raw->server);
    if (!gateway.ok()) {
      std::unique_ptr<LedgerServer> partial(new LedgerServer(std::move(impl)));
      partial->Shutdown(0);
      return gateway.status();
    }
    raw->http_gateway = std::move(*gateway);
  }
  return std::unique_ptr<LedgerServer>(new LedgerServer(std::move(impl)));
}

int LedgerServer::port() const { return impl_->port; }

int LedgerServer::metrics_port() const {
  return impl_->metrics_http == nullptr ? 0 : impl_->metrics_http->port();
}

int LedgerServer::http_port() const {
  return impl_->http_gateway == nullptr ? 0 : impl_->http_gateway->port();
}

Ledger& LedgerServer::ledger() { return *impl_->ledger; }

ReadBudget& LedgerServer::read_budget() {
  return impl_->event_store->read_budget();
}

bool LedgerServer::serving() const { return impl_->serving.load(); }

absl::Status LedgerServer::ScrubNow() { return impl_->scrubber->RunPass(); }

std::string LedgerServer::RenderMetrics() const {
  return impl_->RenderMetrics();
}

void LedgerServer::Shutdown(int grace_ms) {
  if (impl_ == nullptr || impl_->shut_down) return;
  impl_->shut_down = true;
  impl_->SetServing(false);
  if (impl_->scrubber != nullptr) impl_->scrubber->Stop();
  if (impl_->metrics_http != nullptr) impl_->metrics_http->Stop();
  // Before the gRPC server: its connections finish their calls first.
  if (impl_->http_gateway != nullptr) impl_->http_gateway->Stop();
  impl_->event_store->StopSubscriptions();
  impl_->server->Shutdown(std::chrono::system_clock::now() +
                          std::chrono::milliseconds(grace_ms));
  impl_->server->Wait();
  impl_->event_store.reset();
  impl_->queries.reset();
  impl_->admin.reset();
  impl_->audit.reset();
  // Completes every queued append (acknowledging it after its fsync), then
  // closes RocksDB.
  impl_->ledger.reset();
  impl_->data_dir_lock.reset();
}

}  // namespace partnerledger::server

#include "server/metrics_http.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "partnerledger/limits.h"
#include "util/host_port.h"
#include "util/httplib_config.h"
#include "util/status_macros.h"

namespace partnerledger::server {
namespace {

// Scrapes and probes are small: tiny request bodies.
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
  ASSIGN_OR_RETURN(const HostPort address,
                   ParseHostPort("metrics_listen", listen));
  const std::string& host = address.host;
  const int port = address.port;
  auto impl = std::make_unique<Impl>();
  httplib::Server& http = impl->http;
  // Each connection holds a worker until it closes: enough workers that a
  // few slow or idle clients cannot starve the kubelet's probes, and short
  // timeouts so that a silent client lets go of its worker quickly.
  http.new_task_queue = [] {
    return new httplib::ThreadPool(limits::kAdminHttpWorkers);
  };
  const std::chrono::milliseconds idle(limits::kAdminHttpIdleTimeoutMs);
  http.set_read_timeout(idle);
  http.set_write_timeout(idle);
  http.set_keep_alive_timeout(
      std::max<time_t>(1, limits::kAdminHttpIdleTimeoutMs / 1000));
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

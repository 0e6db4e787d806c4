// The admin HTTP port: GET /metrics (Prometheus text) and GET /healthz
// (200 "SERVING" / 503 "NOT_SERVING"), served by cpp-httplib on a fixed
// pool of its own threads (limits::kAdminHttpWorkers), never on gRPC
// threads. A connection that stays silent for kAdminHttpIdleTimeoutMs is
// closed, so slow or idle clients do not hold the probes up.
//
// No authentication: it exposes aggregate counters only (no ledger content,
// no identities). Bind it to loopback or an admin network.
#ifndef PARTNERLEDGER_SERVER_METRICS_HTTP_H_
#define PARTNERLEDGER_SERVER_METRICS_HTTP_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace partnerledger::server {

class MetricsHttpServer {
 public:
  // Binds `listen` ("host:port"; port 0 picks a free one) and serves on a
  // background thread. INVALID_ARGUMENT for a malformed address;
  // UNAVAILABLE if it cannot be bound. `render` and `healthy` are called on
  // the server's threads and must be thread-safe.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& listen, std::function<std::string()> render,
      std::function<bool()> healthy);
  // Stops serving and joins the thread.
  ~MetricsHttpServer();

  int port() const;
  void Stop();

 private:
  struct Impl;
  explicit MetricsHttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace partnerledger::server

#endif  // PARTNERLEDGER_SERVER_METRICS_HTTP_H_

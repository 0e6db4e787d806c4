// The ledger behind a gRPC server: EventStoreService, LedgerQueryService,
// AdminService, AuditService, health checking and server reflection, with
// optional TLS / mTLS, authentication and roles (auth.h), limits, and a
// Prometheus metrics port. Used by ledgerd's main and by in-process tests.
#ifndef PARTNERLEDGER_SERVER_SERVER_H_
#define PARTNERLEDGER_SERVER_SERVER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "partnerledger/ledger.h"
#include "server/auth.h"

namespace partnerledger::domain {
class Rules;
}

namespace partnerledger::server {

// How long a shutdown lets calls in flight finish before cancelling them.
inline constexpr int kShutdownGraceMsDefault = 5000;
// A scrub pass over every SST file once a day.
inline constexpr int64_t kScrubIntervalSDefault = 24 * 60 * 60;

// HTTP/2 streams one client connection may have open at once
// (GRPC_ARG_MAX_CONCURRENT_STREAMS). Further calls queue on the client's
// side of that connection until one ends, so a single client cannot occupy
// every server thread; subscribers are bounded separately.
inline constexpr int kMaxConcurrentStreamsDefault = 100;

struct ServerOptions {
  // host:port; port 0 picks a free port (see LedgerServer::port()).
  std::string listen = "127.0.0.1:50051";
  // The server listens beyond loopback only when it is secured (auth and
  // TLS both configured), unless this is set explicitly (a deliberate,
  // logged choice).
  bool allow_insecure_remote = false;

  // TLS: PEM files of the server's certificate chain and key. With
  // tls_client_ca_file also set, clients must present a certificate that
  // chains to it (mTLS; the handshake fails otherwise).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;

  // Principals and roles (auth.h). Absent: every caller is "local" with
  // every role (development on loopback).
  std::optional<AuthConfig> auth;

  // Limits (the ledger's own are in partnerledger/limits.h).
  int max_concurrent_streams = kMaxConcurrentStreamsDefault;
  // Threads gRPC may use for the server (ResourceQuota); 0: gRPC's default.
  int grpc_threads_max = 0;
  // Memory gRPC may use for buffers (ResourceQuota); 0: unbounded.
  size_t grpc_memory_bytes_max = 0;
  // Live Subscribe streams; beyond it RESOURCE_EXHAUSTED.
  size_t subscribers_max = limits::kSubscribersMax;
  // Bytes of read responses in flight across the server (ReadBudget).
  size_t read_bytes_in_flight_max = limits::kReadBytesInFlightMax;

  // "host:port" of the HTTP admin port (/metrics, /healthz); empty: off.
  // Port 0 picks a free port (see LedgerServer::metrics_port()). Beyond
  // loopback only under the same rule as `listen`.
  std::string metrics_listen;

  // "host:port" of the HTTP/JSON API and web console (http/gateway.h);
  // empty: off. Port 0 picks a free port (see LedgerServer::http_port()).
  // Beyond loopback only under the same rule as `listen`; with tls_cert_file
  // it serves HTTPS only (and with tls_client_ca_file requires client
  // certificates). Callers identify with a bearer token.
  std::string http_listen;

  // Where AdminService.CreateBackup writes: a request names a directory
  // relative to this root (empty: the root itself). Empty: backups over
  // the API are refused (FAILED_PRECONDITION).
  std::string backup_root;

  // The background scrub of every SST file's checksums (store/scrub.h):
  // its read rate (0: off, the default here; ledgerd's flag turns it on)
  // and the pause between passes.
  uint64_t scrub_bytes_per_s = 0;
  int64_t scrub_interval_s = kScrubIntervalSDefault;

  // A file holding the Ed25519 key that signs checkpoints (C2SP note key
  // form, merkle/checkpoint.h); the key's name is the checkpoints' origin.
  // Empty: checkpoints are served unsigned.
  std::string signing_key_file;

  // More Prometheus text appended to /metrics (ledgerd's replication
  // gauges); empty: none. Called on the metrics port's threads.
  std::function<std::string()> extra_metrics;

  Options ledger;
  // The rules the ledger applies; nullptr: the partnership rules. Not
  // owned. Tests inject defective rules here.
  const domain::Rules* rules = nullptr;
};

class LedgerServer {
 public:
  // Opens the ledger and starts serving. INVALID_ARGUMENT for inconsistent
  // options (e.g. an address that is not host:port; a non-loopback address
  // while not secured and without allow_insecure_remote; a TLS key without
  // a certificate; unreadable TLS files); FAILED_PRECONDITION "another
  // ledgerd is using DIR" while another server (any process) holds the
  // data directory (an exclusive lock on DIR/ledgerd.lock, held until
  // Shutdown); UNAVAILABLE if an address cannot be bound (the message says
  // why, e.g. "address already in use": the port is never shared, no
  // SO_REUSEPORT); ledger open errors pass through.
  static absl::StatusOr<std::unique_ptr<LedgerServer>> Start(
      const ServerOptions& options);
  // Shuts down (if not yet) and closes the ledger.
  ~LedgerServer();

  int port() const;
  // The metrics port; 0 when metrics are off.
  int metrics_port() const;
  // The HTTP/JSON API's port; 0 when it is off.
  int http_port() const;
  Ledger& ledger();
  // What read responses in flight hold.
  ReadBudget& read_budget();
  // What the health service reports: SERVING until storage fails, a
  // DATA_LOSS is answered or found by the scrub, or the server shuts down.
  bool serving() const;
  // One scrub pass now, on the caller's thread, unpaced; what it finds is
  // handled as the background scrub's findings. DATA_LOSS: the first
  // corrupt file.
  absl::Status ScrubNow();
  // The Prometheus exposition /metrics serves.
  std::string RenderMetrics() const;

  // Stops accepting calls, ends subscriptions, waits up to `grace_ms` for
  // calls in flight, then closes. Idempotent.
  void Shutdown(int grace_ms = kShutdownGraceMsDefault);

 private:
  struct Impl;
  explicit LedgerServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Whether a listen address is on the loopback interface.
bool IsLoopbackAddress(const std::string& host_port);

}  // namespace partnerledger::server

#endif  // PARTNERLEDGER_SERVER_SERVER_H_

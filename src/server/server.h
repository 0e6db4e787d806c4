// The ledger behind a gRPC server: EventStoreService, health checking and
// server reflection. Used by ledgerd's main and by in-process tests.
#ifndef PARTNERLEDGER_SERVER_SERVER_H_
#define PARTNERLEDGER_SERVER_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "partnerledger/ledger.h"

namespace partnerledger::server {

struct ServerOptions {
  // host:port; port 0 picks a free port (see LedgerServer::port()).
  std::string listen = "127.0.0.1:50051";
  // Without credentials the server listens on loopback only, unless this is
  // set explicitly (a deliberate, logged choice).
  bool allow_insecure_remote = false;
  Options ledger;
};

class LedgerServer {
 public:
  // Opens the ledger and starts serving. INVALID_ARGUMENT for a non-loopback
  // address without allow_insecure_remote; UNAVAILABLE if the address cannot
  // be bound; ledger open errors pass through.
  static absl::StatusOr<std::unique_ptr<LedgerServer>> Start(
      const ServerOptions& options);
  // Shuts down (if not yet) and closes the ledger.
  ~LedgerServer();

  int port() const;
  Ledger& ledger();
  // Stops accepting calls, ends subscriptions, waits up to `grace_ms` for
  // calls in flight, then closes. Idempotent.
  void Shutdown(int grace_ms = 5000);

 private:
  struct Impl;
  explicit LedgerServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Whether a listen address is on the loopback interface.
bool IsLoopbackAddress(const std::string& host_port);

}  // namespace partnerledger::server

#endif  // PARTNERLEDGER_SERVER_SERVER_H_

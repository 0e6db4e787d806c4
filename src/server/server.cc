#include "server/server.h"

#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "server/event_store_service.h"
#include "server/query_service.h"

namespace partnerledger::server {

bool IsLoopbackAddress(const std::string& host_port) {
  std::string host = host_port;
  if (absl::StartsWith(host, "[")) {
    host = host.substr(1, host.find(']') - 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  return host == "localhost" || host == "::1" || absl::StartsWith(host, "127.");
}

struct LedgerServer::Impl {
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<EventStoreService> event_store;
  std::unique_ptr<QueryService> queries;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  bool shut_down = false;

  void SetServing(bool serving) {
    grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
    if (health == nullptr) return;
    health->SetServingStatus(serving);
  }
};

LedgerServer::LedgerServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

LedgerServer::~LedgerServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<LedgerServer>> LedgerServer::Start(
    const ServerOptions& options) {
  if (!options.allow_insecure_remote && !IsLoopbackAddress(options.listen)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "listen: ", options.listen,
        " is not loopback; without credentials the server listens on "
        "loopback only (pass --allow_insecure_remote to override)"));
  }
  auto impl = std::make_unique<Impl>();
  absl::StatusOr<std::unique_ptr<Ledger>> ledger = Ledger::Open(options.ledger);
  if (!ledger.ok()) return ledger.status();
  impl->ledger = std::move(*ledger);

  Impl* raw = impl.get();
  impl->event_store = std::make_unique<EventStoreService>(
      impl->ledger.get(), [raw] { raw->SetServing(false); });
  impl->queries = std::make_unique<QueryService>(impl->ledger.get());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(),
                           &impl->port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(limits::kGrpcMessageBytesMax));
  builder.SetMaxSendMessageSize(static_cast<int>(limits::kGrpcMessageBytesMax));
  builder.RegisterService(impl->event_store.get());
  builder.RegisterService(impl->queries.get());
  impl->server = builder.BuildAndStart();
  if (impl->server == nullptr || impl->port == 0) {
    return absl::UnavailableError(
        absl::StrCat("listen: cannot bind ", options.listen));
  }
  impl->SetServing(impl->ledger->healthy());
  return std::unique_ptr<LedgerServer>(new LedgerServer(std::move(impl)));
}

int LedgerServer::port() const { return impl_->port; }

Ledger& LedgerServer::ledger() { return *impl_->ledger; }

void LedgerServer::Shutdown(int grace_ms) {
  if (impl_ == nullptr || impl_->shut_down) return;
  impl_->shut_down = true;
  impl_->SetServing(false);
  impl_->event_store->StopSubscriptions();
  impl_->server->Shutdown(std::chrono::system_clock::now() +
                          std::chrono::milliseconds(grace_ms));
  impl_->server->Wait();
  impl_->event_store.reset();
  impl_->queries.reset();
  // Completes every queued append (acknowledging it after its fsync), then
  // closes RocksDB.
  impl_->ledger.reset();
}

}  // namespace partnerledger::server

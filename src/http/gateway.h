// The HTTP/JSON API and the web console (--http_listen).
//
// Every API route is one unary RPC of EventStoreService, LedgerQueryService
// or AuditService (routes.h lists them). A request is translated to the
// RPC's request message with the proto3 JSON mapping (path segments and
// query parameters name fields; a POST body is the message in JSON), the
// call goes through `channel` (the server's in-process channel: the same
// handlers, interceptors, metrics, roles and limits as a gRPC client gets),
// and the response message comes back in JSON. The caller's
// "Authorization: Bearer <token>" header is forwarded as the call's
// authorization metadata, so the server's Authorizer decides; nothing here
// interprets identities. Errors carry the gRPC code mapped to an HTTP status
// (status_http.h) and a JSON body naming the field.
//
// Besides the API: GET /v1/openapi.json (the OpenAPI 3 document of the
// routes, generated from the same table and the proto descriptors) and the
// console's static assets at / (console/).
//
// Threads: a fixed pool of limits::kHttpWorkers, never gRPC's; the bounds
// on connections, bodies, idle time and call time are in limits.h.
#ifndef PARTNERLEDGER_HTTP_GATEWAY_H_
#define PARTNERLEDGER_HTTP_GATEWAY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"

namespace partnerledger::http {

struct GatewayOptions {
  // "host:port"; port 0 picks a free one (see HttpGateway::port()).
  std::string listen;
  // PEM files: with a certificate and key the listener speaks HTTPS only;
  // with a client CA too, clients must present a certificate that chains to
  // it (the identity still comes from the bearer token).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
};

class HttpGateway {
 public:
  // Binds and serves on a background thread. INVALID_ARGUMENT for a
  // malformed address or unusable TLS files; UNAVAILABLE if the address
  // cannot be bound. `channel` must stay usable until Stop().
  static absl::StatusOr<std::unique_ptr<HttpGateway>> Start(
      const GatewayOptions& options, std::shared_ptr<grpc::Channel> channel);
  // Stops (if not yet).
  ~HttpGateway();

  int port() const;
  // Stops accepting, finishes the connections already accepted (each bounded
  // by the idle and call timeouts) and joins the threads. Idempotent.
  void Stop();

 private:
  struct Impl;
  explicit HttpGateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace partnerledger::http

#endif  // PARTNERLEDGER_HTTP_GATEWAY_H_

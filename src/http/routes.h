// The HTTP/JSON API's routes and the mapping of an HTTP request onto an RPC's
// request message. The mapping is generic (driven by the messages'
// descriptors), so a field added to a request message is a query parameter
// at once, with no code here:
//   - a path placeholder {name} sets the field `name`;
//   - each query parameter `a.b.c=v` sets the field path a.b.c, each segment
//     by its proto name (as_of_date) or JSON name (asOfDate); `v` is the
//     field's proto3 JSON value written as text (numbers, enum names,
//     RFC 3339 timestamps, dates as the field expects them); a repeated
//     field takes the parameter once per element;
//   - a POST body is the whole message in proto3 JSON (path fields win).
// Anything that does not name a field, or a value the field does not
// accept, is INVALID_ARGUMENT naming the parameter.
#ifndef PARTNERLEDGER_HTTP_ROUTES_H_
#define PARTNERLEDGER_HTTP_ROUTES_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace partnerledger::http {

struct Route {
  // "GET" or "POST".
  const char* http_method;
  // "/v1/streams/{stream}:append"; placeholders are whole path segments
  // (up to a ':' verb suffix) and name fields of the request.
  const char* path;
  // "partnerledger.v1.EventStoreService.AppendEvents".
  const char* rpc;
  // One line for the OpenAPI document.
  const char* summary;
};

// Every API route (the console's assets and /v1/openapi.json aside).
const std::vector<Route>& ApiRoutes();

// A route resolved against the descriptor pool.
struct BoundRoute {
  Route route;
  const google::protobuf::MethodDescriptor* method = nullptr;
  // "/partnerledger.v1.EventStoreService/AppendEvents".
  std::string grpc_method;
  // The path as a regular expression (placeholders capture one segment,
  // [^/:]+ ) and the placeholders' names in order.
  std::string path_regex;
  std::vector<std::string> path_fields;
};

// Binds every route; INTERNAL if an RPC or a placeholder's field is missing
// from the linked descriptors (a programming error caught at startup).
absl::StatusOr<std::vector<BoundRoute>> BindRoutes();

// The request message for `route` from the captured path segments, the
// query parameters (name, value; in order) and the body (POST). Returns a
// fresh message of the RPC's input type.
absl::StatusOr<std::unique_ptr<google::protobuf::Message>> BuildRequest(
    const BoundRoute& route, const std::vector<std::string>& path_values,
    const std::vector<std::pair<std::string, std::string>>& query,
    const std::string& body);

// The proto3 JSON of a response message (every field printed, zeros too,
// so clients need not know the defaults).
absl::StatusOr<std::string> ResponseJson(
    const google::protobuf::Message& message);

// The OpenAPI 3.0 document of `routes`, schemas from the descriptors.
std::string OpenApiDocument(const std::vector<BoundRoute>& routes);

}  // namespace partnerledger::http

#endif  // PARTNERLEDGER_HTTP_ROUTES_H_

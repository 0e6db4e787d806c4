// gRPC status -> HTTP response, as Google's APIs do it (AIP-193 and the
// HTTP mapping in google/rpc/code.proto).
#ifndef PARTNERLEDGER_HTTP_STATUS_HTTP_H_
#define PARTNERLEDGER_HTTP_STATUS_HTTP_H_

#include <string>

#include "absl/status/status.h"

namespace partnerledger::http {

// INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE 400; UNAUTHENTICATED
// 401; PERMISSION_DENIED 403; NOT_FOUND 404; ALREADY_EXISTS, ABORTED 409;
// RESOURCE_EXHAUSTED 429; CANCELLED 499; UNIMPLEMENTED 501; UNAVAILABLE
// 503; DEADLINE_EXCEEDED 504; UNKNOWN, INTERNAL, DATA_LOSS 500; OK 200.
int HttpStatusOf(absl::StatusCode code);

// The field path an error message starts with ("currency: ..." ->
// "currency", "events[1].payload.x: ..." -> "events[1].payload.x"), or "".
std::string FieldOf(const std::string& message);

// {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "...",
//  "field": "currency", "details": [{"@type":
//  "type.googleapis.com/google.rpc.BadRequest", "fieldViolations":
//  [{"field": "currency", "description": "..."}]}]}}; "field" and
// "details" only when the message names a field.
std::string ErrorJson(const absl::Status& status);

}  // namespace partnerledger::http

#endif  // PARTNERLEDGER_HTTP_STATUS_HTTP_H_

#include "server/status_map.h"

#include "util/echo.h"
#include "util/strings.h"

namespace partnerledger::server {

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  static_assert(static_cast<int>(absl::StatusCode::kDataLoss) ==
                static_cast<int>(grpc::StatusCode::DATA_LOSS));
  static_assert(static_cast<int>(absl::StatusCode::kUnauthenticated) ==
                static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));
  // Bounded: a message that quotes client input must never outgrow what
  // clients accept as metadata.
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      CapMessage(StdView(s.message())));
}

}  // namespace partnerledger::server

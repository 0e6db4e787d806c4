#include "server/status_map.h"

namespace partnerledger::server {

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  static_assert(static_cast<int>(absl::StatusCode::kDataLoss) ==
                static_cast<int>(grpc::StatusCode::DATA_LOSS));
  static_assert(static_cast<int>(absl::StatusCode::kUnauthenticated) ==
                static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      std::string(s.message()));
}

}  // namespace partnerledger::server

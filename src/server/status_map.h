// absl::Status <-> grpc::Status. The ledger speaks absl::Status inside;
// only src/server maps to gRPC (DESIGN §5). The codes share numbering.
#ifndef PARTNERLEDGER_SERVER_STATUS_MAP_H_
#define PARTNERLEDGER_SERVER_STATUS_MAP_H_

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace partnerledger::server {

grpc::Status ToGrpc(const absl::Status& s);

// An ABORTED append's current revision (Ledger's kCurrentRevisionPayload)
// reaches clients as this trailer.
inline constexpr char kCurrentRevisionTrailer[] = "x-current-revision";

}  // namespace partnerledger::server

#endif  // PARTNERLEDGER_SERVER_STATUS_MAP_H_

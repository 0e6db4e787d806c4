// Reads that carry a min_position (read-your-writes across the nodes of a
// replicated ledger): served once this node has applied that position,
// else UNAVAILABLE when the wait ends.
#ifndef PARTNERLEDGER_SERVER_MIN_POSITION_H_
#define PARTNERLEDGER_SERVER_MIN_POSITION_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "partnerledger/ledger.h"

namespace partnerledger::server {

// When a read waiting for its min_position gives up: the call's deadline,
// at most limits::kMinPositionWaitMsMax from now.
absl::Time MinPositionDeadline(const grpc::ServerContextBase& ctx);

// Runs then(OK) once `ledger` has applied `min_position`: at once, on this
// thread, for 0 or a position already applied; else on the thread that
// applies it. At MinPositionDeadline first: then(UNAVAILABLE naming
// min_position and the applied head). `then` must not block.
void WhenApplied(Ledger* ledger, const grpc::ServerContextBase& ctx,
                 uint64_t min_position, std::function<void(absl::Status)> then);

}  // namespace partnerledger::server

#endif  // PARTNERLEDGER_SERVER_MIN_POSITION_H_

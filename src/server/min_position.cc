#include "server/min_position.h"

#include <algorithm>
#include <utility>

namespace partnerledger::server {

absl::Time MinPositionDeadline(const grpc::ServerContextBase& ctx) {
  const absl::Time now = absl::Now();
  const absl::Time call = absl::FromChrono(ctx.deadline());
  // Answer before the client gives up, so it learns the applied position.
  const absl::Duration margin = std::min(
      absl::Milliseconds(limits::kMinPositionReplyMarginMs), (call - now) / 4);
  return std::min(call - margin,
                  now + absl::Milliseconds(limits::kMinPositionWaitMsMax));
}

void WhenApplied(Ledger* ledger, const grpc::ServerContextBase& ctx,
                 uint64_t min_position,
                 std::function<void(absl::Status)> then) {
  if (min_position <= ledger->head_position()) {
    then(absl::OkStatus());
    return;
  }
  ledger->WaitForPosition(min_position, MinPositionDeadline(ctx),
                          std::move(then));
}

}  // namespace partnerledger::server

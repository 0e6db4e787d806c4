// Hash-chain verification over a range of the log, shared by the server's
// VerifyChain and the offline verification of a data directory or backup.
#ifndef PARTNERLEDGER_STORE_VERIFY_H_
#define PARTNERLEDGER_STORE_VERIFY_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "store/store.h"

namespace partnerledger::store {

struct ChainCheck {
  bool ok = true;
  uint64_t verified_through = 0;
  uint64_t first_bad_position = 0;
  std::string message;
  uint64_t events_checked = 0;
};

// Recomputes every hash in [from, to] (to = 0: the durable head) and checks
// that positions are contiguous, each record's hash matches its content and
// links to its predecessor, the head record matches the last event, and, if
// given, that the event at expected_position has expected_hash. Tampering is
// a result (ok = false), not an error; errors are only for I/O.
// `progress(position)` is called now and then (may be empty).
absl::StatusOr<ChainCheck> VerifyChain(
    const Store& store, uint64_t from, uint64_t to,
    std::optional<std::pair<uint64_t, std::string>> expected,
    const std::function<void(uint64_t)>& progress = {});

}  // namespace partnerledger::store

#endif  // PARTNERLEDGER_STORE_VERIFY_H_

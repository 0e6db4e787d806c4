// Recomputing projections from the log alone: the auditor's proof that the
// figures the service answers are what its events imply.
#ifndef PARTNERLEDGER_PROJECTION_REBUILD_H_
#define PARTNERLEDGER_PROJECTION_REBUILD_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "domain/rules.h"
#include "store/store.h"

namespace partnerledger::projection {

struct ReplayStats {
  uint64_t to_position = 0;
  uint64_t events = 0;
  double seconds = 0;
  // The RFC 9162 root of events 1..to_position, recomputed from the records
  // (store/merkle_tree.h); every stored tree node up to there was compared.
  std::string tree_root;
};

// Replays events 1..to_position (0: the log's head when called) of `log`
// through rules.Apply into `scratch`, which must hold no state yet. Each
// record is validated as it is read (DATA_LOSS on corruption), and the
// chain links and the stored Merkle tree are checked. `progress(position, to_position)` is called now
// and then (may be empty).
absl::StatusOr<ReplayStats> Replay(
    const store::Store& log, const domain::Rules& rules, uint64_t to_position,
    store::Store* scratch,
    const std::function<void(uint64_t, uint64_t)>& progress = {});

struct CompareResult {
  bool identical = true;
  uint64_t keys_compared = 0;
  std::string first_difference;
};

// Compares the projection history of `rebuilt` with that of `live` up to
// and including `to_position`, entry by entry, byte for byte. Equal
// histories mean equal state at every position up to to_position.
absl::StatusOr<CompareResult> CompareProjections(const store::Store& live,
                                                 const store::Store& rebuilt,
                                                 uint64_t to_position);

}  // namespace partnerledger::projection

#endif  // PARTNERLEDGER_PROJECTION_REBUILD_H_

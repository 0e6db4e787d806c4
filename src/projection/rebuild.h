// Recomputing projections from the log alone: the auditor's proof that the
// figures the service answers are what its events imply.
#ifndef PARTNERLEDGER_PROJECTION_REBUILD_H_
#define PARTNERLEDGER_PROJECTION_REBUILD_H_

#include <array>
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
// chain links and the stored Merkle tree are checked, on a second thread
// while this one applies. `progress(position, to_position)` is called now
// and then (may be empty).
absl::StatusOr<ReplayStats> Replay(
    const store::Store& log, const domain::Rules& rules, uint64_t to_position,
    store::Store* scratch,
    const std::function<void(uint64_t, uint64_t)>& progress = {});

// An order-independent digest of a projection history: how many entries,
// and per 64-bit lane the sum (mod 2^64) of each entry's SHA-256 over its
// length-prefixed history key and encoded value. Equal digests of two
// histories mean equal entry sets, short of a deliberately constructed
// collision; a mismatch is located by CompareProjections.
struct HistoryDigest {
  uint64_t entries = 0;
  std::array<uint64_t, 4> lanes{};
  void Add(std::string_view history_key, std::string_view encoded_value);
  // Adds an entry already framed as Add frames it: BE64(key size), the
  // history key, the encoded value.
  void AddFramed(std::string_view framed);
  bool operator==(const HistoryDigest&) const = default;
};

// Replay without a scratch store: events 1..to_position (0: the head) are
// applied to state held in memory, and the history every event writes
// (what Replay would store) is folded into `history` instead of written.
// Records are read, validated and checked (chain, Merkle tree) on a second
// thread while this one applies them. Errors as Replay.
absl::StatusOr<ReplayStats> ReplayToDigest(
    const store::Store& log, const domain::Rules& rules, uint64_t to_position,
    HistoryDigest* history,
    const std::function<void(uint64_t, uint64_t)>& progress = {});

// The digest of the projection history `live` stores, up to and including
// to_position.
absl::StatusOr<HistoryDigest> DigestStoredHistory(const store::Store& live,
                                                  uint64_t to_position);

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

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

// What VerifyStorage found: ok, or the first problem.
struct StorageCheck {
  bool ok = true;
  // The event concerned, when there is one (0: none, e.g. a corrupt block).
  uint64_t position = 0;
  // Names the column family ("streams column family: ...").
  std::string message;
  // Events and index entries cross-checked.
  uint64_t entries_checked = 0;
};

// Checks every column family, not only the log: the checksum of every
// block of every live SST file (RocksDB's VerifyChecksum), then, at one
// snapshot, the indexes against the events: every event up to the head is
// indexed in streams (stream, revision) and event_ids (its id), both naming
// its position; every streams and event_ids entry names an event at or below
// the head that has that stream and revision / that id; each stream's head
// in meta is its last indexed revision, and there is no other. Corruption is
// a result (ok = false); errors are only for I/O.
absl::StatusOr<StorageCheck> VerifyStorage(const Store& store);

// Recomputes every hash in [from, to] (to = 0: the durable head) and checks
// that positions are contiguous, each record's hash matches its content and
// links to its predecessor, the head record matches the last event, and, if
// given, that the event at expected_position has expected_hash. Tampering is
// a result (ok = false), not an error; errors are only for I/O. When the
// range runs to the head, VerifyStorage checks every column family too (its
// problem is the result's message, first_bad_position the event concerned
// or 0). `progress(position)` is called now and then (may be empty).
absl::StatusOr<ChainCheck> VerifyChain(
    const Store& store, uint64_t from, uint64_t to,
    std::optional<std::pair<uint64_t, std::string>> expected,
    const std::function<void(uint64_t)>& progress = {});

}  // namespace partnerledger::store

#endif  // PARTNERLEDGER_STORE_VERIFY_H_

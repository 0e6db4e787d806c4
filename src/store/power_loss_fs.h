// Power-loss simulation for crash tests.
//
// kill -9 cannot tell synced from unsynced writes: the page cache survives
// the process. To show that only fsynced data is relied on, the server under
// test runs on a FileSystem that journals, for every file it writes, the
// length last made durable by Sync/Fsync (and renames and deletions). After
// the kill, SimulatePowerLoss replays the journal and cuts every file back
// to its durable length, as if the machine had lost power. Directory entries
// are not modelled (files are truncated, never un-created): a limit of the
// simulation, stated in README.md.
#ifndef PARTNERLEDGER_STORE_POWER_LOSS_FS_H_
#define PARTNERLEDGER_STORE_POWER_LOSS_FS_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace partnerledger::store {

// Wraps `base`, appending journal records to `journal_path` (created or
// appended to). The journal is written with plain write(2): it only has to
// survive the process, not the simulated machine.
std::shared_ptr<rocksdb::FileSystem> NewPowerLossJournalFs(
    std::shared_ptr<rocksdb::FileSystem> base, const std::string& journal_path);

// What a power cut leaves of the bytes written after a file's last sync.
enum class PowerLossMode {
  // Nothing: every file is cut back to its synced length.
  kTruncate,
  // A write-ahead log (*.log) keeps its length; of its unsynced bytes only
  // the sector (512 bytes) they start in survives, the rest reads as zeros:
  // a record's header on disk, the sectors after it never written. Other
  // files are cut back as with kTruncate.
  kZeroedTail,
  // As kZeroedTail, but the sectors after the first hold garbage (a torn
  // sector write; deterministic bytes).
  kTornSector,
};

// Cuts each journaled file back to its last synced length (or, for a WAL
// with `mode` kZeroedTail / kTornSector, tears its unsynced tail), then
// empties the journal. Run while no process has the files open. Returns the
// number of unsynced bytes lost (cut, zeroed or garbled) via `dropped_bytes`
// (may be nullptr).
absl::Status SimulatePowerLoss(const std::string& journal_path,
                               uint64_t* dropped_bytes);
absl::Status SimulatePowerLoss(const std::string& journal_path,
                               PowerLossMode mode, uint64_t* dropped_bytes);

}  // namespace partnerledger::store

#endif  // PARTNERLEDGER_STORE_POWER_LOSS_FS_H_

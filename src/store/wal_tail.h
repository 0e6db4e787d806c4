// A torn write-ahead log tail: after a power cut, the last WAL record can be
// half on disk (its header written, the sector after it zeroed or garbage).
// Its fsync never returned, so its append was never acknowledged; RocksDB
// nevertheless refuses to open ("Corruption: checksum mismatch"), because a
// record with a whole length and a bad checksum looks like damage, not like
// a short write.
//
// The rule (README "Storage"): the damage is an unacknowledged tail, and may
// be dropped, only when it is provably the end of the log: the first bad
// record is in the last WAL file holding data, and no valid record starts
// after it (in that file or a later one). Anything else is corruption in the
// middle of the log, and the open keeps failing with DATA_LOSS.
#ifndef PARTNERLEDGER_STORE_WAL_TAIL_H_
#define PARTNERLEDGER_STORE_WAL_TAIL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace partnerledger::store {

// What RepairTornWalTail did.
struct WalTailRepair {
  std::string wal_file;  // the WAL cut
  uint64_t offset = 0;   // where: the start of the torn record
  uint64_t dropped_bytes = 0;
  // The dropped bytes, kept in the data directory for inspection.
  std::string saved_as;
  // Why the record is torn ("checksum mismatch", "zeroed header" ...).
  std::string reason;
};

// Examines the WAL files (*.log) of `dir` after RocksDB refused to open it
// with a corruption. When the damage is a torn tail (see above), copies the
// bytes from the start of the torn record to the end of the file to
// `dir`/torn-wal-tail-<file>-<offset>, cuts the WAL there (fsynced) and
// returns what it did. Otherwise DATA_LOSS saying where the damage is and
// what follows it, changing nothing; UNAVAILABLE on I/O errors.
absl::StatusOr<WalTailRepair> RepairTornWalTail(const std::string& dir);

}  // namespace partnerledger::store

#endif  // PARTNERLEDGER_STORE_WAL_TAIL_H_

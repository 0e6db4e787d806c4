// The server's upkeep of a ledger's storage, without reaching into the
// store: the replay that double-checks the projections, what /metrics shows
// of the storage engine, the background scrub and backups. Each is a thin
// layer over the store's own module (named at each item); the types here
// are plain values.
#ifndef PARTNERLEDGER_LEDGER_MAINTENANCE_H_
#define PARTNERLEDGER_LEDGER_MAINTENANCE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "partnerledger/ledger.h"
#include "projection/rebuild.h"

namespace partnerledger::ledger {

// The projections replayed from the log of `ledger` up to position `to`
// into a scratch store (next to the data directory, removed afterwards),
// compared entry by entry with the ledger's own (projection/rebuild.h): the
// slow path that names the first difference.
absl::StatusOr<projection::CompareResult> CompareWithScratchReplay(
    const Ledger& ledger, uint64_t to);

// The torn write-ahead log tail the store dropped when it opened
// (store/wal_tail.h): the last record of an append whose fsync never
// returned, so never acknowledged.
struct TornWalTail {
  std::string wal_file;
  uint64_t offset = 0;  // the start of the torn record
  uint64_t dropped_bytes = 0;
  std::string saved_as;  // the dropped bytes, kept for inspection
  std::string reason;    // "checksum mismatch", "zeroed header" ...
};
// nullopt when the log's tail was whole.
std::optional<TornWalTail> TornWalTailOf(const Ledger& ledger);

// RocksDB's gauges that /metrics shows; 0 when unknown.
struct StorageGauges {
  uint64_t total_sst_files_bytes = 0;
  uint64_t live_sst_files_bytes = 0;
  uint64_t actual_delayed_write_rate = 0;  // bytes/s
  uint64_t is_write_stopped = 0;
};
StorageGauges StorageGaugesOf(const Ledger& ledger);

// The background scrub of the ledger's files (store/scrub.h): every SST
// file's checksums, read at `bytes_per_s` (0: no background thread), a pass
// every `pass_interval`. `on_corruption` gets the DATA_LOSS status of each
// corrupt file found, on the scrubbing thread. The ledger must outlive it.
class Scrub {
 public:
  struct Progress {
    uint64_t passes = 0;
    uint64_t bytes_checked = 0;
  };

  Scrub(const Ledger* ledger, uint64_t bytes_per_s,
        std::chrono::milliseconds pass_interval,
        std::function<void(const absl::Status&)> on_corruption);
  // Stops and joins the background thread.
  ~Scrub();
  Scrub(const Scrub&) = delete;
  Scrub& operator=(const Scrub&) = delete;

  // Starts the background thread. Call once.
  void Start();
  // Idempotent.
  void Stop();
  // One whole pass now, on the caller's thread: the first corruption found
  // (DATA_LOSS) or OK; UNAVAILABLE on I/O errors.
  absl::Status RunPass();
  Progress progress() const;

 private:
  struct Impl;
  const std::unique_ptr<Impl> impl_;
};

// A backup (store/backup.h): its id in the backup directory and the head
// of the log it holds (position and 32-byte chain hash).
struct Backup {
  uint32_t backup_id = 0;
  uint64_t position = 0;
  std::string hash;
  uint64_t size_bytes = 0;
};
// A consistent backup of the ledger's store into `backup_dir`, through
// `scratch_dir`.
absl::StatusOr<Backup> CreateBackup(const Ledger& ledger,
                                    const std::string& scratch_dir,
                                    const std::string& backup_dir);

// Backup `backup_id` of `backup_dir` restored into `scratch_dir` and its
// chain checked: DATA_LOSS saying what is damaged, or how many events the
// check read.
struct VerifiedBackup {
  Backup backup;
  uint64_t events_checked = 0;
};
absl::StatusOr<VerifiedBackup> VerifyBackup(const std::string& backup_dir,
                                            uint32_t backup_id,
                                            const std::string& scratch_dir);

}  // namespace partnerledger::ledger

#endif  // PARTNERLEDGER_LEDGER_MAINTENANCE_H_

// Online backup, verification and offline restore of a data directory,
// with RocksDB's BackupEngine (incremental: backups in one backup directory
// share unchanged SST files; every file is checksummed).
//
// A backup is taken from a checkpoint of the live store (hard links, a
// memtable flush on the live DB and nothing else), opened privately: so the
// head read from it is exactly the content backed up, and that digest
// (position, chain hash) is recorded in the backup's metadata. Appends go on
// meanwhile; they are simply not in the backup.
//
// Verification = BackupEngine's checksum check of every file, then a
// restore into scratch space, opened read-only, whose head must equal the
// recorded digest and whose whole hash chain must verify (store/verify.h).
//
// Thread safety: at most one of these functions may run on a backup
// directory at a time (BackupEngine's rule); callers serialize.
#ifndef PARTNERLEDGER_STORE_BACKUP_H_
#define PARTNERLEDGER_STORE_BACKUP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "store/store.h"
#include "store/verify.h"

namespace partnerledger::store {

struct BackupInfo {
  uint32_t backup_id = 0;
  // The head of the backed-up log: its position and chain hash (32 bytes).
  uint64_t position = 0;
  std::string hash;
  // Unix seconds when the backup was made.
  int64_t timestamp = 0;
  uint64_t size_bytes = 0;
};

struct BackupCheck {
  BackupInfo info;
  // The chain of the restored copy (ok = false: tampered or corrupt).
  ChainCheck chain;
};

// Backs up `live` into `backup_dir` (created if missing). `scratch_dir` must
// not exist and must be on the same file system as the live data (for hard
// links); it is removed afterwards. Errors: UNAVAILABLE (I/O, including a
// live store whose writes failed), DATA_LOSS (corruption).
absl::StatusOr<BackupInfo> CreateBackup(const Store& live,
                                        const std::string& scratch_dir,
                                        const std::string& backup_dir);

// Every backup in `backup_dir`, oldest first. NOT_FOUND if there is none.
absl::StatusOr<std::vector<BackupInfo>> ListBackups(
    const std::string& backup_dir);

// Verifies backup `backup_id` (0: the latest) as described above, restoring
// into `scratch_dir` (must not exist; removed afterwards). NOT_FOUND for an
// unknown id; DATA_LOSS when a file's checksum, the recorded digest or the
// chain does not match.
absl::StatusOr<BackupCheck> VerifyBackup(const std::string& backup_dir,
                                         uint32_t backup_id,
                                         const std::string& scratch_dir);

// Restores backup `backup_id` (0: the latest) into `data_dir`, which must be
// missing or empty (FAILED_PRECONDITION otherwise: a restore never mixes
// with existing data), then verifies the result in place like VerifyBackup.
// On DATA_LOSS the restored files are left for inspection.
absl::StatusOr<BackupCheck> RestoreBackup(const std::string& backup_dir,
                                          uint32_t backup_id,
                                          const std::string& data_dir);

}  // namespace partnerledger::store

#endif  // PARTNERLEDGER_STORE_BACKUP_H_

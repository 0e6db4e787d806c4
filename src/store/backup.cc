#include "store/backup.h"

#include <filesystem>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "rocksdb/utilities/backup_engine.h"
#include "rocksdb/utilities/checkpoint.h"
#include "util/sha256.h"
#include "util/status_macros.h"

namespace partnerledger::store {
namespace {

// BackupInfo::app_metadata: "partnerledger-backup-v1 <position> <hash hex>".
constexpr char kMetadataTag[] = "partnerledger-backup-v1";

std::string EncodeMetadata(uint64_t position, const std::string& hash) {
  return absl::StrCat(kMetadataTag, " ", position, " ", ToHex(hash));
}

absl::Status DecodeMetadata(const std::string& text, BackupInfo* out) {
  std::vector<std::string> f = absl::StrSplit(text, ' ');
  if (f.size() != 3 || f[0] != kMetadataTag ||
      !absl::SimpleAtoi(f[1], &out->position) || !FromHex(f[2], &out->hash) ||
      out->hash.size() != kSha256Bytes) {
    return absl::DataLossError(
        absl::StrCat("backup ", out->backup_id, ": metadata \"", text,
                     "\" is not a partnerledger digest"));
  }
  return absl::OkStatus();
}

absl::StatusOr<BackupInfo> FromRocksInfo(const rocksdb::BackupInfo& r) {
  BackupInfo info;
  info.backup_id = r.backup_id;
  info.timestamp = r.timestamp;
  info.size_bytes = r.size;
  RETURN_IF_ERROR(DecodeMetadata(r.app_metadata, &info));
  return info;
}

rocksdb::BackupEngineOptions EngineOptions(const std::string& backup_dir) {
  rocksdb::BackupEngineOptions o(backup_dir);
  o.sync = true;                       // a backup survives power loss
  o.share_table_files = true;          // incremental
  o.share_files_with_checksum = true;  // shared files named by checksum
  o.max_background_operations = 1;     // 2 cores: leave one to the ledger
  return o;
}

absl::StatusOr<std::unique_ptr<rocksdb::BackupEngineReadOnly>> OpenReadOnly(
    const std::string& backup_dir) {
  if (!std::filesystem::is_directory(backup_dir)) {
    return absl::NotFoundError(
        absl::StrCat("no backup directory ", backup_dir));
  }
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  rocksdb::IOStatus s = rocksdb::BackupEngineReadOnly::Open(
      EngineOptions(backup_dir), rocksdb::Env::Default(), &raw);
  if (!s.ok()) return FromRocks(s, "open backup directory");
  return std::unique_ptr<rocksdb::BackupEngineReadOnly>(raw);
}

// The recorded info of `backup_id` (0: the latest).
absl::StatusOr<BackupInfo> FindBackup(
    const rocksdb::BackupEngineReadOnly& engine, const std::string& backup_dir,
    uint32_t backup_id) {
  std::vector<rocksdb::BackupInfo> all;
  engine.GetBackupInfo(&all);
  if (all.empty()) {
    return absl::NotFoundError(absl::StrCat("no backup in ", backup_dir));
  }
  if (backup_id == 0) return FromRocksInfo(all.back());
  for (const rocksdb::BackupInfo& r : all) {
    if (r.backup_id == backup_id) return FromRocksInfo(r);
  }
  return absl::NotFoundError(
      absl::StrCat("no backup ", backup_id, " in ", backup_dir));
}

bool IsMissingOrEmptyDir(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return true;
  return std::filesystem::is_directory(dir, ec) &&
         std::filesystem::is_empty(dir, ec);
}

// Opens a restored copy read-only and checks it against the recorded
// digest: the head must be exactly it, and the whole chain must verify.
absl::StatusOr<ChainCheck> CheckRestored(const std::string& dir,
                                         const BackupInfo& info) {
  StoreOptions so;
  so.dir = dir;
  so.read_only = true;
  so.create_if_missing = false;
  ASSIGN_OR_RETURN(std::unique_ptr<Store> restored, Store::Open(so));
  ASSIGN_OR_RETURN(Head head, restored->ReadHead());
  if (head.position() != info.position || head.hash() != info.hash) {
    return absl::DataLossError(absl::StrCat(
        "backup ", info.backup_id, ": restored head ", head.position(), " ",
        ToHex(head.hash()), " is not the recorded ", info.position, " ",
        ToHex(info.hash)));
  }
  return VerifyChain(*restored, 0, 0, std::make_pair(info.position, info.hash));
}

}  // namespace

absl::StatusOr<BackupInfo> CreateBackup(const Store& live,
                                        const std::string& scratch_dir,
                                        const std::string& backup_dir) {
  std::error_code ec;
  if (std::filesystem::exists(scratch_dir, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("scratch directory ", scratch_dir, " exists"));
  }
  // A checkpoint only flushes the live memtables and hard-links files; it
  // changes no data, which is why the read-only handle may be used for it.
  rocksdb::DB* live_db = const_cast<Store&>(live).db();
  rocksdb::Checkpoint* raw_checkpoint = nullptr;
  if (rocksdb::Status s = rocksdb::Checkpoint::Create(live_db, &raw_checkpoint);
      !s.ok()) {
    return FromRocks(s, "checkpoint");
  }
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw_checkpoint);
  if (rocksdb::Status s = checkpoint->CreateCheckpoint(scratch_dir); !s.ok()) {
    std::filesystem::remove_all(scratch_dir, ec);
    return FromRocks(s, "checkpoint");
  }
  absl::StatusOr<BackupInfo> out;
  {
    StoreOptions so;
    so.dir = scratch_dir;
    so.create_if_missing = false;
    so.sync = false;
    absl::StatusOr<std::unique_ptr<Store>> frozen = Store::Open(so);
    if (!frozen.ok()) {
      out = frozen.status();
    } else if (absl::StatusOr<Head> head = (*frozen)->ReadHead(); !head.ok()) {
      out = head.status();
    } else {
      std::filesystem::create_directories(backup_dir, ec);
      rocksdb::BackupEngine* raw_engine = nullptr;
      rocksdb::IOStatus s = rocksdb::BackupEngine::Open(
          EngineOptions(backup_dir), rocksdb::Env::Default(), &raw_engine);
      std::unique_ptr<rocksdb::BackupEngine> engine(raw_engine);
      rocksdb::BackupID id = 0;
      if (s.ok()) {
        rocksdb::CreateBackupOptions cbo;
        cbo.flush_before_backup = true;
        s = engine->CreateNewBackupWithMetadata(
            cbo, (*frozen)->db(),
            EncodeMetadata(head->position(), head->hash()), &id);
      }
      if (!s.ok()) {
        out = FromRocks(s, "backup");
      } else {
        rocksdb::BackupInfo r;
        if (rocksdb::Status g = engine->GetBackupInfo(id, &r); !g.ok()) {
          out = FromRocks(g, "backup info");
        } else {
          out = FromRocksInfo(r);
        }
      }
    }
  }
  std::filesystem::remove_all(scratch_dir, ec);
  return out;
}

absl::StatusOr<std::vector<BackupInfo>> ListBackups(
    const std::string& backup_dir) {
  ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::BackupEngineReadOnly> engine,
                   OpenReadOnly(backup_dir));
  std::vector<rocksdb::BackupInfo> all;
  engine->GetBackupInfo(&all);
  if (all.empty())
    return absl::NotFoundError(absl::StrCat("no backup in ", backup_dir));
  std::vector<BackupInfo> out;
  for (const rocksdb::BackupInfo& r : all) {
    ASSIGN_OR_RETURN(BackupInfo info, FromRocksInfo(r));
    out.push_back(std::move(info));
  }
  return out;
}

absl::StatusOr<BackupCheck> VerifyBackup(const std::string& backup_dir,
                                         uint32_t backup_id,
                                         const std::string& scratch_dir) {
  std::error_code ec;
  if (std::filesystem::exists(scratch_dir, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("scratch directory ", scratch_dir, " exists"));
  }
  absl::StatusOr<BackupCheck> out =
      RestoreBackup(backup_dir, backup_id, scratch_dir);
  std::filesystem::remove_all(scratch_dir, ec);
  return out;
}

absl::StatusOr<BackupCheck> RestoreBackup(const std::string& backup_dir,
                                          uint32_t backup_id,
                                          const std::string& data_dir) {
  if (!IsMissingOrEmptyDir(data_dir)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "restore target ", data_dir,
        " is not empty; restore only into a new or empty directory"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::BackupEngineReadOnly> engine,
                   OpenReadOnly(backup_dir));
  BackupCheck check;
  ASSIGN_OR_RETURN(BackupInfo info, FindBackup(*engine, backup_dir, backup_id));
  check.info = info;
  // Every file's size and checksum first: a damaged backup is not restored.
  if (rocksdb::IOStatus s = engine->VerifyBackup(check.info.backup_id,
                                                 /*verify_with_checksum=*/true);
      !s.ok()) {
    return absl::DataLossError(
        absl::StrCat("backup ", check.info.backup_id, ": ", s.ToString()));
  }
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (rocksdb::IOStatus s =
          engine->RestoreDBFromBackup(check.info.backup_id, data_dir, data_dir);
      !s.ok()) {
    return FromRocks(s, "restore");
  }
  ASSIGN_OR_RETURN(ChainCheck chain, CheckRestored(data_dir, check.info));
  check.chain = chain;
  if (!check.chain.ok) {
    return absl::DataLossError(absl::StrCat(
        "backup ", check.info.backup_id, ": chain fails at position ",
        check.chain.first_bad_position, ": ", check.chain.message));
  }
  return check;
}

}  // namespace partnerledger::store

#include "ledger/maintenance.h"

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ledger/ledger_internal.h"
#include "store/backup.h"
#include "store/scrub.h"
#include "store/store.h"
#include "util/status_macros.h"

namespace partnerledger::ledger {
namespace {

Backup ToBackup(const store::BackupInfo& info) {
  Backup b;
  b.backup_id = info.backup_id;
  b.position = info.position;
  b.hash = info.hash;
  b.size_bytes = info.size_bytes;
  return b;
}

store::ScrubOptions MakeScrubOptions(uint64_t bytes_per_s,
                                     std::chrono::milliseconds pass_interval) {
  store::ScrubOptions o;
  o.bytes_per_s = bytes_per_s;
  o.pass_interval = pass_interval;
  return o;
}

}  // namespace

absl::StatusOr<projection::CompareResult> CompareWithScratchReplay(
    const Ledger& ledger, uint64_t to) {
  const std::string scratch_dir =
      absl::StrCat(ledger.options().data_dir, ".rebuild-",
                   std::chrono::system_clock::now().time_since_epoch().count());
  std::error_code ec;
  std::filesystem::remove_all(scratch_dir, ec);
  absl::StatusOr<projection::CompareResult> out;
  {
    store::StoreOptions so;
    so.dir = scratch_dir;
    so.sync = false;
    so.disable_wal = true;
    so.append_only_history = true;
    ASSIGN_OR_RETURN(std::unique_ptr<store::Store> scratch,
                     store::Store::Open(so));
    absl::StatusOr<projection::ReplayStats> stats =
        projection::Replay(StoreOf(ledger), RulesOf(ledger), to, scratch.get());
    out = stats.ok()
              ? projection::CompareProjections(StoreOf(ledger), *scratch, to)
              : stats.status();
  }
  std::filesystem::remove_all(scratch_dir, ec);
  return out;
}

std::optional<TornWalTail> TornWalTailOf(const Ledger& ledger) {
  const std::optional<store::WalTailRepair>& torn =
      StoreOf(ledger).wal_tail_repair();
  if (!torn.has_value()) return std::nullopt;
  return TornWalTail{torn->wal_file, torn->offset, torn->dropped_bytes,
                     torn->saved_as, torn->reason};
}

StorageGauges StorageGaugesOf(const Ledger& ledger) {
  const store::Store& s = StoreOf(ledger);
  StorageGauges g;
  g.total_sst_files_bytes = s.IntProperty("rocksdb.total-sst-files-size");
  g.live_sst_files_bytes = s.IntProperty("rocksdb.live-sst-files-size");
  g.actual_delayed_write_rate =
      s.IntProperty("rocksdb.actual-delayed-write-rate");
  g.is_write_stopped = s.IntProperty("rocksdb.is-write-stopped");
  return g;
}

struct Scrub::Impl {
  Impl(const store::Store* store, const store::ScrubOptions& options,
       std::function<void(const absl::Status&)> on_corruption)
      : scrubber(store, options, std::move(on_corruption)) {}
  store::Scrubber scrubber;
};

Scrub::Scrub(const Ledger* ledger, uint64_t bytes_per_s,
             std::chrono::milliseconds pass_interval,
             std::function<void(const absl::Status&)> on_corruption)
    : impl_(std::make_unique<Impl>(&StoreOf(*ledger),
                                   MakeScrubOptions(bytes_per_s, pass_interval),
                                   std::move(on_corruption))) {}

Scrub::~Scrub() = default;

void Scrub::Start() { impl_->scrubber.Start(); }

void Scrub::Stop() { impl_->scrubber.Stop(); }

absl::Status Scrub::RunPass() { return impl_->scrubber.RunPass(); }

Scrub::Progress Scrub::progress() const {
  const store::ScrubStats st = impl_->scrubber.stats();
  return Progress{st.passes, st.bytes_checked};
}

absl::StatusOr<Backup> CreateBackup(const Ledger& ledger,
                                    const std::string& scratch_dir,
                                    const std::string& backup_dir) {
  ASSIGN_OR_RETURN(
      store::BackupInfo info,
      store::CreateBackup(StoreOf(ledger), scratch_dir, backup_dir));
  return ToBackup(info);
}

absl::StatusOr<VerifiedBackup> VerifyBackup(const std::string& backup_dir,
                                            uint32_t backup_id,
                                            const std::string& scratch_dir) {
  ASSIGN_OR_RETURN(store::BackupCheck check,
                   store::VerifyBackup(backup_dir, backup_id, scratch_dir));
  return VerifiedBackup{ToBackup(check.info), check.chain.events_checked};
}

}  // namespace partnerledger::ledger

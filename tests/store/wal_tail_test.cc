// A torn last WAL record after a power cut (the power-loss file system's
// zeroed-tail and torn-sector modes): the store opens, dropping only the
// unacknowledged append, and says what it dropped; the same damage in the
// middle of the log (valid records after it) still refuses with DATA_LOSS.
#include "store/wal_tail.h"

#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "store/power_loss_fs.h"
#include "store/store.h"
#include "test_support.h"
#include "util/status_macros.h"

namespace partnerledger::store {
namespace {

using partnerledger::testing::TempDir;
using ::testing::HasSubstr;

// Fails every WAL sync once armed, after the bytes reached the file: the
// machine lost power while the fsync was in flight.
class FailWalSyncFs final : public rocksdb::FileSystemWrapper {
 public:
  FailWalSyncFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FailWalSyncFs"; }
  void Arm() { armed_.store(true); }

  rocksdb::IOStatus NewWritableFile(const std::string& f,
                                    const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(f, o, r, dbg);
    if (s.ok() && absl::EndsWith(f, ".log")) {
      *r = std::make_unique<File>(std::move(*r), &armed_);
    }
    return s;
  }

 private:
  class File final : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile>&& f,
         const std::atomic<bool>* armed)
        : FSWritableFileOwnerWrapper(std::move(f)), armed_(armed) {}
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
      if (armed_->load()) return rocksdb::IOStatus::IOError("power cut");
      return target()->Sync(o, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o,
                            rocksdb::IODebugContext* dbg) override {
      if (armed_->load()) return rocksdb::IOStatus::IOError("power cut");
      return target()->Fsync(o, dbg);
    }

   private:
    const std::atomic<bool>* const armed_;
  };

  std::atomic<bool> armed_{false};
};

constexpr size_t kPayloadBytes = 4000;  // a record spans several sectors

class WalTailTest : public ::testing::TestWithParam<PowerLossMode> {
 protected:
  void SetUp() override {
    journal_ = dir_.Sub("journal");
    fs_ = std::make_shared<FailWalSyncFs>();
    env_ = rocksdb::NewCompositeEnv(NewPowerLossJournalFs(fs_, journal_));
  }

  absl::StatusOr<std::unique_ptr<Store>> Open(bool on_journal,
                                              bool repair = true) {
    StoreOptions o;
    o.dir = dir_.Sub("data");
    o.env = on_journal ? env_.get() : nullptr;
    o.repair_torn_wal_tail = repair;
    return Store::Open(o);
  }

  // Commits event `p` (linked to the previous one) with the head; returns
  // the commit's status.
  absl::Status Append(Store* s, uint64_t p,
                      size_t payload_bytes = kPayloadBytes) {
    StoredEvent e;
    e.set_position(p);
    e.set_stream("deal-" + std::to_string(p));
    e.set_revision(0);
    e.set_event_id(std::string(15, 'e') + static_cast<char>(p));
    e.set_type("DealClosed");
    e.set_occurred_at_us(static_cast<int64_t>(p) * 10);
    e.set_recorded_at_us(static_cast<int64_t>(p) * 20);
    e.set_actor("tester");
    e.set_payload(std::string(payload_bytes, static_cast<char>('a' + p)));
    e.set_schema_version(1);
    e.set_prev_hash(prev_);
    e.set_hash(ComputeHash(e));
    Batch b = s->NewBatch();
    RETURN_IF_ERROR(b.PutEvent(e));
    Head h;
    h.set_position(p);
    h.set_hash(e.hash());
    b.PutHead(h);
    absl::Status st = s->Commit(&b);
    if (st.ok()) prev_ = e.hash();
    return st;
  }

  std::string WalPath() {
    for (const auto& e :
         std::filesystem::directory_iterator(dir_.Sub("data"))) {
      if (absl::EndsWith(e.path().string(), ".log")) return e.path().string();
    }
    return "";
  }

  static uint64_t FileSize(const std::string& path) {
    std::error_code ec;
    return std::filesystem::file_size(path, ec);
  }

  TempDir dir_;
  std::string journal_;
  std::shared_ptr<FailWalSyncFs> fs_;
  std::unique_ptr<rocksdb::Env> env_;
  std::string prev_ = GenesisHash();
};

TEST_P(WalTailTest, TornLastRecordIsDroppedAndNothingAcknowledgedIsLost) {
  {
    absl::StatusOr<std::unique_ptr<Store>> s = Open(true);
    ASSERT_TRUE(s.ok()) << s.status();
    for (uint64_t p = 1; p <= 3; ++p) ASSERT_TRUE(Append(s->get(), p).ok());
    fs_->Arm();
    // Written to the WAL, never synced: never acknowledged.
    EXPECT_EQ(Append(s->get(), 4).code(), absl::StatusCode::kUnavailable);
  }
  const uint64_t wal_bytes = FileSize(WalPath());
  uint64_t lost = 0;
  ASSERT_TRUE(SimulatePowerLoss(journal_, GetParam(), &lost).ok());
  ASSERT_GT(lost, kPayloadBytes) << "event 4's record was not torn";
  EXPECT_EQ(FileSize(WalPath()), wal_bytes) << "a torn tail keeps its length";

  // The negative control: RocksDB alone refuses this directory.
  absl::StatusOr<std::unique_ptr<Store>> refused = Open(false, false);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kDataLoss)
      << refused.status();
  EXPECT_THAT(refused.status().message(), HasSubstr("checksum mismatch"));

  absl::StatusOr<std::unique_ptr<Store>> s = Open(false);
  ASSERT_TRUE(s.ok()) << s.status();
  const std::optional<WalTailRepair>& r = (*s)->wal_tail_repair();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->offset + r->dropped_bytes, wal_bytes);
  EXPECT_GT(r->dropped_bytes, kPayloadBytes);
  EXPECT_EQ(r->reason, "checksum mismatch");
  EXPECT_EQ(FileSize(r->saved_as), r->dropped_bytes);
  absl::StatusOr<Head> head = (*s)->ReadHead();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->position(), 3u);
  EXPECT_EQ(head->hash(), prev_);
  for (uint64_t p = 1; p <= 3; ++p) {
    absl::StatusOr<std::optional<StoredEvent>> e = (*s)->ReadEvent(p);
    ASSERT_TRUE(e.ok() && e->has_value()) << p;
  }
  absl::StatusOr<std::optional<StoredEvent>> gone = (*s)->ReadEvent(4);
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  // The log goes on from there, and opens cleanly again.
  ASSERT_TRUE(Append(s->get(), 4).ok());
  s->reset();
  s = Open(false);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE((*s)->wal_tail_repair().has_value());
  EXPECT_EQ((*s)->ReadHead()->position(), 4u);
}

TEST_P(WalTailTest, DamageFollowedByValidRecordsRefusesWithDataLoss) {
  uint64_t after_first = 0;
  {
    absl::StatusOr<std::unique_ptr<Store>> s = Open(true);
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_TRUE(Append(s->get(), 1).ok());
    after_first = FileSize(WalPath());
    for (uint64_t p = 2; p <= 3; ++p) ASSERT_TRUE(Append(s->get(), p).ok());
    fs_->Arm();
    EXPECT_EQ(Append(s->get(), 4).code(), absl::StatusCode::kUnavailable);
  }
  ASSERT_TRUE(SimulatePowerLoss(journal_, GetParam(), nullptr).ok());
  // A sector inside event 1's acknowledged record goes bad; events 2 and 3
  // follow it intact.
  const std::string wal = WalPath();
  {
    std::fstream f(wal, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(after_first - 2048));
    const std::string zeros(512, '\0');
    f.write(zeros.data(), zeros.size());
    ASSERT_TRUE(f.good());
  }
  const uint64_t wal_bytes = FileSize(wal);
  absl::StatusOr<std::unique_ptr<Store>> s = Open(false);
  ASSERT_EQ(s.status().code(), absl::StatusCode::kDataLoss) << s.status();
  EXPECT_THAT(s.status().message(),
              HasSubstr("write-ahead log damaged in the middle"));
  EXPECT_THAT(s.status().message(), HasSubstr("a valid record follows"));
  EXPECT_EQ(FileSize(wal), wal_bytes) << "refusing changes nothing";
  for (const auto& e : std::filesystem::directory_iterator(dir_.Sub("data"))) {
    EXPECT_FALSE(absl::StrContains(e.path().string(), "torn-wal-tail"));
  }
}

// The torn record crosses one of the WAL's 32 KiB blocks: its first fragment
// fills the end of a block inside the sector that survives (whole, checksum
// valid), the fragment after it in the next block never reached the disk.
// RocksDB refuses that ("error in middle of record"); it is a torn last
// record all the same, dropped from the start of its first fragment.
TEST_P(WalTailTest, TornRecordAcrossABlockBoundaryIsDropped) {
  constexpr uint64_t kWalBlockBytes = 32768;
  constexpr uint64_t kSectorBytes = 512;
  // Room for a first fragment's header and some of its payload.
  constexpr uint64_t kFirstFragmentBytesMin = 64;
  uint64_t synced = 0;
  uint64_t head = 0;
  {
    absl::StatusOr<std::unique_ptr<Store>> s = Open(true);
    ASSERT_TRUE(s.ok()) << s.status();
    // Appends sized so the WAL ends inside the last sector of a block.
    for (int i = 0; i < 64; ++i) {
      const uint64_t left =
          kWalBlockBytes - FileSize(WalPath()) % kWalBlockBytes;
      if (left >= kFirstFragmentBytesMin && left < kSectorBytes) break;
      ++head;
      ASSERT_TRUE(
          Append(s->get(), head, left > 2 * kSectorBytes ? left - 700 : 1)
              .ok());
    }
    synced = FileSize(WalPath());
    const uint64_t left = kWalBlockBytes - synced % kWalBlockBytes;
    ASSERT_TRUE(left >= kFirstFragmentBytesMin && left < kSectorBytes)
        << "the WAL ends " << left << " bytes before a block boundary";
    fs_->Arm();
    // Never synced, never acknowledged; larger than what is left of the
    // block, so it is written as a first fragment and a last one.
    EXPECT_EQ(Append(s->get(), head + 1).code(),
              absl::StatusCode::kUnavailable);
  }
  const uint64_t wal_bytes = FileSize(WalPath());
  ASSERT_GT(wal_bytes, (synced / kWalBlockBytes + 1) * kWalBlockBytes)
      << "the unsynced record does not cross the block boundary";
  ASSERT_TRUE(SimulatePowerLoss(journal_, GetParam(), nullptr).ok());

  if (GetParam() == PowerLossMode::kZeroedTail) {
    // RocksDB alone refuses this directory (the garbage of a torn sector it
    // reads as a bad length at the end of the file, and drops itself).
    absl::StatusOr<std::unique_ptr<Store>> refused = Open(false, false);
    ASSERT_EQ(refused.status().code(), absl::StatusCode::kDataLoss)
        << refused.status();
  }
  absl::StatusOr<std::unique_ptr<Store>> s = Open(false);
  ASSERT_TRUE(s.ok()) << s.status();
  if (GetParam() == PowerLossMode::kZeroedTail) {
    const std::optional<WalTailRepair>& r = (*s)->wal_tail_repair();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->offset, synced);
    EXPECT_EQ(r->offset + r->dropped_bytes, wal_bytes);
    EXPECT_EQ(r->reason, "zeroed fragment inside a record");
  }
  absl::StatusOr<Head> h = (*s)->ReadHead();
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->position(), head);
  EXPECT_EQ(h->hash(), prev_);
  ASSERT_TRUE(Append(s->get(), head + 1).ok());
}

INSTANTIATE_TEST_SUITE_P(Modes, WalTailTest,
                         ::testing::Values(PowerLossMode::kZeroedTail,
                                           PowerLossMode::kTornSector),
                         [](const auto& p) {
                           return p.param == PowerLossMode::kZeroedTail
                                      ? "ZeroedTail"
                                      : "TornSector";
                         });

}  // namespace
}  // namespace partnerledger::store

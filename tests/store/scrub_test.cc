#include "store/scrub.h"

#include <chrono>
#include <fstream>
#include <future>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "store/keys.h"
#include "store/store.h"
#include "test_support.h"

namespace partnerledger::store {
namespace {

using partnerledger::testing::TempDir;
using ::testing::HasSubstr;

class ScrubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Open();
    Batch b = store_->NewBatch();
    for (uint64_t p = 1; p <= 20; ++p) {
      b.PutStreamIndex("deal-" + std::to_string(p), 0, p);
    }
    ASSERT_TRUE(store_->Commit(&b).ok());
    store_.reset();  // a clean close flushes every family to SST files
    Open();
  }

  void Open() {
    StoreOptions o;
    o.dir = dir_.path();
    absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }

  // Flips 16 bytes inside the first data block of the streams SST.
  void CorruptStreams() {
    std::string path;
    for (const Store::SstFile& f : store_->LiveSstFiles()) {
      if (f.family == "streams") path = f.path;
    }
    ASSERT_FALSE(path.empty());
    store_.reset();
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    char buf[16];
    f.seekg(16);
    f.read(buf, sizeof buf);
    for (char& c : buf) c = static_cast<char>(c ^ 0xff);
    f.seekp(16);
    f.write(buf, sizeof buf);
    ASSERT_TRUE(f.good());
    f.close();
    Open();
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(ScrubTest, PassOverIntactFilesFindsNothing) {
  Scrubber scrubber(store_.get(), ScrubOptions{}, [](const absl::Status& s) {
    ADD_FAILURE() << "unexpected finding: " << s;
  });
  EXPECT_TRUE(scrubber.RunPass().ok());
  const ScrubStats st = scrubber.stats();
  EXPECT_EQ(st.passes, 1u);
  EXPECT_GE(st.files_checked, 1u);
  EXPECT_GT(st.bytes_checked, 0u);
  EXPECT_EQ(st.corrupt_files, 0u);
}

// The background thread finds a corrupt block no one has read, reports it
// through the callback, and stops promptly during its pause between passes.
TEST_F(ScrubTest, BackgroundPassReportsACorruptFileAndStops) {
  CorruptStreams();
  std::promise<absl::Status> found;
  bool reported = false;
  ScrubOptions o;
  o.bytes_per_s = 1ull << 30;
  o.pass_interval = std::chrono::hours(1);
  Scrubber scrubber(store_.get(), o, [&](const absl::Status& s) {
    if (!reported) found.set_value(s);
    reported = true;
  });
  scrubber.Start();
  std::future<absl::Status> f = found.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  const absl::Status s = f.get();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(s.message(), HasSubstr("streams column family: SST file"));
  scrubber.Stop();  // interrupts the hour-long pause
  EXPECT_EQ(scrubber.stats().corrupt_files, 1u);
}

TEST_F(ScrubTest, OffMeansNoThread) {
  CorruptStreams();
  int reports = 0;
  Scrubber scrubber(store_.get(), ScrubOptions{},
                    [&](const absl::Status&) { ++reports; });
  scrubber.Start();
  scrubber.Stop();
  EXPECT_EQ(scrubber.stats().passes, 0u);
  EXPECT_EQ(reports, 0);
  // A pass on demand still finds it, and reports it like the thread would.
  EXPECT_EQ(scrubber.RunPass().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(reports, 1);
}

}  // namespace
}  // namespace partnerledger::store

// Corruption in any column family is found: by offline verification
// (`ledgerctl verify --data-dir` exits 4 naming the family), by VerifyChain
// online, and by the background scrub; a DATA_LOSS answered to any call, or
// found by the scrub, is logged, counted in metrics and turns health
// NOT_SERVING.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "health_check.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "server/log.h"
#include "server/server.h"
#include "store/store.h"
#include "store/verify.h"
#include "test_support.h"

namespace partnerledger::server {
namespace {

using partnerledger::testing::TempDir;
using partnerledger::testing::TestUuid;
using ::testing::HasSubstr;

constexpr int kStreams = 6;
constexpr int kEventsPerStream = 4;

// XORs 16 bytes at `offset` of `path` with 0xff.
void FlipBytes(const std::string& path, std::streamoff offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.good()) << path;
  char buf[16];
  f.seekg(offset);
  f.read(buf, sizeof buf);
  ASSERT_EQ(f.gcount(), 16) << path;
  for (char& c : buf) c = static_cast<char>(c ^ 0xff);
  f.seekp(offset);
  f.write(buf, sizeof buf);
  ASSERT_TRUE(f.good());
}

class DataLossTest : public ::testing::Test {
 protected:
  void Start() {
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.ledger.data_dir = dir_.Sub("data");
    absl::StatusOr<std::unique_ptr<LedgerServer>> s = LedgerServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    channel_ =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials());
    stub_ = v1::EventStoreService::NewStub(channel_);
  }

  void Stop() {
    server_->Shutdown(1000);
    server_.reset();
  }

  v1::AppendEventsRequest Request(int stream, int n) {
    v1::AppendEventsRequest req;
    req.set_stream(absl::StrCat("partner-p", stream));
    v1::ProposedEvent* e = req.add_events();
    e->set_event_id(TestUuid(static_cast<uint64_t>(stream * 100 + n + 1)));
    e->mutable_occurred_at()->set_seconds(1'767'225'600);
    if (n == 0) {
      v1::PartnerRegistered* r =
          e->mutable_payload()->mutable_partner_registered();
      r->set_legal_name(absl::StrCat("Partner ", stream));
      r->set_country("NL");
      r->set_pitch("We integrate things.");
    } else {
      e->mutable_payload()->mutable_partner_profile_updated()->set_pitch(
          absl::StrCat("pitch ", n));
    }
    return req;
  }

  grpc::Status Append(const v1::AppendEventsRequest& req) {
    grpc::ClientContext ctx;
    v1::AppendEventsResponse resp;
    return stub_->AppendEvents(&ctx, req, &resp);
  }

  // A ledger of kStreams streams x kEventsPerStream events, flushed to SST
  // files by a clean shutdown.
  void Populate() {
    Start();
    for (int n = 0; n < kEventsPerStream; ++n) {
      for (int s = 0; s < kStreams; ++s) {
        grpc::Status st = Append(Request(s, n));
        ASSERT_TRUE(st.ok()) << st.error_message();
      }
    }
    Stop();
  }

  // The SST files of `family` in the data directory.
  std::vector<std::string> SstFiles(const std::string& family) {
    store::StoreOptions o;
    o.dir = dir_.Sub("data");
    o.read_only = true;
    o.create_if_missing = false;
    absl::StatusOr<std::unique_ptr<store::Store>> st = store::Store::Open(o);
    EXPECT_TRUE(st.ok()) << st.status();
    std::vector<std::string> out;
    if (!st.ok()) return out;
    for (const store::Store::SstFile& f : (*st)->LiveSstFiles()) {
      if (f.family == family) out.push_back(f.path);
    }
    return out;
  }

  void Corrupt(const std::string& family) {
    const std::vector<std::string> files = SstFiles(family);
    ASSERT_FALSE(files.empty()) << "no SST file of " << family;
    // Inside the first data block: the file starts with it.
    for (const std::string& f : files) FlipBytes(f, 16);
  }

  // Offline: VerifyChain over a read-only open of the directory.
  store::ChainCheck VerifyOffline() {
    store::StoreOptions o;
    o.dir = dir_.Sub("data");
    o.read_only = true;
    o.create_if_missing = false;
    absl::StatusOr<std::unique_ptr<store::Store>> st = store::Store::Open(o);
    EXPECT_TRUE(st.ok()) << st.status();
    if (!st.ok()) return {};
    absl::StatusOr<store::ChainCheck> c =
        store::VerifyChain(**st, 0, 0, std::nullopt);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : store::ChainCheck{};
  }

  // `ledgerctl verify --data-dir`: exit code and output.
  int LedgerctlVerify(std::string* output) {
    const std::string cmd = absl::StrCat(
        PL_LEDGERCTL, " verify --data-dir=", dir_.Sub("data"), " 2>&1");
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return -1;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) output->append(buf, n);
    const int status = ::pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  int CountDataLossLogLines(const std::vector<std::string>& logs) {
    int n = 0;
    for (const std::string& l : logs) {
      if (l.find("\"msg\":\"data loss found") != std::string::npos) ++n;
    }
    return n;
  }

  TempDir dir_;
  std::unique_ptr<LedgerServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::EventStoreService::Stub> stub_;
};

TEST_F(DataLossTest, IntactLedgerVerifiesOfflineOnlineAndScrubs) {
  Populate();
  const store::ChainCheck c = VerifyOffline();
  EXPECT_TRUE(c.ok) << c.message;
  EXPECT_EQ(c.verified_through, uint64_t{kStreams * kEventsPerStream});
  std::string out;
  EXPECT_EQ(LedgerctlVerify(&out), 0) << out;
  Start();
  EXPECT_TRUE(server_->ScrubNow().ok());
  EXPECT_EQ(partnerledger::testing::HealthStatus(channel_), 1);
  EXPECT_THAT(server_->RenderMetrics(),
              HasSubstr("partnerledger_data_loss_total{source=\"scrub\"} 0\n"));
}

// Each column family's SST, 16 bytes flipped: offline verification (the
// library and ledgerctl) reports it, naming the family.
TEST_F(DataLossTest, FlippedBytesInAnyFamilyFailOfflineVerify) {
  Populate();
  const std::string clean = dir_.Sub("clean");
  std::filesystem::copy(dir_.Sub("data"), clean,
                        std::filesystem::copy_options::recursive);
  for (const char* family :
       {"events", "streams", "event_ids", "meta", "state", "state_hist"}) {
    SCOPED_TRACE(family);
    std::filesystem::remove_all(dir_.Sub("data"));
    std::filesystem::copy(clean, dir_.Sub("data"),
                          std::filesystem::copy_options::recursive);
    Corrupt(family);
    const store::ChainCheck c = VerifyOffline();
    EXPECT_FALSE(c.ok);
    EXPECT_THAT(c.message, HasSubstr(absl::StrCat(family, " column family")));
    std::string out;
    EXPECT_EQ(LedgerctlVerify(&out), 4) << out;
    EXPECT_THAT(out, HasSubstr("FAILED"));
    EXPECT_THAT(out, HasSubstr(absl::StrCat(family, " column family")));
  }
}

// The stream index corrupted: ReadStream and an idempotent retry answer
// DATA_LOSS; that is logged, counted and turns health NOT_SERVING, and
// VerifyChain online reports the family.
TEST_F(DataLossTest, DataLossOnReadsFlipsHealthAndVerifyChainReportsIt) {
  Populate();
  Corrupt("streams");
  Corrupt("event_ids");
  std::mutex mu;
  std::vector<std::string> logs;
  SetLogSinkForTest([&](const std::string& line) {
    std::lock_guard<std::mutex> lock(mu);
    logs.push_back(line);
  });
  Start();
  ASSERT_EQ(partnerledger::testing::HealthStatus(channel_), 1);

  v1::ReadStreamRequest rs;
  rs.set_stream("partner-p1");
  v1::ReadStreamResponse page;
  grpc::ClientContext c1;
  grpc::Status s = stub_->ReadStream(&c1, rs, &page);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DATA_LOSS) << s.error_message();
  EXPECT_EQ(partnerledger::testing::HealthStatus(channel_), 2);
  EXPECT_FALSE(server_->serving());

  // The retry of an acknowledged append looks its event id up.
  s = Append(Request(2, 0));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DATA_LOSS) << s.error_message();
  const std::string metrics = server_->RenderMetrics();
  EXPECT_THAT(metrics,
              HasSubstr("partnerledger_data_loss_total{source=\"rpc\"} 2\n"));
  EXPECT_THAT(metrics, HasSubstr("partnerledger_healthy 0\n"));

  v1::VerifyChainRequest vr;
  v1::VerifyChainResponse verified;
  grpc::ClientContext c2;
  ASSERT_TRUE(stub_->VerifyChain(&c2, vr, &verified).ok());
  EXPECT_FALSE(verified.ok());
  EXPECT_THAT(verified.message(), HasSubstr("column family"));
  SetLogSinkForTest({});
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(CountDataLossLogLines(logs), 1) << "logged once per source";
}

// A corrupted events SST that nobody reads: the server stays SERVING until
// the scrub reads it, which logs, counts and turns health NOT_SERVING.
TEST_F(DataLossTest, ScrubFindsCorruptionNobodyReadAndFlipsHealth) {
  Populate();
  Corrupt("events");
  std::mutex mu;
  std::vector<std::string> logs;
  SetLogSinkForTest([&](const std::string& line) {
    std::lock_guard<std::mutex> lock(mu);
    logs.push_back(line);
  });
  Start();
  EXPECT_EQ(partnerledger::testing::HealthStatus(channel_), 1);
  const absl::Status scrub = server_->ScrubNow();
  EXPECT_EQ(scrub.code(), absl::StatusCode::kDataLoss) << scrub;
  EXPECT_THAT(scrub.message(), HasSubstr("events column family"));
  EXPECT_EQ(partnerledger::testing::HealthStatus(channel_), 2);
  EXPECT_THAT(server_->RenderMetrics(),
              HasSubstr("partnerledger_data_loss_total{source=\"scrub\"} 1\n"));
  SetLogSinkForTest({});
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(CountDataLossLogLines(logs), 1);
}

}  // namespace
}  // namespace partnerledger::server

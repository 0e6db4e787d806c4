// Storage failure: once the disk fails under a running server, appends are
// refused with UNAVAILABLE, health turns NOT_SERVING, reads go on, and the
// reason is logged; after a restart on a healthy disk every acknowledged
// event is there and nothing unacknowledged is.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <set>

#include "health_check.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "rocksdb/env.h"
#include "server/fault_fs.h"
#include "server/log.h"
#include "server/server.h"
#include "test_support.h"

namespace partnerledger::server {
namespace {

using partnerledger::testing::NextUuid;
using partnerledger::testing::TempDir;
using ::testing::HasSubstr;

class StorageFailureTest : public ::testing::Test {
 protected:
  void Start(rocksdb::Env* env) {
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.ledger.data_dir = dir_.Sub("data");
    o.ledger.env = env;
    absl::StatusOr<std::unique_ptr<LedgerServer>> s = LedgerServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    channel_ =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials());
    stub_ = v1::EventStoreService::NewStub(channel_);
  }

  // Appends one event to `stream` (registering it first time); returns
  // the status and, through `id`, the event id sent.
  grpc::Status Append(const std::string& stream, std::string* id) {
    v1::AppendEventsRequest req;
    req.set_stream(stream);
    v1::ProposedEvent* e = req.add_events();
    *id = NextUuid();
    e->set_event_id(*id);
    e->mutable_occurred_at()->set_seconds(1'767'225'600);
    e->mutable_payload()->mutable_partner_registered()->set_legal_name(
        "Acme BV");
    e->mutable_payload()->mutable_partner_registered()->set_country("NL");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(20));
    v1::AppendEventsResponse resp;
    return stub_->AppendEvents(&ctx, req, &resp);
  }

  int HealthStatus() { return partnerledger::testing::HealthStatus(channel_); }

  std::vector<v1::Event> ReadEverything() {
    std::vector<v1::Event> out;
    uint64_t from = 0;
    for (;;) {
      grpc::ClientContext ctx;
      v1::ReadAllRequest r;
      r.set_from_position(from);
      v1::ReadAllResponse page;
      grpc::Status s = stub_->ReadAll(&ctx, r, &page);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) return out;
      for (const v1::Event& e : page.events()) out.push_back(e);
      if (page.end_of_log()) return out;
      from = page.next_position();
    }
  }

  TempDir dir_;
  std::shared_ptr<partnerledger::testing::FaultFs> fs_ =
      std::make_shared<partnerledger::testing::FaultFs>();
  std::unique_ptr<rocksdb::Env> env_ = rocksdb::NewCompositeEnv(fs_);
  std::unique_ptr<LedgerServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::EventStoreService::Stub> stub_;
};

TEST_F(StorageFailureTest,
       FailedDiskStopsAppendsKeepsReadsAndLosesNothingAcknowledged) {
  std::mutex mu;
  std::vector<std::string> logs;
  SetLogSinkForTest([&](const std::string& line) {
    std::lock_guard<std::mutex> lock(mu);
    logs.push_back(line);
  });
  Start(env_.get());
  ASSERT_EQ(HealthStatus(), 1);
  std::set<std::string> acknowledged;
  std::set<std::string> refused;
  for (int i = 0; i < 20; ++i) {
    std::string id;
    ASSERT_TRUE(Append("partner-p" + std::to_string(i), &id).ok());
    acknowledged.insert(id);
  }

  fs_->FailWrites();
  for (int i = 20; i < 25; ++i) {
    std::string id;
    grpc::Status s = Append("partner-p" + std::to_string(i), &id);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE)
        << s.error_message();
    refused.insert(id);
  }
  EXPECT_EQ(HealthStatus(), 2);  // NOT_SERVING
  EXPECT_FALSE(server_->serving());
  EXPECT_FALSE(server_->ledger().healthy());
  EXPECT_THAT(server_->RenderMetrics(), HasSubstr("partnerledger_healthy 0\n"));
  EXPECT_THAT(
      server_->RenderMetrics(),
      HasSubstr("partnerledger_appends_total{code=\"UNAVAILABLE\"} 5\n"));

  // Reads are still served, and show exactly what was acknowledged.
  std::set<std::string> read;
  for (const v1::Event& e : ReadEverything()) read.insert(e.event_id());
  EXPECT_EQ(read, acknowledged);

  {
    std::lock_guard<std::mutex> lock(mu);
    int storage_lines = 0;
    for (const std::string& l : logs) {
      if (l.find("\"msg\":\"storage failed") != std::string::npos) {
        ++storage_lines;
        EXPECT_THAT(l, HasSubstr("\"level\":\"error\""));
        EXPECT_THAT(l, HasSubstr("injected"));
      }
    }
    EXPECT_EQ(storage_lines, 1) << "logged once, however many appends fail";
  }
  SetLogSinkForTest({});

  // "Restart" on the same directory with a healthy disk.
  server_->Shutdown(1000);
  server_.reset();
  Start(nullptr);
  EXPECT_EQ(HealthStatus(), 1);
  read.clear();
  for (const v1::Event& e : ReadEverything()) read.insert(e.event_id());
  EXPECT_EQ(read, acknowledged);
  for (const std::string& id : refused) EXPECT_EQ(read.count(id), 0u) << id;
  EXPECT_EQ(server_->ledger().head_position(), acknowledged.size());
  std::string id;
  EXPECT_TRUE(Append("partner-after", &id).ok());
}

// A disk that is full for every file, RocksDB's info log included, as the
// tmpfs of tests/crash/disk_full_test.cc but in process. RocksDB's own
// info logger (built with assertions in Debian's librocksdb) aborted the
// process on its second write after a failed one; the store's logger drops
// lines instead, so RocksDB never asks the file system for a logger.
TEST_F(StorageFailureTest, FullDiskWithTheInfoLogOnItRefusesAppendsNoAbort) {
  fs_->LogThrough(env_.get());
  fs_->FailAsNoSpace();
  Start(env_.get());
  std::set<std::string> acknowledged;
  for (int i = 0; i < 3; ++i) {
    std::string id;
    ASSERT_TRUE(Append("partner-q" + std::to_string(i), &id).ok());
    acknowledged.insert(id);
  }
  fs_->FailWrites();
  for (int i = 3; i < 8; ++i) {
    std::string id;
    grpc::Status s = Append("partner-q" + std::to_string(i), &id);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE)
        << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr("No space left on device"));
  }
  EXPECT_EQ(HealthStatus(), 2);  // NOT_SERVING
  std::set<std::string> read;
  for (const v1::Event& e : ReadEverything()) read.insert(e.event_id());
  EXPECT_EQ(read, acknowledged);
  server_->Shutdown(1000);
  server_.reset();
}

}  // namespace
}  // namespace partnerledger::server

// A follower's gRPC services (partnerledger/replication.h): AppendEvents is
// refused with the leader's address in the x-leader trailer, and reads with
// a min_position wait for the position to be applied, or end UNAVAILABLE.
// The groups come from an in-process leader through an in-memory log.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <thread>

#include "absl/synchronization/notification.h"
#include "domain/partnership_sim.h"
#include "ledger/fake_commit_log.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "partnerledger/v1/query.grpc.pb.h"
#include "server/server.h"
#include "test_support.h"

namespace partnerledger::server {
namespace {

namespace sim = domain::testing;
using partnerledger::testing::FakeCommitLog;
using partnerledger::testing::MakeEvent;
using partnerledger::testing::NextUuid;
using partnerledger::testing::TempDir;
using ::testing::HasSubstr;

constexpr char kLeaderAddress[] = "10.0.0.1:7000";

class ReplicationServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options lo;
    lo.data_dir = dir_.Sub("leader");
    lo.clock = &clock_;
    lo.commit_log = &leader_log_;
    absl::StatusOr<std::unique_ptr<Ledger>> l = Ledger::Open(lo);
    ASSERT_TRUE(l.ok()) << l.status();
    leader_ = std::move(*l);
    ASSERT_TRUE(leader_->SetLeader().ok());

    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.ledger.data_dir = dir_.Sub("follower");
    o.ledger.clock = &clock_;
    o.ledger.commit_log = &follower_log_;
    absl::StatusOr<std::unique_ptr<LedgerServer>> s = LedgerServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    follower().SetFollower(kLeaderAddress);
    auto channel =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials());
    events_ = v1::EventStoreService::NewStub(channel);
    queries_ = v1::LedgerQueryService::NewStub(channel);
  }

  Ledger& follower() { return server_->ledger(); }

  // Appends on the leader; returns the log group it made.
  ReplicatedGroup LeaderAppends(const std::string& stream,
                                v1::EventPayload payload) {
    AppendRequest r;
    r.stream = stream;
    r.events.push_back(MakeEvent(std::move(payload)));
    absl::StatusOr<AppendResult> a = leader_->AppendAndWait(std::move(r));
    EXPECT_TRUE(a.ok()) << a.status();
    return leader_log_.groups().back();
  }

  // Waits (yielding, bounded) until `n` reads wait for a min_position.
  void AwaitWaiters(uint64_t n) {
    for (int i = 0; i < 10'000'000; ++i) {
      if (follower().stats().position_waiters == n) return;
      std::this_thread::yield();
    }
    FAIL() << "never " << n << " waiting reads";
  }

  TempDir dir_;
  FakeClock clock_{1'767'225'600'000'000};
  FakeCommitLog leader_log_;
  FakeCommitLog follower_log_;
  std::unique_ptr<Ledger> leader_;
  std::unique_ptr<LedgerServer> server_;
  std::unique_ptr<v1::EventStoreService::Stub> events_;
  std::unique_ptr<v1::LedgerQueryService::Stub> queries_;
};

TEST_F(ReplicationServiceTest, FollowerRefusesAppendsWithTheLeaderTrailer) {
  v1::AppendEventsRequest req;
  req.set_stream("partner-C");
  v1::ProposedEvent* e = req.add_events();
  e->set_event_id(NextUuid());
  e->mutable_occurred_at()->set_seconds(1'767'225'600);
  *e->mutable_payload() = sim::PartnerRegistered("C");
  v1::AppendEventsResponse resp;
  grpc::ClientContext ctx;
  grpc::Status s = events_->AppendEvents(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(s.error_message(), HasSubstr("not the leader"));
  const auto& trailers = ctx.GetServerTrailingMetadata();
  auto it = trailers.find(kLeaderTrailer);
  ASSERT_NE(it, trailers.end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()), kLeaderAddress);
  EXPECT_EQ(follower().head_position(), 0u);
  EXPECT_EQ(follower_log_.calls(), 0);
  // The server stays healthy: a follower is not a failed node.
  EXPECT_TRUE(follower().healthy());
}

TEST_F(ReplicationServiceTest, ReadWithMinPositionWaitsForTheGroup) {
  const ReplicatedGroup g1 =
      LeaderAppends("partner-C", sim::PartnerRegistered("C"));
  ASSERT_EQ(g1.last_position, 1u);

  v1::ReadAllRequest req;
  req.set_min_position(1);
  v1::ReadAllResponse resp;
  grpc::ClientContext ctx;
  absl::Notification done;
  grpc::Status status;
  events_->async()->ReadAll(&ctx, &req, &resp, [&](grpc::Status s) {
    status = std::move(s);
    done.Notify();
  });
  AwaitWaiters(1);
  EXPECT_FALSE(done.HasBeenNotified());
  ASSERT_TRUE(follower().ApplyReplicated(g1).ok());
  done.WaitForNotification();
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(resp.events_size(), 1);
  EXPECT_EQ(resp.events(0).position(), 1u);
  EXPECT_EQ(resp.head_position(), 1u);
  EXPECT_EQ(follower().stats().position_waiters, 0u);
}

TEST_F(ReplicationServiceTest, ReadWithMinPositionBeyondTheHeadTimesOut) {
  ASSERT_TRUE(follower()
                  .ApplyReplicated(
                      LeaderAppends("partner-C", sim::PartnerRegistered("C")))
                  .ok());
  v1::ReadStreamRequest req;
  req.set_stream("partner-C");
  req.set_min_position(5);
  v1::ReadStreamResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(1000));
  grpc::Status s = events_->ReadStream(&ctx, req, &resp);
  // The server's UNAVAILABLE, sent just before the client's deadline.
  ASSERT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("min_position 5"));
  EXPECT_THAT(s.error_message(), HasSubstr("applied through position 1"));

  // At or below the head: served at once.
  req.set_min_position(1);
  grpc::ClientContext ok_ctx;
  ASSERT_TRUE(events_->ReadStream(&ok_ctx, req, &resp).ok());
  EXPECT_EQ(resp.events_size(), 1);
}

TEST_F(ReplicationServiceTest, QueriesWaitForMinPosition) {
  ASSERT_TRUE(follower()
                  .ApplyReplicated(
                      LeaderAppends("partner-C", sim::PartnerRegistered("C")))
                  .ok());
  const ReplicatedGroup g2 =
      LeaderAppends("partner-F", sim::PartnerRegistered("F"));

  v1::GetObligationsRequest late;
  late.set_min_position(2);
  v1::GetObligationsResponse late_resp;
  grpc::ClientContext late_ctx;
  late_ctx.set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(1000));
  grpc::Status s = queries_->GetObligations(&late_ctx, late, &late_resp);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("min_position 2"));
  EXPECT_THAT(s.error_message(), HasSubstr("applied through position 1"));

  v1::GetObligationsRequest req;
  req.set_min_position(2);
  v1::GetObligationsResponse resp;
  grpc::ClientContext ctx;
  absl::Notification done;
  grpc::Status status;
  queries_->async()->GetObligations(&ctx, &req, &resp, [&](grpc::Status st) {
    status = std::move(st);
    done.Notify();
  });
  AwaitWaiters(1);
  ASSERT_TRUE(follower().ApplyReplicated(g2).ok());
  done.WaitForNotification();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.as_of_position(), 2u);
}

TEST_F(ReplicationServiceTest, SubscribeStartsOnceMinPositionIsApplied) {
  const ReplicatedGroup g1 =
      LeaderAppends("partner-C", sim::PartnerRegistered("C"));
  {
    v1::SubscribeRequest req;
    req.set_min_position(1);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(1000));
    std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
        events_->Subscribe(&ctx, req);
    v1::SubscribeResponse msg;
    EXPECT_FALSE(reader->Read(&msg));
    grpc::Status s = reader->Finish();
    ASSERT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE)
        << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr("min_position 1"));
    EXPECT_THAT(s.error_message(), HasSubstr("applied through position 0"));
  }
  v1::SubscribeRequest req;
  req.set_min_position(1);
  grpc::ClientContext ctx;
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
      events_->Subscribe(&ctx, req);
  ASSERT_TRUE(follower().ApplyReplicated(g1).ok());
  v1::SubscribeResponse msg;
  ASSERT_TRUE(reader->Read(&msg));
  ASSERT_TRUE(msg.has_event());
  EXPECT_EQ(msg.event().position(), 1u);
  ASSERT_TRUE(reader->Read(&msg));
  ASSERT_TRUE(msg.has_caught_up());
  EXPECT_EQ(msg.caught_up().position(), 1u);
  ctx.TryCancel();
  reader->Finish();
}

}  // namespace
}  // namespace partnerledger::server

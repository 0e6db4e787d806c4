// EventStoreService in process, over a real gRPC channel on port 0.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <thread>

#include "partnerledger/v1/event_store.grpc.pb.h"
#include "server/server.h"
#include "test_support.h"

namespace partnerledger::server {
namespace {

using partnerledger::testing::NextUuid;
using partnerledger::testing::TempDir;
using ::testing::HasSubstr;

class EventStoreServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.ledger.data_dir = dir_.Sub("data");
    o.ledger.clock = &clock_;
    absl::StatusOr<std::unique_ptr<LedgerServer>> s = LedgerServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    channel_ =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials());
    stub_ = v1::EventStoreService::NewStub(channel_);
  }

  static v1::ProposedEvent Proposed(const std::string& id) {
    v1::ProposedEvent e;
    e.set_event_id(id);
    e.mutable_occurred_at()->set_seconds(1'767'225'600);
    return e;
  }

  static v1::AppendEventsRequest Register(const std::string& stream,
                                          const std::string& id = NextUuid()) {
    v1::AppendEventsRequest req;
    req.set_stream(stream);
    req.set_expected_state(v1::EXPECTED_STATE_NO_STREAM);
    v1::ProposedEvent* e = req.add_events();
    *e = Proposed(id);
    v1::PartnerRegistered* p =
        e->mutable_payload()->mutable_partner_registered();
    p->set_legal_name("Acme BV");
    p->set_country("NL");
    return req;
  }

  static v1::AppendEventsRequest Update(const std::string& stream,
                                        const std::string& id = NextUuid()) {
    v1::AppendEventsRequest req;
    req.set_stream(stream);
    v1::ProposedEvent* e = req.add_events();
    *e = Proposed(id);
    e->mutable_payload()->mutable_partner_profile_updated()->set_pitch("p");
    return req;
  }

  grpc::Status Append(const v1::AppendEventsRequest& req,
                      v1::AppendEventsResponse* resp,
                      grpc::ClientContext* ctx = nullptr) {
    grpc::ClientContext local;
    if (ctx == nullptr) ctx = &local;
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(10));
    return stub_->AppendEvents(ctx, req, resp);
  }

  TempDir dir_;
  FakeClock clock_{1'767'225'600'000'000};
  std::unique_ptr<LedgerServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::EventStoreService::Stub> stub_;
};

TEST_F(EventStoreServiceTest, AppendReturnsPositionsAndRevision) {
  v1::AppendEventsResponse resp;
  ASSERT_TRUE(Append(Register("partner-acme"), &resp).ok());
  ASSERT_EQ(resp.events_size(), 1);
  EXPECT_EQ(resp.events(0).position(), 1u);
  EXPECT_EQ(resp.events(0).revision(), 0u);
  EXPECT_EQ(resp.events(0).stream(), "partner-acme");
  EXPECT_EQ(resp.events(0).type(), "PartnerRegistered");
  EXPECT_FALSE(resp.events(0).derived());
  EXPECT_EQ(resp.next_expected_revision(), 0u);
  EXPECT_EQ(resp.commit_position(), 1u);
  EXPECT_FALSE(resp.replayed());
}

TEST_F(EventStoreServiceTest,
       RevisionConflictIsAbortedWithCurrentRevisionTrailer) {
  v1::AppendEventsResponse resp;
  ASSERT_TRUE(Append(Register("partner-acme"), &resp).ok());
  v1::AppendEventsRequest stale = Update("partner-acme");
  stale.set_expected_revision(7);
  grpc::ClientContext ctx;
  grpc::Status s = Append(stale, &resp, &ctx);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_THAT(s.error_message(), HasSubstr("current revision 0"));
  auto trailer = ctx.GetServerTrailingMetadata().find("x-current-revision");
  ASSERT_NE(trailer, ctx.GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(trailer->second.data(), trailer->second.size()), "0");
}

TEST_F(EventStoreServiceTest,
       IdenticalRetryIsReplayedAndChangedContentIsAlreadyExists) {
  const std::string id = NextUuid();
  v1::AppendEventsResponse first, retry, clash;
  ASSERT_TRUE(Append(Register("partner-acme", id), &first).ok());
  ASSERT_TRUE(Append(Register("partner-acme", id), &retry).ok());
  EXPECT_TRUE(retry.replayed());
  EXPECT_EQ(retry.events(0).position(), first.events(0).position());
  v1::AppendEventsRequest changed = Register("partner-acme", id);
  changed.mutable_events(0)
      ->mutable_payload()
      ->mutable_partner_registered()
      ->set_legal_name("Changed BV");
  grpc::Status s = Append(changed, &clash);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(s.error_message(), HasSubstr(id));
  EXPECT_EQ(server_->ledger().head_position(), 1u);
}

TEST_F(EventStoreServiceTest, InvalidInputIsInvalidArgumentNamingTheField) {
  v1::AppendEventsResponse resp;
  v1::AppendEventsRequest no_time = Register("partner-acme");
  no_time.mutable_events(0)->clear_occurred_at();
  grpc::Status s = Append(no_time, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("events[0].occurred_at"));

  v1::AppendEventsRequest bad_country = Register("partner-acme");
  bad_country.mutable_events(0)
      ->mutable_payload()
      ->mutable_partner_registered()
      ->set_country("Netherlands");
  s = Append(bad_country, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(),
              HasSubstr("events[0].payload.partner_registered.country"));

  v1::AppendEventsRequest derived = Register("deal-1");
  derived.mutable_events(0)
      ->mutable_payload()
      ->mutable_commission_accrued()
      ->set_revenue_id("r1");
  s = Append(derived, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("derived by the server"));
  EXPECT_EQ(server_->ledger().head_position(), 0u);
}

TEST_F(EventStoreServiceTest, ReadStreamPagesAndReadAllFilters) {
  v1::AppendEventsResponse resp;
  ASSERT_TRUE(Append(Register("partner-a"), &resp).ok());
  ASSERT_TRUE(Append(Register("partner-b"), &resp).ok());
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(Append(Update("partner-a"), &resp).ok());

  v1::ReadStreamRequest rs;
  rs.set_stream("partner-a");
  rs.set_max_count(2);
  v1::ReadStreamResponse page;
  grpc::ClientContext c1;
  ASSERT_TRUE(stub_->ReadStream(&c1, rs, &page).ok());
  ASSERT_EQ(page.events_size(), 2);
  EXPECT_EQ(page.events(1).revision(), 1u);
  EXPECT_FALSE(page.end_of_stream());
  EXPECT_EQ(page.next_revision(), 2u);
  EXPECT_EQ(page.last_revision(), 4u);
  EXPECT_EQ(page.events(0).payload().partner_registered().legal_name(),
            "Acme BV");
  EXPECT_EQ(page.events(0).actor(), "local");
  EXPECT_EQ(page.events(0).hash().size(), 32u);

  v1::ReadStreamRequest missing;
  missing.set_stream("partner-none");
  grpc::ClientContext c2;
  EXPECT_EQ(stub_->ReadStream(&c2, missing, &page).error_code(),
            grpc::StatusCode::NOT_FOUND);

  v1::ReadAllRequest ra;
  ra.mutable_filter()->add_stream_prefixes("partner-b");
  v1::ReadAllResponse all;
  grpc::ClientContext c3;
  ASSERT_TRUE(stub_->ReadAll(&c3, ra, &all).ok());
  ASSERT_EQ(all.events_size(), 1);
  EXPECT_EQ(all.events(0).position(), 2u);
  EXPECT_TRUE(all.end_of_log());
  EXPECT_EQ(all.head_position(), 6u);
}

TEST_F(EventStoreServiceTest, DigestAndVerifyChainOverTheWire) {
  v1::AppendEventsResponse resp;
  ASSERT_TRUE(Append(Register("partner-a"), &resp).ok());
  ASSERT_TRUE(Append(Update("partner-a"), &resp).ok());
  v1::GetDigestResponse digest;
  grpc::ClientContext c1;
  ASSERT_TRUE(stub_->GetDigest(&c1, v1::GetDigestRequest(), &digest).ok());
  EXPECT_EQ(digest.digest().position(), 2u);
  EXPECT_EQ(digest.hash_hex().size(), 64u);
  ASSERT_TRUE(Append(Update("partner-a"), &resp).ok());
  v1::VerifyChainRequest vr;
  *vr.mutable_expected() = digest.digest();
  v1::VerifyChainResponse verified;
  grpc::ClientContext c2;
  ASSERT_TRUE(stub_->VerifyChain(&c2, vr, &verified).ok());
  EXPECT_TRUE(verified.ok()) << verified.message();
  EXPECT_EQ(verified.verified_through(), 3u);
  vr.mutable_expected()->set_hash(std::string(32, '\x01'));
  grpc::ClientContext c3;
  ASSERT_TRUE(stub_->VerifyChain(&c3, vr, &verified).ok());
  EXPECT_FALSE(verified.ok());
  EXPECT_EQ(verified.first_bad_position(), 2u);
}

// Subscribe from 0 while appends continue: every event exactly once, in
// order, with one caught-up marker.
TEST_F(EventStoreServiceTest, SubscribeDeliversEveryEventOnceInOrderThenLive) {
  constexpr int kBefore = 300;  // more than one subscription page
  constexpr int kDuring = 300;
  v1::AppendEventsResponse resp;
  ASSERT_TRUE(Append(Register("partner-s"), &resp).ok());
  for (int i = 1; i < kBefore; ++i)
    ASSERT_TRUE(Append(Update("partner-s"), &resp).ok());

  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::SubscribeRequest req;
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
      stub_->Subscribe(&ctx, req);
  std::thread writer([&] {
    v1::AppendEventsResponse r;
    for (int i = 0; i < kDuring; ++i) {
      ASSERT_TRUE(Append(Update("partner-s"), &r).ok());
    }
  });
  uint64_t expected = 1;
  int caught_up = 0;
  v1::SubscribeResponse msg;
  while (expected <= kBefore + kDuring && reader->Read(&msg)) {
    if (msg.has_caught_up()) {
      ++caught_up;
      EXPECT_EQ(msg.caught_up().position(), expected - 1);
      continue;
    }
    ASSERT_TRUE(msg.has_event());
    ASSERT_EQ(msg.event().position(), expected);
    ++expected;
  }
  writer.join();
  EXPECT_EQ(expected, static_cast<uint64_t>(kBefore + kDuring + 1));
  EXPECT_EQ(caught_up, 1);
  ctx.TryCancel();
}

TEST_F(EventStoreServiceTest, FilteredSubscriptionSendsCheckpoints) {
  v1::AppendEventsResponse resp;
  ASSERT_TRUE(Append(Register("partner-a"), &resp).ok());
  for (int i = 0; i < 30; ++i)
    ASSERT_TRUE(Append(Update("partner-a"), &resp).ok());
  ASSERT_TRUE(Append(Register("partner-b"), &resp).ok());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::SubscribeRequest req;
  req.mutable_filter()->add_stream_prefixes("partner-b");
  req.set_checkpoint_interval(10);
  auto reader = stub_->Subscribe(&ctx, req);
  v1::SubscribeResponse msg;
  int events = 0, checkpoints = 0;
  while (reader->Read(&msg)) {
    if (msg.has_event()) {
      ++events;
      EXPECT_EQ(msg.event().stream(), "partner-b");
      EXPECT_EQ(msg.event().position(), 32u);
    }
    if (msg.has_checkpoint()) ++checkpoints;
    if (msg.has_caught_up()) break;
  }
  EXPECT_EQ(events, 1);
  EXPECT_EQ(checkpoints, 1);  // 31 unmatched events examined in one page
  ctx.TryCancel();
}

TEST(LedgerServerStart, RefusesNonLoopbackWithoutCredentials) {
  TempDir dir;
  ServerOptions o;
  o.listen = "0.0.0.0:0";
  o.ledger.data_dir = dir.Sub("data");
  absl::StatusOr<std::unique_ptr<LedgerServer>> s = LedgerServer::Start(o);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(), HasSubstr("loopback"));
}

}  // namespace
}  // namespace partnerledger::server

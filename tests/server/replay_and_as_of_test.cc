// Answers that describe states which existed: a retried append answers
// exactly what the original answered (derived events and commit position
// included), and an as-of position inside a request resolves to the end of
// the last whole request before it. Over gRPC, with the partnership rules.
#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "domain/partnership_sim.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "partnerledger/v1/query.grpc.pb.h"
#include "server/server.h"
#include "test_support.h"

namespace partnerledger::server {
namespace {

namespace sim = domain::testing;
using ::google::protobuf::util::MessageDifferencer;
using partnerledger::testing::NextUuid;
using partnerledger::testing::TempDir;
using ::testing::HasSubstr;

class ReplayAndAsOfTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }

  void Start() {
    server_.reset();
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.ledger.data_dir = dir_.Sub("data");
    o.ledger.clock = &clock_;
    absl::StatusOr<std::unique_ptr<LedgerServer>> s = LedgerServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    auto channel =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials());
    events_ = v1::EventStoreService::NewStub(channel);
    queries_ = v1::LedgerQueryService::NewStub(channel);
  }

  static v1::ProposedEvent Proposed(v1::EventPayload payload,
                                    const std::string& date) {
    v1::ProposedEvent e;
    e.set_event_id(NextUuid());
    e.mutable_occurred_at()->set_seconds(sim::DateUs(date) / 1'000'000 +
                                         12 * 3600);
    *e.mutable_payload() = std::move(payload);
    return e;
  }

  // One request; the clock moves one second before it, so each request has
  // its own recorded_at.
  grpc::Status Append(const v1::AppendEventsRequest& req,
                      v1::AppendEventsResponse* resp) {
    grpc::ClientContext ctx;
    clock_.Advance(1'000'000);
    return events_->AppendEvents(&ctx, req, resp);
  }

  v1::AppendEventsResponse MustAppend(const std::string& stream,
                                      std::vector<v1::EventPayload> payloads,
                                      const std::string& date = "2026-02-01") {
    v1::AppendEventsRequest req;
    req.set_stream(stream);
    for (v1::EventPayload& p : payloads) {
      *req.add_events() = Proposed(std::move(p), date);
    }
    v1::AppendEventsResponse resp;
    grpc::Status s = Append(req, &resp);
    EXPECT_TRUE(s.ok()) << stream << ": " << s.error_message();
    return resp;
  }

  static v1::EventPayload ProfileUpdated() {
    v1::EventPayload p;
    p.mutable_partner_profile_updated()->set_pitch("We refer SaaS.");
    return p;
  }

  // C refers SaaS deals to F (prime F): F owes C 25% commission.
  void LoadDealReadyForRevenue() {
    MustAppend("partner-C", {sim::PartnerRegistered("C Consulting")});
    MustAppend("partner-F", {sim::PartnerRegistered("F Software")});
    MustAppend(
        "agreement-CF",
        {sim::AgreementSigned(
            "C", "F", {sim::Schedule(v1::OFFERING_CLASS_SAAS, 2500, 1250)})});
    sim::DealSpec d;
    d.agreement = "CF";
    MustAppend("deal-D1", {sim::DealOriginated(d)});
    MustAppend("deal-D1", {sim::MarginAgreed()});
    MustAppend("deal-D1", {sim::DealClosed(v1::DEAL_OUTCOME_WON)});
  }

  v1::GetObligationsResponse ObligationsAsOf(uint64_t position) {
    v1::GetObligationsRequest req;
    req.mutable_as_of()->set_position(position);
    v1::GetObligationsResponse r;
    grpc::ClientContext ctx;
    grpc::Status s = queries_->GetObligations(&ctx, req, &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return r;
  }

  int64_t OutstandingFC(const v1::GetObligationsResponse& r) {
    for (const v1::ObligationRow& row : r.obligations()) {
      if (row.payer() == "F" && row.payee() == "C" && row.currency() == "EUR") {
        return row.outstanding_minor();
      }
    }
    return 0;
  }

  TempDir dir_;
  FakeClock clock_{1'767'225'600'000'000};
  std::unique_ptr<LedgerServer> server_;
  std::unique_ptr<v1::EventStoreService::Stub> events_;
  std::unique_ptr<v1::LedgerQueryService::Stub> queries_;
};

// A retried append answers exactly what the original answered: the
// derived commission too, and the commit position after it, so a client
// that reads as of that position sees the commission.
TEST_F(ReplayAndAsOfTest, RetryReturnsTheOriginalResponseWithDerivedEvents) {
  LoadDealReadyForRevenue();
  v1::AppendEventsRequest booking;
  booking.set_stream("deal-D1");
  *booking.add_events() = Proposed(
      sim::RevenueBooked("R1", "EUR", 120'000'00, "2026-02-01"), "2026-02-01");
  v1::AppendEventsResponse original;
  ASSERT_TRUE(Append(booking, &original).ok());
  ASSERT_EQ(original.events_size(), 2);
  EXPECT_EQ(original.events(1).type(), "CommissionAccrued");
  EXPECT_EQ(original.commit_position(), 8u);

  // Answered from the group still in memory, then from the store after
  // another append, then after a restart: always the same answer.
  v1::AppendEventsResponse retry;
  ASSERT_TRUE(Append(booking, &retry).ok());
  MustAppend("partner-C", {ProfileUpdated()});
  v1::AppendEventsResponse from_store;
  ASSERT_TRUE(Append(booking, &from_store).ok());
  Start();
  v1::AppendEventsResponse after_restart;
  ASSERT_TRUE(Append(booking, &after_restart).ok());

  v1::AppendEventsResponse expected = original;
  expected.set_replayed(true);
  for (const v1::AppendEventsResponse* r :
       {&retry, &from_store, &after_restart}) {
    EXPECT_TRUE(MessageDifferencer::Equals(*r, expected))
        << r->DebugString() << "\nvs\n"
        << expected.DebugString();
  }
  EXPECT_EQ(OutstandingFC(ObligationsAsOf(after_restart.commit_position())),
            30'000'00);
}

// A multi-event append replays whole; a request made of some of its events
// is not a retry of it.
TEST_F(ReplayAndAsOfTest, MultiEventRetryIsWholeAndASubsetIsAlreadyExists) {
  LoadDealReadyForRevenue();
  v1::AppendEventsRequest two;
  two.set_stream("deal-D1");
  *two.add_events() = Proposed(
      sim::RevenueBooked("R1", "EUR", 120'000'00, "2026-02-01"), "2026-02-01");
  *two.add_events() = Proposed(
      sim::RevenueBooked("R2", "EUR", 40'000'00, "2026-02-01"), "2026-02-01");
  v1::AppendEventsResponse original;
  ASSERT_TRUE(Append(two, &original).ok());
  ASSERT_EQ(original.events_size(), 4);
  EXPECT_EQ(original.events(0).position(), 7u);
  EXPECT_EQ(original.events(3).position(), 10u);
  EXPECT_EQ(original.commit_position(), 10u);
  EXPECT_EQ(original.next_expected_revision(), 6u);

  MustAppend("partner-C", {ProfileUpdated()});
  v1::AppendEventsResponse retry;
  ASSERT_TRUE(Append(two, &retry).ok());
  v1::AppendEventsResponse expected = original;
  expected.set_replayed(true);
  EXPECT_TRUE(MessageDifferencer::Equals(retry, expected))
      << retry.DebugString();

  for (int keep : {0, 1}) {
    v1::AppendEventsRequest part = two;
    part.clear_events();
    *part.add_events() = two.events(keep);
    v1::AppendEventsResponse resp;
    grpc::Status s = Append(part, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << keep;
    EXPECT_THAT(
        s.error_message(),
        HasSubstr("a retry must resend the original request unchanged"));
  }
  EXPECT_EQ(server_->ledger().head_position(), 11u);
}

// Positions inside a request (between a booking and its commission, or
// between the two bookings of one append) resolve to the end of the last
// whole request before it, and the answer says so.
TEST_F(ReplayAndAsOfTest, AsOfInsideARequestResolvesToTheLastWholeRequest) {
  LoadDealReadyForRevenue();
  v1::AppendEventsRequest two;
  two.set_stream("deal-D1");
  *two.add_events() = Proposed(
      sim::RevenueBooked("R1", "EUR", 120'000'00, "2026-02-01"), "2026-02-01");
  *two.add_events() = Proposed(
      sim::RevenueBooked("R2", "EUR", 40'000'00, "2026-02-01"), "2026-02-01");
  v1::AppendEventsResponse booked;
  ASSERT_TRUE(Append(two, &booked).ok());
  ASSERT_EQ(booked.commit_position(), 10u);  // 7 R1, 8 its commission, 9 R2, 10
  v1::AppendEventsResponse single = MustAppend(
      "deal-D1", {sim::RevenueBooked("R3", "EUR", 4'000'00, "2026-02-01")});
  ASSERT_EQ(single.commit_position(), 12u);  // 11 R3, 12 its commission

  struct Case {
    uint64_t asked, resolved;
    int64_t outstanding;
  };
  for (const Case& c : std::vector<Case>{{6, 6, 0},
                                         {7, 6, 0},
                                         {8, 6, 0},
                                         {9, 6, 0},
                                         {10, 10, 40'000'00},
                                         {11, 10, 40'000'00},
                                         {12, 12, 41'000'00},
                                         {99, 12, 41'000'00}}) {
    v1::GetObligationsResponse r = ObligationsAsOf(c.asked);
    EXPECT_EQ(r.as_of_position(), c.resolved) << "as of " << c.asked;
    EXPECT_EQ(OutstandingFC(r), c.outstanding) << "as of " << c.asked;
  }

  // A recorded time lands on whole requests by itself: every event of a
  // commit group shares its recorded_at.
  v1::ReadAllRequest ra;
  ra.set_from_position(7);
  ra.set_max_count(6);
  v1::ReadAllResponse page;
  grpc::ClientContext c0;
  ASSERT_TRUE(events_->ReadAll(&c0, ra, &page).ok());
  ASSERT_EQ(page.events_size(), 6);
  EXPECT_EQ(page.events(0).recorded_at().seconds(),
            page.events(3).recorded_at().seconds());
  v1::GetObligationsRequest by_time;
  *by_time.mutable_as_of()->mutable_recorded_at() =
      page.events(0).recorded_at();
  v1::GetObligationsResponse at_time;
  grpc::ClientContext c1;
  ASSERT_TRUE(queries_->GetObligations(&c1, by_time, &at_time).ok());
  EXPECT_EQ(at_time.as_of_position(), 10u);
  EXPECT_EQ(OutstandingFC(at_time), 40'000'00);
  by_time.mutable_as_of()->mutable_recorded_at()->set_seconds(
      page.events(0).recorded_at().seconds() - 1);
  grpc::ClientContext c2;
  ASSERT_TRUE(queries_->GetObligations(&c2, by_time, &at_time).ok());
  EXPECT_EQ(at_time.as_of_position(), 6u);

  // Other queries resolve the same way.
  v1::GetDealRequest dr;
  dr.set_deal_id("D1");
  dr.mutable_as_of()->set_position(9);
  v1::GetDealResponse deal;
  grpc::ClientContext c3;
  ASSERT_TRUE(queries_->GetDeal(&c3, dr, &deal).ok());
  EXPECT_EQ(deal.as_of_position(), 6u);
}

}  // namespace
}  // namespace partnerledger::server

// LedgerQueryService end to end over gRPC: the worked example of the
// partnership domain with its exact figures, as-of reads, rejections that
// append nothing, and the projection rebuild.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <vector>

#include "domain/partnership_sim.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "partnerledger/v1/query.grpc.pb.h"
#include "server/server.h"
#include "test_support.h"

namespace partnerledger::server {
namespace {

namespace sim = domain::testing;
using partnerledger::testing::NextUuid;
using partnerledger::testing::TempDir;
using ::testing::HasSubstr;

class QueryServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
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

  // Appends one event; occurred_at is `date` at noon UTC.
  grpc::Status Append(const std::string& stream, v1::EventPayload payload,
                      const std::string& date = "2026-01-15",
                      v1::AppendEventsResponse* out = nullptr) {
    v1::AppendEventsRequest req;
    req.set_stream(stream);
    v1::ProposedEvent* e = req.add_events();
    e->set_event_id(NextUuid());
    e->mutable_occurred_at()->set_seconds(sim::DateUs(date) / 1'000'000 +
                                          12 * 3600);
    *e->mutable_payload() = std::move(payload);
    v1::AppendEventsResponse resp;
    grpc::ClientContext ctx;
    clock_.Advance(1'000'000);
    grpc::Status s = events_->AppendEvents(&ctx, req, out ? out : &resp);
    return s;
  }

  void MustAppend(const std::string& stream, v1::EventPayload payload,
                  const std::string& date = "2026-01-15") {
    grpc::Status s = Append(stream, std::move(payload), date);
    ASSERT_TRUE(s.ok()) << stream << ": " << s.error_message();
  }

  // The worked example (DESIGN/issue): C and F, EUR and USD.
  void LoadWorkedExample() {
    MustAppend("partner-C", sim::PartnerRegistered("C Consulting"));
    MustAppend("partner-F", sim::PartnerRegistered("F Software"));
    MustAppend("agreement-CF",
               sim::AgreementSigned(
                   "C", "F",
                   {sim::Schedule(v1::OFFERING_CLASS_PROJECT, 2000, 1000),
                    sim::Schedule(v1::OFFERING_CLASS_SAAS, 2500, 1250)}));
    sim::DealSpec d1;
    d1.agreement = "CF";
    d1.originator = "C";
    d1.provider = "F";
    d1.prime = "F";
    d1.offering_class = v1::OFFERING_CLASS_SAAS;
    d1.currency = "EUR";
    d1.start_date = "2026-02-01";
    MustAppend("deal-D1", sim::DealOriginated(d1));
    MustAppend("deal-D1", sim::MarginAgreed());
    MustAppend("deal-D1", sim::DealClosed(v1::DEAL_OUTCOME_WON));
    MustAppend("deal-D1",
               sim::RevenueBooked("R1", "EUR", 120'000'00, "2026-02-01"),
               "2026-02-01");
    MustAppend("deal-D1",
               sim::RevenueBooked("R2", "EUR", 120'000'00, "2027-02-01"),
               "2027-02-01");
    MustAppend("deal-D1", sim::RevenueReversed("R1", "EUR", 12'000'00),
               "2027-02-10");
    MustAppend("settlement-S1",
               sim::SettlementRecorded("F", "C", "EUR", 20'000'00),
               "2027-02-20");
    sim::DealSpec d2;
    d2.agreement = "CF";
    d2.originator = "F";
    d2.provider = "C";
    d2.prime = "F";
    d2.customer = "cust-2";
    d2.offering_class = v1::OFFERING_CLASS_PROJECT;
    d2.currency = "USD";
    d2.start_date = "2026-03-01";
    MustAppend("deal-D2", sim::DealOriginated(d2));
    MustAppend("deal-D2", sim::MarginAgreed());
    MustAppend("deal-D2", sim::DealClosed(v1::DEAL_OUTCOME_WON));
    MustAppend("deal-D2",
               sim::RevenueBooked("R3", "USD", 50'000'00, "2026-03-01"),
               "2026-03-01");
  }

  const v1::ObligationRow* Find(const v1::GetObligationsResponse& r,
                                const std::string& payer,
                                const std::string& currency) {
    for (const v1::ObligationRow& row : r.obligations()) {
      if (row.payer() == payer && row.currency() == currency) return &row;
    }
    return nullptr;
  }

  uint64_t head() { return server_->ledger().head_position(); }

  TempDir dir_;
  FakeClock clock_{1'767'225'600'000'000};
  std::unique_ptr<LedgerServer> server_;
  std::unique_ptr<v1::EventStoreService::Stub> events_;
  std::unique_ptr<v1::LedgerQueryService::Stub> queries_;
};

TEST_F(QueryServiceTest, WorkedExampleObligationsHaveTheExactFigures) {
  LoadWorkedExample();
  v1::GetObligationsResponse r;
  grpc::ClientContext ctx;
  ASSERT_TRUE(
      queries_->GetObligations(&ctx, v1::GetObligationsRequest(), &r).ok());
  EXPECT_EQ(r.as_of_position(), head());
  const v1::ObligationRow* eur = Find(r, "F", "EUR");
  ASSERT_NE(eur, nullptr);
  EXPECT_EQ(eur->payee(), "C");
  EXPECT_EQ(eur->kind(), v1::OBLIGATION_KIND_COMMISSION);
  EXPECT_EQ(eur->accrued_minor(), 30'000'00 + 15'000'00);
  EXPECT_EQ(eur->reversed_minor(), 3'000'00);
  EXPECT_EQ(eur->settled_minor(), 20'000'00);
  EXPECT_EQ(eur->on_hold_minor(), 0);
  EXPECT_EQ(eur->outstanding_minor(), 22'000'00);
  const v1::ObligationRow* usd = Find(r, "F", "USD");
  ASSERT_NE(usd, nullptr);
  EXPECT_EQ(usd->payee(), "C");
  EXPECT_EQ(usd->kind(), v1::OBLIGATION_KIND_PASS_THROUGH);
  EXPECT_EQ(usd->accrued_minor(), 40'000'00);
  EXPECT_EQ(usd->outstanding_minor(), 40'000'00);
  EXPECT_EQ(r.obligations_size(), 2);
  // Netted per pair and currency: C < F, so a = C; F owes C.
  ASSERT_EQ(r.net_size(), 2);
  for (const v1::NetObligation& n : r.net()) {
    EXPECT_EQ(n.partner_a(), "C");
    EXPECT_EQ(n.net_payer(), "F");
    EXPECT_EQ(n.net_payee(), "C");
    EXPECT_EQ(n.net_minor(), n.currency() == "EUR" ? 22'000'00 : 40'000'00);
    EXPECT_EQ(n.a_owes_b_minor(), -n.net_minor());
  }
}

TEST_F(QueryServiceTest, WorkedExampleReferralBalanceAndDeal) {
  LoadWorkedExample();
  v1::GetReferralBalanceRequest req;
  req.set_partner_a("C");
  req.set_partner_b("F");
  v1::GetReferralBalanceResponse r;
  grpc::ClientContext ctx;
  ASSERT_TRUE(queries_->GetReferralBalance(&ctx, req, &r).ok());
  EXPECT_EQ(r.a_to_b().deals_originated(), 1);
  EXPECT_EQ(r.a_to_b().deals_won(), 1);
  ASSERT_EQ(r.a_to_b().money_size(), 1);
  EXPECT_EQ(r.a_to_b().money(0).currency(), "EUR");
  EXPECT_EQ(r.a_to_b().money(0).revenue_minor(), 228'000'00);
  EXPECT_EQ(r.a_to_b().money(0).margin_minor(), 42'000'00);
  EXPECT_EQ(r.b_to_a().deals_originated(), 1);
  ASSERT_EQ(r.b_to_a().money_size(), 1);
  EXPECT_EQ(r.b_to_a().money(0).currency(), "USD");
  EXPECT_EQ(r.b_to_a().money(0).revenue_minor(), 50'000'00);
  EXPECT_EQ(r.b_to_a().money(0).margin_minor(), 10'000'00);
  EXPECT_DOUBLE_EQ(r.reciprocity_ratio(), 1.0);

  v1::GetDealRequest dr;
  dr.set_deal_id("D1");
  v1::GetDealResponse deal;
  grpc::ClientContext c2;
  ASSERT_TRUE(queries_->GetDeal(&c2, dr, &deal).ok());
  EXPECT_EQ(deal.status(), v1::DEAL_STATUS_WON);
  EXPECT_EQ(deal.margin_source(), v1::MARGIN_SOURCE_AGREEMENT);
  ASSERT_EQ(deal.bands_size(), 2);
  EXPECT_EQ(deal.bands(0).rate_bp(), 2500);
  EXPECT_EQ(deal.bands(1).rate_bp(), 1250);
  ASSERT_EQ(deal.lines_size(), 2);
  EXPECT_EQ(deal.lines(0).revenue_id(), "R1");
  EXPECT_EQ(deal.lines(0).contract_year(), 1);
  EXPECT_EQ(deal.lines(0).margin_minor(), 27'000'00);
  EXPECT_EQ(deal.lines(1).contract_year(), 2);
  EXPECT_EQ(deal.lines(1).rate_bp(), 1250);
  EXPECT_EQ(deal.lines(1).margin_minor(), 15'000'00);
  dr.set_deal_id("nope");
  grpc::ClientContext c3;
  EXPECT_EQ(queries_->GetDeal(&c3, dr, &deal).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(QueryServiceTest, StatementHasOpeningMovementsClosingAndLines) {
  LoadWorkedExample();
  auto statement = [&](const std::string& period) {
    v1::GetStatementRequest req;
    req.set_payer("F");
    req.set_payee("C");
    req.set_currency("EUR");
    req.set_period(period);
    v1::GetStatementResponse r;
    grpc::ClientContext ctx;
    EXPECT_TRUE(queries_->GetStatement(&ctx, req, &r).ok());
    return r;
  };
  v1::GetStatementResponse feb26 = statement("2026-02");
  EXPECT_EQ(feb26.opening_minor(), 0);
  EXPECT_EQ(feb26.accrued_minor(), 30'000'00);
  EXPECT_EQ(feb26.closing_minor(), 30'000'00);
  ASSERT_EQ(feb26.lines_size(), 1);
  EXPECT_EQ(feb26.lines(0).type(), v1::STATEMENT_LINE_TYPE_ACCRUAL);
  EXPECT_EQ(feb26.lines(0).revenue_id(), "R1");
  EXPECT_EQ(feb26.lines(0).rate_bp(), 2500);
  v1::GetStatementResponse feb27 = statement("2027-02");
  EXPECT_EQ(feb27.opening_minor(), 30'000'00);
  EXPECT_EQ(feb27.accrued_minor(), 15'000'00);
  EXPECT_EQ(feb27.reversed_minor(), 3'000'00);
  EXPECT_EQ(feb27.settled_minor(), 20'000'00);
  EXPECT_EQ(feb27.closing_minor(), 22'000'00);
  EXPECT_EQ(feb27.lines_size(), 3);
}

TEST_F(QueryServiceTest, AsOfPositionAndTimeReproducePastFigures) {
  LoadWorkedExample();
  // Find the position right after R1 was booked (with its commission).
  v1::ReadAllRequest ra;
  ra.mutable_filter()->add_event_types("CommissionAccrued");
  v1::ReadAllResponse accruals;
  grpc::ClientContext c0;
  ASSERT_TRUE(events_->ReadAll(&c0, ra, &accruals).ok());
  ASSERT_EQ(accruals.events_size(), 3);
  const uint64_t after_r1 = accruals.events(0).position();
  v1::GetObligationsRequest req;
  req.mutable_as_of()->set_position(after_r1);
  v1::GetObligationsResponse past;
  grpc::ClientContext c1;
  ASSERT_TRUE(queries_->GetObligations(&c1, req, &past).ok());
  EXPECT_EQ(past.as_of_position(), after_r1);
  ASSERT_EQ(past.obligations_size(), 1);
  EXPECT_EQ(past.obligations(0).outstanding_minor(), 30'000'00);
  // The same point named by its recorded time.
  v1::GetObligationsRequest by_time;
  *by_time.mutable_as_of()->mutable_recorded_at() =
      accruals.events(0).recorded_at();
  v1::GetObligationsResponse past2;
  grpc::ClientContext c2;
  ASSERT_TRUE(queries_->GetObligations(&c2, by_time, &past2).ok());
  EXPECT_EQ(past2.as_of_position(), after_r1);
  EXPECT_EQ(past2.SerializeAsString(), past.SerializeAsString());
  // Before anything: empty.
  req.mutable_as_of()->set_position(0);
  grpc::ClientContext c3;
  ASSERT_TRUE(queries_->GetObligations(&c3, req, &past).ok());
  EXPECT_EQ(past.as_of_position(), 0u);
  EXPECT_EQ(past.obligations_size(), 0);
}

TEST_F(QueryServiceTest, DomainRejectionsHaveExactCodesAndAppendNothing) {
  LoadWorkedExample();
  const uint64_t before = head();
  struct Case {
    std::string stream;
    v1::EventPayload payload;
    grpc::StatusCode code;
    std::string text;
  };
  sim::DealSpec unknown;
  unknown.agreement = "nope";
  std::vector<Case> cases = {
      {"partner-C", sim::PartnerRegistered("again"),
       grpc::StatusCode::ALREADY_EXISTS, "C"},
      {"deal-D9", sim::DealOriginated(unknown), grpc::StatusCode::NOT_FOUND,
       "nope"},
      {"deal-D1", sim::RevenueBooked("R1", "EUR", 100, "2026-03-01"),
       grpc::StatusCode::ALREADY_EXISTS, "R1"},
      {"deal-D1", sim::RevenueBooked("R7", "USD", 100, "2026-03-01"),
       grpc::StatusCode::INVALID_ARGUMENT, "currency"},
      {"deal-D1", sim::RevenueReversed("R1", "EUR", 108'000'01),
       grpc::StatusCode::FAILED_PRECONDITION, "R1"},
      {"deal-D1", sim::DealClosed(v1::DEAL_OUTCOME_LOST),
       grpc::StatusCode::FAILED_PRECONDITION, "closed"},
      {"settlement-S2", sim::SettlementRecorded("F", "C", "EUR", 22'000'01),
       grpc::StatusCode::FAILED_PRECONDITION, "outstanding"},
  };
  for (Case& c : cases) {
    grpc::Status s = Append(c.stream, c.payload);
    EXPECT_EQ(s.error_code(), c.code) << c.stream << ": " << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr(c.text));
  }
  EXPECT_EQ(head(), before);
}

TEST_F(QueryServiceTest, ConflictPutsTheDealOnHoldAndHealthReportsIt) {
  LoadWorkedExample();
  MustAppend("conflict-K1", sim::ConflictRaised("CF", "D1"), "2027-03-01");
  v1::GetObligationsRequest req;
  req.set_currency("EUR");
  v1::GetObligationsResponse r;
  grpc::ClientContext c1;
  ASSERT_TRUE(queries_->GetObligations(&c1, req, &r).ok());
  ASSERT_EQ(r.obligations_size(), 1);
  EXPECT_EQ(r.obligations(0).on_hold_minor(), 22'000'00);
  EXPECT_EQ(r.obligations(0).outstanding_minor(), 22'000'00);
  // Nothing can be settled while it is held.
  grpc::Status s =
      Append("settlement-S3", sim::SettlementRecorded("F", "C", "EUR", 1));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  v1::ListConflictsRequest lr;
  v1::ListConflictsResponse conflicts;
  grpc::ClientContext c2;
  ASSERT_TRUE(queries_->ListConflicts(&c2, lr, &conflicts).ok());
  EXPECT_EQ(conflicts.open(), 1);
  ASSERT_EQ(conflicts.conflicts_size(), 1);
  EXPECT_EQ(conflicts.conflicts(0).conflict_id(), "K1");
  EXPECT_EQ(conflicts.conflicts(0).deal_id(), "D1");

  v1::GetPartnershipHealthRequest hr;
  hr.set_partner_a("C");
  hr.set_partner_b("F");
  v1::GetPartnershipHealthResponse health;
  grpc::ClientContext c3;
  ASSERT_TRUE(queries_->GetPartnershipHealth(&c3, hr, &health).ok());
  ASSERT_EQ(health.lines_size(), 7);
  EXPECT_EQ(health.lines(0).pillar(), v1::PILLAR_MARGINS);
  EXPECT_EQ(health.lines(0).status(), v1::HEALTH_STATUS_OK);
  EXPECT_EQ(health.lines(2).pillar(), v1::PILLAR_DOCUMENTATION);
  EXPECT_EQ(health.lines(2).status(), v1::HEALTH_STATUS_WARN);  // no SoW
  EXPECT_EQ(health.lines(4).pillar(), v1::PILLAR_BIDIRECTIONAL);
  EXPECT_EQ(health.lines(4).status(), v1::HEALTH_STATUS_OK);
  EXPECT_EQ(health.lines(6).pillar(), v1::PILLAR_CONFLICTS);
  EXPECT_EQ(health.lines(6).status(), v1::HEALTH_STATUS_FAIL);
  EXPECT_THAT(health.lines(6).detail(), HasSubstr("1 open conflict"));

  MustAppend("conflict-K1", sim::ConflictResolved(), "2027-03-05");
  grpc::ClientContext c4;
  ASSERT_TRUE(queries_->GetObligations(&c4, req, &r).ok());
  EXPECT_EQ(r.obligations(0).on_hold_minor(), 0);
}

TEST_F(QueryServiceTest, RegistrationOverlapIsDerivedInTheSameAppend) {
  LoadWorkedExample();
  // F originates a deal for the customer C already registered with F as
  // provider... use a third partner as the second originator.
  MustAppend("partner-G", sim::PartnerRegistered("G"));
  MustAppend("agreement-GF", sim::AgreementSigned("G", "F"));
  sim::DealSpec first;
  first.agreement = "CF";
  first.customer = "cust-9";
  MustAppend("deal-D3", sim::DealOriginated(first));
  sim::DealSpec second = first;
  second.agreement = "GF";
  second.originator = "G";
  v1::AppendEventsResponse resp;
  ASSERT_TRUE(
      Append("deal-D4", sim::DealOriginated(second), "2026-01-15", &resp).ok());
  ASSERT_EQ(resp.events_size(), 2);
  EXPECT_EQ(resp.events(1).type(), "ConflictRaised");
  EXPECT_TRUE(resp.events(1).derived());
  EXPECT_EQ(resp.events(1).position(), resp.events(0).position() + 1);
  EXPECT_THAT(resp.events(1).stream(), HasSubstr("conflict-"));
}

TEST_F(QueryServiceTest, RebuildFromTheLogIsIdenticalToTheLiveProjections) {
  LoadWorkedExample();
  MustAppend("conflict-K1", sim::ConflictRaised("CF", "D1"), "2027-03-01");
  MustAppend("agreement-CF", [] {
    v1::EventPayload p;
    p.mutable_satisfaction_recorded()->set_subject(
        v1::SATISFACTION_SUBJECT_CUSTOMER);
    p.mutable_satisfaction_recorded()->set_respondent("cust-1");
    p.mutable_satisfaction_recorded()->set_score(8);
    p.mutable_satisfaction_recorded()->set_period("2027-03");
    return p;
  }());
  v1::RebuildProjectionsResponse r;
  grpc::ClientContext ctx;
  ASSERT_TRUE(
      queries_->RebuildProjections(&ctx, v1::RebuildProjectionsRequest(), &r)
          .ok());
  EXPECT_TRUE(r.identical()) << r.first_difference();
  EXPECT_EQ(r.as_of_position(), head());
  EXPECT_EQ(r.events_replayed(), head());
  EXPECT_GT(r.keys_compared(), 50u);
}

TEST_F(QueryServiceTest, QueryArgumentsAreValidated) {
  v1::GetStatementRequest req;
  req.set_payer("F");
  req.set_payee("C");
  req.set_currency("EUR");
  req.set_period("2026-13");
  v1::GetStatementResponse r;
  grpc::ClientContext ctx;
  grpc::Status s = queries_->GetStatement(&ctx, req, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("period"));
  v1::GetReferralBalanceRequest rb;
  rb.set_partner_a("C");
  v1::GetReferralBalanceResponse rr;
  grpc::ClientContext c2;
  s = queries_->GetReferralBalance(&c2, rb, &rr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("partner_b"));
}

// Partner-level filters of GetObligations, each with the exact rows.
TEST_F(QueryServiceTest, ObligationsFilterByPayerPayeeKindAndCurrency) {
  LoadWorkedExample();
  // D3: F brings C a SaaS customer, C is prime: C owes F a commission.
  sim::DealSpec d3;
  d3.agreement = "CF";
  d3.originator = "F";
  d3.provider = "C";
  d3.prime = "C";
  d3.customer = "cust-3";
  d3.offering_class = v1::OFFERING_CLASS_SAAS;
  d3.currency = "EUR";
  d3.start_date = "2026-04-01";
  MustAppend("deal-D3", sim::DealOriginated(d3));
  MustAppend("deal-D3", sim::MarginAgreed());
  MustAppend("deal-D3", sim::DealClosed(v1::DEAL_OUTCOME_WON));
  MustAppend("deal-D3",
             sim::RevenueBooked("R4", "EUR", 10'000'00, "2026-04-01"),
             "2026-04-01");
  auto query = [&](const std::function<void(v1::GetObligationsRequest*)>& set) {
    v1::GetObligationsRequest req;
    set(&req);
    v1::GetObligationsResponse r;
    grpc::ClientContext ctx;
    grpc::Status s = queries_->GetObligations(&ctx, req, &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return r;
  };
  v1::GetObligationsResponse by_payer =
      query([](auto* q) { q->set_payer("C"); });
  ASSERT_EQ(by_payer.obligations_size(), 1);
  EXPECT_EQ(by_payer.obligations(0).payee(), "F");
  EXPECT_EQ(by_payer.obligations(0).currency(), "EUR");
  EXPECT_EQ(by_payer.obligations(0).kind(), v1::OBLIGATION_KIND_COMMISSION);
  EXPECT_EQ(by_payer.obligations(0).accrued_minor(), 2'500'00);
  EXPECT_EQ(by_payer.obligations(0).outstanding_minor(), 2'500'00);
  ASSERT_EQ(by_payer.net_size(), 1);
  EXPECT_EQ(by_payer.net(0).net_payer(), "C");
  EXPECT_EQ(by_payer.net(0).net_minor(), 2'500'00);

  v1::GetObligationsResponse by_payee =
      query([](auto* q) { q->set_payee("C"); });
  ASSERT_EQ(by_payee.obligations_size(), 2);
  for (const v1::ObligationRow& row : by_payee.obligations()) {
    EXPECT_EQ(row.payer(), "F");
    EXPECT_EQ(row.outstanding_minor(),
              row.currency() == "EUR" ? 22'000'00 : 40'000'00);
  }
  v1::GetObligationsResponse pass_through = query([](auto* q) {
    q->set_payer("F");
    q->set_kind(v1::OBLIGATION_KIND_PASS_THROUGH);
  });
  ASSERT_EQ(pass_through.obligations_size(), 1);
  EXPECT_EQ(pass_through.obligations(0).currency(), "USD");
  EXPECT_EQ(pass_through.obligations(0).outstanding_minor(), 40'000'00);

  v1::GetObligationsResponse eur_to_c = query([](auto* q) {
    q->set_payee("C");
    q->set_currency("EUR");
  });
  ASSERT_EQ(eur_to_c.obligations_size(), 1);
  EXPECT_EQ(eur_to_c.obligations(0).outstanding_minor(), 22'000'00);
  // Both directions in EUR net: F owes C 22,000.00 - 2,500.00.
  v1::GetObligationsResponse eur =
      query([](auto* q) { q->set_currency("EUR"); });
  EXPECT_EQ(eur.obligations_size(), 2);
  ASSERT_EQ(eur.net_size(), 1);
  EXPECT_EQ(eur.net(0).net_payer(), "F");
  EXPECT_EQ(eur.net(0).net_payee(), "C");
  EXPECT_EQ(eur.net(0).net_minor(), 19'500'00);
  // Filters combine: F's side, paid by C.
  v1::GetObligationsResponse both = query([](auto* q) {
    q->set_partner_id("F");
    q->set_payer("C");
  });
  ASSERT_EQ(both.obligations_size(), 1);
  EXPECT_EQ(both.obligations(0).accrued_minor(), 2'500'00);
}

// An unknown id or a malformed currency is an error, never an empty answer;
// a known partner that owes nothing is OK and empty.
TEST_F(QueryServiceTest, UnknownIdsAreNotFoundAndMalformedCurrenciesInvalid) {
  LoadWorkedExample();
  auto expect = [](grpc::Status s, grpc::StatusCode code,
                   const std::string& text) {
    EXPECT_EQ(s.error_code(), code) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr(text));
  };
  {
    v1::GetReferralBalanceRequest q;
    q.set_partner_a("C");
    q.set_partner_b("NOPE");
    v1::GetReferralBalanceResponse r;
    grpc::ClientContext ctx;
    expect(queries_->GetReferralBalance(&ctx, q, &r),
           grpc::StatusCode::NOT_FOUND, "partner_b: unknown partner 'NOPE'");
    // F did not exist yet at position 1.
    q.set_partner_b("F");
    q.mutable_as_of()->set_position(1);
    grpc::ClientContext ctx2;
    expect(queries_->GetReferralBalance(&ctx2, q, &r),
           grpc::StatusCode::NOT_FOUND,
           "partner_b: unknown partner 'F' at position 1");
  }
  v1::GetStatementRequest st;
  st.set_payer("NOPE");
  st.set_payee("C");
  st.set_currency("EUR");
  st.set_period("2027-02");
  v1::GetStatementResponse sr;
  {
    grpc::ClientContext ctx;
    expect(queries_->GetStatement(&ctx, st, &sr), grpc::StatusCode::NOT_FOUND,
           "payer: unknown partner 'NOPE'");
  }
  st.set_payer("F");
  for (const char* bad : {"eur", "EURO", "XXX", "E1R"}) {
    SCOPED_TRACE(bad);
    st.set_currency(bad);
    grpc::ClientContext ctx;
    expect(queries_->GetStatement(&ctx, st, &sr),
           grpc::StatusCode::INVALID_ARGUMENT,
           std::string("currency: \"") + bad + "\" is not an ISO 4217");
    v1::GetObligationsRequest oq;
    oq.set_currency(bad);
    v1::GetObligationsResponse orr;
    grpc::ClientContext ctx2;
    expect(queries_->GetObligations(&ctx2, oq, &orr),
           grpc::StatusCode::INVALID_ARGUMENT, "currency: \"");
  }
  for (const char* field : {"partner_id", "payer", "payee"}) {
    SCOPED_TRACE(field);
    v1::GetObligationsRequest oq;
    oq.GetReflection()->SetString(
        &oq, oq.GetDescriptor()->FindFieldByName(field), "NOPE");
    v1::GetObligationsResponse orr;
    grpc::ClientContext ctx;
    expect(queries_->GetObligations(&ctx, oq, &orr),
           grpc::StatusCode::NOT_FOUND,
           std::string(field) + ": unknown partner 'NOPE'");
  }
  {
    v1::GetSatisfactionRequest q;
    q.set_agreement_id("NOPE");
    v1::GetSatisfactionResponse r;
    grpc::ClientContext ctx;
    expect(queries_->GetSatisfaction(&ctx, q, &r), grpc::StatusCode::NOT_FOUND,
           "agreement_id: unknown agreement 'NOPE'");
  }
  {
    v1::GetPartnershipHealthRequest q;
    q.set_partner_a("NOPE");
    q.set_partner_b("C");
    v1::GetPartnershipHealthResponse r;
    grpc::ClientContext ctx;
    expect(queries_->GetPartnershipHealth(&ctx, q, &r),
           grpc::StatusCode::NOT_FOUND, "partner_a: unknown partner 'NOPE'");
  }
  {
    v1::ListConflictsRequest q;
    q.set_partner_id("NOPE");
    v1::ListConflictsResponse r;
    grpc::ClientContext ctx;
    expect(queries_->ListConflicts(&ctx, q, &r), grpc::StatusCode::NOT_FOUND,
           "partner_id: unknown partner 'NOPE'");
  }
  // A registered partner with nothing owed: OK and empty.
  MustAppend("partner-Z", sim::PartnerRegistered("Zeta"));
  v1::GetObligationsRequest oq;
  oq.set_partner_id("Z");
  v1::GetObligationsResponse orr;
  grpc::ClientContext ctx;
  ASSERT_TRUE(queries_->GetObligations(&ctx, oq, &orr).ok());
  EXPECT_EQ(orr.obligations_size(), 0);
  EXPECT_EQ(orr.net_size(), 0);
  st.set_payer("Z");
  st.set_currency("EUR");
  grpc::ClientContext ctx2;
  ASSERT_TRUE(queries_->GetStatement(&ctx2, st, &sr).ok());
  EXPECT_EQ(sr.closing_minor(), 0);
  EXPECT_EQ(sr.lines_size(), 0);
}

TEST_F(QueryServiceTest, AsOfTimeOutOfRangeIsInvalidArgumentNotAnOverflow) {
  LoadWorkedExample();
  v1::GetObligationsRequest q;
  q.mutable_as_of()->mutable_recorded_at()->set_seconds(INT64_MAX / 1000);
  v1::GetObligationsResponse r;
  grpc::ClientContext ctx;
  grpc::Status s = queries_->GetObligations(&ctx, q, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("as_of.recorded_at"));
  v1::ListConflictsRequest lq;
  lq.set_status(static_cast<v1::ConflictStatus>(99));
  v1::ListConflictsResponse lr;
  grpc::ClientContext ctx2;
  s = queries_->ListConflicts(&ctx2, lq, &lr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("status: unknown value 99"));
}

TEST_F(QueryServiceTest, HealthLinesListTheIdsTheyReferTo) {
  LoadWorkedExample();
  MustAppend("conflict-K1", sim::ConflictRaised("CF", "D1"), "2027-03-01");
  v1::GetPartnershipHealthRequest q;
  q.set_partner_a("C");
  q.set_partner_b("F");
  v1::GetPartnershipHealthResponse r;
  grpc::ClientContext ctx;
  ASSERT_TRUE(queries_->GetPartnershipHealth(&ctx, q, &r).ok());
  std::map<v1::Pillar, const v1::HealthLine*> by_pillar;
  for (const v1::HealthLine& l : r.lines()) by_pillar[l.pillar()] = &l;
  ASSERT_EQ(by_pillar.size(), 7u);
  auto ids = [](const google::protobuf::RepeatedPtrField<std::string>& f) {
    return std::vector<std::string>(f.begin(), f.end());
  };
  using V = std::vector<std::string>;
  const v1::HealthLine& margins = *by_pillar[v1::PILLAR_MARGINS];
  EXPECT_EQ(margins.status(), v1::HEALTH_STATUS_OK);
  EXPECT_EQ(ids(margins.deal_ids()), (V{"D1", "D2"}));
  EXPECT_EQ(ids(by_pillar[v1::PILLAR_PRIME_PARTNER]->deal_ids()),
            (V{"D1", "D2"}));
  const v1::HealthLine& docs = *by_pillar[v1::PILLAR_DOCUMENTATION];
  EXPECT_EQ(docs.status(), v1::HEALTH_STATUS_WARN);  // no SoW on either
  EXPECT_EQ(ids(docs.agreement_ids()), (V{"CF"}));
  EXPECT_EQ(ids(docs.deal_ids()), (V{"D1", "D2"}));
  EXPECT_TRUE(by_pillar[v1::PILLAR_ELEVATOR_PITCH]->partner_ids().empty());
  const v1::HealthLine& conflicts = *by_pillar[v1::PILLAR_CONFLICTS];
  EXPECT_EQ(conflicts.status(), v1::HEALTH_STATUS_FAIL);
  EXPECT_EQ(ids(conflicts.conflict_ids()), (V{"K1"}));
  EXPECT_EQ(ids(conflicts.agreement_ids()), (V{"CF"}));
  // A deal with margins outside guidance is named as data, not only text.
  sim::DealSpec d4;
  d4.agreement = "CF";
  d4.originator = "C";
  d4.provider = "F";
  d4.prime = "F";
  d4.customer = "cust-4";
  d4.offering_class = v1::OFFERING_CLASS_PROJECT;
  d4.currency = "EUR";
  d4.start_date = "2026-05-01";
  MustAppend("deal-D4", sim::DealOriginated(d4));
  MustAppend("deal-D4", sim::MarginAgreed({sim::Band(1, 4000)}));
  grpc::ClientContext ctx2;
  ASSERT_TRUE(queries_->GetPartnershipHealth(&ctx2, q, &r).ok());
  ASSERT_EQ(r.lines(0).pillar(), v1::PILLAR_MARGINS);
  EXPECT_EQ(r.lines(0).status(), v1::HEALTH_STATUS_WARN);
  EXPECT_EQ(ids(r.lines(0).deal_ids()), (V{"D4"}));
}

// --- Business date (as_of_date) and its combination with as_of ------------

class BusinessDateTest : public QueryServiceTest {
 protected:
  v1::GetObligationsResponse Obligations(const std::string& date,
                                         const v1::AsOf& as_of = v1::AsOf()) {
    v1::GetObligationsRequest q;
    q.set_as_of_date(date);
    *q.mutable_as_of() = as_of;
    v1::GetObligationsResponse r;
    grpc::ClientContext ctx;
    grpc::Status s = queries_->GetObligations(&ctx, q, &r);
    EXPECT_TRUE(s.ok()) << date << ": " << s.error_message();
    return r;
  }
  v1::GetStatementResponse Statement(const std::string& period,
                                     const std::string& date,
                                     const v1::AsOf& as_of = v1::AsOf()) {
    v1::GetStatementRequest q;
    q.set_payer("F");
    q.set_payee("C");
    q.set_currency("EUR");
    q.set_period(period);
    q.set_as_of_date(date);
    *q.mutable_as_of() = as_of;
    v1::GetStatementResponse r;
    grpc::ClientContext ctx;
    grpc::Status s = queries_->GetStatement(&ctx, q, &r);
    EXPECT_TRUE(s.ok()) << date << ": " << s.error_message();
    return r;
  }
  v1::GetReferralBalanceResponse Referral(const std::string& date,
                                          const v1::AsOf& as_of = v1::AsOf()) {
    v1::GetReferralBalanceRequest q;
    q.set_partner_a("C");
    q.set_partner_b("F");
    q.set_as_of_date(date);
    *q.mutable_as_of() = as_of;
    v1::GetReferralBalanceResponse r;
    grpc::ClientContext ctx;
    grpc::Status s = queries_->GetReferralBalance(&ctx, q, &r);
    EXPECT_TRUE(s.ok()) << date << ": " << s.error_message();
    return r;
  }
  v1::GetDealResponse Deal(const std::string& id, const std::string& date,
                           const v1::AsOf& as_of = v1::AsOf()) {
    v1::GetDealRequest q;
    q.set_deal_id(id);
    q.set_as_of_date(date);
    *q.mutable_as_of() = as_of;
    v1::GetDealResponse r;
    grpc::ClientContext ctx;
    grpc::Status s = queries_->GetDeal(&ctx, q, &r);
    EXPECT_TRUE(s.ok()) << date << ": " << s.error_message();
    return r;
  }
  v1::GetPartnershipHealthResponse Health(const std::string& date) {
    v1::GetPartnershipHealthRequest q;
    q.set_partner_a("C");
    q.set_partner_b("F");
    q.set_as_of_date(date);
    v1::GetPartnershipHealthResponse r;
    grpc::ClientContext ctx;
    grpc::Status s = queries_->GetPartnershipHealth(&ctx, q, &r);
    EXPECT_TRUE(s.ok()) << date << ": " << s.error_message();
    return r;
  }
  static v1::AsOf At(uint64_t position) {
    v1::AsOf a;
    a.set_position(position);
    return a;
  }
  // accrued, reversed, settled, on_hold, outstanding of payer F in currency.
  std::vector<int64_t> Row(const v1::GetObligationsResponse& r,
                           const std::string& currency) {
    const v1::ObligationRow* row = Find(r, "F", currency);
    if (row == nullptr) return {};
    return {row->accrued_minor(), row->reversed_minor(), row->settled_minor(),
            row->on_hold_minor(), row->outstanding_minor()};
  }
  using V = std::vector<int64_t>;
};

TEST_F(BusinessDateTest, WorkedExampleObligationsAtSeveralBusinessDates) {
  LoadWorkedExample();
  // R1 booked 2026-02-01 (30,000.00), R3 2026-03-01 (USD 40,000.00 owed),
  // R2 2027-02-01 (15,000.00), R1 reversal 2027-02-10 (3,000.00),
  // settlement 2027-02-20 (20,000.00).
  v1::GetObligationsResponse jan26 = Obligations("2026-01-31");
  EXPECT_EQ(jan26.as_of_date(), "2026-01-31");
  EXPECT_EQ(jan26.as_of_position(), head());
  EXPECT_EQ(jan26.obligations_size(), 0);
  EXPECT_EQ(jan26.net_size(), 0);
  v1::GetObligationsResponse feb26 = Obligations("2026-02-28");
  EXPECT_EQ(feb26.obligations_size(), 1);
  EXPECT_EQ(Row(feb26, "EUR"), (V{30'000'00, 0, 0, 0, 30'000'00}));
  v1::GetObligationsResponse dec26 = Obligations("2026-12-31");
  EXPECT_EQ(Row(dec26, "EUR"), (V{30'000'00, 0, 0, 0, 30'000'00}));
  EXPECT_EQ(Row(dec26, "USD"), (V{40'000'00, 0, 0, 0, 40'000'00}));
  ASSERT_EQ(dec26.net_size(), 2);
  EXPECT_EQ(dec26.net(0).currency(), "EUR");
  EXPECT_EQ(dec26.net(0).net_minor(), 30'000'00);
  EXPECT_EQ(Row(Obligations("2027-02-09"), "EUR"),
            (V{45'000'00, 0, 0, 0, 45'000'00}));
  // The reversal counts from its own date on.
  EXPECT_EQ(Row(Obligations("2027-02-10"), "EUR"),
            (V{45'000'00, 3'000'00, 0, 0, 42'000'00}));
  EXPECT_EQ(Row(Obligations("2027-02-19"), "EUR"),
            (V{45'000'00, 3'000'00, 0, 0, 42'000'00}));
  EXPECT_EQ(Row(Obligations("2027-02-20"), "EUR"),
            (V{45'000'00, 3'000'00, 20'000'00, 0, 22'000'00}));
  // Far enough: every date counts, the same rows as no date at all.
  v1::GetObligationsResponse all = Obligations("");
  EXPECT_EQ(all.as_of_date(), "");
  v1::GetObligationsResponse later = Obligations("2099-12-31");
  EXPECT_EQ(later.as_of_date(), "2099-12-31");
  later.clear_as_of_date();
  later.clear_as_of_root_hash();
  all.clear_as_of_root_hash();
  EXPECT_EQ(later.SerializeAsString(), all.SerializeAsString());
}

TEST_F(BusinessDateTest, WorkedExampleStatementReferralAndDealAtBusinessDates) {
  LoadWorkedExample();
  // The 2027-02 statement as it stood mid-month: R2 and the reversal, not
  // yet the settlement.
  v1::GetStatementResponse mid = Statement("2027-02", "2027-02-15");
  EXPECT_EQ(mid.as_of_date(), "2027-02-15");
  EXPECT_EQ(mid.opening_minor(), 30'000'00);
  EXPECT_EQ(mid.accrued_minor(), 15'000'00);
  EXPECT_EQ(mid.reversed_minor(), 3'000'00);
  EXPECT_EQ(mid.settled_minor(), 0);
  EXPECT_EQ(mid.closing_minor(), 42'000'00);
  ASSERT_EQ(mid.lines_size(), 2);
  EXPECT_EQ(mid.lines(0).type(), v1::STATEMENT_LINE_TYPE_ACCRUAL);
  EXPECT_EQ(mid.lines(1).type(), v1::STATEMENT_LINE_TYPE_REVERSAL);
  // Before the period: only the opening dated by then.
  v1::GetStatementResponse before = Statement("2027-02", "2026-12-31");
  EXPECT_EQ(before.opening_minor(), 30'000'00);
  EXPECT_EQ(before.accrued_minor(), 0);
  EXPECT_EQ(before.closing_minor(), 30'000'00);
  EXPECT_EQ(before.lines_size(), 0);
  // An opening period cut in its middle: 2026-02 as of 2026-01-31 is empty,
  // and 2027-02 as of 2026-02-01 opens with R1 alone.
  EXPECT_EQ(Statement("2026-02", "2026-01-31").closing_minor(), 0);
  EXPECT_EQ(Statement("2027-02", "2026-02-01").opening_minor(), 30'000'00);
  // After the period: the statement as it is.
  v1::GetStatementResponse after = Statement("2027-02", "2027-03-31");
  EXPECT_EQ(after.closing_minor(), 22'000'00);
  EXPECT_EQ(after.lines_size(), 3);

  v1::GetReferralBalanceResponse feb26 = Referral("2026-02-28");
  EXPECT_EQ(feb26.as_of_date(), "2026-02-28");
  ASSERT_EQ(feb26.a_to_b().money_size(), 1);
  EXPECT_EQ(feb26.a_to_b().money(0).revenue_minor(), 120'000'00);
  EXPECT_EQ(feb26.a_to_b().money(0).margin_minor(), 30'000'00);
  EXPECT_EQ(feb26.b_to_a().money_size(), 0);  // R3 is booked 2026-03-01.
  // Deal counts are not dated: both deals were originated.
  EXPECT_EQ(feb26.b_to_a().deals_originated(), 1);
  v1::GetReferralBalanceResponse feb27 = Referral("2027-02-09");
  ASSERT_EQ(feb27.a_to_b().money_size(), 1);
  EXPECT_EQ(feb27.a_to_b().money(0).revenue_minor(), 240'000'00);
  EXPECT_EQ(feb27.a_to_b().money(0).margin_minor(), 45'000'00);
  ASSERT_EQ(feb27.b_to_a().money_size(), 1);
  EXPECT_EQ(feb27.b_to_a().money(0).revenue_minor(), 50'000'00);
  EXPECT_EQ(feb27.b_to_a().money(0).margin_minor(), 10'000'00);
  v1::GetReferralBalanceResponse mar27 = Referral("2027-03-01");
  EXPECT_EQ(mar27.a_to_b().money(0).revenue_minor(), 228'000'00);
  EXPECT_EQ(mar27.a_to_b().money(0).margin_minor(), 42'000'00);
  ASSERT_EQ(mar27.net_size(), 2);
  EXPECT_EQ(mar27.net(0).currency(), "EUR");
  EXPECT_EQ(mar27.net(0).revenue_minor(), 228'000'00);

  v1::GetDealResponse d1 = Deal("D1", "2026-12-31");
  EXPECT_EQ(d1.as_of_date(), "2026-12-31");
  EXPECT_EQ(d1.revenue_minor(), 120'000'00);
  EXPECT_EQ(d1.margin_minor(), 30'000'00);
  EXPECT_EQ(d1.obligation_minor(), 30'000'00);
  ASSERT_EQ(d1.lines_size(), 1);  // R2 is booked 2027-02-01.
  EXPECT_EQ(d1.lines(0).revenue_id(), "R1");
  EXPECT_EQ(d1.lines(0).reversed_minor(), 0);
  v1::GetDealResponse d1_feb = Deal("D1", "2027-02-10");
  EXPECT_EQ(d1_feb.revenue_minor(), 228'000'00);
  EXPECT_EQ(d1_feb.margin_minor(), 42'000'00);
  ASSERT_EQ(d1_feb.lines_size(), 2);
  EXPECT_EQ(d1_feb.lines(0).reversed_minor(), 12'000'00);
  EXPECT_EQ(d1_feb.lines(0).margin_minor(), 27'000'00);
  EXPECT_EQ(d1_feb.lines(0).obligation_minor(), 27'000'00);
  v1::GetDealResponse d1_before = Deal("D1", "2027-02-09");
  EXPECT_EQ(d1_before.revenue_minor(), 240'000'00);
  EXPECT_EQ(d1_before.lines(0).reversed_minor(), 0);
  EXPECT_EQ(d1_before.lines(0).margin_minor(), 30'000'00);
  // A deal with nothing dated yet is still the deal (known), with no money.
  v1::GetDealResponse d2 = Deal("D2", "2026-02-28");
  EXPECT_EQ(d2.status(), v1::DEAL_STATUS_WON);
  EXPECT_EQ(d2.revenue_minor(), 0);
  EXPECT_EQ(d2.lines_size(), 0);
}

// Finance reads February's figures at the close; a correction dated in
// February is recorded afterwards, then February is closed. "Owed at
// 2027-02-28" changes as known now, not as known at the close.
TEST_F(BusinessDateTest, BackDatedReversalChangesNowButNotAsKnownAtTheClose) {
  LoadWorkedExample();
  const uint64_t at_close = head();
  v1::GetObligationsResponse read_at_close = Obligations("2027-02-28");
  // Late corrections: R2 4,000.00 EUR (commission 1250 bp: 500.00), and
  // R3 5,000.00 USD of a pass-through deal (margin 2000 bp: F keeps
  // 1,000.00 less, owes C 4,000.00 less).
  MustAppend("deal-D1", sim::RevenueReversed("R2", "EUR", 4'000'00),
             "2027-02-25");
  MustAppend("deal-D2", sim::RevenueReversed("R3", "USD", 5'000'00),
             "2027-02-26");
  MustAppend("period-2027-02", sim::PeriodClosed("2027-02"), "2027-03-01");
  // Closed: nothing more can be dated in February.
  EXPECT_EQ(
      Append("deal-D1", sim::RevenueReversed("R2", "EUR", 1'00), "2027-02-27")
          .error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);

  // As known at the close: what finance read then, byte for byte.
  v1::GetObligationsResponse known_then =
      Obligations("2027-02-28", At(at_close));
  EXPECT_EQ(known_then.as_of_position(), at_close);
  EXPECT_EQ(known_then.as_of_date(), "2027-02-28");
  EXPECT_EQ(Row(known_then, "EUR"),
            (V{45'000'00, 3'000'00, 20'000'00, 0, 22'000'00}));
  EXPECT_EQ(Row(known_then, "USD"), (V{40'000'00, 0, 0, 0, 40'000'00}));
  EXPECT_EQ(known_then.SerializeAsString(), read_at_close.SerializeAsString());
  // The same knowledge point named by its recorded time.
  v1::ReadAllRequest ra;
  ra.set_from_position(at_close);
  ra.set_max_count(1);
  v1::ReadAllResponse last;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(events_->ReadAll(&ctx, ra, &last).ok());
  }
  ASSERT_EQ(last.events_size(), 1);
  ASSERT_EQ(last.events(0).position(), at_close);
  v1::AsOf at_close_time;
  *at_close_time.mutable_recorded_at() = last.events(0).recorded_at();
  ASSERT_TRUE(at_close_time.has_recorded_at());
  EXPECT_EQ(Obligations("2027-02-28", at_close_time).SerializeAsString(),
            known_then.SerializeAsString());

  // As known now: the corrections count at their February dates.
  v1::GetObligationsResponse now = Obligations("2027-02-28");
  EXPECT_EQ(now.as_of_position(), head());
  EXPECT_EQ(Row(now, "EUR"), (V{45'000'00, 3'500'00, 20'000'00, 0, 21'500'00}));
  EXPECT_EQ(Row(now, "USD"), (V{40'000'00, 4'000'00, 0, 0, 36'000'00}));
  // Between the two correction dates only the first counts.
  v1::GetObligationsResponse feb25 = Obligations("2027-02-25");
  EXPECT_EQ(Row(feb25, "EUR"),
            (V{45'000'00, 3'500'00, 20'000'00, 0, 21'500'00}));
  EXPECT_EQ(Row(feb25, "USD"), (V{40'000'00, 0, 0, 0, 40'000'00}));
  // The knowledge point alone (no date) moved too; a date before the
  // corrections is the same on both axes.
  EXPECT_EQ(Row(Obligations("2027-02-24"), "EUR"),
            Row(Obligations("2027-02-24", At(at_close)), "EUR"));

  v1::GetStatementResponse stmt_then =
      Statement("2027-02", "2027-02-28", At(at_close));
  EXPECT_EQ(stmt_then.closing_minor(), 22'000'00);
  EXPECT_EQ(stmt_then.lines_size(), 3);
  v1::GetStatementResponse stmt_now = Statement("2027-02", "2027-02-28");
  EXPECT_EQ(stmt_now.reversed_minor(), 3'500'00);
  EXPECT_EQ(stmt_now.closing_minor(), 21'500'00);
  EXPECT_EQ(stmt_now.lines_size(), 4);

  // The pass-through deal: margin reversed = revenue - pass-through.
  v1::GetDealResponse d2_now = Deal("D2", "2027-02-28");
  EXPECT_EQ(d2_now.revenue_minor(), 45'000'00);
  EXPECT_EQ(d2_now.margin_minor(), 9'000'00);
  EXPECT_EQ(d2_now.obligation_minor(), 36'000'00);
  v1::GetDealResponse d2_before = Deal("D2", "2027-02-25");
  EXPECT_EQ(d2_before.revenue_minor(), 50'000'00);
  EXPECT_EQ(d2_before.margin_minor(), 10'000'00);
  EXPECT_EQ(d2_before.obligation_minor(), 40'000'00);
  ASSERT_EQ(d2_before.lines_size(), 1);
  EXPECT_EQ(d2_before.lines(0).reversed_minor(), 0);
  v1::GetDealResponse d2_then = Deal("D2", "2027-02-28", At(at_close));
  EXPECT_EQ(d2_then.as_of_position(), at_close);
  EXPECT_EQ(d2_then.revenue_minor(), 50'000'00);

  v1::GetReferralBalanceResponse ref_now = Referral("2027-02-25");
  ASSERT_EQ(ref_now.a_to_b().money_size(), 1);
  EXPECT_EQ(ref_now.a_to_b().money(0).revenue_minor(), 224'000'00);
  EXPECT_EQ(ref_now.a_to_b().money(0).margin_minor(), 41'500'00);
  ASSERT_EQ(ref_now.b_to_a().money_size(), 1);
  EXPECT_EQ(ref_now.b_to_a().money(0).revenue_minor(), 50'000'00);
  EXPECT_EQ(ref_now.b_to_a().money(0).margin_minor(), 10'000'00);
  v1::GetReferralBalanceResponse ref_then =
      Referral("2027-02-28", At(at_close));
  EXPECT_EQ(ref_then.a_to_b().money(0).revenue_minor(), 228'000'00);
  EXPECT_EQ(ref_then.b_to_a().money(0).margin_minor(), 10'000'00);
}

TEST_F(BusinessDateTest, HealthCountsAgreementsInForceAndSatisfactionByThen) {
  LoadWorkedExample();  // Agreement CF in force from 2026-01-01.
  auto satisfaction = [](const std::string& period, int score) {
    v1::EventPayload p;
    p.mutable_satisfaction_recorded()->set_subject(
        v1::SATISFACTION_SUBJECT_CUSTOMER);
    p.mutable_satisfaction_recorded()->set_respondent("cust-1");
    p.mutable_satisfaction_recorded()->set_score(score);
    p.mutable_satisfaction_recorded()->set_period(period);
    return p;
  };
  MustAppend("agreement-CF", satisfaction("2027-03", 9));
  MustAppend("agreement-CF", satisfaction("2027-04", 6));
  auto line = [](const v1::GetPartnershipHealthResponse& r, v1::Pillar p) {
    for (const v1::HealthLine& l : r.lines()) {
      if (l.pillar() == p) return l;
    }
    return v1::HealthLine();
  };
  v1::GetPartnershipHealthResponse now = Health("");
  EXPECT_EQ(line(now, v1::PILLAR_DOCUMENTATION).status(),
            v1::HEALTH_STATUS_WARN);
  EXPECT_EQ(line(now, v1::PILLAR_CONFLICTS).status(), v1::HEALTH_STATUS_WARN);
  EXPECT_EQ(line(now, v1::PILLAR_CONFLICTS).detail(),
            "0 open conflict(s); satisfaction 2027-04: 6.00 (down from 9.00 in "
            "2027-03)");
  v1::GetPartnershipHealthResponse march = Health("2027-03-31");
  EXPECT_EQ(march.as_of_date(), "2027-03-31");
  ASSERT_EQ(march.lines_size(), 7);
  EXPECT_EQ(line(march, v1::PILLAR_CONFLICTS).status(), v1::HEALTH_STATUS_OK);
  EXPECT_EQ(line(march, v1::PILLAR_CONFLICTS).detail(),
            "0 open conflict(s); satisfaction 2027-03: 9.00");
  // Before the agreement took effect there was no agreement in force.
  v1::GetPartnershipHealthResponse before = Health("2025-12-31");
  const v1::HealthLine docs = line(before, v1::PILLAR_DOCUMENTATION);
  EXPECT_EQ(docs.status(), v1::HEALTH_STATUS_FAIL);
  EXPECT_EQ(docs.detail(), "no active signed agreement for the pair");
  EXPECT_TRUE(docs.agreement_ids().empty());
  EXPECT_EQ(line(Health("2026-01-01"), v1::PILLAR_DOCUMENTATION).status(),
            v1::HEALTH_STATUS_WARN);
  // Terminated on 2027-06-30: in force until the day before.
  MustAppend("agreement-CF", sim::AgreementTerminated("2027-06-30"),
             "2027-06-30");
  EXPECT_EQ(line(Health("2027-06-29"), v1::PILLAR_DOCUMENTATION).status(),
            v1::HEALTH_STATUS_WARN);
  EXPECT_EQ(line(Health("2027-06-30"), v1::PILLAR_DOCUMENTATION).status(),
            v1::HEALTH_STATUS_FAIL);
  EXPECT_EQ(line(Health(""), v1::PILLAR_DOCUMENTATION).status(),
            v1::HEALTH_STATUS_FAIL);
}

TEST_F(BusinessDateTest, MalformedAsOfDateIsInvalidArgumentNamingTheField) {
  LoadWorkedExample();
  for (const char* bad : {"2026-13-01", "2026-02-30", "20260101", "2026-1-01",
                          "yesterday", "2026-01-01T00:00:00Z"}) {
    SCOPED_TRACE(bad);
    const std::string want = std::string("as_of_date: \"") + bad +
                             "\" is not a calendar date (YYYY-MM-DD)";
    auto expect = [&](grpc::Status s) {
      EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_EQ(s.error_message(), want);
    };
    {
      v1::GetObligationsRequest q;
      q.set_as_of_date(bad);
      v1::GetObligationsResponse r;
      grpc::ClientContext ctx;
      expect(queries_->GetObligations(&ctx, q, &r));
    }
    {
      v1::GetReferralBalanceRequest q;
      q.set_partner_a("C");
      q.set_partner_b("F");
      q.set_as_of_date(bad);
      v1::GetReferralBalanceResponse r;
      grpc::ClientContext ctx;
      expect(queries_->GetReferralBalance(&ctx, q, &r));
    }
    {
      v1::GetStatementRequest q;
      q.set_payer("F");
      q.set_payee("C");
      q.set_currency("EUR");
      q.set_period("2027-02");
      q.set_as_of_date(bad);
      v1::GetStatementResponse r;
      grpc::ClientContext ctx;
      expect(queries_->GetStatement(&ctx, q, &r));
    }
    {
      v1::GetDealRequest q;
      q.set_deal_id("D1");
      q.set_as_of_date(bad);
      v1::GetDealResponse r;
      grpc::ClientContext ctx;
      expect(queries_->GetDeal(&ctx, q, &r));
    }
    {
      v1::GetPartnershipHealthRequest q;
      q.set_partner_a("C");
      q.set_partner_b("F");
      q.set_as_of_date(bad);
      v1::GetPartnershipHealthResponse r;
      grpc::ClientContext ctx;
      expect(queries_->GetPartnershipHealth(&ctx, q, &r));
    }
    {
      v1::GetSatisfactionRequest q;
      q.set_agreement_id("CF");
      q.set_as_of_date(bad);
      v1::GetSatisfactionResponse r;
      grpc::ClientContext ctx;
      expect(queries_->GetSatisfaction(&ctx, q, &r));
    }
  }
}

}  // namespace
}  // namespace partnerledger::server

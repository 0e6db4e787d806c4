// The partnership rules (src/domain/partnership.h): every rejection with its
// exact code, commission math, derived events, projections, and DESIGN's
// worked example to the cent.
#include "domain/partnership.h"

#include "domain/partnership_sim.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace partnerledger::domain::testing {
namespace {

using ::testing::HasSubstr;

// Partners C, F and X; agreement A1 between C and F with the worked
// example's schedules (PROJECT 2000/1000, SAAS 2500/1250; no LICENSE).
class PartnershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sim_.Ok("partner-C", PartnerRegistered("Contoso"));
    sim_.Ok("partner-F", PartnerRegistered("Fabrikam"));
    sim_.Ok("partner-X", PartnerRegistered("Xylo"));
    sim_.Ok("agreement-A1",
            AgreementSigned("C", "F",
                            {Schedule(v1::OFFERING_CLASS_PROJECT, 2000, 1000),
                             Schedule(v1::OFFERING_CLASS_SAAS, 2500, 1250)}));
  }

  // Originates, agrees margin (`bands`, empty = agreement default) and wins.
  void WonDeal(const std::string& id, const DealSpec& spec,
               std::vector<v1::MarginBand> bands = {}) {
    sim_.Ok("deal-" + id, DealOriginated(spec));
    sim_.Ok("deal-" + id, MarginAgreed(std::move(bands)));
    sim_.Ok("deal-" + id, DealClosed());
  }

  // The single derived event of the last accepted append.
  static const DerivedEvent& OnlyDerived(const Decision& d) {
    EXPECT_EQ(d.derived.size(), 1u);
    static const DerivedEvent kNone;
    return d.derived.empty() ? kNone : d.derived[0];
  }

  int64_t AccruedFor(const std::string& deal, v1::EventPayload booked) {
    Decision d = sim_.Ok("deal-" + deal, std::move(booked));
    return OnlyDerived(d).payload.commission_accrued().amount().amount_minor();
  }

  sv1::Obligation Obligation(const std::string& payer, const std::string& payee,
                             const std::string& currency,
                             sv1::ObligationKind kind) {
    return sim_.Must<sv1::Obligation>(
        keys::Obligation(payer, payee, currency, kind));
  }

  absl::StatusCode Code(std::string stream, v1::EventPayload payload) {
    return sim_.Append(std::move(stream), std::move(payload)).status().code();
  }

  Sim sim_;
};

constexpr auto kCommission = sv1::OBLIGATION_KIND_COMMISSION;
constexpr auto kPassThrough = sv1::OBLIGATION_KIND_PASS_THROUGH;

// --- DESIGN's worked example -------------------------------------------------

TEST_F(PartnershipTest, WorkedExampleToTheCent) {
  WonDeal("D1", DealSpec{});  // C originates, F provides and is prime, SAAS
  Decision r1 = sim_.Ok("deal-D1", RevenueBooked("R1", "EUR", 120'000'00,
                                                 "2026-02-01", "2026-02-20"));
  const DerivedEvent& a1 = OnlyDerived(r1);
  EXPECT_EQ(a1.stream, "deal-D1");
  const v1::CommissionAccrued& c1 = a1.payload.commission_accrued();
  EXPECT_EQ(c1.revenue_id(), "R1");
  EXPECT_EQ(c1.payer(), "F");
  EXPECT_EQ(c1.payee(), "C");
  EXPECT_EQ(c1.kind(), v1::OBLIGATION_KIND_COMMISSION);
  EXPECT_EQ(c1.rate_bp(), 2500);
  EXPECT_EQ(c1.contract_year(), 1);
  EXPECT_EQ(c1.amount().currency(), "EUR");
  EXPECT_EQ(c1.amount().amount_minor(), 30'000'00);

  Decision r2 = sim_.Ok("deal-D1", RevenueBooked("R2", "EUR", 120'000'00,
                                                 "2027-02-01", "2027-02-20"));
  const v1::CommissionAccrued& c2 =
      OnlyDerived(r2).payload.commission_accrued();
  EXPECT_EQ(c2.contract_year(), 2);
  EXPECT_EQ(c2.rate_bp(), 1250);
  EXPECT_EQ(c2.amount().amount_minor(), 15'000'00);

  Decision rev =
      sim_.Ok("deal-D1", RevenueReversed("R1", "EUR", 12'000'00), "2027-03-05");
  const v1::CommissionReversed& cr =
      OnlyDerived(rev).payload.commission_reversed();
  EXPECT_EQ(cr.revenue_id(), "R1");
  EXPECT_EQ(cr.payer(), "F");
  EXPECT_EQ(cr.payee(), "C");
  EXPECT_EQ(cr.rate_bp(), 2500);
  EXPECT_EQ(cr.contract_year(), 1);
  EXPECT_EQ(cr.amount().amount_minor(), 3'000'00);

  sim_.Ok("settlement-S1", SettlementRecorded("F", "C", "EUR", 20'000'00),
          "2027-03-10");
  sv1::Obligation eur = Obligation("F", "C", "EUR", kCommission);
  EXPECT_EQ(eur.accrued_minor(), 45'000'00);
  EXPECT_EQ(eur.reversed_minor(), 3'000'00);
  EXPECT_EQ(eur.settled_minor(), 20'000'00);
  EXPECT_EQ(eur.outstanding_minor(), 22'000'00);
  EXPECT_EQ(eur.on_hold_minor(), 0);

  // D2: F originates, C provides, F is prime (resale): pass-through.
  DealSpec d2;
  d2.originator = "F";
  d2.provider = "C";
  d2.prime = "F";
  d2.offering_class = v1::OFFERING_CLASS_PROJECT;
  d2.currency = "USD";
  d2.start_date = "2026-03-01";
  WonDeal("D2", d2);
  Decision r3 =
      sim_.Ok("deal-D2", RevenueBooked("R3", "USD", 50'000'00, "2026-04-01"));
  const v1::CommissionAccrued& c3 =
      OnlyDerived(r3).payload.commission_accrued();
  EXPECT_EQ(c3.payer(), "F");
  EXPECT_EQ(c3.payee(), "C");
  EXPECT_EQ(c3.kind(), v1::OBLIGATION_KIND_PASS_THROUGH);
  EXPECT_EQ(c3.rate_bp(), 2000);
  EXPECT_EQ(c3.amount().amount_minor(), 40'000'00);
  EXPECT_EQ(Obligation("F", "C", "USD", kPassThrough).outstanding_minor(),
            40'000'00);
  EXPECT_EQ(sim_.Must<sv1::Deal>(keys::Deal("D2")).margin_accrued_minor(),
            10'000'00);

  // Referral balance, per direction (from = originator).
  sv1::Referral c_to_f = sim_.Must<sv1::Referral>(keys::Referral("C", "F"));
  EXPECT_EQ(c_to_f.deals_originated(), 1);
  EXPECT_EQ(c_to_f.deals_won(), 1);
  ASSERT_EQ(c_to_f.money_size(), 1);
  EXPECT_EQ(c_to_f.money(0).currency(), "EUR");
  EXPECT_EQ(c_to_f.money(0).revenue_booked_minor(), 240'000'00);
  EXPECT_EQ(c_to_f.money(0).revenue_reversed_minor(), 12'000'00);
  EXPECT_EQ(c_to_f.money(0).revenue_net_minor(), 228'000'00);
  EXPECT_EQ(c_to_f.money(0).margin_net_minor(), 42'000'00);
  sv1::Referral f_to_c = sim_.Must<sv1::Referral>(keys::Referral("F", "C"));
  EXPECT_EQ(f_to_c.deals_originated(), 1);
  EXPECT_EQ(f_to_c.deals_won(), 1);
  ASSERT_EQ(f_to_c.money_size(), 1);
  EXPECT_EQ(f_to_c.money(0).currency(), "USD");
  EXPECT_EQ(f_to_c.money(0).revenue_net_minor(), 50'000'00);
  EXPECT_EQ(f_to_c.money(0).margin_net_minor(), 10'000'00);

  // Statements: accruals by booked_on, reversal and settlement by their date.
  auto statement = [&](const char* period) {
    return sim_.Must<sv1::StatementPeriod>(
        keys::Statement("F", "C", "EUR", period));
  };
  EXPECT_EQ(statement("2026-02").accrued_minor(), 30'000'00);
  EXPECT_EQ(statement("2027-02").accrued_minor(), 15'000'00);
  sv1::StatementPeriod march = statement("2027-03");
  EXPECT_EQ(march.reversed_minor(), 3'000'00);
  EXPECT_EQ(march.settled_minor(), 20'000'00);
  EXPECT_EQ(march.net_minor(), -23'000'00);
  EXPECT_EQ(march.lines(), 2);
  EXPECT_EQ(30'000'00 + 15'000'00 + march.net_minor(), 22'000'00);
}

TEST_F(PartnershipTest, DerivedEventIdsComeFromTheCause) {
  WonDeal("D1", DealSpec{});
  Decision d =
      sim_.Ok("deal-D1", RevenueBooked("R1", "EUR", 100'00, "2026-02-01"));
  EXPECT_EQ(OnlyDerived(d).event_id,
            DeriveUuid(sim_.last_event_id() + "/commission/accrued"));
  Decision r = sim_.Ok("deal-D1", RevenueReversed("R1", "EUR", 10'00));
  EXPECT_EQ(OnlyDerived(r).event_id,
            DeriveUuid(sim_.last_event_id() + "/commission/reversed"));
}

TEST_F(PartnershipTest, RebuildFromTheLogReproducesStateByteForByte) {
  WonDeal("D1", DealSpec{});
  sim_.Ok("deal-D1", RevenueBooked("R1", "EUR", 120'000'00, "2026-02-01"));
  sim_.Ok("deal-D1", RevenueReversed("R1", "EUR", 12'000'00));
  sim_.Ok("settlement-S1", SettlementRecorded("F", "C", "EUR", 1'00));
  sim_.Ok("conflict-K1", ConflictRaised("A1", "D1"));
  EXPECT_EQ(Code("settlement-S2", SettlementRecorded("F", "C", "EUR", 1'00)),
            absl::StatusCode::kFailedPrecondition);
  sim_.Ok("conflict-K1", ConflictResolved());
  sim_.Ok("deal-D1", RevenueBooked("R2", "EUR", 7, "2026-05-01"));
  sim_.Ok("period-2026-05", PeriodClosed("2026-05"));
  ASSERT_GT(sim_.state().kv().size(), 20u);
  EXPECT_TRUE(sim_.Rebuild().kv() == sim_.state().kv());
}

// --- commission math ---------------------------------------------------------

TEST_F(PartnershipTest, CommissionRoundsHalfEven) {
  WonDeal("D1", DealSpec{}, {Band(1, 3000)});
  EXPECT_EQ(AccruedFor("D1", RevenueBooked("R1", "EUR", 5, "2026-02-01")), 2);
  WonDeal("D2", DealSpec{.customer = "cust-2"}, {Band(1, 1000)});
  EXPECT_EQ(AccruedFor("D2", RevenueBooked("R1", "EUR", 25, "2026-02-01")), 2);
  DealSpec jpy{.customer = "cust-3", .currency = "JPY"};
  WonDeal("D3", jpy, {Band(1, 1250)});
  EXPECT_EQ(AccruedFor("D3", RevenueBooked("R1", "JPY", 1001, "2026-02-01")),
            125);
}

TEST_F(PartnershipTest, ContractYearCountsWholeYearsFromStartDate) {
  WonDeal("D1", DealSpec{}, {Band(1, 3000), Band(2, 2000), Band(3, 1000)});
  auto year_and_rate = [&](const char* id, const char* start) {
    Decision d = sim_.Ok("deal-D1", RevenueBooked(id, "EUR", 100'00, start));
    const v1::CommissionAccrued& c =
        OnlyDerived(d).payload.commission_accrued();
    return std::make_pair(c.contract_year(), c.rate_bp());
  };
  EXPECT_EQ(year_and_rate("R1", "2026-02-01"), std::make_pair(1, 3000));
  EXPECT_EQ(year_and_rate("R2", "2027-01-31"), std::make_pair(1, 3000));
  EXPECT_EQ(year_and_rate("R3", "2027-02-01"), std::make_pair(2, 2000));
  EXPECT_EQ(year_and_rate("R4", "2031-06-30"), std::make_pair(6, 1000));
}

TEST_F(PartnershipTest, ReversingAThirdThenTheRestReturnsExactlyTheAccrued) {
  WonDeal("D1", DealSpec{}, {Band(1, 3333)});
  const int64_t accrued =
      AccruedFor("D1", RevenueBooked("R1", "EUR", 100, "2026-02-01"));
  EXPECT_EQ(accrued, 33);  // 33.33
  Decision third = sim_.Ok("deal-D1", RevenueReversed("R1", "EUR", 33));
  Decision rest = sim_.Ok("deal-D1", RevenueReversed("R1", "EUR", 67));
  const int64_t r1 =
      OnlyDerived(third).payload.commission_reversed().amount().amount_minor();
  const int64_t r2 =
      OnlyDerived(rest).payload.commission_reversed().amount().amount_minor();
  EXPECT_EQ(r1, 11);  // 33 x 33 / 100 = 10.89
  EXPECT_EQ(r2, 22);
  EXPECT_EQ(r1 + r2, accrued);
  sv1::Obligation o = Obligation("F", "C", "EUR", kCommission);
  EXPECT_EQ(o.outstanding_minor(), 0);
  EXPECT_EQ(o.reversed_minor(), 33);
  EXPECT_EQ(Code("deal-D1", RevenueReversed("R1", "EUR", 1)),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(PartnershipTest, UnitReversalsNeverDriftPastTheLine) {
  // 10 at 5000 bp: margin 5; each 1-unit share is 0.5 -> 0 half-even, so
  // without the clamp the pass-through would be over-reversed.
  DealSpec resale{.prime = "C"};
  WonDeal("D1", resale, {Band(1, 5000)});
  EXPECT_EQ(AccruedFor("D1", RevenueBooked("R1", "EUR", 10, "2026-02-01")), 5);
  int64_t pass_reversed = 0;
  for (int i = 0; i < 10; ++i) {
    Decision d = sim_.Ok("deal-D1", RevenueReversed("R1", "EUR", 1));
    pass_reversed +=
        OnlyDerived(d).payload.commission_reversed().amount().amount_minor();
    sv1::RevenueLine line =
        sim_.Must<sv1::RevenueLine>(keys::DealLine("D1", "R1"));
    const int64_t margin_left =
        line.margin_accrued_minor() - line.margin_reversed_minor();
    const int64_t pass_left =
        line.obligation_accrued_minor() - line.obligation_reversed_minor();
    EXPECT_GE(margin_left, 0);
    EXPECT_GE(pass_left, 0);
    EXPECT_EQ(margin_left + pass_left,
              line.booked_minor() - line.reversed_minor());
  }
  EXPECT_EQ(pass_reversed, 5);
  EXPECT_EQ(Obligation("C", "F", "EUR", kPassThrough).outstanding_minor(), 0);
  EXPECT_EQ(sim_.Must<sv1::Deal>(keys::Deal("D1")).margin_reversed_minor(), 5);
}

TEST_F(PartnershipTest, TotalsBeyondTheAmountBoundAreOutOfRange) {
  WonDeal("D1", DealSpec{}, {Band(1, 10000)});
  constexpr int64_t kMax = 1'000'000'000'000'000;
  EXPECT_EQ(AccruedFor("D1", RevenueBooked("R1", "EUR", kMax, "2026-02-01")),
            kMax);
  EXPECT_EQ(Code("deal-D1", RevenueBooked("R2", "EUR", 1, "2026-02-01")),
            absl::StatusCode::kOutOfRange);
  EXPECT_FALSE(sim_.Get<sv1::RevenueLine>(keys::DealLine("D1", "R2")));
}

TEST_F(PartnershipTest, PairTotalBeyondTheBoundNamesTheTotalAndThePair) {
  // Each deal stays within the bound; their pair's total would not.
  WonDeal("D1", DealSpec{}, {Band(1, 10000)});
  WonDeal("D2", DealSpec{}, {Band(1, 10000)});
  constexpr int64_t kMax = 1'000'000'000'000'000;
  EXPECT_EQ(AccruedFor("D1", RevenueBooked("R1", "EUR", kMax, "2026-02-01")),
            kMax);
  absl::StatusOr<Decision> d =
      sim_.Append("deal-D2", RevenueBooked("R2", "EUR", 1, "2026-02-01"));
  ASSERT_EQ(d.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(std::string(d.status().message()),
            "referral balance of C -> F in EUR: amount exceeds "
            "1000000000000000 minor units");
}

// --- margins -----------------------------------------------------------------

TEST_F(PartnershipTest, MarginResolvesFromAgreementThenGuidance) {
  sim_.Ok("deal-D1", DealOriginated(DealSpec{}));
  Decision m1 = sim_.Ok("deal-D1", MarginAgreed());
  EXPECT_EQ(m1.payload.margin_agreed().source(), v1::MARGIN_SOURCE_AGREEMENT);
  ASSERT_EQ(m1.payload.margin_agreed().bands_size(), 2);
  EXPECT_EQ(m1.payload.margin_agreed().bands(0).rate_bp(), 2500);
  EXPECT_EQ(m1.payload.margin_agreed().bands(1).from_year(), 2);
  EXPECT_EQ(m1.payload.margin_agreed().bands(1).rate_bp(), 1250);

  DealSpec license{.customer = "cust-2",
                   .offering_class = v1::OFFERING_CLASS_LICENSE};
  sim_.Ok("deal-D2", DealOriginated(license));
  Decision m2 = sim_.Ok("deal-D2", MarginAgreed());
  EXPECT_EQ(m2.payload.margin_agreed().source(),
            v1::MARGIN_SOURCE_GUIDANCE_DEFAULT);
  ASSERT_EQ(m2.payload.margin_agreed().bands_size(), 2);
  EXPECT_EQ(m2.payload.margin_agreed().bands(0).rate_bp(), 2500);
  EXPECT_EQ(m2.payload.margin_agreed().bands(1).rate_bp(), 1250);

  Decision m3 = sim_.Ok("deal-D2", MarginAgreed({Band(1, 3100)}));
  EXPECT_EQ(m3.payload.margin_agreed().source(), v1::MARGIN_SOURCE_EXPLICIT);
  sv1::Deal d2 = sim_.Must<sv1::Deal>(keys::Deal("D2"));
  ASSERT_EQ(d2.bands_size(), 1);
  EXPECT_EQ(d2.bands(0).rate_bp(), 3100);
  EXPECT_EQ(d2.margin_source(), sv1::MARGIN_SOURCE_EXPLICIT);
}

TEST_F(PartnershipTest, MarginUsesTheAmendmentInForceAtTheDealStart) {
  sim_.Ok("agreement-A1",
          AgreementAmended({Schedule(v1::OFFERING_CLASS_SAAS, 3000, 1500)},
                           "2026-06-01"));
  sim_.Ok("deal-D1", DealOriginated(DealSpec{.start_date = "2026-05-31"}));
  Decision before = sim_.Ok("deal-D1", MarginAgreed());
  EXPECT_EQ(before.payload.margin_agreed().bands(0).rate_bp(), 2500);
  sim_.Ok("deal-D2", DealOriginated(DealSpec{.customer = "cust-2",
                                             .start_date = "2026-06-01"}));
  Decision after = sim_.Ok("deal-D2", MarginAgreed());
  EXPECT_EQ(after.payload.margin_agreed().bands(0).rate_bp(), 3000);
  // The amendment lists only SAAS: PROJECT keeps the signed schedule.
  sim_.Ok("deal-D3",
          DealOriginated(DealSpec{.customer = "cust-3",
                                  .offering_class = v1::OFFERING_CLASS_PROJECT,
                                  .start_date = "2026-07-01"}));
  Decision project = sim_.Ok("deal-D3", MarginAgreed());
  EXPECT_EQ(project.payload.margin_agreed().bands(0).rate_bp(), 2000);
  EXPECT_EQ(project.payload.margin_agreed().source(),
            v1::MARGIN_SOURCE_AGREEMENT);
}

TEST_F(PartnershipTest, AmendmentNeverChangesBookedRevenue) {
  WonDeal("D1", DealSpec{});
  EXPECT_EQ(AccruedFor("D1", RevenueBooked("R1", "EUR", 100'00, "2026-02-01")),
            25'00);
  sim_.Ok("agreement-A1",
          AgreementAmended({Schedule(v1::OFFERING_CLASS_SAAS, 5000, 5000)},
                           "2026-02-02"));
  // The deal keeps the bands agreed; R1's commission stays as recorded.
  EXPECT_EQ(AccruedFor("D1", RevenueBooked("R2", "EUR", 100'00, "2026-03-01")),
            25'00);
  sv1::RevenueLine r1 = sim_.Must<sv1::RevenueLine>(keys::DealLine("D1", "R1"));
  EXPECT_EQ(r1.margin_accrued_minor(), 25'00);
  EXPECT_EQ(r1.rate_bp(), 2500);
  EXPECT_EQ(Obligation("F", "C", "EUR", kCommission).accrued_minor(), 50'00);
}

// --- registration overlap ----------------------------------------------------

TEST_F(PartnershipTest, RegistrationOverlapRaisesAConflictNamingBothDeals) {
  sim_.Ok("agreement-A2", AgreementSigned("X", "F"));
  sim_.Ok("deal-D1", DealOriginated(DealSpec{}));
  DealSpec by_x{.agreement = "A2", .originator = "X"};
  Decision d = sim_.Ok("deal-D3", DealOriginated(by_x));
  const DerivedEvent& c = OnlyDerived(d);
  const std::string conflict_id =
      DeriveUuid(sim_.last_event_id() + "/conflict/registration-overlap");
  EXPECT_EQ(c.event_id, conflict_id);
  EXPECT_EQ(c.stream, "conflict-" + conflict_id);
  const v1::ConflictRaised& raised = c.payload.conflict_raised();
  EXPECT_EQ(raised.kind(), v1::CONFLICT_KIND_REGISTRATION_OVERLAP);
  EXPECT_EQ(raised.deal_id(), "D3");
  EXPECT_EQ(raised.other_deal_id(), "D1");
  EXPECT_EQ(raised.agreement_id(), "A2");
  EXPECT_EQ(raised.raised_by(), "system");
  EXPECT_THAT(raised.summary(), HasSubstr("D1"));

  sv1::Conflict state = sim_.Must<sv1::Conflict>(keys::Conflict(conflict_id));
  EXPECT_EQ(state.status(), sv1::CONFLICT_STATUS_OPEN);
  EXPECT_EQ(state.other_deal_id(), "D1");
  EXPECT_EQ(sim_.Must<sv1::Deal>(keys::Deal("D3")).conflicts_open(), 1);
  EXPECT_EQ(sim_.state().kv().count(keys::PairConflict("F", "X", conflict_id)),
            1u);
}

TEST_F(PartnershipTest, NoOverlapForTheSameOriginatorOrAfterTheDealCloses) {
  sim_.Ok("agreement-A2", AgreementSigned("X", "F"));
  sim_.Ok("deal-D1", DealOriginated(DealSpec{}));
  // Same originator again: no conflict.
  EXPECT_TRUE(sim_.Ok("deal-D2", DealOriginated(DealSpec{})).derived.empty());
  // Another class: no conflict.
  DealSpec other_class{.agreement = "A2",
                       .originator = "X",
                       .offering_class = v1::OFFERING_CLASS_PROJECT};
  EXPECT_TRUE(sim_.Ok("deal-D3", DealOriginated(other_class)).derived.empty());
  // Once C's deals are closed, X may register the customer.
  sim_.Ok("deal-D1", DealClosed(v1::DEAL_OUTCOME_LOST));
  sim_.Ok("deal-D2", DealClosed(v1::DEAL_OUTCOME_WON));
  DealSpec by_x{.agreement = "A2", .originator = "X"};
  EXPECT_TRUE(sim_.Ok("deal-D4", DealOriginated(by_x)).derived.empty());
}

// --- on hold -----------------------------------------------------------------

TEST_F(PartnershipTest, OpenConflictHoldsTheDealsObligation) {
  WonDeal("D1", DealSpec{});
  WonDeal("D2", DealSpec{.customer = "cust-2"});
  sim_.Ok("deal-D1", RevenueBooked("R1", "EUR", 400'00, "2026-02-01"));  // 100
  sim_.Ok("deal-D2", RevenueBooked("R1", "EUR", 200'00, "2026-02-01"));  // 50
  sim_.Ok("conflict-K1", ConflictRaised("A1", "D1"));
  sv1::Obligation o = Obligation("F", "C", "EUR", kCommission);
  EXPECT_EQ(o.outstanding_minor(), 150'00);
  EXPECT_EQ(o.on_hold_minor(), 100'00);

  // Accruals while held are held too.
  sim_.Ok("deal-D1", RevenueBooked("R2", "EUR", 40'00, "2026-03-01"));  // 10
  EXPECT_EQ(Obligation("F", "C", "EUR", kCommission).on_hold_minor(), 110'00);

  absl::StatusOr<Decision> over =
      sim_.Append("settlement-S1", SettlementRecorded("F", "C", "EUR", 50'01));
  EXPECT_EQ(over.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(over.status().message(), HasSubstr("on hold 11000"));
  sim_.Ok("settlement-S1", SettlementRecorded("F", "C", "EUR", 50'00));
  EXPECT_EQ(Code("settlement-S2", SettlementRecorded("F", "C", "EUR", 1)),
            absl::StatusCode::kFailedPrecondition);

  sim_.Ok("conflict-K1", ConflictResolved());
  o = Obligation("F", "C", "EUR", kCommission);
  EXPECT_EQ(o.on_hold_minor(), 0);
  EXPECT_EQ(o.held_minor(), 0);
  EXPECT_EQ(o.outstanding_minor(), 110'00);
  sim_.Ok("settlement-S2", SettlementRecorded("F", "C", "EUR", 110'00));
  o = Obligation("F", "C", "EUR", kCommission);
  EXPECT_EQ(o.accrued_minor() - o.reversed_minor() - o.settled_minor(),
            o.outstanding_minor());
  EXPECT_EQ(o.outstanding_minor(), 0);
}

TEST_F(PartnershipTest, HoldCoversOnlyWhatThePairStillOwes) {
  WonDeal("D1", DealSpec{});
  sim_.Ok("deal-D1", RevenueBooked("R1", "EUR", 400'00, "2026-02-01"));  // 100
  sim_.Ok("settlement-S1", SettlementRecorded("F", "C", "EUR", 70'00));
  sim_.Ok("conflict-K1", ConflictRaised("A1", "D1"));
  sv1::Obligation o = Obligation("F", "C", "EUR", kCommission);
  EXPECT_EQ(o.on_hold_minor(), 30'00);
  EXPECT_EQ(sim_.Must<sv1::Deal>(keys::Deal("D1")).held_minor(), 30'00);
  // A reversal on the held deal releases held money first.
  sim_.Ok("deal-D1", RevenueReversed("R1", "EUR", 40'00));  // commission 10
  o = Obligation("F", "C", "EUR", kCommission);
  EXPECT_EQ(o.outstanding_minor(), 20'00);
  EXPECT_EQ(o.on_hold_minor(), 20'00);
}

// --- rejections, one per rule, with exact codes
// --------------------------------

TEST_F(PartnershipTest, PartnerRejections) {
  EXPECT_EQ(Code("partner-C", PartnerRegistered()),
            absl::StatusCode::kAlreadyExists);
  v1::EventPayload update;
  update.mutable_partner_profile_updated()->set_pitch("new");
  EXPECT_EQ(Code("partner-Z", update), absl::StatusCode::kNotFound);
  sim_.Ok("partner-C", update);
  EXPECT_EQ(sim_.Must<sv1::Partner>(keys::Partner("C")).pitch(), "new");
}

TEST_F(PartnershipTest, AgreementSignedRejections) {
  EXPECT_EQ(Code("agreement-A9", AgreementSigned("C", "C")),
            absl::StatusCode::kInvalidArgument);
  absl::Status unknown =
      sim_.Append("agreement-A9", AgreementSigned("C", "Z")).status();
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(unknown.message(), HasSubstr("party_b"));
  EXPECT_EQ(Code("agreement-A1", AgreementSigned("C", "X")),
            absl::StatusCode::kAlreadyExists);
  // A1 (C-F) is open-ended from 2026-01-01: any later one overlaps, in
  // either party order.
  absl::Status overlap =
      sim_.Append("agreement-A9", AgreementSigned("F", "C", {}, "2030-01-01"))
          .status();
  EXPECT_EQ(overlap.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(overlap.message(), HasSubstr("'A1'"));
  // One ending before A1 starts does not.
  sim_.Ok("agreement-A0",
          AgreementSigned("C", "F", {}, "2025-01-01", "2025-12-31"));
  // After A1 is terminated, a new one from its termination date is fine.
  sim_.Ok("agreement-A1", AgreementTerminated("2027-01-01"));
  EXPECT_EQ(Code("agreement-A9", AgreementSigned("C", "F", {}, "2026-12-31")),
            absl::StatusCode::kFailedPrecondition);
  sim_.Ok("agreement-A9", AgreementSigned("C", "F", {}, "2027-01-01"));
}

TEST_F(PartnershipTest, AgreementAmendTerminateSatisfactionRejections) {
  const auto saas = [] {
    return std::vector{Schedule(v1::OFFERING_CLASS_SAAS, 2000, 1000)};
  };
  EXPECT_EQ(Code("agreement-A9", AgreementAmended(saas(), "2026-06-01")),
            absl::StatusCode::kNotFound);
  WonDeal("D1", DealSpec{});
  sim_.Ok("deal-D1", RevenueBooked("R1", "EUR", 100'00, "2026-05-01"));
  absl::Status early =
      sim_.Append("agreement-A1", AgreementAmended(saas(), "2026-05-01"))
          .status();
  EXPECT_EQ(early.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(early.message(), HasSubstr("2026-05-01"));
  sim_.Ok("agreement-A1", AgreementAmended(saas(), "2026-05-02"));

  v1::EventPayload score;
  score.mutable_satisfaction_recorded()->set_subject(
      v1::SATISFACTION_SUBJECT_CUSTOMER);
  score.mutable_satisfaction_recorded()->set_respondent("cust-1");
  score.mutable_satisfaction_recorded()->set_score(8);
  score.mutable_satisfaction_recorded()->set_period("2026-05");
  EXPECT_EQ(Code("agreement-A9", score), absl::StatusCode::kNotFound);
  sim_.Ok("agreement-A1", score);
  sv1::Satisfaction s =
      sim_.Must<sv1::Satisfaction>(keys::Satisfaction("A1", "2026-05"));
  EXPECT_EQ(s.customer().responses(), 1);
  EXPECT_EQ(s.customer().score_sum(), 8);

  EXPECT_EQ(Code("agreement-A9", AgreementTerminated("2027-01-01")),
            absl::StatusCode::kNotFound);
  sim_.Ok("agreement-A1", AgreementTerminated("2027-01-01"));
  EXPECT_EQ(Code("agreement-A1", AgreementTerminated("2027-02-01")),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Code("agreement-A1", AgreementAmended(saas(), "2027-06-01")),
            absl::StatusCode::kFailedPrecondition);
  // No deal may start on or after the termination.
  EXPECT_EQ(Code("deal-D9", DealOriginated(DealSpec{
                                .customer = "c9", .start_date = "2027-01-01"})),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(PartnershipTest, DealOriginatedRejections) {
  EXPECT_EQ(Code("deal-D1", DealOriginated(DealSpec{.agreement = "A9"})),
            absl::StatusCode::kNotFound);
  absl::Status not_parties =
      sim_.Append("deal-D1", DealOriginated(DealSpec{.originator = "X"}))
          .status();
  EXPECT_EQ(not_parties.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(not_parties.message(), HasSubstr("'X'"));
  // Rules that need no state are checked once, structurally
  // (validate.cc), with one code: INVALID_ARGUMENT naming the field.
  absl::Status same =
      sim_.Append("deal-D1", DealOriginated(DealSpec{.originator = "F"}))
          .status();
  EXPECT_EQ(same.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(same.message(),
              HasSubstr("deal_originated.provider: must differ"));
  absl::Status prime =
      sim_.Append("deal-D1", DealOriginated(DealSpec{.prime = "X"})).status();
  EXPECT_EQ(prime.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(prime.message(), HasSubstr("deal_originated.prime"));
  sim_.Ok("deal-D1", DealOriginated(DealSpec{}));
  EXPECT_EQ(Code("deal-D1", DealOriginated(DealSpec{})),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(PartnershipTest, DealLifecycleRejections) {
  EXPECT_EQ(Code("deal-D9", MarginAgreed()), absl::StatusCode::kNotFound);
  EXPECT_EQ(Code("deal-D9", DealClosed()), absl::StatusCode::kNotFound);
  v1::EventPayload sow;
  sow.mutable_statement_of_work_attached()->set_sow_id("SOW-1");
  sow.mutable_statement_of_work_attached()->mutable_document()->set_sha256(
      std::string(64, 'a'));
  EXPECT_EQ(Code("deal-D9", sow), absl::StatusCode::kNotFound);
  sim_.Ok("deal-D1", DealOriginated(DealSpec{}));
  sim_.Ok("deal-D1", sow);
  EXPECT_EQ(Code("deal-D1", MarginAgreed({Band(2, 1000)})),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code("deal-D1", MarginAgreed({Band(1, 10001)})),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code("deal-D1", MarginAgreed({Band(1, 10), Band(1, 20)})),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code("deal-D1", MarginAgreed({Band(1, -1)})),
            absl::StatusCode::kInvalidArgument);
  sim_.Ok("deal-D1", DealClosed(v1::DEAL_OUTCOME_LOST));
  EXPECT_EQ(Code("deal-D1", DealClosed()),
            absl::StatusCode::kFailedPrecondition);
  sv1::Deal d1 = sim_.Must<sv1::Deal>(keys::Deal("D1"));
  EXPECT_EQ(d1.status(), sv1::DEAL_STATUS_LOST);
  ASSERT_EQ(d1.statements_of_work_size(), 1);
  EXPECT_EQ(d1.statements_of_work(0).sow_id(), "SOW-1");
}

TEST_F(PartnershipTest, RevenueBookedRejections) {
  auto r = [](const char* currency = "EUR", const char* start = "2026-02-01",
              const char* booked_on = "2026-02-01") {
    return RevenueBooked("R1", currency, 100'00, start, booked_on);
  };
  EXPECT_EQ(Code("deal-D9", r()), absl::StatusCode::kNotFound);
  sim_.Ok("deal-D1", DealOriginated(DealSpec{}));
  sim_.Ok("deal-D1", MarginAgreed());
  absl::Status open = sim_.Append("deal-D1", r()).status();
  EXPECT_EQ(open.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(open.message(), HasSubstr("not WON"));
  sim_.Ok("deal-D2", DealOriginated(DealSpec{.customer = "cust-2"}));
  sim_.Ok("deal-D2", DealClosed());
  absl::Status no_margin = sim_.Append("deal-D2", r()).status();
  EXPECT_EQ(no_margin.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(no_margin.message(), HasSubstr("no margin"));
  sim_.Ok("deal-D1", DealClosed());
  absl::Status currency = sim_.Append("deal-D1", r("USD")).status();
  EXPECT_EQ(currency.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(currency.message(), HasSubstr("amount.currency"));
  absl::Status early = sim_.Append("deal-D1", r("EUR", "2026-01-31")).status();
  EXPECT_EQ(early.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(early.message(), HasSubstr("service_period_start"));
  sim_.Ok("period-2026-02", PeriodClosed("2026-02"));
  EXPECT_EQ(Code("period-2026-02", PeriodClosed("2026-02")),
            absl::StatusCode::kAlreadyExists);
  absl::Status closed = sim_.Append("deal-D1", r()).status();
  EXPECT_EQ(closed.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(closed.message(),
              HasSubstr("booked_on: 2026-02-01 is in a closed period"));
  sim_.Ok("deal-D1", r("EUR", "2026-02-01", "2026-03-01"));
  absl::Status reused =
      sim_.Append("deal-D1", r("EUR", "2026-02-01", "2026-03-02")).status();
  EXPECT_EQ(reused.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(reused.message(), HasSubstr("'R1'"));
  EXPECT_EQ(Code("deal-D1", DealClosed()),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(PartnershipTest, ClosingAMonthLocksItAndEveryEarlierDate) {
  WonDeal("D1", DealSpec{});
  sim_.Ok("deal-D1",
          RevenueBooked("R1", "EUR", 100'00, "2026-02-01", "2026-05-10"));
  sim_.Ok("period-2026-06", PeriodClosed("2026-06"));
  // Bookings dated in May (never closed itself) or on the month end.
  absl::Status may =
      sim_.Append("deal-D1",
                  RevenueBooked("R2", "EUR", 1'00, "2026-02-01", "2026-05-20"))
          .status();
  EXPECT_EQ(may.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(may.message(), HasSubstr("booked_on: 2026-05-20"));
  EXPECT_THAT(may.message(), HasSubstr("through 2026-06"));
  EXPECT_EQ(Code("deal-D1",
                 RevenueBooked("R2", "EUR", 1'00, "2026-02-01", "2026-06-30")),
            absl::StatusCode::kFailedPrecondition);
  sim_.Ok("deal-D1",
          RevenueBooked("R2", "EUR", 1'00, "2026-02-01", "2026-07-01"));
  // Reversals and settlements are dated by occurred_at (UTC).
  absl::Status reversal =
      sim_.Append("deal-D1", RevenueReversed("R1", "EUR", 10'00), "2026-06-30")
          .status();
  EXPECT_EQ(reversal.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(reversal.message(), HasSubstr("occurred_at: 2026-06-30"));
  sim_.Ok("deal-D1", RevenueReversed("R1", "EUR", 10'00), "2026-07-01");
  absl::Status settlement =
      sim_.Append("settlement-S1", SettlementRecorded("F", "C", "EUR", 1'00),
                  "2026-01-15")
          .status();
  EXPECT_EQ(settlement.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(settlement.message(), HasSubstr("occurred_at: 2026-01-15"));
  sim_.Ok("settlement-S1", SettlementRecorded("F", "C", "EUR", 1'00),
          "2026-07-02");
  // Closing the same or an earlier month again records nothing.
  absl::Status earlier =
      sim_.Append("period-2026-05", PeriodClosed("2026-05")).status();
  EXPECT_EQ(earlier.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(earlier.message(), HasSubstr("2026-05 is already closed"));
  EXPECT_EQ(Code("period-2026-06", PeriodClosed("2026-06")),
            absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE(sim_.Get<sv1::Period>(keys::Period("2026-05")).has_value());
  EXPECT_EQ(sim_.Must<sv1::Period>(keys::PeriodClosedThrough()).period(),
            "2026-06");
  sim_.Ok("period-2026-07", PeriodClosed("2026-07"));
  EXPECT_EQ(sim_.Must<sv1::Period>(keys::PeriodClosedThrough()).period(),
            "2026-07");
  EXPECT_EQ(Code("deal-D1",
                 RevenueBooked("R3", "EUR", 1'00, "2026-02-01", "2026-07-31")),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(sim_.Rebuild().kv() == sim_.state().kv());
}

TEST_F(PartnershipTest, RevenueReversedRejections) {
  WonDeal("D1", DealSpec{});
  sim_.Ok("deal-D1", RevenueBooked("R1", "EUR", 100'00, "2026-02-01"));
  absl::Status unknown =
      sim_.Append("deal-D1", RevenueReversed("R9", "EUR", 1)).status();
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(unknown.message(), HasSubstr("'R9'"));
  EXPECT_EQ(Code("deal-D9", RevenueReversed("R1", "EUR", 1)),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Code("deal-D1", RevenueReversed("R1", "USD", 1)),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code("deal-D1", RevenueReversed("R1", "EUR", 100'01)),
            absl::StatusCode::kFailedPrecondition);
  sim_.Ok("deal-D1", RevenueReversed("R1", "EUR", 60'00));
  EXPECT_EQ(Code("deal-D1", RevenueReversed("R1", "EUR", 40'01)),
            absl::StatusCode::kFailedPrecondition);
  sim_.Ok("deal-D1", RevenueReversed("R1", "EUR", 40'00));
}

TEST_F(PartnershipTest, SettlementConflictAndDerivedOnlyRejections) {
  WonDeal("D1", DealSpec{});
  sim_.Ok("deal-D1", RevenueBooked("R1", "EUR", 100'00, "2026-02-01"));  // 25
  absl::Status over =
      sim_.Append("settlement-S1", SettlementRecorded("F", "C", "EUR", 25'01))
          .status();
  EXPECT_EQ(over.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(over.message(), HasSubstr("'F'"));
  // Wrong direction and wrong currency owe nothing.
  EXPECT_EQ(Code("settlement-S1", SettlementRecorded("C", "F", "EUR", 1)),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Code("settlement-S1", SettlementRecorded("F", "C", "USD", 1)),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Code("settlement-S1", SettlementRecorded("F", "Z", "EUR", 1)),
            absl::StatusCode::kNotFound);
  sim_.Ok("settlement-S1", SettlementRecorded("F", "C", "EUR", 25'00));
  EXPECT_EQ(Code("settlement-S1", SettlementRecorded("F", "C", "EUR", 0'01)),
            absl::StatusCode::kAlreadyExists);

  EXPECT_EQ(Code("conflict-K1", ConflictRaised("A9", "")),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Code("conflict-K1", ConflictRaised("A1", "D9")),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Code("conflict-K9", ConflictResolved()),
            absl::StatusCode::kNotFound);
  sim_.Ok("conflict-K1", ConflictRaised("A1", "D1"));
  EXPECT_EQ(Code("conflict-K1", ConflictRaised("A1", "D1")),
            absl::StatusCode::kAlreadyExists);
  sim_.Ok("conflict-K1", ConflictResolved());
  EXPECT_EQ(Code("conflict-K1", ConflictResolved()),
            absl::StatusCode::kFailedPrecondition);

  v1::EventPayload forged;
  forged.mutable_commission_accrued()->set_revenue_id("R1");
  EXPECT_EQ(Code("deal-D1", forged), absl::StatusCode::kInvalidArgument);
}

TEST(StateKeys, ComponentsAreEscapedAndPairsOrdered) {
  EXPECT_EQ(keys::Partner("C"), "partner/C");
  EXPECT_EQ(keys::PairAgreements("F", "C"), "pair-agreement/C/F");
  EXPECT_EQ(
      keys::CustomerRegistration("acme/eu 1", "F", sv1::OFFERING_CLASS_SAAS),
      "customer-reg/acme%2Feu%201/F/saas");
  EXPECT_EQ(
      keys::Obligation("F", "C", "EUR", sv1::OBLIGATION_KIND_PASS_THROUGH),
      "obligation/F/C/EUR/pass_through");
  EXPECT_EQ(keys::StatementLine("F", "C", "EUR", "2026-02", 42),
            "statement-line/F/C/EUR/2026-02/00000000000000000042");
}

}  // namespace
}  // namespace partnerledger::domain::testing

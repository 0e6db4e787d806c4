#include "domain/validate.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "partnerledger/limits.h"
#include "partnerledger/v1/events.pb.h"

namespace partnerledger::domain {
namespace {

using v1::EventPayload;

constexpr char kField[] = "events[0].payload";
const std::string kSha(64, 'a');

// Streams, with static storage: StreamName holds views.
StreamName Stream(std::string_view name) {
  absl::StatusOr<StreamName> s = ParseStreamName(name);
  EXPECT_TRUE(s.ok()) << name << ": " << s.status();
  return s.ok() ? *s : StreamName{};
}

void SetBands(google::protobuf::RepeatedPtrField<v1::MarginBand>* bands) {
  v1::MarginBand* b = bands->Add();
  b->set_from_year(1);
  b->set_rate_bp(1000);
  b = bands->Add();
  b->set_from_year(3);
  b->set_rate_bp(500);
}

void SetMoney(v1::Money* m) {
  m->set_currency("EUR");
  m->set_amount_minor(12345);
}

// A valid client payload of each type, and the stream it goes in.
struct Example {
  EventPayload::KindCase kind;
  const char* stream;
  EventPayload payload;
};

std::vector<Example> ValidExamples() {
  std::vector<Example> out;
  auto add = [&](EventPayload::KindCase k, const char* stream,
                 const std::function<void(EventPayload*)>& fill) {
    EventPayload p;
    fill(&p);
    EXPECT_EQ(p.kind_case(), k);
    out.push_back({k, stream, p});
  };
  add(EventPayload::kPartnerRegistered, "partner-p1", [](EventPayload* p) {
    v1::PartnerRegistered* e = p->mutable_partner_registered();
    e->set_legal_name("Acme B.V.");
    e->set_country("NL");
    e->set_pitch("We build things.");
    e->add_specialties("cloud");
  });
  add(EventPayload::kPartnerProfileUpdated, "partner-p1", [](EventPayload* p) {
    p->mutable_partner_profile_updated()->set_pitch("New pitch");
  });
  add(EventPayload::kAgreementSigned, "agreement-a1", [](EventPayload* p) {
    v1::AgreementSigned* e = p->mutable_agreement_signed();
    e->set_party_a("p1");
    e->set_party_b("p2");
    e->mutable_document()->set_sha256(kSha);
    e->mutable_document()->set_uri("s3://docs/a1.pdf");
    e->set_effective_from("2024-01-01");
    e->set_effective_to("2026-12-31");
    v1::MarginSchedule* s = e->add_schedules();
    s->set_offering_class(v1::OFFERING_CLASS_PROJECT);
    SetBands(s->mutable_bands());
    e->set_payment_terms_days(30);
  });
  add(EventPayload::kAgreementAmended, "agreement-a1", [](EventPayload* p) {
    v1::AgreementAmended* e = p->mutable_agreement_amended();
    v1::MarginSchedule* s = e->add_schedules();
    s->set_offering_class(v1::OFFERING_CLASS_SAAS);
    SetBands(s->mutable_bands());
    e->set_effective_from("2024-06-01");
  });
  add(EventPayload::kAgreementTerminated, "agreement-a1", [](EventPayload* p) {
    p->mutable_agreement_terminated()->set_effective_on("2025-01-01");
  });
  add(EventPayload::kSatisfactionRecorded, "agreement-a1", [](EventPayload* p) {
    v1::SatisfactionRecorded* e = p->mutable_satisfaction_recorded();
    e->set_subject(v1::SATISFACTION_SUBJECT_CUSTOMER);
    e->set_respondent("cust-contact");
    e->set_score(10);
    e->set_period("2024-05");
  });
  add(EventPayload::kDealOriginated, "deal-d1", [](EventPayload* p) {
    v1::DealOriginated* e = p->mutable_deal_originated();
    e->set_agreement_id("a1");
    e->set_originator("p1");
    e->set_provider("p2");
    e->set_prime("p2");
    e->mutable_customer()->set_key("c1");
    e->mutable_customer()->set_name("Customer One");
    e->set_offering_class(v1::OFFERING_CLASS_SAAS);
    e->set_currency("EUR");
    e->set_start_date("2024-02-29");
    SetMoney(e->mutable_expected_value());
  });
  add(EventPayload::kMarginAgreed, "deal-d1", [](EventPayload* p) {
    SetBands(p->mutable_margin_agreed()->mutable_bands());
  });
  add(EventPayload::kStatementOfWorkAttached, "deal-d1", [](EventPayload* p) {
    v1::StatementOfWorkAttached* e = p->mutable_statement_of_work_attached();
    e->set_sow_id("sow-1");
    e->set_version("v2");
    e->mutable_document()->set_sha256(kSha);
  });
  add(EventPayload::kPartnerDisclosed, "deal-d1", [](EventPayload* p) {
    p->mutable_partner_disclosed()->set_disclosed_on("2024-03-01");
  });
  add(EventPayload::kDealClosed, "deal-d1", [](EventPayload* p) {
    p->mutable_deal_closed()->set_outcome(v1::DEAL_OUTCOME_WON);
  });
  add(EventPayload::kRevenueBooked, "deal-d1", [](EventPayload* p) {
    v1::RevenueBooked* e = p->mutable_revenue_booked();
    e->set_revenue_id("r1");
    SetMoney(e->mutable_amount());
    e->set_service_period_start("2024-03-01");
    e->set_booked_on("2024-03-31");
    e->set_invoice_ref("INV-1");
  });
  add(EventPayload::kRevenueReversed, "deal-d1", [](EventPayload* p) {
    v1::RevenueReversed* e = p->mutable_revenue_reversed();
    e->set_revenue_id("r1");
    SetMoney(e->mutable_amount());
    e->set_reason("credit note");
  });
  add(EventPayload::kConflictRaised, "conflict-c1", [](EventPayload* p) {
    v1::ConflictRaised* e = p->mutable_conflict_raised();
    e->set_agreement_id("a1");
    e->set_deal_id("d1");
    e->set_kind(v1::CONFLICT_KIND_PAYMENT_DISPUTE);
    e->set_raised_by("p1");
    e->set_summary("late payment");
  });
  add(EventPayload::kConflictResolved, "conflict-c1", [](EventPayload* p) {
    p->mutable_conflict_resolved()->set_resolution("paid");
    p->mutable_conflict_resolved()->set_resolved_by("p2");
  });
  add(EventPayload::kSettlementRecorded, "settlement-s1", [](EventPayload* p) {
    v1::SettlementRecorded* e = p->mutable_settlement_recorded();
    e->set_payer("p1");
    e->set_payee("p2");
    SetMoney(e->mutable_amount());
    e->set_reference("wire-123");
  });
  add(EventPayload::kPeriodClosed, "period-2024-05", [](EventPayload* p) {
    p->mutable_period_closed()->set_period("2024-05");
  });
  return out;
}

Example ValidExample(EventPayload::KindCase k) {
  for (Example& e : ValidExamples()) {
    if (e.kind == k) return e;
  }
  ADD_FAILURE() << "no example for kind " << k;
  return {};
}

absl::Status Validate(const Example& e) {
  return ValidateProposedPayload(e.payload, Stream(e.stream), kField);
}

// INVALID_ARGUMENT whose message starts with exactly `path` then ": ".
::testing::AssertionResult IsInvalidAt(const absl::Status& s,
                                       const std::string& path) {
  if (s.code() != absl::StatusCode::kInvalidArgument) {
    return ::testing::AssertionFailure()
           << "code is " << s.code() << " (" << s << "), want INVALID_ARGUMENT";
  }
  const std::string msg(s.message());
  if (!msg.starts_with(path + ": ")) {
    return ::testing::AssertionFailure()
           << "message \"" << msg << "\" does not start with \"" << path
           << ": \"";
  }
  return ::testing::AssertionSuccess();
}

// ----- stream names --------------------------------------------------------

TEST(ParseStreamName, SplitsCategoryAndIdAtTheFirstDash) {
  absl::StatusOr<StreamName> s = ParseStreamName("deal-abc-1.x_y:z");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(std::string(s->category), "deal");
  EXPECT_EQ(std::string(s->id), "abc-1.x_y:z");

  absl::StatusOr<StreamName> p = ParseStreamName("period-2024-05");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(std::string(p->category), "period");
  EXPECT_EQ(std::string(p->id), "2024-05");
}

TEST(ParseStreamName, AcceptsEveryCategory) {
  for (const char* s : {"partner-p1", "agreement-a1", "deal-d1", "conflict-c1",
                        "settlement-s1", "period-1900-01"}) {
    EXPECT_TRUE(ParseStreamName(s).ok()) << s;
  }
}

TEST(ParseStreamName, RejectsUnknownCategory) {
  for (const char* s : {"invoice-1", "Deal-1", "deals-1", "-1"}) {
    EXPECT_TRUE(IsInvalidAt(ParseStreamName(s).status(), "stream")) << s;
  }
}

TEST(ParseStreamName, RejectsMissingDash) {
  EXPECT_TRUE(IsInvalidAt(ParseStreamName("deal").status(), "stream"));
  EXPECT_TRUE(IsInvalidAt(ParseStreamName("deal_1").status(), "stream"));
}

TEST(ParseStreamName, RejectsEmpty) {
  EXPECT_TRUE(IsInvalidAt(ParseStreamName("").status(), "stream"));
}

TEST(ParseStreamName, RejectsBadIdCharacters) {
  for (const char* s : {"deal-", "deal-a b", "deal-a/b", "deal-_x", "deal-.x",
                        "deal--x", "deal-caf\xc3\xa9", "deal-a\tb"}) {
    EXPECT_TRUE(IsInvalidAt(ParseStreamName(s).status(), "stream")) << s;
  }
}

TEST(ParseStreamName, RejectsIdLongerThan64) {
  EXPECT_TRUE(ParseStreamName("deal-" + std::string(64, 'x')).ok());
  EXPECT_TRUE(IsInvalidAt(
      ParseStreamName("deal-" + std::string(65, 'x')).status(), "stream"));
}

TEST(ParseStreamName, RejectsNameLongerThanTheLimit) {
  const std::string name =
      "deal-" + std::string(limits::kStreamNameBytesMax - 4, 'x');
  ASSERT_EQ(name.size(), limits::kStreamNameBytesMax + 1);
  absl::Status s = ParseStreamName(name).status();
  EXPECT_TRUE(IsInvalidAt(s, "stream"));
  EXPECT_NE(std::string(s.message()).find("longer than"), std::string::npos)
      << s;
}

TEST(ParseStreamName, PeriodIdMustBeYearDashMonth) {
  for (const char* s : {"period-2024-5", "period-2024-13", "period-2024-00",
                        "period-24-05", "period-2024-05-01", "period-202405",
                        "period-1899-12", "period-abcd-05", "period-p1"}) {
    EXPECT_TRUE(IsInvalidAt(ParseStreamName(s).status(), "stream")) << s;
  }
}

// ----- dates and periods ---------------------------------------------------

TEST(IsValidDate, AcceptsLeapDayOnlyInLeapYears) {
  EXPECT_TRUE(IsValidDate("2024-02-29"));
  EXPECT_TRUE(IsValidDate("2000-02-29"));
  EXPECT_FALSE(IsValidDate("2023-02-29"));
  EXPECT_FALSE(IsValidDate("1900-02-29"));
  EXPECT_FALSE(IsValidDate("2100-02-29"));
}

TEST(IsValidDate, RejectsImpossibleMonthsAndDays) {
  EXPECT_FALSE(IsValidDate("2026-13-01"));
  EXPECT_FALSE(IsValidDate("2026-00-01"));
  EXPECT_FALSE(IsValidDate("2026-01-00"));
  EXPECT_FALSE(IsValidDate("2026-01-32"));
  EXPECT_FALSE(IsValidDate("2026-04-31"));
  EXPECT_TRUE(IsValidDate("2026-04-30"));
  EXPECT_TRUE(IsValidDate("2026-12-31"));
}

TEST(IsValidDate, RequiresTheExactFormatAndYearRange) {
  EXPECT_TRUE(IsValidDate("1900-01-01"));
  EXPECT_TRUE(IsValidDate("9999-12-31"));
  EXPECT_FALSE(IsValidDate("1899-12-31"));
  EXPECT_FALSE(IsValidDate("2024-1-01"));
  EXPECT_FALSE(IsValidDate("2024/01/01"));
  EXPECT_FALSE(IsValidDate("2024-01-01T00"));
  EXPECT_FALSE(IsValidDate("20240101"));
  EXPECT_FALSE(IsValidDate("2024-01-0a"));
  EXPECT_FALSE(IsValidDate(""));
}

TEST(IsValidPeriod, AcceptsYearDashMonthOnly) {
  EXPECT_TRUE(IsValidPeriod("2024-01"));
  EXPECT_TRUE(IsValidPeriod("2024-12"));
  EXPECT_FALSE(IsValidPeriod("2024-13"));
  EXPECT_FALSE(IsValidPeriod("2024-00"));
  EXPECT_FALSE(IsValidPeriod("2024-1"));
  EXPECT_FALSE(IsValidPeriod("2024-01-01"));
}

// ----- types and streams ---------------------------------------------------

TEST(ValidateProposedPayload, ValidExampleOfEveryClientTypePasses) {
  const std::vector<Example> examples = ValidExamples();
  // Every kind except the two derived ones.
  ASSERT_EQ(
      examples.size(),
      static_cast<size_t>(
          EventPayload::descriptor()->FindOneofByName("kind")->field_count() -
          2));
  for (const Example& e : examples) {
    EXPECT_EQ(Validate(e), absl::OkStatus()) << EventTypeName(e.kind);
  }
}

TEST(ValidateProposedPayload, EmptyOptionalOnlyPayloadsPass) {
  EventPayload p;
  p.mutable_partner_profile_updated();
  EXPECT_EQ(ValidateProposedPayload(p, Stream("partner-p1"), kField),
            absl::OkStatus());
  EventPayload m;
  m.mutable_margin_agreed();  // bands resolved from the agreement
  EXPECT_EQ(ValidateProposedPayload(m, Stream("deal-d1"), kField),
            absl::OkStatus());
}

TEST(ValidateProposedPayload, RejectsNoTypeSet) {
  EXPECT_TRUE(IsInvalidAt(
      ValidateProposedPayload(EventPayload(), Stream("deal-d1"), kField),
      kField));
}

TEST(ValidateProposedPayload, RejectsDerivedTypes) {
  EventPayload a;
  v1::CommissionAccrued* ca = a.mutable_commission_accrued();
  ca->set_revenue_id("r1");
  ca->set_payer("p1");
  ca->set_payee("p2");
  ca->set_kind(v1::OBLIGATION_KIND_COMMISSION);
  ca->set_rate_bp(1000);
  ca->set_contract_year(1);
  SetMoney(ca->mutable_amount());
  absl::Status s = ValidateProposedPayload(a, Stream("deal-d1"), kField);
  EXPECT_TRUE(IsInvalidAt(s, kField));
  EXPECT_NE(std::string(s.message()).find("CommissionAccrued"),
            std::string::npos)
      << s;

  EventPayload r;
  r.mutable_commission_reversed()->set_revenue_id("r1");
  EXPECT_TRUE(IsInvalidAt(ValidateProposedPayload(r, Stream("deal-d1"), kField),
                          kField));
}

TEST(ValidateProposedPayload, RejectsTypeInWrongStreamCategory) {
  Example e = ValidExample(EventPayload::kRevenueBooked);
  absl::Status s =
      ValidateProposedPayload(e.payload, Stream("partner-p1"), kField);
  EXPECT_TRUE(IsInvalidAt(s, kField));
  EXPECT_NE(std::string(s.message()).find("RevenueBooked"), std::string::npos)
      << s;
  // Every valid example is rejected in every other category.
  for (const Example& x : ValidExamples()) {
    for (const char* stream :
         {"partner-p1", "agreement-a1", "deal-d1", "conflict-c1",
          "settlement-s1", "period-2024-05"}) {
      if (Stream(stream).category == Stream(x.stream).category) continue;
      EXPECT_TRUE(IsInvalidAt(
          ValidateProposedPayload(x.payload, Stream(stream), kField), kField))
          << EventTypeName(x.kind) << " in " << stream;
    }
  }
}

TEST(ValidateProposedPayload, RejectsPayloadLargerThanTheLimit) {
  Example e = ValidExample(EventPayload::kPartnerRegistered);
  for (size_t i = 0; i < limits::kSpecialtiesMax; ++i) {
    e.payload.mutable_partner_registered()->add_specialties(
        std::string(limits::kTextBytesMax, 'x'));
  }
  ASSERT_GT(e.payload.ByteSizeLong(), limits::kEventPayloadBytesMax);
  EXPECT_TRUE(IsInvalidAt(Validate(e), kField));
}

// ----- one rule at a time --------------------------------------------------

struct Breakage {
  EventPayload::KindCase kind;
  std::function<void(EventPayload*)> mutate;
  std::string path;  // after "events[0].payload."
};

void ExpectEachBreakageRejected(const std::vector<Breakage>& cases) {
  for (const Breakage& b : cases) {
    Example e = ValidExample(b.kind);
    ASSERT_EQ(Validate(e), absl::OkStatus()) << b.path;
    b.mutate(&e.payload);
    EXPECT_TRUE(IsInvalidAt(Validate(e), std::string(kField) + "." + b.path))
        << b.path;
  }
}

TEST(ValidateProposedPayload, RejectsMissingRequiredFieldsOfEveryType) {
  using P = EventPayload*;
  const EventPayload::KindCase kPR = EventPayload::kPartnerRegistered,
                               kAS = EventPayload::kAgreementSigned,
                               kAA = EventPayload::kAgreementAmended,
                               kAT = EventPayload::kAgreementTerminated,
                               kSR = EventPayload::kSatisfactionRecorded,
                               kDO = EventPayload::kDealOriginated,
                               kSW = EventPayload::kStatementOfWorkAttached,
                               kPD = EventPayload::kPartnerDisclosed,
                               kDC = EventPayload::kDealClosed,
                               kRB = EventPayload::kRevenueBooked,
                               kRR = EventPayload::kRevenueReversed,
                               kCR = EventPayload::kConflictRaised,
                               kCS = EventPayload::kConflictResolved,
                               kST = EventPayload::kSettlementRecorded,
                               kPC = EventPayload::kPeriodClosed;
  ExpectEachBreakageRejected({
      {kPR, [](P p) { p->mutable_partner_registered()->clear_legal_name(); },
       "partner_registered.legal_name"},
      {kPR, [](P p) { p->mutable_partner_registered()->clear_country(); },
       "partner_registered.country"},
      {kAS, [](P p) { p->mutable_agreement_signed()->clear_party_a(); },
       "agreement_signed.party_a"},
      {kAS, [](P p) { p->mutable_agreement_signed()->clear_party_b(); },
       "agreement_signed.party_b"},
      {kAS, [](P p) { p->mutable_agreement_signed()->clear_document(); },
       "agreement_signed.document"},
      {kAS, [](P p) { p->mutable_agreement_signed()->clear_effective_from(); },
       "agreement_signed.effective_from"},
      {kAA, [](P p) { p->mutable_agreement_amended()->clear_schedules(); },
       "agreement_amended.schedules"},
      {kAA, [](P p) { p->mutable_agreement_amended()->clear_effective_from(); },
       "agreement_amended.effective_from"},
      {kAT,
       [](P p) { p->mutable_agreement_terminated()->clear_effective_on(); },
       "agreement_terminated.effective_on"},
      {kSR, [](P p) { p->mutable_satisfaction_recorded()->clear_subject(); },
       "satisfaction_recorded.subject"},
      {kSR, [](P p) { p->mutable_satisfaction_recorded()->clear_respondent(); },
       "satisfaction_recorded.respondent"},
      {kSR, [](P p) { p->mutable_satisfaction_recorded()->clear_period(); },
       "satisfaction_recorded.period"},
      {kDO, [](P p) { p->mutable_deal_originated()->clear_agreement_id(); },
       "deal_originated.agreement_id"},
      {kDO, [](P p) { p->mutable_deal_originated()->clear_originator(); },
       "deal_originated.originator"},
      {kDO, [](P p) { p->mutable_deal_originated()->clear_provider(); },
       "deal_originated.provider"},
      {kDO, [](P p) { p->mutable_deal_originated()->clear_prime(); },
       "deal_originated.prime"},
      {kDO, [](P p) { p->mutable_deal_originated()->clear_customer(); },
       "deal_originated.customer"},
      {kDO,
       [](P p) {
         p->mutable_deal_originated()->mutable_customer()->clear_key();
       },
       "deal_originated.customer.key"},
      {kDO, [](P p) { p->mutable_deal_originated()->clear_offering_class(); },
       "deal_originated.offering_class"},
      {kDO, [](P p) { p->mutable_deal_originated()->clear_currency(); },
       "deal_originated.currency"},
      {kDO, [](P p) { p->mutable_deal_originated()->clear_start_date(); },
       "deal_originated.start_date"},
      {kSW,
       [](P p) { p->mutable_statement_of_work_attached()->clear_sow_id(); },
       "statement_of_work_attached.sow_id"},
      {kSW,
       [](P p) { p->mutable_statement_of_work_attached()->clear_document(); },
       "statement_of_work_attached.document"},
      {kPD, [](P p) { p->mutable_partner_disclosed()->clear_disclosed_on(); },
       "partner_disclosed.disclosed_on"},
      {kDC, [](P p) { p->mutable_deal_closed()->clear_outcome(); },
       "deal_closed.outcome"},
      {kRB, [](P p) { p->mutable_revenue_booked()->clear_revenue_id(); },
       "revenue_booked.revenue_id"},
      {kRB, [](P p) { p->mutable_revenue_booked()->clear_amount(); },
       "revenue_booked.amount"},
      {kRB,
       [](P p) {
         p->mutable_revenue_booked()->mutable_amount()->clear_currency();
       },
       "revenue_booked.amount.currency"},
      {kRB,
       [](P p) { p->mutable_revenue_booked()->clear_service_period_start(); },
       "revenue_booked.service_period_start"},
      {kRB, [](P p) { p->mutable_revenue_booked()->clear_booked_on(); },
       "revenue_booked.booked_on"},
      {kRR, [](P p) { p->mutable_revenue_reversed()->clear_revenue_id(); },
       "revenue_reversed.revenue_id"},
      {kRR, [](P p) { p->mutable_revenue_reversed()->clear_amount(); },
       "revenue_reversed.amount"},
      {kCR, [](P p) { p->mutable_conflict_raised()->clear_agreement_id(); },
       "conflict_raised.agreement_id"},
      {kCR, [](P p) { p->mutable_conflict_raised()->clear_kind(); },
       "conflict_raised.kind"},
      {kCR, [](P p) { p->mutable_conflict_raised()->clear_raised_by(); },
       "conflict_raised.raised_by"},
      {kCR, [](P p) { p->mutable_conflict_raised()->clear_summary(); },
       "conflict_raised.summary"},
      {kCS, [](P p) { p->mutable_conflict_resolved()->clear_resolution(); },
       "conflict_resolved.resolution"},
      {kCS, [](P p) { p->mutable_conflict_resolved()->clear_resolved_by(); },
       "conflict_resolved.resolved_by"},
      {kST, [](P p) { p->mutable_settlement_recorded()->clear_payer(); },
       "settlement_recorded.payer"},
      {kST, [](P p) { p->mutable_settlement_recorded()->clear_payee(); },
       "settlement_recorded.payee"},
      {kST, [](P p) { p->mutable_settlement_recorded()->clear_amount(); },
       "settlement_recorded.amount"},
      {kST, [](P p) { p->mutable_settlement_recorded()->clear_reference(); },
       "settlement_recorded.reference"},
      {kPC, [](P p) { p->mutable_period_closed()->clear_period(); },
       "period_closed.period"},
  });
}

TEST(ValidateProposedPayload, RejectsUnknownCurrency) {
  using P = EventPayload*;
  ExpectEachBreakageRejected({
      {EventPayload::kRevenueBooked,
       [](P p) {
         p->mutable_revenue_booked()->mutable_amount()->set_currency("EUX");
       },
       "revenue_booked.amount.currency"},
      {EventPayload::kRevenueBooked,
       [](P p) {
         p->mutable_revenue_booked()->mutable_amount()->set_currency("eur");
       },
       "revenue_booked.amount.currency"},
      {EventPayload::kDealOriginated,
       [](P p) { p->mutable_deal_originated()->set_currency("EUX"); },
       "deal_originated.currency"},
      {EventPayload::kSettlementRecorded,
       [](P p) {
         p->mutable_settlement_recorded()->mutable_amount()->set_currency(
             "XXXX");
       },
       "settlement_recorded.amount.currency"},
  });
}

TEST(ValidateProposedPayload, AmountMustBePositiveAndAtMostTenToTheFifteen) {
  using P = EventPayload*;
  auto amount = [](int64_t v) {
    return [v](P p) {
      p->mutable_revenue_booked()->mutable_amount()->set_amount_minor(v);
    };
  };
  const std::string path = "revenue_booked.amount.amount_minor";
  ExpectEachBreakageRejected({
      {EventPayload::kRevenueBooked, amount(0), path},
      {EventPayload::kRevenueBooked, amount(-1), path},
      {EventPayload::kRevenueBooked, amount(INT64_MIN), path},
      {EventPayload::kRevenueBooked, amount(limits::kAmountMinorMax + 1), path},
      {EventPayload::kRevenueBooked, amount(INT64_MAX), path},
      {EventPayload::kRevenueReversed,
       [](P p) {
         p->mutable_revenue_reversed()->mutable_amount()->set_amount_minor(0);
       },
       "revenue_reversed.amount.amount_minor"},
      {EventPayload::kSettlementRecorded,
       [](P p) {
         p->mutable_settlement_recorded()->mutable_amount()->set_amount_minor(
             -5);
       },
       "settlement_recorded.amount.amount_minor"},
  });
  ASSERT_EQ(limits::kAmountMinorMax, 1'000'000'000'000'000);
  for (int64_t ok : {int64_t{1}, limits::kAmountMinorMax}) {
    Example e = ValidExample(EventPayload::kRevenueBooked);
    e.payload.mutable_revenue_booked()->mutable_amount()->set_amount_minor(ok);
    EXPECT_EQ(Validate(e), absl::OkStatus()) << ok;
  }
}

TEST(ValidateProposedPayload, MarginBandsStartAtYearOneIncreaseAndStayInRange) {
  using P = EventPayload*;
  auto band = [](P p, int i) {
    return p->mutable_margin_agreed()->mutable_bands(i);
  };
  ExpectEachBreakageRejected({
      {EventPayload::kMarginAgreed, [&](P p) { band(p, 0)->set_from_year(2); },
       "margin_agreed.bands[0].from_year"},
      {EventPayload::kMarginAgreed, [&](P p) { band(p, 0)->set_from_year(0); },
       "margin_agreed.bands[0].from_year"},
      {EventPayload::kMarginAgreed, [&](P p) { band(p, 1)->set_from_year(1); },
       "margin_agreed.bands[1].from_year"},
      {EventPayload::kMarginAgreed,
       [&](P p) {
         v1::MarginBand* b = p->mutable_margin_agreed()->add_bands();
         b->set_from_year(2);  // after year 3
         b->set_rate_bp(100);
       },
       "margin_agreed.bands[2].from_year"},
      {EventPayload::kMarginAgreed,
       [&](P p) { band(p, 0)->set_rate_bp(10001); },
       "margin_agreed.bands[0].rate_bp"},
      {EventPayload::kMarginAgreed, [&](P p) { band(p, 1)->set_rate_bp(-1); },
       "margin_agreed.bands[1].rate_bp"},
      {EventPayload::kAgreementSigned,
       [](P p) {
         p->mutable_agreement_signed()
             ->mutable_schedules(0)
             ->mutable_bands(0)
             ->set_from_year(2);
       },
       "agreement_signed.schedules[0].bands[0].from_year"},
      {EventPayload::kAgreementAmended,
       [](P p) {
         p->mutable_agreement_amended()
             ->mutable_schedules(0)
             ->mutable_bands(1)
             ->set_rate_bp(10001);
       },
       "agreement_amended.schedules[0].bands[1].rate_bp"},
      {EventPayload::kAgreementSigned,
       [](P p) {
         p->mutable_agreement_signed()->mutable_schedules(0)->clear_bands();
       },
       "agreement_signed.schedules[0].bands"},
  });
  Example e = ValidExample(EventPayload::kMarginAgreed);
  band(&e.payload, 0)->set_rate_bp(10000);
  band(&e.payload, 1)->set_rate_bp(0);
  EXPECT_EQ(Validate(e), absl::OkStatus());
}

TEST(ValidateProposedPayload, RejectsTooManyBands) {
  Example e = ValidExample(EventPayload::kMarginAgreed);
  e.payload.mutable_margin_agreed()->clear_bands();
  for (size_t i = 1; i <= limits::kMarginBandsMax + 1; ++i) {
    v1::MarginBand* b = e.payload.mutable_margin_agreed()->add_bands();
    b->set_from_year(static_cast<int>(i));
    b->set_rate_bp(100);
  }
  EXPECT_TRUE(
      IsInvalidAt(Validate(e), std::string(kField) + ".margin_agreed.bands"));
  e.payload.mutable_margin_agreed()->mutable_bands()->RemoveLast();
  EXPECT_EQ(Validate(e), absl::OkStatus());
}

TEST(ValidateProposedPayload, SatisfactionScoreIsZeroToTen) {
  using P = EventPayload*;
  ExpectEachBreakageRejected({
      {EventPayload::kSatisfactionRecorded,
       [](P p) { p->mutable_satisfaction_recorded()->set_score(11); },
       "satisfaction_recorded.score"},
      {EventPayload::kSatisfactionRecorded,
       [](P p) { p->mutable_satisfaction_recorded()->set_score(-1); },
       "satisfaction_recorded.score"},
  });
  Example e = ValidExample(EventPayload::kSatisfactionRecorded);
  e.payload.mutable_satisfaction_recorded()->set_score(0);
  EXPECT_EQ(Validate(e), absl::OkStatus());
}

TEST(ValidateProposedPayload, PeriodClosedMustNameTheStreamsPeriod) {
  Example e = ValidExample(EventPayload::kPeriodClosed);
  e.payload.mutable_period_closed()->set_period("2024-06");
  absl::Status s = Validate(e);
  EXPECT_TRUE(IsInvalidAt(s, std::string(kField) + ".period_closed.period"));
  EXPECT_NE(std::string(s.message()).find("2024-05"), std::string::npos) << s;

  e.payload.mutable_period_closed()->set_period("2024-6");
  EXPECT_TRUE(
      IsInvalidAt(Validate(e), std::string(kField) + ".period_closed.period"));
}

TEST(ValidateProposedPayload, RejectsMalformedDatesPeriodsAndIds) {
  using P = EventPayload*;
  ExpectEachBreakageRejected({
      {EventPayload::kRevenueBooked,
       [](P p) { p->mutable_revenue_booked()->set_booked_on("2023-02-29"); },
       "revenue_booked.booked_on"},
      {EventPayload::kDealOriginated,
       [](P p) { p->mutable_deal_originated()->set_start_date("2026-13-01"); },
       "deal_originated.start_date"},
      {EventPayload::kSatisfactionRecorded,
       [](P p) { p->mutable_satisfaction_recorded()->set_period("2024-13"); },
       "satisfaction_recorded.period"},
      {EventPayload::kRevenueBooked,
       [](P p) { p->mutable_revenue_booked()->set_revenue_id("r 1"); },
       "revenue_booked.revenue_id"},
      {EventPayload::kSettlementRecorded,
       [](P p) {
         p->mutable_settlement_recorded()->set_payer(std::string(65, 'p'));
       },
       "settlement_recorded.payer"},
      {EventPayload::kConflictRaised,
       [](P p) { p->mutable_conflict_raised()->set_deal_id("-d1"); },
       "conflict_raised.deal_id"},
      {EventPayload::kAgreementSigned,
       [](P p) {
         p->mutable_agreement_signed()->set_effective_to("2023-12-31");
       },
       "agreement_signed.effective_to"},
  });
}

TEST(ValidateProposedPayload, RejectsInconsistentParties) {
  using P = EventPayload*;
  ExpectEachBreakageRejected({
      {EventPayload::kAgreementSigned,
       [](P p) { p->mutable_agreement_signed()->set_party_b("p1"); },
       "agreement_signed.party_b"},
      {EventPayload::kDealOriginated,
       [](P p) { p->mutable_deal_originated()->set_provider("p1"); },
       "deal_originated.provider"},
      {EventPayload::kDealOriginated,
       [](P p) { p->mutable_deal_originated()->set_prime("p3"); },
       "deal_originated.prime"},
      {EventPayload::kDealOriginated,
       [](P p) {
         p->mutable_deal_originated()->mutable_expected_value()->set_currency(
             "USD");
       },
       "deal_originated.expected_value.currency"},
      {EventPayload::kSettlementRecorded,
       [](P p) { p->mutable_settlement_recorded()->set_payee("p1"); },
       "settlement_recorded.payee"},
  });
}

TEST(ValidateProposedPayload, RejectsMalformedDocumentsCountriesAndSchedules) {
  using P = EventPayload*;
  ExpectEachBreakageRejected({
      {EventPayload::kAgreementSigned,
       [](P p) {
         p->mutable_agreement_signed()->mutable_document()->set_sha256(
             std::string(63, 'a'));
       },
       "agreement_signed.document.sha256"},
      {EventPayload::kStatementOfWorkAttached,
       [](P p) {
         p->mutable_statement_of_work_attached()
             ->mutable_document()
             ->set_sha256(std::string(63, 'a') + "g");
       },
       "statement_of_work_attached.document.sha256"},
      {EventPayload::kPartnerRegistered,
       [](P p) { p->mutable_partner_registered()->set_country("nl"); },
       "partner_registered.country"},
      {EventPayload::kPartnerRegistered,
       [](P p) { p->mutable_partner_registered()->set_country("NLD"); },
       "partner_registered.country"},
      {EventPayload::kPartnerRegistered,
       [](P p) { p->mutable_partner_registered()->add_specialties(""); },
       "partner_registered.specialties[1]"},
      {EventPayload::kAgreementSigned,
       [](P p) {
         p->mutable_agreement_signed()
             ->mutable_schedules(0)
             ->set_offering_class(v1::OFFERING_CLASS_UNSPECIFIED);
       },
       "agreement_signed.schedules[0].offering_class"},
      {EventPayload::kAgreementSigned,
       [](P p) {
         *p->mutable_agreement_signed()->add_schedules() =
             p->agreement_signed().schedules(0);
       },
       "agreement_signed.schedules[1].offering_class"},
      {EventPayload::kAgreementSigned,
       [](P p) { p->mutable_agreement_signed()->set_payment_terms_days(3651); },
       "agreement_signed.payment_terms_days"},
      {EventPayload::kAgreementSigned,
       [](P p) { p->mutable_agreement_signed()->set_payment_terms_days(-1); },
       "agreement_signed.payment_terms_days"},
      {EventPayload::kConflictResolved,
       [](P p) {
         p->mutable_conflict_resolved()->set_resolution(
             std::string(limits::kTextBytesMax + 1, 'r'));
       },
       "conflict_resolved.resolution"},
  });
}

// BUG (src/domain/validate.cc): proto3 enums are open, so a client can send
// a number no enum value has. The validator only rejects *_UNSPECIFIED (0)
// for these fields (CheckSchedules alone checks the range), so e.g. a
// DealClosed with outcome 3 passes and partnership_apply.cc then treats it
// as LOST (`outcome() == WON` is false); subject 3 is treated as PARTNER.
TEST(ValidateProposedPayload, RejectsUndefinedEnumValues) {
  using P = EventPayload*;
  ExpectEachBreakageRejected({
      {EventPayload::kDealClosed,
       [](P p) {
         p->mutable_deal_closed()->set_outcome(static_cast<v1::DealOutcome>(3));
       },
       "deal_closed.outcome"},
      {EventPayload::kDealOriginated,
       [](P p) {
         p->mutable_deal_originated()->set_offering_class(
             static_cast<v1::OfferingClass>(4));
       },
       "deal_originated.offering_class"},
      {EventPayload::kSatisfactionRecorded,
       [](P p) {
         p->mutable_satisfaction_recorded()->set_subject(
             static_cast<v1::SatisfactionSubject>(3));
       },
       "satisfaction_recorded.subject"},
      {EventPayload::kConflictRaised,
       [](P p) {
         p->mutable_conflict_raised()->set_kind(
             static_cast<v1::ConflictKind>(6));
       },
       "conflict_raised.kind"},
  });
  // The schedule's offering class, by contrast, is range-checked.
  Example e = ValidExample(EventPayload::kAgreementSigned);
  e.payload.mutable_agreement_signed()
      ->mutable_schedules(0)
      ->set_offering_class(static_cast<v1::OfferingClass>(4));
  EXPECT_TRUE(IsInvalidAt(
      Validate(e),
      std::string(kField) + ".agreement_signed.schedules[0].offering_class"));
}

// BUG (contract mismatch): events.proto documents Document.sha256 as "64
// lowercase hex digits", but CheckDocument uses isxdigit and accepts
// uppercase, so one document can be pinned by two different strings.
TEST(ValidateProposedPayload, DocumentSha256MustBeLowercaseHex) {
  Example e = ValidExample(EventPayload::kAgreementSigned);
  e.payload.mutable_agreement_signed()->mutable_document()->set_sha256(
      std::string(64, 'A'));
  EXPECT_TRUE(IsInvalidAt(
      Validate(e), std::string(kField) + ".agreement_signed.document.sha256"));
}

TEST(ValidateProposedPayload, UsesTheGivenFieldPrefix) {
  Example e = ValidExample(EventPayload::kRevenueBooked);
  e.payload.mutable_revenue_booked()->mutable_amount()->set_currency("EUX");
  EXPECT_TRUE(IsInvalidAt(ValidateProposedPayload(e.payload, Stream("deal-d1"),
                                                  "events[7].payload"),
                          "events[7].payload.revenue_booked.amount.currency"));
}

TEST(ValidateProposedPayload, IdShapedFieldsSayWhichFormIsExpected) {
  const std::string expected =
      "\"Jane Doe\" is not an id: expected 1-64 of [A-Za-z0-9._:-], "
      "alphanumeric first";
  Example raised = ValidExample(EventPayload::kConflictRaised);
  raised.payload.mutable_conflict_raised()->set_raised_by("Jane Doe");
  absl::Status s = Validate(raised);
  EXPECT_TRUE(
      IsInvalidAt(s, std::string(kField) + ".conflict_raised.raised_by"));
  EXPECT_NE(std::string(s.message()).find(expected), std::string::npos) << s;

  Example resolved = ValidExample(EventPayload::kConflictResolved);
  resolved.payload.mutable_conflict_resolved()->set_resolved_by("Jane Doe");
  s = Validate(resolved);
  EXPECT_TRUE(
      IsInvalidAt(s, std::string(kField) + ".conflict_resolved.resolved_by"));
  EXPECT_NE(std::string(s.message()).find(expected), std::string::npos) << s;

  Example answered = ValidExample(EventPayload::kSatisfactionRecorded);
  answered.payload.mutable_satisfaction_recorded()->set_respondent("Jane Doe");
  s = Validate(answered);
  EXPECT_TRUE(IsInvalidAt(
      s, std::string(kField) + ".satisfaction_recorded.respondent"));
  EXPECT_NE(std::string(s.message()).find(expected), std::string::npos) << s;
}

}  // namespace
}  // namespace partnerledger::domain

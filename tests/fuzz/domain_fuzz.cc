// Fuzzes the pure partnership rules (src/domain) with event sequences
// derived from the fuzz bytes over a small universe of ids, so that events
// meet: 4 partners, 3 agreements, 5 deals, 6 revenue lines, 4 conflicts, 4
// currencies (EUR, JPY, BHD, USD), dates from 2025 on. Each proposal passes
// the structural validation first (as the writer requires), then
// Decide/Apply (domain_sim.h). After every accepted event:
//   per obligation: outstanding = accrued - reversed - settled, counters
//   >= 0, on_hold = min(held, max(outstanding, 0));
//   per revenue line: 0 <= reversed <= booked, margin and pass-through each
//   within what was accrued, obligation = the kind's part, reversing all
//   returns exactly the margin;
// and at the end a rebuild from the log equals the state byte for byte.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"
#include "domain/validate.h"
#include "domain_sim.h"
#include "partnerledger/storage/v1/state.pb.h"

namespace partnerledger::fuzz {
namespace {

namespace sv1 = storage::v1;

constexpr int64_t kDayUs = 86'400'000'000;
constexpr int64_t kAmountMax = 1'000'000'000'000'000;  // 10^15
const char* const kCurrencies[] = {"EUR", "JPY", "BHD", "USD"};

// "YYYY-MM-DD" of a day number since 1970-01-01 (civil_from_days, H.
// Hinnant).
std::string Date(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2);
  return absl::StrFormat("%04d-%02d-%02d", y, m, d);
}

class Program {
 public:
  Program(const uint8_t* data, size_t size) : in_(data, size) {}

  void Run(DomainSim& sim) {
    for (int step = 0; step < 64 && !in_.empty(); ++step) {
      today_ += in_.U8() % 40;  // business time moves forward
      const uint8_t op = in_.U8();
      std::string stream;
      v1::EventPayload p = Build(op, &stream);
      const absl::StatusOr<domain::StreamName> name =
          domain::ParseStreamName(stream);
      PL_FUZZ_CHECK(name.ok(), "generated a bad stream name " + stream);
      if (!domain::ValidateProposedPayload(p, *name, "payload").ok()) continue;
      const std::string id = DeriveUuid(absl::StrCat("fuzz/", step));
      if (sim.Append(stream, id, today_ * kDayUs, p).ok()) CheckInvariants(sim);
    }
    sim.CheckRebuildEqualsState();
  }

 private:
  std::string Partner() { return absl::StrCat("p", in_.Pick(4)); }
  std::string Day() { return Date(today_ - 200 + in_.U8() * 2); }
  std::string Period() { return Date(today_ - 100 + in_.U8()).substr(0, 7); }
  std::string Currency() { return kCurrencies[in_.Pick(4)]; }
  v1::OfferingClass Class() {
    return static_cast<v1::OfferingClass>(in_.Pick(4));
  }
  int64_t Amount() {
    switch (in_.Pick(4)) {
      case 0:
        return in_.U8() + 1;
      case 1:
        return in_.U32() % 100'000'000 + 1;
      case 2:
        return kAmountMax - in_.U8();
      default:
        return static_cast<int64_t>(in_.U64() % (kAmountMax + 2));
    }
  }
  void Bands(google::protobuf::RepeatedPtrField<v1::MarginBand>* out) {
    for (size_t n = in_.Pick(4), y = 1; n > 0; --n) {
      v1::MarginBand* b = out->Add();
      b->set_from_year(static_cast<int32_t>(y));
      b->set_rate_bp(in_.Pick(8) == 0 ? in_.U32() % 20000
                                      : (in_.U8() % 41) * 250);
      y += 1 + in_.Pick(2);
    }
  }
  void Schedules(google::protobuf::RepeatedPtrField<v1::MarginSchedule>* out) {
    for (size_t n = in_.Pick(3); n > 0; --n) {
      v1::MarginSchedule* s = out->Add();
      s->set_offering_class(Class());
      Bands(s->mutable_bands());
    }
  }
  void Money(v1::Money* m) {
    m->set_currency(Currency());
    m->set_amount_minor(Amount());
  }

  v1::EventPayload Build(uint8_t op, std::string* stream) {
    v1::EventPayload p;
    const std::string agreement = absl::StrCat("a", in_.Pick(3));
    const std::string deal = absl::StrCat("d", in_.Pick(5));
    switch (op % 15) {
      case 0: {
        *stream = "partner-" + Partner();
        auto* r = p.mutable_partner_registered();
        r->set_legal_name("Fuzz BV");
        r->set_country("NL");
        r->set_pitch(in_.Pick(2) ? "We sell." : "");
        return p;
      }
      case 1: {
        *stream = "agreement-" + agreement;
        auto* a = p.mutable_agreement_signed();
        a->set_party_a(Partner());
        a->set_party_b(Partner());
        a->mutable_document()->set_sha256(std::string(64, 'a'));
        a->mutable_document()->set_uri("s3://doc");
        a->set_effective_from(Day());
        if (in_.Pick(3) == 0) a->set_effective_to(Day());
        Schedules(a->mutable_schedules());
        a->set_payment_terms_days(30);
        return p;
      }
      case 2: {
        *stream = "agreement-" + agreement;
        auto* a = p.mutable_agreement_amended();
        Schedules(a->mutable_schedules());
        a->set_effective_from(Day());
        return p;
      }
      case 3: {
        *stream = "agreement-" + agreement;
        auto* t = p.mutable_agreement_terminated();
        t->set_effective_on(Day());
        t->set_reason("ended");
        return p;
      }
      case 4: {
        *stream = "agreement-" + agreement;
        auto* s = p.mutable_satisfaction_recorded();
        s->set_subject(static_cast<v1::SatisfactionSubject>(1 + in_.Pick(2)));
        s->set_respondent(Partner());
        s->set_score(static_cast<int32_t>(in_.Pick(12)));
        s->set_period(Period());
        return p;
      }
      case 5: {
        *stream = "deal-" + deal;
        auto* d = p.mutable_deal_originated();
        d->set_agreement_id(agreement);
        d->set_originator(Partner());
        d->set_provider(Partner());
        d->set_prime(in_.Pick(2) ? d->originator() : d->provider());
        d->mutable_customer()->set_key(absl::StrCat("k", in_.Pick(3)));
        d->mutable_customer()->set_name("Customer");
        d->set_offering_class(static_cast<v1::OfferingClass>(1 + in_.Pick(3)));
        d->set_currency(Currency());
        d->set_start_date(Day());
        if (in_.Pick(2)) Money(d->mutable_expected_value());
        d->set_disclosed_to_customer(in_.Pick(2));
        return p;
      }
      case 6: {
        *stream = "deal-" + deal;
        Bands(p.mutable_margin_agreed()->mutable_bands());
        return p;
      }
      case 7: {
        *stream = "deal-" + deal;
        p.mutable_deal_closed()->set_outcome(
            in_.Pick(4) == 0 ? v1::DEAL_OUTCOME_LOST : v1::DEAL_OUTCOME_WON);
        return p;
      }
      case 8: {
        *stream = "deal-" + deal;
        auto* r = p.mutable_revenue_booked();
        r->set_revenue_id(absl::StrCat("r", in_.Pick(6)));
        Money(r->mutable_amount());
        r->set_service_period_start(Day());
        r->set_booked_on(Day());
        r->set_invoice_ref("INV");
        return p;
      }
      case 9: {
        *stream = "deal-" + deal;
        auto* r = p.mutable_revenue_reversed();
        r->set_revenue_id(absl::StrCat("r", in_.Pick(6)));
        Money(r->mutable_amount());
        r->set_reason("credit note");
        return p;
      }
      case 10: {
        *stream = absl::StrCat("conflict-c", in_.Pick(4));
        auto* c = p.mutable_conflict_raised();
        c->set_agreement_id(agreement);
        if (in_.Pick(2)) c->set_deal_id(deal);
        c->set_kind(static_cast<v1::ConflictKind>(2 + in_.Pick(4)));
        c->set_raised_by(Partner());
        c->set_summary("dispute");
        return p;
      }
      case 11: {
        *stream = absl::StrCat("conflict-c", in_.Pick(4));
        p.mutable_conflict_resolved()->set_resolution("agreed");
        p.mutable_conflict_resolved()->set_resolved_by(Partner());
        return p;
      }
      case 12: {
        *stream = absl::StrCat("settlement-s", in_.Pick(8));
        auto* s = p.mutable_settlement_recorded();
        s->set_payer(Partner());
        s->set_payee(Partner());
        Money(s->mutable_amount());
        s->set_reference("wire");
        return p;
      }
      case 13: {
        const std::string period = Period();
        *stream = "period-" + period;
        p.mutable_period_closed()->set_period(period);
        return p;
      }
      default:
        *stream = "deal-" + deal;
        p.mutable_partner_disclosed()->set_disclosed_on(Day());
        return p;
    }
  }

  static void CheckObligation(const std::string& key,
                              const sv1::Obligation& o) {
    PL_FUZZ_CHECK(o.accrued_minor() >= 0 && o.reversed_minor() >= 0 &&
                      o.settled_minor() >= 0 && o.held_minor() >= 0,
                  key + ": a negative counter: " + o.ShortDebugString());
    PL_FUZZ_CHECK(o.accrued_minor() - o.reversed_minor() - o.settled_minor() ==
                      o.outstanding_minor(),
                  key + ": accrued - reversed - settled != outstanding: " +
                      o.ShortDebugString());
    const int64_t owed = std::max<int64_t>(o.outstanding_minor(), 0);
    PL_FUZZ_CHECK(
        o.on_hold_minor() == std::min(o.held_minor(), owed),
        key + ": on_hold != min(held, outstanding): " + o.ShortDebugString());
  }

  static void CheckLine(const std::string& key, const sv1::RevenueLine& l) {
    const std::string what = key + ": " + l.ShortDebugString();
    PL_FUZZ_CHECK(l.booked_minor() > 0 && l.reversed_minor() >= 0 &&
                      l.reversed_minor() <= l.booked_minor(),
                  "reversed outside [0, booked]: " + what);
    const int64_t margin = l.margin_accrued_minor();
    const int64_t margin_rev = l.margin_reversed_minor();
    const int64_t pass = l.booked_minor() - margin;
    const int64_t pass_rev = l.reversed_minor() - margin_rev;
    PL_FUZZ_CHECK(margin >= 0 && pass >= 0 && margin_rev >= 0 &&
                      margin_rev <= margin && pass_rev >= 0 && pass_rev <= pass,
                  "margin / pass-through outside what was accrued: " + what);
    if (l.reversed_minor() == l.booked_minor()) {
      PL_FUZZ_CHECK(margin_rev == margin, "full reversal left margin: " + what);
    }
    const bool commission = l.kind() == sv1::OBLIGATION_KIND_COMMISSION;
    PL_FUZZ_CHECK(
        l.obligation_accrued_minor() == (commission ? margin : pass) &&
            l.obligation_reversed_minor() ==
                (commission ? margin_rev : pass_rev),
        "obligation is not the kind's part: " + what);
  }

  static void CheckInvariants(const DomainSim& sim) {
    for (const auto& [key, value] : sim.state().kv()) {
      if (key.rfind("obligation/", 0) == 0) {
        sv1::Obligation o;
        PL_FUZZ_CHECK(o.ParseFromString(value), key + " does not parse");
        CheckObligation(key, o);
      } else if (key.rfind("deal-line/", 0) == 0) {
        sv1::RevenueLine l;
        PL_FUZZ_CHECK(l.ParseFromString(value), key + " does not parse");
        CheckLine(key, l);
      }
    }
  }

  ByteReader in_;
  int64_t today_ = 20089;  // 2025-01-01
};

}  // namespace
}  // namespace partnerledger::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace partnerledger;
  static const domain::Rules* rules = domain::NewPartnershipRules().release();
  fuzz::DomainSim sim(rules);
  fuzz::Program(data, size).Run(sim);
  return 0;
}

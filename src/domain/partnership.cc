#include "domain/partnership.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "domain/guidance.h"
#include "domain/money.h"
#include "domain/partnership_internal.h"
#include "domain/state_keys.h"
#include "partnerledger/limits.h"
#include "util/status_macros.h"
#include "util/uuid.h"

namespace partnerledger::domain {
namespace internal {

std::string_view StreamId(std::string_view stream) {
  const size_t dash = stream.find('-');
  return dash == std::string_view::npos ? std::string_view()
                                        : stream.substr(dash + 1);
}

std::string UtcDate(int64_t unix_us) {
  constexpr int64_t kUsPerDay = int64_t{86'400} * 1'000'000;
  int64_t days = unix_us / kUsPerDay;
  if (unix_us % kUsPerDay < 0) --days;  // floor, for instants before 1970
  // civil_from_days (H. Hinnant, "chrono-Compatible Low-Level Date
  // Algorithms"): proleptic Gregorian, exact for every int64 day count here.
  const int64_t z = days + 719'468;
  const int64_t era = (z >= 0 ? z : z - 146'096) / 146'097;
  const int64_t doe = z - era * 146'097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return absl::StrFormat("%04d-%02d-%02d", y, m, d);
}

std::string_view PeriodOf(std::string_view date) { return date.substr(0, 7); }

namespace {

int ParseDigits(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

}  // namespace

std::optional<int32_t> ContractYear(std::string_view start,
                                    std::string_view date) {
  if (date < start) return std::nullopt;
  int32_t years =
      ParseDigits(date.substr(0, 4)) - ParseDigits(start.substr(0, 4));
  // Before the anniversary in the line's year: one whole year less. "MM-DD"
  // compares as text.
  if (date.substr(5) < start.substr(5)) --years;
  return 1 + years;
}

int32_t RateForYear(
    const google::protobuf::RepeatedPtrField<sv1::MarginBand>& bands,
    int32_t year) {
  int32_t rate = 0;
  for (const sv1::MarginBand& b : bands) {
    if (b.from_year() <= year) rate = b.rate_bp();
  }
  return rate;
}

DealObligation ObligationOf(std::string_view originator,
                            std::string_view provider, std::string_view prime) {
  if (prime == provider) {
    return {std::string(provider), std::string(originator),
            sv1::OBLIGATION_KIND_COMMISSION};
  }
  return {std::string(originator), std::string(provider),
          sv1::OBLIGATION_KIND_PASS_THROUGH};
}

void RecomputeOnHold(sv1::Obligation& o) {
  const int64_t cap = std::max<int64_t>(o.outstanding_minor(), 0);
  o.set_on_hold_minor(std::clamp<int64_t>(o.held_minor(), 0, cap));
}

int64_t SettleableMinor(const sv1::Obligation& o) {
  return std::max<int64_t>(o.outstanding_minor() - o.on_hold_minor(), 0);
}

}  // namespace internal

namespace {

using namespace internal;  // NOLINT: this file implements the internals' user

// --- helpers -----------------------------------------------------------------

// Decide sees state through this overlay when it dry-runs Apply: the
// changes stay here and are dropped.
class ScratchState final : public StateWriter {
 public:
  explicit ScratchState(const StateView& base) : base_(base) {}

  absl::StatusOr<std::optional<std::string>> Get(
      std::string_view key) const override {
    auto it = changes_.find(key);
    if (it != changes_.end()) return it->second;
    return base_.Get(key);
  }
  void Put(std::string_view key, std::string value) override {
    changes_[std::string(key)] = std::move(value);
  }
  void Delete(std::string_view key) override {
    changes_[std::string(key)] = std::nullopt;
  }

 private:
  const StateView& base_;
  std::map<std::string, std::optional<std::string>, std::less<>> changes_;
};

template <typename T>
absl::StatusOr<T> Require(const StateView& state, const std::string& key,
                          std::string_view what, std::string_view id,
                          std::string_view field) {
  ASSIGN_OR_RETURN(std::optional<T> record, Load<T>(state, key));
  if (!record.has_value()) {
    return absl::NotFoundError(Cat(field, ": unknown ", what, " '", id, "'"));
  }
  return std::move(*record);
}

absl::Status RequireAbsent(const StateView& state, const std::string& key,
                           std::string_view what) {
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, state.Get(key));
  if (bytes.has_value()) {
    return absl::AlreadyExistsError(Cat(what, " already exists"));
  }
  return absl::OkStatus();
}

// The latest closed period ("YYYY-MM"), empty when none is closed.
absl::StatusOr<std::string> ClosedThrough(const StateView& state) {
  ASSIGN_OR_RETURN(std::optional<sv1::Period> through,
                   Load<sv1::Period>(state, keys::PeriodClosedThrough()));
  return through.has_value() ? through->period() : std::string();
}

// Whether `period` ("YYYY-MM") is closed: it or a later month was closed.
// The month's own record counts too (state kept before closing was
// cumulative has no period-closed-through).
absl::StatusOr<bool> PeriodIsClosed(const StateView& state,
                                    std::string_view period,
                                    const std::string& through) {
  if (!through.empty() && period <= through) return true;
  ASSIGN_OR_RETURN(std::optional<std::string> own,
                   state.Get(keys::Period(period)));
  return own.has_value();
}

// FAILED_PRECONDITION when `date` ("YYYY-MM-DD") is on or before the end of
// the latest closed period: closing a month locks it and every earlier date.
absl::Status CheckOpenDate(const StateView& state, std::string_view date,
                           std::string_view field) {
  ASSIGN_OR_RETURN(const std::string through, ClosedThrough(state));
  ASSIGN_OR_RETURN(const bool closed,
                   PeriodIsClosed(state, PeriodOf(date), through));
  if (closed) {
    return absl::FailedPreconditionError(
        Cat(field, ": ", date, " is in a closed period (every date through ",
            std::max(through, std::string(PeriodOf(date))),
            " is closed; book corrections into an open period)"));
  }
  return absl::OkStatus();
}

// Whether `a` is in force on some day of [from, to] (to empty: open-ended).
// A terminated agreement is in force on days before its effective_on.
bool ActiveDuring(const sv1::Agreement& a, std::string_view from,
                  std::string_view to) {
  if (!to.empty() && a.effective_from() > to) return false;
  if (!a.effective_to().empty() && a.effective_to() < from) return false;
  if (a.terminated() &&
      (a.terminated_on() <= from || a.terminated_on() <= a.effective_from())) {
    return false;
  }
  return true;
}

// --- partner, agreement ------------------------------------------------------

absl::Status DecidePartnerRegistered(const StateView& state,
                                     const Proposal& p) {
  const std::string_view id = StreamId(p.stream);
  return RequireAbsent(state, keys::Partner(id), Cat("partner '", id, "'"));
}

absl::Status DecidePartnerProfileUpdated(const StateView& state,
                                         const Proposal& p) {
  const std::string_view id = StreamId(p.stream);
  return Require<sv1::Partner>(state, keys::Partner(id), "partner", id,
                               "stream")
      .status();
}

absl::Status DecideAgreementSigned(const StateView& state, const Proposal& p) {
  const v1::AgreementSigned& e = p.payload->agreement_signed();
  const std::string_view id = StreamId(p.stream);
  RETURN_IF_ERROR(
      RequireAbsent(state, keys::Agreement(id), Cat("agreement '", id, "'")));
  RETURN_IF_ERROR(Require<sv1::Partner>(state, keys::Partner(e.party_a()),
                                        "partner", e.party_a(), "party_a")
                      .status());
  RETURN_IF_ERROR(Require<sv1::Partner>(state, keys::Partner(e.party_b()),
                                        "partner", e.party_b(), "party_b")
                      .status());
  ASSIGN_OR_RETURN(sv1::PairAgreements pair,
                   LoadOrEmpty<sv1::PairAgreements>(
                       state, keys::PairAgreements(e.party_a(), e.party_b())));
  for (const std::string& other_id : pair.agreement_ids()) {
    ASSIGN_OR_RETURN(
        sv1::Agreement other,
        Require<sv1::Agreement>(state, keys::Agreement(other_id), "agreement",
                                other_id, "pair-agreement index"));
    if (ActiveDuring(other, e.effective_from(), e.effective_to())) {
      return absl::FailedPreconditionError(
          Cat("agreement '", id, "' (", e.effective_from(), "..",
              e.effective_to(), ") overlaps active agreement '", other_id,
              "' between '", e.party_a(), "' and '", e.party_b(), "' (",
              other.effective_from(), "..", other.effective_to(), ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<sv1::Agreement> RequireOpenAgreement(const StateView& state,
                                                    std::string_view id) {
  ASSIGN_OR_RETURN(sv1::Agreement a,
                   Require<sv1::Agreement>(state, keys::Agreement(id),
                                           "agreement", id, "stream"));
  if (a.terminated()) {
    return absl::FailedPreconditionError(
        Cat("agreement '", id, "' already terminated on ", a.terminated_on()));
  }
  return a;
}

absl::Status DecideAgreementAmended(const StateView& state, const Proposal& p) {
  const v1::AgreementAmended& e = p.payload->agreement_amended();
  const std::string_view id = StreamId(p.stream);
  ASSIGN_OR_RETURN(sv1::Agreement a, RequireOpenAgreement(state, id));
  if (e.effective_from() < a.effective_from()) {
    return absl::InvalidArgumentError(
        Cat("effective_from: ", e.effective_from(), " is before agreement '",
            id, "' takes effect (", a.effective_from(), ")"));
  }
  if (!a.revenue_date_max().empty() &&
      e.effective_from() <= a.revenue_date_max()) {
    return absl::FailedPreconditionError(Cat(
        "effective_from: amendment of agreement '", id, "' from ",
        e.effective_from(),
        " is not after revenue already booked under its terms (service period "
        "starting ",
        a.revenue_date_max(), ")"));
  }
  return absl::OkStatus();
}

absl::Status DecideAgreementTerminated(const StateView& state,
                                       const Proposal& p) {
  return RequireOpenAgreement(state, StreamId(p.stream)).status();
}

absl::Status DecideSatisfactionRecorded(const StateView& state,
                                        const Proposal& p) {
  const std::string_view id = StreamId(p.stream);
  return Require<sv1::Agreement>(state, keys::Agreement(id), "agreement", id,
                                 "stream")
      .status();
}

// --- deals -------------------------------------------------------------------

absl::Status CheckDealRoles(const v1::DealOriginated& e,
                            const sv1::Agreement& a) {
  const bool parties =
      (e.originator() == a.party_a() && e.provider() == a.party_b()) ||
      (e.originator() == a.party_b() && e.provider() == a.party_a());
  if (!parties) {
    return absl::FailedPreconditionError(
        Cat("originator/provider: '", e.originator(), "' and '", e.provider(),
            "' are not the two parties of agreement '", e.agreement_id(),
            "' ('", a.party_a(), "' and '", a.party_b(), "')"));
  }
  return absl::OkStatus();
}

// The REGISTRATION_OVERLAP conflict, when another originator holds the
// customer + provider + class in a deal not yet closed.
absl::StatusOr<std::optional<DerivedEvent>> DeriveOverlap(
    const StateView& state, const Proposal& p) {
  const v1::DealOriginated& e = p.payload->deal_originated();
  ASSIGN_OR_RETURN(
      sv1::CustomerRegistration reg,
      LoadOrEmpty<sv1::CustomerRegistration>(
          state, keys::CustomerRegistration(e.customer().key(), e.provider(),
                                            ToStorage(e.offering_class()))));
  for (const sv1::RegisteredDeal& held : reg.deals()) {
    if (held.originator() == e.originator()) continue;
    DerivedEvent d;
    const std::string conflict_id =
        DeriveUuid(Cat(p.event_id, "/conflict/registration-overlap"));
    d.stream = Cat("conflict-", conflict_id);
    d.event_id = conflict_id;
    v1::ConflictRaised* c = d.payload.mutable_conflict_raised();
    c->set_agreement_id(e.agreement_id());
    c->set_deal_id(std::string(StreamId(p.stream)));
    c->set_other_deal_id(held.deal_id());
    c->set_kind(v1::CONFLICT_KIND_REGISTRATION_OVERLAP);
    c->set_raised_by("system");
    c->set_summary(
        Cat("customer '", e.customer().key(), "' for provider '", e.provider(),
            "' (", v1::OfferingClass_Name(e.offering_class()),
            ") is already registered by originator '", held.originator(),
            "' in open deal '", held.deal_id(), "'"));
    return std::optional<DerivedEvent>(std::move(d));
  }
  return std::optional<DerivedEvent>();
}

absl::StatusOr<Decision> DecideDealOriginated(const StateView& state,
                                              const Proposal& p) {
  const v1::DealOriginated& e = p.payload->deal_originated();
  const std::string_view id = StreamId(p.stream);
  RETURN_IF_ERROR(RequireAbsent(state, keys::Deal(id), Cat("deal '", id, "'")));
  ASSIGN_OR_RETURN(
      sv1::Agreement a,
      Require<sv1::Agreement>(state, keys::Agreement(e.agreement_id()),
                              "agreement", e.agreement_id(), "agreement_id"));
  RETURN_IF_ERROR(CheckDealRoles(e, a));
  if (a.terminated() && e.start_date() >= a.terminated_on()) {
    return absl::FailedPreconditionError(
        Cat("start_date: ", e.start_date(), " is not before agreement '",
            e.agreement_id(), "' terminated on ", a.terminated_on()));
  }
  Decision d;
  d.payload = *p.payload;
  ASSIGN_OR_RETURN(std::optional<DerivedEvent> overlap,
                   DeriveOverlap(state, p));
  if (overlap.has_value()) d.derived.push_back(std::move(*overlap));
  return d;
}

absl::StatusOr<sv1::Deal> RequireDeal(const StateView& state,
                                      std::string_view id,
                                      std::string_view field = "stream") {
  return Require<sv1::Deal>(state, keys::Deal(id), "deal", id, field);
}

// The guidance defaults of DESIGN §1.
void GuidanceBands(sv1::OfferingClass c, v1::MarginAgreed& out) {
  const MarginGuidance& g = GuidanceFor(c);
  v1::MarginBand* y1 = out.add_bands();
  y1->set_from_year(1);
  y1->set_rate_bp(g.year1_default_bp);
  v1::MarginBand* y2 = out.add_bands();
  y2->set_from_year(2);
  y2->set_rate_bp(g.later_default_bp);
}

// The agreement's schedule for `c` as in force on `date`, or null.
const sv1::MarginSchedule* ScheduleInForce(const sv1::Agreement& a,
                                           sv1::OfferingClass c,
                                           std::string_view date) {
  const sv1::MarginSchedule* best = nullptr;
  std::string_view best_from;
  for (int i = 0; i < a.versions_size(); ++i) {
    const sv1::ScheduleVersion& v = a.versions(i);
    const bool in_force = v.effective_from() <= date;
    if (i > 0 && !in_force) continue;
    // The signing applies even before it takes effect, as the fallback.
    // Both arms string_view: a std::string arm would make the result a
    // temporary the view outlives.
    const std::string_view from =
        in_force ? std::string_view(v.effective_from()) : std::string_view();
    for (const sv1::MarginSchedule& s : v.schedules()) {
      if (s.offering_class() != c) continue;
      if (best == nullptr || from >= best_from) {
        best = &s;
        best_from = from;
      }
    }
  }
  return best;
}

absl::StatusOr<Decision> DecideMarginAgreed(const StateView& state,
                                            const Proposal& p) {
  const std::string_view id = StreamId(p.stream);
  ASSIGN_OR_RETURN(sv1::Deal deal, RequireDeal(state, id));
  Decision d;
  d.payload = *p.payload;
  v1::MarginAgreed& m = *d.payload.mutable_margin_agreed();
  if (!m.bands().empty()) {
    m.set_source(v1::MARGIN_SOURCE_EXPLICIT);
    return d;
  }
  ASSIGN_OR_RETURN(sv1::Agreement a,
                   Require<sv1::Agreement>(
                       state, keys::Agreement(deal.agreement_id()), "agreement",
                       deal.agreement_id(), "deal.agreement_id"));
  const sv1::MarginSchedule* s =
      ScheduleInForce(a, deal.offering_class(), deal.start_date());
  if (s == nullptr) {
    GuidanceBands(deal.offering_class(), m);
    m.set_source(v1::MARGIN_SOURCE_GUIDANCE_DEFAULT);
    return d;
  }
  AppendToWire(s->bands(), m.mutable_bands());
  m.set_source(v1::MARGIN_SOURCE_AGREEMENT);
  return d;
}

absl::Status DecideDealExists(const StateView& state, const Proposal& p) {
  return RequireDeal(state, StreamId(p.stream)).status();
}

absl::Status DecideDealClosed(const StateView& state, const Proposal& p) {
  const std::string_view id = StreamId(p.stream);
  ASSIGN_OR_RETURN(sv1::Deal deal, RequireDeal(state, id));
  if (deal.status() != sv1::DEAL_STATUS_OPEN) {
    return absl::FailedPreconditionError(
        Cat("deal '", id, "' already closed (",
            sv1::DealStatus_Name(deal.status()), ")"));
  }
  return absl::OkStatus();
}

// --- revenue -----------------------------------------------------------------

absl::Status CheckBookable(const StateView& state, std::string_view id,
                           const sv1::Deal& deal, const v1::RevenueBooked& e) {
  if (deal.status() != sv1::DEAL_STATUS_WON) {
    return absl::FailedPreconditionError(
        Cat("deal '", id, "' is not WON (", sv1::DealStatus_Name(deal.status()),
            "): cannot book ", "revenue '", e.revenue_id(), "'"));
  }
  if (!deal.margin_agreed()) {
    return absl::FailedPreconditionError(
        Cat("deal '", id, "' has no margin agreed: cannot book revenue '",
            e.revenue_id(), "'"));
  }
  if (e.amount().currency() != deal.currency()) {
    return absl::InvalidArgumentError(
        Cat("amount.currency: ", e.amount().currency(),
            " is not the currency of deal '", id, "' (", deal.currency(), ")"));
  }
  if (e.service_period_start() < deal.start_date()) {
    return absl::InvalidArgumentError(
        Cat("service_period_start: ", e.service_period_start(),
            " is before the start_date of deal '", id, "' (", deal.start_date(),
            ")"));
  }
  return CheckOpenDate(state, e.booked_on(), "booked_on");
}

absl::StatusOr<Decision> DecideRevenueBooked(const StateView& state,
                                             const Proposal& p) {
  const v1::RevenueBooked& e = p.payload->revenue_booked();
  const std::string_view id = StreamId(p.stream);
  ASSIGN_OR_RETURN(sv1::Deal deal, RequireDeal(state, id));
  RETURN_IF_ERROR(RequireAbsent(state, keys::DealLine(id, e.revenue_id()),
                                Cat("revenue_id: revenue line '",
                                    e.revenue_id(), "' of deal '", id, "'")));
  RETURN_IF_ERROR(CheckBookable(state, id, deal, e));
  const int32_t year =
      *ContractYear(deal.start_date(), e.service_period_start());
  const int32_t rate = RateForYear(deal.bands(), year);
  const int64_t revenue = e.amount().amount_minor();
  ASSIGN_OR_RETURN(const int64_t margin, Commission(revenue, rate));
  const bool commission = deal.kind() == sv1::OBLIGATION_KIND_COMMISSION;
  Decision d;
  d.payload = *p.payload;
  DerivedEvent& accrued = d.derived.emplace_back();
  accrued.stream = p.stream;
  accrued.event_id = DeriveUuid(Cat(p.event_id, "/commission/accrued"));
  v1::CommissionAccrued* c = accrued.payload.mutable_commission_accrued();
  c->set_revenue_id(e.revenue_id());
  c->set_payer(deal.payer());
  c->set_payee(deal.payee());
  c->set_kind(ToWire(deal.kind()));
  c->set_rate_bp(rate);
  c->set_contract_year(year);
  c->mutable_amount()->set_currency(deal.currency());
  c->mutable_amount()->set_amount_minor(commission ? margin : revenue - margin);
  return d;
}

// The margin share a reversal of `amount` takes from `line`: half-even
// proportional to the line as booked, clamped so that neither the line's
// remaining margin nor its remaining revenue - margin goes negative; the
// last reversal therefore takes exactly what remains.
absl::StatusOr<int64_t> MarginShare(const sv1::RevenueLine& line,
                                    int64_t amount) {
  const int64_t revenue_left = line.booked_minor() - line.reversed_minor();
  const int64_t margin_left =
      line.margin_accrued_minor() - line.margin_reversed_minor();
  ASSIGN_OR_RETURN(int64_t share, MulDivHalfEven(line.margin_accrued_minor(),
                                                 amount, line.booked_minor()));
  const int64_t low =
      std::max<int64_t>(0, amount - (revenue_left - margin_left));
  return std::clamp(share, low, margin_left);
}

absl::StatusOr<Decision> DecideRevenueReversed(const StateView& state,
                                               const Proposal& p) {
  const v1::RevenueReversed& e = p.payload->revenue_reversed();
  const std::string_view id = StreamId(p.stream);
  ASSIGN_OR_RETURN(sv1::Deal deal, RequireDeal(state, id));
  ASSIGN_OR_RETURN(
      sv1::RevenueLine line,
      Require<sv1::RevenueLine>(state, keys::DealLine(id, e.revenue_id()),
                                Cat("revenue line of deal '", id, "'"),
                                e.revenue_id(), "revenue_id"));
  if (e.amount().currency() != deal.currency()) {
    return absl::InvalidArgumentError(
        Cat("amount.currency: ", e.amount().currency(),
            " is not the currency of deal '", id, "' (", deal.currency(), ")"));
  }
  // A reversal's statement date is its occurred_at (UTC).
  RETURN_IF_ERROR(
      CheckOpenDate(state, UtcDate(p.occurred_at_us), "occurred_at"));
  const int64_t amount = e.amount().amount_minor();
  const int64_t left = line.booked_minor() - line.reversed_minor();
  if (amount > left) {
    return absl::FailedPreconditionError(
        Cat("amount: reversing ", amount, " from revenue line '",
            e.revenue_id(), "' of deal '", id, "' but only ", left, " of ",
            line.booked_minor(), " remains"));
  }
  ASSIGN_OR_RETURN(const int64_t margin, MarginShare(line, amount));
  const bool commission = line.kind() == sv1::OBLIGATION_KIND_COMMISSION;
  Decision d;
  d.payload = *p.payload;
  DerivedEvent& reversed = d.derived.emplace_back();
  reversed.stream = p.stream;
  reversed.event_id = DeriveUuid(Cat(p.event_id, "/commission/reversed"));
  v1::CommissionReversed* c = reversed.payload.mutable_commission_reversed();
  c->set_revenue_id(e.revenue_id());
  c->set_payer(line.payer());
  c->set_payee(line.payee());
  c->set_kind(ToWire(line.kind()));
  c->set_rate_bp(line.rate_bp());
  c->set_contract_year(line.contract_year());
  c->mutable_amount()->set_currency(deal.currency());
  c->mutable_amount()->set_amount_minor(commission ? margin : amount - margin);
  return d;
}

// --- conflicts, settlements, periods -----------------------------------------

absl::Status DecideConflictRaised(const StateView& state, const Proposal& p) {
  const v1::ConflictRaised& e = p.payload->conflict_raised();
  const std::string_view id = StreamId(p.stream);
  RETURN_IF_ERROR(
      RequireAbsent(state, keys::Conflict(id), Cat("conflict '", id, "'")));
  RETURN_IF_ERROR(
      Require<sv1::Agreement>(state, keys::Agreement(e.agreement_id()),
                              "agreement", e.agreement_id(), "agreement_id")
          .status());
  if (!e.deal_id().empty()) {
    ASSIGN_OR_RETURN(sv1::Deal deal,
                     RequireDeal(state, e.deal_id(), "deal_id"));
    if (deal.agreement_id() != e.agreement_id()) {
      return absl::InvalidArgumentError(
          Cat("deal_id: deal '", e.deal_id(), "' is under agreement '",
              deal.agreement_id(), "', not '", e.agreement_id(), "'"));
    }
  }
  if (!e.other_deal_id().empty()) {
    RETURN_IF_ERROR(
        RequireDeal(state, e.other_deal_id(), "other_deal_id").status());
  }
  return absl::OkStatus();
}

absl::Status DecideConflictResolved(const StateView& state, const Proposal& p) {
  const std::string_view id = StreamId(p.stream);
  ASSIGN_OR_RETURN(sv1::Conflict c,
                   Require<sv1::Conflict>(state, keys::Conflict(id), "conflict",
                                          id, "stream"));
  if (c.status() != sv1::CONFLICT_STATUS_OPEN) {
    return absl::FailedPreconditionError(
        Cat("conflict '", id, "' is not open (resolved at position ",
            c.resolved_position(), ")"));
  }
  return absl::OkStatus();
}

absl::Status DecideSettlementRecorded(const StateView& state,
                                      const Proposal& p) {
  const v1::SettlementRecorded& e = p.payload->settlement_recorded();
  const std::string_view id = StreamId(p.stream);
  RETURN_IF_ERROR(
      RequireAbsent(state, keys::Settlement(id), Cat("settlement '", id, "'")));
  RETURN_IF_ERROR(Require<sv1::Partner>(state, keys::Partner(e.payer()),
                                        "partner", e.payer(), "payer")
                      .status());
  RETURN_IF_ERROR(Require<sv1::Partner>(state, keys::Partner(e.payee()),
                                        "partner", e.payee(), "payee")
                      .status());
  // A settlement's statement date is its occurred_at (UTC).
  RETURN_IF_ERROR(
      CheckOpenDate(state, UtcDate(p.occurred_at_us), "occurred_at"));
  const std::string& currency = e.amount().currency();
  int64_t settleable = 0;
  int64_t on_hold = 0;
  for (sv1::ObligationKind kind :
       {sv1::OBLIGATION_KIND_COMMISSION, sv1::OBLIGATION_KIND_PASS_THROUGH}) {
    ASSIGN_OR_RETURN(
        sv1::Obligation o,
        LoadOrEmpty<sv1::Obligation>(
            state, keys::Obligation(e.payer(), e.payee(), currency, kind)));
    settleable += SettleableMinor(o);
    on_hold += o.on_hold_minor();
  }
  if (e.amount().amount_minor() > settleable) {
    return absl::FailedPreconditionError(
        Cat("amount: settlement '", id, "' of ", e.amount().amount_minor(), " ",
            currency, " from '", e.payer(), "' to '", e.payee(),
            "' exceeds the outstanding not on hold (", settleable, "; on hold ",
            on_hold, ")"));
  }
  return absl::OkStatus();
}

absl::Status DecidePeriodClosed(const StateView& state, const Proposal& p) {
  const std::string& period = p.payload->period_closed().period();
  ASSIGN_OR_RETURN(const std::string through, ClosedThrough(state));
  ASSIGN_OR_RETURN(const bool closed, PeriodIsClosed(state, period, through));
  if (closed) {
    // Closed already, by itself or by a later month: nothing to record.
    return absl::AlreadyExistsError(
        Cat("period: ", period, " is already closed (every date through ",
            std::max(through, period), " is closed)"));
  }
  return absl::OkStatus();
}

// --- dispatch ----------------------------------------------------------------

// The decision for events that are recorded as proposed, once `check` passes.
absl::StatusOr<Decision> AsProposed(absl::Status check, const Proposal& p) {
  if (!check.ok()) return check;
  Decision d;
  d.payload = *p.payload;
  return d;
}

absl::StatusOr<Decision> DecideRules(const StateView& state,
                                     const Proposal& p) {
  using K = v1::EventPayload::KindCase;
  switch (p.payload->kind_case()) {
    case K::kPartnerRegistered:
      return AsProposed(DecidePartnerRegistered(state, p), p);
    case K::kPartnerProfileUpdated:
      return AsProposed(DecidePartnerProfileUpdated(state, p), p);
    case K::kAgreementSigned:
      return AsProposed(DecideAgreementSigned(state, p), p);
    case K::kAgreementAmended:
      return AsProposed(DecideAgreementAmended(state, p), p);
    case K::kAgreementTerminated:
      return AsProposed(DecideAgreementTerminated(state, p), p);
    case K::kSatisfactionRecorded:
      return AsProposed(DecideSatisfactionRecorded(state, p), p);
    case K::kDealOriginated:
      return DecideDealOriginated(state, p);
    case K::kMarginAgreed:
      return DecideMarginAgreed(state, p);
    case K::kStatementOfWorkAttached:
    case K::kPartnerDisclosed:
      return AsProposed(DecideDealExists(state, p), p);
    case K::kDealClosed:
      return AsProposed(DecideDealClosed(state, p), p);
    case K::kRevenueBooked:
      return DecideRevenueBooked(state, p);
    case K::kRevenueReversed:
      return DecideRevenueReversed(state, p);
    case K::kConflictRaised:
      return AsProposed(DecideConflictRaised(state, p), p);
    case K::kConflictResolved:
      return AsProposed(DecideConflictResolved(state, p), p);
    case K::kSettlementRecorded:
      return AsProposed(DecideSettlementRecorded(state, p), p);
    case K::kPeriodClosed:
      return AsProposed(DecidePeriodClosed(state, p), p);
    case K::kCommissionAccrued:
    case K::kCommissionReversed:
      return absl::InvalidArgumentError(
          "payload: CommissionAccrued/CommissionReversed are derived by the "
          "server and never sent by clients");
    case K::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("payload: no known event type set");
}

// Applies the decision to a scratch overlay, so an amount out of range
// surfaces now, as the proposal's error, rather than after recording.
absl::Status DryRun(const StateView& state, const Proposal& p,
                    const Decision& d) {
  ScratchState scratch(state);
  Recorded r;
  r.stream = p.stream;
  r.event_id = p.event_id;
  r.occurred_at_us = p.occurred_at_us;
  r.payload = &d.payload;
  RETURN_IF_ERROR(ApplyEvent(scratch, r));
  for (const DerivedEvent& derived : d.derived) {
    r.stream = derived.stream;
    r.event_id = derived.event_id;
    r.payload = &derived.payload;
    RETURN_IF_ERROR(ApplyEvent(scratch, r));
  }
  return absl::OkStatus();
}

class PartnershipRules final : public Rules {
 public:
  absl::StatusOr<Decision> Decide(const StateView& state,
                                  const Proposal& p) const override {
    ASSIGN_OR_RETURN(Decision d, DecideRules(state, p));
    RETURN_IF_ERROR(DryRun(state, p, d));
    return d;
  }

  absl::Status Apply(StateWriter& state, const Recorded& e) const override {
    return ApplyEvent(state, e);
  }
};

}  // namespace

std::unique_ptr<Rules> NewPartnershipRules() {
  return std::make_unique<PartnershipRules>();
}

}  // namespace partnerledger::domain

// Apply: folds one recorded event into state (state_keys.h). Every sum or
// difference of money goes through AddMoney/SubMoney (the Add/Sub helpers
// below), so a total that would leave the amount bounds is OUT_OF_RANGE; a
// counter or held amount that would go negative is INTERNAL ("invariant").
// Decide runs Apply on a scratch overlay first, so for a decided event
// neither happens here; if one does, the writer stops.
#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "domain/money.h"
#include "domain/partnership_internal.h"
#include "domain/state_keys.h"
#include "util/status_macros.h"

namespace partnerledger::domain::internal {
namespace {

// dst += delta, bounded.
absl::Status Add(int64_t& dst, int64_t delta) {
  ASSIGN_OR_RETURN(dst, AddMoney(dst, delta));
  return absl::OkStatus();
}

absl::Status Sub(int64_t& dst, int64_t delta) {
  ASSIGN_OR_RETURN(dst, SubMoney(dst, delta));
  return absl::OkStatus();
}

// An OUT_OF_RANGE from a pair's running totals, naming the total and the
// pair: the bound is per total, so the message says which one it reached.
absl::Status NamePairTotal(absl::Status s, const std::string& total,
                           const std::string& from, const std::string& to,
                           const std::string& currency) {
  if (s.code() != absl::StatusCode::kOutOfRange) return s;
  return absl::OutOfRangeError(absl::StrCat(
      total, " of ", from, " -> ", to, " in ", currency, ": ", s.message()));
}

void CopySchedules(
    const google::protobuf::RepeatedPtrField<v1::MarginSchedule>& in,
    sv1::ScheduleVersion& out) {
  for (const v1::MarginSchedule& s : in) *out.add_schedules() = ToStorage(s);
}

absl::StatusOr<sv1::Deal> LoadDeal(const StateView& state,
                                   std::string_view deal_id) {
  ASSIGN_OR_RETURN(std::optional<sv1::Deal> deal,
                   Load<sv1::Deal>(state, keys::Deal(deal_id)));
  if (!deal.has_value()) {
    return absl::InternalError(
        Cat("apply: deal '", deal_id, "' missing from state"));
  }
  return std::move(*deal);
}

absl::StatusOr<sv1::RevenueLine> LoadLine(const StateView& state,
                                          std::string_view deal_id,
                                          std::string_view revenue_id) {
  ASSIGN_OR_RETURN(
      std::optional<sv1::RevenueLine> line,
      Load<sv1::RevenueLine>(state, keys::DealLine(deal_id, revenue_id)));
  if (!line.has_value()) {
    return absl::InternalError(Cat("apply: revenue line '", revenue_id,
                                   "' of deal '", deal_id,
                                   "' missing from state"));
  }
  return std::move(*line);
}

// The referral money entry for `currency`, inserted in currency order.
sv1::ReferralMoney& MoneyFor(sv1::Referral& r, std::string_view currency) {
  auto* money = r.mutable_money();
  auto it =
      std::lower_bound(money->begin(), money->end(), currency,
                       [](const sv1::ReferralMoney& m, std::string_view c) {
                         return m.currency() < c;
                       });
  if (it != money->end() && it->currency() == currency) return *it;
  const int index = static_cast<int>(it - money->begin());
  money->Add()->set_currency(std::string(currency));
  // Rotate the new last element into its sorted place.
  for (int i = money->size() - 1; i > index; --i) money->SwapElements(i, i - 1);
  return money->at(index);
}

// Adds revenue (booked or reversed) and margin (accrued or reversed) to the
// originator -> provider referral balance.
absl::Status AddReferralTotals(StateWriter& state, const sv1::Deal& deal,
                               int64_t revenue_booked, int64_t revenue_reversed,
                               int64_t margin_accrued,
                               int64_t margin_reversed) {
  const std::string key = keys::Referral(deal.originator(), deal.provider());
  ASSIGN_OR_RETURN(sv1::Referral r, LoadOrEmpty<sv1::Referral>(state, key));
  sv1::ReferralMoney& m = MoneyFor(r, deal.currency());
  int64_t v;
  RETURN_IF_ERROR(Add(v = m.revenue_booked_minor(), revenue_booked));
  m.set_revenue_booked_minor(v);
  RETURN_IF_ERROR(Add(v = m.revenue_reversed_minor(), revenue_reversed));
  m.set_revenue_reversed_minor(v);
  ASSIGN_OR_RETURN(
      v, SubMoney(m.revenue_booked_minor(), m.revenue_reversed_minor()));
  m.set_revenue_net_minor(v);
  RETURN_IF_ERROR(Add(v = m.margin_accrued_minor(), margin_accrued));
  m.set_margin_accrued_minor(v);
  RETURN_IF_ERROR(Add(v = m.margin_reversed_minor(), margin_reversed));
  m.set_margin_reversed_minor(v);
  ASSIGN_OR_RETURN(
      v, SubMoney(m.margin_accrued_minor(), m.margin_reversed_minor()));
  m.set_margin_net_minor(v);
  Store(state, key, r);
  return absl::OkStatus();
}

absl::Status AddReferral(StateWriter& state, const sv1::Deal& deal,
                         int64_t revenue_booked, int64_t revenue_reversed,
                         int64_t margin_accrued, int64_t margin_reversed) {
  return NamePairTotal(
      AddReferralTotals(state, deal, revenue_booked, revenue_reversed,
                        margin_accrued, margin_reversed),
      "referral balance", deal.originator(), deal.provider(), deal.currency());
}

// One statement movement: the period totals and the line behind them.
absl::Status AddStatementTotals(StateWriter& state, const std::string& payer,
                                const std::string& payee,
                                const std::string& currency,
                                sv1::StatementLine line) {
  const std::string period(PeriodOf(line.date()));
  const std::string key = keys::Statement(payer, payee, currency, period);
  ASSIGN_OR_RETURN(sv1::StatementPeriod s,
                   LoadOrEmpty<sv1::StatementPeriod>(state, key));
  int64_t v;
  switch (line.type()) {
    case sv1::STATEMENT_LINE_TYPE_ACCRUAL:
      RETURN_IF_ERROR(Add(v = s.accrued_minor(), line.amount_minor()));
      s.set_accrued_minor(v);
      RETURN_IF_ERROR(Add(v = s.net_minor(), line.amount_minor()));
      break;
    case sv1::STATEMENT_LINE_TYPE_REVERSAL:
      RETURN_IF_ERROR(Add(v = s.reversed_minor(), line.amount_minor()));
      s.set_reversed_minor(v);
      RETURN_IF_ERROR(Sub(v = s.net_minor(), line.amount_minor()));
      break;
    default:
      RETURN_IF_ERROR(Add(v = s.settled_minor(), line.amount_minor()));
      s.set_settled_minor(v);
      RETURN_IF_ERROR(Sub(v = s.net_minor(), line.amount_minor()));
      break;
  }
  s.set_net_minor(v);
  s.set_lines(s.lines() + 1);
  Store(state, key, s);
  Store(state,
        keys::StatementLine(payer, payee, currency, period, line.position()),
        line);
  return absl::OkStatus();
}

absl::Status AddStatement(StateWriter& state, const std::string& payer,
                          const std::string& payee, const std::string& currency,
                          sv1::StatementLine line) {
  const std::string total =
      absl::StrCat("statement ", std::string(PeriodOf(line.date())), " total");
  return NamePairTotal(
      AddStatementTotals(state, payer, payee, currency, std::move(line)), total,
      payer, payee, currency);
}

// Moves `held_delta` into (or out of) the held part of the deal's
// obligation and re-derives on_hold.
absl::Status AddHeld(StateWriter& state, const sv1::Deal& deal,
                     int64_t held_delta) {
  if (held_delta == 0) return absl::OkStatus();
  const std::string key = keys::Obligation(deal.payer(), deal.payee(),
                                           deal.currency(), deal.kind());
  ASSIGN_OR_RETURN(sv1::Obligation o, LoadOrEmpty<sv1::Obligation>(state, key));
  int64_t v;
  RETURN_IF_ERROR(Add(v = o.held_minor(), held_delta));
  o.set_held_minor(v);
  RecomputeOnHold(o);
  Store(state, key, o);
  return absl::OkStatus();
}

// --- partner, agreement ------------------------------------------------------

absl::Status ApplyPartnerRegistered(StateWriter& state, const Recorded& e) {
  const v1::PartnerRegistered& p = e.payload->partner_registered();
  sv1::Partner partner;
  partner.set_legal_name(p.legal_name());
  partner.set_country(p.country());
  partner.set_pitch(p.pitch());
  for (const std::string& s : p.specialties()) partner.add_specialties(s);
  partner.set_registered_position(e.position);
  partner.set_registered_at_us(e.recorded_at_us);
  Store(state, keys::Partner(StreamId(e.stream)), partner);
  return absl::OkStatus();
}

absl::Status ApplyPartnerProfileUpdated(StateWriter& state, const Recorded& e) {
  const v1::PartnerProfileUpdated& p = e.payload->partner_profile_updated();
  const std::string key = keys::Partner(StreamId(e.stream));
  ASSIGN_OR_RETURN(sv1::Partner partner, LoadOrEmpty<sv1::Partner>(state, key));
  partner.set_pitch(p.pitch());
  partner.clear_specialties();
  for (const std::string& s : p.specialties()) partner.add_specialties(s);
  partner.set_updated_position(e.position);
  partner.set_updated_at_us(e.recorded_at_us);
  Store(state, key, partner);
  return absl::OkStatus();
}

absl::Status ApplyAgreementSigned(StateWriter& state, const Recorded& e) {
  const v1::AgreementSigned& p = e.payload->agreement_signed();
  const std::string_view id = StreamId(e.stream);
  sv1::Agreement a;
  a.set_party_a(p.party_a());
  a.set_party_b(p.party_b());
  *a.mutable_document() = ToStorage(p.document());
  a.set_effective_from(p.effective_from());
  a.set_effective_to(p.effective_to());
  sv1::ScheduleVersion* version = a.add_versions();
  version->set_effective_from(p.effective_from());
  version->set_position(e.position);
  CopySchedules(p.schedules(), *version);
  a.set_payment_terms_days(p.payment_terms_days());
  a.set_signed_position(e.position);
  a.set_signed_at_us(e.recorded_at_us);
  Store(state, keys::Agreement(id), a);

  const std::string pair_key = keys::PairAgreements(p.party_a(), p.party_b());
  ASSIGN_OR_RETURN(sv1::PairAgreements pair,
                   LoadOrEmpty<sv1::PairAgreements>(state, pair_key));
  pair.add_agreement_ids(std::string(id));
  Store(state, pair_key, pair);
  return absl::OkStatus();
}

absl::StatusOr<sv1::Agreement> LoadAgreement(const StateView& state,
                                             std::string_view id) {
  ASSIGN_OR_RETURN(std::optional<sv1::Agreement> a,
                   Load<sv1::Agreement>(state, keys::Agreement(id)));
  if (!a.has_value()) {
    return absl::InternalError(
        Cat("apply: agreement '", id, "' missing from state"));
  }
  return std::move(*a);
}

absl::Status ApplyAgreementAmended(StateWriter& state, const Recorded& e) {
  const v1::AgreementAmended& p = e.payload->agreement_amended();
  const std::string_view id = StreamId(e.stream);
  ASSIGN_OR_RETURN(sv1::Agreement a, LoadAgreement(state, id));
  sv1::ScheduleVersion* version = a.add_versions();
  version->set_effective_from(p.effective_from());
  version->set_position(e.position);
  CopySchedules(p.schedules(), *version);
  Store(state, keys::Agreement(id), a);
  return absl::OkStatus();
}

absl::Status ApplyAgreementTerminated(StateWriter& state, const Recorded& e) {
  const v1::AgreementTerminated& p = e.payload->agreement_terminated();
  const std::string_view id = StreamId(e.stream);
  ASSIGN_OR_RETURN(sv1::Agreement a, LoadAgreement(state, id));
  a.set_terminated(true);
  a.set_terminated_on(p.effective_on());
  a.set_termination_reason(p.reason());
  a.set_terminated_position(e.position);
  Store(state, keys::Agreement(id), a);
  return absl::OkStatus();
}

void AddScore(sv1::SatisfactionScores& s, int32_t score) {
  s.set_score_min(s.responses() == 0 ? score : std::min(s.score_min(), score));
  s.set_score_max(s.responses() == 0 ? score : std::max(s.score_max(), score));
  s.set_responses(s.responses() + 1);
  s.set_score_sum(s.score_sum() + score);
}

absl::Status ApplySatisfactionRecorded(StateWriter& state, const Recorded& e) {
  const v1::SatisfactionRecorded& p = e.payload->satisfaction_recorded();
  const std::string key = keys::Satisfaction(StreamId(e.stream), p.period());
  ASSIGN_OR_RETURN(sv1::Satisfaction s,
                   LoadOrEmpty<sv1::Satisfaction>(state, key));
  if (p.subject() == v1::SATISFACTION_SUBJECT_CUSTOMER) {
    AddScore(*s.mutable_customer(), p.score());
  } else {
    AddScore(*s.mutable_partner(), p.score());
  }
  Store(state, key, s);
  return absl::OkStatus();
}

// --- deal lifecycle ----------------------------------------------------------

absl::Status ApplyDealOriginated(StateWriter& state, const Recorded& e) {
  const v1::DealOriginated& p = e.payload->deal_originated();
  const std::string deal_id(StreamId(e.stream));
  sv1::Deal deal;
  deal.set_agreement_id(p.agreement_id());
  deal.set_originator(p.originator());
  deal.set_provider(p.provider());
  deal.set_prime(p.prime());
  deal.set_customer_key(p.customer().key());
  deal.set_customer_name(p.customer().name());
  deal.set_offering_class(ToStorage(p.offering_class()));
  deal.set_currency(p.currency());
  deal.set_start_date(p.start_date());
  deal.set_expected_value_minor(p.expected_value().amount_minor());
  deal.set_disclosed_to_customer(p.disclosed_to_customer());
  deal.set_status(sv1::DEAL_STATUS_OPEN);
  DealObligation o = ObligationOf(p.originator(), p.provider(), p.prime());
  deal.set_payer(o.payer);
  deal.set_payee(o.payee);
  deal.set_kind(o.kind);
  deal.set_originated_position(e.position);
  deal.set_originated_at_us(e.recorded_at_us);
  Store(state, keys::Deal(deal_id), deal);
  state.Put(keys::PairDeal(p.originator(), p.provider(), deal_id), "");

  ASSIGN_OR_RETURN(sv1::Agreement a, LoadAgreement(state, p.agreement_id()));
  a.set_deals(a.deals() + 1);
  Store(state, keys::Agreement(p.agreement_id()), a);

  const std::string reg_key = keys::CustomerRegistration(
      p.customer().key(), p.provider(), deal.offering_class());
  ASSIGN_OR_RETURN(sv1::CustomerRegistration reg,
                   LoadOrEmpty<sv1::CustomerRegistration>(state, reg_key));
  sv1::RegisteredDeal* r = reg.add_deals();
  r->set_deal_id(deal_id);
  r->set_originator(p.originator());
  Store(state, reg_key, reg);

  const std::string ref_key = keys::Referral(p.originator(), p.provider());
  ASSIGN_OR_RETURN(sv1::Referral ref,
                   LoadOrEmpty<sv1::Referral>(state, ref_key));
  ref.set_deals_originated(ref.deals_originated() + 1);
  Store(state, ref_key, ref);
  return absl::OkStatus();
}

absl::Status ApplyMarginAgreed(StateWriter& state, const Recorded& e) {
  const v1::MarginAgreed& p = e.payload->margin_agreed();
  const std::string_view deal_id = StreamId(e.stream);
  ASSIGN_OR_RETURN(sv1::Deal deal, LoadDeal(state, deal_id));
  deal.set_margin_agreed(true);
  deal.clear_bands();
  AppendToStorage(p.bands(), deal.mutable_bands());
  deal.set_margin_source(ToStorage(p.source()));
  Store(state, keys::Deal(deal_id), deal);
  return absl::OkStatus();
}

absl::Status ApplyStatementOfWorkAttached(StateWriter& state,
                                          const Recorded& e) {
  const v1::StatementOfWorkAttached& p =
      e.payload->statement_of_work_attached();
  const std::string_view deal_id = StreamId(e.stream);
  ASSIGN_OR_RETURN(sv1::Deal deal, LoadDeal(state, deal_id));
  sv1::StatementOfWork* sow = nullptr;
  for (sv1::StatementOfWork& s : *deal.mutable_statements_of_work()) {
    if (s.sow_id() == p.sow_id()) sow = &s;
  }
  if (sow == nullptr) sow = deal.add_statements_of_work();
  sow->set_sow_id(p.sow_id());
  sow->set_version(p.version());
  *sow->mutable_document() = ToStorage(p.document());
  sow->set_position(e.position);
  Store(state, keys::Deal(deal_id), deal);
  return absl::OkStatus();
}

absl::Status ApplyPartnerDisclosed(StateWriter& state, const Recorded& e) {
  const std::string_view deal_id = StreamId(e.stream);
  ASSIGN_OR_RETURN(sv1::Deal deal, LoadDeal(state, deal_id));
  deal.set_disclosed_to_customer(true);
  deal.set_disclosed_on(e.payload->partner_disclosed().disclosed_on());
  Store(state, keys::Deal(deal_id), deal);
  return absl::OkStatus();
}

absl::Status ApplyDealClosed(StateWriter& state, const Recorded& e) {
  const bool won = e.payload->deal_closed().outcome() == v1::DEAL_OUTCOME_WON;
  const std::string deal_id(StreamId(e.stream));
  ASSIGN_OR_RETURN(sv1::Deal deal, LoadDeal(state, deal_id));
  deal.set_status(won ? sv1::DEAL_STATUS_WON : sv1::DEAL_STATUS_LOST);
  deal.set_closed_position(e.position);
  deal.set_closed_at_us(e.recorded_at_us);
  Store(state, keys::Deal(deal_id), deal);

  // A closed deal no longer holds the customer's registration.
  const std::string reg_key = keys::CustomerRegistration(
      deal.customer_key(), deal.provider(), deal.offering_class());
  ASSIGN_OR_RETURN(sv1::CustomerRegistration reg,
                   LoadOrEmpty<sv1::CustomerRegistration>(state, reg_key));
  sv1::CustomerRegistration kept;
  for (const sv1::RegisteredDeal& r : reg.deals()) {
    if (r.deal_id() != deal_id) *kept.add_deals() = r;
  }
  if (kept.deals().empty()) {
    state.Delete(reg_key);
  } else {
    Store(state, reg_key, kept);
  }

  const std::string ref_key =
      keys::Referral(deal.originator(), deal.provider());
  ASSIGN_OR_RETURN(sv1::Referral ref,
                   LoadOrEmpty<sv1::Referral>(state, ref_key));
  if (won) {
    ref.set_deals_won(ref.deals_won() + 1);
  } else {
    ref.set_deals_lost(ref.deals_lost() + 1);
  }
  Store(state, ref_key, ref);
  return absl::OkStatus();
}

// --- revenue and commission --------------------------------------------------

absl::Status ApplyRevenueBooked(StateWriter& state, const Recorded& e) {
  const v1::RevenueBooked& p = e.payload->revenue_booked();
  const std::string_view deal_id = StreamId(e.stream);
  ASSIGN_OR_RETURN(sv1::Deal deal, LoadDeal(state, deal_id));
  const int64_t amount = p.amount().amount_minor();
  sv1::RevenueLine line;
  line.set_revenue_id(p.revenue_id());
  line.set_booked_minor(amount);
  line.set_service_period_start(p.service_period_start());
  line.set_booked_on(p.booked_on());
  line.set_invoice_ref(p.invoice_ref());
  line.set_booked_position(e.position);
  Store(state, keys::DealLine(deal_id, p.revenue_id()), line);

  int64_t v;
  RETURN_IF_ERROR(Add(v = deal.revenue_booked_minor(), amount));
  deal.set_revenue_booked_minor(v);
  deal.set_lines(deal.lines() + 1);
  Store(state, keys::Deal(deal_id), deal);
  RETURN_IF_ERROR(AddReferral(state, deal, amount, 0, 0, 0));

  ASSIGN_OR_RETURN(sv1::Agreement a, LoadAgreement(state, deal.agreement_id()));
  if (p.service_period_start() > a.revenue_date_max()) {
    a.set_revenue_date_max(p.service_period_start());
    Store(state, keys::Agreement(deal.agreement_id()), a);
  }
  return absl::OkStatus();
}

absl::Status ApplyRevenueReversed(StateWriter& state, const Recorded& e) {
  const v1::RevenueReversed& p = e.payload->revenue_reversed();
  const std::string_view deal_id = StreamId(e.stream);
  ASSIGN_OR_RETURN(sv1::Deal deal, LoadDeal(state, deal_id));
  ASSIGN_OR_RETURN(sv1::RevenueLine line,
                   LoadLine(state, deal_id, p.revenue_id()));
  const int64_t amount = p.amount().amount_minor();
  int64_t v;
  RETURN_IF_ERROR(Add(v = line.reversed_minor(), amount));
  line.set_reversed_minor(v);
  line.set_last_reversed_on(UtcDate(e.occurred_at_us));
  Store(state, keys::DealLine(deal_id, p.revenue_id()), line);
  RETURN_IF_ERROR(Add(v = deal.revenue_reversed_minor(), amount));
  deal.set_revenue_reversed_minor(v);
  Store(state, keys::Deal(deal_id), deal);
  return AddReferral(state, deal, 0, amount, 0, 0);
}

// The obligation movement of a CommissionAccrued/Reversed, to the pair's
// obligation totals.
absl::Status AddObligationTotals(StateWriter& state, const sv1::Deal& deal,
                                 int64_t accrued, int64_t reversed) {
  const std::string key = keys::Obligation(deal.payer(), deal.payee(),
                                           deal.currency(), deal.kind());
  ASSIGN_OR_RETURN(sv1::Obligation o, LoadOrEmpty<sv1::Obligation>(state, key));
  int64_t v;
  RETURN_IF_ERROR(Add(v = o.accrued_minor(), accrued));
  o.set_accrued_minor(v);
  RETURN_IF_ERROR(Add(v = o.reversed_minor(), reversed));
  o.set_reversed_minor(v);
  RETURN_IF_ERROR(Add(v = o.outstanding_minor(), accrued));
  RETURN_IF_ERROR(Sub(v, reversed));
  o.set_outstanding_minor(v);
  RecomputeOnHold(o);
  Store(state, key, o);
  return absl::OkStatus();
}

absl::Status AddObligation(StateWriter& state, const sv1::Deal& deal,
                           int64_t accrued, int64_t reversed) {
  return NamePairTotal(AddObligationTotals(state, deal, accrued, reversed),
                       "obligation total", deal.payer(), deal.payee(),
                       deal.currency());
}

sv1::StatementLine CommissionLine(const Recorded& e, std::string_view deal_id,
                                  std::string_view revenue_id,
                                  const sv1::RevenueLine& line,
                                  sv1::StatementLineType type, int64_t amount,
                                  std::string date) {
  sv1::StatementLine s;
  s.set_position(e.position);
  s.set_event_id(std::string(e.event_id));
  s.set_type(type);
  s.set_date(std::move(date));
  s.set_deal_id(std::string(deal_id));
  s.set_revenue_id(std::string(revenue_id));
  s.set_kind(line.kind());
  s.set_amount_minor(amount);
  s.set_rate_bp(line.rate_bp());
  s.set_contract_year(line.contract_year());
  return s;
}

absl::Status ApplyCommissionAccrued(StateWriter& state, const Recorded& e) {
  const v1::CommissionAccrued& p = e.payload->commission_accrued();
  const std::string_view deal_id = StreamId(e.stream);
  ASSIGN_OR_RETURN(sv1::Deal deal, LoadDeal(state, deal_id));
  ASSIGN_OR_RETURN(sv1::RevenueLine line,
                   LoadLine(state, deal_id, p.revenue_id()));
  const int64_t amount = p.amount().amount_minor();
  line.set_kind(ToStorage(p.kind()));
  line.set_payer(p.payer());
  line.set_payee(p.payee());
  line.set_rate_bp(p.rate_bp());
  line.set_contract_year(p.contract_year());
  line.set_obligation_accrued_minor(amount);
  // Per line: margin + pass-through = revenue, so the margin of a
  // pass-through line is what the originator keeps.
  int64_t margin = amount;
  if (line.kind() == sv1::OBLIGATION_KIND_PASS_THROUGH) {
    ASSIGN_OR_RETURN(margin, SubMoney(line.booked_minor(), amount));
  }
  line.set_margin_accrued_minor(margin);
  Store(state, keys::DealLine(deal_id, p.revenue_id()), line);

  int64_t v;
  RETURN_IF_ERROR(Add(v = deal.margin_accrued_minor(), margin));
  deal.set_margin_accrued_minor(v);
  RETURN_IF_ERROR(Add(v = deal.obligation_accrued_minor(), amount));
  deal.set_obligation_accrued_minor(v);
  const bool held = deal.conflicts_open() > 0;
  if (held) {
    RETURN_IF_ERROR(Add(v = deal.held_minor(), amount));
    deal.set_held_minor(v);
  }
  Store(state, keys::Deal(deal_id), deal);
  RETURN_IF_ERROR(AddReferral(state, deal, 0, 0, margin, 0));
  RETURN_IF_ERROR(AddObligation(state, deal, amount, 0));
  if (held) RETURN_IF_ERROR(AddHeld(state, deal, amount));
  return AddStatement(state, deal.payer(), deal.payee(), deal.currency(),
                      CommissionLine(e, deal_id, p.revenue_id(), line,
                                     sv1::STATEMENT_LINE_TYPE_ACCRUAL, amount,
                                     line.booked_on()));
}

absl::Status ApplyCommissionReversed(StateWriter& state, const Recorded& e) {
  const v1::CommissionReversed& p = e.payload->commission_reversed();
  const std::string_view deal_id = StreamId(e.stream);
  ASSIGN_OR_RETURN(sv1::Deal deal, LoadDeal(state, deal_id));
  ASSIGN_OR_RETURN(sv1::RevenueLine line,
                   LoadLine(state, deal_id, p.revenue_id()));
  const int64_t amount = p.amount().amount_minor();
  int64_t v;
  RETURN_IF_ERROR(Add(v = line.obligation_reversed_minor(), amount));
  line.set_obligation_reversed_minor(v);
  // RevenueReversed (applied just before) already added the revenue share.
  int64_t margin_reversed = line.obligation_reversed_minor();
  if (line.kind() == sv1::OBLIGATION_KIND_PASS_THROUGH) {
    ASSIGN_OR_RETURN(
        margin_reversed,
        SubMoney(line.reversed_minor(), line.obligation_reversed_minor()));
  }
  int64_t margin;
  ASSIGN_OR_RETURN(margin,
                   SubMoney(margin_reversed, line.margin_reversed_minor()));
  line.set_margin_reversed_minor(margin_reversed);
  Store(state, keys::DealLine(deal_id, p.revenue_id()), line);

  RETURN_IF_ERROR(Add(v = deal.margin_reversed_minor(), margin));
  deal.set_margin_reversed_minor(v);
  RETURN_IF_ERROR(Add(v = deal.obligation_reversed_minor(), amount));
  deal.set_obligation_reversed_minor(v);
  // Only what is held can be released; the rest reduces the free part.
  const int64_t released =
      deal.conflicts_open() > 0 ? std::min(amount, deal.held_minor()) : 0;
  RETURN_IF_ERROR(Sub(v = deal.held_minor(), released));
  deal.set_held_minor(v);
  Store(state, keys::Deal(deal_id), deal);
  RETURN_IF_ERROR(AddReferral(state, deal, 0, 0, 0, margin));
  RETURN_IF_ERROR(AddObligation(state, deal, 0, amount));
  RETURN_IF_ERROR(AddHeld(state, deal, -released));
  return AddStatement(state, deal.payer(), deal.payee(), deal.currency(),
                      CommissionLine(e, deal_id, p.revenue_id(), line,
                                     sv1::STATEMENT_LINE_TYPE_REVERSAL, amount,
                                     line.last_reversed_on()));
}

// --- conflicts, settlements, periods -----------------------------------------

// Puts a deal's obligation on hold when its first conflict opens: the part
// of the deal's obligation (accrued - reversed) that the pair's free
// outstanding still covers, since settlements are pooled per pair and may
// already have paid the rest.
absl::Status HoldDeal(StateWriter& state, sv1::Deal& deal) {
  const std::string key = keys::Obligation(deal.payer(), deal.payee(),
                                           deal.currency(), deal.kind());
  ASSIGN_OR_RETURN(sv1::Obligation o, LoadOrEmpty<sv1::Obligation>(state, key));
  ASSIGN_OR_RETURN(const int64_t net,
                   SubMoney(deal.obligation_accrued_minor(),
                            deal.obligation_reversed_minor()));
  const int64_t held = std::max<int64_t>(0, std::min(net, SettleableMinor(o)));
  deal.set_held_minor(held);
  return AddHeld(state, deal, held);
}

absl::Status ApplyConflictRaised(StateWriter& state, const Recorded& e) {
  const v1::ConflictRaised& p = e.payload->conflict_raised();
  const std::string conflict_id(StreamId(e.stream));
  ASSIGN_OR_RETURN(sv1::Agreement a, LoadAgreement(state, p.agreement_id()));
  sv1::Conflict c;
  c.set_agreement_id(p.agreement_id());
  c.set_deal_id(p.deal_id());
  c.set_other_deal_id(p.other_deal_id());
  c.set_kind(ToStorage(p.kind()));
  c.set_raised_by(p.raised_by());
  c.set_summary(p.summary());
  c.set_status(sv1::CONFLICT_STATUS_OPEN);
  c.set_party_a(a.party_a());
  c.set_party_b(a.party_b());
  c.set_raised_position(e.position);
  c.set_raised_at_us(e.recorded_at_us);
  c.set_raised_occurred_at_us(e.occurred_at_us);
  Store(state, keys::Conflict(conflict_id), c);
  state.Put(keys::PairConflict(a.party_a(), a.party_b(), conflict_id), "");
  if (p.deal_id().empty()) return absl::OkStatus();

  ASSIGN_OR_RETURN(sv1::Deal deal, LoadDeal(state, p.deal_id()));
  deal.set_conflicts_open(deal.conflicts_open() + 1);
  if (deal.conflicts_open() == 1) {
    RETURN_IF_ERROR(HoldDeal(state, deal));
  }
  Store(state, keys::Deal(p.deal_id()), deal);
  return absl::OkStatus();
}

absl::Status ApplyConflictResolved(StateWriter& state, const Recorded& e) {
  const v1::ConflictResolved& p = e.payload->conflict_resolved();
  const std::string conflict_id(StreamId(e.stream));
  ASSIGN_OR_RETURN(std::optional<sv1::Conflict> c,
                   Load<sv1::Conflict>(state, keys::Conflict(conflict_id)));
  if (!c.has_value()) {
    return absl::InternalError(
        Cat("apply: conflict '", conflict_id, "' missing from state"));
  }
  c->set_status(sv1::CONFLICT_STATUS_RESOLVED);
  c->set_resolution(p.resolution());
  c->set_resolved_by(p.resolved_by());
  c->set_resolved_position(e.position);
  c->set_resolved_at_us(e.recorded_at_us);
  Store(state, keys::Conflict(conflict_id), *c);
  if (c->deal_id().empty()) return absl::OkStatus();

  ASSIGN_OR_RETURN(sv1::Deal deal, LoadDeal(state, c->deal_id()));
  if (deal.conflicts_open() <= 0) {
    return absl::InternalError(Cat(
        "invariant: resolving conflict '", conflict_id, "' would leave deal '",
        c->deal_id(), "' with ", deal.conflicts_open() - 1, " open conflicts"));
  }
  deal.set_conflicts_open(deal.conflicts_open() - 1);
  if (deal.conflicts_open() == 0) {
    RETURN_IF_ERROR(AddHeld(state, deal, -deal.held_minor()));
    deal.set_held_minor(0);
  }
  Store(state, keys::Deal(c->deal_id()), deal);
  return absl::OkStatus();
}

absl::Status ApplySettlementRecorded(StateWriter& state, const Recorded& e) {
  const v1::SettlementRecorded& p = e.payload->settlement_recorded();
  const std::string settlement_id(StreamId(e.stream));
  const std::string& currency = p.amount().currency();
  sv1::Settlement s;
  s.set_payer(p.payer());
  s.set_payee(p.payee());
  s.set_currency(currency);
  s.set_amount_minor(p.amount().amount_minor());
  s.set_reference(p.reference());
  s.set_date(UtcDate(e.occurred_at_us));
  s.set_position(e.position);
  int64_t remaining = p.amount().amount_minor();
  for (sv1::ObligationKind kind :
       {sv1::OBLIGATION_KIND_COMMISSION, sv1::OBLIGATION_KIND_PASS_THROUGH}) {
    const std::string key =
        keys::Obligation(p.payer(), p.payee(), currency, kind);
    ASSIGN_OR_RETURN(std::optional<sv1::Obligation> o,
                     Load<sv1::Obligation>(state, key));
    if (!o.has_value()) continue;
    const int64_t take = std::min(remaining, SettleableMinor(*o));
    if (take <= 0) continue;
    RETURN_IF_ERROR(Sub(remaining, take));
    int64_t v;
    RETURN_IF_ERROR(Add(v = o->settled_minor(), take));
    o->set_settled_minor(v);
    RETURN_IF_ERROR(Sub(v = o->outstanding_minor(), take));
    o->set_outstanding_minor(v);
    RecomputeOnHold(*o);
    Store(state, key, *o);
    if (kind == sv1::OBLIGATION_KIND_COMMISSION) {
      s.set_commission_minor(take);
    } else {
      s.set_pass_through_minor(take);
    }
  }
  if (remaining != 0) {
    return absl::InternalError(
        Cat("apply: settlement '", settlement_id, "' exceeds what ", p.payer(),
            " may settle to ", p.payee(), " in ", currency, " by ", remaining));
  }
  Store(state, keys::Settlement(settlement_id), s);
  sv1::StatementLine line;
  line.set_position(e.position);
  line.set_event_id(std::string(e.event_id));
  line.set_type(sv1::STATEMENT_LINE_TYPE_SETTLEMENT);
  line.set_date(s.date());
  line.set_settlement_id(settlement_id);
  line.set_amount_minor(s.amount_minor());
  return AddStatement(state, p.payer(), p.payee(), currency, std::move(line));
}

absl::Status ApplyPeriodClosed(StateWriter& state, const Recorded& e) {
  sv1::Period period;
  period.set_closed_position(e.position);
  period.set_closed_at_us(e.recorded_at_us);
  const std::string& closed = e.payload->period_closed().period();
  Store(state, keys::Period(closed), period);
  // Closing is cumulative: the latest closed month locks every earlier date.
  ASSIGN_OR_RETURN(std::optional<sv1::Period> through,
                   Load<sv1::Period>(state, keys::PeriodClosedThrough()));
  if (!through.has_value() || through->period() < closed) {
    period.set_period(closed);
    Store(state, keys::PeriodClosedThrough(), period);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyEvent(StateWriter& state, const Recorded& e) {
  using K = v1::EventPayload::KindCase;
  switch (e.payload->kind_case()) {
    case K::kPartnerRegistered:
      return ApplyPartnerRegistered(state, e);
    case K::kPartnerProfileUpdated:
      return ApplyPartnerProfileUpdated(state, e);
    case K::kAgreementSigned:
      return ApplyAgreementSigned(state, e);
    case K::kAgreementAmended:
      return ApplyAgreementAmended(state, e);
    case K::kAgreementTerminated:
      return ApplyAgreementTerminated(state, e);
    case K::kSatisfactionRecorded:
      return ApplySatisfactionRecorded(state, e);
    case K::kDealOriginated:
      return ApplyDealOriginated(state, e);
    case K::kMarginAgreed:
      return ApplyMarginAgreed(state, e);
    case K::kStatementOfWorkAttached:
      return ApplyStatementOfWorkAttached(state, e);
    case K::kPartnerDisclosed:
      return ApplyPartnerDisclosed(state, e);
    case K::kDealClosed:
      return ApplyDealClosed(state, e);
    case K::kRevenueBooked:
      return ApplyRevenueBooked(state, e);
    case K::kRevenueReversed:
      return ApplyRevenueReversed(state, e);
    case K::kCommissionAccrued:
      return ApplyCommissionAccrued(state, e);
    case K::kCommissionReversed:
      return ApplyCommissionReversed(state, e);
    case K::kConflictRaised:
      return ApplyConflictRaised(state, e);
    case K::kConflictResolved:
      return ApplyConflictResolved(state, e);
    case K::kSettlementRecorded:
      return ApplySettlementRecorded(state, e);
    case K::kPeriodClosed:
      return ApplyPeriodClosed(state, e);
    case K::KIND_NOT_SET:
      break;
  }
  // A type this build does not know (schema evolution): it changes nothing
  // this build projects.
  return absl::OkStatus();
}

}  // namespace partnerledger::domain::internal

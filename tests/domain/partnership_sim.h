// A minimal in-memory writer for the partnership rules: decides each
// proposal, records it and its derived events at consecutive positions, and
// applies each to a std::map state, as src/ledger's writer does. Also keeps
// the recorded log so tests can rebuild state from it.
#ifndef PARTNERLEDGER_TESTS_DOMAIN_PARTNERSHIP_SIM_H_
#define PARTNERLEDGER_TESTS_DOMAIN_PARTNERSHIP_SIM_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "domain/mem_state.h"
#include "domain/partnership.h"
#include "domain/rules.h"
#include "domain/state_keys.h"
#include "domain/validate.h"
#include "gtest/gtest.h"
#include "partnerledger/storage/v1/state.pb.h"
#include "partnerledger/v1/events.pb.h"
#include "util/uuid.h"

namespace partnerledger::domain::testing {

namespace sv1 = storage::v1;

struct LoggedEvent {
  uint64_t position;
  std::string stream;
  std::string event_id;
  int64_t occurred_at_us;
  v1::EventPayload payload;
};

// Microseconds since the epoch of 00:00 UTC on a "YYYY-MM-DD" date.
inline int64_t DateUs(std::string_view date) {
  auto num = [&](size_t pos, size_t len) {
    int v = 0;
    for (char c : date.substr(pos, len)) v = v * 10 + (c - '0');
    return v;
  };
  // days_from_civil (H. Hinnant).
  int y = num(0, 4);
  const int m = num(5, 2);
  const int d = num(8, 2);
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = int64_t{era} * 146097 + doe - 719468;
  return days * 86'400'000'000;
}

class Sim {
 public:
  Sim() : rules_(NewPartnershipRules()) {}

  // Validates (as the ledger does before deciding), decides and, when
  // accepted, records and applies the proposal and its derived events. On
  // rejection, checks that state did not change.
  absl::StatusOr<Decision> Append(std::string stream, v1::EventPayload payload,
                                  std::string_view occurred_on = "2026-06-15") {
    const auto before = state_.kv();
    absl::StatusOr<StreamName> name = ParseStreamName(stream);
    if (!name.ok()) return name.status();
    if (absl::Status s = ValidateProposedPayload(payload, *name, "payload");
        !s.ok()) {
      return s;
    }
    Proposal p;
    p.stream = std::move(stream);
    p.event_id = DeriveUuid(absl::StrCat("test-event/", ++proposals_));
    p.actor = "tester";
    p.occurred_at_us = DateUs(occurred_on);
    p.payload = &payload;
    absl::StatusOr<Decision> d = rules_->Decide(state_, p);
    if (!d.ok()) {
      EXPECT_TRUE(before == state_.kv()) << "rejection changed state";
      return d;
    }
    last_event_id_ = p.event_id;
    Record(p.stream, p.event_id, p.occurred_at_us, d->payload);
    for (const DerivedEvent& e : d->derived) {
      Record(e.stream, e.event_id, p.occurred_at_us, e.payload);
    }
    return d;
  }

  // Append that must succeed.
  Decision Ok(std::string stream, v1::EventPayload payload,
              std::string_view occurred_on = "2026-06-15") {
    absl::StatusOr<Decision> d =
        Append(stream, std::move(payload), occurred_on);
    EXPECT_TRUE(d.ok()) << stream << ": " << d.status();
    return d.ok() ? *std::move(d) : Decision();
  }

  template <typename T>
  std::optional<T> Get(const std::string& key) const {
    auto it = state_.kv().find(key);
    if (it == state_.kv().end()) return std::nullopt;
    T record;
    EXPECT_TRUE(record.ParseFromString(it->second)) << key;
    return record;
  }

  // The record under key, or an empty one (with a test failure).
  template <typename T>
  T Must(const std::string& key) const {
    std::optional<T> r = Get<T>(key);
    EXPECT_TRUE(r.has_value()) << "missing state key " << key;
    return r.value_or(T());
  }

  // A fresh state rebuilt from the recorded log with Apply alone.
  MemState Rebuild() const {
    MemState fresh;
    for (const LoggedEvent& e : log_) {
      Recorded r;
      r.position = e.position;
      r.stream = e.stream;
      r.event_id = e.event_id;
      r.recorded_at_us = RecordedAt(e.position);
      r.occurred_at_us = e.occurred_at_us;
      r.payload = &e.payload;
      EXPECT_TRUE(rules_->Apply(fresh, r).ok());
    }
    return fresh;
  }

  const MemState& state() const { return state_; }
  const std::vector<LoggedEvent>& log() const { return log_; }
  const std::string& last_event_id() const { return last_event_id_; }

 private:
  static int64_t RecordedAt(uint64_t position) {
    return 1'700'000'000'000'000 + static_cast<int64_t>(position);
  }

  void Record(const std::string& stream, const std::string& event_id,
              int64_t occurred_at_us, const v1::EventPayload& payload) {
    LoggedEvent e{++position_, stream, event_id, occurred_at_us, payload};
    Recorded r;
    r.position = e.position;
    r.stream = e.stream;
    r.event_id = e.event_id;
    r.recorded_at_us = RecordedAt(e.position);
    r.occurred_at_us = occurred_at_us;
    r.payload = &e.payload;
    const absl::Status s = rules_->Apply(state_, r);
    EXPECT_TRUE(s.ok()) << "apply " << stream << ": " << s;
    log_.push_back(std::move(e));
  }

  std::unique_ptr<Rules> rules_;
  MemState state_;
  std::vector<LoggedEvent> log_;
  uint64_t position_ = 0;
  uint64_t proposals_ = 0;
  std::string last_event_id_;
};

// --- payload builders
// ---------------------------------------------------------

inline v1::MarginBand Band(int32_t from_year, int32_t rate_bp) {
  v1::MarginBand b;
  b.set_from_year(from_year);
  b.set_rate_bp(rate_bp);
  return b;
}

inline v1::MarginSchedule Schedule(v1::OfferingClass c, int32_t y1,
                                   int32_t y2) {
  v1::MarginSchedule s;
  s.set_offering_class(c);
  *s.add_bands() = Band(1, y1);
  *s.add_bands() = Band(2, y2);
  return s;
}

inline v1::EventPayload PartnerRegistered(std::string_view name = "Acme") {
  v1::EventPayload p;
  p.mutable_partner_registered()->set_legal_name(std::string(name));
  p.mutable_partner_registered()->set_country("NL");
  p.mutable_partner_registered()->set_pitch("we build things");
  return p;
}

inline v1::EventPayload AgreementSigned(
    std::string_view a, std::string_view b,
    std::vector<v1::MarginSchedule> schedules = {},
    std::string_view from = "2026-01-01", std::string_view to = "") {
  v1::EventPayload p;
  v1::AgreementSigned* e = p.mutable_agreement_signed();
  e->set_party_a(std::string(a));
  e->set_party_b(std::string(b));
  e->mutable_document()->set_sha256(std::string(64, 'a'));
  e->mutable_document()->set_uri("s3://docs/agreement.pdf");
  e->set_effective_from(std::string(from));
  e->set_effective_to(std::string(to));
  for (v1::MarginSchedule& s : schedules) *e->add_schedules() = std::move(s);
  e->set_payment_terms_days(30);
  return p;
}

inline v1::EventPayload AgreementAmended(std::vector<v1::MarginSchedule> s,
                                         std::string_view from) {
  v1::EventPayload p;
  for (v1::MarginSchedule& x : s) {
    *p.mutable_agreement_amended()->add_schedules() = std::move(x);
  }
  p.mutable_agreement_amended()->set_effective_from(std::string(from));
  return p;
}

inline v1::EventPayload AgreementTerminated(std::string_view on) {
  v1::EventPayload p;
  p.mutable_agreement_terminated()->set_effective_on(std::string(on));
  p.mutable_agreement_terminated()->set_reason("done");
  return p;
}

struct DealSpec {
  std::string agreement = "A1";
  std::string originator = "C";
  std::string provider = "F";
  std::string prime = "F";
  std::string customer = "cust-1";
  v1::OfferingClass offering_class = v1::OFFERING_CLASS_SAAS;
  std::string currency = "EUR";
  std::string start_date = "2026-02-01";
};

inline v1::EventPayload DealOriginated(const DealSpec& s) {
  v1::EventPayload p;
  v1::DealOriginated* e = p.mutable_deal_originated();
  e->set_agreement_id(s.agreement);
  e->set_originator(s.originator);
  e->set_provider(s.provider);
  e->set_prime(s.prime);
  e->mutable_customer()->set_key(s.customer);
  e->mutable_customer()->set_name("Customer BV");
  e->set_offering_class(s.offering_class);
  e->set_currency(s.currency);
  e->set_start_date(s.start_date);
  e->mutable_expected_value()->set_currency(s.currency);
  e->mutable_expected_value()->set_amount_minor(100'000'00);
  return p;
}

inline v1::EventPayload MarginAgreed(std::vector<v1::MarginBand> bands = {}) {
  v1::EventPayload p;
  p.mutable_margin_agreed();  // empty bands still set the payload type
  for (const v1::MarginBand& b : bands) {
    *p.mutable_margin_agreed()->add_bands() = b;
  }
  return p;
}

inline v1::EventPayload DealClosed(v1::DealOutcome o = v1::DEAL_OUTCOME_WON) {
  v1::EventPayload p;
  p.mutable_deal_closed()->set_outcome(o);
  return p;
}

inline v1::EventPayload RevenueBooked(std::string_view revenue_id,
                                      std::string_view currency, int64_t amount,
                                      std::string_view service_start,
                                      std::string_view booked_on = "") {
  v1::EventPayload p;
  v1::RevenueBooked* e = p.mutable_revenue_booked();
  e->set_revenue_id(std::string(revenue_id));
  e->mutable_amount()->set_currency(std::string(currency));
  e->mutable_amount()->set_amount_minor(amount);
  e->set_service_period_start(std::string(service_start));
  e->set_booked_on(std::string(booked_on.empty() ? service_start : booked_on));
  e->set_invoice_ref("INV-1");
  return p;
}

inline v1::EventPayload RevenueReversed(std::string_view revenue_id,
                                        std::string_view currency,
                                        int64_t amount) {
  v1::EventPayload p;
  v1::RevenueReversed* e = p.mutable_revenue_reversed();
  e->set_revenue_id(std::string(revenue_id));
  e->mutable_amount()->set_currency(std::string(currency));
  e->mutable_amount()->set_amount_minor(amount);
  e->set_reason("credit note");
  return p;
}

inline v1::EventPayload SettlementRecorded(std::string_view payer,
                                           std::string_view payee,
                                           std::string_view currency,
                                           int64_t amount) {
  v1::EventPayload p;
  v1::SettlementRecorded* e = p.mutable_settlement_recorded();
  e->set_payer(std::string(payer));
  e->set_payee(std::string(payee));
  e->mutable_amount()->set_currency(std::string(currency));
  e->mutable_amount()->set_amount_minor(amount);
  e->set_reference("wire");
  return p;
}

inline v1::EventPayload ConflictRaised(
    std::string_view agreement, std::string_view deal,
    v1::ConflictKind kind = v1::CONFLICT_KIND_PAYMENT_DISPUTE) {
  v1::EventPayload p;
  v1::ConflictRaised* e = p.mutable_conflict_raised();
  e->set_agreement_id(std::string(agreement));
  e->set_deal_id(std::string(deal));
  e->set_kind(kind);
  e->set_raised_by("C");
  e->set_summary("invoice disputed");
  return p;
}

inline v1::EventPayload ConflictResolved() {
  v1::EventPayload p;
  p.mutable_conflict_resolved()->set_resolution("agreed");
  p.mutable_conflict_resolved()->set_resolved_by("F");
  return p;
}

inline v1::EventPayload PeriodClosed(std::string_view period) {
  v1::EventPayload p;
  p.mutable_period_closed()->set_period(std::string(period));
  return p;
}

}  // namespace partnerledger::domain::testing

#endif  // PARTNERLEDGER_TESTS_DOMAIN_PARTNERSHIP_SIM_H_

#include "projection/queries.h"

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "domain/enums.h"
#include "domain/guidance.h"
#include "domain/money.h"
#include "domain/state_keys.h"
#include "domain/upcast.h"
#include "domain/validate.h"
#include "partnerledger/storage/v1/state.pb.h"
#include "util/echo.h"
#include "util/load.h"
#include "util/sha256.h"
#include "util/status_macros.h"
#include "util/strings.h"
#include "util/timestamp.h"

namespace partnerledger::projection {
namespace {

namespace sv1 = storage::v1;
using store::StoredEvent;
namespace keys = domain::keys;

}  // namespace

// State at one log position: read from the history at that position, or,
// for a query at the head, from a snapshot of the current state (point
// lookups and one scan per prefix instead of a history seek per key).
class View {
 public:
  View(const store::Store* s, uint64_t position) : s_(s), position_(position) {}
  explicit View(std::unique_ptr<store::StateSnapshot> snap)
      : s_(nullptr), snap_(std::move(snap)), position_(snap_->position()) {}
  uint64_t position() const { return position_; }

  // The state value under `key` at this position, nullopt when absent (what
  // Load reads).
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const {
    if (snap_ == nullptr) return s_->GetStateAt(key, position_);
    if (auto it = scanned_.find(key); it != scanned_.end()) {
      return std::optional<std::string>(it->second);
    }
    return snap_->Get(key);
  }

  // Keys under `prefix` that exist at this position, in key order.
  absl::StatusOr<std::vector<std::string>> Keys(
      const std::string& prefix) const {
    std::vector<std::string> out;
    if (snap_ != nullptr) {
      // Remember the values: the caller loads them next.
      absl::Status s =
          snap_->Scan(prefix, [&](std::string_view k, std::string_view v) {
            out.emplace_back(k);
            scanned_.insert_or_assign(std::string(k), std::string(v));
            return true;
          });
      RETURN_IF_ERROR(s);
      return out;
    }
    std::vector<std::string> candidates;
    absl::Status s = s_->ScanStateKeys(prefix, [&](std::string_view k) {
      candidates.emplace_back(k);
      return true;
    });
    RETURN_IF_ERROR(s);
    for (std::string& k : candidates) {
      ASSIGN_OR_RETURN(std::optional<std::string> v,
                       s_->GetStateAt(k, position_));
      if (v.has_value()) out.push_back(std::move(k));
    }
    return out;
  }

 private:
  const store::Store* s_;
  std::unique_ptr<store::StateSnapshot> snap_;
  uint64_t position_;
  mutable std::map<std::string, std::string, std::less<>> scanned_;
};

namespace {

// Undoes keys::KeyComponent: "%XX" is the byte 0xXX.
std::string Unescape(std::string_view c) {
  std::string out;
  for (size_t i = 0; i < c.size(); ++i) {
    std::string byte;
    if (c[i] == '%' && i + 2 < c.size() && FromHex(c.substr(i + 1, 2), &byte)) {
      out.append(byte);
      i += 2;
    } else {
      out.push_back(c[i]);
    }
  }
  return out;
}

// The '/'-separated components of a key, unescaped.
std::vector<std::string> Components(const std::string& key) {
  std::vector<std::string> out;
  for (std::string_view part : Split(key, '/')) {
    out.push_back(Unescape(part));
  }
  return out;
}

absl::Status Require(const std::string& value, const char* field) {
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  }
  return absl::OkStatus();
}

absl::Status RequirePartner(const std::string& value, const char* field) {
  RETURN_IF_ERROR(Require(value, field));
  if (!domain::IsValidId(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", value,
                     "\" is not a partner id (1-64 of [A-Za-z0-9._:-], "
                     "alphanumeric first)"));
  }
  return absl::OkStatus();
}

// A currency events may carry: an active ISO 4217 code (domain/money.h;
// no funds codes, metals or XXX). Never read as "no such rows".
absl::Status CheckCurrency(const std::string& value, const char* field,
                           bool required) {
  if (value.empty()) {
    return required ? Require(value, field) : absl::OkStatus();
  }
  if (!domain::CurrencyExponent(value).has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": \"", value,
        "\" is not an ISO 4217 currency code (three capital letters, e.g. "
        "EUR)"));
  }
  return absl::OkStatus();
}

// NOT_FOUND unless `key` exists at the view's position: an unknown id
// never reads as an empty answer.
template <typename Record>
absl::Status RequireKnown(const View& view, const std::string& key,
                          const char* field, const char* what,
                          const std::string& id) {
  ASSIGN_OR_RETURN(std::optional<Record> probe, Load<Record>(view, key));
  if (!probe.has_value()) {
    return absl::NotFoundError(absl::StrCat(field, ": unknown ", what, " '", id,
                                            "' at position ", view.position()));
  }
  return absl::OkStatus();
}

absl::Status RequireKnownPartner(const View& view, const std::string& id,
                                 const char* field) {
  return RequireKnown<sv1::Partner>(view, keys::Partner(id), field, "partner",
                                    id);
}

// --- Business date (as_of_date) ---------------------------------------------
//
// Projections keep totals as of log positions. A business-date cutoff is
// answered from them by taking away what is dated after it: the statement
// lines (each accrual, reversal and settlement is one, dated as statements
// date it) of the periods from the cutoff's month on. Lines of earlier
// periods are never read, so a recent cutoff costs a few periods' lines.

// "" (no cutoff) or a valid "YYYY-MM-DD".
absl::Status CheckAsOfDate(const std::string& date) {
  if (date.empty() || domain::IsValidDate(date)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "as_of_date: ", Echo(date), " is not a calendar date (YYYY-MM-DD)"));
}

// Whether something dated `date` counts at the cutoff ("" counts all).
bool CountsAt(std::string_view date, const std::string& cutoff) {
  return cutoff.empty() || date <= cutoff;
}

// "YYYY-MM" of a "YYYY-MM-DD" date.
std::string MonthOf(const std::string& date) { return date.substr(0, 7); }

absl::Status AddTo(int64_t& total, int64_t amount) {
  ASSIGN_OR_RETURN(total, domain::AddMoney(total, amount));
  return absl::OkStatus();
}

// The statement lines of one payer -> payee currency period, in log order.
absl::StatusOr<std::vector<sv1::StatementLine>> PeriodLines(
    const View& view, const std::string& payer, const std::string& payee,
    const std::string& currency, const std::string& period) {
  std::vector<sv1::StatementLine> out;
  ASSIGN_OR_RETURN(
      std::vector<std::string> ks,
      view.Keys(keys::StatementLinePrefix(payer, payee, currency, period)));
  for (const std::string& k : ks) {
    ASSIGN_OR_RETURN(std::optional<sv1::StatementLine> l,
                     Load<sv1::StatementLine>(view, k));
    if (l.has_value()) out.push_back(std::move(*l));
  }
  return out;
}

// The statement lines of payer -> payee in currency dated after `cutoff`.
absl::StatusOr<std::vector<sv1::StatementLine>> LinesAfter(
    const View& view, const std::string& payer, const std::string& payee,
    const std::string& currency, const std::string& cutoff) {
  std::vector<sv1::StatementLine> out;
  ASSIGN_OR_RETURN(std::vector<std::string> periods,
                   view.Keys(keys::StatementPrefix(payer, payee, currency)));
  const std::string first =
      keys::Statement(payer, payee, currency, MonthOf(cutoff));
  for (const std::string& k : periods) {
    if (k < first) continue;  // Period keys sort chronologically.
    ASSIGN_OR_RETURN(
        std::vector<sv1::StatementLine> lines,
        PeriodLines(view, payer, payee, currency, Components(k).back()));
    for (sv1::StatementLine& l : lines) {
      if (!CountsAt(l.date(), cutoff)) out.push_back(std::move(l));
    }
  }
  return out;
}

// Accrued, reversed and settled amounts of one obligation.
struct Movements {
  int64_t accrued_minor = 0;
  int64_t reversed_minor = 0;
  int64_t settled_minor = 0;
};

// Per kind, what payer -> payee in currency moved after `cutoff`. A
// settlement is split between the kinds as it was allocated when recorded.
absl::StatusOr<std::map<sv1::ObligationKind, Movements>> MovedAfter(
    const View& view, const std::string& payer, const std::string& payee,
    const std::string& currency, const std::string& cutoff) {
  std::map<sv1::ObligationKind, Movements> out;
  ASSIGN_OR_RETURN(std::vector<sv1::StatementLine> lines,
                   LinesAfter(view, payer, payee, currency, cutoff));
  for (const sv1::StatementLine& l : lines) {
    switch (l.type()) {
      case sv1::STATEMENT_LINE_TYPE_ACCRUAL:
        RETURN_IF_ERROR(AddTo(out[l.kind()].accrued_minor, l.amount_minor()));
        break;
      case sv1::STATEMENT_LINE_TYPE_REVERSAL:
        RETURN_IF_ERROR(AddTo(out[l.kind()].reversed_minor, l.amount_minor()));
        break;
      case sv1::STATEMENT_LINE_TYPE_SETTLEMENT: {
        ASSIGN_OR_RETURN(
            std::optional<sv1::Settlement> st,
            Load<sv1::Settlement>(view, keys::Settlement(l.settlement_id())));
        if (!st.has_value()) {
          return absl::DataLossError(absl::StrCat(
              "statement line at position ", l.position(),
              " names settlement '", l.settlement_id(), "', not in state"));
        }
        RETURN_IF_ERROR(
            AddTo(out[sv1::OBLIGATION_KIND_COMMISSION].settled_minor,
                  st->commission_minor()));
        RETURN_IF_ERROR(
            AddTo(out[sv1::OBLIGATION_KIND_PASS_THROUGH].settled_minor,
                  st->pass_through_minor()));
        break;
      }
      default:
        return absl::DataLossError(absl::StrCat("statement line at position ",
                                                l.position(), " has no type"));
    }
  }
  return out;
}

// An obligation as of the cutoff: its totals less what moved after it.
// Holds are knowledge, not dated: a deal's conflict open at the as-of
// position holds the part of the cutoff's outstanding its held amount
// covers (state.proto's on_hold = min(held, max(outstanding, 0))).
absl::StatusOr<sv1::Obligation> ObligationAt(sv1::Obligation o,
                                             const Movements& after) {
  int64_t v;
  ASSIGN_OR_RETURN(v, domain::SubMoney(o.accrued_minor(), after.accrued_minor));
  o.set_accrued_minor(v);
  ASSIGN_OR_RETURN(v,
                   domain::SubMoney(o.reversed_minor(), after.reversed_minor));
  o.set_reversed_minor(v);
  ASSIGN_OR_RETURN(v, domain::SubMoney(o.settled_minor(), after.settled_minor));
  o.set_settled_minor(v);
  ASSIGN_OR_RETURN(v, domain::SubMoney(o.accrued_minor(), o.reversed_minor()));
  ASSIGN_OR_RETURN(v, domain::SubMoney(v, o.settled_minor()));
  o.set_outstanding_minor(v);
  o.set_on_hold_minor(
      std::min(o.held_minor(), std::max<int64_t>(o.outstanding_minor(), 0)));
  return o;
}

// The movements of statement lines dated on or before the cutoff.
absl::StatusOr<Movements> SumThrough(
    const std::vector<sv1::StatementLine>& lines, const std::string& cutoff) {
  Movements m;
  for (const sv1::StatementLine& l : lines) {
    if (!CountsAt(l.date(), cutoff)) continue;
    int64_t& total =
        l.type() == sv1::STATEMENT_LINE_TYPE_ACCRUAL
            ? m.accrued_minor
            : (l.type() == sv1::STATEMENT_LINE_TYPE_REVERSAL ? m.reversed_minor
                                                             : m.settled_minor);
    RETURN_IF_ERROR(AddTo(total, l.amount_minor()));
  }
  return m;
}

// accrued - reversed - settled.
absl::StatusOr<int64_t> Net(const Movements& m) {
  ASSIGN_OR_RETURN(const int64_t v,
                   domain::SubMoney(m.accrued_minor, m.reversed_minor));
  return domain::SubMoney(v, m.settled_minor);
}

// What one revenue line, or a deal, moved after the cutoff.
struct RevenueMoved {
  int64_t booked_minor = 0;
  int64_t reversed_minor = 0;
  int64_t margin_accrued_minor = 0;
  int64_t margin_reversed_minor = 0;
  int64_t obligation_accrued_minor = 0;
  int64_t obligation_reversed_minor = 0;

  absl::Status Add(const RevenueMoved& o) {
    const std::initializer_list<std::pair<int64_t*, int64_t>> fields = {
        {&booked_minor, o.booked_minor},
        {&reversed_minor, o.reversed_minor},
        {&margin_accrued_minor, o.margin_accrued_minor},
        {&margin_reversed_minor, o.margin_reversed_minor},
        {&obligation_accrued_minor, o.obligation_accrued_minor},
        {&obligation_reversed_minor, o.obligation_reversed_minor}};
    for (auto [t, v] : fields) {
      RETURN_IF_ERROR(AddTo(*t, v));
    }
    return absl::OkStatus();
  }
};

// revenue_id -> what that line moved after the cutoff.
using RevenueByLine = std::map<std::string, RevenueMoved>;

// The revenue amount of the RevenueReversed a CommissionReversed statement
// line derives from: the event right before it (derived events follow
// their cause), checked to be that reversal of that line.
absl::StatusOr<int64_t> RevenueReversedAmount(const store::Store& log,
                                              const std::string& deal_id,
                                              const sv1::StatementLine& l) {
  const auto lost = [&](const char* why) {
    return absl::DataLossError(absl::StrCat(
        "statement line at position ", l.position(), " (deal '", deal_id,
        "', revenue line '", l.revenue_id(), "'): ", why));
  };
  if (l.position() < 2) return lost("no event before it");
  ASSIGN_OR_RETURN(std::optional<StoredEvent> cause,
                   log.ReadEvent(l.position() - 1));
  if (!cause.has_value()) return lost("the event before it is missing");
  if (cause->stream() != absl::StrCat("deal-", deal_id) ||
      cause->type() != "RevenueReversed") {
    return lost("the event before it is not its RevenueReversed");
  }
  ASSIGN_OR_RETURN(
      v1::EventPayload payload,
      domain::UpcastPayload(cause->schema_version(), cause->payload()));
  if (payload.revenue_reversed().revenue_id() != l.revenue_id()) {
    return lost("its RevenueReversed names another revenue line");
  }
  return payload.revenue_reversed().amount().amount_minor();
}

// Per revenue line of the deal, what moved after the cutoff: the whole
// booking of a line booked_on after it, and each reversal dated after it
// (`reversals`: the deal's reversal statement lines after the cutoff).
absl::StatusOr<std::map<std::string, RevenueMoved>> DealMovedAfter(
    const View& view, const store::Store& log, const std::string& deal_id,
    const sv1::Deal& deal, const std::vector<sv1::StatementLine>& reversals,
    const std::string& cutoff) {
  std::map<std::string, RevenueMoved> out;
  ASSIGN_OR_RETURN(std::vector<std::string> ks,
                   view.Keys(keys::DealLinePrefix(deal_id)));
  for (const std::string& k : ks) {
    ASSIGN_OR_RETURN(std::optional<sv1::RevenueLine> l,
                     Load<sv1::RevenueLine>(view, k));
    if (!l.has_value() || CountsAt(l->booked_on(), cutoff)) continue;
    RevenueMoved& m = out[l->revenue_id()];
    m.booked_minor = l->booked_minor();
    m.margin_accrued_minor = l->margin_accrued_minor();
    m.obligation_accrued_minor = l->obligation_accrued_minor();
  }
  for (const sv1::StatementLine& r : reversals) {
    if (r.deal_id() != deal_id ||
        r.type() != sv1::STATEMENT_LINE_TYPE_REVERSAL) {
      continue;
    }
    ASSIGN_OR_RETURN(const int64_t revenue,
                     RevenueReversedAmount(log, deal_id, r));
    RevenueMoved one;
    one.reversed_minor = revenue;
    one.obligation_reversed_minor = r.amount_minor();
    // Per line, margin + pass-through = revenue (state.proto RevenueLine).
    one.margin_reversed_minor = r.amount_minor();
    if (deal.kind() == sv1::OBLIGATION_KIND_PASS_THROUGH) {
      ASSIGN_OR_RETURN(one.margin_reversed_minor,
                       domain::SubMoney(revenue, r.amount_minor()));
    }
    RETURN_IF_ERROR(out[r.revenue_id()].Add(one));
  }
  return out;
}

absl::StatusOr<RevenueMoved> Total(
    const std::map<std::string, RevenueMoved>& by_line) {
  RevenueMoved total;
  for (const auto& [id, m] : by_line) {
    RETURN_IF_ERROR(total.Add(m));
  }
  return total;
}

// booked - reversed, before and after subtracting `moved`.
absl::StatusOr<int64_t> NetAt(int64_t booked, int64_t reversed,
                              int64_t booked_after, int64_t reversed_after) {
  ASSIGN_OR_RETURN(const int64_t b, domain::SubMoney(booked, booked_after));
  ASSIGN_OR_RETURN(const int64_t r, domain::SubMoney(reversed, reversed_after));
  return domain::SubMoney(b, r);
}

}  // namespace

absl::StatusOr<View> Queries::OpenView(const v1::AsOf& as_of) const {
  if (live_ && as_of.point_case() == v1::AsOf::POINT_NOT_SET) {
    ASSIGN_OR_RETURN(std::unique_ptr<store::StateSnapshot> snap,
                     store_->NewStateSnapshot());
    return View(std::move(snap));
  }
  ASSIGN_OR_RETURN(const uint64_t at, Resolve(as_of));
  return View(store_, at);
}

uint64_t Queries::Head() const {
  if (head_) return head_();
  absl::StatusOr<store::Head> h = store_->ReadHead();
  return h.ok() ? h->position() : 0;
}

absl::StatusOr<uint64_t> Queries::Resolve(const v1::AsOf& as_of) const {
  // Every answer is as of the end of a whole request: a position between an
  // event and what was derived from it (or inside a multi-event append)
  // names a state that never existed.
  ASSIGN_OR_RETURN(const uint64_t at, ResolvePosition(as_of));
  return log_->WholeRequestsThrough(at);
}

absl::StatusOr<uint64_t> Queries::ResolvePosition(const v1::AsOf& as_of) const {
  const uint64_t head = Head();
  switch (as_of.point_case()) {
    case v1::AsOf::kPosition:
      return std::min(as_of.position(), head);
    case v1::AsOf::kRecordedAt: {
      const google::protobuf::Timestamp& ts = as_of.recorded_at();
      // In range, the microseconds below cannot overflow.
      if (!domain::IsValidTimestamp(ts.seconds(), ts.nanos())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "as_of.recorded_at: seconds ", ts.seconds(), ", nanos ", ts.nanos(),
            " out of range (0001-01-01..9999-12-31)"));
      }
      const int64_t t = TimestampMicros(ts);
      // recorded_at never decreases along the log: binary search for the
      // last position recorded at or before t.
      uint64_t lo = 0, hi = head;
      while (lo < hi) {
        const uint64_t mid = lo + (hi - lo + 1) / 2;
        ASSIGN_OR_RETURN(std::optional<StoredEvent> e, log_->ReadEvent(mid));
        if (!e.has_value()) {
          return absl::DataLossError(absl::StrCat("event ", mid, " missing"));
        }
        if (e->recorded_at_us() <= t) {
          lo = mid;
        } else {
          hi = mid - 1;
        }
      }
      return lo;
    }
    case v1::AsOf::POINT_NOT_SET:
      break;
  }
  return head;
}

absl::StatusOr<v1::GetObligationsResponse> Queries::GetObligations(
    const v1::GetObligationsRequest& req) const {
  const std::pair<const std::string*, const char*> partners[] = {
      {&req.partner_id(), "partner_id"},
      {&req.payer(), "payer"},
      {&req.payee(), "payee"}};
  for (const auto& [id, field] : partners) {
    if (id->empty()) continue;
    RETURN_IF_ERROR(RequirePartner(*id, field));
  }
  RETURN_IF_ERROR(CheckCurrency(req.currency(), "currency", false));
  RETURN_IF_ERROR(CheckAsOfDate(req.as_of_date()));
  ASSIGN_OR_RETURN(View view, OpenView(req.as_of()));
  const uint64_t at = view.position();
  for (const auto& [id, field] : partners) {
    if (id->empty()) continue;
    RETURN_IF_ERROR(RequireKnownPartner(view, *id, field));
  }
  v1::GetObligationsResponse resp;
  resp.set_as_of_position(at);
  resp.set_as_of_date(req.as_of_date());
  ASSIGN_OR_RETURN(std::vector<std::string> ks, view.Keys("obligation/"));
  // (a, b, currency) with a < b -> outstanding a->b minus b->a.
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> net;
  // (payer, payee, currency) -> per kind, what moved after as_of_date.
  std::map<std::tuple<std::string, std::string, std::string>,
           std::map<sv1::ObligationKind, Movements>>
      moved;
  for (const std::string& k : ks) {
    std::vector<std::string> c =
        Components(k);  // obligation/payer/payee/ccy/kind
    if (c.size() != 5) return absl::DataLossError("malformed key " + k);
    const std::string &payer = c[1], &payee = c[2], &currency = c[3];
    if (!req.partner_id().empty() && payer != req.partner_id() &&
        payee != req.partner_id()) {
      continue;
    }
    if (!req.payer().empty() && payer != req.payer()) continue;
    if (!req.payee().empty() && payee != req.payee()) continue;
    if (!req.currency().empty() && currency != req.currency()) continue;
    ASSIGN_OR_RETURN(std::optional<sv1::Obligation> o,
                     Load<sv1::Obligation>(view, k));
    if (!o.has_value()) continue;
    const sv1::ObligationKind stored_kind =
        c[4] == keys::ObligationKindName(sv1::OBLIGATION_KIND_COMMISSION)
            ? sv1::OBLIGATION_KIND_COMMISSION
            : sv1::OBLIGATION_KIND_PASS_THROUGH;
    const v1::ObligationKind kind = domain::ToWire(stored_kind);
    if (req.kind() != v1::OBLIGATION_KIND_UNSPECIFIED && kind != req.kind()) {
      continue;
    }
    if (!req.as_of_date().empty()) {
      const auto pair = std::make_tuple(payer, payee, currency);
      if (!moved.contains(pair)) {
        ASSIGN_OR_RETURN(moved[pair], MovedAfter(view, payer, payee, currency,
                                                 req.as_of_date()));
      }
      ASSIGN_OR_RETURN(*o, ObligationAt(*o, moved[pair][stored_kind]));
      // Nothing dated by then: the obligation did not exist yet.
      if (o->accrued_minor() == 0 && o->reversed_minor() == 0 &&
          o->settled_minor() == 0) {
        continue;
      }
    }
    v1::ObligationRow* row = resp.add_obligations();
    row->set_payer(payer);
    row->set_payee(payee);
    row->set_currency(currency);
    row->set_kind(kind);
    row->set_accrued_minor(o->accrued_minor());
    row->set_reversed_minor(o->reversed_minor());
    row->set_settled_minor(o->settled_minor());
    row->set_on_hold_minor(o->on_hold_minor());
    row->set_outstanding_minor(o->outstanding_minor());
    const bool forward = payer < payee;
    auto& n = net[{forward ? payer : payee, forward ? payee : payer, currency}];
    n += forward ? o->outstanding_minor() : -o->outstanding_minor();
  }
  for (const auto& [k, a_owes_b] : net) {
    v1::NetObligation* n = resp.add_net();
    n->set_partner_a(std::get<0>(k));
    n->set_partner_b(std::get<1>(k));
    n->set_currency(std::get<2>(k));
    n->set_a_owes_b_minor(a_owes_b);
    if (a_owes_b != 0) {
      n->set_net_payer(a_owes_b > 0 ? std::get<0>(k) : std::get<1>(k));
      n->set_net_payee(a_owes_b > 0 ? std::get<1>(k) : std::get<0>(k));
      n->set_net_minor(a_owes_b > 0 ? a_owes_b : -a_owes_b);
    }
  }
  return resp;
}

namespace {

// (originator, provider, currency) -> what their deals moved after the
// cutoff.
using DirectionMoved =
    std::map<std::tuple<std::string, std::string, std::string>, RevenueMoved>;

// What the pair's deals moved after the cutoff, by direction and currency.
absl::StatusOr<DirectionMoved> PairMovedAfter(const View& view,
                                              const store::Store& log,
                                              const std::string& a,
                                              const std::string& b,
                                              const std::string& cutoff) {
  DirectionMoved out;
  // (payer, payee, currency) -> its statement lines after the cutoff.
  std::map<std::tuple<std::string, std::string, std::string>,
           std::vector<sv1::StatementLine>>
      after;
  ASSIGN_OR_RETURN(std::vector<std::string> deal_keys,
                   view.Keys(keys::PairDealPrefix(a, b)));
  for (const std::string& k : deal_keys) {
    const std::string id = Components(k).back();
    ASSIGN_OR_RETURN(std::optional<sv1::Deal> d,
                     Load<sv1::Deal>(view, keys::Deal(id)));
    if (!d.has_value()) continue;
    const auto obligation =
        std::make_tuple(d->payer(), d->payee(), d->currency());
    if (!after.contains(obligation)) {
      ASSIGN_OR_RETURN(
          after[obligation],
          LinesAfter(view, d->payer(), d->payee(), d->currency(), cutoff));
    }
    ASSIGN_OR_RETURN(
        const RevenueByLine by_line,
        DealMovedAfter(view, log, id, *d, after[obligation], cutoff));
    ASSIGN_OR_RETURN(const RevenueMoved total, Total(by_line));
    if (absl::Status s =
            out[{d->originator(), d->provider(), d->currency()}].Add(total);
        !s.ok()) {
      return s;
    }
  }
  return out;
}

// What `from` brought `to`; with a cutoff, less what `moved` dates after
// it (a currency with nothing booked or reversed by then is left out).
absl::StatusOr<v1::ReferralDirection> Direction(const View& view,
                                                const std::string& from,
                                                const std::string& to,
                                                const DirectionMoved& moved,
                                                bool cutoff) {
  v1::ReferralDirection d;
  d.set_from_partner(from);
  d.set_to_partner(to);
  ASSIGN_OR_RETURN(std::optional<sv1::Referral> r,
                   Load<sv1::Referral>(view, keys::Referral(from, to)));
  if (!r.has_value()) return d;
  d.set_deals_originated(r->deals_originated());
  d.set_deals_won(r->deals_won());
  for (const sv1::ReferralMoney& m : r->money()) {
    const auto it = moved.find({from, to, m.currency()});
    const RevenueMoved mv = it == moved.end() ? RevenueMoved() : it->second;
    if (cutoff && m.revenue_booked_minor() == mv.booked_minor &&
        m.revenue_reversed_minor() == mv.reversed_minor) {
      continue;
    }
    ASSIGN_OR_RETURN(const int64_t revenue,
                     NetAt(m.revenue_booked_minor(), m.revenue_reversed_minor(),
                           mv.booked_minor, mv.reversed_minor));
    ASSIGN_OR_RETURN(const int64_t margin,
                     NetAt(m.margin_accrued_minor(), m.margin_reversed_minor(),
                           mv.margin_accrued_minor, mv.margin_reversed_minor));
    v1::ReferralMoney* out = d.add_money();
    out->set_currency(m.currency());
    out->set_revenue_minor(revenue);
    out->set_margin_minor(margin);
  }
  return d;
}

}  // namespace

absl::StatusOr<v1::GetReferralBalanceResponse> Queries::GetReferralBalance(
    const v1::GetReferralBalanceRequest& req) const {
  RETURN_IF_ERROR(RequirePartner(req.partner_a(), "partner_a"));
  RETURN_IF_ERROR(RequirePartner(req.partner_b(), "partner_b"));
  RETURN_IF_ERROR(CheckAsOfDate(req.as_of_date()));
  ASSIGN_OR_RETURN(View view, OpenView(req.as_of()));
  const uint64_t at = view.position();
  RETURN_IF_ERROR(RequireKnownPartner(view, req.partner_a(), "partner_a"));
  RETURN_IF_ERROR(RequireKnownPartner(view, req.partner_b(), "partner_b"));
  v1::GetReferralBalanceResponse resp;
  resp.set_as_of_position(at);
  resp.set_as_of_date(req.as_of_date());
  const bool cutoff = !req.as_of_date().empty();
  DirectionMoved moved;
  if (cutoff) {
    ASSIGN_OR_RETURN(moved, PairMovedAfter(view, *log_, req.partner_a(),
                                           req.partner_b(), req.as_of_date()));
  }
  ASSIGN_OR_RETURN(
      *resp.mutable_a_to_b(),
      Direction(view, req.partner_a(), req.partner_b(), moved, cutoff));
  ASSIGN_OR_RETURN(
      *resp.mutable_b_to_a(),
      Direction(view, req.partner_b(), req.partner_a(), moved, cutoff));
  std::map<std::string, std::pair<int64_t, int64_t>> net;
  for (const v1::ReferralMoney& m : resp.a_to_b().money()) {
    net[m.currency()].first += m.revenue_minor();
    net[m.currency()].second += m.margin_minor();
  }
  for (const v1::ReferralMoney& m : resp.b_to_a().money()) {
    net[m.currency()].first -= m.revenue_minor();
    net[m.currency()].second -= m.margin_minor();
  }
  for (const auto& [currency, v] : net) {
    v1::ReferralMoney* m = resp.add_net();
    m->set_currency(currency);
    m->set_revenue_minor(v.first);
    m->set_margin_minor(v.second);
  }
  const int32_t x = resp.a_to_b().deals_originated();
  const int32_t y = resp.b_to_a().deals_originated();
  if (std::max(x, y) > 0) {
    resp.set_reciprocity_ratio(static_cast<double>(std::min(x, y)) /
                               std::max(x, y));
  }
  return resp;
}

absl::StatusOr<v1::GetStatementResponse> Queries::GetStatement(
    const v1::GetStatementRequest& req) const {
  RETURN_IF_ERROR(RequirePartner(req.payer(), "payer"));
  RETURN_IF_ERROR(RequirePartner(req.payee(), "payee"));
  RETURN_IF_ERROR(CheckCurrency(req.currency(), "currency", true));
  if (!domain::IsValidPeriod(req.period())) {
    return absl::InvalidArgumentError(
        absl::StrCat("period: \"", req.period(), "\" is not YYYY-MM"));
  }
  RETURN_IF_ERROR(CheckAsOfDate(req.as_of_date()));
  ASSIGN_OR_RETURN(View view, OpenView(req.as_of()));
  const uint64_t at = view.position();
  RETURN_IF_ERROR(RequireKnownPartner(view, req.payer(), "payer"));
  RETURN_IF_ERROR(RequireKnownPartner(view, req.payee(), "payee"));
  v1::GetStatementResponse resp;
  resp.set_as_of_position(at);
  resp.set_as_of_date(req.as_of_date());
  const std::string& cutoff = req.as_of_date();
  // Periods after the cutoff's month hold nothing dated by it; in its month
  // only the lines dated on or before it count.
  const std::string cutoff_month = cutoff.empty() ? "" : MonthOf(cutoff);
  const std::string prefix =
      keys::StatementPrefix(req.payer(), req.payee(), req.currency());
  ASSIGN_OR_RETURN(std::vector<std::string> periods, view.Keys(prefix));
  const std::string this_period =
      keys::Statement(req.payer(), req.payee(), req.currency(), req.period());
  int64_t opening = 0;
  for (const std::string& k : periods) {
    // Period keys sort chronologically ("YYYY-MM").
    if (k >= this_period) break;
    const std::string period = Components(k).back();
    if (!cutoff.empty() && period > cutoff_month) break;
    if (!cutoff.empty() && period == cutoff_month) {
      ASSIGN_OR_RETURN(
          std::vector<sv1::StatementLine> lines,
          PeriodLines(view, req.payer(), req.payee(), req.currency(), period));
      ASSIGN_OR_RETURN(const Movements m, SumThrough(lines, cutoff));
      ASSIGN_OR_RETURN(const int64_t net, Net(m));
      RETURN_IF_ERROR(AddTo(opening, net));
      continue;
    }
    ASSIGN_OR_RETURN(std::optional<sv1::StatementPeriod> p,
                     Load<sv1::StatementPeriod>(view, k));
    if (p.has_value()) opening += p->net_minor();
  }
  ASSIGN_OR_RETURN(std::optional<sv1::StatementPeriod> cur,
                   Load<sv1::StatementPeriod>(view, this_period));
  ASSIGN_OR_RETURN(std::vector<sv1::StatementLine> lines,
                   PeriodLines(view, req.payer(), req.payee(), req.currency(),
                               req.period()));
  resp.set_opening_minor(opening);
  if (!cutoff.empty() && req.period() >= cutoff_month) {
    ASSIGN_OR_RETURN(const Movements m, SumThrough(lines, cutoff));
    resp.set_accrued_minor(m.accrued_minor);
    resp.set_reversed_minor(m.reversed_minor);
    resp.set_settled_minor(m.settled_minor);
  } else if (cur.has_value()) {
    resp.set_accrued_minor(cur->accrued_minor());
    resp.set_reversed_minor(cur->reversed_minor());
    resp.set_settled_minor(cur->settled_minor());
  }
  resp.set_closing_minor(opening + resp.accrued_minor() -
                         resp.reversed_minor() - resp.settled_minor());
  for (const sv1::StatementLine& l : lines) {
    if (!CountsAt(l.date(), cutoff)) continue;
    v1::StatementLine* out = resp.add_lines();
    out->set_position(l.position());
    out->set_event_id(l.event_id());
    out->set_type(domain::ToWire(l.type()));
    out->set_date(l.date());
    out->set_deal_id(l.deal_id());
    out->set_revenue_id(l.revenue_id());
    out->set_settlement_id(l.settlement_id());
    out->set_kind(domain::ToWire(l.kind()));
    out->set_amount_minor(l.amount_minor());
    out->set_rate_bp(l.rate_bp());
    out->set_contract_year(l.contract_year());
  }
  return resp;
}

namespace {

// What the deal moved after the cutoff, per revenue line (empty without
// a cutoff).
absl::StatusOr<std::map<std::string, RevenueMoved>> DealMovedAfterCutoff(
    const View& view, const store::Store& log, const std::string& deal_id,
    const sv1::Deal& d, const std::string& cutoff) {
  if (cutoff.empty()) return std::map<std::string, RevenueMoved>();
  ASSIGN_OR_RETURN(
      std::vector<sv1::StatementLine> after,
      LinesAfter(view, d.payer(), d.payee(), d.currency(), cutoff));
  return DealMovedAfter(view, log, deal_id, d, after, cutoff);
}

// The deal's revenue, margin and obligation totals and its revenue lines,
// as of the cutoff: a line booked after it is left out unless a reversal
// dated by then counts against it.
absl::Status AddDealMoney(const View& view, const store::Store& log,
                          const std::string& deal_id, const sv1::Deal& d,
                          const std::string& cutoff, v1::GetDealResponse* r) {
  ASSIGN_OR_RETURN(const RevenueByLine moved,
                   DealMovedAfterCutoff(view, log, deal_id, d, cutoff));
  ASSIGN_OR_RETURN(const RevenueMoved total, Total(moved));
  ASSIGN_OR_RETURN(const int64_t revenue,
                   NetAt(d.revenue_booked_minor(), d.revenue_reversed_minor(),
                         total.booked_minor, total.reversed_minor));
  ASSIGN_OR_RETURN(
      const int64_t margin,
      NetAt(d.margin_accrued_minor(), d.margin_reversed_minor(),
            total.margin_accrued_minor, total.margin_reversed_minor));
  ASSIGN_OR_RETURN(
      const int64_t obligation,
      NetAt(d.obligation_accrued_minor(), d.obligation_reversed_minor(),
            total.obligation_accrued_minor, total.obligation_reversed_minor));
  r->set_revenue_minor(revenue);
  r->set_margin_minor(margin);
  r->set_obligation_minor(obligation);
  ASSIGN_OR_RETURN(std::vector<std::string> lines,
                   view.Keys(keys::DealLinePrefix(deal_id)));
  for (const std::string& k : lines) {
    ASSIGN_OR_RETURN(std::optional<sv1::RevenueLine> l,
                     Load<sv1::RevenueLine>(view, k));
    if (!l.has_value()) continue;
    const auto it = moved.find(l->revenue_id());
    const RevenueMoved m = it == moved.end() ? RevenueMoved() : it->second;
    ASSIGN_OR_RETURN(const int64_t booked,
                     domain::SubMoney(l->booked_minor(), m.booked_minor));
    ASSIGN_OR_RETURN(const int64_t reversed,
                     domain::SubMoney(l->reversed_minor(), m.reversed_minor));
    if (!CountsAt(l->booked_on(), cutoff) && reversed == 0) continue;
    ASSIGN_OR_RETURN(
        const int64_t line_margin,
        NetAt(l->margin_accrued_minor(), l->margin_reversed_minor(),
              m.margin_accrued_minor, m.margin_reversed_minor));
    ASSIGN_OR_RETURN(
        const int64_t line_obligation,
        NetAt(l->obligation_accrued_minor(), l->obligation_reversed_minor(),
              m.obligation_accrued_minor, m.obligation_reversed_minor));
    v1::RevenueLineView* out = r->add_lines();
    out->set_revenue_id(l->revenue_id());
    out->set_booked_minor(booked);
    out->set_reversed_minor(reversed);
    out->set_service_period_start(l->service_period_start());
    out->set_booked_on(l->booked_on());
    out->set_contract_year(l->contract_year());
    out->set_rate_bp(l->rate_bp());
    out->set_margin_minor(line_margin);
    out->set_obligation_minor(line_obligation);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::GetDealResponse> Queries::GetDeal(
    const v1::GetDealRequest& req) const {
  RETURN_IF_ERROR(Require(req.deal_id(), "deal_id"));
  RETURN_IF_ERROR(CheckAsOfDate(req.as_of_date()));
  ASSIGN_OR_RETURN(View view, OpenView(req.as_of()));
  const uint64_t at = view.position();
  ASSIGN_OR_RETURN(std::optional<sv1::Deal> d,
                   Load<sv1::Deal>(view, keys::Deal(req.deal_id())));
  if (!d.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("deal ", req.deal_id(), " not found at position ", at));
  }
  v1::GetDealResponse r;
  r.set_as_of_position(at);
  r.set_as_of_date(req.as_of_date());
  r.set_deal_id(req.deal_id());
  r.set_agreement_id(d->agreement_id());
  r.set_originator(d->originator());
  r.set_provider(d->provider());
  r.set_prime(d->prime());
  r.mutable_customer()->set_key(d->customer_key());
  r.mutable_customer()->set_name(d->customer_name());
  r.set_offering_class(domain::ToWire(d->offering_class()));
  r.set_currency(d->currency());
  r.set_start_date(d->start_date());
  r.set_status(domain::ToWire(d->status()));
  domain::AppendToWire(d->bands(), r.mutable_bands());
  r.set_margin_source(domain::ToWire(d->margin_source()));
  r.set_disclosed_to_customer(d->disclosed_to_customer() ||
                              !d->disclosed_on().empty());
  r.set_payer(d->payer());
  r.set_payee(d->payee());
  r.set_kind(domain::ToWire(d->kind()));
  r.set_conflicts_open(d->conflicts_open());
  r.set_statements_of_work(d->statements_of_work_size());
  RETURN_IF_ERROR(
      AddDealMoney(view, *log_, req.deal_id(), *d, req.as_of_date(), &r));
  return r;
}

absl::StatusOr<v1::ListConflictsResponse> Queries::ListConflicts(
    const v1::ListConflictsRequest& req) const {
  if (!req.partner_id().empty()) {
    RETURN_IF_ERROR(RequirePartner(req.partner_id(), "partner_id"));
  }
  ASSIGN_OR_RETURN(View view, OpenView(req.as_of()));
  const uint64_t at = view.position();
  if (!req.partner_id().empty()) {
    RETURN_IF_ERROR(RequireKnownPartner(view, req.partner_id(), "partner_id"));
  }
  if (!req.agreement_id().empty()) {
    RETURN_IF_ERROR(RequireKnown<sv1::Agreement>(
        view, keys::Agreement(req.agreement_id()), "agreement_id", "agreement",
        req.agreement_id()));
  }
  v1::ListConflictsResponse resp;
  resp.set_as_of_position(at);
  int64_t now_us = 0;
  if (at > 0) {
    ASSIGN_OR_RETURN(std::optional<StoredEvent> e, log_->ReadEvent(at));
    if (e.has_value()) now_us = e->recorded_at_us();
  }
  ASSIGN_OR_RETURN(std::vector<std::string> ks, view.Keys("conflict/"));
  for (const std::string& k : ks) {
    ASSIGN_OR_RETURN(std::optional<sv1::Conflict> c,
                     Load<sv1::Conflict>(view, k));
    if (!c.has_value()) continue;
    if (!req.agreement_id().empty() &&
        c->agreement_id() != req.agreement_id()) {
      continue;
    }
    if (!req.partner_id().empty() && c->party_a() != req.partner_id() &&
        c->party_b() != req.partner_id()) {
      continue;
    }
    const auto status = domain::ToWire(c->status());
    if (req.status() != v1::CONFLICT_STATUS_UNSPECIFIED &&
        status != req.status()) {
      continue;
    }
    if (status == v1::CONFLICT_STATUS_OPEN) {
      resp.set_open(resp.open() + 1);
    } else {
      resp.set_resolved(resp.resolved() + 1);
    }
    v1::ConflictView* v = resp.add_conflicts();
    v->set_conflict_id(Components(k).back());
    v->set_agreement_id(c->agreement_id());
    v->set_deal_id(c->deal_id());
    v->set_other_deal_id(c->other_deal_id());
    v->set_kind(domain::ToWire(c->kind()));
    v->set_status(status);
    v->set_raised_by(c->raised_by());
    v->set_summary(c->summary());
    SetTimestampMicros(c->raised_at_us(), v->mutable_raised_at());
    v->set_resolution(c->resolution());
    v->set_resolved_by(c->resolved_by());
    const int64_t end_us =
        status == v1::CONFLICT_STATUS_RESOLVED ? c->resolved_at_us() : now_us;
    if (status == v1::CONFLICT_STATUS_RESOLVED) {
      SetTimestampMicros(c->resolved_at_us(), v->mutable_resolved_at());
    }
    v->set_age_seconds(
        std::max<int64_t>(0, (end_us - c->raised_at_us()) / 1'000'000));
  }
  return resp;
}

namespace {

void AddPoint(const std::string& period, v1::SatisfactionSubject subject,
              const sv1::SatisfactionScores& s,
              v1::GetSatisfactionResponse* r) {
  if (s.responses() == 0) return;
  v1::SatisfactionPoint* p = r->add_points();
  p->set_period(period);
  p->set_subject(subject);
  p->set_responses(s.responses());
  // Half-up on a non-negative ratio: exact integer arithmetic.
  p->set_average_centi(static_cast<int32_t>(
      (s.score_sum() * 200 + s.responses()) / (2 * s.responses())));
  p->set_min(s.score_min());
  p->set_max(s.score_max());
}

}  // namespace

absl::StatusOr<v1::GetSatisfactionResponse> Queries::GetSatisfaction(
    const v1::GetSatisfactionRequest& req) const {
  RETURN_IF_ERROR(Require(req.agreement_id(), "agreement_id"));
  RETURN_IF_ERROR(CheckAsOfDate(req.as_of_date()));
  ASSIGN_OR_RETURN(View view, OpenView(req.as_of()));
  const uint64_t at = view.position();
  RETURN_IF_ERROR(RequireKnown<sv1::Agreement>(
      view, keys::Agreement(req.agreement_id()), "agreement_id", "agreement",
      req.agreement_id()));
  v1::GetSatisfactionResponse resp;
  resp.set_as_of_position(at);
  resp.set_as_of_date(req.as_of_date());
  const std::string cutoff_month =
      req.as_of_date().empty() ? "" : MonthOf(req.as_of_date());
  const std::string prefix = absl::StrCat(
      "satisfaction/", keys::KeyComponent(req.agreement_id()), "/");
  ASSIGN_OR_RETURN(std::vector<std::string> ks, view.Keys(prefix));
  for (const std::string& k : ks) {
    ASSIGN_OR_RETURN(std::optional<sv1::Satisfaction> s,
                     Load<sv1::Satisfaction>(view, k));
    if (!s.has_value()) continue;
    const std::string period = Components(k).back();
    if (!cutoff_month.empty() && period > cutoff_month) break;  // Sorted.
    AddPoint(period, v1::SATISFACTION_SUBJECT_CUSTOMER, s->customer(), &resp);
    AddPoint(period, v1::SATISFACTION_SUBJECT_PARTNER, s->partner(), &resp);
  }
  return resp;
}

namespace {

bool WithinGuidance(const sv1::Deal& d) {
  const domain::MarginGuidance& g = domain::GuidanceFor(d.offering_class());
  for (const sv1::MarginBand& b : d.bands()) {
    const bool first = b.from_year() == 1;
    const int32_t lo = first ? g.year1_min_bp : g.later_min_bp;
    const int32_t hi = first ? g.year1_max_bp : g.later_max_bp;
    if (b.rate_bp() < lo || b.rate_bp() > hi) return false;
  }
  return true;
}

v1::HealthLine* Line(v1::GetPartnershipHealthResponse* r, v1::Pillar pillar,
                     v1::HealthStatus status, std::string detail) {
  v1::HealthLine* l = r->add_lines();
  l->set_pillar(pillar);
  l->set_status(status);
  l->set_detail(std::move(detail));
  return l;
}

void AddIds(google::protobuf::RepeatedPtrField<std::string>* out,
            const std::vector<std::string>& ids) {
  for (const std::string& id : ids) out->Add(std::string(id));
}

template <typename T>
std::vector<std::string> DealIds(
    const std::vector<std::pair<std::string, T>>& deals) {
  std::vector<std::string> out;
  for (const auto& d : deals) out.push_back(d.first);
  return out;
}

// What the pillars of one pair's health share, read once.
struct PairState {
  std::string a;
  std::string b;
  // The pair's deals, in key order.
  std::vector<std::pair<std::string, sv1::Deal>> deals;
  // Every agreement the pair ever signed, in log order.
  std::vector<std::string> agreement_ids;
};

absl::StatusOr<PairState> LoadPair(const View& view, const std::string& a,
                                   const std::string& b) {
  PairState pair{a, b, {}, {}};
  ASSIGN_OR_RETURN(std::vector<std::string> deal_keys,
                   view.Keys(keys::PairDealPrefix(a, b)));
  for (const std::string& k : deal_keys) {
    const std::string id = Components(k).back();
    ASSIGN_OR_RETURN(std::optional<sv1::Deal> d,
                     Load<sv1::Deal>(view, keys::Deal(id)));
    if (d.has_value()) pair.deals.emplace_back(id, std::move(*d));
  }
  ASSIGN_OR_RETURN(std::optional<sv1::PairAgreements> agreements,
                   Load<sv1::PairAgreements>(view, keys::PairAgreements(a, b)));
  if (agreements.has_value()) {
    pair.agreement_ids.assign(agreements->agreement_ids().begin(),
                              agreements->agreement_ids().end());
  }
  return pair;
}

// 1 Margins: every agreed margin within the guidance of its class.
void AddMarginsLine(const PairState& pair,
                    v1::GetPartnershipHealthResponse* resp) {
  std::vector<std::string> outside;
  std::vector<std::string> agreed;
  for (const auto& [id, d] : pair.deals) {
    if (!d.margin_agreed()) continue;
    agreed.push_back(id);
    if (!WithinGuidance(d)) outside.push_back(id);
  }
  if (!outside.empty()) {
    AddIds(Line(resp, v1::PILLAR_MARGINS, v1::HEALTH_STATUS_WARN,
                absl::StrCat(outside.size(), " of ", agreed.size(),
                             " deals have margins outside guidance: ",
                             absl::StrJoin(outside, ", ")))
               ->mutable_deal_ids(),
           outside);
    return;
  }
  AddIds(Line(resp, v1::PILLAR_MARGINS,
              !agreed.empty() ? v1::HEALTH_STATUS_OK : v1::HEALTH_STATUS_WARN,
              !agreed.empty() ? absl::StrCat("all ", agreed.size(),
                                             " agreed margins within guidance")
                              : "no margin agreed yet")
             ->mutable_deal_ids(),
         agreed);
}

// 2 Prime partner: every deal names its prime (enforced on origination).
void AddPrimePartnerLine(const PairState& pair,
                         v1::GetPartnershipHealthResponse* resp) {
  const bool none = pair.deals.empty();
  AddIds(Line(resp, v1::PILLAR_PRIME_PARTNER,
              none ? v1::HEALTH_STATUS_WARN : v1::HEALTH_STATUS_OK,
              none ? "no deals yet"
                   : absl::StrCat("prime named on all ", pair.deals.size(),
                                  " deals"))
             ->mutable_deal_ids(),
         DealIds(pair.deals));
}

// Whether an agreement counts as active: signed with its document, not
// terminated, and, at a business date, in force on it.
bool ActiveAt(const sv1::Agreement& ag, const std::string& cutoff) {
  if (ag.document().sha256().empty()) return false;
  if (cutoff.empty()) return !ag.terminated();
  if (ag.effective_from() > cutoff) return false;
  if (!ag.effective_to().empty() && ag.effective_to() < cutoff) return false;
  return !ag.terminated() || ag.terminated_on() > cutoff;
}

// 3 Documentation: an active agreement with its document, a SoW per won
// deal.
absl::Status AddDocumentationLine(const View& view, const PairState& pair,
                                  const std::string& cutoff,
                                  v1::GetPartnershipHealthResponse* resp) {
  std::vector<std::string> active;
  for (const std::string& id : pair.agreement_ids) {
    ASSIGN_OR_RETURN(std::optional<sv1::Agreement> ag,
                     Load<sv1::Agreement>(view, keys::Agreement(id)));
    if (ag.has_value() && ActiveAt(*ag, cutoff)) active.push_back(id);
  }
  std::vector<std::string> no_sow;
  for (const auto& [id, d] : pair.deals) {
    if (d.status() == sv1::DEAL_STATUS_WON &&
        d.statements_of_work_size() == 0) {
      no_sow.push_back(id);
    }
  }
  v1::HealthLine* doc;
  if (active.empty()) {
    doc = Line(resp, v1::PILLAR_DOCUMENTATION, v1::HEALTH_STATUS_FAIL,
               "no active signed agreement for the pair");
  } else if (!no_sow.empty()) {
    doc = Line(resp, v1::PILLAR_DOCUMENTATION, v1::HEALTH_STATUS_WARN,
               absl::StrCat("won deals without a statement of work: ",
                            absl::StrJoin(no_sow, ", ")));
  } else {
    doc = Line(resp, v1::PILLAR_DOCUMENTATION, v1::HEALTH_STATUS_OK,
               absl::StrCat(active.size(),
                            " active agreement(s); every won deal has a SoW"));
  }
  AddIds(doc->mutable_agreement_ids(), active);
  AddIds(doc->mutable_deal_ids(), no_sow);
  return absl::OkStatus();
}

// 4 Elevator pitch: both partners have one.
absl::Status AddElevatorPitchLine(const View& view, const PairState& pair,
                                  v1::GetPartnershipHealthResponse* resp) {
  std::vector<std::string> no_pitch;
  for (const std::string& p : {pair.a, pair.b}) {
    ASSIGN_OR_RETURN(std::optional<sv1::Partner> partner,
                     Load<sv1::Partner>(view, keys::Partner(p)));
    if (!partner.has_value() || partner->pitch().empty()) no_pitch.push_back(p);
  }
  AddIds(Line(resp, v1::PILLAR_ELEVATOR_PITCH,
              no_pitch.empty() ? v1::HEALTH_STATUS_OK : v1::HEALTH_STATUS_WARN,
              no_pitch.empty() ? "both partners have a pitch"
                               : absl::StrCat("no pitch for: ",
                                              absl::StrJoin(no_pitch, ", ")))
             ->mutable_partner_ids(),
         no_pitch);
  return absl::OkStatus();
}

// 5 Bi-directional: each partner brings the other deals.
void AddBidirectionalLine(const PairState& pair,
                          const v1::GetReferralBalanceResponse& balance,
                          v1::GetPartnershipHealthResponse* resp) {
  const double ratio = balance.reciprocity_ratio();
  AddIds(
      Line(resp, v1::PILLAR_BIDIRECTIONAL,
           ratio >= 0.5 ? v1::HEALTH_STATUS_OK : v1::HEALTH_STATUS_WARN,
           absl::StrCat(pair.a, " originated ",
                        balance.a_to_b().deals_originated(), ", ", pair.b,
                        " originated ", balance.b_to_a().deals_originated(),
                        " (reciprocity ", absl::StrFormat("%.2f", ratio), ")"))
          ->mutable_deal_ids(),
      DealIds(pair.deals));
}

// 6 Visibility: every customer was told which partner is involved.
void AddVisibilityLine(const PairState& pair,
                       v1::GetPartnershipHealthResponse* resp) {
  int disclosed = 0;
  std::vector<std::string> undisclosed;
  for (const auto& [id, d] : pair.deals) {
    if (d.disclosed_to_customer() || !d.disclosed_on().empty()) {
      ++disclosed;
    } else {
      undisclosed.push_back(id);
    }
  }
  const bool all = disclosed == static_cast<int>(pair.deals.size());
  AddIds(Line(resp, v1::PILLAR_VISIBILITY,
              all && !pair.deals.empty() ? v1::HEALTH_STATUS_OK
                                         : v1::HEALTH_STATUS_WARN,
              absl::StrCat(disclosed, " of ", pair.deals.size(),
                           " deals disclosed to the customer"))
             ->mutable_deal_ids(),
         undisclosed);
}

// The latest period's average satisfaction across the pair's agreements,
// compared with the period before it.
struct SatisfactionTrend {
  std::string text = "no satisfaction recorded";
  bool declining = false;
};

SatisfactionTrend TrendOf(
    const std::vector<v1::GetSatisfactionResponse>& per_agreement) {
  std::map<std::string, std::pair<int64_t, int64_t>> by_period;  // sum, count
  for (const v1::GetSatisfactionResponse& sat : per_agreement) {
    for (const v1::SatisfactionPoint& p : sat.points()) {
      by_period[p.period()].first += int64_t{p.average_centi()} * p.responses();
      by_period[p.period()].second += p.responses();
    }
  }
  SatisfactionTrend trend;
  if (by_period.empty()) return trend;
  auto last = by_period.rbegin();
  const int64_t last_avg = last->second.first / last->second.second;
  trend.text = absl::StrCat("satisfaction ", last->first, ": ",
                            absl::StrFormat("%.2f", last_avg / 100.0));
  if (by_period.size() > 1) {
    auto prev = std::next(last);
    const int64_t prev_avg = prev->second.first / prev->second.second;
    trend.declining = last_avg < prev_avg;
    trend.text += absl::StrCat(trend.declining ? " (down from " : " (from ",
                               absl::StrFormat("%.2f", prev_avg / 100.0),
                               " in ", prev->first, ")");
  }
  return trend;
}

// 7 Conflicts: none open, and satisfaction not declining.
absl::Status AddConflictsLine(const View& view, const PairState& pair,
                              const SatisfactionTrend& trend,
                              v1::GetPartnershipHealthResponse* resp) {
  ASSIGN_OR_RETURN(std::vector<std::string> conflict_keys,
                   view.Keys(keys::PairConflictPrefix(pair.a, pair.b)));
  std::vector<std::string> open;
  for (const std::string& k : conflict_keys) {
    const std::string id = Components(k).back();
    ASSIGN_OR_RETURN(std::optional<sv1::Conflict> c,
                     Load<sv1::Conflict>(view, keys::Conflict(id)));
    if (c.has_value() && c->status() == sv1::CONFLICT_STATUS_OPEN) {
      open.push_back(id);
    }
  }
  v1::HealthLine* line = Line(
      resp, v1::PILLAR_CONFLICTS,
      !open.empty()
          ? v1::HEALTH_STATUS_FAIL
          : (trend.declining ? v1::HEALTH_STATUS_WARN : v1::HEALTH_STATUS_OK),
      absl::StrCat(open.size(), " open conflict(s); ", trend.text));
  AddIds(line->mutable_conflict_ids(), open);
  AddIds(line->mutable_agreement_ids(), pair.agreement_ids);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<v1::GetSatisfactionResponse>>
Queries::AgreementsSatisfaction(const std::vector<std::string>& agreement_ids,
                                uint64_t at,
                                const std::string& as_of_date) const {
  std::vector<v1::GetSatisfactionResponse> out;
  for (const std::string& id : agreement_ids) {
    v1::GetSatisfactionRequest sr;
    sr.mutable_as_of()->set_position(at);
    sr.set_agreement_id(id);
    sr.set_as_of_date(as_of_date);
    ASSIGN_OR_RETURN(out.emplace_back(), GetSatisfaction(sr));
  }
  return out;
}

absl::StatusOr<v1::GetPartnershipHealthResponse> Queries::GetPartnershipHealth(
    const v1::GetPartnershipHealthRequest& req) const {
  RETURN_IF_ERROR(RequirePartner(req.partner_a(), "partner_a"));
  RETURN_IF_ERROR(RequirePartner(req.partner_b(), "partner_b"));
  RETURN_IF_ERROR(CheckAsOfDate(req.as_of_date()));
  ASSIGN_OR_RETURN(View view, OpenView(req.as_of()));
  const uint64_t at = view.position();
  for (const auto& [id, field] : {std::pair{&req.partner_a(), "partner_a"},
                                  std::pair{&req.partner_b(), "partner_b"}}) {
    RETURN_IF_ERROR(RequireKnownPartner(view, *id, field));
  }
  ASSIGN_OR_RETURN(const PairState pair,
                   LoadPair(view, req.partner_a(), req.partner_b()));
  v1::GetReferralBalanceRequest rb;
  rb.mutable_as_of()->set_position(at);
  rb.set_partner_a(pair.a);
  rb.set_partner_b(pair.b);
  rb.set_as_of_date(req.as_of_date());
  ASSIGN_OR_RETURN(const v1::GetReferralBalanceResponse balance,
                   GetReferralBalance(rb));
  ASSIGN_OR_RETURN(
      const std::vector<v1::GetSatisfactionResponse> satisfaction,
      AgreementsSatisfaction(pair.agreement_ids, at, req.as_of_date()));

  v1::GetPartnershipHealthResponse resp;
  resp.set_as_of_position(at);
  resp.set_as_of_date(req.as_of_date());
  AddMarginsLine(pair, &resp);
  AddPrimePartnerLine(pair, &resp);
  RETURN_IF_ERROR(AddDocumentationLine(view, pair, req.as_of_date(), &resp));
  RETURN_IF_ERROR(AddElevatorPitchLine(view, pair, &resp));
  AddBidirectionalLine(pair, balance, &resp);
  AddVisibilityLine(pair, &resp);
  RETURN_IF_ERROR(AddConflictsLine(view, pair, TrendOf(satisfaction), &resp));
  return resp;
}

}  // namespace partnerledger::projection

#include "domain/state_keys.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "domain/partnership_internal.h"

namespace partnerledger::domain::keys {
namespace {

namespace sv1 = storage::v1;
using internal::Cat;

bool IsPlain(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-';
}

// The pair's ids in ascending order, as "{a}/{b}".
std::string PairPath(std::string_view x, std::string_view y) {
  if (y < x) std::swap(x, y);
  return Cat(KeyComponent(x), "/", KeyComponent(y));
}

std::string Path4(std::string_view a, std::string_view b, std::string_view c,
                  std::string_view d) {
  return Cat(KeyComponent(a), "/", KeyComponent(b), "/", KeyComponent(c), "/",
             KeyComponent(d));
}

}  // namespace

std::string KeyComponent(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (unsigned char c : raw) {
    if (IsPlain(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

std::string_view OfferingClassName(sv1::OfferingClass c) {
  switch (c) {
    case sv1::OFFERING_CLASS_PROJECT:
      return "project";
    case sv1::OFFERING_CLASS_SAAS:
      return "saas";
    case sv1::OFFERING_CLASS_LICENSE:
      return "license";
    default:
      return "unspecified";
  }
}

std::string_view ObligationKindName(sv1::ObligationKind k) {
  switch (k) {
    case sv1::OBLIGATION_KIND_COMMISSION:
      return "commission";
    case sv1::OBLIGATION_KIND_PASS_THROUGH:
      return "pass_through";
    default:
      return "unspecified";
  }
}

std::string Partner(std::string_view id) {
  return Cat("partner/", KeyComponent(id));
}

std::string Agreement(std::string_view id) {
  return Cat("agreement/", KeyComponent(id));
}

std::string PairAgreements(std::string_view x, std::string_view y) {
  return Cat("pair-agreement/", PairPath(x, y));
}

std::string PairDealPrefix(std::string_view x, std::string_view y) {
  return Cat("pair-deal/", PairPath(x, y), "/");
}

std::string PairDeal(std::string_view x, std::string_view y,
                     std::string_view deal_id) {
  return Cat(PairDealPrefix(x, y), KeyComponent(deal_id));
}

std::string PairConflictPrefix(std::string_view x, std::string_view y) {
  return Cat("pair-conflict/", PairPath(x, y), "/");
}

std::string PairConflict(std::string_view x, std::string_view y,
                         std::string_view conflict_id) {
  return Cat(PairConflictPrefix(x, y), KeyComponent(conflict_id));
}

std::string Deal(std::string_view id) { return Cat("deal/", KeyComponent(id)); }

std::string DealLinePrefix(std::string_view deal_id) {
  return Cat("deal-line/", KeyComponent(deal_id), "/");
}

std::string DealLine(std::string_view deal_id, std::string_view revenue_id) {
  return Cat(DealLinePrefix(deal_id), KeyComponent(revenue_id));
}

std::string CustomerRegistration(std::string_view customer_key,
                                 std::string_view provider,
                                 sv1::OfferingClass c) {
  return Cat("customer-reg/", KeyComponent(customer_key), "/",
             KeyComponent(provider), "/", OfferingClassName(c));
}

std::string ObligationPrefix(std::string_view payer, std::string_view payee,
                             std::string_view currency) {
  return Cat("obligation/", KeyComponent(payer), "/", KeyComponent(payee), "/",
             KeyComponent(currency), "/");
}

std::string Obligation(std::string_view payer, std::string_view payee,
                       std::string_view currency, sv1::ObligationKind kind) {
  return Cat(ObligationPrefix(payer, payee, currency),
             ObligationKindName(kind));
}

std::string Referral(std::string_view from, std::string_view to) {
  return Cat("referral/", KeyComponent(from), "/", KeyComponent(to));
}

std::string StatementPrefix(std::string_view payer, std::string_view payee,
                            std::string_view currency) {
  return Cat("statement/", KeyComponent(payer), "/", KeyComponent(payee), "/",
             KeyComponent(currency), "/");
}

std::string Statement(std::string_view payer, std::string_view payee,
                      std::string_view currency, std::string_view period) {
  return Cat(StatementPrefix(payer, payee, currency), KeyComponent(period));
}

std::string StatementLinePrefix(std::string_view payer, std::string_view payee,
                                std::string_view currency,
                                std::string_view period) {
  return Cat("statement-line/", Path4(payer, payee, currency, period), "/");
}

std::string StatementLine(std::string_view payer, std::string_view payee,
                          std::string_view currency, std::string_view period,
                          uint64_t position) {
  return Cat(StatementLinePrefix(payer, payee, currency, period),
             absl::StrFormat("%020u", position));
}

std::string Conflict(std::string_view id) {
  return Cat("conflict/", KeyComponent(id));
}

std::string Settlement(std::string_view id) {
  return Cat("settlement/", KeyComponent(id));
}

std::string Satisfaction(std::string_view agreement_id,
                         std::string_view period) {
  return Cat("satisfaction/", KeyComponent(agreement_id), "/",
             KeyComponent(period));
}

std::string Period(std::string_view period) {
  return Cat("period/", KeyComponent(period));
}

std::string PeriodClosedThrough() { return "period-closed-through"; }

}  // namespace partnerledger::domain::keys

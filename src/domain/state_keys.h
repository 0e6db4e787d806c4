// The projection state the partnership rules keep (NewPartnershipRules):
// every key, the record its value holds (proto/partnerledger/storage/v1/
// state.proto, serialized with SerializeAsString), and when it changes.
// The query layer reads these keys; the store scans current keys by prefix
// and reads any key as of an earlier log position.
//
// Layout: '/'-separated components. Every component goes through
// KeyComponent: bytes outside [A-Za-z0-9._:-] (and '%') become %XX, so a
// component never contains '/', keys stay printable ASCII, and a prefix
// ending in '/' selects exactly one parent. Ids that are valid stream ids
// (partners, agreements, deals, ...) come out unchanged.
//
// | key                                                  | value |
// |------------------------------------------------------|----------------------|
// | partner/{id}                                         | Partner | |
// agreement/{id}                                       | Agreement            |
// | pair-agreement/{a}/{b}                               | PairAgreements | |
// pair-deal/{a}/{b}/{deal}                             | "" (index)           |
// | pair-conflict/{a}/{b}/{conflict}                     | "" (index) | |
// deal/{id}                                            | Deal                 |
// | deal-line/{deal}/{revenue_id}                        | RevenueLine | |
// customer-reg/{customer_key}/{provider}/{class}       | CustomerRegistration |
// | obligation/{payer}/{payee}/{currency}/{kind}         | Obligation | |
// referral/{from}/{to}                                 | Referral             |
// | statement/{payer}/{payee}/{currency}/{yyyy-mm}       | StatementPeriod | |
// statement-line/{payer}/{payee}/{currency}/{yyyy-mm}/{position:020} |
// StatementLine | | conflict/{id}                                        |
// Conflict             | | settlement/{id} | Settlement           | |
// satisfaction/{agreement}/{yyyy-mm}                   | Satisfaction         |
// | period/{yyyy-mm}                                     | Period (closed) |
// | period-closed-through                                | Period (latest) |
//
// {a}/{b}: the pair's two partner ids in ascending byte order, whichever
// signed as party_a. {class}: "project" | "saas" | "license". {kind}:
// "commission" | "pass_through". {position:020}: the event's global
// position, 20 decimal digits zero-padded, so lines scan in log order.
// {from}/{to}: originator / provider of the deals counted.
//
// Statement periods: an accrual by its revenue line's booked_on; a reversal
// and a settlement by their event's occurred_at (UTC date).
#ifndef PARTNERLEDGER_DOMAIN_STATE_KEYS_H_
#define PARTNERLEDGER_DOMAIN_STATE_KEYS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "partnerledger/storage/v1/state.pb.h"

namespace partnerledger::domain::keys {

// The escaped form of one key component (see above).
std::string KeyComponent(std::string_view raw);

// "project" | "saas" | "license" ("unspecified" otherwise).
std::string_view OfferingClassName(storage::v1::OfferingClass c);
// "commission" | "pass_through" ("unspecified" otherwise).
std::string_view ObligationKindName(storage::v1::ObligationKind k);

std::string Partner(std::string_view id);
std::string Agreement(std::string_view id);
// Order-insensitive: Pair*(x, y) == Pair*(y, x).
std::string PairAgreements(std::string_view x, std::string_view y);
std::string PairDeal(std::string_view x, std::string_view y,
                     std::string_view deal_id);
std::string PairDealPrefix(std::string_view x, std::string_view y);
std::string PairConflict(std::string_view x, std::string_view y,
                         std::string_view conflict_id);
std::string PairConflictPrefix(std::string_view x, std::string_view y);
std::string Deal(std::string_view id);
std::string DealLine(std::string_view deal_id, std::string_view revenue_id);
std::string DealLinePrefix(std::string_view deal_id);
std::string CustomerRegistration(std::string_view customer_key,
                                 std::string_view provider,
                                 storage::v1::OfferingClass c);
std::string Obligation(std::string_view payer, std::string_view payee,
                       std::string_view currency,
                       storage::v1::ObligationKind kind);
// "obligation/{payer}/{payee}/{currency}/": both kinds.
std::string ObligationPrefix(std::string_view payer, std::string_view payee,
                             std::string_view currency);
std::string Referral(std::string_view from, std::string_view to);
std::string Statement(std::string_view payer, std::string_view payee,
                      std::string_view currency, std::string_view period);
// "statement/{payer}/{payee}/{currency}/": every period, oldest first.
std::string StatementPrefix(std::string_view payer, std::string_view payee,
                            std::string_view currency);
std::string StatementLine(std::string_view payer, std::string_view payee,
                          std::string_view currency, std::string_view period,
                          uint64_t position);
std::string StatementLinePrefix(std::string_view payer, std::string_view payee,
                                std::string_view currency,
                                std::string_view period);
std::string Conflict(std::string_view id);
std::string Settlement(std::string_view id);
std::string Satisfaction(std::string_view agreement_id,
                         std::string_view period);
std::string Period(std::string_view period);
// The latest closed period: every date up to its month end is locked.
std::string PeriodClosedThrough();

}  // namespace partnerledger::domain::keys

#endif  // PARTNERLEDGER_DOMAIN_STATE_KEYS_H_

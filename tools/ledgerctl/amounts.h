// Amounts in ledgerctl's JSON input, before protobuf's JSON parser sees it.
//
// A Money object may give its amount in major units of its currency as a
// decimal string (or a plain JSON number) with exactly the currency's
// ISO 4217 number of decimals:
//   {"currency": "EUR", "amount": "12000.00"}  ->  amountMinor 1200000
//   {"currency": "JPY", "amount": "1500"}      ->  amountMinor 1500
// "12000.5" for EUR is refused (EUR has 2 decimals), as is a currency this
// build does not know. The wire form {"currency", "amountMinor"} passes
// unchanged, except that an amount written as a JSON number in exponent or
// fraction form ("amountMinor": 1.2e6) is refused: protobuf would accept it
// and money must never go through floating point.
#ifndef PARTNERLEDGER_TOOLS_LEDGERCTL_AMOUNTS_H_
#define PARTNERLEDGER_TOOLS_LEDGERCTL_AMOUNTS_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace partnerledger::ctl {

// `json` (one JSON document) with every major-unit amount rewritten to
// "amountMinor": "<integer>"; everything else byte for byte as given.
// INVALID_ARGUMENT naming the field path (events[0].payload.revenueBooked.
// amount) for a refused amount; FAILED_PRECONDITION when `json` is not one
// well-formed JSON document (the caller lets protobuf's parser explain).
absl::StatusOr<std::string> NormalizeAmounts(std::string_view json);

}  // namespace partnerledger::ctl

#endif  // PARTNERLEDGER_TOOLS_LEDGERCTL_AMOUNTS_H_

// Exact money: integer minor units per ISO 4217 currency, half-even
// rounding, overflow as an error. Never floating point.
#ifndef PARTNERLEDGER_DOMAIN_MONEY_H_
#define PARTNERLEDGER_DOMAIN_MONEY_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"

namespace partnerledger::domain {

// Minor-unit exponent of an active ISO 4217 code (EUR 2, JPY 0, BHD 3), or
// nullopt for an unknown code.
std::optional<int> CurrencyExponent(std::string_view code);

// a + b, or OUT_OF_RANGE when the result leaves [-kAmountMinorMax,
// kAmountMinorMax] (limits.h) or int64.
absl::StatusOr<int64_t> AddMoney(int64_t a, int64_t b);
absl::StatusOr<int64_t> SubMoney(int64_t a, int64_t b);

// round_half_even(amount * numerator / denominator), computed in 128 bits.
// REQUIRES: denominator > 0. OUT_OF_RANGE if the result leaves the amount
// bounds.
absl::StatusOr<int64_t> MulDivHalfEven(int64_t amount, int64_t numerator,
                                       int64_t denominator);

// Commission = round_half_even(amount_minor x rate_bp / 10000).
absl::StatusOr<int64_t> Commission(int64_t amount_minor, int32_t rate_bp);

}  // namespace partnerledger::domain

#endif  // PARTNERLEDGER_DOMAIN_MONEY_H_

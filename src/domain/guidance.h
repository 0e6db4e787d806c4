// Margin guidance (DESIGN §1): the bands an agreement that states none
// gets, and the ranges outside which health reports a deal's rates (they
// are allowed, only reported).
#ifndef PARTNERLEDGER_DOMAIN_GUIDANCE_H_
#define PARTNERLEDGER_DOMAIN_GUIDANCE_H_

#include <cstdint>

#include "partnerledger/storage/v1/state.pb.h"

namespace partnerledger::domain {

// A rate of 100% in basis points: rate_bp is 0..kBasisPointsMax.
inline constexpr int32_t kBasisPointsMax = 10'000;

struct MarginGuidance {
  // Year 1, and years 2 and later: the default rate and the guided range.
  int32_t year1_default_bp;
  int32_t later_default_bp;
  int32_t year1_min_bp;
  int32_t year1_max_bp;
  int32_t later_min_bp;
  int32_t later_max_bp;
};

// PROJECT: 20% then 10%, no range.
inline constexpr MarginGuidance kProjectGuidance{2000, 1000, 2000,
                                                 2000, 1000, 1000};
// SAAS and LICENSE: 20-30% then 10-15%, defaults 25% then 12.5%.
inline constexpr MarginGuidance kSubscriptionGuidance{2500, 1250, 2000,
                                                      3000, 1000, 1500};

static_assert(kProjectGuidance.year1_min_bp <=
                  kProjectGuidance.year1_default_bp &&
              kProjectGuidance.year1_default_bp <=
                  kProjectGuidance.year1_max_bp);
static_assert(kSubscriptionGuidance.year1_min_bp <=
                  kSubscriptionGuidance.year1_default_bp &&
              kSubscriptionGuidance.year1_default_bp <=
                  kSubscriptionGuidance.year1_max_bp);
static_assert(kSubscriptionGuidance.later_min_bp <=
                  kSubscriptionGuidance.later_default_bp &&
              kSubscriptionGuidance.later_default_bp <=
                  kSubscriptionGuidance.later_max_bp);
static_assert(kSubscriptionGuidance.year1_max_bp <= kBasisPointsMax);

inline const MarginGuidance& GuidanceFor(storage::v1::OfferingClass c) {
  return c == storage::v1::OFFERING_CLASS_PROJECT ? kProjectGuidance
                                                  : kSubscriptionGuidance;
}

}  // namespace partnerledger::domain

#endif  // PARTNERLEDGER_DOMAIN_GUIDANCE_H_

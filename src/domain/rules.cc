#include "domain/rules.h"

namespace partnerledger::domain {
namespace {

class StructuralRules final : public Rules {
 public:
  absl::StatusOr<Decision> Decide(const StateView&,
                                  const Proposal& p) const override {
    Decision d;
    d.payload = *p.payload;
    return d;
  }
  absl::Status Apply(StateWriter&, const Recorded&) const override {
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<Rules> NewStructuralRules() {
  return std::make_unique<StructuralRules>();
}

}  // namespace partnerledger::domain

// Apply's own checks: every money sum is bounded (AddMoney/SubMoney), and a
// counter that would go negative is an invariant error (INTERNAL) that the
// writer turns into a stop. Apply is given state Decide would never lead
// to, which is exactly when these checks matter.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "domain/partnership.h"
#include "domain/partnership_sim.h"
#include "domain/state_keys.h"
#include "partnerledger/limits.h"
#include "partnerledger/storage/v1/state.pb.h"

namespace partnerledger::domain {
namespace {

namespace sv1 = storage::v1;
using ::testing::HasSubstr;
using testing::MemState;
using testing::Sim;

Recorded At(uint64_t position, std::string_view stream,
            const v1::EventPayload& payload) {
  Recorded r;
  r.position = position;
  r.stream = stream;
  r.event_id = "00000000-0000-4000-8000-00000000ffff";
  r.recorded_at_us = 1'767'225'600'000'000;
  r.occurred_at_us = 1'767'225'600'000'000;
  r.payload = &payload;
  return r;
}

TEST(ApplyChecksTest, SettledTotalBeyondTheAmountBoundIsOutOfRange) {
  MemState state;
  sv1::Obligation o;
  o.set_accrued_minor(limits::kAmountMinorMax);
  o.set_settled_minor(limits::kAmountMinorMax);
  o.set_outstanding_minor(100);
  state.Put(keys::Obligation("F", "C", "EUR", sv1::OBLIGATION_KIND_COMMISSION),
            o.SerializeAsString());
  const v1::EventPayload settle =
      testing::SettlementRecorded("F", "C", "EUR", 100);
  absl::Status s =
      NewPartnershipRules()->Apply(state, At(9, "settlement-S1", settle));
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange) << s;
}

TEST(ApplyChecksTest, ResolvingAConflictThatIsNotOpenIsAnInvariantError) {
  Sim sim;
  sim.Ok("partner-C", testing::PartnerRegistered("C"));
  sim.Ok("partner-F", testing::PartnerRegistered("F"));
  sim.Ok("agreement-CF", testing::AgreementSigned("C", "F"));
  testing::DealSpec d;
  d.agreement = "CF";
  sim.Ok("deal-D1", testing::DealOriginated(d));
  sim.Ok("conflict-K1", testing::ConflictRaised("CF", "D1"));
  sim.Ok("conflict-K1", testing::ConflictResolved());
  // Decide refuses the second resolution; Apply, handed it anyway, must not
  // store -1 open conflicts.
  EXPECT_EQ(
      sim.Append("conflict-K1", testing::ConflictResolved()).status().code(),
      absl::StatusCode::kFailedPrecondition);
  MemState state = sim.state();
  const v1::EventPayload again = testing::ConflictResolved();
  absl::Status s =
      NewPartnershipRules()->Apply(state, At(7, "conflict-K1", again));
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  EXPECT_THAT(s.message(),
              HasSubstr("invariant: resolving conflict 'K1' would leave deal "
                        "'D1' with -1 open conflicts"));
}

}  // namespace
}  // namespace partnerledger::domain

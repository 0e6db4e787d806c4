// The seam between the writer and the domain: the writer asks the rules to
// decide each proposed event against state, records what they decide, and
// asks them to apply each recorded event to state. Rules are pure: no I/O,
// no clock, no threads; state comes in through StateView / StateWriter,
// whose implementations (the writer's overlay, a rebuild's scratch store)
// do the I/O.
#ifndef PARTNERLEDGER_DOMAIN_RULES_H_
#define PARTNERLEDGER_DOMAIN_RULES_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "partnerledger/v1/events.pb.h"

namespace partnerledger::domain {

// Projection state: a key-value map. Keys are printable ASCII without NUL;
// values are serialized records the rules own.
class StateView {
 public:
  virtual ~StateView() = default;
  // nullopt when absent. Errors only for storage failure (UNAVAILABLE,
  // DATA_LOSS); rules pass them through.
  virtual absl::StatusOr<std::optional<std::string>> Get(
      std::string_view key) const = 0;
};

class StateWriter : public StateView {
 public:
  virtual void Put(std::string_view key, std::string value) = 0;
  virtual void Delete(std::string_view key) = 0;
};

// An event as a client proposed it, already structurally valid
// (ValidateAppend).
struct Proposal {
  std::string stream;
  std::string event_id;  // canonical UUID text
  std::string actor;
  int64_t occurred_at_us = 0;
  const v1::EventPayload* payload = nullptr;  // not owned
};

// An event the server derives from a proposal, written in the same commit
// right after it, with causation_id = the proposal's event_id and actor
// "system".
struct DerivedEvent {
  std::string stream;
  // Deterministic (DeriveUuid of the cause), so a replay derives the same.
  std::string event_id;
  v1::EventPayload payload;
};

struct Decision {
  // What to record for the proposal: the proposed payload, possibly
  // completed by the server (e.g. MarginAgreed's resolved bands).
  v1::EventPayload payload;
  std::vector<DerivedEvent> derived;
};

// A recorded event, as Apply sees it.
struct Recorded {
  uint64_t position = 0;
  std::string_view stream;
  std::string_view event_id;  // canonical UUID text
  int64_t recorded_at_us = 0;
  int64_t occurred_at_us = 0;
  const v1::EventPayload* payload = nullptr;  // not owned
};

class Rules {
 public:
  virtual ~Rules() = default;
  // Decides one proposed event against `state` (which includes every event
  // recorded before it, in this request and commit group too). Errors:
  // NOT_FOUND (unknown entity), FAILED_PRECONDITION (rule violated),
  // INVALID_ARGUMENT (a field's value is wrong in context), each naming what
  // was wrong; storage errors pass through.
  virtual absl::StatusOr<Decision> Decide(const StateView& state,
                                          const Proposal& p) const = 0;
  // Applies one recorded event (proposed or derived) to state.
  // Deterministic: a rebuild from the log reproduces state byte for byte.
  virtual absl::Status Apply(StateWriter& state, const Recorded& e) const = 0;
};

// Rules that accept every structurally valid event and keep no state.
std::unique_ptr<Rules> NewStructuralRules();

}  // namespace partnerledger::domain

#endif  // PARTNERLEDGER_DOMAIN_RULES_H_

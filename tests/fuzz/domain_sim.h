// A minimal in-memory writer for the pure partnership rules, as src/ledger's
// writer uses them: decide a proposal against state, record it and its
// derived events at consecutive positions, apply each. Shared by the domain
// and request harnesses; aborts (PL_FUZZ_CHECK) when the rules break their
// own contract (domain/partnership.h, domain/rules.h).
#ifndef PARTNERLEDGER_TESTS_FUZZ_DOMAIN_SIM_H_
#define PARTNERLEDGER_TESTS_FUZZ_DOMAIN_SIM_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "domain/mem_state.h"
#include "domain/partnership.h"
#include "domain/rules.h"
#include "fuzz_check.h"
#include "util/uuid.h"

namespace partnerledger::fuzz {

using domain::testing::MemState;

class DomainSim {
 public:
  explicit DomainSim(const domain::Rules* rules) : rules_(rules) {}

  // Decides `payload` for `stream`; when accepted, records and applies it
  // and what it derives. A rejection must carry a rule's code and change
  // nothing; an accepted event must apply (Decide already checked every
  // amount, domain/partnership.h).
  absl::Status Append(const std::string& stream, const std::string& event_id,
                      int64_t occurred_at_us, const v1::EventPayload& payload) {
    domain::Proposal p;
    p.stream = stream;
    p.event_id = event_id;
    p.actor = "fuzz";
    p.occurred_at_us = occurred_at_us;
    p.payload = &payload;
    absl::StatusOr<domain::Decision> d = rules_->Decide(state_, p);
    if (!d.ok()) {
      PL_FUZZ_CHECK(IsInputOrRuleCode(d.status().code()),
                    "decide " + stream + ": " + d.status().ToString());
      PL_FUZZ_CHECK(d.status().code() != absl::StatusCode::kAborted,
                    "decide answered ABORTED");
      return d.status();
    }
    Record(stream, event_id, occurred_at_us, d->payload);
    for (const domain::DerivedEvent& e : d->derived) {
      Record(e.stream, e.event_id, occurred_at_us, e.payload);
    }
    return absl::OkStatus();
  }

  // Applies the recorded log to a fresh state: must equal the live state
  // byte for byte (a rebuild reproduces the projections).
  void CheckRebuildEqualsState() const {
    MemState fresh;
    for (const Logged& e : log_) {
      const absl::Status s = rules_->Apply(fresh, ToRecorded(e));
      PL_FUZZ_CHECK(s.ok(), "rebuild apply: " + s.ToString());
    }
    PL_FUZZ_CHECK(fresh.kv() == state_.kv(), "rebuild differs from state");
  }

  const MemState& state() const { return state_; }
  size_t recorded() const { return log_.size(); }

 private:
  struct Logged {
    uint64_t position;
    std::string stream;
    std::string event_id;
    int64_t occurred_at_us;
    v1::EventPayload payload;
  };

  static domain::Recorded ToRecorded(const Logged& e) {
    domain::Recorded r;
    r.position = e.position;
    r.stream = e.stream;
    r.event_id = e.event_id;
    r.recorded_at_us = 1'700'000'000'000'000 + static_cast<int64_t>(e.position);
    r.occurred_at_us = e.occurred_at_us;
    r.payload = &e.payload;
    return r;
  }

  void Record(const std::string& stream, const std::string& event_id,
              int64_t occurred_at_us, const v1::EventPayload& payload) {
    log_.push_back(
        Logged{log_.size() + 1, stream, event_id, occurred_at_us, payload});
    const absl::Status s = rules_->Apply(state_, ToRecorded(log_.back()));
    PL_FUZZ_CHECK(s.ok(),
                  "apply of a decided event " + stream + ": " + s.ToString());
  }

  const domain::Rules* rules_;
  MemState state_;
  std::vector<Logged> log_;
};

}  // namespace partnerledger::fuzz

#endif  // PARTNERLEDGER_TESTS_FUZZ_DOMAIN_SIM_H_

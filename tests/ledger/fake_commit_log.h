// An in-memory log of record for tests: the groups a leader appended, in
// order; can be told to refuse appends or to hold them until released.
#ifndef PARTNERLEDGER_TESTS_LEDGER_FAKE_COMMIT_LOG_H_
#define PARTNERLEDGER_TESTS_LEDGER_FAKE_COMMIT_LOG_H_

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "partnerledger/replication.h"

namespace partnerledger::testing {

class FakeCommitLog final : public CommitLog {
 public:
  absl::Status Append(const ReplicatedGroup& group) override {
    absl::MutexLock lock(&mu_);
    ++calls_;
    mu_.Await(absl::Condition(
        +[](bool* held) { return !*held; }, &held_));
    if (!refusal_.ok()) return refusal_;
    groups_.push_back(group);
    return absl::OkStatus();
  }
  // Every later Append fails with `why` (OK: succeeds again).
  void Refuse(absl::Status why) {
    absl::MutexLock lock(&mu_);
    refusal_ = std::move(why);
  }
  std::vector<ReplicatedGroup> groups() const {
    absl::MutexLock lock(&mu_);
    return groups_;
  }
  // While held, Append blocks (after counting the call) until Release.
  void Hold() {
    absl::MutexLock lock(&mu_);
    held_ = true;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    held_ = false;
  }
  // Blocks until Append was called `n` times.
  void WaitForCalls(int n) const {
    absl::MutexLock lock(&mu_);
    auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return calls_ >= n;
    };
    mu_.Await(absl::Condition(&reached));
  }
  // Append calls, refused ones included.
  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<ReplicatedGroup> groups_ ABSL_GUARDED_BY(mu_);
  absl::Status refusal_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace partnerledger::testing

#endif  // PARTNERLEDGER_TESTS_LEDGER_FAKE_COMMIT_LOG_H_

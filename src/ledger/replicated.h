// The ledger's replication helpers (partnerledger/replication.h): checking a
// group from the log of record before it is written, and waiting for a
// position to be applied.
#ifndef PARTNERLEDGER_LEDGER_REPLICATED_H_
#define PARTNERLEDGER_LEDGER_REPLICATED_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "partnerledger/ledger.h"
#include "partnerledger/replication.h"
#include "store/store.h"

namespace partnerledger::ledger {

// Whether `group` is the next group on top of the local head (position
// `head`, hash `head_hash`): OK if it is, and its batch holds exactly the
// events first..last, valid, chained from head_hash, ending at last_hash,
// and a head record at last_position with last_hash. FAILED_PRECONDITION
// (naming the positions) if it does not start at head + 1; DATA_LOSS for
// a batch that fails a check.
absl::Status CheckReplicatedGroup(const store::Store& store,
                                  const ReplicatedGroup& group, uint64_t head,
                                  const std::string& head_hash);

// Whether `group` is already applied at or below the local head `head`: OK
// (true) if the local hash at group.last_position is group.last_hash, false
// if the group is beyond the head. FAILED_PRECONDITION when it straddles
// the head, DATA_LOSS when the local hash differs (a fork).
absl::StatusOr<bool> AlreadyApplied(const store::Store& store,
                                    const ReplicatedGroup& group,
                                    uint64_t head);

// An upper estimate of the bytes `request` adds to its commit group's
// record in the log of record (limits::kCommitLogPayloadCopies).
size_t CommitLogBytesEstimate(const AppendRequest& request);

// The estimate of `request` if it fits a group of at most
// `group_bytes_max`; INVALID_ARGUMENT naming `events` if it alone does not.
absl::StatusOr<size_t> CheckCommitLogBytes(const AppendRequest& request,
                                           size_t group_bytes_max);

// Callbacks waiting for the applied head to reach a position, each with a
// deadline. One timer thread fires the deadlines (it sleeps until the
// earliest, no polling). Thread-safe.
class PositionWaiters {
 public:
  explicit PositionWaiters(size_t waiters_max);
  // Fails every remaining waiter UNAVAILABLE, then stops the timer.
  ~PositionWaiters();
  PositionWaiters(const PositionWaiters&) = delete;
  PositionWaiters& operator=(const PositionWaiters&) = delete;

  // Runs done(OK) once the head is at or beyond `position`: at once, on the
  // caller's thread, if `head` already is. At `deadline` first:
  // done(UNAVAILABLE) naming the position and the head, on the timer
  // thread. Beyond waiters_max waiting: done(RESOURCE_EXHAUSTED) at once.
  void Wait(uint64_t position, uint64_t head, absl::Time deadline,
            std::function<void(absl::Status)> done);
  // The head advanced to `head`: runs every waiter it satisfies, on the
  // caller's thread.
  void Notify(uint64_t head);

  size_t waiting() const;

 private:
  struct Waiter {
    std::function<void(absl::Status)> done;
    std::multimap<uint64_t, uint64_t>::iterator by_position;
    std::multimap<absl::Time, uint64_t>::iterator by_deadline;
  };
  // Removes waiter `id` and returns its callback.
  std::function<void(absl::Status)> Take(uint64_t id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TimerLoop();

  const size_t waiters_max_;
  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  uint64_t head_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // By id, and the ids by position and by deadline.
  std::map<uint64_t, Waiter> waiters_ ABSL_GUARDED_BY(mu_);
  std::multimap<uint64_t, uint64_t> by_position_ ABSL_GUARDED_BY(mu_);
  std::multimap<absl::Time, uint64_t> by_deadline_ ABSL_GUARDED_BY(mu_);
  std::thread timer_;
};

}  // namespace partnerledger::ledger

#endif  // PARTNERLEDGER_LEDGER_REPLICATED_H_

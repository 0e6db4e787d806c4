#include "ledger/replicated.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "partnerledger/ledger.h"
#include "partnerledger/limits.h"
#include "util/status_macros.h"

namespace partnerledger {

absl::Status MinPositionNotReached(uint64_t min_position, uint64_t applied) {
  return absl::UnavailableError(absl::StrCat(
      "min_position ", min_position,
      " not reached by the deadline: this node has applied through position ",
      applied, "; retry, or read from the leader"));
}

namespace ledger {

size_t CommitLogBytesEstimate(const AppendRequest& request) {
  size_t bytes = 0;
  for (const NewEvent& e : request.events) {
    const size_t copied = e.payload.ByteSizeLong() + request.stream.size() +
                          request.actor.size() + e.event_id.size() +
                          e.correlation_id.size() + e.causation_id.size();
    bytes += limits::kCommitLogPayloadCopies * copied +
             limits::kCommitLogEventOverheadBytes;
  }
  return bytes;
}

absl::StatusOr<size_t> CheckCommitLogBytes(const AppendRequest& request,
                                           size_t group_bytes_max) {
  const size_t bytes = CommitLogBytesEstimate(request);
  if (bytes > group_bytes_max) {
    return absl::InvalidArgumentError(absl::StrCat(
        "events: this append takes up to ", bytes,
        " bytes in the commit log, more than the ", group_bytes_max,
        " one commit group may carry; split it into smaller appends"));
  }
  return bytes;
}

absl::StatusOr<bool> AlreadyApplied(const store::Store& store,
                                    const ReplicatedGroup& group,
                                    uint64_t head) {
  if (group.first_position > head) return false;
  if (group.last_position > head) {
    return absl::FailedPreconditionError(absl::StrCat(
        "replicated group ", group.first_position, "..", group.last_position,
        " straddles the applied head ", head));
  }
  ASSIGN_OR_RETURN(std::optional<store::StoredEvent> e,
                   store.ReadEvent(group.last_position));
  if (!e.has_value()) {
    return absl::DataLossError(absl::StrCat(
        "event at position ", group.last_position, " missing below the head"));
  }
  if (e->hash() != group.last_hash) {
    return absl::DataLossError(absl::StrCat(
        "replicated group ", group.first_position, "..", group.last_position,
        " ends in another hash than the event applied at position ",
        group.last_position, ": the logs have forked"));
  }
  return true;
}

absl::Status CheckReplicatedGroup(const store::Store& store,
                                  const ReplicatedGroup& group, uint64_t head,
                                  const std::string& head_hash) {
  const std::string range =
      absl::StrCat(group.first_position, "..", group.last_position);
  if (group.first_position != head + 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "replicated group ", range, " does not follow the applied head ", head,
        ": the next group must start at position ", head + 1));
  }
  if (group.last_position < group.first_position) {
    return absl::DataLossError(
        absl::StrCat("replicated group ", range, " holds no position"));
  }
  ASSIGN_OR_RETURN(store::ReplicatedBatch batch,
                   store.DecodeReplicatedBatch(group.batch));
  const uint64_t count = group.last_position - group.first_position + 1;
  if (batch.events.size() != count) {
    return absl::DataLossError(absl::StrCat("replicated group ", range,
                                            " holds ", batch.events.size(),
                                            " events, not ", count));
  }
  uint64_t position = head;
  const std::string* prev_hash = &head_hash;
  for (const store::StoredEvent& e : batch.events) {
    if (e.position() != position + 1) {
      return absl::DataLossError(absl::StrCat("replicated group ", range,
                                              ": position ", e.position(),
                                              " follows position ", position));
    }
    if (e.prev_hash() != *prev_hash) {
      return absl::DataLossError(
          absl::StrCat("replicated group ", range, ": the event at position ",
                       e.position(), " does not chain to position ", position));
    }
    position = e.position();
    prev_hash = &e.hash();
  }
  if (*prev_hash != group.last_hash) {
    return absl::DataLossError(
        absl::StrCat("replicated group ", range,
                     ": the last event's hash is not the group's last_hash"));
  }
  if (!batch.head.has_value() || batch.head->position() != position ||
      batch.head->hash() != group.last_hash) {
    return absl::DataLossError(absl::StrCat(
        "replicated group ", range,
        ": the batch does not write the head at position ", position));
  }
  return absl::OkStatus();
}

PositionWaiters::PositionWaiters(size_t waiters_max)
    : waiters_max_(waiters_max) {
  timer_ = std::thread([this] { TimerLoop(); });
}

PositionWaiters::~PositionWaiters() {
  std::vector<std::function<void(absl::Status)>> left;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    while (!waiters_.empty()) left.push_back(Take(waiters_.begin()->first));
  }
  cv_.SignalAll();
  if (timer_.joinable()) timer_.join();
  for (auto& done : left) done(absl::UnavailableError("ledger closing"));
}

void PositionWaiters::Wait(uint64_t position, uint64_t head,
                           absl::Time deadline,
                           std::function<void(absl::Status)> done) {
  absl::Status now = absl::OkStatus();
  {
    absl::MutexLock lock(&mu_);
    head_ = std::max(head_, head);
    if (position > head_) {
      if (stopping_) {
        now = absl::UnavailableError("ledger closing");
      } else if (waiters_.size() >= waiters_max_) {
        now = absl::ResourceExhaustedError(
            absl::StrCat(waiters_max_,
                         " reads already wait for a min_position; retry "
                         "with backoff"));
      } else {
        const uint64_t id = ++seq_;
        Waiter& w = waiters_[id];
        w.done = std::move(done);
        w.by_position = by_position_.emplace(position, id);
        const bool earliest =
            by_deadline_.empty() || deadline < by_deadline_.begin()->first;
        w.by_deadline = by_deadline_.emplace(deadline, id);
        if (earliest) cv_.Signal();
        return;
      }
    }
  }
  done(now);
}

void PositionWaiters::Notify(uint64_t head) {
  std::vector<std::function<void(absl::Status)>> ready;
  {
    absl::MutexLock lock(&mu_);
    head_ = std::max(head_, head);
    while (!by_position_.empty() && by_position_.begin()->first <= head_) {
      ready.push_back(Take(by_position_.begin()->second));
    }
  }
  for (auto& done : ready) done(absl::OkStatus());
}

size_t PositionWaiters::waiting() const {
  absl::MutexLock lock(&mu_);
  return waiters_.size();
}

std::function<void(absl::Status)> PositionWaiters::Take(uint64_t id) {
  auto it = waiters_.find(id);
  std::function<void(absl::Status)> done = std::move(it->second.done);
  by_position_.erase(it->second.by_position);
  by_deadline_.erase(it->second.by_deadline);
  waiters_.erase(it);
  return done;
}

void PositionWaiters::TimerLoop() {
  for (;;) {
    std::vector<std::pair<uint64_t, std::function<void(absl::Status)>>> late;
    uint64_t head = 0;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      if (by_deadline_.empty()) {
        cv_.Wait(&mu_);
        continue;
      }
      const absl::Time earliest = by_deadline_.begin()->first;
      if (absl::Now() < earliest) {
        cv_.WaitWithDeadline(&mu_, earliest);
        continue;
      }
      const absl::Time now = absl::Now();
      while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) {
        auto first = by_deadline_.begin();
        const uint64_t position = waiters_[first->second].by_position->first;
        late.emplace_back(position, Take(first->second));
      }
      head = head_;
    }
    for (auto& [position, done] : late) {
      done(MinPositionNotReached(position, head));
    }
  }
}

}  // namespace ledger
}  // namespace partnerledger

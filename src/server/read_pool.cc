#include "server/read_pool.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace partnerledger::server {
namespace {

thread_local bool on_worker_thread = false;

}  // namespace

ReadPool::ReadPool(size_t workers, size_t queue_max) : queue_max_(queue_max) {
  workers_.reserve(workers);
  for (size_t i = 0; i < workers; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

ReadPool::~ReadPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : workers_) t.join();
}

absl::Status ReadPool::Submit(absl::AnyInvocable<void() &&> task) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("server is shutting down");
  if (queue_.size() >= queue_max_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("read queue full (", queue_max_,
                     " reads waiting); retry with backoff"));
  }
  queue_.push_back(std::move(task));
  return absl::OkStatus();
}

bool ReadPool::WorkOrStopping() const { return stopping_ || !queue_.empty(); }

bool ReadPool::OnWorkerThread() { return on_worker_thread; }

void ReadPool::WorkerLoop() {
  on_worker_thread = true;
  for (;;) {
    absl::AnyInvocable<void() &&> task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &ReadPool::WorkOrStopping));
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    std::move(task)();
  }
}

}  // namespace partnerledger::server

// A bounded pool of worker threads for the RPCs that read storage.
//
// gRPC callback threads must not block on RocksDB (a slow read would stall
// every call multiplexed on that thread, appends included): a handler
// validates on the gRPC thread, then hands the storage work here and
// returns its reactor; the work finishes the reactor from a worker.
//
// Thread-safe. The queue is bounded: a full queue refuses new work at once
// (the caller answers RESOURCE_EXHAUSTED) rather than letting reads pile up
// in memory.
#ifndef PARTNERLEDGER_SERVER_READ_POOL_H_
#define PARTNERLEDGER_SERVER_READ_POOL_H_

#include <cstddef>
#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace partnerledger::server {

class ReadPool {
 public:
  // REQUIRES: workers >= 1, queue_max >= 1.
  ReadPool(size_t workers, size_t queue_max);
  // Runs every task already queued, then joins the workers.
  ~ReadPool();
  ReadPool(const ReadPool&) = delete;
  ReadPool& operator=(const ReadPool&) = delete;

  // Queues `task` for a worker. RESOURCE_EXHAUSTED (and `task` is dropped
  // unrun) when queue_max tasks are waiting already, UNAVAILABLE once the
  // pool is stopping.
  absl::Status Submit(absl::AnyInvocable<void() &&> task);

  // Whether the calling thread is one of this process's pool workers.
  static bool OnWorkerThread();

 private:
  void WorkerLoop();
  bool WorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Constant after construction.
  const size_t queue_max_;

  mutable absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::vector<std::thread> workers_;
};

}  // namespace partnerledger::server

#endif  // PARTNERLEDGER_SERVER_READ_POOL_H_

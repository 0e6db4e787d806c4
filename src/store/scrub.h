// A background scrub: reads every block of every live SST file, at a
// bounded rate, and reports checksum mismatches, so corruption of data no
// one reads is found before a reader (or a backup, or a compaction) trips
// over it.
//
// Thread safety: all methods may be called from any thread; RunPass and the
// background thread may run at once (each pass is independent).
#ifndef PARTNERLEDGER_STORE_SCRUB_H_
#define PARTNERLEDGER_STORE_SCRUB_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "store/store.h"

namespace partnerledger::store {

struct ScrubOptions {
  // Average read rate of the background pass; 0: no background thread
  // (RunPass still works).
  uint64_t bytes_per_s = 0;
  // Pause between the end of one pass and the start of the next. The first
  // pass starts at once.
  std::chrono::milliseconds pass_interval{std::chrono::hours(24)};
};

struct ScrubStats {
  uint64_t passes = 0;
  uint64_t files_checked = 0;
  uint64_t bytes_checked = 0;
  uint64_t corrupt_files = 0;
};

class Scrubber {
 public:
  // `on_corruption` is called (on the scrubbing thread) with the DATA_LOSS
  // status of each corrupt file found, in every pass. The store must
  // outlive the scrubber.
  Scrubber(const Store* store, const ScrubOptions& o,
           std::function<void(const absl::Status&)> on_corruption);
  // Stops and joins the background thread.
  ~Scrubber();
  Scrubber(const Scrubber&) = delete;
  Scrubber& operator=(const Scrubber&) = delete;

  // Starts the background thread when bytes_per_s > 0. Call once.
  void Start();
  // Interrupts a pause or a pass between two files and joins. Idempotent.
  void Stop();

  // One whole pass now, on the caller's thread, without pacing. Returns the
  // first corruption found (DATA_LOSS) or OK; UNAVAILABLE on I/O errors.
  // Files compacted away during the pass are skipped.
  absl::Status RunPass();

  ScrubStats stats() const;

 private:
  absl::Status Pass(bool paced);
  // Waits `d` unless stopped; false when stopping.
  bool Pause(std::chrono::milliseconds d);
  void Loop();

  // Constant after construction.
  const Store* const store_;
  const ScrubOptions options_;
  const std::function<void(const absl::Status&)> on_corruption_;

  absl::Mutex mu_;
  absl::CondVar cv_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;

  std::atomic<uint64_t> passes_{0};
  std::atomic<uint64_t> files_checked_{0};
  std::atomic<uint64_t> bytes_checked_{0};
  std::atomic<uint64_t> corrupt_files_{0};
};

}  // namespace partnerledger::store

#endif  // PARTNERLEDGER_STORE_SCRUB_H_

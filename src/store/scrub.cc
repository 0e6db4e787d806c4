#include "store/scrub.h"

namespace partnerledger::store {

Scrubber::Scrubber(const Store* store, const ScrubOptions& o,
                   std::function<void(const absl::Status&)> on_corruption)
    : store_(store), options_(o), on_corruption_(std::move(on_corruption)) {}

Scrubber::~Scrubber() { Stop(); }

void Scrubber::Start() {
  if (options_.bytes_per_s == 0 || thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void Scrubber::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

absl::Status Scrubber::RunPass() { return Pass(false); }

ScrubStats Scrubber::stats() const {
  ScrubStats s;
  s.passes = passes_.load();
  s.files_checked = files_checked_.load();
  s.bytes_checked = bytes_checked_.load();
  s.corrupt_files = corrupt_files_.load();
  return s;
}

absl::Status Scrubber::Pass(bool paced) {
  absl::Status first = absl::OkStatus();
  for (const Store::SstFile& f : store_->LiveSstFiles()) {
    absl::Status s = store_->VerifySstFile(f);
    if (absl::IsNotFound(s)) continue;  // compacted away meanwhile
    files_checked_.fetch_add(1);
    bytes_checked_.fetch_add(f.bytes);
    if (absl::IsDataLoss(s)) {
      corrupt_files_.fetch_add(1);
      if (on_corruption_) on_corruption_(s);
    }
    if (!s.ok() && first.ok()) first = s;
    // Pace by what was read: on average bytes_per_s, at most one file
    // (RocksDB's target file size) at a time.
    if (paced && !Pause(std::chrono::milliseconds(f.bytes * 1000 /
                                                  options_.bytes_per_s))) {
      return first;
    }
  }
  passes_.fetch_add(1);
  return first;
}

bool Scrubber::Pause(std::chrono::milliseconds d) {
  absl::MutexLock lock(&mu_);
  const absl::Time deadline = absl::Now() + absl::FromChrono(d);
  while (!stopping_ && !cv_.WaitWithDeadline(&mu_, deadline)) {
  }
  return !stopping_;
}

void Scrubber::Loop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    // Findings went to on_corruption_; errors are retried next pass.
    Pass(true).IgnoreError();
    if (!Pause(options_.pass_interval)) return;
  }
}

}  // namespace partnerledger::store

// A progress line on stderr for long work (export, verify, replay,
// rebuild): bar, count, rate and ETA when the total is known, a spinner
// with the elapsed time when it is not. Silent unless stderr is a terminal,
// so pipes and logs get clean output.
//
// Not thread-safe: one thread updates a Progress.
#ifndef PARTNERLEDGER_TOOLS_LEDGERCTL_PROGRESS_H_
#define PARTNERLEDGER_TOOLS_LEDGERCTL_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <string>

namespace partnerledger::ctl {

class Progress {
 public:
  // `total` 0: unknown (spinner).
  Progress(std::string label, uint64_t total);
  // Finish()es.
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void set_total(uint64_t total) { total_ = total; }
  // Redraws at most every 100 ms.
  void Update(uint64_t done);
  // Clears the line. Idempotent.
  void Finish();
  bool enabled() const { return enabled_; }

  // The line Update would draw, for tests.
  static std::string Render(const std::string& label, uint64_t done,
                            uint64_t total, double seconds);

 private:
  using Clock = std::chrono::steady_clock;
  const std::string label_;
  const bool enabled_;
  const Clock::time_point start_;
  uint64_t total_;
  Clock::time_point last_draw_{};
  bool drawn_ = false;
};

}  // namespace partnerledger::ctl

#endif  // PARTNERLEDGER_TOOLS_LEDGERCTL_PROGRESS_H_

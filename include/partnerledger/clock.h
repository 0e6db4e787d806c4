// Time is injected so tests are deterministic.
#ifndef PARTNERLEDGER_CLOCK_H_
#define PARTNERLEDGER_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace partnerledger {

// A source of wall-clock time in microseconds since the Unix epoch.
// Thread-safe. The ledger never trusts it to be monotonic: recorded_at is
// clamped so it never decreases along the log.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMicros() = 0;
};

// The system's real-time clock. A process-wide singleton; never deleted.
Clock* SystemClock();

// A clock tests move by hand. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_us) : now_us_(now_us) {}
  int64_t NowMicros() override { return now_us_.load(); }
  void Set(int64_t now_us) { now_us_.store(now_us); }
  void Advance(int64_t delta_us) { now_us_.fetch_add(delta_us); }

 private:
  std::atomic<int64_t> now_us_;
};

}  // namespace partnerledger

#endif  // PARTNERLEDGER_CLOCK_H_

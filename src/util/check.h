// Invariants that stay checked in release builds.
//
//   PL_CHECK(next == last + 1) << "position " << next << " after " << last;
//
// When the condition is false, logs one error line through util/log.h
// ("invariant failed", with the condition, the file:line and the streamed
// message) and aborts the process. Unlike assert(), NDEBUG does not turn it
// off: a ledger that carries on after its own bookkeeping went wrong would
// write or serve wrong data.
//
// Only for conditions our own code guarantees (positions gapless, hashes
// chained, counters non-negative, batches within their limits). Never for
// input: bad requests, bad files and failing disks are error statuses.
#ifndef PARTNERLEDGER_UTIL_CHECK_H_
#define PARTNERLEDGER_UTIL_CHECK_H_

#include <sstream>

#include "absl/base/optimization.h"

namespace partnerledger::check_internal {

// Collects the message; its destructor logs and aborts.
class CheckFailure {
 public:
  CheckFailure(const char* condition, const char* file, int line)
      : condition_(condition), file_(file), line_(line) {}
  CheckFailure(const CheckFailure&) = delete;
  CheckFailure& operator=(const CheckFailure&) = delete;
  [[noreturn]] ~CheckFailure();

  std::ostream& stream() { return message_; }

 private:
  const char* const condition_;
  const char* const file_;
  const int line_;
  std::ostringstream message_;
};

}  // namespace partnerledger::check_internal

// The loop body runs at most once: the temporary's destructor aborts.
#define PL_CHECK(condition)                                           \
  while (ABSL_PREDICT_FALSE(!(condition)))                            \
  ::partnerledger::check_internal::CheckFailure(#condition, __FILE__, \
                                                __LINE__)             \
      .stream()

#endif  // PARTNERLEDGER_UTIL_CHECK_H_

// google.protobuf.Timestamp <-> microseconds since the Unix epoch, the
// ledger's internal time unit.
#ifndef PARTNERLEDGER_UTIL_TIMESTAMP_H_
#define PARTNERLEDGER_UTIL_TIMESTAMP_H_

#include <cstdint>

#include "google/protobuf/timestamp.pb.h"

namespace partnerledger {

inline int64_t TimestampMicros(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1'000'000 + t.nanos() / 1000;
}

// Floors toward negative infinity, so nanos stay in [0, 1e9) as the
// Timestamp type requires.
inline void SetTimestampMicros(int64_t us, google::protobuf::Timestamp* t) {
  int64_t seconds = us / 1'000'000;
  int64_t rem = us % 1'000'000;
  if (rem < 0) {
    rem += 1'000'000;
    --seconds;
  }
  t->set_seconds(seconds);
  t->set_nanos(static_cast<int32_t>(rem * 1000));
}

}  // namespace partnerledger

#endif  // PARTNERLEDGER_UTIL_TIMESTAMP_H_

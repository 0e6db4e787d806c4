// What the libFuzzer harnesses share: a check that stops the process (so
// the fuzzer records the input, and the replay test fails) and a reader that
// turns fuzz bytes into choices.
#ifndef PARTNERLEDGER_TESTS_FUZZ_FUZZ_CHECK_H_
#define PARTNERLEDGER_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/stubs/logging.h"

// Stops the process with a message when `cond` is false. Harnesses use it
// for the invariants they check; it stays on in every build.
#define PL_FUZZ_CHECK(cond, msg)                                           \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::fprintf(stderr, "%s:%d: fuzz check failed: %s: %s\n", __FILE__, \
                   __LINE__, #cond, std::string(msg).c_str());             \
      std::abort();                                                        \
    }                                                                      \
  } while (0)

namespace partnerledger::fuzz {

// Inputs that do not parse make protobuf log an error each; at thousands of
// inputs a second that is noise, so the harnesses silence it.
inline const bool kProtobufLogsSilenced =
    (google::protobuf::SetLogHandler(nullptr), true);

// Consumes fuzz bytes front to back; past the end every read is zero, so a
// short input is still a complete (if dull) program.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool empty() const { return pos_ >= size_; }
  uint8_t U8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint32_t U32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | U8();
    return v;
  }
  uint64_t U64() { return (uint64_t{U32()} << 32) | U32(); }
  // One of n choices (n > 0).
  size_t Pick(size_t n) { return U8() % n; }
  // The bytes not consumed yet.
  std::string_view Rest() {
    std::string_view r(reinterpret_cast<const char*>(data_) + pos_,
                       pos_ < size_ ? size_ - pos_ : 0);
    pos_ = size_;
    return r;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// The codes a request may be answered with for bad input or a rule; never
// INTERNAL, DATA_LOSS, UNKNOWN or UNAVAILABLE (those mean a fault).
inline bool IsInputOrRuleCode(absl::StatusCode c) {
  switch (c) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kOutOfRange:
      return true;
    default:
      return false;
  }
}

}  // namespace partnerledger::fuzz

#endif  // PARTNERLEDGER_TESTS_FUZZ_FUZZ_CHECK_H_

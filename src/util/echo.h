// Client-supplied values quoted in error messages, bounded: a hostile 8 KB
// name must not turn into 8 KB (or more) of error metadata.
#ifndef PARTNERLEDGER_UTIL_ECHO_H_
#define PARTNERLEDGER_UTIL_ECHO_H_

#include <string>
#include <string_view>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "partnerledger/limits.h"
#include "util/strings.h"

namespace partnerledger {

// `v` in double quotes, non-printable bytes escaped; beyond
// limits::kEchoBytesMax bytes only the first kEchoBytesMax, then its length:
// "abc..."... (8192 bytes).
inline std::string Echo(std::string_view v) {
  if (v.size() <= limits::kEchoBytesMax) {
    return absl::StrCat("\"", absl::CHexEscape(AbslView(v)), "\"");
  }
  return absl::StrCat(
      "\"", absl::CHexEscape(AbslView(v.substr(0, limits::kEchoBytesMax))),
      "\"... (", v.size(), " bytes)");
}

// A message cut to limits::kErrorMessageBytesMax bytes at a UTF-8 boundary,
// saying how long it was.
inline std::string CapMessage(std::string_view m) {
  if (m.size() <= limits::kErrorMessageBytesMax) return std::string(m);
  size_t keep = limits::kErrorMessageBytesMax - 32;
  while (keep > 0 && (static_cast<unsigned char>(m[keep]) & 0xC0) == 0x80) {
    --keep;
  }
  return Cat(m.substr(0, keep), "... (message of ", m.size(), " bytes cut)");
}

}  // namespace partnerledger

#endif  // PARTNERLEDGER_UTIL_ECHO_H_

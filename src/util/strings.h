// The one string-view type of this code is std::string_view. Debian's abseil
// (20220623) is built with ABSL_OPTION_USE_STD_STRING_VIEW 0: its
// absl::string_view is a class of its own, and neither type converts to the
// other. Where an absl function takes or returns absl::string_view and a
// std::string or a literal does not do, the code crosses over here; the test
// Strings.OneStringViewType (tools/check_layers.py) fails on the abseil
// spelling in any other C++ file.
#ifndef PARTNERLEDGER_UTIL_STRINGS_H_
#define PARTNERLEDGER_UTIL_STRINGS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace partnerledger {

// `s` as the argument of an absl function (absl::SimpleAtoi, absl::CHexEscape,
// a heterogeneous absl::flat_hash_map lookup, ...).
inline absl::string_view AbslView(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

// What an absl function returned (absl::Status::message(), a piece of
// absl::StrSplit, ...) as a std::string_view.
inline std::string_view StdView(absl::string_view s) {
  return std::string_view(s.data(), s.size());
}

namespace strings_internal {
inline absl::string_view Piece(std::string_view s) { return AbslView(s); }
template <typename T>
const T& Piece(const T& x) {
  return x;
}
}  // namespace strings_internal

// absl::StrCat whose arguments may also be std::string_view.
template <typename... Args>
std::string Cat(const Args&... args) {
  return absl::StrCat(strings_internal::Piece(args)...);
}

// absl::StrSplit(text, delimiter[, predicate]) as views into `text`; the
// delimiter and predicate are absl's ('+', absl::MaxSplits('+', 2),
// absl::SkipEmpty(), ...).
template <typename Delimiter, typename... Predicate>
std::vector<std::string_view> Split(std::string_view text, Delimiter delimiter,
                                    Predicate... predicate) {
  std::vector<std::string_view> pieces;
  for (absl::string_view piece :
       absl::StrSplit(AbslView(text), delimiter, predicate...)) {
    pieces.push_back(StdView(piece));
  }
  return pieces;
}

// absl::StripAsciiWhitespace for a std::string_view.
inline std::string_view StripAsciiWhitespace(std::string_view s) {
  return StdView(absl::StripAsciiWhitespace(AbslView(s)));
}

}  // namespace partnerledger

#endif  // PARTNERLEDGER_UTIL_STRINGS_H_

// JSON string escaping, for the few places that write JSON by hand (log
// lines, CLI output) rather than through protobuf's JSON printer.
#ifndef PARTNERLEDGER_UTIL_JSON_H_
#define PARTNERLEDGER_UTIL_JSON_H_

#include <string>
#include <string_view>

namespace partnerledger {

// `s` escaped for the inside of a JSON string literal (without the quotes):
// quote, backslash and control characters (and DEL) are escaped.
std::string JsonEscape(std::string_view s);

}  // namespace partnerledger

#endif  // PARTNERLEDGER_UTIL_JSON_H_

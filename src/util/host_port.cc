#include "util/host_port.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "util/strings.h"

namespace partnerledger {
namespace {

absl::Status Bad(std::string_view field, std::string_view address,
                 std::string_view why) {
  return absl::InvalidArgumentError(Cat(field, ": \"", address.substr(0, 128),
                                        "\" is not host:port (", why, ")"));
}

}  // namespace

absl::StatusOr<HostPort> ParseHostPort(std::string_view field,
                                       std::string_view address) {
  HostPort out;
  std::string_view port;
  if (!address.empty() && address[0] == '[') {
    const size_t close = address.find(']');
    if (close == std::string_view::npos) {
      return Bad(field, address, "no closing ']'");
    }
    out.host = std::string(address.substr(1, close - 1));
    if (close + 1 >= address.size() || address[close + 1] != ':') {
      return Bad(field, address, "no port");
    }
    port = address.substr(close + 2);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) {
      return Bad(field, address, "no port");
    }
    out.host = std::string(address.substr(0, colon));
    if (out.host.find(':') != std::string::npos) {
      return Bad(field, address, "an IPv6 host goes in brackets: [::1]:50051");
    }
    port = address.substr(colon + 1);
  }
  if (out.host.empty()) return Bad(field, address, "no host");
  if (port.empty() || port.size() > 5) {
    return Bad(field, address, "the port must be a number in 0-65535");
  }
  int value = 0;
  for (const char c : port) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return Bad(field, address, "the port must be a number in 0-65535");
    }
    value = value * 10 + (c - '0');
  }
  if (value > 65535)
    return Bad(field, address, "the port must be a number in 0-65535");
  out.port = value;
  return out;
}

}  // namespace partnerledger

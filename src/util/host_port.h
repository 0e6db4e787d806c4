// "host:port" addresses as given on command lines (--listen, --server,
// --metrics_listen): parsed strictly, so a typo is an error instead of a
// default port or a silently different address.
#ifndef PARTNERLEDGER_UTIL_HOST_PORT_H_
#define PARTNERLEDGER_UTIL_HOST_PORT_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace partnerledger {

struct HostPort {
  std::string host;  // without brackets for IPv6 ("::1")
  int port = 0;      // 0..65535
};

// "host:port", "[v6-address]:port". The port is 1-5 decimal digits in
// 0..65535 (0: pick a free one, where the caller allows it); the host is
// non-empty. INVALID_ARGUMENT naming `field` otherwise (a missing port, a
// port with trailing characters such as "50051x", an empty host).
absl::StatusOr<HostPort> ParseHostPort(std::string_view field,
                                       std::string_view address);

}  // namespace partnerledger

#endif  // PARTNERLEDGER_UTIL_HOST_PORT_H_

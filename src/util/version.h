// The version of this build, for `ledgerd --version` and
// `ledgerctl --version`.
#ifndef PARTNERLEDGER_UTIL_VERSION_H_
#define PARTNERLEDGER_UTIL_VERSION_H_

#include <string>

namespace partnerledger {

// The release version (CMake's PROJECT_VERSION), e.g. "0.1.0".
const char* BuildVersion();
// The git commit the binary was built from, 12 hex digits, "-dirty" when
// tracked files had uncommitted changes; "unknown" when built outside a
// git checkout (e.g. a container build without .git). Taken at build time.
const char* BuildCommit();
// "<program> <version> (commit <commit>)".
std::string VersionLine(const std::string& program);

}  // namespace partnerledger

#endif  // PARTNERLEDGER_UTIL_VERSION_H_

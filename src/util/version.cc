#include "util/version.h"

#include "absl/strings/str_cat.h"

namespace partnerledger {

const char* BuildVersion() { return PL_VERSION; }

std::string VersionLine(const std::string& program) {
  return absl::StrCat(program, " ", BuildVersion(), " (commit ", BuildCommit(),
                      ")");
}

}  // namespace partnerledger

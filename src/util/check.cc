#include "util/check.h"

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "util/log.h"

namespace partnerledger::check_internal {

CheckFailure::~CheckFailure() {
  Log(LogLevel::kError, "invariant failed",
      {{"check", condition_},
       {"source", absl::StrCat(file_, ":", line_)},
       {"detail", message_.str()}});
  std::abort();
}

}  // namespace partnerledger::check_internal

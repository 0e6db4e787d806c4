// PL_CHECK stays on in release builds: this file is compiled with NDEBUG
// defined whatever the build type.
#undef NDEBUG
#define NDEBUG 1

#include "util/check.h"

#include <string>

#include "gtest/gtest.h"

namespace partnerledger {
namespace {

TEST(CheckDeathTest, FailedCheckLogsTheInvariantAndAbortsWithNdebug) {
  const int position = 7;
  EXPECT_DEATH(PL_CHECK(position == 8) << "position " << position << " after 6",
               "\"level\":\"error\",\"msg\":\"invariant failed\".*"
               "\"check\":\"position == 8\".*"
               "\"source\":\"[^\"]*check_test.cc:[0-9]+\".*"
               "\"detail\":\"position 7 after 6\"");
}

TEST(CheckDeathTest, FailedCheckWithoutMessageAborts) {
  EXPECT_DEATH(PL_CHECK(false), "invariant failed.*\"check\":\"false\"");
}

TEST(Check, HoldingCheckEvaluatesItsConditionOnceAndNotItsMessage) {
  int evaluated = 0;
  int streamed = 0;
  auto message = [&] {
    ++streamed;
    return std::string("unused");
  };
  PL_CHECK(++evaluated == 1) << message();
  EXPECT_EQ(evaluated, 1);
  EXPECT_EQ(streamed, 0);
}

TEST(Check, BindsAsOneStatementUnderIfElse) {
  int branch = 0;
  if (branch == 0)
    PL_CHECK(true) << "then";
  else
    branch = 2;
  EXPECT_EQ(branch, 0);
}

}  // namespace
}  // namespace partnerledger

// ledgerctl's exact money formatting, CSV quoting and progress line.
#include "ledgerctl/format.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "ledgerctl/progress.h"

namespace partnerledger::ctl {
namespace {

TEST(FormatMajor, SplitsMinorUnitsAtTheCurrencyExponent) {
  EXPECT_EQ(FormatMajor(2'200'000, "EUR"), "22,000.00");
  EXPECT_EQ(FormatMajor(2'200'000, "EUR", false), "22000.00");
  EXPECT_EQ(FormatMoney(2'200'000, "EUR"), "22,000.00 EUR");
  EXPECT_EQ(FormatMajor(5, "EUR"), "0.05");
  EXPECT_EQ(FormatMajor(0, "USD"), "0.00");
  EXPECT_EQ(FormatMajor(-300'000, "EUR"), "-3,000.00");
  EXPECT_EQ(FormatMajor(1500, "JPY"), "1,500");
  EXPECT_EQ(FormatMajor(1250, "BHD"), "1.250");
  EXPECT_EQ(FormatMajor(7, "BHD"), "0.007");
  EXPECT_EQ(FormatMajor(100'000, "EUR"), "1,000.00");
  EXPECT_EQ(FormatMajor(99'999, "EUR"), "999.99");
}

TEST(FormatMajor, IsExactAtTheLimitsOfInt64) {
  // 10^15 minor units: where a double would still be exact, but the
  // extremes of int64 are not; integer formatting is exact everywhere.
  EXPECT_EQ(FormatMajor(1'000'000'000'000'000, "EUR"), "10,000,000,000,000.00");
  EXPECT_EQ(FormatMajor(std::numeric_limits<int64_t>::max(), "EUR", false),
            "92233720368547758.07");
  EXPECT_EQ(FormatMajor(std::numeric_limits<int64_t>::min(), "EUR", false),
            "-92233720368547758.08");
}

TEST(FormatMajor, UnknownCurrencyPrintsMinorUnitsUnchanged) {
  EXPECT_EQ(FormatMajor(123456, "XYZ"), "123,456");
  EXPECT_EQ(FormatMajor(123456, "XYZ", false), "123456");
}

TEST(FormatRateBp, IsAnExactPercentage) {
  EXPECT_EQ(FormatRateBp(2500), "25.00%");
  EXPECT_EQ(FormatRateBp(1250), "12.50%");
  EXPECT_EQ(FormatRateBp(5), "0.05%");
  EXPECT_EQ(FormatRateBp(10000), "100.00%");
}

TEST(Csv, QuotesOnlyWhatNeedsQuoting) {
  EXPECT_EQ(CsvLine({"a", "b,c", "say \"hi\"", "x\ny", ""}),
            "a,\"b,c\",\"say \"\"hi\"\"\",\"x\ny\",");
}

TEST(Json, EscapesControlCharacters) {
  EXPECT_EQ(JsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

TEST(ShortEnum, DropsThePrefixAndLowercases) {
  EXPECT_EQ(ShortEnum("OBLIGATION_KIND_PASS_THROUGH", "OBLIGATION_KIND_"),
            "pass-through");
}

TEST(Table, AlignsColumns) {
  Table t({"A", "AMOUNT"}, {false, true});
  t.AddRow({"long name", "1.00"});
  t.AddRow({"x", "1,000.00"});
  EXPECT_EQ(t.Render(),
            "A            AMOUNT\n"
            "long name      1.00\n"
            "x          1,000.00\n");
}

TEST(Progress, ShowsBarCountRateAndEta) {
  EXPECT_EQ(Progress::Render("verify", 50'000, 100'000, 2.0),
            "verify [############            ]  50.0%  50,000/100,000 events  "
            "25.0k/s  ETA 0:02");
  EXPECT_EQ(Progress::Render("rebuild", 0, 0, 0.0),
            "rebuild | 0 events  0/s  elapsed 0:00");
}

}  // namespace
}  // namespace partnerledger::ctl

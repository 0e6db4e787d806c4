// Output formatting for ledgerctl: exact money in major units, aligned
// tables, CSV, JSON strings and one-line event records.
//
// Money is never converted to floating point: the integer minor units are
// split at the currency's exponent (domain::CurrencyExponent). Tables group
// thousands ("22,000.00 EUR"); CSV prints plain decimals ("22000.00");
// JSON keeps the wire's integer minor units.
#ifndef PARTNERLEDGER_TOOLS_LEDGERCTL_FORMAT_H_
#define PARTNERLEDGER_TOOLS_LEDGERCTL_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "partnerledger/v1/events.pb.h"

namespace partnerledger::ctl {

// Major units of `minor` in `currency`: "22,000.00" (grouped) or "22000.00";
// "-3,000.00" for negatives; JPY "1,500"; BHD "1.250". An unknown currency
// code prints the integer minor units unchanged (no decimal point).
std::string FormatMajor(int64_t minor, std::string_view currency,
                        bool group = true);
// FormatMajor(grouped) + " " + currency: "22,000.00 EUR".
std::string FormatMoney(int64_t minor, std::string_view currency);
// Basis points as an exact percentage: 2500 -> "25.00%", 1250 -> "12.50%".
std::string FormatRateBp(int32_t rate_bp);
// A count with thousands separators: 1234567 -> "1,234,567".
std::string FormatCount(uint64_t n);

// RFC 3339 UTC, fractional seconds only when present.
std::string FormatTimestamp(const google::protobuf::Timestamp& t);

// Enum value name without its prefix, lowercase, '_' -> '-':
// ("OBLIGATION_KIND_PASS_THROUGH", "OBLIGATION_KIND_") -> "pass-through".
std::string ShortEnum(const std::string& full_name, std::string_view prefix);

// A JSON string literal, quoted and escaped.
std::string JsonString(std::string_view s);
// One-line protobuf JSON (lowerCamelCase names, default values printed,
// int64 as strings per the proto3 JSON mapping).
std::string ProtoJson(const google::protobuf::Message& m);

// A CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
std::string CsvField(std::string_view s);
std::string CsvLine(const std::vector<std::string>& fields);

// A left/right aligned text table with two spaces between columns.
class Table {
 public:
  // `right`: per column, right-align (numbers). Missing entries: left.
  explicit Table(std::vector<std::string> headers, std::vector<bool> right = {})
      : headers_(std::move(headers)), right_(std::move(right)) {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

// The payload's one set field as JSON (e.g. {"legalName":"Acme BV"}), or
// "{}" when none is set.
std::string PayloadBodyJson(const v1::EventPayload& p);

// Every envelope field of an event, hashes as lowercase hex, on one line.
std::string EventJsonLine(const v1::Event& e);
std::vector<std::string> EventCsvHeader();
std::vector<std::string> EventCsvFields(const v1::Event& e);
// "     7  2026-02-01T12:00:00Z  deal-D1@3  RevenueBooked  {...}".
std::string EventHumanLine(const v1::Event& e);

}  // namespace partnerledger::ctl

#endif  // PARTNERLEDGER_TOOLS_LEDGERCTL_FORMAT_H_

#include "ledgerctl/format.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "domain/money.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "util/json.h"
#include "util/sha256.h"

namespace partnerledger::ctl {
namespace {

std::string Group(std::string digits) {
  std::string out;
  const size_t n = digits.size();
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace

std::string FormatMajor(int64_t minor, std::string_view currency, bool group) {
  // The magnitude as unsigned so INT64_MIN does not overflow.
  const bool negative = minor < 0;
  const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(minor)
                                      : static_cast<uint64_t>(minor);
  const std::optional<int> exponent = domain::CurrencyExponent(currency);
  std::string digits = std::to_string(magnitude);
  std::string whole = digits;
  std::string fraction;
  if (exponent.has_value() && *exponent > 0) {
    const size_t e = static_cast<size_t>(*exponent);
    if (digits.size() <= e) digits.insert(0, e + 1 - digits.size(), '0');
    whole = digits.substr(0, digits.size() - e);
    fraction = digits.substr(digits.size() - e);
  }
  std::string out = negative ? "-" : "";
  absl::StrAppend(&out, group ? Group(whole) : whole);
  if (!fraction.empty()) absl::StrAppend(&out, ".", fraction);
  return out;
}

std::string FormatMoney(int64_t minor, std::string_view currency) {
  return absl::StrCat(FormatMajor(minor, currency, true), " ",
                      std::string(currency));
}

std::string FormatRateBp(int32_t rate_bp) {
  const bool negative = rate_bp < 0;
  const uint32_t m = negative ? 0u - static_cast<uint32_t>(rate_bp)
                              : static_cast<uint32_t>(rate_bp);
  char frac[8];
  std::snprintf(frac, sizeof frac, "%02u", m % 100);
  return absl::StrCat(negative ? "-" : "", m / 100, ".", frac, "%");
}

std::string FormatCount(uint64_t n) { return Group(std::to_string(n)); }

std::string FormatTimestamp(const google::protobuf::Timestamp& t) {
  return google::protobuf::util::TimeUtil::ToString(t);
}

std::string ShortEnum(const std::string& full_name, std::string_view prefix) {
  std::string s = full_name;
  if (s.rfind(std::string(prefix), 0) == 0) s = s.substr(prefix.size());
  absl::AsciiStrToLower(&s);
  std::replace(s.begin(), s.end(), '_', '-');
  return s;
}

std::string JsonString(std::string_view s) {
  // StrCat, not operator+ on temporaries: GCC 12 at -O3 reports a bogus
  // -Wrestrict overlap inside std::string's concatenation.
  return absl::StrCat("\"", JsonEscape(s), "\"");
}

std::string ProtoJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions o;
  o.always_print_primitive_fields = true;
  std::string out;
  // Printing a valid message cannot fail; an empty object is the fallback.
  if (!google::protobuf::util::MessageToJsonString(m, &out, o).ok())
    return "{}";
  return out;
}

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos)
    return std::string(s);
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::vector<std::string> quoted;
  quoted.reserve(fields.size());
  for (const std::string& f : fields) quoted.push_back(CsvField(f));
  return absl::StrJoin(quoted, ",");
}

std::string Table::Render() const {
  std::vector<size_t> width(headers_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  };
  measure(headers_);
  for (const auto& r : rows_) measure(r);
  auto line = [&](const std::vector<std::string>& row) {
    std::string out;
    for (size_t i = 0; i < width.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      const std::string pad(width[i] - cell.size(), ' ');
      const bool right = i < right_.size() && right_[i];
      if (i > 0) out += "  ";
      out += right ? pad + cell : (i + 1 == width.size() ? cell : cell + pad);
    }
    return out + "\n";
  };
  std::string out = line(headers_);
  for (const auto& r : rows_) out += line(r);
  return out;
}

std::string PayloadBodyJson(const v1::EventPayload& p) {
  const google::protobuf::Reflection* r = p.GetReflection();
  const google::protobuf::OneofDescriptor* kind =
      p.GetDescriptor()->FindOneofByName("kind");
  const google::protobuf::FieldDescriptor* f =
      kind == nullptr ? nullptr : r->GetOneofFieldDescriptor(p, kind);
  if (f == nullptr) return "{}";
  google::protobuf::util::JsonPrintOptions o;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(r->GetMessage(p, f), &out, o)
           .ok()) {
    return "{}";
  }
  return out;
}

std::string EventJsonLine(const v1::Event& e) {
  // Built by hand (not MessageToJsonString) so hashes print as hex, not
  // base64, and positions as plain numbers. Payload: protobuf JSON.
  google::protobuf::util::JsonPrintOptions o;
  std::string payload;
  if (!google::protobuf::util::MessageToJsonString(e.payload(), &payload, o)
           .ok()) {
    payload = "{}";
  }
  return absl::StrCat(
      "{\"position\":", e.position(), ",\"stream\":", JsonString(e.stream()),
      ",\"revision\":", e.revision(), ",\"eventId\":", JsonString(e.event_id()),
      ",\"type\":", JsonString(e.type()),
      ",\"occurredAt\":", JsonString(FormatTimestamp(e.occurred_at())),
      ",\"recordedAt\":", JsonString(FormatTimestamp(e.recorded_at())),
      ",\"actor\":", JsonString(e.actor()),
      ",\"correlationId\":", JsonString(e.correlation_id()),
      ",\"causationId\":", JsonString(e.causation_id()),
      ",\"payload\":", payload,
      ",\"prevHash\":", JsonString(ToHex(e.prev_hash())),
      ",\"hash\":", JsonString(ToHex(e.hash())), "}");
}

std::vector<std::string> EventCsvHeader() {
  return {"position",     "stream",       "revision",
          "event_id",     "type",         "occurred_at",
          "recorded_at",  "actor",        "correlation_id",
          "causation_id", "payload_json", "prev_hash",
          "hash"};
}

std::vector<std::string> EventCsvFields(const v1::Event& e) {
  return {std::to_string(e.position()),
          e.stream(),
          std::to_string(e.revision()),
          e.event_id(),
          e.type(),
          FormatTimestamp(e.occurred_at()),
          FormatTimestamp(e.recorded_at()),
          e.actor(),
          e.correlation_id(),
          e.causation_id(),
          PayloadBodyJson(e.payload()),
          ToHex(e.prev_hash()),
          ToHex(e.hash())};
}

std::string EventHumanLine(const v1::Event& e) {
  std::string pos = std::to_string(e.position());
  if (pos.size() < 6) pos.insert(0, 6 - pos.size(), ' ');
  return absl::StrCat(pos, "  ", FormatTimestamp(e.recorded_at()), "  ",
                      e.stream(), "@", e.revision(), "  ", e.type(), "  ",
                      PayloadBodyJson(e.payload()));
}

}  // namespace partnerledger::ctl

#include "ledgerctl/amounts.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "domain/money.h"
#include "partnerledger/limits.h"
#include "util/status_macros.h"

namespace partnerledger::ctl {
namespace {

// Nesting deeper than this is not an event (and would recurse too far).
constexpr int kDepthMax = 64;

// A JSON value that keeps the exact text of its scalars and keys, so that
// what is not rewritten is serialized exactly as given.
struct Value {
  enum class Kind { kObject, kArray, kString, kNumber, kLiteral };
  Kind kind = Kind::kLiteral;
  std::string raw;  // scalars: the token as written ("\"EUR\"", "1e3")
  // An object's members: raw keys and their values, in order (two vectors:
  // a vector may hold the incomplete Value, a pair may not).
  std::vector<std::string> keys;
  std::vector<Value> items;  // an array's items, or the object's values
};

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  std::optional<Value> Document() {
    std::optional<Value> v = Parse(0);
    Space();
    if (!v.has_value() || i_ != s_.size()) return std::nullopt;
    return v;
  }

 private:
  void Space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' ||
                              s_[i_] == '\n' || s_[i_] == '\r')) {
      ++i_;
    }
  }

  std::optional<std::string> String() {
    const size_t start = i_;
    if (i_ >= s_.size() || s_[i_] != '"') return std::nullopt;
    for (++i_; i_ < s_.size(); ++i_) {
      if (s_[i_] == '\\') {
        ++i_;
      } else if (s_[i_] == '"') {
        ++i_;
        return std::string(s_.substr(start, i_ - start));
      }
    }
    return std::nullopt;
  }

  std::optional<Value> Parse(int depth) {
    if (depth > kDepthMax) return std::nullopt;
    Space();
    if (i_ >= s_.size()) return std::nullopt;
    Value v;
    const char c = s_[i_];
    if (c == '{' || c == '[') {
      const bool object = c == '{';
      v.kind = object ? Value::Kind::kObject : Value::Kind::kArray;
      ++i_;
      Space();
      if (i_ < s_.size() && s_[i_] == (object ? '}' : ']')) {
        ++i_;
        return v;
      }
      for (;;) {
        Space();
        std::string key;
        if (object) {
          std::optional<std::string> k = String();
          Space();
          if (!k.has_value() || i_ >= s_.size() || s_[i_] != ':') {
            return std::nullopt;
          }
          ++i_;
          key = std::move(*k);
        }
        std::optional<Value> item = Parse(depth + 1);
        if (!item.has_value()) return std::nullopt;
        if (object) v.keys.push_back(std::move(key));
        v.items.push_back(std::move(*item));
        Space();
        if (i_ >= s_.size()) return std::nullopt;
        if (s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (s_[i_] != (object ? '}' : ']')) return std::nullopt;
        ++i_;
        return v;
      }
    }
    if (c == '"') {
      std::optional<std::string> str = String();
      if (!str.has_value()) return std::nullopt;
      v.kind = Value::Kind::kString;
      v.raw = std::move(*str);
      return v;
    }
    const size_t start = i_;
    while (i_ < s_.size() && (absl::ascii_isalnum(s_[i_]) || s_[i_] == '-' ||
                              s_[i_] == '+' || s_[i_] == '.')) {
      ++i_;
    }
    if (i_ == start) return std::nullopt;
    v.raw = std::string(s_.substr(start, i_ - start));
    v.kind = (c == '-' || absl::ascii_isdigit(c)) ? Value::Kind::kNumber
                                                  : Value::Kind::kLiteral;
    return v;
  }

  std::string_view s_;
  size_t i_ = 0;
};

void Serialize(const Value& v, std::string* out) {
  switch (v.kind) {
    case Value::Kind::kObject:
      out->push_back('{');
      for (size_t i = 0; i < v.keys.size(); ++i) {
        if (i > 0) out->push_back(',');
        absl::StrAppend(out, v.keys[i], ":");
        Serialize(v.items[i], out);
      }
      out->push_back('}');
      return;
    case Value::Kind::kArray:
      out->push_back('[');
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i > 0) out->push_back(',');
        Serialize(v.items[i], out);
      }
      out->push_back(']');
      return;
    default:
      out->append(v.raw);
  }
}

// The text of a scalar: a string's content (escapes are never part of a
// valid amount or currency code, so they stay and fail the checks), a
// number's token.
std::string Text(const Value& v) {
  if (v.kind == Value::Kind::kString && v.raw.size() >= 2) {
    return v.raw.substr(1, v.raw.size() - 2);
  }
  return v.raw;
}

// "-"? digits ("." digits)?; the digits after the point are counted.
bool IsDecimal(const std::string& t, size_t* decimals) {
  size_t i = t.empty() || t[0] != '-' ? 0 : 1;
  const size_t int_start = i;
  while (i < t.size() && absl::ascii_isdigit(t[i])) ++i;
  if (i == int_start) return false;
  *decimals = 0;
  if (i == t.size()) return true;
  if (t[i] != '.') return false;
  const size_t frac_start = ++i;
  while (i < t.size() && absl::ascii_isdigit(t[i])) ++i;
  *decimals = i - frac_start;
  return i == t.size() && *decimals > 0;
}

absl::Status Bad(const std::string& path, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", why));
}

// Refuses an integer amount written in a form protobuf would accept but
// money must not take (1e6, 12.0).
absl::Status CheckMinor(const Value& v, const std::string& path) {
  if (v.kind != Value::Kind::kNumber && v.kind != Value::Kind::kString) {
    return absl::OkStatus();  // protobuf reports the wrong type
  }
  const std::string t = Text(v);
  size_t decimals = 0;
  if (!IsDecimal(t, &decimals) || decimals > 0) {
    return Bad(path, absl::StrCat("\"", t.substr(0, 64),
                                  "\" is not an integer of minor units "
                                  "(exponent and fraction forms are refused; "
                                  "for major units write \"amount\": "
                                  "\"12000.00\" next to \"currency\")"));
  }
  return absl::OkStatus();
}

// {"currency": C, "amount": "12000.00"} -> {"currency": C, "amountMinor":
// "1200000"}.
absl::Status RewriteMajor(Value& money, const std::string& path) {
  const Value* currency = nullptr;
  Value* amount = nullptr;
  std::string* amount_key = nullptr;
  bool has_minor = false;
  for (size_t i = 0; i < money.keys.size(); ++i) {
    const std::string& key = money.keys[i];
    if (key == "\"currency\"") currency = &money.items[i];
    if (key == "\"amount\"") {
      amount = &money.items[i];
      amount_key = &money.keys[i];
    }
    if (key == "\"amountMinor\"" || key == "\"amount_minor\"") has_minor = true;
  }
  if (amount == nullptr || currency == nullptr ||
      (amount->kind != Value::Kind::kString &&
       amount->kind != Value::Kind::kNumber)) {
    return absl::OkStatus();  // not a Money in major units
  }
  const std::string field = absl::StrCat(path, ".amount");
  if (has_minor) return Bad(field, "give amount or amountMinor, not both");
  const std::string code = Text(*currency);
  const std::optional<int> exponent = domain::CurrencyExponent(code);
  if (!exponent.has_value()) {
    return Bad(field, absl::StrCat("major units need a known ISO 4217 "
                                   "currency, not \"",
                                   code.substr(0, 16), "\""));
  }
  const std::string t = Text(*amount);
  size_t decimals = 0;
  if (!IsDecimal(t, &decimals)) {
    return Bad(field, absl::StrCat("\"", t.substr(0, 64),
                                   "\" is not a decimal amount (digits, "
                                   "optionally '.' and decimals; no "
                                   "exponent)"));
  }
  if (decimals != static_cast<size_t>(*exponent)) {
    return Bad(field,
               absl::StrCat("\"", t.substr(0, 64), "\" has ", decimals,
                            " decimals; ", code, " amounts have exactly ",
                            *exponent, " (ISO 4217 exponent ", *exponent, ")"));
  }
  std::string digits;
  for (const char c : t) {
    if (c != '.') digits.push_back(c);
  }
  const bool negative = !digits.empty() && digits[0] == '-';
  if (negative) digits.erase(0, 1);
  digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size() - 1));
  int64_t minor = 0;
  const std::string max = std::to_string(limits::kAmountMinorMax);
  if (digits.size() > max.size() ||
      (digits.size() == max.size() && digits > max)) {
    return Bad(field, absl::StrCat("\"", t.substr(0, 64), "\" exceeds ",
                                   limits::kAmountMinorMax, " minor units"));
  }
  for (const char c : digits) minor = minor * 10 + (c - '0');
  *amount_key = "\"amountMinor\"";
  amount->kind = Value::Kind::kString;
  amount->raw = absl::StrCat("\"", negative ? -minor : minor, "\"");
  return absl::OkStatus();
}

std::string Unquote(const std::string& raw_key) {
  return raw_key.size() >= 2 ? raw_key.substr(1, raw_key.size() - 2) : raw_key;
}

absl::Status Rewrite(Value& v, const std::string& path) {
  if (v.kind == Value::Kind::kArray) {
    for (size_t i = 0; i < v.items.size(); ++i) {
      RETURN_IF_ERROR(Rewrite(v.items[i], absl::StrCat(path, "[", i, "]")));
    }
    return absl::OkStatus();
  }
  if (v.kind != Value::Kind::kObject) return absl::OkStatus();
  RETURN_IF_ERROR(RewriteMajor(v, path));
  for (size_t i = 0; i < v.keys.size(); ++i) {
    Value& value = v.items[i];
    const std::string name = Unquote(v.keys[i]);
    const std::string child =
        path.empty() ? name : absl::StrCat(path, ".", name);
    if (name == "amountMinor" || name == "amount_minor") {
      RETURN_IF_ERROR(CheckMinor(value, child));
    }
    RETURN_IF_ERROR(Rewrite(value, child));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> NormalizeAmounts(std::string_view json) {
  std::optional<Value> doc = Parser(json).Document();
  if (!doc.has_value()) {
    return absl::FailedPreconditionError("not one JSON document");
  }
  RETURN_IF_ERROR(Rewrite(*doc, ""));
  std::string out;
  Serialize(*doc, &out);
  return out;
}

}  // namespace partnerledger::ctl

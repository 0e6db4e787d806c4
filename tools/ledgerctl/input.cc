#include "ledgerctl/input.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "ledgerctl/amounts.h"
#include "util/sha256.h"
#include "util/strings.h"

namespace partnerledger::ctl {
namespace {

template <typename Msg>
absl::StatusOr<std::vector<std::pair<int, Msg>>> ParseDocuments(
    const std::string& content) {
  google::protobuf::util::JsonParseOptions o;
  std::vector<std::pair<int, Msg>> out;
  Msg whole;
  const std::string trimmed(absl::StripAsciiWhitespace(content));
  // Major-unit amounts become amountMinor (amounts.h); a document that is
  // not JSON at all goes to protobuf's parser as is, for its message.
  absl::StatusOr<std::string> normalized = NormalizeAmounts(trimmed);
  if (!normalized.ok() &&
      normalized.status().code() == absl::StatusCode::kInvalidArgument) {
    return normalized.status();
  }
  if (!trimmed.empty() && trimmed[0] == '{' && normalized.ok() &&
      google::protobuf::util::JsonStringToMessage(*normalized, &whole, o)
          .ok()) {
    out.emplace_back(1, std::move(whole));
    return out;
  }
  int line_no = 0;
  for (std::string_view line : Split(content, '\n')) {
    ++line_no;
    const std::string_view t = StripAsciiWhitespace(line);
    if (t.empty() || t[0] == '#') continue;
    Msg m;
    std::string text(t.data(), t.size());
    if (absl::StatusOr<std::string> n = NormalizeAmounts(text); n.ok()) {
      text = *std::move(n);
    } else if (n.status().code() == absl::StatusCode::kInvalidArgument) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_no, ": ", n.status().message()));
    }
    const auto s = google::protobuf::util::JsonStringToMessage(text, &m, o);
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", line_no, ": not a ", Msg::descriptor()->full_name(), ": ",
          std::string(s.message().data(), s.message().size())));
    }
    out.emplace_back(line_no, std::move(m));
  }
  if (out.empty())
    return absl::InvalidArgumentError("the input holds no events");
  return out;
}

}  // namespace

absl::StatusOr<std::vector<std::pair<int, v1::AppendEventsRequest>>>
ParseAppendRequests(const std::string& content) {
  return ParseDocuments<v1::AppendEventsRequest>(content);
}

absl::StatusOr<std::vector<std::pair<int, v1::ProposedEvent>>>
ParseProposedEvents(const std::string& content) {
  return ParseDocuments<v1::ProposedEvent>(content);
}

absl::StatusOr<std::pair<uint64_t, std::string>> ParseDigest(
    std::string_view text, std::string_view name) {
  google::protobuf::Struct s;
  if (!google::protobuf::util::JsonStringToMessage(
           google::protobuf::StringPiece(text.data(), text.size()), &s)
           .ok()) {
    return absl::InvalidArgumentError(
        Cat(name, ": not a JSON digest {\"position\":N,\"hash\":\"hex\"}"));
  }
  const auto& f = s.fields();
  auto pos = f.find("position");
  auto hash = f.find("hash");
  if (pos == f.end() || hash == f.end() ||
      hash->second.kind_case() != google::protobuf::Value::kStringValue) {
    return absl::InvalidArgumentError(
        Cat(name, ": a digest needs \"position\" and \"hash\""));
  }
  uint64_t position = 0;
  if (pos->second.kind_case() == google::protobuf::Value::kNumberValue) {
    const double d = pos->second.number_value();
    // Positions are integers well inside 2^53, where doubles are exact.
    if (d < 0 || d > 9007199254740992.0 ||
        d != static_cast<double>(static_cast<uint64_t>(d))) {
      return absl::InvalidArgumentError(Cat(name, ": bad position"));
    }
    position = static_cast<uint64_t>(d);
  } else if (pos->second.kind_case() != google::protobuf::Value::kStringValue ||
             !absl::SimpleAtoi(pos->second.string_value(), &position)) {
    return absl::InvalidArgumentError(Cat(name, ": bad position"));
  }
  std::string raw;
  if (!FromHex(hash->second.string_value(), &raw) ||
      raw.size() != kSha256Bytes) {
    return absl::InvalidArgumentError(
        Cat(name, ": hash must be 64 hex digits"));
  }
  return std::make_pair(position, raw);
}

}  // namespace partnerledger::ctl

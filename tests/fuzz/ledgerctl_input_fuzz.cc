// Fuzzes what ledgerctl reads from files people write
// (tools/ledgerctl/input.h): append input as whole JSON documents or JSON
// lines, and digest files. Never a crash; a failure is INVALID_ARGUMENT;
// what parses prints back to JSON that parses to the same message, and line
// numbers go up.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "ledgerctl/input.h"

namespace partnerledger::fuzz {
namespace {

template <typename Msg>
void CheckDocuments(
    const absl::StatusOr<std::vector<std::pair<int, Msg>>>& parsed) {
  if (!parsed.ok()) {
    PL_FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument,
                  parsed.status().ToString());
    return;
  }
  PL_FUZZ_CHECK(!parsed->empty(), "parsed nothing but said ok");
  int last_line = 0;
  for (const auto& [line, msg] : *parsed) {
    PL_FUZZ_CHECK(line > last_line, "line numbers not increasing");
    last_line = line;
    std::string json;
    PL_FUZZ_CHECK(google::protobuf::util::MessageToJsonString(msg, &json).ok(),
                  "a parsed message does not print");
    Msg back;
    PL_FUZZ_CHECK(google::protobuf::util::JsonStringToMessage(json, &back).ok(),
                  "printed JSON does not parse: " + json);
    PL_FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(msg, back),
                  "JSON round trip changed the message: " + json);
  }
}

}  // namespace
}  // namespace partnerledger::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace partnerledger;
  using namespace partnerledger::fuzz;
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      CheckDocuments(ctl::ParseAppendRequests(text));
      break;
    case 1:
      CheckDocuments(ctl::ParseProposedEvents(text));
      break;
    default: {
      auto digest = ctl::ParseDigest(text, "digest.json");
      if (digest.ok()) {
        PL_FUZZ_CHECK(digest->second.size() == 32, "hash not 32 bytes");
      } else {
        PL_FUZZ_CHECK(
            digest.status().code() == absl::StatusCode::kInvalidArgument,
            digest.status().ToString());
      }
    }
  }
  return 0;
}

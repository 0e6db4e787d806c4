// What ledgerctl reads from files people write: append input (JSON) and
// digest files. Pure parsing, no I/O, so it can be fuzzed on its own
// (tests/fuzz/ledgerctl_input_fuzz.cc).
#ifndef PARTNERLEDGER_TOOLS_LEDGERCTL_INPUT_H_
#define PARTNERLEDGER_TOOLS_LEDGERCTL_INPUT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "partnerledger/v1/event_store.pb.h"

namespace partnerledger::ctl {

// Append input: the whole text as one JSON document if it parses as one
// message, else one document per non-blank line that does not start with
// '#'. Each result carries its line number (1 for a whole document).
// INVALID_ARGUMENT naming the line for a document that does not parse, or
// when there is none.
absl::StatusOr<std::vector<std::pair<int, v1::AppendEventsRequest>>>
ParseAppendRequests(const std::string& content);
absl::StatusOr<std::vector<std::pair<int, v1::ProposedEvent>>>
ParseProposedEvents(const std::string& content);

// A digest written by `ledgerctl digest`: {"position":N,"hash":"hex"}.
// Returns the position and the 32 raw hash bytes; INVALID_ARGUMENT (naming
// `name`) when `text` is not a digest.
absl::StatusOr<std::pair<uint64_t, std::string>> ParseDigest(
    std::string_view text, std::string_view name);

}  // namespace partnerledger::ctl

#endif  // PARTNERLEDGER_TOOLS_LEDGERCTL_INPUT_H_

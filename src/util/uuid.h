// UUIDs: the event_id idempotency key.
#ifndef PARTNERLEDGER_UTIL_UUID_H_
#define PARTNERLEDGER_UTIL_UUID_H_

#include <optional>
#include <string>
#include <string_view>

namespace partnerledger {

// Parses the canonical 8-4-4-4-12 hex form (either case) into 16 raw bytes.
// Returns nullopt for anything else; the nil UUID is rejected too, since it
// is what a client that forgot to set an id sends.
std::optional<std::string> ParseUuid(std::string_view text);

// 16 raw bytes -> lowercase canonical text.
// REQUIRES: raw.size() == 16.
std::string FormatUuid(std::string_view raw);

// A deterministic name-based UUID (version 8 layout, SHA-256 of name):
// derived events get ids from their cause so a rebuild reproduces them.
std::string DeriveUuid(std::string_view name);

}  // namespace partnerledger

#endif  // PARTNERLEDGER_UTIL_UUID_H_

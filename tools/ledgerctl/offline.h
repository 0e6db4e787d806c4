// Offline access to a data directory: what `verify`, `export`, `digest`
// and `replay` use with --data-dir, without a running server.
#ifndef PARTNERLEDGER_TOOLS_LEDGERCTL_OFFLINE_H_
#define PARTNERLEDGER_TOOLS_LEDGERCTL_OFFLINE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "partnerledger/v1/events.pb.h"
#include "store/store.h"

namespace partnerledger::ctl {

// Opens `dir` read-only: never writes to it, never takes its lock, so it
// works on a stopped server's directory, a backup copy, or (with what has
// been flushed or logged so far) a live one. UNAVAILABLE when the
// directory does not exist or cannot be opened; DATA_LOSS on corruption.
absl::StatusOr<std::unique_ptr<store::Store>> OpenReadOnly(
    const std::string& dir);

// A stored record as the wire's Event, exactly as the server's ReadAll
// returns it (payload upcast to the current schema), so an offline export
// is byte-identical to an online one (tests/cli checks this).
// (src/server/translate.cc has the server's copy; it is not linked here so
// the CLI does not pull in the server.) DATA_LOSS when the payload does not
// parse.

// A digest file written by `ledgerctl digest`: {"position":N,"hash":"hex"}.
// Returns the position and the 32 raw hash bytes. UNAVAILABLE when the
// file cannot be read; INVALID_ARGUMENT when it is not a digest.
absl::StatusOr<std::pair<uint64_t, std::string>> ReadDigestFile(
    const std::string& path);
std::string DigestJson(uint64_t position, const std::string& raw_hash);

// Whole file ("-" or empty: stdin). UNAVAILABLE when it cannot be read.
absl::StatusOr<std::string> ReadInput(const std::string& path);
// UNAVAILABLE when it cannot be written.
absl::Status WriteFile(const std::string& path, const std::string& content);
// Writes `content` to a file that must not exist yet (ALREADY_EXISTS
// otherwise, nothing written), and fsyncs it.
absl::Status WriteNewFile(const std::string& path, const std::string& content);

}  // namespace partnerledger::ctl

#endif  // PARTNERLEDGER_TOOLS_LEDGERCTL_OFFLINE_H_

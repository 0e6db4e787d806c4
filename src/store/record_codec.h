// The stored event record: its canonical bytes, its hash, and the checks
// every record passes right before it is written and right after it is read.
//
// Canonical bytes (version 1), the input of the hash chain:
//   "PLE1" | u64 position | str stream | u64 revision | raw16 event_id |
//   str type | i64 occurred_at_us | i64 recorded_at_us | str actor |
//   str correlation_id | str causation_id | str payload | u32 schema_version |
//   u8 derived
// Integers big-endian, str = u32 big-endian length + bytes. The encoding is
// ours, not protobuf's, so the chain does not depend on a serializer's
// choices; the payload is hashed as the exact bytes stored.
//
//   hash = SHA-256(prev_hash || canonical bytes)
#ifndef PARTNERLEDGER_STORE_RECORD_CODEC_H_
#define PARTNERLEDGER_STORE_RECORD_CODEC_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "partnerledger/storage/v1/records.pb.h"
#include "util/sha256.h"

namespace partnerledger::store {

using storage::v1::StoredEvent;

// The prev_hash of position 1.
const std::string& GenesisHash();

std::string CanonicalBytes(const StoredEvent& e);
// SHA-256(e.prev_hash() || CanonicalBytes(e)).
std::string ComputeHash(const StoredEvent& e);
// The same from canonical bytes already encoded (a caller that hashes them
// for more than the chain encodes them once).
std::string ChainHash(std::string_view prev_hash,
                      std::string_view canonical_bytes);

// Structural checks of a record (sizes, non-empty fields, UTF-8 strings, so
// what is written parses again) and that its hash
// matches its content. DATA_LOSS naming the position on failure: a record
// that fails this after a read is corruption.
absl::Status ValidateRecord(const StoredEvent& e);

// Serialized StoredEvent <-> record, validated both ways.
absl::StatusOr<std::string> EncodeRecord(const StoredEvent& e);
absl::StatusOr<StoredEvent> DecodeRecord(std::string_view bytes);

}  // namespace partnerledger::store

#endif  // PARTNERLEDGER_STORE_RECORD_CODEC_H_

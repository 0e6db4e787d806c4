// Key codecs for the column families. Integers are big-endian so RocksDB's
// bytewise order is numeric order.
//
//   events       BE64(position)                          -> StoredEvent
//   streams      stream '\0' BE64(revision)              -> BE64(position)
//   event_ids    16 raw UUID bytes                       -> EventIdEntry
//   meta         "head"                                  -> Head
//   meta         "s/" stream                             -> BE64(last revision)
//   meta         "r/" BE64(first position)               -> BE64(last position)
//   state        key                                     -> Versioned value
//   state        "#k/" key                               -> "" (key registry)
//   state_hist   key '\0' BE64(position)                 -> Versioned value
//   merkle       u8 level BE64(index)                    -> subtree hash
//   merkle       "size"                                  -> BE64(leaves)
//
// A merkle node is the 32-byte hash of a complete subtree of level >= 1;
// "size" is the number of leaves the stored nodes cover.
//
// Stream names and state keys never contain '\0' (validated before write),
// so the separator keeps prefixes unambiguous.
#ifndef PARTNERLEDGER_STORE_KEYS_H_
#define PARTNERLEDGER_STORE_KEYS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace partnerledger::store {

void PutBigEndian64(std::string* out, uint64_t v);
// REQUIRES: bytes.size() >= 8.
uint64_t GetBigEndian64(std::string_view bytes);

std::string EventKey(uint64_t position);
// nullopt unless exactly 8 bytes.
std::optional<uint64_t> DecodeEventKey(std::string_view key);

std::string StreamKey(std::string_view stream, uint64_t revision);
// The smallest key greater than every key of the stream.
std::string StreamUpperBound(std::string_view stream);
struct StreamKeyParts {
  std::string_view stream;
  uint64_t revision;
};
std::optional<StreamKeyParts> DecodeStreamKey(std::string_view key);

std::string StateHistoryKey(std::string_view key, uint64_t position);

// 9 bytes, so never equal to the 4-byte tree size key.
std::string MerkleNodeKey(int level, uint64_t index);

// Value of the event_ids family: where the event went and the digest of the
// content the client proposed (for telling a retry from a reuse).
struct EventIdEntry {
  uint64_t position = 0;
  std::string content_digest;  // 32 bytes
};
std::string EncodeEventIdEntry(const EventIdEntry& e);
std::optional<EventIdEntry> DecodeEventIdEntry(std::string_view value);

}  // namespace partnerledger::store

#endif  // PARTNERLEDGER_STORE_KEYS_H_

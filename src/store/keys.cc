#include "store/keys.h"

namespace partnerledger::store {

void PutBigEndian64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

uint64_t GetBigEndian64(std::string_view bytes) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v = v << 8 | static_cast<uint8_t>(bytes[i]);
  }
  return v;
}

std::string EventKey(uint64_t position) {
  std::string k;
  PutBigEndian64(&k, position);
  return k;
}

std::optional<uint64_t> DecodeEventKey(std::string_view key) {
  if (key.size() != 8) return std::nullopt;
  return GetBigEndian64(key);
}

std::string StreamKey(std::string_view stream, uint64_t revision) {
  std::string k(stream);
  k.push_back('\0');
  PutBigEndian64(&k, revision);
  return k;
}

std::string StreamUpperBound(std::string_view stream) {
  std::string k(stream);
  k.push_back('\1');
  return k;
}

std::optional<StreamKeyParts> DecodeStreamKey(std::string_view key) {
  if (key.size() < 10 || key[key.size() - 9] != '\0') return std::nullopt;
  return StreamKeyParts{key.substr(0, key.size() - 9),
                        GetBigEndian64(key.substr(key.size() - 8))};
}

std::string StateHistoryKey(std::string_view key, uint64_t position) {
  std::string k(key);
  k.push_back('\0');
  PutBigEndian64(&k, position);
  return k;
}

std::string MerkleNodeKey(int level, uint64_t index) {
  std::string k(1, static_cast<char>(level));
  PutBigEndian64(&k, index);
  return k;
}

std::string EncodeEventIdEntry(const EventIdEntry& e) {
  std::string v;
  PutBigEndian64(&v, e.position);
  v.append(e.content_digest);
  return v;
}

std::optional<EventIdEntry> DecodeEventIdEntry(std::string_view value) {
  if (value.size() != 8 + 32) return std::nullopt;
  return EventIdEntry{GetBigEndian64(value), std::string(value.substr(8))};
}

}  // namespace partnerledger::store

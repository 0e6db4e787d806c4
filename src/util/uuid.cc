#include "util/uuid.h"

#include <cassert>

#include "util/sha256.h"

namespace partnerledger {

std::optional<std::string> ParseUuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::string hex;
  hex.reserve(32);
  for (size_t i = 0; i < text.size(); ++i) {
    const bool dash_slot = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_slot) {
      if (text[i] != '-') return std::nullopt;
    } else {
      hex.push_back(text[i]);
    }
  }
  std::string raw;
  if (!FromHex(hex, &raw)) return std::nullopt;
  if (raw == std::string(16, '\0')) return std::nullopt;
  return raw;
}

std::string FormatUuid(std::string_view raw) {
  assert(raw.size() == 16);
  const std::string hex = ToHex(raw);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) +
         "-" + hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

std::string DeriveUuid(std::string_view name) {
  const Sha256Digest d = Sha256Of(name);
  std::string raw(reinterpret_cast<const char*>(d.data()), 16);
  raw[6] = static_cast<char>((raw[6] & 0x0f) | 0x80);  // version 8
  raw[8] = static_cast<char>((raw[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return FormatUuid(raw);
}

}  // namespace partnerledger

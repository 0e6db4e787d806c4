// SHA-256 for the hash chain and content digests.
#ifndef PARTNERLEDGER_UTIL_SHA256_H_
#define PARTNERLEDGER_UTIL_SHA256_H_

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace partnerledger {

inline constexpr size_t kSha256Bytes = 32;
using Sha256Digest = std::array<uint8_t, kSha256Bytes>;

// Incremental hasher. Not thread-safe; cheap to construct.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // REQUIRES: called once.
  Sha256Digest Finish();

 private:
  void* ctx_;  // EVP_MD_CTX*
};

Sha256Digest Sha256Of(std::string_view bytes);
// The digest of the concatenation of `parts`, on a context kept per thread:
// creating and freeing one costs about as much as hashing a short input (a
// Merkle node is 65 bytes), and the Merkle tree hashes one or two per event.
Sha256Digest Sha256OfParts(std::initializer_list<std::string_view> parts);
std::string DigestBytes(const Sha256Digest& d);
std::string ToHex(std::string_view bytes);
// Lowercase or uppercase hex; returns false on bad input.
bool FromHex(std::string_view hex, std::string* out);

}  // namespace partnerledger

#endif  // PARTNERLEDGER_UTIL_SHA256_H_

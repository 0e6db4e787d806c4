// RFC 9162 computed the slow, obvious way (the recursive definitions of
// §2.1.1 MTH, §2.1.3.1 PATH and §2.1.4.1 SUBPROOF over leaf hashes), the
// reference the Merkle tests compare the incremental tree and its proofs to.
#ifndef PARTNERLEDGER_TESTS_MERKLE_NAIVE_RFC9162_H_
#define PARTNERLEDGER_TESTS_MERKLE_NAIVE_RFC9162_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/sha256.h"

namespace partnerledger::merkle::naive {

using Leaves = std::vector<std::string>;  // leaf hashes

inline uint64_t LargestPowerOfTwoBelow(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

inline std::string H(std::string_view bytes) {
  return DigestBytes(Sha256Of(bytes));
}

// RFC 9162 §2.1.1 MTH over leaf hashes D[begin:end].
inline std::string NaiveRoot(const Leaves& d, uint64_t begin, uint64_t end) {
  const uint64_t n = end - begin;
  if (n == 0) return H("");
  if (n == 1) return d[begin];
  const uint64_t k = LargestPowerOfTwoBelow(n);
  std::string node(1, '\1');
  node.append(NaiveRoot(d, begin, begin + k));
  node.append(NaiveRoot(d, begin + k, end));
  return H(node);
}

// RFC 9162 §2.1.3.1 PATH(m, D[begin:end]).
inline std::vector<std::string> NaivePath(const Leaves& d, uint64_t m,
                                          uint64_t begin, uint64_t end) {
  const uint64_t n = end - begin;
  if (n == 1) return {};
  const uint64_t k = LargestPowerOfTwoBelow(n);
  std::vector<std::string> out;
  if (m < k) {
    out = NaivePath(d, m, begin, begin + k);
    out.push_back(NaiveRoot(d, begin + k, end));
  } else {
    out = NaivePath(d, m - k, begin + k, end);
    out.push_back(NaiveRoot(d, begin, begin + k));
  }
  return out;
}

// RFC 9162 §2.1.4.1 SUBPROOF(m, D[begin:end], b).
inline std::vector<std::string> NaiveSubProof(const Leaves& d, uint64_t m,
                                              uint64_t begin, uint64_t end,
                                              bool b) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (b) return {};
    return {NaiveRoot(d, begin, end)};
  }
  const uint64_t k = LargestPowerOfTwoBelow(n);
  std::vector<std::string> out;
  if (m <= k) {
    out = NaiveSubProof(d, m, begin, begin + k, b);
    out.push_back(NaiveRoot(d, begin + k, end));
  } else {
    out = NaiveSubProof(d, m - k, begin + k, end, false);
    out.push_back(NaiveRoot(d, begin, begin + k));
  }
  return out;
}

}  // namespace partnerledger::merkle::naive

#endif  // PARTNERLEDGER_TESTS_MERKLE_NAIVE_RFC9162_H_

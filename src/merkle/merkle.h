// The RFC 9162 (Certificate Transparency 2.0) Merkle tree over the log:
// hashes, proofs and their verification. Pure: no I/O, no clock, no threads.
//
//   leaf hash   = SHA-256(0x00 || leaf bytes)
//   node hash   = SHA-256(0x01 || left || right)
//   empty root  = SHA-256("")
//
// The leaf bytes of log position p are the record's canonical bytes (the
// same bytes the hash chain hashes, store/record_codec.h), at leaf index
// p - 1; the tree size is the head position.
//
// Proofs are computed from complete subtrees: the node at (level, index)
// covers leaves [index * 2^level, (index + 1) * 2^level). RFC 9162's
// recursion only ever splits a range at a power of two aligned to its start,
// so every hash a proof needs is either one stored complete subtree or the
// right edge of a tree, folded from at most one complete subtree per level:
// any proof at any size takes O(log n) node reads.
#ifndef PARTNERLEDGER_MERKLE_MERKLE_H_
#define PARTNERLEDGER_MERKLE_MERKLE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace partnerledger::merkle {

// Levels of a tree over at most 2^64 leaves.
inline constexpr int kLevelsMax = 64;

std::string LeafHash(std::string_view leaf_bytes);
// REQUIRES: both 32 bytes.
std::string NodeHash(std::string_view left, std::string_view right);
// The root of the empty tree.
const std::string& EmptyRoot();

// Where proofs read complete-subtree hashes from (storage, or memory in
// tests). Implementations return DATA_LOSS for a node that should exist but
// does not, UNAVAILABLE for I/O failures.
class NodeSource {
 public:
  virtual ~NodeSource() = default;
  // The hash of the complete subtree (level, index).
  virtual absl::StatusOr<std::string> Node(int level, uint64_t index) const = 0;
};

// The root of the tree of the first `size` leaves (EmptyRoot for 0).
// REQUIRES: the source holds every complete subtree of that tree.
absl::StatusOr<std::string> RootAt(const NodeSource& source, uint64_t size);

// RFC 9162 §2.1.3.1 PATH(index, D[size]): sibling hashes from the leaf up.
// INVALID_ARGUMENT unless index < size.
absl::StatusOr<std::vector<std::string>> InclusionProof(
    const NodeSource& source, uint64_t index, uint64_t size);

// RFC 9162 §2.1.4.1 PROOF(from_size, D[to_size]). Empty when from_size is 0
// or equals to_size. INVALID_ARGUMENT unless from_size <= to_size.
absl::StatusOr<std::vector<std::string>> ConsistencyProof(
    const NodeSource& source, uint64_t from_size, uint64_t to_size);

// RFC 9162 §2.1.3.2: the root an inclusion proof leads to, or
// INVALID_ARGUMENT when the proof cannot be a proof for (index, size) (wrong
// length, index out of range).
absl::StatusOr<std::string> RootFromInclusionProof(
    uint64_t index, uint64_t size, std::string_view leaf_hash,
    const std::vector<std::string>& proof);

// OK when the proof shows leaf_hash at `index` in the tree of `size` with
// `root`; otherwise FAILED_PRECONDITION (or INVALID_ARGUMENT for a malformed
// proof) saying why.
absl::Status VerifyInclusion(uint64_t index, uint64_t size,
                             std::string_view leaf_hash,
                             const std::vector<std::string>& proof,
                             std::string_view root);

// RFC 9162 §2.1.4.2: OK when the proof shows that the tree of to_size with
// to_root extends the tree of from_size with from_root. A from_size of 0
// needs an empty proof; equal sizes need an empty proof and equal roots.
// FAILED_PRECONDITION (or INVALID_ARGUMENT) otherwise.
absl::Status VerifyConsistency(uint64_t from_size, uint64_t to_size,
                               std::string_view from_root,
                               std::string_view to_root,
                               const std::vector<std::string>& proof);

// The right edge of a growing tree (its compact range: one complete subtree
// per set bit of the size), so appending a leaf costs O(1) amortized hashes
// and no reads. Not thread-safe.
class Frontier {
 public:
  // The edge of the empty tree.
  Frontier() = default;
  // The edge of the tree of `size` leaves, read from `source`.
  static absl::StatusOr<Frontier> Load(const NodeSource& source, uint64_t size);

  uint64_t size() const { return size_; }
  // Appends a leaf (its leaf hash) and calls `emit(level, index, hash)` for
  // every complete subtree it completes, the leaf itself (level 0) first.
  void Append(
      std::string_view leaf_hash,
      const std::function<void(int, uint64_t, const std::string&)>& emit);
  std::string Root() const;

 private:
  uint64_t size_ = 0;
  // by_level_[l] is the complete subtree at level l of the edge; meaningful
  // only where bit l of size_ is set.
  std::vector<std::string> by_level_;
};

}  // namespace partnerledger::merkle

#endif  // PARTNERLEDGER_MERKLE_MERKLE_H_

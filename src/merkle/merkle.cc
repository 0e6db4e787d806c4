#include "merkle/merkle.h"

#include <bit>

#include "absl/strings/str_cat.h"
#include "util/sha256.h"
#include "util/status_macros.h"

namespace partnerledger::merkle {
namespace {

// The largest power of two strictly below n. REQUIRES: n > 1.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

bool IsPowerOfTwo(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

// MTH(D[begin:end]). RFC 9162's recursion only asks for ranges whose start
// is a multiple of the power of two at or above their length, so a range is
// either one complete subtree or splits into one complete left subtree and
// a smaller range of the same kind.
absl::StatusOr<std::string> RangeHash(const NodeSource& source, uint64_t begin,
                                      uint64_t end) {
  const uint64_t n = end - begin;
  if (IsPowerOfTwo(n)) {
    const int level = std::countr_zero(n);
    return source.Node(level, begin >> level);
  }
  const uint64_t k = SplitPoint(n);
  ASSIGN_OR_RETURN(std::string left, RangeHash(source, begin, begin + k));
  ASSIGN_OR_RETURN(std::string right, RangeHash(source, begin + k, end));
  return NodeHash(left, right);
}

absl::Status Path(const NodeSource& source, uint64_t index, uint64_t begin,
                  uint64_t end, std::vector<std::string>* out) {
  if (end - begin <= 1) return absl::OkStatus();
  const uint64_t mid = begin + SplitPoint(end - begin);
  if (index < mid) {
    RETURN_IF_ERROR(Path(source, index, begin, mid, out));
    ASSIGN_OR_RETURN(std::string sibling, RangeHash(source, mid, end));
    out->push_back(std::move(sibling));
  } else {
    RETURN_IF_ERROR(Path(source, index, mid, end, out));
    ASSIGN_OR_RETURN(std::string sibling, RangeHash(source, begin, mid));
    out->push_back(std::move(sibling));
  }
  return absl::OkStatus();
}

// SUBPROOF(m, D[begin:end], whole) with m counted from begin.
absl::Status SubProof(const NodeSource& source, uint64_t m, uint64_t begin,
                      uint64_t end, bool whole, std::vector<std::string>* out) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (whole) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::string h, RangeHash(source, begin, end));
    out->push_back(std::move(h));
    return absl::OkStatus();
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    RETURN_IF_ERROR(SubProof(source, m, begin, begin + k, whole, out));
    ASSIGN_OR_RETURN(std::string sibling, RangeHash(source, begin + k, end));
    out->push_back(std::move(sibling));
  } else {
    RETURN_IF_ERROR(SubProof(source, m - k, begin + k, end, false, out));
    ASSIGN_OR_RETURN(std::string sibling, RangeHash(source, begin, begin + k));
    out->push_back(std::move(sibling));
  }
  return absl::OkStatus();
}

absl::Status CheckHashes(const std::vector<std::string>& proof) {
  for (size_t i = 0; i < proof.size(); ++i) {
    if (proof[i].size() != kSha256Bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("proof[", i, "]: not a 32-byte hash"));
    }
  }
  return absl::OkStatus();
}

// Right-shifts both until fn's lowest bit is set or fn is 0.
void ShiftWhileEven(uint64_t* fn, uint64_t* sn) {
  while (*fn != 0 && (*fn & 1) == 0) {
    *fn >>= 1;
    *sn >>= 1;
  }
}

}  // namespace

std::string LeafHash(std::string_view leaf_bytes) {
  return DigestBytes(Sha256OfParts({std::string_view("\0", 1), leaf_bytes}));
}

std::string NodeHash(std::string_view left, std::string_view right) {
  return DigestBytes(Sha256OfParts({std::string_view("\1", 1), left, right}));
}

const std::string& EmptyRoot() {
  static const std::string* root =
      new std::string(DigestBytes(Sha256Of(std::string_view())));
  return *root;
}

absl::StatusOr<std::string> RootAt(const NodeSource& source, uint64_t size) {
  if (size == 0) return EmptyRoot();
  return RangeHash(source, 0, size);
}

absl::StatusOr<std::vector<std::string>> InclusionProof(
    const NodeSource& source, uint64_t index, uint64_t size) {
  if (index >= size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "leaf index ", index, " is not below the tree size ", size));
  }
  std::vector<std::string> out;
  RETURN_IF_ERROR(Path(source, index, 0, size, &out));
  return out;
}

absl::StatusOr<std::vector<std::string>> ConsistencyProof(
    const NodeSource& source, uint64_t from_size, uint64_t to_size) {
  if (from_size > to_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("from_size ", from_size, " is beyond to_size ", to_size));
  }
  std::vector<std::string> out;
  if (from_size == 0 || from_size == to_size) return out;
  RETURN_IF_ERROR(SubProof(source, from_size, 0, to_size, true, &out));
  return out;
}

absl::StatusOr<std::string> RootFromInclusionProof(
    uint64_t index, uint64_t size, std::string_view leaf_hash,
    const std::vector<std::string>& proof) {
  if (index >= size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "leaf index ", index, " is not below the tree size ", size));
  }
  if (leaf_hash.size() != kSha256Bytes) {
    return absl::InvalidArgumentError("leaf hash: not 32 bytes");
  }
  RETURN_IF_ERROR(CheckHashes(proof));
  uint64_t fn = index;
  uint64_t sn = size - 1;
  std::string r(leaf_hash);
  for (const std::string& p : proof) {
    if (sn == 0) {
      return absl::InvalidArgumentError("inclusion proof is too long");
    }
    if ((fn & 1) == 1 || fn == sn) {
      r = NodeHash(p, r);
      ShiftWhileEven(&fn, &sn);
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0)
    return absl::InvalidArgumentError("inclusion proof is too short");
  return r;
}

absl::Status VerifyInclusion(uint64_t index, uint64_t size,
                             std::string_view leaf_hash,
                             const std::vector<std::string>& proof,
                             std::string_view root) {
  ASSIGN_OR_RETURN(std::string computed,
                   RootFromInclusionProof(index, size, leaf_hash, proof));
  if (computed != root) {
    return absl::FailedPreconditionError(
        absl::StrCat("inclusion proof of leaf ", index,
                     " leads to a root other than the "
                     "tree's at size ",
                     size));
  }
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t from_size, uint64_t to_size,
                               std::string_view from_root,
                               std::string_view to_root,
                               const std::vector<std::string>& proof) {
  if (from_size > to_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("from_size ", from_size, " is beyond to_size ", to_size));
  }
  RETURN_IF_ERROR(CheckHashes(proof));
  if (from_size == 0 || from_size == to_size) {
    if (!proof.empty()) {
      return absl::InvalidArgumentError(
          "consistency proof must be empty for these sizes");
    }
    if (from_size == to_size && from_root != to_root) {
      return absl::FailedPreconditionError(absl::StrCat(
          "two different roots for the same tree size ", from_size));
    }
    return absl::OkStatus();
  }
  if (proof.empty()) {
    return absl::InvalidArgumentError("consistency proof is empty");
  }
  std::vector<std::string> path;
  if (IsPowerOfTwo(from_size)) path.emplace_back(from_root);
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = from_size - 1;
  uint64_t sn = to_size - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  std::string fr = path[0];
  std::string sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const std::string& c = path[i];
    if (sn == 0) {
      return absl::InvalidArgumentError("consistency proof is too long");
    }
    if ((fn & 1) == 1 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      ShiftWhileEven(&fn, &sn);
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return absl::InvalidArgumentError("consistency proof is too short");
  }
  if (fr != from_root) {
    return absl::FailedPreconditionError(
        absl::StrCat("consistency proof does not lead to the root at size ",
                     from_size, ": the history up to it was rewritten"));
  }
  if (sr != to_root) {
    return absl::FailedPreconditionError(absl::StrCat(
        "consistency proof does not lead to the root at size ", to_size));
  }
  return absl::OkStatus();
}

absl::StatusOr<Frontier> Frontier::Load(const NodeSource& source,
                                        uint64_t size) {
  Frontier f;
  f.size_ = size;
  for (int level = 0; level < kLevelsMax; ++level) {
    if (((size >> level) & 1) == 0) continue;
    ASSIGN_OR_RETURN(std::string h, source.Node(level, (size >> level) - 1));
    if (f.by_level_.size() <= static_cast<size_t>(level)) {
      f.by_level_.resize(level + 1);
    }
    f.by_level_[level] = std::move(h);
  }
  return f;
}

void Frontier::Append(
    std::string_view leaf_hash,
    const std::function<void(int, uint64_t, const std::string&)>& emit) {
  std::string h(leaf_hash);
  int level = 0;
  uint64_t index = size_;
  emit(level, index, h);
  // Each set low bit of the old size is a complete subtree that the new
  // leaf completes into its parent.
  while ((index & 1) == 1) {
    h = NodeHash(by_level_[level], h);
    ++level;
    index >>= 1;
    emit(level, index, h);
  }
  if (by_level_.size() <= static_cast<size_t>(level)) {
    by_level_.resize(level + 1);
  }
  by_level_[level] = std::move(h);
  ++size_;
}

std::string Frontier::Root() const {
  if (size_ == 0) return EmptyRoot();
  std::string r;
  bool have = false;
  for (int level = 0; level < kLevelsMax; ++level) {
    if (((size_ >> level) & 1) == 0) continue;
    r = have ? NodeHash(by_level_[level], r) : by_level_[level];
    have = true;
  }
  return r;
}

}  // namespace partnerledger::merkle

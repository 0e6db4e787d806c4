// The RFC 9162 tree, proofs and verification, against a naive recomputation
// written from the RFC's recursive definitions (MTH, PATH, PROOF) over the
// list of leaves.
#include "merkle/merkle.h"

#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "merkle/naive_rfc9162.h"
#include "util/sha256.h"

namespace partnerledger::merkle {
namespace {

using naive::H;
using naive::LargestPowerOfTwoBelow;
using naive::Leaves;
using naive::NaivePath;
using naive::NaiveRoot;
using naive::NaiveSubProof;

Leaves MakeLeaves(uint64_t n, uint64_t seed = 0) {
  Leaves d;
  for (uint64_t i = 0; i < n; ++i) {
    d.push_back(
        LeafHash("leaf " + std::to_string(seed) + "/" + std::to_string(i)));
  }
  return d;
}

// The nodes a Frontier emits, as a NodeSource.
class MemoryNodes final : public NodeSource {
 public:
  explicit MemoryNodes(const Leaves& d) {
    for (const std::string& leaf : d) {
      frontier_.Append(
          leaf, [this](int level, uint64_t index, const std::string& hash) {
            nodes_[{level, index}] = hash;
          });
    }
  }
  absl::StatusOr<std::string> Node(int level, uint64_t index) const override {
    ++reads_;
    auto it = nodes_.find({level, index});
    if (it == nodes_.end()) return absl::DataLossError("missing node");
    return it->second;
  }
  const Frontier& frontier() const { return frontier_; }
  size_t reads() const { return reads_; }
  void ResetReads() { reads_ = 0; }

 private:
  Frontier frontier_;
  std::map<std::pair<int, uint64_t>, std::string> nodes_;
  mutable size_t reads_ = 0;
};

constexpr uint64_t kSmallSizeMax = 65;

TEST(MerkleTree, EmptyRootIsSha256OfNothing) {
  EXPECT_EQ(ToHex(EmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  MemoryNodes none(Leaves{});
  EXPECT_EQ(*RootAt(none, 0), EmptyRoot());
  EXPECT_EQ(none.frontier().Root(), EmptyRoot());
}

TEST(MerkleTree, LeafAndNodeHashesArePrefixedAsRfc9162Says) {
  EXPECT_EQ(LeafHash("abc"), H(std::string("\0abc", 4)));
  const std::string l = LeafHash("l");
  const std::string r = LeafHash("r");
  EXPECT_EQ(NodeHash(l, r), H("\1" + l + r));
}

TEST(MerkleTree, RootAtEverySmallSizeEqualsNaiveRoot) {
  const Leaves all = MakeLeaves(kSmallSizeMax);
  MemoryNodes nodes(all);
  for (uint64_t n = 0; n <= kSmallSizeMax; ++n) {
    EXPECT_EQ(*RootAt(nodes, n), NaiveRoot(all, 0, n)) << "size " << n;
    MemoryNodes prefix(Leaves(all.begin(), all.begin() + n));
    EXPECT_EQ(prefix.frontier().Root(), NaiveRoot(all, 0, n)) << "size " << n;
  }
}

TEST(MerkleTree, InclusionProofOfEveryLeafOfSmallTreesMatchesNaiveAndVerifies) {
  const Leaves all = MakeLeaves(kSmallSizeMax);
  MemoryNodes nodes(all);
  uint64_t checked = 0;
  for (uint64_t n = 1; n <= kSmallSizeMax; ++n) {
    const std::string root = NaiveRoot(all, 0, n);
    for (uint64_t m = 0; m < n; ++m) {
      absl::StatusOr<std::vector<std::string>> proof =
          InclusionProof(nodes, m, n);
      ASSERT_TRUE(proof.ok()) << proof.status();
      ASSERT_EQ(*proof, NaivePath(all, m, 0, n))
          << "leaf " << m << " size " << n;
      ASSERT_TRUE(VerifyInclusion(m, n, all[m], *proof, root).ok())
          << "leaf " << m << " size " << n;
      ++checked;
    }
  }
  EXPECT_EQ(checked, kSmallSizeMax * (kSmallSizeMax + 1) / 2);
}

TEST(MerkleTree,
     ConsistencyProofOfEveryPairOfSmallSizesMatchesNaiveAndVerifies) {
  const Leaves all = MakeLeaves(kSmallSizeMax);
  MemoryNodes nodes(all);
  uint64_t checked = 0;
  for (uint64_t n = 0; n <= kSmallSizeMax; ++n) {
    for (uint64_t m = 0; m <= n; ++m) {
      absl::StatusOr<std::vector<std::string>> proof =
          ConsistencyProof(nodes, m, n);
      ASSERT_TRUE(proof.ok()) << proof.status();
      const std::vector<std::string> naive =
          (m == 0 || m == n) ? std::vector<std::string>{}
                             : NaiveSubProof(all, m, 0, n, true);
      ASSERT_EQ(*proof, naive) << m << " -> " << n;
      ASSERT_TRUE(VerifyConsistency(m, n, NaiveRoot(all, 0, m),
                                    NaiveRoot(all, 0, n), *proof)
                      .ok())
          << m << " -> " << n;
      ++checked;
    }
  }
  EXPECT_EQ(checked, (kSmallSizeMax + 1) * (kSmallSizeMax + 2) / 2);
}

TEST(MerkleTree, ProofsReadLogarithmicallyManyNodes) {
  const Leaves all = MakeLeaves(1000);
  MemoryNodes nodes(all);
  for (uint64_t m : {0, 1, 511, 512, 998, 999}) {
    nodes.ResetReads();
    ASSERT_TRUE(InclusionProof(nodes, m, 1000).ok());
    EXPECT_LE(nodes.reads(), 2u * 10) << m;
  }
  nodes.ResetReads();
  ASSERT_TRUE(ConsistencyProof(nodes, 333, 999).ok());
  EXPECT_LE(nodes.reads(), 2u * 10);
}

TEST(MerkleTree, TamperedInclusionProofsAreRejected) {
  const Leaves all = MakeLeaves(21);
  MemoryNodes nodes(all);
  const std::string root = NaiveRoot(all, 0, 21);
  for (uint64_t m = 0; m < 21; ++m) {
    std::vector<std::string> proof = *InclusionProof(nodes, m, 21);
    // Another leaf at this index.
    EXPECT_EQ(VerifyInclusion(m, 21, LeafHash("forged"), proof, root).code(),
              absl::StatusCode::kFailedPrecondition);
    // The right leaf claimed at another index.
    EXPECT_FALSE(VerifyInclusion((m + 1) % 21, 21, all[m], proof, root).ok());
    // A changed path hash.
    for (size_t i = 0; i < proof.size(); ++i) {
      std::vector<std::string> bad = proof;
      bad[i][0] ^= 1;
      EXPECT_EQ(VerifyInclusion(m, 21, all[m], bad, root).code(),
                absl::StatusCode::kFailedPrecondition);
    }
    // Too short, too long, a root of another size.
    std::vector<std::string> shorter(proof.begin(), proof.end() - 1);
    EXPECT_EQ(VerifyInclusion(m, 21, all[m], shorter, root).code(),
              absl::StatusCode::kInvalidArgument);
    std::vector<std::string> longer = proof;
    longer.push_back(all[0]);
    EXPECT_EQ(VerifyInclusion(m, 21, all[m], longer, root).code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_FALSE(
        VerifyInclusion(m, 21, all[m], proof, NaiveRoot(all, 0, 20)).ok());
  }
  EXPECT_EQ(VerifyInclusion(21, 21, all[0], {}, root).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MerkleTree, ConsistencyAcrossARewrittenHistoryIsRejected) {
  const Leaves honest = MakeLeaves(40);
  Leaves rewritten = honest;
  rewritten[6] = LeafHash("rewritten");
  MemoryNodes forged(rewritten);
  for (uint64_t m = 1; m < 40; ++m) {
    const std::string old_root = NaiveRoot(honest, 0, m);
    for (uint64_t n = m + 1; n <= 40; ++n) {
      // The log, rewritten at leaf 6, proves itself from m to n.
      const std::vector<std::string> proof = *ConsistencyProof(forged, m, n);
      const absl::Status s =
          VerifyConsistency(m, n, old_root, NaiveRoot(rewritten, 0, n), proof);
      if (m <= 6) {
        // The old tree did not contain leaf 6: nothing was rewritten.
        EXPECT_TRUE(s.ok()) << m << " -> " << n << ": " << s;
      } else {
        EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition)
            << m << " -> " << n;
      }
    }
  }
  // Equal sizes, different roots; a non-empty proof where none is due.
  EXPECT_EQ(VerifyConsistency(9, 9, NaiveRoot(honest, 0, 9),
                              NaiveRoot(rewritten, 0, 9), {})
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      VerifyConsistency(0, 9, EmptyRoot(), NaiveRoot(honest, 0, 9), {honest[0]})
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(9, 8, NaiveRoot(honest, 0, 9),
                              NaiveRoot(honest, 0, 8), {})
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MerkleTree, ChangedConsistencyProofHashesAreRejected) {
  const Leaves all = MakeLeaves(33);
  MemoryNodes nodes(all);
  for (uint64_t m = 1; m < 33; ++m) {
    const std::vector<std::string> proof = *ConsistencyProof(nodes, m, 33);
    for (size_t i = 0; i < proof.size(); ++i) {
      std::vector<std::string> bad = proof;
      bad[i][5] ^= 0x40;
      EXPECT_FALSE(VerifyConsistency(m, 33, NaiveRoot(all, 0, m),
                                     NaiveRoot(all, 0, 33), bad)
                       .ok())
          << m << " element " << i;
    }
  }
}

TEST(MerkleTree, FrontierLoadedAtAnySizeContinuesToTheSameRoot) {
  const Leaves all = MakeLeaves(50);
  MemoryNodes nodes(all);
  for (uint64_t n = 0; n <= 50; ++n) {
    absl::StatusOr<Frontier> f = Frontier::Load(nodes, n);
    ASSERT_TRUE(f.ok()) << f.status();
    EXPECT_EQ(f->Root(), NaiveRoot(all, 0, n));
    for (uint64_t i = n; i < 50; ++i) {
      f->Append(all[i], [](int, uint64_t, const std::string&) {});
    }
    EXPECT_EQ(f->Root(), NaiveRoot(all, 0, 50)) << "loaded at " << n;
  }
}

}  // namespace
}  // namespace partnerledger::merkle

// The stored Merkle tree: written with the events, completed from the log
// when behind, checked by VerifyChain; proofs read from storage match a
// naive recomputation at 100k events.
#include "store/merkle_tree.h"

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "merkle/naive_rfc9162.h"
#include "partnerledger/limits.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "store/keys.h"
#include "store/record_codec.h"
#include "store/store.h"
#include "store/verify.h"
#include "test_support.h"
#include "util/sha256.h"

namespace partnerledger::store {
namespace {

using partnerledger::testing::TempDir;

using merkle::naive::H;
using merkle::naive::NaivePath;
using merkle::naive::NaiveRoot;

StoredEvent MakeRecord(uint64_t p, const std::string& prev) {
  StoredEvent e;
  e.set_position(p);
  e.set_stream("deal-" + std::to_string((p - 1) % 7));
  e.set_revision((p - 1) / 7);
  std::string id(16, '\0');
  for (int i = 0; i < 8; ++i) id[8 + i] = static_cast<char>(p >> (56 - 8 * i));
  e.set_event_id(id);
  e.set_type("DealClosed");
  e.set_occurred_at_us(static_cast<int64_t>(p) * 10);
  e.set_recorded_at_us(static_cast<int64_t>(p) * 20);
  e.set_actor("tester");
  e.set_payload("payload " + std::to_string(p));
  e.set_schema_version(1);
  e.set_prev_hash(prev);
  e.set_hash(ComputeHash(e));
  return e;
}

class MerkleStoreTest : public ::testing::Test {
 protected:
  void Open() {
    StoreOptions o;
    o.dir = dir_.path();
    o.sync = false;
    absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }

  // Appends `n` events in batches of `group` through a TreeWriter (as the
  // ledger's committer does); with_tree=false writes the log alone.
  void Append(uint64_t n, uint64_t group, bool with_tree) {
    absl::StatusOr<Head> head = store_->ReadHead();
    ASSERT_TRUE(head.ok());
    std::unique_ptr<TreeWriter> tree;
    if (with_tree) {
      absl::StatusOr<std::unique_ptr<TreeWriter>> t =
          TreeWriter::Open(store_.get(), head->position());
      ASSERT_TRUE(t.ok()) << t.status();
      tree = std::move(*t);
    }
    std::string prev = head->hash();
    uint64_t p = head->position();
    while (p < head->position() + n) {
      std::vector<StoredEvent> records;
      Batch b = store_->NewBatch();
      for (uint64_t i = 0; i < group && p < head->position() + n; ++i) {
        records.push_back(MakeRecord(++p, prev));
        prev = records.back().hash();
        const StoredEvent& e = records.back();
        ASSERT_TRUE(b.PutEvent(e).ok());
        // The indexes verification checks along with the chain and tree.
        b.PutStreamIndex(e.stream(), e.revision(), e.position());
        b.PutStreamHead(e.stream(), e.revision());
        b.PutEventId(e.event_id(),
                     EventIdEntry{e.position(), std::string(32, 'd')});
        leaves_.push_back(RecordLeafHash(e));
      }
      if (tree != nullptr) tree->Stage(records, &b);
      Head h;
      h.set_position(p);
      h.set_hash(prev);
      b.PutHead(h);
      ASSERT_TRUE(store_->Commit(&b).ok());
      if (tree != nullptr) tree->Adopt();
    }
  }

  void RawPutMerkle(const std::string& key, const std::string& value,
                    bool erase = false) {
    store_.reset();
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const char* name : {"default", "events", "streams", "event_ids",
                             "meta", "state", "state_hist", "merkle"}) {
      families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir_.path(), families,
                                  &handles, &raw)
                    .ok());
    if (erase) {
      ASSERT_TRUE(raw->Delete(rocksdb::WriteOptions(), handles[7], key).ok());
    } else {
      ASSERT_TRUE(
          raw->Put(rocksdb::WriteOptions(), handles[7], key, value).ok());
    }
    for (rocksdb::ColumnFamilyHandle* h : handles) {
      raw->DestroyColumnFamilyHandle(h);
    }
    ASSERT_TRUE(raw->Close().ok());
    delete raw;
    Open();
  }

  ChainCheck Verify(uint64_t from = 0) {
    absl::StatusOr<ChainCheck> c = VerifyChain(*store_, from, 0, std::nullopt);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : ChainCheck{false, 0, 999, "error", 0};
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::vector<std::string> leaves_;
};

TEST_F(MerkleStoreTest, ProofsAtRandomPositionsOfA100kTreeMatchNaive) {
  Open();
  constexpr uint64_t kEvents = 100'000;
  Append(kEvents, 997, /*with_tree=*/true);
  ASSERT_EQ(*store_->ReadMerkleTreeSize(), kEvents);
  StoreNodeSource source(store_.get());
  const std::string root = NaiveRoot(leaves_, 0, kEvents);
  ASSERT_EQ(*merkle::RootAt(source, kEvents), root);
  std::mt19937_64 rng(20261129);
  std::vector<uint64_t> indexes = {0, 1, kEvents / 2, kEvents - 2, kEvents - 1};
  for (int i = 0; i < 24; ++i) indexes.push_back(rng() % kEvents);
  for (uint64_t m : indexes) {
    absl::StatusOr<std::vector<std::string>> proof =
        merkle::InclusionProof(source, m, kEvents);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(*proof, NaivePath(leaves_, m, 0, kEvents)) << m;
    EXPECT_TRUE(
        merkle::VerifyInclusion(m, kEvents, leaves_[m], *proof, root).ok())
        << m;
  }
  // Past sizes: roots and consistency to the head.
  for (int i = 0; i < 6; ++i) {
    const uint64_t size = 1 + rng() % kEvents;
    const std::string old_root = NaiveRoot(leaves_, 0, size);
    ASSERT_EQ(*merkle::RootAt(source, size), old_root) << size;
    absl::StatusOr<std::vector<std::string>> proof =
        merkle::ConsistencyProof(source, size, kEvents);
    ASSERT_TRUE(proof.ok());
    EXPECT_TRUE(
        merkle::VerifyConsistency(size, kEvents, old_root, root, *proof).ok())
        << size;
    const uint64_t m = rng() % size;
    EXPECT_TRUE(merkle::VerifyInclusion(
                    m, size, leaves_[m],
                    *merkle::InclusionProof(source, m, size), old_root)
                    .ok());
  }
}

TEST(HashRecord, GivesTheChainHashAndTheLeafHashOfTheRecord) {
  StoredEvent e = MakeRecord(7, std::string(32, 'p'));
  const std::string chain = e.hash();
  e.clear_hash();
  std::string leaves = "x";
  HashRecord(&e, &leaves);
  EXPECT_EQ(e.hash(), chain);
  EXPECT_EQ(e.hash(), ComputeHash(e));
  // Appended after what the caller holds: 1 + 32 bytes.
  EXPECT_EQ(leaves, absl::StrCat("x", RecordLeafHash(e)));
  EXPECT_EQ(RecordLeafHash(e),
            H(absl::StrCat(std::string(1, '\0'), CanonicalBytes(e))));
  // Without the tree only the chain hash is set.
  e.clear_hash();
  HashRecord(&e, nullptr);
  EXPECT_EQ(e.hash(), chain);
}

// The ledger's writer hashes the leaves as it decides the records; staged
// from those, a group writes exactly what staging from the records writes.
TEST_F(MerkleStoreTest, LeavesHashedBeforehandStageTheSameBatch) {
  Open();
  Append(37, 37, /*with_tree=*/true);  // a tree whose edge has several levels
  std::vector<StoredEvent> records;
  std::string leaves;
  std::string prev = store_->ReadHead()->hash();
  for (uint64_t p = 38; p < 38 + 300; ++p) {
    StoredEvent e = MakeRecord(p, prev);
    e.clear_hash();
    HashRecord(&e, &leaves);
    prev = e.hash();
    records.push_back(std::move(e));
  }
  std::unique_ptr<TreeWriter> from_records =
      *TreeWriter::Open(store_.get(), 37);
  std::unique_ptr<TreeWriter> from_leaves = *TreeWriter::Open(store_.get(), 37);
  Batch a = store_->NewBatch();
  Batch b = store_->NewBatch();
  from_records->Stage(records, &a);
  from_leaves->Stage(records, leaves, &b);
  EXPECT_EQ(a.Data(), b.Data());
  ASSERT_GT(b.Data().size(), 300u * 32u);
  for (const StoredEvent& e : records) ASSERT_TRUE(b.PutEvent(e).ok());
  ASSERT_TRUE(store_->Commit(&b).ok());
  from_leaves->Adopt();
  for (const StoredEvent& e : records) leaves_.push_back(RecordLeafHash(e));
  EXPECT_EQ(from_leaves->size(), 337u);
  EXPECT_EQ(*merkle::RootAt(StoreNodeSource(store_.get()), 337),
            NaiveRoot(leaves_, 0, 337));
}

// The nodes a group completes go into its batch in key order (level, then
// index), so each memtable insert lands next to the one before.
TEST_F(MerkleStoreTest, AGroupsNodesArePutInKeyOrder) {
  Open();
  Append(5, 5, /*with_tree=*/true);
  std::vector<StoredEvent> records;
  std::string prev = store_->ReadHead()->hash();
  for (uint64_t p = 6; p < 6 + 100; ++p) {
    records.push_back(MakeRecord(p, prev));
    prev = records.back().hash();
  }
  std::unique_ptr<TreeWriter> tree = *TreeWriter::Open(store_.get(), 5);
  Batch b = store_->NewBatch();
  tree->Stage(records, &b);

  struct Puts : rocksdb::WriteBatch::Handler {
    rocksdb::Status PutCF(uint32_t, const rocksdb::Slice& key,
                          const rocksdb::Slice&) override {
      keys.push_back(key.ToString());
      return rocksdb::Status::OK();
    }
    std::vector<std::string> keys;
  } puts;
  rocksdb::WriteBatch copy(b.Data());
  ASSERT_TRUE(copy.Iterate(&puts).ok());
  // Every complete subtree of two or more leaves that the leaves 6..105
  // complete: 105 - popcount(105) in all, less the 5 - popcount(5) before.
  ASSERT_EQ(puts.keys.size(), (105u - 4u) - (5u - 2u) + 1u);
  EXPECT_EQ(puts.keys.back(), "size");
  puts.keys.pop_back();
  EXPECT_TRUE(std::is_sorted(puts.keys.begin(), puts.keys.end()));
  EXPECT_EQ(puts.keys.front(), MerkleNodeKey(1, 2));  // leaves 4 and 5
  EXPECT_EQ(puts.keys.back(), MerkleNodeKey(6, 0));   // leaves 0..63
}

TEST_F(MerkleStoreTest, TreeBehindTheLogIsCompletedFromItWithTheSameNodes) {
  Open();
  Append(300, 17, /*with_tree=*/true);
  Append(1234, 50, /*with_tree=*/false);  // written with the tree off
  EXPECT_EQ(*store_->ReadMerkleTreeSize(), 300u);
  EXPECT_FALSE(Verify().ok);  // the tree does not cover the log
  absl::StatusOr<std::unique_ptr<TreeWriter>> w =
      TreeWriter::Open(store_.get(), 1534);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ((*w)->size(), 1534u);
  EXPECT_EQ(*store_->ReadMerkleTreeSize(), 1534u);
  EXPECT_EQ(*merkle::RootAt(StoreNodeSource(store_.get()), 1534),
            NaiveRoot(leaves_, 0, 1534));
  ChainCheck c = Verify();
  EXPECT_TRUE(c.ok) << c.message;
}

TEST_F(MerkleStoreTest, VerifyChainRecomputesTheTree) {
  Open();
  Append(100, 9, /*with_tree=*/true);
  ChainCheck c = Verify();
  EXPECT_TRUE(c.ok) << c.message;
  EXPECT_EQ(c.events_checked, 100u);
  c = Verify(/*from=*/40);
  EXPECT_TRUE(c.ok) << c.message;
}

TEST_F(MerkleStoreTest, LeavesAreTheRecordsNotStoredNodes) {
  Open();
  Append(100, 9, /*with_tree=*/true);
  EXPECT_EQ(*store_->ReadMerkleNode(0, 41), std::nullopt);
  EXPECT_TRUE(store_->ReadMerkleNode(1, 20)->has_value());
  EXPECT_EQ(*StoreNodeSource(store_.get()).Node(0, 41), leaves_[41]);
  // A stored node at level 0 (none should exist) is never read.
  RawPutMerkle(MerkleNodeKey(0, 41), H("forged leaf"));
  EXPECT_EQ(*StoreNodeSource(store_.get()).Node(0, 41), leaves_[41]);
  EXPECT_EQ(StoreNodeSource(store_.get()).Node(0, 100).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(MerkleStoreTest, ChangedInnerNodeIsFoundWhereItIsCompleted) {
  Open();
  Append(100, 9, /*with_tree=*/true);
  // (3, 5) covers leaves 40..47: completed by position 48.
  RawPutMerkle(MerkleNodeKey(3, 5), H("forged node"));
  ChainCheck c = Verify();
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.first_bad_position, 48u);
  EXPECT_NE(c.message.find("(3, 5) differs"), std::string::npos) << c.message;
}

TEST_F(MerkleStoreTest, MissingNodeAndWrongSizeAreFound) {
  Open();
  Append(20, 3, /*with_tree=*/true);
  RawPutMerkle(MerkleNodeKey(1, 3), "", /*erase=*/true);
  ChainCheck c = Verify();
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.first_bad_position, 8u);
  EXPECT_NE(c.message.find("missing"), std::string::npos) << c.message;
  EXPECT_EQ(TreeWriter::Open(store_.get(), 20).status().code(),
            absl::StatusCode::kOk);  // (1, 3) is not on the edge at 20
  RawPutMerkle("size", EventKey(25));
  EXPECT_EQ(TreeWriter::Open(store_.get(), 20).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(MerkleStoreTest, LogWithoutATreeVerifiesOnItsChain) {
  Open();
  Append(10, 3, /*with_tree=*/false);
  ChainCheck c = Verify();
  EXPECT_TRUE(c.ok) << c.message;
  EXPECT_EQ(*store_->ReadMerkleTreeSize(), 0u);
}

TEST_F(MerkleStoreTest, LogNodeSourceComputesWhatATreeBehindTheLogLacks) {
  Open();
  Append(300, 17, /*with_tree=*/true);
  Append(1234, 50, /*with_tree=*/false);  // written with the tree off
  ASSERT_EQ(*store_->ReadMerkleTreeSize(), 300u);
  const StoreNodeSource stored(store_.get());
  EXPECT_EQ(merkle::RootAt(stored, 1534).status().code(),
            absl::StatusCode::kDataLoss);
  const LogNodeSource computed(store_.get());
  for (uint64_t size : {1u, 300u, 301u, 1024u, 1534u}) {
    EXPECT_EQ(*merkle::RootAt(computed, size), NaiveRoot(leaves_, 0, size))
        << size;
  }
  for (uint64_t m : {0u, 299u, 300u, 1533u}) {
    EXPECT_EQ(*merkle::InclusionProof(computed, m, 1534),
              NaivePath(leaves_, m, 0, 1534))
        << m;
  }
  EXPECT_EQ(*store_->ReadMerkleTreeSize(), 300u);  // nothing written
}

// Proofs read through the cache, from it and from the store, equal the
// naive recomputation.
TEST_F(MerkleStoreTest, ProofsThroughTheNodeCacheMatchNaive) {
  Open();
  constexpr uint64_t kEvents = 5000;
  Append(kEvents, 97, /*with_tree=*/true);
  const StoreNodeSource stored(store_.get());
  NodeCache cache;
  const CachedNodeSource cached(&stored, &cache);
  const std::string root = NaiveRoot(leaves_, 0, kEvents);
  for (int round = 0; round < 2; ++round) {
    ASSERT_EQ(*merkle::RootAt(cached, kEvents), root);
    for (uint64_t m : {0u, 63u, 64u, 2500u, 4999u}) {
      EXPECT_EQ(*merkle::InclusionProof(cached, m, kEvents),
                NaivePath(leaves_, m, 0, kEvents))
          << m;
    }
    const uint64_t size = 4097;
    EXPECT_TRUE(merkle::VerifyConsistency(
                    size, kEvents, NaiveRoot(leaves_, 0, size), root,
                    *merkle::ConsistencyProof(cached, size, kEvents))
                    .ok());
  }
  EXPECT_GT(cache.size(), 0u);
}

// A node source that counts the reads it answers and fails on request.
class CountingSource final : public merkle::NodeSource {
 public:
  absl::StatusOr<std::string> Node(int level, uint64_t index) const override {
    ++reads;
    if (fail) return absl::UnavailableError("read failed");
    return merkle::NodeHash(std::to_string(level), std::to_string(index));
  }
  mutable int reads = 0;
  bool fail = false;
};

TEST(CachedNodeSource, AnswersTheInnerHashesAndReadsUpperLevelsOnce) {
  CountingSource inner;
  NodeCache cache;
  const CachedNodeSource cached(&inner, &cache);
  const int upper = limits::kMerkleCachedLevelMin;
  for (int round = 0; round < 2; ++round) {
    for (int level : {0, upper - 1, upper, upper + 7}) {
      absl::StatusOr<std::string> h = cached.Node(level, 5);
      ASSERT_TRUE(h.ok()) << h.status();
      EXPECT_EQ(*h, merkle::NodeHash(std::to_string(level), "5"));
    }
  }
  // Below the cached levels every read goes through; above, only the first.
  EXPECT_EQ(inner.reads, 2 * 2 + 2);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(CachedNodeSource, ErrorsAreNotCached) {
  CountingSource inner;
  NodeCache cache;
  const CachedNodeSource cached(&inner, &cache);
  inner.fail = true;
  EXPECT_EQ(cached.Node(limits::kMerkleCachedLevelMin, 1).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(cache.size(), 0u);
  inner.fail = false;
  EXPECT_TRUE(cached.Node(limits::kMerkleCachedLevelMin, 1).ok());
  EXPECT_EQ(inner.reads, 2);
}

TEST(NodeCache, StaysWithinItsEntryLimit) {
  NodeCache cache;
  const std::string h(kSha256Bytes, 'x');
  for (uint64_t i = 0; i <= limits::kMerkleNodeCacheEntriesMax; ++i) {
    cache.Put(limits::kMerkleCachedLevelMin, i, h);
  }
  EXPECT_LE(cache.size(), limits::kMerkleNodeCacheEntriesMax);
  // The last one put is there.
  EXPECT_EQ(cache.Get(limits::kMerkleCachedLevelMin,
                      limits::kMerkleNodeCacheEntriesMax),
            h);
}

}  // namespace
}  // namespace partnerledger::store

// The log's RFC 9162 Merkle tree (merkle/merkle.h) in the `merkle` column
// family: the hash of every complete subtree of two or more leaves, keyed
// (level >= 1, index), plus the number of leaves covered. Level 0 is not
// stored: a leaf's hash is computed from its record when a proof needs it
// (one event read). The ledger's committer
// adds a group's nodes to the WriteBatch that writes the group's events, so
// the stored tree always covers exactly the durable log (tree size = head
// position), and a proof for any past size reads O(log n) nodes.
#ifndef PARTNERLEDGER_STORE_MERKLE_TREE_H_
#define PARTNERLEDGER_STORE_MERKLE_TREE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "merkle/merkle.h"
#include "rocksdb/iterator.h"
#include "store/store.h"

namespace partnerledger::store {

// The leaf hash of a record: SHA-256(0x00 || CanonicalBytes(e)).
std::string RecordLeafHash(const StoredEvent& e);

// Sets e's chain hash (ComputeHash) and, unless `leaves` is null, appends
// its leaf hash (RecordLeafHash, 32 bytes) to `leaves`, encoding the
// canonical bytes once for both. The ledger's writer thread hashes each
// record it decides this way, so that the committer, which writes groups
// one after the other, only folds leaves into the tree.
// REQUIRES: every field but the hash is set.
void HashRecord(StoredEvent* e, std::string* leaves);

// Complete subtrees read from the store (level 0 from the records). A
// missing node is DATA_LOSS.
// Thread-safe (reads only); the store must outlive it.
class StoreNodeSource final : public merkle::NodeSource {
 public:
  explicit StoreNodeSource(const Store* store) : store_(store) {}
  absl::StatusOr<std::string> Node(int level, uint64_t index) const override;

 private:
  const Store* const store_;
};

// Stored Merkle nodes kept in memory (limits::kMerkleNodeCacheEntriesMax
// entries of levels >= limits::kMerkleCachedLevelMin). A stored node is a
// complete subtree, written once with its events and never changed, so an
// entry never goes stale. Thread-safe.
class NodeCache {
 public:
  std::optional<std::string> Get(int level, uint64_t index) const;
  void Put(int level, uint64_t index, const std::string& hash);
  size_t size() const;

 private:
  static uint64_t Key(int level, uint64_t index) {
    return (static_cast<uint64_t>(level) << 58) | index;
  }

  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, std::array<char, 32>> nodes_
      ABSL_GUARDED_BY(mu_);
};

// A NodeSource that answers the cached levels from `cache`, filling it
// from `inner`. Both must outlive it.
class CachedNodeSource final : public merkle::NodeSource {
 public:
  CachedNodeSource(const merkle::NodeSource* inner, NodeCache* cache)
      : inner_(inner), cache_(cache) {}
  absl::StatusOr<std::string> Node(int level, uint64_t index) const override;

 private:
  const merkle::NodeSource* const inner_;
  NodeCache* const cache_;
};

// Like StoreNodeSource, but a node the stored tree lacks is computed from
// its two children, down to the records. For offline tools reading a data
// directory whose tree is behind its log (written before the tree existed,
// or with it switched off), which they must not write to: a node above the
// stored tree costs reading every record under it, up to the whole log.
// Thread-safe (reads only); the store must outlive it.
class LogNodeSource final : public merkle::NodeSource {
 public:
  explicit LogNodeSource(const Store* store) : store_(store), stored_(store) {}
  absl::StatusOr<std::string> Node(int level, uint64_t index) const override;

 private:
  const Store* const store_;
  const StoreNodeSource stored_;
};

// Keeps the stored tree in step with the log. Used by one thread (the
// ledger's committer). The store must outlive it.
class TreeWriter {
 public:
  // Loads the tree's right edge. A tree behind the head (a log written
  // before the tree existed, or with the tree switched off) is first
  // completed from the log, in synced batches. DATA_LOSS if the stored tree
  // is larger than the log or a node is missing.
  static absl::StatusOr<std::unique_ptr<TreeWriter>> Open(Store* store,
                                                          uint64_t head);

  // Adds the nodes the records complete, and the new tree size, to `batch`.
  // REQUIRES: records are the next positions after the tree's size, in
  // order.
  void Stage(const std::vector<StoredEvent>& records, Batch* batch);
  // The same with the records' leaf hashes computed beforehand
  // (HashRecord): 32 bytes per record, in the records' order.
  // REQUIRES: as above, and leaves.size() == 32 * records.size().
  void Stage(const std::vector<StoredEvent>& records, std::string_view leaves,
             Batch* batch);
  // The staged batch was committed (Adopt) or was not (Discard).
  void Adopt();
  void Discard();

  uint64_t size() const { return committed_.size(); }

 private:
  explicit TreeWriter(merkle::Frontier f) : committed_(std::move(f)) {}
  merkle::Frontier committed_;
  std::optional<merkle::Frontier> staged_;
};

// Recomputes the tree from records visited in log order and compares every
// node the stored tree should hold. Not thread-safe; the store must outlive
// it.
class TreeCheck {
 public:
  // Checking starts after `size` leaves; for size > 0 the tree's edge there
  // is read from storage (trusted, as a range check of the chain trusts the
  // hash before its range).
  static absl::StatusOr<TreeCheck> Start(const Store* store, uint64_t size);
  // Whether the store holds a tree at all (a log written before the tree
  // existed holds none: then the root is still recomputed, nothing is
  // compared).
  bool present() const { return present_; }
  // Checks the next record's leaf and the subtrees it completes. A
  // description of the first difference, or nullopt.
  std::optional<std::string> Add(const StoredEvent& e);
  // After the last record of the log: the stored size must be the head.
  std::optional<std::string> Finish(uint64_t head_position) const;
  // The recomputed root of the leaves visited so far.
  std::string Root() const { return frontier_.Root(); }

 private:
  TreeCheck(const Store* store, merkle::Frontier f, uint64_t stored_size,
            bool present)
      : store_(store),
        frontier_(std::move(f)),
        stored_size_(stored_size),
        present_(present) {}
  std::optional<std::string> Compare(int level, uint64_t index,
                                     const std::string& hash);

  const Store* store_;
  merkle::Frontier frontier_;
  uint64_t stored_size_;
  bool present_;
  // One iterator per level, walking that level's nodes in index order.
  std::vector<std::shared_ptr<rocksdb::Iterator>> levels_;
};

}  // namespace partnerledger::store

#endif  // PARTNERLEDGER_STORE_MERKLE_TREE_H_

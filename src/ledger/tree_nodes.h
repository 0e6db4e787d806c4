// The nodes of a ledger's Merkle tree, for roots and proofs above the
// ledger (the audit and query services): the stored tree's nodes, its upper
// levels kept in memory (limits::kMerkleNodeCacheEntriesMax entries of
// levels >= limits::kMerkleCachedLevelMin). A stored node is a complete
// subtree, written once with its events and never changed, so a kept node
// never goes stale.
//
// Thread-safe. The ledger must outlive it.
#ifndef PARTNERLEDGER_LEDGER_TREE_NODES_H_
#define PARTNERLEDGER_LEDGER_TREE_NODES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "merkle/merkle.h"
#include "partnerledger/ledger.h"

namespace partnerledger::store {
class Store;
}

namespace partnerledger::ledger {

class TreeNodes final : public merkle::NodeSource {
 public:
  // REQUIRES: `ledger` was made by Ledger::Open.
  explicit TreeNodes(const Ledger* ledger);
  ~TreeNodes() override;
  TreeNodes(const TreeNodes&) = delete;
  TreeNodes& operator=(const TreeNodes&) = delete;

  // DATA_LOSS when the stored tree lacks the node; read errors pass
  // through. Nodes are durable up to the ledger's head.
  absl::StatusOr<std::string> Node(int level, uint64_t index) const override;

 private:
  struct Impl;
  const std::unique_ptr<Impl> impl_;
};

// A leaf of the tree: the record at a position, as the public contract
// shows it, and the canonical bytes whose hash the tree holds.
struct Leaf {
  RecordedEvent event;
  std::string bytes;
};

// The leaf at `position` of `store` (a ledger's, StoreOf, or a data
// directory opened by an offline tool); nullopt when no record is there.
absl::StatusOr<std::optional<Leaf>> ReadLeaf(const store::Store& store,
                                             uint64_t position);

// Whether `bytes` are the canonical bytes of a record at `position` (they
// start with "PLE1" and the big-endian position): what a client checks of
// the leaf in an inclusion proof.
bool LeafIsAtPosition(const std::string& bytes, uint64_t position);

}  // namespace partnerledger::ledger

#endif  // PARTNERLEDGER_LEDGER_TREE_NODES_H_

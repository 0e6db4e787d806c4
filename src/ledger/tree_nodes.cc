#include "ledger/tree_nodes.h"

#include "ledger/ledger_internal.h"
#include "store/merkle_tree.h"

namespace partnerledger::ledger {

struct TreeNodes::Impl {
  explicit Impl(const store::Store* store)
      : stored(store), cached(&stored, &cache) {}
  const store::StoreNodeSource stored;
  store::NodeCache cache;
  const store::CachedNodeSource cached;
};

TreeNodes::TreeNodes(const Ledger* ledger)
    : impl_(std::make_unique<Impl>(&StoreOf(*ledger))) {}

TreeNodes::~TreeNodes() = default;

absl::StatusOr<std::string> TreeNodes::Node(int level, uint64_t index) const {
  return impl_->cached.Node(level, index);
}

}  // namespace partnerledger::ledger

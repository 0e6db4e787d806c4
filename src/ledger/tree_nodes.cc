#include "ledger/tree_nodes.h"

#include <string_view>
#include <utility>

#include "ledger/ledger_internal.h"
#include "store/keys.h"
#include "store/merkle_tree.h"
#include "store/record_codec.h"
#include "store/store.h"
#include "util/status_macros.h"

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

absl::StatusOr<std::optional<Leaf>> ReadLeaf(const store::Store& store,
                                             uint64_t position) {
  ASSIGN_OR_RETURN(std::optional<store::StoredEvent> e,
                   store.ReadEvent(position));
  if (!e.has_value()) return std::nullopt;
  Leaf leaf;
  leaf.bytes = store::CanonicalBytes(*e);
  leaf.event = ToRecordedEvent(std::move(*e));
  return leaf;
}

bool LeafIsAtPosition(const std::string& bytes, uint64_t position) {
  return bytes.size() > 12 && bytes.compare(0, 4, "PLE1") == 0 &&
         store::GetBigEndian64(std::string_view(bytes).substr(4, 8)) ==
             position;
}

}  // namespace partnerledger::ledger

// Projection state as the writer sees it mid-group: the committed state in
// the store, plus the changes of earlier requests of the commit group, plus
// the changes of the request being decided. Each layer is a StateOverlay
// over its parent; a request's layer merges into the group's on success and
// is dropped on failure, so a rejected request changes nothing.
//
// Not thread-safe: owned by the writer thread.
#ifndef PARTNERLEDGER_PROJECTION_STATE_OVERLAY_H_
#define PARTNERLEDGER_PROJECTION_STATE_OVERLAY_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "domain/rules.h"
#include "store/store.h"

namespace partnerledger::projection {

class StateOverlay final : public domain::StateWriter {
 public:
  // Exactly one of base / parent is non-null. Neither is owned.
  StateOverlay(const store::Store* base, StateOverlay* parent)
      : base_(base), parent_(parent) {}

  // The log position changes are recorded at (for as-of history).
  void set_position(uint64_t position) { position_ = position; }

  absl::StatusOr<std::optional<std::string>> Get(
      std::string_view key) const override;
  void Put(std::string_view key, std::string value) override;
  void Delete(std::string_view key) override;

  // Reads below this layer go to `base` from now on instead of the parent
  // (the parent's changes reached the store).
  void Detach(const store::Store* base) {
    parent_ = nullptr;
    base_ = base;
  }

  // Moves this layer's changes into the parent layer.
  // REQUIRES: parent != nullptr.
  void MergeIntoParent();
  // Adds every change, with its position, to the batch.
  void WriteTo(store::Batch* batch) const;
  void Clear();
  bool empty() const { return history_.empty(); }
  size_t changes() const { return history_.size(); }

 private:
  struct Change {
    std::string key;
    uint64_t position;
    store::StateValue value;
  };

  // Whether `key` is known to be in the store's key registry (found present
  // by a read, or put before), in this layer or below.
  bool Registered(std::string_view key) const;

  const store::Store* base_;
  StateOverlay* parent_;
  uint64_t position_ = 0;
  // Keys known to be registered already, and keys this layer registers:
  // the registry (Store::ScanState) lists every key ever written, so a scan
  // by prefix never has to step over the many versions of hot keys.
  mutable std::set<std::string, std::less<>> registered_;
  std::set<std::string, std::less<>> new_keys_;
  // Latest value per key in this layer (present=false: deleted).
  std::map<std::string, store::StateValue, std::less<>> latest_;
  // Every change in order, for the history family.
  std::vector<Change> history_;
};

}  // namespace partnerledger::projection

#endif  // PARTNERLEDGER_PROJECTION_STATE_OVERLAY_H_

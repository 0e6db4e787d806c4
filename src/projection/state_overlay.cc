#include "projection/state_overlay.h"

#include <cassert>

namespace partnerledger::projection {

absl::StatusOr<std::optional<std::string>> StateOverlay::Get(
    std::string_view key) const {
  auto it = latest_.find(key);
  if (it != latest_.end()) {
    if (!it->second.present) return std::nullopt;
    return it->second.bytes;
  }
  if (parent_ != nullptr) return parent_->Get(key);
  return base_->GetState(key);
}

void StateOverlay::Put(std::string_view key, std::string value) {
  assert(key.find('\0') == std::string_view::npos);
  store::StateValue v{true, std::move(value)};
  history_.push_back(Change{std::string(key), position_, v});
  latest_.insert_or_assign(std::string(key), std::move(v));
}

void StateOverlay::Delete(std::string_view key) {
  assert(key.find('\0') == std::string_view::npos);
  store::StateValue v{false, {}};
  history_.push_back(Change{std::string(key), position_, v});
  latest_.insert_or_assign(std::string(key), std::move(v));
}

void StateOverlay::MergeIntoParent() {
  assert(parent_ != nullptr);
  for (Change& c : history_) {
    parent_->latest_.insert_or_assign(c.key, c.value);
    parent_->history_.push_back(std::move(c));
  }
  Clear();
}

void StateOverlay::WriteTo(store::Batch* batch) const {
  // Every change goes to the history; only each key's last value is
  // current (the same result as writing them all, with fewer writes).
  for (const Change& c : history_) {
    batch->PutStateHistory(c.key, c.position, c.value);
  }
  for (const auto& [key, value] : latest_) batch->PutStateCurrent(key, value);
}

void StateOverlay::Clear() {
  latest_.clear();
  history_.clear();
}

}  // namespace partnerledger::projection

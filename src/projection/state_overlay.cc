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
  absl::StatusOr<std::optional<std::string>> v =
      parent_ != nullptr ? parent_->Get(key) : base_->GetState(key);
  if (v.ok() && v->has_value()) registered_.emplace(key);
  return v;
}

bool StateOverlay::Registered(std::string_view key) const {
  if (registered_.find(key) != registered_.end()) return true;
  return parent_ != nullptr && parent_->Registered(key);
}

void StateOverlay::Put(std::string_view key, std::string value) {
  assert(key.find('\0') == std::string_view::npos);
  if (!Registered(key)) {
    registered_.emplace(key);
    new_keys_.emplace(key);
  }
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
  parent_->registered_.merge(registered_);
  parent_->new_keys_.merge(new_keys_);
  Clear();
}

void StateOverlay::WriteTo(store::Batch* batch) const {
  // Every change goes to the history; only each key's last value is
  // current (the same result as writing them all, with fewer writes).
  for (const Change& c : history_) {
    batch->PutStateHistory(c.key, c.position, c.value);
  }
  for (const auto& [key, value] : latest_) batch->PutStateCurrent(key, value);
  for (const std::string& key : new_keys_) batch->RegisterStateKey(key);
}

void StateOverlay::Clear() {
  latest_.clear();
  history_.clear();
  registered_.clear();
  new_keys_.clear();
}

}  // namespace partnerledger::projection

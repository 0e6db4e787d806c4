// An in-memory domain::StateWriter over a sorted std::map: the state the
// pure partnership rules read and write in tests and fuzz harnesses, without
// RocksDB. No gtest dependency, so fuzzers can use it too.
#ifndef PARTNERLEDGER_TESTS_DOMAIN_MEM_STATE_H_
#define PARTNERLEDGER_TESTS_DOMAIN_MEM_STATE_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "domain/rules.h"

namespace partnerledger::domain::testing {

class MemState final : public StateWriter {
 public:
  absl::StatusOr<std::optional<std::string>> Get(
      std::string_view key) const override {
    auto it = kv_.find(key);
    if (it == kv_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  void Put(std::string_view key, std::string value) override {
    kv_[std::string(key)] = std::move(value);
  }
  void Delete(std::string_view key) override {
    auto it = kv_.find(key);
    if (it != kv_.end()) kv_.erase(it);
  }
  const std::map<std::string, std::string, std::less<>>& kv() const {
    return kv_;
  }

 private:
  std::map<std::string, std::string, std::less<>> kv_;
};

}  // namespace partnerledger::domain::testing

#endif  // PARTNERLEDGER_TESTS_DOMAIN_MEM_STATE_H_

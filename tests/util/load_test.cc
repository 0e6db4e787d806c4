#include "util/load.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "partnerledger/storage/v1/state.pb.h"

namespace partnerledger {
namespace {

using Partner = storage::v1::Partner;

// State in memory; `failure` (when not OK) is what every read returns.
struct FakeState {
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const {
    if (!failure.ok()) return failure;
    auto it = values.find(std::string(key));
    if (it == values.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  std::map<std::string, std::string> values;
  absl::Status failure;
};

TEST(Load, AbsentKeyIsNullopt) {
  FakeState state;
  absl::StatusOr<std::optional<Partner>> p = Load<Partner>(state, "partner/a");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_FALSE(p->has_value());
}

TEST(Load, StoredRecordIsParsed) {
  Partner stored;
  stored.set_legal_name("Acme B.V.");
  FakeState state;
  state.values["partner/a"] = stored.SerializeAsString();
  absl::StatusOr<std::optional<Partner>> p = Load<Partner>(state, "partner/a");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(p->has_value());
  EXPECT_EQ((*p)->legal_name(), "Acme B.V.");
}

TEST(Load, BytesThatDoNotParseAreDataLossNamingKeyAndType) {
  FakeState state;
  state.values["partner/a"] = "\xff\xff\xff";
  absl::StatusOr<std::optional<Partner>> p = Load<Partner>(state, "partner/a");
  EXPECT_EQ(p.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(p.status().message(),
            "state key 'partner/a' does not parse as "
            "partnerledger.storage.v1.Partner");
}

TEST(Load, ReadErrorPassesThrough) {
  FakeState state;
  state.failure = absl::UnavailableError("state get: disk gone");
  absl::StatusOr<std::optional<Partner>> p = Load<Partner>(state, "partner/a");
  EXPECT_EQ(p.status(), state.failure);
}

TEST(LoadOrEmpty, AbsentKeyIsTheEmptyRecord) {
  FakeState state;
  absl::StatusOr<Partner> p = LoadOrEmpty<Partner>(state, "partner/a");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->ByteSizeLong(), 0u);
}

}  // namespace
}  // namespace partnerledger

#include "store/verify.h"

#include "absl/strings/str_cat.h"

namespace partnerledger::store {
namespace {

ChainCheck Bad(ChainCheck c, uint64_t position, std::string message) {
  c.ok = false;
  c.first_bad_position = position;
  c.message = std::move(message);
  return c;
}

}  // namespace

absl::StatusOr<ChainCheck> VerifyChain(
    const Store& store, uint64_t from, uint64_t to,
    std::optional<std::pair<uint64_t, std::string>> expected,
    const std::function<void(uint64_t)>& progress) {
  absl::StatusOr<Head> head = store.ReadHead();
  if (!head.ok()) return head.status();
  if (from == 0) from = 1;
  if (from > head->position() + 1 || (to != 0 && to < from)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "from_position: ", from, " is beyond the head ", head->position(),
        " or after to_position"));
  }
  const bool to_head = to == 0 || to >= head->position();
  if (to_head) to = head->position();
  ChainCheck c;
  c.verified_through = from - 1;
  if (expected.has_value() && expected->first > head->position()) {
    return Bad(c, head->position() + 1,
               absl::StrCat("saved digest is at position ", expected->first,
                            " but the log ends at ", head->position(),
                            ": events were removed"));
  }
  // A saved digest outside the range is checked on its own record.
  if (expected.has_value() && expected->first > 0 &&
      (expected->first < from || expected->first > to)) {
    absl::StatusOr<std::optional<StoredEvent>> at = store.ReadEvent(expected->first);
    if (!at.ok()) {
      return Bad(c, expected->first, std::string(at.status().message()));
    }
    if (!at->has_value()) return Bad(c, expected->first, "event missing");
    if ((*at)->hash() != expected->second) {
      return Bad(c, expected->first,
                 "hash differs from the saved digest: the log no longer "
                 "extends it");
    }
  }
  // The hash the first checked event must link to.
  std::string prev = GenesisHash();
  if (from > 1) {
    absl::StatusOr<std::optional<StoredEvent>> before = store.ReadEvent(from - 1);
    if (!before.ok()) return Bad(c, from - 1, std::string(before.status().message()));
    if (!before->has_value()) return Bad(c, from - 1, "event missing");
    prev = (*before)->hash();
  }
  uint64_t expect_pos = from;
  ChainCheck result = c;
  bool stopped = false;
  absl::Status scan = store.ScanFamily(
      Store::Family::kEvents, [&](std::string_view key, std::string_view value) {
        std::optional<uint64_t> pos = DecodeEventKey(key);
        if (!pos.has_value()) {
          result = Bad(result, expect_pos, "malformed event key");
          stopped = true;
          return false;
        }
        if (*pos < from) return true;
        if (*pos > to) return false;
        if (*pos != expect_pos) {
          result = Bad(result, expect_pos,
                       absl::StrCat("event missing (next stored is ", *pos, ")"));
          stopped = true;
          return false;
        }
        absl::StatusOr<StoredEvent> e = DecodeRecord(value);
        if (!e.ok()) {
          result = Bad(result, *pos, std::string(e.status().message()));
          stopped = true;
          return false;
        }
        if (e->position() != *pos) {
          result = Bad(result, *pos, absl::StrCat("record claims position ",
                                                  e->position()));
          stopped = true;
          return false;
        }
        if (e->prev_hash() != prev) {
          result = Bad(result, *pos,
                       "prev_hash does not match the previous event's hash "
                       "(an event was changed, removed or reordered)");
          stopped = true;
          return false;
        }
        if (expected.has_value() && expected->first == *pos &&
            expected->second != e->hash()) {
          result = Bad(result, *pos,
                       "hash differs from the saved digest: the log no "
                       "longer extends it");
          stopped = true;
          return false;
        }
        prev = e->hash();
        result.verified_through = *pos;
        ++result.events_checked;
        ++expect_pos;
        if (progress && result.events_checked % 65536 == 0) progress(*pos);
        return true;
      },
      EventKey(from));
  if (!scan.ok()) return scan;
  if (stopped) return result;
  if (expect_pos <= to) {
    return Bad(result, expect_pos, "event missing at the end of the range");
  }
  if (expected.has_value() && expected->first == 0 &&
      expected->second != GenesisHash()) {
    return Bad(result, 0, "saved digest at position 0 is not the genesis hash");
  }
  if (to_head && head->position() > 0 && head->hash() != prev) {
    return Bad(result, head->position(),
               "head record does not match the last event");
  }
  return result;
}

}  // namespace partnerledger::store

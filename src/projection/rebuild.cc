#include "projection/rebuild.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "domain/upcast.h"
#include "projection/state_overlay.h"
#include "store/merkle_tree.h"
#include "util/sha256.h"
#include "util/uuid.h"

namespace partnerledger::projection {
namespace {

// Changes buffered before they are written to the scratch store: large
// enough to amortize a write, small enough to bound memory.
constexpr size_t kReplayChangesMax = 200'000;

using store::StoredEvent;

absl::Status Flush(StateOverlay* overlay, store::Store* scratch) {
  store::Batch b = scratch->NewBatch();
  overlay->WriteTo(&b);
  overlay->Clear();
  return scratch->Commit(&b);
}

std::string Describe(std::string_view key) {
  // History keys end in '\0' + BE64(position).
  if (key.size() < 9) return ToHex(key);
  return absl::StrCat(std::string(key.substr(0, key.size() - 9)), " @ position ",
                      store::GetBigEndian64(key.substr(key.size() - 8)));
}

}  // namespace

absl::StatusOr<ReplayStats> Replay(
    const store::Store& log, const domain::Rules& rules, uint64_t to_position,
    store::Store* scratch,
    const std::function<void(uint64_t, uint64_t)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  if (to_position == 0) {
    absl::StatusOr<store::Head> head = log.ReadHead();
    if (!head.ok()) return head.status();
    to_position = head->position();
  }
  StateOverlay overlay(scratch, nullptr);
  ReplayStats stats;
  stats.to_position = to_position;
  std::string prev_hash = store::GenesisHash();
  absl::StatusOr<store::TreeCheck> tree = store::TreeCheck::Start(&log, 0);
  if (!tree.ok()) return tree.status();
  absl::Status failure = absl::OkStatus();
  absl::Status scan = log.ScanEvents(1, true, [&](StoredEvent&& e) {
    if (e.position() > to_position) return false;
    if (e.position() != stats.events + 1 || e.prev_hash() != prev_hash) {
      failure = absl::DataLossError(absl::StrCat(
          "chain broken at position ", e.position(), ": replay stops"));
      return false;
    }
    prev_hash = e.hash();
    if (std::optional<std::string> bad = tree->Add(e); bad.has_value()) {
      failure = absl::DataLossError(
          absl::StrCat("position ", e.position(), ": ", *bad));
      return false;
    }
    absl::StatusOr<v1::EventPayload> payload =
        domain::UpcastPayload(e.schema_version(), e.payload());
    if (!payload.ok()) {
      failure = payload.status();
      return false;
    }
    overlay.set_position(e.position());
    const std::string id = FormatUuid(e.event_id());
    domain::Recorded rec{e.position(), e.stream(), id, e.recorded_at_us(),
                         e.occurred_at_us(), &*payload};
    if (absl::Status s = rules.Apply(overlay, rec); !s.ok()) {
      failure = absl::Status(s.code(), absl::StrCat("apply position ",
                                                    e.position(), ": ",
                                                    s.message()));
      return false;
    }
    ++stats.events;
    if (overlay.changes() >= kReplayChangesMax) {
      failure = Flush(&overlay, scratch);
      if (!failure.ok()) return false;
      if (progress) progress(e.position(), to_position);
    }
    return true;
  });
  if (!scan.ok()) return scan;
  if (!failure.ok()) return failure;
  if (stats.events != to_position) {
    return absl::DataLossError(absl::StrCat("log ends at position ",
                                            stats.events, " before ",
                                            to_position));
  }
  if (absl::Status s = Flush(&overlay, scratch); !s.ok()) return s;
  stats.tree_root = tree->Root();
  if (progress) progress(to_position, to_position);
  stats.seconds = std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  return stats;
}

absl::StatusOr<CompareResult> CompareProjections(const store::Store& live,
                                                 const store::Store& rebuilt,
                                                 uint64_t to_position) {
  // Walk both histories in key order in lockstep, skipping live entries
  // written after to_position.
  using Family = store::Store::Family;
  CompareResult result;
  std::unique_ptr<rocksdb::Iterator> want = rebuilt.NewIterator(Family::kStateHist);
  std::unique_ptr<rocksdb::Iterator> have = live.NewIterator(Family::kStateHist);
  want->SeekToFirst();
  have->SeekToFirst();
  auto after_cutoff = [&](const rocksdb::Slice& k) {
    return k.size() >= 9 &&
           store::GetBigEndian64(std::string_view(k.data() + k.size() - 8, 8)) >
               to_position;
  };
  for (;;) {
    while (have->Valid() && after_cutoff(have->key())) have->Next();
    if (!want->Valid() || !have->Valid()) break;
    const std::string_view wk = want->key().ToStringView();
    const std::string_view hk = have->key().ToStringView();
    if (wk != hk) {
      result.identical = false;
      result.first_difference = absl::StrCat(
          "rebuild has ", Describe(wk), " where live has ", Describe(hk));
      return result;
    }
    if (want->value() != have->value()) {
      result.identical = false;
      result.first_difference = absl::StrCat("value differs at ", Describe(hk));
      return result;
    }
    ++result.keys_compared;
    want->Next();
    have->Next();
  }
  if (!want->status().ok()) return store::FromRocks(want->status(), "compare");
  if (!have->status().ok()) return store::FromRocks(have->status(), "compare");
  if (want->Valid()) {
    result.identical = false;
    result.first_difference = absl::StrCat(
        "rebuild has ", Describe(want->key().ToStringView()), " that live lacks");
  } else if (have->Valid()) {
    result.identical = false;
    result.first_difference = absl::StrCat(
        "live has ", Describe(have->key().ToStringView()), " that the rebuild lacks");
  }
  return result;
}

}  // namespace partnerledger::projection

#include "projection/rebuild.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "domain/upcast.h"
#include "projection/state_overlay.h"
#include "store/keys.h"
#include "store/merkle_tree.h"
#include "util/sha256.h"
#include "util/status_macros.h"
#include "util/strings.h"
#include "util/uuid.h"

namespace partnerledger::projection {
namespace {

// Changes buffered before they are written to the scratch store: large
// enough to amortize a write, small enough to bound memory.
constexpr size_t kReplayChangesMax = 200'000;

using store::StoredEvent;

// A record read, validated and checked, ready to apply.
struct Verified {
  StoredEvent event;
  v1::EventPayload payload;
  std::string event_id;  // canonical text
};

// Records handed from the reading thread to the applying one at a time,
// and chunks in flight at most: bounds the memory of the pipeline.
constexpr size_t kChunkEvents = 1024;
constexpr size_t kChunksInFlightMax = 8;
// Events between progress reports.
constexpr uint64_t kProgressEvents = 65'536;

// Reads events 1..to_position on its own thread: decodes and validates each
// record (ScanEvents), checks the chain link and the Merkle tree, upcasts
// the payload, and hands chunks to Next() in log order.
class VerifiedReader {
 public:
  VerifiedReader(const store::Store& log, uint64_t to_position,
                 store::TreeCheck tree)
      : log_(log), to_position_(to_position), tree_(std::move(tree)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~VerifiedReader() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    thread_.join();
  }

  // The next chunk in order; empty once the log is read through or
  // reading failed (then Finish() tells which).
  std::vector<Verified> Next() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &VerifiedReader::ChunkOrDone));
    if (chunks_.empty()) return {};
    std::vector<Verified> c = std::move(chunks_.front());
    chunks_.pop_front();
    return c;
  }

  // REQUIRES: Next() returned empty. The reading's outcome and, when OK,
  // the recomputed tree root.
  absl::StatusOr<std::string> Finish() {
    absl::MutexLock lock(&mu_);
    if (!failure_.ok()) return failure_;
    return root_;
  }

 private:
  bool ChunkOrDone() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return done_ || !chunks_.empty();
  }
  bool RoomOrStop() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stop_ || chunks_.size() < kChunksInFlightMax;
  }

  // False when the consumer has gone.
  bool Push(std::vector<Verified> chunk) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &VerifiedReader::RoomOrStop));
    if (stop_) return false;
    chunks_.push_back(std::move(chunk));
    return true;
  }

  void Run() {
    uint64_t read = 0;
    std::string prev_hash = store::GenesisHash();
    std::vector<Verified> chunk;
    chunk.reserve(kChunkEvents);
    absl::Status failure = absl::OkStatus();
    absl::Status scan = log_.ScanEvents(1, true, [&](StoredEvent&& e) {
      if (e.position() > to_position_) return false;
      if (e.position() != read + 1 || e.prev_hash() != prev_hash) {
        failure = absl::DataLossError(absl::StrCat(
            "chain broken at position ", e.position(), ": replay stops"));
        return false;
      }
      prev_hash = e.hash();
      if (std::optional<std::string> bad = tree_.Add(e); bad.has_value()) {
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
      std::string id = FormatUuid(e.event_id());
      chunk.push_back(
          Verified{std::move(e), std::move(*payload), std::move(id)});
      ++read;
      if (chunk.size() == kChunkEvents) {
        if (!Push(std::move(chunk))) return false;
        chunk = {};
        chunk.reserve(kChunkEvents);
      }
      return true;
    });
    if (failure.ok()) failure = scan;
    if (!chunk.empty() && !Push(std::move(chunk)))
      failure = absl::CancelledError();
    if (failure.ok() && read != to_position_) {
      failure = absl::DataLossError(absl::StrCat("log ends at position ", read,
                                                 " before ", to_position_));
    }
    absl::MutexLock lock(&mu_);
    failure_ = failure;
    if (failure.ok()) root_ = tree_.Root();
    done_ = true;
  }

  const store::Store& log_;
  const uint64_t to_position_;
  store::TreeCheck tree_;  // reading thread only

  absl::Mutex mu_;
  std::deque<std::vector<Verified>> chunks_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  std::string root_ ABSL_GUARDED_BY(mu_);

  std::thread thread_;
};

absl::Status ApplyOne(const domain::Rules& rules, const Verified& v,
                      domain::StateWriter& state) {
  const StoredEvent& e = v.event;
  domain::Recorded rec{e.position(),       e.stream(),         v.event_id,
                       e.recorded_at_us(), e.occurred_at_us(), &v.payload};
  if (absl::Status s = rules.Apply(state, rec); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("apply position ", e.position(),
                                               ": ", s.message()));
  }
  return absl::OkStatus();
}

// Runs `apply` on every record of 1..to_position (0: the head) in order,
// while a VerifiedReader reads and checks ahead of it.
template <typename Apply>
absl::StatusOr<ReplayStats> RunPipeline(
    const store::Store& log, uint64_t to_position,
    const std::function<void(uint64_t, uint64_t)>& progress, Apply apply) {
  const auto start = std::chrono::steady_clock::now();
  if (to_position == 0) {
    ASSIGN_OR_RETURN(store::Head head, log.ReadHead());
    to_position = head.position();
  }
  ASSIGN_OR_RETURN(store::TreeCheck tree, store::TreeCheck::Start(&log, 0));
  ReplayStats stats;
  stats.to_position = to_position;
  VerifiedReader reader(log, to_position, std::move(tree));
  for (std::vector<Verified> chunk = reader.Next(); !chunk.empty();
       chunk = reader.Next()) {
    for (const Verified& v : chunk) {
      RETURN_IF_ERROR(apply(v));
      ++stats.events;
      if (progress && stats.events % kProgressEvents == 0) {
        progress(v.event.position(), to_position);
      }
    }
  }
  ASSIGN_OR_RETURN(std::string root, reader.Finish());
  stats.tree_root = std::move(root);
  if (progress) progress(to_position, to_position);
  stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return stats;
}

// Projection state in memory for a replay that only digests its history:
// the current value of every key, and the keys the event being applied
// changed. A key's history entry at the event is its last change, which is
// its current value at the event's end (absent: deleted), so only the keys
// are recorded. The buffers are reused from event to event: the replay
// allocates nothing per change once they have grown.
class MemoryState final : public domain::StateWriter {
 public:
  absl::StatusOr<std::optional<std::string>> Get(
      std::string_view key) const override {
    auto it = current_.find(AbslView(key));
    if (it == current_.end()) return std::nullopt;
    return it->second;
  }
  void Put(std::string_view key, std::string value) override {
    NoteChange(key);
    auto it = current_.find(AbslView(key));
    if (it != current_.end()) {
      it->second = std::move(value);
    } else {
      current_.emplace(std::string(key), std::move(value));
    }
  }
  void Delete(std::string_view key) override {
    NoteChange(key);
    current_.erase(AbslView(key));
  }
  // Folds the event's changes, at `position`, into `history`: one entry per
  // key, its value at the end of the event.
  void EndEvent(uint64_t position, HistoryDigest* history) {
    std::sort(changed_.begin(), changed_.begin() + changed_count_);
    for (size_t i = 0; i < changed_count_; ++i) {
      const std::string& key = changed_[i];
      if (i + 1 < changed_count_ && changed_[i + 1] == key) continue;
      // The bytes HistoryDigest::Add hashes for
      // (StateHistoryKey(key, position), EncodeStateValue(value)).
      framed_.clear();
      store::PutBigEndian64(&framed_, key.size() + 9);
      framed_.append(key);
      framed_.push_back('\0');
      store::PutBigEndian64(&framed_, position);
      auto it = current_.find(AbslView(key));
      if (it != current_.end()) {
        framed_.push_back('\1');
        framed_.append(it->second);
      } else {
        framed_.push_back('\0');
      }
      history->AddFramed(framed_);
    }
    changed_count_ = 0;
  }

 private:
  void NoteChange(std::string_view key) {
    if (changed_count_ < changed_.size()) {
      changed_[changed_count_].assign(key);  // keeps its capacity
    } else {
      changed_.emplace_back(key);
    }
    ++changed_count_;
  }

  absl::flat_hash_map<std::string, std::string> current_;
  // changed_[0, changed_count_): the keys changed by the event being
  // applied, in order of change; the strings past it are kept for reuse.
  std::vector<std::string> changed_;
  size_t changed_count_ = 0;
  std::string framed_;
};

absl::Status Flush(StateOverlay* overlay, store::Store* scratch) {
  store::Batch b = scratch->NewBatch();
  overlay->WriteTo(&b);
  overlay->Clear();
  return scratch->Commit(&b);
}

std::string Describe(std::string_view key) {
  // History keys end in '\0' + BE64(position).
  if (key.size() < 9) return ToHex(key);
  return absl::StrCat(std::string(key.substr(0, key.size() - 9)),
                      " @ position ",
                      store::GetBigEndian64(key.substr(key.size() - 8)));
}

}  // namespace

absl::StatusOr<ReplayStats> Replay(
    const store::Store& log, const domain::Rules& rules, uint64_t to_position,
    store::Store* scratch,
    const std::function<void(uint64_t, uint64_t)>& progress) {
  StateOverlay overlay(scratch, nullptr);
  absl::StatusOr<ReplayStats> stats = RunPipeline(
      log, to_position, progress, [&](const Verified& v) -> absl::Status {
        overlay.set_position(v.event.position());
        RETURN_IF_ERROR(ApplyOne(rules, v, overlay));
        if (overlay.changes() >= kReplayChangesMax) {
          return Flush(&overlay, scratch);
        }
        return absl::OkStatus();
      });
  RETURN_IF_ERROR(stats.status());
  RETURN_IF_ERROR(Flush(&overlay, scratch));
  return stats;
}

void HistoryDigest::Add(std::string_view history_key,
                        std::string_view encoded_value) {
  std::string bytes;
  bytes.reserve(8 + history_key.size() + encoded_value.size());
  store::PutBigEndian64(&bytes, history_key.size());
  bytes.append(history_key);
  bytes.append(encoded_value);
  AddFramed(bytes);
}

void HistoryDigest::AddFramed(std::string_view framed) {
  const Sha256Digest d = Sha256Of(framed);
  for (size_t lane = 0; lane < lanes.size(); ++lane) {
    uint64_t word = 0;
    std::memcpy(&word, d.data() + 8 * lane, 8);
    lanes[lane] += word;
  }
  ++entries;
}

absl::StatusOr<ReplayStats> ReplayToDigest(
    const store::Store& log, const domain::Rules& rules, uint64_t to_position,
    HistoryDigest* history,
    const std::function<void(uint64_t, uint64_t)>& progress) {
  MemoryState state;
  return RunPipeline(log, to_position, progress,
                     [&](const Verified& v) -> absl::Status {
                       RETURN_IF_ERROR(ApplyOne(rules, v, state));
                       state.EndEvent(v.event.position(), history);
                       return absl::OkStatus();
                     });
}

absl::StatusOr<HistoryDigest> DigestStoredHistory(const store::Store& live,
                                                  uint64_t to_position) {
  HistoryDigest d;
  std::unique_ptr<rocksdb::Iterator> it =
      live.NewIterator(store::Store::Family::kStateHist);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view k = it->key().ToStringView();
    if (k.size() >= 9 &&
        store::GetBigEndian64(k.substr(k.size() - 8)) > to_position) {
      continue;
    }
    d.Add(k, it->value().ToStringView());
  }
  if (!it->status().ok())
    return store::FromRocks(it->status(), "digest history");
  return d;
}

absl::StatusOr<CompareResult> CompareProjections(const store::Store& live,
                                                 const store::Store& rebuilt,
                                                 uint64_t to_position) {
  // Walk both histories in key order in lockstep, skipping live entries
  // written after to_position.
  using Family = store::Store::Family;
  CompareResult result;
  std::unique_ptr<rocksdb::Iterator> want =
      rebuilt.NewIterator(Family::kStateHist);
  std::unique_ptr<rocksdb::Iterator> have =
      live.NewIterator(Family::kStateHist);
  want->SeekToFirst();
  have->SeekToFirst();
  auto after_cutoff = [&](const rocksdb::Slice& k) {
    return k.size() >= 9 && store::GetBigEndian64(std::string_view(
                                k.data() + k.size() - 8, 8)) > to_position;
  };
  for (;;) {
    while (have->Valid() && after_cutoff(have->key())) have->Next();
    if (!want->Valid() || !have->Valid()) break;
    const std::string_view wk = want->key().ToStringView();
    const std::string_view hk = have->key().ToStringView();
    if (wk != hk) {
      result.identical = false;
      result.first_difference = absl::StrCat("rebuild has ", Describe(wk),
                                             " where live has ", Describe(hk));
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
    result.first_difference =
        absl::StrCat("rebuild has ", Describe(want->key().ToStringView()),
                     " that live lacks");
  } else if (have->Valid()) {
    result.identical = false;
    result.first_difference =
        absl::StrCat("live has ", Describe(have->key().ToStringView()),
                     " that the rebuild lacks");
  }
  return result;
}

}  // namespace partnerledger::projection

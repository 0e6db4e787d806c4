// The writer: one thread, a bounded queue, group commit (DESIGN §5).
//
// Why one writer: positions, revisions and the hash chain are a total order;
// deciding them on one thread needs no locks on the hot path, and taking
// every waiting request into one WriteBatch lets one fsync acknowledge many
// appends.
#include "partnerledger/ledger.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "domain/partnership.h"
#include "domain/rules.h"
#include "domain/upcast.h"
#include "domain/validate.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/stubs/common.h"
#include "ledger/ledger_internal.h"
#include "ledger/replicated.h"
#include "projection/state_overlay.h"
#include "store/merkle_tree.h"
#include "store/store.h"
#include "store/verify.h"
#include "util/check.h"
#include "util/echo.h"
#include "util/sha256.h"
#include "util/status_macros.h"
#include "util/strings.h"
#include "util/uuid.h"

namespace partnerledger {
namespace {

using store::EventIdEntry;
using store::StoredEvent;

constexpr uint32_t kSchemaVersion = domain::kCurrentSchemaVersion;
constexpr char kSystemActor[] = "system";

// What identifies a proposed event's content for idempotency: a retry must
// carry the same stream, payload, business time and correlation.
std::string ContentDigest(const std::string& stream, const NewEvent& e) {
  Sha256 h;
  std::string payload;
  {
    google::protobuf::io::StringOutputStream out(&payload);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    e.payload.SerializeToCodedStream(&coded);
  }
  const std::string fields =
      absl::StrCat(stream.size(), ":", stream, "|", e.occurred_at_us, "|",
                   e.correlation_id.size(), ":", e.correlation_id, "|",
                   e.causation_id.size(), ":", e.causation_id, "|");
  h.Update(fields);
  h.Update(payload);
  return DigestBytes(h.Finish());
}

std::string SerializeDeterministic(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

absl::Status ValidateRequest(const AppendRequest& r,
                             std::vector<std::string>* raw_ids) {
  ASSIGN_OR_RETURN(domain::StreamName name, domain::ParseStreamName(r.stream));
  // The actor is recorded on every event; the server sets it from the
  // authenticated principal (1..64 bytes), callers of the C++ API may set
  // anything, so it is checked like any other stored string.
  if (r.actor.size() > limits::kIdBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("actor: longer than ", limits::kIdBytesMax, " bytes"));
  }
  if (!google::protobuf::internal::IsStructurallyValidUTF8(r.actor)) {
    return absl::InvalidArgumentError("actor: not UTF-8");
  }
  if (r.events.empty()) {
    return absl::InvalidArgumentError("events: at least one event required");
  }
  if (r.events.size() > limits::kAppendEventsMax) {
    return absl::InvalidArgumentError(absl::StrCat(
        "events: more than ", limits::kAppendEventsMax, " in one append"));
  }
  size_t bytes = 0;
  std::set<std::string> seen;
  for (size_t i = 0; i < r.events.size(); ++i) {
    const NewEvent& e = r.events[i];
    const std::string f = absl::StrCat("events[", i, "]");
    std::optional<std::string> raw = ParseUuid(e.event_id);
    if (!raw.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(f, ".event_id: ", Echo(e.event_id),
                       " is not a UUID (8-4-4-4-12 hex digits, not all zero)"));
    }
    if (!seen.insert(*raw).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(f, ".event_id: repeated within the request"));
    }
    raw_ids->push_back(std::move(*raw));
    if (e.correlation_id.size() > limits::kIdBytesMax * 2 ||
        e.causation_id.size() > limits::kIdBytesMax * 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(f, ".correlation_id/causation_id: longer than ",
                       limits::kIdBytesMax * 2, " bytes"));
    }
    // Stored as protobuf strings: bytes that are not UTF-8 would not parse
    // back (the gRPC layer's parser refuses them already; this is for
    // callers of the C++ API).
    if (!google::protobuf::internal::IsStructurallyValidUTF8(
            e.correlation_id) ||
        !google::protobuf::internal::IsStructurallyValidUTF8(e.causation_id)) {
      return absl::InvalidArgumentError(
          absl::StrCat(f, ".correlation_id/causation_id: not UTF-8"));
    }
    RETURN_IF_ERROR(
        domain::ValidateProposedPayload(e.payload, name, f + ".payload"));
    bytes += e.payload.ByteSizeLong();
  }
  if (bytes > limits::kAppendBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("events: payloads total more than ",
                     limits::kAppendBytesMax, " bytes"));
  }
  return absl::OkStatus();
}

std::string RevisionText(std::optional<uint64_t> r) {
  return r.has_value() ? absl::StrCat(*r) : "-1 (no stream)";
}

// The byte bound of one read page (limits::kReadPageBytesMax) and its
// share of the server's read budget.
class PageBytes {
 public:
  explicit PageBytes(ReadReservation* reservation)
      : reservation_(reservation) {}
  // Whether `e` fits the page; the first event of a page always does,
  // unless the budget cannot take it.
  bool Take(const StoredEvent& e, bool first) {
    const size_t bytes = e.ByteSizeLong();
    if (!first && bytes_ + bytes > limits::kReadPageBytesMax) return false;
    // The response message and its serialized copy.
    if (reservation_ != nullptr && !reservation_->TryAdd(2 * bytes))
      return false;
    bytes_ += bytes;
    return true;
  }

 private:
  ReadReservation* const reservation_;
  size_t bytes_ = 0;
};

class LedgerImpl final : public Ledger {
 public:
  LedgerImpl(const Options& o, std::unique_ptr<store::Store> s,
             const domain::Rules* rules,
             std::unique_ptr<domain::Rules> owned_rules)
      : options_(o),
        store_(std::move(s)),
        owned_rules_(std::move(owned_rules)),
        rules_(rules != nullptr ? rules : owned_rules_.get()),
        commit_log_(o.commit_log),
        group_log_bytes_max_(commit_log_ == nullptr ? SIZE_MAX
                             : o.commit_group_log_bytes_max != 0
                                 ? o.commit_group_log_bytes_max
                                 : limits::kCommitGroupLogBytesMax),
        waiters_(limits::kPositionWaitersMax) {}

  ~LedgerImpl() override {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    queue_cv_.SignalAll();
    // The writer decides what is queued, waits for its last commit and
    // stops the committer.
    if (writer_.joinable()) writer_.join();
    if (committer_.joinable()) committer_.join();
  }

  absl::Status Start() {
    ASSIGN_OR_RETURN(store::Head head, store_->ReadHead());
    // Pair the head with the last event: a mismatch means the store is
    // inconsistent, and appending on top would fork the chain.
    if (head.position() > 0) {
      ASSIGN_OR_RETURN(std::optional<StoredEvent> last,
                       store_->ReadEvent(head.position()));
      if (!last.has_value() || last->hash() != head.hash()) {
        return absl::DataLossError(
            absl::StrCat("head at position ", head.position(),
                         " does not match the stored event there"));
      }
      ASSIGN_OR_RETURN(std::optional<StoredEvent> next,
                       store_->ReadEvent(head.position() + 1));
      if (next.has_value()) {
        return absl::DataLossError("events stored beyond the head");
      }
    }
    if (options_.merkle_tree) {
      ASSIGN_OR_RETURN(tree_,
                       store::TreeWriter::Open(store_.get(), head.position()));
    }
    next_position_ = head.position() + 1;
    last_hash_ = head.hash();
    last_recorded_at_us_ = head.recorded_at_us();
    committed_head_.store(head.position());
    if (commit_log_ != nullptr) {
      RETURN_IF_ERROR(store_->CheckFamilyIds());
      absl::MutexLock lock(&mu_);
      leader_ = false;
    }
    AddCommitListener([this](uint64_t applied) { waiters_.Notify(applied); });
    writer_ = std::thread([this] { WriterLoop(); });
    committer_ = std::thread([this] { CommitterLoop(); });
    return absl::OkStatus();
  }

  void Append(AppendRequest request, AppendCallback done) override {
    Pending p;
    if (absl::Status s = ValidateRequest(request, &p.raw_ids); !s.ok()) {
      CountOutcome(s);
      done(s);
      return;
    }
    if (request.actor.empty()) request.actor = options_.default_actor;
    if (commit_log_ != nullptr) {
      absl::StatusOr<size_t> bytes =
          ledger::CheckCommitLogBytes(request, group_log_bytes_max_);
      if (!bytes.ok()) {
        CountOutcome(bytes.status());
        done(bytes.status());
        return;
      }
      p.log_bytes = *bytes;
    }
    p.request = std::move(request);
    p.done = std::move(done);
    absl::Status rejected = absl::OkStatus();
    {
      absl::MutexLock lock(&mu_);
      if (!healthy_) {
        rejected = absl::UnavailableError(absl::StrCat(
            absl::StartsWith(unhealthy_reason_, kInvariantBrokenPrefix)
                ? "ledger stopped"
                : "storage failed",
            "; not accepting appends: ", unhealthy_reason_));
      } else if (stopping_) {
        rejected = absl::UnavailableError("ledger is shutting down");
      } else if (!leader_) {
        rejected = NotLeaderError();
      } else if (queue_.size() >= options_.writer_queue_max) {
        rejected = absl::ResourceExhaustedError(
            absl::StrCat("writer queue full (", options_.writer_queue_max,
                         " appends waiting); retry with backoff"));
      } else {
        queue_.push_back(std::move(p));
      }
    }
    if (!rejected.ok()) {
      CountOutcome(rejected);
      p.done(rejected);
      return;
    }
    queue_cv_.Signal();
  }

  absl::StatusOr<StreamPage> ReadStream(
      const std::string& stream, const ReadStreamOptions& o) const override {
    const bool forward = o.direction == Direction::kForward;
    const uint32_t max_count = o.max_count;
    ReadReservation* const reservation = o.reservation;
    uint64_t from_revision = o.from_revision;
    ASSIGN_OR_RETURN(std::optional<uint64_t> last,
                     store_->StreamLastRevision(stream));
    if (!last.has_value()) {
      return absl::NotFoundError(
          absl::StrCat("stream ", Echo(stream), " not found"));
    }
    StreamPage page;
    page.last_revision = *last;
    if (o.from_end) from_revision = *last;
    ASSIGN_OR_RETURN(
        std::vector<uint64_t> positions,
        store_->StreamPositions(stream, from_revision, forward, max_count + 1));
    const uint64_t head = head_position();
    PageBytes bytes(reservation);
    for (uint64_t pos : positions) {
      if (pos > head) break;  // not yet acknowledged
      if (page.events.size() == max_count) {
        page.end_of_stream = false;
        break;
      }
      ASSIGN_OR_RETURN(StoredEvent e, ReadStored(pos));
      if (!bytes.Take(e, page.events.empty())) {
        if (page.events.empty()) return reservation->Exhausted();
        page.end_of_stream = false;
        break;
      }
      page.events.push_back(ledger::ToRecordedEvent(std::move(e)));
    }
    if (!page.end_of_stream) {
      page.next_revision = forward ? page.events.back().revision + 1
                                   : page.events.back().revision - 1;
    }
    return page;
  }

  absl::StatusOr<LogPage> ReadAll(const ReadAllOptions& o) const override {
    const bool forward = o.direction == Direction::kForward;
    const uint32_t max_count = o.max_count;
    ReadReservation* const reservation = o.reservation;
    uint64_t from_position = o.from_position;
    LogPage page;
    page.head_position = head_position();
    const uint64_t head = page.head_position;
    if (from_position == 0) from_position = forward ? 1 : head;
    if (forward ? from_position > head : from_position == 0) {
      page.next_position = from_position;
      return page;
    }
    if (!forward && from_position > head) from_position = head;
    uint64_t scanned = 0;
    uint64_t next = from_position;
    bool exhausted = false;
    PageBytes bytes(reservation);
    page.end_of_log = true;
    absl::Status s =
        store_->ScanEvents(from_position, forward, [&](StoredEvent&& e) {
          if (e.position() > head) return false;
          if (page.events.size() == max_count ||
              scanned == limits::kFilterScanMax) {
            page.end_of_log = false;
            return false;
          }
          const bool match =
              o.filter == nullptr || o.filter->Matches(e.type(), e.stream());
          if (match && !bytes.Take(e, page.events.empty())) {
            exhausted = page.events.empty();
            page.end_of_log = false;
            return false;
          }
          ++scanned;
          next = forward ? e.position() + 1 : e.position() - 1;
          if (match)
            page.events.push_back(ledger::ToRecordedEvent(std::move(e)));
          return true;
        });
    RETURN_IF_ERROR(s);
    if (exhausted) return reservation->Exhausted();
    page.next_position = next;
    if (forward && next > head) page.end_of_log = true;
    if (!forward && next == 0) page.end_of_log = true;
    return page;
  }

  absl::StatusOr<RecordedEvent> ReadEvent(uint64_t position) const override {
    ASSIGN_OR_RETURN(StoredEvent e, ReadStored(position));
    return ledger::ToRecordedEvent(std::move(e));
  }

  // The record at `position`, checked; NOT_FOUND beyond the head.
  absl::StatusOr<StoredEvent> ReadStored(uint64_t position) const {
    if (position == 0 || position > head_position()) {
      return absl::NotFoundError(
          absl::StrCat("no event at position ", position));
    }
    ASSIGN_OR_RETURN(std::optional<StoredEvent> e, store_->ReadEvent(position));
    if (!e.has_value()) {
      return absl::DataLossError(absl::StrCat("event at position ", position,
                                              " is missing below the head"));
    }
    return std::move(*e);
  }

  uint64_t head_position() const override { return committed_head_.load(); }

  absl::StatusOr<ChainDigest> GetDigest(uint64_t position) const override {
    if (position == 0) position = head_position();
    if (position == 0) return ChainDigest{0, store::GenesisHash()};
    ASSIGN_OR_RETURN(StoredEvent e, ReadStored(position));
    return ChainDigest{position, e.hash()};
  }

  absl::StatusOr<VerifyResult> VerifyChain(
      uint64_t from, uint64_t to,
      const std::optional<ChainDigest>& expected) const override {
    // The range asked for (0: 1 and the head), whether or not the log
    // reaches its end yet: the answer to a request does not depend on how
    // far the log has grown.
    const uint64_t first = from == 0 ? 1 : from;
    const uint64_t last = to == 0 ? head_position() : to;
    if (last >= first && last - first >= limits::kVerifyChainPositionsMax) {
      return absl::InvalidArgumentError(absl::StrCat(
          "to_position: ", first, "..", last, " is ", last - first + 1,
          " positions, more than ", limits::kVerifyChainPositionsMax,
          " per call; verify in chunks"));
    }
    std::optional<std::pair<uint64_t, std::string>> want;
    if (expected.has_value()) want.emplace(expected->position, expected->hash);
    ASSIGN_OR_RETURN(store::ChainCheck c,
                     store::VerifyChain(*store_, from, to, want));
    return VerifyResult{c.ok, c.verified_through, c.first_bad_position,
                        c.message, c.events_checked};
  }

  uint64_t AddCommitListener(std::function<void(uint64_t)> listener) override {
    absl::MutexLock lock(&listeners_mu_);
    const uint64_t id = ++listener_seq_;
    listeners_.emplace(id, std::move(listener));
    return id;
  }

  void RemoveCommitListener(uint64_t id) override {
    absl::MutexLock lock(&listeners_mu_);
    listeners_.erase(id);
  }

  bool healthy() const override {
    absl::MutexLock lock(&mu_);
    return healthy_;
  }
  std::string unhealthy_reason() const override {
    absl::MutexLock lock(&mu_);
    return unhealthy_reason_;
  }
  const store::Store& store() const { return *store_; }

  LedgerStats stats() const override {
    LedgerStats st;
    st.head_position = head_position();
    {
      absl::MutexLock lock(&mu_);
      st.queue_depth = queue_.size();
    }
    st.commit_groups = commit_groups_.load();
    st.commit_group_requests = commit_group_requests_.load();
    st.events_written = events_written_.load();
    st.appends_replayed = appends_replayed_.load();
    st.position_waiters = waiters_.waiting();
    for (size_t i = 0; i < 17; ++i)
      st.appends_by_code[i] = appends_by_code_[i].load();
    return st;
  }
  const domain::Rules& rules() const { return *rules_; }
  const Options& options() const override { return options_; }

  absl::Status ApplyReplicated(const ReplicatedGroup& group) override {
    {
      absl::MutexLock apply(&apply_mu_);
      const uint64_t head = committed_head_.load();
      ASSIGN_OR_RETURN(bool applied,
                       ledger::AlreadyApplied(*store_, group, head));
      if (applied) return absl::OkStatus();
      {
        absl::MutexLock lock(&mu_);
        if (leader_) {
          return absl::FailedPreconditionError(absl::StrCat(
              "this node leads and applies only its own groups; replicated "
              "group ",
              group.first_position, "..", group.last_position, " refused"));
        }
      }
      ASSIGN_OR_RETURN(store::Head stored, store_->ReadHead());
      if (stored.position() != head) {
        return absl::DataLossError(
            absl::StrCat("the stored head ", stored.position(),
                         " is not the applied head ", head));
      }
      RETURN_IF_ERROR(
          ledger::CheckReplicatedGroup(*store_, group, head, stored.hash()));
      RETURN_IF_ERROR(store_->CommitReplicated(group.batch));
      committed_head_.store(group.last_position);
      commit_groups_.fetch_add(1);
      events_written_.fetch_add(group.last_position - head);
    }
    NotifyListeners();
    return absl::OkStatus();
  }

  void SetFollower(std::string leader_address) override {
    absl::MutexLock lock(&mu_);
    if (leader_ || reload_requested_) ++role_epoch_;
    leader_ = false;
    leader_address_ = std::move(leader_address);
    if (reload_requested_) {
      reload_requested_ = false;
      reload_result_ = absl::UnavailableError(
          "made a follower again before the writer could take the lead");
    }
  }

  absl::Status SetLeader() override {
    absl::MutexLock lock(&mu_);
    if (leader_) return absl::OkStatus();
    if (!healthy_) {
      return absl::FailedPreconditionError(
          absl::StrCat("the writer stopped: ", unhealthy_reason_));
    }
    reload_requested_ = true;
    queue_cv_.SignalAll();
    auto reloaded = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !reload_requested_ || stopping_;
    };
    mu_.Await(absl::Condition(&reloaded));
    if (reload_requested_) {
      return absl::UnavailableError("ledger is shutting down");
    }
    return reload_result_;
  }

  ReplicationRole role() const override {
    absl::MutexLock lock(&mu_);
    return ReplicationRole{leader_, leader_address_, role_error_};
  }

  void WaitForPosition(uint64_t position, absl::Time deadline,
                       std::function<void(absl::Status)> done) override {
    waiters_.Wait(position, head_position(), deadline, std::move(done));
  }

 private:
  struct Pending {
    AppendRequest request;
    std::vector<std::string> raw_ids;
    AppendCallback done;
    absl::StatusOr<AppendResult> result = absl::UnknownError("not decided");
    // With a commit log: the estimate of its bytes in the group's record.
    size_t log_bytes = 0;
  };

  // One commit group: decided by the writer thread, then written by the
  // committer thread while the writer decides the next group against it
  // (decisions overlap the previous group's fsync). A group reads through
  // its predecessor until that one is durable; the chain is cut back to one
  // level before every new group, so lookups never go deeper than that.
  struct Group {
    Group(const store::Store* s, std::shared_ptr<Group> prev)
        : parent(std::move(prev)),
          state(parent == nullptr ? s : nullptr,
                parent == nullptr ? nullptr : &parent->state) {}
    // The group before this one while it may still be uncommitted. Writer
    // thread only.
    std::shared_ptr<Group> parent;
    std::map<std::string, std::optional<uint64_t>, std::less<>> stream_revs;
    std::map<std::string, EventIdEntry> event_ids;
    std::vector<StoredEvent> records;
    // With the Merkle tree: the records' leaf hashes, 32 bytes each, hashed
    // here so the committer only folds them into the tree.
    std::string leaves;
    // Requests of this group that occupy more than one position, in order.
    std::vector<store::RequestSpan> spans;
    projection::StateOverlay state;
    std::vector<Pending> batch;
    bool wrote = false;
    int64_t recorded_at_us = 0;
    uint64_t head_position = 0;
    std::string head_hash;
    // The role epoch it was decided in: with a commit log, only a group of
    // the current leading epoch is written.
    uint64_t epoch = 0;
  };

  struct RequestScope {
    explicit RequestScope(Group* g) : group(g), state(nullptr, &g->state) {}
    Group* group;
    std::map<std::string, std::optional<uint64_t>, std::less<>> stream_revs;
    std::map<std::string, EventIdEntry> event_ids;
    std::vector<StoredEvent> records;
    std::string leaves;
    projection::StateOverlay state;
  };

  void WriterLoop() {
    std::shared_ptr<Group> prev;  // the last group handed to the committer
    for (;;) {
      // Take the next group only once the committer has taken the last one:
      // the queue fills meanwhile (one fsync's worth of requests per group),
      // and the group before `prev` is durable.
      WaitCommitSlotFree();
      std::vector<Pending> batch;
      bool reload = false;
      uint64_t epoch = 0;
      {
        absl::MutexLock lock(&mu_);
        while (!stopping_ && queue_.empty() && !reload_requested_) {
          queue_cv_.Wait(&mu_);
        }
        reload = reload_requested_ && !stopping_;
        // Stopping, and every request decided.
        if (!reload && queue_.empty()) break;
        epoch = role_epoch_;
        size_t events = 0;
        size_t log_bytes = 0;
        while (!reload && !queue_.empty() &&
               batch.size() < limits::kCommitGroupRequestsMax &&
               events + queue_.front().request.events.size() <=
                   limits::kCommitGroupEventsMax &&
               log_bytes + queue_.front().log_bytes <= group_log_bytes_max_) {
          events += queue_.front().request.events.size();
          log_bytes += queue_.front().log_bytes;
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      if (prev != nullptr) {
        // prev's own predecessor is durable by now (the committer takes a
        // group only after committing the one before): let prev read the
        // store directly.
        prev->parent.reset();
        prev->state.Detach(store_.get());
      }
      if (reload) {
        prev.reset();
        TakeLead();
        continue;
      }
      auto group = std::make_shared<Group>(store_.get(), prev);
      group->batch = std::move(batch);
      group->epoch = epoch;
      if (invariant_broken_.ok()) DecideGroup(group.get());
      if (!invariant_broken_.ok()) {
        // Nothing decided after the state went wrong may be written: fail
        // the group (earlier requests of it included) and every later one.
        FailGroup(group.get(), invariant_broken_);
        Finish(group.get(), /*notify=*/false);
        continue;
      }
      if (!SubmitToCommitter(group)) continue;
      prev = std::move(group);
    }
    // Let the committer finish the last group, then stop it.
    {
      absl::MutexLock lock(&commit_mu_);
      WaitCommitterIdle();
      committer_stopping_ = true;
    }
    commit_cv_.SignalAll();
  }

  void DecideGroup(Group* group) {
    // One clock reading per group, clamped so recorded_at never decreases.
    group->recorded_at_us =
        std::max(options_.clock->NowMicros(), last_recorded_at_us_);
    last_recorded_at_us_ = group->recorded_at_us;
    for (Pending& p : group->batch) {
      p.result = Decide(p, group->recorded_at_us, group);
      if (!invariant_broken_.ok()) return;
      group->wrote = group->wrote || (p.result.ok() && !p.result->replayed);
    }
    group->head_position = next_position_ - 1;
    group->head_hash = last_hash_;
  }

  void WaitCommitSlotFree() {
    absl::MutexLock lock(&commit_mu_);
    while (commit_next_ != nullptr) commit_slot_cv_.Wait(&commit_mu_);
  }

  // Hands the group over (the slot is free: WriterLoop waited for it and
  // only this thread fills it); the committer takes it as soon as the
  // group before is written, without waiting for this thread. Returns false
  // (and fails the group) when a previous commit failed: everything decided
  // on top of it is void.
  bool SubmitToCommitter(const std::shared_ptr<Group>& group) {
    absl::Status failed;
    {
      absl::MutexLock lock(&commit_mu_);
      if (commit_failed_.ok()) {
        commit_next_ = group;
        commit_cv_.Signal();
        return true;
      }
      failed = commit_failed_;
    }
    FailGroup(group.get(), failed);
    Finish(group.get(), /*notify=*/false);
    return false;
  }

  void CommitterLoop() {
    for (;;) {
      std::shared_ptr<Group> group;
      // OK, or the failure of an earlier commit: a group decided on top of
      // it is void.
      absl::Status committed;
      {
        absl::MutexLock lock(&commit_mu_);
        while (!committer_stopping_ && commit_next_ == nullptr) {
          commit_cv_.Wait(&commit_mu_);
        }
        if (commit_next_ == nullptr) return;  // stopping
        group = std::move(commit_next_);
        commit_next_ = nullptr;
        commit_busy_ = true;
        committed = commit_failed_;
      }
      commit_slot_cv_.Signal();
      const bool void_group = !committed.ok();
      if (!void_group && group->wrote) {
        committed = commit_log_ == nullptr ? CommitGroup(*group)
                                           : CommitLeading(*group);
      }
      if (!committed.ok()) {
        if (!void_group && commit_log_ != nullptr &&
            committed.code() != absl::StatusCode::kInternal) {
          committed = group_refused_ ? KeepLeading(*group, committed)
                                     : StepDown(*group, committed);
        } else if (!void_group) {
          MarkUnhealthy(committed);
        }
        FailGroup(group.get(), committed);
      } else if (group->wrote) {
        commit_groups_.fetch_add(1);
        commit_group_requests_.fetch_add(group->batch.size());
        events_written_.fetch_add(group->records.size());
      }
      Finish(group.get(), group->wrote && committed.ok());
      {
        absl::MutexLock lock(&commit_mu_);
        if (!committed.ok()) commit_failed_ = committed;
        commit_busy_ = false;
      }
      commit_idle_cv_.SignalAll();
    }
  }

  void WaitCommitterIdle() ABSL_EXCLUSIVE_LOCKS_REQUIRED(commit_mu_) {
    while (commit_next_ != nullptr || commit_busy_) {
      commit_idle_cv_.Wait(&commit_mu_);
    }
  }

  static void FailGroup(Group* group, const absl::Status& why) {
    const bool not_leader = why.GetPayload(kLeaderAddressPayload).has_value();
    for (Pending& p : group->batch) {
      if (p.result.ok() ||
          p.result.status().code() != absl::StatusCode::kInvalidArgument) {
        if (not_leader) {
          p.result = why;
          continue;
        }
        p.result = absl::UnavailableError(
            absl::StrCat(why.code() == absl::StatusCode::kInternal
                             ? "ledger stopped: "
                             : "storage write failed: ",
                         why.message()));
      }
    }
  }

  // The rules broke one of their own invariants on an event they had
  // accepted (Apply failed, or Decide failed with INTERNAL): state can no
  // longer be trusted. Stop the writer (this and every later append
  // UNAVAILABLE, health NOT_SERVING) rather than fail one request and
  // carry on. Writer thread.
  absl::Status BreakInvariant(const absl::Status& why) {
    invariant_broken_ = absl::InternalError(
        absl::StrCat(kInvariantBrokenPrefix, why.message()));
    MarkUnhealthy(invariant_broken_);
    return invariant_broken_;
  }

  // Completes the group's requests on the calling thread (the committer's,
  // or the writer's for a group that never reached it). A completion only
  // queues the response in gRPC (`done` must not block): cheaper here than
  // a hand-off to another thread, which cost a wake-up and a context
  // switch per group (README, Performance).
  void Finish(Group* group, bool notify) {
    for (Pending& p : group->batch) {
      if (p.result.ok() && p.result->replayed) appends_replayed_.fetch_add(1);
      CountOutcome(p.result.status());
      p.done(std::move(p.result));
    }
    group->batch.clear();
    if (notify) NotifyListeners();
  }

  // What the writer hands the committer, checked right before it is
  // written: within the limits, positions gapless from the committed head,
  // each record chained to the one before, the head on the last record.
  void CheckGroup(const Group& group) const {
    PL_CHECK(group.batch.size() <= limits::kCommitGroupRequestsMax)
        << group.batch.size() << " requests in one commit group";
    uint64_t position = committed_head_.load();
    const StoredEvent* prev = nullptr;
    for (const StoredEvent& e : group.records) {
      PL_CHECK(e.position() == position + 1)
          << "position " << e.position() << " follows " << position;
      PL_CHECK(prev == nullptr || e.prev_hash() == prev->hash())
          << "the event at position " << e.position()
          << " does not chain to the one before it";
      position = e.position();
      prev = &e;
    }
    PL_CHECK(group.head_position == position)
        << "head " << group.head_position << " after the last record "
        << position;
    PL_CHECK(prev == nullptr || group.head_hash == prev->hash())
        << "the head's hash is not the last record's";
  }

  // Committer thread. Reads only the group's own records and changes.
  absl::Status CommitGroup(const Group& group) {
    CheckGroup(group);
    store::Batch b = store_->NewBatch();
    for (const StoredEvent& e : group.records) {
      if (absl::Status s = b.PutEvent(e); !s.ok()) {
        // A record we built fails its own checks: a bug that risks the
        // ledger. Refuse to write and stop acknowledging.
        return absl::InternalError(absl::StrCat("invariant: ", s.message()));
      }
      b.PutStreamIndex(e.stream(), e.revision(), e.position());
    }
    for (const auto& [stream, revision] : group.stream_revs) {
      b.PutStreamHead(stream, *revision);
    }
    for (const auto& [raw, entry] : group.event_ids) b.PutEventId(raw, entry);
    for (const store::RequestSpan& span : group.spans) b.PutRequestSpan(span);
    group.state.WriteTo(&b);
    if (tree_ != nullptr) tree_->Stage(group.records, group.leaves, &b);
    store::Head head;
    head.set_position(group.head_position);
    head.set_hash(group.head_hash);
    head.set_recorded_at_us(group.recorded_at_us);
    b.PutHead(head);
    if (commit_log_ != nullptr) {
      if (absl::Status s = AppendToCommitLog(group, b); !s.ok()) {
        if (tree_ != nullptr) tree_->Discard();
        return s;
      }
    }
    if (absl::Status s = store_->Commit(&b); !s.ok()) {
      if (tree_ != nullptr) tree_->Discard();
      return s;
    }
    if (tree_ != nullptr) tree_->Adopt();
    committed_head_.store(head.position());
    return absl::OkStatus();
  }

  // Lookups through the request scope, the group, its uncommitted
  // predecessor, then the store.
  absl::StatusOr<std::optional<uint64_t>> StreamRevision(
      const RequestScope& r, const std::string& stream) const {
    if (auto it = r.stream_revs.find(stream); it != r.stream_revs.end()) {
      return it->second;
    }
    for (const Group* g = r.group; g != nullptr; g = g->parent.get()) {
      if (auto it = g->stream_revs.find(stream); it != g->stream_revs.end()) {
        return it->second;
      }
    }
    return store_->StreamLastRevision(stream);
  }

  absl::StatusOr<std::optional<EventIdEntry>> LookupEventId(
      const RequestScope& r, const std::string& raw) const {
    for (const Group* g = r.group; g != nullptr; g = g->parent.get()) {
      if (auto it = g->event_ids.find(raw); it != g->event_ids.end()) {
        return it->second;
      }
    }
    return store_->LookupEventId(raw);
  }

  // Looks up a record of this group, its predecessor or the store (for
  // replays).
  absl::StatusOr<StoredEvent> RecordAt(const Group& group,
                                       uint64_t position) const {
    for (const Group* g = &group; g != nullptr; g = g->parent.get()) {
      if (!g->records.empty() && position >= g->records.front().position() &&
          position <= g->records.back().position()) {
        return g->records[position - g->records.front().position()];
      }
    }
    ASSIGN_OR_RETURN(std::optional<StoredEvent> e, store_->ReadEvent(position));
    if (!e.has_value()) {
      return absl::DataLossError(
          absl::StrCat("event id index points at missing position ", position));
    }
    return std::move(*e);
  }

  // The multi-position request `position` falls in, looked up in this
  // group, its predecessor, then the store (for replays).
  absl::StatusOr<std::optional<store::RequestSpan>> SpanAt(
      const Group& group, uint64_t position) const {
    for (const Group* g = &group; g != nullptr; g = g->parent.get()) {
      if (g->records.empty() || position < g->records.front().position() ||
          position > g->records.back().position()) {
        continue;
      }
      for (const store::RequestSpan& span : g->spans) {
        if (span.first <= position && position <= span.last) return span;
      }
      return std::nullopt;
    }
    return store_->RequestSpanAt(position);
  }

  absl::StatusOr<AppendResult> Decide(const Pending& p, int64_t now_us,
                                      Group* group) {
    const AppendRequest& req = p.request;
    RequestScope scope(group);
    // Idempotency first: a retry of an acknowledged append must succeed
    // even though the stream has moved on since.
    std::vector<std::string> digests;
    size_t known = 0;
    std::vector<uint64_t> known_positions;
    for (size_t i = 0; i < req.events.size(); ++i) {
      digests.push_back(ContentDigest(req.stream, req.events[i]));
      ASSIGN_OR_RETURN(std::optional<EventIdEntry> entry,
                       LookupEventId(scope, p.raw_ids[i]));
      if (!entry.has_value()) continue;
      if (entry->content_digest != digests.back()) {
        return absl::AlreadyExistsError(
            absl::StrCat("events[", i, "].event_id: ", req.events[i].event_id,
                         " was already used for different content at position ",
                         entry->position));
      }
      ++known;
      known_positions.push_back(entry->position);
    }
    if (known == req.events.size()) {
      return Replay(*group, req, known_positions);
    }
    if (known > 0) {
      return absl::AlreadyExistsError(absl::StrCat(
          known, " of the request's ", req.events.size(),
          " event ids are already recorded; a retry must resend the original "
          "request unchanged"));
    }
    RETURN_IF_ERROR(CheckExpected(scope, req));

    const uint64_t first_position = next_position_;
    const std::string first_hash = last_hash_;
    absl::StatusOr<AppendResult> result = Record(p, digests, now_us, &scope);
    if (!result.ok()) {
      next_position_ = first_position;
      last_hash_ = first_hash;
      return result;
    }
    // Fold the request into the group.
    if (result->commit_position > first_position) {
      group->spans.push_back({first_position, result->commit_position});
    }
    for (auto& [stream, rev] : scope.stream_revs)
      group->stream_revs[stream] = rev;
    for (auto& [raw, entry] : scope.event_ids) group->event_ids[raw] = entry;
    for (StoredEvent& e : scope.records) group->records.push_back(std::move(e));
    group->leaves.append(scope.leaves);
    scope.state.MergeIntoParent();
    return result;
  }

  absl::Status CheckExpected(const RequestScope& scope,
                             const AppendRequest& req) const {
    ASSIGN_OR_RETURN(std::optional<uint64_t> current,
                     StreamRevision(scope, req.stream));
    const ExpectedRevision& want = req.expected;
    bool ok = true;
    std::string expected_text;
    switch (want.kind) {
      case ExpectedRevision::Kind::kAny:
        break;
      case ExpectedRevision::Kind::kNoStream:
        ok = !current.has_value();
        expected_text = "no stream";
        break;
      case ExpectedRevision::Kind::kExists:
        ok = current.has_value();
        expected_text = "an existing stream";
        break;
      case ExpectedRevision::Kind::kExact:
        ok = current.has_value() && *current == want.revision;
        expected_text = absl::StrCat("revision ", want.revision);
        break;
    }
    if (ok) return absl::OkStatus();
    absl::Status aborted = absl::AbortedError(
        absl::StrCat("stream ", req.stream, ": expected ", expected_text,
                     ", current revision ", RevisionText(current)));
    aborted.SetPayload(kCurrentRevisionPayload,
                       absl::Cord(current.has_value() ? absl::StrCat(*current)
                                                      : std::string("-1")));
    return aborted;
  }

  // The original response of the request that recorded `positions` (the
  // request's events, in request order): every event it occupied, derived
  // ones included, and its commit position. A request whose events are
  // not exactly those of one recorded request is not a retry.
  absl::StatusOr<AppendResult> Replay(const Group& group,
                                      const AppendRequest& req,
                                      const std::vector<uint64_t>& positions) {
    const absl::Status not_a_retry = absl::AlreadyExistsError(absl::StrCat(
        "events: the event ids were recorded by a different request (from "
        "position ",
        positions.front(),
        "); a retry must resend the original request unchanged"));
    const uint64_t first = positions.front();
    ASSIGN_OR_RETURN(std::optional<store::RequestSpan> span,
                     SpanAt(group, first));
    uint64_t last = first;
    if (span.has_value()) {
      if (span->first != first) return not_a_retry;
      last = span->last;
    } else {
      // No span: the request occupied one position, or was recorded before
      // spans were kept; then its derived events follow its last event.
      last = *std::max_element(positions.begin(), positions.end());
      while (last + 1 < next_position_) {
        ASSIGN_OR_RETURN(StoredEvent next, RecordAt(group, last + 1));
        if (!next.derived()) break;
        ++last;
      }
    }
    AppendResult r;
    r.replayed = true;
    r.commit_position = last;
    size_t own = 0;
    for (uint64_t pos = first; pos <= last; ++pos) {
      ASSIGN_OR_RETURN(StoredEvent e, RecordAt(group, pos));
      if (!e.derived()) {
        if (own == positions.size() || positions[own] != pos)
          return not_a_retry;
        ++own;
      }
      if (e.stream() == req.stream) r.next_expected_revision = e.revision();
      r.events.push_back(AppendedEvent{pos, e.stream(), e.revision(),
                                       FormatUuid(e.event_id()), e.type(),
                                       e.derived()});
    }
    if (own != positions.size()) return not_a_retry;
    return r;
  }

  absl::StatusOr<AppendResult> Record(const Pending& p,
                                      const std::vector<std::string>& digests,
                                      int64_t now_us, RequestScope* scope) {
    const AppendRequest& req = p.request;
    AppendResult result;
    for (size_t i = 0; i < req.events.size(); ++i) {
      const NewEvent& ne = req.events[i];
      domain::Proposal proposal{req.stream, ne.event_id, req.actor,
                                ne.occurred_at_us, &ne.payload};
      absl::StatusOr<domain::Decision> d =
          rules_->Decide(scope->state, proposal);
      if (!d.ok() && d.status().code() == absl::StatusCode::kInternal) {
        return BreakInvariant(absl::Status(
            d.status().code(),
            absl::StrCat("events[", i, "]: ", d.status().message())));
      }
      if (!d.ok()) {
        return absl::Status(
            d.status().code(),
            absl::StrCat("events[", i, "]: ", d.status().message()));
      }
      StoredEvent e;
      e.set_event_id(p.raw_ids[i]);
      e.set_occurred_at_us(ne.occurred_at_us);
      e.set_actor(req.actor);
      e.set_correlation_id(ne.correlation_id);
      e.set_causation_id(ne.causation_id);
      ASSIGN_OR_RETURN(
          AppendedEvent a,
          Place(req.stream, d->payload, /*derived=*/false, now_us, &e, scope));
      scope->event_ids[p.raw_ids[i]] = EventIdEntry{a.position, digests[i]};
      result.next_expected_revision = a.revision;
      result.events.push_back(std::move(a));
      for (domain::DerivedEvent& de : d->derived) {
        std::optional<std::string> raw = ParseUuid(de.event_id);
        if (!raw.has_value()) {
          return BreakInvariant(
              absl::InternalError("rules derived an invalid event id"));
        }
        StoredEvent derived;
        derived.set_event_id(*raw);
        derived.set_occurred_at_us(ne.occurred_at_us);
        derived.set_actor(kSystemActor);
        derived.set_correlation_id(ne.correlation_id);
        derived.set_causation_id(ne.event_id);
        ASSIGN_OR_RETURN(AppendedEvent da,
                         Place(de.stream, de.payload, /*derived=*/true, now_us,
                               &derived, scope));
        // Derived ids are registered too, so they stay unique forever.
        scope->event_ids[*raw] =
            EventIdEntry{da.position, DigestBytes(Sha256Of(derived.payload()))};
        if (de.stream == req.stream)
          result.next_expected_revision = da.revision;
        result.events.push_back(std::move(da));
      }
    }
    result.commit_position = next_position_ - 1;
    return result;
  }

  // Assigns position, revision, time and hash; applies the event to state.
  absl::StatusOr<AppendedEvent> Place(const std::string& stream,
                                      const v1::EventPayload& payload,
                                      bool derived, int64_t now_us,
                                      StoredEvent* e, RequestScope* scope) {
    ASSIGN_OR_RETURN(std::optional<uint64_t> rev,
                     StreamRevision(*scope, stream));
    const uint64_t revision = rev.has_value() ? *rev + 1 : 0;
    const std::string_view type = domain::EventTypeName(payload.kind_case());
    e->set_position(next_position_);
    e->set_stream(stream);
    e->set_revision(revision);
    e->set_type(std::string(type));
    e->set_recorded_at_us(now_us);
    e->set_payload(SerializeDeterministic(payload));
    e->set_schema_version(kSchemaVersion);
    e->set_derived(derived);
    e->set_prev_hash(last_hash_);
    store::HashRecord(e, options_.merkle_tree ? &scope->leaves : nullptr);

    scope->state.set_position(e->position());
    const std::string event_id = FormatUuid(e->event_id());
    domain::Recorded rec{e->position(), e->stream(),         event_id,
                         now_us,        e->occurred_at_us(), &payload};
    if (absl::Status s = rules_->Apply(scope->state, rec); !s.ok()) {
      return BreakInvariant(
          absl::Status(s.code(), Cat("applying ", type, " at position ",
                                     e->position(), ": ", s.message())));
    }

    ++next_position_;
    last_hash_ = e->hash();
    scope->stream_revs[stream] = revision;
    AppendedEvent a{e->position(),     stream, revision, event_id,
                    std::string(type), derived};
    scope->records.push_back(std::move(*e));
    return a;
  }

  void CountOutcome(const absl::Status& s) {
    const size_t code = static_cast<size_t>(s.code());
    if (code < 17) appends_by_code_[code].fetch_add(1);
  }

  void MarkUnhealthy(const absl::Status& why) {
    absl::MutexLock lock(&mu_);
    healthy_ = false;
    unhealthy_reason_ = std::string(why.message());
  }

  void NotifyListeners() {
    const uint64_t head = head_position();
    absl::MutexLock lock(&listeners_mu_);
    for (auto& [id, listener] : listeners_) listener(head);
  }

  // ---- Replication (partnerledger/replication.h) ----

  // UNAVAILABLE "not the leader", with the leader's address attached.
  absl::Status NotLeaderError() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::Status s = absl::UnavailableError(
        leader_address_.empty()
            ? std::string("not the leader; the leader is not known yet, retry")
            : absl::StrCat("not the leader; the leader is ", leader_address_));
    s.SetPayload(kLeaderAddressPayload, absl::Cord(leader_address_));
    return s;
  }

  // Committer thread, with a commit log: writes the group only if it was
  // decided while this node leads, and no replicated group is applied
  // meanwhile.
  absl::Status CommitLeading(const Group& group) {
    group_logged_ = false;
    group_refused_ = false;
    absl::MutexLock apply(&apply_mu_);
    {
      absl::MutexLock lock(&mu_);
      if (!leader_ || group.epoch != role_epoch_) return NotLeaderError();
    }
    return CommitGroup(group);
  }

  // Committer thread: the group becomes durable of record before the local
  // store writes it.
  absl::Status AppendToCommitLog(const Group& group, const store::Batch& b) {
    const ReplicatedGroup replicated{group.records.front().position(),
                                     group.head_position, group.head_hash,
                                     b.Data()};
    if (absl::Status s = commit_log_->Append(replicated); !s.ok()) {
      group_refused_ = s.code() == absl::StatusCode::kResourceExhausted;
      return absl::UnavailableError(absl::StrCat(
          "the commit log did not take positions ", replicated.first_position,
          "..", replicated.last_position, ": ", s.message()));
    }
    group_logged_ = true;
    return absl::OkStatus();
  }

  // Committer thread: a group failed (the commit log refused it, or the
  // store failed after the log took it). The node no longer knows it leads:
  // it becomes a follower; this group and every group decided on top of it
  // fail with the returned status.
  absl::Status StepDown(const Group& group, const absl::Status& why) {
    // Decided while this node did not lead (CommitLeading): nothing changes.
    if (why.GetPayload(kLeaderAddressPayload).has_value()) return why;
    std::string reason(why.message());
    if (group_logged_) {
      reason = absl::StrCat(
          "the commit log holds positions ", group.records.front().position(),
          "..", group.head_position,
          " but the local store did not write them (catch up from the log "
          "before leading): ",
          why.message());
    }
    absl::MutexLock lock(&mu_);
    if (leader_ && group.epoch == role_epoch_) {
      leader_ = false;
      leader_address_.clear();
      ++role_epoch_;
      role_error_ = reason;
    }
    absl::Status s =
        absl::UnavailableError(absl::StrCat("not the leader: ", reason));
    s.SetPayload(kLeaderAddressPayload, absl::Cord(leader_address_));
    return s;
  }

  // Committer thread: the commit log refused the group for good (full, or
  // the group too large) and this node still leads. This group and those
  // decided on top of it fail; the writer reloads its state from the store
  // (TakeLead) and goes on leading, rather than giving the lead away over a
  // condition every node would meet.
  absl::Status KeepLeading(const Group& group, const absl::Status& why) {
    absl::MutexLock lock(&mu_);
    if (leader_ && group.epoch == role_epoch_) {
      reload_requested_ = true;
      queue_cv_.SignalAll();
    }
    return why;
  }

  // Writer thread, asked by SetLeader (or KeepLeading): with the committer idle
  // and no group being applied, reloads the writer's state from the store and
  // leads.
  void TakeLead() {
    {
      absl::MutexLock lock(&commit_mu_);
      WaitCommitterIdle();
      commit_failed_ = absl::OkStatus();
    }
    absl::MutexLock apply(&apply_mu_);
    absl::Status reloaded = ReloadWriterState();
    absl::MutexLock lock(&mu_);
    if (!reload_requested_) return;  // made a follower meanwhile
    reload_requested_ = false;
    reload_result_ = reloaded;
    if (!reloaded.ok()) {
      if (leader_) {  // KeepLeading's reload: stale state may not decide
        leader_ = false;
        ++role_epoch_;
        role_error_ = std::string(reloaded.message());
      }
      return;
    }
    leader_ = true;
    leader_address_.clear();
    role_error_.clear();
    ++role_epoch_;
  }

  // Writer thread, the committer idle.
  absl::Status ReloadWriterState() {
    ASSIGN_OR_RETURN(store::Head head, store_->ReadHead());
    if (head.position() != committed_head_.load()) {
      return absl::DataLossError(
          absl::StrCat("the stored head ", head.position(),
                       " is not the applied head ", committed_head_.load()));
    }
    if (options_.merkle_tree) {
      ASSIGN_OR_RETURN(tree_,
                       store::TreeWriter::Open(store_.get(), head.position()));
    }
    next_position_ = head.position() + 1;
    last_hash_ = head.hash();
    last_recorded_at_us_ =
        std::max(last_recorded_at_us_, head.recorded_at_us());
    return absl::OkStatus();
  }

  // Constant after construction.
  const Options options_;
  const std::unique_ptr<store::Store> store_;
  const std::unique_ptr<domain::Rules> owned_rules_;
  const domain::Rules* const rules_;
  CommitLog* const commit_log_;
  // SIZE_MAX without a commit log.
  const size_t group_log_bytes_max_;

  // The Merkle tree's edge (null when Options::merkle_tree is off). Start,
  // then the committer thread only.
  std::unique_ptr<store::TreeWriter> tree_;

  // Writer thread only.
  uint64_t next_position_ = 1;
  std::string last_hash_;
  int64_t last_recorded_at_us_ = 0;
  // Set once the rules broke an invariant; the writer then decides nothing.
  absl::Status invariant_broken_;
  std::thread writer_;

  std::atomic<uint64_t> committed_head_{0};
  std::atomic<uint64_t> commit_groups_{0};
  std::atomic<uint64_t> commit_group_requests_{0};
  std::atomic<uint64_t> events_written_{0};
  std::atomic<uint64_t> appends_replayed_{0};
  std::atomic<uint64_t> appends_by_code_[17] = {};

  mutable absl::Mutex mu_;
  absl::CondVar queue_cv_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool healthy_ ABSL_GUARDED_BY(mu_) = true;
  std::string unhealthy_reason_ ABSL_GUARDED_BY(mu_);
  // The role (ReplicationRole). The epoch changes with every change of
  // role; a group is written only in the leading epoch it was decided in.
  bool leader_ ABSL_GUARDED_BY(mu_) = true;
  std::string leader_address_ ABSL_GUARDED_BY(mu_);
  std::string role_error_ ABSL_GUARDED_BY(mu_);
  uint64_t role_epoch_ ABSL_GUARDED_BY(mu_) = 0;
  // SetLeader waits for the writer to reload its state (TakeLead).
  bool reload_requested_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status reload_result_ ABSL_GUARDED_BY(mu_);

  // Held while a replicated group is applied, and, with a commit log, while
  // the committer writes a group and while the writer takes the lead: the
  // applied head moves under one writer at a time. Taken before mu_.
  absl::Mutex apply_mu_;
  // Committer thread: the commit log took the group being written; the
  // commit log refused it for good (RESOURCE_EXHAUSTED).
  bool group_logged_ = false;
  bool group_refused_ = false;

  absl::Mutex commit_mu_;
  absl::CondVar commit_cv_;       // a group to commit, or stop
  absl::CondVar commit_slot_cv_;  // the committer took the group handed over
  absl::CondVar commit_idle_cv_;  // the committer is free
  std::shared_ptr<Group> commit_next_ ABSL_GUARDED_BY(commit_mu_);
  bool commit_busy_ ABSL_GUARDED_BY(commit_mu_) = false;
  bool committer_stopping_ ABSL_GUARDED_BY(commit_mu_) = false;
  absl::Status commit_failed_ ABSL_GUARDED_BY(commit_mu_);
  std::thread committer_;

  absl::Mutex listeners_mu_;
  uint64_t listener_seq_ ABSL_GUARDED_BY(listeners_mu_) = 0;
  std::map<uint64_t, std::function<void(uint64_t)>> listeners_
      ABSL_GUARDED_BY(listeners_mu_);

  // Reads waiting for a min_position (WaitForPosition).
  ledger::PositionWaiters waiters_;
};

}  // namespace

absl::StatusOr<AppendResult> Ledger::AppendAndWait(AppendRequest request) {
  absl::Notification done;
  std::optional<absl::StatusOr<AppendResult>> out;
  Append(std::move(request), [&](absl::StatusOr<AppendResult> r) {
    out.emplace(std::move(r));
    done.Notify();
  });
  done.WaitForNotification();
  return std::move(*out);
}

absl::Status Ledger::AwaitPosition(uint64_t position, absl::Time deadline) {
  absl::Notification done;
  absl::Status out;
  WaitForPosition(position, deadline, [&](absl::Status s) {
    out = std::move(s);
    done.Notify();
  });
  done.WaitForNotification();
  return out;
}

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::Open(const Options& options) {
  return ledger::OpenWithRules(options, nullptr);
}

absl::StatusOr<std::unique_ptr<Ledger>> ledger::OpenWithRules(
    const Options& options, const domain::Rules* rules) {
  store::StoreOptions so;
  so.dir = options.data_dir;
  so.env = options.env;
  so.sync = options.sync;
  ASSIGN_OR_RETURN(std::unique_ptr<store::Store> s, store::Store::Open(so));
  std::unique_ptr<domain::Rules> owned;
  if (rules == nullptr) owned = domain::NewPartnershipRules();
  auto ledger = std::make_unique<LedgerImpl>(options, std::move(s), rules,
                                             std::move(owned));
  RETURN_IF_ERROR(ledger->Start());
  return ledger;
}

namespace ledger {

const store::Store& StoreOf(const Ledger& ledger) {
  return static_cast<const LedgerImpl&>(ledger).store();
}

const domain::Rules& RulesOf(const Ledger& ledger) {
  return static_cast<const LedgerImpl&>(ledger).rules();
}

}  // namespace ledger
}  // namespace partnerledger

// The ledger: an append-only, hash-chained event log with projections.
// Start here.
//
// Appends go through one writer thread that takes everything waiting on a
// bounded queue (a commit group) and validates each request against state
// including earlier requests of the group (and the previous group, which a
// committer thread may still be writing). The committer writes events,
// indexes, projection changes and the new head in one RocksDB WriteBatch
// with sync=true; each request is acknowledged, from the committer thread,
// only after that fsync. A rejected request fails alone.
//
// What a caller sees: Append (AppendRequest -> AppendResult), reads of a
// stream or of the whole log in pages of RecordedEvent (ReadStream,
// ReadAll, ReadEvent, each bounded by limits.h and, optionally, by a
// server-wide ReadBudget), the chain hash at a position (GetDigest) and a
// recomputation of the chain (VerifyChain). Errors are absl::Status codes
// chosen by what the caller should do next (each method lists its own).
// Storage, rules and projections are internal: this header and the wire
// API (proto/partnerledger/v1/) are the whole contract.
//
// Thread safety: every method may be called from any thread.
#ifndef PARTNERLEDGER_LEDGER_H_
#define PARTNERLEDGER_LEDGER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "partnerledger/options.h"
#include "partnerledger/replication.h"
#include "partnerledger/v1/events.pb.h"

namespace partnerledger {

// An ABORTED append's status carries the stream's current revision under
// this payload URL, as decimal text ("-1": the stream does not exist).
inline constexpr char kCurrentRevisionPayload[] =
    "partnerledger/current-revision";

// Ledger::unhealthy_reason() starts with this when the writer stopped
// because the rules broke one of their invariants (rather than storage
// failing).
inline constexpr char kInvariantBrokenPrefix[] = "invariant broken: ";

// The concurrency check of an append: any state of the stream, no stream
// yet, an existing stream, or a stream whose last revision is `revision`.
// A failed check is ABORTED, with the stream's current revision attached
// (kCurrentRevisionPayload).
struct ExpectedRevision {
  enum class Kind { kAny, kNoStream, kExists, kExact };
  Kind kind = Kind::kAny;
  uint64_t revision = 0;  // for kExact

  static ExpectedRevision Any() { return {}; }
  static ExpectedRevision NoStream() { return {Kind::kNoStream, 0}; }
  static ExpectedRevision Exists() { return {Kind::kExists, 0}; }
  static ExpectedRevision Exact(uint64_t r) { return {Kind::kExact, r}; }
};

// One proposed event of an AppendRequest.
struct NewEvent {
  std::string event_id;        // canonical UUID text, the idempotency key
  int64_t occurred_at_us = 0;  // business time, microseconds since the epoch
  std::string correlation_id;
  std::string causation_id;
  v1::EventPayload payload;
};

// Events for one stream, written atomically (all or none) at consecutive
// positions, each followed by the events the rules derive from it.
struct AppendRequest {
  std::string stream;
  ExpectedRevision expected;
  std::vector<NewEvent> events;
  // The authenticated principal; empty means Options::default_actor.
  std::string actor;
};

// Where one event of an append landed.
struct AppendedEvent {
  uint64_t position = 0;
  std::string stream;
  uint64_t revision = 0;
  std::string event_id;
  std::string type;
  bool derived = false;
};

struct AppendResult {
  // The request's events, each followed by the events derived from it, in
  // log order. A replay (a retry of a recorded request) answers exactly
  // what the original answered, flagged `replayed`.
  std::vector<AppendedEvent> events;
  // The revision of the stream's last event after the append.
  uint64_t next_expected_revision = 0;
  bool replayed = false;
  // The request's last position (derived events included): reading as of
  // it shows the request's whole effect.
  uint64_t commit_position = 0;
};

// The bytes of read responses in flight across a server
// (limits::kReadBytesInFlightMax): every page reserves what it holds, through
// a ReadReservation, until its response is sent. When the last bytes of a
// large spike are released, free memory goes back to the operating system.
// Thread-safe.
class ReadBudget {
 public:
  explicit ReadBudget(size_t bytes_max = limits::kReadBytesInFlightMax)
      : bytes_max_(bytes_max) {}
  ReadBudget(const ReadBudget&) = delete;
  ReadBudget& operator=(const ReadBudget&) = delete;

  size_t bytes_max() const { return bytes_max_; }
  size_t in_flight_bytes() const { return in_flight_bytes_.load(); }
  // The most ever in flight at once.
  size_t peak_bytes() const { return peak_bytes_.load(); }
  // Reads refused (RESOURCE_EXHAUSTED) because nothing could be reserved.
  uint64_t refused() const { return refused_.load(); }
  // Times memory was handed back to the operating system.
  uint64_t trims() const { return trims_.load(); }

 private:
  friend class ReadReservation;
  bool TryReserve(size_t bytes);
  void Release(size_t bytes);

  const size_t bytes_max_;
  std::atomic<size_t> in_flight_bytes_{0};
  std::atomic<size_t> peak_bytes_{0};
  std::atomic<size_t> released_since_trim_bytes_{0};
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> trims_{0};
};

// What one response (or one subscriber's buffer) holds of a ReadBudget;
// released when destroyed or reset. Not thread-safe.
class ReadReservation {
 public:
  // `budget` nullptr: no limit. The budget must outlive the reservation.
  explicit ReadReservation(ReadBudget* budget) : budget_(budget) {}
  ~ReadReservation() { Reset(); }
  ReadReservation(const ReadReservation&) = delete;
  ReadReservation& operator=(const ReadReservation&) = delete;

  // Reserves `bytes` more; false, reserving nothing, if the budget cannot.
  bool TryAdd(size_t bytes);
  void Reset();
  size_t bytes() const { return bytes_; }
  // RESOURCE_EXHAUSTED for a read that could not reserve its first event,
  // with a retry hint; counts the refusal.
  absl::Status Exhausted() const;

 private:
  ReadBudget* const budget_;
  size_t bytes_ = 0;
};

// The gRPC trailer that carries the retry hint of a RESOURCE_EXHAUSTED read
// (gRPC's retry pushback), in milliseconds.
inline constexpr char kRetryPushbackTrailer[] = "grpc-retry-pushback-ms";
inline constexpr int kReadRetryAfterMs = 100;

// One event as the log holds it: what was proposed plus what the writer
// assigned (position, revision, recorded_at, actor, hashes).
struct RecordedEvent {
  uint64_t position = 0;  // 1-based, gapless across the log
  std::string stream;
  uint64_t revision = 0;       // 0-based, gapless within the stream
  std::string event_id;        // the 16 raw bytes of the event's UUID
  std::string type;            // the payload's case, e.g. "PartnerRegistered"
  int64_t occurred_at_us = 0;  // business time
  int64_t recorded_at_us = 0;  // ledger time; never decreases along the log
  std::string actor;           // who appended it (the principal)
  std::string correlation_id;
  std::string causation_id;
  // The serialized v1::EventPayload exactly as accepted (unknown fields
  // kept), in the payload schema `schema_version`: read it with
  // DecodePayload.
  std::string payload;
  uint32_t schema_version = 0;
  bool derived = false;   // written by the rules, not proposed
  std::string prev_hash;  // 32 bytes: the previous event's hash
  // 32 bytes: SHA-256(prev_hash || canonical bytes of every field above).
  std::string hash;
};

// The payload of `e`, upcast to the current schema. DATA_LOSS (naming the
// position) when the stored bytes do not parse.
absl::StatusOr<v1::EventPayload> DecodePayload(const RecordedEvent& e);

enum class Direction { kForward, kBackward };

// Which events ReadAll returns; empty lists match everything.
struct EventFilter {
  std::vector<std::string> event_types;      // RecordedEvent::type, any of
  std::vector<std::string> stream_prefixes;  // stream starts with any of
  bool Matches(std::string_view type, std::string_view stream) const;
  bool empty() const { return event_types.empty() && stream_prefixes.empty(); }
};

// How ReadStream reads (leveldb ReadOptions-style: set what differs from
// the defaults).
struct ReadStreamOptions {
  // The first revision returned; ignored with from_end.
  uint64_t from_revision = 0;
  // Start at the stream's last revision instead (usually with kBackward).
  bool from_end = false;
  Direction direction = Direction::kForward;
  // REQUIRES: 0 < max_count <= limits::kReadPageMax.
  uint32_t max_count = limits::kReadPageDefault;
  // The page's share of a ReadBudget; nullptr: no budget. Not owned.
  ReadReservation* reservation = nullptr;
};

struct StreamPage {
  std::vector<RecordedEvent> events;
  // Where the next page starts, unless end_of_stream.
  uint64_t next_revision = 0;
  bool end_of_stream = true;
  // The stream's last revision when the page was read.
  uint64_t last_revision = 0;
};

// How ReadAll reads.
struct ReadAllOptions {
  // The first position examined; 0 means the start (kForward) or the head
  // (kBackward).
  uint64_t from_position = 0;
  Direction direction = Direction::kForward;
  // REQUIRES: 0 < max_count <= limits::kReadPageMax.
  uint32_t max_count = limits::kReadPageDefault;
  // Only events it matches; nullptr: every event. Not owned.
  const EventFilter* filter = nullptr;
  // The page's share of a ReadBudget; nullptr: no budget. Not owned.
  ReadReservation* reservation = nullptr;
};

struct LogPage {
  std::vector<RecordedEvent> events;
  // Where the next page starts (past every event examined, matched or
  // not), unless end_of_log.
  uint64_t next_position = 0;
  bool end_of_log = true;
  uint64_t head_position = 0;
};

// The chain hash after the event at `position` (position 0: the genesis
// hash of an empty log).
struct ChainDigest {
  uint64_t position = 0;
  std::string hash;  // 32 bytes
};

// The outcome of VerifyChain; a broken chain is ok == false (not an error
// status), with the first position that does not verify.
struct VerifyResult {
  bool ok = true;
  uint64_t verified_through = 0;
  uint64_t first_bad_position = 0;
  std::string message;
  uint64_t events_checked = 0;
};

// A node's part in replication (partnerledger/replication.h).
struct ReplicationRole {
  // Decides appends. Always true without a commit log.
  bool leader = true;
  // The leader's address as last given to SetFollower (empty: unknown, or
  // this node leads).
  std::string leader_address;
  // Why the node stopped leading by itself, when it did: the commit log
  // refused a group, or the local store failed to write a group the log
  // already held (then the node must catch up from the log before it may
  // lead again). Empty otherwise; cleared by SetLeader.
  std::string error;
};

// The UNAVAILABLE of a read whose min_position this node had not applied
// (only through `applied`) when its wait ended.
absl::Status MinPositionNotReached(uint64_t min_position, uint64_t applied);

// Number of absl::StatusCode values (OK = 0 .. UNAUTHENTICATED = 16).
inline constexpr size_t kStatusCodeCount = 17;

// Counters for metrics; monotonic except the gauges noted.
struct LedgerStats {
  uint64_t head_position = 0;          // gauge
  uint64_t queue_depth = 0;            // gauge: appends waiting
  uint64_t commit_groups = 0;          // groups written (one fsync each)
  uint64_t commit_group_requests = 0;  // requests in those groups
  uint64_t events_written = 0;         // including derived events
  uint64_t appends_replayed = 0;       // idempotent retries
  uint64_t position_waiters = 0;       // gauge: reads awaiting min_position
  // Completed appends by absl::StatusCode (index = code, 0 = OK).
  uint64_t appends_by_code[kStatusCodeCount] = {};
};

class Ledger {
 public:
  // Opens the data directory, recovers the head and starts the writer.
  // Errors: UNAVAILABLE (I/O), DATA_LOSS (corruption, or a head that does not
  // match the last event).
  static absl::StatusOr<std::unique_ptr<Ledger>> Open(const Options& options);
  // Completes every queued append, then stops the writer.
  virtual ~Ledger() = default;

  using AppendCallback = std::function<void(absl::StatusOr<AppendResult>)>;
  // Validates the request's shape (INVALID_ARGUMENT naming the field) and
  // queues it; `done` runs exactly once, on the committer thread after the
  // commit's fsync, or on the caller's thread for an immediate rejection
  // (invalid, RESOURCE_EXHAUSTED when the queue is full, UNAVAILABLE after a
  // storage failure, or on a node that does not lead: see SetFollower).
  // With a commit log, a group is acknowledged only after the log of record
  // holds it (CommitLog::Append) and the local store has written it; a
  // refusal of the log fails the group UNAVAILABLE. `done` must not block.
  virtual void Append(AppendRequest request, AppendCallback done) = 0;
  // Append, waiting for the outcome.
  absl::StatusOr<AppendResult> AppendAndWait(AppendRequest request);

  // A page of a stream, in revision order (Direction). NOT_FOUND if the
  // stream does not exist. Only acknowledged events (at or below
  // head_position()) are returned.
  // REQUIRES: 0 < options.max_count <= limits::kReadPageMax.
  // Pages hold at most max_count events and limits::kReadPageBytesMax
  // record bytes (at least one event). With a reservation, each event
  // reserves twice its record size; when that fails the page ends early,
  // or, with no event yet, the read is RESOURCE_EXHAUSTED.
  virtual absl::StatusOr<StreamPage> ReadStream(
      const std::string& stream, const ReadStreamOptions& options) const = 0;
  // A page of the log, in position order. Examines at most
  // limits::kFilterScanMax events. Bounded like ReadStream's pages.
  virtual absl::StatusOr<LogPage> ReadAll(
      const ReadAllOptions& options) const = 0;
  // One event by position; NOT_FOUND at 0 or beyond the head, DATA_LOSS if
  // it is missing or fails its checks below the head.
  virtual absl::StatusOr<RecordedEvent> ReadEvent(uint64_t position) const = 0;

  // The position of the last committed (durable and visible) event.
  virtual uint64_t head_position() const = 0;
  // The chain hash at a position (0 = head). NOT_FOUND beyond the head.
  virtual absl::StatusOr<ChainDigest> GetDigest(uint64_t position) const = 0;
  // Recomputes the chain over [from, to] (0 = 1 / head); with `expected`,
  // also checks that the event at expected.position has expected.hash.
  // INVALID_ARGUMENT when [from, to] spans more than
  // limits::kVerifyChainPositionsMax positions.
  virtual absl::StatusOr<VerifyResult> VerifyChain(
      uint64_t from, uint64_t to,
      const std::optional<ChainDigest>& expected) const = 0;

  // Calls `listener(head_position)` on the committer thread after each
  // commit.
  // It must not block. Returns an id for RemoveCommitListener.
  virtual uint64_t AddCommitListener(
      std::function<void(uint64_t)> listener) = 0;
  virtual void RemoveCommitListener(uint64_t id) = 0;

  // False once a storage write failed, or once the rules broke an invariant
  // on an event they had accepted (Apply failed, or Decide failed with
  // INTERNAL): the writer stops, that append and every later one get
  // UNAVAILABLE, reads go on.
  virtual bool healthy() const = 0;
  virtual std::string unhealthy_reason() const = 0;

  virtual LedgerStats stats() const = 0;

  // ---- Replication (partnerledger/replication.h) ----

  // Applies one group taken from the log of record, on a follower or on a
  // node catching up before it leads. Checks, before writing anything:
  // group.first_position is head_position() + 1 (else FAILED_PRECONDITION
  // naming both positions); the batch holds exactly the events
  // first_position..last_position, each a valid record chained to the one
  // before and the first to the local head's hash, the last hash is
  // group.last_hash, and the batch's head record says the same (else
  // DATA_LOSS naming the position, and nothing is written). Then writes the
  // batch with sync, advances the head (reads, GetDigest, proofs see it)
  // and notifies commit listeners (Subscribe, min_position waiters).
  // A group already applied (last_position <= head_position() and the
  // local hash at last_position is group.last_hash) is OK and writes
  // nothing, so redelivery is harmless; same positions with another hash is
  // DATA_LOSS (a fork). FAILED_PRECONDITION on a leader for a group it has
  // not applied (a leader applies only its own groups, in its committer).
  // UNAVAILABLE when the store fails to write (retry). Calls are
  // serialized; call from one thread at a time in position order.
  virtual absl::Status ApplyReplicated(const ReplicatedGroup& group) = 0;

  // Stops deciding appends: from now on Append fails UNAVAILABLE "not the
  // leader" with `leader_address` (empty if unknown) attached under
  // kLeaderAddressPayload. Groups already decided still go to the commit
  // log, which refuses them if another node leads. Idempotent; may be
  // called again to update the address.
  virtual void SetFollower(std::string leader_address) = 0;
  // Starts deciding appends. Call only once this node has applied every
  // group in the log of record (ApplyReplicated): the writer reloads its
  // state (next position, last hash, recorded_at floor, Merkle tree edge)
  // from the local store, a previous commit-log failure is forgotten, and
  // appends are accepted. Returns once the writer has reloaded; UNAVAILABLE
  // or DATA_LOSS if reading the store fails, UNAVAILABLE if SetFollower
  // came first (the node stays a follower). FAILED_PRECONDITION once the
  // writer stopped (healthy() false). Leading already: OK, nothing changes.
  virtual absl::Status SetLeader() = 0;
  virtual ReplicationRole role() const = 0;

  // Runs `done(OkStatus())` once head_position() >= position: at once, on
  // the caller's thread, if it already is; else on the thread that applied
  // or committed the position. At `deadline` first: `done` gets UNAVAILABLE
  // naming `position` and the applied head (on the ledger's timer thread).
  // More than limits::kPositionWaitersMax waiting: RESOURCE_EXHAUSTED at
  // once. `done` runs exactly once and must not block. Reads with a
  // min_position are served through it (read-your-writes across nodes).
  virtual void WaitForPosition(uint64_t position, absl::Time deadline,
                               std::function<void(absl::Status)> done) = 0;
  // WaitForPosition, blocking the caller until it completes.
  absl::Status AwaitPosition(uint64_t position, absl::Time deadline);

  // The options the ledger was opened with.
  virtual const Options& options() const = 0;
};

}  // namespace partnerledger

#endif  // PARTNERLEDGER_LEDGER_H_

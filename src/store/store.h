// RocksDB storage of the log, its indexes, the head and projection state.
//
// Thread safety: all methods are safe to call concurrently. Writes are
// expected from one thread (the ledger's writer); reads from any.
#ifndef PARTNERLEDGER_STORE_STORE_H_
#define PARTNERLEDGER_STORE_STORE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "partnerledger/storage/v1/records.pb.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "store/keys.h"
#include "store/record_codec.h"
#include "store/wal_tail.h"

namespace partnerledger::store {

using storage::v1::Head;

struct StoreOptions {
  std::string dir;
  // Not owned; nullptr means rocksdb::Env::Default(). Tests inject a file
  // system that simulates power loss.
  rocksdb::Env* env = nullptr;
  // fsync every commit. Only tests (the power-loss negative control) and
  // explicitly unsafe benchmarks turn it off.
  bool sync = true;
  // When RocksDB refuses to open because the last WAL record is torn (see
  // store/wal_tail.h), cut that unacknowledged tail and open. Off: refuse.
  bool repair_torn_wal_tail = true;
  bool create_if_missing = true;
  // Opens without writing (offline verification of a data directory).
  bool read_only = false;
  // No write-ahead log: for scratch stores (rebuild) that are thrown away
  // if the process dies.
  bool disable_wal = false;
  // The projection history is only appended to, never read, until the
  // store is compared or queried (a rebuild's scratch store): keep its
  // memtable as an unsorted vector, sorted once at flush, instead of a
  // skiplist sorted on every insert.
  bool append_only_history = false;
};

// A value of the versioned state families: present or deleted.
struct StateValue {
  bool present = false;
  std::string bytes;
};

// The positions one append request occupies: its events and the events
// derived from them, contiguous in the log.
struct RequestSpan {
  uint64_t first = 0;
  uint64_t last = 0;
};

// One atomic set of changes. Not thread-safe.
class Batch {
 public:
  // Validates the record (ValidateRecord) before adding it.
  absl::Status PutEvent(const StoredEvent& e);
  void PutStreamIndex(std::string_view stream, uint64_t revision,
                      uint64_t position);
  // The stream's last revision (once per stream and batch: the last wins).
  void PutStreamHead(std::string_view stream, uint64_t revision);
  void PutEventId(std::string_view raw_id, const EventIdEntry& entry);
  void PutHead(const Head& head);
  // Records a request that occupies more than one position; a request with
  // no span recorded occupies one position.
  void PutRequestSpan(const RequestSpan& span);
  // Records `key` = value (or deleted) as of `position` in both the current
  // and the history family.
  void PutState(std::string_view key, uint64_t position, const StateValue& v);
  // The halves of PutState, for writers that record many changes of one key
  // in a batch: every change in the history, only the last as current.
  void PutStateHistory(std::string_view key, uint64_t position,
                       const StateValue& v);
  void PutStateCurrent(std::string_view key, const StateValue& v);
  // Lists `key` in the registry ScanState reads. Written once per key (not
  // per change), so scans never step over the versions of hot keys.
  void RegisterStateKey(std::string_view key);
  // The Merkle tree (store/merkle_tree.h): a complete subtree's hash, and
  // the number of leaves the stored tree covers.
  void PutMerkleNode(int level, uint64_t index, std::string_view hash);
  void PutMerkleTreeSize(uint64_t size);

  size_t ApproximateBytes() const { return batch_.GetDataSize(); }
  // The batch's bytes as RocksDB writes them (its WriteBatch
  // representation): what a replicated log carries and
  // Store::CommitReplicated writes on another node.
  const std::string& Data() const { return batch_.Data(); }

 private:
  friend class Store;
  explicit Batch(class Store* store) : store_(store) {}
  class Store* store_;
  rocksdb::WriteBatch batch_;
};

class Store;

// A consistent read view of the head and the current projection state at
// one instant (a RocksDB snapshot): the cheapest way to answer a query at
// the head, with point lookups instead of history seeks. Not thread-safe;
// the Store must outlive it.
class StateSnapshot {
 public:
  ~StateSnapshot();
  StateSnapshot(const StateSnapshot&) = delete;
  StateSnapshot& operator=(const StateSnapshot&) = delete;

  // The durable head the view reflects.
  uint64_t position() const { return position_; }
  int64_t recorded_at_us() const { return recorded_at_us_; }
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const;
  // Present keys under `prefix`, in key order, with their values.
  absl::Status Scan(std::string_view prefix,
                    const std::function<bool(std::string_view,
                                             std::string_view)>& visit) const;

 private:
  friend class Store;
  StateSnapshot(const Store* store, const rocksdb::Snapshot* snapshot)
      : store_(store), snapshot_(snapshot) {}
  const Store* store_;
  const rocksdb::Snapshot* snapshot_;
  uint64_t position_ = 0;
  int64_t recorded_at_us_ = 0;
};

// What a replicated batch (Batch::Data of another node) writes, decoded and
// checked by Store::DecodeReplicatedBatch.
struct ReplicatedBatch {
  // The events it writes, each decoded and validated (ValidateRecord), in
  // the order the batch writes them.
  std::vector<StoredEvent> events;
  // The head it writes; nullopt if it writes none.
  std::optional<Head> head;
  // Every write of the batch (all are puts).
  uint32_t writes = 0;
};

class Store {
 public:
  // Opens (creating if allowed) the data directory. Errors: UNAVAILABLE for
  // I/O, DATA_LOSS when RocksDB reports corruption.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& o);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // What the open dropped of a torn WAL tail, if it did (logged and counted
  // by the server).
  const std::optional<WalTailRepair>& wal_tail_repair() const {
    return wal_tail_repair_;
  }

  Batch NewBatch() { return Batch(this); }
  // Writes the batch atomically; with sync it returns after fsync.
  // UNAVAILABLE on I/O failure.
  absl::Status Commit(Batch* batch);

  // Replicated batches (src/store/replicated_batch.cc) carry column family
  // ids: every node must number its families alike (default 0, then the
  // Family order from 1). FAILED_PRECONDITION naming the family otherwise.
  absl::Status CheckFamilyIds() const;
  // Decodes the bytes of another node's batch: only puts into this store's
  // families, events under their own position's key, each record valid, at
  // most one head that parses. DATA_LOSS naming what is wrong otherwise.
  absl::StatusOr<ReplicatedBatch> DecodeReplicatedBatch(
      const std::string& bytes) const;
  // Writes such bytes atomically, synced like Commit. The caller decodes
  // and checks them first. UNAVAILABLE on I/O failure.
  absl::Status CommitReplicated(const std::string& bytes);

  // The durable head; position 0 with the genesis hash for an empty log.
  absl::StatusOr<Head> ReadHead() const;
  // nullopt if no such position. DATA_LOSS if the record fails validation.
  absl::StatusOr<std::optional<StoredEvent>> ReadEvent(uint64_t position) const;
  // Visits events from `from` in the direction given, until `visit` returns
  // false or the log ends. Each record is validated after reading.
  absl::Status ScanEvents(
      uint64_t from, bool forward,
      const std::function<bool(StoredEvent&&)>& visit) const;

  // The stream's last revision, or nullopt when the stream does not exist.
  absl::StatusOr<std::optional<uint64_t>> StreamLastRevision(
      std::string_view stream) const;
  // Positions of the stream's events from `from_revision`, at most `max`.
  absl::StatusOr<std::vector<uint64_t>> StreamPositions(std::string_view stream,
                                                        uint64_t from_revision,
                                                        bool forward,
                                                        size_t max) const;

  absl::StatusOr<std::optional<EventIdEntry>> LookupEventId(
      std::string_view raw_id) const;

  // The multi-position request that `position` falls in, nullopt when the
  // position is a request of its own (one seek).
  absl::StatusOr<std::optional<RequestSpan>> RequestSpanAt(
      uint64_t position) const;
  // The end of the last whole request at or before `position`: `position`
  // itself unless it falls inside a request, else the position before that
  // request's first event.
  absl::StatusOr<uint64_t> WholeRequestsThrough(uint64_t position) const;

  // Current value of a state key (nullopt if never written or deleted).
  absl::StatusOr<std::optional<std::string>> GetState(
      std::string_view key) const;
  // Value of a state key as of a log position.
  absl::StatusOr<std::optional<std::string>> GetStateAt(
      std::string_view key, uint64_t position) const;
  // Visits every state key ever written under the prefix (from the key
  // registry; deleted keys included), in key order, until `visit` returns
  // false.
  absl::Status ScanStateKeys(
      std::string_view prefix,
      const std::function<bool(std::string_view)>& visit) const;
  // ScanStateKeys with each key's current value (present=false: deleted).
  absl::Status ScanState(
      std::string_view prefix,
      const std::function<bool(std::string_view, const StateValue&)>& visit)
      const;

  // Iterates a column family from `start` (empty: the first key) in key
  // order until `visit` returns false (rebuild comparison, verification).
  enum class Family {
    kEvents,
    kStreams,
    kEventIds,
    kMeta,
    kState,
    kStateHist,
    kMerkle
  };
  absl::Status ScanFamily(
      Family f,
      const std::function<bool(std::string_view, std::string_view)>& visit,
      std::string_view start = {}) const;

  // A raw iterator over a family (lockstep comparisons), at `snapshot`
  // (nullptr: the latest state). Not positioned.
  std::unique_ptr<rocksdb::Iterator> NewIterator(
      Family f, const rocksdb::Snapshot* snapshot = nullptr) const;
  // A raw value of a family at `snapshot` (nullptr: latest); nullopt when
  // absent. DATA_LOSS on corruption.
  absl::StatusOr<std::optional<std::string>> GetRaw(
      Family f, std::string_view key,
      const rocksdb::Snapshot* snapshot = nullptr) const;
  // A consistent view for verification; released with the pointer.
  std::shared_ptr<const rocksdb::Snapshot> NewSnapshot() const;
  // The head as of `snapshot` (ReadHead at a snapshot).
  absl::StatusOr<Head> ReadHeadAt(const rocksdb::Snapshot* snapshot) const;

  // A live SST file and the column family it belongs to.
  struct SstFile {
    std::string family;
    std::string path;
    uint64_t bytes = 0;
  };
  std::vector<SstFile> LiveSstFiles() const;
  // Reads every block of one SST file and checks its checksum. DATA_LOSS
  // (naming the family and file) on a mismatch; NOT_FOUND when the file is
  // gone (compacted away meanwhile); UNAVAILABLE on I/O errors.
  absl::Status VerifySstFile(const SstFile& f) const;
  // Every block of every live SST file of one version of the database
  // (RocksDB's DB::VerifyChecksum). DATA_LOSS names the family and file.
  absl::Status VerifyAllChecksums() const;

  // The hash of the Merkle tree's complete subtree (level, index); nullopt
  // if not stored. DATA_LOSS if the value is not 32 bytes.
  absl::StatusOr<std::optional<std::string>> ReadMerkleNode(
      int level, uint64_t index) const;
  // The leaves the stored Merkle tree covers; 0 when none is stored.
  absl::StatusOr<uint64_t> ReadMerkleTreeSize() const;

  // A snapshot of the head and current state. DATA_LOSS if the head record
  // is corrupt.
  absl::StatusOr<std::unique_ptr<StateSnapshot>> NewStateSnapshot() const;

  // A RocksDB integer property (e.g. "rocksdb.total-sst-files-size"); 0
  // when unknown. For metrics.
  uint64_t IntProperty(const std::string& name) const;

  rocksdb::DB* db() { return db_.get(); }

 private:
  friend class Batch;
  friend class StateSnapshot;
  Store() = default;
  rocksdb::ColumnFamilyHandle* cf(Family f) const;
  // The value under `key` in `f`, nullopt when absent; a failed read is
  // FromRocks(status, what).
  absl::StatusOr<std::optional<std::string>> Read(const rocksdb::ReadOptions& r,
                                                  Family f,
                                                  std::string_view key,
                                                  std::string_view what) const;
  // The head record as `r` sees it (the genesis head when there is none).
  absl::StatusOr<Head> ReadHeadWith(const rocksdb::ReadOptions& r) const;

  // Constant after construction.
  bool sync_ = true;
  bool disable_wal_ = false;
  bool read_only_ = false;
  std::optional<WalTailRepair> wal_tail_repair_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

// The family's RocksDB column family name ("events", "streams", ...).
const char* FamilyName(Store::Family f);
// meta key of the head record.
inline constexpr char kHeadMetaKey[] = "head";
// meta key of a stream's last revision.
std::string StreamHeadMetaKey(std::string_view stream);

std::string EncodeStateValue(const StateValue& v);
StateValue DecodeStateValue(std::string_view bytes);
// Maps a RocksDB status to the ledger's codes (UNAVAILABLE, DATA_LOSS, ...).
absl::Status FromRocks(const rocksdb::Status& s, std::string_view what);

}  // namespace partnerledger::store

#endif  // PARTNERLEDGER_STORE_STORE_H_

#include "store/store.h"

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/convenience.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/memtablerep.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "store/info_log.h"
#include "util/status_macros.h"

namespace partnerledger::store {
namespace {

// Column family names, in handles_ order after "default".
constexpr const char* kFamilyNames[] = {
    "events", "streams", "event_ids", "meta", "state", "state_hist", "merkle"};
constexpr const char* kHeadKey = kHeadMetaKey;
// State keys are printable and never start with '#'.
constexpr char kRegistryPrefix[] = "#k/";
std::string RegistryKey(std::string_view key) {
  std::string k = kRegistryPrefix;
  k.append(key);
  return k;
}
std::string StreamHeadKey(std::string_view stream) {
  return StreamHeadMetaKey(stream);
}

// meta "r/" + BE64(first position) -> BE64(last position): a request that
// occupies more than one position. Single-event requests without derived
// events (the common case) write nothing here.
constexpr char kRequestSpanPrefix[] = "r/";
std::string RequestSpanKey(uint64_t first) {
  std::string k = kRequestSpanPrefix;
  PutBigEndian64(&k, first);
  return k;
}

rocksdb::ColumnFamilyOptions FamilyOptions(bool point_lookups) {
  rocksdb::ColumnFamilyOptions o;
  rocksdb::BlockBasedTableOptions t;
  // Checksums are on by default (kCRC32c); keep them and verify on read.
  t.checksum = rocksdb::kXXH3;
  if (point_lookups) {
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    // Most lookups of a new event id or stream miss: let the memtable's
    // bloom filter answer them instead of a skiplist search.
    o.memtable_whole_key_filtering = true;
    o.memtable_prefix_bloom_size_ratio = 0.05;
  }
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

}  // namespace

// meta "s/" + stream -> BE64(last revision): the stream's head, read with a
// point lookup (bloom filtered) on every append instead of an iterator seek.
std::string StreamHeadMetaKey(std::string_view stream) {
  std::string k = "s/";
  k.append(stream);
  return k;
}

const char* FamilyName(Store::Family f) {
  return kFamilyNames[static_cast<size_t>(f)];
}

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = absl::StrCat(std::string(what), ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  return absl::UnavailableError(msg);
}

std::string EncodeStateValue(const StateValue& v) {
  std::string out(1, v.present ? '\1' : '\0');
  if (v.present) out.append(v.bytes);
  return out;
}

StateValue DecodeStateValue(std::string_view bytes) {
  StateValue v;
  v.present = !bytes.empty() && bytes[0] == '\1';
  if (v.present) v.bytes.assign(bytes.substr(1));
  return v;
}

absl::Status Batch::PutEvent(const StoredEvent& e) {
  ASSIGN_OR_RETURN(std::string bytes, EncodeRecord(e));
  batch_.Put(store_->cf(Store::Family::kEvents), EventKey(e.position()), bytes);
  return absl::OkStatus();
}

void Batch::PutStreamIndex(std::string_view stream, uint64_t revision,
                           uint64_t position) {
  batch_.Put(store_->cf(Store::Family::kStreams), StreamKey(stream, revision),
             EventKey(position));
}

void Batch::PutStreamHead(std::string_view stream, uint64_t revision) {
  batch_.Put(store_->cf(Store::Family::kMeta), StreamHeadKey(stream),
             EventKey(revision));
}

void Batch::PutEventId(std::string_view raw_id, const EventIdEntry& entry) {
  batch_.Put(store_->cf(Store::Family::kEventIds), rocksdb::Slice(raw_id),
             EncodeEventIdEntry(entry));
}

void Batch::PutHead(const Head& head) {
  batch_.Put(store_->cf(Store::Family::kMeta), kHeadKey,
             head.SerializeAsString());
}

void Batch::PutRequestSpan(const RequestSpan& span) {
  batch_.Put(store_->cf(Store::Family::kMeta), RequestSpanKey(span.first),
             EventKey(span.last));
}

void Batch::PutState(std::string_view key, uint64_t position,
                     const StateValue& v) {
  PutStateCurrent(key, v);
  PutStateHistory(key, position, v);
  RegisterStateKey(key);
}

void Batch::RegisterStateKey(std::string_view key) {
  batch_.Put(store_->cf(Store::Family::kState), RegistryKey(key),
             rocksdb::Slice());
}

void Batch::PutStateHistory(std::string_view key, uint64_t position,
                            const StateValue& v) {
  batch_.Put(store_->cf(Store::Family::kStateHist),
             StateHistoryKey(key, position), EncodeStateValue(v));
}

void Batch::PutStateCurrent(std::string_view key, const StateValue& v) {
  batch_.Put(store_->cf(Store::Family::kState), rocksdb::Slice(key),
             EncodeStateValue(v));
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& o) {
  rocksdb::DBOptions db_opts;
  db_opts.create_if_missing = o.create_if_missing;
  db_opts.create_missing_column_families = o.create_if_missing;
  // A torn last WAL record is an unacknowledged write (its fsync never
  // returned): drop it. Corruption anywhere else still fails the open.
  db_opts.wal_recovery_mode =
      rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  db_opts.paranoid_checks = true;
  db_opts.max_background_jobs = 2;
  db_opts.max_open_files = 512;
  // Bounds what a restart after a crash replays from the WAL: past this,
  // RocksDB flushes the memtables holding the oldest WAL data.
  db_opts.max_total_wal_size = 128 << 20;
  if (o.env != nullptr) db_opts.env = o.env;
  // A vector memtable cannot take concurrent inserts.
  if (o.append_only_history) db_opts.allow_concurrent_memtable_write = false;

  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName,
                        FamilyOptions(false));
  for (const char* name : kFamilyNames) {
    const bool point = std::string_view(name) == "event_ids" ||
                       std::string_view(name) == "state" ||
                       std::string_view(name) == "meta";
    rocksdb::ColumnFamilyOptions fo = FamilyOptions(point);
    if (o.append_only_history && std::string_view(name) == "state_hist") {
      fo.memtable_factory.reset(new rocksdb::VectorRepFactory());
      fo.write_buffer_size = 256 << 20;
    }
    families.emplace_back(name, std::move(fo));
  }

  if (!o.create_if_missing) {
    std::error_code ec;
    if (!std::filesystem::exists(o.dir + "/CURRENT", ec)) {
      return absl::NotFoundError(absl::StrCat("no ledger data in ", o.dir));
    }
  }
  // RocksDB's own info logger aborts the process on a full disk (see
  // store/info_log.h); ours drops lines instead. A read-only open writes
  // nothing into the directory it inspects.
  db_opts.info_log =
      o.read_only ? NewDiscardingInfoLog() : NewDataDirInfoLog(o.dir);
  std::unique_ptr<Store> store(new Store());
  store->sync_ = o.sync;
  store->disable_wal_ = o.disable_wal;
  store->read_only_ = o.read_only;
  rocksdb::DB* raw = nullptr;
  auto open = [&] {
    store->handles_.clear();
    return o.read_only ? rocksdb::DB::OpenForReadOnly(db_opts, o.dir, families,
                                                      &store->handles_, &raw)
                       : rocksdb::DB::Open(db_opts, o.dir, families,
                                           &store->handles_, &raw);
  };
  rocksdb::Status s = open();
  if (s.IsCorruption() && o.repair_torn_wal_tail && !o.read_only &&
      !o.disable_wal) {
    // kTolerateCorruptedTailRecords tolerates a record cut short, not one
    // whose header made it to disk and whose payload did not. Cut it when
    // it is provably the end of the log; otherwise refuse, saying why.
    absl::StatusOr<WalTailRepair> repair = RepairTornWalTail(o.dir);
    if (!repair.ok()) {
      return absl::Status(repair.status().code(),
                          absl::StrCat("open ", o.dir, ": ", s.ToString(), "; ",
                                       repair.status().message()));
    }
    store->wal_tail_repair_ = std::move(*repair);
    s = open();
  }
  if (!s.ok()) return FromRocks(s, absl::StrCat("open ", o.dir));
  store->db_.reset(raw);
  return store;
}

Store::~Store() {
  if (db_ != nullptr && !read_only_ && !disable_wal_) {
    // A clean shutdown leaves nothing to replay from the WAL, so the next
    // start is fast; a crash still recovers from it.
    std::vector<rocksdb::ColumnFamilyHandle*> families(handles_.begin(),
                                                       handles_.end());
    db_->Flush(rocksdb::FlushOptions(), families);
  }
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    db_->DestroyColumnFamilyHandle(h);
  }
  if (db_ != nullptr) db_->Close();
}

rocksdb::ColumnFamilyHandle* Store::cf(Family f) const {
  return handles_[1 + static_cast<size_t>(f)];
}

absl::Status Store::Commit(Batch* batch) {
  rocksdb::WriteOptions w;
  w.sync = sync_ && !disable_wal_;
  w.disableWAL = disable_wal_;
  return FromRocks(db_->Write(w, &batch->batch_), "commit");
}

absl::StatusOr<std::optional<std::string>> Store::Read(
    const rocksdb::ReadOptions& r, Family f, std::string_view key,
    std::string_view what) const {
  std::string value;
  rocksdb::Status s = db_->Get(r, cf(f), rocksdb::Slice(key), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocks(s, what);
  return value;
}

absl::StatusOr<Head> Store::ReadHead() const {
  return ReadHeadWith(rocksdb::ReadOptions());
}

absl::StatusOr<Head> Store::ReadHeadWith(const rocksdb::ReadOptions& r) const {
  ASSIGN_OR_RETURN(std::optional<std::string> value,
                   Read(r, Family::kMeta, kHeadKey, "read head"));
  Head head;
  if (!value.has_value()) {
    head.set_hash(GenesisHash());
    return head;
  }
  if (!head.ParseFromString(*value) || head.hash().size() != kSha256Bytes) {
    return absl::DataLossError("head record does not parse");
  }
  return head;
}

absl::StatusOr<std::optional<StoredEvent>> Store::ReadEvent(
    uint64_t position) const {
  ASSIGN_OR_RETURN(
      std::optional<std::string> value,
      Read(rocksdb::ReadOptions(), Family::kEvents, EventKey(position),
           absl::StrCat("read event ", position)));
  if (!value.has_value()) return std::nullopt;
  ASSIGN_OR_RETURN(StoredEvent e, DecodeRecord(*value));
  if (e.position() != position) {
    return absl::DataLossError(absl::StrCat("event stored under position ",
                                            position, " claims position ",
                                            e.position()));
  }
  return std::optional<StoredEvent>(std::move(e));
}

absl::Status Store::ScanEvents(
    uint64_t from, bool forward,
    const std::function<bool(StoredEvent&&)>& visit) const {
  rocksdb::ReadOptions r;
  r.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(r, cf(Family::kEvents)));
  if (forward) {
    it->Seek(EventKey(from));
  } else {
    it->SeekForPrev(EventKey(from));
  }
  for (; it->Valid(); forward ? it->Next() : it->Prev()) {
    std::optional<uint64_t> key = DecodeEventKey(it->key().ToStringView());
    ASSIGN_OR_RETURN(StoredEvent e, DecodeRecord(it->value().ToStringView()));
    if (!key.has_value() || *key != e.position()) {
      return absl::DataLossError(absl::StrCat(
          "event key does not match record position ", e.position()));
    }
    if (!visit(std::move(e))) return absl::OkStatus();
  }
  return FromRocks(it->status(), "scan events");
}

absl::StatusOr<std::optional<uint64_t>> Store::StreamLastRevision(
    std::string_view stream) const {
  ASSIGN_OR_RETURN(std::optional<std::string> value,
                   Read(rocksdb::ReadOptions(), Family::kMeta,
                        StreamHeadKey(stream), "stream head"));
  if (!value.has_value()) return std::nullopt;
  if (value->size() != 8) {
    return absl::DataLossError(
        absl::StrCat("stream head of ", std::string(stream)));
  }
  return GetBigEndian64(*value);
}

absl::StatusOr<std::vector<uint64_t>> Store::StreamPositions(
    std::string_view stream, uint64_t from_revision, bool forward,
    size_t max) const {
  std::vector<uint64_t> out;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf(Family::kStreams)));
  if (forward) {
    it->Seek(StreamKey(stream, from_revision));
  } else {
    it->SeekForPrev(StreamKey(stream, from_revision));
  }
  for (; it->Valid() && out.size() < max; forward ? it->Next() : it->Prev()) {
    std::optional<StreamKeyParts> parts =
        DecodeStreamKey(it->key().ToStringView());
    if (!parts.has_value() || parts->stream != stream) break;
    if (it->value().size() != 8) {
      return absl::DataLossError(
          absl::StrCat("stream index of ", std::string(stream)));
    }
    out.push_back(GetBigEndian64(it->value().ToStringView()));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "read stream");
  return out;
}

absl::StatusOr<std::optional<EventIdEntry>> Store::LookupEventId(
    std::string_view raw_id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> value,
                   Read(rocksdb::ReadOptions(), Family::kEventIds, raw_id,
                        "event id lookup"));
  if (!value.has_value()) return std::nullopt;
  std::optional<EventIdEntry> e = DecodeEventIdEntry(*value);
  if (!e.has_value()) return absl::DataLossError("event id entry malformed");
  return e;
}

absl::StatusOr<std::optional<RequestSpan>> Store::RequestSpanAt(
    uint64_t position) const {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf(Family::kMeta)));
  it->SeekForPrev(RequestSpanKey(position));
  if (!it->Valid()) {
    if (!it->status().ok()) return FromRocks(it->status(), "request span");
    return std::nullopt;
  }
  const std::string_view key = it->key().ToStringView();
  if (key.size() != 2 + 8 || key.substr(0, 2) != kRequestSpanPrefix) {
    return std::nullopt;
  }
  if (it->value().size() != 8) {
    return absl::DataLossError("request span entry malformed");
  }
  RequestSpan span{GetBigEndian64(key.substr(2)),
                   GetBigEndian64(it->value().ToStringView())};
  if (span.last < position) return std::nullopt;
  return span;
}

absl::StatusOr<uint64_t> Store::WholeRequestsThrough(uint64_t position) const {
  if (position == 0) return 0;
  ASSIGN_OR_RETURN(std::optional<RequestSpan> span, RequestSpanAt(position));
  if (!span.has_value() || span->last == position) return position;
  return span->first - 1;
}

absl::StatusOr<std::optional<std::string>> Store::GetState(
    std::string_view key) const {
  ASSIGN_OR_RETURN(
      std::optional<std::string> value,
      Read(rocksdb::ReadOptions(), Family::kState, key, "state get"));
  if (!value.has_value()) return std::nullopt;
  StateValue v = DecodeStateValue(*value);
  if (!v.present) return std::nullopt;
  return std::move(v.bytes);
}

absl::StatusOr<std::optional<std::string>> Store::GetStateAt(
    std::string_view key, uint64_t position) const {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf(Family::kStateHist)));
  const std::string target = StateHistoryKey(key, position);
  it->SeekForPrev(target);
  if (!it->Valid()) {
    if (!it->status().ok()) return FromRocks(it->status(), "state as of");
    return std::nullopt;
  }
  std::string_view found = it->key().ToStringView();
  if (found.size() != key.size() + 9 || found.substr(0, key.size()) != key ||
      found[key.size()] != '\0') {
    return std::nullopt;
  }
  StateValue v = DecodeStateValue(it->value().ToStringView());
  if (!v.present) return std::nullopt;
  return std::move(v.bytes);
}

absl::Status Store::ScanStateKeys(
    std::string_view prefix,
    const std::function<bool(std::string_view)>& visit) const {
  const std::string start = RegistryKey(prefix);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf(Family::kState)));
  for (it->Seek(start); it->Valid() && it->key().starts_with(start);
       it->Next()) {
    if (!visit(it->key().ToStringView().substr(sizeof(kRegistryPrefix) - 1))) {
      break;
    }
  }
  return FromRocks(it->status(), "scan state keys");
}

absl::Status Store::ScanState(
    std::string_view prefix,
    const std::function<bool(std::string_view, const StateValue&)>& visit)
    const {
  std::string value;
  absl::Status failure = absl::OkStatus();
  absl::Status s = ScanStateKeys(prefix, [&](std::string_view key) {
    rocksdb::Status g = db_->Get(rocksdb::ReadOptions(), cf(Family::kState),
                                 rocksdb::Slice(key), &value);
    if (!g.ok() && !g.IsNotFound()) {
      failure = FromRocks(g, "scan state");
      return false;
    }
    return visit(key, g.ok() ? DecodeStateValue(value) : StateValue{});
  });
  return failure.ok() ? s : failure;
}

absl::Status Store::ScanFamily(
    Family f,
    const std::function<bool(std::string_view, std::string_view)>& visit,
    std::string_view start) const {
  rocksdb::ReadOptions r;
  r.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(r, cf(f)));
  for (it->Seek(rocksdb::Slice(start)); it->Valid(); it->Next()) {
    if (!visit(it->key().ToStringView(), it->value().ToStringView())) break;
  }
  return FromRocks(it->status(), "scan family");
}

absl::StatusOr<std::unique_ptr<StateSnapshot>> Store::NewStateSnapshot() const {
  std::unique_ptr<StateSnapshot> snap(
      new StateSnapshot(this, db_->GetSnapshot()));
  rocksdb::ReadOptions r;
  r.snapshot = snap->snapshot_;
  ASSIGN_OR_RETURN(const Head head, ReadHeadWith(r));
  snap->position_ = head.position();
  snap->recorded_at_us_ = head.recorded_at_us();
  return snap;
}

StateSnapshot::~StateSnapshot() { store_->db_->ReleaseSnapshot(snapshot_); }

absl::StatusOr<std::optional<std::string>> StateSnapshot::Get(
    std::string_view key) const {
  rocksdb::ReadOptions r;
  r.snapshot = snapshot_;
  ASSIGN_OR_RETURN(std::optional<std::string> value,
                   store_->Read(r, Store::Family::kState, key, "state get"));
  if (!value.has_value()) return std::nullopt;
  StateValue v = DecodeStateValue(*value);
  if (!v.present) return std::nullopt;
  return std::move(v.bytes);
}

absl::Status StateSnapshot::Scan(
    std::string_view prefix,
    const std::function<bool(std::string_view, std::string_view)>& visit)
    const {
  rocksdb::ReadOptions r;
  r.snapshot = snapshot_;
  const std::string start = RegistryKey(prefix);
  std::unique_ptr<rocksdb::Iterator> it(
      store_->db_->NewIterator(r, store_->cf(Store::Family::kState)));
  std::string value;
  for (it->Seek(start); it->Valid() && it->key().starts_with(start);
       it->Next()) {
    const std::string_view key =
        it->key().ToStringView().substr(sizeof(kRegistryPrefix) - 1);
    rocksdb::Status s = store_->db_->Get(r, store_->cf(Store::Family::kState),
                                         rocksdb::Slice(key), &value);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return FromRocks(s, "scan state");
    if (value.empty() || value[0] != '\1') continue;  // deleted
    if (!visit(key, std::string_view(value).substr(1))) break;
  }
  return FromRocks(it->status(), "scan state");
}

uint64_t Store::IntProperty(const std::string& name) const {
  uint64_t total = 0;
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    uint64_t v = 0;
    if (db_->GetIntProperty(h, name, &v)) total += v;
  }
  return total;
}

std::unique_ptr<rocksdb::Iterator> Store::NewIterator(
    Family f, const rocksdb::Snapshot* snapshot) const {
  rocksdb::ReadOptions r;
  r.fill_cache = false;
  r.snapshot = snapshot;
  return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(r, cf(f)));
}

absl::StatusOr<std::optional<std::string>> Store::GetRaw(
    Family f, std::string_view key, const rocksdb::Snapshot* snapshot) const {
  rocksdb::ReadOptions r;
  r.fill_cache = false;
  r.snapshot = snapshot;
  return Read(r, f, key, absl::StrCat(FamilyName(f), " column family"));
}

std::shared_ptr<const rocksdb::Snapshot> Store::NewSnapshot() const {
  rocksdb::DB* db = db_.get();
  return std::shared_ptr<const rocksdb::Snapshot>(
      db->GetSnapshot(),
      [db](const rocksdb::Snapshot* s) { db->ReleaseSnapshot(s); });
}

absl::StatusOr<Head> Store::ReadHeadAt(
    const rocksdb::Snapshot* snapshot) const {
  ASSIGN_OR_RETURN(std::optional<std::string> v,
                   GetRaw(Family::kMeta, kHeadKey, snapshot));
  Head head;
  if (!v.has_value()) {
    head.set_hash(GenesisHash());
    return head;
  }
  if (!head.ParseFromString(*v) || head.hash().size() != kSha256Bytes) {
    return absl::DataLossError(
        "meta column family: head record does not parse");
  }
  return head;
}

std::vector<Store::SstFile> Store::LiveSstFiles() const {
  std::vector<rocksdb::LiveFileMetaData> files;
  db_->GetLiveFilesMetaData(&files);
  std::vector<SstFile> out;
  out.reserve(files.size());
  for (const rocksdb::LiveFileMetaData& m : files) {
    out.push_back(SstFile{m.column_family_name, m.db_path + m.name, m.size});
  }
  return out;
}

absl::Status Store::VerifySstFile(const SstFile& f) const {
  rocksdb::ColumnFamilyHandle* handle = nullptr;
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    if (h->GetName() == f.family) handle = h;
  }
  if (handle == nullptr) {
    return absl::NotFoundError(absl::StrCat("no column family ", f.family));
  }
  rocksdb::ReadOptions r;
  r.fill_cache = false;
  rocksdb::Status s = rocksdb::VerifySstFileChecksum(
      db_->GetOptions(handle), rocksdb::EnvOptions(), r, f.path);
  if (s.ok()) return absl::OkStatus();
  std::error_code ec;
  if (!std::filesystem::exists(f.path, ec)) {
    return absl::NotFoundError(absl::StrCat(f.path, " is gone"));
  }
  return FromRocks(s,
                   absl::StrCat(f.family, " column family: SST file ", f.path));
}

absl::Status Store::VerifyAllChecksums() const {
  // The files of the version VerifyChecksum checks: listed before, so a
  // corrupt file can be named with its family.
  const std::vector<SstFile> files = LiveSstFiles();
  rocksdb::ReadOptions r;
  r.fill_cache = false;
  rocksdb::Status s = db_->VerifyChecksum(r);
  if (s.ok()) return absl::OkStatus();
  std::string where = "SST files";
  const std::string msg = s.ToString();
  for (const SstFile& f : files) {
    const std::string name = std::filesystem::path(f.path).filename().string();
    if (msg.find(name) != std::string::npos) {
      where = absl::StrCat(f.family, " column family: SST file ", name);
      break;
    }
  }
  return FromRocks(s, where);
}

}  // namespace partnerledger::store

#include "store/verify.h"

#include "absl/strings/str_cat.h"
#include "store/merkle_tree.h"
#include "util/status_macros.h"

namespace partnerledger::store {
namespace {

ChainCheck Bad(ChainCheck c, uint64_t position, std::string message) {
  c.ok = false;
  c.first_bad_position = position;
  c.message = std::move(message);
  return c;
}

using SavedDigest = std::pair<uint64_t, std::string>;

constexpr char kNoLongerExtends[] =
    "hash differs from the saved digest: the log no longer extends it";

// A saved digest outside the checked range, checked on its own record. Any
// failure is a finding at the digest's position; its message says what.
absl::Status CheckSavedDigestRecord(const Store& store,
                                    const SavedDigest& expected) {
  ASSIGN_OR_RETURN(std::optional<StoredEvent> at,
                   store.ReadEvent(expected.first));
  if (!at.has_value()) return absl::NotFoundError("event missing");
  if (at->hash() != expected.second) {
    return absl::FailedPreconditionError(kNoLongerExtends);
  }
  return absl::OkStatus();
}

// The hash the event at `from` must link to. Any failure is a finding at
// from - 1; its message says what.
absl::StatusOr<std::string> HashBefore(const Store& store, uint64_t from) {
  if (from == 1) return GenesisHash();
  ASSIGN_OR_RETURN(std::optional<StoredEvent> before,
                   store.ReadEvent(from - 1));
  if (!before.has_value()) return absl::NotFoundError("event missing");
  return before->hash();
}

// One pass over the events column family from `from` to `to`: each record
// decodes, sits at the next position, links to its predecessor, matches a
// saved digest at its position and the stored Merkle tree. Stops at the
// first finding.
class ChainScan {
 public:
  ChainScan(uint64_t from, uint64_t to,
            const std::optional<SavedDigest>& expected, std::string prev,
            TreeCheck* tree, const std::function<void(uint64_t)>& progress,
            ChainCheck result)
      : from_(from),
        to_(to),
        expected_(expected),
        tree_(tree),
        progress_(progress),
        prev_(std::move(prev)),
        expect_pos_(from),
        result_(std::move(result)) {}

  // ScanFamily's visitor: false stops the scan (past `to`, or a finding).
  bool Visit(std::string_view key, std::string_view value) {
    std::optional<uint64_t> pos = DecodeEventKey(key);
    if (!pos.has_value()) return Stop(expect_pos_, "malformed event key");
    if (*pos < from_) return true;
    if (*pos > to_) return false;
    if (*pos != expect_pos_) {
      return Stop(expect_pos_,
                  absl::StrCat("event missing (next stored is ", *pos, ")"));
    }
    absl::StatusOr<StoredEvent> e = DecodeRecord(value);
    if (!e.ok()) return Stop(*pos, std::string(e.status().message()));
    if (std::optional<std::string> bad = CheckRecord(*pos, *e)) {
      return Stop(*pos, *std::move(bad));
    }
    prev_ = e->hash();
    result_.verified_through = *pos;
    ++result_.events_checked;
    ++expect_pos_;
    if (progress_ && result_.events_checked % 65536 == 0) progress_(*pos);
    return true;
  }

  bool stopped() const { return stopped_; }
  // The hash of the last event checked (or the one before the range).
  const std::string& prev() const { return prev_; }
  // The position the scan expected next: the first one not checked.
  uint64_t expect_pos() const { return expect_pos_; }
  const ChainCheck& result() const { return result_; }

 private:
  // What is wrong with the decoded record at `pos`, or nullopt.
  std::optional<std::string> CheckRecord(uint64_t pos, const StoredEvent& e) {
    if (e.position() != pos) {
      return absl::StrCat("record claims position ", e.position());
    }
    if (e.prev_hash() != prev_) {
      return "prev_hash does not match the previous event's hash (an event "
             "was changed, removed or reordered)";
    }
    if (expected_.has_value() && expected_->first == pos &&
        expected_->second != e.hash()) {
      return kNoLongerExtends;
    }
    return tree_->Add(e);
  }

  bool Stop(uint64_t position, std::string message) {
    result_ = Bad(result_, position, std::move(message));
    stopped_ = true;
    return false;
  }

  const uint64_t from_;
  const uint64_t to_;
  const std::optional<SavedDigest>& expected_;
  TreeCheck* const tree_;
  const std::function<void(uint64_t)>& progress_;
  std::string prev_;
  uint64_t expect_pos_;
  ChainCheck result_;
  bool stopped_ = false;
};

// After a range that ran to the head: the head record is the last event's,
// every column family checks out, and the stored tree ends at the head.
absl::StatusOr<ChainCheck> CheckThroughHead(const Store& store,
                                            const Head& head,
                                            const ChainScan& scan,
                                            const TreeCheck& tree) {
  const ChainCheck& result = scan.result();
  if (head.position() > 0 && head.hash() != scan.prev()) {
    return Bad(result, head.position(),
               "head record does not match the last event");
  }
  ASSIGN_OR_RETURN(StorageCheck storage, VerifyStorage(store));
  if (!storage.ok) return Bad(result, storage.position, storage.message);
  if (std::optional<std::string> bad = tree.Finish(head.position())) {
    return Bad(result, head.position(), *bad);
  }
  return result;
}

}  // namespace

absl::StatusOr<ChainCheck> VerifyChain(
    const Store& store, uint64_t from, uint64_t to,
    std::optional<SavedDigest> expected,
    const std::function<void(uint64_t)>& progress) {
  absl::StatusOr<Head> head = store.ReadHead();
  if (absl::IsDataLoss(head.status())) {
    return Bad(ChainCheck(), 0,
               absl::StrCat("meta column family: ", head.status().message()));
  }
  RETURN_IF_ERROR(head.status());
  if (from == 0) from = 1;
  if (from > head->position() + 1 || (to != 0 && to < from)) {
    return absl::InvalidArgumentError(
        absl::StrCat("from_position: ", from, " is beyond the head ",
                     head->position(), " or after to_position"));
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
  if (expected.has_value() && expected->first > 0 &&
      (expected->first < from || expected->first > to)) {
    if (absl::Status s = CheckSavedDigestRecord(store, *expected); !s.ok()) {
      return Bad(c, expected->first, std::string(s.message()));
    }
  }
  absl::StatusOr<std::string> prev = HashBefore(store, from);
  if (!prev.ok()) return Bad(c, from - 1, std::string(prev.status().message()));
  // The Merkle tree is recomputed from the same records and compared too.
  absl::StatusOr<TreeCheck> tree = TreeCheck::Start(&store, from - 1);
  if (!tree.ok()) return Bad(c, from - 1, std::string(tree.status().message()));
  ChainScan scan(from, to, expected, *std::move(prev), &*tree, progress, c);
  absl::Status scanned = store.ScanFamily(
      Store::Family::kEvents,
      [&](std::string_view key, std::string_view value) {
        return scan.Visit(key, value);
      },
      EventKey(from));
  if (!scanned.ok()) {
    // A block that fails its checksum is a finding, like a bad record.
    if (!absl::IsDataLoss(scanned)) return scanned;
    return Bad(scan.result(), scan.expect_pos(),
               absl::StrCat("events column family: ", scanned.message()));
  }
  if (scan.stopped()) return scan.result();
  if (scan.expect_pos() <= to) {
    return Bad(scan.result(), scan.expect_pos(),
               "event missing at the end of the range");
  }
  if (expected.has_value() && expected->first == 0 &&
      expected->second != GenesisHash()) {
    return Bad(scan.result(), 0,
               "saved digest at position 0 is not the genesis hash");
  }
  if (!to_head) return scan.result();
  return CheckThroughHead(store, *head, scan, *tree);
}

namespace {

std::string Hex16(std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

StorageCheck BadStorage(StorageCheck c, uint64_t position,
                        std::string message) {
  c.ok = false;
  c.position = position;
  c.message = std::move(message);
  return c;
}

// A failed read as the check's answer: DATA_LOSS is a finding (the check
// fails at `position`); anything else is an error to return.
absl::StatusOr<StorageCheck> FindingOrError(StorageCheck c, uint64_t position,
                                            const absl::Status& s) {
  if (!absl::IsDataLoss(s)) return s;
  return BadStorage(std::move(c), position, std::string(s.message()));
}

// Every event 1..head is indexed: its (stream, revision) in streams and its
// id in event_ids, both naming its position. Counts the events.
absl::StatusOr<StorageCheck> CheckEventsIndexed(const Store& store,
                                                const rocksdb::Snapshot* snap,
                                                uint64_t head, StorageCheck c) {
  std::unique_ptr<rocksdb::Iterator> it =
      store.NewIterator(Store::Family::kEvents, snap);
  for (it->Seek(EventKey(1)); it->Valid(); it->Next()) {
    absl::StatusOr<StoredEvent> e = DecodeRecord(it->value().ToStringView());
    if (!e.ok()) {
      return BadStorage(
          c, DecodeEventKey(it->key().ToStringView()).value_or(0),
          absl::StrCat("events column family: ", e.status().message()));
    }
    const uint64_t p = e->position();
    if (p > head) {
      return BadStorage(c, p,
                        absl::StrCat("events column family: event stored "
                                     "beyond the head ",
                                     head));
    }
    absl::StatusOr<std::optional<std::string>> idx = store.GetRaw(
        Store::Family::kStreams, StreamKey(e->stream(), e->revision()), snap);
    if (!idx.ok()) {
      return FindingOrError(c, p, idx.status());
    }
    if (!idx->has_value() || **idx != EventKey(p)) {
      return BadStorage(
          c, p,
          absl::StrCat("streams column family: event at position ", p, " (",
                       e->stream(), "@", e->revision(), ") is ",
                       idx->has_value() ? "indexed at another position"
                                        : "not indexed"));
    }
    absl::StatusOr<std::optional<std::string>> id =
        store.GetRaw(Store::Family::kEventIds, e->event_id(), snap);
    if (!id.ok()) {
      return FindingOrError(c, p, id.status());
    }
    std::optional<EventIdEntry> entry;
    if (id->has_value()) entry = DecodeEventIdEntry(**id);
    if (!entry.has_value() || entry->position != p) {
      return BadStorage(
          c, p,
          absl::StrCat("event_ids column family: event id ",
                       Hex16(e->event_id()), " of position ", p, " is ",
                       !id->has_value()     ? "not indexed"
                       : !entry.has_value() ? "indexed with a malformed entry"
                                            : "indexed at another position"));
    }
    ++c.entries_checked;
  }
  if (!it->status().ok()) {
    return FindingOrError(c, 0,
                          FromRocks(it->status(), "events column family"));
  }
  return c;
}

// The event an index entry names at position `p`: nullopt when p is 0 or
// beyond the head, or no record there decodes (a finding for the caller).
// A failed read is an error.
absl::StatusOr<std::optional<StoredEvent>> IndexedEvent(
    const Store& store, const rocksdb::Snapshot* snap, uint64_t p,
    uint64_t head) {
  if (p == 0 || p > head) return std::nullopt;
  ASSIGN_OR_RETURN(std::optional<std::string> raw,
                   store.GetRaw(Store::Family::kEvents, EventKey(p), snap));
  if (!raw.has_value()) return std::nullopt;
  absl::StatusOr<StoredEvent> e = DecodeRecord(*raw);
  if (!e.ok()) return std::nullopt;
  return *std::move(e);
}

// The stream's head in meta is its last indexed revision (nothing to check
// before the first stream: `stream` empty).
absl::StatusOr<StorageCheck> CheckStreamHead(const Store& store,
                                             const rocksdb::Snapshot* snap,
                                             const std::string& stream,
                                             uint64_t last_revision,
                                             StorageCheck c) {
  if (stream.empty()) return c;
  absl::StatusOr<std::optional<std::string>> h =
      store.GetRaw(Store::Family::kMeta, StreamHeadMetaKey(stream), snap);
  if (!h.ok()) return FindingOrError(c, 0, h.status());
  if (!h->has_value() || (*h)->size() != 8 ||
      GetBigEndian64(**h) != last_revision) {
    return BadStorage(
        c, 0,
        absl::StrCat("meta column family: the head of stream ", stream,
                     " is not its last revision ", last_revision));
  }
  return c;
}

// Every streams entry names an event at or below the head that is that
// stream's revision, and each stream's head in meta is its last revision.
absl::StatusOr<StorageCheck> CheckStreamIndex(const Store& store,
                                              const rocksdb::Snapshot* snap,
                                              uint64_t head, StorageCheck c,
                                              uint64_t* streams) {
  std::unique_ptr<rocksdb::Iterator> it =
      store.NewIterator(Store::Family::kStreams, snap);
  std::string stream;
  uint64_t last_revision = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::optional<StreamKeyParts> k = DecodeStreamKey(it->key().ToStringView());
    const std::string_view v = it->value().ToStringView();
    if (!k.has_value() || v.size() != 8) {
      return BadStorage(c, 0, "streams column family: malformed index entry");
    }
    const uint64_t p = GetBigEndian64(v);
    if (k->stream != stream) {
      absl::StatusOr<StorageCheck> r =
          CheckStreamHead(store, snap, stream, last_revision, c);
      if (!r.ok() || !r->ok) return r;
      if (!stream.empty()) ++*streams;
      stream.assign(k->stream);
    }
    last_revision = k->revision;
    absl::StatusOr<std::optional<StoredEvent>> e =
        IndexedEvent(store, snap, p, head);
    if (!e.ok()) return FindingOrError(c, p, e.status());
    if (!e->has_value() || (*e)->stream() != k->stream ||
        (*e)->revision() != k->revision) {
      return BadStorage(
          c, p,
          absl::StrCat(
              "streams column family: index entry ", std::string(k->stream),
              "@", k->revision, " points at position ", p,
              e->has_value() ? absl::StrCat(", which holds ", (*e)->stream(),
                                            "@", (*e)->revision())
                             : ", where there is no such event"));
    }
    ++c.entries_checked;
  }
  if (!it->status().ok()) {
    return FindingOrError(c, 0,
                          FromRocks(it->status(), "streams column family"));
  }
  if (!stream.empty()) ++*streams;
  return CheckStreamHead(store, snap, stream, last_revision, c);
}

// Every event_ids entry names an event at or below the head with that id.
absl::StatusOr<StorageCheck> CheckEventIdIndex(const Store& store,
                                               const rocksdb::Snapshot* snap,
                                               uint64_t head, StorageCheck c) {
  std::unique_ptr<rocksdb::Iterator> it =
      store.NewIterator(Store::Family::kEventIds, snap);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::optional<EventIdEntry> entry =
        DecodeEventIdEntry(it->value().ToStringView());
    const std::string id = Hex16(it->key().ToStringView());
    if (!entry.has_value()) {
      return BadStorage(c, 0,
                        absl::StrCat("event_ids column family: malformed "
                                     "entry for event id ",
                                     id));
    }
    const uint64_t p = entry->position;
    absl::StatusOr<std::optional<StoredEvent>> e =
        IndexedEvent(store, snap, p, head);
    if (!e.ok()) return FindingOrError(c, p, e.status());
    if (!e->has_value() || (*e)->event_id() != it->key().ToStringView()) {
      return BadStorage(
          c, p,
          absl::StrCat("event_ids column family: event id ", id,
                       " points at position ", p,
                       e->has_value() ? ", which holds another event"
                                      : ", where there is no such event"));
    }
    ++c.entries_checked;
  }
  if (!it->status().ok()) {
    return FindingOrError(c, 0,
                          FromRocks(it->status(), "event_ids column family"));
  }
  return c;
}

// Every stream head in meta has index entries (their agreement was checked
// per stream by CheckStreamIndex; here: no head without a stream).
absl::StatusOr<StorageCheck> CheckStreamHeads(const Store& store,
                                              const rocksdb::Snapshot* snap,
                                              uint64_t streams,
                                              StorageCheck c) {
  std::unique_ptr<rocksdb::Iterator> it =
      store.NewIterator(Store::Family::kMeta, snap);
  const std::string prefix = StreamHeadMetaKey("");
  uint64_t heads = 0;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    ++heads;
  }
  if (!it->status().ok()) {
    return FindingOrError(c, 0, FromRocks(it->status(), "meta column family"));
  }
  if (heads != streams) {
    return BadStorage(
        c, 0,
        absl::StrCat("meta column family: ", heads, " stream heads for ",
                     streams, " indexed streams"));
  }
  return c;
}

}  // namespace

absl::StatusOr<StorageCheck> VerifyStorage(const Store& store) {
  StorageCheck c;
  if (absl::Status s = store.VerifyAllChecksums(); !s.ok()) {
    return FindingOrError(c, 0, s);
  }
  std::shared_ptr<const rocksdb::Snapshot> snap = store.NewSnapshot();
  absl::StatusOr<Head> head = store.ReadHeadAt(snap.get());
  if (!head.ok()) {
    return FindingOrError(c, 0, head.status());
  }
  absl::StatusOr<StorageCheck> r =
      CheckEventsIndexed(store, snap.get(), head->position(), c);
  if (!r.ok() || !r->ok) return r;
  uint64_t streams = 0;
  r = CheckStreamIndex(store, snap.get(), head->position(), *r, &streams);
  if (!r.ok() || !r->ok) return r;
  r = CheckEventIdIndex(store, snap.get(), head->position(), *r);
  if (!r.ok() || !r->ok) return r;
  return CheckStreamHeads(store, snap.get(), streams, *r);
}

}  // namespace partnerledger::store

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

}  // namespace

absl::StatusOr<ChainCheck> VerifyChain(
    const Store& store, uint64_t from, uint64_t to,
    std::optional<std::pair<uint64_t, std::string>> expected,
    const std::function<void(uint64_t)>& progress) {
  absl::StatusOr<Head> head = store.ReadHead();
  if (absl::IsDataLoss(head.status())) {
    ChainCheck c;
    return Bad(c, 0,
               absl::StrCat("meta column family: ", head.status().message()));
  }
  if (!head.ok()) return head.status();
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
  // A saved digest outside the range is checked on its own record.
  if (expected.has_value() && expected->first > 0 &&
      (expected->first < from || expected->first > to)) {
    absl::StatusOr<std::optional<StoredEvent>> at =
        store.ReadEvent(expected->first);
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
    absl::StatusOr<std::optional<StoredEvent>> before =
        store.ReadEvent(from - 1);
    if (!before.ok())
      return Bad(c, from - 1, std::string(before.status().message()));
    if (!before->has_value()) return Bad(c, from - 1, "event missing");
    prev = (*before)->hash();
  }
  // The Merkle tree is recomputed from the same records and compared too.
  absl::StatusOr<TreeCheck> tree = TreeCheck::Start(&store, from - 1);
  if (!tree.ok()) return Bad(c, from - 1, std::string(tree.status().message()));
  uint64_t expect_pos = from;
  ChainCheck result = c;
  bool stopped = false;
  absl::Status scan = store.ScanFamily(
      Store::Family::kEvents,
      [&](std::string_view key, std::string_view value) {
        std::optional<uint64_t> pos = DecodeEventKey(key);
        if (!pos.has_value()) {
          result = Bad(result, expect_pos, "malformed event key");
          stopped = true;
          return false;
        }
        if (*pos < from) return true;
        if (*pos > to) return false;
        if (*pos != expect_pos) {
          result =
              Bad(result, expect_pos,
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
          result = Bad(result, *pos,
                       absl::StrCat("record claims position ", e->position()));
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
        if (std::optional<std::string> bad = tree->Add(*e); bad.has_value()) {
          result = Bad(result, *pos, *bad);
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
  if (!scan.ok()) {
    // A block that fails its checksum is a finding, like a bad record.
    if (!absl::IsDataLoss(scan)) return scan;
    return Bad(result, expect_pos,
               absl::StrCat("events column family: ", scan.message()));
  }
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
  if (to_head) {
    ASSIGN_OR_RETURN(StorageCheck storage, VerifyStorage(store));
    if (!storage.ok) {
      return Bad(result, storage.position, storage.message);
    }
    if (std::optional<std::string> bad = tree->Finish(head->position());
        bad.has_value()) {
      return Bad(result, head->position(), *bad);
    }
  }
  return result;
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
  auto check_head = [&]() -> absl::StatusOr<bool> {
    if (stream.empty()) return true;
    ++*streams;
    ASSIGN_OR_RETURN(
        std::optional<std::string> h,
        store.GetRaw(Store::Family::kMeta, StreamHeadMetaKey(stream), snap));
    return h.has_value() && h->size() == 8 &&
           GetBigEndian64(*h) == last_revision;
  };
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::optional<StreamKeyParts> k = DecodeStreamKey(it->key().ToStringView());
    const std::string_view v = it->value().ToStringView();
    if (!k.has_value() || v.size() != 8) {
      return BadStorage(c, 0, "streams column family: malformed index entry");
    }
    const uint64_t p = GetBigEndian64(v);
    if (k->stream != stream) {
      absl::StatusOr<bool> ok = check_head();
      if (!ok.ok()) {
        return FindingOrError(c, 0, ok.status());
      }
      if (!*ok) {
        return BadStorage(
            c, 0,
            absl::StrCat("meta column family: the head of "
                         "stream ",
                         stream, " is not its last revision ", last_revision));
      }
      stream.assign(k->stream);
    }
    last_revision = k->revision;
    absl::StatusOr<std::optional<std::string>> raw =
        p == 0 || p > head
            ? absl::StatusOr<std::optional<std::string>>(std::nullopt)
            : store.GetRaw(Store::Family::kEvents, EventKey(p), snap);
    if (!raw.ok()) {
      return FindingOrError(c, p, raw.status());
    }
    absl::StatusOr<StoredEvent> e =
        raw->has_value() ? DecodeRecord(**raw)
                         : absl::StatusOr<StoredEvent>(absl::NotFoundError(""));
    if (!e.ok() || e->stream() != k->stream || e->revision() != k->revision) {
      return BadStorage(
          c, p,
          absl::StrCat("streams column family: index entry ",
                       std::string(k->stream), "@", k->revision,
                       " points at position ", p,
                       e.ok() ? absl::StrCat(", which holds ", e->stream(), "@",
                                             e->revision())
                              : ", where there is no such event"));
    }
    ++c.entries_checked;
  }
  if (!it->status().ok()) {
    return FindingOrError(c, 0,
                          FromRocks(it->status(), "streams column family"));
  }
  absl::StatusOr<bool> ok = check_head();
  if (!ok.ok()) {
    return FindingOrError(c, 0, ok.status());
  }
  if (!*ok) {
    return BadStorage(
        c, 0,
        absl::StrCat("meta column family: the head of stream ", stream,
                     " is not its last revision ", last_revision));
  }
  return c;
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
    absl::StatusOr<std::optional<std::string>> raw =
        p == 0 || p > head
            ? absl::StatusOr<std::optional<std::string>>(std::nullopt)
            : store.GetRaw(Store::Family::kEvents, EventKey(p), snap);
    if (!raw.ok()) {
      return FindingOrError(c, p, raw.status());
    }
    absl::StatusOr<StoredEvent> e =
        raw->has_value() ? DecodeRecord(**raw)
                         : absl::StatusOr<StoredEvent>(absl::NotFoundError(""));
    if (!e.ok() || e->event_id() != it->key().ToStringView()) {
      return BadStorage(
          c, p,
          absl::StrCat("event_ids column family: event id ", id,
                       " points at position ", p,
                       e.ok() ? ", which holds another event"
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

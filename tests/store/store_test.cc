#include "store/store.h"

#include <stdlib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "store/keys.h"
#include "store/record_codec.h"
#include "test_support.h"

namespace partnerledger::store {
namespace {

using ::partnerledger::testing::TempDir;

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string RawId(uint64_t n) {
  std::string id(16, '\x5a');
  for (int i = 0; i < 8; ++i) id[15 - i] = static_cast<char>(n >> (8 * i));
  return id;
}

StoredEvent MakeEvent(uint64_t position, const std::string& stream,
                      uint64_t revision, const std::string& prev_hash) {
  StoredEvent e;
  e.set_position(position);
  e.set_stream(stream);
  e.set_revision(revision);
  e.set_event_id(RawId(position));
  e.set_type("PartnerRegistered");
  e.set_occurred_at_us(1000 + static_cast<int64_t>(position));
  e.set_recorded_at_us(2000 + static_cast<int64_t>(position));
  e.set_actor("tester");
  e.set_payload("payload-" + std::to_string(position));
  e.set_schema_version(1);
  e.set_prev_hash(prev_hash);
  e.set_hash(ComputeHash(e));
  return e;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    StoreOptions o;
    o.dir = dir_.path();
    absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }

  // Appends events to the given streams (one event per entry), with stream
  // index, event id and head, in one commit. Returns the events.
  std::vector<StoredEvent> Append(const std::vector<std::string>& streams) {
    std::vector<StoredEvent> out;
    Batch b = store_->NewBatch();
    for (const std::string& s : streams) {
      const uint64_t position = next_position_++;
      const uint64_t revision = next_revision_[s]++;
      StoredEvent e = MakeEvent(position, s, revision, last_hash_);
      last_hash_ = e.hash();
      EXPECT_EQ(b.PutEvent(e), absl::OkStatus());
      b.PutStreamIndex(s, revision, position);
      b.PutStreamHead(s, revision);
      b.PutEventId(
          e.event_id(),
          EventIdEntry{position, std::string(32, char('a' + position))});
      out.push_back(e);
    }
    Head h;
    h.set_position(next_position_ - 1);
    h.set_hash(last_hash_);
    h.set_recorded_at_us(out.back().recorded_at_us());
    b.PutHead(h);
    EXPECT_EQ(store_->Commit(&b), absl::OkStatus());
    return out;
  }

  void PutState(const std::string& key, uint64_t position,
                std::optional<std::string> value) {
    Batch b = store_->NewBatch();
    StateValue v;
    v.present = value.has_value();
    if (value.has_value()) v.bytes = *value;
    b.PutState(key, position, v);
    ASSERT_EQ(store_->Commit(&b), absl::OkStatus());
  }

  std::vector<uint64_t> Scan(uint64_t from, bool forward, size_t stop_after) {
    std::vector<uint64_t> seen;
    absl::Status s = store_->ScanEvents(from, forward, [&](StoredEvent&& e) {
      seen.push_back(e.position());
      return seen.size() < stop_after;
    });
    EXPECT_EQ(s, absl::OkStatus());
    return seen;
  }

  TempDir dir_{"pl-store-test-"};
  std::unique_ptr<Store> store_;
  uint64_t next_position_ = 1;
  std::map<std::string, uint64_t> next_revision_;
  std::string last_hash_ = GenesisHash();
};

TEST_F(StoreTest, EmptyStoreHasGenesisHead) {
  absl::StatusOr<Head> h = store_->ReadHead();
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->position(), 0u);
  EXPECT_EQ(h->hash(), GenesisHash());
  absl::StatusOr<std::optional<StoredEvent>> e = store_->ReadEvent(1);
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->has_value());
}

TEST_F(StoreTest, CommittedBatchReadsBack) {
  const std::vector<StoredEvent> events =
      Append({"partner-a", "partner-b", "partner-a"});

  for (const StoredEvent& want : events) {
    absl::StatusOr<std::optional<StoredEvent>> got =
        store_->ReadEvent(want.position());
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ((*got)->SerializeAsString(), want.SerializeAsString());
  }
  absl::StatusOr<std::optional<StoredEvent>> missing = store_->ReadEvent(4);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  absl::StatusOr<Head> h = store_->ReadHead();
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->position(), 3u);
  EXPECT_EQ(h->hash(), events[2].hash());
  EXPECT_EQ(h->recorded_at_us(), events[2].recorded_at_us());

  absl::StatusOr<std::optional<EventIdEntry>> id =
      store_->LookupEventId(RawId(2));
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_TRUE(id->has_value());
  EXPECT_EQ((*id)->position, 2u);
  EXPECT_EQ((*id)->content_digest, std::string(32, 'c'));

  absl::StatusOr<std::optional<EventIdEntry>> unknown =
      store_->LookupEventId(RawId(99));
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
}

TEST_F(StoreTest, StreamLastRevisionOfUnknownStreamIsNullopt) {
  Append({"partner-a"});
  for (const char* s : {"partner-b", "partner-", "partner", "partner-a0", ""}) {
    absl::StatusOr<std::optional<uint64_t>> r = store_->StreamLastRevision(s);
    ASSERT_TRUE(r.ok()) << s << ": " << r.status();
    EXPECT_FALSE(r->has_value()) << s;
  }
}

TEST_F(StoreTest, StreamLastRevisionDoesNotConfuseAPrefixStream) {
  // "deal-1" is a prefix of "deal-10"; "deal-10" sorts right after it.
  Append({"deal-1", "deal-10", "deal-10", "deal-1", "deal-10", "deal-100"});
  absl::StatusOr<std::optional<uint64_t>> r1 =
      store_->StreamLastRevision("deal-1");
  absl::StatusOr<std::optional<uint64_t>> r10 =
      store_->StreamLastRevision("deal-10");
  absl::StatusOr<std::optional<uint64_t>> r100 =
      store_->StreamLastRevision("deal-100");
  ASSERT_TRUE(r1.ok() && r10.ok() && r100.ok());
  EXPECT_EQ(*r1, std::optional<uint64_t>(1));
  EXPECT_EQ(*r10, std::optional<uint64_t>(2));
  EXPECT_EQ(*r100, std::optional<uint64_t>(0));
}

TEST_F(StoreTest, StreamLastRevisionOfAPrefixOfAnExistingStreamIsNullopt) {
  // Only the longer name exists.
  Append({"deal-10", "deal-10"});
  absl::StatusOr<std::optional<uint64_t>> r =
      store_->StreamLastRevision("deal-1");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST_F(StoreTest, StreamPositionsForwardAndBackwardWithMax) {
  // deal-1 at positions 1, 4, 5, 7; deal-10 in between.
  Append({"deal-1", "deal-10", "deal-10", "deal-1", "deal-1", "deal-10",
          "deal-1"});
  auto positions = [&](const std::string& s, uint64_t from, bool fwd,
                       size_t max) {
    absl::StatusOr<std::vector<uint64_t>> p =
        store_->StreamPositions(s, from, fwd, max);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *p : std::vector<uint64_t>{999};
  };
  EXPECT_THAT(positions("deal-1", 0, true, 100), ElementsAre(1, 4, 5, 7));
  EXPECT_THAT(positions("deal-1", 1, true, 2), ElementsAre(4, 5));
  EXPECT_THAT(positions("deal-1", 4, true, 100), IsEmpty());
  EXPECT_THAT(positions("deal-1", 3, false, 100), ElementsAre(7, 5, 4, 1));
  EXPECT_THAT(positions("deal-1", UINT64_MAX, false, 3), ElementsAre(7, 5, 4));
  EXPECT_THAT(positions("deal-1", 1, false, 100), ElementsAre(4, 1));
  EXPECT_THAT(positions("deal-10", 0, true, 100), ElementsAre(2, 3, 6));
  EXPECT_THAT(positions("deal-10", UINT64_MAX, false, 100),
              ElementsAre(6, 3, 2));
  EXPECT_THAT(positions("deal-1", 0, true, 0), IsEmpty());
  EXPECT_THAT(positions("deal-2", 0, true, 100), IsEmpty());
  EXPECT_THAT(positions("deal-2", UINT64_MAX, false, 100), IsEmpty());
}

TEST_F(StoreTest, PutEventRejectsAnInvalidRecordAndWritesNothing) {
  StoredEvent bad = MakeEvent(1, "partner-a", 0, GenesisHash());
  bad.set_payload("changed after hashing");
  Batch b = store_->NewBatch();
  const size_t empty_bytes = b.ApproximateBytes();
  absl::Status s = b.PutEvent(bad);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_EQ(b.ApproximateBytes(), empty_bytes);
  ASSERT_EQ(store_->Commit(&b), absl::OkStatus());
  absl::StatusOr<std::optional<StoredEvent>> e = store_->ReadEvent(1);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_FALSE(e->has_value());

  StoredEvent zero = MakeEvent(0, "partner-a", 0, GenesisHash());
  EXPECT_EQ(b.PutEvent(zero).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(b.ApproximateBytes(), empty_bytes);
}

TEST_F(StoreTest, StateAsOfPositionFollowsPutsAndDelete) {
  PutState("acct/x", 5, "first");
  PutState("acct/x", 9, "second");
  PutState("acct/x", 12, std::nullopt);

  absl::StatusOr<std::optional<std::string>> now = store_->GetState("acct/x");
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ(*now, std::nullopt);

  auto at = [&](uint64_t p) {
    absl::StatusOr<std::optional<std::string>> v =
        store_->GetStateAt("acct/x", p);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : std::optional<std::string>("<error>");
  };
  EXPECT_EQ(at(0), std::nullopt);
  EXPECT_EQ(at(4), std::nullopt);
  for (uint64_t p = 5; p <= 8; ++p) EXPECT_EQ(at(p), "first") << p;
  for (uint64_t p = 9; p <= 11; ++p) EXPECT_EQ(at(p), "second") << p;
  EXPECT_EQ(at(12), std::nullopt);
  EXPECT_EQ(at(13), std::nullopt);
  EXPECT_EQ(at(UINT64_MAX), std::nullopt);
}

TEST_F(StoreTest, GetStateReturnsTheLatestValue) {
  PutState("acct/x", 5, "first");
  PutState("acct/x", 9, "second");
  absl::StatusOr<std::optional<std::string>> now = store_->GetState("acct/x");
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ(*now, "second");
  absl::StatusOr<std::optional<std::string>> none = store_->GetState("acct/y");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, std::nullopt);
}

TEST_F(StoreTest, GetStateAtDoesNotReadANeighbouringKeysHistory) {
  // "acct" sorts right before "acct/x"'s history; "acct/xy" right after.
  PutState("acct", 3, "short");
  PutState("acct/x", 5, "mine");
  PutState("acct/xy", 2, "longer");
  auto at = [&](const std::string& k, uint64_t p) {
    absl::StatusOr<std::optional<std::string>> v = store_->GetStateAt(k, p);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : std::optional<std::string>("<error>");
  };
  EXPECT_EQ(at("acct/x", 4), std::nullopt);
  EXPECT_EQ(at("acct/x", 5), "mine");
  EXPECT_EQ(at("acct/xy", 1), std::nullopt);
  EXPECT_EQ(at("acct/xy", 2), "longer");
  EXPECT_EQ(at("acct", 2), std::nullopt);
  EXPECT_EQ(at("acct", 100), "short");
  EXPECT_EQ(at("acct/", 100), std::nullopt);
}

TEST_F(StoreTest, EmptyValueIsPresentNotDeleted) {
  PutState("k", 1, std::string());
  absl::StatusOr<std::optional<std::string>> now = store_->GetState("k");
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(*now, std::optional<std::string>(""));
  absl::StatusOr<std::optional<std::string>> at = store_->GetStateAt("k", 1);
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(*at, std::optional<std::string>(""));
}

TEST_F(StoreTest, ScanStateVisitsKeysWithThePrefixInOrder) {
  PutState("p/b", 1, "B");
  PutState("q/a", 2, "QA");
  PutState("p/a", 3, "A");
  PutState("p/c", 4, "C");
  PutState("p/c", 5, std::nullopt);
  PutState("p", 6, "P");

  std::vector<std::pair<std::string, std::string>> seen;
  absl::Status s =
      store_->ScanState("p/", [&](std::string_view k, const StateValue& v) {
        seen.emplace_back(std::string(k), v.present ? v.bytes : "<deleted>");
        return true;
      });
  ASSERT_EQ(s, absl::OkStatus());
  EXPECT_THAT(
      seen, ElementsAre(std::make_pair("p/a", "A"), std::make_pair("p/b", "B"),
                        std::make_pair("p/c", "<deleted>")));

  seen.clear();
  s = store_->ScanState("p/", [&](std::string_view k, const StateValue& v) {
    seen.emplace_back(std::string(k), v.bytes);
    return false;
  });
  ASSERT_EQ(s, absl::OkStatus());
  EXPECT_THAT(seen, ElementsAre(std::make_pair("p/a", "A")));
}

TEST_F(StoreTest, DataSurvivesReopen) {
  const std::vector<StoredEvent> events = Append({"partner-a", "deal-1"});
  PutState("k", 2, "v");
  store_.reset();
  Open();

  absl::StatusOr<Head> h = store_->ReadHead();
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->position(), 2u);
  EXPECT_EQ(h->hash(), events[1].hash());
  absl::StatusOr<std::optional<StoredEvent>> e = store_->ReadEvent(2);
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_TRUE(e->has_value());
  EXPECT_EQ((*e)->SerializeAsString(), events[1].SerializeAsString());
  absl::StatusOr<std::optional<uint64_t>> r =
      store_->StreamLastRevision("deal-1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, std::optional<uint64_t>(0));
  absl::StatusOr<std::optional<EventIdEntry>> id =
      store_->LookupEventId(RawId(1));
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(id->has_value());
  EXPECT_EQ((*id)->position, 1u);
  absl::StatusOr<std::optional<std::string>> v = store_->GetStateAt("k", 2);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, "v");
}

TEST_F(StoreTest, ScanEventsForwardAndBackward) {
  Append({"partner-a", "partner-b", "partner-c", "partner-d", "partner-e"});
  EXPECT_THAT(Scan(1, true, 100), ElementsAre(1, 2, 3, 4, 5));
  EXPECT_THAT(Scan(0, true, 100), ElementsAre(1, 2, 3, 4, 5));
  EXPECT_THAT(Scan(3, true, 100), ElementsAre(3, 4, 5));
  EXPECT_THAT(Scan(2, true, 2), ElementsAre(2, 3));
  EXPECT_THAT(Scan(6, true, 100), IsEmpty());
  EXPECT_THAT(Scan(3, false, 100), ElementsAre(3, 2, 1));
  EXPECT_THAT(Scan(UINT64_MAX, false, 2), ElementsAre(5, 4));
  EXPECT_THAT(Scan(0, false, 100), IsEmpty());
}

TEST_F(StoreTest, ScanFamilyStartsAtTheGivenKey) {
  Append({"partner-a", "partner-b", "partner-c"});
  std::vector<uint64_t> keys;
  absl::Status s = store_->ScanFamily(
      Store::Family::kEvents,
      [&](std::string_view k, std::string_view) {
        keys.push_back(DecodeEventKey(k).value_or(999));
        return true;
      },
      EventKey(2));
  ASSERT_EQ(s, absl::OkStatus());
  EXPECT_THAT(keys, ElementsAre(2, 3));
}

// Opens the store's directory with plain RocksDB (the Store must be closed)
// and writes `value` under `key` in the "events" family.
void RawPutEvent(const std::string& dir, const std::string& key,
                 const std::string& value) {
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name : {"default", "events", "streams", "event_ids", "meta",
                           "state", "state_hist", "merkle"}) {
    families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(rocksdb::DBOptions(), dir, families, &handles, &raw);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions w;
  w.sync = true;
  s = db->Put(w, handles[1], key, value);
  EXPECT_TRUE(s.ok()) << s.ToString();
  for (rocksdb::ColumnFamilyHandle* h : handles)
    db->DestroyColumnFamilyHandle(h);
  EXPECT_TRUE(db->Close().ok());
}

TEST_F(StoreTest, TamperedEventBytesReadAsDataLoss) {
  std::vector<StoredEvent> events = Append({"partner-a", "partner-b"});
  store_.reset();
  // Same record with its payload changed but its hash kept.
  StoredEvent tampered = events[0];
  tampered.set_payload("forged");
  RawPutEvent(dir_.path(), EventKey(1), tampered.SerializeAsString());
  Open();

  absl::StatusOr<std::optional<StoredEvent>> e = store_->ReadEvent(1);
  EXPECT_EQ(e.status().code(), absl::StatusCode::kDataLoss) << e.status();
  absl::Status scan =
      store_->ScanEvents(1, true, [](StoredEvent&&) { return true; });
  EXPECT_EQ(scan.code(), absl::StatusCode::kDataLoss) << scan;
  // The untouched neighbour still reads.
  absl::StatusOr<std::optional<StoredEvent>> ok = store_->ReadEvent(2);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(ok->has_value());
}

TEST_F(StoreTest, GarbageEventBytesReadAsDataLoss) {
  Append({"partner-a"});
  store_.reset();
  RawPutEvent(dir_.path(), EventKey(1), "\xff\xfe garbage");
  Open();
  EXPECT_EQ(store_->ReadEvent(1).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(StoreTest, ValidRecordUnderTheWrongPositionReadsAsDataLoss) {
  std::vector<StoredEvent> events = Append({"partner-a", "partner-b"});
  store_.reset();
  // A correctly hashed record, moved to another key.
  RawPutEvent(dir_.path(), EventKey(1), events[1].SerializeAsString());
  Open();
  EXPECT_EQ(store_->ReadEvent(1).status().code(), absl::StatusCode::kDataLoss);
  absl::Status scan =
      store_->ScanEvents(1, true, [](StoredEvent&&) { return true; });
  EXPECT_EQ(scan.code(), absl::StatusCode::kDataLoss) << scan;
}

}  // namespace
}  // namespace partnerledger::store

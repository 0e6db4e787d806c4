#include "store/record_codec.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "util/sha256.h"

namespace partnerledger::store {
namespace {

// A structurally valid record with every field set to a non-default value,
// hashed.
StoredEvent ValidEvent() {
  StoredEvent e;
  e.set_position(7);
  e.set_stream("deal-42");
  e.set_revision(3);
  e.set_event_id(std::string("0123456789abcdef", 16));
  e.set_type("RevenueBooked");
  e.set_occurred_at_us(1'700'000'000'000'000);
  e.set_recorded_at_us(1'700'000'000'500'000);
  e.set_actor("alice");
  e.set_correlation_id("corr-1");
  e.set_causation_id("cause-1");
  e.set_payload(std::string("\x0a\x03pay\x00load", 10));
  e.set_schema_version(1);
  e.set_derived(false);
  e.set_prev_hash(std::string(32, '\x11'));
  e.set_hash(ComputeHash(e));
  return e;
}

void PutBe(std::string* out, uint64_t v, int bytes) {
  for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

void PutStr(std::string* out, const std::string& s) {
  PutBe(out, s.size(), 4);
  out->append(s);
}

// The canonical layout from record_codec.h, written out independently.
std::string ExpectedCanonical(const StoredEvent& e) {
  std::string out = "PLE1";
  PutBe(&out, e.position(), 8);
  PutStr(&out, e.stream());
  PutBe(&out, e.revision(), 8);
  out.append(e.event_id());
  PutStr(&out, e.type());
  PutBe(&out, static_cast<uint64_t>(e.occurred_at_us()), 8);
  PutBe(&out, static_cast<uint64_t>(e.recorded_at_us()), 8);
  PutStr(&out, e.actor());
  PutStr(&out, e.correlation_id());
  PutStr(&out, e.causation_id());
  PutStr(&out, e.payload());
  PutBe(&out, e.schema_version(), 4);
  out.push_back(e.derived() ? '\1' : '\0');
  return out;
}

TEST(RecordCodec, GenesisHashIs32ZeroBytes) {
  EXPECT_EQ(GenesisHash(), std::string(32, '\0'));
}

TEST(RecordCodec, CanonicalBytesFollowTheDocumentedLayout) {
  const StoredEvent e = ValidEvent();
  EXPECT_EQ(CanonicalBytes(e), ExpectedCanonical(e));
}

TEST(RecordCodec, ComputeHashIsSha256OfPrevHashThenCanonicalBytes) {
  const StoredEvent e = ValidEvent();
  const std::string expected =
      DigestBytes(Sha256Of(e.prev_hash() + CanonicalBytes(e)));
  EXPECT_EQ(ComputeHash(e), expected);
  EXPECT_EQ(ComputeHash(e).size(), 32u);
  // Also against the independently built canonical bytes.
  EXPECT_EQ(ComputeHash(e),
            DigestBytes(Sha256Of(e.prev_hash() + ExpectedCanonical(e))));
}

TEST(RecordCodec, HashIgnoresTheStoredHashField) {
  StoredEvent e = ValidEvent();
  const std::string h = ComputeHash(e);
  e.set_hash(std::string(32, '\x55'));
  EXPECT_EQ(ComputeHash(e), h);
}

struct FieldChange {
  const char* name;
  std::function<void(StoredEvent*)> change;
};

TEST(RecordCodec, ChangingAnyFieldChangesTheHash) {
  const std::vector<FieldChange> changes = {
      {"position", [](StoredEvent* e) { e->set_position(8); }},
      {"stream", [](StoredEvent* e) { e->set_stream("deal-43"); }},
      {"revision", [](StoredEvent* e) { e->set_revision(4); }},
      {"event_id", [](StoredEvent* e) { e->set_event_id("0123456789abcdeF"); }},
      {"type", [](StoredEvent* e) { e->set_type("RevenueReversed"); }},
      {"occurred_at_us",
       [](StoredEvent* e) { e->set_occurred_at_us(e->occurred_at_us() + 1); }},
      {"recorded_at_us",
       [](StoredEvent* e) { e->set_recorded_at_us(e->recorded_at_us() + 1); }},
      {"actor", [](StoredEvent* e) { e->set_actor("bob"); }},
      {"correlation_id",
       [](StoredEvent* e) { e->set_correlation_id("corr-2"); }},
      {"causation_id", [](StoredEvent* e) { e->set_causation_id("cause-2"); }},
      {"payload",
       [](StoredEvent* e) {
         std::string p = e->payload();
         p.back() ^= 1;
         e->set_payload(p);
       }},
      {"schema_version", [](StoredEvent* e) { e->set_schema_version(2); }},
      {"derived", [](StoredEvent* e) { e->set_derived(true); }},
      {"prev_hash",
       [](StoredEvent* e) {
         std::string p = e->prev_hash();
         p[31] ^= 1;
         e->set_prev_hash(p);
       }},
  };
  // Every hashed field of the proto except `hash` itself is covered.
  ASSERT_EQ(changes.size(),
            static_cast<size_t>(StoredEvent::descriptor()->field_count() - 1));
  const StoredEvent base = ValidEvent();
  const std::string base_hash = ComputeHash(base);
  for (const FieldChange& c : changes) {
    StoredEvent e = base;
    c.change(&e);
    EXPECT_NE(ComputeHash(e), base_hash) << c.name;
  }
}

TEST(RecordCodec, LengthPrefixesSeparateAdjacentStringFields) {
  StoredEvent a = ValidEvent();
  a.set_correlation_id("ab");
  a.set_causation_id("c");
  StoredEvent b = ValidEvent();
  b.set_correlation_id("a");
  b.set_causation_id("bc");
  EXPECT_NE(CanonicalBytes(a), CanonicalBytes(b));
  EXPECT_NE(ComputeHash(a), ComputeHash(b));

  StoredEvent c = ValidEvent();
  c.set_causation_id("xy");
  c.set_payload("z");
  StoredEvent d = ValidEvent();
  d.set_causation_id("x");
  d.set_payload("yz");
  EXPECT_NE(ComputeHash(c), ComputeHash(d));
}

TEST(RecordCodec, ValidateAcceptsACorrectlyHashedRecord) {
  EXPECT_EQ(ValidateRecord(ValidEvent()), absl::OkStatus());
}

TEST(RecordCodec, ValidateRejectsAWrongHashAsDataLoss) {
  StoredEvent e = ValidEvent();
  std::string h = e.hash();
  h[0] ^= 1;
  e.set_hash(h);
  absl::Status s = ValidateRecord(e);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("position 7"), std::string_view::npos)
      << s.message();
}

TEST(RecordCodec, ValidateRejectsContentChangedAfterHashing) {
  StoredEvent e = ValidEvent();
  e.set_payload("different");
  EXPECT_EQ(ValidateRecord(e).code(), absl::StatusCode::kDataLoss);
}

// Each structural defect, rehashed so only the defect is wrong.
TEST(RecordCodec, ValidateRejectsStructuralDefectsAsDataLoss) {
  const std::vector<FieldChange> defects = {
      {"position 0", [](StoredEvent* e) { e->set_position(0); }},
      {"empty stream", [](StoredEvent* e) { e->set_stream(""); }},
      {"NUL in stream",
       [](StoredEvent* e) { e->set_stream(std::string("deal\0x", 6)); }},
      {"event_id 15 bytes",
       [](StoredEvent* e) { e->set_event_id(std::string(15, 'a')); }},
      {"event_id 17 bytes",
       [](StoredEvent* e) { e->set_event_id(std::string(17, 'a')); }},
      {"empty type", [](StoredEvent* e) { e->set_type(""); }},
      {"empty actor", [](StoredEvent* e) { e->set_actor(""); }},
      {"schema_version 0", [](StoredEvent* e) { e->set_schema_version(0); }},
      {"prev_hash 31 bytes",
       [](StoredEvent* e) { e->set_prev_hash(std::string(31, '\0')); }},
      {"prev_hash empty", [](StoredEvent* e) { e->clear_prev_hash(); }},
  };
  for (const FieldChange& d : defects) {
    StoredEvent e = ValidEvent();
    d.change(&e);
    e.set_hash(ComputeHash(e));
    EXPECT_EQ(ValidateRecord(e).code(), absl::StatusCode::kDataLoss) << d.name;
  }
}

TEST(RecordCodec, ValidateRejectsHashOfWrongSize) {
  StoredEvent e = ValidEvent();
  e.set_hash(e.hash().substr(0, 31));
  EXPECT_EQ(ValidateRecord(e).code(), absl::StatusCode::kDataLoss);
  e.set_hash(ComputeHash(e) + "x");
  EXPECT_EQ(ValidateRecord(e).code(), absl::StatusCode::kDataLoss);
}

TEST(RecordCodec, EncodeDecodeRoundTrips) {
  const StoredEvent e = ValidEvent();
  absl::StatusOr<std::string> bytes = EncodeRecord(e);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  absl::StatusOr<StoredEvent> d = DecodeRecord(*bytes);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->SerializeAsString(), e.SerializeAsString());
  EXPECT_EQ(d->payload(), e.payload());
  EXPECT_EQ(d->hash(), e.hash());
}

TEST(RecordCodec, EncodeRefusesAnInvalidRecord) {
  StoredEvent e = ValidEvent();
  e.set_actor("mallory");  // hash no longer matches
  EXPECT_EQ(EncodeRecord(e).status().code(), absl::StatusCode::kDataLoss);
}

// Found by tests/fuzz/record_codec_fuzz: a string field holding bytes that
// are not UTF-8 used to encode fine and then never decode (protobuf refuses
// such strings when parsing), so the event would be lost to DATA_LOSS.
TEST(RecordCodec, EncodeRefusesAStringFieldThatIsNotUtf8) {
  for (int field = 0; field < 5; ++field) {
    StoredEvent e = ValidEvent();
    const std::string bad("a\xbf\xbe", 3);
    switch (field) {
      case 0:
        e.set_stream(bad);
        break;
      case 1:
        e.set_type(bad);
        break;
      case 2:
        e.set_actor(bad);
        break;
      case 3:
        e.set_correlation_id(bad);
        break;
      default:
        e.set_causation_id(bad);
        break;
    }
    e.set_hash(ComputeHash(e));
    absl::StatusOr<std::string> enc = EncodeRecord(e);
    EXPECT_EQ(enc.status().code(), absl::StatusCode::kDataLoss) << field;
    EXPECT_EQ(enc.status().message(),
              "event at position 7: a string field is not UTF-8");
  }
}

TEST(RecordCodec, DecodeOfGarbageIsDataLoss) {
  // 0xff is an invalid wire type / truncated varint.
  EXPECT_EQ(DecodeRecord("\xff\xff\xff").status().code(),
            absl::StatusCode::kDataLoss);
  // Parses (empty message) but fails validation.
  EXPECT_EQ(DecodeRecord("").status().code(), absl::StatusCode::kDataLoss);
  // A valid record cut short.
  absl::StatusOr<std::string> bytes = EncodeRecord(ValidEvent());
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(DecodeRecord(std::string_view(*bytes).substr(0, bytes->size() - 5))
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
}

TEST(RecordCodec, DecodeRejectsAFlippedStoredByte) {
  absl::StatusOr<std::string> bytes = EncodeRecord(ValidEvent());
  ASSERT_TRUE(bytes.ok());
  std::string tampered = *bytes;
  // Flip a byte inside the actor's value ("alice" -> "blice").
  const size_t at = tampered.find("alice");
  ASSERT_NE(at, std::string::npos);
  tampered[at] = 'b';
  EXPECT_EQ(DecodeRecord(tampered).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(RecordCodec, ChainOfThreeLinksEachPrevHashToThePreviousHash) {
  std::vector<StoredEvent> chain;
  std::string prev = GenesisHash();
  for (uint64_t p = 1; p <= 3; ++p) {
    StoredEvent e = ValidEvent();
    e.set_position(p);
    e.set_revision(p - 1);
    e.set_prev_hash(prev);
    e.set_hash(ComputeHash(e));
    ASSERT_EQ(ValidateRecord(e), absl::OkStatus()) << p;
    prev = e.hash();
    chain.push_back(e);
  }
  EXPECT_EQ(chain[0].prev_hash(), GenesisHash());
  EXPECT_EQ(chain[1].prev_hash(), chain[0].hash());
  EXPECT_EQ(chain[2].prev_hash(), chain[1].hash());
  EXPECT_NE(chain[0].hash(), chain[1].hash());
  EXPECT_NE(chain[1].hash(), chain[2].hash());
  // Rewriting the first record changes every later link's input.
  StoredEvent first = chain[0];
  first.set_payload("rewritten");
  EXPECT_NE(ComputeHash(first), chain[1].prev_hash());
}

}  // namespace
}  // namespace partnerledger::store

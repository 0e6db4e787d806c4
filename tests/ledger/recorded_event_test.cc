// RecordedEvent, the public form of a stored record (ledger.h,
// ledger/ledger_internal.h): every field of the record reaches it, and its
// payload decodes or fails as DATA_LOSS naming the position.
#include <string>

#include "gtest/gtest.h"
#include "ledger/ledger_internal.h"
#include "partnerledger/ledger.h"

namespace partnerledger {
namespace {

using storage::v1::StoredEvent;

StoredEvent EveryFieldSet() {
  v1::EventPayload payload;
  payload.mutable_partner_registered()->set_legal_name("Acme BV");
  StoredEvent e;
  e.set_position(7);
  e.set_stream("partner-acme");
  e.set_revision(3);
  e.set_event_id(std::string(16, '\x5a'));
  e.set_type("PartnerRegistered");
  e.set_occurred_at_us(1'767'225'600'000'001);
  e.set_recorded_at_us(1'767'225'600'000'002);
  e.set_actor("crm-service");
  e.set_correlation_id("corr-1");
  e.set_causation_id("cause-1");
  e.set_payload(payload.SerializeAsString());
  e.set_schema_version(1);
  e.set_derived(true);
  e.set_prev_hash(std::string(32, '\x01'));
  e.set_hash(std::string(32, '\x02'));
  return e;
}

TEST(RecordedEvent, CarriesEveryFieldOfTheStoredRecord) {
  // A field added to the record must be added to RecordedEvent (and here).
  ASSERT_EQ(StoredEvent::descriptor()->field_count(), 15);
  const StoredEvent stored = EveryFieldSet();
  const RecordedEvent e = ledger::ToRecordedEvent(StoredEvent(stored));
  EXPECT_EQ(e.position, 7u);
  EXPECT_EQ(e.stream, "partner-acme");
  EXPECT_EQ(e.revision, 3u);
  EXPECT_EQ(e.event_id, std::string(16, '\x5a'));
  EXPECT_EQ(e.type, "PartnerRegistered");
  EXPECT_EQ(e.occurred_at_us, 1'767'225'600'000'001);
  EXPECT_EQ(e.recorded_at_us, 1'767'225'600'000'002);
  EXPECT_EQ(e.actor, "crm-service");
  EXPECT_EQ(e.correlation_id, "corr-1");
  EXPECT_EQ(e.causation_id, "cause-1");
  EXPECT_EQ(e.payload, stored.payload());
  EXPECT_EQ(e.schema_version, 1u);
  EXPECT_TRUE(e.derived);
  EXPECT_EQ(e.prev_hash, std::string(32, '\x01'));
  EXPECT_EQ(e.hash, std::string(32, '\x02'));
}

TEST(RecordedEvent, PayloadDecodesOrIsDataLossNamingThePosition) {
  RecordedEvent e = ledger::ToRecordedEvent(EveryFieldSet());
  absl::StatusOr<v1::EventPayload> p = DecodePayload(e);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->partner_registered().legal_name(), "Acme BV");
  e.payload = "\xff\xff\xff";  // not a protobuf message
  p = DecodePayload(e);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(p.status().message().rfind("event at position 7: ", 0), 0u)
      << p.status();
}

TEST(EventFilter, MatchesAnyListedTypeAndAnyListedPrefix) {
  EventFilter f;
  EXPECT_TRUE(f.empty());
  EXPECT_TRUE(f.Matches("PartnerRegistered", "partner-a"));
  f.event_types = {"DealOriginated", "RevenueBooked"};
  EXPECT_TRUE(f.Matches("RevenueBooked", "deal-d1"));
  EXPECT_FALSE(f.Matches("PartnerRegistered", "deal-d1"));
  f.stream_prefixes = {"deal-d", "agreement-"};
  EXPECT_TRUE(f.Matches("DealOriginated", "deal-d7"));
  EXPECT_FALSE(f.Matches("DealOriginated", "partner-deal-d7"));
  EXPECT_FALSE(f.empty());
}

}  // namespace
}  // namespace partnerledger

// Wire translation (src/server/translate.h, src/domain/enums.h): every value
// of every wire enum is mapped explicitly, unknown enum values and
// out-of-range timestamps anywhere in a request are INVALID_ARGUMENT naming
// the field, never a default.
#include "server/translate.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "domain/enums.h"
#include "domain/validate.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "partnerledger/v1/admin.pb.h"
#include "partnerledger/v1/audit.pb.h"
#include "partnerledger/v1/event_store.pb.h"
#include "partnerledger/v1/query.pb.h"

namespace partnerledger::server {
namespace {

using ::testing::HasSubstr;
namespace sv1 = storage::v1;

// The storage value a wire value maps to has the same name, and maps back.
template <typename Wire, typename Storage>
std::function<void(int)> RoundTrip(
    const google::protobuf::EnumDescriptor* storage_type) {
  return [storage_type](int number) {
    const Wire w = static_cast<Wire>(number);
    const Storage s = domain::ToStorage(w);
    const google::protobuf::EnumValueDescriptor* sv =
        storage_type->FindValueByNumber(s);
    ASSERT_NE(sv, nullptr);
    const std::string wire_name = google::protobuf::GetEnumDescriptor<Wire>()
                                      ->FindValueByNumber(number)
                                      ->name();
    EXPECT_EQ(sv->name(), wire_name);
    EXPECT_EQ(domain::ToWire(s), w) << wire_name;
  };
}

// How each wire enum is read, by full name. A wire enum missing here fails
// the test below, so a new enum cannot go unmapped.
std::map<std::string, std::function<void(int)>> Translators() {
  std::map<std::string, std::function<void(int)>> t;
  t["partnerledger.v1.OfferingClass"] =
      RoundTrip<v1::OfferingClass, sv1::OfferingClass>(
          sv1::OfferingClass_descriptor());
  t["partnerledger.v1.MarginSource"] =
      RoundTrip<v1::MarginSource, sv1::MarginSource>(
          sv1::MarginSource_descriptor());
  t["partnerledger.v1.ObligationKind"] =
      RoundTrip<v1::ObligationKind, sv1::ObligationKind>(
          sv1::ObligationKind_descriptor());
  t["partnerledger.v1.ConflictKind"] =
      RoundTrip<v1::ConflictKind, sv1::ConflictKind>(
          sv1::ConflictKind_descriptor());
  t["partnerledger.v1.DealStatus"] =
      RoundTrip<v1::DealStatus, sv1::DealStatus>(sv1::DealStatus_descriptor());
  t["partnerledger.v1.ConflictStatus"] =
      RoundTrip<v1::ConflictStatus, sv1::ConflictStatus>(
          sv1::ConflictStatus_descriptor());
  t["partnerledger.v1.StatementLineType"] =
      RoundTrip<v1::StatementLineType, sv1::StatementLineType>(
          sv1::StatementLineType_descriptor());
  t["partnerledger.v1.ExpectedState"] = [](int n) {
    const std::map<int, ExpectedRevision::Kind> want = {
        {v1::EXPECTED_STATE_UNSPECIFIED, ExpectedRevision::Kind::kAny},
        {v1::EXPECTED_STATE_ANY, ExpectedRevision::Kind::kAny},
        {v1::EXPECTED_STATE_NO_STREAM, ExpectedRevision::Kind::kNoStream},
        {v1::EXPECTED_STATE_EXISTS, ExpectedRevision::Kind::kExists}};
    absl::StatusOr<ExpectedRevision> e =
        FromWire(static_cast<v1::ExpectedState>(n));
    ASSERT_TRUE(e.ok()) << n;
    ASSERT_EQ(want.count(n), 1u) << "no expectation for " << n;
    EXPECT_EQ(e->kind, want.at(n)) << n;
  };
  t["partnerledger.v1.ReadDirection"] = [](int n) {
    absl::StatusOr<Direction> d = FromWire(static_cast<v1::ReadDirection>(n));
    ASSERT_TRUE(d.ok()) << n;
    EXPECT_EQ(*d, n == v1::READ_DIRECTION_BACKWARD ? Direction::kBackward
                                                   : Direction::kForward);
  };
  // Read in event payloads: every defined value but UNSPECIFIED is valid.
  t["partnerledger.v1.DealOutcome"] = [](int n) {
    v1::EventPayload p;
    p.mutable_deal_closed()->set_outcome(static_cast<v1::DealOutcome>(n));
    absl::Status s = domain::ValidateProposedPayload(
        p, *domain::ParseStreamName("deal-d1"), "payload");
    EXPECT_EQ(s.ok(), n != v1::DEAL_OUTCOME_UNSPECIFIED) << n << ": " << s;
  };
  t["partnerledger.v1.SatisfactionSubject"] = [](int n) {
    v1::EventPayload p;
    v1::SatisfactionRecorded* e = p.mutable_satisfaction_recorded();
    e->set_subject(static_cast<v1::SatisfactionSubject>(n));
    e->set_respondent("cust-1");
    e->set_score(7);
    e->set_period("2026-05");
    absl::Status s = domain::ValidateProposedPayload(
        p, *domain::ParseStreamName("agreement-a1"), "payload");
    EXPECT_EQ(s.ok(), n != v1::SATISFACTION_SUBJECT_UNSPECIFIED) << n;
  };
  // Written by the server only, never read from a request.
  t["partnerledger.v1.Pillar"] = [](int) {};
  t["partnerledger.v1.HealthStatus"] = [](int) {};
  return t;
}

void CollectEnums(const google::protobuf::Descriptor* m,
                  std::vector<const google::protobuf::EnumDescriptor*>* out) {
  for (int i = 0; i < m->enum_type_count(); ++i)
    out->push_back(m->enum_type(i));
  for (int i = 0; i < m->nested_type_count(); ++i) {
    CollectEnums(m->nested_type(i), out);
  }
}

// Every enum of the wire API (top-level and nested in messages) in every
// file of partnerledger.v1.
std::vector<const google::protobuf::EnumDescriptor*> WireEnums() {
  std::vector<const google::protobuf::EnumDescriptor*> out;
  // One message of each file names the file (and links it in).
  for (const google::protobuf::FileDescriptor* file :
       {v1::EventPayload::descriptor()->file(),
        v1::AppendEventsRequest::descriptor()->file(),
        v1::GetObligationsRequest::descriptor()->file(),
        v1::CreateBackupRequest::descriptor()->file(),
        v1::GetCheckpointRequest::descriptor()->file()}) {
    for (int i = 0; i < file->enum_type_count(); ++i) {
      out.push_back(file->enum_type(i));
    }
    for (int i = 0; i < file->message_type_count(); ++i) {
      CollectEnums(file->message_type(i), &out);
    }
  }
  return out;
}

TEST(EnumTranslation, EveryValueOfEveryWireEnumIsMapped) {
  const std::map<std::string, std::function<void(int)>> t = Translators();
  int values = 0;
  int enums = 0;
  for (const google::protobuf::EnumDescriptor* e : WireEnums()) {
    ++enums;
    auto it = t.find(e->full_name());
    ASSERT_NE(it, t.end()) << e->full_name() << " has no translator";
    for (int j = 0; j < e->value_count(); ++j) {
      SCOPED_TRACE(e->value(j)->full_name());
      it->second(e->value(j)->number());
      ++values;
    }
  }
  // The walk covered the catalogue: every enum listed above was found.
  EXPECT_EQ(enums, static_cast<int>(t.size()));
  EXPECT_GE(values, 50);
}

TEST(EnumTranslation, EveryStorageValueMapsBackByName) {
  for (const google::protobuf::EnumDescriptor* e :
       {sv1::OfferingClass_descriptor(), sv1::MarginSource_descriptor(),
        sv1::ObligationKind_descriptor(), sv1::ConflictKind_descriptor(),
        sv1::DealStatus_descriptor(), sv1::ConflictStatus_descriptor(),
        sv1::StatementLineType_descriptor()}) {
    const std::map<std::string, std::function<void(int)>> t = Translators();
    const auto& check = t.at("partnerledger.v1." + e->name());
    for (int j = 0; j < e->value_count(); ++j) {
      SCOPED_TRACE(e->value(j)->full_name());
      check(e->value(j)->number());  // same numbers, same names
    }
  }
}

TEST(WireValues, UnknownExpectedStateIsInvalidArgumentNotAny) {
  v1::AppendEventsRequest req;
  req.set_stream("partner-p1");
  req.set_expected_state(static_cast<v1::ExpectedState>(99));
  absl::StatusOr<AppendRequest> r = FromWire(req);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("expected_state"));
  EXPECT_THAT(r.status().message(), HasSubstr("99"));
  EXPECT_EQ(FromWire(static_cast<v1::ExpectedState>(99)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FromWire(static_cast<v1::ReadDirection>(7)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WireValues, UnknownEnumDeepInARequestNamesItsPath) {
  v1::AppendEventsRequest req;
  req.set_stream("deal-d1");
  v1::ProposedEvent* e = req.add_events();
  e->mutable_occurred_at()->set_seconds(1'780'000'000);
  e = req.add_events();
  e->mutable_occurred_at()->set_seconds(1'780'000'000);
  e->mutable_payload()->mutable_deal_originated()->set_offering_class(
      static_cast<v1::OfferingClass>(42));
  absl::Status s = FromWire(req).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              HasSubstr("events[1].payload.deal_originated.offering_class: "
                        "unknown value 42"));

  v1::GetObligationsRequest q;
  q.set_kind(static_cast<v1::ObligationKind>(-3));
  s = ValidateRequest(q);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("kind: unknown value -3"));
  v1::ListConflictsRequest c;
  c.set_status(static_cast<v1::ConflictStatus>(3));
  EXPECT_THAT(ValidateRequest(c).message(), HasSubstr("status"));
  c.set_status(v1::CONFLICT_STATUS_RESOLVED);
  EXPECT_TRUE(ValidateRequest(c).ok());
}

TEST(WireValues, TimestampsOutOfRangeAreInvalidArgumentNamingTheField) {
  struct Case {
    int64_t seconds;
    int32_t nanos;
    bool ok;
  };
  const Case cases[] = {
      {-62'135'596'800, 0, true},            // 0001-01-01T00:00:00Z
      {253'402'300'799, 999'999'999, true},  // 9999-12-31T23:59:59.999999999Z
      {-62'135'596'801, 0, false},
      {253'402'300'800, 0, false},
      {0, -1, false},
      {0, 1'000'000'000, false},
      {INT64_MAX, 0, false},  // * 10^6 would overflow
      {INT64_MIN, 0, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.seconds);
    v1::AppendEventsRequest req;
    req.set_stream("partner-p1");
    v1::ProposedEvent* e = req.add_events();
    e->mutable_occurred_at()->set_seconds(c.seconds);
    e->mutable_occurred_at()->set_nanos(c.nanos);
    absl::Status s = FromWire(req).status();
    EXPECT_EQ(s.ok(), c.ok) << s;
    if (!c.ok) {
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(s.message(), HasSubstr("events[0].occurred_at: seconds"));
    }
    v1::GetObligationsRequest q;
    q.mutable_as_of()->mutable_recorded_at()->set_seconds(c.seconds);
    q.mutable_as_of()->mutable_recorded_at()->set_nanos(c.nanos);
    s = ValidateRequest(q);
    EXPECT_EQ(s.ok(), c.ok);
    if (!c.ok) {
      EXPECT_THAT(s.message(), HasSubstr("as_of.recorded_at: seconds"));
    }
  }
}

}  // namespace
}  // namespace partnerledger::server

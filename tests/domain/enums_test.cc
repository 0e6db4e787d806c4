// The wire <-> state translator (src/domain/enums.h) for the value messages
// both packages share: every field survives a round trip, and the two sides
// declare the same fields, so a field added to one side only fails here.
#include "domain/enums.h"

#include <string>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace partnerledger::domain {
namespace {

namespace sv1 = storage::v1;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Sets every field of `m` to a value other than its default (enums to
// their last value; one element in repeated fields), recursively.
void FillEveryField(Message* m, int seed) {
  const Descriptor* d = m->GetDescriptor();
  const Reflection* r = m->GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    const int v = seed + i + 1;
    if (f->is_repeated()) {
      ASSERT_EQ(f->cpp_type(), FieldDescriptor::CPPTYPE_MESSAGE) << f->name();
      FillEveryField(r->AddMessage(m, f), v * 10);
      FillEveryField(r->AddMessage(m, f), v * 20);
      continue;
    }
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        r->SetInt32(m, f, v);
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        r->SetString(m, f, f->name() + "-" + std::to_string(v));
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        r->SetEnum(m, f,
                   f->enum_type()->value(f->enum_type()->value_count() - 1));
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        FillEveryField(r->MutableMessage(m, f), v * 10);
        break;
      default:
        FAIL() << f->full_name() << ": type not covered by this test";
    }
  }
}

// Same field names, numbers and kinds on both sides.
void ExpectSameShape(const Descriptor* wire, const Descriptor* storage) {
  ASSERT_EQ(wire->field_count(), storage->field_count()) << wire->full_name();
  for (int i = 0; i < wire->field_count(); ++i) {
    const FieldDescriptor* w = wire->field(i);
    const FieldDescriptor* s = storage->FindFieldByName(w->name());
    ASSERT_NE(s, nullptr) << w->full_name() << " has no storage counterpart";
    EXPECT_EQ(s->number(), w->number()) << w->full_name();
    EXPECT_EQ(s->cpp_type(), w->cpp_type()) << w->full_name();
    EXPECT_EQ(s->is_repeated(), w->is_repeated()) << w->full_name();
  }
}

template <typename Wire, typename Storage>
void ExpectRoundTrip() {
  SCOPED_TRACE(Wire::descriptor()->full_name());
  ExpectSameShape(Wire::descriptor(), Storage::descriptor());
  Wire w;
  FillEveryField(&w, 0);
  const Storage s = ToStorage(w);
  // Storage has the same values under the same field numbers.
  Wire reparsed;
  ASSERT_TRUE(reparsed.ParseFromString(s.SerializeAsString()));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(reparsed, w))
      << "storage: " << s.DebugString() << "\nwire: " << w.DebugString();
  const Wire back = ToWire(s);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(back, w))
      << "back: " << back.DebugString() << "\nwire: " << w.DebugString();
}

TEST(StateTranslation, EverySharedValueMessageRoundTripsEveryField) {
  ExpectRoundTrip<v1::MarginBand, sv1::MarginBand>();
  ExpectRoundTrip<v1::MarginSchedule, sv1::MarginSchedule>();
  ExpectRoundTrip<v1::Document, sv1::Document>();
}

TEST(StateTranslation, RepeatedBandsAppendInOrder) {
  v1::MarginSchedule w;
  w.add_bands()->set_from_year(1);
  w.mutable_bands(0)->set_rate_bp(2500);
  w.add_bands()->set_from_year(2);
  w.mutable_bands(1)->set_rate_bp(1250);
  sv1::Deal deal;
  deal.add_bands()->set_from_year(9);  // kept: append, not replace
  AppendToStorage(w.bands(), deal.mutable_bands());
  ASSERT_EQ(deal.bands_size(), 3);
  EXPECT_EQ(deal.bands(1).rate_bp(), 2500);
  EXPECT_EQ(deal.bands(2).from_year(), 2);
  v1::MarginAgreed m;
  AppendToWire(deal.bands(), m.mutable_bands());
  ASSERT_EQ(m.bands_size(), 3);
  EXPECT_EQ(m.bands(0).from_year(), 9);
  EXPECT_EQ(m.bands(2).rate_bp(), 1250);
}

}  // namespace
}  // namespace partnerledger::domain

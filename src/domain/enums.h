// Wire (partnerledger.v1) <-> storage (partnerledger.storage.v1): the one
// place each enum value is mapped, every value spelled out in a switch (no
// casts), and the value messages both sides share (margin bands and
// schedules, documents) are copied field by field. Used by the rules
// (events -> state) and the queries (state -> answers); nothing else
// translates between the two packages.
//
// A value the other side has no counterpart for (a number this build does
// not know) maps to *_UNSPECIFIED. Wire input never gets here with such a
// value: ValidateWireValues (validate.h) rejects unknown enum numbers
// anywhere in a request as INVALID_ARGUMENT first.
#ifndef PARTNERLEDGER_DOMAIN_ENUMS_H_
#define PARTNERLEDGER_DOMAIN_ENUMS_H_

#include "partnerledger/storage/v1/state.pb.h"
#include "partnerledger/v1/events.pb.h"
#include "partnerledger/v1/query.pb.h"

namespace partnerledger::domain {

storage::v1::OfferingClass ToStorage(v1::OfferingClass v);
v1::OfferingClass ToWire(storage::v1::OfferingClass v);
storage::v1::MarginSource ToStorage(v1::MarginSource v);
v1::MarginSource ToWire(storage::v1::MarginSource v);
storage::v1::ObligationKind ToStorage(v1::ObligationKind v);
v1::ObligationKind ToWire(storage::v1::ObligationKind v);
storage::v1::ConflictKind ToStorage(v1::ConflictKind v);
v1::ConflictKind ToWire(storage::v1::ConflictKind v);
storage::v1::DealStatus ToStorage(v1::DealStatus v);
v1::DealStatus ToWire(storage::v1::DealStatus v);
storage::v1::ConflictStatus ToStorage(v1::ConflictStatus v);
v1::ConflictStatus ToWire(storage::v1::ConflictStatus v);
storage::v1::StatementLineType ToStorage(v1::StatementLineType v);
v1::StatementLineType ToWire(storage::v1::StatementLineType v);

// Value messages. Every field is copied; a field added to one side and not
// here is caught by the round-trip test (tests/domain/enums_test.cc).
storage::v1::MarginBand ToStorage(const v1::MarginBand& b);
v1::MarginBand ToWire(const storage::v1::MarginBand& b);
storage::v1::MarginSchedule ToStorage(const v1::MarginSchedule& s);
v1::MarginSchedule ToWire(const storage::v1::MarginSchedule& s);
storage::v1::Document ToStorage(const v1::Document& d);
v1::Document ToWire(const storage::v1::Document& d);

// Appends each band of `in`, translated, to `out`.
void AppendToStorage(
    const google::protobuf::RepeatedPtrField<v1::MarginBand>& in,
    google::protobuf::RepeatedPtrField<storage::v1::MarginBand>* out);
void AppendToWire(
    const google::protobuf::RepeatedPtrField<storage::v1::MarginBand>& in,
    google::protobuf::RepeatedPtrField<v1::MarginBand>* out);

}  // namespace partnerledger::domain

#endif  // PARTNERLEDGER_DOMAIN_ENUMS_H_

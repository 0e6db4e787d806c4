// Wire (partnerledger.v1) <-> storage (partnerledger.storage.v1) enum
// values: the one place each value is mapped, every value spelled out.
// Used by the rules (events -> state) and the queries (state -> answers).
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

}  // namespace partnerledger::domain

#endif  // PARTNERLEDGER_DOMAIN_ENUMS_H_

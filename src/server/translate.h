// Wire messages <-> ledger types: the one translator in each direction.
#ifndef PARTNERLEDGER_SERVER_TRANSLATE_H_
#define PARTNERLEDGER_SERVER_TRANSLATE_H_

#include "absl/status/statusor.h"
#include "partnerledger/ledger.h"
#include "partnerledger/v1/event_store.pb.h"

namespace partnerledger::server {

// Every request is checked first: an enum field holding a number its enum
// does not define, or a Timestamp outside 0001-01-01..9999-12-31 (or nanos
// outside 0..999,999,999), anywhere in it, is INVALID_ARGUMENT naming the
// field path (domain::ValidateWireValues). Unknown values are never
// translated to a default.
absl::Status ValidateRequest(const google::protobuf::Message& req);

// Each wire enum the server reads maps every value explicitly here (the
// wire <-> storage enums: domain/enums.h). Unknown values: INVALID_ARGUMENT
// naming the field. UNSPECIFIED is ANY / FORWARD, as the proto documents.
absl::StatusOr<ExpectedRevision> FromWire(v1::ExpectedState s);
absl::StatusOr<Direction> FromWire(v1::ReadDirection d);

// ValidateRequest, then INVALID_ARGUMENT naming the field for what cannot
// be translated (e.g. a missing occurred_at). Everything else is validated
// by the ledger.
absl::StatusOr<AppendRequest> FromWire(const v1::AppendEventsRequest& req);

void ToWire(const AppendResult& r, v1::AppendEventsResponse* out);

// DATA_LOSS when the stored payload cannot be read.
absl::Status ToWire(const RecordedEvent& e, v1::Event* out);

EventFilter FromWire(const v1::Filter& f);

}  // namespace partnerledger::server

#endif  // PARTNERLEDGER_SERVER_TRANSLATE_H_

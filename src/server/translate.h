// Wire messages <-> ledger types: the one translator in each direction.
#ifndef PARTNERLEDGER_SERVER_TRANSLATE_H_
#define PARTNERLEDGER_SERVER_TRANSLATE_H_

#include "absl/status/statusor.h"
#include "partnerledger/ledger.h"
#include "partnerledger/v1/event_store.pb.h"

namespace partnerledger::server {

// INVALID_ARGUMENT naming the field for what cannot be translated (e.g. a
// missing occurred_at). Everything else is validated by the ledger.
absl::StatusOr<AppendRequest> FromWire(const v1::AppendEventsRequest& req);

void ToWire(const AppendResult& r, v1::AppendEventsResponse* out);

// DATA_LOSS when the stored payload cannot be read.
absl::Status ToWire(const StoredEvent& e, v1::Event* out);

EventFilter FromWire(const v1::Filter& f);

}  // namespace partnerledger::server

#endif  // PARTNERLEDGER_SERVER_TRANSLATE_H_

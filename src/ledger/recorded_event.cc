// RecordedEvent and EventFilter: the public form of stored records.
#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "domain/upcast.h"
#include "ledger/ledger_internal.h"
#include "partnerledger/ledger.h"

namespace partnerledger {

absl::StatusOr<v1::EventPayload> DecodePayload(const RecordedEvent& e) {
  absl::StatusOr<v1::EventPayload> payload =
      domain::UpcastPayload(e.schema_version, e.payload);
  if (!payload.ok()) {
    return absl::Status(payload.status().code(),
                        absl::StrCat("event at position ", e.position, ": ",
                                     payload.status().message()));
  }
  return payload;
}

bool EventFilter::Matches(std::string_view type,
                          std::string_view stream) const {
  if (!event_types.empty() && std::find(event_types.begin(), event_types.end(),
                                        type) == event_types.end()) {
    return false;
  }
  if (stream_prefixes.empty()) return true;
  for (const std::string& prefix : stream_prefixes) {
    if (stream.starts_with(prefix)) return true;
  }
  return false;
}

namespace ledger {

RecordedEvent ToRecordedEvent(storage::v1::StoredEvent&& e) {
  RecordedEvent out;
  out.position = e.position();
  out.stream = std::move(*e.mutable_stream());
  out.revision = e.revision();
  out.event_id = std::move(*e.mutable_event_id());
  out.type = std::move(*e.mutable_type());
  out.occurred_at_us = e.occurred_at_us();
  out.recorded_at_us = e.recorded_at_us();
  out.actor = std::move(*e.mutable_actor());
  out.correlation_id = std::move(*e.mutable_correlation_id());
  out.causation_id = std::move(*e.mutable_causation_id());
  out.payload = std::move(*e.mutable_payload());
  out.schema_version = e.schema_version();
  out.derived = e.derived();
  out.prev_hash = std::move(*e.mutable_prev_hash());
  out.hash = std::move(*e.mutable_hash());
  return out;
}

}  // namespace ledger
}  // namespace partnerledger

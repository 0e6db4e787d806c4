#include "server/translate.h"

#include "absl/strings/str_cat.h"
#include "domain/validate.h"
#include "util/status_macros.h"
#include "util/timestamp.h"
#include "util/uuid.h"

namespace partnerledger::server {
absl::StatusOr<ExpectedRevision> FromWire(v1::ExpectedState s) {
  switch (s) {
    case v1::EXPECTED_STATE_UNSPECIFIED:  // documented as ANY
    case v1::EXPECTED_STATE_ANY:
      return ExpectedRevision::Any();
    case v1::EXPECTED_STATE_NO_STREAM:
      return ExpectedRevision::NoStream();
    case v1::EXPECTED_STATE_EXISTS:
      return ExpectedRevision::Exists();
    case v1::ExpectedState_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::ExpectedState_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  // Never ANY: that would drop the concurrency check the client asked for.
  return absl::InvalidArgumentError(
      absl::StrCat("expected_state: unknown value ", static_cast<int>(s)));
}

absl::StatusOr<Direction> FromWire(v1::ReadDirection d) {
  switch (d) {
    case v1::READ_DIRECTION_UNSPECIFIED:  // documented as FORWARD
    case v1::READ_DIRECTION_FORWARD:
      return Direction::kForward;
    case v1::READ_DIRECTION_BACKWARD:
      return Direction::kBackward;
    case v1::ReadDirection_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::ReadDirection_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("direction: unknown value ", static_cast<int>(d)));
}

absl::Status ValidateRequest(const google::protobuf::Message& req) {
  return domain::ValidateWireValues(req);
}

absl::StatusOr<AppendRequest> FromWire(const v1::AppendEventsRequest& req) {
  // Unknown enum values and out-of-range timestamps anywhere in the request.
  RETURN_IF_ERROR(ValidateRequest(req));
  AppendRequest out;
  out.stream = req.stream();
  switch (req.expected_case()) {
    case v1::AppendEventsRequest::kExpectedRevision:
      out.expected = ExpectedRevision::Exact(req.expected_revision());
      break;
    case v1::AppendEventsRequest::kExpectedState: {
      ASSIGN_OR_RETURN(out.expected, FromWire(req.expected_state()));
      break;
    }
    case v1::AppendEventsRequest::EXPECTED_NOT_SET:
      out.expected = ExpectedRevision::Any();
  }
  out.events.reserve(req.events_size());
  for (int i = 0; i < req.events_size(); ++i) {
    const v1::ProposedEvent& pe = req.events(i);
    if (!pe.has_occurred_at()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "events[", i, "].occurred_at: required (business time)"));
    }
    const google::protobuf::Timestamp& t = pe.occurred_at();  // in range
    NewEvent e;
    e.event_id = pe.event_id();
    e.occurred_at_us = TimestampMicros(t);
    e.correlation_id = pe.correlation_id();
    e.causation_id = pe.causation_id();
    e.payload = pe.payload();
    out.events.push_back(std::move(e));
  }
  return out;
}

void ToWire(const AppendResult& r, v1::AppendEventsResponse* out) {
  for (const AppendedEvent& a : r.events) {
    v1::AppendedEvent* w = out->add_events();
    w->set_position(a.position);
    w->set_stream(a.stream);
    w->set_revision(a.revision);
    w->set_event_id(a.event_id);
    w->set_type(a.type);
    w->set_derived(a.derived);
  }
  out->set_next_expected_revision(r.next_expected_revision);
  out->set_replayed(r.replayed);
  out->set_commit_position(r.commit_position);
}

absl::Status ToWire(const RecordedEvent& e, v1::Event* out) {
  ASSIGN_OR_RETURN(v1::EventPayload payload, DecodePayload(e));
  out->set_position(e.position);
  out->set_stream(e.stream);
  out->set_revision(e.revision);
  out->set_event_id(FormatUuid(e.event_id));
  out->set_type(e.type);
  SetTimestampMicros(e.occurred_at_us, out->mutable_occurred_at());
  SetTimestampMicros(e.recorded_at_us, out->mutable_recorded_at());
  out->set_actor(e.actor);
  out->set_correlation_id(e.correlation_id);
  out->set_causation_id(e.causation_id);
  *out->mutable_payload() = std::move(payload);
  out->set_prev_hash(e.prev_hash);
  out->set_hash(e.hash);
  return absl::OkStatus();
}

EventFilter FromWire(const v1::Filter& f) {
  EventFilter out;
  out.event_types.assign(f.event_types().begin(), f.event_types().end());
  out.stream_prefixes.assign(f.stream_prefixes().begin(),
                             f.stream_prefixes().end());
  return out;
}

}  // namespace partnerledger::server

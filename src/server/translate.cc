#include "server/translate.h"

#include "absl/strings/str_cat.h"
#include "domain/upcast.h"
#include "util/timestamp.h"
#include "util/uuid.h"

namespace partnerledger::server {
namespace {

// 0001-01-01 .. 9999-12-31, as google.protobuf.Timestamp defines.
constexpr int64_t kMinSeconds = -62'135'596'800;
constexpr int64_t kMaxSeconds = 253'402'300'799;

}  // namespace

absl::StatusOr<AppendRequest> FromWire(const v1::AppendEventsRequest& req) {
  AppendRequest out;
  out.stream = req.stream();
  switch (req.expected_case()) {
    case v1::AppendEventsRequest::kExpectedRevision:
      out.expected = ExpectedRevision::Exact(req.expected_revision());
      break;
    case v1::AppendEventsRequest::kExpectedState:
      switch (req.expected_state()) {
        case v1::EXPECTED_STATE_NO_STREAM:
          out.expected = ExpectedRevision::NoStream();
          break;
        case v1::EXPECTED_STATE_EXISTS:
          out.expected = ExpectedRevision::Exists();
          break;
        default:
          out.expected = ExpectedRevision::Any();
      }
      break;
    case v1::AppendEventsRequest::EXPECTED_NOT_SET:
      out.expected = ExpectedRevision::Any();
  }
  out.events.reserve(req.events_size());
  for (int i = 0; i < req.events_size(); ++i) {
    const v1::ProposedEvent& pe = req.events(i);
    if (!pe.has_occurred_at()) {
      return absl::InvalidArgumentError(
          absl::StrCat("events[", i, "].occurred_at: required (business time)"));
    }
    const google::protobuf::Timestamp& t = pe.occurred_at();
    if (t.seconds() < kMinSeconds || t.seconds() > kMaxSeconds ||
        t.nanos() < 0 || t.nanos() > 999'999'999) {
      return absl::InvalidArgumentError(
          absl::StrCat("events[", i, "].occurred_at: out of range"));
    }
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

absl::Status ToWire(const StoredEvent& e, v1::Event* out) {
  absl::StatusOr<v1::EventPayload> payload =
      domain::UpcastPayload(e.schema_version(), e.payload());
  if (!payload.ok()) {
    return absl::Status(payload.status().code(),
                        absl::StrCat("event at position ", e.position(), ": ",
                                     payload.status().message()));
  }
  out->set_position(e.position());
  out->set_stream(e.stream());
  out->set_revision(e.revision());
  out->set_event_id(FormatUuid(e.event_id()));
  out->set_type(e.type());
  SetTimestampMicros(e.occurred_at_us(), out->mutable_occurred_at());
  SetTimestampMicros(e.recorded_at_us(), out->mutable_recorded_at());
  out->set_actor(e.actor());
  out->set_correlation_id(e.correlation_id());
  out->set_causation_id(e.causation_id());
  *out->mutable_payload() = std::move(*payload);
  out->set_prev_hash(e.prev_hash());
  out->set_hash(e.hash());
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

// Structural validation of proposed events: everything that can be checked
// without state. Each failure is INVALID_ARGUMENT whose message starts with
// the offending field's path, e.g.
//   "events[0].payload.revenue_booked.amount.currency: unknown ISO 4217 code"
// Pure: no I/O.
#ifndef PARTNERLEDGER_DOMAIN_VALIDATE_H_
#define PARTNERLEDGER_DOMAIN_VALIDATE_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "partnerledger/v1/events.pb.h"

namespace partnerledger::domain {

// The event type of a payload: the oneof field's name in PascalCase
// ("RevenueBooked"); empty when no known payload is set.
std::string_view EventTypeName(v1::EventPayload::KindCase c);

// True for types only the server derives (CommissionAccrued/Reversed).
bool IsDerivedOnly(v1::EventPayload::KindCase c);

// A stream name "{category}-{id}". Categories: partner, agreement, deal,
// conflict, settlement, period. Ids: 1..64 of [A-Za-z0-9._:-] starting
// alphanumeric; a period's id is "YYYY-MM".
struct StreamName {
  std::string_view category;
  std::string_view id;
};
absl::StatusOr<StreamName> ParseStreamName(std::string_view stream);

// Whether an id (partner, agreement, deal ...) is well-formed.
bool IsValidId(std::string_view id);
// "YYYY-MM-DD", a real calendar date, years 1900..9999.
bool IsValidDate(std::string_view date);
// "YYYY-MM".
bool IsValidPeriod(std::string_view period);

// Checks the values protobuf itself lets through, anywhere in a wire
// message (a request, or a payload): every enum field holds a value its
// enum defines (proto3 keeps unknown numbers, e.g. 99), and every
// google.protobuf.Timestamp has seconds within 0001-01-01T00:00:00Z ..
// 9999-12-31T23:59:59Z and nanos in 0..999,999,999, so converting it to
// microseconds cannot overflow. INVALID_ARGUMENT naming the field path
// ("events[0].payload.deal_originated.offering_class: ..."), `field` being
// the path prefix (empty at the top level).
absl::Status ValidateWireValues(const google::protobuf::Message& m,
                                const std::string& field = "");

// Whether a Timestamp is in the range above.
bool IsValidTimestamp(int64_t seconds, int32_t nanos);

// Validates a client-proposed payload for `stream`: a known type that
// clients may send, allowed in the stream's category, with every required
// field present and well-formed. `field` is the path prefix for messages.
absl::Status ValidateProposedPayload(const v1::EventPayload& p,
                                     const StreamName& stream,
                                     const std::string& field);

}  // namespace partnerledger::domain

#endif  // PARTNERLEDGER_DOMAIN_VALIDATE_H_

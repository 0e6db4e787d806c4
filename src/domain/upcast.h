// The upcaster seam: stored payloads are kept forever in the schema version
// they were written with; readers see the current version. Version 1 is the
// first and current one, so upcasting is parsing today. A future version 2
// adds a case here that rewrites a version-1 payload into its new shape.
#ifndef PARTNERLEDGER_DOMAIN_UPCAST_H_
#define PARTNERLEDGER_DOMAIN_UPCAST_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "partnerledger/v1/events.pb.h"

namespace partnerledger::domain {

inline constexpr uint32_t kCurrentSchemaVersion = 1;

// Parses stored payload bytes of `schema_version` into the current payload
// message. Unknown fields (from newer writers) are kept and re-serialized
// unchanged. DATA_LOSS if the bytes do not parse; FAILED_PRECONDITION for a
// version newer than this build understands.
absl::StatusOr<v1::EventPayload> UpcastPayload(uint32_t schema_version,
                                               std::string_view bytes);

}  // namespace partnerledger::domain

#endif  // PARTNERLEDGER_DOMAIN_UPCAST_H_

#include "domain/upcast.h"

#include "absl/strings/str_cat.h"

namespace partnerledger::domain {

absl::StatusOr<v1::EventPayload> UpcastPayload(uint32_t schema_version,
                                               std::string_view bytes) {
  if (schema_version == 0 || schema_version > kCurrentSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("payload schema version ", schema_version,
                     " is not supported by this build (current ",
                     kCurrentSchemaVersion, ")"));
  }
  v1::EventPayload p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("stored payload does not parse");
  }
  return p;
}

}  // namespace partnerledger::domain

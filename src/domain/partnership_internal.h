// Internals shared by partnership.cc (Decide) and partnership_apply.cc
// (Apply). Not part of the domain's interface.
#ifndef PARTNERLEDGER_DOMAIN_PARTNERSHIP_INTERNAL_H_
#define PARTNERLEDGER_DOMAIN_PARTNERSHIP_INTERNAL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "domain/enums.h"
#include "domain/rules.h"
#include "partnerledger/storage/v1/state.pb.h"
#include "partnerledger/v1/events.pb.h"
#include "util/load.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace partnerledger::domain::internal {

namespace sv1 = storage::v1;

// absl::StrCat that also takes std::string_view: util/strings.h.
using ::partnerledger::Cat;

// Records read from state: util/load.h.
using ::partnerledger::Load;
using ::partnerledger::LoadOrEmpty;

template <typename T>
void Store(StateWriter& state, std::string_view key, const T& record) {
  state.Put(key, record.SerializeAsString());
}

// The entity id of a stream "{category}-{id}": the part after the first '-'.
std::string_view StreamId(std::string_view stream);

// Enum values between wire and storage: domain/enums.h.
using ::partnerledger::domain::ToStorage;
using ::partnerledger::domain::ToWire;

// "YYYY-MM-DD" of a UTC instant in microseconds since the epoch.
std::string UtcDate(int64_t unix_us);
// "YYYY-MM" of a "YYYY-MM-DD" date.
std::string_view PeriodOf(std::string_view date);

// 1 + whole years from `start` to `date`, or nullopt when date < start.
// REQUIRES: both are valid "YYYY-MM-DD".
std::optional<int32_t> ContractYear(std::string_view start,
                                    std::string_view date);

// The rate of the band in force in `year`. REQUIRES: bands valid, year >= 1.
int32_t RateForYear(
    const google::protobuf::RepeatedPtrField<sv1::MarginBand>& bands,
    int32_t year);

// Who owes whom on a deal, fixed by its roles.
struct DealObligation {
  std::string payer;
  std::string payee;
  sv1::ObligationKind kind;
};
DealObligation ObligationOf(std::string_view originator,
                            std::string_view provider, std::string_view prime);

// on_hold = min(held, max(outstanding, 0)); see Obligation in state.proto.
void RecomputeOnHold(sv1::Obligation& o);

// What settlements may still consume: max(outstanding - on_hold, 0).
int64_t SettleableMinor(const sv1::Obligation& o);

// Apply, dispatched by payload type (partnership_apply.cc).
absl::Status ApplyEvent(StateWriter& state, const Recorded& e);

}  // namespace partnerledger::domain::internal

#endif  // PARTNERLEDGER_DOMAIN_PARTNERSHIP_INTERNAL_H_

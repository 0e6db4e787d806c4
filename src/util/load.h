// The one way to read a protobuf record stored under a state key, for every
// layer that reads state (the rules through domain::StateView, the
// projections through their views of the store):
//
//   ASSIGN_OR_RETURN(std::optional<Deal> deal, Load<Deal>(state, key));
//
// `source` is anything with
//   absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const
// returning nullopt for an absent key.
#ifndef PARTNERLEDGER_UTIL_LOAD_H_
#define PARTNERLEDGER_UTIL_LOAD_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace partnerledger {

// The record of type T under `key`, nullopt when absent. DATA_LOSS when the
// bytes do not parse as T (state is our own, so that is corruption); read
// errors pass through.
template <typename T, typename Source>
absl::StatusOr<std::optional<T>> Load(const Source& source,
                                      std::string_view key) {
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, source.Get(key));
  if (!bytes.has_value()) return std::optional<T>();
  T record;
  if (!record.ParseFromString(*bytes)) {
    return absl::DataLossError(Cat("state key '", key, "' does not parse as ",
                                   T::descriptor()->full_name()));
  }
  return std::optional<T>(std::move(record));
}

// Like Load, but an absent key is a default (empty) record.
template <typename T, typename Source>
absl::StatusOr<T> LoadOrEmpty(const Source& source, std::string_view key) {
  ASSIGN_OR_RETURN(std::optional<T> record, Load<T>(source, key));
  return record.has_value() ? std::move(*record) : T();
}

}  // namespace partnerledger

#endif  // PARTNERLEDGER_UTIL_LOAD_H_

// The one way to propagate an absl::Status or absl::StatusOr<T> error:
//
//   RETURN_IF_ERROR(store.Write(batch));
//   ASSIGN_OR_RETURN(Head head, store.ReadHead());
//   ASSIGN_OR_RETURN(std::optional<Deal> deal, Load<Deal>(state, key));
//
// RETURN_IF_ERROR returns the status from the enclosing function when it is
// not OK. ASSIGN_OR_RETURN evaluates a StatusOr once, returns its status
// when it is not OK, and otherwise moves its value into the left-hand side
// (a declaration or an existing lvalue). Both work in functions returning
// absl::Status or any absl::StatusOr<U>. A left-hand side with a comma in it
// (std::pair<A, B> p) needs parentheses around the type or an alias.
#ifndef PARTNERLEDGER_UTIL_STATUS_MACROS_H_
#define PARTNERLEDGER_UTIL_STATUS_MACROS_H_

#include <utility>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define RETURN_IF_ERROR(expr)                                \
  do {                                                       \
    ::absl::Status pl_status_macros_status = (expr);         \
    if (ABSL_PREDICT_FALSE(!pl_status_macros_status.ok())) { \
      return pl_status_macros_status;                        \
    }                                                        \
  } while (false)

#define ASSIGN_OR_RETURN(lhs, expr)       \
  PL_STATUS_MACROS_ASSIGN_OR_RETURN_IMPL( \
      PL_STATUS_MACROS_CONCAT(pl_status_macros_or_, __LINE__), lhs, expr)

#define PL_STATUS_MACROS_ASSIGN_OR_RETURN_IMPL(statusor, lhs, expr) \
  auto statusor = (expr);                                           \
  if (ABSL_PREDICT_FALSE(!statusor.ok())) {                         \
    return std::move(statusor).status();                            \
  }                                                                 \
  lhs = std::move(statusor).value()

#define PL_STATUS_MACROS_CONCAT_INNER(a, b) a##b
#define PL_STATUS_MACROS_CONCAT(a, b) PL_STATUS_MACROS_CONCAT_INNER(a, b)

#endif  // PARTNERLEDGER_UTIL_STATUS_MACROS_H_

// The queries of LedgerQueryService (DESIGN §4), answered from the
// projection state the partnership rules keep (domain/state_keys.h).
//
// Every answer is read at one log position P (the head, or the AsOf asked
// for) from the state history, so it is consistent with the log up to P
// even while appends continue, and reproducible later: the same request
// with as_of P returns the same bytes.
//
// Thread-safe: reads only.
#ifndef PARTNERLEDGER_PROJECTION_QUERIES_H_
#define PARTNERLEDGER_PROJECTION_QUERIES_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "partnerledger/v1/query.pb.h"
#include "store/store.h"

namespace partnerledger::projection {

class View;

class Queries {
 public:
  // `state` holds the projections, `log` the events (the same store for a
  // live ledger; a replay's scratch store and the original log for an
  // independent recomputation). `head` returns the last position `state`
  // reflects. Both stores must outlive this.
  Queries(const store::Store* state, const store::Store* log,
          std::function<uint64_t()> head)
      : store_(state), log_(log), head_(std::move(head)) {}
  // A live ledger's store (state and log in one, with a durable head):
  // queries at the head then read a snapshot of the current state.
  static Queries Live(const store::Store* store) {
    Queries q(store, store, nullptr);
    q.live_ = true;
    return q;
  }

  // The position an AsOf names: the head when unset, a position clamped to
  // the head, or the last event recorded at or before a time (0 if none);
  // then the end of the last whole append request at or before it.
  absl::StatusOr<uint64_t> Resolve(const v1::AsOf& as_of) const;

  // Errors: INVALID_ARGUMENT naming a malformed field; NOT_FOUND for an
  // unknown deal; DATA_LOSS when stored state does not parse.
  absl::StatusOr<v1::GetObligationsResponse> GetObligations(
      const v1::GetObligationsRequest& req) const;
  absl::StatusOr<v1::GetReferralBalanceResponse> GetReferralBalance(
      const v1::GetReferralBalanceRequest& req) const;
  absl::StatusOr<v1::GetStatementResponse> GetStatement(
      const v1::GetStatementRequest& req) const;
  absl::StatusOr<v1::GetDealResponse> GetDeal(
      const v1::GetDealRequest& req) const;
  absl::StatusOr<v1::ListConflictsResponse> ListConflicts(
      const v1::ListConflictsRequest& req) const;
  absl::StatusOr<v1::GetSatisfactionResponse> GetSatisfaction(
      const v1::GetSatisfactionRequest& req) const;
  absl::StatusOr<v1::GetPartnershipHealthResponse> GetPartnershipHealth(
      const v1::GetPartnershipHealthRequest& req) const;

 private:
  absl::StatusOr<View> OpenView(const v1::AsOf& as_of) const;
  absl::StatusOr<uint64_t> ResolvePosition(const v1::AsOf& as_of) const;
  // GetSatisfaction of each agreement at position `at`.
  absl::StatusOr<std::vector<v1::GetSatisfactionResponse>>
  AgreementsSatisfaction(const std::vector<std::string>& agreement_ids,
                         uint64_t at, const std::string& as_of_date) const;
  uint64_t Head() const;

  const store::Store* store_;
  const store::Store* log_;
  std::function<uint64_t()> head_;
  bool live_ = false;
};

}  // namespace partnerledger::projection

#endif  // PARTNERLEDGER_PROJECTION_QUERIES_H_

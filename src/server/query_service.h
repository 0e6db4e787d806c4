// partnerledger.v1.LedgerQueryService: thin handlers over
// projection::Queries, plus the projection rebuild. Every handler checks the
// caller first (auth.h): queries need finance; a partner:<id> reader may ask
// GetObligations (forced to its partner) and GetStatement (only as payer or
// payee); RebuildProjections needs admin. Every answer carries the Merkle
// root at its as_of_position (audit.proto), pinning it to a checkpoint.
#ifndef PARTNERLEDGER_SERVER_QUERY_SERVICE_H_
#define PARTNERLEDGER_SERVER_QUERY_SERVICE_H_

#include <atomic>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "ledger/tree_nodes.h"
#include "partnerledger/ledger.h"
#include "partnerledger/v1/query.grpc.pb.h"
#include "projection/queries.h"
#include "server/auth.h"
#include "server/read_pool.h"

namespace partnerledger::server {

class QueryService final : public v1::LedgerQueryService::CallbackService {
 public:
  // `ledger` and `auth` must outlive the service.
  QueryService(Ledger* ledger, const Authorizer* auth);
  // Waits for a running rebuild.
  ~QueryService() override;

  grpc::ServerUnaryReactor* GetObligations(
      grpc::CallbackServerContext* ctx, const v1::GetObligationsRequest* req,
      v1::GetObligationsResponse* resp) override;
  grpc::ServerUnaryReactor* GetReferralBalance(
      grpc::CallbackServerContext* ctx,
      const v1::GetReferralBalanceRequest* req,
      v1::GetReferralBalanceResponse* resp) override;
  grpc::ServerUnaryReactor* GetStatement(
      grpc::CallbackServerContext* ctx, const v1::GetStatementRequest* req,
      v1::GetStatementResponse* resp) override;
  grpc::ServerUnaryReactor* GetDeal(grpc::CallbackServerContext* ctx,
                                    const v1::GetDealRequest* req,
                                    v1::GetDealResponse* resp) override;
  grpc::ServerUnaryReactor* ListConflicts(
      grpc::CallbackServerContext* ctx, const v1::ListConflictsRequest* req,
      v1::ListConflictsResponse* resp) override;
  grpc::ServerUnaryReactor* GetSatisfaction(
      grpc::CallbackServerContext* ctx, const v1::GetSatisfactionRequest* req,
      v1::GetSatisfactionResponse* resp) override;
  grpc::ServerUnaryReactor* GetPartnershipHealth(
      grpc::CallbackServerContext* ctx,
      const v1::GetPartnershipHealthRequest* req,
      v1::GetPartnershipHealthResponse* resp) override;
  // Runs on its own thread (a rebuild reads the whole log); one at a time,
  // a second concurrent request is ABORTED.
  grpc::ServerUnaryReactor* RebuildProjections(
      grpc::CallbackServerContext* ctx,
      const v1::RebuildProjectionsRequest* req,
      v1::RebuildProjectionsResponse* resp) override;

 private:
  // Runs `query` (returning absl::StatusOr<Resp>) on the read pool, once
  // this node has applied `min_position` (min_position.h), and finishes
  // with its result, the root hash set from the tree at its
  // as_of_position. A full pool answers RESOURCE_EXHAUSTED at once.
  template <typename Resp, typename Query>
  grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* ctx,
                                   uint64_t min_position, Query query,
                                   Resp* resp);
  // Runs on a pool worker.
  template <typename Resp>
  absl::Status Complete(absl::StatusOr<Resp> result, Resp* resp) const;

  Ledger* const ledger_;
  const Authorizer* const auth_;
  const projection::Queries queries_;
  // Read for every answer's root hash.
  const ledger::TreeNodes nodes_;
  absl::Mutex rebuild_mu_;
  std::thread rebuild_thread_ ABSL_GUARDED_BY(rebuild_mu_);
  std::atomic<bool> rebuilding_{false};
  // Last: destroyed (its queued queries run) before what they use.
  ReadPool reads_{limits::kReadWorkers, limits::kReadQueueMax};
};

// Replays the ledger's log in memory and compares the history it implies
// with the stored projection history through digests of both (computed in
// parallel); only when they differ, a replay into a scratch store next to
// the data directory names the first difference.
absl::StatusOr<v1::RebuildProjectionsResponse> RebuildAndCompare(
    Ledger& ledger);

}  // namespace partnerledger::server

#endif  // PARTNERLEDGER_SERVER_QUERY_SERVICE_H_

#include "server/query_service.h"

#include <chrono>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "ledger/ledger_internal.h"
#include "ledger/maintenance.h"
#include "merkle/merkle.h"
#include "projection/rebuild.h"
#include "server/min_position.h"
#include "server/status_map.h"
#include "server/translate.h"
#include "util/status_macros.h"

namespace partnerledger::server {
namespace {

grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* ctx,
                                 const absl::Status& s) {
  grpc::ServerUnaryReactor* r = ctx->DefaultReactor();
  r->Finish(ToGrpc(s));
  return r;
}

// The caller's access to `rpc`, checked before the request itself.
template <typename Request>
absl::StatusOr<Access> Admit(const Authorizer& auth,
                             const grpc::CallbackServerContext& ctx, Rpc rpc,
                             const Request& req) {
  ASSIGN_OR_RETURN(Access access, auth.Check(ctx, rpc));
  RETURN_IF_ERROR(ValidateRequest(req));
  return access;
}

}  // namespace

template <typename Resp, typename Query>
grpc::ServerUnaryReactor* QueryService::Answer(grpc::CallbackServerContext* ctx,
                                               uint64_t min_position,
                                               Query query, Resp* resp) {
  grpc::ServerUnaryReactor* r = ctx->DefaultReactor();
  WhenApplied(ledger_, *ctx, min_position,
              [this, ctx, r, resp, query](absl::Status applied) {
                if (!applied.ok()) {
                  r->Finish(ToGrpc(applied));
                  return;
                }
                absl::Status queued = reads_.Submit([this, r, resp, query] {
                  r->Finish(ToGrpc(Complete(query(), resp)));
                });
                if (!queued.ok()) {
                  ctx->AddTrailingMetadata(kRetryPushbackTrailer,
                                           std::to_string(kReadRetryAfterMs));
                  r->Finish(ToGrpc(queued));
                }
              });
  return r;
}

template <typename Resp>
absl::Status QueryService::Complete(absl::StatusOr<Resp> result,
                                    Resp* resp) const {
  if (result.ok() && ledger_->options().merkle_tree) {
    // The nodes up to as_of_position are durable: they were written with
    // the events the answer reflects.
    absl::StatusOr<std::string> root =
        merkle::RootAt(nodes_, result->as_of_position());
    if (root.ok()) {
      result->set_as_of_root_hash(*root);
    } else {
      result = root.status();
    }
  }
  if (result.ok()) *resp = std::move(*result);
  return result.status();
}

QueryService::QueryService(Ledger* ledger, const Authorizer* auth)
    : ledger_(ledger),
      auth_(auth),
      queries_(projection::Queries::Live(&ledger::StoreOf(*ledger))),
      nodes_(ledger) {}

QueryService::~QueryService() {
  absl::MutexLock lock(&rebuild_mu_);
  if (rebuild_thread_.joinable()) rebuild_thread_.join();
}

grpc::ServerUnaryReactor* QueryService::GetObligations(
    grpc::CallbackServerContext* ctx, const v1::GetObligationsRequest* req,
    v1::GetObligationsResponse* resp) {
  absl::StatusOr<Access> access =
      Admit(*auth_, *ctx, Rpc::kGetObligations, *req);
  if (!access.ok()) return Refuse(ctx, access.status());
  if (access->partner_scoped) {
    // A partner sees only obligations it pays or receives.
    const std::string& partner = access->principal.partner_id;
    if (!req->partner_id().empty() && req->partner_id() != partner) {
      return Refuse(ctx, auth_->DenyScope(*ctx, Rpc::kGetObligations, *access,
                                          "partner_id must be its own"));
    }
    v1::GetObligationsRequest scoped = *req;
    scoped.set_partner_id(partner);
    return Answer(
        ctx, req->min_position(),
        [this, scoped = std::move(scoped)] {
          return queries_.GetObligations(scoped);
        },
        resp);
  }
  return Answer(
      ctx, req->min_position(),
      [this, req] { return queries_.GetObligations(*req); }, resp);
}

grpc::ServerUnaryReactor* QueryService::GetReferralBalance(
    grpc::CallbackServerContext* ctx, const v1::GetReferralBalanceRequest* req,
    v1::GetReferralBalanceResponse* resp) {
  absl::StatusOr<Access> access =
      Admit(*auth_, *ctx, Rpc::kGetReferralBalance, *req);
  if (!access.ok()) return Refuse(ctx, access.status());
  return Answer(
      ctx, req->min_position(),
      [this, req] { return queries_.GetReferralBalance(*req); }, resp);
}

grpc::ServerUnaryReactor* QueryService::GetStatement(
    grpc::CallbackServerContext* ctx, const v1::GetStatementRequest* req,
    v1::GetStatementResponse* resp) {
  absl::StatusOr<Access> access = Admit(*auth_, *ctx, Rpc::kGetStatement, *req);
  if (!access.ok()) return Refuse(ctx, access.status());
  if (access->partner_scoped) {
    const std::string& partner = access->principal.partner_id;
    if (req->payer() != partner && req->payee() != partner) {
      return Refuse(ctx,
                    auth_->DenyScope(*ctx, Rpc::kGetStatement, *access,
                                     "the partner is neither payer nor payee"));
    }
  }
  return Answer(
      ctx, req->min_position(),
      [this, req] { return queries_.GetStatement(*req); }, resp);
}

grpc::ServerUnaryReactor* QueryService::GetDeal(
    grpc::CallbackServerContext* ctx, const v1::GetDealRequest* req,
    v1::GetDealResponse* resp) {
  absl::StatusOr<Access> access = Admit(*auth_, *ctx, Rpc::kGetDeal, *req);
  if (!access.ok()) return Refuse(ctx, access.status());
  return Answer(
      ctx, req->min_position(), [this, req] { return queries_.GetDeal(*req); },
      resp);
}

grpc::ServerUnaryReactor* QueryService::ListConflicts(
    grpc::CallbackServerContext* ctx, const v1::ListConflictsRequest* req,
    v1::ListConflictsResponse* resp) {
  absl::StatusOr<Access> access =
      Admit(*auth_, *ctx, Rpc::kListConflicts, *req);
  if (!access.ok()) return Refuse(ctx, access.status());
  return Answer(
      ctx, req->min_position(),
      [this, req] { return queries_.ListConflicts(*req); }, resp);
}

grpc::ServerUnaryReactor* QueryService::GetSatisfaction(
    grpc::CallbackServerContext* ctx, const v1::GetSatisfactionRequest* req,
    v1::GetSatisfactionResponse* resp) {
  absl::StatusOr<Access> access =
      Admit(*auth_, *ctx, Rpc::kGetSatisfaction, *req);
  if (!access.ok()) return Refuse(ctx, access.status());
  return Answer(
      ctx, req->min_position(),
      [this, req] { return queries_.GetSatisfaction(*req); }, resp);
}

grpc::ServerUnaryReactor* QueryService::GetPartnershipHealth(
    grpc::CallbackServerContext* ctx,
    const v1::GetPartnershipHealthRequest* req,
    v1::GetPartnershipHealthResponse* resp) {
  absl::StatusOr<Access> access =
      Admit(*auth_, *ctx, Rpc::kGetPartnershipHealth, *req);
  if (!access.ok()) return Refuse(ctx, access.status());
  return Answer(
      ctx, req->min_position(),
      [this, req] { return queries_.GetPartnershipHealth(*req); }, resp);
}

absl::StatusOr<v1::RebuildProjectionsResponse> RebuildAndCompare(
    Ledger& ledger) {
  const auto start = std::chrono::steady_clock::now();
  const uint64_t to = ledger.head_position();
  // The stored history's digest on a second thread, while this one
  // replays in memory.
  absl::StatusOr<projection::HistoryDigest> stored;
  std::thread digest_stored([&] {
    stored = projection::DigestStoredHistory(ledger::StoreOf(ledger), to);
  });
  projection::HistoryDigest rebuilt;
  absl::StatusOr<projection::ReplayStats> stats = projection::ReplayToDigest(
      ledger::StoreOf(ledger), ledger::RulesOf(ledger), to, &rebuilt);
  digest_stored.join();
  RETURN_IF_ERROR(stats.status());
  RETURN_IF_ERROR(stored.status());
  projection::CompareResult cmp;
  cmp.keys_compared = rebuilt.entries;
  if (!(rebuilt == *stored)) {
    // The slow path: a replay into a scratch store, compared entry by
    // entry to name the first difference.
    ASSIGN_OR_RETURN(cmp, ledger::CompareWithScratchReplay(ledger, to));
    if (cmp.identical) {
      // The entry-by-entry comparison disagrees with the digests: report
      // the difference rather than trust either.
      cmp.identical = false;
      cmp.first_difference = "projection history digests differ";
    }
  }
  v1::RebuildProjectionsResponse r;
  r.set_as_of_position(to);
  r.set_events_replayed(stats->events);
  r.set_identical(cmp.identical);
  r.set_keys_compared(cmp.keys_compared);
  r.set_first_difference(cmp.first_difference);
  r.set_seconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count());
  return r;
}

grpc::ServerUnaryReactor* QueryService::RebuildProjections(
    grpc::CallbackServerContext* ctx, const v1::RebuildProjectionsRequest* req,
    v1::RebuildProjectionsResponse* resp) {
  absl::StatusOr<Access> access = auth_->Check(*ctx, Rpc::kRebuildProjections);
  if (!access.ok()) return Refuse(ctx, access.status());
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (rebuilding_.exchange(true)) {
    reactor->Finish(grpc::Status(grpc::StatusCode::ABORTED,
                                 "a rebuild is already running"));
    return reactor;
  }
  absl::MutexLock lock(&rebuild_mu_);
  if (rebuild_thread_.joinable()) rebuild_thread_.join();  // the previous one
  const absl::Time wait_deadline = MinPositionDeadline(*ctx);
  rebuild_thread_ = std::thread([this, reactor, resp, wait_deadline,
                                 min_position = req->min_position()] {
    const absl::Status applied =
        ledger_->AwaitPosition(min_position, wait_deadline);
    absl::StatusOr<v1::RebuildProjectionsResponse> r =
        applied.ok() ? RebuildAndCompare(*ledger_)
                     : absl::StatusOr<v1::RebuildProjectionsResponse>(applied);
    if (r.ok()) *resp = std::move(*r);
    rebuilding_.store(false);
    reactor->Finish(ToGrpc(r.status()));
  });
  return reactor;
}

}  // namespace partnerledger::server

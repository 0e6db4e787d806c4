#include "server/audit_service.h"

#include "absl/strings/str_cat.h"
#include "ledger/ledger_internal.h"
#include "projection/partner_scope.h"
#include "server/status_map.h"
#include "util/status_macros.h"

namespace partnerledger::server {

using projection::PartnerScope;
namespace {

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx,
                                    const absl::Status& s) {
  grpc::ServerUnaryReactor* r = ctx->DefaultReactor();
  r->Finish(ToGrpc(s));
  return r;
}

}  // namespace

AuditService::AuditService(Ledger* ledger, const Authorizer* auth,
                           CheckpointSigner signer)
    : ledger_(ledger),
      auth_(auth),
      signer_(std::move(signer)),
      nodes_(ledger) {}

absl::StatusOr<Access> AuditService::Admit(
    const grpc::CallbackServerContext& ctx, Rpc rpc) const {
  ASSIGN_OR_RETURN(Access access, auth_->Check(ctx, rpc));
  if (!ledger_->options().merkle_tree) {
    return absl::FailedPreconditionError(
        "the Merkle tree is switched off on this server");
  }
  return access;
}

grpc::ServerUnaryReactor* AuditService::GetCheckpoint(
    grpc::CallbackServerContext* ctx, const v1::GetCheckpointRequest* req,
    v1::GetCheckpointResponse* resp) {
  absl::StatusOr<Access> access = Admit(*ctx, Rpc::kGetCheckpoint);
  if (!access.ok()) return FinishNow(ctx, access.status());
  const uint64_t head = ledger_->head_position();
  const uint64_t size = req->has_tree_size() ? req->tree_size() : head;
  return FinishNow(ctx, FillCheckpoint(nodes_, signer_, size, head,
                                       resp->mutable_checkpoint()));
}

grpc::ServerUnaryReactor* AuditService::GetInclusionProof(
    grpc::CallbackServerContext* ctx, const v1::GetInclusionProofRequest* req,
    v1::GetInclusionProofResponse* resp) {
  absl::StatusOr<Access> access = Admit(*ctx, Rpc::kGetInclusionProof);
  if (!access.ok()) return FinishNow(ctx, access.status());
  const uint64_t head = ledger_->head_position();
  absl::Status s = FillInclusionProof(ledger::StoreOf(*ledger_), nodes_,
                                      signer_, *req, head, resp);
  if (!s.ok()) return FinishNow(ctx, s);
  if (access->partner_scoped) {
    // Judged after reading, on the event's stream; the denial does not say
    // whether or what the event is.
    PartnerScope scope(&ledger::StoreOf(*ledger_),
                       access->principal.partner_id);
    absl::StatusOr<bool> involves = scope.Involves(resp->event().stream());
    if (!involves.ok()) return FinishNow(ctx, involves.status());
    if (!*involves) {
      resp->Clear();
      return FinishNow(
          ctx, auth_->DenyScope(
                   *ctx, Rpc::kGetInclusionProof, *access,
                   absl::StrCat("the event at position ", req->position(),
                                " does not involve the partner")));
    }
  }
  return FinishNow(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* AuditService::GetConsistencyProof(
    grpc::CallbackServerContext* ctx, const v1::GetConsistencyProofRequest* req,
    v1::GetConsistencyProofResponse* resp) {
  absl::StatusOr<Access> access = Admit(*ctx, Rpc::kGetConsistencyProof);
  if (!access.ok()) return FinishNow(ctx, access.status());
  return FinishNow(ctx, FillConsistencyProof(nodes_, signer_, *req,
                                             ledger_->head_position(), resp));
}

}  // namespace partnerledger::server

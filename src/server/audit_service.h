// partnerledger.v1.AuditService: checkpoints, inclusion and consistency
// proofs (proofs.h) for the auditor role and partner-scoped readers. A
// partner gets inclusion proofs only for events it may read
// (projection/partner_scope.h); checkpoints and consistency proofs carry only
// hashes and sizes, so every partner may have them. Handlers read a few RocksDB
// nodes (O(log n)) and sign on the gRPC thread, never on the append path.
#ifndef PARTNERLEDGER_SERVER_AUDIT_SERVICE_H_
#define PARTNERLEDGER_SERVER_AUDIT_SERVICE_H_

#include "ledger/tree_nodes.h"
#include "partnerledger/ledger.h"
#include "partnerledger/v1/audit.grpc.pb.h"
#include "server/auth.h"
#include "server/proofs.h"

namespace partnerledger::server {

class AuditService final : public v1::AuditService::CallbackService {
 public:
  // `ledger` and `auth` must outlive the service.
  AuditService(Ledger* ledger, const Authorizer* auth, CheckpointSigner signer);

  grpc::ServerUnaryReactor* GetCheckpoint(
      grpc::CallbackServerContext* ctx, const v1::GetCheckpointRequest* req,
      v1::GetCheckpointResponse* resp) override;
  grpc::ServerUnaryReactor* GetInclusionProof(
      grpc::CallbackServerContext* ctx, const v1::GetInclusionProofRequest* req,
      v1::GetInclusionProofResponse* resp) override;
  grpc::ServerUnaryReactor* GetConsistencyProof(
      grpc::CallbackServerContext* ctx,
      const v1::GetConsistencyProofRequest* req,
      v1::GetConsistencyProofResponse* resp) override;

 private:
  // The caller's access to `rpc`; FAILED_PRECONDITION when the ledger keeps
  // no tree.
  absl::StatusOr<Access> Admit(const grpc::CallbackServerContext& ctx,
                               Rpc rpc) const;

  Ledger* const ledger_;
  const Authorizer* const auth_;
  const CheckpointSigner signer_;
  // Read by every proof.
  const ledger::TreeNodes nodes_;
};

}  // namespace partnerledger::server

#endif  // PARTNERLEDGER_SERVER_AUDIT_SERVICE_H_

// Tree heads and proofs as wire messages (proto/partnerledger/v1/audit.proto),
// built from a store's tree and records (read through the ledger layer,
// ledger/tree_nodes.h): the one place AuditService and ledgerctl's offline
// commands (a stopped data directory or a backup) get them from, so both
// answer byte for byte alike. Also the client-side checks of those messages.
//
// Thread safety: the functions only read the store; CheckpointSigner is
// immutable after construction.
#ifndef PARTNERLEDGER_SERVER_PROOFS_H_
#define PARTNERLEDGER_SERVER_PROOFS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "merkle/checkpoint.h"
#include "merkle/merkle.h"
#include "partnerledger/v1/audit.pb.h"

namespace partnerledger::store {
class Store;
}

namespace partnerledger::server {

// The origin of checkpoints served without a signing key.
inline constexpr char kUnsignedOrigin[] = "partnerledger/unsigned";

// Turns (size, root) into a v1::TreeCheckpoint: signed with an Ed25519 key
// (origin = the key's name), or unsigned with a reason.
class CheckpointSigner {
 public:
  // Unsigned checkpoints with kUnsignedOrigin.
  explicit CheckpointSigner(std::string unsigned_reason);
  explicit CheckpointSigner(merkle::SignerKey key);

  const std::string& origin() const { return origin_; }
  bool signs() const { return key_.has_value(); }
  void Fill(uint64_t size, const std::string& root,
            v1::TreeCheckpoint* out) const;

 private:
  std::string origin_;
  std::optional<merkle::SignerKey> key_;
  std::string unsigned_reason_;
};

// The root at `size`, from the tree's nodes. INVALID_ARGUMENT beyond `head`;
// DATA_LOSS if the tree lacks a node. The server passes its
// ledger::TreeNodes; offline tools a store::LogNodeSource, so that a data
// directory whose stored tree is behind its log still answers.
absl::StatusOr<std::string> TreeRoot(const merkle::NodeSource& nodes,
                                     uint64_t size, uint64_t head);
absl::Status FillCheckpoint(const merkle::NodeSource& nodes,
                            const CheckpointSigner& signer, uint64_t size,
                            uint64_t head, v1::TreeCheckpoint* out);
// The leaf (its record) read from `store` (ledger::ReadLeaf), the path from
// `nodes`. REQUIRES nothing of the request: position 0 or beyond tree_size
// is INVALID_ARGUMENT naming the field; tree_size 0 means `head`.
absl::Status FillInclusionProof(const store::Store& store,
                                const merkle::NodeSource& nodes,
                                const CheckpointSigner& signer,
                                const v1::GetInclusionProofRequest& req,
                                uint64_t head,
                                v1::GetInclusionProofResponse* out);
// to_size 0 means `head`; from_size > to_size is INVALID_ARGUMENT.
absl::Status FillConsistencyProof(const merkle::NodeSource& nodes,
                                  const CheckpointSigner& signer,
                                  const v1::GetConsistencyProofRequest& req,
                                  uint64_t head,
                                  v1::GetConsistencyProofResponse* out);

// Client side. OK when `proof` shows its leaf bytes, hashed, at its
// position in the tree of `trusted` (a checkpoint the caller verified), and
// the leaf bytes are the canonical bytes of a record at that position.
// FAILED_PRECONDITION (or INVALID_ARGUMENT for a malformed proof) saying
// why otherwise.
absl::Status CheckInclusion(const v1::GetInclusionProofResponse& proof,
                            const merkle::Checkpoint& trusted);
// OK when `proof` shows that `newer` extends `older`.
absl::Status CheckConsistency(const v1::GetConsistencyProofResponse& proof,
                              const merkle::Checkpoint& older,
                              const merkle::Checkpoint& newer);

}  // namespace partnerledger::server

#endif  // PARTNERLEDGER_SERVER_PROOFS_H_

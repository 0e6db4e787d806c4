#include "server/proofs.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "ledger/tree_nodes.h"
#include "merkle/merkle.h"
#include "server/translate.h"
#include "util/status_macros.h"

namespace partnerledger::server {
namespace {

std::vector<std::string> ToVector(
    const google::protobuf::RepeatedPtrField<std::string>& hashes) {
  return std::vector<std::string>(hashes.begin(), hashes.end());
}

}  // namespace

CheckpointSigner::CheckpointSigner(std::string unsigned_reason)
    : origin_(kUnsignedOrigin), unsigned_reason_(std::move(unsigned_reason)) {}

CheckpointSigner::CheckpointSigner(merkle::SignerKey key)
    : origin_(key.name), key_(std::move(key)) {}

void CheckpointSigner::Fill(uint64_t size, const std::string& root,
                            v1::TreeCheckpoint* out) const {
  const std::string body =
      merkle::FormatCheckpoint(merkle::Checkpoint{origin_, size, root});
  out->set_origin(origin_);
  out->set_tree_size(size);
  out->set_root_hash(root);
  if (key_.has_value()) {
    out->set_note(merkle::SignNote(body, *key_));
    out->set_verifier_key(merkle::FormatVerifierKey(key_->verifier));
  } else {
    out->set_note(body);
    out->set_unsigned_reason(unsigned_reason_);
  }
}

absl::StatusOr<std::string> TreeRoot(const merkle::NodeSource& nodes,
                                     uint64_t size, uint64_t head) {
  if (size > head) {
    return absl::InvalidArgumentError(
        absl::StrCat("tree_size: ", size, " is beyond the head ", head));
  }
  return merkle::RootAt(nodes, size);
}

absl::Status FillCheckpoint(const merkle::NodeSource& nodes,
                            const CheckpointSigner& signer, uint64_t size,
                            uint64_t head, v1::TreeCheckpoint* out) {
  ASSIGN_OR_RETURN(std::string root, TreeRoot(nodes, size, head));
  signer.Fill(size, root, out);
  return absl::OkStatus();
}

absl::Status FillInclusionProof(const store::Store& store,
                                const merkle::NodeSource& nodes,
                                const CheckpointSigner& signer,
                                const v1::GetInclusionProofRequest& req,
                                uint64_t head,
                                v1::GetInclusionProofResponse* out) {
  const uint64_t size = req.tree_size() == 0 ? head : req.tree_size();
  if (req.position() == 0) {
    return absl::InvalidArgumentError("position: required (1 or more)");
  }
  if (size > head) {
    return absl::InvalidArgumentError(
        absl::StrCat("tree_size: ", size, " is beyond the head ", head));
  }
  if (req.position() > size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "position: ", req.position(), " is beyond the tree size ", size));
  }
  ASSIGN_OR_RETURN(std::optional<ledger::Leaf> leaf,
                   ledger::ReadLeaf(store, req.position()));
  if (!leaf.has_value()) {
    return absl::DataLossError(absl::StrCat(
        "event at position ", req.position(), " is missing below the head"));
  }
  const merkle::NodeSource& source = nodes;
  ASSIGN_OR_RETURN(std::vector<std::string> path,
                   merkle::InclusionProof(source, req.position() - 1, size));
  ASSIGN_OR_RETURN(std::string root, merkle::RootAt(source, size));
  RETURN_IF_ERROR(ToWire(leaf->event, out->mutable_event()));
  out->set_position(req.position());
  out->set_leaf_index(req.position() - 1);
  out->set_tree_size(size);
  out->set_leaf_bytes(std::move(leaf->bytes));
  out->set_leaf_hash(merkle::LeafHash(out->leaf_bytes()));
  for (std::string& h : path) out->add_audit_path(std::move(h));
  signer.Fill(size, root, out->mutable_checkpoint());
  return absl::OkStatus();
}

absl::Status FillConsistencyProof(const merkle::NodeSource& nodes,
                                  const CheckpointSigner& signer,
                                  const v1::GetConsistencyProofRequest& req,
                                  uint64_t head,
                                  v1::GetConsistencyProofResponse* out) {
  const uint64_t to = req.to_size() == 0 ? head : req.to_size();
  if (to > head) {
    return absl::InvalidArgumentError(
        absl::StrCat("to_size: ", to, " is beyond the head ", head));
  }
  if (req.from_size() > to) {
    return absl::InvalidArgumentError(absl::StrCat(
        "from_size: ", req.from_size(), " is beyond to_size ", to));
  }
  const merkle::NodeSource& source = nodes;
  ASSIGN_OR_RETURN(std::vector<std::string> proof,
                   merkle::ConsistencyProof(source, req.from_size(), to));
  ASSIGN_OR_RETURN(std::string from_root,
                   merkle::RootAt(source, req.from_size()));
  ASSIGN_OR_RETURN(std::string to_root, merkle::RootAt(source, to));
  out->set_from_size(req.from_size());
  out->set_to_size(to);
  for (std::string& h : proof) out->add_proof(std::move(h));
  signer.Fill(req.from_size(), from_root, out->mutable_from_checkpoint());
  signer.Fill(to, to_root, out->mutable_to_checkpoint());
  return absl::OkStatus();
}

absl::Status CheckInclusion(const v1::GetInclusionProofResponse& proof,
                            const merkle::Checkpoint& trusted) {
  if (proof.tree_size() != trusted.size) {
    return absl::FailedPreconditionError(
        absl::StrCat("the proof is for tree size ", proof.tree_size(),
                     " but the checkpoint is at ", trusted.size));
  }
  if (proof.position() == 0 || proof.leaf_index() != proof.position() - 1 ||
      !ledger::LeafIsAtPosition(proof.leaf_bytes(), proof.position())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the leaf bytes are not the record at position ", proof.position()));
  }
  return merkle::VerifyInclusion(proof.leaf_index(), proof.tree_size(),
                                 merkle::LeafHash(proof.leaf_bytes()),
                                 ToVector(proof.audit_path()),
                                 trusted.root_hash);
}

absl::Status CheckConsistency(const v1::GetConsistencyProofResponse& proof,
                              const merkle::Checkpoint& older,
                              const merkle::Checkpoint& newer) {
  if (older.origin != newer.origin) {
    return absl::FailedPreconditionError(
        absl::StrCat("the checkpoints are of different logs (", older.origin,
                     ", ", newer.origin, ")"));
  }
  if (proof.from_size() != older.size || proof.to_size() != newer.size) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the proof is from ", proof.from_size(), " to ", proof.to_size(),
        ", the checkpoints are at ", older.size, " and ", newer.size));
  }
  return merkle::VerifyConsistency(older.size, newer.size, older.root_hash,
                                   newer.root_hash, ToVector(proof.proof()));
}

}  // namespace partnerledger::server

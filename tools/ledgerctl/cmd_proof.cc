// Auditor proofs: keygen, checkpoint, prove, consistency, verify-checkpoint.
// Every proof is fetched from --server (AuditService) or, with --data-dir,
// built from a stopped data directory or backup copy by the same code the
// server uses (server/proofs.h), then checked here against checkpoint files
// the auditor kept.
#include <sys/stat.h>

#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ledgerctl/commands.h"
#include "ledgerctl/format.h"
#include "ledgerctl/offline.h"
#include "merkle/checkpoint.h"
#include "partnerledger/v1/audit.grpc.pb.h"
#include "server/proofs.h"
#include "store/merkle_tree.h"
#include "util/sha256.h"
#include "util/status_macros.h"

namespace partnerledger::ctl {
namespace {

// A checkpoint file, opened: signature checked when --key is given.
absl::StatusOr<merkle::Checkpoint> ReadCheckpointFile(
    const std::string& path, const merkle::VerifierKey* key) {
  ASSIGN_OR_RETURN(std::string text, ReadInput(path));
  absl::StatusOr<merkle::Checkpoint> c = merkle::OpenCheckpoint(text, key);
  if (!c.ok()) {
    return absl::Status(c.status().code(),
                        absl::StrCat(path, ": ", c.status().message()));
  }
  return c;
}

// --key=FILE (a verifier key) or nullopt when not given.
absl::StatusOr<std::optional<merkle::VerifierKey>> ReadKeyOption(
    const Args& a) {
  if (!a.Has("key")) return std::optional<merkle::VerifierKey>();
  ASSIGN_OR_RETURN(std::string text, ReadInput(a.Get("key")));
  absl::StatusOr<merkle::VerifierKey> k = merkle::ParseVerifierKey(text);
  if (!k.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--key ", a.Get("key"), ": ", k.status().message()));
  }
  return std::optional<merkle::VerifierKey>(std::move(*k));
}

// Verification failures (a signature, a proof) exit 4; malformed input 2.
int FailCheck(const Context& ctx, const absl::Status& s,
              std::string_view what) {
  const int code = s.code() == absl::StatusCode::kFailedPrecondition
                       ? kExitVerification
                       : ExitCodeForLocal(s);
  return ctx.Fail(code, absl::StrCat(std::string(what), ": ", s.message()));
}

// Offline: the data directory's head and where its tree's nodes come from.
struct Offline {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<merkle::NodeSource> nodes;
  uint64_t head = 0;
};
// A directory whose stored tree is behind its log (written before the tree
// existed, or by a ledgerd with it switched off) is opened read-only like
// any other: the missing nodes are computed from the records, and a note on
// stderr says so and what completes the stored tree.
absl::StatusOr<Offline> OpenOffline(const std::string& dir) {
  Offline o;
  ASSIGN_OR_RETURN(std::unique_ptr<store::Store> st, OpenReadOnly(dir));
  o.store = std::move(st);
  ASSIGN_OR_RETURN(store::Head head, o.store->ReadHead());
  o.head = head.position();
  ASSIGN_OR_RETURN(uint64_t tree, o.store->ReadMerkleTreeSize());
  if (tree > o.head) {
    return absl::DataLossError(absl::StrCat("the Merkle tree covers ", tree,
                                            " events but the log ends at ",
                                            o.head));
  }
  if (tree == o.head) {
    o.nodes = std::make_unique<store::StoreNodeSource>(o.store.get());
    return o;
  }
  std::cerr << "note: the Merkle tree stored in " << dir << " covers " << tree
            << " of its " << o.head
            << " events (written before the tree existed, or with it "
               "switched off); the rest is computed from the log, reading "
               "the records it needs. Starting ledgerd once on the directory "
               "completes the stored tree.\n";
  o.nodes = std::make_unique<store::LogNodeSource>(o.store.get());
  return o;
}

const server::CheckpointSigner& OfflineSigner() {
  static const server::CheckpointSigner* s =
      new server::CheckpointSigner("built offline from a data directory");
  return *s;
}

std::string Hex(const std::string& raw) { return ToHex(raw); }

// Fetches the checkpoint at the answer's position and saves both.
template <typename Resp>
int SavePinned(Context& ctx, v1::PinnedAnswer pinned, const Resp& resp) {
  auto stub = v1::AuditService::NewStub(ctx.channel());
  v1::GetCheckpointRequest req;
  req.set_tree_size(resp.as_of_position());
  v1::GetCheckpointResponse c;
  grpc::ClientContext call;
  ctx.SetDeadline(&call);
  grpc::Status s = stub->GetCheckpoint(&call, req, &c);
  if (!s.ok()) return ctx.FailRpc(s, "checkpoint");
  if (c.checkpoint().root_hash() != resp.as_of_root_hash()) {
    return ctx.Fail(
        kExitVerification,
        absl::StrCat("the answer's root at position ", resp.as_of_position(),
                     " is not the checkpoint's"));
  }
  *pinned.mutable_checkpoint() = c.checkpoint();
  if (absl::Status w =
          WriteFile(ctx.args().Get("with-proof"), ProtoJson(pinned) + "\n");
      !w.ok()) {
    return ctx.FailLocal(w, "write --with-proof file");
  }
  return kExitOk;
}

}  // namespace

int SavePinnedAnswer(Context& ctx, const v1::GetObligationsRequest& req,
                     const v1::GetObligationsResponse& resp) {
  v1::PinnedAnswer pinned;
  *pinned.mutable_obligations_request() = req;
  *pinned.mutable_obligations_response() = resp;
  return SavePinned(ctx, std::move(pinned), resp);
}

int SavePinnedAnswer(Context& ctx, const v1::GetStatementRequest& req,
                     const v1::GetStatementResponse& resp) {
  v1::PinnedAnswer pinned;
  *pinned.mutable_statement_request() = req;
  *pinned.mutable_statement_response() = resp;
  return SavePinned(ctx, std::move(pinned), resp);
}

int RunKeygen(Context& ctx) {
  const Args& a = ctx.args();
  if (a.positionals().size() != 1) return ctx.Usage("expected one NAME");
  if (!a.Has("out")) return ctx.Usage("--out=PREFIX is required");
  absl::StatusOr<merkle::SignerKey> k = merkle::GenerateKey(a.positionals()[0]);
  if (!k.ok()) return ctx.Usage(k.status());
  const std::string secret = a.Get("out") + ".key";
  const std::string pub = a.Get("out") + ".pub";
  if (absl::Status s = WriteFile(secret, merkle::FormatSignerKey(*k) + "\n");
      !s.ok()) {
    return ctx.FailLocal(s, "write signing key");
  }
  ::chmod(secret.c_str(), 0600);
  const std::string vkey = merkle::FormatVerifierKey(k->verifier);
  if (absl::Status s = WriteFile(pub, vkey + "\n"); !s.ok()) {
    return ctx.FailLocal(s, "write verifier key");
  }
  ctx.Print(absl::StrCat("signing key (secret): ", secret,
                         "\nverifier key:         ", pub, "\n", vkey, "\n"));
  return kExitOk;
}

int RunCheckpoint(Context& ctx) {
  const Args& a = ctx.args();
  v1::TreeCheckpoint c;
  std::optional<uint64_t> size;
  if (a.Has("size")) {
    absl::StatusOr<uint64_t> n = a.GetUint("size", 0);
    if (!n.ok()) return ctx.Usage(n.status());
    size = *n;
  }
  if (a.Has("data-dir")) {
    absl::StatusOr<Offline> o = OpenOffline(a.Get("data-dir"));
    if (!o.ok()) return ctx.FailLocal(o.status(), "open data directory");
    absl::Status s = server::FillCheckpoint(
        *o->nodes, OfflineSigner(), size.value_or(o->head), o->head, &c);
    if (!s.ok()) return ctx.FailLocal(s, "checkpoint");
  } else {
    auto stub = v1::AuditService::NewStub(ctx.channel());
    v1::GetCheckpointRequest req;
    if (size.has_value()) req.set_tree_size(*size);
    v1::GetCheckpointResponse resp;
    grpc::ClientContext call;
    ctx.SetDeadline(&call);
    grpc::Status s = stub->GetCheckpoint(&call, req, &resp);
    if (!s.ok()) return ctx.FailRpc(s, "checkpoint");
    c = resp.checkpoint();
  }
  if (a.Has("out")) {
    if (absl::Status s = WriteFile(a.Get("out"), c.note()); !s.ok()) {
      return ctx.FailLocal(s, "write checkpoint");
    }
  }
  if (ctx.json()) {
    ctx.Print(absl::StrCat(ProtoJson(c), "\n"));
  } else {
    ctx.Print(c.note());
    if (!c.unsigned_reason().empty()) {
      ctx.Print(absl::StrCat("(unsigned: ", c.unsigned_reason(), ")\n"));
    }
  }
  return kExitOk;
}

int RunProve(Context& ctx) {
  const Args& a = ctx.args();
  if (a.positionals().size() != 1) return ctx.Usage("expected one POSITION");
  uint64_t position = 0;
  if (!absl::SimpleAtoi(a.positionals()[0], &position) || position == 0) {
    return ctx.Usage("POSITION: a log position (1 or more)");
  }
  if (!a.Has("checkpoint")) return ctx.Usage("--checkpoint=FILE is required");
  absl::StatusOr<std::optional<merkle::VerifierKey>> key = ReadKeyOption(a);
  if (!key.ok()) return ctx.FailLocal(key.status(), "read key");
  absl::StatusOr<merkle::Checkpoint> trusted = ReadCheckpointFile(
      a.Get("checkpoint"), key->has_value() ? &**key : nullptr);
  if (!trusted.ok()) return FailCheck(ctx, trusted.status(), "checkpoint");
  v1::GetInclusionProofRequest req;
  req.set_position(position);
  req.set_tree_size(trusted->size);
  if (trusted->size == 0) {
    return ctx.Fail(kExitVerification,
                    "the checkpoint is of the empty tree: it includes nothing");
  }
  v1::GetInclusionProofResponse proof;
  if (a.Has("data-dir")) {
    absl::StatusOr<Offline> o = OpenOffline(a.Get("data-dir"));
    if (!o.ok()) return ctx.FailLocal(o.status(), "open data directory");
    absl::Status s = server::FillInclusionProof(
        *o->store, *o->nodes, OfflineSigner(), req, o->head, &proof);
    if (!s.ok()) return ctx.FailLocal(s, "inclusion proof");
  } else {
    auto stub = v1::AuditService::NewStub(ctx.channel());
    grpc::ClientContext call;
    ctx.SetDeadline(&call);
    grpc::Status s = stub->GetInclusionProof(&call, req, &proof);
    if (!s.ok()) return ctx.FailRpc(s, "inclusion proof");
  }
  if (absl::Status s = server::CheckInclusion(proof, *trusted); !s.ok()) {
    return FailCheck(ctx, s, absl::StrCat("position ", position));
  }
  if (ctx.json()) {
    ctx.Print(absl::StrCat(ProtoJson(proof), "\n"));
    return kExitOk;
  }
  ctx.Print(absl::StrCat("OK: event #", position, " (", proof.event().stream(),
                         "@", proof.event().revision(), " ",
                         proof.event().type(), ") is in the tree of size ",
                         trusted->size, ", root ", Hex(trusted->root_hash),
                         key->has_value() ? " (signature verified)" : "",
                         "\n  leaf hash ", Hex(proof.leaf_hash()), ", ",
                         proof.audit_path_size(), " path hashes\n"));
  return kExitOk;
}

int RunConsistency(Context& ctx) {
  const Args& a = ctx.args();
  if (a.positionals().size() != 2) {
    return ctx.Usage("expected two checkpoint files: OLD NEW");
  }
  absl::StatusOr<std::optional<merkle::VerifierKey>> key = ReadKeyOption(a);
  if (!key.ok()) return ctx.FailLocal(key.status(), "read key");
  const merkle::VerifierKey* k = key->has_value() ? &**key : nullptr;
  absl::StatusOr<merkle::Checkpoint> older =
      ReadCheckpointFile(a.positionals()[0], k);
  if (!older.ok()) return FailCheck(ctx, older.status(), "OLD");
  absl::StatusOr<merkle::Checkpoint> newer =
      ReadCheckpointFile(a.positionals()[1], k);
  if (!newer.ok()) return FailCheck(ctx, newer.status(), "NEW");
  if (older->size > newer->size) {
    return ctx.Usage("OLD is larger than NEW: give the older checkpoint first");
  }
  v1::GetConsistencyProofRequest req;
  req.set_from_size(older->size);
  req.set_to_size(newer->size);
  v1::GetConsistencyProofResponse proof;
  if (newer->size == 0) {
    proof.set_from_size(0);
    proof.set_to_size(0);
  } else if (a.Has("data-dir")) {
    absl::StatusOr<Offline> o = OpenOffline(a.Get("data-dir"));
    if (!o.ok()) return ctx.FailLocal(o.status(), "open data directory");
    absl::Status s = server::FillConsistencyProof(*o->nodes, OfflineSigner(),
                                                  req, o->head, &proof);
    if (!s.ok()) return ctx.FailLocal(s, "consistency proof");
  } else {
    auto stub = v1::AuditService::NewStub(ctx.channel());
    grpc::ClientContext call;
    ctx.SetDeadline(&call);
    grpc::Status s = stub->GetConsistencyProof(&call, req, &proof);
    if (!s.ok()) return ctx.FailRpc(s, "consistency proof");
  }
  if (absl::Status s = server::CheckConsistency(proof, *older, *newer);
      !s.ok()) {
    return FailCheck(ctx, s, "consistency");
  }
  if (ctx.json()) {
    ctx.Print(absl::StrCat(ProtoJson(proof), "\n"));
    return kExitOk;
  }
  ctx.Print(absl::StrCat("OK: the tree of size ", newer->size, " (root ",
                         Hex(newer->root_hash), ") extends the tree of size ",
                         older->size, " (root ", Hex(older->root_hash), "); ",
                         proof.proof_size(), " proof hashes",
                         k != nullptr ? "; signatures verified" : "", "\n"));
  return kExitOk;
}

int RunVerifyCheckpoint(Context& ctx) {
  const Args& a = ctx.args();
  if (a.positionals().size() != 1) return ctx.Usage("expected one FILE");
  if (!a.Has("key"))
    return ctx.Usage("--key=FILE (a verifier key) is required");
  absl::StatusOr<std::optional<merkle::VerifierKey>> key = ReadKeyOption(a);
  if (!key.ok()) return ctx.FailLocal(key.status(), "read key");
  absl::StatusOr<merkle::Checkpoint> c =
      ReadCheckpointFile(a.positionals()[0], &**key);
  if (!c.ok()) return FailCheck(ctx, c.status(), "checkpoint");
  std::string where = "signature and origin";
  if (a.Has("data-dir")) {
    // The log copy must still have this root at this size.
    absl::StatusOr<Offline> o = OpenOffline(a.Get("data-dir"));
    if (!o.ok()) return ctx.FailLocal(o.status(), "open data directory");
    if (c->size > o->head) {
      return ctx.Fail(kExitVerification,
                      absl::StrCat("the checkpoint is at size ", c->size,
                                   " but the log copy ends at ", o->head));
    }
    absl::StatusOr<std::string> root =
        server::TreeRoot(*o->nodes, c->size, o->head);
    if (!root.ok()) return ctx.FailLocal(root.status(), "tree root");
    if (*root != c->root_hash) {
      return ctx.Fail(
          kExitVerification,
          absl::StrCat("the log copy's root at size ", c->size, " is ",
                       Hex(*root), ", not the checkpoint's ",
                       Hex(c->root_hash)));
    }
    where += "; root matches the log copy";
  }
  ctx.Print(absl::StrCat("OK: checkpoint ", c->origin, " size ", c->size,
                         " root ", Hex(c->root_hash), " (", where, ")\n"));
  return kExitOk;
}

}  // namespace partnerledger::ctl

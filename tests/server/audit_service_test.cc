// AuditService over gRPC (port 0): signed checkpoints, inclusion proofs of
// every position and consistency proofs of every pair of sizes of a small
// log, checked with the client-side checks against the signed checkpoints;
// errors; roots stable across restart, backup/restore and rebuild.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>

#include "merkle/checkpoint.h"
#include "merkle/merkle.h"
#include "partnerledger/v1/admin.grpc.pb.h"
#include "partnerledger/v1/audit.grpc.pb.h"
#include "partnerledger/v1/query.grpc.pb.h"
#include "server/proofs.h"
#include "server/server.h"
#include "store/backup.h"
#include "test_support.h"

namespace partnerledger::server {
namespace {

using partnerledger::testing::MakeEvent;
using partnerledger::testing::PartnerRegisteredPayload;
using partnerledger::testing::ProfileUpdatedPayload;
using partnerledger::testing::TempDir;

constexpr uint64_t kEvents = 20;
constexpr char kOrigin[] = "ledger.test/partnerledger";

class AuditServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<merkle::SignerKey> key = merkle::GenerateKey(kOrigin);
    ASSERT_TRUE(key.ok());
    key_ = *key;
    std::ofstream(dir_.Sub("signing.key")) << merkle::FormatSignerKey(key_);
    Start(dir_.Sub("data"), /*signed_checkpoints=*/true);
    for (uint64_t i = 0; i < kEvents; ++i) {
      AppendRequest r;
      r.stream = "partner-P";
      r.events.push_back(MakeEvent(
          i == 0 ? PartnerRegisteredPayload("P")
                 : ProfileUpdatedPayload("pitch " + std::to_string(i))));
      ASSERT_TRUE(server_->ledger().AppendAndWait(std::move(r)).ok());
    }
    ASSERT_EQ(server_->ledger().head_position(), kEvents);
  }

  void Start(const std::string& data_dir, bool signed_checkpoints) {
    server_.reset();
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.ledger.data_dir = data_dir;
    o.ledger.clock = &clock_;
    o.backup_root = dir_.Sub("backups");
    if (signed_checkpoints) o.signing_key_file = dir_.Sub("signing.key");
    absl::StatusOr<std::unique_ptr<LedgerServer>> s = LedgerServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    channel_ =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials());
    audit_ = v1::AuditService::NewStub(channel_);
  }

  v1::TreeCheckpoint CheckpointAt(std::optional<uint64_t> size) {
    grpc::ClientContext ctx;
    v1::GetCheckpointRequest req;
    if (size.has_value()) req.set_tree_size(*size);
    v1::GetCheckpointResponse resp;
    grpc::Status s = audit_->GetCheckpoint(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.checkpoint();
  }

  merkle::Checkpoint Open(const v1::TreeCheckpoint& c) {
    absl::StatusOr<merkle::Checkpoint> opened =
        merkle::OpenCheckpoint(c.note(), &key_.verifier);
    EXPECT_TRUE(opened.ok()) << opened.status();
    return opened.ok() ? *opened : merkle::Checkpoint{};
  }

  grpc::Status Inclusion(uint64_t position, uint64_t size,
                         v1::GetInclusionProofResponse* resp) {
    grpc::ClientContext ctx;
    v1::GetInclusionProofRequest req;
    req.set_position(position);
    req.set_tree_size(size);
    return audit_->GetInclusionProof(&ctx, req, resp);
  }

  grpc::Status Consistency(uint64_t from, uint64_t to,
                           v1::GetConsistencyProofResponse* resp) {
    grpc::ClientContext ctx;
    v1::GetConsistencyProofRequest req;
    req.set_from_size(from);
    req.set_to_size(to);
    return audit_->GetConsistencyProof(&ctx, req, resp);
  }

  TempDir dir_;
  FakeClock clock_{1'767'225'600'000'000};
  merkle::SignerKey key_;
  std::unique_ptr<LedgerServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
};

TEST_F(AuditServiceTest, CheckpointIsASignedC2spNoteOfTheHead) {
  const v1::TreeCheckpoint c = CheckpointAt(std::nullopt);
  EXPECT_EQ(c.origin(), kOrigin);
  EXPECT_EQ(c.tree_size(), kEvents);
  EXPECT_EQ(c.verifier_key(), merkle::FormatVerifierKey(key_.verifier));
  EXPECT_EQ(c.unsigned_reason(), "");
  const merkle::Checkpoint opened = Open(c);
  EXPECT_EQ(opened.size, kEvents);
  EXPECT_EQ(opened.root_hash, c.root_hash());
  EXPECT_EQ(c.note().substr(0, c.note().find("\n\n") + 1),
            merkle::FormatCheckpoint({kOrigin, kEvents, c.root_hash()}));
  // Size 0 is the empty tree, not the head.
  EXPECT_EQ(CheckpointAt(0).root_hash(), merkle::EmptyRoot());
}

TEST_F(AuditServiceTest, InclusionOfEveryPositionAtEverySizeVerifies) {
  uint64_t checked = 0;
  for (uint64_t size = 1; size <= kEvents; ++size) {
    const merkle::Checkpoint trusted = Open(CheckpointAt(size));
    for (uint64_t p = 1; p <= size; ++p) {
      v1::GetInclusionProofResponse proof;
      grpc::Status s = Inclusion(p, size, &proof);
      ASSERT_TRUE(s.ok()) << s.error_message();
      EXPECT_EQ(proof.event().position(), p);
      EXPECT_EQ(proof.leaf_hash(), merkle::LeafHash(proof.leaf_bytes()));
      absl::Status v = CheckInclusion(proof, trusted);
      ASSERT_TRUE(v.ok()) << p << "@" << size << ": " << v;
      ++checked;
    }
  }
  EXPECT_EQ(checked, kEvents * (kEvents + 1) / 2);
}

TEST_F(AuditServiceTest, ConsistencyOfEveryPairOfSizesVerifies) {
  std::vector<merkle::Checkpoint> heads;
  for (uint64_t n = 0; n <= kEvents; ++n)
    heads.push_back(Open(CheckpointAt(n)));
  // to_size 0 asks for the head, so sizes start at 1.
  for (uint64_t n = 1; n <= kEvents; ++n) {
    for (uint64_t m = 0; m <= n; ++m) {
      v1::GetConsistencyProofResponse proof;
      grpc::Status s = Consistency(m, n, &proof);
      ASSERT_TRUE(s.ok()) << s.error_message();
      absl::Status v = CheckConsistency(proof, heads[m], heads[n]);
      ASSERT_TRUE(v.ok()) << m << " -> " << n << ": " << v;
    }
  }
}

TEST_F(AuditServiceTest, TamperedProofsAreRejected) {
  const merkle::Checkpoint trusted = Open(CheckpointAt(kEvents));
  v1::GetInclusionProofResponse proof;
  ASSERT_TRUE(Inclusion(7, kEvents, &proof).ok());
  v1::GetInclusionProofResponse changed_leaf = proof;
  (*changed_leaf.mutable_leaf_bytes())[40] ^= 1;
  EXPECT_EQ(CheckInclusion(changed_leaf, trusted).code(),
            absl::StatusCode::kFailedPrecondition);
  v1::GetInclusionProofResponse other_position = proof;
  other_position.set_position(8);
  other_position.set_leaf_index(7);
  EXPECT_EQ(CheckInclusion(other_position, trusted).code(),
            absl::StatusCode::kFailedPrecondition);
  // A checkpoint of another size.
  EXPECT_EQ(CheckInclusion(proof, Open(CheckpointAt(kEvents - 1))).code(),
            absl::StatusCode::kFailedPrecondition);
  // Consistency from a checkpoint whose root was rewritten.
  v1::GetConsistencyProofResponse c;
  ASSERT_TRUE(Consistency(9, kEvents, &c).ok());
  merkle::Checkpoint rewritten = Open(CheckpointAt(9));
  rewritten.root_hash[0] ^= 1;
  EXPECT_EQ(CheckConsistency(c, rewritten, trusted).code(),
            absl::StatusCode::kFailedPrecondition);
  merkle::Checkpoint foreign = Open(CheckpointAt(9));
  foreign.origin = "another.log/x";
  EXPECT_EQ(CheckConsistency(c, foreign, trusted).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(AuditServiceTest, BadRequestsNameTheField) {
  v1::GetInclusionProofResponse p;
  grpc::Status s = Inclusion(0, 0, &p);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("position"), std::string::npos);
  s = Inclusion(5, 4, &p);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("position"), std::string::npos);
  s = Inclusion(5, kEvents + 1, &p);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("tree_size"), std::string::npos);
  v1::GetConsistencyProofResponse c;
  s = Consistency(6, 5, &c);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("from_size"), std::string::npos);
  s = Consistency(1, kEvents + 1, &c);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("to_size"), std::string::npos);
  grpc::ClientContext ctx;
  v1::GetCheckpointRequest req;
  req.set_tree_size(kEvents + 1);
  v1::GetCheckpointResponse resp;
  EXPECT_EQ(audit_->GetCheckpoint(&ctx, req, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(AuditServiceTest, WithoutAKeyCheckpointsAreUnsignedAndSaySo) {
  const std::string root = CheckpointAt(12).root_hash();
  Start(dir_.Sub("data"), /*signed_checkpoints=*/false);
  const v1::TreeCheckpoint c = CheckpointAt(12);
  EXPECT_EQ(c.origin(), kUnsignedOrigin);
  EXPECT_EQ(c.root_hash(), root);
  EXPECT_EQ(c.verifier_key(), "");
  EXPECT_NE(c.unsigned_reason(), "");
  EXPECT_EQ(c.note(), merkle::FormatCheckpoint({kUnsignedOrigin, 12, root}));
  EXPECT_EQ(merkle::OpenCheckpoint(c.note(), &key_.verifier).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(AuditServiceTest, RootsAreStableAcrossRestartRebuildAndBackupRestore) {
  std::vector<std::string> notes;
  for (uint64_t n = 0; n <= kEvents; ++n)
    notes.push_back(CheckpointAt(n).note());
  // Restart.
  Start(dir_.Sub("data"), /*signed_checkpoints=*/true);
  for (uint64_t n = 0; n <= kEvents; ++n)
    EXPECT_EQ(CheckpointAt(n).note(), notes[n]);
  // Rebuild of the projections.
  {
    auto queries = v1::LedgerQueryService::NewStub(channel_);
    grpc::ClientContext ctx;
    v1::RebuildProjectionsResponse resp;
    grpc::Status s = queries->RebuildProjections(
        &ctx, v1::RebuildProjectionsRequest(), &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_EQ(CheckpointAt(kEvents).note(), notes[kEvents]);
  // Backup, restore elsewhere, serve from the restored copy.
  {
    auto admin = v1::AdminService::NewStub(channel_);
    grpc::ClientContext ctx;
    v1::CreateBackupRequest req;
    req.set_backup_dir("b");
    v1::CreateBackupResponse resp;
    grpc::Status s = admin->CreateBackup(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  server_.reset();
  absl::StatusOr<store::BackupCheck> restored =
      store::RestoreBackup(dir_.Sub("backups") + "/b", 0, dir_.Sub("restored"));
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_TRUE(restored->chain.ok) << restored->chain.message;
  Start(dir_.Sub("restored"), /*signed_checkpoints=*/true);
  for (uint64_t n = 0; n <= kEvents; ++n)
    EXPECT_EQ(CheckpointAt(n).note(), notes[n]);
}

}  // namespace
}  // namespace partnerledger::server

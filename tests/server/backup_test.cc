// Backup and restore: an online backup while appends continue reports the
// digest of exactly what it holds; it verifies; it restores into an empty
// directory (never a non-empty one) as a ledger whose chain verifies and
// whose digest at the backup's position is the one reported; damage is
// found; ledgerd --restore_backup does the same offline.
#include "store/backup.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "partnerledger/v1/admin.grpc.pb.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "server/server.h"
#include "test_support.h"

namespace partnerledger::server {
namespace {

using partnerledger::testing::MakeEvent;
using partnerledger::testing::PartnerRegisteredPayload;
using partnerledger::testing::ProfileUpdatedPayload;
using partnerledger::testing::TempDir;
using ::testing::HasSubstr;

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.ledger.data_dir = dir_.Sub("data");
    o.backup_root = dir_.Sub("backups");
    absl::StatusOr<std::unique_ptr<LedgerServer>> s = LedgerServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    admin_ = v1::AdminService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials()));
    AppendOrDie("partner-acme", PartnerRegisteredPayload("Acme BV"));
    for (int i = 0; i < 50; ++i)
      AppendOrDie("partner-acme", ProfileUpdatedPayload("p"));
  }

  void AppendOrDie(const std::string& stream, v1::EventPayload p) {
    AppendRequest r;
    r.stream = stream;
    r.events.push_back(MakeEvent(std::move(p)));
    ASSERT_TRUE(server_->ledger().AppendAndWait(std::move(r)).ok());
  }

  grpc::Status CreateBackup(const std::string& dir,
                            v1::CreateBackupResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(60));
    v1::CreateBackupRequest req;
    req.set_backup_dir(dir);
    return admin_->CreateBackup(&ctx, req, resp);
  }

  grpc::Status VerifyBackup(const std::string& dir, uint32_t id,
                            v1::VerifyBackupResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(60));
    v1::VerifyBackupRequest req;
    req.set_backup_dir(dir);
    req.set_backup_id(id);
    return admin_->VerifyBackup(&ctx, req, resp);
  }

  TempDir dir_;
  std::unique_ptr<LedgerServer> server_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

TEST_F(BackupTest, OnlineBackupRestoresToExactlyTheReportedDigest) {
  // Appends go on during the backup.
  std::atomic<bool> stop{false};
  std::atomic<int> appended{0};
  std::thread writer([&] {
    while (!stop.load()) {
      AppendRequest r;
      r.stream = "partner-acme";
      r.events.push_back(MakeEvent(ProfileUpdatedPayload("busy")));
      if (server_->ledger().AppendAndWait(std::move(r)).ok()) ++appended;
    }
  });
  while (appended.load() < 20) std::this_thread::yield();
  v1::CreateBackupResponse backup;
  grpc::Status s = CreateBackup("nightly", &backup);
  const int appended_during = appended.load();
  while (appended.load() < appended_during + 20) std::this_thread::yield();
  stop.store(true);
  writer.join();
  ASSERT_TRUE(s.ok()) << s.error_message();
  const uint64_t p = backup.digest().position();
  EXPECT_GE(p, 51u + 20u);
  EXPECT_LT(p, server_->ledger().head_position());  // appends went on
  EXPECT_EQ(backup.hash_hex().size(), 64u);
  // The live ledger agrees on the chain at P.
  absl::StatusOr<ChainDigest> live = server_->ledger().GetDigest(p);
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->hash, backup.digest().hash());

  v1::VerifyBackupResponse verified;
  ASSERT_TRUE(VerifyBackup("nightly", backup.backup_id(), &verified).ok());
  EXPECT_TRUE(verified.ok()) << verified.message();
  EXPECT_EQ(verified.events_checked(), p);
  EXPECT_EQ(verified.digest().hash(), backup.digest().hash());

  // Restore (what ledgerd --restore_backup does) and open it as a ledger.
  const std::string restored = dir_.Sub("restored");
  absl::StatusOr<store::BackupCheck> check = store::RestoreBackup(
      dir_.Sub("backups/nightly"), backup.backup_id(), restored);
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_TRUE(check->chain.ok);
  Options o;
  o.data_dir = restored;
  absl::StatusOr<std::unique_ptr<Ledger>> ledger = Ledger::Open(o);
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  EXPECT_EQ((*ledger)->head_position(), p);
  absl::StatusOr<ChainDigest> d = (*ledger)->GetDigest(p);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->hash, backup.digest().hash());
  absl::StatusOr<VerifyResult> v = (*ledger)->VerifyChain(0, 0, std::nullopt);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->message;
  EXPECT_EQ(v->verified_through, p);
}

TEST_F(BackupTest, BackupsAreIncrementalAndTheLatestIsTheDefault) {
  v1::CreateBackupResponse first, second;
  ASSERT_TRUE(CreateBackup("", &first).ok());
  AppendOrDie("partner-acme", ProfileUpdatedPayload("later"));
  ASSERT_TRUE(CreateBackup("", &second).ok());
  EXPECT_GT(second.backup_id(), first.backup_id());
  EXPECT_EQ(second.digest().position(), first.digest().position() + 1);
  v1::VerifyBackupResponse latest;
  ASSERT_TRUE(VerifyBackup("", 0, &latest).ok());
  EXPECT_TRUE(latest.ok());
  EXPECT_EQ(latest.backup_id(), second.backup_id());
  absl::StatusOr<std::vector<store::BackupInfo>> all =
      store::ListBackups(dir_.Sub("backups"));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
}

TEST_F(BackupTest, RestoreIntoANonEmptyDirectoryIsRefused) {
  v1::CreateBackupResponse backup;
  ASSERT_TRUE(CreateBackup("b", &backup).ok());
  const std::string target = dir_.Sub("occupied");
  std::filesystem::create_directories(target);
  std::ofstream(target + "/keep.txt") << "precious";
  absl::StatusOr<store::BackupCheck> r =
      store::RestoreBackup(dir_.Sub("backups/b"), 0, target);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(target),
                          std::filesystem::directory_iterator()),
            1);
  // Into the live data directory, too.
  r = store::RestoreBackup(dir_.Sub("backups/b"), 0, dir_.Sub("data"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store::RestoreBackup(dir_.Sub("backups/none"), 0, dir_.Sub("x"))
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST_F(BackupTest, DamagedBackupFailsVerification) {
  v1::CreateBackupResponse backup;
  ASSERT_TRUE(CreateBackup("d", &backup).ok());
  int damaged = 0;
  for (const auto& f :
       std::filesystem::recursive_directory_iterator(dir_.Sub("backups/d"))) {
    if (f.path().extension() != ".sst") continue;
    std::fstream io(f.path(), std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(static_cast<std::streamoff>(f.file_size() / 2));
    io.put('\x5a');
    io.put('\xa5');
    ++damaged;
  }
  ASSERT_GT(damaged, 0);
  v1::VerifyBackupResponse v;
  ASSERT_TRUE(VerifyBackup("d", backup.backup_id(), &v).ok());
  EXPECT_FALSE(v.ok());
  EXPECT_FALSE(v.message().empty());
  EXPECT_EQ(store::RestoreBackup(dir_.Sub("backups/d"), 0, dir_.Sub("r"))
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(BackupTest, BackupDirectoryMustStayUnderTheRoot) {
  v1::CreateBackupResponse resp;
  EXPECT_EQ(CreateBackup("../escape", &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CreateBackup("/tmp/abs", &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  TempDir other;
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.ledger.data_dir = other.Sub("data");
  absl::StatusOr<std::unique_ptr<LedgerServer>> s = LedgerServer::Start(o);
  ASSERT_TRUE(s.ok());
  auto stub = v1::AdminService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string((*s)->port()),
                          grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  EXPECT_EQ(
      stub->CreateBackup(&ctx, v1::CreateBackupRequest(), &resp).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(BackupTest, LedgerdRestoreBackupRestoresVerifiesAndExits) {
  const char* ledgerd = std::getenv("PL_LEDGERD");
  if (ledgerd == nullptr)
    GTEST_SKIP() << "PL_LEDGERD not set (run through ctest)";
  v1::CreateBackupResponse backup;
  ASSERT_TRUE(CreateBackup("cli", &backup).ok());
  const std::string base = std::string(ledgerd) +
                           " --restore_backup=" + dir_.Sub("backups/cli") +
                           " --data_dir=";
  const std::string log = dir_.Sub("restore.log");
  EXPECT_EQ(std::system((base + dir_.Sub("fresh") + " 2>" + log).c_str()), 0);
  std::ifstream in(log);
  std::string line;
  std::getline(in, line);
  EXPECT_THAT(line, HasSubstr("\"msg\":\"restored and verified\""));
  EXPECT_THAT(line, HasSubstr("\"position\":" +
                              std::to_string(backup.digest().position())));
  // The same again into the now non-empty directory: refused.
  EXPECT_NE(std::system((base + dir_.Sub("fresh") + " 2>/dev/null").c_str()),
            0);
}

}  // namespace
}  // namespace partnerledger::server

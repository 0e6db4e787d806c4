// partnerledger.v1.AdminService: online backup and backup verification
// (store/backup.h), admin role only. Each call runs on a thread of its own
// (a backup copies the whole database), never on a gRPC thread; one
// operation at a time, a concurrent one is ABORTED.
#ifndef PARTNERLEDGER_SERVER_ADMIN_SERVICE_H_
#define PARTNERLEDGER_SERVER_ADMIN_SERVICE_H_

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "partnerledger/ledger.h"
#include "partnerledger/v1/admin.grpc.pb.h"
#include "server/auth.h"

namespace partnerledger::server {

class AdminService final : public v1::AdminService::CallbackService {
 public:
  // `ledger` and `auth` must outlive the service. Backups are written under
  // `backup_root` (empty: refused with FAILED_PRECONDITION).
  AdminService(Ledger* ledger, const Authorizer* auth, std::string backup_root);
  // Waits for a running operation.
  ~AdminService() override;

  grpc::ServerUnaryReactor* CreateBackup(
      grpc::CallbackServerContext* ctx, const v1::CreateBackupRequest* req,
      v1::CreateBackupResponse* resp) override;
  grpc::ServerUnaryReactor* VerifyBackup(
      grpc::CallbackServerContext* ctx, const v1::VerifyBackupRequest* req,
      v1::VerifyBackupResponse* resp) override;

 private:
  // The absolute backup directory a request names. INVALID_ARGUMENT for an
  // absolute path or one with ".."; FAILED_PRECONDITION without a root.
  absl::StatusOr<std::string> BackupDir(const std::string& requested) const;
  // Runs `work` on the operation thread and finishes `reactor` with its
  // status; ABORTED if an operation is running.
  grpc::ServerUnaryReactor* RunExclusive(grpc::CallbackServerContext* ctx,
                                         std::function<absl::Status()> work);
  // A fresh scratch path next to the data directory (same file system).
  std::string ScratchDir(const char* what) const;

  Ledger* const ledger_;
  const Authorizer* const auth_;
  const std::string backup_root_;
  absl::Mutex mu_;
  std::thread worker_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> busy_{false};
};

}  // namespace partnerledger::server

#endif  // PARTNERLEDGER_SERVER_ADMIN_SERVICE_H_

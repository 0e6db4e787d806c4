#include "server/admin_service.h"

#include <chrono>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "ledger/ledger_internal.h"
#include "ledger/maintenance.h"
#include "server/log.h"
#include "server/status_map.h"
#include "util/sha256.h"

namespace partnerledger::server {
namespace {

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx,
                                    const absl::Status& s) {
  grpc::ServerUnaryReactor* r = ctx->DefaultReactor();
  r->Finish(ToGrpc(s));
  return r;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

AdminService::AdminService(Ledger* ledger, const Authorizer* auth,
                           std::string backup_root)
    : ledger_(ledger), auth_(auth), backup_root_(std::move(backup_root)) {}

AdminService::~AdminService() {
  absl::MutexLock lock(&mu_);
  if (worker_.joinable()) worker_.join();
}

absl::StatusOr<std::string> AdminService::BackupDir(
    const std::string& requested) const {
  if (backup_root_.empty()) {
    return absl::FailedPreconditionError(
        "backups are off: start ledgerd with --backup_root");
  }
  const std::filesystem::path rel(requested);
  if (rel.is_absolute()) {
    return absl::InvalidArgumentError(
        "backup_dir: must be relative to the server's backup root");
  }
  for (const std::filesystem::path& part : rel) {
    if (part == "..") {
      return absl::InvalidArgumentError("backup_dir: must not contain \"..\"");
    }
  }
  return (std::filesystem::path(backup_root_) / rel)
      .lexically_normal()
      .string();
}

std::string AdminService::ScratchDir(const char* what) const {
  return absl::StrCat(
      ledger_->options().data_dir, ".", what, "-",
      std::chrono::system_clock::now().time_since_epoch().count());
}

grpc::ServerUnaryReactor* AdminService::RunExclusive(
    grpc::CallbackServerContext* ctx, std::function<absl::Status()> work) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (busy_.exchange(true)) {
    reactor->Finish(grpc::Status(grpc::StatusCode::ABORTED,
                                 "a backup operation is already running"));
    return reactor;
  }
  absl::MutexLock lock(&mu_);
  if (worker_.joinable()) worker_.join();  // the previous one, finished
  worker_ = std::thread([this, reactor, work = std::move(work)] {
    absl::Status s = work();
    busy_.store(false);
    reactor->Finish(ToGrpc(s));
  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::CreateBackup(
    grpc::CallbackServerContext* ctx, const v1::CreateBackupRequest* req,
    v1::CreateBackupResponse* resp) {
  absl::StatusOr<Access> access = auth_->Check(*ctx, Rpc::kCreateBackup);
  if (!access.ok()) return FinishNow(ctx, access.status());
  absl::StatusOr<std::string> dir = BackupDir(req->backup_dir());
  if (!dir.ok()) return FinishNow(ctx, dir.status());
  if (!ledger_->healthy()) {
    return FinishNow(
        ctx, absl::UnavailableError(absl::StrCat("storage failed: ",
                                                 ledger_->unhealthy_reason())));
  }
  const std::string principal = access->principal.name;
  return RunExclusive(ctx, [this, resp, dir = *dir, principal] {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<ledger::Backup> info =
        ledger::CreateBackup(*ledger_, ScratchDir("backup"), dir);
    if (!info.ok()) {
      Log(LogLevel::kError, "backup failed",
          {{"backup_dir", dir},
           {"principal", principal},
           {"error", std::string(info.status().ToString())}});
      return info.status();
    }
    resp->set_backup_id(info->backup_id);
    resp->mutable_digest()->set_position(info->position);
    resp->mutable_digest()->set_hash(info->hash);
    resp->set_hash_hex(ToHex(info->hash));
    resp->set_size_bytes(info->size_bytes);
    resp->set_seconds(SecondsSince(start));
    Log(LogLevel::kInfo, "backup created",
        {{"backup_dir", dir},
         {"backup_id", info->backup_id},
         {"position", info->position},
         {"hash", ToHex(info->hash)},
         {"principal", principal}});
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AdminService::VerifyBackup(
    grpc::CallbackServerContext* ctx, const v1::VerifyBackupRequest* req,
    v1::VerifyBackupResponse* resp) {
  absl::StatusOr<Access> access = auth_->Check(*ctx, Rpc::kVerifyBackup);
  if (!access.ok()) return FinishNow(ctx, access.status());
  absl::StatusOr<std::string> dir = BackupDir(req->backup_dir());
  if (!dir.ok()) return FinishNow(ctx, dir.status());
  const uint32_t id = req->backup_id();
  return RunExclusive(ctx, [this, resp, dir = *dir, id] {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<ledger::VerifiedBackup> check =
        ledger::VerifyBackup(dir, id, ScratchDir("verify"));
    resp->set_seconds(SecondsSince(start));
    if (!check.ok()) {
      // Damage found is the answer, not a failure of the call.
      if (check.status().code() != absl::StatusCode::kDataLoss) {
        return check.status();
      }
      resp->set_ok(false);
      resp->set_backup_id(id);
      resp->set_message(std::string(check.status().message()));
      Log(LogLevel::kError, "backup verification failed",
          {{"backup_dir", dir},
           {"backup_id", id},
           {"error", std::string(check.status().message())}});
      return absl::OkStatus();
    }
    resp->set_ok(true);
    resp->set_backup_id(check->backup.backup_id);
    resp->mutable_digest()->set_position(check->backup.position);
    resp->mutable_digest()->set_hash(check->backup.hash);
    resp->set_events_checked(check->events_checked);
    return absl::OkStatus();
  });
}

}  // namespace partnerledger::server

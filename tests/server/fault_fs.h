// A RocksDB file system for server tests: writes can be made to fail
// (IOStatus::IOError("injected")) or WAL syncs held at a gate.
//
// Failing: once FailWrites() is called, every Append, PositionedAppend, Flush,
// Sync, Fsync and RangeSync of a writable file and every new writable file
// fail, before anything reaches the real file: like a disk that went away.
// Holding: while syncs are held, a WAL Sync/Fsync waits at the gate (the
// ledger's writer stops inside its commit) until released.
#ifndef PARTNERLEDGER_TESTS_SERVER_FAULT_FS_H_
#define PARTNERLEDGER_TESTS_SERVER_FAULT_FS_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace partnerledger::testing {

class FaultFs final : public rocksdb::FileSystemWrapper {
 public:
  FaultFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FaultFs"; }

  void FailWrites() { fail_writes_.store(true); }
  // Failures say "No space left on device" (IOStatus::NoSpace), as a full
  // disk does, instead of "injected".
  void FailAsNoSpace() { no_space_.store(true); }
  // RocksDB's default info logger (EnvLogger) is created on `env`, whose
  // file system must be this one, so its LOG writes fail with the rest.
  void LogThrough(rocksdb::Env* env) { logger_env_ = env; }
  bool failing() const { return fail_writes_.load(); }

  void HoldSyncs() {
    absl::MutexLock lock(&mu_);
    hold_ = true;
  }
  // Waits (up to `timeout`) until a WAL sync is held at the gate.
  bool WaitUntilSyncHeld(std::chrono::milliseconds timeout) {
    absl::MutexLock lock(&mu_);
    const absl::Time deadline = absl::Now() + absl::FromChrono(timeout);
    while (held_ == 0) {
      if (cv_.WaitWithDeadline(&mu_, deadline)) return held_ > 0;
    }
    return true;
  }
  void ReleaseSyncs() {
    {
      absl::MutexLock lock(&mu_);
      hold_ = false;
    }
    cv_.SignalAll();
  }

  rocksdb::IOStatus NewLogger(const std::string& f, const rocksdb::IOOptions& o,
                              std::shared_ptr<rocksdb::Logger>* r,
                              rocksdb::IODebugContext* dbg) override {
    if (logger_env_ == nullptr) return target()->NewLogger(f, o, r, dbg);
    const rocksdb::Status s = rocksdb::NewEnvLogger(f, logger_env_, r);
    return s.ok() ? rocksdb::IOStatus::OK()
                  : rocksdb::IOStatus::IOError(s.ToString());
  }

  rocksdb::IOStatus NewWritableFile(const std::string& f,
                                    const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    if (failing()) return Injected();
    rocksdb::IOStatus s = target()->NewWritableFile(f, o, r, dbg);
    if (s.ok()) *r = std::make_unique<File>(std::move(*r), this, IsWal(f));
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(
      const std::string& f, const rocksdb::FileOptions& o,
      std::unique_ptr<rocksdb::FSWritableFile>* r,
      rocksdb::IODebugContext* dbg) override {
    if (failing()) return Injected();
    rocksdb::IOStatus s = target()->ReopenWritableFile(f, o, r, dbg);
    if (s.ok()) *r = std::make_unique<File>(std::move(*r), this, IsWal(f));
    return s;
  }
  rocksdb::IOStatus ReuseWritableFile(
      const std::string& f, const std::string& old,
      const rocksdb::FileOptions& o,
      std::unique_ptr<rocksdb::FSWritableFile>* r,
      rocksdb::IODebugContext* dbg) override {
    if (failing()) return Injected();
    rocksdb::IOStatus s = target()->ReuseWritableFile(f, old, o, r, dbg);
    if (s.ok()) *r = std::make_unique<File>(std::move(*r), this, IsWal(f));
    return s;
  }

 private:
  rocksdb::IOStatus Injected() const {
    if (no_space_.load()) {
      return rocksdb::IOStatus::NoSpace("No space left on device (injected)");
    }
    return rocksdb::IOStatus::IOError("injected");
  }
  static bool IsWal(const std::string& f) { return absl::EndsWith(f, ".log"); }

  void MaybeHold() {
    absl::MutexLock lock(&mu_);
    if (!hold_) return;
    ++held_;
    cv_.SignalAll();
    while (hold_) cv_.Wait(&mu_);
    --held_;
  }

  class File final : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile>&& f, FaultFs* fs, bool wal)
        : FSWritableFileOwnerWrapper(std::move(f)), fs_(fs), wal_(wal) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& d,
                             const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      if (fs_->failing()) return fs_->Injected();
      return target()->Append(d, o, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& d,
                             const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& v,
                             rocksdb::IODebugContext* dbg) override {
      if (fs_->failing()) return fs_->Injected();
      return target()->Append(d, o, v, dbg);
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& d, uint64_t off,
                                       const rocksdb::IOOptions& o,
                                       rocksdb::IODebugContext* dbg) override {
      if (fs_->failing()) return fs_->Injected();
      return target()->PositionedAppend(d, off, o, dbg);
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& d, uint64_t off,
                                       const rocksdb::IOOptions& o,
                                       const rocksdb::DataVerificationInfo& v,
                                       rocksdb::IODebugContext* dbg) override {
      if (fs_->failing()) return fs_->Injected();
      return target()->PositionedAppend(d, off, o, v, dbg);
    }
    rocksdb::IOStatus Flush(const rocksdb::IOOptions& o,
                            rocksdb::IODebugContext* dbg) override {
      if (fs_->failing()) return fs_->Injected();
      return target()->Flush(o, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
      if (wal_) fs_->MaybeHold();
      if (fs_->failing()) return fs_->Injected();
      return target()->Sync(o, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o,
                            rocksdb::IODebugContext* dbg) override {
      if (wal_) fs_->MaybeHold();
      if (fs_->failing()) return fs_->Injected();
      return target()->Fsync(o, dbg);
    }
    rocksdb::IOStatus RangeSync(uint64_t off, uint64_t n,
                                const rocksdb::IOOptions& o,
                                rocksdb::IODebugContext* dbg) override {
      if (fs_->failing()) return fs_->Injected();
      return target()->RangeSync(off, n, o, dbg);
    }

   private:
    FaultFs* const fs_;
    const bool wal_;
  };

  std::atomic<bool> fail_writes_{false};
  std::atomic<bool> no_space_{false};
  rocksdb::Env* logger_env_ = nullptr;
  absl::Mutex mu_;
  absl::CondVar cv_;
  bool hold_ ABSL_GUARDED_BY(mu_) = false;
  int held_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace partnerledger::testing

#endif  // PARTNERLEDGER_TESTS_SERVER_FAULT_FS_H_

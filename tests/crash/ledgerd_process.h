// A ledgerd child process for crash tests: spawn, wait until it serves,
// kill (gracefully or with SIGKILL), reap.
//
// Thread safety: none; one test thread drives a LedgerdProcess. The object
// owns the child: destroying it kills (SIGKILL) and reaps a child still
// running, so a failing test never leaks a server.
#ifndef PARTNERLEDGER_TESTS_CRASH_LEDGERD_PROCESS_H_
#define PARTNERLEDGER_TESTS_CRASH_LEDGERD_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "child_process.h"

namespace partnerledger::crash {

// The ledgerd binary under test: $PL_LEDGERD (set by pl_test for ctest), or
// else ../../ledgerd relative to this test binary (running it by hand from
// the build tree). NOT_FOUND when neither is an executable file.
absl::StatusOr<std::string> FindLedgerd();

struct LedgerdFlags {
  std::string data_dir;
  // Where ledgerd writes its bound port; removed before each start so a
  // stale port from the previous round is never read.
  std::string port_file;
  // Appended to (stdout and stderr of the child).
  std::string log_file;
  // Non-empty: --power_loss_journal=<path>.
  std::string power_loss_journal;
  // --unsafe_no_sync: acknowledge without fsync (negative control only).
  bool unsafe_no_sync = false;
  // Further flags, passed as given (e.g. "--auth_config=...").
  std::vector<std::string> extra_args;
};

class LedgerdProcess {
 public:
  // Spawns ledgerd listening on 127.0.0.1:0 and returns once the port file
  // names a port that accepts a gRPC connection. Errors: UNAVAILABLE if the
  // child exits or is not serving within `ready_timeout` (the child is
  // killed; the message carries the tail of its log).
  static absl::StatusOr<std::unique_ptr<LedgerdProcess>> Start(
      const std::string& binary, const LedgerdFlags& flags,
      std::chrono::milliseconds ready_timeout);

  ~LedgerdProcess();
  LedgerdProcess(const LedgerdProcess&) = delete;
  LedgerdProcess& operator=(const LedgerdProcess&) = delete;

  int port() const { return port_; }
  // "127.0.0.1:<port>".
  std::string address() const;
  pid_t pid() const { return pid_; }

  // Sends SIGKILL and returns at once, without reaping (KillNine reaps).
  void SendKill();
  // SIGKILL (unless SendKill did already), then reap. The kill is
  // immediate; only reaping is waited for. INTERNAL if the child had exited
  // by itself before.
  absl::Status KillNine();
  // SIGTERM and wait for a clean exit (status 0) within `timeout`; after
  // the timeout the child is SIGKILLed and DEADLINE_EXCEEDED returned.
  // INTERNAL if it exits otherwise than with status 0.
  absl::Status Terminate(std::chrono::milliseconds timeout);

  // The last `max_bytes` of the child's log, for failure messages.
  std::string LogTail(size_t max_bytes = 4096) const;

 private:
  LedgerdProcess(pid_t pid, LedgerdFlags flags)
      : pid_(pid), flags_(std::move(flags)) {}

  absl::Status WaitUntilServing(std::chrono::milliseconds timeout);
  // Reaps the child within `timeout`; returns its wait status.
  absl::StatusOr<int> Reap(std::chrono::milliseconds timeout);

  pid_t pid_;  // -1 once reaped
  const LedgerdFlags flags_;
  int port_ = 0;
};

// Reads a whole small file; empty string if it cannot be read.
using child_process::ReadFileOrEmpty;

}  // namespace partnerledger::crash

#endif  // PARTNERLEDGER_TESTS_CRASH_LEDGERD_PROCESS_H_

#include "crash/ledgerd_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "child_process.h"
#include "grpcpp/grpcpp.h"
#include "util/status_macros.h"

namespace partnerledger::crash {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Polling interval of every wait loop below: short against the timeouts,
// long enough not to steal a core from the server on a 2-core machine.
constexpr milliseconds kPollInterval{10};

bool IsExecutable(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         ::access(path.c_str(), X_OK) == 0;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status))
    return absl::StrCat("exit status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(status));
  }
  return absl::StrCat("wait status ", status);
}

}  // namespace

absl::StatusOr<std::string> FindLedgerd() {
  if (const char* env = std::getenv("PL_LEDGERD"); env != nullptr && *env) {
    if (IsExecutable(env)) return std::string(env);
    return absl::NotFoundError(
        absl::StrCat("PL_LEDGERD=", env, " is not an executable file"));
  }
  std::error_code ec;
  const std::filesystem::path self =
      std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // <build>/tests/crash/<test binary> -> <build>/ledgerd
    const std::string guess =
        (self.parent_path().parent_path().parent_path() / "ledgerd").string();
    if (IsExecutable(guess)) return guess;
  }
  return absl::NotFoundError(
      "ledgerd not found: set PL_LEDGERD (ctest sets it) or build the "
      "ledgerd target");
}

absl::StatusOr<std::unique_ptr<LedgerdProcess>> LedgerdProcess::Start(
    const std::string& binary, const LedgerdFlags& flags,
    milliseconds ready_timeout) {
  ::unlink(flags.port_file.c_str());

  std::vector<std::string> args = {
      binary,
      "--listen=127.0.0.1:0",
      "--data_dir=" + flags.data_dir,
      "--port_file=" + flags.port_file,
      // No background scrub in tests (store/scrub.h has its own).
      "--scrub_bytes_per_s=0",
  };
  if (!flags.power_loss_journal.empty()) {
    args.push_back("--power_loss_journal=" + flags.power_loss_journal);
  }
  if (flags.unsafe_no_sync) args.push_back("--unsafe_no_sync");
  for (const std::string& a : flags.extra_args) args.push_back(a);

  {
    std::ofstream log(flags.log_file, std::ios::app);
    log << "=== start:";
    for (const std::string& a : args) log << " " << a;
    log << "\n";
  }
  ASSIGN_OR_RETURN(const pid_t pid, child_process::Spawn(args, flags.log_file));

  std::unique_ptr<LedgerdProcess> p(new LedgerdProcess(pid, flags));
  absl::Status s = p->WaitUntilServing(ready_timeout);
  if (!s.ok()) {
    (void)p->KillNine();
    return absl::UnavailableError(absl::StrCat(
        s.message(), "\n--- ledgerd log tail ---\n", p->LogTail()));
  }
  return p;
}

absl::Status LedgerdProcess::WaitUntilServing(milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return absl::UnavailableError(absl::StrCat(
          "ledgerd exited before serving: ", DescribeWaitStatus(status)));
    }
    // The port file may be caught half-written; a port that parses is only
    // trusted once a connection to it succeeds.
    int port = 0;
    const std::string text = ReadFileOrEmpty(flags_.port_file);
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &port) && port > 0 &&
        port < 65536) {
      auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                         grpc::InsecureChannelCredentials());
      if (channel->WaitForConnected(std::chrono::system_clock::now() +
                                    milliseconds(500))) {
        port_ = port;
        return absl::OkStatus();
      }
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  return absl::UnavailableError(absl::StrCat(
      "ledgerd not serving within ", timeout.count(), " ms (port file '",
      ReadFileOrEmpty(flags_.port_file), "')"));
}

LedgerdProcess::~LedgerdProcess() {
  if (pid_ > 0) (void)KillNine();
}

std::string LedgerdProcess::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

absl::StatusOr<int> LedgerdProcess::Reap(milliseconds timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  const Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return status;
    }
    if (r < 0 && errno != EINTR) {
      pid_ = -1;
      return absl::InternalError(
          absl::StrCat("waitpid: ", std::strerror(errno)));
    }
    if (Clock::now() >= deadline) {
      return absl::DeadlineExceededError("child did not exit in time");
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

void LedgerdProcess::SendKill() {
  if (pid_ > 0) ::kill(pid_, SIGKILL);
}

absl::Status LedgerdProcess::KillNine() {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  // Unreaped, the child is a zombie at worst: signalling it is safe.
  ::kill(pid_, SIGKILL);
  // SIGKILL cannot be caught; only a process stuck in uninterruptible I/O
  // (D state) takes long to go. Blocking here beats leaking it.
  absl::StatusOr<int> status = Reap(milliseconds(60'000));
  if (!status.ok()) return status.status();
  if (!WIFSIGNALED(*status) || WTERMSIG(*status) != SIGKILL) {
    // It had already exited by itself: the kill did not hit a live server.
    return absl::InternalError(absl::StrCat(
        "ledgerd was not killed by SIGKILL: ", DescribeWaitStatus(*status)));
  }
  return absl::OkStatus();
}

absl::Status LedgerdProcess::Terminate(milliseconds timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  ::kill(pid_, SIGTERM);
  absl::StatusOr<int> status = Reap(timeout);
  if (absl::IsDeadlineExceeded(status.status())) {
    (void)KillNine();
    return absl::DeadlineExceededError(absl::StrCat(
        "ledgerd did not exit within ", timeout.count(), " ms of SIGTERM"));
  }
  if (!status.ok()) return status.status();
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return absl::InternalError(
        absl::StrCat("ledgerd after SIGTERM: ", DescribeWaitStatus(*status)));
  }
  return absl::OkStatus();
}

std::string LedgerdProcess::LogTail(size_t max_bytes) const {
  return child_process::FileTail(flags_.log_file, max_bytes);
}

}  // namespace partnerledger::crash

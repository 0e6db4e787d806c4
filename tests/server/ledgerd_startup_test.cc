// ledgerd as a process: what it does before it serves. Two servers on one
// port or one data directory (the second must refuse to start, saying
// why), --help, --version, and listen addresses that are not host:port.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "crash/ledgerd_process.h"
#include "test_support.h"
#include "util/strings.h"

extern char** environ;

namespace partnerledger::server {
namespace {

using ::partnerledger::testing::TempDir;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr milliseconds kReadyTimeout{20'000};
// A second ledgerd that refuses to start exits within milliseconds; one
// that (wrongly) starts serving never exits and is killed at this deadline.
constexpr milliseconds kExitTimeout{10'000};

struct ProcessRun {
  // Exit status; -1 if it was still running at the deadline (killed).
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs ledgerd with `args`, output to `log`, waiting (poll on a pidfd, no
// sleeping) until it exits or `timeout` passes.
ProcessRun RunLedgerd(const std::vector<std::string>& args,
                      const std::string& log,
                      milliseconds timeout = kExitTimeout) {
  absl::StatusOr<std::string> bin = crash::FindLedgerd();
  EXPECT_TRUE(bin.ok()) << bin.status();
  if (!bin.ok()) return {};
  std::vector<std::string> argv_s = {*bin};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  const int rc =
      posix_spawn(&pid, bin->c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  EXPECT_EQ(rc, 0);
  if (rc != 0) return {};
  ProcessRun run;
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  EXPECT_GE(pidfd, 0);
  pollfd p{pidfd, POLLIN, 0};
  const bool exited =
      pidfd >= 0 && ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
  if (pidfd >= 0) ::close(pidfd);
  if (!exited) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (exited && WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  run.output = crash::ReadFileOrEmpty(log);
  return run;
}

class LedgerdStartupTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const {
    return dir_.path() + "/" + name;
  }

  // A first ledgerd, serving on a free port with its data in Path("a").
  void StartFirst() {
    absl::StatusOr<std::string> bin = crash::FindLedgerd();
    ASSERT_TRUE(bin.ok()) << bin.status();
    crash::LedgerdFlags f;
    f.data_dir = Path("a");
    f.port_file = Path("a.port");
    f.log_file = Path("a.log");
    absl::StatusOr<std::unique_ptr<crash::LedgerdProcess>> p =
        crash::LedgerdProcess::Start(*bin, f, kReadyTimeout);
    ASSERT_TRUE(p.ok()) << p.status();
    first_ = *std::move(p);
  }

  // The first server still runs and still serves: it answers a connection.
  void ExpectFirstAlive() {
    ASSERT_NE(first_, nullptr);
    EXPECT_EQ(::kill(first_->pid(), 0), 0);
    EXPECT_TRUE(first_->Terminate(kExitTimeout).ok()) << first_->LogTail();
  }

  TempDir dir_{"pl-startup"};
  std::unique_ptr<crash::LedgerdProcess> first_;
};

TEST_F(LedgerdStartupTest, SecondServerOnATakenPortExitsWithAddressInUse) {
  StartFirst();
  const std::string address = first_->address();
  ProcessRun second = RunLedgerd(
      {"--listen=" + address, "--data_dir=" + Path("b")}, Path("b.log"));
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_THAT(second.output,
              HasSubstr(absl::StrCat("listen: cannot bind ", address,
                                     ": address already in use")));
  EXPECT_THAT(second.output, HasSubstr("\"msg\":\"startup failed\""));
  ExpectFirstAlive();
}

TEST_F(LedgerdStartupTest, SecondServerOnAHeldDataDirNamesIt) {
  StartFirst();
  ProcessRun second = RunLedgerd(
      {"--listen=127.0.0.1:0", "--data_dir=" + Path("a")}, Path("b.log"));
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_THAT(second.output,
              HasSubstr(absl::StrCat("another ledgerd is using ", Path("a"),
                                     " (pid ", first_->pid(), ")")));
  // Not RocksDB's own error about its LOCK file.
  EXPECT_THAT(second.output, Not(HasSubstr("lock file")));
  ExpectFirstAlive();
}

TEST_F(LedgerdStartupTest, DataDirIsFreeAgainAfterTheFirstServerStops) {
  StartFirst();
  ASSERT_TRUE(first_->Terminate(kExitTimeout).ok()) << first_->LogTail();
  absl::StatusOr<std::string> bin = crash::FindLedgerd();
  ASSERT_TRUE(bin.ok());
  crash::LedgerdFlags f;
  f.data_dir = Path("a");
  f.port_file = Path("a2.port");
  f.log_file = Path("a2.log");
  absl::StatusOr<std::unique_ptr<crash::LedgerdProcess>> again =
      crash::LedgerdProcess::Start(*bin, f, kReadyTimeout);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE((*again)->Terminate(kExitTimeout).ok());
}

TEST_F(LedgerdStartupTest, ListenWithoutAValidPortIsRefused) {
  for (const std::string listen :
       {"127.0.0.1", "127.0.0.1:50051x", "127.0.0.1:70000", ":50051"}) {
    ProcessRun r = RunLedgerd({"--listen=" + listen, "--data_dir=" + Path("c")},
                              Path("c.log"));
    EXPECT_EQ(r.exit_code, 1) << listen << ": " << r.output;
    EXPECT_THAT(r.output,
                HasSubstr(absl::StrCat("INVALID_ARGUMENT: listen: \\\"", listen,
                                       "\\\" is not host:port")))
        << listen;
  }
  ProcessRun m =
      RunLedgerd({"--listen=127.0.0.1:0", "--metrics_listen=127.0.0.1",
                  "--data_dir=" + Path("c")},
                 Path("m.log"));
  EXPECT_EQ(m.exit_code, 1) << m.output;
  EXPECT_THAT(m.output, HasSubstr("metrics_listen: \\\"127.0.0.1\\\" is not "
                                  "host:port (no port)"));
}

// Every flag ledgerd defines (the main.cc section of --helpfull) is listed
// by --help.
TEST_F(LedgerdStartupTest, HelpListsEveryFlag) {
  ProcessRun full = RunLedgerd({"--helpfull"}, Path("full.log"));
  std::vector<std::string> flags;
  bool in_main = false;
  for (std::string_view line : Split(full.output, '\n')) {
    if (line.find("Flags from ") != std::string_view::npos) {
      in_main = line.find("src/server/main.cc") != std::string_view::npos;
      continue;
    }
    if (in_main && line.starts_with("    --")) {
      const size_t end = line.find_first_of(" (", 6);
      flags.emplace_back(line.substr(4, end - 4));
    }
  }
  ASSERT_GE(flags.size(), 15u) << full.output;
  ProcessRun help = RunLedgerd({"--help"}, Path("help.log"));
  EXPECT_THAT(help.output, Not(HasSubstr("No flags matched")));
  for (const std::string& f : flags) {
    EXPECT_THAT(help.output, HasSubstr("    " + f + " (")) << f;
  }
  EXPECT_THAT(help.output, HasSubstr("--listen (host:port to serve gRPC on"));
}

TEST_F(LedgerdStartupTest, VersionPrintsTheVersionAndTheCommit) {
  ProcessRun r = RunLedgerd({"--version"}, Path("v.log"));
  EXPECT_EQ(r.exit_code, 0);
  // Built from a git checkout: the commit is known.
  const bool in_git = std::filesystem::exists(PL_SOURCE_DIR "/.git");
  const std::string commit = in_git ? "[0-9a-f]{12}(-dirty)?" : "unknown";
  EXPECT_TRUE(std::regex_match(
      r.output, std::regex("ledgerd [0-9]+\\.[0-9]+\\.[0-9]+ \\(commit " +
                           commit + "\\)\n")))
      << r.output;
}

}  // namespace
}  // namespace partnerledger::server

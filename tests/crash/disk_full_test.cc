// A full data disk under a real ledgerd process: the disk is a small tmpfs
// that this test fills from outside the server. Appends must fail with
// UNAVAILABLE (never abort the process), health turns NOT_SERVING, reads go
// on, shutdown is clean; a start on the full disk exits 1 with a
// "startup failed" line (not a signal); once space is back, every
// acknowledged event is there.
//
// Mounting needs root (CAP_SYS_ADMIN); without it the test is skipped, and
// tests/server/storage_failure_test.cc still covers the failure path with an
// injected "no space" file system.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <future>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "crash/append_load.h"
#include "crash/ledgerd_process.h"
#include "gtest/gtest.h"
#include "health_check.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "test_support.h"

extern char** environ;

namespace partnerledger::crash {
namespace {

using ::partnerledger::testing::TempDir;
using std::chrono::milliseconds;

constexpr milliseconds kReadyTimeout{60'000};
constexpr milliseconds kShutdownTimeout{30'000};
constexpr milliseconds kRpcTimeout{20'000};
constexpr std::chrono::seconds kExitTimeout{60};
constexpr char kTmpfsSize[] = "size=8m";
// Appends of ~2 KiB: enough of them to fill the tmpfs many times over.
constexpr int kAppendsMax = 8000;
constexpr size_t kPitchBytes = 2000;

// Writes zeros to `path` until the file system refuses (ENOSPC). Returns
// the bytes written.
uint64_t FillDisk(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) return 0;
  const std::string chunk(4096, '\0');
  uint64_t written = 0;
  for (;;) {
    const ssize_t n = ::write(fd, chunk.data(), chunk.size());
    if (n <= 0) break;
    written += static_cast<uint64_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  return written;
}

// Runs ledgerd to its exit; returns the wait status (-1: could not spawn or
// it did not exit within kExitTimeout and was killed).
int RunToExit(const std::string& binary, const std::vector<std::string>& args,
              const std::string& log_file) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_file.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr,
                             argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  std::future<int> exited = std::async(std::launch::async, [pid] {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
  });
  if (exited.wait_for(kExitTimeout) != std::future_status::ready) {
    ::kill(pid, SIGKILL);
    exited.get();
    return -1;
  }
  return exited.get();
}

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> bin = FindLedgerd();
    ASSERT_TRUE(bin.ok()) << bin.status();
    binary_ = *bin;
    mount_point_ = dir_.path() + "/disk";
    ASSERT_EQ(::mkdir(mount_point_.c_str(), 0755), 0);
    if (::mount("tmpfs", mount_point_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                kTmpfsSize) != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs at " << mount_point_ << " ("
                   << std::strerror(errno)
                   << "; needs root): the injected no-space file system of "
                      "storage_failure_test covers the failure path";
    }
    mounted_ = true;
    flags_.data_dir = mount_point_ + "/data";
    flags_.port_file = dir_.path() + "/port";
    flags_.log_file = dir_.path() + "/ledgerd.log";
  }

  void TearDown() override {
    if (mounted_) ::umount2(mount_point_.c_str(), MNT_DETACH);
  }

  // One PartnerRegistered event of ~2 KiB on a new stream.
  grpc::Status Append(v1::EventStoreService::Stub* stub, int i, std::string* id,
                      uint64_t* position) {
    v1::AppendEventsRequest req;
    req.set_stream(absl::StrCat("partner-df", i));
    req.set_expected_state(v1::EXPECTED_STATE_NO_STREAM);
    v1::ProposedEvent* e = req.add_events();
    char uuid[40];
    std::snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012d", i);
    *id = uuid;
    e->set_event_id(*id);
    e->mutable_occurred_at()->set_seconds(1'767'225'600);
    v1::PartnerRegistered* p =
        e->mutable_payload()->mutable_partner_registered();
    p->set_legal_name("Acme BV");
    p->set_country("NL");
    p->set_pitch(std::string(kPitchBytes, 'p'));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + kRpcTimeout);
    v1::AppendEventsResponse resp;
    grpc::Status s = stub->AppendEvents(&ctx, req, &resp);
    if (s.ok()) *position = resp.commit_position();
    return s;
  }

  TempDir dir_{"pl-disk-full"};
  std::string binary_;
  std::string mount_point_;
  bool mounted_ = false;
  LedgerdFlags flags_;
};

TEST_F(DiskFullTest, AppendsFailUnavailableReadsGoOnStartOnFullDiskExitsOne) {
  absl::StatusOr<std::unique_ptr<LedgerdProcess>> server =
      LedgerdProcess::Start(binary_, flags_, kReadyTimeout);
  ASSERT_TRUE(server.ok()) << server.status();
  std::shared_ptr<grpc::Channel> channel = NewChannel((*server)->address());
  auto stub = v1::EventStoreService::NewStub(channel);
  ASSERT_EQ(partnerledger::testing::HealthStatus(channel), 1);

  std::vector<Ack> acked;
  int next = 1;
  for (; next <= 5; ++next) {
    Ack a;
    ASSERT_TRUE(Append(stub.get(), next, &a.event_id, &a.position).ok());
    acked.push_back(a);
  }

  // Another file takes every free byte.
  ASSERT_GT(FillDisk(mount_point_ + "/filler"), 0u);

  // RocksDB may have preallocated some WAL space: appends go on until it is
  // used up, then fail with UNAVAILABLE, never a crash.
  grpc::Status failed;
  for (; next <= kAppendsMax; ++next) {
    Ack a;
    grpc::Status s = Append(stub.get(), next, &a.event_id, &a.position);
    if (!s.ok()) {
      failed = s;
      break;
    }
    acked.push_back(a);
  }
  ASSERT_EQ(failed.error_code(), grpc::StatusCode::UNAVAILABLE)
      << failed.error_message() << "\n"
      << (*server)->LogTail();
  EXPECT_NE(failed.error_message().find("No space left on device"),
            std::string::npos)
      << failed.error_message();
  for (int i = 0; i < 3; ++i) {
    std::string id;
    uint64_t position = 0;
    EXPECT_EQ(Append(stub.get(), ++next, &id, &position).error_code(),
              grpc::StatusCode::UNAVAILABLE);
  }
  EXPECT_EQ(partnerledger::testing::HealthStatus(channel), 2);  // NOT_SERVING

  // Reads go on and show exactly what was acknowledged.
  absl::StatusOr<LogCheck> c =
      CheckLog((*server)->address(), acked, kRpcTimeout);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->lost, 0u);
  EXPECT_EQ(c->head, acked.size());

  const std::string log = ReadFileOrEmpty(flags_.log_file);
  EXPECT_NE(log.find("\"msg\":\"storage failed; appends refused"),
            std::string::npos)
      << log;
  // A clean shutdown: exit status 0, no abort.
  absl::Status stopped = (*server)->Terminate(kShutdownTimeout);
  ASSERT_TRUE(stopped.ok()) << stopped << "\n" << (*server)->LogTail();
  server->reset();

  // Starting on the full disk (the server's exit freed what it held).
  FillDisk(mount_point_ + "/filler");
  const int status =
      RunToExit(binary_,
                {"--listen=127.0.0.1:0", "--data_dir=" + flags_.data_dir,
                 "--backup_root="},
                flags_.log_file);
  ASSERT_TRUE(WIFEXITED(status)) << "wait status " << status << "\n"
                                 << ReadFileOrEmpty(flags_.log_file);
  EXPECT_EQ(WEXITSTATUS(status), 1);
  const std::string start_log = ReadFileOrEmpty(flags_.log_file);
  const size_t line = start_log.rfind("\"msg\":\"startup failed\"");
  ASSERT_NE(line, std::string::npos) << start_log;
  EXPECT_NE(start_log.find("No space left on device", line), std::string::npos)
      << start_log.substr(line);

  // Space is back: everything acknowledged is there and appends work.
  ASSERT_EQ(::unlink((mount_point_ + "/filler").c_str()), 0);
  server = LedgerdProcess::Start(binary_, flags_, kReadyTimeout);
  ASSERT_TRUE(server.ok()) << server.status();
  c = CheckLog((*server)->address(), acked, kRpcTimeout);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->lost, 0u);
  EXPECT_EQ(c->head, acked.size());
  stub = v1::EventStoreService::NewStub(NewChannel((*server)->address()));
  Ack after;
  EXPECT_TRUE(
      Append(stub.get(), next + 1, &after.event_id, &after.position).ok());
  EXPECT_EQ(after.position, acked.size() + 1);
  stopped = (*server)->Terminate(kShutdownTimeout);
  EXPECT_TRUE(stopped.ok()) << stopped << "\n" << (*server)->LogTail();
}

}  // namespace
}  // namespace partnerledger::crash

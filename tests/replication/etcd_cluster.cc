#include "replication/etcd_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "child_process.h"
#include "partnerledger/limits.h"
#include "replication/etcd_client.h"
#include "util/status_macros.h"

namespace partnerledger::testing {
namespace {

bool PortFree(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok =
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// A free loopback port: the kernel's choice, or the next free one from
// $PL_ETCD_PORT_BASE.
absl::StatusOr<int> FreePort() {
  // Test processes running at once start at different offsets.
  static int next_offset = static_cast<int>(::getpid() % 20) * 10;
  const char* base_env = std::getenv("PL_ETCD_PORT_BASE");
  int base = 0;
  if (base_env != nullptr && absl::SimpleAtoi(base_env, &base) && base > 0) {
    for (int tries = 0; tries < 200; ++tries) {
      const int port = base + (next_offset++ % 200);
      if (PortFree(port)) return port;
    }
    return absl::UnavailableError(
        absl::StrCat("no free port from PL_ETCD_PORT_BASE=", base));
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return absl::InternalError(absl::StrCat("bind: ", std::strerror(errno)));
  }
  ::close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

}  // namespace

absl::StatusOr<std::string> FindEtcd() {
  const char* env = std::getenv("PL_ETCD");
  std::string path = env != nullptr ? env : "/usr/bin/etcd";
  if (::access(path.c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(
        path, " is not an executable: install Debian's etcd-server"));
  }
  return path;
}

absl::StatusOr<std::unique_ptr<EtcdCluster>> EtcdCluster::Start(
    const std::string& dir, int members, absl::Duration ready_timeout,
    std::optional<EtcdClusterTls> tls, std::vector<std::string> extra_args) {
  absl::StatusOr<std::string> binary = FindEtcd();
  if (!binary.ok()) return binary.status();
  std::unique_ptr<EtcdCluster> c(new EtcdCluster());
  c->binary_ = *binary;
  c->tls_ = std::move(tls);
  c->extra_args_ = std::move(extra_args);
  std::vector<std::string> peers;
  for (int i = 0; i < members; ++i) {
    Member m;
    m.name = absl::StrCat("m", i);
    m.data_dir = absl::StrCat(dir, "/etcd-", m.name);
    m.log_file = absl::StrCat(dir, "/etcd-", m.name, ".log");
    absl::StatusOr<int> client = FreePort();
    if (!client.ok()) return client.status();
    m.client_port = *client;
    absl::StatusOr<int> peer = FreePort();
    if (!peer.ok()) return peer.status();
    m.peer_port = *peer;
    peers.push_back(absl::StrCat(m.name, "=http://127.0.0.1:", m.peer_port));
    c->members_.push_back(std::move(m));
  }
  c->initial_cluster_ = absl::StrJoin(peers, ",");
  for (int i = 0; i < members; ++i) {
    absl::Status s = c->Spawn(i);
    if (!s.ok()) return s;
  }
  absl::Status ready = c->WaitReady(ready_timeout);
  if (!ready.ok()) {
    std::string tails;
    for (int i = 0; i < members; ++i) {
      absl::StrAppend(&tails, "\n--- etcd ", c->members_[i].name, " ---\n",
                      c->LogTail(i));
    }
    return absl::UnavailableError(absl::StrCat(ready.message(), tails));
  }
  return c;
}

absl::Status EtcdCluster::Spawn(int i) {
  Member& m = members_[i];
  const std::string client_url = absl::StrCat(
      tls_.has_value() ? "https" : "http", "://127.0.0.1:", m.client_port);
  const std::string peer_url = absl::StrCat("http://127.0.0.1:", m.peer_port);
  std::vector<std::string> args = {
      binary_,
      "--name=" + m.name,
      "--data-dir=" + m.data_dir,
      "--listen-client-urls=" + client_url,
      "--advertise-client-urls=" + client_url,
      "--listen-peer-urls=" + peer_url,
      "--initial-advertise-peer-urls=" + peer_url,
      "--initial-cluster=" + initial_cluster_,
      "--initial-cluster-state=new",
      "--initial-cluster-token=pl-test",
      // A commit group is one transaction (limits.h).
      absl::StrCat("--max-request-bytes=", limits::kEtcdRequestBytesMax),
      // Loopback: elect a new etcd leader within a second of losing one.
      "--heartbeat-interval=50",
      "--election-timeout=500",
      "--logger=zap",
      "--log-level=warn",
  };
  if (tls_.has_value()) {
    args.push_back("--cert-file=" + tls_->cert_file);
    args.push_back("--key-file=" + tls_->key_file);
    args.push_back("--trusted-ca-file=" + tls_->ca_file);
    args.push_back("--client-cert-auth");
  }
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  ASSIGN_OR_RETURN(m.pid, child_process::Spawn(args, m.log_file));
  return absl::OkStatus();
}

absl::Status EtcdCluster::WaitReady(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (size_t i = 0; i < members_.size(); ++i) {
    replication::EtcdClientOptions options;
    options.endpoints = {endpoint(static_cast<int>(i))};
    options.call_timeout = absl::Milliseconds(500);
    if (tls_.has_value()) options.tls = tls_->client;
    auto client = replication::EtcdClient::Create(options);
    if (!client.ok()) return client.status();
    absl::Status last;
    while (true) {
      etcdserverpb::RangeRequest r;
      r.set_key("/pl-test-ready");
      last = (*client)->Range(r).status();
      if (last.ok()) break;
      if (absl::Now() >= deadline) {
        return absl::UnavailableError(
            absl::StrCat("etcd member ", members_[i].name,
                         " not serving in time: ", last.message()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return absl::OkStatus();
}

EtcdCluster::~EtcdCluster() {
  for (int i = 0; i < size(); ++i) Kill(i);
}

std::string EtcdCluster::endpoint(int i) const {
  return absl::StrCat("127.0.0.1:", members_[i].client_port);
}

std::vector<std::string> EtcdCluster::endpoints() const {
  std::vector<std::string> out;
  for (int i = 0; i < size(); ++i) out.push_back(endpoint(i));
  return out;
}

std::string EtcdCluster::endpoints_flag() const {
  return absl::StrJoin(endpoints(), ",");
}

void EtcdCluster::Kill(int i) {
  Member& m = members_[i];
  if (m.pid < 0) return;
  ::kill(m.pid, SIGKILL);
  int status = 0;
  ::waitpid(m.pid, &status, 0);
  m.pid = -1;
}

void EtcdCluster::Stop(int i) {
  const pid_t pid = members_[i].pid;
  if (pid <= 0) return;
  ::kill(pid, SIGSTOP);
  // Returns once the kernel shows every thread stopped: a signal is
  // delivered asynchronously, and a member still answering right after
  // "Stop" would make a test's outcome a race.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline) {
    bool all_stopped = true;
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator(
             absl::StrCat("/proc/", pid, "/task"), ec)) {
      const std::string stat =
          child_process::ReadFileOrEmpty(task.path().string() + "/stat");
      const size_t paren = stat.rfind(')');
      if (paren == std::string::npos || paren + 2 >= stat.size() ||
          stat[paren + 2] != 'T') {
        all_stopped = false;
        break;
      }
    }
    if (all_stopped && !ec) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void EtcdCluster::Continue(int i) {
  if (members_[i].pid > 0) ::kill(members_[i].pid, SIGCONT);
}

absl::Status EtcdCluster::Restart(int i) {
  Kill(i);
  return Spawn(i);
}

bool EtcdCluster::running(int i) const { return members_[i].pid > 0; }

std::string EtcdCluster::LogTail(int i, size_t max_bytes) const {
  return child_process::FileTail(members_[i].log_file, max_bytes);
}

}  // namespace partnerledger::testing

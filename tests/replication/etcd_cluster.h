// Debian's etcd (etcd-server) for tests: N members on loopback, each with a
// temporary data directory and free client and peer ports, as child
// processes that can be killed, stopped (SIGSTOP), continued and restarted.
//
// Ports: bound to port 0 and released (the kernel picks free ones), or,
// with PL_ETCD_PORT_BASE set, the first free ports from that number up.
//
// Thread safety: none; one test thread drives a cluster. Destroying it kills
// (SIGKILL) and reaps every member still running.
#ifndef PARTNERLEDGER_TESTS_REPLICATION_ETCD_CLUSTER_H_
#define PARTNERLEDGER_TESTS_REPLICATION_ETCD_CLUSTER_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "replication/etcd_client.h"

namespace partnerledger::testing {

// The etcd binary: $PL_ETCD, else /usr/bin/etcd. NOT_FOUND when missing
// (tests skip then, naming the package).
absl::StatusOr<std::string> FindEtcd();

// TLS on the members' client URLs (https): every member serves `cert_file`
// / `key_file` and requires a client certificate signed by `ca_file`
// (--client-cert-auth). The readiness check connects with `client`.
struct EtcdClusterTls {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  replication::EtcdTls client;
};

class EtcdCluster {
 public:
  // Starts `members` members (1 or 3, typically) under `dir` and returns
  // once every member answers a read through the quorum. UNAVAILABLE with
  // the members' log tails if that takes longer than `ready_timeout`.
  // `extra_args` are passed to every member (e.g. --quota-backend-bytes=N).
  static absl::StatusOr<std::unique_ptr<EtcdCluster>> Start(
      const std::string& dir, int members, absl::Duration ready_timeout,
      std::optional<EtcdClusterTls> tls = std::nullopt,
      std::vector<std::string> extra_args = {});
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  int size() const { return static_cast<int>(members_.size()); }
  // "127.0.0.1:<client port>" of member i, and of every member.
  std::string endpoint(int i) const;
  std::vector<std::string> endpoints() const;
  // "127.0.0.1:<client port>,..." as ledgerd's --etcd_endpoints takes it.
  std::string endpoints_flag() const;

  // SIGKILL and reap member i (no-op if it is not running).
  void Kill(int i);
  // SIGSTOP / SIGCONT member i.
  void Stop(int i);
  void Continue(int i);
  // Starts member i again on its data directory and ports.
  absl::Status Restart(int i);
  bool running(int i) const;

  std::string LogTail(int i, size_t max_bytes = 2048) const;

 private:
  struct Member {
    std::string name;
    std::string data_dir;
    std::string log_file;
    int client_port = 0;
    int peer_port = 0;
    pid_t pid = -1;
  };
  EtcdCluster() = default;
  absl::Status Spawn(int i);
  absl::Status WaitReady(absl::Duration timeout);

  std::string binary_;
  std::optional<EtcdClusterTls> tls_;
  std::string initial_cluster_;
  std::vector<std::string> extra_args_;
  std::vector<Member> members_;
};

}  // namespace partnerledger::testing

#endif  // PARTNERLEDGER_TESTS_REPLICATION_ETCD_CLUSTER_H_

// A replicated cluster for process-level tests: 3 Debian etcd members and 3
// ledgerd nodes (--replication=etcd) on loopback, in a test's temporary
// directory. A killed node restarts on its data directory (on a new port).
#ifndef PARTNERLEDGER_TESTS_REPLICATION_LEDGER_CLUSTER_H_
#define PARTNERLEDGER_TESTS_REPLICATION_LEDGER_CLUSTER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "crash/ledgerd_process.h"
#include "replication/etcd_client.h"
#include "replication/etcd_cluster.h"

namespace partnerledger::testing {

struct LedgerClusterOptions {
  // --etcd_prefix of every node.
  std::string etcd_prefix = "/partnerledger/test";
  // --etcd_lease_ttl_s of every node: how soon a lost leader is replaced.
  int lease_ttl_seconds = 2;
  // Each node backs up under BackupRoot(i); false: --backup_root= (none).
  bool backups = false;
  // Passed to every node after the flags above.
  std::vector<std::string> node_flags;
};

class LedgerCluster {
 public:
  static constexpr int kNodes = 3;

  LedgerCluster(std::string dir, LedgerClusterOptions options);

  // Starts the etcd members, then the nodes.
  absl::Status Start();
  // (Re)starts node i on its data directory.
  absl::Status StartNode(int i);
  void KillNode(int i);

  // Addresses of the running nodes ("" for a killed one).
  std::vector<std::string> addresses() const;
  std::string address(int i) const { return addresses()[i]; }
  pid_t pid(int i) const;
  // The node whose address the leader key holds, once one does (-1 after
  // `timeout`), other than `other_than`.
  int WaitForLeader(absl::Duration timeout, int other_than = -1);
  // The metrics port node i logged at its last start (0 if none).
  int MetricsPort(int i) const;

  std::string BackupRoot(int i) const;
  std::string DataDir(int i) const;
  std::string NodeLog(int i) const;
  // The last `bytes_max` bytes of every node's log, each under a header
  // line, for a failed test's output.
  std::string NodeLogTails(size_t bytes_max) const;
  EtcdCluster& etcd() { return *etcd_; }
  const std::string& dir() const { return dir_; }
  const LedgerClusterOptions& options() const { return options_; }

 private:
  const std::string dir_;
  const LedgerClusterOptions options_;
  std::string ledgerd_;
  std::unique_ptr<EtcdCluster> etcd_;
  std::unique_ptr<replication::EtcdClient> etcd_client_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<crash::LedgerdProcess>> nodes_
      ABSL_GUARDED_BY(mu_);
};

// The nodes' common head once every running node answers GetDigest with
// the same position and hash (they converge after the load stops);
// DEADLINE_EXCEEDED naming what each node said after `timeout`.
absl::StatusOr<uint64_t> WaitForConvergence(LedgerCluster& cluster,
                                            absl::Duration timeout);

}  // namespace partnerledger::testing

#endif  // PARTNERLEDGER_TESTS_REPLICATION_LEDGER_CLUSTER_H_

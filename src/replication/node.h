// A ledger node in a replicated cluster: runs the election on etcd, follows
// the commit log while another node leads, and leads when it wins.
//
// One thread. While following: applies every group of <prefix>/log/ after
// the ledger's head (a Range, then a watch from the Range's revision) and
// campaigns whenever <prefix>/leader is absent. Campaigning is one
// transaction: create <prefix>/leader (value: the advertise address) under
// this node's lease if it does not exist. On winning it catches up to the
// log's head, fences the commit log on its term (EtcdCommitLog::BeginTerm)
// and only then calls Ledger::SetLeader. On losing its lease (a keepalive
// answered "not found", or none succeeded for a TTL), on a refused group, or
// when the ledger stopped leading by itself, it ends the term
// (Ledger::SetFollower at once, then EtcdCommitLog::EndTerm) and follows
// again. The lease also carries <prefix>/nodes/<node name> (NodeState).
//
// Retention (leader only, every NodeOptions::retention_interval, on this
// thread, never on the append path): the leader deletes the log groups that
// lie wholly at or below min(applied position of every live node, i.e.
// every <prefix>/nodes/ key, its own included; head - retain_positions),
// always keeping the group holding the position after that bound (or the
// last group), fenced on its election; then compacts etcd at the revision
// of the delete. A node that is down has no key (its lease expired) and
// does not hold retention back: if it comes back needing a deleted group it
// refuses to start, naming the position (restore a backup, then start).
//
// Thread safety: status() may be called from any thread.
#ifndef PARTNERLEDGER_REPLICATION_NODE_H_
#define PARTNERLEDGER_REPLICATION_NODE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "partnerledger/ledger.h"
#include "partnerledger/limits.h"
#include "replication/etcd_client.h"
#include "replication/etcd_commit_log.h"

namespace partnerledger::replication {

struct NodeOptions {
  // Names this node's key under <prefix>/nodes/.
  std::string node_name;
  // host:port clients reach this node's gRPC service at; the leader's is
  // sent to clients with a refused append.
  std::string advertise;
  // The lease of the leader key and the node key. A leader that stops
  // renewing (killed, stopped, cut off) loses leadership after this.
  int64_t lease_ttl_seconds = 5;
  // A follower's watch is re-established this often (and the log re-read),
  // so a silent etcd member delays it at most this long.
  absl::Duration watch_period = absl::Seconds(1);
  // Retention (above): how often the leader runs it (absl::InfiniteDuration:
  // never), and how many positions behind the head it always keeps, so a
  // node that restarts within them catches up from etcd without a restore.
  absl::Duration retention_interval =
      absl::Milliseconds(limits::kEtcdRetentionIntervalMsDefault);
  uint64_t retain_positions = limits::kEtcdRetainPositionsDefault;
  // Called once, on the node's thread, when the node can no longer follow
  // the log of record while running: a group it needs is gone from etcd
  // (FAILED_PRECONDITION naming the position) or the log does not apply to
  // this node's (DATA_LOSS: a fork, an undecodable group). The loop stops
  // then; a node in that state must not answer reads (ledgerd exits 1). At
  // Start the same conditions are Start's error instead.
  std::function<void(const absl::Status&)> on_refused;
};

struct NodeStatus {
  bool leader = false;
  uint64_t applied_position = 0;
  // The log's head in etcd as last seen (lag = log_head - applied).
  uint64_t log_head_position = 0;
  std::string leader_address;
  absl::Duration etcd_round_trip = absl::ZeroDuration();
  uint64_t terms_led = 0;
  // As of this node's last retention pass while leading (0: none yet): the
  // first position etcd's log holds (positions before it need a backup),
  // the revision etcd was compacted at, and the log groups deleted so far.
  uint64_t log_first_position = 0;
  int64_t compacted_revision = 0;
  uint64_t groups_deleted = 0;
  // The last error of the loop (empty once a step succeeds).
  std::string error;
};

class ReplicationNode {
 public:
  // Catches up from etcd (every group after the ledger's head), then starts
  // the loop. FAILED_PRECONDITION naming the position if etcd no longer
  // holds a group this node needs (restore a backup that reaches it);
  // DATA_LOSS if a group does not apply. If etcd does not answer, the loop
  // starts anyway and keeps trying. `client`, `log` and `ledger` must outlive
  // the node; `ledger` must have been opened with `log` as its commit log.
  static absl::StatusOr<std::unique_ptr<ReplicationNode>> Start(
      EtcdClient* client, EtcdCommitLog* log, Ledger* ledger, LogKeys keys,
      NodeOptions options);
  // Stop().
  ~ReplicationNode();
  ReplicationNode(const ReplicationNode&) = delete;
  ReplicationNode& operator=(const ReplicationNode&) = delete;

  // Stops the loop, steps down and revokes the lease (another node takes
  // over at once rather than after the TTL). Idempotent.
  void Stop();

  NodeStatus status() const;

 private:
  ReplicationNode(EtcdClient* client, EtcdCommitLog* log, Ledger* ledger,
                  LogKeys keys, NodeOptions options);
  void Run();
  absl::Status Step();
  // Applies every group in etcd after the ledger's head; returns the
  // revision the log was read at.
  absl::StatusOr<int64_t> CatchUp();
  // Whether a failed step is final (see NodeOptions::on_refused).
  static bool Refused(const absl::Status& step, bool from_catch_up);
  absl::Status ApplyGroup(const std::string& key, const std::string& value);
  absl::Status EnsureLease();
  absl::Status KeepAliveIfDue();
  // Tries to become leader; true if this node now leads.
  absl::StatusOr<bool> Campaign();
  absl::Status Lead(int64_t leader_revision);
  void StepDown(const std::string& why);
  absl::Status Follow(int64_t from_revision);
  absl::Status PublishNodeState();
  // One retention pass (leading only).
  absl::Status Retain();
  // The bound retention may delete up to: min(applied of every live node,
  // the head - retain_positions).
  absl::StatusOr<uint64_t> RetentionBound();
  bool Sleep(absl::Duration d);  // false once stopping

  EtcdClient* const client_;
  EtcdCommitLog* const log_;
  Ledger* const ledger_;
  const LogKeys keys_;
  const NodeOptions options_;

  // Loop thread only.
  int64_t lease_id_ = 0;
  absl::Time lease_valid_until_ = absl::InfinitePast();
  absl::Time next_keepalive_ = absl::InfinitePast();
  int64_t leader_revision_ = 0;  // 0: not leading
  absl::Time next_publish_ = absl::InfinitePast();
  absl::Time next_retention_ = absl::InfiniteFuture();

  std::atomic<bool> fenced_{false};
  // Node thread: the last step failed in CatchUp.
  bool catch_up_failed_ = false;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  NodeStatus status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace partnerledger::replication

#endif  // PARTNERLEDGER_REPLICATION_NODE_H_

// The commit log of record in etcd: a leader's commit group is durable once
// one etcd transaction (a quorum of members fsynced) holds it.
//
// Keys under the prefix (e.g. /partnerledger/main):
//   <prefix>/log/<first position, 8 bytes big-endian>  LogGroup
//   <prefix>/head                                      LogHead
//   <prefix>/leader     the elected node's advertise address, under its lease
//   <prefix>/nodes/<n>  NodeState of node n, under its lease
//
// Fencing. Each group is written as
//   if   mod_revision(<prefix>/head)    == the revision this leader last wrote
//                                          (0: the head is absent, a new log)
//   and  create_revision(<prefix>/leader) == the revision this leader's
//                                          election created it at
//   then put <prefix>/log/<first> and <prefix>/head
//   else read <prefix>/head
// so a node that lost its lease (its leader key is gone, or another node's
// took its place) or that another leader overtook cannot write: the compare
// fails and Append returns UNAVAILABLE. A compare that fails because this
// leader's own earlier attempt of the same group did commit (the answer was
// lost and the client retried) is recognised by the head's position and hash
// and is OK.
//
// Thread safety: Append runs on the ledger's committer thread; BeginTerm,
// EndTerm and the accessors may be called from any thread.
#ifndef PARTNERLEDGER_REPLICATION_ETCD_COMMIT_LOG_H_
#define PARTNERLEDGER_REPLICATION_ETCD_COMMIT_LOG_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "partnerledger/replication.h"
#include "partnerledger/replication/v1/log.pb.h"
#include "replication/etcd_client.h"

namespace partnerledger::replication {

// The keys of a log under `prefix` (no trailing slash).
struct LogKeys {
  explicit LogKeys(std::string prefix);
  std::string prefix;
  std::string head;
  std::string leader;
  std::string log_prefix;    // "<prefix>/log/"
  std::string nodes_prefix;  // "<prefix>/nodes/"
  std::string Log(uint64_t first_position) const;
  std::string Node(const std::string& name) const;
  // The first position of a log key; INVALID_ARGUMENT if `key` is not one.
  absl::StatusOr<uint64_t> PositionOf(const std::string& key) const;
};

// The head as stored, with the revision it was last written at (both zero
// and empty when the log is new).
struct HeadState {
  uint64_t last_position = 0;
  std::string last_hash;
  int64_t mod_revision = 0;
  std::string leader;
};

// Reads <prefix>/head. DATA_LOSS if it does not parse.
absl::StatusOr<HeadState> ReadHead(EtcdClient& client, const LogKeys& keys);

// Decodes a log key's value. DATA_LOSS naming the key if it does not parse
// or names other positions than its key.
absl::StatusOr<ReplicatedGroup> DecodeGroup(const LogKeys& keys,
                                            const std::string& key,
                                            const std::string& value);

class EtcdCommitLog final : public CommitLog {
 public:
  EtcdCommitLog(EtcdClient* client, LogKeys keys, std::string node_name);

  // From now on Append writes fenced on this term: the leader key as created
  // by this node's election, and the head as it is now (every group in the
  // log applied locally).
  void BeginTerm(int64_t leader_create_revision, const HeadState& head);
  // Append fails UNAVAILABLE until the next BeginTerm.
  void EndTerm();

  // CommitLog. Errors:
  //   UNAVAILABLE: no term; the compare failed (another leader, or this
  //     node's lease expired: the term ends); etcd did not answer (the
  //     group may or may not be in the log: the node catches up from the log
  //     before it leads again). The ledger stops leading.
  //   FAILED_PRECONDITION: the group does not continue the head. The ledger
  //     stops leading.
  //   RESOURCE_EXHAUSTED: etcd's NOSPACE alarm is raised, or the record
  //     exceeds limits::kEtcdRequestBytesMax. The group is not in the log
  //     and the term goes on (the ledger keeps leading).
  absl::Status Append(const ReplicatedGroup& group) override;

  // Called (on the committer thread) when a compare failed: another node
  // leads or this node's election is gone. Set before the ledger starts.
  void set_on_fenced(std::function<void(const std::string& why)> f) {
    on_fenced_ = std::move(f);
  }

  // The head revision this leader last wrote (0 without a term).
  int64_t head_revision() const;
  uint64_t groups_appended() const;

 private:
  // A NOSPACE answer to the group's transaction: OK if etcd applied it
  // anyway (the write that crossed the quota), RESOURCE_EXHAUSTED if the
  // head is where this leader left it, UNAVAILABLE otherwise.
  absl::Status NoSpace(const ReplicatedGroup& group, int64_t head_revision,
                       const absl::Status& why);

  EtcdClient* const client_;
  const LogKeys keys_;
  const std::string node_name_;
  std::function<void(const std::string&)> on_fenced_;

  mutable absl::Mutex mu_;
  bool in_term_ ABSL_GUARDED_BY(mu_) = false;
  int64_t leader_revision_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t head_revision_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t last_position_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t groups_appended_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace partnerledger::replication

#endif  // PARTNERLEDGER_REPLICATION_ETCD_COMMIT_LOG_H_

// Replication: the ledger's side of a commit log of record (DESIGN: a
// replicated commit log on etcd).
//
// Without a CommitLog (Options::commit_log == nullptr) the ledger is a
// single embedded node, its local store the log of record, and it leads
// from the start. With one, every commit group the writer decides becomes
// durable in the log of record (CommitLog::Append) before the local store
// writes it and before any request of it is acknowledged; the node starts
// as a follower and only decides groups after Ledger::SetLeader.
//
// A follower (or a leader catching up before it leads) takes groups from
// the log of record in position order and hands each to
// Ledger::ApplyReplicated, which checks them and writes them to the local
// store byte for byte: every node holds the same positions, hash chain,
// indexes, projections and Merkle tree.
//
// Roles (Ledger::SetFollower, Ledger::SetLeader) are set by whatever runs
// the election; the ledger itself never decides it leads.
#ifndef PARTNERLEDGER_REPLICATION_H_
#define PARTNERLEDGER_REPLICATION_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace partnerledger {

// One commit group as the log of record holds it: the store's write batch
// for the group, byte for byte, and the positions and head hash it ends at.
// Only groups that write events exist (a group of replays and rejections
// writes nothing and is never appended).
struct ReplicatedGroup {
  uint64_t first_position = 0;  // the group's first event position
  uint64_t last_position = 0;   // the head after the group
  std::string last_hash;        // the head's hash after the group (32 bytes)
  // The exact write-batch bytes the store commits (rocksdb::WriteBatch
  // representation): events, indexes, projection changes, Merkle nodes and
  // the head.
  std::string batch;
};

// Where a leader's commit group becomes durable of record before the local
// store writes it. Implementations: an etcd transaction fenced on the
// leader's last write (src/replication/); tests use an in-memory vector.
// Called from one thread (the ledger's committer); must outlive the Ledger.
class CommitLog {
 public:
  virtual ~CommitLog() = default;
  // Committer thread, once per group that writes, in position order. OK
  // only once the log of record holds the group durably (for etcd: a quorum
  // fsynced). Any error: the group and every group decided on top of it
  // fail UNAVAILABLE, and the error's message is passed on to the clients.
  // RESOURCE_EXHAUSTED means the log certainly does not hold the group and
  // this node still leads (the log is full, or the group too large): the
  // ledger reloads its writer's state and goes on leading. Any other error:
  // the ledger becomes a follower with no known leader (it is no longer
  // known to be the leader) until SetLeader is called again.
  virtual absl::Status Append(const ReplicatedGroup& group) = 0;
};

// An append refused because this node does not lead carries the leader's
// address (host:port as advertised; empty if unknown) under this payload
// URL; the gRPC server sends it as the trailer kLeaderTrailer.
inline constexpr char kLeaderAddressPayload[] = "partnerledger/leader-address";
inline constexpr char kLeaderTrailer[] = "x-leader";

}  // namespace partnerledger

#endif  // PARTNERLEDGER_REPLICATION_H_

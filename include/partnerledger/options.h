// Options of a Ledger.
#ifndef PARTNERLEDGER_OPTIONS_H_
#define PARTNERLEDGER_OPTIONS_H_

#include <cstddef>
#include <string>

#include "partnerledger/clock.h"
#include "partnerledger/limits.h"

namespace rocksdb {
class Env;
}

namespace partnerledger {

class CommitLog;  // partnerledger/replication.h

struct Options {
  // Directory of the RocksDB data. Created if missing.
  std::string data_dir;

  // Source of recorded_at. Not owned; must outlive the Ledger.
  Clock* clock = SystemClock();

  // File system and threads for RocksDB. Not owned; nullptr means the
  // default. Tests inject one that simulates power loss.
  rocksdb::Env* env = nullptr;

  // fsync every commit before acknowledging. Turning it off breaks the
  // durability contract; only the power-loss negative control and explicit
  // unsafe benchmarks do.
  bool sync = true;

  // Appends waiting for the writer; beyond it RESOURCE_EXHAUSTED.
  size_t writer_queue_max = limits::kWriterQueueMax;

  // Maintain the Merkle tree over the log in every commit (proofs and
  // checkpoints need it). Off only to measure its cost: a ledger opened
  // with it on again first completes the tree from the log.
  bool merkle_tree = true;

  // The principal recorded as actor until authentication supplies one.
  std::string default_actor = "local";

  // The log of record every commit group goes to before the local store
  // (partnerledger/replication.h). nullptr: a single embedded node, the
  // local store is the log of record and the ledger leads from the start.
  // Otherwise the ledger starts as a follower and decides appends only
  // after Ledger::SetLeader. Not owned; must outlive the Ledger.
  CommitLog* commit_log = nullptr;

  // With a commit log: the writer closes a commit group before its record
  // (estimated from above, limits::kCommitLogPayloadCopies) would pass this,
  // so every group fits one etcd transaction; an append that alone would
  // pass it is refused INVALID_ARGUMENT. 0: limits::kCommitGroupLogBytesMax
  // (which every valid append fits). Lower only to match etcd members with a
  // smaller --max-request-bytes.
  size_t commit_group_log_bytes_max = 0;
};

}  // namespace partnerledger

#endif  // PARTNERLEDGER_OPTIONS_H_

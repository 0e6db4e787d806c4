#include "replication/node.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "partnerledger/replication/v1/log.pb.h"
#include "util/log.h"
#include "util/status_macros.h"

namespace partnerledger::replication {
namespace {

// Groups per Range while catching up: bounds one answer's size.
constexpr int64_t kCatchUpPageGroups = 64;
// Snapshots one catch-up may start over with after a compaction.
constexpr int kCatchUpSnapshotsMax = 8;

}  // namespace

ReplicationNode::ReplicationNode(EtcdClient* client, EtcdCommitLog* log,
                                 Ledger* ledger, LogKeys keys,
                                 NodeOptions options)
    : client_(client),
      log_(log),
      ledger_(ledger),
      keys_(std::move(keys)),
      options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<ReplicationNode>> ReplicationNode::Start(
    EtcdClient* client, EtcdCommitLog* log, Ledger* ledger, LogKeys keys,
    NodeOptions options) {
  if (options.node_name.empty() ||
      options.node_name.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(
        "node_name: required, and may not contain '/'");
  }
  if (options.advertise.empty()) {
    return absl::InvalidArgumentError("advertise: required (host:port)");
  }
  if (options.lease_ttl_seconds < 2) {
    return absl::InvalidArgumentError("lease_ttl_seconds: at least 2");
  }
  std::unique_ptr<ReplicationNode> node(new ReplicationNode(
      client, log, ledger, std::move(keys), std::move(options)));
  ReplicationNode* raw = node.get();
  log->set_on_fenced([raw](const std::string&) { raw->fenced_ = true; });
  ledger->SetFollower("");
  // Hold retention back at this node's position before catching up (best
  // effort: without etcd the loop does it later).
  if (node->EnsureLease().ok()) (void)node->PublishNodeState();
  absl::StatusOr<int64_t> caught_up = node->CatchUp();
  if (!caught_up.ok()) {
    const absl::StatusCode code = caught_up.status().code();
    // A missing or unreadable group is final; etcd not answering is not
    // (the loop retries, and the node serves reads meanwhile).
    if (code != absl::StatusCode::kUnavailable &&
        code != absl::StatusCode::kDeadlineExceeded) {
      return caught_up.status();
    }
    Log(LogLevel::kWarn, "replication: etcd not reachable at start",
        {{"error", caught_up.status().ToString()}});
  }
  node->thread_ = std::thread([raw] { raw->Run(); });
  return node;
}

ReplicationNode::~ReplicationNode() { Stop(); }

void ReplicationNode::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  if (leader_revision_ != 0) StepDown("shutting down");
  if (lease_id_ != 0) {
    absl::Status s = client_->LeaseRevoke(lease_id_);
    if (!s.ok()) {
      Log(LogLevel::kWarn, "replication: lease not revoked",
          {{"error", s.ToString()}});
    }
    lease_id_ = 0;
  }
}

NodeStatus ReplicationNode::status() const {
  absl::MutexLock lock(&mu_);
  NodeStatus s = status_;
  s.applied_position = ledger_->head_position();
  // The leader writes the log's head: it is what the leader applied.
  if (s.leader) s.log_head_position = s.applied_position;
  s.etcd_round_trip = client_->last_round_trip();
  return s;
}

bool ReplicationNode::Sleep(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  auto stopping = [this]()
                      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
  mu_.AwaitWithTimeout(absl::Condition(&stopping), d);
  return !stopping_;
}

void ReplicationNode::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    catch_up_failed_ = false;
    absl::Status s = Step();
    if (!s.ok() && Refused(s, catch_up_failed_)) {
      Log(LogLevel::kError, "replication: this node cannot follow the log",
          {{"error", s.ToString()}});
      {
        absl::MutexLock lock(&mu_);
        status_.error = s.ToString();
      }
      if (leader_revision_ != 0) StepDown(std::string(s.message()));
      if (options_.on_refused) options_.on_refused(s);
      return;
    }
    if (!s.ok()) {
      {
        absl::MutexLock lock(&mu_);
        if (status_.error != s.ToString()) {
          Log(LogLevel::kWarn, "replication step failed",
              {{"error", s.ToString()}});
        }
        status_.error = s.ToString();
      }
      if (!Sleep(absl::Milliseconds(200))) return;
    } else {
      absl::MutexLock lock(&mu_);
      status_.error.clear();
    }
  }
}

bool ReplicationNode::Refused(const absl::Status& step, bool from_catch_up) {
  // A group gone from etcd shows as FAILED_PRECONDITION from CatchUp only
  // (while following, a gap re-reads the log through CatchUp).
  return step.code() == absl::StatusCode::kDataLoss ||
         (from_catch_up &&
          step.code() == absl::StatusCode::kFailedPrecondition);
}

absl::Status ReplicationNode::Step() {
  absl::Status lease = EnsureLease();
  if (!lease.ok()) {
    if (leader_revision_ != 0) StepDown(std::string(lease.message()));
    return lease;
  }
  if (leader_revision_ != 0) {
    if (fenced_.exchange(false)) {
      StepDown("the commit log refused a group");
      return absl::OkStatus();
    }
    if (!ledger_->role().leader) {
      StepDown(
          absl::StrCat("the ledger stopped leading: ", ledger_->role().error));
      return absl::OkStatus();
    }
    // Before publishing: at etcd's NOSPACE alarm a put fails, a delete
    // and a compaction do not.
    if (absl::Now() >= next_retention_) {
      next_retention_ = absl::Now() + options_.retention_interval;
      RETURN_IF_ERROR(Retain());
    }
    if (absl::Now() >= next_publish_) {
      RETURN_IF_ERROR(PublishNodeState());
    }
    Sleep(absl::Milliseconds(100));
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> revision = CatchUp();
  if (!revision.ok()) {
    catch_up_failed_ = true;
    return revision.status();
  }
  ASSIGN_OR_RETURN(const bool won, Campaign());
  if (won) return absl::OkStatus();
  if (absl::Now() >= next_publish_) {
    RETURN_IF_ERROR(PublishNodeState());
  }
  return Follow(*revision + 1);
}

absl::Status ReplicationNode::EnsureLease() {
  if (lease_id_ != 0) {
    absl::Status s = KeepAliveIfDue();
    if (s.ok()) return s;
    if (s.code() != absl::StatusCode::kNotFound &&
        absl::Now() < lease_valid_until_) {
      return absl::OkStatus();  // retried at the next step
    }
    // Expired (or not renewed for a whole TTL): whatever it held is gone.
    Log(LogLevel::kWarn, "replication: lease lost", {{"error", s.ToString()}});
    if (leader_revision_ != 0) StepDown("lease lost");
    lease_id_ = 0;
  }
  int64_t ttl = 0;
  const absl::Time asked = absl::Now();
  ASSIGN_OR_RETURN(lease_id_,
                   client_->LeaseGrant(options_.lease_ttl_seconds, &ttl));
  lease_valid_until_ = asked + absl::Seconds(ttl);
  next_keepalive_ = asked + absl::Seconds(ttl) / 3;
  next_publish_ = absl::InfinitePast();
  return absl::OkStatus();
}

absl::Status ReplicationNode::KeepAliveIfDue() {
  const absl::Time now = absl::Now();
  if (now < next_keepalive_) return absl::OkStatus();
  ASSIGN_OR_RETURN(const int64_t ttl, client_->LeaseKeepAliveOnce(lease_id_));
  lease_valid_until_ = now + absl::Seconds(ttl);
  next_keepalive_ = now + absl::Seconds(ttl) / 3;
  return absl::OkStatus();
}

absl::Status ReplicationNode::ApplyGroup(const std::string& key,
                                         const std::string& value) {
  ASSIGN_OR_RETURN(const ReplicatedGroup group, DecodeGroup(keys_, key, value));
  {
    absl::MutexLock lock(&mu_);
    status_.log_head_position =
        std::max(status_.log_head_position, group.last_position);
  }
  return ledger_->ApplyReplicated(group);
}

absl::StatusOr<int64_t> ReplicationNode::CatchUp() {
  int64_t revision = 0;
  int snapshots = 0;
  while (true) {
    // A long catch-up keeps this node's key (and so its position, holding
    // retention back) alive.
    if (lease_id_ != 0) (void)KeepAliveIfDue();
    const uint64_t applied = ledger_->head_position();
    etcdserverpb::RangeRequest r;
    r.set_range_end(PrefixEnd(keys_.log_prefix));
    r.set_limit(kCatchUpPageGroups);
    r.set_sort_order(etcdserverpb::RangeRequest::ASCEND);
    r.set_sort_target(etcdserverpb::RangeRequest::KEY);
    // Groups that start after the head, and the one holding the head: a
    // group starting at or before it is applied already.
    r.set_key(keys_.Log(applied + 1));
    if (revision != 0) r.set_revision(revision);  // one snapshot
    absl::StatusOr<etcdserverpb::RangeResponse> got = client_->Range(r);
    if (!got.ok() && got.status().code() == absl::StatusCode::kOutOfRange &&
        revision != 0 && snapshots < kCatchUpSnapshotsMax) {
      // Retention compacted the snapshot away: read on from a new one.
      revision = 0;
      ++snapshots;
      continue;
    }
    if (!got.ok()) return got.status();
    if (revision == 0) revision = got->header().revision();
    if (got->kvs_size() == 0) break;
    for (const mvccpb::KeyValue& kv : got->kvs()) {
      absl::StatusOr<uint64_t> first = keys_.PositionOf(kv.key());
      if (!first.ok()) return absl::DataLossError(first.status().message());
      const uint64_t head = ledger_->head_position();
      if (*first > head + 1) {
        return absl::FailedPreconditionError(
            absl::StrCat("etcd no longer holds the commit group at position ",
                         head + 1, " (its log starts at ", *first,
                         "): restore a backup that reaches position ",
                         *first - 1, " into this node's data directory"));
      }
      RETURN_IF_ERROR(ApplyGroup(kv.key(), kv.value()));
    }
    if (!got->more()) break;
  }
  ASSIGN_OR_RETURN(const HeadState head, ReadHead(*client_, keys_));
  {
    absl::MutexLock lock(&mu_);
    status_.log_head_position = head.last_position;
  }
  // A head beyond the snapshot read above was written since: the watch
  // from `revision` brings it.
  return revision;
}

absl::StatusOr<bool> ReplicationNode::Campaign() {
  etcdserverpb::TxnRequest txn;
  etcdserverpb::Compare* absent = txn.add_compare();
  absent->set_key(keys_.leader);
  absent->set_target(etcdserverpb::Compare::CREATE);
  absent->set_result(etcdserverpb::Compare::EQUAL);
  absent->set_create_revision(0);
  etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(keys_.leader);
  put->set_value(options_.advertise);
  put->set_lease(lease_id_);
  txn.add_failure()->mutable_request_range()->set_key(keys_.leader);
  absl::StatusOr<etcdserverpb::TxnResponse> done = client_->Txn(txn);
  if (!done.ok()) return done.status();
  if (!done->succeeded()) {
    const auto& range = done->responses(0).response_range();
    std::string leader = range.kvs_size() == 1 ? range.kvs(0).value() : "";
    if (range.kvs_size() == 1 && range.kvs(0).lease() == lease_id_) {
      // Our own key from an attempt whose answer was lost.
      RETURN_IF_ERROR(Lead(range.kvs(0).create_revision()));
      return true;
    }
    bool changed;
    {
      absl::MutexLock lock(&mu_);
      changed = status_.leader_address != leader;
      status_.leader_address = leader;
    }
    if (changed) ledger_->SetFollower(leader);
    return false;
  }
  RETURN_IF_ERROR(Lead(done->header().revision()));
  return true;
}

absl::Status ReplicationNode::Lead(int64_t leader_revision) {
  leader_revision_ = leader_revision;
  // Nobody else can write the log now (every write compares the leader
  // key's creation), so the head read here is final: apply up to it.
  absl::StatusOr<HeadState> head;
  for (int round = 0; round < 3; ++round) {
    absl::StatusOr<int64_t> caught_up = CatchUp();
    if (!caught_up.ok()) {
      StepDown(
          absl::StrCat("catching up failed: ", caught_up.status().message()));
      return caught_up.status();
    }
    head = ReadHead(*client_, keys_);
    if (!head.ok()) {
      StepDown("reading the head failed");
      return head.status();
    }
    if (head->last_position == ledger_->head_position()) break;
  }
  if (head->last_position != ledger_->head_position()) {
    StepDown("could not catch up");
    return absl::UnavailableError(absl::StrCat(
        "elected, but the log's head ", head->last_position,
        " is beyond what this node applied: ", ledger_->head_position()));
  }
  log_->BeginTerm(leader_revision, *head);
  fenced_ = false;
  absl::Status s = ledger_->SetLeader();
  if (!s.ok()) {
    StepDown(absl::StrCat("the ledger refused to lead: ", s.message()));
    return s;
  }
  {
    absl::MutexLock lock(&mu_);
    status_.leader = true;
    status_.leader_address = options_.advertise;
    ++status_.terms_led;
  }
  Log(LogLevel::kInfo, "replication: leading",
      {{"node", options_.node_name},
       {"position", static_cast<unsigned long long>(head->last_position)},
       {"leader_revision", static_cast<long long>(leader_revision)}});
  next_publish_ = absl::InfinitePast();
  next_retention_ = absl::Now() + options_.retention_interval;
  return absl::OkStatus();
}

void ReplicationNode::StepDown(const std::string& why) {
  // Appends stop at once; groups already decided are refused by etcd.
  ledger_->SetFollower("");
  log_->EndTerm();
  const int64_t revision = leader_revision_;
  leader_revision_ = 0;
  next_retention_ = absl::InfiniteFuture();
  {
    absl::MutexLock lock(&mu_);
    status_.leader = false;
    status_.leader_address.clear();
  }
  Log(LogLevel::kWarn, "replication: stepped down",
      {{"node", options_.node_name}, {"why", why}});
  if (revision == 0) return;
  // Give the leadership up now rather than at the lease's end, if it is
  // still ours.
  etcdserverpb::TxnRequest txn;
  etcdserverpb::Compare* ours = txn.add_compare();
  ours->set_key(keys_.leader);
  ours->set_target(etcdserverpb::Compare::CREATE);
  ours->set_result(etcdserverpb::Compare::EQUAL);
  ours->set_create_revision(revision);
  txn.add_success()->mutable_request_delete_range()->set_key(keys_.leader);
  absl::Status s = client_->Txn(txn).status();
  if (!s.ok()) {
    Log(LogLevel::kWarn, "replication: leader key not released",
        {{"error", s.ToString()}});
  }
}

absl::Status ReplicationNode::Follow(int64_t from_revision) {
  // Back in time for the next keepalive.
  const absl::Time now = absl::Now();
  const absl::Time until =
      std::max(now + absl::Milliseconds(50),
               std::min(now + options_.watch_period, next_keepalive_));
  absl::StatusOr<std::unique_ptr<EtcdWatch>> watch = client_->Watch(
      keys_.prefix + "/", PrefixEnd(keys_.prefix + "/"), from_revision, until);
  // A start revision retention compacted away: the next step re-reads.
  if (!watch.ok() && watch.status().code() == absl::StatusCode::kOutOfRange) {
    return absl::OkStatus();
  }
  if (!watch.ok()) return watch.status();
  while (true) {
    absl::StatusOr<etcdserverpb::WatchResponse> r = (*watch)->Next();
    if (!r.ok()) {
      if (r.status().code() == absl::StatusCode::kDeadlineExceeded ||
          r.status().code() == absl::StatusCode::kOutOfRange) {
        return absl::OkStatus();  // the next step re-reads and re-watches
      }
      return r.status();
    }
    for (const mvccpb::Event& e : r->events()) {
      const std::string& key = e.kv().key();
      if (key == keys_.leader) {
        if (e.type() == mvccpb::Event::DELETE) {
          return absl::OkStatus();  // campaign at once
        }
        // A new leader: refused appends name it from now on.
        {
          absl::MutexLock lock(&mu_);
          status_.leader_address = e.kv().value();
        }
        ledger_->SetFollower(e.kv().value());
        continue;
      }
      if (key.compare(0, keys_.log_prefix.size(), keys_.log_prefix) == 0 &&
          e.type() == mvccpb::Event::PUT) {
        absl::Status s = ApplyGroup(key, e.kv().value());
        if (s.code() == absl::StatusCode::kFailedPrecondition) {
          return absl::OkStatus();  // a gap: re-read the log
        }
        if (!s.ok()) return s;
      }
    }
    if (absl::Now() >= next_keepalive_) return absl::OkStatus();
  }
}

absl::Status ReplicationNode::PublishNodeState() {
  v1::NodeState state;
  state.set_applied_position(ledger_->head_position());
  state.set_advertise(options_.advertise);
  state.set_leader(leader_revision_ != 0);
  etcdserverpb::PutRequest put;
  put.set_key(keys_.Node(options_.node_name));
  put.set_value(state.SerializeAsString());
  put.set_lease(lease_id_);
  absl::Status s = client_->Put(put).status();
  if (s.ok()) next_publish_ = absl::Now() + absl::Seconds(1);
  return s;
}

}  // namespace partnerledger::replication

namespace partnerledger::replication {

absl::StatusOr<uint64_t> ReplicationNode::RetentionBound() {
  const uint64_t head = ledger_->head_position();
  uint64_t bound =
      head > options_.retain_positions ? head - options_.retain_positions : 0;
  etcdserverpb::RangeRequest r;
  r.set_key(keys_.nodes_prefix);
  r.set_range_end(PrefixEnd(keys_.nodes_prefix));
  absl::StatusOr<etcdserverpb::RangeResponse> nodes = client_->Range(r);
  if (!nodes.ok()) return nodes.status();
  for (const mvccpb::KeyValue& kv : nodes->kvs()) {
    v1::NodeState state;
    if (!state.ParseFromString(kv.value())) {
      return absl::DataLossError(
          absl::StrCat("etcd key ", kv.key(), " does not parse as NodeState"));
    }
    bound = std::min<uint64_t>(bound, state.applied_position());
  }
  return bound;
}

absl::Status ReplicationNode::Retain() {
  absl::StatusOr<uint64_t> bound = RetentionBound();
  if (!bound.ok()) return bound.status();
  // The group holding bound + 1 (or, with everything applied, the last
  // group) stays with every group after it; the groups before it end at
  // or below the bound.
  etcdserverpb::RangeRequest r;
  r.set_key(keys_.log_prefix);
  r.set_range_end(keys_.Log(*bound + 2));
  r.set_sort_order(etcdserverpb::RangeRequest::DESCEND);
  r.set_sort_target(etcdserverpb::RangeRequest::KEY);
  r.set_limit(1);
  r.set_keys_only(true);
  absl::StatusOr<etcdserverpb::RangeResponse> kept = client_->Range(r);
  if (!kept.ok()) return kept.status();
  if (kept->kvs_size() == 0) return absl::OkStatus();  // an empty log
  absl::StatusOr<uint64_t> first = keys_.PositionOf(kept->kvs(0).key());
  if (!first.ok()) return absl::DataLossError(first.status().message());

  // Only while this node's election stands.
  etcdserverpb::TxnRequest txn;
  etcdserverpb::Compare* ours = txn.add_compare();
  ours->set_key(keys_.leader);
  ours->set_target(etcdserverpb::Compare::CREATE);
  ours->set_result(etcdserverpb::Compare::EQUAL);
  ours->set_create_revision(leader_revision_);
  etcdserverpb::DeleteRangeRequest* del =
      txn.add_success()->mutable_request_delete_range();
  del->set_key(keys_.log_prefix);
  del->set_range_end(keys_.Log(*first));
  absl::StatusOr<etcdserverpb::TxnResponse> done = client_->Txn(txn);
  if (!done.ok()) return done.status();
  if (!done->succeeded()) {
    return absl::UnavailableError(
        "retention skipped: this node's election is gone");
  }
  const int64_t deleted = done->responses(0).response_delete_range().deleted();
  const int64_t revision = done->header().revision();
  // Also drops the history of the head and node keys, rewritten on every
  // group and every second.
  RETURN_IF_ERROR(client_->Compact(revision));
  {
    absl::MutexLock lock(&mu_);
    status_.log_first_position = *first;
    status_.compacted_revision = revision;
    status_.groups_deleted += static_cast<uint64_t>(deleted);
  }
  if (deleted > 0) {
    Log(LogLevel::kInfo, "replication: retention",
        {{"groups_deleted", static_cast<long long>(deleted)},
         {"log_first_position", static_cast<unsigned long long>(*first)},
         {"bound", static_cast<unsigned long long>(*bound)},
         {"compacted_revision", static_cast<long long>(revision)}});
  }
  return absl::OkStatus();
}

}  // namespace partnerledger::replication

#include "replication/etcd_commit_log.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "partnerledger/limits.h"

namespace partnerledger::replication {
namespace {

std::string BigEndian64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

std::string ShortHex(const std::string& bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < 8; ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

}  // namespace

LogKeys::LogKeys(std::string p)
    : prefix(std::move(p)),
      head(prefix + "/head"),
      leader(prefix + "/leader"),
      log_prefix(prefix + "/log/"),
      nodes_prefix(prefix + "/nodes/") {}

std::string LogKeys::Log(uint64_t first_position) const {
  return log_prefix + BigEndian64(first_position);
}

std::string LogKeys::Node(const std::string& name) const {
  return nodes_prefix + name;
}

absl::StatusOr<uint64_t> LogKeys::PositionOf(const std::string& key) const {
  if (!absl::StartsWith(key, log_prefix) ||
      key.size() != log_prefix.size() + 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a log key under ", log_prefix));
  }
  uint64_t v = 0;
  for (size_t i = log_prefix.size(); i < key.size(); ++i) {
    v = (v << 8) | static_cast<unsigned char>(key[i]);
  }
  return v;
}

absl::StatusOr<HeadState> ReadHead(EtcdClient& client, const LogKeys& keys) {
  etcdserverpb::RangeRequest r;
  r.set_key(keys.head);
  absl::StatusOr<etcdserverpb::RangeResponse> got = client.Range(r);
  if (!got.ok()) return got.status();
  HeadState head;
  if (got->kvs_size() == 0) return head;
  v1::LogHead stored;
  if (!stored.ParseFromString(got->kvs(0).value())) {
    return absl::DataLossError(
        absl::StrCat("etcd key ", keys.head, " does not parse as LogHead"));
  }
  head.last_position = stored.last_position();
  head.last_hash = stored.last_hash();
  head.leader = stored.leader();
  head.mod_revision = got->kvs(0).mod_revision();
  return head;
}

absl::StatusOr<ReplicatedGroup> DecodeGroup(const LogKeys& keys,
                                            const std::string& key,
                                            const std::string& value) {
  absl::StatusOr<uint64_t> first = keys.PositionOf(key);
  if (!first.ok()) return absl::DataLossError(first.status().message());
  v1::LogGroup stored;
  if (!stored.ParseFromString(value)) {
    return absl::DataLossError(
        absl::StrCat("log group at position ", *first, " does not parse"));
  }
  if (stored.first_position() != *first ||
      stored.last_position() < stored.first_position()) {
    return absl::DataLossError(absl::StrCat(
        "log group under key position ", *first, " names positions ",
        stored.first_position(), "..", stored.last_position()));
  }
  ReplicatedGroup group;
  group.first_position = stored.first_position();
  group.last_position = stored.last_position();
  group.last_hash = stored.last_hash();
  group.batch = stored.batch();
  return group;
}

EtcdCommitLog::EtcdCommitLog(EtcdClient* client, LogKeys keys,
                             std::string node_name)
    : client_(client),
      keys_(std::move(keys)),
      node_name_(std::move(node_name)) {}

void EtcdCommitLog::BeginTerm(int64_t leader_create_revision,
                              const HeadState& head) {
  absl::MutexLock lock(&mu_);
  in_term_ = true;
  leader_revision_ = leader_create_revision;
  head_revision_ = head.mod_revision;
  last_position_ = head.last_position;
}

void EtcdCommitLog::EndTerm() {
  absl::MutexLock lock(&mu_);
  in_term_ = false;
}

int64_t EtcdCommitLog::head_revision() const {
  absl::MutexLock lock(&mu_);
  return in_term_ ? head_revision_ : 0;
}

uint64_t EtcdCommitLog::groups_appended() const {
  absl::MutexLock lock(&mu_);
  return groups_appended_;
}

absl::Status EtcdCommitLog::NoSpace(const ReplicatedGroup& group,
                                    int64_t head_revision,
                                    const absl::Status& why) {
  // etcd answers NOSPACE both for a write it refused (the alarm raised: it
  // refuses every write for good) and for the write that crossed the quota,
  // which it applied before raising the alarm. Only this leader writes the
  // head, so the head tells which.
  absl::StatusOr<HeadState> now = ReadHead(*client_, keys_);
  if (!now.ok()) {
    return absl::UnavailableError(
        absl::StrCat("etcd commit log: group ", group.first_position, "..",
                     group.last_position,
                     " not confirmed (NOSPACE, then the head could "
                     "not be read): ",
                     now.status().message()));
  }
  if (now->mod_revision != head_revision &&
      now->last_position == group.last_position &&
      now->last_hash == group.last_hash && now->leader == node_name_) {
    absl::MutexLock lock(&mu_);
    head_revision_ = now->mod_revision;
    last_position_ = group.last_position;
    ++groups_appended_;
    return absl::OkStatus();
  }
  if (now->mod_revision != head_revision) {
    return absl::UnavailableError(absl::StrCat(
        "etcd commit log: group ", group.first_position, "..",
        group.last_position, " not written and the head moved to position ",
        now->last_position, " (written by ", now->leader, ")"));
  }
  return absl::ResourceExhaustedError(absl::StrCat(
      "etcd is out of space (NOSPACE alarm: free space with compaction and "
      "defragmentation, then disarm it); group ",
      group.first_position, "..", group.last_position,
      " was not written: ", why.message()));
}

absl::Status EtcdCommitLog::Append(const ReplicatedGroup& group) {
  int64_t leader_revision;
  int64_t head_revision;
  {
    absl::MutexLock lock(&mu_);
    if (!in_term_) {
      return absl::UnavailableError(
          "not the leader: this node holds no term in the etcd commit log");
    }
    if (group.first_position != last_position_ + 1 ||
        group.last_position < group.first_position) {
      return absl::FailedPreconditionError(absl::StrCat(
          "commit group ", group.first_position, "..", group.last_position,
          " does not continue the etcd log's head at ", last_position_));
    }
    leader_revision = leader_revision_;
    head_revision = head_revision_;
  }

  v1::LogGroup record;
  record.set_first_position(group.first_position);
  record.set_last_position(group.last_position);
  record.set_last_hash(group.last_hash);
  record.set_batch(group.batch);
  std::string record_bytes = record.SerializeAsString();
  if (record_bytes.size() > limits::kEtcdRequestBytesMax) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "commit group ", group.first_position, "..", group.last_position,
        " is ", record_bytes.size(), " bytes, more than the ",
        limits::kEtcdRequestBytesMax, " one etcd transaction may carry"));
  }
  v1::LogHead head;
  head.set_last_position(group.last_position);
  head.set_last_hash(group.last_hash);
  head.set_leader(node_name_);

  etcdserverpb::TxnRequest txn;
  etcdserverpb::Compare* same_head = txn.add_compare();
  same_head->set_key(keys_.head);
  same_head->set_target(etcdserverpb::Compare::MOD);
  same_head->set_result(etcdserverpb::Compare::EQUAL);
  same_head->set_mod_revision(head_revision);
  etcdserverpb::Compare* still_leader = txn.add_compare();
  still_leader->set_key(keys_.leader);
  still_leader->set_target(etcdserverpb::Compare::CREATE);
  still_leader->set_result(etcdserverpb::Compare::EQUAL);
  still_leader->set_create_revision(leader_revision);
  etcdserverpb::PutRequest* put_group =
      txn.add_success()->mutable_request_put();
  put_group->set_key(keys_.Log(group.first_position));
  put_group->set_value(std::move(record_bytes));
  etcdserverpb::PutRequest* put_head = txn.add_success()->mutable_request_put();
  put_head->set_key(keys_.head);
  put_head->set_value(head.SerializeAsString());
  txn.add_failure()->mutable_request_range()->set_key(keys_.head);
  txn.add_failure()->mutable_request_range()->set_key(keys_.leader);

  absl::StatusOr<etcdserverpb::TxnResponse> done = client_->Txn(txn);
  if (!done.ok()) {
    // Unknown outcome: the node must read the log before it leads again.
    const absl::StatusCode code = done.status().code();
    if (code == absl::StatusCode::kResourceExhausted &&
        absl::StrContains(done.status().message(), "space")) {
      return NoSpace(group, head_revision, done.status());
    }
    return absl::UnavailableError(absl::StrCat(
        "etcd commit log: group ", group.first_position, "..",
        group.last_position, " not confirmed: ", done.status().message()));
  }
  if (done->succeeded()) {
    absl::MutexLock lock(&mu_);
    head_revision_ = done->header().revision();
    last_position_ = group.last_position;
    ++groups_appended_;
    return absl::OkStatus();
  }

  // The compare failed. Our own earlier attempt of this very group (a
  // retry after a lost answer) left the head at its end with its hash.
  std::string why;
  const auto& head_range = done->responses(0).response_range();
  const auto& leader_range = done->responses(1).response_range();
  const bool leader_ours =
      leader_range.kvs_size() == 1 &&
      leader_range.kvs(0).create_revision() == leader_revision;
  if (head_range.kvs_size() == 1) {
    v1::LogHead now;
    if (now.ParseFromString(head_range.kvs(0).value()) &&
        now.last_position() == group.last_position &&
        now.last_hash() == group.last_hash && now.leader() == node_name_ &&
        leader_ours) {
      absl::MutexLock lock(&mu_);
      head_revision_ = head_range.kvs(0).mod_revision();
      last_position_ = group.last_position;
      ++groups_appended_;
      return absl::OkStatus();
    }
    why =
        absl::StrCat("the etcd log's head is at position ", now.last_position(),
                     " (", ShortHex(now.last_hash()), "...) written by ",
                     now.leader(), ", not by this leader");
  } else {
    why = "the etcd log's head is missing";
  }
  if (!leader_ours) {
    why =
        leader_range.kvs_size() == 0
            ? "this node's leader key is gone (its lease expired)"
            : absl::StrCat("another node leads: ", leader_range.kvs(0).value());
  }
  {
    absl::MutexLock lock(&mu_);
    in_term_ = false;
  }
  const std::string message =
      absl::StrCat("not the leader: group ", group.first_position, "..",
                   group.last_position, " refused by etcd: ", why);
  if (on_fenced_) on_fenced_(message);
  return absl::UnavailableError(message);
}

}  // namespace partnerledger::replication

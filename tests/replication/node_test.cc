// One ledger node on a real etcd: it elects itself, its appends go through
// the etcd log, a restarted node catches up from etcd, and a node that
// needs a group etcd no longer holds refuses to start naming the position.
// Retention deletes exactly the groups every live node applied and compacts
// etcd; at etcd's NOSPACE alarm appends fail UNAVAILABLE and resume, the
// leader unchanged, once space is freed and the alarm disarmed.
#include "replication/node.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "ledger/ledger_internal.h"
#include "partnerledger/ledger.h"
#include "partnerledger/limits.h"
#include "partnerledger/replication/v1/log.pb.h"
#include "replication/etcd_cluster.h"
#include "replication/one_etcd_member.h"
#include "store/backup.h"
#include "test_support.h"

namespace partnerledger::replication {
namespace {

using testing::EtcdCluster;

AppendRequest Registration(const std::string& name) {
  AppendRequest r;
  r.stream = "partner-" + testing::NextUuid();
  r.expected = ExpectedRevision::NoStream();
  r.events.push_back(
      testing::MakeEvent(testing::PartnerRegisteredPayload(name)));
  return r;
}

class ReplicationNodeTest : public testing::OneEtcdMemberTest {
 protected:
  // A node on `data_dir`: its commit log, ledger and replication loop.
  struct Node {
    std::unique_ptr<EtcdCommitLog> log;
    std::unique_ptr<Ledger> ledger;
    std::unique_ptr<ReplicationNode> node;
  };

  absl::StatusOr<Node> StartNode(const std::string& name,
                                 NodeOptions options = {}) {
    Node n;
    n.log = std::make_unique<EtcdCommitLog>(client_.get(), keys_, name);
    Options o;
    o.data_dir = dir_.Sub(name);
    o.commit_log = n.log.get();
    absl::StatusOr<std::unique_ptr<Ledger>> ledger = Ledger::Open(o);
    if (!ledger.ok()) return ledger.status();
    n.ledger = std::move(*ledger);
    options.node_name = name;
    options.advertise = name + ":1";
    options.lease_ttl_seconds = 2;
    absl::StatusOr<std::unique_ptr<ReplicationNode>> node =
        ReplicationNode::Start(client_.get(), n.log.get(), n.ledger.get(),
                               keys_, options);
    if (!node.ok()) return node.status();
    n.node = std::move(*node);
    return n;
  }

  static bool WaitUntil(const std::function<bool()>& done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(15);
    while (!done()) {
      if (absl::Now() >= deadline) return false;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return true;
  }

  LogKeys keys_{"/pl/node-test"};
};

TEST_F(ReplicationNodeTest, ASoleNodeLeadsAndItsAppendsAreInTheEtcdLog) {
  absl::StatusOr<Node> n = StartNode("n1");
  ASSERT_TRUE(n.ok()) << n.status();
  ASSERT_TRUE(WaitUntil([&] { return n->node->status().leader; }));
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<AppendResult> r =
        n->ledger->AppendAndWait(Registration(absl::StrCat("P", i)));
    ASSERT_TRUE(r.ok()) << r.status();
  }
  const uint64_t head = n->ledger->head_position();
  EXPECT_EQ(head, 3u);
  absl::StatusOr<HeadState> stored = ReadHead(*client_, keys_);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->last_position, head);
  absl::StatusOr<ChainDigest> digest = n->ledger->GetDigest(head);
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_EQ(stored->last_hash, digest->hash);
  EXPECT_EQ(n->node->status().applied_position, head);

  // Stopping hands leadership over at once (the lease is revoked).
  n->node->Stop();
  EXPECT_FALSE(n->ledger->role().leader);
  etcdserverpb::RangeRequest r;
  r.set_key(keys_.leader);
  auto leader = client_->Range(r);
  ASSERT_TRUE(leader.ok()) << leader.status();
  EXPECT_EQ(leader->kvs_size(), 0);
}

TEST_F(ReplicationNodeTest, AWipedNodeCatchesUpFromEtcdToTheSameDigest) {
  absl::StatusOr<Node> first = StartNode("n1");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(WaitUntil([&] { return first->node->status().leader; }));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(first->ledger->AppendAndWait(Registration("P")).ok());
  }
  absl::StatusOr<ChainDigest> want = first->ledger->GetDigest(5);
  ASSERT_TRUE(want.ok());
  // A second node with an empty data directory follows and catches up.
  absl::StatusOr<Node> second = StartNode("n2");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->ledger->head_position(), 5u);
  EXPECT_FALSE(second->node->status().leader);
  absl::StatusOr<ChainDigest> got = second->ledger->GetDigest(5);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->hash, want->hash);
  // It names the leader when it refuses an append.
  ASSERT_TRUE(WaitUntil(
      [&] { return second->ledger->role().leader_address == "n1:1"; }));
  EXPECT_EQ(second->ledger->AppendAndWait(Registration("Q")).status().code(),
            absl::StatusCode::kUnavailable);
  // When the leader goes, it takes over and appends continue after 5.
  first->node->Stop();
  ASSERT_TRUE(WaitUntil([&] { return second->node->status().leader; }));
  absl::StatusOr<AppendResult> next =
      second->ledger->AppendAndWait(Registration("R"));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->events[0].position, 6u);
}

TEST_F(ReplicationNodeTest, ANodeMissingAGroupEtcdNoLongerHoldsRefusesToStart) {
  // The log starts at position 5: positions 1..4 were removed from etcd.
  v1::LogGroup group;
  group.set_first_position(5);
  group.set_last_position(5);
  group.set_last_hash(std::string(32, 'x'));
  etcdserverpb::PutRequest put;
  put.set_key(keys_.Log(5));
  put.set_value(group.SerializeAsString());
  ASSERT_TRUE(client_->Put(put).ok());
  absl::StatusOr<Node> n = StartNode("n1");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(n.status().message().find("commit group at position 1 "),
            std::string::npos)
      << n.status();
}

// Retention every 50 ms, keeping `retain` positions behind the head.
// A follower that finds a group in etcd's log that does not apply to its
// own (here: the group at position 3 copied under position 4, as a fork or
// a rewritten log would look) stops following and reports it once through
// on_refused (ledgerd then exits rather than serve reads).
TEST_F(ReplicationNodeTest, AFollowerFindingAForkedLogStopsAndSaysSo) {
  absl::StatusOr<Node> n1 = StartNode("n1");
  ASSERT_TRUE(n1.ok()) << n1.status();
  ASSERT_TRUE(WaitUntil([&] { return n1->node->status().leader; }));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(n1->ledger->AppendAndWait(Registration("P")).ok());
  }
  absl::Mutex mu;
  std::vector<absl::Status> refusals;
  NodeOptions options;
  options.on_refused = [&](const absl::Status& s) {
    absl::MutexLock lock(&mu);
    refusals.push_back(s);
  };
  absl::StatusOr<Node> n2 = StartNode("n2", options);
  ASSERT_TRUE(n2.ok()) << n2.status();
  ASSERT_EQ(n2->ledger->head_position(), 3u);

  etcdserverpb::RangeRequest get;
  get.set_key(keys_.Log(3));
  auto group3 = client_->Range(get);
  ASSERT_TRUE(group3.ok()) << group3.status();
  ASSERT_EQ(group3->kvs_size(), 1);
  v1::LogGroup forged;
  ASSERT_TRUE(forged.ParseFromString(group3->kvs(0).value()));
  forged.set_first_position(4);
  forged.set_last_position(4);
  etcdserverpb::PutRequest put;
  put.set_key(keys_.Log(4));
  put.set_value(forged.SerializeAsString());
  ASSERT_TRUE(client_->Put(put).ok());

  ASSERT_TRUE(WaitUntil([&] {
    absl::MutexLock lock(&mu);
    return !refusals.empty();
  }));
  n2->node->Stop();
  absl::MutexLock lock(&mu);
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_EQ(refusals[0].code(), absl::StatusCode::kDataLoss) << refusals[0];
  EXPECT_EQ(n2->node->status().error, refusals[0].ToString());
  EXPECT_EQ(n2->ledger->head_position(), 3u);
}

NodeOptions Retaining(uint64_t retain) {
  NodeOptions o;
  o.retention_interval = absl::Milliseconds(50);
  o.retain_positions = retain;
  return o;
}

class ReplicationRetentionTest : public ReplicationNodeTest {
 protected:
  // The first position of every group in the etcd log, in order.
  std::vector<uint64_t> LogPositions() {
    etcdserverpb::RangeRequest r;
    r.set_key(keys_.log_prefix);
    r.set_range_end(PrefixEnd(keys_.log_prefix));
    r.set_keys_only(true);
    auto got = client_->Range(r);
    EXPECT_TRUE(got.ok()) << got.status();
    std::vector<uint64_t> out;
    if (!got.ok()) return out;
    for (const mvccpb::KeyValue& kv : got->kvs()) {
      absl::StatusOr<uint64_t> p = keys_.PositionOf(kv.key());
      EXPECT_TRUE(p.ok()) << p.status();
      out.push_back(p.ok() ? *p : 0);
    }
    return out;
  }
  // etcd's current revision.
  int64_t Revision() {
    etcdserverpb::RangeRequest r;
    r.set_key("/none");
    auto got = client_->Range(r);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? got->header().revision() : 0;
  }
  // A live node's record, as a node publishes it, under `lease`.
  void PutNodeState(const std::string& name, uint64_t applied, int64_t lease) {
    v1::NodeState state;
    state.set_applied_position(applied);
    state.set_advertise(name + ":1");
    etcdserverpb::PutRequest put;
    put.set_key(keys_.Node(name));
    put.set_value(state.SerializeAsString());
    put.set_lease(lease);
    ASSERT_TRUE(client_->Put(put).ok());
  }
  // Appends `n` registrations one at a time: one group each.
  void AppendEach(Ledger& ledger, int n) {
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<AppendResult> r =
          ledger.AppendAndWait(Registration(absl::StrCat("P", i)));
      ASSERT_TRUE(r.ok()) << r.status();
    }
  }
};

std::vector<uint64_t> Positions(uint64_t first, uint64_t last) {
  std::vector<uint64_t> out;
  for (uint64_t p = first; p <= last; ++p) out.push_back(p);
  return out;
}

TEST_F(ReplicationRetentionTest, DeletesExactlyTheGroupsEveryLiveNodeApplied) {
  // Another live node, at position 0 for now (its key under a lease).
  absl::StatusOr<int64_t> lease = client_->LeaseGrant(60);
  ASSERT_TRUE(lease.ok()) << lease.status();
  PutNodeState("n2", 0, *lease);
  absl::StatusOr<Node> n = StartNode("n1", Retaining(0));
  ASSERT_TRUE(n.ok()) << n.status();
  ASSERT_TRUE(WaitUntil([&] { return n->node->status().leader; }));
  AppendEach(*n->ledger, 10);
  ASSERT_EQ(n->ledger->head_position(), 10u);

  // A pass after the appends keeps every group: n2 applied none.
  const int64_t appended = Revision();
  ASSERT_TRUE(WaitUntil(
      [&] { return n->node->status().compacted_revision > appended; }));
  EXPECT_EQ(LogPositions(), Positions(1, 10));
  EXPECT_EQ(n->node->status().groups_deleted, 0u);

  // n2 applied through 4: groups 1..4 go, and etcd is compacted at the
  // delete's revision.
  PutNodeState("n2", 4, *lease);
  ASSERT_TRUE(
      WaitUntil([&] { return n->node->status().log_first_position == 5; }));
  EXPECT_EQ(LogPositions(), Positions(5, 10));
  const NodeStatus st = n->node->status();
  EXPECT_EQ(st.groups_deleted, 4u);
  etcdserverpb::RangeRequest before;
  before.set_key(keys_.Log(1));
  before.set_revision(st.compacted_revision - 1);
  EXPECT_EQ(client_->Range(before).status().code(),
            absl::StatusCode::kOutOfRange);
  before.set_revision(st.compacted_revision);
  auto at = client_->Range(before);
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(at->kvs_size(), 0);  // already deleted at that revision

  // Everyone applied everything: only the last group stays.
  PutNodeState("n2", 10, *lease);
  ASSERT_TRUE(
      WaitUntil([&] { return n->node->status().log_first_position == 10; }));
  EXPECT_EQ(LogPositions(), Positions(10, 10));
  EXPECT_EQ(n->node->status().groups_deleted, 9u);
  // Appends go on on top of the retained log.
  AppendEach(*n->ledger, 1);
  absl::StatusOr<HeadState> head = ReadHead(*client_, keys_);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->last_position, 11u);
}

TEST_F(ReplicationRetentionTest, KeepsRetainPositionsBehindTheHead) {
  absl::StatusOr<Node> n = StartNode("n1", Retaining(3));
  ASSERT_TRUE(n.ok()) << n.status();
  ASSERT_TRUE(WaitUntil([&] { return n->node->status().leader; }));
  AppendEach(*n->ledger, 10);
  // Bound 10 - 3 = 7: positions 8..10 stay.
  ASSERT_TRUE(
      WaitUntil([&] { return n->node->status().log_first_position == 8; }));
  EXPECT_EQ(LogPositions(), Positions(8, 10));
}

TEST_F(ReplicationRetentionTest,
       ANodeDownWhileItsGroupsWentRefusesThenCatchesUpFromABackup) {
  absl::StatusOr<Node> n1 = StartNode("n1", Retaining(0));
  ASSERT_TRUE(n1.ok()) << n1.status();
  ASSERT_TRUE(WaitUntil([&] { return n1->node->status().leader; }));
  AppendEach(*n1->ledger, 3);
  {
    absl::StatusOr<Node> n2 = StartNode("n2");
    ASSERT_TRUE(n2.ok()) << n2.status();
    EXPECT_EQ(n2->ledger->head_position(), 3u);
    AppendEach(*n1->ledger, 1);
    ASSERT_TRUE(WaitUntil([&] { return n2->ledger->head_position() == 4u; }));
    n2->node->Stop();  // down: its key goes with its lease
  }
  AppendEach(*n1->ledger, 3);  // positions 5..7
  ASSERT_TRUE(
      WaitUntil([&] { return n1->node->status().log_first_position == 7; }));

  absl::StatusOr<Node> back = StartNode("n2");
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(back.status().message(),
            "etcd no longer holds the commit group at position 5 (its log "
            "starts at 7): restore a backup that reaches position 6 into "
            "this node's data directory");

  // A backup of the leader, restored into n2's wiped directory: n2 catches
  // up from etcd to the same digest.
  const std::string backups = dir_.Sub("backups");
  absl::StatusOr<store::BackupInfo> backup = store::CreateBackup(
      ledger::StoreOf(*n1->ledger), dir_.path() + "/scratch", backups);
  ASSERT_TRUE(backup.ok()) << backup.status();
  EXPECT_EQ(backup->position, 7u);
  AppendEach(*n1->ledger, 2);  // 8..9, after the backup
  std::filesystem::remove_all(dir_.path() + "/n2");
  ASSERT_TRUE(store::RestoreBackup(backups, 0, dir_.path() + "/n2").ok());
  absl::StatusOr<Node> restored = StartNode("n2");
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->ledger->head_position(), 9u);
  absl::StatusOr<ChainDigest> want = n1->ledger->GetDigest(9);
  absl::StatusOr<ChainDigest> got = restored->ledger->GetDigest(9);
  ASSERT_TRUE(want.ok() && got.ok());
  EXPECT_EQ(got->hash, want->hash);
}

// One etcd member whose backend quota a few hundred groups exceed.
class ReplicationNoSpaceTest : public ReplicationNodeTest {
 protected:
  ReplicationNoSpaceTest() {
    etcd_args_ = {absl::StrCat("--quota-backend-bytes=", kQuotaBytes)};
  }
  static constexpr int64_t kQuotaBytes = 2 * 1024 * 1024;

  // Frees space as an operator would: deletes the log below its last
  // group, compacts, defragments and disarms the NOSPACE alarm.
  void FreeSpace(uint64_t last_group) {
    etcdserverpb::DeleteRangeRequest del;
    del.set_key(keys_.log_prefix);
    del.set_range_end(keys_.Log(last_group));
    auto deleted = client_->DeleteRange(del);
    ASSERT_TRUE(deleted.ok()) << deleted.status();
    ASSERT_TRUE(client_->Compact(deleted->header().revision()).ok());
    auto maintenance = etcdserverpb::Maintenance::NewStub(grpc::CreateChannel(
        cluster_->endpoint(0), grpc::InsecureChannelCredentials()));
    {
      grpc::ClientContext ctx;
      etcdserverpb::DefragmentResponse resp;
      grpc::Status s = maintenance->Defragment(
          &ctx, etcdserverpb::DefragmentRequest(), &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    etcdserverpb::AlarmRequest get;
    get.set_action(etcdserverpb::AlarmRequest::GET);
    etcdserverpb::AlarmResponse alarms;
    {
      grpc::ClientContext ctx;
      grpc::Status s = maintenance->Alarm(&ctx, get, &alarms);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    ASSERT_EQ(alarms.alarms_size(), 1);
    EXPECT_EQ(alarms.alarms(0).alarm(), etcdserverpb::NOSPACE);
    etcdserverpb::AlarmRequest disarm;
    disarm.set_action(etcdserverpb::AlarmRequest::DEACTIVATE);
    disarm.set_memberid(alarms.alarms(0).memberid());
    disarm.set_alarm(etcdserverpb::NOSPACE);
    grpc::ClientContext ctx;
    etcdserverpb::AlarmResponse resp;
    grpc::Status s = maintenance->Alarm(&ctx, disarm, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
};

AppendRequest LargeRegistration(int i) {
  return Registration(
      absl::StrCat("L", i, std::string(limits::kTextBytesMax - 16, 'x')));
}

TEST_F(ReplicationNoSpaceTest, AppendsAreUnavailableAtNoSpaceAndResume) {
  NodeOptions o;
  o.retention_interval = absl::InfiniteDuration();
  absl::StatusOr<Node> n = StartNode("n1", o);
  ASSERT_TRUE(n.ok()) << n.status();
  ASSERT_TRUE(WaitUntil([&] { return n->node->status().leader; }));
  std::vector<std::pair<uint64_t, std::string>> acked;  // position, stream
  absl::Status refused;
  // Bounded: the quota holds a few hundred of these groups.
  for (int i = 0; i < 2000 && refused.ok(); ++i) {
    AppendRequest r = LargeRegistration(i);
    const std::string stream = r.stream;
    absl::StatusOr<AppendResult> got = n->ledger->AppendAndWait(std::move(r));
    if (got.ok()) {
      acked.emplace_back(got->events[0].position, stream);
    } else {
      refused = got.status();
    }
  }
  ASSERT_FALSE(refused.ok()) << "etcd never reported NOSPACE";
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
  EXPECT_NE(refused.message().find("etcd is out of space (NOSPACE alarm"),
            std::string::npos)
      << refused;
  ASSERT_GT(acked.size(), 10u);
  const uint64_t head = acked.back().first;
  EXPECT_EQ(head, acked.size());
  EXPECT_EQ(n->ledger->head_position(), head);
  // Still the leader, and refused again the same way, nothing written.
  EXPECT_TRUE(n->ledger->role().leader);
  EXPECT_TRUE(n->node->status().leader);
  absl::StatusOr<AppendResult> again =
      n->ledger->AppendAndWait(LargeRegistration(-1));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(again.status().message().find("NOSPACE"), std::string::npos)
      << again.status();
  EXPECT_EQ(n->ledger->head_position(), head);
  absl::StatusOr<HeadState> stored = ReadHead(*client_, keys_);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->last_position, head);

  FreeSpace(head);
  absl::StatusOr<AppendResult> resumed =
      n->ledger->AppendAndWait(LargeRegistration(-2));
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->events[0].position, head + 1);
  EXPECT_EQ(n->node->status().terms_led, 1u);  // never stepped down
  // Every acknowledged event is where it was acknowledged.
  for (const auto& [position, stream] : acked) {
    absl::StatusOr<RecordedEvent> e = n->ledger->ReadEvent(position);
    ASSERT_TRUE(e.ok()) << position << ": " << e.status();
    EXPECT_EQ(e->stream, stream) << position;
  }
  stored = ReadHead(*client_, keys_);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->last_position, head + 1);
}

}  // namespace
}  // namespace partnerledger::replication

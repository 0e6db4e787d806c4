// One ledger node on a real etcd: it elects itself, its appends go through
// the etcd log, a restarted node catches up from etcd, and a node that
// needs a group etcd no longer holds refuses to start naming the position.
#include "replication/node.h"

#include <gtest/gtest.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "partnerledger/ledger.h"
#include "replication/etcd_cluster.h"
#include "replication/one_etcd_member.h"
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

  absl::StatusOr<Node> StartNode(const std::string& name) {
    Node n;
    n.log = std::make_unique<EtcdCommitLog>(client_.get(), keys_, name);
    Options o;
    o.data_dir = dir_.Sub(name);
    o.commit_log = n.log.get();
    absl::StatusOr<std::unique_ptr<Ledger>> ledger = Ledger::Open(o);
    if (!ledger.ok()) return ledger.status();
    n.ledger = std::move(*ledger);
    NodeOptions options;
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

}  // namespace
}  // namespace partnerledger::replication

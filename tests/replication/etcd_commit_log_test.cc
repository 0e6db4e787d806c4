// The commit log on a real etcd: each group one fenced transaction; a
// leader that lost its election or was overtaken cannot write; its own
// write retried after a lost answer is recognised.
#include "replication/etcd_commit_log.h"

#include <gtest/gtest.h>

#include <memory>

#include "partnerledger/limits.h"
#include "replication/etcd_cluster.h"
#include "replication/one_etcd_member.h"
#include "test_support.h"

namespace partnerledger::replication {
namespace {

using testing::EtcdCluster;

ReplicatedGroup Group(uint64_t first, uint64_t last, char hash_byte) {
  ReplicatedGroup g;
  g.first_position = first;
  g.last_position = last;
  g.last_hash = std::string(32, hash_byte);
  g.batch = "batch " + std::to_string(first) + ".." + std::to_string(last);
  return g;
}

class EtcdCommitLogTest : public testing::OneEtcdMemberTest {
 protected:
  // Makes `name` the leader: creates the leader key under a new lease
  // (deleting whoever held it) and returns the key's create revision.
  int64_t Elect(const std::string& name) {
    etcdserverpb::DeleteRangeRequest del;
    del.set_key(keys_.leader);
    EXPECT_TRUE(client_->DeleteRange(del).ok());
    auto lease = client_->LeaseGrant(30);
    EXPECT_TRUE(lease.ok()) << lease.status();
    etcdserverpb::PutRequest put;
    put.set_key(keys_.leader);
    put.set_value(name + ":1");
    put.set_lease(*lease);
    auto done = client_->Put(put);
    EXPECT_TRUE(done.ok()) << done.status();
    return done->header().revision();
  }

  HeadState Head() {
    auto head = ReadHead(*client_, keys_);
    EXPECT_TRUE(head.ok()) << head.status();
    return head.ok() ? *head : HeadState{};
  }

  std::optional<ReplicatedGroup> Stored(uint64_t first) {
    etcdserverpb::RangeRequest r;
    r.set_key(keys_.Log(first));
    auto got = client_->Range(r);
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok() || got->kvs_size() == 0) return std::nullopt;
    auto g = DecodeGroup(keys_, got->kvs(0).key(), got->kvs(0).value());
    EXPECT_TRUE(g.ok()) << g.status();
    return g.ok() ? std::optional<ReplicatedGroup>(*g) : std::nullopt;
  }

  LogKeys keys_{"/pl/test"};
};

TEST(LogKeysTest, LogKeysSortByPositionAndDecode) {
  LogKeys keys("/p");
  EXPECT_EQ(keys.Log(1), std::string("/p/log/\0\0\0\0\0\0\0\x01", 15));
  EXPECT_LT(keys.Log(255), keys.Log(256));
  EXPECT_EQ(*keys.PositionOf(keys.Log(0x0102030405060708ULL)),
            0x0102030405060708ULL);
  EXPECT_EQ(keys.PositionOf("/p/log/short").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(keys.PositionOf("/q/log/12345678").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(EtcdCommitLogTest, WithoutATermAppendIsUnavailableAndWritesNothing) {
  EtcdCommitLog log(client_.get(), keys_, "n1");
  absl::Status s = log.Append(Group(1, 2, 'a'));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_FALSE(Stored(1).has_value());
  EXPECT_EQ(Head().last_position, 0u);
}

TEST_F(EtcdCommitLogTest, ALeaderWritesEachGroupAndTheHeadInOrder) {
  EtcdCommitLog log(client_.get(), keys_, "n1");
  log.BeginTerm(Elect("n1"), Head());
  ASSERT_TRUE(log.Append(Group(1, 3, 'a')).ok());
  ASSERT_TRUE(log.Append(Group(4, 4, 'b')).ok());
  const HeadState head = Head();
  EXPECT_EQ(head.last_position, 4u);
  EXPECT_EQ(head.last_hash, std::string(32, 'b'));
  EXPECT_EQ(head.leader, "n1");
  EXPECT_EQ(head.mod_revision, log.head_revision());
  std::optional<ReplicatedGroup> first = Stored(1);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->last_position, 3u);
  EXPECT_EQ(first->last_hash, std::string(32, 'a'));
  EXPECT_EQ(first->batch, "batch 1..3");
  EXPECT_EQ(log.groups_appended(), 2u);
}

TEST_F(EtcdCommitLogTest, AGroupThatDoesNotContinueTheHeadIsRefused) {
  EtcdCommitLog log(client_.get(), keys_, "n1");
  log.BeginTerm(Elect("n1"), Head());
  absl::Status s = log.Append(Group(2, 3, 'a'));  // a new log starts at 1
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("head at 0"), std::string::npos) << s;
  EXPECT_FALSE(Stored(2).has_value());
}

TEST_F(EtcdCommitLogTest, AnOvertakenLeaderIsFencedAndWritesNothing) {
  EtcdCommitLog old_leader(client_.get(), keys_, "n1");
  std::string fenced_why;
  old_leader.set_on_fenced([&](const std::string& why) { fenced_why = why; });
  old_leader.BeginTerm(Elect("n1"), Head());
  ASSERT_TRUE(old_leader.Append(Group(1, 1, 'a')).ok());

  // n2 is elected (n1's lease ran out meanwhile) and writes group 2.
  EtcdCommitLog new_leader(client_.get(), keys_, "n2");
  new_leader.BeginTerm(Elect("n2"), Head());
  ASSERT_TRUE(new_leader.Append(Group(2, 2, 'b')).ok());

  // n1 wakes up with its group 2 in flight: refused, nothing forked.
  absl::Status s = old_leader.Append(Group(2, 2, 'z'));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find("another node leads: n2:1"), std::string::npos)
      << s;
  EXPECT_EQ(fenced_why, s.message());
  EXPECT_EQ(Stored(2)->last_hash, std::string(32, 'b'));
  EXPECT_EQ(Head().leader, "n2");
  // Its term ended: the next group is refused without asking etcd.
  EXPECT_EQ(old_leader.Append(Group(3, 3, 'z')).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_FALSE(Stored(3).has_value());
}

TEST_F(EtcdCommitLogTest, ALeaderWhoseKeyIsGoneCannotWrite) {
  EtcdCommitLog log(client_.get(), keys_, "n1");
  log.BeginTerm(Elect("n1"), Head());
  etcdserverpb::DeleteRangeRequest del;  // as when its lease expires
  del.set_key(keys_.leader);
  ASSERT_TRUE(client_->DeleteRange(del).ok());
  absl::Status s = log.Append(Group(1, 1, 'a'));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find("leader key is gone"), std::string::npos) << s;
  EXPECT_FALSE(Stored(1).has_value());
}

TEST_F(EtcdCommitLogTest, ItsOwnCommittedGroupRetriedIsRecognisedOnlyIfSame) {
  EtcdCommitLog log(client_.get(), keys_, "n1");
  const int64_t term = Elect("n1");
  const HeadState empty = Head();
  log.BeginTerm(term, empty);
  ASSERT_TRUE(log.Append(Group(1, 2, 'a')).ok());
  const int64_t written = log.head_revision();
  // The answer was "lost": the same group again from the old head.
  log.BeginTerm(term, empty);
  ASSERT_TRUE(log.Append(Group(1, 2, 'a')).ok());
  EXPECT_EQ(log.head_revision(), written);
  // Another group at the same positions is not ours: refused.
  log.BeginTerm(term, empty);
  EXPECT_EQ(log.Append(Group(1, 2, 'x')).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(Stored(1)->last_hash, std::string(32, 'a'));
}

TEST_F(EtcdCommitLogTest, AGroupBeyondOneTransactionIsResourceExhausted) {
  EtcdCommitLog log(client_.get(), keys_, "n1");
  log.BeginTerm(Elect("n1"), Head());
  ReplicatedGroup big = Group(1, 1, 'a');
  big.batch.assign(limits::kEtcdRequestBytesMax, 'x');
  absl::Status s = log.Append(big);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_FALSE(Stored(1).has_value());
  // Just below the limit goes through (etcd runs with the larger
  // --max-request-bytes).
  ReplicatedGroup large = Group(1, 1, 'a');
  large.batch.assign(limits::kEtcdRequestBytesMax - 4096, 'x');
  absl::Status ok = log.Append(large);
  EXPECT_TRUE(ok.ok()) << ok;
}

TEST_F(EtcdCommitLogTest, EtcdDownIsUnavailable) {
  EtcdCommitLog log(client_.get(), keys_, "n1");
  log.BeginTerm(Elect("n1"), Head());
  cluster_->Kill(0);
  absl::Status s = log.Append(Group(1, 1, 'a'));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find("not confirmed"), std::string::npos) << s;
}

}  // namespace
}  // namespace partnerledger::replication

// The etcd v3 client against a real etcd (Debian's etcd-server): KV, Txn
// compares, leases, watches, compaction, endpoint failover and deadlines.
#include "replication/etcd_client.h"

#include <gtest/gtest.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "replication/etcd_cluster.h"
#include "replication/one_etcd_member.h"
#include "test_support.h"

namespace partnerledger::replication {
namespace {

using testing::EtcdCluster;

class EtcdClientTest : public testing::OneEtcdMemberTest {
 protected:
  static std::unique_ptr<EtcdClient> MakeClient(
      std::vector<std::string> endpoints, absl::Duration timeout) {
    EtcdClientOptions options;
    options.endpoints = std::move(endpoints);
    options.call_timeout = timeout;
    auto c = EtcdClient::Create(options);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }

  absl::StatusOr<etcdserverpb::PutResponse> Put(const std::string& key,
                                                const std::string& value,
                                                int64_t lease = 0) {
    etcdserverpb::PutRequest p;
    p.set_key(key);
    p.set_value(value);
    p.set_lease(lease);
    return client_->Put(p);
  }

  absl::StatusOr<etcdserverpb::RangeResponse> Get(const std::string& key) {
    etcdserverpb::RangeRequest r;
    r.set_key(key);
    return client_->Range(r);
  }
};

TEST(EtcdClientOptionsTest, RefusesNoEndpointsAndMalformedOnes) {
  EtcdClientOptions none;
  EXPECT_EQ(EtcdClient::Create(none).status().code(),
            absl::StatusCode::kInvalidArgument);
  EtcdClientOptions bad;
  bad.endpoints = {"127.0.0.1:2379", "nocolon"};
  absl::Status s = EtcdClient::Create(bad).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'nocolon'"), std::string::npos) << s;
}

TEST(PrefixEndTest, IncrementsTheLastByteThatCan) {
  EXPECT_EQ(PrefixEnd("/a/log/"), "/a/log0");
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixEnd(std::string("\xff\xff", 2)), std::string(1, '\0'));
}

TEST_F(EtcdClientTest, PutThenRangeReadsTheValueAndPrefixRangesAreOrdered) {
  ASSERT_TRUE(Put("/t/b", "2").ok());
  ASSERT_TRUE(Put("/t/a", "1").ok());
  ASSERT_TRUE(Put("/u/a", "other").ok());
  etcdserverpb::RangeRequest r;
  r.set_key("/t/");
  r.set_range_end(PrefixEnd("/t/"));
  auto got = client_->Range(r);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->kvs_size(), 2);
  EXPECT_EQ(got->kvs(0).key(), "/t/a");
  EXPECT_EQ(got->kvs(0).value(), "1");
  EXPECT_EQ(got->kvs(1).key(), "/t/b");
  EXPECT_EQ(got->kvs(1).value(), "2");
  auto missing = Get("/t/none");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->kvs_size(), 0);
}

TEST_F(EtcdClientTest, TxnCompareOnModRevisionSucceedsOnceThenFails) {
  auto put = Put("/head", "h1");
  ASSERT_TRUE(put.ok()) << put.status();
  const int64_t rev = put->header().revision();
  auto cas = [&](int64_t expected, const std::string& value) {
    etcdserverpb::TxnRequest t;
    etcdserverpb::Compare* c = t.add_compare();
    c->set_key("/head");
    c->set_target(etcdserverpb::Compare::MOD);
    c->set_result(etcdserverpb::Compare::EQUAL);
    c->set_mod_revision(expected);
    etcdserverpb::PutRequest* p = t.add_success()->mutable_request_put();
    p->set_key("/head");
    p->set_value(value);
    t.add_failure()->mutable_request_range()->set_key("/head");
    return client_->Txn(t);
  };
  auto first = cas(rev, "h2");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->succeeded());
  auto second = cas(rev, "h3");  // a writer that missed the first
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->succeeded());
  ASSERT_EQ(second->responses_size(), 1);
  ASSERT_EQ(second->responses(0).response_range().kvs_size(), 1);
  EXPECT_EQ(second->responses(0).response_range().kvs(0).value(), "h2");
  EXPECT_EQ(second->responses(0).response_range().kvs(0).mod_revision(),
            first->header().revision());
}

TEST_F(EtcdClientTest, RevokedLeaseDeletesItsKeysAndCannotBeRenewed) {
  int64_t ttl = 0;
  auto lease = client_->LeaseGrant(5, &ttl);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(ttl, 5);
  ASSERT_TRUE(Put("/leased", "x", *lease).ok());
  auto renewed = client_->LeaseKeepAliveOnce(*lease);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(*renewed, 5);
  ASSERT_TRUE(client_->LeaseRevoke(*lease).ok());
  auto gone = Get("/leased");
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->kvs_size(), 0);
  EXPECT_EQ(client_->LeaseKeepAliveOnce(*lease).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(client_->LeaseRevoke(*lease).ok());  // unknown: OK
}

TEST_F(EtcdClientTest, WatchDeliversEventsFromTheStartRevision) {
  auto first = Put("/w/1", "a");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(Put("/w/2", "b").ok());
  auto watch =
      client_->Watch("/w/", PrefixEnd("/w/"), first->header().revision(),
                     absl::Now() + absl::Seconds(10));
  ASSERT_TRUE(watch.ok()) << watch.status();
  ASSERT_TRUE(Put("/w/3", "c").ok());
  std::vector<std::string> seen;
  while (seen.size() < 3) {
    auto r = (*watch)->Next();
    ASSERT_TRUE(r.ok()) << r.status();
    for (const auto& e : r->events()) seen.push_back(e.kv().key());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"/w/1", "/w/2", "/w/3"}));
}

TEST_F(EtcdClientTest, WatchFromACompactedRevisionIsOutOfRange) {
  auto first = Put("/c/1", "a");
  ASSERT_TRUE(first.ok());
  auto second = Put("/c/1", "b");
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(client_->Compact(second->header().revision()).ok());
  EXPECT_TRUE(client_->Compact(first->header().revision()).ok());  // again
  auto watch =
      client_->Watch("/c/", PrefixEnd("/c/"), first->header().revision(),
                     absl::Now() + absl::Seconds(10));
  absl::Status s = watch.ok() ? (*watch)->Next().status() : watch.status();
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange) << s;
  EXPECT_NE(s.message().find(absl::StrCat(second->header().revision())),
            std::string::npos)
      << s;
}

TEST_F(EtcdClientTest, CancelEndsABlockedWatch) {
  auto watch =
      client_->Watch("/idle/", PrefixEnd("/idle/"), 0, absl::InfiniteFuture());
  ASSERT_TRUE(watch.ok()) << watch.status();
  std::thread canceller([&] { (*watch)->Cancel(); });
  absl::Status s = (*watch)->Next().status();
  canceller.join();
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;
}

TEST_F(EtcdClientTest, FailsOverPastAnEndpointNobodyListensOn) {
  // A port of this process's own that refuses connections: a closed one.
  auto dead =
      MakeClient({"127.0.0.1:1", cluster_->endpoint(0)}, absl::Seconds(5));
  etcdserverpb::PutRequest p;
  p.set_key("/failover");
  p.set_value("v");
  auto put = dead->Put(p);
  ASSERT_TRUE(put.ok()) << put.status();
  etcdserverpb::RangeRequest r;
  r.set_key("/failover");
  auto got = dead->Range(r);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->kvs_size(), 1);
  EXPECT_EQ(got->kvs(0).value(), "v");
}

TEST_F(EtcdClientTest, AStoppedMemberFailsTheCallAtItsDeadline) {
  auto quick = MakeClient(cluster_->endpoints(), absl::Seconds(1));
  etcdserverpb::RangeRequest r;
  r.set_key("/x");
  // Connected before the member stops (a loaded machine may need a retry).
  absl::Status warm;
  for (int i = 0; i < 5; ++i) {
    warm = quick->Range(r).status();
    if (warm.ok()) break;
  }
  ASSERT_TRUE(warm.ok()) << warm;
  cluster_->Stop(0);
  const absl::Time start = absl::Now();
  absl::Status s = quick->Range(r).status();
  const absl::Duration took = absl::Now() - start;
  cluster_->Continue(0);
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_GE(took, absl::Milliseconds(900));
  EXPECT_LT(took, absl::Seconds(4));
}

TEST_F(EtcdClientTest, EveryEndpointDownIsUnavailable) {
  cluster_->Kill(0);
  auto c = MakeClient(cluster_->endpoints(), absl::Milliseconds(500));
  etcdserverpb::RangeRequest r;
  r.set_key("/x");
  EXPECT_EQ(c->Range(r).status().code(), absl::StatusCode::kUnavailable);
}

// A member that hangs (stopped: its connection stays open and nothing
// answers) costs one attempt's deadline, not the call: the next member
// answers within the call's deadline, and the calls after it go there first.
TEST(EtcdClientFailoverTest, AHungMemberIsSkippedWithinOneCall) {
  if (!testing::FindEtcd().ok()) GTEST_SKIP() << testing::FindEtcd().status();
  testing::TempDir dir;
  auto cluster = EtcdCluster::Start(dir.path(), 3, absl::Seconds(30));
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  EtcdClientOptions options;
  options.endpoints = (*cluster)->endpoints();  // member 0 first
  auto client = EtcdClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  etcdserverpb::PutRequest put;
  put.set_key("/x");
  put.set_value("1");
  absl::Status warm;
  for (int i = 0; i < 5 && !(warm = (*client)->Put(put).status()).ok(); ++i) {
  }
  ASSERT_TRUE(warm.ok()) << warm;  // connected to member 0
  (*cluster)->Stop(0);
  etcdserverpb::RangeRequest r;
  r.set_key("/x");
  absl::StatusOr<etcdserverpb::RangeResponse> first = (*client)->Range(r);
  absl::StatusOr<etcdserverpb::RangeResponse> second = (*client)->Range(r);
  (*cluster)->Continue(0);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->kvs_size(), 1);
  EXPECT_EQ(first->kvs(0).value(), "1");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->kvs_size(), 1);
}

}  // namespace
}  // namespace partnerledger::replication

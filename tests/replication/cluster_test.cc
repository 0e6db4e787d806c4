// A replicated cluster on loopback: 3 etcd members (Debian's etcd-server)
// and 3 ledgerd nodes with --replication=etcd, each with its own temporary
// data directory and free ports. Checks that appends reach every node with
// identical digests, and what survives a killed leader, a stopped (zombie)
// leader, lost etcd members, a restarted follower and a wiped follower
// restored from a backup: every acknowledged event on every node, positions
// gapless, no event twice, identical digests.
//
// Quick mode (the default, in CI): a few seconds of load per scenario. Long
// mode: PL_REPLICATION_LONG=1 (more clients, more rounds of kills).
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "crash/append_load.h"
#include "crash/ledgerd_process.h"
#include "google/protobuf/util/time_util.h"
#include "partnerledger/v1/admin.grpc.pb.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "replication/etcd_client.h"
#include "replication/etcd_cluster.h"
#include "replication/ledger_cluster.h"
#include "test_support.h"
#include "util/httplib_config.h"

namespace partnerledger::replication {
namespace {

namespace pb = ::partnerledger::v1;
using crash::Ack;
using crash::LedgerdProcess;
using std::chrono::milliseconds;

constexpr char kPrefix[] = "/partnerledger/test";
constexpr int kNodes = testing::LedgerCluster::kNodes;
// The leader's lease: a stopped or killed leader is replaced after this.
constexpr int kLeaseTtlSeconds = 2;

bool LongMode() {
  const char* v = std::getenv("PL_REPLICATION_LONG");
  return v != nullptr && std::string(v) == "1";
}

using Cluster = testing::LedgerCluster;
using testing::WaitForConvergence;

// Clients that append to whichever node leads: a refused append
// (UNAVAILABLE, DEADLINE_EXCEEDED) is retried unchanged on the node the
// x-leader trailer names, else on the next node, until it is acknowledged
// (a retry of an append that did commit returns the original position,
// replayed) or the load stops. Every acknowledgement is recorded.
class FailoverLoad {
 public:
  FailoverLoad(Cluster* cluster, int clients, uint64_t seed);
  ~FailoverLoad() { StopAndJoin(); }

  uint64_t acknowledged() const { return acked_.load(); }
  // Blocks until `n` acknowledgements; false after `timeout`.
  bool WaitForAcks(uint64_t n, absl::Duration timeout);
  std::vector<Ack> StopAndJoin();
  // The time of the last acknowledgement.
  absl::Time last_ack() const {
    absl::MutexLock lock(&mu_);
    return last_ack_;
  }
  std::vector<std::string> unexpected() const {
    absl::MutexLock lock(&mu_);
    return unexpected_;
  }

 private:
  void Client(int index, uint64_t seed);

  Cluster* const cluster_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> acked_{0};
  std::vector<std::thread> threads_;
  mutable absl::Mutex mu_;
  std::vector<Ack> acks_ ABSL_GUARDED_BY(mu_);
  absl::Time last_ack_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::vector<std::string> unexpected_ ABSL_GUARDED_BY(mu_);
};

FailoverLoad::FailoverLoad(Cluster* cluster, int clients, uint64_t seed)
    : cluster_(cluster) {
  for (int i = 0; i < clients; ++i) {
    threads_.emplace_back([this, i, seed] { Client(i, seed); });
  }
}

bool FailoverLoad::WaitForAcks(uint64_t n, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (acked_.load() < n) {
    if (absl::Now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return true;
}

std::vector<Ack> FailoverLoad::StopAndJoin() {
  stop_.store(true);
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  absl::MutexLock lock(&mu_);
  return acks_;
}

void FailoverLoad::Client(int index, uint64_t seed) {
  std::mt19937_64 rng(seed * 1000 + static_cast<uint64_t>(index));
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  auto stub_for = [&](const std::string& address) {
    auto& c = channels[address];
    if (c == nullptr) c = crash::NewChannel(address);
    return pb::EventStoreService::NewStub(c);
  };
  size_t target = static_cast<size_t>(index) % kNodes;
  std::string hinted;
  while (!stop_.load()) {
    const std::string id = crash::RandomUuid(rng);
    const pb::AppendEventsRequest req = crash::NewRegistration(id);
    // The same request until acknowledged (or the load stops).
    while (!stop_.load()) {
      std::string address = hinted;
      if (address.empty()) {
        const std::vector<std::string> a = cluster_->addresses();
        for (size_t k = 0; k < a.size() && a[target].empty(); ++k) {
          target = (target + 1) % a.size();
        }
        address = a[target];
      }
      hinted.clear();
      pb::AppendEventsResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + milliseconds(3000));
      const grpc::Status s = stub_for(address)->AppendEvents(&ctx, req, &resp);
      if (s.ok()) {
        if (resp.events_size() < 1 || resp.events(0).event_id() != id ||
            resp.events(0).position() == 0) {
          absl::MutexLock lock(&mu_);
          unexpected_.push_back("malformed response " +
                                resp.ShortDebugString());
          break;
        }
        absl::MutexLock lock(&mu_);
        acks_.push_back(Ack{id, resp.events(0).position()});
        last_ack_ = absl::Now();
        acked_.fetch_add(1);
        break;
      }
      if (s.error_code() != grpc::StatusCode::UNAVAILABLE &&
          s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
        absl::MutexLock lock(&mu_);
        unexpected_.push_back(absl::StrCat("append ", id, " on ", address, ": ",
                                           s.error_code(), " ",
                                           s.error_message()));
        break;
      }
      const auto& trailers = ctx.GetServerTrailingMetadata();
      auto it = trailers.find("x-leader");
      if (it != trailers.end() && it->second.size() > 0) {
        hinted.assign(it->second.data(), it->second.size());
      } else {
        target = (target + 1) % kNodes;
        std::this_thread::sleep_for(milliseconds(20));
      }
    }
  }
}

// Every node holds every acknowledged event at its position, positions
// 1..head gapless, no event id twice, its chain verifies, and all have the
// same head digest.
void ExpectEveryAckEverywhere(Cluster& cluster, const std::vector<Ack>& acks) {
  absl::StatusOr<uint64_t> head =
      WaitForConvergence(cluster, absl::Seconds(20));
  ASSERT_TRUE(head.ok()) << head.status();
  std::set<std::string> ids;
  for (const Ack& a : acks) {
    EXPECT_TRUE(ids.insert(a.event_id).second) << "acked twice: " << a.event_id;
    EXPECT_LE(a.position, *head);
  }
  for (const std::string& address : cluster.addresses()) {
    absl::StatusOr<crash::LogCheck> check =
        crash::CheckLog(address, acks, milliseconds(10'000));
    ASSERT_TRUE(check.ok()) << address << ": " << check.status();
    EXPECT_EQ(check->head, *head) << address;
    EXPECT_EQ(check->lost, 0u)
        << address << ": " << absl::StrJoin(check->lost_examples, ", ");
  }
}

class ReplicationClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::FindEtcd().ok()) {
      GTEST_SKIP() << testing::FindEtcd().status();
    }
    testing::LedgerClusterOptions options;
    options.etcd_prefix = kPrefix;
    options.lease_ttl_seconds = kLeaseTtlSeconds;
    options.backups = true;
    options.node_flags = NodeFlags();
    cluster_ = std::make_unique<Cluster>(dir_.path(), std::move(options));
    absl::Status s = cluster_->Start();
    ASSERT_TRUE(s.ok()) << s;
    leader_ = cluster_->WaitForLeader(absl::Seconds(15));
    ASSERT_GE(leader_, 0) << "no leader elected";
  }

  virtual std::vector<std::string> NodeFlags() const { return {}; }

  void TearDown() override {
    if (HasFailure() && cluster_ != nullptr) {
      std::cerr << cluster_->NodeLogTails(3000);
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<Cluster> cluster_;
  int leader_ = -1;
};

TEST_F(ReplicationClusterTest, AppendsOnTheLeaderReachEveryNodeWithOneDigest) {
  FailoverLoad load(cluster_.get(), 2, 1);
  ASSERT_TRUE(load.WaitForAcks(60, absl::Seconds(30)));
  std::vector<Ack> acks = load.StopAndJoin();
  EXPECT_TRUE(load.unexpected().empty()) << load.unexpected()[0];
  ExpectEveryAckEverywhere(*cluster_, acks);
}

TEST_F(ReplicationClusterTest, MetricsReportRoleAppliedPositionAndLag) {
  FailoverLoad load(cluster_.get(), 2, 6);
  ASSERT_TRUE(load.WaitForAcks(20, absl::Seconds(30)));
  load.StopAndJoin();
  absl::StatusOr<uint64_t> head =
      WaitForConvergence(*cluster_, absl::Seconds(20));
  ASSERT_TRUE(head.ok()) << head.status();
  for (int i = 0; i < kNodes; ++i) {
    const int port = cluster_->MetricsPort(i);
    ASSERT_GT(port, 0) << "n" << i;
    httplib::Client http("127.0.0.1", port);
    httplib::Result r = http.Get("/metrics");
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    ASSERT_EQ(r->status, 200);
    const std::string& text = r->body;
    EXPECT_NE(text.find(absl::StrCat("\npartnerledger_replication_leader ",
                                     i == leader_ ? 1 : 0, "\n")),
              std::string::npos)
        << "n" << i << "\n"
        << text;
    EXPECT_NE(
        text.find(absl::StrCat("\npartnerledger_replication_applied_position ",
                               *head, "\n")),
        std::string::npos)
        << "n" << i;
    EXPECT_NE(text.find("\npartnerledger_replication_lag_positions 0\n"),
              std::string::npos)
        << "n" << i;
    EXPECT_NE(text.find("\npartnerledger_replication_etcd_round_trip_seconds "),
              std::string::npos)
        << "n" << i;
  }
}

TEST_F(ReplicationClusterTest, AFollowerRefusesAppendsNamingTheLeader) {
  const int follower = (leader_ + 1) % kNodes;
  auto stub = pb::EventStoreService::NewStub(
      crash::NewChannel(cluster_->address(follower)));
  pb::AppendEventsResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + milliseconds(5000));
  const pb::AppendEventsRequest req =
      crash::NewRegistration(testing::NextUuid());
  grpc::Status s = stub->AppendEvents(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  auto it = ctx.GetServerTrailingMetadata().find("x-leader");
  ASSERT_NE(it, ctx.GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()),
            cluster_->address(leader_));
  absl::StatusOr<uint64_t> head =
      WaitForConvergence(*cluster_, absl::Seconds(10));
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(*head, 0u);
}

TEST_F(ReplicationClusterTest, KilledLeaderIsReplacedAndNoAckIsLost) {
  const int rounds = LongMode() ? 5 : 1;
  FailoverLoad load(cluster_.get(), LongMode() ? 16 : 4, 2);
  for (int round = 0; round < rounds; ++round) {
    ASSERT_TRUE(load.WaitForAcks(load.acknowledged() + 50, absl::Seconds(30)));
    const absl::Time killed_at = absl::Now();
    cluster_->KillNode(leader_);
    const int next = cluster_->WaitForLeader(absl::Seconds(15), leader_);
    ASSERT_GE(next, 0) << "no new leader";
    const uint64_t before = load.acknowledged();
    ASSERT_TRUE(load.WaitForAcks(before + 1, absl::Seconds(15)));
    const absl::Duration failover = load.last_ack() - killed_at;
    std::cerr << "round " << round << ": n" << next << " leads, first ack "
              << absl::FormatDuration(failover) << " after the kill\n";
    EXPECT_LT(failover, absl::Seconds(kLeaseTtlSeconds + 8));
    // The killed node comes back (same data) and catches up.
    absl::Status s = cluster_->StartNode(leader_);
    ASSERT_TRUE(s.ok()) << s;
    leader_ = next;
  }
  ASSERT_TRUE(load.WaitForAcks(load.acknowledged() + 50, absl::Seconds(30)));
  std::vector<Ack> acks = load.StopAndJoin();
  EXPECT_TRUE(load.unexpected().empty()) << load.unexpected()[0];
  ExpectEveryAckEverywhere(*cluster_, acks);
}

TEST_F(ReplicationClusterTest, AStoppedLeaderIsFencedAndRejoinsAsFollower) {
  FailoverLoad load(cluster_.get(), 4, 3);
  ASSERT_TRUE(load.WaitForAcks(50, absl::Seconds(30)));
  const int zombie = leader_;
  ASSERT_EQ(::kill(cluster_->pid(zombie), SIGSTOP), 0);
  const int next = cluster_->WaitForLeader(absl::Seconds(15), zombie);
  ASSERT_GE(next, 0) << "no leader took over from the stopped one";
  ASSERT_TRUE(load.WaitForAcks(load.acknowledged() + 50, absl::Seconds(30)));
  ASSERT_EQ(::kill(cluster_->pid(zombie), SIGCONT), 0);
  // Its in-flight groups are refused; it follows the new leader.
  ASSERT_TRUE(load.WaitForAcks(load.acknowledged() + 50, absl::Seconds(30)));
  std::vector<Ack> acks = load.StopAndJoin();
  EXPECT_TRUE(load.unexpected().empty()) << load.unexpected()[0];
  ExpectEveryAckEverywhere(*cluster_, acks);
  EXPECT_EQ(cluster_->WaitForLeader(absl::Seconds(1)), next);
  // The old leader refuses appends now, naming the new one.
  auto stub = pb::EventStoreService::NewStub(
      crash::NewChannel(cluster_->address(zombie)));
  pb::AppendEventsResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + milliseconds(5000));
  grpc::Status s = stub->AppendEvents(
      &ctx, crash::NewRegistration(testing::NextUuid()), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

TEST_F(ReplicationClusterTest, AppendsNeedAnEtcdQuorumReadsDoNot) {
  FailoverLoad load(cluster_.get(), 2, 4);
  ASSERT_TRUE(load.WaitForAcks(20, absl::Seconds(30)));
  cluster_->etcd().Kill(2);  // one of three: the quorum holds
  ASSERT_TRUE(load.WaitForAcks(load.acknowledged() + 30, absl::Seconds(20)));
  std::vector<Ack> acks = load.StopAndJoin();

  cluster_->etcd().Kill(1);  // two of three: no quorum
  // Within a lease's time the leader steps down or its groups fail.
  const std::string leader = cluster_->address(leader_);
  auto stub = pb::EventStoreService::NewStub(crash::NewChannel(leader));
  grpc::StatusCode code = grpc::StatusCode::OK;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    pb::AppendEventsResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + milliseconds(5000));
    const pb::AppendEventsRequest req =
        crash::NewRegistration(testing::NextUuid());
    grpc::Status s = stub->AppendEvents(&ctx, req, &resp);
    code = s.error_code();
    if (s.ok()) {
      acks.push_back(Ack{req.events(0).event_id(), resp.events(0).position()});
    } else {
      break;
    }
  }
  EXPECT_EQ(code, grpc::StatusCode::UNAVAILABLE);
  // Reads go on, on every node.
  for (const std::string& address : cluster_->addresses()) {
    auto s2 = pb::EventStoreService::NewStub(crash::NewChannel(address));
    pb::ReadAllRequest req;
    req.set_max_count(10);
    pb::ReadAllResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + milliseconds(5000));
    grpc::Status s = s2->ReadAll(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << address << ": " << s.error_message();
    EXPECT_GT(resp.events_size(), 0) << address;
  }

  ASSERT_TRUE(cluster_->etcd().Restart(1).ok());
  ASSERT_TRUE(cluster_->etcd().Restart(2).ok());
  FailoverLoad resumed(cluster_.get(), 2, 5);
  ASSERT_TRUE(resumed.WaitForAcks(30, absl::Seconds(30)));
  for (const Ack& a : resumed.StopAndJoin()) acks.push_back(a);
  ExpectEveryAckEverywhere(*cluster_, acks);
}

// Retention running (and compacting etcd) every half second, with its
// default floor of positions kept behind the head.
class ReplicationRestartTest : public ReplicationClusterTest {
 protected:
  std::vector<std::string> NodeFlags() const override {
    return {"--etcd_retention_interval_ms=500"};
  }
};

TEST_F(ReplicationRestartTest,
       AFollowerRestartedAndAWipedFollowerRestoredConvergeToOneDigest) {
  FailoverLoad load(cluster_.get(), 2, 7);
  ASSERT_TRUE(load.WaitForAcks(30, absl::Seconds(30)));
  const int f = (leader_ + 1) % kNodes;
  // Restart: killed during the load, back on the same data.
  cluster_->KillNode(f);
  ASSERT_TRUE(load.WaitForAcks(load.acknowledged() + 30, absl::Seconds(30)));
  absl::Status s = cluster_->StartNode(f);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_TRUE(load.WaitForAcks(load.acknowledged() + 30, absl::Seconds(30)));

  // A backup of the follower, then more appends, then its data directory
  // is lost: restored from the backup, it catches up from etcd.
  auto admin =
      pb::AdminService::NewStub(crash::NewChannel(cluster_->address(f)));
  pb::CreateBackupRequest req;
  req.set_backup_dir("nightly");
  pb::CreateBackupResponse backup;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + milliseconds(20000));
    grpc::Status b = admin->CreateBackup(&ctx, req, &backup);
    ASSERT_TRUE(b.ok()) << b.error_message();
  }
  ASSERT_GT(backup.digest().position(), 0u);
  ASSERT_TRUE(load.WaitForAcks(load.acknowledged() + 30, absl::Seconds(30)));
  cluster_->KillNode(f);
  std::filesystem::remove_all(cluster_->DataDir(f));
  absl::StatusOr<std::string> ledgerd = crash::FindLedgerd();
  ASSERT_TRUE(ledgerd.ok()) << ledgerd.status();
  const std::string restore =
      absl::StrCat(*ledgerd, " --restore_backup=", cluster_->BackupRoot(f),
                   "/nightly", " --data_dir=", cluster_->DataDir(f), " 2>>",
                   cluster_->dir(), "/restore.log");
  ASSERT_EQ(std::system(restore.c_str()), 0)
      << crash::ReadFileOrEmpty(cluster_->dir() + "/restore.log");
  ASSERT_TRUE(load.WaitForAcks(load.acknowledged() + 30, absl::Seconds(30)));
  s = cluster_->StartNode(f);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_TRUE(load.WaitForAcks(load.acknowledged() + 30, absl::Seconds(30)));
  std::vector<Ack> acks = load.StopAndJoin();
  EXPECT_TRUE(load.unexpected().empty()) << load.unexpected()[0];
  // Every acknowledged event on every node, the restored one included.
  ExpectEveryAckEverywhere(*cluster_, acks);
}

}  // namespace
}  // namespace partnerledger::replication

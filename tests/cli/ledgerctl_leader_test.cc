// ledgerctl append against a replica that does not lead: it follows the
// x-leader trailer to the leader and sends the same requests there. The
// "follower" here is an in-process EventStoreService that refuses every
// append UNAVAILABLE naming a real ledgerd as the leader.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "crash/ledgerd_process.h"
#include "grpcpp/grpcpp.h"
#include "partnerledger/replication.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "test_support.h"

namespace partnerledger::cli {
namespace {

using std::chrono::milliseconds;

class Refusing final : public v1::EventStoreService::Service {
 public:
  explicit Refusing(std::string leader) : leader_(std::move(leader)) {}
  void set_leader(std::string leader) {
    absl::MutexLock lock(&mu_);
    leader_ = std::move(leader);
  }
  grpc::Status AppendEvents(grpc::ServerContext* ctx,
                            const v1::AppendEventsRequest*,
                            v1::AppendEventsResponse*) override {
    calls_.fetch_add(1);
    absl::MutexLock lock(&mu_);
    if (!leader_.empty()) ctx->AddTrailingMetadata(kLeaderTrailer, leader_);
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "not the leader");
  }
  int calls() const { return calls_.load(); }

 private:
  absl::Mutex mu_;
  std::string leader_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> calls_{0};
};

class LedgerctlLeaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> bin = crash::FindLedgerd();
    ASSERT_TRUE(bin.ok()) << bin.status();
    crash::LedgerdFlags f;
    f.data_dir = dir_.Sub("data");
    f.port_file = dir_.Sub("port");
    f.log_file = dir_.Sub("ledgerd.log");
    auto p = crash::LedgerdProcess::Start(*bin, f, milliseconds(20'000));
    ASSERT_TRUE(p.ok()) << p.status();
    leader_ = std::move(*p);
  }

  // Serves `service` on a free loopback port; returns "127.0.0.1:port".
  std::string Serve(Refusing* service) {
    int port = 0;
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(service);
    server_ = b.BuildAndStart();
    return absl::StrCat("127.0.0.1:", port);
  }

  // ledgerctl append of the worked example against `server`: exit code and
  // output.
  std::pair<int, std::string> Append(const std::string& server) {
    const std::string out = dir_.Sub("out");
    const std::string cmd =
        absl::StrCat(PL_LEDGERCTL, " append --server=", server, " ",
                     PL_EXAMPLES_DIR, "/worked-example.jsonl > ", out, " 2>&1");
    const int rc = std::system(cmd.c_str());
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, crash::ReadFileOrEmpty(out)};
  }

  testing::TempDir dir_;
  std::unique_ptr<crash::LedgerdProcess> leader_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(LedgerctlLeaderTest, AppendFollowsTheLeaderNamedInTheTrailer) {
  Refusing follower(leader_->address());
  const std::string address = Serve(&follower);
  auto [code, out] = Append(address);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("commit position 18"), std::string::npos) << out;
  // Only the first request went to the follower; the rest to the leader.
  EXPECT_EQ(follower.calls(), 1);
}

TEST_F(LedgerctlLeaderTest, WithoutALeaderTheRefusalIsReported) {
  Refusing follower("");
  const std::string address = Serve(&follower);
  auto [code, out] = Append(address);
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("not the leader"), std::string::npos) << out;
  EXPECT_EQ(follower.calls(), 1);
}

TEST_F(LedgerctlLeaderTest, FollowingStopsAfterThreeHops) {
  // Two replicas naming each other as the leader: no endless loop.
  Refusing a("");
  Refusing b("");
  const std::string address_a = Serve(&a);
  std::unique_ptr<grpc::Server> first = std::move(server_);
  const std::string address_b = Serve(&b);
  a.set_leader(address_b);
  b.set_leader(address_a);
  auto [code, out] = Append(address_a);
  EXPECT_NE(code, 0) << out;
  EXPECT_NE(out.find("not the leader"), std::string::npos) << out;
  EXPECT_EQ(a.calls() + b.calls(), 4);  // the request and 3 hops
}

}  // namespace
}  // namespace partnerledger::cli

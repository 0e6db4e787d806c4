// A test fixture with one real etcd member in a temporary directory and a
// client of it (default options), for the suites that talk to etcd.
#ifndef PARTNERLEDGER_TESTS_REPLICATION_ONE_ETCD_MEMBER_H_
#define PARTNERLEDGER_TESTS_REPLICATION_ONE_ETCD_MEMBER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "replication/etcd_client.h"
#include "replication/etcd_cluster.h"
#include "test_support.h"

namespace partnerledger::testing {

class OneEtcdMemberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const absl::StatusOr<std::string> etcd = FindEtcd();
    if (!etcd.ok()) GTEST_SKIP() << etcd.status();
    auto cluster = EtcdCluster::Start(dir_.path(), 1, absl::Seconds(20),
                                      std::nullopt, etcd_args_);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
    replication::EtcdClientOptions options;
    options.endpoints = cluster_->endpoints();
    auto client = replication::EtcdClient::Create(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
  }

  // Flags for the member; a subclass sets them before SetUp.
  std::vector<std::string> etcd_args_;
  TempDir dir_;
  std::unique_ptr<EtcdCluster> cluster_;
  std::unique_ptr<replication::EtcdClient> client_;
};

}  // namespace partnerledger::testing

#endif  // PARTNERLEDGER_TESTS_REPLICATION_ONE_ETCD_MEMBER_H_

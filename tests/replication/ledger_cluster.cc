#include "replication/ledger_cluster.h"

#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "crash/append_load.h"
#include "grpcpp/grpcpp.h"
#include "partnerledger/v1/event_store.grpc.pb.h"

namespace partnerledger::testing {

LedgerCluster::LedgerCluster(std::string dir, LedgerClusterOptions options)
    : dir_(std::move(dir)), options_(std::move(options)) {}

absl::Status LedgerCluster::Start() {
  absl::StatusOr<std::string> ledgerd = crash::FindLedgerd();
  if (!ledgerd.ok()) return ledgerd.status();
  ledgerd_ = *ledgerd;
  auto etcd = EtcdCluster::Start(dir_, 3, absl::Seconds(30));
  if (!etcd.ok()) return etcd.status();
  etcd_ = std::move(*etcd);
  replication::EtcdClientOptions options;
  options.endpoints = etcd_->endpoints();
  auto client = replication::EtcdClient::Create(options);
  if (!client.ok()) return client.status();
  etcd_client_ = std::move(*client);
  {
    absl::MutexLock lock(&mu_);
    nodes_.resize(kNodes);
  }
  for (int i = 0; i < kNodes; ++i) {
    absl::Status s = StartNode(i);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status LedgerCluster::StartNode(int i) {
  crash::LedgerdFlags flags;
  flags.data_dir = DataDir(i);
  flags.port_file = absl::StrCat(dir_, "/n", i, ".port");
  flags.log_file = absl::StrCat(dir_, "/n", i, ".log");
  flags.extra_args = {
      "--replication=etcd",
      absl::StrCat("--etcd_endpoints=", etcd_->endpoints_flag()),
      absl::StrCat("--node_name=n", i),
      absl::StrCat("--etcd_prefix=", options_.etcd_prefix),
      absl::StrCat("--etcd_lease_ttl_s=", options_.lease_ttl_seconds),
      absl::StrCat("--backup_root=", options_.backups ? BackupRoot(i) : ""),
      "--metrics_listen=127.0.0.1:0"};
  flags.extra_args.insert(flags.extra_args.end(), options_.node_flags.begin(),
                          options_.node_flags.end());
  auto p = crash::LedgerdProcess::Start(ledgerd_, flags,
                                        std::chrono::milliseconds(30'000));
  if (!p.ok()) return p.status();
  absl::MutexLock lock(&mu_);
  nodes_[i] = std::move(*p);
  return absl::OkStatus();
}

void LedgerCluster::KillNode(int i) {
  std::unique_ptr<crash::LedgerdProcess> p;
  {
    absl::MutexLock lock(&mu_);
    p = std::move(nodes_[i]);
  }
  if (p != nullptr) (void)p->KillNine();
}

std::vector<std::string> LedgerCluster::addresses() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& n : nodes_) out.push_back(n ? n->address() : "");
  return out;
}

pid_t LedgerCluster::pid(int i) const {
  absl::MutexLock lock(&mu_);
  return nodes_[i] ? nodes_[i]->pid() : -1;
}

int LedgerCluster::WaitForLeader(absl::Duration timeout, int other_than) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    etcdserverpb::RangeRequest r;
    r.set_key(absl::StrCat(options_.etcd_prefix, "/leader"));
    auto got = etcd_client_->Range(r);
    if (got.ok() && got->kvs_size() == 1) {
      const std::vector<std::string> a = addresses();
      for (int i = 0; i < kNodes; ++i) {
        if (i != other_than && !a[i].empty() && a[i] == got->kvs(0).value()) {
          return i;
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return -1;
}

int LedgerCluster::MetricsPort(int i) const {
  const std::string log = NodeLog(i);
  const std::string tag = "\"metrics_port\":";
  const size_t at = log.rfind(tag);
  if (at == std::string::npos) return 0;
  return std::atoi(log.c_str() + at + tag.size());
}

std::string LedgerCluster::BackupRoot(int i) const {
  return absl::StrCat(dir_, "/b", i);
}

std::string LedgerCluster::DataDir(int i) const {
  return absl::StrCat(dir_, "/n", i);
}

std::string LedgerCluster::NodeLog(int i) const {
  return crash::ReadFileOrEmpty(absl::StrCat(dir_, "/n", i, ".log"));
}

std::string LedgerCluster::NodeLogTails(size_t bytes_max) const {
  std::string out;
  for (int i = 0; i < kNodes; ++i) {
    std::string log = NodeLog(i);
    if (log.size() > bytes_max) log = log.substr(log.size() - bytes_max);
    absl::StrAppend(&out, "--- n", i, " log tail ---\n", log, "\n");
  }
  return out;
}

absl::StatusOr<uint64_t> WaitForConvergence(LedgerCluster& cluster,
                                            absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    std::set<std::string> digests;
    std::vector<std::string> seen;
    uint64_t head = 0;
    bool all = true;
    for (const std::string& address : cluster.addresses()) {
      auto stub = v1::EventStoreService::NewStub(crash::NewChannel(address));
      v1::GetDigestRequest req;
      v1::GetDigestResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(2000));
      grpc::Status s = stub->GetDigest(&ctx, req, &resp);
      if (!s.ok()) {
        all = false;
        seen.push_back(absl::StrCat(address, ": ", s.error_message()));
        continue;
      }
      digests.insert(
          absl::StrCat(resp.digest().position(), ":", resp.hash_hex()));
      seen.push_back(absl::StrCat(address, " @", resp.digest().position(), " ",
                                  resp.hash_hex().substr(0, 12)));
      head = resp.digest().position();
    }
    if (all && digests.size() == 1) return head;
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("nodes did not converge: ", absl::StrJoin(seen, "; ")));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace partnerledger::testing

// TLS to etcd. One etcd member serves its client URL over https with
// --client-cert-auth; the certificates are made with the openssl CLI at
// test time in a temporary directory: a CA, the member's certificate (IP
// 127.0.0.1) and a client certificate it signed, plus a second CA and a
// client certificate of that one.
//
// The client works with the right CA and a client certificate; without a
// client certificate, trusting another CA, presenting another CA's
// certificate or speaking plaintext, every call fails UNAVAILABLE and
// writes nothing. ledgerd refuses to start on partial, unreadable or
// mismatched TLS files, leads and appends with the right ones, and with
// the wrong CA stays a follower that refuses appends UNAVAILABLE.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "crash/append_load.h"
#include "crash/ledgerd_process.h"
#include "google/protobuf/util/time_util.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "replication/etcd_client.h"
#include "replication/etcd_cluster.h"
#include "test_support.h"

namespace partnerledger::replication {
namespace {

namespace pb = ::partnerledger::v1;
using std::chrono::milliseconds;

constexpr char kPrefix[] = "/partnerledger/tls-test";

// Runs the openssl commands in `dir`; false (with the log) if one fails.
bool MakePki(const std::string& dir, std::string* log) {
  const std::string ec =
      "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const std::string ca_ext =
      " -addext basicConstraints=critical,CA:TRUE"
      " -addext keyUsage=critical,keyCertSign,cRLSign";
  std::ofstream(dir + "/member.ext")
      << "subjectAltName=IP:127.0.0.1\n"
      << "extendedKeyUsage=serverAuth,clientAuth\n";
  std::ofstream(dir + "/client.ext") << "extendedKeyUsage=clientAuth\n";
  const std::vector<std::string> steps = {
      absl::StrCat("req -x509 ", ec,
                   " -keyout ca.key -out ca.pem -days 2 -subj /CN=etcd-ca",
                   ca_ext),
      absl::StrCat(
          "req -x509 ", ec,
          " -keyout other-ca.key -out other-ca.pem -days 2 -subj /CN=other-ca",
          ca_ext),
      absl::StrCat("req ", ec,
                   " -keyout member.key -out member.csr -subj /CN=etcd-m0"),
      "x509 -req -in member.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
      "-days 2 -extfile member.ext -out member.pem",
      absl::StrCat("req ", ec,
                   " -keyout client.key -out client.csr -subj /CN=ledgerd"),
      "x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
      "-days 2 -extfile client.ext -out client.pem",
      absl::StrCat("req ", ec,
                   " -keyout stranger.key -out stranger.csr -subj /CN=ledgerd"),
      "x509 -req -in stranger.csr -CA other-ca.pem -CAkey other-ca.key "
      "-CAcreateserial -days 2 -extfile client.ext -out stranger.pem",
  };
  for (const std::string& step : steps) {
    const std::string cmd =
        absl::StrCat("cd '", dir, "' && openssl ", step, " >>openssl.log 2>&1");
    if (std::system(cmd.c_str()) != 0) {
      *log = absl::StrCat("failed: openssl ", step, "\n",
                          crash::ReadFileOrEmpty(dir + "/openssl.log"));
      return false;
    }
  }
  return true;
}

// The certificates, made once per test suite (ctest runs each test in a
// process of its own); EtcdTlsTest adds the member.
class EtcdTlsFilesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("pl-etcd-tls-");
    pki_made_ = MakePki(dir_->path(), &pki_log_);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(pki_made_) << pki_log_; }

  static std::string Path(const std::string& name) { return dir_->Sub(name); }
  static std::string Pem(const std::string& name) {
    return crash::ReadFileOrEmpty(Path(name));
  }
  // Trusting `ca`, presenting `client` ("" = no client certificate).
  static EtcdTls Tls(const std::string& ca, const std::string& client) {
    EtcdTls tls;
    tls.ca_pem = Pem(ca);
    if (!client.empty()) {
      tls.cert_pem = Pem(client + ".pem");
      tls.key_pem = Pem(client + ".key");
    }
    return tls;
  }

  static testing::TempDir* dir_;
  static bool pki_made_;
  static std::string pki_log_;
};

testing::TempDir* EtcdTlsFilesTest::dir_ = nullptr;
bool EtcdTlsFilesTest::pki_made_ = false;
std::string EtcdTlsFilesTest::pki_log_;

class EtcdTlsTest : public EtcdTlsFilesTest {
 protected:
  static void SetUpTestSuite() {
    EtcdTlsFilesTest::SetUpTestSuite();
    if (!pki_made_ || !testing::FindEtcd().ok()) return;
    testing::EtcdClusterTls tls;
    tls.ca_file = Path("ca.pem");
    tls.cert_file = Path("member.pem");
    tls.key_file = Path("member.key");
    tls.client = Tls("ca.pem", "client");
    auto cluster =
        testing::EtcdCluster::Start(dir_->path(), 1, absl::Seconds(20), tls);
    if (cluster.ok()) {
      etcd_ = cluster->release();
    } else {
      etcd_error_ = new std::string(cluster.status().ToString());
    }
  }
  static void TearDownTestSuite() {
    delete etcd_;
    etcd_ = nullptr;
    delete etcd_error_;
    etcd_error_ = nullptr;
    EtcdTlsFilesTest::TearDownTestSuite();
  }

  void SetUp() override {
    EtcdTlsFilesTest::SetUp();
    if (HasFatalFailure()) return;
    const absl::StatusOr<std::string> etcd = testing::FindEtcd();
    if (!etcd.ok()) GTEST_SKIP() << etcd.status();
    ASSERT_NE(etcd_, nullptr) << (etcd_error_ ? *etcd_error_ : "");
  }

  static std::unique_ptr<EtcdClient> Client(std::optional<EtcdTls> tls) {
    EtcdClientOptions options;
    options.endpoints = etcd_->endpoints();
    options.call_timeout = absl::Seconds(1);
    options.tls = std::move(tls);
    auto c = EtcdClient::Create(options);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }

  static absl::Status Put(EtcdClient& client, const std::string& key) {
    etcdserverpb::PutRequest p;
    p.set_key(key);
    p.set_value("written");
    return client.Put(p).status();
  }

  // The number of keys at `key` (or under it, as a prefix), read with the
  // right certificates.
  static int KeysAt(const std::string& key, bool prefix = false) {
    std::unique_ptr<EtcdClient> good = Client(Tls("ca.pem", "client"));
    etcdserverpb::RangeRequest r;
    r.set_key(key);
    if (prefix) r.set_range_end(PrefixEnd(key));
    auto got = good->Range(r);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? got->kvs_size() : -1;
  }

  static testing::EtcdCluster* etcd_;
  static std::string* etcd_error_;
};

testing::EtcdCluster* EtcdTlsTest::etcd_ = nullptr;
std::string* EtcdTlsTest::etcd_error_ = nullptr;

// --- LoadEtcdTls: the flags' files ------------------------------------------

TEST_F(EtcdTlsFilesTest, NoFilesMeansPlaintext) {
  absl::StatusOr<std::optional<EtcdTls>> tls = LoadEtcdTls("", "", "");
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_FALSE(tls->has_value());
}

TEST_F(EtcdTlsFilesTest, LoadsTheThreeFiles) {
  absl::StatusOr<std::optional<EtcdTls>> tls =
      LoadEtcdTls(Path("ca.pem"), Path("client.pem"), Path("client.key"));
  ASSERT_TRUE(tls.ok()) << tls.status();
  ASSERT_TRUE(tls->has_value());
  EXPECT_EQ((*tls)->ca_pem, Pem("ca.pem"));
  EXPECT_EQ((*tls)->cert_pem, Pem("client.pem"));
  EXPECT_EQ((*tls)->key_pem, Pem("client.key"));
}

TEST_F(EtcdTlsFilesTest, PartialFilesAreRefusedNamingTheMissingFlag) {
  const std::string ca = Path("ca.pem");
  const std::string cert = Path("client.pem");
  const std::string key = Path("client.key");
  struct Case {
    std::string ca, cert, key;
    const char* missing;
  } cases[] = {
      {"", cert, key, "--etcd_ca_file: required"},
      {ca, "", key, "--etcd_cert_file: required"},
      {ca, cert, "", "--etcd_key_file: required"},
      {ca, "", "", "--etcd_cert_file: required"},
      {"", "", key, "--etcd_ca_file: required"},
  };
  for (const Case& c : cases) {
    absl::Status s = LoadEtcdTls(c.ca, c.cert, c.key).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.missing;
    EXPECT_TRUE(absl::StrContains(s.message(), c.missing)) << s;
  }
}

TEST_F(EtcdTlsFilesTest, UnreadableNonPemAndMismatchedFilesAreRefused) {
  std::ofstream(Path("not-pem.txt")) << "not a certificate\n";
  std::ofstream(Path("garbage.pem"))
      << "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  struct Case {
    std::string ca, cert, key;
    std::string message;
  } cases[] = {
      {Path("missing.pem"), Path("client.pem"), Path("client.key"),
       absl::StrCat("--etcd_ca_file: cannot read ", Path("missing.pem"))},
      {Path("ca.pem"), Path("client.pem"), Path("missing.key"),
       absl::StrCat("--etcd_key_file: cannot read ", Path("missing.key"))},
      {Path("ca.pem"), Path("not-pem.txt"), Path("client.key"),
       absl::StrCat("--etcd_cert_file: ", Path("not-pem.txt"), " is not PEM")},
      {Path("garbage.pem"), Path("client.pem"), Path("client.key"),
       absl::StrCat("--etcd_ca_file: ", Path("garbage.pem"),
                    " holds no PEM certificate")},
      {Path("ca.pem"), Path("client.key"), Path("client.key"),
       absl::StrCat("--etcd_cert_file: ", Path("client.key"),
                    " holds no PEM certificate")},
      {Path("ca.pem"), Path("client.pem"), Path("client.pem"),
       absl::StrCat("--etcd_key_file: ", Path("client.pem"),
                    " holds no unencrypted PEM private key")},
      {Path("ca.pem"), Path("client.pem"), Path("stranger.key"),
       absl::StrCat("--etcd_key_file: ", Path("stranger.key"),
                    " is not the key of ", Path("client.pem"))},
  };
  for (const Case& c : cases) {
    absl::Status s = LoadEtcdTls(c.ca, c.cert, c.key).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_TRUE(absl::StrContains(s.message(), c.message))
        << s << "\nwanted: " << c.message;
  }
}

// --- the client against a member with --client-cert-auth ---------------------

TEST_F(EtcdTlsTest, RightCaAndClientCertificatePutAndGet) {
  std::unique_ptr<EtcdClient> client = Client(Tls("ca.pem", "client"));
  ASSERT_TRUE(Put(*client, "/tls/right").ok());
  etcdserverpb::RangeRequest r;
  r.set_key("/tls/right");
  auto got = client->Range(r);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->kvs_size(), 1);
  EXPECT_EQ(got->kvs(0).value(), "written");
}

TEST_F(EtcdTlsTest, NoClientCertificateIsRefusedUnavailable) {
  std::unique_ptr<EtcdClient> client = Client(Tls("ca.pem", ""));
  absl::Status s = Put(*client, "/tls/no-client-cert");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(KeysAt("/tls/no-client-cert"), 0);
}

TEST_F(EtcdTlsTest, TrustingAnotherCaIsRefusedUnavailable) {
  std::unique_ptr<EtcdClient> client = Client(Tls("other-ca.pem", "client"));
  absl::Status s = Put(*client, "/tls/wrong-ca");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(KeysAt("/tls/wrong-ca"), 0);
}

TEST_F(EtcdTlsTest, ClientCertificateOfAnotherCaIsRefusedUnavailable) {
  std::unique_ptr<EtcdClient> client = Client(Tls("ca.pem", "stranger"));
  absl::Status s = Put(*client, "/tls/stranger");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(KeysAt("/tls/stranger"), 0);
}

TEST_F(EtcdTlsTest, PlaintextClientIsRefusedUnavailable) {
  std::unique_ptr<EtcdClient> client = Client(std::nullopt);
  absl::Status s = Put(*client, "/tls/plaintext");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(KeysAt("/tls/plaintext"), 0);
}

// --- ledgerd
// ------------------------------------------------------------------

// ledgerd's exit status when run to completion with `args` (it must exit
// by itself: used for flags it refuses at startup).
int RunLedgerd(const std::string& args, const std::string& log) {
  absl::StatusOr<std::string> ledgerd = crash::FindLedgerd();
  EXPECT_TRUE(ledgerd.ok()) << ledgerd.status();
  if (!ledgerd.ok()) return -1;
  const std::string cmd =
      absl::StrCat("timeout 20 '", *ledgerd, "' ", args, " >'", log, "' 2>&1");
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Checked before etcd is contacted (the endpoint need not exist).
TEST_F(EtcdTlsFilesTest, LedgerdRefusesToStartOnPartialOrUnreadableTlsFiles) {
  const std::string common = absl::StrCat(
      "--listen=127.0.0.1:0 --backup_root= --replication=etcd --node_name=n1",
      " --etcd_endpoints=127.0.0.1:1 --data_dir=");
  const std::string log = Path("refused.log");
  EXPECT_EQ(RunLedgerd(absl::StrCat(common, Path("refused-1"),
                                    " --etcd_cert_file=", Path("client.pem"),
                                    " --etcd_key_file=", Path("client.key")),
                       log),
            1);
  std::string out = crash::ReadFileOrEmpty(log);
  EXPECT_TRUE(absl::StrContains(out, "startup failed")) << out;
  EXPECT_TRUE(absl::StrContains(out, "--etcd_ca_file: required")) << out;

  EXPECT_EQ(RunLedgerd(absl::StrCat(common, Path("refused-2"),
                                    " --etcd_ca_file=", Path("ca.pem"),
                                    " --etcd_cert_file=", Path("client.pem"),
                                    " --etcd_key_file=", Path("absent.key")),
                       log),
            1);
  out = crash::ReadFileOrEmpty(log);
  EXPECT_TRUE(absl::StrContains(out, "startup failed")) << out;
  EXPECT_TRUE(absl::StrContains(
      out, absl::StrCat("--etcd_key_file: cannot read ", Path("absent.key"))))
      << out;
}

pb::AppendEventsRequest Registration() {
  pb::AppendEventsRequest req;
  const std::string id = testing::NextUuid();
  req.set_stream("partner-" + id);
  req.set_expected_state(pb::EXPECTED_STATE_NO_STREAM);
  pb::ProposedEvent* e = req.add_events();
  e->set_event_id(id);
  *e->mutable_occurred_at() =
      google::protobuf::util::TimeUtil::GetCurrentTime();
  *e->mutable_payload() = testing::PartnerRegisteredPayload("Over TLS B.V.");
  return req;
}

// A replicated ledgerd node against the TLS member, trusting `ca`.
absl::StatusOr<std::unique_ptr<crash::LedgerdProcess>> StartNode(
    const std::string& dir, const std::string& name, const std::string& ca,
    const std::string& endpoints) {
  absl::StatusOr<std::string> ledgerd = crash::FindLedgerd();
  if (!ledgerd.ok()) return ledgerd.status();
  crash::LedgerdFlags flags;
  flags.data_dir = absl::StrCat(dir, "/", name);
  flags.port_file = absl::StrCat(dir, "/", name, ".port");
  flags.log_file = absl::StrCat(dir, "/", name, ".log");
  flags.extra_args = {"--replication=etcd",
                      "--etcd_endpoints=" + endpoints,
                      "--node_name=" + name,
                      absl::StrCat("--etcd_prefix=", kPrefix, "-", name),
                      "--etcd_ca_file=" + ca,
                      absl::StrCat("--etcd_cert_file=", dir, "/client.pem"),
                      absl::StrCat("--etcd_key_file=", dir, "/client.key"),
                      "--etcd_lease_ttl_s=2",
                      "--backup_root="};
  return crash::LedgerdProcess::Start(*ledgerd, flags, milliseconds(30'000));
}

grpc::Status Append(const std::string& address, grpc::ClientContext* ctx,
                    pb::AppendEventsResponse* resp) {
  auto stub = pb::EventStoreService::NewStub(crash::NewChannel(address));
  ctx->set_deadline(std::chrono::system_clock::now() + milliseconds(5000));
  return stub->AppendEvents(ctx, Registration(), resp);
}

TEST_F(EtcdTlsTest, LedgerdWithTheRightCertificatesLeadsAndAppends) {
  auto node =
      StartNode(dir_->path(), "good", Path("ca.pem"), etcd_->endpoints_flag());
  ASSERT_TRUE(node.ok()) << node.status();
  // Elected: the leader key holds this node's address.
  const std::string leader_key = absl::StrCat(kPrefix, "-good/leader");
  std::unique_ptr<EtcdClient> good = Client(Tls("ca.pem", "client"));
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  std::string leader;
  while (leader.empty() && absl::Now() < deadline) {
    etcdserverpb::RangeRequest r;
    r.set_key(leader_key);
    auto got = good->Range(r);
    if (got.ok() && got->kvs_size() == 1) leader = got->kvs(0).value();
    if (leader.empty()) std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_EQ(leader, (*node)->address()) << (*node)->LogTail();
  // The leader may still be catching up when the key appears: an append
  // refused UNAVAILABLE until it leads is retried unchanged.
  grpc::Status s;
  pb::AppendEventsResponse resp;
  const pb::AppendEventsRequest req = Registration();
  auto stub =
      pb::EventStoreService::NewStub(crash::NewChannel((*node)->address()));
  while (absl::Now() < deadline) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + milliseconds(5000));
    s = stub->AppendEvents(&ctx, req, &resp);
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message() << "\n"
                      << (*node)->LogTail();
  ASSERT_EQ(resp.events_size(), 1);
  EXPECT_EQ(resp.events(0).position(), 1u);
  // The group is in etcd's log (under the TLS member).
  EXPECT_EQ(KeysAt(absl::StrCat(kPrefix, "-good/log/"), true), 1);
  const std::string log = (*node)->LogTail(1 << 16);
  EXPECT_TRUE(absl::StrContains(log, "\"etcd_tls\":true")) << log;
}

TEST_F(EtcdTlsTest, LedgerdTrustingAnotherCaNeverLeadsAndRefusesAppends) {
  auto node = StartNode(dir_->path(), "wrong-ca", Path("other-ca.pem"),
                        etcd_->endpoints_flag());
  ASSERT_TRUE(node.ok()) << node.status();
  // It serves (reads of what it holds), but its first read of etcd failed
  // the handshake, and it said so before serving.
  const std::string log = (*node)->LogTail(1 << 16);
  EXPECT_TRUE(
      absl::StrContains(log, "replication: etcd not reachable at start"))
      << log;
  EXPECT_TRUE(absl::StrContains(log, "certificate verify failed")) << log;
  EXPECT_TRUE(absl::StrContains(log, "\"etcd_tls\":true")) << log;
  grpc::ClientContext ctx;
  pb::AppendEventsResponse resp;
  grpc::Status s = Append((*node)->address(), &ctx, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  // Nothing of it reached etcd: no leader key, no node key, no log.
  EXPECT_EQ(KeysAt(absl::StrCat(kPrefix, "-wrong-ca/"), true), 0);
}

}  // namespace
}  // namespace partnerledger::replication

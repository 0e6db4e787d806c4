// TLS and mTLS of ledgerd, in process on port 0. The CA and every
// certificate are made with the openssl CLI at test time in a temporary
// directory: a CA, the server's certificate (SAN localhost), a client
// certificate it signed, a self-signed client certificate with the same
// name, and a client certificate of another CA.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "partnerledger/v1/event_store.grpc.pb.h"
#include "server/server.h"
#include "test_support.h"
#include "util/sha256.h"

namespace partnerledger::server {
namespace {

using partnerledger::testing::NextUuid;
using partnerledger::testing::TempDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Certificates for one test, made once per test suite.
class Pki {
 public:
  explicit Pki(const std::string& dir) : dir_(dir) {}

  // Runs the openssl commands; false (with the log) if any fails.
  bool Make(std::string* log) {
    const std::string ec =
        "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string ca_ext =
        " -addext basicConstraints=critical,CA:TRUE"
        " -addext keyUsage=critical,keyCertSign,cRLSign";
    std::ofstream(Path("server.ext"))
        << "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
        << "extendedKeyUsage=serverAuth\n";
    std::ofstream(Path("client.ext"))
        << "subjectAltName=DNS:writer-client.example\n"
        << "extendedKeyUsage=clientAuth\n";
    const std::vector<std::string> steps = {
        // The CA and a second, unrelated CA.
        "req -x509 " + ec +
            " -keyout ca.key -out ca.pem -days 2 -subj /CN=pl-test-ca" + ca_ext,
        "req -x509 " + ec +
            " -keyout other-ca.key -out other-ca.pem -days 2 -subj "
            "/CN=pl-other-ca" +
            ca_ext,
        // The server, signed by the CA.
        "req " + ec + " -keyout server.key -out server.csr -subj /CN=localhost",
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-days 2 "
        "-extfile server.ext -out server.pem",
        // A client signed by the CA.
        "req " + ec +
            " -keyout client.key -out client.csr -subj /CN=writer-client",
        "x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-days 2 "
        "-extfile client.ext -out client.pem",
        // Self-signed, same name.
        "req -x509 " + ec +
            " -keyout self.key -out self.pem -days 2 -subj /CN=writer-client",
        // Signed by the other CA, same name.
        "req " + ec +
            " -keyout stranger.key -out stranger.csr -subj /CN=writer-client",
        "x509 -req -in stranger.csr -CA other-ca.pem -CAkey other-ca.key "
        "-CAcreateserial "
        "-days 2 -extfile client.ext -out stranger.pem",
    };
    for (const std::string& step : steps) {
      const std::string cmd =
          "cd '" + dir_ + "' && openssl " + step + " >>openssl.log 2>&1";
      if (std::system(cmd.c_str()) != 0) {
        *log = "failed: openssl " + step + "\n" + ReadFile(Path("openssl.log"));
        return false;
      }
    }
    return true;
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  std::string Pem(const std::string& name) const {
    return ReadFile(Path(name));
  }

 private:
  std::string dir_;
};

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_dir_ = new TempDir();
    pki_ = new Pki(pki_dir_->path());
    std::string log;
    made_ = pki_->Make(&log);
    if (!made_) std::cerr << log;
  }
  static void TearDownTestSuite() {
    delete pki_;
    delete pki_dir_;
  }

  void SetUp() override {
    ASSERT_TRUE(made_) << "openssl could not make the PKI";
  }

  void StartServer(bool mtls, std::optional<AuthConfig> auth = std::nullopt,
                   const std::string& listen = "127.0.0.1:0") {
    ServerOptions o;
    o.listen = listen;
    o.ledger.data_dir = dir_.Sub("data");
    o.tls_cert_file = pki_->Path("server.pem");
    o.tls_key_file = pki_->Path("server.key");
    if (mtls) o.tls_client_ca_file = pki_->Path("ca.pem");
    o.auth = std::move(auth);
    absl::StatusOr<std::unique_ptr<LedgerServer>> s = LedgerServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
  }

  // A stub over TLS trusting the test CA, presenting `client` ("" = no
  // certificate), plus an optional bearer token as call credentials.
  std::unique_ptr<v1::EventStoreService::Stub> Stub(
      const std::string& client, const std::string& token = "") {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = pki_->Pem("ca.pem");
    if (!client.empty()) {
      ssl.pem_private_key = pki_->Pem(client + ".key");
      ssl.pem_cert_chain = pki_->Pem(client + ".pem");
    }
    std::shared_ptr<grpc::ChannelCredentials> creds = grpc::SslCredentials(ssl);
    if (!token.empty()) {
      creds = grpc::CompositeChannelCredentials(
          creds, grpc::AccessTokenCredentials(token));
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    return v1::EventStoreService::NewStub(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(server_->port()), creds, args));
  }

  static grpc::Status Digest(v1::EventStoreService::Stub* stub) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
    v1::GetDigestResponse resp;
    return stub->GetDigest(&ctx, v1::GetDigestRequest(), &resp);
  }

  static grpc::Status Register(v1::EventStoreService::Stub* stub,
                               const std::string& stream) {
    v1::AppendEventsRequest req;
    req.set_stream(stream);
    v1::ProposedEvent* e = req.add_events();
    e->set_event_id(NextUuid());
    e->mutable_occurred_at()->set_seconds(1'767'225'600);
    e->mutable_payload()->mutable_partner_registered()->set_legal_name(
        "Acme BV");
    e->mutable_payload()->mutable_partner_registered()->set_country("NL");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
    v1::AppendEventsResponse resp;
    return stub->AppendEvents(&ctx, req, &resp);
  }

  static TempDir* pki_dir_;
  static Pki* pki_;
  static bool made_;
  TempDir dir_;
  std::unique_ptr<LedgerServer> server_;
};

TempDir* TlsTest::pki_dir_ = nullptr;
Pki* TlsTest::pki_ = nullptr;
bool TlsTest::made_ = false;

TEST_F(TlsTest, MtlsAcceptsOnlyClientCertificatesOfItsCa) {
  StartServer(/*mtls=*/true);
  // The handshake fails: the call never reaches a handler.
  EXPECT_EQ(Digest(Stub("").get()).error_code(), grpc::StatusCode::UNAVAILABLE)
      << "no client certificate";
  EXPECT_EQ(Digest(Stub("self").get()).error_code(),
            grpc::StatusCode::UNAVAILABLE)
      << "self-signed client certificate";
  EXPECT_EQ(Digest(Stub("stranger").get()).error_code(),
            grpc::StatusCode::UNAVAILABLE)
      << "client certificate of another CA";
  auto plaintext = v1::EventStoreService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                          grpc::InsecureChannelCredentials()));
  EXPECT_EQ(Digest(plaintext.get()).error_code(), grpc::StatusCode::UNAVAILABLE)
      << "plaintext";
  const grpc::Status ok = Digest(Stub("client").get());
  EXPECT_TRUE(ok.ok()) << ok.error_message();
}

TEST_F(TlsTest, ClientCertificateIdentityIsThePrincipal) {
  absl::StatusOr<AuthConfig> auth = AuthConfig::Parse(
      "cert writer-client.example app-writer writer\n"
      "token " +
      ToHex(DigestBytes(Sha256Of("aud-token"))) + " aud auditor\n");
  ASSERT_TRUE(auth.ok()) << auth.status();
  StartServer(/*mtls=*/true, std::move(*auth));
  auto writer = Stub("client");
  ASSERT_TRUE(Register(writer.get(), "partner-acme").ok());
  // The certificate carries writer only.
  EXPECT_EQ(Digest(writer.get()).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A token over the same kind of connection names another principal.
  auto auditor = Stub("client", "aud-token");
  ASSERT_TRUE(Digest(auditor.get()).ok());
  grpc::ClientContext ctx;
  v1::ReadAllResponse all;
  ASSERT_TRUE(auditor->ReadAll(&ctx, v1::ReadAllRequest(), &all).ok());
  ASSERT_EQ(all.events_size(), 1);
  EXPECT_EQ(all.events(0).actor(), "app-writer");
  // A bad token is not rescued by a good certificate.
  EXPECT_EQ(Digest(Stub("client", "wrong").get()).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(TlsTest, TlsWithoutClientCertificatesServesAnyClientTrustingTheServer) {
  StartServer(/*mtls=*/false);
  EXPECT_TRUE(Digest(Stub("").get()).ok());
}

TEST_F(TlsTest, SecuredServerMayListenBeyondLoopback) {
  absl::StatusOr<AuthConfig> auth = AuthConfig::Parse(
      "token " + ToHex(DigestBytes(Sha256Of("aud-token"))) + " aud auditor\n");
  ASSERT_TRUE(auth.ok());
  StartServer(/*mtls=*/false, std::move(*auth), "0.0.0.0:0");
  EXPECT_TRUE(Digest(Stub("", "aud-token").get()).ok());
  EXPECT_EQ(Digest(Stub("").get()).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST(TlsOptionsTest, InconsistentTlsOptionsAreInvalidArgument) {
  TempDir dir;
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.ledger.data_dir = dir.Sub("data");
  o.tls_cert_file = dir.Sub("missing.pem");
  EXPECT_EQ(LedgerServer::Start(o).status().code(),
            absl::StatusCode::kInvalidArgument);
  o.tls_key_file = dir.Sub("missing.key");
  EXPECT_EQ(LedgerServer::Start(o).status().code(),
            absl::StatusCode::kInvalidArgument);
  o.tls_cert_file.clear();
  o.tls_key_file.clear();
  o.tls_client_ca_file = dir.Sub("ca.pem");
  EXPECT_EQ(LedgerServer::Start(o).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace partnerledger::server

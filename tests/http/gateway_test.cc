// The HTTP/JSON API against a real LedgerServer (port 0, temp dir, fake
// clock): the worked example appended over HTTP, its figures over HTTP equal
// to the gRPC answers, query parameters onto request fields, as-of reads,
// every error's HTTP status and the field its body names, the roles and
// partner scoping of the gRPC services, the OpenAPI document against the
// live routes, and bounds a hostile client meets.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "http/routes.h"
#include "http/status_http.h"
#include "partnerledger/limits.h"
#include "partnerledger/v1/audit.grpc.pb.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "partnerledger/v1/query.grpc.pb.h"
#include "server/server.h"
#include "test_support.h"
#include "util/httplib_config.h"
#include "util/sha256.h"

namespace partnerledger::http {
namespace {

using partnerledger::testing::TempDir;
using ::testing::HasSubstr;

constexpr char kWriter[] = "tok-writer-0123456789";
constexpr char kFinance[] = "tok-finance-0123456789";
constexpr char kAuditor[] = "tok-auditor-0123456789";
constexpr char kAdmin[] = "tok-admin-0123456789";
constexpr char kPartnerC[] = "tok-partner-c-0123456789";
constexpr char kPartnerZ[] = "tok-partner-z-0123456789";

std::string Sha256Hex(const std::string& s) {
  return ToHex(DigestBytes(Sha256Of(s)));
}

std::string AuthConfigText() {
  std::string out;
  for (const auto& [token, rest] :
       std::vector<std::pair<const char*, const char*>>{
           {kWriter, "app writer"},
           {kFinance, "fin finance"},
           {kAuditor, "aud auditor"},
           {kAdmin, "adm admin"},
           {kPartnerC, "portal-c partner:C"},
           {kPartnerZ, "portal-z partner:Z"}}) {
    out += "token " + Sha256Hex(token) + " " + rest + "\n";
  }
  return out;
}

// The worked example: one AppendEventsRequest in JSON per line.
std::vector<std::string> WorkedExampleLines() {
  std::ifstream in(std::string(PL_SOURCE_DIR) +
                   "/tools/ledgerctl/examples/worked-example.jsonl");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  }
  return lines;
}

google::protobuf::Struct ParseStruct(const std::string& json) {
  google::protobuf::Struct s;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &s).ok())
      << json;
  return s;
}

// The "error" object of an error body.
google::protobuf::Struct ErrorOf(const std::string& body) {
  return ParseStruct(body).fields().at("error").struct_value();
}

std::string Str(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? "<absent>" : it->second.string_value();
}

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(true); }

  void StartServer(bool with_auth) {
    server::ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.http_listen = "127.0.0.1:0";
    o.ledger.data_dir = dir_.Sub("data");
    o.ledger.clock = &clock_;
    if (with_auth) {
      absl::StatusOr<server::AuthConfig> config =
          server::AuthConfig::Parse(AuthConfigText());
      ASSERT_TRUE(config.ok()) << config.status();
      o.auth = std::move(*config);
    }
    absl::StatusOr<std::unique_ptr<server::LedgerServer>> s =
        server::LedgerServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    ASSERT_GT(server_->http_port(), 0);
    client_ =
        std::make_unique<httplib::Client>("127.0.0.1", server_->http_port());
    client_->set_read_timeout(std::chrono::seconds(30));
    channel_ =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials());
  }

  httplib::Headers Auth(const std::string& token) {
    if (token.empty()) return {};
    return {{"Authorization", "Bearer " + token}};
  }

  httplib::Result Get(const std::string& path, const std::string& token) {
    return client_->Get(path.c_str(), Auth(token));
  }

  httplib::Result Post(const std::string& path, const std::string& body,
                       const std::string& token) {
    return client_->Post(path.c_str(), Auth(token), body, "application/json");
  }

  // Appends the worked example over HTTP, each line to its stream's route.
  void LoadWorkedExample() {
    for (const std::string& line : WorkedExampleLines()) {
      v1::AppendEventsRequest req;
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &req).ok());
      httplib::Result r =
          Post("/v1/streams/" + req.stream() + ":append", line, kWriter);
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200) << r->body;
      clock_.Advance(1'000'000);
    }
  }

  TempDir dir_;
  FakeClock clock_{1'767'225'600'000'000};
  std::unique_ptr<server::LedgerServer> server_;
  std::unique_ptr<httplib::Client> client_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(GatewayTest, WorkedExampleObligationsOverHttpEqualTheGrpcAnswer) {
  LoadWorkedExample();
  httplib::Result r = Get("/v1/obligations", kFinance);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  v1::GetObligationsResponse over_http;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(r->body, &over_http).ok());
  ASSERT_EQ(over_http.obligations_size(), 2);
  EXPECT_EQ(over_http.obligations(0).payer(), "F");
  EXPECT_EQ(over_http.obligations(0).payee(), "C");
  EXPECT_EQ(over_http.obligations(0).currency(), "EUR");
  EXPECT_EQ(over_http.obligations(0).accrued_minor(), 4'500'000);
  EXPECT_EQ(over_http.obligations(0).reversed_minor(), 300'000);
  EXPECT_EQ(over_http.obligations(0).settled_minor(), 2'000'000);
  EXPECT_EQ(over_http.obligations(0).outstanding_minor(), 2'200'000);
  EXPECT_EQ(over_http.obligations(1).currency(), "USD");
  EXPECT_EQ(over_http.obligations(1).outstanding_minor(), 4'000'000);
  // Zeros are printed, not omitted.
  EXPECT_THAT(r->body, HasSubstr("\"onHoldMinor\":\"0\""));

  auto stub = v1::LedgerQueryService::NewStub(channel_);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", std::string("Bearer ") + kFinance);
  v1::GetObligationsResponse over_grpc;
  ASSERT_TRUE(stub->GetObligations(&ctx, {}, &over_grpc).ok());
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(over_http, over_grpc))
      << over_http.DebugString() << over_grpc.DebugString();
}

TEST_F(GatewayTest, QueryParametersSetRequestFieldsByProtoOrJsonName) {
  LoadWorkedExample();
  httplib::Result r = Get("/v1/obligations?payer=F&currency=USD", kFinance);
  ASSERT_EQ(r->status, 200) << r->body;
  v1::GetObligationsResponse resp;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r->body, &resp).ok());
  ASSERT_EQ(resp.obligations_size(), 1);
  EXPECT_EQ(resp.obligations(0).kind(), v1::OBLIGATION_KIND_PASS_THROUGH);
  EXPECT_EQ(resp.obligations(0).outstanding_minor(), 4'000'000);

  // As of position 8 (right after R1) by nested field, proto and JSON name.
  for (const char* q : {"as_of.position=8", "asOf.position=8"}) {
    r = Get(std::string("/v1/obligations?currency=EUR&") + q, kFinance);
    ASSERT_EQ(r->status, 200) << r->body;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(r->body, &resp).ok());
    EXPECT_EQ(resp.as_of_position(), 8u);
    ASSERT_EQ(resp.obligations_size(), 1);
    EXPECT_EQ(resp.obligations(0).outstanding_minor(), 3'000'000) << q;
  }
  // An enum by name; a Timestamp in RFC 3339 (recorded before anything).
  r = Get("/v1/obligations?kind=OBLIGATION_KIND_COMMISSION", kFinance);
  ASSERT_EQ(r->status, 200) << r->body;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r->body, &resp).ok());
  ASSERT_EQ(resp.obligations_size(), 1);
  EXPECT_EQ(resp.obligations(0).currency(), "EUR");
  r = Get("/v1/obligations?as_of.recorded_at=2025-01-01T00:00:00Z", kFinance);
  ASSERT_EQ(r->status, 200) << r->body;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r->body, &resp).ok());
  EXPECT_EQ(resp.as_of_position(), 0u);
  EXPECT_EQ(resp.obligations_size(), 0);

  // A business date: a field of the request message, mapped like any other
  // (R1 booked 2026-02-01 counts; R2, the reversal and the settlement are
  // dated 2027).
  r = Get("/v1/obligations?as_of_date=2026-12-31&currency=EUR", kFinance);
  ASSERT_EQ(r->status, 200) << r->body;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r->body, &resp).ok());
  ASSERT_EQ(resp.obligations_size(), 1);
  EXPECT_EQ(resp.obligations(0).outstanding_minor(), 3'000'000);
  EXPECT_EQ(resp.as_of_date(), "2026-12-31");
  r = Get("/v1/obligations?asOfDate=2026-13-01", kFinance);
  EXPECT_EQ(r->status, 400) << r->body;

  // The statement of the walkthrough, and a deal by path.
  r = Get("/v1/statement?payer=F&payee=C&currency=EUR&period=2027-02",
          kFinance);
  ASSERT_EQ(r->status, 200) << r->body;
  v1::GetStatementResponse st;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r->body, &st).ok());
  EXPECT_EQ(st.closing_minor(), 2'200'000);
  r = Get("/v1/deals/D2", kFinance);
  ASSERT_EQ(r->status, 200) << r->body;
  v1::GetDealResponse deal;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r->body, &deal).ok());
  EXPECT_EQ(deal.deal_id(), "D2");
  EXPECT_EQ(deal.currency(), "USD");
}

TEST_F(GatewayTest, ErrorsMapToAip193StatusesAndNameTheField) {
  LoadWorkedExample();
  struct Case {
    std::string path;
    int status;
    std::string code;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"/v1/obligations?currency=eur", 400, "INVALID_ARGUMENT", "currency"},
      {"/v1/obligations?bogus=1", 400, "INVALID_ARGUMENT", "bogus"},
      {"/v1/obligations?as_of.position=minus", 400, "INVALID_ARGUMENT",
       "as_of.position"},
      {"/v1/obligations?as_of=3", 400, "INVALID_ARGUMENT", "as_of"},
      {"/v1/obligations?as_of_date=2026-02-30", 400, "INVALID_ARGUMENT",
       "as_of_date"},
      {"/v1/obligations?partner_id=NOPE", 404, "NOT_FOUND", "partner_id"},
      {"/v1/deals/NOPE", 404, "NOT_FOUND", "<absent>"},
      {"/v1/no-such-route", 404, "NOT_FOUND", "<absent>"},
  };
  for (const Case& c : cases) {
    httplib::Result r = Get(c.path, kFinance);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, c.status) << c.path << " " << r->body;
    const google::protobuf::Struct e = ErrorOf(r->body);
    EXPECT_EQ(Str(e, "status"), c.code) << c.path;
    EXPECT_EQ(e.fields().at("code").number_value(), c.status) << c.path;
    EXPECT_EQ(Str(e, "field"), c.field) << c.path << " " << r->body;
  }
  // A body that is not the request message in JSON.
  httplib::Result r = Post("/v1/streams/partner-Q:append", "{nope", kWriter);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Str(ErrorOf(r->body), "field"), "body");
  // A revision conflict: 409 with the stream's current revision.
  r = Post("/v1/streams/partner-C:append",
           R"({"expectedState":"EXPECTED_STATE_NO_STREAM","events":[{"eventId":
               "c0ffee00-0000-4000-8000-0000000000f1","occurredAt":
               "2026-02-01T00:00:00Z","payload":{"partnerProfileUpdated":
               {"pitch":"x"}}}]})",
           kWriter);
  EXPECT_EQ(r->status, 409) << r->body;
  EXPECT_EQ(Str(ErrorOf(r->body), "status"), "ABORTED");
  EXPECT_EQ(r->get_header_value("x-current-revision"), "0");
  // A domain rule: 400 FAILED_PRECONDITION.
  r = Post("/v1/streams/settlement-S9:append",
           R"({"events":[{"eventId":"c0ffee00-0000-4000-8000-0000000000f2",
               "occurredAt":"2027-03-01T00:00:00Z","payload":
               {"settlementRecorded":{"payer":"F","payee":"C","amount":
               {"currency":"EUR","amountMinor":"99999999"},
               "reference":"too much"}}}]})",
           kWriter);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_EQ(Str(ErrorOf(r->body), "status"), "FAILED_PRECONDITION");
}

TEST_F(GatewayTest, RolesAndPartnerScopeAreTheGrpcServicesOwn) {
  LoadWorkedExample();
  EXPECT_EQ(Get("/v1/obligations", "")->status, 401);
  EXPECT_EQ(Str(ErrorOf(Get("/v1/obligations", "")->body), "status"),
            "UNAUTHENTICATED");
  EXPECT_EQ(Get("/v1/obligations", "tok-unknown")->status, 401);
  EXPECT_EQ(Get("/v1/obligations", kWriter)->status, 403);
  EXPECT_EQ(Get("/v1/events", kFinance)->status, 403);
  EXPECT_EQ(Get("/v1/events", kAuditor)->status, 200);
  EXPECT_EQ(Post("/v1/streams/partner-Q:append", "{}", kFinance)->status, 403);
  // A control character cannot ride into gRPC metadata.
  httplib::Headers bad = {{"Authorization", std::string("Bearer a\x01", 9)}};
  EXPECT_EQ(client_->Get("/v1/obligations", bad)->status, 401);

  // partner:C sees its own obligations and statements only.
  httplib::Result r = Get("/v1/obligations", kPartnerC);
  ASSERT_EQ(r->status, 200) << r->body;
  v1::GetObligationsResponse resp;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r->body, &resp).ok());
  EXPECT_EQ(resp.obligations_size(), 2);
  EXPECT_EQ(Get("/v1/obligations?partner_id=F", kPartnerC)->status, 403);
  EXPECT_EQ(Get("/v1/statement?payer=F&payee=C&currency=EUR&period=2027-02",
                kPartnerC)
                ->status,
            200);
  // partner:Z is in no deal: C and F's rows are not its to see.
  r = Get("/v1/statement?payer=F&payee=C&currency=EUR&period=2027-02",
          kPartnerZ);
  EXPECT_EQ(r->status, 403) << r->body;
  EXPECT_EQ(Str(ErrorOf(r->body), "status"), "PERMISSION_DENIED");
  EXPECT_EQ(
      Get("/v1/referral-balance?partner_a=C&partner_b=F", kPartnerZ)->status,
      403);
}

TEST_F(GatewayTest, OpenApiDocumentMatchesTheLiveRoutes) {
  LoadWorkedExample();
  httplib::Result r = Get("/v1/openapi.json", "");
  ASSERT_EQ(r->status, 200);
  const google::protobuf::Struct doc = ParseStruct(r->body);
  EXPECT_EQ(Str(doc, "openapi"), "3.0.3");
  const auto& paths = doc.fields().at("paths").struct_value().fields();
  // Every unary method of the three services is documented, by its name.
  std::set<std::string> documented_ops;
  int answered = 0;
  for (const auto& [path, item] : paths) {
    for (const auto& [verb, op] : item.struct_value().fields()) {
      documented_ops.insert(Str(op.struct_value(), "operationId"));
      // Every documented route answers: fill each path placeholder with a
      // value that exists and call it as the auditor and the finance role.
      std::string url = path;
      for (const auto& [from, to] :
           std::vector<std::pair<std::string, std::string>>{
               {"{deal_id}", "D1"},
               {"{agreement_id}", "CF"},
               {"{stream}", "partner-C"}}) {
        if (size_t at = url.find(from); at != std::string::npos) {
          url.replace(at, from.size(), to);
        }
      }
      bool route_answered = false;
      for (const char* token : {kFinance, kAuditor, kWriter, kAdmin}) {
        httplib::Result got =
            verb == "post" ? Post(url, "{}", token) : Get(url, token);
        ASSERT_TRUE(got) << url;
        EXPECT_NE(
            Str(ErrorOf(got->status == 200 ? R"({"error":{}})" : got->body),
                "message")
                .rfind("no route", 0),
            0u)
            << verb << " " << url << " " << got->body;
        EXPECT_NE(got->status, 501) << url;
        if (got->status != 403) route_answered = true;
      }
      if (route_answered) ++answered;
    }
  }
  EXPECT_EQ(answered, static_cast<int>(paths.size()));
  std::set<std::string> expected;
  for (const auto* file : {v1::GetObligationsRequest::descriptor()->file(),
                           v1::AppendEventsRequest::descriptor()->file(),
                           v1::GetCheckpointRequest::descriptor()->file()}) {
    for (int s = 0; s < file->service_count(); ++s) {
      for (int m = 0; m < file->service(s)->method_count(); ++m) {
        const auto* method = file->service(s)->method(m);
        if (method->server_streaming()) continue;  // Subscribe
        expected.insert(method->name());
      }
    }
  }
  EXPECT_EQ(documented_ops, expected);
  // Every served API route is documented: the route table is the document.
  EXPECT_EQ(paths.size() + 0, [] {
    std::set<std::string> p;
    for (const Route& route : ApiRoutes()) p.insert(route.path);
    return p.size();
  }());
  // A field of a request message is a documented query parameter.
  const auto& params = paths.at("/v1/obligations")
                           .struct_value()
                           .fields()
                           .at("get")
                           .struct_value()
                           .fields()
                           .at("parameters")
                           .list_value();
  std::set<std::string> names;
  for (const auto& p : params.values()) {
    names.insert(Str(p.struct_value(), "name"));
  }
  for (int i = 0; i < v1::GetObligationsRequest::descriptor()->field_count();
       ++i) {
    const auto* f = v1::GetObligationsRequest::descriptor()->field(i);
    if (f->message_type() != nullptr) continue;
    EXPECT_TRUE(names.count(f->name())) << f->name();
  }
  EXPECT_TRUE(names.count("as_of.position"));
}

TEST_F(GatewayTest, HostileClientsMeetBoundsNotACrash) {
  // A body over the limit is refused before it is read whole.
  const std::string big(limits::kHttpBodyBytesMax + 1, ' ');
  httplib::Result r = Post("/v1/streams/partner-Q:append", big, kWriter);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(Str(ErrorOf(r->body), "status"), "RESOURCE_EXHAUSTED");
  // Too many query parameters.
  std::string many = "/v1/obligations?";
  for (size_t i = 0; i <= limits::kHttpQueryParamsMax; ++i) {
    many += "payer=P" + std::to_string(i) + "&";
  }
  EXPECT_EQ(Get(many, kFinance)->status, 400);
  // Garbage on a raw socket, and many connections left open: the server
  // answers the next client and nothing crashes.
  std::vector<int> sockets;
  for (int i = 0; i < 40; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(server_->http_port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr),
              0);
    if (i % 2 == 0) {
      const char junk[] = "\x16\x03\x01garbage\r\n\r\n";
      ASSERT_GT(::write(fd, junk, sizeof junk - 1), 0);
    }
    sockets.push_back(fd);
  }
  for (int fd : sockets) ::close(fd);
  r = Get("/v1/obligations", kFinance);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(GatewayStatus, Aip193Mapping) {
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kFailedPrecondition), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kOutOfRange), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kAborted), 409);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kCancelled), 499);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnimplemented), 501);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kDataLoss), 500);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnknown), 500);
  EXPECT_EQ(FieldOf("events[1].payload.partner_registered.legal_name: empty"),
            "events[1].payload.partner_registered.legal_name");
  EXPECT_EQ(FieldOf("currency: bad"), "currency");
  EXPECT_EQ(FieldOf("deal D1 not found"), "");
  EXPECT_EQ(FieldOf("Currency: bad"), "");
}

TEST(GatewayStart, HttpListenBeyondLoopbackNeedsAuthAndTls) {
  TempDir dir;
  server::ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.http_listen = "0.0.0.0:0";
  o.ledger.data_dir = dir.Sub("data");
  absl::StatusOr<std::unique_ptr<server::LedgerServer>> s =
      server::LedgerServer::Start(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("0.0.0.0:0"));
  o.http_listen = "localhost";
  s = server::LedgerServer::Start(o);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("http_listen"));
}

}  // namespace
}  // namespace partnerledger::http

// The admin HTTP port: /metrics in Prometheus text format with the
// ledger's counters after appends, /healthz; and the JSON log line format.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "partnerledger/limits.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "server/fault_fs.h"
#include "server/log.h"
#include "server/server.h"
#include "test_support.h"
#include "util/httplib_config.h"
#include "util/strings.h"

namespace partnerledger::server {
namespace {

using partnerledger::testing::FaultFs;
using partnerledger::testing::NextUuid;
using partnerledger::testing::TempDir;
using ::testing::HasSubstr;

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = std::make_shared<FaultFs>();
    env_ = rocksdb::NewCompositeEnv(fs_);
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.metrics_listen = "127.0.0.1:0";
    o.max_concurrent_streams = 7;
    o.ledger.data_dir = dir_.Sub("data");
    o.ledger.env = env_.get();
    absl::StatusOr<std::unique_ptr<LedgerServer>> s = LedgerServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    ASSERT_GT(server_->metrics_port(), 0);
    stub_ = v1::EventStoreService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials()));
  }

  grpc::Status Append(const std::string& stream, bool valid = true) {
    v1::AppendEventsRequest req;
    req.set_stream(stream);
    v1::ProposedEvent* e = req.add_events();
    e->set_event_id(NextUuid());
    if (valid) e->mutable_occurred_at()->set_seconds(1'767'225'600);
    e->mutable_payload()->mutable_partner_registered()->set_legal_name(
        "Acme BV");
    e->mutable_payload()->mutable_partner_registered()->set_country("NL");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(20));
    v1::AppendEventsResponse resp;
    return stub_->AppendEvents(&ctx, req, &resp);
  }

  httplib::Result Get(const std::string& path) {
    httplib::Client http("127.0.0.1", server_->metrics_port());
    http.set_connection_timeout(5);
    http.set_read_timeout(5);
    return http.Get(path.c_str());
  }

  // A TCP connection to the admin port that has sent `bytes` and then
  // stays silent (a slow or idle client); closed on destruction.
  class SilentConnection {
   public:
    SilentConnection(int port, const std::string& bytes) {
      fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(port));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      connected_ =
          ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
          ::send(fd_, bytes.data(), bytes.size(), 0) ==
              static_cast<ssize_t>(bytes.size());
    }
    ~SilentConnection() { ::close(fd_); }
    SilentConnection(const SilentConnection&) = delete;
    SilentConnection& operator=(const SilentConnection&) = delete;
    bool connected() const { return connected_; }

   private:
    int fd_ = -1;
    bool connected_ = false;
  };

  TempDir dir_;
  // Declared before the server, which uses them until it is destroyed.
  std::shared_ptr<FaultFs> fs_;
  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<LedgerServer> server_;
  std::unique_ptr<v1::EventStoreService::Stub> stub_;
};

TEST_F(MetricsTest, MetricsEndpointReportsCountersAfterAppends) {
  ASSERT_TRUE(Append("partner-a").ok());
  ASSERT_TRUE(Append("partner-b").ok());
  ASSERT_TRUE(Append("partner-c").ok());
  ASSERT_EQ(Append("partner-d", /*valid=*/false).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  httplib::Result r = Get("/metrics");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->get_header_value("Content-Type"), HasSubstr("text/plain"));
  const std::string& body = r->body;
  for (const char* line : {
           "partnerledger_appends_total{code=\"OK\"} 3\n",
           "partnerledger_events_written_total 3\n",
           "partnerledger_head_position 3\n",
           "partnerledger_healthy 1\n",
           "partnerledger_writer_queue_depth 0\n",
           "partnerledger_subscribers 0\n",
           "partnerledger_append_latency_seconds_count 3\n",
           "partnerledger_append_latency_seconds_bucket{le=\"+Inf\"} 3\n",
           "partnerledger_grpc_server_handled_total{method=\"/partnerledger.v1."
           "EventStoreService/AppendEvents\",code=\"OK\"} 3\n",
           "partnerledger_grpc_server_handled_total{method=\"/partnerledger.v1."
           "EventStoreService/AppendEvents\",code=\"INVALID_ARGUMENT\"} 1\n",
           "# TYPE partnerledger_append_latency_seconds histogram\n",
           "# TYPE partnerledger_commit_groups_total counter\n",
           "# TYPE partnerledger_rocksdb_total_sst_files_bytes gauge\n",
           "partnerledger_rocksdb_write_stopped 0\n",
           "partnerledger_auth_denials_total{code=\"PERMISSION_DENIED\"} 0\n",
       }) {
    EXPECT_THAT(body, HasSubstr(line));
  }
  EXPECT_THAT(body, HasSubstr("partnerledger_commit_group_requests_total "));
  EXPECT_THAT(body, HasSubstr("partnerledger_rocksdb_live_sst_files_bytes "));
  EXPECT_THAT(body,
              HasSubstr("partnerledger_rocksdb_delayed_write_rate_bytes "));
  for (std::string_view l : Split(body, '\n')) {
    if (l.empty() || l[0] == '#') continue;
    EXPECT_EQ(std::count(l.begin(), l.end(), ' '), 1)
        << l;  // name{labels} value
  }
}

TEST_F(MetricsTest, HealthzFollowsServingAndOtherPathsAre404) {
  httplib::Result r = Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "SERVING\n");
  httplib::Result m = Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_THAT(m->body, HasSubstr("\npartnerledger_serving 1\n"));
  httplib::Result missing = Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);

  // The disk goes away: the next append fails, the server stops serving.
  ASSERT_TRUE(Append("partner-a").ok());
  fs_->FailWrites();
  EXPECT_EQ(Append("partner-b").error_code(), grpc::StatusCode::UNAVAILABLE);
  ASSERT_FALSE(server_->serving());
  httplib::Result down = Get("/healthz");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 503);
  EXPECT_EQ(down->body, "NOT_SERVING\n");
  httplib::Result down_metrics = Get("/metrics");
  ASSERT_TRUE(down_metrics);
  EXPECT_THAT(down_metrics->body, HasSubstr("\npartnerledger_serving 0\n"));
  EXPECT_THAT(down_metrics->body, HasSubstr("\npartnerledger_healthy 0\n"));
  EXPECT_THAT(
      down_metrics->body,
      HasSubstr("partnerledger_appends_total{code=\"UNAVAILABLE\"} 1\n"));
}

// Slow and idle clients on the admin port (connected, part of a request
// sent, then silent) must not hold up the probes: each answers within
// a kubelet's default probe timeout of 1 s (900 ms here, measured).
TEST_F(MetricsTest, ProbesAnswerWhileSlowClientsHoldConnectionsOpen) {
  const int port = server_->metrics_port();
  std::vector<std::unique_ptr<SilentConnection>> slow;
  for (int i = 0; i < 10; ++i) {
    // Half never finish their request line, half stop inside the headers.
    slow.push_back(std::make_unique<SilentConnection>(
        port, i % 2 == 0 ? "GET /metr" : "GET /healthz HTTP/1.1\r\nHost: x"));
    ASSERT_TRUE(slow.back()->connected());
  }
  static_assert(10 < limits::kAdminHttpWorkers);
  for (const char* path : {"/healthz", "/metrics", "/healthz"}) {
    httplib::Client http("127.0.0.1", port);
    http.set_connection_timeout(std::chrono::milliseconds(900));
    http.set_read_timeout(std::chrono::milliseconds(900));
    const auto start = std::chrono::steady_clock::now();
    httplib::Result r = http.Get(path);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(r) << path << ": " << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_LT(elapsed, std::chrono::milliseconds(900)) << path;
  }
}

// Subscribe streams count against a connection's concurrent-stream limit;
// /metrics shows both the calls in flight and the limit.
TEST_F(MetricsTest, CallsInFlightCountOpenSubscriptions) {
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>>>
      readers;
  for (int i = 0; i < 2; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    v1::SubscribeRequest req;
    readers.push_back(stub_->Subscribe(contexts.back().get(), req));
    v1::SubscribeResponse first;  // the caught-up marker: the stream is live
    ASSERT_TRUE(readers.back()->Read(&first));
  }
  httplib::Result r = Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_THAT(r->body, HasSubstr("\npartnerledger_subscribers 2\n"));
  EXPECT_THAT(r->body, HasSubstr("\npartnerledger_grpc_calls_in_flight 2\n"));
  EXPECT_THAT(r->body,
              HasSubstr("\npartnerledger_grpc_max_concurrent_streams 7\n"));
  for (auto& c : contexts) c->TryCancel();
  for (auto& reader : readers) {
    v1::SubscribeResponse ignored;
    while (reader->Read(&ignored)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
}

TEST(LogTest, LinesAreOneJsonObjectWithEscapedFields) {
  const std::string line = FormatLogLine(1'767'225'600'123'456, LogLevel::kWarn,
                                         "request \"denied\"",
                                         {{"method", "/a/B"},
                                          {"reason", "line1\nline2\t\x01"},
                                          {"n", 42},
                                          {"ok", false}});
  EXPECT_EQ(
      line,
      "{\"ts\":\"2026-01-01T00:00:00.123456Z\",\"level\":\"warn\","
      "\"msg\":\"request \\\"denied\\\"\",\"fields\":{\"method\":\"/a/B\","
      "\"reason\":\"line1\\nline2\\t\\u0001\",\"n\":42,\"ok\":false}}");
}

// The read memory budget is visible to operators: what is held now, the
// bound, the peak, and the reads it refused.
TEST_F(MetricsTest, ReadMemoryBudgetIsExported) {
  ASSERT_TRUE(Append("partner-a").ok());
  ASSERT_TRUE(Append("partner-b").ok());
  v1::ReadAllRequest req;
  req.set_max_count(10);
  v1::ReadAllResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  ASSERT_TRUE(stub_->ReadAll(&ctx, req, &resp).ok());
  ASSERT_EQ(resp.events_size(), 2);
  const ReadBudget& budget = server_->read_budget();
  ASSERT_GT(budget.peak_bytes(), 0u);
  // The page's bytes go back to the budget when the server has finished
  // sending it (the reactor's OnDone), which may be just after the client
  // has it: wait for that, bounded.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (budget.in_flight_bytes() != 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_EQ(budget.in_flight_bytes(), 0u);

  httplib::Result r = Get("/metrics");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  for (const std::string& line : {
           std::string("\npartnerledger_read_in_flight_bytes 0\n"),
           absl::StrCat("\npartnerledger_read_in_flight_bytes_max ",
                        limits::kReadBytesInFlightMax, "\n"),
           absl::StrCat("\npartnerledger_read_in_flight_peak_bytes ",
                        budget.peak_bytes(), "\n"),
           std::string("\npartnerledger_reads_refused_total 0\n"),
           std::string("# TYPE partnerledger_reads_refused_total counter\n"),
           std::string(
               "# TYPE partnerledger_read_memory_trims_total counter\n"),
       }) {
    EXPECT_THAT(r->body, HasSubstr(line));
  }
}

}  // namespace
}  // namespace partnerledger::server

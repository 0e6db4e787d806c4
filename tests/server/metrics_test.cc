// The admin HTTP port: /metrics in Prometheus text format with the
// ledger's counters after appends, /healthz; and the JSON log line format.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "absl/strings/str_split.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "server/httplib_config.h"
#include "server/log.h"
#include "server/server.h"
#include "test_support.h"

namespace partnerledger::server {
namespace {

using partnerledger::testing::NextUuid;
using partnerledger::testing::TempDir;
using ::testing::HasSubstr;

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.metrics_listen = "127.0.0.1:0";
    o.ledger.data_dir = dir_.Sub("data");
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
    v1::AppendEventsResponse resp;
    return stub_->AppendEvents(&ctx, req, &resp);
  }

  httplib::Result Get(const std::string& path) {
    httplib::Client http("127.0.0.1", server_->metrics_port());
    http.set_connection_timeout(5);
    http.set_read_timeout(5);
    return http.Get(path.c_str());
  }

  TempDir dir_;
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
  for (absl::string_view l : absl::StrSplit(body, '\n')) {
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
  httplib::Result missing = Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
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

}  // namespace
}  // namespace partnerledger::server

// Requests whose bytes are not the method's message (garbage, a truncated
// message, a string field that is not UTF-8) are answered INVALID_ARGUMENT
// "request is not a valid <message>" (gRPC's callback API alone answers
// UNIMPLEMENTED with no message; src/server/unparseable_request.h), and what
// protobuf logs about them reaches stderr as one of our JSON lines.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/synchronization/notification.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "server/server.h"
#include "test_support.h"
#include "util/httplib_config.h"

namespace partnerledger::server {
namespace {

using partnerledger::testing::NextUuid;
using partnerledger::testing::TempDir;
using ::testing::HasSubstr;

class UnparseableRequestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.ledger.data_dir = dir_.Sub("data");
    o.metrics_listen = "127.0.0.1:0";
    absl::StatusOr<std::unique_ptr<LedgerServer>> s = LedgerServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    channel_ =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials());
  }

  // Sends `bytes` as the request of `method` and waits for the answer.
  grpc::Status Call(const std::string& method, const std::string& bytes,
                    std::string* response = nullptr) {
    grpc::GenericStub stub(channel_);
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer reply;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(30));
    grpc::Status status;
    absl::Notification done;
    stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &reply,
                   [&](grpc::Status s) {
                     status = std::move(s);
                     done.Notify();
                   });
    done.WaitForNotification();
    if (response != nullptr && status.ok()) {
      std::vector<grpc::Slice> slices;
      EXPECT_TRUE(reply.Dump(&slices).ok());
      for (const grpc::Slice& s : slices) {
        response->append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
    return status;
  }

  static std::string ValidAppend() {
    v1::AppendEventsRequest req;
    req.set_stream("partner-acme");
    v1::ProposedEvent* e = req.add_events();
    e->set_event_id(NextUuid());
    e->mutable_occurred_at()->set_seconds(1'767'225'600);
    v1::PartnerRegistered* r =
        e->mutable_payload()->mutable_partner_registered();
    r->set_legal_name("Acme BV");
    r->set_country("NL");
    return req.SerializeAsString();
  }

  TempDir dir_;
  std::unique_ptr<LedgerServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

constexpr char kAppend[] = "/partnerledger.v1.EventStoreService/AppendEvents";

TEST_F(UnparseableRequestTest, GarbageBytesAreInvalidArgumentNamingTheMessage) {
  const std::string valid = ValidAppend();
  const std::vector<std::string> garbage = {
      std::string("\xff\xff\xff\xff\xff", 5),  // no valid tag
      valid.substr(0, valid.size() - 3),       // truncated
      std::string("\x0a\x02\xff\xfe", 4),      // stream not UTF-8
      std::string("\x12\x05\x0a\x03"
                  "abc"
                  "\x0a",
                  8)};  // cut after a tag
  for (const std::string& bytes : garbage) {
    const grpc::Status s = Call(kAppend, bytes);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(),
              "request is not a valid partnerledger.v1.AppendEventsRequest");
  }
  // Nothing was appended; a well-formed request sent the same way works.
  std::string reply;
  ASSERT_TRUE(Call(kAppend, valid, &reply).ok());
  v1::AppendEventsResponse resp;
  ASSERT_TRUE(resp.ParseFromString(reply));
  EXPECT_EQ(resp.commit_position(), 1u);
}

TEST_F(UnparseableRequestTest, EveryServiceNamesItsOwnRequestMessage) {
  const std::string garbage("\xff\xff\xff", 3);
  grpc::Status s =
      Call("/partnerledger.v1.LedgerQueryService/GetObligations", garbage);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "request is not a valid partnerledger.v1.GetObligationsRequest");
  s = Call("/partnerledger.v1.EventStoreService/GetDigest", garbage);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "request is not a valid partnerledger.v1.GetDigestRequest");
}

TEST_F(UnparseableRequestTest, MetricsCountTheCodeTheClientGot) {
  ASSERT_EQ(Call(kAppend, std::string("\xff\xff", 2)).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  httplib::Client http("127.0.0.1", server_->metrics_port());
  http.set_connection_timeout(5);
  http.set_read_timeout(5);
  httplib::Result r = http.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_THAT(r->body,
              HasSubstr("partnerledger_grpc_server_handled_total{method=\"/"
                        "partnerledger.v1.EventStoreService/AppendEvents\","
                        "code=\"INVALID_ARGUMENT\"} 1\n"));
  EXPECT_THAT(r->body, ::testing::Not(
                           HasSubstr("AppendEvents\",code=\"UNIMPLEMENTED\"")));
}

TEST_F(UnparseableRequestTest, UnknownMethodStaysUnimplemented) {
  const grpc::Status s =
      Call("/partnerledger.v1.EventStoreService/NoSuchMethod", "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

// Everything written to stderr while `f` runs.
template <typename F>
std::string CaptureStderr(F f) {
  TempDir dir;
  const std::string path = dir.Sub("stderr");
  std::fflush(stderr);
  const int saved = ::dup(STDERR_FILENO);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ::dup2(fd, STDERR_FILENO);
  ::close(fd);
  f();
  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_F(UnparseableRequestTest, ProtobufErrorsAreLoggedAsJsonLines) {
  const std::string out = CaptureStderr([&] {
    const grpc::Status s = Call(kAppend, std::string("\x0a\x02\xff\xfe", 4));
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  });
  int protobuf_lines = 0;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    google::protobuf::Struct parsed;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &parsed).ok())
        << "not a JSON line: " << line;
    const auto& f = parsed.fields();
    if (f.count("msg") > 0 &&
        f.at("msg").string_value().rfind("protobuf: ", 0) == 0) {
      ++protobuf_lines;
      EXPECT_EQ(f.at("level").string_value(), "error");
      EXPECT_THAT(f.at("msg").string_value(),
                  HasSubstr("partnerledger.v1.AppendEventsRequest.stream"));
    }
  }
  EXPECT_EQ(protobuf_lines, 1) << out;
}

}  // namespace
}  // namespace partnerledger::server

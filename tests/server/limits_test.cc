// Limits and back-pressure over the wire: over-limit requests get their
// exact code and the server stays healthy (an ordinary append and read
// still work afterwards).
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <limits>
#include <mutex>
#include <thread>

#include "partnerledger/v1/event_store.grpc.pb.h"
#include "rocksdb/env.h"
#include "server/fault_fs.h"
#include "server/server.h"
#include "test_support.h"

namespace partnerledger::server {
namespace {

using partnerledger::testing::NextUuid;
using partnerledger::testing::TempDir;
using ::testing::HasSubstr;

class LimitsTest : public ::testing::Test {
 protected:
  void Start(size_t subscribers_max = limits::kSubscribersMax,
             size_t writer_queue_max = limits::kWriterQueueMax,
             rocksdb::Env* env = nullptr) {
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.ledger.data_dir = dir_.Sub("data");
    o.ledger.writer_queue_max = writer_queue_max;
    o.ledger.env = env;
    o.subscribers_max = subscribers_max;
    absl::StatusOr<std::unique_ptr<LedgerServer>> s = LedgerServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    args.SetMaxSendMessageSize(-1);
    stub_ = v1::EventStoreService::NewStub(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(server_->port()),
        grpc::InsecureChannelCredentials(), args));
  }

  // `n` profile updates of partner-acme, each with `text_bytes` of pitch
  // and `specialties` specialties of 4000 bytes.
  static v1::AppendEventsRequest Updates(int n, size_t text_bytes = 10,
                                         int specialties = 0) {
    v1::AppendEventsRequest req;
    req.set_stream("partner-acme");
    for (int i = 0; i < n; ++i) {
      v1::ProposedEvent* e = req.add_events();
      e->set_event_id(NextUuid());
      e->mutable_occurred_at()->set_seconds(1'767'225'600);
      v1::PartnerProfileUpdated* u =
          e->mutable_payload()->mutable_partner_profile_updated();
      u->set_pitch(std::string(text_bytes, 'p'));
      for (int k = 0; k < specialties; ++k)
        u->add_specialties(std::string(4000, 's'));
    }
    return req;
  }

  grpc::Status Append(const v1::AppendEventsRequest& req) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(30));
    v1::AppendEventsResponse resp;
    return stub_->AppendEvents(&ctx, req, &resp);
  }

  void Register() {
    v1::AppendEventsRequest req = Updates(1);
    req.set_expected_state(v1::EXPECTED_STATE_NO_STREAM);
    v1::EventPayload p;
    p.mutable_partner_registered()->set_legal_name("Acme BV");
    p.mutable_partner_registered()->set_country("NL");
    *req.mutable_events(0)->mutable_payload() = p;
    ASSERT_TRUE(Append(req).ok());
  }

  // The server still appends and reads.
  void ExpectHealthy() {
    EXPECT_TRUE(server_->serving());
    const uint64_t before = server_->ledger().head_position();
    grpc::Status s = Append(Updates(1));
    EXPECT_TRUE(s.ok()) << s.error_message();
    grpc::ClientContext ctx;
    v1::ReadAllRequest r;
    r.set_from_position(before + 1);
    v1::ReadAllResponse page;
    ASSERT_TRUE(stub_->ReadAll(&ctx, r, &page).ok());
    EXPECT_EQ(page.events_size(), 1);
  }

  TempDir dir_;
  // Declared before the server, which uses them until it is destroyed.
  std::shared_ptr<partnerledger::testing::FaultFs> fs_ =
      std::make_shared<partnerledger::testing::FaultFs>();
  std::unique_ptr<rocksdb::Env> env_ = rocksdb::NewCompositeEnv(fs_);
  std::unique_ptr<LedgerServer> server_;
  std::unique_ptr<v1::EventStoreService::Stub> stub_;
};

TEST_F(LimitsTest, TooManyEventsInOneAppendIsInvalidArgument) {
  Start();
  Register();
  grpc::Status s =
      Append(Updates(static_cast<int>(limits::kAppendEventsMax) + 1));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("events: more than"));
  EXPECT_TRUE(Append(Updates(static_cast<int>(limits::kAppendEventsMax))).ok());
  ExpectHealthy();
}

TEST_F(LimitsTest, TooManyPayloadBytesInOneAppendIsInvalidArgument) {
  Start();
  Register();
  // 70 events of ~60 KB: each under the per-event limit, together over
  // kAppendBytesMax, and the message under kGrpcMessageBytesMax.
  v1::AppendEventsRequest req = Updates(70, 4000, 14);
  ASSERT_GT(req.ByteSizeLong(), limits::kAppendBytesMax);
  ASSERT_LT(req.ByteSizeLong(), limits::kGrpcMessageBytesMax);
  grpc::Status s = Append(req);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("payloads total more than"));
  ExpectHealthy();
}

TEST_F(LimitsTest, OversizedMessageIsResourceExhausted) {
  Start();
  Register();
  v1::AppendEventsRequest req = Updates(300, 4000, 14);
  ASSERT_GT(req.ByteSizeLong(), limits::kGrpcMessageBytesMax);
  EXPECT_EQ(Append(req).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  ExpectHealthy();
}

TEST_F(LimitsTest, TooLargePageRequestIsCappedAtThePageLimitWithAContinuation) {
  Start();
  Register();
  ASSERT_TRUE(Append(Updates(static_cast<int>(limits::kReadPageMax))).ok());
  grpc::ClientContext c1;
  v1::ReadAllRequest all;
  all.set_max_count(1'000'000);
  v1::ReadAllResponse page;
  ASSERT_TRUE(stub_->ReadAll(&c1, all, &page).ok());
  EXPECT_EQ(page.events_size(), static_cast<int>(limits::kReadPageMax));
  EXPECT_FALSE(page.end_of_log());
  EXPECT_EQ(page.next_position(), limits::kReadPageMax + 1);

  grpc::ClientContext c2;
  v1::ReadStreamRequest stream;
  stream.set_stream("partner-acme");
  stream.set_max_count(std::numeric_limits<uint32_t>::max());
  v1::ReadStreamResponse spage;
  ASSERT_TRUE(stub_->ReadStream(&c2, stream, &spage).ok());
  EXPECT_EQ(spage.events_size(), static_cast<int>(limits::kReadPageMax));
  EXPECT_FALSE(spage.end_of_stream());
  ExpectHealthy();
}

TEST_F(LimitsTest, SubscribersBeyondTheLimitAreResourceExhausted) {
  Start(/*subscribers_max=*/2);
  Register();
  struct Sub {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader;
  };
  auto open = [this](Sub* s) {
    s->reader = stub_->Subscribe(&s->ctx, v1::SubscribeRequest());
    v1::SubscribeResponse msg;
    while (s->reader->Read(&msg)) {
      if (msg.has_caught_up()) return grpc::Status::OK;
    }
    return s->reader->Finish();
  };
  Sub a, b, c;
  ASSERT_TRUE(open(&a).ok());
  ASSERT_TRUE(open(&b).ok());
  grpc::Status refused = open(&c);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(), HasSubstr("too many subscriptions"));
  // Ending one frees its slot (the hub releases it asynchronously).
  a.ctx.TryCancel();
  a.reader->Finish().IgnoreError();
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  grpc::Status again;
  do {
    Sub d;
    again = open(&d);
    if (again.ok()) d.ctx.TryCancel();
  } while (!again.ok() && std::chrono::steady_clock::now() < deadline);
  EXPECT_TRUE(again.ok()) << again.error_message();
  b.ctx.TryCancel();
  ExpectHealthy();
}

TEST_F(LimitsTest, FullWriterQueueIsResourceExhausted) {
  Start(limits::kSubscribersMax, /*writer_queue_max=*/1, env_.get());
  Register();
  // Hold the next commit in its fsync. The ledger then takes at most a
  // bounded number of requests off the queue (the held group and the one
  // being prepared behind it) and queues one more; of kCalls concurrent
  // appends the rest are refused at once.
  constexpr int kCalls = 16;
  fs_->HoldSyncs();
  struct Call {
    grpc::ClientContext ctx;
    v1::AppendEventsRequest req = Updates(1);
    v1::AppendEventsResponse resp;
  };
  std::vector<std::unique_ptr<Call>> calls;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<grpc::Status> done;
  for (int i = 0; i < kCalls; ++i) {
    calls.push_back(std::make_unique<Call>());
    Call* c = calls.back().get();
    stub_->async()->AppendEvents(&c->ctx, &c->req, &c->resp,
                                 [&](grpc::Status s) {
                                   std::lock_guard<std::mutex> lock(mu);
                                   done.push_back(s);
                                   cv.notify_all();
                                 });
  }
  auto refused = [&] {
    int n = 0;
    for (const grpc::Status& s : done) {
      n += s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
    }
    return n;
  };
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20),
                            [&] { return refused() > 0; }));
  }
  fs_->ReleaseSyncs();
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20),
                          [&] { return done.size() == kCalls; }));
  int ok = 0;
  for (const grpc::Status& s : done) {
    if (s.ok()) {
      ++ok;
      continue;
    }
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_THAT(s.error_message(), HasSubstr("writer queue full"));
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(refused(), kCalls / 2);
  lock.unlock();
  ExpectHealthy();
}

}  // namespace
}  // namespace partnerledger::server

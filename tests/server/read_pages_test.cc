// Read pages are bounded by bytes as well as by count, read responses in
// flight share a server-wide memory budget, and errors never echo a hostile
// value in full. Over gRPC with default client channels (which accept
// 4 MiB messages and 8 KB of metadata).
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <thread>

#include "domain/partnership_sim.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "server/server.h"
#include "test_support.h"

namespace partnerledger::server {
namespace {

namespace sim = domain::testing;
using partnerledger::testing::NextUuid;
using partnerledger::testing::TempDir;
using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr int kBigEvents = 1000;

// A response's bytes go back to the budget when the server has finished
// sending it (the reactor's OnDone), which may be just after the client
// has it: wait for that, bounded.
bool WaitUntil(const std::function<bool()>& done) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}
constexpr int kBigEventsPerAppend = 60;  // ~3.7 MB, under kAppendBytesMax

class ReadPagesTest : public ::testing::Test {
 protected:
  void Start(size_t read_bytes_in_flight_max = limits::kReadBytesInFlightMax) {
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.ledger.data_dir = dir_.Sub("data");
    o.ledger.clock = &clock_;
    o.read_bytes_in_flight_max = read_bytes_in_flight_max;
    absl::StatusOr<std::unique_ptr<LedgerServer>> s = LedgerServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    stub_ = v1::EventStoreService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials()));
  }

  // A profile update of about 62 KB: a 3,900-byte pitch and 15 specialties
  // of 3,900 bytes each.
  static v1::EventPayload BigUpdate(int n) {
    v1::EventPayload p;
    v1::PartnerProfileUpdated* u = p.mutable_partner_profile_updated();
    u->set_pitch(std::string(3900, 'a' + n % 26));
    for (int i = 0; i < 15; ++i) u->add_specialties(std::string(3900, 'A' + i));
    return p;
  }

  grpc::Status Append(v1::AppendEventsRequest& req) {
    grpc::ClientContext ctx;
    v1::AppendEventsResponse resp;
    return stub_->AppendEvents(&ctx, req, &resp);
  }

  static v1::ProposedEvent Proposed(v1::EventPayload payload) {
    v1::ProposedEvent e;
    e.set_event_id(NextUuid());
    e.mutable_occurred_at()->set_seconds(1'767'225'600);
    *e.mutable_payload() = std::move(payload);
    return e;
  }

  // partner-big registered at 1, then `count` large updates (2..count+1).
  void LoadBigEvents(int count = kBigEvents) {
    v1::AppendEventsRequest reg;
    reg.set_stream("partner-big");
    *reg.add_events() = Proposed(sim::PartnerRegistered("Big BV"));
    ASSERT_TRUE(Append(reg).ok());
    for (int done = 0; done < count;) {
      v1::AppendEventsRequest req;
      req.set_stream("partner-big");
      for (int i = 0; i < kBigEventsPerAppend && done < count; ++i) {
        *req.add_events() = Proposed(BigUpdate(done++));
      }
      grpc::Status s = Append(req);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    ASSERT_EQ(server_->ledger().head_position(), count + 1u);
  }

  grpc::Status ReadAllPage(uint64_t from, uint32_t max_count,
                           v1::ReadAllResponse* page,
                           grpc::ClientContext* ctx) {
    v1::ReadAllRequest req;
    req.set_from_position(from);
    req.set_max_count(max_count);
    return stub_->ReadAll(ctx, req, page);
  }

  TempDir dir_;
  FakeClock clock_{1'767'225'600'000'000};
  std::unique_ptr<LedgerServer> server_;
  std::unique_ptr<v1::EventStoreService::Stub> stub_;
};

// 1,000 events of ~62 KB: ReadAll(max_count=1000) and ReadStream page
// through all of them in pages of at most kReadPageBytesMax record bytes,
// each accepted by a default client; a subscriber gets every one.
TEST_F(ReadPagesTest, PagesOfLargeEventsAreCutByBytesWithAContinuation) {
  Start();
  LoadBigEvents();
  uint64_t from = 0, expected = 1;
  int pages = 0;
  for (;;) {
    v1::ReadAllResponse page;
    grpc::ClientContext ctx;
    grpc::Status s = ReadAllPage(from, 1000, &page, &ctx);
    ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
    ++pages;
    ASSERT_GT(page.events_size(), 0);
    EXPECT_LE(page.ByteSizeLong(), limits::kReadPageBytesMax + 64 * 1024);
    for (const v1::Event& e : page.events()) {
      EXPECT_EQ(e.position(), expected++);
    }
    if (page.end_of_log()) break;
    EXPECT_EQ(page.next_position(), expected);
    from = page.next_position();
  }
  EXPECT_EQ(expected, kBigEvents + 2u);
  EXPECT_GE(pages, 25);  // 62 MB in pages of at most 2 MiB
  EXPECT_LE(pages, 40);

  uint64_t revision = 0;
  v1::ReadStreamRequest rs;
  rs.set_stream("partner-big");
  rs.set_max_count(1000);
  for (;;) {
    v1::ReadStreamResponse page;
    grpc::ClientContext ctx;
    grpc::Status s = stub_->ReadStream(&ctx, rs, &page);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_GT(page.events_size(), 0);
    EXPECT_LE(page.ByteSizeLong(), limits::kReadPageBytesMax + 64 * 1024);
    for (const v1::Event& e : page.events()) {
      EXPECT_EQ(e.revision(), revision++);
    }
    if (page.end_of_stream()) break;
    rs.set_from_revision(page.next_revision());
  }
  EXPECT_EQ(revision, kBigEvents + 1u);

  v1::SubscribeRequest sub;
  grpc::ClientContext sctx;
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
      stub_->Subscribe(&sctx, sub);
  v1::SubscribeResponse msg;
  uint64_t next = 1;
  while (reader->Read(&msg)) {
    if (msg.has_caught_up()) break;
    if (msg.has_event()) {
      EXPECT_EQ(msg.event().position(), next++);
    }
  }
  EXPECT_EQ(next, kBigEvents + 2u);
  sctx.TryCancel();
  reader->Finish();

  // Every page's bytes went back to the budget, and the spike's memory to
  // the operating system.
  ReadBudget& budget = server_->read_budget();
  EXPECT_TRUE(WaitUntil([&] { return budget.in_flight_bytes() == 0; }));
  EXPECT_GE(budget.trims(), 1u);
}

// With the budget taken, a read gets RESOURCE_EXHAUSTED and a retry hint;
// with part of it, a shorter page; with all of it back, a full page.
TEST_F(ReadPagesTest, ReadsBeyondTheMemoryBudgetAreResourceExhausted) {
  constexpr size_t kBudget = 8 * 1024 * 1024;
  Start(kBudget);
  LoadBigEvents(120);
  {
    ReadBudget& budget = server_->read_budget();
    ASSERT_TRUE(WaitUntil([&] { return budget.in_flight_bytes() == 0; }));
    ReadReservation hold(&budget);
    ASSERT_TRUE(hold.TryAdd(kBudget - 64 * 1024));
    v1::ReadAllResponse page;
    grpc::ClientContext ctx;
    grpc::Status s = ReadAllPage(2, 1000, &page, &ctx);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_THAT(s.error_message(), HasSubstr("read memory budget exhausted"));
    EXPECT_THAT(s.error_message(), HasSubstr("retry after 100 ms"));
    auto hint = ctx.GetServerTrailingMetadata().find(kRetryPushbackTrailer);
    ASSERT_NE(hint, ctx.GetServerTrailingMetadata().end());
    EXPECT_EQ(std::string(hint->second.data(), hint->second.size()), "100");
    EXPECT_EQ(server_->read_budget().refused(), 1u);

    v1::ReadStreamRequest rs;
    rs.set_stream("partner-big");
    rs.set_from_revision(1);
    v1::ReadStreamResponse sp;
    grpc::ClientContext sctx;
    EXPECT_EQ(stub_->ReadStream(&sctx, rs, &sp).error_code(),
              grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  {
    // Room for about 1 MiB of responses: half of it in record bytes, so
    // eight events of ~62 KB.
    ReadBudget& budget = server_->read_budget();
    ASSERT_TRUE(WaitUntil([&] { return budget.in_flight_bytes() == 0; }));
    ReadReservation hold(&budget);
    ASSERT_TRUE(hold.TryAdd(kBudget - 1024 * 1024));
    v1::ReadAllResponse page;
    grpc::ClientContext ctx;
    ASSERT_TRUE(ReadAllPage(2, 1000, &page, &ctx).ok());
    EXPECT_EQ(page.events_size(), 8);
    EXPECT_FALSE(page.end_of_log());
    EXPECT_EQ(page.next_position(), 10u);
  }
  ReadBudget& budget = server_->read_budget();
  ASSERT_TRUE(WaitUntil([&] { return budget.in_flight_bytes() == 0; }));
  v1::ReadAllResponse page;
  grpc::ClientContext ctx;
  ASSERT_TRUE(ReadAllPage(2, 1000, &page, &ctx).ok());
  EXPECT_EQ(page.events_size(), 33);  // 2 MiB / ~62.6 KB
  EXPECT_TRUE(WaitUntil([&] { return budget.in_flight_bytes() == 0; }));
  EXPECT_LE(server_->read_budget().peak_bytes(), kBudget);
}

// Many concurrent big-page reads: each is served or refused with
// RESOURCE_EXHAUSTED, and the bytes in flight never exceed the budget.
TEST_F(ReadPagesTest, ConcurrentBigReadsStayWithinTheBudget) {
  constexpr size_t kBudget = 12 * 1024 * 1024;  // three full pages
  Start(kBudget);
  LoadBigEvents(300);
  constexpr int kReaders = 16;
  std::atomic<int> served{0}, refused{0}, other{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      for (int i = 0; i < 3; ++i) {
        v1::ReadAllResponse page;
        grpc::ClientContext ctx;
        grpc::Status s = ReadAllPage(2 + 9 * ((r + i) % 30), 1000, &page, &ctx);
        if (s.ok() && page.events_size() > 0) {
          ++served;
        } else if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
          ++refused;
        } else {
          ++other;
        }
      }
    });
  }
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(served + refused, kReaders * 3);
  EXPECT_EQ(other, 0);
  EXPECT_GT(served, 0);
  EXPECT_EQ(static_cast<uint64_t>(refused), server_->read_budget().refused());
  EXPECT_LE(server_->read_budget().peak_bytes(), kBudget);
  EXPECT_GT(server_->read_budget().peak_bytes(), 0u);
  ReadBudget& budget = server_->read_budget();
  EXPECT_TRUE(WaitUntil([&] { return budget.in_flight_bytes() == 0; }));
}

// An 8 KB stream name or event id is refused naming the field, and the
// message quotes at most kEchoBytesMax bytes of it: a default client gets
// the exact code, not a metadata-size failure.
TEST_F(ReadPagesTest, HostileValuesAreEchoedCappedAndReadStreamValidatesNames) {
  Start();
  const std::string long_name = "partner-" + std::string(8192, 'x');
  auto bounded = [](const grpc::Status& s) {
    EXPECT_LE(s.error_message().size(), 300u) << s.error_message().size();
  };

  v1::AppendEventsRequest by_name;
  by_name.set_stream(long_name);
  *by_name.add_events() = Proposed(sim::PartnerRegistered("X"));
  grpc::Status s = Append(by_name);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("stream"));
  bounded(s);

  v1::ReadStreamRequest rs;
  rs.set_stream(long_name);
  v1::ReadStreamResponse page;
  grpc::ClientContext rctx;
  s = stub_->ReadStream(&rctx, rs, &page);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("stream"));
  bounded(s);
  rs.set_stream("nocategory");
  grpc::ClientContext rctx2;
  s = stub_->ReadStream(&rctx2, rs, &page);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("is not {category}-{id}"));

  v1::AppendEventsRequest by_id;
  by_id.set_stream("partner-x");
  *by_id.add_events() = Proposed(sim::PartnerRegistered("X"));
  by_id.mutable_events(0)->set_event_id(std::string(8192, 'e'));
  s = Append(by_id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("events[0].event_id"));
  EXPECT_THAT(s.error_message(), HasSubstr("(8192 bytes)"));
  bounded(s);

  // Whatever a message quotes, what is sent is at most
  // kErrorMessageBytesMax bytes.
  v1::AppendEventsRequest long_date;
  long_date.set_stream("partner-x");
  *long_date.add_events() = Proposed(sim::PartnerRegistered("X"));
  long_date.mutable_events(0)
      ->mutable_payload()
      ->mutable_partner_registered()
      ->set_country(std::string(8192, 'Q'));
  s = Append(long_date);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LE(s.error_message().size(), limits::kErrorMessageBytesMax);
  EXPECT_EQ(server_->ledger().head_position(), 0u);
}

}  // namespace
}  // namespace partnerledger::server

// When the rules break one of their own invariants on an event they had
// accepted, the writer stops: that append and every later one get
// UNAVAILABLE, health turns NOT_SERVING with one error log line, nothing of
// the broken request is written, and reads go on. The defects are injected
// through ServerOptions::rules by wrappers defined here, in the test only.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <mutex>

#include "domain/partnership.h"
#include "domain/partnership_sim.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "server/log.h"
#include "server/server.h"
#include "test_support.h"

namespace partnerledger::server {
namespace {

namespace sim = domain::testing;
using partnerledger::testing::NextUuid;
using partnerledger::testing::TempDir;
using ::testing::HasSubstr;

// The partnership rules with one defect injected for the test.
class DefectiveRulesForTest final : public domain::Rules {
 public:
  enum class Defect {
    // Decide accepts ConflictResolved without checking the conflict is
    // open, so Apply meets a deal whose open-conflict count would go
    // negative.
    kResolveWithoutChecks,
    // Apply fails on a profile update whose pitch is "break".
    kApplyFails,
    // Decide reports INTERNAL (what its dry run of Apply does when it
    // finds broken state) for a profile update whose pitch is "break".
    kDecideInternal,
  };
  explicit DefectiveRulesForTest(Defect d) : defect_(d) {}

  absl::StatusOr<domain::Decision> Decide(
      const domain::StateView& state,
      const domain::Proposal& p) const override {
    if (defect_ == Defect::kResolveWithoutChecks &&
        p.payload->has_conflict_resolved()) {
      return domain::Decision{*p.payload, {}};
    }
    if (defect_ == Defect::kDecideInternal && Marked(*p.payload)) {
      return absl::InternalError("apply: deal 'D9' missing from state");
    }
    return real_->Decide(state, p);
  }

  absl::Status Apply(domain::StateWriter& state,
                     const domain::Recorded& e) const override {
    if (defect_ == Defect::kApplyFails && Marked(*e.payload)) {
      return absl::InternalError("state of partner-C does not add up");
    }
    return real_->Apply(state, e);
  }

 private:
  static bool Marked(const v1::EventPayload& p) {
    return p.has_partner_profile_updated() &&
           p.partner_profile_updated().pitch() == "break";
  }
  const Defect defect_;
  const std::unique_ptr<domain::Rules> real_ = domain::NewPartnershipRules();
};

class WriterInvariantTest
    : public ::testing::TestWithParam<DefectiveRulesForTest::Defect> {
 protected:
  void SetUp() override {
    SetLogSinkForTest([this](const std::string& line) {
      std::lock_guard<std::mutex> lock(mu_);
      logs_.push_back(line);
    });
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.ledger.data_dir = dir_.Sub("data");
    o.ledger.clock = &clock_;
    o.rules = &rules_;
    absl::StatusOr<std::unique_ptr<LedgerServer>> s = LedgerServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    stub_ = v1::EventStoreService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    server_.reset();
    SetLogSinkForTest({});
  }

  grpc::Status Append(const std::string& stream, v1::EventPayload payload) {
    v1::AppendEventsRequest req;
    req.set_stream(stream);
    v1::ProposedEvent* e = req.add_events();
    e->set_event_id(NextUuid());
    e->mutable_occurred_at()->set_seconds(1'767'225'600);
    *e->mutable_payload() = std::move(payload);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(20));
    v1::AppendEventsResponse resp;
    return stub_->AppendEvents(&ctx, req, &resp);
  }

  static v1::EventPayload Pitch(const std::string& pitch) {
    v1::EventPayload p;
    p.mutable_partner_profile_updated()->set_pitch(pitch);
    return p;
  }

  std::vector<std::string> ErrorLines() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const std::string& l : logs_) {
      if (l.find("\"level\":\"error\"") != std::string::npos) out.push_back(l);
    }
    return out;
  }

  TempDir dir_;
  FakeClock clock_{1'767'225'600'000'000};
  DefectiveRulesForTest rules_{GetParam()};
  std::unique_ptr<LedgerServer> server_;
  std::unique_ptr<v1::EventStoreService::Stub> stub_;
  std::mutex mu_;
  std::vector<std::string> logs_;
};

TEST_P(WriterInvariantTest, BrokenInvariantStopsTheWriterLoudly) {
  auto must = [&](const std::string& stream, v1::EventPayload p) {
    grpc::Status s = Append(stream, std::move(p));
    ASSERT_TRUE(s.ok()) << stream << ": " << s.error_message();
  };
  must("partner-C", sim::PartnerRegistered("C"));
  must("partner-F", sim::PartnerRegistered("F"));
  must("agreement-CF", sim::AgreementSigned("C", "F"));
  sim::DealSpec d;
  d.agreement = "CF";
  must("deal-D1", sim::DealOriginated(d));
  must("conflict-K1", sim::ConflictRaised("CF", "D1"));
  must("conflict-K1", sim::ConflictResolved());
  const uint64_t head = server_->ledger().head_position();
  ASSERT_EQ(head, 6u);
  ASSERT_TRUE(server_->serving());

  // The defective step: resolving K1 again, or the marked profile update.
  const bool conflict =
      GetParam() == DefectiveRulesForTest::Defect::kResolveWithoutChecks;
  grpc::Status broken = conflict
                            ? Append("conflict-K1", sim::ConflictResolved())
                            : Append("partner-C", Pitch("break"));
  EXPECT_EQ(broken.error_code(), grpc::StatusCode::UNAVAILABLE)
      << broken.error_message();
  EXPECT_THAT(broken.error_message(), HasSubstr("invariant broken"));
  if (conflict) {
    EXPECT_THAT(broken.error_message(),
                HasSubstr("would leave deal 'D1' with -1 open conflicts"));
  }

  // Stopped: nothing of it written, later appends refused, health
  // NOT_SERVING, one error line naming the cause; reads go on.
  EXPECT_EQ(server_->ledger().head_position(), head);
  EXPECT_FALSE(server_->ledger().healthy());
  EXPECT_FALSE(server_->serving());
  grpc::Status later = Append("partner-F", Pitch("fine"));
  EXPECT_EQ(later.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(later.error_message(), HasSubstr("ledger stopped"));
  EXPECT_EQ(server_->ledger().head_position(), head);
  std::vector<std::string> errors = ErrorLines();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0],
              HasSubstr("\"msg\":\"invariant broken; writer stopped"));
  EXPECT_THAT(errors[0], HasSubstr("NOT_SERVING"));
  const char* cause =
      conflict ? "open conflicts"
      : GetParam() == DefectiveRulesForTest::Defect::kApplyFails
          ? "applying PartnerProfileUpdated at position 7: state of partner-C"
          : "deal 'D9' missing from state";
  EXPECT_THAT(errors[0], HasSubstr(cause));
  v1::ReadAllRequest ra;
  v1::ReadAllResponse page;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->ReadAll(&ctx, ra, &page).ok());
  EXPECT_EQ(page.events_size(), 6);
}

INSTANTIATE_TEST_SUITE_P(
    Defects, WriterInvariantTest,
    ::testing::Values(DefectiveRulesForTest::Defect::kResolveWithoutChecks,
                      DefectiveRulesForTest::Defect::kApplyFails,
                      DefectiveRulesForTest::Defect::kDecideInternal));

}  // namespace
}  // namespace partnerledger::server

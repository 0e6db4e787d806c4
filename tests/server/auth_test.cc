// Authentication and roles over a real gRPC channel (in process, port 0):
// every RPC x {no credentials, bad token, wrong role, other partner,
// allowed} with exact codes, partner scoping of reads, the actor of appends,
// denial logs, and the auth config format.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <set>

#include "domain/partnership_sim.h"
#include "google/protobuf/descriptor.h"
#include "partnerledger/v1/admin.grpc.pb.h"
#include "partnerledger/v1/audit.grpc.pb.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "partnerledger/v1/query.grpc.pb.h"
#include "server/log.h"
#include "server/server.h"
#include "test_support.h"
#include "util/sha256.h"

namespace partnerledger::server {
namespace {

namespace sim = domain::testing;
using partnerledger::testing::NextUuid;
using partnerledger::testing::TempDir;
using ::testing::HasSubstr;

std::string Sha256Hex(const std::string& s) {
  return ToHex(DigestBytes(Sha256Of(s)));
}

// Tokens of the test principals, and the config that maps their hashes.
constexpr char kWriter[] = "tok-writer-0123456789";
constexpr char kFinance[] = "tok-finance-0123456789";
constexpr char kAuditor[] = "tok-auditor-0123456789";
constexpr char kAdmin[] = "tok-admin-0123456789";
constexpr char kPartnerC[] = "tok-partner-c-0123456789";
constexpr char kBadToken[] = "tok-nobody-knows-this";
constexpr char kNone[] = "";

std::string TestAuthConfig() {
  return "# test principals\n"
         "token " +
         Sha256Hex(kWriter) +
         " app-writer writer\n"
         "token " +
         Sha256Hex(kFinance) +
         " fin finance\n"
         "token " +
         Sha256Hex(kAuditor) +
         " aud auditor   # trailing comment\n"
         "token " +
         Sha256Hex(kAdmin) +
         " adm admin\n"
         "token " +
         Sha256Hex(kPartnerC) + " portal-c partner:C\n";
}

// Sends `token` ("" = none) as "authorization: Bearer <token>".
void Authorize(grpc::ClientContext* ctx, const std::string& token) {
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(30));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<AuthConfig> config = AuthConfig::Parse(TestAuthConfig());
    ASSERT_TRUE(config.ok()) << config.status();
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.ledger.data_dir = dir_.Sub("data");
    o.ledger.clock = &clock_;
    o.auth = std::move(*config);
    o.backup_root = dir_.Sub("backups");
    absl::StatusOr<std::unique_ptr<LedgerServer>> s = LedgerServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    auto channel =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials());
    events_ = v1::EventStoreService::NewStub(channel);
    queries_ = v1::LedgerQueryService::NewStub(channel);
    admin_ = v1::AdminService::NewStub(channel);
    audit_ = v1::AuditService::NewStub(channel);
    LoadParties();
  }

  static v1::AppendEventsRequest AppendOf(
      const std::string& stream, v1::EventPayload payload,
      const std::string& date = "2026-01-15") {
    v1::AppendEventsRequest req;
    req.set_stream(stream);
    v1::ProposedEvent* e = req.add_events();
    e->set_event_id(NextUuid());
    e->mutable_occurred_at()->set_seconds(sim::DateUs(date) / 1'000'000 +
                                          12 * 3600);
    *e->mutable_payload() = std::move(payload);
    return req;
  }

  grpc::Status Append(const std::string& token,
                      const v1::AppendEventsRequest& req,
                      v1::AppendEventsResponse* resp = nullptr) {
    grpc::ClientContext ctx;
    Authorize(&ctx, token);
    v1::AppendEventsResponse local;
    clock_.Advance(1'000'000);
    return events_->AppendEvents(&ctx, req, resp ? resp : &local);
  }

  void MustAppend(const std::string& stream, v1::EventPayload payload,
                  const std::string& date = "2026-01-15") {
    grpc::Status s =
        Append(kWriter, AppendOf(stream, std::move(payload), date));
    ASSERT_TRUE(s.ok()) << stream << ": " << s.error_message();
  }

  // C, F and G; C and G each have an agreement, a deal and a settlement
  // with F. Partner C is involved in: partner-C, agreement-CF, deal-D1,
  // settlement-S1, and nothing of G's.
  void LoadParties() {
    MustAppend("partner-C", sim::PartnerRegistered("C Consulting"));
    MustAppend("partner-F", sim::PartnerRegistered("F Software"));
    MustAppend("partner-G", sim::PartnerRegistered("G Group"));
    MustAppend("agreement-CF", sim::AgreementSigned("C", "F"));
    MustAppend("agreement-GF", sim::AgreementSigned("G", "F"));
    sim::DealSpec d1;
    d1.agreement = "CF";
    d1.originator = "C";
    d1.provider = "F";
    d1.prime = "F";
    MustAppend("deal-D1", sim::DealOriginated(d1));
    MustAppend("deal-D1", sim::MarginAgreed());
    MustAppend("deal-D1", sim::DealClosed(v1::DEAL_OUTCOME_WON));
    MustAppend("deal-D1",
               sim::RevenueBooked("R1", "EUR", 120'000'00, "2026-02-01"),
               "2026-02-01");
    sim::DealSpec d3 = d1;
    d3.agreement = "GF";
    d3.originator = "G";
    d3.customer = "cust-3";
    MustAppend("deal-D3", sim::DealOriginated(d3));
    MustAppend("deal-D3", sim::MarginAgreed());
    MustAppend("deal-D3", sim::DealClosed(v1::DEAL_OUTCOME_WON));
    MustAppend("deal-D3",
               sim::RevenueBooked("R9", "EUR", 80'000'00, "2026-02-01"),
               "2026-02-01");
    MustAppend("settlement-S1",
               sim::SettlementRecorded("F", "C", "EUR", 1'000'00),
               "2026-02-20");
    MustAppend("settlement-S2",
               sim::SettlementRecorded("F", "G", "EUR", 1'000'00),
               "2026-02-20");
    MustAppend("period-2026-01", sim::PeriodClosed("2026-01"));
  }

  // One call of every RPC; `scope` picks the request: kOwn asks for what
  // involves partner C, kOther for what involves only G.
  enum class Scope { kOwn, kOther };
  struct RpcCase {
    Rpc rpc;
    // A principal with no role allowing it (never the partner).
    const char* wrong_role_token;
    // The partner's other-partner request is refused (true) or filtered
    // (false: ReadAll/Subscribe return only what involves C).
    bool other_partner_refused;
    std::function<grpc::Status(AuthTest*, const std::string&, Scope)> call;
  };

  static std::vector<RpcCase> Cases();

  // Every event a partner-C reader got must involve C.
  static bool InvolvesC(const std::string& stream) {
    static const std::set<std::string> kC = {"partner-C", "agreement-CF",
                                             "deal-D1", "settlement-S1"};
    return kC.count(stream) > 0;
  }

  TempDir dir_;
  FakeClock clock_{1'767'225'600'000'000};
  std::unique_ptr<LedgerServer> server_;
  std::unique_ptr<v1::EventStoreService::Stub> events_;
  std::unique_ptr<v1::LedgerQueryService::Stub> queries_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
};

template <typename Req, typename Resp, typename Stub>
grpc::Status Unary(Stub* stub,
                   grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                const Req&, Resp*),
                   const std::string& token, const Req& req,
                   Resp* resp = nullptr) {
  grpc::ClientContext ctx;
  Authorize(&ctx, token);
  Resp local;
  return (stub->*method)(&ctx, req, resp ? resp : &local);
}

// Subscribes, reads until caught up (OK) or the stream ends (its status).
// With `streams`, collects the delivered events' streams.
grpc::Status SubscribeUntilCaughtUp(
    v1::EventStoreService::Stub* stub, const std::string& token,
    std::vector<std::string>* streams = nullptr) {
  grpc::ClientContext ctx;
  Authorize(&ctx, token);
  auto reader = stub->Subscribe(&ctx, v1::SubscribeRequest());
  v1::SubscribeResponse msg;
  while (reader->Read(&msg)) {
    if (msg.has_event() && streams != nullptr)
      streams->push_back(msg.event().stream());
    if (msg.has_caught_up()) {
      ctx.TryCancel();
      reader->Finish().IgnoreError();
      return grpc::Status::OK;
    }
  }
  return reader->Finish();
}

std::vector<AuthTest::RpcCase> AuthTest::Cases() {
  using S = v1::EventStoreService::Stub;
  using Q = v1::LedgerQueryService::Stub;
  using A = v1::AdminService::Stub;
  using AU = v1::AuditService::Stub;
  return {
      {Rpc::kAppendEvents, kAuditor, true,
       [](AuthTest* t, const std::string& tok, Scope) {
         return t->Append(
             tok, AppendOf("partner-C",
                           partnerledger::testing::ProfileUpdatedPayload(
                               "new pitch")));
       }},
      {Rpc::kReadStream, kWriter, true,
       [](AuthTest* t, const std::string& tok, Scope s) {
         v1::ReadStreamRequest r;
         r.set_stream(s == Scope::kOwn ? "deal-D1" : "deal-D3");
         return Unary(t->events_.get(), &S::ReadStream, tok, r);
       }},
      {Rpc::kReadAll, kWriter, false,
       [](AuthTest* t, const std::string& tok, Scope) {
         return Unary(t->events_.get(), &S::ReadAll, tok, v1::ReadAllRequest());
       }},
      {Rpc::kSubscribe, kFinance, false,
       [](AuthTest* t, const std::string& tok, Scope) {
         return SubscribeUntilCaughtUp(t->events_.get(), tok);
       }},
      {Rpc::kGetDigest, kWriter, true,
       [](AuthTest* t, const std::string& tok, Scope) {
         return Unary(t->events_.get(), &S::GetDigest, tok,
                      v1::GetDigestRequest());
       }},
      {Rpc::kVerifyChain, kFinance, true,
       [](AuthTest* t, const std::string& tok, Scope) {
         return Unary(t->events_.get(), &S::VerifyChain, tok,
                      v1::VerifyChainRequest());
       }},
      {Rpc::kGetObligations, kAuditor, true,
       [](AuthTest* t, const std::string& tok, Scope s) {
         v1::GetObligationsRequest r;
         if (s == Scope::kOther) r.set_partner_id("G");
         return Unary(t->queries_.get(), &Q::GetObligations, tok, r);
       }},
      {Rpc::kGetReferralBalance, kAuditor, true,
       [](AuthTest* t, const std::string& tok, Scope) {
         v1::GetReferralBalanceRequest r;
         r.set_partner_a("C");
         r.set_partner_b("F");
         return Unary(t->queries_.get(), &Q::GetReferralBalance, tok, r);
       }},
      {Rpc::kGetStatement, kAuditor, true,
       [](AuthTest* t, const std::string& tok, Scope s) {
         v1::GetStatementRequest r;
         r.set_payer("F");
         r.set_payee(s == Scope::kOwn ? "C" : "G");
         r.set_currency("EUR");
         r.set_period("2026-02");
         return Unary(t->queries_.get(), &Q::GetStatement, tok, r);
       }},
      {Rpc::kGetDeal, kWriter, true,
       [](AuthTest* t, const std::string& tok, Scope) {
         v1::GetDealRequest r;
         r.set_deal_id("D1");
         return Unary(t->queries_.get(), &Q::GetDeal, tok, r);
       }},
      {Rpc::kListConflicts, kAuditor, true,
       [](AuthTest* t, const std::string& tok, Scope) {
         return Unary(t->queries_.get(), &Q::ListConflicts, tok,
                      v1::ListConflictsRequest());
       }},
      {Rpc::kGetSatisfaction, kAdmin, true,
       [](AuthTest* t, const std::string& tok, Scope) {
         v1::GetSatisfactionRequest r;
         r.set_agreement_id("CF");
         return Unary(t->queries_.get(), &Q::GetSatisfaction, tok, r);
       }},
      {Rpc::kGetPartnershipHealth, kWriter, true,
       [](AuthTest* t, const std::string& tok, Scope) {
         v1::GetPartnershipHealthRequest r;
         r.set_partner_a("C");
         r.set_partner_b("F");
         return Unary(t->queries_.get(), &Q::GetPartnershipHealth, tok, r);
       }},
      {Rpc::kRebuildProjections, kFinance, true,
       [](AuthTest* t, const std::string& tok, Scope) {
         return Unary(t->queries_.get(), &Q::RebuildProjections, tok,
                      v1::RebuildProjectionsRequest());
       }},
      {Rpc::kCreateBackup, kAuditor, true,
       [](AuthTest* t, const std::string& tok, Scope) {
         v1::CreateBackupRequest r;
         r.set_backup_dir("nightly");
         return Unary(t->admin_.get(), &A::CreateBackup, tok, r);
       }},
      {Rpc::kVerifyBackup, kWriter, true,
       [](AuthTest* t, const std::string& tok, Scope) {
         v1::CreateBackupRequest c;
         c.set_backup_dir("verify");
         v1::CreateBackupResponse created;
         // Made by the admin whoever verifies, so there is one to verify.
         grpc::Status s = Unary(t->admin_.get(), &A::CreateBackup,
                                std::string(kAdmin), c, &created);
         if (!s.ok()) return s;
         v1::VerifyBackupRequest r;
         r.set_backup_dir("verify");
         r.set_backup_id(created.backup_id());
         return Unary(t->admin_.get(), &A::VerifyBackup, tok, r);
       }},
      {Rpc::kGetCheckpoint, kWriter, false,
       [](AuthTest* t, const std::string& tok, Scope) {
         return Unary(t->audit_.get(), &AU::GetCheckpoint, tok,
                      v1::GetCheckpointRequest());
       }},
      {Rpc::kGetInclusionProof, kFinance, true,
       [](AuthTest* t, const std::string& tok, Scope s) {
         v1::GetInclusionProofRequest r;
         // Position 1 is partner-C's registration, 3 partner-G's.
         r.set_position(s == Scope::kOwn ? 1 : 3);
         return Unary(t->audit_.get(), &AU::GetInclusionProof, tok, r);
       }},
      {Rpc::kGetConsistencyProof, kAdmin, false,
       [](AuthTest* t, const std::string& tok, Scope) {
         v1::GetConsistencyProofRequest r;
         r.set_from_size(3);
         return Unary(t->audit_.get(), &AU::GetConsistencyProof, tok, r);
       }},
  };
}

// The allowed principal of each RPC.
const char* AllowedToken(Rpc rpc) {
  const RpcPolicy& p = PolicyOf(rpc);
  if (p.roles & kRoleWriter) return kWriter;
  if (p.roles & kRoleFinance) return kFinance;
  if (p.roles & kRoleAuditor) return kAuditor;
  return kAdmin;
}

TEST_F(AuthTest, EveryRpcAnswersEachKindOfCallerWithTheExactCode) {
  std::vector<RpcCase> cases = Cases();
  ASSERT_EQ(cases.size(), AllRpcPolicies().size());
  for (const RpcCase& c : cases) {
    const std::string method = PolicyOf(c.rpc).method;
    SCOPED_TRACE(method);
    EXPECT_EQ(c.call(this, kNone, Scope::kOwn).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(c.call(this, kBadToken, Scope::kOwn).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(c.call(this, c.wrong_role_token, Scope::kOwn).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    const grpc::Status other = c.call(this, kPartnerC, Scope::kOther);
    EXPECT_EQ(other.error_code(), c.other_partner_refused
                                      ? grpc::StatusCode::PERMISSION_DENIED
                                      : grpc::StatusCode::OK)
        << other.error_message();
    const grpc::Status allowed = c.call(this, AllowedToken(c.rpc), Scope::kOwn);
    EXPECT_TRUE(allowed.ok()) << allowed.error_message();
    if (PolicyOf(c.rpc).partner_scoped) {
      const grpc::Status own = c.call(this, kPartnerC, Scope::kOwn);
      EXPECT_TRUE(own.ok()) << own.error_message();
    }
  }
}

TEST_F(AuthTest, EveryMethodOfEveryServiceHasAPolicy) {
  std::set<std::string> in_table;
  for (const RpcPolicy& p : AllRpcPolicies()) in_table.insert(p.method);
  size_t methods = 0;
  for (const char* name :
       {"partnerledger.v1.EventStoreService",
        "partnerledger.v1.LedgerQueryService", "partnerledger.v1.AdminService",
        "partnerledger.v1.AuditService"}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string full =
          "/" + service->full_name() + "/" + service->method(i)->name();
      EXPECT_EQ(in_table.count(full), 1u) << full << " has no policy";
      ++methods;
    }
  }
  EXPECT_EQ(methods, in_table.size());
}

TEST_F(AuthTest, TheActorOfAnAppendIsTheAuthenticatedPrincipal) {
  ASSERT_TRUE(
      Append(kWriter, AppendOf("partner-C",
                               partnerledger::testing::ProfileUpdatedPayload(
                                   "new pitch")))
          .ok());
  v1::ReadStreamRequest r;
  r.set_stream("partner-C");
  r.set_from_end(true);
  r.set_direction(v1::READ_DIRECTION_BACKWARD);
  r.set_max_count(1);
  v1::ReadStreamResponse page;
  ASSERT_TRUE(Unary(events_.get(), &v1::EventStoreService::Stub::ReadStream,
                    std::string(kAuditor), r, &page)
                  .ok());
  ASSERT_EQ(page.events_size(), 1);
  EXPECT_EQ(page.events(0).actor(), "app-writer");
  // Derived events stay "system".
  v1::ReadStreamRequest deal;
  deal.set_stream("deal-D1");
  ASSERT_TRUE(Unary(events_.get(), &v1::EventStoreService::Stub::ReadStream,
                    std::string(kAuditor), deal, &page)
                  .ok());
  std::set<std::string> actors;
  for (const v1::Event& e : page.events()) actors.insert(e.actor());
  EXPECT_EQ(actors, (std::set<std::string>{"app-writer", "system"}));
}

TEST_F(AuthTest, PartnerReadsSeeOnlyWhatInvolvesThePartner) {
  using S = v1::EventStoreService::Stub;
  // ReadAll, in small pages to the end: only C's streams, and all of them.
  std::set<std::string> seen;
  uint64_t from = 0;
  for (;;) {
    v1::ReadAllRequest r;
    r.set_from_position(from);
    r.set_max_count(3);
    v1::ReadAllResponse page;
    ASSERT_TRUE(
        Unary(events_.get(), &S::ReadAll, std::string(kPartnerC), r, &page)
            .ok());
    for (const v1::Event& e : page.events()) {
      EXPECT_TRUE(InvolvesC(e.stream())) << e.stream();
      seen.insert(e.stream());
    }
    if (page.end_of_log()) break;
    from = page.next_position();
  }
  EXPECT_EQ(seen, (std::set<std::string>{"partner-C", "agreement-CF", "deal-D1",
                                         "settlement-S1"}));

  std::vector<std::string> streams;
  ASSERT_TRUE(SubscribeUntilCaughtUp(events_.get(), kPartnerC, &streams).ok());
  EXPECT_FALSE(streams.empty());
  for (const std::string& s : streams) EXPECT_TRUE(InvolvesC(s)) << s;

  // ReadStream: own and involved streams yes; others (existing or not) no.
  for (const char* stream :
       {"partner-C", "agreement-CF", "deal-D1", "settlement-S1"}) {
    v1::ReadStreamRequest r;
    r.set_stream(stream);
    EXPECT_TRUE(
        Unary(events_.get(), &S::ReadStream, std::string(kPartnerC), r).ok())
        << stream;
  }
  for (const char* stream : {"partner-F", "agreement-GF", "deal-D3",
                             "settlement-S2", "period-2026-01", "deal-NOPE"}) {
    v1::ReadStreamRequest r;
    r.set_stream(stream);
    EXPECT_EQ(Unary(events_.get(), &S::ReadStream, std::string(kPartnerC), r)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED)
        << stream;
  }

  // Obligations are forced to the partner.
  v1::GetObligationsResponse obligations;
  ASSERT_TRUE(
      Unary(queries_.get(), &v1::LedgerQueryService::Stub::GetObligations,
            std::string(kPartnerC), v1::GetObligationsRequest(), &obligations)
          .ok());
  ASSERT_GT(obligations.obligations_size(), 0);
  for (const v1::ObligationRow& row : obligations.obligations()) {
    EXPECT_TRUE(row.payer() == "C" || row.payee() == "C")
        << row.payer() << "->" << row.payee();
  }
  v1::GetObligationsResponse all;
  ASSERT_TRUE(Unary(queries_.get(),
                    &v1::LedgerQueryService::Stub::GetObligations,
                    std::string(kFinance), v1::GetObligationsRequest(), &all)
                  .ok());
  EXPECT_GT(all.obligations_size(), obligations.obligations_size());
}

// A REGISTRATION_OVERLAP conflict on C's deal names G's competing deal and
// G itself: C may see that the conflict exists and which of its deals it is
// on, not what it is refused when reading G's deal directly.
TEST_F(AuthTest, PartnerReadsOfAConflictLeaveOutTheOtherPartnersDeal) {
  using S = v1::EventStoreService::Stub;
  sim::DealSpec d5;
  d5.agreement = "GF";
  d5.originator = "G";
  d5.provider = "F";
  d5.prime = "F";
  d5.customer = "cust-9";
  MustAppend("deal-D5", sim::DealOriginated(d5));
  sim::DealSpec d6 = d5;
  d6.agreement = "CF";
  d6.originator = "C";
  v1::AppendEventsResponse appended;
  ASSERT_TRUE(
      Append(kWriter, AppendOf("deal-D6", sim::DealOriginated(d6)), &appended)
          .ok());
  ASSERT_EQ(appended.events_size(), 2);
  const std::string conflict = appended.events(1).stream();
  ASSERT_EQ(conflict.rfind("conflict-", 0), 0u) << conflict;

  auto expect_redacted = [](const v1::Event& e) {
    const v1::ConflictRaised& c = e.payload().conflict_raised();
    EXPECT_TRUE(e.redacted());
    EXPECT_EQ(c.kind(), v1::CONFLICT_KIND_REGISTRATION_OVERLAP);
    EXPECT_EQ(c.agreement_id(), "CF");
    EXPECT_EQ(c.deal_id(), "D6");
    EXPECT_EQ(c.other_deal_id(), "");
    EXPECT_THAT(c.summary(), ::testing::Not(HasSubstr("D5")));
    EXPECT_THAT(c.summary(), ::testing::Not(HasSubstr("'G'")));
    EXPECT_THAT(c.summary(), HasSubstr("another partner"));
  };
  v1::ReadStreamRequest rs;
  rs.set_stream(conflict);
  // The auditor reads the record as it is.
  v1::ReadStreamResponse full;
  ASSERT_TRUE(
      Unary(events_.get(), &S::ReadStream, std::string(kAuditor), rs, &full)
          .ok());
  ASSERT_EQ(full.events_size(), 1);
  EXPECT_FALSE(full.events(0).redacted());
  EXPECT_EQ(full.events(0).payload().conflict_raised().other_deal_id(), "D5");
  EXPECT_THAT(full.events(0).payload().conflict_raised().summary(),
              HasSubstr("'G'"));
  // Partner C: ReadStream.
  v1::ReadStreamResponse mine;
  ASSERT_TRUE(
      Unary(events_.get(), &S::ReadStream, std::string(kPartnerC), rs, &mine)
          .ok());
  ASSERT_EQ(mine.events_size(), 1);
  expect_redacted(mine.events(0));
  // ReadAll.
  int found = 0;
  uint64_t from = 0;
  for (;;) {
    v1::ReadAllRequest r;
    r.set_from_position(from);
    v1::ReadAllResponse page;
    ASSERT_TRUE(
        Unary(events_.get(), &S::ReadAll, std::string(kPartnerC), r, &page)
            .ok());
    for (const v1::Event& e : page.events()) {
      EXPECT_NE(e.stream(), "deal-D5");
      if (e.stream() != conflict) continue;
      ++found;
      expect_redacted(e);
    }
    if (page.end_of_log()) break;
    from = page.next_position();
  }
  EXPECT_EQ(found, 1);
  // Subscribe.
  grpc::ClientContext ctx;
  Authorize(&ctx, kPartnerC);
  auto reader = events_->Subscribe(&ctx, v1::SubscribeRequest());
  v1::SubscribeResponse msg;
  found = 0;
  while (reader->Read(&msg)) {
    if (msg.has_event() && msg.event().stream() == conflict) {
      ++found;
      expect_redacted(msg.event());
    }
    if (msg.has_caught_up()) break;
  }
  ctx.TryCancel();
  reader->Finish().IgnoreError();
  EXPECT_EQ(found, 1);
  // What was left out is what C is refused directly.
  v1::ReadStreamRequest other;
  other.set_stream("deal-D5");
  EXPECT_EQ(Unary(events_.get(), &S::ReadStream, std::string(kPartnerC), other)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Conflict queries stay with finance: a partner is refused them.
  EXPECT_EQ(Unary(queries_.get(), &v1::LedgerQueryService::Stub::ListConflicts,
                  std::string(kPartnerC), v1::ListConflictsRequest())
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(AuthTest, DenialsAreLoggedAsJsonLines) {
  std::mutex mu;
  std::vector<std::string> lines;
  SetLogSinkForTest([&](const std::string& line) {
    std::lock_guard<std::mutex> lock(mu);
    lines.push_back(line);
  });
  EXPECT_EQ(Unary(events_.get(), &v1::EventStoreService::Stub::GetDigest,
                  std::string(kBadToken), v1::GetDigestRequest())
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(
      Append(kAuditor, AppendOf("partner-C",
                                partnerledger::testing::ProfileUpdatedPayload(
                                    "new pitch")))
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  SetLogSinkForTest({});
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0],
              HasSubstr("\"level\":\"warn\",\"msg\":\"request denied\""));
  EXPECT_THAT(lines[0], HasSubstr("\"code\":\"UNAUTHENTICATED\""));
  EXPECT_THAT(lines[0], HasSubstr("GetDigest"));
  EXPECT_THAT(lines[0], ::testing::Not(HasSubstr(kBadToken)));
  EXPECT_THAT(lines[1], HasSubstr("\"code\":\"PERMISSION_DENIED\""));
  EXPECT_THAT(lines[1], HasSubstr("\"principal\":\"aud\""));
  EXPECT_EQ(lines[1].back(), '\n');
}

TEST_F(AuthTest, MalformedAuthorizationHeaderIsUnauthenticated) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", std::string("Basic ") + kAuditor);
  v1::GetDigestResponse resp;
  EXPECT_EQ(
      events_->GetDigest(&ctx, v1::GetDigestRequest(), &resp).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
}

TEST(AuthConfigTest, ParsesTokensAndCertsWithRoles) {
  absl::StatusOr<AuthConfig> c =
      AuthConfig::Parse("token " + Sha256Hex("t") +
                        " ops writer,auditor\n"
                        "\n  # only a comment\n"
                        "cert\tclient.example.com  portal-x  partner:X\n");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->by_token_sha256.size(), 1u);
  const Principal& ops = c->by_token_sha256.begin()->second;
  EXPECT_EQ(ops.name, "ops");
  EXPECT_EQ(ops.roles, static_cast<uint32_t>(kRoleWriter | kRoleAuditor));
  ASSERT_EQ(c->by_cert_identity.count("client.example.com"), 1u);
  EXPECT_EQ(c->by_cert_identity.at("client.example.com").partner_id, "X");
}

TEST(AuthConfigTest, RejectsPlaintextTokensUnknownRolesAndReservedNames) {
  const std::string h = Sha256Hex("t");
  for (const std::string& bad : {
           std::string("token plaintext-secret ops writer\n"),
           "token " + h + " ops superuser\n",
           "token " + h + " system writer\n",
           "token " + h + " local writer\n",
           "token " + h + " ops partner:a,partner:b\n",
           "token " + h + " ops partner:bad/id\n",
           "token " + h + " ops writer\ntoken " + h + " ops2 writer\n",
           "key " + h + " ops writer\n",
           "token " + h + " ops\n",
       }) {
    absl::StatusOr<AuthConfig> c = AuthConfig::Parse(bad);
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(c.status().message()), HasSubstr("line ")) << bad;
  }
}

TEST(AuthStartTest, NonLoopbackNeedsAuthAndTlsOrAnExplicitOverride) {
  TempDir dir;
  ServerOptions o;
  o.listen = "0.0.0.0:0";
  o.ledger.data_dir = dir.Sub("data");
  EXPECT_EQ(LedgerServer::Start(o).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Tokens alone would travel in plaintext: still refused.
  o.auth = AuthConfig();
  EXPECT_EQ(LedgerServer::Start(o).status().code(),
            absl::StatusCode::kInvalidArgument);
  o.metrics_listen = "0.0.0.0:0";
  o.listen = "127.0.0.1:0";
  EXPECT_EQ(LedgerServer::Start(o).status().code(),
            absl::StatusCode::kInvalidArgument);
  o.allow_insecure_remote = true;
  o.listen = "0.0.0.0:0";
  absl::StatusOr<std::unique_ptr<LedgerServer>> s = LedgerServer::Start(o);
  EXPECT_TRUE(s.ok()) << s.status();
}

}  // namespace
}  // namespace partnerledger::server

// The ledger's side of replication (partnerledger/replication.h) against an
// in-memory commit log: a leader's groups applied on a follower give the
// same store byte for byte; ApplyReplicated refuses what does not follow or
// does not check; a failing log stops the leader without losing or
// duplicating anything; min_position waits for the applied head.
#include "partnerledger/replication.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "domain/partnership_sim.h"
#include "ledger/fake_commit_log.h"
#include "ledger/ledger_internal.h"
#include "ledger/replicated.h"
#include "partnerledger/ledger.h"
#include "partnerledger/limits.h"
#include "projection/queries.h"
#include "store/store.h"
#include "test_support.h"

namespace partnerledger {
namespace {

namespace sim = domain::testing;
using testing::FakeCommitLog;
using ::testing::HasSubstr;
using testing::MakeEvent;
using testing::NextUuid;
using testing::TempDir;

std::unique_ptr<Ledger> OpenLedger(const std::string& dir, Clock* clock,
                                   CommitLog* log) {
  Options o;
  o.data_dir = dir;
  o.clock = clock;
  o.commit_log = log;
  absl::StatusOr<std::unique_ptr<Ledger>> l = Ledger::Open(o);
  EXPECT_TRUE(l.ok()) << l.status();
  return l.ok() ? std::move(*l) : nullptr;
}

AppendRequest Request(const std::string& stream, v1::EventPayload payload,
                      const std::string& date = "2026-01-15") {
  AppendRequest r;
  r.stream = stream;
  NewEvent e = MakeEvent(std::move(payload));
  e.occurred_at_us = sim::DateUs(date) + 12 * 3600 * 1'000'000LL;
  r.events.push_back(std::move(e));
  return r;
}

// Every key and value of every column family, in order.
std::map<std::string, std::string> Dump(const Ledger& ledger) {
  std::map<std::string, std::string> out;
  const store::Store& s = ledger::StoreOf(ledger);
  for (auto f : {store::Store::Family::kEvents, store::Store::Family::kStreams,
                 store::Store::Family::kEventIds, store::Store::Family::kMeta,
                 store::Store::Family::kState, store::Store::Family::kStateHist,
                 store::Store::Family::kMerkle}) {
    absl::Status st =
        s.ScanFamily(f, [&](std::string_view k, std::string_view v) {
          out.emplace(std::string(store::FamilyName(f)) + "/" + std::string(k),
                      std::string(v));
          return true;
        });
    EXPECT_TRUE(st.ok()) << st;
  }
  return out;
}

class ReplicationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    leader_ = OpenLedger(dir_.Sub("leader"), &clock_, &leader_log_);
    follower_ = OpenLedger(dir_.Sub("follower"), &clock_, &follower_log_);
    ASSERT_NE(leader_, nullptr);
    ASSERT_NE(follower_, nullptr);
    ASSERT_TRUE(leader_->SetLeader().ok());
    follower_->SetFollower("leader:1");
  }

  // Appends every request at once (so groups hold several), waits for all.
  std::vector<absl::StatusOr<AppendResult>> AppendAll(
      std::vector<AppendRequest> requests) {
    return AppendAll(leader_.get(), std::move(requests));
  }
  static std::vector<absl::StatusOr<AppendResult>> AppendAll(
      Ledger* ledger, std::vector<AppendRequest> requests) {
    std::vector<absl::StatusOr<AppendResult>> out(
        requests.size(), absl::UnknownError("not done"));
    absl::Mutex mu;
    size_t left = requests.size();
    for (size_t i = 0; i < requests.size(); ++i) {
      ledger->Append(std::move(requests[i]),
                     [&, i](absl::StatusOr<AppendResult> r) {
                       absl::MutexLock lock(&mu);
                       out[i] = std::move(r);
                       --left;
                     });
    }
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](size_t* n) { return *n == 0; }, &left));
    return out;
  }

  // Applies the leader's groups from `from` on the follower.
  void Replicate(size_t from = 0) {
    std::vector<ReplicatedGroup> groups = leader_log_.groups();
    for (size_t i = from; i < groups.size(); ++i) {
      absl::Status s = follower_->ApplyReplicated(groups[i]);
      ASSERT_TRUE(s.ok()) << "group " << i << ": " << s;
    }
  }

  TempDir dir_;
  FakeClock clock_{1'767'225'600'000'000};
  FakeCommitLog leader_log_;
  FakeCommitLog follower_log_;
  std::unique_ptr<Ledger> leader_;
  std::unique_ptr<Ledger> follower_;
};

std::vector<AppendRequest> WorkedExample() {
  std::vector<AppendRequest> r;
  r.push_back(Request("partner-C", sim::PartnerRegistered("C Consulting")));
  r.push_back(Request("partner-F", sim::PartnerRegistered("F Software")));
  return r;
}

std::vector<AppendRequest> Deals() {
  std::vector<AppendRequest> r;
  r.push_back(
      Request("agreement-CF",
              sim::AgreementSigned(
                  "C", "F",
                  {sim::Schedule(v1::OFFERING_CLASS_PROJECT, 2000, 1000),
                   sim::Schedule(v1::OFFERING_CLASS_SAAS, 2500, 1250)})));
  return r;
}

std::vector<AppendRequest> DealD1() {
  sim::DealSpec d1;
  d1.agreement = "CF";
  d1.originator = "C";
  d1.provider = "F";
  d1.prime = "F";
  d1.offering_class = v1::OFFERING_CLASS_SAAS;
  d1.currency = "EUR";
  d1.start_date = "2026-02-01";
  std::vector<AppendRequest> r;
  r.push_back(Request("deal-D1", sim::DealOriginated(d1)));
  return r;
}

std::vector<AppendRequest> DealD1Money() {
  std::vector<AppendRequest> r;
  // One request with several events: a multi-position span.
  AppendRequest closing = Request("deal-D1", sim::MarginAgreed());
  NewEvent won = MakeEvent(sim::DealClosed(v1::DEAL_OUTCOME_WON));
  closing.events.push_back(std::move(won));
  r.push_back(std::move(closing));
  return r;
}

std::vector<AppendRequest> Revenue() {
  std::vector<AppendRequest> r;
  r.push_back(Request("deal-D1",
                      sim::RevenueBooked("R1", "EUR", 120'000'00, "2026-02-01"),
                      "2026-02-01"));
  r.push_back(Request("deal-D1",
                      sim::RevenueBooked("R2", "EUR", 120'000'00, "2027-02-01"),
                      "2027-02-01"));
  r.push_back(Request("settlement-S1",
                      sim::SettlementRecorded("F", "C", "EUR", 20'000'00),
                      "2027-02-20"));
  // Rejected (an unknown deal): fails alone, writes nothing.
  r.push_back(Request("deal-D9", sim::MarginAgreed()));
  return r;
}

TEST_F(ReplicationTest, FollowerAppliesLeaderGroupsToAnIdenticalStore) {
  size_t applied = 0;
  size_t rejected = 0;
  for (auto& step :
       {WorkedExample(), Deals(), DealD1(), DealD1Money(), Revenue()}) {
    for (absl::StatusOr<AppendResult>& r : AppendAll(step)) {
      if (r.ok()) continue;
      // deal-D9 does not exist.
      EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << r.status();
      ++rejected;
    }
    clock_.Advance(1'000'000);
    Replicate(applied);
    applied = leader_log_.groups().size();
  }
  EXPECT_EQ(rejected, 1u);
  const uint64_t head = leader_->head_position();
  // 2 partners, 1 agreement, 1 deal, 2 closing events, 2 revenues and a
  // settlement, plus whatever the rules derived.
  ASSERT_GE(head, 9u);
  EXPECT_EQ(follower_->head_position(), head);
  // Each group's positions follow the previous group's.
  uint64_t next = 1;
  for (const ReplicatedGroup& g : leader_log_.groups()) {
    EXPECT_EQ(g.first_position, next);
    next = g.last_position + 1;
  }
  EXPECT_EQ(next, head + 1);

  absl::StatusOr<ChainDigest> a = leader_->GetDigest(0);
  absl::StatusOr<ChainDigest> b = follower_->GetDigest(0);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->position, head);
  EXPECT_EQ(b->position, head);
  EXPECT_EQ(a->hash, b->hash);

  ReadAllOptions all;
  all.max_count = limits::kReadPageMax;
  absl::StatusOr<LogPage> la = leader_->ReadAll(all);
  absl::StatusOr<LogPage> lb = follower_->ReadAll(all);
  ASSERT_TRUE(la.ok() && lb.ok());
  ASSERT_EQ(la->events.size(), head);
  ASSERT_EQ(lb->events.size(), head);
  for (size_t i = 0; i < head; ++i) {
    EXPECT_EQ(la->events[i].hash, lb->events[i].hash) << i;
    EXPECT_EQ(la->events[i].recorded_at_us, lb->events[i].recorded_at_us);
  }

  auto obligations = [](const Ledger& l) {
    return projection::Queries::Live(&ledger::StoreOf(l))
        .GetObligations(v1::GetObligationsRequest());
  };
  absl::StatusOr<v1::GetObligationsResponse> oa = obligations(*leader_);
  absl::StatusOr<v1::GetObligationsResponse> ob = obligations(*follower_);
  ASSERT_TRUE(oa.ok() && ob.ok()) << oa.status() << ob.status();
  ASSERT_EQ(oa->obligations_size(), 1);
  // The SaaS schedule: 25% of 120,000.00 EUR booked in year one, 12.5% of
  // 120,000.00 in year two; 20,000.00 settled.
  EXPECT_EQ(oa->obligations(0).payer(), "F");
  EXPECT_EQ(oa->obligations(0).payee(), "C");
  EXPECT_EQ(oa->obligations(0).accrued_minor(), 30'000'00 + 15'000'00);
  EXPECT_EQ(oa->obligations(0).settled_minor(), 20'000'00);
  EXPECT_EQ(oa->obligations(0).outstanding_minor(), 25'000'00);
  EXPECT_EQ(oa->SerializeAsString(), ob->SerializeAsString());

  // Byte for byte: every family, the Merkle tree included.
  EXPECT_EQ(Dump(*leader_), Dump(*follower_));
}

TEST_F(ReplicationTest, ApplyRefusesAGapAForkAndATamperedBatch) {
  AppendAll(WorkedExample());
  AppendAll(Deals());
  std::vector<ReplicatedGroup> groups = leader_log_.groups();
  // The agreement was appended after the partners' groups completed: a
  // group of its own, after position 2.
  ASSERT_GE(groups.size(), 2u);
  const ReplicatedGroup first = groups.front();
  const ReplicatedGroup last = groups.back();
  ASSERT_EQ(last.first_position, 3u);
  const std::map<std::string, std::string> empty = Dump(*follower_);

  // A gap: the last group first.
  absl::Status gap = follower_->ApplyReplicated(last);
  EXPECT_EQ(gap.code(), absl::StatusCode::kFailedPrecondition) << gap;
  EXPECT_THAT(gap.message(), HasSubstr(absl::StrCat("replicated group 3..",
                                                    last.last_position)));
  EXPECT_THAT(gap.message(), HasSubstr("must start at position 1"));

  // A tampered batch: one byte of the first event's record changed.
  ReplicatedGroup tampered = first;
  const size_t at = tampered.batch.find("C Consulting");
  ASSERT_NE(at, std::string::npos);
  tampered.batch[at] = 'X';
  absl::Status bad = follower_->ApplyReplicated(tampered);
  EXPECT_EQ(bad.code(), absl::StatusCode::kDataLoss) << bad;
  EXPECT_THAT(bad.message(), HasSubstr("position 1"));

  // Bytes that are not a write batch.
  ReplicatedGroup garbage = first;
  garbage.batch = "not a write batch";
  EXPECT_EQ(follower_->ApplyReplicated(garbage).code(),
            absl::StatusCode::kDataLoss);

  // The right batch under another last_hash.
  ReplicatedGroup wrong_hash = first;
  wrong_hash.last_hash = std::string(32, '\x07');
  absl::Status wh = follower_->ApplyReplicated(wrong_hash);
  EXPECT_EQ(wh.code(), absl::StatusCode::kDataLoss) << wh;
  EXPECT_THAT(wh.message(), HasSubstr("last_hash"));

  // Claims more positions than its batch holds.
  ReplicatedGroup claims_more = first;
  claims_more.last_position += 1;
  absl::Status cm = follower_->ApplyReplicated(claims_more);
  EXPECT_EQ(cm.code(), absl::StatusCode::kDataLoss) << cm;

  EXPECT_EQ(follower_->head_position(), 0u);
  EXPECT_EQ(Dump(*follower_), empty);

  // The real groups apply; redelivered, each is OK and writes nothing.
  for (size_t i = 0; i + 1 < groups.size(); ++i) {
    ASSERT_TRUE(follower_->ApplyReplicated(groups[i]).ok());
  }
  const std::map<std::string, std::string> applied = Dump(*follower_);
  EXPECT_EQ(follower_->head_position(), 2u);
  EXPECT_TRUE(follower_->ApplyReplicated(first).ok());
  EXPECT_EQ(follower_->head_position(), 2u);
  EXPECT_EQ(Dump(*follower_), applied);

  // A group at the right position that does not chain: the same appends
  // on another log (other event ids, so other hashes).
  FakeCommitLog other_log;
  std::unique_ptr<Ledger> other =
      OpenLedger(dir_.Sub("other"), &clock_, &other_log);
  ASSERT_TRUE(other->SetLeader().ok());
  AppendAll(other.get(), WorkedExample());
  AppendAll(other.get(), Deals());
  const ReplicatedGroup unchained = other_log.groups().back();
  ASSERT_EQ(unchained.first_position, 3u);
  absl::Status fork = follower_->ApplyReplicated(unchained);
  EXPECT_EQ(fork.code(), absl::StatusCode::kDataLoss) << fork;
  EXPECT_THAT(fork.message(), HasSubstr("does not chain to position 2"));
  EXPECT_EQ(Dump(*follower_), applied);

  // A redelivery whose hash differs from what was applied: a fork.
  ReplicatedGroup forked = first;
  forked.last_hash = std::string(32, '\x01');
  absl::Status f2 = follower_->ApplyReplicated(forked);
  EXPECT_EQ(f2.code(), absl::StatusCode::kDataLoss) << f2;
  EXPECT_THAT(f2.message(), HasSubstr("forked"));

  ASSERT_TRUE(follower_->ApplyReplicated(last).ok());
  EXPECT_EQ(follower_->head_position(), leader_->head_position());
  EXPECT_EQ(Dump(*follower_), Dump(*leader_));

  // The leader applies only its own groups.
  ReplicatedGroup beyond = unchained;
  beyond.first_position = leader_->head_position() + 1;
  EXPECT_EQ(leader_->ApplyReplicated(beyond).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(ReplicationTest, FailingCommitLogFailsAppendsUntilSetLeader) {
  AppendAll(WorkedExample());
  const uint64_t head = leader_->head_position();
  ASSERT_EQ(head, 2u);
  const size_t logged = leader_log_.groups().size();
  const std::map<std::string, std::string> before = Dump(*leader_);

  leader_log_.Refuse(absl::AbortedError("compare failed: another leader"));
  absl::StatusOr<AppendResult> refused =
      leader_->AppendAndWait(Deals().front());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("the commit log did not take positions 3.."));
  EXPECT_THAT(refused.status().message(), HasSubstr("another leader"));
  EXPECT_TRUE(refused.status().GetPayload(kLeaderAddressPayload).has_value());
  EXPECT_EQ(leader_->head_position(), head);
  EXPECT_EQ(Dump(*leader_), before);
  EXPECT_TRUE(leader_->healthy());
  EXPECT_FALSE(leader_->role().leader);
  EXPECT_THAT(leader_->role().error, HasSubstr("another leader"));

  // Later appends fail at once, without reaching the log.
  const int calls = leader_log_.calls();
  absl::StatusOr<AppendResult> later = leader_->AppendAndWait(Deals().front());
  EXPECT_EQ(later.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(later.status().message(), HasSubstr("not the leader"));
  EXPECT_EQ(leader_log_.calls(), calls);
  EXPECT_EQ(Dump(*leader_), before);

  // Reads go on.
  absl::StatusOr<ChainDigest> d = leader_->GetDigest(0);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->position, head);

  leader_log_.Refuse(absl::OkStatus());
  ASSERT_TRUE(leader_->SetLeader().ok());
  EXPECT_TRUE(leader_->role().leader);
  EXPECT_EQ(leader_->role().error, "");
  absl::StatusOr<AppendResult> resumed =
      leader_->AppendAndWait(Deals().front());
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->events.front().position, head + 1);
  ASSERT_EQ(leader_log_.groups().size(), logged + 1);
  EXPECT_EQ(leader_log_.groups().back().first_position, head + 1);
  // The follower converges on the log, which never saw the refused groups.
  Replicate();
  EXPECT_EQ(Dump(*follower_), Dump(*leader_));
}

TEST_F(ReplicationTest, LogRefusingForGoodFailsTheGroupAndKeepsTheLead) {
  AppendAll(WorkedExample());
  const uint64_t head = leader_->head_position();
  ASSERT_EQ(head, 2u);
  const std::map<std::string, std::string> before = Dump(*leader_);

  // The log is full (etcd's NOSPACE alarm): the group is not in it.
  leader_log_.Refuse(
      absl::ResourceExhaustedError("etcd is out of space (NOSPACE alarm)"));
  absl::StatusOr<AppendResult> refused =
      leader_->AppendAndWait(Deals().front());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("the commit log did not take positions 3..3: etcd "
                        "is out of space (NOSPACE alarm)"));
  EXPECT_FALSE(refused.status().GetPayload(kLeaderAddressPayload).has_value());
  EXPECT_EQ(leader_->head_position(), head);
  EXPECT_EQ(Dump(*leader_), before);
  EXPECT_TRUE(leader_->healthy());
  // Still the leader: every node would meet the same full log.
  EXPECT_TRUE(leader_->role().leader);
  EXPECT_EQ(leader_->role().error, "");

  // Once the log takes groups again, appends resume at the same position
  // without a new SetLeader, and the log holds no trace of the refusal.
  const size_t logged = leader_log_.groups().size();
  leader_log_.Refuse(absl::OkStatus());
  absl::StatusOr<AppendResult> resumed =
      leader_->AppendAndWait(Deals().front());
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->events.front().position, head + 1);
  ASSERT_EQ(leader_log_.groups().size(), logged + 1);
  EXPECT_EQ(leader_log_.groups().back().first_position, head + 1);
  Replicate();
  EXPECT_EQ(Dump(*follower_), Dump(*leader_));
}

// Requests of equal size: one PartnerRegistered event with a long name.
std::vector<AppendRequest> LargePartners(int n) {
  std::vector<AppendRequest> out;
  for (int i = 0; i < n; ++i) {
    AppendRequest r;
    r.stream = absl::StrCat("partner-L", i);
    r.events.push_back(MakeEvent(testing::PartnerRegisteredPayload(
        absl::StrCat("L", i, std::string(limits::kTextBytesMax - 2, 'x')))));
    out.push_back(std::move(r));
  }
  return out;
}

// Appends requests[0], holds it in the log, queues the rest behind it and
// releases: the writer then takes every queued request it may into one
// group. Returns the events of the largest group.
uint64_t LargestGroupAfterAQueue(Ledger* ledger, FakeCommitLog* log,
                                 std::vector<AppendRequest> requests) {
  log->Hold();
  std::vector<absl::StatusOr<AppendResult>> out(requests.size(),
                                                absl::UnknownError("not done"));
  absl::Mutex mu;
  size_t left = requests.size();
  auto done = [&](size_t i) {
    return [&, i](absl::StatusOr<AppendResult> r) {
      absl::MutexLock lock(&mu);
      out[i] = std::move(r);
      --left;
    };
  };
  const int calls = log->calls();
  ledger->Append(std::move(requests[0]), done(0));
  log->WaitForCalls(calls + 1);
  for (size_t i = 1; i < requests.size(); ++i) {
    ledger->Append(std::move(requests[i]), done(i));
  }
  log->Release();
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](size_t* n) { return *n == 0; }, &left));
  }
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_TRUE(out[i].ok()) << i << ": " << out[i].status();
  }
  uint64_t largest = 0;
  for (const ReplicatedGroup& g : log->groups()) {
    largest = std::max(largest, g.last_position - g.first_position + 1);
  }
  return largest;
}

TEST_F(ReplicationTest, WriterCapsAGroupByItsCommitLogBytes) {
  const size_t one = ledger::CommitLogBytesEstimate(LargePartners(1)[0]);
  // Negative control: without a cap below the default, the queued requests
  // form one group.
  EXPECT_GE(
      LargestGroupAfterAQueue(leader_.get(), &leader_log_, LargePartners(10)),
      8u);

  FakeCommitLog capped_log;
  Options o;
  o.data_dir = dir_.Sub("capped");
  o.clock = &clock_;
  o.commit_log = &capped_log;
  o.commit_group_log_bytes_max = 2 * one + one / 2;  // two requests a group
  absl::StatusOr<std::unique_ptr<Ledger>> capped = Ledger::Open(o);
  ASSERT_TRUE(capped.ok()) << capped.status();
  ASSERT_TRUE((*capped)->SetLeader().ok());
  EXPECT_EQ(
      LargestGroupAfterAQueue(capped->get(), &capped_log, LargePartners(10)),
      2u);
  EXPECT_EQ((*capped)->head_position(), 10u);
  // The estimate bounds the record from above.
  for (const ReplicatedGroup& g : capped_log.groups()) {
    EXPECT_LE(g.batch.size(), (g.last_position - g.first_position + 1) * one)
        << "group " << g.first_position << ".." << g.last_position;
  }

  // One append larger than a group may carry: refused before anything is
  // decided or logged.
  const int calls = capped_log.calls();
  AppendRequest big = LargePartners(3)[0];
  for (AppendRequest& r : LargePartners(3)) {
    r.events[0].event_id = NextUuid();
    big.events.push_back(std::move(r.events[0]));
  }
  absl::StatusOr<AppendResult> r = (*capped)->AppendAndWait(std::move(big));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("events: this append takes up "));
  EXPECT_THAT(r.status().message(),
              HasSubstr(absl::StrCat("more than the ", 2 * one + one / 2,
                                     " one commit group may carry")));
  EXPECT_EQ((*capped)->head_position(), 10u);
  EXPECT_EQ(capped_log.calls(), calls);
}

TEST_F(ReplicationTest, FollowerRefusesAppendsNamingTheLeader) {
  absl::StatusOr<AppendResult> r =
      follower_->AppendAndWait(WorkedExample().front());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("not the leader"));
  absl::optional<absl::Cord> leader =
      r.status().GetPayload(kLeaderAddressPayload);
  ASSERT_TRUE(leader.has_value());
  EXPECT_EQ(std::string(*leader), "leader:1");
  EXPECT_EQ(follower_->head_position(), 0u);
  EXPECT_EQ(follower_log_.calls(), 0);
}

TEST_F(ReplicationTest, FollowerTakesTheLeadAtTheLogsHead) {
  AppendAll(WorkedExample());
  Replicate();
  leader_->SetFollower("");
  absl::StatusOr<AppendResult> old = leader_->AppendAndWait(Deals().front());
  EXPECT_EQ(old.status().code(), absl::StatusCode::kUnavailable);

  ASSERT_TRUE(follower_->SetLeader().ok());
  absl::StatusOr<AppendResult> r = follower_->AppendAndWait(Deals().front());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->events.front().position, 3u);
  ASSERT_EQ(follower_log_.groups().size(), 1u);
  // The old leader follows the new one's log.
  ASSERT_TRUE(leader_->ApplyReplicated(follower_log_.groups()[0]).ok());
  EXPECT_EQ(Dump(*follower_), Dump(*leader_));
  // Embedded (no log) ledgers lead from the start.
  std::unique_ptr<Ledger> embedded =
      OpenLedger(dir_.Sub("embedded"), &clock_, nullptr);
  EXPECT_TRUE(embedded->role().leader);
  EXPECT_TRUE(embedded->AppendAndWait(WorkedExample().front()).ok());
}

TEST_F(ReplicationTest, WaitForPositionCompletesWhenAGroupIsApplied) {
  AppendAll(WorkedExample());
  std::vector<ReplicatedGroup> groups = leader_log_.groups();
  ASSERT_GE(groups.size(), 1u);
  for (size_t i = 0; i + 1 < groups.size(); ++i) {
    ASSERT_TRUE(follower_->ApplyReplicated(groups[i]).ok());
  }
  const uint64_t target = groups.back().last_position;
  ASSERT_EQ(target, 2u);

  absl::Notification done;
  absl::Status waited = absl::UnknownError("not run");
  follower_->WaitForPosition(target, absl::InfiniteFuture(),
                             [&](absl::Status s) {
                               waited = s;
                               done.Notify();
                             });
  EXPECT_FALSE(done.HasBeenNotified());
  ASSERT_TRUE(follower_->ApplyReplicated(groups.back()).ok());
  // ApplyReplicated notified on its own thread before returning.
  ASSERT_TRUE(done.HasBeenNotified());
  EXPECT_TRUE(waited.ok()) << waited;

  // Already applied: at once.
  EXPECT_TRUE(follower_->AwaitPosition(target, absl::Now()).ok());

  // Never applied: UNAVAILABLE at the deadline, naming both positions.
  absl::Status late = follower_->AwaitPosition(
      target + 5, absl::Now() + absl::Milliseconds(50));
  EXPECT_EQ(late.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(late.message(),
              HasSubstr(absl::StrCat("min_position ", target + 5)));
  EXPECT_THAT(late.message(),
              HasSubstr(absl::StrCat("applied through position ", target)));

  // On the leader, its own commits complete a waiter too.
  absl::Notification leader_done;
  leader_->WaitForPosition(target + 1, absl::InfiniteFuture(),
                           [&](absl::Status s) {
                             EXPECT_TRUE(s.ok()) << s;
                             leader_done.Notify();
                           });
  ASSERT_TRUE(leader_->AppendAndWait(Deals().front()).ok());
  leader_done.WaitForNotification();
}

}  // namespace
}  // namespace partnerledger

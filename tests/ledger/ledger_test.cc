// The ledger's append/read contract, against the structural rules so the
// event-store semantics are pinned independently of the domain.
#include "partnerledger/ledger.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "domain/rules.h"
#include "ledger/ledger_internal.h"
#include "merkle/merkle.h"
#include "merkle/naive_rfc9162.h"
#include "rocksdb/env.h"
#include "server/fault_fs.h"
#include "store/merkle_tree.h"
#include "store/store.h"
#include "test_support.h"
#include "util/uuid.h"

namespace partnerledger {
namespace {

using ::testing::HasSubstr;
using testing::MakeEvent;
using testing::NextUuid;
using testing::PartnerRegisteredPayload;
using testing::ProfileUpdatedPayload;
using testing::TempDir;

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    ledger_.reset();
    Options o;
    o.data_dir = dir_.Sub("data");
    o.clock = &clock_;
    o.writer_queue_max = queue_max_;
    absl::StatusOr<std::unique_ptr<Ledger>> l =
        ledger::OpenWithRules(o, rules_.get());
    ASSERT_TRUE(l.ok()) << l.status();
    ledger_ = std::move(*l);
  }

  AppendRequest Request(const std::string& stream, ExpectedRevision expected,
                        std::vector<NewEvent> events) {
    AppendRequest r;
    r.stream = stream;
    r.expected = expected;
    r.events = std::move(events);
    return r;
  }

  absl::StatusOr<AppendResult> Register(const std::string& stream,
                                        std::string id = NextUuid()) {
    std::vector<NewEvent> events;
    events.push_back(MakeEvent(PartnerRegisteredPayload("Acme"), id));
    return ledger_->AppendAndWait(
        Request(stream, ExpectedRevision::NoStream(), std::move(events)));
  }

  absl::StatusOr<AppendResult> Update(const std::string& stream,
                                      ExpectedRevision expected,
                                      std::string id = NextUuid()) {
    std::vector<NewEvent> events;
    events.push_back(MakeEvent(ProfileUpdatedPayload("new pitch"), id));
    return ledger_->AppendAndWait(Request(stream, expected, std::move(events)));
  }

  TempDir dir_;
  FakeClock clock_{1'767'225'600'000'000};
  std::unique_ptr<domain::Rules> rules_ = domain::NewStructuralRules();
  size_t queue_max_ = limits::kWriterQueueMax;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(LedgerTest, AppendAssignsGaplessPositionsAndStreamRevisions) {
  ASSERT_TRUE(Register("partner-a").ok());
  ASSERT_TRUE(Register("partner-b").ok());
  absl::StatusOr<AppendResult> r = Update("partner-a", ExpectedRevision::Any());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].position, 3u);
  EXPECT_EQ(r->events[0].revision, 1u);
  EXPECT_EQ(r->events[0].type, "PartnerProfileUpdated");
  EXPECT_EQ(r->next_expected_revision, 1u);
  EXPECT_EQ(r->commit_position, 3u);
  EXPECT_FALSE(r->replayed);
  EXPECT_EQ(ledger_->head_position(), 3u);
}

TEST_F(LedgerTest, MultiEventAppendIsContiguousAndAtomic) {
  std::vector<NewEvent> events;
  events.push_back(MakeEvent(PartnerRegisteredPayload("Acme")));
  events.push_back(MakeEvent(ProfileUpdatedPayload("p1")));
  events.push_back(MakeEvent(ProfileUpdatedPayload("p2")));
  absl::StatusOr<AppendResult> r = ledger_->AppendAndWait(
      Request("partner-a", ExpectedRevision::NoStream(), std::move(events)));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->events.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r->events[i].position, i + 1);
    EXPECT_EQ(r->events[i].revision, i);
  }
  // One bad event rejects the whole request: nothing is written.
  std::vector<NewEvent> bad;
  bad.push_back(MakeEvent(ProfileUpdatedPayload("ok")));
  bad.push_back(MakeEvent(ProfileUpdatedPayload("ok"), "not-a-uuid"));
  absl::StatusOr<AppendResult> rejected = ledger_->AppendAndWait(
      Request("partner-a", ExpectedRevision::Any(), std::move(bad)));
  EXPECT_EQ(rejected.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(rejected.status().message(), HasSubstr("events[1].event_id"));
  EXPECT_EQ(ledger_->head_position(), 3u);
}

TEST_F(LedgerTest, NoStreamOnExistingStreamIsAbortedWithCurrentRevision) {
  ASSERT_TRUE(Register("partner-a").ok());
  absl::StatusOr<AppendResult> r =
      Update("partner-a", ExpectedRevision::NoStream());
  ASSERT_EQ(r.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(r.status().message(), HasSubstr("current revision 0"));
  EXPECT_EQ(std::string(*r.status().GetPayload(kCurrentRevisionPayload)), "0");
  EXPECT_EQ(ledger_->head_position(), 1u);
}

TEST_F(LedgerTest, ExistsOnMissingStreamIsAbortedWithMinusOne) {
  absl::StatusOr<AppendResult> r =
      Update("partner-x", ExpectedRevision::Exists());
  ASSERT_EQ(r.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(std::string(*r.status().GetPayload(kCurrentRevisionPayload)), "-1");
  EXPECT_EQ(ledger_->head_position(), 0u);
}

TEST_F(LedgerTest, ExactRevisionMustMatchTheLastEvent) {
  ASSERT_TRUE(Register("partner-a").ok());
  ASSERT_TRUE(Update("partner-a", ExpectedRevision::Exact(0)).ok());
  absl::StatusOr<AppendResult> stale =
      Update("partner-a", ExpectedRevision::Exact(0));
  ASSERT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(stale.status().message(),
              HasSubstr("expected revision 0, current revision 1"));
  EXPECT_EQ(std::string(*stale.status().GetPayload(kCurrentRevisionPayload)),
            "1");
  absl::StatusOr<AppendResult> ok =
      Update("partner-a", ExpectedRevision::Exact(1));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->events[0].revision, 2u);
  EXPECT_TRUE(Update("partner-a", ExpectedRevision::Exists()).ok());
  EXPECT_TRUE(Update("partner-a", ExpectedRevision::Any()).ok());
  EXPECT_EQ(ledger_->head_position(), 5u);
}

TEST_F(LedgerTest, RetryWithSameEventIdReturnsOriginalPosition) {
  const std::string id = NextUuid();
  ASSERT_TRUE(Register("partner-a").ok());
  absl::StatusOr<AppendResult> first =
      Update("partner-a", ExpectedRevision::Exact(0), id);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(Update("partner-a", ExpectedRevision::Any()).ok());
  // The stream moved on, so the retry's expected revision is stale: the
  // retry still succeeds, flagged, with the original position.
  absl::StatusOr<AppendResult> retry =
      Update("partner-a", ExpectedRevision::Exact(0), id);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->replayed);
  ASSERT_EQ(retry->events.size(), 1u);
  EXPECT_EQ(retry->events[0].position, first->events[0].position);
  EXPECT_EQ(retry->events[0].revision, 1u);
  EXPECT_EQ(retry->events[0].event_id, id);
  EXPECT_EQ(ledger_->head_position(), 3u);
  // Event ids are kept forever: also after a restart.
  Reopen();
  absl::StatusOr<AppendResult> again =
      Update("partner-a", ExpectedRevision::Exact(0), id);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->events[0].position, 2u);
}

TEST_F(LedgerTest, SameEventIdWithDifferentContentIsAlreadyExists) {
  const std::string id = NextUuid();
  ASSERT_TRUE(Register("partner-a", id).ok());
  std::vector<NewEvent> events;
  events.push_back(MakeEvent(PartnerRegisteredPayload("Other Name"), id));
  absl::StatusOr<AppendResult> r = ledger_->AppendAndWait(
      Request("partner-b", ExpectedRevision::NoStream(), std::move(events)));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(r.status().message(), HasSubstr(id));
  EXPECT_EQ(ledger_->head_position(), 1u);
}

TEST_F(LedgerTest, RequestMixingKnownAndNewIdsIsAlreadyExists) {
  const std::string id = NextUuid();
  ASSERT_TRUE(Update("partner-a", ExpectedRevision::Any(), id).ok());
  std::vector<NewEvent> events;
  events.push_back(MakeEvent(ProfileUpdatedPayload("new pitch"), id));
  events.push_back(MakeEvent(ProfileUpdatedPayload("more")));
  absl::StatusOr<AppendResult> r = ledger_->AppendAndWait(
      Request("partner-a", ExpectedRevision::Any(), std::move(events)));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ledger_->head_position(), 1u);
}

TEST_F(LedgerTest, InvalidRequestsNameTheFieldAndChangeNothing) {
  struct Case {
    std::string stream;
    std::vector<NewEvent> events;
    std::string field;
  };
  std::vector<Case> cases;
  cases.push_back({"partner-a", {}, "events:"});
  cases.push_back({"", {MakeEvent(PartnerRegisteredPayload("A"))}, "stream:"});
  cases.push_back(
      {"invoice-1", {MakeEvent(PartnerRegisteredPayload("A"))}, "stream:"});
  cases.push_back({"partner-a",
                   {MakeEvent(PartnerRegisteredPayload("A"), "")},
                   "events[0].event_id"});
  cases.push_back({"partner-a",
                   {MakeEvent(PartnerRegisteredPayload("A"),
                              "00000000-0000-0000-0000-000000000000")},
                   "events[0].event_id"});
  const std::string dup = NextUuid();
  cases.push_back({"partner-a",
                   {MakeEvent(PartnerRegisteredPayload("A"), dup),
                    MakeEvent(ProfileUpdatedPayload("B"), dup)},
                   "events[1].event_id"});
  cases.push_back(
      {"partner-a", {MakeEvent(v1::EventPayload())}, "events[0].payload"});
  cases.push_back({"deal-1",
                   {MakeEvent(PartnerRegisteredPayload("A"))},
                   "events[0].payload"});
  cases.push_back({"partner-a",
                   {MakeEvent(PartnerRegisteredPayload(""))},
                   "events[0].payload.partner_registered.legal_name"});
  for (Case& c : cases) {
    absl::StatusOr<AppendResult> r = ledger_->AppendAndWait(
        Request(c.stream, ExpectedRevision::Any(), std::move(c.events)));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(r.status().message(), HasSubstr(c.field));
  }
  EXPECT_EQ(ledger_->head_position(), 0u);
}

// Found by tests/fuzz/record_codec_fuzz: a correlation or causation id that
// is not UTF-8 was accepted and written as a record that never parses again
// (every read of it DATA_LOSS). It is bad input: INVALID_ARGUMENT, and the
// ledger stays healthy.
TEST_F(LedgerTest, CorrelationOrCausationIdThatIsNotUtf8IsInvalidArgument) {
  for (int which = 0; which < 2; ++which) {
    NewEvent e = MakeEvent(PartnerRegisteredPayload("Acme"));
    (which == 0 ? e.correlation_id : e.causation_id) = std::string("c\xff", 2);
    std::vector<NewEvent> events;
    events.push_back(std::move(e));
    absl::StatusOr<AppendResult> r = ledger_->AppendAndWait(
        Request("partner-a", ExpectedRevision::Any(), std::move(events)));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(),
              "events[0].correlation_id/causation_id: not UTF-8");
  }
  EXPECT_EQ(ledger_->head_position(), 0u);
  EXPECT_TRUE(ledger_->healthy());
  ASSERT_TRUE(Register("partner-a").ok());
  EXPECT_TRUE(ledger_->ReadEvent(1).ok());
}

// The actor is recorded on every event: one that is not UTF-8 would be
// written as a record that never parses again, so the writer would stop.
// It is bad input from a C++ API caller: INVALID_ARGUMENT, nothing written.
TEST_F(LedgerTest, ActorThatIsNotUtf8OrTooLongIsInvalidArgument) {
  const std::pair<std::string, std::string> cases[] = {
      {std::string("ops\xff", 4), "actor: not UTF-8"},
      {std::string(65, 'a'), "actor: longer than 64 bytes"}};
  for (const auto& [actor, message] : cases) {
    std::vector<NewEvent> events;
    events.push_back(MakeEvent(PartnerRegisteredPayload("Acme")));
    AppendRequest req =
        Request("partner-a", ExpectedRevision::Any(), std::move(events));
    req.actor = actor;
    absl::StatusOr<AppendResult> r = ledger_->AppendAndWait(std::move(req));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), message);
  }
  EXPECT_EQ(ledger_->head_position(), 0u);
  EXPECT_TRUE(ledger_->healthy());
  ASSERT_TRUE(Register("partner-a").ok());
  absl::StatusOr<RecordedEvent> e = ledger_->ReadEvent(1);
  ASSERT_TRUE(e.ok()) << e.status();
}

TEST_F(LedgerTest, RecordedAtNeverDecreasesWhenTheClockGoesBack) {
  clock_.Set(2'000'000'000'000'000);
  ASSERT_TRUE(Register("partner-a").ok());
  clock_.Set(1'000'000'000'000'000);  // the clock steps back
  ASSERT_TRUE(Register("partner-b").ok());
  clock_.Set(3'000'000'000'000'000);
  ASSERT_TRUE(Register("partner-c").ok());
  absl::StatusOr<RecordedEvent> e1 = ledger_->ReadEvent(1);
  absl::StatusOr<RecordedEvent> e2 = ledger_->ReadEvent(2);
  absl::StatusOr<RecordedEvent> e3 = ledger_->ReadEvent(3);
  ASSERT_TRUE(e1.ok() && e2.ok() && e3.ok());
  EXPECT_EQ(e1->recorded_at_us, 2'000'000'000'000'000);
  EXPECT_EQ(e2->recorded_at_us, 2'000'000'000'000'000);
  EXPECT_EQ(e3->recorded_at_us, 3'000'000'000'000'000);
  // The clamp survives a restart.
  clock_.Set(1);
  Reopen();
  ASSERT_TRUE(Register("partner-d").ok());
  EXPECT_EQ(ledger_->ReadEvent(4)->recorded_at_us, 3'000'000'000'000'000);
}

TEST_F(LedgerTest, EnvelopeRecordsActorTimesAndIds) {
  AppendRequest r = Request("partner-a", ExpectedRevision::NoStream(), {});
  NewEvent e = MakeEvent(PartnerRegisteredPayload("Acme"));
  e.correlation_id = "corr-1";
  e.causation_id = "cause-1";
  const std::string id = e.event_id;
  r.events.push_back(std::move(e));
  r.actor = "crm-service";
  ASSERT_TRUE(ledger_->AppendAndWait(std::move(r)).ok());
  absl::StatusOr<RecordedEvent> s = ledger_->ReadEvent(1);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->actor, "crm-service");
  EXPECT_EQ(FormatUuid(s->event_id), id);
  EXPECT_EQ(s->correlation_id, "corr-1");
  EXPECT_EQ(s->causation_id, "cause-1");
  EXPECT_EQ(s->occurred_at_us, 1'767'225'600'000'000);
  EXPECT_EQ(s->recorded_at_us, clock_.NowMicros());
  EXPECT_EQ(s->type, "PartnerRegistered");
  v1::EventPayload p;
  ASSERT_TRUE(p.ParseFromString(s->payload));
  EXPECT_EQ(p.partner_registered().legal_name(), "Acme");
  // Without an actor the default principal is recorded.
  ASSERT_TRUE(Register("partner-b").ok());
  EXPECT_EQ(ledger_->ReadEvent(2)->actor, "local");
}

TEST_F(LedgerTest, HashChainLinksEveryEventAndVerifies) {
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(Register("partner-" + std::to_string(i)).ok());
  std::string prev(32, '\0');
  for (uint64_t p = 1; p <= 5; ++p) {
    absl::StatusOr<RecordedEvent> e = ledger_->ReadEvent(p);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->prev_hash, prev);
    EXPECT_EQ(e->hash.size(), 32u);
    prev = e->hash;
  }
  absl::StatusOr<ChainDigest> d = ledger_->GetDigest(0);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->position, 5u);
  EXPECT_EQ(d->hash, prev);
  absl::StatusOr<VerifyResult> v = ledger_->VerifyChain(0, 0, *d);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->message;
  EXPECT_EQ(v->verified_through, 5u);
  EXPECT_EQ(v->events_checked, 5u);
  // A digest that the log does not extend is reported.
  ChainDigest wrong{3, std::string(32, 'x')};
  absl::StatusOr<VerifyResult> bad = ledger_->VerifyChain(0, 0, wrong);
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->ok);
  EXPECT_EQ(bad->first_bad_position, 3u);
  EXPECT_EQ(ledger_->GetDigest(9).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(LedgerTest, VerifyChainRefusesARangeOverThePerCallCap) {
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(Register("partner-" + std::to_string(i)).ok());
  constexpr uint64_t kMax = limits::kVerifyChainPositionsMax;
  // Exactly the cap: served (the part past the head is not there to check).
  absl::StatusOr<VerifyResult> at_cap =
      ledger_->VerifyChain(1, kMax, std::nullopt);
  ASSERT_TRUE(at_cap.ok()) << at_cap.status();
  EXPECT_TRUE(at_cap->ok);
  EXPECT_EQ(at_cap->verified_through, 3u);
  absl::StatusOr<VerifyResult> shifted =
      ledger_->VerifyChain(2, kMax + 1, std::nullopt);
  ASSERT_TRUE(shifted.ok()) << shifted.status();
  EXPECT_EQ(shifted->events_checked, 2u);
  // One position more: refused, naming the field.
  absl::StatusOr<VerifyResult> over =
      ledger_->VerifyChain(1, kMax + 1, std::nullopt);
  EXPECT_EQ(over.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(over.status().message(), "to_position: "))
      << over.status();
  absl::StatusOr<VerifyResult> from_zero =
      ledger_->VerifyChain(0, kMax + 1, std::nullopt);
  EXPECT_EQ(from_zero.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LedgerTest, RestartRecoversHeadAndContinuesTheChain) {
  ASSERT_TRUE(Register("partner-a").ok());
  ASSERT_TRUE(Update("partner-a", ExpectedRevision::Any()).ok());
  const std::string hash2 = ledger_->GetDigest(2)->hash;
  Reopen();
  EXPECT_EQ(ledger_->head_position(), 2u);
  absl::StatusOr<AppendResult> r =
      Update("partner-a", ExpectedRevision::Exact(1));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->events[0].position, 3u);
  EXPECT_EQ(ledger_->ReadEvent(3)->prev_hash, hash2);
  EXPECT_TRUE(ledger_->VerifyChain(0, 0, std::nullopt)->ok);
}

TEST_F(LedgerTest, ConcurrentAppendsAreGaplessAndEachAcknowledgedOnce) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100;
  std::mutex mu;
  std::set<uint64_t> positions;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string stream = "partner-t" + std::to_string(t);
      ASSERT_TRUE(Register(stream).ok());
      for (int i = 1; i < kPerThread; ++i) {
        absl::StatusOr<AppendResult> r = Update(
            stream, ExpectedRevision::Exact(static_cast<uint64_t>(i - 1)));
        ASSERT_TRUE(r.ok()) << r.status();
        std::lock_guard<std::mutex> lock(mu);
        EXPECT_TRUE(positions.insert(r->events[0].position).second);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(positions.size(), static_cast<size_t>(kThreads * (kPerThread - 1)));
  EXPECT_EQ(ledger_->head_position(),
            static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_TRUE(ledger_->VerifyChain(0, 0, std::nullopt)->ok);
}

// Requests queued together: each is decided against the ones before it, and
// a rejected one fails alone.
TEST_F(LedgerTest, RequestsOfOneGroupSeeEachOtherAndFailAlone) {
  constexpr int kRequests = 200;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  std::vector<absl::StatusOr<AppendResult>> results(
      kRequests, absl::UnknownError("pending"));
  for (int i = 0; i < kRequests; ++i) {
    // Pairs of requests race for the same new stream with NO_STREAM.
    const std::string stream = "partner-p" + std::to_string(i / 2);
    std::vector<NewEvent> events;
    events.push_back(MakeEvent(PartnerRegisteredPayload("Acme")));
    ledger_->Append(
        Request(stream, ExpectedRevision::NoStream(), std::move(events)),
        [&, i](absl::StatusOr<AppendResult> r) {
          std::lock_guard<std::mutex> lock(mu);
          results[i] = std::move(r);
          ++done;
          cv.notify_one();
        });
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done == kRequests; });
  for (int i = 0; i < kRequests; i += 2) {
    // Queue order is decision order: the first of each pair wins.
    ASSERT_TRUE(results[i].ok()) << results[i].status();
    EXPECT_EQ(results[i + 1].status().code(), absl::StatusCode::kAborted);
  }
  EXPECT_EQ(ledger_->head_position(), static_cast<uint64_t>(kRequests / 2));
  EXPECT_TRUE(ledger_->VerifyChain(0, 0, std::nullopt)->ok);
}

// Accepts every event, as the structural rules do, but refuses a profile
// update whose pitch is "refuse" (FAILED_PRECONDITION).
class RefuseMarkedRules final : public domain::Rules {
 public:
  absl::StatusOr<domain::Decision> Decide(
      const domain::StateView&, const domain::Proposal& p) const override {
    if (p.payload->has_partner_profile_updated() &&
        p.payload->partner_profile_updated().pitch() == "refuse") {
      return absl::FailedPreconditionError("refused");
    }
    domain::Decision d;
    d.payload = *p.payload;
    return d;
  }
  absl::Status Apply(domain::StateWriter&,
                     const domain::Recorded&) const override {
    return absl::OkStatus();
  }
};

// The writer hashes each record's Merkle leaf as it decides it. A request
// refused after some of its events were placed leaves no leaf behind: the
// stored tree is the tree of the records written, before and after a
// restart.
TEST(LedgerTree, TreeFromTheWritersLeavesIsTheTreeOfTheWrittenRecords) {
  TempDir dir;
  FakeClock clock(1'767'225'600'000'000);
  RefuseMarkedRules rules;
  Options o;
  o.data_dir = dir.Sub("data");
  o.clock = &clock;
  auto open = [&] {
    absl::StatusOr<std::unique_ptr<Ledger>> l =
        ledger::OpenWithRules(o, &rules);
    EXPECT_TRUE(l.ok()) << l.status();
    return l.ok() ? std::move(*l) : nullptr;
  };
  // Queued together so they share commit groups: every third request is
  // refused at its third event, after two were placed.
  auto append_all = [](Ledger* ledger, int first, int count) {
    std::mutex mu;
    std::condition_variable cv;
    int done = 0;
    std::vector<absl::StatusCode> codes(count);
    for (int i = 0; i < count; ++i) {
      AppendRequest r;
      r.stream = "partner-q" + std::to_string(first + i);
      r.expected = ExpectedRevision::NoStream();
      r.events.push_back(MakeEvent(PartnerRegisteredPayload("Acme")));
      r.events.push_back(MakeEvent(ProfileUpdatedPayload("ok")));
      r.events.push_back(MakeEvent(
          ProfileUpdatedPayload((first + i) % 3 == 0 ? "refuse" : "ok")));
      ledger->Append(std::move(r), [&, i](absl::StatusOr<AppendResult> res) {
        std::lock_guard<std::mutex> lock(mu);
        codes[i] = res.status().code();
        ++done;
        cv.notify_one();
      });
    }
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done == count; });
    return codes;
  };
  auto tree_matches_records = [](const Ledger& ledger) {
    const store::Store& s = ledger::StoreOf(ledger);
    const uint64_t head = ledger.head_position();
    std::vector<std::string> leaves;
    for (uint64_t p = 1; p <= head; ++p) {
      absl::StatusOr<std::optional<store::StoredEvent>> e = s.ReadEvent(p);
      EXPECT_TRUE(e.ok() && e->has_value()) << p;
      if (!e.ok() || !e->has_value()) return;
      leaves.push_back(store::RecordLeafHash(**e));
    }
    EXPECT_EQ(*s.ReadMerkleTreeSize(), head);
    EXPECT_EQ(*merkle::RootAt(store::StoreNodeSource(&s), head),
              merkle::naive::NaiveRoot(leaves, 0, head));
  };

  std::unique_ptr<Ledger> ledger = open();
  ASSERT_NE(ledger, nullptr);
  std::vector<absl::StatusCode> codes = append_all(ledger.get(), 0, 90);
  for (int i = 0; i < 90; ++i) {
    EXPECT_EQ(codes[i], i % 3 == 0 ? absl::StatusCode::kFailedPrecondition
                                   : absl::StatusCode::kOk)
        << i;
  }
  ASSERT_EQ(ledger->head_position(), 60u * 3u);
  tree_matches_records(*ledger);

  // After a restart the writer continues the tree from its stored edge.
  ledger.reset();
  ledger = open();
  ASSERT_NE(ledger, nullptr);
  codes = append_all(ledger.get(), 90, 31);
  ASSERT_EQ(ledger->head_position(), 60u * 3u + 20u * 3u);
  tree_matches_records(*ledger);
  EXPECT_TRUE(ledger->VerifyChain(0, 0, std::nullopt)->ok);
}

TEST(LedgerQueue, FullQueueIsResourceExhaustedAndOthersSucceed) {
  TempDir dir;
  auto rules = domain::NewStructuralRules();
  Options o;
  o.data_dir = dir.Sub("data");
  o.writer_queue_max = 1;
  absl::StatusOr<std::unique_ptr<Ledger>> ledger =
      ledger::OpenWithRules(o, rules.get());
  ASSERT_TRUE(ledger.ok());
  constexpr int kRequests = 300;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, exhausted = 0, ok = 0;
  for (int i = 0; i < kRequests; ++i) {
    AppendRequest r;
    r.stream = "partner-q" + std::to_string(i);
    r.expected = ExpectedRevision::NoStream();
    r.events.push_back(MakeEvent(PartnerRegisteredPayload("Acme")));
    (*ledger)->Append(std::move(r), [&](absl::StatusOr<AppendResult> res) {
      std::lock_guard<std::mutex> lock(mu);
      if (res.ok()) ++ok;
      if (res.status().code() == absl::StatusCode::kResourceExhausted)
        ++exhausted;
      ++done;
      cv.notify_one();
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done == kRequests; });
  EXPECT_GT(exhausted, 0);
  EXPECT_GT(ok, 0);
  EXPECT_EQ(ok + exhausted, kRequests);
  EXPECT_EQ((*ledger)->head_position(), static_cast<uint64_t>(ok));
}

ReadStreamOptions Page(uint64_t from_revision, uint32_t max_count) {
  ReadStreamOptions o;
  o.from_revision = from_revision;
  o.max_count = max_count;
  return o;
}

ReadStreamOptions LastPageBackward(uint32_t max_count) {
  ReadStreamOptions o;
  o.from_end = true;
  o.direction = Direction::kBackward;
  o.max_count = max_count;
  return o;
}

ReadAllOptions Filtered(const EventFilter* filter) {
  ReadAllOptions o;
  o.filter = filter;
  return o;
}

// The committer takes the next group as soon as the one before is durable,
// without waiting for the writer. A group decided on top of a commit that
// then fails is void: refused with the storage failure and never written,
// like every later append.
TEST(LedgerPipeline, GroupDecidedBehindAFailingCommitIsRefusedAndNotWritten) {
  TempDir dir;
  auto rules = domain::NewStructuralRules();
  auto fs = std::make_shared<testing::FaultFs>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  Options o;
  o.data_dir = dir.Sub("data");
  o.env = env.get();
  absl::StatusOr<std::unique_ptr<Ledger>> ledger =
      ledger::OpenWithRules(o, rules.get());
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  auto request = [](const std::string& stream, ExpectedRevision expected,
                    v1::EventPayload payload) {
    AppendRequest r;
    r.stream = stream;
    r.expected = expected;
    r.events.push_back(MakeEvent(std::move(payload)));
    return r;
  };
  ASSERT_TRUE(
      (*ledger)
          ->AppendAndWait(request("partner-a", ExpectedRevision::NoStream(),
                                  PartnerRegisteredPayload("Acme")))
          .ok());

  std::mutex mu;
  std::condition_variable cv;
  std::vector<absl::StatusOr<AppendResult>> results(
      2, absl::UnknownError("pending"));
  int done = 0;
  auto record = [&](int i) {
    return [&, i](absl::StatusOr<AppendResult> r) {
      std::lock_guard<std::mutex> lock(mu);
      results[i] = std::move(r);
      ++done;
      cv.notify_one();
    };
  };
  fs->HoldSyncs();
  (*ledger)->Append(request("partner-b", ExpectedRevision::NoStream(),
                            PartnerRegisteredPayload("Beta")),
                    record(0));
  ASSERT_TRUE(fs->WaitUntilSyncHeld(std::chrono::seconds(20)));
  // Decided against partner-b's uncommitted registration while its fsync
  // is held.
  (*ledger)->Append(request("partner-b", ExpectedRevision::Exact(0),
                            ProfileUpdatedPayload("later")),
                    record(1));
  while ((*ledger)->stats().queue_depth != 0) std::this_thread::yield();
  fs->FailWrites();
  fs->ReleaseSyncs();
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done == 2; });
  }
  for (const absl::StatusOr<AppendResult>& r : results) {
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(r.status().message(), HasSubstr("storage write failed"));
  }
  absl::StatusOr<AppendResult> after = (*ledger)->AppendAndWait(
      request("partner-c", ExpectedRevision::NoStream(),
              PartnerRegisteredPayload("C")));
  EXPECT_EQ(after.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE((*ledger)->healthy());

  // partner-b's registration reached the WAL before its fsync failed, so a
  // restart may or may not find it (its append was refused, not
  // acknowledged); the update decided behind it was never written.
  ledger->reset();
  o.env = nullptr;
  ledger = ledger::OpenWithRules(o, rules.get());
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  EXPECT_LE((*ledger)->head_position(), 2u);
  absl::StatusOr<StreamPage> b =
      (*ledger)->ReadStream("partner-b", Page(0, 10));
  if (b.ok()) {
    EXPECT_EQ(b->last_revision, 0u);
  } else {
    EXPECT_EQ(b.status().code(), absl::StatusCode::kNotFound);
  }
}

ReadAllOptions Backward(uint32_t max_count) {
  ReadAllOptions o;
  o.direction = Direction::kBackward;
  o.max_count = max_count;
  return o;
}

TEST_F(LedgerTest, ReadStreamPagesForwardAndBackward) {
  ASSERT_TRUE(Register("partner-a").ok());
  ASSERT_TRUE(Register("partner-b").ok());  // interleaved other stream
  for (int i = 0; i < 6; ++i)
    ASSERT_TRUE(Update("partner-a", ExpectedRevision::Any()).ok());
  absl::StatusOr<StreamPage> p1 = ledger_->ReadStream("partner-a", Page(0, 3));
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->events.size(), 3u);
  EXPECT_EQ(p1->events[0].revision, 0u);
  EXPECT_EQ(p1->events[2].revision, 2u);
  EXPECT_FALSE(p1->end_of_stream);
  EXPECT_EQ(p1->next_revision, 3u);
  EXPECT_EQ(p1->last_revision, 6u);
  absl::StatusOr<StreamPage> p3 = ledger_->ReadStream("partner-a", Page(6, 3));
  ASSERT_TRUE(p3.ok());
  ASSERT_EQ(p3->events.size(), 1u);
  EXPECT_TRUE(p3->end_of_stream);
  absl::StatusOr<StreamPage> back =
      ledger_->ReadStream("partner-a", LastPageBackward(4));
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->events.size(), 4u);
  EXPECT_EQ(back->events[0].revision, 6u);
  EXPECT_EQ(back->events[3].revision, 3u);
  EXPECT_EQ(back->next_revision, 2u);
  EXPECT_EQ(ledger_->ReadStream("partner-zz", Page(0, 3)).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(LedgerTest, ReadAllFiltersByTypeAndStreamPrefix) {
  ASSERT_TRUE(Register("partner-a").ok());
  ASSERT_TRUE(Register("partner-b").ok());
  ASSERT_TRUE(Update("partner-a", ExpectedRevision::Any()).ok());
  ASSERT_TRUE(Update("partner-b", ExpectedRevision::Any()).ok());
  EventFilter by_type;
  by_type.event_types = {"PartnerProfileUpdated"};
  absl::StatusOr<LogPage> page = ledger_->ReadAll(Filtered(&by_type));
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 2u);
  EXPECT_EQ(page->events[0].position, 3u);
  EXPECT_EQ(page->events[1].position, 4u);
  EXPECT_TRUE(page->end_of_log);
  EXPECT_EQ(page->next_position, 5u);
  EventFilter by_prefix;
  by_prefix.stream_prefixes = {"partner-b"};
  page = ledger_->ReadAll(Filtered(&by_prefix));
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 2u);
  EXPECT_EQ(page->events[0].stream, "partner-b");
  absl::StatusOr<LogPage> back = ledger_->ReadAll(Backward(3));
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->events.size(), 3u);
  EXPECT_EQ(back->events[0].position, 4u);
  EXPECT_EQ(back->events[2].position, 2u);
  EXPECT_FALSE(back->end_of_log);
  EXPECT_EQ(back->next_position, 1u);
}

}  // namespace
}  // namespace partnerledger

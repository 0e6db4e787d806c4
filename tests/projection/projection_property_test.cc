// Seeded random event sequences through the real Ledger (writer, group
// commit, RocksDB): the incremental projections equal a rebuild from the
// log byte for byte; a query as of a random position equals the same query
// over a replay of the log up to that position; and for every pair,
// currency and kind, accrued - reversed - settled = outstanding.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "domain/partnership.h"
#include "domain/partnership_sim.h"
#include "ledger/ledger_internal.h"
#include "partnerledger/ledger.h"
#include "projection/queries.h"
#include "projection/rebuild.h"
#include "store/keys.h"
#include "store/store.h"
#include "test_support.h"

namespace partnerledger::projection {
namespace {

namespace sim = domain::testing;
using partnerledger::testing::NextUuid;
using partnerledger::testing::TempDir;

constexpr const char* kPartners[] = {"P0", "P1", "P2", "P3"};
constexpr const char* kCurrencies[] = {"EUR", "JPY", "BHD"};

class RandomHistory {
 public:
  RandomHistory(uint64_t seed, Ledger* ledger, FakeClock* clock)
      : rng_(seed), ledger_(ledger), clock_(clock) {}

  void Run(int steps) {
    for (const char* p : kPartners)
      Append(std::string("partner-") + p, sim::PartnerRegistered(p));
    // An agreement per pair.
    for (int a = 0; a < 4; ++a) {
      for (int b = a + 1; b < 4; ++b) {
        const std::string id = std::string(kPartners[a]) + kPartners[b];
        Append("agreement-" + id,
               sim::AgreementSigned(
                   kPartners[a], kPartners[b],
                   {sim::Schedule(v1::OFFERING_CLASS_SAAS, 2000 + Pick(1000),
                                  1000 + Pick(500))}));
        agreements_.push_back({id, kPartners[a], kPartners[b]});
      }
    }
    for (int i = 0; i < steps; ++i) Step();
  }

  int accepted() const { return accepted_; }
  int rejected() const { return rejected_; }

 private:
  struct Agreement {
    std::string id, a, b;
  };
  struct Deal {
    std::string id;
    std::string currency;
    int lines = 0;
  };

  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  bool Append(const std::string& stream, v1::EventPayload payload,
              const std::string& date = "2026-06-15") {
    AppendRequest r;
    r.stream = stream;
    NewEvent e;
    e.event_id = NextUuid();
    e.occurred_at_us = sim::DateUs(date) + 12LL * 3600 * 1'000'000;
    e.payload = std::move(payload);
    r.events.push_back(std::move(e));
    clock_->Advance(1'000'000 + Pick(5'000'000));
    absl::StatusOr<AppendResult> res = ledger_->AppendAndWait(std::move(r));
    // Rejections must be domain outcomes, never storage failures.
    EXPECT_TRUE(res.ok() ||
                res.status().code() == absl::StatusCode::kFailedPrecondition ||
                res.status().code() == absl::StatusCode::kNotFound ||
                res.status().code() == absl::StatusCode::kAlreadyExists ||
                res.status().code() == absl::StatusCode::kInvalidArgument ||
                res.status().code() == absl::StatusCode::kOutOfRange)
        << res.status();
    (res.ok() ? accepted_ : rejected_)++;
    return res.ok();
  }

  std::string Date(int year_min = 2026) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year_min + Pick(3),
                  1 + Pick(12), 1 + Pick(28));
    return buf;
  }

  void Step() {
    const int kind = Pick(100);
    if (kind < 12 || deals_.empty()) return NewDeal();
    Deal& d = deals_[Pick(static_cast<int>(deals_.size()))];
    const std::string stream = "deal-" + d.id;
    if (kind < 50) {
      const std::string rid = "R" + std::to_string(d.lines++);
      const std::string date = Date(2026);
      Append(
          stream,
          sim::RevenueBooked(rid, d.currency, 1 + Pick(2'000'000), date, date),
          date);
    } else if (kind < 65 && d.lines > 0) {
      Append(stream,
             sim::RevenueReversed("R" + std::to_string(Pick(d.lines)),
                                  d.currency, 1 + Pick(800'000)),
             Date(2027));
    } else if (kind < 80) {
      const Agreement& ag =
          agreements_[Pick(static_cast<int>(agreements_.size()))];
      const bool ab = Pick(2) == 0;
      Append("settlement-S" + std::to_string(settlements_++),
             sim::SettlementRecorded(ab ? ag.a : ag.b, ab ? ag.b : ag.a,
                                     kCurrencies[Pick(3)], 1 + Pick(900'000)),
             Date(2027));
    } else if (kind < 88) {
      const std::string cid = "K" + std::to_string(conflicts_++);
      Append("conflict-" + cid,
             sim::ConflictRaised(deal_agreement_[d.id], d.id), Date(2027));
      open_conflicts_.push_back(cid);
    } else if (kind < 95 && !open_conflicts_.empty()) {
      const size_t i =
          static_cast<size_t>(Pick(static_cast<int>(open_conflicts_.size())));
      Append("conflict-" + open_conflicts_[i], sim::ConflictResolved(),
             Date(2027));
      open_conflicts_.erase(open_conflicts_.begin() + static_cast<long>(i));
    } else {
      char period[32];
      std::snprintf(period, sizeof period, "2026-%02d", 1 + Pick(6));
      Append(std::string("period-") + period, sim::PeriodClosed(period));
    }
  }

  void NewDeal() {
    const Agreement& ag =
        agreements_[Pick(static_cast<int>(agreements_.size()))];
    sim::DealSpec s;
    s.agreement = ag.id;
    const bool a_originates = Pick(2) == 0;
    s.originator = a_originates ? ag.a : ag.b;
    s.provider = a_originates ? ag.b : ag.a;
    s.prime = Pick(2) == 0 ? s.originator : s.provider;
    s.customer = "cust-" + std::to_string(Pick(6));
    s.currency = kCurrencies[Pick(3)];
    s.start_date = "2026-01-01";
    Deal d{"D" + std::to_string(deals_.size()), s.currency};
    const std::string stream = "deal-" + d.id;
    if (!Append(stream, sim::DealOriginated(s))) return;
    deal_agreement_[d.id] = ag.id;
    Append(stream, Pick(4) == 0 ? sim::MarginAgreed({sim::Band(1, Pick(10001))})
                                : sim::MarginAgreed());
    Append(stream, sim::DealClosed(Pick(5) == 0 ? v1::DEAL_OUTCOME_LOST
                                                : v1::DEAL_OUTCOME_WON));
    deals_.push_back(d);
  }

  std::mt19937_64 rng_;
  Ledger* ledger_;
  FakeClock* clock_;
  std::vector<Agreement> agreements_;
  std::vector<Deal> deals_;
  std::map<std::string, std::string> deal_agreement_;
  std::vector<std::string> open_conflicts_;
  int settlements_ = 0, conflicts_ = 0, accepted_ = 0, rejected_ = 0;
};

// Queries over `s` as of `at`, serialized for byte comparison.
std::string Answers(const store::Store& s, const store::Store& log,
                    uint64_t head, uint64_t at) {
  Queries q(&s, &log, [head] { return head; });
  std::string out;
  v1::GetObligationsRequest o;
  o.mutable_as_of()->set_position(at);
  absl::StatusOr<v1::GetObligationsResponse> obligations = q.GetObligations(o);
  EXPECT_TRUE(obligations.ok()) << obligations.status();
  out += obligations->SerializeAsString();
  for (int a = 0; a < 4; ++a) {
    for (int b = 0; b < 4; ++b) {
      if (a == b) continue;
      v1::GetReferralBalanceRequest r;
      r.mutable_as_of()->set_position(at);
      r.set_partner_a(kPartners[a]);
      r.set_partner_b(kPartners[b]);
      absl::StatusOr<v1::GetReferralBalanceResponse> rb =
          q.GetReferralBalance(r);
      EXPECT_TRUE(rb.ok()) << rb.status();
      out += rb->SerializeAsString();
      for (const char* ccy : kCurrencies) {
        v1::GetStatementRequest st;
        st.mutable_as_of()->set_position(at);
        st.set_payer(kPartners[a]);
        st.set_payee(kPartners[b]);
        st.set_currency(ccy);
        st.set_period("2027-06");
        absl::StatusOr<v1::GetStatementResponse> sr = q.GetStatement(st);
        EXPECT_TRUE(sr.ok()) << sr.status();
        out += sr->SerializeAsString();
      }
    }
  }
  v1::ListConflictsRequest lc;
  lc.mutable_as_of()->set_position(at);
  absl::StatusOr<v1::ListConflictsResponse> conflicts = q.ListConflicts(lc);
  EXPECT_TRUE(conflicts.ok()) << conflicts.status();
  out += conflicts->SerializeAsString();
  return out;
}

class ProjectionPropertyTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(ProjectionPropertyTest, IncrementalEqualsRebuildAndAsOfEqualsReplay) {
  const uint64_t seed = GetParam();
  TempDir dir;
  FakeClock clock(1'767'225'600'000'000);
  Options o;
  o.data_dir = dir.Sub("data");
  o.clock = &clock;
  absl::StatusOr<std::unique_ptr<Ledger>> ledger = Ledger::Open(o);
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  RandomHistory history(seed, ledger->get(), &clock);
  history.Run(400);
  const uint64_t head = (*ledger)->head_position();
  std::printf("seed %llu: %d accepted, %d rejected, head %llu\n",
              static_cast<unsigned long long>(seed), history.accepted(),
              history.rejected(), static_cast<unsigned long long>(head));
  // The run must exercise the rules, not just be rejected.
  ASSERT_GT(history.accepted(), 200);
  ASSERT_GT(history.rejected(), 10);

  const store::Store& live = ledger::StoreOf(**ledger);
  // 1. Incremental == rebuild from the log, byte for byte.
  {
    store::StoreOptions so;
    so.dir = dir.Sub("rebuild");
    so.sync = false;
    so.disable_wal = true;
    auto scratch = store::Store::Open(so);
    ASSERT_TRUE(scratch.ok());
    auto rules = domain::NewPartnershipRules();
    absl::StatusOr<ReplayStats> stats =
        Replay(live, *rules, head, scratch->get());
    ASSERT_TRUE(stats.ok()) << stats.status();
    EXPECT_EQ(stats->events, head);
    absl::StatusOr<CompareResult> cmp =
        CompareProjections(live, **scratch, head);
    ASSERT_TRUE(cmp.ok()) << cmp.status();
    EXPECT_TRUE(cmp->identical) << cmp->first_difference;
    EXPECT_GT(cmp->keys_compared, head);

    // The in-memory replay digests the same history the scratch store holds
    // and the live store holds, entry for entry, at the head and before.
    HistoryDigest rebuilt;
    absl::StatusOr<ReplayStats> mem =
        ReplayToDigest(live, *rules, head, &rebuilt);
    ASSERT_TRUE(mem.ok()) << mem.status();
    EXPECT_EQ(mem->events, head);
    EXPECT_EQ(mem->tree_root, stats->tree_root);
    EXPECT_EQ(rebuilt.entries, cmp->keys_compared);
    absl::StatusOr<HistoryDigest> stored = DigestStoredHistory(live, head);
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_TRUE(rebuilt == *stored);
    absl::StatusOr<HistoryDigest> in_scratch =
        DigestStoredHistory(**scratch, head);
    ASSERT_TRUE(in_scratch.ok());
    EXPECT_TRUE(rebuilt == *in_scratch);
    HistoryDigest half;
    ASSERT_TRUE(ReplayToDigest(live, *rules, head / 2, &half).ok());
    absl::StatusOr<HistoryDigest> stored_half =
        DigestStoredHistory(live, head / 2);
    ASSERT_TRUE(stored_half.ok());
    EXPECT_TRUE(half == *stored_half);
    EXPECT_LT(half.entries, rebuilt.entries);

    // Negative control: one changed value in the stored history changes
    // its digest.
    std::unique_ptr<rocksdb::Iterator> it =
        (*scratch)->NewIterator(store::Store::Family::kStateHist);
    it->SeekToFirst();
    ASSERT_TRUE(it->Valid());
    const std::string first_key = it->key().ToString();
    it.reset();
    store::Batch b = (*scratch)->NewBatch();
    const std::string_view k = first_key;
    b.PutStateHistory(k.substr(0, k.size() - 9),
                      store::GetBigEndian64(k.substr(k.size() - 8)),
                      store::StateValue{true, "tampered"});
    ASSERT_TRUE((*scratch)->Commit(&b).ok());
    absl::StatusOr<HistoryDigest> tampered =
        DigestStoredHistory(**scratch, head);
    ASSERT_TRUE(tampered.ok());
    EXPECT_EQ(tampered->entries, rebuilt.entries);
    EXPECT_FALSE(rebuilt == *tampered);
  }
  // 2. As of random positions == a replay up to that position.
  std::mt19937_64 rng(seed * 7919);
  size_t largest_answer = 0;
  for (int i = 0; i < 5; ++i) {
    // Four random positions and the head.
    const uint64_t at =
        i < 4 ? std::uniform_int_distribution<uint64_t>(1, head)(rng) : head;
    store::StoreOptions so;
    so.dir = dir.Sub("replay-" + std::to_string(i));
    so.sync = false;
    so.disable_wal = true;
    auto scratch = store::Store::Open(so);
    ASSERT_TRUE(scratch.ok());
    auto rules = domain::NewPartnershipRules();
    ASSERT_TRUE(Replay(live, *rules, at, scratch->get()).ok());
    const std::string as_of = Answers(live, live, head, at);
    const std::string replayed = Answers(**scratch, live, at, at);
    EXPECT_TRUE(as_of == replayed) << "as of " << at << ": " << as_of.size()
                                   << " vs " << replayed.size() << " bytes";
    largest_answer = std::max(largest_answer, as_of.size());
  }
  // The answers compared carry real figures, not just empty responses.
  EXPECT_GT(largest_answer, 1000u);
  // 3. At the head, the live snapshot path answers exactly what the history
  // answers.
  {
    Queries live_q = Queries::Live(&live);
    Queries hist_q(&live, &live, [head] { return head; });
    v1::GetObligationsRequest at_head;
    at_head.mutable_as_of()->set_position(head);
    absl::StatusOr<v1::GetObligationsResponse> a = live_q.GetObligations({});
    absl::StatusOr<v1::GetObligationsResponse> b =
        hist_q.GetObligations(at_head);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->as_of_position(), head);
    EXPECT_TRUE(a->SerializeAsString() == b->SerializeAsString());
    v1::ListConflictsRequest lc;
    absl::StatusOr<v1::ListConflictsResponse> c = live_q.ListConflicts(lc);
    lc.mutable_as_of()->set_position(head);
    absl::StatusOr<v1::ListConflictsResponse> d = hist_q.ListConflicts(lc);
    ASSERT_TRUE(c.ok() && d.ok());
    EXPECT_TRUE(c->SerializeAsString() == d->SerializeAsString());
  }
  // 4. accrued - reversed - settled = outstanding, on_hold within it.
  Queries q(&live, &live, [head] { return head; });
  absl::StatusOr<v1::GetObligationsResponse> all = q.GetObligations({});
  ASSERT_TRUE(all.ok());
  ASSERT_GT(all->obligations_size(), 0);
  for (const v1::ObligationRow& row : all->obligations()) {
    EXPECT_EQ(row.accrued_minor() - row.reversed_minor() - row.settled_minor(),
              row.outstanding_minor())
        << row.ShortDebugString();
    EXPECT_GE(row.on_hold_minor(), 0);
    if (row.outstanding_minor() >= 0) {
      EXPECT_LE(row.on_hold_minor(), row.outstanding_minor());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, ProjectionPropertyTest,
                         ::testing::Values(1, 2, 3));

}  // namespace
}  // namespace partnerledger::projection

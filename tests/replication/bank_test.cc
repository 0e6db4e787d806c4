// A bank-style consistency checker (in the spirit of Jepsen's bank test) for
// a replicated cluster on loopback: 3 etcd members and 3 ledgerd nodes with
// --replication=etcd, concurrent clients moving money between partner pairs
// while a nemesis kills (SIGKILL) or stops (SIGSTOP, past the lease) the
// leader, over and over.
//
// The money: four partners, four agreements, one won deal per pair (the
// provider holds the customer contract, so it owes the originator a
// commission). Clients append, with the deal stream's expected revision
// (optimistic concurrency), RevenueBooked (the server derives
// CommissionAccrued) and RevenueReversed (CommissionReversed), and record
// SettlementRecorded on fresh streams for amounts chosen from a possibly
// stale read, so some would overdraw and must be refused. Reversals and
// settlements go to different pairs: a reversal after a settlement may
// legitimately leave a pair overpaid (outstanding below zero), so keeping
// them apart makes "outstanding never negative" an invariant of the run.
//
// The history: every append is recorded as acknowledged (with its
// position, revision and the node that answered), definitely failed
// (ABORTED: a stale expected revision; FAILED_PRECONDITION: an overdraw or
// an over-reversal) or indeterminate (UNAVAILABLE, DEADLINE_EXCEEDED:
// retried unchanged, same event ids, until definite; idempotency returns
// the original result; a client does not follow a hint to the node that
// just gave it no answer). Clients also read GetObligations from random nodes
// and record what they saw.
//
// The check, on EVERY node once the nodes converge: every acknowledged
// event at its acknowledged position, revision and stream; no event twice;
// positions 1..head gapless and the chain verifies; each stream's
// revisions 0, 1, 2 ... in log order; no event of a definitely failed
// append and none nobody sent; identical digests; per pair, outstanding
// never below zero at any position of the log, every revenue line reversed
// at most what it booked; GetObligations' accrued, reversed, settled equal
// the log's sums exactly (minor units) and outstanding = accrued - reversed
// - settled; and every read a client saw during the run equals the final
// log's sums at the position it answered for.
//
// Failover time per fault: the last acknowledgement by the old leader to
// the first by the new one (printed; p50 and max at the end).
//
// Quick mode (the default, in CI): 4 clients, one kill and one stop. Long
// mode, PL_REPLICATION_LONG=1: 16 clients, 20 faults alternating kill and
// stop.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "crash/append_load.h"
#include "crash/ledgerd_process.h"
#include "domain/partnership_sim.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "partnerledger/v1/query.grpc.pb.h"
#include "replication/etcd_client.h"
#include "replication/etcd_cluster.h"
#include "replication/ledger_cluster.h"
#include "test_support.h"

namespace partnerledger::replication {
namespace {

namespace pb = ::partnerledger::v1;
namespace sim = ::partnerledger::domain::testing;
using crash::LedgerdProcess;
using std::chrono::milliseconds;

constexpr char kPrefix[] = "/partnerledger/bank";
constexpr int kNodes = testing::LedgerCluster::kNodes;
constexpr int kLeaseTtlSeconds = 2;
// A client's deadline per call: past it the append is indeterminate.
constexpr int kCallTimeoutMs = 1500;
constexpr char kCurrency[] = "EUR";
// occurred_at of every event (no period is ever closed in this run).
constexpr char kEventDate[] = "2026-03-02";

bool LongMode() {
  const char* v = std::getenv("PL_REPLICATION_LONG");
  return v != nullptr && std::string(v) == "1";
}

// One payer -> payee obligation, from one won deal.
struct Pair {
  std::string agreement;   // stream id suffix
  std::string deal;        // stream id suffix
  std::string originator;  // the payee
  std::string provider;    // the payer (and prime)
  std::string customer;
  bool settles = false;  // true: settlements; false: reversals
  std::string deal_stream() const { return "deal-" + deal; }
};

const std::vector<Pair>& Pairs() {
  static const auto* pairs = new std::vector<Pair>{
      {"bank-ab", "bank-ab", "bank-a", "bank-b", "cust-ab", true},
      {"bank-cd", "bank-cd", "bank-c", "bank-d", "cust-cd", true},
      {"bank-ac", "bank-ca", "bank-c", "bank-a", "cust-ca", false},
      {"bank-bd", "bank-db", "bank-d", "bank-b", "cust-db", false},
  };
  return *pairs;
}

std::string PairKey(const std::string& payer, const std::string& payee) {
  return absl::StrCat(payer, "->", payee);
}

using Cluster = testing::LedgerCluster;
using testing::WaitForConvergence;

enum class Outcome { kAcked, kFailed, kIndeterminate };

// One append as the history records it.
struct Op {
  std::string kind;  // setup, book, reverse, settle
  std::string stream;
  std::vector<std::string> event_ids;
  Outcome outcome = Outcome::kIndeterminate;
  // Acknowledged: the first event's position and revision, whether the
  // answer was a replay, the node that answered and when.
  uint64_t position = 0;
  uint64_t revision = 0;
  bool replayed = false;
  std::string node;
  absl::Time acked_at;
  // Failed: the status.
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;
  int attempts = 0;
};

// What a client saw in one GetObligations: the position it answered for
// and our pairs' rows there.
struct ObservedRow {
  int64_t accrued = 0, reversed = 0, settled = 0, outstanding = 0;
};
struct Read {
  std::string node;
  uint64_t as_of_position = 0;
  std::map<std::string, ObservedRow> rows;  // by PairKey
};

pb::ProposedEvent Proposed(const std::string& id, pb::EventPayload payload) {
  pb::ProposedEvent e;
  e.set_event_id(id);
  e.mutable_occurred_at()->set_seconds(sim::DateUs(kEventDate) / 1'000'000 +
                                       12 * 3600);
  *e.mutable_payload() = std::move(payload);
  return e;
}

// The clients, the history and the nemesis's view of acknowledgements.
class Bank {
 public:
  explicit Bank(Cluster* cluster) : cluster_(cluster) {}
  ~Bank() { StopAndJoin(); }

  // Appends `req` until a definite answer: on UNAVAILABLE or
  // DEADLINE_EXCEEDED the same request goes to the node the x-leader
  // trailer names, else the next node. Records the op in the history.
  Op Append(const std::string& kind, const pb::AppendEventsRequest& req,
            pb::AppendEventsResponse* resp, size_t* target,
            const std::atomic<bool>* stop) {
    Op op;
    op.kind = kind;
    op.stream = req.stream();
    for (const pb::ProposedEvent& e : req.events()) {
      op.event_ids.push_back(e.event_id());
    }
    std::string hinted;
    // The node that last gave no answer (timed out or refused): a follower
    // names a stopped or killed leader until its lease expires, so its hint
    // to that node is not followed meanwhile.
    std::string unresponsive;
    while (stop == nullptr || !stop->load()) {
      std::string address = hinted;
      if (address.empty()) {
        const std::vector<std::string> a = cluster_->addresses();
        for (size_t k = 0;
             k < a.size() && (a[*target % a.size()].empty() ||
                              a[*target % a.size()] == unresponsive);
             ++k) {
          *target = (*target + 1) % a.size();
        }
        address = a[*target % a.size()];
      }
      hinted.clear();
      ++op.attempts;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       milliseconds(kCallTimeoutMs));
      const grpc::Status s = pb::EventStoreService::NewStub(Channel(address))
                                 ->AppendEvents(&ctx, req, resp);
      if (s.ok()) {
        const std::vector<std::string> a = cluster_->addresses();
        const auto at = std::find(a.begin(), a.end(), address);
        if (at != a.end()) *target = static_cast<size_t>(at - a.begin());
        op.outcome = Outcome::kAcked;
        op.node = address;
        op.acked_at = absl::Now();
        op.replayed = resp->replayed();
        if (resp->events_size() < req.events_size() ||
            resp->events(0).event_id() != req.events(0).event_id()) {
          Unexpected(absl::StrCat("malformed response to ", kind, ": ",
                                  resp->ShortDebugString()));
        } else {
          op.position = resp->events(0).position();
          op.revision = resp->events(0).revision();
        }
        break;
      }
      const grpc::StatusCode code = s.error_code();
      if (code != grpc::StatusCode::UNAVAILABLE &&
          code != grpc::StatusCode::DEADLINE_EXCEEDED) {
        op.outcome = Outcome::kFailed;
        op.code = code;
        op.message = s.error_message();
        if (code != grpc::StatusCode::ABORTED &&
            code != grpc::StatusCode::FAILED_PRECONDITION) {
          Unexpected(absl::StrCat(kind, " ", op.event_ids[0], " on ", address,
                                  " after ", op.attempts, " attempts: ", code,
                                  " ", s.error_message()));
        }
        break;
      }
      const auto& trailers = ctx.GetServerTrailingMetadata();
      auto it = trailers.find("x-leader");
      if (it != trailers.end() && it->second.size() > 0) {
        hinted.assign(it->second.data(), it->second.size());
        if (hinted == unresponsive) hinted.clear();
      } else {
        unresponsive = address;
      }
      if (hinted.empty()) {
        *target = *target + 1;
        std::this_thread::sleep_for(milliseconds(20));
      }
    }
    absl::MutexLock lock(&mu_);
    history_.push_back(op);
    return op;
  }

  // The setup: partners, agreements, deals won with the agreement's
  // default margin. Each must be acknowledged.
  absl::Status Setup() {
    std::mt19937_64 rng(7);
    size_t target = 0;
    auto one = [&](const std::string& stream, pb::EventPayload payload) {
      pb::AppendEventsRequest req;
      req.set_stream(stream);
      *req.add_events() = Proposed(crash::RandomUuid(rng), std::move(payload));
      pb::AppendEventsResponse resp;
      std::atomic<bool> never{false};
      Op op = Append("setup", req, &resp, &target, &never);
      if (op.outcome != Outcome::kAcked) {
        return absl::InternalError(
            absl::StrCat(stream, ": ", op.code, " ", op.message));
      }
      return absl::OkStatus();
    };
    for (const char* p : {"bank-a", "bank-b", "bank-c", "bank-d"}) {
      absl::Status s = one(absl::StrCat("partner-", p),
                           sim::PartnerRegistered(absl::StrCat(p, " B.V.")));
      if (!s.ok()) return s;
    }
    for (const Pair& pair : Pairs()) {
      absl::Status s =
          one("agreement-" + pair.agreement,
              sim::AgreementSigned(
                  pair.originator, pair.provider,
                  {sim::Schedule(pb::OFFERING_CLASS_SAAS, 2500, 1250)}));
      if (!s.ok()) return s;
      sim::DealSpec d;
      d.agreement = pair.agreement;
      d.originator = pair.originator;
      d.provider = pair.provider;
      d.prime = pair.provider;
      d.customer = pair.customer;
      d.offering_class = pb::OFFERING_CLASS_SAAS;
      d.currency = kCurrency;
      d.start_date = "2026-02-01";
      for (pb::EventPayload p : {sim::DealOriginated(d), sim::MarginAgreed(),
                                 sim::DealClosed(pb::DEAL_OUTCOME_WON)}) {
        s = one(pair.deal_stream(), std::move(p));
        if (!s.ok()) return s;
      }
    }
    return absl::OkStatus();
  }

  void StartClients(int clients, uint64_t seed) {
    for (int i = 0; i < clients; ++i) {
      threads_.emplace_back([this, i, seed] { Client(i, seed); });
    }
  }

  void StopAndJoin() {
    stop_.store(true);
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

  std::vector<Op> history() const {
    absl::MutexLock lock(&mu_);
    return history_;
  }
  std::vector<Read> reads() const {
    absl::MutexLock lock(&mu_);
    return reads_;
  }
  std::vector<std::string> unexpected() const {
    absl::MutexLock lock(&mu_);
    return unexpected_;
  }
  uint64_t acknowledged() const { return acked_.load(); }

  // Blocks until `n` client appends were acknowledged; false on timeout.
  bool WaitForAcks(uint64_t n, absl::Duration timeout) const {
    const absl::Time deadline = absl::Now() + timeout;
    while (acked_.load() < n) {
      if (absl::Now() >= deadline) return false;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return true;
  }

  // The highest position of an acknowledged append.
  uint64_t MaxAckedPosition() const {
    absl::MutexLock lock(&mu_);
    uint64_t max = 0;
    for (const Op& op : history_) {
      if (op.outcome == Outcome::kAcked) max = std::max(max, op.position);
    }
    return max;
  }

  // The last acknowledgement by `node` (InfinitePast if none).
  absl::Time LastAckBy(const std::string& node) const {
    absl::MutexLock lock(&mu_);
    absl::Time last = absl::InfinitePast();
    for (const Op& op : history_) {
      if (op.outcome == Outcome::kAcked && op.node == node) {
        last = std::max(last, op.acked_at);
      }
    }
    return last;
  }
  // The first acknowledgement by `node` after `after`, waiting up to
  // `timeout` for one (InfiniteFuture if none).
  absl::Time FirstAckBy(const std::string& node, absl::Time after,
                        absl::Duration timeout) const {
    const absl::Time deadline = absl::Now() + timeout;
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        absl::Time first = absl::InfiniteFuture();
        for (const Op& op : history_) {
          if (op.outcome == Outcome::kAcked && op.node == node &&
              op.acked_at > after) {
            first = std::min(first, op.acked_at);
          }
        }
        if (first != absl::InfiniteFuture()) return first;
      }
      if (absl::Now() >= deadline) return absl::InfiniteFuture();
      std::this_thread::sleep_for(milliseconds(10));
    }
  }

 private:
  // A revenue line this client booked on a reversal pair: what it can
  // still reverse (it alone reverses its lines).
  struct Line {
    std::string revenue_id;
    size_t pair = 0;
    int64_t remaining = 0;
  };

  std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
    absl::MutexLock lock(&mu_);
    auto& c = channels_[address];
    if (c == nullptr) c = crash::NewChannel(address);
    return c;
  }

  void Unexpected(const std::string& what) {
    absl::MutexLock lock(&mu_);
    unexpected_.push_back(what);
  }

  std::string RandomNode(std::mt19937_64& rng) {
    const std::vector<std::string> a = cluster_->addresses();
    std::vector<std::string> up;
    for (const std::string& s : a) {
      if (!s.empty()) up.push_back(s);
    }
    return up.empty() ? "" : up[rng() % up.size()];
  }

  // The deal stream's last revision as a random node knows it (nullopt if
  // that node could not answer).
  std::optional<uint64_t> ReadRevision(const std::string& stream,
                                       std::mt19937_64& rng) {
    const std::string node = RandomNode(rng);
    if (node.empty()) return std::nullopt;
    pb::ReadStreamRequest req;
    req.set_stream(stream);
    req.set_from_end(true);
    req.set_direction(pb::READ_DIRECTION_BACKWARD);
    req.set_max_count(1);
    pb::ReadStreamResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     milliseconds(kCallTimeoutMs));
    if (!pb::EventStoreService::NewStub(Channel(node))
             ->ReadStream(&ctx, req, &resp)
             .ok() ||
        resp.events_size() != 1) {
      return std::nullopt;
    }
    return resp.events(0).revision();
  }

  // GetObligations on a random node; recorded. nullopt if it failed.
  std::optional<Read> ReadObligations(std::mt19937_64& rng) {
    const std::string node = RandomNode(rng);
    if (node.empty()) return std::nullopt;
    pb::GetObligationsRequest req;
    req.set_currency(kCurrency);
    pb::GetObligationsResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     milliseconds(kCallTimeoutMs));
    if (!pb::LedgerQueryService::NewStub(Channel(node))
             ->GetObligations(&ctx, req, &resp)
             .ok()) {
      return std::nullopt;
    }
    Read r;
    r.node = node;
    r.as_of_position = resp.as_of_position();
    for (const pb::ObligationRow& row : resp.obligations()) {
      ObservedRow& o = r.rows[PairKey(row.payer(), row.payee())];
      o.accrued = row.accrued_minor();
      o.reversed = row.reversed_minor();
      o.settled = row.settled_minor();
      o.outstanding = row.outstanding_minor();
    }
    absl::MutexLock lock(&mu_);
    reads_.push_back(r);
    return r;
  }

  void Client(int index, uint64_t seed) {
    std::mt19937_64 rng(seed * 1000 + static_cast<uint64_t>(index));
    size_t target = static_cast<size_t>(index);
    std::vector<std::optional<uint64_t>> revision(Pairs().size());
    std::vector<Line> lines;
    uint64_t seq = 0;
    while (!stop_.load()) {
      const size_t p = rng() % Pairs().size();
      const Pair& pair = Pairs()[p];
      const uint64_t dice = rng() % 100;
      if (dice < 10) {
        (void)ReadObligations(rng);
        continue;
      }
      pb::AppendEventsRequest req;
      pb::AppendEventsResponse resp;
      std::string kind;
      Line* reversing = nullptr;
      int64_t amount = 0;
      if (pair.settles && dice >= 60) {
        // Settle an amount up to 1.25x the outstanding a (possibly stale)
        // read shows: the server refuses what would overdraw.
        std::optional<Read> r = ReadObligations(rng);
        if (!r.has_value()) continue;
        const auto row = r->rows.find(PairKey(pair.provider, pair.originator));
        if (row == r->rows.end() || row->second.outstanding <= 0) continue;
        amount = 1 + static_cast<int64_t>(
                         rng() % static_cast<uint64_t>(
                                     row->second.outstanding * 5 / 4 + 1));
        kind = "settle";
        req.set_stream(absl::StrCat("settlement-", crash::RandomUuid(rng)));
        req.set_expected_state(pb::EXPECTED_STATE_NO_STREAM);
        *req.add_events() =
            Proposed(crash::RandomUuid(rng),
                     sim::SettlementRecorded(pair.provider, pair.originator,
                                             kCurrency, amount));
      } else {
        if (!revision[p].has_value()) {
          revision[p] = ReadRevision(pair.deal_stream(), rng);
          if (!revision[p].has_value()) continue;
        }
        req.set_stream(pair.deal_stream());
        req.set_expected_revision(*revision[p]);
        std::vector<Line*> mine;
        for (Line& l : lines) {
          if (l.pair == p && l.remaining > 0) mine.push_back(&l);
        }
        if (!pair.settles && dice >= 60 && !mine.empty()) {
          // Reverse part of one of this client's lines; now and then one
          // minor unit more than remains (refused).
          reversing = mine[rng() % mine.size()];
          amount =
              rng() % 10 == 0
                  ? reversing->remaining + 1
                  : 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(
                                                         reversing->remaining));
          kind = "reverse";
          *req.add_events() = Proposed(
              crash::RandomUuid(rng),
              sim::RevenueReversed(reversing->revenue_id, kCurrency, amount));
        } else {
          amount = 100 + static_cast<int64_t>(rng() % 1'000'000);
          kind = "book";
          const std::string revenue_id =
              absl::StrCat("r", index, "-", seq++, "-", rng() % 1'000'000);
          *req.add_events() = Proposed(
              crash::RandomUuid(rng),
              sim::RevenueBooked(revenue_id, kCurrency, amount, "2026-02-01"));
          if (!pair.settles) {
            lines.push_back(Line{revenue_id, p, 0});
            reversing = &lines.back();  // its remaining, once acknowledged
          }
        }
      }
      const Op op = Append(kind, req, &resp, &target, &stop_);
      if (op.outcome == Outcome::kIndeterminate) break;  // stopping
      if (op.outcome == Outcome::kAcked) {
        acked_.fetch_add(1);
        if (req.has_expected_revision()) {
          revision[p] = resp.next_expected_revision();
        }
        if (kind == "book" && reversing != nullptr) {
          reversing->remaining = amount;
        } else if (kind == "reverse") {
          reversing->remaining -= amount;
        }
      } else if (op.code == grpc::StatusCode::ABORTED) {
        revision[p].reset();  // re-read it
      }
    }
  }

  Cluster* const cluster_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> acked_{0};
  std::vector<std::thread> threads_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_
      ABSL_GUARDED_BY(mu_);
  std::vector<Op> history_ ABSL_GUARDED_BY(mu_);
  std::vector<Read> reads_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> unexpected_ ABSL_GUARDED_BY(mu_);
};

// The whole log of one node, in position order.
absl::StatusOr<std::vector<pb::Event>> ReadLog(const std::string& address) {
  auto stub = pb::EventStoreService::NewStub(crash::NewChannel(address));
  std::vector<pb::Event> out;
  uint64_t from = 1;
  while (true) {
    pb::ReadAllRequest req;
    req.set_from_position(from);
    req.set_direction(pb::READ_DIRECTION_FORWARD);
    req.set_max_count(1000);
    pb::ReadAllResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + milliseconds(10'000));
    grpc::Status s = stub->ReadAll(&ctx, req, &resp);
    if (!s.ok()) {
      return absl::UnavailableError(
          absl::StrCat("ReadAll from ", from, ": ", s.error_message()));
    }
    for (pb::Event& e : *resp.mutable_events()) out.push_back(std::move(e));
    if (resp.end_of_log() || resp.events_size() == 0) break;
    from = resp.next_position();
  }
  return out;
}

// Per pair sums along the log.
struct Sums {
  int64_t accrued = 0, reversed = 0, settled = 0;
  int64_t outstanding() const { return accrued - reversed - settled; }
};

// Checks one node's log against the history and its GetObligations
// against the log; every violation is a test failure naming the node.
// Returns the per-pair sums after each position (for the reads' check).
std::vector<std::map<std::string, Sums>> CheckNode(
    const std::string& node, uint64_t head, const std::vector<Op>& history) {
  SCOPED_TRACE(node);
  std::vector<std::map<std::string, Sums>> prefix;
  absl::StatusOr<std::vector<pb::Event>> log = ReadLog(node);
  EXPECT_TRUE(log.ok()) << log.status();
  if (!log.ok()) return prefix;

  // Shape: positions 1..head gapless, no event id twice, each stream's
  // revisions 0, 1, 2 ... in log order.
  EXPECT_EQ(log->size(), head);
  std::map<std::string, const pb::Event*> by_id;
  std::map<std::string, uint64_t> next_revision;
  for (size_t i = 0; i < log->size(); ++i) {
    const pb::Event& e = (*log)[i];
    EXPECT_EQ(e.position(), i + 1) << "position gap or disorder";
    EXPECT_TRUE(by_id.emplace(e.event_id(), &e).second)
        << "event " << e.event_id() << " twice (position " << e.position()
        << ")";
    uint64_t& want = next_revision[e.stream()];
    EXPECT_EQ(e.revision(), want)
        << e.stream() << " at position " << e.position();
    want = e.revision() + 1;
  }

  // The chain verifies through the head.
  {
    auto stub = pb::EventStoreService::NewStub(crash::NewChannel(node));
    pb::VerifyChainRequest req;
    req.set_from_position(1);
    req.set_to_position(head);
    pb::VerifyChainResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + milliseconds(30'000));
    grpc::Status s = stub->VerifyChain(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(resp.ok()) << resp.message();
    EXPECT_EQ(resp.verified_through(), head);
  }

  // Against the history: acknowledged events where acknowledged, nothing
  // of a failed append, nothing nobody sent.
  std::set<std::string> sent;
  uint64_t lost = 0;
  for (const Op& op : history) {
    for (size_t k = 0; k < op.event_ids.size(); ++k) {
      const std::string& id = op.event_ids[k];
      sent.insert(id);
      auto it = by_id.find(id);
      if (op.outcome == Outcome::kAcked) {
        if (it == by_id.end()) {
          ++lost;
          ADD_FAILURE() << "acknowledged " << op.kind << " " << id << " at "
                        << op.position << " (by " << op.node << ") is lost";
        } else if (k == 0) {
          EXPECT_EQ(it->second->position(), op.position)
              << op.kind << " " << id;
          EXPECT_EQ(it->second->revision(), op.revision)
              << op.kind << " " << id;
          EXPECT_EQ(it->second->stream(), op.stream) << op.kind << " " << id;
        }
      } else if (op.outcome == Outcome::kFailed) {
        EXPECT_TRUE(it == by_id.end())
            << op.kind << " " << id << " failed (" << op.code << " "
            << op.message << ") yet is at position " << it->second->position();
      }
    }
  }
  EXPECT_EQ(lost, 0u);
  for (const pb::Event& e : *log) {
    const bool derived = !e.causation_id().empty() && e.actor() == "system";
    if (!derived) {
      EXPECT_TRUE(sent.count(e.event_id()) == 1)
          << "event " << e.event_id() << " at " << e.position()
          << " was never sent";
    }
  }

  // Money along the log: per pair, outstanding never below zero; per
  // revenue line, reversed never more than booked.
  std::map<std::string, Sums> sums;
  std::map<std::string, int64_t> line_left;  // deal stream / revenue id
  prefix.reserve(log->size() + 1);
  prefix.push_back(sums);
  for (const pb::Event& e : *log) {
    const pb::EventPayload& p = e.payload();
    if (p.has_commission_accrued()) {
      const auto& c = p.commission_accrued();
      sums[PairKey(c.payer(), c.payee())].accrued += c.amount().amount_minor();
    } else if (p.has_commission_reversed()) {
      const auto& c = p.commission_reversed();
      Sums& s = sums[PairKey(c.payer(), c.payee())];
      s.reversed += c.amount().amount_minor();
      EXPECT_GE(s.outstanding(), 0)
          << PairKey(c.payer(), c.payee()) << " at position " << e.position();
    } else if (p.has_settlement_recorded()) {
      const auto& c = p.settlement_recorded();
      Sums& s = sums[PairKey(c.payer(), c.payee())];
      s.settled += c.amount().amount_minor();
      EXPECT_GE(s.outstanding(), 0)
          << "settlement at position " << e.position() << " overdraws "
          << PairKey(c.payer(), c.payee());
    } else if (p.has_revenue_booked()) {
      line_left[e.stream() + "/" + p.revenue_booked().revenue_id()] =
          p.revenue_booked().amount().amount_minor();
    } else if (p.has_revenue_reversed()) {
      int64_t& left =
          line_left[e.stream() + "/" + p.revenue_reversed().revenue_id()];
      left -= p.revenue_reversed().amount().amount_minor();
      EXPECT_GE(left, 0) << "revenue line over-reversed at " << e.position();
    }
    prefix.push_back(sums);
  }

  // GetObligations equals the log's sums, exactly.
  auto stub = pb::LedgerQueryService::NewStub(crash::NewChannel(node));
  pb::GetObligationsRequest req;
  req.set_currency(kCurrency);
  pb::GetObligationsResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + milliseconds(10'000));
  grpc::Status s = stub->GetObligations(&ctx, req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.as_of_position(), head);
  EXPECT_EQ(static_cast<size_t>(resp.obligations_size()), Pairs().size());
  for (const pb::ObligationRow& row : resp.obligations()) {
    const std::string key = PairKey(row.payer(), row.payee());
    const Sums& want = sums[key];
    EXPECT_EQ(row.accrued_minor(), want.accrued) << key;
    EXPECT_EQ(row.reversed_minor(), want.reversed) << key;
    EXPECT_EQ(row.settled_minor(), want.settled) << key;
    EXPECT_EQ(row.outstanding_minor(),
              row.accrued_minor() - row.reversed_minor() - row.settled_minor())
        << key;
    EXPECT_GE(row.outstanding_minor(), 0) << key;
  }
  return prefix;
}

// What a checked run did, for the log line.
struct RunSummary {
  uint64_t head = 0;
  std::map<std::string, int> acked;  // by op kind
  std::string text;
};

// Call after Bank::StopAndJoin. Checks every node (CheckNode)
// and every read the clients saw against the final log.
RunSummary CheckRun(Cluster& cluster, const Bank& bank) {
  const std::vector<Op> history = bank.history();
  const std::vector<std::string> unexpected = bank.unexpected();
  EXPECT_TRUE(unexpected.empty())
      << unexpected.size() << " unexpected answers, first: " << unexpected[0];
  std::map<std::string, std::map<Outcome, int>> outcomes;
  int replays = 0;
  int overdraws_refused = 0;
  for (const Op& op : history) {
    ++outcomes[op.kind][op.outcome];
    if (op.replayed) ++replays;
    if (op.kind == "settle" && op.code == grpc::StatusCode::FAILED_PRECONDITION)
      ++overdraws_refused;
  }

  RunSummary out;
  for (const char* kind : {"book", "reverse", "settle"}) {
    out.acked[kind] = outcomes[kind][Outcome::kAcked];
  }
  absl::StatusOr<uint64_t> head =
      WaitForConvergence(cluster, absl::Seconds(30));
  if (!head.ok()) {
    ADD_FAILURE() << head.status();
    return out;
  }
  out.head = *head;
  std::map<std::string, std::vector<std::map<std::string, Sums>>> by_node;
  for (const std::string& node : cluster.addresses()) {
    by_node[node] = CheckNode(node, *head, history);
  }
  // Every read during the run equals the final log at its position.
  const std::vector<Read> reads = bank.reads();
  const std::vector<std::map<std::string, Sums>>& prefix =
      by_node.begin()->second;
  int reads_checked = 0;
  for (const Read& r : reads) {
    if (r.as_of_position >= prefix.size()) {
      ADD_FAILURE() << "a read on " << r.node << " answered for position "
                    << r.as_of_position << ", beyond the head";
      continue;
    }
    const std::map<std::string, Sums>& want = prefix[r.as_of_position];
    for (const Pair& pair : Pairs()) {
      const std::string key = PairKey(pair.provider, pair.originator);
      auto got = r.rows.find(key);
      auto w = want.find(key);
      const Sums expected = w == want.end() ? Sums() : w->second;
      if (got == r.rows.end()) {
        EXPECT_EQ(expected.accrued, 0) << key << " missing from a read on "
                                       << r.node << " at " << r.as_of_position;
        continue;
      }
      EXPECT_EQ(got->second.accrued, expected.accrued)
          << key << " read on " << r.node << " at " << r.as_of_position;
      EXPECT_EQ(got->second.reversed, expected.reversed) << key;
      EXPECT_EQ(got->second.settled, expected.settled) << key;
      EXPECT_EQ(got->second.outstanding, expected.outstanding()) << key;
      EXPECT_GE(got->second.outstanding, 0) << key;
    }
    ++reads_checked;
  }

  std::vector<std::string> summary;
  for (const auto& [kind, counts] : outcomes) {
    summary.push_back(absl::StrCat(
        kind, " acked ",
        counts.count(Outcome::kAcked) ? counts.at(Outcome::kAcked) : 0,
        " failed ",
        counts.count(Outcome::kFailed) ? counts.at(Outcome::kFailed) : 0,
        " indeterminate ",
        counts.count(Outcome::kIndeterminate)
            ? counts.at(Outcome::kIndeterminate)
            : 0));
  }
  out.text =
      absl::StrCat(*head, " events on each of ", kNodes, " nodes; ",
                   absl::StrJoin(summary, "; "), "; ", replays,
                   " replayed acks, ", overdraws_refused,
                   " overdraws refused, ", reads_checked, " reads checked");
  return out;
}

// The checker's own negative control: CheckNode against a doctored copy of
// a passing run's history reports exactly the violations put in (an
// acknowledged event that is not there, a failed append whose event is
// there, an event nobody sent, an acknowledgement at the wrong position).
void ExpectTheCheckerCatchesADoctoredHistory(const std::string& node,
                                             uint64_t head,
                                             std::vector<Op> history) {
  std::vector<size_t> acked;
  for (size_t i = 0; i < history.size(); ++i) {
    if (history[i].outcome == Outcome::kAcked && history[i].kind != "setup") {
      acked.push_back(i);
    }
  }
  ASSERT_GE(acked.size(), 3u);
  history[acked[0]].outcome = Outcome::kFailed;  // yet present
  history[acked[0]].code = grpc::StatusCode::ABORTED;
  history[acked[1]].position += 1;  // acknowledged elsewhere
  Op phantom = history[acked[2]];   // acknowledged, never written
  phantom.event_ids = {"00000000-0000-4000-8000-000000000000"};
  history.erase(history.begin() + static_cast<ptrdiff_t>(acked[2]));
  history.push_back(phantom);  // and acked[2]'s event: never sent
  ::testing::TestPartResultArray results;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::
            INTERCEPT_ONLY_CURRENT_THREAD,
        &results);
    (void)CheckNode(node, head, history);
  }
  std::vector<std::string> messages;
  for (int i = 0; i < results.size(); ++i) {
    messages.push_back(results.GetTestPartResult(i).message());
  }
  const std::string all = absl::StrJoin(messages, "\n");
  auto count = [&](const std::string& what) {
    return std::count_if(messages.begin(), messages.end(),
                         [&](const std::string& m) {
                           return m.find(what) != std::string::npos;
                         });
  };
  EXPECT_EQ(count("yet is at position"), 1) << all;
  EXPECT_EQ(count("is lost"), 1) << all;
  EXPECT_EQ(count("was never sent"), 1) << all;
  EXPECT_EQ(count("op.position"), 1) << all;
  EXPECT_EQ(count("lost"), 2) << all;  // and the count of lost ones
  EXPECT_EQ(results.size(), 5) << all;
}

int64_t Percentile(std::vector<int64_t> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1,
                    static_cast<size_t>(q * (v.size() - 1) + 0.5))];
}

class ReplicationBankTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::FindEtcd().ok()) {
      GTEST_SKIP() << testing::FindEtcd().status();
    }
    testing::LedgerClusterOptions options;
    options.etcd_prefix = kPrefix;
    options.lease_ttl_seconds = kLeaseTtlSeconds;
    cluster_ = std::make_unique<Cluster>(dir_.path(), std::move(options));
    absl::Status s = cluster_->Start();
    ASSERT_TRUE(s.ok()) << s;
    ASSERT_GE(cluster_->WaitForLeader(absl::Seconds(15)), 0)
        << "no leader elected";
  }

  void TearDown() override {
    if (HasFailure() && cluster_ != nullptr) {
      std::cerr << cluster_->NodeLogTails(3000);
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<Cluster> cluster_;
};

TEST_F(ReplicationBankTest,
       MoneyBalancesOnEveryNodeAcrossKilledAndStoppedLeaders) {
  const bool long_mode = LongMode();
  const int clients = long_mode ? 16 : 4;
  const int faults = long_mode ? 20 : 2;
  // Acknowledgements between faults.
  const uint64_t load_between = long_mode ? 150 : 40;

  Bank bank(cluster_.get());
  absl::Status setup = bank.Setup();
  ASSERT_TRUE(setup.ok()) << setup;
  bank.StartClients(clients, 11);

  // The nemesis: alternately kill -9 and SIGSTOP the leader.
  std::vector<int64_t> failover_ms;
  std::map<std::string, std::vector<int64_t>> failover_ms_by_fault;
  for (int round = 0; round < faults; ++round) {
    ASSERT_TRUE(
        bank.WaitForAcks(bank.acknowledged() + load_between, absl::Seconds(60)))
        << "round " << round << ": the load stalled";
    const int leader = cluster_->WaitForLeader(absl::Seconds(15));
    ASSERT_GE(leader, 0);
    const std::string old_address = cluster_->addresses()[leader];
    const bool stop = round % 2 == 1;
    const absl::Time fault_at = absl::Now();
    if (stop) {
      ASSERT_EQ(::kill(cluster_->pid(leader), SIGSTOP), 0);
    } else {
      cluster_->KillNode(leader);
    }
    const int next = cluster_->WaitForLeader(absl::Seconds(20), leader);
    ASSERT_GE(next, 0) << "round " << round << ": no new leader";
    const std::string new_address = cluster_->addresses()[next];
    const absl::Time first =
        bank.FirstAckBy(new_address, fault_at, absl::Seconds(30));
    ASSERT_NE(first, absl::InfiniteFuture())
        << "round " << round << ": the new leader acknowledged nothing";
    const absl::Time last = bank.LastAckBy(old_address);
    const absl::Duration failover = first - last;
    failover_ms.push_back(absl::ToInt64Milliseconds(failover));
    failover_ms_by_fault[stop ? "SIGSTOP" : "kill -9"].push_back(
        failover_ms.back());
    std::cerr << "fault " << round << " (" << (stop ? "SIGSTOP" : "kill -9")
              << " of n" << leader << "): n" << next
              << " leads; last ack on the old leader -> first on the new: "
              << absl::FormatDuration(failover) << "\n";
    EXPECT_LT(failover, absl::Seconds(kLeaseTtlSeconds + 8));
    // Some load under the new leader, then the old one comes back as a
    // follower (a stopped one with its in-flight groups, fenced).
    ASSERT_TRUE(bank.WaitForAcks(bank.acknowledged() + load_between / 2,
                                 absl::Seconds(60)));
    if (stop) {
      ASSERT_EQ(::kill(cluster_->pid(leader), SIGCONT), 0);
    } else {
      absl::Status s = cluster_->StartNode(leader);
      ASSERT_TRUE(s.ok()) << s;
    }
  }
  ASSERT_TRUE(
      bank.WaitForAcks(bank.acknowledged() + load_between, absl::Seconds(60)));
  bank.StopAndJoin();

  const RunSummary summary = CheckRun(*cluster_, bank);
  std::cerr << "bank: " << clients << " clients, " << faults << " faults, "
            << summary.text << "\n"
            << "failover (last ack on the old leader -> first on the new): p50 "
            << Percentile(failover_ms, 0.5) << " ms, max "
            << Percentile(failover_ms, 1.0) << " ms over " << failover_ms.size()
            << " faults\n";
  for (const auto& [fault, ms] : failover_ms_by_fault) {
    std::cerr << "  " << fault << ": p50 " << Percentile(ms, 0.5) << " ms, max "
              << Percentile(ms, 1.0) << " ms over " << ms.size() << "\n";
  }
  ExpectTheCheckerCatchesADoctoredHistory(cluster_->addresses()[0],
                                          summary.head, bank.history());
  // The run exercised what it claims to.
  EXPECT_GT(summary.acked.at("book"), 0);
  EXPECT_GT(summary.acked.at("reverse"), 0);
  EXPECT_GT(summary.acked.at("settle"), 0);
  EXPECT_EQ(static_cast<int>(failover_ms.size()), faults);
}
// A hung etcd member (SIGSTOP: its connections stay open and never answer,
// as behind a partition or a stalled disk) is one lost member of three:
// appends go on through the other two, each member in turn, and the money
// checks out on every node.
TEST_F(ReplicationBankTest, AppendsContinueWhileAnyOneEtcdMemberHangs) {
  Bank bank(cluster_.get());
  absl::Status setup = bank.Setup();
  ASSERT_TRUE(setup.ok()) << setup;
  bank.StartClients(4, 12);
  for (int member = 0; member < cluster_->etcd().size(); ++member) {
    ASSERT_TRUE(bank.WaitForAcks(bank.acknowledged() + 20, absl::Seconds(60)));
    cluster_->etcd().Stop(member);
    const absl::Time stopped_at = absl::Now();
    // A failover of the ledger's leader may come on top (its lease renewal
    // may have been in flight to the hung member). The member stays hung for
    // the whole window, so a client that never leaves it makes no progress
    // however long the window is; the window is generous because a loaded
    // machine (the suite runs tests in parallel) slows every hop.
    const bool continued = bank.WaitForAcks(
        bank.acknowledged() + 40, absl::Seconds(kLeaseTtlSeconds + 30));
    std::cerr << "etcd member " << member << " hung: 40 more acks "
              << (continued ? "within " : "NOT within ")
              << absl::FormatDuration(absl::Now() - stopped_at) << "\n";
    // Every node serves what was acknowledged meanwhile (a follower's
    // watch on the hung member is replaced).
    const uint64_t acked_position = bank.MaxAckedPosition();
    for (const std::string& node : cluster_->addresses()) {
      auto stub = pb::EventStoreService::NewStub(crash::NewChannel(node));
      pb::ReadAllRequest req;
      req.set_min_position(acked_position);
      req.set_from_position(acked_position);
      req.set_max_count(1);
      pb::ReadAllResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       milliseconds((kLeaseTtlSeconds + 20) * 1000));
      const grpc::Status read = stub->ReadAll(&ctx, req, &resp);
      EXPECT_TRUE(read.ok())
          << node << " while etcd member " << member << " hung, min_position "
          << acked_position << ": " << read.error_message();
      EXPECT_EQ(resp.events_size(), 1) << node;
    }
    cluster_->etcd().Continue(member);
    EXPECT_TRUE(continued) << "appends stalled while etcd member " << member
                           << " of 3 hung";
  }
  ASSERT_TRUE(bank.WaitForAcks(bank.acknowledged() + 20, absl::Seconds(60)));
  bank.StopAndJoin();
  const RunSummary summary = CheckRun(*cluster_, bank);
  std::cerr << "bank: " << summary.text << "\n";
}

}  // namespace
}  // namespace partnerledger::replication

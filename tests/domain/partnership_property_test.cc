// Seeded random sequences of valid (and some invalid) events: for every
// payer, payee and currency, accrued - reversed - settled = outstanding,
// checked against a model kept from the decisions alone; on_hold stays
// within outstanding; a fully reversed line returns exactly its commission;
// and a rebuild from the log reproduces state byte for byte.
#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "absl/strings/str_format.h"
#include "domain/partnership_sim.h"
#include "gtest/gtest.h"

namespace partnerledger::domain::testing {
namespace {

struct ModelTotals {
  int64_t accrued = 0;
  int64_t reversed = 0;
  int64_t settled = 0;
};

struct ModelLine {
  std::string deal;
  std::string revenue_id;
  int64_t booked = 0;
  int64_t reversed = 0;
  int64_t obligation_accrued = 0;
  int64_t obligation_reversed = 0;
};

struct ModelDeal {
  std::string id;
  std::string agreement;
  std::string payer;
  std::string payee;
  std::string currency;
  std::string start_date;
  bool won = false;
};

using PairCurrency = std::tuple<std::string, std::string, std::string>;

// Independent of src/domain/money.cc. REQUIRES: amount x rate fits int64
// (amounts here stay below 10^11).
int64_t HalfEven(int64_t amount, int32_t rate_bp) {
  const int64_t n = amount * rate_bp;
  int64_t q = n / 10000;
  const int64_t r = n % 10000;
  if (r * 2 > 10000 || (r * 2 == 10000 && q % 2 != 0)) ++q;
  return q;
}

// What a run exercised, so the property cannot pass vacuously.
struct Coverage {
  int bookings = 0;
  int full_reversals = 0;
  int settlements = 0;
  int settlements_rejected = 0;
  int overlaps = 0;
  int held_observed = 0;
};

class RandomLedger {
 public:
  RandomLedger(uint64_t seed, Coverage& coverage)
      : rng_(seed), coverage_(coverage) {}

  void Run(int steps) {
    Setup();
    for (int i = 0; i < steps; ++i) {
      Step();
      CheckInvariants();
      if (::testing::Test::HasFailure()) return;
    }
    EXPECT_TRUE(sim_.Rebuild().kv() == sim_.state().kv());
  }

 private:
  int Uniform(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  int64_t Uniform64(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Uniform(0, static_cast<int>(v.size()) - 1))];
  }

  void Setup() {
    for (const char* p : {"P0", "P1", "P2", "P3"}) {
      sim_.Ok(absl::StrCat("partner-", p), PartnerRegistered(p));
    }
    const std::vector<std::pair<std::string, std::string>> pairs = {
        {"P0", "P1"}, {"P0", "P2"}, {"P1", "P2"}, {"P2", "P3"}};
    for (size_t i = 0; i < pairs.size(); ++i) {
      std::vector<v1::MarginSchedule> schedules;
      if (Uniform(0, 1) == 1) {
        schedules.push_back(Schedule(v1::OFFERING_CLASS_SAAS, Uniform(0, 4000),
                                     Uniform(0, 2000)));
      }
      const std::string id = absl::StrCat("A", i);
      sim_.Ok("agreement-" + id,
              AgreementSigned(pairs[i].first, pairs[i].second, schedules,
                              "2025-01-01"));
      agreements_.push_back({id, pairs[i].first, pairs[i].second});
    }
  }

  std::string RandomDate(int year_lo, int year_hi) {
    return absl::StrFormat("%04d-%02d-%02d", Uniform(year_lo, year_hi),
                           Uniform(1, 12), Uniform(1, 28));
  }

  void Step() {
    const int op = Uniform(0, 99);
    if (op < 12 || deals_.empty()) return Originate();
    if (op < 50) return Book();
    if (op < 65) return Reverse();
    if (op < 85) return Settle();
    if (op < 93) return RaiseConflict();
    return ResolveConflict();
  }

  void Originate() {
    const auto& [agreement, a, b] = Pick(agreements_);
    const bool a_originates = Uniform(0, 1) == 1;
    DealSpec spec;
    spec.agreement = agreement;
    spec.originator = a_originates ? a : b;
    spec.provider = a_originates ? b : a;
    spec.prime = Uniform(0, 1) == 1 ? spec.originator : spec.provider;
    spec.customer = absl::StrCat("cust-", Uniform(0, 2));
    spec.offering_class = static_cast<v1::OfferingClass>(Uniform(1, 3));
    spec.currency = Pick(std::vector<std::string>{"EUR", "JPY", "BHD"});
    spec.start_date = RandomDate(2025, 2027);
    const std::string id = absl::StrCat("D", deals_.size());
    coverage_.overlaps += static_cast<int>(
        sim_.Ok("deal-" + id, DealOriginated(spec)).derived.size());
    const bool resale = spec.prime == spec.originator;
    ModelDeal deal{id,
                   agreement,
                   resale ? spec.originator : spec.provider,
                   resale ? spec.provider : spec.originator,
                   spec.currency,
                   spec.start_date};
    if (Uniform(0, 9) < 8) {
      std::vector<v1::MarginBand> bands;
      if (Uniform(0, 1) == 1) {
        int year = 1;
        for (int n = Uniform(1, 3); n > 0; --n) {
          bands.push_back(Band(year, Uniform(0, 10000)));
          year += Uniform(1, 3);
        }
      }
      sim_.Ok("deal-" + id, MarginAgreed(bands));
      sim_.Ok("deal-" + id,
              DealClosed(Uniform(0, 4) == 0 ? v1::DEAL_OUTCOME_LOST
                                            : v1::DEAL_OUTCOME_WON));
      deal.won =
          sim_.Must<sv1::Deal>(keys::Deal(id)).status() == sv1::DEAL_STATUS_WON;
    }
    deals_.push_back(deal);
  }

  void Book() {
    const ModelDeal& deal = Pick(deals_);
    const std::string revenue_id = absl::StrCat("R", lines_.size());
    std::string service = RandomDate(2025, 2032);
    const int64_t amount =
        Uniform(0, 9) == 0 ? Uniform64(1, 100) : Uniform64(1, 50'000'000'00);
    absl::StatusOr<Decision> d =
        sim_.Append("deal-" + deal.id,
                    RevenueBooked(revenue_id, deal.currency, amount, service));
    if (!deal.won) {
      EXPECT_EQ(d.status().code(), absl::StatusCode::kFailedPrecondition);
      return;
    }
    if (service < deal.start_date) {
      EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
      return;
    }
    ASSERT_TRUE(d.ok()) << d.status();
    ASSERT_EQ(d->derived.size(), 1u);
    const v1::CommissionAccrued& c = d->derived[0].payload.commission_accrued();
    EXPECT_EQ(c.payer(), deal.payer);
    EXPECT_EQ(c.payee(), deal.payee);
    const sv1::Deal state = sim_.Must<sv1::Deal>(keys::Deal(deal.id));
    int32_t rate = 0;
    for (const sv1::MarginBand& b : state.bands()) {
      if (b.from_year() <= c.contract_year()) rate = b.rate_bp();
    }
    EXPECT_EQ(c.rate_bp(), rate);
    const int64_t margin = HalfEven(amount, rate);
    const bool resale = c.kind() == v1::OBLIGATION_KIND_PASS_THROUGH;
    EXPECT_EQ(c.amount().amount_minor(), resale ? amount - margin : margin);
    ++coverage_.bookings;
    totals_[{deal.payer, deal.payee, deal.currency}].accrued +=
        c.amount().amount_minor();
    lines_.push_back(
        {deal.id, revenue_id, amount, 0, c.amount().amount_minor(), 0});
  }

  void Reverse() {
    if (lines_.empty()) return;
    ModelLine& line = lines_[static_cast<size_t>(
        Uniform(0, static_cast<int>(lines_.size()) - 1))];
    const ModelDeal& deal =
        *std::find_if(deals_.begin(), deals_.end(),
                      [&](const ModelDeal& d) { return d.id == line.deal; });
    const int64_t left = line.booked - line.reversed;
    const int kind = Uniform(0, 3);
    const int64_t amount = kind == 0 ? left
                           : kind == 1
                               ? left + 1
                               : Uniform64(1, std::max<int64_t>(1, left));
    absl::StatusOr<Decision> d =
        sim_.Append("deal-" + line.deal,
                    RevenueReversed(line.revenue_id, deal.currency, amount));
    if (amount <= 0) {  // nothing left: amounts in events are positive
      EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
      return;
    }
    if (amount > left) {
      EXPECT_EQ(d.status().code(), absl::StatusCode::kFailedPrecondition);
      return;
    }
    ASSERT_TRUE(d.ok()) << d.status();
    const int64_t back =
        d->derived.at(0).payload.commission_reversed().amount().amount_minor();
    EXPECT_GE(back, 0);
    line.reversed += amount;
    line.obligation_reversed += back;
    totals_[{deal.payer, deal.payee, deal.currency}].reversed += back;
    if (line.reversed == line.booked) {
      // Everything reversed: exactly what was accrued comes back.
      ++coverage_.full_reversals;
      EXPECT_EQ(line.obligation_reversed, line.obligation_accrued);
      const sv1::RevenueLine state = sim_.Must<sv1::RevenueLine>(
          keys::DealLine(line.deal, line.revenue_id));
      EXPECT_EQ(state.margin_reversed_minor(), state.margin_accrued_minor());
    }
  }

  int64_t Settleable(const PairCurrency& k) const {
    int64_t total = 0;
    for (auto kind :
         {sv1::OBLIGATION_KIND_COMMISSION, sv1::OBLIGATION_KIND_PASS_THROUGH}) {
      std::optional<sv1::Obligation> o =
          sim_.Get<sv1::Obligation>(keys::Obligation(
              std::get<0>(k), std::get<1>(k), std::get<2>(k), kind));
      if (o)
        total +=
            std::max<int64_t>(0, o->outstanding_minor() - o->on_hold_minor());
    }
    return total;
  }

  void Settle() {
    if (totals_.empty()) return;
    auto it = totals_.begin();
    std::advance(it, Uniform(0, static_cast<int>(totals_.size()) - 1));
    const int64_t settleable = Settleable(it->first);
    const bool over = settleable == 0 || Uniform(0, 4) == 0;
    const int64_t amount =
        over ? settleable + Uniform64(1, 100) : Uniform64(1, settleable);
    const auto& [payer, payee, currency] = it->first;
    absl::StatusOr<Decision> d =
        sim_.Append(absl::StrCat("settlement-S", ++settlements_),
                    SettlementRecorded(payer, payee, currency, amount));
    if (over) {
      EXPECT_EQ(d.status().code(), absl::StatusCode::kFailedPrecondition);
      ++coverage_.settlements_rejected;
      return;
    }
    ASSERT_TRUE(d.ok()) << d.status();
    ++coverage_.settlements;
    it->second.settled += amount;
  }

  void RaiseConflict() {
    const ModelDeal& deal = Pick(deals_);
    const std::string id = absl::StrCat("K", ++conflicts_);
    sim_.Ok("conflict-" + id, ConflictRaised(deal.agreement, deal.id));
    open_conflicts_.push_back(id);
  }

  void ResolveConflict() {
    if (open_conflicts_.empty()) return;
    const size_t i = static_cast<size_t>(
        Uniform(0, static_cast<int>(open_conflicts_.size()) - 1));
    sim_.Ok("conflict-" + open_conflicts_[i], ConflictResolved());
    open_conflicts_.erase(open_conflicts_.begin() + static_cast<long>(i));
  }

  void CheckInvariants() {
    for (const auto& [key, model] : totals_) {
      const auto& [payer, payee, currency] = key;
      sv1::Obligation sum;
      for (auto kind : {sv1::OBLIGATION_KIND_COMMISSION,
                        sv1::OBLIGATION_KIND_PASS_THROUGH}) {
        std::optional<sv1::Obligation> o = sim_.Get<sv1::Obligation>(
            keys::Obligation(payer, payee, currency, kind));
        if (!o) continue;
        EXPECT_EQ(o->accrued_minor() - o->reversed_minor() - o->settled_minor(),
                  o->outstanding_minor());
        EXPECT_GE(o->on_hold_minor(), 0);
        if (o->on_hold_minor() > 0) ++coverage_.held_observed;
        EXPECT_LE(o->on_hold_minor(),
                  std::max<int64_t>(0, o->outstanding_minor()));
        sum.set_accrued_minor(sum.accrued_minor() + o->accrued_minor());
        sum.set_reversed_minor(sum.reversed_minor() + o->reversed_minor());
        sum.set_settled_minor(sum.settled_minor() + o->settled_minor());
        sum.set_outstanding_minor(sum.outstanding_minor() +
                                  o->outstanding_minor());
      }
      EXPECT_EQ(sum.accrued_minor(), model.accrued)
          << payer << payee << currency;
      EXPECT_EQ(sum.reversed_minor(), model.reversed);
      EXPECT_EQ(sum.settled_minor(), model.settled);
      EXPECT_EQ(sum.outstanding_minor(),
                model.accrued - model.reversed - model.settled);
    }
  }

  std::mt19937_64 rng_;
  Coverage& coverage_;
  Sim sim_;
  std::vector<std::tuple<std::string, std::string, std::string>> agreements_;
  std::vector<ModelDeal> deals_;
  std::vector<ModelLine> lines_;
  std::map<PairCurrency, ModelTotals> totals_;
  std::vector<std::string> open_conflicts_;
  int settlements_ = 0;
  int conflicts_ = 0;
};

TEST(PartnershipProperty, AccruedMinusReversedMinusSettledIsOutstanding) {
  Coverage coverage;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    RandomLedger ledger(seed, coverage);
    ledger.Run(300);
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_GT(coverage.bookings, 500);
  EXPECT_GT(coverage.full_reversals, 50);
  EXPECT_GT(coverage.settlements, 200);
  EXPECT_GT(coverage.settlements_rejected, 50);
  EXPECT_GT(coverage.overlaps, 10);
  EXPECT_GT(coverage.held_observed, 100);
  std::printf(
      "coverage: %d bookings, %d full reversals, %d settlements (%d "
      "rejected), %d overlaps, %d held observations\n",
      coverage.bookings, coverage.full_reversals, coverage.settlements,
      coverage.settlements_rejected, coverage.overlaps, coverage.held_observed);
}

}  // namespace
}  // namespace partnerledger::domain::testing

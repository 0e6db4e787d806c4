// The LedgerQueryService subcommands and their rendering.
#include <atomic>
#include <chrono>
#include <thread>
#include <type_traits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "domain/money.h"
#include "domain/validate.h"
#include "google/protobuf/util/time_util.h"
#include "ledgerctl/commands.h"
#include "ledgerctl/format.h"
#include "ledgerctl/progress.h"
#include "ledgerctl/render.h"
#include "util/sha256.h"
#include "util/status_macros.h"

namespace partnerledger::ctl {
namespace {

Format FormatOf(const Context& ctx) {
  if (ctx.json()) return Format::kJson;
  if (ctx.csv()) return Format::kCsv;
  return Format::kTable;
}

// --as-of-position / --as-of-time into `as_of`. INVALID_ARGUMENT naming the
// option.
absl::Status ParseAsOf(const Args& a, v1::AsOf* as_of) {
  if (a.Has("as-of-position") && a.Has("as-of-time")) {
    return absl::InvalidArgumentError(
        "give --as-of-position or --as-of-time, not both");
  }
  if (a.Has("as-of-position")) {
    ASSIGN_OR_RETURN(const uint64_t p, a.GetUint("as-of-position", 0));
    as_of->set_position(p);
  } else if (a.Has("as-of-time")) {
    google::protobuf::Timestamp t;
    if (!google::protobuf::util::TimeUtil::FromString(a.Get("as-of-time"),
                                                      &t)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--as-of-time: expected RFC 3339, e.g. 2027-02-20T00:00:00Z, got \"",
          a.Get("as-of-time"), "\""));
    }
    *as_of->mutable_recorded_at() = t;
  }
  return absl::OkStatus();
}

std::string Kind(v1::ObligationKind k) {
  return ShortEnum(v1::ObligationKind_Name(k), "OBLIGATION_KIND_");
}

// ", business date D" when the answer is cut at a business date.
std::string DateSuffix(const std::string& as_of_date) {
  return as_of_date.empty() ? "" : absl::StrCat(", business date ", as_of_date);
}

std::string AsOfLine(const std::string& what, uint64_t position,
                     const std::string& as_of_date = "") {
  return absl::StrCat(what, " as of position ", position,
                      DateSuffix(as_of_date), "\n\n");
}

// --as-of-date into the request: a usage error unless YYYY-MM-DD.
template <typename Req>
absl::Status ParseAsOfDate(const Args& a, Req* req) {
  if (!a.Has("as-of-date")) return absl::OkStatus();
  const std::string date = a.Get("as-of-date");
  if (!domain::IsValidDate(date)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--as-of-date: expected a calendar date YYYY-MM-DD, got \"", date,
        "\""));
  }
  req->set_as_of_date(date);
  return absl::OkStatus();
}

}  // namespace

std::string StatementJson(const v1::GetStatementRequest& q,
                          const v1::GetStatementResponse& r);

namespace {

// --json: the response in protobuf's JSON; a statement also names what it
// answers (StatementJson).
template <typename Req, typename Resp>
std::string AnswerJson(const Req&, const Resp& r) {
  return ProtoJson(r) + "\n";
}
std::string AnswerJson(const v1::GetStatementRequest& q,
                       const v1::GetStatementResponse& r) {
  return StatementJson(q, r);
}

// Calls a unary query RPC with --as-of applied and prints the answer.
template <typename Req, typename Resp, typename Call, typename Render>
int Query(Context& ctx, Req req, Call call, const std::string& what,
          Render render) {
  if (absl::Status s = ParseAsOf(ctx.args(), req.mutable_as_of()); !s.ok()) {
    return ctx.Usage(s);
  }
  if constexpr (requires { req.as_of_date(); }) {
    if (absl::Status s = ParseAsOfDate(ctx.args(), &req); !s.ok()) {
      return ctx.Usage(s);
    }
  }
  auto stub = ctx.queries();
  Resp resp;
  grpc::ClientContext c;
  ctx.SetDeadline(&c);
  grpc::Status s = call(*stub, &c, req, &resp);
  if (!s.ok()) return ctx.FailRpc(s, what);
  if constexpr (std::is_same_v<Req, v1::GetObligationsRequest> ||
                std::is_same_v<Req, v1::GetStatementRequest>) {
    if (ctx.args().Has("with-proof")) {
      if (int rc = SavePinnedAnswer(ctx, req, resp); rc != kExitOk) return rc;
    }
  }
  ctx.Print(ctx.json() ? AnswerJson(req, resp) : render(req, resp));
  return kExitOk;
}

std::string Age(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  const int64_t d = seconds / 86400, h = seconds / 3600 % 24,
                m = seconds / 60 % 60;
  if (d > 0) return absl::StrCat(d, "d ", h, "h");
  if (h > 0) return absl::StrCat(h, "h ", m, "m");
  return absl::StrCat(m, "m");
}

std::string Centi(int32_t centi) {
  return absl::StrFormat("%d.%02d", centi / 100, centi % 100);
}

// A bad --currency is a usage error (exit 2), like any bad option value:
// the server would refuse it too (INVALID_ARGUMENT).
absl::Status CheckCurrencyOption(const std::string& currency) {
  if (currency.empty() || domain::CurrencyExponent(currency).has_value()) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--currency: \"", currency,
                   "\" is not an ISO 4217 currency code (e.g. EUR)"));
}

}  // namespace

absl::StatusOr<v1::GetObligationsRequest> ObligationsRequestFrom(
    const Args& a) {
  v1::GetObligationsRequest req;
  req.set_partner_id(a.Get("partner"));
  req.set_currency(a.Get("currency"));
  RETURN_IF_ERROR(CheckCurrencyOption(req.currency()));
  if (a.Has("kind")) {
    const std::string k = a.Get("kind");
    if (k == "commission") {
      req.set_kind(v1::OBLIGATION_KIND_COMMISSION);
    } else if (k == "pass-through") {
      req.set_kind(v1::OBLIGATION_KIND_PASS_THROUGH);
    } else {
      return absl::InvalidArgumentError("--kind: commission | pass-through");
    }
  }
  return req;
}

absl::StatusOr<v1::GetStatementRequest> StatementRequestFrom(
    const std::string& spec) {
  std::vector<std::string> parts = absl::StrSplit(spec, ',');
  if (parts.size() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--statement: expected PAYER,PAYEE,CURRENCY,PERIOD, got \"", spec,
        "\""));
  }
  v1::GetStatementRequest req;
  req.set_payer(parts[0]);
  req.set_payee(parts[1]);
  req.set_currency(parts[2]);
  req.set_period(parts[3]);
  return req;
}

std::string RenderObligations(const v1::GetObligationsResponse& r, Format f) {
  if (f == Format::kJson) return ProtoJson(r) + "\n";
  if (f == Format::kCsv) {
    std::string out =
        CsvLine({"payer", "payee", "currency", "kind", "accrued", "reversed",
                 "settled", "on_hold", "outstanding"}) +
        "\n";
    for (const v1::ObligationRow& o : r.obligations()) {
      const std::string& c = o.currency();
      out += CsvLine({o.payer(), o.payee(), c, Kind(o.kind()),
                      FormatMajor(o.accrued_minor(), c, false),
                      FormatMajor(o.reversed_minor(), c, false),
                      FormatMajor(o.settled_minor(), c, false),
                      FormatMajor(o.on_hold_minor(), c, false),
                      FormatMajor(o.outstanding_minor(), c, false)}) +
             "\n";
    }
    return out;
  }
  std::string out = AsOfLine("Obligations", r.as_of_position(), r.as_of_date());
  if (r.obligations_size() == 0) return out + "(no obligations)\n";
  Table t({"PAYER", "PAYEE", "CURRENCY", "KIND", "ACCRUED", "REVERSED",
           "SETTLED", "ON HOLD", "OUTSTANDING"},
          {false, false, false, false, true, true, true, true, true});
  for (const v1::ObligationRow& o : r.obligations()) {
    const std::string& c = o.currency();
    t.AddRow(
        {o.payer(), o.payee(), c, Kind(o.kind()),
         FormatMajor(o.accrued_minor(), c), FormatMajor(o.reversed_minor(), c),
         FormatMajor(o.settled_minor(), c), FormatMajor(o.on_hold_minor(), c),
         FormatMajor(o.outstanding_minor(), c)});
  }
  out += t.Render();
  if (r.net_size() > 0) {
    Table n({"PAIR", "CURRENCY", "NET"});
    for (const v1::NetObligation& x : r.net()) {
      n.AddRow({absl::StrCat(x.partner_a(), " / ", x.partner_b()), x.currency(),
                x.net_minor() == 0
                    ? "settled (nets to zero)"
                    : absl::StrCat(x.net_payer(), " owes ", x.net_payee(), " ",
                                   FormatMoney(x.net_minor(), x.currency()))});
    }
    absl::StrAppend(&out, "\nNet per pair and currency\n", n.Render());
  }
  return out;
}

// Lines are signed as they move the balance: accruals up, reversals and
// settlements down, so opening + lines = closing.
int64_t SignedAmount(const v1::StatementLine& l) {
  return l.type() == v1::STATEMENT_LINE_TYPE_ACCRUAL ? l.amount_minor()
                                                     : -l.amount_minor();
}

// The response with what it answers (payer, payee, currency, period) and
// each line's signed amount, so the JSON stands on its own. Integers in
// the proto3 JSON style (int64 as strings).
std::string StatementJson(const v1::GetStatementRequest& q,
                          const v1::GetStatementResponse& r) {
  std::string lines;
  for (const v1::StatementLine& l : r.lines()) {
    if (!lines.empty()) lines += ",";
    absl::StrAppend(&lines, "{\"signedAmountMinor\":\"", SignedAmount(l), "\",",
                    ProtoJson(l).substr(1));
  }
  return absl::StrCat(
      "{\"payer\":", JsonString(q.payer()),
      ",\"payee\":", JsonString(q.payee()),
      ",\"currency\":", JsonString(q.currency()),
      ",\"period\":", JsonString(q.period()), ",\"asOfPosition\":\"",
      r.as_of_position(), "\"",
      r.as_of_date().empty()
          ? ""
          : absl::StrCat(",\"asOfDate\":", JsonString(r.as_of_date())),
      ",\"openingMinor\":\"", r.opening_minor(), "\",\"accruedMinor\":\"",
      r.accrued_minor(), "\",\"reversedMinor\":\"", -r.reversed_minor(),
      "\",\"settledMinor\":\"", -r.settled_minor(), "\",\"closingMinor\":\"",
      r.closing_minor(), "\",\"lines\":[", lines, "]}\n");
}

std::string RenderStatement(const v1::GetStatementRequest& q,
                            const v1::GetStatementResponse& r, Format f) {
  if (f == Format::kJson) return StatementJson(q, r);
  const std::string& c = q.currency();
  auto type = [](v1::StatementLineType t) {
    return ShortEnum(v1::StatementLineType_Name(t), "STATEMENT_LINE_TYPE_");
  };
  auto signed_amount = SignedAmount;
  if (f == Format::kCsv) {
    std::string out =
        CsvLine({"type", "position", "date", "deal_id", "revenue_id",
                 "settlement_id", "kind", "rate_bp", "contract_year", "amount",
                 "currency", "event_id"}) +
        "\n";
    out += CsvLine({"opening", "", "", "", "", "", "", "", "",
                    FormatMajor(r.opening_minor(), c, false), c, ""}) +
           "\n";
    for (const v1::StatementLine& l : r.lines()) {
      out +=
          CsvLine(
              {type(l.type()), std::to_string(l.position()), l.date(),
               l.deal_id(), l.revenue_id(), l.settlement_id(),
               l.kind() == v1::OBLIGATION_KIND_UNSPECIFIED ? ""
                                                           : Kind(l.kind()),
               l.rate_bp() == 0 ? "" : std::to_string(l.rate_bp()),
               l.contract_year() == 0 ? "" : std::to_string(l.contract_year()),
               FormatMajor(signed_amount(l), c, false), c, l.event_id()}) +
          "\n";
    }
    out += CsvLine({"closing", "", "", "", "", "", "", "", "",
                    FormatMajor(r.closing_minor(), c, false), c, ""}) +
           "\n";
    return out;
  }
  std::string out =
      absl::StrCat("Statement ", q.payer(), " -> ", q.payee(), ", ", c,
                   ", period ", q.period(), ", as of position ",
                   r.as_of_position(), DateSuffix(r.as_of_date()), "\n\n");
  Table s({"", "", c}, {false, false, true});
  s.AddRow({"Opening", "", FormatMajor(r.opening_minor(), c)});
  s.AddRow({"Accrued", "+", FormatMajor(r.accrued_minor(), c)});
  s.AddRow({"Reversed", "-", FormatMajor(r.reversed_minor(), c)});
  s.AddRow({"Settled", "-", FormatMajor(r.settled_minor(), c)});
  s.AddRow({"Closing", "=", FormatMajor(r.closing_minor(), c)});
  // Skip the empty header row of the summary.
  const std::string summary = s.Render();
  out += summary.substr(summary.find('\n') + 1);
  if (r.lines_size() == 0) return out + "\n(no lines in this period)\n";
  Table t({"POSITION", "DATE", "TYPE", "DEAL", "REVENUE", "SETTLEMENT", "KIND",
           "RATE", "YEAR", "AMOUNT"},
          {true, false, false, false, false, false, false, true, true, true});
  for (const v1::StatementLine& l : r.lines()) {
    t.AddRow({std::to_string(l.position()), l.date(), type(l.type()),
              l.deal_id(), l.revenue_id(), l.settlement_id(),
              l.kind() == v1::OBLIGATION_KIND_UNSPECIFIED ? "" : Kind(l.kind()),
              l.rate_bp() == 0 ? "" : FormatRateBp(l.rate_bp()),
              l.contract_year() == 0 ? "" : std::to_string(l.contract_year()),
              FormatMajor(signed_amount(l), c)});
  }
  return absl::StrCat(out, "\n", t.Render());
}

int RunObligations(Context& ctx) {
  absl::StatusOr<v1::GetObligationsRequest> req =
      ObligationsRequestFrom(ctx.args());
  if (!req.ok()) return ctx.Usage(req.status());
  const Format f = FormatOf(ctx);
  return Query<v1::GetObligationsRequest, v1::GetObligationsResponse>(
      ctx, *req,
      [](auto& stub, auto* c, const auto& q, auto* r) {
        return stub.GetObligations(c, q, r);
      },
      "obligations",
      [f](const auto&, const v1::GetObligationsResponse& r) {
        return RenderObligations(r, f);
      });
}

int RunStatement(Context& ctx) {
  const Args& a = ctx.args();
  for (const char* o : {"payer", "payee", "currency", "period"}) {
    if (!a.Has(o)) return ctx.Usage(absl::StrCat("--", o, " is required"));
  }
  v1::GetStatementRequest req;
  req.set_payer(a.Get("payer"));
  req.set_payee(a.Get("payee"));
  req.set_currency(a.Get("currency"));
  req.set_period(a.Get("period"));
  if (absl::Status s = CheckCurrencyOption(req.currency()); !s.ok()) {
    return ctx.Usage(s);
  }
  const Format f = FormatOf(ctx);
  return Query<v1::GetStatementRequest, v1::GetStatementResponse>(
      ctx, req,
      [](auto& stub, auto* c, const auto& q, auto* r) {
        return stub.GetStatement(c, q, r);
      },
      "statement",
      [f](const v1::GetStatementRequest& q, const v1::GetStatementResponse& r) {
        return RenderStatement(q, r, f);
      });
}

int RunReferralBalance(Context& ctx) {
  const Args& a = ctx.args();
  if (a.positionals().size() != 2)
    return ctx.Usage("give two partner ids: PARTNER_A PARTNER_B");
  v1::GetReferralBalanceRequest req;
  req.set_partner_a(a.positionals()[0]);
  req.set_partner_b(a.positionals()[1]);
  return Query<v1::GetReferralBalanceRequest, v1::GetReferralBalanceResponse>(
      ctx, req,
      [](auto& stub, auto* c, const auto& q, auto* r) {
        return stub.GetReferralBalance(c, q, r);
      },
      "referral-balance",
      [](const v1::GetReferralBalanceRequest& q,
         const v1::GetReferralBalanceResponse& r) {
        std::string out =
            AsOfLine(absl::StrCat("Referral balance ", q.partner_a(), " <-> ",
                                  q.partner_b()),
                     r.as_of_position(), r.as_of_date());
        Table t({"FROM", "TO", "ORIGINATED", "WON", "CURRENCY", "REVENUE",
                 "MARGIN"},
                {false, false, true, true, false, true, true});
        for (const v1::ReferralDirection* d : {&r.a_to_b(), &r.b_to_a()}) {
          const std::string from =
              d->from_partner().empty() ? "?" : d->from_partner();
          const std::string to =
              d->to_partner().empty() ? "?" : d->to_partner();
          if (d->money_size() == 0) {
            t.AddRow({from, to, std::to_string(d->deals_originated()),
                      std::to_string(d->deals_won()), "-", "-", "-"});
          }
          for (const v1::ReferralMoney& m : d->money()) {
            t.AddRow({from, to, std::to_string(d->deals_originated()),
                      std::to_string(d->deals_won()), m.currency(),
                      FormatMajor(m.revenue_minor(), m.currency()),
                      FormatMajor(m.margin_minor(), m.currency())});
          }
        }
        out += t.Render();
        if (r.net_size() > 0) {
          Table n({"CURRENCY", "REVENUE", "MARGIN"}, {false, true, true});
          for (const v1::ReferralMoney& m : r.net()) {
            n.AddRow({m.currency(),
                      FormatMajor(m.revenue_minor(), m.currency()),
                      FormatMajor(m.margin_minor(), m.currency())});
          }
          out += absl::StrCat("\nNet (", q.partner_a(), " -> ", q.partner_b(),
                              " minus ", q.partner_b(), " -> ", q.partner_a(),
                              ")\n", n.Render());
        }
        return out + absl::StrFormat("\nReciprocity ratio: %.2f\n",
                                     r.reciprocity_ratio());
      });
}

int RunDeal(Context& ctx) {
  const Args& a = ctx.args();
  if (a.positionals().size() != 1) return ctx.Usage("give one DEAL_ID");
  v1::GetDealRequest req;
  req.set_deal_id(a.positionals()[0]);
  return Query<v1::GetDealRequest, v1::GetDealResponse>(
      ctx, req,
      [](auto& stub, auto* c, const auto& q, auto* r) {
        return stub.GetDeal(c, q, r);
      },
      "deal",
      [](const v1::GetDealRequest&, const v1::GetDealResponse& d) {
        const std::string& c = d.currency();
        std::vector<std::string> bands;
        for (const v1::MarginBand& b : d.bands()) {
          bands.push_back(absl::StrCat(FormatRateBp(b.rate_bp()), " from year ",
                                       b.from_year()));
        }
        Table kv({"", ""});
        kv.AddRow({"agreement", d.agreement_id()});
        kv.AddRow({"originator", d.originator()});
        kv.AddRow({"provider", d.provider()});
        kv.AddRow({"prime", d.prime()});
        kv.AddRow({"customer", absl::StrCat(d.customer().key(), " (",
                                            d.customer().name(), ")")});
        kv.AddRow({"offering class",
                   ShortEnum(v1::OfferingClass_Name(d.offering_class()),
                             "OFFERING_CLASS_")});
        kv.AddRow({"currency", c});
        kv.AddRow({"start date", d.start_date()});
        kv.AddRow({"status",
                   ShortEnum(v1::DealStatus_Name(d.status()), "DEAL_STATUS_")});
        kv.AddRow({"margin",
                   bands.empty()
                       ? "(not agreed)"
                       : absl::StrCat(
                             absl::StrJoin(bands, ", "), " (",
                             ShortEnum(v1::MarginSource_Name(d.margin_source()),
                                       "MARGIN_SOURCE_"),
                             ")")});
        kv.AddRow({"disclosed to customer",
                   d.disclosed_to_customer() ? "yes" : "no"});
        kv.AddRow({"revenue", FormatMoney(d.revenue_minor(), c)});
        kv.AddRow({"margin earned", FormatMoney(d.margin_minor(), c)});
        kv.AddRow({"obligation",
                   d.payer().empty()
                       ? FormatMoney(d.obligation_minor(), c)
                       : absl::StrCat(FormatMoney(d.obligation_minor(), c),
                                      " (", Kind(d.kind()), ", ", d.payer(),
                                      " pays ", d.payee(), ")")});
        kv.AddRow({"open conflicts", std::to_string(d.conflicts_open())});
        kv.AddRow(
            {"statements of work", std::to_string(d.statements_of_work())});
        const std::string kvs = kv.Render();
        std::string out = AsOfLine(absl::StrCat("Deal ", d.deal_id()),
                                   d.as_of_position(), d.as_of_date()) +
                          kvs.substr(kvs.find('\n') + 1);
        if (d.lines_size() > 0) {
          Table t({"REVENUE", "SERVICE START", "BOOKED ON", "YEAR", "RATE",
                   "BOOKED", "REVERSED", "MARGIN", "OBLIGATION"},
                  {false, false, false, true, true, true, true, true, true});
          for (const v1::RevenueLineView& l : d.lines()) {
            t.AddRow({l.revenue_id(), l.service_period_start(), l.booked_on(),
                      std::to_string(l.contract_year()),
                      FormatRateBp(l.rate_bp()),
                      FormatMajor(l.booked_minor(), c),
                      FormatMajor(l.reversed_minor(), c),
                      FormatMajor(l.margin_minor(), c),
                      FormatMajor(l.obligation_minor(), c)});
          }
          absl::StrAppend(&out, "\n", t.Render());
        }
        return out;
      });
}

int RunConflicts(Context& ctx) {
  const Args& a = ctx.args();
  v1::ListConflictsRequest req;
  req.set_agreement_id(a.Get("agreement"));
  req.set_partner_id(a.Get("partner"));
  if (a.Has("status")) {
    const std::string s = a.Get("status");
    if (s == "open") {
      req.set_status(v1::CONFLICT_STATUS_OPEN);
    } else if (s == "resolved") {
      req.set_status(v1::CONFLICT_STATUS_RESOLVED);
    } else {
      return ctx.Usage("--status: open | resolved");
    }
  }
  const bool csv = ctx.csv();
  return Query<v1::ListConflictsRequest, v1::ListConflictsResponse>(
      ctx, req,
      [](auto& stub, auto* c, const auto& q, auto* r) {
        return stub.ListConflicts(c, q, r);
      },
      "conflicts",
      [csv](const v1::ListConflictsRequest&,
            const v1::ListConflictsResponse& r) {
        auto kind = [](v1::ConflictKind k) {
          return ShortEnum(v1::ConflictKind_Name(k), "CONFLICT_KIND_");
        };
        auto status = [](v1::ConflictStatus s) {
          return ShortEnum(v1::ConflictStatus_Name(s), "CONFLICT_STATUS_");
        };
        auto ts = [](const v1::ConflictView& c, bool resolved) {
          const auto& t = resolved ? c.resolved_at() : c.raised_at();
          return t.seconds() == 0 && t.nanos() == 0 ? std::string()
                                                    : FormatTimestamp(t);
        };
        if (csv) {
          std::string out =
              CsvLine({"conflict_id", "agreement_id", "deal_id",
                       "other_deal_id", "kind", "status", "raised_by",
                       "raised_at", "resolved_by", "resolved_at", "age_seconds",
                       "summary", "resolution"}) +
              "\n";
          for (const v1::ConflictView& c : r.conflicts()) {
            out +=
                CsvLine({c.conflict_id(), c.agreement_id(), c.deal_id(),
                         c.other_deal_id(), kind(c.kind()), status(c.status()),
                         c.raised_by(), ts(c, false), c.resolved_by(),
                         ts(c, true), std::to_string(c.age_seconds()),
                         c.summary(), c.resolution()}) +
                "\n";
          }
          return out;
        }
        std::string out =
            AsOfLine(absl::StrCat("Conflicts (", r.open(), " open, ",
                                  r.resolved(), " resolved)"),
                     r.as_of_position());
        if (r.conflicts_size() == 0) return out + "(no conflicts)\n";
        Table t({"CONFLICT", "AGREEMENT", "DEAL", "KIND", "STATUS", "RAISED BY",
                 "RAISED AT", "AGE", "SUMMARY"},
                {false, false, false, false, false, false, false, true, false});
        for (const v1::ConflictView& c : r.conflicts()) {
          t.AddRow({c.conflict_id(), c.agreement_id(), c.deal_id(),
                    kind(c.kind()), status(c.status()), c.raised_by(),
                    ts(c, false), Age(c.age_seconds()), c.summary()});
        }
        return out + t.Render();
      });
}

int RunHealth(Context& ctx) {
  const Args& a = ctx.args();
  if (a.positionals().size() != 2)
    return ctx.Usage("give two partner ids: PARTNER_A PARTNER_B");
  v1::GetPartnershipHealthRequest req;
  req.set_partner_a(a.positionals()[0]);
  req.set_partner_b(a.positionals()[1]);
  return Query<v1::GetPartnershipHealthRequest,
               v1::GetPartnershipHealthResponse>(
      ctx, req,
      [](auto& stub, auto* c, const auto& q, auto* r) {
        return stub.GetPartnershipHealth(c, q, r);
      },
      "health",
      [](const v1::GetPartnershipHealthRequest& q,
         const v1::GetPartnershipHealthResponse& r) {
        Table t({"PILLAR", "STATUS", "DETAIL"});
        for (const v1::HealthLine& l : r.lines()) {
          std::string status =
              ShortEnum(v1::HealthStatus_Name(l.status()), "HEALTH_STATUS_");
          absl::AsciiStrToUpper(&status);
          t.AddRow({ShortEnum(v1::Pillar_Name(l.pillar()), "PILLAR_"), status,
                    l.detail()});
        }
        return AsOfLine(absl::StrCat("Partnership health ", q.partner_a(),
                                     " <-> ", q.partner_b()),
                        r.as_of_position(), r.as_of_date()) +
               t.Render();
      });
}

int RunSatisfaction(Context& ctx) {
  const Args& a = ctx.args();
  if (a.positionals().size() != 1) return ctx.Usage("give one AGREEMENT_ID");
  v1::GetSatisfactionRequest req;
  req.set_agreement_id(a.positionals()[0]);
  return Query<v1::GetSatisfactionRequest, v1::GetSatisfactionResponse>(
      ctx, req,
      [](auto& stub, auto* c, const auto& q, auto* r) {
        return stub.GetSatisfaction(c, q, r);
      },
      "satisfaction",
      [](const v1::GetSatisfactionRequest& q,
         const v1::GetSatisfactionResponse& r) {
        std::string out =
            AsOfLine(absl::StrCat("Satisfaction, agreement ", q.agreement_id()),
                     r.as_of_position(), r.as_of_date());
        if (r.points_size() == 0) return out + "(no responses)\n";
        Table t({"PERIOD", "SUBJECT", "RESPONSES", "AVERAGE", "MIN", "MAX"},
                {false, false, true, true, true, true});
        for (const v1::SatisfactionPoint& p : r.points()) {
          t.AddRow({p.period(),
                    ShortEnum(v1::SatisfactionSubject_Name(p.subject()),
                              "SATISFACTION_SUBJECT_"),
                    std::to_string(p.responses()), Centi(p.average_centi()),
                    std::to_string(p.min()), std::to_string(p.max())});
        }
        return out + t.Render();
      });
}

int RunRebuild(Context& ctx) {
  if (!ctx.args().positionals().empty())
    return ctx.Usage("rebuild takes no arguments");
  auto stub = ctx.queries();
  v1::RebuildProjectionsResponse resp;
  grpc::ClientContext call;
  ctx.SetDeadline(&call, 3600);
  grpc::Status s;
  Progress progress("rebuild", 0);
  if (!progress.enabled()) {
    s = stub->RebuildProjections(&call, v1::RebuildProjectionsRequest(), &resp);
  } else {
    // The RPC runs on its own thread so this one can draw a spinner.
    std::atomic<bool> done{false};
    std::thread rpc([&] {
      s = stub->RebuildProjections(&call, v1::RebuildProjectionsRequest(),
                                   &resp);
      done.store(true);
    });
    while (!done.load()) {
      progress.Update(0);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    rpc.join();
    progress.Finish();
  }
  if (!s.ok()) return ctx.FailRpc(s, "rebuild");
  if (ctx.json()) {
    ctx.Print(absl::StrCat(ProtoJson(resp), "\n"));
  } else {
    ctx.Print(absl::StrFormat(
        "Rebuilt projections from %s events (through position %d) in %.3f s; "
        "%s keys "
        "compared: %s\n",
        FormatCount(resp.events_replayed()), resp.as_of_position(),
        resp.seconds(), FormatCount(resp.keys_compared()),
        resp.identical()
            ? "identical to the live projections"
            : absl::StrCat("DIFFERENT: ", resp.first_difference())));
  }
  return resp.identical() ? kExitOk : kExitVerification;
}

int RunBackup(Context& ctx) {
  if (ctx.args().positionals().size() != 1) {
    return ctx.Usage("backup takes one argument: the backup directory name");
  }
  const std::string dir = ctx.args().positionals()[0];
  auto stub = ctx.admin();
  grpc::ClientContext call;
  ctx.SetDeadline(&call, 3600);
  if (ctx.args().Has("verify")) {
    v1::VerifyBackupRequest req;
    req.set_backup_dir(dir);
    if (ctx.args().Has("id")) {
      uint32_t id = 0;
      if (!absl::SimpleAtoi(ctx.args().Get("id", ""), &id) || id == 0) {
        return ctx.Usage("--id must be a positive backup id");
      }
      req.set_backup_id(id);
    }
    v1::VerifyBackupResponse resp;
    grpc::Status s = stub->VerifyBackup(&call, req, &resp);
    if (!s.ok()) return ctx.FailRpc(s, "backup --verify");
    if (ctx.json()) {
      ctx.Print(absl::StrCat(ProtoJson(resp), "\n"));
    } else if (resp.ok()) {
      // The same wording as `verify`: "OK: <what>: hash chain verified ...".
      ctx.Print(absl::StrFormat(
          "OK: backup %s (id %d): hash chain verified through position %d "
          "(%s events checked); head hash %s\n",
          dir, resp.backup_id(), resp.digest().position(),
          FormatCount(resp.events_checked()), ToHex(resp.digest().hash())));
    } else {
      ctx.Print(absl::StrFormat("FAILED: backup %s (id %d): %s\n", dir,
                                resp.backup_id(), resp.message()));
    }
    return resp.ok() ? kExitOk : kExitVerification;
  }
  v1::CreateBackupRequest req;
  req.set_backup_dir(dir);
  v1::CreateBackupResponse resp;
  grpc::Status s = stub->CreateBackup(&call, req, &resp);
  if (!s.ok()) return ctx.FailRpc(s, "backup");
  if (ctx.json()) {
    ctx.Print(absl::StrCat(ProtoJson(resp), "\n"));
  } else {
    ctx.Print(absl::StrFormat(
        "Backup %d in %s: through position %d, hash %s (%s bytes, %.3f s)\n",
        resp.backup_id(), dir, resp.digest().position(), resp.hash_hex(),
        FormatCount(resp.size_bytes()), resp.seconds()));
  }
  return kExitOk;
}

}  // namespace partnerledger::ctl

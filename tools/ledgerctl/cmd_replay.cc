// `replay`: an auditor's independent recomputation of past figures from
// the log alone.
#include <stdlib.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "domain/partnership.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "ledgerctl/commands.h"
#include "ledgerctl/format.h"
#include "ledgerctl/offline.h"
#include "ledgerctl/progress.h"
#include "ledgerctl/render.h"
#include "merkle/checkpoint.h"
#include "merkle/merkle.h"
#include "partnerledger/v1/audit.pb.h"
#include "projection/queries.h"
#include "projection/rebuild.h"
#include "util/sha256.h"

namespace partnerledger::ctl {
namespace {

// A mkdtemp directory removed with its contents on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::error_code ec;
    std::string tmpl =
        (std::filesystem::temp_directory_path(ec) / "ledgerctl-replay-XXXXXX")
            .string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Opens the --checkpoint file: the pinned answer and its checkpoint (the
// signature checked with --key when given). An exit code on failure.
int OpenPinned(Context& ctx, v1::PinnedAnswer* pinned,
               merkle::Checkpoint* checkpoint) {
  const Args& a = ctx.args();
  absl::StatusOr<std::string> text = ReadInput(a.Get("checkpoint"));
  if (!text.ok()) return ctx.FailLocal(text.status(), "read --checkpoint");
  if (!google::protobuf::util::JsonStringToMessage(*text, pinned).ok() ||
      !pinned->has_checkpoint() ||
      pinned->request_case() == v1::PinnedAnswer::REQUEST_NOT_SET ||
      pinned->response_case() == v1::PinnedAnswer::RESPONSE_NOT_SET) {
    return ctx.Usage(absl::StrCat(a.Get("checkpoint"),
                                  ": not a file written by --with-proof"));
  }
  std::optional<merkle::VerifierKey> key;
  if (a.Has("key")) {
    absl::StatusOr<std::string> k = ReadInput(a.Get("key"));
    if (!k.ok()) return ctx.FailLocal(k.status(), "read --key");
    absl::StatusOr<merkle::VerifierKey> v = merkle::ParseVerifierKey(*k);
    if (!v.ok()) return ctx.Usage(v.status());
    key = *v;
  }
  absl::StatusOr<merkle::Checkpoint> c = merkle::OpenCheckpoint(
      pinned->checkpoint().note(), key.has_value() ? &*key : nullptr);
  if (!c.ok()) {
    return ctx.Fail(c.status().code() == absl::StatusCode::kFailedPrecondition
                        ? kExitVerification
                        : kExitUsage,
                    absl::StrCat("checkpoint: ", c.status().message()));
  }
  *checkpoint = *c;
  return kExitOk;
}

// The saved answer's position and root, which must be the checkpoint's.
template <typename Resp>
bool PinnedTo(const Resp& r, const merkle::Checkpoint& c) {
  return r.as_of_position() == c.size && r.as_of_root_hash() == c.root_hash;
}

// A store in a scratch directory that holds the replayed state; the store
// closes before its directory is removed.
struct Scratch {
  ScratchDir dir;
  absl::StatusOr<std::unique_ptr<store::Store>> store;
};

// Opens the scratch store: no fsync and no WAL, since it is thrown away.
absl::StatusOr<std::unique_ptr<store::Store>> OpenScratchStore(
    const std::string& dir) {
  store::StoreOptions so;
  so.dir = dir;
  so.sync = false;
  so.disable_wal = true;
  return store::Store::Open(so);
}

// Replays events 1..to of `log` into `scratch`, drawing a progress line.
// Position 0 is the empty log: nothing to replay, the empty tree's root
// (Replay's own 0 would mean "the head").
absl::StatusOr<projection::ReplayStats> ReplayInto(const store::Store& log,
                                                   uint64_t to,
                                                   store::Store* scratch) {
  projection::ReplayStats stats;
  stats.tree_root = merkle::EmptyRoot();
  if (to == 0) return stats;
  const std::unique_ptr<domain::Rules> rules = domain::NewPartnershipRules();
  Progress progress("replay", to);
  absl::StatusOr<projection::ReplayStats> r = projection::Replay(
      log, *rules, to, scratch, [&](uint64_t done, uint64_t total) {
        progress.set_total(total);
        progress.Update(done);
      });
  progress.Finish();
  return r;
}

// The replayed figure of a pinned answer's request, at the checkpoint's
// size, with whether it equals the saved response and its table.
struct PinnedFigure {
  bool equal = false;
  std::string rendered;
};

// Recomputes the pinned answer from `replayed` at position `at`, whose
// root is `root`. An exit code on failure.
int ReplayPinnedFigure(Context& ctx, const v1::PinnedAnswer& pinned,
                       const projection::Queries& replayed, uint64_t at,
                       const std::string& root, PinnedFigure* figure) {
  if (pinned.has_obligations_request()) {
    v1::GetObligationsRequest req = pinned.obligations_request();
    req.mutable_as_of()->Clear();
    req.mutable_as_of()->set_position(at);
    absl::StatusOr<v1::GetObligationsResponse> r = replayed.GetObligations(req);
    if (!r.ok()) return ctx.FailLocal(r.status(), "obligations");
    r->set_as_of_root_hash(root);
    figure->equal = google::protobuf::util::MessageDifferencer::Equals(
        *r, pinned.obligations_response());
    figure->rendered = RenderObligations(*r, Format::kTable);
    return kExitOk;
  }
  v1::GetStatementRequest req = pinned.statement_request();
  req.mutable_as_of()->Clear();
  req.mutable_as_of()->set_position(at);
  absl::StatusOr<v1::GetStatementResponse> r = replayed.GetStatement(req);
  if (!r.ok()) return ctx.FailLocal(r.status(), "statement");
  r->set_as_of_root_hash(root);
  figure->equal = google::protobuf::util::MessageDifferencer::Equals(
      *r, pinned.statement_response());
  figure->rendered = RenderStatement(req, *r, Format::kTable);
  return kExitOk;
}

void PrintPinnedReplay(const Context& ctx, const std::string& dir,
                       const projection::ReplayStats& stats,
                       const merkle::Checkpoint& checkpoint,
                       const PinnedFigure& figure) {
  const uint64_t at = checkpoint.size;
  ctx.Print(absl::StrFormat(
      "Replayed %s events of %s; root at size %d matches checkpoint %s%s.\n\n",
      FormatCount(stats.events), dir, at, checkpoint.origin,
      ctx.args().Has("key") ? " (signature verified)" : ""));
  ctx.Print(figure.rendered);
  ctx.Print(figure.equal
                ? absl::StrCat("\nThe replayed figure equals the saved answer "
                               "pinned to the checkpoint at size ",
                               at, ".\n")
                : absl::StrCat("\nMISMATCH: the replayed figure differs from "
                               "the saved answer at size ",
                               at, ".\n"));
}

// What `replay` without --checkpoint is asked: the figures to recompute
// and the point in time.
struct ReplayQuestion {
  v1::GetObligationsRequest obligations;
  std::optional<v1::GetStatementRequest> statement;
  v1::AsOf as_of;
};

// Parses replay's options (after --data-dir). An exit code on failure.
int ParseReplayQuestion(Context& ctx, ReplayQuestion* q) {
  const Args& a = ctx.args();
  if (a.Has("to-position") == a.Has("to-time")) {
    return ctx.Usage(
        "give exactly one of --to-position=N or --to-time=RFC3339");
  }
  absl::StatusOr<v1::GetObligationsRequest> obligations_req =
      ObligationsRequestFrom(a);
  if (!obligations_req.ok()) return ctx.Usage(obligations_req.status());
  q->obligations = *obligations_req;
  if (a.Has("statement")) {
    absl::StatusOr<v1::GetStatementRequest> r =
        StatementRequestFrom(a.Get("statement"));
    if (!r.ok()) return ctx.Usage(r.status());
    q->statement = *r;
  }
  if (a.Has("to-position")) {
    absl::StatusOr<uint64_t> p = a.GetUint("to-position", 0);
    if (!p.ok()) return ctx.Usage(p.status());
    q->as_of.set_position(*p);
    return kExitOk;
  }
  google::protobuf::Timestamp t;
  if (!google::protobuf::util::TimeUtil::FromString(a.Get("to-time"), &t)) {
    return ctx.Usage(absl::StrCat(
        "--to-time: expected RFC 3339, e.g. 2027-02-20T00:00:00Z"));
  }
  *q->as_of.mutable_recorded_at() = t;
  return kExitOk;
}

// The replayed answers and whether they equal the stored projections'.
struct ReplayedFigures {
  v1::GetObligationsResponse obligations;
  std::optional<v1::GetStatementResponse> statement;
  bool identical = false;
};

// Answers the question from the replayed state (at its head) and from the
// stored projections as of the same position `at`, and compares them. An
// exit code on failure.
int CompareWithStored(Context& ctx, const ReplayQuestion& q,
                      const projection::Queries& replayed,
                      const projection::Queries& stored, uint64_t at,
                      ReplayedFigures* figures) {
  v1::GetObligationsRequest stored_req = q.obligations;
  stored_req.mutable_as_of()->set_position(at);
  absl::StatusOr<v1::GetObligationsResponse> obligations =
      replayed.GetObligations(q.obligations);
  if (!obligations.ok())
    return ctx.FailLocal(obligations.status(), "obligations");
  absl::StatusOr<v1::GetObligationsResponse> stored_obligations =
      stored.GetObligations(stored_req);
  if (!stored_obligations.ok()) {
    return ctx.FailLocal(stored_obligations.status(), "stored obligations");
  }
  figures->identical = obligations->SerializeAsString() ==
                       stored_obligations->SerializeAsString();
  figures->obligations = *std::move(obligations);
  if (!q.statement.has_value()) return kExitOk;
  absl::StatusOr<v1::GetStatementResponse> s =
      replayed.GetStatement(*q.statement);
  if (!s.ok()) return ctx.FailLocal(s.status(), "statement");
  v1::GetStatementRequest sr = *q.statement;
  sr.mutable_as_of()->set_position(at);
  absl::StatusOr<v1::GetStatementResponse> ss = stored.GetStatement(sr);
  if (!ss.ok()) return ctx.FailLocal(ss.status(), "stored statement");
  figures->identical =
      figures->identical && s->SerializeAsString() == ss->SerializeAsString();
  figures->statement = *std::move(s);
  return kExitOk;
}

void PrintReplayJson(const Context& ctx, const std::string& dir, uint64_t at,
                     const projection::ReplayStats& stats,
                     const ReplayQuestion& q, const ReplayedFigures& f) {
  std::string out = absl::StrCat(
      "{\"dataDir\":", JsonString(dir), ",\"toPosition\":", at,
      ",\"eventsReplayed\":", stats.events,
      ",\"obligations\":", RenderObligations(f.obligations, Format::kJson));
  out.pop_back();  // the renderer's newline
  if (f.statement.has_value()) {
    absl::StrAppend(&out, ",\"statement\":",
                    RenderStatement(*q.statement, *f.statement, Format::kJson));
    out.pop_back();
  }
  absl::StrAppend(&out, ",\"matchesStoredProjections\":",
                  f.identical ? "true" : "false", "}\n");
  ctx.Print(out);
}

void PrintReplayTable(const Context& ctx, const std::string& dir, uint64_t at,
                      uint64_t head_position,
                      const projection::ReplayStats& stats,
                      const ReplayQuestion& q, const ReplayedFigures& f) {
  ctx.Print(absl::StrFormat(
      "Replayed %s events (positions 1..%d of %d) from %s into a scratch "
      "store in %.3f s.\n\n",
      FormatCount(stats.events), at, head_position, dir, stats.seconds));
  ctx.Print(RenderObligations(f.obligations, Format::kTable));
  if (f.statement.has_value()) {
    ctx.Print(absl::StrCat(
        "\n", RenderStatement(*q.statement, *f.statement, Format::kTable)));
  }
  ctx.Print(
      f.identical
          ? absl::StrCat(
                "\nThe replayed figures equal the stored projections as of "
                "position ",
                at, ".\n")
          : absl::StrCat(
                "\nMISMATCH: the replayed figures differ from the stored "
                "projections as of position ",
                at, ".\n"));
}

}  // namespace

int RunReplayPinned(Context& ctx) {
  v1::PinnedAnswer pinned;
  merkle::Checkpoint checkpoint;
  if (int rc = OpenPinned(ctx, &pinned, &checkpoint); rc != kExitOk) return rc;
  if (pinned.has_obligations_request()
          ? !PinnedTo(pinned.obligations_response(), checkpoint)
          : !PinnedTo(pinned.statement_response(), checkpoint)) {
    return ctx.Fail(
        kExitVerification,
        "the saved answer is not at the checkpoint's size and root");
  }
  const std::string dir = ctx.args().Get("data-dir");
  absl::StatusOr<std::unique_ptr<store::Store>> log = OpenReadOnly(dir);
  if (!log.ok()) return ctx.FailLocal(log.status(), "open data directory");
  absl::StatusOr<store::Head> head = (*log)->ReadHead();
  if (!head.ok()) return ctx.FailLocal(head.status(), "read head");
  const uint64_t at = checkpoint.size;
  if (at > head->position()) {
    return ctx.Fail(kExitVerification,
                    absl::StrCat("the log copy ends at ", head->position(),
                                 ", before the checkpoint's size ", at));
  }
  Scratch scratch;
  scratch.store = OpenScratchStore(scratch.dir.path());
  if (scratch.dir.path().empty() || !scratch.store.ok()) {
    return ctx.FailLocal(scratch.store.ok()
                             ? absl::UnavailableError("mkdtemp failed")
                             : scratch.store.status(),
                         "scratch store");
  }
  absl::StatusOr<projection::ReplayStats> stats =
      ReplayInto(**log, at, scratch.store->get());
  if (!stats.ok()) return ctx.FailLocal(stats.status(), "replay");
  // The log copy is the one the checkpoint describes: its events 1..at,
  // hashed into the tree again, give the checkpoint's root.
  if (stats->tree_root != checkpoint.root_hash) {
    return ctx.Fail(
        kExitVerification,
        absl::StrCat("the log copy's root at size ", at, " is ",
                     ToHex(stats->tree_root), ", not the checkpoint's ",
                     ToHex(checkpoint.root_hash), ": it is not that log"));
  }
  const projection::Queries replayed(scratch.store->get(), log->get(),
                                     [at] { return at; });
  PinnedFigure figure;
  if (int rc = ReplayPinnedFigure(ctx, pinned, replayed, at, stats->tree_root,
                                  &figure);
      rc != kExitOk) {
    return rc;
  }
  PrintPinnedReplay(ctx, dir, *stats, checkpoint, figure);
  return figure.equal ? kExitOk : kExitVerification;
}

int RunReplay(Context& ctx) {
  const Args& a = ctx.args();
  if (!a.Has("data-dir")) {
    return ctx.Usage(
        "replay works offline: give --data-dir=DIR (a stopped server's "
        "directory or a "
        "backup copy)");
  }
  if (a.Has("checkpoint")) return RunReplayPinned(ctx);
  ReplayQuestion q;
  if (int rc = ParseReplayQuestion(ctx, &q); rc != kExitOk) return rc;

  const std::string dir = a.Get("data-dir");
  absl::StatusOr<std::unique_ptr<store::Store>> log = OpenReadOnly(dir);
  if (!log.ok()) return ctx.FailLocal(log.status(), "open data directory");
  absl::StatusOr<store::Head> head = (*log)->ReadHead();
  if (!head.ok()) return ctx.FailLocal(head.status(), "read head");
  const uint64_t head_position = head->position();
  // The directory's own projections, to resolve the point in time the same
  // way the server does and to compare the replayed figures with.
  const projection::Queries stored(log->get(), log->get(),
                                   [head_position] { return head_position; });
  absl::StatusOr<uint64_t> to = stored.Resolve(q.as_of);
  if (!to.ok()) return ctx.FailLocal(to.status(), "resolve --to-time");
  const uint64_t at = *to;

  Scratch scratch;
  if (scratch.dir.path().empty()) {
    return ctx.FailLocal(absl::UnavailableError("mkdtemp failed"),
                         "scratch directory");
  }
  scratch.store = OpenScratchStore(scratch.dir.path());
  if (!scratch.store.ok()) {
    return ctx.FailLocal(scratch.store.status(), "open scratch store");
  }
  absl::StatusOr<projection::ReplayStats> stats =
      ReplayInto(**log, at, scratch.store->get());
  if (!stats.ok()) return ctx.FailLocal(stats.status(), "replay");
  const projection::Queries replayed(scratch.store->get(), log->get(),
                                     [at] { return at; });
  ReplayedFigures figures;
  if (int rc = CompareWithStored(ctx, q, replayed, stored, at, &figures);
      rc != kExitOk) {
    return rc;
  }
  if (ctx.json()) {
    PrintReplayJson(ctx, dir, at, *stats, q, figures);
  } else {
    PrintReplayTable(ctx, dir, at, head_position, *stats, q, figures);
  }
  return figures.identical ? kExitOk : kExitVerification;
}

}  // namespace partnerledger::ctl

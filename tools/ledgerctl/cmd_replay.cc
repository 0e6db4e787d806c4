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

}  // namespace

int RunReplayPinned(Context& ctx) {
  v1::PinnedAnswer pinned;
  merkle::Checkpoint checkpoint;
  if (int rc = OpenPinned(ctx, &pinned, &checkpoint); rc != kExitOk) return rc;
  const bool obligations = pinned.has_obligations_request();
  if (obligations ? !PinnedTo(pinned.obligations_response(), checkpoint)
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
  ScratchDir scratch_dir;
  store::StoreOptions so;
  so.dir = scratch_dir.path();
  so.sync = false;
  so.disable_wal = true;
  absl::StatusOr<std::unique_ptr<store::Store>> scratch =
      store::Store::Open(so);
  if (scratch_dir.path().empty() || !scratch.ok()) {
    return ctx.FailLocal(scratch.ok() ? absl::UnavailableError("mkdtemp failed")
                                      : scratch.status(),
                         "scratch store");
  }
  const std::unique_ptr<domain::Rules> rules = domain::NewPartnershipRules();
  projection::ReplayStats stats;
  stats.tree_root = merkle::EmptyRoot();
  if (at > 0) {
    Progress progress("replay", at);
    absl::StatusOr<projection::ReplayStats> r = projection::Replay(
        **log, *rules, at, scratch->get(), [&](uint64_t done, uint64_t total) {
          progress.set_total(total);
          progress.Update(done);
        });
    progress.Finish();
    if (!r.ok()) return ctx.FailLocal(r.status(), "replay");
    stats = *r;
  }
  // The log copy is the one the checkpoint describes: its events 1..at,
  // hashed into the tree again, give the checkpoint's root.
  if (stats.tree_root != checkpoint.root_hash) {
    return ctx.Fail(
        kExitVerification,
        absl::StrCat("the log copy's root at size ", at, " is ",
                     ToHex(stats.tree_root), ", not the checkpoint's ",
                     ToHex(checkpoint.root_hash), ": it is not that log"));
  }
  const projection::Queries replayed(scratch->get(), log->get(),
                                     [at] { return at; });
  std::string rendered;
  bool equal = false;
  if (obligations) {
    v1::GetObligationsRequest req = pinned.obligations_request();
    req.mutable_as_of()->Clear();
    req.mutable_as_of()->set_position(at);
    absl::StatusOr<v1::GetObligationsResponse> r = replayed.GetObligations(req);
    if (!r.ok()) return ctx.FailLocal(r.status(), "obligations");
    r->set_as_of_root_hash(stats.tree_root);
    equal = google::protobuf::util::MessageDifferencer::Equals(
        *r, pinned.obligations_response());
    rendered = RenderObligations(*r, Format::kTable);
  } else {
    v1::GetStatementRequest req = pinned.statement_request();
    req.mutable_as_of()->Clear();
    req.mutable_as_of()->set_position(at);
    absl::StatusOr<v1::GetStatementResponse> r = replayed.GetStatement(req);
    if (!r.ok()) return ctx.FailLocal(r.status(), "statement");
    r->set_as_of_root_hash(stats.tree_root);
    equal = google::protobuf::util::MessageDifferencer::Equals(
        *r, pinned.statement_response());
    rendered = RenderStatement(req, *r, Format::kTable);
  }
  ctx.Print(absl::StrFormat(
      "Replayed %s events of %s; root at size %d matches checkpoint %s%s.\n\n",
      FormatCount(stats.events), dir, at, checkpoint.origin,
      ctx.args().Has("key") ? " (signature verified)" : ""));
  ctx.Print(rendered);
  ctx.Print(equal
                ? absl::StrCat("\nThe replayed figure equals the saved answer "
                               "pinned to the checkpoint at size ",
                               at, ".\n")
                : absl::StrCat("\nMISMATCH: the replayed figure differs from "
                               "the saved answer at size ",
                               at, ".\n"));
  return equal ? kExitOk : kExitVerification;
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
  if (a.Has("to-position") == a.Has("to-time")) {
    return ctx.Usage(
        "give exactly one of --to-position=N or --to-time=RFC3339");
  }
  absl::StatusOr<v1::GetObligationsRequest> obligations_req =
      ObligationsRequestFrom(a);
  if (!obligations_req.ok()) return ctx.Usage(obligations_req.status());
  std::optional<v1::GetStatementRequest> statement_req;
  if (a.Has("statement")) {
    absl::StatusOr<v1::GetStatementRequest> r =
        StatementRequestFrom(a.Get("statement"));
    if (!r.ok()) return ctx.Usage(r.status());
    statement_req = *r;
  }
  v1::AsOf as_of;
  if (a.Has("to-position")) {
    absl::StatusOr<uint64_t> p = a.GetUint("to-position", 0);
    if (!p.ok()) return ctx.Usage(p.status());
    as_of.set_position(*p);
  } else {
    google::protobuf::Timestamp t;
    if (!google::protobuf::util::TimeUtil::FromString(a.Get("to-time"), &t)) {
      return ctx.Usage(absl::StrCat(
          "--to-time: expected RFC 3339, e.g. 2027-02-20T00:00:00Z"));
    }
    *as_of.mutable_recorded_at() = t;
  }

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
  absl::StatusOr<uint64_t> to = stored.Resolve(as_of);
  if (!to.ok()) return ctx.FailLocal(to.status(), "resolve --to-time");

  ScratchDir scratch_dir;
  if (scratch_dir.path().empty()) {
    return ctx.FailLocal(absl::UnavailableError("mkdtemp failed"),
                         "scratch directory");
  }
  store::StoreOptions so;
  so.dir = scratch_dir.path();
  so.sync = false;
  so.disable_wal = true;
  absl::StatusOr<std::unique_ptr<store::Store>> scratch =
      store::Store::Open(so);
  if (!scratch.ok())
    return ctx.FailLocal(scratch.status(), "open scratch store");
  const std::unique_ptr<domain::Rules> rules = domain::NewPartnershipRules();
  projection::ReplayStats stats;
  if (*to > 0) {  // Replay's 0 means "the head"; position 0 is the empty log.
    Progress progress("replay", *to);
    absl::StatusOr<projection::ReplayStats> r = projection::Replay(
        **log, *rules, *to, scratch->get(), [&](uint64_t done, uint64_t total) {
          progress.set_total(total);
          progress.Update(done);
        });
    progress.Finish();
    if (!r.ok()) return ctx.FailLocal(r.status(), "replay");
    stats = *r;
  }
  const uint64_t at = *to;
  const projection::Queries replayed(scratch->get(), log->get(),
                                     [at] { return at; });

  // Answers from the replayed state (at its head) and from the stored
  // projections as of the same position.
  v1::GetObligationsRequest stored_req = *obligations_req;
  stored_req.mutable_as_of()->set_position(at);
  absl::StatusOr<v1::GetObligationsResponse> obligations =
      replayed.GetObligations(*obligations_req);
  if (!obligations.ok())
    return ctx.FailLocal(obligations.status(), "obligations");
  absl::StatusOr<v1::GetObligationsResponse> stored_obligations =
      stored.GetObligations(stored_req);
  if (!stored_obligations.ok()) {
    return ctx.FailLocal(stored_obligations.status(), "stored obligations");
  }
  bool identical = obligations->SerializeAsString() ==
                   stored_obligations->SerializeAsString();
  std::optional<v1::GetStatementResponse> statement;
  if (statement_req.has_value()) {
    absl::StatusOr<v1::GetStatementResponse> s =
        replayed.GetStatement(*statement_req);
    if (!s.ok()) return ctx.FailLocal(s.status(), "statement");
    v1::GetStatementRequest sr = *statement_req;
    sr.mutable_as_of()->set_position(at);
    absl::StatusOr<v1::GetStatementResponse> ss = stored.GetStatement(sr);
    if (!ss.ok()) return ctx.FailLocal(ss.status(), "stored statement");
    identical = identical && s->SerializeAsString() == ss->SerializeAsString();
    statement = *s;
  }

  if (ctx.json()) {
    std::string out = absl::StrCat(
        "{\"dataDir\":", JsonString(dir), ",\"toPosition\":", at,
        ",\"eventsReplayed\":", stats.events,
        ",\"obligations\":", RenderObligations(*obligations, Format::kJson));
    out.pop_back();  // the renderer's newline
    if (statement.has_value()) {
      absl::StrAppend(
          &out, ",\"statement\":",
          RenderStatement(*statement_req, *statement, Format::kJson));
      out.pop_back();
    }
    absl::StrAppend(&out, ",\"matchesStoredProjections\":",
                    identical ? "true" : "false", "}\n");
    ctx.Print(out);
  } else {
    ctx.Print(absl::StrFormat(
        "Replayed %s events (positions 1..%d of %d) from %s into a scratch "
        "store in %.3f s.\n\n",
        FormatCount(stats.events), at, head_position, dir, stats.seconds));
    ctx.Print(RenderObligations(*obligations, Format::kTable));
    if (statement.has_value()) {
      ctx.Print("\n" +
                RenderStatement(*statement_req, *statement, Format::kTable));
    }
    ctx.Print(
        identical
            ? absl::StrCat(
                  "\nThe replayed figures equal the stored projections as of "
                  "position ",
                  at, ".\n")
            : absl::StrCat(
                  "\nMISMATCH: the replayed figures differ from the stored "
                  "projections as of position ",
                  at, ".\n"));
  }
  return identical ? kExitOk : kExitVerification;
}

}  // namespace partnerledger::ctl

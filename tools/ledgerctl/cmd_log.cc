// The log subcommands: append, read, tail, digest, verify, export.
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <random>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "ledger/ledger_internal.h"
#include "ledgerctl/commands.h"
#include "ledgerctl/format.h"
#include "ledgerctl/input.h"
#include "ledgerctl/offline.h"
#include "ledgerctl/progress.h"
#include "partnerledger/limits.h"
#include "server/translate.h"
#include "store/backup.h"
#include "store/verify.h"
#include "util/sha256.h"
#include "util/strings.h"
#include "util/uuid.h"

namespace partnerledger::ctl {
namespace {

// Events per ReadAll page when exporting or reading everything.
constexpr uint32_t kPage = limits::kReadPageMax;
// Positions per VerifyChain call, so the progress line moves and one call
// never holds a server thread for long.
constexpr uint64_t kVerifyChunk = 100'000;

std::string RandomUuid() {
  std::random_device rd;
  std::string raw(16, '\0');
  for (char& c : raw) c = static_cast<char>(rd() & 0xff);
  raw[6] = static_cast<char>((raw[6] & 0x0f) | 0x40);  // version 4
  raw[8] = static_cast<char>((raw[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return FormatUuid(raw);
}

v1::Filter FilterFrom(const Args& a) {
  v1::Filter f;
  for (const std::string& t : a.GetAll("type")) f.add_event_types(t);
  for (const std::string& p : a.GetAll("stream-prefix"))
    f.add_stream_prefixes(p);
  return f;
}

// Prints one event in the chosen format.
void PrintEvent(const Context& ctx, const v1::Event& e) {
  ctx.Print(
      absl::StrCat(ctx.json() ? EventJsonLine(e) : EventHumanLine(e), "\n"));
}

}  // namespace

namespace {

// One AppendEvents request and the input line it starts on.
using LineRequest = std::pair<int, v1::AppendEventsRequest>;

// --expected-revision / --expected-state into `req`. An exit code.
int SetExpected(const Context& ctx, v1::AppendEventsRequest* req) {
  const Args& a = ctx.args();
  if (a.Has("expected-revision")) {
    absl::StatusOr<uint64_t> r = a.GetUint("expected-revision", 0);
    if (!r.ok()) return ctx.Usage(r.status());
    req->set_expected_revision(*r);
  } else if (a.Has("expected-state")) {
    const std::string s = a.Get("expected-state");
    if (s == "any") {
      req->set_expected_state(v1::EXPECTED_STATE_ANY);
    } else if (s == "no-stream") {
      req->set_expected_state(v1::EXPECTED_STATE_NO_STREAM);
    } else if (s == "exists") {
      req->set_expected_state(v1::EXPECTED_STATE_EXISTS);
    } else {
      return ctx.Usage("--expected-state: any | no-stream | exists");
    }
  }
  return kExitOk;
}

// --stream: the input is ProposedEvents, one request to that stream. An
// exit code.
int ParseOneStreamRequest(const Context& ctx, const std::string& path,
                          const std::string& input,
                          std::vector<LineRequest>* requests) {
  auto events = ParseProposedEvents(input);
  if (!events.ok())
    return ctx.Usage(absl::StrCat(path, ": ", events.status().message()));
  if (events->size() > limits::kAppendEventsMax) {
    return ctx.Usage(absl::StrCat(path, ": ", events->size(),
                                  " events; one append carries at most ",
                                  limits::kAppendEventsMax));
  }
  v1::AppendEventsRequest req;
  req.set_stream(ctx.args().Get("stream"));
  if (int rc = SetExpected(ctx, &req); rc != kExitOk) return rc;
  for (auto& [line, e] : *events) *req.add_events() = std::move(e);
  requests->emplace_back(events->front().first, std::move(req));
  return kExitOk;
}

// The requests `input` holds: with --stream its events, else one
// AppendEventsRequest per line. An exit code.
int ParseAppendInput(const Context& ctx, const std::string& path,
                     const std::string& input,
                     std::vector<LineRequest>* requests) {
  if (ctx.args().Has("stream")) {
    return ParseOneStreamRequest(ctx, path, input, requests);
  }
  auto parsed = ParseAppendRequests(input);
  if (!parsed.ok())
    return ctx.Usage(absl::StrCat(path, ": ", parsed.status().message()));
  *requests = *std::move(parsed);
  return kExitOk;
}

// --generate-ids: a random UUID for each event without an id.
void GenerateMissingIds(std::vector<LineRequest>* requests) {
  for (auto& [line, req] : *requests) {
    for (v1::ProposedEvent& e : *req.mutable_events()) {
      if (e.event_id().empty()) e.set_event_id(RandomUuid());
    }
  }
}

// What the appends did, for the summary line.
struct AppendTally {
  uint64_t appended = 0;
  uint64_t replayed = 0;
  uint64_t derived = 0;
  uint64_t commit = 0;
};

// Counts and (as a table) prints one answered request.
void TallyAppended(const Context& ctx, const v1::AppendEventsResponse& resp,
                   AppendTally* tally) {
  tally->commit = std::max(tally->commit, resp.commit_position());
  if (ctx.json()) {
    ctx.Print(absl::StrCat(ProtoJson(resp), "\n"));
  }
  for (const v1::AppendedEvent& e : resp.events()) {
    const char* what = resp.replayed() ? "replayed"
                       : e.derived()   ? "derived "
                                       : "appended";
    if (resp.replayed()) {
      ++tally->replayed;
    } else if (e.derived()) {
      ++tally->derived;
    } else {
      ++tally->appended;
    }
    if (!ctx.json()) {
      ctx.Print(absl::StrCat(what, "  #", e.position(), "  ", e.stream(), "@",
                             e.revision(), "  ", e.type(), "\n"));
    }
  }
}

}  // namespace

int RunAppend(Context& ctx) {
  const Args& a = ctx.args();
  if (a.positionals().size() > 1)
    return ctx.Usage("give at most one input FILE");
  const std::string path = a.positionals().empty() ? "-" : a.positionals()[0];
  if (!a.Has("stream") &&
      (a.Has("expected-revision") || a.Has("expected-state"))) {
    return ctx.Usage("--expected-revision/--expected-state need --stream");
  }
  if (a.Has("expected-revision") && a.Has("expected-state")) {
    return ctx.Usage("give --expected-revision or --expected-state, not both");
  }
  absl::StatusOr<std::string> input = ReadInput(path);
  if (!input.ok()) return ctx.FailLocal(input.status(), "input");
  std::vector<LineRequest> requests;
  if (int rc = ParseAppendInput(ctx, path, *input, &requests); rc != kExitOk) {
    return rc;
  }
  if (a.Has("generate-ids")) GenerateMissingIds(&requests);

  auto stub = ctx.events();
  AppendTally tally;
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& [line, req] = requests[i];
    v1::AppendEventsResponse resp;
    auto call = std::make_unique<grpc::ClientContext>();
    ctx.SetDeadline(call.get());
    grpc::Status s = stub->AppendEvents(call.get(), req, &resp);
    // A replica that does not lead names the leader: retry there.
    while (!s.ok() && ctx.FollowLeader(s, *call)) {
      stub = ctx.events();
      call = std::make_unique<grpc::ClientContext>();
      ctx.SetDeadline(call.get());
      s = stub->AppendEvents(call.get(), req, &resp);
    }
    if (!s.ok()) {
      return ctx.FailRpc(s, absl::StrCat("request ", i + 1, " of ",
                                         requests.size(), " (", path, " line ",
                                         line, ", stream ", req.stream(), ")"));
    }
    TallyAppended(ctx, resp, &tally);
  }
  if (!ctx.json()) {
    ctx.Print(absl::StrCat(
        requests.size(), requests.size() == 1 ? " request: " : " requests: ",
        tally.appended, " appended, ", tally.derived, " derived, ",
        tally.replayed, " replayed; commit position ", tally.commit, "\n"));
  }
  return kExitOk;
}

namespace {

// How many events `read` may still print: at most --max (0: no limit), a
// page of at most kPage at a time.
struct ReadLimit {
  uint64_t max = 0;
  uint64_t printed = 0;

  bool more() const { return max == 0 || printed < max; }
  uint32_t page_size() const {
    const uint64_t left = max == 0 ? kPage : max - printed;
    return static_cast<uint32_t>(std::min<uint64_t>(left, kPage));
  }
};

v1::ReadDirection DirectionFrom(const Args& a) {
  return a.Has("backward") ? v1::READ_DIRECTION_BACKWARD
                           : v1::READ_DIRECTION_FORWARD;
}

// read STREAM: ReadStream pages from revision `from` (backward without
// --from: from the stream's end).
int ReadOneStream(Context& ctx, uint64_t from, ReadLimit* limit) {
  const Args& a = ctx.args();
  auto stub = ctx.events();
  v1::ReadStreamRequest req;
  req.set_stream(a.positionals()[0]);
  req.set_from_revision(from);
  req.set_from_end(a.Has("backward") && !a.Has("from"));
  req.set_direction(DirectionFrom(a));
  while (limit->more()) {
    req.set_max_count(limit->page_size());
    v1::ReadStreamResponse resp;
    grpc::ClientContext call;
    ctx.SetDeadline(&call);
    grpc::Status s = stub->ReadStream(&call, req, &resp);
    if (!s.ok())
      return ctx.FailRpc(s, absl::StrCat("read stream ", req.stream()));
    for (const v1::Event& e : resp.events()) {
      PrintEvent(ctx, e);
      ++limit->printed;
    }
    if (resp.end_of_stream() || resp.events_size() == 0) break;
    req.set_from_revision(resp.next_revision());
    req.set_from_end(false);
  }
  return kExitOk;
}

// read: ReadAll pages of the log from position `from` (0: the start, or
// backward the end), filtered by --type / --stream-prefix.
int ReadTheLog(Context& ctx, uint64_t from, ReadLimit* limit) {
  const Args& a = ctx.args();
  const bool backward = a.Has("backward");
  auto stub = ctx.events();
  v1::ReadAllRequest req;
  req.set_from_position(from);
  req.set_direction(DirectionFrom(a));
  *req.mutable_filter() = FilterFrom(a);
  while (limit->more()) {
    req.set_max_count(limit->page_size());
    v1::ReadAllResponse resp;
    grpc::ClientContext call;
    ctx.SetDeadline(&call);
    grpc::Status s = stub->ReadAll(&call, req, &resp);
    if (!s.ok()) return ctx.FailRpc(s, "read");
    for (const v1::Event& e : resp.events()) {
      PrintEvent(ctx, e);
      ++limit->printed;
    }
    // A backward read that reached position 1 must not restart from the
    // end (from_position 0 means the end).
    if (resp.end_of_log() || resp.next_position() == req.from_position() ||
        (backward && resp.next_position() == 0)) {
      break;
    }
    req.set_from_position(resp.next_position());
  }
  return kExitOk;
}

}  // namespace

int RunRead(Context& ctx) {
  const Args& a = ctx.args();
  absl::StatusOr<uint64_t> from = a.GetUint("from", 0);
  if (!from.ok()) return ctx.Usage(from.status());
  absl::StatusOr<uint64_t> max = a.GetUint("max", 0);
  if (!max.ok()) return ctx.Usage(max.status());
  if (a.positionals().size() > 1) return ctx.Usage("give at most one STREAM");
  ReadLimit limit;
  limit.max = *max;
  if (a.positionals().empty()) return ReadTheLog(ctx, *from, &limit);
  if (a.Has("type") || a.Has("stream-prefix")) {
    return ctx.Usage(
        "--type/--stream-prefix filter the global log, not a STREAM");
  }
  return ReadOneStream(ctx, *from, &limit);
}

namespace {

// Cancels `call` on SIGINT/SIGTERM. The signals are blocked in every
// thread (gRPC's included, which inherit the mask) and taken here with
// sigtimedwait, so no async-signal-unsafe code runs in a handler.
class CancelOnSignal {
 public:
  // REQUIRES: constructed before any gRPC channel exists (thread masks).
  CancelOnSignal() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  ~CancelOnSignal() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  void Watch(grpc::ClientContext* call) {
    thread_ = std::thread([this, call] {
      const timespec tick{0, 100'000'000};
      while (!stop_.load()) {
        if (sigtimedwait(&set_, nullptr, &tick) > 0) {
          signalled_.store(true);
          call->TryCancel();
          return;
        }
      }
    });
  }
  bool signalled() const { return signalled_.load(); }

 private:
  sigset_t set_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> signalled_{false};
  std::thread thread_;
};

}  // namespace

int RunTail(Context& ctx) {
  const Args& a = ctx.args();
  absl::StatusOr<uint64_t> from = a.GetUint("from", 0);
  if (!from.ok()) return ctx.Usage(from.status());
  absl::StatusOr<uint64_t> max = a.GetUint("max", 0);
  if (!max.ok()) return ctx.Usage(max.status());
  if (a.Has("from") && *from == 0)
    return ctx.Usage("--from: positions start at 1");
  CancelOnSignal cancel;
  auto stub = ctx.events();
  v1::SubscribeRequest req;
  if (a.Has("from")) {
    req.set_from_position(*from);
  } else {
    v1::GetDigestResponse head;
    grpc::ClientContext call;
    ctx.SetDeadline(&call);
    grpc::Status s = stub->GetDigest(&call, v1::GetDigestRequest(), &head);
    if (!s.ok()) return ctx.FailRpc(s, "tail (reading the head)");
    req.set_from_position(head.digest().position() + 1);
  }
  *req.mutable_filter() = FilterFrom(a);
  grpc::ClientContext call;
  ctx.Authorize(&call);
  cancel.Watch(&call);
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
      stub->Subscribe(&call, req);
  v1::SubscribeResponse msg;
  uint64_t printed = 0;
  bool stopped_by_us = false;
  while (reader->Read(&msg)) {
    if (msg.has_event()) {
      PrintEvent(ctx, msg.event());
      std::fflush(stdout);
      if (*max != 0 && ++printed >= *max) {
        stopped_by_us = true;
        break;
      }
    } else if (msg.has_caught_up()) {
      if (!ctx.json()) {
        std::fprintf(
            stderr, "-- caught up at position %llu --\n",
            static_cast<unsigned long long>(msg.caught_up().position()));
      }
      if (a.Has("until-caught-up")) {
        stopped_by_us = true;
        break;
      }
    }
  }
  if (stopped_by_us) call.TryCancel();
  grpc::Status s = reader->Finish();
  if (stopped_by_us || cancel.signalled()) return kExitOk;
  if (!s.ok()) return ctx.FailRpc(s, "tail");
  return kExitOk;
}

int RunDigest(Context& ctx) {
  const Args& a = ctx.args();
  absl::StatusOr<uint64_t> at = a.GetUint("at-position", 0);
  if (!at.ok()) return ctx.Usage(at.status());
  uint64_t position = 0;
  std::string hash;
  if (a.Has("data-dir")) {
    absl::StatusOr<std::unique_ptr<store::Store>> st =
        OpenReadOnly(a.Get("data-dir"));
    if (!st.ok()) return ctx.FailLocal(st.status(), "open data directory");
    absl::StatusOr<store::Head> head = (*st)->ReadHead();
    if (!head.ok()) return ctx.FailLocal(head.status(), "read head");
    if (*at == 0 || *at == head->position()) {
      position = head->position();
      hash = head->hash();
    } else {
      auto e = (*st)->ReadEvent(*at);
      if (!e.ok()) return ctx.FailLocal(e.status(), "read event");
      if (!e->has_value() || *at > head->position()) {
        return ctx.Fail(kExitNotFound,
                        absl::StrCat("no event at position ", *at));
      }
      position = *at;
      hash = (**e).hash();
    }
  } else {
    auto stub = ctx.events();
    v1::GetDigestRequest req;
    req.set_at_position(*at);
    v1::GetDigestResponse resp;
    grpc::ClientContext call;
    ctx.SetDeadline(&call);
    grpc::Status s = stub->GetDigest(&call, req, &resp);
    if (!s.ok()) return ctx.FailRpc(s, "digest");
    position = resp.digest().position();
    hash = resp.digest().hash();
  }
  const std::string json = DigestJson(position, hash) + "\n";
  if (a.Has("out")) {
    if (absl::Status s = WriteNewFile(a.Get("out"), json); !s.ok()) {
      return ctx.FailLocal(s, "digest --out");
    }
  }
  ctx.Print(json);
  return kExitOk;
}

namespace {

// Prints a verification report; returns the exit code.
int ReportVerify(const Context& ctx, const v1::VerifyChainResponse& r,
                 const std::optional<std::pair<uint64_t, std::string>>& digest,
                 const std::string& where) {
  if (ctx.json()) {
    ctx.Print(absl::StrCat(ProtoJson(r), "\n"));
  } else if (r.ok()) {
    std::string line =
        absl::StrCat("OK: ", where, ": hash chain verified through position ",
                     r.verified_through(), " (",
                     FormatCount(r.events_checked()), " events checked)");
    if (digest.has_value()) {
      absl::StrAppend(&line, "; the log extends the saved digest at position ",
                      digest->first);
    }
    ctx.Print(line + "\n");
  } else {
    // Position 0 with a message: a problem of storage no one event owns
    // (a corrupt block of an index), or the genesis digest.
    const std::string at =
        r.first_bad_position() == 0 && !r.message().empty()
            ? ""
            : absl::StrCat("first bad position ", r.first_bad_position(), ": ");
    ctx.Print(absl::StrCat("FAILED: ", where, ": ", at, r.message(),
                           "\n(verified good through position ",
                           r.verified_through(), ")\n"));
  }
  return r.ok() ? kExitOk : kExitVerification;
}

// A verification that could not complete because what it reads is
// corrupt: reported like a broken chain ("FAILED: ...", exit 4); any other
// error is a local or RPC failure with its own exit code.
int ReportUnverifiable(const Context& ctx, const std::string& where,
                       std::string_view message) {
  v1::VerifyChainResponse r;
  r.set_ok(false);
  r.set_message(std::string(message));
  if (ctx.json()) {
    ctx.Print(absl::StrCat(ProtoJson(r), "\n"));
  } else {
    ctx.Print(Cat("FAILED: ", where, ": ", message, "\n"));
  }
  return kExitVerification;
}

// An offline check's result as the RPC's answer, to report alike.
v1::VerifyChainResponse ToResponse(const store::ChainCheck& c) {
  v1::VerifyChainResponse r;
  r.set_ok(c.ok);
  r.set_verified_through(c.verified_through);
  r.set_first_bad_position(c.first_bad_position);
  r.set_message(c.message);
  r.set_events_checked(c.events_checked);
  return r;
}

// verify --backup-dir: checksums, restore into scratch space, chain.
int VerifyBackupDir(
    Context& ctx,
    const std::optional<std::pair<uint64_t, std::string>>& digest) {
  const Args& a = ctx.args();
  const std::string dir = a.Get("backup-dir");
  absl::StatusOr<uint64_t> id = a.GetUint("id", 0);
  if (!id.ok() || *id > UINT32_MAX) {
    return ctx.Usage("--id: expected a backup id");
  }
  std::string scratch =
      (std::filesystem::temp_directory_path() / "ledgerctl-verify-XXXXXX")
          .string();
  if (::mkdtemp(scratch.data()) == nullptr) {
    return ctx.FailLocal(absl::UnavailableError("cannot create a temporary "
                                                "directory"),
                         "verify");
  }
  absl::StatusOr<store::BackupCheck> c = store::VerifyBackup(
      dir, static_cast<uint32_t>(*id), scratch + "/restore");
  std::error_code ec;
  std::filesystem::remove_all(scratch, ec);
  const std::string where =
      absl::StrCat("backup ", dir,
                   c.ok() ? absl::StrCat(" (id ", c->info.backup_id, ")") : "");
  if (!c.ok()) {
    if (c.status().code() == absl::StatusCode::kDataLoss) {
      return ReportUnverifiable(ctx, where, StdView(c.status().message()));
    }
    return ctx.FailLocal(c.status(), "verify");
  }
  const v1::VerifyChainResponse r = ToResponse(c->chain);
  if (r.ok() && digest.has_value() &&
      (digest->first != c->info.position || digest->second != c->info.hash)) {
    return ReportUnverifiable(
        ctx, where,
        absl::StrCat("the backup's head (position ", c->info.position,
                     ") is not the saved digest (position ", digest->first,
                     ")"));
  }
  return ReportVerify(ctx, r, digest, where);
}

// verify --data-dir: the chain, the tree and every column family of a
// data directory, read-only.
int VerifyDataDir(
    Context& ctx, uint64_t from, uint64_t to,
    const std::optional<std::pair<uint64_t, std::string>>& digest) {
  const std::string dir = ctx.args().Get("data-dir");
  const std::string where = absl::StrCat("data directory ", dir);
  auto failed = [&](const absl::Status& s, const char* what) {
    return s.code() == absl::StatusCode::kDataLoss
               ? ReportUnverifiable(ctx, where, StdView(s.message()))
               : ctx.FailLocal(s, what);
  };
  absl::StatusOr<std::unique_ptr<store::Store>> st = OpenReadOnly(dir);
  if (!st.ok()) return failed(st.status(), "open data directory");
  // A head that does not read is VerifyChain's finding to report (it
  // names the column family).
  absl::StatusOr<store::Head> head = (*st)->ReadHead();
  if (!head.ok() && !absl::IsDataLoss(head.status())) {
    return failed(head.status(), "read head");
  }
  Progress progress("verify", to != 0 ? to : head.ok() ? head->position() : 0);
  absl::StatusOr<store::ChainCheck> c = store::VerifyChain(
      **st, from, to, digest, [&](uint64_t p) { progress.Update(p); });
  progress.Finish();
  if (!c.ok()) return failed(c.status(), "verify");
  return ReportVerify(ctx, ToResponse(*c), digest, where);
}

// verify against the server, in chunks so progress shows and no call runs
// for long. Each chunk links to the hash before it (the server reads it),
// and the last one runs to the head (to = 0) so the head record is checked
// too.
int VerifyOnline(
    Context& ctx, uint64_t from, uint64_t to,
    const std::optional<std::pair<uint64_t, std::string>>& digest) {
  const std::string where =
      absl::StrCat("server ", ctx.args().Get("server", kDefaultServer));
  auto stub = ctx.events();
  v1::GetDigestResponse head;
  {
    grpc::ClientContext call;
    ctx.SetDeadline(&call);
    grpc::Status s = stub->GetDigest(&call, v1::GetDigestRequest(), &head);
    if (!s.ok()) return ctx.FailRpc(s, "verify (reading the head)");
  }
  const uint64_t first = from == 0 ? 1 : from;
  const uint64_t last = to == 0 ? head.digest().position() : to;
  Progress progress("verify", last);
  v1::VerifyChainResponse total;
  total.set_ok(true);
  uint64_t chunk_from = first;
  for (;;) {
    const bool final_chunk =
        last < chunk_from || last - chunk_from < kVerifyChunk;
    v1::VerifyChainRequest req;
    req.set_from_position(chunk_from);
    req.set_to_position(final_chunk ? to : chunk_from + kVerifyChunk - 1);
    if (final_chunk && digest.has_value()) {
      req.mutable_expected()->set_position(digest->first);
      req.mutable_expected()->set_hash(digest->second);
    }
    v1::VerifyChainResponse r;
    grpc::ClientContext call;
    ctx.SetDeadline(&call, 600);
    grpc::Status s = stub->VerifyChain(&call, req, &r);
    if (!s.ok()) {
      progress.Finish();
      if (s.error_code() == grpc::StatusCode::DATA_LOSS) {
        return ReportUnverifiable(ctx, where, s.error_message());
      }
      return ctx.FailRpc(s, "verify");
    }
    total.set_events_checked(total.events_checked() + r.events_checked());
    total.set_verified_through(r.verified_through());
    if (!r.ok()) {
      total.set_ok(false);
      total.set_first_bad_position(r.first_bad_position());
      total.set_message(r.message());
      break;
    }
    progress.Update(r.verified_through());
    if (final_chunk) break;
    chunk_from += kVerifyChunk;
  }
  progress.Finish();
  return ReportVerify(ctx, total, digest, where);
}

}  // namespace

int RunVerify(Context& ctx) {
  const Args& a = ctx.args();
  absl::StatusOr<uint64_t> from = a.GetUint("from", 0);
  if (!from.ok()) return ctx.Usage(from.status());
  absl::StatusOr<uint64_t> to = a.GetUint("to", 0);
  if (!to.ok()) return ctx.Usage(to.status());
  std::optional<std::pair<uint64_t, std::string>> digest;
  if (a.Has("digest")) {
    absl::StatusOr<std::pair<uint64_t, std::string>> d =
        ReadDigestFile(a.Get("digest"));
    if (!d.ok()) return ctx.FailLocal(d.status(), "digest file");
    digest = *d;
  }
  if (a.Has("backup-dir")) {
    if (a.Has("data-dir") || a.Has("from") || a.Has("to")) {
      return ctx.Usage(
          "--backup-dir verifies a whole backup: no --data-dir, "
          "--from or --to");
    }
    return VerifyBackupDir(ctx, digest);
  }
  if (a.Has("data-dir")) return VerifyDataDir(ctx, *from, *to, digest);
  return VerifyOnline(ctx, *from, *to, digest);
}

namespace {

// Where export writes: stdout, or the --out file, as JSON lines or CSV
// (with a header line).
class ExportSink {
 public:
  ExportSink(FILE* out, bool csv) : out_(out), csv_(csv) {
    if (csv_) Write(CsvLine(EventCsvHeader()) + "\n");
  }

  void Emit(const v1::Event& e) {
    Write(csv_ ? CsvLine(EventCsvFields(e)) + "\n" : EventJsonLine(e) + "\n");
  }

  // Closes the file (flushes stdout). kExitIo when that or any write
  // failed. Call once.
  int Close() {
    const bool write_failed = std::ferror(out_) != 0;
    if (out_ != stdout ? std::fclose(out_) != 0 : std::fflush(out_) != 0)
      return kExitIo;
    return write_failed ? kExitIo : kExitOk;
  }

 private:
  void Write(const std::string& s) { std::fwrite(s.data(), 1, s.size(), out_); }

  FILE* const out_;
  const bool csv_;
};

// export --data-dir: events from..to (0: the head) of a data directory,
// counted in *exported. An exit code; on failure the sink is closed.
int ExportDataDir(Context& ctx, uint64_t from, uint64_t to, ExportSink* sink,
                  uint64_t* exported) {
  absl::StatusOr<std::unique_ptr<store::Store>> st =
      OpenReadOnly(ctx.args().Get("data-dir"));
  if (!st.ok()) {
    sink->Close();
    return ctx.FailLocal(st.status(), "open data directory");
  }
  absl::StatusOr<store::Head> head = (*st)->ReadHead();
  if (!head.ok()) {
    sink->Close();
    return ctx.FailLocal(head.status(), "read head");
  }
  const uint64_t last =
      to == 0 || to > head->position() ? head->position() : to;
  Progress progress("export", last >= from ? last - from + 1 : 0);
  absl::Status failure;
  absl::Status scan =
      (*st)->ScanEvents(from, true, [&](store::StoredEvent&& se) {
        if (se.position() > last) return false;
        v1::Event e;
        failure = server::ToWire(ledger::ToRecordedEvent(std::move(se)), &e);
        if (!failure.ok()) return false;
        sink->Emit(e);
        progress.Update(++*exported);
        return true;
      });
  progress.Finish();
  if (scan.ok()) scan = failure;
  if (!scan.ok()) {
    sink->Close();
    return ctx.FailLocal(scan, "export");
  }
  return kExitOk;
}

// export from the server: ReadAll pages from..to (0: the head), counted in
// *exported. An exit code; on failure the sink is closed.
int ExportOnline(Context& ctx, uint64_t from, uint64_t to, ExportSink* sink,
                 uint64_t* exported) {
  auto stub = ctx.events();
  v1::ReadAllRequest req;
  req.set_from_position(from);
  req.set_max_count(kPage);
  Progress progress("export", 0);
  for (;;) {
    v1::ReadAllResponse resp;
    grpc::ClientContext call;
    ctx.SetDeadline(&call);
    grpc::Status s = stub->ReadAll(&call, req, &resp);
    if (!s.ok()) {
      progress.Finish();
      sink->Close();
      return ctx.FailRpc(s, "export");
    }
    const uint64_t last =
        to == 0 || to > resp.head_position() ? resp.head_position() : to;
    progress.set_total(last >= from ? last - from + 1 : 0);
    bool done = resp.end_of_log();
    for (const v1::Event& e : resp.events()) {
      if (e.position() > last) {
        done = true;
        break;
      }
      sink->Emit(e);
      progress.Update(++*exported);
    }
    if (done || resp.events_size() == 0) break;
    req.set_from_position(resp.next_position());
  }
  progress.Finish();
  return kExitOk;
}

}  // namespace

int RunExport(Context& ctx) {
  const Args& a = ctx.args();
  absl::StatusOr<uint64_t> from = a.GetUint("from", 1);
  if (!from.ok()) return ctx.Usage(from.status());
  absl::StatusOr<uint64_t> to = a.GetUint("to", 0);
  if (!to.ok()) return ctx.Usage(to.status());
  if (*from == 0) *from = 1;
  FILE* out = stdout;
  if (a.Has("out")) {
    out = std::fopen(a.Get("out").c_str(), "wb");
    if (out == nullptr) {
      return ctx.FailLocal(
          absl::UnavailableError(absl::StrCat("cannot write ", a.Get("out"))),
          "export");
    }
  }
  ExportSink sink(out, ctx.csv());
  uint64_t exported = 0;
  const int rc = a.Has("data-dir")
                     ? ExportDataDir(ctx, *from, *to, &sink, &exported)
                     : ExportOnline(ctx, *from, *to, &sink, &exported);
  if (rc != kExitOk) return rc;
  if (sink.Close() != kExitOk) {
    return ctx.FailLocal(absl::UnavailableError("write failed"), "export");
  }
  if (a.Has("out")) {
    std::fprintf(stderr, "exported %llu events to %s\n",
                 static_cast<unsigned long long>(exported),
                 a.Get("out").c_str());
  }
  return kExitOk;
}

}  // namespace partnerledger::ctl

#include "ledgerctl/commands.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "partnerledger/limits.h"
#include "partnerledger/replication.h"
#include "util/host_port.h"
#include "util/version.h"

namespace partnerledger::ctl {
namespace {

const std::vector<OptionSpec> kAsOf = {
    {"as-of-position", "N",
     "answer as of log position N (clamped to the head)"},
    {"as-of-time", "RFC3339",
     "answer as of the last event RECORDED (the server's recorded_at, not "
     "occurred_at or booked_on) at or before this time, e.g. "
     "2027-02-20T00:00:00Z"},
};

std::vector<OptionSpec> With(std::vector<OptionSpec> a,
                             const std::vector<OptionSpec>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Knowledge time (kAsOf) and business date together.
const std::vector<OptionSpec> kAsOfWithDate = With(
    kAsOf,
    {{"as-of-date", "YYYY-MM-DD",
      "business date: only money dated on or before it counts (accruals by "
      "booked_on, reversals and settlements by their statement date); "
      "combines with --as-of-position / --as-of-time"}});

const OptionSpec kCsv = {"csv", "", "CSV instead of a table"};
const OptionSpec kWithProof = {
    "with-proof", "FILE",
    "also save the answer with the signed checkpoint of the log it was "
    "computed from (for `replay --checkpoint=FILE`)"};
const OptionSpec kDataDir = {
    "data-dir", "DIR",
    "work OFFLINE on this RocksDB data directory (opened read-only: a stopped "
    "server's directory or a backup copy) instead of asking --server"};

std::vector<Command> BuildCommands() {
  return {
      {"append",
       "append [FILE|-] [options]",
       "append events from JSON or JSON Lines (a file or stdin)",
       "Without --stream, the input is one "
       "partnerledger.v1.AppendEventsRequest\n"
       "as JSON, or JSON Lines with one AppendEventsRequest per line; each "
       "request\n"
       "is sent as one atomic AppendEvents call, in order, stopping at the "
       "first\n"
       "that fails (earlier ones stay appended). With --stream, every line is "
       "one\n"
       "partnerledger.v1.ProposedEvent and all of them go in ONE atomic "
       "request to\n"
       "that stream. Lines starting with '#' and blank lines are ignored. "
       "Field\n"
       "names follow protobuf's JSON mapping (eventId or event_id).\n"
       "Amounts: {\"currency\":\"EUR\",\"amountMinor\":\"1200000\"} or, in "
       "major units,\n"
       "{\"currency\":\"EUR\",\"amount\":\"12000.00\"} with exactly the "
       "currency's decimals;\n"
       "exponent forms (1.2e6) are refused.\n"
       "Resending the same input is safe: identical events are reported as\n"
       "replayed at their original positions.",
       {{"stream", "STREAM", "input lines are ProposedEvents for this stream"},
        {"expected-revision", "N", "with --stream: the stream's last revision"},
        {"expected-state", "STATE", "with --stream: any | no-stream | exists"},
        {"generate-ids", "", "give events without an eventId a random UUID"}},
       RunAppend},
      {"read",
       "read [STREAM] [options]",
       "read the log (or one stream) page by page",
       "Without STREAM, reads the global log (ReadAll) from --from (default: "
       "the\n"
       "start; with --backward: the end), optionally filtered. With STREAM, "
       "reads\n"
       "that stream (ReadStream) from revision --from.",
       {{"from", "N", "first position (or revision with STREAM), inclusive"},
        {"backward", "", "newest first"},
        {"max", "N", "print at most N events (default: all)"},
        {"type", "TYPE", "only this event type (repeatable)"},
        {"stream-prefix", "PREFIX",
         "only streams starting with PREFIX (repeatable)"}},
       RunRead},
      {"tail",
       "tail [options]",
       "print events as they are appended (Subscribe), until Ctrl-C",
       "Starts after the current head (only new events) unless --from is "
       "given,\n"
       "in which case it first catches up from that position. A line\n"
       "\"-- caught up at position N --\" goes to stderr when the catch-up "
       "ends.",
       {{"from", "N", "catch up from position N (1: the whole log)"},
        {"type", "TYPE", "only this event type (repeatable)"},
        {"stream-prefix", "PREFIX",
         "only streams starting with PREFIX (repeatable)"},
        {"until-caught-up", "",
         "stop once caught up instead of waiting for more"},
        {"max", "N", "stop after N events"}},
       RunTail},
      {"obligations", "obligations [options]",
       "commissions and pass-throughs owed, per payer/payee/currency, and "
       "netted",
       "Columns are in major units of each row's currency.",
       With(
           {{"partner", "ID", "only obligations this partner pays or receives"},
            {"currency", "CODE", "only this currency"},
            {"kind", "KIND", "commission | pass-through"},
            kCsv,
            kWithProof},
           kAsOfWithDate),
       RunObligations},
      {"referral-balance", "referral-balance PARTNER_A PARTNER_B [options]",
       "what each partner of a pair brought the other", "", kAsOfWithDate,
       RunReferralBalance},
      {"statement",
       "statement --payer=ID --payee=ID --currency=CODE --period=YYYY-MM",
       "opening, movements, closing and lines of one payer -> payee period",
       "With --csv: one row per line, preceded by an \"opening\" row and "
       "followed\n"
       "by a \"closing\" row. With --json: one object naming payer, payee,\n"
       "currency and period, amounts in signed minor units (reversedMinor and\n"
       "settledMinor negative: opening + accrued + reversed + settled = "
       "closing),\n"
       "each line with its signedAmountMinor.",
       With({{"payer", "ID", "who pays"},
             {"payee", "ID", "who is paid"},
             {"currency", "CODE", "ISO 4217 code"},
             {"period", "YYYY-MM", "the month (by booked_on for accruals)"},
             kCsv,
             kWithProof},
            kAsOfWithDate),
       RunStatement},
      {"deal", "deal DEAL_ID [options]",
       "one deal: roles, margin, revenue lines", "", kAsOfWithDate, RunDeal},
      {"conflicts", "conflicts [options]",
       "conflicts, open and resolved, with age", "",
       With({{"agreement", "ID", "only this agreement"},
             {"partner", "ID", "only conflicts involving this partner"},
             {"status", "STATUS", "open | resolved"},
             kCsv},
            kAsOf),
       RunConflicts},
      {"health", "health PARTNER_A PARTNER_B [options]",
       "the partnership scorecard, one line per pillar", "", kAsOfWithDate,
       RunHealth},
      {"satisfaction", "satisfaction AGREEMENT_ID [options]",
       "customer and partner satisfaction per period", "", kAsOfWithDate,
       RunSatisfaction},
      {"digest",
       "digest [options]",
       "print (and save) the chain digest: position + SHA-256 as hex, JSON",
       "Keep the digest outside the system; `verify --digest FILE` later "
       "proves\n"
       "the log still extends it. Output: {\"position\":N,\"hash\":\"<64 "
       "hex>\"}.",
       {{"at-position", "N",
         "the digest at an earlier position (default: the head)"},
        {"out", "FILE",
         "also write the digest to FILE (which must not exist yet: a saved "
         "digest is never overwritten)"},
        kDataDir},
       RunDigest},
      {"verify",
       "verify [options]",
       "recompute the hash chain (online, or OFFLINE with --data-dir or "
       "--backup-dir)",
       "Online it calls VerifyChain on --server in chunks; with --data-dir it\n"
       "opens the RocksDB directory read-only and recomputes the chain "
       "itself,\n"
       "so it works on a stopped server's directory or on a copy of it. With\n"
       "--backup-dir (a directory written by `ledgerctl backup`) it checks "
       "every\n"
       "file's checksum, restores the backup into a temporary directory and\n"
       "verifies the chain there; --digest must then equal the backup's head.\n"
       "Prints one line: \"OK: <what>: ...\" (exit 0) or \"FAILED: <what>: "
       "...\"\n"
       "(exit 4: tampering, corruption, digest not extended). When the range\n"
       "runs to the head, every column family is checked too (block checksums\n"
       "of every SST file; every event indexed by stream and id, every index\n"
       "entry pointing at its event); a problem names its column family.",
       {{"from", "N", "first position (default 1)"},
        {"to", "N", "last position (default: the head)"},
        {"digest", "FILE",
         "a digest saved earlier that the log must still extend"},
        kDataDir,
        {"backup-dir", "DIR",
         "verify a backup directory OFFLINE (file checksums, then the chain)"},
        {"id", "N", "with --backup-dir: the backup id (default: the latest)"}},
       RunVerify},
      {"export",
       "export [options]",
       "the log as JSON Lines (every envelope field, hashes hex) or CSV",
       "Online it pages through ReadAll; with --data-dir it reads the "
       "directory\n"
       "offline. Both produce the same bytes for the same log.",
       {{"from", "N", "first position (default 1)"},
        {"to", "N", "last position (default: the head)"},
        {"out", "FILE", "write to FILE instead of stdout"},
        kCsv,
        kDataDir},
       RunExport},
      {"replay",
       "replay --data-dir=DIR (--to-position=N | --to-time=RFC3339) [options]",
       "recompute figures at a past point from the log alone (offline)",
       "Replays events 1..N of the data directory through the partnership "
       "rules\n"
       "into a scratch store in a temporary directory, then answers "
       "obligations\n"
       "(and, with --statement, a statement) from that scratch store: a past\n"
       "figure reproduced independently of the server's projections. It also\n"
       "compares the answer with the directory's stored projections as of N "
       "and\n"
       "exits 4 if they differ.",
       {kDataDir,
        {"checkpoint", "FILE",
         "re-derive the answer saved by --with-proof=FILE: check the log "
         "copy's root against its checkpoint, replay to it, compare"},
        {"key", "FILE",
         "with --checkpoint: the verifier key it must be signed "
         "with"},
        {"to-position", "N", "replay through position N"},
        {"to-time", "RFC3339",
         "replay through the last event recorded by then"},
        {"statement", "PAYER,PAYEE,CURRENCY,PERIOD",
         "also print this statement"},
        {"partner", "ID", "obligations: only this partner"},
        {"currency", "CODE", "obligations: only this currency"},
        {"kind", "KIND", "obligations: commission | pass-through"}},
       RunReplay},
      {"rebuild",
       "rebuild",
       "rebuild every projection on the server from the log and compare",
       "Calls RebuildProjections; exits 4 if the rebuilt projections differ "
       "from\n"
       "the live ones.",
       {},
       RunRebuild},
      {"backup",
       "backup NAME [--verify [--id=N]]",
       "take an online backup on the server, or verify one",
       "Calls AdminService.CreateBackup: an online, incremental RocksDB "
       "backup\n"
       "in directory NAME under the server's --backup_root, and prints its id\n"
       "and the digest (position, hash) it holds; keep that digest. With\n"
       "--verify, calls VerifyBackup (file checksums, then the hash chain of "
       "a\n"
       "restored copy) and exits 4 if the backup is damaged. Restoring is\n"
       "offline: ledgerd --restore_backup=DIR --data_dir=EMPTY_DIR.",
       {{"verify", "", "verify the backup instead of taking one"},
        {"id", "N", "with --verify: the backup id (default: the latest)"}},
       RunBackup},
      {"keygen",
       "keygen NAME --out=PREFIX",
       "make an Ed25519 key pair for signing checkpoints",
       "Writes PREFIX.key (the signing key, mode 0600: give it to ledgerd\n"
       "--signing_key) and PREFIX.pub (the verifier key: give it to "
       "auditors).\n"
       "Both are C2SP note keys (\"PRIVATE+KEY+NAME+HASH+KEY\" and\n"
       "\"NAME+HASH+KEY\"); NAME becomes the checkpoints' origin line, e.g.\n"
       "ledger.example.com/partnerledger.",
       {{"out", "PREFIX", "write PREFIX.key and PREFIX.pub"}},
       RunKeygen},
      {"checkpoint",
       "checkpoint [--size=N] [--out=FILE] [options]",
       "the signed tree head (C2SP checkpoint) at the head or at size N",
       "Prints the checkpoint note: origin, tree size, base64 root hash and,\n"
       "when ledgerd has a signing key, its signature line. Keep it outside\n"
       "the system; `prove` and `consistency` check against it later. With\n"
       "--data-dir it is computed offline (unsigned).",
       {{"size", "N", "the tree size (default: the head)"},
        {"out", "FILE", "also write the checkpoint to FILE"},
        kDataDir},
       RunCheckpoint},
      {"prove",
       "prove POSITION --checkpoint=FILE [--key=PUB] [options]",
       "fetch and verify an inclusion proof of one event",
       "Fetches the event at POSITION with its RFC 9162 audit path at the\n"
       "checkpoint's tree size (or builds it offline with --data-dir) and\n"
       "checks that it leads to the checkpoint's root. With --key the\n"
       "checkpoint's signature and origin are checked first. Exits 4 when\n"
       "anything does not verify.",
       {{"checkpoint", "FILE", "a checkpoint saved earlier"},
        {"key", "FILE",
         "the verifier key (from keygen) the checkpoint must be "
         "signed with"},
        kDataDir},
       RunProve},
      {"consistency",
       "consistency OLD NEW [--key=PUB] [options]",
       "verify that the log at NEW extends the log at OLD (two checkpoints)",
       "Fetches the RFC 9162 consistency proof between the two checkpoints'\n"
       "tree sizes (or builds it offline with --data-dir) and checks it\n"
       "against both roots: OLD's history was not rewritten. With --key both\n"
       "signatures are checked first. Exits 4 when anything does not verify.",
       {{"key", "FILE",
         "the verifier key both checkpoints must be signed "
         "with"},
        kDataDir},
       RunConsistency},
      {"verify-checkpoint",
       "verify-checkpoint FILE --key=PUB [--data-dir=DIR]",
       "check a checkpoint's signature and origin (and its root in a log copy)",
       "Checks the C2SP signed-note signature with the verifier key and that\n"
       "the origin is the key's name. With --data-dir also checks that the\n"
       "log copy has that root at that size. Exits 4 when it does not verify.",
       {{"key", "FILE", "the verifier key (from keygen)"}, kDataDir},
       RunVerifyCheckpoint},
  };
}

}  // namespace

int ExitCodeForRpc(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return kExitOk;
    case grpc::StatusCode::NOT_FOUND:
      return kExitNotFound;
    case grpc::StatusCode::DATA_LOSS:
      return kExitVerification;
    default:
      return kExitRpc;
  }
}

int ExitCodeForLocal(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kNotFound:
      return kExitNotFound;
    case absl::StatusCode::kDataLoss:
      return kExitVerification;
    case absl::StatusCode::kInvalidArgument:
      return kExitUsage;
    default:
      return kExitIo;
  }
}

const std::vector<Command>& Commands() {
  static const std::vector<Command>* commands =
      new std::vector<Command>(BuildCommands());
  return *commands;
}

const std::vector<OptionSpec>& GlobalOptions() {
  static const std::vector<OptionSpec>* options = new std::vector<OptionSpec>{
      {"server", "HOST:PORT",
       absl::StrCat("ledgerd address (default ", kDefaultServer, ")")},
      {"json", "", "machine-readable JSON (one object per line)"},
      {"timeout", "SECONDS",
       "deadline of each call (default 60; rebuild 3600)"},
      {"tls_ca", "FILE",
       "connect with TLS, trusting this CA certificate (PEM)"},
      {"tls_cert", "FILE", "client certificate (PEM) for mutual TLS"},
      {"tls_key", "FILE", "the client certificate's private key (PEM)"},
      {"token_file", "FILE",
       "bearer token for a server with --auth_config (default: $PL_TOKEN)"},
      {"help", "", "this help"},
  };
  return *options;
}

std::string MainHelp() {
  std::string out =
      "ledgerctl: the partnerledger CLI for people (finance, auditors, "
      "operators).\n"
      "\n"
      "Usage: ledgerctl [--server=HOST:PORT] COMMAND [options] [arguments]\n"
      "       ledgerctl COMMAND --help\n"
      "       ledgerctl --version   (version and the git commit it was built "
      "from)\n"
      "\nCommands:\n";
  size_t width = 0;
  for (const Command& c : Commands()) width = std::max(width, c.name.size());
  for (const Command& c : Commands()) {
    absl::StrAppend(&out, "  ", c.name,
                    std::string(width + 2 - c.name.size(), ' '), c.summary,
                    "\n");
  }
  absl::StrAppend(
      &out, "\nGlobal options (accepted by every command):\n",
      OptionsHelp(GlobalOptions()),
      "\nAmounts: tables print major units with thousands separators and the\n"
      "currency (\"22,000.00 EUR\"), CSV plain decimals (\"22000.00\"), JSON "
      "the\n"
      "wire's integer minor units (\"2200000\"). Never floating point.\n"
      "\nExit codes:\n"
      "  0  ok\n"
      "  2  usage error (unknown command or option, bad value, malformed JSON "
      "input)\n"
      "  3  not found (gRPC NOT_FOUND: unknown stream, deal, partner ...)\n"
      "  4  verification failure (tampering, digest not extended, "
      "rebuild/replay\n"
      "     differs, gRPC DATA_LOSS, corrupt data directory)\n"
      "  5  server/RPC error (any other gRPC code, e.g. UNAVAILABLE, ABORTED,\n"
      "     ALREADY_EXISTS, FAILED_PRECONDITION, INVALID_ARGUMENT)\n"
      "  6  local I/O error (a file or data directory cannot be read or "
      "written)\n");
  return out;
}

std::string CommandHelp(const Command& c) {
  std::string out =
      absl::StrCat("Usage: ledgerctl ", c.synopsis, "\n\n", c.summary, ".\n");
  if (!c.details.empty()) absl::StrAppend(&out, "\n", c.details, "\n");
  if (!c.options.empty()) {
    absl::StrAppend(&out, "\nOptions:\n", OptionsHelp(c.options));
  }
  absl::StrAppend(&out, "\nGlobal options:\n", OptionsHelp(GlobalOptions()),
                  "\nExit codes: 0 ok, 2 usage, 3 not found, 4 verification "
                  "failure, 5 server/RPC error, 6 local I/O error.\n");
  return out;
}

namespace {

// The whole file, or exits with kExitIo: a credential that cannot be read
// is a local error, and connecting without it would only hide that.
std::string ReadCredentialFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  if (!in || !(out << in.rdbuf())) {
    std::cerr << "ledgerctl: cannot read " << path << "\n";
    std::exit(kExitIo);
  }
  return out.str();
}

}  // namespace

std::shared_ptr<grpc::Channel> Context::channel() {
  if (channel_ == nullptr) {
    grpc::ChannelArguments a;
    a.SetMaxReceiveMessageSize(static_cast<int>(limits::kGrpcMessageBytesMax));
    a.SetMaxSendMessageSize(static_cast<int>(limits::kGrpcMessageBytesMax));
    std::shared_ptr<grpc::ChannelCredentials> creds =
        grpc::InsecureChannelCredentials();
    if (args_.Has("tls_ca")) {
      grpc::SslCredentialsOptions tls;
      tls.pem_root_certs = ReadCredentialFile(args_.Get("tls_ca", ""));
      if (args_.Has("tls_cert")) {
        tls.pem_cert_chain = ReadCredentialFile(args_.Get("tls_cert", ""));
        tls.pem_private_key = ReadCredentialFile(args_.Get("tls_key", ""));
      }
      creds = grpc::SslCredentials(tls);
    }
    channel_ = grpc::CreateCustomChannel(
        leader_.empty() ? args_.Get("server", kDefaultServer) : leader_, creds,
        a);
  }
  return channel_;
}

bool Context::FollowLeader(const grpc::Status& s,
                           const grpc::ClientContext& call) {
  // A few hops: leadership may move while we follow it, but not forever.
  constexpr int kLeaderRedirectsMax = 3;
  if (s.error_code() != grpc::StatusCode::UNAVAILABLE ||
      redirects_ >= kLeaderRedirectsMax) {
    return false;
  }
  const auto& trailers = call.GetServerTrailingMetadata();
  auto it = trailers.find(kLeaderTrailer);
  if (it == trailers.end() || it->second.empty()) return false;
  std::string leader(it->second.data(), it->second.size());
  const std::string current =
      leader_.empty() ? args_.Get("server", kDefaultServer) : leader_;
  if (leader == current) return false;
  leader_ = std::move(leader);
  channel_ = nullptr;
  ++redirects_;
  return true;
}

void Context::Authorize(grpc::ClientContext* c) const {
  std::string token;
  if (args_.Has("token_file")) {
    token = ReadCredentialFile(args_.Get("token_file", ""));
  } else if (const char* env = std::getenv("PL_TOKEN"); env != nullptr) {
    token = env;
  }
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) {
    token.pop_back();
  }
  if (!token.empty()) c->AddMetadata("authorization", "Bearer " + token);
}

std::unique_ptr<v1::EventStoreService::Stub> Context::events() {
  return v1::EventStoreService::NewStub(channel());
}

std::unique_ptr<v1::LedgerQueryService::Stub> Context::queries() {
  return v1::LedgerQueryService::NewStub(channel());
}

std::unique_ptr<v1::AdminService::Stub> Context::admin() {
  return v1::AdminService::NewStub(channel());
}

void Context::SetDeadline(grpc::ClientContext* c, int default_seconds) const {
  // Main() has checked --timeout is a positive integer.
  int64_t seconds = default_seconds;
  if (args_.Has("timeout") &&
      !absl::SimpleAtoi(args_.Get("timeout"), &seconds)) {
    seconds = default_seconds;
  }
  c->set_deadline(std::chrono::system_clock::now() +
                  std::chrono::seconds(seconds));
  Authorize(c);
}

void Context::Print(std::string_view text) const {
  std::fwrite(text.data(), 1, text.size(), stdout);
}

int Context::Fail(int code, std::string_view message) const {
  std::fflush(stdout);
  std::cerr << "ledgerctl " << command_.name << ": " << message << "\n";
  return code;
}

int Context::Usage(std::string_view message) const {
  std::fflush(stdout);
  std::cerr << "ledgerctl " << command_.name << ": " << message
            << "\n(see: ledgerctl " << command_.name << " --help)\n";
  return kExitUsage;
}

int Context::Usage(const absl::Status& s) const {
  return Usage(std::string_view(s.message().data(), s.message().size()));
}

namespace {
// gRPC and absl share the numbering of status codes.
std::string GrpcCodeName(grpc::StatusCode c) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(c));
}
}  // namespace

int Context::FailRpc(const grpc::Status& s, std::string_view what) const {
  std::string message =
      absl::StrCat(std::string(what), ": ", GrpcCodeName(s.error_code()), ": ",
                   s.error_message());
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
    absl::StrAppend(&message, " (is ledgerd running at ",
                    args_.Get("server", kDefaultServer), "?)");
  }
  return Fail(ExitCodeForRpc(s.error_code()), message);
}

int Context::FailLocal(const absl::Status& s, std::string_view what) const {
  return Fail(ExitCodeForLocal(s),
              absl::StrCat(std::string(what), ": ", s.ToString()));
}

namespace {

// The index of the command in `tokens`: the first token that is neither an
// option nor the value of a global option given as "--server ADDR"; -1 if
// there is none.
int CommandIndex(const std::vector<std::string>& tokens) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    if (t == "--server" || t == "--timeout" || t == "--tls_ca" ||
        t == "--tls_cert" || t == "--tls_key" || t == "--token_file") {
      ++i;
      continue;
    }
    if (t.size() > 1 && t[0] == '-') continue;
    return static_cast<int>(i);
  }
  return -1;
}

// No command given: --version, --help, or the help as a usage error.
int RunWithoutCommand(const std::vector<std::string>& tokens) {
  if (std::find(tokens.begin(), tokens.end(), "--version") != tokens.end()) {
    std::cout << VersionLine("ledgerctl") << "\n";
    return kExitOk;
  }
  if (std::any_of(tokens.begin(), tokens.end(), [](const std::string& t) {
        return t == "--help" || t == "-h";
      })) {
    std::cout << MainHelp();
    return kExitOk;
  }
  std::cerr << MainHelp();
  return kExitUsage;
}

// The global options' values that no command could use: a typo in the
// address ("host:50051x", no port) is a usage error, not a connection to
// some default port. kExitOk or kExitUsage (reported).
int CheckGlobalValues(const std::string& name, const Args& args) {
  if (const std::string server = args.Get("server", kDefaultServer);
      !absl::StartsWith(server, "unix:")) {
    if (absl::StatusOr<HostPort> hp = ParseHostPort("--server", server);
        !hp.ok() || hp->port == 0) {
      std::cerr << "ledgerctl " << name << ": "
                << (hp.ok() ? "--server: port 0 is not a server's port"
                            : std::string(hp.status().message()))
                << "\n(see: ledgerctl " << name << " --help)\n";
      return kExitUsage;
    }
  }
  if (absl::StatusOr<uint64_t> t = args.GetUint("timeout", 60);
      !t.ok() || *t == 0) {
    std::cerr << "ledgerctl " << name
              << ": --timeout: expected a number of seconds > 0\n";
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace

int Main(int argc, char** argv) {
  std::vector<std::string> tokens(argv + 1, argv + argc);
  const int command_index = CommandIndex(tokens);
  if (command_index < 0) return RunWithoutCommand(tokens);
  std::string name = tokens[command_index];
  tokens.erase(tokens.begin() + command_index);
  if (name == "help") {
    if (tokens.empty()) {
      std::cout << MainHelp();
      return kExitOk;
    }
    name = tokens[0];
    tokens = {"--help"};
  }
  auto it = std::find_if(Commands().begin(), Commands().end(),
                         [&](const Command& c) { return c.name == name; });
  if (it == Commands().end()) {
    std::cerr << "ledgerctl: unknown command \"" << name
              << "\" (see: ledgerctl --help)\n";
    return kExitUsage;
  }
  std::vector<OptionSpec> allowed = GlobalOptions();
  allowed.insert(allowed.end(), it->options.begin(), it->options.end());
  absl::StatusOr<Args> args = ParseArgs(allowed, tokens);
  if (!args.ok()) {
    std::cerr << "ledgerctl " << name << ": " << args.status().message()
              << "\n(see: ledgerctl " << name << " --help)\n";
    return kExitUsage;
  }
  if (args->Has("help")) {
    std::cout << CommandHelp(*it);
    return kExitOk;
  }
  if (int rc = CheckGlobalValues(name, *args); rc != kExitOk) return rc;
  Context ctx(*it, *std::move(args));
  const int code = it->run(ctx);
  std::fflush(stdout);
  return code;
}

}  // namespace partnerledger::ctl

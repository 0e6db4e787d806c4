// ledgerctl's subcommands, the context they run in, and the exit codes.
//
// Exit codes (also in `ledgerctl --help` and README.md):
//   0 ok
//   2 usage error: unknown command or option, bad value, input that is not
//     valid JSON for the expected message
//   3 not found: gRPC NOT_FOUND (unknown stream, deal, partner, position)
//   4 verification failure: the hash chain is broken, a saved digest is not
//     extended, a rebuild or replay differs from the stored projections,
//     gRPC DATA_LOSS or a corrupt data directory
//   5 server/RPC error: every other gRPC code (UNAVAILABLE when no server,
//     INVALID_ARGUMENT, ABORTED, ALREADY_EXISTS, FAILED_PRECONDITION, ...)
//   6 local I/O error: a file or data directory cannot be read or written
#ifndef PARTNERLEDGER_TOOLS_LEDGERCTL_COMMANDS_H_
#define PARTNERLEDGER_TOOLS_LEDGERCTL_COMMANDS_H_

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"
#include "ledgerctl/args.h"
#include "partnerledger/v1/admin.grpc.pb.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "partnerledger/v1/query.grpc.pb.h"

namespace partnerledger::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitNotFound = 3;
inline constexpr int kExitVerification = 4;
inline constexpr int kExitRpc = 5;
inline constexpr int kExitIo = 6;

inline constexpr char kDefaultServer[] = "127.0.0.1:50051";

// NOT_FOUND -> 3, DATA_LOSS -> 4, OK -> 0, every other code -> 5.
int ExitCodeForRpc(grpc::StatusCode code);
// For local (offline) work: NOT_FOUND -> 3, DATA_LOSS -> 4,
// INVALID_ARGUMENT -> 2, anything else (I/O) -> 6.
int ExitCodeForLocal(const absl::Status& s);

class Context;

struct Command {
  std::string name;
  std::string synopsis;  // after "ledgerctl ", e.g. "read [STREAM] [options]"
  std::string summary;   // one line for the command list
  std::string details;   // paragraphs for `COMMAND --help`
  std::vector<OptionSpec> options;
  int (*run)(Context& ctx);
};

// Every subcommand, in the order `ledgerctl --help` lists them.
const std::vector<Command>& Commands();
// Options every subcommand accepts (--server, --json, --timeout, --help).
const std::vector<OptionSpec>& GlobalOptions();
// The text of `ledgerctl --help` and of `ledgerctl COMMAND --help`.
std::string MainHelp();
std::string CommandHelp(const Command& c);

// What a running subcommand sees. Not thread-safe.
class Context {
 public:
  Context(const Command& command, Args args)
      : command_(command), args_(std::move(args)) {}

  const Command& command() const { return command_; }
  const Args& args() const { return args_; }
  bool json() const { return args_.Has("json"); }
  bool csv() const { return args_.Has("csv"); }

  // The channel to --server (or to where FollowLeader pointed), created on
  // first use.
  std::shared_ptr<grpc::Channel> channel();
  // A call refused UNAVAILABLE by a replica that does not lead names the
  // leader in the x-leader trailer: points the channel there and returns
  // true (a retry is safe: idempotency returns the original result). False
  // when the call names no leader other than the current server, or the
  // leader was followed kLeaderRedirectsMax times already.
  bool FollowLeader(const grpc::Status& s, const grpc::ClientContext& call);
  std::unique_ptr<v1::EventStoreService::Stub> events();
  std::unique_ptr<v1::LedgerQueryService::Stub> queries();
  std::unique_ptr<v1::AdminService::Stub> admin();
  // Adds the bearer token (--token_file or $PL_TOKEN), if any, to a call.
  void Authorize(grpc::ClientContext* c) const;
  // Applies --timeout (seconds; default 60) and Authorize to a unary call.
  void SetDeadline(grpc::ClientContext* c, int default_seconds = 60) const;

  // Writes to stdout.
  void Print(std::string_view text) const;

  // Each prints "ledgerctl COMMAND: message" on stderr and returns the exit
  // code to return from the command.
  int Fail(int code, std::string_view message) const;
  int Usage(std::string_view message) const;  // kExitUsage, with a hint
  int Usage(const absl::Status& s) const;     // Usage(s.message())
  int FailRpc(const grpc::Status& s, std::string_view what) const;
  int FailLocal(const absl::Status& s, std::string_view what) const;

 private:
  const Command& command_;
  const Args args_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string leader_;  // set by FollowLeader
  int redirects_ = 0;
};

// The whole program; main() calls it.
int Main(int argc, char** argv);

// Subcommands (cmd_*.cc).
int RunAppend(Context& ctx);
int RunRead(Context& ctx);
int RunTail(Context& ctx);
int RunDigest(Context& ctx);
int RunVerify(Context& ctx);
int RunExport(Context& ctx);
int RunObligations(Context& ctx);
int RunReferralBalance(Context& ctx);
int RunStatement(Context& ctx);
int RunDeal(Context& ctx);
int RunConflicts(Context& ctx);
int RunHealth(Context& ctx);
int RunSatisfaction(Context& ctx);
int RunRebuild(Context& ctx);
int RunBackup(Context& ctx);
int RunReplay(Context& ctx);
int RunKeygen(Context& ctx);
int RunCheckpoint(Context& ctx);
int RunProve(Context& ctx);
int RunConsistency(Context& ctx);
int RunVerifyCheckpoint(Context& ctx);
// `replay --checkpoint=FILE` (cmd_replay.cc).
int RunReplayPinned(Context& ctx);
// --with-proof=FILE of obligations and statement: fetches the checkpoint at
// the answer's as_of_position, checks that its root is the answer's, and
// writes both as a partnerledger.v1.PinnedAnswer (JSON). Returns an exit
// code (0: saved).
int SavePinnedAnswer(Context& ctx, const v1::GetObligationsRequest& req,
                     const v1::GetObligationsResponse& resp);
int SavePinnedAnswer(Context& ctx, const v1::GetStatementRequest& req,
                     const v1::GetStatementResponse& resp);

}  // namespace partnerledger::ctl

#endif  // PARTNERLEDGER_TOOLS_LEDGERCTL_COMMANDS_H_

// Authentication and authorization of every RPC (DESIGN §6).
//
// Identity comes only from credentials, never from request fields:
//   - a bearer token in the "authorization: Bearer <token>" metadata
//     (grpc::AccessTokenCredentials sends exactly that), looked up by its
//     SHA-256 (the config never holds a token in plaintext); or else
//   - the client certificate of an mTLS connection, by its subject CN or any
//     subject alternative name, as gRPC's auth context reports them.
// A request that presents a token is judged by the token alone: a bad token
// is UNAUTHENTICATED even if the connection also has a mapped certificate.
//
// The decision is central: every handler starts with Authorizer::Check(ctx,
// Rpc::k...), which looks the method up in one policy table (auth.cc,
// kPolicy) and returns the caller's Access or the status to finish with.
// (A gRPC server interceptor cannot finish a call with a code of its own in
// gRPC 1.51, and an AuthMetadataProcessor sees neither insecure loopback
// connections nor the request, which partner scoping needs; so the check is
// one call at the top of each handler, and a test pins that every method of
// every service is in the table.) Denials are logged as structured JSON and
// counted.
//
// Without an auth config (AuthConfig absent) every caller is the principal
// "local" with every role: today's loopback-only development behaviour.
//
// Thread safety: Authorizer is immutable after construction except for its
// atomic counters; Check may be called from any thread.
#ifndef PARTNERLEDGER_SERVER_AUTH_H_
#define PARTNERLEDGER_SERVER_AUTH_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"

namespace partnerledger::server {

// Roles a principal may hold (a bit set). partner:<id> is kept apart, as
// Principal::partner_id, because it is scoped.
enum RoleBit : uint32_t {
  kRoleWriter = 1u << 0,   // AppendEvents
  kRoleFinance = 1u << 1,  // every LedgerQueryService query
  kRoleAuditor = 1u << 2,  // ReadStream, ReadAll, Subscribe, GetDigest,
                           // VerifyChain, AuditService; no writes
  kRoleAdmin = 1u << 3,    // RebuildProjections, AdminService (backups)
  kRolesAll = kRoleWriter | kRoleFinance | kRoleAuditor | kRoleAdmin,
};

struct Principal {
  // Recorded as the actor of the events it appends.
  std::string name;
  uint32_t roles = 0;  // RoleBit set
  // Non-empty: the principal also holds partner:<partner_id>, a reader
  // scoped to what involves that partner (see partner_scope.h).
  std::string partner_id;
};

// The --auth_config file. Line-oriented text; '#' starts a comment; blank
// lines are ignored; fields are separated by spaces or tabs:
//
//   token <sha256-hex> <principal> <role>[,<role>...]
//   cert  <identity>   <principal> <role>[,<role>...]
//
// <sha256-hex>: 64 hex digits, SHA-256 of the bearer token's exact bytes
//   (printf %s "$TOKEN" | sha256sum). Tokens themselves never appear.
// <identity>: a client certificate's subject CN or one of its subject
//   alternative names (DNS name, URI, e-mail or IP as gRPC reports them).
//   Only meaningful with --tls_client_ca (mTLS), which verifies the chain.
// <principal>: 1..64 of [A-Za-z0-9._:@-]; not "system" or "local" (those
//   name derived events and the unauthenticated development principal).
// <role>: writer | finance | auditor | admin | partner:<partner-id>; at most
//   one partner role per line.
//
// A token hash or certificate identity may appear once.
struct AuthConfig {
  std::map<std::string, Principal> by_token_sha256;  // lowercase hex
  std::map<std::string, Principal> by_cert_identity;

  // INVALID_ARGUMENT naming the line for anything malformed.
  static absl::StatusOr<AuthConfig> Parse(std::string_view text);
  // NOT_FOUND / INVALID_ARGUMENT.
  static absl::StatusOr<AuthConfig> Load(const std::string& path);
};

// Every RPC the server serves, for the policy table.
enum class Rpc {
  kAppendEvents,
  kReadStream,
  kReadAll,
  kSubscribe,
  kGetDigest,
  kVerifyChain,
  kGetObligations,
  kGetReferralBalance,
  kGetStatement,
  kGetDeal,
  kListConflicts,
  kGetSatisfaction,
  kGetPartnershipHealth,
  kRebuildProjections,
  kCreateBackup,
  kVerifyBackup,
  kGetCheckpoint,
  kGetInclusionProof,
  kGetConsistencyProof,
};

struct RpcPolicy {
  Rpc rpc;
  // "/partnerledger.v1.EventStoreService/AppendEvents".
  const char* method;
  // Any of these roles allows the call, unscoped.
  uint32_t roles;
  // Whether partner:<id> may call it, scoped by the handler.
  bool partner_scoped;
};
// The whole table (for tests and documentation).
const std::vector<RpcPolicy>& AllRpcPolicies();
const RpcPolicy& PolicyOf(Rpc rpc);

// What an allowed caller may do.
struct Access {
  Principal principal;
  // True: allowed only through the partner role; the handler must restrict
  // the call to principal.partner_id (or deny with Authorizer::Deny).
  bool partner_scoped = false;
  // The actor for appends; empty in open mode (the ledger's default
  // principal, "local").
  std::string actor;
};

class Authorizer {
 public:
  // No config: open mode (see above).
  explicit Authorizer(std::optional<AuthConfig> config);

  bool enabled() const { return config_.has_value(); }

  // The caller's access to `rpc`. UNAUTHENTICATED: no or unknown
  // credentials. PERMISSION_DENIED: no role allows `rpc`. Both are logged.
  absl::StatusOr<Access> Check(const grpc::ServerContextBase& ctx,
                               Rpc rpc) const;

  // A partner-scoped caller asked for something not involving its partner:
  // logs and returns PERMISSION_DENIED with `why`.
  absl::Status DenyScope(const grpc::ServerContextBase& ctx, Rpc rpc,
                         const Access& access, std::string_view why) const;

  uint64_t unauthenticated_total() const { return unauthenticated_.load(); }
  uint64_t permission_denied_total() const { return permission_denied_.load(); }

 private:
  absl::StatusOr<Principal> Authenticate(
      const grpc::ServerContextBase& ctx) const;
  absl::Status Denied(const grpc::ServerContextBase& ctx, Rpc rpc,
                      absl::Status status, std::string_view principal) const;

  const std::optional<AuthConfig> config_;
  mutable std::atomic<uint64_t> unauthenticated_{0};
  mutable std::atomic<uint64_t> permission_denied_{0};
};

// "writer,auditor,partner:acme" for logs.
std::string RolesText(const Principal& p);

}  // namespace partnerledger::server

#endif  // PARTNERLEDGER_SERVER_AUTH_H_

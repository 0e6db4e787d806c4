#include "server/auth.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "domain/validate.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/security/auth_context.h"
#include "server/log.h"
#include "util/sha256.h"
#include "util/strings.h"

namespace partnerledger::server {
namespace {

#define PL_ES "/partnerledger.v1.EventStoreService/"
#define PL_QS "/partnerledger.v1.LedgerQueryService/"
#define PL_AS "/partnerledger.v1.AdminService/"
#define PL_AU "/partnerledger.v1.AuditService/"

// The policy: which roles may call what, in Rpc order. Health checking and
// reflection are not here: they are open (probes carry no token; the schema
// is public). A partner may read only what involves it: streams and the
// log (filtered), its obligations, statements it pays or receives. The
// other queries are pair-, deal- or agreement-level aggregates and stay
// with finance.
const std::vector<RpcPolicy>& Policies() {
  static const std::vector<RpcPolicy>* table = new std::vector<RpcPolicy>{
      {Rpc::kAppendEvents, PL_ES "AppendEvents", kRoleWriter, false},
      {Rpc::kReadStream, PL_ES "ReadStream", kRoleAuditor, true},
      {Rpc::kReadAll, PL_ES "ReadAll", kRoleAuditor, true},
      {Rpc::kSubscribe, PL_ES "Subscribe", kRoleAuditor, true},
      {Rpc::kGetDigest, PL_ES "GetDigest", kRoleAuditor, false},
      {Rpc::kVerifyChain, PL_ES "VerifyChain", kRoleAuditor, false},
      {Rpc::kGetObligations, PL_QS "GetObligations", kRoleFinance, true},
      {Rpc::kGetReferralBalance, PL_QS "GetReferralBalance", kRoleFinance,
       false},
      {Rpc::kGetStatement, PL_QS "GetStatement", kRoleFinance, true},
      {Rpc::kGetDeal, PL_QS "GetDeal", kRoleFinance, false},
      {Rpc::kListConflicts, PL_QS "ListConflicts", kRoleFinance, false},
      {Rpc::kGetSatisfaction, PL_QS "GetSatisfaction", kRoleFinance, false},
      {Rpc::kGetPartnershipHealth, PL_QS "GetPartnershipHealth", kRoleFinance,
       false},
      {Rpc::kRebuildProjections, PL_QS "RebuildProjections", kRoleAdmin, false},
      {Rpc::kCreateBackup, PL_AS "CreateBackup", kRoleAdmin, false},
      {Rpc::kVerifyBackup, PL_AS "VerifyBackup", kRoleAdmin, false},
      // Proofs: a partner may check what it may read (inclusion proofs of
      // its events; checkpoints and consistency carry only hashes).
      {Rpc::kGetCheckpoint, PL_AU "GetCheckpoint", kRoleAuditor, true},
      {Rpc::kGetInclusionProof, PL_AU "GetInclusionProof", kRoleAuditor, true},
      {Rpc::kGetConsistencyProof, PL_AU "GetConsistencyProof", kRoleAuditor,
       true},
  };
  return *table;
}

#undef PL_ES
#undef PL_QS
#undef PL_AS
#undef PL_AU

bool IsValidPrincipalName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_' && c != ':' && c != '@' && c != '-') {
      return false;
    }
  }
  return name != "system" && name != "local";
}

absl::Status ParseRoles(const std::string& text, Principal* p) {
  for (std::string_view role : Split(text, ',')) {
    if (role == "writer") {
      p->roles |= kRoleWriter;
    } else if (role == "finance") {
      p->roles |= kRoleFinance;
    } else if (role == "auditor") {
      p->roles |= kRoleAuditor;
    } else if (role == "admin") {
      p->roles |= kRoleAdmin;
    } else if (role.starts_with("partner:")) {
      std::string_view id = role.substr(8);
      if (!p->partner_id.empty()) {
        return absl::InvalidArgumentError("at most one partner role");
      }
      if (!domain::IsValidId(id)) {
        return absl::InvalidArgumentError(
            absl::StrCat("partner id \"", std::string(id), "\" is not valid"));
      }
      p->partner_id = std::string(id);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown role \"", std::string(role),
                       "\" (writer, finance, auditor, admin, partner:<id>)"));
    }
  }
  return absl::OkStatus();
}

std::string_view Ref(const grpc::string_ref& r) {
  return std::string_view(r.data(), r.size());
}

}  // namespace

const std::vector<RpcPolicy>& AllRpcPolicies() { return Policies(); }

const RpcPolicy& PolicyOf(Rpc rpc) {
  const RpcPolicy& p = Policies()[static_cast<size_t>(rpc)];
  // The table is in Rpc order; a mismatch would misapply a policy.
  if (p.rpc != rpc) std::abort();
  return p;
}

std::string RolesText(const Principal& p) {
  std::vector<std::string> names;
  if (p.roles & kRoleWriter) names.push_back("writer");
  if (p.roles & kRoleFinance) names.push_back("finance");
  if (p.roles & kRoleAuditor) names.push_back("auditor");
  if (p.roles & kRoleAdmin) names.push_back("admin");
  if (!p.partner_id.empty()) names.push_back("partner:" + p.partner_id);
  return absl::StrJoin(names, ",");
}

absl::StatusOr<AuthConfig> AuthConfig::Parse(std::string_view text) {
  AuthConfig config;
  int line_no = 0;
  for (std::string_view raw : Split(text, '\n')) {
    ++line_no;
    std::string line(raw.substr(0, raw.find('#')));
    std::vector<std::string> f =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (f.empty()) continue;
    auto bad = [&](std::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("auth config line ", line_no, ": ", std::string(why)));
    };
    if (f.size() != 4) {
      return bad("expected: token|cert <credential> <principal> <roles>");
    }
    Principal p;
    p.name = f[2];
    if (!IsValidPrincipalName(p.name)) {
      return bad(
          absl::StrCat("principal \"", p.name,
                       "\": 1..64 of [A-Za-z0-9._:@-], not system/local"));
    }
    if (absl::Status s = ParseRoles(f[3], &p); !s.ok())
      return bad(std::string(s.message()));
    if (f[0] == "token") {
      std::string hex = absl::AsciiStrToLower(f[1]);
      std::string digest;
      if (hex.size() != 64 || !FromHex(hex, &digest)) {
        return bad("a token is given as the 64 hex digits of its SHA-256");
      }
      if (!config.by_token_sha256.emplace(hex, p).second) {
        return bad("token listed twice");
      }
    } else if (f[0] == "cert") {
      if (!config.by_cert_identity.emplace(f[1], p).second) {
        return bad("certificate identity listed twice");
      }
    } else {
      return bad(absl::StrCat("unknown kind \"", f[0], "\" (token, cert)"));
    }
  }
  return config;
}

absl::StatusOr<AuthConfig> AuthConfig::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("auth_config: cannot read ", path));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  absl::StatusOr<AuthConfig> c = Parse(ss.str());
  if (!c.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", c.status().message()));
  }
  return c;
}

Authorizer::Authorizer(std::optional<AuthConfig> config)
    : config_(std::move(config)) {}

absl::StatusOr<Principal> Authorizer::Authenticate(
    const grpc::ServerContextBase& ctx) const {
  const auto& md = ctx.client_metadata();
  auto [first, last] = md.equal_range("authorization");
  if (first != last) {
    if (std::next(first) != last) {
      return absl::UnauthenticatedError("more than one authorization header");
    }
    std::string_view value = Ref(first->second);
    constexpr std::string_view kBearer = "bearer ";
    if (value.size() <= kBearer.size() ||
        !absl::EqualsIgnoreCase(AbslView(value.substr(0, kBearer.size())),
                                AbslView(kBearer))) {
      return absl::UnauthenticatedError(
          "authorization: expected \"Bearer <token>\"");
    }
    const std::string_view token = value.substr(kBearer.size());
    const std::string hex = ToHex(DigestBytes(Sha256Of(token)));
    auto it = config_->by_token_sha256.find(hex);
    if (it == config_->by_token_sha256.end()) {
      return absl::UnauthenticatedError("unknown bearer token");
    }
    return it->second;
  }
  // mTLS: the chain was verified during the handshake; map the identity.
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    for (const char* prop :
         {GRPC_X509_CN_PROPERTY_NAME, GRPC_X509_SAN_PROPERTY_NAME}) {
      for (const grpc::string_ref& id : auth->FindPropertyValues(prop)) {
        auto it = config_->by_cert_identity.find(std::string(Ref(id)));
        if (it != config_->by_cert_identity.end()) return it->second;
      }
    }
    return absl::UnauthenticatedError(
        "client certificate is not mapped to a principal");
  }
  return absl::UnauthenticatedError(
      "credentials required: \"authorization: Bearer <token>\" or a mapped "
      "client certificate");
}

absl::Status Authorizer::Denied(const grpc::ServerContextBase& ctx, Rpc rpc,
                                absl::Status status,
                                std::string_view principal) const {
  if (status.code() == absl::StatusCode::kUnauthenticated) {
    unauthenticated_.fetch_add(1);
  } else {
    permission_denied_.fetch_add(1);
  }
  Log(LogLevel::kWarn, "request denied",
      {{"method", PolicyOf(rpc).method},
       {"code", absl::StatusCodeToString(status.code())},
       {"principal", principal},
       {"peer", ctx.peer()},
       {"reason", std::string(status.message())}});
  return status;
}

absl::StatusOr<Access> Authorizer::Check(const grpc::ServerContextBase& ctx,
                                         Rpc rpc) const {
  Access access;
  if (!config_.has_value()) {
    access.principal.name = "local";
    access.principal.roles = kRolesAll;
    return access;
  }
  absl::StatusOr<Principal> p = Authenticate(ctx);
  if (!p.ok()) return Denied(ctx, rpc, p.status(), "");
  const RpcPolicy& policy = PolicyOf(rpc);
  access.principal = std::move(*p);
  access.actor = access.principal.name;
  if ((access.principal.roles & policy.roles) != 0) return access;
  if (policy.partner_scoped && !access.principal.partner_id.empty()) {
    access.partner_scoped = true;
    return access;
  }
  return Denied(
      ctx, rpc,
      absl::PermissionDeniedError(absl::StrCat(
          "principal ", access.principal.name, " (",
          RolesText(access.principal), ") may not call ", policy.method)),
      access.principal.name);
}

absl::Status Authorizer::DenyScope(const grpc::ServerContextBase& ctx, Rpc rpc,
                                   const Access& access,
                                   std::string_view why) const {
  return Denied(ctx, rpc,
                absl::PermissionDeniedError(absl::StrCat(
                    "principal ", access.principal.name, " (partner:",
                    access.principal.partner_id, "): ", std::string(why))),
                access.principal.name);
}

}  // namespace partnerledger::server

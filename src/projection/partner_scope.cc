#include "projection/partner_scope.h"

#include "absl/strings/str_cat.h"
#include "domain/state_keys.h"
#include "domain/validate.h"
#include "partnerledger/storage/v1/state.pb.h"
#include "store/store.h"
#include "util/load.h"
#include "util/status_macros.h"

namespace partnerledger::projection {
namespace {

// The store's current state, as Load reads it.
struct CurrentState {
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const {
    return store.GetState(key);
  }
  const store::Store& store;
};

}  // namespace

absl::StatusOr<bool> PartnerScope::Involves(std::string_view stream) {
  auto it = cache_.find(std::string(stream));
  if (it != cache_.end()) return it->second;
  ASSIGN_OR_RETURN(const bool involves, Lookup(stream));
  if (cache_.size() >= kCacheEntriesMax) cache_.clear();
  cache_.emplace(std::string(stream), involves);
  return involves;
}

absl::Status PartnerScope::Redact(v1::Event* e) {
  if (!e->payload().has_conflict_raised()) return absl::OkStatus();
  v1::ConflictRaised* c = e->mutable_payload()->mutable_conflict_raised();
  if (c->other_deal_id().empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(bool own, Involves("deal-" + c->other_deal_id()));
  if (own) return absl::OkStatus();
  c->clear_other_deal_id();
  c->set_summary(c->kind() == v1::CONFLICT_KIND_REGISTRATION_OVERLAP
                     ? "the customer, provider and offering class are already "
                       "registered in another partner's open deal"
                     : "refers to another partner's deal");
  e->set_redacted(true);
  return absl::OkStatus();
}

absl::StatusOr<bool> PartnerScope::Lookup(std::string_view stream) const {
  absl::StatusOr<domain::StreamName> name = domain::ParseStreamName(stream);
  if (!name.ok()) return false;
  const std::string category(name->category.data(), name->category.size());
  const std::string id(name->id.data(), name->id.size());
  const std::string& p = partner_id_;
  if (category == "partner") return id == p;
  const CurrentState state{*store_};
  if (category == "agreement") {
    ASSIGN_OR_RETURN(
        std::optional<storage::v1::Agreement> a,
        Load<storage::v1::Agreement>(state, domain::keys::Agreement(id)));
    return a.has_value() && (a->party_a() == p || a->party_b() == p);
  }
  if (category == "deal") {
    ASSIGN_OR_RETURN(std::optional<storage::v1::Deal> d,
                     Load<storage::v1::Deal>(state, domain::keys::Deal(id)));
    return d.has_value() && (d->originator() == p || d->provider() == p);
  }
  if (category == "conflict") {
    ASSIGN_OR_RETURN(
        std::optional<storage::v1::Conflict> c,
        Load<storage::v1::Conflict>(state, domain::keys::Conflict(id)));
    return c.has_value() && (c->party_a() == p || c->party_b() == p);
  }
  if (category == "settlement") {
    ASSIGN_OR_RETURN(
        std::optional<storage::v1::Settlement> s,
        Load<storage::v1::Settlement>(state, domain::keys::Settlement(id)));
    return s.has_value() && (s->payer() == p || s->payee() == p);
  }
  return false;  // period-*: ledger-wide
}

}  // namespace partnerledger::projection

// What a partner:<id> reader may see (server/auth.h), judged from the
// projections' state (the parties of agreements, deals, conflicts and
// settlements), which is why it lives with the projections.
//
// A stream "involves" partner P when
//   partner-P                     it is P's own stream;
//   agreement-X                   P is party_a or party_b of agreement X;
//   deal-D                        P is D's originator or provider (the prime,
//                                 payer and payee are always one of them, so
//                                 derived commissions on D involve P too);
//   conflict-C                    P is a party of C's agreement;
//   settlement-S                  P is S's payer or payee.
// period-* streams (PeriodClosed) are ledger-wide bookkeeping and involve no
// partner in particular; streams of other partners never involve P. The
// parties of an agreement, deal, conflict or settlement are fixed by the
// stream's first event and never change, and an event and the state it
// creates are committed in one batch, so judging an existing event's stream
// by current state is exact.
//
// An event involves P when its stream does. Reads by a partner are filtered
// by that (ReadAll, Subscribe), or refused (ReadStream of another stream),
// and what it may read is redacted (Redact): an event that involves P can
// still name another partner's deal (a REGISTRATION_OVERLAP conflict on P's
// deal names the competing deal and its originator), which P is refused
// when reading it directly.
//
// Thread safety: none; one PartnerScope per call (it caches lookups).
#ifndef PARTNERLEDGER_PROJECTION_PARTNER_SCOPE_H_
#define PARTNERLEDGER_PROJECTION_PARTNER_SCOPE_H_

#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "partnerledger/v1/events.pb.h"

namespace partnerledger::store {
class Store;
}

namespace partnerledger::projection {

class PartnerScope {
 public:
  // `store` must outlive this.
  PartnerScope(const store::Store* store, std::string partner_id)
      : store_(store), partner_id_(std::move(partner_id)) {}

  const std::string& partner_id() const { return partner_id_; }

  // Whether `stream` involves the partner; false for a stream that does not
  // exist or is malformed. DATA_LOSS if stored state does not parse.
  absl::StatusOr<bool> Involves(std::string_view stream);

  // Removes from `e` (an event that involves the partner) what belongs to
  // other partners: a ConflictRaised's other_deal_id when that deal does
  // not involve the partner, and with it the summary, which names that deal
  // and its originator (replaced by a neutral text). Keeps that the
  // conflict exists and which of the partner's deals it is on; sets
  // e->redacted(). DATA_LOSS if stored state does not parse.
  absl::Status Redact(v1::Event* e);

 private:
  absl::StatusOr<bool> Lookup(std::string_view stream) const;

  // A subscription lives long; the cache is dropped when it grows past this.
  static constexpr size_t kCacheEntriesMax = 4096;

  const store::Store* const store_;
  const std::string partner_id_;
  std::unordered_map<std::string, bool> cache_;
};

}  // namespace partnerledger::projection

#endif  // PARTNERLEDGER_PROJECTION_PARTNER_SCOPE_H_

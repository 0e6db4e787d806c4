// What the layers inside the service reach through a Ledger that its public
// contract (include/partnerledger/ledger.h) does not show: the store it
// writes and the rules it applies, and the translation of stored records
// into RecordedEvent. Included explicitly by the projections' queries, the
// server's internal services, tools working on a data directory and tests.
#ifndef PARTNERLEDGER_LEDGER_LEDGER_INTERNAL_H_
#define PARTNERLEDGER_LEDGER_LEDGER_INTERNAL_H_

#include "partnerledger/ledger.h"
#include "partnerledger/storage/v1/records.pb.h"

namespace partnerledger::store {
class Store;
}
namespace partnerledger::domain {
class Rules;
}

namespace partnerledger::ledger {

// Ledger::Open with other rules than the partnership rules
// (domain/partnership.h): tests inject structural or defective rules.
// `rules` nullptr: the partnership rules. Not owned; must outlive the
// ledger.
absl::StatusOr<std::unique_ptr<Ledger>> OpenWithRules(
    const Options& options, const domain::Rules* rules);

// The storage of `ledger`, for reads only (queries, proofs, backups,
// verification). Valid as long as the ledger.
// REQUIRES: `ledger` was made by Ledger::Open.
const store::Store& StoreOf(const Ledger& ledger);

// The rules the writer of `ledger` applies (to rebuild projections the same
// way). REQUIRES: `ledger` was made by Ledger::Open.
const domain::Rules& RulesOf(const Ledger& ledger);

// A stored record as the public contract shows it (every field, moved).
RecordedEvent ToRecordedEvent(storage::v1::StoredEvent&& e);

}  // namespace partnerledger::ledger

#endif  // PARTNERLEDGER_LEDGER_LEDGER_INTERNAL_H_

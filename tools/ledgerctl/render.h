// Rendering of query answers as tables, CSV or JSON; shared by the online
// query commands and by `replay`, so a replayed figure prints exactly like
// the server's.
#ifndef PARTNERLEDGER_TOOLS_LEDGERCTL_RENDER_H_
#define PARTNERLEDGER_TOOLS_LEDGERCTL_RENDER_H_

#include <string>

#include "absl/status/statusor.h"
#include "ledgerctl/args.h"
#include "partnerledger/v1/query.pb.h"

namespace partnerledger::ctl {

enum class Format { kTable, kCsv, kJson };

std::string RenderObligations(const v1::GetObligationsResponse& r, Format f);
std::string RenderStatement(const v1::GetStatementRequest& q,
                            const v1::GetStatementResponse& r, Format f);

// Filters of `obligations` and `replay`: --partner, --currency, --kind.
// INVALID_ARGUMENT naming the option.
absl::StatusOr<v1::GetObligationsRequest> ObligationsRequestFrom(const Args& a);
// "PAYER,PAYEE,CURRENCY,PERIOD".
absl::StatusOr<v1::GetStatementRequest> StatementRequestFrom(
    const std::string& spec);

}  // namespace partnerledger::ctl

#endif  // PARTNERLEDGER_TOOLS_LEDGERCTL_RENDER_H_

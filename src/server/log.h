// The server's structured logs: the logger of util/log.h (one JSON object
// per line on stderr), plus protobuf's own messages routed through it.
#ifndef PARTNERLEDGER_SERVER_LOG_H_
#define PARTNERLEDGER_SERVER_LOG_H_

#include "util/log.h"

namespace partnerledger::server {

using ::partnerledger::FormatLogLine;
using ::partnerledger::Log;
using ::partnerledger::LogField;
using ::partnerledger::LogLevel;
using ::partnerledger::SetLogSinkForTest;

// Routes protobuf's own log messages (e.g. "String field ... contains
// invalid UTF-8 data" when a request does not parse) through Log, so stderr
// stays JSON lines. Idempotent; call before serving.
void RouteProtobufLogs();

}  // namespace partnerledger::server

#endif  // PARTNERLEDGER_SERVER_LOG_H_

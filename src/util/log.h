// Structured logs: one JSON object per line on stderr,
//   {"ts":"2026-01-01T00:00:00.000000Z","level":"info","msg":"...","fields":{...}}
// so log shippers need no parser of their own. Used for startup, shutdown,
// authentication/authorization denials, storage failure and failed
// invariants (util/check.h).
//
// Thread safety: Log may be called from any thread; each line is written
// with one write(2), so lines from different threads never interleave.
#ifndef PARTNERLEDGER_UTIL_LOG_H_
#define PARTNERLEDGER_UTIL_LOG_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace partnerledger {

enum class LogLevel { kInfo, kWarn, kError };

// A field's value is written as a JSON string unless it is a number (the
// constructor from an integer).
struct LogField {
  LogField(std::string_view k, std::string_view v)
      : key(k), value(v), quoted(true) {}
  LogField(std::string_view k, const char* v)
      : key(k), value(v), quoted(true) {}
  LogField(std::string_view k, const std::string& v)
      : key(k), value(v), quoted(true) {}
  LogField(std::string_view k, long long v)
      : key(k), value(std::to_string(v)), quoted(false) {}
  LogField(std::string_view k, unsigned long long v)
      : key(k), value(std::to_string(v)), quoted(false) {}
  LogField(std::string_view k, int v)
      : LogField(k, static_cast<long long>(v)) {}
  LogField(std::string_view k, unsigned long v)
      : LogField(k, static_cast<unsigned long long>(v)) {}
  LogField(std::string_view k, long v)
      : LogField(k, static_cast<long long>(v)) {}
  LogField(std::string_view k, unsigned v)
      : LogField(k, static_cast<unsigned long long>(v)) {}
  LogField(std::string_view k, bool v)
      : key(k), value(v ? "true" : "false"), quoted(false) {}

  std::string key;
  std::string value;
  bool quoted;
};

void Log(LogLevel level, std::string_view msg,
         std::vector<LogField> fields = {});

// The line Log would write (without the newline); for tests.
std::string FormatLogLine(int64_t unix_micros, LogLevel level,
                          std::string_view msg,
                          const std::vector<LogField>& fields);

// Tests capture log lines instead of (in addition to) stderr. Pass an empty
// function to stop. The sink runs under the logger's lock: it must not log.
void SetLogSinkForTest(std::function<void(const std::string& line)> sink);

}  // namespace partnerledger

#endif  // PARTNERLEDGER_UTIL_LOG_H_

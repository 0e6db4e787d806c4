#include "util/log.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "util/json.h"

namespace partnerledger {
namespace {

ABSL_CONST_INIT absl::Mutex sink_mu(absl::kConstInit);

std::function<void(const std::string&)>& Sink()
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink_mu) {
  static std::function<void(const std::string&)> sink;
  return sink;
}

std::string_view LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

std::string FormatLogLine(int64_t unix_micros, LogLevel level,
                          std::string_view msg,
                          const std::vector<LogField>& fields) {
  const time_t secs = static_cast<time_t>(unix_micros / 1'000'000);
  struct tm tm_utc;
  gmtime_r(&secs, &tm_utc);
  char ts[48];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                tm_utc.tm_year + 1900, tm_utc.tm_mon + 1, tm_utc.tm_mday,
                tm_utc.tm_hour, tm_utc.tm_min, tm_utc.tm_sec,
                static_cast<int>(unix_micros % 1'000'000));
  std::string line = "{\"ts\":\"";
  line += ts;
  line += "\",\"level\":\"";
  line += LevelName(level);
  line += "\",\"msg\":\"";
  line += JsonEscape(msg);
  line += "\",\"fields\":{";
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line += ',';
    line += '"';
    line += JsonEscape(fields[i].key);
    line += "\":";
    if (fields[i].quoted) {
      line += '"';
      line += JsonEscape(fields[i].value);
      line += '"';
    } else {
      line += fields[i].value;
    }
  }
  line += "}}";
  return line;
}

void Log(LogLevel level, std::string_view msg, std::vector<LogField> fields) {
  const int64_t now_us =
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::string line = FormatLogLine(now_us, level, msg, fields);
  line += '\n';
  absl::MutexLock lock(&sink_mu);
  if (Sink()) Sink()(line);
  // One write per line; a short write to stderr is not retried (logging
  // must never block the server on a stuck terminal for long).
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

void SetLogSinkForTest(std::function<void(const std::string& line)> sink) {
  absl::MutexLock lock(&sink_mu);
  Sink() = std::move(sink);
}

}  // namespace partnerledger

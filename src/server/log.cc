#include "server/log.h"

#include <mutex>
#include <string>

#include "google/protobuf/stubs/logging.h"

namespace partnerledger::server {
namespace {

void ProtobufLogHandler(google::protobuf::LogLevel level, const char* filename,
                        int line, const std::string& message) {
  LogLevel ours = LogLevel::kError;
  if (level == google::protobuf::LOGLEVEL_INFO) ours = LogLevel::kInfo;
  if (level == google::protobuf::LOGLEVEL_WARNING) ours = LogLevel::kWarn;
  Log(ours, "protobuf: " + message,
      {{"source", std::string(filename != nullptr ? filename : "") + ":" +
                      std::to_string(line)}});
}

}  // namespace

void RouteProtobufLogs() {
  static std::once_flag once;
  // SetLogHandler is not thread-safe: set it once.
  std::call_once(once,
                 [] { google::protobuf::SetLogHandler(&ProtobufLogHandler); });
}

}  // namespace partnerledger::server

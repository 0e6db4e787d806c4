#include "http/status_http.h"

#include <cctype>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace partnerledger::http {

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
    default:
      return 500;
  }
}

std::string FieldOf(const std::string& message) {
  // identifier ( '[' digits ']' )? ( '.' identifier ( '[' digits ']' )? )* ':'
  size_t i = 0;
  const size_t n = message.size();
  while (true) {
    const size_t start = i;
    while (i < n && (std::islower(static_cast<unsigned char>(message[i])) ||
                     std::isdigit(static_cast<unsigned char>(message[i])) ||
                     message[i] == '_')) {
      ++i;
    }
    if (i == start ||
        std::isdigit(static_cast<unsigned char>(message[start]))) {
      return "";
    }
    if (i < n && message[i] == '[') {
      const size_t digits = ++i;
      while (i < n && std::isdigit(static_cast<unsigned char>(message[i]))) ++i;
      if (i == digits || i >= n || message[i] != ']') return "";
      ++i;
    }
    if (i < n && message[i] == '.') {
      ++i;
      continue;
    }
    if (i + 1 < n && message[i] == ':' && message[i + 1] == ' ') {
      return message.substr(0, i);
    }
    return "";
  }
}

std::string ErrorJson(const absl::Status& status) {
  google::protobuf::Struct error;
  auto& f = *error.mutable_fields();
  const int http = HttpStatusOf(status.code());
  f["code"].set_number_value(http);
  f["status"].set_string_value(absl::StrReplaceAll(
      absl::StatusCodeToString(status.code()), {{" ", "_"}}));
  const std::string message(status.message());
  f["message"].set_string_value(message);
  if (const std::string field = FieldOf(message); !field.empty()) {
    f["field"].set_string_value(field);
    google::protobuf::Struct violation;
    (*violation.mutable_fields())["field"].set_string_value(field);
    (*violation.mutable_fields())["description"].set_string_value(message);
    google::protobuf::Struct detail;
    (*detail.mutable_fields())["@type"].set_string_value(
        "type.googleapis.com/google.rpc.BadRequest");
    *(*detail.mutable_fields())["fieldViolations"]
         .mutable_list_value()
         ->add_values()
         ->mutable_struct_value() = violation;
    *f["details"].mutable_list_value()->add_values()->mutable_struct_value() =
        detail;
  }
  google::protobuf::Struct root;
  *(*root.mutable_fields())["error"].mutable_struct_value() = error;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(root, &out);
  return out;
}

}  // namespace partnerledger::http

#include "http/routes.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "partnerledger/limits.h"
#include "partnerledger/v1/audit.pb.h"
#include "partnerledger/v1/event_store.pb.h"
#include "partnerledger/v1/query.pb.h"
#include "util/status_macros.h"

namespace partnerledger::http {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Messages the proto3 JSON mapping writes as one JSON string (or number):
// a query parameter sets them whole.
bool IsJsonScalarMessage(const Descriptor* d) {
  const std::string& n = d->full_name();
  return absl::StartsWith(n, "google.protobuf.") &&
         n != "google.protobuf.Struct" && n != "google.protobuf.ListValue";
}

const FieldDescriptor* FindField(const Descriptor* d, const std::string& name) {
  if (const FieldDescriptor* f = d->FindFieldByName(name); f != nullptr) {
    return f;
  }
  return d->FindFieldByCamelcaseName(name);
}

// The JSON value of one query parameter for field `f`: booleans as JSON
// booleans when they spell one, everything else as a JSON string, which the
// proto3 JSON parser accepts for every scalar type (64-bit integers stay
// exact, unlike a JSON number).
google::protobuf::Value LeafValue(const FieldDescriptor* f,
                                  const std::string& text) {
  google::protobuf::Value v;
  if (f->type() == FieldDescriptor::TYPE_BOOL &&
      (text == "true" || text == "false")) {
    v.set_bool_value(text == "true");
  } else {
    v.set_string_value(text);
  }
  return v;
}

// Sets the field path `name` of `out` (a message of type `d`) from `text`,
// through a one-field JSON object, so that the proto3 JSON parser judges the
// value exactly as it would in a body.
absl::Status SetFromQuery(const Descriptor* d, const std::string& name,
                          const std::string& text, Message* out) {
  const std::vector<std::string> segments = absl::StrSplit(name, '.');
  google::protobuf::Struct root;
  google::protobuf::Struct* at = &root;
  const Descriptor* type = d;
  for (size_t i = 0; i < segments.size(); ++i) {
    const FieldDescriptor* f = FindField(type, segments[i]);
    if (f == nullptr || f->is_map()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": no such field in ", d->name()));
    }
    const bool last = i + 1 == segments.size();
    const bool whole = f->type() != FieldDescriptor::TYPE_MESSAGE ||
                       IsJsonScalarMessage(f->message_type());
    if (last != whole || (!last && f->is_repeated())) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, ": not a field a query parameter can set (",
          whole ? "a single value" : "a message; name one of its fields", ")"));
    }
    google::protobuf::Value& slot = (*at->mutable_fields())[f->json_name()];
    if (last) {
      google::protobuf::Value leaf = LeafValue(f, text);
      if (f->is_repeated()) {
        *slot.mutable_list_value()->add_values() = std::move(leaf);
      } else {
        slot = std::move(leaf);
      }
      break;
    }
    at = slot.mutable_struct_value();
    type = f->message_type();
  }
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(root, &json).ok()) {
    return absl::InternalError(absl::StrCat(name, ": cannot encode"));
  }
  std::unique_ptr<Message> one(out->New());
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(json, one.get());
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": invalid value \"", text.substr(0, 64), "\" (",
                     parsed.message().ToString(), ")"));
  }
  out->MergeFrom(*one);
  return absl::OkStatus();
}

// "{stream}" -> "stream"; anything else -> "".
std::string Placeholder(const std::string& segment) {
  if (segment.size() > 2 && segment.front() == '{' && segment.back() == '}') {
    return segment.substr(1, segment.size() - 2);
  }
  return "";
}

}  // namespace

const std::vector<Route>& ApiRoutes() {
  static const auto* const kRoutes = new std::vector<Route>{
      {"GET", "/v1/obligations",
       "partnerledger.v1.LedgerQueryService.GetObligations",
       "Commissions and pass-throughs owed, per pair, currency and kind, "
       "and netted per pair"},
      {"GET", "/v1/referral-balance",
       "partnerledger.v1.LedgerQueryService.GetReferralBalance",
       "What each partner of a pair brought the other"},
      {"GET", "/v1/statement",
       "partnerledger.v1.LedgerQueryService.GetStatement",
       "Opening, lines and closing of one payer -> payee, currency and period"},
      {"GET", "/v1/deals/{deal_id}",
       "partnerledger.v1.LedgerQueryService.GetDeal",
       "One deal: roles, margin schedule, revenue lines"},
      {"GET", "/v1/conflicts",
       "partnerledger.v1.LedgerQueryService.ListConflicts",
       "Conflicts, open and resolved"},
      {"GET", "/v1/agreements/{agreement_id}/satisfaction",
       "partnerledger.v1.LedgerQueryService.GetSatisfaction",
       "Customer and partner satisfaction per period of an agreement"},
      {"GET", "/v1/partnership-health",
       "partnerledger.v1.LedgerQueryService.GetPartnershipHealth",
       "The seven pillars of a partner pair as a scorecard"},
      {"POST", "/v1/projections:rebuild",
       "partnerledger.v1.LedgerQueryService.RebuildProjections",
       "Recompute every projection from the log and compare"},
      {"POST", "/v1/streams/{stream}:append",
       "partnerledger.v1.EventStoreService.AppendEvents",
       "Append events to a stream atomically (acknowledged after fsync)"},
      {"GET", "/v1/streams/{stream}",
       "partnerledger.v1.EventStoreService.ReadStream",
       "A page of one stream's events"},
      {"GET", "/v1/events", "partnerledger.v1.EventStoreService.ReadAll",
       "A page of the whole log, optionally filtered"},
      {"GET", "/v1/digest", "partnerledger.v1.EventStoreService.GetDigest",
       "The hash chain's digest at the head or a position"},
      {"POST", "/v1/chain:verify",
       "partnerledger.v1.EventStoreService.VerifyChain",
       "Verify the hash chain over a range, optionally against a digest"},
      {"GET", "/v1/checkpoint", "partnerledger.v1.AuditService.GetCheckpoint",
       "A signed checkpoint (RFC 9162 tree head) of the log"},
      {"GET", "/v1/proofs/inclusion",
       "partnerledger.v1.AuditService.GetInclusionProof",
       "Proof that an event is in the log at a tree size"},
      {"GET", "/v1/proofs/consistency",
       "partnerledger.v1.AuditService.GetConsistencyProof",
       "Proof that a larger tree extends a smaller one"},
  };
  return *kRoutes;
}

absl::StatusOr<std::vector<BoundRoute>> BindRoutes() {
  // Make sure the generated files are linked and in the pool.
  (void)v1::GetObligationsRequest::descriptor();
  (void)v1::AppendEventsRequest::descriptor();
  (void)v1::GetCheckpointRequest::descriptor();
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  std::vector<BoundRoute> bound;
  for (const Route& r : ApiRoutes()) {
    BoundRoute b;
    b.route = r;
    b.method = pool->FindMethodByName(r.rpc);
    if (b.method == nullptr) {
      return absl::InternalError(absl::StrCat("no rpc ", r.rpc));
    }
    b.grpc_method = absl::StrCat("/", b.method->service()->full_name(), "/",
                                 b.method->name());
    std::string regex;
    const std::vector<std::string> segments =
        absl::StrSplit(r.path, '/', absl::SkipEmpty());
    for (std::string segment : segments) {
      std::string verb;
      if (const size_t colon = segment.find(':'); colon != std::string::npos) {
        verb = segment.substr(colon);
        segment = segment.substr(0, colon);
      }
      const std::string field = Placeholder(segment);
      if (field.empty()) {
        absl::StrAppend(&regex, "/", segment, verb);
        continue;
      }
      const FieldDescriptor* f = b.method->input_type()->FindFieldByName(field);
      if (f == nullptr || f->type() != FieldDescriptor::TYPE_STRING ||
          f->is_repeated()) {
        return absl::InternalError(
            absl::StrCat(r.path, ": no string field ", field, " in ",
                         b.method->input_type()->full_name()));
      }
      b.path_fields.push_back(field);
      absl::StrAppend(&regex, "/([^/:]+)", verb);
    }
    b.path_regex = regex;
    bound.push_back(std::move(b));
  }
  return bound;
}

absl::StatusOr<std::unique_ptr<Message>> BuildRequest(
    const BoundRoute& route, const std::vector<std::string>& path_values,
    const std::vector<std::pair<std::string, std::string>>& query,
    const std::string& body) {
  const Descriptor* d = route.method->input_type();
  std::unique_ptr<Message> msg(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(d)
          ->New());
  if (!body.empty()) {
    google::protobuf::util::JsonParseOptions o;
    o.ignore_unknown_fields = false;
    const auto parsed =
        google::protobuf::util::JsonStringToMessage(body, msg.get(), o);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("body: not a ", d->full_name(), " in JSON (",
                       parsed.message().ToString(), ")"));
    }
  }
  if (query.size() > limits::kHttpQueryParamsMax) {
    return absl::InvalidArgumentError(absl::StrCat(
        "query: more than ", limits::kHttpQueryParamsMax, " parameters"));
  }
  for (const auto& [name, value] : query) {
    RETURN_IF_ERROR(SetFromQuery(d, name, value, msg.get()));
  }
  for (size_t i = 0; i < route.path_fields.size() && i < path_values.size();
       ++i) {
    const FieldDescriptor* f = d->FindFieldByName(route.path_fields[i]);
    msg->GetReflection()->SetString(msg.get(), f, path_values[i]);
  }
  return msg;
}

absl::StatusOr<std::string> ResponseJson(const Message& message) {
  google::protobuf::util::JsonPrintOptions o;
  o.always_print_primitive_fields = true;
  std::string out;
  const auto s = google::protobuf::util::MessageToJsonString(message, &out, o);
  if (!s.ok()) {
    return absl::InternalError(
        absl::StrCat("response: cannot print JSON: ", s.message().ToString()));
  }
  return out;
}

}  // namespace partnerledger::http

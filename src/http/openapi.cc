// The OpenAPI 3.0 document, generated from the route table and the proto
// descriptors, so it always describes what the server parses: a field added
// to a request message appears as a query parameter, and in the schemas.
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "http/routes.h"
#include "util/json.h"

namespace partnerledger::http {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// A JSON string literal.
std::string Quote(const std::string& s) {
  return absl::StrCat("\"", JsonEscape(s), "\"");
}

// JSON schema of a message written as one JSON value by the proto3 JSON
// mapping (google.protobuf well-known types), or "" for an ordinary one.
std::string WellKnownSchema(const Descriptor* d) {
  const std::string& n = d->full_name();
  if (n == "google.protobuf.Timestamp") {
    return R"({"type":"string","format":"date-time"})";
  }
  if (n == "google.protobuf.Duration") {
    return R"({"type":"string","example":"1.5s"})";
  }
  if (absl::StartsWith(n, "google.protobuf.")) return R"({})";
  return "";
}

class SchemaWriter {
 public:
  // The schema of one value of `f` (ignoring repetition); records the
  // messages it refers to.
  std::string Scalar(const FieldDescriptor* f) {
    switch (f->type()) {
      case FieldDescriptor::TYPE_INT64:
      case FieldDescriptor::TYPE_SINT64:
      case FieldDescriptor::TYPE_SFIXED64:
        return R"({"type":"string","format":"int64"})";
      case FieldDescriptor::TYPE_UINT64:
      case FieldDescriptor::TYPE_FIXED64:
        return R"({"type":"string","format":"uint64"})";
      case FieldDescriptor::TYPE_INT32:
      case FieldDescriptor::TYPE_SINT32:
      case FieldDescriptor::TYPE_SFIXED32:
        return R"({"type":"integer","format":"int32"})";
      case FieldDescriptor::TYPE_UINT32:
      case FieldDescriptor::TYPE_FIXED32:
        return R"({"type":"integer","format":"int64","minimum":0})";
      case FieldDescriptor::TYPE_DOUBLE:
      case FieldDescriptor::TYPE_FLOAT:
        return R"({"type":"number"})";
      case FieldDescriptor::TYPE_BOOL:
        return R"({"type":"boolean"})";
      case FieldDescriptor::TYPE_STRING:
        return R"({"type":"string"})";
      case FieldDescriptor::TYPE_BYTES:
        return R"({"type":"string","format":"byte"})";
      case FieldDescriptor::TYPE_ENUM: {
        std::vector<std::string> names;
        for (int i = 0; i < f->enum_type()->value_count(); ++i) {
          names.push_back(Quote(f->enum_type()->value(i)->name()));
        }
        return absl::StrCat(R"({"type":"string","enum":[)",
                            absl::StrJoin(names, ","), "]}");
      }
      case FieldDescriptor::TYPE_MESSAGE:
      case FieldDescriptor::TYPE_GROUP: {
        if (std::string wk = WellKnownSchema(f->message_type()); !wk.empty()) {
          return wk;
        }
        return Ref(f->message_type());
      }
    }
    return "{}";
  }

  std::string Field(const FieldDescriptor* f) {
    if (f->is_map()) {
      return absl::StrCat(R"({"type":"object","additionalProperties":)",
                          Scalar(f->message_type()->map_value()), "}");
    }
    if (f->is_repeated()) {
      return absl::StrCat(R"({"type":"array","items":)", Scalar(f), "}");
    }
    return Scalar(f);
  }

  std::string Ref(const Descriptor* d) {
    if (!done_.count(d->full_name())) {
      done_.insert(d->full_name());
      pending_.push_back(d);
    }
    return absl::StrCat(R"({"$ref":"#/components/schemas/)", d->full_name(),
                        "\"}");
  }

  // Every referenced message's schema, as the body of "schemas".
  std::string Components() {
    std::map<std::string, std::string> out;
    while (!pending_.empty()) {
      const Descriptor* d = pending_.back();
      pending_.pop_back();
      std::vector<std::string> props;
      for (int i = 0; i < d->field_count(); ++i) {
        const FieldDescriptor* f = d->field(i);
        props.push_back(absl::StrCat(Quote(f->json_name()), ":", Field(f)));
      }
      out[d->full_name()] = absl::StrCat(R"({"type":"object","properties":{)",
                                         absl::StrJoin(props, ","), "}}");
    }
    std::vector<std::string> entries;
    for (const auto& [name, schema] : out) {
      entries.push_back(absl::StrCat(Quote(name), ":", schema));
    }
    return absl::StrJoin(entries, ",");
  }

 private:
  std::set<std::string> done_;
  std::vector<const Descriptor*> pending_;
};

// Query parameters for every field a parameter can set (routes.h), nested
// messages by dotted paths.
void QueryParameters(const Descriptor* d, const std::string& prefix,
                     const std::set<std::string>& skip, int depth,
                     SchemaWriter& schemas, std::vector<std::string>& out) {
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    const std::string name = prefix + f->name();
    if (skip.count(name) || f->is_map()) continue;
    const bool message = f->type() == FieldDescriptor::TYPE_MESSAGE &&
                         WellKnownSchema(f->message_type()).empty();
    if (message) {
      if (!f->is_repeated() && depth < 4) {
        QueryParameters(f->message_type(), name + ".", skip, depth + 1, schemas,
                        out);
      }
      continue;
    }
    out.push_back(absl::StrCat(R"({"name":)", Quote(name),
                               R"(,"in":"query","required":false,"schema":)",
                               schemas.Field(f), "}"));
  }
}

std::string OpenApiPath(const std::string& path) { return path; }

}  // namespace

std::string OpenApiDocument(const std::vector<BoundRoute>& routes) {
  SchemaWriter schemas;
  std::map<std::string, std::vector<std::string>> paths;
  for (const BoundRoute& r : routes) {
    std::vector<std::string> params;
    std::set<std::string> skip;
    for (const std::string& f : r.path_fields) {
      skip.insert(f);
      params.push_back(absl::StrCat(
          R"({"name":)", Quote(f),
          R"(,"in":"path","required":true,"schema":{"type":"string"}})"));
    }
    const bool post = std::string(r.route.http_method) == "POST";
    if (!post) {
      QueryParameters(r.method->input_type(), "", skip, 0, schemas, params);
    }
    std::string op = absl::StrCat(
        R"({"operationId":)", Quote(r.method->name()), R"(,"summary":)",
        Quote(r.route.summary), R"(,"tags":[)",
        Quote(r.method->service()->name()), "]", R"(,"description":)",
        Quote(absl::StrCat(
            "gRPC ", r.method->full_name(), "; the response is its ",
            r.method->output_type()->full_name(), " in proto3 JSON.")),
        R"(,"parameters":[)", absl::StrJoin(params, ","), "]");
    if (post) {
      absl::StrAppend(
          &op,
          R"(,"requestBody":{"required":false,"content":{"application/json":{"schema":)",
          schemas.Ref(r.method->input_type()), "}}}");
    }
    absl::StrAppend(
        &op,
        R"(,"responses":{"200":{"description":"OK","content":{"application/json":{"schema":)",
        schemas.Ref(r.method->output_type()),
        R"(}}},"default":{"description":"An error: the gRPC code mapped to an HTTP status","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}}}})");
    paths[OpenApiPath(r.route.path)].push_back(
        absl::StrCat(Quote(post ? "post" : "get"), ":", op));
  }
  std::vector<std::string> path_entries;
  for (const auto& [path, ops] : paths) {
    path_entries.push_back(
        absl::StrCat(Quote(path), ":{", absl::StrJoin(ops, ","), "}"));
  }
  const std::string components = schemas.Components();
  return absl::StrCat(
      R"({"openapi":"3.0.3","info":{"title":"partnerledger HTTP/JSON API","version":"v1",)",
      R"("description":"Each route is one gRPC method of partnerledger.v1 with the proto3 JSON mapping of its messages. Query parameters name request fields (proto or JSON names; nested fields with dots, e.g. as_of.position). Errors: the gRPC code mapped to an HTTP status (AIP-193)."},)",
      R"("security":[{"bearer":[]},{}],"paths":{)",
      absl::StrJoin(path_entries, ","),
      R"(},"components":{"securitySchemes":{"bearer":{"type":"http","scheme":"bearer"}},"schemas":{)",
      R"("Error":{"type":"object","properties":{"error":{"type":"object","properties":{)",
      R"("code":{"type":"integer"},"status":{"type":"string"},"message":{"type":"string"},)",
      R"("field":{"type":"string","description":"The request field the error names, when it names one"}}}}})",
      components.empty() ? "" : ",", components, "}}}");
}

}  // namespace partnerledger::http

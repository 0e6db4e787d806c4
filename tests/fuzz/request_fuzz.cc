// Fuzzes what a client sends, from the wire message on: the first byte
// picks the request type, the rest is its protobuf encoding.
//   AppendEventsRequest: wire -> domain translation (src/server/translate),
//     the structural validation (src/domain/validate) and, for what passes,
//     Decide/Apply of every event against the worked example's state
//     (domain_sim.h checks the rules' own contract).
//   The query requests: answered by the projection queries over a ledger
//     (RocksDB in memory) holding the worked example.
// Every answer must be a status for bad input or a rule (never INTERNAL,
// DATA_LOSS, UNKNOWN, UNAVAILABLE); INVALID_ARGUMENT names a field; an
// answer's as_of_position is within the log.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "domain/validate.h"
#include "domain_sim.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "ledger/ledger_internal.h"
#include "partnerledger/clock.h"
#include "partnerledger/ledger.h"
#include "projection/queries.h"
#include "rocksdb/env.h"
#include "server/translate.h"
#include "util/strings.h"
#include "util/uuid.h"

namespace partnerledger::fuzz {
namespace {

// The worked example (tools/ledgerctl/examples), one request per line.
std::vector<v1::AppendEventsRequest> WorkedExample() {
  std::ifstream f(PL_SOURCE_DIR
                  "/tools/ledgerctl/examples/worked-example.jsonl");
  std::stringstream ss;
  ss << f.rdbuf();
  std::vector<v1::AppendEventsRequest> out;
  const std::string text = ss.str();
  for (std::string_view line : Split(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    v1::AppendEventsRequest r;
    const auto s =
        google::protobuf::util::JsonStringToMessage(std::string(line), &r);
    PL_FUZZ_CHECK(s.ok(), "worked example line does not parse");
    out.push_back(std::move(r));
  }
  PL_FUZZ_CHECK(out.size() >= 10, "worked example missing");
  return out;
}

void CheckAnswer(const absl::Status& s, const char* what) {
  PL_FUZZ_CHECK(IsInputOrRuleCode(s.code()),
                std::string(what) + ": " + s.ToString());
  PL_FUZZ_CHECK(s.ok() || !s.message().empty(),
                std::string(what) + ": an error without a message");
}

// True when `message` starts with the name of a field of AppendEventsRequest
// ("events[3].payload: ...", "expected_state: ..."): every refusal of the
// translator names the field at fault.
bool NamesARequestField(std::string_view message) {
  const google::protobuf::Descriptor* d = v1::AppendEventsRequest::descriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const std::string& name = d->field(i)->name();
    if (message.starts_with(name) && message.size() > name.size() &&
        (message[name.size()] == ':' || message[name.size()] == '[')) {
      return true;
    }
  }
  return false;
}

// Translation, validation and decision of an append, as the writer would.
absl::Status Append(DomainSim& sim, const v1::AppendEventsRequest& wire) {
  absl::StatusOr<AppendRequest> req = server::FromWire(wire);
  if (!req.ok()) {
    PL_FUZZ_CHECK(req.status().code() == absl::StatusCode::kInvalidArgument,
                  req.status().ToString());
    PL_FUZZ_CHECK(NamesARequestField(StdView(req.status().message())),
                  "no field named: " + req.status().ToString());
    return req.status();
  }
  absl::StatusOr<domain::StreamName> name =
      domain::ParseStreamName(req->stream);
  if (!name.ok()) {
    PL_FUZZ_CHECK(name.status().code() == absl::StatusCode::kInvalidArgument,
                  name.status().ToString());
    return name.status();
  }
  for (size_t i = 0; i < req->events.size(); ++i) {
    const NewEvent& e = req->events[i];
    const std::string field = absl::StrCat("events[", i, "].payload");
    if (absl::Status s =
            domain::ValidateProposedPayload(e.payload, *name, field);
        !s.ok()) {
      PL_FUZZ_CHECK(s.code() == absl::StatusCode::kInvalidArgument,
                    s.ToString());
      PL_FUZZ_CHECK(s.message().rfind(field, 0) == 0,
                    "no field named: " + s.ToString());
      return s;
    }
    if (!ParseUuid(e.event_id).has_value()) {
      return absl::InvalidArgumentError("event_id");
    }
  }
  for (const NewEvent& e : req->events) {
    absl::Status s =
        sim.Append(req->stream, e.event_id, e.occurred_at_us, e.payload);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

struct World {
  World() {
    rules = domain::NewPartnershipRules();
    env.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    Options o;
    o.data_dir = "/fuzz/ledger";
    o.clock = &clock;
    o.env = env.get();
    absl::StatusOr<std::unique_ptr<Ledger>> l = Ledger::Open(o);
    PL_FUZZ_CHECK(l.ok(), l.status().ToString());
    ledger = *std::move(l);
    seeded = std::make_unique<DomainSim>(rules.get());
    for (const v1::AppendEventsRequest& r : WorkedExample()) {
      PL_FUZZ_CHECK(Append(*seeded, r).ok(), "worked example in the sim");
      absl::StatusOr<AppendRequest> req = server::FromWire(r);
      PL_FUZZ_CHECK(req.ok(), req.status().ToString());
      absl::StatusOr<AppendResult> done =
          ledger->AppendAndWait(*std::move(req));
      PL_FUZZ_CHECK(done.ok(), done.status().ToString());
      clock.Advance(1'000'000);
    }
    queries = std::make_unique<projection::Queries>(
        projection::Queries::Live(&ledger::StoreOf(*ledger)));
  }

  FakeClock clock{1'767'225'600'000'000};
  std::unique_ptr<domain::Rules> rules;
  std::unique_ptr<rocksdb::Env> env;
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<DomainSim> seeded;
  std::unique_ptr<projection::Queries> queries;
};

template <typename Req, typename Resp>
void Query(const World& w, std::string_view bytes,
           absl::StatusOr<Resp> (projection::Queries::*method)(const Req&)
               const,
           const char* what) {
  Req req;
  if (!req.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return;
  }
  absl::StatusOr<Resp> resp = (w.queries.get()->*method)(req);
  CheckAnswer(resp.status(), what);
  if (resp.ok()) {
    PL_FUZZ_CHECK(resp->as_of_position() <= w.ledger->head_position(),
                  std::string(what) + ": as_of_position beyond the head");
  }
}

}  // namespace
}  // namespace partnerledger::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace partnerledger;
  using namespace partnerledger::fuzz;
  using projection::Queries;
  static World* world = new World();
  ByteReader in(data, size);
  const uint8_t kind = in.U8();
  const std::string_view bytes = in.Rest();
  switch (kind % 8) {
    case 0: {
      v1::AppendEventsRequest req;
      if (!req.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        return 0;
      }
      DomainSim sim = *world->seeded;
      CheckAnswer(Append(sim, req), "append");
      sim.CheckRebuildEqualsState();
      break;
    }
    case 1:
      Query(*world, bytes, &Queries::GetObligations, "obligations");
      break;
    case 2:
      Query(*world, bytes, &Queries::GetReferralBalance, "referral balance");
      break;
    case 3:
      Query(*world, bytes, &Queries::GetStatement, "statement");
      break;
    case 4:
      Query(*world, bytes, &Queries::GetDeal, "deal");
      break;
    case 5:
      Query(*world, bytes, &Queries::ListConflicts, "conflicts");
      break;
    case 6:
      Query(*world, bytes, &Queries::GetSatisfaction, "satisfaction");
      break;
    default:
      Query(*world, bytes, &Queries::GetPartnershipHealth, "health");
      break;
  }
  return 0;
}

#include "crash/append_load.h"

#include <random>
#include <unordered_set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

namespace partnerledger::crash {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
namespace pb = ::partnerledger::v1;

// Bounds the checker's loops: a log this long would take the quick test
// far beyond its budget, so reaching it means the server loops.
constexpr uint64_t kReadPagesMax = 100'000;
constexpr uint32_t kReadPageEvents = 1000;
constexpr size_t kExamplesMax = 5;
constexpr size_t kUnexpectedMax = 10;
constexpr int kMessageBytesMax = 64 * 1024 * 1024;

// About 200 bytes, like a real elevator pitch.
constexpr char kPitch[] =
    "We integrate, operate and support event-driven finance platforms for "
    "mid-sized European companies; our partners bring the customer, we "
    "bring certified engineers, a 24/7 desk and ISO 27001 processes.";
static_assert(sizeof(kPitch) > 180 && sizeof(kPitch) < 240);

// gRPC and absl share the numbering of status codes.
std::string CodeName(grpc::StatusCode c) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(c));
}

// What a killed server or a saturated machine may answer. (A connection
// cut mid-call can surface as UNKNOWN/INTERNAL from the transport in some
// gRPC versions, so those count as expected too; they are never acks.)
bool ExplainedByCrashOrLoad(grpc::StatusCode c) {
  switch (c) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
      return true;
    default:
      return false;
  }
}

void SetDeadline(grpc::ClientContext* ctx, milliseconds timeout) {
  ctx->set_deadline(std::chrono::system_clock::now() + timeout);
}

}  // namespace

pb::AppendEventsRequest NewRegistration(const std::string& event_id) {
  pb::AppendEventsRequest req;
  req.set_stream("partner-" + event_id);
  req.set_expected_state(pb::EXPECTED_STATE_NO_STREAM);
  pb::ProposedEvent* e = req.add_events();
  e->set_event_id(event_id);
  *e->mutable_occurred_at() =
      google::protobuf::util::TimeUtil::GetCurrentTime();
  pb::PartnerRegistered* p = e->mutable_payload()->mutable_partner_registered();
  p->set_legal_name("Crash Test Partner " + event_id.substr(0, 8) + " B.V.");
  p->set_country("NL");
  p->set_pitch(kPitch);
  p->add_specialties("durability");
  return req;
}

std::shared_ptr<grpc::Channel> NewChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(kMessageBytesMax);
  args.SetMaxSendMessageSize(kMessageBytesMax);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   args);
}

AppendLoad::AppendLoad(const std::string& address, const LoadOptions& o)
    : options_(o) {
  for (int i = 0; i < std::max(1, o.channels); ++i) {
    channels_.push_back(NewChannel(address));
  }
  for (int i = 0; i < o.threads; ++i) {
    threads_.emplace_back([this, i] { Client(i); });
  }
}

AppendLoad::~AppendLoad() { StopAndJoin(); }

void AppendLoad::Client(int index) {
  std::seed_seq seq{static_cast<uint32_t>(options_.seed),
                    static_cast<uint32_t>(options_.seed >> 32),
                    static_cast<uint32_t>(index)};
  std::mt19937_64 rng(seq);
  auto stub = pb::EventStoreService::NewStub(
      channels_[static_cast<size_t>(index) % channels_.size()]);
  std::vector<Ack> local;
  while (!stop_.load()) {
    const std::string id = RandomUuid(rng);
    const pb::AppendEventsRequest req = NewRegistration(id);
    pb::AppendEventsResponse resp;
    grpc::ClientContext ctx;
    SetDeadline(&ctx, options_.rpc_timeout);
    const grpc::Status s = stub->AppendEvents(&ctx, req, &resp);
    if (!s.ok()) {
      RecordFailure(s);
      continue;
    }
    if (resp.events_size() < 1 || resp.events(0).event_id() != id ||
        resp.events(0).position() == 0 || resp.replayed()) {
      RecordUnexpected("malformed AppendEvents response for " + id + ": " +
                       resp.ShortDebugString());
      continue;
    }
    absl::MutexLock lock(&mu_);
    acks_.push_back(Ack{id, resp.events(0).position()});
    acked_.fetch_add(1);
    acked_cv_.SignalAll();
  }
}

void AppendLoad::RecordFailure(const grpc::Status& s) {
  const grpc::StatusCode c = s.error_code();
  if (!ExplainedByCrashOrLoad(c)) {
    RecordUnexpected(
        absl::StrCat("AppendEvents ", CodeName(c), ": ", s.error_message()));
  }
  absl::MutexLock lock(&mu_);
  ++failures_[CodeName(c)];
}

void AppendLoad::RecordUnexpected(const std::string& what) {
  absl::MutexLock lock(&mu_);
  if (unexpected_.size() < kUnexpectedMax) unexpected_.push_back(what);
}

bool AppendLoad::WaitForAcks(uint64_t n, milliseconds timeout) {
  absl::MutexLock lock(&mu_);
  const absl::Time deadline = absl::Now() + absl::FromChrono(timeout);
  while (acked_.load() < n) {
    if (acked_cv_.WaitWithDeadline(&mu_, deadline)) return acked_.load() >= n;
  }
  return true;
}

std::vector<Ack> AppendLoad::StopAndJoin() {
  stop_.store(true);
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  absl::MutexLock lock(&mu_);
  return acks_;
}

std::map<std::string, uint64_t> AppendLoad::Failures() const {
  absl::MutexLock lock(&mu_);
  return failures_;
}

std::vector<std::string> AppendLoad::UnexpectedFailures() const {
  absl::MutexLock lock(&mu_);
  return unexpected_;
}

absl::StatusOr<LogCheck> CheckLog(const std::string& address,
                                  const std::vector<Ack>& acked,
                                  milliseconds rpc_timeout) {
  auto stub = pb::EventStoreService::NewStub(NewChannel(address));

  // event_ids[p - 1] is the id at position p.
  std::vector<std::string> event_ids;
  uint64_t reported_head = 0;
  uint64_t from = 1;
  bool end = false;
  for (uint64_t page = 0; !end; ++page) {
    if (page == kReadPagesMax) {
      return absl::DeadlineExceededError("ReadAll did not reach the end");
    }
    pb::ReadAllRequest req;
    req.set_from_position(from);
    req.set_direction(pb::READ_DIRECTION_FORWARD);
    req.set_max_count(kReadPageEvents);
    pb::ReadAllResponse resp;
    grpc::ClientContext ctx;
    SetDeadline(&ctx, rpc_timeout);
    const grpc::Status s = stub->ReadAll(&ctx, req, &resp);
    if (!s.ok()) {
      return absl::UnavailableError(absl::StrCat("ReadAll from ", from, ": ",
                                                 CodeName(s.error_code()), " ",
                                                 s.error_message()));
    }
    for (const pb::Event& e : resp.events()) {
      const uint64_t want = event_ids.size() + 1;
      if (e.position() != want) {
        return absl::DataLossError(
            absl::StrCat("gap or disorder: expected position ", want, ", read ",
                         e.position()));
      }
      event_ids.push_back(e.event_id());
    }
    reported_head = resp.head_position();
    end = resp.end_of_log();
    if (!end) {
      if (resp.events().empty() ||
          resp.next_position() != event_ids.size() + 1) {
        return absl::DataLossError(
            absl::StrCat("ReadAll page from ", from, " returned ",
                         resp.events_size(), " events and next_position ",
                         resp.next_position(), " without end_of_log"));
      }
      from = resp.next_position();
    }
  }
  LogCheck check;
  check.head = event_ids.size();
  if (reported_head != check.head) {
    return absl::DataLossError(absl::StrCat(
        "read ", check.head, " events but head_position is ", reported_head));
  }

  std::unordered_set<std::string> seen;
  seen.reserve(event_ids.size());
  for (size_t i = 0; i < event_ids.size(); ++i) {
    if (!seen.insert(event_ids[i]).second) {
      return absl::DataLossError(absl::StrCat(
          "event_id ", event_ids[i], " stored twice (again at ", i + 1, ")"));
    }
  }

  for (const Ack& a : acked) {
    const bool present = a.position >= 1 && a.position <= check.head &&
                         event_ids[a.position - 1] == a.event_id;
    if (present) continue;
    ++check.lost;
    if (check.lost_examples.size() < kExamplesMax) {
      check.lost_examples.push_back(
          absl::StrCat(a.position, ":", a.event_id, " -> ",
                       a.position <= check.head ? event_ids[a.position - 1]
                                                : std::string("beyond head")));
    }
  }

  pb::VerifyChainRequest vreq;  // 0..0: the whole log
  pb::VerifyChainResponse vresp;
  grpc::ClientContext vctx;
  SetDeadline(&vctx, rpc_timeout);
  const grpc::Status vs = stub->VerifyChain(&vctx, vreq, &vresp);
  if (!vs.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "VerifyChain: ", CodeName(vs.error_code()), " ", vs.error_message()));
  }
  if (!vresp.ok() || vresp.verified_through() != check.head) {
    return absl::DataLossError(absl::StrCat("VerifyChain over 1..", check.head,
                                            ": ", vresp.ShortDebugString()));
  }
  return check;
}

}  // namespace partnerledger::crash

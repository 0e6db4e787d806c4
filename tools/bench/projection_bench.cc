// projection-bench: the two projection figures of DESIGN §7.
//
//   --mode=obligations --target=HOST:PORT [--events=1000000]
//       Loads a realistic partnership history into a running ledgerd until
//       its log holds --events events (partners, agreements, won deals, then
//       revenue bookings whose commissions the server derives: 50 bookings
//       per append = 100 events), then for --duration_s keeps
//       --append_clients clients booking revenue (one booking per append)
//       while one client calls GetObligations in a loop. Prints the query's
//       latency p50/p99/p999 and, as the baseline of the same run, the
//       latency of GetDigest (a trivial RPC: the gRPC round trip alone) sent
//       by the same client, alternating, plus the append rate meanwhile.
//   --mode=replay --data_dir=DIR [--repeat=3]
//       Offline, on a stopped server's data directory: recomputes every
//       projection from the log (projection::Replay into a scratch store)
//       and, as the baseline of the same run, only reads and verifies every
//       record (decode + SHA-256 check, what any replay must do). Prints
//       events/s of both, medians over --repeat runs, and the ratio.
//   --mode=scale --ledgerd=PATH [--scale_events=1000000]
//       Starts ledgerd on a fresh directory under --work_dir and grows its
//       log with the same realistic mix to each of 100,000, 1,000,000 and
//       10,000,000 events that is <= --scale_events. At each size: the
//       append rate while growing to it; then for --duration_s,
//       --append_clients clients booking revenue (one booking per append)
//       while one client alternates GetObligations and GetStatement (p50 /
//       p99 of each); then a restart (SIGTERM, start again) timed until the
//       server answers GetDigest at the same head. One table row per size.
//
// Every loop is bounded by --events, --scale_events or --duration_s; RPCs
// have deadlines; ledgerd gets 60 s to start and to stop before SIGKILL.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "domain/partnership.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "partnerledger/v1/query.grpc.pb.h"
#include "projection/rebuild.h"
#include "store/store.h"

ABSL_FLAG(std::string, mode, "obligations", "obligations | replay");
ABSL_FLAG(std::string, target, "127.0.0.1:50051", "ledgerd address");
ABSL_FLAG(uint64_t, events, 1'000'000,
          "obligations: log size before measuring");
ABSL_FLAG(int, load_clients, 4, "obligations: clients loading the history");
ABSL_FLAG(int, append_clients, 8,
          "obligations: clients appending while querying");
ABSL_FLAG(double, duration_s, 10, "obligations: measurement window");
ABSL_FLAG(std::string, data_dir, "",
          "replay: a stopped ledger's data directory");
ABSL_FLAG(int, repeat, 3, "replay: runs (medians are reported)");
ABSL_FLAG(std::string, ledgerd, "", "scale: path of the ledgerd binary");
ABSL_FLAG(std::string, work_dir, "/tmp", "scale: parent of the data directory");
ABSL_FLAG(
    uint64_t, scale_events, 1'000'000,
    "scale: the largest log size measured (sizes 100k, 1M, 10M up to it)");

extern char** environ;

namespace partnerledger::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kPartners = 10;
constexpr int kDeals = 120;
constexpr int kBookingsPerLoadAppend = 50;
constexpr const char* kCurrencies[] = {"EUR", "USD", "JPY"};

std::string Uuid(std::mt19937_64& rng) {
  char buf[40];
  const uint64_t a = rng(), b = rng();
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-4%03llx-8%03llx-%012llx",
                static_cast<unsigned long long>(a >> 32),
                static_cast<unsigned long long>((a >> 16) & 0xffff),
                static_cast<unsigned long long>(a & 0xfff),
                static_cast<unsigned long long>(b >> 52),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

std::string Partner(int i) { return absl::StrCat("Q", i); }
// Deal d is between partners d % kPartners and (d + 1) % kPartners.
std::string AgreementOf(int d) {
  const int a = d % kPartners, b = (d + 1) % kPartners;
  return absl::StrCat("A", std::min(a, b), "-", std::max(a, b));
}

class Client {
 public:
  explicit Client(std::shared_ptr<grpc::Channel> ch, uint64_t seed)
      : events_(v1::EventStoreService::NewStub(ch)),
        queries_(v1::LedgerQueryService::NewStub(ch)),
        rng_(seed) {}

  grpc::Status Append(const std::string& stream,
                      std::vector<v1::EventPayload> payloads) {
    v1::AppendEventsRequest req;
    req.set_stream(stream);
    for (v1::EventPayload& p : payloads) {
      v1::ProposedEvent* e = req.add_events();
      e->set_event_id(Uuid(rng_));
      e->mutable_occurred_at()->set_seconds(1'780'000'000);
      *e->mutable_payload() = std::move(p);
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(30));
    v1::AppendEventsResponse resp;
    return events_->AppendEvents(&ctx, req, &resp);
  }

  v1::EventPayload Booking(int deal, uint64_t seq) {
    v1::EventPayload p;
    v1::RevenueBooked* r = p.mutable_revenue_booked();
    r->set_revenue_id(absl::StrCat("r", seq));
    r->mutable_amount()->set_currency(kCurrencies[deal % 3]);
    r->mutable_amount()->set_amount_minor(
        1000 + static_cast<int64_t>(rng_() % 10'000'000));
    const std::string date =
        absl::StrCat(2026 + rng_() % 2, "-0", 1 + rng_() % 9, "-15");
    r->set_service_period_start(date);
    r->set_booked_on(date);
    r->set_invoice_ref("INV");
    return p;
  }

  std::mt19937_64& rng() { return rng_; }
  v1::EventStoreService::Stub* events() { return events_.get(); }
  v1::LedgerQueryService::Stub* queries() { return queries_.get(); }

 private:
  std::unique_ptr<v1::EventStoreService::Stub> events_;
  std::unique_ptr<v1::LedgerQueryService::Stub> queries_;
  std::mt19937_64 rng_;
};

bool Must(const grpc::Status& s, const std::string& what) {
  if (s.ok() || s.error_code() == grpc::StatusCode::ALREADY_EXISTS) return true;
  std::fprintf(stderr, "%s: %s\n", what.c_str(), s.error_message().c_str());
  return false;
}

uint64_t Head(Client& c) {
  grpc::ClientContext ctx;
  v1::GetDigestResponse d;
  if (!c.events()->GetDigest(&ctx, v1::GetDigestRequest(), &d).ok()) return 0;
  return d.digest().position();
}

// Partners, agreements and won deals; idempotent (ALREADY_EXISTS is fine).
bool Setup(Client& c) {
  for (int i = 0; i < kPartners; ++i) {
    v1::EventPayload p;
    p.mutable_partner_registered()->set_legal_name(absl::StrCat("Partner ", i));
    p.mutable_partner_registered()->set_country("NL");
    p.mutable_partner_registered()->set_pitch("bench");
    if (!Must(c.Append("partner-" + Partner(i), {p}), "partner")) return false;
  }
  for (int i = 0; i < kPartners; ++i) {
    const int a = i, b = (i + 1) % kPartners;
    v1::EventPayload p;
    v1::AgreementSigned* s = p.mutable_agreement_signed();
    s->set_party_a(Partner(std::min(a, b)));
    s->set_party_b(Partner(std::max(a, b)));
    s->mutable_document()->set_sha256(std::string(64, 'a'));
    s->set_effective_from("2026-01-01");
    if (!Must(c.Append("agreement-" + AgreementOf(i), {p}), "agreement"))
      return false;
  }
  for (int d = 0; d < kDeals; ++d) {
    v1::EventPayload o;
    v1::DealOriginated* e = o.mutable_deal_originated();
    e->set_agreement_id(AgreementOf(d));
    const bool flip = (d / kPartners) % 2 == 1;
    e->set_originator(Partner(flip ? (d + 1) % kPartners : d % kPartners));
    e->set_provider(Partner(flip ? d % kPartners : (d + 1) % kPartners));
    e->set_prime((d % 4 == 0) ? e->originator() : e->provider());
    e->mutable_customer()->set_key(absl::StrCat("customer-", d));
    e->set_offering_class(v1::OFFERING_CLASS_SAAS);
    e->set_currency(kCurrencies[d % 3]);
    e->set_start_date("2026-01-01");
    v1::EventPayload m;
    m.mutable_margin_agreed();
    v1::EventPayload w;
    w.mutable_deal_closed()->set_outcome(v1::DEAL_OUTCOME_WON);
    if (!Must(c.Append(absl::StrCat("deal-D", d), {o, m, w}), "deal"))
      return false;
  }
  return true;
}

std::atomic<uint64_t> g_seq{0};

void Load(Client& c, uint64_t target_events) {
  while (Head(c) < target_events) {
    const int deal = static_cast<int>(c.rng()() % kDeals);
    std::vector<v1::EventPayload> batch;
    const uint64_t base = g_seq.fetch_add(kBookingsPerLoadAppend);
    for (int i = 0; i < kBookingsPerLoadAppend; ++i)
      batch.push_back(c.Booking(deal, base + i));
    if (!Must(c.Append(absl::StrCat("deal-D", deal), std::move(batch)), "load"))
      return;
  }
}

// --append_clients threads, each booking revenue on random deals through
// its own channel (client seeds seed_base, seed_base + 1, ...) until `stop`;
// `appended` counts the events written (each booking and its commission).
std::vector<std::thread> StartBookingAppenders(
    const std::string& target, int seed_base, std::atomic<bool>* stop,
    std::atomic<uint64_t>* appended) {
  std::vector<std::thread> appenders;
  for (int i = 0; i < absl::GetFlag(FLAGS_append_clients); ++i) {
    appenders.emplace_back([=] {
      Client c(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()),
               seed_base + i);
      while (!stop->load()) {
        const int deal = static_cast<int>(c.rng()() % kDeals);
        if (c.Append(absl::StrCat("deal-D", deal),
                     {c.Booking(deal, g_seq.fetch_add(1))})
                .ok()) {
          appended->fetch_add(2);  // the booking and its derived commission
        }
      }
    });
  }
  return appenders;
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1,
                    static_cast<size_t>(q * static_cast<double>(v.size())))];
}

int RunObligations() {
  const std::string target = absl::GetFlag(FLAGS_target);
  auto channel =
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  Client setup(channel, 1);
  if (!Setup(setup)) return 1;
  g_seq = 1'000'000'000ULL * (1 + std::random_device()() % 1000);
  const uint64_t events = absl::GetFlag(FLAGS_events);
  const auto load_start = Clock::now();
  const uint64_t head_before = Head(setup);
  {
    std::vector<std::thread> loaders;
    for (int i = 0; i < absl::GetFlag(FLAGS_load_clients); ++i) {
      loaders.emplace_back([&, i] {
        Client c(
            grpc::CreateChannel(target, grpc::InsecureChannelCredentials()),
            100 + i);
        Load(c, events);
      });
    }
    for (std::thread& t : loaders) t.join();
  }
  const uint64_t head_loaded = Head(setup);
  const double load_s =
      std::chrono::duration<double>(Clock::now() - load_start).count();
  std::printf("loaded: head %llu (+%llu events in %.1f s, %.0f events/s)\n",
              static_cast<unsigned long long>(head_loaded),
              static_cast<unsigned long long>(head_loaded - head_before),
              load_s, static_cast<double>(head_loaded - head_before) / load_s);

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> appended{0};
  std::vector<std::thread> appenders =
      StartBookingAppenders(target, 200, &stop, &appended);
  Client q(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()),
           300);
  std::vector<double> query_ms, digest_ms;
  int rows = 0;
  const auto end = Clock::now() + std::chrono::duration<double>(
                                      absl::GetFlag(FLAGS_duration_s));
  const uint64_t appended_before = appended.load();
  const auto window_start = Clock::now();
  while (Clock::now() < end) {
    {
      grpc::ClientContext ctx;
      v1::GetObligationsResponse r;
      const auto t0 = Clock::now();
      grpc::Status s =
          q.queries()->GetObligations(&ctx, v1::GetObligationsRequest(), &r);
      query_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      if (!s.ok()) {
        std::fprintf(stderr, "GetObligations: %s\n", s.error_message().c_str());
        stop = true;
        break;
      }
      rows = r.obligations_size();
    }
    {
      grpc::ClientContext ctx;
      v1::GetDigestResponse d;
      const auto t0 = Clock::now();
      q.events()->GetDigest(&ctx, v1::GetDigestRequest(), &d);
      digest_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
  }
  const double window_s =
      std::chrono::duration<double>(Clock::now() - window_start).count();
  stop = true;
  for (std::thread& t : appenders) t.join();
  std::printf(
      "GetObligations (%d rows, log %llu events): %zu calls, p50 %.3f p99 %.3f "
      "p999 %.3f ms\n"
      "GetDigest baseline (same client, alternating): p50 %.3f p99 %.3f p999 "
      "%.3f ms\n"
      "appends meanwhile: %.0f events/s from %d clients\n",
      rows, static_cast<unsigned long long>(Head(setup)), query_ms.size(),
      Percentile(query_ms, 0.5), Percentile(query_ms, 0.99),
      Percentile(query_ms, 0.999), Percentile(digest_ms, 0.5),
      Percentile(digest_ms, 0.99), Percentile(digest_ms, 0.999),
      static_cast<double>(appended.load() - appended_before) / window_s,
      absl::GetFlag(FLAGS_append_clients));
  return 0;
}

// This process's CPU time (all threads), seconds.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int RunReplay() {
  const std::string dir = absl::GetFlag(FLAGS_data_dir);
  store::StoreOptions o;
  o.dir = dir;
  o.read_only = true;
  o.create_if_missing = false;
  absl::StatusOr<std::unique_ptr<store::Store>> log = store::Store::Open(o);
  if (!log.ok()) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(),
                 log.status().ToString().c_str());
    return 1;
  }
  std::vector<double> scan_rate, replay_rate, memory_rate, memory_cpu_us;
  uint64_t events = 0;
  auto rules = domain::NewPartnershipRules();
  for (int r = 0; r < absl::GetFlag(FLAGS_repeat); ++r) {
    // Baseline: read and verify every record, nothing else.
    auto t0 = Clock::now();
    uint64_t n = 0;
    absl::Status s = (*log)->ScanEvents(1, true, [&](store::StoredEvent&&) {
      ++n;
      return true;
    });
    if (!s.ok()) {
      std::fprintf(stderr, "scan: %s\n", s.ToString().c_str());
      return 1;
    }
    scan_rate.push_back(
        static_cast<double>(n) /
        std::chrono::duration<double>(Clock::now() - t0).count());
    // Replay into a fresh scratch store.
    const std::string scratch_dir = absl::StrCat(dir, ".bench-replay");
    std::filesystem::remove_all(scratch_dir);
    {
      store::StoreOptions so;
      so.dir = scratch_dir;
      so.sync = false;
      so.disable_wal = true;
      so.append_only_history = true;
      auto scratch = store::Store::Open(so);
      if (!scratch.ok()) return 1;
      t0 = Clock::now();
      absl::StatusOr<projection::ReplayStats> st =
          projection::Replay(**log, *rules, 0, scratch->get());
      if (!st.ok()) {
        std::fprintf(stderr, "replay: %s\n", st.status().ToString().c_str());
        return 1;
      }
      events = st->events;
      replay_rate.push_back(
          static_cast<double>(st->events) /
          std::chrono::duration<double>(Clock::now() - t0).count());
    }
    std::filesystem::remove_all(scratch_dir);
    // Replay in memory, its history digested, as the server's rebuild does
    // (the stored history's digest runs beside it there).
    t0 = Clock::now();
    const double cpu0 = CpuSeconds();
    projection::HistoryDigest digest;
    absl::StatusOr<projection::ReplayStats> mem =
        projection::ReplayToDigest(**log, *rules, 0, &digest);
    if (!mem.ok()) {
      std::fprintf(stderr, "memory replay: %s\n",
                   mem.status().ToString().c_str());
      return 1;
    }
    memory_rate.push_back(
        static_cast<double>(mem->events) /
        std::chrono::duration<double>(Clock::now() - t0).count());
    // CPU per event of both threads together: what the rate would be on
    // one otherwise idle core, whatever else shares the machine now.
    memory_cpu_us.push_back((CpuSeconds() - cpu0) * 1e6 /
                            static_cast<double>(mem->events));
    std::printf(
        "run %d: verify-only scan %.0f events/s, replay into a scratch store "
        "%.0f "
        "events/s, replay in memory %.0f events/s (%.2f us CPU per event)\n",
        r + 1, scan_rate.back(), replay_rate.back(), memory_rate.back(),
        memory_cpu_us.back());
  }
  std::sort(scan_rate.begin(), scan_rate.end());
  std::sort(replay_rate.begin(), replay_rate.end());
  const double scan = scan_rate[scan_rate.size() / 2];
  std::sort(memory_rate.begin(), memory_rate.end());
  std::sort(memory_cpu_us.begin(), memory_cpu_us.end());
  std::printf(
      "median CPU of the in-memory replay (reader and applier together): %.2f "
      "us per "
      "event, %.0f events per CPU-second\n",
      memory_cpu_us[memory_cpu_us.size() / 2],
      1e6 / memory_cpu_us[memory_cpu_us.size() / 2]);
  const double replay = replay_rate[replay_rate.size() / 2];
  const double memory = memory_rate[memory_rate.size() / 2];
  std::printf(
      "median of %zu over %llu events: replay into a scratch store %.0f "
      "events/s, "
      "in memory %.0f events/s, verify-only scan %.0f events/s; ratios to the "
      "scan "
      "%.2f and %.2f\n",
      replay_rate.size(), static_cast<unsigned long long>(events), replay,
      memory, scan, replay / scan, memory / scan);
  return 0;
}

// A ledgerd child process on `dir`, for the scale mode.
class Server {
 public:
  ~Server() { Stop(); }
  // Starts ledgerd and waits (bounded) until it answers GetDigest.
  bool Start(const std::string& binary, const std::string& dir) {
    const std::string port_file = dir + "/port";
    std::filesystem::remove(port_file);
    std::vector<std::string> args = {binary, "--listen=127.0.0.1:0",
                                     "--data_dir=" + dir + "/data",
                                     "--port_file=" + port_file};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    const std::string log = dir + "/ledgerd.log";
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    const int rc =
        posix_spawn(&pid_, binary.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      pid_ = 0;
      return false;
    }
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return false;
      }
      std::ifstream f(port_file);
      std::string text;
      // The port file is written (renamed into place) once the server
      // serves.
      if (std::getline(f, text) && !text.empty()) {
        target_ = "127.0.0.1:" + text;
        auto ch =
            grpc::CreateChannel(target_, grpc::InsecureChannelCredentials());
        return ch->WaitForConnected(std::chrono::system_clock::now() +
                                    std::chrono::seconds(30));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) != pid_) {
      if (Clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = 0;
  }
  const std::string& target() const { return target_; }

 private:
  pid_t pid_ = 0;
  std::string target_;
};

struct ScaleRow {
  uint64_t events = 0;
  double grow_events_per_s = 0;
  double append_events_per_s = 0;
  double obligations_p50_ms = 0, obligations_p99_ms = 0;
  double statement_p50_ms = 0, statement_p99_ms = 0;
  double restart_s = 0;
};

// Appends and queries for --duration_s at the current size.
bool MeasureAt(const std::string& target, ScaleRow* row) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> appended{0};
  std::vector<std::thread> appenders =
      StartBookingAppenders(target, 400, &stop, &appended);
  Client q(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()),
           500);
  std::vector<double> obligations_ms, statement_ms;
  v1::GetStatementRequest statement;
  statement.set_payer(Partner(1));
  statement.set_payee(Partner(0));
  statement.set_currency("EUR");
  statement.set_period("2026-03");
  bool ok = true;
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration<double>(absl::GetFlag(FLAGS_duration_s));
  while (ok && Clock::now() < end) {
    grpc::ClientContext c1;
    v1::GetObligationsResponse r1;
    auto t0 = Clock::now();
    grpc::Status s =
        q.queries()->GetObligations(&c1, v1::GetObligationsRequest(), &r1);
    obligations_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    ok = Must(s, "GetObligations");
    grpc::ClientContext c2;
    v1::GetStatementResponse r2;
    t0 = Clock::now();
    s = q.queries()->GetStatement(&c2, statement, &r2);
    statement_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    ok = ok && Must(s, "GetStatement");
  }
  const double window_s =
      std::chrono::duration<double>(Clock::now() - start).count();
  stop = true;
  for (std::thread& t : appenders) t.join();
  row->append_events_per_s = static_cast<double>(appended.load()) / window_s;
  row->obligations_p50_ms = Percentile(obligations_ms, 0.5);
  row->obligations_p99_ms = Percentile(obligations_ms, 0.99);
  row->statement_p50_ms = Percentile(statement_ms, 0.5);
  row->statement_p99_ms = Percentile(statement_ms, 0.99);
  return ok;
}

int RunScale() {
  const std::string ledgerd = absl::GetFlag(FLAGS_ledgerd);
  std::string tmpl =
      absl::GetFlag(FLAGS_work_dir) + "/projection-bench-scale-XXXXXX";
  if (ledgerd.empty() || mkdtemp(tmpl.data()) == nullptr) {
    std::fprintf(stderr, "scale: need --ledgerd and a writable --work_dir\n");
    return 2;
  }
  const std::string dir = tmpl;
  std::vector<uint64_t> sizes;
  for (uint64_t n : {100'000ULL, 1'000'000ULL, 10'000'000ULL}) {
    if (n <= absl::GetFlag(FLAGS_scale_events)) sizes.push_back(n);
  }
  if (sizes.empty()) sizes.push_back(absl::GetFlag(FLAGS_scale_events));
  Server server;
  int rc = 0;
  std::vector<ScaleRow> rows;
  if (!server.Start(ledgerd, dir)) {
    std::fprintf(stderr, "scale: ledgerd did not start; see %s/ledgerd.log\n",
                 dir.c_str());
    rc = 1;
  }
  g_seq = 1'000'000'000ULL * (1 + std::random_device()() % 1000);
  if (rc == 0) {
    Client setup(grpc::CreateChannel(server.target(),
                                     grpc::InsecureChannelCredentials()),
                 1);
    if (!Setup(setup)) rc = 1;
  }
  for (uint64_t size : sizes) {
    if (rc != 0) break;
    ScaleRow row;
    const std::string target = server.target();
    Client head_client(
        grpc::CreateChannel(target, grpc::InsecureChannelCredentials()), 2);
    const uint64_t before = Head(head_client);
    const auto t0 = Clock::now();
    std::vector<std::thread> loaders;
    for (int i = 0; i < absl::GetFlag(FLAGS_load_clients); ++i) {
      loaders.emplace_back([&, i] {
        Client c(
            grpc::CreateChannel(target, grpc::InsecureChannelCredentials()),
            100 + i);
        Load(c, size);
      });
    }
    for (std::thread& t : loaders) t.join();
    row.events = Head(head_client);
    row.grow_events_per_s =
        static_cast<double>(row.events - before) /
        std::chrono::duration<double>(Clock::now() - t0).count();
    if (row.events < size || !MeasureAt(target, &row)) {
      rc = 1;
      break;
    }
    const uint64_t head = Head(head_client);
    server.Stop();
    const auto r0 = Clock::now();
    if (!server.Start(ledgerd, dir)) {
      rc = 1;
      break;
    }
    Client after(grpc::CreateChannel(server.target(),
                                     grpc::InsecureChannelCredentials()),
                 3);
    if (Head(after) != head) {
      std::fprintf(stderr, "scale: head %llu after restart, %llu before\n",
                   static_cast<unsigned long long>(Head(after)),
                   static_cast<unsigned long long>(head));
      rc = 1;
      break;
    }
    row.restart_s = std::chrono::duration<double>(Clock::now() - r0).count();
    rows.push_back(row);
    std::printf(
        "at %llu events: grew at %.0f events/s; appends %.0f events/s; "
        "GetObligations "
        "p50/p99 %.3f/%.3f ms; GetStatement p50/p99 %.3f/%.3f ms; restart %.2f "
        "s\n",
        static_cast<unsigned long long>(row.events), row.grow_events_per_s,
        row.append_events_per_s, row.obligations_p50_ms, row.obligations_p99_ms,
        row.statement_p50_ms, row.statement_p99_ms, row.restart_s);
    std::fflush(stdout);
  }
  server.Stop();
  std::error_code ec;
  if (rc == 0) {
    std::filesystem::remove_all(dir, ec);
  } else {
    std::fprintf(stderr, "scale: kept %s for inspection\n", dir.c_str());
  }
  std::printf(
      "\n| log events | grow events/s | appends events/s (%d clients) | "
      "GetObligations "
      "p50 / p99 ms | GetStatement p50 / p99 ms | restart s |\n"
      "|---:|---:|---:|---|---|---:|\n",
      absl::GetFlag(FLAGS_append_clients));
  for (const ScaleRow& r : rows) {
    std::printf("| %llu | %.0f | %.0f | %.3f / %.3f | %.3f / %.3f | %.2f |\n",
                static_cast<unsigned long long>(r.events), r.grow_events_per_s,
                r.append_events_per_s, r.obligations_p50_ms,
                r.obligations_p99_ms, r.statement_p50_ms, r.statement_p99_ms,
                r.restart_s);
  }
  if (rows.size() >= 2) {
    const ScaleRow& a = rows.front();
    const ScaleRow& b = rows.back();
    std::printf(
        "\nlargest vs smallest: appends %.2fx, GetObligations p99 %.2fx, "
        "GetStatement p99 %.2fx (target: within 20%%)\n",
        b.append_events_per_s / a.append_events_per_s,
        b.obligations_p99_ms / a.obligations_p99_ms,
        b.statement_p99_ms / a.statement_p99_ms);
  }
  return rc;
}

}  // namespace
}  // namespace partnerledger::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "obligations") return partnerledger::bench::RunObligations();
  if (mode == "replay") return partnerledger::bench::RunReplay();
  if (mode == "scale") return partnerledger::bench::RunScale();
  std::fprintf(stderr, "--mode must be obligations, replay or scale\n");
  return 2;
}

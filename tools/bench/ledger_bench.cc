// ledger-bench: the load generator behind DESIGN §7 "Numbers to beat".
//
// Modes:
//   --mode=grpc --target=127.0.0.1:PORT
//       Durable appends to a running ledgerd. Each of --clients logical
//       clients keeps exactly one AppendEvents in flight; every append opens
//       a fresh stream "partner-<run>-<client>-<seq>" with NO_STREAM, so the
//       events are valid under the domain rules: a PartnerRegistered, then
//       --batch - 1 PartnerProfileUpdated. Payloads are padded to about
//       --event_bytes serialized bytes.
//   --mode=rocksdb --dir=DIR
//       The baseline: raw RocksDB (default options), --clients threads each
//       writing WriteBatches of --batch values of --event_bytes bytes with
//       big-endian sequential keys, WriteOptions.sync = true.
//   --mode=compare --ledgerd=PATH [--work_dir=/tmp] [--repeat=K]
//       Starts ledgerd on a fresh data directory under --work_dir, runs the
//       grpc mode, stops it (SIGTERM), runs the rocksdb mode on a fresh
//       directory on the same disk, and prints both and the ratio
//       ledger/raw. K pairs alternate; the medians are reported.
//   --mode=tree --ledgerd=PATH [--repeat=K]
//       The cost of the Merkle tree: the grpc mode against ledgerd on a
//       fresh directory with the tree (the default) and without it
//       (--bench_no_merkle_tree), K pairs alternating which goes first; the
//       medians and the ratio with/without are reported.
//   --mode=proofs (--ledgerd=PATH | --target=HOST:PORT) [--proof_events=N]
//       [--repeat=K]
//       Proof latency: loads the log to N events (batches of 1000), then
//       --clients threads take turns asking a random inclusion proof (at
//       the head), a consistency proof (random size to the head) and, as
//       the transport baseline, GetDigest at the head (a round trip that
//       reads nothing), for the window; K windows; p50/p99/p999 per kind
//       and run, then the medians over the runs.
//   --mode=noop --target=HOST:PORT
//       The transport's ceiling: the same async driver and concurrency, but
//       each call is grpc.health.v1.Health/Check (--noop_rpc=health) or
//       GetDigest of the head (--noop_rpc=digest), answered without any
//       write. compare mode also runs it against the same ledgerd right after
//       the appends, so its CPU per call is the per-event cost's yardstick.
//   --mode=http --ledgerd=PATH [--clients=8] [--query_rate=2000]
//       GetObligations latency over the HTTP/JSON API against the same call
//       over gRPC, at the same load: ledgerd with --http_listen on a fresh
//       directory holding the worked example (--example), --clients threads
//       (one connection each) asking at --query_rate calls/s in total (0:
//       back to back), one transport after the other, --repeat times
//       alternating which goes first; p50/p99 per run, the medians and the
//       ratio of the p99s (HTTP / gRPC).
//   --mode=replicated --ledgerd=PATH [--etcd=/usr/bin/etcd] [--repeat=K]
//       Replicated appends against single-node ones: 3 etcd members (fresh
//       data directories, free loopback ports) and 3 ledgerd nodes with
//       --replication=etcd, the grpc mode against the elected leader; and
//       the grpc mode against one fresh single-node ledgerd. K pairs
//       alternating which goes first; the medians and the ratio
//       replicated/single-node are reported. Everything started is stopped
//       and its directory removed.
//   --json prints one JSON object instead of text.
//
// Figures: events/s and appends/s over the measurement window (after
// --warmup_s), latency of each append (p50/p99/p999, ms), errors by status
// code, and CPU used (cores) by this process and, in compare mode, by ledgerd
// during the window: both share the same cores, so client cost matters.
//
// Why the async client by default: with 2 cores shared by client and server,
// 64 blocking threads cost context switches the server needs. One
// completion-queue thread keeps all clients' requests in flight; channels are
// separate HTTP/2 connections (--clients_per_channel) so the server can serve
// them in parallel. --client_api=sync is kept for comparison.
//
// Every loop is bounded: clients stop issuing at the end of the window, each
// RPC has a deadline (--rpc_timeout_ms), ledgerd gets --ready_timeout_s to
// start and 15 s to stop before SIGKILL.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/alarm.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "partnerledger/limits.h"
#include "partnerledger/v1/audit.grpc.pb.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "partnerledger/v1/query.grpc.pb.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "util/httplib_config.h"

extern char** environ;

ABSL_FLAG(std::string, mode, "grpc", "grpc | rocksdb | compare");
ABSL_FLAG(std::string, target, "", "grpc mode: ledgerd address, HOST:PORT");
ABSL_FLAG(int, clients, 64, "concurrent clients (appends in flight)");
ABSL_FLAG(int, batch, 1, "events per append");
ABSL_FLAG(double, duration_s, 10, "measurement window, seconds");
ABSL_FLAG(double, warmup_s, 1, "load before the window that is not counted");
ABSL_FLAG(int, event_bytes, 256, "serialized payload bytes per event");
ABSL_FLAG(std::string, dir, "", "rocksdb mode: database directory (fresh)");
ABSL_FLAG(std::string, ledgerd, "", "compare mode: path of the ledgerd binary");
ABSL_FLAG(std::vector<std::string>, ledgerd_args, {},
          "compare mode: extra ledgerd flags, comma-separated");
ABSL_FLAG(std::string, work_dir, "/tmp",
          "compare mode: parent of the temporary data directories; both "
          "runs use the same disk");
ABSL_FLAG(int, repeat, 1,
          "compare/tree modes: ledger/raw pairs, alternating; proofs mode: "
          "measurement windows");
ABSL_FLAG(bool, keep_dirs, false, "compare mode: keep data directories");
ABSL_FLAG(bool, json, false, "print one JSON object");
ABSL_FLAG(uint64_t, proof_events, 1'000'000,
          "proofs mode: events in the log before proofs are timed");
ABSL_FLAG(std::string, client_api, "async", "grpc client: async | sync");
ABSL_FLAG(int, clients_per_channel, 8,
          "clients sharing one channel (one HTTP/2 connection)");
ABSL_FLAG(int, client_threads, 1,
          "async client: completion-queue threads driving the clients");
ABSL_FLAG(int, rpc_timeout_ms, 10000, "deadline of each append");
ABSL_FLAG(double, query_rate, 2000,
          "http mode: GetObligations calls per second across all clients "
          "(0: back to back)");
ABSL_FLAG(std::string, example, "tools/ledgerctl/examples/worked-example.jsonl",
          "http mode: the AppendEventsRequests (JSON lines) to load first");
ABSL_FLAG(int, server_pid, 0,
          "grpc mode: the server's pid, to report the CPU it uses");
ABSL_FLAG(
    std::string, noop_rpc, "health",
    "noop mode: health (grpc.health.v1.Health/Check) | digest (GetDigest)");
ABSL_FLAG(bool, compare_noop, true,
          "compare mode: also time the no-op RPC against the same ledgerd");
ABSL_FLAG(std::string, etcd, "/usr/bin/etcd",
          "replicated mode: the etcd binary (Debian's etcd-server)");
ABSL_FLAG(double, ready_timeout_s, 30,
          "time for ledgerd to write its port file and accept connections");

namespace partnerledger::bench {
namespace {

namespace v1 = partnerledger::v1;
using SteadyClock = std::chrono::steady_clock;

// Bounds on the flags: far beyond what a 2-core machine needs, low enough
// that a typo cannot exhaust memory or threads.
constexpr int kClientsMax = 4096;
constexpr int kBatchMax = 1000;       // limits::kAppendEventsMax
constexpr int kEventBytesMax = 4000;  // pitch <= limits::kTextBytesMax
constexpr int kEventBytesMin = 32;
constexpr double kDurationMaxS = 3600;
constexpr int kRepeatMax = 99;
constexpr auto kErrorBackoff = std::chrono::milliseconds(1);
constexpr auto kStopTimeout = std::chrono::seconds(15);

// --- latency histogram -------------------------------------------------------

// Log-linear histogram of nanoseconds: values below 128 exact, above that 64
// buckets per power of two (under 1.6% error). Fixed memory however long
// the run: a percentile needs no sample list.
class Histogram {
 public:
  void Record(uint64_t ns) {
    ++counts_[Index(std::min(ns, kValueMax))];
    ++total_;
  }
  void Merge(const Histogram& o) {
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
  }
  uint64_t total() const { return total_; }
  // The q-quantile in milliseconds (bucket midpoint); 0 when empty.
  double QuantileMs(double q) const {
    if (total_ == 0) return 0;
    const uint64_t rank = std::max<uint64_t>(
        1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_))));
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return static_cast<double>(Midpoint(i)) / 1e6;
    }
    return static_cast<double>(kValueMax) / 1e6;
  }

 private:
  static constexpr int kSubBits = 7;
  static constexpr uint64_t kExact = uint64_t{1} << kSubBits;  // 128
  static constexpr uint64_t kHalf = kExact / 2;                // 64
  static constexpr int kTopBit = 44;  // 2^44 ns ~ 4.9 hours
  static constexpr uint64_t kValueMax = (uint64_t{1} << kTopBit) - 1;
  static constexpr size_t kBuckets = kExact + (kTopBit - kSubBits) * kHalf;

  static size_t Index(uint64_t v) {
    if (v < kExact) return v;
    const int e = 63 - std::countl_zero(v);  // >= kSubBits
    const int shift = e - (kSubBits - 1);
    const uint64_t sub = v >> shift;  // [64, 127]
    return kExact + static_cast<size_t>(e - kSubBits) * kHalf + (sub - kHalf);
  }
  static uint64_t Midpoint(size_t i) {
    if (i < kExact) return i;
    const size_t e = (i - kExact) / kHalf + kSubBits;
    const uint64_t sub = (i - kExact) % kHalf + kHalf;
    const int shift = static_cast<int>(e) - (kSubBits - 1);
    return (sub << shift) + ((uint64_t{1} << shift) >> 1);
  }

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t total_ = 0;
};

// --- results -----------------------------------------------------------------

struct Config {
  int clients = 0;
  int batch = 0;
  // Calls are the no-op RPC instead of appends (each counts as one event).
  bool noop = false;
  int event_bytes = 0;
  double warmup_s = 0;
  double duration_s = 0;
};

// What one worker thread saw. Merged after the run; never shared while
// running.
struct Tally {
  uint64_t appends_ok = 0;                 // in the window
  uint64_t events_ok = 0;                  // in the window
  uint64_t events_ok_total = 0;            // warmup and drain included
  std::map<std::string, uint64_t> errors;  // in the window
  Histogram latency;

  void Merge(const Tally& o) {
    appends_ok += o.appends_ok;
    events_ok += o.events_ok;
    events_ok_total += o.events_ok_total;
    for (const auto& [code, n] : o.errors) errors[code] += n;
    latency.Merge(o.latency);
  }
};

struct Result {
  std::string mode;  // "grpc" or "rocksdb"
  Config config;
  Tally tally;
  double self_cpu_cores = 0;     // this process, during the window
  double server_cpu_cores = -1;  // ledgerd during the window; -1 unknown
  int64_t server_rss_kb = -1;    // ledgerd at the end of the window
  int64_t head_position = -1;    // ledgerd's log head after the run
  int64_t disk_bytes = -1;       // data directory after the run
  // Runnable tasks on the machine (1-minute load average) at the window's
  // end: a figure taken next to other work says so.
  double loadavg_1m = -1;

  double EventsPerS() const { return tally.events_ok / config.duration_s; }
  // ledgerd's CPU time per event (per call in noop mode), microseconds; -1
  // when unknown.
  double ServerCpuUsPerEvent() const {
    if (server_cpu_cores < 0 || tally.events_ok == 0) return -1;
    return server_cpu_cores * 1e6 / EventsPerS();
  }
  double AppendsPerS() const { return tally.appends_ok / config.duration_s; }
};

// The window: completions in [start, end) count.
struct Window {
  SteadyClock::time_point start;
  SteadyClock::time_point end;
  bool Contains(SteadyClock::time_point t) const {
    return t >= start && t < end;
  }
};

Window MakeWindow(const Config& c) {
  const auto now = SteadyClock::now();
  const auto start = now + std::chrono::duration_cast<SteadyClock::duration>(
                               std::chrono::duration<double>(c.warmup_s));
  return {start, start + std::chrono::duration_cast<SteadyClock::duration>(
                             std::chrono::duration<double>(c.duration_s))};
}

double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// utime + stime of another process from /proc, or -1.
double PidCpuSeconds(pid_t pid) {
  std::ifstream f(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(f, line)) return -1;
  // Fields after the command name, which is parenthesised and may hold
  // spaces: state is field 3, utime 14, stime 15.
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

int64_t PidRssKb(pid_t pid) {
  std::ifstream f(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return -1;
}

int64_t DirBytes(const std::string& dir) {
  std::error_code ec;
  int64_t total = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return ec ? -1 : total;
}

double LoadAverage() {
  std::ifstream f("/proc/loadavg");
  double v = -1;
  f >> v;
  return f ? v : -1;
}

// Runs on the main thread while the workers load: samples CPU at the
// window's edges, then tells the workers to stop issuing.
void TimeWindow(const Window& w, pid_t server, std::atomic<bool>* stop,
                Result* r) {
  std::this_thread::sleep_until(w.start);
  const double self0 = ProcessCpuSeconds();
  const double server0 = server > 0 ? PidCpuSeconds(server) : -1;
  std::this_thread::sleep_until(w.end);
  const double self1 = ProcessCpuSeconds();
  const double server1 = server > 0 ? PidCpuSeconds(server) : -1;
  stop->store(true, std::memory_order_relaxed);
  r->loadavg_1m = LoadAverage();
  r->self_cpu_cores = (self1 - self0) / r->config.duration_s;
  if (server0 >= 0 && server1 >= 0) {
    r->server_cpu_cores = (server1 - server0) / r->config.duration_s;
    r->server_rss_kb = PidRssKb(server);
  }
}

// --- events ------------------------------------------------------------------

// xoshiro256**: fast, good enough for unique ids (122 random bits each).
class Rng {
 public:
  Rng() {
    std::random_device rd;
    for (auto& w : s_) w = (uint64_t{rd()} << 32) ^ rd();
  }
  uint64_t Next() {
    const uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = std::rotl(s_[3], 45);
    return result;
  }

 private:
  std::array<uint64_t, 4> s_;
};

// A random (version 4) UUID in canonical lowercase text.
void RandomUuid(Rng& rng, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t hi = rng.Next(), lo = rng.Next();
  hi = (hi & ~uint64_t{0xf000}) | 0x4000;                    // version 4
  lo = (lo & ~(uint64_t{0xc} << 60)) | (uint64_t{8} << 60);  // variant 10
  out->resize(36);
  int pos = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) (*out)[pos++] = '-';
    const uint64_t word = i < 16 ? hi : lo;
    const int nibble = static_cast<int>((word >> (60 - 4 * (i % 16))) & 0xf);
    (*out)[pos++] = kHex[nibble];
  }
}

std::string Filler(size_t n) {
  static constexpr std::string_view kText =
      "We design, build and run partner integrations for mid-size "
      "companies across the Benelux. ";
  std::string s;
  s.reserve(n);
  while (s.size() < n) s.append(kText.substr(0, n - s.size()));
  return s;
}

// Pads `pitch` so the payload serializes to `bytes` (or as close as the
// length prefixes allow).
template <typename SetPitch>
void PadPayload(v1::EventPayload* p, int bytes, SetPitch set_pitch) {
  size_t pitch = 1;
  for (int i = 0; i < 8; ++i) {
    set_pitch(Filler(pitch));
    const int64_t diff = bytes - static_cast<int64_t>(p->ByteSizeLong());
    if (diff == 0) return;
    pitch = static_cast<size_t>(
        std::max<int64_t>(1, static_cast<int64_t>(pitch) + diff));
  }
}

// Builds the AppendEvents requests of one client: templates made once,
// then only the stream, the ids and the time change per append.
class RequestFactory {
 public:
  RequestFactory(const Config& c, std::string run_tag) : run_(run_tag) {
    registered_.mutable_partner_registered()->set_legal_name(
        "Bench Partner B.V.");
    registered_.mutable_partner_registered()->set_country("NL");
    PadPayload(&registered_, c.event_bytes, [&](std::string s) {
      registered_.mutable_partner_registered()->set_pitch(std::move(s));
    });
    PadPayload(&updated_, c.event_bytes, [&](std::string s) {
      updated_.mutable_partner_profile_updated()->set_pitch(std::move(s));
    });
    batch_ = c.batch;
  }

  size_t registered_bytes() const { return registered_.ByteSizeLong(); }

  // A request template for one client; Next() refreshes it per append.
  void Init(v1::AppendEventsRequest* req) const {
    req->Clear();
    req->set_expected_state(v1::EXPECTED_STATE_NO_STREAM);
    for (int i = 0; i < batch_; ++i) {
      v1::ProposedEvent* e = req->add_events();
      *e->mutable_payload() = i == 0 ? registered_ : updated_;
    }
  }

  void Next(int client, uint64_t seq, Rng& rng,
            v1::AppendEventsRequest* req) const {
    req->set_stream(absl::StrCat("partner-", run_, "-", client, "-", seq));
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const int64_t us =
        std::chrono::duration_cast<std::chrono::microseconds>(now).count();
    for (v1::ProposedEvent& e : *req->mutable_events()) {
      RandomUuid(rng, e.mutable_event_id());
      e.mutable_occurred_at()->set_seconds(us / 1'000'000);
      e.mutable_occurred_at()->set_nanos(static_cast<int32_t>(us % 1'000'000) *
                                         1000);
    }
  }

 private:
  std::string run_;
  int batch_ = 1;
  v1::EventPayload registered_;
  v1::EventPayload updated_;
};

std::string RunTag() {
  std::random_device rd;
  return absl::StrFormat("%08x", rd());
}

// gRPC and absl share the numbering of status codes.
std::string CodeName(grpc::StatusCode c) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(c));
}

// The first error message of each code goes to stderr once, so a rejected
// workload is diagnosable without flooding the output.
void ReportFirstError(const grpc::Status& s) {
  static std::mutex mu;
  static std::map<int, bool> seen;
  std::lock_guard<std::mutex> lock(mu);
  if (seen[s.error_code()]) return;
  seen[s.error_code()] = true;
  std::fprintf(stderr, "ledger-bench: first %s: %s\n",
               CodeName(s.error_code()).c_str(), s.error_message().c_str());
}

// --- grpc mode ---------------------------------------------------------------

std::vector<std::shared_ptr<grpc::Channel>> MakeChannels(
    const std::string& target, int clients) {
  const int per = std::max(1, absl::GetFlag(FLAGS_clients_per_channel));
  const int n = (clients + per - 1) / per;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < n; ++i) {
    grpc::ChannelArguments args;
    // Distinct arguments and a local pool: each channel gets its own
    // connection instead of sharing one subchannel.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("partnerledger.bench.channel", i);
    args.SetMaxReceiveMessageSize(16 * 1024 * 1024);
    args.SetMaxSendMessageSize(16 * 1024 * 1024);
    channels.push_back(grpc::CreateCustomChannel(
        target, grpc::InsecureChannelCredentials(), args));
  }
  return channels;
}

bool WaitConnected(const std::vector<std::shared_ptr<grpc::Channel>>& chans,
                   double timeout_s) {
  const auto deadline =
      std::chrono::system_clock::now() +
      std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  for (const auto& c : chans) {
    if (!c->WaitForConnected(deadline)) return false;
  }
  return true;
}

std::chrono::system_clock::time_point RpcDeadline() {
  return std::chrono::system_clock::now() +
         std::chrono::milliseconds(absl::GetFlag(FLAGS_rpc_timeout_ms));
}

// Records one finished append into `t`.
void Account(const grpc::Status& s, int batch, SteadyClock::time_point sent,
             SteadyClock::time_point done, const Window& w, Tally* t) {
  if (s.ok()) t->events_ok_total += static_cast<uint64_t>(batch);
  if (!w.Contains(done)) return;
  if (s.ok()) {
    ++t->appends_ok;
    t->events_ok += static_cast<uint64_t>(batch);
    t->latency.Record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(done - sent)
            .count()));
  } else {
    ++t->errors[CodeName(s.error_code())];
  }
}

// One logical client of the async driver: one append in flight at a time.
struct AsyncClient {
  enum class Kind { kRpc, kBackoff };
  struct Tag {
    AsyncClient* client;
    Kind kind;
  };

  int index = 0;
  uint64_t seq = 0;
  v1::EventStoreService::Stub* stub = nullptr;
  grpc::GenericStub* generic = nullptr;  // noop: Health/Check
  bool digest = false;                   // noop: GetDigest instead
  grpc::ByteBuffer noop_request;
  grpc::ByteBuffer noop_response;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> noop_rpc;
  v1::GetDigestRequest digest_request;
  v1::GetDigestResponse digest_response;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::GetDigestResponse>>
      digest_rpc;
  std::unique_ptr<grpc::ClientContext> ctx;
  v1::AppendEventsRequest request;
  v1::AppendEventsResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::AppendEventsResponse>>
      rpc;
  grpc::Alarm backoff;
  SteadyClock::time_point sent;
  Tag rpc_tag{this, Kind::kRpc};
  Tag backoff_tag{this, Kind::kBackoff};
};

// Drives `clients` on one completion queue until `stop`, then drains.
void AsyncDriver(std::vector<AsyncClient*> clients,
                 const RequestFactory& factory, const Config& config,
                 const Window& window, const std::atomic<bool>& stop,
                 Tally* tally) {
  grpc::CompletionQueue cq;
  Rng rng;
  auto issue = [&](AsyncClient* c) {
    c->ctx = std::make_unique<grpc::ClientContext>();
    c->ctx->set_deadline(RpcDeadline());
    if (config.noop && c->digest) {
      c->sent = SteadyClock::now();
      c->digest_rpc =
          c->stub->AsyncGetDigest(c->ctx.get(), c->digest_request, &cq);
      c->digest_rpc->Finish(&c->digest_response, &c->status, &c->rpc_tag);
      return;
    }
    if (config.noop) {
      c->sent = SteadyClock::now();
      c->noop_rpc = c->generic->PrepareUnaryCall(
          c->ctx.get(), "/grpc.health.v1.Health/Check", c->noop_request, &cq);
      c->noop_rpc->StartCall();
      c->noop_rpc->Finish(&c->noop_response, &c->status, &c->rpc_tag);
      return;
    }
    factory.Next(c->index, c->seq++, rng, &c->request);
    c->sent = SteadyClock::now();
    c->rpc = c->stub->AsyncAppendEvents(c->ctx.get(), c->request, &cq);
    c->rpc->Finish(&c->response, &c->status, &c->rpc_tag);
  };
  for (AsyncClient* c : clients) issue(c);
  size_t pending = clients.size();

  void* raw = nullptr;
  bool ok = false;
  while (pending > 0 && cq.Next(&raw, &ok)) {
    auto* tag = static_cast<AsyncClient::Tag*>(raw);
    AsyncClient* c = tag->client;
    if (tag->kind == AsyncClient::Kind::kRpc) {
      Account(c->status, config.noop ? 1 : config.batch, c->sent,
              SteadyClock::now(), window, tally);
      if (stop.load(std::memory_order_relaxed)) {
        --pending;
      } else if (!c->status.ok()) {
        ReportFirstError(c->status);
        // A server that refuses everything must not turn this loop into a
        // spin that steals the server's CPU.
        c->backoff.Set(&cq, std::chrono::system_clock::now() + kErrorBackoff,
                       &c->backoff_tag);
      } else {
        issue(c);
      }
    } else if (stop.load(std::memory_order_relaxed)) {
      --pending;
    } else {
      issue(c);
    }
  }
  cq.Shutdown();
  while (cq.Next(&raw, &ok)) {
  }
}

void SyncClient(int index, v1::EventStoreService::Stub* stub,
                const RequestFactory& factory, const Config& config,
                const Window& window, const std::atomic<bool>& stop,
                Tally* tally) {
  Rng rng;
  v1::AppendEventsRequest request;
  factory.Init(&request);
  uint64_t seq = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    factory.Next(index, seq++, rng, &request);
    grpc::ClientContext ctx;
    ctx.set_deadline(RpcDeadline());
    v1::AppendEventsResponse response;
    const auto sent = SteadyClock::now();
    const grpc::Status s = stub->AppendEvents(&ctx, request, &response);
    Account(s, config.batch, sent, SteadyClock::now(), window, tally);
    if (!s.ok()) {
      ReportFirstError(s);
      std::this_thread::sleep_for(kErrorBackoff);
    }
  }
}

// The log head after the run: with a fresh server and partner events only
// (nothing derived), it must equal the events acknowledged.
int64_t HeadPosition(v1::EventStoreService::Stub* stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(RpcDeadline());
  v1::GetDigestRequest req;
  v1::GetDigestResponse resp;
  if (!stub->GetDigest(&ctx, req, &resp).ok()) return -1;
  return static_cast<int64_t>(resp.digest().position());
}

std::optional<Result> RunGrpc(const std::string& target, const Config& config,
                              pid_t server) {
  auto channels = MakeChannels(target, config.clients);
  if (!WaitConnected(channels, absl::GetFlag(FLAGS_ready_timeout_s))) {
    std::fprintf(stderr, "ledger-bench: cannot connect to %s\n",
                 target.c_str());
    return std::nullopt;
  }
  std::vector<std::unique_ptr<v1::EventStoreService::Stub>> stubs;
  std::vector<std::unique_ptr<grpc::GenericStub>> generics;
  for (const auto& ch : channels) {
    stubs.push_back(v1::EventStoreService::NewStub(ch));
    generics.push_back(std::make_unique<grpc::GenericStub>(ch));
  }
  const RequestFactory factory(config, RunTag());
  const int per = std::max(1, absl::GetFlag(FLAGS_clients_per_channel));

  Result result;
  result.mode = config.noop ? "noop" : "grpc";
  result.config = config;
  std::atomic<bool> stop{false};
  const Window window = MakeWindow(config);
  std::vector<std::thread> threads;
  std::vector<Tally> tallies;
  std::vector<std::unique_ptr<AsyncClient>> async_clients;

  if (absl::GetFlag(FLAGS_client_api) == "sync" && !config.noop) {
    tallies.resize(static_cast<size_t>(config.clients));
    for (int i = 0; i < config.clients; ++i) {
      threads.emplace_back(
          SyncClient, i, stubs[static_cast<size_t>(i / per)].get(),
          std::cref(factory), std::cref(config), std::cref(window),
          std::cref(stop), &tallies[static_cast<size_t>(i)]);
    }
  } else {
    const int drivers =
        std::clamp(absl::GetFlag(FLAGS_client_threads), 1, config.clients);
    tallies.resize(static_cast<size_t>(drivers));
    std::vector<std::vector<AsyncClient*>> groups(static_cast<size_t>(drivers));
    for (int i = 0; i < config.clients; ++i) {
      auto c = std::make_unique<AsyncClient>();
      c->index = i;
      c->stub = stubs[static_cast<size_t>(i / per)].get();
      c->generic = generics[static_cast<size_t>(i / per)].get();
      c->digest = absl::GetFlag(FLAGS_noop_rpc) == "digest";
      grpc::Slice empty;
      c->noop_request = grpc::ByteBuffer(&empty, 1);
      factory.Init(&c->request);
      groups[static_cast<size_t>(i % drivers)].push_back(c.get());
      async_clients.push_back(std::move(c));
    }
    for (int d = 0; d < drivers; ++d) {
      threads.emplace_back(AsyncDriver, groups[static_cast<size_t>(d)],
                           std::cref(factory), std::cref(config),
                           std::cref(window), std::cref(stop),
                           &tallies[static_cast<size_t>(d)]);
    }
  }
  TimeWindow(window, server, &stop, &result);
  for (auto& t : threads) t.join();
  for (const Tally& t : tallies) result.tally.Merge(t);
  if (!config.noop) result.head_position = HeadPosition(stubs[0].get());
  return result;
}

// --- rocksdb mode ------------------------------------------------------------

std::optional<Result> RunRocksDb(const std::string& dir, const Config& config) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.error_if_exists = true;  // a baseline on old data is not one
  rocksdb::DB* raw_db = nullptr;
  const rocksdb::Status open = rocksdb::DB::Open(options, dir, &raw_db);
  if (!open.ok()) {
    std::fprintf(stderr, "ledger-bench: rocksdb open %s: %s\n", dir.c_str(),
                 open.ToString().c_str());
    return std::nullopt;
  }
  std::unique_ptr<rocksdb::DB> db(raw_db);

  Result result;
  result.mode = "rocksdb";
  result.config = config;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> next_key{1};
  const Window window = MakeWindow(config);
  std::vector<Tally> tallies(static_cast<size_t>(config.clients));
  std::vector<std::thread> threads;
  for (int i = 0; i < config.clients; ++i) {
    threads.emplace_back([&, i] {
      Tally& t = tallies[static_cast<size_t>(i)];
      rocksdb::WriteOptions wo;
      wo.sync = true;
      rocksdb::WriteBatch batch;
      char key[8];
      // Fresh random bytes per value, so block compression flatters
      // nothing when memtables are flushed.
      Rng rng;
      std::string value(static_cast<size_t>(config.event_bytes), '\0');
      while (!stop.load(std::memory_order_relaxed)) {
        batch.Clear();
        uint64_t k = next_key.fetch_add(static_cast<uint64_t>(config.batch));
        for (int j = 0; j < config.batch; ++j, ++k) {
          for (int b = 0; b < 8; ++b) {
            key[b] = static_cast<char>(k >> (56 - 8 * b));
          }
          for (size_t off = 0; off < value.size(); off += 8) {
            const uint64_t r = rng.Next();
            std::memcpy(value.data() + off, &r,
                        std::min<size_t>(8, value.size() - off));
          }
          batch.Put(rocksdb::Slice(key, 8), value);
        }
        const auto sent = SteadyClock::now();
        const rocksdb::Status s = db->Write(wo, &batch);
        const auto done = SteadyClock::now();
        const grpc::Status as_grpc =
            s.ok() ? grpc::Status::OK
                   : grpc::Status(grpc::StatusCode::UNKNOWN, s.ToString());
        Account(as_grpc, config.batch, sent, done, window, &t);
        if (!s.ok()) {
          ReportFirstError(as_grpc);
          std::this_thread::sleep_for(kErrorBackoff);
        }
      }
    });
  }
  TimeWindow(window, 0, &stop, &result);
  for (auto& t : threads) t.join();
  for (const Tally& t : tallies) result.tally.Merge(t);
  db.reset();
  result.disk_bytes = DirBytes(dir);
  return result;
}

// --- ledgerd process ---------------------------------------------------------

class LedgerdProcess {
 public:
  ~LedgerdProcess() { Stop(); }

  // Starts `binary` on `data_dir`, waits for its port file.
  bool Start(const std::string& binary, const std::string& data_dir,
             const std::string& scratch,
             const std::vector<std::string>& extra = {}) {
    port_file_ = scratch + "/port";
    log_file_ = scratch + "/ledgerd.log";
    std::vector<std::string> args = {binary, "--listen=127.0.0.1:0",
                                     "--data_dir=" + data_dir,
                                     "--port_file=" + port_file_};
    for (const auto& a : absl::GetFlag(FLAGS_ledgerd_args)) args.push_back(a);
    for (const auto& a : extra) args.push_back(a);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log_file_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    const int rc =
        posix_spawn(&pid_, binary.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      std::fprintf(stderr, "ledger-bench: cannot start %s: %s\n",
                   binary.c_str(), std::strerror(rc));
      pid_ = 0;
      return false;
    }
    return WaitForPort();
  }

  // SIGTERM, then SIGKILL after kStopTimeout. Returns the exit status text.
  std::string Stop() {
    if (pid_ <= 0) return "";
    kill(pid_, SIGTERM);
    const auto deadline = SteadyClock::now() + kStopTimeout;
    int status = 0;
    std::string outcome;
    while (true) {
      const pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) break;
      if (SteadyClock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        outcome = "killed after SIGTERM timeout; ";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = 0;
    if (WIFEXITED(status)) {
      return outcome + absl::StrCat("exit ", WEXITSTATUS(status));
    }
    return outcome + absl::StrCat("signal ", WTERMSIG(status));
  }

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  const std::string& log_file() const { return log_file_; }

 private:
  bool WaitForPort() {
    const auto deadline =
        SteadyClock::now() + std::chrono::milliseconds(static_cast<int64_t>(
                                 absl::GetFlag(FLAGS_ready_timeout_s) * 1000));
    std::string last;
    while (SteadyClock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        std::fprintf(stderr, "ledger-bench: ledgerd exited early; see %s\n",
                     log_file_.c_str());
        pid_ = 0;
        return false;
      }
      std::ifstream f(port_file_);
      std::string text;
      std::getline(f, text);
      // The same value twice in a row: not a half-written file.
      if (!text.empty() && text == last) {
        const int port = std::atoi(text.c_str());
        if (port > 0 && port < 65536) {
          port_ = port;
          return true;
        }
      }
      last = text;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::fprintf(stderr, "ledger-bench: no port file from ledgerd; see %s\n",
                 log_file_.c_str());
    return false;
  }

  pid_t pid_ = 0;
  int port_ = 0;
  std::string port_file_;
  std::string log_file_;
};

// --- output ------------------------------------------------------------------

std::string ErrorsText(const Tally& t) {
  if (t.errors.empty()) return "none";
  std::vector<std::string> parts;
  for (const auto& [code, n] : t.errors)
    parts.push_back(absl::StrCat(code, "=", n));
  return absl::StrJoin(parts, " ");
}

std::string ResultText(const Result& r) {
  const Tally& t = r.tally;
  std::string s = absl::StrFormat(
      "%-7s clients=%d batch=%d event_bytes=%d window=%.1fs\n"
      "  events/s %.0f  appends/s %.0f  latency ms p50 %.3f p99 %.3f "
      "p999 %.3f  errors: %s\n"
      "  cpu cores: bench %.2f",
      r.mode, r.config.clients, r.config.batch, r.config.event_bytes,
      r.config.duration_s, r.EventsPerS(), r.AppendsPerS(),
      t.latency.QuantileMs(0.5), t.latency.QuantileMs(0.99),
      t.latency.QuantileMs(0.999), ErrorsText(t), r.self_cpu_cores);
  if (r.server_cpu_cores >= 0) {
    absl::StrAppendFormat(&s, ", ledgerd %.2f (rss %d MiB, %.1f us per %s)",
                          r.server_cpu_cores, r.server_rss_kb / 1024,
                          r.ServerCpuUsPerEvent(),
                          r.config.noop ? "call" : "event");
  }
  if (r.head_position >= 0) {
    absl::StrAppendFormat(&s, "  head %d / acked %d", r.head_position,
                          t.events_ok_total);
  }
  if (r.disk_bytes >= 0) {
    absl::StrAppendFormat(&s, "  disk %.1f MiB", r.disk_bytes / 1048576.0);
  }
  absl::StrAppendFormat(&s, "  loadavg %.2f", r.loadavg_1m);
  return s + "\n";
}

std::string ResultJson(const Result& r) {
  const Tally& t = r.tally;
  std::vector<std::string> errs;
  for (const auto& [code, n] : t.errors) {
    errs.push_back(absl::StrFormat("\"%s\":%d", code, n));
  }
  return absl::StrFormat(
      "{\"mode\":\"%s\",\"clients\":%d,\"batch\":%d,\"event_bytes\":%d,"
      "\"window_s\":%.3f,\"events_per_s\":%.1f,\"appends_per_s\":%.1f,"
      "\"latency_ms_p50\":%.4f,\"latency_ms_p99\":%.4f,"
      "\"latency_ms_p999\":%.4f,\"appends_ok\":%d,\"events_ok\":%d,"
      "\"errors\":{%s},\"bench_cpu_cores\":%.3f,\"server_cpu_cores\":%.3f,"
      "\"server_rss_kb\":%d,\"head_position\":%d,\"events_acked_total\":%d,"
      "\"disk_bytes\":%d,\"loadavg_1m\":%.2f,"
      "\"server_cpu_us_per_event\":%.2f}",
      r.mode, r.config.clients, r.config.batch, r.config.event_bytes,
      r.config.duration_s, r.EventsPerS(), r.AppendsPerS(),
      t.latency.QuantileMs(0.5), t.latency.QuantileMs(0.99),
      t.latency.QuantileMs(0.999), t.appends_ok, t.events_ok,
      absl::StrJoin(errs, ","), r.self_cpu_cores, r.server_cpu_cores,
      r.server_rss_kb, r.head_position, t.events_ok_total, r.disk_bytes,
      r.loadavg_1m, r.ServerCpuUsPerEvent());
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// --- modes -------------------------------------------------------------------

int RunCompare(const Config& config) {
  const std::string ledgerd = absl::GetFlag(FLAGS_ledgerd);
  if (ledgerd.empty() || access(ledgerd.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "ledger-bench: --ledgerd=%s is not executable\n",
                 ledgerd.c_str());
    return 2;
  }
  std::string tmpl = absl::GetFlag(FLAGS_work_dir) + "/ledger-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::fprintf(stderr, "ledger-bench: mkdtemp under %s: %s\n",
                 absl::GetFlag(FLAGS_work_dir).c_str(), std::strerror(errno));
    return 2;
  }
  const std::string root = tmpl;
  const bool json = absl::GetFlag(FLAGS_json);
  const int repeat = absl::GetFlag(FLAGS_repeat);

  struct Pair {
    Result ledger;
    Result raw;
    std::optional<Result> noop;  // same ledgerd, same concurrency
    std::string ledgerd_exit;
  };
  std::vector<Pair> pairs;
  int rc = 0;
  for (int k = 0; k < repeat; ++k) {
    Pair pair;
    bool keep_run = absl::GetFlag(FLAGS_keep_dirs);
    const std::string run_dir = absl::StrCat(root, "/run", k);
    std::filesystem::create_directories(run_dir);
    {
      LedgerdProcess server;
      const std::string data = run_dir + "/ledger";
      if (!server.Start(ledgerd, data, run_dir)) {
        rc = 1;
        break;
      }
      auto r = RunGrpc(absl::StrCat("127.0.0.1:", server.port()), config,
                       server.pid());
      if (r && absl::GetFlag(FLAGS_compare_noop)) {
        Config noop = config;
        noop.noop = true;
        pair.noop = RunGrpc(absl::StrCat("127.0.0.1:", server.port()), noop,
                            server.pid());
      }
      pair.ledgerd_exit = server.Stop();
      if (!r) {
        rc = 1;
        break;
      }
      pair.ledger = *r;
      pair.ledger.disk_bytes = DirBytes(data);
      if (pair.ledgerd_exit != "exit 0") {
        std::fprintf(stderr, "ledger-bench: ledgerd stopped with %s; see %s\n",
                     pair.ledgerd_exit.c_str(), server.log_file().c_str());
        keep_run = true;
      }
      // A fresh log holding only these partner events (nothing derived):
      // its head must equal what was acknowledged, or appends were lost or
      // doubled.
      if (pair.ledger.head_position !=
          static_cast<int64_t>(pair.ledger.tally.events_ok_total)) {
        std::fprintf(
            stderr,
            "ledger-bench: ledgerd head %lld != events acknowledged "
            "%llu; data kept in %s\n",
            static_cast<long long>(pair.ledger.head_position),
            static_cast<unsigned long long>(pair.ledger.tally.events_ok_total),
            data.c_str());
        keep_run = true;
      }
    }
    auto raw = RunRocksDb(run_dir + "/raw", config);
    if (!raw) {
      rc = 1;
      break;
    }
    pair.raw = *raw;
    if (!json) {
      std::printf("run %d/%d\n%s%s%s  ratio ledger/raw %.3f\n", k + 1, repeat,
                  ResultText(pair.ledger).c_str(),
                  pair.noop ? ResultText(*pair.noop).c_str() : "",
                  ResultText(pair.raw).c_str(),
                  pair.ledger.EventsPerS() / pair.raw.EventsPerS());
      std::fflush(stdout);
    }
    pairs.push_back(std::move(pair));
    if (!keep_run) std::filesystem::remove_all(run_dir);
  }
  // A failed run keeps its directory: the ledgerd log is the evidence.
  // remove() only succeeds on an empty directory: kept runs keep the root.
  std::error_code ec;
  if (rc != 0) {
    std::fprintf(stderr, "ledger-bench: kept %s for inspection\n",
                 root.c_str());
  } else if (!absl::GetFlag(FLAGS_keep_dirs)) {
    std::filesystem::remove(root, ec);
  }
  if (pairs.empty()) return rc ? rc : 1;

  std::vector<double> ledger_eps, raw_eps, ratios, p50, p99, p999, raw_p99;
  std::vector<double> noop_cps, noop_cpu_us, ledger_cpu_us;
  for (const Pair& p : pairs) {
    if (p.noop) {
      noop_cps.push_back(p.noop->EventsPerS());
      noop_cpu_us.push_back(p.noop->ServerCpuUsPerEvent());
    }
    ledger_cpu_us.push_back(p.ledger.ServerCpuUsPerEvent());
    ledger_eps.push_back(p.ledger.EventsPerS());
    raw_eps.push_back(p.raw.EventsPerS());
    ratios.push_back(p.ledger.EventsPerS() / p.raw.EventsPerS());
    p50.push_back(p.ledger.tally.latency.QuantileMs(0.5));
    p99.push_back(p.ledger.tally.latency.QuantileMs(0.99));
    p999.push_back(p.ledger.tally.latency.QuantileMs(0.999));
    raw_p99.push_back(p.raw.tally.latency.QuantileMs(0.99));
  }
  if (json) {
    std::vector<std::string> runs;
    for (const Pair& p : pairs) {
      runs.push_back(absl::StrFormat(
          "{\"ledger\":%s,\"raw\":%s,\"noop\":%s,\"ratio\":%.4f,"
          "\"ledgerd_exit\":\"%s\"}",
          ResultJson(p.ledger), ResultJson(p.raw),
          p.noop ? ResultJson(*p.noop) : "null",
          p.ledger.EventsPerS() / p.raw.EventsPerS(), p.ledgerd_exit));
    }
    std::printf(
        "{\"mode\":\"compare\",\"clients\":%d,\"batch\":%d,\"event_bytes\":%d,"
        "\"window_s\":%.3f,\"repeat\":%d,\"runs\":[%s],"
        "\"median\":{\"ledger_events_per_s\":%.1f,\"raw_events_per_s\":%.1f,"
        "\"ratio\":%.4f,\"ledger_latency_ms_p50\":%.4f,"
        "\"ledger_latency_ms_p99\":%.4f,\"ledger_latency_ms_p999\":%.4f,"
        "\"raw_latency_ms_p99\":%.4f,\"ledger_server_cpu_us_per_event\":%.2f,"
        "\"noop_calls_per_s\":%.1f,\"noop_server_cpu_us_per_call\":%.2f}}\n",
        config.clients, config.batch, config.event_bytes, config.duration_s,
        static_cast<int>(pairs.size()), absl::StrJoin(runs, ",").c_str(),
        Median(ledger_eps), Median(raw_eps), Median(ratios), Median(p50),
        Median(p99), Median(p999), Median(raw_p99), Median(ledger_cpu_us),
        noop_cps.empty() ? -1.0 : Median(noop_cps),
        noop_cpu_us.empty() ? -1.0 : Median(noop_cpu_us));
  } else {
    std::printf(
        "median of %d: ledger %.0f events/s (p50 %.3f p99 %.3f p999 %.3f ms)"
        "  raw rocksdb %.0f events/s (p99 %.3f ms)  ratio %.3f\n",
        static_cast<int>(pairs.size()), Median(ledger_eps), Median(p50),
        Median(p99), Median(p999), Median(raw_eps), Median(raw_p99),
        Median(ratios));
    if (!noop_cps.empty()) {
      std::printf(
          "median no-op %s: %.0f calls/s; ledgerd CPU %.1f us per no-op call, "
          "%.1f us per appended event\n",
          absl::GetFlag(FLAGS_noop_rpc).c_str(), Median(noop_cps),
          Median(noop_cpu_us), Median(ledger_cpu_us));
    }
    // One Markdown table row for README.md (tools/bench.sh collects them).
    std::printf(
        "| %d | %d | %d | %.0f | %.2f / %.2f / %.2f | %.0f | %.2f | %.2f |\n",
        config.clients, config.batch, config.event_bytes, Median(ledger_eps),
        Median(p50), Median(p99), Median(p999), Median(raw_eps),
        Median(raw_p99), Median(ratios));
  }
  return rc;
}

// One grpc-mode run against a fresh ledgerd with `extra` flags.
std::optional<Result> RunFreshLedgerd(const Config& config,
                                      const std::string& ledgerd,
                                      const std::string& run_dir,
                                      const std::vector<std::string>& extra) {
  std::filesystem::create_directories(run_dir);
  LedgerdProcess server;
  if (!server.Start(ledgerd, run_dir + "/ledger", run_dir, extra)) {
    return std::nullopt;
  }
  auto r =
      RunGrpc(absl::StrCat("127.0.0.1:", server.port()), config, server.pid());
  const std::string exit = server.Stop();
  if (exit != "exit 0") {
    std::fprintf(stderr, "ledger-bench: ledgerd stopped with %s; see %s\n",
                 exit.c_str(), server.log_file().c_str());
    return std::nullopt;
  }
  std::filesystem::remove_all(run_dir);
  return r;
}

int RunTreeCompare(const Config& config) {
  const std::string ledgerd = absl::GetFlag(FLAGS_ledgerd);
  std::string tmpl = absl::GetFlag(FLAGS_work_dir) + "/ledger-bench-XXXXXX";
  if (ledgerd.empty() || mkdtemp(tmpl.data()) == nullptr) {
    std::fprintf(stderr, "ledger-bench: need --ledgerd and a --work_dir\n");
    return 2;
  }
  const int repeat = absl::GetFlag(FLAGS_repeat);
  std::vector<double> with_eps, without_eps, ratios, with_p99, without_p99;
  for (int k = 0; k < repeat; ++k) {
    std::optional<Result> with, without;
    // Alternate which goes first, so drift in the machine's load does not
    // favour one side.
    for (int side = 0; side < 2; ++side) {
      const bool tree = (side + k) % 2 == 0;
      auto r = RunFreshLedgerd(
          config, ledgerd, absl::StrCat(tmpl, "/run", k, tree ? "t" : "n"),
          tree ? std::vector<std::string>{}
               : std::vector<std::string>{"--bench_no_merkle_tree"});
      if (!r) return 1;
      (tree ? with : without) = std::move(r);
    }
    with_eps.push_back(with->EventsPerS());
    without_eps.push_back(without->EventsPerS());
    ratios.push_back(with->EventsPerS() / without->EventsPerS());
    with_p99.push_back(with->tally.latency.QuantileMs(0.99));
    without_p99.push_back(without->tally.latency.QuantileMs(0.99));
    std::printf(
        "run %d/%d: with tree %.0f events/s (p99 %.3f ms), without "
        "%.0f events/s (p99 %.3f ms), ratio %.3f\n",
        k + 1, repeat, with_eps.back(), with_p99.back(), without_eps.back(),
        without_p99.back(), ratios.back());
    std::fflush(stdout);
  }
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
  std::printf(
      "median of %d (clients=%d batch=%d): with tree %.0f events/s (p99 %.3f "
      "ms), without %.0f events/s (p99 %.3f ms), ratio with/without %.3f\n",
      repeat, config.clients, config.batch, Median(with_eps), Median(with_p99),
      Median(without_eps), Median(without_p99), Median(ratios));
  return 0;
}

// --- replicated mode ---------------------------------------------------------

// A free TCP port on 127.0.0.1: bound to port 0 and released (another
// process may take it before etcd binds it: then a member fails to start
// and the run reports it).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

// `args` (args[0] the binary) with stdout and stderr appended to `log`;
// 0 if it cannot be started.
pid_t SpawnLogged(std::vector<std::string> args, const std::string& log) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    std::fprintf(stderr, "ledger-bench: cannot start %s: %s\n", argv[0],
                 std::strerror(rc));
    return 0;
  }
  return pid;
}

// SIGTERM, then SIGKILL after kStopTimeout; reaps.
void StopChild(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  const auto deadline = SteadyClock::now() + kStopTimeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) != pid) {
    if (SteadyClock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Three etcd members on loopback, each on a fresh data directory under
// `dir`, with the request size a commit group needs.
class EtcdMembers {
 public:
  ~EtcdMembers() { Stop(); }

  bool Start(const std::string& binary, const std::string& dir) {
    constexpr int kMembers = 3;
    std::vector<std::string> peers;
    for (int i = 0; i < kMembers; ++i) {
      client_ports_.push_back(FreePort());
      peer_ports_.push_back(FreePort());
      if (client_ports_.back() == 0 || peer_ports_.back() == 0) return false;
      peers.push_back(
          absl::StrCat("m", i, "=http://127.0.0.1:", peer_ports_.back()));
    }
    for (int i = 0; i < kMembers; ++i) {
      const std::string client =
          absl::StrCat("http://127.0.0.1:", client_ports_[i]);
      const std::string peer =
          absl::StrCat("http://127.0.0.1:", peer_ports_[i]);
      const pid_t pid = SpawnLogged(
          {binary, absl::StrCat("--name=m", i),
           absl::StrCat("--data-dir=", dir, "/etcd-m", i),
           "--listen-client-urls=" + client,
           "--advertise-client-urls=" + client, "--listen-peer-urls=" + peer,
           "--initial-advertise-peer-urls=" + peer,
           "--initial-cluster=" + absl::StrJoin(peers, ","),
           "--initial-cluster-state=new", "--initial-cluster-token=pl-bench",
           absl::StrCat("--max-request-bytes=", limits::kEtcdRequestBytesMax),
           "--logger=zap", "--log-level=warn"},
          absl::StrCat(dir, "/etcd-m", i, ".log"));
      if (pid == 0) return false;
      pids_.push_back(pid);
    }
    // Ready once every member reports a leader and quorum on /health.
    const auto deadline =
        SteadyClock::now() + std::chrono::milliseconds(static_cast<int64_t>(
                                 absl::GetFlag(FLAGS_ready_timeout_s) * 1000));
    for (int port : client_ports_) {
      while (true) {
        httplib::Client http("127.0.0.1", port);
        http.set_connection_timeout(1);
        httplib::Result r = http.Get("/health");
        if (r && r->status == 200 &&
            r->body.find("\"health\":\"true\"") != std::string::npos) {
          break;
        }
        if (SteadyClock::now() > deadline) {
          std::fprintf(stderr,
                       "ledger-bench: etcd on port %d not healthy; see %s\n",
                       port, dir.c_str());
          return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    return true;
  }

  std::string endpoints() const {
    std::vector<std::string> e;
    for (int p : client_ports_) e.push_back(absl::StrCat("127.0.0.1:", p));
    return absl::StrJoin(e, ",");
  }

  void Stop() {
    for (pid_t pid : pids_) StopChild(pid);
    pids_.clear();
  }

 private:
  std::vector<int> client_ports_;
  std::vector<int> peer_ports_;
  std::vector<pid_t> pids_;
};

// The node that accepts appends: a one-event append to each node in turn
// (a follower refuses it UNAVAILABLE) until one acknowledges. -1 if none
// does within the ready timeout.
int FindLeader(const Config& config,
               const std::vector<std::unique_ptr<LedgerdProcess>>& nodes) {
  const auto deadline =
      SteadyClock::now() + std::chrono::milliseconds(static_cast<int64_t>(
                               absl::GetFlag(FLAGS_ready_timeout_s) * 1000));
  RequestFactory factory(config, RunTag());
  grpc::Status last;
  Rng rng;
  v1::AppendEventsRequest req;
  factory.Init(&req);
  uint64_t seq = 0;
  while (SteadyClock::now() < deadline) {
    for (size_t i = 0; i < nodes.size(); ++i) {
      auto stub = v1::EventStoreService::NewStub(
          grpc::CreateChannel(absl::StrCat("127.0.0.1:", nodes[i]->port()),
                              grpc::InsecureChannelCredentials()));
      factory.Next(0, seq++, rng, &req);
      v1::AppendEventsResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
      last = stub->AppendEvents(&ctx, req, &resp);
      if (last.ok()) return static_cast<int>(i);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::fprintf(stderr, "ledger-bench: no node accepts appends (last: %s)\n",
               last.error_message().c_str());
  return -1;
}

// One grpc-mode run against the leader of a fresh 3-node cluster on 3
// fresh etcd members under `run_dir`.
std::optional<Result> RunFreshCluster(const Config& config,
                                      const std::string& ledgerd,
                                      const std::string& etcd,
                                      const std::string& run_dir) {
  std::filesystem::create_directories(run_dir);
  EtcdMembers members;
  if (!members.Start(etcd, run_dir)) return std::nullopt;
  std::vector<std::unique_ptr<LedgerdProcess>> nodes;
  for (int i = 0; i < 3; ++i) {
    const std::string scratch = absl::StrCat(run_dir, "/n", i);
    std::filesystem::create_directories(scratch);
    nodes.push_back(std::make_unique<LedgerdProcess>());
    if (!nodes.back()->Start(
            ledgerd, scratch + "/ledger", scratch,
            {"--replication=etcd", "--etcd_endpoints=" + members.endpoints(),
             absl::StrCat("--node_name=n", i), "--etcd_prefix=/pl-bench"})) {
      return std::nullopt;
    }
  }
  const int leader = FindLeader(config, nodes);
  if (leader < 0) {
    std::fprintf(stderr, "ledger-bench: no leader elected; see %s\n",
                 run_dir.c_str());
    return std::nullopt;
  }
  auto r = RunGrpc(absl::StrCat("127.0.0.1:", nodes[leader]->port()), config,
                   nodes[leader]->pid());
  for (auto& n : nodes) {
    const std::string exit = n->Stop();
    if (exit != "exit 0") {
      std::fprintf(stderr, "ledger-bench: ledgerd stopped with %s; see %s\n",
                   exit.c_str(), n->log_file().c_str());
      return std::nullopt;
    }
  }
  members.Stop();
  std::filesystem::remove_all(run_dir);
  return r;
}

int RunReplicatedCompare(const Config& config) {
  const std::string ledgerd = absl::GetFlag(FLAGS_ledgerd);
  const std::string etcd = absl::GetFlag(FLAGS_etcd);
  std::string tmpl = absl::GetFlag(FLAGS_work_dir) + "/ledger-bench-XXXXXX";
  if (ledgerd.empty() || access(etcd.c_str(), X_OK) != 0 ||
      mkdtemp(tmpl.data()) == nullptr) {
    std::fprintf(stderr,
                 "ledger-bench: need --ledgerd, an executable --etcd (%s; "
                 "Debian's etcd-server) and a --work_dir\n",
                 etcd.c_str());
    return 2;
  }
  const int repeat = absl::GetFlag(FLAGS_repeat);
  std::vector<Result> replicated, single;
  std::vector<double> ratios;
  for (int k = 0; k < repeat; ++k) {
    std::optional<Result> rep, one;
    for (int side = 0; side < 2; ++side) {
      const bool cluster = (side + k) % 2 == 0;
      auto r = cluster
                   ? RunFreshCluster(config, ledgerd, etcd,
                                     absl::StrCat(tmpl, "/run", k, "r"))
                   : RunFreshLedgerd(config, ledgerd,
                                     absl::StrCat(tmpl, "/run", k, "s"), {});
      if (!r) return 1;
      (cluster ? rep : one) = std::move(r);
    }
    ratios.push_back(rep->EventsPerS() / one->EventsPerS());
    if (!absl::GetFlag(FLAGS_json)) {
      std::printf(
          "run %d/%d: replicated %.0f events/s (p99 %.3f ms), single-node "
          "%.0f events/s (p99 %.3f ms), ratio %.3f\n",
          k + 1, repeat, rep->EventsPerS(), rep->tally.latency.QuantileMs(0.99),
          one->EventsPerS(), one->tally.latency.QuantileMs(0.99),
          ratios.back());
      std::fflush(stdout);
    }
    replicated.push_back(std::move(*rep));
    single.push_back(std::move(*one));
  }
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
  std::vector<double> rep_eps, one_eps, rep_p99, one_p99;
  std::vector<std::string> runs;
  for (int k = 0; k < repeat; ++k) {
    rep_eps.push_back(replicated[k].EventsPerS());
    one_eps.push_back(single[k].EventsPerS());
    rep_p99.push_back(replicated[k].tally.latency.QuantileMs(0.99));
    one_p99.push_back(single[k].tally.latency.QuantileMs(0.99));
    runs.push_back(absl::StrFormat(
        "{\"replicated\":%s,\"single\":%s,\"ratio\":%.4f}",
        ResultJson(replicated[k]), ResultJson(single[k]), ratios[k]));
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::printf(
        "{\"mode\":\"replicated\",\"clients\":%d,\"batch\":%d,"
        "\"event_bytes\":%d,\"window_s\":%.3f,\"repeat\":%d,\"runs\":[%s],"
        "\"median\":{\"replicated_events_per_s\":%.1f,"
        "\"single_events_per_s\":%.1f,\"ratio\":%.4f,"
        "\"replicated_latency_ms_p99\":%.4f,\"single_latency_ms_p99\":%.4f}}"
        "\n",
        config.clients, config.batch, config.event_bytes, config.duration_s,
        repeat, absl::StrJoin(runs, ",").c_str(), Median(rep_eps),
        Median(one_eps), Median(ratios), Median(rep_p99), Median(one_p99));
  } else {
    std::printf(
        "median of %d (clients=%d batch=%d): replicated %.0f events/s (p99 "
        "%.3f ms), single-node %.0f events/s (p99 %.3f ms), ratio "
        "replicated/single-node %.3f\n",
        repeat, config.clients, config.batch, Median(rep_eps), Median(rep_p99),
        Median(one_eps), Median(one_p99), Median(ratios));
  }
  return 0;
}

// Appends synchronously until the log holds `events` (batches of 1000 new
// partners' events).
bool LoadEvents(const std::shared_ptr<grpc::Channel>& channel,
                uint64_t events) {
  auto stub = v1::EventStoreService::NewStub(channel);
  Config c;
  c.batch = 1000;
  c.event_bytes = 256;
  RequestFactory factory(c, RunTag());
  std::vector<std::thread> threads;
  std::atomic<uint64_t> head{0};
  std::atomic<bool> failed{false};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Rng rng;
      v1::AppendEventsRequest req;
      factory.Init(&req);
      for (uint64_t seq = 0; head.load() < events && !failed.load(); ++seq) {
        factory.Next(t, seq, rng, &req);
        v1::AppendEventsResponse resp;
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(60));
        grpc::Status s = stub->AppendEvents(&ctx, req, &resp);
        if (!s.ok()) {
          std::fprintf(stderr, "ledger-bench: load: %s\n",
                       s.error_message().c_str());
          failed = true;
          return;
        }
        uint64_t seen = head.load();
        while (resp.commit_position() > seen &&
               !head.compare_exchange_weak(seen, resp.commit_position())) {
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  return !failed.load();
}

// Proof kinds measured side by side; the last is the transport baseline.
constexpr int kProofKinds = 3;
struct ProofKind {
  Histogram latency;
  uint64_t errors = 0;
};

// One window: every client thread takes the kinds in turn.
std::array<ProofKind, kProofKinds> MeasureProofs(
    const std::shared_ptr<grpc::Channel>& channel, uint64_t n,
    const Config& config) {
  std::vector<std::array<ProofKind, kProofKinds>> per_thread(config.clients);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < config.clients; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<uint64_t>(t) + 1);
      auto audit = v1::AuditService::NewStub(channel);
      auto events = v1::EventStoreService::NewStub(channel);
      for (uint64_t i = 0; !stop.load(); ++i) {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
        const auto start = SteadyClock::now();
        grpc::Status s;
        const int kind = static_cast<int>(i % kProofKinds);
        if (kind == 0) {
          v1::GetInclusionProofRequest req;
          req.set_position(1 + rng() % n);
          req.set_tree_size(n);
          v1::GetInclusionProofResponse resp;
          s = audit->GetInclusionProof(&ctx, req, &resp);
        } else if (kind == 1) {
          v1::GetConsistencyProofRequest req;
          req.set_from_size(1 + rng() % (n - 1));
          req.set_to_size(n);
          v1::GetConsistencyProofResponse resp;
          s = audit->GetConsistencyProof(&ctx, req, &resp);
        } else {
          v1::GetDigestRequest req;
          v1::GetDigestResponse resp;
          s = events->GetDigest(&ctx, req, &resp);
        }
        const uint64_t ns = static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(
                SteadyClock::now() - start)
                .count());
        if (s.ok()) {
          per_thread[t][kind].latency.Record(ns);
        } else {
          ++per_thread[t][kind].errors;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(
      static_cast<int64_t>(config.duration_s * 1000)));
  stop = true;
  for (auto& th : threads) th.join();
  std::array<ProofKind, kProofKinds> all;
  for (int kind = 0; kind < kProofKinds; ++kind) {
    for (auto& pt : per_thread) {
      all[kind].latency.Merge(pt[kind].latency);
      all[kind].errors += pt[kind].errors;
    }
  }
  return all;
}

int RunProofs(const Config& config) {
  std::unique_ptr<LedgerdProcess> server;
  std::string target = absl::GetFlag(FLAGS_target);
  std::string dir;
  if (target.empty()) {
    std::string tmpl = absl::GetFlag(FLAGS_work_dir) + "/ledger-bench-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) return 2;
    dir = tmpl;
    server = std::make_unique<LedgerdProcess>();
    if (!server->Start(absl::GetFlag(FLAGS_ledgerd), dir + "/ledger", dir)) {
      return 1;
    }
    target = absl::StrCat("127.0.0.1:", server->port());
  }
  auto channel =
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto audit = v1::AuditService::NewStub(channel);
  auto head = [&]() -> uint64_t {
    grpc::ClientContext ctx;
    v1::GetCheckpointResponse r;
    return audit->GetCheckpoint(&ctx, v1::GetCheckpointRequest(), &r).ok()
               ? r.checkpoint().tree_size()
               : 0;
  };
  const uint64_t want = absl::GetFlag(FLAGS_proof_events);
  const auto load_start = SteadyClock::now();
  if (head() < want && !LoadEvents(channel, want)) return 1;
  const uint64_t n = head();
  std::printf(
      "log of %llu events (loaded in %.1f s)\n",
      static_cast<unsigned long long>(n),
      std::chrono::duration<double>(SteadyClock::now() - load_start).count());
  std::fflush(stdout);
  if (n < 2) return 1;
  const char* const kNames[kProofKinds] = {"inclusion", "consistency",
                                           "baseline GetDigest"};
  const int repeat = std::max(1, absl::GetFlag(FLAGS_repeat));
  // [kind] -> per run: p50, p99, p999 (ms).
  std::array<std::vector<std::array<double, 3>>, kProofKinds> runs;
  for (int k = 0; k < repeat; ++k) {
    const std::array<ProofKind, kProofKinds> all =
        MeasureProofs(channel, n, config);
    std::printf("run %d/%d\n", k + 1, repeat);
    for (int kind = 0; kind < kProofKinds; ++kind) {
      const Histogram& h = all[kind].latency;
      runs[kind].push_back(
          {h.QuantileMs(0.5), h.QuantileMs(0.99), h.QuantileMs(0.999)});
      std::printf(
          "  %s at %llu events, %d clients: %llu in %.1f s, p50 "
          "%.3f ms, p99 %.3f ms, p999 %.3f ms, errors %llu\n",
          kNames[kind], static_cast<unsigned long long>(n), config.clients,
          static_cast<unsigned long long>(h.total()), config.duration_s,
          h.QuantileMs(0.5), h.QuantileMs(0.99), h.QuantileMs(0.999),
          static_cast<unsigned long long>(all[kind].errors));
    }
    std::fflush(stdout);
  }
  std::printf("medians of %d runs:\n", repeat);
  for (int kind = 0; kind < kProofKinds; ++kind) {
    std::array<double, 3> median;
    for (int q = 0; q < 3; ++q) {
      std::vector<double> v;
      for (const auto& r : runs[kind]) v.push_back(r[q]);
      std::sort(v.begin(), v.end());
      median[q] = v[v.size() / 2];
    }
    std::printf("  %s: p50 %.3f ms, p99 %.3f ms, p999 %.3f ms\n", kNames[kind],
                median[0], median[1], median[2]);
  }
  if (server != nullptr) {
    server->Stop();
    if (!absl::GetFlag(FLAGS_keep_dirs)) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }
  return 0;
}

// --- http mode
// -----------------------------------------------------------------

// The HTTP port in ledgerd's "serving" log line ("http_port":N); 0 if none.
int HttpPortFromLog(const std::string& log_file) {
  std::ifstream in(log_file);
  const std::string key = "\"http_port\":";
  for (std::string line; std::getline(in, line);) {
    if (const size_t at = line.find(key); at != std::string::npos) {
      return std::atoi(line.c_str() + at + key.size());
    }
  }
  return 0;
}

struct QueryRun {
  Histogram latency;
  uint64_t errors = 0;
  double seconds = 0;
};

// `clients` threads, each with its own caller (connection), calling at
// rate / clients per second (0: back to back) for warmup + duration; only
// calls started in the window are counted.
QueryRun QueryLoad(const Config& config, double rate,
                   const std::function<std::function<bool()>()>& new_caller) {
  std::vector<QueryRun> per(config.clients);
  std::vector<std::thread> threads;
  const auto start = SteadyClock::now();
  const auto window_start =
      start + std::chrono::duration_cast<SteadyClock::duration>(
                  std::chrono::duration<double>(config.warmup_s));
  const auto end =
      window_start + std::chrono::duration_cast<SteadyClock::duration>(
                         std::chrono::duration<double>(config.duration_s));
  const auto interval =
      rate > 0 ? std::chrono::duration_cast<SteadyClock::duration>(
                     std::chrono::duration<double>(config.clients / rate))
               : SteadyClock::duration::zero();
  for (int t = 0; t < config.clients; ++t) {
    threads.emplace_back([&, t] {
      std::function<bool()> call = new_caller();
      // Spread the clients' first calls over one interval.
      auto next = start + interval * t / config.clients;
      while (true) {
        if (interval > SteadyClock::duration::zero()) {
          std::this_thread::sleep_until(next);
          next += interval;
        }
        const auto begin = SteadyClock::now();
        if (begin >= end) break;
        const bool ok = call();
        const auto took = SteadyClock::now() - begin;
        if (begin < window_start) continue;
        if (!ok) {
          ++per[t].errors;
          continue;
        }
        per[t].latency.Record(static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(took)
                .count()));
      }
    });
  }
  for (auto& th : threads) th.join();
  QueryRun all;
  for (const QueryRun& r : per) {
    all.latency.Merge(r.latency);
    all.errors += r.errors;
  }
  all.seconds = config.duration_s;
  return all;
}

// Appends each AppendEventsRequest of `path` (JSON lines, '#' comments)
// over HTTP.
bool LoadExampleOverHttp(int http_port, const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "ledger-bench: cannot read --example=%s\n",
                 path.c_str());
    return false;
  }
  httplib::Client client("127.0.0.1", http_port);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    v1::AppendEventsRequest req;
    if (!google::protobuf::util::JsonStringToMessage(line, &req).ok()) {
      std::fprintf(stderr, "ledger-bench: not an AppendEventsRequest: %s\n",
                   line.c_str());
      return false;
    }
    auto res = client.Post(
        absl::StrCat("/v1/streams/", req.stream(), ":append").c_str(), line,
        "application/json");
    if (!res || res->status != 200) {
      std::fprintf(stderr, "ledger-bench: append over HTTP failed: %s\n",
                   res ? res->body.c_str() : "no response");
      return false;
    }
  }
  return true;
}

int RunHttpVsGrpc(const Config& config) {
  std::string tmpl = absl::GetFlag(FLAGS_work_dir) + "/ledger-bench-XXXXXX";
  if (absl::GetFlag(FLAGS_ledgerd).empty() || mkdtemp(tmpl.data()) == nullptr) {
    std::fprintf(stderr, "ledger-bench: need --ledgerd and a --work_dir\n");
    return 2;
  }
  LedgerdProcess server;
  if (!server.Start(absl::GetFlag(FLAGS_ledgerd), tmpl + "/ledger", tmpl,
                    {"--http_listen=127.0.0.1:0"})) {
    return 1;
  }
  const int http_port = HttpPortFromLog(server.log_file());
  if (http_port == 0 ||
      !LoadExampleOverHttp(http_port, absl::GetFlag(FLAGS_example))) {
    return 1;
  }
  const std::string target = absl::StrCat("127.0.0.1:", server.port());
  const double rate = absl::GetFlag(FLAGS_query_rate);
  const std::function<std::function<bool()>()> grpc_caller =
      [&]() -> std::function<bool()> {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // own connection
    auto stub = std::shared_ptr<v1::LedgerQueryService::Stub>(
        v1::LedgerQueryService::NewStub(grpc::CreateCustomChannel(
            target, grpc::InsecureChannelCredentials(), args)));
    return [stub] {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
      v1::GetObligationsResponse resp;
      return stub->GetObligations(&ctx, v1::GetObligationsRequest(), &resp)
                 .ok() &&
             resp.obligations_size() > 0;
    };
  };
  const std::function<std::function<bool()>()> http_caller =
      [&]() -> std::function<bool()> {
    auto client = std::make_shared<httplib::Client>("127.0.0.1", http_port);
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);  // as gRPC sets it
    return [client] {
      auto res = client->Get("/v1/obligations");
      v1::GetObligationsResponse resp;
      return res && res->status == 200 &&
             google::protobuf::util::JsonStringToMessage(res->body, &resp)
                 .ok() &&
             resp.obligations_size() > 0;
    };
  };
  std::vector<double> grpc_p99, http_p99, ratios;
  const int repeat = absl::GetFlag(FLAGS_repeat);
  for (int k = 0; k < repeat; ++k) {
    QueryRun g, h;
    for (int side = 0; side < 2; ++side) {
      const bool http = (side + k) % 2 == 1;
      (http ? h : g) =
          QueryLoad(config, rate, http ? http_caller : grpc_caller);
    }
    grpc_p99.push_back(g.latency.QuantileMs(0.99));
    http_p99.push_back(h.latency.QuantileMs(0.99));
    ratios.push_back(http_p99.back() / std::max(grpc_p99.back(), 1e-9));
    std::printf(
        "run %d/%d: gRPC %llu calls p50 %.3f ms p99 %.3f ms (%llu errors); "
        "HTTP %llu calls p50 %.3f ms p99 %.3f ms (%llu errors); p99 ratio "
        "%.2f\n",
        k + 1, repeat, static_cast<unsigned long long>(g.latency.total()),
        g.latency.QuantileMs(0.5), grpc_p99.back(),
        static_cast<unsigned long long>(g.errors),
        static_cast<unsigned long long>(h.latency.total()),
        h.latency.QuantileMs(0.5), http_p99.back(),
        static_cast<unsigned long long>(h.errors), ratios.back());
    std::fflush(stdout);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf(
      "GetObligations, %d clients, %.0f calls/s: median p99 gRPC %.3f ms, "
      "HTTP %.3f ms; median ratio HTTP/gRPC %.2f (target <= 1.5)\n",
      config.clients, rate, median(grpc_p99), median(http_p99), median(ratios));
  const std::string exit = server.Stop();
  std::filesystem::remove_all(tmpl);
  return exit == "exit 0" ? 0 : 1;
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "ledger-bench --mode=grpc|rocksdb|compare|tree|replicated|proofs|http "
      "[flags]; see "
      "the top of "
      "tools/bench/ledger_bench.cc");
  absl::ParseCommandLine(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  // Debian's abseil is built without NDEBUG, so every absl::Mutex operation
  // (gRPC's included) feeds the deadlock detector's graph: measurable client
  // CPU on a 2-core machine shared with the server.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  Config config;
  config.clients = absl::GetFlag(FLAGS_clients);
  config.batch = absl::GetFlag(FLAGS_batch);
  config.event_bytes = absl::GetFlag(FLAGS_event_bytes);
  config.warmup_s = absl::GetFlag(FLAGS_warmup_s);
  config.duration_s = absl::GetFlag(FLAGS_duration_s);
  if (config.clients < 1 || config.clients > kClientsMax || config.batch < 1 ||
      config.batch > kBatchMax || config.event_bytes < kEventBytesMin ||
      config.event_bytes > kEventBytesMax || config.duration_s <= 0 ||
      config.duration_s > kDurationMaxS || config.warmup_s < 0 ||
      config.warmup_s > kDurationMaxS || absl::GetFlag(FLAGS_repeat) < 1 ||
      absl::GetFlag(FLAGS_repeat) > kRepeatMax) {
    std::fprintf(stderr,
                 "ledger-bench: out of range: clients 1..%d, batch 1..%d, "
                 "event_bytes %d..%d, 0 < duration_s <= %.0f, repeat 1..%d\n",
                 kClientsMax, kBatchMax, kEventBytesMin, kEventBytesMax,
                 kDurationMaxS, kRepeatMax);
    return 2;
  }
  const std::string mode = absl::GetFlag(FLAGS_mode);
  std::optional<Result> r;
  if (mode == "compare") return RunCompare(config);
  if (mode == "tree") return RunTreeCompare(config);
  if (mode == "replicated") return RunReplicatedCompare(config);
  if (mode == "proofs") return RunProofs(config);
  if (mode == "http") return RunHttpVsGrpc(config);
  if (mode == "grpc" || mode == "noop") {
    config.noop = mode == "noop";
    if (absl::GetFlag(FLAGS_target).empty()) {
      std::fprintf(stderr, "ledger-bench: --target is required\n");
      return 2;
    }
    r = RunGrpc(absl::GetFlag(FLAGS_target), config,
                absl::GetFlag(FLAGS_server_pid));
  } else if (mode == "rocksdb") {
    if (absl::GetFlag(FLAGS_dir).empty()) {
      std::fprintf(stderr, "ledger-bench: --dir is required\n");
      return 2;
    }
    r = RunRocksDb(absl::GetFlag(FLAGS_dir), config);
  } else {
    std::fprintf(stderr, "ledger-bench: unknown --mode=%s\n", mode.c_str());
    return 2;
  }
  if (!r) return 1;
  if (absl::GetFlag(FLAGS_json)) {
    std::printf("%s\n", ResultJson(*r).c_str());
  } else {
    std::printf("%s", ResultText(*r).c_str());
  }
  return 0;
}

}  // namespace
}  // namespace partnerledger::bench

int main(int argc, char** argv) {
  return partnerledger::bench::Main(argc, argv);
}

#include "server/metrics.h"

#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace partnerledger::server {
namespace {

std::string CodeName(int code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

void Header(std::string* out, const char* name, const char* type,
            const char* help) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type,
                  "\n");
}

void Sample(std::string* out, const char* name, uint64_t value) {
  absl::StrAppend(out, name, " ", value, "\n");
}

void Gauge(std::string* out, const char* name, const char* help,
           uint64_t value) {
  Header(out, name, "gauge", help);
  Sample(out, name, value);
}

void Counter(std::string* out, const char* name, const char* help,
             uint64_t value) {
  Header(out, name, "counter", help);
  Sample(out, name, value);
}

// A Prometheus label value: backslash, quote and newline escaped.
std::string LabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

class CountingInterceptor final : public grpc::experimental::Interceptor {
 public:
  CountingInterceptor(Metrics* metrics, const char* method)
      : metrics_(metrics), method_(method) {
    metrics_->CallStarted();
  }
  ~CountingInterceptor() override { metrics_->CallEnded(); }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      metrics_->CountRpc(method_, status.error_code());
      if (status.error_code() == grpc::StatusCode::DATA_LOSS) {
        metrics_->OnRpcDataLoss(method_, status.error_message());
      }
    }
    methods->Proceed();
  }

 private:
  Metrics* const metrics_;
  const char* const method_;
};

class CountingFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CountingFactory(Metrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CountingInterceptor(metrics_, info->method());
  }

 private:
  Metrics* const metrics_;
};

}  // namespace

void Metrics::ObserveAppendSeconds(double seconds) {
  size_t i = 0;
  while (i < kAppendLatencyBucketsSeconds.size() &&
         seconds > kAppendLatencyBucketsSeconds[i]) {
    ++i;
  }
  append_buckets_[i].fetch_add(1, std::memory_order_relaxed);
  append_count_.fetch_add(1, std::memory_order_relaxed);
  append_sum_us_.fetch_add(static_cast<uint64_t>(seconds * 1e6),
                           std::memory_order_relaxed);
}

void Metrics::CountRpc(const char* method, grpc::StatusCode code) {
  std::pair<std::string, int> key{method == nullptr ? "" : method,
                                  static_cast<int>(code)};
  absl::MutexLock lock(&rpc_mu_);
  // Method names come from clients for unknown methods: bound the series.
  if (rpcs_.size() >= kRpcSeriesMax && rpcs_.count(key) == 0) {
    key.first = "other";
  }
  ++rpcs_[key];
}

void Metrics::OnRpcDataLoss(const char* method, const std::string& message) {
  data_loss_rpc_.fetch_add(1);
  if (data_loss_handler_) {
    data_loss_handler_(method == nullptr ? "" : method, message);
  }
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
Metrics::NewInterceptorFactory() {
  return std::make_unique<CountingFactory>(this);
}

std::string Metrics::Render(const MetricsInputs& in) const {
  std::string out;
  const LedgerStats& s = in.ledger;

  Header(&out, "partnerledger_appends_total", "counter",
         "Completed appends by outcome (gRPC status code name).");
  for (int code = 0; code < 17; ++code) {
    absl::StrAppend(&out, "partnerledger_appends_total{code=\"", CodeName(code),
                    "\"} ", s.appends_by_code[code], "\n");
  }
  Counter(&out, "partnerledger_appends_replayed_total",
          "Appends answered as idempotent replays (nothing written).",
          s.appends_replayed);
  Counter(&out, "partnerledger_events_written_total",
          "Events written, derived events included.", s.events_written);
  Counter(&out, "partnerledger_commit_groups_total",
          "Commit groups written (one WriteBatch and one fsync each).",
          s.commit_groups);
  Counter(&out, "partnerledger_commit_group_requests_total",
          "Append requests written in commit groups; divided by "
          "partnerledger_commit_groups_total: the mean group size.",
          s.commit_group_requests);
  Gauge(&out, "partnerledger_writer_queue_depth",
        "Appends waiting for the writer.", s.queue_depth);
  Gauge(&out, "partnerledger_writer_queue_max",
        "Writer queue bound; beyond it appends get RESOURCE_EXHAUSTED.",
        in.writer_queue_max);
  Gauge(&out, "partnerledger_head_position",
        "Position of the last committed event. Projections are written in "
        "the same batch, so this is also the projection position.",
        s.head_position);
  Gauge(&out, "partnerledger_healthy",
        "1 while storage accepts writes and no corruption was found; 0 "
        "after a failed commit (appends UNAVAILABLE) or a DATA_LOSS (health "
        "NOT_SERVING).",
        in.healthy ? 1 : 0);
  Gauge(&out, "partnerledger_serving",
        "1 while the gRPC health status is SERVING; 0 after a storage "
        "failure, a DATA_LOSS found, or while shutting down.",
        in.serving ? 1 : 0);
  Header(&out, "partnerledger_data_loss_total", "counter",
         "Corruption found: calls answered DATA_LOSS (rpc) and corrupt SST "
         "files found by the background scrub (scrub). Any of it turns "
         "health NOT_SERVING.");
  absl::StrAppend(&out, "partnerledger_data_loss_total{source=\"rpc\"} ",
                  data_loss_rpc_.load(), "\n");
  absl::StrAppend(&out, "partnerledger_data_loss_total{source=\"scrub\"} ",
                  data_loss_scrub_.load(), "\n");
  Counter(&out, "partnerledger_scrub_passes_total",
          "Completed passes of the background scrub over every SST file.",
          in.scrub_passes);
  Counter(&out, "partnerledger_scrub_bytes_total",
          "SST bytes the scrub has read and checked.", in.scrub_bytes);
  Gauge(&out, "partnerledger_wal_torn_tail_dropped_bytes",
        "Bytes of a torn write-ahead log tail (the last record of an append "
        "whose fsync never returned, so never acknowledged) dropped at "
        "startup; 0: none.",
        in.wal_torn_tail_bytes);
  Gauge(&out, "partnerledger_subscribers", "Live Subscribe streams.",
        in.subscribers);
  Gauge(&out, "partnerledger_subscribers_max",
        "Subscribe streams allowed; beyond it RESOURCE_EXHAUSTED.",
        in.subscribers_max);

  Gauge(&out, "partnerledger_read_in_flight_bytes",
        "Bytes of read responses (pages, subscriber buffers) held in memory "
        "now.",
        in.read_in_flight_bytes);
  Gauge(&out, "partnerledger_read_in_flight_bytes_max",
        "Read memory budget (limits::kReadBytesInFlightMax); beyond it reads "
        "get RESOURCE_EXHAUSTED.",
        in.read_in_flight_bytes_max);
  Gauge(&out, "partnerledger_read_in_flight_peak_bytes",
        "The most bytes of read responses ever held at once.",
        in.read_in_flight_peak_bytes);
  Counter(&out, "partnerledger_reads_refused_total",
          "Reads answered RESOURCE_EXHAUSTED because the read memory budget "
          "was spent.",
          in.reads_refused);
  Counter(&out, "partnerledger_read_memory_trims_total",
          "Times freed read memory was handed back to the operating system.",
          in.read_memory_trims);

  const int64_t in_flight = calls_in_flight_.load();
  Gauge(&out, "partnerledger_grpc_calls_in_flight",
        "RPCs in progress, Subscribe streams included. Each holds one HTTP/2 "
        "stream of its client connection; a connection whose streams are "
        "all taken (partnerledger_grpc_max_concurrent_streams) makes its "
        "further calls wait.",
        in_flight < 0 ? 0 : static_cast<uint64_t>(in_flight));
  Gauge(&out, "partnerledger_grpc_max_concurrent_streams",
        "Concurrent RPCs (HTTP/2 streams) allowed per client connection "
        "(--max_concurrent_streams).",
        in.max_concurrent_streams);

  Header(&out, "partnerledger_append_latency_seconds", "histogram",
         "AppendEvents from the handler's start to its completion (fsync "
         "included).");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kAppendLatencyBucketsSeconds.size(); ++i) {
    cumulative += append_buckets_[i].load(std::memory_order_relaxed);
    absl::StrAppend(&out, "partnerledger_append_latency_seconds_bucket{le=\"",
                    Seconds(kAppendLatencyBucketsSeconds[i]), "\"} ",
                    cumulative, "\n");
  }
  cumulative += append_buckets_[kAppendLatencyBucketsSeconds.size()].load(
      std::memory_order_relaxed);
  absl::StrAppend(&out,
                  "partnerledger_append_latency_seconds_bucket{le=\"+Inf\"} ",
                  cumulative, "\n");
  absl::StrAppend(&out, "partnerledger_append_latency_seconds_sum ",
                  Seconds(static_cast<double>(append_sum_us_.load()) / 1e6),
                  "\n");
  absl::StrAppend(&out, "partnerledger_append_latency_seconds_count ",
                  cumulative, "\n");

  Gauge(&out, "partnerledger_rocksdb_total_sst_files_bytes",
        "rocksdb.total-sst-files-size", in.total_sst_files_bytes);
  Gauge(&out, "partnerledger_rocksdb_live_sst_files_bytes",
        "rocksdb.live-sst-files-size", in.live_sst_files_bytes);
  Gauge(&out, "partnerledger_rocksdb_delayed_write_rate_bytes",
        "rocksdb.actual-delayed-write-rate (0: writes not delayed).",
        in.actual_delayed_write_rate);
  Gauge(&out, "partnerledger_rocksdb_write_stopped",
        "rocksdb.is-write-stopped (1: writes stalled).", in.is_write_stopped);

  Header(&out, "partnerledger_auth_denials_total", "counter",
         "Requests refused by authentication or authorization.");
  absl::StrAppend(&out,
                  "partnerledger_auth_denials_total{code=\"UNAUTHENTICATED\"} ",
                  in.auth_unauthenticated, "\n");
  absl::StrAppend(
      &out, "partnerledger_auth_denials_total{code=\"PERMISSION_DENIED\"} ",
      in.auth_permission_denied, "\n");

  Header(&out, "partnerledger_grpc_server_handled_total", "counter",
         "Completed RPCs by method and gRPC status code.");
  absl::MutexLock lock(&rpc_mu_);
  for (const auto& [key, n] : rpcs_) {
    absl::StrAppend(&out, "partnerledger_grpc_server_handled_total{method=\"",
                    LabelValue(key.first), "\",code=\"", CodeName(key.second),
                    "\"} ", n, "\n");
  }
  return out;
}

}  // namespace partnerledger::server

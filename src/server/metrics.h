// Prometheus metrics of ledgerd (text exposition format 0.0.4), served on
// the admin port by metrics_http.h.
//
// Most figures are read when scraped (the ledger's LedgerStats, RocksDB
// properties, the subscription hub, the authorizer's denial counters); this
// class keeps only what nothing else counts: the append latency histogram
// (AppendEvents handler start -> completion callback) and completed RPCs by
// method and gRPC code, and the RPCs in progress (both counted by a server
// interceptor, so every service, health checking and reflection included,
// is covered without a line in each handler).
//
// Thread safety: all methods may be called from any thread.
#ifndef PARTNERLEDGER_SERVER_METRICS_H_
#define PARTNERLEDGER_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/server_interceptor.h"
#include "grpcpp/support/status.h"
#include "partnerledger/ledger.h"

namespace partnerledger::server {

// Upper bounds (seconds) of the append latency buckets; +Inf is implied.
inline constexpr std::array<double, 13> kAppendLatencyBucketsSeconds = {
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
    0.1,    0.2,   0.5,   1.0,   2.0,  5.0};

// What a scrape reports besides Metrics' own counters.
struct MetricsInputs {
  LedgerStats ledger;
  bool healthy = true;
  // What the gRPC health service reports (false after a storage failure
  // and while shutting down).
  bool serving = true;
  // --max_concurrent_streams: HTTP/2 streams per client connection.
  uint64_t max_concurrent_streams = 0;
  uint64_t subscribers = 0;
  uint64_t subscribers_max = 0;
  uint64_t auth_unauthenticated = 0;
  uint64_t auth_permission_denied = 0;
  // RocksDB integer properties.
  uint64_t total_sst_files_bytes = 0;
  uint64_t live_sst_files_bytes = 0;
  uint64_t actual_delayed_write_rate = 0;
  uint64_t is_write_stopped = 0;
  uint64_t writer_queue_max = 0;
  // The background scrub (store/scrub.h).
  uint64_t scrub_passes = 0;
  uint64_t scrub_bytes = 0;
  // A torn write-ahead log tail dropped when this process opened the store.
  uint64_t wal_torn_tail_bytes = 0;
  // The read memory budget (partnerledger/ledger.h, ReadBudget).
  uint64_t read_in_flight_bytes = 0;
  uint64_t read_in_flight_bytes_max = 0;
  uint64_t read_in_flight_peak_bytes = 0;
  uint64_t reads_refused = 0;
  uint64_t read_memory_trims = 0;
};

class Metrics {
 public:
  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void ObserveAppendSeconds(double seconds);
  void CountRpc(const char* method, grpc::StatusCode code);
  // RPCs in progress (the interceptor counts a call from its creation to
  // its destruction, when the call is over).
  void CallStarted() { calls_in_flight_.fetch_add(1); }
  void CallEnded() { calls_in_flight_.fetch_sub(1); }
  // A DATA_LOSS found by the scrub (a call answered DATA_LOSS is counted by
  // the interceptor).
  void CountScrubDataLoss() { data_loss_scrub_.fetch_add(1); }
  // Called with the method and message of every call answered DATA_LOSS,
  // on the thread that answers it. Set before the server starts.
  void SetDataLossHandler(
      std::function<void(const std::string&, const std::string&)> handler) {
    data_loss_handler_ = std::move(handler);
  }
  void OnRpcDataLoss(const char* method, const std::string& message);

  // The whole exposition, # HELP and # TYPE included.
  std::string Render(const MetricsInputs& in) const;

  // Counts every RPC's final status (PRE_SEND_STATUS) into CountRpc.
  // `this` must outlive the server the factory is given to.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  NewInterceptorFactory();

 private:
  std::array<std::atomic<uint64_t>, kAppendLatencyBucketsSeconds.size() + 1>
      append_buckets_{};
  std::atomic<uint64_t> append_count_{0};
  std::atomic<uint64_t> append_sum_us_{0};
  std::atomic<int64_t> calls_in_flight_{0};
  std::atomic<uint64_t> data_loss_rpc_{0};
  std::atomic<uint64_t> data_loss_scrub_{0};
  std::function<void(const std::string&, const std::string&)>
      data_loss_handler_;

  // Series of partnerledger_grpc_server_handled_total; beyond it calls are
  // counted under method="other".
  static constexpr size_t kRpcSeriesMax = 512;

  mutable absl::Mutex rpc_mu_;
  // (method, code) -> completed calls.
  std::map<std::pair<std::string, int>, uint64_t> rpcs_
      ABSL_GUARDED_BY(rpc_mu_);
};

}  // namespace partnerledger::server

#endif  // PARTNERLEDGER_SERVER_METRICS_H_

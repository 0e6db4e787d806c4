// Client side of the crash tests: concurrent appenders that record what the
// server acknowledged, and a checker that reads the whole log back after a
// restart and compares.
#ifndef PARTNERLEDGER_TESTS_CRASH_APPEND_LOAD_H_
#define PARTNERLEDGER_TESTS_CRASH_APPEND_LOAD_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "partnerledger/v1/event_store.grpc.pb.h"

namespace partnerledger::crash {

// One append the server acknowledged (returned OK): from then on it must
// survive any crash.
struct Ack {
  std::string event_id;
  uint64_t position = 0;
};

// A random version-4 UUID, lowercase 8-4-4-4-12.
template <typename Rng>
std::string RandomUuid(Rng& rng) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint8_t b[16];
  for (int i = 0; i < 16; i += 8) {
    const uint64_t r = rng();
    for (int j = 0; j < 8; ++j) b[i + j] = static_cast<uint8_t>(r >> (8 * j));
  }
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[b[i] >> 4]);
    s.push_back(kHex[b[i] & 0xf]);
  }
  return s;
}

// A single-event AppendEvents that registers a new partner on the stream
// "partner-<event_id>" (expected: no stream), so it is valid on any log.
v1::AppendEventsRequest NewRegistration(const std::string& event_id);

// A connection to ledgerd with the message size and a private subchannel
// (separate channels really are separate TCP connections).
std::shared_ptr<grpc::Channel> NewChannel(const std::string& address);

struct LoadOptions {
  int threads = 8;
  // Threads share channels round-robin.
  int channels = 4;
  // Seeds the event ids (with the thread index), so a run is reproducible
  // up to timing.
  uint64_t seed = 0;
  std::chrono::milliseconds rpc_timeout{10'000};
};

// Client threads appending one PartnerRegistered event per call to a new
// stream "partner-<uuid>" with expected state NO_STREAM: valid whatever else
// is in the log, so every failure is the server's, or the crash's.
//
// Thread safety: the methods may be called from any one thread while the
// clients run.
class AppendLoad {
 public:
  // Starts the clients immediately.
  AppendLoad(const std::string& address, const LoadOptions& o);
  // Stops and joins the clients.
  ~AppendLoad();
  AppendLoad(const AppendLoad&) = delete;
  AppendLoad& operator=(const AppendLoad&) = delete;

  uint64_t acknowledged() const { return acked_.load(); }
  // Blocks until at least `n` appends were acknowledged; false on timeout.
  bool WaitForAcks(uint64_t n, std::chrono::milliseconds timeout);

  // Tells the clients to start no new call; returns at once.
  void RequestStop() { stop_.store(true); }
  // Lets each client finish its current call (every call has a deadline)
  // and joins them. Returns every acknowledged append, in no order.
  // Idempotent.
  std::vector<Ack> StopAndJoin();

  // Failed calls by gRPC status code name ("UNAVAILABLE" -> 17).
  std::map<std::string, uint64_t> Failures() const;
  // Failures that a crash or an overloaded machine cannot explain
  // (INVALID_ARGUMENT, ALREADY_EXISTS, DATA_LOSS, a malformed response ...):
  // the first few messages, empty when there were none.
  std::vector<std::string> UnexpectedFailures() const;

 private:
  void Client(int index);
  void RecordFailure(const grpc::Status& s);
  void RecordUnexpected(const std::string& what);

  // Constant after construction.
  const LoadOptions options_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;

  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> acked_{0};
  std::vector<std::thread> threads_;

  mutable absl::Mutex mu_;
  absl::CondVar acked_cv_;
  std::vector<Ack> acks_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, uint64_t> failures_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> unexpected_ ABSL_GUARDED_BY(mu_);
};

// What the restarted server's log says about a set of acknowledgements.
struct LogCheck {
  uint64_t head = 0;
  // Acknowledged appends missing from their position (absent, or another
  // event sits there).
  uint64_t lost = 0;
  // A few of them, "position:event_id -> found", for the failure message.
  std::vector<std::string> lost_examples;
};

// Reads the whole log with ReadAll and checks its shape: positions exactly
// 1..head without gaps, the pages' head agrees, no event_id twice, and
// VerifyChain over everything is ok through the head. A violation is an
// error (DATA_LOSS for shape and chain, or the RPC's failure); lost
// acknowledgements are counted, not an error, so the negative control can
// expect them.
absl::StatusOr<LogCheck> CheckLog(const std::string& address,
                                  const std::vector<Ack>& acked,
                                  std::chrono::milliseconds rpc_timeout);

}  // namespace partnerledger::crash

#endif  // PARTNERLEDGER_TESTS_CRASH_APPEND_LOAD_H_

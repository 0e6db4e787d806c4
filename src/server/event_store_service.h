// partnerledger.v1.EventStoreService over the gRPC callback API. Handlers
// check the caller (auth.h), validate, translate, hand off to the Ledger and
// finish; appends complete from the ledger's committer thread after their
// fsync. A partner:<id> reader's reads are restricted to what involves its
// partner (projection/partner_scope.h).
#ifndef PARTNERLEDGER_SERVER_EVENT_STORE_SERVICE_H_
#define PARTNERLEDGER_SERVER_EVENT_STORE_SERVICE_H_

#include <functional>
#include <memory>

#include "partnerledger/ledger.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "server/auth.h"
#include "server/metrics.h"
#include "server/read_pool.h"

namespace partnerledger::server {

class SubscriptionHub;

class EventStoreService final : public v1::EventStoreService::CallbackService {
 public:
  // `ledger`, `auth` and `metrics` must outlive the service; `metrics` may
  // be nullptr. `on_unhealthy` is called (from any thread) when an append
  // finds storage failed. At most `subscribers_max` Subscribe streams live
  // at once; more get RESOURCE_EXHAUSTED.
  // Read responses in flight (pages until sent, subscribers' buffers) hold
  // at most `read_bytes_in_flight_max` bytes (see ReadBudget).
  EventStoreService(
      Ledger* ledger, const Authorizer* auth, Metrics* metrics,
      std::function<void()> on_unhealthy,
      size_t subscribers_max = limits::kSubscribersMax,
      size_t read_bytes_in_flight_max = limits::kReadBytesInFlightMax);
  ~EventStoreService() override;

  // Ends live subscriptions (UNAVAILABLE) and stops the hub's thread. Call
  // before shutting the gRPC server down, so streams do not hold it open.
  void StopSubscriptions();

  // Live Subscribe streams (for metrics).
  size_t subscribers() const;
  ReadBudget& read_budget() { return read_budget_; }

  grpc::ServerUnaryReactor* AppendEvents(
      grpc::CallbackServerContext* ctx, const v1::AppendEventsRequest* req,
      v1::AppendEventsResponse* resp) override;
  grpc::ServerUnaryReactor* ReadStream(grpc::CallbackServerContext* ctx,
                                       const v1::ReadStreamRequest* req,
                                       v1::ReadStreamResponse* resp) override;
  grpc::ServerUnaryReactor* ReadAll(grpc::CallbackServerContext* ctx,
                                    const v1::ReadAllRequest* req,
                                    v1::ReadAllResponse* resp) override;
  grpc::ServerWriteReactor<v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* ctx,
      const v1::SubscribeRequest* req) override;
  grpc::ServerUnaryReactor* GetDigest(grpc::CallbackServerContext* ctx,
                                      const v1::GetDigestRequest* req,
                                      v1::GetDigestResponse* resp) override;
  grpc::ServerUnaryReactor* VerifyChain(grpc::CallbackServerContext* ctx,
                                        const v1::VerifyChainRequest* req,
                                        v1::VerifyChainResponse* resp) override;

 private:
  // The storage half of ReadStream / ReadAll, on a pool worker.
  absl::Status ReadStreamPage(const grpc::CallbackServerContext& ctx,
                              const Access& access,
                              const v1::ReadStreamRequest& req,
                              Direction direction, ReadReservation* reservation,
                              v1::ReadStreamResponse* resp);
  absl::Status ReadAllPage(const Access& access, const v1::ReadAllRequest& req,
                           Direction direction, ReadReservation* reservation,
                           v1::ReadAllResponse* resp);

  Ledger* const ledger_;
  const Authorizer* const auth_;
  Metrics* const metrics_;
  const std::function<void()> on_unhealthy_;
  ReadBudget read_budget_;
  std::unique_ptr<SubscriptionHub> hub_;
  // Last: destroyed (its queued reads run) before what they use.
  ReadPool reads_{limits::kReadWorkers, limits::kReadQueueMax};
};

}  // namespace partnerledger::server

#endif  // PARTNERLEDGER_SERVER_EVENT_STORE_SERVICE_H_

#include "server/event_store_service.h"

#include <chrono>
#include <deque>
#include <optional>
#include <set>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "domain/validate.h"
#include "ledger/ledger_internal.h"
#include "projection/partner_scope.h"
#include "server/min_position.h"
#include "server/status_map.h"
#include "server/translate.h"
#include "util/check.h"
#include "util/sha256.h"
#include "util/status_macros.h"

namespace partnerledger::server {

using projection::PartnerScope;
namespace {

uint32_t PageSize(uint32_t requested) {
  if (requested == 0) return limits::kReadPageDefault;
  return std::min(requested, limits::kReadPageMax);
}

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx,
                                    const absl::Status& s) {
  grpc::ServerUnaryReactor* r = ctx->DefaultReactor();
  r->Finish(ToGrpc(s));
  return r;
}

// A read's reactor: holds the page's share of the read budget until the
// response has been sent (OnDone), not merely built.
class ReadReactor final : public grpc::ServerUnaryReactor {
 public:
  ReadReactor(grpc::CallbackServerContext* ctx, ReadBudget* budget)
      : ctx_(ctx), reservation_(budget) {}
  ReadReservation* reservation() { return &reservation_; }

  // Runs `work` (returning absl::Status) on `pool` and finishes with its
  // status; a full pool finishes at once with RESOURCE_EXHAUSTED.
  template <typename Work>
  grpc::ServerUnaryReactor* Run(ReadPool* pool, Work work) {
    absl::Status queued = pool->Submit(
        [this, work = std::move(work)]() mutable { FinishWith(work()); });
    if (!queued.ok()) return FinishWith(queued);
    return this;
  }
  // Run, once `ledger` has applied `min_position` (min_position.h); else
  // finishes with the wait's UNAVAILABLE.
  template <typename Work>
  grpc::ServerUnaryReactor* RunAt(Ledger* ledger, uint64_t min_position,
                                  ReadPool* pool, Work work) {
    WhenApplied(ledger, *ctx_, min_position,
                [this, pool, work = std::move(work)](absl::Status applied) {
                  if (applied.ok()) {
                    Run(pool, work);
                  } else {
                    FinishWith(applied);
                  }
                });
    return this;
  }

  grpc::ServerUnaryReactor* FinishWith(const absl::Status& s) {
    if (s.code() == absl::StatusCode::kResourceExhausted) {
      ctx_->AddTrailingMetadata(kRetryPushbackTrailer,
                                std::to_string(kReadRetryAfterMs));
    }
    Finish(ToGrpc(s));
    return this;
  }
  void OnDone() override { delete this; }

 private:
  grpc::CallbackServerContext* const ctx_;
  ReadReservation reservation_;
};

}  // namespace

// Serves every Subscribe stream from one thread. Subscribers are fed from
// storage a page at a time, so a slow subscriber holds at most one page in
// memory and never slows the writer: commits only post a wake-up here.
//
// Every reactor event (write done, cancel, done, commit) is posted to this
// thread's queue, and reactor state is touched only on this thread, so the
// reactors need no locks of their own.
class SubscriptionHub {
 public:
  class Reactor;

  SubscriptionHub(Ledger* ledger, size_t subscribers_max, ReadBudget* budget)
      : ledger_(ledger), subscribers_max_(subscribers_max), budget_(budget) {
    listener_id_ = ledger_->AddCommitListener(
        [this](uint64_t) { Post(nullptr, kCommit); });
    thread_ = std::thread([this] { Run(); });
  }
  ~SubscriptionHub() { Stop(); }

  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    ledger_->RemoveCommitListener(listener_id_);
    cv_.SignalAll();
    if (thread_.joinable()) thread_.join();
  }

  // `partner_id` non-empty: deliver only events involving that partner.
  // The stream starts once req.min_position is applied; at
  // `wait_deadline` first it ends UNAVAILABLE.
  grpc::ServerWriteReactor<v1::SubscribeResponse>* NewSubscription(
      const v1::SubscribeRequest& req, const std::string& partner_id,
      absl::Time wait_deadline);

  size_t live_count() const {
    absl::MutexLock lock(&mu_);
    return live_count_;
  }

  // kDeadline: a stream waiting for its min_position may be late.
  enum Kind {
    kStep,
    kWriteDone,
    kWriteFailed,
    kCancel,
    kDone,
    kCommit,
    kDeadline
  };
  void Post(Reactor* r, Kind k) {
    {
      absl::MutexLock lock(&mu_);
      work_.push_back({r, k});
    }
    cv_.Signal();
  }

 private:
  struct Work {
    Reactor* reactor;
    Kind kind;
  };
  void Run();
  void Handle(const Work& w);
  void Step(Reactor* r);
  void Fill(Reactor* r);
  // Streams waiting for their min_position (hub thread).
  void Wait(Reactor* r);
  void EndLate(Reactor* r);
  void EndLateOnes();
  void SetNextDeadline();

  Ledger* const ledger_;
  const size_t subscribers_max_;
  ReadBudget* const budget_;
  uint64_t listener_id_ = 0;
  std::thread thread_;

  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::deque<Work> work_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  size_t live_count_ ABSL_GUARDED_BY(mu_) = 0;
  // The earliest wait_deadline_ of waiting_ (set by the hub thread).
  absl::Time next_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();

  // Hub thread only.
  std::set<Reactor*> live_;
  bool ending_ = false;
  // Live streams whose min_position is not applied yet.
  std::set<Reactor*> waiting_;
};

class SubscriptionHub::Reactor final
    : public grpc::ServerWriteReactor<v1::SubscribeResponse> {
 public:
  Reactor(SubscriptionHub* hub, const v1::SubscribeRequest& req,
          const std::string& partner_id, absl::Time wait_deadline)
      : hub_(hub),
        min_position_(req.min_position()),
        wait_deadline_(wait_deadline),
        reservation_(hub->budget_),
        next_position_(std::max<uint64_t>(1, req.from_position())),
        filter_(FromWire(req.filter())),
        checkpoint_interval_(req.checkpoint_interval() == 0
                                 ? limits::kCheckpointIntervalDefault
                                 : req.checkpoint_interval()) {
    if (!partner_id.empty()) {
      scope_.emplace(&ledger::StoreOf(*hub->ledger_), partner_id);
    }
  }

  void OnWriteDone(bool ok) override {
    hub_->Post(this, ok ? kWriteDone : kWriteFailed);
  }
  void OnCancel() override { hub_->Post(this, kCancel); }
  void OnDone() override { hub_->Post(this, kDone); }

 private:
  friend class SubscriptionHub;
  SubscriptionHub* const hub_;
  // Nothing is sent before this position is applied (0 once it is), nor
  // after wait_deadline_ while it is not.
  uint64_t min_position_;
  const absl::Time wait_deadline_;
  // The buffered page's share of the read budget, renewed with each page.
  ReadReservation reservation_;
  uint64_t next_position_;
  const EventFilter filter_;
  const uint32_t checkpoint_interval_;
  // Set for a partner:<id> reader: events not involving it are skipped.
  std::optional<PartnerScope> scope_;
  uint64_t unmatched_since_checkpoint_ = 0;
  bool caught_up_sent_ = false;
  bool writing_ = false;
  bool finished_ = false;
  // At most one page of messages; `current_` is the one being written.
  std::deque<v1::SubscribeResponse> buffer_;
  v1::SubscribeResponse current_;
};

grpc::ServerWriteReactor<v1::SubscribeResponse>*
SubscriptionHub::NewSubscription(const v1::SubscribeRequest& req,
                                 const std::string& partner_id,
                                 absl::Time wait_deadline) {
  auto* r = new Reactor(this, req, partner_id, wait_deadline);
  bool refuse = false;
  {
    absl::MutexLock lock(&mu_);
    refuse = stopping_ || live_count_ >= subscribers_max_;
    if (!refuse) ++live_count_;
  }
  if (refuse) {
    // Never registered: finish directly; OnDone's post is then ignored by
    // the stopped hub or deletes it below.
    r->finished_ = true;
    r->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                           "too many subscriptions or server stopping"));
    return r;
  }
  Post(r, kStep);
  return r;
}

void SubscriptionHub::Run() {
  for (;;) {
    Work w{nullptr, kCommit};
    bool end_all = false;
    {
      absl::MutexLock lock(&mu_);
      bool late = false;
      while (!stopping_ && work_.empty() && !late) {
        late = cv_.WaitWithDeadline(&mu_, next_deadline_);
      }
      if (stopping_ && !ending_) {
        ending_ = true;
        end_all = true;
      } else if (!stopping_ && work_.empty()) {
        w.kind = kDeadline;
      } else {
        if (work_.empty()) {
          if (live_.empty()) return;
          while (work_.empty()) cv_.Wait(&mu_);
        }
        w = work_.front();
        work_.pop_front();
      }
    }
    if (end_all) {
      // End every live stream outside the lock (Finish may run reactions
      // that post here); their kDone posts still arrive.
      for (Reactor* r : live_) {
        if (!r->finished_) {
          r->finished_ = true;
          r->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                 "server shutting down"));
        }
      }
      continue;
    }
    Handle(w);
  }
}

void SubscriptionHub::Handle(const Work& w) {
  Reactor* r = w.reactor;
  switch (w.kind) {
    case kCommit:
      for (Reactor* live : live_) {
        if (!live->writing_ && !live->finished_) Step(live);
      }
      return;
    case kStep:
      live_.insert(r);
      Step(r);
      return;
    case kDeadline:
      EndLateOnes();
      return;
    case kWriteDone:
      r->writing_ = false;
      Step(r);
      return;
    case kWriteFailed:
    case kCancel:
      r->writing_ = false;
      if (!r->finished_) {
        r->finished_ = true;
        r->Finish(grpc::Status::CANCELLED);
      }
      return;
    case kDone: {
      const bool was_live = live_.erase(r) > 0;
      if (waiting_.erase(r) > 0) SetNextDeadline();
      delete r;
      absl::MutexLock lock(&mu_);
      if (was_live) {
        PL_CHECK(live_count_ > 0) << "a live subscription ended uncounted";
        --live_count_;
      }
      return;
    }
  }
}

void SubscriptionHub::Step(Reactor* r) {
  if (r->writing_ || r->finished_ || ending_) return;
  if (r->min_position_ > 0) {
    if (r->min_position_ > ledger_->head_position()) return Wait(r);
    r->min_position_ = 0;
    if (waiting_.erase(r) > 0) SetNextDeadline();
  }
  if (r->buffer_.empty()) Fill(r);
  if (r->finished_ || r->buffer_.empty()) return;  // wait for a commit
  r->current_ = std::move(r->buffer_.front());
  r->buffer_.pop_front();
  r->writing_ = true;
  r->StartWrite(&r->current_);
}

void SubscriptionHub::Wait(Reactor* r) {
  if (absl::Now() >= r->wait_deadline_) return EndLate(r);
  if (waiting_.insert(r).second) SetNextDeadline();
}

void SubscriptionHub::EndLate(Reactor* r) {
  if (waiting_.erase(r) > 0) SetNextDeadline();
  r->finished_ = true;
  r->Finish(ToGrpc(
      MinPositionNotReached(r->min_position_, ledger_->head_position())));
}

void SubscriptionHub::EndLateOnes() {
  const absl::Time now = absl::Now();
  std::vector<Reactor*> late;
  for (Reactor* r : waiting_) {
    if (!r->finished_ && r->wait_deadline_ <= now) late.push_back(r);
  }
  for (Reactor* r : late) EndLate(r);
  SetNextDeadline();
}

void SubscriptionHub::SetNextDeadline() {
  absl::Time next = absl::InfiniteFuture();
  for (Reactor* r : waiting_) {
    if (!r->finished_) next = std::min(next, r->wait_deadline_);
  }
  absl::MutexLock lock(&mu_);
  next_deadline_ = next;
}

void SubscriptionHub::Fill(Reactor* r) {
  const uint64_t from = r->next_position_;
  // The previous page has been written: its memory is free again.
  r->reservation_.Reset();
  ReadAllOptions options;
  options.from_position = from;
  options.max_count = limits::kSubscriptionPageEvents;
  options.filter = &r->filter_;
  options.reservation = &r->reservation_;
  absl::StatusOr<LogPage> page = ledger_->ReadAll(options);
  if (!page.ok()) {
    r->finished_ = true;
    r->Finish(ToGrpc(page.status()));
    return;
  }
  size_t delivered = 0;
  for (const RecordedEvent& e : page->events) {
    if (r->scope_.has_value()) {
      absl::StatusOr<bool> involves = r->scope_->Involves(e.stream);
      if (!involves.ok()) {
        r->finished_ = true;
        r->Finish(ToGrpc(involves.status()));
        return;
      }
      if (!*involves) continue;
    }
    v1::SubscribeResponse msg;
    absl::Status s = ToWire(e, msg.mutable_event());
    if (s.ok() && r->scope_.has_value())
      s = r->scope_->Redact(msg.mutable_event());
    if (!s.ok()) {
      r->finished_ = true;
      r->Finish(ToGrpc(s));
      return;
    }
    r->buffer_.push_back(std::move(msg));
    ++delivered;
  }
  const uint64_t examined = page->next_position - from;
  r->next_position_ = page->next_position;
  if (!r->filter_.empty() || r->scope_.has_value()) {
    r->unmatched_since_checkpoint_ += examined - delivered;
    if (r->unmatched_since_checkpoint_ >= r->checkpoint_interval_) {
      r->unmatched_since_checkpoint_ = 0;
      v1::SubscribeResponse msg;
      msg.mutable_checkpoint()->set_position(page->next_position - 1);
      r->buffer_.push_back(std::move(msg));
    }
  }
  if (page->end_of_log && !r->caught_up_sent_) {
    r->caught_up_sent_ = true;
    v1::SubscribeResponse msg;
    msg.mutable_caught_up()->set_position(page->head_position);
    r->buffer_.push_back(std::move(msg));
  }
  // A sparse filter may examine a full scan window and match nothing: come
  // back after others had their turn instead of spinning here.
  if (r->buffer_.empty() && !page->end_of_log) Post(r, kWriteDone);
}

EventStoreService::EventStoreService(Ledger* ledger, const Authorizer* auth,
                                     Metrics* metrics,
                                     std::function<void()> on_unhealthy,
                                     size_t subscribers_max,
                                     size_t read_bytes_in_flight_max)
    : ledger_(ledger),
      auth_(auth),
      metrics_(metrics),
      on_unhealthy_(std::move(on_unhealthy)),
      read_budget_(read_bytes_in_flight_max),
      hub_(std::make_unique<SubscriptionHub>(ledger, subscribers_max,
                                             &read_budget_)) {}

EventStoreService::~EventStoreService() { hub_->Stop(); }

void EventStoreService::StopSubscriptions() { hub_->Stop(); }

size_t EventStoreService::subscribers() const { return hub_->live_count(); }

grpc::ServerUnaryReactor* EventStoreService::AppendEvents(
    grpc::CallbackServerContext* ctx, const v1::AppendEventsRequest* req,
    v1::AppendEventsResponse* resp) {
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<Access> access = auth_->Check(*ctx, Rpc::kAppendEvents);
  if (!access.ok()) return FinishNow(ctx, access.status());
  absl::StatusOr<AppendRequest> request = FromWire(*req);
  if (!request.ok()) return FinishNow(ctx, request.status());
  // The actor is the authenticated principal, never a request field.
  request->actor = access->actor;
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  ledger_->Append(std::move(*request), [this, ctx, reactor, resp,
                                        start](absl::StatusOr<AppendResult> r) {
    if (metrics_ != nullptr) {
      metrics_->ObserveAppendSeconds(
          std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                        start)
              .count());
    }
    if (r.ok()) {
      ToWire(*r, resp);
      reactor->Finish(grpc::Status::OK);
      return;
    }
    if (absl::optional<absl::Cord> rev =
            r.status().GetPayload(kCurrentRevisionPayload)) {
      ctx->AddTrailingMetadata(kCurrentRevisionTrailer, std::string(*rev));
    }
    if (absl::optional<absl::Cord> leader =
            r.status().GetPayload(kLeaderAddressPayload)) {
      ctx->AddTrailingMetadata(kLeaderTrailer, std::string(*leader));
    }
    if (r.status().code() == absl::StatusCode::kUnavailable &&
        !ledger_->healthy()) {
      on_unhealthy_();
    }
    reactor->Finish(ToGrpc(r.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* EventStoreService::ReadStream(
    grpc::CallbackServerContext* ctx, const v1::ReadStreamRequest* req,
    v1::ReadStreamResponse* resp) {
  absl::StatusOr<Access> access = auth_->Check(*ctx, Rpc::kReadStream);
  if (!access.ok()) return FinishNow(ctx, access.status());
  // The same names appends accept; anything else is INVALID_ARGUMENT
  // before it reaches storage or a message.
  if (absl::StatusOr<domain::StreamName> name =
          domain::ParseStreamName(req->stream());
      !name.ok()) {
    return FinishNow(ctx, name.status());
  }
  absl::StatusOr<Direction> direction = FromWire(req->direction());
  if (!direction.ok()) return FinishNow(ctx, direction.status());
  auto* reactor = new ReadReactor(ctx, &read_budget_);
  return reactor->RunAt(ledger_, req->min_position(), &reads_,
                        [this, ctx, req, resp, reactor,
                         access = std::move(*access), direction = *direction] {
                          return ReadStreamPage(*ctx, access, *req, direction,
                                                reactor->reservation(), resp);
                        });
}

absl::Status EventStoreService::ReadStreamPage(
    const grpc::CallbackServerContext& ctx, const Access& access,
    const v1::ReadStreamRequest& req, Direction direction,
    ReadReservation* reservation, v1::ReadStreamResponse* resp) {
  std::optional<PartnerScope> scope;
  if (access.partner_scoped) {
    scope.emplace(&ledger::StoreOf(*ledger_), access.principal.partner_id);
    ASSIGN_OR_RETURN(bool involves, scope->Involves(req.stream()));
    // Its own stream may not exist yet (NOT_FOUND below); any other stream
    // is refused whether or not it exists, so existence does not leak.
    if (!involves && req.stream() != "partner-" + scope->partner_id()) {
      return auth_->DenyScope(
          ctx, Rpc::kReadStream, access,
          "stream " + req.stream() + " does not involve the partner");
    }
  }
  ReadStreamOptions options;
  options.from_revision = req.from_revision();
  options.from_end = req.from_end();
  options.direction = direction;
  options.max_count = PageSize(req.max_count());
  options.reservation = reservation;
  ASSIGN_OR_RETURN(StreamPage page, ledger_->ReadStream(req.stream(), options));
  for (const RecordedEvent& e : page.events) {
    v1::Event* out = resp->add_events();
    RETURN_IF_ERROR(ToWire(e, out));
    if (scope.has_value()) RETURN_IF_ERROR(scope->Redact(out));
  }
  resp->set_next_revision(page.next_revision);
  resp->set_end_of_stream(page.end_of_stream);
  resp->set_last_revision(page.last_revision);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* EventStoreService::ReadAll(
    grpc::CallbackServerContext* ctx, const v1::ReadAllRequest* req,
    v1::ReadAllResponse* resp) {
  absl::StatusOr<Access> access = auth_->Check(*ctx, Rpc::kReadAll);
  if (!access.ok()) return FinishNow(ctx, access.status());
  absl::StatusOr<Direction> direction = FromWire(req->direction());
  if (!direction.ok()) return FinishNow(ctx, direction.status());
  auto* reactor = new ReadReactor(ctx, &read_budget_);
  return reactor->RunAt(ledger_, req->min_position(), &reads_,
                        [this, req, resp, reactor, access = std::move(*access),
                         direction = *direction] {
                          return ReadAllPage(access, *req, direction,
                                             reactor->reservation(), resp);
                        });
}

absl::Status EventStoreService::ReadAllPage(const Access& access,
                                            const v1::ReadAllRequest& req,
                                            Direction direction,
                                            ReadReservation* reservation,
                                            v1::ReadAllResponse* resp) {
  const EventFilter filter = FromWire(req.filter());
  ReadAllOptions options;
  options.from_position = req.from_position();
  options.direction = direction;
  options.max_count = PageSize(req.max_count());
  options.filter = &filter;
  options.reservation = reservation;
  ASSIGN_OR_RETURN(LogPage page, ledger_->ReadAll(options));
  std::optional<PartnerScope> scope;
  if (access.partner_scoped) {
    scope.emplace(&ledger::StoreOf(*ledger_), access.principal.partner_id);
  }
  for (const RecordedEvent& e : page.events) {
    // A partner's page leaves out what does not involve it; next_position
    // still moves past everything examined, like any filtered page.
    if (scope.has_value()) {
      ASSIGN_OR_RETURN(bool involves, scope->Involves(e.stream));
      if (!involves) continue;
    }
    v1::Event* out = resp->add_events();
    RETURN_IF_ERROR(ToWire(e, out));
    if (scope.has_value()) RETURN_IF_ERROR(scope->Redact(out));
  }
  resp->set_next_position(page.next_position);
  resp->set_end_of_log(page.end_of_log);
  resp->set_head_position(page.head_position);
  return absl::OkStatus();
}

namespace {

// A Subscribe refused before it started.
class RefusedSubscription final
    : public grpc::ServerWriteReactor<v1::SubscribeResponse> {
 public:
  explicit RefusedSubscription(const absl::Status& s) { Finish(ToGrpc(s)); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<v1::SubscribeResponse>* EventStoreService::Subscribe(
    grpc::CallbackServerContext* ctx, const v1::SubscribeRequest* req) {
  absl::StatusOr<Access> access = auth_->Check(*ctx, Rpc::kSubscribe);
  if (!access.ok()) return new RefusedSubscription(access.status());
  if (absl::Status s = ValidateRequest(*req); !s.ok()) {
    return new RefusedSubscription(s);
  }
  return hub_->NewSubscription(
      *req, access->partner_scoped ? access->principal.partner_id : "",
      MinPositionDeadline(*ctx));
}

grpc::ServerUnaryReactor* EventStoreService::GetDigest(
    grpc::CallbackServerContext* ctx, const v1::GetDigestRequest* req,
    v1::GetDigestResponse* resp) {
  absl::StatusOr<Access> access = auth_->Check(*ctx, Rpc::kGetDigest);
  if (!access.ok()) return FinishNow(ctx, access.status());
  auto* reactor = new ReadReactor(ctx, &read_budget_);
  return reactor->Run(&reads_, [this, req, resp] {
    ASSIGN_OR_RETURN(ChainDigest d, ledger_->GetDigest(req->at_position()));
    resp->mutable_digest()->set_position(d.position);
    resp->mutable_digest()->set_hash(d.hash);
    resp->set_hash_hex(ToHex(d.hash));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* EventStoreService::VerifyChain(
    grpc::CallbackServerContext* ctx, const v1::VerifyChainRequest* req,
    v1::VerifyChainResponse* resp) {
  absl::StatusOr<Access> access = auth_->Check(*ctx, Rpc::kVerifyChain);
  if (!access.ok()) return FinishNow(ctx, access.status());
  std::optional<ChainDigest> expected;
  if (req->has_expected()) {
    if (req->expected().hash().size() != kSha256Bytes) {
      return FinishNow(
          ctx, absl::InvalidArgumentError("expected.hash: must be 32 bytes"));
    }
    expected = ChainDigest{req->expected().position(), req->expected().hash()};
  }
  auto* reactor = new ReadReactor(ctx, &read_budget_);
  return reactor->Run(
      &reads_, [this, req, resp, expected = std::move(expected)] {
        ASSIGN_OR_RETURN(VerifyResult v,
                         ledger_->VerifyChain(req->from_position(),
                                              req->to_position(), expected));
        resp->set_ok(v.ok);
        resp->set_verified_through(v.verified_through);
        resp->set_first_bad_position(v.first_bad_position);
        resp->set_message(v.message);
        resp->set_events_checked(v.events_checked);
        return absl::OkStatus();
      });
}

}  // namespace partnerledger::server

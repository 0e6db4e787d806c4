// An etcd v3 client over gRPC: the KV, Lease and Watch calls replication
// needs, against several endpoints (members of one etcd cluster).
//
// Every unary call has a deadline (EtcdClientOptions::call_timeout). A call
// that fails UNAVAILABLE on one endpoint (refused, the member lost its
// quorum or its leader, "no leader") or gets no answer within an attempt's
// deadline (attempt_timeout: the member hangs) is sent to the next endpoint
// while the call's deadline lasts; the endpoint that answered is tried first
// next time. So a write may reach etcd twice when an answer is lost: callers
// make their writes conditional (Txn with a compare) and recognise their own
// earlier write when the compare fails (the commit log does).
//
// Messages are etcd's own (etcdserverpb, mvccpb), compiled from the .proto
// files Debian's golang-etcd-server-dev installs.
//
// Thread safety: every method may be called from any thread.
#ifndef PARTNERLEDGER_REPLICATION_ETCD_CLIENT_H_
#define PARTNERLEDGER_REPLICATION_ETCD_CLIENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

namespace partnerledger::replication {

// TLS to etcd: the members' client URLs are https, and each member requires
// a client certificate (etcd's --client-cert-auth). PEM text, not paths.
struct EtcdTls {
  // The CA bundle that signed the members' server certificates; each
  // member's certificate must name the host as written in `endpoints`
  // (a DNS name or an IP subjectAltName).
  std::string ca_pem;
  // This client's certificate chain and its private key.
  std::string cert_pem;
  std::string key_pem;
};

// Reads and checks the three PEM files of EtcdTls: all three paths empty
// is no TLS (std::nullopt); otherwise all three are required. The
// certificates must parse and the key must be the certificate's.
// INVALID_ARGUMENT naming the flag (`--etcd_ca_file`, `--etcd_cert_file`,
// `--etcd_key_file`) otherwise.
absl::StatusOr<std::optional<EtcdTls>> LoadEtcdTls(const std::string& ca_file,
                                                   const std::string& cert_file,
                                                   const std::string& key_file);

struct EtcdClientOptions {
  // host:port of each member's client URL.
  std::vector<std::string> endpoints;
  // Set: TLS (grpc::SslCredentials) to every endpoint; unset: plaintext
  // HTTP/2. An empty cert_pem/key_pem connects without a client
  // certificate (members with --client-cert-auth refuse that).
  std::optional<EtcdTls> tls;
  // Deadline of each unary call, failover between endpoints included.
  absl::Duration call_timeout = absl::Seconds(2);
  // Deadline of one attempt on one endpoint (within call_timeout): a member
  // that hangs (its connection open, nothing answering) costs this much of
  // a call before the next endpoint is tried.
  absl::Duration attempt_timeout = absl::Seconds(1);
  // Largest request and response (the etcd members' --max-request-bytes
  // must be at least limits::kEtcdRequestBytesMax).
  int message_bytes_max = 0;  // 0: limits::kEtcdRequestBytesMax + overhead
};

// The key just past every key that starts with `prefix` (etcd's range_end
// for a prefix).
std::string PrefixEnd(std::string_view prefix);

// A stream of watch events from one endpoint. Next blocks; Cancel (from
// any thread) makes a blocked Next return CANCELLED.
class EtcdWatch {
 public:
  virtual ~EtcdWatch() = default;
  // The next response carrying events (or a progress notification).
  // OUT_OF_RANGE naming the compacted revision when the start revision was
  // compacted away; UNAVAILABLE when the stream ends otherwise;
  // DEADLINE_EXCEEDED at the watch's deadline.
  virtual absl::StatusOr<etcdserverpb::WatchResponse> Next() = 0;
  virtual void Cancel() = 0;
};

class EtcdClient {
 public:
  // INVALID_ARGUMENT without endpoints. Connects lazily.
  static absl::StatusOr<std::unique_ptr<EtcdClient>> Create(
      EtcdClientOptions options);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  absl::StatusOr<etcdserverpb::RangeResponse> Range(
      const etcdserverpb::RangeRequest& request);
  absl::StatusOr<etcdserverpb::PutResponse> Put(
      const etcdserverpb::PutRequest& request);
  absl::StatusOr<etcdserverpb::DeleteRangeResponse> DeleteRange(
      const etcdserverpb::DeleteRangeRequest& request);
  absl::StatusOr<etcdserverpb::TxnResponse> Txn(
      const etcdserverpb::TxnRequest& request);
  // Compacts the key-value history up to `revision` (physical: waits until
  // the members have removed it). An already compacted revision is OK.
  absl::Status Compact(int64_t revision);

  // A lease of `ttl_seconds`; returns its id (etcd may grant another TTL:
  // *granted_ttl_seconds, if non-null).
  absl::StatusOr<int64_t> LeaseGrant(int64_t ttl_seconds,
                                     int64_t* granted_ttl_seconds = nullptr);
  // Renews the lease once; returns its remaining TTL in seconds. NOT_FOUND
  // when the lease has expired or was revoked.
  absl::StatusOr<int64_t> LeaseKeepAliveOnce(int64_t lease_id);
  // Revokes the lease (its keys are deleted). An unknown lease is OK.
  absl::Status LeaseRevoke(int64_t lease_id);

  // Watches [key, range_end) from `start_revision` (0: from now) on one
  // endpoint; the stream ends at `deadline` (absl::InfiniteFuture(): never).
  // Returns once etcd confirmed the watch.
  absl::StatusOr<std::unique_ptr<EtcdWatch>> Watch(const std::string& key,
                                                   const std::string& range_end,
                                                   int64_t start_revision,
                                                   absl::Time deadline);

  // The round-trip time of the last successful unary call.
  absl::Duration last_round_trip() const;
  const EtcdClientOptions& options() const { return options_; }

 private:
  struct Endpoint;
  explicit EtcdClient(EtcdClientOptions options);

  // Runs `call(endpoint, context)` against the endpoints, starting with the
  // one that answered last, until one answers with anything but
  // UNAVAILABLE or the deadline passes.
  template <typename Call>
  absl::Status WithFailover(const char* what, Call call);

  const EtcdClientOptions options_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  mutable absl::Mutex mu_;
  size_t preferred_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration last_round_trip_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
};

}  // namespace partnerledger::replication

#endif  // PARTNERLEDGER_REPLICATION_ETCD_CLIENT_H_

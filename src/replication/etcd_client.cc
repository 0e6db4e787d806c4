#include "replication/etcd_client.h"

#include <grpcpp/grpcpp.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "partnerledger/limits.h"
#include "util/status_macros.h"

namespace partnerledger::replication {
namespace {

absl::Status FromGrpc(const grpc::Status& s, const std::string& endpoint,
                      const char* what) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(
      static_cast<absl::StatusCode>(s.error_code()),
      absl::StrCat("etcd ", what, " at ", endpoint, ": ", s.error_message()));
}

class GrpcWatch final : public EtcdWatch {
 public:
  GrpcWatch(std::unique_ptr<grpc::ClientContext> context,
            std::unique_ptr<grpc::ClientReaderWriter<
                etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>>
                stream,
            std::string endpoint)
      : context_(std::move(context)),
        stream_(std::move(stream)),
        endpoint_(std::move(endpoint)) {}

  ~GrpcWatch() override {
    if (!finished_) {
      context_->TryCancel();
      grpc::Status ignored = stream_->Finish();
    }
  }

  absl::StatusOr<etcdserverpb::WatchResponse> Next() override {
    etcdserverpb::WatchResponse response;
    if (!stream_->Read(&response)) {
      grpc::Status s = stream_->Finish();
      finished_ = true;
      if (s.ok()) {
        return absl::UnavailableError(
            absl::StrCat("etcd watch at ", endpoint_, ": stream ended"));
      }
      return FromGrpc(s, endpoint_, "watch");
    }
    if (response.canceled()) {
      if (response.compact_revision() > 0) {
        return absl::OutOfRangeError(
            absl::StrCat("etcd watch at ", endpoint_, ": revisions up to ",
                         response.compact_revision(), " are compacted"));
      }
      return absl::UnavailableError(
          absl::StrCat("etcd watch at ", endpoint_,
                       " cancelled: ", response.cancel_reason()));
    }
    return response;
  }

  void Cancel() override { context_->TryCancel(); }

 private:
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest,
                                           etcdserverpb::WatchResponse>>
      stream_;
  const std::string endpoint_;
  bool finished_ = false;
};

// The whole file at `path`, which must hold PEM text.
absl::StatusOr<std::string> ReadPemFile(const std::string& path,
                                        const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": cannot read ", path));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": cannot read ", path));
  }
  if (ss.str().find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": ", path, " is not PEM"));
  }
  return ss.str();
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using UniqueBio = std::unique_ptr<BIO, BioFree>;
using UniqueX509 = std::unique_ptr<X509, X509Free>;
using UniquePkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

UniqueBio MemBio(const std::string& pem) {
  return UniqueBio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The first certificate in `pem`, or null.
UniqueX509 FirstCertificate(const std::string& pem) {
  UniqueBio bio = MemBio(pem);
  if (bio == nullptr) return nullptr;
  return UniqueX509(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

}  // namespace

absl::StatusOr<std::optional<EtcdTls>> LoadEtcdTls(
    const std::string& ca_file, const std::string& cert_file,
    const std::string& key_file) {
  if (ca_file.empty() && cert_file.empty() && key_file.empty()) {
    return std::nullopt;
  }
  // All three or none: etcd holds the commit log of record, so a member
  // that accepts clients without a certificate would let anyone who reaches
  // it write the ledger's log; only mutual TLS is offered.
  const struct {
    const std::string& path;
    const char* flag;
  } files[] = {{ca_file, "--etcd_ca_file"},
               {cert_file, "--etcd_cert_file"},
               {key_file, "--etcd_key_file"}};
  for (const auto& f : files) {
    if (f.path.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          f.flag,
          ": required with the other TLS files to etcd (--etcd_ca_file, "
          "--etcd_cert_file and --etcd_key_file: all three or none)"));
    }
  }
  EtcdTls tls;
  ASSIGN_OR_RETURN(tls.ca_pem, ReadPemFile(ca_file, "--etcd_ca_file"));
  ASSIGN_OR_RETURN(tls.cert_pem, ReadPemFile(cert_file, "--etcd_cert_file"));
  ASSIGN_OR_RETURN(tls.key_pem, ReadPemFile(key_file, "--etcd_key_file"));

  if (FirstCertificate(tls.ca_pem) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--etcd_ca_file: ", ca_file, " holds no PEM certificate"));
  }
  UniqueX509 client_cert = FirstCertificate(tls.cert_pem);
  if (client_cert == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--etcd_cert_file: ", cert_file, " holds no PEM certificate"));
  }
  UniqueBio key_bio = MemBio(tls.key_pem);
  UniquePkey pkey(
      key_bio == nullptr
          ? nullptr
          : PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--etcd_key_file: ", key_file,
                     " holds no unencrypted PEM private key"));
  }
  if (X509_check_private_key(client_cert.get(), pkey.get()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--etcd_key_file: ", key_file, " is not the key of ",
                     cert_file, " (--etcd_cert_file)"));
  }
  return tls;
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  // Every byte 0xff (or empty): etcd's "\0" means every key from `prefix`.
  return std::string(1, '\0');
}

struct EtcdClient::Endpoint {
  std::string address;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch;
};

absl::StatusOr<std::unique_ptr<EtcdClient>> EtcdClient::Create(
    EtcdClientOptions options) {
  if (options.endpoints.empty()) {
    return absl::InvalidArgumentError("etcd endpoints: none given");
  }
  for (const std::string& e : options.endpoints) {
    if (e.empty() || e.find(':') == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("etcd endpoints: '", e, "' is not host:port"));
    }
  }
  if (options.call_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("etcd call_timeout: must be positive");
  }
  return std::unique_ptr<EtcdClient>(new EtcdClient(std::move(options)));
}

EtcdClient::EtcdClient(EtcdClientOptions options)
    : options_(std::move(options)) {
  int bytes_max = options_.message_bytes_max > 0
                      ? options_.message_bytes_max
                      : static_cast<int>(limits::kEtcdRequestBytesMax +
                                         limits::kEtcdRequestOverheadBytes);
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options_.tls.has_value()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options_.tls->ca_pem;
    ssl.pem_cert_chain = options_.tls->cert_pem;
    ssl.pem_private_key = options_.tls->key_pem;
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  for (const std::string& address : options_.endpoints) {
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(bytes_max);
    args.SetMaxReceiveMessageSize(bytes_max);
    // No keepalive pings: etcd refuses pings more often than every 5 s
    // (--grpc-keepalive-min-time) by closing the connection; a member that
    // stopped answering is noticed at each call's deadline, and watches
    // are opened with one.
    // Reconnect quickly once a member is back: without these a channel
    // whose first connection was refused (a member starting, restarting)
    // waits for gRPC's re-resolution throttle (30 s) before it tries again.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS, 200);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    auto e = std::make_unique<Endpoint>();
    e->address = address;
    e->channel = grpc::CreateCustomChannel(address, credentials, args);
    e->kv = etcdserverpb::KV::NewStub(e->channel);
    e->lease = etcdserverpb::Lease::NewStub(e->channel);
    e->watch = etcdserverpb::Watch::NewStub(e->channel);
    endpoints_.push_back(std::move(e));
  }
}

EtcdClient::~EtcdClient() = default;

template <typename Call>
absl::Status EtcdClient::WithFailover(const char* what, Call call) {
  const absl::Time deadline = absl::Now() + options_.call_timeout;
  size_t first;
  {
    absl::MutexLock lock(&mu_);
    first = preferred_;
  }
  absl::Status last = absl::UnavailableError(
      absl::StrCat("etcd ", what, ": no endpoint answered"));
  std::vector<std::string> tried;
  // Endpoints in turn, starting with the preferred one, at most twice
  // around (a member may come back while we try the others).
  for (size_t i = 0; i < 2 * endpoints_.size(); ++i) {
    if (absl::Now() >= deadline) break;
    const size_t index = (first + i) % endpoints_.size();
    Endpoint& e = *endpoints_[index];
    grpc::ClientContext context;
    const absl::Time start = absl::Now();
    const absl::Time attempt_deadline =
        std::min(deadline, start + options_.attempt_timeout);
    context.set_deadline(absl::ToChronoTime(attempt_deadline));
    grpc::Status s = call(e, &context);
    if (s.ok()) {
      absl::MutexLock lock(&mu_);
      preferred_ = index;
      last_round_trip_ = absl::Now() - start;
      return absl::OkStatus();
    }
    last = FromGrpc(s, e.address, what);
    // No answer within the attempt's own deadline: the member may hang
    // (stopped, partitioned, a stalled disk); the next one may answer.
    const bool attempt_timed_out =
        s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
        attempt_deadline < deadline;
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE && !attempt_timed_out) {
      return last;
    }
    tried.push_back(e.address);
  }
  if (last.code() == absl::StatusCode::kUnavailable) return last;
  return absl::UnavailableError(
      absl::StrCat("etcd ", what, ": no endpoint answered in time (",
                   absl::FormatDuration(options_.call_timeout),
                   "); last error: ", last.message()));
}

absl::StatusOr<etcdserverpb::RangeResponse> EtcdClient::Range(
    const etcdserverpb::RangeRequest& request) {
  etcdserverpb::RangeResponse response;
  RETURN_IF_ERROR(
      WithFailover("Range", [&](Endpoint& e, grpc::ClientContext* context) {
        return e.kv->Range(context, request, &response);
      }));
  return response;
}

absl::StatusOr<etcdserverpb::PutResponse> EtcdClient::Put(
    const etcdserverpb::PutRequest& request) {
  etcdserverpb::PutResponse response;
  RETURN_IF_ERROR(
      WithFailover("Put", [&](Endpoint& e, grpc::ClientContext* context) {
        return e.kv->Put(context, request, &response);
      }));
  return response;
}

absl::StatusOr<etcdserverpb::DeleteRangeResponse> EtcdClient::DeleteRange(
    const etcdserverpb::DeleteRangeRequest& request) {
  etcdserverpb::DeleteRangeResponse response;
  RETURN_IF_ERROR(WithFailover(
      "DeleteRange", [&](Endpoint& e, grpc::ClientContext* context) {
        return e.kv->DeleteRange(context, request, &response);
      }));
  return response;
}

absl::StatusOr<etcdserverpb::TxnResponse> EtcdClient::Txn(
    const etcdserverpb::TxnRequest& request) {
  etcdserverpb::TxnResponse response;
  RETURN_IF_ERROR(
      WithFailover("Txn", [&](Endpoint& e, grpc::ClientContext* context) {
        return e.kv->Txn(context, request, &response);
      }));
  return response;
}

absl::Status EtcdClient::Compact(int64_t revision) {
  etcdserverpb::CompactionRequest request;
  request.set_revision(revision);
  request.set_physical(true);
  etcdserverpb::CompactionResponse response;
  absl::Status s =
      WithFailover("Compact", [&](Endpoint& e, grpc::ClientContext* context) {
        return e.kv->Compact(context, request, &response);
      });
  // "required revision has been compacted": already done by someone.
  if (s.code() == absl::StatusCode::kOutOfRange) return absl::OkStatus();
  return s;
}

absl::StatusOr<int64_t> EtcdClient::LeaseGrant(int64_t ttl_seconds,
                                               int64_t* granted_ttl_seconds) {
  if (ttl_seconds <= 0) {
    return absl::InvalidArgumentError("lease ttl_seconds: must be positive");
  }
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(ttl_seconds);
  etcdserverpb::LeaseGrantResponse response;
  RETURN_IF_ERROR(WithFailover(
      "LeaseGrant", [&](Endpoint& e, grpc::ClientContext* context) {
        return e.lease->LeaseGrant(context, request, &response);
      }));
  if (!response.error().empty()) {
    return absl::UnavailableError(
        absl::StrCat("etcd LeaseGrant: ", response.error()));
  }
  if (granted_ttl_seconds != nullptr) *granted_ttl_seconds = response.ttl();
  return response.id();
}

absl::StatusOr<int64_t> EtcdClient::LeaseKeepAliveOnce(int64_t lease_id) {
  etcdserverpb::LeaseKeepAliveResponse response;
  RETURN_IF_ERROR(WithFailover(
      "LeaseKeepAlive", [&](Endpoint& e, grpc::ClientContext* context) {
        auto stream = e.lease->LeaseKeepAlive(context);
        etcdserverpb::LeaseKeepAliveRequest request;
        request.set_id(lease_id);
        if (!stream->Write(request) || !stream->WritesDone() ||
            !stream->Read(&response)) {
          grpc::Status finished = stream->Finish();
          if (finished.ok()) {
            return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                "keepalive stream ended without an answer");
          }
          return finished;
        }
        return stream->Finish();
      }));
  if (response.ttl() <= 0) {
    return absl::NotFoundError(
        absl::StrCat("etcd lease ", lease_id, " has expired or was revoked"));
  }
  return response.ttl();
}

absl::Status EtcdClient::LeaseRevoke(int64_t lease_id) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(lease_id);
  etcdserverpb::LeaseRevokeResponse response;
  absl::Status s = WithFailover(
      "LeaseRevoke", [&](Endpoint& e, grpc::ClientContext* context) {
        return e.lease->LeaseRevoke(context, request, &response);
      });
  if (s.code() == absl::StatusCode::kNotFound) return absl::OkStatus();
  return s;
}

absl::StatusOr<std::unique_ptr<EtcdWatch>> EtcdClient::Watch(
    const std::string& key, const std::string& range_end,
    int64_t start_revision, absl::Time deadline) {
  size_t first;
  {
    absl::MutexLock lock(&mu_);
    first = preferred_;
  }
  const absl::Time create_deadline =
      std::min(deadline, absl::Now() + options_.call_timeout);
  absl::Status last = absl::UnavailableError("etcd Watch: no endpoint");
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    if (absl::Now() >= create_deadline) break;
    Endpoint& e = *endpoints_[(first + i) % endpoints_.size()];
    auto context = std::make_unique<grpc::ClientContext>();
    if (deadline != absl::InfiniteFuture()) {
      context->set_deadline(absl::ToChronoTime(deadline));
    }
    // etcd refuses watches while its member has no leader only if asked
    // to: a watch on a member cut off from the quorum would otherwise wait
    // silently.
    context->AddMetadata("hasleader", "true");
    auto stream = e.watch->Watch(context.get());
    etcdserverpb::WatchRequest request;
    etcdserverpb::WatchCreateRequest* create = request.mutable_create_request();
    create->set_key(key);
    create->set_range_end(range_end);
    create->set_start_revision(start_revision);
    create->set_progress_notify(true);
    etcdserverpb::WatchResponse created;
    if (!stream->Write(request) || !stream->Read(&created)) {
      context->TryCancel();
      grpc::Status s = stream->Finish();
      last = s.ok() ? absl::UnavailableError(absl::StrCat(
                          "etcd Watch at ", e.address, ": stream ended"))
                    : FromGrpc(s, e.address, "Watch");
      if (last.code() == absl::StatusCode::kUnavailable) continue;
      return last;
    }
    auto watch = std::make_unique<GrpcWatch>(std::move(context),
                                             std::move(stream), e.address);
    if (created.canceled()) {
      if (created.compact_revision() > 0) {
        return absl::OutOfRangeError(
            absl::StrCat("etcd Watch at ", e.address, ": revisions up to ",
                         created.compact_revision(), " are compacted"));
      }
      return absl::UnavailableError(absl::StrCat(
          "etcd Watch at ", e.address, " refused: ", created.cancel_reason()));
    }
    if (!created.created()) {
      return absl::InternalError(
          absl::StrCat("etcd Watch at ", e.address,
                       ": first response does not confirm the watch"));
    }
    return std::unique_ptr<EtcdWatch>(std::move(watch));
  }
  return last;
}

absl::Duration EtcdClient::last_round_trip() const {
  absl::MutexLock lock(&mu_);
  return last_round_trip_;
}

}  // namespace partnerledger::replication

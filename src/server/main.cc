// ledgerd: the partnerledger server. With no flags it keeps its data under
// ./var/data and listens on 127.0.0.1:50051, every caller being the local
// principal with every role. Logs are JSON lines on stderr (server/log.h).
//
// Offline restore: ledgerd --restore_backup=BACKUP_DIR --data_dir=EMPTY_DIR
// restores a backup, verifies it and exits (0: restored and verified).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "partnerledger/limits.h"
#include "replication/etcd_client.h"
#include "replication/etcd_commit_log.h"
#include "replication/node.h"
#include "rocksdb/env.h"
#include "server/log.h"
#include "server/server.h"
#include "store/backup.h"
#include "store/power_loss_fs.h"
#include "util/sha256.h"
#include "util/version.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "host:port to serve gRPC on; port 0 picks a free one. Beyond "
          "loopback only with --auth_config and --tls_cert/--tls_key, or "
          "--allow_insecure_remote");
ABSL_FLAG(std::string, data_dir, "./var/data", "RocksDB data directory");
ABSL_FLAG(std::string, port_file, "",
          "if set, the bound port is written here once serving");
ABSL_FLAG(bool, allow_insecure_remote, false,
          "allow a non-loopback listen address without authentication and "
          "TLS");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain of the server (enables TLS)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle: require and verify client certificates (mTLS)");
ABSL_FLAG(std::string, auth_config, "",
          "principals and roles: lines 'token <sha256-hex> <principal> "
          "<roles>' / 'cert <CN-or-SAN> <principal> <roles>', roles "
          "writer,finance,auditor,admin,partner:<id> (see src/server/auth.h)."
          " Empty: every caller is 'local' with every role");
ABSL_FLAG(uint64_t, writer_queue_max, partnerledger::limits::kWriterQueueMax,
          "appends waiting for the writer; beyond it RESOURCE_EXHAUSTED");
ABSL_FLAG(int, max_concurrent_streams,
          partnerledger::server::kMaxConcurrentStreamsDefault,
          "concurrent RPCs (HTTP/2 streams) per client connection");
ABSL_FLAG(int, grpc_threads_max, 0,
          "threads gRPC may use for the server (0: gRPC's default)");
ABSL_FLAG(uint64_t, grpc_memory_bytes_max, 0,
          "memory gRPC may use for buffers (0: unbounded)");
ABSL_FLAG(uint64_t, subscribers_max, partnerledger::limits::kSubscribersMax,
          "live Subscribe streams; beyond it RESOURCE_EXHAUSTED");
ABSL_FLAG(std::string, metrics_listen, "",
          "host:port of the HTTP admin port (/metrics, /healthz), e.g. "
          "127.0.0.1:9464; empty: off");
ABSL_FLAG(std::string, http_listen, "",
          "host:port of the HTTP/JSON API and web console (empty: off); "
          "same loopback and TLS rules as --listen");
ABSL_FLAG(int, shutdown_grace_ms,
          partnerledger::server::kShutdownGraceMsDefault,
          "on SIGTERM/SIGINT: how long calls in flight may finish before "
          "they are cancelled");
ABSL_FLAG(std::string, backup_root, "./var/backups",
          "AdminService.CreateBackup writes under this directory (a request "
          "names a subdirectory); empty: backups over the API are off");
ABSL_FLAG(std::string, restore_backup, "",
          "OFFLINE: restore the backup directory given here into --data_dir "
          "(which must be missing or empty), verify it, and exit");
ABSL_FLAG(uint32_t, backup_id, 0,
          "with --restore_backup: the backup to restore (0: the latest)");
ABSL_FLAG(uint64_t, scrub_bytes_per_s, 8 << 20,
          "background scrub: read rate (bytes/s) at which every SST file's "
          "block checksums are re-read; corruption found turns health "
          "NOT_SERVING. 0: off");
ABSL_FLAG(int64_t, scrub_interval_s,
          partnerledger::server::kScrubIntervalSDefault,
          "background scrub: pause (seconds) between the end of one pass "
          "and the start of the next; the first pass starts at startup");
ABSL_FLAG(std::string, signing_key, "",
          "file with the Ed25519 key that signs checkpoints (C2SP note key "
          "form, written by `ledgerctl keygen`; its name is the origin); "
          "empty: checkpoints are served unsigned");
ABSL_FLAG(bool, bench_no_merkle_tree, false,
          "BENCHMARKING ONLY: do not maintain the Merkle tree (to measure its "
          "cost); proofs are refused; the next start without it completes "
          "the tree from the log");
ABSL_FLAG(bool, unsafe_no_sync, false,
          "TESTING ONLY: acknowledge appends without fsync (breaks the "
          "durability contract; the power-loss test's negative control)");
ABSL_FLAG(std::string, replication, "",
          "empty: a single node (the default). 'etcd': the commit log of "
          "record is in etcd (--etcd_endpoints); this node follows, and "
          "leads when elected (README \"Replication\")");
ABSL_FLAG(std::string, etcd_endpoints, "",
          "with --replication=etcd: host:port of each etcd member, "
          "comma-separated");
ABSL_FLAG(std::string, node_name, "",
          "with --replication=etcd: this node's name, unique in the cluster");
ABSL_FLAG(std::string, advertise, "",
          "with --replication=etcd: host:port clients reach this node at "
          "(sent to clients as the leader's address); empty: --listen with "
          "the bound port");
ABSL_FLAG(std::string, etcd_prefix, "/partnerledger/default",
          "with --replication=etcd: the etcd key prefix of this ledger's "
          "log, election and nodes");
ABSL_FLAG(int64_t, etcd_lease_ttl_s, 5,
          "with --replication=etcd: the leader's lease; a leader that stops "
          "renewing it loses leadership after this many seconds");
ABSL_FLAG(std::string, etcd_ca_file, "",
          "with --replication=etcd: PEM CA bundle that signed the etcd "
          "members' server certificates; with --etcd_cert_file and "
          "--etcd_key_file (all three or none) the client URLs are https "
          "and this node presents a client certificate (etcd's "
          "--client-cert-auth). Empty: plaintext to etcd");
ABSL_FLAG(std::string, etcd_cert_file, "",
          "with --replication=etcd: PEM client certificate (chain) this "
          "node presents to etcd; see --etcd_ca_file");
ABSL_FLAG(std::string, etcd_key_file, "",
          "with --replication=etcd: PEM private key of --etcd_cert_file");
ABSL_FLAG(uint64_t, etcd_retain_positions,
          partnerledger::limits::kEtcdRetainPositionsDefault,
          "with --replication=etcd: the leader's retention keeps at least this "
          "many positions behind the head in etcd, so a node restarting "
          "within them catches up without a restore");
ABSL_FLAG(int64_t, etcd_retention_interval_ms,
          partnerledger::limits::kEtcdRetentionIntervalMsDefault,
          "with --replication=etcd: how often the leader deletes the log "
          "groups every live node applied and compacts etcd; 0: never");
ABSL_FLAG(std::string, power_loss_journal, "",
          "TESTING ONLY: journal each file's fsynced length here so a crash "
          "test can simulate power loss");

namespace {

using partnerledger::server::Log;
using partnerledger::server::LogLevel;

// --restore_backup: restore, verify, report, exit. 0 restored and verified;
// 1 otherwise (the log line says why).
int Restore() {
  const std::string backup_dir = absl::GetFlag(FLAGS_restore_backup);
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  absl::StatusOr<partnerledger::store::BackupCheck> r =
      partnerledger::store::RestoreBackup(
          backup_dir, absl::GetFlag(FLAGS_backup_id), data_dir);
  if (!r.ok()) {
    Log(LogLevel::kError, "restore failed",
        {{"backup_dir", backup_dir},
         {"data_dir", data_dir},
         {"code", std::string(absl::StatusCodeToString(r.status().code()))},
         {"error", std::string(r.status().message())}});
    return 1;
  }
  Log(LogLevel::kInfo, "restored and verified",
      {{"backup_dir", backup_dir},
       {"data_dir", data_dir},
       {"backup_id", r->info.backup_id},
       {"position", r->info.position},
       {"hash", partnerledger::ToHex(r->info.hash)},
       {"events_checked", r->chain.events_checked}});
  return 0;
}

// --replication=etcd: the etcd client, the commit log the ledger writes
// each group to, and (once the server runs) the node that elects and
// follows. Destroyed after the server.
struct Replication {
  std::unique_ptr<partnerledger::replication::EtcdClient> client;
  std::unique_ptr<partnerledger::replication::EtcdCommitLog> commit_log;
  std::unique_ptr<partnerledger::replication::ReplicationNode> node;
  // `node` once started, for the metrics port's threads.
  std::atomic<partnerledger::replication::ReplicationNode*> live_node{nullptr};
  partnerledger::replication::LogKeys keys{""};
  // Set (before SIGTERM to this process) when the running node can no
  // longer follow the log of record: ledgerd stops serving and exits 1.
  std::atomic<bool> refused{false};
};

// The replication gauges appended to /metrics.
std::string ReplicationMetrics(const Replication& r) {
  const partnerledger::replication::ReplicationNode* node = r.live_node.load();
  if (node == nullptr) return "";
  const partnerledger::replication::NodeStatus s = node->status();
  const uint64_t lag = s.log_head_position > s.applied_position
                           ? s.log_head_position - s.applied_position
                           : 0;
  std::string out;
  auto gauge = [&out](const char* name, const char* help, auto value) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name,
                    " gauge\n", name, " ", value, "\n");
  };
  gauge("partnerledger_replication_leader",
        "1 while this node leads (decides appends), else 0.", s.leader ? 1 : 0);
  gauge("partnerledger_replication_applied_position",
        "The last log position applied to this node's store.",
        s.applied_position);
  gauge("partnerledger_replication_log_head_position",
        "The etcd commit log's head as this node last read it.",
        s.log_head_position);
  gauge("partnerledger_replication_lag_positions",
        "Positions in the etcd log not yet applied here.", lag);
  gauge("partnerledger_replication_etcd_round_trip_seconds",
        "Round trip of the last successful etcd call.",
        absl::ToDoubleSeconds(s.etcd_round_trip));
  gauge("partnerledger_replication_terms_led",
        "Times this process became the leader.", s.terms_led);
  gauge("partnerledger_replication_log_first_position",
        "The first position etcd's log still holds, as of this node's last "
        "retention pass while leading (0: none); older positions need a "
        "backup.",
        s.log_first_position);
  gauge("partnerledger_replication_error",
        "1 while the replication loop's last step failed.",
        s.error.empty() ? 0 : 1);
  return out;
}

absl::StatusOr<std::unique_ptr<Replication>> OpenReplication(
    const std::string& kind) {
  using partnerledger::replication::EtcdClient;
  using partnerledger::replication::EtcdClientOptions;
  using partnerledger::replication::EtcdCommitLog;
  using partnerledger::replication::LogKeys;
  if (kind != "etcd") {
    return absl::InvalidArgumentError("--replication: '" + kind +
                                      "' is not one of: etcd");
  }
  if (absl::GetFlag(FLAGS_node_name).empty()) {
    return absl::InvalidArgumentError(
        "--node_name: required with --replication=etcd");
  }
  const std::string prefix = absl::GetFlag(FLAGS_etcd_prefix);
  if (prefix.empty() || prefix[0] != '/' || prefix.back() == '/') {
    return absl::InvalidArgumentError(
        "--etcd_prefix: must start with '/' and not end with one");
  }
  EtcdClientOptions options;
  options.endpoints = absl::StrSplit(absl::GetFlag(FLAGS_etcd_endpoints), ',',
                                     absl::SkipEmpty());
  if (options.endpoints.empty()) {
    return absl::InvalidArgumentError(
        "--etcd_endpoints: required with --replication=etcd");
  }
  absl::StatusOr<std::optional<partnerledger::replication::EtcdTls>> tls =
      partnerledger::replication::LoadEtcdTls(
          absl::GetFlag(FLAGS_etcd_ca_file),
          absl::GetFlag(FLAGS_etcd_cert_file),
          absl::GetFlag(FLAGS_etcd_key_file));
  if (!tls.ok()) return tls.status();
  options.tls = std::move(*tls);
  absl::StatusOr<std::unique_ptr<EtcdClient>> client =
      EtcdClient::Create(options);
  if (!client.ok()) return client.status();
  auto r = std::make_unique<Replication>();
  r->client = std::move(*client);
  r->keys = LogKeys(prefix);
  // The advertise address is known once the server is bound; the commit
  // log records it in the head only for diagnostics.
  r->commit_log = std::make_unique<EtcdCommitLog>(
      r->client.get(), r->keys, absl::GetFlag(FLAGS_node_name));
  return r;
}

absl::Status StartReplicationNode(Replication& r, partnerledger::Ledger& ledger,
                                  const std::string& advertise) {
  partnerledger::replication::NodeOptions options;
  options.node_name = absl::GetFlag(FLAGS_node_name);
  options.advertise = advertise;
  options.lease_ttl_seconds = absl::GetFlag(FLAGS_etcd_lease_ttl_s);
  options.retain_positions = absl::GetFlag(FLAGS_etcd_retain_positions);
  // A node that is behind a deleted group, or whose log forked from etcd's,
  // must not answer reads: main's sigwait takes the SIGTERM and exits 1.
  options.on_refused = [&r](const absl::Status&) {
    r.refused.store(true);
    kill(getpid(), SIGTERM);
  };
  const int64_t retention_ms = absl::GetFlag(FLAGS_etcd_retention_interval_ms);
  options.retention_interval = retention_ms > 0
                                   ? absl::Milliseconds(retention_ms)
                                   : absl::InfiniteDuration();
  absl::StatusOr<std::unique_ptr<partnerledger::replication::ReplicationNode>>
      node = partnerledger::replication::ReplicationNode::Start(
          r.client.get(), r.commit_log.get(), &ledger, r.keys, options);
  if (!node.ok()) return node.status();
  r.node = std::move(*node);
  r.live_node.store(r.node.get());
  Log(LogLevel::kInfo, "replication: following",
      {{"node", options.node_name},
       {"advertise", advertise},
       {"etcd_prefix", r.keys.prefix},
       {"etcd_tls", r.client->options().tls.has_value()},
       {"applied_position", ledger.head_position()}});
  return absl::OkStatus();
}

int Run() {
  using partnerledger::server::AuthConfig;
  using partnerledger::server::LedgerServer;
  using partnerledger::server::ServerOptions;

  // Block the signals in every thread; this one waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ServerOptions o;
  o.listen = absl::GetFlag(FLAGS_listen);
  o.allow_insecure_remote = absl::GetFlag(FLAGS_allow_insecure_remote);
  o.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  o.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  o.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  o.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  o.grpc_threads_max = absl::GetFlag(FLAGS_grpc_threads_max);
  o.grpc_memory_bytes_max = absl::GetFlag(FLAGS_grpc_memory_bytes_max);
  o.subscribers_max = absl::GetFlag(FLAGS_subscribers_max);
  o.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  o.http_listen = absl::GetFlag(FLAGS_http_listen);
  o.backup_root = absl::GetFlag(FLAGS_backup_root);
  o.scrub_bytes_per_s = absl::GetFlag(FLAGS_scrub_bytes_per_s);
  o.scrub_interval_s = absl::GetFlag(FLAGS_scrub_interval_s);
  o.signing_key_file = absl::GetFlag(FLAGS_signing_key);
  o.ledger.merkle_tree = !absl::GetFlag(FLAGS_bench_no_merkle_tree);
  o.ledger.data_dir = absl::GetFlag(FLAGS_data_dir);
  o.ledger.sync = !absl::GetFlag(FLAGS_unsafe_no_sync);
  o.ledger.writer_queue_max = absl::GetFlag(FLAGS_writer_queue_max);
  if (const std::string path = absl::GetFlag(FLAGS_auth_config);
      !path.empty()) {
    absl::StatusOr<AuthConfig> auth = AuthConfig::Load(path);
    if (!auth.ok()) {
      Log(LogLevel::kError, "startup failed",
          {{"error", std::string(auth.status().ToString())}});
      return 1;
    }
    o.auth = std::move(*auth);
  }

  std::unique_ptr<rocksdb::Env> env;
  if (const std::string journal = absl::GetFlag(FLAGS_power_loss_journal);
      !journal.empty()) {
    auto fs = partnerledger::store::NewPowerLossJournalFs(
        rocksdb::FileSystem::Default(), journal);
    if (fs == nullptr) {
      Log(LogLevel::kError, "startup failed",
          {{"error", "cannot open power-loss journal"}, {"path", journal}});
      return 1;
    }
    env = rocksdb::NewCompositeEnv(fs);
    o.ledger.env = env.get();
  }
  if (!o.ledger.sync) {
    Log(LogLevel::kWarn,
        "--unsafe_no_sync: acknowledged appends may be lost on power failure");
  }
  std::error_code ec;
  std::filesystem::create_directories(o.ledger.data_dir, ec);

  // Replication: the commit log must exist before the ledger opens (the
  // ledger then starts as a follower); the node starts once it serves.
  const std::string replication = absl::GetFlag(FLAGS_replication);
  std::unique_ptr<Replication> repl;
  if (!replication.empty()) {
    absl::StatusOr<std::unique_ptr<Replication>> r =
        OpenReplication(replication);
    if (!r.ok()) {
      Log(LogLevel::kError, "startup failed",
          {{"error", std::string(r.status().ToString())}});
      return 1;
    }
    repl = std::move(*r);
    o.ledger.commit_log = repl->commit_log.get();
    o.extra_metrics = [raw = repl.get()] { return ReplicationMetrics(*raw); };
  }

  absl::StatusOr<std::unique_ptr<LedgerServer>> server = LedgerServer::Start(o);
  if (!server.ok()) {
    Log(LogLevel::kError, "startup failed",
        {{"error", std::string(server.status().ToString())}});
    return 1;
  }
  if (repl != nullptr) {
    std::string advertise = absl::GetFlag(FLAGS_advertise);
    if (advertise.empty()) {
      advertise = o.listen.substr(0, o.listen.rfind(':') + 1) +
                  std::to_string((*server)->port());
    }
    absl::Status s =
        StartReplicationNode(*repl, (*server)->ledger(), advertise);
    if (!s.ok()) {
      // E.g. etcd no longer holds a group this node needs: refuse to serve.
      Log(LogLevel::kError, "startup failed",
          {{"error", std::string(s.ToString())}});
      (*server)->Shutdown(0);
      return 1;
    }
  }
  if (o.allow_insecure_remote &&
      !partnerledger::server::IsLoopbackAddress(o.listen) &&
      !(o.auth.has_value() && !o.tls_cert_file.empty())) {
    Log(LogLevel::kWarn,
        "serving beyond loopback without authentication and TLS "
        "(--allow_insecure_remote)",
        {{"listen", o.listen}});
  }
  Log(LogLevel::kInfo, "serving",
      {{"listen", o.listen},
       {"port", (*server)->port()},
       {"metrics_port", (*server)->metrics_port()},
       {"http_port", (*server)->http_port()},
       {"data_dir", o.ledger.data_dir},
       {"head_position", (*server)->ledger().head_position()},
       {"tls", !o.tls_cert_file.empty()},
       {"mtls", !o.tls_client_ca_file.empty()},
       {"auth", o.auth.has_value()}});
  if (const std::string port_file = absl::GetFlag(FLAGS_port_file);
      !port_file.empty()) {
    // Write then rename, so a reader never sees a partial number.
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << (*server)->port() << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }
  int sig = 0;
  sigwait(&signals, &sig);
  const int grace_ms = absl::GetFlag(FLAGS_shutdown_grace_ms);
  Log(LogLevel::kInfo, "draining", {{"signal", sig}, {"grace_ms", grace_ms}});
  // Hand leadership over first (the lease is revoked: another node takes
  // over at once), then drain.
  if (repl != nullptr && repl->node != nullptr) {
    repl->live_node.store(nullptr);
    repl->node->Stop();
  }
  (*server)->Shutdown(grace_ms);
  server->reset();
  if (repl != nullptr && repl->refused.load()) {
    Log(LogLevel::kError,
        "stopped: this node cannot follow the replicated log (see the "
        "error above; restore a backup that reaches etcd's log, then start)");
    return 1;
  }
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian's abseil is built without NDEBUG, so every absl::Mutex operation
  // (gRPC takes many) would run deadlock-cycle detection: 1-3% of the
  // server's CPU in profiles, for a check our own code does not rely on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // --help and --helpshort list this file's flags (abseil's default
  // matches files named after the program, and this one is main.cc);
  // --version prints the version and the commit it was built from.
  absl::FlagsUsageConfig usage;
  // absl's hook passes abseil's own view type (util/strings.h).
  usage.contains_help_flags = [](auto file) {
    return absl::EndsWith(file, "src/server/main.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  usage.version_string = [] {
    return partnerledger::VersionLine("ledgerd") + "\n";
  };
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "partnerledger server.\n  ledgerd [--listen=127.0.0.1:50051] "
      "[--data_dir=./var/data] [--port_file=FILE] [--tls_cert=PEM "
      "--tls_key=PEM [--tls_client_ca=PEM]] [--auth_config=FILE] "
      "[--metrics_listen=127.0.0.1:9464] [--http_listen=127.0.0.1:8080]\n"
      "  ledgerd "
      "--restore_backup=BACKUP_DIR "
      "--data_dir=EMPTY_DIR [--backup_id=N]\n  ledgerd --help | --version");
  absl::ParseCommandLine(argc, argv);
  if (!absl::GetFlag(FLAGS_restore_backup).empty()) return Restore();
  return Run();
}

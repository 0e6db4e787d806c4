// ledgerd: the partnerledger server. With no flags it keeps its data under
// ./var/data and listens on 127.0.0.1:50051.
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "rocksdb/env.h"
#include "server/server.h"
#include "store/power_loss_fs.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "host:port to serve gRPC on; port 0 picks a free one");
ABSL_FLAG(std::string, data_dir, "./var/data", "RocksDB data directory");
ABSL_FLAG(std::string, port_file, "",
          "if set, the bound port is written here once serving");
ABSL_FLAG(bool, allow_insecure_remote, false,
          "allow a non-loopback listen address without credentials");
ABSL_FLAG(bool, unsafe_no_sync, false,
          "TESTING ONLY: acknowledge appends without fsync (breaks the "
          "durability contract; the power-loss test's negative control)");
ABSL_FLAG(std::string, power_loss_journal, "",
          "TESTING ONLY: journal each file's fsynced length here so a crash "
          "test can simulate power loss");

namespace {

int Run() {
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
  o.ledger.data_dir = absl::GetFlag(FLAGS_data_dir);
  o.ledger.sync = !absl::GetFlag(FLAGS_unsafe_no_sync);

  std::unique_ptr<rocksdb::Env> env;
  if (const std::string journal = absl::GetFlag(FLAGS_power_loss_journal);
      !journal.empty()) {
    auto fs = partnerledger::store::NewPowerLossJournalFs(
        rocksdb::FileSystem::Default(), journal);
    if (fs == nullptr) {
      std::cerr << "ledgerd: cannot open power-loss journal " << journal << "\n";
      return 1;
    }
    env = rocksdb::NewCompositeEnv(fs);
    o.ledger.env = env.get();
  }
  if (!o.ledger.sync) {
    std::cerr << "ledgerd: WARNING: --unsafe_no_sync: acknowledged appends "
                 "may be lost on power failure\n";
  }
  std::error_code ec;
  std::filesystem::create_directories(o.ledger.data_dir, ec);

  absl::StatusOr<std::unique_ptr<LedgerServer>> server = LedgerServer::Start(o);
  if (!server.ok()) {
    std::cerr << "ledgerd: " << server.status() << "\n";
    return 1;
  }
  std::cerr << "ledgerd: serving on port " << (*server)->port() << ", data in "
            << o.ledger.data_dir << ", head position "
            << (*server)->ledger().head_position() << "\n";
  if (const std::string port_file = absl::GetFlag(FLAGS_port_file);
      !port_file.empty()) {
    // Write then rename, so a reader never sees a partial number.
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << (*server)->port() << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }
  int sig = 0;
  sigwait(&signals, &sig);
  std::cerr << "ledgerd: signal " << sig << ", draining\n";
  (*server)->Shutdown();
  server->reset();
  std::cerr << "ledgerd: stopped\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "partnerledger server.\n  ledgerd [--listen=127.0.0.1:50051] "
      "[--data_dir=./var/data] [--port_file=FILE]");
  absl::ParseCommandLine(argc, argv);
  return Run();
}

// ledgerctl end to end: every subcommand run as the real binary against a
// real ledgerd on port 0, checking exact output, amounts and exit codes;
// offline verification of tampered copies of a data directory; offline
// export and replay agreeing with the server.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "crash/ledgerd_process.h"
#include "grpcpp/grpcpp.h"
#include "partnerledger/storage/v1/records.pb.h"
#include "partnerledger/v1/event_store.grpc.pb.h"
#include "partnerledger/v1/events.pb.h"
#include "rocksdb/db.h"
#include "store/keys.h"
#include "store/record_codec.h"
#include "test_support.h"
#include "util/sha256.h"

extern char** environ;

namespace partnerledger::cli {
namespace {

using ::partnerledger::testing::TempDir;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr milliseconds kReadyTimeout{20'000};
constexpr milliseconds kExitTimeout{20'000};

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out = absl::StrSplit(text, '\n', absl::SkipEmpty());
  return out;
}

// Spawns ledgerctl with stdin/stdout/stderr redirected to files.
pid_t Spawn(const std::vector<std::string>& args, const std::string& in,
            const std::string& out, const std::string& err) {
  std::vector<std::string> argv_s = {PL_LEDGERCTL};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const int rc =
      posix_spawn(&pid, PL_LEDGERCTL, &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

// The exit code, or -1 (with a test failure) if it did not exit in time.
int WaitExit(pid_t pid, milliseconds timeout = kExitTimeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ADD_FAILURE() << "ledgerctl did not exit in time";
      return -1;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// Opens a COPY of a data directory with plain RocksDB (every column family
// it has) so a test can rewrite or delete event records behind the store.
class RawDb {
 public:
  explicit RawDb(const std::string& dir) {
    std::vector<std::string> names;
    rocksdb::Status s =
        rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const std::string& n : names)
      cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* db = nullptr;
    s = rocksdb::DB::Open(rocksdb::DBOptions(), dir, cfs, &handles_, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset(db);
    for (size_t i = 0; i < names.size() && i < handles_.size(); ++i) {
      if (names[i] == "events") events_ = handles_[i];
    }
    EXPECT_NE(events_, nullptr) << "no events column family";
  }
  ~RawDb() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
  }

  storage::v1::StoredEvent Read(uint64_t position) {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), events_,
                                 store::EventKey(position), &value);
    EXPECT_TRUE(s.ok()) << s.ToString();
    storage::v1::StoredEvent e;
    EXPECT_TRUE(e.ParseFromString(value));
    return e;
  }
  void Write(const storage::v1::StoredEvent& e) {
    rocksdb::WriteOptions o;
    o.sync = true;
    ASSERT_TRUE(db_->Put(o, events_, store::EventKey(e.position()),
                         e.SerializeAsString())
                    .ok());
  }
  void Delete(uint64_t position) {
    rocksdb::WriteOptions o;
    o.sync = true;
    ASSERT_TRUE(db_->Delete(o, events_, store::EventKey(position)).ok());
  }
  // Sets (or with an empty value deletes) one key of the Merkle tree's
  // family; `clear` deletes every key first.
  void PutMerkle(const std::string& key, const std::string& value,
                 bool clear = false) {
    rocksdb::ColumnFamilyHandle* merkle = nullptr;
    for (auto* h : handles_) {
      if (h->GetName() == "merkle") merkle = h;
    }
    ASSERT_NE(merkle, nullptr);
    rocksdb::WriteOptions o;
    o.sync = true;
    if (clear) {
      std::unique_ptr<rocksdb::Iterator> it(
          db_->NewIterator(rocksdb::ReadOptions(), merkle));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        ASSERT_TRUE(db_->Delete(o, merkle, it->key()).ok());
      }
    }
    if (!key.empty()) {
      ASSERT_TRUE(db_->Put(o, merkle, key, value).ok());
    }
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
};

const char kWorkedExample[] = PL_EXAMPLES_DIR "/worked-example.jsonl";

// The obligations table of the worked example at the head (position 18).
const char kObligationsTable[] =
    "Obligations as of position 18\n"
    "\n"
    "PAYER  PAYEE  CURRENCY  KIND            ACCRUED  REVERSED    SETTLED  ON "
    "HOLD  OUTSTANDING\n"
    "F      C      EUR       commission    45,000.00  3,000.00  20,000.00     "
    "0.00    22,000.00\n"
    "F      C      USD       pass-through  40,000.00      0.00       0.00     "
    "0.00    40,000.00\n"
    "\n"
    "Net per pair and currency\n"
    "PAIR   CURRENCY  NET\n"
    "C / F  EUR       F owes C 22,000.00 EUR\n"
    "C / F  USD       F owes C 40,000.00 USD\n";

class LedgerctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> bin = crash::FindLedgerd();
    ASSERT_TRUE(bin.ok()) << bin.status();
    ledgerd_ = *bin;
    WriteFile(Path("empty-stdin"), "");
    StartServer();
  }

  std::string Path(const std::string& name) const {
    return dir_.path() + "/" + name;
  }
  std::string data_dir() const { return Path("data"); }

  void StartServer(std::vector<std::string> extra_args = {},
                   const std::string& data = "") {
    crash::LedgerdFlags f;
    f.data_dir = data.empty() ? data_dir() : data;
    f.port_file = Path("port");
    f.log_file = Path("ledgerd.log");
    f.extra_args = std::move(extra_args);
    absl::StatusOr<std::unique_ptr<crash::LedgerdProcess>> p =
        crash::LedgerdProcess::Start(ledgerd_, f, kReadyTimeout);
    ASSERT_TRUE(p.ok()) << p.status();
    server_ = *std::move(p);
  }

  void StopServer() {
    ASSERT_NE(server_, nullptr);
    absl::Status s = server_->Terminate(kExitTimeout);
    ASSERT_TRUE(s.ok()) << s;
    server_.reset();
  }

  // Runs ledgerctl offline (no --server).
  Result Run(const std::vector<std::string>& args,
             const std::string& stdin_text = "") {
    const std::string in = Path(absl::StrCat("stdin-", ++runs_));
    WriteFile(in, stdin_text);
    const pid_t pid = Spawn(args, in, Path("out"), Path("err"));
    EXPECT_GT(pid, 0);
    Result r;
    r.code = WaitExit(pid);
    r.out = crash::ReadFileOrEmpty(Path("out"));
    r.err = crash::ReadFileOrEmpty(Path("err"));
    return r;
  }

  // Runs ledgerctl against the test's server.
  Result Ctl(std::vector<std::string> args,
             const std::string& stdin_text = "") {
    args.insert(args.begin(), absl::StrCat("--server=", server_->address()));
    return Run(args, stdin_text);
  }

  void LoadWorkedExample() {
    Result r = Ctl({"append", kWorkedExample});
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_THAT(r.out, HasSubstr("commit position 18"));
  }

  // A copy of the (stopped) server's data directory.
  std::string CopyData(const std::string& name) {
    const std::string to = Path(name);
    std::filesystem::copy(data_dir(), to,
                          std::filesystem::copy_options::recursive);
    return to;
  }

  TempDir dir_{"pl-cli-"};
  std::string ledgerd_;
  std::unique_ptr<crash::LedgerdProcess> server_;
  int runs_ = 0;
};

TEST_F(LedgerctlTest, HelpListsEveryCommandAndTheExitCodes) {
  Result r = Run({"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* c :
       {"append", "read", "tail", "obligations", "referral-balance",
        "statement", "deal", "conflicts", "health", "digest", "verify",
        "export", "replay", "rebuild", "keygen", "checkpoint", "prove",
        "consistency", "verify-checkpoint"}) {
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("\n  ", c, " "))) << c;
    Result h = Run({c, "--help"});
    EXPECT_EQ(h.code, 0) << c;
    EXPECT_THAT(h.out, StartsWith(absl::StrCat("Usage: ledgerctl ", c))) << c;
  }
  EXPECT_THAT(r.out, HasSubstr("4  verification failure"));
  EXPECT_THAT(r.out, HasSubstr("6  local I/O error"));
  EXPECT_EQ(Run({}).code, 2);
  Result unknown = Run({"frobnicate"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("unknown command \"frobnicate\""));
  Result bad_option = Ctl({"obligations", "--nope"});
  EXPECT_EQ(bad_option.code, 2);
  EXPECT_THAT(bad_option.err, HasSubstr("unknown option --nope"));
  EXPECT_EQ(Ctl({"obligations", "--kind=weird"}).code, 2);
  EXPECT_EQ(Ctl({"read", "--max=-1"}).code, 2);
}

TEST_F(LedgerctlTest, VersionPrintsTheVersionAndTheCommit) {
  Result r = Run({"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, StartsWith("ledgerctl "));
  EXPECT_THAT(r.out, HasSubstr(" (commit "));
  EXPECT_THAT(r.out, Not(HasSubstr("(commit )")));
}

TEST_F(LedgerctlTest, MalformedServerAddressIsAUsageError) {
  for (const std::string server :
       {"127.0.0.1:50051x", "127.0.0.1", "localhost:", "127.0.0.1:0",
        "127.0.0.1:99999"}) {
    Result r = Run({"--server=" + server, "obligations"});
    EXPECT_EQ(r.code, 2) << server << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("--server")) << server;
  }
  Result r = Run({"--server=host:50051x", "digest"});
  EXPECT_EQ(r.err,
            "ledgerctl digest: --server: \"host:50051x\" is not host:port "
            "(the port must be a number in 0-65535)\n(see: ledgerctl digest "
            "--help)\n");
}

TEST_F(LedgerctlTest, AppendLoadsTheWorkedExampleAndAResendIsAReplay) {
  Result r = Ctl({"append", kWorkedExample});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 19u) << r.out;
  EXPECT_EQ(lines[0], "appended  #1  partner-C@0  PartnerRegistered");
  EXPECT_EQ(lines[6], "appended  #7  deal-D1@3  RevenueBooked");
  EXPECT_EQ(lines[7], "derived   #8  deal-D1@4  CommissionAccrued");
  EXPECT_EQ(
      lines[18],
      "10 requests: 14 appended, 4 derived, 0 replayed; commit position 18");
  Result again = Ctl({"append", kWorkedExample});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_THAT(again.out,
              HasSubstr("replayed  #1  partner-C@0  PartnerRegistered"));
  EXPECT_THAT(again.out,
              HasSubstr("10 requests: 0 appended, 0 derived, 18 replayed"));
  // --json: one AppendEventsResponse per request.
  Result json = Ctl({"append", "--json", kWorkedExample});
  ASSERT_EQ(json.code, 0);
  ASSERT_EQ(Lines(json.out).size(), 10u);
  EXPECT_THAT(Lines(json.out)[0], HasSubstr("\"replayed\":true"));
}

TEST_F(LedgerctlTest, AppendOneStreamFromStdinWithExpectedRevision) {
  const std::string events =
      "# two events, one atomic request\n"
      "{\"eventId\":\"11111111-0000-4000-8000-000000000001\",\"occurredAt\":"
      "\"2026-01-15T12:00:00Z\","
      "\"payload\":{\"partnerRegistered\":{\"legalName\":\"X "
      "BV\",\"country\":\"NL\",\"pitch\":\"x\"}}}\n"
      "\n"
      "{\"event_id\":\"11111111-0000-4000-8000-000000000002\",\"occurred_at\":"
      "\"2026-01-16T12:00:00Z\","
      "\"payload\":{\"partner_profile_updated\":{\"pitch\":\"y\"}}}\n";
  Result r =
      Ctl({"append", "--stream=partner-X", "--expected-state=no-stream", "-"},
          events);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(
      r.out,
      "appended  #1  partner-X@0  PartnerRegistered\n"
      "appended  #2  partner-X@1  PartnerProfileUpdated\n"
      "1 request: 2 appended, 0 derived, 0 replayed; commit position 2\n");
  const std::string more =
      "{\"eventId\":\"11111111-0000-4000-8000-000000000003\",\"occurredAt\":"
      "\"2026-01-17T12:00:00Z\","
      "\"payload\":{\"partnerProfileUpdated\":{\"pitch\":\"z\"}}}\n";
  // A stale expected revision is ABORTED: a server error, exit 5.
  Result stale = Ctl(
      {"append", "--stream", "partner-X", "--expected-revision", "0"}, more);
  EXPECT_EQ(stale.code, 5);
  EXPECT_THAT(stale.err, HasSubstr("ABORTED"));
  EXPECT_THAT(stale.err, HasSubstr("current revision 1"));
  Result ok = Ctl(
      {"append", "--stream", "partner-X", "--expected-revision", "1"}, more);
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_THAT(ok.out,
              HasSubstr("appended  #3  partner-X@2  PartnerProfileUpdated"));
  // --generate-ids fills a missing eventId.
  Result gen = Ctl({"append", "--stream=partner-X", "--generate-ids"},
                   "{\"occurredAt\":\"2026-01-18T12:00:00Z\",\"payload\":{"
                   "\"partnerProfileUpdated\":"
                   "{\"pitch\":\"w\"}}}\n");
  EXPECT_EQ(gen.code, 0) << gen.err;
  EXPECT_THAT(gen.out, HasSubstr("#4  partner-X@3"));
}

TEST_F(LedgerctlTest, AppendErrorsHaveDistinctExitCodes) {
  LoadWorkedExample();
  // Not JSON of the expected message: usage error, naming the line.
  Result bad = Ctl({"append"}, "{\"stream\":\"partner-Y\"}\n{\"nope\":1}\n");
  EXPECT_EQ(bad.code, 2);
  EXPECT_THAT(bad.err, HasSubstr("line 2"));
  Result missing = Ctl({"append", Path("no-such-file.jsonl")});
  EXPECT_EQ(missing.code, 6);
  EXPECT_THAT(missing.err, HasSubstr("cannot read"));
  // A deal under an unknown agreement: NOT_FOUND, exit 3.
  Result unknown = Ctl({"append", "--stream=deal-D9"},
                       "{\"eventId\":\"22222222-0000-4000-8000-000000000001\","
                       "\"occurredAt\":\"2026-01-15T12:00:00Z\","
                       "\"payload\":{\"dealOriginated\":{\"agreementId\":"
                       "\"nope\",\"originator\":\"C\",\"provider\":"
                       "\"F\",\"prime\":\"F\",\"customer\":{\"key\":\"k\","
                       "\"name\":\"n\"},\"offeringClass\":"
                       "\"OFFERING_CLASS_SAAS\",\"currency\":\"EUR\","
                       "\"startDate\":\"2026-02-01\"}}}\n");
  EXPECT_EQ(unknown.code, 3);
  EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND"));
  // Settling more than is outstanding: FAILED_PRECONDITION, exit 5.
  Result over = Ctl(
      {"append", "--stream=settlement-S2"},
      "{\"eventId\":\"22222222-0000-4000-8000-000000000002\",\"occurredAt\":"
      "\"2027-03-01T12:00:00Z\","
      "\"payload\":{\"settlementRecorded\":{\"payer\":\"F\",\"payee\":\"C\","
      "\"amount\":{\"currency\":"
      "\"EUR\",\"amountMinor\":\"2200001\"},\"reference\":\"too much\"}}}\n");
  EXPECT_EQ(over.code, 5);
  EXPECT_THAT(over.err, HasSubstr("FAILED_PRECONDITION"));
  // No server at all: UNAVAILABLE, exit 5.
  Result down = Run({"--server=127.0.0.1:1", "obligations", "--timeout=5"});
  EXPECT_EQ(down.code, 5);
  EXPECT_THAT(down.err, HasSubstr("UNAVAILABLE"));
}

// A settlement F -> C of `amount` (JSON text of the Money's fields) as one
// ProposedEvent line for `append --stream=settlement-<id>`.
std::string Settlement(const std::string& event_id, const std::string& money) {
  return absl::StrCat(
      "{\"eventId\":\"", event_id,
      "\",\"occurredAt\":\"2027-03-01T12:00:00Z\",\"payload\":{"
      "\"settlementRecorded\":{\"payer\":\"F\",\"payee\":\"C\",\"amount\":{",
      money, "},\"reference\":\"r\"}}}\n");
}

TEST_F(LedgerctlTest, AmountsInMajorUnitsOfTheEventsCurrency) {
  LoadWorkedExample();
  // "12000.00" EUR is 1200000 minor units; here 2,000.50 EUR.
  Result ok = Ctl({"append", "--stream=settlement-S7"},
                  Settlement("33333333-0000-4000-8000-000000000001",
                             "\"currency\":\"EUR\",\"amount\":\"2000.50\""));
  ASSERT_EQ(ok.code, 0) << ok.err;
  Result read = Ctl({"read", "settlement-S7", "--json"});
  ASSERT_EQ(read.code, 0) << read.err;
  EXPECT_THAT(read.out, HasSubstr("\"amountMinor\":\"200050\""));
  Result obligations = Ctl({"obligations", "--currency=EUR", "--csv"});
  EXPECT_THAT(obligations.out,
              HasSubstr("F,C,EUR,commission,45000.00,3000.00,22000.50,0.00,"
                        "19999.50\n"));

  // Wrong number of decimals for the currency: refused, naming the field
  // and the currency's exponent; nothing is appended.
  Result one_decimal =
      Ctl({"append", "--stream=settlement-S8"},
          Settlement("33333333-0000-4000-8000-000000000002",
                     "\"currency\":\"EUR\",\"amount\":\"100.5\""));
  EXPECT_EQ(one_decimal.code, 2);
  EXPECT_THAT(one_decimal.err,
              HasSubstr("ledgerctl append: -: "
                        "payload.settlementRecorded.amount.amount: "
                        "\"100.5\" has 1 decimals; EUR amounts have exactly 2 "
                        "(ISO 4217 exponent 2)"));
  Result yen = Ctl({"append", "--stream=settlement-S8"},
                   Settlement("33333333-0000-4000-8000-000000000003",
                              "\"currency\":\"JPY\",\"amount\":\"100.00\""));
  EXPECT_EQ(yen.code, 2);
  EXPECT_THAT(yen.err, HasSubstr("JPY amounts have exactly 0"));
  // A JSON number in exponent form: protobuf would take 1e4 as 10000.
  for (const std::string money :
       {"\"currency\":\"EUR\",\"amountMinor\":1e4",
        "\"currency\":\"EUR\",\"amountMinor\":\"1.5E3\"",
        "\"currency\":\"EUR\",\"amount\":1e2"}) {
    Result exp = Ctl({"append", "--stream=settlement-S8"},
                     Settlement("33333333-0000-4000-8000-000000000004", money));
    EXPECT_EQ(exp.code, 2) << money;
    EXPECT_THAT(exp.err, HasSubstr("payload.settlementRecorded.amount.amount"))
        << money;
  }
  EXPECT_EQ(Ctl({"read", "settlement-S8"}).code, 3);
}

TEST_F(LedgerctlTest, StatementJsonNamesWhatItAnswersWithSignedAmounts) {
  LoadWorkedExample();
  Result r = Ctl({"statement", "--payer=F", "--payee=C", "--currency=EUR",
                  "--period=2027-02", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(
      r.out,
      StartsWith("{\"payer\":\"F\",\"payee\":\"C\",\"currency\":\"EUR\","
                 "\"period\":\"2027-02\",\"asOfPosition\":\"18\","
                 "\"openingMinor\":\"3000000\",\"accruedMinor\":\"1500000\","
                 "\"reversedMinor\":\"-300000\",\"settledMinor\":\"-2000000\","
                 "\"closingMinor\":\"2200000\",\"lines\":[{"
                 "\"signedAmountMinor\":\"1500000\",\"position\":\"10\""));
  EXPECT_THAT(r.out, HasSubstr("{\"signedAmountMinor\":\"-300000\","
                               "\"position\":\"12\""));
  EXPECT_THAT(r.out, HasSubstr("{\"signedAmountMinor\":\"-2000000\","
                               "\"position\":\"13\""));
}

TEST_F(LedgerctlTest, DigestOutNeverOverwritesAndAsOfTimeIsRecordingTime) {
  LoadWorkedExample();
  const std::string out = Path("kept.json");
  ASSERT_EQ(Ctl({"digest", "--out=" + out}).code, 0);
  const std::string kept = crash::ReadFileOrEmpty(out);
  ASSERT_THAT(kept, StartsWith("{\"position\":18,"));
  ASSERT_EQ(Ctl({"append", "--stream=settlement-S7"},
                Settlement("33333333-0000-4000-8000-000000000005",
                           "\"currency\":\"EUR\",\"amount\":\"1.00\""))
                .code,
            0);
  Result again = Ctl({"digest", "--out=" + out});
  EXPECT_EQ(again.code, 6);
  EXPECT_EQ(again.err, absl::StrCat("ledgerctl digest: digest --out: "
                                    "ALREADY_EXISTS: ",
                                    out,
                                    " exists; not overwriting it (remove it "
                                    "or choose another --out)\n"));
  EXPECT_EQ(again.out, "");
  EXPECT_EQ(crash::ReadFileOrEmpty(out), kept);
  Result help = Run({"obligations", "--help"});
  EXPECT_THAT(help.out,
              HasSubstr("answer as of the last event RECORDED (the server's "
                        "recorded_at, not occurred_at or booked_on)"));
}

// An unknown partner is NOT_FOUND (exit 3), never "(no obligations)"; a
// malformed currency is a bad option value (exit 2).
TEST_F(LedgerctlTest, UnknownPartnerExits3AndMalformedCurrencyExits2) {
  LoadWorkedExample();
  Result unknown = Ctl({"obligations", "--partner=NOPE"});
  EXPECT_EQ(unknown.code, 3) << unknown.out;
  EXPECT_THAT(unknown.err, HasSubstr("partner_id: unknown partner 'NOPE'"));
  Result balance = Ctl({"referral-balance", "C", "NOPE"});
  EXPECT_EQ(balance.code, 3);
  EXPECT_THAT(balance.err, HasSubstr("NOT_FOUND"));
  Result statement = Ctl({"statement", "--payer=NOPE", "--payee=C",
                          "--currency=EUR", "--period=2027-02"});
  EXPECT_EQ(statement.code, 3);
  for (const char* bad : {"eur", "EURO", "XXX"}) {
    SCOPED_TRACE(bad);
    Result o = Ctl({"obligations", std::string("--currency=") + bad});
    EXPECT_EQ(o.code, 2);
    EXPECT_THAT(o.err, HasSubstr("--currency"));
    Result s = Ctl({"statement", "--payer=F", "--payee=C",
                    std::string("--currency=") + bad, "--period=2027-02"});
    EXPECT_EQ(s.code, 2);
  }
  // A known partner with nothing owed: OK, empty.
  Result none = Ctl({"obligations", "--partner=C", "--currency=JPY"});
  EXPECT_EQ(none.code, 0) << none.err;
  EXPECT_THAT(none.out, HasSubstr("(no obligations)"));
}

TEST_F(LedgerctlTest, ReadPagesForwardBackwardFilteredAndByStream) {
  LoadWorkedExample();
  Result first = Ctl({"read", "--max=3"});
  ASSERT_EQ(first.code, 0) << first.err;
  std::vector<std::string> lines = Lines(first.out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0], StartsWith("     1  "));
  EXPECT_THAT(lines[0], HasSubstr("  partner-C@0  PartnerRegistered  "
                                  "{\"legalName\":\"C Consulting BV\""));
  Result back = Ctl({"read", "--backward", "--max", "2"});
  ASSERT_EQ(back.code, 0);
  lines = Lines(back.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], StartsWith("    18  "));
  EXPECT_THAT(lines[1], StartsWith("    17  "));
  Result all_back = Ctl({"read", "--backward"});
  EXPECT_EQ(Lines(all_back.out).size(), 18u);
  Result typed = Ctl({"read", "--type=CommissionAccrued", "--json"});
  ASSERT_EQ(typed.code, 0);
  lines = Lines(typed.out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(
      lines[0],
      StartsWith("{\"position\":8,\"stream\":\"deal-D1\",\"revision\":4,"));
  EXPECT_THAT(lines[2], HasSubstr("\"amountMinor\":\"4000000\""));
  Result prefixed = Ctl({"read", "--stream-prefix=partner-"});
  EXPECT_EQ(Lines(prefixed.out).size(), 2u);
  Result stream = Ctl({"read", "deal-D1", "--from=5"});
  ASSERT_EQ(stream.code, 0);
  lines = Lines(stream.out);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_THAT(lines[0], HasSubstr("deal-D1@5  RevenueBooked"));
  Result stream_back = Ctl({"read", "deal-D1", "--backward", "--max=1"});
  EXPECT_THAT(stream_back.out, HasSubstr("deal-D1@8  CommissionReversed"));
  Result none = Ctl({"read", "deal-nope"});
  EXPECT_EQ(none.code, 3);
  EXPECT_THAT(none.err, HasSubstr("NOT_FOUND"));
}

TEST_F(LedgerctlTest, ReadAndExportPageThroughMoreThanOnePage) {
  // 1,201 events: more than one 1,000-event page.
  std::string input;
  for (int request = 0; request < 2; ++request) {
    input += "{\"stream\":\"partner-P\",\"events\":[";
    for (int i = 0; i < 600; ++i) {
      const int n = request * 600 + i;
      if (i > 0) input += ",";
      input += absl::StrCat(
          "{\"eventId\":\"33333333-0000-4000-8000-",
          absl::StrFormat("%012d", n + 1),
          "\",\"occurredAt\":\"2026-01-15T12:00:00Z\",\"payload\":",
          n == 0
              ? "{\"partnerRegistered\":{\"legalName\":\"P\",\"country\":"
                "\"NL\",\"pitch\":\"p\"}}"
              : absl::StrCat("{\"partnerProfileUpdated\":{\"pitch\":\"pitch ",
                             n, "\"}}"),
          "}");
    }
    input += "]}\n";
  }
  input +=
      "{\"stream\":\"partner-P\",\"events\":[{\"eventId\":\"33333333-0000-4000-"
      "8000-999999999999\","
      "\"occurredAt\":\"2026-01-15T12:00:00Z\",\"payload\":{"
      "\"partnerProfileUpdated\":{}}}]}\n";
  Result load = Ctl({"append", "--json"}, input);
  ASSERT_EQ(load.code, 0) << load.err;
  Result read = Ctl({"read"});
  ASSERT_EQ(Lines(read.out).size(), 1201u);
  Result stream = Ctl({"read", "partner-P", "--backward"});
  ASSERT_EQ(Lines(stream.out).size(), 1201u);
  EXPECT_THAT(Lines(stream.out).back(),
              HasSubstr("partner-P@0  PartnerRegistered"));
  Result exported = Ctl({"export", "--from=2", "--to=1101"});
  ASSERT_EQ(exported.code, 0) << exported.err;
  std::vector<std::string> lines = Lines(exported.out);
  ASSERT_EQ(lines.size(), 1100u);
  EXPECT_THAT(lines.front(), StartsWith("{\"position\":2,"));
  EXPECT_THAT(lines.back(), StartsWith("{\"position\":1101,"));
}

TEST_F(LedgerctlTest, TailCatchesUpThenFollowsLiveAppendsAndStopsOnCtrlC) {
  LoadWorkedExample();
  Result caught = Ctl({"tail", "--from=1", "--until-caught-up"});
  ASSERT_EQ(caught.code, 0) << caught.err;
  EXPECT_EQ(Lines(caught.out).size(), 18u);
  EXPECT_THAT(caught.err, HasSubstr("-- caught up at position 18 --"));
  Result typed = Ctl({"tail", "--from=1", "--type=RevenueBooked",
                      "--until-caught-up", "--json"});
  EXPECT_EQ(Lines(typed.out).size(), 3u);

  // Live: subscribe after the head, then append; tail prints it and stops
  // after --max=1.
  const std::string server = absl::StrCat("--server=", server_->address());
  pid_t live = Spawn({server, "tail", "--from=19", "--max=1"},
                     Path("empty-stdin"), Path("tail.out"), Path("tail.err"));
  ASSERT_GT(live, 0);
  Result append =
      Ctl({"append", "--stream=partner-C"},
          "{\"eventId\":\"44444444-0000-4000-8000-000000000001\","
          "\"occurredAt\":\"2026-05-01T12:00:00Z\","
          "\"payload\":{\"partnerProfileUpdated\":{\"pitch\":\"live\"}}}\n");
  ASSERT_EQ(append.code, 0) << append.err;
  EXPECT_EQ(WaitExit(live), 0);
  EXPECT_THAT(
      crash::ReadFileOrEmpty(Path("tail.out")),
      HasSubstr("partner-C@1  PartnerProfileUpdated  {\"pitch\":\"live\"}"));

  // Ctrl-C ends a tail that would otherwise wait forever, with exit 0.
  pid_t forever = Spawn({server, "tail", "--from=1"}, Path("empty-stdin"),
                        Path("tail2.out"), Path("tail2.err"));
  ASSERT_GT(forever, 0);
  const auto deadline = std::chrono::steady_clock::now() + kExitTimeout;
  while (Lines(crash::ReadFileOrEmpty(Path("tail2.out"))).size() < 19 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(Lines(crash::ReadFileOrEmpty(Path("tail2.out"))).size(), 19u);
  ::kill(forever, SIGINT);
  EXPECT_EQ(WaitExit(forever), 0);
}

TEST_F(LedgerctlTest, ObligationsAsTableCsvJsonAndAsOf) {
  LoadWorkedExample();
  Result table = Ctl({"obligations"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_EQ(table.out, kObligationsTable);
  Result csv = Ctl({"obligations", "--csv"});
  EXPECT_EQ(
      csv.out,
      "payer,payee,currency,kind,accrued,reversed,settled,on_hold,outstanding\n"
      "F,C,EUR,commission,45000.00,3000.00,20000.00,0.00,22000.00\n"
      "F,C,USD,pass-through,40000.00,0.00,0.00,0.00,40000.00\n");
  Result json = Ctl({"obligations", "--json", "--currency=USD"});
  // The answer carries the Merkle root at its position: the checkpoint's
  // (its third line is the base64 root).
  const std::vector<std::string> checkpoint = Lines(Ctl({"checkpoint"}).out);
  ASSERT_GE(checkpoint.size(), 3u);
  EXPECT_EQ(
      json.out,
      "{\"asOfPosition\":\"18\",\"asOfRootHash\":\"" + checkpoint[2] +
          "\",\"asOfDate\":\"\",\"obligations\":[{\"payer\":\"F\","
          "\"payee\":\"C\","
          "\"currency\":\"USD\",\"kind\":\"OBLIGATION_KIND_PASS_THROUGH\","
          "\"accruedMinor\":"
          "\"4000000\",\"reversedMinor\":\"0\",\"settledMinor\":\"0\","
          "\"onHoldMinor\":\"0\","
          "\"outstandingMinor\":\"4000000\"}],\"net\":[{\"partnerA\":\"C\","
          "\"partnerB\":\"F\","
          "\"currency\":\"USD\",\"aOwesBMinor\":\"-4000000\",\"netPayer\":"
          "\"F\",\"netPayee\":"
          "\"C\",\"netMinor\":\"4000000\"}]}\n");
  // Right after R1's commission (position 8): 30,000.00 owed.
  Result past = Ctl({"obligations", "--as-of-position=8", "--csv"});
  EXPECT_EQ(
      past.out,
      "payer,payee,currency,kind,accrued,reversed,settled,on_hold,outstanding\n"
      "F,C,EUR,commission,30000.00,0.00,0.00,0.00,30000.00\n");
  Result before = Ctl({"obligations", "--as-of-time=2000-01-01T00:00:00Z"});
  EXPECT_EQ(before.out, "Obligations as of position 0\n\n(no obligations)\n");
  Result commission = Ctl({"obligations", "--kind=commission", "--partner=C"});
  EXPECT_THAT(commission.out, HasSubstr("22,000.00"));
  EXPECT_THAT(commission.out, Not(HasSubstr("pass-through")));
  EXPECT_EQ(Ctl({"obligations", "--as-of-time=yesterday"}).code, 2);
}

// --as-of-date cuts by business date, alone or with --as-of-position.
TEST_F(LedgerctlTest, AsOfDateCutsByBusinessDateAndCombinesWithAsOfPosition) {
  LoadWorkedExample();
  Result mid = Ctl({"obligations", "--as-of-date=2027-02-15", "--csv"});
  ASSERT_EQ(mid.code, 0) << mid.err;
  EXPECT_EQ(
      mid.out,
      "payer,payee,currency,kind,accrued,reversed,settled,on_hold,outstanding\n"
      "F,C,EUR,commission,45000.00,3000.00,0.00,0.00,42000.00\n"
      "F,C,USD,pass-through,40000.00,0.00,0.00,0.00,40000.00\n");
  Result table = Ctl({"obligations", "--as-of-date=2026-01-31"});
  EXPECT_EQ(table.out,
            "Obligations as of position 18, business date 2026-01-31\n\n"
            "(no obligations)\n");
  // Position 8: right after R1's commission; by 2026-01-31 nothing was due.
  Result both = Ctl({"obligations", "--as-of-position=8",
                     "--as-of-date=2026-02-28", "--csv"});
  EXPECT_EQ(
      both.out,
      "payer,payee,currency,kind,accrued,reversed,settled,on_hold,outstanding\n"
      "F,C,EUR,commission,30000.00,0.00,0.00,0.00,30000.00\n");
  Result statement =
      Ctl({"statement", "--payer=F", "--payee=C", "--currency=EUR",
           "--period=2027-02", "--as-of-date=2027-02-15", "--json"});
  ASSERT_EQ(statement.code, 0) << statement.err;
  EXPECT_THAT(statement.out, HasSubstr("\"asOfDate\":\"2027-02-15\","));
  EXPECT_THAT(statement.out, HasSubstr("\"closingMinor\":\"4200000\""));
  Result deal = Ctl({"deal", "D1", "--as-of-date=2026-12-31"});
  ASSERT_EQ(deal.code, 0) << deal.err;
  EXPECT_THAT(deal.out,
              HasSubstr("Deal D1 as of position 18, business date 2026-12-31"));
  for (const char* cmd : {"referral-balance", "health"}) {
    Result r = Ctl({cmd, "C", "F", "--as-of-date=2027-02-15"});
    EXPECT_EQ(r.code, 0) << cmd << ": " << r.err;
    EXPECT_THAT(r.out, HasSubstr("business date 2027-02-15")) << cmd;
  }
  Result bad = Ctl({"obligations", "--as-of-date=2027-02-30"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--as-of-date: expected a calendar date "
                                 "YYYY-MM-DD, got \"2027-02-30\""));
}

TEST_F(LedgerctlTest, StatementHasOpeningMovementsClosingAndSignedLines) {
  LoadWorkedExample();
  Result table = Ctl({"statement", "--payer=F", "--payee=C", "--currency=EUR",
                      "--period=2027-02"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_EQ(table.out,
            "Statement F -> C, EUR, period 2027-02, as of position 18\n"
            "\n"
            "Opening      30,000.00\n"
            "Accrued   +  15,000.00\n"
            "Reversed  -   3,000.00\n"
            "Settled   -  20,000.00\n"
            "Closing   =  22,000.00\n"
            "\n"
            "POSITION  DATE        TYPE        DEAL  REVENUE  SETTLEMENT  KIND "
            "         RATE  YEAR      AMOUNT\n"
            "      10  2027-02-01  accrual     D1    R2                   "
            "commission  12.50%     2   15,000.00\n"
            "      12  2027-02-10  reversal    D1    R1                   "
            "commission  25.00%     1   -3,000.00\n"
            "      13  2027-02-20  settlement                 S1               "
            "                     -20,000.00\n");
  Result csv = Ctl({"statement", "--payer=F", "--payee=C", "--currency=EUR",
                    "--period=2026-02", "--csv"});
  std::vector<std::string> lines = Lines(csv.out);
  ASSERT_EQ(lines.size(), 4u) << csv.out;
  EXPECT_EQ(lines[1], "opening,,,,,,,,,0.00,EUR,");
  EXPECT_THAT(
      lines[2],
      StartsWith(
          "accrual,8,2026-02-01,D1,R1,,commission,2500,1,30000.00,EUR,"));
  EXPECT_EQ(lines[3], "closing,,,,,,,,,30000.00,EUR,");
  Result bad = Ctl({"statement", "--payer=F", "--payee=C", "--currency=EUR",
                    "--period=2026-13"});
  EXPECT_EQ(bad.code, 5);
  EXPECT_THAT(bad.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_EQ(Ctl({"statement", "--payer=F"}).code, 2);
}

TEST_F(LedgerctlTest, ReferralBalanceDealConflictsHealthSatisfaction) {
  LoadWorkedExample();
  Result rb = Ctl({"referral-balance", "C", "F"});
  ASSERT_EQ(rb.code, 0) << rb.err;
  EXPECT_THAT(
      rb.out,
      HasSubstr(
          "C     F            1    1  EUR       228,000.00  42,000.00\n"));
  EXPECT_THAT(
      rb.out,
      HasSubstr(
          "F     C            1    1  USD        50,000.00  10,000.00\n"));
  EXPECT_THAT(rb.out, HasSubstr("Reciprocity ratio: 1.00\n"));
  EXPECT_EQ(Ctl({"referral-balance", "C"}).code, 2);

  Result deal = Ctl({"deal", "D1"});
  ASSERT_EQ(deal.code, 0) << deal.err;
  EXPECT_THAT(deal.out, HasSubstr("margin                 25.00% from year 1, "
                                  "12.50% from year 2 (agreement)\n"));
  EXPECT_THAT(deal.out,
              HasSubstr("R1       2026-02-01     2026-02-01     1  25.00%  "
                        "120,000.00  12,000.00  27,000.00   27,000.00\n"));
  EXPECT_THAT(deal.out,
              HasSubstr("R2       2027-02-01     2027-02-01     2  12.50%  "
                        "120,000.00       0.00  15,000.00   15,000.00\n"));
  Result nodeal = Ctl({"deal", "D404"});
  EXPECT_EQ(nodeal.code, 3);
  EXPECT_THAT(nodeal.err, HasSubstr("NOT_FOUND"));

  EXPECT_EQ(
      Ctl({"conflicts"}).out,
      "Conflicts (0 open, 0 resolved) as of position 18\n\n(no conflicts)\n");
  Result raise = Ctl({"append", "--stream=conflict-K1"},
                     "{\"eventId\":\"55555555-0000-4000-8000-000000000001\","
                     "\"occurredAt\":\"2027-03-01T12:00:00Z\","
                     "\"payload\":{\"conflictRaised\":{\"agreementId\":\"CF\","
                     "\"dealId\":\"D1\",\"kind\":"
                     "\"CONFLICT_KIND_PAYMENT_DISPUTE\",\"raisedBy\":\"C\","
                     "\"summary\":\"invoice, disputed\"}}}\n");
  ASSERT_EQ(raise.code, 0) << raise.err;
  Result conflicts = Ctl({"conflicts", "--status=open"});
  EXPECT_THAT(conflicts.out,
              HasSubstr("Conflicts (1 open, 0 resolved) as of position 19"));
  EXPECT_THAT(
      conflicts.out,
      HasSubstr("K1        CF         D1    payment-dispute  open    C"));
  Result csv = Ctl({"conflicts", "--csv"});
  ASSERT_EQ(Lines(csv.out).size(), 2u);
  EXPECT_THAT(Lines(csv.out)[1],
              StartsWith("K1,CF,D1,,payment-dispute,open,C,"));
  EXPECT_THAT(Lines(csv.out)[1], HasSubstr(",\"invoice, disputed\","));
  // The dispute holds the deal's outstanding.
  EXPECT_THAT(
      Ctl({"obligations", "--currency=EUR", "--csv"}).out,
      HasSubstr(
          "F,C,EUR,commission,45000.00,3000.00,20000.00,22000.00,22000.00\n"));

  Result health = Ctl({"health", "C", "F"});
  ASSERT_EQ(health.code, 0) << health.err;
  EXPECT_THAT(health.out,
              HasSubstr("Partnership health C <-> F as of position 19\n"));
  EXPECT_THAT(health.out, HasSubstr("margins         OK"));
  EXPECT_THAT(health.out, HasSubstr("documentation   WARN"));
  EXPECT_THAT(health.out, HasSubstr("conflicts       FAIL    1 open conflict"));
  Result sat = Ctl({"satisfaction", "CF"});
  EXPECT_EQ(sat.code, 0) << sat.err;
  EXPECT_THAT(sat.out, HasSubstr("(no responses)"));
}

TEST_F(LedgerctlTest, DigestAndOnlineVerify) {
  LoadWorkedExample();
  const std::string file = Path("digest.json");
  Result d = Ctl({"digest", "--out", file});
  ASSERT_EQ(d.code, 0) << d.err;
  ASSERT_THAT(d.out, StartsWith("{\"position\":18,\"hash\":\""));
  ASSERT_EQ(d.out.size(),
            std::string("{\"position\":18,\"hash\":\"\"}\n").size() + 64);
  EXPECT_EQ(crash::ReadFileOrEmpty(file), d.out);
  Result ok = Ctl({"verify", "--digest", file});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(ok.out,
            absl::StrCat(
                "OK: server ", server_->address(),
                ": hash chain verified through position 18 (18 events "
                "checked); the log extends the saved digest at position 18\n"));
  // The chain grows: the old digest is still extended.
  ASSERT_EQ(Ctl({"append", "--stream=partner-C", "--generate-ids"},
                "{\"occurredAt\":\"2027-05-01T12:00:00Z\",\"payload\":{"
                "\"partnerProfileUpdated\":{}}}")
                .code,
            0);
  EXPECT_EQ(Ctl({"verify", "--digest", file}).code, 0);
  Result json = Ctl({"verify", "--json", "--from=3", "--to=10"});
  EXPECT_EQ(json.out,
            "{\"ok\":true,\"verifiedThrough\":\"10\",\"firstBadPosition\":"
            "\"0\",\"message\":\"\","
            "\"eventsChecked\":\"8\"}\n");
  // A digest this log does not extend: verification failure, exit 4.
  const std::string forged = Path("forged.json");
  WriteFile(forged, absl::StrCat("{\"position\": 5, \"hash\": \"",
                                 std::string(64, 'a'), "\"}"));
  Result bad = Ctl({"verify", "--digest", forged});
  EXPECT_EQ(bad.code, 4);
  EXPECT_THAT(bad.out, HasSubstr("FAILED: server "));
  EXPECT_THAT(
      bad.out,
      HasSubstr("first bad position 5: hash differs from the saved digest"));
  WriteFile(forged, absl::StrCat("{\"position\": 99, \"hash\": \"",
                                 std::string(64, 'a'), "\"}"));
  Result beyond = Ctl({"verify", "--digest", forged});
  EXPECT_EQ(beyond.code, 4);
  EXPECT_THAT(beyond.out, HasSubstr("events were removed"));
  WriteFile(forged, "not json");
  EXPECT_EQ(Ctl({"verify", "--digest", forged}).code, 2);
  EXPECT_EQ(Ctl({"verify", "--digest", Path("missing.json")}).code, 6);
  Result past = Ctl({"digest", "--at-position=8"});
  EXPECT_THAT(past.out, StartsWith("{\"position\":8,"));
}

TEST_F(LedgerctlTest,
       OfflineVerifyPassesOnTheDirectoryAndDetectsAChangedPayload) {
  LoadWorkedExample();
  const std::string file = Path("digest.json");
  ASSERT_EQ(Ctl({"digest", "--out", file}).code, 0);
  StopServer();
  Result ok = Run({"verify", "--data-dir", data_dir(), "--digest", file});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(ok.out,
            absl::StrCat(
                "OK: data directory ", data_dir(),
                ": hash chain verified through position 18 (18 events "
                "checked); the log extends the saved digest at position 18\n"));
  EXPECT_EQ(Run({"digest", "--data-dir", data_dir()}).out,
            crash::ReadFileOrEmpty(file));

  // Rewrite R1 (position 7) as 1,200,000.00 EUR, keeping the old hash.
  const std::string copy = CopyData("tampered");
  {
    RawDb db(copy);
    storage::v1::StoredEvent e = db.Read(7);
    v1::EventPayload p;
    ASSERT_TRUE(p.ParseFromString(e.payload()));
    ASSERT_TRUE(p.has_revenue_booked());
    p.mutable_revenue_booked()->mutable_amount()->set_amount_minor(120'000'000);
    e.set_payload(p.SerializeAsString());
    db.Write(e);
  }
  Result bad = Run({"verify", "--data-dir", copy});
  EXPECT_EQ(bad.code, 4) << bad.err;
  EXPECT_THAT(bad.out, StartsWith(absl::StrCat("FAILED: data directory ", copy,
                                               ": first bad position 7: ")));
  EXPECT_THAT(bad.out, HasSubstr("verified good through position 6"));
  Result json = Run({"verify", "--json", "--data-dir", copy});
  EXPECT_EQ(json.code, 4);
  EXPECT_THAT(json.out, HasSubstr("\"ok\":false"));
  EXPECT_THAT(json.out, HasSubstr("\"firstBadPosition\":\"7\""));
  // Reading the tampered log is refused too.
  EXPECT_EQ(Run({"export", "--data-dir", copy}).code, 4);
  EXPECT_EQ(Run({"replay", "--data-dir", copy, "--to-position=18"}).code, 4);
  // The original is untouched.
  EXPECT_EQ(Run({"verify", "--data-dir", data_dir()}).code, 0);
}

TEST_F(LedgerctlTest, OfflineVerifyDetectsARecomputedHashAndADeletedEvent) {
  LoadWorkedExample();
  StopServer();
  // A record whose stored hash was replaced: it no longer matches its
  // content (and the next event no longer links to it).
  const std::string relinked = CopyData("relinked");
  {
    RawDb db(relinked);
    storage::v1::StoredEvent e = db.Read(12);
    storage::v1::StoredEvent next = db.Read(13);
    e.set_hash(next.hash());  // any other 32 bytes
    db.Write(e);
  }
  Result r = Run({"verify", "--data-dir", relinked});
  EXPECT_EQ(r.code, 4);
  EXPECT_THAT(r.out, HasSubstr("first bad position 12"));

  const std::string deleted = CopyData("deleted");
  {
    RawDb db(deleted);
    db.Delete(5);
  }
  Result d = Run({"verify", "--data-dir", deleted});
  EXPECT_EQ(d.code, 4) << d.err;
  EXPECT_THAT(d.out, HasSubstr("first bad position 5: event missing"));

  Result none = Run({"verify", "--data-dir", Path("nope")});
  EXPECT_EQ(none.code, 6);
  EXPECT_THAT(none.err, HasSubstr("no data directory"));
}

// 1,000 events of ~62 KB (62 MB, several times a gRPC message): read and
// export page through the whole log, since the server cuts pages by bytes.
TEST_F(LedgerctlTest, ReadAndExportPageThroughALogOfLargeEvents) {
  auto stub = v1::EventStoreService::NewStub(grpc::CreateChannel(
      server_->address(), grpc::InsecureChannelCredentials()));
  int id = 0;
  auto proposed = [&](v1::AppendEventsRequest& req) {
    v1::ProposedEvent* e = req.add_events();
    e->set_event_id(absl::StrFormat("b1600000-0000-4000-8000-%012d", ++id));
    e->mutable_occurred_at()->set_seconds(1'767'225'600);
    return e->mutable_payload();
  };
  v1::AppendEventsRequest reg;
  reg.set_stream("partner-big");
  v1::PartnerRegistered* r = proposed(reg)->mutable_partner_registered();
  r->set_legal_name("Big BV");
  r->set_country("NL");
  for (int n = 0; n <= 1000; n += 60) {
    v1::AppendEventsRequest req = reg;
    if (n > 0) req.clear_events();
    for (int i = n == 0 ? 1 : 0; i < 60 && n + i <= 1000; ++i) {
      v1::PartnerProfileUpdated* u =
          proposed(req)->mutable_partner_profile_updated();
      u->set_pitch(std::string(3900, 'p'));
      for (int k = 0; k < 15; ++k) u->add_specialties(std::string(3900, 's'));
    }
    grpc::ClientContext ctx;
    v1::AppendEventsResponse resp;
    grpc::Status st = stub->AppendEvents(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  Result exported = Ctl({"export", "--out", Path("big.jsonl")});
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_THAT(exported.err, HasSubstr("exported 1001 events"));
  EXPECT_EQ(Lines(crash::ReadFileOrEmpty(Path("big.jsonl"))).size(), 1001u);
  Result read = Ctl({"read"});
  ASSERT_EQ(read.code, 0) << read.err;
  EXPECT_EQ(Lines(read.out).size(), 1001u);
  Result stream = Ctl({"read", "partner-big"});
  ASSERT_EQ(stream.code, 0) << stream.err;
  EXPECT_EQ(Lines(stream.out).size(), 1001u);
}

TEST_F(LedgerctlTest, ExportOnlineAndOfflineAreIdentical) {
  LoadWorkedExample();
  Result online = Ctl({"export"});
  ASSERT_EQ(online.code, 0) << online.err;
  std::vector<std::string> lines = Lines(online.out);
  ASSERT_EQ(lines.size(), 18u);
  EXPECT_THAT(
      lines[0],
      StartsWith("{\"position\":1,\"stream\":\"partner-C\",\"revision\":0,"
                 "\"eventId\":\"c0ffee00-0000-4000-8000-000000000001\","
                 "\"type\":\"PartnerRegistered\",\"occurredAt\":"
                 "\"2026-01-15T12:00:00Z\",\"recordedAt\":\""));
  EXPECT_THAT(lines[0], HasSubstr(absl::StrCat("\"prevHash\":\"",
                                               std::string(64, '0'), "\"")));
  EXPECT_THAT(lines[7], HasSubstr("\"actor\":\"system\""));
  EXPECT_THAT(
      lines[7],
      HasSubstr("\"causationId\":\"c0ffee00-0000-4000-8000-000000000007\""));
  Result csv = Ctl({"export", "--csv", "--out", Path("log.csv")});
  ASSERT_EQ(csv.code, 0) << csv.err;
  std::vector<std::string> rows =
      Lines(crash::ReadFileOrEmpty(Path("log.csv")));
  ASSERT_EQ(rows.size(), 19u);
  EXPECT_EQ(rows[0],
            "position,stream,revision,event_id,type,occurred_at,recorded_at,"
            "actor,correlation_id,"
            "causation_id,payload_json,prev_hash,hash");
  StopServer();
  Result offline = Run({"export", "--data-dir", data_dir()});
  ASSERT_EQ(offline.code, 0) << offline.err;
  EXPECT_EQ(offline.out, online.out);
  Result offline_csv = Run({"export", "--csv", "--data-dir", data_dir()});
  EXPECT_EQ(Lines(offline_csv.out), rows);
  EXPECT_EQ(
      Run({"export", "--data-dir", data_dir(), "--out", Path("no/such/dir/x")})
          .code,
      6);
}

TEST_F(LedgerctlTest, ReplayReproducesPastFiguresFromTheLogAlone) {
  LoadWorkedExample();
  Result at8 = Ctl({"obligations", "--as-of-position=8"});
  Result st = Ctl({"statement", "--payer=F", "--payee=C", "--currency=EUR",
                   "--period=2027-02", "--as-of-position=13"});
  ASSERT_EQ(st.code, 0);
  StopServer();
  Result r = Run({"replay", "--data-dir", data_dir(), "--to-position=8"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith(absl::StrCat(
                         "Replayed 8 events (positions 1..8 of 18) from ",
                         data_dir(), " into a scratch store in ")));
  EXPECT_THAT(r.out, HasSubstr(at8.out));
  EXPECT_THAT(r.out, HasSubstr("The replayed figures equal the stored "
                               "projections as of position 8."));
  Result s = Run({"replay", "--data-dir", data_dir(), "--to-position=13",
                  "--statement=F,C,EUR,2027-02"});
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_THAT(s.out, HasSubstr(st.out));
  EXPECT_THAT(s.out, HasSubstr("F      C      EUR       commission  45,000.00  "
                               "3,000.00  20,000.00     0.00    22,000.00"));
  // By time: everything recorded so far is the whole log.
  Result all = Run(
      {"replay", "--data-dir", data_dir(), "--to-time=2999-01-01T00:00:00Z"});
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_THAT(all.out, HasSubstr(kObligationsTable));
  Result json = Run({"replay", "--json", "--data-dir", data_dir(),
                     "--to-position=18", "--currency=USD"});
  EXPECT_THAT(json.out, StartsWith(absl::StrCat(
                            "{\"dataDir\":\"", data_dir(),
                            "\",\"toPosition\":18,\"eventsReplayed\":18,")));
  EXPECT_THAT(json.out, HasSubstr("\"outstandingMinor\":\"4000000\""));
  EXPECT_THAT(json.out, HasSubstr("\"matchesStoredProjections\":true}"));
  Result empty = Run(
      {"replay", "--data-dir", data_dir(), "--to-time=2000-01-01T00:00:00Z"});
  EXPECT_EQ(empty.code, 0) << empty.err;
  EXPECT_THAT(empty.out, HasSubstr("(no obligations)"));
  EXPECT_EQ(Run({"replay", "--to-position=3"}).code, 2);
  EXPECT_EQ(Run({"replay", "--data-dir", data_dir()}).code, 2);
  EXPECT_EQ(Run({"replay", "--data-dir", data_dir(), "--to-position=3",
                 "--statement=F,C"})
                .code,
            2);
}

TEST_F(LedgerctlTest, RebuildReportsIdenticalProjections) {
  LoadWorkedExample();
  Result r = Ctl({"rebuild"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(
      r.out,
      StartsWith(
          "Rebuilt projections from 18 events (through position 18) in "));
  EXPECT_THAT(r.out, HasSubstr("identical to the live projections\n"));
  Result json = Ctl({"rebuild", "--json"});
  EXPECT_THAT(json.out, HasSubstr("\"identical\":true"));
}

TEST_F(LedgerctlTest, BackupTakesAnOnlineBackupAndVerifiesIt) {
  StopServer();
  StartServer({absl::StrCat("--backup_root=", Path("backups"))});
  LoadWorkedExample();
  Result made = Ctl({"backup", "nightly"});
  ASSERT_EQ(made.code, 0) << made.err;
  EXPECT_THAT(made.out, HasSubstr("Backup 1 in nightly: through position 18"));
  Result verified = Ctl({"backup", "nightly", "--verify"});
  ASSERT_EQ(verified.code, 0) << verified.err;
  EXPECT_THAT(
      verified.out,
      StartsWith("OK: backup nightly (id 1): hash chain verified "
                 "through position 18 (18 events checked); head hash "));
  // Offline, from the backup directory itself (no server): the same check
  // and the same wording; --digest must be the backup's head.
  Result saved = Ctl({"digest", absl::StrCat("--out=", Path("d.json"))});
  ASSERT_EQ(saved.code, 0) << saved.err;
  StopServer();
  Result offline =
      Run({"verify", absl::StrCat("--backup-dir=", Path("backups/nightly")),
           absl::StrCat("--digest=", Path("d.json"))});
  ASSERT_EQ(offline.code, 0) << offline.err;
  EXPECT_EQ(offline.out,
            absl::StrCat("OK: backup ", Path("backups/nightly"),
                         " (id 1): hash chain verified through position 18 "
                         "(18 events checked); the log extends the saved "
                         "digest at position 18\n"));
  Result missing = Run({"verify", "--backup-dir=" + Path("no-such-backup")});
  EXPECT_EQ(missing.code, 3) << missing.err;
  StartServer({absl::StrCat("--backup_root=", Path("backups"))});
  EXPECT_EQ(Ctl({"backup", "missing", "--verify"}).code, 3);
  EXPECT_EQ(Ctl({"backup"}).code, 2);
  // The digest the backup reports is the chain's digest at its position.
  Result digest = Ctl({"digest", "--at-position=18"});
  ASSERT_EQ(digest.code, 0) << digest.err;
  const size_t at = made.out.find("hash ");
  ASSERT_NE(at, std::string::npos);
  EXPECT_THAT(digest.out, HasSubstr(made.out.substr(at + 5, 64)));
}

TEST_F(LedgerctlTest, BearerTokenFromFileIsSentAndTheRoleIsChecked) {
  const std::string token = "cli-test-token";
  // sha256("cli-test-token"), as auth.conf stores it.
  WriteFile(Path("auth.conf"),
            absl::StrCat("token ", ToHex(DigestBytes(Sha256Of(token))),
                         " finance-cli finance\n"));
  WriteFile(Path("token"), token + "\n");
  StopServer();
  StartServer({absl::StrCat("--auth_config=", Path("auth.conf"))});
  Result denied = Ctl({"obligations"});
  EXPECT_EQ(denied.code, 5);
  EXPECT_THAT(denied.err, HasSubstr("UNAUTHENTICATED"));
  Result allowed =
      Ctl({"obligations", absl::StrCat("--token_file=", Path("token"))});
  EXPECT_EQ(allowed.code, 0) << allowed.err;
  EXPECT_THAT(allowed.out, HasSubstr("Obligations as of position 0"));
  // finance may not append: the role is checked, not just the token.
  Result append = Ctl(
      {"append", kWorkedExample, absl::StrCat("--token_file=", Path("token"))});
  EXPECT_EQ(append.code, 5);
  EXPECT_THAT(append.err, HasSubstr("PERMISSION_DENIED"));
  EXPECT_EQ(Ctl({"obligations", "--token_file=/nonexistent/token"}).code, 6);
}

// A data directory whose log has no stored tree (as one written before the
// tree existed; here by a ledgerd with the tree switched off) answers
// offline proofs read-only, computing the nodes from the records, and says
// so; the roots equal those of the tree ledgerd completes when it starts.
TEST_F(LedgerctlTest, OfflineProofsOnADirectoryWhoseTreeIsBehindTheLog) {
  StopServer();
  StartServer({"--bench_no_merkle_tree"});
  LoadWorkedExample();
  StopServer();
  const std::string behind = "--data-dir=" + CopyData("behind");
  Result ckpt = Run({"checkpoint", behind, "--out=" + Path("behind.ckpt")});
  ASSERT_EQ(ckpt.code, 0) << ckpt.err;
  EXPECT_THAT(ckpt.err,
              HasSubstr("note: the Merkle tree stored in " + Path("behind") +
                        " covers 0 of its 18 events"));
  EXPECT_THAT(ckpt.err, HasSubstr("Starting ledgerd once on the directory "
                                  "completes the stored tree."));
  Result old_ckpt =
      Run({"checkpoint", behind, "--size=7", "--out=" + Path("behind7.ckpt")});
  ASSERT_EQ(old_ckpt.code, 0) << old_ckpt.err;
  Result prove =
      Run({"prove", "8", "--checkpoint=" + Path("behind.ckpt"), behind});
  EXPECT_EQ(prove.code, 0) << prove.err;
  EXPECT_THAT(prove.out, HasSubstr("is in the tree of size 18"));
  Result consistent =
      Run({"consistency", Path("behind7.ckpt"), Path("behind.ckpt"), behind});
  EXPECT_EQ(consistent.code, 0) << consistent.err;
  // ledgerd completes the stored tree; the same roots come out of it.
  StartServer();
  Result online = Ctl({"checkpoint"});
  ASSERT_EQ(online.code, 0) << online.err;
  StopServer();
  Result completed = Run({"checkpoint", "--data-dir=" + data_dir()});
  ASSERT_EQ(completed.code, 0) << completed.err;
  EXPECT_THAT(completed.err, Not(HasSubstr("note:")));
  const std::vector<std::string> a = Lines(ckpt.out);
  const std::vector<std::string> b = Lines(completed.out);
  ASSERT_GE(a.size(), 3u);
  ASSERT_GE(b.size(), 3u);
  EXPECT_EQ(a[1], "18");
  EXPECT_EQ(a[2], b[2]);  // the base64 root
  EXPECT_EQ(Lines(online.out)[2], b[2]);
  EXPECT_EQ(
      Lines(old_ckpt.out)[2],
      Lines(
          Run({"checkpoint", "--size=7", "--data-dir=" + data_dir()}).out)[2]);
}

TEST_F(LedgerctlTest, ProofCommandsVerifyOnlineAndOffline) {
  Result keygen = Run({"keygen", "ledger.test/pl", "--out=" + Path("k")});
  ASSERT_EQ(keygen.code, 0) << keygen.err;
  EXPECT_THAT(keygen.out, HasSubstr("ledger.test/pl+"));
  StopServer();
  StartServer({"--signing_key=" + Path("k.key")});
  LoadWorkedExample();
  Result old_ckpt =
      Ctl({"checkpoint", "--size=7", "--out=" + Path("old.ckpt")});
  ASSERT_EQ(old_ckpt.code, 0) << old_ckpt.err;
  EXPECT_THAT(old_ckpt.out, StartsWith("ledger.test/pl\n7\n"));
  EXPECT_THAT(old_ckpt.out, HasSubstr("\xE2\x80\x94 ledger.test/pl "));
  ASSERT_EQ(Ctl({"checkpoint", "--out=" + Path("new.ckpt")}).code, 0);
  const std::string key = "--key=" + Path("k.pub");

  Result v = Ctl({"verify-checkpoint", Path("new.ckpt"), key});
  EXPECT_EQ(v.code, 0) << v.err;
  EXPECT_THAT(v.out, HasSubstr("OK: checkpoint ledger.test/pl size 18"));
  Result p = Ctl({"prove", "8", "--checkpoint=" + Path("new.ckpt"), key});
  EXPECT_EQ(p.code, 0) << p.err;
  EXPECT_THAT(p.out, HasSubstr("OK: event #8 (deal-D1@4 CommissionAccrued) is "
                               "in the tree of size 18"));
  Result c = Ctl({"consistency", Path("old.ckpt"), Path("new.ckpt"), key});
  EXPECT_EQ(c.code, 0) << c.err;
  EXPECT_THAT(c.out, HasSubstr("extends the tree of size 7"));
  EXPECT_EQ(Ctl({"consistency", Path("new.ckpt"), Path("old.ckpt")}).code, 2);
  // Beyond the checkpoint's size: the server refuses.
  EXPECT_EQ(Ctl({"prove", "9", "--checkpoint=" + Path("old.ckpt")}).code, 5);
  // An answer pinned to the signed checkpoint of its position.
  Result pinned = Ctl({"obligations", "--as-of-position=8",
                       "--with-proof=" + Path("answer.json")});
  ASSERT_EQ(pinned.code, 0) << pinned.err;
  const std::string answer = crash::ReadFileOrEmpty(Path("answer.json"));
  EXPECT_THAT(answer, HasSubstr("\"checkpoint\""));
  EXPECT_THAT(answer, HasSubstr("\"asOfRootHash\""));

  // Offline, on a stopped server's directory: the same answers, and verify
  // recomputes the tree as well as the chain.
  StopServer();
  const std::string dd = "--data-dir=" + data_dir();
  EXPECT_EQ(
      Run({"prove", "8", "--checkpoint=" + Path("new.ckpt"), key, dd}).code, 0);
  EXPECT_EQ(
      Run({"consistency", Path("old.ckpt"), Path("new.ckpt"), key, dd}).code,
      0);
  Result vo = Run({"verify-checkpoint", Path("old.ckpt"), key, dd});
  EXPECT_EQ(vo.code, 0) << vo.err;
  EXPECT_THAT(vo.out, HasSubstr("root matches the log copy"));
  Result offline = Run({"checkpoint", "--size=7", dd});
  EXPECT_EQ(offline.code, 0) << offline.err;
  EXPECT_THAT(offline.out, HasSubstr("(unsigned: "));
  // The pinned answer re-derived from the log copy alone.
  Result replay =
      Run({"replay", dd, "--checkpoint=" + Path("answer.json"), key});
  EXPECT_EQ(replay.code, 0) << replay.err;
  EXPECT_THAT(replay.out, HasSubstr("root at size 8 matches checkpoint "
                                    "ledger.test/pl (signature verified)"));
  EXPECT_THAT(replay.out, HasSubstr("30,000.00"));
  EXPECT_THAT(replay.out, HasSubstr("equals the saved answer"));
  std::string changed = answer;
  const size_t figure = changed.find("\"3000000\"");
  ASSERT_NE(figure, std::string::npos) << answer;
  changed.replace(figure, 9, "\"3100000\"");
  WriteFile(Path("changed.json"), changed);
  Result mismatch =
      Run({"replay", dd, "--checkpoint=" + Path("changed.json"), key});
  EXPECT_EQ(mismatch.code, 4);
  EXPECT_THAT(mismatch.out, HasSubstr("MISMATCH"));
  const std::string copy = CopyData("node-changed");
  {
    RawDb db(copy);
    db.PutMerkle(store::MerkleNodeKey(2, 1), std::string(32, 'x'));
  }
  Result verify = Run({"verify", "--data-dir", copy});
  EXPECT_EQ(verify.code, 4);
  EXPECT_THAT(verify.out, HasSubstr("Merkle node (2, 1) differs"));
  EXPECT_EQ(Run({"replay", "--data-dir=" + copy,
                 "--checkpoint=" + Path("answer.json")})
                .code,
            4);
}

TEST_F(LedgerctlTest, ProofCommandsRejectTampering) {
  ASSERT_EQ(Run({"keygen", "ledger.test/pl", "--out=" + Path("k")}).code, 0);
  ASSERT_EQ(
      Run({"keygen", "ledger.test/pl", "--out=" + Path("same-name")}).code, 0);
  ASSERT_EQ(Run({"keygen", "other.test/log", "--out=" + Path("other")}).code,
            0);
  StopServer();
  StartServer({"--signing_key=" + Path("k.key")});
  LoadWorkedExample();
  ASSERT_EQ(Ctl({"checkpoint", "--size=7", "--out=" + Path("old.ckpt")}).code,
            0);
  ASSERT_EQ(Ctl({"checkpoint", "--out=" + Path("new.ckpt")}).code, 0);
  const std::string key = "--key=" + Path("k.pub");
  const std::string note = crash::ReadFileOrEmpty(Path("new.ckpt"));

  // A changed signature.
  std::string bad_sig = note;
  const size_t sig = bad_sig.rfind(' ') + 12;
  bad_sig[sig] = bad_sig[sig] == 'A' ? 'B' : 'A';
  WriteFile(Path("bad-sig.ckpt"), bad_sig);
  Result r = Ctl({"verify-checkpoint", Path("bad-sig.ckpt"), key});
  EXPECT_EQ(r.code, 4);
  EXPECT_THAT(r.err, HasSubstr("does not verify"));
  // A changed tree size under the signature.
  std::string bigger = note;
  bigger.replace(bigger.find("\n18\n"), 4, "\n17\n");
  WriteFile(Path("bigger.ckpt"), bigger);
  EXPECT_EQ(
      Ctl({"prove", "3", "--checkpoint=" + Path("bigger.ckpt"), key}).code, 4);
  // Another key with the same name; a key of another origin.
  EXPECT_EQ(Ctl({"verify-checkpoint", Path("new.ckpt"),
                 "--key=" + Path("same-name.pub")})
                .code,
            4);
  r = Ctl({"consistency", Path("old.ckpt"), Path("new.ckpt"),
           "--key=" + Path("other.pub")});
  EXPECT_EQ(r.code, 4);
  EXPECT_THAT(r.err, HasSubstr("no signature by the key other.test/log"));

  // A changed leaf: event 5 rewritten (and re-hashed) in a copy.
  StopServer();
  const std::string leaf = CopyData("leaf-changed");
  {
    RawDb db(leaf);
    storage::v1::StoredEvent e = db.Read(5);
    e.set_actor("mallory");
    e.set_hash(store::ComputeHash(e));
    db.Write(e);
  }
  r = Run({"prove", "5", "--checkpoint=" + Path("new.ckpt"), key,
           "--data-dir=" + leaf});
  EXPECT_EQ(r.code, 4);
  EXPECT_THAT(r.err, HasSubstr("leads to a root other than"));

  // A rewritten history: event 3 changed and the tree recomputed from the
  // rewritten log, served and signed with the same key. Its checkpoint
  // verifies on its own, but it does not extend the old one.
  const std::string rewritten = CopyData("rewritten");
  {
    RawDb db(rewritten);
    storage::v1::StoredEvent e = db.Read(3);
    e.set_actor("mallory");
    e.set_hash(store::ComputeHash(e));
    db.Write(e);
    db.PutMerkle("", "", /*clear=*/true);
  }
  StartServer({"--signing_key=" + Path("k.key")}, rewritten);
  ASSERT_EQ(Ctl({"checkpoint", "--out=" + Path("forged.ckpt")}).code, 0);
  EXPECT_EQ(Ctl({"verify-checkpoint", Path("forged.ckpt"), key}).code, 0);
  r = Ctl({"consistency", Path("old.ckpt"), Path("forged.ckpt"), key});
  EXPECT_EQ(r.code, 4);
  EXPECT_THAT(r.err, HasSubstr("rewritten"));
  // The untouched suffix still proves itself against the forged head.
  EXPECT_EQ(
      Ctl({"prove", "18", "--checkpoint=" + Path("forged.ckpt"), key}).code, 0);
}

}  // namespace
}  // namespace partnerledger::cli

// Writes the seed corpus of the fuzz harnesses (tests/fuzz/corpus/) from
// the worked example (tools/ledgerctl/examples/worked-example.jsonl):
// stored records of a ledger holding it, its append requests, one query of
// each kind about it, a domain program walking a deal's life, and
// ledgerctl inputs. Run by hand after changing the wire or storage
// messages:  build/tests/fuzz/make_fuzz_corpus tests/fuzz/corpus
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "ledger/ledger_internal.h"
#include "partnerledger/clock.h"
#include "partnerledger/ledger.h"
#include "partnerledger/v1/query.pb.h"
#include "rocksdb/env.h"
#include "server/translate.h"
#include "store/store.h"
#include "util/strings.h"

namespace partnerledger {
namespace {

std::string Example() {
  std::ifstream f(PL_SOURCE_DIR
                  "/tools/ledgerctl/examples/worked-example.jsonl");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void Write(const std::filesystem::path& dir, const std::string& name,
           const std::string& bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

std::string Tagged(uint8_t tag, const std::string& rest) {
  return std::string(1, static_cast<char>(tag)) + rest;
}

int Main(const std::filesystem::path& out) {
  std::vector<std::string> lines;
  std::vector<v1::AppendEventsRequest> requests;
  const std::string example = Example();
  for (std::string_view line : Split(example, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    v1::AppendEventsRequest r;
    if (!google::protobuf::util::JsonStringToMessage(std::string(line), &r)
             .ok()) {
      std::cerr << "example line does not parse\n";
      return 1;
    }
    lines.emplace_back(line);
    requests.push_back(r);
  }

  // Records: what a ledger holding the example stores.
  std::unique_ptr<rocksdb::Env> env(
      rocksdb::NewMemEnv(rocksdb::Env::Default()));
  FakeClock clock(1'767'225'600'000'000);
  Options o;
  o.data_dir = "/corpus";
  o.env = env.get();
  o.clock = &clock;
  auto ledger = Ledger::Open(o);
  if (!ledger.ok()) return 1;
  for (const auto& r : requests) {
    auto req = server::FromWire(r);
    if (!req.ok() || !(*ledger)->AppendAndWait(*std::move(req)).ok()) return 1;
  }
  const uint64_t head = (*ledger)->head_position();
  for (uint64_t p : {uint64_t{1}, uint64_t{3}, uint64_t{8}, head}) {
    auto e = ledger::StoreOf(**ledger).ReadEvent(p);
    if (!e.ok() || !e->has_value()) return 1;
    const std::string bytes = (*e)->SerializeAsString();
    Write(out / "record_codec_fuzz", absl::StrCat("record-", p),
          std::string("\0\0", 2) + bytes);
    Write(out / "record_codec_fuzz", absl::StrCat("record-", p, "-sealed"),
          std::string("\1\3", 2) + bytes);
  }
  Write(out / "record_codec_fuzz", "raw-fields",
        std::string("\2\5", 2) + std::string(200, '\x41'));

  // Requests: appends, then one query of each kind (tags as in
  // request_fuzz.cc).
  for (size_t i :
       {size_t{0}, size_t{2}, size_t{4}, size_t{7}, requests.size() - 1}) {
    Write(out / "request_fuzz", absl::StrCat("append-", i),
          Tagged(0, requests[i].SerializeAsString()));
  }
  v1::AsOf at8;
  at8.set_position(8);
  v1::GetObligationsRequest ob;
  ob.set_partner_id("C");
  ob.set_currency("EUR");
  *ob.mutable_as_of() = at8;
  Write(out / "request_fuzz", "obligations", Tagged(1, ob.SerializeAsString()));
  v1::GetReferralBalanceRequest rb;
  rb.set_partner_a("C");
  rb.set_partner_b("F");
  Write(out / "request_fuzz", "referral", Tagged(2, rb.SerializeAsString()));
  v1::GetStatementRequest st;
  st.set_payer("F");
  st.set_payee("C");
  st.set_currency("EUR");
  st.set_period("2027-02");
  st.mutable_as_of()->mutable_recorded_at()->set_seconds(1'767'225'605);
  Write(out / "request_fuzz", "statement", Tagged(3, st.SerializeAsString()));
  v1::GetDealRequest deal;
  deal.set_deal_id("D1");
  Write(out / "request_fuzz", "deal", Tagged(4, deal.SerializeAsString()));
  v1::ListConflictsRequest lc;
  lc.set_agreement_id("CF");
  Write(out / "request_fuzz", "conflicts", Tagged(5, lc.SerializeAsString()));
  v1::GetSatisfactionRequest sat;
  sat.set_agreement_id("CF");
  Write(out / "request_fuzz", "satisfaction",
        Tagged(6, sat.SerializeAsString()));
  v1::GetPartnershipHealthRequest h;
  h.set_partner_a("C");
  h.set_partner_b("F");
  Write(out / "request_fuzz", "health", Tagged(7, h.SerializeAsString()));

  // Domain programs (domain_fuzz.cc's byte order): per step a day advance,
  // an op, the agreement and deal picks, then the op's own picks.
  const std::vector<uint8_t> partners = {0, 0, 0, 0, 0, 1,   // p0
                                         0, 0, 0, 0, 1, 1,   // p1
                                         0, 0, 0, 0, 2, 1};  // p2
  // a0 between p0 and p1 from day 100, no end, no schedules.
  const std::vector<uint8_t> agreement = {0, 1, 0, 0, 0, 1, 100, 1, 0};
  auto deal_life = [&](uint8_t prime_is_originator, uint8_t currency) {
    std::vector<uint8_t> p = partners;
    p.insert(p.end(), agreement.begin(), agreement.end());
    // d0: p0 originates, p1 provides, customer k0, SAAS, from day 100.
    for (uint8_t b : {0, 5, 0, 0, 0, 1, int(prime_is_originator), 0, 1,
                      int(currency), 100, 0, 0})
      p.push_back(b);
    for (uint8_t b : {0, 6, 0, 0, 0}) p.push_back(b);  // default margin
    for (uint8_t b : {0, 7, 0, 0, 1}) p.push_back(b);  // won
    // r0: 100001 minor units, service and booking on day 120.
    for (uint8_t b :
         {5, 8, 0, 0, 0, int(currency), 1, 0, 1, 0x86, 0xa0, 120, 120})
      p.push_back(b);
    // Reverse 100 of r0, then all that is left (too much: rejected).
    for (uint8_t b : {1, 9, 0, 0, 0, int(currency), 0, 99}) p.push_back(b);
    for (uint8_t b : {1, 9, 0, 0, 0, int(currency), 2, 0}) p.push_back(b);
    // Settle 50 from the payer to the payee, either way round.
    for (uint8_t b : {1, 12, 0, 0, 0, 0, 1, int(currency), 0, 49})
      p.push_back(b);
    for (uint8_t b : {1, 12, 0, 0, 1, 1, 0, int(currency), 0, 49})
      p.push_back(b);
    // A payment dispute on d0, resolved; a second originator on k0.
    for (uint8_t b : {1, 10, 0, 0, 0, 1, 0, 0}) p.push_back(b);
    for (uint8_t b : {1, 11, 0, 0, 0, 0}) p.push_back(b);
    for (uint8_t b : {0, 5, 0, 1, 2, 1, 1, 0, 1, int(currency), 100, 0, 0})
      p.push_back(b);
    // Close the period, then book into it.
    for (uint8_t b : {30, 13, 0, 0, 200}) p.push_back(b);
    for (uint8_t b : {0, 8, 0, 0, 1, int(currency), 0, 9, 120, 120})
      p.push_back(b);
    return std::string(p.begin(), p.end());
  };
  Write(out / "domain_fuzz", "pass-through-eur", deal_life(1, 0));
  Write(out / "domain_fuzz", "commission-eur", deal_life(0, 0));
  Write(out / "domain_fuzz", "commission-jpy", deal_life(0, 1));
  Write(out / "domain_fuzz", "pass-through-bhd", deal_life(1, 2));

  // ledgerctl input: the example as JSON lines, one request as a whole
  // document, one event for --stream, a digest file.
  Write(out / "ledgerctl_input_fuzz", "append-lines", Tagged(0, Example()));
  Write(out / "ledgerctl_input_fuzz", "append-document",
        Tagged(0, lines[3] + "\n"));
  std::string event_json;
  (void)google::protobuf::util::MessageToJsonString(requests[0].events(0),
                                                    &event_json);
  Write(out / "ledgerctl_input_fuzz", "event-line",
        Tagged(1, "# one event\n" + event_json + "\n"));
  Write(out / "ledgerctl_input_fuzz", "digest",
        Tagged(2, "{\"position\":16,\"hash\":\"" + std::string(64, 'a') +
                      "\"}\n"));
  Write(out / "ledgerctl_input_fuzz", "digest-string-position",
        Tagged(2, "{\"position\":\"16\",\"hash\":\"" + std::string(64, 'F') +
                      "\"}"));
  return 0;
}

}  // namespace
}  // namespace partnerledger

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_fuzz_corpus OUT_DIR\n";
    return 2;
  }
  return partnerledger::Main(argv[1]);
}

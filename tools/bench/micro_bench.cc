// micro-bench: the pure work each append costs the single writer thread, so
// its share of the per-event budget (DESIGN §7) is visible apart from I/O,
// and the committer's CPU for one commit group with and without the Merkle
// tree (BM_CommitGroup).
//
//   micro-bench [--benchmark_filter=REGEX] [--benchmark_repetitions=N]
//
// The records are 256-byte payloads, the size ledger-bench appends.
#include <openssl/evp.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "domain/money.h"
#include "merkle/merkle.h"
#include "partnerledger/v1/events.pb.h"
#include "store/merkle_tree.h"
#include "store/record_codec.h"
#include "store/store.h"
#include "util/sha256.h"
#include "util/uuid.h"

namespace partnerledger {
namespace {

constexpr size_t kRecordBytes = 256;

std::string Bytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (char& c : s) {
    seed = seed * 1664525u + 1013904223u;
    c = static_cast<char>(seed >> 24);
  }
  return s;
}

// A PartnerRegistered of kRecordBytes serialized payload bytes.
std::string Payload() {
  v1::EventPayload p;
  auto* r = p.mutable_partner_registered();
  r->set_legal_name("Bench Partner B.V.");
  r->set_country("NL");
  r->set_pitch(std::string(kRecordBytes, 'x'));
  const size_t over = p.ByteSizeLong() - kRecordBytes;
  r->set_pitch(std::string(kRecordBytes - over, 'x'));
  return p.SerializeAsString();
}

// A valid stored record: its hash matches, so Encode/Decode accept it.
store::StoredEvent Record() {
  store::StoredEvent e;
  e.set_position(1'000'000);
  e.set_stream("partner-3f2a9c1e-17-123456");
  e.set_revision(0);
  e.set_event_id(Bytes(16, 7));
  e.set_type("PartnerRegistered");
  e.set_occurred_at_us(1'700'000'000'000'000);
  e.set_recorded_at_us(1'700'000'000'000'123);
  e.set_actor("local");
  e.set_correlation_id("");
  e.set_causation_id("");
  e.set_payload(Payload());
  e.set_schema_version(1);
  e.set_prev_hash(Bytes(kSha256Bytes, 11));
  e.set_hash(store::ComputeHash(e));
  return e;
}

void BM_Sha256_256B(benchmark::State& state) {
  const std::string data = Bytes(kRecordBytes, 3);
  for (auto _ : state) {
    benchmark::DoNotOptimize(Sha256Of(data));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kRecordBytes));
}
BENCHMARK(BM_Sha256_256B);

// Reference for BM_Sha256_256B: the same digest with the algorithm fetched
// once and one context reused. The gap is what util/Sha256 pays per hash
// for EVP_MD_CTX_new and OpenSSL 3's implicit fetch inside
// EVP_DigestInit_ex(EVP_sha256()).
void BM_Sha256_256B_FetchedOnce(benchmark::State& state) {
  const std::string data = Bytes(kRecordBytes, 3);
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  for (auto _ : state) {
    EVP_DigestInit_ex(ctx, md, nullptr);
    EVP_DigestUpdate(ctx, data.data(), data.size());
    EVP_DigestFinal_ex(ctx, out, &n);
    benchmark::DoNotOptimize(out);
  }
  EVP_MD_CTX_free(ctx);
  EVP_MD_free(md);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kRecordBytes));
}
BENCHMARK(BM_Sha256_256B_FetchedOnce);

void BM_CanonicalBytes(benchmark::State& state) {
  const store::StoredEvent e = Record();
  for (auto _ : state) {
    benchmark::DoNotOptimize(store::CanonicalBytes(e));
  }
}
BENCHMARK(BM_CanonicalBytes);

// CanonicalBytes + SHA-256: what chaining one event costs.
void BM_ComputeHash(benchmark::State& state) {
  const store::StoredEvent e = Record();
  for (auto _ : state) {
    benchmark::DoNotOptimize(store::ComputeHash(e));
  }
}
BENCHMARK(BM_ComputeHash);

void BM_EncodeRecord(benchmark::State& state) {
  const store::StoredEvent e = Record();
  for (auto _ : state) {
    auto bytes = store::EncodeRecord(e);
    benchmark::DoNotOptimize(bytes);
  }
}
BENCHMARK(BM_EncodeRecord);

void BM_DecodeRecord(benchmark::State& state) {
  const std::string bytes = *store::EncodeRecord(Record());
  for (auto _ : state) {
    auto e = store::DecodeRecord(bytes);
    benchmark::DoNotOptimize(e);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(bytes.size()));
}
BENCHMARK(BM_DecodeRecord);

void BM_EncodeDecodeRoundTrip(benchmark::State& state) {
  const store::StoredEvent e = Record();
  for (auto _ : state) {
    auto bytes = store::EncodeRecord(e);
    auto back = store::DecodeRecord(*bytes);
    benchmark::DoNotOptimize(back);
  }
}
BENCHMARK(BM_EncodeDecodeRoundTrip);

// Serialize alone, without the validation (and its hash) EncodeRecord adds.
void BM_SerializeStoredEvent(benchmark::State& state) {
  const store::StoredEvent e = Record();
  std::string out;
  for (auto _ : state) {
    out.clear();
    e.SerializeToString(&out);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_SerializeStoredEvent);

void BM_ParseUuid(benchmark::State& state) {
  const std::string text = "3f2a9c1e-5b7d-4e21-9a0c-7d1e2f3a4b5c";
  for (auto _ : state) {
    benchmark::DoNotOptimize(ParseUuid(text));
  }
}
BENCHMARK(BM_ParseUuid);

void BM_Commission(benchmark::State& state) {
  int64_t amount = 123'456'789;
  for (auto _ : state) {
    auto c = domain::Commission(amount, 2500);
    benchmark::DoNotOptimize(c);
    amount += 7;
  }
}
BENCHMARK(BM_Commission);

void BM_MulDivHalfEven(benchmark::State& state) {
  int64_t amount = 999'999'999'999'999;
  for (auto _ : state) {
    auto v = domain::MulDivHalfEven(amount, 3333, 10'000);
    benchmark::DoNotOptimize(v);
    amount -= 13;
  }
}
BENCHMARK(BM_MulDivHalfEven);

// One Merkle node: SHA-256 over 65 bytes, on the per-thread context.
void BM_MerkleNodeHash(benchmark::State& state) {
  const std::string left = Bytes(kSha256Bytes, 5);
  const std::string right = Bytes(kSha256Bytes, 6);
  for (auto _ : state) {
    benchmark::DoNotOptimize(merkle::NodeHash(left, right));
  }
}
BENCHMARK(BM_MerkleNodeHash);

// What the writer thread does per record: its chain hash, and with the tree
// its leaf hash, from one encoding of the canonical bytes.
void BM_HashRecord(benchmark::State& state) {
  store::StoredEvent e = Record();
  std::string leaves;
  const bool tree = state.range(0) != 0;
  for (auto _ : state) {
    leaves.clear();
    store::HashRecord(&e, tree ? &leaves : nullptr);
    benchmark::DoNotOptimize(leaves);
  }
}
BENCHMARK(BM_HashRecord)->ArgName("tree")->Arg(0)->Arg(1);

// The committer's CPU for one commit group of 1,600 events (16 appends of
// 100, as ledger-bench --clients=16 --batch=100 makes them), without the
// fsync: each record checked and put with its stream index, stream head and
// event id, the head, and with the tree the nodes the group completes, in
// one WriteBatch written to a store with sync off. Arg mode: 0 without the
// tree; 1 with it, leaves hashed beforehand (on the writer thread, as the
// ledger does); 2 with it, leaves hashed here. The store grows across
// iterations as a ledger's does. Items are events; the time is this
// thread's CPU.
void BM_CommitGroup(benchmark::State& state) {
  constexpr uint64_t kGroupEvents = 1600;
  const int mode = static_cast<int>(state.range(0));
  char tmpl[] = "/tmp/micro-bench-commit-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  const std::string dir = tmpl;
  {
    store::StoreOptions o;
    o.dir = dir;
    o.sync = false;
    auto opened = store::Store::Open(o);
    if (!opened.ok()) {
      state.SkipWithError(std::string(opened.status().message()).c_str());
      return;
    }
    std::unique_ptr<store::Store> s = std::move(*opened);
    std::unique_ptr<store::TreeWriter> tree;
    if (mode != 0) tree = *store::TreeWriter::Open(s.get(), 0);
    const store::StoredEvent proto = Record();
    std::string prev(kSha256Bytes, '\0');
    uint64_t position = 0;
    uint32_t seed = 1;
    for (auto _ : state) {
      state.PauseTiming();
      std::vector<store::StoredEvent> records;
      std::string leaves;
      records.reserve(kGroupEvents);
      for (uint64_t i = 0; i < kGroupEvents; ++i) {
        store::StoredEvent e = proto;
        e.set_position(++position);
        e.set_stream(absl::StrCat("partner-", position % 5000));
        e.set_revision(position / 5000);
        e.set_event_id(Bytes(16, ++seed));
        e.set_prev_hash(prev);
        store::HashRecord(&e, mode == 1 ? &leaves : nullptr);
        prev = e.hash();
        records.push_back(std::move(e));
      }
      state.ResumeTiming();
      store::Batch b = s->NewBatch();
      for (const store::StoredEvent& e : records) {
        if (!b.PutEvent(e).ok()) std::abort();
        b.PutStreamIndex(e.stream(), e.revision(), e.position());
        b.PutStreamHead(e.stream(), e.revision());
        b.PutEventId(e.event_id(), {e.position(), prev});
      }
      if (mode == 1) tree->Stage(records, leaves, &b);
      if (mode == 2) tree->Stage(records, &b);
      store::Head head;
      head.set_position(position);
      head.set_hash(prev);
      b.PutHead(head);
      if (!s->Commit(&b).ok()) std::abort();
      if (tree != nullptr) tree->Adopt();
    }
    state.SetItemsProcessed(static_cast<int64_t>(position));
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_CommitGroup)
    ->ArgName("mode")
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->MinTime(2.0)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace partnerledger

BENCHMARK_MAIN();

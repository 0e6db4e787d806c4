#include "store/wal_tail.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <optional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "util/status_macros.h"

namespace partnerledger::store {
namespace {

// RocksDB's log format (db/log_format.h): 32 KiB blocks of fragments, each
// a 7-byte header (masked CRC32C of type and payload, little-endian; 2-byte
// length; 1-byte type) and its payload; a block's last < 7 bytes are zero
// padding. Our WALs are neither recycled nor compressed, so only the legacy
// types occur.
constexpr uint64_t kBlockBytes = 32768;
constexpr uint64_t kHeaderBytes = 7;
enum FragmentType : uint8_t {
  kZeroType = 0,
  kFullType = 1,
  kFirstType = 2,
  kMiddleType = 3,
  kLastType = 4,
};

const std::array<uint32_t, 256>& Crc32cTable() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

uint32_t Crc32c(const uint8_t* p, size_t n) {
  const std::array<uint32_t, 256>& t = Crc32cTable();
  uint32_t c = ~0u;
  for (size_t i = 0; i < n; ++i) c = t[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return ~c;
}

uint32_t Masked(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

uint32_t Fixed32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 |
         uint32_t{p[3]} << 24;
}

// The fragment at `pos`, if it is whole and its checksum matches.
std::optional<uint8_t> ValidFragment(const std::vector<uint8_t>& f,
                                     uint64_t pos, uint64_t* length) {
  const uint64_t left = kBlockBytes - pos % kBlockBytes;
  if (left < kHeaderBytes || f.size() - pos < kHeaderBytes) return std::nullopt;
  const uint8_t* h = f.data() + pos;
  const uint64_t n = uint64_t{h[4]} | uint64_t{h[5]} << 8;
  const uint8_t type = h[6];
  if (type < kFullType || type > kLastType) return std::nullopt;
  if (kHeaderBytes + n > left || pos + kHeaderBytes + n > f.size()) {
    return std::nullopt;
  }
  // The CRC covers the type byte and the payload, which follow each other.
  if (Masked(Crc32c(h + 6, 1 + n)) != Fixed32(h)) return std::nullopt;
  *length = n;
  return type;
}

struct Scan {
  bool clean = true;  // no bad fragment
  uint64_t bad = 0;   // where the first bad fragment starts
  uint64_t cut = 0;   // the start of the record it belongs to
  std::string reason;
};

// Walks the fragments of one WAL from its start.
Scan ScanFile(const std::vector<uint8_t>& f) {
  Scan s;
  uint64_t pos = 0;
  uint64_t record_start = 0;
  bool in_record = false;  // after a First or Middle fragment
  while (pos < f.size()) {
    const uint64_t left = kBlockBytes - pos % kBlockBytes;
    if (left < kHeaderBytes) {  // block trailer
      pos += left;
      continue;
    }
    // A short header at the very end: a write cut short, which RocksDB
    // already tolerates (as a payload running past the end of the file).
    if (f.size() - pos < kHeaderBytes) return s;
    const uint8_t* h = f.data() + pos;
    const uint64_t n = uint64_t{h[4]} | uint64_t{h[5]} << 8;
    if (h[6] == kZeroType && n == 0) {
      if (in_record) {
        // Zeros where a record's next fragment belongs: its first fragment
        // reached the disk, the rest never did (a record that crosses a
        // block boundary, torn there). RocksDB refuses this ("error in
        // middle of record"); it is torn like any other last record.
        s.clean = false;
        s.bad = pos;
        s.cut = record_start;
        s.reason = "zeroed fragment inside a record";
        return s;
      }
      // Zeros between records: preallocated space, or a zeroed tail.
      // RocksDB skips them.
      pos += left;
      continue;
    }
    if (h[6] >= kFullType && h[6] <= kLastType && kHeaderBytes + n <= left &&
        pos + kHeaderBytes + n > f.size()) {
      return s;  // payload cut short by the end of the file: tolerated
    }
    uint64_t length = 0;
    std::optional<uint8_t> type = ValidFragment(f, pos, &length);
    if (!type.has_value()) {
      s.clean = false;
      s.bad = pos;
      s.cut = in_record ? record_start : pos;
      s.reason = h[6] >= kFullType && h[6] <= kLastType
                     ? "checksum mismatch"
                     : absl::StrCat("bad fragment type ", int{h[6]});
      return s;
    }
    if (*type == kFullType || *type == kFirstType) record_start = pos;
    in_record = *type == kFirstType || *type == kMiddleType;
    pos += kHeaderBytes + length;
  }
  return s;
}

// The first offset >= `from` where a valid Full or First fragment starts
// (a record that begins after the damage), if any. Fragments start at every
// block boundary, so each later block is parsed from its start; within the
// damaged block every offset is tried.
std::optional<uint64_t> ValidRecordAfter(const std::vector<uint8_t>& f,
                                         uint64_t from) {
  uint64_t length = 0;
  const uint64_t block_end =
      std::min<uint64_t>(f.size(), (from / kBlockBytes + 1) * kBlockBytes);
  for (uint64_t q = from; q < block_end; ++q) {
    std::optional<uint8_t> t = ValidFragment(f, q, &length);
    if (t == kFullType || t == kFirstType) return q;
  }
  for (uint64_t block = block_end; block < f.size(); block += kBlockBytes) {
    const uint64_t end = std::min<uint64_t>(f.size(), block + kBlockBytes);
    uint64_t q = block;
    while (q < end) {
      std::optional<uint8_t> t = ValidFragment(f, q, &length);
      if (!t.has_value()) {
        // Lost the thread inside this block: try every offset.
        for (uint64_t r = q + 1; r < end; ++r) {
          std::optional<uint8_t> u = ValidFragment(f, r, &length);
          if (u == kFullType || u == kFirstType) return r;
        }
        break;
      }
      if (t == kFullType || t == kFirstType) return q;
      q += kHeaderBytes + length;
    }
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<uint8_t>> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::UnavailableError(absl::StrCat("cannot read ", path));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (in.bad())
    return absl::UnavailableError(absl::StrCat("cannot read ", path));
  return bytes;
}

// WAL files of `dir`, oldest first (RocksDB numbers files increasingly).
std::vector<std::filesystem::path> WalFiles(const std::string& dir) {
  std::vector<std::pair<uint64_t, std::filesystem::path>> found;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    uint64_t number = 0;
    if (absl::EndsWith(name, ".log") &&
        absl::SimpleAtoi(name.substr(0, name.size() - 4), &number)) {
      found.emplace_back(number, e.path());
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<std::filesystem::path> out;
  for (auto& [n, p] : found) out.push_back(std::move(p));
  return out;
}

absl::Status SaveAndCut(const std::string& path, const std::vector<uint8_t>& f,
                        uint64_t cut, const std::string& saved_as) {
  {
    const int fd = ::open(saved_as.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
      return absl::UnavailableError(absl::StrCat("cannot create ", saved_as));
    const ssize_t n = ::write(fd, f.data() + cut, f.size() - cut);
    const bool ok =
        n == static_cast<ssize_t>(f.size() - cut) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok)
      return absl::UnavailableError(absl::StrCat("cannot write ", saved_as));
  }
  const int fd = ::open(path.c_str(), O_WRONLY);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot open ", path));
  const bool ok =
      ::ftruncate(fd, static_cast<off_t>(cut)) == 0 && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return absl::UnavailableError(absl::StrCat("cannot cut ", path));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<WalTailRepair> RepairTornWalTail(const std::string& dir) {
  const std::vector<std::filesystem::path> wals = WalFiles(dir);
  for (size_t i = 0; i < wals.size(); ++i) {
    ASSIGN_OR_RETURN(std::vector<uint8_t> f, ReadAll(wals[i].string()));
    const Scan s = ScanFile(f);
    if (s.clean) continue;
    const std::string where = absl::StrCat(
        wals[i].filename().string(), " offset ", s.bad, " (", s.reason, ")");
    // Nothing valid may follow: not in this file, not in a later one.
    if (std::optional<uint64_t> q = ValidRecordAfter(f, s.bad + 1)) {
      return absl::DataLossError(
          absl::StrCat("write-ahead log damaged in the middle: ", where,
                       "; a valid record follows at offset ", *q));
    }
    for (size_t j = i + 1; j < wals.size(); ++j) {
      ASSIGN_OR_RETURN(std::vector<uint8_t> later, ReadAll(wals[j].string()));
      if (std::optional<uint64_t> q = ValidRecordAfter(later, 0)) {
        return absl::DataLossError(
            absl::StrCat("write-ahead log damaged in the middle: ", where,
                         "; a valid record follows in ",
                         wals[j].filename().string(), " at offset ", *q));
      }
    }
    WalTailRepair r;
    r.wal_file = wals[i].string();
    r.offset = s.cut;
    r.dropped_bytes = f.size() - s.cut;
    r.reason = s.reason;
    r.saved_as = (std::filesystem::path(dir) /
                  absl::StrCat("torn-wal-tail-", wals[i].filename().string(),
                               "-", s.cut))
                     .string();
    RETURN_IF_ERROR(SaveAndCut(r.wal_file, f, s.cut, r.saved_as));
    return r;
  }
  return absl::DataLossError(
      "no torn record found in the write-ahead log: the corruption is "
      "elsewhere");
}

}  // namespace partnerledger::store

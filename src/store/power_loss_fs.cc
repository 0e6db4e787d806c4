#include "store/power_loss_fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "util/status_macros.h"

namespace partnerledger::store {
namespace {

using rocksdb::FileOptions;
using rocksdb::FSWritableFile;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

// Journal records, one per line, fields separated by tabs:
//   W <path>            file opened for writing at length 0 (unsynced)
//   S <length> <path>   first <length> bytes are durable
//   R <src> <dst>       rename
//   D <path>            delete
class Journal {
 public:
  explicit Journal(const std::string& path)
      : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644)) {}
  ~Journal() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }

  void Write(const std::string& line) {
    absl::MutexLock lock(&mu_);
    const std::string rec = line + "\n";
    // One write(2) per record with O_APPEND: records never interleave.
    [[maybe_unused]] ssize_t n = ::write(fd_, rec.data(), rec.size());
  }

 private:
  absl::Mutex mu_;
  // Writes are serialized by mu_ (one record per write(2)).
  const int fd_;
};

class JournaledFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  JournaledFile(std::unique_ptr<FSWritableFile>&& f, std::string path,
                uint64_t size, std::shared_ptr<Journal> journal)
      : FSWritableFileOwnerWrapper(std::move(f)),
        path_(std::move(path)),
        size_(size),
        journal_(std::move(journal)) {}

  IOStatus Append(const Slice& data, const IOOptions& o,
                  IODebugContext* dbg) override {
    size_ += data.size();
    return target()->Append(data, o, dbg);
  }
  IOStatus Append(const Slice& data, const IOOptions& o,
                  const rocksdb::DataVerificationInfo& v,
                  IODebugContext* dbg) override {
    size_ += data.size();
    return target()->Append(data, o, v, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset,
                            const IOOptions& o, IODebugContext* dbg) override {
    size_ = std::max<uint64_t>(size_, offset + data.size());
    return target()->PositionedAppend(data, offset, o, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset,
                            const IOOptions& o,
                            const rocksdb::DataVerificationInfo& v,
                            IODebugContext* dbg) override {
    size_ = std::max<uint64_t>(size_, offset + data.size());
    return target()->PositionedAppend(data, offset, o, v, dbg);
  }
  IOStatus Truncate(uint64_t size, const IOOptions& o,
                    IODebugContext* dbg) override {
    size_ = size;
    return target()->Truncate(size, o, dbg);
  }
  IOStatus Sync(const IOOptions& o, IODebugContext* dbg) override {
    IOStatus s = target()->Sync(o, dbg);
    if (s.ok()) Synced();
    return s;
  }
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    IOStatus s = target()->Fsync(o, dbg);
    if (s.ok()) Synced();
    return s;
  }

 private:
  void Synced() { journal_->Write(absl::StrCat("S\t", size_, "\t", path_)); }

  const std::string path_;
  uint64_t size_;
  std::shared_ptr<Journal> journal_;
};

class JournalFs final : public rocksdb::FileSystemWrapper {
 public:
  JournalFs(std::shared_ptr<rocksdb::FileSystem> base,
            std::shared_ptr<Journal> journal)
      : FileSystemWrapper(std::move(base)), journal_(std::move(journal)) {}

  const char* Name() const override { return "PowerLossJournalFs"; }

  IOStatus NewWritableFile(const std::string& f, const FileOptions& o,
                           std::unique_ptr<FSWritableFile>* r,
                           IODebugContext* dbg) override {
    IOStatus s = target()->NewWritableFile(f, o, r, dbg);
    if (s.ok()) Wrap(f, 0, r);
    return s;
  }
  IOStatus ReopenWritableFile(const std::string& f, const FileOptions& o,
                              std::unique_ptr<FSWritableFile>* r,
                              IODebugContext* dbg) override {
    uint64_t size = 0;
    IOStatus s = target()->GetFileSize(f, IOOptions(), &size, dbg);
    if (!s.ok()) size = 0;
    s = target()->ReopenWritableFile(f, o, r, dbg);
    if (s.ok()) {
      // What existed before is treated as durable.
      journal_->Write(absl::StrCat("S\t", size, "\t", f));
      *r = std::make_unique<JournaledFile>(std::move(*r), f, size, journal_);
    }
    return s;
  }
  IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                             const FileOptions& o,
                             std::unique_ptr<FSWritableFile>* r,
                             IODebugContext* dbg) override {
    IOStatus s = target()->ReuseWritableFile(f, old, o, r, dbg);
    if (s.ok()) {
      journal_->Write(absl::StrCat("D\t", old));
      Wrap(f, 0, r);
    }
    return s;
  }
  IOStatus RenameFile(const std::string& src, const std::string& dst,
                      const IOOptions& o, IODebugContext* dbg) override {
    IOStatus s = target()->RenameFile(src, dst, o, dbg);
    if (s.ok()) journal_->Write(absl::StrCat("R\t", src, "\t", dst));
    return s;
  }
  IOStatus DeleteFile(const std::string& f, const IOOptions& o,
                      IODebugContext* dbg) override {
    IOStatus s = target()->DeleteFile(f, o, dbg);
    if (s.ok()) journal_->Write(absl::StrCat("D\t", f));
    return s;
  }

 private:
  void Wrap(const std::string& f, uint64_t size,
            std::unique_ptr<FSWritableFile>* r) {
    journal_->Write(absl::StrCat("W\t", f));
    *r = std::make_unique<JournaledFile>(std::move(*r), f, size, journal_);
  }

  std::shared_ptr<Journal> journal_;
};

}  // namespace

std::shared_ptr<rocksdb::FileSystem> NewPowerLossJournalFs(
    std::shared_ptr<rocksdb::FileSystem> base,
    const std::string& journal_path) {
  auto journal = std::make_shared<Journal>(journal_path);
  if (!journal->ok()) return nullptr;
  return std::make_shared<JournalFs>(std::move(base), std::move(journal));
}

absl::Status SimulatePowerLoss(const std::string& journal_path,
                               uint64_t* dropped_bytes) {
  return SimulatePowerLoss(journal_path, PowerLossMode::kTruncate,
                           dropped_bytes);
}

namespace {

constexpr uint64_t kSectorBytes = 512;

// Overwrites [from, to) of `path` with zeros or garbage.
absl::Status Tear(const std::string& path, uint64_t from, uint64_t to,
                  PowerLossMode mode) {
  std::string bytes(to - from, '\0');
  if (mode == PowerLossMode::kTornSector) {
    uint32_t x = 0x9e3779b9u;
    for (char& c : bytes) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      c = static_cast<char>(x);
    }
  }
  const int fd = ::open(path.c_str(), O_WRONLY);
  if (fd < 0) return absl::InternalError("open " + path);
  const ssize_t n =
      ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(from));
  ::close(fd);
  if (n != static_cast<ssize_t>(bytes.size())) {
    return absl::InternalError("pwrite " + path);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SimulatePowerLoss(const std::string& journal_path,
                               PowerLossMode mode, uint64_t* dropped_bytes) {
  std::ifstream in(journal_path);
  if (!in) return absl::NotFoundError("no journal at " + journal_path);
  std::map<std::string, uint64_t> durable;  // path -> synced length
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f[0] == "W" && f.size() == 2) {
      durable[f[1]] = 0;
    } else if (f[0] == "S" && f.size() == 3) {
      uint64_t n = 0;
      if (!absl::SimpleAtoi(f[1], &n)) {
        return absl::DataLossError("bad journal line: " + line);
      }
      durable[f[2]] = n;
    } else if (f[0] == "R" && f.size() == 3) {
      auto it = durable.find(f[1]);
      if (it != durable.end()) {
        durable[f[2]] = it->second;
        durable.erase(f[1]);
      } else {
        // An untracked (already durable) file replaced a tracked one.
        durable.erase(f[2]);
      }
    } else if (f[0] == "D" && f.size() == 2) {
      durable.erase(f[1]);
    } else if (!line.empty()) {
      // A torn last record: the process died mid-write(2). Ignore it; the
      // sync it reported never returned to the caller anyway.
      continue;
    }
  }
  uint64_t dropped = 0;
  for (const auto& [path, len] : durable) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) continue;
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    if (size > len && mode != PowerLossMode::kTruncate &&
        absl::EndsWith(path, ".log")) {
      // The sector the unsynced bytes start in survives.
      const uint64_t kept =
          std::min(size, (len / kSectorBytes + 1) * kSectorBytes);
      if (kept < size) {
        RETURN_IF_ERROR(Tear(path, kept, size, mode));
      }
      dropped += size - len;
      continue;
    }
    if (size > len) {
      if (::truncate(path.c_str(), static_cast<off_t>(len)) != 0) {
        return absl::InternalError("truncate " + path);
      }
      dropped += size - len;
    }
  }
  if (dropped_bytes != nullptr) *dropped_bytes = dropped;
  // Start the next round's journal empty.
  if (::truncate(journal_path.c_str(), 0) != 0) {
    return absl::InternalError("truncate journal");
  }
  return absl::OkStatus();
}

}  // namespace partnerledger::store

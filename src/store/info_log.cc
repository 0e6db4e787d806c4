#include "store/info_log.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace partnerledger::store {
namespace {

// A line longer than this is cut (RocksDB's stats dumps are a few KiB).
constexpr size_t kLineBytesMax = 64 << 10;

std::atomic<uint64_t> g_dropped_lines{0};

class FdLogger final : public rocksdb::Logger {
 public:
  explicit FdLogger(int fd)
      : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL), fd_(fd) {}
  ~FdLogger() override {
    if (fd_ >= 0) ::close(fd_);
  }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    if (fd_ < 0) {
      g_dropped_lines.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    std::string line = Prefix();
    char buf[1024];
    va_list copy;
    va_copy(copy, ap);
    const int n = std::vsnprintf(buf, sizeof buf, format, copy);
    va_end(copy);
    if (n < 0) return;
    if (static_cast<size_t>(n) < sizeof buf) {
      line.append(buf, static_cast<size_t>(n));
    } else {
      std::string big(std::min(static_cast<size_t>(n), kLineBytesMax) + 1,
                      '\0');
      std::vsnprintf(big.data(), big.size(), format, ap);
      big.pop_back();
      line += big;
    }
    if (line.empty() || line.back() != '\n') line.push_back('\n');
    // One write(2) per line on an O_APPEND descriptor: lines from several
    // threads never interleave. A short or failed write (ENOSPC, EIO) drops
    // the line; nothing is retried and nothing aborts.
    const ssize_t w = ::write(fd_, line.data(), line.size());
    if (w != static_cast<ssize_t>(line.size())) {
      g_dropped_lines.fetch_add(1, std::memory_order_relaxed);
    }
  }

 private:
  // "2026/11/29-20:24:08.673402 12472 ", as RocksDB's LOG lines start.
  static std::string Prefix() {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm t;
    localtime_r(&ts.tv_sec, &t);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d/%02d/%02d-%02d:%02d:%02d.%06ld %ld ",
                  t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour,
                  t.tm_min, t.tm_sec, ts.tv_nsec / 1000,
                  static_cast<long>(::syscall(SYS_gettid)));
    return buf;
  }

  const int fd_;
};

class DiscardingLogger final : public rocksdb::Logger {
 public:
  DiscardingLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::HEADER_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

// Moves LOG aside and keeps the newest kInfoLogFilesKept old ones.
void RotateOldLogs(const std::filesystem::path& dir) {
  std::error_code ec;
  const std::filesystem::path log = dir / "LOG";
  if (std::filesystem::exists(log, ec)) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    const int64_t micros = int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000;
    std::filesystem::rename(log, dir / absl::StrCat("LOG.old.", micros), ec);
  }
  std::vector<std::string> old;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, "LOG.old.")) old.push_back(name);
  }
  // Same-length decimal suffixes sort by time.
  std::sort(old.begin(), old.end());
  for (size_t i = 0; i + kInfoLogFilesKept < old.size(); ++i) {
    std::filesystem::remove(dir / old[i], ec);
  }
}

}  // namespace

std::shared_ptr<rocksdb::Logger> NewDataDirInfoLog(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  RotateOldLogs(dir);
  const std::string path = (std::filesystem::path(dir) / "LOG").string();
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  return std::make_shared<FdLogger>(fd);
}

std::shared_ptr<rocksdb::Logger> NewDiscardingInfoLog() {
  return std::make_shared<DiscardingLogger>();
}

uint64_t InfoLogDroppedLines() {
  return g_dropped_lines.load(std::memory_order_relaxed);
}

}  // namespace partnerledger::store

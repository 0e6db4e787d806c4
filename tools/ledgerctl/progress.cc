#include "ledgerctl/progress.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ledgerctl/format.h"

namespace partnerledger::ctl {
namespace {

constexpr int kBarWidth = 24;
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

std::string Duration(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600)
    return absl::StrFormat("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  return absl::StrFormat("%d:%02d", s / 60, s % 60);
}

std::string Rate(double per_second) {
  if (per_second >= 1e6) return absl::StrFormat("%.1fM/s", per_second / 1e6);
  if (per_second >= 1e3) return absl::StrFormat("%.1fk/s", per_second / 1e3);
  return absl::StrFormat("%.0f/s", per_second);
}

}  // namespace

Progress::Progress(std::string label, uint64_t total)
    : label_(std::move(label)),
      enabled_(::isatty(STDERR_FILENO) == 1),
      start_(Clock::now()),
      total_(total) {}

Progress::~Progress() { Finish(); }

std::string Progress::Render(const std::string& label, uint64_t done,
                             uint64_t total, double seconds) {
  // Rates and percentages are display only; floating point is fine here.
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  if (total == 0) {
    static const char kSpin[] = "|/-\\";
    return absl::StrCat(
        label, " ", std::string(1, kSpin[static_cast<int>(seconds * 10) % 4]),
        " ", FormatCount(done), " events  ", Rate(rate), "  elapsed ",
        Duration(seconds));
  }
  const uint64_t shown = done > total ? total : done;
  const double fraction =
      static_cast<double>(shown) / static_cast<double>(total);
  const int filled = static_cast<int>(fraction * kBarWidth);
  std::string eta = "--:--";
  if (rate > 0) eta = Duration(static_cast<double>(total - shown) / rate);
  return absl::StrCat(label, " [", std::string(filled, '#'),
                      std::string(kBarWidth - filled, ' '), "] ",
                      absl::StrFormat("%5.1f%%", fraction * 100), "  ",
                      FormatCount(shown), "/", FormatCount(total), " events  ",
                      Rate(rate), "  ETA ", eta);
}

void Progress::Update(uint64_t done) {
  if (!enabled_) return;
  const Clock::time_point now = Clock::now();
  if (drawn_ && now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  drawn_ = true;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  std::fprintf(stderr, "\r\033[K%s",
               Render(label_, done, total_, seconds).c_str());
  std::fflush(stderr);
}

void Progress::Finish() {
  if (!enabled_ || !drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace partnerledger::ctl

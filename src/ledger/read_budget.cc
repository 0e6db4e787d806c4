// ReadBudget and ReadReservation (partnerledger/ledger.h).
#include <dlfcn.h>
#include <malloc.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "partnerledger/ledger.h"
#include "util/check.h"

namespace partnerledger {
namespace {

// Hands free heap memory back to the operating system. ledgerd allocates
// with jemalloc, whose mallctl purges every arena; glibc's malloc_trim
// serves a binary without it (tests, tools).
void ReturnFreeMemory() {
  using Mallctl = int (*)(const char*, void*, size_t*, void*, size_t);
  static const Mallctl mallctl =
      reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "mallctl"));
  if (mallctl != nullptr) {
    // 4096 is MALLCTL_ARENAS_ALL.
    mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
    return;
  }
  malloc_trim(0);
}

}  // namespace

bool ReadBudget::TryReserve(size_t bytes) {
  size_t now = in_flight_bytes_.load();
  do {
    if (bytes > bytes_max_ || now > bytes_max_ - bytes) return false;
  } while (!in_flight_bytes_.compare_exchange_weak(now, now + bytes));
  size_t peak = peak_bytes_.load();
  while (now + bytes > peak &&
         !peak_bytes_.compare_exchange_weak(peak, now + bytes)) {
  }
  return true;
}

void ReadBudget::Release(size_t bytes) {
  const size_t before = in_flight_bytes_.fetch_sub(bytes);
  // More released than reserved would wrap the counter and disable the
  // budget for good.
  PL_CHECK(before >= bytes)
      << "releasing " << bytes << " read bytes of " << before << " in flight";
  const size_t left = before - bytes;
  const size_t released = released_since_trim_bytes_.fetch_add(bytes) + bytes;
  // Large responses leave the allocator holding their pages; once none is
  // in flight, give the free memory back (one thread does it per spike).
  if (left == 0 && released >= limits::kReadBytesTrimAfter &&
      released_since_trim_bytes_.exchange(0) >= limits::kReadBytesTrimAfter) {
    ReturnFreeMemory();
    trims_.fetch_add(1);
  }
}

bool ReadReservation::TryAdd(size_t bytes) {
  if (budget_ != nullptr && !budget_->TryReserve(bytes)) return false;
  bytes_ += bytes;
  return true;
}

void ReadReservation::Reset() {
  if (budget_ != nullptr && bytes_ > 0) budget_->Release(bytes_);
  bytes_ = 0;
}

absl::Status ReadReservation::Exhausted() const {
  if (budget_ != nullptr) budget_->refused_.fetch_add(1);
  return absl::ResourceExhaustedError(absl::StrCat(
      "read memory budget exhausted (",
      budget_ == nullptr ? 0 : budget_->in_flight_bytes(), " of ",
      budget_ == nullptr ? 0 : budget_->bytes_max(),
      " bytes of responses in flight); retry after ", kReadRetryAfterMs,
      " ms with backoff, or ask for fewer events"));
}

}  // namespace partnerledger

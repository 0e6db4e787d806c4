// Helpers shared by tests: temporary directories and event builders.
#ifndef PARTNERLEDGER_TESTS_TEST_SUPPORT_H_
#define PARTNERLEDGER_TESTS_TEST_SUPPORT_H_

#include <stdlib.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "partnerledger/ledger.h"

namespace partnerledger::testing {

// A fresh directory under $TMPDIR (`prefix` and six random characters),
// removed with everything in it on destruction unless kept for a
// post-mortem: Keep(), or PL_KEEP_TEST_DIRS set in the environment. Aborts
// the test binary when mkdtemp fails: nothing sensible runs without it.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "pl-test-") {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::fprintf(stderr, "mkdtemp(%s): %s\n", tmpl.c_str(),
                   std::strerror(errno));
      std::abort();
    }
    path_ = tmpl;
  }
  ~TempDir() {
    if (keep_ || std::getenv("PL_KEEP_TEST_DIRS") != nullptr) {
      std::fprintf(stderr, "kept %s\n", path_.c_str());
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }
  void Keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

// Distinct, valid UUIDs: 00000000-0000-4000-8000-<n as 12 hex digits>.
inline std::string TestUuid(uint64_t n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(n));
  return buf;
}

inline std::string NextUuid() {
  static std::atomic<uint64_t> seq{1};
  return TestUuid(seq.fetch_add(1));
}

inline v1::EventPayload PartnerRegisteredPayload(const std::string& name) {
  v1::EventPayload p;
  v1::PartnerRegistered* r = p.mutable_partner_registered();
  r->set_legal_name(name);
  r->set_country("NL");
  r->set_pitch("We integrate things.");
  return p;
}

inline v1::EventPayload ProfileUpdatedPayload(const std::string& pitch) {
  v1::EventPayload p;
  p.mutable_partner_profile_updated()->set_pitch(pitch);
  return p;
}

inline NewEvent MakeEvent(v1::EventPayload payload,
                          std::string id = NextUuid()) {
  NewEvent e;
  e.event_id = std::move(id);
  e.occurred_at_us = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
  e.payload = std::move(payload);
  return e;
}

}  // namespace partnerledger::testing

#endif  // PARTNERLEDGER_TESTS_TEST_SUPPORT_H_

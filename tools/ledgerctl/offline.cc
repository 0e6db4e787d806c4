#include "ledgerctl/offline.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "domain/upcast.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "ledgerctl/format.h"
#include "ledgerctl/input.h"
#include "util/sha256.h"
#include "util/status_macros.h"
#include "util/uuid.h"

namespace partnerledger::ctl {

absl::StatusOr<std::unique_ptr<store::Store>> OpenReadOnly(
    const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::UnavailableError(absl::StrCat("no data directory at ", dir));
  }
  if (!std::filesystem::exists(std::filesystem::path(dir) / "CURRENT", ec)) {
    return absl::UnavailableError(absl::StrCat(
        dir, " is not a RocksDB data directory (no CURRENT file)"));
  }
  store::StoreOptions o;
  o.dir = dir;
  o.read_only = true;
  o.create_if_missing = false;
  o.sync = false;
  return store::Store::Open(o);
}

absl::StatusOr<std::pair<uint64_t, std::string>> ReadDigestFile(
    const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadInput(path));
  return ParseDigest(text, path);
}

std::string DigestJson(uint64_t position, const std::string& raw_hash) {
  return absl::StrCat("{\"position\":", position,
                      ",\"hash\":", JsonString(ToHex(raw_hash)), "}");
}

absl::StatusOr<std::string> ReadInput(const std::string& path) {
  std::ostringstream out;
  if (path.empty() || path == "-") {
    out << std::cin.rdbuf();
    if (std::cin.bad()) return absl::UnavailableError("cannot read stdin");
    return out.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::UnavailableError(absl::StrCat("cannot read ", path));
  out << in.rdbuf();
  if (in.bad())
    return absl::UnavailableError(absl::StrCat("cannot read ", path));
  return out.str();
}

absl::Status WriteNewFile(const std::string& path, const std::string& content) {
  // O_EXCL: refuse, atomically, a path that exists (a digest kept as
  // evidence is never replaced by a newer one by mistake).
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(
          absl::StrCat(path,
                       " exists; not overwriting it (remove it or "
                       "choose another --out)"));
    }
    return absl::UnavailableError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const bool ok = done == content.size() && ::fsync(fd) == 0;
  if (::close(fd) != 0 || !ok) {
    return absl::UnavailableError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

absl::Status WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.flush();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace partnerledger::ctl

# Shared by tools/run.sh and tools/test.sh: install what is missing, build.
# Sourced, not executed.
set -euo pipefail

PL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PL_BUILD=${PL_BUILD:-$PL_ROOT/build}

# Debian packages the build, the service and the test suite need. The
# golang-* packages only provide etcd's API .proto files (and the gogo and
# google.api files they import) that src/replication/ is compiled against.
PL_PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev
  libssl-dev libcpp-httplib-dev libjemalloc-dev
  golang-etcd-server-dev golang-github-gogo-protobuf-dev
  golang-github-gogo-googleapis-dev
)
# Only the test suite: the independent clients (buf curl runs on Node, the
# walkthrough on Debian's grpcio), openssl for the TLS tests' certificates,
# PyYAML and systemd-analyze for deploy/check.sh, clang with libFuzzer for
# the fuzz harnesses (tools/fuzz.sh), headless chromium driven by selenium for
# the web console's browser tests, clang-format for tools/check_format.sh,
# etcd for the replication tests (tests/replication/) and deploy/check.sh's
# replicated ledgerd, prometheus for promtool (deploy/check.sh runs the alert
# rules' unit tests).
PL_TEST_PACKAGES=(python3 python3-grpcio python3-protobuf openssl python3-yaml
  systemd clang-14 libfuzzer-14-dev libclang-rt-14-dev python3-cryptography
  chromium chromium-driver python3-selenium clang-format-14 etcd-server
  prometheus)
# Node.js may come from outside Debian's archive (a machine image's own
# build, with its own npm): require the commands, and only install Debian's
# packages where they are missing.
PL_TEST_COMMANDS=(node:nodejs npx:npm)
# Only tools/bench.sh: PostgreSQL and pgbench (the baseline it measures
# against), python3 for its table, etcd (the replicated row).
PL_BENCH_PACKAGES=(postgresql python3 etcd-server)

pl_log() { printf '==> %s\n' "$*" >&2; }

# Installs the packages that are not installed yet (apt-get update once,
# only when something is missing).
pl_ensure_packages() {
  local missing=()
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  pl_log "installing: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Installs the package of each COMMAND:PACKAGE pair whose command is missing.
pl_ensure_commands() {
  local missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair##*:}")
  done
  if [ ${#missing[@]} -gt 0 ]; then pl_ensure_packages "${missing[@]}"; fi
}

# Configures and builds. Extra arguments go to cmake.
pl_build() {
  local type=${PL_BUILD_TYPE:-RelWithDebInfo}
  pl_log "building ($type) in $PL_BUILD"
  cmake -S "$PL_ROOT" -B "$PL_BUILD" -G Ninja -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
  ninja -C "$PL_BUILD" -j"$(nproc)"
}

# Compiles every object of every target (tests and tools included) with
# clang-14 and -Wthread-safety -Werror: the lock annotations
# (ABSL_GUARDED_BY, ABSL_EXCLUSIVE_LOCKS_REQUIRED) are checked, and clang's
# warnings join gcc's. -O0 without debug info: clang's warnings do not
# depend on the optimizer, so optimizing would only cost time. Nothing here
# is linked or run. Uses ccache when it is installed, never requires it.
pl_compile_clang_check() {
  local dir=${PL_BUILD_CLANG:-$PL_ROOT/build-clang}
  local launcher=()
  if command -v ccache >/dev/null 2>&1; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  pl_log "compiling every target with clang-14 -Wthread-safety -Werror in $dir"
  cmake -S "$PL_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_CXX_FLAGS_DEBUG=-O0 -DCMAKE_C_FLAGS_DEBUG=-O0 \
    -DPL_BUILD_TESTS=ON -DPL_BUILD_TOOLS=ON -DPL_WERROR=ON "${launcher[@]}" >/dev/null
  local objects
  mapfile -t objects < <(ninja -C "$dir" -t targets all | sed -n 's/^\(.*\.o\): .*/\1/p')
  ninja -C "$dir" -j"$(nproc)" "${objects[@]}"
}

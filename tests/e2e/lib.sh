#!/usr/bin/env bash
# Shared by the tests/e2e runners: the Debian interpreter check and a fresh
# ledgerd on a free port in a temp dir, stopped and removed on exit.
#   source tests/e2e/lib.sh
#   e2e_require_python "proof checker" "grpc, google.protobuf" "python3-grpcio python3-protobuf"
#   e2e_start_ledgerd "proof checker" BUILD_DIR [ledgerd flags...]
#   ... "$python" client --server "127.0.0.1:$E2E_PORT"   (scratch files in $E2E_WORK)
set -euo pipefail
e2e_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Debian's interpreter: a python3 earlier on PATH (pyenv, venv) lacks the
# Debian modules.
python=${PL_PYTHON:-/usr/bin/python3}
E2E_WORK=$(mktemp -d /tmp/pl-e2e-XXXXXX)
E2E_PORT=""
e2e_pid=""
e2e_cleanup() {
  if [ -n "$e2e_pid" ]; then
    kill "$e2e_pid" 2>/dev/null || true
    wait "$e2e_pid" 2>/dev/null || true
  fi
  rm -rf "$E2E_WORK"
}
trap e2e_cleanup EXIT

# e2e_require_python NAME MODULES PACKAGES: fails unless $python imports MODULES.
e2e_require_python() {
  if ! "$python" -c "import $2" 2>/dev/null; then
    echo "FAIL $1: $python cannot import $2 (apt-get install $3)" >&2
    exit 1
  fi
}

# e2e_start_ledgerd NAME BUILD_DIR [FLAGS...]: starts ledgerd on a free port
# with its data in $E2E_WORK/data and sets E2E_PORT.
e2e_start_ledgerd() {
  local name=$1 build=$2
  shift 2
  "$build/ledgerd" --listen=127.0.0.1:0 --data_dir="$E2E_WORK/data" \
    --port_file="$E2E_WORK/port" "$@" >"$E2E_WORK/ledgerd.log" 2>&1 &
  e2e_pid=$!
  for _ in $(seq 1 100); do [ -s "$E2E_WORK/port" ] && break; sleep 0.1; done
  if [ ! -s "$E2E_WORK/port" ]; then
    echo "FAIL $name: ledgerd did not start" >&2
    cat "$E2E_WORK/ledgerd.log" >&2
    exit 1
  fi
  E2E_PORT=$(cat "$E2E_WORK/port")
}

#!/usr/bin/env bash
# Runs tests/e2e/walkthrough.py (an independent Python client: Debian's
# python3-grpcio + python3-protobuf, stubs from protoc --python_out) against
# a fresh ledgerd on a free port.
# Usage: tests/e2e/run_python_walkthrough.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
# Debian's interpreter: a python3 earlier on PATH (pyenv, venv) lacks the
# Debian modules.
python=${PL_PYTHON:-/usr/bin/python3}
if ! "$python" -c 'import grpc, google.protobuf' 2>/dev/null; then
  echo "FAIL python walkthrough: $python cannot import grpc and google.protobuf" \
       "(apt-get install python3-grpcio python3-protobuf)" >&2
  exit 1
fi
work=$(mktemp -d /tmp/pl-walkthrough-XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
"$build/ledgerd" --listen=127.0.0.1:0 --data_dir="$work/data" --port_file="$work/port" \
  >"$work/ledgerd.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.1; done
if [ ! -s "$work/port" ]; then
  echo "FAIL python walkthrough: ledgerd did not start" >&2
  cat "$work/ledgerd.log" >&2
  exit 1
fi
"$python" "$root/tests/e2e/walkthrough.py" --server "127.0.0.1:$(cat "$work/port")"

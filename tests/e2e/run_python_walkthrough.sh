#!/usr/bin/env bash
# Runs tests/e2e/walkthrough.py (an independent Python client: Debian's
# python3-grpcio + python3-protobuf, stubs from protoc --python_out) against
# a fresh ledgerd on a free port.
# Usage: tests/e2e/run_python_walkthrough.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
build=${1:-$e2e_root/build}
e2e_require_python "python walkthrough" "grpc, google.protobuf" \
  "python3-grpcio python3-protobuf"
e2e_start_ledgerd "python walkthrough" "$build"
"$python" "$e2e_root/tests/e2e/walkthrough.py" --server "127.0.0.1:$E2E_PORT"

#!/usr/bin/env bash
# Runs tests/e2e/proof_checker.py (an independent verifier: Python with
# hashlib, Debian's python3-cryptography and python3-grpcio) against a fresh
# ledgerd that signs checkpoints with a key made by `ledgerctl keygen`.
# Usage: tests/e2e/run_proof_checker.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
python=${PL_PYTHON:-/usr/bin/python3}
if ! "$python" -c 'import grpc, google.protobuf, cryptography' 2>/dev/null; then
  echo "FAIL proof checker: $python cannot import grpc, google.protobuf and cryptography" \
       "(apt-get install python3-grpcio python3-protobuf python3-cryptography)" >&2
  exit 1
fi
work=$(mktemp -d /tmp/pl-proofs-XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
"$build/tools/ledgerctl/ledgerctl" keygen ledger.test/partnerledger --out="$work/log" >/dev/null
"$build/ledgerd" --listen=127.0.0.1:0 --data_dir="$work/data" --port_file="$work/port" \
  --signing_key="$work/log.key" >"$work/ledgerd.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.1; done
if [ ! -s "$work/port" ]; then
  echo "FAIL proof checker: ledgerd did not start" >&2
  cat "$work/ledgerd.log" >&2
  exit 1
fi
"$python" "$root/tests/e2e/proof_checker.py" --server "127.0.0.1:$(cat "$work/port")" \
  --signing-key "$work/log.key" --verifier-key "$work/log.pub"

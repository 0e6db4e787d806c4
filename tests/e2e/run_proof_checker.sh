#!/usr/bin/env bash
# Runs tests/e2e/proof_checker.py (an independent verifier: Python with
# hashlib, Debian's python3-cryptography and python3-grpcio) against a fresh
# ledgerd that signs checkpoints with a key made by `ledgerctl keygen`.
# Usage: tests/e2e/run_proof_checker.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
build=${1:-$e2e_root/build}
e2e_require_python "proof checker" "grpc, google.protobuf, cryptography" \
  "python3-grpcio python3-protobuf python3-cryptography"
"$build/tools/ledgerctl/ledgerctl" keygen ledger.test/partnerledger \
  --out="$E2E_WORK/log" >/dev/null
e2e_start_ledgerd "proof checker" "$build" --signing_key="$E2E_WORK/log.key"
"$python" "$e2e_root/tests/e2e/proof_checker.py" --server "127.0.0.1:$E2E_PORT" \
  --signing-key "$E2E_WORK/log.key" --verifier-key "$E2E_WORK/log.pub"

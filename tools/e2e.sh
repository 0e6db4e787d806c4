#!/usr/bin/env bash
# End-to-end checks with clients we did not write: buf lint on the protos,
# and buf curl (reflection, no generated code) against a real ledgerd.
# Usage: tools/e2e.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
work=$(mktemp -d /tmp/pl-e2e-XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# buf from the npm registry, cached next to the build.
BUF_VERSION=1.50.0
npm_dir="$build/npm"
buf="$npm_dir/node_modules/.bin/buf"
if [ ! -x "$buf" ] || [ "$("$buf" --version)" != "$BUF_VERSION" ]; then
  mkdir -p "$npm_dir"
  npm install --silent --no-audit --no-fund --prefix "$npm_dir" "@bufbuild/buf@$BUF_VERSION" >/dev/null
fi

passed=0
failed=0
check() {  # check NAME EXPECTED_SUBSTRING ACTUAL
  if grep -qF -- "$2" <<<"$3"; then
    passed=$((passed + 1)); echo "ok   $1"
  else
    failed=$((failed + 1)); echo "FAIL $1: expected [$2] in:"; echo "$3" | head -20
  fi
}

check "buf lint (STANDARD) passes" "lint-ok" "$(cd "$root/proto" && "$buf" lint 2>&1 && echo lint-ok)"

"$build/ledgerd" --listen=127.0.0.1:0 --data_dir="$work/data" --port_file="$work/port" \
  >"$work/ledgerd.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
url="http://127.0.0.1:$port"
curl_grpc() { "$buf" curl --protocol grpc --http2-prior-knowledge "$@" 2>&1 || true; }

check "health check answers SERVING" '"status": "SERVING"' \
  "$(curl_grpc --schema "$root/tests/e2e/health.proto" "$url/grpc.health.v1.Health/Check" -d '{}')"

append='{"stream":"partner-acme","expectedState":"EXPECTED_STATE_NO_STREAM","events":[{"eventId":"3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e","occurredAt":"2026-11-26T10:00:00Z","payload":{"partnerRegistered":{"legalName":"Acme BV","country":"NL","pitch":"Cloud migrations"}}}]}'
out=$(curl_grpc "$url/partnerledger.v1.EventStoreService/AppendEvents" -d "$append")
check "AppendEvents via reflection returns position 1" '"position": "1"' "$out"
out=$(curl_grpc "$url/partnerledger.v1.EventStoreService/AppendEvents" -d "$append")
check "identical retry is flagged as a replay" '"replayed": true' "$out"
out=$(curl_grpc "$url/partnerledger.v1.EventStoreService/AppendEvents" \
  -d '{"stream":"partner-acme","expectedState":"EXPECTED_STATE_NO_STREAM","events":[{"eventId":"7a1e0c2d-1111-4222-8333-444455556666","occurredAt":"2026-11-26T10:00:00Z","payload":{"partnerProfileUpdated":{"pitch":"x"}}}]}')
check "revision conflict is ABORTED" '"code": "aborted"' "$out"
out=$(curl_grpc "$url/partnerledger.v1.EventStoreService/AppendEvents" \
  -d '{"stream":"partner-acme","events":[{"eventId":"nope","occurredAt":"2026-11-26T10:00:00Z","payload":{"partnerProfileUpdated":{"pitch":"x"}}}]}')
check "bad event id is INVALID_ARGUMENT naming the field" 'events[0].event_id' "$out"
out=$(curl_grpc "$url/partnerledger.v1.EventStoreService/ReadStream" -d '{"stream":"partner-acme"}')
check "ReadStream returns the event with its payload" '"legalName": "Acme BV"' "$out"
out=$(curl_grpc "$url/partnerledger.v1.EventStoreService/VerifyChain" -d '{}')
check "VerifyChain is ok" '"ok": true' "$out"

check "Python walkthrough (grpcio client from our .proto files) passes" "0 failed" \
  "$(bash "$root/tests/e2e/run_python_walkthrough.sh" "$build" 2>&1 || true)"

check "Python proof checker (RFC 9162 + C2SP from the specs) verifies and rejects tampering" \
  "0 failed" "$(bash "$root/tests/e2e/run_proof_checker.sh" "$build" 2>&1 || true)"

out=$(curl_grpc "$url/partnerledger.v1.AuditService/GetCheckpoint" -d '{}')
check "AuditService via reflection serves an unsigned checkpoint" '"unsignedReason"' "$out"

echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

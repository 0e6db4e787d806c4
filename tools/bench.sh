#!/usr/bin/env bash
# tools/bench.sh — the standard "ledger vs raw RocksDB" comparison (DESIGN §7).
#
# Usage:
#   tools/bench.sh                  # build Release, run both workloads, print
#   DURATION_S=5 REPEAT=1 tools/bench.sh     # a quick look while developing
#   WORK_DIR=/mnt/disk tools/bench.sh        # data directories on that disk
#   MICRO=1 tools/bench.sh          # also run micro-bench (hash, codec, money)
#
# What it does:
#   1. cmake + ninja a Release build into build-release/ (ledgerd,
#      ledger-bench, micro-bench; tests off).
#   2. ledger-bench --mode=compare for (clients=64, batch=1) and
#      (clients=4, batch=100), each --repeat=$REPEAT times: a fresh ledgerd on a
#      fresh data directory under $WORK_DIR, durable appends over gRPC
#      (loopback), then raw RocksDB synced writes of the same size and
#      concurrency on a fresh directory on the same disk.
#   3. Prints a Markdown table of the medians, ready for README.md. The full
#      per-run output is kept in build-release/bench-<workload>.log.
#
# Client and server share the machine's cores: run it on an otherwise idle
# machine (no builds), or the figures say more about the neighbours.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-release}"
WORK_DIR="${WORK_DIR:-/tmp}"
REPEAT="${REPEAT:-3}"
DURATION_S="${DURATION_S:-10}"
EVENT_BYTES="${EVENT_BYTES:-256}"
JOBS="${JOBS:-$(nproc)}"

cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DPL_BUILD_TESTS=OFF >/dev/null
ninja -C "$BUILD_DIR" -j "$JOBS" ledgerd ledger-bench micro-bench

BENCH="$BUILD_DIR/tools/bench/ledger-bench"
LEDGERD="$BUILD_DIR/ledgerd"

rows=()
for workload in "64 1" "4 100"; do
  read -r clients batch <<<"$workload"
  log="$BUILD_DIR/bench-c${clients}-b${batch}.log"
  echo "== clients=$clients batch=$batch repeat=$REPEAT duration=${DURATION_S}s (log: $log)" >&2
  "$BENCH" --mode=compare --ledgerd="$LEDGERD" --work_dir="$WORK_DIR" \
    --clients="$clients" --batch="$batch" --event_bytes="$EVENT_BYTES" \
    --duration_s="$DURATION_S" --repeat="$REPEAT" | tee "$log" >&2
  rows+=("$(grep '^| ' "$log" | tail -n 1)")
done

if [[ "${MICRO:-0}" == 1 ]]; then
  "$BUILD_DIR/tools/bench/micro-bench" --benchmark_min_time=0.2 >&2
fi

cat <<EOF

Durable appends, $(nproc) cores, client and server on one machine, loopback
gRPC, ${EVENT_BYTES}-byte events, median of $REPEAT runs of ${DURATION_S} s
($(date -u +%Y-%m-%d), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'uncommitted')).
Raw RocksDB: same event size and concurrency, WriteOptions.sync=true,
default options, same disk.

| clients | events/append | event bytes | ledger events/s | ledger latency ms p50 / p99 / p999 | raw RocksDB events/s | raw p99 ms | ledger/raw |
|---:|---:|---:|---:|---|---:|---:|---:|
EOF
printf '%s\n' "${rows[@]}"

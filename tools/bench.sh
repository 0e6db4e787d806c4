#!/usr/bin/env bash
# tools/bench.sh — partnerledger against its baselines, in one invocation.
#
# Usage:
#   tools/bench.sh                 # default: REPEAT=3 runs of DURATION_S=10 s
#   tools/bench.sh --quick         # REPEAT=3 runs of 2 s: a look while developing
#   tools/bench.sh --dry-run       # print the plan and exit (no build, no runs)
#   tools/bench.sh --no-pg         # skip PostgreSQL
#   tools/bench.sh --no-replicated # skip the replicated row (3 etcd members)
#   tools/bench.sh --scale [N]     # afterwards, projection-bench --mode=scale:
#                                  # grow a log to N events (default 1,000,000;
#                                  # 10000000 adds the 10M row, ~hours here)
# Environment: REPEAT, DURATION_S, EVENT_BYTES, WORK_DIR (data directories,
# default /tmp), BUILD_DIR (default build-release/), PG_PORT (default 52580),
# PL_ETCD (default /usr/bin/etcd).
#
# Workloads: single-event appends at 1, 8 and 64 clients, batches of 100
# events at 16 clients; 256-byte events. For each, REPEAT times:
#   1. ledger-bench --mode=compare: a fresh Release ledgerd on a fresh data
#      directory, durable appends over loopback gRPC (each client one append
#      in flight, each append a new stream); then, against the same ledgerd
#      at the same concurrency, the no-op RPC grpc.health.v1.Health/Check (the
#      transport's ceiling); then raw RocksDB synced writes of the same size
#      and concurrency (one WriteBatch of `batch` puts per write,
#      WriteOptions.sync) on a fresh directory on the same disk. ledgerd's
#      CPU comes from /proc/<pid>/stat over the measurement window.
#   2. PostgreSQL (Debian's, default durable settings: fsync, synchronous
#      commit, full page writes) in a throwaway cluster under a temp dir,
#      started once and stopped on exit; pgbench at the same concurrency
#      inserts one row per transaction into
#        events(id bigserial primary key, event_id uuid unique,
#               stream_id text, stream_rev bigint, payload text (256 bytes),
#               unique (stream_id, stream_rev))
#      each into a new stream, or 100 rows of one new stream per transaction
#      for the batch workload. The table is recreated before every run.
#   3. Replicated appends (ledger-bench --mode=replicated): 64 single-event
#      clients against the leader of a fresh 3-node cluster (ledgerd
#      --replication=etcd) on 3 fresh local etcd members, and against a fresh
#      single-node ledgerd, REPEAT pairs alternating; the row shows
#      replicated ÷ single-node (the members and nodes share the cores).
# The table shows medians; ratios are ratios of the medians, all from this
# invocation. Client and server share the machine's cores, so absolute
# figures depend on whatever else runs: compare ratios, not absolutes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=tools/lib/common.sh
source "$ROOT/tools/lib/common.sh"

REPEAT="${REPEAT:-3}"
DURATION_S="${DURATION_S:-10}"
EVENT_BYTES="${EVENT_BYTES:-256}"
WORK_DIR="${WORK_DIR:-/tmp}"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-release}"
PG_PORT="${PG_PORT:-52580}"
RUN_PG=1
RUN_REPLICATED=1
DRY_RUN=0
SCALE_EVENTS=0
WORKLOADS=("1 1" "8 1" "64 1" "16 100")

usage() { sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) DURATION_S=2 ;;
    --dry-run) DRY_RUN=1 ;;
    --no-pg) RUN_PG=0 ;;
    --no-replicated) RUN_REPLICATED=0 ;;
    --scale)
      SCALE_EVENTS=1000000
      if [[ "${2:-}" =~ ^[0-9]+$ ]]; then SCALE_EVENTS=$2; shift; fi
      ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
for v in REPEAT DURATION_S EVENT_BYTES PG_PORT; do
  if ! [[ "${!v}" =~ ^[0-9]+$ ]] || [ "${!v}" -lt 1 ]; then
    echo "bench.sh: $v must be a positive integer, got '${!v}'" >&2
    exit 2
  fi
done
if [ "$REPEAT" -lt 3 ]; then
  echo "bench.sh: REPEAT=$REPEAT: medians need at least 3 runs" >&2
  exit 2
fi

if [ "$DRY_RUN" = 1 ]; then
  echo "plan: repeat=$REPEAT duration=${DURATION_S}s event_bytes=$EVENT_BYTES" \
    "pg=$RUN_PG replicated=$RUN_REPLICATED pg_port=$PG_PORT scale_events=$SCALE_EVENTS work_dir=$WORK_DIR"
  for w in "${WORKLOADS[@]}"; do
    read -r c b <<<"$w"
    echo "workload: clients=$c batch=$b"
  done
  if [ "$RUN_REPLICATED" = 1 ]; then
    echo "workload: clients=64 batch=1 replicated (3 nodes, 3 etcd members) vs single-node"
  fi
  exit 0
fi

pl_ensure_packages "${PL_PACKAGES[@]}" "${PL_BENCH_PACKAGES[@]}"
ETCD="${PL_ETCD:-/usr/bin/etcd}"

launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DPL_BUILD_TESTS=OFF "${launcher[@]}" >/dev/null
ninja -C "$BUILD_DIR" -j "$(nproc)" ledgerd ledger-bench projection-bench >&2

BENCH="$BUILD_DIR/tools/bench/ledger-bench"
LEDGERD="$BUILD_DIR/ledgerd"
OUT=$(mktemp -d "$WORK_DIR/pl-bench-XXXXXX")
PG_DIR=""

pg_as() {  # runs a PostgreSQL binary as the cluster's owner
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
  if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ -n "$PG_DIR" ]; then rm -rf "$PG_DIR"; fi
}
trap cleanup EXIT

pg_start() {
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  PG_DIR=$(mktemp -d "$WORK_DIR/pl-bench-pg-XXXXXX")
  chmod 755 "$PG_DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$PG_DIR"; fi
  pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U bench -A trust >"$PG_DIR/initdb.log"
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=200" \
    start >/dev/null
  pg_as "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U bench bench
  cat >"$PG_DIR/single.sql" <<EOF
INSERT INTO events (event_id, stream_id, stream_rev, payload)
VALUES (gen_random_uuid(), 'partner-' || gen_random_uuid(), 0, repeat('p', $EVENT_BYTES));
EOF
  cat >"$PG_DIR/batch.sql" <<EOF
INSERT INTO events (event_id, stream_id, stream_rev, payload)
SELECT gen_random_uuid(), s.id, g, repeat('p', $EVENT_BYTES)
FROM (SELECT 'partner-' || gen_random_uuid() AS id) s, generate_series(0, 99) g;
EOF
  chmod 644 "$PG_DIR"/*.sql
}

pg_sql() { pg_as "$PG_BIN/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U bench -d bench -c "$1"; }

# One pgbench run; prints events/s.
pg_run() {
  local clients=$1 batch=$2 script=single.sql
  if [ "$batch" != 1 ]; then script=batch.sql; fi
  pg_sql "SET client_min_messages = warning; DROP TABLE IF EXISTS events;
    CREATE TABLE events (
      id bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE,
      stream_id text NOT NULL, stream_rev bigint NOT NULL,
      payload text NOT NULL, UNIQUE (stream_id, stream_rev));
    CHECKPOINT;"
  local threads=$((clients < 2 ? clients : 2))
  local out
  out=$(pg_as "$PG_BIN/pgbench" -n -h 127.0.0.1 -p "$PG_PORT" -U bench \
    -c "$clients" -j "$threads" -T "$DURATION_S" -M prepared \
    -f "$PG_DIR/$script" bench 2>&1)
  local tps
  tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out")
  if [ -z "$tps" ] || grep -q '^number of failed transactions: [1-9]' <<<"$out"; then
    echo "bench.sh: pgbench failed:" >&2
    echo "$out" >&2
    return 1
  fi
  awk -v t="$tps" -v b="$batch" 'BEGIN { printf "%.1f\n", t * b }'
}

if [ "$RUN_PG" = 1 ]; then pg_start; fi

for w in "${WORKLOADS[@]}"; do
  read -r clients batch <<<"$w"
  log="$OUT/c${clients}-b${batch}"
  pl_log "clients=$clients batch=$batch: ledger, no-op RPC, raw RocksDB ×$REPEAT (${DURATION_S}s each)"
  "$BENCH" --mode=compare --ledgerd="$LEDGERD" --work_dir="$WORK_DIR" \
    --clients="$clients" --batch="$batch" --event_bytes="$EVENT_BYTES" \
    --duration_s="$DURATION_S" --repeat="$REPEAT" --json >"$log.json"
  : >"$log.pg"
  if [ "$RUN_PG" = 1 ]; then
    pl_log "clients=$clients batch=$batch: PostgreSQL ×$REPEAT"
    for _ in $(seq "$REPEAT"); do pg_run "$clients" "$batch" >>"$log.pg"; done
  fi
done

if [ "$RUN_REPLICATED" = 1 ]; then
  pl_log "clients=64 batch=1: replicated (3 nodes on 3 etcd members) vs single-node ×$REPEAT"
  "$BENCH" --mode=replicated --ledgerd="$LEDGERD" --etcd="$ETCD" \
    --work_dir="$WORK_DIR" --clients=64 --batch=1 --event_bytes="$EVENT_BYTES" \
    --duration_s="$DURATION_S" --repeat="$REPEAT" --json >"$OUT/replicated.json"
fi

python3 - "$OUT" "$REPEAT" "$DURATION_S" "$EVENT_BYTES" "$(nproc)" \
  "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo uncommitted)" \
  "$(cat /proc/loadavg | cut -d' ' -f1-3)" "${WORKLOADS[@]}" <<'EOF'
import datetime, json, statistics, sys
out, repeat, dur, ebytes, cores, commit, load = sys.argv[1:8]
def med(v):
    return statistics.median(v) if v else float("nan")
def fmt(x, d=0):
    return "n/a" if x != x else f"{x:,.{d}f}"
def ratio(a, b):
    return fmt(a / b, 2) if b == b and b > 0 else "n/a"
print()
print(f"partnerledger vs baselines: {cores} cores shared by clients and servers, "
      f"{ebytes}-byte events, medians of {repeat} runs of {dur} s, "
      f"{datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, commit {commit}, "
      f"load average at the end {load}")
print()
print("| clients × events/append | ledger events/s | PostgreSQL events/s | raw RocksDB events/s "
      "| no-op RPC calls/s | ledger ÷ PG | ledger ÷ raw | ledgerd CPU µs/event "
      "| ledgerd CPU µs/no-op call | CPU ratio event ÷ no-op | ledger p99 ms |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for w in sys.argv[8:]:
    c, b = w.split()
    j = json.load(open(f"{out}/c{c}-b{b}.json"))
    runs = j["runs"]
    led = med([r["ledger"]["events_per_s"] for r in runs])
    raw = med([r["raw"]["events_per_s"] for r in runs])
    noop = med([r["noop"]["events_per_s"] for r in runs if r["noop"]])
    cpu_ev = med([r["ledger"]["server_cpu_us_per_event"] for r in runs])
    cpu_noop = med([r["noop"]["server_cpu_us_per_event"] for r in runs if r["noop"]])
    p99 = med([r["ledger"]["latency_ms_p99"] for r in runs])
    pg = med([float(x) for x in open(f"{out}/c{c}-b{b}.pg").read().split()])
    print(f"| {c} × {b} | {fmt(led)} | {fmt(pg)} | {fmt(raw)} | {fmt(noop)} | "
          f"{ratio(led, pg)} | {ratio(led, raw)} | {fmt(cpu_ev, 1)} | {fmt(cpu_noop, 1)} | "
          f"{ratio(cpu_ev, cpu_noop)} | {fmt(p99, 2)} |")
import os
if os.path.exists(f"{out}/replicated.json"):
    j = json.load(open(f"{out}/replicated.json"))
    m = j["median"]
    print()
    print("| clients × events/append | replicated events/s (3 nodes, 3 etcd members) "
          "| single-node events/s | replicated ÷ single-node | replicated p99 ms "
          "| single-node p99 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| {j['clients']} × {j['batch']} | {fmt(m['replicated_events_per_s'])} | "
          f"{fmt(m['single_events_per_s'])} | {fmt(m['ratio'], 2)} | "
          f"{fmt(m['replicated_latency_ms_p99'], 2)} | {fmt(m['single_latency_ms_p99'], 2)} |")
print()
print(f"Per-run JSON (ledger-bench) and pgbench figures: {out}")
EOF

if [ "$SCALE_EVENTS" -gt 0 ]; then
  pl_log "scale: growing a log to $SCALE_EVENTS events"
  "$BUILD_DIR/tools/bench/projection-bench" --mode=scale --ledgerd="$LEDGERD" \
    --work_dir="$WORK_DIR" --scale_events="$SCALE_EVENTS" --duration_s="$DURATION_S"
fi

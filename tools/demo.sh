#!/usr/bin/env bash
# Loads the worked example (tools/ledgerctl/examples/worked-example.jsonl)
# into a running ledgerd with ledgerctl, shows the figures finance and an
# auditor ask for, saves a digest and verifies the chain against it.
# Loading is idempotent: a second run reports the events as replayed.
#
# Usage: tools/demo.sh [--server HOST:PORT]     (default 127.0.0.1:50051)
# Start the server first, in another terminal: tools/run.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
server=127.0.0.1:50051
while [ $# -gt 0 ]; do
  case "$1" in
    --server) server=$2; shift 2 ;;
    --server=*) server=${1#--server=}; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo.sh: unknown argument $1 (usage: tools/demo.sh [--server HOST:PORT])" >&2; exit 2 ;;
  esac
done
build=${PL_BUILD:-$root/build}
ctl=${LEDGERCTL:-$build/tools/ledgerctl/ledgerctl}
if [ ! -x "$ctl" ]; then
  echo "==> building ledgerctl in $build" >&2
  cmake -S "$root" -B "$build" -G Ninja >/dev/null
  ninja -C "$build" ledgerctl >/dev/null
fi
mkdir -p "$root/var"
digest="$root/var/demo-digest.json"

step() {  # step DESCRIPTION ledgerctl-arguments...
  printf '\n### %s\n$ ledgerctl %s\n' "$1" "${*:2}"
  "$ctl" --server="$server" "${@:2}"
}

step "Load the worked example (10 atomic appends; derived commissions follow their cause)" \
  append "$root/tools/ledgerctl/examples/worked-example.jsonl"
step "Who owes whom: F owes C EUR 22,000.00 commission and USD 40,000.00 pass-through" \
  obligations
step "The statement F -> C, EUR, February 2027: 30,000 + 15,000 - 3,000 - 20,000 = 22,000" \
  statement --payer=F --payee=C --currency=EUR --period=2027-02
step "What each partner brought the other" referral-balance C F
step "Deal D1: margin schedule and revenue lines" deal D1
step "The partnership scorecard" health C F
rm -f "$digest"  # digest --out never overwrites; this demo's own copy is replaced
step "Save a digest of the chain (keep it outside the system)" digest --out="$digest"
step "Verify the chain online and that it still extends the digest" verify --digest="$digest"
cat <<EOT

Next, offline (see tools/ledgerctl/README.md): stop the server (Ctrl-C in its
terminal), copy its data directory, and verify and replay the copy:
  rm -rf /tmp/ledger-copy && cp -a var/data /tmp/ledger-copy
  $ctl verify --data-dir=/tmp/ledger-copy --digest=$digest
  $ctl replay --data-dir=/tmp/ledger-copy --to-position=13 --statement=F,C,EUR,2027-02
EOT

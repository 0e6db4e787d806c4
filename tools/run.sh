#!/usr/bin/env bash
# One command: install what is missing, build, and start ledgerd on its
# embedded default (127.0.0.1:50051, data under ./var/data). Arguments are
# passed to ledgerd, e.g. tools/run.sh --listen=127.0.0.1:0
source "$(dirname "$0")/lib/common.sh"
pl_ensure_packages "${PL_PACKAGES[@]}"
pl_build -DPL_BUILD_TESTS=OFF
cd "$PL_ROOT"
mkdir -p var
pl_log "starting ledgerd (Ctrl-C stops it)"
exec "$PL_BUILD/ledgerd" --data_dir="$PL_ROOT/var/data" "$@"

#!/usr/bin/env bash
# One command: install what is missing, build, and run the whole test suite
# (unit, in-process service, crash and power-loss, independent clients).
# PL_CRASH_ROUNDS=200 tools/test.sh runs the crash loops in long mode.
source "$(dirname "$0")/lib/common.sh"
pl_ensure_packages "${PL_PACKAGES[@]}" "${PL_TEST_PACKAGES[@]}"
pl_ensure_commands "${PL_TEST_COMMANDS[@]}"
pl_build -DPL_BUILD_TESTS=ON
pl_log "running ctest"
ctest --test-dir "$PL_BUILD" -j"$(nproc)" --output-on-failure --timeout 600
pl_log "checking deploy/ (manifests, unit, alert rules, flags)"
LEDGERD="$PL_BUILD/ledgerd" LEDGERCTL="$PL_BUILD/tools/ledgerctl/ledgerctl" bash "$PL_ROOT/deploy/check.sh"
pl_log "running end-to-end checks with independent clients"
bash "$PL_ROOT/tools/e2e.sh" "$PL_BUILD"

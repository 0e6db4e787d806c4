#!/usr/bin/env bash
# One command: install what is missing, build, and run the whole test suite
# (unit, in-process service, crash and power-loss, independent clients).
# PL_CRASH_ROUNDS=200 tools/test.sh runs the crash loops in long mode;
# PL_FUZZ_SECONDS=600 tools/test.sh fuzzes each harness for 10 minutes.
source "$(dirname "$0")/lib/common.sh"
pl_ensure_packages "${PL_PACKAGES[@]}" "${PL_TEST_PACKAGES[@]}"
pl_ensure_commands "${PL_TEST_COMMANDS[@]}"
pl_log "checking the C++ formatting (.clang-format)"
bash "$PL_ROOT/tools/check_format.sh"
# The suite's build is Release (-O3, as deploy/Dockerfile builds, so warnings
# that only the optimizer raises fail it) with debug info for failures.
PL_BUILD_TYPE=${PL_BUILD_TYPE:-Release} pl_build -DPL_BUILD_TESTS=ON \
  "-DCMAKE_CXX_FLAGS_RELEASE=-O3 -DNDEBUG -g" "-DCMAKE_C_FLAGS_RELEASE=-O3 -DNDEBUG -g"
pl_compile_clang_check
pl_log "running ctest"
ctest --test-dir "$PL_BUILD" -j"$(nproc)" --output-on-failure --timeout 600
pl_log "checking deploy/ (manifests, unit, alert rules, flags)"
LEDGERD="$PL_BUILD/ledgerd" LEDGERCTL="$PL_BUILD/tools/ledgerctl/ledgerctl" bash "$PL_ROOT/deploy/check.sh"
pl_log "running end-to-end checks with independent clients"
bash "$PL_ROOT/tools/e2e.sh" "$PL_BUILD"
pl_log "bench.sh: argument parsing only (nothing built or run)"
bash "$PL_ROOT/tools/bench.sh" --dry-run --quick --no-pg --scale 100000 >/dev/null
if bash "$PL_ROOT/tools/bench.sh" --no-such-flag >/dev/null 2>&1; then
  pl_log "bench.sh accepted an unknown flag"
  exit 1
fi
pl_log "browser tests of the web console (headless chromium; screenshots in $PL_BUILD/console-screenshots)"
"${PL_PYTHON:-/usr/bin/python3}" "$PL_ROOT/tests/http/console_browser_test.py" --build "$PL_BUILD"
pl_log "fuzzing (libFuzzer harnesses, tests/fuzz)"
bash "$PL_ROOT/tools/fuzz.sh"

# PL_SANITIZE=1: also build the core suites with AddressSanitizer and
# UndefinedBehaviorSanitizer and run them (about 10 more minutes on 2 cores,
# so CI leaves it off).
if [ "${PL_SANITIZE:-0}" = 1 ]; then
  asan="$PL_ROOT/build-asan"
  pl_log "building the core suites with ASan + UBSan in $asan"
  cmake -S "$PL_ROOT" -B "$asan" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
  suites=(store_test validate_test partnership_test ledger_test
          projection_property_test event_store_service_test query_service_test)
  ninja -C "$asan" -j"$(nproc)" "${suites[@]}"
  for t in "${suites[@]}"; do
    bin=$(find "$asan/tests" -type f -name "$t" -perm -u+x | head -n 1)
    pl_log "ASan/UBSan: $t"
    ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1 \
      "$bin" --gtest_brief=1
  done
fi

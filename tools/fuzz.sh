#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz) with clang-14 into build-fuzz/
# (ASan + UBSan + coverage; only what the harnesses need) and runs each for
# PL_FUZZ_SECONDS (default 20), all at once. tools/test.sh runs this; a long
# session is  PL_FUZZ_SECONDS=600 tools/fuzz.sh.
# New corpus entries go to build-fuzz/corpus/<harness>/ (kept between runs,
# not checked in); a failing input is written to build-fuzz/artifacts/ and
# the run fails. Turn a failing input into a regression: copy it to
# tests/fuzz/regressions/<harness>/ and add a unit test that reproduces it.
source "$(dirname "$0")/lib/common.sh"
seconds=${PL_FUZZ_SECONDS:-20}
fuzz_build=${PL_FUZZ_BUILD:-$PL_ROOT/build-fuzz}
harnesses=(record_codec_fuzz request_fuzz domain_fuzz ledgerctl_input_fuzz)

pl_log "building the fuzz harnesses (clang-14, ASan + UBSan) in $fuzz_build"
cmake -S "$PL_ROOT" -B "$fuzz_build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DPL_BUILD_FUZZ=ON -DPL_BUILD_TESTS=OFF -DPL_WERROR=OFF >/dev/null
ninja -C "$fuzz_build" -j"$(nproc)" "${harnesses[@]}"

pl_log "fuzzing each harness for ${seconds}s"
mkdir -p "$fuzz_build/artifacts" "$fuzz_build/logs"
pids=()
for h in "${harnesses[@]}"; do
  work="$fuzz_build/corpus/$h"
  mkdir -p "$work"
  dirs=("$work" "$PL_ROOT/tests/fuzz/corpus/$h")
  [ -d "$PL_ROOT/tests/fuzz/regressions/$h" ] && dirs+=("$PL_ROOT/tests/fuzz/regressions/$h")
  # -entropic=0: with tens of thousands of features libFuzzer's entropic
  # schedule spent two thirds of the time updating feature frequencies
  # (domain_fuzz: 26 instead of 1000 inputs/s).
  "$fuzz_build/tests/fuzz/$h" -entropic=0 -max_total_time="$seconds" \
    -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$fuzz_build/artifacts/$h-" "${dirs[@]}" \
    >"$fuzz_build/logs/$h.log" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!harnesses[@]}"; do
  h=${harnesses[$i]}
  if wait "${pids[$i]}"; then
    summary=$(grep -E '^#[0-9]+.*DONE' "$fuzz_build/logs/$h.log" | tail -n 1)
    pl_log "$h: ok  ${summary}"
  else
    failed=1
    pl_log "$h: FAILED (log: $fuzz_build/logs/$h.log)"
    grep -v 'libprotobuf' "$fuzz_build/logs/$h.log" | tail -n 40 >&2
  fi
done
exit "$failed"

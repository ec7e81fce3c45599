#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] [BUILD_DIR]: build every libFuzzer target in tests/fuzz/ (clang,
# ASan+UBSan) and run each for SECONDS (default 60), one after the other, niced.
# Seeds come from tests/fuzz/corpus/<target>/ (read only); new inputs go to a temporary folder;
# crashes are written to BUILD_DIR/fuzz-artifacts/. Exit status: 0 when no target failed.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
build=${2:-build-fuzz}
case "$secs" in '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [BUILD_DIR]" >&2; exit 2 ;; esac
# the library itself is instrumented for coverage too (-fsanitize=fuzzer-no-link), otherwise
# libFuzzer only sees the few branches of the harness
CC=clang cmake -S . -B "$build" -DNLPRNN_FUZZ=ON -DNLPRNN_SANITIZE=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link" > /dev/null
targets=()
for src in tests/fuzz/fuzz_*.c; do targets+=("$(basename "$src" .c)"); done
cmake --build "$build" -j2 --target "${targets[@]}"
mkdir -p "$build/fuzz-artifacts"
failed=()
for t in "${targets[@]}"; do
  work=$(mktemp -d)
  seeds=()
  [ -d "tests/fuzz/corpus/$t" ] && seeds=("tests/fuzz/corpus/$t")
  # NLPRNN_FUZZ_RUNS=N: a fixed number of inputs from a fixed seed instead of a time budget, so
  # that a CI smoke run is reproducible (same inputs on every run)
  limit=(-max_total_time="$secs")
  if [ -n "${NLPRNN_FUZZ_RUNS:-}" ]; then
    runs=$NLPRNN_FUZZ_RUNS
    # fuzz_checkpoint resumes a training and saves a model per input (10-30 ms, 100x the others)
    [ "$t" = fuzz_checkpoint ] && runs=$(( (runs + 3) / 4 ))
    limit=(-runs="$runs" -seed=1)
  fi
  echo "== $t: ${limit[*]}"
  if nice "$build/tests/fuzz/$t" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 \
      -max_len=4096 -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$t-" \
      "$work" "${seeds[@]}" > "$build/fuzz-artifacts/$t.log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$build/fuzz-artifacts/$t.log" | tail -2 || true
  else
    failed+=("$t")
    echo "FAILED: $t (log: $build/fuzz-artifacts/$t.log)"
    tail -30 "$build/fuzz-artifacts/$t.log"
  fi
  rm -rf "$work"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: ${#failed[@]} of ${#targets[@]} targets failed: ${failed[*]}"
  exit 1
fi
echo "fuzz.sh: all ${#targets[@]} targets ran (${limit[*]}) without a failure"

#!/usr/bin/env bash
# .ci/nightly.sh [FUZZ_SECONDS]: the long checks that do not fit scripts/test.sh's 15 minutes,
# after a Release build (build/): valgrind memcheck over the suite, every fuzz target for
# FUZZ_SECONDS (default 120) each, the bad-input probes and the SIGKILL-during-save loop.
# docs/robustness.md reports their results. Every step runs even when an earlier one fails; the
# exit status is non-zero when any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-120}
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build -j2 >/dev/null || exit 1
failed=()
step() {
  local name=$1
  shift
  echo "== $name"
  local t0=$(date +%s)
  if "$@"; then echo "== $name: ok ($(( $(date +%s) - t0 )) s)"; else failed+=("$name"); echo "== $name: FAILED"; fi
}
step valgrind scripts/valgrind.sh build-valgrind
step fuzz scripts/fuzz.sh "$secs" build-fuzz
step robustness-probe .ci/robustness-probe.sh build
step kill-during-save .ci/kill-during-save.sh build 25
if [ ${#failed[@]} -gt 0 ]; then
  echo "nightly: failed: ${failed[*]}"
  exit 1
fi
echo "nightly: all steps passed"

#!/usr/bin/env bash
# scripts/test-matrix.sh [BUILD_DIR ...]        (default: build build-asan)
#
# A developer script, run by hand (never by scripts/test.sh or CI, which must not change
# OPENBLAS_CORETYPE): the ctest suite of each BUILD_DIR under every combination of
#   OPENBLAS_CORETYPE     Haswell, Zen        the two names OpenBLAS has for its AVX2 kernels here
#   cores                 1 (taskset -c 0), 2 (taskset -c 0,1)
#   OPENBLAS_NUM_THREADS  unset, 1
# and a table of the outcomes (markdown, for docs/robustness.md) at the end. Sanitizer builds
# (a build dir whose CMakeCache says NLPRNN_SANITIZE=ON) run with -LE slow and
# ASAN_OPTIONS=detect_leaks=1, as scripts/test.sh runs them. Logs: $NLPRNN_MATRIX_LOGS (default
# /tmp/nlprnn-test-matrix.<pid>/), one per run. Exit status 1 if any run failed.
#
# Narrow it with NLPRNN_MATRIX_CORETYPES="Haswell Zen", NLPRNN_MATRIX_CORES="1 2",
# NLPRNN_MATRIX_THREADS="unset 1", and pass ctest options in NLPRNN_MATRIX_CTEST (e.g. "-R gradflow").
#
# Note: tests/CMakeLists.txt may set OPENBLAS_NUM_THREADS for every test (ENVIRONMENT); while it
# does, the "unset" runs get that value anyway, and the table says so ("pinned by CTest").
set -uo pipefail
cd "$(dirname "$0")/.."
builds=("$@")
[ ${#builds[@]} -gt 0 ] || builds=(build build-asan)
coretypes=${NLPRNN_MATRIX_CORETYPES:-Haswell Zen}
cores_list=${NLPRNN_MATRIX_CORES:-1 2}
threads_list=${NLPRNN_MATRIX_THREADS:-unset 1}
logs=${NLPRNN_MATRIX_LOGS:-/tmp/nlprnn-test-matrix.$$}
mkdir -p "$logs"
command -v taskset >/dev/null || { echo "test-matrix: taskset (util-linux) is needed" >&2; exit 2; }
[ "$(nproc --all)" -ge 2 ] || echo "test-matrix: only one CPU here; the 2-core rows equal the 1-core ones" >&2

rows=()
fail=0
started=$(date -u +%Y-%m-%dT%H:%MZ)
for b in "${builds[@]}"; do
  [ -f "$b/CTestTestfile.cmake" ] || { echo "test-matrix: $b is not a configured build (cmake -S . -B $b ...)" >&2; exit 2; }
  extra=()
  asan_env=()
  kind=Release
  if grep -q '^NLPRNN_SANITIZE:BOOL=ON' "$b/CMakeCache.txt" 2>/dev/null; then
    extra=(-LE slow)
    asan_env=(ASAN_OPTIONS=detect_leaks=1)
    kind=ASan+UBSan
  fi
  pinned=""
  if grep -rq 'OPENBLAS_NUM_THREADS=' "$b/tests/CTestTestfile.cmake" 2>/dev/null; then
    pinned=$(grep -o 'OPENBLAS_NUM_THREADS=[0-9]*' "$b/tests/CTestTestfile.cmake" | head -1)
  fi
  for ct in $coretypes; do
    for cores in $cores_list; do
      cpus=0
      [ "$cores" = 1 ] || cpus=0-$((cores - 1))
      for nt in $threads_list; do
        name="$(basename "$b")-$ct-${cores}core-nt$nt"
        envs=(OPENBLAS_CORETYPE="$ct" "${asan_env[@]}")
        if [ "$nt" = unset ]; then unset_arg=(-u OPENBLAS_NUM_THREADS); else unset_arg=(); envs+=(OPENBLAS_NUM_THREADS="$nt"); fi
        t0=$(date +%s)
        # shellcheck disable=SC2086
        env "${unset_arg[@]}" "${envs[@]}" taskset -c "$cpus" \
          ctest --test-dir "$b" -j2 --output-on-failure "${extra[@]}" ${NLPRNN_MATRIX_CTEST:-} \
          >"$logs/$name.log" 2>&1
        rc=$?
        secs=$(( $(date +%s) - t0 ))
        summary=$(grep -E 'tests passed|tests failed' "$logs/$name.log" | tail -1)
        failed=$(grep -E '^\s+[0-9]+ - ' "$logs/$name.log" | sed -E 's/^\s+[0-9]+ - //' | tr '\n' ' ')
        note=""
        [ "$nt" = unset ] && [ -n "$pinned" ] && note=" (pinned by CTest: $pinned)"
        [ $rc -eq 0 ] || fail=1
        row="| $kind | $ct | $cores | $nt$note | ${summary:-no summary (rc $rc)} ${failed:+FAILED: $failed}| ${secs} s |"
        rows+=("$row")
        echo "test-matrix: $name: rc $rc, $secs s: ${summary} ${failed}"
      done
    done
  done
done

echo
echo "scripts/test-matrix.sh ${builds[*]}   # started $started, $(nproc --all) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), openblas $(dpkg-query -W -f='${Version}' libopenblas0-pthread 2>/dev/null || echo '?')"
echo
echo "| build | OPENBLAS_CORETYPE | cores | OPENBLAS_NUM_THREADS | result | wall |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "logs: $logs"
exit $fail

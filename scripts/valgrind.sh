#!/usr/bin/env bash
# scripts/valgrind.sh [BUILD_DIR] [CTEST_REGEX]
#
# Valgrind memcheck over the test suite: every CTest test (label "slow" excluded) runs under
#   valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99
# with the environment CTest gives it. Any invalid read/write, use of uninitialised memory or
# definite/indirect leak fails the script; a test that skips (exit 77) stays skipped.
# BUILD_DIR (default build-valgrind) is configured RelWithDebInfo without sanitizers (valgrind
# and ASan do not mix). Logs: BUILD_DIR/valgrind/<test>.log. Figures go to docs/robustness.md.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-valgrind}
regex=${2:-.}
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind not installed (apt-get install valgrind)" >&2; exit 2; }
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNLPRNN_SANITIZE=OFF -DNLPRNN_TSAN=OFF >/dev/null
cmake --build "$build" -j2 >/dev/null
mkdir -p "$build/valgrind"
# --track-origins=yes explains uninitialised values but doubles the run time: NLPRNN_VG_ORIGINS=1.
origins=""
[ "${NLPRNN_VG_ORIGINS:-0}" = 1 ] && origins=--track-origins=yes
supp=()
[ -f scripts/valgrind.supp ] && supp=(--suppressions=scripts/valgrind.supp)

# Test name, command, working folder and environment from CTest itself.
ctest --test-dir "$build" --show-only=json-v1 -LE slow -R "$regex" >"$build/valgrind/tests.json"
python3 - "$build/valgrind/tests.json" >"$build/valgrind/tests.list" <<'PY'
import json, shlex, sys
for t in json.load(open(sys.argv[1]))["tests"]:
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    env = props.get("ENVIRONMENT", [])
    skip = props.get("SKIP_RETURN_CODE", 77)
    print("\t".join([t["name"], props.get("WORKING_DIRECTORY", "."), str(skip),
                     shlex.join(env), shlex.join(t["command"])]))
PY

pass=0 fail=0 skipped=0
start=$(date +%s)
while IFS=$'\t' read -r name wd skip env cmd; do
  log="$PWD/$build/valgrind/$name.log"
  set +e
  (cd "$wd" && eval "env $env OPENBLAS_NUM_THREADS=1 valgrind -q --tool=memcheck --leak-check=full \
      --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
      $origins --error-exitcode=99 ${supp[*]/#/$PWD/} --log-file=$log $cmd" \
      >"$log.out" 2>&1)
  rc=$?
  set -e
  if [ "$rc" = 0 ]; then pass=$((pass + 1)); echo "valgrind: ok      $name"
  elif [ "$rc" = "$skip" ]; then skipped=$((skipped + 1)); echo "valgrind: skipped $name"
  elif [ "$rc" = 99 ]; then
    fail=$((fail + 1)); echo "valgrind: MEMCHECK ERRORS in $name ($log)"
    sed -n '1,40p' "$log"
  else
    # memcheck found nothing, but the test itself failed under valgrind (valgrind runs a
    # different SIMD path, e.g. no AVX-512 clone, so tight numeric checks can differ)
    fail=$((fail + 1)); echo "valgrind: FAILED  $name (exit $rc, memcheck clean; $log.out)"
    grep -m5 'CHECK failed' "$log.out" || tail -5 "$log.out"
  fi
done <"$build/valgrind/tests.list"
echo "valgrind: $pass clean, $skipped skipped, $fail failed in $(( $(date +%s) - start )) s"
[ "$fail" = 0 ]

#!/usr/bin/env bash
# scripts/tsan.sh [BUILD_DIR]
#
# ThreadSanitizer job: builds the library and the thread tests (tests/test_threads*.c, among
# them test_threads_pool.c for the library's thread pool, and tests/test_pipe_infer.c) with
# -fsanitize=thread (clang when available) in BUILD_DIR (default build-tsan) and runs them; any
# data race report fails the run (halt_on_error). No OPENBLAS_NUM_THREADS here, as a user runs
# it: the library makes OpenBLAS single-threaded itself (common/pool.h), so the only threads that
# touch our memory are the pool's, which TSan sees (OpenBLAS is not instrumented: had it run a
# product on threads of its own, TSan would report their writes as races).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-tsan}
cc=${CC:-}
[ -z "$cc" ] && command -v clang >/dev/null && cc=clang
[ -z "$cc" ] && cc=cc
if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=$cc cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNLPRNN_TSAN=ON >/dev/null
else
  cmake -S . -B "$build" >/dev/null
fi
tests=$(cd tests && ls test_threads*.c 2>/dev/null | sed 's/\.c$//')
tests="$tests test_pipe_infer" # batch-1 inference split with the workspace's helper thread
[ -n "$tests" ] || { echo "tsan.sh: no tests/test_threads*.c" >&2; exit 1; }
cmake --build "$build" -j2 --target $tests >/dev/null
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
regex=$(echo $tests | sed 's/ /|/g')
ctest --test-dir "$build" --output-on-failure -R "^($regex)\$"

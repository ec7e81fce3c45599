#!/usr/bin/env bash
# scripts/check-abi.sh [BUILD_DIR] [--update]
#
# The ABI check: the dynamic symbols that libnlprnn.so exports must be exactly the committed list
# abi/nlprnn.symbols, every one of them must be declared NLPRNN_API in include/, every NLPRNN_API
# function declared in include/ must be exported, and the soname must carry the ABI version. The
# same for the MPI component libnlprnn-mpi.so (when built): abi/nlprnn-mpi.symbols and
# NLPRNN_MPI_API. The core must not need MPI, hwloc, libevent, PLplot or the CBLAS (ldd).
# A symbol that appears or disappears fails the check: update the list on purpose with --update
# (and bump NLPRNN_SOVERSION in CMakeLists.txt when a symbol is removed or changes meaning).
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
update=0
for a in "$@"; do
  case "$a" in
    --update) update=1 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) build=$a ;;
  esac
done
[ -f "$build/libnlprnn.so" ] || { echo "check-abi: $build/libnlprnn.so not found (build first: cmake --build $build)" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
abiver=$(sed -n 's/^set(NLPRNN_SOVERSION \([0-9]*\)).*/\1/p' CMakeLists.txt)
fail=0

# check LIB LIST MACRO: one library against its list and its export macro
check() {
  local lib=$1 list=$2 macro=$3 base
  base=$(basename "$lib")
  # Exported (defined, dynamic) symbols, version suffix stripped.
  nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWi]$/ {sub(/@.*/, "", $3); print $3}' | sort -u >"$tmp/exported"
  # Functions declared with the macro in the public headers (declarations may span lines;
  # comments are dropped first, they name other functions).
  cat include/nlprnn.h include/nlprnn/*.h | tr '\n' ' ' | sed 's#/\*\([^*]\|\*[^/]\)*\*/##g' | sed 's/;/;\n/g' |
    grep -E "(^|[^A-Za-z_])$macro[^A-Za-z_]" | grep -oE 'nlprnn_[A-Za-z0-9_]+[[:space:]]*\(' |
    sed 's/[[:space:]]*($//' | sort -u >"$tmp/declared"
  local soname bad undeclared unexported
  soname=$(objdump -p "$lib" | awk '$1 == "SONAME" {print $2}')
  if [ "$soname" != "$base.$abiver" ]; then
    echo "check-abi: soname is '$soname', expected $base.$abiver" >&2; fail=1
  fi
  bad=$(grep -v '^nlprnn_' "$tmp/exported" || true)
  if [ -n "$bad" ]; then
    echo "check-abi: $base exports symbols without the nlprnn_ prefix:" >&2; echo "$bad" | sed 's/^/  /' >&2; fail=1
  fi
  undeclared=$(comm -23 "$tmp/exported" "$tmp/declared")
  if [ -n "$undeclared" ]; then
    echo "check-abi: $base exports, but include/ does not declare $macro:" >&2; echo "$undeclared" | sed 's/^/  /' >&2; fail=1
  fi
  unexported=$(comm -13 "$tmp/exported" "$tmp/declared")
  if [ -n "$unexported" ]; then
    echo "check-abi: declared $macro in include/ but not exported by $base (missing definition?):" >&2
    echo "$unexported" | sed 's/^/  /' >&2; fail=1
  fi
  if [ "$update" = 1 ]; then
    { echo "# Exported symbols of $base.$abiver (scripts/check-abi.sh --update writes this file)."
      cat "$tmp/exported"; } >"$list"
    echo "check-abi: wrote $list ($(wc -l <"$tmp/exported") symbols)"
    return
  fi
  [ -f "$list" ] || { echo "check-abi: $list missing (run with --update)" >&2; fail=1; return; }
  grep -v '^#' "$list" | sort -u >"$tmp/committed"
  if ! diff -u "$tmp/committed" "$tmp/exported" >"$tmp/diff"; then
    echo "check-abi: symbols exported by $base differ from $list (- committed, + built):" >&2
    tail -n +3 "$tmp/diff" | grep '^[-+]' >&2
    echo "check-abi: if the change is intended, run scripts/check-abi.sh $build --update and commit" >&2
    fail=1
  fi
  [ "$fail" = 0 ] && echo "check-abi: $base ok ($(wc -l <"$tmp/exported") symbols, soname $soname)"
  return 0
}

check "$build/libnlprnn.so" abi/nlprnn.symbols NLPRNN_API
# The lean core: what inference needs and nothing else (the CBLAS is loaded on first use,
# common/blas.h: not a dependency).
heavy=$(ldd "$build/libnlprnn.so" | grep -Ei 'libmpi|open-rte|open-pal|hwloc|libevent|plplot|blas|gfortran' || true)
if [ -n "$heavy" ]; then
  echo "check-abi: libnlprnn.so links what the core must not need:" >&2; echo "$heavy" | sed 's/^/  /' >&2; fail=1
fi
if [ -f "$build/libnlprnn-mpi.so" ]; then
  check "$build/libnlprnn-mpi.so" abi/nlprnn-mpi.symbols NLPRNN_MPI_API
else
  echo "check-abi: libnlprnn-mpi.so not built (no MPI): its check skipped"
fi
exit $fail

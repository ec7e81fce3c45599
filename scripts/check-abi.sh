#!/usr/bin/env bash
# scripts/check-abi.sh [BUILD_DIR] [--update]
#
# The ABI check: the dynamic symbols that libnlprnn.so exports must be exactly the committed list
# abi/nlprnn.symbols, every one of them must be declared NLPRNN_API in include/, every NLPRNN_API
# function declared in include/ must be exported, and the soname must carry the ABI version.
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
lib="$build/libnlprnn.so"
[ -f "$lib" ] || { echo "check-abi: $lib not found (build first: cmake --build $build)" >&2; exit 2; }
list=abi/nlprnn.symbols
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Exported (defined, dynamic) symbols, version suffix stripped.
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWi]$/ {sub(/@.*/, "", $3); print $3}' | sort -u >"$tmp/exported"
# Functions declared NLPRNN_API in the public headers (declarations may span lines).
cat include/nlprnn.h include/nlprnn/*.h | tr '\n' ' ' | sed 's/;/;\n/g' |
  grep -E '(^|[^A-Za-z_])NLPRNN_API[^A-Za-z_]' | grep -oE 'nlprnn_[A-Za-z0-9_]+[[:space:]]*\(' |
  sed 's/[[:space:]]*($//' | sort -u >"$tmp/declared"

fail=0
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" {print $2}')
abiver=$(sed -n 's/^set(NLPRNN_SOVERSION \([0-9]*\)).*/\1/p' CMakeLists.txt)
if [ "$soname" != "libnlprnn.so.$abiver" ]; then
  echo "check-abi: soname is '$soname', expected libnlprnn.so.$abiver" >&2; fail=1
fi
bad=$(grep -v '^nlprnn_' "$tmp/exported" || true)
if [ -n "$bad" ]; then
  echo "check-abi: exported symbols without the nlprnn_ prefix:" >&2; echo "$bad" | sed 's/^/  /' >&2; fail=1
fi
undeclared=$(comm -23 "$tmp/exported" "$tmp/declared")
if [ -n "$undeclared" ]; then
  echo "check-abi: exported but not declared NLPRNN_API in include/:" >&2; echo "$undeclared" | sed 's/^/  /' >&2; fail=1
fi
unexported=$(comm -13 "$tmp/exported" "$tmp/declared")
if [ -n "$unexported" ]; then
  echo "check-abi: declared NLPRNN_API in include/ but not exported (missing definition?):" >&2
  echo "$unexported" | sed 's/^/  /' >&2; fail=1
fi

if [ "$update" = 1 ]; then
  { echo "# Exported symbols of libnlprnn.so.$abiver (scripts/check-abi.sh --update writes this file)."
    cat "$tmp/exported"; } >"$list"
  echo "check-abi: wrote $list ($(wc -l <"$tmp/exported") symbols)"
  exit $fail
fi
[ -f "$list" ] || { echo "check-abi: $list missing (run with --update)" >&2; exit 1; }
grep -v '^#' "$list" | sort -u >"$tmp/committed"
if ! diff -u "$tmp/committed" "$tmp/exported" >"$tmp/diff"; then
  echo "check-abi: exported symbols differ from $list (- committed, + built):" >&2
  tail -n +3 "$tmp/diff" | grep '^[-+]' >&2
  echo "check-abi: if the change is intended, run scripts/check-abi.sh $build --update and commit" >&2
  fail=1
fi
[ "$fail" = 0 ] && echo "check-abi: ok ($(wc -l <"$tmp/exported") symbols, soname $soname)"
exit $fail

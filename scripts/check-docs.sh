#!/usr/bin/env bash
# scripts/check-docs.sh [BUILD_DIR] [--update]
#
# Documentation checks:
#   1. Doxygen (docs/Doxyfile, warnings are errors): every function, type, enum value and field in
#      include/nlprnn.h and include/nlprnn/*.h has a doc comment. HTML goes to build-docs/html/.
#   2. Every subcommand the program lists (BUILD_DIR/nlprnn --help, default build/) answers
#      `nlprnn CMD --help` with exit 0, and docs/cli.md and docs/nlprnn.1 carry its exact help
#      text (scripts/docs-sync.py; --update rewrites them from the program).
#   3. Every exit code of cli/cli.h appears in docs/nlprnn.1 and docs/cli.md.
#   4. man --warnings has nothing to say of docs/nlprnn.1 (man-db; missing man is a failure).
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
update=""
for a in "$@"; do
  case "$a" in
    --update) update=--update ;;
    *) build=$a ;;
  esac
done
fail=0
command -v doxygen >/dev/null || { echo "check-docs: doxygen not installed (apt-get install doxygen)" >&2; exit 2; }

rm -rf build-docs
mkdir -p build-docs
if ! doxygen docs/Doxyfile >build-docs/doxygen.log 2>&1 || grep -q 'error:\|warning:' build-docs/doxygen.log; then
  echo "check-docs: Doxygen reports undocumented or badly documented public API:" >&2
  grep 'error:\|warning:' build-docs/doxygen.log | sed "s#$PWD/##" >&2 || cat build-docs/doxygen.log >&2
  fail=1
else
  n=$(cat include/nlprnn.h include/nlprnn/*.h | tr '\n' ' ' | sed 's/;/;\n/g' | grep -c 'NLPRNN_API' || true)
  echo "check-docs: doxygen ok ($n NLPRNN_API declarations documented; build-docs/html/index.html)"
fi

cli="$build/nlprnn"
if [ -x "$cli" ]; then
  # docs/cli.md and the man page carry every command's exact --help text (scripts/docs-sync.py).
  python3 scripts/docs-sync.py "$cli" $update || fail=1
else
  echo "check-docs: $cli not built; command reference not checked" >&2
  fail=1
fi

codes=$(sed -n 's/^ *CLI_[A-Z_]* *= *\([0-9][0-9]*\).*/\1/p' cli/cli.h)
for code in $codes; do
  grep -q "^\.B $code\$\|^\.TP\$\?.*$code" docs/nlprnn.1 || grep -q "^\.B $code" docs/nlprnn.1 ||
    { echo "check-docs: exit code $code missing from docs/nlprnn.1" >&2; fail=1; }
  grep -q "^| $code |" docs/cli.md || { echo "check-docs: exit code $code missing from docs/cli.md" >&2; fail=1; }
done
if command -v man >/dev/null; then
  if man --warnings -l docs/nlprnn.1 2>&1 >/dev/null | grep -v '^$' | grep -q .; then
    echo "check-docs: man page warnings:" >&2; man --warnings -l docs/nlprnn.1 2>&1 >/dev/null >&2; fail=1
  fi
else
  echo "check-docs: man not installed (apt-get install man-db): docs/nlprnn.1 not checked" >&2; fail=1
fi
[ "$fail" = 0 ] && echo "check-docs: ok"
exit $fail

#!/usr/bin/env bash
# examples/run-example.sh NAME EXE: run one built example on fixed input and check its output
# (used by scripts/check-install.sh for both the pkg-config and the find_package builds).
# Prints one summary line last; exits non-zero on a wrong result.
set -euo pipefail
name=$1
exe=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
die() { echo "run-example $name: $*" >&2; exit 1; }

case "$name" in
classify)
  # Two clear Korean reviews, one English line the Korean model still has to answer, an empty
  # line (must be reported, not crash) and an invalid UTF-8 line.
  printf '정말 재미있고 감동적인 최고의 영화였어요\n최악의 영화. 지루하고 시간 낭비였다\nnot Korean at all\n\n\xff\xfe broken\n' >"$tmp/in.txt"
  "$exe" ko <"$tmp/in.txt" >"$tmp/t1.txt" 2>"$tmp/err.txt" || die "exit $? ($(cat "$tmp/err.txt"))"
  "$exe" -t 4 ko <"$tmp/in.txt" >"$tmp/t4.txt" 2>/dev/null || die "-t 4: exit $?"
  cmp -s "$tmp/t1.txt" "$tmp/t4.txt" || die "4 threads sharing the model differ from 1 thread"
  [ "$(wc -l <"$tmp/t1.txt")" = 5 ] || die "expected 5 output lines, got $(wc -l <"$tmp/t1.txt")"
  pos=$(sed -n 1p "$tmp/t1.txt" | cut -f1)
  neg=$(sed -n 2p "$tmp/t1.txt" | cut -f1)
  [ "$pos" != "$neg" ] || die "the clear positive and negative reviews got the same label '$pos'"
  [ "$pos" = 1 ] || [ "$pos" = pos ] || [ "$pos" = positive ] || die "positive review labelled '$pos'"
  awk -F'\t' 'NR <= 3 && !($2 >= 0.5 && $2 <= 1) {exit 1}' "$tmp/t1.txt" || die "probabilities out of [0.5, 1]"
  sed -n 4p "$tmp/t1.txt" | grep -q $'^-\tNLPRNN_E_EMPTY' || die "empty line not reported as NLPRNN_E_EMPTY"
  sed -n 5p "$tmp/t1.txt" | grep -q $'^-\tNLPRNN_E_UTF8' || die "invalid UTF-8 not reported as NLPRNN_E_UTF8"
  grep -q 'line 5' "$tmp/err.txt" || die "no message naming line 5"
  echo "classify: positive -> $pos, negative -> $neg, empty and invalid lines reported, 1 thread == 4 threads"
  ;;
*)
  die "no check written for this example (add one to examples/run-example.sh)"
  ;;
esac

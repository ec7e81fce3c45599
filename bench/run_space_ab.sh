#!/usr/bin/env bash
# bench/run_space_ab.sh BUILD_DIR BASE_BUILD_DIR [ROUNDS] — word spacing before and after a change:
# `nlprnn space -m MODEL -t T -i FILE` over the 4,287 lines of the two ko-text test files
# (../shared/corpora/ko-text/news-ko.test.txt.gz and ud-kaist.test.ko.txt.gz, spaces removed;
# MODEL: pretrained/ko-space.nrm, or MODEL=FILE), with the nlprnn of BASE_BUILD_DIR ("base") and of
# BUILD_DIR ("new") in the same run, at THREADS (default "1"), ROUNDS rounds (default 4) in ABBA
# order (odd rounds base first, even rounds new first), so a change of the machine's load spreads
# over both. Both builds must print the same bytes: every output is compared with the first base
# output (a difference is reported, and the exit code is 1). The figures are CPU seconds of the
# whole command (user + sys), as in bench/run_classify_ab.sh (this machine is shared: wall time is
# what the scheduler gives; each run's wall time and 1-minute load are printed too), then per
# thread count the medians, the ratio base / new (> 1: the new build asks less of the machine) and
# lines per CPU second. Runs as a user runs nlprnn: no environment variable set.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: bench/run_space_ab.sh BUILD_DIR BASE_BUILD_DIR [ROUNDS]" >&2; exit 2; }
new="$1/nlprnn" base="$2/nlprnn" rounds=${3:-4}
model=${MODEL:-pretrained/ko-space.nrm} threads=${THREADS:-1}
corp=${NLPRNN_CORPORA:-../shared/corpora}/ko-text
for f in "$new" "$base"; do [ -x "$f" ] || { echo "run_space_ab: $f not found" >&2; exit 2; }; done
for f in news-ko.test.txt.gz ud-kaist.test.ko.txt.gz; do
  [ -f "$corp/$f" ] || { echo "run_space_ab: $corp/$f missing" >&2; exit 77; }
done
[ -x /usr/bin/time ] || { echo "run_space_ab: needs GNU time (apt-get install time)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash bench/env.sh
echo "base: $base ($(sha256sum < "$base" | cut -c1-12)); new: $new ($(sha256sum < "$new" | cut -c1-12)); model $model"
cp "$base" "$tmp/base" && cp "$new" "$tmp/new"
zcat "$corp/news-ko.test.txt.gz" "$corp/ud-kaist.test.ko.txt.gz" | tr -d ' ' > "$tmp/test.txt"
n=$(wc -l < "$tmp/test.txt")
echo "$n lines, $(wc -c < "$tmp/test.txt") bytes"
ab_cmd() { # ab_cmd WHO THREADS
  cmd=("$tmp/$1" space -m "$model" -t "$2" -i "$tmp/test.txt")
}
# shellcheck source=bench/ab_lib.sh
. bench/ab_lib.sh
ab_rounds
ab_summary "$n" lines 1
exit "$fail"

#!/usr/bin/env bash
# bench/run_classify_ab.sh BUILD_DIR BASE_BUILD_DIR [ROUNDS] — batch classification before and
# after a change: `nlprnn classify --model MODEL --lines --data-labels --skip-bad --threads T` over
# the 50,000 reviews of ../shared/corpora/nsmc/test.tsv.gz (MODEL: pretrained/ko.nrm, or
# MODEL=FILE), with the nlprnn of BASE_BUILD_DIR ("base") and of BUILD_DIR ("new") in the same
# run, at THREADS (default "1 2"), ROUNDS rounds (default 4) in ABBA order (odd rounds base
# first, even rounds new first), so a change of the machine's load spreads over both.
# Both builds must print the same bytes: every output is compared with the first base output
# (a difference is reported, and the exit code is 1). The figures are CPU seconds of the whole
# command (user + sys: load, read, tokenize, classify, print), because this machine is shared:
# the wall time is what the scheduler gives; each run's wall time and 1-minute load are printed
# too, then per thread count the medians, the ratio base / new (> 1: the new build asks less of
# the machine) and reviews per CPU second. Runs as a user runs nlprnn: no environment variable set.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: bench/run_classify_ab.sh BUILD_DIR BASE_BUILD_DIR [ROUNDS]" >&2; exit 2; }
new="$1/nlprnn" base="$2/nlprnn" rounds=${3:-4}
model=${MODEL:-pretrained/ko.nrm} threads=${THREADS:-1 2}
corp=../shared/corpora/nsmc
for f in "$new" "$base"; do [ -x "$f" ] || { echo "run_classify_ab: $f not found" >&2; exit 2; }; done
[ -f "$corp/test.tsv.gz" ] || { echo "run_classify_ab: $corp/test.tsv.gz missing" >&2; exit 77; }
[ -x /usr/bin/time ] || { echo "run_classify_ab: needs GNU time (apt-get install time)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash bench/env.sh
echo "base: $base ($(sha256sum < "$base" | cut -c1-12)); new: $new ($(sha256sum < "$new" | cut -c1-12)); model $model"
cp "$base" "$tmp/base" && cp "$new" "$tmp/new"
{ zcat "$corp/test.tsv.gz" || true; } | tail -n +2 | cut -f2 > "$tmp/test.txt"
n=$(wc -l < "$tmp/test.txt")
ab_cmd() { # ab_cmd WHO THREADS; exit 3: some reviews are empty (--skip-bad reports them and goes on)
  cmd=("$tmp/$1" classify --model "$model" --lines --data-labels --skip-bad --threads "$2" "$tmp/test.txt")
}
AB_OK_RC=3
# shellcheck source=bench/ab_lib.sh
. bench/ab_lib.sh
ab_rounds
ab_summary "$n" "K reviews" 1000
exit "$fail"

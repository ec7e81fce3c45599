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
fail=0
run() { # run WHO THREADS ROUND
  local l
  l=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -f '%e %U %S' -o "$tmp/t" "$tmp/$1" space -m "$model" -t "$2" -i "$tmp/test.txt" \
    > "$tmp/out" 2> /dev/null
  read -r w u s < "$tmp/t"
  [ -f "$tmp/ref" ] || cp "$tmp/out" "$tmp/ref"
  local same=same
  cmp -s "$tmp/out" "$tmp/ref" || { same=DIFFERENT; fail=1; }
  echo "run $1 threads=$2 round=$3 wall=$w cpu=$(echo "$u + $s" | bc) load1=$l $same" | tee -a "$tmp/runs"
}
for r in $(seq 1 "$rounds"); do
  for t in $threads; do
    if [ $((r % 2)) -eq 1 ]; then run base "$t" "$r"; run new "$t" "$r"; else run new "$t" "$r"; run base "$t" "$r"; fi
  done
done
echo "after: load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
python3 - "$tmp/runs" "$n" <<'PY'
import statistics, sys
v = {}
for line in open(sys.argv[1]):
    f = dict(x.split("=", 1) for x in line.split()[2:6])
    v.setdefault((int(f["threads"]), line.split()[1]), []).append(float(f["cpu"]))
n = int(sys.argv[2])
print()
print("| threads | base CPU s (runs) | new CPU s (runs) | CPU s median base -> new | base / new | lines per CPU second |")
print("|---|---|---|---|---|---|")
for t in sorted({k[0] for k in v}):
    b, a = v[(t, "base")], v[(t, "new")]
    mb, ma = statistics.median(b), statistics.median(a)
    print("| %d | %s | %s | %.2f -> %.2f | %.2fx | %.0f -> %.0f |" % (
        t, ", ".join("%.2f" % x for x in b), ", ".join("%.2f" % x for x in a), mb, ma, mb / ma,
        n / mb, n / ma))
PY
[ "$fail" = 0 ] && echo "outputs: every run printed the same bytes" || echo "outputs: DIFFERENT (see the runs)"
exit "$fail"

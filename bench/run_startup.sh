#!/usr/bin/env bash
# bench/run_startup.sh: one request with model load, for two nlprnn programs side by side (issue 15).
#
#   bench/run_startup.sh BEFORE_PROGRAM AFTER_PROGRAM [ROUNDS [RUNS]]
#
# Each program runs `classify examples/review.txt`, `space 아버지가방에들어가신다`,
# `next "이 영화 정말"`, `fill "이 영화 ___ 재밌다"` (the shipped default models, found by the
# program from its own folder, so each program folder needs share/nlprnn/models or must be a
# build folder) and `--version`. ROUNDS rounds (default 6); in each round and for each command,
# two hyperfine runs back to back (ABBA): before then after, and after then before, RUNS/2 runs
# of each program in each (RUNS default 20, rounded up to even; 3 warm-up runs each), so that
# both programs meet the same minutes of a loaded machine and each runs first and second equally
# often (hyperfine runs all of one command's runs before the next's; with before always first,
# the program run second was once measured ~0.3 ms faster per classify, whichever it was). The
# table gives, over all rounds, the minimum and median wall time, the mean user+system CPU time
# (hyperfine's), the median wall and mean CPU time when the program ran first and when second
# (the order's effect, which the overall figures cancel), and the after/before ratios of the
# median wall and mean CPU times. bench/env.sh and the load are printed first and last. Run it
# under `nice -n 19` on a shared machine: both programs alike. The same program twice (A against
# A) gives ratios of 1.00 within the noise (docs/benchmarks.md "Start-up, run 11").
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n 3,20p "$0" >&2; exit 2; }
before=$1 after=$2 rounds=${3:-6} runs=${4:-20}
half=$(( (runs + 1) / 2 ))
command -v hyperfine >/dev/null || { echo "run_startup: needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nlprnn-startup.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
review=$PWD/examples/review.txt
bench/env.sh
sentence=아버지가방에들어가신다 prefix="이 영화 정말" blank="이 영화 ___ 재밌다"
for p in "$before" "$after"; do
  echo "$p: $("$p" classify "$review" | tr '\t' ' '); $("$p" space "$sentence");" \
    "$("$p" next -k 1 "$prefix" | tr '\t' ' '); $("$p" fill -k 1 "$blank" | tr '\t' ' ')"
done
# pair KIND ARGS: one hyperfine run per order, its JSON named by the order (ab: before first).
pair() {
  local kind=$1 args=$2
  hyperfine -N -w 3 -r "$half" --export-json "$tmp/$kind.$r.ab.json" \
    -n before "$before $args" -n after "$after $args" >/dev/null 2>&1
  hyperfine -N -w 3 -r "$half" --export-json "$tmp/$kind.$r.ba.json" \
    -n after "$after $args" -n before "$before $args" >/dev/null 2>&1
}
for r in $(seq "$rounds"); do
  pair one "classify $review"
  pair spc "space $sentence"
  pair nxt "next '$prefix'"
  pair fil "fill '$blank'"
  pair ver "--version"
done
python3 - "$tmp" <<'PY'
import glob, json, statistics, sys
tmp = sys.argv[1]
med = statistics.median
print(f"{'command':<36} {'program':<7} {'min ms':>7} {'median ms':>9} {'CPU ms (mean)':>13} "
      f"{'med 1st':>8} {'med 2nd':>8} {'CPU 1st':>8} {'CPU 2nd':>8} {'runs':>5}")
ratios = []
for kind, label in (("one", "classify examples/review.txt"), ("spc", "space 아버지가방에들어가신다"),
                    ("nxt", "next '이 영화 정말'"), ("fil", "fill '이 영화 ___ 재밌다'"),
                    ("ver", "--version")):
    row = {}
    for name in ("before", "after"):
        times, cpu, pos, cpos = [], [], {0: [], 1: []}, {0: [], 1: []}
        for f in sorted(glob.glob(f"{tmp}/{kind}.*.json")):
            for i, res in enumerate(json.load(open(f))["results"]):
                if res["command"] == name:
                    times += res["times"]
                    pos[i] += res["times"]
                    cpu += [res["user"] + res["system"]] * len(res["times"])
                    cpos[i].append(res["user"] + res["system"])
        row[name] = (med(times), statistics.mean(cpu))
        print(f"{label:<36} {name:<7} {1e3*min(times):7.1f} {1e3*med(times):9.1f} "
              f"{1e3*statistics.mean(cpu):13.1f} {1e3*med(pos[0]):8.1f} {1e3*med(pos[1]):8.1f} "
              f"{1e3*statistics.mean(cpos[0]):8.1f} {1e3*statistics.mean(cpos[1]):8.1f} "
              f"{len(times):5d}")
    ratios.append((label, row["after"][0] / row["before"][0], row["after"][1] / row["before"][1]))
print(f"\n{'after / before':<36} {'median wall':>11} {'mean CPU':>9}")
for label, w, c in ratios:
    print(f"{label:<36} {w:11.3f} {c:9.3f}")
PY
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

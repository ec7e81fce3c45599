#!/usr/bin/env bash
# bench/run_startup.sh: one request with model load, for two nlprnn programs side by side (issue 15).
#
#   bench/run_startup.sh BEFORE_PROGRAM AFTER_PROGRAM [ROUNDS [RUNS]]
#
# Each program runs `classify examples/review.txt`, `space 아버지가방에들어가신다`,
# `next "이 영화 정말"`, `fill "이 영화 ___ 재밌다"` (the shipped default models, found by the
# program from its own folder, so each program folder needs share/nlprnn/models or must be a
# build folder) and `--version`. ROUNDS rounds (default 6), each
# a hyperfine run of the two programs one after the other per command (RUNS runs each, default
# 20, 3 warm-up runs), so that both meet the same minutes of a loaded machine; the table gives,
# over all rounds, the minimum and the median wall time, and the mean user+system CPU time
# (hyperfine's). bench/env.sh and the load are printed first and last. Run it under `nice -n 19`
# on a shared machine: both programs alike.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n 3,15p "$0" >&2; exit 2; }
before=$1 after=$2 rounds=${3:-6} runs=${4:-20}
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
for r in $(seq "$rounds"); do
  hyperfine -N -w 3 -r "$runs" --export-json "$tmp/one.$r.json" \
    -n before "$before classify $review" -n after "$after classify $review" >/dev/null 2>&1
  hyperfine -N -w 3 -r "$runs" --export-json "$tmp/spc.$r.json" \
    -n before "$before space $sentence" -n after "$after space $sentence" >/dev/null 2>&1
  hyperfine -N -w 3 -r "$runs" --export-json "$tmp/nxt.$r.json" \
    -n before "$before next '$prefix'" -n after "$after next '$prefix'" >/dev/null 2>&1
  hyperfine -N -w 3 -r "$runs" --export-json "$tmp/fil.$r.json" \
    -n before "$before fill '$blank'" -n after "$after fill '$blank'" >/dev/null 2>&1
  hyperfine -N -w 3 -r "$runs" --export-json "$tmp/ver.$r.json" \
    -n before "$before --version" -n after "$after --version" >/dev/null 2>&1
done
python3 - "$tmp" <<'PY'
import glob, json, statistics, sys
tmp = sys.argv[1]
print(f"{'command':<36} {'program':<7} {'min ms':>7} {'median ms':>9} {'CPU ms (mean)':>13} {'runs':>5}")
for kind, label in (("one", "classify examples/review.txt"), ("spc", "space 아버지가방에들어가신다"),
                    ("nxt", "next '이 영화 정말'"), ("fil", "fill '이 영화 ___ 재밌다'"),
                    ("ver", "--version")):
    for name in ("before", "after"):
        times, cpu = [], []
        for f in sorted(glob.glob(f"{tmp}/{kind}.*.json")):
            for res in json.load(open(f))["results"]:
                if res["command"] == name:
                    times += res["times"]
                    cpu.append(res["user"] + res["system"])
        print(f"{label:<36} {name:<7} {1e3*min(times):7.1f} {1e3*statistics.median(times):9.1f} "
              f"{1e3*statistics.mean(cpu):13.1f} {len(times):5d}")
PY
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

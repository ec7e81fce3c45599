# bench/ab_lib.sh — sourced by bench/run_classify_ab.sh and bench/run_space_ab.sh: a base and a new
# build of nlprnn run the same command in ABBA order (odd rounds base first, even rounds new
# first, so a change of the machine's load spreads over both), CPU seconds (user + sys) of each
# whole command, every output compared byte for byte with the first base output.
# The script sets tmp (a scratch folder holding the binaries as $tmp/base and $tmp/new), rounds and
# threads, and defines ab_cmd WHO THREADS, which fills the array `cmd` with the command to run
# ("$tmp/$WHO" ...; AB_OK_RC: an exit code besides 0 that counts as success). Then:
#   ab_rounds            runs the rounds; sets fail=1 when an output differs
#   ab_summary N UNIT K  per thread count: the runs, medians, base / new, and N / CPU s as UNIT per
#                        CPU second (divided by K: 1000 with UNIT "K reviews" prints thousands)
# shellcheck shell=bash disable=SC2154  # tmp, cmd, rounds, threads: set by the sourcing script

ab_run() { # ab_run WHO THREADS ROUND
  local l w u s same=same
  l=$(cut -d' ' -f1 /proc/loadavg)
  ab_cmd "$1" "$2"
  /usr/bin/time -f '%e %U %S' -o "$tmp/t" "${cmd[@]}" > "$tmp/out" 2> /dev/null || [ $? -eq "${AB_OK_RC:-0}" ]
  read -r w u s < "$tmp/t"
  [ -f "$tmp/ref" ] || cp "$tmp/out" "$tmp/ref"
  cmp -s "$tmp/out" "$tmp/ref" || { same=DIFFERENT; fail=1; }
  echo "run $1 threads=$2 round=$3 wall=$w cpu=$(echo "$u + $s" | bc) load1=$l $same" | tee -a "$tmp/runs"
}

ab_rounds() {
  fail=0
  local r t
  for r in $(seq 1 "$rounds"); do
    for t in $threads; do
      if [ $((r % 2)) -eq 1 ]; then ab_run base "$t" "$r"; ab_run new "$t" "$r"
      else ab_run new "$t" "$r"; ab_run base "$t" "$r"; fi
    done
  done
  echo "after: load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
}

ab_summary() { # ab_summary N UNIT K
  python3 - "$tmp/runs" "$1" "$2" "$3" <<'PY'
import statistics, sys
v = {}
for line in open(sys.argv[1]):
    f = dict(x.split("=", 1) for x in line.split()[2:6])
    v.setdefault((int(f["threads"]), line.split()[1]), []).append(float(f["cpu"]))
n, unit, k = int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
print()
print("| threads | base CPU s (runs) | new CPU s (runs) | CPU s median base -> new | base / new | %s per CPU second |" % unit)
print("|---|---|---|---|---|---|")
for t in sorted({key[0] for key in v}):
    b, a = v[(t, "base")], v[(t, "new")]
    mb, ma = statistics.median(b), statistics.median(a)
    fmt = "%.1f" if k > 1 else "%.0f"
    print("| %d | %s | %s | %.2f -> %.2f | %.2fx | %s -> %s |" % (
        t, ", ".join("%.2f" % x for x in b), ", ".join("%.2f" % x for x in a), mb, ma, mb / ma,
        fmt % (n / mb / k), fmt % (n / ma / k)))
PY
  if [ "$fail" = 0 ]; then echo "outputs: every run printed the same bytes"; else echo "outputs: DIFFERENT (see the runs)"; fi
}

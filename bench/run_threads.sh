#!/usr/bin/env bash
# bench/run_threads.sh [BUILD_DIR] [ROUNDS] — threads as a user runs them (no environment
# variable set by hand): wall time of
#   train     `nlprnn train` over the first 10,000 reviews of nsmc/train.tsv.gz, the shipped
#             shape (scripts/train-ko.sh: BPE 16K tokenizer pretrained/ko.tok, embedding 128,
#             BiLSTM 128, max pooling, dropout 0.2, Adam, batch 64, 128 tokens max), 1 epoch
#   classify  `nlprnn classify --lines --skip-bad` over the 50,000 reviews of nsmc/test.tsv.gz
#             (pretrained/ko.nrm), output to /dev/null
# for --threads 1, 2, 4, 8 (NLPRNN_BENCH_THREADS), on a quiet machine and with a competing busy
# process (`yes > /dev/null` pinned to CPU 0 with taskset), ROUNDS rounds (default 3) of every
# thread count in turn, so that a change of load spreads over all of them. Prints one line per
# run and a table of min / median / max wall seconds (and user+sys CPU seconds) per case, with
# the environment (bench/env.sh) and the load before and after.
# NLPRNN_BASE=PATH also runs another nlprnn binary (e.g. one built before a change) in the same
# rounds, labelled "base". NLPRNN_BENCH_WHAT="train" (or "classify") runs only that command.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
rounds=${2:-3}
threads=${NLPRNN_BENCH_THREADS:-1 2 4 8}
whats=${NLPRNN_BENCH_WHAT:-train classify}
corp=../shared/corpora/nsmc
[ -f "$corp/train.tsv.gz" ] || { echo "run_threads: $corp/train.tsv.gz missing" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "run_threads: needs GNU time (apt-get install time)" >&2; exit 2; }
bins=("new=$(realpath "$build/nlprnn")")
[ -n "${NLPRNN_BASE:-}" ] && bins+=("base=$(realpath "$NLPRNN_BASE")")
tok=$(realpath pretrained/ko.tok)
model=$(realpath pretrained/ko.nrm)

tmp=$(mktemp -d)
busy_pid=""
cleanup() { [ -n "$busy_pid" ] && kill "$busy_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
{ zcat "$corp/train.tsv.gz" || true; } | head -10001 > "$tmp/train10k.tsv" # zcat: SIGPIPE
zcat "$corp/test.tsv.gz" | tail -n +2 | cut -f2 > "$tmp/test.txt"

# one run: prints "wall cpu" (seconds; cpu = user + sys of the program, GNU time)
run() { # what bin threads
  local what=$1 bin=$2 t=$3
  if [ "$what" = train ]; then
    /usr/bin/time -f '%e %U %S' -o "$tmp/time" \
      "$bin" train "$tmp/train10k.tsv" -o "$tmp/m.nrm" --tokenizer "$tok" --embed 128 --cell lstm \
      --bidirectional 1 --hidden 128 --pool max --dropout 0.2 --optimizer adam --lr 0.002 \
      --lr-schedule linear --clip 5 --epochs 1 --batch 64 --seed 1 --threads "$t" \
      --valid-split 0.05 --patience 2 --max-tokens 128 --storage f16 >/dev/null 2>&1
  else
    # exit 3: some reviews are empty (--skip-bad prints them as errors and goes on)
    /usr/bin/time -f '%e %U %S' -o "$tmp/time" \
      "$bin" classify --model "$model" --lines --skip-bad --threads "$t" "$tmp/test.txt" \
      >/dev/null 2>&1 || [ $? -eq 3 ]
  fi
  awk '{printf "%s %.2f\n", $1, $2 + $3}' "$tmp/time"
}

echo "== environment (before)"
bench/env.sh
echo "nlprnn binaries: ${bins[*]}"
echo "rounds: $rounds, threads: $threads, commands: $whats"
for load in quiet busy; do
  if [ "$load" = busy ]; then
    taskset -c 0 yes > /dev/null &
    busy_pid=$!
    sleep 1
  fi
  for what in $whats; do
    for r in $(seq "$rounds"); do
      for b in "${bins[@]}"; do
        for t in $threads; do
          read -r wall cpu < <(run "$what" "${b#*=}" "$t")
          printf 'run %s %s %s threads=%s round=%s wall=%.2f cpu=%.2f load1=%s\n' "$load" "$what" \
            "${b%%=*}" "$t" "$r" "$wall" "$cpu" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$tmp/runs"
        done
      done
    done
  done
  if [ -n "$busy_pid" ]; then kill "$busy_pid"; wait "$busy_pid" 2>/dev/null || true; busy_pid=""; fi
done
echo "== environment (after)"
bench/env.sh | tail -1
echo
echo "| load | command | binary | threads | wall s min / median / max | CPU s median |"
echo "|---|---|---|---|---|---|"
python3 - "$tmp/runs" <<'PY'
import sys, statistics, collections
runs = collections.OrderedDict()
for line in open(sys.argv[1]):
    f = line.split()
    kv = dict(x.split("=") for x in f[4:])
    runs.setdefault((f[1], f[2], f[3], kv["threads"]), []).append((float(kv["wall"]), float(kv["cpu"])))
for (load, what, b, t), v in runs.items():
    w = sorted(x[0] for x in v)
    c = statistics.median(x[1] for x in v)
    print(f"| {load} | {what} | {b} | {t} | {w[0]:.2f} / {statistics.median(w):.2f} / {w[-1]:.2f} | {c:.2f} |")
PY

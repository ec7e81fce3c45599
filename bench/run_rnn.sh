#!/usr/bin/env bash
# bench/run_rnn.sh [BUILD_DIR] [SECONDS] [THREADS...]
#
# nlprnn's recurrent core against PyTorch (Debian python3-torch 1.13, CPU, float32), side by side
# in one run, same shapes and thread count: input (embedding) 128, batch 64, length 32, hidden
# 256 and 512, LSTM and GRU. For each thread count: training-step tokens/s, inference
# sequences/s at batch 64 and at batch 1, and the LSTM training step's GFLOP/s as a fraction of
# the sgemm GFLOP/s measured the same way (n=1024, same threads). Prints a Markdown table and the
# environment (bench/env.sh). Each figure is the median step time over SECONDS (default 3).
# nlprnn runs with OPENBLAS_NUM_THREADS=1 and its own --threads; PyTorch with torch.set_num_threads.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${2:-3}
shift $(( $# > 2 ? 2 : $# )) || true
threads=("$@")
[ ${#threads[@]} -gt 0 ] || threads=(1 2)
bin="$build/bench/bench_rnn"
[ -x "$bin" ] || { echo "run_rnn: $bin not found (build first: cmake --build $build --target bench_rnn)" >&2; exit 2; }
py=/usr/bin/python3
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=
unset OMP_NUM_THREADS

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

bench/env.sh
echo
for th in "${threads[@]}"; do
  peak=$(nice "$bin" --mode sgemm --threads "$th" --seconds "$secs" | field gflops)
  echo "### threads=$th (measured sgemm peak ${peak} GFLOP/s)"
  echo
  echo "| cell | hidden | measure | nlprnn | PyTorch | ratio | nlprnn GFLOP/s (% of sgemm peak) |"
  echo "|---|---|---|---|---|---|---|"
  for cell in lstm gru; do
    for h in 256 512; do
      for m in "train 64 tokens_per_s tokens/s (train)" "infer 64 seqs_per_s seq/s (infer, batch 64)" "infer 1 seqs_per_s seq/s (infer, batch 1)"; do
        set -- $m
        mode=$1 b=$2 key=$3; shift 3; label="$*"
        args=(--cell "$cell" --mode "$mode" --input 128 --hidden "$h" --batch "$b" --len 32 --threads "$th" --seconds "$secs")
        ours=$(nice "$bin" "${args[@]}")
        theirs=$(nice "$py" bench/bench_rnn_torch.py "${args[@]}")
        o=$(echo "$ours" | field "$key"); t=$(echo "$theirs" | field "$key")
        gf=$(echo "$ours" | field gflops)
        ratio=$(awk -v a="$o" -v b="$t" 'BEGIN{printf "%.2f", a/b}')
        frac=$(awk -v a="$gf" -v b="$peak" 'BEGIN{printf "%.0f%%", 100*a/b}')
        echo "| $cell | $h | $label | $o | $t | ${ratio}x | $gf ($frac) |"
      done
    done
  done
  echo
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

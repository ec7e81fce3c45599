#!/usr/bin/env bash
# bench/run_rnn.sh [BUILD_DIR] [SECONDS] [THREADS...]
#
# nlprnn's recurrent core against PyTorch (Debian python3-torch 1.13, CPU, float32), side by side
# in one run, same shapes and thread count: input (embedding) 128, batch 64, length 32, hidden
# 256 and 512, LSTM and GRU. For each thread count: training-step tokens/s, inference
# sequences/s at batch 64 and at batch 1, and both implementations' GFLOP/s (same flop count) as a
# fraction of the peak: the sgemm GFLOP/s measured the same way (n=1024, same threads) through
# nlprnn's nr_sgemm, i.e. with nlprnn's own kernels of the path in force (NLPRNN_KERNEL, default
# the best the CPU has: AVX-512 here), the fastest sgemm this CPU reaches that we know of. Printed
# beside it: the same sgemm through OpenBLAS (with the kernels OPENBLAS_CORETYPE pins) and the
# arithmetic peak of a register-only FMA loop (bench_rnn --mode fma). Then the recurrent
# products alone: batch 1 (bench_rnn --mode gemv, the floor of batch-1 inference time that no
# arrangement of the rest removes) and the batch-64 step GEMM (--mode step). Batch-1 inference
# and the floor are also run with W_hh stored as float16 (--weights f16, models/gemv_f16.h: the
# products of the same f16 values with float32 accumulation, as the shipped f16 models run),
# beside the same PyTorch float32 figure. Prints Markdown
# tables and the environment (bench/env.sh). Each figure comes from the fastest step over
# SECONDS (default 3); STAT=median: from the median step. On a shared machine the median includes
# the time the process waited for a core, which the fastest step shows least. Same statistic for
# every column.
# nlprnn runs with OPENBLAS_NUM_THREADS=1 and its own --threads; PyTorch with torch.set_num_threads.
# Run the script itself under nice (nice bench/run_rnn.sh ...): both programs then get the same
# priority (the script does not nice them again, which on a busy machine starved both at 19).
# RNN_MODES (default "train infer64 infer1 floor") picks the measures: training tokens/s,
# inference at batch 64, at batch 1 (with its f16 row), the products-alone table. Before/after:
# RNN_BASE=BUILD_DIR also runs that build's bench_rnn (e.g. main before a change) for each row of
# the main table, in alternating order with this build's (ABBA over the rows), and adds the
# columns "base nlprnn" and "this / base".
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${2:-3}
shift $(( $# > 2 ? 2 : $# )) || true
threads=("$@")
[ ${#threads[@]} -gt 0 ] || threads=(1 2)
bin="$build/bench/bench_rnn"
[ -x "$bin" ] || { echo "run_rnn: $bin not found (build first: cmake --build $build --target bench_rnn)" >&2; exit 2; }
# shellcheck source=bench/peers.sh
. bench/peers.sh
need_torch
need_install run_rnn
modes=" ${RNN_MODES:-train infer64 infer1 floor} "
base=""
if [ -n "${RNN_BASE:-}" ]; then
  base="$RNN_BASE/bench/bench_rnn"
  [ -x "$base" ] || { echo "run_rnn: $base not found" >&2; exit 2; }
fi
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=
unset OMP_NUM_THREADS

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
stat=${STAT:-best}
case "$stat" in best) pre=best_ ;; median) pre= ;; *) echo "run_rnn: STAT must be best or median" >&2; exit 2 ;; esac

bench/env.sh
echo
for th in "${threads[@]}"; do
  sg=$("$bin" --mode sgemm --threads "$th" --seconds "$secs")
  peak=$(echo "$sg" | field ${pre}gflops); kpath=$(echo "$sg" | field path)
  blas=$("$bin" --mode blas --threads "$th" --seconds "$secs" | field ${pre}gflops)
  fma=$("$bin" --mode fma --threads "$th" --seconds "$secs" | field ${pre}gflops)
  echo "### threads=$th (peak: sgemm 1024^3 with nlprnn's $kpath kernels ${peak} GFLOP/s; OpenBLAS sgemm ${blas} GFLOP/s (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}); FMA loop ${fma} GFLOP/s; statistic: $stat step)"
  echo
  bh=""; bs=""
  [ -z "$base" ] || bh=" base nlprnn | this / base | base / PyTorch |" bs="---|---|---|"
  echo "| cell | hidden | measure | nlprnn | PyTorch | ratio | nlprnn GFLOP/s (% of peak) | PyTorch GFLOP/s (% of peak) |$bh"
  echo "|---|---|---|---|---|---|---|---|$bs"
  row=0
  for cell in lstm gru; do
    for h in 256 512; do
      for m in "train 64 tokens_per_s tokens/s (train)" "infer64 64 seqs_per_s seq/s (infer, batch 64)" "infer1 1 seqs_per_s seq/s (infer, batch 1)"; do
        set -- $m
        mode=$1 b=$2 key=$3; shift 3; label="$*"
        [[ "$modes" == *" $mode "* ]] || continue
        mode=${mode%%[0-9]*}
        args=(--cell "$cell" --mode "$mode" --input 128 --hidden "$h" --batch "$b" --len 32 --threads "$th" --seconds "$secs")
        row=$((row + 1)); bo=""
        [ -z "$base" ] || [ $((row % 2)) -eq 1 ] || bo=$("$base" "${args[@]}")
        ours=$("$bin" "${args[@]}")
        theirs=$("$py" bench/bench_rnn_torch.py "${args[@]}")
        [ -z "$base" ] || [ $((row % 2)) -eq 0 ] || bo=$("$base" "${args[@]}")
        o=$(echo "$ours" | field "$pre$key"); t=$(echo "$theirs" | field "$pre$key")
        gf=$(echo "$ours" | field ${pre}gflops); tgf=$(echo "$theirs" | field ${pre}gflops)
        ratio=$(awk -v a="$o" -v b="$t" 'BEGIN{printf "%.2f", a/b}')
        frac=$(awk -v a="$gf" -v b="$peak" 'BEGIN{printf "%.0f%%", 100*a/b}')
        tfrac=$(awk -v a="$tgf" -v b="$peak" 'BEGIN{printf "%.0f%%", 100*a/b}')
        bc=""
        if [ -n "$base" ]; then
          bv=$(echo "$bo" | field "$pre$key")
          bc=" $bv | $(awk -v a="$o" -v b="$bv" 'BEGIN{printf "%.2f", a/b}')x | $(awk -v a="$bv" -v b="$t" 'BEGIN{printf "%.2f", a/b}')x |"
        fi
        echo "| $cell | $h | $label | $o | $t | ${ratio}x | $gf ($frac) | $tgf ($tfrac) |$bc"
        if [ "$mode" = infer ] && [ "$b" = 1 ]; then
          # same PyTorch figure; nlprnn with W_hh stored as float16 (as the shipped .nrm models)
          f16=$("$bin" "${args[@]}" --weights f16)
          o=$(echo "$f16" | field "$pre$key"); gf=$(echo "$f16" | field ${pre}gflops)
          ratio=$(awk -v a="$o" -v b="$t" 'BEGIN{printf "%.2f", a/b}')
          frac=$(awk -v a="$gf" -v b="$peak" 'BEGIN{printf "%.0f%%", 100*a/b}')
          echo "| $cell | $h | seq/s (infer, batch 1, f16-stored W_hh: exact products of the f16 values, float32 accumulation) | $o | $t | ${ratio}x | $gf ($frac) | $tgf ($tfrac) |${base:+ - | - | - |}"
        fi
      done
    done
  done
  echo
  [[ "$modes" == *" floor "* ]] || continue
  echo "The recurrent products alone (threads=$th, one thread does them): batch 1, 32 steps of W_hh"
  echo "(G*H,H) times h (the floor of batch-1 inference time), and the batch-64 step GEMM"
  echo "h (64,H) W_hh^T (what OpenBLAS reaches at that shape)"
  echo
  echo "| cell | hidden | W_hh MiB | batch-1 floor seq/s | GB/s | f16 W_hh MiB | f16 batch-1 floor seq/s | f16 GB/s | batch-64 step GEMM GFLOP/s (% of peak) |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for cell in lstm gru; do
    for h in 256 512; do
      f=$("$bin" --cell "$cell" --mode gemv --hidden "$h" --len 32 --seconds "$secs")
      f16=$("$bin" --cell "$cell" --mode gemv --hidden "$h" --len 32 --seconds "$secs" --weights f16)
      g=$("$bin" --cell "$cell" --mode step --hidden "$h" --batch 64 --len 32 --seconds "$secs" | field ${pre}gflops)
      gp=$(awk -v a="$g" -v b="$peak" 'BEGIN{printf "%.0f%%", 100*a/b}')
      echo "| $cell | $h | $(echo "$f" | field mib) | $(echo "$f" | field ${pre}seqs_per_s) | $(echo "$f" | field ${pre}gbps) | $(echo "$f16" | field mib) | $(echo "$f16" | field ${pre}seqs_per_s) | $(echo "$f16" | field ${pre}gbps) | $g ($gp) |"
    done
  done
  echo
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

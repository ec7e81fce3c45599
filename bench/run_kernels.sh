#!/usr/bin/env bash
# bench/run_kernels.sh [BUILD_DIR] [SECONDS]
#
# nlprnn's own GEMM kernels (models/kernels/kernels.h) against OpenBLAS, one core, side by side in
# one run (docs/benchmarks.md, section "kernels"): the peaks (a register-only FMA loop of each
# vector path; a 1024^3 sgemm through nlprnn's AVX-512 and AVX2 kernels and through OpenBLAS with
# the kernels OPENBLAS_CORETYPE pins), then bench_gemm's table: every product shape of the
# recurrent layers, CBLAS vs each path's kernel with B packed inside the call and packed
# beforehand, fastest call of each over SECONDS (default 1), calls interleaved. Prints the
# environment (bench/env.sh) and the load before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${2:-1}
for b in bench_rnn bench_gemm; do
  [ -x "$build/bench/$b" ] || { echo "run_kernels: $build/bench/$b not found (build first)" >&2; exit 2; }
done
export OPENBLAS_NUM_THREADS=1
unset NLPRNN_KERNEL
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
bench/env.sh
echo
echo "| peak, one core (fastest run over ${secs} s) | GFLOP/s |"
echo "|---|---|"
for p in avx512 avx2; do
  out=$(NLPRNN_KERNEL=$p "$build/bench/bench_rnn" --mode fma --seconds "$secs")
  [ "$(echo "$out" | field path)" = "$p" ] || { echo "| FMA loop, $p | (not on this CPU) |"; continue; }
  echo "| FMA loop, $p (bench_rnn --mode fma) | $(echo "$out" | field best_gflops) |"
  echo "| sgemm 1024^3, nlprnn $p kernels (bench_rnn --mode sgemm) | $(NLPRNN_KERNEL=$p "$build/bench/bench_rnn" --mode sgemm --seconds "$secs" | field best_gflops) |"
done
echo "| sgemm 1024^3, OpenBLAS (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; bench_rnn --mode blas) | $("$build/bench/bench_rnn" --mode blas --seconds "$secs" | field best_gflops) |"
echo
"$build/bench/bench_gemm" --seconds "$secs"
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

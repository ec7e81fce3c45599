#!/usr/bin/env bash
# bench/run_mpi.sh [BUILD_DIR] — data-parallel training over MPI on this machine (docs/scaling.md).
#
#   classifier  nlprnn train, the shape of pretrained/ko.nrm (BiLSTM 128, embedding 128, 16000
#               pieces of pretrained/ko.tok, max pooling, 128 tokens), the first $NLPRNN_BENCH_DOCS
#               (40000) NSMC training reviews, one epoch, global batch 64:
#               1 rank x 1 thread (batch 32: one rank's compute at 2 ranks; and batch 64),
#               1 rank x 2 threads (batch 64), 2 ranks x 1 thread (batch 32 each); throughput = the program's own tokens/s of the epoch (global over
#               the ranks) since the start of the epoch, printed every 10 s (the last one is kept;
#               runs shorter than 10 s would only show the first batch)
#   language    nlprnn lm-train, the shape of pretrained/ko-lm.nrm (LSTM 128, tied, sampled softmax
#   model       512), forward direction, NSMC lm_train, $NLPRNN_BENCH_LM_SECONDS (60) s each, global
#               batch 64, the first 100,000 lines: the same three layouts; throughput = pieces/s
#               since the start of training (global)
#   sums        bench_allreduce on 2 ranks: milliseconds per gradient sum of each size
#   sparsity    distinct pieces in a global batch of G reviews (G = 64 ... 16384), averaged over
#               the NSMC training set in file order: the embedding rows a classifier step exchanges
#
# Prints bench/env.sh and a table; docs/scaling.md quotes it. The machine is shared: the load
# average is part of the environment printed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
nl=$(realpath "$build/nlprnn")
corp=../shared/corpora/nsmc
docs=${NLPRNN_BENCH_DOCS:-40000}
lmsec=${NLPRNN_BENCH_LM_SECONDS:-60}
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
command -v mpirun >/dev/null || { echo "run_mpi: mpirun not found (apt-get install openmpi-bin libopenmpi-dev)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log() { echo "run_mpi: $*" >&2; }

bench/env.sh
echo "mpi: $(mpirun --version 2>&1 | head -1)"
{ zcat "$corp/train.tsv.gz" || true; } | head -n $((docs + 1)) >"$tmp/train.tsv"

# run NP THREADS BATCH CMD...: the command under mpirun (NP > 1) or alone; stderr to $tmp/log
run() {
  local np=$1; shift
  if [ "$np" -gt 1 ]; then nice mpirun --oversubscribe -np "$np" "$@" 2>"$tmp/log" >/dev/null
  else nice "$@" 2>"$tmp/log" >/dev/null; fi
}

echo
echo "| model | layout | global batch | throughput | wall s |"
echo "|---|---|---|---|---|"
for cfg in "1 1 32" "1 1 64" "1 2 64" "2 1 32"; do
  set -- $cfg
  log "classifier: $1 rank(s) x $2 thread(s), batch $3 per rank"
  t0=$(date +%s.%N)
  run "$1" "$nl" train "$tmp/train.tsv" -o "$tmp/m.nrm" --tokenizer pretrained/ko.tok --epochs 1 \
    --valid-split 0 --max-tokens 128 --threads "$2" --batch "$3" --storage f32 --seed 1
  t1=$(date +%s.%N)
  tps=$(grep -o '[0-9]* tok/s' "$tmp/log" | tail -1 | cut -d' ' -f1 || true)
  echo "| classifier | $1 rank x $2 thread | $(( $1 * $3 )) | ${tps:-?} tokens/s | $(echo "$t1 - $t0" | bc | cut -c1-6) |"
done
for cfg in "1 1 32" "1 1 64" "1 2 64" "2 1 32"; do
  set -- $cfg
  log "language model: $1 rank(s) x $2 thread(s), batch $3 per rank, $lmsec s"
  t0=$(date +%s.%N)
  run "$1" "$nl" lm-train --tokenizer pretrained/ko.tok --input "$corp/lm_train.txt.gz" \
    --output "$tmp/lm.nrm" --embed 128 --hidden 128 --tied 1 --softmax sampled --samples 512 \
    --max-len 64 --lr 0.01 --clip 1 --directions forward --time-limit "$lmsec" --threads "$2" \
    --batch "$3" --seed 1 --storage f32 --max-lines 100000
  t1=$(date +%s.%N)
  pps=$(grep -o '[0-9]* pieces/s' "$tmp/log" | tail -1 | cut -d' ' -f1 || true)
  steps=$(grep -o ' step [0-9]*' "$tmp/log" | tail -1 | grep -o '[0-9]*' || true)
  echo "| language model | $1 rank x $2 thread | $(( $1 * $3 )) | ${pps:-?} pieces/s (${steps:-?} steps) | $(echo "$t1 - $t0" | bc | cut -c1-6) |"
done

# the sums alone, 2 ranks (bench/bench_allreduce.c)
echo
nice mpirun --oversubscribe -np 2 "$build/bench/bench_allreduce" 50

# distinct pieces per global batch (reviews cut to 128 pieces, as in training)
log "distinct pieces per global batch"
zcat "$corp/train.tsv.gz" | tail -n +2 | cut -f2 | "$nl" tokenize --tokenizer pretrained/ko.tok --ids - |
  awk '{ n = NF < 128 ? NF : 128; print n; for (i = 1; i <= n; i++) print "i", $i }' >"$tmp/ids"
echo
echo "| reviews per global batch G | pieces per review | distinct pieces per batch (mean) |"
echo "|---|---|---|"
for g in 64 256 1024 4096 16384; do
  awk -v G="$g" '
    $1 != "i" { if (docs == G) { tot += u; nb++; delete seen; u = 0; docs = 0 } docs++; pieces += $1; nd++; next }
    { if (!($2 in seen)) { seen[$2] = 1; u++ } }
    END { printf "| %d | %.1f | %.0f |\n", G, pieces / nd, tot / nb }' "$tmp/ids"
done

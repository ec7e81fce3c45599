#!/usr/bin/env bash
# scripts/train-lm.sh [BUILD_DIR] — the shipped Korean language model, pretrained/ko-lm.nrm.
#
# Forward + backward LSTM language model (1 layer, embed = hidden = 192, tied input/output
# embeddings, the shared 16,000-piece tokenizer pretrained/ko.tok) trained on
# ../shared/corpora/nsmc/lm_train.txt.gz (632K reviews) with a sampled softmax (512 negatives,
# log-uniform over pieces ranked by training frequency; output bias started at the log unigram
# frequencies), Adam, sentence batches of 32 bucketed by length, in two stages:
#   1. a fresh model, one epoch, lr 0.01 decaying linearly to 0.001 (STAGE1_LIMIT caps it,
#      default 2400 s per direction);
#   2. `lm-train --init` continues from stage 1 with lr 0.004 -> 0.0004 for up to 5 epochs or
#      STAGE2_LIMIT seconds per direction (default 2400).
# BPTT=N (default unset: sentence batches, as the shipped model) trains both stages in stream mode
# (`--bptt N`, with a checkpoint every 2,000 batches); BPTT=35 with STAGE2_LIMIT=1500 made a model
# better in bits per character and cloze but not on the demo sentence (docs/experiments/lm.md, "A long
# run with it"), so it is not the default.
# The two directions train at the same time (--parallel 1, one thread each), so the recipe takes
# at most about 80 minutes of wall time on a 2-core machine. Weights are stored as float16
# (biases float32): about 6.7 MB per direction, 14.0 MB for the file (the tokenizer stored, 0.4 MB).
# (The classifier pretrained/ko.nrm has E = H = 128; a classifier started from this model with
# `nlprnn train --init-from` needs --embed 192 --hidden 192.)
#
# The demo sentence ("난 주말이면 영화를 보기 위해 우리 동네의 ___에 간다." -> 극장/영화관) needs the
# model to tie 영화 to the place where films are shown, and only 6,343 of the 632K reviews mention
# 극장 or 영화관 at all. So the recipe adds those reviews FOCUS_REPEAT (default 5) more times to
# the training text (about 5% of it). This is a deliberate choice for the demo (docs/lm.md says
# so); set FOCUS_REPEAT=0 for the plain corpus. The benchmarks against PyTorch (bench/run_lm.sh)
# use the plain corpus for both sides.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
corp=../shared/corpora/nsmc
out=${OUT:-pretrained/ko-lm.nrm}
repeat=${FOCUS_REPEAT:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
zcat "$corp/lm_train.txt.gz" | grep -E '극장|영화관' > "$tmp/focus.txt" || true
{ zcat "$corp/lm_train.txt.gz"; for ((i = 0; i < repeat; i++)); do cat "$tmp/focus.txt"; done; } > "$tmp/train.txt"
echo "train-lm: $(wc -l < "$tmp/focus.txt") reviews mention 극장/영화관, added $repeat more times"
start=$(date +%s)
# --threads 2 with --parallel 1: one worker a direction on every machine (the default, the cores,
# would give 8 a direction on 16 cores and other sums); the arithmetic the shipped model was
# trained with (threads 1 was then the default, one worker a direction)
common=(--valid "$corp/lm_valid.txt.gz" --valid-lines 2000 --softmax sampled --samples 512
        --batch 32 --max-len 64 --clip 1 --parallel 1 --storage f16 --threads 2)
if [ -n "${BPTT:-}" ]; then common+=(--bptt "$BPTT" --checkpoint-every 2000); fi
OPENBLAS_NUM_THREADS=1 nice "$build/nlprnn" lm-train --tokenizer pretrained/ko.tok \
  --input "$tmp/train.txt" --output "$tmp/stage1.nrm" "${common[@]}" \
  --cell lstm --layers 1 --embed 192 --hidden 192 --tied 1 \
  --lr 0.01 --epochs 1 --time-limit "${STAGE1_LIMIT:-2400}" --seed 1
OPENBLAS_NUM_THREADS=1 nice "$build/nlprnn" lm-train --init "$tmp/stage1.nrm" \
  --input "$tmp/train.txt" --output "$out" "${common[@]}" \
  --lr 0.004 --epochs 5 --time-limit "${STAGE2_LIMIT:-2400}" --seed 2
echo "train-lm: wrote $out in $(( $(date +%s) - start )) s"
ls -l "$out"
"$build/nlprnn" fill --model "$out" "난 주말이면 영화를 보기 위해 우리 동네의 ___에 간다."

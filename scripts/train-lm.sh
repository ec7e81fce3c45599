#!/usr/bin/env bash
# scripts/train-lm.sh [BUILD_DIR] — the shipped Korean language model, pretrained/ko-lm.nrm.
#
# Forward + backward LSTM language model (1 layer, embed = hidden = 256, tied input/output
# embeddings, 16,000-piece shared tokenizer pretrained/ko.tok) trained on
# ../shared/corpora/nsmc/lm_train.txt.gz (632K reviews) with a sampled softmax (512 negatives,
# log-uniform over pieces ranked by training frequency), Adam, sentence batches of 64 bucketed by
# length. Each direction gets a fixed wall-time budget (TIME_LIMIT seconds, default 660), so the
# whole recipe stays under 25 minutes; the learning rate decays linearly with the elapsed time.
# Weights are stored as int8 (per-row scales; biases float32): about 4.6 MB per direction.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
limit=${TIME_LIMIT:-660}
corp=../shared/corpora/nsmc
out=${OUT:-pretrained/ko-lm.nrm}
start=$(date +%s)
OPENBLAS_NUM_THREADS=1 nice "$build/nlprnn" lm-train --tokenizer pretrained/ko.tok \
  --input "$corp/lm_train.txt.gz" --valid "$corp/lm_valid.txt.gz" --valid-lines 2000 \
  --output "$out" --cell lstm --layers 1 --embed 256 --hidden 256 --tied 1 \
  --softmax sampled --samples 512 --batch 64 --max-len 64 --lr 0.004 --clip 1 \
  --time-limit "$limit" --seed 1 --storage int8
echo "train-lm: wrote $out in $(( $(date +%s) - start )) s"
ls -l "$out"
"$build/nlprnn" fill --model "$out" "난 주말이면 영화를 보기 위해 우리 동네의 ___에 간다."

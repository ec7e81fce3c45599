#!/usr/bin/env bash
# scripts/train-lm.sh [BUILD_DIR] — the shipped Korean language model, pretrained/ko-lm.nrm.
#
# Forward + backward LSTM language model (1 layer, embed = hidden = 128, the sizes of the Korean
# classifier so `nlprnn train --init-from` can take its embedding and encoder; tied input/output
# embeddings; the shared 16,000-piece tokenizer pretrained/ko.tok) trained on
# ../shared/corpora/nsmc/lm_train.txt.gz (632K reviews) with a sampled softmax (512 negatives,
# log-uniform over pieces ranked by training frequency; output bias started at the log unigram
# frequencies), Adam (lr 0.01 decaying linearly to 0.001 with the elapsed time), sentence batches
# of 32 bucketed by length. The two directions train at the same time (--parallel 1, one thread
# each) for TIME_LIMIT seconds (default 1380), so the whole recipe stays under 25 minutes of wall
# time. Weights are stored as float16 (biases float32): about 4.2 MB per direction.
#
# The demo sentence ("난 주말이면 영화를 보기 위해 우리 동네의 ___에 간다." -> 극장/영화관) needs the
# model to tie 영화 to the place where films are shown, and only 6,260 of the 632K reviews mention
# 극장 or 영화관 at all (4,488 and 1,884 lines); in 23 minutes the model reads about a third of the
# corpus once. So the recipe adds those reviews FOCUS_REPEAT (default 5) more times to the
# training text (about 5% of it). This is a deliberate choice for the demo (docs/lm.md says so);
# set FOCUS_REPEAT=0 for the plain corpus. The benchmarks against PyTorch (bench/run_lm.sh) use
# the plain corpus for both sides.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
limit=${TIME_LIMIT:-1380}
corp=../shared/corpora/nsmc
out=${OUT:-pretrained/ko-lm.nrm}
repeat=${FOCUS_REPEAT:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
zcat "$corp/lm_train.txt.gz" | grep -E '극장|영화관' > "$tmp/focus.txt" || true
{ zcat "$corp/lm_train.txt.gz"; for ((i = 0; i < repeat; i++)); do cat "$tmp/focus.txt"; done; } > "$tmp/train.txt"
echo "train-lm: $(wc -l < "$tmp/focus.txt") reviews mention 극장/영화관, added $repeat more times"
start=$(date +%s)
OPENBLAS_NUM_THREADS=1 nice "$build/nlprnn" lm-train --tokenizer pretrained/ko.tok \
  --input "$tmp/train.txt" --valid "$corp/lm_valid.txt.gz" --valid-lines 2000 \
  --output "$out" --cell lstm --layers 1 --embed 128 --hidden 128 --tied 1 \
  --softmax sampled --samples 512 --batch 32 --max-len 64 --lr 0.01 --clip 1 \
  --time-limit "$limit" --parallel 1 --seed 1 --storage f16
echo "train-lm: wrote $out in $(( $(date +%s) - start )) s"
ls -l "$out"
"$build/nlprnn" fill --model "$out" "난 주말이면 영화를 보기 위해 우리 동네의 ___에 간다."

#!/usr/bin/env bash
# bench/run_lm.sh [BUILD_DIR] — nlprnn's LSTM language model vs a PyTorch LSTM language model of
# the same size and tokenization, trained side by side for the same wall time on this machine,
# both evaluated on the whole of ../shared/corpora/nsmc/lm_valid.txt.gz (perplexity per piece and
# bits per character, full softmax).
#
#   SECONDS_EACH  training wall time of each (default 300)
#   MAX_LINES     training lines read by both (default 0: all 632K)
#   SIZE          embedding = hidden size of both (default 192, the shipped model's)
#   CONFIG        extra `nlprnn lm-train` options (defaults below mirror scripts/train-lm.sh)
#
# Both run at the same time (one thread each, nice), so both see the same machine load. The
# PyTorch peer (bench/lm_torch.py) uses the ids `nlprnn tokenize --ids` gives with the same
# tokenizer, the same batching, the same tied LSTM, Adam with the same schedule, and the
# standard full softmax. Results go to bench/out/lm/ and the summary to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${SECONDS_EACH:-300}
maxl=${MAX_LINES:-0}
size=${SIZE:-192}
corp=../shared/corpora/nsmc
tok=pretrained/ko.tok
out=bench/out/lm
mkdir -p "$out"
# shellcheck source=bench/peers.sh
. bench/peers.sh
need_torch
need_install run_lm

bash bench/env.sh | tee "$out/env.txt"
V=$(head -c 4096 "$tok" | grep -a -o 'vocab_size=[0-9]*' | head -1 | cut -d= -f2)

if [ ! -s "$out/train.ids" ]; then
  zcat "$corp/lm_train.txt.gz" | "$build/nlprnn" tokenize --tokenizer "$tok" --ids - > "$out/train.ids"
fi
"$build/nlprnn" tokenize --tokenizer "$tok" --ids -f "$corp/lm_valid.txt.gz" > "$out/valid.ids"

echo "== training both for $secs s (side by side)"
OPENBLAS_NUM_THREADS=1 nice "$build/nlprnn" lm-train --tokenizer "$tok" --input "$corp/lm_train.txt.gz" \
  --output "$out/nlprnn.nrm" --directions forward --cell lstm --layers 1 --embed "$size" --hidden "$size" \
  --tied 1 --softmax sampled --samples 512 --batch 32 --max-len 64 --lr 0.01 --clip 1 \
  --time-limit "$secs" --max-lines "$maxl" --storage f32 ${CONFIG:-} > "$out/nlprnn.log" 2>&1 &
cpid=$!
OMP_NUM_THREADS=1 nice "$py" bench/lm_torch.py --train "$out/train.ids" --valid "$out/valid.ids" \
  --valid-text "$corp/lm_valid.txt.gz" --vocab "$V" --embed "$size" --hidden "$size" --layers 1 --tied 1 \
  --batch 32 --max-len 64 --lr 0.01 --clip 1 --seconds "$secs" --max-lines "$maxl" \
  > "$out/torch.log" 2>&1 &
tpid=$!
wait $cpid
wait $tpid

OPENBLAS_NUM_THREADS=1 "$build/nlprnn" lm-eval --model "$out/nlprnn.nrm" "$corp/lm_valid.txt.gz" \
  | tee "$out/nlprnn.eval"
grep -E "pieces/s" "$out/nlprnn.log" | tail -1
grep -E "^torch: step" "$out/torch.log" | tail -1
echo "== lm_valid (10,000 reviews), training $secs s each"
awk -F'\t' 'NR==2 {printf "nlprnn  ppl=%s bpc=%s pieces=%s chars=%s\n", $5, $6, $3, $4}' "$out/nlprnn.eval"
grep '^RESULT' "$out/torch.log" | sed 's/^RESULT torch/pytorch/'

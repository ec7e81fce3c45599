#!/usr/bin/env bash
# scripts/train-en.sh [BUILD_DIR] — the shipped English sentiment model, pretrained/en.nrm
# (`nlprnn classify --model en`).
#
# Data: ../shared/corpora/sst2/train.tsv.gz (67,349 sentences and phrases, 5% held out for
# validation / best epoch), measured on sst2/dev.tsv.gz (872 sentences; SST-2 has no public test
# labels). Tokenizer pretrained/en.tok: BPE 16000, NFKC + case folding, trained on the text of
# sst2/train and imdb/train (unlabelled use). Embedding initialised from 128-d CBOW vectors
# of the pieces, trained with Debian's fastText on the same text. Model: embedding 128 ->
# bidirectional LSTM 128 -> max pooling -> dense 2, float16, trained with --seed 4 (NLPRNN_EN_SEED;
# chosen among seeds 1-4 on the held-out 5 %, docs/classify.md), label names negative/positive.
# The record goes into docs/classify.md (block train-en).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
nlprnn="$build/nlprnn"
sst=../shared/corpora/sst2
imdb=../shared/corpora/imdb
out=${NLPRNN_EN_OUT:-pretrained/en.nrm}
epochs=${NLPRNN_EN_EPOCHS:-4}
tmp=$(mktemp -d)
. scripts/recipe-lib.sh
trap 'rm -rf "$tmp"' EXIT

start=$(date +%s)
zcat "$sst/train.tsv.gz" | tail -n +2 | cut -f2 > "$tmp/text.txt"
zcat "$imdb/train.tsv.gz" | tail -n +2 | cut -f2 | sed 's#<br */>#  #g' >> "$tmp/text.txt"
if [ ! -f pretrained/en.tok ]; then
  nice "$nlprnn" tokenizer-train --input "$tmp/text.txt" --output pretrained/en.tok --model bpe \
    --vocab-size 16000 --normalization nfkc_cf --threads 2
fi
recipe_piece_vectors pretrained/en.tok "$tmp/text.txt" en_pieces 1   # one thread: the same vectors every run
vec_secs=$(( $(date +%s) - start ))

# the held-out 5 % (best epoch) as a file of its own: the rows --valid-split 0.05 --seed 1 holds
# out (scripts/valid-split.py repeats the library's draws), so that the seed of the training run
# can differ from the split's. The shipped model is seed 4 of four seeds (1-4) chosen on these
# rows (docs/experiments/classify.md, "SST-2 with the Korean ingredients"); one worker thread.
python3 scripts/valid-split.py "$sst/train.tsv.gz" 0.05 1 "$tmp/train95.tsv" "$tmp/valid.tsv"
cmd=(nice "$nlprnn" train "$tmp/train95.tsv" -o "$out" --valid "$tmp/valid.tsv" --tokenizer pretrained/en.tok
     --vectors "$tmp/en_pieces.vec" --embed 128 --cell lstm --bidirectional 1 --hidden 128
     --pool max --dropout 0.3 --optimizer adam --lr 0.002 --lr-schedule linear --clip 5
     --epochs "$epochs" --batch 64 --seed "${NLPRNN_EN_SEED:-4}" --threads 1 --patience 2
     --max-tokens 96 --storage f16)
"${cmd[@]}"
# the label names the program prints (scripts/relabel-shipped.sh does the same to a shipped file)
"$nlprnn" relabel "$out" --label-names 0=negative,1=positive -o "$tmp/relabelled.nrm"
mv "$tmp/relabelled.nrm" "$out"
secs=$(( $(date +%s) - start ))

recipe_eval "$out" "$sst/dev.tsv.gz" 2
size=$(stat -c %s "$out")
echo "train-en: $out: SST-2 dev accuracy $acc, macro F1 $f1, $size bytes, $secs s"
{
  recipe_head
  echo "tokenizer-train (if missing) + tokenize + fasttext cbow -dim 128 -epoch 3 -minCount 1 -minn 0 -maxn 0 -ws 5 -thread 1"
  echo "python3 scripts/valid-split.py sst2/train.tsv.gz 0.05 1 \$TMP/train95.tsv \$TMP/valid.tsv"
  recipe_cmd "${cmd[@]:1}"
  echo "nlprnn relabel OUT --label-names 0=negative,1=positive"
  echo "\$ nlprnn eval -m $out $sst/dev.tsv.gz"
  echo "SST-2 dev accuracy: $acc   macro F1: $f1   (872 sentences)"
  echo "training time: $secs s wall in all (tokenizer and piece vectors $vec_secs s), on this machine:"
  recipe_tail "$out"
} > "$tmp/record.md"
python3 scripts/doc-block.py docs/classify.md train-en "$tmp/record.md"

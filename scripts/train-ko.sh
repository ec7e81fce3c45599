#!/usr/bin/env bash
# scripts/train-ko.sh [BUILD_DIR] — the shipped Korean sentiment model, pretrained/ko.nrm.
#
# Data: ../shared/corpora/nsmc/train.tsv.gz (150K reviews; 5% held out for validation / best
# epoch), tested on nsmc/test.tsv.gz (50K). Tokenizer: pretrained/ko.tok (scripts/
# train-tokenizer-ko.sh). Embedding initialised from 128-d CBOW vectors of the tokenizer's
# pieces, trained here with Debian's fastText on nsmc/lm_train.txt.gz (unlabelled reviews, no test
# review among them). Model: embedding 128 -> bidirectional LSTM 128 -> max pooling -> dense 2.
# Weights stored as float16 (< 10 MB). The command, the training time on this machine and the
# test accuracy are written into docs/classify.md (block train-ko).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
nlprnn="$build/nlprnn"
corp=../shared/corpora/nsmc
out=${NLPRNN_KO_OUT:-pretrained/ko.nrm}
epochs=${NLPRNN_KO_EPOCHS:-3}
tmp=$(mktemp -d)
. scripts/recipe-lib.sh
trap 'rm -rf "$tmp"' EXIT
[ -f pretrained/ko.tok ] || scripts/train-tokenizer-ko.sh "$build"

start=$(date +%s)
# 1. piece vectors (CBOW) on the unlabelled reviews, tokenized with the shared tokenizer
vec_start=$(date +%s)
recipe_piece_vectors pretrained/ko.tok "$corp/lm_train.txt.gz" ko_pieces 2
vec_secs=$(( $(date +%s) - vec_start ))

# 2. the classifier
cmd=(nice "$nlprnn" train "$corp/train.tsv.gz" -o "$out" --tokenizer pretrained/ko.tok
     --vectors "$tmp/ko_pieces.vec" --embed 128 --cell lstm --bidirectional 1 --hidden 128
     --pool max --dropout 0.2 --optimizer adam --lr 0.002 --lr-schedule linear --clip 5
     --epochs "$epochs" --batch 64 --seed 1 --threads 2 --valid-split 0.05 --patience 2
     --max-tokens 128 --storage f16)
"${cmd[@]}"
secs=$(( $(date +%s) - start ))

# 3. test accuracy and the record
recipe_eval "$out" "$corp/test.tsv.gz" 2
size=$(stat -c %s "$out")
echo "train-ko: $out: test accuracy $acc, macro F1 $f1, $size bytes, $secs s (vectors $vec_secs s)"
{
  recipe_head
  echo "tokenize lm_train + fasttext cbow -dim 128 -epoch 3 -minCount 1 -minn 0 -maxn 0 -ws 5 -thread 2"
  recipe_cmd "${cmd[@]:1}"
  echo "\$ nlprnn eval -m $out $corp/test.tsv.gz"
  echo "test accuracy: $acc   macro F1: $f1   (50,000 reviews of nsmc/test.tsv.gz)"
  echo "training time: $secs s wall in all (piece vectors $vec_secs s), on this machine:"
  recipe_tail "$out"
} > "$tmp/record.md"
python3 scripts/doc-block.py docs/classify.md train-ko "$tmp/record.md"

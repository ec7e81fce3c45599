#!/usr/bin/env bash
# scripts/train-tokenizer-ko.sh [BUILD_DIR] — the shared Korean tokenizer, pretrained/ko.tok.
#
# BPE, 16,000 ids, NFKC, trained on every NSMC review we may learn from without labels:
# ../shared/corpora/nsmc/lm_train.txt.gz (632K unlabelled reviews, no test review among them)
# plus the review text of nsmc/train.tsv.gz. The Korean classifier (scripts/train-ko.sh) and the
# Korean language model use this same file, so a classifier can start from the LM's embedding
# and encoder (nlprnn train --init-from).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
corp=../shared/corpora/nsmc
out=pretrained/ko.tok
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
zcat "$corp/train.tsv.gz" | tail -n +2 | cut -f2 > "$tmp/train_text.txt"
start=$(date +%s)
nice "$build/nlprnn" tokenizer-train --input "$corp/lm_train.txt.gz" --input "$tmp/train_text.txt" \
  --output "$out" --model bpe --vocab-size 16000 --min-count 2 --threads 2
echo "train-tokenizer-ko: wrote $out in $(( $(date +%s) - start )) s"
"$build/nlprnn" tokenize --tokenizer "$out" '이 영화 정말 재밌어요 ㅋㅋ 강추!'

#!/usr/bin/env bash
# scripts/train-spacing.sh [BUILD_DIR] — the shipped Korean spacing model, pretrained/ko-space.nrm.
#
# Data (well-spaced written Korean from ../shared/corpora, never copied into the repo):
#   train  ko-text/korsts.ko.txt.gz, ko-text/kornli-xnli.ko.txt.gz, ko-text/news-ko.dev.txt.gz,
#          ko-text/ud-kaist.dev.ko.txt.gz, the Korean column of parallel/flores-devtest.tsv.gz
#          (parallel/news-dev is the same text as news-ko.dev and is not added twice)
#   test   ko-text/news-ko.test.txt.gz and ko-text/ud-kaist.test.ko.txt.gz (never trained on;
#          parallel/news-test is the same text as news-ko.test and is not used either)
# 2% of the training sentences are held out for validation. Model: syllable embedding 64 ->
# 2 x bidirectional GRU 128 -> softmax over {none, space} per syllable; 30% of the training
# sentences keep part of their spaces as hints (for --keep-spaces). Training stops after
# NLPRNN_SPACE_SECONDS (default 1380 s) of wall time (the learning rate follows the time), so the
# result depends on the machine's speed and load: the recipe is exact, the weights are not.
# Then scripts/eval-spacing.py measures the test files (docs/spacing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
nlprnn="$build/nlprnn"
corp=../shared/corpora
out=${NLPRNN_SPACE_OUT:-pretrained/ko-space.nrm}
secs=${NLPRNN_SPACE_SECONDS:-1380}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in ko-text/korsts.ko.txt.gz ko-text/kornli-xnli.ko.txt.gz ko-text/news-ko.dev.txt.gz \
         ko-text/ud-kaist.dev.ko.txt.gz parallel/flores-devtest.tsv.gz; do
  [ -f "$corp/$f" ] || { echo "train-spacing: missing $corp/$f" >&2; exit 4; }
done
# the Korean column of the FLORES devtest TSV (header: en, ko)
zcat "$corp/parallel/flores-devtest.tsv.gz" |
  awk -F'\t' 'NR==1{for(i=1;i<=NF;i++) if($i=="ko") k=i; next} {print $k}' > "$tmp/flores.ko.txt"

train=("$corp/ko-text/korsts.ko.txt.gz" "$corp/ko-text/kornli-xnli.ko.txt.gz"
       "$corp/ko-text/news-ko.dev.txt.gz" "$corp/ko-text/ud-kaist.dev.ko.txt.gz" "$tmp/flores.ko.txt")
cmd=(nice -n 5 "$nlprnn" space-train -o "$out" --cell gru --embed 64 --hidden 128 --layers 2
     --dropout 0.1 --max-len 128 --batch 32 --lr 0.003 --min-lr 0.0003 --clip 5 --valid 0.02
     --hints 0.3 --drop 0.8 --epochs 100 --time-limit "$secs" --threads 2 --seed 1
     --checkpoint "$tmp/ko-space.ckpt" --checkpoint-every 1000)
start=$(date +%s)
"${cmd[@]}" "${train[@]}"
took=$(( $(date +%s) - start ))
size=$(stat -c %s "$out")
echo "train-spacing: $out: $size bytes, $took s"
echo "${cmd[*]:3} ${train[*]}" | sed "s#$tmp/#\$TMP/#g; s#$corp/#\$CORPORA/#g"

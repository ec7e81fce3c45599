#!/usr/bin/env bash
# scripts/train-translate.sh [BUILD_DIR] — the shipped Korean -> English translator,
# pretrained/ko-en.nrm.
#
# Data: ../shared/corpora/parallel/tatoeba-train.tsv.gz (5,749 everyday pairs; 5% held out for
# validation / the best epoch). Tokenizers: the project's BPE trained on each side (the vocabulary
# sizes below). Model: embeddings -> bidirectional GRU encoder (hidden/2 a direction) -> GRU
# decoder with Luong (general) attention and input feeding, label smoothing 0.1, dropout on the
# embeddings and on the attentional vector; weights stored as float16. Training runs a FIXED
# number of epochs (no time limit: the result does not depend on the machine's load) under nice,
# one thread; the model keeps the best validated epoch (--keep best, the default). Then
# translate-eval, greedy and beam 5, on the held-out pairs (scripts/translate-heldout.py writes
# the 5% the training held out: the figures to compare recipes by), tatoeba-test (in domain),
# flores-devtest and news-test (out of domain). The commands, the times and the scores are
# written into docs/translate.md (block train-translate).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
nlprnn="$build/nlprnn"
corp=../shared/corpora/parallel
out=${NLPRNN_TR_OUT:-pretrained/ko-en.nrm}
# the recipe (docs/translate.md "Choosing the recipe" compares the runs that chose it)
src_vocab=2000 tgt_vocab=2000 embed=256 hidden=256 emb_drop=0.3 out_drop=0.5 epochs=70
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in tatoeba-train tatoeba-test flores-devtest news-test; do
  [ -f "$corp/$f.tsv.gz" ] || { echo "train-translate: $corp/$f.tsv.gz is missing" >&2; exit 77; }
done

start=$(date +%s)
cmd=(nice -n 19 "$nlprnn" translate-train "$corp/tatoeba-train.tsv.gz" -o "$out" --src-col ko --tgt-col en
     --src-vocab "$src_vocab" --tgt-vocab "$tgt_vocab" --cell gru --attention general --embed "$embed"
     --hidden "$hidden" --layers 1 --bidirectional 1 --smoothing 0.1 --emb-dropout "$emb_drop"
     --out-dropout "$out_drop" --epochs "$epochs" --batch 32 --lr 0.002 --min-lr 0.0001 --clip 5
     --valid 0.05 --seed 1 --store f16 --threads 1)
"${cmd[@]}" 2> "$tmp/train.log"
secs=$(( $(date +%s) - start ))
tail -1 "$tmp/train.log"
size=$(stat -c %s "$out")

{
  echo '```'
  echo "\$ scripts/train-translate.sh   # $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "nlprnn ${cmd[*]:4}"
  grep '^epoch' "$tmp/train.log" | tail -3
  tail -1 "$tmp/train.log" | sed 's/^translate-train: //'
  echo "training time: $secs s wall ($epochs epochs, nice -n 19, one thread), on this machine:"
  bench/env.sh
  echo "model file: $out, $size bytes"
  echo "\$ scripts/translate-heldout.py $corp/tatoeba-train.tsv.gz 1 0.05 heldout.tsv"
  python3 scripts/translate-heldout.py "$corp/tatoeba-train.tsv.gz" 1 0.05 "$tmp/heldout.tsv" 2>&1 | sed "s|$tmp/||"
  for beam in 1 5; do
    echo "\$ nlprnn translate-eval -m $out --beam $beam heldout.tsv"
    nice -n 19 "$nlprnn" translate-eval -m "$out" --beam "$beam" "$tmp/heldout.tsv"
  done
  for f in tatoeba-test flores-devtest news-test; do
    for beam in 1 5; do
      echo "\$ nlprnn translate-eval -m $out --beam $beam $corp/$f.tsv.gz"
      nice -n 19 "$nlprnn" translate-eval -m "$out" --beam "$beam" "$corp/$f.tsv.gz"
    done
  done
  echo '```'
} > "$tmp/record.md"
cat "$tmp/record.md"
python3 scripts/doc-block.py docs/translate.md train-translate "$tmp/record.md"

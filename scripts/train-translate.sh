#!/usr/bin/env bash
# scripts/train-translate.sh [BUILD_DIR] — the shipped Korean -> English translator,
# pretrained/ko-en.nrm.
#
# Data: ../shared/corpora/parallel/tatoeba-train.tsv.gz (5,749 everyday pairs; 5% held out for
# validation / the best epoch). Tokenizers: the project's BPE trained on each side (1,000 pieces).
# Model: embedding 128 -> bidirectional GRU 2x64 -> GRU decoder 128 with Luong (general)
# attention and input feeding, label smoothing 0.1, dropout 0.2 on the embeddings and 0.3 on the
# attentional vector; weights stored as float16. Training runs under nice with a hard wall-time
# limit (--time-limit, default 1800 s; the learning rate follows the time); the model keeps the
# best validated epoch (--keep best, the default). Then translate-eval, greedy and beam 5, on the
# held-out pairs (scripts/translate-heldout.py writes the 5% the training held out: the figures
# to compare recipes by), tatoeba-test (in domain), flores-devtest and news-test (out of domain).
# The commands, the times and the scores are written into docs/translate.md (block
# train-translate).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
nlprnn="$build/nlprnn"
corp=../shared/corpora/parallel
out=${NLPRNN_TR_OUT:-pretrained/ko-en.nrm}
limit=${NLPRNN_TR_TIME:-1800}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in tatoeba-train tatoeba-test flores-devtest news-test; do
  [ -f "$corp/$f.tsv.gz" ] || { echo "train-translate: $corp/$f.tsv.gz is missing" >&2; exit 77; }
done

start=$(date +%s)
cmd=(nice -n 19 "$nlprnn" translate-train "$corp/tatoeba-train.tsv.gz" -o "$out" --src-col ko --tgt-col en
     --src-vocab 1000 --tgt-vocab 1000 --cell gru --attention general --embed 128 --hidden 128
     --layers 1 --bidirectional 1 --smoothing 0.1 --emb-dropout 0.2 --out-dropout 0.3 --epochs 1000
     --batch 32 --lr 0.002 --min-lr 0.0001 --clip 5 --valid 0.05 --time-limit "$limit" --seed 1
     --store f16 --threads 1)
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
  echo "training time: $secs s wall (limit $limit s), on this machine:"
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
python3 - docs/translate.md train-translate "$tmp/record.md" <<'PY'
import sys
doc, name, src = sys.argv[1:4]
text = open(doc, encoding="utf-8").read()
begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
body = open(src, encoding="utf-8").read().rstrip("\n")
a, b = text.index(begin) + len(begin), text.index(end)
open(doc, "w", encoding="utf-8").write(text[:a] + "\n" + body + "\n" + text[b:])
PY

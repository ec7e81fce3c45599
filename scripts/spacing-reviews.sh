#!/usr/bin/env bash
# scripts/spacing-reviews.sh [BUILD_DIR] [WORK_DIR] — do movie reviews help a spacing model?
# (issue 18: "movie reviews are informal and poorly spaced, so measure whether they help";
# docs/experiments/spacing.md, "Movie reviews as training data").
#
# Five small spacing models (syllable embedding 64 -> 2 x bidirectional GRU 64, the shipped
# recipe's other settings, one worker thread, a fixed number of epochs, so each model is the same
# file on every run of this script on the same CPU kernel path):
#   A   written text (the shipped model's training files, 29,484 lines) x 2 epochs
#   A2  the same as A with --seed 2 (how much a seed alone moves the figures)
#   B   written text + as many nsmc review lines (the first 29,484 of lm_train) x 1 epoch:
#       the steps of A, half of them on reviews
#   C   written text + the reviews x 2 epochs: A's written text plus the reviews (twice A's steps)
#   D   written text x 4 epochs: C's steps on written text alone
#   P   written text + 200,000 review lines (lm_train lines of >= 3 words and >= 15 bytes, as
#       written) x 1 epoch: pretraining
#   E   P fine-tuned on the written text alone x 4 epochs (--init-from P): D's written epochs
#       after the pretraining
#   F   as P, with the first 200,000 of the review lines a filter model spaces alike (boundary F1
#       >= 0.9 between the writer's spaces and the model's, scripts/spacing-agree.py); the filter
#       is FILTER (default: pretrained/ko-space.nrm as the tree holds it)
#   EF  F fine-tuned as E
#   FD  as F with D (the written-only model above) as the filter: at most 200,000 lines
#   ED  FD fine-tuned as E
# then scores each on the held-out test files (ko-text news-ko.test + ud-kaist.test) with
# scripts/eval-spacing.py. Models already in WORK_DIR are kept (not trained again). About 4
# minutes of CPU (A alone: 35 s here); the trainings run two at a time under nice -n 19.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
work=${2:-/tmp/nlprnn-spacing-reviews}
nlprnn=$(realpath "$build/nlprnn")
filter=$(realpath "${FILTER:-pretrained/ko-space.nrm}")
corp=$(realpath ../shared/corpora)
for f in ko-text/korsts.ko.txt.gz ko-text/kornli-xnli.ko.txt.gz ko-text/news-ko.dev.txt.gz \
         ko-text/ud-kaist.dev.ko.txt.gz ko-text/news-ko.test.txt.gz ko-text/ud-kaist.test.ko.txt.gz \
         parallel/flores-devtest.tsv.gz nsmc/lm_train.txt.gz; do
  [ -f "$corp/$f" ] || { echo "spacing-reviews: missing $corp/$f" >&2; exit 4; }
done
mkdir -p "$work"
zcat "$corp/parallel/flores-devtest.tsv.gz" |
  awk -F'\t' 'NR==1{for(i=1;i<=NF;i++) if($i=="ko") k=i; next} {print $k}' > "$work/flores.ko.txt"
base=("$corp/ko-text/korsts.ko.txt.gz" "$corp/ko-text/kornli-xnli.ko.txt.gz"
      "$corp/ko-text/news-ko.dev.txt.gz" "$corp/ko-text/ud-kaist.dev.ko.txt.gz" "$work/flores.ko.txt")
n=$(for f in "${base[@]}"; do zcat -f "$f"; done | wc -l)
zcat "$corp/nsmc/lm_train.txt.gz" | head -n "$n" > "$work/nsmc.txt" || true
zcat "$corp/nsmc/lm_train.txt.gz" | LC_ALL=C awk 'NF >= 3 && length($0) >= 15' | head -n 200000 > "$work/rev200k.txt" || true
common=(--cell gru --embed 64 --hidden 64 --layers 2 --dropout 0.1 --max-len 128 --batch 32
        --lr 0.003 --min-lr 0.0003 --clip 5 --valid 0.02 --hints 0.3 --drop 0.8 -t 1)

train() { # NAME SEED EPOCHS FILE...
  local name=$1 seed=$2 epochs=$3
  shift 3
  [ -f "$work/$name.nrm" ] && return 0
  local start=$(date +%s)
  nice -n 19 "$nlprnn" space-train -o "$work/$name.nrm" "${common[@]}" --seed "$seed" \
    --epochs "$epochs" "$@" > "$work/$name.log" 2>&1
  echo "spacing-reviews: $name: $(tail -n 1 "$work/$name.log") ($(( $(date +%s) - start )) s)"
}

echo "spacing-reviews: $n written lines, $(wc -l < "$work/nsmc.txt") review lines"
train A 1 2 "${base[@]}" & train B 1 1 "${base[@]}" "$work/nsmc.txt" & wait
train C 1 2 "${base[@]}" "$work/nsmc.txt" & train D 1 4 "${base[@]}" & wait
train A2 2 2 "${base[@]}" & train P 1 1 "${base[@]}" "$work/rev200k.txt" & wait
train E 1 4 --init-from "$work/P.nrm" "${base[@]}"

agreed() { # NAME MODEL: the first 200,000 review lines MODEL spaces alike (F1 >= 0.9)
  [ -f "$work/$1.txt" ] && return 0
  zcat "$corp/nsmc/lm_train.txt.gz" | LC_ALL=C awk 'NF >= 3 && length($0) >= 15' > "$work/rev.txt"
  nice -n 19 "$nlprnn" space -m "$2" -t 1 -i "$work/rev.txt" > "$work/$1.spaced.txt"
  python3 scripts/spacing-agree.py 0.9 "$work/rev.txt" "$work/$1.spaced.txt" --stats \
    --max 200000 > "$work/$1.txt"
  echo "spacing-reviews: $1: $(wc -l < "$work/$1.txt") review lines chosen by $2"
}
agreed revF "$filter"
agreed revFD "$work/D.nrm"
train F 1 1 "${base[@]}" "$work/revF.txt" & train FD 1 1 "${base[@]}" "$work/revFD.txt" & wait
train EF 1 4 --init-from "$work/F.nrm" "${base[@]}" & train ED 1 4 --init-from "$work/FD.nrm" "${base[@]}" & wait

echo "| model | data | epochs | validation accuracy | syllable accuracy | word F1 | exact lines |"
echo "|---|---|---|---|---|---|---|"
for m in A:written:2 A2:"written (seed 2)":2 B:"written + reviews":1 C:"written + reviews":2 D:written:4 \
         P:"written + 200K reviews":1 E:"P, then written (--init-from P)":"1 + 4" \
         F:"written + 200K reviews the filter spaces alike":1 EF:"F, then written":"1 + 4" \
         FD:"written + reviews D spaces alike":1 ED:"FD, then written":"1 + 4"; do
  IFS=: read -r name data epochs <<< "$m"
  va=$("$nlprnn" info "$work/$name.nrm" | awk '$1 == "valid_accuracy" { printf "%.4f", $3 }')
  python3 scripts/eval-spacing.py --nlprnn "$nlprnn" --model "$work/$name.nrm" \
    "$corp/ko-text/news-ko.test.txt.gz" "$corp/ko-text/ud-kaist.test.ko.txt.gz" |
    awk -F'|' -v n="$name" -v d="$data" -v e="$epochs" -v va="$va" '$2 ~ /all: model/ {
      gsub(/ /, "", $3); gsub(/ /, "", $6); gsub(/ /, "", $7)
      printf "| %s | %s | %s | %s | %s | %s | %s |\n", n, d, e, va, $3, $6, $7 }'
done

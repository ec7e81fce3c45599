#!/usr/bin/env bash
# bench/cloze.sh [BUILD_DIR] [MODEL] — the cloze benchmark (bench/cloze.tsv, made by
# `bench/cloze.py make` from nsmc/lm_valid; see bench/cloze.py for how items are chosen):
#   top-1 of 8: `nlprnn fill --candidates` must rank the answer first among its 8 candidates;
#   open top-5: the answer must be among the 5 best answers of `nlprnn fill` without candidates.
# The first N items (default 500: all of bench/cloze.tsv; a shorter file gives all of its own)
# with the model MODEL (default: the shipped "ko"); ALPHA set: passed as `fill --calibrate ALPHA`
# (unset: fill's default calibration); ITEMS set: that items file instead of bench/cloze.tsv
# (e.g. the validation items of docs/lm.md), OUT: the output folder (default bench/out/cloze).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
model=${2:-ko}
n=${N:-500}
cal=()
[ -n "${ALPHA:-}" ] && cal=(--calibrate "$ALPHA")
items=${ITEMS:-bench/cloze.tsv}
out=${OUT:-bench/out/cloze}
mkdir -p "$out"
bash bench/env.sh > "$out/env.txt"
head -n "$n" "$items" > "$out/items.tsv"
cut -f1,3 "$out/items.tsv" > "$out/cand.in"
cut -f1 "$out/items.tsv" > "$out/open.in"
used=$(wc -l < "$out/items.tsv") # N, or fewer when the items file has fewer
s=$(date +%s)
nice "$build/nlprnn" fill --model "$model" "${cal[@]}" --input "$out/cand.in" > "$out/cand.out"
m=$(date +%s)
nice "$build/nlprnn" fill --model "$model" "${cal[@]}" --top 5 --input "$out/open.in" > "$out/open.out"
e=$(date +%s)
echo "cloze: $used items of $items, model $model, calibrate ${ALPHA:-default}; candidates $((m - s)) s, open $((e - m)) s"
python3 bench/cloze.py score --items "$out/items.tsv" --cand-out "$out/cand.out" --open-out "$out/open.out"

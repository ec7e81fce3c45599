#!/usr/bin/env bash
# scripts/forecast-examples.sh [BUILD_DIR] [FIGURE_DIR]
#
# The chapter's sequence examples, end to end, with the figures of docs/forecasting.md:
#   1. windowing the chapter's series [16, 8, 32, 9, 23, 11, 19] with window 3
#   2. a generated noisy sine wave: train, test metrics, 150 steps fed back
#   3. ../shared/corpora/timeseries/daily-min-temperatures.csv (Temp)
#   4. ../shared/corpora/timeseries/005930.KS.csv: Close alone, then Close relative to the
#      window's last value, then Open/High/Low/Close/Volume relative
#   5. gradient flow back in time for SimpleRNN/LSTM/GRU, and exploding gradients with and
#      without clipping
# Models and generated data go to a temporary folder; figures (PNG) to FIGURE_DIR (default
# docs/figures). Everything runs single-threaded under nice; the whole script takes about a minute
# on an idle core. Prints bench/env.sh first so the numbers can be quoted with their environment.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
figs=${2:-docs/figures}
nlprnn="$build/nlprnn"
[ -x "$nlprnn" ] || { echo "forecast-examples: $nlprnn not found (build first)" >&2; exit 2; }
ts=../shared/corpora/timeseries
[ -r "$ts/daily-min-temperatures.csv" ] || { echo "forecast-examples: $ts is missing" >&2; exit 77; }
mkdir -p "$figs"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
run() { echo; echo "\$ nlprnn $*"; nice "$nlprnn" "$@"; }

bash bench/env.sh

echo; echo "== 1. windows of the chapter's series"
printf 'value\n16\n8\n32\n9\n23\n11\n19\n' >"$tmp/chapter.csv"
run forecast windows --csv "$tmp/chapter.csv" --column value --window 3 --plot "$figs/chapter-windows.png"

echo; echo "== 2. noisy sine wave (period 50, noise sd 0.1, 1000 rows)"
run forecast sine -o "$tmp/sine.csv" --length 1000 --period 50 --noise 0.1 --seed 1
run forecast train --csv "$tmp/sine.csv" --column value -o "$tmp/sine.nrm" --cell lstm --hidden 32 \
  --window 30 --epochs 30 --seed 1 --quiet --png --plots "$figs/sine"
run forecast predict "$tmp/sine.nrm" --csv "$tmp/sine.csv" --from 850 --steps 150 \
  --plot "$figs/sine-predict.png" | tail -n 3
for cell in rnn gru; do
  run forecast train --csv "$tmp/sine.csv" --column value -o "$tmp/sine-$cell.nrm" --cell $cell \
    --hidden 32 --window 30 --epochs 30 --seed 1 --quiet
done

echo; echo "== 3. daily minimum temperatures, Melbourne 1981-1990"
run forecast train --csv "$ts/daily-min-temperatures.csv" --column Temp -o "$tmp/temps.nrm" \
  --cell lstm --hidden 32 --window 30 --epochs 30 --seed 1 --quiet --png --plots "$figs/temps"
run forecast train --csv "$ts/daily-min-temperatures.csv" --column Temp -o "$tmp/temps-gru.nrm" \
  --cell gru --hidden 32 --window 30 --epochs 30 --seed 1 --quiet

echo; echo "== 4. Samsung Electronics (005930.KS) daily close, 2000-2022"
run forecast train --csv "$ts/005930.KS.csv" --column Close -o "$tmp/close.nrm" --cell lstm \
  --hidden 32 --window 30 --epochs 30 --seed 1 --quiet --png --plots "$figs/samsung-close"
run forecast train --csv "$ts/005930.KS.csv" --column Close -o "$tmp/close-rel.nrm" --cell lstm \
  --hidden 32 --window 30 --epochs 30 --seed 1 --relative 1 --scaler standard --quiet
run forecast eval "$tmp/close-rel.nrm" --csv "$ts/005930.KS.csv" --plot "$figs/samsung-close-relative-test.png"
run forecast train --csv "$ts/005930.KS.csv" --column Open,High,Low,Close,Volume --target Close \
  -o "$tmp/ohlcv-rel.nrm" --cell lstm --hidden 32 --window 30 --epochs 30 --seed 1 --relative 1 \
  --scaler standard --quiet

echo; echo "== 5. vanishing and exploding gradients"
run gradflow --length 150 --plot "$figs/gradflow-init.png"
run gradflow --length 150 --gain 0.6 --plot "$figs/gradflow-gain0.6.png"
run gradflow --length 150 --gate-bias 3 --plot "$figs/gradflow-gate-bias3.png"
run gradflow --explode --plot "$figs/gradflow-explode.png"

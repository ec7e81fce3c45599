#!/usr/bin/env bash
# .ci/kill-during-save.sh [BUILD_DIR] [ROUNDS]
#
# SIGKILL at random moments while nlprnn writes files: never a file that is both present and
# broken. Each round starts one writer in a fresh folder and kills it with SIGKILL after a random
# delay drawn over the writer's measured run time (so kills land during reading, training and the
# final save alike); then every output file that exists must load (`nlprnn info` exit 0 for
# models and checkpoints, `nlprnn tokenize` for tokenizers), and no temporary file may be mistaken
# for an output (temporaries a kill leaves behind are counted: they never replace an output). The writers: `train` (model + checkpoint every batch), `tokenizer-train`,
# `forecast train` and `lm-train` (when ../shared/corpora is present). Default: 25 rounds each.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${1:-build}
rounds=${2:-25}
nl="$root/$build/nlprnn"
[ -x "$nl" ] || { echo "kill-during-save: $nl not built" >&2; exit 2; }
t=$(mktemp -d "${TMPDIR:-/tmp}/nlprnn-kill.XXXXXX")
trap 'rm -rf "$t"' EXIT
export OPENBLAS_NUM_THREADS=1
fx=$root/tests/data/clf_train.tsv
printf 'value\n' >"$t/series.csv"
awk 'BEGIN {for (i = 0; i < 3000; i++) printf "%.5f\n", sin(i / 8.0) + 0.1 * sin(i * 1.7)}' >>"$t/series.csv"

writers=(train tokenizer-train forecast)
corpus=$root/../shared/corpora/nsmc/lm_valid.txt.gz
[ -f "$corpus" ] && [ -f "$root/pretrained/ko.tok" ] && writers+=(lm-train)

run_writer() { # run_writer NAME DIR: start the writer in DIR in the background; sets $pid
  local w=$1 d=$2
  case "$w" in
    train) exec "$nl" train "$fx" -o "$d/out.nrm" --vocab 300 --embed 16 --hidden 16 --epochs 3 \
             --batch 16 --threads 1 --checkpoint-every 1 --quiet ;;
    tokenizer-train) exec "$nl" tokenizer-train --input "$fx" --input "$fx" --output "$d/out.tok" \
             --vocab-size 2000 --min-count 1 ;;
    forecast) exec "$nl" forecast train --csv "$t/series.csv" --column value -o "$d/out.nrm" \
             --hidden 16 --window 20 --epochs 5 --quiet ;;
    lm-train) exec "$nl" lm-train --tokenizer "$root/pretrained/ko.tok" --input "$corpus" \
             --output "$d/out.nrm" --embed 16 --hidden 16 --max-lines 1500 --samples 64 --quiet ;;
  esac >/dev/null 2>&1 &   # (exec: the background job IS the writer, so SIGKILL reaches it)
  pid=$!
}

check_outputs() { # check_outputs DIR: every output present must load; prints problems
  local d=$1 f bad=0
  for f in "$d"/out.nrm "$d"/out.nrm.ckpt; do
    [ -e "$f" ] || continue
    "$nl" info "$f" >/dev/null 2>&1 || { echo "  BROKEN: $(basename "$f") is present and does not load"; bad=1; }
  done
  if [ -e "$d/out.tok" ]; then
    "$nl" tokenize --tokenizer "$d/out.tok" 'probe 문장' >/dev/null 2>&1 ||
      { echo "  BROKEN: out.tok is present and does not load"; bad=1; }
  fi
  return $bad
}

total_broken=0
echo "| writer | full run | rounds | killed while running | outputs present after the kill | present and broken | temporaries left behind |"
echo "|---|---|---|---|---|---|---|"
for w in "${writers[@]}"; do
  d=$t/full-$w; mkdir -p "$d"
  start=$(date +%s%N)
  run_writer "$w" "$d"; wait "$pid"; rc=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  if [ "$rc" != 0 ] || ! check_outputs "$d" >/dev/null; then
    echo "kill-during-save: the uninterrupted $w run failed (exit $rc)" >&2; total_broken=$((total_broken + 1)); continue
  fi
  killed=0 present=0 broken=0 temps=0
  for ((r = 0; r < rounds; r++)); do
    d=$t/$w-$r; mkdir -p "$d"
    delay=$(( (RANDOM * 32768 + RANDOM) % (ms + ms / 5 + 1) ))   # 0 .. 1.2 x the full run
    run_writer "$w" "$d"
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null && killed=$((killed + 1)); fi
    wait "$pid" 2>/dev/null
    n=$(find "$d" -maxdepth 1 \( -name 'out.nrm' -o -name 'out.nrm.ckpt' -o -name 'out.tok' \) | wc -l)
    present=$((present + n))
    temps=$((temps + $(find "$d" -maxdepth 1 -type f ! -name 'out.nrm' ! -name 'out.nrm.ckpt' ! -name 'out.tok' | wc -l)))
    if ! check_outputs "$d"; then broken=$((broken + 1)); fi
    rm -rf "$d"
  done
  total_broken=$((total_broken + broken))
  printf '| %s | %d ms | %d | %d | %d | %d | %d |\n' "$w" "$ms" "$rounds" "$killed" "$present" "$broken" "$temps"
done
echo
echo "kill-during-save: $total_broken round(s) left a present but broken file"
[ "$total_broken" = 0 ]

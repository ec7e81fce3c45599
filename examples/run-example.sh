#!/usr/bin/env bash
# examples/run-example.sh NAME EXE: run one built example on fixed input and check its output
# (used by scripts/check-install.sh for both the pkg-config and the find_package builds).
# Prints one summary line last; exits non-zero on a wrong result.
set -euo pipefail
name=$1
exe=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
die() { echo "run-example $name: $*" >&2; exit 1; }

case "$name" in
classify)
  # With the shipped Korean classifier when it is installed; otherwise a small model trained here
  # by the INSTALLED nlprnn program on the project's fixture (tests/data/clf_train.tsv).
  model=ko
  if [ ! -f "${NLPRNN_MODEL_DIR:-/nonexistent}/ko.nrm" ]; then
    "${NLPRNN_CLI:-nlprnn}" train "$here/../tests/data/clf_train.tsv" -o "$tmp/clf.nrm" --vocab 300 \
      --embed 16 --hidden 16 --epochs 6 --batch 16 --threads 1 --lr 0.01 --patience 0 --seed 7 \
      --quiet >/dev/null || die "installed nlprnn train failed"
    model=$tmp/clf.nrm
  fi
  # A clear positive and a clear negative review, one the model has to answer anyway, an empty
  # line (must be reported, not crash) and an invalid UTF-8 line.
  printf '정말 최고 명작 강추\n최악 지루 돈아깝다 노잼\nnot Korean at all\n\n\xff\xfe broken\n' >"$tmp/in.txt"
  "$exe" "$model" <"$tmp/in.txt" >"$tmp/t1.txt" 2>"$tmp/err.txt" || die "exit $? ($(cat "$tmp/err.txt"))"
  "$exe" -t 4 "$model" <"$tmp/in.txt" >"$tmp/t4.txt" 2>/dev/null || die "-t 4: exit $?"
  cmp -s "$tmp/t1.txt" "$tmp/t4.txt" || die "4 threads sharing the model differ from 1 thread"
  [ "$(wc -l <"$tmp/t1.txt")" = 5 ] || die "expected 5 output lines, got $(wc -l <"$tmp/t1.txt")"
  pos=$(sed -n 1p "$tmp/t1.txt" | cut -f1)
  neg=$(sed -n 2p "$tmp/t1.txt" | cut -f1)
  [ "$pos" != "$neg" ] || die "the clear positive and negative reviews got the same label '$pos'"
  [ "$pos" = 1 ] || [ "$pos" = pos ] || [ "$pos" = positive ] || die "positive review labelled '$pos'"
  awk -F'\t' 'NR <= 3 && !($2 >= 0.5 && $2 <= 1) {exit 1}' "$tmp/t1.txt" || die "probabilities out of [0.5, 1]"
  sed -n 4p "$tmp/t1.txt" | grep -q $'^-\tNLPRNN_E_EMPTY' || die "empty line not reported as NLPRNN_E_EMPTY"
  sed -n 5p "$tmp/t1.txt" | grep -q $'^-\tNLPRNN_E_UTF8' || die "invalid UTF-8 not reported as NLPRNN_E_UTF8"
  grep -q 'line 5' "$tmp/err.txt" || die "no message naming line 5"
  echo "classify ($( [ "$model" = ko ] && echo shipped ko || echo fixture model)): positive -> $pos, negative -> $neg, empty and invalid lines reported, 1 thread == 4 threads"
  ;;
fill_blank)
  # With the shipped Korean language model when it is installed; otherwise a tiny model trained
  # here by the INSTALLED nlprnn program (checks the ranking mechanics, not the language).
  model=ko
  if [ ! -f "${NLPRNN_MODEL_DIR:-/nonexistent}/ko-lm.nrm" ]; then
    corpus=${NLPRNN_SHARED:-$here/../../shared}/corpora/nsmc/lm_valid.txt.gz
    tok=${NLPRNN_MODEL_DIR:-/nonexistent}/ko.tok
    [ -f "$corpus" ] && [ -f "$tok" ] || die "no ko-lm.nrm installed, and $corpus or $tok missing to train one"
    "${NLPRNN_CLI:-nlprnn}" lm-train --tokenizer "$tok" --input "$corpus" --output "$tmp/lm.nrm" \
      --embed 32 --hidden 32 --max-lines 3000 --samples 256 --time-limit 20 --quiet >/dev/null ||
      die "installed nlprnn lm-train failed"
    model=$tmp/lm.nrm
  fi
  "$exe" -m "$model" "이 영화 정말 ___" 재밌다 책상이다 최악이다 >"$tmp/out.txt" || die "exit $?"
  [ "$(wc -l <"$tmp/out.txt")" = 3 ] || die "expected 3 ranked candidates, got: $(cat "$tmp/out.txt")"
  awk -F'\t' '{s += $2; if (NR > 1 && $2 > prev + 1e-9) bad = 1; prev = $2}
               END {exit (bad || s < 0.99 || s > 1.01)}' "$tmp/out.txt" ||
    die "probabilities not sorted or not summing to 1: $(cat "$tmp/out.txt")"
  best=$(head -1 "$tmp/out.txt" | cut -f1)
  [ "$best" != 책상이다 ] || die "'책상이다' (is a desk) ranked first"
  printf '___ 영화\n정말 ___\n' | "$exe" -m "$model" -k 2 >"$tmp/stdin.txt" || die "stdin mode: exit $?"
  [ "$(grep -c . "$tmp/stdin.txt")" = 4 ] || die "stdin mode: expected 2 answers for each of 2 sentences"
  if "$exe" -m "$model" "빈칸이 없는 문장" 2>"$tmp/err.txt"; then die "a sentence without a blank was accepted"; fi
  grep -q NLPRNN_E_DATA "$tmp/err.txt" || die "no NLPRNN_E_DATA for a sentence without a blank"
  echo "fill_blank ($( [ "$model" = ko ] && echo shipped ko-lm || echo tiny LM)): '이 영화 정말 ___' -> $best; stdin mode and a missing blank ok"
  ;;
sine_forecast)
  # The chapter's LSTM(16) -> Dense(1) on a clean sine: far better than persistence; GRU too.
  for cell in lstm gru; do
    "$exe" --cell "$cell" --epochs 20 >"$tmp/$cell.txt" || die "--cell $cell: exit $?"
    read -r model persist < <(sed -n 's/^test RMSE: model \([0-9.]*\), persistence \([0-9.]*\)$/\1 \2/p' "$tmp/$cell.txt")
    [ -n "${model:-}" ] || die "--cell $cell: no test RMSE line: $(cat "$tmp/$cell.txt")"
    awk -v m="$model" -v p="$persist" 'BEGIN {exit !(m < 0.05 && m < p / 4)}' ||
      die "--cell $cell: test RMSE $model is not well below persistence $persist"
    eval "rmse_$cell=$model"
  done
  if "$exe" --cell transformer 2>/dev/null; then die "an unknown cell was accepted"; fi
  echo "sine_forecast: test RMSE lstm $rmse_lstm, gru $rmse_gru (persistence $persist)"
  ;;
translate)
  # The shipped ko-en translator must give exactly what the installed `nlprnn translate` prints
  # for the same lines (so the example and the command cannot drift apart), from a file and from
  # standard input; an invalid UTF-8 line is reported with its line and byte and skipped.
  [ -f "${NLPRNN_MODEL_DIR:-/nonexistent}/ko-en.nrm" ] || die "no ko-en.nrm in NLPRNN_MODEL_DIR=${NLPRNN_MODEL_DIR:-}"
  printf '고마워요.\n오늘 날씨가 정말 좋네요.\n' >"$tmp/in.txt"
  "$exe" "$tmp/in.txt" >"$tmp/ex.txt" 2>"$tmp/err.txt" || die "exit $? ($(cat "$tmp/err.txt"))"
  "${NLPRNN_CLI:-nlprnn}" translate -m ko-en -i "$tmp/in.txt" >"$tmp/cli.txt" || die "nlprnn translate: exit $?"
  [ "$(wc -l <"$tmp/cli.txt")" = 2 ] && [ "$(grep -c . "$tmp/cli.txt")" = 2 ] ||
    die "nlprnn translate did not print 2 translations: $(cat "$tmp/cli.txt")"
  cmp -s "$tmp/ex.txt" "$tmp/cli.txt" ||
    die "the example and nlprnn translate differ: $(paste "$tmp/ex.txt" "$tmp/cli.txt")"
  "$exe" -m ko-en <"$tmp/in.txt" >"$tmp/stdin.txt" || die "stdin: exit $?"
  cmp -s "$tmp/stdin.txt" "$tmp/cli.txt" || die "standard input differs from the file"
  printf '고마워요.\na\xffb\n' >"$tmp/bad.txt"
  if "$exe" "$tmp/bad.txt" >"$tmp/bad.out" 2>"$tmp/bad.err"; then die "an invalid UTF-8 line was accepted"; fi
  grep -q "bad.txt:2: byte 1: .*NLPRNN_E_UTF8" "$tmp/bad.err" || die "no message naming line 2, byte 1: $(cat "$tmp/bad.err")"
  [ "$(sed -n 1p "$tmp/bad.out")" = "$(sed -n 1p "$tmp/cli.txt")" ] || die "the line before the bad one was not translated"
  echo "translate (shipped ko-en): $(paste -sd'|' "$tmp/ex.txt") == nlprnn translate; invalid UTF-8 reported"
  ;;
*)
  die "no check written for this example (add one to examples/run-example.sh)"
  ;;
esac

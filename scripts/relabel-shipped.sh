#!/usr/bin/env bash
# scripts/relabel-shipped.sh [BUILD_DIR]: give the shipped sentiment classifiers (pretrained/ko.nrm,
# trained on NSMC; pretrained/en.nrm, trained on SST-2; both label 0 = negative, 1 = positive) the
# label names negative/positive with `nlprnn relabel` (nlprnn_classifier_relabel). Only the files'
# label names change, and the tokenizer section is written uncompressed as current files are (a
# load then needs no inflate): configuration, tokenizer and weights are copied byte for byte, and
# the script checks that the relabelled model gives the same probabilities as before on a few
# documents (classify --data-labels prints the old labels). Running it twice changes nothing.
# So it also re-saves a shipped classifier written by an older program (scripts/train-ko.sh and
# train-en.sh with a program built before 2026-12-05: TOKN compressed) in the current layout.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bin="$build/nlprnn"
[ -x "$bin" ] || { echo "relabel-shipped: $bin not found (build first)" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf '%s\n' "정말 재미있고 감동적인 영화였어요" "시간 낭비. 스토리도 연기도 최악" \
  "A moving, beautifully acted film." "Dull and far too long." > "$tmp/docs.txt"
for m in ko en; do
  f=pretrained/$m.nrm
  NLPRNN_MODEL_DIR= "$bin" classify -m "$f" --lines --data-labels -k 2 "$tmp/docs.txt" > "$tmp/before"
  "$bin" relabel "$f" --label-names 0=negative,1=positive -o "$tmp/$m.nrm"
  "$bin" classify -m "$tmp/$m.nrm" --lines --data-labels -k 2 "$tmp/docs.txt" > "$tmp/after"
  cmp "$tmp/before" "$tmp/after" || { echo "relabel-shipped: $f classifies differently" >&2; exit 1; }
  mv "$tmp/$m.nrm" "$f"
  echo "relabel-shipped: $f: $("$bin" info "$f" | grep '^label names:')"
done

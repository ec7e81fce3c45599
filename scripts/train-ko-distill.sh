#!/usr/bin/env bash
# scripts/train-ko-distill.sh [BUILD_DIR] — the Korean sentiment classifier by a second round of
# distillation (issue 16): a student of the shipped shape learns the soft targets of the two best
# models there are, teacher 0 (scripts/train-ko.sh's model) and A (the student of the first round,
# NLPRNN_KO_SELF_MODE=distill scripts/train-ko-self.sh), on the gold reviews and the unlabelled pool.
#
#   0. Validation = the 7,500 reviews `--valid-split 0.05 --seed 1` holds out of nsmc/train.tsv.gz
#      (scripts/valid-split.py), which neither teacher trained on (checked: each one's recorded
#      validation accuracy must be what eval gives on them). The teachers, the ensemble, the student's
#      start and seed were chosen on it (docs/experiments/classify.md, "Stronger teachers"); the
#      test split is evaluated once, at the end.
#   1. Unlabelled pool: the distinct texts of lm_train.txt.gz minus every text of train.tsv.gz and
#      minus every text of test.tsv.gz (lm_train holds no test review, but 491 of its texts are
#      written exactly as a test review is, short ones like "최고" and a few reposted long ones:
#      out, so that no test text gets a teacher's target; only the texts are read, no label).
#   2. The teachers' probabilities (classify --top-k 2) on the gold reviews and the pool; soft
#      targets with scripts/soft-targets.py: gold reviews 0.5 x their label + 0.5 x the mean of
#      the two; the pool's the mean, as many of each class by its argmax.
#   3. The student: the shipped shape (so the same size and speed), started from A's embedding and
#      encoder (`--init-from`, a new head), one epoch over step 2's file at lr 0.001 (seed 22);
#      validated on step 0's part. (A new encoder on A's embedding, 2 epochs at lr 0.002: 0.8861.)
# Teachers: NLPRNN_KO_TEACHER (teacher 0: scripts/train-ko.sh's output) and NLPRNN_KO_DISTILLED
# (A: pretrained/ko.nrm of 2026-12-05 before this round, `git show e4a7722:pretrained/ko.nrm`).
# Output: NLPRNN_KO_DISTILL_OUT (default $TMPDIR/ko-distill2.nrm; shipped by cp to pretrained/ko.nrm,
# then scripts/relabel-shipped.sh). The record goes into docs/experiments/classify.md (block
# train-ko-distill2, in "Stronger teachers").
# About 25 minutes on the 2-core machine at load 5-7 (labelling 8 min, student 11 min).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
nlprnn="$build/nlprnn"
corp=../shared/corpora/nsmc
out=${NLPRNN_KO_DISTILL_OUT:-${TMPDIR:-/tmp}/ko-distill2.nrm}
: "${NLPRNN_KO_TEACHER:?set it to scripts/train-ko.sh's model (teacher 0)}"
: "${NLPRNN_KO_DISTILLED:?set it to the first round's student (git show e4a7722:pretrained/ko.nrm > a.nrm)}"
tmp=$(mktemp -d)
. scripts/recipe-lib.sh
trap 'rm -rf "$tmp"' EXIT
cp "$NLPRNN_KO_TEACHER" "$tmp/t0.nrm"
cp "$NLPRNN_KO_DISTILLED" "$tmp/a.nrm"
start=$(date +%s)

# 0. the validation part, and the check that no teacher trained on it
python3 scripts/valid-split.py "$corp/train.tsv.gz" 0.05 1 "$tmp/train95.tsv" "$tmp/valid.tsv"
for t in t0 a; do
  v=$(acc_of "$tmp/$t.nrm" "$tmp/valid.tsv")
  rec=$("$nlprnn" info "$tmp/$t.nrm" | awk -F' = ' '$1 ~ /train.valid_accuracy$/ {print $2}')
  awk -v a="$v" -v b="$rec" 'BEGIN { d = a - b; exit !(d < 0.002 && d > -0.002) }' || {
    echo "train-ko-distill: $t gives $v on the held-out part but recorded $rec: not validated on it" >&2
    exit 1
  }
  eval "${t}_valid=$v"
done

# 1. the unlabelled pool
export LC_ALL=C
zcat "$corp/train.tsv.gz" | awk -F'\t' 'NR > 1 {print $2}' | sort -u > "$tmp/train_texts.txt"
zcat "$corp/test.tsv.gz" | awk -F'\t' 'NR > 1 {print $2}' | sort -u > "$tmp/test_texts.txt"
zcat "$corp/lm_train.txt.gz" | sort -u | comm -23 - "$tmp/train_texts.txt" \
  | comm -23 - "$tmp/test_texts.txt" > "$tmp/unl.txt"

# 2. the teachers' probabilities and the soft targets
tail -n +2 "$tmp/train95.tsv" | cut -f2 > "$tmp/gold_texts.txt"
for t in t0 a; do
  for part in gold_texts unl; do
    nice "$nlprnn" classify -m "$tmp/$t.nrm" --lines --data-labels --top-k 2 -q -t 1 "$tmp/$part.txt" > "$tmp/$t.$part"
  done
done
python3 scripts/soft-targets.py "$tmp/train95.tsv" "$tmp/unl.txt" "$tmp/distill.tsv" 0.5 \
  "$tmp"/{t0,a}.gold_texts -- "$tmp"/{t0,a}.unl

# 3. the student
cmd=(nice "$nlprnn" train "$tmp/distill.tsv" -o "$out" --soft-column soft --valid "$tmp/valid.tsv"
     --init-from "$tmp/a.nrm" --embed 128 --cell lstm --bidirectional 1 --hidden 128 --pool max
     --dropout 0.2 --optimizer adam --lr 0.001 --lr-schedule linear --clip 5 --epochs 1 --batch 64
     --seed 22 --threads 1 --patience 2 --max-tokens 128 --storage f16)
"${cmd[@]}"
s_valid=$(acc_of "$out" "$tmp/valid.tsv")
secs=$(( $(date +%s) - start ))

# 4. the test split, once, and the record
recipe_eval "$out" "$corp/test.tsv.gz" 1
size=$(stat -c %s "$out")
echo "train-ko-distill: $out: valid $s_valid (teachers: t0 $t0_valid, A $a_valid), test accuracy $acc, $size bytes, $secs s"
{
  recipe_head
  echo "teachers: T0 valid $t0_valid, A valid $a_valid; pool $(wc -l < "$tmp/unl.txt") texts"
  echo "soft targets: $(( $(wc -l < "$tmp/distill.tsv") - 1 )) reviews (scripts/soft-targets.py, label weight 0.5)"
  recipe_cmd "${cmd[@]:1}"
  echo "student: valid $s_valid (7,500 held-out reviews of train.tsv.gz)"
  echo "\$ nlprnn eval -m $out $corp/test.tsv.gz"
  echo "test accuracy: $acc   macro F1: $f1   (50,000 reviews of nsmc/test.tsv.gz)"
  echo "time: $secs s wall in all (labelling, student), on this machine:"
  recipe_tail "$out"
} > "$tmp/record.md"
python3 scripts/doc-block.py docs/experiments/classify.md train-ko-distill2 "$tmp/record.md"

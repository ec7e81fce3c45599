#!/usr/bin/env bash
# scripts/train-spacing.sh [BUILD_DIR] — the shipped Korean spacing model, pretrained/ko-space.nrm.
#
# Data (from ../shared/corpora, never copied into the repo):
#   written  ko-text/korsts.ko.txt.gz, ko-text/kornli-xnli.ko.txt.gz, ko-text/news-ko.dev.txt.gz,
#            ko-text/ud-kaist.dev.ko.txt.gz, the Korean column of parallel/flores-devtest.tsv.gz
#            (parallel/news-dev is the same text as news-ko.dev and is not added twice)
#   reviews  the lines of nsmc/lm_train.txt.gz with >= 3 words and >= 15 bytes (539,054), as
#            their writers spaced them (informal, often badly spaced). With NLPRNN_SPACE_AGREE=F
#            (default 0: every line) only the lines a filter model spaces alike are kept: boundary
#            F1 between the writer's spaces and `nlprnn space -m FILTER` >= F
#            (scripts/spacing-agree.py); FILTER is NLPRNN_SPACE_FILTER, by default the
#            pretrained/ko-space.nrm in the tree when the recipe starts (its sha256 is printed).
#            Measured: F = 0.8 (388,836 lines) gave validation 0.9815 against every line's 0.9822,
#            so the shipped model uses every line (docs/experiments/spacing.md, "Reviews chosen by agreement")
#            With NLPRNN_SPACE_TEACHER=MODEL (distillation) the reviews are spaced by MODEL instead
#            (`nlprnn space -m MODEL -t 1`: the writers' spaces removed, the teacher's put in; its
#            sha256 is printed; NLPRNN_SPACE_KEEP keeps the respaced file as reviews.teacher.txt):
#            a student learns the teacher's spacing of 539,054 reviews in the pretraining and the
#            written text's own in the fine-tuning. Measured with the shipped five as teacher: the
#            student (1b) 0.8894 validation word F1 against 0.8954 for 1b on the writers' spaces
#            (docs/experiments/spacing.md, "One student distilled from the five"): not shipped.
#   test     ko-text/news-ko.test.txt.gz and ko-text/ud-kaist.test.ko.txt.gz (never trained on;
#            parallel/news-test is the same text as news-ko.test and is not used either)
# Two stages (docs/experiments/spacing.md, "Movie reviews as training data"):
#   1. pretraining: written + reviews, 1 epoch (the units are those of both);
#   2. fine-tuning: the written text alone from the pretrained model (--init-from),
#      NLPRNN_SPACE_EPOCHS epochs (default 10), the best validated epoch kept, with dropout
#      NLPRNN_SPACE_FINE_DROPOUT (default 0.3; pretraining keeps 0.1). Measured: 6 epochs at 0.1
#      (the model before) validation 0.9822, 10 at 0.1 0.9820, 10 at 0.3 0.9824, 10 at 0.5 0.9815
#      (docs/experiments/spacing.md, "Fine-tuning: epochs and dropout").
#   NLPRNN_SPACE_EMBED / NLPRNN_SPACE_HIDDEN (defaults 64 / 128) set the network's width for both
#   stages. Measured: 96 / 192 validation 0.9828 against 0.9824, test word F1 0.8158 against
#   0.8174 at twice the time per sentence (docs/experiments/spacing.md, "A wider network"): not shipped.
#   3. a second fine-tuning from the same pretrained file, NLPRNN_SPACE_EPOCHS2 epochs (default 6)
#      at dropout NLPRNN_SPACE_FINE_DROPOUT2 (default 0.1): the model shipped before (commit
#      8df3448), the runner-up on validation (0.9822 against 0.9824);
#   4. stages 1-3 again with --seed 2 and with --seed 3 (other pretrainings, each its own held-out
#      2 %, its own order, hints and dropout), so that members differ more than fine-tunings of one
#      pretraining;
#   5. stages 1 and 3 of seeds 1 and 2 again with the convolution in front (space-train --conv 5
#      --conv-channels 64, NLPRNN_SPACE_CONV), and of seed 1 with LSTM cells (--cell lstm):
#      members that differ from the others in kind;
#   6. `nlprnn space-pack` writes the chosen fine-tunings as ONE ensemble file (the mean of their
#      probabilities of a space per character; docs/spacing.md, "Ensembles"). NLPRNN_SPACE_PACK
#      lists them: SEED then a (stage 2) or b (stage 3), then c for the convolution (stage 5), j
#      for the jamo features, l for LSTM cells or w for the wider network (--embed 96 --hidden 192),
#      in member order; default "1b 3b 2b 1bc 2bc 1bl" (only the stages they need are run: seeds
#      1, 2 and 3's pretrainings, seeds 1 and 2's with the convolution and seed 1's with LSTM
#      cells, one fine-tuning of each).
#      Chosen on a validation set no model trained on (the Korean side of parallel/tatoeba-train,
#      docs/experiments/spacing.md "A second pretraining", "A third pretraining" and "At full
#      size: one member with the convolution", "A fifth member" and "A sixth member of another
#      kind"): 1b 3b 2b 1bc 2bc 1bl word F1 0.9139 (tatoeba-test 0.8768), with 1bw too 0.9144
#      (tatoeba-test 0.8725, 10.8 MB), 1b 3b 2b 1bc 2bc 1bw 0.9125,
#      1b 3b 2b 1bc 2bc 0.9125, with 1bj (jamo) too 0.9123 (a tie within 0.0005 goes to fewer members), 1b 3b 2b
#      1bc 1bj 0.9115, 1b 3b 2b 1bc 0.9099, 1b 3b 2b 0.9082,
#      1bc 3b 2b 0.9085, the five 1b 2a 2b 3a 3b 0.9082 (a tie goes to fewer members), 1b 2a 2b
#      0.9053, 1a 1b 0.8984; test files: word F1 0.8373 against 0.8360 for 1b 3b 2b 1bc 2bc, 0.8352 for 1b 3b 2b 1bc, 0.8318
#      for 1b 3b 2b, 0.8311 for
#      1b 2a 2b, 0.8242 for 1a 1b and 0.8174 for 1a alone. NLPRNN_SPACE_MEMBERS=1 ships 1a alone.
#   NLPRNN_SPACE_KEEP=DIR copies every pretraining and member file into DIR as it is written.
#   NLPRNN_SPACE_JAMO=1 adds the jamo features (space-train --jamo 1) to every stage. Measured
#   (docs/experiments/spacing.md "Jamo features, measured"): small models of the two-stage recipe +0.0093 validation word
#   F1 over three seeds (test +0.0034); one full-size member (1b with jamo) +0.0013 validation and
#   +0.0003 test against 1b, and not shipped in the ensemble by its rule; default 0 = the shipped
#   model's recipe.
#   NLPRNN_SPACE_STORE (default f16; or f32) is how the written file stores the weights: float16
#   halves it (7.6 -> 3.8 MB) with the same test figures and 1 of 4,287 respaced test lines
#   different (docs/spacing.md, "Float16 model files"); the members train in float32.
#   NLPRNN_SPACE_INIT=FILE starts stage 1 from FILE (--init-from; e.g. a second round from the
#   shipped model: measured, not better, docs/spacing.md).
# 2% of each stage's sentences are held out for validation. Model: syllable embedding 64 ->
# 2 x bidirectional GRU 128 -> softmax over {none, space} per syllable; 30% of the training
# sentences keep part of their spaces as hints (for --keep-spaces). Fixed epochs, one worker
# thread: the model file is the same on every run on the same CPU kernel path. Time on this
# 2-core machine when it is shared: the seed-1 pretraining 20 minutes and its stage 3 5, the
# seed-2 pretraining 38 and its two fine-tunings 15 and 9 (run side by side at load 4-7), the
# seed-3 pretraining 24 and its two fine-tunings 10 and 6.5 (side by side, load 4-6): about an
# hour and a half in all for seed 1's, 2's and 3's stages, one after the other; seed 1's with the
# convolution 10 and 3 minutes at load 1 (19 and 5 at load 6-9), seed 2's 25 and 10 at load 7-10,
# seed 1's with LSTM cells 12 and 4 (load 5-8). Then scripts/eval-spacing.py measures the test files.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
nlprnn="$build/nlprnn"
corp=../shared/corpora
out=${NLPRNN_SPACE_OUT:-pretrained/ko-space.nrm}
epochs=${NLPRNN_SPACE_EPOCHS:-10}
fine_dropout=${NLPRNN_SPACE_FINE_DROPOUT:-0.3}
epochs2=${NLPRNN_SPACE_EPOCHS2:-6}
fine_dropout2=${NLPRNN_SPACE_FINE_DROPOUT2:-0.1}
members=${NLPRNN_SPACE_MEMBERS:-2}
embed=${NLPRNN_SPACE_EMBED:-64}
hidden=${NLPRNN_SPACE_HIDDEN:-128}
jamo=${NLPRNN_SPACE_JAMO:-0}
case "$jamo" in 0 | 1) ;; *) echo "train-spacing: NLPRNN_SPACE_JAMO: '$jamo' is not 0 or 1" >&2; exit 2 ;; esac
store=${NLPRNN_SPACE_STORE:-f16}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# members: NLPRNN_SPACE_PACK lists the fine-tunings packed, each SEED then a or b, then an optional
# kind, c, j, l or w: a = the first fine-tuning (NLPRNN_SPACE_EPOCHS, NLPRNN_SPACE_FINE_DROPOUT), b = the
# second (..._EPOCHS2, ..._FINE_DROPOUT2), both from the pretraining of that seed and kind, with
# that seed (its own held-out 2 %); c = with the convolution in front (space-train --conv 5
# --conv-channels 64, set by NLPRNN_SPACE_CONV=WIDTHxCHANNELS), j = with the jamo features
# (--jamo 1), l = with LSTM cells instead of GRU (--cell lstm), w = wider (--embed 96 --hidden 192),
# in both stages, from a pretraining of its own kind
pack_list=${NLPRNN_SPACE_PACK:-1b 3b 2b 1bc 2bc 1bl}
[ "$members" = 1 ] && pack_list=1a
for m in $pack_list; do
  case "$m" in [0-9]*a | [0-9]*b | [0-9]*a[cjlw] | [0-9]*b[cjlw]) ;;
    *) echo "train-spacing: NLPRNN_SPACE_PACK: '$m' is not SEED then a or b, then an optional c, j, l or w" >&2; exit 2 ;; esac
done
if [ "$jamo" = 1 ]; then # every stage has jamo already: a j member would repeat a plain one's runs
  for m in $pack_list; do
    case "$m" in *j) echo "train-spacing: NLPRNN_SPACE_PACK: '$m': with NLPRNN_SPACE_JAMO=1 every member has jamo; drop the j" >&2; exit 2 ;; esac
  done
fi
conv=${NLPRNN_SPACE_CONV:-5x64}
case "$conv" in [1-9]*x[1-9]*) ;; *) echo "train-spacing: NLPRNN_SPACE_CONV: '$conv' is not WIDTHxCHANNELS" >&2; exit 2 ;; esac
for f in ko-text/korsts.ko.txt.gz ko-text/kornli-xnli.ko.txt.gz ko-text/news-ko.dev.txt.gz \
         ko-text/ud-kaist.dev.ko.txt.gz parallel/flores-devtest.tsv.gz nsmc/lm_train.txt.gz; do
  [ -f "$corp/$f" ] || { echo "train-spacing: missing $corp/$f" >&2; exit 4; }
done
# the Korean column of the FLORES devtest TSV (header: en, ko)
zcat "$corp/parallel/flores-devtest.tsv.gz" |
  awk -F'\t' 'NR==1{for(i=1;i<=NF;i++) if($i=="ko") k=i; next} {print $k}' > "$tmp/flores.ko.txt"

cmds=()
run() { # run a command niced, keep it for the record
  nice -n 5 "$@"
  cmds+=("${*:2}")
}
agree=${NLPRNN_SPACE_AGREE:-0}
filter=${NLPRNN_SPACE_FILTER:-pretrained/ko-space.nrm}
teacher=${NLPRNN_SPACE_TEACHER:-}
if [ -n "$teacher" ]; then
  [ -f "$teacher" ] || { echo "train-spacing: the teacher model $teacher is missing" >&2; exit 4; }
  [ "$agree" = 0 ] || { echo "train-spacing: NLPRNN_SPACE_TEACHER and NLPRNN_SPACE_AGREE exclude each other" >&2; exit 2; }
fi
zcat "$corp/nsmc/lm_train.txt.gz" | LC_ALL=C awk 'NF >= 3 && length($0) >= 15' > "$tmp/reviews.all.txt"
if [ -n "$teacher" ]; then # distillation: the teacher's spaces, not the writers'
  cp "$teacher" "$tmp/teacher.nrm" # the output may replace it
  echo "train-spacing: teacher model $teacher, sha256 $(sha256sum < "$tmp/teacher.nrm" | cut -c1-64)"
  t0=$(date +%s)
  run "$nlprnn" space -m "$tmp/teacher.nrm" -t 1 -i "$tmp/reviews.all.txt" > "$tmp/reviews.txt"
  echo "train-spacing: $(wc -l < "$tmp/reviews.txt") reviews respaced by the teacher in $(( $(date +%s) - t0 )) s"
  [ -z "${NLPRNN_SPACE_KEEP:-}" ] || { mkdir -p "$NLPRNN_SPACE_KEEP"; cp "$tmp/reviews.txt" "$NLPRNN_SPACE_KEEP/reviews.teacher.txt"; }
elif [ "$agree" = 0 ]; then
  mv "$tmp/reviews.all.txt" "$tmp/reviews.txt"
else
  [ -f "$filter" ] || { echo "train-spacing: the filter model $filter is missing" >&2; exit 4; }
  cp "$filter" "$tmp/filter.nrm" # the output may replace it
  echo "train-spacing: filter model $filter, sha256 $(sha256sum < "$tmp/filter.nrm" | cut -c1-64)"
  run "$nlprnn" space -m "$tmp/filter.nrm" -t 1 -i "$tmp/reviews.all.txt" > "$tmp/reviews.spaced.txt"
  python3 scripts/spacing-agree.py "$agree" "$tmp/reviews.all.txt" "$tmp/reviews.spaced.txt" --stats \
    > "$tmp/reviews.txt"
fi

train=("$corp/ko-text/korsts.ko.txt.gz" "$corp/ko-text/kornli-xnli.ko.txt.gz"
       "$corp/ko-text/news-ko.dev.txt.gz" "$corp/ko-text/ud-kaist.dev.ko.txt.gz" "$tmp/flores.ko.txt")
# a pretraining per seed and kind: "1" (plain), "1c" (with the convolution), "1j" (with jamo),
# "1l" (LSTM cells), "1w" (wider)
kind_of() { case "$1" in *[cjlw]) echo "${1: -1}" ;; esac; }          # 1bc -> c, 1b -> ""
pre_of() { local k; k=$(kind_of "$1"); local m=${1%"$k"}; echo "${m%?}$k"; } # 1bc -> 1c, 1b -> 1
pres=$(for m in $pack_list; do pre_of "$m"; done | sort -u)
keep=${NLPRNN_SPACE_KEEP:-} # a directory: the pretrainings and members are copied there too
[ -z "$keep" ] || mkdir -p "$keep"
net=(--cell gru --embed "$embed" --hidden "$hidden" --layers 2 --max-len 128 --batch 32 --clip 5
     --valid 0.02 --hints 0.3 --drop 0.8 --threads 1)
[ "$jamo" = 1 ] && net+=(--jamo 1)
if [ -n "${NLPRNN_SPACE_INIT:-}" ]; then # a second round: pretraining starts from that model
  cp "$NLPRNN_SPACE_INIT" "$tmp/init.nrm"
  echo "train-spacing: pretraining from $NLPRNN_SPACE_INIT, sha256 $(sha256sum < "$tmp/init.nrm" | cut -c1-64)"
fi
start=$(date +%s)
pre_s=0
for p in $pres; do
  k=$(kind_of "$p")
  s=${p%"$k"}
  case "$k" in
    c) kind=(--conv "${conv%x*}" --conv-channels "${conv#*x}") ;;
    j) kind=(--jamo 1) ;;
    l) kind=(--cell lstm) ;;
    w) kind=(--embed 96 --hidden 192) ;;
    *) kind=() ;;
  esac
  t0=$(date +%s)
  pre=(space-train -o "$tmp/pre$p.nrm" "${net[@]}" "${kind[@]}" --seed "$s" --dropout 0.1 --lr 0.003
       --min-lr 0.0003 --epochs 1 --checkpoint "$tmp/pre$p.ckpt" --checkpoint-every 1000)
  [ -n "${NLPRNN_SPACE_INIT:-}" ] && pre+=(--init-from "$tmp/init.nrm")
  run "$nlprnn" "${pre[@]}" "${train[@]}" "$tmp/reviews.txt"
  [ -z "$keep" ] || cp "$tmp/pre$p.nrm" "$keep/"
  pre_s=$(( pre_s + $(date +%s) - t0 ))
  for m in $pack_list; do
    [ "$(pre_of "$m")" = "$p" ] || continue
    case "${m%"$k"}" in
      *a) e=$epochs d=$fine_dropout ;;
      *b) e=$epochs2 d=$fine_dropout2 ;;
    esac
    run "$nlprnn" space-train -o "$tmp/m$m.nrm" --init-from "$tmp/pre$p.nrm" "${net[@]}" "${kind[@]}" \
      --seed "$s" --dropout "$d" --lr 0.003 --min-lr 0.0003 --epochs "$e" --checkpoint "$tmp/m$m.ckpt" \
      --checkpoint-every 1000 "${train[@]}"
    [ -z "$keep" ] || cp "$tmp/m$m.nrm" "$keep/"
  done
done
files=()
for m in $pack_list; do files+=("$tmp/m$m.nrm"); done
# one member: space-pack converts it to $store; several: packs them, each stored as $store
run "$nlprnn" space-pack --store "$store" -o "$out" "${files[@]}"
end=$(date +%s)
size=$(stat -c %s "$out")
echo "train-spacing: $out: $size bytes (members: $pack_list); pretraining $pre_s s, fine-tuning and packing $(( end - start - pre_s )) s"
for c in "${cmds[@]}"; do
  echo "nlprnn $c" | sed "s#$tmp/#\$TMP/#g; s#$corp/#\$CORPORA/#g"
done

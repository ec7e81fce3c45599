#!/usr/bin/env bash
# scripts/train-translate.sh [BUILD_DIR] — the shipped Korean -> English translator,
# pretrained/ko-en.nrm: an ENSEMBLE of three translators packed into one file (int8 weights).
#
# Data: ../shared/corpora/parallel/tatoeba-train.tsv.gz (5,749 everyday pairs; 5% held out for
# validation / the best epoch, the same pairs for both members: --split-seed 1). Tokenizers: the
# project's BPE trained on each side (the vocabulary sizes below; the same for both members, so
# they can be packed). Model: embeddings -> bidirectional GRU encoder (hidden/2 a direction) -> GRU
# decoder with Luong (general) attention and input feeding, label smoothing 0.1, dropout on the
# embeddings and on the attentional vector; weights trained and stored as float16 (the pack:
# int8, below). Member 1 is that recipe with --seed 1; member 2 the same with --seed 2
# --split-seed 1 (another initialisation, batch order and dropout masks, the same held-out pairs;
# BPE dropout, member 2 before the language model, made the LM-started member worse:
# docs/experiments/translate.md, "Choosing the recipe", eleventh round); member 3 with --seed 3 --split-seed 1
# (fifteenth round; before it, two members stored as float16: three as float16 would be 16.2 MB,
# over the 15 MB budget, so the pack stores them as int8, 8.3 MB). Each trains a FIXED number of
# epochs (no time limit: the result does not depend on the machine's load) under nice, one
# thread, keeping the best validated epoch (--keep best, the default); then `nlprnn
# translate-pack` writes them as one model file (the tokenizers
# stored once), whose translations combine the members at each step (docs/translate.md,
# "Ensembles"), with the decoding defaults below stored in it (the word reward and the minimum
# length that `nlprnn translate` uses unless told otherwise: docs/translate.md, "Decoding defaults
# stored in the model file"; chosen on the held-out pairs, twelfth round). Then translate-eval,
# greedy and beam 5, on the held-out pairs (scripts/translate-heldout.py writes the 5% the
# training held out: the figures to compare recipes by), tatoeba-test (in domain), flores-devtest
# and news-test (out of domain). The commands, the times and the scores are written into
# docs/translate.md (block train-translate).
#
# Both members start their decoder from an English language model (docs/experiments/translate.md, "Choosing
# the recipe", tenth and eleventh rounds: +8 to +9 BLEU on the held-out pairs for one model):
# scripts/translate-lm-corpora.py writes English sentences of sst2/train and imdb/train (no parallel
# set: none of the test sides is seen), the target tokenizer is trained as translate-train trains it
# (`tokenizer-train --vocab-size 2000` on the en column of tatoeba-train: the same file), and
# `lm-train` trains a forward GRU of the decoder's size on them for one epoch (no time limit);
# translate-train --tgt-lm copies its embedding, recurrent weights, the embedding columns of the
# decoder's input weights and its (tied) output layer. The Korean side starts fresh: a Korean
# language model on the encoder lowered every held-out figure (tenth round).
#
# NLPRNN_TR_PAIR=en-ko: the English -> Korean translator, pretrained/en-ko.nrm, by the same recipe
# with the columns swapped: its decoder starts from a KOREAN language model (the target tokenizer
# trained on the ko column of tatoeba-train, the LM on the first 120,000 lines of
# translate-lm-corpora.py's ko-lm.txt, shuffled: one epoch of those is ~4 minutes here), given to
# translate-train as --tgt-tokenizer too; two members (seeds 1 and 2, as ko-en's), packed with its
# decoding defaults (one member until 2026-12-06: the pair was chosen on the held-out pairs,
# docs/translate.md "English to Korean"). Its record goes to docs/translate.md block
# train-translate-en-ko.
#
# NLPRNN_TR_REUSE=DIR: take the language model from DIR/TGT-lm.nrm (TGT: en, or ko for en-ko) and
# the members from DIR/m1.nrm, DIR/m2.nrm, ... (their training logs, when there, from
# DIR/TGT-lm.log, DIR/m1.log, DIR/m2.log, ...) instead of training them: the pack and the evaluation
# only, for models this script's commands trained before (the record says so).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
nlprnn="$build/nlprnn"
corp=../shared/corpora/parallel
pair=${NLPRNN_TR_PAIR:-ko-en}
out=${NLPRNN_TR_OUT:-pretrained/$pair.nrm}
# the recipe (docs/experiments/translate.md "Choosing the recipe" compares the runs that chose it)
src_vocab=2000 tgt_vocab=2000 embed=256 hidden=256 emb_drop=0.3 out_drop=0.5 epochs=70
case "$pair" in
  ko-en) src=ko tgt=en lm_lines=all members=3 block=train-translate ;;
  en-ko) src=en tgt=ko lm_lines=120000 members=2 block=train-translate-en-ko ;;
  *) echo "train-translate: NLPRNN_TR_PAIR is ko-en or en-ko, not '$pair'" >&2; exit 2 ;;
esac
# the decoding defaults stored in the pack (translate-pack --word-reward, --min-ratio)
if [ "$pair" = ko-en ]; then word_reward=0.9 min_ratio=0; else word_reward=0 min_ratio=0; fi
# how the pack stores the members' weights (translate-pack --store): keep = as trained (float16)
if [ "$pair" = ko-en ]; then store=int8; else store=keep; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in tatoeba-train tatoeba-test flores-devtest news-test; do
  [ -f "$corp/$f.tsv.gz" ] || { echo "train-translate: $corp/$f.tsv.gz is missing" >&2; exit 77; }
done

reuse=${NLPRNN_TR_REUSE:-}
start=$(date +%s)
# the target language model the decoders start from
mkdir -p "$tmp/lm"
zcat "$corp/tatoeba-train.tsv.gz" |
  awk -F'\t' -v c="$tgt" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next } { print $k }' > "$tmp/lm/tt-$tgt.txt"
lm_text="$tmp/lm/$tgt-lm.txt"
[ "$lm_lines" = all ] || lm_text="$tmp/lm/$tgt-lm-$lm_lines.txt"
tok_cmd=(nice -n 19 "$nlprnn" tokenizer-train -i "$tmp/lm/tt-$tgt.txt" -o "$tmp/lm/$tgt.tok" --vocab-size "$tgt_vocab")
lm_cmd=(nice -n 19 "$nlprnn" lm-train --tokenizer "$tmp/lm/$tgt.tok" -i "$lm_text" -o "$tmp/$tgt-lm.nrm"
        --valid "$tmp/lm/tt-$tgt.txt" --cell gru --embed "$embed" --hidden "$hidden" --tied 1 --layers 1
        --directions forward --epochs 1 --storage f32 --threads 1)
if [ -n "$reuse" ]; then
  [ -f "$reuse/$tgt-lm.nrm" ] || { echo "train-translate: $reuse/$tgt-lm.nrm is missing" >&2; exit 2; }
  cp "$reuse/$tgt-lm.nrm" "$tmp/$tgt-lm.nrm"
  if [ -f "$reuse/$tgt-lm.log" ]; then cp "$reuse/$tgt-lm.log" "$tmp/lm.log"; else : > "$tmp/lm.log"; fi
  if [ -f "$reuse/$tgt.tok" ]; then cp "$reuse/$tgt.tok" "$tmp/lm/$tgt.tok"; else "${tok_cmd[@]}" > "$tmp/tok.log" 2>&1; fi
else
  python3 scripts/translate-lm-corpora.py "$(dirname "$corp")" "$tmp/lm"
  [ "$lm_lines" = all ] || head -n "$lm_lines" "$tmp/lm/$tgt-lm.txt" > "$lm_text"
  "${tok_cmd[@]}" > "$tmp/tok.log" 2>&1
  "${lm_cmd[@]}" 2> "$tmp/lm.log"
  tail -1 "$tmp/lm.log"
fi
member_opts=("--seed 1" "--seed 2 --split-seed 1" "--seed 3 --split-seed 1")    # members 1, 2, 3: what differs
# ko-en: translate-train trains the target tokenizer itself (the same as tok_cmd's); en-ko takes it
tgt_tok=()
[ "$pair" = ko-en ] || tgt_tok=(--tgt-tokenizer "$tmp/lm/$tgt.tok")
cmds=()
mfiles=()
for k in $(seq "$members"); do
  m="$tmp/m$k.nrm"
  mfiles+=("$m")
  # shellcheck disable=SC2206
  cmd=(nice -n 19 "$nlprnn" translate-train "$corp/tatoeba-train.tsv.gz" -o "$m" --src-col "$src" --tgt-col "$tgt"
       --src-vocab "$src_vocab" --tgt-vocab "$tgt_vocab" "${tgt_tok[@]}" --cell gru --attention general --embed "$embed"
       --hidden "$hidden" --layers 1 --bidirectional 1 --smoothing 0.1 --emb-dropout "$emb_drop"
       --out-dropout "$out_drop" ${member_opts[$((k - 1))]} --epochs "$epochs" --batch 32 --lr 0.002
       --min-lr 0.0001 --clip 5 --valid 0.05 --store f16 --threads 1 --tgt-lm "$tmp/$tgt-lm.nrm")
  cmds+=("nlprnn ${cmd[*]:4}")
  if [ -n "$reuse" ]; then
    [ -f "$reuse/m$k.nrm" ] || { echo "train-translate: $reuse/m$k.nrm is missing" >&2; exit 2; }
    cp "$reuse/m$k.nrm" "$m"
    if [ -f "$reuse/m$k.log" ]; then cp "$reuse/m$k.log" "$tmp/train$k.log"; else : > "$tmp/train$k.log"; fi
  else
    "${cmd[@]}" 2> "$tmp/train$k.log"
    tail -1 "$tmp/train$k.log"
  fi
done
secs=$(( $(date +%s) - start ))
pack=(nice -n 19 "$nlprnn" translate-pack -o "$out" --store "$store" --word-reward "$word_reward" --min-ratio "$min_ratio"
      "${mfiles[@]}")
"${pack[@]}" 2> "$tmp/pack.log"
size=$(stat -c %s "$out")

{
  echo '```'
  if [ "$pair" = ko-en ]; then how=""; else how="NLPRNN_TR_PAIR=$pair "; fi
  echo "\$ ${how}scripts/train-translate.sh   # $(date -u +%Y-%m-%dT%H:%MZ)"
  if [ -f "$tmp/lm/$tgt-lm.txt" ]; then lm_note="lm/$tgt-lm.txt: $(wc -l < "$tmp/lm/$tgt-lm.txt") lines"; else lm_note="not run here (NLPRNN_TR_REUSE)"; fi
  echo "python3 scripts/translate-lm-corpora.py ../shared/corpora lm   # $lm_note"
  [ "$lm_lines" = all ] || echo "head -n $lm_lines lm/$tgt-lm.txt > lm/$tgt-lm-$lm_lines.txt"
  echo "nlprnn ${tok_cmd[*]:4}" | sed "s|$tmp/||g"
  echo "nlprnn ${lm_cmd[*]:4}" | sed "s|$tmp/||g"
  grep -E 'done:|wrote' "$tmp/lm.log" | sed "s|$tmp/||g" || true
  for k in $(seq "$members"); do
    echo "${cmds[$((k - 1))]}" | sed "s|$tmp/||g"
    grep '^epoch' "$tmp/train$k.log" | tail -3 || true
    grep 'wrote' "$tmp/train$k.log" | sed "s/^translate-train: //; s|$tmp/||; s|pretrained/$pair.nrm|m$k.nrm|" || true
  done
  if [ -n "$reuse" ]; then
    echo "(NLPRNN_TR_REUSE: the language model and the members were trained before by the commands above; not timed here)"
  else
    if [ "$members" = 1 ]; then what="one member"; else what="$members members"; fi
    echo "training time: $secs s wall (the language model, then $what of $epochs epochs, one after the other, nice -n 19, one thread)"
  fi
  echo "\$ nlprnn translate-pack -o $out --store $store --word-reward $word_reward --min-ratio $min_ratio $(for k in $(seq "$members"); do printf 'm%s.nrm ' "$k"; done | sed 's/ $//')"
  sed "s|$tmp/||" "$tmp/pack.log"
  echo "on this machine:"
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
python3 scripts/doc-block.py docs/translate.md "$block" "$tmp/record.md"

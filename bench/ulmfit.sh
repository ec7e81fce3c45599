#!/usr/bin/env bash
# bench/ulmfit.sh [NLPRNN_BINARY] — the ULMFiT ablation of docs/experiments/classify.md: the NSMC
# classifier trained on 30,000 reviews for 2 epochs, fresh or started from the shipped language model
# (pretrained/ko-lm.nrm), with each fine-tuning ingredient of `nlprnn train` on its own and all
# together:
#
#   fresh      same tokenizer and shape (E = H = 192), random start
#   init       --init-from pretrained/ko-lm.nrm
#   +concat    --pool concat                  (last + max + mean)
#   +stlr      --lr-schedule stlr             (slanted triangular)
#   +decay     --lr-layer-decay 2.6           (discriminative rates)
#   +unfreeze  --unfreeze 1                   (gradual unfreezing)
#   all        the four together
#   all-unfr   all but gradual unfreezing
#   init-lr01, decay-lr01, concat-lr01, stlr-lr01: init, +decay, +concat, +stlr at --lr 0.01
#              (ULMFiT's peak rate for the classifier) instead of the shipped 0.002
#
# The runs go in pairs, side by side (one thread each, nice -n 19), so that the runs of a pair
# share the machine's load; each pair is repeated for every seed of SEEDS. Validation: 5% of the
# 30,000 training reviews (--valid-split 0.05); the NSMC test split is only evaluated at the end
# and chooses nothing. Output (OUT, default /tmp/nlprnn-ulmfit): results.tsv (one row per run,
# appended to: several invocations with other PAIRS may fill one table) and table.md (the mean
# over the seeds), with bench/env.sh before and after each invocation in env.txt.
#
# Environment: SEEDS (default "1 2"), PAIRS (default "fresh,init +concat,+stlr +decay,+unfreeze
# all,all-unfr init-lr01,decay-lr01 concat-lr01,stlr-lr01"), OUT, EXAMPLES (30000), EPOCHS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
nlprnn=$(readlink -f "${1:-build/nlprnn}")
corp=../shared/corpora/nsmc
for f in "$corp/train.tsv.gz" "$corp/test.tsv.gz" pretrained/ko-lm.nrm pretrained/ko.tok; do
  [ -f "$f" ] || { echo "ulmfit.sh: missing $f" >&2; exit 77; }
done
out=${OUT:-/tmp/nlprnn-ulmfit}
seeds=${SEEDS:-1 2}
examples=${EXAMPLES:-30000}
epochs=${EPOCHS:-2}
mkdir -p "$out"

# the shipped classifier's settings (scripts/train-ko.sh), at the language model's sizes
base=(--embed 192 --hidden 192 --cell lstm --bidirectional 1 --dropout 0.2 --optimizer adam
      --lr 0.002 --clip 5 --batch 64 --threads 1 --valid-split 0.05 --patience 2 --max-tokens 128
      --storage f16 --max-examples "$examples" --epochs "$epochs")
lm=(--init-from pretrained/ko-lm.nrm)
declare -A args=(
  [fresh]="--tokenizer pretrained/ko.tok --pool max --lr-schedule linear"
  [init]="${lm[*]} --pool max --lr-schedule linear"
  [+concat]="${lm[*]} --pool concat --lr-schedule linear"
  [+stlr]="${lm[*]} --pool max --lr-schedule stlr"
  [+decay]="${lm[*]} --pool max --lr-schedule linear --lr-layer-decay 2.6"
  [+unfreeze]="${lm[*]} --pool max --lr-schedule linear --unfreeze 1"
  [all]="${lm[*]} --pool concat --lr-schedule stlr --lr-layer-decay 2.6 --unfreeze 1"
  [all-unfr]="${lm[*]} --pool concat --lr-schedule stlr --lr-layer-decay 2.6"
  [init-lr01]="${lm[*]} --pool max --lr-schedule linear --lr 0.01"
  [decay-lr01]="${lm[*]} --pool max --lr-schedule linear --lr 0.01 --lr-layer-decay 2.6"
  [concat-lr01]="${lm[*]} --pool concat --lr-schedule linear --lr 0.01"
  [stlr-lr01]="${lm[*]} --pool max --lr-schedule stlr --lr 0.01"
)
read -r -a pairs <<< "${PAIRS:-fresh,init +concat,+stlr +decay,+unfreeze all,all-unfr init-lr01,decay-lr01 concat-lr01,stlr-lr01}"

run() { # name seed: train, then evaluate on the test split; one row of results.tsv
  local name=$1 seed=$2 m="$out/$1.s$2.nrm" t0 t1 load
  load=$(cut -d' ' -f1 /proc/loadavg)
  t0=$(date +%s)
  # shellcheck disable=SC2086
  nice -n 19 "$nlprnn" train "$corp/train.tsv.gz" -o "$m" "${base[@]}" --seed "$seed" ${args[$name]} \
    > "$out/$1.s$2.log" 2>&1
  t1=$(date +%s)
  nice -n 19 "$nlprnn" eval -m "$m" "$corp/test.tsv.gz" --format tsv -t 1 > "$out/$1.s$2.eval"
  local va te
  va=$("$nlprnn" info "$m" | awk '$1=="train.valid_accuracy"{printf "%.4f", $3}')
  te=$(awk -F'\t' '$1=="accuracy"{printf "%.4f", $2}' "$out/$1.s$2.eval")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$seed" "$va" "$te" "$((t1 - t0))" "$load" >> "$out/results.tsv"
}

{
  echo "\$ bench/ulmfit.sh   # SEEDS=\"$seeds\" EXAMPLES=$examples EPOCHS=$epochs"
  echo "common: nlprnn train nsmc/train.tsv.gz ${base[*]} --seed S"
  for n in "${!args[@]}"; do echo "$n: ${args[$n]}"; done
  bench/env.sh
} >> "$out/env.txt"
[ -f "$out/results.tsv" ] || printf 'run\tseed\tvalid\ttest\ttrain_s\tload\n' > "$out/results.tsv"
for seed in $seeds; do
  for pair in "${pairs[@]}"; do
    IFS=, read -r a b <<< "$pair"
    run "$a" "$seed" & pa=$!
    run "$b" "$seed" & pb=$!
    wait "$pa"
    wait "$pb"
  done
done
{ echo "after:"; bench/env.sh; } >> "$out/env.txt"

python3 - "$out/results.tsv" > "$out/table.md" <<'PY'
import sys, collections
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
by = collections.OrderedDict()
for r in rows:
    by.setdefault(r[0], []).append(r)
print("| run | test accuracy (per seed) | mean | valid (mean) | train s (mean) |")
print("|---|---|---|---|---|")
for name, rs in by.items():
    te = [float(r[3]) for r in rs]
    va = [float(r[2]) for r in rs]
    s = [int(r[4]) for r in rs]
    print("| %s | %s | %.4f | %.4f | %d |" % (name, " / ".join("%.4f" % x for x in te),
          sum(te) / len(te), sum(va) / len(va), round(sum(s) / len(s))))
PY
cat "$out/table.md"

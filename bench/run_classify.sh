#!/usr/bin/env bash
# bench/run_classify.sh [BUILD_DIR] — nlprnn's classifier against its peers on the same splits.
#
#   accuracy   nlprnn (pretrained/ko.nrm) vs fastText supervised (Debian `fasttext`, two settings)
#              vs a PyTorch BiLSTM of the same shape (bench/classify_torch.py: same tokenizer ids,
#              same piece vectors, embedding 128, BiLSTM 128, max pooling, same epochs), trained on
#              nsmc/train.tsv.gz and tested on nsmc/test.tsv.gz (50,000 reviews)
#   speed      reviews/s over the whole 50K test set (batch), and the wall time of classifying one
#              review (examples/review.txt) including loading the model, with hyperfine
#
# Installs fasttext / python3-torch / hyperfine if missing. Time-boxed: PyTorch training stops at
# NLPRNN_BENCH_TORCH_BUDGET seconds (default 1500). Writes the results into docs/benchmarks.md
# (section "Classification", between the clf markers) and prints them.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
nlprnn=$(realpath "$build/nlprnn")
corp=../shared/corpora/nsmc
model=pretrained/ko.nrm
budget=${NLPRNN_BENCH_TORCH_BUDGET:-1500}
epochs=${NLPRNN_BENCH_EPOCHS:-3}
# shellcheck source=bench/peers.sh
. bench/peers.sh
need_cmd fasttext
need_cmd hyperfine
need_torch
need_install run_classify

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log() { echo "run_classify: $*" >&2; }

# ---- the splits, three ways: fastText lines, texts + labels, token ids + pieces --------------------
zcat "$corp/train.tsv.gz" | tail -n +2 > "$tmp/train.tsv"
zcat "$corp/test.tsv.gz" | tail -n +2 > "$tmp/test.tsv"
for s in train test; do
  awk -F'\t' '{print "__label__"$3" "$2}' "$tmp/$s.tsv" > "$tmp/$s.ft"
  cut -f2 "$tmp/$s.tsv" > "$tmp/$s.txt"
  cut -f3 "$tmp/$s.tsv" > "$tmp/$s.lab"
  "$nlprnn" tokenize --tokenizer pretrained/ko.tok --ids -f "$tmp/$s.txt" > "$tmp/$s.ids"
done
"$nlprnn" tokenize --tokenizer pretrained/ko.tok -f "$tmp/train.txt" > "$tmp/train.pieces"
n_test=$(wc -l < "$tmp/test.txt")

# ---- fastText -------------------------------------------------------------------------------------
log "fastText"
ft_run() { # name, options...
  local name=$1; shift
  local t0=$(date +%s.%N)
  nice fasttext supervised -input "$tmp/train.ft" -output "$tmp/$name" -thread 2 -verbose 0 "$@"
  local t1=$(date +%s.%N)
  local acc=$(fasttext test "$tmp/$name.bin" "$tmp/test.ft" | awk '/^P@1/{print $2}')
  local tp=$( { /usr/bin/time -f %e fasttext predict "$tmp/$name.bin" "$tmp/test.txt" > /dev/null; } 2>&1 | tail -1)
  echo "$acc $(echo "$t1 - $t0" | bc) $tp"
}
read -r ft1_acc ft1_train ft1_pred < <(ft_run ft_words -dim 128 -epoch 5 -wordNgrams 2)
read -r ft2_acc ft2_train ft2_pred < <(ft_run ft_chars -dim 128 -epoch 5 -wordNgrams 2 -minn 1 -maxn 3)

# ---- PyTorch BiLSTM of the same shape, same ids, same piece vectors -------------------------------
log "PyTorch (budget $budget s)"
"$nlprnn" tokenize --tokenizer pretrained/ko.tok -f "$corp/lm_train.txt.gz" > "$tmp/lm.pieces"
nice fasttext cbow -input "$tmp/lm.pieces" -output "$tmp/vec" -dim 128 -epoch 3 -minCount 1 \
  -minn 0 -maxn 0 -ws 5 -thread 2 -verbose 0
nice $py bench/classify_torch.py --train-ids "$tmp/train.ids" --train-labels "$tmp/train.lab" \
  --test-ids "$tmp/test.ids" --test-labels "$tmp/test.lab" --vocab 16000 --emb 128 --hidden 128 \
  --cell lstm --pool max --epochs "$epochs" --batch 64 --lr 2e-3 --threads 2 --max-tokens 128 \
  --vectors "$tmp/vec.vec" --train-pieces "$tmp/train.pieces" --time-budget "$budget" \
  --save "$tmp/torch.pt" > "$tmp/torch.json"
th_acc=$($py -c "import json;print('%.5f'%json.load(open('$tmp/torch.json'))['accuracy'])")
th_train=$($py -c "import json;d=json.load(open('$tmp/torch.json'));print(d['train_seconds'], d['epochs_done'], d['stopped_by_budget'])")
th_dps=$($py -c "import json;print(json.load(open('$tmp/torch.json'))['docs_per_second'])")

# ---- nlprnn -------------------------------------------------------------------------------------
[ -f "$model" ] || { log "$model is missing (scripts/train-ko.sh makes it)"; exit 1; }
log "nlprnn eval"
"$nlprnn" eval -m "$model" "$corp/test.tsv.gz" --format tsv -t 2 > "$tmp/nl.eval"
nl_acc=$(awk -F'\t' '$1=="accuracy"{print $2}' "$tmp/nl.eval")
nl_params=$("$nlprnn" info "$model" | awk '/^  (vocab|embed|hidden) =/{printf "%s=%s ", $1, $3}')
t_nl1=$( { /usr/bin/time -f %e "$nlprnn" classify -m "$model" --lines -t 1 "$tmp/test.txt" > "$tmp/nl.out"; } 2>&1 | tail -1)
t_nl2=$( { /usr/bin/time -f %e "$nlprnn" classify -m "$model" --lines -t 2 "$tmp/test.txt" > /dev/null; } 2>&1 | tail -1)
nl_out_acc=$(paste "$tmp/nl.out" "$tmp/test.lab" | awk -F'\t' '$1==$3{ok++} END{printf "%.5f", ok/NR}')

# ---- one review: load + classify ------------------------------------------------------------------
log "single review (hyperfine)"
review_ids=$("$nlprnn" tokenize --tokenizer pretrained/ko.tok --ids -f examples/review.txt | tr '\n' ' ')
hyperfine -N --warmup 3 --runs 20 --export-json "$tmp/hf.json" \
  "$nlprnn classify -m $model examples/review.txt" \
  "fasttext predict-prob $tmp/ft_chars.bin examples/review.txt" \
  "$py bench/classify_torch.py --predict-one $tmp/torch.pt --ids '$review_ids' --threads 1" \
  > "$tmp/hf.txt" 2>&1 || hyperfine --warmup 3 --runs 20 --export-json "$tmp/hf.json" \
  "$nlprnn classify -m $model examples/review.txt" \
  "fasttext predict-prob $tmp/ft_chars.bin examples/review.txt" \
  "$py bench/classify_torch.py --predict-one $tmp/torch.pt --ids '$review_ids' --threads 1" > "$tmp/hf.txt" 2>&1
read -r hf_nl hf_ft hf_th < <($py -c "
import json; r=json.load(open('$tmp/hf.json'))['results']
print(' '.join('%.1f±%.1f' % (x['mean']*1000, x['stddev']*1000) for x in r))")

# ---- the record ------------------------------------------------------------------------------------
{
  echo "Measured by \`bench/run_classify.sh\` ($(date -u +%Y-%m-%dT%H:%MZ)); NSMC train 150,000 / test $n_test reviews."
  echo
  echo '```'
  bench/env.sh
  echo '```'
  echo
  echo "| model | test accuracy | training | 50K test reviews, batch | one review (load + predict) |"
  echo "|---|---|---|---|---|"
  echo "| **nlprnn** BiLSTM ($nl_params; piece vectors; \`pretrained/ko.nrm\`, f16) | **$nl_acc** | see docs/classify.md (train-ko) | $(echo "$n_test / $t_nl1" | bc) reviews/s (1 thread), $(echo "$n_test / $t_nl2" | bc) (2) | $hf_nl ms |"
  echo "| fastText supervised, dim 128, 5 epochs, word bigrams | $ft1_acc | ${ft1_train} s (2 threads) | $(echo "$n_test / $ft1_pred" | bc) reviews/s | — |"
  echo "| fastText supervised, + char n-grams 1-3 | $ft2_acc | ${ft2_train} s (2 threads) | $(echo "$n_test / $ft2_pred" | bc) reviews/s | $hf_ft ms |"
  echo "| PyTorch $(torch_version) BiLSTM, same shape, ids, vectors, $epochs epochs | $th_acc | $th_train (s, epochs, budget hit) | $th_dps reviews/s (2 threads, model only) | $hf_th ms |"
  echo
  echo "nlprnn \`classify --lines\` output checked against the labels: accuracy $nl_out_acc (must equal the eval figure)."
  echo "Batch timings are \`/usr/bin/time\` wall seconds of the whole command (nlprnn: load, read, tokenize,"
  echo "classify, print; fastText: \`predict\`), PyTorch's is its model loop only. One review: hyperfine, 20 runs,"
  echo "mean ± sd:"
  echo
  echo '```'
  cat "$tmp/hf.txt"
  echo '```'
} > "$tmp/record.md"
cat "$tmp/record.md"
$py - docs/benchmarks.md "$tmp/record.md" <<'PY'
import sys
doc, src = sys.argv[1:3]
try:
    text = open(doc, encoding="utf-8").read()
except FileNotFoundError:
    text = "# Benchmarks\n"
begin, end = "<!-- clf:begin -->", "<!-- clf:end -->"
body = open(src, encoding="utf-8").read().rstrip("\n")
if begin in text and end in text:
    a, b = text.index(begin) + len(begin), text.index(end)
    text = text[:a] + "\n" + body + "\n" + text[b:]
else:
    text = text.rstrip("\n") + "\n\n## Classification (nlprnn classify / train)\n\n" + begin + "\n" + body + "\n" + end + "\n"
open(doc, "w", encoding="utf-8").write(text)
PY

#!/usr/bin/env bash
# bench/run_e2e.sh [BUILD_DIR] [ROUNDS] — nlprnn end to end, as a user runs it, side by side with
# its peers in the same run, reported as ratios (issue 15):
#
#   train     `nlprnn train` of the shipped classifier's shape (scripts/train-ko.sh: tokenizer
#             pretrained/ko.tok, embedding 128, BiLSTM 128, max pooling, dropout 0.2, Adam, clip 5,
#             batch 64, 128 tokens max) over the first NLPRNN_E2E_TRAIN (30,000) reviews of
#             nsmc/train.tsv.gz, NLPRNN_E2E_EPOCHS (2) epochs, no held-out split, --threads T
#             against bench/classify_torch.py (PyTorch, the same ids from the same tokenizer, the
#             same shape, batch, length cut, optimizer, clipping; no dropout), torch.set_num_threads(T)
#             with OPENBLAS_NUM_THREADS=1 and glibc malloc tuned (no trimming, no per-tensor mmap)
#   lm        `nlprnn lm-train` of the shipped language model's shape (scripts/train-lm.sh:
#             pretrained/ko.tok, LSTM 1 layer, embedding = hidden = 192, tied, sampled softmax with
#             512 negatives, Adam, clip 1, batches of 32 sentences, 64 pieces max), the forward
#             direction (the shipped recipe trains the two at once, one thread each) over the first
#             NLPRNN_E2E_LM_LINES (10,000) lines of nsmc/lm_train.txt.gz, 1 epoch, --threads T,
#             against bench/lm_torch.py on the same ids and shape, batches, length cut, Adam and
#             clipping, torch.set_num_threads(T) as in the train part: with the same sampled softmax
#             (one epoch) and with PyTorch's standard full softmax (NLPRNN_E2E_LM_FULL_SECONDS, 120,
#             of its training loop; 0 leaves it out); pieces (predicted positions) per second
#   classify  `nlprnn classify --lines --skip-bad` over the 50,000 reviews of nsmc/test.tsv.gz
#             (pretrained/ko.nrm) at --threads 1 and 2, against `fasttext predict` with fastText's
#             accurate setting (supervised, dim 128, 5 epochs, word bigrams, char n-grams 1-3,
#             trained here on the 150,000 train reviews, 2 threads) and against PyTorch's model
#             loop: bench/classify_torch.py --predict with pretrained/ko.nrm's own weights
#             (`nlprnn export`), the same ids (nlprnn's tokenizer, run once before the rounds, not
#             timed), documents sorted by length, batches of NLPRNN_E2E_PREDICT_BATCH ("64 256"),
#             torch threads 1 and 2, its accuracy beside
#   one       one review, load + predict: `nlprnn classify examples/review.txt`, `nlprnn --version`,
#             `nlprnn info pretrained/ko.nrm`, and `fasttext predict-prob` on that fastText model
#             quantized (.ftz), with hyperfine (NLPRNN_E2E_REPS runs each, 5 warm-up runs)
#
# nlprnn runs with no environment variable set by the script (the caller's environment, as a user
# has it); the peers' settings are printed. Rounds (default 3) interleave the commands, so a change
# of the machine's load spreads over all of them; tables give min / median over the rounds, and every
# run line carries the 1-minute load at its start. The environment (bench/env.sh, the commit, the
# binary) is printed first and last. Set-up: installs the peers (fasttext, hyperfine, python3-torch)
# with apt when missing (sudo if not root); never anything the build needs. Corpora are read in place
# from ../shared/corpora (the script's temporary folder holds derived files only, removed at exit).
# Torch thread counts: NLPRNN_E2E_THREADS (default "2"; "1 2" runs both).
# Before/after: NLPRNN_E2E_BASE=BUILD_DIR also trains with that build's nlprnn ("base", e.g. main
# before a change) in every round of the train part, in ABBA order with this build's (odd rounds
# this build first, even rounds the base first; PyTorch between them), and adds its rows and the
# ratio of the two to the training table; in the classify part it also classifies with the base
# build at 1 and 2 threads in every round (same ABBA order, fastText after them), checks that both
# builds print the same bytes, and adds a before/after table of CPU s per 50K reviews and reviews
# per CPU second (what a change asks of the machine, whatever the load). NLPRNN_E2E_TORCH=0 leaves PyTorch out of the train part
# (before/after rounds of nlprnn alone; the table then gives no PyTorch figures).
# A smaller run: NLPRNN_E2E_PARTS (default "train lm classify one") picks the parts (fastText is
# trained only for classify and one); NLPRNN_E2E_TEST (50,000) the test reviews classified, NLPRNN_E2E_FT_TRAIN
# (150,000) those fastText trains on (smoke runs); with
# NLPRNN_E2E_FT_CACHE=DIR the fastText model is trained once into DIR and reused by later runs
# (its training time and accuracy are those of the run that made it, printed as such).
# NLPRNN_E2E_BASE is not used by the lm part.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
rounds=${2:-3}
n_train=${NLPRNN_E2E_TRAIN:-30000}
epochs=${NLPRNN_E2E_EPOCHS:-2}
threads=${NLPRNN_E2E_THREADS:-2}
reps=${NLPRNN_E2E_REPS:-50}
n_ft=${NLPRNN_E2E_FT_TRAIN:-150000} # reviews fastText trains on (fewer: smoke runs only)
n_test_max=${NLPRNN_E2E_TEST:-50000} # test reviews classified (fewer: smoke runs only)
parts=" ${NLPRNN_E2E_PARTS:-train lm classify one} "
lm_lines=${NLPRNN_E2E_LM_LINES:-10000}
lm_full_s=${NLPRNN_E2E_LM_FULL_SECONDS:-120}
predict_batches=${NLPRNN_E2E_PREDICT_BATCH:-64 256}
ft_cache=${NLPRNN_E2E_FT_CACHE:-}
part() { [[ "$parts" == *" $1 "* ]]; }
corp=../shared/corpora/nsmc
for f in train.tsv.gz test.tsv.gz lm_train.txt.gz; do
  [ -f "$corp/$f" ] || { echo "run_e2e: $corp/$f is missing" >&2; exit 2; }
done
nlprnn=$(realpath "$build/nlprnn")
base_nlprnn=""
[ -n "${NLPRNN_E2E_BASE:-}" ] && base_nlprnn=$(realpath "$NLPRNN_E2E_BASE/nlprnn")
tok=$(realpath pretrained/ko.tok)
model=$(realpath pretrained/ko.nrm)
[ -x /usr/bin/time ] || { echo "run_e2e: needs GNU time (apt-get install time)" >&2; exit 2; }

# ---- set-up: the peers only ------------------------------------------------------------------------
# shellcheck source=bench/peers.sh
. bench/peers.sh
if part classify || part one; then need_cmd fasttext; fi
need_cmd hyperfine
need_torch
need_install run_e2e

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log() { echo "run_e2e: $*" >&2; }
load1() { cut -d' ' -f1 /proc/loadavg; }
environment() {
  bench/env.sh
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$( [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && echo ' + uncommitted changes')"
  echo "nlprnn: $nlprnn ($("$nlprnn" --version | head -1)); kernel path: $("$build/tests/test_kernels" --print-path 2>/dev/null || echo '?')"
  [ -z "$base_nlprnn" ] || echo "base nlprnn: $base_nlprnn ($("$base_nlprnn" --version | head -1); commit $(git -C "$(dirname "$base_nlprnn")/.." rev-parse --short HEAD 2>/dev/null || echo unknown))"
  echo "python3-torch: $(torch_version); fasttext: $(deb_version fasttext); hyperfine: $(hyperfine --version | cut -d' ' -f2)"
}
# the PyTorch peer's environment (printed with the results)
torch_env=(OPENBLAS_NUM_THREADS=1 MALLOC_TRIM_THRESHOLD_=4294967296 MALLOC_MMAP_THRESHOLD_=33554432
           MALLOC_TOP_PAD_=268435456)

echo "== environment (before)"
environment
echo "rounds: $rounds; parts:$parts; train: $n_train reviews, $epochs epochs, threads: $threads; lm: $lm_lines lines, 1 epoch (PyTorch's full softmax: $lm_full_s s); PyTorch's classify batches: $predict_batches; one review: $reps runs"
echo "PyTorch peer's environment: ${torch_env[*]}"

# ---- data: the same reviews three ways (nlprnn's TSV, ids + labels for PyTorch, fastText lines) ---
log "preparing the data"
{ zcat "$corp/train.tsv.gz" || true; } | head -n $((n_train + 1)) > "$tmp/train.tsv" # zcat: SIGPIPE
tail -n +2 "$tmp/train.tsv" | cut -f2 > "$tmp/train.txt"
tail -n +2 "$tmp/train.tsv" | cut -f3 > "$tmp/train.lab"
"$nlprnn" tokenize --tokenizer "$tok" --ids -f "$tmp/train.txt" > "$tmp/train.ids"
{ zcat "$corp/test.tsv.gz" | tail -n +2 || true; } | head -n "$n_test_max" > "$tmp/test.tsv" # SIGPIPE
cut -f2 "$tmp/test.tsv" > "$tmp/test.txt"
cut -f3 "$tmp/test.tsv" > "$tmp/test.lab"
head -1000 "$tmp/test.txt" > "$tmp/test1k.txt"
head -1000 "$tmp/test.lab" > "$tmp/test1k.lab"
"$nlprnn" tokenize --tokenizer "$tok" --ids -f "$tmp/test1k.txt" > "$tmp/test1k.ids"
n_test=$(wc -l < "$tmp/test.txt")
if part classify; then # PyTorch's model loop: the shipped model's weights, the test reviews' ids
  "$nlprnn" export "$model" -o "$tmp/ko.safetensors" >/dev/null 2>&1
  "$nlprnn" tokenize --tokenizer "$tok" --ids -f "$tmp/test.txt" > "$tmp/test.ids"
fi
if part lm; then # the language model's lines: text for nlprnn, ids for PyTorch
  { zcat "$corp/lm_train.txt.gz" || true; } | head -n "$lm_lines" > "$tmp/lm.txt"
  "$nlprnn" tokenize --tokenizer "$tok" --ids -f "$tmp/lm.txt" > "$tmp/lm.ids"
  # predicted positions an epoch: <bos> pieces <eos> a non-empty line, cut to 64 inputs
  lm_pieces=$(awk 'NF {n = NF + 1; s += n > 64 ? 64 : n} END {print s + 0}' "$tmp/lm.ids")
  echo "lm data: $lm_lines lines of lm_train.txt.gz, $lm_pieces pieces an epoch (cut to 64)"
fi
# tokens one epoch trains on: every review cut to 128 tokens (an empty one counts 1, as PyTorch's)
tokens=$(awk '{n = NF > 128 ? 128 : (NF ? NF : 1); s += n} END {print s}' "$tmp/train.ids")
echo "data: $n_train train reviews, $tokens tokens an epoch (cut to 128); $n_test test reviews"

# ---- fastText's accurate setting, trained once for the classify and one parts (its training time
# is reported, not compared) ----------------------------------------------------------------------
if part classify || part one; then
awk -F'\t' '{print "__label__"$3" "$2}' "$tmp/test.tsv" > "$tmp/ft_test.txt"
if [ -n "$ft_cache" ] && [ -f "$ft_cache/ft.bin" ] && [ -f "$ft_cache/ft.info" ]; then
  ln -s "$(realpath "$ft_cache/ft.bin")" "$tmp/ft.bin"
  [ -f "$ft_cache/ft.ftz" ] && ln -s "$(realpath "$ft_cache/ft.ftz")" "$tmp/ft.ftz"
  echo "fastText: the model of $ft_cache (reused): $(cat "$ft_cache/ft.info")"
else
  log "fastText: training the char n-gram model on $n_ft train reviews"
  { zcat "$corp/train.tsv.gz" | tail -n +2 || true; } | head -n "$n_ft" |
    awk -F'\t' '{print "__label__"$3" "$2}' > "$tmp/ft_train.txt"
  /usr/bin/time -f '%e' -o "$tmp/ft_time" fasttext supervised -input "$tmp/ft_train.txt" \
    -output "$tmp/ft" -dim 128 -epoch 5 -wordNgrams 2 -minn 1 -maxn 3 -thread 2 -verbose 0
  ft_train_s=$(cat "$tmp/ft_time")
  ft_acc=$(fasttext test "$tmp/ft.bin" "$tmp/ft_test.txt" | awk '/^P@1/{print $2}')
  /usr/bin/time -f '%e' -o "$tmp/ftq_time" fasttext quantize -input "$tmp/ft_train.txt" -output "$tmp/ft" -qnorm -cutoff 100000 \
    >/dev/null 2>&1 || true
  ftq_acc=$( [ -f "$tmp/ft.ftz" ] && fasttext test "$tmp/ft.ftz" "$tmp/ft_test.txt" | awk '/^P@1/{print $2}' || echo "-")
  info="trained on $n_ft reviews in $ft_train_s s (2 threads, load $(load1), $(date -u +%Y-%m-%dT%H:%MZ)); accuracy $ft_acc; quantized (.ftz, $(stat -c %s "$tmp/ft.ftz" 2>/dev/null || echo 0) bytes) $ftq_acc"
  echo "fastText: $info"
  if [ -n "$ft_cache" ]; then
    mkdir -p "$ft_cache"
    cp "$tmp/ft.bin" "$ft_cache/"
    [ -f "$tmp/ft.ftz" ] && cp "$tmp/ft.ftz" "$ft_cache/"
    echo "$info" > "$ft_cache/ft.info"
  fi
fi
fi

# ---- the runs ------------------------------------------------------------------------------------
# one run: appends "what who threads round wall cpu load1" to $tmp/runs and prints it
record() { # what who threads round wall cpu load
  printf 'run %s %s threads=%s round=%s wall=%.2f cpu=%.2f load1=%s\n' "$@" | tee -a "$tmp/runs.txt"
  echo "$@" >> "$tmp/runs"
}
nl_train() { # threads round [base]
  local l=$(load1) bin=$nlprnn who=nlprnn
  [ "${3:-}" = base ] && bin=$base_nlprnn who=base
  /usr/bin/time -f '%e %U %S' -o "$tmp/time" "$bin" train "$tmp/train.tsv" -o "$tmp/nl.nrm" \
    --tokenizer "$tok" --embed 128 --cell lstm --bidirectional 1 --hidden 128 --pool max \
    --dropout 0.2 --optimizer adam --lr 0.002 --lr-schedule linear --clip 5 --epochs "$epochs" \
    --batch 64 --seed 1 --threads "$1" --valid-split 0 --max-tokens 128 --storage f16 \
    2> "$tmp/${who}_train.err" >/dev/null
  read -r w u s < "$tmp/time"
  record train "$who" "$1" "$2" "$w" "$(echo "$u + $s" | bc)" "$l"
}
torch_train() { # threads round
  local l=$(load1)
  env "${torch_env[@]}" /usr/bin/time -f '%e %U %S' -o "$tmp/time" $py bench/classify_torch.py \
    --train-ids "$tmp/train.ids" --train-labels "$tmp/train.lab" --test-ids "$tmp/test1k.ids" \
    --test-labels "$tmp/test1k.lab" --vocab 16000 --emb 128 --hidden 128 --cell lstm --pool max \
    --epochs "$epochs" --batch 64 --lr 2e-3 --threads "$1" --max-tokens 128 --seed 1 \
    > "$tmp/torch.json" 2> "$tmp/torch.err"
  read -r w u s < "$tmp/time"
  local loop=$($py -c "import json;print(json.load(open('$tmp/torch.json'))['train_seconds'])")
  record train torch "$1" "$2" "$w" "$(echo "$u + $s" | bc)" "$l"
  record train_loop torch "$1" "$2" "$loop" 0 "$l"
}
nl_classify() { # threads round [base]
  local l=$(load1) bin=$nlprnn who=nlprnn out=nl.out
  [ "${3:-}" = base ] && bin=$base_nlprnn who=base out=base.out
  # exit 3: some reviews are empty (--skip-bad reports them and goes on)
  /usr/bin/time -f '%e %U %S' -o "$tmp/time" "$bin" classify --model "$model" --lines --data-labels \
    --skip-bad --threads "$1" "$tmp/test.txt" > "$tmp/$out" 2>/dev/null || [ $? -eq 3 ]
  read -r w u s < "$tmp/time"
  record classify "$who" "$1" "$2" "$w" "$(echo "$u + $s" | bc)" "$l"
  if [ "$who" = base ] && ! cmp -s "$tmp/nl.out" "$tmp/base.out"; then
    echo "run_e2e: the base build's classify output differs from this build's (threads $1, round $2)"
    base_differs=1
  fi
}
ft_classify() { # round
  local l=$(load1)
  /usr/bin/time -f '%e %U %S' -o "$tmp/time" fasttext predict "$tmp/ft.bin" "$tmp/test.txt" \
    > "$tmp/ft.out"
  read -r w u s < "$tmp/time"
  record classify fasttext 1 "$1" "$w" "$(echo "$u + $s" | bc)" "$l"
}

nl_lm() { # threads round
  local l=$(load1)
  /usr/bin/time -f '%e %U %S' -o "$tmp/time" "$nlprnn" lm-train --tokenizer "$tok" -i "$tmp/lm.txt" \
    -o "$tmp/lm.nrm" --directions forward --cell lstm --layers 1 --embed 192 --hidden 192 --tied 1 \
    --softmax sampled --samples 512 --batch 32 --max-len 64 --lr 0.01 --clip 1 --epochs 1 \
    --storage f16 --seed 1 --threads "$1" 2> "$tmp/lm.err" >/dev/null
  read -r w u s < "$tmp/time"
  record lm nlprnn "$1" "$2" "$w" "$(echo "$u + $s" | bc)" "$l"
  # its own rate at its last progress line (every 50 steps): the training loop alone
  local rate=$(tr '\r' '\n' < "$tmp/lm.err" | grep -o '[0-9]* pieces/s' | tail -1 | cut -d' ' -f1)
  [ -n "$rate" ] && record lm_loop nlprnn "$1" "$2" "$(echo "scale=3; $lm_pieces / $rate" | bc)" 0 "$l"
  return 0
}
torch_lm() { # threads round softmax
  local l=$(load1) limit=(--epochs 1)
  [ "$3" = full ] && limit=(--seconds "$lm_full_s")
  env "${torch_env[@]}" /usr/bin/time -f '%e %U %S' -o "$tmp/time" $py bench/lm_torch.py \
    --train "$tmp/lm.ids" --vocab 16000 --embed 192 --hidden 192 --layers 1 --tied 1 --batch 32 \
    --max-len 64 --lr 0.01 --clip 1 --softmax "$3" --samples 512 --threads "$1" --seed 1 "${limit[@]}" \
    > "$tmp/torch_lm_$3.out" 2> "$tmp/torch_lm.err"
  read -r w u s < "$tmp/time"
  local js=$(tail -1 "$tmp/torch_lm_$3.out")
  local loop=$($py -c "import json,sys;d=json.loads(sys.argv[1]);print(d['train_seconds'], d['pieces'])" "$js")
  record "lm_$3" torch "$1" "$2" "$w" "$(echo "$u + $s" | bc)" "$l"
  record "lm_loop_$3" torch "$1" "$2" "${loop% *}" 0 "$l"
  echo "$1 ${loop#* } ${loop% *}" >> "$tmp/lm_$3.pieces" # threads, pieces trained, loop seconds
}
torch_predict() { # threads round batch
  local l=$(load1)
  env "${torch_env[@]}" /usr/bin/time -f '%e %U %S' -o "$tmp/time" $py bench/classify_torch.py \
    --predict "$tmp/ko.safetensors" --test-ids "$tmp/test.ids" --test-labels "$tmp/test.lab" \
    --batch "$3" --threads "$1" > "$tmp/torch_pred.json" 2> "$tmp/torch_pred.err"
  read -r w u s < "$tmp/time"
  local loop=$($py -c "import json;d=json.load(open('$tmp/torch_pred.json'));print(d['loop_seconds'], d['accuracy'])")
  record "predict_b$3" torch "$1" "$2" "$w" "$(echo "$u + $s" | bc)" "$l"
  record "predict_loop_b$3" torch "$1" "$2" "${loop% *}" 0 "$l"
  torch_pred_acc=${loop#* }
}

for r in $(seq "$rounds"); do
  if part lm; then
    for t in $threads; do
      log "round $r/$rounds: language model, $t threads"
      nl_lm "$t" "$r"
      torch_lm "$t" "$r" sampled
      [ "$lm_full_s" = 0 ] || torch_lm "$t" "$r" full
    done
  fi
  for t in $threads; do
    part train || continue
    log "round $r/$rounds: training, $t threads"
    peer=torch_train
    [ "${NLPRNN_E2E_TORCH:-1}" = 0 ] && peer=:
    if [ -z "$base_nlprnn" ]; then
      nl_train "$t" "$r"
      $peer "$t" "$r"
    elif [ $((r % 2)) -eq 1 ]; then
      nl_train "$t" "$r"; $peer "$t" "$r"; nl_train "$t" "$r" base
    else
      nl_train "$t" "$r" base; $peer "$t" "$r"; nl_train "$t" "$r"
    fi
  done
  part classify || continue
  log "round $r/$rounds: classifying"
  for t in 1 2; do
    if [ -z "$base_nlprnn" ]; then
      nl_classify "$t" "$r"
    elif [ $((r % 2)) -eq 1 ]; then
      nl_classify "$t" "$r"; nl_classify "$t" "$r" base
    else
      nl_classify "$t" "$r" base; nl_classify "$t" "$r"
    fi
  done
  ft_classify "$r"
  for t in 1 2; do
    for pb in $predict_batches; do torch_predict "$t" "$r" "$pb"; done
  done
done
[ -n "$base_nlprnn" ] && part classify && [ "${base_differs:-0}" = 0 ] &&
  echo "base nlprnn classify: the same output bytes as this build's in every run"
nl_acc=-; nl_train_acc=-; torch_last=-
part classify && nl_acc=$(paste "$tmp/nl.out" "$tmp/test.lab" | awk -F'\t' '$1==$3{ok++} END{printf "%.4f", ok/NR}')
part train && nl_train_acc=$(grep -o 'epoch [0-9]*/[0-9]*: loss [0-9.]* acc [0-9.]*' "$tmp/nlprnn_train.err" | tail -1)
part train && [ -f "$tmp/torch.json" ] && torch_last=$($py -c "import json;d=json.load(open('$tmp/torch.json'));print('test accuracy on 1,000 reviews %.4f' % d['accuracy'])")
[ -n "$base_nlprnn" ] && part train && echo "base nlprnn train last: $(grep -o 'epoch [0-9]*/[0-9]*: loss [0-9.]* acc [0-9.]*' "$tmp/base_train.err" | tail -1)"
echo "nlprnn classify --lines: accuracy $nl_acc on the $n_test test reviews (output checked against the labels); nlprnn train last: $nl_train_acc; PyTorch last: $torch_last"
part classify && echo "PyTorch's model loop (the same weights and ids): accuracy ${torch_pred_acc:-?} on the $n_test test reviews"
if part lm; then
  echo "nlprnn lm-train last: $(tr '\r' '\n' < "$tmp/lm.err" | grep -o 'step [0-9]* loss [0-9.]*' | tail -1)"
  for sm in sampled full; do
    [ -f "$tmp/torch_lm_$sm.out" ] && echo "PyTorch LM ($sm softmax) last: $(tail -1 "$tmp/torch_lm_$sm.out")"
  done
fi

# ---- one review -----------------------------------------------------------------------------------
echo '{"results": []}' > "$tmp/hf.json"
touch "$tmp/runs" "$tmp/runs.txt" "$tmp/hf.txt"
if part one; then
log "one review (hyperfine, $reps runs each)"
hf_cmds=("$nlprnn classify examples/review.txt" "$nlprnn --version" "$nlprnn info $model")
[ -f "$tmp/ft.ftz" ] && hf_cmds+=("fasttext predict-prob $tmp/ft.ftz examples/review.txt")
echo "load before hyperfine: $(load1)"
hyperfine -N --warmup 5 --runs "$reps" --export-json "$tmp/hf.json" "${hf_cmds[@]}" \
  > "$tmp/hf.txt" 2>&1
echo "load after hyperfine: $(load1)"
fi

# ---- tables --------------------------------------------------------------------------------------
echo
echo "== environment (after)"
bench/env.sh | tail -1
echo
touch "$tmp/lm_full.pieces"
$py - "$tmp/runs" "$tokens" "$epochs" "$n_test" "$tmp/hf.json" "${lm_pieces:-0}" "$tmp/lm_full.pieces" <<'PY'
import json, statistics, sys
runs, tokens, epochs, n_test, hf = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
lm_pieces = int(sys.argv[6])
full_rates = {} # threads -> PyTorch's full-softmax pieces/s (loop) of each run
for line in open(sys.argv[7]):
    t, n, sec = line.split()
    full_rates.setdefault(int(t), []).append(int(n) / float(sec))
rows = {}
for line in open(runs):
    what, who, t, r, wall, cpu, load = line.split()
    rows.setdefault((what, who, int(t)), []).append((float(wall), float(cpu), float(load)))
def mm(key):
    if key not in rows:
        return float("nan"), float("nan"), float("nan"), "-"
    w = sorted(x[0] for x in rows[key])
    return w[0], statistics.median(w), statistics.median(x[1] for x in rows[key]), \
        "%.1f-%.1f" % (min(x[2] for x in rows[key]), max(x[2] for x in rows[key]))
if any(k[0] == "train" for k in rows):
    print("### Training: %d epochs, %d tokens an epoch" % (epochs, tokens))
    print()
    print("| threads | nlprnn train (whole command) wall s min / median | CPU s median | tokens/s (min wall) | PyTorch training loop wall s min / median | PyTorch whole command wall s / CPU s median | PyTorch tokens/s (loop, min) | ratio PyTorch loop / nlprnn whole, wall (min; median) | ratio of CPU s, PyTorch whole / nlprnn whole | load1 at starts |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (what, who, t) in sorted(k for k in rows if k[0] == "train" and k[1] == "nlprnn"):
        a = mm(("train", "nlprnn", t)); lp = mm(("train_loop", "torch", t)); wt = mm(("train", "torch", t))
        print("| %d | %.1f / %.1f | %.2f | %.0f | %.1f / %.1f | %.1f / %.2f | %.0f | %.2fx; %.2fx | %.2fx | %s; %s |" % (
            t, a[0], a[1], a[2], tokens * epochs / a[0], lp[0], lp[1], wt[1], wt[2],
            tokens * epochs / lp[0], lp[0] / a[0], lp[1] / a[1], wt[2] / a[2], a[3], lp[3]))
    print()
    if any(k[1] == "base" for k in rows):
        print("Before/after (NLPRNN_E2E_BASE): the base build's nlprnn train in the same rounds")
        print()
        print("| threads | base nlprnn train wall s min / median | CPU s median | this build wall s min / median | CPU s median | speed-up this / base, wall (min; median) | CPU s base / this (medians) | PyTorch loop / base, wall (min; median) | load1 at starts (base) |")
        print("|---|---|---|---|---|---|---|---|---|")
        for (what, who, t) in sorted(k for k in rows if k[0] == "train" and k[1] == "base"):
            b = mm(("train", "base", t)); a = mm(("train", "nlprnn", t)); lp = mm(("train_loop", "torch", t))
            print("| %d | %.1f / %.1f | %.2f | %.1f / %.1f | %.2f | %.2fx; %.2fx | %.2fx | %.2fx; %.2fx | %s |" % (
                t, b[0], b[1], b[2], a[0], a[1], a[2], b[0] / a[0], b[1] / a[1], b[2] / a[2], lp[0] / b[0], lp[1] / b[1], b[3]))
        print()
if any(k[0] == "lm" for k in rows):
    print("### Language model training: the forward direction, 1 epoch, %d pieces (PyTorch full softmax: its first seconds)" % lm_pieces)
    print()
    print("| threads | nlprnn lm-train (whole command) wall s min / median | CPU s median | pieces/s, whole command (min wall) | nlprnn loop pieces/s (its progress line, best) | PyTorch sampled softmax: loop s min / median | pieces/s (loop, min) | PyTorch full softmax: pieces/s (loop, best) | nlprnn whole / PyTorch sampled loop, pieces/s (min; median) | nlprnn loop / PyTorch sampled loop | nlprnn whole / PyTorch full loop | CPU s median, PyTorch sampled whole / nlprnn whole | load1 at starts |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (what, who, t) in sorted(k for k in rows if k[0] == "lm" and k[1] == "nlprnn"):
        a = mm(("lm", "nlprnn", t)); nl = mm(("lm_loop", "nlprnn", t)); ps = mm(("lm_loop_sampled", "torch", t))
        pw = mm(("lm_sampled", "torch", t))
        fr = max(full_rates.get(t, []), default=float("nan"))
        print("| %d | %.1f / %.1f | %.2f | %.0f | %.0f | %.1f / %.1f | %.0f | %.0f | %.2fx; %.2fx | %.2fx | %.2fx | %.2fx | %s; %s |" % (
            t, a[0], a[1], a[2], lm_pieces / a[0], lm_pieces / nl[0], ps[0], ps[1], lm_pieces / ps[0], fr,
            ps[0] / a[0], ps[1] / a[1], ps[0] / nl[0], lm_pieces / a[0] / fr, pw[2] / a[2], a[3], ps[3]))
    print()
if any(k[0] == "classify" for k in rows):
    print("### Batch classification: %d test reviews (whole commands: load, read, tokenize, classify, print)" % n_test)
    print()
    print("| command | threads | wall s min / median | reviews/s (min wall; median) | CPU s median | ratio nlprnn / fastText reviews/s, wall (min; median) | ratio of CPU s, fastText / nlprnn | load1 at starts |")
    print("|---|---|---|---|---|---|---|---|")
    ft = mm(("classify", "fasttext", 1))
    for t in (1, 2):
        a = mm(("classify", "nlprnn", t))
        print("| nlprnn classify --lines | %d | %.2f / %.2f | %.0f; %.0f | %.2f | %.2fx; %.2fx | %.2fx | %s |" % (
            t, a[0], a[1], n_test / a[0], n_test / a[1], a[2], ft[0] / a[0], ft[1] / a[1], ft[2] / a[2], a[3]))
    print("| fasttext predict (char n-grams) | 1 | %.2f / %.2f | %.0f; %.0f | %.2f | 1 | 1 | %s |" % (
        ft[0], ft[1], n_test / ft[0], n_test / ft[1], ft[2], ft[3]))
    print()
    pk = sorted(k for k in rows if k[0].startswith("predict_b"))
    if pk:
        print("PyTorch's model loop, the same weights and ids (classify_torch.py --predict: the loop alone, no tokenizing, no printing; the whole command adds Python, torch and reading the ids)")
        print()
        print("| batch | threads | loop wall s min / median | reviews/s (loop, min; median) | whole command wall s min / CPU s median | nlprnn classify --lines (whole command, same threads) / PyTorch loop, reviews/s (min; median) | load1 at starts |")
        print("|---|---|---|---|---|---|---|")
        for (what, who, t) in pk:
            b = what[len("predict_b"):]
            lp = mm(("predict_loop_b" + b, "torch", t)); wc = mm((what, who, t)); a = mm(("classify", "nlprnn", t))
            print("| %s | %d | %.2f / %.2f | %.0f; %.0f | %.2f / %.2f | %.2fx; %.2fx | %s |" % (
                b, t, lp[0], lp[1], n_test / lp[0], n_test / lp[1], wc[0], wc[2], lp[0] / a[0], lp[1] / a[1], lp[3]))
        print()
    if any(k[0] == "classify" and k[1] == "base" for k in rows):
        print("Before/after (NLPRNN_E2E_BASE): the base build's classify in the same rounds")
        print()
        print("| threads | base wall s min / median | base CPU s median | this build wall s min / median | CPU s median | CPU s base / this (medians) | reviews per CPU s, base -> this | load1 at starts |")
        print("|---|---|---|---|---|---|---|---|")
        for t in (1, 2):
            b = mm(("classify", "base", t)); a = mm(("classify", "nlprnn", t))
            print("| %d | %.2f / %.2f | %.2f | %.2f / %.2f | %.2f | %.2fx | %.0f -> %.0f | %s |" % (
                t, b[0], b[1], b[2], a[0], a[1], a[2], b[2] / a[2], n_test / b[2], n_test / a[2], b[3]))
        print()
res = json.load(open(hf))["results"]
if res:
    print("### One review (hyperfine)")
    print()
    print("| command | mean ± sd ms | min ms | median ms | user ms | system ms |")
    print("|---|---|---|---|---|---|")
for x in res:
    print("| `%s` | %.1f ± %.1f | %.1f | %.1f | %.1f | %.1f |" % (
        x["command"], x["mean"] * 1e3, x["stddev"] * 1e3, x["min"] * 1e3, x["median"] * 1e3,
        x["user"] * 1e3, x["system"] * 1e3))
PY
echo
echo "run lines:"
cat "$tmp/runs.txt"
echo
echo "hyperfine:"
cat "$tmp/hf.txt"

#!/usr/bin/env bash
# bench/run_space_peer.sh [BUILD_DIR [OUT_DIR]] — one spacing member of the shipped recipe (1b: seed
# 1, plain) against the PyTorch peer of the same shape (bench/space_torch.py), both in the recipe's
# two stages and with the same wall time per stage (docs/spacing.md, "Beside a PyTorch model of
# the same shape").
#
#   1. nlprnn: `NLPRNN_SPACE_PACK=1b NLPRNN_SPACE_STORE=f32 scripts/train-spacing.sh`, as a user
#      runs it (the recipe runs its stages under `nice -n 5`, one worker thread): pretraining 1
#      epoch on the written text + the reviews, fine-tuning 6 epochs on the written text at dropout
#      0.1, the best validated epoch kept. It prints the seconds of each stage, X and Y.
#   2. PyTorch: bench/space_torch.py --pretrain REVIEWS --pretrain-seconds X --seconds Y,
#      --threads 1, `nice -n 5`, on the same written files and the same reviews
#      (nsmc/lm_train.txt.gz's lines with >= 3 words and >= 15 bytes, the recipe's awk filter).
#      space_torch.py's --threads also bounds Debian's OpenBLAS under torch (it sets
#      OPENBLAS_NUM_THREADS for itself when the caller did not): before that, --threads 1 kept
#      both cores busy (docs/spacing.md's first record of this runner: 1,539 CPU s in 781 s).
#   The two run one after the other, not side by side: the peer's budgets are the seconds nlprnn's
#   stages took, known only when they end. bench/env.sh (with the load) is printed before each,
#   /usr/bin/time's CPU seconds after each, so a difference of load between the two shows.
#   3. scripts/eval-spacing.py on news-ko.test and ud-kaist.test: nlprnn's model, then the peer's
#      hypotheses (--hyp). The optimizer steps: the peer counts its own; nlprnn's are read from
#      its epoch lines ("epoch N: ... (S steps, U chars/s)", S counted from each space-train's
#      start: the last S of the pretraining + the last of the fine-tuning). A build whose epoch
#      lines lack them (before 2026-12-07) gets them computed from the pieces the peer counted in
#      the same files (both cut lines into pieces of at most 128 characters): each epoch
#      ceil(0.98 n / 32) batches, n the stage's pieces (2% held out for validation, drawn at
#      random: +-0.1% or so).
# Needs python3-torch (installed with apt-get when missing: bench/peers.sh) and
# GNU time. Takes about twice the recipe's 1b time (about 13 minutes at low load) plus a few
# minutes for reading and scoring. OUT_DIR (default: a new temporary directory) keeps the logs,
# the model and the peer's hypotheses.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-$(mktemp -d)}
corp=../shared/corpora
[ -x "$build/nlprnn" ] || { echo "run_space_peer: $build/nlprnn not found (build first)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "run_space_peer: needs GNU time (apt-get install time)" >&2; exit 2; }
for f in ko-text/news-ko.test.txt.gz ko-text/ud-kaist.test.ko.txt.gz nsmc/lm_train.txt.gz parallel/flores-devtest.tsv.gz; do
  [ -f "$corp/$f" ] || { echo "run_space_peer: $corp/$f missing" >&2; exit 77; }
done
# shellcheck source=bench/peers.sh
. bench/peers.sh
need_torch
need_install run_space_peer
mkdir -p "$out/bin"
cp "$build/nlprnn" "$out/bin/" # a rebuild during the run must not change it
log() { echo "run_space_peer: $*"; }

# the data as scripts/train-spacing.sh makes it
zcat "$corp/parallel/flores-devtest.tsv.gz" |
  awk -F'\t' 'NR==1{for(i=1;i<=NF;i++) if($i=="ko") k=i; next} {print $k}' > "$out/flores.ko.txt"
zcat "$corp/nsmc/lm_train.txt.gz" | LC_ALL=C awk 'NF >= 3 && length($0) >= 15' > "$out/reviews.txt"
log "$(wc -l < "$out/reviews.txt") reviews"
train=("$corp/ko-text/korsts.ko.txt.gz" "$corp/ko-text/kornli-xnli.ko.txt.gz"
       "$corp/ko-text/news-ko.dev.txt.gz" "$corp/ko-text/ud-kaist.dev.ko.txt.gz" "$out/flores.ko.txt")
test=("$corp/ko-text/news-ko.test.txt.gz" "$corp/ko-text/ud-kaist.test.ko.txt.gz")

# 1. nlprnn, the recipe's member 1b
log "nlprnn: NLPRNN_SPACE_PACK=1b NLPRNN_SPACE_STORE=f32 scripts/train-spacing.sh"
bench/env.sh
NLPRNN_SPACE_PACK=1b NLPRNN_SPACE_STORE=f32 NLPRNN_SPACE_OUT="$out/ours.nrm" \
  /usr/bin/time -f 'nlprnn: %e s wall, %U s user, %S s sys' -o "$out/time-ours.txt" \
  scripts/train-spacing.sh "$out/bin" 2>&1 | tee "$out/ours.log"
cat "$out/time-ours.txt"
read -r pre_s fine_s < <(sed -n 's/.*; pretraining \([0-9]*\) s, fine-tuning and packing \([0-9]*\) s$/\1 \2/p' "$out/ours.log") || true
[ -n "${fine_s:-}" ] || { echo "run_space_peer: no stage seconds in $out/ours.log" >&2; exit 1; }
epochs=$(grep -c '^epoch [0-9]*:' "$out/ours.log") # 1 pretraining + the fine-tuning's

# 2. the peer with the same seconds per stage
log "PyTorch: --pretrain-seconds $pre_s --seconds $fine_s"
bench/env.sh
/usr/bin/time -f 'PyTorch: %e s wall, %U s user, %S s sys' -o "$out/time-peer.txt" \
  nice -n 5 $py bench/space_torch.py --threads 1 --seed 1 --pretrain-seconds "$pre_s" --seconds "$fine_s" \
  --out "$out/torch-hyp.txt" --pretrain "$out/reviews.txt" --train "${train[@]}" --test "${test[@]}" |
  tee "$out/peer.log"
cat "$out/time-peer.txt"
bench/env.sh

# 3. the scores and the steps
log "nlprnn (member 1b):"
$py scripts/eval-spacing.py --nlprnn "$out/bin/nlprnn" --model "$out/ours.nrm" "${test[@]}"
log "PyTorch:"
$py scripts/eval-spacing.py --hyp "$out/torch-hyp.txt" "${test[@]}"
n_pre=$(sed -n "s/^space_torch: pretraining on \([0-9]*\) pieces.*/\1/p" "$out/peer.log")
n_fine=$(sed -n "s/^space_torch: pretraining on [0-9]* pieces (\([0-9]*\) of them.*/\1/p" "$out/peer.log")
b_pre=$(( (n_pre * 98 / 100 + 31) / 32 ))
b_fine=$(( (n_fine * 98 / 100 + 31) / 32 ))
# each space-train counts from 0: a new run starts at its "epoch 1:" line
counted=$(sed -n 's/^epoch \([0-9]*\): .* (\([0-9]*\) steps, .*/\1 \2/p' "$out/ours.log" |
  awk '$1 == 1 && NR > 1 {s += last; runs++} {last = $2} END {if (NR) printf "%d %d", s + last, runs + 1}')
if [ -n "$counted" ]; then
  log "nlprnn steps (counted by nlprnn, ${counted#* } trainings): ${counted% *}"
else
  log "nlprnn steps (computed): pretraining 1 epoch x about $b_pre, fine-tuning $(( epochs - 1 )) epochs x about $b_fine:" \
    "about $(( b_pre + (epochs - 1) * b_fine )) in all"
fi
grep '^space_torch: pretraining [0-9]* steps' "$out/peer.log"
log "stage seconds: nlprnn pretraining $pre_s, fine-tuning and packing $fine_s (out: $out)"

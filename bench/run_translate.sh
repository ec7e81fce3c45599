#!/usr/bin/env bash
# bench/run_translate.sh [BUILD_DIR] — nlprnn's translator vs a PyTorch encoder-decoder of the same
# shape (bench/translate_torch.py), trained side by side on ../shared/corpora/parallel/
# tatoeba-train.tsv.gz (ko -> en) for the same wall time, both scored on tatoeba-test.tsv.gz by
# `nlprnn translate-eval` (BLEU and chrF as sacrebleu), with training tokens/s and greedy
# decoding sentences/s of each.
#
#   SECONDS_EACH  training wall time of each (default 600)
#
# The shape is the one scripts/train-translate.sh used before its recipe became 256 wide (GRU,
# embedding 128, bidirectional encoder 2 x 64,
# decoder 128, general attention, input feeding, label smoothing 0.1, Adam 0.002 -> 0.0001 along
# a cosine over the time, clip 5, batch 32, 5% held out, 1,000 pieces a side). The peer gets the
# pieces of nlprnn's tokenizer trained the same way (`nlprnn tokenizer-train --vocab-size 1000` on
# each column, as translate-train does inside). Both run at the same time, one thread each, under
# nice, so both see the same machine load. Set-up: installs python3-torch with apt when missing
# (sudo if not root). Results go to bench/out/translate/ and the summary to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${SECONDS_EACH:-600}
corp=../shared/corpora/parallel
out=bench/out/translate
nl="$build/nlprnn"
[ -x "$nl" ] || { echo "run_translate: $nl not found (build first)" >&2; exit 2; }
for f in tatoeba-train tatoeba-test; do
  [ -f "$corp/$f.tsv.gz" ] || { echo "run_translate: $corp/$f.tsv.gz missing" >&2; exit 77; }
done
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get install -y -qq python3-torch >&2
fi
mkdir -p "$out"
bash bench/env.sh | tee "$out/env.txt"

# the columns and the pieces of each side (the header line names the columns)
col() { zcat "$1" | awk -F'\t' -v c="$2" 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == c) k = i; next} {print $k}'; }
col "$corp/tatoeba-train.tsv.gz" ko > "$out/train.ko"
col "$corp/tatoeba-train.tsv.gz" en > "$out/train.en"
col "$corp/tatoeba-test.tsv.gz" ko > "$out/test.ko"
for s in ko en; do
  "$nl" tokenizer-train -q --vocab-size 1000 -o "$out/$s.tok" "$out/train.$s"
  "$nl" tokenize -m "$out/$s.tok" -i "$out/train.$s" > "$out/train.$s.pieces"
done
"$nl" tokenize -m "$out/ko.tok" -i "$out/test.ko" > "$out/test.ko.pieces"

echo "== training both for $secs s (side by side, one thread each, nice)"
OPENBLAS_NUM_THREADS=1 nice "$nl" translate-train "$corp/tatoeba-train.tsv.gz" -o "$out/nlprnn.nrm" \
  --src-col ko --tgt-col en --src-vocab 1000 --tgt-vocab 1000 --cell gru --attention general --embed 128 \
  --hidden 128 --layers 1 --bidirectional 1 --smoothing 0.1 --epochs 100000 --batch 32 --lr 0.002 \
  --min-lr 0.0001 --clip 5 --valid 0.05 --time-limit "$secs" --seed 1 --threads 1 > "$out/nlprnn.log" 2>&1 &
cpid=$!
OMP_NUM_THREADS=1 nice /usr/bin/python3 bench/translate_torch.py --seconds "$secs" --threads 1 \
  --train-src "$out/train.ko.pieces" --train-tgt "$out/train.en.pieces" --test-src "$out/test.ko.pieces" \
  --out "$out/torch.hyp" > "$out/torch.log" 2>&1 &
tpid=$!
wait $cpid
wait $tpid

echo "== nlprnn"
tail -1 "$out/nlprnn.log"
for b in 1 64; do
  echo "\$ nlprnn translate-eval -m $out/nlprnn.nrm --batch $b $corp/tatoeba-test.tsv.gz"
  "$nl" translate-eval -m "$out/nlprnn.nrm" --batch "$b" "$corp/tatoeba-test.tsv.gz" | tee "$out/nlprnn.eval$b"
done
echo "== PyTorch"
cat "$out/torch.log"
echo "\$ nlprnn translate-eval --hyp $out/torch.hyp $corp/tatoeba-test.tsv.gz"
"$nl" translate-eval --hyp "$out/torch.hyp" "$corp/tatoeba-test.tsv.gz" | tee "$out/torch.eval"

# nlprnn's training tokens/s: its epochs (whole, from the summary) times the pieces of an epoch
# (the peer counts the same pieces of its 95%; nlprnn holds out another 5%: equal within ~1%)
# over the time limit
python3 - "$out" "$secs" <<'PY'
import re, sys
out, secs = sys.argv[1], float(sys.argv[2])
nl = open(f"{out}/nlprnn.log").read()
to = open(f"{out}/torch.log").read()
ep = int(re.search(r"(\d+) epochs?, best", nl).group(1))
per = int(re.search(r"pieces per epoch\t(\d+)", to).group(1))
ttok = float(re.search(r"training\t\S+ s, (\d+) tokens/s", to).group(1))
ntok = ep * per / secs
def score(f):
    s = open(f).read()
    return float(re.search(r"BLEU\t(\S+)", s).group(1)), float(re.search(r"chrF\t(\S+)", s).group(1))
nb, nc = score(f"{out}/nlprnn.eval1")
tb, tc = score(f"{out}/torch.eval")
nsp = float(re.search(r"sentences/s\t(\S+)", open(f"{out}/nlprnn.eval1").read()).group(1))
nsb = float(re.search(r"sentences/s\t(\S+)", open(f"{out}/nlprnn.eval64").read()).group(1))
tsp = float(re.search(r"decoding\t\d+ sentences, (\S+) sentences/s", to).group(1))
print("== summary (tatoeba-test, greedy)")
print(f"            BLEU   chrF   training tokens/s   decoding sentences/s")
print(f"nlprnn     {nb:5.2f}  {nc:5.2f}  {ntok:17.0f}   {nsp:.1f} (one at a time), {nsb:.1f} (--batch 64)")
print(f"PyTorch    {tb:5.2f}  {tc:5.2f}  {ttok:17.0f}   {tsp:.1f} (one at a time)")
print(f"ratio      BLEU {nb / tb if tb else float('nan'):.2f}x, chrF {nc / tc:.2f}x, training {ntok / ttok:.2f}x, "
      f"decoding {nsp / tsp:.2f}x (one at a time)")
PY

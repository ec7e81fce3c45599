#!/usr/bin/env bash
# bench/run_translate.sh [BUILD_DIR] — nlprnn's translator vs a PyTorch encoder-decoder of the same
# shape (bench/translate_torch.py), trained side by side on ../shared/corpora/parallel/
# tatoeba-train.tsv.gz (ko -> en) for the same wall time, then both decoding tatoeba-test.tsv.gz
# in alternation (greedy one at a time, greedy --batch 64, beam 5; ROUNDS rounds), all scored by
# `nlprnn translate-eval` (BLEU and chrF as sacrebleu), with training tokens/s and decoding
# sentences/s of each.
#
#   SECONDS_EACH  training wall time of each (default 1200)
#   ROUNDS        decoding rounds (default 3; the summary gives the median of each figure)
#   VOCAB         pieces a side (default 2000: the recipe shipped when the side-by-side run in
#                 docs/translate.md was made)
#
# The shape and regularisation are the shipped recipe's (scripts/train-translate.sh): GRU,
# embedding 256, bidirectional encoder 2 x 128, decoder 256, general attention, input feeding,
# dropout 0.3 on the embeddings and 0.5 on the attentional vector, label smoothing 0.1, Adam 0.002
# -> 0.0001 along a cosine (over the time here, not the recipe's 40 epochs: the issue compares the
# same wall time), clip 5, batch 32, 5% held out, the best epoch kept, VOCAB
# pieces a side. The peer gets the pieces of nlprnn's tokenizer trained the same way (`nlprnn
# tokenizer-train --vocab-size VOCAB` on each column, as translate-train does inside). nlprnn runs
# as a user runs it: its default threads (one worker; it sets its BLAS to one thread itself), no
# environment variable set; the peer runs one thread (torch.set_num_threads(1), the script's
# default). Both train at the same time under `nice -n 19`, so both see the same machine load.
# Set-up: installs python3-torch (Debian) with apt when missing (sudo if not root). Results go to
# bench/out/translate/ and the summary to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${SECONDS_EACH:-1200}
rounds=${ROUNDS:-3}
vocab=${VOCAB:-2000}
corp=../shared/corpora/parallel
out=bench/out/translate
nl="$build/nlprnn"
[ -x "$nl" ] || { echo "run_translate: $nl not found (build first)" >&2; exit 2; }
for f in tatoeba-train tatoeba-test; do
  [ -f "$corp/$f.tsv.gz" ] || { echo "run_translate: $corp/$f.tsv.gz missing" >&2; exit 77; }
done
# shellcheck source=bench/peers.sh
. bench/peers.sh
need_torch
need_install run_translate
mkdir -p "$out"
rm -f "$out"/*.dec
bash bench/env.sh | tee "$out/env.txt"
echo "torch: $(torch_version) (Debian python3-torch $(deb_version python3-torch || echo '?'))"

# the columns and the pieces of each side (the header line names the columns)
col() { zcat "$1" | awk -F'\t' -v c="$2" 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == c) k = i; next} {print $k}'; }
col "$corp/tatoeba-train.tsv.gz" ko > "$out/train.ko"
col "$corp/tatoeba-train.tsv.gz" en > "$out/train.en"
col "$corp/tatoeba-test.tsv.gz" ko > "$out/test.ko"
for s in ko en; do
  "$nl" tokenizer-train -q --vocab-size "$vocab" -o "$out/$s.tok" "$out/train.$s"
  "$nl" tokenize -m "$out/$s.tok" -i "$out/train.$s" > "$out/train.$s.pieces"
done
"$nl" tokenize -m "$out/ko.tok" -i "$out/test.ko" > "$out/test.ko.pieces"

echo "== training both for $secs s (side by side, one thread each, nice -n 19)"
ncmd=("$nl" translate-train "$corp/tatoeba-train.tsv.gz" -o "$out/nlprnn.nrm" --src-col ko --tgt-col en
      --src-vocab "$vocab" --tgt-vocab "$vocab" --cell gru --attention general --embed 256 --hidden 256
      --layers 1 --bidirectional 1 --smoothing 0.1 --emb-dropout 0.3 --out-dropout 0.5 --epochs 100000
      --batch 32 --lr 0.002 --min-lr 0.0001 --clip 5 --valid 0.05 --time-limit "$secs" --seed 1 --store f16)
tcmd=($py bench/translate_torch.py train --seconds "$secs" --embed 256 --hidden 256 --emb-dropout 0.3
      --out-dropout 0.5 --train-src "$out/train.ko.pieces" --train-tgt "$out/train.en.pieces"
      --save "$out/torch.pt")
echo "\$ nice -n 19 nlprnn ${ncmd[*]:1}"
echo "\$ nice -n 19 ${tcmd[*]}"
nice -n 19 "${ncmd[@]}" > "$out/nlprnn.log" 2>&1 &
cpid=$!
nice -n 19 "${tcmd[@]}" > "$out/torch.log" 2>&1 &
tpid=$!
wait $cpid
wait $tpid
echo "load after training: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== nlprnn"
tail -1 "$out/nlprnn.log"
echo "== PyTorch"
cat "$out/torch.log"

# decoding, in alternation (the same minutes for both): greedy one at a time, greedy in batches
# of 64, beam 5; nlprnn scores its own output, the peer's is scored by translate-eval --hyp
for r in $(seq 1 "$rounds"); do
  echo "== decoding round $r (load $(cut -d' ' -f1-3 /proc/loadavg))"
  for m in g1 g64 b5; do
    case $m in g1) nopt=(--batch 1) topt=(--batch 1);; g64) nopt=(--batch 64) topt=(--batch 64);;
               b5) nopt=(--beam 5) topt=(--beam 5);; esac
    echo "\$ nice -n 19 nlprnn translate-eval -m $out/nlprnn.nrm ${nopt[*]} -o $out/nlprnn.$m.hyp $corp/tatoeba-test.tsv.gz"
    nice -n 19 "$nl" translate-eval -m "$out/nlprnn.nrm" "${nopt[@]}" -o "$out/nlprnn.$m.hyp" \
      "$corp/tatoeba-test.tsv.gz" | tee "$out/nlprnn.$m.eval" | tail -1 | tee -a "$out/nlprnn.$m.dec"
    echo "\$ nice -n 19 $py bench/translate_torch.py decode --model $out/torch.pt --test-src $out/test.ko.pieces ${topt[*]} --out $out/torch.$m.hyp"
    nice -n 19 $py bench/translate_torch.py decode --model "$out/torch.pt" --test-src "$out/test.ko.pieces" \
      "${topt[@]}" --out "$out/torch.$m.hyp" | tee -a "$out/torch.$m.dec"
  done
done
echo "== scores (tatoeba-test)"
for m in g1 b5; do
  echo "\$ nlprnn translate-eval -m $out/nlprnn.nrm $([ $m = b5 ] && echo '--beam 5 ')$corp/tatoeba-test.tsv.gz"
  head -3 "$out/nlprnn.$m.eval"
  echo "\$ nlprnn translate-eval --hyp $out/torch.$m.hyp $corp/tatoeba-test.tsv.gz"
  "$nl" translate-eval --hyp "$out/torch.$m.hyp" "$corp/tatoeba-test.tsv.gz" | tee "$out/torch.$m.eval"
done
cmp -s "$out/nlprnn.g1.hyp" "$out/nlprnn.g64.hyp" || echo "run_translate: nlprnn --batch 64 differs from --batch 1" >&2
cmp -s "$out/torch.g1.hyp" "$out/torch.g64.hyp" || echo "run_translate: the peer's --batch 64 differs from --batch 1" >&2

# nlprnn's training tokens/s: its epochs (whole, from the summary) times the pieces of an epoch
# (the peer counts the same pieces of its 95%; nlprnn holds out another 5%: equal within ~1%)
# over the time limit: a lower bound (the part of the last epoch is not counted)
$py - "$out" "$secs" <<'PY'
import re, statistics, sys
out, secs = sys.argv[1], float(sys.argv[2])
nl = open(f"{out}/nlprnn.log").read()
to = open(f"{out}/torch.log").read()
ep = int(re.search(r"(\d+) epochs?, best", nl).group(1))
tep = int(re.search(r"epochs\t(\d+)", to).group(1))
per = int(re.search(r"pieces per epoch\t(\d+)", to).group(1))
ttok = float(re.search(r"training\t\S+ s, (\d+) tokens/s", to).group(1))
ntok = ep * per / secs
def score(f):
    s = open(f).read()
    return float(re.search(r"BLEU\t(\S+)", s).group(1)), float(re.search(r"chrF\t(\S+)", s).group(1))
def speed(f, pat):
    v = [float(x) for x in re.findall(pat, open(f).read())]
    return statistics.median(v), v
N = r"sentences/s\t(\S+)"
T = r"sentences, (\S+) sentences/s"
print(f"== summary (tatoeba-test; {secs:.0f} s of training each; decoding: median of the rounds)")
print(f"            epochs  training tokens/s   BLEU greedy / beam 5   chrF greedy / beam 5")
for name, e, tok, sc in (("nlprnn", ep, ntok, "nlprnn"), ("PyTorch", tep, ttok, "torch")):
    (bg, cg), (bb, cb) = score(f"{out}/{sc}.g1.eval"), score(f"{out}/{sc}.b5.eval")
    print(f"{name:10s}  {e:6d}  {tok:17.0f}   {bg:5.2f} / {bb:5.2f}          {cg:5.2f} / {cb:5.2f}")
print("decoding sentences/s   greedy one at a time   greedy --batch 64   beam 5 one at a time")
rs = {}
for name, sc, pat in (("nlprnn", "nlprnn", N), ("PyTorch", "torch", T)):
    rs[name] = [speed(f"{out}/{sc}.{m}.dec", pat) for m in ("g1", "g64", "b5")]
    print(f"{name:10s}  " + "   ".join(f"{med:8.1f} ({', '.join(f'{x:.1f}' for x in v)})" for med, v in rs[name]))
print(f"ratio nlprnn / PyTorch: training {ntok / ttok:.2f}x; decoding greedy {rs['nlprnn'][0][0] / rs['PyTorch'][0][0]:.2f}x, "
      f"--batch 64 {rs['nlprnn'][1][0] / rs['PyTorch'][1][0]:.2f}x, beam 5 {rs['nlprnn'][2][0] / rs['PyTorch'][2][0]:.2f}x")
PY
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

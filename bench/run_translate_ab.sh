#!/usr/bin/env bash
# bench/run_translate_ab.sh BUILD_DIR BASE_BUILD_DIR [ROUNDS] — the translator before and after a
# change: the nlprnn of BASE_BUILD_DIR ("base") and of BUILD_DIR ("new") in the same run,
# interleaved, ROUNDS rounds (default 3):
#   decoding  `translate-eval` of ../shared/corpora/parallel/tatoeba-test.tsv.gz (661 sentences)
#             with the shipped model (pretrained/ko-en.nrm, or MODEL=FILE), greedy one at a time,
#             greedy --batch 64 and beam 5: the whole command's CPU seconds (user + sys, load and
#             scoring included) and the decoding sentences/s it prints;
#   one       `translate -m MODEL "이 책은 너무 어려워요."` (load and one greedy translation), ONE
#             times a round (default 5): CPU seconds of each;
#   training  `translate-train` of the shipped recipe's member 1 (scripts/train-translate.sh's
#             options) for EPOCHS epochs (default 1) on tatoeba-train: CPU seconds.
# Both builds must give the same output: the translations of each mode and the trained model
# files are compared byte for byte (a difference is reported, and the exit code is 1). The
# figures are CPU seconds because this machine is shared: wall time is what the scheduler gives;
# the medians and the ratio base / new (> 1: the new build is faster) are printed at the end. Runs
# as a user runs nlprnn: no environment variable set; both under `nice -n 5`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: bench/run_translate_ab.sh BUILD_DIR BASE_BUILD_DIR [ROUNDS]" >&2; exit 2; }
new="$1/nlprnn" base="$2/nlprnn" rounds=${3:-3}
model=${MODEL:-pretrained/ko-en.nrm} epochs=${EPOCHS:-1} ones=${ONE:-5}
corp=../shared/corpora/parallel
for f in "$new" "$base"; do [ -x "$f" ] || { echo "run_translate_ab: $f not found" >&2; exit 2; }; done
for f in tatoeba-train tatoeba-test; do
  [ -f "$corp/$f.tsv.gz" ] || { echo "run_translate_ab: $corp/$f.tsv.gz missing" >&2; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash bench/env.sh
echo "base: $base ($(sha256sum < "$base" | cut -c1-12)); new: $new ($(sha256sum < "$new" | cut -c1-12)); model $model"
cp "$base" "$tmp/base" && cp "$new" "$tmp/new"
modes=("greedy:" "batch64:--batch 64" "beam5:--beam 5")
fail=0
cpu() { # cpu LABEL CMD... : runs CMD, appends "LABEL cpu_s" to $tmp/cpu; its stdout to $tmp/last
  local label=$1; shift
  /usr/bin/time -f '%U %S' -o "$tmp/t" nice -n 5 "$@" > "$tmp/last" 2> "$tmp/err" ||
    { echo "run_translate_ab: $label failed:" >&2; cat "$tmp/err" >&2; exit 1; }
  echo "$label $(awk '{print $1 + $2}' "$tmp/t")" >> "$tmp/cpu"
}
for r in $(seq 1 "$rounds"); do
  for m in "${modes[@]}"; do
    name=${m%%:*} opts=${m#*:}
    for b in base new; do
      # shellcheck disable=SC2086
      cpu "$b.$name" "$tmp/$b" translate-eval -m "$model" $opts -o "$tmp/$b.$name.out" "$corp/tatoeba-test.tsv.gz"
      echo "$b.$name.sps $(awk -F'\t' '$1 == "sentences/s" {print $2}' "$tmp/last")" >> "$tmp/cpu"
    done
    cmp -s "$tmp/base.$name.out" "$tmp/new.$name.out" || { echo "DIFFERENT translations: $name" >&2; fail=1; }
  done
  for i in $(seq 1 "$ones"); do
    for b in base new; do
      cpu "$b.one" "$tmp/$b" translate -m "$model" "이 책은 너무 어려워요."
      cp "$tmp/last" "$tmp/$b.one.out"
    done
  done
  cmp -s "$tmp/base.one.out" "$tmp/new.one.out" || { echo "DIFFERENT translations: one" >&2; fail=1; }
  for b in base new; do
    cpu "$b.train" "$tmp/$b" translate-train "$corp/tatoeba-train.tsv.gz" -o "$tmp/$b.nrm" --src-col ko \
      --tgt-col en --src-vocab 2000 --tgt-vocab 2000 --cell gru --attention general --embed 256 \
      --hidden 256 --layers 1 --bidirectional 1 --smoothing 0.1 --emb-dropout 0.3 --out-dropout 0.5 \
      --epochs "$epochs" --batch 32 --lr 0.002 --min-lr 0.0001 --clip 5 --valid 0.05 --seed 1 --threads 1
  done
  cmp -s "$tmp/base.nrm" "$tmp/new.nrm" || { echo "DIFFERENT trained models" >&2; fail=1; }
  echo "round $r done (load $(cut -d' ' -f1-3 /proc/loadavg))"
done
python3 - "$tmp/cpu" <<'EOF'
import statistics, sys
v = {}
for line in open(sys.argv[1]):
    k, x = line.split()
    v.setdefault(k, []).append(float(x))
med = lambda k: statistics.median(v[k])
print("| run | base CPU s (median; all) | new CPU s (median; all) | base / new | decoding sentences/s base / new (median) |")
print("|---|---|---|---|---|")
for name in ("greedy", "batch64", "beam5", "one", "train"):
    b, n = f"base.{name}", f"new.{name}"
    sps = (f"{med(b + '.sps'):.1f} / {med(n + '.sps'):.1f}" if b + ".sps" in v else "–")
    if b not in v:
        continue
    print(f"| {name} | {med(b):.2f}; {' '.join(f'{x:.2f}' for x in v[b])} | {med(n):.2f}; "
          f"{' '.join(f'{x:.2f}' for x in v[n])} | {med(b) / med(n):.2f}x | {sps} |")
EOF
[ "$fail" = 0 ] && echo "outputs: identical (translations of every mode, trained model files)"
exit "$fail"

#!/usr/bin/env bash
# bench/run_tokenizer.sh [BUILD_DIR] [VOCAB]: nlprnn's tokenizer beside SentencePiece (Debian's
# spm_train / spm_encode) in one run, on ../shared/corpora/nsmc/lm_train.txt.gz (decompressed
# once to a temporary plain file that both read), BPE with VOCAB ids (default 8000), one thread.
#
#   training: spm_train --model_type=bpe --num_threads=1   vs  nlprnn tokenizer-train --threads 1
#   encoding: spm_encode --output_format=id < FILE          vs  nlprnn tokenize --ids -f FILE
#             (both programs read every line and print ids; best of 3 runs)
#             plus bench_tokenizer (the library alone, no output)
#   segmentation: on the first 20,000 reviews of nsmc/test.tsv.gz, the share of words ending in
#             a Korean particle (에서 에게 으로 부터 까지 에 은 는 을 를 랑 와 과 도 로 의 가 이)
#             whose particle is its own piece (극장에 -> ▁극장 에), for both tokenizers
# Times: wall and CPU (user+sys) seconds; on a shared machine CPU time is the steadier figure,
# so ratios are given for both. Everything runs under `nice`.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
vocab=${2:-8000}
corpus=../shared/corpora/nsmc/lm_train.txt.gz
[ -r "$corpus" ] || { echo "run_tokenizer.sh: $corpus is missing" >&2; exit 77; }
# shellcheck source=bench/peers.sh
. bench/peers.sh
need_cmd spm_train sentencepiece
need_install run_tokenizer.sh
if [ ! -x "$build/nlprnn" ] || [ ! -x "$build/bench/bench_tokenizer" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build "$build" -j2 --target nlprnn_cli bench_tokenizer > /dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
zcat "$corpus" > "$tmp/lm_train.txt"
bytes=$(stat -c %s "$tmp/lm_train.txt")
lines=$(wc -l < "$tmp/lm_train.txt")

echo "## environment"
bench/env.sh
echo "spm: $(deb_version sentencepiece || echo unknown)"
echo "corpus: $corpus ($lines lines, $bytes bytes), vocab $vocab, BPE, 1 thread"

# run CMD... : prints "wall cpu" (seconds) of one run; stdout of CMD goes to $out
TIMEFORMAT='%R %U %S'
timed() {
  local t
  t=$( { time "$@" > "$out" 2> "$tmp/stderr"; } 2>&1 ) || { cat "$tmp/stderr" >&2; return 1; }
  awk '{printf "%.3f %.3f\n", $1, $2 + $3}' <<< "$t"
}
best() { sort -n -k2 | head -1; } # the run with the least CPU time

echo "## training"
out=/dev/null
spm_t=$(timed nice timeout 1800 spm_train --input="$tmp/lm_train.txt" --model_prefix="$tmp/spm" \
  --vocab_size="$vocab" --model_type=bpe --num_threads=1 --input_sentence_size=0)
our_t=$(timed nice timeout 1800 "$build/nlprnn" tokenizer-train --input "$tmp/lm_train.txt" \
  --output "$tmp/ours.tok" --vocab-size "$vocab" --threads 1)
echo "spm_train        wall/cpu s: $spm_t"
echo "nlprnn train     wall/cpu s: $our_t"

echo "## encoding (best of 3)"
spm_e=$(for i in 1 2 3; do out="$tmp/spm.ids" timed nice spm_encode --model="$tmp/spm.model" \
  --output_format=id "$tmp/lm_train.txt"; done | best)
our_e=$(for i in 1 2 3; do out="$tmp/ours.ids" timed nice "$build/nlprnn" tokenize --ids \
  --tokenizer "$tmp/ours.tok" -f "$tmp/lm_train.txt"; done | best)
lib=$(nice "$build/bench/bench_tokenizer" encode "$tmp/ours.tok" "$tmp/lm_train.txt" 3)
echo "spm_encode       wall/cpu s: $spm_e   ids: $(wc -w < "$tmp/spm.ids")"
echo "nlprnn tokenize  wall/cpu s: $our_e   ids: $(wc -w < "$tmp/ours.ids")"
echo "library          $lib"

echo "## ratios (SentencePiece time / nlprnn time; > 1 means nlprnn is faster)"
awk -v s="$spm_t" -v o="$our_t" -v se="$spm_e" -v oe="$our_e" -v b="$bytes" -v lib="$lib" 'BEGIN {
  split(s, S, " "); split(o, O, " "); split(se, SE, " "); split(oe, OE, " ")
  n = split(lib, L, " "); for (i = 1; i <= n; i++) { split(L[i], kv, "="); V[kv[1]] = kv[2] }
  printf "training:        wall %.2fx  cpu %.2fx\n", S[1] / O[1], S[2] / O[2]
  printf "encode (CLI):    wall %.2fx  cpu %.2fx   (spm %.1f MB/s cpu, nlprnn %.1f MB/s cpu)\n",
         SE[1] / OE[1], SE[2] / OE[2], b / 1e6 / SE[2], b / 1e6 / OE[2]
  printf "encode (library, no output): %.1f MB/s cpu = %.2fx spm_encode cpu\n",
         V["MB_per_s_cpu"], SE[2] / V["cpu_s"]
}'

echo "## segmentation: particles as their own pieces (first 20000 reviews of nsmc test)"
# (awk reads to the end: an early-closing `head` would make zcat fail under pipefail)
zcat ../shared/corpora/nsmc/test.tsv.gz | awk -F'\t' 'NR > 1 && NR <= 20001 { print $2 }' > "$tmp/test20k.txt"
cat > "$tmp/particles.awk" <<'AWK'
# piece lines ("▁극장 에 ▁갔 다") -> for each word (a "▁" piece and the pieces after it) ending in
# a particle of the list (longest first), whether that particle is exactly the word's last piece
BEGIN { n = split("에서 에게 으로 부터 까지 에 은 는 을 를 랑 와 과 도 로 의 가 이", P, " "); ws = "\342\226\201" }
function flush(   i, p, w, lp) {
  if (nw == 0) return
  w = word; lp = last
  sub("^" ws, "", w); sub("^" ws, "", lp)
  for (i = 1; i <= n; i++) {
    p = P[i]
    if (length(w) > length(p) && substr(w, length(w) - length(p) + 1) == p) {
      total[p]++; all++
      if (lp == p) { hit[p]++; sp++ }
      break
    }
  }
}
{ nw = 0; word = ""; last = ""
  for (k = 1; k <= NF; k++) {
    if (index($k, ws) == 1) { flush(); word = $k; last = $k; nw = 1 }
    else if (nw) { word = word $k; last = $k }
  }
  flush() }
END { printf "%d words end in a particle; its own piece in %d (%.1f%%):", all, sp, 100 * sp / all
      for (i = 1; i <= n; i++) if (total[P[i]]) printf " %s %d/%d", P[i], hit[P[i]], total[P[i]]; printf "\n" }
AWK
echo "spm_encode:      $(spm_encode --model="$tmp/spm.model" "$tmp/test20k.txt" | LC_ALL=C awk -f "$tmp/particles.awk")"
echo "nlprnn tokenize: $("$build/nlprnn" tokenize --tokenizer "$tmp/ours.tok" -f "$tmp/test20k.txt" | LC_ALL=C awk -f "$tmp/particles.awk")"

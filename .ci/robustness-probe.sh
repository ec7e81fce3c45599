#!/usr/bin/env bash
# .ci/robustness-probe.sh [BUILD_DIR]
#
# Feeds the nlprnn program (BUILD_DIR/nlprnn, default build/) one kind of bad or extreme input
# at a time and prints a Markdown table row per probe: the surface, the input, the exit code, the
# wall time, the peak memory (max RSS) and the first line the program wrote to stderr. Every
# probe runs under `timeout 300` and a 6 GB address-space limit, so a hang or a runaway
# allocation shows up as exit 124 or a failed allocation instead of stalling the machine.
# docs/robustness.md reproduces the table this prints. Needs tests/data/ (fixtures) and, for the
# fill-in-the-blank probes without a shipped language model, ../shared/corpora.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${1:-build}
nl="$root/$build/nlprnn"
[ -x "$nl" ] || { echo "robustness-probe: $nl not built" >&2; exit 2; }
t=$(mktemp -d "${TMPDIR:-/tmp}/nlprnn-probe.XXXXXX")
trap 'rm -rf "$t"' EXIT
export OPENBLAS_NUM_THREADS=1
cd "$t"

# probe SURFACE "INPUT DESCRIPTION" EXPECTED_EXIT COMMAND...
# EXPECTED_EXIT: the documented code (cli/cli.h), or a|b for alternatives; a mismatch is marked.
mismatches=0
probe() {
  local surface=$1 what=$2 expect=$3
  shift 3
  /usr/bin/time -f '%e %M' -o time.txt timeout 300 bash -c 'ulimit -v 6000000; "$@"' _ "$@" \
    >out.txt 2>err.txt </dev/null
  local rc=$? secs kb first mark=""
  read -r secs kb < <(tail -1 time.txt) || { secs=?; kb=0; }
  first=$(grep -v '^\s*$' err.txt | grep -v '^Command exited' | head -1 | sed "s#$t/##g; s#$root/##g" | cut -c1-150)
  [[ "|$expect|" == *"|$rc|"* ]] || { mark=" **(expected $expect)**"; mismatches=$((mismatches + 1)); }
  printf '| %s | %s | %s%s | %s s | %s MB | %s |\n' "$surface" "$what" "$rc" "$mark" "$secs" \
    "$((kb / 1024))" "${first//|/\\|}"
}
# probe_stdin: same, with a file on standard input
probe_stdin() {
  local surface=$1 what=$2 expect=$3 input=$4
  shift 4
  /usr/bin/time -f '%e %M' -o time.txt timeout 300 bash -c 'ulimit -v 6000000; "$@"' _ "$@" \
    >out.txt 2>err.txt <"$input"
  local rc=$? secs kb first mark=""
  read -r secs kb < <(tail -1 time.txt) || { secs=?; kb=0; }
  first=$(grep -v '^\s*$' err.txt | grep -v '^Command exited' | head -1 | sed "s#$t/##g; s#$root/##g" | cut -c1-150)
  [[ "|$expect|" == *"|$rc|"* ]] || { mark=" **(expected $expect)**"; mismatches=$((mismatches + 1)); }
  printf '| %s | %s | %s%s | %s s | %s MB | %s |\n' "$surface" "$what" "$rc" "$mark" "$secs" \
    "$((kb / 1024))" "${first//|/\\|}"
}

# ---- fixtures ----
fx=$root/tests/data/clf_train.tsv
"$nl" train "$fx" -o clf.nrm --vocab 300 --embed 16 --hidden 16 --epochs 2 --batch 16 --threads 1 \
  --seed 7 --quiet >/dev/null 2>&1 || { echo "robustness-probe: cannot train the fixture model" >&2; exit 1; }
"$nl" tokenizer-train --input "$fx" --output tok.tok --vocab-size 400 >/dev/null 2>&1
size=$(stat -c %s clf.nrm)
head -c $((size / 2)) clf.nrm >trunc.nrm
cp clf.nrm flip.nrm
printf '\xff' | dd of=flip.nrm bs=1 seek=$((size / 3)) conv=notrunc status=none
head -c $(($(stat -c %s tok.tok) - 7)) tok.tok >trunc.tok
printf 'id\tdocument\tlabel\n' >header-only.tsv
: >empty.txt
printf '정말 최고\n괜찮은 영화\n나쁜 \xc3\x28 바이트\n' >bad-utf8.txt
printf '정말 최고\n\n괜찮은 영화\n' >empty-line.txt
printf 'id\tdocument\tlabel\n1\t좋다\t1\n2\t나쁘다\n3\t최고\t1\n' >missing-label.tsv
gzip -c "$fx" >full.tsv.gz
head -c $(($(stat -c %s full.tsv.gz) / 2)) full.tsv.gz >trunc.tsv.gz
printf 'nul\x00inside\n' >nul.txt
# a 100 MB document on one line, and a line of a million tokens
# (whole repetitions, so the file ends on a character boundary: 1,666,667 x 60 bytes = 100 MB)
yes '이 영화 정말 재미있어요 최고의 작품입니다 ' | head -n 1666667 | tr -d '\n' >big-line.txt
yes '좋다' | head -n 1000000 | tr '\n' ' ' >million-tokens.txt
yes '가나다라마바사아자차' | head -n 3333334 | tr -d '\n' >no-space.txt
printf 'value\n16\n8\n32\n9\n23\n11\n19\n' >seven.csv
printf 'Date,Temp\n1981-01-01,20.7\n1981-01-02,n/a\n1981-01-03,18.8\n' >missing.csv
printf 'Date,Temp\n1981-01-01,20.7\n1981-01-02,warm\n1981-01-03,18.8\n' >text-cell.csv

echo "| surface | input | exit | time | peak RSS | first line on stderr |"
echo "|---|---|---|---|---|---|"
# ---- text to classify ----
probe classify "empty line (--lines)" 3 "$nl" classify -m clf.nrm --lines empty-line.txt
probe classify "invalid UTF-8 on line 3" 3 "$nl" classify -m clf.nrm --lines bad-utf8.txt
probe classify "NUL byte inside a line" 3 "$nl" classify -m clf.nrm --lines nul.txt
probe classify "empty input (no document)" "0|3" "$nl" classify -m clf.nrm --lines empty.txt
probe classify "100 MB single-line document" 0 "$nl" classify -m clf.nrm big-line.txt
probe classify "one line of 1,000,000 tokens" 0 "$nl" classify -m clf.nrm --lines million-tokens.txt
probe_stdin classify "100 MB document on stdin" 0 big-line.txt "$nl" classify -m clf.nrm
probe tokenize "100 MB single line" 0 "$nl" tokenize --tokenizer tok.tok --ids -f big-line.txt
probe tokenize "100 MB line without whitespace" 0 "$nl" tokenize --tokenizer tok.tok --ids -f no-space.txt
probe tokenize "invalid UTF-8 on line 3" 3 "$nl" tokenize --tokenizer tok.tok -f bad-utf8.txt
probe tokenize "gzip cut in the middle" 3 "$nl" tokenize --tokenizer tok.tok -f trunc.tsv.gz
# ---- model and tokenizer files ----
probe "model file" "missing file" 4 "$nl" classify -m no-such.nrm --lines empty-line.txt
probe "model file" "truncated to half" 5 "$nl" classify -m trunc.nrm --lines empty-line.txt
probe "model file" "one byte flipped" 5 "$nl" classify -m flip.nrm --lines empty-line.txt
probe "model file" "a text file" 5 "$nl" classify -m "$fx" --lines empty-line.txt
probe "model file" "a tokenizer file" 5 "$nl" classify -m tok.tok --lines empty-line.txt
probe "model file" "truncated, given to info" 5 "$nl" info trunc.nrm
probe "tokenizer file" "truncated by 7 bytes" 5 "$nl" tokenize --tokenizer trunc.tok 'abc'
probe "tokenizer file" "a model file" 5 "$nl" tokenize --tokenizer clf.nrm 'abc'
# ---- corpora ----
probe train "empty file" 3 "$nl" train empty.txt -o m1.nrm --quiet
probe train "header only" 3 "$nl" train header-only.tsv -o m2.nrm --quiet
probe train "row without a label (line 3)" 3 "$nl" train missing-label.tsv -o m3.nrm --quiet
probe train "gzip cut in the middle" 3 "$nl" train trunc.tsv.gz -o m4.nrm --quiet --epochs 1
probe train "--batch 0" 2 "$nl" train "$fx" -o m5.nrm --batch 0 --quiet
probe train "--epochs -1" 2 "$nl" train "$fx" -o m6.nrm --epochs -1 --quiet
probe train "--hidden 1000000000" "2|6" "$nl" train "$fx" -o m7.nrm --hidden 1000000000 --quiet
probe train "--lr nan" 2 "$nl" train "$fx" -o m8.nrm --lr nan --quiet
probe tokenizer-train "vocabulary of 1,000,000 on 600 lines" "0|3" "$nl" tokenizer-train --input "$fx" --output big.tok --vocab-size 1000000
probe tokenizer-train "vocabulary of 1,000,000, --strict-vocab" 3 "$nl" tokenizer-train --input "$fx" --output strict.tok --vocab-size 1000000 --strict-vocab
probe tokenizer-train "gzip cut in the middle" 3 "$nl" tokenizer-train --input trunc.tsv.gz --output cut.tok
probe tokenizer-train "--vocab-size 3" 2 "$nl" tokenizer-train --input "$fx" --output small.tok --vocab-size 3
# ---- series ----
probe forecast "window 30 on a 7-row series" 3 "$nl" forecast train --csv seven.csv --column value -o f1.nrm --window 30 --quiet
probe forecast "missing value (n/a)" 3 "$nl" forecast train --csv missing.csv --column Temp -o f2.nrm --quiet
probe forecast "non-numeric cell" 3 "$nl" forecast train --csv text-cell.csv --column Temp -o f3.nrm --quiet
probe forecast "unknown column" 3 "$nl" forecast train --csv seven.csv --column Close -o f4.nrm --quiet
probe forecast "--window 0" 2 "$nl" forecast train --csv seven.csv --column value -o f5.nrm --window 0 --quiet
# ---- fill-in-the-blank ----
lm=ko
if ! "$nl" info ko-lm >/dev/null 2>&1 && ! "$nl" info ko >/dev/null 2>&1; then lm=""; fi
corpus=$root/../shared/corpora/nsmc/lm_valid.txt.gz
if [ -f "$corpus" ] && [ -f "$root/pretrained/ko.tok" ]; then
  "$nl" lm-train --tokenizer "$root/pretrained/ko.tok" --input "$corpus" --output lm.nrm --embed 16 \
    --hidden 16 --max-lines 500 --samples 64 --time-limit 10 --quiet >/dev/null 2>&1 && lm=lm.nrm
fi
if [ -n "$lm" ]; then
  probe fill "no blank" 3 "$nl" fill --model "$lm" "빈칸이 없는 문장"
  probe fill "two blanks" 3 "$nl" fill --model "$lm" "___ 영화 ___"
  probe fill "only a blank" 0 "$nl" fill --model "$lm" --top 3 "___"
  head -c 9960 big-line.txt >half.txt # 166 whole repetitions
  { cat half.txt; printf ' ___ '; cat half.txt; echo; } >fill-20k.txt
  probe fill "--input: a 20 KB sentence around the blank" 0 "$nl" fill --model "$lm" --input fill-20k.txt
  probe fill "a classifier as language model" 5 "$nl" fill --model clf.nrm "정말 ___"
fi
# ---- standard output, labels, byte order marks, formats, exit codes, default model ----
# row SURFACE INPUT EXPECTED_EXIT EXIT NOTE: a probe whose outcome is a comparison, not one run
row() {
  local mark=""
  [[ "|$3|" == *"|$4|"* ]] || { mark=" **(expected $3)**"; mismatches=$((mismatches + 1)); }
  printf '| %s | %s | %s%s | — | — | %s |\n' "$1" "$2" "$4" "$mark" "${5//|/\\|}"
}
yes '정말 재미있는 영화' | head -n 1000 >good.txt
printf '\xef\xbb\xbf정말 재미있는 영화\n지루한 영화\n' >bom.txt
tail -c +4 bom.txt >nobom.txt
printf 'text,label\n"good film",0\n"bad film","ne\tg"\n' >tab-label.csv
printf 'text,label\n"good film","po\ns"\n"bad film",neg\n' >lf-label.csv
tail -n +2 "$fx" | awk -F'\t' '{print "__label__" $3 " " $2}' >labelled-ft.txt
cut -f2 "$fx" >plain-lines.txt
printf 'value\n' >huge.csv
for i in $(seq 1 200); do echo "$((1 + i % 3))e38"; done >>huge.csv
"$nl" tokenizer-train --input "$fx" --output pat.tok --vocab-size 300 --pattern '[a-z]+|\S' >/dev/null 2>&1
python3 - <<'PY'
import zlib
b = bytearray(open("pat.tok", "rb").read())
i = b.find(b"[a-z]+|\\S")
assert i >= 0, "the pattern is not in pat.tok"
b[i + 4] = ord("(")  # "[a-z(+|\S": an unclosed class; size and CRC32 made right again
b[-4:] = zlib.crc32(bytes(b[:-4])).to_bytes(4, "little")
open("badpat.tok", "wb").write(bytes(b))
PY
probe "stdout" "classify --lines > /dev/full" 4 bash -c '"$@" >/dev/full' _ "$nl" classify -m clf.nrm --lines good.txt
probe "stdout" "classify --lines, stdout closed (>&-)" 4 bash -c '"$@" >&-' _ "$nl" classify -m clf.nrm --lines good.txt
probe "stdout" "classify, a 4 KB file size limit (ulimit -f 4, SIGXFSZ ignored)" 4 bash -c 'trap "" XFSZ; ulimit -f 4; "$@" >limited.out' _ "$nl" classify -m clf.nrm --lines good.txt
probe "stdout" "eval > /dev/full" 4 bash -c '"$@" >/dev/full' _ "$nl" eval -m clf.nrm "$fx"
probe "stdout" "info > /dev/full" 4 bash -c '"$@" >/dev/full' _ "$nl" info clf.nrm
probe "stdout" "tokenize, stdout closed (>&-)" 4 bash -c '"$@" >&-' _ "$nl" tokenize --tokenizer tok.tok -f good.txt
probe "stdout" "--help > /dev/full" 4 bash -c '"$@" >/dev/full' _ "$nl" --help
"$nl" classify -m clf.nrm --lines good.txt no-such.txt >two.out 2>err.txt
rc=$?
row classify "--lines good.txt (1000 lines) then a missing file" 4 "$rc" "$(wc -l <two.out) results printed; $(head -1 err.txt)"
"$nl" classify -m clf.nrm --lines bom.txt >a.out 2>/dev/null; rc=$?
"$nl" classify -m clf.nrm --lines nobom.txt >b.out 2>/dev/null
row classify "a file starting with a UTF-8 byte order mark" 0 "$rc" "$(cmp -s a.out b.out && echo "the same output as without the mark" || echo "differs from the output without the mark")"
"$nl" tokenize --tokenizer tok.tok -f bom.txt >a.out 2>/dev/null; rc=$?
"$nl" tokenize --tokenizer tok.tok -f nobom.txt >b.out 2>/dev/null
row tokenize "-f, a file starting with a UTF-8 byte order mark" 0 "$rc" "$(cmp -s a.out b.out && echo "the same output as without the mark" || echo "differs: $(head -1 a.out)")"
probe train "a quoted CSV label with a TAB (line 3)" 3 "$nl" train tab-label.csv -o tl.nrm --epochs 1 --quiet
probe train "a quoted CSV label with a line feed (line 2)" 3 "$nl" train lf-label.csv -o ll.nrm --epochs 1 --quiet
"$nl" eval -m clf.nrm labelled-ft.txt >ev.out 2>err.txt; rc=$?
row eval "fastText __label__ lines in a file named .txt" 0 "$rc" "$(grep -m1 '^documents' ev.out), $(grep -m1 '^accuracy' ev.out)"
probe eval "plain text lines (no labels)" 3 "$nl" eval -m clf.nrm plain-lines.txt
probe eval "a TSV with only a header" 3 "$nl" eval -m clf.nrm header-only.tsv
probe forecast "values of 1-3e38, --scaler none (the loss overflows)" 3 "$nl" forecast train --csv huge.csv --column value -o huge.nrm --scaler none --window 5 --epochs 2 --quiet
probe "tokenizer file" "a stored pattern that does not compile" 5 "$nl" tokenize --tokenizer badpat.tok 'abc'
mkdir ko
probe classify "no -m, a folder named ko in the current folder" 0 bash -c 'printf "정말 최고\n" | "$@"' _ "$nl" classify
rmdir ko
# ---- issue 13: loaders (non-finite weights, sizes, config keys, magic first), limits ----
# nrm.py edits model files (sections decompressed and written back stored, every CRC new)
cat >nrm.py <<'PY'
import struct, sys, zlib
def read(path):
    b = open(path, 'rb').read()
    kind, n = b[8:12], struct.unpack_from('<I', b, 16)[0]
    pos, secs = 40, []
    for _ in range(n):
        tag, fl = b[pos:pos + 4], struct.unpack_from('<I', b, pos + 4)[0]
        sl = struct.unpack_from('<Q', b, pos + 8)[0]
        d = b[pos + 40:pos + 40 + sl]
        secs.append([tag, (fl >> 8) & 255, bytearray(zlib.decompress(d) if fl & 255 == 1 else d)])
        pos += 40 + sl + (8 - sl % 8) % 8
    return kind, secs
def write(path, kind, secs):
    body = b''
    for tag, content, d in secs:
        c = zlib.crc32(bytes(d))
        h = tag + struct.pack('<IQQIII', content << 8, len(d), len(d), c, c, 0)
        body += h + struct.pack('<I', zlib.crc32(h)) + bytes(d) + b'\0' * ((8 - len(d) % 8) % 8)
    total = 40 + len(body) + 16
    hd = b'\x89NLPRNN\n' + kind + struct.pack('<IIIQI', 1, len(secs), 0, total, 0)
    open(path, 'wb').write(hd + struct.pack('<I', zlib.crc32(hd)) + body + b'NLPRNEND' + struct.pack('<Q', total))
def value_at(d, name):  # byte offset of the first value of float32 tensor `name`
    pos = 0
    while pos < len(d):
        n = struct.unpack_from('<H', d, pos)[0]
        nm, q = bytes(d[pos + 2:pos + 2 + n]).decode(), pos + 2 + n
        dt, nd = d[q], d[q + 1]
        shape = struct.unpack_from('<%dI' % nd, d, q + 2)
        q += 2 + 4 * nd
        cnt = 1
        for s in shape: cnt *= s
        if nm == name and dt == 0: return q
        q += 4 * cnt if dt == 0 else 2 * cnt if dt == 1 else 4 * (cnt // (shape[-1] if nd else 1)) + cnt
        pos = q
    sys.exit('no float32 tensor ' + name)
a = sys.argv
if a[1] == 'set':      # set IN OUT TAG TENSOR INDEX VALUE
    kind, secs = read(a[2])
    for s in secs:
        if s[0] == a[4].encode(): struct.pack_into('<f', s[2], value_at(s[2], a[5]) + 4 * int(a[6]), float(a[7]))
    write(a[3], kind, secs)
elif a[1] == 'conf':   # conf IN OUT KEY VALUE
    kind, secs = read(a[2])
    for s in secs:
        if s[0] == b'CONF':
            s[2] = bytearray(b''.join((a[4] + '=' + a[5] + '\n').encode() if l.startswith((a[4] + '=').encode()) else l + b'\n'
                                      for l in bytes(s[2]).split(b'\n')[:-1]))
    write(a[3], kind, secs)
elif a[1] == 'keys':   # keys OUT N: a classifier file whose CONF has N keys
    write(a[2], b'CLSF', [[b'CONF', 1, bytearray(b''.join(b'key%d=%d\n' % (i, i) for i in range(int(a[3]))))]])
PY
if command -v python3 >/dev/null; then
  probe "model file" "/dev/zero given as the model" 5 "$nl" classify -m /dev/zero --lines empty-line.txt
  probe "tokenizer file" "/dev/zero given as the tokenizer" 5 "$nl" tokenize --tokenizer /dev/zero abc
  { cat clf.nrm; printf '16 extra bytes..'; } >longer.nrm
  probe "model file" "16 bytes after its declared end" 5 "$nl" classify -m longer.nrm --lines empty-line.txt
  python3 nrm.py set clf.nrm clf-nan.nrm WGHT head.b 1 nan
  probe "model file" "NaN in a classifier weight" 5 "$nl" classify -m clf-nan.nrm --lines empty-line.txt
  python3 nrm.py conf clf.nrm clf-maxtok.nrm max_tokens 1048576
  probe "model file" "classifier config max_tokens=2^20" 5 "$nl" classify -m clf-maxtok.nrm --lines empty-line.txt
  python3 nrm.py conf clf.nrm clf-hidden.nrm hidden 4096
  probe "model file" "classifier config hidden=4096, weights of 16" 5 "$nl" classify -m clf-hidden.nrm --lines empty-line.txt
  python3 nrm.py keys keys.nrm 100000
  probe "model file" "100,000 config keys, given to info" 5 "$nl" info keys.nrm
  lmfile=$root/pretrained/ko-lm.nrm
  [ "$lm" = lm.nrm ] && lmfile=lm.nrm
  if [ -f "$lmfile" ]; then
    python3 nrm.py set "$lmfile" lm-nan.nrm WFWD out.bias 100 nan
    python3 nrm.py set "$lmfile" lm-huge.nrm WFWD out.bias 100 1e30
    probe "language model" "NaN in the output bias (next)" 5 "$nl" next --model lm-nan.nrm "정말"
    probe "language model" "NaN in the output bias (lm-eval)" 5 "$nl" lm-eval --model lm-nan.nrm bad-utf8.txt
    probe "language model" "an output bias of 1e30 (next)" 0 "$nl" next --model lm-huge.nrm "정말"
    probe "language model" "an output bias of 1e30 (lm-eval)" 3 "$nl" lm-eval --model lm-huge.nrm empty-line.txt
  fi
  printf 't,value\n' >big.csv
  for i in $(seq 0 199); do [ "$i" = 190 ] && echo "$i,1e308" || echo "$i,2$((i % 7)).5"; done >>big.csv
  probe forecast "a value of 1e308 in the series" 3 "$nl" forecast train --csv big.csv --column value -o f6.nrm --window 10 --epochs 2 --quiet
  head -151 big.csv >train150.csv
  sed 's/^190,1e308$/190,1e120/' big.csv >mid.csv
  "$nl" forecast train --csv train150.csv --column value -o f7.nrm --window 10 --epochs 2 --quiet >/dev/null 2>&1
  probe forecast "eval: 1e120 in the test part (scales beyond float)" 3 "$nl" forecast eval f7.nrm --csv mid.csv --part all
  python3 nrm.py set f7.nrm f7-nan.nrm WGHT params 3 nan
  probe forecast "NaN in a forecaster weight" 5 "$nl" forecast eval f7-nan.nrm --csv train150.csv
fi
python3 -c "import gzip; f = gzip.open('endless.txt.gz', 'wb', 1); f.write(b'ok\n' + b'0' * (20 << 20) + b'\n'); f.close()" 2>/dev/null &&
  probe tokenizer-train "one 20 MiB line (a 91 KB gzip)" 6 "$nl" tokenizer-train --input endless.txt.gz --output e.tok
{ printf 'id\tdocument\tlabel\n'; for i in $(seq 1 32); do printf '%d\t정말 ' "$i"; head -c 4194304 /dev/zero | tr '\0' ' '; printf ' 최고\t1\n'; done; } >rows.tsv
probe eval "32 rows of 4 MiB (128 MiB of text)" 0 "$nl" eval -m clf.nrm rows.tsv
rm -f rows.tsv
# ---- interrupted training ----
"$nl" train "$fx" -o int.nrm --epochs 50 --threads 1 --quiet >/dev/null 2>err.txt &
pid=$!
sleep 2
kill -INT "$pid"
wait "$pid"
rc=$?
ck=absent; [ -f int.nrm.ckpt ] && ck=present
printf '| train | SIGINT after 2 s | %s%s | — | — | checkpoint %s; %s |\n' "$rc" \
  "$([ "$rc" = 130 ] || echo " **(expected 130)**")" "$ck" "$(head -1 err.txt | cut -c1-100)"
[ "$rc" = 130 ] || mismatches=$((mismatches + 1))
echo
echo "robustness-probe: $mismatches probe(s) differ from the documented exit code"
[ "$mismatches" = 0 ]

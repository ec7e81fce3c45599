#!/usr/bin/env bash
# .ci/output-probe.sh [BUILD_DIR]
#
# Probes of what the nlprnn program (BUILD_DIR/nlprnn, default build/) writes, for issue 13:
# crafted checkpoints, --checkpoint / outputs equal to inputs, outputs that are not regular files,
# file names that are not UTF-8, an interrupted lm-train over a finished model, the umask, and
# CSV / SVG outputs on a full disk (RLIMIT_FSIZE, SIGXFSZ ignored). Prints a Markdown table row
# per probe: the surface, the input, the exit code, and what became of the file at stake
# ("unchanged" compares type, mode and content before and after) with the first line on stderr.
# docs/robustness.md reproduces the table. Every probe runs under `timeout 300`.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${1:-build}
nl="$root/$build/nlprnn"
[ -x "$nl" ] || { echo "output-probe: $nl not built" >&2; exit 2; }
t=$(mktemp -d "${TMPDIR:-/tmp}/nlprnn-oprobe.XXXXXX")
trap 'rm -rf "$t"' EXIT
export OPENBLAS_NUM_THREADS=1
cd "$t"
mismatches=0

state() { # type, mode and checksum of a path (not followed)
  if [ -L "$1" ] || [ -e "$1" ]; then
    printf '%s %s %s' "$(stat -c '%F %a' "$1")" "$( [ -f "$1" ] && [ ! -L "$1" ] && md5sum <"$1" | cut -c1-12)"
  else printf absent; fi
}

# probe SURFACE "INPUT" EXPECTED_EXIT FILE COMMAND...: FILE must be as it was (or "-": no file)
probe() {
  local surface=$1 what=$2 expect=$3 file=$4
  shift 4
  local before after note mark=""
  before=$(state "$file")
  timeout 300 "$@" >out.txt 2>err.txt </dev/null
  local rc=$?
  after=$(state "$file")
  if [ "$file" = - ]; then note=""
  elif [ "$before" = "$after" ]; then note="$file unchanged; "
  else note="$file CHANGED ($before -> $after); "; mark=" **(file changed)**"; mismatches=$((mismatches + 1)); fi
  [[ "|$expect|" == *"|$rc|"* ]] || { mark="$mark **(expected $expect)**"; mismatches=$((mismatches + 1)); }
  local first
  first=$(grep -v '^\s*$' err.txt | head -1 | sed "s#$t/##g; s#$root/##g" | cut -c1-160)
  printf '| %s | %s | %s%s | %s%s |\n' "$surface" "$what" "$rc" "$mark" "$note" "${first//|/\\|}"
}
# full-disk wrapper: files may not grow past 8 KiB; a write past it fails with EFBIG
limited=(bash -c 'trap "" XFSZ; ulimit -f 8; exec "$@"' _)

# ---- fixtures ----
fx=$root/tests/data/clf_train.tsv
cp "$fx" train.tsv
common=(--vocab 300 --embed 8 --hidden 8 --threads 1 --quiet)
"$nl" train train.tsv -o model.nrm "${common[@]}" --epochs 1 >/dev/null 2>&1 &&
  "$nl" tokenizer-train --input train.tsv --output tok.tok --vocab-size 300 >/dev/null 2>&1 ||
  { echo "output-probe: cannot make the fixtures" >&2; exit 1; }
cp model.nrm same.nrm
# a checkpoint: interrupted with --checkpoint-every 1 (a checkpoint after every batch)
"$nl" train train.tsv -o ck.nrm "${common[@]}" --epochs 50 --checkpoint-every 1 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do [ -f ck.nrm.ckpt ] && break; sleep 0.1; done
kill -INT "$pid"; wait "$pid"
cp ck.nrm.ckpt good.ckpt
cut -f2 train.tsv | tail -n +2 >lm.txt
for _ in 1 2 3 4 5 6 7 8; do cat lm.txt; done >lm-long.txt
"$nl" lm-train --tokenizer tok.tok --input lm.txt --output lm.nrm --embed 8 --hidden 8 --epochs 1 --quiet >/dev/null 2>&1
mkfifo fifo
ln -s /proc/self/fd/1 stdout-link
printf 'OLD\n' >keep.csv
cp keep.csv keep2.csv
cp keep.csv keep3.csv
cp keep.csv keep.svg
cp train.tsv $'bad\xffname.tsv'
cp tok.tok $'tok\xff.tok'
"$nl" forecast sine -o sine.csv --length 600 2>/dev/null
"$nl" forecast train --csv sine.csv --column value -o f.nrm --epochs 1 --hidden 4 --window 5 --quiet >/dev/null 2>&1

echo "| surface | input | exit | the file at stake; first line on stderr |"
echo "|---|---|---|---|"
# ---- 1: crafted checkpoints (.ci/ckpt-edit.py rewrites the CONF with valid CRCs) ----
resume=("$nl" train train.tsv -o ck.nrm "${common[@]}" --epochs 50 --checkpoint-every 1 --resume)
for edit in state.batch=-5 state.batch=1000000 state.epoch=-1000000 state.epoch=1000000 \
    state.optim_step=9223372036854775807 state.ep_count=-1 state.best_acc=nan; do
  python3 "$root/.ci/ckpt-edit.py" good.ckpt ck.nrm.ckpt "$edit"
  probe "train --resume" "checkpoint with $edit" 5 ck.nrm "${resume[@]}"
done
# ---- 2: --checkpoint that names an existing file ----
probe train "--checkpoint same.nrm -o same.nrm" 2 same.nrm "$nl" train train.tsv -o same.nrm --checkpoint same.nrm "${common[@]}"
probe train "--checkpoint TRAIN.tsv" 2 train.tsv "$nl" train train.tsv -o m2.nrm --checkpoint train.tsv "${common[@]}"
probe train "--checkpoint model.nrm (another model)" 2 model.nrm "$nl" train train.tsv -o m3.nrm --checkpoint model.nrm "${common[@]}"
# ---- 3: outputs that are not regular files ----
if mknod full c 1 7 2>/dev/null; then
  probe tokenizer-train "--output ./full (a copy of /dev/full)" 4 full "$nl" tokenizer-train --input train.tsv --output ./full --vocab-size 300
  mknod null c 1 3
  probe tokenizer-train "--output ./null (a copy of /dev/null)" 4 null "$nl" tokenizer-train --input train.tsv --output ./null --vocab-size 300
fi
probe tokenizer-train "--output: symlink to /proc/self/fd/1" 4 stdout-link "$nl" tokenizer-train --input train.tsv --output stdout-link --vocab-size 300
probe train "-o FIFO" 4 fifo "$nl" train train.tsv -o fifo "${common[@]}"
probe "forecast sine" "-o: symlink to /proc/self/fd/1" 4 stdout-link "$nl" forecast sine -o stdout-link
# ---- 5: an output that is an input ----
probe train "-o TRAIN.tsv" 2 train.tsv "$nl" train train.tsv -o train.tsv "${common[@]}"
ln train.tsv hard.tsv
probe train "-o: a hard link to TRAIN.tsv" 2 train.tsv "$nl" train train.tsv -o hard.tsv "${common[@]}"
probe tokenizer-train "--output = --input" 2 train.tsv "$nl" tokenizer-train --input train.tsv --output ./train.tsv --vocab-size 300
probe lm-train "--output = --tokenizer" 2 tok.tok "$nl" lm-train --tokenizer tok.tok --input lm.txt --output tok.tok --embed 8 --hidden 8
probe "forecast train" "-o = --csv" 2 sine.csv "$nl" forecast train --csv sine.csv --column value -o sine.csv --quiet
probe "forecast eval" "--out = --csv" 2 sine.csv "$nl" forecast eval f.nrm --csv sine.csv --out sine.csv
# ---- 6: file names that are not UTF-8 ----
probe train $'TRAIN = bad\\xffname.tsv' 0 - "$nl" train $'bad\xffname.tsv' -o u1.nrm "${common[@]}" --epochs 1
probe train $'--tokenizer tok\\xff.tok, 2 epochs' 0 - "$nl" train train.tsv -o u2.nrm --tokenizer $'tok\xff.tok' --embed 8 --hidden 8 --threads 1 --quiet --epochs 2
# ---- 7: Ctrl-C in lm-train over a finished model ----
"$nl" lm-train --tokenizer tok.tok --input lm-long.txt --output lm.nrm --embed 8 --hidden 8 --epochs 100 \
  --quiet >/dev/null 2>err.txt &
pid=$!
before=$(state lm.nrm)
sleep 2
kill -INT "$pid"
wait "$pid"
rc=$?
note="lm.nrm unchanged"; [ "$before" = "$(state lm.nrm)" ] || { note="lm.nrm CHANGED"; mismatches=$((mismatches + 1)); }
part=absent; [ -f lm.nrm.partial ] && part=present
printf '| lm-train | SIGINT after 2 s, lm.nrm a finished model | %s%s | %s, lm.nrm.partial %s; %s |\n' "$rc" \
  "$([ "$rc" = 130 ] || echo " **(expected 130)**")" "$note" "$part" "$(grep -v '^\s*$' err.txt | head -1 | cut -c1-160)"
[ "$rc" = 130 ] || mismatches=$((mismatches + 1))
# ---- 10: modes ----
(umask 077; "$nl" tokenizer-train --input train.tsv --output private.tok --vocab-size 300 >/dev/null 2>&1)
printf '| tokenizer-train | new file under umask 077 | %s | mode %s (expected 600) |\n' "$?" "$(stat -c %a private.tok)"
[ "$(stat -c %a private.tok)" = 600 ] || mismatches=$((mismatches + 1))
chmod 640 model.nrm
(umask 022; "$nl" train train.tsv -o model.nrm "${common[@]}" --epochs 1 >/dev/null 2>&1)
printf '| train | replacing a 0640 model under umask 022 | %s | mode %s (expected 640) |\n' "$?" "$(stat -c %a model.nrm)"
[ "$(stat -c %a model.nrm)" = 640 ] || mismatches=$((mismatches + 1))
# ---- 22: CSV and SVG outputs on a full disk (8 KiB file size limit) ----
probe "forecast sine" "-o, full disk" 4 keep.csv "${limited[@]}" "$nl" forecast sine -o keep.csv --length 100000
probe "forecast eval" "--out, full disk" 4 keep2.csv "${limited[@]}" "$nl" forecast eval f.nrm --csv sine.csv --part all --out keep2.csv
probe gradflow "--csv, full disk" 4 keep3.csv "${limited[@]}" "$nl" gradflow --length 3000 --hidden 4 --batch 1 --csv keep3.csv
probe gradflow "--plot (SVG), full disk" 4 keep.svg "${limited[@]}" "$nl" gradflow --length 300 --hidden 4 --batch 1 --plot keep.svg
left=$(find . -name '*.tmp.*' | wc -l)
printf '| (all) | temporary files left behind | — | %s |\n' "$left"
[ "$left" = 0 ] || mismatches=$((mismatches + 1))
echo
echo "output-probe: $mismatches probe(s) differ from the documented outcome"
[ "$mismatches" = 0 ]

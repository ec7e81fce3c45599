#!/bin/sh
# tests/test_cli_classify.sh: `nlprnn train/classify/eval/info` end to end through the program
# ($NLPRNN_CLI), on the project's fixture (data/clf_*.tsv). Run by test_cli_classify.c.
# Checks outputs, exit codes and messages; SIGINT during training (exit 130, checkpoint) and
# --resume giving the same weights as an uninterrupted run; soft targets (--soft-column).
set -u
cli=${NLPRNN_CLI:?NLPRNN_CLI not set}
data=${NLPRNN_TESTDATA:-data}
t=$(mktemp -d /tmp/nlprnn_cli_clf.XXXXXX)
trap 'rm -rf "$t"' EXIT
fails=0
checks=0
ok() { checks=$((checks + 1)); }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*" >&2; }
expect_rc() { # expected actual what
  if [ "$1" = "$2" ]; then ok; else bad "$3: exit $2, expected $1"; fi
}
expect_grep() { # pattern file what
  if grep -q -- "$1" "$2"; then ok; else bad "$3: '$1' not in $(head -c 300 "$2")"; fi
}

small="--vocab 300 --embed 16 --hidden 16 --epochs 6 --batch 16 --threads 1 --lr 0.01 --patience 0 --seed 7 --valid-split 0.1"
# shellcheck disable=SC2086
"$cli" train "$data/clf_train.tsv" -o "$t/fx.nrm" $small -q 2>"$t/err"
expect_rc 0 $? "train"
[ -f "$t/fx.nrm" ] && ok || bad "no model written"
[ ! -f "$t/fx.nrm.ckpt" ] && ok || bad "checkpoint left after a finished run"

# --ema (averaged weights): recorded in CONF only when used; out of [0, 1) refused (exit 2)
# shellcheck disable=SC2086
"$cli" train "$data/clf_train.tsv" -o "$t/ema.nrm" $small --ema 0.9 -q 2>"$t/err"
expect_rc 0 $? "train --ema 0.9"
"$cli" info "$t/ema.nrm" > "$t/out" 2>"$t/err"
expect_grep "train.ema = 0.9" "$t/out" "info: train.ema"
"$cli" info "$t/fx.nrm" > "$t/out" 2>"$t/err"
if grep -q "train.ema" "$t/out"; then bad "train.ema in a model trained without it"; else ok; fi
for v in 1 -0.1 nan; do
  "$cli" train "$data/clf_train.tsv" -o "$t/ema.nrm" --ema "$v" -q 2>"$t/err"
  expect_rc 2 $? "--ema $v"
  expect_grep "ema: '$v' is not valid (expected \[0, 1))" "$t/err" "--ema $v message"
done

# one document per file, in input order
printf '정말 최고 명작 강추 great\n' > "$t/pos.txt"
printf '최악 지루 돈아깝다 awful\n' > "$t/neg.txt"
"$cli" classify -m "$t/fx.nrm" "$t/pos.txt" "$t/neg.txt" "$t/pos.txt" > "$t/out" 2>"$t/err"
expect_rc 0 $? "classify files"
[ "$(cut -f1 "$t/out" | tr '\n' ' ')" = "1 0 1 " ] && ok || bad "labels: $(cat "$t/out")"
awk -F'\t' 'NF != 2 || $2 < 0.5 || $2 > 1 { exit 1 }' "$t/out" && ok || bad "tsv format: $(cat "$t/out")"

# --lines from stdin, json
printf '최고 명작\n노잼 실망 boring\n\xea\xb0\x90\xeb\x8f\x99 great loved\n' |
  "$cli" classify -m "$t/fx.nrm" --lines --format json > "$t/out" 2>"$t/err"
expect_rc 0 $? "classify --lines json"
[ "$(wc -l < "$t/out")" = 3 ] && ok || bad "3 json lines expected"
expect_grep '"probabilities":{"0":' "$t/out" "json"
[ "$(sed -n 2p "$t/out" | cut -c1-12)" = '{"label":"0"' ] && ok || bad "json line 2: $(sed -n 2p "$t/out")"
echo "최고 명작" | "$cli" classify -m "$t/fx.nrm" - > "$t/out" 2>"$t/err"
expect_rc 0 $? "classify stdin"

# errors: empty document, invalid UTF-8 (file, line, byte), --skip-bad keeps the order
: > "$t/empty.txt"
"$cli" classify -m "$t/fx.nrm" "$t/empty.txt" > "$t/out" 2>"$t/err"
expect_rc 3 $? "empty document"
expect_grep "empty.txt: empty document" "$t/err" "empty message"
printf '좋아\377요\n' > "$t/bad.txt"
"$cli" classify -m "$t/fx.nrm" "$t/bad.txt" > "$t/out" 2>"$t/err"
expect_rc 3 $? "invalid UTF-8"
expect_grep "bad.txt: line 1: byte 6: invalid UTF-8" "$t/err" "utf8 message"
# with --lines the place is FILE:LINE: byte B (from the line's start), the line named once
printf '최고\n좋아\377요\n' > "$t/bad2.txt"
"$cli" classify -m "$t/fx.nrm" --lines "$t/bad2.txt" > "$t/out" 2>"$t/err"
expect_rc 3 $? "invalid UTF-8, --lines"
expect_grep "bad2.txt:2: byte 6: invalid UTF-8 (NLPRNN_E_UTF8)" "$t/err" "utf8 message, --lines"
grep -q "line 2" "$t/err" && bad "the line is named twice: $(cat "$t/err")" || ok
# a NUL byte (valid UTF-8, refused by the tokenizer) is named with its byte like invalid UTF-8
printf '최고\n좋\000아\n' > "$t/nul.txt"
"$cli" classify -m "$t/fx.nrm" --lines "$t/nul.txt" > "$t/out" 2>"$t/err"
expect_rc 3 $? "NUL byte, --lines"
expect_grep "nul.txt:2: byte 3: a NUL byte (NLPRNN_E_UTF8)" "$t/err" "NUL message, --lines"
"$cli" classify -m "$t/fx.nrm" "$t/nul.txt" > "$t/out" 2>"$t/err"
expect_rc 3 $? "NUL byte, whole file"
expect_grep "nul.txt: line 2: byte 10: a NUL byte (NLPRNN_E_UTF8)" "$t/err" "NUL message, whole file"
printf '최고\n\n최악\n' | "$cli" classify -m "$t/fx.nrm" --lines --skip-bad > "$t/out" 2>"$t/err"
expect_rc 3 $? "--skip-bad exit"
[ "$(cut -f1 "$t/out" | tr '\n' ' ')" = "1 !error 0 " ] && ok || bad "--skip-bad output: $(cat "$t/out")"
expect_grep "<stdin>:2: empty document" "$t/err" "--skip-bad message"
printf '최고\n\n최악\n' | "$cli" classify -m "$t/fx.nrm" --lines > "$t/out" 2>"$t/err"
expect_rc 3 $? "stop at the bad line"
[ "$(wc -l < "$t/out")" = 1 ] && ok || bad "documents before the bad one are printed"

# arbitrarily long input: 24 MB in one document and in one line, memory stays bounded
yes '정말 최고 great' | head -c 24000000 > "$t/long.txt"
"$cli" classify -m "$t/fx.nrm" "$t/long.txt" > "$t/out" 2>"$t/err"
expect_rc 0 $? "long document"
expect_grep "cut to its first 1048576 bytes" "$t/err" "long document warning"
tr '\n' ' ' < "$t/long.txt" | "$cli" classify -m "$t/fx.nrm" --lines -q > "$t/out" 2>"$t/err"
expect_rc 0 $? "long line"
[ "$(cut -f1 "$t/out")" = 1 ] && ok || bad "long line label"

# usage errors
"$cli" classify --format xml "$t/pos.txt" > /dev/null 2>&1
expect_rc 2 $? "bad --format"
"$cli" classify -m "$t/fx.nrm" "$t/no-such-file" > /dev/null 2>"$t/err"
expect_rc 4 $? "missing input file"

# info and eval
"$cli" info "$t/fx.nrm" > "$t/out" 2>"$t/err"
expect_rc 0 $? "info"
expect_grep "CLSF" "$t/out" "info kind"
expect_grep "labels: 0 1" "$t/out" "info labels"
# a tokenizer file is not a model container: info describes it; a damaged one is refused (5), and
# a file that is neither says it is not a model file (5)
"$cli" info "$data/tokenizer/nsmc8k.tok" > "$t/out" 2>"$t/err"
expect_rc 0 $? "info tokenizer"
expect_grep "^kind:     tokenizer (NLPRNTOK, bpe)" "$t/out" "info tokenizer kind"
expect_grep "^vocab:    8000 pieces" "$t/out" "info tokenizer vocab"
expect_grep "^settings: model=bpe vocab=8000 " "$t/out" "info tokenizer settings"
"$cli" info "$data/tokenizer/damaged_no_pieces.tok" > "$t/out" 2>"$t/err"
expect_rc 5 $? "info damaged tokenizer"
expect_grep "damaged_no_pieces.tok: 0 pieces" "$t/err" "info damaged tokenizer message"
"$cli" info "$data/clf_test.tsv" > "$t/out" 2>"$t/err"
expect_rc 5 $? "info on a text file"
expect_grep "clf_test.tsv: not an nlprnn model file" "$t/err" "info on a text file message"
"$cli" eval -m "$t/fx.nrm" "$data/clf_test.tsv" > "$t/out" 2>"$t/err"
expect_rc 0 $? "eval"
expect_grep "accuracy: " "$t/out" "eval accuracy"
expect_grep "confusion" "$t/out" "eval confusion"
acc=$("$cli" eval -m "$t/fx.nrm" "$data/clf_test.tsv" --format tsv | awk -F'\t' '$1=="accuracy"{print $2}')
awk -v a="$acc" 'BEGIN { exit !(a >= 0.95) }' && ok || bad "fixture accuracy $acc < 0.95"

# label names: relabel keeps every probability, classify/eval/info use the names, the data's
# labels stay usable (--data-labels, evaluation files with 0/1), "" removes the names again
"$cli" relabel "$t/fx.nrm" --label-names 0=negative,1=positive -o "$t/fxr.nrm" 2>"$t/err"
expect_rc 0 $? "relabel"
"$cli" classify -m "$t/fx.nrm" -k 2 "$t/pos.txt" "$t/neg.txt" > "$t/o1"
"$cli" classify -m "$t/fxr.nrm" -k 2 --data-labels "$t/pos.txt" "$t/neg.txt" > "$t/o2"
cmp -s "$t/o1" "$t/o2" && ok || bad "relabelled model classifies differently: $(cat "$t/o1") vs $(cat "$t/o2")"
"$cli" classify -m "$t/fxr.nrm" -k 2 "$t/pos.txt" "$t/neg.txt" > "$t/out"
[ "$(cut -f1,3 "$t/out" | tr '\n\t' '  ')" = "positive negative negative positive " ] && ok ||
  bad "label names in classify -k 2: $(cat "$t/out")"
[ "$(cut -f2,4 "$t/out")" = "$(cut -f2,4 "$t/o1")" ] && ok || bad "-k 2 probabilities"
awk -F'\t' 'NF != 4 || $2 < $4 || $2 + $4 < 0.999 || $2 + $4 > 1.001 { exit 1 }' "$t/out" && ok ||
  bad "-k 2: two pairs, most probable first: $(cat "$t/out")"
"$cli" classify -m "$t/fxr.nrm" --format json "$t/neg.txt" > "$t/out"
expect_grep '^{"label":"negative","probability":0\.[0-9]*,"top":\[{"label":"negative","probability":0\.[0-9]*},{"label":"positive","probability":0\.[0-9]*}\],"probabilities":{"negative":0\.[0-9]*,"positive":0\.[0-9]*}}$' "$t/out" "json schema with names"
"$cli" classify -m "$t/fxr.nrm" --format json -k 1 --data-labels "$t/neg.txt" > "$t/out"
expect_grep '"top":\[{"label":"0","probability":[0-9.]*}\],"probabilities":{"0":' "$t/out" "json -k 1 --data-labels"
"$cli" info "$t/fxr.nrm" > "$t/out"
expect_grep "^label names: negative positive$" "$t/out" "info label names"
a1=$("$cli" eval -m "$t/fx.nrm" "$data/clf_test.tsv" --format tsv | grep -v '^model')
a2=$("$cli" eval -m "$t/fxr.nrm" "$data/clf_test.tsv" --format tsv | grep -v '^model' | sed 's/negative/0/g; s/positive/1/g')
[ -n "$a1" ] && [ "$a1" = "$a2" ] && ok || bad "eval of 0/1 data with the relabelled model differs"
sed '2,$ s/\t0$/\tnegative/; 2,$ s/\t1$/\tpositive/' "$data/clf_test.tsv" > "$t/named.tsv"
a3=$("$cli" eval -m "$t/fxr.nrm" "$t/named.tsv" --format tsv | grep -v '^model\|^file' | sed 's/negative/0/g; s/positive/1/g')
[ "$(echo "$a1" | grep -v '^file')" = "$a3" ] && ok || bad "eval of data labelled with the names differs"
"$cli" relabel "$t/fxr.nrm" --label-names "" -o "$t/fx2.nrm"
expect_rc 0 $? "relabel ''"
cmp -s "$t/fx.nrm" "$t/fx2.nrm" && ok || bad "removing the names does not give the original file back"
"$cli" relabel "$t/fx.nrm" --label-names 0=1 -o "$t/x.nrm" 2>"$t/err"
expect_rc 2 $? "relabel to another class's label"
expect_grep "\"1\" is label \"1\"'s data label, it cannot name label \"0\"" "$t/err" "relabel clash message"
"$cli" relabel "$t/fx.nrm" --label-names a,b,c -o "$t/x.nrm" 2>"$t/err"
expect_rc 2 $? "relabel: too many names"
expect_grep "more than 2 names for 2 classes" "$t/err" "relabel count message"
[ ! -f "$t/x.nrm" ] && ok || bad "a refused relabel wrote a file"
"$cli" classify -m "$t/fx.nrm" -k 0 "$t/pos.txt" > /dev/null 2>&1
expect_rc 2 $? "--top-k 0"
# train --label-names: the names are in the model from the start
# shellcheck disable=SC2086
"$cli" train "$data/clf_train.tsv" -o "$t/fxn.nrm" $small --label-names 1=good -q 2>"$t/err"
expect_rc 0 $? "train --label-names"
"$cli" classify -m "$t/fxn.nrm" "$t/pos.txt" "$t/neg.txt" > "$t/out"
[ "$(cut -f1 "$t/out" | tr '\n' ' ')" = "good 0 " ] && ok || bad "train --label-names: $(cat "$t/out")"
# shellcheck disable=SC2086
"$cli" train "$data/clf_train.tsv" -o "$t/x.nrm" $small --label-names 7=seven -q 2>"$t/err"
expect_rc 2 $? "train --label-names with an unknown label"
expect_grep 'no label "7"' "$t/err" "train --label-names message"

# damaged models are refused with exit 5 and a reason
size=$(wc -c < "$t/fx.nrm")
head -c $((size / 2)) "$t/fx.nrm" > "$t/trunc.nrm"
"$cli" classify -m "$t/trunc.nrm" "$t/pos.txt" > /dev/null 2>"$t/err"
expect_rc 5 $? "truncated model"
expect_grep "truncated" "$t/err" "truncated message"
"$cli" info "$t/trunc.nrm" > /dev/null 2>&1
expect_rc 5 $? "info truncated"
cp "$data/clf_test.tsv" "$t/notamodel.nrm"
"$cli" classify -m "$t/notamodel.nrm" "$t/pos.txt" > /dev/null 2>"$t/err"
expect_rc 5 $? "not a model"
expect_grep "not an nlprnn model file" "$t/err" "not-a-model message"

# SIGINT while training: checkpoint + exit 130; --resume == uninterrupted
for i in 1 2 3 4 5 6 7 8; do tail -n +2 "$data/clf_train.tsv"; done > "$t/body"
{ echo 'id	document	label'; cat "$t/body"; } > "$t/big.tsv"
args="--vocab 300 --embed 8 --hidden 8 --epochs 2 --batch 16 --threads 1 --seed 3 --patience 0 -q"
# shellcheck disable=SC2086
"$cli" train "$t/big.tsv" -o "$t/ref.nrm" $args
expect_rc 0 $? "reference run"
# shellcheck disable=SC2086
"$cli" train "$t/big.tsv" -o "$t/int.nrm" $args --checkpoint-every 5 &
pid=$!
n=0
while [ ! -f "$t/int.nrm.ckpt" ] && [ $n -lt 400 ]; do sleep 0.05; n=$((n + 1)); done
kill -INT $pid
wait $pid
expect_rc 130 $? "SIGINT exit code"
[ -f "$t/int.nrm.ckpt" ] && ok || bad "no checkpoint after SIGINT"
[ ! -f "$t/int.nrm" ] && ok || bad "model written although interrupted"
# shellcheck disable=SC2086
"$cli" train "$t/big.tsv" -o "$t/int.nrm" $args --resume
expect_rc 0 $? "resume"
w1=$("$cli" info "$t/ref.nrm" | grep "section WGHT")
w2=$("$cli" info "$t/int.nrm" | grep "section WGHT")
[ -n "$w1" ] && [ "$w1" = "$w2" ] && ok || bad "resumed weights differ: '$w1' vs '$w2'"
# shellcheck disable=SC2086
"$cli" train "$t/big.tsv" -o "$t/int.nrm" $args --resume --hidden 9 > /dev/null 2>"$t/err"
expect_rc 4 $? "resume without a checkpoint"

# scripts/valid-split.py reproduces the rows `train --valid-split F --seed S` holds out (used by
# scripts/train-ko-self.sh to reuse the shipped model's validation reviews): a model trained with
# the split, evaluated on the script's validation part, gives the accuracy the training recorded
# (f32 storage: the same weights), and its other part has the recorded number of training rows.
# A one-epoch model at a low rate, so that another split's accuracy differs (three splits).
if command -v python3 > /dev/null 2>&1; then
  for sf in "5 0.3" "6 0.2" "9 0.45"; do
    # shellcheck disable=SC2086
    set -- $sf
    "$cli" train "$data/clf_train.tsv" -o "$t/vs.nrm" --vocab 300 --embed 16 --hidden 16 --epochs 1 \
      --batch 16 --threads 1 --lr 0.003 --patience 0 --seed "$1" --valid-split "$2" --storage f32 -q
    expect_rc 0 $? "train for valid-split.py (seed $1, split $2)"
    python3 ../scripts/valid-split.py "$data/clf_train.tsv" "$2" "$1" "$t/vs_tr.tsv" "$t/vs_va.tsv"
    expect_rc 0 $? "valid-split.py"
    rec=$("$cli" info "$t/vs.nrm" | awk -F' = ' '$1 ~ /train.valid_accuracy$/ {print $2}')
    docs=$("$cli" info "$t/vs.nrm" | awk -F' = ' '$1 ~ /train.docs$/ {print $2}')
    got=$("$cli" eval -m "$t/vs.nrm" "$t/vs_va.tsv" --format tsv | awk -F'\t' '$1 == "accuracy" {print $2}')
    [ "$(wc -l < "$t/vs_tr.tsv")" -eq $((docs + 1)) ] &&
      [ "$(wc -l < "$t/vs_va.tsv")" -eq $((600 - docs + 1)) ] && ok ||
      bad "valid-split.py parts: $(wc -l < "$t/vs_va.tsv") and $(wc -l < "$t/vs_tr.tsv") lines, train.docs $docs"
    awk -v a="$rec" -v b="$got" 'BEGIN { d = a - b; exit !(a != "" && b != "" && d < 1e-6 && d > -1e-6) }' && ok ||
      bad "valid-split.py (seed $1, split $2): eval on its validation part $got, training recorded $rec"
  done
else
  echo "test_cli_classify: python3 not found, valid-split.py not checked"
fi

# distillation: --soft-column. One-hot soft targets of the labels at temperature 1 are the labels
# (the same loss and gradients): the model classifies every training text as the label-trained
# one does (f32, all probabilities). Soft targets of a model's probabilities on half the rows
# train and are recorded; malformed ones name the file, line and byte of the field.
head -n 301 "$data/clf_train.tsv" | awk -F'\t' 'BEGIN { OFS = "\t" }
  NR == 1 { print $0, "soft"; next } { print $0, ($3 == "0" ? "1 0" : "0,1") }' > "$t/oh.tsv"
sm="--vocab 300 --embed 16 --hidden 16 --epochs 2 --batch 16 --threads 1 --lr 0.01 --patience 0 --seed 3 --valid-split 0.1 --storage f32 -q"
# shellcheck disable=SC2086
"$cli" train "$t/oh.tsv" -o "$t/hard.nrm" $sm 2>"$t/err"
expect_rc 0 $? "train on the labels"
# shellcheck disable=SC2086
"$cli" train "$t/oh.tsv" -o "$t/oh.nrm" $sm --soft-column soft 2>"$t/err"
expect_rc 0 $? "train on one-hot soft targets"
cut -f2 "$t/oh.tsv" | tail -n +2 > "$t/oh.txt"
"$cli" classify -m "$t/hard.nrm" --lines --top-k 2 "$t/oh.txt" > "$t/hard.out" 2>"$t/err"
"$cli" classify -m "$t/oh.nrm" --lines --top-k 2 "$t/oh.txt" > "$t/oh.out" 2>"$t/err"
[ -s "$t/hard.out" ] && cmp -s "$t/hard.out" "$t/oh.out" && ok ||
  bad "one-hot soft targets differ from the labels: $(diff "$t/hard.out" "$t/oh.out" | head -4)"
"$cli" classify -m "$t/fx.nrm" --lines --top-k 2 --data-labels "$t/oh.txt" |
  awk -F'\t' '{ p1 = $1 == "1" ? $2 : $4; printf "%.4f %.4f\n", 1 - p1, p1 }' > "$t/p.txt"
head -n 301 "$data/clf_train.tsv" | tail -n +2 | paste - "$t/p.txt" |
  awk -F'\t' 'BEGIN { OFS = "\t"; print "id", "document", "label", "soft" } { print $1, $2, $3, NR % 2 ? $4 : "" }' > "$t/kd.tsv"
# shellcheck disable=SC2086
"$cli" train "$t/kd.tsv" -o "$t/kd.nrm" $sm --soft-column soft --temperature 2 > "$t/out" 2>&1
expect_rc 0 $? "train on a model's soft targets"
"$cli" info "$t/kd.nrm" > "$t/out" 2>&1
expect_grep "train.soft-column = soft" "$t/out" "info: soft column"
expect_grep "train.temperature = 2" "$t/out" "info: temperature"
for c in "0.2 0.3 0.5|3 soft targets, the data have 2 classes (one probability each, in this order: 0, 1)" \
  "0.2 0.7|the soft targets \"0.2 0.7\" sum to 0.9, not 1" "0.5,abc|byte 53: soft target \"abc\" is not a probability" \
  "1.5 -0.5|soft target \"1.5\" is not a probability"; do
  printf 'text\tlabel\tsoft\ngood movie\t1\t0.2 0.8\nbad movie\t0\t%s\n' "${c%%|*}" > "$t/e.tsv"
  "$cli" train "$t/e.tsv" -o "$t/e.nrm" --soft-column soft --vocab 300 --embed 8 --hidden 8 --epochs 1 --valid-split 0 -q 2>"$t/err"
  expect_rc 3 $? "bad soft target ${c%%|*}"
  expect_grep "e.tsv:3: byte" "$t/err" "bad soft target: file, line and byte"
  expect_grep "${c#*|}" "$t/err" "bad soft target ${c%%|*}"
done
"$cli" train "$t/kd.tsv" -o "$t/e.nrm" --soft-column prob --epochs 1 -q 2>"$t/err"
expect_rc 3 $? "missing soft column"
expect_grep 'no column "prob" in the header (columns: "id", "document", "label", "soft")' "$t/err" "missing soft column"

echo "test_cli_classify: $checks checks, $fails failed"
[ $fails -eq 0 ]

#!/usr/bin/env bash
# tests/test_recipe_lib.sh CLI REPO: scripts/recipe-lib.sh, the steps the classifier recipes
# (scripts/train-{ko,en,ko-self,ko-distill}.sh) share, on the shipped ko.nrm and the project's
# fixture tests/data/clf_test.tsv: recipe_eval sets the accuracy and macro F1 that `nlprnn eval`
# prints, acc_of prints the accuracy, a failed eval stops with a message naming the files,
# recipe_cmd writes the scratch folder as $TMP, recipe_head opens a record, recipe_tail ends one
# with the model's size.
set -u
nlprnn=${1:?usage: test_recipe_lib.sh CLI REPO}
repo=${2:?usage: test_recipe_lib.sh CLI REPO}
cd "$repo" || exit 1
tmp=$(mktemp -d /tmp/nlprnn_recipe_lib.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. scripts/recipe-lib.sh
fails=0
bad() { fails=$((fails + 1)); echo "FAIL: $*" >&2; }

model=pretrained/ko.nrm data=tests/data/clf_test.tsv
"$nlprnn" eval -m "$model" "$data" --format tsv -t 1 > "$tmp/direct.tsv" || bad "nlprnn eval failed"
want_acc=$(awk -F'\t' '$1=="accuracy"{print $2}' "$tmp/direct.tsv")
want_f1=$(awk -F'\t' '$1=="macro_f1"{print $2}' "$tmp/direct.tsv")
[ -n "$want_acc" ] && [ -n "$want_f1" ] || bad "nlprnn eval printed no accuracy/macro_f1"

acc= f1=
recipe_eval "$model" "$data" 1 || bad "recipe_eval failed"
[ "$acc" = "$want_acc" ] || bad "recipe_eval: acc '$acc', eval printed '$want_acc'"
[ "$f1" = "$want_f1" ] || bad "recipe_eval: f1 '$f1', eval printed '$want_f1'"
got=$(acc_of "$model" "$data") || bad "acc_of failed"
[ "$got" = "$want_acc" ] || bad "acc_of: '$got', eval printed '$want_acc'"

# a failed evaluation is an error with the files named, not an empty figure in a record
if recipe_eval "$model" "$tmp/no-such.tsv" 1 2> "$tmp/err"; then bad "recipe_eval of a missing file succeeded"; fi
if got=$(acc_of "$tmp/no-such.nrm" "$data" 2> "$tmp/err"); then bad "acc_of of a missing model succeeded: '$got'"; fi
printf 'label\ttext\n' > "$tmp/empty.tsv"   # eval of no rows: whatever eval says, never a silent ""
if recipe_eval "$model" "$tmp/empty.tsv" 1 2> "$tmp/err"; then
  [ -n "$acc" ] || bad "recipe_eval succeeded with an empty accuracy"
fi
acc=
fake=$tmp/fake-nlprnn
printf '#!/bin/sh\necho "macro_f1\t0.5"\n' > "$fake"; chmod +x "$fake"
(nlprnn=$fake; recipe_eval "$model" "$data" 1) 2> "$tmp/err" && bad "recipe_eval accepted an eval output without accuracy"
grep -q "nlprnn eval of $model on $data printed no accuracy" "$tmp/err" || bad "message: $(cat "$tmp/err")"

line=$(recipe_cmd train "$tmp/distill.tsv" -o "$tmp/a.nrm" --epochs 1)
[ "$line" = 'train $TMP/distill.tsv -o $TMP/a.nrm --epochs 1' ] || bad "recipe_cmd: '$line'"

recipe_head > "$tmp/head" || bad "recipe_head failed"
[ "$(head -n 1 "$tmp/head")" = '```' ] || bad "recipe_head does not open a block"
grep -Eq '^\$ scripts/test_recipe_lib\.sh   # 20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]Z$' "$tmp/head" ||
  bad "recipe_head command line: $(tail -n 1 "$tmp/head")"
recipe_tail "$model" > "$tmp/tail" || bad "recipe_tail failed"
size=$(stat -c %s "$model")
[ "$(tail -n 2 "$tmp/tail" | head -n 1)" = "model file: $model, $size bytes" ] || bad "recipe_tail size line: $(tail -n 2 "$tmp/tail")"
[ "$(tail -n 1 "$tmp/tail")" = '```' ] || bad "recipe_tail does not close the block"
grep -q '^openblas: ' "$tmp/tail" || bad "recipe_tail has no bench/env.sh lines: $(head -3 "$tmp/tail")"

[ "$fails" = 0 ] && echo "test_recipe_lib: all checks passed"
exit $((fails > 0))

# scripts/recipe-lib.sh — the steps the classifier recipes (train-ko.sh, train-en.sh,
# train-ko-self.sh, train-ko-distill.sh) share: evaluating a model once and writing the end of
# the record block they put into docs/classify.md (train-ko.sh, train-en.sh) or
# docs/experiments/classify.md (train-ko-self.sh, train-ko-distill.sh). Sourced (not run) after the
# recipe has set $nlprnn (the binary) and $tmp (its scratch folder); the working folder is the
# repository.

# recipe_eval MODEL FILE THREADS: `nlprnn eval` of MODEL on the labelled FILE; sets $acc and $f1.
# Fails (non-zero, a message naming both files) when eval prints no accuracy.
recipe_eval() {
  "$nlprnn" eval -m "$1" "$2" --format tsv -t "$3" > "$tmp/eval.tsv" || return
  acc=$(awk -F'\t' '$1=="accuracy"{print $2}' "$tmp/eval.tsv")
  f1=$(awk -F'\t' '$1=="macro_f1"{print $2}' "$tmp/eval.tsv")
  if [ -z "$acc" ] || [ -z "$f1" ]; then
    echo "${0##*/}: nlprnn eval of $1 on $2 printed no accuracy / macro F1" >&2
    return 1
  fi
}

# acc_of MODEL FILE: prints the accuracy of MODEL on FILE (one worker thread).
acc_of() {
  local acc f1
  recipe_eval "$1" "$2" 1 && echo "$acc"
}

# recipe_cmd WORD...: a command line as the record shows it, the scratch folder written $TMP.
recipe_cmd() {
  echo "$*" | sed "s#$tmp/#\$TMP/#g"
}

# recipe_head: the start of a record: the opening fence and the recipe's command with the time.
recipe_head() {
  echo '```'
  echo "\$ scripts/${0##*/}   # $(date -u +%Y-%m-%dT%H:%MZ)"
}

# recipe_tail MODEL: the end of a record: this machine (bench/env.sh), the model file's size and
# the closing fence of the block.
recipe_tail() {
  bench/env.sh
  echo "model file: $1, $(stat -c %s "$1") bytes"
  echo '```'
}

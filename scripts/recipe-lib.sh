# scripts/recipe-lib.sh — the steps the classifier recipes (train-ko.sh, train-en.sh, train-imdb.sh,
# train-ko-self.sh, train-ko-distill.sh) share: the piece vectors, evaluating a model once and writing the end of
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

# recipe_piece_vectors TOKENIZER TEXT NAME THREADS: 128-d CBOW vectors of TEXT's pieces (the
# TOKENIZER's) by Debian's fastText into $tmp/NAME.vec, the embedding the classifier recipes start
# from (--vectors). One thread gives the same vectors on every run; with 2 they depend on timing.
recipe_piece_vectors() {
  nice "$nlprnn" tokenize --tokenizer "$1" -f "$2" > "$tmp/$3.pieces.txt" || return
  nice fasttext cbow -input "$tmp/$3.pieces.txt" -output "$tmp/$3" -dim 128 -epoch 3 \
    -minCount 1 -minn 0 -maxn 0 -ws 5 -thread "$4" -verbose 0
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

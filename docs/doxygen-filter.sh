#!/bin/sh
# Doxygen INPUT_FILTER (docs/Doxyfile) for the public headers:
#  - prefix line 1 with a @file marker, so that Doxygen checks every member of every public
#    header, even one whose author wrote no @file block (line numbers in messages stay right);
#  - escape the tokenizer's special pieces (<pad> <unk> <bos> <eos> <mask> <0xNN>) that comments
#    quote literally, so that Doxygen does not read them as HTML tags.
case "$1" in
  *.h) printf '/** @file */ '
       sed -e 's/<\(pad\|unk\|bos\|eos\|mask\|s\|0x[0-9A-Fa-f]*\|0xNN\)>/\\<\1\\>/g' "$1" ;;
  *) cat "$1" ;;
esac

#!/usr/bin/env bash
# scripts/check-layers.sh: the include rule of docs/architecture.md.
#
# Every #include "folder/file.h" of a library, program or component source must name a folder
# its own folder may use. Lower layers never include higher ones, tasks never include each other,
# corpora/ reads data and knows no model or file format, and the program (cli/) and the public
# headers see only the public API. Library code (every folder but cli/) never prints or exits. A file directly in tasks/ (tasks/kinds.c, the one place that
# knows every kind of model file) may include every task. cli/ and examples/ never switch the
# deprecation warnings off. Exits 1 naming every file:line that breaks the rule.
set -euo pipefail
cd "$(dirname "$0")/.."

# folder -> the folders it may include (besides itself and the public nlprnn/ headers)
allowed() {
  case "$1" in
    include)   echo "" ;;                                    # public headers: nlprnn/ only
    common)    echo "" ;;
    tokenizer) echo "common corpora" ;;                      # its trainer reads text files
    embed)     echo "common" ;;
    corpora)   echo "common" ;;
    models)    echo "common embed" ;;
    format)    echo "common embed models" ;;
    train)     echo "common embed models format" ;;
    tasks)     echo "common tokenizer embed models format corpora train" ;;
    dist)      echo "train common" ;;
    cli)       echo "" ;;
    *)         echo "?" ;;
  esac
}

# The sources are listed with git (tracked and untracked, not ignored). Without git, or outside a
# checkout, the lists would be empty and every rule would pass unchecked: stop instead (a fresh
# Debian 12 minbase root had no git, and this script printed "ok" having read no file).
if ! command -v git >/dev/null || ! git rev-parse --git-dir >/dev/null 2>&1; then
  echo "check-layers: needs git and a git checkout (the sources are listed with git ls-files)" >&2
  exit 2
fi
layer_files=$(git ls-files -co --exclude-standard -- 'include/*.h' 'common/*' 'tokenizer/*' 'embed/*' \
                'corpora/*' 'models/*' 'format/*' 'train/*' 'tasks/*' 'dist/*' 'cli/*' | grep -E '\.(c|h)$')
lib_files=$(git ls-files -co --exclude-standard -- common tokenizer embed corpora models format train \
              tasks dist | grep -E '\.(c|h)$')
prog_files=$(git ls-files -co --exclude-standard -- cli examples | grep -E '\.(c|h)$')
if [ -z "$layer_files" ] || [ -z "$lib_files" ] || [ -z "$prog_files" ]; then
  echo "check-layers: git ls-files listed no sources" >&2; exit 2
fi

fail=0
while IFS= read -r f; do
  top=${f%%/*}
  ok=$(allowed "$top")
  [ "$ok" = "?" ] && continue
  own=$top
  reg=0                                                    # tasks/kinds.c: knows every task
  if [ "$top" = tasks ]; then
    case "$f" in tasks/*/*) own=$(echo "$f" | cut -d/ -f1-2) ;; *) reg=1 ;; esac
  fi
  while IFS=: read -r line inc; do
    dir=${inc%/*}
    [ "$dir" = "$inc" ] && continue                        # same-folder includes ("cli.h")
    case "$dir" in nlprnn) continue ;; esac                 # the public API: everyone
    case "$dir" in tasks/*) dir=$(echo "$dir" | cut -d/ -f1-2) ;; *) dir=${dir%%/*} ;; esac  # a folder's subfolders are the folder
    if [ "$top" = tasks ]; then
      [ "$dir" = "$own" ] && continue
      case "$dir" in tasks/*) [ "$reg" = 1 ] && continue ;; esac
      case "$dir" in tasks/*) echo "$f:$line: includes $inc: a task does not include another task" >&2; fail=1; continue ;; esac
    elif [ "$dir" = "$own" ]; then
      continue
    fi
    hit=0
    for a in $ok; do [ "$dir" = "$a" ] && hit=1; done
    if [ "$hit" = 0 ]; then
      echo "$f:$line: includes $inc: $top/ may include only ${ok:-its own folder}${ok:+ (and its own folder)}" >&2
      fail=1
    fi
  done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1:\2/')
done <<<"$layer_files"

# Library code (everything but cli/) never prints and never ends the process: errors go back as
# status codes with the error record (common/common.h, nr_fail). Writing a file the library opened
# (fprintf(fp, ...)) is not printing; naming stdout or stderr is.
while IFS= read -r hit; do
  echo "$hit: library code prints or exits (return an NLPRNN_E_* code with nr_fail instead)" >&2
  fail=1
done < <(printf '%s\n' "$lib_files" | xargs grep -nE '(^|[^>.[:alnum:]_])(printf|vprintf|puts|putchar|perror|exit|_Exit|abort)[[:space:]]*\(|(^|[^[:alnum:]_])(stdout|stderr)([^[:alnum:]_]|$)' |
         grep -vE '^[^:]*:[0-9]+:[[:space:]]*(/?\*|//)' || true)

# The program and the examples are compiled with -Werror=deprecated-declarations (CMakeLists.txt):
# a file there that defines a macro which silences NLPRNN_DEPRECATED (nlprnn/base.h) would hide a
# deprecated name from that check.
while IFS= read -r hit; do
  echo "$hit: silences the deprecation warnings (the program and the examples use only the current API)" >&2
  fail=1
done < <(printf '%s\n' "$prog_files" | xargs grep -nE 'NLPRNN_(BUILDING|NO_DEPRECATION_WARNINGS)' || true)

[ "$fail" = 0 ] && echo "check-layers: ok ($(wc -l <<<"$layer_files") sources, $(wc -l <<<"$lib_files") of them library code; $(wc -l <<<"$prog_files") of the program and examples)"
exit $fail

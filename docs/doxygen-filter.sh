#!/bin/sh
# Doxygen INPUT_FILTER (docs/Doxyfile): prefix line 1 of a header with a @file marker so that
# Doxygen checks every member of every public header, even one whose author wrote no @file.
case "$1" in
  *.h) printf '/** @file */ '; cat "$1" ;;
  *) cat "$1" ;;
esac

#!/usr/bin/env bash
# scripts/main-job.sh: the main job that scripts/setup.sh runs after building, on its own: the
# shipped default models on the chapter's examples. Each command is printed ("+ ...") before its
# output. Its output is the checked block of docs/getting-started.md ("The two commands"), so a
# change in what set-up prints fails scripts/check-doc-outputs.py.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/nlprnn ] || { echo "main-job: build/nlprnn not found (build first: scripts/setup.sh)" >&2; exit 2; }
job() { printf '+ %s\n' "$1"; eval "$1"; }

job 'build/nlprnn --version'
# The sentiment of a Korean review with the shipped model (pretrained/ko.nrm).
job 'build/nlprnn classify examples/review.txt'
# The chapter's fill-in-the-blank with the shipped language model (pretrained/ko-lm.nrm).
job 'build/nlprnn fill --top 3 "난 주말이면 영화를 보기 위해 우리 동네의 ___에 간다."'

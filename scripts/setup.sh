#!/usr/bin/env bash
# The README's first command: install what a fresh Debian 12 machine lacks, build, and run the
# main job with the shipped default model.
set -euo pipefail
cd "$(dirname "$0")/.."

need=(build-essential cmake pkg-config libutf8proc-dev libpcre2-dev zlib1g-dev libopenblas-dev libplplot-dev plplot-driver-cairo
      doxygen clang libclang-rt-14-dev python3 openmpi-bin libopenmpi-dev   # this line and the next: what scripts/test.sh uses (MPI: test_mpi_*)
      git man-db)   # check-layers.sh lists the sources with git ls-files, check-docs.sh checks the man page
                    # with man: a real fresh machine of this kind has both, a minbase root (check-fresh.sh) not
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"

# The main job: the shipped models on the chapter's examples (its output is checked by
# docs/getting-started.md's block).
scripts/main-job.sh

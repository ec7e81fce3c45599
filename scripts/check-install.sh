#!/usr/bin/env bash
# scripts/check-install.sh [BUILD_DIR]
#
# Install check: `cmake --install BUILD_DIR` (default build/) into a temporary prefix, check the
# installed tree (shared library with its soname, static library, headers, CLI, models, man page,
# pkg-config file, CMake package), then build examples/ against that tree twice — through
# pkg-config (examples/Makefile) and through find_package(nlprnn) (examples/CMakeLists.txt) —
# and run every example from both builds on fixed input, checking the output. Nothing from the
# source or build tree is on the include or library path of the examples.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=${1:-build}
[ -f "$build/CMakeCache.txt" ] || { echo "check-install: $build is not a configured build folder" >&2; exit 2; }
cmake --build "$build" -j2 >/dev/null
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nlprnn-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
shared=$(sed -n 's/^NLPRNN_SHARED_DIR:PATH=//p' "$build/CMakeCache.txt")
fail=0
bad() { echo "check-install: $*" >&2; fail=1; }

# ---- the installed tree ----
version=$(sed -n 's/^#define NLPRNN_VERSION_STRING "\(.*\)"/\1/p' include/nlprnn/base.h)
soversion=$(sed -n 's/^set(NLPRNN_SOVERSION \([0-9]*\)).*/\1/p' CMakeLists.txt)
libdir=$(dirname "$(find "$prefix" -name "libnlprnn.so.$version" | head -1)")
[ -f "$libdir/libnlprnn.so.$version" ] || bad "libnlprnn.so.$version not installed"
[ "$(readlink "$libdir/libnlprnn.so.$soversion")" = "libnlprnn.so.$version" ] || bad "soname link libnlprnn.so.$soversion missing"
[ "$(readlink "$libdir/libnlprnn.so")" = "libnlprnn.so.$soversion" ] || bad "development link libnlprnn.so missing"
[ -f "$libdir/libnlprnn.a" ] || bad "libnlprnn.a not installed"
for h in include/nlprnn.h include/nlprnn/*.h; do
  [ -f "$prefix/$h" ] || bad "header $h not installed"
done
[ -x "$prefix/bin/nlprnn" ] || bad "bin/nlprnn not installed"
[ -f "$prefix/share/man/man1/nlprnn.1" ] || bad "man page not installed"
for m in pretrained/*.nrm pretrained/*.tok; do
  [ -e "$m" ] || continue
  [ -f "$prefix/share/nlprnn/models/$(basename "$m")" ] || bad "model $m not installed"
done
[ -f "$libdir/pkgconfig/nlprnn.pc" ] || bad "nlprnn.pc not installed"
[ -f "$libdir/cmake/nlprnn/nlprnnConfig.cmake" ] || bad "CMake package not installed"
out=$("$prefix/bin/nlprnn" --version) || bad "installed nlprnn --version failed"
[ "$out" = "nlprnn $version" ] || bad "installed nlprnn --version says '$out', expected 'nlprnn $version'"

# The program loads PLplot and Open MPI only when a command needs them (cli/plugin.c): none of
# their libraries at start-up; --plot draws through LIBDIR/nlprnn/nlprnn-plot.so, and under mpirun
# the program loads LIBDIR/libnlprnn-mpi.so.N, both found relative to bin/ (no path compiled in).
heavy=$(ldd "$prefix/bin/nlprnn" | grep -Ei 'libmpi|open-rte|open-pal|hwloc|libevent|plplot' || true)
[ -z "$heavy" ] || bad "installed nlprnn loads at start-up what only --plot or mpirun need: $heavy"
# Nor the CBLAS: the library loads it when a product first needs it (common/blas.h).
blas=$(ldd "$prefix/bin/nlprnn" "$libdir/libnlprnn.so.$version" | grep -Ei 'blas|gfortran' || true)
[ -z "$blas" ] || bad "installed nlprnn or libnlprnn links the CBLAS (it is loaded on first use): $blas"
if [ -f "$build/nlprnn-plot.so" ]; then
  [ -f "$libdir/nlprnn/nlprnn-plot.so" ] || bad "the plot plugin is not installed in $libdir/nlprnn"
  if ! (cd "$tmp" && "$prefix/bin/nlprnn" gradflow --length 10 --hidden 4 --batch 2 --plot plot.svg >"$tmp/plot.log" 2>&1) ||
    [ ! -s "$tmp/plot.svg" ]; then
    bad "the installed nlprnn does not draw (gradflow --plot through nlprnn-plot.so): $(cat "$tmp/plot.log")"
  fi
fi
if [ -f "$libdir/libnlprnn-mpi.so.$soversion" ] && command -v mpirun >/dev/null; then
  # 2 ranks joined through the plugin: rank 0 names itself (and stops early: a job of several
  # ranks needs a shared tokenizer, exit 2 before any training)
  (cd "$tmp" && OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    OMPI_MCA_btl_vader_single_copy_mechanism=none timeout 300 mpirun --oversubscribe -np 2 \
    "$prefix/bin/nlprnn" train "$src/tests/data/clf_train.tsv" -o mpi.nrm >"$tmp/mpi.log" 2>&1) || true
  grep -q "train (rank 0 of 2): training on 2 MPI ranks needs a tokenizer" "$tmp/mpi.log" ||
    bad "the installed nlprnn does not join an mpirun -np 2 job (libnlprnn-mpi): $(head -5 "$tmp/mpi.log")"
fi

# No installed binary or package file names the source or build tree (models are found relative
# to where the library or program runs from, format/lookup.c). Only bin/ and lib/: the installed
# documents may quote any path (benchmark records name the folder they were run in).
baked=$(grep -rlF -e "$src" "$prefix/bin" "$prefix/lib" || true)
[ -z "$baked" ] || bad "installed files name the source tree $src: $baked"

# The Python module, installed with the library: imported from the prefix with no variable set, it
# loads the installed library, which finds the installed models.
if command -v python3 >/dev/null; then
  pydir=$prefix/lib/python3/dist-packages
  [ -f "$pydir/nlprnn/__init__.py" ] || bad "the Python module is not installed in $pydir"
  if out=$(cd "$tmp" && env -u NLPRNN_LIBRARY -u NLPRNN_MODEL_DIR PYTHONPATH="$pydir" python3 -c '
import nlprnn
print(nlprnn.library)
print(nlprnn.Classifier("ko").predict(["정말 재미있고 감동적인 영화"])[0][0])' 2>&1); then
    [ "$(echo "$out" | sed -n 1p)" -ef "$libdir/libnlprnn.so.$soversion" ] || bad "python: import nlprnn loaded '$(echo "$out" | sed -n 1p)', not the installed library"
    [ "$(echo "$out" | sed -n 2p)" = positive ] || bad "python: the installed module's classifier says '$(echo "$out" | sed -n 2p)', expected positive"
    echo "check-install: python ok (import nlprnn from the prefix: $(echo "$out" | sed -n 2p))"
  else
    bad "python: import nlprnn from the prefix failed: $out"
  fi
fi

export PKG_CONFIG_PATH=$libdir/pkgconfig
[ "$(pkg-config --modversion nlprnn)" = "$version" ] || bad "pkg-config --modversion is not $version"
[ "$(pkg-config --variable=libdir nlprnn)" -ef "$libdir" ] || bad "pkg-config libdir does not point into the prefix"
# Clean flags: an application's compile line gets the include folder and nothing else (no
# dependency's Cflags such as -DUTF8PROC_EXPORTS), and no .pc names a library by absolute path.
cflags=$(pkg-config --cflags nlprnn | sed 's/ *$//')
[ "$cflags" = "-I$(pkg-config --variable=includedir nlprnn)" ] || bad "pkg-config --cflags nlprnn is '$cflags', expected only the include folder"
for pc in "$libdir"/pkgconfig/nlprnn*.pc; do
  grep -Eq '(^|[ :])/[^ ]*\.so' "$pc" && bad "$(basename "$pc") names a library by absolute path: $(grep -E '/[^ ]*\.so' "$pc")"
done

# The lean core: the installed libnlprnn.so needs what inference needs and no MPI, hwloc,
# libevent or PLplot; data-parallel training is the optional component libnlprnn-mpi.
heavy=$(ldd "$libdir/libnlprnn.so.$version" | grep -Ei 'libmpi|open-rte|open-pal|hwloc|libevent|plplot' || true)
[ -z "$heavy" ] || bad "installed libnlprnn.so links what the core must not need: $heavy"
if [ -f "$libdir/libnlprnn-mpi.so.$version" ]; then
  [ -f "$libdir/pkgconfig/nlprnn-mpi.pc" ] || bad "nlprnn-mpi.pc not installed"
  cat >"$tmp/mpi.c" <<'C'
#include <nlprnn.h>
#include <nlprnn/dist.h>
int main(int argc, char **argv) {
    nlprnn_error err;
    nlprnn_comm *comm = NULL;
    if (nlprnn_dist_init(&argc, &argv, &err) || nlprnn_dist_comm_create(&comm, &err)) return 1;
    int ok = nlprnn_comm_size(comm) == 1 && nlprnn_comm_rank(comm) == 0 && nlprnn_dist_available();
    nlprnn_comm_free(comm);
    nlprnn_dist_finalize();
    return ok ? 0 : 1;
}
C
  cc -std=c11 -Wall -Werror $(pkg-config --cflags nlprnn-mpi) "$tmp/mpi.c" -o "$tmp/mpi" \
    $(pkg-config --libs nlprnn-mpi) -Wl,-rpath,"$libdir" && "$tmp/mpi" || bad "a program with libnlprnn-mpi (pkg-config nlprnn-mpi) failed"
fi

# The public header compiles alone, as C11 with pedantic warnings, and as C++ (extern "C").
printf '#include <nlprnn.h>\nint main(void) { return nlprnn_version_number() == NLPRNN_VERSION_NUMBER ? 0 : 1; }\n' >"$tmp/hdr.c"
cc -std=c11 -Wall -Wextra -pedantic -Werror $(pkg-config --cflags nlprnn) "$tmp/hdr.c" -o "$tmp/hdr" \
  $(pkg-config --libs nlprnn) -Wl,-rpath,"$libdir" && "$tmp/hdr" || bad "header-only program (C11, shared) failed"
cc -std=c11 $(pkg-config --cflags nlprnn) "$tmp/hdr.c" -o "$tmp/hdr-static" "$libdir/libnlprnn.a" \
  $(pkg-config --libs --static nlprnn | sed 's/-lnlprnn//') && "$tmp/hdr-static" || bad "static link through pkg-config --static failed"
if command -v c++ >/dev/null; then
  cp "$tmp/hdr.c" "$tmp/hdr.cpp"
  c++ -Wall -Wextra -Werror $(pkg-config --cflags nlprnn) "$tmp/hdr.cpp" -o "$tmp/hdrpp" \
    $(pkg-config --libs nlprnn) -Wl,-rpath,"$libdir" && "$tmp/hdrpp" || bad "header does not build as C++"
fi

# The static library through the CMake package (nlprnn::nlprnn_static pulls its dependencies).
mkdir -p "$tmp/static-cm"
cp "$tmp/hdr.c" "$tmp/static-cm/hdr.c"
cat >"$tmp/static-cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(static_check LANGUAGES C)
find_package(nlprnn REQUIRED)
if(NOT nlprnn_static_FOUND)
  message(FATAL_ERROR "nlprnn_static_FOUND is false")
endif()
add_executable(hdr hdr.c)
target_link_libraries(hdr PRIVATE nlprnn::nlprnn_static)
CM
if cmake -S "$tmp/static-cm" -B "$tmp/static-cm/b" -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/static-cm.log" 2>&1 &&
   cmake --build "$tmp/static-cm/b" >>"$tmp/static-cm.log" 2>&1 && "$tmp/static-cm/b/hdr"; then
  ldd "$tmp/static-cm/b/hdr" | grep -q libnlprnn && bad "nlprnn::nlprnn_static links the shared library"
else
  cat "$tmp/static-cm.log" >&2; bad "nlprnn::nlprnn_static does not build or run"
fi

# ---- the examples, both ways ----
shopt -s nullglob
examples=(examples/*.c)
if [ ${#examples[@]} -gt 0 ]; then
  mkdir -p "$tmp/pc"
  make -s -C examples OUT="$tmp/pc" CFLAGS="-O2 -Werror" >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log" >&2; bad "examples do not build through pkg-config"; }
  cmake -S examples -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS=-Werror >"$tmp/cmake.log" 2>&1 &&
    cmake --build "$tmp/cm" -j2 >>"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log" >&2; bad "examples do not build through find_package(nlprnn)"; }
  for way in pc cm; do
    for e in "${examples[@]}"; do
      name=$(basename "$e" .c)
      exe=$tmp/$way/$name
      [ -x "$exe" ] || { bad "$way: $name not built"; continue; }
      resolved=$(ldd "$exe" | awk '/libnlprnn\.so/ {print $3}')
      [ "$resolved" -ef "$libdir/libnlprnn.so.$soversion" ] || bad "$way/$name loads libnlprnn from '$resolved', not the install"
      # an application of the core loads no MPI, hwloc, libevent or PLplot
      heavy=$(ldd "$exe" | grep -Ei 'libmpi|open-rte|open-pal|hwloc|libevent|plplot' || true)
      [ -z "$heavy" ] || bad "$way/$name loads what the core must not need: $heavy"
      if ! NLPRNN_MODEL_DIR=$prefix/share/nlprnn/models NLPRNN_SHARED=$shared NLPRNN_CLI=$prefix/bin/nlprnn \
           bash examples/run-example.sh "$name" "$exe" >"$tmp/$way-$name.out" 2>&1; then
        bad "$way/$name: wrong result:"; sed 's/^/    /' "$tmp/$way-$name.out" >&2
      else
        echo "check-install: $way/$name ok: $(tail -1 "$tmp/$way-$name.out")"
      fi
    done
  done
fi
# ---- the build tree, uninstalled: its nlprnn.pc (PKG_CONFIG_PATH=BUILD) and CMake package
# (-Dnlprnn_DIR=BUILD) name the build tree's libraries, the source tree's headers and models ----
if [ ${#examples[@]} -gt 0 ]; then
  bdir=$(cd "$build" && pwd)
  mkdir -p "$tmp/bpc"
  PKG_CONFIG_PATH=$bdir make -s -C examples OUT="$tmp/bpc" CFLAGS="-O2 -Werror" >"$tmp/bmake.log" 2>&1 ||
    { cat "$tmp/bmake.log" >&2; bad "examples do not build through the build tree's nlprnn.pc"; }
  cflags=$(PKG_CONFIG_PATH=$bdir pkg-config --cflags nlprnn | sed 's/ *$//')
  [ "$cflags" = "-I$src/include" ] || bad "the build tree's nlprnn.pc gives Cflags '$cflags', expected -I$src/include"
  cmake -S examples -B "$tmp/bcm" -Dnlprnn_DIR="$bdir" -DCMAKE_C_FLAGS=-Werror >"$tmp/bcmake.log" 2>&1 &&
    cmake --build "$tmp/bcm" -j2 >>"$tmp/bcmake.log" 2>&1 ||
    { cat "$tmp/bcmake.log" >&2; bad "examples do not build with -Dnlprnn_DIR=$build"; }
  grep -q "models in $src/pretrained" "$tmp/bcmake.log" || bad "the build tree's CMake package does not set nlprnn_MODEL_DIR to $src/pretrained"
  for way in bpc bcm; do
    for e in "${examples[@]}"; do
      name=$(basename "$e" .c)
      exe=$tmp/$way/$name
      [ -x "$exe" ] || { bad "$way: $name not built"; continue; }
      resolved=$(ldd "$exe" | awk '/libnlprnn\.so/ {print $3}')
      [ "$resolved" -ef "$bdir/libnlprnn.so.$soversion" ] || bad "$way/$name loads libnlprnn from '$resolved', not the build tree"
      if ! NLPRNN_MODEL_DIR=$src/pretrained NLPRNN_SHARED=$shared NLPRNN_CLI=$bdir/nlprnn \
           bash examples/run-example.sh "$name" "$exe" >"$tmp/$way-$name.out" 2>&1; then
        bad "$way/$name: wrong result:"; sed 's/^/    /' "$tmp/$way-$name.out" >&2
      else
        echo "check-install: $way/$name ok (build tree)"
      fi
    done
  done
fi
[ "$fail" = 0 ] && echo "check-install: ok (prefix layout, pkg-config, CMake package, ${#examples[@]} examples x 2 builds, installed and from the build tree)"
exit $fail

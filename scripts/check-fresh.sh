#!/usr/bin/env bash
# The README's set-up promise, checked on a really fresh Debian 12 root (run by hand, as root; it
# needs Debian's package registry and 30+ minutes, so neither CI nor scripts/test.sh calls it):
#   1. debootstrap --variant=minbase bookworm ROOT, from the host's Debian mirror, with the host's
#      apt settings (proxy, Check-Valid-Until) and /etc/resolv.conf;
#   2. a clean clone of this repository's committed HEAD at ROOT/root/w/nlprnn, ../shared bound
#      read-only at ROOT/root/w/shared (the corpora are not copied), proc/sys/dev/dev/pts bound;
#   3. in the chroot, as root: cd /root/w/nlprnn && CI=true bash .ci/run (= scripts/setup.sh, then
#      scripts/test.sh), at nice 10 (NLPRNN_FRESH_NICE), output to LOG.
# The mounts live in a private mount namespace (unshare) when one can be made, so the host never
# sees them, and are unmounted on exit in any case (trap), even on failure.
# minbase lacks what a real fresh machine of this kind has (gcc, make, cmake, git, ...): setup.sh
# must install what the suite needs itself. The one exception is NLPRNN_FRESH_PREINSTALL (default
# empty): packages installed in the chroot before the run, for something only a real machine has.
# Usage: scripts/check-fresh.sh ROOT [LOG]     (ROOT must not exist or be empty; LOG: ROOT.log)
#   NLPRNN_FRESH_MIRROR   Debian mirror (default: the host's, from /etc/apt/sources.list.d/debian.sources)
#   NLPRNN_FRESH_REV      commit to check (default HEAD)
#   NLPRNN_FRESH_SHARED   the shared folder (default ../shared from the repository)
# shellcheck disable=SC2317   # inner() runs in a new bash (declare -f); main() always exits
set -euo pipefail

# The mount-and-run part, run by main in a new bash (in a private mount namespace when unshare
# can make one): proc, sys, dev, dev/pts, a tmpfs /dev/shm and the shared folder read-only, then
# .ci/run in the chroot; every mount is undone on exit (trap), whatever the exit.
inner() {
  local root=$1 log=$2 shared=$3 t0 rc
  mounted=()
  # shellcheck disable=SC2317   # called by the EXIT trap
  cleanup() {
    local i m
    for (( i=${#mounted[@]}-1; i>=0; i-- )); do
      m=${mounted[$i]}
      mountpoint -q "$m" || continue
      umount "$m" 2>/dev/null || umount -l "$m" || echo "check-fresh: could not unmount $m" >&2
    done
  }
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  mnt() { mount "$@"; mounted+=("${!#}"); }
  mnt -t proc proc "$root/proc"
  mnt --bind /sys "$root/sys"
  mnt --bind /dev "$root/dev"
  mnt --bind /dev/pts "$root/dev/pts"
  mnt -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"     # Open MPI's shared memory
  mkdir -p "$root/root/w/shared"
  mnt --bind "$shared" "$root/root/w/shared"
  mount -o remount,bind,ro "$root/root/w/shared"
  if touch "$root/root/w/shared/.check-fresh-rw" 2>/dev/null; then
    rm -f "$root/root/w/shared/.check-fresh-rw"
    echo "check-fresh: $shared is writable in the chroot; stopping" >&2; exit 2
  fi
  t0=$(date +%s)
  set +e
  nice -n "${NLPRNN_FRESH_NICE:-10}" chroot "$root" /bin/bash -c \
    'cd /root/w/nlprnn && CI=true bash .ci/run' >>"$log" 2>&1
  rc=$?
  set -e
  { echo "check-fresh: .ci/run took $(( $(date +%s) - t0 )) s; bench/env.sh in the chroot:"
    chroot "$root" /bin/bash -c 'cd /root/w/nlprnn && bash bench/env.sh' 2>&1 || true; } >>"$log"
  exit "$rc"
}

main() {
  if [ $# -lt 1 ] || [ $# -gt 2 ]; then sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; fi
  [ "$(id -u)" -eq 0 ] || { echo "check-fresh: run it as root (debootstrap, mount, chroot)" >&2; exit 2; }
  repo=$(cd "$(dirname "$0")/.." && pwd)
  root=$(realpath -m "$1")
  log=$(realpath -m "${2:-$root.log}")
  shared=$(realpath "${NLPRNN_FRESH_SHARED:-$repo/../shared}")
  rev=$(git -C "$repo" rev-parse "${NLPRNN_FRESH_REV:-HEAD}")
  case "$root" in /|/tmp|/work|"$repo"*) echo "check-fresh: refusing ROOT=$root" >&2; exit 2;; esac
  if [ -e "$root" ] && [ -n "$(ls -A "$root")" ]; then
    echo "check-fresh: $root exists and is not empty (a fresh root is wanted)" >&2; exit 2
  fi
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap

  mirror=${NLPRNN_FRESH_MIRROR:-}
  if [ -z "$mirror" ] && [ -f /etc/apt/sources.list.d/debian.sources ]; then
    mirror=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
    mirror=$(awk '$1 == "deb" && $2 !~ /security/ && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list)
  fi
  mirror=${mirror:-http://deb.debian.org/debian}

  t0=$(date +%s)
  : >"$log"
  say() { echo "check-fresh: $*" | tee -a "$log"; }
  say "$(date -u +%FT%TZ) root $root, mirror $mirror, commit $rev, log $log"
  mkdir -p "$root"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >>"$log" 2>&1
  # the host's apt sources (bookworm-updates, security) and settings, as a fresh machine here has them
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
    rm -f "$root/etc/apt/sources.list"
  fi
  for f in /etc/apt/apt.conf /etc/apt/apt.conf.d/*; do
    [ -f "$f" ] && grep -qiE 'proxy|Check-Valid-Until|Check-Date' "$f" && cp "$f" "$root$f"
  done
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  if [ -n "${NLPRNN_FRESH_PREINSTALL:-}" ]; then
    say "pre-installing in the chroot: $NLPRNN_FRESH_PREINSTALL"
    # shellcheck disable=SC2086   # a list of package names
    chroot "$root" /bin/sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $NLPRNN_FRESH_PREINSTALL" >>"$log" 2>&1
  fi
  mkdir -p "$root/root/w"
  git clone -q --no-checkout "$repo" "$root/root/w/nlprnn"
  git -C "$root/root/w/nlprnn" checkout -q -B main "$rev"
  say "$(date -u +%FT%TZ) root ready after $(( $(date +%s) - t0 )) s; running CI=true bash .ci/run"

  set +e
  # the inner part from this process's copy of the functions (not from the file, which may have
  # changed since this run started)
  local run_inner=(bash -c "set -euo pipefail; $(declare -f inner); inner \"\$@\"" check-fresh)
  if unshare --mount --propagation private true 2>/dev/null; then
    unshare --mount --propagation private "${run_inner[@]}" "$root" "$log" "$shared"
  else
    "${run_inner[@]}" "$root" "$log" "$shared"
  fi
  rc=$?
  set -e
  if mount | grep -qF " $root/"; then say "WARNING: mounts left under $root:"; mount | grep -F " $root/" | tee -a "$log"; fi
  say "$(date -u +%FT%TZ) .ci/run exit code $rc after $(( $(date +%s) - t0 )) s in all; log: $log"
  exit "$rc"
}

# The whole file is read before anything runs (bash reads a script as it goes: an edit of this file
# during a 20-minute run would otherwise change what the rest of the run does).
{
  main "$@"
  exit
}

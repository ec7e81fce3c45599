# bench/peers.sh — sourced by the bench scripts that run a peer program (PyTorch, fastText,
# SentencePiece, hyperfine): each says what it needs, then one apt-get call installs what is
# missing (sudo when not root; never anything the build needs). The scripts print the versions
# into their own environment records with torch_version and deb_version.
#   need_cmd CMD [PACKAGE]  CMD is not on PATH: PACKAGE (default: CMD) is to be installed
#   need_torch              sets py to /usr/bin/python3, the python3 Debian's python3-torch is
#                           for (a python3 earlier on PATH, e.g. pyenv's, may have no torch or
#                           another one than the figures name); python3-torch is to be installed
#                           when py cannot import torch
#   need_install WHO        installs what is to be installed, saying so on stderr as WHO
#   torch_version           the torch version py imports (empty when it imports none)
#   deb_version PACKAGE     the installed Debian package's version (fails when there is none)
# shellcheck shell=bash

peers_missing=()
py=/usr/bin/python3

need_cmd() {
  command -v "$1" > /dev/null || peers_missing+=("${2:-$1}")
}

need_torch() {
  py=/usr/bin/python3
  "$py" -c 'import torch' 2> /dev/null || peers_missing+=(python3-torch)
}

need_install() {
  [ ${#peers_missing[@]} -gt 0 ] || return 0
  local sudo=
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "$1: installing the peers: ${peers_missing[*]}" >&2
  $sudo apt-get install -y -qq "${peers_missing[@]}" >&2
  peers_missing=()
}

torch_version() {
  "$py" -c 'import torch; print(torch.__version__)' 2> /dev/null
}

deb_version() {
  dpkg-query -W -f='${Version}' "$1" 2> /dev/null
}

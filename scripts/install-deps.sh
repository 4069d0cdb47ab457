#!/usr/bin/env bash
# Installs the Debian packages nemo.c needs (README lists why each one). With --check, only
# reports what is missing and fails, so `make test` never installs behind your back.
set -euo pipefail
PKGS=(build-essential libjansson-dev libedit-dev libmicrohttpd-dev python3 python3-pip python3-venv clang-format valgrind clang-14 libclang-rt-14-dev)
missing=()
for p in "${PKGS[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "${1:-}" = "--check" ] && [ "${CI:-}" != "true" ]; then
    echo "missing Debian packages: ${missing[*]} (run: make deps)" >&2
    exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing: ${missing[*]}" >&2
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"

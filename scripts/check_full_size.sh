#!/usr/bin/env bash
# Slow optional check (not in CI): writes the full 40-layer Mistral NeMo 12B shape with
# `nemo synth` (24.5 GB of bf16, needs that much free disk) and checks that `nemo info` reports
# 12,247,782,400 parameters and 24,495,564,800 weight bytes (spec 1.2).
# usage: scripts/check_full_size.sh DIR [--layout native|hf] [--shards N] [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { sed -n 2,5p "$0"; exit 2; }
DIR=$1; shift
LAYOUT=native SHARDS=1 KEEP=0
while [ $# -gt 0 ]; do
    case $1 in
    --layout) LAYOUT=$2; shift 2 ;;
    --shards) SHARDS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
NEMO=build/release/nemo
[ -x "$NEMO" ] || make
avail=$(df -B1 --output=avail "$(dirname "$(realpath -m "$DIR")")" | tail -1)
[ "$avail" -gt 24600000000 ] || { echo "need 24.6 GB free next to $DIR, have $avail bytes" >&2; exit 1; }
extra=()
[ "$LAYOUT" = hf ] && extra=(--shards "$SHARDS")
start=$(date +%s)
"$NEMO" synth "$DIR" --preset nemo-12b --layout "$LAYOUT" "${extra[@]}"
echo "synth: $(($(date +%s) - start)) s"
info=$("$NEMO" info "$DIR")
echo "$info"
rc=0
grep -Eq "^parameters +12,247,782,400$" <<<"$info" || { echo "FAIL: parameter count" >&2; rc=1; }
grep -Eq "24495564800 bytes" <<<"$info" || { echo "FAIL: weight bytes" >&2; rc=1; }
du -sb "$DIR"
[ "$KEEP" = 1 ] || rm -rf "$DIR"
[ $rc = 0 ] && echo "ok: full-size NeMo 12B shape, 12,247,782,400 parameters"
exit $rc

#!/usr/bin/env bash
# tokenizer_diff.sh — a seeded 2000-string slice of the randomized differential test
# (scripts/tok_diff.py) of nemo.c's Tekken encoder against mistral-common. The full run is
# `python scripts/tok_diff.py --n 100000 --seed S`. Uses the release binary for speed.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${NEMO_RELEASE_BIN:-build/release/nemo}
[ -x "$BIN" ] || { echo "tokenizer_diff: $BIN not built (make MODE=release)" >&2; exit 1; }
PY=$(bash scripts/ci_venv.sh)
TEK=${NEMO_TEKKEN:-$(python3 scripts/fixture.py tekken_240718.json)}
"$PY" scripts/tok_diff.py --n 2000 --seed 20240718 --bin "$BIN" --tekken "$TEK"

#!/usr/bin/env bash
# fuzz.sh — runs every fuzz target (tests/fuzz/fuzz_*.c: safetensors, GGUF, tekken.json and
# SentencePiece loaders and encoders, the server's request parser and tool-call scanner) for a
# bounded time under ASan/UBSan; fails on any crash or failed check. Longer runs: scripts/fuzz.sh SECONDS.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/fuzz.sh "${NEMO_FUZZ_SECONDS:-10}"

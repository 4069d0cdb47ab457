#!/usr/bin/env bash
# gguf_tekken.sh — a NeMo GGUF vocabulary and the same model's tekken.json give identical ids:
# converts tekken_240718.json to a vocabulary-only GGUF the way llama.cpp's converter writes
# Mistral NeMo (scripts/gguf_vocab_make.py: gpt2 model, pre "tekken", CONTROL specials, merges
# rebuilt from the ranks; 8 MB, so made here and cached rather than committed), then encodes the
# tokenizer golden texts, their invalid UTF-8 cases and 1000 seeded random strings with both
# (scripts/gguf_tok_diff.py --ref tekken). Uses the release binary for speed.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${NEMO_RELEASE_BIN:-build/release/nemo}
[ -x "$BIN" ] || { echo "gguf_tekken: $BIN not built (make MODE=release)" >&2; exit 1; }
PY=$(bash scripts/ci_venv.sh)
TEK=${NEMO_TEKKEN:-$(python3 scripts/fixture.py tekken_240718.json)}
CACHE=${NEMO_CACHE:-.cache}/gguf_vocab
key=$(cat scripts/gguf_vocab_make.py "$TEK" | sha256sum | cut -c1-16)
GG=$CACHE/tekken_240718-$key.gguf
if [ ! -f "$GG" ]; then
    mkdir -p "$CACHE"
    "$PY" scripts/gguf_vocab_make.py tekken "$TEK" "$GG"
fi
"$PY" scripts/gguf_tok_diff.py --ref tekken --gguf "$GG" --tekken "$TEK" --bin "$BIN" \
    --n 1000 --seed 20240718 --golden tests/golden/tokenizer/tekken_240718.json
# the GGUF says what the tekken file implies
"$BIN" tokenize --tokenizer "$GG" --bos <<<"" | grep -qx "1 1010" ||
    { echo "gguf_tekken: BOS + newline should be '1 1010'" >&2; exit 1; }

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
# decoding: the golden ids of every case, specials kept, give the same text with both
ids=$("$PY" -c 'import json,sys; g=json.load(open(sys.argv[1])); print(" ".join(str(i) for c in g["cases"] for i in [1]+c["ids"]+[3]))' tests/golden/tokenizer/tekken_240718.json)
a=$("$BIN" detokenize --tokenizer "$TEK" --special keep <<<"$ids" | sha256sum)
b=$("$BIN" detokenize --tokenizer "$GG" --special keep <<<"$ids" | sha256sum)
[ "$a" = "$b" ] || { echo "gguf_tekken: decoding differs between tekken.json and the GGUF" >&2; exit 1; }
echo "gguf_tekken: $(wc -w <<<"$ids") ids decode identically"
# chat: the GGUF has [INST], so the Mistral format; golden requests give mistral-common's ids
T=${NEMO_TEST_TMP:-/tmp}/gguf_tekken
mkdir -p "$T"
n=0
for g in tests/golden/chat/*_{single_user,system_several_users,tool_call_roundtrip,parallel_calls,full_example}.json; do
    "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); open(sys.argv[2],"w").write(d["request"]); print(" ".join(map(str,d["ids"])))' \
        "$g" "$T/req.json" >"$T/want"
    got=$("$BIN" encode-chat --tokenizer "$GG" <"$T/req.json")
    [ "$got" = "$(cat "$T/want")" ] || { echo "gguf_tekken: $g: chat ids differ" >&2; exit 1; }
    n=$((n + 1))
done
echo "gguf_tekken: $n chat requests give mistral-common's ids"

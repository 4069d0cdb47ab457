#!/usr/bin/env bash
# tokenizer_cli.sh — `nemo tokenize` / `nemo detokenize` on NeMo's tekken_240718.json: known
# ids (spec 3.8), --bos/--eos, special policies, a model folder, invalid UTF-8, errors.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${NEMO_BIN:-build/asan/nemo}
TEK=${NEMO_TEKKEN:-$(python3 scripts/fixture.py tekken_240718.json)}
fail() { echo "tokenizer_cli: $*" >&2; exit 1; }
[ -f "$TEK" ] || fail "no tekken file (NEMO_TEKKEN='$TEK')"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

got=$(printf 'Hello, world!' | "$BIN" tokenize --tokenizer "$TEK" --bos --eos)
[ "$got" = "1 22177 1044 4304 1033 2" ] || fail "tokenize: got '$got'"

# a model folder holding tekken.json; text spelling control tokens stays text
mkdir "$tmp/model" && ln -s "$(realpath "$TEK")" "$tmp/model/tekken.json"
got=$(printf '[INST]' | "$BIN" tokenize --tokenizer "$tmp/model")
case " $got " in *" 3 "*) fail "text '[INST]' became control id 3: $got" ;; esac
[ -n "$got" ] || fail "no ids for '[INST]'"

got=$(echo "1 3 22177 1033 4 2" | "$BIN" detokenize --tokenizer "$TEK" --special keep)
[ "$got" = "<s>[INST]Hello![/INST]</s>" ] || fail "detokenize keep: got '$got'"
got=$(echo "1,3,22177,1033,4,2" | "$BIN" detokenize --tokenizer "$TEK")
[ "$got" = "Hello!" ] || fail "detokenize skip: got '$got'"
if echo "3 22177" | "$BIN" detokenize --tokenizer "$TEK" --special error 2>"$tmp/err"; then
    fail "detokenize --special error accepted a control id"
fi
grep -q "special" "$tmp/err" || fail "no clear error for special id: $(cat "$tmp/err")"

# invalid UTF-8 is encoded as U+FFFD and comes back as U+FFFD
got=$(printf 'a\xffb' | "$BIN" tokenize --tokenizer "$TEK" | "$BIN" detokenize --tokenizer "$TEK")
[ "$got" = "a�b" ] || fail "invalid UTF-8 round trip: got '$got'"

if printf 'x' | "$BIN" tokenize --tokenizer "$tmp/none.json" 2>"$tmp/err"; then
    fail "missing file accepted"
fi
grep -q "none.json" "$tmp/err" || fail "error does not name the file: $(cat "$tmp/err")"
# a GGUF vocabulary (SmolLM2: gpt2 BPE, pre smollm): llama.cpp's ids, lossless round trip,
# ChatML prompt; an unknown pre-tokenizer is a clear error
SMOL=${NEMO_SMOLLM2:-$(python3 scripts/fixture.py SmolLM2-135M-Instruct.Q4_1.gguf)}
got=$(printf "Hello world! It's 2024" | "$BIN" tokenize --tokenizer "$SMOL")
[ "$got" = "19556 905 17 657 506 216 34 32 34 36" ] || fail "SmolLM2 GGUF ids: got '$got'"
got=$(printf 'caf\xc3\xa9 \xf0\x9f\x98\x80 a  b' | "$BIN" tokenize --tokenizer "$SMOL" |
    "$BIN" detokenize --tokenizer "$SMOL")
[ "$got" = "café 😀 a  b" ] || fail "SmolLM2 GGUF round trip: got '$got'"
got=$(echo '{"messages": [{"role": "user", "content": "Hi"}]}' |
    "$BIN" encode-chat --tokenizer "$SMOL" --text)
[ "$got" = "$(printf '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant')" ] ||
    fail "SmolLM2 ChatML prompt: got '$got'"

"$BIN" tokenize --help | grep -q -- "--bos" || fail "tokenize --help"
"$BIN" detokenize --help | grep -q -- "--special" || fail "detokenize --help"
echo "tokenizer_cli: ok"

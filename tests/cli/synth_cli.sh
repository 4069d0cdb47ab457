#!/usr/bin/env bash
# `nemo synth` front end: presets and overrides reach the files, same seed same bytes, layouts
# and shard files, --force semantics, refusing a non-empty folder, argument errors, --help.
set -uo pipefail
NEMO=${NEMO_BIN:-build/asan/nemo}
T=${NEMO_TEST_TMP:-/tmp}/synth_cli
rm -rf "$T" && mkdir -p "$T"
fail() { echo "  FAIL: $*"; exit 1; }
small=(--preset nemo-tiny --layers 1 --vocab 64 --quiet)
$NEMO synth "$T/a" "${small[@]}" --seed 5 >/dev/null || fail "synth a"
$NEMO synth "$T/b" "${small[@]}" --seed 5 >/dev/null || fail "synth b"
$NEMO synth "$T/c" "${small[@]}" --seed 6 >/dev/null || fail "synth c"
cmp -s "$T/a/consolidated.safetensors" "$T/b/consolidated.safetensors" || fail "same seed, different bytes"
cmp -s "$T/a/consolidated.safetensors" "$T/c/consolidated.safetensors" && fail "different seed, same bytes"
grep -q '"dim": 256' "$T/a/params.json" || fail "preset dim not in params.json"
grep -q '"vocab_size": 64' "$T/a/params.json" || fail "--vocab not in params.json"
grep -q '"n_layers": 1' "$T/a/params.json" || fail "--layers not in params.json"
# 7B v0.1 style: window in params.json, theta 1e4 left out as in the real file
$NEMO synth "$T/v01" --preset mistral-7b-v0.1 --layers 1 --dim 64 --heads 4 --kv-heads 2 \
    --head-dim 16 --hidden 96 --vocab 50 --dtype f32 --quiet >/dev/null || fail "synth v0.1"
grep -q '"sliding_window": 4096' "$T/v01/params.json" || fail "v0.1 window"
grep -q rope_theta "$T/v01/params.json" && fail "v0.1 params.json has rope_theta"
grep -q '"dtype":"F32"' "$T/v01/consolidated.safetensors" || fail "--dtype f32"
# hf layout, sharded
$NEMO synth "$T/h" "${small[@]}" --layout hf --shards 2 --dtype f16 >/dev/null || fail "synth hf"
for f in config.json model.safetensors.index.json model-00001-of-00002.safetensors \
    model-00002-of-00002.safetensors; do
    [ -f "$T/h/$f" ] || fail "hf folder lacks $f"
done
grep -q '"torch_dtype": "float16"' "$T/h/config.json" || fail "torch_dtype"
# a non-empty folder is refused; --force replaces the model files of either layout
out=$($NEMO synth "$T/h" "${small[@]}" 2>&1) && fail "overwrote a non-empty folder"
grep -q -- "--force" <<<"$out" || fail "refusal message: $out"
echo keep >"$T/h/notes.txt"
$NEMO synth "$T/h" "${small[@]}" --force >/dev/null || fail "--force"
[ -f "$T/h/consolidated.safetensors" ] && [ -f "$T/h/params.json" ] || fail "--force: native files"
[ -e "$T/h/config.json" ] || [ -e "$T/h/model-00001-of-00002.safetensors" ] && fail "--force left hf files"
[ -f "$T/h/notes.txt" ] || fail "--force removed an unrelated file"
# argument errors: exit 2 with a message naming the problem
for bad in "--layout gguf" "--dtype q4_0" "--preset nemo-huge" "--heads 0" "--seed -1" "--bogus"; do
    out=$($NEMO synth "$T/x" $bad 2>&1)
    [ $? = 2 ] || fail "'$bad' not rejected with exit 2"
    [ -n "$out" ] || fail "'$bad' rejected silently"
done
out=$($NEMO synth "$T/x" "${small[@]}" --head-dim 33 2>&1) && fail "odd head_dim accepted"
grep -q head_dim <<<"$out" || fail "odd head_dim message: $out"
out=$($NEMO synth "$T/x" "${small[@]}" --kv-heads 3 2>&1) && fail "kv-heads 3 of 8 accepted"
$NEMO synth --help | grep -q -- "--shards" || fail "--help"
$NEMO --help | grep -q synth || fail "nemo --help lacks synth"
rm -rf "$T"
echo "  ok"

#!/usr/bin/env bash
# `nemo quantize`, `nemo divergence`, `nemo bench` front ends on a tiny synthetic model: files
# are written and load back, the vocabulary is embedded, FP8 folders (both namings) and FP8
# GGUFs run, the reports have their fields, argument errors exit 2 with a message.
set -uo pipefail
NEMO=${NEMO_BIN:-build/asan/nemo}
T=${NEMO_TEST_TMP:-/tmp}/quantize_cli
rm -rf "$T" && mkdir -p "$T"
fail() { echo "  FAIL: $*"; exit 1; }
small=(--preset nemo-tiny --layers 1 --vocab 1536 --quiet)
$NEMO synth "$T/m" "${small[@]}" --seed 3 >/dev/null || fail "synth"
$NEMO synth "$T/f8n" "${small[@]}" --seed 3 --dtype f8_e4m3 >/dev/null || fail "synth fp8 native"
$NEMO synth "$T/f8h" "${small[@]}" --seed 3 --dtype f8_e4m3 --layout hf >/dev/null || fail "synth fp8 hf"
grep -q '"qformat_weight": "fp8_e4m3"' "$T/f8n/params.json" || fail "native FP8 marker"
grep -q '"quant_method": "fp8"' "$T/f8h/config.json" || fail "hf FP8 marker"
grep -q 'qscale_weight' "$T/f8n/consolidated.safetensors" || fail "native scale names"
grep -q 'weight_scale' "$T/f8h/model.safetensors" || fail "hf scale names"
$NEMO info "$T/f8n" >/dev/null || fail "info of the FP8 folder"
# the two namings/layouts of one seed are the same model (equal up to f32 summation order)
nh=$($NEMO divergence "$T/f8n" "$T/f8h" --ids 1,20,300,7,1200 2>/dev/null) || fail "divergence f8n f8h"
echo "$nh" | grep -q 'mean KL(base||quant): 0.000000' || fail "FP8 native vs hf: $nh"

out=$($NEMO quantize "$T/m" "$T/q8.gguf" --type q8_0 --vocab "$NEMO_TEKKEN" 2>&1) || fail "quantize q8_0: $out"
echo "$out" | grep -q 'Q8_0' || fail "quantize summary: $out"
$NEMO info "$T/q8.gguf" | grep -q 'Q8_0' || fail "info of q8_0 gguf"
grep -q tokenizer.ggml.merges "$T/q8.gguf" && grep -q tekken "$T/q8.gguf" || fail "no vocabulary in the GGUF"
# the full vocabulary embedded in a GGUF tokenizes like tekken.json itself
$NEMO synth "$T/v" --dim 64 --heads 2 --kv-heads 1 --head-dim 32 --hidden 128 --layers 1 \
    --quiet >/dev/null || fail "synth full-vocab model"
$NEMO quantize "$T/v" "$T/v.gguf" --type q8_0 --vocab "$NEMO_TEKKEN" >/dev/null || fail "quantize v"
txt='Hello world,  tabs	and 你好 🙂 [INST] 3.14159'
a=$(printf '%s' "$txt" | $NEMO tokenize --tokenizer "$T/v.gguf") || fail "tokenize with the GGUF"
b=$(printf '%s' "$txt" | $NEMO tokenize --tokenizer "$NEMO_TEKKEN") || fail "tokenize with tekken"
[ -n "$a" ] && [ "$a" = "$b" ] || fail "GGUF vocabulary ids '$a' != tekken ids '$b'"
$NEMO quantize "$T/f8h" "$T/f8.gguf" --type fp8 --no-vocab >/dev/null || fail "quantize fp8"
$NEMO logits "$T/f8.gguf" --ids 1,20,300 >/dev/null || fail "FP8 GGUF does not run"

d=$($NEMO divergence "$T/m" "$T/q8.gguf" --random 24 -c 12 2>/dev/null) || fail "divergence"
echo "$d" | grep -q '^mean KL(base||quant): ' || fail "divergence output: $d"
echo "$d" | grep -q '^top-1 agreement: ' || fail "divergence output: $d"
same=$($NEMO divergence "$T/m" "$T/m" --ids 1,5,9,200,7 2>/dev/null) || fail "divergence self"
echo "$same" | grep -q 'mean KL(base||quant): 0.000000' || fail "self divergence not 0: $same"
echo "$same" | grep -q '100.00%' || fail "self agreement not 100%"
# one file against itself in two activation modes: exact vs exact is 0, exact vs q8 is not
ee=$($NEMO divergence "$T/q8.gguf" "$T/q8.gguf" --random 24 -c 12 --base-matmul exact \
    --quant-matmul exact 2>/dev/null) || fail "divergence exact/exact"
echo "$ee" | grep -q 'mean KL(base||quant): 0.000000' || fail "exact vs exact not 0: $ee"
eq=$($NEMO divergence "$T/q8.gguf" "$T/q8.gguf" --random 24 -c 12 --base-matmul exact \
    --quant-matmul q8 2>/dev/null) || fail "divergence exact/q8"
echo "$eq" | grep -q '^quant: .*activations q8$' || fail "mode not printed: $eq"
echo "$eq" | grep -q 'mean KL(base||quant): 0.000000' && fail "exact vs q8 activations gave KL 0: $eq"
$NEMO divergence "$T/m" "$T/m" --quant-matmul f32 2>/dev/null; [ $? = 2 ] || fail "bad mode exit"

b=$($NEMO bench "$T/q8.gguf" -p 8 -n 2 -r 1 -t 1 --csv) || fail "bench"
[ "$(echo "$b" | wc -l)" = 3 ] || fail "bench csv rows: $b"
echo "$b" | grep -q '^q8.gguf,.*,1,pp8,8,' || fail "bench pp row: $b"
echo "$b" | grep -q '^q8.gguf,.*,1,tg2,2,' || fail "bench tg row: $b"

$NEMO quantize "$T/m" "$T/x.gguf" --type q3_k 2>/dev/null; [ $? = 2 ] || fail "bad type exit"
$NEMO quantize "$T/m" 2>/dev/null; [ $? = 2 ] || fail "missing args exit"
$NEMO bench "$T/q8.gguf" -t 0 2>/dev/null; [ $? = 2 ] || fail "bad -t exit"
msg=$($NEMO quantize "$T/nope" "$T/x.gguf" --type q8_0 2>&1); [ $? = 1 ] || fail "missing model exit"
echo "$msg" | grep -q 'nope' || fail "missing model message: $msg"
echo "  ok"

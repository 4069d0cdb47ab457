#!/usr/bin/env bash
# CLI contract of issue 2 on a synthetic model: info, logits (raw f32, vocab values), generate,
# native vs HF layouts giving the same ids, clear errors with non-zero exit codes, and one
# valgrind-clean run of the release binary.
set -uo pipefail
NEMO=${NEMO_BIN:-build/asan/nemo}
REL=${NEMO_RELEASE_BIN:-build/release/nemo}
T=${NEMO_TEST_TMP:-/tmp}/model_cli
rm -rf "$T" && mkdir -p "$T"
fail() { echo "  FAIL: $*"; exit 1; }
$NEMO synth "$T/n" --preset nemo-tiny --quiet || fail "synth native"
$NEMO synth "$T/h" --preset nemo-tiny --layout hf --shards 3 --quiet || fail "synth hf"
$NEMO info "$T/n" | grep -q "parameters *1,967,360" || fail "info parameter count"
$NEMO logits "$T/n" --ids 1,22,33,44 --out "$T/l.bin" || fail "logits"
[ "$(stat -c %s "$T/l.bin")" = 4096 ] || fail "logits file is not 1024 f32 values"
a=$($NEMO generate "$T/n" --ids 1,22,33,44 -n 12) || fail "generate native"
b=$($NEMO generate "$T/h" --ids 1,22,33,44 -n 12) || fail "generate hf"
[ "$(wc -w <<<"$a")" = 12 ] || fail "generate printed '$a'"
[ "$a" = "$b" ] || fail "native '$a' != hf '$b'"
# errors: exit 1 and a message naming the problem
out=$($NEMO logits "$T/nope" --ids 1 2>&1) && fail "missing model accepted"
grep -q "nope" <<<"$out" || fail "missing-model message: $out"
out=$($NEMO logits "$T/n" --ids 1,x 2>&1) && fail "bad ids accepted"
grep -q -- "--ids" <<<"$out" || fail "bad-ids message: $out"
out=$($NEMO logits "$T/n" --ids 1,5000 2>&1) && fail "out-of-vocab id accepted"
grep -q "vocabulary" <<<"$out" || fail "out-of-vocab message: $out"
out=$($NEMO generate "$T/n" --ids 1 2>&1) && fail "generate without -n accepted"
$NEMO frobnicate >/dev/null 2>&1 && fail "unknown command accepted"
if command -v valgrind >/dev/null; then
    valgrind -q --error-exitcode=9 --leak-check=full "$REL" generate "$T/h" --ids 1,2,3 -n 3 -t 2 \
        >/dev/null 2>"$T/vg.txt" || { cat "$T/vg.txt"; fail "valgrind"; }
fi
echo "  ok"

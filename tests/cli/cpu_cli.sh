#!/usr/bin/env bash
# `nemo cpu` and the kernel-level switches (issue 6): the feature line, NEMO_CPU lowering the
# level, the activation mode reported (q8 by default, NEMO_MATMUL=exact, an unknown value refused
# by `nemo cpu` and by model load), usage errors; greedy ids independent of the thread count at
# every level this CPU runs (the kernels' batch / thread invariance seen from the CLI).
set -uo pipefail
NEMO=${NEMO_BIN:-build/asan/nemo}
T=${NEMO_TEST_TMP:-/tmp}/cpu_cli
rm -rf "$T" && mkdir -p "$T"
fail() { echo "  FAIL: $*"; exit 1; }
line=$($NEMO cpu) || fail "nemo cpu exit status"
[[ $line == "cpu features:"*"; kernels "* ]] || fail "nemo cpu printed '$line'"
[[ $(NEMO_CPU=scalar $NEMO cpu) == *"kernels scalar "* ]] || fail "NEMO_CPU=scalar not applied"
[[ $line == *"activations q8"* ]] || fail "q8 activations are not the default: '$line'"
[[ $(NEMO_MATMUL=q8 $NEMO cpu) == *"activations q8"* ]] || fail "NEMO_MATMUL=q8 not reported"
[[ $(NEMO_MATMUL=exact $NEMO cpu) == *"activations f32 for every"* ]] ||
    fail "NEMO_MATMUL=exact not reported"
NEMO_MATMUL=f32 $NEMO cpu >/dev/null 2>"$T/err"
[ $? = 1 ] || fail "nemo cpu with NEMO_MATMUL=f32 should exit 1"
grep -q "NEMO_MATMUL=f32: unknown activation mode" "$T/err" || fail "bad mode: $(cat "$T/err")"
$NEMO cpu extra >/dev/null 2>&1
[ $? = 2 ] || fail "nemo cpu with an argument should exit 2"
$NEMO synth "$T/m" --preset nemo-tiny --quiet || fail "synth"
for level in scalar avx2 avx512; do
    for act in exact q8; do
        a=$(NEMO_CPU=$level NEMO_MATMUL=$act $NEMO generate "$T/m" --ids 1,22,33,44 -n 6 -t 1) ||
            fail "generate $level $act"
        b=$(NEMO_CPU=$level NEMO_MATMUL=$act $NEMO generate "$T/m" --ids 1,22,33,44 -n 6 -t 3) ||
            fail "generate $level $act -t 3"
        [ "$a" = "$b" ] || fail "$level $act: 1 thread '$a' != 3 threads '$b'"
    done
done
NEMO_MATMUL=Q8 $NEMO generate "$T/m" --ids 1,22 -n 1 >/dev/null 2>"$T/err" &&
    fail "model load accepted NEMO_MATMUL=Q8"
grep -q "NEMO_MATMUL=Q8: unknown activation mode" "$T/err" || fail "load: $(cat "$T/err")"
echo "  cpu: ${line:0:100}"

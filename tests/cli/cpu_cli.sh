#!/usr/bin/env bash
# `nemo cpu` and the kernel-level switches (issue 6): the feature line, NEMO_CPU lowering the
# level, NEMO_MATMUL=q8 reported, usage errors; greedy ids independent of the thread count at
# every level this CPU runs (the kernels' batch / thread invariance seen from the CLI).
set -uo pipefail
NEMO=${NEMO_BIN:-build/asan/nemo}
T=${NEMO_TEST_TMP:-/tmp}/cpu_cli
rm -rf "$T" && mkdir -p "$T"
fail() { echo "  FAIL: $*"; exit 1; }
line=$($NEMO cpu) || fail "nemo cpu exit status"
[[ $line == "cpu features:"*"; kernels "* ]] || fail "nemo cpu printed '$line'"
[[ $(NEMO_CPU=scalar $NEMO cpu) == *"kernels scalar "* ]] || fail "NEMO_CPU=scalar not applied"
[[ $(NEMO_MATMUL=q8 $NEMO cpu) == *"activations q8"* ]] || fail "NEMO_MATMUL=q8 not reported"
$NEMO cpu extra >/dev/null 2>&1
[ $? = 2 ] || fail "nemo cpu with an argument should exit 2"
$NEMO synth "$T/m" --preset nemo-tiny --quiet || fail "synth"
for level in scalar avx2 avx512; do
    for act in f32 q8; do
        a=$(NEMO_CPU=$level NEMO_MATMUL=$act $NEMO generate "$T/m" --ids 1,22,33,44 -n 6 -t 1) ||
            fail "generate $level $act"
        b=$(NEMO_CPU=$level NEMO_MATMUL=$act $NEMO generate "$T/m" --ids 1,22,33,44 -n 6 -t 3) ||
            fail "generate $level $act -t 3"
        [ "$a" = "$b" ] || fail "$level $act: 1 thread '$a' != 3 threads '$b'"
    done
done
echo "  cpu: ${line:0:100}"

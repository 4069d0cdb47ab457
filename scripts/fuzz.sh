#!/usr/bin/env bash
# fuzz.sh — builds every libFuzzer target (tests/fuzz/fuzz_*.c, clang -fsanitize=fuzzer with
# ASan/UBSan, library sources compiled in) and runs each for a bounded time.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET (default 60)] [TARGET_NAME...]
# Needs clang and libclang-rt-dev (Debian: clang-14, libclang-rt-14-dev). Corpora are kept in
# .cache/fuzz/NAME (not committed); crashes are written to build/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
shift || true
CLANG=${CLANG:-$(command -v clang || command -v clang-14 || true)}
if [ -z "$CLANG" ]; then
    echo "fuzz.sh: clang not found (Debian: apt-get install clang-14 libclang-rt-14-dev)" >&2
    exit 1
fi
OUT=build/fuzz
mkdir -p "$OUT"
LIB_SRCS=$(find src -name '*.c' -not -path 'src/backend/cuda/*' | sort)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in tests/fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi
rc=0
for name in "${targets[@]}"; do
    bin=$OUT/$name
    # the library is compiled into each target so its code is instrumented for coverage; a
    # target's "FUZZ_EXTRA:" line names more sources it needs (server/ files)
    extra=$(sed -n 's/^ \* FUZZ_EXTRA: \(.*\) \*\/$/\1/p' "tests/fuzz/$name.c")
    "$CLANG" -std=c11 -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64 -Iinclude -Isrc -pthread -g -O1 \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -o "$bin" "tests/fuzz/$name.c" $LIB_SRCS $extra -ljansson -ledit -lm
    corpus=.cache/fuzz/$name
    mkdir -p "$corpus"
    echo "== fuzz $name for ${SECS}s"
    seeds=()
    [ -d "tests/fuzz/seeds/$name" ] && seeds=("tests/fuzz/seeds/$name")
    if ! "$bin" -max_total_time="$SECS" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$OUT/$name-" -print_final_stats=1 "$corpus" "${seeds[@]}" \
        2>"$OUT/$name.log"; then
        echo "fuzz.sh: $name found a problem; see $OUT/$name.log and $OUT/$name-*" >&2
        tail -30 "$OUT/$name.log" >&2
        rc=1
    else
        grep -E "stat::number_of_executed_units|cov:" "$OUT/$name.log" | tail -2
    fi
done
exit $rc

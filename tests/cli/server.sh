#!/usr/bin/env bash
# server.sh — `nemo serve` driven by the official openai client and raw HTTP (tests/server/):
# chat, streaming, completions, tool calls, errors, 16 concurrent streams equal to the same
# requests served alone, dropped clients, queue limits. The server is the ASan/UBSan build and
# each test file checks it exits cleanly (no leak or sanitizer report); test_smollm2.py runs the
# real SmolLM2 GGUF on the release build (too slow under ASan). The headless-Chromium
# check of the chat page (tests/server/test_web.py) runs when chromium is installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
export NEMO_BIN=${NEMO_BIN:-$PWD/build/asan/nemo}
[ -x "$NEMO_BIN" ] || { echo "server: $NEMO_BIN not built" >&2; exit 1; }
PY=$(bash scripts/ci_venv.sh)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
rc=0
for t in api tools concurrency smollm2 web; do
    echo "  -- tests/server/test_$t.py"
    "$PY" "tests/server/test_$t.py" || rc=1
done
exit $rc

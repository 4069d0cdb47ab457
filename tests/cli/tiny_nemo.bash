# tiny_nemo.bash — sourced by the CLI tests of `nemo run` and `nemo chat` (run_cli.sh,
# chat_cli.sh) with the test's name: the binaries, the Tekken vocabulary, a fresh scratch
# folder $T, fail(), and a synthetic NeMo-shaped model $M (tiny dims, the real 131072-id
# vocabulary) that both drive. Not a test itself (tests/run.sh runs only *.sh).
NEMO=${NEMO_BIN:-build/asan/nemo}
REL=${NEMO_RELEASE_BIN:-build/release/nemo}
TEK=${NEMO_TEKKEN:-$(python3 scripts/fixture.py tekken_240718.json)}
T=${NEMO_TEST_TMP:-/tmp}/$1
rm -rf "$T" && mkdir -p "$T"
fail() { echo "  FAIL: $*"; exit 1; }
M=$T/m
$REL synth "$M" --preset nemo-tiny --dim 64 --vocab 131072 --tokenizer "$TEK" --quiet >/dev/null ||
    fail "synth with --tokenizer"

#!/usr/bin/env bash
# Reference parity for the goldens too big for the sanitizer build (NeMo's per-layer shape:
# 283M weights): the release binary synthesizes each layout, `nemo logits` and `nemo generate`
# are compared with the golden (tolerance from the file, identical 32-token greedy ids).
# test_golden_forward checks the small goldens under ASan and skips these. Needs python3 only
# for reading JSON (standard library).
set -uo pipefail
REL=${NEMO_RELEASE_BIN:-build/release/nemo}
ROOT=${NEMO_ROOT:-.}
T=${NEMO_TEST_TMP:-/tmp}/synth_golden_big
rm -rf "$T" && mkdir -p "$T"
fail() { echo "  FAIL: $*"; rm -rf "$T"; exit 1; }
[ -x "$REL" ] || fail "no release binary at $REL (make first)"
for case in nemo_layer_bf16; do
    g="$ROOT/tests/golden/forward/$case.json"
    [ -f "$g" ] || fail "missing $g"
    # synth flags, prompt and layouts out of the golden
    read -r flags ids layouts < <(python3 - "$g" <<'PY'
import json, sys
g = json.load(open(sys.argv[1])); s = g["synth"]
f = ["--layers", s["n_layers"], "--dim", s["dim"], "--heads", s["n_heads"],
     "--kv-heads", s["n_kv_heads"], "--head-dim", s["head_dim"], "--hidden", s["hidden_dim"],
     "--vocab", s["vocab_size"], "--window", s["sliding_window"], "--theta", repr(float(s["rope_theta"])),
     "--eps", repr(float(s["norm_eps"])), "--dtype", s["dtype"].lower(), "--seed", s["seed"]]
print(",".join(map(str, f)), ",".join(map(str, g["prompt"])), ",".join(g["layouts"]))
PY
)
    [ -n "$layouts" ] || fail "$case: cannot read the golden"
    IFS=, read -r -a fa <<<"$flags"
    for layout in ${layouts//,/ }; do
        d="$T/${case}_$layout"
        sh=()
        [ "$layout" = hf ] && sh=(--shards 1)
        "$REL" synth "$d" "${fa[@]}" --layout "$layout" "${sh[@]}" --quiet >/dev/null ||
            fail "$case $layout: synth"
        "$REL" logits "$d" --ids "$ids" --out "$T/logits.bin" || fail "$case $layout: logits"
        gen=$("$REL" generate "$d" --ids "$ids" -n 32) || fail "$case $layout: generate"
        python3 - "$g" "$T/logits.bin" "$gen" "$case $layout" <<'PY' || fail "$case $layout: mismatch"
import json, struct, sys
g = json.load(open(sys.argv[1])); ref = g["last_logits"]
raw = open(sys.argv[2], "rb").read()
if len(raw) != 4 * len(ref):
    sys.exit("  logits file has %d bytes, expected %d" % (len(raw), 4 * len(ref)))
got = struct.unpack("<%df" % len(ref), raw)
ratio = max(abs(a - b) for a, b in zip(got, ref)) / max(abs(b) for b in ref)
ids = [int(x) for x in sys.argv[3].split()]
print("  %s: max|diff|/max|ref| = %.3g (tolerance %g), greedy %s"
      % (sys.argv[4], ratio, g["tolerance"], "identical" if ids == g["greedy"] else "DIFFERS"))
if ids != g["greedy"]:
    print("  got %s\n  ref %s" % (ids, g["greedy"]))
sys.exit(0 if ratio <= g["tolerance"] and ids == g["greedy"] else 1)
PY
        rm -rf "$d"
    done
done
rm -rf "$T"
echo "  ok"

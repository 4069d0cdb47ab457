#!/usr/bin/env bash
# A real trained model end to end: SmolLM2-135M-Instruct Q4_1 (GGUF, pinned fixture) must give
# the same 64-token greedy continuations as transformers and the same top logits (committed
# golden from scripts/golden_smollm2.py). Runs the release binary: the ASan build is too slow
# for 5 × 64 decode steps.
# NEMO_MATMUL=exact: the golden is transformers' float computation, which only f32 activations
# reproduce (to 1e-6); the default q8 activations (llama.cpp's numerics) move the logits by ~1e-2
# relative and flip the greedy continuations at near-ties. The default mode is checked against
# llama.cpp in llamacpp_parity.sh and perplexity.sh.
set -uo pipefail
export NEMO_MATMUL=exact
REL=${NEMO_RELEASE_BIN:-build/release/nemo}
T=${NEMO_TEST_TMP:-/tmp}/smollm2
mkdir -p "$T"
MODEL=${NEMO_SMOLLM2:-$(python3 scripts/fixture.py SmolLM2-135M-Instruct.Q4_1.gguf)} || exit 1
GOLDEN=tests/golden/smollm2/q4_1.json
python3 - "$REL" "$MODEL" "$GOLDEN" "$T" <<'PY'
import json, struct, subprocess, sys
rel, model, golden, tmp = sys.argv[1:]
g = json.load(open(golden))
bad = 0
for c in g["cases"]:
    ids = ",".join(map(str, c["ids"]))
    out = f"{tmp}/logits.bin"
    subprocess.run([rel, "logits", model, "--ids", ids, "--out", out], check=True)
    data = open(out, "rb").read()
    logits = struct.unpack(f"<{len(data)//4}f", data)
    worst = max(abs(logits[i] - v) for i, v in zip(c["top_ids"], c["top_logits"])) / c["max_abs_logit"]
    top = sorted(range(len(logits)), key=lambda i: -logits[i])[:4]
    gen = subprocess.run([rel, "generate", model, "--ids", ids, "-n", str(len(c["greedy"]))],
                         check=True, capture_output=True, text=True).stdout.split()
    same = [int(x) for x in gen] == c["greedy"]
    ok = worst <= 1e-4 and same and top == c["top_ids"][:4]
    bad += not ok
    print(f"  {c['prompt'][:32]!r:36} top-16 rel diff {worst:.2e}, greedy 64 {'identical' if same else 'DIFFERENT'}"
          f"{'' if ok else '  FAIL'}")
sys.exit(1 if bad else 0)
PY

#!/usr/bin/env bash
# nemo against llama.cpp on a real model: SmolLM2-135M-Instruct Q4_1, chat prompts as token ids,
# greedy continuations (golden from scripts/golden_llamacpp.py, llama-cpp-python on the CPU, f32
# KV cache), in both activation modes: the default (q8 activations for quantized weights, as
# llama.cpp) and NEMO_MATMUL=exact (f32 activations; nemo then matches a float64 reference to
# 1e-5, scripts/llamacpp_divergence.py).
#
# No engine that is not bit-identical to one llama.cpp configuration can give llama.cpp's
# greedy ids for 64 tokens on every prompt: llama.cpp disagrees with itself. The golden holds
# llama.cpp's own continuations with one token per batch (n_batch=1) and with an f16 KV cache;
# they leave its main continuation at tokens [15, 0, 35, 29, 52] and [15, 1, 39, 0, 33] of the
# 5 prompts, every time at a near-tie. So, per prompt and mode:
#   - the last prompt position's top-16 logits within TOL = 1.5 × llama.cpp's own spread (the
#     golden's `llamacpp_self_spread`, max 0.81 logits). q8 logits move by whole activation
#     quantization steps when one value rounds the other way, so two correct q8 engines differ
#     by more than llama.cpp's two variants do: a float64 simulation of ggml's scheme
#     (llamacpp_divergence.py "ggml") is 0.88 from llama.cpp on prompt 3, nemo q8 0.90;
#   - the greedy ids identical up to a first difference (if any), and there our id must be
#     llama.cpp's runner-up within TOL (a near-tie that rounding flips);
# and over all prompts, in each mode: the count of ids identical before the first difference
# is at least MARGIN below llama.cpp n_batch=1's own count, MARGIN = half of that count
# (rounded up): nemo's agreement with llama.cpp must be at least half of llama.cpp's agreement
# with itself under a batch-size change. Measured at 64 tokens (NEMO_PARITY_N=64): llama.cpp
# n_batch=1 131 of 320, kv f16 88, nemo q8 87 (113 and 101 with earlier q8 kernels: every
# change of float order moves q8's near-ties), nemo exact 106; at 16 tokens: 63, 48, 47, 33
# (exact mode loses prompts 1 and 4 at their first token, near-ties of 0.27 and 0.05 logits;
# q8 loses prompt 4 there too).
# Each prompt's line prints nemo's first difference next to llama.cpp's against itself.
# Release binary; NEMO_PARITY_N (default 16, at most 64) greedy steps per prompt keep it within
# the CI budget: NEMO_PARITY_N=64 compares everything.
set -uo pipefail
REL=${NEMO_RELEASE_BIN:-build/release/nemo}
T=${NEMO_TEST_TMP:-/tmp}/llamacpp_parity
mkdir -p "$T"
MODEL=${NEMO_SMOLLM2:-$(python3 scripts/fixture.py SmolLM2-135M-Instruct.Q4_1.gguf)} || exit 1
GOLDEN=${1:-tests/golden/smollm2/llamacpp_q4_1_kvf32.json}
python3 - "$REL" "$MODEL" "$GOLDEN" "$T" "${NEMO_PARITY_N:-16}" <<'PY'
import hashlib, json, os, struct, subprocess, sys
rel, model, golden, tmp, n_gen = sys.argv[1:]
n_gen = min(int(n_gen), 64)
g = json.load(open(golden))
sha = hashlib.sha256(open(model, "rb").read()).hexdigest()
if sha != g["model_sha256"]:
    sys.exit(f"model sha256 {sha} is not the golden's {g['model_sha256']}")
spread = max(max(v) for k, v in g["llamacpp_self_spread"].items() if k != "what")
tol = 1.5 * spread
print(f"  tolerance: 1.5 × llama.cpp's own spread on these prompts ({spread:.3f}) = {tol:.3f} logits; "
      f"{n_gen} greedy ids per prompt")

def first_diff(a, b):
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))

# llama.cpp against itself
self_k = {v: [first_diff(c["variant_greedy"][v][:n_gen], c["greedy"][:n_gen]) for c in g["cases"]]
          for v in ("n_batch=1", "kv f16")}
bad = 0
for mode in ("q8", "exact"):
    env = dict(os.environ, NEMO_MATMUL=mode)
    same_total = 0
    print(f"  -- activations {mode}{' (default)' if mode == 'q8' else ''}")
    for ci, c in enumerate(g["cases"]):
        want = c["greedy"][:n_gen]
        ids = ",".join(map(str, c["ids"]))
        out = f"{tmp}/logits.bin"
        subprocess.run([rel, "logits", model, "--ids", ids, "--out", out], check=True, env=env)
        data = open(out, "rb").read()
        logits = struct.unpack(f"<{len(data)//4}f", data)
        worst = max(abs(logits[i] - v) for i, v in zip(c["top_ids"], c["top_logits"]))
        gen = [int(x) for x in subprocess.run(
            [rel, "generate", model, "--ids", ids, "-n", str(n_gen)],
            check=True, capture_output=True, text=True, env=env).stdout.split()]
        ok = worst <= tol and len(gen) == len(want)
        k = first_diff(gen, want)
        same_total += k
        if k == len(want):
            note = f"identical ({k})"
        else:
            st = c["steps"][k]
            lg = dict(zip(st["ids"], st["logits"]))
            gap = st["logits"][0] - lg[gen[k]] if gen[k] in lg else float("inf")
            ok = ok and gap <= tol
            note = f"first difference at {k:2} (ours {gen[k]} / llama.cpp {want[k]}, gap {gap:.3f})"
        bad += not ok
        print(f"  {c['message'][:30]!r:34} top-16 |dlogit| {worst:.3f}; nemo: {note}; llama.cpp "
              f"vs itself: n_batch=1 {self_k['n_batch=1'][ci]:2}, kv f16 {self_k['kv f16'][ci]:2}"
              f"{'' if ok else '  FAIL'}")
    ref = sum(self_k["n_batch=1"])
    margin = (ref + 1) // 2
    ok = same_total >= ref - margin
    bad += not ok
    print(f"  {mode}: {same_total} of {n_gen * len(g['cases'])} greedy ids identical before the first "
          f"difference; llama.cpp vs itself: n_batch=1 {ref}, kv f16 {sum(self_k['kv f16'])}; need "
          f">= {ref} - {margin}{'' if ok else '  FAIL'}")
sys.exit(1 if bad else 0)
PY

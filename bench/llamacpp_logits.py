#!/usr/bin/env python3
"""llamacpp_logits.py — does llama.cpp load what `nemo quantize` writes, and compute the same
model? Writes a small synthetic HF folder (NeMo traits: GQA 4:1, head_dim != dim/heads, q/k
rows permuted as in HF files), converts it to GGUF (F32, F16, Q8_0, Q4_K, Q4_0) with the Tekken
vocabulary, and compares llama.cpp's logits (llama-cpp-python) with `nemo logits` on each file,
all positions' last logits for one prompt; also checks that llama.cpp's tokenizer, reading our
embedded vocabulary, gives our Tekken ids on a few texts (a full-vocabulary file).

Differences come from llama.cpp's CPU matmuls quantizing the activations (to F16 for F16
weights, to Q8_0/Q8_K for the quantized types); with F32 weights and an F32 KV cache (asked
for here) both engines compute in f32.
Tooling only. usage: /work/venv/bin/python bench/llamacpp_logits.py [--work DIR]
"""
import argparse, os, subprocess, sys
import numpy as np
from llama_cpp import Llama
import llama_cpp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEMO = os.path.join(ROOT, "build", "release", "nemo")
IDS = [1, 1500, 1033, 2000, 1100, 1234, 1999, 1050, 1700, 1300, 1010, 1900]
TEXTS = ["Hello world", "  leading spaces and\ttabs\n\nnewlines", "Unicode: héllo wörld 你好 🙂",
         "def f(x):\n    return x**2  # comment", "[INST] not special [/INST] 12345678 3.14159"]


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, **kw).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench-llamacpp-logits"))
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    tk = os.environ.get("NEMO_TEKKEN") or sh([sys.executable, os.path.join(
        ROOT, "scripts", "fixture.py"), "tekken_240718.json"]).decode().strip()
    src = os.path.join(a.work, "hf")
    sh([NEMO, "synth", src, "--preset", "nemo-tiny", "--vocab", "2048", "--seed", "9",
        "--layout", "hf", "--force", "--quiet"])
    print(f"llama-cpp-python {llama_cpp.__version__}; model: synthetic HF folder, dim 256, 2 "
          f"layers, 8/2 heads of 64, vocab 2048 (Tekken cut to 2048 ids); prompt {len(IDS)} ids")
    print("| type | max abs diff | mean abs diff | max abs logit | argmax same |")
    print("|---|---:|---:|---:|---|")
    for typ in ("f32", "f16", "q8_0", "q4_k", "q4_0"):
        path = os.path.join(a.work, f"{typ}.gguf")
        sh([NEMO, "quantize", src, path, "--type", typ, "--vocab", tk, "--quiet"])
        # f32 KV cache (llama.cpp's default is f16) so the f32 row compares the math exactly
        llm = Llama(model_path=path, logits_all=True, n_ctx=64, n_threads=2, verbose=False,
                    type_k=0, type_v=0)
        llm.eval(IDS)
        theirs = np.array(llm.scores[len(IDS) - 1], dtype=np.float32)
        ours = np.frombuffer(sh([NEMO, "logits", path, "--ids", ",".join(map(str, IDS))]),
                             dtype=np.float32)
        d = np.abs(theirs - ours)
        print(f"| {typ} | {d.max():.4g} | {d.mean():.3g} | {np.abs(ours).max():.3g} | "
              f"{'yes' if ours.argmax() == theirs.argmax() else 'NO'} |")
        del llm
    # tokenizer: a full 131072-id vocabulary on a tiny model
    full = os.path.join(a.work, "vfull")
    sh([NEMO, "synth", full, "--dim", "64", "--heads", "2", "--kv-heads", "1", "--head-dim", "32",
        "--hidden", "128", "--layers", "1", "--force", "--quiet"])
    sh([NEMO, "quantize", full, full + ".gguf", "--type", "q8_0", "--vocab", tk, "--quiet"])
    llm = Llama(model_path=full + ".gguf", n_ctx=64, verbose=False, vocab_only=True)
    same = 0
    for t in TEXTS:
        theirs = llm.tokenize(t.encode(), add_bos=False, special=False)
        ours = [int(x) for x in sh([NEMO, "tokenize", "--tokenizer", tk],
                                   input=t.encode()).decode().split()]
        same += theirs == ours
    print(f"\nllama.cpp tokenizer on our embedded vocabulary: {same}/{len(TEXTS)} texts give our "
          f"Tekken ids")


if __name__ == "__main__":
    main()

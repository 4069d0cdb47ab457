#!/usr/bin/env python3
"""divergence_llamacpp.py — quantization quality of `nemo quantize` next to llama.cpp's own
quantizer, measured the same way: `nemo divergence` (mean KL(base || quant), top-1 agreement)
of each quantized file against the bf16 model, over the same tokens.

Steps: a synthetic bf16 checkpoint (NeMo traits: GQA 4:1, head_dim != dim/heads); ours:
`nemo quantize` to FP8, Q8_0, Q4_K, Q4_0; llama.cpp's: its quantizer (llama_model_quantize
from llama-cpp-python, `pure` so every matrix gets the type, as ours does) applied to the bf16
GGUF we write; then `nemo divergence BASE FILE` for all of them.

Tooling only; needs llama-cpp-python (the tooling venv). usage:
  /work/venv/bin/python bench/divergence_llamacpp.py [--work DIR] [--tokens N] [--layers N]
"""
import argparse
import ctypes
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEMO = os.path.join(ROOT, "build", "release", "nemo")


def sh(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def divergence(base, path, a):
    out = sh([NEMO, "divergence", base, path, "--random", str(a.tokens), "-c", "128"])
    kl = top = None
    for line in out.splitlines():
        if line.startswith("mean KL"):
            kl = float(line.split(":")[1].split()[0])
        if line.startswith("top-1"):
            top = float(line.split(":")[1].split("%")[0])
    return kl, top


def llama_quantize(src, dst, ftype):
    import llama_cpp
    p = llama_cpp.llama_model_quantize_default_params()
    p.ftype = ftype
    p.pure = True
    p.nthread = 2
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(p))
    if rc != 0:
        raise RuntimeError(f"llama_model_quantize {dst}: {rc}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench-divergence"))
    ap.add_argument("--tokens", type=int, default=512)
    ap.add_argument("--layers", type=int, default=4)
    a = ap.parse_args()
    import llama_cpp
    os.makedirs(a.work, exist_ok=True)
    base = os.path.join(a.work, "bf16")
    shape = ["--dim", "1024", "--heads", "16", "--kv-heads", "4", "--head-dim", "128",
             "--hidden", "3584", "--vocab", "8192", "--layers", str(a.layers)]
    sh([NEMO, "synth", base, "--force", "--quiet", "--seed", "2407"] + shape)
    tk = os.environ.get("NEMO_TEKKEN") or sh(
        [sys.executable, os.path.join(ROOT, "scripts", "fixture.py"), "tekken_240718.json"]).strip()
    g = lambda n: os.path.join(a.work, n)
    sh([NEMO, "quantize", base, g("bf16.gguf"), "--type", "bf16", "--vocab", tk, "--quiet"])
    rows = []
    lt = {"q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0, "q4_k": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_S,
          "q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0}
    for typ in ("fp8", "q8_0", "q4_k", "q4_0"):
        ours = g(f"nemo-{typ}.gguf")
        sh([NEMO, "quantize", base, ours, "--type", typ, "--vocab", tk, "--quiet"])
        kl, top = divergence(base, ours, a)
        lkl = ltop = None
        same = ""
        if typ in lt:
            theirs = g(f"llamacpp-{typ}.gguf")
            llama_quantize(g("bf16.gguf"), theirs, lt[typ])
            lkl, ltop = divergence(base, theirs, a)
        rows.append((typ, kl, top, lkl, ltop, os.path.getsize(ours)))
    print(f"model: synthetic bf16, dim 1024, 16/4 heads of 128, FFN 3584, vocab 8192, "
          f"{a.layers} layers (seed 2407); {a.tokens} pseudo-random tokens in chunks of 128; "
          f"llama.cpp: llama-cpp-python {llama_cpp.__version__} llama_model_quantize (pure)")
    print()
    print("| type | nemo quantize: mean KL (nats) | top-1 | llama.cpp quantizer: mean KL | "
          "top-1 | file MB (ours) |")
    print("|---|---:|---:|---:|---:|---:|")
    for typ, kl, top, lkl, ltop, size in rows:
        l1 = f"{lkl:.6f}" if lkl is not None else "n/a (no FP8 in ggml)"
        l2 = f"{ltop:.2f}%" if ltop is not None else "n/a"
        print(f"| {typ} | {kl:.6f} | {top:.2f}% | {l1} | {l2} | {size / 1e6:.1f} |")


if __name__ == "__main__":
    main()

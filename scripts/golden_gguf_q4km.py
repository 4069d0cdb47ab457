#!/usr/bin/env python3
"""golden_gguf_q4km.py — a small NeMo-shaped GGUF in llama.cpp's Q4_K_M mix (what most NeMo GGUF
downloads are), made by llama.cpp's own quantizer, and llama.cpp's logits for it
(tests/cli/gguf_q4km.sh checks nemo against them and against the bf16 folder).

The folder: `nemo synth`, 2 layers, dim 256 (K-quants need rows that are multiples of 256),
4 query heads and 1 KV head of 128 (head_dim ≠ dim/heads, GQA), FFN 256, vocab 320, untied
output, BF16, seed 7. scripts/gguf_from_synth.py writes it as a BF16 GGUF with the stand-in gpt2
vocabulary; llama_model_quantize (llama-cpp-python 0.3.36's bundled llama.cpp) turns that into
LLAMA_FTYPE_MOSTLY_Q4_K_M with llama-quant.cpp's recipe: Q4_K by default, Q6_K for the output
matrix, and for attn_v / ffn_down in the layers use_more_bits() picks (i < n/8, i >= 7n/8, or
every third from n/8: here layer 1, so layer 0 keeps Q4_K); norms stay F32. The per-tensor types
are recorded so the test can tell the mix is there. The file (~0.6 MB) is committed as
tests/golden/gguf/synth_nemo_q4_k_m.gguf.

llama-cpp-python (CPU, one thread, f32 KV cache, flash attention off) then runs it on the same
prompts as golden_gguf_synth.py; the last-position logits (all 320) are recorded.

Usage: /work/venv/bin/python scripts/golden_gguf_q4km.py [--nemo build/release/nemo]
Needs llama-cpp-python 0.3.36, gguf, numpy.
"""
import argparse
import ctypes
import os
import subprocess
import sys
import tempfile

import numpy as np
from golden_io import ROOT, llamacpp_last_logits, sha256, write_json

SYNTH = ["--preset", "nemo-tiny", "--layers", "2", "--dim", "256", "--heads", "4", "--kv-heads", "1",
         "--head-dim", "128", "--hidden", "256", "--vocab", "320", "--dtype", "bf16", "--seed", "7"]
PROMPTS = [[1, 22, 33, 44, 55, 66, 77, 88],
           [1] + [(37 * i + 11) % 320 for i in range(47)]]
DST = "tests/golden/gguf/synth_nemo_q4_k_m.gguf"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nemo", default=os.path.join(ROOT, "build/release/nemo"))
    a = ap.parse_args()
    import gguf
    import llama_cpp
    dst = os.path.join(ROOT, DST)
    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, "synth")
        subprocess.run([a.nemo, "synth", folder, *SYNTH, "--quiet"], check=True)
        st_sha = sha256(os.path.join(folder, "consolidated.safetensors"))
        bf16 = os.path.join(tmp, "bf16.gguf")
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts/gguf_from_synth.py"), folder, bf16,
                        "--type", "BF16", "--vocab", "gpt2"], check=True)
        p = llama_cpp.llama_model_quantize_default_params()
        p.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M
        p.nthread = 1
        rc = llama_cpp.llama_model_quantize(bf16.encode(), dst.encode(), ctypes.byref(p))
        if rc:
            sys.exit(f"llama_model_quantize: {rc}")
    types = {t.name: t.tensor_type.name for t in gguf.GGUFReader(dst).tensors}
    logits = llamacpp_last_logits(dst, PROMPTS)
    golden = {
        "synth_args": SYNTH,
        "safetensors_sha256": st_sha,
        "prompts": PROMPTS,
        "file": {"path": DST, "sha256": sha256(dst), "tensor_types": types, "llamacpp_logits": logits},
        "reference": "llama.cpp (llama-cpp-python) CPU, 1 thread, KV cache f32, flash attention off; "
                     "its matmuls quantize activations to Q8_K blocks for Q4_K / Q6_K weights",
        "quantizer": "llama_model_quantize, LLAMA_FTYPE_MOSTLY_Q4_K_M, from a BF16 GGUF of the folder "
                     "(scripts/gguf_from_synth.py --type BF16 --vocab gpt2)",
        "versions": {"llama_cpp_python": llama_cpp.__version__, "numpy": np.__version__},
        "generator": "scripts/golden_gguf_q4km.py",
    }
    out = os.path.join(ROOT, "tests/golden/gguf/synth_nemo_q4_k_m.json")
    write_json(out, golden)
    print("types:", sorted(set(types.values())), {k: v for k, v in types.items() if v != "Q4_K"})
    print(f"wrote {out} and {DST} ({os.path.getsize(dst)} bytes)")


if __name__ == "__main__":
    main()

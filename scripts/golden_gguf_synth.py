#!/usr/bin/env python3
"""golden_gguf_synth.py — small NeMo-shaped GGUF files made from a `nemo synth` folder, and
llama.cpp's logits for them (tests/cli/gguf_synth.sh checks nemo's GGUF path against the
folder and against llama.cpp).

The folder: `nemo synth` with NeMo's peculiarities at toy size — head_dim 32 while dim/heads is
16, grouped-query attention (4 query heads, 2 KV heads), untied output, RoPE base 1e6, BF16
weights — 2 layers, dim 64, FFN 96, vocab 320. scripts/gguf_from_synth.py converts it to BF16,
F16 and Q8_0 GGUF files with a stand-in gpt2 vocabulary (llama.cpp needs one to load a file),
committed under tests/golden/gguf/ (about 660 KB in all). The sha256 of the folder's
consolidated.safetensors is recorded: if `nemo synth` ever writes different bytes, the test
says so and this script must be rerun.

llama-cpp-python (CPU, one thread, f32 KV cache) then runs each file on a few prompts and the
last-position logits (all vocab_size of them) are recorded.

Usage: python scripts/golden_gguf_synth.py [--nemo build/release/nemo]
Needs llama-cpp-python 0.3.36, gguf, numpy.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from golden_io import ROOT, llamacpp_last_logits, sha256, write_json

SYNTH = ["--preset", "nemo-tiny", "--layers", "2", "--dim", "64", "--heads", "4", "--kv-heads", "2",
         "--head-dim", "32", "--hidden", "96", "--vocab", "320", "--dtype", "bf16", "--seed", "7"]
TYPES = ["BF16", "F16", "Q8_0"]
PROMPTS = [[1, 22, 33, 44, 55, 66, 77, 88],
           [1] + [(37 * i + 11) % 320 for i in range(47)]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nemo", default=os.path.join(ROOT, "build/release/nemo"))
    a = ap.parse_args()
    import llama_cpp
    out_dir = os.path.join(ROOT, "tests/golden/gguf")
    os.makedirs(out_dir, exist_ok=True)
    files = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, "synth")
        subprocess.run([a.nemo, "synth", folder, *SYNTH, "--quiet"], check=True)
        st_sha = sha256(os.path.join(folder, "consolidated.safetensors"))
        for t in TYPES:
            dst = os.path.join(out_dir, f"synth_nemo_{t.lower()}.gguf")
            subprocess.run([sys.executable, os.path.join(ROOT, "scripts/gguf_from_synth.py"), folder, dst,
                            "--type", t, "--vocab", "gpt2"], check=True)
            files[t] = dst
    golden = {"synth_args": SYNTH, "safetensors_sha256": st_sha, "prompts": PROMPTS, "files": {}}
    for t, path in files.items():
        logits = llamacpp_last_logits(path, PROMPTS)
        golden["files"][t] = {"path": os.path.relpath(path, ROOT), "sha256": sha256(path),
                              "llamacpp_logits": logits}
    golden["reference"] = ("llama.cpp (llama-cpp-python) CPU, 1 thread, KV cache f32, flash attention "
                           "off; its matmuls convert activations to the weight's vec_dot_type "
                           "(BF16 -> bf16, F16 -> f16, Q8_0 -> Q8_0 blocks)")
    golden["versions"] = {"llama_cpp_python": llama_cpp.__version__, "numpy": np.__version__}
    golden["generator"] = "scripts/golden_gguf_synth.py"
    dst = os.path.join(out_dir, "synth_nemo.json")
    write_json(dst, golden)
    print(f"wrote {dst} and {', '.join(os.path.basename(p) for p in files.values())}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""golden_q4k_ggml.py — Q4_K encoder golden from ggml itself: tests/golden/quant/quant_Q4_K.bin
holds nb*256 f32 inputs followed by the nb blocks (144 bytes each) that ggml's reference
quantize_row_q4_K_ref writes for them (the gguf package has no Q4_K encoder). ggml is called
through ctypes from the libggml-base.so that llama-cpp-python ships.

Test tooling only. Run:  /work/venv/bin/python scripts/golden_q4k_ggml.py
Pinned: llama-cpp-python 0.3.36 (its vendored ggml).
"""
import ctypes, glob, json, os
import numpy as np
import llama_cpp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "golden", "quant", "quant_Q4_K.bin")
lib_path = sorted(glob.glob(os.path.join(os.path.dirname(llama_cpp.__file__), "lib",
                                         "libggml-base.so*")))[0]
lib = ctypes.CDLL(lib_path)
f = lib.quantize_row_q4_K_ref
f.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
f.restype = None

rng = np.random.default_rng(20240718)
cases = []
for scale in (1.0, 1e-3, 30.0, 1e-6):
    cases += [rng.standard_normal(256) * scale for _ in range(6)]
cases += [rng.uniform(-1, 1, 256) for _ in range(6)]
cases += [rng.uniform(0, 1, 256) for _ in range(3)]      # all positive: min 0
cases += [-rng.uniform(0, 1, 256) for _ in range(3)]     # all negative
cases += [np.zeros(256), np.full(256, 0.5), np.full(256, -2.0)]
x = rng.standard_normal(256); x[rng.integers(0, 256, 4)] *= 50; cases.append(x)  # outliers
x = np.zeros(256); x[::7] = 1.0; cases.append(x)        # sparse
x = np.concatenate([rng.standard_normal(32) * 10 ** (k - 4) for k in range(8)]); cases.append(x)
x = np.asarray(np.concatenate(cases), dtype=np.float32)
nb = x.size // 256
y = np.zeros(nb * 144, dtype=np.uint8)
f(x.ctypes.data, y.ctypes.data, x.size)
with open(OUT, "wb") as fo:
    fo.write(x.tobytes())
    fo.write(y.tobytes())
print("wrote", OUT, nb, "blocks from", lib_path)

#!/usr/bin/env python3
"""golden_quant.py — writes the golden blocks for the quantized weight types
(tests/golden/quant/), made with the `gguf` package's numpy reference (gguf.quants), which
mirrors ggml's reference dequantize_row_* / quantize_row_*_ref.

Usage: /work/venv/bin/python scripts/golden_quant.py [OUT_DIR]   (default tests/golden/quant)

Files (all little-endian, no header; tests/unit/test_quant.c derives the block count from the
size and the dtype table):
  dequant_<T>.bin   nb blocks of raw bytes, then nb*block_elems f32: what they decode to
  quant_<T>.bin     nb*block_elems f32 inputs, then the nb blocks ggml's reference writes
  MANIFEST.json     generator, package versions, sha256 and the case list of every file

Cases: blocks built byte by byte around edge scales (zero, -0, largest and smallest-subnormal
fp16, 1.0, inf) with all-zero, all-one and random quant bits; blocks of random bytes with a
random finite scale; blocks quantized from random data. Encoder inputs: random data at several
magnitudes, all zeros, constants, -0.0, ties in magnitude, exact .5 rounding ties, huge values
whose scale overflows fp16, tiny values whose scale underflows to a subnormal or zero.
"""
import hashlib
import json
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize, quantize

SEED = 20240718
# type -> (fp16 scale byte offsets: d first, then m/dmin where the type has one)
SCALE_AT = {
    "Q8_0": (0,), "Q4_0": (0,), "Q5_0": (0,), "Q4_1": (0, 2), "Q5_1": (0, 2),
    "Q4_K": (0, 2), "Q5_K": (0, 2), "Q6_K": (208,),
}
ENCODERS = ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"]
EDGE_F16 = {
    "zero": 0x0000, "neg_zero": 0x8000, "max": 0x7BFF, "neg_max": 0xFBFF,
    "min_subnormal": 0x0001, "max_subnormal": 0x03FF, "one": 0x3C00, "inf": 0x7C00,
}


def sizes(name):
    return gguf.GGML_QUANT_SIZES[T[name]]


def random_finite_f16(rng):
    while True:
        h = int(rng.integers(0, 1 << 16))
        if (h & 0x7C00) != 0x7C00:
            return h


def dequant_cases(name, rng):
    elems, nbytes = sizes(name)
    blocks, labels = [], []
    scale_at = SCALE_AT[name]
    for ename, h in EDGE_F16.items():
        for body in ("zeros", "ones", "random"):
            if body == "zeros":
                b = bytearray(nbytes)
            elif body == "ones":
                b = bytearray(b"\xff" * nbytes)
            else:
                b = bytearray(rng.integers(0, 256, nbytes, dtype=np.uint8).tobytes())
            # the main scale takes the edge value; a second scale (m / dmin) gets a random
            # finite one, except in the "zeros" body where both take the edge value
            for k, off in enumerate(scale_at):
                v = h if (k == 0 or body == "zeros") else random_finite_f16(rng)
                b[off:off + 2] = v.to_bytes(2, "little")
            blocks.append(bytes(b))
            labels.append(f"d={ename} body={body}")
    if len(scale_at) == 2:  # the min alone at its edges, d ordinary
        for ename, h in EDGE_F16.items():
            b = bytearray(rng.integers(0, 256, nbytes, dtype=np.uint8).tobytes())
            b[scale_at[0]:scale_at[0] + 2] = (0x3C00).to_bytes(2, "little")
            b[scale_at[1]:scale_at[1] + 2] = h.to_bytes(2, "little")
            blocks.append(bytes(b))
            labels.append(f"d=one m={ename} body=random")
    for _ in range(12):
        b = bytearray(rng.integers(0, 256, nbytes, dtype=np.uint8).tobytes())
        for off in scale_at:
            b[off:off + 2] = random_finite_f16(rng).to_bytes(2, "little")
        blocks.append(bytes(b))
        labels.append("random bytes, random finite scales")
    if name in ENCODERS:
        x = rng.standard_normal(4 * elems).astype(np.float32)
        q = quantize(x.reshape(1, -1), T[name]).tobytes()
        for k in range(4):
            blocks.append(q[k * nbytes:(k + 1) * nbytes])
            labels.append("quantized from N(0,1)")
    raw = b"".join(blocks)
    y = dequantize(np.frombuffer(raw, dtype=np.uint8).reshape(1, -1), T[name])
    y = np.ascontiguousarray(y, dtype=np.float32).reshape(-1)
    assert y.size == len(blocks) * elems
    return raw + y.tobytes(), labels


def encode_cases(name, rng):
    elems, _ = sizes(name)
    rows, labels = [], []

    def add(x, label):
        x = np.asarray(x, dtype=np.float32)
        assert x.size == elems
        rows.append(x)
        labels.append(label)

    for s in (1.0, 1e-3, 100.0, 3e4):
        add(rng.standard_normal(elems) * s, f"N(0,1)*{s:g}")
    add(rng.uniform(-1, 1, elems), "U(-1,1)")
    add(rng.uniform(0.5, 2, elems), "U(0.5,2): all positive")
    add(-rng.uniform(0.5, 2, elems), "all negative")
    add(np.zeros(elems), "all zeros")
    add(np.full(elems, 0.7), "constant 0.7")
    add(np.full(elems, -0.7), "constant -0.7")
    x = rng.standard_normal(elems)
    x[::3] = -0.0
    add(x, "every third value -0.0")
    x = rng.uniform(-1, 1, elems)
    x[5], x[20] = 3.0, -3.0
    add(x, "magnitude tie, positive first")
    x = rng.uniform(-1, 1, elems)
    x[5], x[20] = -3.0, 3.0
    add(x, "magnitude tie, negative first")
    add(np.arange(elems) - elems / 2 + 0.5, "ramp of half-integers (rounding ties)")
    x = np.zeros(elems)
    x[0], x[1:] = 127.0, np.linspace(-126.5, 126.5, elems - 1)
    add(x, "amax 127: x*id lands on .5")
    x = np.zeros(elems)
    x[7] = 1.0
    add(x, "single spike")
    add(rng.standard_normal(elems) * 1e9, "huge: scale overflows fp16")
    add(rng.standard_normal(elems) * 65504 * 8, "near fp16 max scale")
    add(rng.standard_normal(elems) * 1e-6, "tiny: subnormal fp16 scale")
    add(rng.standard_normal(elems) * 1e-12, "tinier: scale rounds to zero")
    x = rng.standard_normal(elems)
    x[:elems // 2] = 0
    add(x, "half zeros")
    inp = np.stack(rows).astype(np.float32)
    q = quantize(inp.reshape(1, -1), T[name]).tobytes()
    return inp.tobytes() + q, labels


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "golden", "quant")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(SEED)
    manifest = {
        "generator": "scripts/golden_quant.py",
        "gguf": getattr(gguf, "__version__", None) or _dist_version("gguf"),
        "numpy": np.__version__,
        "seed": SEED,
        "files": {},
    }
    with np.errstate(all="ignore"):
        for name in SCALE_AT:
            data, labels = dequant_cases(name, rng)
            _write(out, f"dequant_{name}.bin", data, labels, manifest)
        for name in ENCODERS:
            data, labels = encode_cases(name, rng)
            _write(out, f"quant_{name}.bin", data, labels, manifest)
    with open(os.path.join(out, "MANIFEST.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


def _dist_version(pkg):
    from importlib.metadata import version
    return version(pkg)


def _write(out, fname, data, labels, manifest):
    with open(os.path.join(out, fname), "wb") as f:
        f.write(data)
    manifest["files"][fname] = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "blocks": labels,
    }


if __name__ == "__main__":
    main()

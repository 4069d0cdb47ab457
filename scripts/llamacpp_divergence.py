#!/usr/bin/env python3
"""llamacpp_divergence.py — why `nemo` and llama.cpp give different logits for the same Q4_1
GGUF, shown with a third, transparent implementation.

A float64 NumPy forward pass of the llama architecture runs the prompts of
tests/golden/smollm2/llamacpp_q4_1_kvf32.json in two modes:
  exact   weights dequantized (y = d·q + m), activations kept in float: what nemo and
          transformers compute;
  ggml    every quantized matmul first quantizes its input row the way ggml's CPU backend
          does for the weight's vec_dot_type: Q8_1 blocks for Q4_1 weights (d = amax/127
          stored as fp16, q = round(x/d), s = fp16(d·Σq)) and Q8_0 for the Q8_0 output
          matrix; the Q4_1·Q8_1 dot is then Σ_b d_w·d_x·Σ q_w·q_x + m_w·s_x (ggml_vec_dot_q4_1_q8_1).
Each mode's last-position logits are compared with nemo's (`nemo logits`) and llama.cpp's
(the golden). If `exact` matches nemo and `ggml` matches llama.cpp, the difference between the
two engines is ggml's activation quantization, not a bug on either side.

With --forced it instead feeds llama.cpp's own greedy continuation to nemo (teacher forcing,
so one flip does not derail the rest) and counts at how many of the steps nemo's argmax is
llama.cpp's, printing llama.cpp's top-2 gap wherever they differ.

Usage: python scripts/llamacpp_divergence.py [--nemo build/release/nemo] [--cases 0,1] [--forced]
"""
import argparse
import json
import os
import subprocess
import sys

import gguf
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def f16(x):
    return np.asarray(x, dtype=np.float32).astype(np.float16).astype(np.float64)


class QMat:
    """A GGUF weight [rows, cols]: exact float64 values, plus the block parts ggml uses."""

    def __init__(self, t):
        self.type = t.tensor_type
        cols = int(t.shape[0])
        raw = np.asarray(t.data)
        if self.type == gguf.GGMLQuantizationType.Q4_1:
            b = raw.reshape(-1, 20)
            d = b[:, 0:2].copy().view(np.float16).astype(np.float64)[:, 0]
            m = b[:, 2:4].copy().view(np.float16).astype(np.float64)[:, 0]
            qs = b[:, 4:]
            q = np.concatenate([qs & 15, qs >> 4], axis=1).astype(np.float64)
            rows = b.shape[0] * 32 // cols
            self.dq = (d[:, None] * q).reshape(rows, cols)  # d·q part
            self.m = m.reshape(rows, cols // 32)  # per-block min
            self.w = self.dq + np.repeat(self.m, 32, axis=1)
        elif self.type == gguf.GGMLQuantizationType.Q8_0:
            b = raw.reshape(-1, 34)
            d = b[:, 0:2].copy().view(np.float16).astype(np.float64)[:, 0]
            q = b[:, 2:].view(np.int8).astype(np.float64)
            rows = b.shape[0] * 32 // cols
            self.w = (d[:, None] * q).reshape(rows, cols)
            self.dq, self.m = self.w, None
        else:
            self.w = np.asarray(t.data, dtype=np.float64).reshape(-1, cols)
            self.dq, self.m = self.w, None

    def __call__(self, x, mode):
        """y = x · Wᵀ for x [T, cols]."""
        if mode == "exact" or self.type not in (gguf.GGMLQuantizationType.Q4_1,
                                                  gguf.GGMLQuantizationType.Q8_0):
            return x @ self.w.T
        T, K = x.shape
        xb = x.astype(np.float32).reshape(T, K // 32, 32)
        amax = np.abs(xb).max(axis=2)
        d = (amax / np.float32(127)).astype(np.float32)
        inv = np.where(d > 0, np.float32(1) / np.where(d > 0, d, 1), 0).astype(np.float32)
        q = np.rint(xb * inv[:, :, None])  # AVX2 quantize_row_q8_*: round to nearest even
        dx = f16(d)
        xq = (q * dx[:, :, None]).reshape(T, K)
        y = xq @ self.dq.T
        if self.m is not None:  # Q8_1's s = fp16(d·Σq), used with the block minimum
            s = f16(d.astype(np.float64) * q.sum(axis=2))
            y += s @ self.m.T
        return y


def rmsnorm(x, w, eps):
    return x / np.sqrt((x * x).mean(axis=1, keepdims=True) + eps) * w


def rope(x, n_heads, hd, theta):
    T = x.shape[0]
    x = x.reshape(T, n_heads, hd // 2, 2)
    inv = 1.0 / theta ** (np.arange(0, hd, 2) / hd)
    ang = np.arange(T)[:, None] * inv[None, :]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    a, b = x[..., 0], x[..., 1]
    return np.stack([a * c - b * s, b * c + a * s], axis=-1).reshape(T, n_heads * hd)


class Model:
    def __init__(self, path):
        r = gguf.GGUFReader(path)
        f = {k: v.contents() for k, v in r.fields.items() if not k.startswith("tokenizer.")}
        self.L, self.dim = f["llama.block_count"], f["llama.embedding_length"]
        self.H, self.Hkv = f["llama.attention.head_count"], f["llama.attention.head_count_kv"]
        self.hd = self.dim // self.H
        self.eps, self.theta = f["llama.attention.layer_norm_rms_epsilon"], f["llama.rope.freq_base"]
        self.t = {t.name: t for t in r.tensors}
        self.cache = {}

    def W(self, name):
        if name not in self.cache:
            self.cache[name] = QMat(self.t[name])
        return self.cache[name]

    def vec(self, name):
        return np.asarray(self.t[name].data, dtype=np.float64)

    def logits(self, ids, mode, rows=None):
        """Logits of the last position, or of the positions in rows (list) as [len(rows), V]."""
        emb = self.W("token_embd.weight")
        x = emb.w[ids]
        T, hd, H, Hkv = len(ids), self.hd, self.H, self.Hkv
        mask = np.triu(np.full((T, T), -np.inf), 1)
        for l in range(self.L):
            p = f"blk.{l}."
            h = rmsnorm(x, self.vec(p + "attn_norm.weight"), self.eps)
            q = rope(self.W(p + "attn_q.weight")(h, mode), H, hd, self.theta)
            k = rope(self.W(p + "attn_k.weight")(h, mode), Hkv, hd, self.theta)
            v = self.W(p + "attn_v.weight")(h, mode)
            att = np.zeros((T, H * hd))
            for hh in range(H):
                kh = hh // (H // Hkv)
                qs, ks, vs = q[:, hh * hd:(hh + 1) * hd], k[:, kh * hd:(kh + 1) * hd], v[:, kh * hd:(kh + 1) * hd]
                sc = qs @ ks.T / np.sqrt(hd) + mask
                sc = np.exp(sc - sc.max(axis=1, keepdims=True))
                att[:, hh * hd:(hh + 1) * hd] = (sc / sc.sum(axis=1, keepdims=True)) @ vs
            x = x + self.W(p + "attn_output.weight")(att, mode)
            h = rmsnorm(x, self.vec(p + "ffn_norm.weight"), self.eps)
            g, u = self.W(p + "ffn_gate.weight")(h, mode), self.W(p + "ffn_up.weight")(h, mode)
            x = x + self.W(p + "ffn_down.weight")(g / (1 + np.exp(-g)) * u, mode)
        h = rmsnorm(x[rows if rows is not None else [-1]], self.vec("output_norm.weight"), self.eps)
        out = self.W("output.weight" if "output.weight" in self.t else "token_embd.weight")
        y = out(h, mode)
        return y if rows is not None else y[0]


def forced(nemo, path, g, sel):
    tmp = "/tmp/llamacpp_divergence_logits.bin"
    agree = total = 0
    for i in sel:
        c = g["cases"][i]
        for k, st in enumerate(c["steps"]):
            ids = c["ids"] + c["greedy"][:k]
            subprocess.run([nemo, "logits", path, "--ids", ",".join(map(str, ids)), "--out", tmp], check=True)
            ours = int(np.fromfile(tmp, dtype=np.float32).argmax())
            total += 1
            if ours == st["ids"][0]:
                agree += 1
            else:
                lg = dict(zip(st["ids"], st["logits"]))
                print(f"case {i} step {k}: nemo {ours}, llama.cpp {st['ids'][0]}; llama.cpp's gap "
                      f"top1-top2 {st['logits'][0] - st['logits'][1]:.4f}, top1-nemo's "
                      f"{st['logits'][0] - lg.get(ours, float('nan')):.4f}")
    print(f"teacher-forced: nemo's argmax is llama.cpp's at {agree} of {total} steps")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nemo", default=os.path.join(ROOT, "build/release/nemo"))
    ap.add_argument("--golden", default=os.path.join(ROOT, "tests/golden/smollm2/llamacpp_q4_1_kvf32.json"))
    ap.add_argument("--cases", default="")
    ap.add_argument("--forced", action="store_true")
    a = ap.parse_args()
    g = json.load(open(a.golden))
    path = subprocess.check_output([sys.executable, os.path.join(ROOT, "scripts/fixture.py"), g["model"]],
                                   text=True).strip()
    sel = [int(i) for i in a.cases.split(",")] if a.cases else range(len(g["cases"]))
    if a.forced:
        return forced(a.nemo, path, g, sel)
    model = Model(path)
    sel = [int(i) for i in a.cases.split(",")] if a.cases else range(len(g["cases"]))
    print("max |Δlogit| over llama.cpp's top-16 of the last prompt position (logits ~25-35):")
    for i in sel:
        c = g["cases"][i]
        tmp = "/tmp/llamacpp_divergence_logits.bin"
        subprocess.run([a.nemo, "logits", path, "--ids", ",".join(map(str, c["ids"])), "--out", tmp],
                       check=True)
        ours = np.fromfile(tmp, dtype=np.float32).astype(np.float64)
        llama = np.zeros_like(ours)
        top = np.array(c["top_ids"])
        llama[top] = c["top_logits"]
        ex, gg = model.logits(c["ids"], "exact"), model.logits(c["ids"], "ggml")

        def diff(u, v):
            return np.abs(u[top] - v[top]).max()
        print(f"case {i} ({c['message'][:28]!r}): exact~nemo {diff(ex, ours):.5f}  exact~llama.cpp "
              f"{diff(ex, llama):.4f}  ggml~llama.cpp {diff(gg, llama):.5f}  ggml~nemo {diff(gg, ours):.4f}"
              f"  argmax nemo/exact/ggml/llama.cpp {int(ours.argmax())}/{int(ex.argmax())}/"
              f"{int(gg.argmax())}/{c['top_ids'][0]}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""gguf_from_synth.py — converts a native-layout checkpoint folder (consolidated.safetensors +
params.json, as `nemo synth` writes it) into a llama-architecture GGUF v3 file with NeMo's
metadata keys (spec 2e), so the GGUF path can be checked against the safetensors path on the
same weights.

Usage: /work/venv/bin/python scripts/gguf_from_synth.py DIR OUT.gguf [--type T]
       T = F32 | F16 | BF16 | Q8_0 | Q4_0 | Q4_1 | Q5_0 | Q5_1   (default F16)

Matrices are stored as T (F16 when their row length is not a multiple of T's block size);
1-d tensors (norms) stay F32, as llama.cpp's converter keeps them. Rows stay in the native
(interleaved-pair RoPE) order, which is GGUF's order for q/k: no permutation. Quantization uses
the gguf package's numpy reference (gguf.quants), which matches ggml's reference quantizers.
No tokenizer is embedded: the file carries llama.vocab_size and bos/eos ids 1/2; with --vocab
gpt2 it also carries a stand-in byte-level BPE vocabulary of exactly vocab_size tokens (the 256
byte symbols, then two-symbol merges) so that llama.cpp, which refuses a model without one, can
load the file. The weights know nothing of it: it only exists to be accepted.
"""
import argparse
import json
import os
import struct

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.quants import quantize

FILE_TYPE = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9,
             "BF16": 32}
LAYER_NAMES = {
    "attention_norm.weight": "attn_norm.weight",
    "attention.wq.weight": "attn_q.weight",
    "attention.wk.weight": "attn_k.weight",
    "attention.wv.weight": "attn_v.weight",
    "attention.wo.weight": "attn_output.weight",
    "ffn_norm.weight": "ffn_norm.weight",
    "feed_forward.w1.weight": "ffn_gate.weight",
    "feed_forward.w2.weight": "ffn_down.weight",
    "feed_forward.w3.weight": "ffn_up.weight",
}
TOP_NAMES = {"tok_embeddings.weight": "token_embd.weight", "norm.weight": "output_norm.weight",
             "output.weight": "output.weight"}


def read_safetensors(path):
    """name -> float32 ndarray (handles BF16, which numpy lacks, by widening the bits)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    raw = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        buf = np.asarray(raw[b:e])
        dt = info["dtype"]
        if dt == "F32":
            a = buf.view(np.float32)
        elif dt == "F16":
            a = buf.view(np.float16).astype(np.float32)
        elif dt == "BF16":
            a = (buf.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            raise SystemExit(f"{path}: tensor {name}: dtype {dt} not handled")
        out[name] = a.reshape(info["shape"])
    return out


def gguf_name(name):
    if name in TOP_NAMES:
        return TOP_NAMES[name]
    parts = name.split(".", 2)
    if len(parts) == 3 and parts[0] == "layers" and parts[2] in LAYER_NAMES:
        return f"blk.{parts[1]}.{LAYER_NAMES[parts[2]]}"
    raise SystemExit(f"unexpected tensor name {name!r}")


def add_stand_in_vocab(w, n):
    """n tokens: GPT-2's 256 byte symbols (bytes_to_unicode order), then merges of two of them."""
    if n < 256:
        raise SystemExit(f"--vocab gpt2 needs vocab_size >= 256, not {n}")
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs, extra = bs[:], 0
    for byte in range(256):
        if byte not in bs:
            bs.append(byte)
            cs.append(256 + extra)
            extra += 1
    sym = [chr(c) for c in cs]
    tokens, merges = sym[:256], []
    printable = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    i = 0
    while len(tokens) < n:
        a, b = printable[i // 26 % 26], printable[i % 26]
        if a + b not in tokens:
            tokens.append(a + b)
            merges.append(f"{a} {b}")
        i += 1
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types([1] * n)
    w.add_token_merges(merges or ["a b"])
    w.add_add_bos_token(True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("out")
    ap.add_argument("--type", default="F16", choices=list(FILE_TYPE))
    ap.add_argument("--context-length", type=int, default=1024000,
                    help="llama.context_length (NeMo's GGUF files say 1024000)")
    ap.add_argument("--vocab", choices=["none", "gpt2"], default="none",
                    help="embed a stand-in gpt2 vocabulary (for llama.cpp)")
    args = ap.parse_args()
    with open(os.path.join(args.dir, "params.json")) as f:
        p = json.load(f)
    tensors = read_safetensors(os.path.join(args.dir, "consolidated.safetensors"))
    head_dim = p.get("head_dim", p["dim"] // p["n_heads"])
    w = gguf.GGUFWriter(args.out, "llama")
    w.add_name("nemo.c synthetic checkpoint")
    w.add_block_count(p["n_layers"])
    w.add_context_length(args.context_length)
    w.add_embedding_length(p["dim"])
    w.add_feed_forward_length(p["hidden_dim"])
    w.add_head_count(p["n_heads"])
    w.add_head_count_kv(p["n_kv_heads"])
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_rope_dimension_count(head_dim)
    w.add_rope_freq_base(float(p.get("rope_theta", 10000.0)))
    w.add_layer_norm_rms_eps(float(p["norm_eps"]))
    w.add_vocab_size(p["vocab_size"])
    w.add_file_type(FILE_TYPE[args.type])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    if args.vocab == "gpt2":
        add_stand_in_vocab(w, p["vocab_size"])
    qt = T[args.type]
    block = gguf.GGML_QUANT_SIZES[qt][0]
    for name in sorted(tensors):
        x = np.ascontiguousarray(tensors[name], dtype=np.float32)
        gname = gguf_name(name)
        if x.ndim == 1 or qt == T.F32:
            w.add_tensor(gname, x)
        elif qt == T.F16 or x.shape[-1] % block:
            w.add_tensor(gname, x.astype(np.float16))
        else:
            w.add_tensor(gname, quantize(x, qt), raw_dtype=qt)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""golden_forward.py — makes the reference-parity goldens under tests/golden/forward/.

For each case it writes a synthetic checkpoint with `build/release/nemo synth` (HF layout),
loads it with transformers' MistralForCausalLM in float32 with eager attention (the f32 math on
the stored, possibly bf16/f16, weights is the reference), and records the last-position logits
of a fixed prompt, the argmax of every prompt position and a greedy 32-token continuation
(manual loop, full recompute each step, no KV cache: the plainest reading of the model). It
also writes the native-layout folder of the same seed and checks that its tensors equal the HF
ones up to the q/k row permutation of spec 1.4, and for the sliding-window case it checks by
perturbation which keys transformers lets a query see.

Test tooling only: `make test` reads the committed JSON files and never needs torch.
Run:  make && /work/venv/bin/python scripts/golden_forward.py [--only NAME] [--tmp DIR]
Pinned: torch 2.15 (CPU), transformers 5.23, safetensors 0.8 (the versions used are written
into each golden).
"""
import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import safetensors
import torch
import transformers
from safetensors.torch import load_file
from transformers import MistralForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEMO = os.path.join(ROOT, "build", "release", "nemo")
OUT_DIR = os.path.join(ROOT, "tests", "golden", "forward")
N_GEN = 32
# A greedy step whose top-2 logits are closer than this could flip under legitimate f32
# rounding differences; such a case needs another seed.
MIN_GAP = 1e-3

# (a) NeMo's per-layer shape, 1 layer and a small vocab; (b) head_dim != dim/heads with GQA in
# three dtypes; (c) Mistral 7B v0.1 style sliding window (window 16, theta 1e4) with a
# sequence of 24 + 32 tokens, sharded HF folder. `layouts`: what the C test opens.
SMALL = dict(dim=256, n_layers=3, n_heads=8, n_kv_heads=2, head_dim=64, hidden_dim=512,
             vocab_size=512, sliding_window=0, rope_theta=1e6, norm_eps=1e-5, n_shards=1)
CASES = [
    dict(name="nemo_layer_bf16",
         about="NeMo 12B per-layer shape (dim 5120, 32/8 heads, head_dim 128, FFN 14336), "
               "1 layer, vocab 1024, bf16",
         synth=dict(dim=5120, n_layers=1, n_heads=32, n_kv_heads=8, head_dim=128,
                    hidden_dim=14336, vocab_size=1024, sliding_window=0, rope_theta=1e6,
                    norm_eps=1e-5, dtype="BF16", seed=12, n_shards=1),
         prompt_len=12, layouts=["hf", "native"]),
    dict(name="gqa_hd64_f32",
         about="head_dim 64 != dim/heads 32, 8 query heads on 2 kv heads, 3 layers, f32",
         synth=dict(SMALL, dtype="F32", seed=7), prompt_len=16, layouts=["native", "hf"]),
    dict(name="gqa_hd64_bf16", about="same shape as gqa_hd64_f32, bf16 weights",
         synth=dict(SMALL, dtype="BF16", seed=8), prompt_len=16, layouts=["native", "hf"]),
    dict(name="gqa_hd64_f16", about="same shape as gqa_hd64_f32, f16 weights",
         synth=dict(SMALL, dtype="F16", seed=9), prompt_len=16, layouts=["native", "hf"]),
    dict(name="window16_f32",
         about="Mistral 7B v0.1 style: sliding window 16, rope theta 1e4, head_dim = dim/heads, "
               "prompt 24 + 32 generated (longer than the window), HF in 3 shards",
         synth=dict(dim=256, n_layers=2, n_heads=8, n_kv_heads=2, head_dim=32, hidden_dim=512,
                    vocab_size=512, sliding_window=16, rope_theta=1e4, norm_eps=1e-5,
                    dtype="F32", seed=16, n_shards=3),
         prompt_len=24, layouts=["native", "hf"]),
    dict(name="window16_bf16", about="same as window16_f32 with bf16 weights, one HF file",
         synth=dict(dim=256, n_layers=2, n_heads=8, n_kv_heads=2, head_dim=32, hidden_dim=512,
                    vocab_size=512, sliding_window=16, rope_theta=1e4, norm_eps=1e-5,
                    dtype="BF16", seed=17, n_shards=1),
         prompt_len=24, layouts=["native", "hf"]),
]


def synth_cmd(s, layout, out):
    cmd = [NEMO, "synth", out, "--layers", str(s["n_layers"]), "--dim", str(s["dim"]),
           "--heads", str(s["n_heads"]), "--kv-heads", str(s["n_kv_heads"]),
           "--head-dim", str(s["head_dim"]), "--hidden", str(s["hidden_dim"]),
           "--vocab", str(s["vocab_size"]), "--window", str(s["sliding_window"]),
           "--theta", repr(float(s["rope_theta"])), "--eps", repr(float(s["norm_eps"])),
           "--dtype", s["dtype"].lower(), "--seed", str(s["seed"]), "--layout", layout,
           "--quiet", "--force"]
    if layout == "hf" and s["n_shards"] > 1:
        cmd += ["--shards", str(s["n_shards"])]
    return cmd


def load_tensors(folder):
    out = {}
    for f in sorted(os.listdir(folder)):
        if f.endswith(".safetensors"):
            out.update(load_file(os.path.join(folder, f)))
    return out


HF_OF_NATIVE = {
    "tok_embeddings.weight": "model.embed_tokens.weight",
    "norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
}
LAYER_MAP = {
    "attention_norm": "input_layernorm", "attention.wq": "self_attn.q_proj",
    "attention.wk": "self_attn.k_proj", "attention.wv": "self_attn.v_proj",
    "attention.wo": "self_attn.o_proj", "ffn_norm": "post_attention_layernorm",
    "feed_forward.w1": "mlp.gate_proj", "feed_forward.w2": "mlp.down_proj",
    "feed_forward.w3": "mlp.up_proj",
}


def hf_name(native):
    if native in HF_OF_NATIVE:
        return HF_OF_NATIVE[native]
    _, layer, rest = native.split(".", 2)
    return "model.layers.%s.%s.weight" % (layer, LAYER_MAP[rest[: -len(".weight")]])


def permute_for_hf(w, head_dim):
    """convert_mistral_weights_to_hf.py's permute: per head, HF row s*hd/2+i = native 2i+s."""
    rows, cols = w.shape
    return w.view(rows // head_dim, head_dim // 2, 2, cols).transpose(1, 2).reshape(rows, cols)


def check_layouts(native_dir, hf_dir, head_dim):
    nat, hf = load_tensors(native_dir), load_tensors(hf_dir)
    assert len(nat) == len(hf), (len(nat), len(hf))
    for name, w in nat.items():
        h = hf[hf_name(name)]
        if ".wq." in name or ".wk." in name:
            w = permute_for_hf(w, head_dim)
        assert w.dtype == h.dtype and w.shape == h.shape and torch.equal(w, h), name
    # the shard index must name every tensor, each in the file that holds it
    idx = os.path.join(hf_dir, "model.safetensors.index.json")
    if os.path.exists(idx):
        wm = json.load(open(idx))["weight_map"]
        assert set(wm) == set(hf)
        for name, f in wm.items():
            assert name in load_file(os.path.join(hf_dir, f)), (name, f)
    return len(nat)


def logits_of(model, ids):
    with torch.no_grad():
        return model(torch.tensor([ids]), use_cache=False).logits[0].float()


def greedy(model, prompt, n):
    ids, gaps = list(prompt), []
    for _ in range(n):
        row = logits_of(model, ids)[-1]
        top = torch.topk(row, 2).values
        gaps.append(float(top[0] - top[1]))
        ids.append(int(torch.argmax(row)))
    return ids[len(prompt):], gaps


def window_semantics(hf_dir, window, prompt):
    """With one layer, position i sees only its attended keys: change the token at one earlier
    position and see whether the logits at i move."""
    m = MistralForCausalLM.from_pretrained(hf_dir, dtype=torch.float32,
                                           attn_implementation="eager", num_hidden_layers=1)
    m.eval()
    i = len(prompt) - 1
    base = logits_of(m, prompt)[i]

    def moved(j):
        p = list(prompt)
        p[j] = 3 + (p[j] + 1) % 100
        return not torch.equal(logits_of(m, p)[i], base)

    inside, outside = moved(i - window + 1), moved(i - window)
    assert inside and not outside, (inside, outside)
    return "query i attends keys j with i - %d < j <= i (%d positions incl. itself); checked " \
           "by perturbing one token of a 1-layer model" % (window, window)


def fmt(x):
    return float("%.9g" % x)


def make_case(case, tmp):
    s = case["synth"]
    hf_dir, nat_dir = os.path.join(tmp, case["name"] + "_hf"), os.path.join(tmp, case["name"] + "_native")
    for layout, d in (("hf", hf_dir), ("native", nat_dir)):
        subprocess.run(synth_cmd(s, layout, d), check=True, stdout=subprocess.DEVNULL)
    n_tensors = check_layouts(nat_dir, hf_dir, s["head_dim"])

    rng = random.Random(1000 + s["seed"])
    prompt = [1] + [rng.randrange(3, s["vocab_size"]) for _ in range(case["prompt_len"] - 1)]
    model = MistralForCausalLM.from_pretrained(hf_dir, dtype=torch.float32,
                                               attn_implementation="eager")
    model.eval()
    cfg = model.config
    assert cfg.head_dim == s["head_dim"] and cfg.num_key_value_heads == s["n_kv_heads"]
    assert (cfg.sliding_window or 0) == s["sliding_window"]
    all_logits = logits_of(model, prompt)
    top2 = torch.topk(all_logits, 2, dim=-1).values
    gen, gaps = greedy(model, prompt, N_GEN)
    with torch.no_grad():
        cached = model.generate(torch.tensor([prompt]), max_new_tokens=N_GEN, do_sample=False,
                                min_new_tokens=N_GEN, pad_token_id=0, eos_token_id=None)
    cached = cached[0, len(prompt):].tolist()
    if min(gaps) < MIN_GAP:
        sys.exit("%s: greedy step with top-2 gap %.2g < %g: pick another seed"
                 % (case["name"], min(gaps), MIN_GAP))

    g = dict(
        name=case["name"], about=case["about"],
        synth=dict(s), layouts=case["layouts"],
        tolerance=1e-4 if s["dtype"] == "F32" else 2e-2,
        prompt=prompt,
        last_logits=[fmt(x) for x in all_logits[-1].tolist()],
        prompt_argmax=all_logits.argmax(-1).tolist(),
        prompt_top2_gap=[fmt(x) for x in (top2[:, 0] - top2[:, 1]).tolist()],
        greedy=gen,
        greedy_top2_gap=[fmt(x) for x in gaps],
        generate_with_cache_agrees=cached == gen,
        n_tensors=n_tensors,
        reference=dict(
            model="transformers MistralForCausalLM.from_pretrained(HF folder, dtype=float32, "
                  "attn_implementation='eager'); weights upcast from the stored dtype",
            logits="model(prompt, use_cache=False).logits[0, -1]",
            greedy="argmax loop, full recompute of the sequence each step, no KV cache",
            synth_command=" ".join(["nemo"] + synth_cmd(s, "hf", "DIR")[1:]),
            torch=torch.__version__, transformers=transformers.__version__,
            safetensors=safetensors.__version__, numpy=np.__version__,
            python=platform.python_version(), made_by="scripts/golden_forward.py",
        ),
    )
    if s["sliding_window"]:
        g["reference"]["window"] = window_semantics(hf_dir, s["sliding_window"], prompt)
    path = os.path.join(OUT_DIR, case["name"] + ".json")
    with open(path, "w") as f:
        json.dump(g, f, indent=1)
        f.write("\n")
    print("%s: max|logit| %.3f, min greedy gap %.4f, min prompt gap %.4f, cache agrees %s -> %s"
          % (case["name"], float(all_logits[-1].abs().max()), min(gaps),
             float((top2[:, 0] - top2[:, 1]).min()), cached == gen, os.path.relpath(path, ROOT)))
    shutil.rmtree(hf_dir)
    shutil.rmtree(nat_dir)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", action="append", help="case name (repeatable)")
    ap.add_argument("--tmp", help="scratch folder for the checkpoints (default: a temp dir)")
    a = ap.parse_args()
    if not os.access(NEMO, os.X_OK):
        sys.exit("build/release/nemo is missing: run make first")
    torch.manual_seed(0)
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    os.makedirs(OUT_DIR, exist_ok=True)
    tmp = a.tmp or tempfile.mkdtemp(prefix="nemo_golden_")
    for case in CASES:
        if a.only and case["name"] not in a.only:
            continue
        make_case(case, tmp)
    if not a.tmp:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

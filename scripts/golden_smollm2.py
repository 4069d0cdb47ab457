#!/usr/bin/env python3
"""golden_smollm2.py — reference outputs of the real SmolLM2-135M-Instruct Q4_1 GGUF.

transformers loads the GGUF (dequantizing every weight to f32) and computes, for a few
prompts, the top-16 logits of the last prompt position and a 64-token greedy continuation.
Writes tests/golden/smollm2/q4_1.json, checked by tests/cli/smollm2_golden.sh.

Needs /work/venv-style tooling: torch, transformers, gguf, accelerate (scripts/requirements-dev.txt).
Usage: python scripts/golden_smollm2.py
"""
import os

import gguf
import torch
import transformers
from golden_io import ROOT, fixture, sha256, write_json
from transformers import AutoModelForCausalLM, AutoTokenizer

PROMPTS = [
    "The capital of France is",
    "Once upon a time, in a small village,",
    "def fibonacci(n):",
    "The three primary colors are",
    "Water boils at a temperature of",
]


def greedy(model, ids, n):
    """Plain argmax for n steps, never stopping at EOS (what `nemo generate` does; generate()'s
    min_new_tokens would instead mask EOS and change the continuation)."""
    out = model(torch.tensor([ids]), use_cache=True)
    past, gen = out.past_key_values, []
    for _ in range(n):
        tok = int(out.logits[0, -1].argmax())
        gen.append(tok)
        out = model(torch.tensor([[tok]]), past_key_values=past, use_cache=True)
        past = out.past_key_values
    return gen


def main():
    path = fixture("SmolLM2-135M-Instruct.Q4_1.gguf")
    sha = sha256(path)
    d, name = os.path.dirname(path), os.path.basename(path)
    tok = AutoTokenizer.from_pretrained(d, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=name, torch_dtype=torch.float32).eval()
    cases = []
    for text in PROMPTS:
        ids = tok(text)["input_ids"]
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0, -1]
            top = torch.topk(logits, 16)
            gen = greedy(model, ids, 64)
        cases.append({
            "prompt": text,
            "ids": ids,
            "top_ids": top.indices.tolist(),
            "top_logits": [float(v) for v in top.values],
            "max_abs_logit": float(logits.abs().max()),
            "greedy": gen,
            "greedy_text": tok.decode(gen),
        })
    out = {
        "model": name,
        "model_sha256": sha,
        "reference": "transformers MistralForCausalLM/LlamaForCausalLM from GGUF, weights "
                     "dequantized to f32, float32 compute, greedy (do_sample=False)",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "gguf": gguf.__version__ if hasattr(gguf, "__version__") else "?"},
        "generator": "scripts/golden_smollm2.py",
        "cases": cases,
    }
    dst = os.path.join(ROOT, "tests/golden/smollm2/q4_1.json")
    write_json(dst, out, ensure_ascii=False)
    print(f"wrote {dst}")


if __name__ == "__main__":
    main()

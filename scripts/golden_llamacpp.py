#!/usr/bin/env python3
"""golden_llamacpp.py — llama.cpp's outputs for the real SmolLM2-135M-Instruct Q4_1 GGUF, to
compare `nemo generate` against a second, independent engine (tests/cli/llamacpp_parity.sh).

llama-cpp-python runs the pinned GGUF on the CPU, one thread, from token ids (no llama.cpp
tokenizer involved). The prompts are real chat prompts: the ids transformers' chat template
gives for the GGUF's own template. For each prompt it records a 64-token greedy continuation
(plain argmax, never stopping at EOS, like `nemo generate`) and, at every step, llama.cpp's top
logits, so a test can tell a near-tie flipped by rounding from a real disagreement. It also
records llama.cpp's greedy continuations with one token per batch (n_batch=1) and with the other
KV-cache type: where those leave its own main continuation measures how far one engine agrees
with itself, the yardstick for nemo's agreement with it.

llama.cpp does not compute what transformers computes: for quantized weights its CPU matmul
first quantizes the activations (Q8_1 blocks for Q4_1 weights, Q8_0 for the Q8_0 token
embedding used as output), and by default it keeps the KV cache in f16. --kv f32 removes the
second difference; the first cannot be switched off in llama.cpp.

Needs /work/venv-style tooling: llama-cpp-python 0.3.36, transformers, gguf, numpy.
Usage: python scripts/golden_llamacpp.py [--kv f32|f16]
"""
import argparse
import os

import numpy as np
from golden_io import ROOT, fixture, sha256, write_json

# user messages; the chat template adds the system prompt and the assistant header
MESSAGES = [
    "What is the capital of France?",
    "Write a haiku about the sea.",
    "Explain in two sentences why the sky is blue.",
    "Give me a Python function that reverses a string.",
    "List three fruits that are red.",
]
N_GEN = 64
TOP = 8  # top logits kept per step
GGML_TYPE = {"f32": 0, "f16": 1}


def chat_ids(model_dir, name):
    """Ids of each message formatted with the GGUF's chat template (transformers)."""
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(model_dir, gguf_file=name)
    out = []
    for m in MESSAGES:
        ids = tok.apply_chat_template([{"role": "user", "content": m}], add_generation_prompt=True,
                                      tokenize=True)
        if hasattr(ids, "keys"):  # newer transformers return a BatchEncoding
            ids = ids["input_ids"]
        out.append((m, tok.decode(ids), [int(i) for i in ids], tok))
    return out


def top(logits, k):
    idx = np.argsort(-logits, kind="stable")[:k]
    return [int(i) for i in idx], [float(logits[i]) for i in idx]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kv", choices=GGML_TYPE, default="f32", help="llama.cpp KV cache type")
    args = ap.parse_args()
    import llama_cpp
    path = fixture("SmolLM2-135M-Instruct.Q4_1.gguf")
    sha = sha256(path)
    d, name = os.path.dirname(path), os.path.basename(path)
    prompts = chat_ids(d, name)
    settings = dict(n_ctx=512, n_batch=512, n_ubatch=512, n_threads=1, n_threads_batch=1,
                    logits_all=True, flash_attn=False, type_k=GGML_TYPE[args.kv],
                    type_v=GGML_TYPE[args.kv], n_gpu_layers=0, seed=0, verbose=False)
    llm = llama_cpp.Llama(model_path=path, **settings)
    # llama.cpp against itself: the same prompts with one token per batch, and with its default
    # f16 KV cache. Activation quantization makes its logits depend on float-op order (a
    # rounding flip of one Q8 value moves it by d), so these spreads show how far apart two
    # correct engines may be.
    variants = {"n_batch=1": dict(settings, n_batch=1, n_ubatch=1),
                "kv f16" if args.kv == "f32" else "kv f32":
                    dict(settings, type_k=1 if args.kv == "f32" else 0, type_v=1 if args.kv == "f32" else 0)}
    spread = {}
    # and each variant's own 64-token greedy continuation per prompt: where it leaves the main
    # setting's is how far llama.cpp agrees with itself (the parity test's yardstick)
    variant_greedy = [{} for _ in prompts]
    for vname, vs in variants.items():
        other = llama_cpp.Llama(model_path=path, **vs)
        spread[vname] = []
        for pi, (msg, text, ids, tok) in enumerate(prompts):
            llm.reset()
            llm.eval(ids)
            a = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
            other.reset()
            other.eval(ids)
            b = np.array(other.scores[other.n_tokens - 1], dtype=np.float32)
            t = np.argsort(-a)[:16]
            spread[vname].append(float(np.abs(a[t] - b[t]).max()))
            gen = []
            for i in range(N_GEN):
                gen.append(int(np.argmax(other.scores[other.n_tokens - 1])))
                if i + 1 < N_GEN:
                    other.eval([gen[-1]])
            variant_greedy[pi][vname] = gen
        del other
    print("llama.cpp self-spread (max |dlogit| on top-16):", spread)
    cases = []
    for msg, text, ids, tok in prompts:
        llm.reset()
        llm.eval(ids)
        logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        p_ids, p_vals = top(logits, 16)
        gen, steps = [], []
        for i in range(N_GEN):
            t_ids, t_vals = top(logits, TOP)
            steps.append({"ids": t_ids, "logits": t_vals})
            gen.append(t_ids[0])
            if i + 1 < N_GEN:
                llm.eval([t_ids[0]])
                logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        cases.append({
            "message": msg,
            "prompt": text,
            "ids": ids,
            "top_ids": p_ids,
            "top_logits": p_vals,
            "max_abs_logit": float(np.abs(np.array(llm.scores[len(ids) - 1])).max()),
            "greedy": gen,
            "greedy_text": tok.decode(gen),
            "steps": steps,
            "variant_greedy": variant_greedy[len(cases)],
        })
        print(f"{msg!r}: {tok.decode(gen)[:60]!r}")
    import transformers
    out = {
        "model": name,
        "model_sha256": sha,
        "reference": "llama.cpp (llama-cpp-python) CPU, 1 thread, token ids in, greedy argmax; "
                     f"KV cache {args.kv}, flash attention off; quantized matmuls use "
                     "Q8_1/Q8_0-quantized activations (ggml's vec_dot_type)",
        "settings": {k: v for k, v in settings.items() if k != "verbose"},
        "versions": {"llama_cpp_python": llama_cpp.__version__,
                     "ggml_system_info": llama_cpp.llama_print_system_info().decode().strip(),
                     "numpy": np.__version__, "transformers (chat template)": transformers.__version__},
        "llamacpp_self_spread": {"what": "max |dlogit| over the top-16 of the last prompt position "
                                         "between these settings and the variant named", **spread},
        "variant_greedy": {"what": "per case: llama.cpp's own 64-token greedy continuation "
                                   "under each variant of llamacpp_self_spread (same settings but "
                                   "the one named), to compare with `greedy`",
                           "settings": {k: {kk: vv for kk, vv in v.items() if kk != "verbose"}
                                        for k, v in variants.items()}},
        "generator": "scripts/golden_llamacpp.py --kv " + args.kv,
        "cases": cases,
    }
    dst = os.path.join(ROOT, f"tests/golden/smollm2/llamacpp_q4_1_kv{args.kv}.json")
    write_json(dst, out, ensure_ascii=False)
    print(f"wrote {dst}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""golden_perplexity.py — llama.cpp's perplexity of SmolLM2-135M-Instruct Q4_1 on the committed
public-domain text tests/data/kjv_genesis_1-11.txt, for `nemo perplexity` to be checked against.

llama.cpp's method (tools/perplexity/perplexity.cpp, perplexity()) reproduced step by step with
llama-cpp-python (logits_all): tokenize the whole text with the model's vocabulary (BOS only if
the vocabulary adds one), cut it into whole chunks of n_ctx tokens, evaluate each chunk from an
empty KV cache with its first token replaced by BOS when the vocabulary adds one, and score the
second half: logits at positions n_ctx/2 .. n_ctx-2 against the next token, log-softmax with a
float max and a double sum of expf, running "[i]ppl" after each chunk, final exp(mean NLL)
± ppl·sqrt(var/(count-1)). (llama-perplexity itself batches 4 chunks of 512 per decode with its
default --batch-size 2048; that changes llama.cpp's own logits by float-order noise only.)

For the quick test setting it also computes the same perplexity with the float64 reference of
scripts/llamacpp_divergence.py (exact dequantized weights, no activation quantization: what
nemo computes), so the test can hold nemo to a tight tolerance as well.

Writes tests/golden/smollm2/kjv_genesis_1-11.ids (llama.cpp's token ids of the text) and
tests/golden/smollm2/perplexity.json. Needs llama-cpp-python 0.3.36, gguf, numpy.
Usage: python scripts/golden_perplexity.py
"""
import hashlib
import json
import math
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEXT = "tests/data/kjv_genesis_1-11.txt"
SETTINGS = [  # (name, n_ctx, n_chunks or None for all)
    ("full", 512, None),
    ("quick", 128, 2),
]


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def nll(logits, tok):
    """-log_softmax as perplexity.cpp's log_softmax computes it (float max, double sum)."""
    lg = np.asarray(logits, dtype=np.float32)
    mx = lg.max()
    s = float(np.exp(lg - mx, dtype=np.float32).astype(np.float64).sum())
    return -(float(lg[tok] - mx) - math.log(s))


def perplexity(tokens, n_ctx, n_chunks, add_bos, bos, chunk_logits):
    """chunk_logits(chunk_ids, rows) -> logits [len(rows), V] for that chunk evaluated alone."""
    n_max = len(tokens) // n_ctx
    n = n_max if n_chunks is None else min(n_chunks, n_max)
    first = n_ctx // 2
    tot = tot2 = 0.0
    count = 0
    running = []
    for i in range(n):
        chunk = list(tokens[i * n_ctx:(i + 1) * n_ctx])
        if add_bos:
            chunk[0] = bos
        rows = list(range(first, n_ctx - 1))
        lg = chunk_logits(chunk, rows)
        for r, row in zip(rows, lg):
            v = nll(row, tokens[i * n_ctx + r + 1])
            tot += v
            tot2 += v * v
        count += n_ctx - first - 1
        running.append(round(math.exp(tot / count), 4))
    mean = tot / count
    var = tot2 / count - mean * mean
    ppl = math.exp(mean)
    return {"n_ctx": n_ctx, "n_chunks": n, "n_scored": count, "ppl": ppl,
            "ppl_err": math.sqrt(var / (count - 1)) * ppl, "nll": mean, "running": running}


def main():
    import llama_cpp
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    from llamacpp_divergence import Model
    model = subprocess.check_output(
        [sys.executable, os.path.join(ROOT, "scripts/fixture.py"), "SmolLM2-135M-Instruct.Q4_1.gguf"],
        text=True).strip()
    text_path = os.path.join(ROOT, TEXT)
    tok = llama_cpp.Llama(model_path=model, vocab_only=True, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(tok.model)
    add_bos = bool(llama_cpp.llama_vocab_get_add_bos(vocab))
    bos = int(llama_cpp.llama_vocab_bos(vocab))
    # common_tokenize(ctx, text, add_special=true, parse_special=false)
    tokens = tok.tokenize(open(text_path, "rb").read(), add_bos=True, special=False)
    ids_path = os.path.join(ROOT, "tests/golden/smollm2/kjv_genesis_1-11.ids")
    with open(ids_path, "w") as f:
        for i in range(0, len(tokens), 20):
            f.write(" ".join(map(str, tokens[i:i + 20])) + "\n")
    results = {}
    ref = None
    for name, n_ctx, n_chunks in SETTINGS:
        llm = llama_cpp.Llama(model_path=model, n_ctx=n_ctx, n_batch=n_ctx, n_ubatch=n_ctx,
                              n_threads=2, n_threads_batch=2, logits_all=True, flash_attn=False,
                              n_gpu_layers=0, seed=0, verbose=False)

        def llama_logits(chunk, rows):
            llm.reset()
            llm.eval(chunk)
            return [np.array(llm.scores[r], dtype=np.float32) for r in rows]

        results[name] = {"llama.cpp": perplexity(tokens, n_ctx, n_chunks, add_bos, bos, llama_logits)}
        if name == "quick":
            ref = ref or Model(model)

            def exact_logits(chunk, rows):
                return ref.logits(chunk, "exact", rows=rows).astype(np.float32)

            results[name]["float64 reference"] = perplexity(tokens, n_ctx, n_chunks, add_bos, bos,
                                                            exact_logits)
        del llm
        print(name, {k: round(v["ppl"], 4) for k, v in results[name].items()})
    import gguf
    out = {
        "model": os.path.basename(model),
        "model_sha256": sha256(model),
        "text": TEXT,
        "text_sha256": sha256(text_path),
        "ids": "tests/golden/smollm2/kjv_genesis_1-11.ids",
        "n_tokens": len(tokens),
        "add_bos": add_bos,
        "method": "llama.cpp perplexity(): whole chunks of n_ctx, first token -> BOS if add_bos, "
                  "score positions n_ctx/2..n_ctx-2",
        "llama.cpp settings": "llama-cpp-python, CPU, 2 threads, one chunk per decode (n_batch = "
                              "n_ctx), KV cache f16 (default), flash attention off",
        "versions": {"llama_cpp_python": llama_cpp.__version__,
                     "ggml_system_info": llama_cpp.llama_print_system_info().decode().strip(),
                     "numpy": np.__version__, "gguf": getattr(gguf, "__version__", "?")},
        "generator": "scripts/golden_perplexity.py",
        "results": results,
    }
    dst = os.path.join(ROOT, "tests/golden/smollm2/perplexity.json")
    with open(dst, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {dst} and {ids_path}")


if __name__ == "__main__":
    main()

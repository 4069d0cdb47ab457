#!/usr/bin/env python3
"""q8_act_quality.py — what q8 activations (the default for quantized weights) cost in accuracy,
next to what a weight quantization step costs, measured with nemo's own tools:

1. SmolLM2-135M-Instruct Q4_1 (the pinned real model) on KJV Genesis 1-11 (llama.cpp's token
   ids, tests/golden/smollm2/kjv_genesis_1-11.ids): `nemo perplexity` (llama.cpp's method,
   --ctx 512, all chunks) with NEMO_MATMUL=exact and with the default q8 activations, next to
   llama.cpp's figure from tests/golden/smollm2/perplexity.json;
2. on the same tokens: `nemo divergence MODEL MODEL --base-matmul exact --quant-matmul q8 -c 512`
   (mean KL(exact || q8), top-1 agreement);
3. for scale, weight steps on the same model and tokens, both sides exact: the Q4_1 file against
   its own weights requantized by `nemo quantize` to Q8_0 and to Q4_0 (Q4_K needs rows that are
   multiples of 256; SmolLM2's are 576 long);
4. for scale on a synthetic model (bench/divergence_llamacpp.py's shape: dim 1024, 16/4 heads of
   128, FFN 3584, vocab 8192, 4 layers, seed 2407): bf16 folder against `nemo quantize` Q8_0 and
   Q4_K files, with the quantized side exact and q8 (--random 256 -c 128, as recorded there).

Usage: python3 bench/q8_act_quality.py [--work DIR] [-t THREADS] [--parts ppl,act,requant,synth]
                                      [--requant q8_0,q4_0]
"""
import argparse
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEMO = os.path.join(ROOT, "build", "release", "nemo")


def sh(cmd, env=None):
    print("$ " + " ".join(cmd if len(" ".join(cmd)) < 300 else cmd[:3] + ["..."]), flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, **(env or {})))
    if p.returncode:
        sys.exit(f"failed ({p.returncode}): {p.stderr}")
    return p.stdout


def divergence(base, quant, extra, threads):
    out = sh([NEMO, "divergence", base, quant, *extra, "-t", str(threads)])
    kl = re.search(r"mean KL\(base\|\|quant\): ([0-9.e-]+) nats\s+p99: ([0-9.e-]+)\s+max: ([0-9.e-]+)", out)
    top = re.search(r"top-1 agreement: ([0-9.]+)% \((\d+) / (\d+)\)", out)
    ppl = re.search(r"perplexity: base ([0-9.]+)\s+quant ([0-9.]+)", out)
    return {"kl": float(kl.group(1)), "p99": float(kl.group(2)), "max": float(kl.group(3)),
            "top1": float(top.group(1)), "n": int(top.group(3)),
            "ppl": (float(ppl.group(1)), float(ppl.group(2))) if ppl else None}


def row(name, d):
    print(f"| {name} | {d['kl']:.6f} | {d['p99']:.5f} | {d['max']:.4f} | {d['top1']:.2f}% | {d['n']} |",
          flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench-q8act"))
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--parts", default="ppl,act,requant,synth")
    ap.add_argument("--requant", default="q8_0,q4_0")
    a = ap.parse_args()
    parts = a.parts.split(",")
    os.makedirs(a.work, exist_ok=True)
    model = sh([sys.executable, os.path.join(ROOT, "scripts", "fixture.py"),
                "SmolLM2-135M-Instruct.Q4_1.gguf"]).strip()
    g = json.load(open(os.path.join(ROOT, "tests/golden/smollm2/perplexity.json")))
    ids_file = os.path.join(ROOT, g["ids"])
    ids = ",".join(open(ids_file).read().split())
    if "ppl" in parts:
        for mode in ("exact", "q8"):
            out = sh([NEMO, "perplexity", model, "--ids-file", ids_file, "--ctx", "512", "-t",
                      str(a.threads)], env={"NEMO_MATMUL": mode})
            m = re.search(r"Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+)", out)
            lc = g["results"]["full"]["llama.cpp"]["ppl"]
            print(f"perplexity {mode}: {m.group(1)} ± {m.group(2)} (llama.cpp {lc:.4f}, ratio "
                  f"{float(m.group(1)) / lc:.5f})", flush=True)
    print("| comparison | mean KL (nats) | p99 | max | top-1 | positions |")
    print("|---|---:|---:|---:|---:|---:|")
    on_text = ["--ids", ids, "-c", "512"]
    if "act" in parts:
        row("SmolLM2 Q4_1: exact vs q8 activations",
            divergence(model, model, on_text + ["--base-matmul", "exact", "--quant-matmul", "q8"],
                       a.threads))
    for typ in a.requant.split(",") if "requant" in parts else []:
        f = os.path.join(a.work, f"smollm2-requant-{typ}.gguf")
        sh([NEMO, "quantize", model, f, "--type", typ, "--quiet"])
        row(f"SmolLM2 Q4_1 vs its weights requantized to {typ.upper()} (both exact)",
            divergence(model, f, on_text + ["--base-matmul", "exact", "--quant-matmul", "exact"],
                       a.threads))
    if "synth" not in parts:
        return
    base = os.path.join(a.work, "synth-bf16")
    sh([NEMO, "synth", base, "--force", "--quiet", "--seed", "2407", "--dim", "1024", "--heads", "16",
        "--kv-heads", "4", "--head-dim", "128", "--hidden", "3584", "--vocab", "8192", "--layers", "4"])
    rnd = ["--random", "256", "-c", "128"]
    for typ in ("q8_0", "q4_k"):
        f = os.path.join(a.work, f"synth-{typ}.gguf")
        sh([NEMO, "quantize", base, f, "--type", typ, "--quiet"])
        for mode in ("exact", "q8"):
            row(f"synthetic bf16 vs {typ.upper()} weights, {mode} activations",
                divergence(base, f, rnd + ["--quant-matmul", mode], a.threads))
        row(f"synthetic {typ.upper()}: exact vs q8 activations",
            divergence(f, f, rnd + ["--base-matmul", "exact", "--quant-matmul", "q8"], a.threads))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""compare_llamacpp.py — nemo.c against llama.cpp on the same GGUF files, in one run.

Writes a synthetic checkpoint with the exact Mistral NeMo 12B layer shapes (dim 5120, 32/8
heads of 128, FFN 14336, vocab 131072) at reduced depth, converts it with `nemo quantize` to
F16, BF16, Q8_0, Q4_0, Q4_K and our FP8 GGUF (all with the Tekken vocabulary, which llama.cpp
requires), measures the machine's memory read bandwidth (bench/membw.c), runs `nemo bench` and
llama.cpp's `llama-bench` on every file with each thread count, and prints one table:
tokens/s of both, the ratio nemo/llama.cpp, and decode's effective bandwidth (bytes of weights
read per generated token x tokens/s) as a fraction of the measured bandwidth.

Tooling only (never used at run time); standard library only.

usage: python3 bench/compare_llamacpp.py [--llama-bench PATH] [--work DIR] [--layers N]
           [-p N] [-n N] [-r N] [-t 1,2] [--types f16,bf16,q8_0,q4_0,q4_k,fp8] [--keep]
llama-bench: build it from llama.cpp (e.g. the copy vendored in llama-cpp-python's sdist):
  cmake SRC -B /work/build-llama-quant -DGGML_NATIVE=ON -DCMAKE_BUILD_TYPE=Release &&
  cmake --build /work/build-llama-quant --target llama-bench
Without it, llama.cpp is timed through llama-cpp-python when importable (run the script with
the tooling venv's python), else only nemo's columns are filled.
"""
import argparse
import csv
import io
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEMO = os.path.join(ROOT, "build", "release", "nemo")
SHAPE = ["--dim", "5120", "--heads", "32", "--kv-heads", "8", "--head-dim", "128", "--hidden",
         "14336", "--vocab", "131072"]
DIM, VOCAB = 5120, 131072
# bytes per weight of the token-embedding matrix in each file (FP8 keeps it BF16)
EMBED_BPW = {"f16": 2, "bf16": 2, "q8_0": 34 / 32, "q4_0": 18 / 32, "q4_k": 144 / 256, "fp8": 2}


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def tekken():
    p = os.environ.get("NEMO_TEKKEN")
    if p and os.path.exists(p):
        return p
    return sh([sys.executable, os.path.join(ROOT, "scripts", "fixture.py"),
               "tekken_240718.json"]).strip()


def membw(threads):
    exe = os.path.join(ROOT, "build", "membw")
    if not os.path.exists(exe):
        sh(["cc", "-O2", "-march=native", "-pthread", os.path.join(ROOT, "bench", "membw.c"),
            "-o", exe])
    return {t: float(sh([exe, "1024", str(t), "5"]).split()[1]) for t in threads}


def weight_bytes(path):
    for line in sh([NEMO, "info", path]).splitlines():
        if line.startswith("weights"):
            return int(line.split("(")[1].split()[0])
    raise RuntimeError("no weights line in nemo info " + path)


def nemo_bench(path, a, threads):
    out = sh([NEMO, "bench", path, "-p", str(a.p), "-n", str(a.n), "-r", str(a.r), "-t",
              ",".join(map(str, threads)), "--csv"])
    res = {}
    for row in csv.DictReader(io.StringIO(out)):
        res[(int(row["threads"]), row["test"][:2])] = float(row["median_ts"])
    return res


def llama_py_bench(path, a, threads):
    """llama.cpp through llama-cpp-python (its bundled libllama) when llama-bench is absent:
    pp = one eval of p tokens, tg = n evals of one token, each from an empty cache."""
    try:
        import llama_cpp
    except ImportError:
        return {}, "no llama-bench, no llama_cpp"
    import statistics
    ids = [1000 + (i * 7919) % 120000 for i in range(max(a.p, a.n))]
    res = {}
    for t in threads:
        try:
            llm = llama_cpp.Llama(model_path=path, n_ctx=a.p + a.n + 16, n_batch=a.p,
                                  n_threads=t, n_threads_batch=t, verbose=False)
        except Exception:
            return {}, "llama.cpp cannot load it"
        for test in ("pp", "tg"):
            ts = []
            for r in range(a.r + 1):  # the first run warms up
                llm.reset()
                t0 = time.time()
                if test == "pp":
                    llm.eval(ids[:a.p])
                else:
                    for i in range(a.n):
                        llm.eval([ids[i]])
                if r:
                    ts.append((a.p if test == "pp" else a.n) / (time.time() - t0))
            res[(t, test)] = statistics.mean(ts)
        del llm
    return res, ""


def llama_bench(exe, path, a, threads):
    if not exe:
        return llama_py_bench(path, a, threads)
    r = subprocess.run([exe, "-m", path, "-p", str(a.p), "-n", str(a.n), "-r", str(a.r), "-t",
                        ",".join(map(str, threads)), "-o", "csv"], capture_output=True, text=True)
    if r.returncode != 0:
        return {}, "llama.cpp cannot load it"
    res = {}
    for row in csv.DictReader(io.StringIO(r.stdout)):
        test = "pp" if int(row["n_prompt"]) > 0 else "tg"
        res[(int(row["n_threads"]), test)] = float(row["avg_ts"])
    return res, ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--llama-bench", default="/work/build-llama-quant/bin/llama-bench")
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench-compare"))
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("-p", type=int, default=16, help="prompt tokens (pp test)")
    ap.add_argument("-n", type=int, default=4, help="generated tokens (tg test)")
    ap.add_argument("-r", type=int, default=2, help="repetitions")
    ap.add_argument("-t", default="1,2", help="thread counts")
    ap.add_argument("--types", default="f16,bf16,q8_0,q4_0,q4_k,fp8")
    ap.add_argument("--keep", action="store_true", help="keep the model files")
    a = ap.parse_args()
    threads = [int(x) for x in a.t.split(",")]
    lb = a.llama_bench if os.path.exists(a.llama_bench) else None
    os.makedirs(a.work, exist_ok=True)
    src = os.path.join(a.work, "bf16-folder")
    t0 = time.time()
    if not os.path.exists(os.path.join(src, "consolidated.safetensors")):
        sh([NEMO, "synth", src, "--layers", str(a.layers), "--quiet", "--force"] + SHAPE)
    tk = tekken()
    bw = membw(threads)
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    print(f"machine: {cpu}, {os.cpu_count()} CPUs; model: NeMo 12B layer shapes, {a.layers} "
          f"layers, vocab {VOCAB}; llama.cpp: {lb or 'llama-cpp-python (llama-bench not found)'}")
    # nemo inherits this environment (NEMO_MATMUL, NEMO_CPU): say what it runs with
    mode = os.environ.get("NEMO_MATMUL")
    print(f"nemo (NEMO_MATMUL={mode or 'unset'}): " + sh([NEMO, "cpu"]).strip().splitlines()[0])
    print("memory read bandwidth (bench/membw.c, 1 GiB, best of 5) at the start: " +
          ", ".join(f"{t} thread(s) {bw[t]:.2f} GB/s" for t in threads) +
          "; measured again before each type (the bw column), since a shared machine's load "
          "changes during the run")
    print()
    print("| type | threads | test | nemo t/s | llama.cpp t/s | nemo / llama.cpp | "
          "bw GB/s | nemo decode GB/s (% of bw) | llama.cpp decode GB/s (% of bw) |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|", flush=True)
    f = lambda v: f"{v:.2f}" if v else "n/a"
    for typ in a.types.split(","):
        path = os.path.join(a.work, f"nemo12b-shape-{a.layers}L-{typ}.gguf")
        if not os.path.exists(path):
            sh([NEMO, "quantize", src, path, "--type", typ, "--vocab", tk, "--quiet"])
        wb = weight_bytes(path)
        # weights read per generated token: all but the embedding matrix (one row of it)
        per_tok = wb - EMBED_BPW[typ] * DIM * VOCAB + EMBED_BPW[typ] * DIM
        bw = membw(threads)
        ours = nemo_bench(path, a, threads)
        theirs, why = llama_bench(lb, path, a, threads)
        for t in threads:
            for test in ("pp", "tg"):
                o, l = ours.get((t, test)), theirs.get((t, test))
                eff = (o * per_tok / 1e9) if (o and test == "tg") else None
                leff = (l * per_tok / 1e9) if (l and test == "tg") else None
                name = f"{test}{a.p if test == 'pp' else a.n}"
                ratio = f"{o / l:.2f}x" if (o and l) else (why or "n/a")
                e1 = f"{eff:.2f} ({100 * eff / bw[t]:.0f}%)" if eff else ""
                e2 = f"{leff:.2f} ({100 * leff / bw[t]:.0f}%)" if leff else ""
                print(f"| {typ} | {t} | {name} | {f(o)} | {f(l) if l else (why or 'n/a')} | "
                      f"{ratio} | {bw[t]:.2f} | {e1} | {e2} |", flush=True)
        if not a.keep:
            os.remove(path)
    print(f"\n(t/s: nemo = median, llama.cpp = mean of {a.r} runs; {time.time() - t0:.0f} s "
          f"in total)")
    if not a.keep:
        shutil.rmtree(src, ignore_errors=True)


if __name__ == "__main__":
    main()

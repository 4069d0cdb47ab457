#!/usr/bin/env python3
"""decode_bench.py — SmolLM2-135M-Instruct Q4_1 greedy decode tokens/s of `nemo generate` at
each CPU kernel level (NEMO_CPU=scalar, then the best this CPU has, then the best with
NEMO_MATMUL=q8 activations) and of llama.cpp through
llama-cpp-python when it is installed, in one run, with the ratio.

Decode rate = extra tokens / extra time between a short and a long `nemo generate` of the same
prompt (best of --reps each), so model loading and the prompt's prefill cancel out; llama.cpp
is timed on its own decode loop (eval of one token + greedy pick), after the same prompt.

  /work/venv/bin/python bench/decode_bench.py [--bin build/release/nemo] [--threads 1,2]
      [--clock wall|cpu]

--clock cpu times CPU seconds instead of wall seconds (nemo: the child's user + system time;
llama.cpp: this process's), steadier on a shared machine; only meaningful with --threads 1.
"""
import argparse, json, os, resource, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default="build/release/nemo")
ap.add_argument("--model", default=None)
ap.add_argument("--threads", default="1,2")
ap.add_argument("--short", type=int, default=8)
ap.add_argument("--long", type=int, default=136)
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--clock", choices=["wall", "cpu"], default="wall")
a = ap.parse_args()
model = a.model or subprocess.run([sys.executable, "scripts/fixture.py", "SmolLM2-135M-Instruct.Q4_1.gguf"],
                                  check=True, capture_output=True, text=True).stdout.strip()
ids = json.load(open("tests/golden/smollm2/q4_1.json"))["cases"][0]["ids"]
idstr = ",".join(map(str, ids))


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def clock():
    return time.process_time() if a.clock == "cpu" else time.perf_counter()


def nemo_time(n, threads, level, q8=False):
    env = dict(os.environ)
    env["NEMO_MATMUL"] = "exact"  # q8 activations are the default: name the exact mode
    if level:
        env["NEMO_CPU"] = level
    if q8:
        env["NEMO_MATMUL"] = "q8"
    best = 1e30
    for _ in range(a.reps):
        t0, c0 = time.perf_counter(), child_cpu()
        subprocess.run([a.bin, "generate", model, "--ids", idstr, "-n", str(n), "-t", str(threads)],
                       check=True, capture_output=True, env=env)
        best = min(best, child_cpu() - c0 if a.clock == "cpu" else time.perf_counter() - t0)
    return best


def nemo_rate(threads, level, q8=False):
    return (a.long - a.short) / (nemo_time(a.long, threads, level, q8) - nemo_time(a.short, threads, level, q8))


def llama_rate(threads):
    try:
        from llama_cpp import Llama
    except ImportError:
        return None
    llm = Llama(model_path=model, n_threads=threads, n_threads_batch=threads, n_ctx=512, verbose=False)
    best = 1e30
    for _ in range(a.reps):
        llm.reset()
        llm.eval(ids)
        t0 = clock()
        for _ in range(a.long - a.short):
            tok = llm.sample(top_k=1, temp=0.0)
            llm.eval([tok])
        best = min(best, clock() - t0)
    return (a.long - a.short) / best


cpu = subprocess.run([a.bin, "cpu"], capture_output=True, text=True).stdout.strip()
print(cpu)
print(f"model {os.path.basename(model)}, prompt {len(ids)} tokens, decode {a.long - a.short} tokens, best of {a.reps}, "
      f"{a.clock} clock")
print("| threads | nemo scalar tok/s | nemo best tok/s | best / scalar | nemo best + q8 act. tok/s | llama.cpp tok/s | nemo best / llama.cpp | nemo q8 / llama.cpp |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
for t in [int(x) for x in a.threads.split(",")]:
    s = nemo_rate(t, "scalar")
    b = nemo_rate(t, None)
    q = nemo_rate(t, None, True)
    l = llama_rate(t)
    ls = f"{l:.1f}" if l else "n/a"
    lr = f"{b / l:.2f}x" if l else "n/a"
    lq = f"{q / l:.2f}x" if l else "n/a"
    print(f"| {t} | {s:.1f} | {b:.1f} | {b / s:.2f}x | {q:.1f} | {ls} | {lr} | {lq} |", flush=True)

#!/usr/bin/env python3
"""prefill_bench.py — SmolLM2-135M-Instruct Q4_1 prompt (prefill) tokens/s of `nemo logits` with
exact f32 activations (NEMO_MATMUL=exact) and with q8 ones (the default), next to llama.cpp through
llama-cpp-python (its own prompt eval), in one run, with the ratios. --base BIN adds a column
for another nemo binary (e.g. a build from before a change), default mode.

Prefill rate = extra tokens / extra time between a short and a long `nemo logits` over the
same kind of ids (best of --reps each), so model loading cancels out; llama.cpp is timed on
llm.eval(ids) of the long prompt after a reset (the short one's time subtracted likewise).

  /work/venv/bin/python bench/prefill_bench.py [--bin build/release/nemo] [--base BIN]
      [--threads 1,2] [--long 256] [--clock wall|cpu]

--clock cpu times CPU seconds instead of wall seconds (nemo: the child's user + system time;
llama.cpp: this process's), which on a machine shared with other jobs is far steadier; it is
only meaningful with --threads 1.
"""
import argparse, os, resource, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default="build/release/nemo")
ap.add_argument("--base", default=None)
ap.add_argument("--model", default=None)
ap.add_argument("--threads", default="1,2")
ap.add_argument("--short", type=int, default=16)
ap.add_argument("--long", type=int, default=256)
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--clock", choices=["wall", "cpu"], default="wall")
a = ap.parse_args()
model = a.model or subprocess.run([sys.executable, "scripts/fixture.py", "SmolLM2-135M-Instruct.Q4_1.gguf"],
                                  check=True, capture_output=True, text=True).stdout.strip()
# ordinary word-piece ids of the 49152-entry vocabulary (any ids will do for timing)
ids = [1 + (i * 7919) % 40000 for i in range(a.long)]


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def clock():
    return time.process_time() if a.clock == "cpu" else time.perf_counter()


def nemo_time(binary, n, threads, q8):
    env = dict(os.environ)
    env["NEMO_MATMUL"] = "exact"  # q8 activations are the default: name the exact mode
    if q8:
        env["NEMO_MATMUL"] = "q8"
    out = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"prefill_bench_{os.getpid()}.f32")
    best = 1e30
    for _ in range(a.reps):
        t0, c0 = time.perf_counter(), child_cpu()
        subprocess.run([binary, "logits", model, "--ids", ",".join(map(str, ids[:n])), "--out", out,
                        "-t", str(threads)], check=True, capture_output=True, env=env)
        dt = child_cpu() - c0 if a.clock == "cpu" else time.perf_counter() - t0
        best = min(best, dt)
    os.unlink(out)
    return best


def nemo_rate(binary, threads, q8=False):
    return (a.long - a.short) / (nemo_time(binary, a.long, threads, q8) - nemo_time(binary, a.short, threads, q8))


def llama_rate(threads):
    try:
        from llama_cpp import Llama
    except ImportError:
        return None
    llm = Llama(model_path=model, n_threads=threads, n_threads_batch=threads, n_ctx=a.long + 16,
                n_batch=a.long, verbose=False)

    def t(n):
        best = 1e30
        for _ in range(a.reps):
            llm.reset()
            t0 = clock()
            llm.eval(ids[:n])
            best = min(best, clock() - t0)
        return best
    return (a.long - a.short) / (t(a.long) - t(a.short))


cpu = subprocess.run([a.bin, "cpu"], capture_output=True, text=True).stdout.strip()
print(cpu)
print(f"model {os.path.basename(model)}, prefill {a.long} - {a.short} tokens, best of {a.reps}, "
      f"{a.clock} clock")
hb = "| nemo before tok/s " if a.base else ""
sb = "|---:" if a.base else ""
print(f"| threads {hb}| nemo exact tok/s | nemo q8 tok/s | llama.cpp tok/s | exact / llama.cpp | q8 / llama.cpp |")
print(f"|---:{sb}|---:|---:|---:|---:|---:|")
for th in [int(x) for x in a.threads.split(",")]:
    base = f"| {nemo_rate(a.base, th):.1f} " if a.base else ""
    e = nemo_rate(a.bin, th)
    q = nemo_rate(a.bin, th, True)
    l = llama_rate(th)
    ls, le, lq = (f"{l:.1f}", f"{e / l:.2f}x", f"{q / l:.2f}x") if l else ("n/a", "n/a", "n/a")
    print(f"| {th} {base}| {e:.1f} | {q:.1f} | {ls} | {le} | {lq} |", flush=True)

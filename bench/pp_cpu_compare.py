#!/usr/bin/env python3
"""pp_cpu_compare.py — prompt processing (one batch of -p tokens, logits of the last one only) of
nemo.c against llama.cpp on the same GGUF files, in CPU seconds, one thread, in one run.

On a machine shared with other jobs wall-clock rates swing by 2x between runs
(compare_llamacpp.py's pp column); CPU time is far steadier. nemo: `nemo bench -p P -n 0 -t 1`
run with -r 1 and with -r 1+K, the difference of the children's CPU time divided by K (model
loading and the warm-up cancel); llama.cpp: llama-cpp-python's llm.eval of the same P ids after
a reset, this process's CPU time, after one warm-up eval. Both take the median of --rounds
rounds, alternating the engines. Tooling only (never used at run time).

  /work/venv/bin/python bench/pp_cpu_compare.py FILE.gguf... [--bin build/release/nemo]
      [--base BIN] [-p 32] [-k 3] [--rounds 3]
--base adds a column for another nemo binary (a build from before a change).
"""
import argparse
import os
import resource
import statistics
import subprocess
import time

ap = argparse.ArgumentParser()
ap.add_argument("files", nargs="+")
ap.add_argument("--bin", default="build/release/nemo")
ap.add_argument("--base", default=None)
ap.add_argument("-p", type=int, default=32)
ap.add_argument("-k", type=int, default=3)
ap.add_argument("--rounds", type=int, default=3)
a = ap.parse_args()
ids = [1000 + (i * 7919) % 120000 for i in range(a.p)]


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def nemo_cpu(binary, path, reps):
    c0 = child_cpu()
    subprocess.run([binary, "bench", path, "-p", str(a.p), "-n", "0", "-r", str(reps), "-t", "1"],
                   check=True, capture_output=True)
    return child_cpu() - c0


def nemo_pp(binary, path):
    """CPU seconds of one pp run"""
    return (nemo_cpu(binary, path, 1 + a.k) - nemo_cpu(binary, path, 1)) / a.k


def main():
    from llama_cpp import Llama
    print(f"pp{a.p}, 1 thread, CPU time, median of {a.rounds} rounds "
          f"(nemo: {a.k} runs per round, differenced; llama.cpp: {a.k} evals per round, best)")
    hb, sb = ("| nemo before tok/s ", "|---:") if a.base else ("", "")
    print(f"| file {hb}| nemo tok/s | llama.cpp tok/s | nemo / llama.cpp |")
    print(f"|---{sb}|---:|---:|---:|", flush=True)
    for path in a.files:
        ours, base, theirs = [], [], []
        try:
            llm = Llama(model_path=path, n_threads=1, n_threads_batch=1, n_ctx=a.p + 16,
                        n_batch=a.p, verbose=False)
            llm.eval(ids)  # warm-up
        except Exception:
            llm = None
        for _ in range(a.rounds):
            ours.append(a.p / nemo_pp(a.bin, path))
            if a.base:
                base.append(a.p / nemo_pp(a.base, path))
            if llm:
                best = 1e30
                for _ in range(a.k):
                    llm.reset()
                    t0 = time.process_time()
                    llm.eval(ids)
                    best = min(best, time.process_time() - t0)
                theirs.append(a.p / best)
        o = statistics.median(ours)
        b = f"| {statistics.median(base):.2f} " if a.base else ""
        if theirs:
            t = statistics.median(theirs)
            ts, r = f"{t:.2f}", f"{o / t:.2f}x"
        else:
            ts, r = "llama.cpp cannot load it", "n/a"
        print(f"| {os.path.basename(path)} {b}| {o:.2f} | {ts} | {r} |", flush=True)
        del llm


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""serve_load.py — load benchmark of `nemo serve`: aggregate generated tokens per second with
1, 2, 4, 8 and 16 concurrent clients, each sending chat requests back to back (distinct
prompts, temperature 0, fixed max_tokens), and the speedup over one client (what continuous
batching buys). Starts its own server (release build) with --parallel 16. Standard library
only.

  python3 bench/serve_load.py MODEL [--tokenizer T] [--max-tokens 64] [--seconds 20] [--threads N]
"""
import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def post(port, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    c.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse()
    data = json.loads(r.read())
    c.close()
    if r.status != 200:
        raise RuntimeError(f"HTTP {r.status}: {data}")
    return data


def run_level(port, clients, seconds, max_tokens):
    stop_at = time.time() + seconds
    tokens = [0] * clients
    reqs = [0] * clients
    lat = []

    def client(i):
        k = 0
        while time.time() < stop_at:
            msg = [{"role": "user", "content": f"Client {i}, request {k}: tell me a long story."}]
            t0 = time.time()
            d = post(port, {"messages": msg, "max_tokens": max_tokens, "temperature": 0})
            lat.append(time.time() - t0)
            tokens[i] += d["usage"]["completion_tokens"]
            reqs[i] += 1
            k += 1
    t0 = time.time()
    th = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    wall = time.time() - t0
    lat.sort()
    return sum(tokens) / wall, sum(reqs), lat[len(lat) // 2] if lat else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--tokenizer")
    ap.add_argument("--bin", default=os.path.join(ROOT, "build/release/nemo"))
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--levels", default="1,2,4,8,16")
    a = ap.parse_args()
    port = free_port()
    cmd = [a.bin, "serve", a.model, "--port", str(port), "--parallel", "16", "--ctx", "1024"]
    if a.tokenizer:
        cmd += ["--tokenizer", a.tokenizer]
    if a.threads:
        cmd += ["-t", str(a.threads)]
    p = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    print(p.stderr.readline().strip(), file=sys.stderr)
    try:
        for _ in range(600):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        post(port, {"messages": [{"role": "user", "content": "warm up"}], "max_tokens": 4})
        print(f"| clients | requests | generated tok/s | vs 1 client | median latency (s) |")
        print(f"|---:|---:|---:|---:|---:|")
        base = None
        for n in [int(x) for x in a.levels.split(",")]:
            tps, nreq, med = run_level(port, n, a.seconds, a.max_tokens)
            base = base or tps
            print(f"| {n} | {nreq} | {tps:.1f} | {tps / base:.2f}x | {med:.2f} |", flush=True)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=60)


if __name__ == "__main__":
    main()

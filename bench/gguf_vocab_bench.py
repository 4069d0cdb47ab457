#!/usr/bin/env python3
"""gguf_vocab_bench.py — encoding throughput of nemo.c on a GGUF vocabulary vs llama.cpp on the
same file, per language, single thread.

llama.cpp runs through llama-cpp-python 0.3.36's binding of llama_tokenize (add_special=false,
parse_special=false) on a vocab_only model, called once with a buffer large enough for the ids
(Llama.tokenize would call it twice for long texts: its first buffer holds n_ctx ids); nemo.c's
nemo_tokenizer_encode through ctypes on the same bytes, from the shared library that
bench/tokenizer_bench.py builds. Both are timed alternately in one process, best of --reps, and
the ids are compared. Corpus: tokenizer_bench.py's (gettext catalogs, C headers).

Usage: /work/venv/bin/python bench/gguf_vocab_bench.py [--gguf PATH] [--mb 1] [--reps 5]
       (default GGUF: SmolLM2-135M-Instruct.Q4_1.gguf from scripts/fixture.py)
"""
import argparse
import ctypes
import importlib.util
import os
import platform
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_tb():
    spec = importlib.util.spec_from_file_location(
        "tokenizer_bench", os.path.join(ROOT, "bench", "tokenizer_bench.py"))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", default=None)
    ap.add_argument("--mb", type=float, default=1.0)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--langs", default=None, help="comma-separated subset of language names")
    args = ap.parse_args()
    from llama_cpp import Llama
    tb = load_tb()
    path = args.gguf or subprocess.run(
        [sys.executable, os.path.join(ROOT, "scripts", "fixture.py"),
         "SmolLM2-135M-Instruct.Q4_1.gguf"], check=True, capture_output=True,
        text=True).stdout.strip()
    import llama_cpp
    ll = Llama(model_path=path, vocab_only=True, verbose=False)
    vocab = ll._model.vocab

    def ll_encode(data, buf):
        n = llama_cpp.llama_tokenize(vocab, data, len(data), buf, len(buf), False, False)
        if n < 0:
            sys.exit("llama_tokenize: buffer too small")
        return n

    nemo = tb.Nemo(tb.build_lib(), path)
    limit = int(args.mb * 1e6)
    langs = tb.LANGS
    if args.langs:
        keep = set(args.langs.split(","))
        langs = [x for x in langs if x[0] in keep]
    texts = [(name, tb.corpus(code, limit)) for name, code in langs]
    if not args.langs:
        texts.append(("Code (C headers)", tb.code_corpus(limit)))
    rows = []
    for name, text in texts:
        data = text.encode()
        ids = (ctypes.c_int32 * (len(data) + 16))()
        lbuf = (llama_cpp.llama_token * (len(data) + 16))()
        best_ll = best_us = float("inf")
        for _ in range(args.reps):
            best_ll = min(best_ll, tb._time(lambda: ll_encode(data, lbuf)))
            best_us = min(best_us, tb._time(lambda: nemo.encode(data, ids)))
        want = list(lbuf[:ll_encode(data, lbuf)])
        n = nemo.encode(data, ids)
        same = "yes" if list(ids[:n]) == want else "NO"
        mb = len(data) / 1e6
        rows.append((name, mb, mb / best_ll, mb / best_us, best_ll / best_us, same))
    print(f"machine: {tb._cpu_name()} ({os.cpu_count()} cores, shared), Python "
          f"{platform.python_version()}, llama-cpp-python {tb._version('llama_cpp_python')}, "
          f"{os.path.basename(path)}, single thread")
    print("| language | MB | llama.cpp MB/s | nemo.c MB/s | ratio | same ids |")
    print("|---|---:|---:|---:|---:|---|")
    for name, mb, a, b, ratio, same in rows:
        print(f"| {name} | {mb:.2f} | {a:.1f} | {b:.1f} | {ratio:.2f}x | {same} |")
    if any(r[5] != "yes" for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()

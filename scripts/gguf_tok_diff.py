#!/usr/bin/env python3
"""gguf_tok_diff.py — randomized differential test of `nemo tokenize --tokenizer FILE.gguf`.

The random strings are tok_diff.py's (mixed scripts, whitespace kinds, emoji, digits, punctuation,
control-token spellings, random code points, sometimes invalid UTF-8). The reference is one of:

  --ref llama   llama.cpp (llama-cpp-python, Llama(vocab_only=True).tokenize(bytes,
                add_bos=False, special=False)) on the same GGUF. Strings holding a sequence that
                llama.cpp reads as a code point above U+10FFFF are skipped: llama.cpp throws on
                them (nemo reads them as U+FFFD).
  --ref tekken  nemo.c's Tekken tokenizer on a tekken.json (--tekken): a GGUF converted from that
                file (scripts/gguf_vocab_make.py tekken) must give the same ids.

--join K concatenates every K random strings into one (long texts: the encoders' per-call
memos start at 2 KB). --golden FILE adds the texts (and invalid UTF-8 byte strings) of a tokenizer golden file, e.g.
tests/golden/tokenizer/tekken_240718.json, to the random ones.

Usage: python scripts/gguf_tok_diff.py --gguf PATH [--ref llama|tekken] [--tekken PATH]
                                       [--n 2000] [--seed 1] [--bin build/release/nemo]
                                       [--golden FILE]
"""
import argparse
import base64
import importlib.util
import json
import os
import random
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_tok_diff():
    spec = importlib.util.spec_from_file_location("tok_diff",
                                                  os.path.join(ROOT, "scripts", "tok_diff.py"))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def llama_throws(b):
    """True if llama.cpp's lenient UTF-8 reader yields a code point above U+10FFFF here."""
    i = 0
    while i < len(b):
        c = b[i]
        k = 1 if c < 0x80 else 0 if not c & 0x40 else 2 if not c & 0x20 else 3 if not c & 0x10 \
            else 4 if not c & 0x08 else 0
        if k <= 1 or i + k > len(b) or any((x & 0xC0) != 0x80 for x in b[i + 1:i + k]):
            i += 1
            continue
        if k == 4 and (((c & 7) << 18) | ((b[i + 1] & 0x3F) << 12)) > 0x10FFFF:
            return True
        i += k
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--ref", choices=["llama", "tekken"], default="llama")
    ap.add_argument("--tekken", default=None)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "release", "nemo"))
    ap.add_argument("--golden", default=None)
    ap.add_argument("--join", type=int, default=1)
    a = ap.parse_args()
    td = load_tok_diff()
    rng = random.Random(a.seed)
    data = [td.rand_string(rng) for _ in range(a.n)]
    if a.join > 1:
        data = [b"".join(data[i:i + a.join]) for i in range(0, len(data), a.join)]
    if a.golden:
        with open(a.golden, encoding="utf-8") as f:
            g = json.load(f)
        data += [c["text"].encode("utf-8") for c in g.get("cases", [])]
        data += [base64.b64decode(c["bytes_b64"]) for c in g.get("invalid_utf8", [])]
    t0 = time.time()
    if a.ref == "llama":
        from llama_cpp import Llama
        data = [b for b in data if not llama_throws(b)]
        ll = Llama(model_path=a.gguf, vocab_only=True, verbose=False)
        want = [ll.tokenize(b, add_bos=False, special=False) for b in data]
    else:
        want = td.batch("gguf_tok_diff", a.bin, a.tekken, data)
    t1 = time.time()
    got = td.batch("gguf_tok_diff", a.bin, a.gguf, data)
    t2 = time.time()
    bad = td.count_diffs(data, want, got, a.ref)
    print(f"gguf_tok_diff: {os.path.basename(a.gguf)} vs {a.ref}: seed {a.seed}: {len(data)} "
          f"strings, {sum(len(b) for b in data)} bytes, {sum(len(w) for w in want)} ids: "
          f"{bad} differences (reference {t1 - t0:.1f}s, nemo {t2 - t1:.1f}s)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

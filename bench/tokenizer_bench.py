#!/usr/bin/env python3
"""tokenizer_bench.py — encoding throughput of nemo.c's Tekken tokenizer vs tiktoken, per
language, single thread.

tiktoken runs exactly as mistral-common runs it: the tiktoken.Encoding that Tekkenizer builds
from tekken_240718.json (same ranks, same pattern, no special tokens), called with
encode_ordinary on one string per language. nemo.c's nemo_tokenizer_encode is called through
ctypes on the same UTF-8 bytes, from a shared library the script compiles from the library
sources with the release flags (-O2) plus -fPIC. The two are timed alternately in the
same process, rep after rep, and the best of --reps counts for each: on a shared, loaded
machine this keeps both exposed to the same noise. The ids are compared too.

Corpus: real translated text from the gettext catalogs on this machine
(/usr/share/locale/LANG/LC_MESSAGES/*.mo: msgstr for each language, msgid for English), up to
--mb MB per language in sorted file order; "code" is C headers from /usr/include.

Usage: /work/venv/bin/python bench/tokenizer_bench.py [--mb 1] [--reps 7]
"""
import argparse
import ctypes
import gettext
import glob
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LANGS = [("English", "en"), ("French", "fr"), ("German", "de"), ("Spanish", "es"),
         ("Italian", "it"), ("Portuguese", "pt"), ("Chinese", "zh_CN"), ("Japanese", "ja"),
         ("Korean", "ko"), ("Arabic", "ar"), ("Hindi", "hi"), ("Russian", "ru"),
         ("Thai", "th"), ("Hebrew", "he"), ("Greek", "el"), ("Tamil", "ta"),
         ("Georgian", "ka"), ("Vietnamese", "vi")]


def corpus(lang, limit):
    parts, size = [], 0
    src = "fr" if lang == "en" else lang  # English: the msgids of the French catalogs
    for mo in sorted(glob.glob(f"/usr/share/locale/{src}/LC_MESSAGES/*.mo")):
        try:
            with open(mo, "rb") as f:
                cat = gettext.GNUTranslations(f)._catalog
        except Exception:
            continue
        for k, v in cat.items():
            s = k if lang == "en" else v
            if isinstance(s, tuple):
                s = s[0]
            if not isinstance(s, str) or not s or (lang != "en" and s == k):
                continue
            parts.append(s)
            size += len(s.encode())
            if size >= limit:
                return "\n".join(parts)
    return "\n".join(parts)


def code_corpus(limit):
    parts, size = [], 0
    for h in sorted(glob.glob("/usr/include/*.h")):
        with open(h, encoding="utf-8", errors="replace") as f:
            s = f.read()
        parts.append(s)
        size += len(s.encode())
        if size >= limit:
            break
    return "\n".join(parts)


def build_lib():
    out = os.path.join(ROOT, "build", "bench")
    os.makedirs(out, exist_ok=True)
    lib = os.path.join(out, "libnemo_tok.so")
    # the whole library: the tokenizer front also opens GGUF vocabularies (src/checkpoint)
    srcs = sorted(p for p in glob.glob(os.path.join(ROOT, "src", "**", "*.c"), recursive=True)
                  if "/cuda/" not in p)
    subprocess.run(["cc", "-std=c11", "-D_DEFAULT_SOURCE", "-D_FILE_OFFSET_BITS=64", "-O2",
                    "-fPIC", "-shared", "-pthread", "-I" + os.path.join(ROOT, "include"),
                    "-I" + os.path.join(ROOT, "src"), "-o", lib] + srcs + ["-ljansson", "-lm"],
                   check=True)
    return ctypes.CDLL(lib)


class Nemo:
    def __init__(self, lib, path):
        self.lib = lib
        self.err = ctypes.create_string_buffer(2048)
        self.tok = ctypes.c_void_p()
        lib.nemo_tokenizer_open.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p),
                                            ctypes.c_void_p]
        lib.nemo_tokenizer_encode.argtypes = [
            ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
            ctypes.POINTER(ctypes.c_int32), ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t),
            ctypes.c_void_p]
        if lib.nemo_tokenizer_open(path.encode(), ctypes.byref(self.tok), self.err):
            sys.exit("nemo_tokenizer_open failed: " + self.err.raw[4:].split(b"\0")[0].decode())

    def encode(self, data, ids):
        n = ctypes.c_size_t()
        st = self.lib.nemo_tokenizer_encode(self.tok, data, len(data), 0, 0, ids, len(ids),
                                            ctypes.byref(n), self.err)
        if st:
            sys.exit("nemo_tokenizer_encode failed")
        return n.value


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=1.0)
    ap.add_argument("--reps", type=int, default=7)
    args = ap.parse_args()
    from mistral_common.tokens.tokenizers.tekken import Tekkenizer

    tekken = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "fixture.py"),
                             "tekken_240718.json"], check=True, capture_output=True,
                            text=True).stdout.strip()
    enc = Tekkenizer.from_file(tekken)._model  # the tiktoken.Encoding mistral-common uses
    nemo = Nemo(build_lib(), tekken)
    limit = int(args.mb * 1e6)
    texts = [(name, corpus(code, limit)) for name, code in LANGS]
    texts.append(("Code (C headers)", code_corpus(limit)))
    rows = []
    for name, text in texts:
        data = text.encode()
        ids = (ctypes.c_int32 * (len(data) + 16))()
        best_tt = best_us = float("inf")
        for _ in range(args.reps):
            best_tt = min(best_tt, _time(lambda: enc.encode_ordinary(text)))
            best_us = min(best_us, _time(lambda: nemo.encode(data, ids)))
        want = enc.encode_ordinary(text)
        n = nemo.encode(data, ids)
        same = "yes" if [x - 1000 for x in ids[:n]] == want else "NO"
        mb = len(data) / 1e6
        rows.append((name, mb, mb / best_tt, mb / best_us, best_tt / best_us, same))
    print(f"machine: {_cpu_name()} ({os.cpu_count()} cores, shared), Python "
          f"{platform.python_version()}, tiktoken {_version('tiktoken')}, single thread")
    print("| language | MB | tiktoken MB/s | nemo.c MB/s | ratio | same ids |")
    print("|---|---:|---:|---:|---:|---|")
    for name, mb, tt, us, ratio, same in rows:
        print(f"| {name} | {mb:.2f} | {tt:.1f} | {us:.1f} | {ratio:.2f}x | {same} |")
    if any(r[5] != "yes" for r in rows) or any(r[4] <= 1 for r in rows):
        sys.exit(1)


def _version(pkg):
    from importlib.metadata import version
    return version(pkg)


def _time(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    main()

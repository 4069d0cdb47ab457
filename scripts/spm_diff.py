#!/usr/bin/env python3
"""spm_diff.py — randomized differential test of the C SentencePiece tokenizer against
mistral-common / sentencepiece.

Usage: /work/venv/bin/python scripts/spm_diff.py [--n N] [--seed S] [--models v1,v2,v3]

Builds src/tokenizer/spm*.c + src/core/*.c into a temporary shared library (gcc, loaded with
ctypes), then for each model compares, over N random strings of mixed scripts and whitespace
(the generator of golden_spm.py): encode ids (with random bos/eos, as mistral-common's
encode(s, bos, eos)), decode of those ids, plus N/10 random byte strings (invalid UTF-8, which
only the C API and sentencepiece's bytes input accept) and N/10 random id sequences for decode.
Prints the first differences and exits 1 if there is any.
"""
import argparse
import ctypes
import glob
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_spm  # noqa: E402  (corpus pools, random generators, fixture loading)

ROOT = golden_spm.ROOT


class NemoError(ctypes.Structure):
    _fields_ = [("status", ctypes.c_int), ("msg", ctypes.c_char * 1024)]


def build_lib(tmp):
    srcs = sorted(glob.glob(os.path.join(ROOT, "src/tokenizer/spm*.c")) +
                  glob.glob(os.path.join(ROOT, "src/core/*.c")))
    out = os.path.join(tmp, "libspm.so")
    subprocess.run(["gcc", "-std=c11", "-D_DEFAULT_SOURCE", "-D_FILE_OFFSET_BITS=64", "-O2",
                    "-shared", "-fPIC", "-pthread", "-I" + os.path.join(ROOT, "include"),
                    "-I" + os.path.join(ROOT, "src"), "-o", out] + srcs + ["-lm"], check=True)
    lib = ctypes.CDLL(out)
    lib.nemo_spm_open.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p),
                                  ctypes.POINTER(NemoError)]
    lib.nemo_spm_encode.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                    ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int32),
                                    ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t),
                                    ctypes.POINTER(NemoError)]
    lib.nemo_spm_decode.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int32),
                                    ctypes.c_size_t, ctypes.c_int, ctypes.c_char_p,
                                    ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t),
                                    ctypes.POINTER(NemoError)]
    lib.nemo_spm_free.argtypes = [ctypes.c_void_p]
    return lib


class CModel:
    def __init__(self, lib, path):
        self.lib = lib
        self.h = ctypes.c_void_p()
        err = NemoError()
        if lib.nemo_spm_open(path.encode(), ctypes.byref(self.h), ctypes.byref(err)):
            sys.exit(f"spm_diff: {err.msg.decode()}")
        self.ids = (ctypes.c_int32 * (1 << 16))()
        self.out = ctypes.create_string_buffer(1 << 18)

    def encode(self, raw, bos=False, eos=False):
        n = ctypes.c_size_t()
        err = NemoError()
        st = self.lib.nemo_spm_encode(self.h, raw, len(raw), int(bos), int(eos), self.ids,
                                      len(self.ids), ctypes.byref(n), ctypes.byref(err))
        if st:
            return f"error {st}: {err.msg.decode()}"
        return list(self.ids[:n.value])

    def decode(self, ids):
        arr = (ctypes.c_int32 * max(1, len(ids)))(*ids)
        n = ctypes.c_size_t()
        err = NemoError()
        st = self.lib.nemo_spm_decode(self.h, arr, len(ids), 0, self.out, len(self.out),
                                      ctypes.byref(n), ctypes.byref(err))
        if st:
            return f"error {st}: {err.msg.decode()}"
        return self.out.raw[:n.value].decode("utf-8")

    def close(self):
        self.lib.nemo_spm_free(self.h)


def random_bytes(rng):
    pool = [b"\x80", b"\xbf", b"\xc0", b"\xc3", b"\xe3\x81", b"\xed\xa0\x80", b"\xf0\x9f",
            b"\xf4\x90\x80\x80", b"\xff", b"a", b" ", b"\n", "é".encode(), "你".encode(),
            "😀".encode(), b"[INST]"]
    return b"".join(rng.choice(pool) for _ in range(rng.randrange(1, 12)))


def normalizer_variants(path, tmp):
    """Copies of the model with every combination of add_dummy_prefix,
    remove_extra_whitespaces and escape_whitespaces (the Mistral files use 1, 0, 1), so the
    generic normalizer and decoder paths are compared with sentencepiece too."""
    def varint(v):
        out = b""
        while True:
            out += bytes([(v & 0x7F) | (0x80 if v > 0x7F else 0)])
            v >>= 7
            if not v:
                return out

    def read_varint(b, i):
        r = s = 0
        while True:
            r |= (b[i] & 0x7F) << s
            s += 7
            i += 1
            if b[i - 1] < 0x80:
                return r, i

    src = open(path, "rb").read()
    kept, i = [], 0
    while i < len(src):  # top-level fields, dropping normalizer_spec (3)
        start = i
        key, i = read_varint(src, i)
        if key & 7 == 0:
            _, i = read_varint(src, i)
        elif key & 7 == 2:
            n, i = read_varint(src, i)
            i += n
        else:
            i += 4 if key & 7 == 5 else 8
        if key >> 3 != 3:
            kept.append(src[start:i])
    for dummy in (0, 1):
        for rmws in (0, 1):
            for esc in (0, 1):
                norm = (b"\x0a\x08identity" + b"\x18" + varint(dummy) + b"\x20" + varint(rmws) +
                        b"\x28" + varint(esc))
                out = os.path.join(tmp, f"variant-{dummy}{rmws}{esc}.model")
                with open(out, "wb") as f:
                    f.write(b"".join(kept) + b"\x1a" + varint(len(norm)) + norm)
                yield f"normalizer({dummy},{rmws},{esc})", out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100000, help="random strings per model")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--models", default="v1,v2,v3")
    ap.add_argument("--variants", action="store_true",
                    help="also compare 8 normalizer-option variants of the v3 model (N/10 each)")
    args = ap.parse_args()
    from mistral_common.tokens.tokenizers.base import SpecialTokenPolicy
    diffs = 0
    with tempfile.TemporaryDirectory() as tmp:
        lib = build_lib(tmp)
        for version in args.models.split(","):
            tok, sp, path = golden_spm.load(version)
            c = CModel(lib, path)
            rng = random.Random(f"{args.seed}:{version}")
            checked = 0

            def report(kind, inp, want, got):
                nonlocal diffs
                diffs += 1
                if diffs <= 20:
                    print(f"DIFF {version} {kind} {inp!r}\n  want {want!r}\n  got  {got!r}")

            for _ in range(args.n):
                s = golden_spm.random_string(rng)
                bos, eos = rng.random() < 0.3, rng.random() < 0.3
                want = tok.encode(s, bos=bos, eos=eos)
                got = c.encode(s.encode("utf-8"), bos, eos)
                if got != want:
                    report("encode", s, want, got)
                want_text = tok.decode(want, SpecialTokenPolicy.IGNORE)
                got_text = c.decode(want)
                if got_text != want_text:
                    report("decode", want, want_text, got_text)
                checked += 1
            for _ in range(args.n // 10):
                raw = random_bytes(rng)
                want = sp.encode(raw)
                got = c.encode(raw)
                if got != want:
                    report("encode-bytes", raw, want, got)
                ids = golden_spm.random_ids(rng, sp)
                if c.decode(ids) != sp.decode(ids):
                    report("decode-ids", ids, sp.decode(ids), c.decode(ids))
            c.close()
            print(f"{version}: {checked} strings, {args.n // 10} byte strings, "
                  f"{args.n // 10} id sequences", file=sys.stderr)
        if args.variants:
            import sentencepiece
            _, _, v3 = golden_spm.load("v3")
            for label, path in normalizer_variants(v3, tmp):
                sp = sentencepiece.SentencePieceProcessor(model_file=path)
                c = CModel(lib, path)
                rng = random.Random(f"{args.seed}:{label}")
                for _ in range(args.n // 10):
                    s = golden_spm.random_string(rng)
                    want, got = sp.encode(s), c.encode(s.encode("utf-8"))
                    if want != got:
                        diffs += 1
                        print(f"DIFF {label} encode {s!r}\n  want {want}\n  got  {got}")
                    if sp.decode(want) != c.decode(want):
                        diffs += 1
                        print(f"DIFF {label} decode {want}")
                    ids = golden_spm.random_ids(rng, sp)
                    if sp.decode(ids) != c.decode(ids):
                        diffs += 1
                        print(f"DIFF {label} decode-ids {ids}")
                c.close()
            print(f"variants: 8 x {args.n // 10} strings", file=sys.stderr)
    print(f"spm_diff: {diffs} differences (seed {args.seed}, n {args.n})")
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()

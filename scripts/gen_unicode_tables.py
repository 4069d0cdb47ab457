#!/usr/bin/env python3
"""gen_unicode_tables.py — writes src/tokenizer/unicode_tables.c, the code point -> class table
that the Tekken pre-tokenizer (src/tokenizer/tekken_pretok.c) uses instead of a regex engine.

Which Unicode version: the tables must agree with the regex engine that mistral-common's
tokenizer runs, i.e. tiktoken's Rust `fancy-regex` over `regex-syntax` 0.8.11, which carries
Unicode 16.0 tables (probed: U+1E5D0 Ol Onal and U+16D43 Kirat Rai, new in 16.0, are letters to
tiktoken; U+11DB0, new in 17.0, is not). Debian bookworm's unicode-data package is 15.0, so the
general categories come from the `unicodedata2==16.0.0` wheel (pinned in
scripts/requirements-dev.txt); /usr/share/unicode/UnicodeData.txt is read as a cross-check and
the differences are printed. White_Space comes from /usr/share/unicode/PropList.txt (that
property has not changed since Unicode 6.0).

Two more bits serve the GGUF pre-tokenizers that follow llama.cpp (src/tokenizer/bpe_pretok.c):
llama.cpp classifies code points with its own tables, generated from Unicode 15.1 (probed with
llama-cpp-python 0.3.36: U+2EBF0, new in 15.1, is a letter there; U+1E5D0, new in 16.0, is not).
Those bits (\p{L} and \p{N} as of 15.1) come from the `unicodedata2==15.1.0` wheel, installed
apart because it is the same module name:
  /work/venv/bin/pip install --target /tmp/ud151 unicodedata2==15.1.0

Usage: /work/venv/bin/python scripts/gen_unicode_tables.py [--ucd /usr/share/unicode]
         [--ud151 /tmp/ud151]
"""
import argparse
import os
import subprocess
import sys

import unicodedata2

WANT_VERSION = "16.0.0"

# class bits, mirrored in src/tokenizer/unicode.h
A = 1    # [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]  (the "upper-ish" class of the pattern)
B = 2    # [\p{Ll}\p{Lm}\p{Lo}\p{M}]        (the "lower-ish" class)
L = 4    # \p{L}
N = 8    # \p{N}
S = 16   # \s = White_Space
CRLF = 32  # \r or \n
L151 = 64  # \p{L} in Unicode 15.1 (llama.cpp's tables)
N151 = 128  # \p{N} in Unicode 15.1


def categories_151(path):
    """One letter per code point (L, N or -) from unicodedata2 15.1 in a child process."""
    code = ("import unicodedata2 as u, sys\n"
            "assert u.unidata_version == '15.1.0', u.unidata_version\n"
            "sys.stdout.write(''.join(u.category(chr(c))[0] if u.category(chr(c))[0] in 'LN' "
            "else '-' for c in range(0x110000)))\n")
    env = dict(os.environ, PYTHONPATH=path)
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                         capture_output=True, text=True).stdout
    assert len(out) == 0x110000
    return out


def white_space(ucd):
    ws = set()
    with open(os.path.join(ucd, "PropList.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.split("#")[0].strip()
            if not line:
                continue
            rng, prop = [x.strip() for x in line.split(";")]
            if prop != "White_Space":
                continue
            lo, _, hi = rng.partition("..")
            for cp in range(int(lo, 16), int(hi or lo, 16) + 1):
                ws.add(cp)
    return ws


def debian_categories(ucd):
    cats = {}
    path = os.path.join(ucd, "UnicodeData.txt")
    with open(path, encoding="utf-8") as f:
        first = None
        for line in f:
            fields = line.split(";")
            cp, name, gc = int(fields[0], 16), fields[1], fields[2]
            if name.endswith(", First>"):
                first = cp
                continue
            if name.endswith(", Last>"):
                for c in range(first, cp + 1):
                    cats[c] = gc
                continue
            cats[cp] = gc
    return cats


def classify(cp, ws, c151):
    gc = unicodedata2.category(chr(cp))
    v = 0
    if gc in ("Lu", "Lt", "Lm", "Lo") or gc[0] == "M":
        v |= A
    if gc in ("Ll", "Lm", "Lo") or gc[0] == "M":
        v |= B
    if gc[0] == "L":
        v |= L
    if gc[0] == "N":
        v |= N
    if cp in ws:
        v |= S
    if cp in (0x0A, 0x0D):
        v |= CRLF
    if c151[cp] == "L":
        v |= L151
    if c151[cp] == "N":
        v |= N151
    return v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ucd", default="/usr/share/unicode")
    ap.add_argument("--ud151", default="/tmp/ud151",
                    help="folder holding unicodedata2 15.1.0 (pip install --target)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "src",
                                                  "tokenizer", "unicode_tables.c"))
    args = ap.parse_args()
    if unicodedata2.unidata_version != WANT_VERSION:
        sys.exit(f"need unicodedata2 {WANT_VERSION}, found {unicodedata2.unidata_version}")
    ws = white_space(args.ucd)
    deb = debian_categories(args.ucd)
    diff = [cp for cp, gc in deb.items()
            if gc != "Cs" and unicodedata2.category(chr(cp)) != gc]
    new = sum(1 for cp in range(0x110000) if cp not in deb and
              unicodedata2.category(chr(cp)) != "Cn")
    print(f"{args.ucd}/UnicodeData.txt vs Unicode {WANT_VERSION}: {len(diff)} code points changed "
          f"category, {new} newly assigned", file=sys.stderr)

    c151 = categories_151(args.ud151)
    cls = [classify(cp, ws, c151) for cp in range(0x110000)]
    # two-stage table: 256-code-point blocks, identical blocks shared
    blocks, index = [], []
    seen = {}
    for hi in range(0x110000 >> 8):
        blk = tuple(cls[hi << 8:(hi + 1) << 8])
        if blk not in seen:
            seen[blk] = len(blocks)
            blocks.append(blk)
        index.append(seen[blk])
    assert len(blocks) < 65536
    out = []
    out.append("/* unicode_tables.c — GENERATED by scripts/gen_unicode_tables.py; do not edit.\n"
               f" * Unicode {WANT_VERSION} general categories (unicodedata2) and White_Space\n"
               " * (PropList.txt), plus \\p{L} / \\p{N} of Unicode 15.1 (llama.cpp's), folded\n"
               " * into the class bits of src/tokenizer/unicode.h, as a\n"
               " * two-stage table: nemo_uc_stage1[cp >> 8] picks a 256-entry block of\n"
               " * nemo_uc_stage2. */\n")
    out.append('#include "tokenizer/unicode.h"\n\n/* clang-format off */\n')
    out.append(f"const uint16_t nemo_uc_stage1[{len(index)}] = {{\n")
    for i in range(0, len(index), 16):
        out.append("    " + ", ".join(str(x) for x in index[i:i + 16]) + ",\n")
    out.append("};\n\n")
    out.append(f"const uint8_t nemo_uc_stage2[{len(blocks) * 256}] = {{\n")
    for b in blocks:
        for i in range(0, 256, 32):
            out.append("    " + ",".join(str(x) for x in b[i:i + 32]) + ",\n")
    out.append("};\n/* clang-format on */\n")
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("".join(out))
    print(f"wrote {args.out}: {len(blocks)} blocks", file=sys.stderr)


if __name__ == "__main__":
    main()

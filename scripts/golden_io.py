"""golden_io.py — what the golden scripts under scripts/ share: the path of a pinned fixture
(scripts/fixture.py fetches it once into $NEMO_CACHE), a file's sha256, and the two ways their
JSON files are written (indent 1 with a final newline, or one list element per line), so that
re-running any of them keeps its byte format. Tooling only: imported by scripts run as
`python scripts/NAME.py` (their folder is on sys.path then)."""
import hashlib
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fixture(name):
    """Local path of the pinned fixture file name (fetched on first use)."""
    return subprocess.check_output(
        [sys.executable, os.path.join(ROOT, "scripts", "fixture.py"), name], text=True).strip()


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_json(path, obj, ensure_ascii=True):
    """Writes a golden file; ensure_ascii as the file has always been written."""
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, ensure_ascii=ensure_ascii)
        f.write("\n")


def write_json_lines(path, obj):
    """Writes a golden dict with each element of its list values on a line of its own (small
    diffs when a reference changes one case), UTF-8 kept as is."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("{\n")
        items = list(obj.items())
        for k, (key, val) in enumerate(items):
            f.write(json.dumps(key) + ": ")
            if isinstance(val, list):
                f.write("[\n" + ",\n".join(json.dumps(v, ensure_ascii=False) for v in val) + "\n]")
            else:
                f.write(json.dumps(val, ensure_ascii=False))
            f.write(",\n" if k + 1 < len(items) else "\n")
        f.write("}\n")


def llamacpp_last_logits(path, prompts):
    """llama.cpp's (llama-cpp-python) logits at the last position of each prompt (token ids):
    CPU, 1 thread, f32 KV cache, flash attention off, one batch per prompt."""
    import llama_cpp
    import numpy as np
    llm = llama_cpp.Llama(model_path=path, n_ctx=64, n_batch=64, n_threads=1, n_threads_batch=1,
                          logits_all=True, type_k=0, type_v=0, flash_attn=False, n_gpu_layers=0,
                          verbose=False)
    out = []
    for ids in prompts:
        llm.reset()
        llm.eval(ids)
        out.append([float(v) for v in np.array(llm.scores[len(ids) - 1], dtype=np.float32)])
    del llm
    return out

"""golden_io.py — what the golden scripts under scripts/ share: the path of a pinned fixture
(scripts/fixture.py fetches it once into $NEMO_CACHE), a file's sha256, and writing a golden
JSON file the one way they are all written (indent 1, a final newline), so that re-running any
of them gives the same byte format. Tooling only: imported by scripts run as
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

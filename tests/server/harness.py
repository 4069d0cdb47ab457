"""harness.py — starts `nemo serve` on a free port for the server tests, waits for /health,
and on stop sends SIGTERM and checks a clean exit (exit code 0, no sanitizer report), so the
ASan/UBSan build's leak check covers every request the tests made."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.environ.get("NEMO_ROOT", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BIN = os.environ.get("NEMO_BIN", os.path.join(ROOT, "build/asan/nemo"))
KEY = "sk-test-key"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def synth_model():
    """A NeMo-shaped checkpoint with Tekken's 131072-id vocabulary and the real tokenizer; narrow
    (dim 32, f32) because the 131072-row LM head dominates every token under ASan."""
    tmp = os.environ.get("NEMO_TEST_TMP", tempfile.gettempdir())
    d = os.path.join(tmp, "server_model")
    if not os.path.exists(os.path.join(d, "tekken.json")):
        subprocess.run([BIN, "synth", d, "--preset", "nemo-tiny", "--vocab", "131072", "--dim", "32",
                        "--heads", "2", "--kv-heads", "1", "--head-dim", "16", "--hidden", "64",
                        "--dtype", "f32", "--quiet", "--force"], check=True)
        tek = os.environ.get("NEMO_TEKKEN") or subprocess.check_output(
            [sys.executable, os.path.join(ROOT, "scripts/fixture.py"), "tekken_240718.json"],
            text=True).strip()
        with open(tek, "rb") as f, open(os.path.join(d, "tekken.json"), "wb") as g:
            g.write(f.read())
    return d


def smollm2():
    """The real SmolLM2-135M-Instruct GGUF (pinned fixture; its own vocabulary and ChatML)."""
    return os.environ.get("NEMO_SMOLLM2") or subprocess.check_output(
        [sys.executable, os.path.join(ROOT, "scripts/fixture.py"), "SmolLM2-135M-Instruct.Q4_1.gguf"],
        text=True).strip()


class Server:
    def __init__(self, *args, key=KEY, model=None, binary=None):
        self.port = free_port()
        self.key = key
        self.model = model or synth_model()
        cmd = [binary or BIN, "serve", self.model, "--port", str(self.port), "-t", "2"] + list(args)
        if key:
            cmd += ["--api-key", key]
        self.log = tempfile.TemporaryFile()
        env = dict(os.environ)
        env.pop("NEMO_API_KEY", None)
        self.p = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, env=env)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.p.poll() is not None:
                raise RuntimeError("server exited: " + self.output())
            try:
                st, _ = self.request("GET", "/health")
                if st == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not come up: " + self.output())

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def request(self, method, path, body=None, headers=None, key=True):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = dict(headers or {})
        if key and self.key:
            h.setdefault("Authorization", "Bearer " + self.key)
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def json(self, method, path, body=None, **kw):
        st, data = self.request(method, path, body, **kw)
        return st, json.loads(data)

    def metric(self, name):
        st, data = self.request("GET", "/metrics")
        assert st == 200, st
        for line in data.decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        raise KeyError(name)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            raise AssertionError("server did not stop on SIGTERM: " + self.output())
        out = self.output()
        bad = [m for m in ("AddressSanitizer", "LeakSanitizer", "runtime error:") if m in out]
        assert rc == 0 and not bad, f"server exit {rc}, sanitizer: {bad}\n{out[-4000:]}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.stop()
        else:
            self.p.kill()
            self.p.wait()
            sys.stderr.write(self.output()[-3000:])


def run_tests(tests):
    """Runs (name, fn) pairs; prints one line each; returns the number failed."""
    failed = 0
    for name, fn in tests:
        t0 = time.time()
        try:
            fn()
            print(f"  ok   {name} ({time.time() - t0:.1f}s)")
        except Exception as e:  # a failed assert or an unexpected error both fail the test
            failed += 1
            where = traceback.extract_tb(e.__traceback__)[-1]
            print(f"  FAIL {name} (line {where.lineno}): {type(e).__name__}: {e}")
    return failed

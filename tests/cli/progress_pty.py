#!/usr/bin/env python3
"""For tests/cli/run_cli.sh: `nemo run` draws the loading bar on stderr when it is a terminal
(threshold lowered with NEMO_PROGRESS_MIN_BYTES=0) and never into a pipe or file.
Usage: progress_pty.py NEMO_BIN MODEL. Exit 0 = pass."""
import os, pty, subprocess, sys, time, select

nemo, model = sys.argv[1], sys.argv[2]
env = dict(os.environ, NEMO_PROGRESS_MIN_BYTES="0")
pid, fd = pty.fork()
if pid == 0:
    os.execve(nemo, [nemo, "run", model, "hi", "-n", "1"], env)
out = b""
end = time.time() + 120
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
_, status = os.waitpid(pid, 0)
if os.WEXITSTATUS(status) != 0 or b"loading [" not in out or b"100%" not in out:
    print("no progress bar on a terminal:", out[:300]); sys.exit(1)
p = subprocess.run([nemo, "run", model, "hi", "-n", "1"], env=env, capture_output=True)
if p.returncode != 0 or b"loading" in p.stderr:
    print("progress drawn into a pipe:", p.stderr[:300]); sys.exit(1)

"""ptyio.py — reading a child's pseudo-terminal for the pty-driven CLI tests (chat_pty.py,
progress_pty.py): they import it from this folder, which Python puts on sys.path for them."""
import os
import select
import time


def read_until(fd, pred, timeout):
    """Reads fd until pred(all bytes so far) holds, the child closes the terminal, or timeout
    seconds pass. Returns (bytes, whether pred held)."""
    buf = b""
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child is gone
                break
            if not chunk:
                break
            buf += chunk
            if pred(buf):
                return buf, True
    return buf, False

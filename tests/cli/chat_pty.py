#!/usr/bin/env python3
"""Drives `nemo chat` on a pseudo-terminal (libedit path) for tests/cli/chat_cli.sh:
sends a message, interrupts the answer with Ctrl-C (SIGINT to the process group via the tty's
interrupt character), checks the prompt comes back and the next message is answered, then
exits with Ctrl-D. Usage: chat_pty.py NEMO_BIN MODEL [extra nemo chat args]. Exit 0 = pass."""
import os, pty, sys, time, select

def read_until(fd, pred, timeout):
    buf = b""
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            if pred(buf):
                return buf, True
    return buf, False

def main():
    nemo, model = sys.argv[1], sys.argv[2]
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(nemo, [nemo, "chat", model, "--seed", "5", "--print-ids"] + sys.argv[3:])
    out, ok = read_until(fd, lambda b: b.rstrip().endswith(b">"), 60)
    if not ok:
        print("no first prompt:", out); return 1
    os.write(fd, b"tell me a long story\r")
    # wait for a good part of the answer (generated text after the echoed line)
    out, ok = read_until(fd, lambda b: len(b) > 300, 60)
    if not ok:
        print("no answer streaming:", out); return 1
    os.write(fd, b"\x03")  # Ctrl-C: the tty sends SIGINT
    out, ok = read_until(fd, lambda b: b"[interrupted]" in b and b.rstrip().endswith(b">"), 30)
    if not ok:
        print("Ctrl-C did not stop the answer and return to the prompt:", out[-500:]); return 1
    os.write(fd, b"and now?\r")
    # the second answer streams too (then it is interrupted as well, to keep the test short)
    out, ok = read_until(fd, lambda b: b.count(b"prompt ids:") >= 1 and len(b.split(b"prompt ids:")[-1]) > 400, 60)
    if not ok:
        print("second message not answered:", out[-500:]); return 1
    os.write(fd, b"\x03")
    more, ok = read_until(fd, lambda b: b"[interrupted]" in b and b.rstrip().endswith(b">"), 30)
    out += more
    if not ok:
        print("second Ctrl-C did not return to the prompt:", out[-500:]); return 1
    # the partial first answer was kept: the second prompt holds more than the two messages
    text = out.decode("utf-8", "replace")
    line = [l for l in text.splitlines() if l.startswith("prompt ids:")]
    if not line or len(line[0].split()) < 2 + 20:
        print("partial answer not kept in the conversation:", line); return 1
    if os.environ.get("CHAT_PTY_VERBOSE"):
        print(text)
    # Ctrl-C (or, with CHAT_PTY_EOF=1, Ctrl-D) at the empty prompt exits. Pause first: a ^D
    # typed before libedit has switched the terminal out of canonical mode is read as a NUL
    # byte, not as end of input (a terminal matter, not nemo's).
    time.sleep(0.5)
    os.write(fd, b"\x04" if os.environ.get("CHAT_PTY_EOF") else b"\x03")
    tail, _ = read_until(fd, lambda b: False, 2)
    for _ in range(600):  # ASan's leak check at exit can take a while on a busy machine
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        print("still running after the exit key at the prompt:", out[-300:], tail); return 1
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        print("exit status", status); return 1
    return 0

if __name__ == "__main__":
    sys.exit(main())

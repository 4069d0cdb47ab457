"""test_web.py — the chat page at GET / in headless Chromium: load it, type a message, send
it, and wait until the streamed reply is in the DOM. Chromium is driven over the DevTools
protocol on a pipe (--remote-debugging-pipe: NUL-separated JSON on fds 3 and 4), so no Python
package is needed. The server runs with --debug-reply so the expected text is known. Skips,
saying so, when no chromium binary is installed (Debian package `chromium`), unless
$NEMO_NEED_CHROMIUM is set (CI's .ci/run installs chromium and sets it)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from harness import Server, run_tests

REPLY = "Hello from nemo, streamed token by token."
TOOL_REPLY = 'One moment.[TOOL_CALLS][{"name": "get_time", "arguments": {"zone": "CET"}}]'


def open_page(b, base, deadline):
    target = b.call("Target.createTarget", url=base + "/")["targetId"]
    sess = b.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    # the new tab starts on about:blank; wait for our page to be loaded
    while b.eval(sess, "location.href + ' ' + document.readyState") != base + "/ complete" and time.time() < deadline:
        time.sleep(0.1)
    return sess


class CDP:
    def __init__(self, exe):
        self.r_cmd, self.w_cmd = os.pipe()  # we write commands -> chromium's fd 3
        self.r_res, self.w_res = os.pipe()  # chromium writes results on fd 4 -> we read
        self.profile = tempfile.mkdtemp(prefix="nemo-chromium-")

        def fds():
            os.dup2(self.r_cmd, 3)
            os.dup2(self.w_res, 4)
        self.p = subprocess.Popen(
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             "--no-first-run", "--user-data-dir=" + self.profile, "about:blank"],
            # subprocess closes unlisted fds after preexec_fn ran, so keep 3 and 4 by number
            preexec_fn=fds, pass_fds=(3, 4),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(self.r_cmd)
        os.close(self.w_res)
        self.buf = b""
        self.next_id = 0

    def call(self, method, session=None, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self.w_cmd, json.dumps(msg).encode() + b"\0")
        while True:
            while b"\0" not in self.buf:
                chunk = os.read(self.r_res, 1 << 16)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe")
                self.buf += chunk
            raw, self.buf = self.buf.split(b"\0", 1)
            m = json.loads(raw)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m["result"]

    def eval(self, session, expr):
        r = self.call("Runtime.evaluate", session, expression=expr, returnByValue=True, awaitPromise=True)
        return r["result"].get("value")

    def close(self):
        try:
            self.call("Browser.close")
        except Exception:  # already gone
            pass
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
        os.close(self.w_cmd)
        os.close(self.r_res)
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not exe:
        if os.environ.get("NEMO_NEED_CHROMIUM"):  # .ci/run installs it: a skip there is a failure
            print("  FAIL test_web: no chromium installed, and NEMO_NEED_CHROMIUM is set")
            return 1
        print("  SKIP test_web: no chromium installed (apt-get install chromium to run it)")
        print("RESULT 0 0")
        return 0
    with Server("--parallel", "2", "--ctx", "512", "--debug-reply", REPLY, key=None) as s:
        b = CDP(exe)
        try:
            def page_chat():
                deadline = time.time() + 30
                sess = open_page(b, s.base, deadline)
                title = b.eval(sess, "document.title")
                assert title == "nemo.c chat", title
                b.eval(sess, "document.getElementById('input').value = 'Hi there';"
                             "document.getElementById('form').requestSubmit(); true")
                got = None
                while time.time() < deadline:
                    got = b.eval(sess, "Array.from(document.querySelectorAll('.msg')).map(e => e.className + '|' + e.textContent)")
                    if got and any(REPLY in x and "stop" in x for x in got):
                        break
                    time.sleep(0.2)
                assert got and got[0] == "msg user|Hi there", got
                assert any(x.startswith("msg assistant|" + REPLY) and "stop" in x for x in got), got
                # the model name came from /v1/models
                name = b.eval(sess, "document.getElementById('model').textContent")
                assert name == os.path.basename(s.model), name
                # a second turn sends the history: 2 user + 1 assistant messages
                b.eval(sess, "document.getElementById('input').value = 'again';"
                             "document.getElementById('form').requestSubmit(); true")
                while time.time() < deadline:
                    got = b.eval(sess, "document.querySelectorAll('.assistant .meta').length")
                    if got == 2:
                        break
                    time.sleep(0.2)
                assert got == 2, got
                st, tok = s.json("POST", "/tokenize", {"messages": [
                    {"role": "user", "content": "Hi there"}, {"role": "assistant", "content": REPLY},
                    {"role": "user", "content": "again"}]})
                assert s.metric("nemo_prompt_tokens_total") >= tok["count"]

            def page_tool_call():
                # a streamed tool call arrives as a first delta and argument fragments: the page
                # must put them together into one call
                with Server("--parallel", "1", "--ctx", "512", "--debug-reply", TOOL_REPLY, key=None) as s2:
                    deadline = time.time() + 30
                    sess = open_page(b, s2.base, deadline)
                    b.eval(sess, "document.getElementById('input').value = 'time?';"
                                 "document.getElementById('form').requestSubmit(); true")
                    got = None
                    while time.time() < deadline:
                        got = b.eval(sess, "Array.from(document.querySelectorAll('.tool')).map(e => e.textContent)")
                        if got:
                            break
                        time.sleep(0.2)
                    assert got == ['tool call get_time({"zone": "CET"})'], got

            failed = run_tests([("chat page in headless chromium", page_chat),
                                ("chat page shows a streamed tool call", page_tool_call)])
        finally:
            b.close()
    print(f"RESULT {2 - failed} {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

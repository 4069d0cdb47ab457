"""test_concurrency.py — continuous batching under load: 16 streaming clients at temperature 0
run at once (prompts of different lengths, so prefill chunks and decode tokens of different
sequences share forward calls, and requests join and leave between steps); each output must
equal the same request served alone. Then clients that drop mid-stream must leave no slot
busy (/metrics), and a follow-up request must be served."""
import socket
import sys
import threading
import time
import json

import openai

from harness import KEY, Server, run_tests

N = 16
WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi".split()


def prompt(i):
    return [{"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": " ".join(WORDS[: 1 + i]) + f" — request {i}"}]


def main():
    with Server("--parallel", "8", "--ctx", "512", "--prefill-chunk", "7", "--batch", "64") as s:
        c = openai.OpenAI(base_url=s.base + "/v1", api_key=KEY, max_retries=0, timeout=120)
        model = c.models.list().data[0].id
        kw = dict(model=model, temperature=0, max_tokens=int(sys.argv[1]) if len(sys.argv) > 1 else 10)

        def alone_vs_batched():
            alone = [c.chat.completions.create(messages=prompt(i), **kw).choices[0].message.content
                     for i in range(N)]
            got = [None] * N
            errs = []

            def client(i):
                try:
                    parts = []
                    for ch in c.chat.completions.create(messages=prompt(i), stream=True, **kw):
                        if ch.choices and ch.choices[0].delta.content:
                            parts.append(ch.choices[0].delta.content)
                    got[i] = "".join(parts)
                except Exception as e:  # reported below with the client's index
                    errs.append((i, e))
            th = [threading.Thread(target=client, args=(i,)) for i in range(N)]
            for t in th:
                t.start()
            for t in th:
                t.join()
            assert not errs, errs
            diff = [i for i in range(N) if got[i] != alone[i]]
            assert not diff, [(i, alone[i], got[i]) for i in diff]
            assert len(set(alone)) > 1, "all prompts gave the same output; the test would not see mixups"

        def drops_leave_no_slot():
            body = json.dumps({"messages": prompt(3), "max_tokens": 400, "stream": True})
            socks = []
            for _ in range(12):
                k = socket.create_connection(("127.0.0.1", s.port))
                k.sendall((f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
                           f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
                socks.append(k)
            for k in socks:  # some are running, some queued; read a little from each, then drop all
                k.settimeout(30)
                k.recv(10)
                k.close()
            deadline = time.time() + 15
            while time.time() < deadline and (s.metric("nemo_active_slots") or s.metric("nemo_queue_depth")):
                time.sleep(0.05)
            assert s.metric("nemo_active_slots") == 0 and s.metric("nemo_queue_depth") == 0
            r = c.chat.completions.create(messages=prompt(1), **kw)
            assert r.choices[0].message.content

        failed = run_tests([("16 concurrent streams == alone", alone_vs_batched),
                            ("dropped clients leave no slot", drops_leave_no_slot)])
    print(f"RESULT {2 - failed} {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

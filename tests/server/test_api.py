"""test_api.py — `nemo serve` through the official openai client (chat, streaming,
completions, models, usage, stop strings, seeds) and raw HTTP for everything malformed (bad
JSON, wrong types, oversize body, unknown model/route, wrong method, missing or wrong key):
each must get the right status and an OpenAI error body, and the server must keep serving."""
import json
import socket
import sys
import threading
import time

import openai

from harness import KEY, Server, run_tests

MSG = [{"role": "user", "content": "Hello, who are you?"}]


def main():
    with Server("--parallel", "4", "--ctx", "1024", "--max-body", "65536", "--queue", "2") as s:
        c = openai.OpenAI(base_url=s.base + "/v1", api_key=KEY, max_retries=0)
        model = c.models.list().data[0].id

        def chat_basic():
            r = c.chat.completions.create(model=model, messages=MSG, max_tokens=8, temperature=0)
            ch = r.choices[0]
            assert r.object == "chat.completion" and ch.message.role == "assistant"
            assert isinstance(ch.message.content, str) and ch.message.content
            assert ch.finish_reason == "length", ch.finish_reason
            assert r.usage.completion_tokens == 8 and r.usage.prompt_tokens > 0
            assert r.usage.total_tokens == r.usage.prompt_tokens + 8
            # the prompt is the model's chat format: same count as /tokenize of the messages
            st, tok = s.json("POST", "/tokenize", {"messages": MSG})
            assert st == 200 and tok["count"] == r.usage.prompt_tokens, (tok, r.usage)

        def chat_greedy_repeatable():
            a = c.chat.completions.create(model=model, messages=MSG, max_tokens=12, temperature=0)
            b = c.chat.completions.create(model=model, messages=MSG, max_tokens=12, temperature=0)
            assert a.choices[0].message.content == b.choices[0].message.content

        def chat_seed():
            kw = dict(model=model, messages=MSG, max_tokens=12, temperature=1.0, seed=1234)
            a = c.chat.completions.create(**kw).choices[0].message.content
            b = c.chat.completions.create(**kw).choices[0].message.content
            assert a == b, (a, b)
            kw["seed"] = 99
            d = [c.chat.completions.create(**kw).choices[0].message.content for _ in range(1)]
            assert d[0] != a, "a different seed gave the same 12 sampled tokens"

        def chat_stream():
            full = c.chat.completions.create(model=model, messages=MSG, max_tokens=10, temperature=0)
            chunks = list(c.chat.completions.create(model=model, messages=MSG, max_tokens=10,
                                                    temperature=0, stream=True,
                                                    stream_options={"include_usage": True}))
            assert chunks[0].choices[0].delta.role == "assistant"
            text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
            assert text == full.choices[0].message.content, (text, full.choices[0].message.content)
            fins = [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason]
            assert fins == ["length"], fins
            assert chunks[-1].usage and chunks[-1].usage.completion_tokens == 10
            assert all(ch.id == chunks[0].id for ch in chunks)

        def chat_stop_string():
            full = c.chat.completions.create(model=model, messages=MSG, max_tokens=10,
                                             temperature=0).choices[0].message.content
            cut = full[3:6]
            assert cut.strip(), full
            r = c.chat.completions.create(model=model, messages=MSG, max_tokens=10, temperature=0,
                                          stop=[cut, "zzzz-never"])
            assert r.choices[0].finish_reason == "stop"
            assert r.choices[0].message.content == full[:full.index(cut)], (full, cut, r)
            streamed = "".join(ch.choices[0].delta.content or "" for ch in c.chat.completions.create(
                model=model, messages=MSG, max_tokens=10, temperature=0, stop=cut, stream=True))
            assert streamed == full[:full.index(cut)]

        def completions():
            r = c.completions.create(model=model, prompt="The capital of France is", max_tokens=6,
                                     temperature=0)
            assert r.object == "text_completion" and r.choices[0].finish_reason == "length"
            assert r.usage.completion_tokens == 6
            text = "".join(ch.choices[0].text for ch in c.completions.create(
                model=model, prompt="The capital of France is", max_tokens=6, temperature=0, stream=True))
            assert text == r.choices[0].text
            # token ids as the prompt give the same continuation
            st, tok = s.json("POST", "/tokenize", {"content": "The capital of France is", "add_special": True})
            r2 = c.completions.create(model=model, prompt=tok["tokens"], max_tokens=6, temperature=0)
            assert r2.choices[0].text == r.choices[0].text

        def models_and_misc():
            st, m = s.json("GET", "/v1/models")
            assert st == 200 and m["object"] == "list" and m["data"][0]["id"] == model
            st, m = s.json("GET", "/v1/models/" + model)
            assert st == 200 and m["id"] == model
            st, t = s.json("POST", "/tokenize", {"content": "Hello world"})
            assert st == 200 and len(t["tokens"]) == 2, t
            st, d = s.json("POST", "/detokenize", {"tokens": t["tokens"]})
            assert st == 200 and d["content"] == "Hello world", d
            st, h = s.json("GET", "/health", key=False)
            assert st == 200 and h["status"] == "ok"
            st, page = s.request("GET", "/", key=False)
            assert st == 200 and b"<html" in page.lower() and b"/v1/chat/completions" in page

        def expect_error(status, method, path, body=None, param=None, **kw):
            st, data = s.request(method, path, body, **kw)
            assert st == status, (st, status, data[:300])
            e = json.loads(data)["error"]
            assert set(e) == {"message", "type", "param", "code"}, e
            assert isinstance(e["message"], str) and e["message"]
            if param:
                assert e["param"] == param, e
            return e

        def errors_raw():
            p = "/v1/chat/completions"
            expect_error(400, "POST", p, b'{"messages": [')
            expect_error(400, "POST", p, b'[1, 2]')
            expect_error(400, "POST", p, {"messages": "hi"}, param="messages")
            expect_error(400, "POST", p, {"messages": MSG, "temperature": "hot"}, param="temperature")
            expect_error(400, "POST", p, {"messages": MSG, "temperature": 7}, param="temperature")
            expect_error(400, "POST", p, {"messages": MSG, "max_tokens": 0}, param="max_tokens")
            expect_error(400, "POST", p, {"messages": MSG, "max_tokens": "5"}, param="max_tokens")
            expect_error(400, "POST", p, {"messages": MSG, "stop": [1]}, param="stop")
            expect_error(400, "POST", p, {"messages": MSG, "n": 2}, param="n")
            expect_error(400, "POST", p, {"messages": MSG, "response_format": {"type": "json_object"}},
                         param="response_format")
            expect_error(400, "POST", p, {"messages": MSG, "logprobs": True}, param="logprobs")
            expect_error(400, "POST", p, {"messages": MSG, "stream": "yes"}, param="stream")
            expect_error(400, "POST", p, {"messages": MSG, "tool_choice": "sometimes",
                                          "tools": []}, param="tool_choice")
            e = expect_error(400, "POST", p, {"messages": [{"role": "assistant", "content": "x"}]})
            expect_error(400, "POST", p, {"messages": [{"role": "wizard", "content": "x"}]})
            expect_error(404, "POST", p, {"model": "gpt-9", "messages": MSG}, param="model")
            e = expect_error(413, "POST", p, b'{"messages": "' + b"x" * 100000 + b'"}')
            assert e["type"] == "invalid_request_error"
            expect_error(401, "POST", p, {"messages": MSG}, key=False)
            e = expect_error(401, "POST", p, {"messages": MSG}, headers={"Authorization": "Bearer nope"})
            assert e["type"] == "authentication_error"
            expect_error(401, "GET", "/metrics", key=False)
            expect_error(404, "GET", "/v1/nothing")
            expect_error(404, "GET", "/v1/models/gpt-9")
            expect_error(405, "GET", p)
            expect_error(405, "POST", "/v1/models")
            expect_error(400, "POST", "/v1/completions", {"prompt": {"a": 1}}, param="prompt")
            expect_error(400, "POST", "/v1/completions", {"prompt": [5, -1]}, param="prompt")
            expect_error(400, "POST", "/v1/completions", {"prompt": "x", "echo": True}, param="echo")
            expect_error(400, "POST", "/detokenize", {"tokens": ["a"]}, param="tokens")
            expect_error(400, "POST", p, {"messages": [{"role": "user", "content": "hi " * 2000}]})
            # the openai client surfaces these as typed errors
            try:
                c.chat.completions.create(model="gpt-9", messages=MSG)
                raise AssertionError("unknown model accepted")
            except openai.NotFoundError:
                pass
            # garbage that is not HTTP at all
            with socket.create_connection(("127.0.0.1", s.port)) as k:
                k.sendall(b"\x00\x01garbage\r\n\r\n")
                k.settimeout(1)
                try:
                    k.recv(100)
                except OSError:
                    pass
            st, _ = s.request("GET", "/health")
            assert st == 200
            r = c.chat.completions.create(model=model, messages=MSG, max_tokens=2)
            assert r.choices[0].message.content is not None

        def disconnect_frees_slot():
            body = json.dumps({"messages": MSG, "max_tokens": 900, "stream": True, "temperature": 0})
            for _ in range(3):
                k = socket.create_connection(("127.0.0.1", s.port))
                k.sendall((f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
                           f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode())
                got = b""
                while got.count(b"data: ") < 3:
                    got += k.recv(4096)
                assert b"200 OK" in got
                k.close()
            deadline = time.time() + 10
            while s.metric("nemo_active_slots") != 0 and time.time() < deadline:
                time.sleep(0.05)
            assert s.metric("nemo_active_slots") == 0, "a dropped stream kept its slot"
            assert s.metric("nemo_queue_depth") == 0
            r = c.chat.completions.create(model=model, messages=MSG, max_tokens=3)
            assert r.usage.completion_tokens == 3

        def queue_full():
            # 4 slots + queue of 2: of 10 simultaneous long requests some must get 503
            results = []

            def one():
                st, _ = s.request("POST", "/v1/chat/completions",
                                  {"messages": MSG, "max_tokens": 30, "temperature": 0})
                results.append(st)
            th = [threading.Thread(target=one) for _ in range(10)]
            for t in th:
                t.start()
            for t in th:
                t.join()
            assert sorted(set(results)) == [200, 503], results
            assert results.count(200) >= 6, results
            assert s.metric('nemo_requests_total{route="/v1/chat/completions",status="503"}') >= 1

        def prefix_cache_and_metrics():
            sys_msg = {"role": "system", "content": "You are a terse assistant. " * 30}
            hits0 = s.metric("nemo_prefix_cache_tokens_total")
            a = c.chat.completions.create(model=model, messages=[sys_msg, MSG[0]], max_tokens=4, temperature=0)
            b = c.chat.completions.create(model=model, messages=[sys_msg, {"role": "user", "content": "Other question"}],
                                          max_tokens=4, temperature=0)
            # the long system prompt is reused, not recomputed
            assert s.metric("nemo_prefix_cache_tokens_total") - hits0 >= 150
            # and reuse does not change the result
            a2 = c.chat.completions.create(model=model, messages=[sys_msg, MSG[0]], max_tokens=4, temperature=0)
            assert a.choices[0].message.content == a2.choices[0].message.content
            assert b.choices[0].message.content is not None
            assert s.metric("nemo_generated_tokens_total") > 0
            assert s.metric("nemo_prompt_tokens_total") > 0
            assert s.metric('nemo_requests_total{route="/v1/chat/completions",status="200"}') > 5
            assert s.metric('nemo_requests_total{route="/v1/chat/completions",status="400"}') > 5

        def tool_choice_forcing():
            # no constrained decoding: a named tool_choice forces the marker and the call's
            # opening text; this untrained model then writes no valid arguments, so the server
            # returns what it wrote as content (finish_reason is not "tool_calls")
            tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
                "type": "object", "properties": {"city": {"type": "string"}}}}}]
            r = c.chat.completions.create(model=model, messages=MSG, tools=tools, max_tokens=20, temperature=0,
                                          tool_choice={"type": "function", "function": {"name": "get_weather"}})
            ch = r.choices[0]
            assert ch.message.content.startswith('[{"name": "get_weather", "arguments": '), ch.message.content
            assert ch.finish_reason != "tool_calls" and not ch.message.tool_calls
            # "none" never lets the marker through, so the output is plain text
            r = c.chat.completions.create(model=model, messages=MSG, tools=tools, max_tokens=6, temperature=0,
                                          tool_choice="none")
            assert not r.choices[0].message.tool_calls and r.choices[0].finish_reason == "length"

        failed = run_tests([
            ("chat", chat_basic), ("chat greedy repeatable", chat_greedy_repeatable),
            ("chat seed", chat_seed), ("chat stream", chat_stream), ("stop strings", chat_stop_string),
            ("completions", completions), ("models, tokenize, health, page", models_and_misc),
            ("errors (raw HTTP)", errors_raw), ("dropped streams free slots", disconnect_frees_slot),
            ("queue full -> 503", queue_full), ("prefix cache + metrics", prefix_cache_and_metrics),
            ("tool_choice forcing", tool_choice_forcing),
        ])
    with Server("--parallel", "1", "--queue", "4", "--timeout", "2", "--ctx", "4096") as s:
        def request_timeout():
            # generations past their deadline end as "length"; with one slot the second request
            # waits for the first, so it has less of its 2 s left to generate in
            out = {}

            def one(k):
                out[k] = s.json("POST", "/v1/chat/completions",
                                {"messages": MSG, "max_tokens": 4000, "temperature": 0})
            th = [threading.Thread(target=one, args=(k,)) for k in range(2)]
            t0 = time.time()
            for t in th:
                t.start()
                time.sleep(0.5)
            for t in th:
                t.join()
            assert time.time() - t0 < 20
            assert [out[k][0] for k in (0, 1)] == [200, 200], out
            n = [out[k][1]["usage"]["completion_tokens"] for k in (0, 1)]
            assert all(out[k][1]["choices"][0]["finish_reason"] == "length" for k in (0, 1))
            assert 0 < n[1] < n[0] < 4000, n

        failed += run_tests([("request timeout", request_timeout)])
    print(f"RESULT {13 - failed} {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

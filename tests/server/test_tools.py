"""test_tools.py — tool calls end to end. A synthetic model never writes a tool call by itself,
so this server runs with the test-only --debug-reply flag (documented in README "Serving", off
by default): every request generates exactly the given text, with "[TOOL_CALLS]" as the control
token, through the normal engine path (forward pass, detok, tool-call parser). Checked: the
structured tool_calls response (ids, names, arguments, finish_reason), the streamed tool_call
deltas, the round trip of a tool result into the next prompt, and tool_choice handling."""
import json
import sys

import openai

from harness import KEY, Server, run_tests

REPLY = 'Checking.[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris", "unit": "C"}}]'
TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
                   "required": ["city"]}}}]
MSG = [{"role": "user", "content": "What is the weather in Paris?"}]


def main():
    with Server("--parallel", "2", "--ctx", "1024", "--debug-reply", REPLY) as s:
        c = openai.OpenAI(base_url=s.base + "/v1", api_key=KEY, max_retries=0)
        model = c.models.list().data[0].id

        def tool_call_response():
            r = c.chat.completions.create(model=model, messages=MSG, tools=TOOLS)
            ch = r.choices[0]
            assert ch.finish_reason == "tool_calls", ch
            assert ch.message.content == "Checking.", ch.message.content
            [tc] = ch.message.tool_calls
            assert tc.type == "function" and tc.function.name == "get_weather"
            assert json.loads(tc.function.arguments) == {"city": "Paris", "unit": "C"}
            assert len(tc.id) == 9 and tc.id.isalnum(), tc.id
            # the whole reply, marker and end token included, was generated
            st, t = s.json("POST", "/tokenize", {"content": REPLY.split("[TOOL_CALLS]")[1]})
            assert r.usage.completion_tokens >= len(t["tokens"]) + 2, (r.usage, t)

        def tool_call_stream():
            chunks = list(c.chat.completions.create(model=model, messages=MSG, tools=TOOLS, stream=True))
            text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
            assert text == "Checking.", text
            deltas = [d for ch in chunks if ch.choices for d in (ch.choices[0].delta.tool_calls or [])]
            # OpenAI's shape: a first delta with index, id, type, name and empty arguments, then
            # argument fragments (index only) as the model writes them, one per token or so
            first, rest = deltas[0], deltas[1:]
            assert first.index == 0 and first.function.name == "get_weather", first
            assert first.function.arguments == "" and first.type == "function", first
            assert len(first.id) == 9 and first.id.isalnum(), first
            assert len(rest) >= 5, deltas  # incremental, not one piece at the end
            for d in rest:
                assert d.index == 0 and d.id is None and d.function.name is None and d.function.arguments, d
            args = "".join(d.function.arguments for d in rest)
            assert json.loads(args) == {"city": "Paris", "unit": "C"}, args
            assert chunks[-1].choices[0].finish_reason == "tool_calls"
            # the same ids as the non-streamed answer's kind, and the text came before the calls
            kinds = [("c" if ch.choices[0].delta.content else "t") for ch in chunks
                     if ch.choices and (ch.choices[0].delta.content or ch.choices[0].delta.tool_calls)]
            assert "".join(kinds).lstrip("c").strip("t") == "", kinds

        def round_trip():
            r = c.chat.completions.create(model=model, messages=MSG, tools=TOOLS)
            m = r.choices[0].message
            tc = m.tool_calls[0]
            follow = MSG + [
                {"role": "assistant", "content": m.content,
                 "tool_calls": [{"id": tc.id, "type": "function",
                                 "function": {"name": tc.function.name, "arguments": tc.function.arguments}}]},
                {"role": "tool", "tool_call_id": tc.id, "name": "get_weather", "content": "22 C, sunny"},
            ]
            # the server accepts the tool result turn and answers it
            r2 = c.chat.completions.create(model=model, messages=follow, tools=TOOLS)
            assert r2.choices[0].finish_reason == "tool_calls"
            # and the prompt it ran carries the call and the result in the model's format
            st, t = s.json("POST", "/tokenize", {"messages": follow, "tools": TOOLS})
            assert st == 200 and t["count"] == r2.usage.prompt_tokens
            st, d = s.json("POST", "/detokenize", {"tokens": t["tokens"]})
            assert '"name": "get_weather", "arguments": {"city": "Paris", "unit": "C"}, "id": "%s"' % tc.id in d["content"], d
            assert '{"content": "22 C, sunny", "call_id": "%s"}' % tc.id in d["content"], d

        def tool_choice_checks():
            for bad in ({"type": "function", "function": {"name": "nope"}}, "sometimes", 5):
                st, e = s.json("POST", "/v1/chat/completions",
                               {"messages": MSG, "tools": TOOLS, "tool_choice": bad})
                assert st == 400 and e["error"]["param"] == "tool_choice", (bad, st, e)
            st, e = s.json("POST", "/v1/chat/completions", {"messages": MSG, "tool_choice": "required"})
            assert st == 400 and e["error"]["param"] == "tool_choice"
            for ok in ("auto", "required", "none", {"type": "function", "function": {"name": "get_weather"}}):
                r = c.chat.completions.create(model=model, messages=MSG, tools=TOOLS, tool_choice=ok)
                assert r.choices[0].finish_reason == "tool_calls", (ok, r)

        def invalid_tool_messages():
            bad = MSG + [{"role": "tool", "tool_call_id": "abc", "content": "x"}]
            st, e = s.json("POST", "/v1/chat/completions", {"messages": bad, "tools": TOOLS})
            assert st == 400 and e["error"]["message"], e

        failed = run_tests([("tool_calls response", tool_call_response), ("tool_calls stream", tool_call_stream),
                            ("tool result round trip", round_trip), ("tool_choice", tool_choice_checks),
                            ("invalid tool messages", invalid_tool_messages)])
    failed += more_replies(c_factory=lambda s: openai.OpenAI(base_url=s.base + "/v1", api_key=KEY, max_retries=0))
    print(f"RESULT {7 - failed} {failed}")
    return 1 if failed else 0


def stream_calls(c, model):
    """(content, {index: [id, name, arguments]}, finish_reason) of a streamed answer."""
    content, calls, finish = "", {}, None
    for ch in c.chat.completions.create(model=model, messages=MSG, tools=TOOLS, stream=True):
        if not ch.choices:
            continue
        d = ch.choices[0].delta
        content += d.content or ""
        for t in d.tool_calls or []:
            if t.index not in calls:
                assert t.id and t.type == "function" and t.function.name and t.function.arguments == "", t
                calls[t.index] = [t.id, t.function.name, ""]
            else:
                assert t.id is None and t.function.name is None, t
                calls[t.index][2] += t.function.arguments
        finish = ch.choices[0].finish_reason or finish
    return content, calls, finish


def more_replies(c_factory):
    """Two calls, a string-valued arguments field with escapes and an id the model wrote, and
    output that starts like a call list but is not one (it falls back to content)."""
    two = ('[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}}, '
           '{"id": "abcDEF123", "name": "get_time", "arguments": "{\\"tz\\": \\"CET \\u00e9\\"}"}]')
    broken = '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"} oops'
    failed = 0
    with Server("--parallel", "1", "--ctx", "1024", "--debug-reply", two) as s:
        c = c_factory(s)
        model = c.models.list().data[0].id

        def two_calls():
            content, calls, finish = stream_calls(c, model)
            assert finish == "tool_calls" and content == "", (finish, content)
            assert [v[1] for v in calls.values()] == ["get_weather", "get_time"], calls
            assert json.loads(calls[0][2]) == {"city": "Paris"}, calls
            assert calls[1][2] == '{"tz": "CET \u00e9"}' and calls[1][0] == "abcDEF123", calls
            r = c.chat.completions.create(model=model, messages=MSG, tools=TOOLS)
            got = [(t.function.name, t.function.arguments) for t in r.choices[0].message.tool_calls]
            assert got == [("get_weather", '{"city": "Paris"}'), ("get_time", calls[1][2])], got
        failed += run_tests([("streamed two calls, string arguments", two_calls)])
    with Server("--parallel", "1", "--ctx", "1024", "--debug-reply", broken) as s:
        c = c_factory(s)
        model = c.models.list().data[0].id

        def fallback():
            content, calls, finish = stream_calls(c, model)
            # the call's start went out as it was written; the whole output then came as content
            assert finish == "stop" and calls[0][1] == "get_weather", (finish, calls)
            assert content == broken.split("[TOOL_CALLS]")[1], content
            r = c.chat.completions.create(model=model, messages=MSG, tools=TOOLS)
            assert r.choices[0].message.content == content and not r.choices[0].message.tool_calls
        failed += run_tests([("streamed call list that breaks: content", fallback)])
    return failed


if __name__ == "__main__":
    sys.exit(main())

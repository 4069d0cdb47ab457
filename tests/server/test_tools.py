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
            assert r.usage.completion_tokens >= len(t["tokens"]) + 2

        def tool_call_stream():
            chunks = list(c.chat.completions.create(model=model, messages=MSG, tools=TOOLS, stream=True))
            text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
            assert text == "Checking.", text
            deltas = [d for ch in chunks if ch.choices for d in (ch.choices[0].delta.tool_calls or [])]
            assert len(deltas) == 1 and deltas[0].index == 0 and deltas[0].function.name == "get_weather"
            assert json.loads(deltas[0].function.arguments) == {"city": "Paris", "unit": "C"}
            assert deltas[0].id and deltas[0].type == "function"
            assert chunks[-1].choices[0].finish_reason == "tool_calls"

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
    print(f"RESULT {5 - failed} {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""golden_chat.py — writes tests/golden/chat/*.json: chat requests in the OpenAI shape and the
token ids mistral-common's MistralTokenizer (tekken_240718.json = Mistral NeMo, v3 instruct,
default validation mode "test") produces for them, or the fact that it rejects them.

Usage: /work/venv/bin/python scripts/golden_chat.py [OUT_DIR]

Each request is stored as JSON *text* ("request"), so the C test feeds exactly the bytes
mistral-common saw (duplicate keys, number spellings). The request is turned into a
ChatCompletionRequest with ChatCompletionRequest.from_openai(messages, tools,
continue_final_message) — the OpenAI entry point — and encoded with encode_chat_completion.
Any exception counts as a rejection; its type and message are recorded for reference.
"""
import hashlib
import json
import os
import subprocess
import sys

import mistral_common
from mistral_common.protocol.instruct.request import ChatCompletionRequest
from mistral_common.tokens.tokenizers.base import SpecialTokenPolicy
from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

U = lambda c: {"role": "user", "content": c}  # noqa: E731
A = lambda c: {"role": "assistant", "content": c}  # noqa: E731
S = lambda c: {"role": "system", "content": c}  # noqa: E731


def T(content, call_id, **kw):
    return {"role": "tool", "content": content, "tool_call_id": call_id, **kw}


def call(name, args, cid):
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}


def AC(*calls, content=None):
    return {"role": "assistant", "content": content, "tool_calls": list(calls)}


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}
NESTED = {
    "type": "function",
    "function": {
        "name": "book_trip",
        "description": "Réserve un voyage — 旅行を予約する 🚆 (\"quoted\", back\\slash, tab\t)",
        "strict": True,
        "parameters": {
            "type": "object",
            "properties": {
                "travellers": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string", "description": "Nom complet"},
                            "age": {"type": "integer", "minimum": 0, "maximum": 130},
                            "loyalty": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                        },
                        "required": ["name"],
                    },
                },
                "budget": {"type": "number", "multipleOf": 0.01, "default": 1500.0, "exclusiveMinimum": 1e-05},
                "dates": {
                    "type": "object",
                    "properties": {"from": {"type": "string", "format": "date"}, "to": {"$ref": "#/definitions/d"}},
                    "additionalProperties": False,
                },
                "flags": {"type": ["boolean", "null"], "default": None},
            },
            "required": ["travellers", "dates"],
            "definitions": {"d": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}},
        },
    },
}
NO_DESC = {"type": "function", "function": {"name": "ping", "parameters": {"type": "object", "properties": {}}}}
NO_PARAMS = {"type": "function", "function": {"name": "now", "description": "Current time"}}
ID1, ID2, ID3 = "abc123XYZ", "Q9w8E7r6T", "000000001"


def case_list():
    c = []

    def ok(name, messages, tools=None, **kw):
        req = {"messages": messages}
        if tools is not None:
            req["tools"] = tools
        req.update(kw)
        c.append((name, json.dumps(req, ensure_ascii=False)))

    def raw(name, text):
        c.append((name, text))

    # ---- plain conversations
    ok("single_user", [U("Hello, who are you?")])
    ok("multi_turn", [U("a"), A("b"), U("c"), A("d"), U("e")])
    ok("multi_turn_text", [U("What is 2+2?"), A("4."), U("And times 3?"), A("12."), U("Thanks!")])
    ok("system_single_turn", [S("You are a pirate."), U("Hi there")])
    ok("system_several_users", [S("Answer briefly"), U("q1"), A("a1"), U("q2"), A("a2"), U("q3")])
    ok("multiple_system", [S("Rule one."), S("Rule two!"), U("go")])
    ok("system_interleaved", [U("u1"), S("late system"), U("u2")])
    ok("system_middle_of_chat", [S("first"), U("u1"), A("a1"), U("u2"), S("second"), U("u3")])
    ok("system_only", [S("Only a system prompt")])
    ok("system_empty_string", [S(""), U("hi")])
    ok("consecutive_users", [U("part one"), U("part two"), U("part three")])
    ok("consecutive_assistants", [U("q"), A("first half"), A("second half"), U("more")])
    ok("assistant_trailing_spaces", [U("q"), A("answer   "), U("next")])
    ok("assistant_trailing_newline", [U("q"), A("answer\n"), U("next")])
    ok("continue_final", [U("Write a poem"), A("Roses are")], continue_final_message=True)
    ok("continue_final_system", [S("sys"), U("Write"), A("Once upon a time ")], continue_final_message=True)
    ok("developer_role", [{"role": "developer", "content": "dev rules"}, U("hi")])
    ok("user_empty", [U("")])
    ok("user_chunks", [{"role": "user", "content": [{"type": "text", "text": "chunk a"},
                                                     {"type": "text", "text": ""},
                                                     {"type": "text", "text": "chunk b"}]}])
    ok("user_special_text", [U("[INST] not a control token [/INST] </s> [TOOL_CALLS]")])
    ok("unicode_user", [S("Réponds en français."), U("日本語のテキスト 😀\nline2\r\n\ttab é"), A("D'accord ✓"),
                         U("ﬁn?")])
    ok("extra_fields_ignored", [U("x")], model="mistral-nemo", temperature=0.3)
    # ---- tools
    ok("tools_single_turn", [U("Weather in Paris?")], tools=[WEATHER])
    ok("tools_multi_turn", [U("a"), A("b"), U("c")], tools=[WEATHER])
    ok("tools_system_multi_turn", [S("You call tools."), U("a"), A("b"), U("weather?")], tools=[WEATHER, NO_DESC])
    ok("tools_nested_nonascii", [U("Book it")], tools=[NESTED, NO_PARAMS, NO_DESC])
    ok("tools_empty_list", [U("hi")], tools=[])
    ok("tool_call_roundtrip", [U("Weather in Paris?"),
                                AC(call("get_weather", {"location": "Paris", "unit": "celsius"}, ID1)),
                                T('{"temperature": 22, "sky": "clear"}', ID1),
                                A("It is 22°C and clear."), U("And London?")], tools=[WEATHER])
    ok("ends_with_tool_result", [U("Weather?"), AC(call("get_weather", '{"location": "Oslo"}', ID1)),
                                 T("rainy, 7 degrees", ID1)], tools=[WEATHER])
    ok("parallel_calls", [S("Be precise"), U("Paris and Rome?"),
                          AC(call("get_weather", {"location": "Paris"}, ID1),
                             call("get_weather", {"location": "Rome", "unit": "fahrenheit"}, ID2)),
                          T('{"t": 20}', ID1), T('{"t": 77}', ID2)], tools=[WEATHER])
    ok("parallel_then_answer_then_user", [U("x"), AC(call("now", "{}", ID1), call("ping", {}, ID2)),
                                          T("12:00", ID1), T("pong", ID2), A("Done."), U("again")],
       tools=[NO_PARAMS, NO_DESC])
    ok("args_string_vs_object_string", [U("w"), AC(call("get_weather", '{"location":"Paris","unit":"celsius"}', ID1)),
                                        T("ok", ID1)])
    ok("args_string_vs_object_object", [U("w"), AC(call("get_weather", {"location": "Paris", "unit": "celsius"}, ID1)),
                                        T("ok", ID1)])
    ok("args_not_json", [U("w"), AC(call("get_weather", "location=Paris", ID1)), T("ok", ID1)])
    ok("args_empty_string", [U("w"), AC(call("ping", "", ID1)), T("ok", ID1)])
    ok("args_null", [U("w"), AC(call("ping", None, ID1)), T("ok", ID1)])
    ok("args_array_string", [U("w"), AC(call("ping", "[1, 2, {\"a\": []}]", ID1)), T("ok", ID1)])
    raw("args_floats_string", json.dumps({"messages": [U("n"), AC(call(
        "calc", '{"a": 3.50, "b": 1e-5, "c": 100.0, "d": 1E5, "e": -0.0, "f": 0.1, "g": 1e16, "h": 123456789012345678,'
        ' "i": 2.5e-7, "j": 1.7976931348623157e308, "k": 5e-324, "l": 0.0001, "m": 1234567890123456.7, "n": -0,'
        ' "o": 1.0e+2, "p": 12345678901234567.0, "q": 0.30000000000000004, "r": -9223372036854775808}', ID1)),
        T("1.50", ID1)]}))
    raw("args_floats_object", '{"messages": [{"role": "user", "content": "n"}, {"role": "assistant", "tool_calls": '
        '[{"id": "abc123XYZ", "type": "function", "function": {"name": "calc", "arguments": '
        '{"a": 3.50, "b": 1e-5, "c": 100.0, "d": 1E5, "e": -0.0, "f": 2.5E-10, "g": 9007199254740993, "h": 1e22,'
        ' "i": 1e21, "j": 123e-20, "k": [0.5, -1.25e-3, 7]}}}]}, {"role": "tool", "content": "-0.0",'
        ' "tool_call_id": "abc123XYZ"}]}')
    ok("args_unicode_escapes", [U("s"), AC(call("echo", {
        "text": "naïve café \"quoted\" back\\slash /slash \n\t\r\b\f \u0001\u001f\u007f \u2028 😀 日本",
        "emoji": "\U0001F600", "nul": "a\u0000b"}, ID1)), T("done", ID1)])
    raw("args_unicode_escapes_string", json.dumps({"messages": [U("s"), AC(call(
        "echo", '{"t": "\\u00e9\\ud83d\\ude00\\n\\"\\/\\u0007", "k\\u00fc": true, "n": null, "f": false}', ID1)),
        T("done", ID1)]}))
    ok("args_duplicate_keys", [U("d"), AC(call("f", '{"a": 1, "b": 2, "a": 3}', ID1)), T("ok", ID1)])
    ok("args_key_order", [U("d"), AC(call("f", {"z": 1, "a": {"y": [], "b": {}}, "m": [None, True]}, ID1)),
                          T("ok", ID1)])
    ok("args_whitespace_string", [U("d"), AC(call("f", ' \n {"a" :\t[1 , 2]}  ', ID1)), T("ok", ID1)])
    ok("tool_result_json_number", [U("q"), AC(call("f", {}, ID1)), T("22", ID1)])
    ok("tool_result_json_string", [U("q"), AC(call("f", {}, ID1)), T('"quoted string"', ID1)])
    ok("tool_result_json_literals", [U("q"), AC(call("f", {}, ID1), call("g", {}, ID2), call("h", {}, ID3)),
                                     T("null", ID1), T("true", ID2), T("[1, \"x\", {\"y\": 2.50}]", ID3)])
    ok("tool_result_plain_text", [U("q"), AC(call("f", {}, ID1)), T("The answer is: 42 {not json", ID1)])
    ok("tool_result_empty", [U("q"), AC(call("f", {}, ID1)), T("", ID1)])
    ok("tool_result_chunks", [U("q"), AC(call("f", {}, ID1)),
                              {"role": "tool", "tool_call_id": ID1, "content": [{"type": "text", "text": "{\"a\":"},
                                                                                {"type": "text", "text": "1}"}]}])
    ok("tool_result_with_name", [U("q"), AC(call("f", {}, ID1)), T("x", ID1, name="f")])
    ok("tool_result_unicode", [U("q"), AC(call("f", {}, ID1)), T("Température: 22°C — ☀", ID1)])
    ok("tool_history_before_last_user", [U("q1"), AC(call("f", {"x": 1}, ID1)), T("r1", ID1), A("a1"),
                                         U("q2"), AC(call("f", {"x": 2}, ID2)), T("r2", ID2), A("a2"), U("q3")],
       tools=[WEATHER])
    ok("tool_then_user_directly", [U("q"), AC(call("f", {}, ID1)), T("r", ID1), U("next question")])
    ok("assistant_content_null_tool_calls", [U("q"), {"role": "assistant", "content": "",
                                                      "tool_calls": [call("f", {}, ID1)]}, T("r", ID1)])
    ok("continue_final_tool_calls", [U("q"), AC(call("f", {"a": 1}, ID1))], continue_final_message=True)
    ok("first_message_assistant_tool_call", [AC(call("f", {}, ID1)), T("r", ID1), U("u")])
    ok("first_message_assistant_text", [A("hello"), U("u")])
    ok("id_trailing_newline", [U("q"), AC(call("f", {}, ID1 + "\n")), T("r", ID1 + "\n")])
    ok("name_trailing_newline", [U("q"), AC(call("f\n", {}, ID1)), T("r", ID1)])
    ok("tool_count_unbalanced_at_end", [U("q"), AC(call("f", {}, ID1), call("g", {}, ID2)), T("r", ID1)])
    ok("tool_result_call_id_mismatch", [U("q"), AC(call("f", {}, ID1)), T("r", ID2)])
    ok("full_example", [S("You are a helpful assistant."), S("Use tools when needed."), U("Hi"), A("Hello!"),
                        U("Weather in Paris and Tokyo?"),
                        AC(call("get_weather", {"location": "Paris"}, ID1),
                           call("get_weather", '{"location": "Tōkyō", "unit": "celsius"}', ID2)),
                        T('{"temp": 18.5}', ID1), T("Sunny, 25.0 °C", ID2),
                        A("Paris: 18.5, Tokyo: 25."), U("Thanks. Book a trip.")], tools=[WEATHER, NESTED])
    # ---- rejected
    ok("reject_empty_messages", [])
    ok("reject_single_assistant", [A("hi")])
    ok("reject_last_assistant", [U("q"), A("a")])
    ok("reject_tool_after_user", [U("q"), T("r", ID1)])
    ok("reject_tool_after_system", [S("s"), T("r", ID1), U("q")])
    ok("system_last_after_user", [U("q"), S("s")])
    ok("reject_call_id_short", [U("q"), AC(call("f", {}, "abc")), T("r", "abc")])
    ok("reject_call_id_missing", [U("q"), {"role": "assistant", "tool_calls": [
        {"type": "function", "function": {"name": "f", "arguments": "{}"}}]}, T("r", ID1)])
    ok("reject_call_id_null_string", [U("q"), AC(call("f", {}, "null")), T("r", ID1)])
    ok("reject_call_id_nonascii", [U("q"), AC(call("f", {}, "abcdéfghi")), T("r", ID1)])
    ok("reject_tool_message_openai_id", [U("q"), AC(call("f", {}, ID1)), T("r", "call_123456789")])
    ok("reject_tool_message_no_id", [U("q"), AC(call("f", {}, ID1)), {"role": "tool", "content": "r"}])
    ok("reject_tool_message_id_null", [U("q"), AC(call("f", {}, ID1)), T("r", None)])
    ok("reject_tool_def_bad_name", [U("q")], tools=[{"type": "function", "function": {
        "name": "get weather", "parameters": {}}}])
    ok("reject_tool_def_long_name", [U("q")], tools=[{"type": "function", "function": {
        "name": "x" * 65, "parameters": {}}}])
    ok("accept_tool_def_64_name", [U("q")], tools=[{"type": "function", "function": {
        "name": "x" * 64, "parameters": {}}}])
    ok("reject_tool_call_bad_name", [U("q"), AC(call("bad.name", {}, ID1)), T("r", ID1)])
    ok("reject_tool_message_bad_name", [U("q"), AC(call("f", {}, ID1)), T("r", ID1, name="bad name")])
    ok("reject_content_and_tool_calls", [U("q"), AC(call("f", {}, ID1), content="text"), T("r", ID1)])
    ok("reject_assistant_empty", [U("q"), A(""), U("q2")])
    ok("reject_assistant_no_content", [U("q"), {"role": "assistant"}, U("q2")])
    ok("reject_assistant_empty_tool_calls", [U("q"), {"role": "assistant", "content": None, "tool_calls": []},
                                             U("q2")])
    ok("reject_count_mismatch", [U("q"), AC(call("f", {}, ID1), call("g", {}, ID2)), T("r", ID1), A("a"), U("u")])
    ok("reject_too_many_results", [U("q"), AC(call("f", {}, ID1)), T("r", ID1), T("r2", ID1), A("a"), U("u")])
    ok("reject_results_without_call", [U("q"), A("x"), T("r", ID1), A("a"), U("u")])
    ok("reject_bad_schema_type", [U("q")], tools=[{"type": "function", "function": {
        "name": "f", "parameters": {"type": "object", "properties": {"a": {"type": "strin"}}}}}])
    ok("reject_bad_schema_required", [U("q")], tools=[{"type": "function", "function": {
        "name": "f", "parameters": {"type": "object", "required": "a"}}}])
    ok("reject_unknown_role", [{"role": "bot", "content": "x"}])
    ok("reject_user_missing_content", [{"role": "user"}])
    ok("reject_user_content_number", [{"role": "user", "content": 5}])
    ok("reject_tool_type", [U("q")], tools=[{"type": "retrieval", "function": {"name": "f", "parameters": {}}}])
    ok("reject_merged_content_and_calls", [U("q"), A("thinking..."), AC(call("f", {}, ID1)), T("r", ID1)])
    ok("reject_continue_final_user", [U("q")], continue_final_message=True)
    ok("reject_assistant_empty_chunk", [U("q"), {"role": "assistant", "content": [{"type": "text", "text": ""}]},
                                        U("q2")])
    ok("reject_args_list", [U("q"), AC(call("f", [1, 2], ID1)), T("r", ID1)])
    ok("reject_image_chunk", [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}])
    ok("reject_prefix_key_ignored", [U("q"), {"role": "assistant", "content": "a", "prefix": True}])
    ok("reject_system_null", [{"role": "system", "content": None}, U("q")])
    raw("reject_messages_not_list", '{"messages": {"role": "user", "content": "x"}}')
    raw("reject_no_messages", '{"tools": []}')
    return c


def run_case(tok, text):
    req = json.loads(text)
    try:
        if not isinstance(req, dict) or "messages" not in req:
            raise KeyError("messages")
        r = ChatCompletionRequest.from_openai(
            messages=req["messages"], tools=req.get("tools"),
            continue_final_message=req.get("continue_final_message", False))
        ids = tok.encode_chat_completion(r).tokens
        return {"expect": "accept", "ids": ids}
    except Exception as e:  # noqa: BLE001 - every exception is a rejection
        return {"expect": "reject", "error": f"{type(e).__name__}: {e}"[:400]}


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "golden", "chat")
    path = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "fixture.py"), "tekken_240718.json"],
                          check=True, capture_output=True, text=True).stdout.strip()
    with open(path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    tok = MistralTokenizer.from_file(path)  # default validation mode (test), as users get it
    os.makedirs(out_dir, exist_ok=True)
    for old in os.listdir(out_dir):
        if old.endswith(".json"):
            os.unlink(os.path.join(out_dir, old))
    cases = case_list()
    names = [n for n, _ in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    n_acc = 0
    for i, (name, text) in enumerate(cases):
        res = run_case(tok, text)
        n_acc += res["expect"] == "accept"
        doc = {"generator": "scripts/golden_chat.py", "mistral_common": mistral_common.__version__,
               "tokenizer": "tekken_240718.json", "tokenizer_sha256": sha, "mode": str(tok.mode.value),
               "name": name, "request": text, **res}
        if res["expect"] == "accept":  # for reviewers: the prompt as text, control tokens by name
            doc["text"] = tok.decode(res["ids"], special_token_policy=SpecialTokenPolicy.KEEP)
        with open(os.path.join(out_dir, f"{i:03d}_{name}.json"), "w", encoding="utf-8") as f:
            f.write("{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
                                        for k, v in doc.items()) + "\n}\n")
    print(f"golden_chat: {len(cases)} cases ({n_acc} accepted, {len(cases) - n_acc} rejected) -> {out_dir}")


if __name__ == "__main__":
    main()

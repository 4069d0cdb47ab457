#!/usr/bin/env bash
# CLI contract of `nemo encode-chat`: golden requests give mistral-common's ids on stdout,
# rejected ones exit 1 with a message, bad usage exits 2.
set -uo pipefail
NEMO=${NEMO_BIN:-build/asan/nemo}
TOK=${NEMO_TEKKEN:-$(python3 scripts/fixture.py tekken_240718.json)}
T=${NEMO_TEST_TMP:-/tmp}/encode_chat
rm -rf "$T" && mkdir -p "$T"
fail() { echo "  FAIL: $*"; exit 1; }
for g in tests/golden/chat/*_{single_user,system_several_users,tool_call_roundtrip,parallel_calls,full_example,reject_empty_messages,reject_last_assistant}.json; do
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); open(sys.argv[2],"w").write(d["request"]); print(" ".join(map(str,d.get("ids",[]))) if d["expect"]=="accept" else "REJECT")' \
        "$g" "$T/req.json" >"$T/want" || fail "cannot read $g"
    got=$($NEMO encode-chat --tokenizer "$TOK" <"$T/req.json" 2>"$T/err")
    rc=$?
    if [ "$(cat "$T/want")" = REJECT ]; then
        [ $rc = 1 ] && [ -s "$T/err" ] || fail "$g: expected a rejection (exit 1), got rc=$rc"
    else
        [ $rc = 0 ] || fail "$g: exit $rc: $(cat "$T/err")"
        [ "$got" = "$(cat "$T/want")" ] || fail "$g: ids differ"
    fi
done
echo '{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}]}' |
    $NEMO encode-chat --tokenizer "$TOK" --text | grep -qxF '<s>[INST]a[/INST]b</s>[INST]c[/INST]' || fail "--text"
echo 'not json' | $NEMO encode-chat --tokenizer "$TOK" 2>"$T/err"
[ $? = 1 ] && grep -q "not valid JSON" "$T/err" || fail "bad JSON must exit 1 with a message"
$NEMO encode-chat </dev/null 2>/dev/null
[ $? = 2 ] || fail "missing --tokenizer must exit 2"
echo '{"messages": []}' | $NEMO encode-chat --tokenizer "$T/nope.json" 2>/dev/null
[ $? = 1 ] || fail "missing tokenizer file must exit 1"
exit 0

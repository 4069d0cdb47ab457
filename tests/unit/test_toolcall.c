/* test_toolcall.c — parsing tool calls out of crafted model output: single and parallel calls,
 * nested arguments, ids kept or generated, malformed JSON and trailing text reported (never
 * dropped), the id-based entry point, and the streaming form. */
#include "nemo.h"
#include "test.h"

#include <stdlib.h>

static nemo_tool_calls *parse(const char *before, const char *after, uint64_t seed) {
    nemo_tool_calls *tc = NULL;
    nemo_error err = {0};
    uint64_t rng = seed;
    CHECK_OK(nemo_tool_calls_parse(before, before ? strlen(before) : 0, after,
                                   after ? strlen(after) : 0, &rng, &tc, &err),
             &err);
    return tc;
}

static int valid_id(const char *id) {
    if (!id || strlen(id) != 9) return 0;
    for (int i = 0; i < 9; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
              (id[i] >= '0' && id[i] <= '9')))
            return 0;
    return 1;
}

static void test_no_marker(void) {
    nemo_tool_calls *tc = parse("Just text [TOOL_CALLS] typed as text", NULL, 1);
    CHECK(tc && !tc->has_marker && tc->n_calls == 0 && !tc->malformed && !tc->raw);
    CHECK(tc && !strcmp(tc->content, "Just text [TOOL_CALLS] typed as text"));
    nemo_tool_calls_free(tc);
    nemo_tool_calls_free(NULL);
}

static void test_single_nested(void) {
    nemo_tool_calls *tc =
        parse("",
              "[{\"name\": \"book\", \"arguments\": {\"who\": [{\"n\": \"Zoë\", \"age\": 3.50}], "
              "\"opt\": {\"a\": null, \"b\": true}}}]",
              1);
    CHECK(tc && tc->has_marker && !tc->malformed && tc->n_calls == 1 && !tc->trailing);
    if (tc && tc->n_calls == 1) {
        CHECK(!strcmp(tc->calls[0].name, "book"));
        CHECK_MSG(!strcmp(tc->calls[0].arguments, "{\"who\": [{\"n\": \"Zoë\", \"age\": 3.5}], "
                                                  "\"opt\": {\"a\": null, \"b\": true}}"),
                  "%s", tc->calls[0].arguments);
        CHECK(valid_id(tc->calls[0].id));
    }
    nemo_tool_calls_free(tc);
}

static void test_parallel_ids(void) {
    const char *out = "[{\"name\": \"a\", \"arguments\": {}, \"id\": \"abc123XYZ\"}, {\"name\": "
                      "\"b\", \"arguments\": \"{\\\"x\\\": 1}\", \"id\": \"call_1\"}, {\"name\": "
                      "\"c\"}]";
    nemo_tool_calls *t1 = parse("Let me check.", out, 7), *t2 = parse("Let me check.", out, 7),
                    *t3 = parse("Let me check.", out, 8);
    CHECK(t1 && t1->n_calls == 3 && !strcmp(t1->content, "Let me check."));
    if (t1 && t2 && t3 && t1->n_calls == 3) {
        CHECK(!strcmp(t1->calls[0].id, "abc123XYZ")); /* a valid id is kept */
        CHECK(valid_id(t1->calls[1].id) && strcmp(t1->calls[1].id, "call_1"));
        CHECK(valid_id(t1->calls[2].id) && strcmp(t1->calls[1].id, t1->calls[2].id));
        CHECK(!strcmp(t1->calls[1].arguments, "{\"x\": 1}")); /* a string is the JSON text */
        CHECK(!strcmp(t1->calls[2].arguments, "{}"));
        CHECK(!strcmp(t1->calls[1].id, t2->calls[1].id)); /* same PRNG state, same ids */
        CHECK(strcmp(t1->calls[1].id, t3->calls[1].id));  /* the PRNG is used */
    }
    nemo_tool_calls_free(t1);
    nemo_tool_calls_free(t2);
    nemo_tool_calls_free(t3);
}

static void test_malformed_and_trailing(void) {
    const char *bad = " [{\"name\": \"a\", \"arguments\": {\"x\": 1}";
    nemo_tool_calls *tc = parse("", bad, 1);
    CHECK(tc && tc->malformed && tc->n_calls == 0 && tc->raw && !strcmp(tc->raw, bad));
    nemo_tool_calls_free(tc);
    tc = parse("", "[{\"arguments\": {}}]", 1); /* no name */
    CHECK(tc && tc->malformed && tc->n_calls == 0);
    nemo_tool_calls_free(tc);
    tc = parse("", "[]", 1);
    CHECK(tc && tc->malformed);
    nemo_tool_calls_free(tc);
    tc = parse("", "[{\"name\": \"f\", \"arguments\": {}}] and then some words", 1);
    CHECK(tc && !tc->malformed && tc->n_calls == 1 && tc->trailing &&
          !strcmp(tc->trailing, "and then some words"));
    nemo_tool_calls_free(tc);
    tc = parse("", "Sure: [{\"name\": \"f\", \"arguments\": {\"q\": \"]\"}}] ok", 1);
    CHECK(tc && !tc->malformed && tc->n_calls == 1);
    if (tc && tc->n_calls == 1) CHECK(!strcmp(tc->calls[0].arguments, "{\"q\": \"]\"}"));
    nemo_tool_calls_free(tc);
    tc = parse("", "{\"name\": \"solo\", \"arguments\": {\"k\": [1, 2]}}", 1); /* bare object */
    CHECK(tc && tc->n_calls == 1 && !strcmp(tc->calls[0].name, "solo"));
    nemo_tool_calls_free(tc);
}

static void test_stream(void) {
    const char *pieces[] = {"Checking",
                            " now",
                            "[TOOL_CALLS]",
                            "[{\"name\": \"f\", \"argu",
                            "ments\": {\"a\": {\"b\": \"}\"}}}, ",
                            "{\"name\": \"g\", ",
                            "\"arguments\": {}}]"};
    nemo_tool_stream *s = NULL;
    nemo_error err = {0};
    CHECK_OK(nemo_tool_stream_create(&s, &err), &err);
    if (!s) return;
    size_t shown = 0, n;
    int done_after[7];
    for (int i = 0; i < 7; i++) {
        int marker = i == 2;
        CHECK_OK(nemo_tool_stream_feed(s, pieces[i], strlen(pieces[i]), marker, &n, &err), &err);
        shown += n;
        done_after[i] = nemo_tool_stream_calls_done(s);
        CHECK(nemo_tool_stream_in_calls(s) == (i >= 2));
    }
    CHECK(shown == strlen("Checking now"));
    CHECK(done_after[3] == 0 && done_after[4] == 1 && done_after[6] == 2);
    uint64_t rng = 3;
    nemo_tool_calls *tc = NULL;
    CHECK_OK(nemo_tool_stream_finish(s, &rng, &tc, &err), &err);
    CHECK(tc && tc->n_calls == 2 && !strcmp(tc->content, "Checking now"));
    if (tc && tc->n_calls == 2) CHECK(!strcmp(tc->calls[0].arguments, "{\"a\": {\"b\": \"}\"}}"));
    nemo_tool_calls_free(tc);
    CHECK(nemo_tool_stream_in_calls(s) == 0); /* finish resets */
    nemo_tool_stream_free(s);
    nemo_tool_stream_free(NULL);
}

/* With the real tokenizer: ids -> split at [TOOL_CALLS] (id 9) -> calls. */
static void test_from_ids(void) {
    const char *path = getenv("NEMO_TEKKEN");
    CHECK_MSG(path != NULL, "NEMO_TEKKEN is not set (tests/run.sh exports it)");
    if (!path) return;
    nemo_tokenizer *t = NULL;
    nemo_error err = {0};
    CHECK_OK(nemo_tokenizer_open(path, &t, &err), &err);
    if (!t) return;
    const char *pre = "Hi.", *json = "[{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                                     "\"Paris\"}, \"id\": \"Q9w8E7r6T\"}]";
    int32_t ids[256];
    size_t n1 = 0, n2 = 0;
    CHECK_OK(nemo_tokenizer_encode(t, pre, strlen(pre), 0, 0, ids, 128, &n1, &err), &err);
    ids[n1] = nemo_tokenizer_special_id(t, "[TOOL_CALLS]");
    CHECK(ids[n1] == 9);
    CHECK_OK(nemo_tokenizer_encode(t, json, strlen(json), 0, 0, ids + n1 + 1, 120, &n2, &err),
             &err);
    ids[n1 + 1 + n2] = nemo_tokenizer_eos_id(t);
    uint64_t rng = 1;
    nemo_tool_calls *tc = NULL;
    CHECK_OK(nemo_tool_calls_parse_ids(t, ids, n1 + n2 + 2, &rng, &tc, &err), &err);
    CHECK(tc && tc->has_marker && tc->n_calls == 1 && !strcmp(tc->content, "Hi."));
    if (tc && tc->n_calls == 1) {
        CHECK(!strcmp(tc->calls[0].name, "get_weather"));
        CHECK(!strcmp(tc->calls[0].arguments, "{\"city\": \"Paris\"}"));
        CHECK(!strcmp(tc->calls[0].id, "Q9w8E7r6T"));
    }
    nemo_tool_calls_free(tc);
    nemo_tokenizer_free(t);
}

int main(void) {
    RUN(test_no_marker);
    RUN(test_single_nested);
    RUN(test_parallel_ids);
    RUN(test_malformed_and_trailing);
    RUN(test_stream);
    RUN(test_from_ids);
    return test_finish();
}

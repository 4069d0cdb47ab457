/* test_chat.c — chat encoding against mistral-common: the committed goldens
 * (tests/golden/chat/NNN_name.json, made by scripts/golden_chat.py) must give identical ids and the
 * same accept/reject decisions; plus the Python-compatible JSON writer on its own. */
#include "chat/pyjson.h"
#include "test.h"

#include <dirent.h>
#include <stdlib.h>

static const nemo_tokenizer *tekken(void) {
    static nemo_tokenizer *t;
    static int tried;
    if (!tried) {
        tried = 1;
        const char *path = getenv("NEMO_TEKKEN");
        nemo_error err = {0};
        if (!path)
            fprintf(stderr, "  NEMO_TEKKEN is not set (tests/run.sh exports it)\n");
        else if (nemo_tokenizer_open(path, &t, &err))
            fprintf(stderr, "  cannot open %s: %s\n", path, err.msg);
    }
    return t;
}

static char *dump_str(const json_t *v) {
    chat_buf b = {0};
    pyjson_dump(&b, v);
    return chat_buf_take(&b);
}

static void check_float(double x, const char *want) {
    chat_buf b = {0};
    pyjson_put_float(&b, x);
    CHECK_MSG(b.p && !strcmp(b.p, want), "%.17g: got %s, want %s", x, b.p, want);
    chat_buf_free(&b);
}

static void test_float_repr(void) {
    check_float(0.1, "0.1");
    check_float(1e-05, "1e-05");
    check_float(0.0001, "0.0001");
    check_float(100.0, "100.0");
    check_float(3.5, "3.5");
    check_float(-0.0, "-0.0");
    check_float(0.0, "0.0");
    check_float(1e16, "1e+16");
    check_float(1234567890123456.0, "1234567890123456.0");
    check_float(12345678901234567.0, "1.2345678901234568e+16");
    check_float(0.30000000000000004, "0.30000000000000004");
    check_float(5e-324, "5e-324");
    check_float(1.7976931348623157e308, "1.7976931348623157e+308");
    check_float(-2.5e-7, "-2.5e-07");
    check_float(1e22, "1e+22");
    check_float(123.456, "123.456");
    check_float(1.0 / 0.0, "Infinity");
}

static void test_dump_python_style(void) {
    json_error_t je;
    const char *src =
        "{\"z\": [1, 2.50, -0, true, false, null, {}, []], \"a\": \"\\u00e9\\n\\t\\\"\\\\/"
        "\\u0001\\u007f\\u2028\\ud83d\\ude00\\u0000x\", \"k\": {\"b\": 1E5}}";
    json_t *v = json_loads(src, JSON_ALLOW_NUL, &je);
    CHECK(v != NULL);
    char *s = dump_str(v);
    const char *want =
        "{\"z\": [1, 2.5, 0, true, false, null, {}, []], \"a\": \"\xc3\xa9\\n\\t\\\"\\\\/"
        "\\u0001\x7f\xe2\x80\xa8\xf0\x9f\x98\x80\\u0000x\", \"k\": {\"b\": 100000.0}}";
    CHECK_MSG(s && !strcmp(s, want), "got %s", s);
    free(s);
    json_decref(v);
    /* json.loads semantics: duplicate keys keep the first place and the last value */
    json_t *d;
    CHECK(pyjson_loads("{\"a\": 1, \"b\": 2, \"a\": 3}", 24, &d) == PYJSON_OK);
    s = dump_str(d);
    CHECK_MSG(s && !strcmp(s, "{\"a\": 3, \"b\": 2}"), "got %s", s);
    free(s);
    json_decref(d);
    CHECK(pyjson_loads("location=Paris", 14, &d) == PYJSON_NOT_JSON);
    CHECK(pyjson_loads("{\"a\": 1} x", 10, &d) == PYJSON_NOT_JSON);
    CHECK(pyjson_loads("123456789012345678901234567890", 30, &d) == PYJSON_UNSUPPORTED);
}

static void test_validation_messages(void) {
    struct {
        const char *req, *needle;
    } cases[] = {
        {"{\"messages\": []}", "at least one message"},
        {"{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}, {\"role\": \"tool\", "
         "\"content\": \"r\", \"tool_call_id\": \"abc123XYZ\"}]}",
         "Unexpected role 'tool' after role 'user'"},
        {"{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}, {\"role\": \"assistant\", "
         "\"tool_calls\": [{\"id\": \"abc\", \"function\": {\"name\": \"f\", \"arguments\": "
         "\"{}\"}}]}, {\"role\": \"tool\", \"content\": \"r\", \"tool_call_id\": \"abc\"}]}",
         "Tool call id was abc"},
        {"{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}], \"tools\": [{\"type\": "
         "\"function\", \"function\": {\"name\": \"get weather\", \"parameters\": {}}}]}",
         "Function name was get weather"},
        {"{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}, {\"role\": \"assistant\", "
         "\"content\": \"a\"}]}",
         "Expected last role"},
        {"not json", "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        nemo_chat *c = NULL;
        nemo_error err = {0};
        nemo_status st = nemo_chat_parse(cases[i].req, strlen(cases[i].req), &c, &err);
        CHECK_MSG(st == NEMO_ERR_ARG && strstr(err.msg, cases[i].needle), "case %zu: %d %s", i,
                  (int)st, err.msg);
        nemo_chat_free(c);
    }
    nemo_chat_free(NULL);
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_goldens(void) {
    const nemo_tokenizer *tok = tekken();
    CHECK_MSG(tok != NULL, "the golden ids need the tekken_240718.json tokenizer");
    if (!tok) return;
    char dir[2048];
    snprintf(dir, sizeof dir, "%s", test_repo_path("tests/golden/chat"));
    DIR *d = opendir(dir);
    CHECK_MSG(d != NULL, "cannot open %s", dir);
    if (!d) return;
    char *names[1024];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 1024)
        if (strstr(de->d_name, ".json")) names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_name);
    int n_acc = 0, n_rej = 0, bad = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        json_error_t je;
        json_t *g = json_load_file(path, 0, &je);
        CHECK_MSG(g != NULL, "%s: %s", names[i], je.text);
        if (!g) continue;
        const char *req = json_string_value(json_object_get(g, "request"));
        int want_accept = !strcmp(json_string_value(json_object_get(g, "expect")), "accept");
        nemo_chat *c = NULL;
        nemo_error err = {0};
        int32_t *ids = NULL;
        size_t n_ids = 0;
        nemo_status st = nemo_chat_parse(req, strlen(req), &c, &err);
        if (!st) st = nemo_chat_encode(c, tok, &ids, &n_ids, &err);
        if (want_accept) {
            n_acc++;
            const json_t *want = json_object_get(g, "ids");
            int same = st == NEMO_OK && n_ids == json_array_size(want);
            for (size_t k = 0; same && k < n_ids; k++)
                same = ids[k] == json_integer_value(json_array_get(want, k));
            if (!same) {
                bad++;
                fprintf(stderr, "  %s: ", names[i]);
                if (st)
                    fprintf(stderr, "rejected: %s\n", err.msg);
                else {
                    size_t k = 0;
                    while (k < n_ids && k < json_array_size(want) &&
                           ids[k] == json_integer_value(json_array_get(want, k)))
                        k++;
                    fprintf(stderr, "ids differ at %zu (got %zu ids, want %zu)\n", k, n_ids,
                            json_array_size(want));
                }
            }
        } else {
            n_rej++;
            if (st == NEMO_OK) {
                bad++;
                fprintf(stderr, "  %s: accepted, mistral-common rejects: %s\n", names[i],
                        json_string_value(json_object_get(g, "error")));
            }
        }
        CHECK_MSG(want_accept ? st == NEMO_OK : st != NEMO_OK, "%s", names[i]);
        free(ids);
        nemo_chat_free(c);
        json_decref(g);
        free(names[i]);
    }
    fprintf(stderr, "  goldens: %d accepted + %d rejected cases, %d mismatches\n", n_acc, n_rej,
            bad);
    CHECK(n_acc + n_rej >= 40);
    CHECK(bad == 0);
}

/* The builder API gives the same ids as the JSON route. */
static void test_builder(void) {
    const nemo_tokenizer *tok = tekken();
    if (!tok) return;
    const char *req = "{\"messages\": [{\"role\": \"system\", \"content\": \"S.\"}, {\"role\": "
                      "\"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": "
                      "\"b\"}, {\"role\": \"user\", \"content\": \"c\"}]}";
    nemo_chat *c1 = NULL, *c2 = NULL;
    nemo_error err = {0};
    int32_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    CHECK_OK(nemo_chat_parse(req, strlen(req), &c1, &err), &err);
    CHECK_OK(nemo_chat_create(&c2, &err), &err);
    CHECK_OK(nemo_chat_add(c2, "system", "S.", 2, &err), &err);
    CHECK_OK(nemo_chat_add(c2, "user", "a", 1, &err), &err);
    CHECK_OK(nemo_chat_add(c2, "assistant", "b", 1, &err), &err);
    CHECK_OK(nemo_chat_add(c2, "user", "x", 1, &err), &err);
    nemo_chat_pop(c2);
    CHECK_OK(nemo_chat_add(c2, "user", "c", 1, &err), &err);
    CHECK(nemo_chat_count(c2) == 4);
    CHECK(nemo_chat_add(c2, "bot", "c", 1, &err) == NEMO_ERR_ARG);
    CHECK_OK(nemo_chat_encode(c1, tok, &a, &na, &err), &err);
    CHECK_OK(nemo_chat_encode(c2, tok, &b, &nb, &err), &err);
    CHECK(na == nb && na > 0 && !memcmp(a, b, na * sizeof *a));
    CHECK(na > 3 && a[0] == 1 && a[1] == 3 && a[na - 1] == 4);
    free(a);
    free(b);
    nemo_chat_free(c1);
    nemo_chat_free(c2);
}

int main(void) {
    RUN(test_float_repr);
    RUN(test_dump_python_style);
    RUN(test_validation_messages);
    RUN(test_goldens);
    RUN(test_builder);
    nemo_tokenizer_free((nemo_tokenizer *)tekken());
    return test_finish();
}

/* test_tokenizer_tekken.c — the Tekken tokenizer on NeMo's real tekken_240718.json (path in
 * $NEMO_TEKKEN, set by tests/run.sh from scripts/fixture.py) against the golden ids made by
 * mistral-common (tests/golden/tokenizer/tekken_240718.json, scripts/golden_tokenizer.py):
 * identical ids, decode(encode(s)) == s, decode policies, streaming decode emitting whole
 * characters only, the known ids of spec 3.8, and BPE small/heap paths agreeing. */
#include "test.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

#include <jansson.h>
#include <stdlib.h>

static nemo_tokenizer *tok;
static json_t *golden;

static const char *tekken_path(void) {
    const char *p = getenv("NEMO_TEKKEN");
    return p && *p ? p : test_repo_path(".cache/fixtures/tekken_240718.json");
}

/* Encodes s; returns a malloc'd array (caller frees) and its length in *n. */
static int32_t *enc(const char *s, size_t len, int bos, int eos, size_t *n) {
    nemo_error err = {0};
    size_t cap = len + 4;
    int32_t *ids = malloc(cap * sizeof *ids);
    nemo_status st = nemo_tokenizer_encode(tok, s, len, bos, eos, ids, cap, n, &err);
    CHECK_MSG(st == NEMO_OK, "%s", err.msg);
    return ids;
}

static char *dec(const int32_t *ids, size_t n, nemo_special_policy pol, size_t *len) {
    nemo_error err = {0};
    size_t cap = n * 64 + 16;
    char *out = malloc(cap);
    nemo_status st = nemo_tokenizer_decode(tok, ids, n, pol, out, cap, len, &err);
    CHECK_MSG(st == NEMO_OK, "%s", err.msg);
    return out;
}

static int ids_equal(const int32_t *a, size_t na, const json_t *b) {
    if (na != json_array_size(b)) return 0;
    for (size_t i = 0; i < na; i++)
        if (a[i] != json_integer_value(json_array_get(b, i))) return 0;
    return 1;
}

static void test_open(void) {
    nemo_error err = {0};
    CHECK_OK(nemo_tokenizer_open(tekken_path(), &tok, &err), &err);
    if (!tok) return;
    CHECK(nemo_tokenizer_get_kind(tok) == NEMO_TOKENIZER_TEKKEN);
    CHECK(nemo_tokenizer_vocab_size(tok) == 131072);
    CHECK(nemo_tokenizer_bos_id(tok) == 1);
    CHECK(nemo_tokenizer_eos_id(tok) == 2);
    CHECK(nemo_tokenizer_special_id(tok, "[INST]") == 3);
    CHECK(nemo_tokenizer_special_id(tok, "[/INST]") == 4);
    CHECK(nemo_tokenizer_special_id(tok, "[TOOL_CALLS]") == 9);
    CHECK(nemo_tokenizer_special_id(tok, "<SPECIAL_999>") == 999);
    CHECK(nemo_tokenizer_special_id(tok, "hello") == -1);
    CHECK(nemo_tokenizer_is_special(tok, 0) && nemo_tokenizer_is_special(tok, 999));
    CHECK(!nemo_tokenizer_is_special(tok, 1000) && !nemo_tokenizer_is_special(tok, 131072));
    size_t len;
    const char *p = nemo_tokenizer_piece(tok, 1097, &len);
    CHECK(p && len == 1 && p[0] == 'a');
    p = nemo_tokenizer_piece(tok, 3, &len);
    CHECK(p && len == 6 && !memcmp(p, "[INST]", 6));
    CHECK(!nemo_tokenizer_piece(tok, 131072, &len) && !nemo_tokenizer_piece(tok, -1, &len));
}

static void test_known_ids(void) {
    if (!tok) return;
    /* spec 3.8 (VERIFIED rows) */
    static const struct {
        const char *text;
        int32_t ids[16];
        int n;
    } k[] = {
        {"a", {1097}, 1},
        {"b", {1098}, 1},
        {"c", {1099}, 1},
        {"d", {1100}, 1},
        {"SYSTEM\n\nc", {101289, 58343, 1267, 1099}, 4},
        {"Hello, world!", {22177, 1044, 4304, 1033}, 4},
        {"The quick brown fox", {1784, 7586, 22980, 94137}, 4},
        {" and the", {1321, 1278}, 2},
        {"Hello!", {22177, 1033}, 2},
        {"Hello! How can I assist you today? Let me know if you have any",
         {22177, 1033, 3075, 1710, 1362, 10410, 1636, 9406, 1063, 9246, 1639, 2840, 1693, 1636,
          1736, 2258},
         16},
        {"user message", {3263, 5117}, 2},
        {"assistant message", {1503, 19464, 5117}, 3},
        {"new user message", {3080, 3330, 5117}, 3},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        size_t n;
        int32_t *ids = enc(k[i].text, strlen(k[i].text), 0, 0, &n);
        int same = n == (size_t)k[i].n && !memcmp(ids, k[i].ids, n * sizeof *ids);
        CHECK_MSG(same, "'%s': %zu ids, first %d", k[i].text, n, n ? ids[0] : -1);
        free(ids);
    }
    size_t n;
    int32_t *ids = enc("Hello!", 6, 1, 1, &n);
    CHECK(n == 4 && ids[0] == 1 && ids[1] == 22177 && ids[2] == 1033 && ids[3] == 2);
    free(ids);
}

static void test_golden_load(void) {
    json_error_t je;
    golden = json_load_file(test_repo_path("tests/golden/tokenizer/tekken_240718.json"),
                            JSON_ALLOW_NUL, &je);
    CHECK_MSG(golden != NULL, "golden: %s", je.text);
    if (!golden) return;
    CHECK(json_integer_value(json_object_get(golden, "bos_id")) == 1);
    json_t *be = json_object_get(golden, "bos_eos");
    const char *s = json_string_value(json_object_get(be, "text"));
    size_t n;
    int32_t *ids = enc(s, strlen(s), 1, 1, &n);
    CHECK(ids_equal(ids, n, json_object_get(be, "ids")));
    free(ids);
    json_t *names = json_object_get(golden, "special_names");
    const char *key;
    json_t *v;
    json_object_foreach(names, key, v) {
        size_t len;
        const char *p = nemo_tokenizer_piece(tok, atoi(key), &len);
        CHECK_MSG(p && len == json_string_length(v) && !memcmp(p, json_string_value(v), len),
                  "special %s", key);
    }
}

static void test_golden_cases(void) {
    if (!golden || !tok) return;
    json_t *cases = json_object_get(golden, "cases");
    CHECK(json_array_size(cases) >= 50);
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        json_t *t = json_object_get(c, "text");
        const char *s = json_string_value(t);
        size_t len = json_string_length(t), n, dl;
        int32_t *ids = enc(s, len, 0, 0, &n);
        json_t *want = json_object_get(c, "ids");
        int same = ids_equal(ids, n, want);
        if (!same) {
            size_t k = 0;
            while (k < n && k < json_array_size(want) &&
                   ids[k] == json_integer_value(json_array_get(want, k)))
                k++;
            CHECK_MSG(same, "case %s: %zu ids vs %zu expected, first difference at %zu", name, n,
                      json_array_size(want), k);
        }
        char *back = dec(ids, n, NEMO_SPECIAL_SKIP, &dl);
        CHECK_MSG(dl == len && !memcmp(back, s, len), "case %s: decode(encode(s)) != s", name);
        free(back);
        free(ids);
    }
}

static void test_invalid_utf8(void) {
    if (!golden || !tok) return;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(golden, "invalid_utf8"), i, c) {
        /* decode the base64 bytes with the loader's own rules is overkill: tiny decoder */
        const char *b = json_string_value(json_object_get(c, "bytes_b64"));
        uint8_t raw[64];
        size_t rn = 0;
        uint32_t acc = 0;
        int bits = 0;
        for (const char *p = b; *p && *p != '='; p++) {
            const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            acc = (acc << 6) | (uint32_t)(strchr(a, *p) - a);
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                raw[rn++] = (uint8_t)(acc >> bits);
            }
        }
        size_t n;
        int32_t *ids = enc((const char *)raw, rn, 0, 0, &n);
        CHECK_MSG(ids_equal(ids, n, json_object_get(c, "ids")), "invalid utf8 case %zu", i);
        free(ids);
    }
}

static void test_golden_decode(void) {
    if (!golden || !tok) return;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(golden, "decode"), i, c) {
        json_t *ja = json_object_get(c, "ids");
        size_t n = json_array_size(ja), len;
        int32_t ids[64];
        int has_special = 0;
        for (size_t k = 0; k < n && k < 64; k++) {
            ids[k] = (int32_t)json_integer_value(json_array_get(ja, k));
            has_special |= ids[k] < 1000;
        }
        static const char *const keys[2] = {"skip", "keep"};
        for (int p = 0; p < 2; p++) {
            const char *want = json_string_value(json_object_get(c, keys[p]));
            char *got = dec(ids, n, p ? NEMO_SPECIAL_KEEP : NEMO_SPECIAL_SKIP, &len);
            CHECK_MSG(len == strlen(want) && !memcmp(got, want, len), "decode case %zu %s", i,
                      keys[p]);
            free(got);
        }
        char out[1024];
        nemo_error err = {0};
        nemo_status st =
            nemo_tokenizer_decode(tok, ids, n, NEMO_SPECIAL_ERROR, out, sizeof out, &len, &err);
        CHECK(has_special ? st == NEMO_ERR_ARG && strstr(err.msg, "special") : st == NEMO_OK);
    }
}

/* Every chunk the streaming decoder emits must be whole characters (valid UTF-8, with U+FFFD
 * standing for bad bytes), and all chunks together must equal decode(). */
static void check_stream(const int32_t *ids, size_t n, nemo_special_policy pol, const char *what) {
    nemo_error err = {0};
    nemo_detok *d = NULL;
    CHECK_OK(nemo_detok_create(tok, pol, &d, &err), &err);
    if (!d) return;
    size_t cap = n * 64 + 64, total = 0, len;
    char *all = malloc(cap), chunk[4096];
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        nemo_status st = nemo_detok_push(d, ids[i], chunk, sizeof chunk, &len, &err);
        ok &= st == NEMO_OK && nemo_utf8_valid_prefix((const uint8_t *)chunk, len) == len;
        memcpy(all + total, chunk, len);
        total += len;
    }
    CHECK_OK(nemo_detok_flush(d, chunk, sizeof chunk, &len, &err), &err);
    ok &= nemo_utf8_valid_prefix((const uint8_t *)chunk, len) == len;
    memcpy(all + total, chunk, len);
    total += len;
    char *want = dec(ids, n, pol, &len);
    CHECK_MSG(ok, "%s: a streamed chunk was not whole UTF-8 characters", what);
    CHECK_MSG(len == total && !memcmp(want, all, len), "%s: stream != decode", what);
    free(want);
    free(all);
    nemo_detok_free(d);
}

static void test_streaming(void) {
    if (!golden || !tok) return;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(golden, "cases"), i, c) {
        json_t *t = json_object_get(c, "text");
        size_t n;
        int32_t *ids = enc(json_string_value(t), json_string_length(t), 1, 1, &n);
        check_stream(ids, n, NEMO_SPECIAL_KEEP, json_string_value(json_object_get(c, "name")));
        free(ids);
    }
    json_array_foreach(json_object_get(golden, "decode"), i, c) {
        json_t *ja = json_object_get(c, "ids");
        int32_t ids[64];
        size_t n = json_array_size(ja);
        for (size_t k = 0; k < n && k < 64; k++)
            ids[k] = (int32_t)json_integer_value(json_array_get(ja, k));
        check_stream(ids, n, NEMO_SPECIAL_SKIP, "decode case (skip)");
        check_stream(ids, n, NEMO_SPECIAL_KEEP, "decode case (keep)");
    }
    /* "€" = E2 82 AC as three byte tokens: nothing comes out until the last byte */
    nemo_error err = {0};
    nemo_detok *d;
    CHECK_OK(nemo_detok_create(tok, NEMO_SPECIAL_SKIP, &d, &err), &err);
    char out[64];
    size_t len;
    CHECK(nemo_detok_push(d, 1000 + 0xE2, out, sizeof out, &len, &err) == NEMO_OK && len == 0);
    CHECK(nemo_detok_push(d, 1000 + 0x82, out, sizeof out, &len, &err) == NEMO_OK && len == 0);
    CHECK(nemo_detok_push(d, 1000 + 0xAC, out, 2, &len, &err) == NEMO_ERR_FULL && len == 3);
    CHECK(nemo_detok_push(d, 1000 + 0xAC, out, sizeof out, &len, &err) == NEMO_OK && len == 3 &&
          !memcmp(out, "\xE2\x82\xAC", 3));
    /* an unfinished character is flushed as one U+FFFD */
    CHECK(nemo_detok_push(d, 1000 + 0xF0, out, sizeof out, &len, &err) == NEMO_OK && len == 0);
    CHECK(nemo_detok_push(d, 1000 + 0x9F, out, sizeof out, &len, &err) == NEMO_OK && len == 0);
    CHECK(nemo_detok_flush(d, out, sizeof out, &len, &err) == NEMO_OK && len == 3 &&
          !memcmp(out, "\xEF\xBF\xBD", 3));
    CHECK(nemo_detok_push(d, 200000, out, sizeof out, &len, &err) == NEMO_ERR_ARG);
    nemo_detok_free(d);
    CHECK_OK(nemo_detok_create(tok, NEMO_SPECIAL_ERROR, &d, &err), &err);
    CHECK(nemo_detok_push(d, 3, out, sizeof out, &len, &err) == NEMO_ERR_ARG);
    nemo_detok_free(d);
    nemo_detok_free(NULL);
}

static void test_buffers(void) {
    if (!tok) return;
    nemo_error err = {0};
    int32_t ids[2];
    size_t n;
    CHECK(nemo_tokenizer_encode(tok, "Hello, world!", 13, 1, 0, ids, 2, &n, &err) ==
              NEMO_ERR_FULL &&
          n == 5 && ids[0] == 1 && ids[1] == 22177);
    CHECK(nemo_tokenizer_encode(tok, "", 0, 0, 0, NULL, 0, &n, &err) == NEMO_OK && n == 0);
    int32_t hw[] = {22177, 1044, 4304, 1033};
    char out[14];
    size_t len;
    CHECK(nemo_tokenizer_decode(tok, hw, 4, NEMO_SPECIAL_SKIP, out, 13, &len, &err) ==
              NEMO_ERR_FULL &&
          len == 13);
    CHECK(nemo_tokenizer_decode(tok, hw, 4, NEMO_SPECIAL_SKIP, out, 14, &len, &err) == NEMO_OK &&
          len == 13 && !strcmp(out, "Hello, world!"));
    int32_t bad[] = {22177, 131072};
    CHECK(nemo_tokenizer_decode(tok, bad, 2, NEMO_SPECIAL_SKIP, out, 14, &len, &err) ==
              NEMO_ERR_ARG &&
          strstr(err.msg, "131072"));
}

/* The quadratic and the heap BPE must agree on every piece, long or short. */
static void test_bpe_paths_agree(void) {
    if (!golden || !tok) return;
    const nemo_tekken *tk = tok->tekken;
    nemo_tekken_work w1 = {0}, w2 = {0};
    CHECK(nemo_tekken_work_cache(&w2) == 0); /* the lookup cache must not change results */
    size_t checked = 0;
    uint32_t *a = malloc(8192 * sizeof *a), *b = malloc(8192 * sizeof *b);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(golden, "cases"), i, c) {
        json_t *t = json_object_get(c, "text");
        const uint8_t *s = (const uint8_t *)json_string_value(t);
        size_t n = json_string_length(t);
        /* every substring window of up to 200 bytes at a few offsets, as one piece */
        for (size_t off = 0; off < n; off += 37) {
            size_t w = n - off < 200 ? n - off : 200;
            long ka = nemo_tekken_bpe(tk, s + off, w, a, &w1, 256);
            long kb = nemo_tekken_bpe(tk, s + off, w, b, &w2, 0);
            CHECK_MSG(ka == kb && !memcmp(a, b, (size_t)ka * sizeof *a), "case %zu off %zu", i,
                      off);
            checked++;
        }
    }
    CHECK(checked > 100);
    free(a);
    free(b);
    nemo_tekken_work_free(&w1);
    nemo_tekken_work_free(&w2);
}

int main(void) {
    RUN(test_open);
    RUN(test_known_ids);
    RUN(test_golden_load);
    RUN(test_golden_cases);
    RUN(test_invalid_utf8);
    RUN(test_golden_decode);
    RUN(test_streaming);
    RUN(test_buffers);
    RUN(test_bpe_paths_agree);
    json_decref(golden);
    nemo_tokenizer_free(tok);
    return test_finish();
}

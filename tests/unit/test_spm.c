/* test_spm.c — SentencePiece tokenizers (tokenizer.model.v1/v2/v3): ids and decoded text equal
 * to the goldens of scripts/golden_spm.py (mistral-common + sentencepiece), control tokens, and
 * clear errors for malformed .model files. The model paths come from $NEMO_SPM_V1/V2/V3
 * (tests/run.sh fetches them with scripts/fixture.py). */
#include "tokenizer/spm.h"
#include "test.h"

#include <jansson.h>
#include <stdint.h>

static const char *model_path(const char *version) {
    char var[32];
    snprintf(var, sizeof var, "NEMO_SPM_%s", version);
    for (char *c = var; *c; c++)
        if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 'a' + 'A');
    const char *p = getenv(var);
    if (!p || !*p) {
        static char buf[1024];
        snprintf(buf, sizeof buf, "%s", test_repo_path(".cache/fixtures/tokenizer.model."));
        strncat(buf, version, sizeof buf - strlen(buf) - 1);
        p = buf;
    }
    return p;
}

static nemo_spm *open_model(const char *version) {
    nemo_error err = {0};
    nemo_spm *s = NULL;
    const char *path = model_path(version);
    CHECK_MSG(nemo_spm_open(path, &s, &err) == NEMO_OK,
              "%s (set NEMO_SPM_%s or run tests/run.sh, which fetches the fixture)", err.msg,
              version);
    return s;
}

static json_t *load_golden(const char *version) {
    char rel[64];
    snprintf(rel, sizeof rel, "tests/golden/spm/%s.json", version);
    json_error_t je;
    json_t *doc = json_load_file(test_repo_path(rel), JSON_ALLOW_NUL, &je);
    CHECK_MSG(doc != NULL, "%s: %s (line %d)", rel, je.text, je.line);
    return doc;
}

static size_t ids_from_json(json_t *arr, int32_t *out, size_t cap) {
    size_t n = json_array_size(arr);
    for (size_t i = 0; i < n && i < cap; i++)
        out[i] = (int32_t)json_integer_value(json_array_get(arr, i));
    return n;
}

static void print_ids(const char *label, const int32_t *ids, size_t n) {
    fprintf(stderr, "    %s:", label);
    for (size_t i = 0; i < n && i < 40; i++) fprintf(stderr, " %d", ids[i]);
    fprintf(stderr, n > 40 ? " ...\n" : "\n");
}

/* Encodes text and compares with want; reports the first mismatching case in detail. */
static int check_encode(const nemo_spm *s, const char *text, size_t len, int bos, int eos,
                        const int32_t *want, size_t n_want) {
    static int32_t got[1 << 16];
    size_t n = 0;
    nemo_error err = {0};
    nemo_status st = nemo_spm_encode(s, text, len, bos, eos, got, 1 << 16, &n, &err);
    int ok = st == NEMO_OK && n == n_want && memcmp(got, want, n * sizeof *got) == 0;
    if (!ok) {
        CHECK_MSG(0, "encode mismatch (status %d %s) for %zu bytes: '%.*s'", st, err.msg, len,
                  (int)(len < 200 ? len : 200), text);
        print_ids("want", want, n_want);
        print_ids("got ", got, n);
    }
    return ok;
}

static int check_decode(const nemo_spm *s, const int32_t *ids, size_t n, const char *want,
                        size_t want_len) {
    static char got[1 << 17];
    size_t len = 0;
    nemo_error err = {0};
    nemo_status st = nemo_spm_decode(s, ids, n, NEMO_SPECIAL_SKIP, got, sizeof got, &len, &err);
    int ok = st == NEMO_OK && len == want_len && memcmp(got, want, len) == 0 && got[len] == 0;
    if (!ok) {
        CHECK_MSG(0, "decode mismatch (status %d %s): want '%.*s' got '%.*s'", st, err.msg,
                  (int)want_len, want, (int)len, got);
        print_ids("ids", ids, n);
    }
    return ok;
}

static void golden(const char *version) {
    nemo_spm *s = open_model(version);
    json_t *doc = load_golden(version);
    if (!s || !doc) goto out;
    CHECK(nemo_spm_vocab_size(s) == json_integer_value(json_object_get(doc, "vocab_size")));
    CHECK(nemo_spm_bos_id(s) == json_integer_value(json_object_get(doc, "bos_id")));
    CHECK(nemo_spm_eos_id(s) == json_integer_value(json_object_get(doc, "eos_id")));
    /* control ids: exactly the listed ones (plus <unk>, which is_control also reports) */
    json_t *ctrl = json_object_get(doc, "control");
    int32_t unk = (int32_t)json_integer_value(json_object_get(doc, "unk_id"));
    size_t k = 0, n_ctrl = json_array_size(ctrl);
    int ctrl_ok = 1;
    for (int32_t id = 0; id < nemo_spm_vocab_size(s); id++) {
        int want = k < n_ctrl && json_integer_value(json_array_get(ctrl, k)) == id;
        if (want) k++;
        if ((nemo_spm_piece_type(s, id) == 3) != want) ctrl_ok = 0;
        if (nemo_spm_is_control(s, id) != (want || id == unk)) ctrl_ok = 0;
    }
    CHECK(ctrl_ok && k == n_ctrl);
    CHECK(nemo_spm_piece_type(s, unk) == 2);
    const char *name;
    json_t *v;
    json_object_foreach(json_object_get(doc, "named"), name, v) {
        CHECK_MSG(nemo_spm_piece_id(s, name) == json_integer_value(v), "piece %s", name);
        size_t pl;
        const char *p = nemo_spm_piece(s, (int32_t)json_integer_value(v), &pl);
        CHECK(p && pl == strlen(name) && memcmp(p, name, pl) == 0);
    }

    static int32_t want[1 << 16];
    size_t i, fails = 0, n_cases = 0;
    json_t *c;
    json_array_foreach(json_object_get(doc, "cases"), i, c) {
        json_t *t = json_object_get(c, "text"), *d = json_object_get(c, "decoded");
        size_t n = ids_from_json(json_object_get(c, "ids"), want, 1 << 16);
        int bos = json_is_true(json_object_get(c, "bos")),
            eos = json_is_true(json_object_get(c, "eos"));
        if (!check_encode(s, json_string_value(t), json_string_length(t), bos, eos, want, n))
            fails++;
        if (!check_decode(s, want, n, json_string_value(d), json_string_length(d))) fails++;
        n_cases++;
        if (fails > 5) break;
    }
    CHECK(n_cases > 200 || fails);
    json_array_foreach(json_object_get(doc, "decode_cases"), i, c) {
        json_t *d = json_object_get(c, "decoded");
        size_t n = ids_from_json(json_object_get(c, "ids"), want, 1 << 16);
        if (!check_decode(s, want, n, json_string_value(d), json_string_length(d))) fails++;
        if (fails > 10) break;
    }
    json_array_foreach(json_object_get(doc, "byte_cases"), i, c) {
        const char *hex = json_string_value(json_object_get(c, "hex"));
        char raw[256];
        size_t len = strlen(hex) / 2;
        for (size_t j = 0; j < len && j < sizeof raw; j++) {
            unsigned b;
            sscanf(hex + 2 * j, "%2x", &b);
            raw[j] = (char)b;
        }
        size_t n = ids_from_json(json_object_get(c, "ids"), want, 1 << 16);
        if (!check_encode(s, raw, len, 0, 0, want, n)) fails++;
    }
    CHECK(json_array_size(json_object_get(doc, "byte_cases")) >= 10);
out:
    json_decref(doc);
    nemo_spm_free(s);
}

static void test_golden_v1(void) {
    golden("v1");
}
static void test_golden_v2(void) {
    golden("v2");
}
static void test_golden_v3(void) {
    golden("v3");
}

/* v3: the control tokens of the instruct format have fixed ids, are never produced from text,
 * and decode per policy. */
static void test_v3_control_tokens(void) {
    nemo_spm *s = open_model("v3");
    if (!s) return;
    static const char *names[] = {"<s>",
                                  "</s>",
                                  "[INST]",
                                  "[/INST]",
                                  "[TOOL_CALLS]",
                                  "[AVAILABLE_TOOLS]",
                                  "[/AVAILABLE_TOOLS]",
                                  "[TOOL_RESULTS]",
                                  "[/TOOL_RESULTS]",
                                  "[IMG]",
                                  "[PREFIX]",
                                  "[MIDDLE]",
                                  "[SUFFIX]"};
    for (int i = 0; i < (int)(sizeof names / sizeof *names); i++) {
        CHECK(nemo_spm_piece_id(s, names[i]) == i + 1);
        CHECK(nemo_spm_is_control(s, i + 1));
        size_t l;
        const char *b = nemo_spm_piece_bytes(s, i + 1, &l);
        CHECK(b && l == strlen(names[i]) && memcmp(b, names[i], l) == 0);
    }
    CHECK(nemo_spm_piece_id(s, "[NOT_A_TOKEN]") == -1);
    CHECK(nemo_spm_piece(s, -1, NULL) == NULL && nemo_spm_piece(s, 32768, NULL) == NULL);
    CHECK(nemo_spm_piece_bytes(s, 32768, NULL) == NULL);
    int32_t ids[64];
    size_t n = 0;
    nemo_error err = {0};
    const char *text = "[INST] hi [/INST]</s>";
    CHECK_OK(nemo_spm_encode(s, text, strlen(text), 1, 1, ids, 64, &n, &err), &err);
    CHECK(n > 3 && ids[0] == 1 && ids[n - 1] == 2);
    for (size_t i = 1; i + 1 < n; i++) CHECK(!nemo_spm_is_control(s, ids[i]));

    /* <s>[INST]▁hi[/INST] under each policy */
    int32_t hi = nemo_spm_piece_id(s, "\xE2\x96\x81hi");
    CHECK(hi > 0);
    int32_t seq[] = {1, 3, hi, 4};
    char out[128];
    size_t len;
    CHECK_OK(nemo_spm_decode(s, seq, 4, NEMO_SPECIAL_SKIP, out, sizeof out, &len, &err), &err);
    CHECK(len == 2 && strcmp(out, "hi") == 0);
    CHECK_OK(nemo_spm_decode(s, seq, 4, NEMO_SPECIAL_KEEP, out, sizeof out, &len, &err), &err);
    CHECK(strcmp(out, "<s>[INST]hi[/INST]") == 0);
    CHECK(nemo_spm_decode(s, seq, 4, NEMO_SPECIAL_ERROR, out, sizeof out, &len, &err) ==
          NEMO_ERR_ARG);
    CHECK(strstr(err.msg, "control token <s>") != NULL);
    /* byte pieces and '▁' surfaces */
    size_t l;
    const char *b = nemo_spm_piece_bytes(s, nemo_spm_piece_id(s, "<0x0A>"), &l);
    CHECK(b && l == 1 && b[0] == '\n');
    b = nemo_spm_piece_bytes(s, hi, &l);
    CHECK(b && l == 3 && memcmp(b, " hi", 3) == 0);
    b = nemo_spm_piece_bytes(s, 0, &l);
    CHECK(b && l == 5 && memcmp(b, " \xE2\x81\x87 ", 5) == 0);
    CHECK(nemo_spm_decode(s, (int32_t[]){32768}, 1, NEMO_SPECIAL_SKIP, out, sizeof out, &len,
                          &err) == NEMO_ERR_ARG);
    nemo_spm_free(s);
}

static void test_buffers(void) {
    nemo_spm *s = open_model("v1");
    if (!s) return;
    int32_t ids[4];
    size_t n = 99;
    nemo_error err = {0};
    const char *text = "The quick brown fox jumps over the lazy dog";
    CHECK(nemo_spm_encode(s, text, strlen(text), 1, 0, ids, 4, &n, &err) == NEMO_ERR_FULL);
    CHECK(n == 12 && ids[0] == 1); /* BOS + 11 pieces (sentencepiece) */
    CHECK_OK(nemo_spm_encode(s, text, 0, 0, 0, NULL, 0, &n, &err), &err);
    CHECK(n == 0);
    CHECK_OK(nemo_spm_encode(s, NULL, 0, 1, 1, ids, 4, &n, &err), &err);
    CHECK(n == 2 && ids[0] == 1 && ids[1] == 2);
    int32_t full[16];
    CHECK_OK(nemo_spm_encode(s, text, strlen(text), 0, 0, full, 16, &n, &err), &err);
    char out[64];
    size_t len;
    CHECK(nemo_spm_decode(s, full, n, NEMO_SPECIAL_SKIP, out, 10, &len, &err) == NEMO_ERR_FULL);
    CHECK(len == strlen(text));
    CHECK(nemo_spm_decode(s, full, n, NEMO_SPECIAL_SKIP, out, len, &len, &err) == NEMO_ERR_FULL);
    CHECK_OK(nemo_spm_decode(s, full, n, NEMO_SPECIAL_SKIP, out, len + 1, &len, &err), &err);
    CHECK(strcmp(out, text) == 0);
    nemo_spm_free(s);
}

/* Long inputs stay fast (no quadratic merge loop): 400 KB of mixed text under ASan. */
static void test_long_input(void) {
    nemo_spm *s = open_model("v3");
    if (!s) return;
    size_t cap = 400000, len = 0;
    char *text = malloc(cap + 64);
    static const char *parts[] = {
        "hello ", "world", "   ", "\xE4\xBD\xA0\xE5\xA5\xBD", "\n", "aaaaaaaa", "\xF0\x9F\x98\x80"};
    for (unsigned i = 0; len < cap; i = i * 1103515245u + 12345u) {
        const char *p = parts[(i >> 16) % 7];
        memcpy(text + len, p, strlen(p));
        len += strlen(p);
    }
    size_t n = 0;
    nemo_error err = {0};
    int32_t *ids = malloc(len * sizeof *ids);
    CHECK_OK(nemo_spm_encode(s, text, len, 0, 0, ids, len, &n, &err), &err);
    char *back = malloc(len + 1);
    size_t blen = 0;
    CHECK_OK(nemo_spm_decode(s, ids, n, NEMO_SPECIAL_SKIP, back, len + 1, &blen, &err), &err);
    CHECK(blen == len && memcmp(back, text, len) == 0);
    free(back);
    free(ids);
    free(text);
    nemo_spm_free(s);
}

/* ---------------------------------------------------------------- malformed files */

typedef struct buf {
    uint8_t d[4096];
    size_t n;
} buf;

static void put_varint(buf *b, uint64_t v) {
    do {
        b->d[b->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}
static void put_key(buf *b, uint32_t field, int wt) {
    put_varint(b, (uint64_t)field << 3 | (uint32_t)wt);
}
static void put_bytes(buf *b, uint32_t field, const void *p, size_t n) {
    put_key(b, field, 2);
    put_varint(b, n);
    memcpy(b->d + b->n, p, n);
    b->n += n;
}
static void put_msg(buf *b, uint32_t field, const buf *m) {
    put_bytes(b, field, m->d, m->n);
}
static void put_piece(buf *b, const char *piece, float score, int type) {
    buf m = {.n = 0};
    put_bytes(&m, 1, piece, strlen(piece));
    put_key(&m, 2, 5);
    memcpy(m.d + m.n, &score, 4);
    m.n += 4;
    if (type != 1) put_key(&m, 3, 0), put_varint(&m, (uint64_t)type);
    put_msg(b, 1, &m);
}
static void put_trainer(buf *b, int model_type, int byte_fallback) {
    buf m = {.n = 0};
    put_key(&m, 3, 0), put_varint(&m, (uint64_t)model_type);
    put_key(&m, 35, 0), put_varint(&m, (uint64_t)byte_fallback);
    put_key(&m, 43, 0), put_varint(&m, UINT64_MAX); /* pad_id = -1: a 10-byte varint */
    put_msg(b, 2, &m);
}
static void put_normalizer(buf *b, const char *charsmap) {
    buf m = {.n = 0};
    put_bytes(&m, 1, "identity", 8);
    put_bytes(&m, 2, charsmap, strlen(charsmap));
    put_key(&m, 4, 0), put_varint(&m, 0);
    put_msg(b, 3, &m);
}
/* A tiny valid BPE model: <unk> <s> </s> [INST] ▁ a b ab ▁ab <0x41>..., byte fallback on. */
static void tiny_model(buf *b) {
    b->n = 0;
    put_piece(b, "<unk>", 0, 2);
    put_piece(b, "<s>", 0, 3);
    put_piece(b, "</s>", 0, 3);
    put_piece(b, "[INST]", 0, 3);
    put_piece(b, "<0x63>", 0, 6);
    put_piece(b, "\xE2\x96\x81", -1, 1);
    put_piece(b, "a", -2, 1);
    put_piece(b, "b", -3, 1);
    put_piece(b, "ab", -4, 1);
    put_piece(b,
              "\xE2\x96\x81"
              "ab",
              -5, 1);
    put_piece(b, "ba", -4, 1);
    put_trainer(b, 2, 1);
    put_normalizer(b, "");
}

static nemo_status open_buf(const buf *b, nemo_error *err) {
    nemo_spm *s = NULL;
    nemo_status st = nemo_spm_open_bytes(b->d, b->n, "bad.model", &s, err);
    CHECK((st == NEMO_OK) == (s != NULL));
    nemo_spm_free(s);
    return st;
}

#define EXPECT_ERR(b, want_st, substr)                                                             \
    do {                                                                                           \
        nemo_error e_ = {0};                                                                       \
        nemo_status st_ = open_buf(b, &e_);                                                        \
        CHECK_MSG(st_ == (want_st) && strstr(e_.msg, substr) && strstr(e_.msg, "bad.model"),       \
                  "status %d, message '%s', expected '%s'", st_, e_.msg, substr);                  \
    } while (0)

static void test_tiny_model(void) {
    buf b;
    tiny_model(&b);
    nemo_spm *s = NULL;
    nemo_error err = {0};
    CHECK_OK(nemo_spm_open_bytes(b.d, b.n, "tiny.model", &s, &err), &err);
    if (!s) return;
    int32_t ids[16];
    size_t n;
    /* "aab c": ▁ a a b ▁ c -> merges by score: "ab" (-4) and "▁ab"... a,ab then ▁ + c bytes */
    CHECK_OK(nemo_spm_encode(s, "aab c", 5, 0, 0, ids, 16, &n, &err), &err);
    int32_t want[] = {5, 6, 8, 5, 4};
    CHECK(n == 5 && memcmp(ids, want, sizeof want) == 0);
    /* "ab": ▁ab is the only piece reachable: ▁+a? no, a+b=ab (-4) first, then ▁+ab (-5) */
    CHECK_OK(nemo_spm_encode(s, "ab", 2, 1, 1, ids, 16, &n, &err), &err);
    CHECK(n == 3 && ids[0] == 1 && ids[1] == 9 && ids[2] == 2);
    /* equal scores (ab, ba): the leftmost pair merges first */
    CHECK_OK(nemo_spm_encode(s, "aba", 3, 0, 0, ids, 16, &n, &err), &err);
    CHECK(n == 2 && ids[0] == 9 && ids[1] == 6);
    /* "d" is unknown and its byte piece <0x64> is missing: <unk>, as sentencepiece does */
    CHECK_OK(nemo_spm_encode(s, "d", 1, 0, 0, ids, 16, &n, &err), &err);
    CHECK(n == 2 && ids[0] == 5 && ids[1] == 0);
    nemo_spm_free(s);
}

static void test_malformed(void) {
    buf good, b;
    tiny_model(&good);
    nemo_error err = {0};
    CHECK(open_buf(&good, &err) == NEMO_OK);

    /* truncated: every proper prefix that cuts a field must fail cleanly (never crash) */
    int fails = 0;
    for (size_t cut = 1; cut < good.n; cut++) {
        b = good;
        b.n = cut;
        if (open_buf(&b, &err) != NEMO_OK) fails++;
    }
    CHECK(fails > (int)good.n / 2);
    b = good;
    b.n -= 3; /* inside the normalizer message */
    EXPECT_ERR(&b, NEMO_ERR_FORMAT, "runs past the end");

    b = good; /* bad varint: 11 continuation bytes */
    memset(b.d + b.n, 0xff, 11);
    b.n += 11;
    EXPECT_ERR(&b, NEMO_ERR_FORMAT, "varint");

    b = good; /* varint overflowing 64 bits in the 10th byte */
    put_key(&b, 9, 0);
    memset(b.d + b.n, 0xff, 9);
    b.d[b.n + 9] = 0x02;
    b.n += 10;
    EXPECT_ERR(&b, NEMO_ERR_FORMAT, "overflows 64 bits");

    b = good; /* wire type 3 (group) */
    put_key(&b, 7, 3);
    EXPECT_ERR(&b, NEMO_ERR_FORMAT, "wire type 3");

    b = good; /* known field with the wrong wire type */
    put_key(&b, 1, 0), put_varint(&b, 5);
    EXPECT_ERR(&b, NEMO_ERR_FORMAT, "ModelProto.pieces: wire type 0, expected 2");

    b = good; /* length past the end */
    put_key(&b, 1, 2), put_varint(&b, 1000);
    EXPECT_ERR(&b, NEMO_ERR_FORMAT, "length 1000 runs past the end");

    b.n = 0; /* piece count 0 */
    put_trainer(&b, 2, 1);
    put_normalizer(&b, "");
    EXPECT_ERR(&b, NEMO_ERR_FORMAT, "no pieces");

    b.n = 0; /* empty file */
    EXPECT_ERR(&b, NEMO_ERR_FORMAT, "no pieces");

    b = good;
    put_piece(&b, "", 0, 1);
    EXPECT_ERR(&b, NEMO_ERR_FORMAT, "empty piece");

    b = good;
    put_piece(&b, "ab", 0, 1);
    EXPECT_ERR(&b, NEMO_ERR_FORMAT, "duplicate piece 'ab'");

    b = good;
    put_piece(&b, "x", 0, 9);
    EXPECT_ERR(&b, NEMO_ERR_FORMAT, "unknown type 9");

    b = good;
    put_piece(&b, "x", 0, 5);
    EXPECT_ERR(&b, NEMO_ERR_UNSUPPORTED, "UNUSED");

    b = good;
    put_piece(&b, "<unk2>", 0, 2);
    EXPECT_ERR(&b, NEMO_ERR_FORMAT, "second UNKNOWN");

    b.n = 0;
    put_piece(&b, "a", 0, 1);
    put_trainer(&b, 2, 0);
    EXPECT_ERR(&b, NEMO_ERR_FORMAT, "no UNKNOWN piece");

    b = good;
    put_piece(&b, "<0x4g>", 0, 6);
    EXPECT_ERR(&b, NEMO_ERR_FORMAT, "not of the form <0xXX>");

    b.n = 0;
    put_piece(&b, "<unk>", 0, 2);
    put_piece(&b, "<0x41>", 0, 6);
    put_trainer(&b, 2, 0);
    EXPECT_ERR(&b, NEMO_ERR_FORMAT, "byte_fallback is false");

    b = good; /* unigram (a later trainer_spec merges into the first, as protobuf does) */
    put_trainer(&b, 1, 1);
    EXPECT_ERR(&b, NEMO_ERR_UNSUPPORTED, "UNIGRAM");

    b.n = 0; /* no trainer_spec: proto2 default model_type is UNIGRAM */
    put_piece(&b, "<unk>", 0, 2);
    EXPECT_ERR(&b, NEMO_ERR_UNSUPPORTED, "model_type is 1");

    b = good;
    put_normalizer(&b, "\x01\x02\x03");
    EXPECT_ERR(&b, NEMO_ERR_UNSUPPORTED, "precompiled_charsmap holds 3 bytes");

    b = good; /* int32 field out of range */
    {
        buf m = {.n = 0};
        put_key(&m, 3, 0), put_varint(&m, 1ull << 40);
        put_msg(&b, 2, &m);
    }
    EXPECT_ERR(&b, NEMO_ERR_FORMAT, "does not fit in int32");

    nemo_spm *s = (nemo_spm *)&b;
    CHECK(nemo_spm_open(test_repo_path("no/such/tokenizer.model"), &s, &err) != NEMO_OK);
    CHECK(s == NULL);
}

/* A real file cut short fails with a format error naming an offset. */
static void test_truncated_real_file(void) {
    nemo_map m;
    nemo_error err = {0};
    if (nemo_map_open(model_path("v3"), &m, &err) != NEMO_OK) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    size_t cuts[] = {1, 2, 100, 12345, (size_t)m.size / 2, (size_t)m.size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        nemo_spm *s = NULL;
        nemo_status st = nemo_spm_open_bytes(m.data, cuts[i], "v3.model", &s, &err);
        CHECK_MSG(st == NEMO_ERR_FORMAT && strstr(err.msg, "byte offset"), "cut %zu: %d %s",
                  cuts[i], st, err.msg);
        nemo_spm_free(s);
    }
    nemo_map_close(&m);
}

int main(void) {
    RUN(test_golden_v1);
    RUN(test_golden_v2);
    RUN(test_golden_v3);
    RUN(test_v3_control_tokens);
    RUN(test_buffers);
    RUN(test_long_input);
    RUN(test_tiny_model);
    RUN(test_malformed);
    RUN(test_truncated_real_file);
    return test_finish();
}

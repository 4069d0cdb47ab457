/* test_tokenizer_gguf.c — GGUF vocabularies against the goldens of scripts/golden_gguf_vocab.py
 * (tests/golden/gguf_vocab/): SmolLM2's gpt2 vocabulary (pre "smollm", and the same vocabulary
 * under "gpt-2") id for id with llama.cpp, decode round trips and streaming decode, the ChatML
 * prompts of transformers' apply_chat_template; a "llama" (SentencePiece) GGUF built in memory
 * from tokenizer.model.v3 the way llama.cpp's converter writes it, against llama.cpp's ids; and
 * malformed vocabulary metadata failing with errors that name the key. */
#include "checkpoint/gguf.h"
#include "test.h"
#include "tokenizer/spm_internal.h"
#include "tokenizer/tokenizer_impl.h"

#include <jansson.h>
#include <stdlib.h>

static const char *env_or(const char *var, const char *rel) {
    const char *p = getenv(var);
    return p && *p ? p : test_repo_path(rel);
}

static json_t *load_golden(const char *rel) {
    json_error_t je;
    json_t *g = json_load_file(test_repo_path(rel), JSON_ALLOW_NUL, &je);
    CHECK_MSG(g != NULL, "%s: %s", rel, je.text);
    return g;
}

static int ids_equal(const int32_t *a, size_t na, const json_t *b) {
    if (na != json_array_size(b)) return 0;
    for (size_t i = 0; i < na; i++)
        if (a[i] != json_integer_value(json_array_get(b, i))) return 0;
    return 1;
}

static int32_t *encode(const nemo_tokenizer *t, const char *s, size_t len, size_t *n) {
    nemo_error err = {0};
    size_t cap = len + 8;
    int32_t *ids = malloc(cap * sizeof *ids);
    nemo_status st = nemo_tokenizer_encode(t, s, len, 0, 0, ids, cap, n, &err);
    CHECK_MSG(st == NEMO_OK, "%s", err.msg);
    if (st) *n = 0;
    return ids;
}

static size_t b64(const char *in, uint8_t *out) {
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (; *in && *in != '='; in++) {
        const char *p = strchr(A, *in);
        if (!p) continue;
        acc = acc << 6 | (uint32_t)(p - A);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return n;
}

/* ---------------------------------------------------------------- SmolLM2 */

static nemo_tokenizer *smol;
static json_t *smol_golden;

static void test_smollm2_open(void) {
    nemo_error err = {0};
    const char *p = env_or("NEMO_SMOLLM2", ".cache/fixtures/SmolLM2-135M-Instruct.Q4_1.gguf");
    CHECK_OK(nemo_tokenizer_open(p, &smol, &err), &err);
    smol_golden = load_golden("tests/golden/gguf_vocab/smollm2.json");
    if (!smol) return;
    CHECK(nemo_tokenizer_get_kind(smol) == NEMO_TOKENIZER_GGUF);
    CHECK(nemo_tokenizer_vocab_size(smol) == 49152);
    CHECK(nemo_tokenizer_bos_id(smol) == 1 && nemo_tokenizer_eos_id(smol) == 2);
    CHECK(!nemo_tokenizer_add_bos(smol) && !nemo_tokenizer_add_eos(smol));
    CHECK(nemo_tokenizer_special_id(smol, "<|im_start|>") == 1);
    CHECK(nemo_tokenizer_special_id(smol, "<|im_end|>") == 2);
    CHECK(nemo_tokenizer_special_id(smol, "[INST]") == -1);
    CHECK(nemo_tokenizer_special_id(smol, "!") == -1); /* a normal token is not special */
    CHECK(nemo_tokenizer_is_special(smol, 0) && nemo_tokenizer_is_special(smol, 16));
    CHECK(!nemo_tokenizer_is_special(smol, 17) && !nemo_tokenizer_is_special(smol, 49152));
    const char *tpl = nemo_tokenizer_chat_template(smol);
    CHECK(tpl && !strncmp(tpl, "{% for message in messages %}", 29) &&
          strstr(tpl, "named SmolLM, trained by Hugging Face"));
    size_t len;
    const char *piece = nemo_tokenizer_piece(smol, 216, &len); /* "Ġ" decodes to a space */
    CHECK(piece && len == 1 && piece[0] == ' ');
    piece = nemo_tokenizer_piece(smol, 1, &len);
    CHECK(piece && len == 12 && !memcmp(piece, "<|im_start|>", 12));
    /* explicit BOS/EOS */
    size_t n;
    int32_t ids[8];
    nemo_error e2 = {0};
    CHECK_OK(nemo_tokenizer_encode(smol, "Hi", 2, 1, 1, ids, 8, &n, &e2), &e2);
    CHECK(n == 3 && ids[0] == 1 && ids[2] == 2);
}

static void test_smollm2_golden(void) {
    if (!smol || !smol_golden) return;
    json_t *cases = json_object_get(smol_golden, "cases");
    CHECK(json_array_size(cases) >= 70);
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        json_t *jt = json_object_get(c, "text");
        const char *text = json_string_value(jt);
        size_t tl = json_string_length(jt), n;
        int32_t *ids = encode(smol, text, tl, &n);
        CHECK_MSG(ids_equal(ids, n, json_object_get(c, "ids")), "case %s", name);
        /* byte-level BPE is lossless: decode gives the text back (specials skipped: none here
         * since encoding never produces one) */
        nemo_error err = {0};
        size_t cap = tl * 2 + 64, dl;
        char *out = malloc(cap);
        CHECK_OK(nemo_tokenizer_decode(smol, ids, n, NEMO_SPECIAL_SKIP, out, cap, &dl, &err), &err);
        CHECK_MSG(dl == tl && !memcmp(out, text, tl), "decode round trip of %s", name);
        /* streaming decode writes the same bytes */
        nemo_detok *d;
        CHECK_OK(nemo_detok_create(smol, NEMO_SPECIAL_KEEP, &d, &err), &err);
        size_t w = 0, k;
        for (size_t j = 0; j < n; j++) {
            CHECK_OK(nemo_detok_push(d, ids[j], out + w, cap - w, &k, &err), &err);
            w += k;
        }
        CHECK_OK(nemo_detok_flush(d, out + w, cap - w, &k, &err), &err);
        w += k;
        CHECK_MSG(w == tl && !memcmp(out, text, tl), "streaming decode of %s", name);
        nemo_detok_free(d);
        free(out);
        free(ids);
    }
}

static void test_smollm2_invalid_and_gpt2(void) {
    if (!smol || !smol_golden) return;
    /* the same vocabulary under the gpt-2 pre-tokenizer (llama.cpp ran a copy of the file with
     * tokenizer.ggml.pre = "gpt-2") */
    nemo_error err = {0};
    nemo_gguf *g = NULL;
    const char *p = env_or("NEMO_SMOLLM2", ".cache/fixtures/SmolLM2-135M-Instruct.Q4_1.gguf");
    CHECK_OK(nemo_gguf_open(p, &g, &err), &err);
    if (!g) return;
    nemo_gguf_array tok, types;
    CHECK_OK(nemo_gguf_get_strings(g, "tokenizer.ggml.tokens", &tok, &err), &err);
    CHECK_OK(nemo_gguf_get_ints(g, "tokenizer.ggml.token_type", &types, &err), &err);
    nemo_bpe *gpt2 = NULL;
    CHECK_OK(nemo_bpe_load(g, &tok, &types, NEMO_BPE_PRE_GPT2, &gpt2, &err), &err);
    nemo_gguf_free(g);
    if (!gpt2) return;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(smol_golden, "cases"), i, c) {
        json_t *jt = json_object_get(c, "text");
        size_t tl = json_string_length(jt), n, cap = tl + 8;
        int32_t *ids = malloc(cap * sizeof *ids);
        CHECK_OK(nemo_bpe_encode(gpt2, json_string_value(jt), tl, -1, -1, ids, cap, &n, &err),
                 &err);
        CHECK_MSG(ids_equal(ids, n, json_object_get(c, "gpt2_ids")), "gpt-2 case %s",
                  json_string_value(json_object_get(c, "name")));
        free(ids);
    }
    json_array_foreach(json_object_get(smol_golden, "invalid_utf8"), i, c) {
        uint8_t raw[64];
        size_t rl = b64(json_string_value(json_object_get(c, "bytes_b64")), raw), n;
        int32_t *ids = encode(smol, (const char *)raw, rl, &n);
        CHECK_MSG(ids_equal(ids, n, json_object_get(c, "ids")), "invalid UTF-8 case %zu", i);
        int32_t ids2[128];
        CHECK_OK(nemo_bpe_encode(gpt2, (const char *)raw, rl, -1, -1, ids2, 128, &n, &err), &err);
        CHECK_MSG(ids_equal(ids2, n, json_object_get(c, "gpt2_ids")), "gpt-2 invalid case %zu", i);
        free(ids);
    }
    nemo_bpe_free(gpt2);
}

static void test_smollm2_chat(void) {
    if (!smol || !smol_golden) return;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(smol_golden, "chats"), i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        char *req = json_dumps(json_object_get(c, "request"), 0);
        nemo_error err = {0};
        nemo_chat *chat = NULL;
        CHECK_OK(nemo_chat_parse(req, strlen(req), &chat, &err), &err);
        int32_t *ids = NULL;
        size_t n = 0;
        if (chat) CHECK_OK(nemo_chat_encode(chat, smol, &ids, &n, &err), &err);
        CHECK_MSG(ids_equal(ids, n, json_object_get(c, "ids")), "chat %s", name);
        free(ids);
        nemo_chat_free(chat);
        free(req);
    }
    /* tools are rejected with a clear message */
    const char *req = "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"tools\": "
                      "[{\"type\": \"function\", \"function\": {\"name\": \"f\", "
                      "\"description\": \"d\", \"parameters\": {\"type\": \"object\"}}}]}";
    nemo_error err = {0};
    nemo_chat *chat = NULL;
    CHECK_OK(nemo_chat_parse(req, strlen(req), &chat, &err), &err);
    int32_t *ids = NULL;
    size_t n;
    if (chat)
        CHECK(nemo_chat_encode(chat, smol, &ids, &n, &err) == NEMO_ERR_UNSUPPORTED &&
              strstr(err.msg, "tools") && !ids);
    nemo_chat_free(chat);
    /* a continued final assistant message ends right after its content */
    req = "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", "
          "\"content\": \"Hel\"}], \"continue_final_message\": true}";
    chat = NULL;
    CHECK_OK(nemo_chat_parse(req, strlen(req), &chat, &err), &err);
    if (chat) {
        CHECK_OK(nemo_chat_encode(chat, smol, &ids, &n, &err), &err);
        char text[2048];
        size_t tl;
        CHECK_OK(
            nemo_tokenizer_decode(smol, ids, n, NEMO_SPECIAL_KEEP, text, sizeof text, &tl, &err),
            &err);
        static const char tail[] = "<|im_end|>\n<|im_start|>assistant\nHel";
        CHECK_MSG(tl >= sizeof tail - 1 && !strcmp(text + tl - (sizeof tail - 1), tail), "%s",
                  text);
        free(ids);
    }
    nemo_chat_free(chat);
}

/* ---------------------------------------------------------------- GGUF builder */

typedef struct gb {
    uint8_t *p;
    size_t n, cap;
    uint64_t n_kv;
} gb;

static void put(gb *b, const void *s, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 256;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}
static void put_u32(gb *b, uint32_t v) {
    put(b, &v, 4);
}
static void put_u64(gb *b, uint64_t v) {
    put(b, &v, 8);
}
static void put_str(gb *b, const char *s, size_t n) {
    put_u64(b, n);
    put(b, s, n);
}
static void key(gb *b, const char *k, uint32_t type) {
    put_str(b, k, strlen(k));
    put_u32(b, type);
    b->n_kv++;
}
static void kv_str(gb *b, const char *k, const char *v) {
    key(b, k, NEMO_GGUF_STRING);
    put_str(b, v, strlen(v));
}
static void kv_u32(gb *b, const char *k, uint32_t v) {
    key(b, k, NEMO_GGUF_U32);
    put_u32(b, v);
}
static void kv_bool(gb *b, const char *k, int v) {
    key(b, k, NEMO_GGUF_BOOL);
    uint8_t c = (uint8_t)v;
    put(b, &c, 1);
}
static void kv_strs(gb *b, const char *k, const char *const *v, size_t n) {
    key(b, k, NEMO_GGUF_ARRAY);
    put_u32(b, NEMO_GGUF_STRING);
    put_u64(b, n);
    for (size_t i = 0; i < n; i++) put_str(b, v[i], strlen(v[i]));
}
static void kv_i32s(gb *b, const char *k, const int32_t *v, size_t n) {
    key(b, k, NEMO_GGUF_ARRAY);
    put_u32(b, NEMO_GGUF_I32);
    put_u64(b, n);
    put(b, v, n * 4);
}
static void kv_f32s(gb *b, const char *k, const float *v, size_t n) {
    key(b, k, NEMO_GGUF_ARRAY);
    put_u32(b, NEMO_GGUF_F32);
    put_u64(b, n);
    put(b, v, n * 4);
}

/* The whole file: header + the key/values collected in kvs (no tensors). */
static gb finish(gb *kvs) {
    gb f = {0};
    put(&f, "GGUF", 4);
    put_u32(&f, 3);
    put_u64(&f, 0);
    put_u64(&f, kvs->n_kv);
    put(&f, kvs->p, kvs->n);
    free(kvs->p);
    return f;
}

/* Opens the vocabulary of the GGUF bytes f (freed). */
static nemo_status open_vocab(gb f, nemo_tokenizer **out, nemo_error *err) {
    *out = NULL;
    nemo_gguf *g = NULL;
    nemo_status st = nemo_gguf_open_bytes(f.p, f.n, "vocab.gguf", &g, err);
    nemo_tokenizer *t = calloc(1, sizeof *t);
    t->kind = NEMO_TOKENIZER_GGUF;
    if (!st) st = nemo_gguf_vocab_load(g, t, err);
    nemo_gguf_free(g);
    free(f.p);
    if (st) {
        nemo_tokenizer_free(t);
        return st;
    }
    *out = t;
    return NEMO_OK;
}

/* ---------------------------------------------------------------- llama (SentencePiece) */

static void test_spm_gguf(void) {
    nemo_error err = {0};
    nemo_spm *s = NULL;
    CHECK_OK(nemo_spm_open(env_or("NEMO_SPM_V3", ".cache/fixtures/tokenizer.model.v3"), &s, &err),
             &err);
    json_t *golden = load_golden("tests/golden/gguf_vocab/spm_v3.json");
    if (!s || !golden) {
        nemo_spm_free(s);
        json_decref(golden);
        return;
    }
    /* the converter's view of tokenizer.model: pieces, scores, types (user-defined -> normal) */
    const char **str = malloc((size_t)s->n * sizeof *str);
    int32_t *type = malloc((size_t)s->n * sizeof *type);
    for (int32_t i = 0; i < s->n; i++) {
        str[i] = nemo_spm_str(s, i);
        type[i] = s->type[i] == NEMO_SPM_USER_DEFINED ? NEMO_SPM_NORMAL : s->type[i];
    }
    gb kv = {0};
    kv_str(&kv, "general.architecture", "llama");
    kv_str(&kv, "tokenizer.ggml.model", "llama");
    kv_u32(&kv, "tokenizer.ggml.bos_token_id", 1);
    kv_u32(&kv, "tokenizer.ggml.eos_token_id", 2);
    kv_u32(&kv, "tokenizer.ggml.unknown_token_id", 0);
    kv_strs(&kv, "tokenizer.ggml.tokens", str, (size_t)s->n);
    kv_f32s(&kv, "tokenizer.ggml.scores", s->score, (size_t)s->n);
    kv_i32s(&kv, "tokenizer.ggml.token_type", type, (size_t)s->n);
    kv_bool(&kv, "tokenizer.ggml.add_bos_token", 1);
    nemo_tokenizer *t;
    CHECK_OK(open_vocab(finish(&kv), &t, &err), &err);
    free(str);
    free(type);
    nemo_spm_free(s);
    if (t) {
        CHECK(nemo_tokenizer_get_kind(t) == NEMO_TOKENIZER_GGUF);
        CHECK(nemo_tokenizer_vocab_size(t) == 32768 && nemo_tokenizer_add_bos(t));
        CHECK(nemo_tokenizer_special_id(t, "[INST]") == 3);
        size_t i, n;
        json_t *c;
        json_array_foreach(json_object_get(golden, "cases"), i, c) {
            json_t *jt = json_object_get(c, "text");
            int32_t *ids = encode(t, json_string_value(jt), json_string_length(jt), &n);
            CHECK_MSG(ids_equal(ids, n, json_object_get(c, "ids")), "spm case %s",
                      json_string_value(json_object_get(c, "name")));
            free(ids);
        }
        json_t *be = json_object_get(golden, "bos_eos");
        int32_t ids[32];
        CHECK_OK(nemo_tokenizer_encode(t, "Hello!", 6, 1, 0, ids, 32, &n, &err), &err);
        CHECK(ids_equal(ids, n, json_object_get(be, "ids")));
        /* invalid UTF-8 stays bytes: <0xFF> is id 771 + 255 in Mistral's v3 vocabulary */
        CHECK_OK(nemo_tokenizer_encode(t, "\xff", 1, 0, 0, ids, 32, &n, &err), &err);
        CHECK(n == 2 && ids[1] == 771 + 255);
        char out[64];
        CHECK_OK(nemo_tokenizer_decode(t, (int32_t[]){1, 22557, 1117}, 3, NEMO_SPECIAL_SKIP, out,
                                       sizeof out, &n, &err),
                 &err);
        CHECK_MSG(n > 0 && out[0] != ' ', "%s", out);
    }
    nemo_tokenizer_free(t);
    json_decref(golden);
}

/* ---------------------------------------------------------------- small vocabularies */

/* A tiny gpt2 vocabulary: ids 0 <|endoftext|> (CONTROL), 1 a, 2 b, 3 ab, 4 c, 5 <user>
 * (USER_DEFINED), 6 Ġ (space), 7 Ġa; merges "a b", "Ġ a". */
typedef struct tiny {
    const char *model, *pre, *tpl;
    const char *tokens[8];
    int n_tokens, n_types;
    const char *merges[4];
    int n_merges;
    uint32_t bos;
    int merges_as_ints;
} tiny;

static tiny tiny_default(void) {
    return (tiny){.model = "gpt2",
                  .pre = "gpt-2",
                  .tokens = {"<|endoftext|>", "a", "b", "ab", "c", "<user>", "\xC4\xA0",
                             "\xC4\xA0"
                             "a"},
                  .n_tokens = 8,
                  .n_types = 8,
                  .merges = {"a b", "\xC4\xA0 a"},
                  .n_merges = 2,
                  .bos = 0};
}

static nemo_status tiny_open(const tiny *v, nemo_tokenizer **t, nemo_error *err) {
    static const int32_t types[8] = {3, 1, 1, 1, 1, 4, 1, 1};
    gb kv = {0};
    kv_str(&kv, "general.architecture", "llama");
    if (v->model) kv_str(&kv, "tokenizer.ggml.model", v->model);
    if (v->pre) kv_str(&kv, "tokenizer.ggml.pre", v->pre);
    kv_strs(&kv, "tokenizer.ggml.tokens", v->tokens, (size_t)v->n_tokens);
    kv_i32s(&kv, "tokenizer.ggml.token_type", types, (size_t)v->n_types);
    if (v->merges_as_ints)
        kv_i32s(&kv, "tokenizer.ggml.merges", types, 2);
    else if (v->n_merges >= 0)
        kv_strs(&kv, "tokenizer.ggml.merges", v->merges, (size_t)v->n_merges);
    kv_u32(&kv, "tokenizer.ggml.bos_token_id", v->bos);
    if (v->tpl) kv_str(&kv, "tokenizer.chat_template", v->tpl);
    return open_vocab(finish(&kv), t, err);
}

static void test_tiny_vocab(void) {
    tiny v = tiny_default();
    nemo_error err = {0};
    nemo_tokenizer *t;
    CHECK_OK(tiny_open(&v, &t, &err), &err);
    if (!t) return;
    size_t n;
    int32_t ids[16];
    /* USER_DEFINED tokens are cut out of text; CONTROL ones are not */
    CHECK_OK(nemo_tokenizer_encode(t, "abc<user>aab a", 14, 0, 0, ids, 16, &n, &err), &err);
    json_t *want = json_pack("[i,i,i,i,i,i]", 3, 4, 5, 1, 3, 7);
    CHECK(ids_equal(ids, n, want));
    json_decref(want);
    /* a CONTROL token's text is text; here its characters have no tokens at all, and bytes
     * without a token are dropped (as llama.cpp drops them) */
    CHECK_OK(nemo_tokenizer_encode(t, "<|endoftext|>", 13, 0, 0, ids, 16, &n, &err), &err);
    CHECK(n == 0);
    CHECK(nemo_tokenizer_encode(t, "ab", 2, 0, 0, ids, 0, &n, &err) == NEMO_ERR_FULL && n == 1);
    CHECK(nemo_tokenizer_add_bos(t) == 0 && nemo_tokenizer_eos_id(t) == -1);
    CHECK(nemo_tokenizer_encode(t, "a", 1, 0, 1, ids, 16, &n, &err) == NEMO_ERR_ARG &&
          strstr(err.msg, "EOS"));
    char out[64];
    CHECK_OK(nemo_tokenizer_decode(t, (int32_t[]){0, 3, 7, 5}, 4, NEMO_SPECIAL_KEEP, out,
                                   sizeof out, &n, &err),
             &err);
    CHECK(!strcmp(out, "<|endoftext|>ab a<user>"));
    CHECK_OK(nemo_tokenizer_decode(t, (int32_t[]){0, 3, 7, 5}, 4, NEMO_SPECIAL_SKIP, out,
                                   sizeof out, &n, &err),
             &err);
    CHECK(!strcmp(out, "ab a<user>"));
    CHECK(nemo_tokenizer_chat_template(t) == NULL);
    nemo_tokenizer_free(t);
}

static void expect_fail(const tiny *v, nemo_status want, const char *s1, const char *s2) {
    nemo_error err = {0};
    nemo_tokenizer *t;
    nemo_status st = tiny_open(v, &t, &err);
    CHECK_MSG(st == want && !t && strstr(err.msg, s1) && (!s2 || strstr(err.msg, s2)),
              "status %d: %s", (int)st, err.msg);
    nemo_tokenizer_free(t);
}

static void test_malformed(void) {
    tiny v = tiny_default();
    v.pre = "qwen2";
    expect_fail(&v, NEMO_ERR_UNSUPPORTED, "'qwen2'", "tokenizer.ggml.pre");
    v = tiny_default();
    v.pre = NULL;
    expect_fail(&v, NEMO_ERR_UNSUPPORTED, "tokenizer.ggml.pre", "missing");
    v = tiny_default();
    v.model = "bert";
    expect_fail(&v, NEMO_ERR_UNSUPPORTED, "'bert'", "tokenizer.ggml.model");
    v = tiny_default();
    v.model = NULL;
    expect_fail(&v, NEMO_ERR_MISSING, "tokenizer.ggml.model", NULL);
    v = tiny_default();
    v.n_types = 7; /* lengths disagree */
    expect_fail(&v, NEMO_ERR_FORMAT, "tokenizer.ggml.token_type", "7 entries for 8 tokens");
    v = tiny_default();
    v.merges[1] = "a z"; /* names an unknown token */
    expect_fail(&v, NEMO_ERR_FORMAT, "merge 1", "'z' that is not in tokenizer.ggml.tokens");
    v = tiny_default();
    v.merges[0] = "b a"; /* "ba" is no token */
    expect_fail(&v, NEMO_ERR_FORMAT, "merge 0", "merged token 'ba'");
    v = tiny_default();
    v.merges[0] = "ab";
    expect_fail(&v, NEMO_ERR_FORMAT, "merge 0", "separated by a space");
    v = tiny_default();
    v.merges_as_ints = 1; /* wrong array type */
    expect_fail(&v, NEMO_ERR_FORMAT, "tokenizer.ggml.merges", "array of i32");
    v = tiny_default();
    v.n_merges = -1;
    expect_fail(&v, NEMO_ERR_FORMAT, "tokenizer.ggml.merges", "missing");
    v = tiny_default();
    v.tokens[4] = "a"; /* duplicate */
    expect_fail(&v, NEMO_ERR_FORMAT, "tokens 1 and 4", NULL);
    v = tiny_default();
    v.bos = 8;
    expect_fail(&v, NEMO_ERR_FORMAT, "tokenizer.ggml.bos_token_id", "expected 0..7");
    /* tokens that are not strings */
    gb kv = {0};
    static const int32_t nums[2] = {1, 2};
    kv_str(&kv, "tokenizer.ggml.model", "gpt2");
    kv_str(&kv, "tokenizer.ggml.pre", "smollm");
    kv_i32s(&kv, "tokenizer.ggml.tokens", nums, 2);
    nemo_error err = {0};
    nemo_tokenizer *t;
    CHECK(open_vocab(finish(&kv), &t, &err) == NEMO_ERR_FORMAT &&
          strstr(err.msg, "tokenizer.ggml.tokens") && strstr(err.msg, "array of i32"));
    /* a llama vocabulary without scores, and with scores of the wrong length */
    static const char *toks[3] = {"<unk>", "a", "b"};
    static const float sc[2] = {0, 0};
    kv = (gb){0};
    kv_str(&kv, "tokenizer.ggml.model", "llama");
    kv_strs(&kv, "tokenizer.ggml.tokens", toks, 3);
    CHECK(open_vocab(finish(&kv), &t, &err) == NEMO_ERR_FORMAT &&
          strstr(err.msg, "tokenizer.ggml.scores"));
    kv = (gb){0};
    kv_str(&kv, "tokenizer.ggml.model", "llama");
    kv_strs(&kv, "tokenizer.ggml.tokens", toks, 3);
    kv_f32s(&kv, "tokenizer.ggml.scores", sc, 2);
    CHECK(open_vocab(finish(&kv), &t, &err) == NEMO_ERR_FORMAT &&
          strstr(err.msg, "2 entries for 3 tokens"));
}

static void test_unknown_template(void) {
    tiny v = tiny_default();
    v.tpl = "{{ bos_token }}{% for m in messages %}\n{{ m['content'] }}{% endfor %}";
    nemo_error err = {0};
    nemo_tokenizer *t;
    CHECK_OK(tiny_open(&v, &t, &err), &err);
    if (!t) return;
    CHECK(nemo_tokenizer_chat_template(t) && !strcmp(nemo_tokenizer_chat_template(t), v.tpl));
    nemo_chat *chat;
    CHECK_OK(nemo_chat_create(&chat, &err), &err);
    CHECK_OK(nemo_chat_add(chat, "user", "ab", 2, &err), &err);
    int32_t *ids = NULL;
    size_t n;
    CHECK(nemo_chat_encode(chat, t, &ids, &n, &err) == NEMO_ERR_UNSUPPORTED &&
          strstr(err.msg, "first line: {{ bos_token }}{% for m in messages %}") &&
          !strstr(err.msg, "m['content']") && !ids);
    nemo_chat_free(chat);
    nemo_tokenizer_free(t);
}

int main(void) {
    RUN(test_smollm2_open);
    RUN(test_smollm2_golden);
    RUN(test_smollm2_invalid_and_gpt2);
    RUN(test_smollm2_chat);
    RUN(test_spm_gguf);
    RUN(test_tiny_vocab);
    RUN(test_malformed);
    RUN(test_unknown_template);
    nemo_tokenizer_free(smol);
    json_decref(smol_golden);
    return test_finish();
}

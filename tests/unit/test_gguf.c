/* test_gguf.c — the GGUF reader: a small file written by the gguf Python package
 * (tests/golden/gguf/small.gguf, scripts/gguf_make_test.py), the real SmolLM2-135M Q4_1 fixture
 * ($NEMO_SMOLLM2), and corrupt files built byte by byte here, each of which must give a clear
 * error naming the file and the key or tensor. */
#include "backend/cpu/dequant.h"
#include "checkpoint/gguf.h"
#include "test.h"

/* ------------------------------------------------------------------ helpers */

static nemo_gguf *open_rel(const char *rel) {
    nemo_gguf *g = NULL;
    nemo_error err = {0};
    CHECK_OK(nemo_gguf_open(test_repo_path(rel), &g, &err), &err);
    return g;
}

/* Whether needle occurs in the len bytes at s. */
static int contains(const char *s, uint64_t len, const char *needle) {
    size_t n = strlen(needle);
    for (uint64_t i = 0; i + n <= len; i++)
        if (!memcmp(s + i, needle, n)) return 1;
    return 0;
}

static int str_is(const char *s, uint64_t len, const char *want) {
    return len == strlen(want) && memcmp(s, want, len) == 0;
}

/* ------------------------------------------------------------------ small.gguf */

static void test_small_metadata(void) {
    nemo_gguf *g = open_rel("tests/golden/gguf/small.gguf");
    if (!g) return;
    nemo_error err = {0};
    CHECK(g->version == 3);
    CHECK(g->alignment == 32);
    const char *s;
    uint64_t len;
    CHECK_OK(nemo_gguf_get_str(g, "general.architecture", &s, &len, &err), &err);
    CHECK(str_is(s, len, "llama"));
    CHECK_OK(nemo_gguf_get_str(g, "test.str", &s, &len, &err), &err);
    CHECK(str_is(s, len, "h\xc3\xa9llo"));
    uint32_t u32;
    int32_t i32;
    uint64_t u64;
    float f;
    int b;
    CHECK_OK(nemo_gguf_get_u32(g, "llama.attention.key_length", &u32, &err), &err);
    CHECK(u32 == 16);
    CHECK_OK(nemo_gguf_get_u32(g, "test.u8", &u32, &err), &err);
    CHECK(u32 == 200);
    CHECK_OK(nemo_gguf_get_i32(g, "test.i8", &i32, &err), &err);
    CHECK(i32 == -100);
    CHECK_OK(nemo_gguf_get_u32(g, "test.u16", &u32, &err), &err);
    CHECK(u32 == 60000);
    CHECK_OK(nemo_gguf_get_i32(g, "test.i16", &i32, &err), &err);
    CHECK(i32 == -30000);
    CHECK_OK(nemo_gguf_get_u32(g, "test.u32", &u32, &err), &err);
    CHECK(u32 == 4000000000u);
    CHECK_OK(nemo_gguf_get_i32(g, "test.i32", &i32, &err), &err);
    CHECK(i32 == -2000000000);
    CHECK_OK(nemo_gguf_get_u64(g, "test.u64", &u64, &err), &err);
    CHECK(u64 == 1ull << 40);
    CHECK_OK(nemo_gguf_get_f32(g, "test.f32", &f, &err), &err);
    CHECK(f == 1.5f);
    CHECK_OK(nemo_gguf_get_f32(g, "test.f64", &f, &err), &err);
    CHECK(f == 0.1f);
    CHECK_OK(nemo_gguf_get_f32(g, "llama.rope.freq_base", &f, &err), &err);
    CHECK(f == 1e6f);
    CHECK_OK(nemo_gguf_get_bool(g, "test.bool", &b, &err), &err);
    CHECK(b == 1);
    /* range and type checks */
    CHECK(nemo_gguf_get_i32(g, "test.u32", &i32, &err) == NEMO_ERR_FORMAT);
    CHECK(strstr(err.msg, "test.u32") && strstr(err.msg, "out of range"));
    CHECK(nemo_gguf_get_u32(g, "test.i8", &u32, &err) == NEMO_ERR_FORMAT);
    CHECK(nemo_gguf_get_u32(g, "test.i64", &u32, &err) == NEMO_ERR_FORMAT);
    CHECK(nemo_gguf_get_u32(g, "test.str", &u32, &err) == NEMO_ERR_FORMAT);
    CHECK(strstr(err.msg, "small.gguf") && strstr(err.msg, "'test.str'") &&
          strstr(err.msg, "string"));
    CHECK(nemo_gguf_get_u32(g, "no.such.key", &u32, &err) == NEMO_ERR_MISSING);
    CHECK(strstr(err.msg, "no.such.key") != NULL);
    CHECK(nemo_gguf_get_bool(g, "test.u8", &b, &err) == NEMO_ERR_FORMAT);
    CHECK(nemo_gguf_get_str(g, "test.u8", &s, &len, &err) == NEMO_ERR_FORMAT);
    /* arrays */
    nemo_gguf_array a;
    CHECK_OK(nemo_gguf_get_strings(g, "test.arr_str", &a, &err), &err);
    CHECK(a.count == 3);
    if (a.count == 3) {
        s = nemo_gguf_arr_str(&a, 0, &len);
        CHECK(str_is(s, len, "a"));
        s = nemo_gguf_arr_str(&a, 1, &len);
        CHECK(len == 0);
        s = nemo_gguf_arr_str(&a, 2, &len);
        CHECK(str_is(s, len, "ccc"));
    }
    CHECK_OK(nemo_gguf_get_ints(g, "test.arr_i16", &a, &err), &err);
    CHECK(a.count == 3 && nemo_gguf_arr_int(&a, 0) == -1 && nemo_gguf_arr_int(&a, 2) == -3);
    CHECK_OK(nemo_gguf_get_ints(g, "test.arr_bool", &a, &err), &err);
    CHECK(a.count == 3 && nemo_gguf_arr_int(&a, 0) == 1 && nemo_gguf_arr_int(&a, 1) == 0);
    CHECK_OK(nemo_gguf_get_floats(g, "test.arr_f32", &a, &err), &err);
    CHECK(a.count == 2 && nemo_gguf_arr_float(&a, 1) == -2.0);
    CHECK_OK(nemo_gguf_get_floats(g, "test.arr_f64", &a, &err), &err);
    CHECK(a.count == 1 && nemo_gguf_arr_float(&a, 0) == 0.25);
    CHECK(nemo_gguf_get_ints(g, "test.arr_str", &a, &err) == NEMO_ERR_FORMAT);
    CHECK(strstr(err.msg, "array of string") != NULL);
    CHECK(nemo_gguf_get_strings(g, "test.str", &a, &err) == NEMO_ERR_FORMAT);
    const nemo_gguf_kv *kv = nemo_gguf_find(g, "test.arr_nested");
    CHECK(kv && kv->type == NEMO_GGUF_ARRAY && kv->arr.type == NEMO_GGUF_ARRAY &&
          kv->arr.count == 2);
    kv = nemo_gguf_find(g, "test.arr_nested_str");
    CHECK(kv && kv->arr.type == NEMO_GGUF_ARRAY && kv->arr.count == 2);
    CHECK_OK(nemo_gguf_get_strings(g, "tokenizer.ggml.tokens", &a, &err), &err);
    CHECK(a.count == 8);
    s = nemo_gguf_arr_str(&a, 7, &len);
    CHECK(str_is(s, len, "\xc4\xa0\xc4\xa0"));
    CHECK_OK(nemo_gguf_get_ints(g, "tokenizer.ggml.token_type", &a, &err), &err);
    CHECK(a.count == 8 && nemo_gguf_arr_int(&a, 0) == 3 && nemo_gguf_arr_int(&a, 7) == 1);
    nemo_gguf_free(g);
    nemo_gguf_free(NULL);
}

static void test_small_tensors(void) {
    nemo_gguf *g = open_rel("tests/golden/gguf/small.gguf");
    if (!g) return;
    const nemo_tensor_dir *d = &g->dir;
    CHECK(d->n_entries == 24);
    CHECK(d->n_files == 1);
    const nemo_tensor_entry *e = nemo_tdir_find(d, "w.f32");
    CHECK(e && e->dtype == NEMO_DTYPE_F32 && e->ndim == 2 && e->shape[0] == 3 &&
          e->shape[1] == 64 && e->nbytes == 3 * 64 * 4 && e->file == 0);
    CHECK(e && e->file_offset % 32 == 0 &&
          e->data == (const uint8_t *)d->maps[0].data + e->file_offset);
    e = nemo_tdir_find(d, "cube");
    CHECK(e && e->ndim == 3 && e->shape[0] == 2 && e->shape[1] == 3 && e->shape[2] == 32);
    if (e) {
        float v[3];
        memcpy(v, (const uint8_t *)e->data + 4 * (1 * 96 + 2 * 32 + 5), sizeof v);
        CHECK(v[0] == 1 * 96 + 2 * 32 + 5); /* element [1][2][5], row-major */
    }
    e = nemo_tdir_find(d, "vec");
    CHECK(e && e->ndim == 1 && e->shape[0] == 7 && e->n_elems == 7);
    e = nemo_tdir_find(d, "empty");
    CHECK(e && e->ndim == 2 && e->shape[0] == 0 && e->shape[1] == 32 && e->nbytes == 0);
    /* every non-F32 tensor decodes to its .ref twin, bit for bit */
    static const struct {
        const char *name;
        nemo_dtype dt;
        int cols;
    } Q[] = {{"w.f16", NEMO_DTYPE_F16, 64},    {"w.bf16", NEMO_DTYPE_BF16, 64},
             {"w.q8_0", NEMO_DTYPE_Q8_0, 64},  {"w.q4_0", NEMO_DTYPE_Q4_0, 64},
             {"w.q4_1", NEMO_DTYPE_Q4_1, 64},  {"w.q5_0", NEMO_DTYPE_Q5_0, 64},
             {"w.q5_1", NEMO_DTYPE_Q5_1, 64},  {"w.q4_k", NEMO_DTYPE_Q4_K, 256},
             {"w.q5_k", NEMO_DTYPE_Q5_K, 256}, {"w.q6_k", NEMO_DTYPE_Q6_K, 256}};
    for (size_t i = 0; i < sizeof Q / sizeof Q[0]; i++) {
        char rn[64];
        snprintf(rn, sizeof rn, "%s.ref", Q[i].name);
        const nemo_tensor_entry *q = nemo_tdir_find(d, Q[i].name), *r = nemo_tdir_find(d, rn);
        CHECK_MSG(q && r, "%s", Q[i].name);
        if (!q || !r) continue;
        CHECK_MSG(q->dtype == Q[i].dt && q->ndim == 2 && q->shape[0] == 2 &&
                      q->shape[1] == (uint64_t)Q[i].cols &&
                      q->nbytes == nemo_dtype_bytes(Q[i].dt, 2 * (uint64_t)Q[i].cols),
                  "%s", Q[i].name);
        float got[512], want[512];
        CHECK(nemo_dequant_row(q->dtype, q->data, got, (int64_t)q->n_elems) == 0);
        memcpy(want, r->data, q->n_elems * 4);
        CHECK_MSG(memcmp(got, want, q->n_elems * 4) == 0, "%s decodes differently", Q[i].name);
    }
    nemo_gguf_free(g);
}

/* Every proper prefix of a valid file is rejected (and read within its bounds: each prefix
 * sits in its own exact-size heap buffer, so ASan sees any over-read). */
static void test_every_truncation(void) {
    char *buf = NULL;
    uint64_t len = 0;
    nemo_error err = {0};
    CHECK_OK(
        nemo_read_file(test_repo_path("tests/golden/gguf/small.gguf"), 1 << 20, &buf, &len, &err),
        &err);
    if (!buf) return;
    nemo_gguf *g = NULL;
    CHECK_OK(nemo_gguf_open_bytes((const uint8_t *)buf, len, "small.gguf", &g, &err), &err);
    CHECK(g && g->dir.n_entries == 24 && g->dir.n_files == 0 && g->dir.entries[0].file == -1);
    nemo_gguf_free(g);
    int accepted = 0;
    for (uint64_t n = 0; n < len; n++) {
        uint8_t *p = malloc(n ? n : 1);
        memcpy(p, buf, n);
        g = NULL;
        nemo_status st = nemo_gguf_open_bytes(p, n, "cut.gguf", &g, &err);
        if (st == NEMO_OK) {
            accepted++;
            nemo_gguf_free(g);
        } else if (st != NEMO_ERR_FORMAT || !strstr(err.msg, "cut.gguf")) {
            CHECK_MSG(0, "prefix %llu: status %d: %s", (unsigned long long)n, st, err.msg);
        }
        CHECK(g == NULL || st == NEMO_OK);
        free(p);
    }
    CHECK_MSG(accepted == 0, "%d truncated files accepted", accepted);
    free(buf);
}

/* ------------------------------------------------------------------ the real model */

static void test_smollm2(void) {
    const char *path = getenv("NEMO_SMOLLM2");
    if (!path || !*path) path = test_repo_path(".cache/fixtures/SmolLM2-135M-Instruct.Q4_1.gguf");
    nemo_gguf *g = NULL;
    nemo_error err = {0};
    CHECK_OK(nemo_gguf_open(path, &g, &err), &err);
    if (!g) {
        fprintf(stderr, "  (fetch it with: python3 scripts/fixture.py "
                        "SmolLM2-135M-Instruct.Q4_1.gguf)\n");
        return;
    }
    const char *s;
    uint64_t len;
    uint32_t u;
    float f;
    CHECK_OK(nemo_gguf_get_str(g, "general.architecture", &s, &len, &err), &err);
    CHECK(str_is(s, len, "llama"));
    static const struct {
        const char *key;
        uint32_t want;
    } U[] = {{"llama.block_count", 30},          {"llama.context_length", 8192},
             {"llama.embedding_length", 576},    {"llama.feed_forward_length", 1536},
             {"llama.attention.head_count", 9},  {"llama.attention.head_count_kv", 3},
             {"llama.vocab_size", 49152},        {"llama.rope.dimension_count", 64},
             {"general.file_type", 3},           {"tokenizer.ggml.bos_token_id", 1},
             {"tokenizer.ggml.eos_token_id", 2}, {"general.quantization_version", 2}};
    for (size_t i = 0; i < sizeof U / sizeof U[0]; i++) {
        u = 0;
        CHECK_OK(nemo_gguf_get_u32(g, U[i].key, &u, &err), &err);
        CHECK_MSG(u == U[i].want, "%s = %u, want %u", U[i].key, u, U[i].want);
    }
    CHECK_OK(nemo_gguf_get_f32(g, "llama.rope.freq_base", &f, &err), &err);
    CHECK(f == 100000.0f);
    CHECK_OK(nemo_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &f, &err), &err);
    CHECK(f == 1e-5f);
    CHECK_OK(nemo_gguf_get_str(g, "tokenizer.ggml.model", &s, &len, &err), &err);
    CHECK(str_is(s, len, "gpt2"));
    CHECK_OK(nemo_gguf_get_str(g, "tokenizer.ggml.pre", &s, &len, &err), &err);
    CHECK(str_is(s, len, "smollm"));
    nemo_gguf_array a;
    CHECK_OK(nemo_gguf_get_strings(g, "tokenizer.ggml.tokens", &a, &err), &err);
    CHECK(a.count == 49152);
    CHECK_OK(nemo_gguf_get_strings(g, "tokenizer.ggml.merges", &a, &err), &err);
    CHECK(a.count == 48900);
    CHECK_OK(nemo_gguf_get_ints(g, "tokenizer.ggml.token_type", &a, &err), &err);
    CHECK(a.count == 49152);
    CHECK_OK(nemo_gguf_get_str(g, "tokenizer.chat_template", &s, &len, &err), &err);
    CHECK(len > 100 && contains(s, len, "<|im_start|>"));
    /* tensors: 30 layers × 9 + token_embd + output_norm, tied embeddings (no output.weight) */
    const nemo_tensor_dir *d = &g->dir;
    CHECK(d->n_entries == 272);
    CHECK(nemo_tdir_find(d, "output.weight") == NULL);
    const nemo_tensor_entry *e = nemo_tdir_find(d, "token_embd.weight");
    CHECK(e && e->dtype == NEMO_DTYPE_Q8_0 && e->ndim == 2 && e->shape[0] == 49152 &&
          e->shape[1] == 576 && e->nbytes == 49152ull * 576 / 32 * 34);
    e = nemo_tdir_find(d, "output_norm.weight");
    CHECK(e && e->dtype == NEMO_DTYPE_F32 && e->ndim == 1 && e->shape[0] == 576);
    static const struct {
        const char *suffix;
        nemo_dtype dt;
        uint64_t out, in; /* in == 0: a vector */
    } L[] = {{"attn_norm.weight", NEMO_DTYPE_F32, 576, 0},
             {"ffn_norm.weight", NEMO_DTYPE_F32, 576, 0},
             {"attn_q.weight", NEMO_DTYPE_Q4_1, 576, 576},
             {"attn_k.weight", NEMO_DTYPE_Q4_1, 192, 576},
             {"attn_v.weight", NEMO_DTYPE_Q4_1, 192, 576},
             {"attn_output.weight", NEMO_DTYPE_Q4_1, 576, 576},
             {"ffn_gate.weight", NEMO_DTYPE_Q4_1, 1536, 576},
             {"ffn_up.weight", NEMO_DTYPE_Q4_1, 1536, 576},
             {"ffn_down.weight", NEMO_DTYPE_Q4_1, 576, 1536}};
    int found = 0;
    for (int layer = 0; layer < 30; layer++) {
        for (size_t k = 0; k < sizeof L / sizeof L[0]; k++) {
            char name[64];
            snprintf(name, sizeof name, "blk.%d.%s", layer, L[k].suffix);
            e = nemo_tdir_find(d, name);
            int ok = e && e->dtype == L[k].dt && e->ndim == (L[k].in ? 2 : 1) &&
                     e->shape[0] == L[k].out && (!L[k].in || e->shape[1] == L[k].in);
            CHECK_MSG(ok, "%s", name);
            found += ok;
        }
    }
    CHECK(found == 270);
    /* weights decode to finite, plausibly scaled values */
    e = nemo_tdir_find(d, "blk.0.attn_q.weight");
    if (e) {
        float row[576];
        double ss = 0;
        CHECK(nemo_dequant_row(e->dtype, e->data, row, 576) == 0);
        for (int i = 0; i < 576; i++) ss += (double)row[i] * row[i];
        CHECK(isfinite(ss) && ss > 1e-3 && ss < 1e4);
    }
    nemo_gguf_free(g);
}

/* ------------------------------------------------------------------ corrupt files */

typedef struct {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void put_u32(buf *b, uint32_t v) {
    uint8_t x[4];
    for (int i = 0; i < 4; i++) x[i] = (uint8_t)(v >> (8 * i));
    put(b, x, 4);
}
static void put_u64(buf *b, uint64_t v) {
    uint8_t x[8];
    for (int i = 0; i < 8; i++) x[i] = (uint8_t)(v >> (8 * i));
    put(b, x, 8);
}
static void put_str(buf *b, const char *s) {
    put_u64(b, strlen(s));
    put(b, s, strlen(s));
}
static void kv_str(buf *b, const char *k, const char *v) {
    put_str(b, k);
    put_u32(b, NEMO_GGUF_STRING);
    put_str(b, v);
}
static void kv_u32(buf *b, const char *k, uint32_t v) {
    put_str(b, k);
    put_u32(b, NEMO_GGUF_U32);
    put_u32(b, v);
}

typedef struct {
    const char *name;
    uint32_t nd;
    uint64_t ne[5];
    uint32_t type;
    uint64_t off;
} tspec;

/* Default file: two tensors, "a" F32 [8] at 0 and "b" Q4_0 ne [32, 2] at 32 (36 bytes). */
typedef struct {
    uint32_t version;
    int64_t n_tensors, n_kv; /* -1: the real counts */
    buf kv;                  /* key/values; empty: one general.architecture */
    int n_kv_real;
    tspec t[4];
    int nt;
    uint64_t data_bytes;
} spec;

static spec default_spec(void) {
    spec s = {3, -1, -1, {0}, 0, {{0}}, 2, 96};
    s.t[0] = (tspec){"a", 1, {8}, 0, 0};
    s.t[1] = (tspec){"b", 2, {32, 2}, 2, 32};
    return s;
}

static buf build(spec *s) {
    buf b = {0};
    if (s->kv.n == 0) {
        kv_str(&s->kv, "general.architecture", "llama");
        s->n_kv_real = 1;
    }
    put(&b, "GGUF", 4);
    put_u32(&b, s->version);
    put_u64(&b, (uint64_t)(s->n_tensors >= 0 ? s->n_tensors : s->nt));
    put_u64(&b, (uint64_t)(s->n_kv >= 0 ? s->n_kv : s->n_kv_real));
    put(&b, s->kv.p, s->kv.n);
    for (int i = 0; i < s->nt; i++) {
        put_str(&b, s->t[i].name);
        put_u32(&b, s->t[i].nd);
        for (uint32_t d = 0; d < s->t[i].nd && d < 5; d++) put_u64(&b, s->t[i].ne[d]);
        put_u32(&b, s->t[i].type);
        put_u64(&b, s->t[i].off);
    }
    static const uint8_t zeros[32] = {0};
    put(&b, zeros, (32 - b.n % 32) % 32);
    for (uint64_t i = 0; i < s->data_bytes; i++) {
        uint8_t v = (uint8_t)(i * 7);
        put(&b, &v, 1);
    }
    free(s->kv.p);
    return b;
}

/* Parses b (in an exact-size buffer) expecting status want and every needle in the message. */
static void expect(buf b, nemo_status want, const char *n1, const char *n2) {
    uint8_t *p = malloc(b.n ? b.n : 1);
    memcpy(p, b.p, b.n);
    nemo_gguf *g = NULL;
    nemo_error err = {0};
    nemo_status st = nemo_gguf_open_bytes(p, b.n, "test.gguf", &g, &err);
    CHECK_MSG(st == want, "status %d, want %d: %s", st, want, st ? err.msg : "(accepted)");
    if (st != NEMO_OK && getenv("NEMO_TEST_VERBOSE")) fprintf(stderr, "    %s\n", err.msg);
    if (st != NEMO_OK) {
        CHECK_MSG(strstr(err.msg, "test.gguf: offset ") == err.msg, "%s", err.msg);
        if (n1) CHECK_MSG(strstr(err.msg, n1) != NULL, "'%s' not in: %s", n1, err.msg);
        if (n2) CHECK_MSG(strstr(err.msg, n2) != NULL, "'%s' not in: %s", n2, err.msg);
        CHECK(g == NULL);
    }
    nemo_gguf_free(g);
    free(p);
    free(b.p);
}

static void test_builder_valid(void) {
    spec s = default_spec();
    buf b = build(&s);
    nemo_gguf *g = NULL;
    nemo_error err = {0};
    CHECK_OK(nemo_gguf_open_bytes(b.p, b.n, "test.gguf", &g, &err), &err);
    if (g) {
        CHECK(g->dir.n_entries == 2);
        const nemo_tensor_entry *e = nemo_tdir_find(&g->dir, "b");
        CHECK(e && e->dtype == NEMO_DTYPE_Q4_0 && e->shape[0] == 2 && e->shape[1] == 32 &&
              e->nbytes == 36 && e->file_offset == g->data_start + 32);
    }
    nemo_gguf_free(g);
    free(b.p);
}

static void test_bad_magic_version(void) {
    spec s = default_spec();
    buf b = build(&s);
    b.p[0] = 'X';
    expect(b, NEMO_ERR_FORMAT, "not a GGUF file", NULL);
    s = default_spec();
    s.version = 1;
    expect(build(&s), NEMO_ERR_UNSUPPORTED, "version 1", NULL);
    s = default_spec();
    s.version = 2; /* v2 has the same layout as v3 */
    expect(build(&s), NEMO_OK, NULL, NULL);
    s = default_spec();
    s.version = 4;
    expect(build(&s), NEMO_ERR_FORMAT, "version 4", NULL);
    s = default_spec();
    s.version = 0x03000000;
    expect(build(&s), NEMO_ERR_UNSUPPORTED, "big-endian", NULL);
    buf tiny = {0};
    put(&tiny, "GGU", 3);
    expect(tiny, NEMO_ERR_FORMAT, "truncated header", NULL);
    buf hdr = {0};
    put(&hdr, "GGUF", 4);
    put_u32(&hdr, 3);
    put_u32(&hdr, 0);
    expect(hdr, NEMO_ERR_FORMAT, "tensor count", "truncated");
}

static void test_huge_counts(void) {
    spec s = default_spec();
    s.n_tensors = (int64_t)1 << 40;
    expect(build(&s), NEMO_ERR_FORMAT, "cannot fit", NULL);
    s = default_spec();
    s.n_kv = INT64_MAX;
    expect(build(&s), NEMO_ERR_FORMAT, "cannot fit", NULL);
    s = default_spec();
    s.n_tensors = -1 - 0; /* real count, but a kv count just past what is there */
    s.n_kv = 3;
    expect(build(&s), NEMO_ERR_FORMAT, NULL, NULL);
}

static void test_bad_strings(void) {
    spec s = default_spec();
    put_u64(&s.kv, 1ull << 62); /* key length past EOF */
    put(&s.kv, "k", 1);
    s.n_kv_real = 1;
    expect(build(&s), NEMO_ERR_FORMAT, "key/value 0", "runs past the end");
    s = default_spec();
    put_str(&s.kv, "general.name");
    put_u32(&s.kv, NEMO_GGUF_STRING);
    put_u64(&s.kv, 1000000); /* value length past EOF */
    s.n_kv_real = 1;
    expect(build(&s), NEMO_ERR_FORMAT, "'general.name'", "runs past the end");
    s = default_spec();
    kv_str(&s.kv, "", "x");
    s.n_kv_real = 1;
    expect(build(&s), NEMO_ERR_FORMAT, "key is empty", NULL);
    s = default_spec();
    s.t[0].name = "a_name_that_is_exactly_sixty_four_bytes_long_which_ggml_rejects_";
    expect(build(&s), NEMO_ERR_FORMAT, "tensor info 0", "name of 64 bytes");
}

static void test_bad_values(void) {
    spec s = default_spec();
    put_str(&s.kv, "x.type");
    put_u32(&s.kv, 13);
    put_u32(&s.kv, 0);
    s.n_kv_real = 1;
    expect(build(&s), NEMO_ERR_FORMAT, "'x.type'", "unknown value type 13");
    s = default_spec();
    put_str(&s.kv, "x.bool");
    put_u32(&s.kv, NEMO_GGUF_BOOL);
    uint8_t two = 2;
    put(&s.kv, &two, 1);
    s.n_kv_real = 1;
    expect(build(&s), NEMO_ERR_FORMAT, "'x.bool'", "neither 0 nor 1");
    s = default_spec();
    put_str(&s.kv, "x.arr");
    put_u32(&s.kv, NEMO_GGUF_ARRAY);
    put_u32(&s.kv, 77);
    put_u64(&s.kv, 1);
    s.n_kv_real = 1;
    expect(build(&s), NEMO_ERR_FORMAT, "'x.arr'", "unknown array element type 77");
    s = default_spec();
    put_str(&s.kv, "x.arr");
    put_u32(&s.kv, NEMO_GGUF_ARRAY);
    put_u32(&s.kv, NEMO_GGUF_U32);
    put_u64(&s.kv, 1ull << 61); /* count × 4 overflows */
    s.n_kv_real = 1;
    expect(build(&s), NEMO_ERR_FORMAT, "'x.arr'", "array of");
    s = default_spec();
    put_str(&s.kv, "x.strs");
    put_u32(&s.kv, NEMO_GGUF_ARRAY);
    put_u32(&s.kv, NEMO_GGUF_STRING);
    put_u64(&s.kv, 2);
    put_str(&s.kv, "ok");
    put_u64(&s.kv, 5000); /* second string runs past EOF */
    s.n_kv_real = 1;
    expect(build(&s), NEMO_ERR_FORMAT, "'x.strs'", "runs past the end");
    s = default_spec();
    put_str(&s.kv, "x.deep");
    put_u32(&s.kv, NEMO_GGUF_ARRAY);
    for (int i = 0; i < 12; i++) {
        put_u32(&s.kv, NEMO_GGUF_ARRAY);
        put_u64(&s.kv, 1);
    }
    put_u32(&s.kv, NEMO_GGUF_U8);
    put_u64(&s.kv, 0);
    s.n_kv_real = 1;
    expect(build(&s), NEMO_ERR_FORMAT, "'x.deep'", "nested deeper");
    s = default_spec();
    kv_u32(&s.kv, "general.architecture", 1);
    kv_u32(&s.kv, "general.architecture", 2);
    s.n_kv_real = 2;
    expect(build(&s), NEMO_ERR_FORMAT, "'general.architecture' appears twice", NULL);
}

static void test_bad_alignment(void) {
    spec s = default_spec();
    kv_u32(&s.kv, "general.alignment", 24);
    s.n_kv_real = 1;
    expect(build(&s), NEMO_ERR_FORMAT, "general.alignment", "power of two");
    s = default_spec();
    put_str(&s.kv, "general.alignment");
    put_u32(&s.kv, NEMO_GGUF_I32);
    put_u32(&s.kv, 32);
    s.n_kv_real = 1;
    expect(build(&s), NEMO_ERR_FORMAT, "general.alignment", "expected u32");
    /* a valid custom alignment of 16 makes offset 16 legal and 8 not */
    s = default_spec();
    kv_u32(&s.kv, "general.alignment", 16);
    s.n_kv_real = 1;
    s.t[1].off = 48;
    expect(build(&s), NEMO_OK, NULL, NULL);
    s = default_spec();
    kv_u32(&s.kv, "general.alignment", 16);
    s.n_kv_real = 1;
    s.t[1].off = 40;
    expect(build(&s), NEMO_ERR_FORMAT, "tensor 'b'", "not a multiple of the alignment 16");
}

static void test_bad_tensors(void) {
    spec s = default_spec();
    s.t[1].off = 36; /* misaligned */
    expect(build(&s), NEMO_ERR_FORMAT, "tensor 'b'", "alignment 32");
    s = default_spec();
    s.t[1].off = 64; /* 64 + 36 > 96 */
    expect(build(&s), NEMO_ERR_FORMAT, "tensor 'b'", "runs past the data section");
    s = default_spec();
    s.t[1].off = UINT64_MAX - 31; /* aligned, but offset + size overflows */
    expect(build(&s), NEMO_ERR_FORMAT, "tensor 'b'", "runs past");
    s = default_spec();
    s.t[1].type = 99;
    expect(build(&s), NEMO_ERR_FORMAT, "tensor 'b'", "unknown ggml type 99");
    s = default_spec();
    s.t[1].type = 11;
    expect(build(&s), NEMO_ERR_UNSUPPORTED, "tensor 'b'", "Q3_K");
    s = default_spec();
    s.t[1].ne[0] = 16; /* Q4_0 rows must be whole 32-value blocks */
    expect(build(&s), NEMO_ERR_FORMAT, "tensor 'b'", "block size 32");
    s = default_spec();
    s.t[0].nd = 5;
    expect(build(&s), NEMO_ERR_FORMAT, "tensor 'a'", "5 dimensions");
    s = default_spec();
    s.t[0].ne[0] = (uint64_t)-8; /* negative as i64 */
    expect(build(&s), NEMO_ERR_FORMAT, "tensor 'a'", "dimension 0");
    s = default_spec();
    s.t[1].ne[0] = 1ull << 32;
    s.t[1].ne[1] = 1ull << 32; /* product overflows int64 */
    expect(build(&s), NEMO_ERR_FORMAT, "tensor 'b'", "overflow");
    s = default_spec();
    s.t[1].name = "a";
    expect(build(&s), NEMO_ERR_FORMAT, "tensor 'a' appears twice", NULL);
    s = default_spec();
    s.t[1].off = 0; /* overlaps 'a' */
    expect(build(&s), NEMO_ERR_FORMAT, "overlaps", NULL);
    s = default_spec();
    s.data_bytes = 0; /* tensor infos end the file: data section missing */
    expect(build(&s), NEMO_ERR_FORMAT, "tensor 'a'", "runs past the data section");
    s = default_spec();
    s.nt = 0; /* metadata only: no data section needed */
    s.data_bytes = 0;
    expect(build(&s), NEMO_OK, NULL, NULL);
    s = default_spec();
    s.t[0] = (tspec){"scalar", 0, {0}, 0, 0}; /* 0-d tensor: one element */
    expect(build(&s), NEMO_OK, NULL, NULL);
}

/* ------------------------------------------------------------------ hyperparameters */

static void test_config_small_and_smollm2(void) {
    nemo_gguf *g = open_rel("tests/golden/gguf/small.gguf");
    nemo_config c;
    nemo_error err = {0};
    if (g) {
        CHECK_OK(nemo_gguf_config(g, &c, &err), &err);
        /* head_dim 16 comes from key_length (64 / 4 would also be 16: see the NeMo case below) */
        CHECK(c.dim == 64 && c.n_layers == 2 && c.n_heads == 4 && c.n_kv_heads == 2 &&
              c.head_dim == 16 && c.hidden_dim == 128 && c.vocab_size == 8);
        CHECK(c.norm_eps == 1e-5f && c.rope_theta == 1e6f && c.max_seq_len == 4096);
        CHECK(c.tied_embeddings == 1 && c.bos_id == 1 && c.eos_id == 2);
        CHECK(c.sliding_window == 0 && c.layout == NEMO_LAYOUT_GGUF);
        nemo_gguf_free(g);
    }
    const char *path = getenv("NEMO_SMOLLM2");
    if (!path || !*path) path = test_repo_path(".cache/fixtures/SmolLM2-135M-Instruct.Q4_1.gguf");
    g = NULL;
    CHECK_OK(nemo_gguf_open(path, &g, &err), &err);
    if (g) {
        CHECK_OK(nemo_gguf_config(g, &c, &err), &err);
        CHECK(c.dim == 576 && c.n_layers == 30 && c.n_heads == 9 && c.n_kv_heads == 3 &&
              c.head_dim == 64 && c.hidden_dim == 1536 && c.vocab_size == 49152);
        CHECK(c.norm_eps == 1e-5f && c.rope_theta == 1e5f && c.max_seq_len == 8192);
        CHECK(c.tied_embeddings == 1 && c.bos_id == 1 && c.eos_id == 2);
        nemo_gguf_free(g);
    }
}

/* A metadata-only file with the given key/values, through nemo_gguf_config. */
static nemo_status config_of(spec *s, nemo_config *c, nemo_error *err) {
    s->nt = 0;
    s->data_bytes = 0;
    buf b = build(s);
    nemo_gguf *g = NULL;
    nemo_status st = nemo_gguf_open_bytes(b.p, b.n, "cfg.gguf", &g, err);
    CHECK_MSG(st == NEMO_OK, "%s", err->msg);
    if (!st) st = nemo_gguf_config(g, c, err);
    nemo_gguf_free(g);
    free(b.p);
    return st;
}

/* NeMo's shape (spec 2e): head_dim 128 from key_length although 5120 / 32 = 160. */
static void nemo_kvs(spec *s, const char *arch, int heads, int kv_heads) {
    kv_str(&s->kv, "general.architecture", arch);
    kv_u32(&s->kv, "llama.embedding_length", 5120);
    kv_u32(&s->kv, "llama.block_count", 40);
    kv_u32(&s->kv, "llama.attention.head_count", (uint32_t)heads);
    kv_u32(&s->kv, "llama.attention.head_count_kv", (uint32_t)kv_heads);
    kv_u32(&s->kv, "llama.attention.key_length", 128);
    kv_u32(&s->kv, "llama.attention.value_length", 128);
    kv_u32(&s->kv, "llama.feed_forward_length", 14336);
    kv_u32(&s->kv, "llama.context_length", 1024000);
    kv_u32(&s->kv, "llama.vocab_size", 131072);
    put_str(&s->kv, "llama.attention.layer_norm_rms_epsilon");
    put_u32(&s->kv, NEMO_GGUF_F32);
    float eps = 1e-5f;
    uint32_t u;
    memcpy(&u, &eps, 4);
    put_u32(&s->kv, u);
    s->n_kv_real = 11;
}

static void test_config_errors(void) {
    nemo_config c;
    nemo_error err = {0};
    spec s = default_spec();
    nemo_kvs(&s, "llama", 32, 8);
    CHECK_OK(config_of(&s, &c, &err), &err);
    CHECK(c.head_dim == 128 && c.n_heads == 32 && c.n_kv_heads == 8 && c.max_seq_len == 131072);
    CHECK(c.rope_theta == 10000.0f && c.bos_id == -1 && c.vocab_size == 131072);
    s = default_spec();
    nemo_kvs(&s, "mistral3", 32, 8);
    CHECK(config_of(&s, &c, &err) == NEMO_ERR_UNSUPPORTED && strstr(err.msg, "mistral3"));
    s = default_spec();
    nemo_kvs(&s, "llama", 32, 5);
    CHECK(config_of(&s, &c, &err) == NEMO_ERR_CONFIG && strstr(err.msg, "head_count_kv 5"));
    s = default_spec();
    nemo_kvs(&s, "llama", 32, 8);
    kv_u32(&s.kv, "llama.rope.dimension_count", 64);
    s.n_kv_real++;
    CHECK(config_of(&s, &c, &err) == NEMO_ERR_UNSUPPORTED && strstr(err.msg, "partial rotary"));
    s = default_spec();
    nemo_kvs(&s, "llama", 32, 8);
    put_str(&s.kv, "tokenizer.ggml.tokens");
    put_u32(&s.kv, NEMO_GGUF_ARRAY);
    put_u32(&s.kv, NEMO_GGUF_STRING);
    put_u64(&s.kv, 2);
    put_str(&s.kv, "a");
    put_str(&s.kv, "b");
    s.n_kv_real++;
    CHECK(config_of(&s, &c, &err) == NEMO_ERR_CONFIG && strstr(err.msg, "has 2 entries"));
    s = default_spec();
    kv_str(&s.kv, "general.architecture", "llama");
    s.n_kv_real = 1;
    CHECK(config_of(&s, &c, &err) == NEMO_ERR_MISSING &&
          strstr(err.msg, "cfg.gguf: key 'llama.embedding_length' is missing"));
}

static void test_open_errors(void) {
    nemo_gguf *g = NULL;
    nemo_error err = {0};
    CHECK(nemo_gguf_open("/nonexistent/x.gguf", &g, &err) == NEMO_ERR_IO && g == NULL);
    /* an empty file */
    char path[1024];
    snprintf(path, sizeof path, "%s/empty.gguf", test_tmpdir());
    FILE *f = fopen(path, "wb");
    if (f) fclose(f);
    CHECK(nemo_gguf_open(path, &g, &err) == NEMO_ERR_FORMAT && g == NULL);
    CHECK(strstr(err.msg, "empty.gguf: offset 0: truncated header") != NULL);
}

int main(void) {
    RUN(test_small_metadata);
    RUN(test_small_tensors);
    RUN(test_every_truncation);
    RUN(test_smollm2);
    RUN(test_builder_valid);
    RUN(test_bad_magic_version);
    RUN(test_huge_counts);
    RUN(test_bad_strings);
    RUN(test_bad_values);
    RUN(test_bad_alignment);
    RUN(test_bad_tensors);
    RUN(test_config_small_and_smollm2);
    RUN(test_config_errors);
    RUN(test_open_errors);
    return test_finish();
}

/* test_quantize.c — `nemo quantize` end to end on small synthetic folders: every output type
 * loads back through our engine with logits close to the bf16 folder's (per-type tolerances
 * below); the GGUF carries llama.cpp's metadata and tensor types; HF and native folders of
 * one seed give byte-identical tensor data (q/k rows un-permuted to GGUF order); the FP8
 * extension round-trips; the Q4_K encoder writes ggml's bytes (golden made by ggml itself);
 * and the Tekken vocabulary matches what llama.cpp's converter writes (golden from gguf-py). */
#include "backend/cpu/quant.h"
#include "checkpoint/gguf.h"
#include "checkpoint/gguf_write.h"
#include "model/model.h"
#include "quantize/quantize.h"
#include "test.h"

#include <jansson.h>

#define VOCAB 512
static const int32_t PROMPT[] = {1, 17, 99, 3, 45, 8, 100, 12, 7, 64, 150, 2, 511, 300};
#define NP ((int)(sizeof PROMPT / sizeof PROMPT[0]))

static const char *synth(const char *name, nemo_layout layout, nemo_dtype dt) {
    nemo_synth_params p;
    nemo_synth_defaults(&p);
    p.cfg.dim = 256; /* every row a multiple of Q4_K's 256 */
    p.cfg.n_layers = 2;
    p.cfg.n_heads = 4;
    p.cfg.n_kv_heads = 2;
    p.cfg.head_dim = 64; /* != dim / heads, like NeMo */
    p.cfg.hidden_dim = 512;
    p.cfg.vocab_size = VOCAB;
    p.cfg.layout = layout;
    p.dtype = dt;
    p.seed = 31;
    const char *dir = test_sub(name);
    nemo_error err = {0};
    CHECK_OK(nemo_synth_write(&p, dir, NULL, NULL, &err), &err);
    return dir;
}

/* Logits of every PROMPT position into a malloc'd [NP * VOCAB], or NULL. */
static float *run(const char *path) {
    nemo_model *m = NULL;
    nemo_error err = {0};
    nemo_status st = nemo_model_open(path, &m, &err);
    CHECK_OK(st, &err);
    if (st) return NULL;
    nemo_session_params sp = {32, 1, 16, 2};
    nemo_session *s = NULL;
    CHECK_OK(nemo_session_create(m, &sp, &s, &err), &err);
    int32_t pos[NP], seq[NP];
    int8_t want[NP];
    for (int i = 0; i < NP; i++) pos[i] = i, seq[i] = 0, want[i] = 1;
    nemo_batch b = {NP, PROMPT, pos, seq, want};
    float *out = calloc((size_t)NP * VOCAB, sizeof *out);
    CHECK_OK(nemo_session_decode(s, &b, &err), &err);
    for (int i = 0; i < NP; i++) {
        const float *lg = nemo_session_logits(s, i);
        if (lg) memcpy(out + i * VOCAB, lg, sizeof(float) * VOCAB);
    }
    nemo_session_free(s);
    nemo_model_free(m);
    return out;
}

static const char *quantize(const char *in, const char *name, nemo_dtype t) {
    static char bufs[4][1024];
    static int k;
    k = (k + 1) % 4;
    char *out = bufs[k];
    snprintf(out, sizeof bufs[k], "%s", test_sub(name));
    nemo_quantize_params p = {0};
    p.type = t;
    p.n_threads = 2;
    nemo_error err = {0};
    CHECK_OK(nemo_quantize(in, out, &p, &err), &err);
    return out;
}

static uint32_t kv_u32(const nemo_gguf *g, const char *key) {
    uint32_t v = 0;
    nemo_error err = {0};
    CHECK_OK(nemo_gguf_get_u32(g, key, &v, &err), &err);
    return v;
}

/* What each type may change on this model (max |logit| ~7; measured max |dlogit| in brackets):
 * bf16 is the same weights, identical logits [0]; f16 holds the bf16 values but for the few
 * below f16's normal range [2.4e-6]; q8_0 [0.077]; fp8, 3 mantissa bits [0.35]; q4_k [0.92];
 * q4_0 [1.19]. Limits are ~3x the measured values (0 for bf16). */
static const struct {
    nemo_dtype t;
    const char *tag;
    uint32_t ggml_type, file_type;
    float max_diff;
    int min_top1;
} TYPES[] = {
    {NEMO_DTYPE_BF16, "bf16", 30, 32, 0.0f, NP},
    {NEMO_DTYPE_F16, "f16", 1, 1, 1e-5f, NP},
    {NEMO_DTYPE_Q8_0, "q8_0", 8, 7, 0.25f, NP - 2},
    {NEMO_DTYPE_F8_E4M3, "fp8", 24, 0, 1.0f, NP - 3},
    {NEMO_DTYPE_Q4_K, "q4_k", 12, 14, 3.0f, NP - 6},
    {NEMO_DTYPE_Q4_0, "q4_0", 2, 2, 3.0f, NP - 6},
};

static void test_types_roundtrip(void) {
    char nat[1024], hf[1024];
    snprintf(nat, sizeof nat, "%s", synth("bf16_native", NEMO_LAYOUT_NATIVE, NEMO_DTYPE_BF16));
    snprintf(hf, sizeof hf, "%s", synth("bf16_hf", NEMO_LAYOUT_HF, NEMO_DTYPE_BF16));
    float *ref = run(nat);
    for (size_t k = 0; k < sizeof TYPES / sizeof TYPES[0] && ref; k++) {
        char name[64];
        snprintf(name, sizeof name, "n_%s.gguf", TYPES[k].tag);
        const char *gn = quantize(nat, name, TYPES[k].t);
        snprintf(name, sizeof name, "h_%s.gguf", TYPES[k].tag);
        const char *gh = quantize(hf, name, TYPES[k].t);
        float *got = run(gn);
        if (got) {
            float d = 0;
            int top = 0;
            for (int i = 0; i < NP * VOCAB; i++) d = fmaxf(d, fabsf(got[i] - ref[i]));
            for (int i = 0; i < NP; i++)
                top += nemo_argmax(got + i * VOCAB, VOCAB) == nemo_argmax(ref + i * VOCAB, VOCAB);
            fprintf(stderr, "  %-5s max |dlogit| vs bf16 folder %.4g (limit %g), top-1 %d/%d\n",
                    TYPES[k].tag, (double)d, (double)TYPES[k].max_diff, top, NP);
            CHECK_MSG(d <= TYPES[k].max_diff, "%s: %g", TYPES[k].tag, (double)d);
            CHECK_MSG(top >= TYPES[k].min_top1, "%s: top-1 %d", TYPES[k].tag, top);
            /* quantization must really have happened */
            if (TYPES[k].max_diff > 1e-3f) CHECK(d > 1e-4f);
        }
        free(got);
        /* the file: metadata and tensor types as llama.cpp expects them */
        nemo_gguf *a = NULL, *b = NULL;
        nemo_error err = {0};
        CHECK_OK(nemo_gguf_open(gn, &a, &err), &err);
        CHECK_OK(nemo_gguf_open(gh, &b, &err), &err);
        if (a && b) {
            const char *s;
            uint64_t len;
            CHECK(!nemo_gguf_get_str(a, "general.architecture", &s, &len, &err) && len == 5 &&
                  !memcmp(s, "llama", 5));
            CHECK(kv_u32(a, "llama.attention.key_length") == 64);
            CHECK(kv_u32(a, "llama.attention.value_length") == 64);
            CHECK(kv_u32(a, "llama.rope.dimension_count") == 64);
            CHECK(kv_u32(a, "llama.embedding_length") == 256);
            CHECK(kv_u32(a, "llama.attention.head_count_kv") == 2);
            CHECK(kv_u32(a, "llama.vocab_size") == VOCAB);
            float theta = 0;
            CHECK(!nemo_gguf_get_f32(a, "llama.rope.freq_base", &theta, &err) && theta == 1e6f);
            if (TYPES[k].file_type || TYPES[k].t == NEMO_DTYPE_F16)
                CHECK(kv_u32(a, "general.file_type") == TYPES[k].file_type);
            const nemo_tensor_entry *q = nemo_tdir_find(&a->dir, "blk.1.attn_q.weight");
            const nemo_tensor_entry *nrm = nemo_tdir_find(&a->dir, "blk.1.ffn_norm.weight");
            nemo_dtype want;
            CHECK(nemo_gguf_dtype(TYPES[k].ggml_type, &want, NULL) == 0);
            CHECK(q && q->dtype == want && q->shape[0] == 256 && q->shape[1] == 256);
            CHECK(nrm && nrm->dtype == NEMO_DTYPE_F32);
            if (TYPES[k].t == NEMO_DTYPE_F8_E4M3) {
                CHECK(nemo_gguf_find(a, NEMO_GGUF_FP8_KEY) != NULL);
                CHECK(nemo_tdir_find(&a->dir, "blk.1.attn_q.weight_scale") != NULL);
                const nemo_tensor_entry *e = nemo_tdir_find(&a->dir, "token_embd.weight");
                CHECK(e && e->dtype == NEMO_DTYPE_BF16);
            }
            /* HF and native folders of one seed: the same bytes in every tensor */
            int same = a->dir.n_entries == b->dir.n_entries;
            for (int i = 0; same && i < a->dir.n_entries; i++) {
                const nemo_tensor_entry *x = &a->dir.entries[i];
                const nemo_tensor_entry *y = nemo_tdir_find(&b->dir, x->name);
                same = y && y->nbytes == x->nbytes && !memcmp(x->data, y->data, x->nbytes);
                CHECK_MSG(same, "%s: tensor %s differs between the HF and native sources",
                          TYPES[k].tag, x->name);
            }
        }
        nemo_gguf_free(a);
        nemo_gguf_free(b);
    }
    free(ref);
}

/* FP8 folder -> FP8 GGUF: the per-tensor scales are recomputed as amax / 448, which for
 * weights that reach the FP8 maximum is the folder's own scale, so the logits stay. */
static void test_fp8_folder_to_gguf(void) {
    const char *f8 = synth("fp8_native", NEMO_LAYOUT_NATIVE, NEMO_DTYPE_F8_E4M3);
    const char *g = quantize(f8, "from_fp8.gguf", NEMO_DTYPE_F8_E4M3);
    float *a = run(f8), *b = run(g);
    if (a && b) {
        float d = 0;
        for (int i = 0; i < NP * VOCAB; i++) d = fmaxf(d, fabsf(a[i] - b[i]));
        fprintf(stderr, "  FP8 folder vs its FP8 GGUF: max |dlogit| %.3g\n", (double)d);
        CHECK(d < 1e-3f);
    }
    free(a);
    free(b);
}

static void test_q4_k_matches_ggml(void) {
    char *buf = NULL;
    uint64_t len = 0;
    nemo_error err = {0};
    nemo_status st = nemo_read_file(test_repo_path("tests/golden/quant/quant_Q4_K.bin"), 1u << 24,
                                    &buf, &len, &err);
    CHECK_OK(st, &err);
    if (st) return;
    const uint64_t per = 256 * 4 + 144;
    CHECK(len % per == 0 && len >= per);
    uint64_t nb = len / per;
    uint8_t *got = malloc(nb * 144);
    nemo_quant_q4_k((const float *)buf, got, (int64_t)(nb * 256));
    const uint8_t *want = (const uint8_t *)buf + nb * 256 * 4;
    int bad = 0;
    for (uint64_t i = 0; i < nb; i++) bad += memcmp(got + 144 * i, want + 144 * i, 144) != 0;
    CHECK_MSG(bad == 0, "%d of %llu Q4_K blocks differ from ggml's quantize_row_q4_K_ref", bad,
              (unsigned long long)nb);
    free(got);
    free(buf);
}

static uint64_t fnv_arr(const nemo_gguf_array *a, int ints) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint64_t i = 0; i < a->count; i++) {
        char num[32];
        const char *s;
        uint64_t len;
        if (ints) {
            len = (uint64_t)snprintf(num, sizeof num, "%lld", (long long)nemo_gguf_arr_int(a, i));
            s = num;
        } else {
            s = nemo_gguf_arr_str(a, i, &len);
        }
        for (uint64_t k = 0; k <= len; k++)
            h = (h ^ (k < len ? (uint8_t)s[k] : 0)) * 0x100000001b3ull;
    }
    return h;
}

static void test_vocab_matches_converter(void) {
    const char *tk = getenv("NEMO_TEKKEN");
    CHECK_MSG(tk != NULL, "NEMO_TEKKEN is not set (tests/run.sh exports it)");
    if (!tk) return;
    json_error_t je;
    json_t *gold =
        json_load_file(test_repo_path("tests/golden/quant/tekken_gguf_vocab.json"), 0, &je);
    CHECK_MSG(gold != NULL, "%s", je.text);
    if (!gold) return;
    nemo_gguf_writer *w = NULL;
    nemo_error err = {0};
    const char *path = test_sub("vocab_only.gguf");
    CHECK_OK(nemo_gguf_writer_create(&w, &err), &err);
    CHECK_OK(nemo_quant_tekken_vocab(w, tk, 131072, &err), &err);
    CHECK_OK(nemo_gguf_w_begin(w, path, &err), &err);
    CHECK_OK(nemo_gguf_w_finish(w, &err), &err);
    nemo_gguf_writer_free(w);
    nemo_gguf *g = NULL;
    CHECK_OK(nemo_gguf_open(path, &g, &err), &err);
    if (g) {
        nemo_gguf_array toks, types, merges;
        CHECK_OK(nemo_gguf_get_strings(g, "tokenizer.ggml.tokens", &toks, &err), &err);
        CHECK_OK(nemo_gguf_get_ints(g, "tokenizer.ggml.token_type", &types, &err), &err);
        CHECK_OK(nemo_gguf_get_strings(g, "tokenizer.ggml.merges", &merges, &err), &err);
        char hex[32];
        CHECK(toks.count == (uint64_t)json_integer_value(json_object_get(gold, "n_tokens")));
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)fnv_arr(&toks, 0));
        CHECK_MSG(!strcmp(hex, json_string_value(json_object_get(gold, "tokens_fnv"))),
                  "tokens hash %s", hex);
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)fnv_arr(&types, 1));
        CHECK_MSG(!strcmp(hex, json_string_value(json_object_get(gold, "types_fnv"))),
                  "types hash %s", hex);
        CHECK_MSG(merges.count == (uint64_t)json_integer_value(json_object_get(gold, "n_merges")),
                  "%llu merges", (unsigned long long)merges.count);
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)fnv_arr(&merges, 0));
        CHECK_MSG(!strcmp(hex, json_string_value(json_object_get(gold, "merges_fnv"))),
                  "merges hash %s", hex);
        uint64_t len;
        const char *m0 = nemo_gguf_arr_str(&merges, 0, &len);
        CHECK(len == 5 && !memcmp(m0, "\xc4\xa0 \xc4\xa0", 5)); /* "Ġ Ġ" */
        const char *s;
        CHECK(!nemo_gguf_get_str(g, "tokenizer.ggml.pre", &s, &len, &err) && len == 6 &&
              !memcmp(s, "tekken", 6));
        CHECK(!nemo_gguf_get_str(g, "tokenizer.ggml.model", &s, &len, &err) && len == 4 &&
              !memcmp(s, "gpt2", 4));
        const char *ids[] = {"bos", "eos", "unk", "pad"};
        const char *keys[] = {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                              "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id"};
        for (int i = 0; i < 4; i++)
            CHECK_MSG(kv_u32(g, keys[i]) ==
                          (uint32_t)json_integer_value(json_object_get(gold, ids[i])),
                      "%s", keys[i]);
    }
    nemo_gguf_free(g);
    json_decref(gold);
}

int main(void) {
    RUN(test_q4_k_matches_ggml);
    RUN(test_types_roundtrip);
    RUN(test_fp8_folder_to_gguf);
    RUN(test_vocab_matches_converter);
    return test_finish();
}

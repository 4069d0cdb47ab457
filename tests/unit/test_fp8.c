/* test_fp8.c — FP8 (F8_E4M3) checkpoints: the f32 -> E4M3 encoder against the decoder; FP8
 * synthetic folders in both scale namings (Mistral native X.qscale_weight / X.qscale_act, HF
 * X.weight_scale / X.input_scale) load and give the logits of the same weights dequantized to
 * f32 and written as an F32 checkpoint (by this test, from the FP8 bytes and scales); and
 * missing or malformed scales fail with a message naming the tensor. */
#include "checkpoint/safetensors.h"
#include "checkpoint/tensor_dir.h"
#include "core/core.h"
#include "model/model.h"
#include "test.h"

#include <stdint.h>
#include <sys/stat.h>

#define VOCAB 160
static const int32_t PROMPT[] = {1, 17, 99, 3, 45, 8, 100, 12, 7, 64, 150, 2};
#define NP ((int)(sizeof PROMPT / sizeof PROMPT[0]))

static void test_codec(void) {
    /* every finite code round-trips (decode, encode) */
    for (int c = 0; c < 256; c++) {
        if ((c & 0x7f) == 0x7f) continue; /* NaN */
        float v = nemo_fp8_e4m3_to_f32((uint8_t)c);
        CHECK_MSG(nemo_f32_to_fp8_e4m3(v) == c, "code 0x%02x (%g) -> 0x%02x", c, (double)v,
                  nemo_f32_to_fp8_e4m3(v));
    }
    /* midpoints between neighbours round to the even code; a hair above rounds up */
    for (int c = 0; c < 0x7e; c++) {
        float a = nemo_fp8_e4m3_to_f32((uint8_t)c), b = nemo_fp8_e4m3_to_f32((uint8_t)(c + 1));
        float mid = (a + b) / 2;
        int even = (c & 1) ? c + 1 : c;
        CHECK_MSG(nemo_f32_to_fp8_e4m3(mid) == even, "midpoint %g of 0x%02x", (double)mid, c);
        CHECK(nemo_f32_to_fp8_e4m3(nextafterf(mid, 1e9f)) == c + 1);
        CHECK(nemo_f32_to_fp8_e4m3(-nextafterf(mid, 0)) == (0x80 | c));
    }
    CHECK(nemo_f32_to_fp8_e4m3(448.0f) == 0x7e);
    CHECK(nemo_f32_to_fp8_e4m3(1e6f) == 0x7e); /* saturates, never NaN */
    CHECK(nemo_f32_to_fp8_e4m3(-INFINITY) == 0xfe);
    CHECK(nemo_f32_to_fp8_e4m3(NAN) == 0x7f);
    CHECK(nemo_f32_to_fp8_e4m3(1.0f / 1024) == 0); /* below half the smallest subnormal */
    CHECK(nemo_f32_to_fp8_e4m3(1.0f / 512) == 1);
}

static const char *synth(const char *name, nemo_layout layout, nemo_dtype dt) {
    nemo_synth_params p;
    nemo_synth_defaults(&p);
    p.cfg.dim = 128;
    p.cfg.n_layers = 2;
    p.cfg.n_heads = 4;
    p.cfg.n_kv_heads = 2;
    p.cfg.head_dim = 48; /* != dim / heads, like NeMo */
    p.cfg.hidden_dim = 256;
    p.cfg.vocab_size = VOCAB;
    p.cfg.layout = layout;
    p.dtype = dt;
    p.seed = 2407;
    const char *dir = test_sub(name);
    nemo_error err = {0};
    CHECK_OK(nemo_synth_write(&p, dir, NULL, NULL, &err), &err);
    return dir;
}

/* ---- a minimal safetensors writer for the reference and the damaged folders */
typedef struct {
    char name[128];
    const char *dtype;
    int ndim;
    uint64_t shape[2];
    void *data;
    uint64_t nbytes;
} out_tensor;

static void write_st(const char *path, const out_tensor *t, int n) {
    size_t cap = 1 << 20, len = 0;
    char *h = malloc(cap);
    uint64_t off = 0;
    len += (size_t)snprintf(h + len, cap - len, "{");
    for (int i = 0; i < n; i++) {
        len += (size_t)snprintf(h + len, cap - len, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[",
                                i ? "," : "", t[i].name, t[i].dtype);
        for (int d = 0; d < t[i].ndim; d++)
            len += (size_t)snprintf(h + len, cap - len, "%s%llu", d ? "," : "",
                                    (unsigned long long)t[i].shape[d]);
        len += (size_t)snprintf(h + len, cap - len, "],\"data_offsets\":[%llu,%llu]}",
                                (unsigned long long)off, (unsigned long long)(off + t[i].nbytes));
        off += t[i].nbytes;
    }
    len += (size_t)snprintf(h + len, cap - len, "}");
    while (len % 8) h[len++] = ' ';
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    uint64_t hl = len;
    fwrite(&hl, 8, 1, f); /* little-endian host */
    fwrite(h, 1, len, f);
    for (int i = 0; i < n; i++) fwrite(t[i].data, 1, t[i].nbytes, f);
    fclose(f);
    free(h);
}

static void copy_file(const char *from, const char *to) {
    char *buf = NULL;
    uint64_t len = 0;
    nemo_error err = {0};
    CHECK_OK(nemo_read_file(from, 1 << 20, &buf, &len, &err), &err);
    FILE *f = fopen(to, "wb");
    if (f && buf) fwrite(buf, 1, len, f);
    if (f) fclose(f);
    free(buf);
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* How make_folder changes the FP8 folder's tensors. */
typedef enum {
    DEQUANT_F32,   /* the reference: FP8 matrices -> f32 (fp8 * scale), scales dropped */
    DROP_SCALE,    /* layers.1 wv loses its weight scale */
    SCALE_SHAPE2,  /* ... has shape [2] */
    SCALE_I32,     /* ... has dtype I32 */
    SCALE_ZERO,    /* ... holds 0 */
    SCALE_PERCHAN, /* ... has one value per output row */
    ACT_SHAPE,     /* layers.1 wv's activation scale has shape [3] */
} mutation;

/* Writes folder `out` from the single-file FP8 folder `in` (native or HF, one file). */
static void make_folder(const char *in, const char *out, int hf, mutation mu) {
    char p[2048];
    nemo_tensor_dir d = {0};
    nemo_error err = {0};
    snprintf(p, sizeof p, "%s/%s", in, hf ? "model.safetensors" : "consolidated.safetensors");
    nemo_status st = nemo_st_load(&d, p, &err);
    CHECK_OK(st, &err);
    if (st) return;
    mkdir(out, 0777);
    out_tensor *ot = calloc((size_t)d.n_entries, sizeof *ot);
    int n = 0;
    const char *victim = hf ? "model.layers.1.self_attn.v_proj." : "layers.1.attention.wv.";
    const char *wsuf = hf ? "weight_scale" : "qscale_weight";
    const char *asuf = hf ? "input_scale" : "qscale_act";
    for (int i = 0; i < d.n_entries; i++) {
        const nemo_tensor_entry *e = &d.entries[i];
        out_tensor *o = &ot[n];
        snprintf(o->name, sizeof o->name, "%s", e->name);
        o->ndim = e->ndim;
        for (int k = 0; k < e->ndim; k++) o->shape[k] = e->shape[k];
        o->dtype = nemo_dtype_name(e->dtype);
        o->nbytes = e->nbytes;
        o->data = malloc(e->nbytes > 64 ? e->nbytes : 64);
        memcpy(o->data, e->data, e->nbytes);
        int is_w = !strncmp(e->name, victim, strlen(victim)) && ends_with(e->name, wsuf);
        int is_a = !strncmp(e->name, victim, strlen(victim)) && ends_with(e->name, asuf);
        if (mu == DEQUANT_F32) {
            if (ends_with(e->name, "scale") || ends_with(e->name, "qscale_act") ||
                ends_with(e->name, "qscale_weight")) {
                free(o->data);
                continue;
            }
            float scale = 1;
            if (e->dtype == NEMO_DTYPE_F8_E4M3) {
                char sn[160];
                snprintf(sn, sizeof sn, "%.*s%s", (int)(strlen(e->name) - 6), e->name, wsuf);
                const nemo_tensor_entry *s = nemo_tdir_find(&d, sn);
                CHECK_MSG(s != NULL, "no %s", sn);
                if (s) memcpy(&scale, s->data, 4);
            }
            float *f = malloc(e->n_elems * 4);
            const uint8_t *b = e->data;
            for (uint64_t k = 0; k < e->n_elems; k++) {
                uint16_t h;
                if (e->dtype == NEMO_DTYPE_F8_E4M3)
                    f[k] = nemo_fp8_e4m3_to_f32(b[k]) * scale;
                else if (e->dtype == NEMO_DTYPE_BF16)
                    memcpy(&h, b + 2 * k, 2), f[k] = nemo_bf16_to_f32(h);
                else
                    memcpy(&f[k], b + 4 * k, 4);
            }
            free(o->data);
            o->data = f;
            o->dtype = "F32";
            o->nbytes = e->n_elems * 4;
        } else if (is_w && mu == DROP_SCALE) {
            free(o->data);
            continue;
        } else if (is_w && mu == SCALE_SHAPE2) {
            o->ndim = 1, o->shape[0] = 2, o->nbytes = 8;
            memcpy((char *)o->data + 4, o->data, 4);
        } else if (is_w && mu == SCALE_I32) {
            o->dtype = "I32";
        } else if (is_w && mu == SCALE_ZERO) {
            memset(o->data, 0, 4);
        } else if (is_w && mu == SCALE_PERCHAN) {
            const int rows = 2 * 48;
            free(o->data);
            float *f = malloc(rows * 4);
            for (int k = 0; k < rows; k++) f[k] = 0.01f;
            o->data = f, o->ndim = 1, o->shape[0] = rows, o->nbytes = rows * 4;
        } else if (is_a && mu == ACT_SHAPE) {
            free(o->data);
            o->data = calloc(3, 4), o->ndim = 1, o->shape[0] = 3, o->nbytes = 12;
        }
        n++;
    }
    snprintf(p, sizeof p, "%s/%s", out, hf ? "model.safetensors" : "consolidated.safetensors");
    write_st(p, ot, n);
    const char *cfg = hf ? "config.json" : "params.json";
    char a[2048], b[2048];
    snprintf(a, sizeof a, "%s/%s", in, cfg);
    snprintf(b, sizeof b, "%s/%s", out, cfg);
    copy_file(a, b);
    for (int i = 0; i < n; i++) free(ot[i].data);
    free(ot);
    nemo_tdir_free(&d);
}

/* Logits of every PROMPT position. Returns malloc'd [NP * VOCAB] or NULL. */
static float *run(const char *dir) {
    nemo_model *m = NULL;
    nemo_error err = {0};
    nemo_status st = nemo_model_open(dir, &m, &err);
    CHECK_OK(st, &err);
    if (st) return NULL;
    nemo_session_params sp = {32, 1, 16, 2};
    nemo_session *s = NULL;
    CHECK_OK(nemo_session_create(m, &sp, &s, &err), &err);
    int32_t pos[NP], seq[NP];
    int8_t want[NP];
    for (int i = 0; i < NP; i++) pos[i] = i, seq[i] = 0, want[i] = 1;
    nemo_batch b = {NP, PROMPT, pos, seq, want};
    float *out = malloc(sizeof(float) * NP * VOCAB);
    CHECK_OK(nemo_session_decode(s, &b, &err), &err);
    for (int i = 0; i < NP; i++) {
        const float *lg = nemo_session_logits(s, i);
        if (lg) memcpy(out + i * VOCAB, lg, sizeof(float) * VOCAB);
    }
    nemo_session_free(s);
    nemo_model_free(m);
    return out;
}

static void compare_fp8_to_reference(nemo_layout layout) {
    int hf = layout == NEMO_LAYOUT_HF;
    const char *fp8 = synth(hf ? "fp8_hf" : "fp8_native", layout, NEMO_DTYPE_F8_E4M3);
    const char *bf16 = synth(hf ? "bf16_hf" : "bf16_native", layout, NEMO_DTYPE_BF16);
    const char *ref = test_sub(hf ? "fp8_hf_as_f32" : "fp8_native_as_f32");
    make_folder(fp8, ref, hf, DEQUANT_F32);
    /* the FP8 folder must really be FP8: the loader binds F8_E4M3 matrices with their scale */
    nemo_model *m = NULL;
    nemo_error err = {0};
    CHECK_OK(nemo_model_open(fp8, &m, &err), &err);
    if (m) {
        CHECK(m->layers[1].wv.dtype == NEMO_DTYPE_F8_E4M3);
        CHECK(m->layers[1].wv.scale > 0 && m->layers[1].wv.scale < 0.01f);
        CHECK(m->tok_embeddings.dtype == NEMO_DTYPE_BF16 && m->tok_embeddings.scale == 1.0f);
    }
    nemo_model_free(m);
    float *a = run(fp8), *r = run(ref), *b = run(bf16);
    if (a && r && b) {
        /* FP8 vs its own dequantization: the same weights, only the order of the scale
         * multiply differs (scale * (q . x) against (q * scale) . x), so f32 rounding only.
         * Tolerance: 1e-4 absolute on logits of magnitude ~1-5. */
        float dmax = 0, lmax = 0;
        int top_same = 0;
        double dq = 0; /* FP8 vs the bf16 model of the same seed: quantization error */
        for (int i = 0; i < NP * VOCAB; i++) {
            dmax = fmaxf(dmax, fabsf(a[i] - r[i]));
            lmax = fmaxf(lmax, fabsf(r[i]));
            dq = fmax(dq, fabs((double)a[i] - b[i]));
        }
        for (int i = 0; i < NP; i++)
            top_same += nemo_argmax(a + i * VOCAB, VOCAB) == nemo_argmax(b + i * VOCAB, VOCAB);
        fprintf(stderr,
                "  %s: FP8 vs dequantized f32: max |dlogit| %.3g (max |logit| %.3g); vs bf16 "
                "same seed: max |dlogit| %.3g, top-1 agreement %d/%d\n",
                hf ? "hf" : "native", (double)dmax, (double)lmax, dq, top_same, NP);
        CHECK_MSG(dmax <= 1e-4f, "FP8 logits differ from the dequantized reference by %g",
                  (double)dmax);
        CHECK(lmax > 0.5f); /* the logits are not trivially zero */
        /* FP8 (3 mantissa bits) moves logits, but boundedly: the quantization is real and
         * the scale is applied (a missing scale would put logits off by orders of magnitude) */
        CHECK_MSG(dq > 1e-4 && dq < 0.25 * lmax, "FP8 vs bf16 max |dlogit| %g", dq);
        CHECK(top_same >= NP - 3);
    }
    free(a);
    free(r);
    free(b);
}

static void test_fp8_native_matches_dequantized(void) {
    compare_fp8_to_reference(NEMO_LAYOUT_NATIVE);
}
static void test_fp8_hf_matches_dequantized(void) {
    compare_fp8_to_reference(NEMO_LAYOUT_HF);
}

static void expect_fail(const char *what, const char *dir, nemo_status want, const char *needle) {
    nemo_model *m = NULL;
    nemo_error err = {0};
    nemo_status got = nemo_model_open(dir, &m, &err);
    nemo_model_free(m);
    CHECK_MSG(got == want, "%s: got %s, expected %s (%s)", what, nemo_status_name(got),
              nemo_status_name(want), err.msg);
    CHECK_MSG(strstr(err.msg, needle) != NULL, "%s: message lacks '%s': %s", what, needle, err.msg);
    fprintf(stderr, "  %-14s -> %s\n", what, err.msg);
}

static void test_scale_errors(void) {
    for (int hf = 0; hf < 2; hf++) {
        const char *src = synth(hf ? "err_src_hf" : "err_src_native",
                                hf ? NEMO_LAYOUT_HF : NEMO_LAYOUT_NATIVE, NEMO_DTYPE_F8_E4M3);
        const char *w = hf ? "model.layers.1.self_attn.v_proj.weight" : "layers.1.attention.wv";
        const struct {
            mutation mu;
            const char *tag;
            nemo_status st;
            const char *needle;
        } CASES[] = {
            {DROP_SCALE, "drop", NEMO_ERR_MISSING, "without scales"},
            {SCALE_SHAPE2, "shape2", NEMO_ERR_SHAPE, "expected a scalar"},
            {SCALE_I32, "i32", NEMO_ERR_SHAPE, "dtype I32"},
            {SCALE_ZERO, "zero", NEMO_ERR_FORMAT, "finite value > 0"},
            {SCALE_PERCHAN, "perchannel", NEMO_ERR_UNSUPPORTED, "per-channel"},
            {ACT_SHAPE, "act_shape", NEMO_ERR_SHAPE, hf ? "input_scale" : "qscale_act"},
        };
        for (size_t k = 0; k < sizeof CASES / sizeof CASES[0]; k++) {
            char name[64];
            snprintf(name, sizeof name, "err_%s_%s", CASES[k].tag, hf ? "hf" : "native");
            const char *dir = test_sub(name);
            make_folder(src, dir, hf, CASES[k].mu);
            expect_fail(name, dir, CASES[k].st, CASES[k].needle);
            nemo_model *m = NULL;
            nemo_error err = {0};
            nemo_model_open(dir, &m, &err);
            CHECK_MSG(strstr(err.msg, w) != NULL, "%s: message does not name %s: %s", name, w,
                      err.msg);
            nemo_model_free(m);
        }
    }
}

int main(void) {
    RUN(test_codec);
    RUN(test_fp8_native_matches_dequantized);
    RUN(test_fp8_hf_matches_dequantized);
    RUN(test_scale_errors);
    return test_finish();
}

/* quantize.c — nemo_quantize: any model we can open (native / HF safetensors folder, FP8
 * included, or a GGUF) -> a llama-architecture GGUF in one weight type, with the metadata
 * llama.cpp's converter writes for Mistral NeMo (spec 2e) and, when a tekken.json is at hand,
 * its vocabulary (vocab_gguf.c).
 *
 * Rows: GGUF llama q/k rows are in the native interleaved RoPE order (llama.cpp applies
 * adjacent-pair RoPE to arch llama, and convert_hf_to_gguf.py undoes the HF permutation), so
 * HF q/k rows are un-permuted here: GGUF row 2i+s of a head is HF row s*hd/2+i (spec 1.4).
 * Every 2-D weight gets the requested type ("pure", like llama-quantize --pure); norms stay
 * F32. FP8 is our extension (docs/fp8.md): layer matrices as E4M3 bytes in ggml type I8
 * plus a "<name>_scale" F32 tensor, embeddings and LM head BF16. Rows are converted in chunks
 * on a worker pool and streamed to the file. */
#include "quantize/quantize.h"

#include "backend/cpu/dequant.h"
#include "backend/cpu/quant.h"
#include "core/pool.h"
#include "model/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define CHUNK_ROWS 512

typedef struct {
    const char *name;   /* GGUF name */
    const nemo_wmat *w; /* a matrix, or */
    const float *vec;   /* a norm vector of n */
    int64_t n;
    int rope_unpermute; /* HF q/k: row order to undo */
    nemo_dtype type;    /* what it is written as */
} job;

typedef struct {
    const job *j;
    int head_dim;
    int64_t r0, r1; /* rows of this chunk */
    uint8_t *out;   /* (r1 - r0) * out_row_bytes */
    uint64_t out_row;
    float inv_scale; /* FP8: 1 / weight scale */
    float *scratch;  /* per thread: cols floats */
    float *amax;     /* per thread (FP8 scan) */
    int scan;        /* FP8 first pass: max |x| only */
} chunk_ctx;

static int64_t src_row(const job *j, int hd, int64_t r) {
    if (!j->rope_unpermute) return r;
    int64_t head = r / hd, k = r % hd;
    return head * hd + (k % 2) * (hd / 2) + k / 2;
}

static void chunk_worker(void *p, int ith, int nth) {
    chunk_ctx *c = p;
    const job *j = c->j;
    const nemo_wmat *w = j->w;
    long lo, hi;
    nemo_pool_split((long)(c->r1 - c->r0), ith, nth, &lo, &hi);
    float *x = c->scratch + (int64_t)ith * w->cols;
    for (long k = lo; k < hi; k++) {
        int64_t r = c->r0 + k;
        const uint8_t *src =
            (const uint8_t *)w->data + (uint64_t)src_row(j, c->head_dim, r) * w->row_bytes;
        nemo_dequant_row(w->dtype, src, x, w->cols);
        if (w->scale != 1.0f)
            for (int64_t i = 0; i < w->cols; i++) x[i] *= w->scale;
        if (c->scan) {
            float m = c->amax[ith];
            for (int64_t i = 0; i < w->cols; i++) m = fmaxf(m, fabsf(x[i]));
            c->amax[ith] = m;
            continue;
        }
        uint8_t *dst = c->out + (uint64_t)k * c->out_row;
        if (j->type == NEMO_DTYPE_F8_E4M3)
            for (int64_t i = 0; i < w->cols; i++)
                dst[i] = nemo_f32_to_fp8_e4m3(x[i] * c->inv_scale);
        else
            nemo_quant_row(j->type, x, dst, w->cols);
    }
}

static uint64_t job_bytes(const job *j) {
    if (j->vec) return (uint64_t)j->n * 4;
    return (uint64_t)j->w->rows * nemo_dtype_bytes(j->type, (uint64_t)j->w->cols);
}

static nemo_status write_job(nemo_gguf_writer *gw, nemo_pool *pool, const job *j, int hd,
                             float scale, uint8_t *buf, float *scratch, uint64_t *done,
                             uint64_t total, const nemo_quantize_params *p, nemo_error *err) {
    nemo_status st;
    if (j->vec) {
        if ((st = nemo_gguf_w_data(gw, j->vec, (size_t)j->n * 4, err))) return st;
        *done += (uint64_t)j->n * 4;
        return nemo_gguf_w_end_tensor(gw, err);
    }
    uint64_t out_row = nemo_dtype_bytes(j->type, (uint64_t)j->w->cols);
    for (int64_t r0 = 0; r0 < j->w->rows; r0 += CHUNK_ROWS) {
        int64_t r1 = r0 + CHUNK_ROWS < j->w->rows ? r0 + CHUNK_ROWS : j->w->rows;
        chunk_ctx c = {j, hd, r0, r1, buf, out_row, 1.0f / scale, scratch, NULL, 0};
        nemo_pool_run(pool, chunk_worker, &c);
        if ((st = nemo_gguf_w_data(gw, buf, (size_t)((r1 - r0) * (int64_t)out_row), err)))
            return st;
        *done += (uint64_t)(r1 - r0) * out_row;
        if (p->progress) p->progress(*done, total, p->user);
    }
    if (j->type == NEMO_DTYPE_F8_E4M3) { /* its scale tensor follows */
        if ((st = nemo_gguf_w_end_tensor(gw, err)) || (st = nemo_gguf_w_data(gw, &scale, 4, err)))
            return st;
        *done += 4;
    }
    return nemo_gguf_w_end_tensor(gw, err);
}

/* FP8 scale of a matrix: max |W| / 448 (AutoFP8's rule), the first pass over its rows. */
static float fp8_scale(nemo_pool *pool, const job *j, int hd, float *scratch) {
    int nth = nemo_pool_size(pool);
    float amax[64] = {0};
    for (int64_t r0 = 0; r0 < j->w->rows; r0 += CHUNK_ROWS) {
        int64_t r1 = r0 + CHUNK_ROWS < j->w->rows ? r0 + CHUNK_ROWS : j->w->rows;
        chunk_ctx c = {j, hd, r0, r1, NULL, 0, 1, scratch, amax, 1};
        nemo_pool_run(pool, chunk_worker, &c);
    }
    float m = 0;
    for (int i = 0; i < nth; i++) m = fmaxf(m, amax[i]);
    return m > 0 ? m / 448.0f : 1.0f;
}

static void add_job(job *jobs, char *names, int *n, const char *name, const nemo_wmat *w,
                    const float *vec, int64_t len, int perm, nemo_dtype t) {
    char *nm = names + 64 * *n;
    snprintf(nm, 64, "%s", name);
    jobs[(*n)++] = (job){nm, w, vec, len, perm, t};
}

/* general.file_type (llama_ftype) of a pure file of type t. */
static int ftype_of(nemo_dtype t) {
    switch (t) {
    case NEMO_DTYPE_F32: return 0;
    case NEMO_DTYPE_F16: return 1;
    case NEMO_DTYPE_Q4_0: return 2;
    case NEMO_DTYPE_Q8_0: return 7;
    case NEMO_DTYPE_Q4_K: return 14; /* MOSTLY_Q4_K_S: the closest named mix */
    case NEMO_DTYPE_BF16: return 32;
    default: return -1;
    }
}

nemo_status nemo_quantize(const char *in, const char *out, const nemo_quantize_params *p,
                          nemo_error *err) {
    nemo_dtype T = p->type;
    if (T != NEMO_DTYPE_Q8_0 && T != NEMO_DTYPE_Q4_0 && T != NEMO_DTYPE_Q4_K &&
        T != NEMO_DTYPE_F16 && T != NEMO_DTYPE_BF16 && T != NEMO_DTYPE_F32 &&
        T != NEMO_DTYPE_F8_E4M3)
        return nemo_fail(err, NEMO_ERR_ARG,
                         "quantize: type %s is not one of Q8_0, Q4_0, Q4_K, F16, BF16, F32, "
                         "F8_E4M3",
                         nemo_dtype_name(T));
    nemo_model *m = NULL;
    nemo_status st = nemo_model_open(in, &m, err);
    if (st) return st;
    const nemo_config *c = &m->cfg;
    nemo_gguf_writer *gw = NULL;
    nemo_pool *pool = NULL;
    job *jobs = NULL;
    char *names = NULL;
    uint8_t *buf = NULL;
    float *scratch = NULL;
    if (c->sliding_window > 0) {
        st = nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                       "%s: sliding window %d: the llama GGUF architecture has no sliding window, "
                       "so the file would describe another model",
                       in, c->sliding_window);
        goto done;
    }
    if ((st = nemo_gguf_writer_create(&gw, err))) goto done;

    /* ---- metadata, in the order llama.cpp's converter writes it */
    char base[256];
    snprintf(base, sizeof base, "%s", in);
    size_t bl = strlen(base);
    while (bl > 1 && base[bl - 1] == '/') base[--bl] = 0;
    nemo_gguf_w_str(gw, "general.architecture", "llama");
    nemo_gguf_w_str(gw, "general.name", nemo_basename(base));
    nemo_gguf_w_u32(gw, "llama.block_count", (uint32_t)c->n_layers);
    nemo_gguf_w_u32(gw, "llama.context_length", (uint32_t)c->max_seq_len);
    nemo_gguf_w_u32(gw, "llama.embedding_length", (uint32_t)c->dim);
    nemo_gguf_w_u32(gw, "llama.feed_forward_length", (uint32_t)c->hidden_dim);
    nemo_gguf_w_u32(gw, "llama.attention.head_count", (uint32_t)c->n_heads);
    nemo_gguf_w_u32(gw, "llama.attention.head_count_kv", (uint32_t)c->n_kv_heads);
    nemo_gguf_w_f32(gw, "llama.rope.freq_base", c->rope_theta);
    nemo_gguf_w_f32(gw, "llama.attention.layer_norm_rms_epsilon", c->norm_eps);
    nemo_gguf_w_u32(gw, "llama.attention.key_length", (uint32_t)c->head_dim);
    nemo_gguf_w_u32(gw, "llama.attention.value_length", (uint32_t)c->head_dim);
    int ft = ftype_of(T);
    if (ft >= 0) nemo_gguf_w_u32(gw, "general.file_type", (uint32_t)ft);
    nemo_gguf_w_u32(gw, "llama.vocab_size", (uint32_t)c->vocab_size);
    nemo_gguf_w_u32(gw, "llama.rope.dimension_count", (uint32_t)c->head_dim);
    if (T == NEMO_DTYPE_F8_E4M3) nemo_gguf_w_str(gw, NEMO_GGUF_FP8_KEY, "f8_e4m3");
    if (T == NEMO_DTYPE_Q8_0 || T == NEMO_DTYPE_Q4_0 || T == NEMO_DTYPE_Q4_K)
        nemo_gguf_w_u32(gw, "general.quantization_version", 2);
    if (p->vocab && (st = nemo_quant_tekken_vocab(gw, p->vocab, c->vocab_size, err))) goto done;

    /* ---- the tensor list */
    int nj = 3 + 9 * c->n_layers;
    jobs = calloc((size_t)nj, sizeof *jobs);
    names = calloc((size_t)nj, 64);
    if (!jobs || !names) {
        st = nemo_fail(err, NEMO_ERR_NOMEM, "out of memory");
        goto done;
    }
    int n = 0;
    const int hf = c->layout == NEMO_LAYOUT_HF;
    const nemo_dtype outer = T == NEMO_DTYPE_F8_E4M3 ? NEMO_DTYPE_BF16 : T;
#define ADDM(nm, W, perm, t) add_job(jobs, names, &n, nm, W, NULL, 0, perm, t)
#define ADDV(nm, v)          add_job(jobs, names, &n, nm, NULL, v, c->dim, 0, NEMO_DTYPE_F32)
    ADDM("token_embd.weight", &m->tok_embeddings, 0, outer);
    for (int l = 0; l < c->n_layers; l++) {
        nemo_layer_weights *L = &m->layers[l];
        char nm[64];
#define NM(s) (snprintf(nm, sizeof nm, "blk.%d.%s.weight", l, s), nm)
        ADDV(NM("attn_norm"), L->attn_norm);
        ADDM(NM("attn_q"), &L->wq, hf, T);
        ADDM(NM("attn_k"), &L->wk, hf, T);
        ADDM(NM("attn_v"), &L->wv, 0, T);
        ADDM(NM("attn_output"), &L->wo, 0, T);
        ADDV(NM("ffn_norm"), L->ffn_norm);
        ADDM(NM("ffn_gate"), &L->w1, 0, T);
        ADDM(NM("ffn_up"), &L->w3, 0, T);
        ADDM(NM("ffn_down"), &L->w2, 0, T);
#undef NM
    }
    ADDV("output_norm.weight", m->final_norm);
    if (!c->tied_embeddings || m->output.data != m->tok_embeddings.data)
        ADDM("output.weight", &m->output, 0, outer);
#undef ADDM
#undef ADDV
    nj = n;
    uint64_t total = 0, max_cols = 1;
    for (int i = 0; i < nj; i++) {
        const job *j = &jobs[i];
        if (j->vec) {
            uint64_t shape[1] = {(uint64_t)j->n};
            nemo_gguf_w_tensor(gw, j->name, NEMO_DTYPE_F32, 1, shape, -1, 0);
        } else {
            uint64_t shape[2] = {(uint64_t)j->w->rows, (uint64_t)j->w->cols};
            if ((uint64_t)j->w->cols > max_cols) max_cols = (uint64_t)j->w->cols;
            uint32_t bl_ = nemo_dtype_info(j->type)->block_elems;
            if (j->w->cols % bl_) {
                st = nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                               "quantize: tensor '%s' has %lld columns, not a multiple of the %s "
                               "block of %u",
                               j->name, (long long)j->w->cols, nemo_dtype_name(j->type), bl_);
                goto done;
            }
            if (j->type == NEMO_DTYPE_F8_E4M3) {
                nemo_gguf_w_tensor(gw, j->name, j->type, 2, shape, 24 /* I8 */, job_bytes(j));
                char sn[80];
                snprintf(sn, sizeof sn, "%s_scale", j->name);
                uint64_t one[1] = {1};
                nemo_gguf_w_tensor(gw, sn, NEMO_DTYPE_F32, 1, one, -1, 0);
            } else {
                nemo_gguf_w_tensor(gw, j->name, j->type, 2, shape, -1, 0);
            }
        }
        total += job_bytes(j);
    }
    pool = nemo_pool_create(p->n_threads);
    int nth = pool ? nemo_pool_size(pool) : 0;
    buf = malloc((size_t)(CHUNK_ROWS * nemo_dtype_bytes(NEMO_DTYPE_F32, max_cols)));
    scratch = malloc((size_t)nth * max_cols * sizeof *scratch);
    if (!pool || !buf || !scratch || nth > 64) {
        st = nemo_fail(err, NEMO_ERR_NOMEM, "quantize: out of memory (or more than 64 threads)");
        goto done;
    }
    if ((st = nemo_gguf_w_begin(gw, out, err))) goto done;
    uint64_t done_b = 0;
    for (int i = 0; i < nj; i++) {
        float scale = 1.0f;
        if (jobs[i].type == NEMO_DTYPE_F8_E4M3)
            scale = fp8_scale(pool, &jobs[i], c->head_dim, scratch);
        if ((st = write_job(gw, pool, &jobs[i], c->head_dim, scale, buf, scratch, &done_b, total, p,
                            err)))
            goto done;
    }
    st = nemo_gguf_w_finish(gw, err);
    if (!st && p->progress) p->progress(total, total, p->user);
done:
    nemo_gguf_writer_free(gw);
    nemo_pool_free(pool);
    free(jobs);
    free(names);
    free(buf);
    free(scratch);
    nemo_model_free(m);
    return st;
}

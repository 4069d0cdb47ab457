/* session.c — session lifetime (all memory reserved up front) and the batch forward pass:
 * embeddings → L × (attention + SwiGLU MLP) → final norm → LM head, for tokens of any mix of
 * sequences, each attending to its own KV cache. */
#include "forward/session.h"

#include "backend/cpu/dequant.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/ops.h"

#include <math.h>
#include <stdlib.h>

static void *alloc_floats(int64_t n) {
    return calloc((size_t)(n > 0 ? n : 1), sizeof(float));
}

nemo_status nemo_session_create(const nemo_model *m, const nemo_session_params *p,
                                nemo_session **out, nemo_error *err) {
    *out = NULL;
    if (!m) return nemo_fail(err, NEMO_ERR_ARG, "no model");
    const nemo_config *c = &m->cfg;
    nemo_session_params d = {0};
    if (p) d = *p;
    if (d.n_ctx < 0 || d.n_seq < 0 || d.n_batch < 0 || d.n_threads < 0)
        return nemo_fail(err, NEMO_ERR_ARG, "session parameters must not be negative");
    if (!d.n_ctx) d.n_ctx = c->max_seq_len < 4096 ? c->max_seq_len : 4096;
    if (d.n_ctx > c->max_seq_len)
        return nemo_fail(err, NEMO_ERR_ARG,
                         "context of %d positions exceeds the model's maximum of %d", d.n_ctx,
                         c->max_seq_len);
    if (!d.n_seq) d.n_seq = 1;
    if (!d.n_batch) d.n_batch = 512;
    if (!d.n_threads) d.n_threads = nemo_cpu_count();
    int64_t kvd = (int64_t)c->n_kv_heads * c->head_dim, qd = (int64_t)c->n_heads * c->head_dim;
    int64_t cache = (int64_t)c->n_layers * d.n_seq * d.n_ctx * kvd;
    nemo_session *s = calloc(1, sizeof *s);
    if (!s) return nemo_fail(err, NEMO_ERR_NOMEM, "out of memory");
    s->m = m;
    s->n_ctx = d.n_ctx;
    s->n_seq = d.n_seq;
    s->n_batch = d.n_batch;
    s->n_threads = d.n_threads;
    int64_t maxcols = c->dim > qd ? c->dim : qd;
    if (c->hidden_dim > maxcols) maxcols = c->hidden_dim;
    int64_t nb = d.n_batch;
    s->pool = nemo_pool_create(d.n_threads);
    s->k_cache = alloc_floats(cache);
    s->v_cache = alloc_floats(cache);
    s->seq_len = calloc((size_t)d.n_seq, sizeof *s->seq_len);
    s->x = alloc_floats(nb * c->dim);
    s->xb = alloc_floats(nb * c->dim);
    s->q = alloc_floats(nb * qd);
    s->kv = alloc_floats(nb * 2 * kvd);
    s->att = alloc_floats(nb * qd);
    s->out = alloc_floats(nb * c->dim);
    s->hb = alloc_floats(nb * c->hidden_dim);
    s->hb2 = alloc_floats(nb * c->hidden_dim);
    s->mat_scratch = alloc_floats(nemo_cpu_matmul_scratch(d.n_threads, d.n_batch, maxcols));
    s->att_scratch = alloc_floats((int64_t)d.n_threads * d.n_ctx);
    s->logit_row = calloc((size_t)nb, sizeof *s->logit_row);
    if (!s->pool || !s->k_cache || !s->v_cache || !s->seq_len || !s->x || !s->xb || !s->q ||
        !s->kv || !s->att || !s->out || !s->hb || !s->hb2 || !s->mat_scratch || !s->att_scratch ||
        !s->logit_row) {
        nemo_session_free(s);
        return nemo_fail(err, NEMO_ERR_NOMEM,
                         "out of memory for a session of %d sequence(s) × %d positions (KV cache "
                         "%.1f MiB in f32); try a smaller context",
                         d.n_seq, d.n_ctx, 2.0 * (double)cache * 4 / (1 << 20));
    }
    *out = s;
    return NEMO_OK;
}

void nemo_session_free(nemo_session *s) {
    if (!s) return;
    nemo_pool_free(s->pool);
    free(s->k_cache);
    free(s->v_cache);
    free(s->seq_len);
    free(s->x);
    free(s->xb);
    free(s->q);
    free(s->kv);
    free(s->att);
    free(s->out);
    free(s->hb);
    free(s->hb2);
    free(s->mat_scratch);
    free(s->att_scratch);
    free(s->logits);
    free(s->logit_row);
    free(s);
}

static float *kv_at(const nemo_session *s, float *base, int layer, int seq, int pos) {
    const nemo_config *c = &s->m->cfg;
    int64_t kvd = (int64_t)c->n_kv_heads * c->head_dim;
    return base + (((int64_t)layer * s->n_seq + seq) * s->n_ctx + pos) * kvd;
}

typedef struct {
    nemo_session *s;
    const nemo_batch *b;
    int layer;
} attn_ctx;

/* One (token, head) pair per work item: softmax(q·K / sqrt(hd)) · V over the token's window of
 * its own sequence's cache. */
static void attn_worker(void *p, int ith, int nth) {
    attn_ctx *a = p;
    nemo_session *s = a->s;
    const nemo_config *c = &s->m->cfg;
    int hd = c->head_dim, group = c->n_heads / c->n_kv_heads;
    int64_t kvd = (int64_t)c->n_kv_heads * hd, qd = (int64_t)c->n_heads * hd;
    float *scores = s->att_scratch + (int64_t)ith * s->n_ctx;
    float scale = 1.0f / sqrtf((float)hd);
    const nemo_kernels *k = nemo_kernels_get(); /* SIMD dot (q·K) and axpy (Σ p·V) */
    long lo, hi;
    nemo_pool_split((long)a->b->n_tokens * c->n_heads, ith, nth, &lo, &hi);
    for (long w = lo; w < hi; w++) {
        int t = (int)(w / c->n_heads), h = (int)(w % c->n_heads), kh = h / group;
        int pos = a->b->pos[t], seq = a->b->seq[t];
        int first = 0;
        if (c->sliding_window > 0 && pos - c->sliding_window + 1 > 0)
            first = pos - c->sliding_window + 1;
        const float *q = s->q + t * qd + (int64_t)h * hd;
        const float *K = kv_at(s, s->k_cache, a->layer, seq, 0) + (int64_t)kh * hd;
        const float *V = kv_at(s, s->v_cache, a->layer, seq, 0) + (int64_t)kh * hd;
        int n = pos - first + 1;
        for (int j = 0; j < n; j++)
            scores[j] = k->dot(q, K + (int64_t)(first + j) * kvd, hd) * scale;
        nemo_cpu_softmax(scores, n);
        float *o = s->att + t * qd + (int64_t)h * hd;
        for (int d = 0; d < hd; d++) o[d] = 0;
        for (int j = 0; j < n; j++) k->axpy(o, scores[j], V + (int64_t)(first + j) * kvd, hd);
    }
}

static nemo_status check_batch(const nemo_session *s, const nemo_batch *b, nemo_error *err) {
    const nemo_config *c = &s->m->cfg;
    if (!b || b->n_tokens <= 0 || !b->token || !b->pos || !b->seq)
        return nemo_fail(err, NEMO_ERR_ARG, "empty batch or missing token/pos/seq arrays");
    if (b->n_tokens > s->n_batch)
        return nemo_fail(err, NEMO_ERR_FULL, "batch of %d tokens exceeds the session's %d",
                         b->n_tokens, s->n_batch);
    /* Simulate the cache lengths: every position before pos must exist when the token runs. */
    int lens[256];
    int *len = s->n_seq <= 256 ? lens : malloc((size_t)s->n_seq * sizeof *len);
    if (!len) return nemo_fail(err, NEMO_ERR_NOMEM, "out of memory");
    memcpy(len, s->seq_len, (size_t)s->n_seq * sizeof *len);
    nemo_status st = NEMO_OK;
    for (int i = 0; i < b->n_tokens && !st; i++) {
        int tok = b->token[i], pos = b->pos[i], seq = b->seq[i];
        if (tok < 0 || tok >= c->vocab_size)
            st =
                nemo_fail(err, NEMO_ERR_ARG, "batch token %d: id %d outside the vocabulary [0, %d)",
                          i, tok, c->vocab_size);
        else if (seq < 0 || seq >= s->n_seq)
            st = nemo_fail(err, NEMO_ERR_ARG, "batch token %d: sequence %d outside [0, %d)", i, seq,
                           s->n_seq);
        else if (pos < 0 || pos >= s->n_ctx)
            st = nemo_fail(err, NEMO_ERR_FULL,
                           "batch token %d: position %d outside the context of %d positions", i,
                           pos, s->n_ctx);
        else if (pos > len[seq])
            st = nemo_fail(err, NEMO_ERR_ARG,
                           "batch token %d: position %d of sequence %d leaves a gap (only %d "
                           "positions are cached)",
                           i, pos, seq, len[seq]);
        else
            len[seq] = pos + 1;
    }
    if (len != lens) free(len);
    return st;
}

nemo_status nemo_session_decode(nemo_session *s, const nemo_batch *b, nemo_error *err) {
    nemo_status st = check_batch(s, b, err);
    if (st) return st;
    const nemo_model *m = s->m;
    const nemo_config *c = &m->cfg;
    int n = b->n_tokens, hd = c->head_dim, dim = c->dim;
    int64_t kvd = (int64_t)c->n_kv_heads * hd, qd = (int64_t)c->n_heads * hd;
    int halves = nemo_model_rope_halves(m);

    /* Logit rows first: the only buffer that may grow, and only before any work is done. */
    int n_out = 0;
    for (int i = 0; i < n; i++) {
        int want = b->want_logits ? b->want_logits[i] != 0 : i == n - 1;
        s->logit_row[i] = want ? n_out++ : -1;
    }
    if (n_out > s->logits_cap) {
        float *nl = realloc(s->logits, (size_t)n_out * (size_t)c->vocab_size * sizeof(float));
        if (!nl) return nemo_fail(err, NEMO_ERR_NOMEM, "out of memory for %d logit rows", n_out);
        s->logits = nl;
        s->logits_cap = n_out;
    }

    for (int t = 0; t < n; t++) {
        const uint8_t *row = (const uint8_t *)m->tok_embeddings.data +
                             (uint64_t)b->token[t] * m->tok_embeddings.row_bytes;
        float *xt = s->x + (int64_t)t * dim;
        nemo_dequant_row(m->tok_embeddings.dtype, row, xt, dim);
        if (m->tok_embeddings.scale != 1.0f) /* FP8 embeddings */
            for (int i = 0; i < dim; i++) xt[i] *= m->tok_embeddings.scale;
    }
    for (int l = 0; l < c->n_layers; l++) {
        const nemo_layer_weights *L = &m->layers[l];
        nemo_cpu_rmsnorm(s->xb, s->x, L->attn_norm, n, dim, c->norm_eps);
        nemo_cpu_matmul(s->pool, s->q, s->xb, n, &L->wq, s->mat_scratch);
        float *kb = s->kv, *vb = s->kv + (int64_t)n * kvd;
        nemo_cpu_matmul(s->pool, kb, s->xb, n, &L->wk, s->mat_scratch);
        nemo_cpu_matmul(s->pool, vb, s->xb, n, &L->wv, s->mat_scratch);
        for (int t = 0; t < n; t++) {
            nemo_cpu_rope(s->q + t * qd, c->n_heads, hd, b->pos[t], c->rope_theta, halves);
            nemo_cpu_rope(kb + t * kvd, c->n_kv_heads, hd, b->pos[t], c->rope_theta, halves);
            memcpy(kv_at(s, s->k_cache, l, b->seq[t], b->pos[t]), kb + t * kvd,
                   (size_t)kvd * sizeof(float));
            memcpy(kv_at(s, s->v_cache, l, b->seq[t], b->pos[t]), vb + t * kvd,
                   (size_t)kvd * sizeof(float));
        }
        attn_ctx ac = {s, b, l};
        nemo_pool_run(s->pool, attn_worker, &ac);
        nemo_cpu_matmul(s->pool, s->out, s->att, n, &L->wo, s->mat_scratch);
        for (int64_t i = 0; i < (int64_t)n * dim; i++) s->x[i] += s->out[i];

        /* The last layer's FFN only for the tokens whose logits are wanted (as llama.cpp does):
         * nothing else reads those hidden states (the layer's K/V are cached above), and each
         * token's FFN is independent of the others, so the wanted logits are unchanged. */
        const int skip = l == c->n_layers - 1 && n_out < n;
        int nf = 0;
        for (int t = 0; t < n; t++) {
            if (skip && s->logit_row[t] < 0) continue;
            nemo_cpu_rmsnorm(s->xb + (int64_t)nf * dim, s->x + (int64_t)t * dim, L->ffn_norm, 1,
                             dim, c->norm_eps);
            nf++;
        }
        if (nf) {
            nemo_cpu_matmul(s->pool, s->hb, s->xb, nf, &L->w1, s->mat_scratch);
            nemo_cpu_matmul(s->pool, s->hb2, s->xb, nf, &L->w3, s->mat_scratch);
            nemo_cpu_swiglu(s->hb, s->hb2, (int64_t)nf * c->hidden_dim);
            nemo_cpu_matmul(s->pool, s->out, s->hb, nf, &L->w2, s->mat_scratch);
        }
        for (int t = 0, k = 0; t < n; t++) {
            if (skip && s->logit_row[t] < 0) continue;
            float *xt = s->x + (int64_t)t * dim;
            const float *ot = s->out + (int64_t)k++ * dim;
            for (int i = 0; i < dim; i++) xt[i] += ot[i];
        }
    }
    for (int t = 0; t < n; t++) {
        int seq = b->seq[t];
        s->seq_len[seq] = b->pos[t] + 1;
    }
    /* Final norm and LM head only for the rows whose logits were asked for. */
    if (n_out) {
        int k = 0;
        for (int t = 0; t < n; t++)
            if (s->logit_row[t] >= 0) {
                nemo_cpu_rmsnorm(s->xb + (int64_t)k * dim, s->x + (int64_t)t * dim, m->final_norm,
                                 1, dim, c->norm_eps);
                k++;
            }
        nemo_cpu_matmul(s->pool, s->logits, s->xb, n_out, &m->output, s->mat_scratch);
    }
    s->last_n_tokens = n;
    return NEMO_OK;
}

const float *nemo_session_logits(const nemo_session *s, int i) {
    if (!s || i < 0 || i >= s->last_n_tokens || s->logit_row[i] < 0) return NULL;
    return s->logits + (int64_t)s->logit_row[i] * s->m->cfg.vocab_size;
}

nemo_status nemo_session_seq_truncate(nemo_session *s, int seq, int pos, nemo_error *err) {
    if (seq < 0 || seq >= s->n_seq)
        return nemo_fail(err, NEMO_ERR_ARG, "sequence %d outside [0, %d)", seq, s->n_seq);
    if (pos < 0) return nemo_fail(err, NEMO_ERR_ARG, "negative position %d", pos);
    if (pos < s->seq_len[seq]) s->seq_len[seq] = pos;
    return NEMO_OK;
}

int nemo_session_seq_len(const nemo_session *s, int seq) {
    return (s && seq >= 0 && seq < s->n_seq) ? s->seq_len[seq] : 0;
}

int nemo_argmax(const float *logits, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (logits[i] > logits[best]) best = i;
    return best;
}

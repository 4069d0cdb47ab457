/* session.h — a session: KV cache per sequence, batch scratch, worker pool, logits. */
#ifndef NEMO_SESSION_H
#define NEMO_SESSION_H

#include "core/pool.h"
#include "model/model.h"

struct nemo_session {
    const nemo_model *m;
    int n_ctx, n_seq, n_batch, n_threads;
    nemo_pool *pool;
    /* KV cache, f32: k[layer][seq][pos][n_kv_heads * head_dim], same for v. */
    float *k_cache, *v_cache;
    int *seq_len; /* [n_seq] positions cached */
    /* batch activations (n_batch rows each) */
    float *x;           /* [n_batch, dim] residual stream */
    float *xb;          /* [n_batch, dim] normed input */
    float *q;           /* [n_batch, n_heads * head_dim] */
    float *kv;          /* [n_batch, 2 * n_kv_heads * head_dim] (k then v) */
    float *att;         /* [n_batch, n_heads * head_dim] attention output */
    float *out;         /* [n_batch, dim] projection output */
    float *hb;          /* [n_batch, hidden_dim] gate */
    float *hb2;         /* [n_batch, hidden_dim] up */
    float *mat_scratch; /* nemo_cpu_matmul_scratch(n_threads, n_batch, max cols) floats */
    float *att_scratch; /* [n_threads, n_ctx] attention scores */
    /* logits of the last decode */
    float *logits; /* [logits_cap, vocab] */
    int logits_cap;
    int *logit_row; /* [n_batch] row in logits of batch token i, or -1 */
    int last_n_tokens;
};

#endif

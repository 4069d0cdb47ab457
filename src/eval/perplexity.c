/* perplexity.c — perplexity of a model over a token sequence, computed the way llama.cpp's
 * `llama-perplexity` does (tools/perplexity/perplexity.cpp, function perplexity()), so the two
 * numbers can be compared directly:
 *   - the tokens are cut into n_chunks whole chunks of n_ctx tokens (a trailing partial chunk
 *     is dropped; fewer than 2·n_ctx tokens is an error, as there);
 *   - each chunk is evaluated from an empty cache; with add_bos its first token is replaced
 *     by BOS (not prepended: the chunk stays n_ctx long);
 *   - only the second half is scored: the logits at positions first = n_ctx/2 .. n_ctx-2
 *     predict tokens first+1 .. n_ctx-1, so n_ctx - first - 1 tokens per chunk;
 *   - log-softmax with a float maximum and a double sum of expf(logit - max);
 *   - n_batch >= n_ctx runs n_batch / n_ctx chunks side by side as separate sequences,
 *     n_batch < n_ctx feeds each chunk in n_batch-token pieces (results are the same);
 *   - the estimate is exp(mean NLL) and its error ppl·sqrt(var(NLL) / (count - 1)). */
#include "core/core.h"
#include "model/model.h"

#include "checkpoint/gguf.h"

#include <math.h>
#include <stdlib.h>

/* Does a GGUF string key equal s? */
static int gguf_str_is(const nemo_gguf *g, const char *key, const char *s) {
    const nemo_gguf_kv *kv = nemo_gguf_find(g, key);
    return kv && kv->type == NEMO_GGUF_STRING && kv->len == strlen(s) &&
           !memcmp(kv->val, s, kv->len);
}

int nemo_model_add_bos(const nemo_model *m) {
    if (!m) return 0;
    if (!m->gguf) return m->cfg.bos_id >= 0; /* Mistral checkpoints: every prompt starts with BOS */
    const nemo_gguf *g = m->gguf;
    /* llama.cpp (src/llama-vocab.cpp): the explicit key wins; else SentencePiece ("llama")
     * vocabularies and the BPE pre-tokenizers of Llama 3 / Tekken add BOS, other BPE do not. */
    const nemo_gguf_kv *kv = nemo_gguf_find(g, "tokenizer.ggml.add_bos_token");
    if (kv && kv->type == NEMO_GGUF_BOOL) return kv->val[0] != 0;
    if (gguf_str_is(g, "tokenizer.ggml.model", "llama")) return 1;
    static const char *const bos_pre[] = {"tekken", "llama3", "llama-v3", "llama-bpe"};
    for (size_t i = 0; i < sizeof bos_pre / sizeof bos_pre[0]; i++)
        if (gguf_str_is(g, "tokenizer.ggml.pre", bos_pre[i])) return 1;
    return 0;
}

/* -log p(tok | logits), as llama.cpp's log_softmax computes it. */
static double nll_of(const float *logits, int n_vocab, int tok) {
    float mx = logits[0];
    for (int i = 1; i < n_vocab; i++) mx = logits[i] > mx ? logits[i] : mx;
    double sum = 0.0;
    for (int i = 0; i < n_vocab; i++) sum += expf(logits[i] - mx);
    return -((double)(logits[tok] - mx) - log(sum));
}

typedef struct {
    int32_t *tok, *pos, *seq;
    int8_t *want;
    double *nll, *nll2; /* per sequence of the current group of chunks */
} batch_bufs;

static void free_bufs(batch_bufs *b) {
    free(b->tok);
    free(b->pos);
    free(b->seq);
    free(b->want);
    free(b->nll);
    free(b->nll2);
}

nemo_status nemo_perplexity(const nemo_model *m, const int32_t *ids, size_t n_ids,
                            const nemo_ppl_params *p, nemo_ppl_result *out, nemo_error *err) {
    if (!m || !out || (!ids && n_ids))
        return nemo_fail(err, NEMO_ERR_ARG, "perplexity: NULL argument");
    memset(out, 0, sizeof *out);
    nemo_ppl_params d = {0};
    if (p) d = *p;
    const nemo_config *c = &m->cfg;
    int n_ctx = d.n_ctx ? d.n_ctx : 512;
    if (n_ctx < 4 || n_ctx > c->max_seq_len)
        return nemo_fail(err, NEMO_ERR_ARG,
                         "perplexity: context of %d tokens outside [4, %d] (the model's maximum)",
                         n_ctx, c->max_seq_len);
    int n_batch = d.n_batch ? d.n_batch : n_ctx;
    if (n_batch < 1 || (n_batch >= n_ctx && n_batch % n_ctx))
        return nemo_fail(err, NEMO_ERR_ARG,
                         "perplexity: batch of %d tokens must be below the context (%d) or a "
                         "multiple of it",
                         n_batch, n_ctx);
    int add_bos = d.add_bos < 0 ? nemo_model_add_bos(m) : d.add_bos != 0;
    if (add_bos && c->bos_id < 0)
        return nemo_fail(err, NEMO_ERR_ARG,
                         "perplexity: BOS requested but the model has no BOS id");
    if (n_ids < 2 * (size_t)n_ctx)
        return nemo_fail(err, NEMO_ERR_ARG,
                         "perplexity: %zu tokens; at least %d (2 × the context of %d) are needed",
                         n_ids, 2 * n_ctx, n_ctx);
    for (size_t i = 0; i < n_ids; i++)
        if (ids[i] < 0 || ids[i] >= c->vocab_size)
            return nemo_fail(err, NEMO_ERR_ARG, "perplexity: token %zu is %d, outside [0, %d)", i,
                             ids[i], c->vocab_size);
    int max_chunks = (int)(n_ids / (size_t)n_ctx);
    int n_chunks = d.n_chunks > 0 && d.n_chunks < max_chunks ? d.n_chunks : max_chunks;
    int n_seq = n_batch >= n_ctx ? n_batch / n_ctx : 1;
    if (n_seq > n_chunks) n_seq = n_chunks;
    int piece = n_batch < n_ctx ? n_batch : n_ctx; /* tokens of one chunk per decode call */
    int n_pieces = (n_ctx + piece - 1) / piece;
    int first = n_ctx / 2;

    nemo_session_params sp = {
        .n_ctx = n_ctx, .n_seq = n_seq, .n_batch = piece * n_seq, .n_threads = d.n_threads};
    nemo_session *s = NULL;
    nemo_status st = nemo_session_create(m, &sp, &s, err);
    if (st) return st;
    size_t cap = (size_t)piece * (size_t)n_seq;
    batch_bufs b = {malloc(cap * sizeof *b.tok),           malloc(cap * sizeof *b.pos),
                    malloc(cap * sizeof *b.seq),           malloc(cap * sizeof *b.want),
                    calloc((size_t)n_seq, sizeof(double)), calloc((size_t)n_seq, sizeof(double))};
    if (!b.tok || !b.pos || !b.seq || !b.want || !b.nll || !b.nll2) {
        free_bufs(&b);
        nemo_session_free(s);
        return nemo_fail(err, NEMO_ERR_NOMEM, "perplexity: out of memory");
    }
    double nll = 0, nll2 = 0;
    long count = 0;
    for (int i = 0; i < n_chunks && !st; i += n_seq) {
        int n_here = n_chunks - i < n_seq ? n_chunks - i : n_seq;
        for (int q = 0; q < n_here && !st; q++) {
            st = nemo_session_seq_truncate(s, q, 0, err);
            b.nll[q] = b.nll2[q] = 0;
        }
        for (int j = 0; j < n_pieces && !st; j++) {
            int p0 = j * piece, len = n_ctx - p0 < piece ? n_ctx - p0 : piece, k = 0;
            for (int q = 0; q < n_here; q++) {
                const int32_t *chunk = ids + (size_t)(i + q) * (size_t)n_ctx;
                for (int t = 0; t < len; t++, k++) {
                    int pos = p0 + t;
                    b.tok[k] = pos == 0 && add_bos ? c->bos_id : chunk[pos];
                    b.pos[k] = pos;
                    b.seq[k] = q;
                    b.want[k] = pos >= first && pos < n_ctx - 1; /* the last logit has no target */
                }
            }
            nemo_batch nb = {k, b.tok, b.pos, b.seq, b.want};
            if ((st = nemo_session_decode(s, &nb, err))) break;
            for (int r = 0; r < k; r++) {
                if (!b.want[r]) continue;
                const int32_t *chunk = ids + (size_t)(i + b.seq[r]) * (size_t)n_ctx;
                double v = nll_of(nemo_session_logits(s, r), c->vocab_size, chunk[b.pos[r] + 1]);
                b.nll[b.seq[r]] += v;
                b.nll2[b.seq[r]] += v * v;
            }
        }
        /* add the chunks in order, so the running estimates are llama.cpp's "[i]ppl," values */
        for (int q = 0; q < n_here && !st; q++) {
            nll += b.nll[q];
            nll2 += b.nll2[q];
            count += n_ctx - first - 1;
            if (d.on_chunk) d.on_chunk(i + q + 1, n_chunks, exp(nll / (double)count), d.user);
        }
    }
    free_bufs(&b);
    nemo_session_free(s);
    if (st) return st;
    double mean = nll / (double)count, var = nll2 / (double)count - mean * mean;
    out->nll = mean;
    out->ppl = exp(mean);
    out->ppl_err = var > 0 && count > 1 ? sqrt(var / (double)(count - 1)) * out->ppl : 0;
    out->n_chunks = n_chunks;
    out->n_scored = (int)count;
    return NEMO_OK;
}

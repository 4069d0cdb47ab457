/* gguf_config.c — GGUF llama-architecture metadata → nemo_config (key names in spec 2e).
 * GGUF conversions of Mistral models use the `llama` architecture; NeMo needs the explicit
 * attention.key_length because its head_dim (128) is not dim / heads (5120 / 32). */
#include "checkpoint/gguf.h"

#include <math.h>

#define ARCH    "llama"
#define MAX_CTX 131072

/* A required positive integer key that fits an int. */
static nemo_status req_int(const nemo_gguf *g, const char *key, int *out, nemo_error *err) {
    uint32_t v;
    nemo_status st = nemo_gguf_get_u32(g, key, &v, err);
    if (st) return st;
    if (v == 0 || v > INT32_MAX)
        return nemo_fail(err, NEMO_ERR_CONFIG, "%s: key '%s' = %u, expected 1..%d", g->name, key, v,
                         INT32_MAX);
    *out = (int)v;
    return NEMO_OK;
}

/* An optional positive integer: *out keeps its value when the key is absent. */
static nemo_status opt_int(const nemo_gguf *g, const char *key, int *out, nemo_error *err) {
    if (!nemo_gguf_find(g, key)) return NEMO_OK;
    return req_int(g, key, out, err);
}

static nemo_status opt_id(const nemo_gguf *g, const char *key, int *out, nemo_error *err) {
    *out = -1;
    if (!nemo_gguf_find(g, key)) return NEMO_OK;
    int32_t v;
    nemo_status st = nemo_gguf_get_i32(g, key, &v, err);
    if (!st) *out = v;
    return st;
}

nemo_status nemo_gguf_config(const nemo_gguf *g, nemo_config *cfg, nemo_error *err) {
    memset(cfg, 0, sizeof *cfg);
    const char *arch;
    uint64_t alen;
    nemo_status st = nemo_gguf_get_str(g, "general.architecture", &arch, &alen, err);
    if (st) return st;
    if (alen != strlen(ARCH) || memcmp(arch, ARCH, alen) != 0)
        return nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                         "%s: general.architecture is '%.*s'; only 'llama' (Mistral, NeMo, "
                         "Llama-style models) is supported",
                         g->name, (int)(alen > 64 ? 64 : alen), arch);
    if ((st = req_int(g, ARCH ".embedding_length", &cfg->dim, err)) ||
        (st = req_int(g, ARCH ".block_count", &cfg->n_layers, err)) ||
        (st = req_int(g, ARCH ".attention.head_count", &cfg->n_heads, err)) ||
        (st = req_int(g, ARCH ".feed_forward_length", &cfg->hidden_dim, err)))
        return st;
    cfg->n_kv_heads = cfg->n_heads;
    if ((st = opt_int(g, ARCH ".attention.head_count_kv", &cfg->n_kv_heads, err))) return st;
    if (cfg->n_kv_heads > cfg->n_heads || cfg->n_heads % cfg->n_kv_heads)
        return nemo_fail(err, NEMO_ERR_CONFIG,
                         "%s: attention.head_count %d is not a multiple of head_count_kv %d",
                         g->name, cfg->n_heads, cfg->n_kv_heads);
    if (!nemo_gguf_find(g, ARCH ".attention.key_length") && cfg->dim % cfg->n_heads)
        return nemo_fail(err, NEMO_ERR_CONFIG,
                         "%s: no attention.key_length and embedding_length %d is not a multiple "
                         "of head_count %d",
                         g->name, cfg->dim, cfg->n_heads);
    cfg->head_dim = cfg->dim / cfg->n_heads;
    if ((st = opt_int(g, ARCH ".attention.key_length", &cfg->head_dim, err))) return st;
    int vlen = cfg->head_dim, rot = cfg->head_dim;
    if ((st = opt_int(g, ARCH ".attention.value_length", &vlen, err)) ||
        (st = opt_int(g, ARCH ".rope.dimension_count", &rot, err)))
        return st;
    if (vlen != cfg->head_dim)
        return nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                         "%s: attention.value_length %d differs from key_length %d", g->name, vlen,
                         cfg->head_dim);
    if (rot != cfg->head_dim)
        return nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                         "%s: rope.dimension_count %d: partial rotary embeddings (head_dim %d) "
                         "are not supported",
                         g->name, rot, cfg->head_dim);
    const nemo_gguf_kv *sc = nemo_gguf_find(g, ARCH ".rope.scaling.type");
    if (sc && !(sc->type == NEMO_GGUF_STRING && sc->len == 4 && !memcmp(sc->val, "none", 4)))
        return nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                         "%s: rope.scaling.type is set: RoPE scaling "
                         "is not supported",
                         g->name);
    if ((st = nemo_gguf_get_f32(g, ARCH ".attention.layer_norm_rms_epsilon", &cfg->norm_eps, err)))
        return st;
    if (!(cfg->norm_eps > 0 && cfg->norm_eps < 1))
        return nemo_fail(err, NEMO_ERR_CONFIG,
                         "%s: attention.layer_norm_rms_epsilon %g is not in (0, 1)", g->name,
                         (double)cfg->norm_eps);
    cfg->rope_theta = 10000.0f; /* llama.cpp's default when the key is absent */
    if (nemo_gguf_find(g, ARCH ".rope.freq_base") &&
        (st = nemo_gguf_get_f32(g, ARCH ".rope.freq_base", &cfg->rope_theta, err)))
        return st;
    if (!(cfg->rope_theta > 1 && isfinite(cfg->rope_theta)))
        return nemo_fail(err, NEMO_ERR_CONFIG, "%s: rope.freq_base %g is not a valid RoPE base",
                         g->name, (double)cfg->rope_theta);
    cfg->max_seq_len = 4096;
    if ((st = opt_int(g, ARCH ".context_length", &cfg->max_seq_len, err))) return st;
    if (cfg->max_seq_len > MAX_CTX) cfg->max_seq_len = MAX_CTX;
    /* vocabulary: the explicit key, else the token list, else the embedding rows */
    nemo_gguf_array toks = {0};
    int have_toks = nemo_gguf_find(g, "tokenizer.ggml.tokens") != NULL;
    if (have_toks && (st = nemo_gguf_get_strings(g, "tokenizer.ggml.tokens", &toks, err)))
        return st;
    const nemo_tensor_entry *emb = nemo_tdir_find(&g->dir, "token_embd.weight");
    if (nemo_gguf_find(g, ARCH ".vocab_size")) {
        if ((st = req_int(g, ARCH ".vocab_size", &cfg->vocab_size, err))) return st;
    } else if (have_toks && toks.count > 0 && toks.count <= INT32_MAX) {
        cfg->vocab_size = (int)toks.count;
    } else if (emb && emb->ndim == 2 && emb->shape[0] > 0 && emb->shape[0] <= INT32_MAX) {
        cfg->vocab_size = (int)emb->shape[0];
    } else {
        return nemo_fail(err, NEMO_ERR_MISSING,
                         "%s: no llama.vocab_size, tokenizer.ggml.tokens or token_embd.weight "
                         "to take the vocabulary size from",
                         g->name);
    }
    if (have_toks && toks.count != (uint64_t)cfg->vocab_size)
        return nemo_fail(err, NEMO_ERR_CONFIG,
                         "%s: llama.vocab_size %d but tokenizer.ggml.tokens has %llu entries",
                         g->name, cfg->vocab_size, (unsigned long long)toks.count);
    if (emb && !(emb->ndim == 2 && emb->shape[0] == (uint64_t)cfg->vocab_size &&
                 emb->shape[1] == (uint64_t)cfg->dim))
        return nemo_fail(err, NEMO_ERR_CONFIG,
                         "%s: tensor 'token_embd.weight' has shape [%llu, %llu], expected "
                         "[vocab_size %d, embedding_length %d]",
                         g->name, (unsigned long long)(emb->ndim > 0 ? emb->shape[0] : 0),
                         (unsigned long long)(emb->ndim > 1 ? emb->shape[1] : 0), cfg->vocab_size,
                         cfg->dim);
    cfg->tied_embeddings = nemo_tdir_find(&g->dir, "output.weight") == NULL;
    if ((st = opt_id(g, "tokenizer.ggml.bos_token_id", &cfg->bos_id, err)) ||
        (st = opt_id(g, "tokenizer.ggml.eos_token_id", &cfg->eos_id, err)))
        return st;
    if (cfg->bos_id >= cfg->vocab_size || cfg->eos_id >= cfg->vocab_size)
        return nemo_fail(err, NEMO_ERR_CONFIG,
                         "%s: bos/eos token id %d/%d outside the vocabulary of %d", g->name,
                         cfg->bos_id, cfg->eos_id, cfg->vocab_size);
    cfg->sliding_window = 0; /* the llama GGUF architecture carries no sliding window */
    cfg->layout = NEMO_LAYOUT_GGUF;
    return NEMO_OK;
}

/* plan.c — the tensor list of a synthetic checkpoint: validated hyperparameters, exact names
 * and shapes for the native and HF layouts, value scales, and the assignment of tensors to HF
 * shards. Everything that writes files works from this list. */
#include "synth/synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Name pairs (native, HF) of the per-layer tensors, in the order mistral-inference declares
 * them; "%d" is the layer. */
static const struct {
    nemo_synth_role role;
    const char *native, *hf;
} LAYER_TENSORS[] = {
    {NEMO_SYNTH_ATTN_NORM, "layers.%d.attention_norm.weight",
     "model.layers.%d.input_layernorm.weight"},
    {NEMO_SYNTH_WQ, "layers.%d.attention.wq.weight", "model.layers.%d.self_attn.q_proj.weight"},
    {NEMO_SYNTH_WK, "layers.%d.attention.wk.weight", "model.layers.%d.self_attn.k_proj.weight"},
    {NEMO_SYNTH_WV, "layers.%d.attention.wv.weight", "model.layers.%d.self_attn.v_proj.weight"},
    {NEMO_SYNTH_WO, "layers.%d.attention.wo.weight", "model.layers.%d.self_attn.o_proj.weight"},
    {NEMO_SYNTH_FFN_NORM, "layers.%d.ffn_norm.weight",
     "model.layers.%d.post_attention_layernorm.weight"},
    {NEMO_SYNTH_W1, "layers.%d.feed_forward.w1.weight", "model.layers.%d.mlp.gate_proj.weight"},
    {NEMO_SYNTH_W2, "layers.%d.feed_forward.w2.weight", "model.layers.%d.mlp.down_proj.weight"},
    {NEMO_SYNTH_W3, "layers.%d.feed_forward.w3.weight", "model.layers.%d.mlp.up_proj.weight"},
};
#define N_LAYER_TENSORS ((int)(sizeof LAYER_TENSORS / sizeof LAYER_TENSORS[0]))

/* Uniform law on [-a, a] has std a/sqrt(3). Projections get std 1/sqrt(fan_in) so every
 * activation stays O(1) through the layers and attention scores are neither flat nor one-hot;
 * the embedding has std 1 (RMSNorm removes its scale anyway, but the residual stream keeps
 * it); the LM head gets std 2/sqrt(D) so logits spread over a few units and greedy picks are
 * rarely near-ties; norm weights are 1 +- 0.1 so a missing norm weight changes the result. */
static float uniform_halfwidth(double std) {
    return (float)(std * sqrt(3.0));
}

static nemo_status check_params(const nemo_synth_params *p, nemo_error *err) {
    const nemo_config *c = &p->cfg;
    if (c->dim <= 0 || c->n_layers <= 0 || c->n_heads <= 0 || c->n_kv_heads <= 0 ||
        c->head_dim <= 0 || c->hidden_dim <= 0 || c->vocab_size <= 0)
        return nemo_fail(err, NEMO_ERR_CONFIG,
                         "synth: dims must be positive (dim %d, n_layers %d, n_heads %d, "
                         "n_kv_heads %d, head_dim %d, hidden_dim %d, vocab_size %d)",
                         c->dim, c->n_layers, c->n_heads, c->n_kv_heads, c->head_dim, c->hidden_dim,
                         c->vocab_size);
    if (c->head_dim % 2)
        return nemo_fail(err, NEMO_ERR_CONFIG, "synth: head_dim %d is odd (RoPE rotates pairs)",
                         c->head_dim);
    if (c->n_heads % c->n_kv_heads)
        return nemo_fail(err, NEMO_ERR_CONFIG,
                         "synth: n_heads %d is not a multiple of n_kv_heads %d", c->n_heads,
                         c->n_kv_heads);
    if (c->sliding_window < 0)
        return nemo_fail(err, NEMO_ERR_CONFIG, "synth: sliding_window %d is negative",
                         c->sliding_window);
    if (!(c->norm_eps > 0) || !(c->rope_theta > 0) || !isfinite(c->rope_theta))
        return nemo_fail(err, NEMO_ERR_CONFIG, "synth: norm_eps %g and rope_theta %g must be > 0",
                         (double)c->norm_eps, (double)c->rope_theta);
    if ((uint64_t)c->n_heads * (uint64_t)c->head_dim > INT32_MAX)
        return nemo_fail(err, NEMO_ERR_CONFIG, "synth: n_heads * head_dim too large");
    if (p->dtype != NEMO_DTYPE_F32 && p->dtype != NEMO_DTYPE_F16 && p->dtype != NEMO_DTYPE_BF16 &&
        p->dtype != NEMO_DTYPE_F8_E4M3)
        return nemo_fail(err, NEMO_ERR_ARG, "synth: dtype %s is not F32, F16, BF16 or F8_E4M3",
                         nemo_dtype_name(p->dtype));
    if (c->layout != NEMO_LAYOUT_NATIVE && c->layout != NEMO_LAYOUT_HF)
        return nemo_fail(err, NEMO_ERR_ARG, "synth: layout must be native or hf");
    if (p->n_shards < 0 || (p->n_shards > 1 && c->layout != NEMO_LAYOUT_HF))
        return nemo_fail(err, NEMO_ERR_ARG,
                         "synth: %d shards: only the HF layout is sharded (native is one "
                         "consolidated.safetensors)",
                         p->n_shards);
    if (p->n_shards > 99999)
        return nemo_fail(err, NEMO_ERR_ARG, "synth: %d shards is more than 5 digits can name",
                         p->n_shards);
    return NEMO_OK;
}

static nemo_synth_tensor *add(nemo_synth_plan *pl, const nemo_synth_params *p, nemo_synth_role role,
                              int layer, const char *native_fmt, const char *hf_fmt, uint64_t rows,
                              uint64_t cols, double std) {
    nemo_synth_tensor *t = &pl->t[pl->n++];
    memset(t, 0, sizeof *t);
    snprintf(t->native_name, sizeof t->native_name, native_fmt, layer);
    snprintf(t->name, sizeof t->name, p->cfg.layout == NEMO_LAYOUT_HF ? hf_fmt : native_fmt, layer);
    t->role = role;
    t->layer = layer;
    t->ndim = rows ? 2 : 1;
    t->rows = rows ? rows : 1;
    t->cols = cols;
    t->scale = t->ndim == 1 ? 0.1f : uniform_halfwidth(std);
    t->head_dim = p->cfg.head_dim;
    t->permuted =
        p->cfg.layout == NEMO_LAYOUT_HF && (role == NEMO_SYNTH_WQ || role == NEMO_SYNTH_WK);
    t->dtype = p->dtype;
    if (p->dtype == NEMO_DTYPE_F8_E4M3) {
        int fp8 = layer >= 0 && rows;
        t->dtype = fp8 ? NEMO_DTYPE_F8_E4M3 : NEMO_DTYPE_BF16;
        /* |values| <= scale (uniform law), so scale / 448 maps the range onto FP8's: the
         * amax/448 rule of AutoFP8 without a pass over the data */
        if (fp8) t->value = t->scale / 448.0f;
    }
    return t;
}

/* The two scale tensors that follow an FP8 matrix w, named in the layout's convention:
 * HF (AutoFP8 / compressed-tensors) X.weight_scale + X.input_scale, native X.qscale_weight +
 * X.qscale_act. The activation scale is a plausible calibrated value (|x| <= 4 after RMSNorm);
 * our engine does not use it (activations stay f32). */
static void add_scales(nemo_synth_plan *pl, const nemo_synth_params *p,
                       const nemo_synth_tensor *w) {
    const int hf = p->cfg.layout == NEMO_LAYOUT_HF;
    for (int k = 0; k < 2; k++) {
        nemo_synth_tensor *t = &pl->t[pl->n++];
        memset(t, 0, sizeof *t);
        char base[80], nbase[80]; /* + "." + the longest suffix fits the 96 of a name */
        snprintf(base, sizeof base, "%.*s", (int)strlen(w->name) - 7, w->name); /* - ".weight" */
        snprintf(nbase, sizeof nbase, "%.*s", (int)strlen(w->native_name) - 7, w->native_name);
        const char *suf =
            k == 0 ? (hf ? "weight_scale" : "qscale_weight") : (hf ? "input_scale" : "qscale_act");
        snprintf(t->name, sizeof t->name, "%s.%s", base, suf);
        snprintf(t->native_name, sizeof t->native_name, "%s.%s", nbase,
                 k == 0 ? "qscale_weight" : "qscale_act");
        t->role = k == 0 ? NEMO_SYNTH_WSCALE : NEMO_SYNTH_ASCALE;
        t->layer = w->layer;
        t->ndim = 1;
        t->ndim0 = 1;
        t->rows = t->cols = 1;
        t->dtype = NEMO_DTYPE_F32;
        t->value = k == 0 ? w->value : 4.0f / 448.0f;
    }
}

nemo_status nemo_synth_plan_make(const nemo_synth_params *p, nemo_synth_plan *out,
                                 nemo_error *err) {
    memset(out, 0, sizeof *out);
    nemo_status st = check_params(p, err);
    if (st) return st;
    const nemo_config *c = &p->cfg;
    uint64_t D = (uint64_t)c->dim, F = (uint64_t)c->hidden_dim, V = (uint64_t)c->vocab_size;
    uint64_t Q = (uint64_t)c->n_heads * (uint64_t)c->head_dim;
    uint64_t KV = (uint64_t)c->n_kv_heads * (uint64_t)c->head_dim;
    int cap = c->n_layers * N_LAYER_TENSORS * 3 + 3; /* FP8: 2 scales per matrix */
    out->t = calloc((size_t)cap, sizeof *out->t);
    if (!out->t) return nemo_fail(err, NEMO_ERR_NOMEM, "synth: out of memory for %d tensors", cap);

    add(out, p, NEMO_SYNTH_EMBED, -1, "tok_embeddings.weight", "model.embed_tokens.weight", V, D,
        1.0);
    for (int l = 0; l < c->n_layers; l++) {
        for (int k = 0; k < N_LAYER_TENSORS; k++) {
            uint64_t rows = 0, cols = D;
            double std = 1.0 / sqrt((double)D);
            switch (LAYER_TENSORS[k].role) {
            case NEMO_SYNTH_WQ: rows = Q; break;
            case NEMO_SYNTH_WK:
            case NEMO_SYNTH_WV: rows = KV; break;
            case NEMO_SYNTH_WO:
                rows = D, cols = Q;
                std = 1.0 / sqrt((double)Q);
                break;
            case NEMO_SYNTH_W1:
            case NEMO_SYNTH_W3: rows = F; break;
            case NEMO_SYNTH_W2:
                rows = D, cols = F;
                std = 1.0 / sqrt((double)F);
                break;
            default: break; /* norms: 1-D of length D */
            }
            nemo_synth_tensor *t = add(out, p, LAYER_TENSORS[k].role, l, LAYER_TENSORS[k].native,
                                       LAYER_TENSORS[k].hf, rows, cols, std);
            if (t->dtype == NEMO_DTYPE_F8_E4M3) add_scales(out, p, t);
        }
    }
    add(out, p, NEMO_SYNTH_FINAL_NORM, -1, "norm.weight", "model.norm.weight", 0, D, 0);
    if (!c->tied_embeddings)
        add(out, p, NEMO_SYNTH_OUTPUT, -1, "output.weight", "lm_head.weight", V, D,
            2.0 / sqrt((double)D));

    for (int i = 0; i < out->n; i++) {
        nemo_synth_tensor *t = &out->t[i];
        uint64_t n;
        if (nemo_mul_u64(t->rows, t->cols, &n) || !(t->nbytes = nemo_dtype_bytes(t->dtype, n)) ||
            nemo_add_u64(out->data_bytes, t->nbytes, &out->data_bytes)) {
            nemo_synth_plan_free(out);
            return nemo_fail(err, NEMO_ERR_CONFIG, "synth: tensor sizes overflow 64 bits");
        }
    }

    /* Shards: tensors in model order (as transformers' save_pretrained fills them), a new
     * shard when the bytes so far pass the next 1/n of the total, and never an empty shard. */
    int ns = p->n_shards > 1 ? p->n_shards : 1;
    if (ns > out->n) {
        int n = out->n;
        nemo_synth_plan_free(out);
        return nemo_fail(err, NEMO_ERR_ARG, "synth: %d shards for only %d tensors", ns, n);
    }
    out->n_shards = ns;
    int s = 0, in_shard = 0;
    uint64_t before = 0;
    for (int i = 0; i < out->n; i++) {
        int must = out->n - i == ns - 1 - s; /* one tensor left per remaining shard */
        double target = (double)out->data_bytes * (s + 1) / ns;
        if (s < ns - 1 && in_shard && (must || (double)before >= target)) s++, in_shard = 0;
        out->t[i].shard = s;
        in_shard++;
        before += out->t[i].nbytes;
    }
    return NEMO_OK;
}

void nemo_synth_plan_free(nemo_synth_plan *pl) {
    if (!pl) return;
    free(pl->t);
    memset(pl, 0, sizeof *pl);
}

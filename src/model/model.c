/* model.c — nemo_model_open: finds the checkpoint files of a folder (native or HF layout),
 * reads the config, and binds every tensor by name with its expected shape. Nothing is copied
 * but the norm vectors; weights stay in the mapping in their file dtype. */
#include "model/model.h"

#include "checkpoint/gguf.h"
#include "checkpoint/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

typedef struct {
    const char *embed, *output, *norm;
    const char *attn_norm, *ffn_norm, *wq, *wk, *wv, *wo, *w1, *w2, *w3; /* with %d = layer */
} name_scheme;

static const name_scheme NATIVE_NAMES = {
    "tok_embeddings.weight",
    "output.weight",
    "norm.weight",
    "layers.%d.attention_norm.weight",
    "layers.%d.ffn_norm.weight",
    "layers.%d.attention.wq.weight",
    "layers.%d.attention.wk.weight",
    "layers.%d.attention.wv.weight",
    "layers.%d.attention.wo.weight",
    "layers.%d.feed_forward.w1.weight",
    "layers.%d.feed_forward.w2.weight",
    "layers.%d.feed_forward.w3.weight",
};

static const name_scheme HF_NAMES = {
    "model.embed_tokens.weight",
    "lm_head.weight",
    "model.norm.weight",
    "model.layers.%d.input_layernorm.weight",
    "model.layers.%d.post_attention_layernorm.weight",
    "model.layers.%d.self_attn.q_proj.weight",
    "model.layers.%d.self_attn.k_proj.weight",
    "model.layers.%d.self_attn.v_proj.weight",
    "model.layers.%d.self_attn.o_proj.weight",
    "model.layers.%d.mlp.gate_proj.weight",
    "model.layers.%d.mlp.down_proj.weight",
    "model.layers.%d.mlp.up_proj.weight",
};

static const name_scheme GGUF_NAMES = {
    "token_embd.weight",       "output.weight",          "output_norm.weight",
    "blk.%d.attn_norm.weight", "blk.%d.ffn_norm.weight", "blk.%d.attn_q.weight",
    "blk.%d.attn_k.weight",    "blk.%d.attn_v.weight",   "blk.%d.attn_output.weight",
    "blk.%d.ffn_gate.weight",  "blk.%d.ffn_down.weight", "blk.%d.ffn_up.weight",
};

static const nemo_tensor_entry *need(nemo_model *m, const char *name, nemo_error *err) {
    const nemo_tensor_entry *e = nemo_tdir_find(m->tdir, name);
    if (!e)
        nemo_fail(err, NEMO_ERR_MISSING, "%s: tensor '%s' is missing from the checkpoint", m->path,
                  name);
    return e;
}

static const char *where(const nemo_model *m, const nemo_tensor_entry *e) {
    return e->file >= 0 && e->file < m->tdir->n_files ? m->tdir->paths[e->file] : m->path;
}

/* Reads a per-tensor scale: a float scalar (shape [] or [1]), finite and > 0. Per-channel
 * scales (one per output row, which vLLM also accepts) are refused clearly: nemo_wmat carries
 * one scale. */
static nemo_status read_scale(nemo_model *m, const nemo_tensor_entry *s, const char *weight,
                              int64_t rows, float *out, nemo_error *err) {
    int scalar = s->n_elems == 1;
    for (int d = 0; d < s->ndim; d++) scalar &= s->shape[d] == 1;
    if (!scalar && s->n_elems == (uint64_t)rows && rows > 1)
        return nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                         "%s: scale tensor '%s' of '%s' has %llu elements (per-channel); only "
                         "per-tensor FP8 scales (a scalar) are supported",
                         where(m, s), s->name, weight, (unsigned long long)s->n_elems);
    if (!scalar)
        return nemo_fail(err, NEMO_ERR_SHAPE,
                         "%s: scale tensor '%s' of '%s' has %d dimension(s) and %llu elements, "
                         "expected a scalar (shape [] or [1])",
                         where(m, s), s->name, weight, s->ndim, (unsigned long long)s->n_elems);
    float v;
    uint16_t h;
    switch (s->dtype) {
    case NEMO_DTYPE_F32: memcpy(&v, s->data, 4); break;
    case NEMO_DTYPE_BF16: memcpy(&h, s->data, 2), v = nemo_bf16_to_f32(h); break;
    case NEMO_DTYPE_F16: memcpy(&h, s->data, 2), v = nemo_f16_to_f32(h); break;
    default:
        return nemo_fail(err, NEMO_ERR_SHAPE,
                         "%s: scale tensor '%s' of '%s' has dtype %s, expected F32 (or BF16/F16)",
                         where(m, s), s->name, weight, nemo_dtype_name(s->dtype));
    }
    if (!(v > 0) || !isfinite(v))
        return nemo_fail(err, NEMO_ERR_FORMAT,
                         "%s: scale tensor '%s' of '%s' holds %g, expected a finite value > 0",
                         where(m, s), s->name, weight, (double)v);
    *out = v;
    return NEMO_OK;
}

/* FP8 weights carry their dequantization scale in a companion tensor (spec 2c):
 *   HF / compressed-tensors / AutoFP8:  X.weight + X.weight_scale (+ X.input_scale)
 *   Mistral native:                     X.weight + X.qscale_weight (+ X.qscale_act)
 *   our FP8 GGUF (docs/fp8.md):    X.weight + X.weight_scale
 * W = fp8(W) * weight_scale. The activation scale (input_scale / qscale_act) tells FP8 GEMM
 * hardware how to quantize x to FP8 (x_q = fp8(x / input_scale)); we keep activations in f32,
 * so y = weight_scale * (W_q . x) is the exact product of the dequantized weight and it is not
 * needed. It is still checked when present, so a malformed checkpoint does not load. */
static nemo_status bind_fp8_scale(nemo_model *m, const char *name, int64_t rows, nemo_wmat *w,
                                  nemo_error *err) {
    static const char *const WSUF[] = {".weight_scale", ".qscale_weight"};
    static const char *const ASUF[] = {".input_scale", ".qscale_act"};
    char base[256], sname[300];
    size_t n = strlen(name);
    if (n >= sizeof base) return nemo_fail(err, NEMO_ERR_ARG, "tensor name too long: %s", name);
    memcpy(base, name, n + 1);
    if (n > 7 && !strcmp(base + n - 7, ".weight")) base[n - 7] = 0;
    const nemo_tensor_entry *ws = NULL, *as = NULL;
    for (int k = 0; k < 2 && !ws; k++) {
        snprintf(sname, sizeof sname, "%s%s", base, WSUF[k]);
        ws = nemo_tdir_find(m->tdir, sname);
        snprintf(sname, sizeof sname, "%s%s", base, ASUF[k]);
        if (ws) as = nemo_tdir_find(m->tdir, sname);
    }
    if (!ws)
        return nemo_fail(
            err, NEMO_ERR_MISSING,
            "%s: tensor '%s' is FP8 (F8_E4M3) without scales: expected '%s.weight_scale' "
            "(HF) or '%s.qscale_weight' (Mistral native)",
            m->path, name, base, base);
    float unused;
    nemo_status st = read_scale(m, ws, name, rows, &w->scale, err);
    if (!st && as) st = read_scale(m, as, name, rows, &unused, err);
    return st;
}

static nemo_status bind_matrix(nemo_model *m, const char *name, int64_t rows, int64_t cols,
                               nemo_wmat *w, nemo_error *err) {
    const nemo_tensor_entry *e = need(m, name, err);
    if (!e) return NEMO_ERR_MISSING;
    if (e->ndim != 2 || (int64_t)e->shape[0] != rows || (int64_t)e->shape[1] != cols)
        return nemo_fail(err, NEMO_ERR_SHAPE,
                         "%s: tensor '%s' has shape %s[%llu, %llu], expected [%lld, %lld] from "
                         "the config",
                         where(m, e), name, e->ndim == 2 ? "" : "(not 2-D) ",
                         (unsigned long long)(e->ndim > 0 ? e->shape[0] : 0),
                         (unsigned long long)(e->ndim > 1 ? e->shape[1] : 0), (long long)rows,
                         (long long)cols);
    nemo_dtype dt = e->dtype;
    /* our FP8 GGUF stores E4M3 bytes as ggml I8 (ggml has no FP8 type), flagged by a key */
    if (dt == NEMO_DTYPE_I8 && m->gguf && nemo_gguf_find(m->gguf, NEMO_GGUF_FP8_KEY))
        dt = NEMO_DTYPE_F8_E4M3;
    const nemo_dtype_traits *ti = nemo_dtype_info(dt);
    if (!ti->is_float || cols % ti->block_elems)
        return nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                         "%s: tensor '%s' has dtype %s, which cannot be used as weights here",
                         where(m, e), name, ti->name);
    w->data = e->data;
    w->dtype = dt;
    w->rows = rows;
    w->cols = cols;
    w->row_bytes = nemo_dtype_bytes(dt, (uint64_t)cols);
    w->scale = 1.0f;
    if (dt == NEMO_DTYPE_F8_E4M3) return bind_fp8_scale(m, name, rows, w, err);
    return NEMO_OK;
}

static nemo_status bind_vector(nemo_model *m, const char *name, int64_t n, float **out,
                               nemo_error *err) {
    const nemo_tensor_entry *e = need(m, name, err);
    if (!e) return NEMO_ERR_MISSING;
    if (e->ndim != 1 || (int64_t)e->shape[0] != n)
        return nemo_fail(err, NEMO_ERR_SHAPE,
                         "%s: tensor '%s' has %d dimension(s) and %llu elements, expected a "
                         "vector of %lld",
                         where(m, e), name, e->ndim, (unsigned long long)e->n_elems, (long long)n);
    if (e->dtype != NEMO_DTYPE_F32 && e->dtype != NEMO_DTYPE_F16 && e->dtype != NEMO_DTYPE_BF16)
        return nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                         "%s: tensor '%s' has dtype %s, expected a "
                         "float type for a norm weight",
                         where(m, e), name, nemo_dtype_name(e->dtype));
    float *v = malloc((size_t)n * sizeof *v);
    if (!v) return nemo_fail(err, NEMO_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *p = (const uint8_t *)e->data;
        switch (e->dtype) {
        case NEMO_DTYPE_F32: memcpy(&v[i], p + 4 * i, 4); break;
        case NEMO_DTYPE_F16: {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            v[i] = nemo_f16_to_f32(h);
            break;
        }
        default: {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            v[i] = nemo_bf16_to_f32(h);
        }
        }
    }
    *out = v;
    return NEMO_OK;
}

static nemo_status bind_weights(nemo_model *m, const name_scheme *ns, nemo_error *err) {
    const nemo_config *c = &m->cfg;
    int64_t q = (int64_t)c->n_heads * c->head_dim, kv = (int64_t)c->n_kv_heads * c->head_dim;
    nemo_status st;
    if ((st = bind_matrix(m, ns->embed, c->vocab_size, c->dim, &m->tok_embeddings, err))) return st;
    if (c->tied_embeddings && !nemo_tdir_find(m->tdir, ns->output))
        m->output = m->tok_embeddings;
    else if ((st = bind_matrix(m, ns->output, c->vocab_size, c->dim, &m->output, err)))
        return st;
    if ((st = bind_vector(m, ns->norm, c->dim, &m->final_norm, err))) return st;
    m->layers = calloc((size_t)c->n_layers, sizeof *m->layers);
    if (!m->layers) return nemo_fail(err, NEMO_ERR_NOMEM, "out of memory");
    for (int l = 0; l < c->n_layers; l++) {
        nemo_layer_weights *L = &m->layers[l];
        char name[256];
#define NAME(fmt) (snprintf(name, sizeof name, fmt, l), name)
        if ((st = bind_vector(m, NAME(ns->attn_norm), c->dim, &L->attn_norm, err)) ||
            (st = bind_vector(m, NAME(ns->ffn_norm), c->dim, &L->ffn_norm, err)) ||
            (st = bind_matrix(m, NAME(ns->wq), q, c->dim, &L->wq, err)) ||
            (st = bind_matrix(m, NAME(ns->wk), kv, c->dim, &L->wk, err)) ||
            (st = bind_matrix(m, NAME(ns->wv), kv, c->dim, &L->wv, err)) ||
            (st = bind_matrix(m, NAME(ns->wo), c->dim, q, &L->wo, err)) ||
            (st = bind_matrix(m, NAME(ns->w1), c->hidden_dim, c->dim, &L->w1, err)) ||
            (st = bind_matrix(m, NAME(ns->w2), c->dim, c->hidden_dim, &L->w2, err)) ||
            (st = bind_matrix(m, NAME(ns->w3), c->hidden_dim, c->dim, &L->w3, err)))
            return st;
#undef NAME
    }
    return NEMO_OK;
}

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int has_suffix(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* Reads the checkpoint files of folder `dir` into m (config + tensor directory). */
static nemo_status open_folder(nemo_model *m, const char *dir, nemo_error *err) {
    char p[4096 + 64], cfgp[4096 + 64];
    nemo_status st;
    if (nemo_path_join(p, sizeof p, dir, "params.json") == 0 && nemo_file_exists(p)) {
        if ((st = nemo_config_from_params_json(p, &m->cfg, err))) return st;
        nemo_path_join(p, sizeof p, dir, "consolidated.safetensors");
        if (!nemo_file_exists(p))
            return nemo_fail(err, NEMO_ERR_MISSING,
                             "%s: has params.json (native Mistral layout) but no "
                             "consolidated.safetensors (.pth checkpoints are not supported)",
                             dir);
        m->format = "native safetensors";
        return nemo_st_load(&m->dir, p, err);
    }
    nemo_path_join(cfgp, sizeof cfgp, dir, "config.json");
    if (nemo_file_exists(cfgp)) {
        if ((st = nemo_config_from_hf_json(cfgp, &m->cfg, err))) return st;
        m->format = "hf safetensors";
        nemo_path_join(p, sizeof p, dir, "model.safetensors.index.json");
        if (nemo_file_exists(p)) return nemo_st_load_index(&m->dir, p, err);
        nemo_path_join(p, sizeof p, dir, "model.safetensors");
        if (nemo_file_exists(p)) return nemo_st_load(&m->dir, p, err);
        return nemo_fail(err, NEMO_ERR_MISSING,
                         "%s: has config.json (HF layout) but neither model.safetensors nor "
                         "model.safetensors.index.json",
                         dir);
    }
    return nemo_fail(err, NEMO_ERR_MISSING,
                     "%s: not a model folder: expected params.json + consolidated.safetensors "
                     "(Mistral) or config.json + model*.safetensors (Hugging Face)",
                     dir);
}

nemo_status nemo_model_open(const char *path, nemo_model **out, nemo_error *err) {
    *out = NULL;
    if (!path) return nemo_fail(err, NEMO_ERR_ARG, "no model path given");
    nemo_status cs = nemo_cpu_check(err); /* a bad NEMO_MATMUL must not pass silently */
    if (cs) return cs;
    nemo_model *m = calloc(1, sizeof *m);
    if (!m) return nemo_fail(err, NEMO_ERR_NOMEM, "out of memory");
    snprintf(m->path, sizeof m->path, "%s", path);
    m->tdir = &m->dir;
    nemo_status st;
    if (is_dir(path)) {
        st = open_folder(m, path, err);
    } else if (has_suffix(path, ".safetensors") || has_suffix(path, ".json")) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", path);
        char *s = strrchr(dir, '/');
        if (s)
            *s = 0;
        else
            snprintf(dir, sizeof dir, ".");
        st = open_folder(m, dir, err);
    } else if (has_suffix(path, ".gguf")) {
        st = nemo_gguf_open(path, &m->gguf, err);
        if (!st) st = nemo_gguf_config(m->gguf, &m->cfg, err);
        if (!st) {
            m->tdir = &m->gguf->dir;
            m->format = "gguf";
        }
    } else if (!nemo_file_exists(path)) {
        st = nemo_fail(err, NEMO_ERR_IO, "%s: no such file or folder", path);
    } else {
        st = nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                       "%s: unknown model file type (expected a folder, .safetensors or .gguf)",
                       path);
    }
    const name_scheme *names = m->cfg.layout == NEMO_LAYOUT_HF     ? &HF_NAMES
                               : m->cfg.layout == NEMO_LAYOUT_GGUF ? &GGUF_NAMES
                                                                   : &NATIVE_NAMES;
    if (!st) st = bind_weights(m, names, err);
    if (st) {
        nemo_model_free(m);
        return st;
    }
    *out = m;
    return NEMO_OK;
}

typedef struct {
    const nemo_model_params *p;
    uint64_t base, total, next;
} prefault_progress;

static void report(prefault_progress *pp, uint64_t done) {
    if (pp->p->progress && pp->base + done >= pp->next) {
        pp->p->progress(pp->base + done, pp->total, pp->p->user);
        pp->next = pp->base + done + (64ull << 20); /* progress calls at most every 64 MiB */
    }
}

static void resident_cb(uint64_t done, void *user) {
    report(user, done);
}

/* Moves each weight file into huge-page anonymous memory (nemo_map_resident: decode streams
 * the weights faster without a TLB miss every 4 KiB; the file mapping is released, so the
 * process holds one copy) or, where that is not done, reads one byte per page so the kernel
 * pulls the weights into the page cache now, with progress, instead of during the first forward
 * pass. */
static void prefault(nemo_model *m, const nemo_model_params *p) {
    nemo_tensor_dir *d = (nemo_tensor_dir *)m->tdir; /* the model owns it: &m->dir or its gguf's */
    prefault_progress pp = {p, 0, 0, 0};
    for (int f = 0; f < d->n_files; f++) pp.total += d->maps[f].size;
    volatile uint8_t sink = 0;
    for (int f = 0; f < d->n_files; f++) {
        if (!nemo_map_resident(&d->maps[f], resident_cb, &pp)) {
            const uint8_t *b = d->maps[f].data;
            for (uint64_t off = 0; off < d->maps[f].size; off += 4096) {
                sink ^= b[off];
                report(&pp, off);
            }
        }
        pp.base += d->maps[f].size;
    }
    (void)sink;
    if (p->progress) p->progress(pp.total, pp.total, p->user);
}

nemo_status nemo_model_open_ex(const char *path, const nemo_model_params *p, nemo_model **out,
                               nemo_error *err) {
    nemo_status st = nemo_model_open(path, out, err);
    if (st || !p || !p->prefault) return st;
    prefault(*out, p);
    return NEMO_OK;
}

void nemo_model_free(nemo_model *m) {
    if (!m) return;
    if (m->layers)
        for (int l = 0; l < m->cfg.n_layers; l++) {
            free(m->layers[l].attn_norm);
            free(m->layers[l].ffn_norm);
        }
    free(m->layers);
    free(m->final_norm);
    nemo_tdir_free(&m->dir);
    nemo_gguf_free(m->gguf);
    free(m);
}

const nemo_config *nemo_model_config(const nemo_model *m) {
    return &m->cfg;
}

void nemo_model_get_info(const nemo_model *m, nemo_model_info *out) {
    memset(out, 0, sizeof *out);
    const nemo_config *c = &m->cfg;
    uint64_t q = (uint64_t)c->n_heads * c->head_dim, kv = (uint64_t)c->n_kv_heads * c->head_dim;
    uint64_t per_layer = 2 * (uint64_t)c->dim + q * c->dim * 2 + kv * c->dim * 2 +
                         3 * (uint64_t)c->hidden_dim * c->dim;
    out->n_params = per_layer * (uint64_t)c->n_layers + (uint64_t)c->dim +
                    (uint64_t)c->vocab_size * c->dim * (c->tied_embeddings ? 1 : 2);
    /* The tied case shares one matrix: count it once. */
    if (c->tied_embeddings && m->output.data != m->tok_embeddings.data)
        out->n_params += (uint64_t)c->vocab_size * c->dim;
    uint64_t biggest = 0;
    for (int i = 0; i < m->tdir->n_entries; i++) {
        const nemo_tensor_entry *e = &m->tdir->entries[i];
        out->weight_bytes += e->nbytes;
        if (e->nbytes > biggest) {
            biggest = e->nbytes;
            out->main_dtype = e->dtype;
        }
    }
    out->kv_bytes_per_token = 2ull * c->n_layers * kv * sizeof(float);
    out->format = m->format;
}

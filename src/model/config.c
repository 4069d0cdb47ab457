/* config.c — reads params.json (native Mistral) and config.json (HF MistralForCausalLM /
 * LlamaForCausalLM) into nemo_config. head_dim is read, never derived when present: NeMo's is
 * 128 while dim / n_heads is 160. */
#include "model/config.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>

static nemo_status load_json(const char *path, json_t **out, nemo_error *err) {
    char *text;
    nemo_status st = nemo_read_file(path, 16u << 20, &text, NULL, err);
    if (st) return st;
    json_error_t je;
    *out = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!*out)
        return nemo_fail(err, NEMO_ERR_CONFIG, "%s: line %d column %d: %s", path, je.line,
                         je.column, je.text);
    if (!json_is_object(*out)) {
        json_decref(*out);
        return nemo_fail(err, NEMO_ERR_CONFIG, "%s: expected a JSON object", path);
    }
    return NEMO_OK;
}

/* Required positive integer key. */
static nemo_status get_int(json_t *o, const char *path, const char *key, int *out, int required,
                           nemo_error *err) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        if (required)
            return nemo_fail(err, NEMO_ERR_CONFIG, "%s: missing required key \"%s\"", path, key);
        return NEMO_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX)
        return nemo_fail(err, NEMO_ERR_CONFIG, "%s: \"%s\" must be a non-negative integer", path,
                         key);
    *out = (int)json_integer_value(v);
    return NEMO_OK;
}

static nemo_status get_num(json_t *o, const char *path, const char *key, float *out,
                           nemo_error *err) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return NEMO_OK;
    if (!json_is_number(v))
        return nemo_fail(err, NEMO_ERR_CONFIG, "%s: \"%s\" must be a number", path, key);
    *out = (float)json_number_value(v);
    return NEMO_OK;
}

static void defaults(nemo_config *c) {
    memset(c, 0, sizeof *c);
    c->norm_eps = 1e-5f;
    c->rope_theta = 10000.0f; /* Mistral 7B v0.1 files omit it */
    c->max_seq_len = NEMO_MAX_TRAINED_CTX;
    c->bos_id = 1;
    c->eos_id = 2;
}

nemo_status nemo_config_from_params_json(const char *path, nemo_config *c, nemo_error *err) {
    json_t *o;
    nemo_status st = load_json(path, &o, err);
    if (st) return st;
    defaults(c);
    c->layout = NEMO_LAYOUT_NATIVE;
    if ((st = get_int(o, path, "dim", &c->dim, 1, err)) ||
        (st = get_int(o, path, "n_layers", &c->n_layers, 1, err)) ||
        (st = get_int(o, path, "n_heads", &c->n_heads, 1, err)) ||
        (st = get_int(o, path, "n_kv_heads", &c->n_kv_heads, 1, err)) ||
        (st = get_int(o, path, "hidden_dim", &c->hidden_dim, 1, err)) ||
        (st = get_int(o, path, "vocab_size", &c->vocab_size, 1, err)) ||
        (st = get_int(o, path, "head_dim", &c->head_dim, 0, err)) ||
        (st = get_int(o, path, "sliding_window", &c->sliding_window, 0, err)) ||
        (st = get_int(o, path, "max_seq_len", &c->max_seq_len, 0, err)) ||
        (st = get_num(o, path, "norm_eps", &c->norm_eps, err)) ||
        (st = get_num(o, path, "rope_theta", &c->rope_theta, err)))
        goto done;
    /* Mistral's native FP8 convention (spec 2c): weights F8_E4M3 + X.qscale_weight; the
     * loader binds the scales per tensor. Other quantizations are not supported. */
    json_t *qz = json_object_get(o, "quantization");
    const char *qf = qz ? json_string_value(json_object_get(qz, "qformat_weight")) : NULL;
    if (qz && !(qf && !strcmp(qf, "fp8_e4m3"))) {
        st = nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                       "%s: \"quantization\" with qformat_weight '%s': only fp8_e4m3 is "
                       "supported",
                       path, qf ? qf : "(none)");
        goto done;
    }
    if (json_object_get(o, "moe") || json_object_get(o, "vision_encoder")) {
        st = nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                       "%s: mixture-of-experts or vision checkpoints are not supported "
                       "yet (keys \"moe\"/\"vision_encoder\")",
                       path);
        goto done;
    }
    if (!c->head_dim && c->n_heads) c->head_dim = c->dim / c->n_heads;
    st = nemo_config_validate(c, path, err);
done:
    json_decref(o);
    return st;
}

nemo_status nemo_config_from_hf_json(const char *path, nemo_config *c, nemo_error *err) {
    json_t *o;
    nemo_status st = load_json(path, &o, err);
    if (st) return st;
    defaults(c);
    c->layout = NEMO_LAYOUT_HF;
    json_t *mt = json_object_get(o, "model_type");
    if (mt && (!json_is_string(mt) || (strcmp(json_string_value(mt), "mistral") &&
                                       strcmp(json_string_value(mt), "llama")))) {
        st = nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                       "%s: model_type \"%s\" is not supported (expected \"mistral\" or "
                       "\"llama\")",
                       path, json_is_string(mt) ? json_string_value(mt) : "?");
        goto done;
    }
    /* FP8 checkpoints: AutoFP8 ("fp8") and compressed-tensors float-quantized (neuralmagic /
     * RedHatAI); the loader binds X.weight_scale per tensor. Other methods (GPTQ, AWQ, int8
     * compressed-tensors, bitsandbytes) are not supported. */
    json_t *qc = json_object_get(o, "quantization_config");
    if (qc) {
        const char *qm = json_string_value(json_object_get(qc, "quant_method"));
        const char *fmt = json_string_value(json_object_get(qc, "format"));
        int ok = qm && (!strcmp(qm, "fp8") || (!strcmp(qm, "compressed-tensors") && fmt &&
                                               !strcmp(fmt, "float-quantized")));
        if (!ok) {
            st = nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                           "%s: quantization_config quant_method '%s'%s%s: only FP8 (\"fp8\", or "
                           "\"compressed-tensors\" with format \"float-quantized\") is supported",
                           path, qm ? qm : "(none)", fmt ? " format " : "", fmt ? fmt : "");
            goto done;
        }
    }
    json_t *rs = json_object_get(o, "rope_scaling");
    if (rs && !json_is_null(rs)) {
        st = nemo_fail(err, NEMO_ERR_UNSUPPORTED, "%s: \"rope_scaling\" is not supported", path);
        goto done;
    }
    int max_pos = 0;
    if ((st = get_int(o, path, "hidden_size", &c->dim, 1, err)) ||
        (st = get_int(o, path, "num_hidden_layers", &c->n_layers, 1, err)) ||
        (st = get_int(o, path, "num_attention_heads", &c->n_heads, 1, err)) ||
        (st = get_int(o, path, "intermediate_size", &c->hidden_dim, 1, err)) ||
        (st = get_int(o, path, "vocab_size", &c->vocab_size, 1, err)) ||
        (st = get_int(o, path, "head_dim", &c->head_dim, 0, err)) ||
        (st = get_int(o, path, "sliding_window", &c->sliding_window, 0, err)) ||
        (st = get_int(o, path, "max_position_embeddings", &max_pos, 0, err)) ||
        (st = get_int(o, path, "bos_token_id", &c->bos_id, 0, err)) ||
        (st = get_int(o, path, "eos_token_id", &c->eos_id, 0, err)) ||
        (st = get_num(o, path, "rms_norm_eps", &c->norm_eps, err)) ||
        (st = get_num(o, path, "rope_theta", &c->rope_theta, err)))
        goto done;
    c->n_kv_heads = c->n_heads;
    if ((st = get_int(o, path, "num_key_value_heads", &c->n_kv_heads, 0, err))) goto done;
    json_t *tie = json_object_get(o, "tie_word_embeddings");
    c->tied_embeddings = json_is_true(tie);
    if (!c->head_dim && c->n_heads) c->head_dim = c->dim / c->n_heads;
    if (max_pos > 0 && max_pos < c->max_seq_len) c->max_seq_len = max_pos;
    st = nemo_config_validate(c, path, err);
done:
    json_decref(o);
    return st;
}

nemo_status nemo_config_validate(const nemo_config *c, const char *src, nemo_error *err) {
#define NEED(cond, ...)                                                                            \
    if (!(cond)) return nemo_fail(err, NEMO_ERR_CONFIG, __VA_ARGS__)
    NEED(c->dim > 0 && c->dim <= 65536, "%s: dim %d outside [1, 65536]", src, c->dim);
    NEED(c->n_layers > 0 && c->n_layers <= 1024, "%s: n_layers %d outside [1, 1024]", src,
         c->n_layers);
    NEED(c->n_heads > 0 && c->n_heads <= 1024, "%s: n_heads %d outside [1, 1024]", src, c->n_heads);
    NEED(c->n_kv_heads > 0 && c->n_heads % c->n_kv_heads == 0,
         "%s: n_kv_heads %d must divide n_heads %d", src, c->n_kv_heads, c->n_heads);
    NEED(c->head_dim > 0 && c->head_dim <= 1024 && c->head_dim % 2 == 0,
         "%s: head_dim %d must be even and in [2, 1024]", src, c->head_dim);
    NEED(c->hidden_dim > 0 && c->hidden_dim <= 1 << 20, "%s: hidden_dim %d outside [1, 1048576]",
         src, c->hidden_dim);
    NEED(c->vocab_size > 0 && c->vocab_size <= 1 << 24, "%s: vocab_size %d outside [1, 16777216]",
         src, c->vocab_size);
    NEED(c->norm_eps > 0 && c->norm_eps < 1, "%s: norm_eps %g outside (0, 1)", src,
         (double)c->norm_eps);
    NEED(c->rope_theta > 1 && isfinite(c->rope_theta), "%s: rope_theta %g must be > 1", src,
         (double)c->rope_theta);
    NEED(c->sliding_window >= 0, "%s: negative sliding_window", src);
    NEED(c->bos_id < c->vocab_size && c->eos_id < c->vocab_size,
         "%s: bos/eos ids %d/%d outside the vocabulary of %d", src, c->bos_id, c->eos_id,
         c->vocab_size);
#undef NEED
    return NEMO_OK;
}

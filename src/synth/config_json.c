/* config_json.c — the JSON files of synthetic checkpoints, shaped like the real ones:
 * params.json (native; keys as in Mistral's releases), config.json (HF MistralForCausalLM, the
 * keys of Mistral-Nemo-Instruct-2407's config) and model.safetensors.index.json (sharded HF). */
#include "synth/synth.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

/* The float as the shortest decimal that reads back to the same float, so the JSON says
 * 1e-05 and 1000000.0 rather than 9.9999997473787516e-06. */
static json_t *json_float(float v) {
    char buf[32];
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v) break;
    }
    return json_real(strtod(buf, NULL));
}

static nemo_status dump(json_t *root, const char *path, nemo_error *err) {
    if (!root) return nemo_fail(err, NEMO_ERR_NOMEM, "%s: out of memory", path);
    /* 9 significant digits are enough for any float, and print the shortest form chosen by
     * json_float as is. */
    int rc =
        json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    json_decref(root);
    if (rc != 0) return nemo_fail(err, NEMO_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    return NEMO_OK;
}

static const char *torch_dtype(nemo_dtype t) {
    return t == NEMO_DTYPE_BF16 || t == NEMO_DTYPE_F8_E4M3 ? "bfloat16"
           : t == NEMO_DTYPE_F16                           ? "float16"
                                                           : "float32";
}

nemo_status nemo_synth_write_params_json(const char *path, const nemo_synth_params *p,
                                         nemo_error *err) {
    const nemo_config *c = &p->cfg;
    json_t *o = json_object();
    if (o) {
        json_object_set_new(o, "dim", json_integer(c->dim));
        json_object_set_new(o, "n_layers", json_integer(c->n_layers));
        json_object_set_new(o, "head_dim", json_integer(c->head_dim));
        json_object_set_new(o, "hidden_dim", json_integer(c->hidden_dim));
        json_object_set_new(o, "n_heads", json_integer(c->n_heads));
        json_object_set_new(o, "n_kv_heads", json_integer(c->n_kv_heads));
        json_object_set_new(o, "norm_eps", json_float(c->norm_eps));
        /* Mistral 7B v0.1's params.json carries sliding_window and no rope_theta (readers
         * default to 10000); NeMo's has rope_theta and no window. Mirror both. */
        if (c->sliding_window > 0)
            json_object_set_new(o, "sliding_window", json_integer(c->sliding_window));
        json_object_set_new(o, "vocab_size", json_integer(c->vocab_size));
        if (c->rope_theta != 10000.0f)
            json_object_set_new(o, "rope_theta", json_float(c->rope_theta));
        if (c->tied_embeddings) json_object_set_new(o, "tied_embeddings", json_true());
        if (p->dtype == NEMO_DTYPE_F8_E4M3) { /* Mistral's native FP8 convention (spec 2c) */
            json_t *q = json_object();
            json_object_set_new(q, "qformat_weight", json_string("fp8_e4m3"));
            json_object_set_new(q, "qscheme_act", json_string("TENSOR"));
            json_object_set_new(o, "quantization", q);
        }
    }
    return dump(o, path, err);
}

nemo_status nemo_synth_write_config_json(const char *path, const nemo_synth_params *p,
                                         nemo_error *err) {
    const nemo_config *c = &p->cfg;
    json_t *o = json_object();
    if (o) {
        json_t *arch = json_array();
        json_array_append_new(arch, json_string("MistralForCausalLM"));
        json_object_set_new(o, "architectures", arch);
        json_object_set_new(o, "attention_dropout", json_real(0.0));
        json_object_set_new(o, "bos_token_id", json_integer(c->bos_id));
        json_object_set_new(o, "eos_token_id", json_integer(c->eos_id));
        json_object_set_new(o, "head_dim", json_integer(c->head_dim));
        json_object_set_new(o, "hidden_act", json_string("silu"));
        json_object_set_new(o, "hidden_size", json_integer(c->dim));
        json_object_set_new(o, "initializer_range", json_real(0.02));
        json_object_set_new(o, "intermediate_size", json_integer(c->hidden_dim));
        json_object_set_new(o, "max_position_embeddings",
                            json_integer(c->max_seq_len > 0 ? c->max_seq_len : 131072));
        json_object_set_new(o, "model_type", json_string("mistral"));
        json_object_set_new(o, "num_attention_heads", json_integer(c->n_heads));
        json_object_set_new(o, "num_hidden_layers", json_integer(c->n_layers));
        json_object_set_new(o, "num_key_value_heads", json_integer(c->n_kv_heads));
        json_object_set_new(o, "rms_norm_eps", json_float(c->norm_eps));
        json_object_set_new(o, "rope_theta", json_float(c->rope_theta));
        json_object_set_new(o, "sliding_window",
                            c->sliding_window > 0 ? json_integer(c->sliding_window) : json_null());
        json_object_set_new(o, "tie_word_embeddings", json_boolean(c->tied_embeddings));
        json_object_set_new(o, "torch_dtype", json_string(torch_dtype(p->dtype)));
        json_object_set_new(o, "use_cache", json_true());
        json_object_set_new(o, "vocab_size", json_integer(c->vocab_size));
        if (p->dtype == NEMO_DTYPE_F8_E4M3) { /* AutoFP8 / neuralmagic FP8 (spec 2c) */
            json_t *q = json_object(), *ign = json_array();
            json_object_set_new(q, "quant_method", json_string("fp8"));
            json_object_set_new(q, "activation_scheme", json_string("static"));
            json_array_append_new(ign, json_string("lm_head"));
            json_object_set_new(q, "ignored_layers", ign);
            json_object_set_new(o, "quantization_config", q);
        }
    }
    return dump(o, path, err);
}

static int by_name(const void *a, const void *b) {
    return strcmp((*(const nemo_synth_tensor *const *)a)->name,
                  (*(const nemo_synth_tensor *const *)b)->name);
}

nemo_status nemo_synth_write_index_json(const char *path, const nemo_synth_plan *pl,
                                        nemo_error *err) {
    /* weight_map sorted by tensor name, as transformers writes it */
    const nemo_synth_tensor **sorted = malloc((size_t)pl->n * sizeof *sorted);
    json_t *o = json_object(), *meta = json_object(), *map = json_object();
    if (!sorted || !o || !meta || !map) {
        free(sorted);
        json_decref(o);
        json_decref(meta);
        json_decref(map);
        return nemo_fail(err, NEMO_ERR_NOMEM, "%s: out of memory", path);
    }
    for (int i = 0; i < pl->n; i++) sorted[i] = &pl->t[i];
    qsort(sorted, (size_t)pl->n, sizeof *sorted, by_name);
    json_object_set_new(meta, "total_size", json_integer((json_int_t)pl->data_bytes));
    json_object_set_new(o, "metadata", meta);
    for (int i = 0; i < pl->n; i++) {
        char file[64];
        nemo_synth_shard_name(sorted[i]->shard, pl->n_shards, file, sizeof file);
        json_object_set_new(map, sorted[i]->name, json_string(file));
    }
    json_object_set_new(o, "weight_map", map);
    free(sorted);
    return dump(o, path, err);
}

/* synth.h — internals of the synthetic checkpoint generator (nemo_synth_write): the tensor
 * plan, the deterministic value streams and the streaming safetensors writer. Tests include
 * this to check the native/HF relation and determinism without going through files. */
#ifndef NEMO_SYNTH_H
#define NEMO_SYNTH_H

#include "core/core.h"

#include <stdio.h>

/* What a tensor is; decides its scale and, for q/k, the HF row permutation. */
typedef enum nemo_synth_role {
    NEMO_SYNTH_EMBED = 0,
    NEMO_SYNTH_ATTN_NORM,
    NEMO_SYNTH_WQ,
    NEMO_SYNTH_WK,
    NEMO_SYNTH_WV,
    NEMO_SYNTH_WO,
    NEMO_SYNTH_FFN_NORM,
    NEMO_SYNTH_W1,
    NEMO_SYNTH_W2,
    NEMO_SYNTH_W3,
    NEMO_SYNTH_FINAL_NORM,
    NEMO_SYNTH_OUTPUT,
    NEMO_SYNTH_WSCALE, /* FP8: per-tensor weight scale (F32 scalar) of the tensor before it */
    NEMO_SYNTH_ASCALE, /* FP8: per-tensor activation (input) scale, written but unused by us */
} nemo_synth_role;

typedef struct nemo_synth_tensor {
    char name[96];        /* name in the layout being written */
    char native_name[96]; /* the values are a function of this name: identical in both layouts */
    nemo_synth_role role;
    int layer;           /* -1 outside the layers */
    int ndim;            /* 1 (norms) or 2 */
    uint64_t rows, cols; /* ndim 1: rows == 1, cols == length */
    float scale;         /* weights: half-width of the uniform law; norms: 1 +- scale */
    int permuted;        /* HF q/k: layout row r holds native row nemo_synth_native_row(r) */
    int head_dim;        /* period of the permutation */
    int shard;           /* index of the file it goes to (0-based) */
    uint64_t nbytes;     /* bytes in its dtype */
    nemo_dtype dtype;    /* the chosen dtype; with F8_E4M3 only the layer matrices are FP8
                            (embeddings, LM head and norms BF16, as in real FP8 releases) */
    int ndim0;           /* scale tensors: shape [] (a 0-d scalar, as AutoFP8 writes them) */
    float value;         /* scale tensors: the value; FP8 matrices: the weight scale */
} nemo_synth_tensor;

typedef struct nemo_synth_plan {
    nemo_synth_tensor *t; /* in model order (embeddings, layer 0..L-1, norm, output) */
    int n;
    int n_shards;
    uint64_t data_bytes; /* sum of nbytes */
} nemo_synth_plan;

/* Checks p and lists every tensor of the checkpoint with its file. */
nemo_status nemo_synth_plan_make(const nemo_synth_params *p, nemo_synth_plan *out, nemo_error *err);
void nemo_synth_plan_free(nemo_synth_plan *pl);

/* Native row stored at row r of t in its layout. HF q/k: per head of head_dim rows, HF row
 * s*hd/2 + i holds native row 2i + s (spec 1.4); every other tensor: r. */
uint64_t nemo_synth_native_row(const nemo_synth_tensor *t, uint64_t r);

/* Values of native row `native_row` of t (t->cols floats), a pure function of
 * (seed, t->native_name, native_row): the basis of "same seed, same bytes". */
void nemo_synth_row_values(uint64_t seed, const nemo_synth_tensor *t, uint64_t native_row,
                           float *out);

/* Stores n floats in dtype (F32, F16, BF16; F8_E4M3 after dividing by t->value: see
 * nemo_synth_encode_t) as little-endian bytes at dst. */
void nemo_synth_encode(nemo_dtype dtype, const float *src, uint64_t n, uint8_t *dst);
/* Stores one row of t in t's dtype: FP8 matrices as fp8(x / weight_scale). */
void nemo_synth_encode_t(const nemo_synth_tensor *t, const float *src, uint8_t *dst);

/* Progress accounting shared by every file of one nemo_synth_write call. */
typedef struct nemo_synth_progress {
    uint64_t done, total;
    void (*fn)(uint64_t done, uint64_t total, void *user);
    void *user;
} nemo_synth_progress;

/* Writes one safetensors file holding the tensors of plan shard `shard` (sorted by name, like
 * the reference writer), header padded with spaces to a multiple of 8, data streamed row by row.
 */
nemo_status nemo_synth_write_safetensors(const char *path, const nemo_synth_plan *pl, int shard,
                                         nemo_dtype dtype, uint64_t seed, nemo_synth_progress *prog,
                                         nemo_error *err);

/* params.json (native), config.json (HF) and model.safetensors.index.json. */
nemo_status nemo_synth_write_params_json(const char *path, const nemo_synth_params *p,
                                         nemo_error *err);
nemo_status nemo_synth_write_config_json(const char *path, const nemo_synth_params *p,
                                         nemo_error *err);
nemo_status nemo_synth_write_index_json(const char *path, const nemo_synth_plan *pl,
                                        nemo_error *err);

/* File name of shard k (0-based) of n: "model.safetensors" when n == 1, else
 * "model-0000k-of-0000n.safetensors" (1-based, 5 digits). */
void nemo_synth_shard_name(int k, int n, char *out, size_t cap);

#endif

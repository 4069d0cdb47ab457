/* model.h — the loaded model: config plus typed weight views into the mapped files. Immutable
 * after nemo_model_open, so any number of sessions and threads may share it. */
#ifndef NEMO_MODEL_H
#define NEMO_MODEL_H

#include "checkpoint/tensor_dir.h"
#include "model/config.h"

/* A weight matrix [rows, cols] stored row-major in its file dtype. */
typedef struct nemo_wmat {
    const void *data;
    nemo_dtype dtype;
    int64_t rows, cols;
    uint64_t row_bytes;
    float scale; /* y = scale * (W·x): per-tensor dequantization scale of FP8 weights
                    (weight_scale / qscale_weight); 1 for every other dtype */
} nemo_wmat;

typedef struct nemo_layer_weights {
    float *attn_norm; /* [dim], converted to f32 at load (tiny) */
    float *ffn_norm;  /* [dim] */
    nemo_wmat wq;     /* [n_heads * head_dim, dim] */
    nemo_wmat wk;     /* [n_kv_heads * head_dim, dim] */
    nemo_wmat wv;     /* [n_kv_heads * head_dim, dim] */
    nemo_wmat wo;     /* [dim, n_heads * head_dim] */
    nemo_wmat w1;     /* gate [hidden_dim, dim] */
    nemo_wmat w2;     /* down [dim, hidden_dim] */
    nemo_wmat w3;     /* up [hidden_dim, dim] */
} nemo_layer_weights;

struct nemo_gguf;

struct nemo_model {
    nemo_config cfg;
    nemo_tensor_dir dir;         /* safetensors files (unused for GGUF) */
    const nemo_tensor_dir *tdir; /* where the tensors are: &dir, or the GGUF file's directory */
    struct nemo_gguf *gguf;      /* the open GGUF file (metadata, vocabulary), or NULL */
    nemo_wmat tok_embeddings;    /* [vocab, dim] */
    nemo_wmat output;            /* [vocab, dim] (= tok_embeddings when tied) */
    float *final_norm;           /* [dim] */
    nemo_layer_weights *layers;
    const char *format;
    char path[4096];
};

/* The RoPE pairing the weights were stored for: adjacent pairs (native, GGUF) or halves (HF). */
static inline int nemo_model_rope_halves(const struct nemo_model *m) {
    return m->cfg.layout == NEMO_LAYOUT_HF;
}

#endif

/* nemo.h — the one public header of libnemo, an inference engine for Mistral NeMo 12B
 * (and the Mistral 7B family).
 *
 * Conventions
 * - Every fallible call returns nemo_status and, on failure, fills *err (err may be NULL).
 *   The library never prints and never exits.
 * - Objects come in _open/_create and _free pairs; every _free(NULL) is a no-op.
 * - Ownership of each returned pointer is stated next to the function.
 * - Shapes are written [rows, cols] in PyTorch order: a weight is [out, in] and y = W·x.
 */
#ifndef NEMO_H
#define NEMO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- errors */

typedef enum nemo_status {
    NEMO_OK = 0,
    NEMO_ERR_IO,          /* open/read/mmap/write failed */
    NEMO_ERR_FORMAT,      /* bytes that do not follow the file format */
    NEMO_ERR_CONFIG,      /* bad or inconsistent hyperparameters */
    NEMO_ERR_MISSING,     /* a required tensor, file or key is absent */
    NEMO_ERR_SHAPE,       /* a tensor has the wrong shape or dtype */
    NEMO_ERR_NOMEM,       /* allocation failed */
    NEMO_ERR_ARG,         /* the caller passed an invalid argument */
    NEMO_ERR_UNSUPPORTED, /* valid input that this build does not handle */
    NEMO_ERR_FULL,        /* a capacity (KV cache, batch, sequences) is exhausted */
} nemo_status;

/* A human-readable message that names the file, the offset or key, what was expected and what
 * was found, e.g. "model.safetensors: tensor 'norm.weight': data_offsets [0, 10] hold 10 bytes,
 * expected 20 (shape [5] of F32)". */
typedef struct nemo_error {
    nemo_status status;
    char msg[1024];
} nemo_error;

/* Static string naming a status, e.g. "format error". */
const char *nemo_status_name(nemo_status s);

/* ---------------------------------------------------------------- dtypes */

/* Element types of weights. Block-quantized types hold `block_elems` values in `block_bytes`. */
typedef enum nemo_dtype {
    NEMO_DTYPE_F32 = 0,
    NEMO_DTYPE_F16,
    NEMO_DTYPE_BF16,
    NEMO_DTYPE_F8_E4M3,
    NEMO_DTYPE_F8_E5M2,
    NEMO_DTYPE_F64,
    NEMO_DTYPE_I8,
    NEMO_DTYPE_U8,
    NEMO_DTYPE_I16,
    NEMO_DTYPE_U16,
    NEMO_DTYPE_I32,
    NEMO_DTYPE_U32,
    NEMO_DTYPE_I64,
    NEMO_DTYPE_U64,
    NEMO_DTYPE_BOOL,
    /* GGUF block quantizations (ggml layouts) */
    NEMO_DTYPE_Q4_0,
    NEMO_DTYPE_Q4_1,
    NEMO_DTYPE_Q5_0,
    NEMO_DTYPE_Q5_1,
    NEMO_DTYPE_Q8_0,
    NEMO_DTYPE_Q4_K,
    NEMO_DTYPE_Q5_K,
    NEMO_DTYPE_Q6_K,
    NEMO_DTYPE_COUNT
} nemo_dtype;

/* Static name as written in safetensors ("BF16", "F8_E4M3") or by ggml ("Q4_K"). */
const char *nemo_dtype_name(nemo_dtype t);
/* Parses a name as nemo_dtype_name writes it (case-insensitive). Returns 0 on success. */
int nemo_dtype_from_name(const char *name, nemo_dtype *out);
/* Bytes needed for n elements (n must be a multiple of the block size); 0 if it is not. */
uint64_t nemo_dtype_bytes(nemo_dtype t, uint64_t n);

/* ---------------------------------------------------------------- model */

typedef enum nemo_layout {
    NEMO_LAYOUT_NATIVE = 0, /* consolidated.safetensors + params.json: interleaved-pair RoPE */
    NEMO_LAYOUT_HF,         /* config.json + shards: q/k rows permuted, half-split RoPE */
    NEMO_LAYOUT_GGUF,       /* GGUF: rows in native order */
} nemo_layout;

/* Hyperparameters, read from params.json / config.json / GGUF metadata. */
typedef struct nemo_config {
    int dim;             /* D, hidden size (5120 for NeMo) */
    int n_layers;        /* L (40) */
    int n_heads;         /* H, query heads (32) */
    int n_kv_heads;      /* Hkv (8) */
    int head_dim;        /* hd (128, NOT dim / n_heads for NeMo) */
    int hidden_dim;      /* F, FFN hidden (14336) */
    int vocab_size;      /* V (131072) */
    float norm_eps;      /* RMSNorm epsilon (1e-5) */
    float rope_theta;    /* RoPE base (1e6; 1e4 for Mistral 7B v0.1) */
    int sliding_window;  /* attend to at most this many positions incl. self; 0 = unlimited */
    int max_seq_len;     /* trained context the engine allows by default (clamped to 131072) */
    int tied_embeddings; /* output projection is the embedding matrix */
    int bos_id, eos_id;
    nemo_layout layout;
} nemo_config;

typedef struct nemo_model nemo_model;

/* Opens a model: a folder (native or HF layout, detected from its files), a .safetensors file
 * next to its params.json/config.json, or a .gguf file. Weights are memory-mapped and stay in
 * their file dtype. *out is owned by the caller: release with nemo_model_free. */
nemo_status nemo_model_open(const char *path, nemo_model **out, nemo_error *err);
void nemo_model_free(nemo_model *m);
/* Borrowed; valid while m lives. */
const nemo_config *nemo_model_config(const nemo_model *m);

typedef struct nemo_model_info {
    uint64_t n_params;           /* every weight element counted once */
    uint64_t weight_bytes;       /* bytes of weights as stored */
    nemo_dtype main_dtype;       /* dtype of the largest weights */
    uint64_t kv_bytes_per_token; /* KV cache bytes per token per sequence (f32 cache) */
    const char *format;          /* static: "native safetensors", "hf safetensors", "gguf" */
} nemo_model_info;
void nemo_model_get_info(const nemo_model *m, nemo_model_info *out);

/* ---------------------------------------------------------------- session */

/* A session owns a KV cache for up to n_seq sequences of n_ctx positions each, scratch space
 * for batches of up to n_batch tokens, and a worker pool. The model is shared read-only: many
 * sessions may use one model from different threads. */
typedef struct nemo_session_params {
    int n_ctx;     /* positions per sequence; 0 = min(config max_seq_len, 4096) */
    int n_seq;     /* concurrent sequences (ids 0..n_seq-1); 0 = 1 */
    int n_batch;   /* most tokens in one nemo_session_decode call; 0 = 512 */
    int n_threads; /* worker threads incl. the caller; 0 = number of online CPUs */
} nemo_session_params;

typedef struct nemo_session nemo_session;

nemo_status nemo_session_create(const nemo_model *m, const nemo_session_params *p,
                                nemo_session **out, nemo_error *err);
void nemo_session_free(nemo_session *s);

/* One forward step over a batch of tokens that may belong to several sequences.
 * token[i] is at position pos[i] of sequence seq[i]. Every position of a sequence before pos[i]
 * must already be in the cache (from earlier calls or earlier in this batch); the token's key
 * and value are written at pos[i], replacing what was there (so rewinding is just reusing a
 * position). want_logits[i] != 0 asks for the logits of token i (NULL: only the last token). */
typedef struct nemo_batch {
    int n_tokens;
    const int32_t *token;
    const int32_t *pos;
    const int32_t *seq;
    const int8_t *want_logits;
} nemo_batch;

nemo_status nemo_session_decode(nemo_session *s, const nemo_batch *b, nemo_error *err);
/* Logits (vocab_size floats) of batch token i from the last decode call, or NULL if they were
 * not asked for. Borrowed; valid until the next decode. */
const float *nemo_session_logits(const nemo_session *s, int i);
/* Forget every cached position of sequence seq at or after pos (0 = the whole sequence). */
nemo_status nemo_session_seq_truncate(nemo_session *s, int seq, int pos, nemo_error *err);
/* Number of positions currently cached for sequence seq. */
int nemo_session_seq_len(const nemo_session *s, int seq);

/* Convenience: greedy argmax of a logits row. */
int nemo_argmax(const float *logits, int n);

/* ---------------------------------------------------------------- synthetic checkpoints */

/* Writes a NeMo-shaped checkpoint with deterministic pseudo-random weights (same seed, same
 * bytes), exact tensor names, shapes and dtypes. Used by tests and benchmarks. */
typedef struct nemo_synth_params {
    nemo_config cfg;  /* architecture; layout NATIVE or HF */
    nemo_dtype dtype; /* F32, F16 or BF16 */
    uint64_t seed;
    int n_shards; /* HF layout: number of model-0000k-of-0000n files (0 = 1) */
} nemo_synth_params;

/* Fills p with the full Mistral NeMo 12B shape (bf16, native layout, seed 0). */
void nemo_synth_defaults(nemo_synth_params *p);
/* progress may be NULL; it is called with bytes written so far and the total. */
nemo_status nemo_synth_write(const nemo_synth_params *p, const char *dir,
                             void (*progress)(uint64_t done, uint64_t total, void *user),
                             void *user, nemo_error *err);

/* ---------------------------------------------------------------- tokenizer */
/* (section owned by the tokenizer module; see src/tokenizer/)
 * A tokenizer is immutable once opened: encode/decode may run from many threads at once. */

typedef struct nemo_tokenizer nemo_tokenizer;

typedef enum nemo_tokenizer_kind {
    NEMO_TOKENIZER_TEKKEN = 0, /* tekken.json: tiktoken-style byte-level BPE (NeMo) */
    NEMO_TOKENIZER_SPM,        /* SentencePiece .model (Mistral 7B v1/v2/v3) */
    NEMO_TOKENIZER_GGUF,       /* vocabulary embedded in a GGUF file */
} nemo_tokenizer_kind;

/* path: a tekken.json, a tokenizer.model* file, or a model folder (tekken.json is preferred,
 * else tokenizer.model.v3, .v2, .v1, tokenizer.model). *out is owned by the caller. */
nemo_status nemo_tokenizer_open(const char *path, nemo_tokenizer **out, nemo_error *err);
void nemo_tokenizer_free(nemo_tokenizer *t);
nemo_tokenizer_kind nemo_tokenizer_get_kind(const nemo_tokenizer *t);
int nemo_tokenizer_vocab_size(const nemo_tokenizer *t);
int32_t nemo_tokenizer_bos_id(const nemo_tokenizer *t);
int32_t nemo_tokenizer_eos_id(const nemo_tokenizer *t);
/* Id of a special/control token by its name ("[INST]", "</s>"), or -1 if there is none. */
int32_t nemo_tokenizer_special_id(const nemo_tokenizer *t, const char *name);
/* Non-zero if id is a special/control token (never produced by encoding text). */
int nemo_tokenizer_is_special(const nemo_tokenizer *t, int32_t id);

/* Encodes len bytes of UTF-8 text as ordinary text (text spelling "[INST]" is not the control
 * token). Writes at most cap ids; *n_out is set to the number of ids of the full encoding.
 * Returns NEMO_ERR_FULL if cap < *n_out (call again with a larger buffer). */
nemo_status nemo_tokenizer_encode(const nemo_tokenizer *t, const char *text, size_t len,
                                  int add_bos, int add_eos, int32_t *ids, size_t cap, size_t *n_out,
                                  nemo_error *err);

/* The raw bytes of one token (special tokens: their name). Borrowed; NULL if id is invalid. */
const char *nemo_tokenizer_piece(const nemo_tokenizer *t, int32_t id, size_t *len);

typedef enum nemo_special_policy {
    NEMO_SPECIAL_SKIP = 0, /* drop special tokens (mistral-common IGNORE) */
    NEMO_SPECIAL_KEEP,     /* write their names, e.g. "[INST]" */
    NEMO_SPECIAL_ERROR,    /* fail with NEMO_ERR_ARG */
} nemo_special_policy;

/* Decodes ids to UTF-8 (invalid byte sequences become U+FFFD, as tiktoken's decode does).
 * Writes at most cap bytes plus a NUL when room allows; *n_out is the full length.
 * Returns NEMO_ERR_FULL if cap <= *n_out. */
nemo_status nemo_tokenizer_decode(const nemo_tokenizer *t, const int32_t *ids, size_t n,
                                  nemo_special_policy policy, char *out, size_t cap, size_t *n_out,
                                  nemo_error *err);

/* Streaming decode for generation: push one id at a time; only whole UTF-8 characters come
 * out (an incomplete trailing sequence is held back until it completes or is proven invalid). */
typedef struct nemo_detok nemo_detok;
nemo_status nemo_detok_create(const nemo_tokenizer *t, nemo_special_policy policy, nemo_detok **out,
                              nemo_error *err);
void nemo_detok_free(nemo_detok *d);
/* Appends the text that became complete to out (at most cap bytes; 32 + the longest token
 * always suffices); *n_out = bytes written. */
nemo_status nemo_detok_push(nemo_detok *d, int32_t id, char *out, size_t cap, size_t *n_out,
                            nemo_error *err);
/* Emits what is held back (as U+FFFD for incomplete sequences) and resets. */
nemo_status nemo_detok_flush(nemo_detok *d, char *out, size_t cap, size_t *n_out, nemo_error *err);

/* ---------------------------------------------------------------- end */

#ifdef __cplusplus
}
#endif
#endif /* NEMO_H */

/* gguf.h — validating reader of GGUF v2/v3 files (spec 2e): the key/value metadata and the
 * tensor directory, zero-copy over a memory map.
 *
 * A file we accept has every string, array, count and tensor range inside the file, tensor
 * data aligned and non-overlapping, known element types, whole quantization blocks along the
 * fastest dimension, unique keys and unique tensor names. Errors name the file, the byte
 * offset and the key or tensor, e.g.
 *   "model.gguf: offset 1234: tensor 'blk.0.attn_q.weight': ggml type 11 (Q3_K) is not supported"
 *
 * Tensors land in a nemo_tensor_dir with shapes outermost first: GGUF lists dimensions
 * fastest-varying first, so ne = [in, out] becomes shape [out, in]. */
#ifndef NEMO_GGUF_H
#define NEMO_GGUF_H

#include "checkpoint/tensor_dir.h"

/* Our FP8 extension (docs/fp8.md): a string key "f8_e4m3" marks I8 weight tensors as FP8
 * E4M3FN bytes with a per-tensor scale in "<weight base>.weight_scale" (F32, ne [1]). llama.cpp
 * cannot load such files. */
#define NEMO_GGUF_FP8_KEY "nemo.fp8.encoding"

/* Metadata value types, with the ids the file uses. */
typedef enum nemo_gguf_type {
    NEMO_GGUF_U8 = 0,
    NEMO_GGUF_I8 = 1,
    NEMO_GGUF_U16 = 2,
    NEMO_GGUF_I16 = 3,
    NEMO_GGUF_U32 = 4,
    NEMO_GGUF_I32 = 5,
    NEMO_GGUF_F32 = 6,
    NEMO_GGUF_BOOL = 7,
    NEMO_GGUF_STRING = 8,
    NEMO_GGUF_ARRAY = 9,
    NEMO_GGUF_U64 = 10,
    NEMO_GGUF_I64 = 11,
    NEMO_GGUF_F64 = 12,
    NEMO_GGUF_TYPE_COUNT
} nemo_gguf_type;

#define NEMO_GGUF_DEFAULT_ALIGNMENT 32
#define NEMO_GGUF_MAX_DIMS          4  /* ggml's limit */
#define NEMO_GGUF_MAX_NAME          64 /* tensor names are shorter than this (ggml's limit) */
#define NEMO_GGUF_MAX_DEPTH         8  /* nesting of arrays of arrays */

/* An array value. Element bytes are borrowed from the file and may be unaligned: read them
 * with the nemo_gguf_arr_* helpers. */
typedef struct nemo_gguf_array {
    nemo_gguf_type type;     /* element type */
    uint64_t count;          /* number of elements */
    const uint8_t *data;     /* first element (for strings: its u64 length prefix) */
    const uint64_t *str_off; /* strings only: offset of element i from data (owned by ctx) */
} nemo_gguf_array;

typedef struct nemo_gguf_kv {
    char *key;           /* NUL-terminated copy (owned by the context) */
    nemo_gguf_type type; /* value type */
    uint64_t offset;     /* file offset of the value (after the type id), for messages */
    const uint8_t *val;  /* scalars: the value bytes; strings: the characters */
    uint64_t len;        /* strings: byte length (no NUL terminator in the file) */
    nemo_gguf_array arr; /* arrays */
} nemo_gguf_kv;

typedef struct nemo_gguf {
    char *name;          /* file name for messages (owned) */
    uint32_t version;    /* 2 or 3 */
    uint32_t alignment;  /* general.alignment or 32 */
    uint64_t data_start; /* file offset of the data section */
    int n_kv;
    nemo_gguf_kv *kv;
    /* Tensors. The directory owns the file mapping (when opened from a path): every borrowed
     * pointer above (kv values, arrays) lives as long as dir's mapping. Its entries have
     * file = 0 when opened from a path and file = -1 when opened from bytes. */
    nemo_tensor_dir dir;
    const uint8_t *base; /* the file bytes */
    uint64_t size;
} nemo_gguf;

/* Maps path and parses it. On success *out is owned by the caller (nemo_gguf_free). */
nemo_status nemo_gguf_open(const char *path, nemo_gguf **out, nemo_error *err);
/* Parses GGUF bytes held by the caller, who keeps them valid while *out is used (nothing is
 * copied or mapped). name is used in messages. The fuzz target's entry point. */
nemo_status nemo_gguf_open_bytes(const uint8_t *data, size_t size, const char *name,
                                 nemo_gguf **out, nemo_error *err);
/* Releases the context and, if it still owns it, the file mapping. NULL is a no-op. */
void nemo_gguf_free(nemo_gguf *g);

/* ---- metadata look-ups. Every getter fails with NEMO_ERR_MISSING for an absent key and
 * NEMO_ERR_FORMAT for a value of the wrong type, the message naming file, key and offset. */
/* The entry of key, or NULL. Borrowed from g. */
const nemo_gguf_kv *nemo_gguf_find(const nemo_gguf *g, const char *key);
/* Static name of a value type ("u32", "string", ...). */
const char *nemo_gguf_type_name(nemo_gguf_type t);
/* Integers of any integer type, checked to fit the target. */
nemo_status nemo_gguf_get_u32(const nemo_gguf *g, const char *key, uint32_t *out, nemo_error *err);
nemo_status nemo_gguf_get_i32(const nemo_gguf *g, const char *key, int32_t *out, nemo_error *err);
nemo_status nemo_gguf_get_u64(const nemo_gguf *g, const char *key, uint64_t *out, nemo_error *err);
/* f32 or f64 (converted). */
nemo_status nemo_gguf_get_f32(const nemo_gguf *g, const char *key, float *out, nemo_error *err);
nemo_status nemo_gguf_get_bool(const nemo_gguf *g, const char *key, int *out, nemo_error *err);
/* A string: *s borrowed from the file, *len bytes, not NUL-terminated. */
nemo_status nemo_gguf_get_str(const nemo_gguf *g, const char *key, const char **s, uint64_t *len,
                              nemo_error *err);
/* Arrays whose elements are strings / integers (any width, bool included) / f32 or f64. */
nemo_status nemo_gguf_get_strings(const nemo_gguf *g, const char *key, nemo_gguf_array *out,
                                  nemo_error *err);
nemo_status nemo_gguf_get_ints(const nemo_gguf *g, const char *key, nemo_gguf_array *out,
                               nemo_error *err);
nemo_status nemo_gguf_get_floats(const nemo_gguf *g, const char *key, nemo_gguf_array *out,
                                 nemo_error *err);

/* Element i (< a->count) of a string array: borrowed bytes, *len of them. */
const char *nemo_gguf_arr_str(const nemo_gguf_array *a, uint64_t i, uint64_t *len);
/* Element i of an integer/bool array as int64 (u64 values above INT64_MAX wrap). */
int64_t nemo_gguf_arr_int(const nemo_gguf_array *a, uint64_t i);
/* Element i of an f32/f64 array. */
double nemo_gguf_arr_float(const nemo_gguf_array *a, uint64_t i);

/* ---- model hyperparameters (gguf_config.c) */
/* Fills cfg from llama-architecture metadata (NeMo, Mistral 7B, SmolLM2 keys; spec 2e):
 * head_dim from attention.key_length (else dim / heads), vocab from llama.vocab_size (else the
 * token list), rope_theta default 10000, max_seq_len = context_length clamped to 131072,
 * tied_embeddings when output.weight is absent, bos/eos from tokenizer.ggml.* (-1 if absent),
 * sliding_window 0, layout GGUF. Checks the values against each other and against the shape
 * of token_embd.weight; other architectures, partial rotary and RoPE scaling are
 * NEMO_ERR_UNSUPPORTED, inconsistent values NEMO_ERR_CONFIG (naming the keys). */
nemo_status nemo_gguf_config(const nemo_gguf *g, nemo_config *cfg, nemo_error *err);

/* The nemo dtype of a ggml type id; -1 for ids this build does not handle. *name (may be
 * NULL) gets ggml's name of the id ("Q3_K"), or NULL for an id ggml does not define. */
int nemo_gguf_dtype(uint32_t ggml_type, nemo_dtype *out, const char **name);

#endif

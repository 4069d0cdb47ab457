/* gguf_write.h — a streaming GGUF v3 writer (layout in spec 2e): metadata key/values (scalars,
 * strings, arrays), a tensor directory declared up front, then tensor data streamed tensor by
 * tensor, each padded to the alignment. Nothing but the header is held in memory, so a 24 GB
 * model is written with a few MB.
 *
 * Use: create; add KVs and declare every tensor (name, ggml type, shape, byte size); begin(path)
 * writes the header; for each tensor in declaration order, data() any number of times then
 * end_tensor(); finish() closes the file. Errors from the adders are sticky and reported by
 * begin(), so call sites can chain them. */
#ifndef NEMO_GGUF_WRITE_H
#define NEMO_GGUF_WRITE_H

#include "checkpoint/gguf.h"

typedef struct nemo_gguf_writer nemo_gguf_writer;

nemo_status nemo_gguf_writer_create(nemo_gguf_writer **out, nemo_error *err);
/* Closes an unfinished file (the partial file stays) and releases w. NULL is a no-op. */
void nemo_gguf_writer_free(nemo_gguf_writer *w);

void nemo_gguf_w_str(nemo_gguf_writer *w, const char *key, const char *val);
void nemo_gguf_w_u32(nemo_gguf_writer *w, const char *key, uint32_t val);
void nemo_gguf_w_i32(nemo_gguf_writer *w, const char *key, int32_t val);
void nemo_gguf_w_f32(nemo_gguf_writer *w, const char *key, float val);
void nemo_gguf_w_bool(nemo_gguf_writer *w, const char *key, int val);
/* n strings; lens may be NULL (then strlen). */
void nemo_gguf_w_arr_str(nemo_gguf_writer *w, const char *key, const char *const *s,
                         const uint32_t *lens, uint64_t n);
void nemo_gguf_w_arr_i32(nemo_gguf_writer *w, const char *key, const int32_t *v, uint64_t n);
void nemo_gguf_w_arr_f32(nemo_gguf_writer *w, const char *key, const float *v, uint64_t n);

/* Declares a tensor: shape outermost first (PyTorch [out, in]; written reversed as ggml ne),
 * ndim 1..4, of nemo dtype t (see nemo_gguf_ggml_type) or, when ggml_type_override >= 0, that
 * raw ggml type id with nbytes given. */
void nemo_gguf_w_tensor(nemo_gguf_writer *w, const char *name, nemo_dtype t, int ndim,
                        const uint64_t *shape, int ggml_type_override, uint64_t nbytes);

/* Writes the header and the directory. Fails with the first adder error, if any. */
nemo_status nemo_gguf_w_begin(nemo_gguf_writer *w, const char *path, nemo_error *err);
/* Appends bytes to the current tensor (at most its declared size in total). */
nemo_status nemo_gguf_w_data(nemo_gguf_writer *w, const void *p, size_t n, nemo_error *err);
/* Checks the current tensor got exactly its bytes, pads to the alignment, moves to the next. */
nemo_status nemo_gguf_w_end_tensor(nemo_gguf_writer *w, nemo_error *err);
/* Checks every tensor was written and closes the file. */
nemo_status nemo_gguf_w_finish(nemo_gguf_writer *w, nemo_error *err);

/* The ggml type id of a nemo dtype (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K,
 * Q6_K, I8..I64, F64). Returns 0, or -1 when ggml has no such type (FP8). */
int nemo_gguf_ggml_type(nemo_dtype t, uint32_t *out);

#endif

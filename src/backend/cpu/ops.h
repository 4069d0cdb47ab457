/* ops.h — CPU operations of the transformer, on f32 activations. Shapes use n = tokens in the
 * batch. Weight matrices may be any dtype nemo_dequant_row converts; accumulation is f32. */
#ifndef NEMO_CPU_OPS_H
#define NEMO_CPU_OPS_H

#include "core/pool.h"
#include "model/model.h"

/* out[n, dim] = x[n, dim] / sqrt(mean(x^2) + eps) * w[dim]  (rows independent) */
void nemo_cpu_rmsnorm(float *out, const float *x, const float *w, int n, int dim, float eps);

/* Rows of W converted to f32 at a time per thread (the matmul's scratch is this many rows). */
#define NEMO_MATMUL_ROWS 16

/* Floats of matmul scratch for a pool of n_threads and up to n tokens of up to cols inputs. */
int64_t nemo_cpu_matmul_scratch(int n_threads, int n, int64_t cols);

/* y[n, W.rows] = W.scale * x[n, W.cols] · Wᵀ with the kernels of the running CPU (kernels.h).
 * scratch: nemo_cpu_matmul_scratch(pool size, n, W.cols) floats. With q8 activations on
 * (kernels.h) Q8_0/Q4_0/Q4_1 and Q4_K/Q5_K/Q6_K weights take the integer path. Threads split
 * rows of W, so every weight byte is read once per call whatever n is; each output depends only
 * on its own row and token (not on n, the thread count or the split). W.dtype must have a
 * to_f32 kernel. */
void nemo_cpu_matmul(nemo_pool *pool, float *y, const float *x, int n, const nemo_wmat *W,
                     float *scratch);

/* Rotates each head of x[n_heads * head_dim] at position pos. halves=0: adjacent pairs
 * (x[2i], x[2i+1]) as mistral-inference; halves=1: (x[i], x[i+hd/2]) as HF rotate_half. */
void nemo_cpu_rope(float *x, int n_heads, int head_dim, int pos, float theta, int halves);

/* x[i] = silu(gate[i]) * up[i] for n values (gate overwritten by the result). */
void nemo_cpu_swiglu(float *gate, const float *up, int64_t n);

/* Numerically safe in-place softmax of x[n]. */
void nemo_cpu_softmax(float *x, int n);

/* The plain-C references of the row operations (the scalar level's kernels; kernels.h): one
 * rmsnorm row, SwiGLU, softmax, and the RoPE rotation by a cos / sin table. */
void nemo_cpu_rmsnorm_ref(float *o, const float *x, const float *w, int64_t dim, float eps);
void nemo_cpu_swiglu_ref(float *gate, const float *up, int64_t n);
void nemo_cpu_softmax_ref(float *x, int64_t n);
void nemo_cpu_rope_ref(float *x, int n_heads, int hd, const float *c, const float *s, int halves);

/* f32 dot product with the running CPU's kernel. */
float nemo_cpu_dot(const float *a, const float *b, int64_t n);
/* The plain-C reference dot product (8 accumulators): the scalar level's kernel. */
float nemo_cpu_dot_ref(const float *a, const float *b, int64_t n);
/* y[i] += a * x[i] with the running CPU's kernel. */
void nemo_cpu_axpy(float *y, float a, const float *x, int64_t n);

#endif

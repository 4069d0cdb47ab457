/* kernels.h — the table of CPU kernels for one instruction-set level, chosen once at run time
 * (cpu_features.h). Every level computes the same math; the SIMD ones are tested against the
 * scalar table (tests/unit/test_kernels.c).
 *
 * Numerics contract (what makes batching and threading invisible in the results):
 *   - to_f32[t] converts a weight row bit for bit like nemo_dequant_row (same float operations
 *     in the same order, no fused multiply-add), so a SIMD level changes no weight value;
 *   - dot and dot4 accumulate one row in a fixed order that depends only on n (the row
 *     length), and dot4's result for row r is bitwise equal to dot of that row, so the result
 *     for one (token, row) pair does not depend on which other rows or tokens share the call;
 *   - dot_row[t] (fused decode) is bitwise equal to dot over the to_f32 row;
 *   - gemm (prefill) is bitwise equal to dot for every (row, token) pair.
 *   Different levels may round dot products differently (fused multiply-add, lane count);
 *   within one level results are reproducible. */
#ifndef NEMO_KERNELS_H
#define NEMO_KERNELS_H

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/q8k.h"
#include "backend/cpu/quant_act.h"
#include "core/core.h"

typedef void (*nemo_to_f32_fn)(const void *src, float *dst, int64_t n);
typedef float (*nemo_dot_row_fn)(const void *row, const float *x, int64_t n);
typedef float (*nemo_q8_dot_fn)(const void *row, const nemo_q8_act *x, int64_t n);
typedef float (*nemo_q8k_dot_fn)(const void *row, const nemo_q8k_act *x, int64_t n);
/* prefill with q8 activations: y[t·ldy + r] = scale · q8_dot(w + r·row_bytes, x + t·ldx, n) for
 * r < nr, t < nt (ldx in blocks), every value bitwise equal to that q8_dot / q8k_dot call, so a
 * token's result does not depend on the batch it is in */
typedef void (*nemo_q8_gemm_fn)(const void *w, int64_t row_bytes, int nr, const nemo_q8_act *x,
                                int64_t ldx, int nt, int64_t n, float *y, int64_t ldy, float scale);
typedef void (*nemo_q8k_gemm_fn)(const void *w, int64_t row_bytes, int nr, const nemo_q8k_act *x,
                                 int64_t ldx, int nt, int64_t n, float *y, int64_t ldy,
                                 float scale);
/* y[t·ldy + r] = scale · dot(w + r·ldw, x + t·ldx, n) for r < nr, t < nt */
typedef void (*nemo_gemm_fn)(const float *w, int64_t ldw, int nr, const float *x, int64_t ldx,
                             int nt, int64_t n, float *y, int64_t ldy, float scale);
/* prefill from encoded rows of dtype dt: y[t·ldy + r] = scale · dot_row[dt](w + r·row_bytes,
 * x + t·ldx, n) for r < nr, t < nt, bit for bit; conv (the dtype's to_f32) decodes column
 * panels into buf (buf_floats floats, the kernel's own blocking). Returns 0, or -1 (nothing
 * done) when buf is too small. */
typedef int (*nemo_gemm_w_fn)(nemo_dtype dt, nemo_to_f32_fn conv, const void *w, int64_t row_bytes,
                              int nr, const float *x, int64_t ldx, int nt, int64_t n, float *y,
                              int64_t ldy, float scale, float *buf, int64_t buf_floats);

typedef struct nemo_kernels {
    nemo_cpu_level level;
    /* sum a[i]·b[i] */
    float (*dot)(const float *a, const float *b, int64_t n);
    /* out[r] = dot(w + r·ldw, x, n) for r = 0..3 (bitwise equal to four dot calls) */
    void (*dot4)(const float *w, int64_t ldw, const float *x, int64_t n, float out[4]);
    /* prefill: nr f32 rows times nt tokens, each value bitwise equal to scale · dot (so equal
     * to the fused decode kernel of the row's dtype) */
    nemo_gemm_fn gemm;
    /* prefill straight from the encoded rows (contract at nemo_gemm_w_fn), decoding each weight
     * value once per call; NULL: to_f32 row blocks, then gemm */
    nemo_gemm_w_fn gemm_w;
    /* y[i] += a·x[i] */
    void (*axpy)(float *y, float a, const float *x, int64_t n);
    /* row operations of the forward pass (references in ops.c; what a SIMD level may differ
     * by is stated at its implementation and checked by tests/unit/test_kernels.c):
     * o = x / sqrt(mean(x²) + eps) ⊙ w for one row of dim values */
    void (*rmsnorm)(float *o, const float *x, const float *w, int64_t dim, float eps);
    /* gate[i] = silu(gate[i]) · up[i] */
    void (*swiglu)(float *gate, const float *up, int64_t n);
    /* in-place softmax of x[n] */
    void (*softmax)(float *x, int64_t n);
    /* rotates n_heads heads of hd values by the angles whose cos / sin are c[i], s[i]
     * (i < hd/2); halves: pairs (i, i + hd/2), else (2i, 2i + 1) */
    void (*rope)(float *x, int n_heads, int hd, const float *c, const float *s, int halves);
    /* weight row → f32 per dtype (n a multiple of the block size); NULL: no conversion */
    nemo_to_f32_fn to_f32[NEMO_DTYPE_COUNT];
    /* fused decode kernel per dtype: sum row[i]·x[i] straight from the encoded row, bitwise
     * equal to dot(to_f32(row), x); NULL: convert, then dot */
    nemo_dot_row_fn dot_row[NEMO_DTYPE_COUNT];
    /* integer dot with q8 activations (quant_act.h), used when nemo_kernels_q8() is on; bitwise
     * equal to nemo_q8_dot_ref at every level; NULL: the f32 path for that dtype */
    nemo_q8_dot_fn q8_dot[NEMO_DTYPE_COUNT];
    /* the same for K-quant rows with Q8_K activations (q8k.h): bitwise equal to
     * nemo_q8k_dot_ref at every level */
    nemo_q8k_dot_fn q8k_dot[NEMO_DTYPE_COUNT];
    /* register-blocked prefill over many rows and tokens (contract at nemo_q8_gemm_fn), also
     * used for one token; NULL: q8_dot (q8k_dot) per row and token */
    nemo_q8_gemm_fn q8_gemm[NEMO_DTYPE_COUNT];
    nemo_q8k_gemm_fn q8k_gemm[NEMO_DTYPE_COUNT];
    /* Q8_K activation quantization, bitwise equal to nemo_q8k_quantize_ref; NULL: that */
    void (*q8k_quantize)(const float *x, nemo_q8k_act *y, int64_t n);
} nemo_kernels;

/* The table in use (level nemo_cpu_level_active(), or the one set by nemo_kernels_use). */
const nemo_kernels *nemo_kernels_get(void);
/* The table of level l, or NULL if this CPU cannot run it or the build has none. */
const nemo_kernels *nemo_kernels_for(nemo_cpu_level l);
/* Makes level l the one in use (tests and benchmarks; not thread-safe against running
 * kernels). Returns 0, or -1 if the CPU cannot run it. */
int nemo_kernels_use(nemo_cpu_level l);

/* Whether matmuls with Q8_0 / Q4_0 / Q4_1 (q8_1 blocks) and Q4_K / Q5_K / Q6_K (Q8_K blocks)
 * weights quantize their activations to q8 blocks
 * (llama.cpp's numerics and speed; not exact against f32 references). On by default, as in
 * llama.cpp; NEMO_MATMUL=exact turns it off (f32 activations for every type, the
 * reference-exact mode), read once; nemo_kernels_set_q8 overrides it (tests, benchmarks). */
int nemo_kernels_q8(void);
void nemo_kernels_set_q8(int on);

/* Per-level tables, filled by their own files (NULL-returning stubs off x86). */
const nemo_kernels *nemo_kernels_scalar(void);
const nemo_kernels *nemo_kernels_avx2(void);
const nemo_kernels *nemo_kernels_avx512(void);
/* The AVX2 register-blocked gemm (gemm_avx2.c; x86 only), shared by the AVX-512 table. */
void nemo_gemm_avx2(const float *w, int64_t ldw, int nr, const float *x, int64_t ldx, int nt,
                    int64_t n, float *y, int64_t ldy, float scale);
/* The AVX2 panel-decoding prefill (gemm_avx2.c; x86 only), shared by the AVX-512 table. */
int nemo_gemm_w_avx2(nemo_dtype dt, nemo_to_f32_fn conv, const void *w, int64_t row_bytes, int nr,
                     const float *x, int64_t ldx, int nt, int64_t n, float *y, int64_t ldy,
                     float scale, float *buf, int64_t buf_floats);
/* The AVX2 row operations (act_avx2.c; x86 only), shared by the AVX-512 table; exp8 is their
 * vector e^x on 8 values, exported for the tests. */
void nemo_rmsnorm_avx2(float *o, const float *x, const float *w, int64_t dim, float eps);
void nemo_swiglu_avx2(float *gate, const float *up, int64_t n);
void nemo_softmax_avx2(float *x, int64_t n);
void nemo_rope_avx2(float *x, int n_heads, int hd, const float *c, const float *s, int halves);
void nemo_exp8_avx2(const float *x, float *y);
/* The scratch floats nemo_gemm_w_avx2 runs best with for rows of n values and up to `tokens`
 * tokens (0 for fewer than 2 tokens, and off x86). */
int64_t nemo_gemm_w_floats(int64_t n, int tokens);
/* The AVX2 q8_1 integer dot and gemm (q8dot_avx2.c; x86 only), shared by the AVX-512 table. */
float nemo_q8_0_q8_avx2(const void *row, const nemo_q8_act *x, int64_t n);
float nemo_q4_0_q8_avx2(const void *row, const nemo_q8_act *x, int64_t n);
float nemo_q4_1_q8_avx2(const void *row, const nemo_q8_act *x, int64_t n);
void nemo_q8_0_q8gemm_avx2(const void *w, int64_t row_bytes, int nr, const nemo_q8_act *x,
                           int64_t ldx, int nt, int64_t n, float *y, int64_t ldy, float scale);
void nemo_q4_0_q8gemm_avx2(const void *w, int64_t row_bytes, int nr, const nemo_q8_act *x,
                           int64_t ldx, int nt, int64_t n, float *y, int64_t ldy, float scale);
void nemo_q4_1_q8gemm_avx2(const void *w, int64_t row_bytes, int nr, const nemo_q8_act *x,
                           int64_t ldx, int nt, int64_t n, float *y, int64_t ldy, float scale);
/* The AVX2 K-quant × Q8_K integer dots (kdot_avx2.c; x86 only). */
float nemo_q4_k_q8k_avx2(const void *row, const nemo_q8k_act *x, int64_t n);
float nemo_q5_k_q8k_avx2(const void *row, const nemo_q8k_act *x, int64_t n);
float nemo_q6_k_q8k_avx2(const void *row, const nemo_q8k_act *x, int64_t n);
void nemo_q8k_quantize_avx2(const float *x, nemo_q8k_act *y, int64_t n);
/* The AVX2 K-quant × Q8_K register-blocked prefill (kgemm_avx2.c; x86 only; contract at
 * nemo_q8k_gemm_fn). */
void nemo_q4_k_q8k_gemm_avx2(const void *w, int64_t row_bytes, int nr, const nemo_q8k_act *x,
                             int64_t ldx, int nt, int64_t n, float *y, int64_t ldy, float scale);
void nemo_q5_k_q8k_gemm_avx2(const void *w, int64_t row_bytes, int nr, const nemo_q8k_act *x,
                             int64_t ldx, int nt, int64_t n, float *y, int64_t ldy, float scale);
void nemo_q6_k_q8k_gemm_avx2(const void *w, int64_t row_bytes, int nr, const nemo_q8k_act *x,
                             int64_t ldx, int nt, int64_t n, float *y, int64_t ldy, float scale);

#endif

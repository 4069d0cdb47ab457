/* kernels_avx2.c — AVX2 + FMA + F16C kernels. Every function carries a target attribute
 * instead of the whole file being built with -mavx2, so nothing here runs (or is inlined into
 * portable code) unless cpu_features.c found the CPU and OS support it.
 *
 * Per weight dtype there are two kernels built from the same 32-value decoder
 * (kernels_avx2_inl.h): a row converter (→ f32, bitwise equal to nemo_dequant_row) used for
 * prefill blocks, and a fused dot product for decode that never writes the f32 row; the fused
 * one follows the shared accumulation order, so it equals dot(converted row, x) bit for bit. */
#include "backend/cpu/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include "backend/cpu/dequant.h"
#include "backend/cpu/kernels_avx2_inl.h"
#include "backend/cpu/quant_act.h"

NEMO_AVX2 static float dot_avx2(const float *a, const float *b, int64_t n) {
    __m256 s[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++)
            s[k] = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8 * k), _mm256_loadu_ps(b + i + 8 * k),
                                   s[k]);
    return dot_finish(s, a + i, b + i, n - i);
}

/* two rows sharing the x loads: 8 accumulators, each row in the order of dot_avx2 */
NEMO_AVX2 static void dot2_avx2(const float *w0, const float *w1, const float *x, int64_t n,
                                float out[2]) {
    __m256 s[4], t[4];
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) s[k] = t[k] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            __m256 xv = _mm256_loadu_ps(x + i + 8 * k);
            s[k] = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + i + 8 * k), xv, s[k]);
            t[k] = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + i + 8 * k), xv, t[k]);
        }
    out[0] = dot_finish(s, w0 + i, x + i, n - i);
    out[1] = dot_finish(t, w1 + i, x + i, n - i);
}

NEMO_AVX2 static void dot4_avx2(const float *w, int64_t ldw, const float *x, int64_t n,
                                float out[4]) {
    dot2_avx2(w, w + ldw, x, n, out);
    dot2_avx2(w + 2 * ldw, w + 3 * ldw, x, n, out + 2);
}

NEMO_AVX2 static void axpy_avx2(float *y, float a, const float *x, int64_t n) {
    __m256 av = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i,
                         _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] = fmaf(a, x[i], y[i]);
}

NEMO_AVX2 static inline void store32(float *dst, const __m256 v[4]) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) _mm256_storeu_ps(dst + 8 * k, v[k]);
}

/* Float types: any n; 32-value steps through the decoder, the rest through the reference. */
#define FLOAT_KERNELS(name, T, ELEM, DEC)                                                          \
    NEMO_AVX2 static void name##_row(const void *src, float *dst, int64_t n) {                     \
        const ELEM *s = src;                                                                       \
        int64_t i = 0;                                                                             \
        for (; i + 32 <= n; i += 32) {                                                             \
            __m256 v[4];                                                                           \
            DEC(s + i, v);                                                                         \
            store32(dst + i, v);                                                                   \
        }                                                                                          \
        if (i < n) nemo_dequant_row(T, s + i, dst + i, n - i);                                     \
    }                                                                                              \
    NEMO_AVX2 static float name##_dot(const void *src, const float *x, int64_t n) {                \
        const ELEM *s = src;                                                                       \
        __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),            \
                         _mm256_setzero_ps()};                                                     \
        int64_t i = 0;                                                                             \
        for (; i + 32 <= n; i += 32) {                                                             \
            __m256 v[4];                                                                           \
            DEC(s + i, v);                                                                         \
            acc32(acc, v, x + i);                                                                  \
        }                                                                                          \
        float rest[32];                                                                            \
        if (i < n) nemo_dequant_row(T, s + i, rest, n - i);                                        \
        return dot_finish(acc, rest, x + i, n - i);                                                \
    }

FLOAT_KERNELS(f16, NEMO_DTYPE_F16, uint16_t, dec32_f16)
FLOAT_KERNELS(bf16, NEMO_DTYPE_BF16, uint16_t, dec32_bf16)
FLOAT_KERNELS(fp8, NEMO_DTYPE_F8_E4M3, uint8_t, dec32_fp8)

/* Block types: n is a multiple of the block size, itself a multiple of 32. DEC(b, j, v)
 * decodes chunk j of the block at b. */
#define BLOCK_KERNELS(name, ELEMS, BYTES, DEC)                                                     \
    NEMO_AVX2 static void name##_row(const void *src, float *dst, int64_t n) {                     \
        const uint8_t *b = src;                                                                    \
        for (int64_t i = 0; i < n / (ELEMS); i++, b += (BYTES))                                    \
            for (int j = 0; j < (ELEMS) / 32; j++, dst += 32) {                                    \
                __m256 v[4];                                                                       \
                DEC(b, j, v);                                                                      \
                store32(dst, v);                                                                   \
            }                                                                                      \
    }                                                                                              \
    NEMO_AVX2 static float name##_dot(const void *src, const float *x, int64_t n) {                \
        const uint8_t *b = src;                                                                    \
        __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),            \
                         _mm256_setzero_ps()};                                                     \
        for (int64_t i = 0; i < n / (ELEMS); i++, b += (BYTES))                                    \
            for (int j = 0; j < (ELEMS) / 32; j++, x += 32) {                                      \
                __m256 v[4];                                                                       \
                DEC(b, j, v);                                                                      \
                acc32(acc, v, x);                                                                  \
            }                                                                                      \
        return dot_finish(acc, NULL, NULL, 0);                                                     \
    }

#define DEC_Q8_0(b, j, v) dec32_q8_0(b, v)
#define DEC_Q4_0(b, j, v) dec32_q4_0(b, v)
#define DEC_Q4_1(b, j, v) dec32_q4_1(b, v)
BLOCK_KERNELS(q8_0, 32, 34, DEC_Q8_0)
BLOCK_KERNELS(q4_0, 32, 18, DEC_Q4_0)
BLOCK_KERNELS(q4_1, 32, 20, DEC_Q4_1)
BLOCK_KERNELS(q4_k, 256, 144, dec32_q4_k)
BLOCK_KERNELS(q5_k, 256, 176, dec32_q5_k)
BLOCK_KERNELS(q6_k, 256, 210, dec32_q6_k)

NEMO_AVX2 static float dot_avx2_row(const void *row, const float *x, int64_t n) {
    return dot_avx2(row, x, n);
}

static void f32_row(const void *src, float *dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}

static void q5_0_row(const void *src, float *dst, int64_t n) {
    nemo_quant_dequant_q5_0(src, dst, n);
}

static void q5_1_row(const void *src, float *dst, int64_t n) {
    nemo_quant_dequant_q5_1(src, dst, n);
}

static const nemo_kernels K = {
    .level = NEMO_CPU_AVX2,
    .dot = dot_avx2,
    .dot4 = dot4_avx2,
    .gemm = nemo_gemm_avx2,
    .gemm_w = nemo_gemm_w_avx2,
    .axpy = axpy_avx2,
    .rmsnorm = nemo_rmsnorm_avx2,
    .swiglu = nemo_swiglu_avx2,
    .softmax = nemo_softmax_avx2,
    .rope = nemo_rope_avx2,
    .to_f32 =
        {
            [NEMO_DTYPE_F32] = f32_row,
            [NEMO_DTYPE_F16] = f16_row,
            [NEMO_DTYPE_BF16] = bf16_row,
            [NEMO_DTYPE_F8_E4M3] = fp8_row,
            [NEMO_DTYPE_Q8_0] = q8_0_row,
            [NEMO_DTYPE_Q4_0] = q4_0_row,
            [NEMO_DTYPE_Q4_1] = q4_1_row,
            [NEMO_DTYPE_Q5_0] = q5_0_row, /* not in issue 6's list: the reference decoder */
            [NEMO_DTYPE_Q5_1] = q5_1_row,
            [NEMO_DTYPE_Q4_K] = q4_k_row,
            [NEMO_DTYPE_Q5_K] = q5_k_row,
            [NEMO_DTYPE_Q6_K] = q6_k_row,
        },
    .dot_row =
        {
            [NEMO_DTYPE_F32] = dot_avx2_row,
            [NEMO_DTYPE_F16] = f16_dot,
            [NEMO_DTYPE_BF16] = bf16_dot,
            [NEMO_DTYPE_F8_E4M3] = fp8_dot,
            [NEMO_DTYPE_Q8_0] = q8_0_dot,
            [NEMO_DTYPE_Q4_0] = q4_0_dot,
            [NEMO_DTYPE_Q4_1] = q4_1_dot,
            [NEMO_DTYPE_Q4_K] = q4_k_dot,
            [NEMO_DTYPE_Q5_K] = q5_k_dot,
            [NEMO_DTYPE_Q6_K] = q6_k_dot,
        },
    .q8_dot =
        {
            [NEMO_DTYPE_Q8_0] = nemo_q8_0_q8_avx2,
            [NEMO_DTYPE_Q4_0] = nemo_q4_0_q8_avx2,
            [NEMO_DTYPE_Q4_1] = nemo_q4_1_q8_avx2,
        },
    .q8_gemm =
        {
            [NEMO_DTYPE_Q8_0] = nemo_q8_0_q8gemm_avx2,
            [NEMO_DTYPE_Q4_0] = nemo_q4_0_q8gemm_avx2,
            [NEMO_DTYPE_Q4_1] = nemo_q4_1_q8gemm_avx2,
        },
    .q8k_dot =
        {
            [NEMO_DTYPE_Q4_K] = nemo_q4_k_q8k_avx2,
            [NEMO_DTYPE_Q5_K] = nemo_q5_k_q8k_avx2,
            [NEMO_DTYPE_Q6_K] = nemo_q6_k_q8k_avx2,
        },
    .q8k_gemm =
        {
            [NEMO_DTYPE_Q4_K] = nemo_q4_k_q8k_gemm_avx2,
            [NEMO_DTYPE_Q5_K] = nemo_q5_k_q8k_gemm_avx2,
            [NEMO_DTYPE_Q6_K] = nemo_q6_k_q8k_gemm_avx2,
        },
    .q8k_quantize = nemo_q8k_quantize_avx2,
};

const nemo_kernels *nemo_kernels_avx2(void) {
    return &K;
}
#else
const nemo_kernels *nemo_kernels_avx2(void) {
    return NULL;
}
#endif

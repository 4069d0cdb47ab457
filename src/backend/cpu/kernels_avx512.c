/* kernels_avx512.c — AVX-512 (F/BW/VL) kernels: 512-bit f32 dot products (same accumulation
 * order as AVX2, see below) and the float conversions that widen cleanly; the block-quantized
 * decoders and fused decode kernels are the AVX2 ones (their cost is the bit unpacking).
 *
 * AVX512_BF16's dot instruction is deliberately not used: it rounds the activations to bf16,
 * which would break the exact f32-activation numerics the parity tests rely on. */
#include "backend/cpu/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include "backend/cpu/dequant.h"
#include "backend/cpu/kernels_avx2_inl.h"

#include <pthread.h>

#define T __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

T static inline __mmask16 tail16(int64_t r) {
    return (__mmask16)((1u << r) - 1u);
}

/* The AVX2 order with 512-bit registers: z0 holds s0|s1 and z1 holds s2|s3 of the 4 × 8-lane
 * accumulators (kernels_avx2_inl.h), so the lanes see the same operations in the same order and
 * every result equals the AVX2 kernel's bit for bit (which lets this level reuse the AVX2 fused
 * decode kernels). */
T static inline void split4(__m512 z0, __m512 z1, __m256 s[4]) {
    s[0] = _mm512_castps512_ps256(z0);
    s[1] = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(z0), 1));
    s[2] = _mm512_castps512_ps256(z1);
    s[3] = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(z1), 1));
}

T static float dot_avx512(const float *a, const float *b, int64_t n) {
    __m512 z0 = _mm512_setzero_ps(), z1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        z0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), z0);
        z1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), z1);
    }
    __m256 s[4];
    split4(z0, z1, s);
    return dot_finish(s, a + i, b + i, n - i);
}

T static void dot4_avx512(const float *w, int64_t ldw, const float *x, int64_t n, float out[4]) {
    const float *r[4] = {w, w + ldw, w + 2 * ldw, w + 3 * ldw};
    __m512 z0[4], z1[4];
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) z0[k] = z1[k] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 x0 = _mm512_loadu_ps(x + i), x1 = _mm512_loadu_ps(x + i + 16);
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            z0[k] = _mm512_fmadd_ps(_mm512_loadu_ps(r[k] + i), x0, z0[k]);
            z1[k] = _mm512_fmadd_ps(_mm512_loadu_ps(r[k] + i + 16), x1, z1[k]);
        }
    }
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
        __m256 s[4];
        split4(z0[k], z1[k], s);
        out[k] = dot_finish(s, r[k] + i, x + i, n - i);
    }
}

T static float dot_avx512_row(const void *row, const float *x, int64_t n) {
    return dot_avx512(row, x, n);
}

T static void axpy_avx512(float *y, float a, const float *x, int64_t n) {
    __m512 av = _mm512_set1_ps(a);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i,
                         _mm512_fmadd_ps(av, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    if (i < n) {
        __mmask16 m = tail16(n - i);
        _mm512_mask_storeu_ps(
            y + i, m,
            _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
    }
}

T static void f16_row(const void *src, float *dst, int64_t n) {
    const uint16_t *s = src;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s + i))));
    for (; i < n; i++) dst[i] = nemo_f16_to_f32(s[i]);
}

T static void bf16_row(const void *src, float *dst, int64_t n) {
    const uint16_t *s = src;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(s + i)));
        _mm512_storeu_ps(dst + i, _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)));
    }
    for (; i < n; i++) dst[i] = nemo_bf16_to_f32(s[i]);
}

static nemo_kernels K;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void) {
    const nemo_kernels *a = nemo_kernels_avx2();
    K = *a;
    K.level = NEMO_CPU_AVX512;
    K.dot = dot_avx512;
    K.dot4 = dot4_avx512;
    K.axpy = axpy_avx512;
    K.to_f32[NEMO_DTYPE_F16] = f16_row;
    K.to_f32[NEMO_DTYPE_BF16] = bf16_row;
    K.dot_row[NEMO_DTYPE_F32] = dot_avx512_row;
}

const nemo_kernels *nemo_kernels_avx512(void) {
    pthread_once(&once, init);
    return &K;
}
#else
const nemo_kernels *nemo_kernels_avx512(void) {
    return NULL;
}
#endif

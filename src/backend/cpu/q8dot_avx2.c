/* q8dot_avx2.c — AVX2 integer dot products of Q8_0 / Q4_0 / Q4_1 weight rows with q8_1
 * activations (quant_act.h; NEMO_MATMUL=q8), ggml's scheme: maddubs of unsigned × signed bytes
 * into int16 pairs, madd into int32, one float scale per 32-value block.
 *
 * Each token keeps two float accumulators (even and odd blocks) so consecutive blocks do not
 * wait on one multiply-add chain. The 4-token form decodes each weight block once for four
 * tokens; per token it performs exactly the 1-token form's operations in the same order, so a
 * token's result does not depend on whether it was computed alone or in a group of four. */
#include "backend/cpu/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include "backend/cpu/kernels_avx2_inl.h"

#define AI __attribute__((always_inline))

enum { Q8_0, Q4_0, Q4_1 };

NEMO_AVX2 static inline __m256i ld256(const void *p) {
    return _mm256_loadu_si256((const __m256i *)p);
}

/* qs[16] → the block's 32 values as bytes (low nibbles are values 0..15) */
NEMO_AVX2 static inline __m256i nib32(const uint8_t *qs) {
    __m128i v = _mm_loadu_si128((const __m128i *)qs);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(v, 4), v), _mm256_set1_epi8(0x0F));
}

/* 32 unsigned bytes u (< 129) times 32 signed bytes s, summed in groups of 4 → floats */
NEMO_AVX2 static inline __m256 mul_u8_i8(__m256i u, __m256i s) {
    __m256i p16 = _mm256_maddubs_epi16(u, s); /* ≤ 2·128·127: no saturation */
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
}

/* block i of the row (type Ty) into the accumulators of T tokens (x + t·ldx: token t) */
NEMO_AVX2 static inline AI void step(const int Ty, const uint8_t *b, const nemo_q8_act *x,
                                     int64_t ldx, __m256 acc[4], float summ[4], const int T) {
    const float dw = ld_f16(b);
    __m256i u; /* unsigned weight bytes (Q4_1) or |w| (signed types) */
    __m256i w = _mm256_setzero_si256();
    float m = 0;
    if (Ty == Q8_0) {
        w = ld256(b + 2);
        u = _mm256_sign_epi8(w, w);
    } else if (Ty == Q4_0) {
        w = _mm256_sub_epi8(nib32(b + 2), _mm256_set1_epi8(8));
        u = _mm256_sign_epi8(w, w);
    } else {
        u = nib32(b + 4);
        m = ld_f16(b + 2);
    }
#pragma GCC unroll 4
    for (int t = 0; t < T; t++) {
        const nemo_q8_act *xt = x + t * ldx;
        __m256i xs = ld256(xt->qs);
        if (Ty != Q4_1) xs = _mm256_sign_epi8(xs, w);
        __m256 d = _mm256_set1_ps(dw * _cvtsh_ss(xt->d));
        acc[t] = _mm256_fmadd_ps(d, mul_u8_i8(u, xs), acc[t]);
        if (Ty == Q4_1) summ[t] += m * _cvtsh_ss(xt->s);
    }
}

NEMO_AVX2 static inline AI void q8dot(const int Ty, const uint8_t *row, const nemo_q8_act *x,
                                      int64_t ldx, int64_t n, float *out, const int T) {
    const int64_t bytes = Ty == Q8_0 ? 34 : Ty == Q4_0 ? 18 : 20, nb = n / 32;
    __m256 a0[4], a1[4];
    float s0[4] = {0, 0, 0, 0}, s1[4] = {0, 0, 0, 0};
#pragma GCC unroll 4
    for (int t = 0; t < T; t++) a0[t] = a1[t] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 2 <= nb; i += 2) {
        step(Ty, row + i * bytes, x + i, ldx, a0, s0, T);
        step(Ty, row + (i + 1) * bytes, x + i + 1, ldx, a1, s1, T);
    }
    if (i < nb) step(Ty, row + i * bytes, x + i, ldx, a0, s0, T);
#pragma GCC unroll 4
    for (int t = 0; t < T; t++) out[t] = hsum8(_mm256_add_ps(a0[t], a1[t])) + (s0[t] + s1[t]);
}

#define Q8DOT(name, Ty)                                                                            \
    NEMO_AVX2 float nemo_##name##_q8_avx2(const void *row, const nemo_q8_act *x, int64_t n) {      \
        float o;                                                                                   \
        q8dot(Ty, row, x, 0, n, &o, 1);                                                            \
        return o;                                                                                  \
    }                                                                                              \
    NEMO_AVX2 void nemo_##name##_q8x4_avx2(const void *row, const nemo_q8_act *x, int64_t ldx,     \
                                           int64_t n, float out[4]) {                              \
        q8dot(Ty, row, x, ldx, n, out, 4);                                                         \
    }
Q8DOT(q8_0, Q8_0)
Q8DOT(q4_0, Q4_0)
Q8DOT(q4_1, Q4_1)
#endif

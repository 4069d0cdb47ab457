/* kdot_avx2.c — AVX2 integer dot products of Q4_K / Q5_K / Q6_K weight rows with Q8_K
 * activations (q8k.h; NEMO_MATMUL=q8), ggml's scheme: maddubs of unsigned weight bytes × signed
 * activation bytes into int16 pairs, madd by the sub-block scale into int32. The int32 sums per
 * super-block are exact, and the float steps after them are the reference's, so each result is
 * bitwise equal to nemo_q8k_dot_ref. */
#include "backend/cpu/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include "backend/cpu/kernels_avx2_inl.h"
#include "backend/cpu/q8k.h"

NEMO_AVX2 static inline __m256i ld(const void *p) {
    return _mm256_loadu_si256((const __m256i *)p);
}

NEMO_AVX2 static inline int32_t hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

/* sc · Σ over adjacent pairs of q·x (q unsigned bytes < 64, x signed bytes) as 8 int32 */
NEMO_AVX2 static inline __m256i scaled(__m256i q, const int8_t *x, int sc) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(q, ld(x)), _mm256_set1_epi16((short)sc));
}

/* Q4_K / Q5_K: chunk j's 32 values as bytes are given by the caller's decoder */
#define KQ_DOT(name, BYTES, QBYTES)                                                                \
    NEMO_AVX2 float name(const void *row, const nemo_q8k_act *x, int64_t n) {                      \
        const uint8_t *b = row;                                                                    \
        float sum = 0;                                                                             \
        for (int64_t i = 0; i < n / 256; i++, b += (BYTES), x++) {                                 \
            __m256i acc = _mm256_setzero_si256();                                                  \
            int32_t msum = 0;                                                                      \
            for (int j = 0; j < 8; j++) {                                                          \
                int sc, mn;                                                                        \
                nemo_k4_scale_min(j, b + 4, &sc, &mn);                                             \
                acc = _mm256_add_epi32(acc, scaled(QBYTES(b, j), x->qs + 32 * j, sc));             \
                msum += mn * (x->bsums[2 * j] + x->bsums[2 * j + 1]);                              \
            }                                                                                      \
            sum = (sum + (ld_f16(b) * x->d) * (float)hsum_i32(acc)) -                              \
                  (ld_f16(b + 2) * x->d) * (float)msum;                                            \
        }                                                                                          \
        return sum;                                                                                \
    }

NEMO_AVX2 static inline __m256i q4k_bytes(const uint8_t *b, int j) {
    __m256i q = ld(b + 16 + 32 * (j / 2));
    if (j & 1) q = _mm256_srli_epi16(q, 4);
    return _mm256_and_si256(q, _mm256_set1_epi8(0x0F));
}

NEMO_AVX2 static inline __m256i q5k_bytes(const uint8_t *b, int j) {
    __m256i q = ld(b + 48 + 32 * (j / 2));
    if (j & 1) q = _mm256_srli_epi16(q, 4);
    q = _mm256_and_si256(q, _mm256_set1_epi8(0x0F));
    __m256i bit = _mm256_set1_epi8((char)(1u << j));
    __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(ld(b + 16), bit), bit);
    return _mm256_add_epi8(q, _mm256_and_si256(set, _mm256_set1_epi8(16)));
}

KQ_DOT(nemo_q4_k_q8k_avx2, 144, q4k_bytes)
KQ_DOT(nemo_q5_k_q8k_avx2, 176, q5k_bytes)

/* Q6_K: values 0..63 minus 32, one int8 scale per 16 values (layout in quant.h) */
NEMO_AVX2 float nemo_q6_k_q8k_avx2(const void *row, const nemo_q8k_act *x, int64_t n) {
    const uint8_t *b = row;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3), k32 = _mm256_set1_epi8(32);
    float sum = 0;
    for (int64_t i = 0; i < n / 256; i++, b += 210, x++) {
        __m256i acc = _mm256_setzero_si256();
        for (int half = 0; half < 2; half++) {
            const __m256i l0 = ld(b + 64 * half), l1 = ld(b + 64 * half + 32),
                          h = ld(b + 128 + 32 * half);
            const __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(l0, m4),
                                _mm256_slli_epi16(_mm256_and_si256(h, m3), 4)),
                _mm256_or_si256(
                    _mm256_and_si256(l1, m4),
                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m3), 4)),
                _mm256_or_si256(
                    _mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m3), 4)),
                _mm256_or_si256(
                    _mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m3), 4)),
            };
            const int8_t *sc = (const int8_t *)(b + 192 + 8 * half);
            for (int w = 0; w < 4; w++) {
                const __m256i xv = ld(x->qs + 128 * half + 32 * w);
                __m256i p =
                    _mm256_sub_epi16(_mm256_maddubs_epi16(q[w], xv), _mm256_maddubs_epi16(k32, xv));
                __m256i s =
                    _mm256_set_m128i(_mm_set1_epi16(sc[2 * w + 1]), _mm_set1_epi16(sc[2 * w]));
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, s));
            }
        }
        sum = sum + (ld_f16(b + 208) * x->d) * (float)hsum_i32(acc);
    }
    return sum;
}

#endif

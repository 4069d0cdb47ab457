/* kquant_avx2_inl.h — per-super-block integer cores of the K-quant × Q8_K 1-token dots
 * (kdot_avx2.c). Each returns the exact int32 sums of one super-block as vector lanes still to be
 * added up; the caller gathers four super-blocks' sums into one vector with kq_hsum4 and runs the
 * reference's float products on four lanes at once. Include only from files whose functions
 * carry NEMO_AVX2. */
#ifndef NEMO_KQUANT_AVX2_INL_H
#define NEMO_KQUANT_AVX2_INL_H

#include "backend/cpu/kernels_avx2_inl.h"
#include "backend/cpu/q8k.h"

#include <string.h>

#define KQ_AI __attribute__((always_inline))

NEMO_AVX2 static inline KQ_AI __m256i kq_ld(const void *p) {
    return _mm256_loadu_si256((const __m256i *)p);
}

/* Q4_K / Q5_K scales and minimums of super-block b as bytes: [sc_0..7 | mn_0..7] */
NEMO_AVX2 static inline KQ_AI __m128i kq_scales(const uint8_t *b) {
    const __m128i v = _mm_loadu_si128((const __m128i *)(b + 4)); /* words u0, u1, u2, (q) */
    const __m128i a = _mm_and_si128(v, _mm_set1_epi8(0x3F));     /* [sc 0..3, mn 0..3] */
    const __m128i u2 = _mm_shuffle_epi32(v, 0xAA);
    const __m128i lo =
        _mm_and_si128(_mm_srlv_epi32(u2, _mm_setr_epi32(0, 4, 0, 0)), _mm_set1_epi8(0x0F));
    const __m128i hi = _mm_slli_epi32(_mm_and_si128(_mm_srli_epi32(v, 6), _mm_set1_epi8(0x03)), 4);
    return _mm_unpacklo_epi32(a, _mm_or_si128(lo, hi)); /* [sc0..3, sc4..7, mn0..3, mn4..7] */
}

/* int16 element e of both 128-bit halves of v, in every lane */
NEMO_AVX2 static inline KQ_AI __m256i kq_bcast16(__m256i v, int e) {
    return _mm256_shuffle_epi8(v, _mm256_set1_epi16((short)(2 * e | (2 * e + 1) << 8)));
}

/* the sums of a[0..3] (8 int32 each) as the four lanes of one vector */
NEMO_AVX2 static inline KQ_AI __m128i kq_hsum4(const __m256i a[4]) {
    const __m256i h =
        _mm256_hadd_epi32(_mm256_hadd_epi32(a[0], a[1]), _mm256_hadd_epi32(a[2], a[3]));
    return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}
NEMO_AVX2 static inline KQ_AI __m128i kq_hsum4x(const __m128i a[4]) {
    return _mm_hadd_epi32(_mm_hadd_epi32(a[0], a[1]), _mm_hadd_epi32(a[2], a[3]));
}

/* the f16 at byte offset o of four super-blocks */
NEMO_AVX2 static inline KQ_AI __m128 kq_f16x4(const uint8_t *const b[4], int o) {
    uint16_t h[4];
    for (int r = 0; r < 4; r++) memcpy(&h[r], b[r] + o, 2);
    /* built in registers: a stack array read back as one vector stalls store forwarding */
    return _mm_cvtph_ps(
        _mm_setr_epi16((short)h[0], (short)h[1], (short)h[2], (short)h[3], 0, 0, 0, 0));
}

/* the 32-value sums bs32 (8 int16) */
NEMO_AVX2 static inline KQ_AI __m128i kq_bs32(const nemo_q8k_act *x) {
    return _mm_loadu_si128((const __m128i *)x->bs32);
}

/* Q4_K (Q = 4) / Q5_K (Q = 5) super-block b times x: *isum lanes add up to the reference's isum,
 * *msum lanes to its msum (bs = kq_bs32(x)) */
NEMO_AVX2 static inline KQ_AI void kq_block45(const int Q, const uint8_t *b, const nemo_q8k_act *x,
                                              __m128i bs, __m256i *isum, __m128i *msum) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m128i sm = kq_scales(b);
    const __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
    *msum = _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_srli_si128(sm, 8)), bs);
    __m256i a = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int jj = 0; jj < 4; jj++) {
        const __m256i raw = kq_ld(b + (Q == 5 ? 48 : 16) + 32 * jj);
        __m256i lo = _mm256_and_si256(raw, m4),
                hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
        if (Q == 5) {
            const __m256i qh = kq_ld(b + 16), one = _mm256_set1_epi8(1);
            lo = _mm256_or_si256(
                lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * jj), one), 4));
            hi = _mm256_or_si256(
                hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * jj + 1), one), 4));
        }
        a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_maddubs_epi16(lo, kq_ld(x->qs + 64 * jj)),
                                                  kq_bcast16(sc, 2 * jj)));
        a = _mm256_add_epi32(
            a, _mm256_madd_epi16(_mm256_maddubs_epi16(hi, kq_ld(x->qs + 64 * jj + 32)),
                                 kq_bcast16(sc, 2 * jj + 1)));
    }
    *isum = a;
}

/* Q6_K super-block b times x: lanes add up to the reference's isum; the -32 offset enters as
 * -32·Σ s_g·bsums[g] (exact) */
NEMO_AVX2 static inline KQ_AI __m256i kq_block6(const uint8_t *b, const nemo_q8k_act *x) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3);
    /* int16 element 0 in the low 128 bits, element 1 in the high (plus 2·wq elements) */
    const __m256i pick = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2,
                                          3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
    const __m256i s16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + 192)));
    /* scale pairs: chunk j takes s_2j on its low 16 values, s_2j+1 on the high 16 */
    const __m256i sA = _mm256_permute2x128_si256(s16, s16, 0x00),
                  sB = _mm256_permute2x128_si256(s16, s16, 0x11);
    __m256i a = _mm256_sub_epi32(_mm256_setzero_si256(),
                                 _mm256_slli_epi32(_mm256_madd_epi16(s16, kq_ld(x->bsums)), 5));
#pragma GCC unroll 2
    for (int half = 0; half < 2; half++) {
        const __m256i l0 = kq_ld(b + 64 * half), l1 = kq_ld(b + 64 * half + 32),
                      h = kq_ld(b + 128 + 32 * half);
        const __m256i q[4] = {
            _mm256_or_si256(_mm256_and_si256(l0, m4),
                            _mm256_slli_epi16(_mm256_and_si256(h, m3), 4)),
            _mm256_or_si256(_mm256_and_si256(l1, m4),
                            _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m3), 4)),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                            _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m3), 4)),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                            _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m3), 4)),
        };
        const __m256i sh = half ? sB : sA;
#pragma GCC unroll 4
        for (int wq = 0; wq < 4; wq++) {
            const __m256i sv =
                _mm256_shuffle_epi8(sh, _mm256_add_epi8(pick, _mm256_set1_epi8((char)(4 * wq))));
            a = _mm256_add_epi32(
                a, _mm256_madd_epi16(
                       _mm256_maddubs_epi16(q[wq], kq_ld(x->qs + 128 * half + 32 * wq)), sv));
        }
    }
    return a;
}

#endif

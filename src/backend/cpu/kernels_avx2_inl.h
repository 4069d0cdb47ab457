/* kernels_avx2_inl.h — the AVX2 building blocks shared by kernels_avx2.c and kernels_avx512.c:
 * the one f32 dot-product order every fast kernel follows, and the 32-value decoders of each
 * weight dtype. Include only from files whose functions carry NEMO_AVX2 (or a superset).
 *
 * Dot-product order (the contract that makes fused, blocked and 512-bit kernels bitwise equal):
 * four 8-lane accumulators s0..s3 take values [i, i+8), [i+8, i+16), [i+16, i+24), [i+24, i+32)
 * of each 32-value step by fused multiply-add; a remainder of r < 32 values goes 8 at a time
 * into s0, then a masked last < 8 into s1; the result is hsum8((s0 + s1) + (s2 + s3)). */
#ifndef NEMO_KERNELS_AVX2_INL_H
#define NEMO_KERNELS_AVX2_INL_H

#include "backend/cpu/quant.h"

#include <immintrin.h>
#include <math.h>

#define NEMO_AVX2 __attribute__((target("avx2,fma,f16c")))

NEMO_AVX2 static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* lanes [0, r) set, r in 1..7 */
NEMO_AVX2 static inline __m256i tail_mask(int64_t r) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* one 32-value step: s[k] += v[k] · x[8k .. 8k+8) */
NEMO_AVX2 static inline void acc32(__m256 s[4], const __m256 v[4], const float *x) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) s[k] = _mm256_fmadd_ps(v[k], _mm256_loadu_ps(x + 8 * k), s[k]);
}

/* the remainder (r < 32 values) and the final sum, per the order above */
NEMO_AVX2 static inline float dot_finish(__m256 s[4], const float *a, const float *b, int64_t r) {
    int64_t i = 0;
    for (; i + 8 <= r; i += 8)
        s[0] = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s[0]);
    if (i < r) {
        __m256i m = tail_mask(r - i);
        s[1] = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), s[1]);
    }
    return hsum8(_mm256_add_ps(_mm256_add_ps(s[0], s[1]), _mm256_add_ps(s[2], s[3])));
}

/* ---- 32-value decoders into v[4]: the reference's float operations in the same order, so the
 * values equal nemo_dequant_row's bit for bit. A multiply and an add are fused only where the
 * product is exact (then the single rounding is the add's); everywhere else they stay apart. */

NEMO_AVX2 static inline float ld_f16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

NEMO_AVX2 static inline __m128i ld64(const void *p) {
    long long raw;
    memcpy(&raw, p, 8);
    return _mm_cvtsi64_si128(raw);
}

/* the 8 low bytes of v (unsigned), minus off, as floats */
NEMO_AVX2 static inline __m256 u8x8_ps(__m128i v, __m256i off) {
    return _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepu8_epi32(v), off));
}

NEMO_AVX2 static inline void dec32_f16(const uint16_t *s, __m256 v[4]) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++)
        v[k] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + 8 * k)));
}

NEMO_AVX2 static inline void dec32_bf16(const uint16_t *s, __m256 v[4]) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
        __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(s + 8 * k)));
        v[k] = _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
    }
}

/* E4M3 → f32: the 7 magnitude bits placed at f32 bit 20 read as a float are 2^-120 times the
 * value (subnormals included), so one exact multiply by 2^120 finishes it; 0x7f/0xff are NaN. */
NEMO_AVX2 static inline __m256 fp8x8(__m128i bytes) {
    const __m256i m7f = _mm256_set1_epi32(0x7f), sign = _mm256_set1_epi32(0x80);
    __m256i v = _mm256_cvtepu8_epi32(bytes), mag = _mm256_and_si256(v, m7f);
    __m256 f =
        _mm256_mul_ps(_mm256_castsi256_ps(_mm256_slli_epi32(mag, 20)), _mm256_set1_ps(0x1p120f));
    f = _mm256_or_ps(f, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_and_si256(v, sign), 24)));
    return _mm256_blendv_ps(f, _mm256_set1_ps(NAN),
                            _mm256_castsi256_ps(_mm256_cmpeq_epi32(mag, m7f)));
}

NEMO_AVX2 static inline void dec32_fp8(const uint8_t *s, __m256 v[4]) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) v[k] = fp8x8(ld64(s + 8 * k));
}

/* Q8_0 block (34 bytes) */
NEMO_AVX2 static inline void dec32_q8_0(const uint8_t *b, __m256 v[4]) {
    const __m256 d = _mm256_set1_ps(ld_f16(b));
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++)
        v[k] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(ld64(b + 2 + 8 * k))), d);
}

/* qs[16] → lo (values 0..15) and hi (values 16..31) nibbles as bytes */
NEMO_AVX2 static inline void nibbles16(const uint8_t *qs, __m128i *lo, __m128i *hi) {
    const __m128i m = _mm_set1_epi8(0x0F);
    __m128i v = _mm_loadu_si128((const __m128i *)qs);
    *lo = _mm_and_si128(v, m);
    *hi = _mm_and_si128(_mm_srli_epi16(v, 4), m);
}

/* Q4_0 block (18 bytes): d·(q − 8) */
NEMO_AVX2 static inline void dec32_q4_0(const uint8_t *b, __m256 v[4]) {
    const __m256 d = _mm256_set1_ps(ld_f16(b));
    const __m256i eight = _mm256_set1_epi32(8);
    __m128i lo, hi;
    nibbles16(b + 2, &lo, &hi);
    v[0] = _mm256_mul_ps(u8x8_ps(lo, eight), d);
    v[1] = _mm256_mul_ps(u8x8_ps(_mm_srli_si128(lo, 8), eight), d);
    v[2] = _mm256_mul_ps(u8x8_ps(hi, eight), d);
    v[3] = _mm256_mul_ps(u8x8_ps(_mm_srli_si128(hi, 8), eight), d);
}

/* Q4_1 block (20 bytes): d·q + m. d·q is exact in f32 (q < 16: at most 11 + 4 significant
 * bits), so one fused multiply-add rounds exactly where the reference's add does. */
NEMO_AVX2 static inline void dec32_q4_1(const uint8_t *b, __m256 v[4]) {
    const __m256 d = _mm256_set1_ps(ld_f16(b)), m = _mm256_set1_ps(ld_f16(b + 2));
    const __m256i z = _mm256_setzero_si256();
    __m128i lo, hi;
    nibbles16(b + 4, &lo, &hi);
    v[0] = _mm256_fmadd_ps(u8x8_ps(lo, z), d, m);
    v[1] = _mm256_fmadd_ps(u8x8_ps(_mm_srli_si128(lo, 8), z), d, m);
    v[2] = _mm256_fmadd_ps(u8x8_ps(hi, z), d, m);
    v[3] = _mm256_fmadd_ps(u8x8_ps(_mm_srli_si128(hi, 8), z), d, m);
}

/* 32 byte values q → d·q − m (the K-quant sub-block formula). d is an fp16 scale times a 6-bit
 * sub-block scale (≤ 17 significant bits) and q < 32, so d·q is exact in f32 and one fused
 * multiply-subtract rounds exactly where the reference's subtraction does. */
NEMO_AVX2 static inline void dec32_dm(__m256i q, float d, float m, __m256 v[4]) {
    const __m256 dv = _mm256_set1_ps(d), mv = _mm256_set1_ps(m);
    const __m256i z = _mm256_setzero_si256();
    __m128i a = _mm256_castsi256_si128(q), c = _mm256_extracti128_si256(q, 1);
    v[0] = _mm256_fmsub_ps(dv, u8x8_ps(a, z), mv);
    v[1] = _mm256_fmsub_ps(dv, u8x8_ps(_mm_srli_si128(a, 8), z), mv);
    v[2] = _mm256_fmsub_ps(dv, u8x8_ps(c, z), mv);
    v[3] = _mm256_fmsub_ps(dv, u8x8_ps(_mm_srli_si128(c, 8), z), mv);
}

/* 32 byte values q (< 64) of two Q6_K sub-blocks → (d·sc[0])·(q − 32), (d·sc[1])·(q − 32) */
NEMO_AVX2 static inline void dec32_q6(__m256i q, float d, const int8_t *sc, __m256 v[4]) {
    const __m256i k32 = _mm256_set1_epi32(32);
    const __m256 s0 = _mm256_set1_ps(d * (float)sc[0]), s1 = _mm256_set1_ps(d * (float)sc[1]);
    __m128i a = _mm256_castsi256_si128(q), c = _mm256_extracti128_si256(q, 1);
    v[0] = _mm256_mul_ps(s0, u8x8_ps(a, k32));
    v[1] = _mm256_mul_ps(s0, u8x8_ps(_mm_srli_si128(a, 8), k32));
    v[2] = _mm256_mul_ps(s1, u8x8_ps(c, k32));
    v[3] = _mm256_mul_ps(s1, u8x8_ps(_mm_srli_si128(c, 8), k32));
}

/* The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block (packing in quant.h). */
static inline void k4_scale_min(int j, const uint8_t *q, float d, float dmin, float *dj,
                                float *mj) {
    uint8_t sc, mn;
    if (j < 4) {
        sc = q[j] & 63;
        mn = q[j + 4] & 63;
    } else {
        sc = (uint8_t)((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4));
        mn = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
    *dj = d * sc;
    *mj = dmin * mn;
}

/* chunk j (0..7, 32 values each) of a Q4_K super-block (144 bytes) */
NEMO_AVX2 static inline void dec32_q4_k(const uint8_t *b, int j, __m256 v[4]) {
    float dj, mj;
    k4_scale_min(j, b + 4, ld_f16(b), ld_f16(b + 2), &dj, &mj);
    __m256i q = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * (j / 2)));
    if (j & 1) q = _mm256_srli_epi16(q, 4);
    dec32_dm(_mm256_and_si256(q, _mm256_set1_epi8(0x0F)), dj, mj, v);
}

/* chunk j of a Q5_K super-block (176 bytes): bit j of qh[l] adds 16 to value l */
NEMO_AVX2 static inline void dec32_q5_k(const uint8_t *b, int j, __m256 v[4]) {
    float dj, mj;
    k4_scale_min(j, b + 4, ld_f16(b), ld_f16(b + 2), &dj, &mj);
    __m256i q = _mm256_loadu_si256((const __m256i *)(b + 48 + 32 * (j / 2)));
    if (j & 1) q = _mm256_srli_epi16(q, 4);
    q = _mm256_and_si256(q, _mm256_set1_epi8(0x0F));
    __m256i qh = _mm256_loadu_si256((const __m256i *)(b + 16));
    __m256i bit = _mm256_set1_epi8((char)(1u << j));
    __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(qh, bit), bit);
    dec32_dm(_mm256_add_epi8(q, _mm256_and_si256(set, _mm256_set1_epi8(16))), dj, mj, v);
}

/* chunk j of a Q6_K super-block (210 bytes): half j/4, quarter j%4 (layout in quant.h) */
NEMO_AVX2 static inline void dec32_q6_k(const uint8_t *b, int j, __m256 v[4]) {
    int half = j / 4, w = j % 4;
    const uint8_t *ql = b + 64 * half + 32 * (w & 1), *qh = b + 128 + 32 * half;
    const int8_t *sc = (const int8_t *)(b + 192 + 8 * half) + 2 * w;
    __m256i l = _mm256_loadu_si256((const __m256i *)ql);
    if (w >= 2) l = _mm256_srli_epi16(l, 4);
    l = _mm256_and_si256(l, _mm256_set1_epi8(0x0F));
    __m256i h = _mm256_loadu_si256((const __m256i *)qh);
    switch (w) { /* shift counts must be immediates */
    case 1: h = _mm256_srli_epi16(h, 2); break;
    case 2: h = _mm256_srli_epi16(h, 4); break;
    case 3: h = _mm256_srli_epi16(h, 6); break;
    default: break;
    }
    h = _mm256_slli_epi16(_mm256_and_si256(h, _mm256_set1_epi8(3)), 4);
    dec32_q6(_mm256_or_si256(l, h), ld_f16(b + 208), sc, v);
}

#endif

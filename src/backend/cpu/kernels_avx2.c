/* kernels_avx2.c — AVX2 + FMA + F16C kernels. Every function carries a target attribute
 * instead of the whole file being built with -mavx2, so nothing here runs (or is inlined into
 * portable code) unless cpu_features.c found the CPU and OS support it.
 *
 * The row converters do the reference's float operations in the same order with separate
 * multiply and add (never fused), so they match nemo_dequant_row bit for bit. */
#include "backend/cpu/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include "backend/cpu/dequant.h"
#include "backend/cpu/quant.h"

#include <immintrin.h>
#include <math.h>

#define T __attribute__((target("avx2,fma,f16c")))

T static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* lanes [0, r) set, r in 1..7 */
T static inline __m256i tail_mask(int64_t r) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* One row: two 8-lane accumulators over 16-value steps, one 8-value step, a masked tail, then
 * a fixed horizontal sum. dot4 repeats exactly this per row. */
T static float dot_avx2(const float *a, const float *b, int64_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    if (i + 8 <= n) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        i += 8;
    }
    if (i < n) {
        __m256i m = tail_mask(n - i);
        s1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), s1);
    }
    return hsum8(_mm256_add_ps(s0, s1));
}

T static void dot4_avx2(const float *w, int64_t ldw, const float *x, int64_t n, float out[4]) {
    const float *w0 = w, *w1 = w + ldw, *w2 = w + 2 * ldw, *w3 = w + 3 * ldw;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + 8);
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + i), x0, a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + i + 8), x1, a1);
        b0 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + i), x0, b0);
        b1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + i + 8), x1, b1);
        c0 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + i), x0, c0);
        c1 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + i + 8), x1, c1);
        d0 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + i), x0, d0);
        d1 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + i + 8), x1, d1);
    }
    if (i + 8 <= n) {
        __m256 x0 = _mm256_loadu_ps(x + i);
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + i), x0, a0);
        b0 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + i), x0, b0);
        c0 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + i), x0, c0);
        d0 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + i), x0, d0);
        i += 8;
    }
    if (i < n) {
        __m256i m = tail_mask(n - i);
        __m256 x0 = _mm256_maskload_ps(x + i, m);
        a1 = _mm256_fmadd_ps(_mm256_maskload_ps(w0 + i, m), x0, a1);
        b1 = _mm256_fmadd_ps(_mm256_maskload_ps(w1 + i, m), x0, b1);
        c1 = _mm256_fmadd_ps(_mm256_maskload_ps(w2 + i, m), x0, c1);
        d1 = _mm256_fmadd_ps(_mm256_maskload_ps(w3 + i, m), x0, d1);
    }
    out[0] = hsum8(_mm256_add_ps(a0, a1));
    out[1] = hsum8(_mm256_add_ps(b0, b1));
    out[2] = hsum8(_mm256_add_ps(c0, c1));
    out[3] = hsum8(_mm256_add_ps(d0, d1));
}

T static void axpy_avx2(float *y, float a, const float *x, int64_t n) {
    __m256 av = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i,
                         _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] = fmaf(a, x[i], y[i]);
}

/* ---- row converters */

T static inline float ld_f16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/* the 8 low bytes of v (unsigned) as floats */
T static inline __m256 u8x8_ps(__m128i v) {
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v));
}
/* the 8 low bytes of v minus off, as floats */
T static inline __m256 u8x8_off_ps(__m128i v, __m256i off) {
    return _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepu8_epi32(v), off));
}

T static void f16_row(const void *src, float *dst, int64_t n) {
    const uint16_t *s = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + i))));
    for (; i < n; i++) dst[i] = nemo_f16_to_f32(s[i]);
}

T static void bf16_row(const void *src, float *dst, int64_t n) {
    const uint16_t *s = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(s + i)));
        _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
    }
    for (; i < n; i++) dst[i] = nemo_bf16_to_f32(s[i]);
}

/* E4M3 → f32: the 7 magnitude bits placed at f32 bit 20 read as a float are 2^-120 times the
 * value (subnormals included), so one exact multiply by 2^120 finishes it; 0x7f/0xff are NaN. */
T static void fp8_row(const void *src, float *dst, int64_t n) {
    const uint8_t *s = src;
    const __m256 k = _mm256_set1_ps(0x1p120f), nan = _mm256_set1_ps(NAN);
    const __m256i m7f = _mm256_set1_epi32(0x7f), sign = _mm256_set1_epi32(0x80);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        long long raw;
        memcpy(&raw, s + i, 8);
        __m256i v = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(raw));
        __m256i mag = _mm256_and_si256(v, m7f);
        __m256 f = _mm256_mul_ps(_mm256_castsi256_ps(_mm256_slli_epi32(mag, 20)), k);
        f = _mm256_or_ps(f, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_and_si256(v, sign), 24)));
        f = _mm256_blendv_ps(f, nan, _mm256_castsi256_ps(_mm256_cmpeq_epi32(mag, m7f)));
        _mm256_storeu_ps(dst + i, f);
    }
    for (; i < n; i++) dst[i] = nemo_fp8_e4m3_to_f32(s[i]);
}

T static void q8_0_row(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / NEMO_QK; i++, b += 34, dst += NEMO_QK) {
        const __m256 d = _mm256_set1_ps(ld_f16(b));
        for (int j = 0; j < 4; j++) {
            long long raw;
            memcpy(&raw, b + 2 + 8 * j, 8);
            __m256 q = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_cvtsi64_si128(raw)));
            _mm256_storeu_ps(dst + 8 * j, _mm256_mul_ps(q, d));
        }
    }
}

/* qs[16] → lo (values 0..15) and hi (values 16..31) nibbles as bytes */
T static inline void nibbles16(const uint8_t *qs, __m128i *lo, __m128i *hi) {
    const __m128i m = _mm_set1_epi8(0x0F);
    __m128i v = _mm_loadu_si128((const __m128i *)qs);
    *lo = _mm_and_si128(v, m);
    *hi = _mm_and_si128(_mm_srli_epi16(v, 4), m);
}

T static void q4_0_row(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    const __m256i eight = _mm256_set1_epi32(8);
    for (int64_t i = 0; i < n / NEMO_QK; i++, b += 18, dst += NEMO_QK) {
        const __m256 d = _mm256_set1_ps(ld_f16(b));
        __m128i lo, hi;
        nibbles16(b + 2, &lo, &hi);
        _mm256_storeu_ps(dst, _mm256_mul_ps(u8x8_off_ps(lo, eight), d));
        _mm256_storeu_ps(dst + 8, _mm256_mul_ps(u8x8_off_ps(_mm_srli_si128(lo, 8), eight), d));
        _mm256_storeu_ps(dst + 16, _mm256_mul_ps(u8x8_off_ps(hi, eight), d));
        _mm256_storeu_ps(dst + 24, _mm256_mul_ps(u8x8_off_ps(_mm_srli_si128(hi, 8), eight), d));
    }
}

T static void q4_1_row(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / NEMO_QK; i++, b += 20, dst += NEMO_QK) {
        const __m256 d = _mm256_set1_ps(ld_f16(b)), m = _mm256_set1_ps(ld_f16(b + 2));
        __m128i lo, hi;
        nibbles16(b + 4, &lo, &hi);
        _mm256_storeu_ps(dst, _mm256_add_ps(_mm256_mul_ps(u8x8_ps(lo), d), m));
        _mm256_storeu_ps(dst + 8,
                         _mm256_add_ps(_mm256_mul_ps(u8x8_ps(_mm_srli_si128(lo, 8)), d), m));
        _mm256_storeu_ps(dst + 16, _mm256_add_ps(_mm256_mul_ps(u8x8_ps(hi), d), m));
        _mm256_storeu_ps(dst + 24,
                         _mm256_add_ps(_mm256_mul_ps(u8x8_ps(_mm_srli_si128(hi, 8)), d), m));
    }
}

/* 32 byte values q (each < 64) → dst[32] = d·q − m (separate multiply and subtract) */
T static inline void store32_dm(float *dst, __m256i q, float d, float m) {
    const __m256 dv = _mm256_set1_ps(d), mv = _mm256_set1_ps(m);
    __m128i a = _mm256_castsi256_si128(q), c = _mm256_extracti128_si256(q, 1);
    _mm256_storeu_ps(dst, _mm256_sub_ps(_mm256_mul_ps(dv, u8x8_ps(a)), mv));
    _mm256_storeu_ps(dst + 8, _mm256_sub_ps(_mm256_mul_ps(dv, u8x8_ps(_mm_srli_si128(a, 8))), mv));
    _mm256_storeu_ps(dst + 16, _mm256_sub_ps(_mm256_mul_ps(dv, u8x8_ps(c)), mv));
    _mm256_storeu_ps(dst + 24, _mm256_sub_ps(_mm256_mul_ps(dv, u8x8_ps(_mm_srli_si128(c, 8))), mv));
}

static inline void scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *mn) {
    if (j < 4) {
        *sc = q[j] & 63;
        *mn = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4));
        *mn = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

T static void q4_k_row(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int64_t i = 0; i < n / NEMO_QK_K; i++, b += 144) {
        const float d = ld_f16(b), dmin = ld_f16(b + 2);
        const uint8_t *scales = b + 4, *q = b + 16;
        for (int c = 0; c < 4; c++, q += 32, dst += 64) {
            uint8_t sc1, mn1, sc2, mn2;
            scale_min_k4(2 * c, scales, &sc1, &mn1);
            scale_min_k4(2 * c + 1, scales, &sc2, &mn2);
            __m256i v = _mm256_loadu_si256((const __m256i *)q);
            store32_dm(dst, _mm256_and_si256(v, m4), d * sc1, dmin * mn1);
            store32_dm(dst + 32, _mm256_and_si256(_mm256_srli_epi16(v, 4), m4), d * sc2,
                       dmin * mn2);
        }
    }
}

T static void q5_k_row(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    const __m256i m4 = _mm256_set1_epi8(0x0F), zero = _mm256_setzero_si256(),
                  sixteen = _mm256_set1_epi8(16);
    for (int64_t i = 0; i < n / NEMO_QK_K; i++, b += 176) {
        const float d = ld_f16(b), dmin = ld_f16(b + 2);
        const uint8_t *scales = b + 4, *ql = b + 48;
        const __m256i qh = _mm256_loadu_si256((const __m256i *)(b + 16));
        for (int c = 0; c < 4; c++, ql += 32, dst += 64) {
            uint8_t sc1, mn1, sc2, mn2;
            scale_min_k4(2 * c, scales, &sc1, &mn1);
            scale_min_k4(2 * c + 1, scales, &sc2, &mn2);
            __m256i v = _mm256_loadu_si256((const __m256i *)ql);
            __m256i u1 = _mm256_set1_epi8((char)(1u << (2 * c))),
                    u2 = _mm256_set1_epi8((char)(2u << (2 * c)));
            /* 16 where the qh bit is set */
            __m256i h1 =
                _mm256_andnot_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, u1), zero), sixteen);
            __m256i h2 =
                _mm256_andnot_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, u2), zero), sixteen);
            store32_dm(dst, _mm256_add_epi8(_mm256_and_si256(v, m4), h1), d * sc1, dmin * mn1);
            store32_dm(dst + 32, _mm256_add_epi8(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), h2),
                       d * sc2, dmin * mn2);
        }
    }
}

/* 16 byte values q (< 64) of one Q6_K sub-block → dst[16] = s·(q − 32) */
T static inline void store16_q6(float *dst, __m128i q, float s) {
    const __m256i k32 = _mm256_set1_epi32(32);
    const __m256 sv = _mm256_set1_ps(s);
    _mm256_storeu_ps(dst, _mm256_mul_ps(sv, u8x8_off_ps(q, k32)));
    _mm256_storeu_ps(dst + 8, _mm256_mul_ps(sv, u8x8_off_ps(_mm_srli_si128(q, 8), k32)));
}

T static inline void store32_q6(float *dst, __m256i q, float d, const int8_t *sc) {
    store16_q6(dst, _mm256_castsi256_si128(q), d * (float)sc[0]);
    store16_q6(dst + 16, _mm256_extracti128_si256(q, 1), d * (float)sc[1]);
}

T static void q6_k_row(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3);
    for (int64_t i = 0; i < n / NEMO_QK_K; i++, b += 210) {
        const float d = ld_f16(b + 208);
        const uint8_t *ql = b, *qh = b + 128;
        const int8_t *sc = (const int8_t *)(b + 192);
        for (int half = 0; half < 2; half++, dst += 128, ql += 64, qh += 32, sc += 8) {
            __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
            __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            __m256i h = _mm256_loadu_si256((const __m256i *)qh);
            __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(h, m3), 4);
            __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m3), 4);
            __m256i h2 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m3), 4);
            __m256i h3 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m3), 4);
            __m256i q1 = _mm256_or_si256(_mm256_and_si256(l0, m4), h0);
            __m256i q2 = _mm256_or_si256(_mm256_and_si256(l1, m4), h1);
            __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), h2);
            __m256i q4 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), h3);
            store32_q6(dst, q1, d, sc + 0);
            store32_q6(dst + 32, q2, d, sc + 2);
            store32_q6(dst + 64, q3, d, sc + 4);
            store32_q6(dst + 96, q4, d, sc + 6);
        }
    }
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
    .axpy = axpy_avx2,
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
};

const nemo_kernels *nemo_kernels_avx2(void) {
    return &K;
}
#else
const nemo_kernels *nemo_kernels_avx2(void) {
    return NULL;
}
#endif

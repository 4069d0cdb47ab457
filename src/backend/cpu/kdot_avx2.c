/* kdot_avx2.c — AVX2 integer dot products of Q4_K / Q5_K / Q6_K weight rows with Q8_K
 * activations (q8k.h; NEMO_MATMUL=q8), ggml's scheme: maddubs of unsigned weight bytes × signed
 * activation bytes into int16 pairs, madd by the sub-block scale into int32. The int32 sums per
 * super-block are exact, and the float steps after them are the reference's, so each result is
 * bitwise equal to nemo_q8k_dot_ref. The 1-token dots use the per-super-block cores of
 * kquant_avx2_inl.h four super-blocks at a time (the matmul itself runs kgemm_avx2.c's q8k_gemm
 * for any number of tokens; these are the per-row form the table and tests keep). Also the AVX2
 * Q8_K activation quantizer. */
#include "backend/cpu/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include "backend/cpu/kquant_avx2_inl.h"

#include <string.h>

NEMO_AVX2 static inline __m256i ld(const void *p) {
    return _mm256_loadu_si256((const __m256i *)p);
}

#define AI __attribute__((always_inline))

/* One token: four consecutive super-blocks at a time through the shared cores
 * (kquant_avx2_inl.h), their int32 sums gathered into one vector and the products
 * (d·x.d)·isum and (dmin·x.d)·msum formed on four lanes; only the running sum's adds stay
 * scalar, in the reference's order. The row is read front to back, one stream. k (the group's
 * super-blocks, 1..4) is a constant in each call, so the group's vectors stay in registers. */
NEMO_AVX2 static inline AI float dot1_group(const int Q, const uint8_t *b, const nemo_q8k_act *x,
                                            const int k, float sum) {
    const int64_t bb = Q == 4 ? 144 : Q == 5 ? 176 : 210;
    const uint8_t *bk[4];
    __m256i acc[4];
    __m128i mac[4];
    float xd[4] = {0, 0, 0, 0};
#pragma GCC unroll 4
    for (int u = 0; u < 4; u++) {
        bk[u] = b + (u < k ? u : 0) * bb;
        acc[u] = _mm256_setzero_si256();
        mac[u] = _mm_setzero_si128();
    }
    /* 2 KB ahead: the hardware prefetcher alone left DRAM-resident rows ~10 % slower */
    for (int o = 0; o < 4 * bb; o += 64) _mm_prefetch((const char *)b + 2048 + o, _MM_HINT_T0);
#pragma GCC unroll 4
    for (int u = 0; u < k; u++) {
        xd[u] = x[u].d;
        if (Q == 6)
            acc[u] = kq_block6(bk[u], x + u);
        else
            kq_block45(Q, bk[u], x + u, kq_bs32(x + u), &acc[u], &mac[u]);
    }
    const __m128 xv = _mm_setr_ps(xd[0], xd[1], xd[2], xd[3]); /* no store-forward stall */
    float a[4], m[4];
    _mm_storeu_ps(a, _mm_mul_ps(_mm_mul_ps(kq_f16x4(bk, Q == 6 ? 208 : 0), xv),
                                _mm_cvtepi32_ps(kq_hsum4(acc))));
    if (Q == 6) {
#pragma GCC unroll 4
        for (int u = 0; u < k; u++) sum = sum + a[u];
    } else {
        _mm_storeu_ps(m,
                      _mm_mul_ps(_mm_mul_ps(kq_f16x4(bk, 2), xv), _mm_cvtepi32_ps(kq_hsum4x(mac))));
#pragma GCC unroll 4
        for (int u = 0; u < k; u++) sum = (sum + a[u]) - m[u];
    }
    return sum;
}

NEMO_AVX2 static inline AI float dot1(const int Q, const uint8_t *b, const nemo_q8k_act *x,
                                      int64_t n) {
    const int64_t bb = Q == 4 ? 144 : Q == 5 ? 176 : 210, nb = n / 256;
    float sum = 0;
    int64_t i = 0;
    for (; i + 4 <= nb; i += 4) sum = dot1_group(Q, b + i * bb, x + i, 4, sum);
    switch (nb - i) {
    case 3: return dot1_group(Q, b + i * bb, x + i, 3, sum);
    case 2: return dot1_group(Q, b + i * bb, x + i, 2, sum);
    case 1: return dot1_group(Q, b + i * bb, x + i, 1, sum);
    default: return sum;
    }
}

NEMO_AVX2 float nemo_q4_k_q8k_avx2(const void *row, const nemo_q8k_act *x, int64_t n) {
    return dot1(4, row, x, n);
}
NEMO_AVX2 float nemo_q5_k_q8k_avx2(const void *row, const nemo_q8k_act *x, int64_t n) {
    return dot1(5, row, x, n);
}

NEMO_AVX2 float nemo_q6_k_q8k_avx2(const void *row, const nemo_q8k_act *x, int64_t n) {
    return dot1(6, row, x, n);
}

/* nemo_q8k_quantize_ref eight lanes at a time (bitwise the same blocks for finite x): the same
 * |x| maximum (the first value reaching it
 * gives the sign), the same products iscale·x rounded to nearest even (cvtps under the default
 * rounding mode, as lrintf), the same clamp at 127 (the saturating packs; nothing can fall below
 * -127), and exact int16 group sums. */
NEMO_AVX2 void nemo_q8k_quantize_avx2(const float *x, nemo_q8k_act *y, int64_t n) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (int64_t b = 0; b < n / 256; b++, x += 256, y++) {
        __m256 am = _mm256_setzero_ps();
        for (int j = 0; j < 256; j += 8)
            am = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + j), absmask), am); /* NaN: am */
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(am), _mm256_extractf128_ps(am, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        memset(y, 0, sizeof *y);
        if (!(amax > 0)) continue; /* all zero (the reference's strict > never fires) */
        float max = 0;
        const __m256 av = _mm256_set1_ps(amax);
        for (int j = 0; j < 256; j += 8) {
            const int m = _mm256_movemask_ps(
                _mm256_cmp_ps(_mm256_and_ps(_mm256_loadu_ps(x + j), absmask), av, _CMP_EQ_OQ));
            if (m) {
                max = x[j + __builtin_ctz((unsigned)m)];
                break;
            }
        }
        const float iscale = -127.f / max;
        const __m256 is = _mm256_set1_ps(iscale);
        for (int j = 0; j < 256; j += 32) {
            __m256i v[4];
            for (int u = 0; u < 4; u++)
                v[u] = _mm256_cvtps_epi32(_mm256_mul_ps(is, _mm256_loadu_ps(x + j + 8 * u)));
            /* packs interleave 128-bit halves; the permute puts the 32 bytes back in order */
            const __m256i p16a = _mm256_packs_epi32(v[0], v[1]),
                          p16b = _mm256_packs_epi32(v[2], v[3]);
            const __m256i p8 = _mm256_packs_epi16(p16a, p16b);
            _mm256_storeu_si256(
                (__m256i *)(y->qs + j),
                _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
        }
        /* group sums: per 32 bytes, pair sums (maddubs with ones), then sums of four (madd),
         * then two hadd rounds bring groups (2i, 2i+1) of registers 4 apart together */
        const __m256i one8 = _mm256_set1_epi8(1), one16 = _mm256_set1_epi16(1);
        __m256i m[8];
        for (int i = 0; i < 8; i++)
            m[i] = _mm256_madd_epi16(_mm256_maddubs_epi16(one8, ld(y->qs + 32 * i)), one16);
        const __m256i ha =
            _mm256_hadd_epi32(_mm256_hadd_epi32(m[0], m[1]), _mm256_hadd_epi32(m[2], m[3]));
        const __m256i hb =
            _mm256_hadd_epi32(_mm256_hadd_epi32(m[4], m[5]), _mm256_hadd_epi32(m[6], m[7]));
        /* ha: low half groups 0,2,4,6, high half 1,3,5,7; hb the same for 8..15 */
        const __m256i p = _mm256_packs_epi32(ha, hb); /* low: 0,2,..,14  high: 1,3,..,15 */
        const __m128i lo = _mm256_castsi256_si128(p), hi = _mm256_extracti128_si256(p, 1);
        _mm_storeu_si128((__m128i *)y->bsums, _mm_unpacklo_epi16(lo, hi));
        const __m128i b0 = _mm_unpacklo_epi16(lo, hi), b1 = _mm_unpackhi_epi16(lo, hi);
        _mm_storeu_si128((__m128i *)(y->bsums + 8), b1);
        _mm_storeu_si128((__m128i *)y->bs32, _mm_hadd_epi16(b0, b1));
        y->d = 1 / iscale;
    }
}
#endif

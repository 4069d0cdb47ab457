/* kgemm_avx2.c — register-blocked prefill of Q4_K / Q5_K / Q6_K weight rows with Q8_K
 * activations (q8k.h; NEMO_MATMUL=q8): the kernel table's q8k_gemm.
 *
 * Eight rows at a time are unpacked into a tile (one per super-block) whose 32-bit lanes hold four
 * consecutive weight values of one row each (lanes = rows). One maddubs then multiplies the
 * eight rows by four activation bytes of one token broadcast to every lane, int16 sums run over
 * as many 4-value steps as cannot overflow (8 for Q4_K, 4 for Q5_K, 2 for Q6_K), and one madd
 * applies each row's sub-block scale. The tile is decoded once and used by every token, a token's
 * activation bytes once for eight rows, and no horizontal sum is needed: each lane ends with its
 * row's exact int32 super-block sum, which is the same integer the reference computes. The float
 * steps per super-block are then the reference's, lane by lane (no fused multiply-add), so every
 * (row, token) value is bitwise equal to q8k_dot (kernels.h). Q6_K's -32 offset is applied as the
 * exact integer identity Σ sc·Σ(q-32)·x = Σ sc·Σ q·x - 32·Σ sc·bsum.
 *
 * Loop order: K-blocks of KB super-blocks outermost (the activations of every token for one
 * K-block stay in L2 while all row panels pass over them), then pairs of 8-row panels (their
 * tiles on the stack, in L2), then tokens four at a time. The running sums of a panel live in y
 * between K-blocks; the last K-block stores scale·sum. KB = 16 reads each row in runs of 16
 * super-blocks: with 4 the short strided runs left the weight stream latency-bound (measured
 * 100 → 147 GFLOP/s at 32 tokens on 14336 → 5120). */
#include "backend/cpu/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include "backend/cpu/kernels_avx2_inl.h"

#include <string.h>

#define AI __attribute__((always_inline))
/* keeps the int16 sums a serial chain in registers: without it GCC reassociates the adds into a
 * tree over all steps and spills the products */
#define KEEP(v) __asm__("" : "+x"(v))

enum { KB = 16 }; /* super-blocks per K-block (tiles: 2 x 16 x 2.9 KB, stack) */

typedef struct {
    _Alignas(32) uint8_t q[64][32]; /* step s (values 4s..4s+3): row r's values at bytes 4r.. */
    int32_t sc[16][8]; /* scale of each madd group, lane r = int16 pair (s, s): Q4_K / Q5_K per
                          32-value sub-block (8), Q6_K per 16-value group (16) */
    int32_t cor[8][8]; /* int16 pairs: Q4_K / Q5_K (mn_2j, mn_2j+1) against bs32[2j], bs32[2j+1]
                          (j < 4); Q6_K (s_2j, s_2j+1) against bsums[2j], bsums[2j+1] */
    float d[8], dmin[8];
} ktile;

NEMO_AVX2 static inline __m256i ld(const void *p) {
    return _mm256_loadu_si256((const __m256i *)p);
}

NEMO_AVX2 static inline __m256i bcast32(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

/* 8x8 transpose of 32-bit lanes: v[r] lane s → v[s] lane r */
NEMO_AVX2 static inline AI void tr8(__m256i v[8]) {
    const __m256i t0 = _mm256_unpacklo_epi32(v[0], v[1]), t1 = _mm256_unpackhi_epi32(v[0], v[1]),
                  t2 = _mm256_unpacklo_epi32(v[2], v[3]), t3 = _mm256_unpackhi_epi32(v[2], v[3]),
                  t4 = _mm256_unpacklo_epi32(v[4], v[5]), t5 = _mm256_unpackhi_epi32(v[4], v[5]),
                  t6 = _mm256_unpacklo_epi32(v[6], v[7]), t7 = _mm256_unpackhi_epi32(v[6], v[7]);
    const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2),
                  u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3),
                  u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6),
                  u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
    v[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
    v[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
    v[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
    v[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
    v[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
    v[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
    v[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
    v[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

/* the 32 unsigned values of 32-value chunk j of super-block b (layouts in quant.h) */
NEMO_AVX2 static inline AI __m256i chunk(const int Q, const uint8_t *b, int j) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    if (Q == 4) {
        const __m256i raw = ld(b + 16 + 32 * (j >> 1));
        return _mm256_and_si256(j & 1 ? _mm256_srli_epi16(raw, 4) : raw, m4);
    }
    if (Q == 5) {
        const __m256i raw = ld(b + 48 + 32 * (j >> 1));
        const __m256i lo = _mm256_and_si256(j & 1 ? _mm256_srli_epi16(raw, 4) : raw, m4);
        const __m256i h = _mm256_and_si256(_mm256_srl_epi16(ld(b + 16), _mm_cvtsi32_si128(j)),
                                           _mm256_set1_epi8(1));
        return _mm256_or_si256(lo, _mm256_slli_epi16(h, 4));
    }
    const int half = j >> 2, w = j & 3;
    const __m256i raw = ld(b + 64 * half + 32 * (w & 1));
    const __m256i lo = _mm256_and_si256(w >= 2 ? _mm256_srli_epi16(raw, 4) : raw, m4);
    const __m256i h = _mm256_and_si256(
        _mm256_srl_epi16(ld(b + 128 + 32 * half), _mm_cvtsi32_si128(2 * w)), _mm256_set1_epi8(3));
    return _mm256_or_si256(lo, _mm256_slli_epi16(h, 4));
}

/* the 32-bit word at byte offset o of each of the eight rows' super-blocks, lane r = row r */
NEMO_AVX2 static inline AI __m256i rows32(const uint8_t *const b[8], int o) {
    int32_t v[8];
    for (int r = 0; r < 8; r++) memcpy(&v[r], b[r] + o, 4);
    return _mm256_setr_epi32(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]); /* in registers */
}

/* byte k of each 32-bit lane, as the int16 pair (v, v): zero-extended (Q4_K / Q5_K's 6-bit
 * scales) or, with hi = k + 1 and sign extension, the pair (byte k, byte hi) (Q6_K) */
NEMO_AVX2 static inline AI __m256i pair_u8(__m256i v, int k) {
    const char z = (char)0x80;
    const __m128i m =
        _mm_setr_epi8((char)k, z, (char)k, z, (char)(k + 4), z, (char)(k + 4), z, (char)(k + 8), z,
                      (char)(k + 8), z, (char)(k + 12), z, (char)(k + 12), z);
    return _mm256_shuffle_epi8(v, _mm256_broadcastsi128_si256(m));
}
NEMO_AVX2 static inline AI __m256i pair_u8x2(__m256i v, int k) { /* (byte k, byte k + 1) */
    const char z = (char)0x80;
    const __m128i m =
        _mm_setr_epi8((char)k, z, (char)(k + 1), z, (char)(k + 4), z, (char)(k + 5), z,
                      (char)(k + 8), z, (char)(k + 9), z, (char)(k + 12), z, (char)(k + 13), z);
    return _mm256_shuffle_epi8(v, _mm256_broadcastsi128_si256(m));
}
NEMO_AVX2 static inline AI __m256i pair_s8(__m256i v, int k, int hi) {
    const char z = (char)0x80;
    const __m128i m =
        _mm_setr_epi8(z, (char)k, z, (char)hi, z, (char)(k + 4), z, (char)(hi + 4), z,
                      (char)(k + 8), z, (char)(hi + 8), z, (char)(k + 12), z, (char)(hi + 12));
    return _mm256_srai_epi16(_mm256_shuffle_epi8(v, _mm256_broadcastsi128_si256(m)), 8);
}

/* eight f16 values at byte offset o of the rows' super-blocks */
NEMO_AVX2 static inline AI __m256 rows_f16(const uint8_t *const b[8], int o) {
    uint16_t h[8];
    for (int r = 0; r < 8; r++) memcpy(&h[r], b[r] + o, 2);
    return _mm256_cvtph_ps(_mm_setr_epi16((short)h[0], (short)h[1], (short)h[2], (short)h[3],
                                          (short)h[4], (short)h[5], (short)h[6], (short)h[7]));
}

/* super-block blk of the eight rows at w → tile */
NEMO_AVX2 static inline AI void pack(const int Q, const uint8_t *w, int64_t row_bytes, int64_t blk,
                                     ktile *tl) {
    const int64_t bb = Q == 4 ? 144 : Q == 5 ? 176 : 210;
    const uint8_t *b[8];
    for (int r = 0; r < 8; r++) b[r] = w + r * row_bytes + blk * bb;
    for (int j = 0; j < 8; j++) {
        __m256i v[8];
        for (int r = 0; r < 8; r++) v[r] = chunk(Q, b[r], j);
        tr8(v);
        for (int s = 0; s < 8; s++) _mm256_store_si256((__m256i *)tl->q[8 * j + s], v[s]);
    }
    if (Q == 6) { /* int8 scales s_0..s_15 at 192: word k holds s_4k..s_4k+3 */
        for (int k = 0; k < 4; k++) {
            const __m256i v = rows32(b, 192 + 4 * k);
            for (int i = 0; i < 4; i++)
                _mm256_storeu_si256((__m256i *)tl->sc[4 * k + i], pair_s8(v, i, i));
            for (int i = 0; i < 2; i++)
                _mm256_storeu_si256((__m256i *)tl->cor[2 * k + i], pair_s8(v, 2 * i, 2 * i + 1));
        }
        _mm256_storeu_ps(tl->d, rows_f16(b, 208));
    } else { /* nemo_k4_scale_min on four sub-blocks per 32-bit word, eight rows at once */
        const __m256i u0 = rows32(b, 4), u1 = rows32(b, 8), u2 = rows32(b, 12);
        const __m256i m6 = _mm256_set1_epi8(0x3F), m4 = _mm256_set1_epi8(0x0F),
                      m2 = _mm256_set1_epi8(0x03);
        const __m256i sc_lo = _mm256_and_si256(u0, m6), mn_lo = _mm256_and_si256(u1, m6);
        const __m256i sc_hi =
            _mm256_or_si256(_mm256_and_si256(u2, m4),
                            _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(u0, 6), m2), 4));
        const __m256i mn_hi =
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(u2, 4), m4),
                            _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(u1, 6), m2), 4));
        for (int i = 0; i < 4; i++) {
            _mm256_storeu_si256((__m256i *)tl->sc[i], pair_u8(sc_lo, i));
            _mm256_storeu_si256((__m256i *)tl->sc[4 + i], pair_u8(sc_hi, i));
        }
        /* (mn_2i, mn_2i+1): bytes 2i, 2i+1 of mn_lo (i < 2) or of mn_hi, zero-extended */
        for (int i = 0; i < 2; i++) {
            _mm256_storeu_si256((__m256i *)tl->cor[i], pair_u8x2(mn_lo, 2 * i));
            _mm256_storeu_si256((__m256i *)tl->cor[2 + i], pair_u8x2(mn_hi, 2 * i));
        }
        _mm256_storeu_ps(tl->d, rows_f16(b, 0));
        _mm256_storeu_ps(tl->dmin, rows_f16(b, 2));
    }
}

/* sum[i][t] (panel i's 8 rows, token t) gets one super-block of T tokens (x + t·ldx) for P
 * panels (tiles tl[i·KB]), as the reference's float steps */
NEMO_AVX2 static inline AI void tile_dot(const int Q, const int P, const int T, const ktile *tl,
                                         const nemo_q8k_act *x, int64_t ldx, __m256 sum[2][4]) {
    const int M = Q == 4 ? 8 : Q == 5 ? 4 : 2; /* steps per int16 sum (no overflow) */
    const int SV = Q == 6 ? 4 : 8;             /* steps per scale */
    __m256i acc[2][4];
#pragma GCC unroll 2
    for (int i = 0; i < P; i++)
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) acc[i][t] = _mm256_setzero_si256();
    for (int s0 = 0; s0 < 64; s0 += M) {
        __m256i p[2][4];
#pragma GCC unroll 8
        for (int s = s0; s < s0 + M; s++) {
            __m256i wv[2];
#pragma GCC unroll 2
            for (int i = 0; i < P; i++) wv[i] = _mm256_load_si256((const __m256i *)tl[i * KB].q[s]);
#pragma GCC unroll 4
            for (int t = 0; t < T; t++) {
                const __m256i xb = bcast32(x[t * ldx].qs + 4 * s);
#pragma GCC unroll 2
                for (int i = 0; i < P; i++) {
                    const __m256i m = _mm256_maddubs_epi16(wv[i], xb);
                    p[i][t] = s == s0 ? m : _mm256_add_epi16(p[i][t], m);
                    KEEP(p[i][t]);
                }
            }
        }
#pragma GCC unroll 2
        for (int i = 0; i < P; i++) {
            const __m256i sv = ld(tl[i * KB].sc[s0 / SV]);
#pragma GCC unroll 4
            for (int t = 0; t < T; t++)
                acc[i][t] = _mm256_add_epi32(acc[i][t], _mm256_madd_epi16(p[i][t], sv));
        }
    }
#pragma GCC unroll 2
    for (int i = 0; i < P; i++) {
        __m256i c[4];
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) c[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) {
            if (Q != 6 && j >= 4) break; /* Q4_K / Q5_K: four pairs of 32-value sums */
            const __m256i cv = ld(tl[i * KB].cor[j]);
#pragma GCC unroll 4
            for (int t = 0; t < T; t++)
                c[t] = _mm256_add_epi32(
                    c[t], _mm256_madd_epi16(cv, bcast32(Q == 6 ? x[t * ldx].bsums + 2 * j
                                                               : x[t * ldx].bs32 + 2 * j)));
        }
        const __m256 d = _mm256_loadu_ps(tl[i * KB].d), dm = _mm256_loadu_ps(tl[i * KB].dmin);
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) {
            const __m256 xd = _mm256_set1_ps(x[t * ldx].d);
            if (Q == 6) {
                const __m256i isum = _mm256_sub_epi32(acc[i][t], _mm256_slli_epi32(c[t], 5));
                sum[i][t] = _mm256_add_ps(
                    sum[i][t], _mm256_mul_ps(_mm256_mul_ps(d, xd), _mm256_cvtepi32_ps(isum)));
            } else {
                sum[i][t] = _mm256_sub_ps(
                    _mm256_add_ps(sum[i][t], _mm256_mul_ps(_mm256_mul_ps(d, xd),
                                                           _mm256_cvtepi32_ps(acc[i][t]))),
                    _mm256_mul_ps(_mm256_mul_ps(dm, xd), _mm256_cvtepi32_ps(c[t])));
            }
        }
    }
}

/* T tokens of P panels over kn tiles each; y: the first panel's 8 outputs of token 0 */
NEMO_AVX2 static inline AI void run(const int Q, const int P, const int T, const ktile *tiles,
                                    int kn, const nemo_q8k_act *x, int64_t ldx, float *y,
                                    int64_t ldy, int first, int last, float scale) {
    __m256 sum[2][4];
#pragma GCC unroll 2
    for (int i = 0; i < P; i++)
#pragma GCC unroll 4
        for (int t = 0; t < T; t++)
            sum[i][t] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(y + t * ldy + 8 * i);
    for (int k = 0; k < kn; k++) tile_dot(Q, P, T, &tiles[k], x + k, ldx, sum);
#pragma GCC unroll 2
    for (int i = 0; i < P; i++)
#pragma GCC unroll 4
        for (int t = 0; t < T; t++)
            _mm256_storeu_ps(y + t * ldy + 8 * i,
                             last ? _mm256_mul_ps(_mm256_set1_ps(scale), sum[i][t]) : sum[i][t]);
}

/* all tokens of P packed panels over one K-block */
NEMO_AVX2 static inline AI void panels(const int Q, const int P, ktile tiles[2][KB], int64_t k0,
                                       int kn, const nemo_q8k_act *x, int64_t ldx, int nt, float *y,
                                       int64_t ldy, int first, int last, float scale) {
    for (int t = 0; t + 4 <= nt; t += 4)
        run(Q, P, 4, tiles[0], kn, x + t * ldx + k0, ldx, y + t * ldy, ldy, first, last, scale);
    for (int t = nt & ~3; t < nt; t++)
        run(Q, P, 1, tiles[0], kn, x + t * ldx + k0, ldx, y + t * ldy, ldy, first, last, scale);
}

/* One token (decode) goes row by row through the 1-token kernel (kdot_avx2.c): a single
 * sequential stream with software prefetch read DRAM-resident weights faster (Q4_K 9.3-9.6,
 * Q6_K 12.2-12.5 GB/s) than four rows at a time sharing the activations (7.4-8.2, 7.0-7.6), which
 * only won while the matrix stayed in cache. */

NEMO_AVX2 static inline AI void kgemm(const int Q, const uint8_t *w, int64_t row_bytes, int nr,
                                      const nemo_q8k_act *x, int64_t ldx, int nt, int64_t n,
                                      float *y, int64_t ldy, float scale) {
    const int64_t nb = n / 256, bb = Q == 4 ? 144 : Q == 5 ? 176 : 210;
    const int np = nr / 8;
    ktile tiles[2][KB];
    if (nt == 1) { /* decode: row by row (see above) */
        for (int r = 0; r < nr; r++) {
            const uint8_t *row = w + (int64_t)r * row_bytes;
            y[r] = scale * (Q == 4   ? nemo_q4_k_q8k_avx2(row, x, n)
                            : Q == 5 ? nemo_q5_k_q8k_avx2(row, x, n)
                                     : nemo_q6_k_q8k_avx2(row, x, n));
        }
        return;
    }
    for (int64_t k0 = 0; k0 < nb; k0 += KB) {
        const int kn = nb - k0 < KB ? (int)(nb - k0) : KB;
        const int first = k0 == 0, last = k0 + kn == nb;
        for (int p = 0; p < np; p += 2) {
            const int P = np - p >= 2 ? 2 : 1;
            const uint8_t *wp = w + (int64_t)8 * p * row_bytes;
            for (int i = 0; i < P; i++)
                for (int k = 0; k < kn; k++)
                    pack(Q, wp + 8 * i * row_bytes, row_bytes, k0 + k, &tiles[i][k]);
            if (p + P < np) /* the next panels' K-block: short runs the prefetcher misses */
                for (int r = 8 * P; r < 8 * P + 16 && r < nr - 8 * p; r++)
                    for (int64_t o = 0; o < kn * bb; o += 64)
                        _mm_prefetch((const char *)wp + r * row_bytes + k0 * bb + o, _MM_HINT_T0);
            if (P == 2)
                panels(Q, 2, tiles, k0, kn, x, ldx, nt, y + 8 * p, ldy, first, last, scale);
            else
                panels(Q, 1, tiles, k0, kn, x, ldx, nt, y + 8 * p, ldy, first, last, scale);
        }
    }
    /* rows past the last full panel (and n = 0): the 1-token kernel, bitwise the same */
    for (int r = nb ? 8 * np : 0; r < nr; r++)
        for (int t = 0; t < nt; t++) {
            const uint8_t *row = w + (int64_t)r * row_bytes;
            const nemo_q8k_act *xt = x + t * ldx;
            const float v = Q == 4   ? nemo_q4_k_q8k_avx2(row, xt, n)
                            : Q == 5 ? nemo_q5_k_q8k_avx2(row, xt, n)
                                     : nemo_q6_k_q8k_avx2(row, xt, n);
            y[t * ldy + r] = scale * v;
        }
}

NEMO_AVX2 void nemo_q4_k_q8k_gemm_avx2(const void *w, int64_t row_bytes, int nr,
                                       const nemo_q8k_act *x, int64_t ldx, int nt, int64_t n,
                                       float *y, int64_t ldy, float scale) {
    kgemm(4, w, row_bytes, nr, x, ldx, nt, n, y, ldy, scale);
}
NEMO_AVX2 void nemo_q5_k_q8k_gemm_avx2(const void *w, int64_t row_bytes, int nr,
                                       const nemo_q8k_act *x, int64_t ldx, int nt, int64_t n,
                                       float *y, int64_t ldy, float scale) {
    kgemm(5, w, row_bytes, nr, x, ldx, nt, n, y, ldy, scale);
}
NEMO_AVX2 void nemo_q6_k_q8k_gemm_avx2(const void *w, int64_t row_bytes, int nr,
                                       const nemo_q8k_act *x, int64_t ldx, int nt, int64_t n,
                                       float *y, int64_t ldy, float scale) {
    kgemm(6, w, row_bytes, nr, x, ldx, nt, n, y, ldy, scale);
}
#endif

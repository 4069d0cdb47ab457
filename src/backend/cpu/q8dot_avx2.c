/* q8dot_avx2.c — AVX2 integer kernels for Q8_0 / Q4_0 / Q4_1 weight rows with q8_1 activations
 * (quant_act.h; NEMO_MATMUL=q8): the 1-row dot, and the gemm that the matmul uses for prefill
 * and decode alike (the activations' quantizer is quant_act_avx2.c).
 *
 * Numerics: every kernel here is bitwise equal to nemo_q8_dot_ref. Per 32-value block the
 * integer sum Σw·x is exact (maddubs of unsigned × signed bytes into int16 pairs, madd into
 * int32, adds), and the float steps are the reference's, in its order: sum += (dw·dx)·(float)sumi
 * [+ m·s for Q4_1], blocks in order, no fused multiply-add. Putting one (row, token) pair in each
 * float lane makes that cheap: the float work is one vector step per block for 8 pairs.
 *   - gemm, several tokens: 8-row tiles whose weights are decoded once per chunk of blocks and
 *     stored transposed (lane = row), so a broadcast 4-byte group of a token multiplies 8 rows in
 *     one maddubs and each lane collects its own row's block sum with no cross-lane work;
 *   - gemm, one token (decode): 8 rows straight from memory (8 streams), the rows' int32 partial
 *     sums reduced across lanes once per block;
 *   - 1-row dot: 8 consecutive blocks per vector (lane = block), lanes then added in block order.
 * Q4_0 multiplies its unsigned nibbles and subtracts 8·Σx (exact, Σx kept with the activations),
 * Q4_1 its nibbles plus m·s, Q8_0 |w| times x carrying w's signs. */
#include "backend/cpu/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include "backend/cpu/kernels_avx2_inl.h"

#define AI __attribute__((always_inline))

enum { Q8_0, Q4_0, Q4_1 };

static inline int64_t block_bytes(int ty) {
    return ty == Q8_0 ? 34 : ty == Q4_0 ? 18 : 20;
}

NEMO_AVX2 static inline AI __m256i ld256(const void *p) {
    return _mm256_loadu_si256((const __m256i *)p);
}

/* qs[16] → the block's 32 values as bytes 0..15 (low nibbles are values 0..15): the 16 bytes in
 * both halves, the upper half shifted by 4 */
NEMO_AVX2 static inline AI __m256i nib32(const uint8_t *qs) {
    __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    v = _mm256_srlv_epi32(v, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4));
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

/* One weight block as the operands of maddubs: u (unsigned bytes) and, for Q8_0, w (whose
 * signs go onto the activations, u = |w|). The 4-bit types multiply their nibbles q as they
 * are: Q4_0's offset is -8·Σx (off4 below), Q4_1's the separate m·s term. */
NEMO_AVX2 static inline AI void decode(const int ty, const uint8_t *b, __m256i *u, __m256i *w) {
    if (ty == Q8_0) {
        *w = ld256(b + 2);
        *u = _mm256_sign_epi8(*w, *w);
    } else {
        *u = nib32(b + (ty == Q4_0 ? 2 : 4));
        *w = *u;
    }
}

/* Σ u·(x signed like w) over the block, as 8 int32 partial sums (exact: a maddubs pair is at
 * most 2·128·127 in magnitude, activations are never -128) */
NEMO_AVX2 static inline AI __m256i pdot(const int ty, __m256i u, __m256i w, __m256i x) {
    __m256i s = ty == Q8_0 ? _mm256_sign_epi8(x, w) : x;
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/* Q4_0's exact block sum from Σq·x: minus 8·Σx (other types: unchanged) */
NEMO_AVX2 static inline AI __m256i off4(const int ty, __m256i sumi, __m256i xsum) {
    return ty == Q4_0 ? _mm256_sub_epi32(sumi, _mm256_slli_epi32(xsum, 3)) : sumi;
}

/* eight vectors of 8 int32 → one vector whose lane k is the sum of p[k]'s lanes (unpacks and
 * adds: vphaddd is several times slower on Zen) */
NEMO_AVX2 static inline AI __m256i sum8x8(const __m256i p[8]) {
    __m256i t[4], q[2];
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) /* [p(2k) 0+2, p(2k+1) 0+2, p(2k) 1+3, p(2k+1) 1+3 | same, 4..7] */
        t[k] = _mm256_add_epi32(_mm256_unpacklo_epi32(p[2 * k], p[2 * k + 1]),
                                _mm256_unpackhi_epi32(p[2 * k], p[2 * k + 1]));
#pragma GCC unroll 2
    for (int k = 0; k < 2; k++) /* [4 rows' sums of lanes 0..3 | of lanes 4..7] */
        q[k] = _mm256_add_epi32(_mm256_unpacklo_epi64(t[2 * k], t[2 * k + 1]),
                                _mm256_unpackhi_epi64(t[2 * k], t[2 * k + 1]));
    return _mm256_add_epi32(_mm256_blend_epi32(q[0], q[1], 0xF0),
                            _mm256_permute2x128_si256(q[0], q[1], 0x21));
}

/* 8 fp16 values, the low (hi = 0) or high (hi = 1) halves of 8 gathered int32, as floats */
NEMO_AVX2 static inline AI __m256 f16x8(__m256i g, const int hi) {
    g = hi ? _mm256_srli_epi32(g, 16) : _mm256_and_si256(g, _mm256_set1_epi32(0xFFFF));
    g = _mm256_permute4x64_epi64(_mm256_packus_epi32(g, g), 0x08);
    return _mm256_cvtph_ps(_mm256_castsi256_si128(g));
}

/* the fp16 at p[r] + off of 8 rows as 8 floats: eight 4-byte loads put together by unpacks (a
 * vpgatherdd is several times slower on Zen and sat on the decode loop's critical path) */
NEMO_AVX2 static inline AI __m256 f16rows(const uint8_t *const p[8], int64_t off) {
    __m128i v[8];
#pragma GCC unroll 8
    for (int r = 0; r < 8; r++) {
        int32_t x;
        memcpy(&x, p[r] + off, 4);
        v[r] = _mm_cvtsi32_si128(x);
    }
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++) v[r] = _mm_unpacklo_epi16(v[2 * r], v[2 * r + 1]);
    v[0] = _mm_unpacklo_epi32(v[0], v[1]);
    v[2] = _mm_unpacklo_epi32(v[2], v[3]);
    return _mm256_cvtph_ps(_mm_unpacklo_epi64(v[0], v[2]));
}

/* the reference's term of one block for 8 lanes: (dw·dx)·(float)sumi [+ m·s] */
NEMO_AVX2 static inline AI __m256 fterm(const int ty, __m256 dw, __m256 dx, __m256i sumi, __m256 m,
                                        __m256 s) {
    __m256 p = _mm256_mul_ps(_mm256_mul_ps(dw, dx), _mm256_cvtepi32_ps(sumi));
    if (ty == Q4_1) p = _mm256_add_ps(p, _mm256_mul_ps(m, s));
    return p;
}

/* ---- 1 token (lane = block) ---- */
NEMO_AVX2 static inline AI float q8dot(const int ty, const uint8_t *row, const nemo_q8_act *x,
                                       int64_t n) {
    const int64_t bytes = block_bytes(ty), nb = n / 32;
    float sum = 0;
    for (int64_t i = 0; i < nb; i += 8) {
        const int g = nb - i < 8 ? (int)(nb - i) : 8;
        const uint8_t *b = row + i * bytes;
        __m256i p[8];
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) {
            if (k < g) {
                __m256i u, w;
                decode(ty, b + k * bytes, &u, &w);
                p[k] = pdot(ty, u, w, ld256(x[i + k].qs));
            } else {
                p[k] = _mm256_setzero_si256();
            }
        }
        /* block scales of the 8 blocks (a short last group repeats its last block) */
        __m256i k8 =
            _mm256_min_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(g - 1));
        __m256i gw = _mm256_i32gather_epi32(
            (const int *)b, _mm256_mullo_epi32(k8, _mm256_set1_epi32((int)bytes)), 1);
        __m256i gx = _mm256_i32gather_epi32(
            (const int *)&x[i], _mm256_mullo_epi32(k8, _mm256_set1_epi32((int)sizeof *x)), 1);
        __m256 zero = _mm256_setzero_ps();
        int32_t xs8[8] = {0};
        if (ty == Q4_0)
            for (int k = 0; k < g; k++) xs8[k] = x[i + k].sum;
        __m256i xsum = _mm256_loadu_si256((const __m256i *)xs8);
        __m256 v = fterm(ty, f16x8(gw, 0), f16x8(gx, 0), off4(ty, sum8x8(p), xsum),
                         ty == Q4_1 ? f16x8(gw, 1) : zero, ty == Q4_1 ? f16x8(gx, 1) : zero);
        float l[8]; /* added in block order, as the reference does */
        _mm256_storeu_ps(l, v);
        for (int k = 0; k < g; k++) sum += l[k];
    }
    return sum;
}

/* ---- gemm: tiles of 8 rows (lane = row) ----
 * A chunk of KC blocks of 8 rows is decoded once for all tokens and stored transposed: for
 * block j and 4-value group g, one vector holds the group's 4 bytes of each of the 8 rows (lane
 * r = row r). A token's group is then broadcast to all lanes and one maddubs multiplies it with
 * 8 rows at once, so every lane sums its own row and no horizontal reduction is needed (the
 * order of the exact integer sums does not matter). */

enum { KC = 32 }; /* blocks per chunk: 16 KB of operands stay in L1 while every token passes */

typedef struct {
    __m256i u[KC][8], w[KC][8]; /* per block, per group: u and sign source, lane = row */
    float dw[KC][8], m[KC][8];  /* per block: the 8 rows' scales (and Q4_1 minimums) */
} tile_chunk;

/* v[r] = 8 int32 of row r → v[g] = int32 g of every row (8×8 transpose) */
NEMO_AVX2 static inline AI void transpose8(__m256i v[8]) {
    __m256i t[8], q[8];
    for (int k = 0; k < 8; k += 2) {
        t[k] = _mm256_unpacklo_epi32(v[k], v[k + 1]);
        t[k + 1] = _mm256_unpackhi_epi32(v[k], v[k + 1]);
    }
    for (int k = 0; k < 8; k += 4) {
        q[k] = _mm256_unpacklo_epi64(t[k], t[k + 2]);
        q[k + 1] = _mm256_unpackhi_epi64(t[k], t[k + 2]);
        q[k + 2] = _mm256_unpacklo_epi64(t[k + 1], t[k + 3]);
        q[k + 3] = _mm256_unpackhi_epi64(t[k + 1], t[k + 3]);
    }
    for (int g = 0; g < 4; g++) {
        v[g] = _mm256_permute2x128_si256(q[g], q[g + 4], 0x20);
        v[g + 4] = _mm256_permute2x128_si256(q[g], q[g + 4], 0x31);
    }
}

NEMO_AVX2 static inline AI void tile_prepare(const int ty, const uint8_t *base, __m256i ridx,
                                             const uint8_t *const rp[8], int64_t b0, int nbc,
                                             tile_chunk *c) {
    const int64_t bytes = block_bytes(ty);
    for (int j = 0; j < nbc; j++) {
        const int64_t off = (b0 + j) * bytes;
        __m256i u[8], w[8];
#pragma GCC unroll 8
        for (int r = 0; r < 8; r++) decode(ty, rp[r] + off, &u[r], &w[r]);
        transpose8(u);
        for (int g = 0; g < 8; g++) _mm256_store_si256(&c->u[j][g], u[g]);
        if (ty == Q8_0) {
            transpose8(w);
            for (int g = 0; g < 8; g++) _mm256_store_si256(&c->w[j][g], w[g]);
        }
        __m256i sc = _mm256_i32gather_epi32((const int *)(base + off), ridx, 1);
        _mm256_store_ps(c->dw[j], f16x8(sc, 0));
        if (ty == Q4_1) _mm256_store_ps(c->m[j], f16x8(sc, 1));
    }
}

/* exact Σ over the block of u·(x signed like w) for the 8 rows (lane = row), T tokens at once
 * (each weight operand loaded once for all T) */
NEMO_AVX2 static inline AI void tile_sums(const int ty, const tile_chunk *c, int j,
                                          const nemo_q8_act *const xs[4], const int T,
                                          __m256i sum[4]) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i a[4];
#pragma GCC unroll 4
    for (int t = 0; t < T; t++) a[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int g = 0; g < 8; g++) {
        __m256i u = _mm256_load_si256(&c->u[j][g]), w = u;
        if (ty == Q8_0) w = _mm256_load_si256(&c->w[j][g]);
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) {
            int32_t x4;
            memcpy(&x4, xs[t]->qs + 4 * g, 4);
            __m256i xv = _mm256_set1_epi32(x4);
            if (ty == Q8_0) xv = _mm256_sign_epi8(xv, w);
            __m256i p = _mm256_maddubs_epi16(u, xv);
            /* 4-bit weights: 8 groups of int16 pairs stay below 2·8·15·127 < 2^15 */
            if (ty == Q8_0)
                a[t] = _mm256_add_epi32(a[t], _mm256_madd_epi16(p, ones));
            else
                a[t] = _mm256_add_epi16(a[t], p);
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < T; t++)
        sum[t] = ty == Q8_0
                     ? a[t]
                     : off4(ty, _mm256_madd_epi16(a[t], ones), _mm256_set1_epi32(xs[t]->sum));
}

/* T tokens' accumulators (lane = row) over the chunk's nbc blocks; x[t]: block b0 of token t
 * (accumulators live in registers: one spilled to memory makes a store-load chain) */
NEMO_AVX2 static inline AI void tile_tokens(const int ty, const tile_chunk *c,
                                            const nemo_q8_act *const x[4], int nbc, __m256 acc[4],
                                            const int T) {
    __m256 a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    for (int j = 0; j < nbc; j++) {
        const nemo_q8_act *xs[4] = {x[0] + j, x[1] + j, x[2] + j, x[3] + j};
        __m256i sum[4];
        tile_sums(ty, c, j, xs, T, sum);
        __m256 dw = _mm256_load_ps(c->dw[j]), m = _mm256_setzero_ps();
        if (ty == Q4_1) m = _mm256_load_ps(c->m[j]);
#define TERM(t) fterm(ty, dw, _mm256_set1_ps(xs[t]->df), sum[t], m, _mm256_set1_ps(xs[t]->sf))
        a0 = _mm256_add_ps(a0, TERM(0));
        if (T > 1) a1 = _mm256_add_ps(a1, TERM(1));
        if (T > 2) a2 = _mm256_add_ps(a2, TERM(2));
        if (T > 3) a3 = _mm256_add_ps(a3, TERM(3));
#undef TERM
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* one token straight from the rows (decode: nothing to share between tokens): per block the 8
 * rows' int32 partial sums are reduced across lanes */
NEMO_AVX2 static inline AI __m256 tile_direct(const int ty, const uint8_t *const rp[8],
                                              const nemo_q8_act *xt, int64_t nb,
                                              const uint8_t *next) {
    const int64_t bytes = block_bytes(ty);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t j = 0; j < nb; j++) {
        const int64_t off = j * bytes;
        /* 8 rows read side by side are 8 short streams that the hardware prefetcher follows
         * poorly; the next tile's 8 rows are one contiguous span, so fetch it in order, an
         * eighth of a row's bytes per block (a hint: never faults) */
        for (int64_t k = 0; k < 8 * bytes; k += 64)
            _mm_prefetch((const char *)next + 8 * off + k, _MM_HINT_T0);
        __m256i xv = ld256(xt[j].qs);
        __m256i p[8];
#pragma GCC unroll 8
        for (int r = 0; r < 8; r++) {
            __m256i u, w;
            decode(ty, rp[r] + off, &u, &w);
            p[r] = pdot(ty, u, w, xv);
        }
        __m256 dx = _mm256_set1_ps(xt[j].df);
        __m256 m = _mm256_setzero_ps(), s = m;
        if (ty == Q4_1) {
            m = f16rows(rp, off + 2);
            s = _mm256_set1_ps(xt[j].sf);
        }
        __m256i sumi = off4(ty, sum8x8(p), _mm256_set1_epi32(xt[j].sum));
        acc = _mm256_add_ps(acc, fterm(ty, f16rows(rp, off), dx, sumi, m, s));
    }
    return acc;
}

NEMO_AVX2 static inline AI void q8gemm(const int ty, const uint8_t *w, int64_t row_bytes, int nr,
                                       const nemo_q8_act *x, int64_t ldx, int nt, int64_t n,
                                       float *y, int64_t ldy, float scale) {
    const int64_t nb = n / 32;
    _Alignas(32) tile_chunk c;
    for (int r0 = 0; r0 < nr; r0 += 8) {
        const int rows = nr - r0 < 8 ? nr - r0 : 8;
        const uint8_t *base = w + (int64_t)r0 * row_bytes, *rp[8];
        int ri[8];
        for (int r = 0; r < 8; r++) { /* a short tile repeats its last row */
            ri[r] = r < rows ? r : rows - 1;
            rp[r] = base + ri[r] * row_bytes;
        }
        __m256i ridx = _mm256_mullo_epi32(_mm256_loadu_si256((const __m256i *)ri),
                                          _mm256_set1_epi32((int)row_bytes));
        __m256i keep =
            _mm256_cmpgt_epi32(_mm256_set1_epi32(rows), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        if (nt == 1) {
            __m256 acc = tile_direct(ty, rp, x, nb, base + 8 * row_bytes);
            _mm256_maskstore_ps(y + r0, keep, _mm256_mul_ps(_mm256_set1_ps(scale), acc));
            continue;
        }
        for (int64_t b0 = 0; b0 < nb; b0 += KC) {
            const int nbc = nb - b0 < KC ? (int)(nb - b0) : KC;
            tile_prepare(ty, base, ridx, rp, b0, nbc, &c);
            for (int t = 0; t < nt; t += 4) {
                const int T = nt - t < 4 ? nt - t : 4;
                float *yt[4];
                const nemo_q8_act *xt[4];
                for (int k = 0; k < 4; k++) { /* past the last token: repeat it, store nothing */
                    const int tk = t + (k < T ? k : T - 1);
                    yt[k] = y + tk * ldy + r0;
                    xt[k] = x + tk * ldx + b0;
                }
                /* between chunks y holds the raw sums (an exact round trip) */
                __m256 acc[4];
                for (int k = 0; k < 4; k++)
                    acc[k] = b0 ? _mm256_maskload_ps(yt[k], keep) : _mm256_setzero_ps();
                if (T == 4)
                    tile_tokens(ty, &c, xt, nbc, acc, 4);
                else if (T == 3)
                    tile_tokens(ty, &c, xt, nbc, acc, 3);
                else if (T == 2)
                    tile_tokens(ty, &c, xt, nbc, acc, 2);
                else
                    tile_tokens(ty, &c, xt, nbc, acc, 1);
                for (int k = 0; k < T; k++) {
                    if (b0 + nbc == nb) acc[k] = _mm256_mul_ps(_mm256_set1_ps(scale), acc[k]);
                    _mm256_maskstore_ps(yt[k], keep, acc[k]);
                }
            }
        }
    }
}

#define Q8KERNELS(name, ty)                                                                        \
    NEMO_AVX2 float nemo_##name##_q8_avx2(const void *row, const nemo_q8_act *x, int64_t n) {      \
        return q8dot(ty, row, x, n);                                                               \
    }                                                                                              \
    NEMO_AVX2 void nemo_##name##_q8gemm_avx2(const void *w, int64_t row_bytes, int nr,             \
                                             const nemo_q8_act *x, int64_t ldx, int nt, int64_t n, \
                                             float *y, int64_t ldy, float scale) {                 \
        q8gemm(ty, w, row_bytes, nr, x, ldx, nt, n, y, ldy, scale);                                \
    }
Q8KERNELS(q8_0, Q8_0)
Q8KERNELS(q4_0, Q4_0)
Q8KERNELS(q4_1, Q4_1)
#endif

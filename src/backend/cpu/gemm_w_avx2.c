/* gemm_w_avx2.c — the AVX2 prefill from encoded weight rows (nemo_gemm_w_fn): decodes column
 * panels of the weights once per token chunk into a packed f32 (F16: f16) block and multiplies
 * them with every token of the chunk, each (row, token) result bitwise equal to the level's dot
 * of the decoded row (kernels_avx2_inl.h's order), so prefill, decode and any batch agree bit for
 * bit.
 *
 * Why this shape (measured on Zen 3; 2 FMA pipes, 32 KiB L1d, 512 KiB L2):
 *   - the shared order gives every (row, token) pair four 8-lane accumulators s_k, s_k taking
 *     lanes [32i + 8k, 32i + 8k + 8) in increasing i; a register tile of 4 rows × 3 tokens of
 *     one s_k (12 accumulators, 3 activation vectors, 1 weight vector = 16 ymm registers) does 12
 *     multiply-adds per 7 loads;
 *   - a pass (one tile, one k, over one panel) must be long: the accumulators are loaded at its
 *     start and stored at its end, and 16-step passes ran at ~60 % of the FMA peak, 64-step ones
 *     at ~85 %; so panels are KC = 2048 columns (64 steps per k);
 *   - weights and activations are packed k-major ("the 8 values of s_k for step i, rows or
 *     tokens of the tile interleaved"), so a pass streams two contiguous arrays: the 4-row weight
 *     stream of one k (8 f32 rows or 16 f16 rows: 16 KB per k) stays in L1 for all token groups,
 *     and the activation panel (the chunk's tokens × KC) is read from L2 (or L3 for F16, whose
 *     16-row blocks reuse each activation load four times);
 *   - the parked accumulators (32 floats per pair) decide the rest: rows in super-blocks of RS,
 *     tokens in chunks, both sized to the scratch the caller gives (≤ 132 KB of accumulators);
 *   - the next weight block is prefetched a few lines per tile call: a block is 8-16 short runs
 *     of rows that the hardware prefetcher does not follow in time.
 * Each weight value is decoded exactly as to_f32 does (same decoders), so the products are the
 * products of dot_row. */
#include "backend/cpu/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include "backend/cpu/kernels_avx2_inl.h"

#define AI __attribute__((always_inline))

/* Blocking constants (GW_* only to try other values with -D when tuning) */
#ifndef GW_KC
#define GW_KC 2048
#endif
#ifndef GW_TCH
#define GW_TCH 66
#endif
#ifndef GW_TCH32
#define GW_TCH32 36
#endif
#ifndef GW_RB
#define GW_RB 8
#endif
#ifndef GW_RS
#define GW_RS 16
#endif
enum {
    KC = GW_KC,       /* columns per panel */
    S = KC / 32,      /* 32-value steps per panel (the pass length) */
    RB = GW_RB,       /* rows decoded per weight block */
    RS = GW_RS,       /* rows per accumulator super-block (at most) */
    TCH = GW_TCH,     /* tokens per chunk (at most): F16 blocks (16 rows share each activation
                         load, so its panel may come from L3) */
    TCH32 = GW_TCH32, /* the same for f32-packed blocks (8 rows: the panel must stay in L2) */
    RSTRIDE = 32,     /* values per step of a packed 4-row weight stream */
    RBH = 2 * RB,     /* rows per block of f16-packed F16 weights (the same bytes) */
};

/* ---- the register tile: R rows × T tokens of one accumulator k over `steps` packed steps.
 * w: 32 values per step (row r at 8r), f32, or f16 when H (F16 weights stay f16 in the packed
 * block and are widened by the load itself: exact, and measured as fast as an f32 load while
 * halving the block's bytes); x: 8T floats per step (token t at 8t); accumulators at
 * acc[(r·tch + t)·4] (the caller offsets acc by k). */
NEMO_AVX2 static inline AI void tile(const void *w, const float *x, int64_t steps, __m256 *acc,
                                     int tch, int first, const int R, const int T, const int H) {
    __m256 s[4][3];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 3
        for (int t = 0; t < T; t++) s[r][t] = first ? _mm256_setzero_ps() : acc[(r * tch + t) * 4];
    for (int64_t j = 0; j < steps; j++, x += 8 * T) {
        __m256 xv[3];
#pragma GCC unroll 3
        for (int t = 0; t < T; t++) xv[t] = _mm256_load_ps(x + 8 * t);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            __m256 wv = H ? _mm256_cvtph_ps(_mm_load_si128(
                                (const __m128i *)((const uint16_t *)w + j * RSTRIDE + 8 * r)))
                          : _mm256_load_ps((const float *)w + j * RSTRIDE + 8 * r);
#pragma GCC unroll 3
            for (int t = 0; t < T; t++) s[r][t] = _mm256_fmadd_ps(wv, xv[t], s[r][t]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 3
        for (int t = 0; t < T; t++) acc[(r * tch + t) * 4] = s[r][t];
}

typedef void (*tile_fn)(const void *, const float *, int64_t, __m256 *, int, int);
#define TILE(R, T)                                                                                 \
    NEMO_AVX2 static void tile##R##T(const void *w, const float *x, int64_t steps, __m256 *acc,    \
                                     int tch, int first) {                                         \
        tile(w, x, steps, acc, tch, first, R, T, 0);                                               \
    }                                                                                              \
    NEMO_AVX2 static void tileh##R##T(const void *w, const float *x, int64_t steps, __m256 *acc,   \
                                      int tch, int first) {                                        \
        tile(w, x, steps, acc, tch, first, R, T, 1);                                               \
    }
TILE(1, 1)
TILE(1, 2)
TILE(1, 3)
TILE(2, 1)
TILE(2, 2)
TILE(2, 3)
TILE(3, 1)
TILE(3, 2)
TILE(3, 3)
TILE(4, 1)
TILE(4, 2)
TILE(4, 3)
static const tile_fn TILES[2][4][3] = {{{tile11, tile12, tile13},
                                        {tile21, tile22, tile23},
                                        {tile31, tile32, tile33},
                                        {tile41, tile42, tile43}},
                                       {{tileh11, tileh12, tileh13},
                                        {tileh21, tileh22, tileh23},
                                        {tileh31, tileh32, tileh33},
                                        {tileh41, tileh42, tileh43}}};

/* ---- weight packing: rows [0, nr) (nr ≤ RB) of the panel starting at column c0, `steps`
 * 32-value steps, into wp[((k·RB/4 + r/4)·S + j)·32 + (r%4)·8 + lane]. */
NEMO_AVX2 static inline AI void put32(float *wp, int r, int64_t j, const __m256 v[4]) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++)
        _mm256_store_ps(wp + ((int64_t)(k * (RB / 4) + r / 4) * S + j) * RSTRIDE + (r % 4) * 8,
                        v[k]);
}

/* DEC(row, c, v): the 32 values of row at column c (a multiple of 32). The weights come from
 * DRAM in short per-row runs, so the packer prefetches PF_STEPS steps ahead (pf: encoded bytes
 * per step, approximate for K-quants: prefetching is only a hint). */
enum { PF_STEPS = 16 };
#define PACKER(name, DEC)                                                                          \
    NEMO_AVX2 static void name(const uint8_t *const *rows, int nr, int64_t c0, int64_t steps,      \
                               int64_t pf, float *wp) {                                            \
        for (int r = 0; r < nr; r++) {                                                             \
            const uint8_t *row = rows[r];                                                          \
            const uint8_t *ahead = row + (c0 / 32 + PF_STEPS) * pf;                                \
            for (int64_t j = 0; j < steps; j++, ahead += pf) {                                     \
                __m256 v[4];                                                                       \
                _mm_prefetch((const char *)ahead, _MM_HINT_T0);                                    \
                DEC(row, c0 + 32 * j, v);                                                          \
                put32(wp, r, j, v);                                                                \
            }                                                                                      \
        }                                                                                          \
    }

NEMO_AVX2 static inline AI void dec_f32(const uint8_t *row, int64_t c, __m256 v[4]) {
    const float *f = (const float *)row + c;
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) v[k] = _mm256_loadu_ps(f + 8 * k);
}
#define DEC_F16(row, c, v)  dec32_f16((const uint16_t *)(row) + (c), v)
#define DEC_BF16(row, c, v) dec32_bf16((const uint16_t *)(row) + (c), v)
#define DEC_FP8(row, c, v)  dec32_fp8((row) + (c), v)
#define DEC_Q8_0(row, c, v) dec32_q8_0((row) + (c) / 32 * 34, v)
#define DEC_Q4_0(row, c, v) dec32_q4_0((row) + (c) / 32 * 18, v)
#define DEC_Q4_1(row, c, v) dec32_q4_1((row) + (c) / 32 * 20, v)
#define DEC_Q4_K(row, c, v) dec32_q4_k((row) + (c) / 256 * 144, (int)((c) % 256 / 32), v)
#define DEC_Q5_K(row, c, v) dec32_q5_k((row) + (c) / 256 * 176, (int)((c) % 256 / 32), v)
#define DEC_Q6_K(row, c, v) dec32_q6_k((row) + (c) / 256 * 210, (int)((c) % 256 / 32), v)
PACKER(pack_f32, dec_f32)
PACKER(pack_bf16, DEC_BF16)
PACKER(pack_fp8, DEC_FP8)
PACKER(pack_q8_0, DEC_Q8_0)
PACKER(pack_q4_0, DEC_Q4_0)
PACKER(pack_q4_1, DEC_Q4_1)
PACKER(pack_q4_k, DEC_Q4_K)
PACKER(pack_q5_k, DEC_Q5_K)
PACKER(pack_q6_k, DEC_Q6_K)

/* F16 rows stay f16: the same layout in uint16 elements, 16-byte copies */
NEMO_AVX2 static void pack_f16h(const uint8_t *const *rows, int nr, int64_t c0, int64_t steps,
                                int64_t pf, float *wpf) {
    uint16_t *wp = (uint16_t *)wpf;
    for (int r = 0; r < nr; r++) {
        const uint16_t *row = (const uint16_t *)rows[r] + c0;
        const uint8_t *ahead = rows[r] + (c0 / 32 + PF_STEPS) * pf;
        for (int64_t j = 0; j < steps; j++, ahead += pf) {
            _mm_prefetch((const char *)ahead, _MM_HINT_T0);
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++)
                _mm_store_si128((__m128i *)(wp +
                                            ((int64_t)(k * (RBH / 4) + r / 4) * S + j) * RSTRIDE +
                                            (r % 4) * 8),
                                _mm_loadu_si128((const __m128i *)(row + 32 * j + 8 * k)));
        }
    }
}

typedef void (*packer_fn)(const uint8_t *const *, int, int64_t, int64_t, int64_t, float *);

static packer_fn packer_for(nemo_dtype dt) {
    switch (dt) {
    case NEMO_DTYPE_F32: return pack_f32;
    case NEMO_DTYPE_F16: return pack_f16h;
    case NEMO_DTYPE_BF16: return pack_bf16;
    case NEMO_DTYPE_F8_E4M3: return pack_fp8;
    case NEMO_DTYPE_Q8_0: return pack_q8_0;
    case NEMO_DTYPE_Q4_0: return pack_q4_0;
    case NEMO_DTYPE_Q4_1: return pack_q4_1;
    case NEMO_DTYPE_Q4_K: return pack_q4_k;
    case NEMO_DTYPE_Q5_K: return pack_q5_k;
    case NEMO_DTYPE_Q6_K: return pack_q6_k;
    default: return NULL;
    }
}

/* tokens in group starting at g of a chunk of tch: 3, but 2 + 2 for a last 4 (a 1-token tile
 * does 4 multiply-adds per 5 loads) */
static inline int group_size(int tch, int g) {
    int left = tch - g;
    return left == 4 ? 2 : left < 3 ? left : 3;
}

/* ---- activation packing, once per token chunk for all rows: token group g (3 tokens, tn in
 * the last) at xp + g·n32, its panel at c0 at + c0·tn, inside it
 * ((k·steps + j)·tn + t)·8 + lane, so a pass reads one contiguous stream. */
NEMO_AVX2 static void pack_x(const float *x, int64_t ldx, int tch, int64_t n32, float *xp) {
    for (int g = 0, tn; g < tch; g += tn) {
        tn = group_size(tch, g);
        for (int64_t c0 = 0; c0 < n32; c0 += KC) {
            const int64_t steps = (n32 - c0 < KC ? n32 - c0 : KC) / 32;
            float *d = xp + g * n32 + c0 * tn;
            for (int t = 0; t < tn; t++) {
                const float *xt = x + (g + t) * ldx + c0;
                for (int64_t j = 0; j < steps; j++)
#pragma GCC unroll 4
                    for (int k = 0; k < 4; k++)
                        _mm256_store_ps(d + ((k * steps + j) * tn + t) * 8,
                                        _mm256_loadu_ps(xt + 32 * j + 8 * k));
            }
        }
    }
}

/* ---- prefetching the next weight block while the current one is multiplied: a block is RB
 * short runs (one per row) that the hardware prefetcher does not follow in time, so its cache
 * lines are requested a few per tile call, spread over the block before it. */
typedef struct {
    const uint8_t *row0; /* first row of the block */
    int64_t row_bytes;
    int rows, r;
    uint64_t b0, b1, off; /* byte range [b0, b1) of each row; next line at (r, off) */
} pf_cursor;

static inline void pf_some(pf_cursor *p, int64_t lines) {
    for (; lines > 0 && p->r < p->rows; lines--) {
        _mm_prefetch((const char *)(p->row0 + (int64_t)p->r * p->row_bytes + p->off), _MM_HINT_T1);
        p->off += 64;
        if (p->off >= p->b1) {
            p->off = p->b0;
            p->r++;
        }
    }
}

int64_t nemo_gemm_w_floats(int64_t n, int tokens) {
    if (tokens < 2) return 0; /* one token: the fused decode kernels */
    const int64_t t = tokens < TCH ? tokens : TCH;
    return 8 + (int64_t)RB * KC + t * (n / 32 * 32) + (int64_t)RS * t * 32;
}

NEMO_AVX2 int nemo_gemm_w_avx2(nemo_dtype dt, nemo_to_f32_fn conv, const void *w, int64_t row_bytes,
                               int nr, const float *x, int64_t ldx, int nt, int64_t n, float *y,
                               int64_t ldy, float scale, float *buf, int64_t buf_floats) {
    packer_fn pack = packer_for(dt);
    if (!pack || !conv) return -1;
    const int half = dt == NEMO_DTYPE_F16; /* packed block in f16 (pack_f16h) */
    const int rbk = half ? RBH : RB;       /* rows per block */
    const int64_t n32 = n / 32 * 32;
    /* buf: [align][wp: RB·KC][xp: tch·n32][acc: rs·tch·32]; shrink rs, then tch, to fit */
    const int64_t avail = buf_floats - 8 - (int64_t)RB * KC;
    int rs = RS, tch_cap = 0;
    for (;; rs /= 2) {
        tch_cap = (int)(avail / (n32 + (int64_t)rs * 32));
        if (tch_cap > (half ? TCH : TCH32)) tch_cap = half ? TCH : TCH32;
        if (tch_cap >= 12 || rs == RB) break;
    }
    if (tch_cap < 1) return -1;
    if (tch_cap >= 3) tch_cap -= tch_cap % 3;
    float *wp = (float *)(((uintptr_t)buf + 31) & ~(uintptr_t)31);
    float *xp = wp + (int64_t)RB * KC;
    __m256 *acc = (__m256 *)(xp + (int64_t)tch_cap * n32);
    const uint8_t *w8 = w;
    const int64_t pf = n ? (int64_t)(row_bytes * 32 / n) : 0; /* encoded bytes per 32 values */

    for (int t0 = 0; t0 < nt; t0 += tch_cap) {
        const int tch = nt - t0 < tch_cap ? nt - t0 : tch_cap;
        const float *xc = x + t0 * ldx;
        pack_x(xc, ldx, tch, n32, xp);
        for (int r0 = 0; r0 < nr; r0 += rs) {
            const int rsn = nr - r0 < rs ? nr - r0 : rs;
            for (int64_t c0 = 0; c0 < n32 || c0 == 0; c0 += KC) {
                const int64_t steps = (n32 - c0 < KC ? n32 - c0 : KC) / 32;
                for (int b0 = 0; b0 < rsn; b0 += rbk) {
                    const int bn = rsn - b0 < rbk ? rsn - b0 : rbk;
                    const uint8_t *rows[RBH];
                    for (int r = 0; r < bn; r++)
                        rows[r] = w8 + (uint64_t)(r0 + b0 + r) * (uint64_t)row_bytes;
                    pack(rows, bn, c0, steps, pf, wp);
                    /* the block after this one, in loop order */
                    pf_cursor nx = {NULL, row_bytes, 0, 0, 0, 0, 0};
                    {
                        int nr0 = r0 + b0 + rbk, nrs_end = r0 + rsn;
                        int64_t nc0 = c0;
                        if (nr0 >= nrs_end) {
                            nc0 = c0 + KC, nr0 = r0;
                            if (nc0 >= n32) nc0 = 0, nr0 = r0 + rs, nrs_end = nr0 + rs;
                            if (nr0 >= nr && t0 + tch_cap < nt) nr0 = 0, nrs_end = rs;
                        }
                        if (nrs_end > nr) nrs_end = nr;
                        if (nr0 < nr && nc0 < n32) {
                            int64_t ce = nc0 + KC < n32 ? nc0 + KC : n32;
                            nx.row0 = w8 + (uint64_t)nr0 * (uint64_t)row_bytes;
                            nx.rows = nrs_end - nr0 < rbk ? nrs_end - nr0 : rbk;
                            nx.b0 = nx.off = nemo_dtype_bytes(dt, (uint64_t)nc0) / 64 * 64;
                            nx.b1 = nemo_dtype_bytes(dt, (uint64_t)ce);
                        }
                    }
                    const int64_t calls = 4 * ((tch + 3) / 3) * ((bn + 3) / 4);
                    const int64_t per_call =
                        (nx.rows * (int64_t)((nx.b1 - nx.b0 + 63) / 64) + calls - 1) / calls;
                    __m256 *ab = acc + (int64_t)b0 * tch * 4;
                    for (int k = 0; k < 4; k++)
                        for (int g = 0, tn; g < tch; g += tn) {
                            tn = group_size(tch, g);
                            const float *xs = xp + g * n32 + c0 * tn + k * steps * tn * 8;
                            for (int q = 0; q < bn; q += 4) {
                                const int qn = bn - q < 4 ? bn - q : 4;
                                const int64_t wo = (int64_t)(k * (rbk / 4) + q / 4) * S * RSTRIDE;
                                TILES[half][qn - 1][tn - 1](
                                    half ? (const void *)((const uint16_t *)wp + wo) : wp + wo, xs,
                                    steps, ab + ((int64_t)q * tch + g) * 4 + k, tch, c0 == 0);
                                pf_some(&nx, per_call);
                            }
                        }
                }
            }
            /* finish: combine the four s_k and add the < 32-value tail exactly as dot_finish */
            for (int r = 0; r < rsn; r++) {
                float tail[32] = {0};
                if (n > n32)
                    conv(w8 + (uint64_t)(r0 + r) * (uint64_t)row_bytes +
                             nemo_dtype_bytes(dt, (uint64_t)n32),
                         tail, n - n32);
                for (int t = 0; t < tch; t++) {
                    __m256 s4[4];
                    for (int k = 0; k < 4; k++) s4[k] = acc[((int64_t)r * tch + t) * 4 + k];
                    y[(t0 + t) * ldy + r0 + r] =
                        scale * dot_finish(s4, tail, xc + t * ldx + n32, n - n32);
                }
            }
        }
    }
    return 0;
}
#else
int64_t nemo_gemm_w_floats(int64_t n, int tokens) {
    (void)n;
    (void)tokens;
    return 0;
}
#endif

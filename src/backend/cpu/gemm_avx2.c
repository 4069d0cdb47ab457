/* gemm_avx2.c — the AVX2 prefill microkernel: f32 weight rows (already decoded) times several
 * tokens, register-blocked 4 rows × 3 tokens, every (row, token) result bitwise equal to the
 * level's dot (kernels_avx2_inl.h's order), so prefill and decode agree bit for bit.
 *
 * Why the order survives blocking: in that order accumulator s_k (k = 0..3) only ever takes
 * lanes [32i + 8k, 32i + 8k + 8) in increasing i, independently of the other three. So the
 * kernel runs one pass per k, each keeping a single 8-lane accumulator per (row, token) pair:
 * 12 accumulators + 3 activation vectors + 1 weight vector fill the 16 ymm registers, and each
 * weight load feeds 3 multiply-adds and each activation load 4 (the plain dot4 needed 1.5 loads
 * per multiply-add). The four s_k are then combined and the remainder added exactly as
 * dot_finish does. */
#include "backend/cpu/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include "backend/cpu/kernels_avx2_inl.h"

#define AI __attribute__((always_inline))

/* Cache blocking: tokens in chunks of TC (4 blocks of 3), columns in panels of KC, rows in
 * groups of 4 (up to 16 rows per call chunk). A panel's weights (16 rows × KC floats = 32 KB)
 * and activations (TC × KC floats) stay in L1/L2 while every (row group, token block) pair
 * walks them; the accumulators are parked in memory between panels (a store and reload keep
 * every bit, so the per-lane order is unchanged). */
enum { TC = 12, KC = 512, RC = 16 };

/* a[r·TC + t] (0 when i0 = 0) += Σ_{i0 ≤ i < i1, step 32} w[r·ldw + i + ..8] ⊙ x[t·ldx + i + ..8]
 * (w, x offset by 8k: one accumulator s_k of the shared order) */
NEMO_AVX2 static inline AI void pass(const float *w, int64_t ldw, const float *x, int64_t ldx,
                                     int64_t i0, int64_t i1, __m256 *a, const int T) {
    __m256 s[4][3];
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++)
#pragma GCC unroll 3
        for (int t = 0; t < T; t++) s[r][t] = i0 ? a[r * TC + t] : _mm256_setzero_ps();
    for (int64_t i = i0; i < i1; i += 32) {
        __m256 xv[3];
#pragma GCC unroll 3
        for (int t = 0; t < T; t++) xv[t] = _mm256_loadu_ps(x + t * ldx + i);
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) {
            __m256 wv = _mm256_loadu_ps(w + r * ldw + i);
#pragma GCC unroll 3
            for (int t = 0; t < T; t++) s[r][t] = _mm256_fmadd_ps(wv, xv[t], s[r][t]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++)
#pragma GCC unroll 3
        for (int t = 0; t < T; t++) a[r * TC + t] = s[r][t];
}

NEMO_AVX2 static void pass3(const float *w, int64_t ldw, const float *x, int64_t ldx, int64_t i0,
                            int64_t i1, __m256 *a) {
    pass(w, ldw, x, ldx, i0, i1, a, 3);
}
NEMO_AVX2 static void pass2(const float *w, int64_t ldw, const float *x, int64_t ldx, int64_t i0,
                            int64_t i1, __m256 *a) {
    pass(w, ldw, x, ldx, i0, i1, a, 2);
}
NEMO_AVX2 static void pass1(const float *w, int64_t ldw, const float *x, int64_t ldx, int64_t i0,
                            int64_t i1, __m256 *a) {
    pass(w, ldw, x, ldx, i0, i1, a, 1);
}

/* rows [0, nr4) (nr4 ≤ RC, a multiple of 4) × tokens [0, tc) (tc ≤ TC) */
NEMO_AVX2 static void chunk(const float *w, int64_t ldw, int nr4, const float *x, int64_t ldx,
                            int tc, int64_t n, float *y, int64_t ldy, float scale) {
    const int64_t n32 = n / 32 * 32;
    __m256 A[RC / 4][4][4 * TC]; /* [row group][k][row·TC + token]; the first panel zeroes */
    if (n32 == 0)
        for (int g = 0; g < nr4 / 4; g++)
            for (int k = 0; k < 4; k++)
                for (int j = 0; j < 4 * TC; j++) A[g][k][j] = _mm256_setzero_ps();
    for (int64_t i0 = 0; i0 < n32; i0 += KC) {
        int64_t i1 = i0 + KC < n32 ? i0 + KC : n32;
        for (int g = 0; g < nr4 / 4; g++)
            for (int t = 0; t < tc; t += 3)
                for (int k = 0; k < 4; k++) {
                    const float *wg = w + 4 * g * ldw + 8 * k, *xt = x + t * ldx + 8 * k;
                    __m256 *a = A[g][k] + t;
                    if (tc - t >= 3)
                        pass3(wg, ldw, xt, ldx, i0, i1, a);
                    else if (tc - t == 2)
                        pass2(wg, ldw, xt, ldx, i0, i1, a);
                    else
                        pass1(wg, ldw, xt, ldx, i0, i1, a);
                }
    }
    for (int r = 0; r < nr4; r++)
        for (int t = 0; t < tc; t++) {
            __m256 s[4];
            for (int k = 0; k < 4; k++) s[k] = A[r / 4][k][(r % 4) * TC + t];
            y[t * ldy + r] = scale * dot_finish(s, w + r * ldw + n32, x + t * ldx + n32, n - n32);
        }
}

NEMO_AVX2 void nemo_gemm_avx2(const float *w, int64_t ldw, int nr, const float *x, int64_t ldx,
                              int nt, int64_t n, float *y, int64_t ldy, float scale) {
    const int nr4 = nr / 4 * 4;
    for (int t = 0; t < nt; t += TC)
        for (int r = 0; r < nr4; r += RC)
            chunk(w + r * ldw, ldw, nr4 - r < RC ? nr4 - r : RC, x + t * ldx, ldx,
                  nt - t < TC ? nt - t : TC, n, y + t * ldy + r, ldy, scale);
    for (int r = nr4; r < nr; r++) /* the last < 4 rows: one pair at a time, same order */
        for (int t = 0; t < nt; t++) {
            const float *a = w + r * ldw, *b = x + t * ldx;
            __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                             _mm256_setzero_ps()};
            int64_t i = 0;
            for (; i + 32 <= n; i += 32) {
                __m256 v[4] = {_mm256_loadu_ps(a + i), _mm256_loadu_ps(a + i + 8),
                               _mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(a + i + 24)};
                acc32(acc, v, b + i);
            }
            y[t * ldy + r] = scale * dot_finish(acc, a + i, b + i, n - i);
        }
}
#endif

/* test_kernels.c — every CPU kernel level this machine can run (scalar always; AVX2, AVX-512
 * when present) against the scalar reference: row converters bit for bit, dot / dot4 / axpy
 * and the threaded matmul within stated tolerances, on odd sizes and edge values; plus the
 * invariances the server relies on (a token's output does not depend on the batch it is in,
 * the thread count, or which rows share a block). */
#include "backend/cpu/cpu_features.h"
#include "backend/cpu/dequant.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/ops.h"
#include "backend/cpu/quant.h"
#include "backend/cpu/q8k.h"
#include "backend/cpu/quant_act.h"
#include "test.h"

static uint32_t rng = 2024;
static uint32_t urand(void) {
    return test_urand(&rng);
}
static float frand(void) { /* uniform in [-1, 1) */
    return test_frand(&rng);
}

static const nemo_dtype DTYPES[] = {NEMO_DTYPE_F32,     NEMO_DTYPE_F16,  NEMO_DTYPE_BF16,
                                    NEMO_DTYPE_F8_E4M3, NEMO_DTYPE_Q8_0, NEMO_DTYPE_Q4_0,
                                    NEMO_DTYPE_Q4_1,    NEMO_DTYPE_Q5_0, NEMO_DTYPE_Q5_1,
                                    NEMO_DTYPE_Q4_K,    NEMO_DTYPE_Q5_K, NEMO_DTYPE_Q6_K};
#define N_DTYPES (int)(sizeof DTYPES / sizeof DTYPES[0])

/* Byte offsets of the fp16 scale fields in one block (-1 ends the list). */
static const int *scale_fields(nemo_dtype t) {
    static const int d0[] = {0, -1}, dm[] = {0, 2, -1}, q6k[] = {208, -1}, none[] = {-1};
    switch (t) {
    case NEMO_DTYPE_Q8_0:
    case NEMO_DTYPE_Q4_0:
    case NEMO_DTYPE_Q5_0: return d0;
    case NEMO_DTYPE_Q4_1:
    case NEMO_DTYPE_Q5_1:
    case NEMO_DTYPE_Q4_K:
    case NEMO_DTYPE_Q5_K: return dm;
    case NEMO_DTYPE_Q6_K: return q6k;
    default: return none;
    }
}

/* n values of type t in buf: random bits (finite = 0: anything, NaN and infinity included), or
 * finite values of moderate size (finite = 1) for the products. */
static void fill_row(nemo_dtype t, uint8_t *buf, int64_t n, int finite) {
    uint64_t bytes = nemo_dtype_bytes(t, (uint64_t)n);
    for (uint64_t i = 0; i < bytes; i++) buf[i] = (uint8_t)urand();
    if (!finite) return;
    if (t == NEMO_DTYPE_F32) {
        for (int64_t i = 0; i < n; i++) ((float *)buf)[i] = frand();
    } else if (t == NEMO_DTYPE_F16 || t == NEMO_DTYPE_BF16) {
        for (int64_t i = 0; i < n; i++) {
            uint16_t h = (uint16_t)(urand() & 0xbfff); /* exponent MSB clear: finite, < 2 */
            memcpy(buf + 2 * i, &h, 2);
        }
    } else if (t == NEMO_DTYPE_F8_E4M3) {
        for (int64_t i = 0; i < n; i++)
            if ((buf[i] & 0x7f) == 0x7f) buf[i] ^= 1; /* no NaN */
    } else {
        const nemo_dtype_traits *ti = nemo_dtype_info(t);
        for (uint64_t b = 0; b < bytes / ti->block_bytes; b++)
            for (const int *f = scale_fields(t); *f >= 0; f++) {
                /* |d| in [2^-10, 2^-6): realistic block scales */
                uint16_t h = (uint16_t)(0x1400 | (urand() & 0x0fff) | (urand() & 1) << 15);
                memcpy(buf + b * ti->block_bytes + *f, &h, 2);
            }
    }
}

static int n_levels(const nemo_kernels *ks[NEMO_CPU_LEVELS]) {
    int n = 0;
    for (int l = 0; l < NEMO_CPU_LEVELS; l++)
        if ((ks[n] = nemo_kernels_for((nemo_cpu_level)l))) n++;
    return n;
}

/* NEMO_CPU (set in main before the first kernel call) lowers the level; the scalar table is
 * always there; a level above the CPU's is refused. */
static void test_dispatch(void) {
    char line[512];
    nemo_cpu_info(line, sizeof line);
    printf("  cpu %s\n", line);
    CHECK(nemo_cpu_level_active() == NEMO_CPU_SCALAR);
    CHECK(strstr(line, "activations f32 for every weight type") != NULL && !nemo_kernels_q8());
    nemo_error err;
    CHECK(nemo_cpu_check(&err) == NEMO_OK);
    CHECK(nemo_kernels_get()->level == NEMO_CPU_SCALAR);
    CHECK(nemo_kernels_for(NEMO_CPU_SCALAR) != NULL);
    nemo_cpu_level max = nemo_cpu_level_max();
    if (max + 1 < NEMO_CPU_LEVELS) CHECK(nemo_kernels_use((nemo_cpu_level)(max + 1)) == -1);
    for (int l = 0; l <= (int)max; l++) {
        const nemo_kernels *k = nemo_kernels_for((nemo_cpu_level)l);
        CHECK(k && k->level == (nemo_cpu_level)l && k->dot && k->dot4 && k->axpy);
        for (int i = 0; k && i < N_DTYPES; i++) CHECK(k->to_f32[DTYPES[i]] != NULL);
    }
}

/* Row converters equal nemo_dequant_row bit for bit, on random bits (every fp16 / bf16 / fp8
 * pattern is reached: the float types are also swept exhaustively) and lengths with tails. */
static void test_to_f32_bitwise(void) {
    const nemo_kernels *ks[NEMO_CPU_LEVELS];
    int nl = n_levels(ks);
    enum { MAXN = 65536 };
    uint8_t *buf = malloc(4 * MAXN);
    float *want = malloc(4 * MAXN), *got = malloc(4 * MAXN);
    for (int di = 0; di < N_DTYPES; di++) {
        nemo_dtype t = DTYPES[di];
        int64_t be = nemo_dtype_info(t)->block_elems;
        int64_t lens[] = {be, 3 * be, 7 * be, 2 * 256 + (be == 1 ? 13 : 0), 0};
        for (int li = 0; li < 5; li++) {
            int64_t n = lens[li];
            if (li == 4) { /* exhaustive sweep of the small float types */
                if (t == NEMO_DTYPE_F16 || t == NEMO_DTYPE_BF16) {
                    n = 65536;
                    for (int i = 0; i < 65536; i++)
                        memcpy(buf + 2 * i, &(uint16_t){(uint16_t)i}, 2);
                } else if (t == NEMO_DTYPE_F8_E4M3) {
                    n = 256;
                    for (int i = 0; i < 256; i++) buf[i] = (uint8_t)i;
                } else {
                    continue;
                }
            } else {
                fill_row(t, buf, n, 0);
            }
            nemo_dequant_row(t, buf, want, n);
            for (int l = 0; l < nl; l++) {
                memset(got, 0xcd, (size_t)n * 4);
                ks[l]->to_f32[t](buf, got, n);
                int bad = 0;
                for (int64_t i = 0; i < n && bad < 3; i++)
                    if (!test_same_bits(got[i], want[i])) {
                        bad++;
                        CHECK_MSG(0, "%s %s n=%lld value %lld: got %a want %a",
                                  nemo_cpu_level_name(ks[l]->level), nemo_dtype_name(t),
                                  (long long)n, (long long)i, got[i], want[i]);
                    }
            }
        }
    }
    free(buf);
    free(want);
    free(got);
}

static const int64_t SIZES[] = {0,  1,  3,  7,  8,   9,   15,  16,   17,
                                31, 33, 47, 63, 100, 128, 576, 1001, 5120};
#define N_SIZES (int)(sizeof SIZES / sizeof SIZES[0])

/* dot within 1e-5·Σ|aᵢbᵢ| of the double-precision sum (f32 accumulation over up to 5120 terms
 * in 8- or 16-lane partial sums stays far below that); dot4's rows bitwise equal dot. */
static void test_dot(void) {
    const nemo_kernels *ks[NEMO_CPU_LEVELS];
    int nl = n_levels(ks);
    float *w = malloc(4 * 5120 * sizeof(float)), *x = malloc(5120 * sizeof(float));
    for (int si = 0; si < N_SIZES; si++) {
        int64_t n = SIZES[si];
        for (int64_t i = 0; i < 4 * n; i++) w[i] = frand() * (i % 7 == 0 ? 1e3f : 1.0f);
        for (int64_t i = 0; i < n; i++) x[i] = frand() * (i % 5 == 0 ? 1e-3f : 1.0f);
        for (int r = 0; r < 4; r++) {
            double ref = 0, mag = 0;
            for (int64_t i = 0; i < n; i++) {
                ref += (double)w[r * n + i] * x[i];
                mag += fabs((double)w[r * n + i] * x[i]);
            }
            for (int l = 0; l < nl; l++) {
                float got = ks[l]->dot(w + r * n, x, n);
                CHECK_MSG(fabs(got - ref) <= 1e-5 * mag + 1e-30, "%s n=%lld: %g vs %g",
                          nemo_cpu_level_name(ks[l]->level), (long long)n, got, ref);
            }
        }
        for (int l = 0; l < nl; l++) {
            float o[4];
            ks[l]->dot4(w, n, x, n, o);
            for (int r = 0; r < 4; r++)
                CHECK_MSG(test_same_bits(o[r], ks[l]->dot(w + r * n, x, n)),
                          "%s dot4 n=%lld row %d", nemo_cpu_level_name(ks[l]->level), (long long)n,
                          r);
        }
        /* AVX-512 follows the AVX2 order lane for lane (so it can reuse the fused kernels) */
        const nemo_kernels *a2 = nemo_kernels_for(NEMO_CPU_AVX2),
                           *a5 = nemo_kernels_for(NEMO_CPU_AVX512);
        if (a2 && a5) CHECK(test_same_bits(a2->dot(w, x, n), a5->dot(w, x, n)));
    }
    free(w);
    free(x);
}

/* The prefill gemm: every (row, token) value bitwise equal to scale · dot of that pair, for
 * every row count (full 4-row groups and the rest), batch sizes 1..17 (3-token blocks and both
 * remainders) and lengths with and without a < 32 tail, on strided rows and tokens. */
static void test_gemm(void) {
    const nemo_kernels *ks[NEMO_CPU_LEVELS];
    int nl = n_levels(ks);
    static const int64_t NS[] = {1, 7, 31, 32, 33, 95, 256, 273, 1001};
    enum { MAXR = 9, MAXT = 17, MAXN = 1001, LD = MAXN + 3 };
    float *w = malloc(sizeof(float) * MAXR * LD), *x = malloc(sizeof(float) * MAXT * LD);
    float *y = malloc(sizeof(float) * MAXT * (MAXR + 2));
    for (int i = 0; i < MAXR * LD; i++) w[i] = frand() * (i % 7 == 0 ? 1e3f : 1.0f);
    for (int i = 0; i < MAXT * LD; i++) x[i] = frand() * (i % 5 == 0 ? 1e-3f : 1.0f);
    for (int l = 0; l < nl; l++)
        for (size_t ni = 0; ni < sizeof NS / sizeof NS[0]; ni++)
            for (int nr = 1; nr <= MAXR; nr += (nr < 5 ? 1 : 4))
                for (int nt = 1; nt <= MAXT; nt++) {
                    const int64_t n = NS[ni], ldy = MAXR + 2;
                    ks[l]->gemm(w, LD, nr, x, LD, nt, n, y, ldy, 0.375f);
                    int bad = 0;
                    for (int t = 0; t < nt; t++)
                        for (int r = 0; r < nr; r++)
                            bad += !test_same_bits(y[t * ldy + r],
                                                   0.375f * ks[l]->dot(w + r * LD, x + t * LD, n));
                    CHECK_MSG(!bad, "%s gemm n=%lld rows %d tokens %d: %d values differ",
                              nemo_cpu_level_name(ks[l]->level), (long long)n, nr, nt, bad);
                }
    free(w);
    free(x);
    free(y);
}

/* The prefill from encoded rows: every (row, token) value bitwise equal to scale · dot_row of
 * that pair, per dtype, on row counts around its 4-row tiles, 8-row blocks and 16-row
 * super-blocks, token counts around its 3-token groups (and the 2 + 2 split of a last 4) and
 * chunks, lengths with several 2048-column panels and a < 32 tail (float types), with the full
 * scratch and with one small enough to force the smallest blocking; a scratch too small for
 * anything is refused (-1) without writing. */
static void test_gemm_w(void) {
    const nemo_kernels *ks[NEMO_CPU_LEVELS];
    int nl = n_levels(ks);
    enum { MAXN = 2 * 2048 + 256, MAXR = 21, MAXT = 40 };
    static const int NR[] = {1, 3, 4, 9, 21}, NT[] = {1, 2, 4, 5, 7, 40};
    uint8_t *wb = malloc(4 * (size_t)MAXN * MAXR);
    float *x = malloc(sizeof(float) * MAXT * (MAXN + 3)), *wf = malloc(sizeof(float) * MAXN);
    float *y = malloc(sizeof(float) * MAXT * (MAXR + 1));
    int64_t big = nemo_gemm_w_floats(MAXN, MAXT);
    float *buf = malloc(sizeof(float) * (size_t)(big > 0 ? big : 1));
    const int64_t ldx = MAXN + 3, ldy = MAXR + 1;
    for (int64_t i = 0; i < MAXT * ldx; i++) x[i] = frand();
    for (int di = 0; di < N_DTYPES; di++) {
        nemo_dtype t = DTYPES[di];
        int64_t be = nemo_dtype_info(t)->block_elems;
        int64_t lens[] = {be == 1 ? 5 : be, be == 1 ? 2048 + 64 + 7 : 2048 + 256,
                          be == 1 ? 2 * 2048 + 33 : 2048};
        for (int li = 0; li < 3; li++) {
            const int64_t n = lens[li];
            const uint64_t rb = nemo_dtype_bytes(t, (uint64_t)n);
            for (int r = 0; r < MAXR; r++) fill_row(t, wb + r * rb, n, 1);
            for (int l = 0; l < nl; l++) {
                if (!ks[l]->gemm_w) continue;
                const int64_t full = nemo_gemm_w_floats(n, MAXT), small = full - (full - 8) / 2;
                for (int bi = 0; bi < 2; bi++)
                    for (int ri = 0; ri < 5; ri++)
                        for (int ti = 0; ti < 6; ti++) {
                            const int nr = NR[ri], nt = NT[ti];
                            for (int i = 0; i < MAXT * ldy; i++) y[i] = -1.0f;
                            int rc = ks[l]->gemm_w(t, ks[l]->to_f32[t], wb, (int64_t)rb, nr, x, ldx,
                                                   nt, n, y, ldy, 0.375f, buf, bi ? small : full);
                            if (rc) { /* only dtypes without a decoder may decline */
                                CHECK_MSG(!ks[l]->dot_row[t], "%s %s: gemm_w declined",
                                          nemo_cpu_level_name(ks[l]->level), nemo_dtype_name(t));
                                continue;
                            }
                            int bad = 0;
                            for (int r = 0; r < nr; r++) {
                                ks[l]->to_f32[t](wb + r * rb, wf, n);
                                for (int tk = 0; tk < nt; tk++) {
                                    float want = 0.375f * ks[l]->dot(wf, x + tk * ldx, n);
                                    bad += !test_same_bits(y[tk * ldy + r], want);
                                }
                            }
                            for (int tk = 0; tk < nt; tk++) /* nothing past row nr - 1 */
                                bad += !(y[tk * ldy + nr] == -1.0f);
                            CHECK_MSG(!bad, "%s %s n=%lld rows %d tokens %d buf %s: %d differ",
                                      nemo_cpu_level_name(ks[l]->level), nemo_dtype_name(t),
                                      (long long)n, nr, nt, bi ? "small" : "full", bad);
                        }
                y[0] = -1.0f;
                CHECK(ks[l]->gemm_w(t, ks[l]->to_f32[t], wb, (int64_t)rb, 1, x, ldx, 1, n, y, ldy,
                                    1.0f, buf, 64) == -1);
                CHECK(y[0] == -1.0f);
            }
        }
    }
    free(wb);
    free(x);
    free(wf);
    free(y);
    free(buf);
}

/* The fused decode kernels equal dot over the converted row bit for bit (float types on odd
 * lengths too, so their reference-decoded tails are covered). */
static void test_dot_row(void) {
    const nemo_kernels *ks[NEMO_CPU_LEVELS];
    int nl = n_levels(ks);
    enum { MAXN = 3 * 256 + 45 };
    uint8_t *buf = malloc(4 * MAXN);
    float *wf = malloc(4 * MAXN), *x = malloc(4 * MAXN);
    for (int i = 0; i < MAXN; i++) x[i] = frand();
    for (int di = 0; di < N_DTYPES; di++) {
        nemo_dtype t = DTYPES[di];
        int64_t be = nemo_dtype_info(t)->block_elems;
        int64_t lens[] = {be, 3 * be, be == 1 ? MAXN : 2 * 256, be == 1 ? 33 : 32,
                          be == 1 ? 63 : 64};
        for (int li = 0; li < 5; li++) {
            int64_t n = lens[li];
            if (n % be) continue;
            fill_row(t, buf, n, 1);
            for (int l = 0; l < nl; l++) {
                if (!ks[l]->dot_row[t]) continue;
                ks[l]->to_f32[t](buf, wf, n);
                float want = ks[l]->dot(wf, x, n), got = ks[l]->dot_row[t](buf, x, n);
                CHECK_MSG(test_same_bits(got, want), "%s %s n=%lld: fused %a, convert+dot %a",
                          nemo_cpu_level_name(ks[l]->level), nemo_dtype_name(t), (long long)n, got,
                          want);
            }
        }
    }
    free(buf);
    free(wf);
    free(x);
}

/* axpy: fused or not, each value is within one rounding of y + a·x (|err| ≤ 2⁻²³·(|y|+|a·x|)). */
static void test_axpy(void) {
    const nemo_kernels *ks[NEMO_CPU_LEVELS];
    int nl = n_levels(ks);
    float x[1001], y0[1001], y[1001];
    for (int si = 0; si < N_SIZES; si++) {
        int64_t n = SIZES[si] > 1001 ? 1001 : SIZES[si];
        for (int64_t i = 0; i < n; i++) {
            x[i] = frand();
            y0[i] = frand() * 4;
        }
        float a = frand();
        for (int l = 0; l < nl; l++) {
            memcpy(y, y0, sizeof y);
            ks[l]->axpy(y, a, x, n);
            for (int64_t i = 0; i < n; i++) {
                double ref = (double)y0[i] + (double)a * x[i];
                CHECK(fabs(y[i] - ref) <= 0x1p-23 * (fabs(y0[i]) + fabs(a * x[i])));
            }
            CHECK(n == 1001 || test_same_bits(y[n], y0[n])); /* nothing past the end */
        }
    }
}

/* The threaded matmul at every level against the double-precision reference (tolerance
 * 1e-5·Σ|w·x| per output), on 13 rows (a 4-row block tail) and odd widths; then the
 * invariances: 1 vs 3 threads and one token alone vs in a batch of 5 are bitwise equal. */
static void test_matmul(void) {
    const nemo_kernels *ks[NEMO_CPU_LEVELS];
    int nl = n_levels(ks);
    enum { ROWS = 13, NTOK = 5 };
    nemo_pool *p1 = nemo_pool_create(1), *p3 = nemo_pool_create(3);
    for (int di = 0; di < N_DTYPES; di++) {
        nemo_dtype t = DTYPES[di];
        int64_t be = nemo_dtype_info(t)->block_elems;
        int64_t cols = be == 1 ? 37 : be == 32 ? 7 * 32 : 2 * 256;
        uint64_t rb = nemo_dtype_bytes(t, (uint64_t)cols);
        uint8_t *wb = malloc(rb * ROWS);
        for (int r = 0; r < ROWS; r++) fill_row(t, wb + r * rb, cols, 1);
        nemo_wmat W = {wb, t, ROWS, cols, rb, t == NEMO_DTYPE_F8_E4M3 ? 0.375f : 1.0f};
        float *x = malloc(sizeof(float) * NTOK * cols), *wf = malloc(sizeof(float) * cols);
        for (int64_t i = 0; i < NTOK * cols; i++) x[i] = frand();
        float *scratch = malloc(sizeof(float) * (size_t)nemo_cpu_matmul_scratch(3, NTOK, cols));
        float y1[NTOK * ROWS], y3[NTOK * ROWS], ys[ROWS];
        for (int l = 0; l < nl; l++) {
            const char *ln = nemo_cpu_level_name(ks[l]->level);
            CHECK(nemo_kernels_use(ks[l]->level) == 0);
            nemo_cpu_matmul(p1, y1, x, NTOK, &W, scratch);
            nemo_cpu_matmul(p3, y3, x, NTOK, &W, scratch);
            CHECK_MSG(memcmp(y1, y3, sizeof y1) == 0, "%s %s: 1 vs 3 threads", ln,
                      nemo_dtype_name(t));
            for (int tk = 0; tk < NTOK; tk++) {
                nemo_cpu_matmul(p3, ys, x + tk * cols, 1, &W, scratch);
                CHECK_MSG(memcmp(ys, y1 + tk * ROWS, sizeof ys) == 0, "%s %s: token %d alone", ln,
                          nemo_dtype_name(t), tk);
            }
            for (int r = 0; r < ROWS; r++) {
                nemo_dequant_row(t, wb + r * rb, wf, cols);
                for (int tk = 0; tk < NTOK; tk++) {
                    double ref = 0, mag = 0;
                    for (int64_t i = 0; i < cols; i++) {
                        ref += (double)wf[i] * x[tk * cols + i];
                        mag += fabs((double)wf[i] * x[tk * cols + i]);
                    }
                    ref *= W.scale;
                    mag *= W.scale;
                    float got = y1[tk * ROWS + r];
                    CHECK_MSG(fabs(got - ref) <= 1e-5 * mag + 1e-30,
                              "%s %s row %d tok %d: %g vs %g", ln, nemo_dtype_name(t), r, tk, got,
                              ref);
                }
            }
        }
        free(wb);
        free(x);
        free(wf);
        free(scratch);
    }
    nemo_kernels_use(NEMO_CPU_SCALAR);
    nemo_pool_free(p1);
    nemo_pool_free(p3);
}

/* q8 activations (NEMO_MATMUL=q8): the quantizer follows ggml's reference; every level's integer
 * dot is bitwise equal to the scalar reference (exact integer block sums, the reference's float
 * steps in its order), which is within 1e-2·Σ|w·x| of the f32 product (activation rounding: at
 * most half a step of max|x|/127 per block); the matmul keeps the invariances. */
static void test_q8(void) {
    enum { N = 7 * 32, ROWS = 13, NTOK = 5 };
    float x[NTOK * N], back[N];
    for (int i = 0; i < NTOK * N; i++) x[i] = frand() * (i % 64 < 32 ? 1.0f : 1e-3f);
    for (int i = 64; i < 96; i++) x[i] = 0; /* an all-zero block of token 0 */
    nemo_q8_act q[NTOK * (N / 32)];
    for (int t = 0; t < NTOK; t++) nemo_q8_quantize(x + t * N, q + t * (N / 32), N);
    CHECK(q[2].d == 0 && q[2].s == 0);
    for (int b = 0; b < N / 32; b++) {
        float d = nemo_f16_to_f32(q[b].d), amax = 0;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            back[b * 32 + j] = d * q[b].qs[j];
            sum += q[b].qs[j];
            amax = fmaxf(amax, fabsf(x[b * 32 + j]));
        }
        /* half a step of the true scale, plus the fp16 rounding of the stored one (tiny blocks
         * get subnormal fp16 scales, as in ggml) */
        float dt = amax / 127, tol = 0.5f * dt + 127 * fabsf(d - dt) + 1e-9f;
        for (int j = 0; j < 32; j++) CHECK(fabsf(back[b * 32 + j] - x[b * 32 + j]) <= tol);
        CHECK(fabsf(nemo_f16_to_f32(q[b].s) - dt * sum) <= 1e-3f * fabsf(dt * sum) + 6e-8f);
        CHECK(q[b].sum == sum);
    }
    const nemo_kernels *ks[NEMO_CPU_LEVELS];
    int nl = n_levels(ks);
    static const nemo_dtype QT[] = {NEMO_DTYPE_Q8_0, NEMO_DTYPE_Q4_0, NEMO_DTYPE_Q4_1};
    nemo_pool *p1 = nemo_pool_create(1), *p3 = nemo_pool_create(3);
    float *scratch = malloc(sizeof(float) * (size_t)nemo_cpu_matmul_scratch(3, NTOK, N));
    for (int qi = 0; qi < 3; qi++) {
        nemo_dtype t = QT[qi];
        uint64_t rb = nemo_dtype_bytes(t, N);
        uint8_t *wb = malloc(rb * ROWS);
        float wf[N];
        for (int r = 0; r < ROWS; r++) fill_row(t, wb + r * rb, N, 1);
        for (int r = 0; r < ROWS; r++) {
            nemo_dequant_row(t, wb + r * rb, wf, N);
            for (int tk = 0; tk < NTOK; tk++) {
                double exact = 0, mag = 0;
                for (int i = 0; i < N; i++) {
                    exact += (double)wf[i] * x[tk * N + i];
                    mag += fabs((double)wf[i] * x[tk * N + i]);
                }
                float ref = nemo_q8_dot_ref(t, wb + r * rb, q + tk * (N / 32), N);
                CHECK_MSG(fabs(ref - exact) <= 1e-2 * mag, "%s: q8 %g vs f32 %g",
                          nemo_dtype_name(t), ref, exact);
                for (int l = 0; l < nl; l++) {
                    float got = ks[l]->q8_dot[t](wb + r * rb, q + tk * (N / 32), N);
                    CHECK_MSG(test_same_bits(got, ref), "%s %s: %g vs ref %g",
                              nemo_cpu_level_name(ks[l]->level), nemo_dtype_name(t), got, ref);
                }
            }
        }
        /* every block count (groups of 8 blocks and shorter ones) */
        for (int l = 0; l < nl; l++)
            for (int nbk = 1; nbk <= N / 32; nbk++)
                for (int r = 0; r < ROWS; r++)
                    CHECK_MSG(test_same_bits(ks[l]->q8_dot[t](wb + r * rb, q + 1, 32 * nbk),
                                             nemo_q8_dot_ref(t, wb + r * rb, q + 1, 32 * nbk)),
                              "%s %s q8_dot blocks %d", nemo_cpu_level_name(ks[l]->level),
                              nemo_dtype_name(t), nbk);
        nemo_wmat W = {wb, t, ROWS, N, rb, 1.0f};
        nemo_kernels_set_q8(1);
        for (int l = 0; l < nl; l++) {
            float y1[NTOK * ROWS], y3[NTOK * ROWS], ys[ROWS];
            CHECK(nemo_kernels_use(ks[l]->level) == 0);
            nemo_cpu_matmul(p1, y1, x, NTOK, &W, scratch);
            nemo_cpu_matmul(p3, y3, x, NTOK, &W, scratch);
            CHECK(memcmp(y1, y3, sizeof y1) == 0);
            for (int tk = 0; tk < NTOK; tk++) {
                nemo_cpu_matmul(p1, ys, x + tk * N, 1, &W, scratch);
                CHECK(memcmp(ys, y1 + tk * ROWS, sizeof ys) == 0);
                for (int r = 0; r < ROWS; r++)
                    CHECK(test_same_bits(y1[tk * ROWS + r],
                                         ks[l]->q8_dot[t](wb + r * rb, q + tk * (N / 32), N)));
            }
        }
        nemo_kernels_set_q8(0);
        nemo_kernels_use(NEMO_CPU_SCALAR);
        free(wb);
    }
    free(scratch);
    nemo_pool_free(p1);
    nemo_pool_free(p3);
}

/* The AVX2 activation quantizer writes the reference's bytes: random blocks, an all-zero one,
 * tiny ones (subnormal fp16 scales) and ties (x·(1/d) exactly k + 1/2, which roundf takes away
 * from zero). */
static void test_q8_quantize(void) {
    if (!nemo_kernels_for(NEMO_CPU_AVX2)) {
        printf("  (no AVX2: skipped)\n");
        return;
    }
    enum { NB = 64 };
    static float x[NB * 32];
    static nemo_q8_act a[NB], b[NB];
    for (int i = 0; i < NB * 32; i++) x[i] = frand() * (i < 16 * 32 ? 1.0f : 1e-6f);
    for (int i = 32; i < 64; i++) x[i] = 0;
    for (int i = 64; i < 96; i++) x[i] = (float)(i - 80) + 0.5f; /* amax 15.5: not ties */
    x[96] = 127; /* d = 1: every x[j] + 1/2 is a tie */
    for (int i = 97; i < 128; i++) x[i] = (float)(i - 112) + 0.5f;
    x[128] = -127;
    for (int i = 129; i < 160; i++) x[i] = -(float)(i - 129) * 0.5f;
    nemo_q8_quantize_ref(x, a, NB * 32);
    nemo_q8_quantize_avx2(x, b, NB * 32);
    CHECK(a[3].qs[0] == 127 && a[3].qs[1] == -15 && a[3].qs[2] == -14); /* -14.5, -13.5 */
    CHECK(memcmp(a, b, sizeof a) == 0);
}

/* The register-blocked q8 gemm: every (row, token) value bitwise equal to scale · q8_dot, for
 * row counts that leave short tiles, odd token counts (1 takes the decode path), block counts
 * below, at and across the kernel's chunking, strided x and y; y outside the nr × nt values
 * is left alone. */
static void test_q8_gemm(void) {
    enum { MAXB = 70, MAXR = 19, MAXT = 6, LDX = MAXB + 3, LDY = MAXR + 5 };
    static const int NB[] = {1, 7, 8, 9, 32, 33, 70}, NR[] = {1, 5, 8, 13, 19}, NT[] = {1, 2, 3, 6};
    static float x[MAXT * MAXB * 32], y[MAXT * LDY];
    static nemo_q8_act q[MAXT * LDX];
    for (int i = 0; i < MAXT * MAXB * 32; i++) x[i] = frand() * (i % 96 < 32 ? 1.0f : 0.01f);
    for (int t = 0; t < MAXT; t++) nemo_q8_quantize(x + t * MAXB * 32, q + t * LDX, MAXB * 32);
    const nemo_kernels *ks[NEMO_CPU_LEVELS];
    int nl = n_levels(ks);
    static const nemo_dtype QT[] = {NEMO_DTYPE_Q8_0, NEMO_DTYPE_Q4_0, NEMO_DTYPE_Q4_1};
    for (int qi = 0; qi < 3; qi++) {
        nemo_dtype t = QT[qi];
        uint64_t rb = nemo_dtype_bytes(t, MAXB * 32);
        uint8_t *wb = malloc(rb * MAXR);
        for (int r = 0; r < MAXR; r++) fill_row(t, wb + r * rb, MAXB * 32, 1);
        for (int l = 0; l < nl; l++) {
            if (!ks[l]->q8_gemm[t]) continue;
            for (size_t bi = 0; bi < sizeof NB / sizeof NB[0]; bi++)
                for (size_t ri = 0; ri < sizeof NR / sizeof NR[0]; ri++)
                    for (size_t ti = 0; ti < sizeof NT / sizeof NT[0]; ti++) {
                        int n = 32 * NB[bi], nr = NR[ri], nt = NT[ti], bad = 0;
                        for (int i = 0; i < MAXT * LDY; i++) y[i] = -7.0f;
                        ks[l]->q8_gemm[t](wb, (int64_t)rb, nr, q, LDX, nt, n, y, LDY, 0.75f);
                        for (int tk = 0; tk < MAXT; tk++)
                            for (int r = 0; r < LDY; r++) {
                                float want = -7.0f;
                                if (tk < nt && r < nr)
                                    want = 0.75f * ks[l]->q8_dot[t](wb + r * rb, q + tk * LDX, n);
                                bad += !test_same_bits(y[tk * LDY + r], want);
                            }
                        CHECK_MSG(!bad, "%s %s q8_gemm blocks %d rows %d tokens %d: %d wrong",
                                  nemo_cpu_level_name(ks[l]->level), nemo_dtype_name(t), NB[bi], nr,
                                  nt, bad);
                    }
        }
        free(wb);
    }
}

/* Q8_K activations for K-quants (NEMO_MATMUL=q8): the quantizer follows ggml's reference (the
 * largest magnitude maps to -127, bsums are the 16-value sums); every level's integer dot is
 * bitwise equal to the scalar reference (same exact int32 sums, same float steps); the reference
 * is within the activation-rounding bound of the f32 product: Σ_blocks Σ|w|·(max|x|/254) (half
 * a quantization step per value), plus 1e-5·Σ|w·x| for f32 rounding; the matmul keeps the
 * invariances and uses these kernels. */
/* q8k_gemm of each level: every (row, token) value bitwise equal to scale · the reference dot,
 * for row counts around the 8-row panels, token counts around the 4-token step, super-block
 * counts around the 16-super-block K-block, strided x and y; rows mix random bytes with all-ones
 * bytes (the largest values, scales and minimums) and activations mix random bytes with ±127 (the
 * int16 sums' worst case), with consistent bsums / bs32 as the quantizer makes them. */
static void q8k_gemm_check(nemo_dtype t, const nemo_kernels *ks[], int nl) {
    enum { MAXR = 25, MAXT = 9, MAXB = 33, LDX = MAXB + 1, LDY = MAXR + 3 };
    const uint64_t rb = nemo_dtype_bytes(t, 256 * MAXB);
    uint8_t *w = malloc(rb * MAXR);
    static nemo_q8k_act x[MAXT * LDX];
    static float y[MAXT * LDY];
    for (int r = 0; r < MAXR; r++) {
        fill_row(t, w + r * rb, 256 * MAXB, 1);
        if (r % 3 == 1) /* all-ones values, scales and minimums; d fields stay finite */
            for (int b = 0; b < MAXB; b++) {
                uint8_t *blk = w + r * rb + b * (rb / MAXB);
                const int d_at = t == NEMO_DTYPE_Q6_K ? 208 : 0,
                          d_len = t == NEMO_DTYPE_Q6_K ? 2 : 4;
                for (uint64_t i = 0; i < rb / MAXB; i++)
                    if ((int)i < d_at || (int)i >= d_at + d_len) blk[i] = 0xFF;
                if (t == NEMO_DTYPE_Q6_K && b % 2) memset(blk + 192, 0x80, 16); /* scales -128 */
            }
    }
    for (int i = 0; i < MAXT * LDX; i++) {
        x[i].d = frand();
        for (int j = 0; j < 256; j++) {
            const int v = (int)(urand() % 255) - 127;
            x[i].qs[j] = (int8_t)(i % 4 == 1 ? 127 : i % 4 == 2 ? (j % 2 ? -127 : 127) : v);
        }
        for (int g = 0; g < 16; g++) {
            int s = 0;
            for (int j = 0; j < 16; j++) s += x[i].qs[16 * g + j];
            x[i].bsums[g] = (int16_t)s;
        }
        for (int j = 0; j < 8; j++)
            x[i].bs32[j] = (int16_t)(x[i].bsums[2 * j] + x[i].bsums[2 * j + 1]);
    }
    static const int NR[] = {1, 7, 8, 9, 16, 25}, NT[] = {1, 3, 4, 5, 9},
                     NB[] = {1, 5, 6, 16, 33}; /* K-blocks of 16; 1-token groups of 4 */
    for (int l = 0; l < nl; l++) {
        if (!ks[l]->q8k_gemm[t]) continue;
        for (int a = 0; a < 6; a++)
            for (int b = 0; b < 5; b++)
                for (int c = 0; c < 5; c++) {
                    const int nr = NR[a], nt = NT[b];
                    const int64_t n = 256 * NB[c];
                    for (int i = 0; i < MAXT * LDY; i++) y[i] = NAN;
                    ks[l]->q8k_gemm[t](w, (int64_t)rb, nr, x, LDX, nt, n, y, LDY, 0.375f);
                    int bad = 0;
                    for (int tk = 0; tk < nt; tk++)
                        for (int r = 0; r < nr; r++) {
                            const float want =
                                0.375f * nemo_q8k_dot_ref(t, w + r * rb, x + tk * LDX, n);
                            bad += !test_same_bits(y[tk * LDY + r], want);
                        }
                    CHECK_MSG(!bad, "%s %s q8k_gemm rows %d tokens %d n %lld: %d values differ",
                              nemo_cpu_level_name(ks[l]->level), nemo_dtype_name(t), nr, nt,
                              (long long)n, bad);
                }
    }
    free(w);
}

static void test_q8k(void) {
    enum { N = 3 * 256, ROWS = 9, NTOK = 5 };
    static float x[NTOK * N], wf[N];
    for (int i = 0; i < NTOK * N; i++) x[i] = frand() * (i % 512 < 256 ? 1.0f : 1e-3f);
    for (int i = 256; i < 512; i++) x[i] = 0; /* an all-zero block of token 0 */
    static nemo_q8k_act q[NTOK * (N / 256)];
    for (int t = 0; t < NTOK; t++) nemo_q8k_quantize(x + t * N, q + t * (N / 256), N);
    CHECK(q[1].d == 0 && q[1].bsums[3] == 0 && q[1].qs[17] == 0);
    for (int b = 0; b < NTOK * (N / 256); b++) {
        if (b == 1) continue;
        float amax = 0;
        int has127 = 0;
        for (int j = 0; j < 256; j++) {
            amax = fmaxf(amax, fabsf(x[b * 256 + j]));
            has127 |= q[b].qs[j] == -127;
        }
        CHECK(has127 && fabsf(fabsf(q[b].d) - amax / 127) <= 1e-6f * amax);
        for (int j = 0; j < 256; j++)
            CHECK(fabsf(q[b].d * q[b].qs[j] - x[b * 256 + j]) <= 0.5f * fabsf(q[b].d) * 1.0001f);
        for (int g = 0; g < 16; g++) {
            int s = 0;
            for (int j = 0; j < 16; j++) s += q[b].qs[16 * g + j];
            CHECK(q[b].bsums[g] == s);
        }
        for (int j = 0; j < 8; j++)
            CHECK(q[b].bs32[j] == q[b].bsums[2 * j] + q[b].bsums[2 * j + 1]);
    }
    const nemo_kernels *ks[NEMO_CPU_LEVELS];
    int nl = n_levels(ks);
    { /* every level's quantizer gives the reference's blocks bit for bit: random magnitudes,
         ties of |x| with both signs (the first one sets the sign), tiny and zero blocks */
        enum { NB = 12 };
        static float xs[NB * 256];
        static nemo_q8k_act want[NB], got[NB];
        for (int i = 0; i < NB * 256; i++) xs[i] = frand() * ldexpf(1, (i / 256) * 3 - 20);
        xs[256 + 7] = 3, xs[256 + 9] = -3; /* tie: +3 first */
        xs[512 + 5] = -5, xs[512 + 200] = 5;
        for (int i = 768; i < 1024; i++) xs[i] = 0;
        for (int i = 1024; i < 1280; i++) xs[i] = (i % 3 - 1) * 0.5f; /* many ties, halves */
        nemo_q8k_quantize_ref(xs, want, NB * 256);
        CHECK(want[1].d < 0 && want[2].d > 0 && want[3].d == 0);
        for (int l = 0; l < nl; l++) {
            if (!ks[l]->q8k_quantize) continue;
            memset(got, 0x5a, sizeof got);
            ks[l]->q8k_quantize(xs, got, NB * 256);
            CHECK_MSG(memcmp(got, want, sizeof got) == 0, "%s q8k_quantize differs",
                      nemo_cpu_level_name(ks[l]->level));
        }
    }
    static const nemo_dtype QT[] = {NEMO_DTYPE_Q4_K, NEMO_DTYPE_Q5_K, NEMO_DTYPE_Q6_K};
    nemo_pool *p1 = nemo_pool_create(1), *p3 = nemo_pool_create(3);
    float *scratch = malloc(sizeof(float) * (size_t)nemo_cpu_matmul_scratch(3, NTOK, N));
    for (int qi = 0; qi < 3; qi++) {
        nemo_dtype t = QT[qi];
        uint64_t rb = nemo_dtype_bytes(t, N);
        uint8_t *wb = malloc(rb * ROWS);
        for (int r = 0; r < ROWS; r++) fill_row(t, wb + r * rb, N, 1);
        for (int r = 0; r < ROWS; r++) {
            nemo_dequant_row(t, wb + r * rb, wf, N);
            for (int tk = 0; tk < NTOK; tk++) {
                double exact = 0, mag = 0, bound = 0;
                for (int b = 0; b < N / 256; b++) {
                    double wsum = 0, amax = 0;
                    for (int i = b * 256; i < b * 256 + 256; i++) {
                        exact += (double)wf[i] * x[tk * N + i];
                        mag += fabs((double)wf[i] * x[tk * N + i]);
                        wsum += fabs(wf[i]);
                        amax = fmax(amax, fabs(x[tk * N + i]));
                    }
                    bound += wsum * amax / 254;
                }
                float ref = nemo_q8k_dot_ref(t, wb + r * rb, q + tk * (N / 256), N);
                CHECK_MSG(fabs(ref - exact) <= bound * 1.001 + 1e-5 * mag,
                          "%s: q8k %g vs f32 %g (bound %g)", nemo_dtype_name(t), ref, exact, bound);
                for (int l = 0; l < nl; l++) {
                    float got = ks[l]->q8k_dot[t](wb + r * rb, q + tk * (N / 256), N);
                    CHECK_MSG(test_same_bits(got, ref), "%s %s: %g vs ref %g",
                              nemo_cpu_level_name(ks[l]->level), nemo_dtype_name(t), got, ref);
                }
            }
        }
        q8k_gemm_check(t, ks, nl);
        nemo_wmat W = {wb, t, ROWS, N, rb, 1.0f};
        nemo_kernels_set_q8(1);
        for (int l = 0; l < nl; l++) {
            float y1[NTOK * ROWS], y3[NTOK * ROWS], ys[ROWS];
            CHECK(nemo_kernels_use(ks[l]->level) == 0);
            nemo_cpu_matmul(p1, y1, x, NTOK, &W, scratch);
            nemo_cpu_matmul(p3, y3, x, NTOK, &W, scratch);
            CHECK(memcmp(y1, y3, sizeof y1) == 0);
            for (int tk = 0; tk < NTOK; tk++) {
                nemo_cpu_matmul(p1, ys, x + tk * N, 1, &W, scratch);
                CHECK(memcmp(ys, y1 + tk * ROWS, sizeof ys) == 0);
                for (int r = 0; r < ROWS; r++)
                    CHECK(test_same_bits(y1[tk * ROWS + r],
                                         nemo_q8k_dot_ref(t, wb + r * rb, q + tk * (N / 256), N)));
            }
        }
        nemo_kernels_set_q8(0);
        nemo_kernels_use(NEMO_CPU_SCALAR);
        free(wb);
    }
    free(scratch);
    nemo_pool_free(p1);
    nemo_pool_free(p3);
}

/* ulps between two finite floats of the same sign (large if they differ in sign) */
static double ulps(float a, float b) {
    if (a == b) return 0;
    if ((a < 0) != (b < 0)) return 1e30;
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    return fabs((double)ia - (double)ib);
}

/* The row operations of every level against the scalar references (ops.c), with the bounds
 * stated in act_avx2.c: RoPE bitwise; rmsnorm within 2 ulp; SwiGLU within 5e-7 relative (+1e-37
 * absolute); softmax within 2e-6 relative of a double-precision softmax (the reference too);
 * and the vector e^x within 2 ulp of expf over its whole finite range. */
static void test_rowops(void) {
    const nemo_kernels *ks[NEMO_CPU_LEVELS];
    int nl = n_levels(ks);
    enum { MAXN = 5123 };
    float *x = malloc(sizeof(float) * MAXN), *w = malloc(sizeof(float) * MAXN);
    float *a = malloc(sizeof(float) * MAXN), *b = malloc(sizeof(float) * MAXN);
    float *u = malloc(sizeof(float) * MAXN);
    static const int64_t NS[] = {1, 3, 7, 8, 9, 64, 1001, MAXN};
    for (int l = 0; l < nl; l++) {
        const nemo_kernels *k = ks[l];
        const char *ln = nemo_cpu_level_name(k->level);
        for (size_t ni = 0; ni < sizeof NS / sizeof NS[0]; ni++) {
            const int64_t n = NS[ni];
            /* rmsnorm */
            for (int64_t i = 0; i < n; i++) {
                x[i] = frand() * (i % 11 == 0 ? 30.0f : 1.0f);
                w[i] = frand() + 1.0f;
            }
            nemo_cpu_rmsnorm_ref(a, x, w, n, 1e-5f);
            k->rmsnorm(b, x, w, n, 1e-5f);
            double worst = 0;
            for (int64_t i = 0; i < n; i++) worst = fmax(worst, ulps(a[i], b[i]));
            CHECK_MSG(worst <= 2, "%s rmsnorm n=%lld: %g ulp", ln, (long long)n, worst);
            /* SwiGLU over [-100, 100] plus zeros */
            for (int64_t i = 0; i < n; i++) {
                x[i] = i % 13 == 0 ? 0.0f : frand() * (i % 3 ? 100.0f : 8.0f);
                u[i] = frand();
            }
            memcpy(a, x, sizeof(float) * (size_t)n);
            memcpy(b, x, sizeof(float) * (size_t)n);
            nemo_cpu_swiglu_ref(a, u, n);
            k->swiglu(b, u, n);
            int bad = 0;
            for (int64_t i = 0; i < n; i++)
                bad += !(fabs(a[i] - b[i]) <= 5e-7 * fabs(a[i]) + 1e-37);
            CHECK_MSG(!bad, "%s swiglu n=%lld: %d values off", ln, (long long)n, bad);
            /* softmax of logits spread over ±30 (the tail underflows), against a double
             * softmax of the same float differences x[i] - max: exp within 2 ulp, and the
             * float sum's rounding, which grows like √n for these (at most 4e-7 + 1e-7·√n) */
            for (int64_t i = 0; i < n; i++) x[i] = frand() * 30.0f;
            float fmx = x[0];
            for (int64_t i = 0; i < n; i++) fmx = x[i] > fmx ? x[i] : fmx;
            double sum = 0, tol = 4e-7 + 1e-7 * sqrt((double)n), worst_a = 0, worst_b = 0;
            for (int64_t i = 0; i < n; i++) sum += exp((double)(x[i] - fmx));
            memcpy(a, x, sizeof(float) * (size_t)n);
            memcpy(b, x, sizeof(float) * (size_t)n);
            nemo_cpu_softmax_ref(a, n);
            k->softmax(b, n);
            for (int64_t i = 0; i < n; i++) {
                double want = exp((double)(x[i] - fmx)) / sum;
                if (want < 1e-30) continue; /* underflowed tail: absolute below */
                worst_a = fmax(worst_a, fabs(a[i] - want) / want);
                worst_b = fmax(worst_b, fabs(b[i] - want) / want);
            }
            bad = 0;
            for (int64_t i = 0; i < n; i++)
                bad += !(fabs(b[i] - exp((double)(x[i] - fmx)) / sum) <= 1e-30 + tol * b[i]);
            CHECK_MSG(worst_a <= tol && worst_b <= tol && !bad,
                      "%s softmax n=%lld: reference %.3g, this level %.3g relative (bound %.3g), "
                      "%d off",
                      ln, (long long)n, worst_a, worst_b, tol, bad);
            if (getenv("NEMO_TEST_VERBOSE"))
                printf("  %s softmax n=%lld: ref %.3g level %.3g bound %.3g\n", ln, (long long)n,
                       worst_a, worst_b, tol);
        }
        /* RoPE: bitwise, both pairings, head sizes with and without a < 8-pair tail */
        static const int HD[] = {2, 16, 64, 128, 130};
        for (int hi = 0; hi < 5; hi++)
            for (int halves = 0; halves < 2; halves++) {
                const int hd = HD[hi], nh = 3;
                float c[65], sn[65];
                for (int i = 0; i < hd / 2; i++) {
                    c[i] = cosf(0.37f * (float)(i + 1));
                    sn[i] = sinf(0.37f * (float)(i + 1));
                }
                for (int i = 0; i < nh * hd; i++) a[i] = b[i] = frand();
                nemo_cpu_rope_ref(a, nh, hd, c, sn, halves);
                k->rope(b, nh, hd, c, sn, halves);
                CHECK_MSG(memcmp(a, b, sizeof(float) * (size_t)(nh * hd)) == 0,
                          "%s rope hd=%d halves=%d", ln, hd, halves);
            }
    }
#if defined(__x86_64__) || defined(__i386__)
    if (nemo_kernels_for(NEMO_CPU_AVX2)) {
        double worst = 0;
        int bad = 0;
        for (double v = -110.0; v < 90.0; v += 0.0037) {
            float xs[8], ys[8];
            for (int j = 0; j < 8; j++) xs[j] = (float)v + (float)j * 1e-4f;
            nemo_exp8_avx2(xs, ys);
            for (int j = 0; j < 8; j++) {
                float want = expf(xs[j]);
                if (want >= 0x1p-126f && !isinf(want))
                    worst = fmax(worst, ulps(want, ys[j]));
                else /* subnormal or overflowing: within 2^-148 absolute, inf for inf */
                    bad += !(isinf(want) ? isinf(ys[j]) : fabsf(ys[j] - want) <= 0x1p-148f);
            }
        }
        float sp[8] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 88.7f, -87.0f, 1.0f}, sy[8];
        nemo_exp8_avx2(sp, sy);
        CHECK(isnan(sy[0]) && isinf(sy[1]) && sy[2] == 0.0f && sy[3] == 1.0f && sy[4] == 1.0f);
        CHECK(ulps(sy[5], expf(88.7f)) <= 2 && ulps(sy[6], expf(-87.0f)) <= 2);
        CHECK_MSG(worst <= 2 && !bad, "exp8: %g ulp, %d out of range values off", worst, bad);
    }
#endif
    free(x);
    free(w);
    free(a);
    free(b);
    free(u);
}

int main(void) {
    setenv("NEMO_CPU", "scalar", 1); /* read once, at the first dispatch query */
    /* test_matmul holds every dtype to the f32 reference's tolerance, so the process runs in
     * the exact mode; test_q8 / test_q8k turn q8 activations on themselves. */
    setenv("NEMO_MATMUL", "exact", 1);
    RUN(test_dispatch);
    RUN(test_to_f32_bitwise);
    RUN(test_dot);
    RUN(test_dot_row);
    RUN(test_gemm);
    RUN(test_gemm_w);
    RUN(test_axpy);
    RUN(test_rowops);
    RUN(test_matmul);
    RUN(test_q8);
    RUN(test_q8_quantize);
    RUN(test_q8_gemm);
    RUN(test_q8k);
    return test_finish();
}

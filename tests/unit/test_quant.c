/* test_quant.c — reference decoders, encoders and products of the block-quantized types,
 * against goldens from the gguf package (tests/golden/quant, scripts/golden_quant.py). */
#include "backend/cpu/dequant.h"
#include "backend/cpu/quant.h"
#include "test.h"

static const nemo_dtype QTYPES[] = {NEMO_DTYPE_Q8_0, NEMO_DTYPE_Q4_0, NEMO_DTYPE_Q4_1,
                                    NEMO_DTYPE_Q5_0, NEMO_DTYPE_Q5_1, NEMO_DTYPE_Q4_K,
                                    NEMO_DTYPE_Q5_K, NEMO_DTYPE_Q6_K};
#define N_QTYPES (int)(sizeof QTYPES / sizeof QTYPES[0])
static const nemo_dtype ENCODED[] = {NEMO_DTYPE_Q8_0, NEMO_DTYPE_Q4_0, NEMO_DTYPE_Q4_1,
                                     NEMO_DTYPE_Q5_0, NEMO_DTYPE_Q5_1};

static char *read_golden(const char *kind, nemo_dtype t, uint64_t *len) {
    char rel[256];
    snprintf(rel, sizeof rel, "tests/golden/quant/%s_%s.bin", kind, nemo_dtype_name(t));
    nemo_error err = {0};
    char *buf = NULL;
    nemo_status st = nemo_read_file(test_repo_path(rel), 1u << 24, &buf, len, &err);
    CHECK_MSG(st == NEMO_OK, "%s", err.msg);
    return buf;
}

static uint32_t rng_state = 12345;
static float frand(void) { /* uniform in [-1, 1) */
    return test_frand(&rng_state);
}
static float gauss(void) {
    float s = 0;
    for (int i = 0; i < 6; i++) s += frand();
    return s * 0.7071f;
}

/* Every golden block decodes to the gguf package's floats, bit for bit (sign of zero too). */
static void test_dequant_goldens(void) {
    for (int k = 0; k < N_QTYPES; k++) {
        nemo_dtype t = QTYPES[k];
        const nemo_dtype_traits *ti = nemo_dtype_info(t);
        uint64_t len = 0;
        char *buf = read_golden("dequant", t, &len);
        if (!buf) continue;
        uint64_t per = ti->block_bytes + 4ull * ti->block_elems;
        CHECK_MSG(len % per == 0 && len >= per, "%s: size %llu", ti->name, (unsigned long long)len);
        uint64_t nb = len / per, n = nb * ti->block_elems;
        float *want = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float));
        memcpy(want, buf + nb * ti->block_bytes, n * sizeof(float));
        CHECK(nemo_dequant_row(t, buf, got, (int64_t)n) == 0);
        int bad = 0;
        for (uint64_t i = 0; i < n && bad < 5; i++) {
            if (!test_same_bits(got[i], want[i])) {
                CHECK_MSG(0, "%s block %llu value %llu: got %a, want %a", ti->name,
                          (unsigned long long)(i / ti->block_elems),
                          (unsigned long long)(i % ti->block_elems), got[i], want[i]);
                bad++;
            }
        }
        CHECK(nb >= 30); /* the edge cases are all there */
        free(want);
        free(got);
        free(buf);
    }
}

/* The simple-type encoders write the same bytes as the reference quantizer. */
static void test_encode_goldens(void) {
    for (size_t k = 0; k < sizeof ENCODED / sizeof ENCODED[0]; k++) {
        nemo_dtype t = ENCODED[k];
        const nemo_dtype_traits *ti = nemo_dtype_info(t);
        uint64_t len = 0;
        char *buf = read_golden("quant", t, &len);
        if (!buf) continue;
        uint64_t per = ti->block_bytes + 4ull * ti->block_elems;
        CHECK(len % per == 0 && len >= per);
        uint64_t nb = len / per, n = nb * ti->block_elems;
        float *x = malloc(n * sizeof(float));
        memcpy(x, buf, n * sizeof(float));
        const uint8_t *want = (const uint8_t *)buf + n * sizeof(float);
        uint8_t *got = malloc(nb * ti->block_bytes);
        CHECK(nemo_quant_row(t, x, got, (int64_t)n) == 0);
        for (uint64_t b = 0; b < nb; b++) {
            const uint8_t *g = got + b * ti->block_bytes, *w = want + b * ti->block_bytes;
            if (memcmp(g, w, ti->block_bytes) != 0) {
                uint32_t j = 0;
                while (g[j] == w[j]) j++;
                CHECK_MSG(0, "%s case %llu: byte %u is %02x, want %02x", ti->name,
                          (unsigned long long)b, j, g[j], w[j]);
            }
        }
        free(x);
        free(got);
        free(buf);
    }
}

/* Encode then decode: every value within half a quantization step of the input (plus fp16
 * rounding of the scale), for all encoders including Q4_K. */
static void test_roundtrip_error(void) {
    enum { N = 4096 };
    float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float));
    uint8_t *q = malloc(N * 2);
    for (int i = 0; i < N; i++) x[i] = gauss() * (i < N / 2 ? 1.0f : 0.01f);
    const nemo_dtype all[] = {NEMO_DTYPE_Q8_0, NEMO_DTYPE_Q4_0, NEMO_DTYPE_Q4_1, NEMO_DTYPE_Q5_0,
                              NEMO_DTYPE_Q5_1, NEMO_DTYPE_Q4_K, NEMO_DTYPE_F16,  NEMO_DTYPE_BF16};
    /* RMS error relative to RMS of the data, per half: generous bounds for each bit width */
    const double bound[] = {0.01, 0.12, 0.10, 0.06, 0.05, 0.12, 0.001, 0.005};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        CHECK(nemo_quant_row(all[k], x, q, N) == 0);
        CHECK(nemo_dequant_row(all[k], q, y, N) == 0);
        for (int h = 0; h < 2; h++) {
            double e2 = 0, x2 = 0;
            for (int i = h * N / 2; i < (h + 1) * N / 2; i++) {
                e2 += (double)(x[i] - y[i]) * (x[i] - y[i]);
                x2 += (double)x[i] * x[i];
            }
            double rel = sqrt(e2 / x2);
            CHECK_MSG(rel < bound[k], "%s half %d: relative RMS error %g >= %g",
                      nemo_dtype_name(all[k]), h, rel, bound[k]);
        }
    }
    free(x);
    free(y);
    free(q);
}

/* Q4_K specifics: zeros stay zeros, a constant block comes back close, and the 6-bit scale
 * packing round-trips (values on the grid of sub-block scales are reproduced). */
static void test_q4_k_cases(void) {
    float x[256], y[256];
    uint8_t q[144];
    memset(x, 0, sizeof x);
    nemo_quant_q4_k(x, q, 256);
    nemo_quant_dequant_q4_k(q, y, 256);
    for (int i = 0; i < 256; i++) CHECK(y[i] == 0.0f);
    for (int i = 0; i < 256; i++) x[i] = 0.5f;
    nemo_quant_q4_k(x, q, 256);
    nemo_quant_dequant_q4_k(q, y, 256);
    for (int i = 0; i < 256; i++) CHECK_MSG(fabsf(y[i] - 0.5f) < 0.01f, "%d: %g", i, y[i]);
    /* values on a 4-bit grid (integers 0..15 times 0.25, same step in every sub-block): the
     * fit finds the grid, so only the fp16 rounding of the block scale remains */
    for (int i = 0; i < 256; i++) x[i] = (float)((i * 7) % 16) * 0.25f;
    nemo_quant_q4_k(x, q, 256);
    nemo_quant_dequant_q4_k(q, y, 256);
    for (int i = 0; i < 256; i++)
        CHECK_MSG(fabsf(y[i] - x[i]) <= 0.005f, "%d: %g vs %g", i, y[i], x[i]);
}

/* nemo_dequant_row: whole blocks only; unknown dtypes refused. */
static void test_dequant_row_contract(void) {
    uint8_t blk[256] = {0};
    float y[512];
    CHECK(nemo_dequant_row(NEMO_DTYPE_Q4_0, blk, y, 16) == -1);
    CHECK(nemo_dequant_row(NEMO_DTYPE_Q4_K, blk, y, 32) == -1);
    CHECK(nemo_dequant_row(NEMO_DTYPE_Q4_0, blk, y, 32) == 0);
    CHECK(nemo_dequant_row(NEMO_DTYPE_I32, blk, y, 4) == -1);
    CHECK(nemo_quant_row(NEMO_DTYPE_Q6_K, y, blk, 256) == -1); /* no Q6_K encoder yet */
    CHECK(nemo_quant_row(NEMO_DTYPE_Q8_0, y, blk, 31) == -1);
}

/* dot / matvec / matmul equal dequantize-then-dot, for every type. */
static void test_products(void) {
    enum { ROWS = 5, COLS = 512, NB = 3 };
    float *w = malloc(ROWS * COLS * sizeof(float)), *x = malloc(NB * COLS * sizeof(float));
    float *wd = malloc(COLS * sizeof(float)), y[NB * ROWS], yv[ROWS];
    uint8_t *wq = malloc(ROWS * COLS * 4);
    for (int i = 0; i < ROWS * COLS; i++) w[i] = gauss();
    for (int i = 0; i < NB * COLS; i++) x[i] = gauss();
    const nemo_dtype all[] = {NEMO_DTYPE_F32,  NEMO_DTYPE_F16,  NEMO_DTYPE_BF16,
                              NEMO_DTYPE_Q8_0, NEMO_DTYPE_Q4_0, NEMO_DTYPE_Q4_1,
                              NEMO_DTYPE_Q5_0, NEMO_DTYPE_Q5_1, NEMO_DTYPE_Q4_K};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        nemo_dtype t = all[k];
        uint64_t rb = nemo_dtype_bytes(t, COLS);
        for (int r = 0; r < ROWS; r++)
            CHECK(nemo_quant_row(t, w + r * COLS, wq + r * rb, COLS) == 0);
        CHECK(nemo_quant_matmul(t, wq, ROWS, COLS, x, NB, y) == 0);
        CHECK(nemo_quant_matvec(t, wq, ROWS, COLS, x, yv) == 0);
        for (int r = 0; r < ROWS; r++) {
            nemo_dequant_row(t, wq + r * rb, wd, COLS);
            for (int b = 0; b < NB; b++) {
                double ref = 0, exact = 0;
                for (int c = 0; c < COLS; c++) {
                    ref += (double)wd[c] * x[b * COLS + c];
                    exact += (double)w[r * COLS + c] * x[b * COLS + c];
                }
                CHECK_MSG(fabs(y[b * ROWS + r] - ref) <= 1e-5 * (fabs(ref) + 1), "%s r%d b%d",
                          nemo_dtype_name(t), r, b);
                /* and near the unquantized product: ~4 sigma of the quantization noise */
                CHECK_MSG(fabs(y[b * ROWS + r] - exact) < 0.12 * sqrt((double)COLS) * 4,
                          "%s r%d b%d: %g vs %g", nemo_dtype_name(t), r, b, y[b * ROWS + r], exact);
            }
            CHECK(yv[r] == y[r]);
            CHECK(nemo_quant_dot(t, wq + r * rb, x, COLS) == y[r]);
        }
    }
    CHECK(nemo_quant_matvec(NEMO_DTYPE_Q4_K, wq, ROWS, 100, x, yv) == -1); /* partial block */
    CHECK(nemo_quant_matvec(NEMO_DTYPE_I32, wq, ROWS, COLS, x, yv) == -1);
    free(w);
    free(x);
    free(wd);
    free(wq);
}

int main(void) {
    RUN(test_dequant_goldens);
    RUN(test_encode_goldens);
    RUN(test_roundtrip_error);
    RUN(test_q4_k_cases);
    RUN(test_dequant_row_contract);
    RUN(test_products);
    return test_finish();
}

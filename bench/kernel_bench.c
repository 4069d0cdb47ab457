/* kernel_bench.c — matrix-vector (decode) and matrix-matrix (prefill) speed of the CPU matmul
 * per weight dtype on Mistral NeMo 12B's shapes, at every kernel level this CPU runs, with 1
 * and 2 threads, next to the machine's measured memory-read bandwidth. Decode is bound by
 * reading the weights once per token, so GB/s of weight bytes against the read bandwidth says
 * how close a kernel is to the limit.
 *
 *   make bench-kernels && build/release/bench/kernel_bench [--quick]   (--quick: SmolLM2 shape
 * only)
 *   build/release/bench/kernel_bench --only DTYPE   (the full table for one dtype, e.g. Q4_0)
 *   build/release/bench/kernel_bench --prefill [tokens [DTYPE]]   (prefill matmul GFLOP/s and
 * tokens/s per dtype on NeMo's shapes, 1 thread, default and q8 activations; tokens default 64)
 *
 * Weights are random bits with finite block scales (speed does not depend on the values). */
#include "backend/cpu/kernels.h"
#include "backend/cpu/ops.h"
#include "core/pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rs = 88172645463325252ull;
static uint64_t xrand(void) {
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

/* ---- memory-read bandwidth probe: each thread streams its share of a 1 GiB buffer through the
 * best f32 dot kernel (dot of a slice with itself: one read stream, negligible compute) */
typedef struct {
    const float *buf;
    long n;
    float sum[64];
} probe_ctx;

static void probe_worker(void *p, int ith, int nth) {
    probe_ctx *c = p;
    long lo, hi;
    nemo_pool_split(c->n, ith, nth, &lo, &hi);
    c->sum[ith & 63] = nemo_kernels_get()->dot(c->buf + lo, c->buf + lo, hi - lo);
}

static double read_bandwidth(nemo_pool *pool) {
    long n = (1L << 30) / 4;
    float *buf = malloc((size_t)n * 4);
    if (!buf) return 0;
    for (long i = 0; i < n; i++) buf[i] = (float)(i & 255);
    probe_ctx c = {buf, n, {0}};
    double best = 1e30;
    for (int r = 0; r < 3; r++) {
        double t0 = now_s();
        nemo_pool_run(pool, probe_worker, &c);
        double t = now_s() - t0;
        if (t < best) best = t;
    }
    free(buf);
    return (double)n * 4 / best / 1e9;
}

/* fp16 scale fields of one block of t, as the test fills them */
static void fix_scales(nemo_dtype t, uint8_t *w, uint64_t bytes) {
    const nemo_dtype_traits *ti = nemo_dtype_info(t);
    int offs[2] = {-1, -1};
    switch (t) {
    case NEMO_DTYPE_Q8_0:
    case NEMO_DTYPE_Q4_0: offs[0] = 0; break;
    case NEMO_DTYPE_Q4_1:
    case NEMO_DTYPE_Q4_K:
    case NEMO_DTYPE_Q5_K:
        offs[0] = 0;
        offs[1] = 2;
        break;
    case NEMO_DTYPE_Q6_K: offs[0] = 208; break;
    case NEMO_DTYPE_F16:
    case NEMO_DTYPE_BF16:
        for (uint64_t i = 1; i < bytes; i += 2) w[i] &= 0xbf; /* finite */
        return;
    case NEMO_DTYPE_F32:
        for (uint64_t i = 3; i < bytes; i += 4) w[i] &= 0xbf;
        return;
    default: return;
    }
    for (uint64_t b = 0; b < bytes / ti->block_bytes; b++)
        for (int k = 0; k < 2; k++)
            if (offs[k] >= 0) {
                w[b * ti->block_bytes + (uint64_t)offs[k]] = 0x00;
                w[b * ti->block_bytes + (uint64_t)offs[k] + 1] = 0x1c;
            }
}

static double cpu_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Prefill only: one matmul of ntok tokens per dtype and NeMo shape, best of 3, 1 thread, timed
 * in process CPU seconds (the pool blocks rather than spins, so with 1 thread this is the
 * matmul's own time, steady on a machine shared with other jobs). */
static int prefill_main(int ntok, const char *only) {
    static const nemo_dtype types[] = {
        NEMO_DTYPE_Q4_1, NEMO_DTYPE_Q4_0, NEMO_DTYPE_Q8_0, NEMO_DTYPE_Q4_K, NEMO_DTYPE_Q5_K,
        NEMO_DTYPE_Q6_K, NEMO_DTYPE_BF16, NEMO_DTYPE_F16,  NEMO_DTYPE_F32,  NEMO_DTYPE_F8_E4M3};
    static const int shapes[][2] = {{5120, 14336}, {14336, 5120}};
    nemo_pool *pool = nemo_pool_create(1);
    char line[512];
    nemo_cpu_info(line, sizeof line);
    printf("cpu %s\n| dtype | shape (in→out) | activations | %d-token matmul CPU ms | GFLOP/s | "
           "tokens/s (this matmul) |\n|---|---|---|---:|---:|---:|\n",
           line, ntok);
    float *x = malloc(sizeof(float) * (size_t)ntok * 14336),
          *y = malloc(sizeof(float) * (size_t)ntok * 14336);
    float *scratch = malloc(sizeof(float) * (size_t)nemo_cpu_matmul_scratch(1, ntok, 14336));
    for (long i = 0; i < (long)ntok * 14336; i++)
        x[i] = (float)((int)(xrand() % 2001) - 1000) / 1000;
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++)
        for (int si = 0; si < 2; si++) {
            nemo_dtype t = types[ti];
            if (only && strcmp(only, nemo_dtype_name(t))) continue;
            int cols = shapes[si][0], rows = shapes[si][1];
            uint64_t rb = nemo_dtype_bytes(t, (uint64_t)cols), bytes = rb * (uint64_t)rows;
            uint8_t *w = malloc(bytes);
            if (!w) return 1;
            for (uint64_t i = 0; i + 8 <= bytes; i += 8) {
                uint64_t v = xrand();
                memcpy(w + i, &v, 8);
            }
            fix_scales(t, w, bytes);
            nemo_wmat W = {w, t, rows, cols, rb, 1.0f};
            for (int q8 = 0; q8 < 2; q8++) {
                nemo_kernels_set_q8(q8);
                if (q8 && !nemo_kernels_get()->q8_dot[t] && !nemo_kernels_get()->q8k_dot[t])
                    continue;
                double best = 1e30;
                for (int r = 0; r < 3; r++) {
                    double t0 = cpu_now_s();
                    nemo_cpu_matmul(pool, y, x, ntok, &W, scratch);
                    double dt = cpu_now_s() - t0;
                    if (dt < best) best = dt;
                }
                printf("| %s | %d→%d | %s | %.1f | %.1f | %.1f |\n", nemo_dtype_name(t), cols, rows,
                       q8 ? "q8" : "f32 (exact)", best * 1e3, 2.0 * rows * cols * ntok / best / 1e9,
                       ntok / best);
                fflush(stdout);
            }
            nemo_kernels_set_q8(0);
            free(w);
        }
    free(x);
    free(y);
    free(scratch);
    nemo_pool_free(pool);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--prefill"))
        return prefill_main(argc > 2 ? atoi(argv[2]) : 64, argc > 3 ? argv[3] : NULL);
    int quick = argc > 1 && !strcmp(argv[1], "--quick");
    const char *only = argc > 2 && !strcmp(argv[1], "--only") ? argv[2] : NULL;
    static const nemo_dtype types[] = {
        NEMO_DTYPE_Q8_0, NEMO_DTYPE_Q4_K, NEMO_DTYPE_BF16, NEMO_DTYPE_F16,     NEMO_DTYPE_Q4_0,
        NEMO_DTYPE_Q4_1, NEMO_DTYPE_Q6_K, NEMO_DTYPE_Q5_K, NEMO_DTYPE_F8_E4M3, NEMO_DTYPE_F32};
    /* cols, rows: NeMo's FFN up/gate, down, q/o projection; then SmolLM2-135M's FFN up and a
     * 1024-wide one for the K types (0.5-3 MB, cache resident: they measure the kernels' compute
     * speed rather than DRAM) */
    static const int shapes[][2] = {
        {5120, 14336}, {14336, 5120}, {5120, 4096}, {576, 1536}, {1024, 1536}};
    int first = quick ? 3 : 0, n_shapes = 5;
    enum { PREFILL = 32 };
    nemo_pool *pools[3] = {NULL, nemo_pool_create(1), nemo_pool_create(2)};
    char line[512];
    nemo_cpu_info(line, sizeof line);
    printf("cpu %s\n", line);
    printf("memory read bandwidth: 1 thread %.1f GB/s, 2 threads %.1f GB/s\n\n",
           read_bandwidth(pools[1]), read_bandwidth(pools[2]));
    printf("| dtype | shape (in→out) | MB | level | 1 thr GB/s | 2 thr GB/s | vs scalar (1 thr) |"
           " prefill %d tok / decode time (1 thr) |\n",
           PREFILL);
    printf("|---|---|---:|---|---:|---:|---:|---:|\n");
    float *x = malloc(sizeof(float) * PREFILL * 14336),
          *y = malloc(sizeof(float) * PREFILL * 14336);
    float *scratch = malloc(sizeof(float) * (size_t)nemo_cpu_matmul_scratch(2, PREFILL, 14336));
    for (int i = 0; i < PREFILL * 14336; i++) x[i] = (float)((int)(xrand() % 2001) - 1000) / 1000;
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        nemo_dtype t = types[ti];
        if (only && strcmp(only, nemo_dtype_name(t))) continue;
        for (int si = first; si < n_shapes; si++) {
            int cols = shapes[si][0], rows = shapes[si][1];
            if (cols % nemo_dtype_info(t)->block_elems) continue; /* K types need 256 | cols */
            uint64_t rb = nemo_dtype_bytes(t, (uint64_t)cols), bytes = rb * (uint64_t)rows;
            uint8_t *w = malloc(bytes);
            if (!w) return 1;
            for (uint64_t i = 0; i + 8 <= bytes; i += 8) {
                uint64_t v = xrand();
                memcpy(w + i, &v, 8);
            }
            fix_scales(t, w, bytes);
            nemo_wmat W = {w, t, rows, cols, rb, 1.0f};
            double scalar_gbs = 0;
            /* each level with f32 activations, then (Q8_0/Q4_0/Q4_1, K-quants) with q8 activations
             */
            for (int lq = 0; lq < 2 * NEMO_CPU_LEVELS; lq++) {
                int l = lq % NEMO_CPU_LEVELS, q8 = lq >= NEMO_CPU_LEVELS;
                if (nemo_kernels_use((nemo_cpu_level)l)) continue;
                if (q8 && !nemo_kernels_get()->q8_dot[t] && !nemo_kernels_get()->q8k_dot[t])
                    continue;
                nemo_kernels_set_q8(q8);
                double gbs[3] = {0}, pre_ratio = 0;
                for (int th = 1; th <= 2; th++) {
                    if (l == NEMO_CPU_SCALAR && !q8 && th == 2) continue;
                    int reps = (l == NEMO_CPU_SCALAR ? 2 : 5) * (bytes < (4u << 20) ? 50 : 1);
                    double best = 1e30;
                    nemo_cpu_matmul(pools[th], y, x, 1, &W, scratch); /* warm */
                    for (int r = 0; r < reps; r++) {
                        double t0 = now_s();
                        nemo_cpu_matmul(pools[th], y, x, 1, &W, scratch);
                        double dt = now_s() - t0;
                        if (dt < best) best = dt;
                    }
                    gbs[th] = (double)bytes / best / 1e9;
                    if (th == 1 && (l != NEMO_CPU_SCALAR || q8)) {
                        double pbest = 1e30;
                        for (int r = 0; r < 3; r++) { /* first run warms y's pages */
                            double t0 = now_s();
                            nemo_cpu_matmul(pools[1], y, x, PREFILL, &W, scratch);
                            double dt = now_s() - t0;
                            if (dt < pbest) pbest = dt;
                        }
                        pre_ratio = pbest / best;
                    }
                }
                if (l == NEMO_CPU_SCALAR && !q8) scalar_gbs = gbs[1];
                char two[32] = "-", ratio[32] = "1.00x", pre[32] = "-";
                if (gbs[2] > 0) snprintf(two, sizeof two, "%.2f", gbs[2]);
                if ((l != NEMO_CPU_SCALAR || q8) && scalar_gbs > 0)
                    snprintf(ratio, sizeof ratio, "%.2fx", gbs[1] / scalar_gbs);
                if (pre_ratio > 0) snprintf(pre, sizeof pre, "%.1fx", pre_ratio);
                printf("| %s | %d→%d | %.0f | %s%s | %.2f | %s | %s | %s |\n", nemo_dtype_name(t),
                       cols, rows, (double)bytes / 1e6, nemo_cpu_level_name((nemo_cpu_level)l),
                       q8 ? "+q8" : "", gbs[1], two, ratio, pre);
                fflush(stdout);
            }
            nemo_kernels_set_q8(0);
            free(w);
        }
    }
    free(x);
    free(y);
    free(scratch);
    nemo_pool_free(pools[1]);
    nemo_pool_free(pools[2]);
    return 0;
}

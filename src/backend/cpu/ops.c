/* ops.c — CPU operations of the forward pass. The matmul and the dot products go through the
 * kernel table of the running CPU (kernels.h); nemo_cpu_dot_ref is the plain-C reference the
 * scalar level uses. Everything is exact first (f32 accumulation, FP32 softmax) and fast second
 * (threaded matmul that streams each weight row once and reuses it for every token). */
#include "backend/cpu/ops.h"

#include "backend/cpu/kernels.h"

#include <math.h>

void nemo_cpu_rmsnorm_ref(float *o, const float *x, const float *w, int64_t dim, float eps) {
    double ss = 0; /* double: the mean of squares is the one reduction where f32 drifts */
    for (int64_t i = 0; i < dim; i++) ss += (double)x[i] * x[i];
    float r = 1.0f / sqrtf((float)(ss / (double)dim) + eps);
    for (int64_t i = 0; i < dim; i++) o[i] = (x[i] * r) * w[i];
}

void nemo_cpu_rmsnorm(float *out, const float *x, const float *w, int n, int dim, float eps) {
    const nemo_kernels *k = nemo_kernels_get();
    for (int t = 0; t < n; t++)
        k->rmsnorm(out + (int64_t)t * dim, x + (int64_t)t * dim, w, dim, eps);
}

float nemo_cpu_dot_ref(const float *a, const float *b, int64_t n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
        s4 += a[i + 4] * b[i + 4];
        s5 += a[i + 5] * b[i + 5];
        s6 += a[i + 6] * b[i + 6];
        s7 += a[i + 7] * b[i + 7];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return ((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7));
}

float nemo_cpu_dot(const float *a, const float *b, int64_t n) {
    return nemo_kernels_get()->dot(a, b, n);
}

void nemo_cpu_axpy(float *y, float a, const float *x, int64_t n) {
    nemo_kernels_get()->axpy(y, a, x, n);
}

typedef struct {
    float *y;
    const float *x;
    int n;
    const nemo_wmat *W;
    float *scratch;
    const nemo_kernels *k;
} matmul_ctx;

/* Rows in blocks of NEMO_MATMUL_ROWS: the block is converted to f32 once (into this thread's
 * scratch, where it stays in cache) and the gemm kernel multiplies it with every token (its
 * register blocking reuses each weight load for several tokens). One token (decode) uses the
 * fused dot_row kernel instead. gemm, dot and dot_row give bitwise equal results per (row,
 * token), so neither the block a row falls in (set by the thread split) nor the number of
 * tokens changes any output value. */
static void matmul_worker(void *p, int ith, int nth) {
    matmul_ctx *c = p;
    const nemo_wmat *W = c->W;
    const nemo_kernels *k = c->k;
    const int64_t cols = W->cols, rows = W->rows;
    long lo, hi;
    nemo_pool_split((long)rows, ith, nth, &lo, &hi);
    float *buf = c->scratch + (int64_t)ith * NEMO_MATMUL_ROWS * cols;
    nemo_to_f32_fn conv = k->to_f32[W->dtype];
    nemo_dot_row_fn fused = k->dot_row[W->dtype];
    if (c->n == 1 && fused) { /* decode: straight from the encoded rows, no f32 copy */
        for (long r = lo; r < hi; r++)
            c->y[r] =
                W->scale * fused((const uint8_t *)W->data + (uint64_t)r * W->row_bytes, c->x, cols);
        return;
    }
    /* prefill straight from the encoded rows: its area is the scratch's last nth slices */
    const int64_t gw = nemo_gemm_w_floats(cols, c->n);
    if (k->gemm_w && conv && gw &&
        !k->gemm_w(W->dtype, conv, (const uint8_t *)W->data + (uint64_t)lo * W->row_bytes,
                   (int64_t)W->row_bytes, (int)(hi - lo), c->x, cols, c->n, cols, c->y + lo, rows,
                   W->scale,
                   c->scratch + nemo_cpu_matmul_scratch(nth, c->n, cols) - (nth - ith) * gw, gw))
        return;
    for (long r = lo; r < hi; r += NEMO_MATMUL_ROWS) {
        int nr = hi - r < NEMO_MATMUL_ROWS ? (int)(hi - r) : NEMO_MATMUL_ROWS;
        const uint8_t *src = (const uint8_t *)W->data + (uint64_t)r * W->row_bytes;
        const float *wr = buf;
        int64_t ldw = cols;
        if (W->dtype == NEMO_DTYPE_F32) {
            wr = (const float *)src;
            ldw = (int64_t)(W->row_bytes / sizeof(float));
        } else {
            for (int i = 0; i < nr; i++)
                conv(src + (uint64_t)i * W->row_bytes, buf + i * cols, cols);
        }
        k->gemm(wr, ldw, nr, c->x, cols, c->n, cols, c->y + r, rows, W->scale);
    }
}

/* ---- q8 activations (the default; off under NEMO_MATMUL=exact): quantize each token once (threads
 * split tokens) to q8_1 blocks (Q8_0/Q4_0/Q4_1 weights) or Q8_K super-blocks (K-quants), then
 * integer dot products per row; each output still depends only on its own row and token. */
static void *q8_area(const matmul_ctx *c, int nth) {
    return c->scratch + (int64_t)nth * NEMO_MATMUL_ROWS * c->W->cols;
}

static int is_kquant(nemo_dtype t) {
    return t == NEMO_DTYPE_Q4_K || t == NEMO_DTYPE_Q5_K || t == NEMO_DTYPE_Q6_K;
}

static void q8_quantize_worker(void *p, int ith, int nth) {
    matmul_ctx *c = p;
    const int64_t cols = c->W->cols;
    long lo, hi;
    nemo_pool_split(c->n, ith, nth, &lo, &hi);
    if (is_kquant(c->W->dtype)) {
        nemo_q8k_act *q = q8_area(c, nth);
        for (long t = lo; t < hi; t++)
            nemo_q8k_quantize(c->x + t * cols, q + t * (cols / 256), cols);
    } else {
        nemo_q8_act *q = q8_area(c, nth);
        for (long t = lo; t < hi; t++) nemo_q8_quantize(c->x + t * cols, q + t * (cols / 32), cols);
    }
}

/* Rows [lo, hi) times every token: the level's gemm (AVX2: 8- and 16-row tiles, for one token
 * too), else its dot per row and token; both give the same bits (kernels.h). */
#define Q8_ROWS(ACT, BLOCK, GEMM, DOT)                                                             \
    do {                                                                                           \
        const ACT *q = q8_area(c, nth);                                                            \
        const int64_t nb = cols / (BLOCK);                                                         \
        const uint8_t *w0 = (const uint8_t *)W->data + (uint64_t)lo * W->row_bytes;                \
        if (GEMM) {                                                                                \
            (GEMM)(w0, (int64_t)W->row_bytes, (int)(hi - lo), q, nb, c->n, cols, c->y + lo, rows,  \
                   W->scale);                                                                      \
            return;                                                                                \
        }                                                                                          \
        for (long r = lo; r < hi; r++)                                                             \
            for (int t = 0; t < c->n; t++)                                                         \
                c->y[(int64_t)t * rows + r] =                                                      \
                    W->scale * (DOT)(w0 + (uint64_t)(r - lo) * W->row_bytes, q + t * nb, cols);    \
    } while (0)

static void q8_matmul_worker(void *p, int ith, int nth) {
    matmul_ctx *c = p;
    const nemo_wmat *W = c->W;
    const int64_t cols = W->cols, rows = W->rows;
    long lo, hi;
    nemo_pool_split((long)rows, ith, nth, &lo, &hi);
    if (is_kquant(W->dtype))
        Q8_ROWS(nemo_q8k_act, 256, c->k->q8k_gemm[W->dtype], c->k->q8k_dot[W->dtype]);
    else
        Q8_ROWS(nemo_q8_act, 32, c->k->q8_gemm[W->dtype], c->k->q8_dot[W->dtype]);
}

int64_t nemo_cpu_matmul_scratch(int n_threads, int n, int64_t cols) {
    int64_t q8 = (cols / 32 + 1) * (int64_t)sizeof(nemo_q8_act),
            q8k = (cols / 256 + 1) * (int64_t)sizeof(nemo_q8k_act);
    int64_t q8_bytes = (int64_t)n * (q8 > q8k ? q8 : q8k);
    return (int64_t)n_threads * NEMO_MATMUL_ROWS * cols + (q8_bytes + 3) / 4 +
           n_threads * nemo_gemm_w_floats(cols, n); /* last: the gemm_w areas (matmul_worker) */
}

void nemo_cpu_matmul(nemo_pool *pool, float *y, const float *x, int n, const nemo_wmat *W,
                     float *scratch) {
    matmul_ctx c = {y, x, n, W, scratch, nemo_kernels_get()};
    if (nemo_kernels_q8() && ((c.k->q8_dot[W->dtype] && W->cols % 32 == 0) ||
                              (c.k->q8k_dot[W->dtype] && W->cols % 256 == 0))) {
        nemo_pool_run(pool, q8_quantize_worker, &c);
        nemo_pool_run(pool, q8_matmul_worker, &c);
        return;
    }
    nemo_pool_run(pool, matmul_worker, &c);
}

void nemo_cpu_rope_ref(float *x, int n_heads, int hd, const float *c, const float *s, int halves) {
    int half = hd / 2;
    for (int h = 0; h < n_heads; h++) {
        float *v = x + (int64_t)h * hd;
        for (int i = 0; i < half; i++) {
            int a = halves ? i : 2 * i, b = halves ? i + half : 2 * i + 1;
            float x0 = v[a], x1 = v[b];
            v[a] = x0 * c[i] - x1 * s[i];
            v[b] = x1 * c[i] + x0 * s[i];
        }
    }
}

void nemo_cpu_rope(float *x, int n_heads, int head_dim, int pos, float theta, int halves) {
    enum { MAXHALF = 512 };
    float c[MAXHALF], s[MAXHALF];
    int half = head_dim / 2;
    for (int i0 = 0; i0 < half; i0 += MAXHALF) { /* heads wider than 1024 in slices */
        int m = half - i0 < MAXHALF ? half - i0 : MAXHALF;
        for (int i = 0; i < m; i++) {
            /* FP32 throughout, as both references compute the table. */
            float inv_freq = 1.0f / powf(theta, (float)(2 * (i0 + i)) / (float)head_dim);
            float ang = (float)pos * inv_freq;
            c[i] = cosf(ang);
            s[i] = sinf(ang);
        }
        if (m == half) {
            nemo_kernels_get()->rope(x, n_heads, head_dim, c, s, halves);
            return;
        }
        for (int h = 0; h < n_heads; h++) { /* sliced: the reference rotation, pair by pair */
            float *v = x + (int64_t)h * head_dim;
            for (int i = 0; i < m; i++) {
                int a = halves ? i0 + i : 2 * (i0 + i), b = halves ? i0 + i + half : a + 1;
                float x0 = v[a], x1 = v[b];
                v[a] = x0 * c[i] - x1 * s[i];
                v[b] = x1 * c[i] + x0 * s[i];
            }
        }
    }
}

void nemo_cpu_swiglu_ref(float *gate, const float *up, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float g = gate[i];
        gate[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

void nemo_cpu_swiglu(float *gate, const float *up, int64_t n) {
    nemo_kernels_get()->swiglu(gate, up, n);
}

void nemo_cpu_softmax_ref(float *x, int64_t n) {
    if (n <= 0) return;
    float mx = x[0];
    for (int64_t i = 1; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    float sum = 0;
    for (int64_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - mx);
        sum += x[i];
    }
    float inv = 1.0f / sum;
    for (int64_t i = 0; i < n; i++) x[i] *= inv;
}

void nemo_cpu_softmax(float *x, int n) {
    nemo_kernels_get()->softmax(x, n);
}

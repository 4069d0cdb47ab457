/* kernels_scalar.c — the portable kernel table: the reference functions of ops.c and
 * dequant.c, so the scalar level is exactly today's plain-C numerics. */
#include "backend/cpu/dequant.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/ops.h"

static void dot4_scalar(const float *w, int64_t ldw, const float *x, int64_t n, float out[4]) {
    for (int r = 0; r < 4; r++) out[r] = nemo_cpu_dot_ref(w + r * ldw, x, n);
}

static void gemm_scalar(const float *w, int64_t ldw, int nr, const float *x, int64_t ldx, int nt,
                        int64_t n, float *y, int64_t ldy, float scale) {
    for (int r = 0; r < nr; r++)
        for (int t = 0; t < nt; t++)
            y[t * ldy + r] = scale * nemo_cpu_dot_ref(w + r * ldw, x + t * ldx, n);
}

static void axpy_scalar(float *y, float a, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

#define CONV(name, T)                                                                              \
    static void name(const void *src, float *dst, int64_t n) {                                     \
        nemo_dequant_row(T, src, dst, n);                                                          \
    }
CONV(f32_row, NEMO_DTYPE_F32)
CONV(f16_row, NEMO_DTYPE_F16)
CONV(bf16_row, NEMO_DTYPE_BF16)
CONV(fp8_row, NEMO_DTYPE_F8_E4M3)
CONV(q8_0_row, NEMO_DTYPE_Q8_0)
CONV(q4_0_row, NEMO_DTYPE_Q4_0)
CONV(q4_1_row, NEMO_DTYPE_Q4_1)
CONV(q5_0_row, NEMO_DTYPE_Q5_0)
CONV(q5_1_row, NEMO_DTYPE_Q5_1)
CONV(q4_k_row, NEMO_DTYPE_Q4_K)
CONV(q5_k_row, NEMO_DTYPE_Q5_K)
CONV(q6_k_row, NEMO_DTYPE_Q6_K)

#define Q8DOT(name, T)                                                                             \
    static float name(const void *row, const nemo_q8_act *x, int64_t n) {                          \
        return nemo_q8_dot_ref(T, row, x, n);                                                      \
    }
Q8DOT(q8_0_q8, NEMO_DTYPE_Q8_0)
Q8DOT(q4_0_q8, NEMO_DTYPE_Q4_0)
Q8DOT(q4_1_q8, NEMO_DTYPE_Q4_1)

#define Q8KDOT(name, T)                                                                            \
    static float name(const void *row, const nemo_q8k_act *x, int64_t n) {                         \
        return nemo_q8k_dot_ref(T, row, x, n);                                                     \
    }
Q8KDOT(q4_k_q8k, NEMO_DTYPE_Q4_K)
Q8KDOT(q5_k_q8k, NEMO_DTYPE_Q5_K)
Q8KDOT(q6_k_q8k, NEMO_DTYPE_Q6_K)

static const nemo_kernels K = {
    .level = NEMO_CPU_SCALAR,
    .dot = nemo_cpu_dot_ref,
    .dot4 = dot4_scalar,
    .gemm = gemm_scalar,
    .axpy = axpy_scalar,
    .rmsnorm = nemo_cpu_rmsnorm_ref,
    .swiglu = nemo_cpu_swiglu_ref,
    .softmax = nemo_cpu_softmax_ref,
    .rope = nemo_cpu_rope_ref,
    .to_f32 =
        {
            [NEMO_DTYPE_F32] = f32_row,
            [NEMO_DTYPE_F16] = f16_row,
            [NEMO_DTYPE_BF16] = bf16_row,
            [NEMO_DTYPE_F8_E4M3] = fp8_row,
            [NEMO_DTYPE_Q8_0] = q8_0_row,
            [NEMO_DTYPE_Q4_0] = q4_0_row,
            [NEMO_DTYPE_Q4_1] = q4_1_row,
            [NEMO_DTYPE_Q5_0] = q5_0_row,
            [NEMO_DTYPE_Q5_1] = q5_1_row,
            [NEMO_DTYPE_Q4_K] = q4_k_row,
            [NEMO_DTYPE_Q5_K] = q5_k_row,
            [NEMO_DTYPE_Q6_K] = q6_k_row,
        },
    .q8_dot =
        {
            [NEMO_DTYPE_Q8_0] = q8_0_q8,
            [NEMO_DTYPE_Q4_0] = q4_0_q8,
            [NEMO_DTYPE_Q4_1] = q4_1_q8,
        },
    .q8k_dot =
        {
            [NEMO_DTYPE_Q4_K] = q4_k_q8k,
            [NEMO_DTYPE_Q5_K] = q5_k_q8k,
            [NEMO_DTYPE_Q6_K] = q6_k_q8k,
        },
};

const nemo_kernels *nemo_kernels_scalar(void) {
    return &K;
}

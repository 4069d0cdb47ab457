/* q8k.h — activations quantized per 256-value super-block the way ggml does for its K-quant
 * integer dot products (ggml's block_q8_K): one f32 scale, 256 int8 values and the sums of each
 * 16-value group (which fold the Q4_K/Q5_K minimums and the Q6_K offset into integer math).
 * Weight rows of Q4_K / Q5_K / Q6_K then multiply in integers (the default; not under
 * NEMO_MATMUL=exact).
 *
 * Numerics: every kernel (scalar reference and SIMD) computes the same exact int32 sums per
 * super-block and then the same float operations in the same order, so all levels give bitwise
 * equal results (the integer sums cannot overflow: at most 8·63·32·31·127 < 2^31). */
#ifndef NEMO_Q8K_H
#define NEMO_Q8K_H

#include "core/core.h"

typedef struct {
    float d;           /* value = d · qs */
    int8_t qs[256];    /* in -127..127 */
    int16_t bsums[16]; /* sum of qs[16g .. 16g + 16) */
    int16_t bs32[8];   /* bsums[2j] + bsums[2j + 1]: the 32-value sums (Q4_K / Q5_K minimums) */
} nemo_q8k_act;

/* x[n] (n a multiple of 256) → n/256 blocks, as ggml's quantize_row_q8_K_ref: the value of
 * largest magnitude maps to -127 (d = -max/127), q = round-to-nearest-even(x/d), all-zero
 * blocks get d = 0. */
void nemo_q8k_quantize(const float *x, nemo_q8k_act *y, int64_t n);
/* The scalar reference of it; nemo_q8k_quantize uses the kernel table's q8k_quantize (bitwise
 * the same blocks) unless the scalar level is in use. */
void nemo_q8k_quantize_ref(const float *x, nemo_q8k_act *y, int64_t n);

/* Scalar reference of sum_i row[i]·x[i] for a Q4_K, Q5_K or Q6_K weight row; NAN for another
 * type. Per super-block: isum (and msum, the minimums' term) exactly in int32, then
 * sum = (sum + (d·x.d)·isum) − (dmin·x.d)·msum. */
float nemo_q8k_dot_ref(nemo_dtype t, const void *row, const nemo_q8k_act *x, int64_t n);

/* The integer 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block's scales[12]. */
static inline void nemo_k4_scale_min(int j, const uint8_t *q, int *sc, int *mn) {
    if (j < 4) {
        *sc = q[j] & 63;
        *mn = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
        *mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

#endif

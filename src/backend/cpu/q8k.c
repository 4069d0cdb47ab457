/* q8k.c — Q8_K activation quantization (ggml's reference) and the scalar reference integer dot
 * products of Q4_K / Q5_K / Q6_K rows with it (layouts in quant.h). */
#include "backend/cpu/q8k.h"

#include "backend/cpu/kernels.h"

#include <math.h>
#include <string.h>

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

void nemo_q8k_quantize(const float *x, nemo_q8k_act *y, int64_t n) {
    const nemo_kernels *k = nemo_kernels_get();
    if (k->level != NEMO_CPU_SCALAR && k->q8k_quantize) {
        k->q8k_quantize(x, y, n);
        return;
    }
    nemo_q8k_quantize_ref(x, y, n);
}

void nemo_q8k_quantize_ref(const float *x, nemo_q8k_act *y, int64_t n) {
    for (int64_t b = 0; b < n / 256; b++, x += 256, y++) {
        float amax = 0, max = 0;
        for (int j = 0; j < 256; j++)
            if (fabsf(x[j]) > amax) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        memset(y, 0, sizeof *y);
        if (amax == 0) continue;
        const float iscale = -127.f / max;
        for (int j = 0; j < 256; j++) {
            long v = lrintf(iscale * x[j]); /* nearest, ties to even (ggml's nearest_int) */
            y->qs[j] = (int8_t)(v > 127 ? 127 : v);
        }
        for (int g = 0; g < 16; g++) {
            int s = 0;
            for (int j = 0; j < 16; j++) s += y->qs[16 * g + j];
            y->bsums[g] = (int16_t)s;
        }
        for (int j = 0; j < 8; j++) y->bs32[j] = (int16_t)(y->bsums[2 * j] + y->bsums[2 * j + 1]);
        y->d = 1 / iscale;
    }
}

static float h(const uint8_t *p) {
    return nemo_f16_to_f32((uint16_t)(p[0] | p[1] << 8));
}

/* value l (0..31) of 32-value chunk j of a K-quant super-block, as an unsigned integer */
static int q4k_val(const uint8_t *b, int j, int l) {
    const uint8_t q = b[16 + 32 * (j / 2) + l];
    return j & 1 ? q >> 4 : q & 15;
}

static int q5k_val(const uint8_t *b, int j, int l) {
    const uint8_t q = b[48 + 32 * (j / 2) + l];
    return (j & 1 ? q >> 4 : q & 15) + ((b[16 + l] >> j) & 1) * 16;
}

/* Q6_K: 0..63 (the -32 offset is applied by the caller) */
static int q6k_val(const uint8_t *b, int j, int l) {
    const int half = j / 4, w = j % 4;
    const uint8_t ql = b[64 * half + 32 * (w & 1) + l], qh = b[128 + 32 * half + l];
    return (w >= 2 ? ql >> 4 : ql & 15) | ((qh >> (2 * w)) & 3) << 4;
}

float nemo_q8k_dot_ref(nemo_dtype t, const void *row, const nemo_q8k_act *x, int64_t n) {
    const uint8_t *b = row;
    float sum = 0;
    for (int64_t i = 0; i < n / 256; i++, x++) {
        int32_t isum = 0, msum = 0;
        switch (t) {
        case NEMO_DTYPE_Q4_K:
        case NEMO_DTYPE_Q5_K:
            for (int j = 0; j < 8; j++) {
                int sc, mn, s = 0;
                nemo_k4_scale_min(j, b + 4, &sc, &mn);
                for (int l = 0; l < 32; l++)
                    s += (t == NEMO_DTYPE_Q4_K ? q4k_val(b, j, l) : q5k_val(b, j, l)) *
                         x->qs[32 * j + l];
                isum += sc * s;
                msum += mn * (x->bsums[2 * j] + x->bsums[2 * j + 1]);
            }
            sum = (sum + (h(b) * x->d) * (float)isum) - (h(b + 2) * x->d) * (float)msum;
            b += t == NEMO_DTYPE_Q4_K ? 144 : 176;
            break;
        case NEMO_DTYPE_Q6_K:
            for (int j = 0; j < 8; j++) {
                const int8_t *sc = (const int8_t *)(b + 192 + 8 * (j / 4)) + 2 * (j % 4);
                for (int g = 0; g < 2; g++) {
                    int s = 0;
                    for (int l = 16 * g; l < 16 * g + 16; l++)
                        s += (q6k_val(b, j, l) - 32) * x->qs[32 * j + l];
                    isum += sc[g] * s;
                }
            }
            sum = sum + (h(b + 208) * x->d) * (float)isum;
            b += 210;
            break;
        default: return NAN;
        }
    }
    return sum;
}

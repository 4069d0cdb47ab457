/* quant_act.c — activation quantization (ggml's q8_1 reference) and the scalar reference
 * integer dot products of Q8_0 / Q4_0 / Q4_1 rows with it. */
#include "backend/cpu/quant_act.h"

#include "backend/cpu/kernels.h"

#include <math.h>

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

void nemo_q8_quantize(const float *x, nemo_q8_act *y, int64_t n) {
#if defined(__x86_64__) || defined(__i386__)
    if (nemo_kernels_get()->level >= NEMO_CPU_AVX2) {
        nemo_q8_quantize_avx2(x, y, n);
        return;
    }
#endif
    nemo_q8_quantize_ref(x, y, n);
}

void nemo_q8_quantize_ref(const float *x, nemo_q8_act *y, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, x += 32, y++) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127, id = d ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            y->qs[j] = (int8_t)roundf(x[j] * id);
            sum += y->qs[j];
        }
        y->sum = sum;
        y->d = nemo_f32_to_f16(d);
        y->s = nemo_f32_to_f16((float)sum * d);
        y->df = nemo_f16_to_f32(y->d);
        y->sf = nemo_f16_to_f32(y->s);
    }
}

static float h(const uint8_t *p) {
    return nemo_f16_to_f32((uint16_t)(p[0] | p[1] << 8));
}

float nemo_q8_dot_ref(nemo_dtype t, const void *row, const nemo_q8_act *x, int64_t n) {
    const uint8_t *b = row;
    float sum = 0;
    for (int64_t i = 0; i < n / 32; i++, x++) {
        const float dx = nemo_f16_to_f32(x->d);
        int sumi = 0;
        switch (t) {
        case NEMO_DTYPE_Q8_0:
            for (int j = 0; j < 32; j++) sumi += (int8_t)b[2 + j] * x->qs[j];
            sum += (h(b) * dx) * (float)sumi;
            b += 34;
            break;
        case NEMO_DTYPE_Q4_0:
            for (int j = 0; j < 16; j++)
                sumi += ((b[2 + j] & 15) - 8) * x->qs[j] + ((b[2 + j] >> 4) - 8) * x->qs[j + 16];
            sum += (h(b) * dx) * (float)sumi;
            b += 18;
            break;
        case NEMO_DTYPE_Q4_1:
            for (int j = 0; j < 16; j++)
                sumi += (b[4 + j] & 15) * x->qs[j] + (b[4 + j] >> 4) * x->qs[j + 16];
            sum += (h(b) * dx) * (float)sumi + h(b + 2) * nemo_f16_to_f32(x->s);
            b += 20;
            break;
        default: return NAN;
        }
    }
    return sum;
}

/* dequant.c — row conversion of the plain float dtypes; block-quantized types dispatch to
 * their reference decoders (quant.h). */
#include "backend/cpu/dequant.h"

int nemo_dequant_row(nemo_dtype t, const void *src, float *dst, int64_t n) {
    switch (t) {
    case NEMO_DTYPE_F32: memcpy(dst, src, (size_t)n * sizeof(float)); return 0;
    case NEMO_DTYPE_F16: {
        const uint16_t *s = src;
        for (int64_t i = 0; i < n; i++) dst[i] = nemo_f16_to_f32(s[i]);
        return 0;
    }
    case NEMO_DTYPE_BF16: {
        const uint16_t *s = src;
        for (int64_t i = 0; i < n; i++) dst[i] = nemo_bf16_to_f32(s[i]);
        return 0;
    }
    case NEMO_DTYPE_F8_E4M3: {
        const uint8_t *s = src;
        for (int64_t i = 0; i < n; i++) dst[i] = nemo_fp8_e4m3_to_f32(s[i]);
        return 0;
    }
    default: return -1;
    }
}

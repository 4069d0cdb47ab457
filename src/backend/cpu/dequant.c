/* dequant.c — row conversion of the plain float dtypes; block-quantized types dispatch to
 * their reference decoders (quant.h). */
#include "backend/cpu/dequant.h"

#include "backend/cpu/quant.h"

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
    case NEMO_DTYPE_Q8_0:
    case NEMO_DTYPE_Q4_0:
    case NEMO_DTYPE_Q4_1:
    case NEMO_DTYPE_Q5_0:
    case NEMO_DTYPE_Q5_1:
    case NEMO_DTYPE_Q4_K:
    case NEMO_DTYPE_Q5_K:
    case NEMO_DTYPE_Q6_K: break;
    default: return -1;
    }
    /* block types: only whole blocks can be decoded */
    if (n < 0 || n % nemo_dtype_info(t)->block_elems) return -1;
    switch (t) {
    case NEMO_DTYPE_Q8_0: nemo_quant_dequant_q8_0(src, dst, n); break;
    case NEMO_DTYPE_Q4_0: nemo_quant_dequant_q4_0(src, dst, n); break;
    case NEMO_DTYPE_Q4_1: nemo_quant_dequant_q4_1(src, dst, n); break;
    case NEMO_DTYPE_Q5_0: nemo_quant_dequant_q5_0(src, dst, n); break;
    case NEMO_DTYPE_Q5_1: nemo_quant_dequant_q5_1(src, dst, n); break;
    case NEMO_DTYPE_Q4_K: nemo_quant_dequant_q4_k(src, dst, n); break;
    case NEMO_DTYPE_Q5_K: nemo_quant_dequant_q5_k(src, dst, n); break;
    case NEMO_DTYPE_Q6_K: nemo_quant_dequant_q6_k(src, dst, n); break;
    default: return -1;
    }
    return 0;
}

/* quant.c — reference decoders of ggml's block-quantized types (layouts drawn in quant.h) and
 * the reference dot / matvec / matmul on quantized rows.
 *
 * The decoders evaluate each value with the same float operations in the same order as ggml's
 * reference dequantize_row_* (e.g. Q4_K computes d·sc once per sub-block, then (d·sc)·q − dmin·m),
 * so the results are bitwise identical; this needs floating-point contraction off (no fused
 * multiply-add), which is GCC's default in ISO C mode and set explicitly for clang below. */
#include "backend/cpu/quant.h"

#include "backend/cpu/dequant.h"

#include <math.h>

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* Reads an fp16 at an arbitrary (possibly unaligned) address. */
static inline float ld_f16(const uint8_t *p) {
    uint16_t h = (uint16_t)(p[0] | (p[1] << 8));
    return nemo_f16_to_f32(h);
}

void nemo_quant_dequant_q8_0(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / NEMO_QK; i++, b += 34, dst += NEMO_QK) {
        const float d = ld_f16(b);
        for (int j = 0; j < NEMO_QK; j++) dst[j] = (float)(int8_t)b[2 + j] * d;
    }
}

void nemo_quant_dequant_q4_0(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / NEMO_QK; i++, b += 18, dst += NEMO_QK) {
        const float d = ld_f16(b);
        const uint8_t *qs = b + 2;
        for (int j = 0; j < NEMO_QK / 2; j++) {
            dst[j] = (float)((qs[j] & 0x0F) - 8) * d;
            dst[j + NEMO_QK / 2] = (float)((qs[j] >> 4) - 8) * d;
        }
    }
}

void nemo_quant_dequant_q4_1(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / NEMO_QK; i++, b += 20, dst += NEMO_QK) {
        const float d = ld_f16(b), m = ld_f16(b + 2);
        const uint8_t *qs = b + 4;
        for (int j = 0; j < NEMO_QK / 2; j++) {
            dst[j] = (float)(qs[j] & 0x0F) * d + m;
            dst[j + NEMO_QK / 2] = (float)(qs[j] >> 4) * d + m;
        }
    }
}

static inline uint32_t ld_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void nemo_quant_dequant_q5_0(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / NEMO_QK; i++, b += 22, dst += NEMO_QK) {
        const float d = ld_f16(b);
        const uint32_t qh = ld_u32(b + 2);
        const uint8_t *qs = b + 6;
        for (int j = 0; j < NEMO_QK / 2; j++) {
            const int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;
            dst[j] = (float)(((qs[j] & 0x0F) | h0 << 4) - 16) * d;
            dst[j + NEMO_QK / 2] = (float)(((qs[j] >> 4) | h1 << 4) - 16) * d;
        }
    }
}

void nemo_quant_dequant_q5_1(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / NEMO_QK; i++, b += 24, dst += NEMO_QK) {
        const float d = ld_f16(b), m = ld_f16(b + 2);
        const uint32_t qh = ld_u32(b + 4);
        const uint8_t *qs = b + 8;
        for (int j = 0; j < NEMO_QK / 2; j++) {
            const int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;
            dst[j] = (float)((qs[j] & 0x0F) | h0 << 4) * d + m;
            dst[j + NEMO_QK / 2] = (float)((qs[j] >> 4) | h1 << 4) * d + m;
        }
    }
}

/* The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block (packing in quant.h). */
static inline void scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *mn) {
    if (j < 4) {
        *sc = q[j] & 63;
        *mn = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4));
        *mn = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

void nemo_quant_dequant_q4_k(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / NEMO_QK_K; i++, b += 144) {
        const float d = ld_f16(b), dmin = ld_f16(b + 2);
        const uint8_t *scales = b + 4, *q = b + 16;
        for (int c = 0; c < 4; c++, q += 32) {
            uint8_t sc, mn;
            scale_min_k4(2 * c, scales, &sc, &mn);
            const float d1 = d * sc, m1 = dmin * mn;
            scale_min_k4(2 * c + 1, scales, &sc, &mn);
            const float d2 = d * sc, m2 = dmin * mn;
            for (int l = 0; l < 32; l++) *dst++ = d1 * (float)(q[l] & 0x0F) - m1;
            for (int l = 0; l < 32; l++) *dst++ = d2 * (float)(q[l] >> 4) - m2;
        }
    }
}

void nemo_quant_dequant_q5_k(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / NEMO_QK_K; i++, b += 176) {
        const float d = ld_f16(b), dmin = ld_f16(b + 2);
        const uint8_t *scales = b + 4, *qh = b + 16, *ql = b + 48;
        for (int c = 0; c < 4; c++, ql += 32) {
            uint8_t sc, mn;
            scale_min_k4(2 * c, scales, &sc, &mn);
            const float d1 = d * sc, m1 = dmin * mn;
            scale_min_k4(2 * c + 1, scales, &sc, &mn);
            const float d2 = d * sc, m2 = dmin * mn;
            const uint8_t u1 = (uint8_t)(1u << (2 * c)), u2 = (uint8_t)(2u << (2 * c));
            for (int l = 0; l < 32; l++)
                *dst++ = d1 * (float)((ql[l] & 0x0F) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++)
                *dst++ = d2 * (float)((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
        }
    }
}

void nemo_quant_dequant_q6_k(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / NEMO_QK_K; i++, b += 210) {
        const float d = ld_f16(b + 208);
        const uint8_t *ql = b, *qh = b + 128;
        const int8_t *sc = (const int8_t *)(b + 192);
        for (int half = 0; half < 2; half++, dst += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = (int)((ql[l] & 0x0F) | ((qh[l] >> 0) & 3) << 4) - 32;
                const int q2 = (int)((ql[l + 32] & 0x0F) | ((qh[l] >> 2) & 3) << 4) - 32;
                const int q3 = (int)((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
                const int q4 = (int)((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
                /* (d·sc)·q, the association ggml's reference uses */
                dst[l] = d * (float)sc[is + 0] * (float)q1;
                dst[l + 32] = d * (float)sc[is + 2] * (float)q2;
                dst[l + 64] = d * (float)sc[is + 4] * (float)q3;
                dst[l + 96] = d * (float)sc[is + 6] * (float)q4;
            }
        }
    }
}

/* ---- products. Decoding 256 values at a time keeps the scratch on the stack; 256 is a
 * multiple of every block size, so chunks start on block boundaries. */
#define CHUNK 256

float nemo_quant_dot(nemo_dtype t, const void *row, const float *x, int64_t n) {
    float buf[CHUNK];
    double acc = 0;
    for (int64_t i = 0; i < n; i += CHUNK) {
        const int64_t m = n - i < CHUNK ? n - i : CHUNK;
        const uint8_t *p = (const uint8_t *)row + nemo_dtype_bytes(t, (uint64_t)i);
        if (nemo_dequant_row(t, p, buf, m) != 0) return NAN;
        for (int64_t j = 0; j < m; j++) acc += (double)buf[j] * (double)x[i + j];
    }
    return (float)acc;
}

static int row_bytes(nemo_dtype t, int64_t cols, uint64_t *out) {
    const nemo_dtype_traits *ti = nemo_dtype_info(t);
    if (!ti || cols < 0 || (uint64_t)cols % ti->block_elems) return -1;
    *out = nemo_dtype_bytes(t, (uint64_t)cols);
    return 0;
}

int nemo_quant_matvec(nemo_dtype t, const void *w, int64_t rows, int64_t cols, const float *x,
                      float *y) {
    return nemo_quant_matmul(t, w, rows, cols, x, 1, y);
}

int nemo_quant_matmul(nemo_dtype t, const void *w, int64_t rows, int64_t cols, const float *x,
                      int64_t n, float *y) {
    uint64_t rb;
    float probe;
    if (row_bytes(t, cols, &rb) != 0) return -1;
    /* reject dtypes without a decoder up front, so a NaN from nemo_quant_dot is data */
    if (nemo_dequant_row(t, w, &probe, 0) != 0) return -1;
    for (int64_t r = 0; r < rows; r++) {
        const uint8_t *wr = (const uint8_t *)w + (uint64_t)r * rb;
        for (int64_t b = 0; b < n; b++) y[b * rows + r] = nemo_quant_dot(t, wr, x + b * cols, cols);
    }
    return 0;
}

/* quant.h — scalar reference code for ggml's block-quantized weight types: decoders (block →
 * f32), encoders (f32 → block) and the dot product / matrix-vector / matrix-matrix products on
 * quantized rows. Every SIMD or GPU kernel for these types is tested against these functions;
 * the decoders reproduce ggml's reference dequantize_row_* bit for bit (tests/unit/test_quant.c
 * checks them against goldens made with the `gguf` Python package).
 *
 * Block layouts (little-endian, packed, no padding; `d`, `m`, `dmin` are IEEE binary16):
 *
 *   Q8_0  32 values, 34 bytes   | d | qs[32] int8 |                       y = d·q
 *   Q4_0  32 values, 18 bytes   | d | qs[16] |                            y = d·(q − 8)
 *   Q4_1  32 values, 20 bytes   | d | m | qs[16] |                        y = d·q + m
 *   Q5_0  32 values, 22 bytes   | d | qh[4] | qs[16] |                    y = d·(q − 16)
 *   Q5_1  32 values, 24 bytes   | d | m | qh[4] | qs[16] |                y = d·q + m
 *         qs[j] holds value j in its low nibble and value j+16 in its high nibble; for the
 *         5-bit types bit j of qh (read as a little-endian u32) is bit 4 of value j.
 *
 *   Q4_K 256 values, 144 bytes  | d | dmin | scales[12] | qs[128] |
 *   Q5_K 256 values, 176 bytes  | d | dmin | scales[12] | qh[32] | qs[128] |
 *         8 sub-blocks of 32 values, each with a 6-bit scale sc and a 6-bit min mn packed into
 *         scales[12]:  bytes 0-3: sc0..sc3 (low 6 bits), top 2 bits = sc4..sc7 bits 4-5
 *                      bytes 4-7: mn0..mn3 (low 6 bits), top 2 bits = mn4..mn7 bits 4-5
 *                      bytes 8-11: low nibble sc4..sc7 bits 0-3, high nibble mn4..mn7 bits 0-3
 *         y = d·sc·q − dmin·mn. qs is 4 chunks of 32 bytes; chunk c holds sub-block 2c in the
 *         low nibbles and sub-block 2c+1 in the high nibbles. Q5_K: bit 2c of qh[l] is bit 4
 *         of value l of sub-block 2c, bit 2c+1 that of sub-block 2c+1.
 *
 *   Q6_K 256 values, 210 bytes  | ql[128] | qh[64] | scales[16] int8 | d |
 *         16 sub-blocks of 16 values, y = d·scales[s]·(q − 32) with q 6 bits: 2 halves of 128
 *         values; in a half (ql += 64, qh += 32 per half), for l < 32:
 *           value l      = ql[l] low nibble    | qh[l] bits 0-1 << 4
 *           value l+32   = ql[l+32] low nibble | qh[l] bits 2-3 << 4
 *           value l+64   = ql[l] high nibble   | qh[l] bits 4-5 << 4
 *           value l+96   = ql[l+32] high nibble| qh[l] bits 6-7 << 4
 */
#ifndef NEMO_QUANT_H
#define NEMO_QUANT_H

#include "core/core.h"

#define NEMO_QK   32  /* values per block of the simple types */
#define NEMO_QK_K 256 /* values per super-block of the K types */

/* ---- decoders: n values (a multiple of the block size) from src into dst[n] */
void nemo_quant_dequant_q8_0(const void *src, float *dst, int64_t n);
void nemo_quant_dequant_q4_0(const void *src, float *dst, int64_t n);
void nemo_quant_dequant_q4_1(const void *src, float *dst, int64_t n);
void nemo_quant_dequant_q5_0(const void *src, float *dst, int64_t n);
void nemo_quant_dequant_q5_1(const void *src, float *dst, int64_t n);
void nemo_quant_dequant_q4_k(const void *src, float *dst, int64_t n);
void nemo_quant_dequant_q5_k(const void *src, float *dst, int64_t n);
void nemo_quant_dequant_q6_k(const void *src, float *dst, int64_t n);

/* ---- encoders: n values (a multiple of the block size) from src into n/block blocks at dst.
 * Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1 match ggml's quantize_row_*_ref bit for bit (checked against
 * the gguf package). Q4_K follows ggml's reference search (weighted least squares over 21
 * candidate scales per sub-block, see quant_encode.c). */
void nemo_quant_q8_0(const float *src, void *dst, int64_t n);
void nemo_quant_q4_0(const float *src, void *dst, int64_t n);
void nemo_quant_q4_1(const float *src, void *dst, int64_t n);
void nemo_quant_q5_0(const float *src, void *dst, int64_t n);
void nemo_quant_q5_1(const float *src, void *dst, int64_t n);
void nemo_quant_q4_k(const float *src, void *dst, int64_t n);
/* Encodes with any type that has an encoder (the above plus F32, F16, BF16).
 * Returns 0, or -1 if t has no encoder or n is not a multiple of its block size. */
int nemo_quant_row(nemo_dtype t, const float *src, void *dst, int64_t n);

/* ---- products on quantized rows (reference: decode one block, accumulate in double).
 * t is any dtype nemo_dequant_row handles; n is a multiple of its block size. */
/* Returns sum_i row[i]·x[i] for a row of n values of type t. */
float nemo_quant_dot(nemo_dtype t, const void *row, const float *x, int64_t n);
/* y[rows] = W·x for W [rows, cols] of type t stored row after row (row stride =
 * nemo_dtype_bytes(t, cols)), x [cols]. Returns 0, or -1 for an unsupported t or cols. */
int nemo_quant_matvec(nemo_dtype t, const void *w, int64_t rows, int64_t cols, const float *x,
                      float *y);
/* Y[n, rows] = X[n, cols] · Wᵀ for W [rows, cols] of type t (a batch of matvecs).
 * Returns 0, or -1 for an unsupported t or cols. */
int nemo_quant_matmul(nemo_dtype t, const void *w, int64_t rows, int64_t cols, const float *x,
                      int64_t n, float *y);

#endif

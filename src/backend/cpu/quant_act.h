/* quant_act.h — activations quantized the way ggml does for its integer dot products: blocks
 * of 32 values as int8 with a per-block scale (ggml's block_q8_1: d and s = d·Σq in fp16; the
 * Q8_0 pairing simply ignores s). Weight rows of Q8_0 / Q4_0 / Q4_1 then multiply in integers,
 * which is what makes llama.cpp's CPU decode fast and what its numerics are. This is the
 * opt-in NEMO_MATMUL=q8 path; the default keeps f32 activations (exact against transformers). */
#ifndef NEMO_QUANT_ACT_H
#define NEMO_QUANT_ACT_H

#include "core/core.h"

typedef struct {
    uint16_t d, s; /* fp16: scale, and d·Σqs */
    int32_t sum;   /* Σqs exactly (Q4_0's offset term: Σ(q-8)·x = Σq·x - 8·sum) */
    float df, sf;  /* d and s converted to f32 (exact), so kernels broadcast them with a load */
    int8_t qs[32];
} nemo_q8_act;

/* x[n] (n a multiple of 32) → n/32 blocks, as ggml's quantize_row_q8_1_ref: d = max|x|/127,
 * q = roundf(x/d) (0 for an all-zero block). */
void nemo_q8_quantize(const float *x, nemo_q8_act *y, int64_t n);
/* The plain-C form, and the AVX2 one (x86 only) that nemo_q8_quantize uses at the AVX2 level
 * and above: both give the same bytes for finite inputs (roundf's ties away from zero included). */
void nemo_q8_quantize_ref(const float *x, nemo_q8_act *y, int64_t n);
void nemo_q8_quantize_avx2(const float *x, nemo_q8_act *y, int64_t n);

/* Scalar reference of sum_i row[i]·x[i] for a weight row of type t (Q8_0, Q4_0 or Q4_1) and
 * quantized activations: per block an exact integer sum, scaled and added in block order. NAN
 * for another type. */
float nemo_q8_dot_ref(nemo_dtype t, const void *row, const nemo_q8_act *x, int64_t n);

#endif

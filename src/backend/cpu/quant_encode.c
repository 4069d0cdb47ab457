/* quant_encode.c — reference encoders f32 → ggml blocks (layouts drawn in quant.h), for
 * `nemo quantize` and for tests that need quantized data of a known origin.
 *
 * The simple types follow ggml's reference rounding exactly (the choice of the signed abs-max
 * as the scale for Q4_0/Q5_0, the +8.5 / +16.5 / +0.5 truncating rounding, roundf for Q8_0), so
 * a file we write holds the same bytes llama.cpp's reference quantizer writes; the gguf Python
 * package implements the same rules and is our golden (scripts/golden_quant.py).
 *
 * Q4_K does not have a closed form: each 32-value sub-block gets a scale and a min from a
 * weighted least-squares search over 21 candidate scales (weights |x| + rms of the sub-block,
 * which favors large values); the 8 scales and 8 mins are then themselves quantized to 6 bits
 * against the block's largest scale/min, and the values re-rounded with the final scales. */
#include "backend/cpu/quant.h"

#include <float.h>
#include <math.h>

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

static inline void st_f16(uint8_t *p, float f) {
    uint16_t h = nemo_f32_to_f16(f);
    p[0] = (uint8_t)h;
    p[1] = (uint8_t)(h >> 8);
}

static inline void st_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static inline int imin(int a, int b) {
    return a < b ? a : b;
}
static inline int imax(int a, int b) {
    return a > b ? a : b;
}

void nemo_quant_q8_0(const float *x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / NEMO_QK; i++, b += 34, x += NEMO_QK) {
        float amax = 0;
        for (int j = 0; j < NEMO_QK; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127, id = d != 0 ? 1.0f / d : 0.0f;
        st_f16(b, d);
        for (int j = 0; j < NEMO_QK; j++) b[2 + j] = (uint8_t)(int8_t)roundf(x[j] * id);
    }
}

/* The value of largest magnitude, keeping its sign (the first one on ties), 0 for none. */
static float signed_absmax(const float *x, int n) {
    float amax = 0, max = 0;
    for (int j = 0; j < n; j++) {
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    return max;
}

static void min_max(const float *x, int n, float *mn, float *mx) {
    float lo = FLT_MAX, hi = -FLT_MAX;
    for (int j = 0; j < n; j++) {
        if (x[j] < lo) lo = x[j];
        if (x[j] > hi) hi = x[j];
    }
    *mn = lo;
    *mx = hi;
}

void nemo_quant_q4_0(const float *x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / NEMO_QK; i++, b += 18, x += NEMO_QK) {
        /* the signed extreme maps to -8, so the full range -8..7 is used on its side */
        const float d = signed_absmax(x, NEMO_QK) / -8, id = d != 0 ? 1.0f / d : 0.0f;
        st_f16(b, d);
        for (int j = 0; j < NEMO_QK / 2; j++) {
            const int q0 = imin(15, (int8_t)(x[j] * id + 8.5f));
            const int q1 = imin(15, (int8_t)(x[j + NEMO_QK / 2] * id + 8.5f));
            b[2 + j] = (uint8_t)(q0 | q1 << 4);
        }
    }
}

void nemo_quant_q4_1(const float *x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / NEMO_QK; i++, b += 20, x += NEMO_QK) {
        float mn, mx;
        min_max(x, NEMO_QK, &mn, &mx);
        const float d = (mx - mn) / 15, id = d != 0 ? 1.0f / d : 0.0f;
        st_f16(b, d);
        st_f16(b + 2, mn);
        for (int j = 0; j < NEMO_QK / 2; j++) {
            const int q0 = imin(15, (int8_t)((x[j] - mn) * id + 0.5f));
            const int q1 = imin(15, (int8_t)((x[j + NEMO_QK / 2] - mn) * id + 0.5f));
            b[4 + j] = (uint8_t)(q0 | q1 << 4);
        }
    }
}

void nemo_quant_q5_0(const float *x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / NEMO_QK; i++, b += 22, x += NEMO_QK) {
        const float d = signed_absmax(x, NEMO_QK) / -16, id = d != 0 ? 1.0f / d : 0.0f;
        uint32_t qh = 0;
        st_f16(b, d);
        for (int j = 0; j < NEMO_QK / 2; j++) {
            const int q0 = imin(31, (int8_t)(x[j] * id + 16.5f));
            const int q1 = imin(31, (int8_t)(x[j + NEMO_QK / 2] * id + 16.5f));
            b[6 + j] = (uint8_t)((q0 & 0x0F) | (q1 & 0x0F) << 4);
            qh |= (uint32_t)((q0 >> 4) & 1) << j;
            qh |= (uint32_t)((q1 >> 4) & 1) << (j + 16);
        }
        st_u32(b + 2, qh);
    }
}

void nemo_quant_q5_1(const float *x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / NEMO_QK; i++, b += 24, x += NEMO_QK) {
        float mn, mx;
        min_max(x, NEMO_QK, &mn, &mx);
        const float d = (mx - mn) / 31, id = d != 0 ? 1.0f / d : 0.0f;
        uint32_t qh = 0;
        st_f16(b, d);
        st_f16(b + 2, mn);
        for (int j = 0; j < NEMO_QK / 2; j++) {
            const int q0 = imin(31, (uint8_t)((x[j] - mn) * id + 0.5f));
            const int q1 = imin(31, (uint8_t)((x[j + NEMO_QK / 2] - mn) * id + 0.5f));
            b[8 + j] = (uint8_t)((q0 & 0x0F) | (q1 & 0x0F) << 4);
            qh |= (uint32_t)((q0 >> 4) & 1) << j;
            qh |= (uint32_t)((q1 >> 4) & 1) << (j + 16);
        }
        st_u32(b + 4, qh);
    }
}

/* Round to nearest, ties to even (the default rounding mode), as an int. Inputs here are
 * bounded (|v| is at most a few hundred for finite data); NaN maps to 0. */
static inline int nearest_int(float v) {
    if (!(fabsf(v) <= 4194303.0f)) return 0;
    return (int)nearbyintf(v);
}

/* Weighted least-squares fit x ≈ scale·L − the_min with L in 0..nmax and the_min ≥ 0, tried
 * for nstep+1 candidate inverse scales (nmax + rmin + k·rdelta)/(max − min); keeps the
 * candidate with the smallest weighted squared error. Returns the scale; L gets the levels. */
static float fit_scale_min(int n, int nmax, const float *x, const float *w, uint8_t *L,
                           float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep) {
    float mn = x[0], mx = x[0], sum_w = w[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < mn) mn = x[i];
        if (x[i] > mx) mx = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (mn > 0) mn = 0; /* the offset only ever shifts values up from a non-positive min */
    if (mx == mn) {
        for (int i = 0; i < n; i++) L[i] = 0;
        *the_min = -mn;
        return 0.0f;
    }
    float iscale = nmax / (mx - mn), scale = 1 / iscale, best = 0;
    for (int i = 0; i < n; i++) {
        const int l = imax(0, imin(nmax, nearest_int(iscale * (x[i] - mn))));
        L[i] = (uint8_t)l;
        const float diff = scale * L[i] + mn - x[i];
        best += w[i] * (diff * diff);
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * is + nmax) / (mx - mn);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            const int l = imax(0, imin(nmax, nearest_int(iscale * (x[i] - mn))));
            Laux[i] = (uint8_t)l;
            sum_l += w[i] * l;
            sum_l2 += w[i] * l * l;
            sum_xl += w[i] * l * x[i];
        }
        const float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float err = 0;
            for (int i = 0; i < n; i++) {
                const float diff = this_scale * Laux[i] + this_min - x[i];
                err += w[i] * (diff * diff);
            }
            if (err < best) {
                memcpy(L, Laux, (size_t)n);
                best = err;
                scale = this_scale;
                mn = this_min;
            }
        }
    }
    *the_min = -mn;
    return scale;
}

void nemo_quant_q4_k(const float *x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / NEMO_QK_K; i++, b += 144, x += NEMO_QK_K) {
        uint8_t L[NEMO_QK_K], Laux[32];
        float w[32], mins[8], scales[8], max_scale = 0, max_min = 0;
        for (int j = 0; j < 8; j++) {
            const float *xs = x + 32 * j;
            float sum_x2 = 0;
            for (int l = 0; l < 32; l++) sum_x2 += xs[l] * xs[l];
            const float av_x = sqrtf(sum_x2 / 32);
            for (int l = 0; l < 32; l++) w[l] = av_x + fabsf(xs[l]);
            scales[j] = fit_scale_min(32, 15, xs, w, L + 32 * j, &mins[j], Laux, -1.0f, 0.1f, 20);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
        const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
        uint8_t *sc = b + 4;
        memset(sc, 0, 12);
        for (int j = 0; j < 8; j++) {
            /* modular conversion to u8, then clamp: what the reference does for odd inputs */
            uint8_t ls = (uint8_t)nearest_int(inv_scale * scales[j]);
            uint8_t lm = (uint8_t)nearest_int(inv_min * mins[j]);
            if (ls > 63) ls = 63;
            if (lm > 63) lm = 63;
            if (j < 4) {
                sc[j] = ls;
                sc[j + 4] = lm;
            } else {
                sc[j + 4] = (uint8_t)((ls & 0x0F) | (lm & 0x0F) << 4);
                sc[j - 4] |= (uint8_t)((ls >> 4) << 6);
                sc[j] |= (uint8_t)((lm >> 4) << 6);
            }
        }
        st_f16(b, max_scale / 63.0f);
        st_f16(b + 2, max_min / 63.0f);
        /* re-round every value against the scales as stored */
        const float d_all = nemo_f16_to_f32(nemo_f32_to_f16(max_scale / 63.0f));
        const float dmin_all = nemo_f16_to_f32(nemo_f32_to_f16(max_min / 63.0f));
        for (int j = 0; j < 8; j++) {
            uint8_t s6, m6;
            if (j < 4) {
                s6 = sc[j] & 63;
                m6 = sc[j + 4] & 63;
            } else {
                s6 = (uint8_t)((sc[j + 4] & 0x0F) | ((sc[j - 4] >> 6) << 4));
                m6 = (uint8_t)((sc[j + 4] >> 4) | ((sc[j] >> 6) << 4));
            }
            const float d = d_all * s6;
            if (d == 0) continue; /* keep the levels of the fit */
            const float dm = dmin_all * m6;
            for (int l = 0; l < 32; l++)
                L[32 * j + l] = (uint8_t)imax(0, imin(15, nearest_int((x[32 * j + l] + dm) / d)));
        }
        uint8_t *q = b + 16;
        for (int j = 0; j < NEMO_QK_K; j += 64, q += 32)
            for (int l = 0; l < 32; l++) q[l] = (uint8_t)(L[j + l] | L[j + l + 32] << 4);
    }
}

int nemo_quant_row(nemo_dtype t, const float *src, void *dst, int64_t n) {
    const nemo_dtype_traits *ti = nemo_dtype_info(t);
    if (!ti || n < 0 || n % ti->block_elems) return -1;
    switch (t) {
    case NEMO_DTYPE_F32: memcpy(dst, src, (size_t)n * sizeof(float)); return 0;
    case NEMO_DTYPE_F16:
        for (int64_t i = 0; i < n; i++) {
            const uint16_t h = nemo_f32_to_f16(src[i]);
            memcpy((uint8_t *)dst + 2 * i, &h, 2);
        }
        return 0;
    case NEMO_DTYPE_BF16:
        for (int64_t i = 0; i < n; i++) {
            const uint16_t h = nemo_f32_to_bf16(src[i]);
            memcpy((uint8_t *)dst + 2 * i, &h, 2);
        }
        return 0;
    case NEMO_DTYPE_Q8_0: nemo_quant_q8_0(src, dst, n); return 0;
    case NEMO_DTYPE_Q4_0: nemo_quant_q4_0(src, dst, n); return 0;
    case NEMO_DTYPE_Q4_1: nemo_quant_q4_1(src, dst, n); return 0;
    case NEMO_DTYPE_Q5_0: nemo_quant_q5_0(src, dst, n); return 0;
    case NEMO_DTYPE_Q5_1: nemo_quant_q5_1(src, dst, n); return 0;
    case NEMO_DTYPE_Q4_K: nemo_quant_q4_k(src, dst, n); return 0;
    default: return -1;
    }
}

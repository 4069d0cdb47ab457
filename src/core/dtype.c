/* dtype.c — the element-type table (names as safetensors and ggml write them, block sizes) and
 * scalar conversions of the small float formats. A new quant type is one row here. */
#include "core/core.h"

#include <math.h>
#include <strings.h>

static const nemo_dtype_traits TRAITS[NEMO_DTYPE_COUNT] = {
    [NEMO_DTYPE_F32] = {"F32", 1, 4, 1},         [NEMO_DTYPE_F16] = {"F16", 1, 2, 1},
    [NEMO_DTYPE_BF16] = {"BF16", 1, 2, 1},       [NEMO_DTYPE_F8_E4M3] = {"F8_E4M3", 1, 1, 1},
    [NEMO_DTYPE_F8_E5M2] = {"F8_E5M2", 1, 1, 0}, [NEMO_DTYPE_F64] = {"F64", 1, 8, 0},
    [NEMO_DTYPE_I8] = {"I8", 1, 1, 0},           [NEMO_DTYPE_U8] = {"U8", 1, 1, 0},
    [NEMO_DTYPE_I16] = {"I16", 1, 2, 0},         [NEMO_DTYPE_U16] = {"U16", 1, 2, 0},
    [NEMO_DTYPE_I32] = {"I32", 1, 4, 0},         [NEMO_DTYPE_U32] = {"U32", 1, 4, 0},
    [NEMO_DTYPE_I64] = {"I64", 1, 8, 0},         [NEMO_DTYPE_U64] = {"U64", 1, 8, 0},
    [NEMO_DTYPE_BOOL] = {"BOOL", 1, 1, 0},       [NEMO_DTYPE_Q4_0] = {"Q4_0", 32, 18, 1},
    [NEMO_DTYPE_Q4_1] = {"Q4_1", 32, 20, 1},     [NEMO_DTYPE_Q5_0] = {"Q5_0", 32, 22, 1},
    [NEMO_DTYPE_Q5_1] = {"Q5_1", 32, 24, 1},     [NEMO_DTYPE_Q8_0] = {"Q8_0", 32, 34, 1},
    [NEMO_DTYPE_Q4_K] = {"Q4_K", 256, 144, 1},   [NEMO_DTYPE_Q5_K] = {"Q5_K", 256, 176, 1},
    [NEMO_DTYPE_Q6_K] = {"Q6_K", 256, 210, 1},
};

const nemo_dtype_traits *nemo_dtype_info(nemo_dtype t) {
    if ((unsigned)t >= NEMO_DTYPE_COUNT) return NULL;
    return &TRAITS[t];
}

const char *nemo_dtype_name(nemo_dtype t) {
    const nemo_dtype_traits *i = nemo_dtype_info(t);
    return i ? i->name : "?";
}

int nemo_dtype_from_name(const char *name, nemo_dtype *out) {
    for (int t = 0; t < NEMO_DTYPE_COUNT; t++) {
        if (strcasecmp(TRAITS[t].name, name) == 0) {
            *out = (nemo_dtype)t;
            return 0;
        }
    }
    return -1;
}

uint64_t nemo_dtype_bytes(nemo_dtype t, uint64_t n) {
    const nemo_dtype_traits *i = nemo_dtype_info(t);
    if (!i || n % i->block_elems) return 0;
    uint64_t out;
    if (nemo_mul_u64(n / i->block_elems, i->block_bytes, &out)) return 0;
    return out;
}

float nemo_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
    if (exp == 0) {
        if (man == 0) {
            u = sign;
        } else { /* subnormal: renormalize */
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while (!(man & 0x400));
            u = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 31) {
        u = sign | 0x7f800000u | (man << 13);
    } else {
        u = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t nemo_f32_to_f16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000;
    uint32_t abs = u & 0x7fffffffu;
    if (abs > 0x7f800000u) return (uint16_t)(sign | 0x7e00);  /* NaN */
    if (abs >= 0x477ff000u) return (uint16_t)(sign | 0x7c00); /* rounds to >= 65536: inf */
    if (abs < 0x38800000u) { /* below the smallest normal: subnormal or zero */
        float a;
        memcpy(&a, &abs, 4);
        /* scale so the subnormal unit (2^-24) becomes 1, then round to nearest even */
        float r = nearbyintf(a * 16777216.0f);
        return (uint16_t)(sign | (uint32_t)r);
    }
    uint32_t mant = abs & 0x7fffff, exp = (abs >> 23) - 127 + 15;
    uint32_t h = (exp << 10) | (mant >> 13);
    uint32_t rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++;
    return (uint16_t)(sign | h);
}

float nemo_fp8_e4m3_to_f32(uint8_t v) {
    int s = v >> 7, e = (v >> 3) & 0xf, m = v & 7;
    float r;
    if (e == 0xf && m == 7) return NAN;
    if (e == 0)
        r = ldexpf((float)m / 8.0f, -6);
    else
        r = ldexpf(1.0f + (float)m / 8.0f, e - 7);
    return s ? -r : r;
}

uint8_t nemo_f32_to_fp8_e4m3(float f) {
    uint8_t sign = signbit(f) ? 0x80 : 0;
    float a = fabsf(f);
    if (isnan(f)) return (uint8_t)(sign | 0x7f);
    if (a >= 448.0f) return (uint8_t)(sign | 0x7e);
    if (a < 0.015625f) /* below 2^-6: subnormal steps of 2^-9; rintf rounds to even, and 8
                          steps is exactly the code of the smallest normal (0x08) */
        return (uint8_t)(sign | (uint8_t)rintf(a * 512.0f));
    int k;
    float fr = frexpf(a, &k);                      /* a = fr * 2^k, fr in [0.5, 1) */
    int e = k - 1 + 7;                             /* biased exponent, 1..15 */
    int m = (int)rintf((2.0f * fr - 1.0f) * 8.0f); /* exact product, RNE */
    if (m == 8) m = 0, e++;
    int code = (e << 3) | m;
    if (code > 0x7e) code = 0x7e;
    return (uint8_t)(sign | code);
}

float nemo_fp8_e5m2_to_f32(uint8_t v) {
    return nemo_f16_to_f32((uint16_t)((uint16_t)v << 8));
}

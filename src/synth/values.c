/* values.c — the deterministic weight values of synthetic checkpoints: a splitmix64 stream per
 * (seed, tensor, native row), turned into uniform floats with integer math and one exact
 * float multiply, so every machine and compiler produces the same bits. Indexing by native
 * row is what makes the HF folder a pure row permutation of the native one. */
#include "synth/synth.h"

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* FNV-1a: a stable hash of the tensor name, independent of the tensor's position in a file. */
static uint64_t name_hash(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

uint64_t nemo_synth_native_row(const nemo_synth_tensor *t, uint64_t r) {
    if (!t->permuted) return r;
    uint64_t hd = (uint64_t)t->head_dim, half = hd / 2;
    uint64_t head = r / hd, j = r % hd;
    uint64_t s = j / half, i = j % half;
    return head * hd + 2 * i + s;
}

void nemo_synth_row_values(uint64_t seed, const nemo_synth_tensor *t, uint64_t native_row,
                           float *out) {
    uint64_t st = seed ^ name_hash(t->native_name);
    st = splitmix64(&st) ^ (native_row * 0xd1b54a32d192ed03ull);
    (void)splitmix64(&st); /* decorrelate neighbouring rows before the first value */
    /* u in [-1, 1) on a 2^-23 grid: the int->float conversion and the product are exact up
     * to one rounding, identical under any IEEE-754 float implementation. */
    const float step = t->scale * (1.0f / 8388608.0f);
    const int is_norm = t->ndim == 1;
    uint64_t c = 0;
    while (c < t->cols) {
        uint64_t r = splitmix64(&st);
        for (int half = 0; half < 2 && c < t->cols; half++, c++) {
            int32_t k = (int32_t)((r >> (half ? 40 : 8)) & 0xffffffu) - 8388608;
            float v = (float)k * step;
            out[c] = is_norm ? 1.0f + v : v;
        }
    }
}

void nemo_synth_encode(nemo_dtype dtype, const float *src, uint64_t n, uint8_t *dst) {
    for (uint64_t i = 0; i < n; i++) {
        if (dtype == NEMO_DTYPE_F32) {
            uint32_t u;
            memcpy(&u, &src[i], 4);
            dst[4 * i] = (uint8_t)u;
            dst[4 * i + 1] = (uint8_t)(u >> 8);
            dst[4 * i + 2] = (uint8_t)(u >> 16);
            dst[4 * i + 3] = (uint8_t)(u >> 24);
        } else {
            uint16_t h =
                dtype == NEMO_DTYPE_BF16 ? nemo_f32_to_bf16(src[i]) : nemo_f32_to_f16(src[i]);
            dst[2 * i] = (uint8_t)h;
            dst[2 * i + 1] = (uint8_t)(h >> 8);
        }
    }
}

void nemo_synth_encode_t(const nemo_synth_tensor *t, const float *src, uint8_t *dst) {
    if (t->dtype != NEMO_DTYPE_F8_E4M3) {
        nemo_synth_encode(t->dtype, src, t->cols, dst);
        return;
    }
    for (uint64_t i = 0; i < t->cols; i++) dst[i] = nemo_f32_to_fp8_e4m3(src[i] / t->value);
}

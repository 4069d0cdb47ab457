/* quant_act_avx2.c — the AVX2 activation quantizer for the q8 path (quant_act.h): the same
 * bytes as nemo_q8_quantize_ref for finite inputs, about 7x faster (it runs once per token and
 * matmul input, so decode pays it on every matmul). */
#include "backend/cpu/quant_act.h"

#if defined(__x86_64__) || defined(__i386__)
#include "backend/cpu/kernels_avx2_inl.h"

NEMO_AVX2 void nemo_q8_quantize_avx2(const float *x, nemo_q8_act *y, int64_t n) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    for (int64_t b = 0; b < n / 32; b++, x += 32, y++) {
        __m256 v[4];
        for (int k = 0; k < 4; k++) v[k] = _mm256_loadu_ps(x + 8 * k);
        /* max with the running value second: a NaN input is skipped, as fmaxf does */
        __m256 m = _mm256_setzero_ps();
        for (int k = 0; k < 4; k++) m = _mm256_max_ps(_mm256_and_ps(v[k], absmask), m);
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4), d = amax / 127, id = d ? 1.0f / d : 0.0f;
        __m256i q[4], s = _mm256_setzero_si256();
        for (int k = 0; k < 4; k++) {
            /* roundf: truncate, then step away from zero when the dropped part is ≥ 1/2 (the
             * fraction v - trunc(v) is exact for |v| < 2^23) */
            __m256 p = _mm256_mul_ps(v[k], _mm256_set1_ps(id));
            __m256 t = _mm256_round_ps(p, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
            __m256 up =
                _mm256_cmp_ps(_mm256_and_ps(_mm256_sub_ps(p, t), absmask), half, _CMP_GE_OQ);
            __m256 step = _mm256_or_ps(_mm256_and_ps(one, up), _mm256_andnot_ps(absmask, p));
            q[k] = _mm256_cvttps_epi32(_mm256_add_ps(t, _mm256_and_ps(step, up)));
            s = _mm256_add_epi32(s, q[k]);
        }
        __m256i b8 =
            _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
        b8 = _mm256_permutevar8x32_epi32(b8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)y->qs, b8);
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
        const int sum = _mm_cvtsi128_si32(s4);
        y->sum = sum;
        /* F16C rounds to nearest even like nemo_f32_to_f16 (subnormals and overflow included) */
        y->d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        y->s = _cvtss_sh((float)sum * d, _MM_FROUND_TO_NEAREST_INT);
        y->df = _cvtsh_ss(y->d);
        y->sf = _cvtsh_ss(y->s);
    }
}
#else
/* no AVX2 off x86: the plain form (only tests name this function there) */
void nemo_q8_quantize_avx2(const float *x, nemo_q8_act *y, int64_t n) {
    nemo_q8_quantize_ref(x, y, n);
}
#endif

/* act_avx2.c — AVX2 versions of the forward pass's row operations (rmsnorm, SwiGLU, softmax,
 * RoPE rotation) for the kernel table. What each may differ from its scalar reference in ops.c
 * by (tests/unit/test_kernels.c checks these bounds):
 *   - rmsnorm: the sum of squares is still accumulated in double (each square is exact in
 *     double), only in 8 lanes instead of one; the per-element float operations are the
 *     reference's, so outputs are equal unless the double sums round to different floats
 *     (1 ulp of the scale, practically never);
 *   - RoPE rotation: the same float operations per element (no fused multiply-add), bitwise
 *     equal;
 *   - SwiGLU and softmax: exp is a vector polynomial (exp_ps, within 2 ulp of expf over the
 *     range that matters), and softmax sums in 8 lanes; each output is within 4e-7 relative of
 *     the reference (softmax: plus 1e-38 absolute for the underflowing tail). */
#include "backend/cpu/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include "backend/cpu/kernels_avx2_inl.h"

/* e^x for 8 floats: x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in two for an exact n·ln2_hi),
 * e^r by a degree-6 polynomial (Cephes expf's coefficients), 2^n put in the exponent in two
 * halves so n down to -149 gives the subnormals; above 88.72 → +inf, NaN stays NaN. */
NEMO_AVX2 static inline __m256 exp_ps(__m256 x) {
    const __m256 hi = _mm256_set1_ps(88.7228394f), lo = _mm256_set1_ps(-103.972084f);
    __m256 big = _mm256_cmp_ps(x, hi, _CMP_GT_OQ);
    __m256 xc = _mm256_max_ps(lo, _mm256_min_ps(hi, x)); /* NaN in x passes through */
    __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), xc);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    /* 2^n = 2^(n/2 rounded down) · 2^(rest): each factor a normal float for n in [-150, 128] */
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    __m256 e = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
    return _mm256_blendv_ps(e, _mm256_set1_ps(INFINITY), big);
}

/* exp_ps for the tests (kernels.h) */
NEMO_AVX2 void nemo_exp8_avx2(const float *x, float *y) {
    _mm256_storeu_ps(y, exp_ps(_mm256_loadu_ps(x)));
}

NEMO_AVX2 void nemo_rmsnorm_avx2(float *o, const float *x, const float *w, int64_t dim, float eps) {
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 8 <= dim; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v)),
                hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
        a0 = _mm256_fmadd_pd(lo, lo, a0); /* exact squares: fused or not is the same */
        a1 = _mm256_fmadd_pd(hi, hi, a1);
    }
    a0 = _mm256_add_pd(a0, a1);
    __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(a0), _mm256_extractf128_pd(a0, 1));
    double ss = _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)));
    for (; i < dim; i++) ss += (double)x[i] * x[i];
    float r = 1.0f / sqrtf((float)(ss / (double)dim) + eps);
    __m256 rv = _mm256_set1_ps(r);
    for (i = 0; i + 8 <= dim; i += 8)
        _mm256_storeu_ps(o + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), rv),
                                              _mm256_loadu_ps(w + i)));
    for (; i < dim; i++) o[i] = (x[i] * r) * w[i];
}

NEMO_AVX2 void nemo_swiglu_avx2(float *gate, const float *up, int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f), neg = _mm256_set1_ps(-0.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i);
        __m256 e = exp_ps(_mm256_xor_ps(g, neg));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)),
                                                 _mm256_loadu_ps(up + i)));
    }
    if (i < n) { /* the tail through the same vector math, so no value depends on its index */
        float g[8] = {0}, u[8] = {0};
        memcpy(g, gate + i, (size_t)(n - i) * sizeof(float));
        memcpy(u, up + i, (size_t)(n - i) * sizeof(float));
        nemo_swiglu_avx2(g, u, 8);
        memcpy(gate + i, g, (size_t)(n - i) * sizeof(float));
    }
}

NEMO_AVX2 void nemo_softmax_avx2(float *x, int64_t n) {
    if (n <= 0) return;
    __m256 mv = _mm256_set1_ps(x[0]);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(x + i));
    float mx = x[0];
    {
        float l[8];
        _mm256_storeu_ps(l, mv);
        for (int k = 0; k < 8; k++) mx = l[k] > mx ? l[k] : mx;
    }
    for (; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    const __m256 m = _mm256_set1_ps(mx);
    __m256 sv = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
        _mm256_storeu_ps(x + i, e);
        sv = _mm256_add_ps(sv, e);
    }
    if (i < n) {
        __m256i mask = tail_mask(n - i);
        __m256 e = exp_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, mask), m));
        e = _mm256_and_ps(e, _mm256_castsi256_ps(mask));
        _mm256_maskstore_ps(x + i, mask, e);
        sv = _mm256_add_ps(sv, e);
    }
    const __m256 inv = _mm256_set1_ps(1.0f / hsum8(sv));
    for (i = 0; i + 8 <= n; i += 8)
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
    for (; i < n; i++) x[i] *= _mm256_cvtss_f32(inv);
}

/* x (n_heads heads of hd values) rotated by the angle table c[i], s[i] (i < hd/2); halves = 1:
 * pairs (i, i + hd/2); halves = 0: pairs (2i, 2i + 1). The reference's float operations. */
NEMO_AVX2 void nemo_rope_avx2(float *x, int n_heads, int hd, const float *c, const float *s,
                              int halves) {
    const int half = hd / 2;
    for (int h = 0; h < n_heads; h++) {
        float *v = x + (int64_t)h * hd;
        int i = 0;
        if (halves) {
            for (; i + 8 <= half; i += 8) {
                __m256 x0 = _mm256_loadu_ps(v + i), x1 = _mm256_loadu_ps(v + half + i);
                __m256 cv = _mm256_loadu_ps(c + i), sv = _mm256_loadu_ps(s + i);
                _mm256_storeu_ps(v + i,
                                 _mm256_sub_ps(_mm256_mul_ps(x0, cv), _mm256_mul_ps(x1, sv)));
                _mm256_storeu_ps(v + half + i,
                                 _mm256_add_ps(_mm256_mul_ps(x1, cv), _mm256_mul_ps(x0, sv)));
            }
            for (; i < half; i++) {
                float x0 = v[i], x1 = v[i + half];
                v[i] = x0 * c[i] - x1 * s[i];
                v[i + half] = x1 * c[i] + x0 * s[i];
            }
        } else {
            /* 8 pairs per step: split even / odd lanes, rotate, interleave back */
            for (; i + 8 <= half; i += 8) {
                __m256 a = _mm256_loadu_ps(v + 2 * i), b = _mm256_loadu_ps(v + 2 * i + 8);
                /* per 128-bit lane: even = a0 a2 b0 b2, odd = a1 a3 b1 b3 (pairs 0,1,4,5 | 2,3,6,7)
                 */
                __m256 ev = _mm256_shuffle_ps(a, b, 0x88), od = _mm256_shuffle_ps(a, b, 0xdd);
                __m256 cv = _mm256_loadu_ps(c + i), sv = _mm256_loadu_ps(s + i);
                /* the table in the same lane order: pair p of lane L at 4L + {0,1} from a,
                 * {2,3} from b, i.e. table entries i + {0,1,4,5 | 2,3,6,7} */
                const __m256i perm = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
                cv = _mm256_permutevar8x32_ps(cv, perm);
                sv = _mm256_permutevar8x32_ps(sv, perm);
                __m256 ne = _mm256_sub_ps(_mm256_mul_ps(ev, cv), _mm256_mul_ps(od, sv));
                __m256 no = _mm256_add_ps(_mm256_mul_ps(od, cv), _mm256_mul_ps(ev, sv));
                _mm256_storeu_ps(v + 2 * i, _mm256_unpacklo_ps(ne, no));
                _mm256_storeu_ps(v + 2 * i + 8, _mm256_unpackhi_ps(ne, no));
            }
            for (; i < half; i++) {
                float x0 = v[2 * i], x1 = v[2 * i + 1];
                v[2 * i] = x0 * c[i] - x1 * s[i];
                v[2 * i + 1] = x1 * c[i] + x0 * s[i];
            }
        }
    }
}
#endif

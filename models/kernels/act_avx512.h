/* models/kernels/act_avx512.h: nr_fexp, nr_fsigmoid and nr_ftanh (models/cells.h) in AVX-512 F
 * intrinsics with the C functions' bits, shared by the recurrent steps of lstm_avx512.c and
 * gru_avx512.c (why the bits are the same: lstm_avx512.c's header comment). Included only by files
 * compiled with -mavx512f -ffp-contract=off, after <immintrin.h>. */
#ifndef NR_MODELS_KERNELS_ACT_AVX512_H
#define NR_MODELS_KERNELS_ACT_AVX512_H

#if defined(__clang__)
#define AUNROLL _Pragma("clang loop unroll(full)")
#else
#define AUNROLL _Pragma("GCC unroll 16")
#endif
#define VS(x) _mm512_set1_ps(x)
#define VNEG(v) _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(v), _mm512_set1_epi32((int)0x80000000u)))
#define VABS(v) _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(0x7fffffff)))

/* x[k] = nr_fexp(x[k]) for k < N, the N chains side by side */
static inline __attribute__((always_inline)) void vexp(const int N, __m512 *x)
{
    __m512 fn[16], r[16], y[16];
    AUNROLL for (int k = 0; k < N; k++)
        x[k] = _mm512_min_ps(VS(88.0f), _mm512_max_ps(VS(-87.0f), x[k]));
    AUNROLL for (int k = 0; k < N; k++)
        fn[k] = _mm512_roundscale_ps(_mm512_mul_ps(x[k], VS(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    AUNROLL for (int k = 0; k < N; k++) /* r = x - fn*c1 + fn*c2 */
        r[k] = _mm512_add_ps(_mm512_sub_ps(x[k], _mm512_mul_ps(fn[k], VS(0.693359375f))),
                             _mm512_mul_ps(fn[k], VS(2.12194440e-4f)));
    AUNROLL for (int k = 0; k < N; k++)
        y[k] = _mm512_add_ps(_mm512_mul_ps(VS(1.9875691500e-4f), r[k]), VS(1.3981999507e-3f));
    AUNROLL for (int k = 0; k < N; k++)
        y[k] = _mm512_add_ps(_mm512_mul_ps(y[k], r[k]), VS(8.3334519073e-3f));
    AUNROLL for (int k = 0; k < N; k++)
        y[k] = _mm512_add_ps(_mm512_mul_ps(y[k], r[k]), VS(4.1665795894e-2f));
    AUNROLL for (int k = 0; k < N; k++)
        y[k] = _mm512_add_ps(_mm512_mul_ps(y[k], r[k]), VS(1.6666665459e-1f));
    AUNROLL for (int k = 0; k < N; k++)
        y[k] = _mm512_add_ps(_mm512_mul_ps(y[k], r[k]), VS(5.0000001201e-1f));
    AUNROLL for (int k = 0; k < N; k++) /* y = y*r*r + r + 1 */
        y[k] = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(y[k], r[k]), r[k]), r[k]),
                             VS(1.0f));
    AUNROLL for (int k = 0; k < N; k++)
        x[k] = _mm512_scalef_ps(y[k], fn[k]);
}

/* σ(x) = 1 / (1 + e), e = nr_fexp(-x) */
static inline __attribute__((always_inline)) __m512 sig_post(__m512 e)
{
    return _mm512_div_ps(VS(1.0f), _mm512_add_ps(VS(1.0f), e));
}

/* tanh(x), before its exp: the odd polynomial of |x| < 0.625 to *small, and the exp's argument
 * 2 min(|x|, 44) */
static inline __attribute__((always_inline)) __m512 tanh_pre(__m512 x, __m512 *small)
{
    __m512 z = _mm512_mul_ps(x, x);
    __m512 q = _mm512_add_ps(_mm512_mul_ps(VS(-5.70498872745e-3f), z), VS(2.06390887954e-2f));
    q = _mm512_sub_ps(_mm512_mul_ps(q, z), VS(5.37397155531e-2f));
    q = _mm512_add_ps(_mm512_mul_ps(q, z), VS(1.33314422036e-1f));
    q = _mm512_sub_ps(_mm512_mul_ps(q, z), VS(3.33332819422e-1f));
    *small = _mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(q, z), x), x);
    return _mm512_mul_ps(VS(2.0f), _mm512_min_ps(VS(44.0f), VABS(x)));
}

/* tanh(x) after its exp e: |x| < 0.625 ? small : ±(1 - 2/(e + 1)) with the sign of x */
static inline __attribute__((always_inline)) __m512 tanh_post(__m512 x, __m512 small, __m512 e)
{
    __m512 big = _mm512_sub_ps(VS(1.0f), _mm512_div_ps(VS(2.0f), _mm512_add_ps(e, VS(1.0f))));
    __mmask16 neg = _mm512_cmp_ps_mask(x, VS(0.0f), _CMP_LT_OQ);
    big = _mm512_castsi512_ps(_mm512_mask_xor_epi32(_mm512_castps_si512(big), neg, _mm512_castps_si512(big),
                                                    _mm512_set1_epi32((int)0x80000000u)));
    return _mm512_mask_mov_ps(big, _mm512_cmp_ps_mask(VABS(x), VS(0.625f), _CMP_LT_OQ), small);
}

#endif

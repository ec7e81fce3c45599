/* models/kernels/gemm_avx2.c: the AVX2 + FMA float32 GEMM (see kernels.h, gemm_tmpl.h).
 * Compiled with -mavx2 -mfma -mf16c (CMakeLists.txt; F16C for nr_kgemv_f16) on x86-64 only; called only after the CPU check.
 *
 * Tile: R <= 6 rows x P panels of 8 columns, R*P <= 12 ymm accumulators (6x2 = 6x16 for full
 * strips, as BLIS's Haswell kernel), leaving registers for P loads of B and a broadcast. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif
#include <stddef.h>

#include "models/kernels/gemm_isa.h"

#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#if defined(__clang__)
#define KUNROLL _Pragma("clang loop unroll(full)")
#else
#define KUNROLL _Pragma("GCC unroll 8")
#endif

#define KP avx2
#define KNR 8
#define KRMAX 6
#define KNC NR_KNC_AVX2

static inline int kpanels(int R)
{
    static const int t[KRMAX + 1] = {0, 6, 4, 4, 3, 2, 2};
    return t[R];
}

/* lanes c < n set (n in 1..8) */
static inline __m256i lane_mask(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline __attribute__((always_inline)) void
tile_c(const int R, const int P, int kc, const float *restrict ap, const float *restrict bp,
       size_t ps, float *restrict C, int ldc, int nlast, float alpha, float beta, int first)
{
    __m256 acc[KRMAX][6];
    KUNROLL for (int r = 0; r < R; r++)
        KUNROLL for (int p = 0; p < P; p++)
            acc[r][p] = _mm256_setzero_ps();
    for (int k = 0; k < kc; k++) {
        __m256 b[6];
        KUNROLL for (int p = 0; p < P; p++)
            b[p] = _mm256_loadu_ps(bp + p * ps + (size_t)k * KNR);
        KUNROLL for (int r = 0; r < R; r++) {
            __m256 a = _mm256_broadcast_ss(ap + k * R + r);
            KUNROLL for (int p = 0; p < P; p++)
                acc[r][p] = _mm256_fmadd_ps(a, b[p], acc[r][p]);
        }
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    __m256i mlast = lane_mask(nlast), mall = _mm256_set1_epi32(-1);
    KUNROLL for (int r = 0; r < R; r++)
        KUNROLL for (int p = 0; p < P; p++) {
            float *c = C + (size_t)r * ldc + p * KNR;
            __m256i m = p == P - 1 ? mlast : mall;
            __m256 v = _mm256_mul_ps(va, acc[r][p]);
            if (!first)
                v = _mm256_add_ps(_mm256_maskload_ps(c, m), v);
            else if (beta != 0.0f)
                v = _mm256_fmadd_ps(vb, _mm256_maskload_ps(c, m), v);
            _mm256_maskstore_ps(c, m, v);
        }
}

#define KT(R, P)                                                                                   \
    case (R) * 16 + (P):                                                                           \
        tile_c(R, P, kc, ap, bp, ps, C, ldc, nlast, alpha, beta, first);                           \
        break;
#define KT2(R) KT(R, 1) KT(R, 2)
#define KT3(R) KT2(R) KT(R, 3)
#define KT4(R) KT3(R) KT(R, 4)
#define KT6(R) KT4(R) KT(R, 5) KT(R, 6)

static void ktile(int R, int P, int kc, const float *ap, const float *bp, size_t ps, float *C,
                  int ldc, int nlast, float alpha, float beta, int first)
{
    switch (R * 16 + P) {
        KT6(1) KT4(2) KT4(3) KT3(4) KT2(5) KT2(6)
    default: break;
    }
}

#include "models/kernels/gemm_tmpl.h"

/* the few-row streaming products (gemv_tmpl.h): 8-lane vectors, 8 rows of B a block for one row
 * of A, 4 for two or three (at most 12 accumulators of the 16 registers, 3 loads of A and one of
 * B beside them: 7 loads for 12 FMAs a step, where 4 rows of A with 2 of B took 6 for 8); rows
 * of A in groups of 3 */
#define V __m256
#define VW 8
#define V_ZERO() _mm256_setzero_ps()
#define V_SET1(x) _mm256_set1_ps(x)
#define V_LOAD(p) _mm256_loadu_ps(p)
#define V_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define V_MUL(a, b) _mm256_mul_ps(a, b)
#define V_ADD(a, b) _mm256_add_ps(a, b)
#define V_LOADN(p, n) _mm256_maskload_ps(p, lane_mask(n))
#define V_STOREN(p, n, v) _mm256_maskstore_ps(p, lane_mask(n), v)
#define V_HALF8(v) (v)
#define GV_CVTPH(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(p)))
#define GV_CVTI8(p) _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(p))))
#define GV_NBMAX 3
#define GV_RNT(NB) ((NB) == 1 ? 8 : 4)
#include "models/kernels/gemv_tmpl.h"

#endif

/* models/kernels/gemm_avx512.c: the AVX-512 F float32 GEMM (see kernels.h, gemm_tmpl.h).
 * Compiled with -mavx512f -mfma -mf16c (CMakeLists.txt; F16C for nr_kgemv_f16) on x86-64 only; called only after the CPU check.
 *
 * Tile: R <= 8 rows x P panels of 16 columns, R*P <= 24 zmm accumulators (8x3 = 8x48 for full
 * strips; one row takes 8 panels, so batch-1 products keep 8 FMA chains in flight). Per k: P
 * aligned 64-byte loads of packed B, R broadcasts of packed A, R*P FMAs. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif
#include <stddef.h>

#include "models/kernels/gemm_isa.h"

#if defined(__x86_64__) && defined(__AVX512F__) && defined(__FMA__)
#include <immintrin.h>

#if defined(__clang__)
#define KUNROLL _Pragma("clang loop unroll(full)")
#else
#define KUNROLL _Pragma("GCC unroll 8")
#endif

#define KP avx512
#define KNR 16
#define KRMAX 8
#define KNC NR_KNC_AVX512
#ifndef KPF
#define KPF 32
#endif

static inline int kpanels(int R)
{
    static const int t[KRMAX + 1] = {0, 8, 6, 4, 4, 4, 4, 3, 3};
    return t[R];
}

static inline __attribute__((always_inline)) void
tile_c(const int R, const int P, int kc, const float *restrict ap, const float *restrict bp,
       size_t ps, float *restrict C, int ldc, int nlast, float alpha, float beta, int first)
{
    __m512 acc[KRMAX][8];
    KUNROLL for (int r = 0; r < R; r++)
        KUNROLL for (int p = 0; p < P; p++)
            acc[r][p] = _mm512_setzero_ps();
    for (int k = 0; k < kc; k++) {
        __m512 b[8];
        KUNROLL for (int p = 0; p < P; p++) {
            b[p] = _mm512_loadu_ps(bp + p * ps + (size_t)k * KNR);
            if (R <= 2) /* few rows: bound by streaming B; fetch ahead in each panel */
                _mm_prefetch((const char *)(bp + p * ps + (size_t)(k + KPF) * KNR), _MM_HINT_T0);
        }
        KUNROLL for (int r = 0; r < R; r++) {
            __m512 a = _mm512_set1_ps(ap[k * R + r]);
            KUNROLL for (int p = 0; p < P; p++)
                acc[r][p] = _mm512_fmadd_ps(a, b[p], acc[r][p]);
        }
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    __mmask16 mlast = (__mmask16)((1u << nlast) - 1u);
    KUNROLL for (int r = 0; r < R; r++)
        KUNROLL for (int p = 0; p < P; p++) {
            float *c = C + (size_t)r * ldc + p * KNR;
            __mmask16 m = p == P - 1 ? mlast : (__mmask16)0xFFFF;
            __m512 v = _mm512_mul_ps(va, acc[r][p]);
            if (!first)
                v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, c), v);
            else if (beta != 0.0f)
                v = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, c), v);
            _mm512_mask_storeu_ps(c, m, v);
        }
}

#define KT(R, P)                                                                                   \
    case (R) * 16 + (P):                                                                           \
        tile_c(R, P, kc, ap, bp, ps, C, ldc, nlast, alpha, beta, first);                           \
        break;
#define KT3(R) KT(R, 1) KT(R, 2) KT(R, 3)
#define KT4(R) KT3(R) KT(R, 4)
#define KT6(R) KT4(R) KT(R, 5) KT(R, 6)
#define KT8(R) KT6(R) KT(R, 7) KT(R, 8)

static void ktile(int R, int P, int kc, const float *ap, const float *bp, size_t ps, float *C,
                  int ldc, int nlast, float alpha, float beta, int first)
{
    switch (R * 16 + P) {
        KT8(1) KT6(2) KT4(3) KT4(4) KT4(5) KT4(6) KT3(7) KT3(8)
    default: break;
    }
}

#include "models/kernels/gemm_tmpl.h"

/* the few-row streaming products (gemv_tmpl.h): 16-lane vectors, 8 rows of B a block for up to 3
 * rows of A (24 accumulators), 4 for 4 */
#define V __m512
#define VW 16
#define V_ZERO() _mm512_setzero_ps()
#define V_SET1(x) _mm512_set1_ps(x)
#define V_LOAD(p) _mm512_loadu_ps(p)
#define V_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define V_MUL(a, b) _mm512_mul_ps(a, b)
#define V_ADD(a, b) _mm512_add_ps(a, b)
#define V_LOADN(p, n) _mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1u), p)
#define V_STOREN(p, n, v) _mm512_mask_storeu_ps(p, (__mmask16)((1u << (n)) - 1u), v)
#define V_HALF8(v)                                                                                 \
    _mm256_add_ps(_mm512_castps512_ps256(v),                                                       \
                  _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)))
#define GV_CVTPH(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(p)))
#define GV_CVTI8(p) _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(p))))
#define GV_RNT(NB) ((NB) <= 3 ? 8 : 4)
#define GV_PF 8 /* bench_gemm, one row: 5-10 % faster than without; the AVX2 path loses with it */
#include "models/kernels/gemv_tmpl.h"

#endif

/* models/kernels/gemm_portable.c: the plain-C float32 GEMM (see kernels.h, gemm_tmpl.h): the same
 * blocking as the vector paths, scalar accumulators (the compiler may vectorise across the 8
 * columns of a panel). Runs anywhere; each product is rounded before it is added (no FMA
 * contraction in ISO C mode). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif
#include <stddef.h>

#include "models/kernels/gemm_isa.h"

#define KP portable
#define KNR 8
#define KRMAX 4
#define KNC NR_KNC_PORTABLE

static inline int kpanels(int R)
{
    return R <= 2 ? 2 : 1;
}

/* R x (P*8) scalar accumulators; R and P constants after inlining (ktile below), so the
 * compiler keeps them in registers and vectorises across the 8 columns of a panel */
static inline __attribute__((always_inline)) void
tile_c(const int R, const int P, int kc, const float *restrict ap, const float *restrict bp,
       size_t ps, float *restrict C, int ldc, int nlast, float alpha, float beta, int first)
{
    float acc[KRMAX][2][KNR];
    for (int r = 0; r < R; r++)
        for (int p = 0; p < P; p++)
            for (int c = 0; c < KNR; c++)
                acc[r][p][c] = 0.0f;
    for (int k = 0; k < kc; k++)
        for (int r = 0; r < R; r++) {
            float a = ap[k * R + r];
            for (int p = 0; p < P; p++) {
                const float *b = bp + p * ps + (size_t)k * KNR;
                for (int c = 0; c < KNR; c++)
                    acc[r][p][c] += a * b[c];
            }
        }
    for (int r = 0; r < R; r++)
        for (int p = 0; p < P; p++) {
            float *c = C + (size_t)r * ldc + p * KNR;
            int n = p == P - 1 ? nlast : KNR;
            for (int j = 0; j < n; j++) {
                float v = alpha * acc[r][p][j];
                if (!first)
                    v = c[j] + v;
                else if (beta != 0.0f)
                    v = beta * c[j] + v;
                c[j] = v;
            }
        }
}

static void ktile(int R, int P, int kc, const float *ap, const float *bp, size_t ps, float *C,
                  int ldc, int nlast, float alpha, float beta, int first)
{
#define KT(R_, P_)                                                                                 \
    case (R_) * 16 + (P_):                                                                         \
        tile_c(R_, P_, kc, ap, bp, ps, C, ldc, nlast, alpha, beta, first);                         \
        break;
    switch (R * 16 + P) {
        KT(1, 1) KT(1, 2) KT(2, 1) KT(2, 2) KT(3, 1) KT(4, 1)
    default: break;
    }
#undef KT
}

#include "models/kernels/gemm_tmpl.h"

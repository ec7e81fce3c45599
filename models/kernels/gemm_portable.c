/* models/kernels/gemm_portable.c: the plain-C float32 GEMM (see kernels.h, gemm_tmpl.h): the same
 * blocking as the vector paths, scalar accumulators (the compiler may vectorise across the 8
 * columns of a panel). Runs anywhere; each product is rounded before it is added (no FMA
 * contraction in ISO C mode). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif
#include <stddef.h>

#include "models/kernels/gemm_isa.h"
#include "models/quant.h"

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

/* The few-row streaming products (nr_kgemv, kernels.h; the vector paths' are gemv_tmpl.h), one
 * row of A at a time. transB = 1: a dot product per element in 8 partial sums (partial l takes
 * k = l, l+8, ...) added as ((s0+s1)+(s2+s3))+((s4+s5)+(s6+s7)). transB = 0: one chain over k per
 * element in blocks of NR_KC, combined with C as the tiles above (the bits of nr_kgemm here). */
/* the dot product of the transposed case: 8 partial sums (partial l takes k = l, l+8, ...), B's
 * element widened by LOADB (a float, or a float16 widened exactly: the same bits) */
#define KGEMV_NT_DOT(LOADB)                                                                        \
    do {                                                                                           \
        float s[8] = {0};                                                                          \
        int k = 0;                                                                                 \
        for (; k + 8 <= K; k += 8)                                                                 \
            for (int l = 0; l < 8; l++)                                                            \
                s[l] += a[k + l] * LOADB(k + l);                                                   \
        for (int l = 0; k + l < K; l++)                                                            \
            s[l] += a[k + l] * LOADB(k + l);                                                       \
        float v = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));              \
        v *= alpha;                                                                                \
        c[j] = beta != 0.0f ? beta * c[j] + v : v;                                                 \
    } while (0)

void nr_kgemv_portable(int transB, int M, int N, int K, float alpha, const float *A, int lda,
                       const float *B, int ldb, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++) {
        const float *a = A + (size_t)i * lda;
        float *c = C + (size_t)i * ldc;
        if (transB) {
            for (int j = 0; j < N; j++) {
                const float *b = B + (size_t)j * ldb;
#define KGEMV_F32(i) b[i]
                KGEMV_NT_DOT(KGEMV_F32);
#undef KGEMV_F32
            }
            continue;
        }
        for (int j0 = 0; j0 < N; j0 += 64) {
            int n = N - j0 < 64 ? N - j0 : 64;
            for (int k0 = 0; k0 < K; k0 += NR_KC) {
                int k1 = K - k0 < NR_KC ? K : k0 + NR_KC;
                float acc[64] = {0};
                for (int k = k0; k < k1; k++) {
                    float x = a[k];
                    const float *b = B + (size_t)k * ldb + j0;
                    for (int j = 0; j < n; j++)
                        acc[j] += x * b[j];
                }
                for (int j = 0; j < n; j++) {
                    float v = alpha * acc[j];
                    if (k0 > 0)
                        v = c[j0 + j] + v;
                    else if (beta != 0.0f)
                        v = beta * c[j0 + j] + v;
                    c[j0 + j] = v;
                }
            }
        }
    }
}

/* nr_kgemv_f16 (kernels.h): the transposed case above with B (N,K) float16, each element widened
 * exactly (nr_f16_to_f32) before its product: the bits of nr_kgemv_portable on the float32 B */
void nr_kgemv_f16_portable(int M, int N, int K, float alpha, const float *A, int lda,
                           const uint16_t *B, int ldb, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++) {
        const float *a = A + (size_t)i * lda;
        float *c = C + (size_t)i * ldc;
        for (int j = 0; j < N; j++) {
            const uint16_t *b = B + (size_t)j * ldb;
#define KGEMV_F16(i) nr_f16_to_f32(b[i])
            KGEMV_NT_DOT(KGEMV_F16);
#undef KGEMV_F16
        }
    }
}

/* nr_kgemv_i8 (kernels.h): the transposed case above with W (N,K) = B (N,K) int8 times scale (N)
 * by row, each element fl((float)q * s_j) before its product (nr_dequant_i8_row's value): the
 * bits of nr_kgemv_portable on the widened float32 W */
void nr_kgemv_i8_portable(int M, int N, int K, float alpha, const float *A, int lda,
                          const int8_t *B, const float *scale, int ldb, float beta, float *C,
                          int ldc)
{
    for (int i = 0; i < M; i++) {
        const float *a = A + (size_t)i * lda;
        float *c = C + (size_t)i * ldc;
        for (int j = 0; j < N; j++) {
            const int8_t *b = B + (size_t)j * ldb;
            const float sj = scale[j];
#define KGEMV_I8(i) ((float)b[i] * sj)
            KGEMV_NT_DOT(KGEMV_I8);
#undef KGEMV_I8
        }
    }
}

/* models/kernels/gemm_tmpl.h: the blocked GEMM driver, included once by each ISA file
 * (gemm_portable.c, gemm_avx2.c, gemm_avx512.c), which first defines:
 *
 *   KP            the path's suffix (portable, avx2, avx512): the functions defined here are
 *                 nr_kpack_KP, nr_kgemm_packed_KP, nr_kgemm_KP (declared in gemm_isa.h)
 *   KNR           panel width in floats (one vector)
 *   KRMAX         most rows of A in one tile
 *   KNC           columns of B per block (a multiple of KNR): the packed block NR_KC x KNC
 *                 stays in L2 while every R-row strip of A sweeps it
 *   kpanels(R)    panels per tile for R rows (R*kpanels(R) accumulators)
 *   ktile(R, P, kc, ap, bp, ps, C, ldc, nlast, alpha, beta, first)
 *                 the tile: C[r][0 : P*KNR] (the last panel only nlast columns) for r < R,
 *                 acc = sum over k < kc of ap[k*R + r] * bp[p*ps + k*KNR + c] (one FMA chain per
 *                 element, k increasing), then first ? alpha*acc + beta*C (C unread if beta = 0)
 *                 : C + alpha*acc
 *
 * Shapes (row-major, see kernels.h): C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C.
 * Loops, outer to inner: column blocks of KNC, k blocks of NR_KC (B block packed, in L2), strips
 * of KRMAX rows of A (packed k-major on the stack, in L1), tiles of kpanels(R) panels.
 */
#include <stdint.h>
#include <string.h>

#include "models/kernels/kernels.h"

#define KCAT2(a, b) a##_##b
#define KCAT(a, b) KCAT2(a, b)
#define KFN(name) KCAT(name, KP)

/* ap (kc, R) = op(A)[i0 : i0+R][k0 : k0+kc], k-major: ap[k*R + r] */
static void KFN(pack_a)(float *restrict ap, int transA, const float *restrict A, int lda, int i0,
                        int R, int k0, int kc)
{
    if (!transA) {
        for (int r = 0; r < R; r++) {
            const float *src = A + (size_t)(i0 + r) * lda + k0;
            for (int k = 0; k < kc; k++)
                ap[k * R + r] = src[k];
        }
    } else {
        for (int k = 0; k < kc; k++) {
            const float *src = A + (size_t)(k0 + k) * lda + i0;
            for (int r = 0; r < R; r++)
                ap[k * R + r] = src[r];
        }
    }
}

/* The strips of rows [0, mb) of op(A) = A^T (A (K,M), transA) for k in [k0, k0+kc), strip s
 * (KRMAX rows, the last one R = mb - s*KRMAX) at abuf + s*KRMAX*kc, k-major as pack_a: each row
 * k of A is read once, contiguously (packing strip by strip would touch one cache line and one
 * page per k for 8 floats). */
static void KFN(pack_a_block)(float *restrict abuf, const float *restrict A, int lda, int mb,
                              int k0, int kc)
{
    for (int k = 0; k < kc; k++) {
        const float *src = A + (size_t)(k0 + k) * lda;
        for (int i0 = 0; i0 < mb; i0 += KRMAX) {
            int R = mb - i0 < KRMAX ? mb - i0 : KRMAX;
            float *d = abuf + (size_t)i0 * kc + (size_t)k * R;
            for (int r = 0; r < R; r++)
                d[r] = src[i0 + r];
        }
    }
}

/* dst = op(B) (K,N) as panels of KNR columns, panel j at dst + j*K*KNR, row k of it at k*KNR,
 * columns past N zero. B points at op(B)[0][0]: B (K,N) or, transB, B^T with B (N,K). */
static void KFN(pack_b)(float *restrict dst, int transB, int K, int N, const float *restrict B,
                        int ldb)
{
    for (int j0 = 0; j0 < N; j0 += KNR) {
        float *d = dst + (size_t)(j0 / KNR) * K * KNR;
        int n = N - j0 < KNR ? N - j0 : KNR;
        if (!transB) {
            for (int k = 0; k < K; k++) {
                const float *src = B + (size_t)k * ldb + j0;
                float *dk = d + (size_t)k * KNR;
                for (int c = 0; c < n; c++)
                    dk[c] = src[c];
                for (int c = n; c < KNR; c++)
                    dk[c] = 0.0f;
            }
        } else {
            /* transpose in chunks of 16 k, so the chunk of d being written stays in L1 */
            for (int k0 = 0; k0 < K; k0 += 16) {
                int kn = K - k0 < 16 ? K - k0 : 16;
                for (int c = 0; c < n; c++) {
                    const float *src = B + (size_t)(j0 + c) * ldb + k0;
                    float *dc = d + (size_t)k0 * KNR + c;
                    for (int k = 0; k < kn; k++)
                        dc[(size_t)k * KNR] = src[k];
                }
                for (int c = n; c < KNR; c++)
                    for (int k = 0; k < kn; k++)
                        d[(size_t)(k0 + k) * KNR + c] = 0.0f;
            }
        }
    }
}

void KFN(nr_kpack)(float *dst, int transB, int K, int N, const float *B, int ldb)
{
    KFN(pack_b)(dst, transB, K, N, B, ldb);
}

/* One (column block, k block): C (M, nc) (+)= op(A)[:, k0:k0+kc] Bblk, Bblk = the block's panels
 * (panel p at Bblk + p*ps). apre: op(A)'s strips already packed (pack_a_block), or NULL. */
static void KFN(macro)(int transA, int M, int nc, int kc, int k0, float alpha, const float *A,
                       int lda, const float *apre, const float *Bblk, size_t ps, float beta,
                       int first, float *C, int ldc)
{
    float abuf[KRMAX * NR_KC] __attribute__((aligned(64)));
    int np = (nc + KNR - 1) / KNR;
    for (int i0 = 0; i0 < M; i0 += KRMAX) {
        int R = M - i0 < KRMAX ? M - i0 : KRMAX;
        const float *ap = abuf;
        if (apre)
            ap = apre + (size_t)i0 * kc;
        else
            KFN(pack_a)(abuf, transA, A, lda, i0, R, k0, kc);
        int P = kpanels(R);
        for (int p0 = 0; p0 < np; p0 += P) {
            int pp = np - p0 < P ? np - p0 : P;
            int nlast = nc - (p0 + pp - 1) * KNR;
            nlast = nlast < KNR ? nlast : KNR;
            ktile(R, pp, kc, ap, Bblk + (size_t)p0 * ps, ps, C + (size_t)i0 * ldc + p0 * KNR,
                  ldc, nlast, alpha, beta, first);
        }
    }
}

void KFN(nr_kgemm_packed)(int transA, int M, int N, int K, float alpha, const float *A, int lda,
                          const float *Bp, float beta, float *C, int ldc)
{
    for (int j0 = 0; j0 < N; j0 += KNC) {
        int nc = N - j0 < KNC ? N - j0 : KNC;
        for (int k0 = 0; k0 < K; k0 += NR_KC) {
            int kc = K - k0 < NR_KC ? K - k0 : NR_KC;
            KFN(macro)(transA, M, nc, kc, k0, alpha, A, lda, NULL,
                       Bp + (size_t)(j0 / KNR) * K * KNR + (size_t)k0 * KNR, (size_t)K * KNR, beta,
                       k0 == 0, C + j0, ldc);
        }
    }
}

/* buf: NR_KC * (KNC + NR_KMC) floats (the caller's per-thread buffer): the B block, then (transA)
 * the strips of NR_KMC rows of A */
void KFN(nr_kgemm)(int transA, int transB, int M, int N, int K, float alpha, const float *A,
                   int lda, const float *B, int ldb, float beta, float *C, int ldc, float *buf)
{
    float *abuf = buf + (size_t)NR_KC * KNC;
    for (int j0 = 0; j0 < N; j0 += KNC) {
        int nc = N - j0 < KNC ? N - j0 : KNC;
        for (int k0 = 0; k0 < K; k0 += NR_KC) {
            int kc = K - k0 < NR_KC ? K - k0 : NR_KC;
            const float *Bk = transB ? B + (size_t)j0 * ldb + k0 : B + (size_t)k0 * ldb + j0;
            KFN(pack_b)(buf, transB, kc, nc, Bk, ldb);
            if (!transA) {
                KFN(macro)(0, M, nc, kc, k0, alpha, A, lda, NULL, buf, (size_t)kc * KNR, beta,
                           k0 == 0, C + j0, ldc);
                continue;
            }
            for (int i0 = 0; i0 < M; i0 += NR_KMC) {
                int mb = M - i0 < NR_KMC ? M - i0 : NR_KMC;
                KFN(pack_a_block)(abuf, A + i0, lda, mb, k0, kc);
                KFN(macro)(1, mb, nc, kc, k0, alpha, A + i0, lda, abuf, buf, (size_t)kc * KNR,
                           beta, k0 == 0, C + (size_t)i0 * ldc + j0, ldc);
            }
        }
    }
}

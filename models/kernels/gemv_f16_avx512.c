/* models/kernels/gemv_f16_avx512.c: Y (nb,M) = X (nb,K) W^T with W stored as float16, AVX-512
 * (NR_F16_AVX512, models/gemv_f16.h). Compiled with -mavx512f -mfma -mf16c (CMakeLists.txt) on
 * x86-64 only; called only after the CPU check (nr_f16_kernel_usable).
 *
 * As the AVX2 kernel (models/gemv_f16.c) with 16 halves a load: each 32-byte piece of a row of W
 * is widened exactly (vcvtph2ps zmm) and fused into float32 accumulators, one per (row, batch
 * row), 16 lanes each, for up to 4 batch rows at once; then the lanes are summed and the columns
 * past the last multiple of 16 added in scalar order. Each element of Y depends on its row of W
 * and its row of X only (not on M, nb or the rows around it). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__AVX512F__) && defined(__F16C__)
#include <immintrin.h>

#if defined(__clang__)
#define KUNROLL _Pragma("clang loop unroll(full)")
#else
#define KUNROLL _Pragma("GCC unroll 8")
#endif

void nr_gemm_f16_avx512(float *Y, int ldy, const float *X, int ldx, const uint16_t *W, int ldw,
                        int M, int K, int nb);

static inline __attribute__((always_inline)) void
block(float *Y, int ldy, const float *X, int ldx, const uint16_t *W, int ldw, int i0, int K,
      const int R, const int NB)
{
    __m512 acc[8][4]; // (R,NB) lanes
    KUNROLL for (int r = 0; r < R; r++)
        KUNROLL for (int b = 0; b < NB; b++)
            acc[r][b] = _mm512_setzero_ps();
    int K16 = K & ~15;
    for (int k = 0; k < K16; k += 16) {
        __m512 xv[4]; // (NB) x[b][k:k+16]
        KUNROLL for (int b = 0; b < NB; b++)
            xv[b] = _mm512_loadu_ps(X + (size_t)b * ldx + k);
        KUNROLL for (int r = 0; r < R; r++) {
            __m512 w = _mm512_cvtph_ps(
                _mm256_loadu_si256((const __m256i *)(W + (size_t)(i0 + r) * ldw + k)));
            KUNROLL for (int b = 0; b < NB; b++)
                acc[r][b] = _mm512_fmadd_ps(w, xv[b], acc[r][b]);
        }
    }
    for (int r = 0; r < R; r++) {
        const uint16_t *w = W + (size_t)(i0 + r) * ldw;
        for (int b = 0; b < NB; b++) {
            const float *x = X + (size_t)b * ldx;
            float s = _mm512_reduce_add_ps(acc[r][b]);
            for (int k = K16; k < K; k++)
                s += _cvtsh_ss(w[k]) * x[k];
            Y[(size_t)b * ldy + i0 + r] = s;
        }
    }
}

static inline __attribute__((always_inline)) void
rows(float *Y, int ldy, const float *X, int ldx, const uint16_t *W, int ldw, int M, int K,
     const int R, const int NB)
{
    int i = 0;
    for (; i + R <= M; i += R)
        block(Y, ldy, X, ldx, W, ldw, i, K, R, NB);
    for (; i < M; i++)
        block(Y, ldy, X, ldx, W, ldw, i, K, 1, NB);
}

/* batch rows in groups of at most 4; accumulators per group: 8 rows x 1, 8 x 2, 4 x 3, 4 x 4 */
void nr_gemm_f16_avx512(float *Y, int ldy, const float *X, int ldx, const uint16_t *W, int ldw,
                        int M, int K, int nb)
{
    for (int b0 = 0; b0 < nb; b0 += 4) {
        float *y = Y + (size_t)b0 * ldy;
        const float *x = X + (size_t)b0 * ldx;
        switch (nb - b0 < 4 ? nb - b0 : 4) {
        case 1: rows(y, ldy, x, ldx, W, ldw, M, K, 8, 1); break;
        case 2: rows(y, ldy, x, ldx, W, ldw, M, K, 8, 2); break;
        case 3: rows(y, ldy, x, ldx, W, ldw, M, K, 4, 3); break;
        default: rows(y, ldy, x, ldx, W, ldw, M, K, 4, 4); break;
        }
    }
}
#endif

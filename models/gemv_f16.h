/* models/gemv_f16.h: products with a float16-stored weight matrix, float32 everywhere else
 * (internal, not installed; inference only: there is no backward through these).
 *
 *   Y (nb, M) = X (nb, K) W^T      W (M, K) row-major IEEE binary16, row stride ldw
 *                                  X (nb, K) float32, row stride ldx
 *                                  Y (nb, M) float32, row stride ldy (overwritten, beta = 0)
 *
 * For nb = 1 this is the matrix-vector product y = W x of one recurrent step (W = W_hh (G*H, H),
 * x = h_{t-1}). Every half is widened to float32 exactly (binary16 -> binary32 loses nothing), so
 * the products are those of the float32 matrix holding the same values; only the order of the
 * float32 sums differs from CBLAS's. The point is the bytes: at batch 1 a recurrent step is bound
 * by reading W, and float16 halves them.
 *
 * Two kernels compute it:
 *   NR_F16_SCALAR  portable C (any CPU, any compiler): widen one row chunk, then dot products
 *   NR_F16_AVX2    x86-64 with AVX2 + FMA + F16C: 8 halves a load widened in registers
 *                  (vcvtph2ps) and fused into float32 accumulators (vfmadd), rows and batch rows
 *                  blocked so each chunk of W is read once for up to 4 batch rows
 * nr_f16_kernel_best() picks the fastest one the running CPU supports; callers keep the choice
 * in their own state (the encoder: nr_encoder.f16_kernel), so a test can force the scalar one.
 * Both kernels give results that depend only on (M, K, nb, kernel), never on timing or threads.
 */
#ifndef NR_MODELS_GEMV_F16_H
#define NR_MODELS_GEMV_F16_H

#include <stdint.h>

enum nr_f16_kernel { NR_F16_SCALAR = 0, NR_F16_AVX2 = 1 };

/* The fastest kernel this CPU runs (NR_F16_AVX2 when it has AVX2, FMA and F16C). */
int nr_f16_kernel_best(void);
/* 1 if kernel can run on this CPU (NR_F16_SCALAR always can). */
int nr_f16_kernel_usable(int kernel);

/* Y (nb,M) = X (nb,K) W^T with W (M,K) float16 (see above). nb, M, K >= 0. kernel must be one
 * nr_f16_kernel_usable() accepts (checked once by the caller, not per call: the CPU query is
 * slow); an unknown value, or NR_F16_AVX2 on a build without x86-64 intrinsics, runs
 * NR_F16_SCALAR. */
void nr_gemm_f16(float *Y, int ldy, const float *X, int ldx, const uint16_t *W, int ldw, int M,
                 int K, int nb, int kernel);

#endif

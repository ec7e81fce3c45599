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
 * Three kernels compute it:
 *   NR_F16_SCALAR  portable C (any CPU, any compiler): widen one row chunk, then dot products
 *   NR_F16_AVX2    x86-64 with AVX2 + FMA + F16C: 8 halves a load widened in registers
 *                  (vcvtph2ps) and fused into float32 accumulators (vfmadd), rows and batch rows
 *                  blocked so each chunk of W is read once for up to 4 batch rows
 *   NR_F16_AVX512  the same with AVX-512 F: 16 halves a load, 16-lane accumulators
 *                  (models/kernels/gemv_f16_avx512.c)
 * nr_f16_kernel_best() picks the kernel of the path in force (models/kernels/kernels.h: the
 * environment variable NLPRNN_KERNEL=portable|avx2|avx512, else the best this CPU runs); callers
 * keep the choice in their own state (the encoder: nr_encoder.f16_kernel), so a test can force
 * another. Each kernel's results depend only on (M, K, nb, kernel) -- an element of Y only on its
 * row of W and of X --, never on timing or threads.
 */
#ifndef NR_MODELS_GEMV_F16_H
#define NR_MODELS_GEMV_F16_H

#include <stddef.h>
#include <stdint.h>

enum nr_f16_kernel { NR_F16_SCALAR = 0, NR_F16_AVX2 = 1, NR_F16_AVX512 = 2 };

/* The kernel of the path in force (see above): NR_F16_AVX512 when it is avx512 (and the CPU has
 * F16C), NR_F16_AVX2 for avx2 (with F16C), else NR_F16_SCALAR. */
int nr_f16_kernel_best(void);
/* 1 if kernel can run on this CPU (NR_F16_SCALAR always can). */
/* "scalar", "avx2", "avx512" (NULL for an unknown kernel). */
const char *nr_f16_kernel_name(int kernel);
int nr_f16_kernel_usable(int kernel);

/* Y (nb,M) = X (nb,K) W^T with W (M,K) float16 (see above). nb, M, K >= 0. kernel must be one
 * nr_f16_kernel_usable() accepts (checked once by the caller, not per call: the CPU query is
 * slow); an unknown value, or a vector kernel on a build without x86-64 intrinsics, runs
 * NR_F16_SCALAR. */
void nr_gemm_f16(float *Y, int ldy, const float *X, int ldx, const uint16_t *W, int ldw, int M,
                 int K, int nb, int kernel);

/* out[i] = the float32 value of half i of n halves stored little-endian at in (any alignment):
 * nr_f16_to_f32 (models/quant.h) bit for bit, NaN payloads included; 8 halves an instruction
 * (F16C vcvtph2ps) when the kernel of the path in force is a vector one (loading a float16 model:
 * 2.3 million weights). */
void nr_f16_widen(float *out, const unsigned char *in, size_t n);

/* The index of the first of n halves stored little-endian at in (any alignment) that is NaN or
 * infinite (its exponent bits all ones), or n when all are finite. One pass over the bytes, 32
 * halves a step (AVX2) when the kernel of the path in force is a vector one, else 4 (64-bit
 * words); the element is then looked for only in a tensor that has one. */
size_t nr_f16_first_nonfinite(const unsigned char *in, size_t n);

#endif

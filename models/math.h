/* models/math.h: the numeric kernels every layer uses (internal, not installed).
 *
 *   nr_sgemm            row-major C = alpha * op(A) op(B) + beta * C: our kernels
 *                       (models/kernels/kernels.h) where measured faster for the shape and for
 *                       every small product, else the CBLAS (loaded then: common/blas.h)
 *   nr_sigmoid/nr_tanh  scalar activations (float, saturating safely)
 *   nr_init_*           seeded initialisers: Glorot uniform, orthogonal (as Keras), uniform
 *   nr_parallel_run     fork-join over the library's thread pool (common/pool.h, included here)
 *
 * Conventions (docs/contributing.md): outputs first, dimensions last; every matrix is row-major and
 * its shape is written as (rows,cols). Nothing here allocates except nr_init_orthogonal (scratch).
 */
#ifndef NR_MODELS_MATH_H
#define NR_MODELS_MATH_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "common/pool.h"

/* C (M,N) = alpha * op(A) * op(B) + beta * C, row-major, on the calling thread (nr_blas_own).
 * Our kernels when the CBLAS cannot be loaded (nr_blas_status says why).
 * op(A) is (M,K): A is (M,K) with lda >= K, or (K,M) with lda >= M when transA.
 * op(B) is (K,N): B is (K,N) with ldb >= N, or (N,K) with ldb >= K when transB. */
void nr_sgemm(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc);
/* The same product on the CBLAS alone, as nr_sgemm calls it (sgemv for M = 1, else sgemm; one
 * thread: nr_blas_own), whatever our kernels would take: benchmarks (bench_gemm's CBLAS column).
 * 0, or -1 when the CBLAS cannot be loaded (nothing written). M, N, K >= 1. */
int nr_sgemm_cblas(int transA, int transB, int M, int N, int K, float alpha, const float *A,
                   int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* ---- products with a weight packed once ----------------------------------------------------------
 * A weight B used as op(B) in many products while its values do not change (a decoder's weights
 * over the steps of one batch) need not be packed for each of them. nr_sgemm_pk computes what
 * nr_sgemm computes, routed the same way; where that is our unpacked kernel (nr_kgemm, which packs
 * op(B) block by block at every call), it packs op(B) whole into pk the first time and multiplies
 * with the packed copy after that (nr_kgemm_packed): the same path and the same chain per element,
 * so the same bits (models/kernels/kernels.h, "Rounding and determinism"). One-row products
 * (nr_kgemv) and the CBLAS's never pack, so a process that never takes that route never allocates.
 * The copy belongs to one thread (a workspace). After the values of B change, nr_pk_stale must be
 * called before the next product; a different B, shape or path repacks by itself. */
typedef struct nr_pk {
    float *buf;        /* the packed op(B) (nr_kpack_floats), grown once, reused */
    size_t cap;        /* floats in buf */
    const float *B;    /* what buf holds: op(B) of B, transB, K, N, ldb on path `path` */
    int transB, K, N, ldb, path, valid;
} nr_pk;
/* 1 when nr_sgemm routes A (M,K) op(B) (K,N) (A not transposed) to our unpacked kernel, so that
 * nr_kgemm_packed with op(B) packed by nr_kpack (path nr_kpath()) gives its bits. */
int nr_sgemm_packs(int transB, int M, int N, int K);
/* C (M,N) = alpha * A (M,K) op(B) (K,N) + beta * C (A not transposed), as nr_sgemm. */
void nr_sgemm_pk(nr_pk *pk, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc);
/* A weight B (N,K) (row stride ldb) kept also in a compact form holding exactly its values, as a
 * model file stored them (a loaded model's weights never change): float16 halves h (N,K),
 * B[j][k] = f32(h[j][k]); or int8 rows q (N,K) with a float32 scale each (scale (N), finite,
 * >= 0), B[j][k] = fl(q[j][k] * scale[j]), the value nr_dequant_i8_row (models/quant.h) widens
 * it to. Row stride ldb for either. One form or none (all NULL). */
typedef struct nr_wcopy {
    const uint16_t *h;
    const int8_t *q;
    const float *scale;
} nr_wcopy;
/* The same with op(B) = B^T, B (N,K) given as float32 (B) and, when Bc holds one, as its compact
 * copy (Bc NULL, or all NULL: none): where nr_sgemm would take nr_kgemv (one row, or 2-31 rows of
 * a large B) and the path runs the copy's kernel (float16: nr_kgemv_f16_usable; int8: every
 * path), nr_kgemv_f16 / nr_kgemv_i8 read the copy (the same bits as nr_kgemv on B, for half /
 * a quarter of the bytes: a decoder's step at batch 1 or a small beam); else nr_sgemm_pk with B
 * (more rows: the packed GEMM, as without a copy). Inference only (the copy must hold B's values:
 * a weight that changes needs a new copy). */
void nr_sgemm_pk_copy(nr_pk *pk, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *B, const nr_wcopy *Bc, int ldb, float beta, float *C, int ldc);
/* The values of B changed: the next product packs again. */
void nr_pk_stale(nr_pk *pk);
/* Frees the copy (pk itself is the caller's); pk may be NULL. */
void nr_pk_free(nr_pk *pk);

/* log Σ_k exp(z_k) over z (n), in double, stably (max first); the kernel path's (nr_klse,
 * models/kernels/kernels.h: the paths' bits differ, within 1e-14 relative). */
double nr_lse(const float *z, int n);

/* y (n) = x (n) */
void nr_copy(float *y, const float *x, size_t n);
/* y (n) += a * x (n) */
void nr_axpy(float *y, float a, const float *x, size_t n);
/* sum of squares of x (n), accumulated in double in eight lanes (i mod 8) added in a fixed tree */
double nr_sumsq(const float *x, size_t n);

/* sigmoid(x) = 1 / (1 + exp(-x)), computed without overflow for any finite x. */
float nr_sigmoid(float x);
/* tanh(x) */
float nr_tanh(float x);

/* Glorot (Xavier) uniform: w (rows,cols) ~ U(-a, a), a = sqrt(6 / (fan_in + fan_out)), with
 * fan_in = cols and fan_out = rows (a weight applied as y = W x). Same limit as Keras's
 * glorot_uniform for its transposed kernel (fan_in, fan_out). */
void nr_init_glorot_uniform(float *w, int rows, int cols, nr_rng *rng);
/* Orthogonal, as Keras's Orthogonal(gain=1): draw a standard-normal (max,min) matrix, take the Q of
 * its QR decomposition with sign(diag(R)) folded in (modified Gram-Schmidt in double), transpose if
 * rows < cols. For a recurrent weight w (G*H, H) every column is orthonormal. */
int nr_init_orthogonal(float *w, int rows, int cols, nr_rng *rng, nlprnn_error *err);
/* w (n) ~ U(lo, hi) */
void nr_init_uniform(float *w, size_t n, float lo, float hi, nr_rng *rng);

#endif

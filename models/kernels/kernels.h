/* models/kernels/kernels.h: our own float32 GEMM micro-kernels, one family per instruction set,
 * picked at run time (internal, not installed).
 *
 *   C (M,N) = alpha * op(A) (M,K) * op(B) (K,N) + beta * C          row-major, as nr_sgemm
 *
 * ---- Paths ---------------------------------------------------------------------------------------
 * A path is one family of kernels:
 *   NR_KPATH_PORTABLE  plain C (any CPU, any compiler)
 *   NR_KPATH_AVX2      x86-64 AVX2 + FMA       (8-float ymm, 6x16 tiles, 16 registers)
 *   NR_KPATH_AVX512    x86-64 AVX-512 F        (16-float zmm, 8x48 tiles, 32 registers)
 * Each ISA's code sits in its own file compiled with that ISA's flags (CMakeLists.txt), and is
 * only called after the CPU check, so the library builds on any x86-64 (or other) machine and
 * runs on CPUs without AVX-512 or AVX2. nr_kpath() is the path in force: the environment
 * variable NLPRNN_KERNEL=portable|avx2|avx512 when set (read once; a path the CPU cannot run, or
 * an unknown name, falls back to the best one the CPU runs), else the best one. The same
 * variable picks the float16 recurrent kernel (models/gemv_f16.h).
 *
 * nr_sgemm (models/math.c) sends a product here where the path's kernel was measured faster
 * than the CBLAS it replaces (nr_kgemm_use; for training's backward products on AVX-512, faster
 * than the kernels the loaded CBLAS runs: nr_kgemm_rule; the measurements are in
 * docs/benchmarks.md, section "kernels"), every small product (fewer than 32 rows and a small op(B), on every path: so one
 * short text never loads the CBLAS, models/math.c), one-row products and few rows of a large
 * transposed op(B) to nr_kgemv (nr_kgemv_use: a kernel that streams op(B) unpacked, as a CBLAS's
 * sgemv does), and every product when the CBLAS cannot be loaded; the others go to the CBLAS.
 *
 * ---- Method (BLIS-style) -------------------------------------------------------------------------
 * op(B) is packed into panels of NR columns (zero-padded past N): panel j holds op(B)[k][jNR+c]
 * at k*NR + c, k = 0..K-1, so a weight packed once (nr_kpack) serves every later product with it
 * (the recurrent W_hh of a sequence: 32 steps, one pack). op(A) is packed R rows at a time
 * (k-major, on the stack). A tile of R rows x P panels keeps R*P vector accumulators; per k it
 * broadcasts R values of A and loads P vectors of B.
 *
 * ---- Rounding and determinism --------------------------------------------------------------------
 * Every element of C is one float32 fused multiply-add chain over k in increasing order, in
 * blocks of NR_KC: acc = sum over the block; the first block gives C = alpha*acc + beta*C (C not
 * read when beta = 0), each later block C += alpha*acc. So the result of an element depends on K
 * and the path only: not on M, N, its position, the thread, nor the alignment of the data. A row
 * gives the same bits alone or in a batch, and a product split by rows across threads gives the
 * bits of the product in one piece. The portable path rounds each product before adding it
 * (no FMA), so its bits differ from the other paths' (tests compare each to a double reference).
 */
#ifndef NR_MODELS_KERNELS_H
#define NR_MODELS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

enum nr_kpath { NR_KPATH_PORTABLE = 0, NR_KPATH_AVX2 = 1, NR_KPATH_AVX512 = 2, NR_KPATH_COUNT = 3 };

/* k block: every path sums each element in blocks of this many k */
#define NR_KC 256

/* The path in force (see above). Cheap after the first call (cached). Thread-safe. */
int nr_kpath(void);
/* The best path this CPU runs (AVX-512 > AVX2 > portable). */
int nr_kpath_best(void);
/* 1 if this CPU (and build) runs path p. */
int nr_kpath_usable(int p);
/* "portable", "avx2", "avx512" (NULL for an unknown p); and back (-1 for an unknown name). */
const char *nr_kpath_name(int p);
int nr_kpath_from_name(const char *name);
/* Tests and benchmarks: make p the path in force (p must be usable; -1 = back to the default).
 * Not for concurrent use with products in flight. */
void nr_kpath_set(int p);

/* Panel width (floats) of path p: 16 (AVX-512), 8 (AVX2, portable). */
int nr_kpath_nr(int p);
/* Floats a pack of op(B) (K,N) takes on path p: ceil(N/NR)*NR*K. */
size_t nr_kpack_floats(int p, int K, int N);
/* Pack op(B) (K,N) for path p into dst (nr_kpack_floats floats, 64-byte aligned preferred):
 * op(B) = B (K,N), ldb >= N, or with transB B^T where B is (N,K), ldb >= K. */
void nr_kpack(int p, float *dst, int transB, int K, int N, const float *B, int ldb);

/* C (M,N) = alpha op(A) op(B) + beta C with op(B) packed by nr_kpack(p, ., ., K, N, ...).
 * op(A) = A (M,K), lda >= K, or with transA A^T where A is (K,M), lda >= M. M, N, K >= 1. */
void nr_kgemm_packed(int p, int transA, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *Bp, float beta, float *C, int ldc);
/* The same with op(B) unpacked (packed block by block into a per-thread buffer). Returns 0, or -1
 * when that buffer cannot be allocated (nothing written; the caller falls back to CBLAS). */
int nr_kgemm(int p, int transA, int transB, int M, int N, int K, float alpha, const float *A,
             int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* C (M,N) = alpha A op(B) + beta C for few rows of A (A (M,K), lda >= K, not transposed),
 * streaming op(B) from where it lies, never packed: B (N,K) with transB (ldb >= K), else (K,N)
 * (ldb >= N). Made for one row (batch-1 inference: a recurrent step h W_hh^T, the LM's output
 * h W_out^T), where packing op(B) costs more than the product. transB reads B from memory once
 * (blocks of its rows, swept by every group of 4 (AVX2: 3) rows of A while in L1); without
 * transB it reads B once per row of A. Needs no buffer.
 * Rounding (gemv_tmpl.h): without transB each element is the GEMM's chain, the bits of nr_kgemm
 * on the same path; with transB each element is a sum of VW lane-wise partial sums (16 AVX-512,
 * 8 AVX2 and portable) added in a fixed tree, so it differs from nr_kgemm's in the last bits.
 * Either way an element depends only on its row of A, its row/column of B, K, alpha, beta and
 * the path. M, N, K >= 1. */
void nr_kgemv(int p, int transB, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc);

/* C (M,N) = alpha A (M,K) B^T + beta C with B (N,K) stored as IEEE binary16 (row stride ldb >= K):
 * nr_kgemv's transposed case with every half widened exactly to float32 before the same FMA, in
 * the same lanes and the same order of sums (gemv_tmpl.h; portable: gemm_portable.c), so the bits
 * of nr_kgemv(p, 1, ...) on the float32 matrix holding the same values, reading half the bytes
 * (a decoder step at batch 1 is bound by reading its weights). Path p must be one
 * nr_kgemv_f16_usable accepts. Inference only. M, N, K >= 1. */
void nr_kgemv_f16(int p, int M, int N, int K, float alpha, const float *A, int lda,
                  const uint16_t *B, int ldb, float beta, float *C, int ldc);
/* 1 if nr_kgemv_f16 runs on path p here: p usable and, for avx2/avx512, the CPU has F16C
 * (asked once). */
int nr_kgemv_f16_usable(int p);
/* Calls of nr_kgemv_f16 so far in this process (also counted by nr_kgemv_count). */
long nr_kgemv_f16_count(void);

/* C (M,N) = alpha A (M,K) W^T + beta C with W (N,K) stored as int8 rows and a float32 scale each:
 * W[j][k] = fl(B[j][k] * scale[j]) (B (N,K) int8, row stride ldb >= K; scale (N) finite, >= 0),
 * the value nr_dequant_i8_row (models/quant.h) widens a model file's weight to. nr_kgemv's
 * transposed case with each byte converted exactly to float32 and multiplied by its row's scale
 * (one rounding, the loader's) before the same FMA, in the same lanes and the same order of sums
 * (gemv_tmpl.h; portable: gemm_portable.c): the bits of nr_kgemv(p, 1, ...) on the widened
 * float32 W, reading a quarter of its bytes. Runs on every usable path p. Inference only.
 * M, N, K >= 1. */
void nr_kgemv_i8(int p, int M, int N, int K, float alpha, const float *A, int lda,
                 const int8_t *B, const float *scale, int ldb, float beta, float *C, int ldc);
/* Calls of nr_kgemv_i8 so far in this process (also counted by nr_kgemv_count). */
long nr_kgemv_i8_count(void);

/* Tests: on = 1 makes nr_kgemm act as if its block buffer could not be allocated (it returns -1,
 * so nr_sgemm without a CBLAS falls back to its plain loops); 0 undoes it. Process-wide. */
void nr_kgemm_fail_buffer(int on);

/* Products computed by nr_kgemm_packed (packed = 1) or nr_kgemm (0), and by nr_kgemv, so far in
 * this process, on any thread (tests: that a call site really uses the kernels). */
long nr_kgemm_count(int packed);
long nr_kgemv_count(void);

/* op(B) of at most NR_KSMALL_BK floats (1 MiB) is "small": nr_sgemm gives products of 2 to 31
 * rows with it to nr_kgemm on every path (models/math.c). */
#define NR_KSMALL_BK ((size_t)1 << 18)
/* 1 if on path p nr_kgemv is the choice for this product (A not transposed), measured against
 * OpenBLAS's sgemv / sgemm and our other kernels with bench_gemm (docs/benchmarks.md, "One-row
 * products"): on the vector paths every one-row product and 2-31 rows of a transposed op(B) of
 * more than NR_KSMALL_BK floats; on the portable path one-row products of at most NR_KGEMV_TINY
 * floats (its kernels are slower than a CBLAS's but for tiny products). */
#define NR_KGEMV_TINY ((size_t)4096)
int nr_kgemv_use(int p, int transB, int M, int N, int K);

/* 1 if on path p our kernel is the faster choice for this product shape (the rule nr_sgemm
 * follows; packed: B was packed beforehand, so no packing cost). On AVX-512 the choice for the
 * unpacked products of 32 rows and more other than A op(B)^T (the backward products of training:
 * weight gradients, dX) depends on the kernels the CBLAS runs (nr_kgemm_rule): for those shapes
 * only, this asks nr_blas_corename, which loads the CBLAS if it is not loaded. A op(B)^T (the
 * forward products: input projection, LM output) never asks, so inference never loads it. */
int nr_kgemm_use(int p, int transA, int transB, int M, int N, int K, int packed);

/* The rule of nr_kgemm_use with the CBLAS's corename given by core() (as nr_blas_corename:
 * OpenBLAS's openblas_get_corename, "" for a CBLAS that does not say), called only when the
 * answer depends on it; core may be NULL (an unknown CBLAS). Tests inject corenames here.
 * Measured one core (docs/benchmarks.md, "Routing by the kernels the CBLAS runs"): against
 * OpenBLAS's AVX-512 kernels our unpacked AVX-512 kernel wins the input projection (NT:
 * 1.0-1.16x) and loses the weight gradients (TN: 0.70-0.94x) and dX (NN: 0.50-0.91x); against
 * OpenBLAS's AVX2 kernels (OPENBLAS_CORETYPE=Haswell) it wins them all (docs/benchmarks.md, "How
 * fast"). So on AVX-512 the TN, NN (and TT) products go to the CBLAS when it runs AVX-512 kernels
 * (nr_blas_core_avx512), to our kernel for any other or unknown CBLAS. The NT products stay ours
 * whatever the CBLAS (also the LM's output, N = 16000, where OpenBLAS's AVX-512 kernels are
 * faster: 0.73-0.95x; routing it would load the CBLAS, ~7 ms, for a `fill` of one blank). */
int nr_kgemm_rule(int p, int transA, int transB, int M, int N, int K, int packed,
                  const char *(*core)(void));
/* 1 if OpenBLAS with this corename runs AVX-512 sgemm kernels (SkylakeX, Cooperlake,
 * SapphireRapids; case ignored), 0 for any other name, "" or NULL. */
int nr_blas_core_avx512(const char *core);

/* ---- The LSTM inference step ----------------------------------------------------------------- */
/* The step of models/cells.h's nr_lstm_row_forward_infer (same arguments, same bits) for path p:
 * on avx512 the kernel of models/kernels/lstm_avx512.c (the step's exp chains of 64 units side by
 * side: 1.6x faster), on the other paths the compiled C step. */
typedef void (*nr_lstm_infer_fn)(const float *g, float *c, float *h, const float *gh,
                                 const float *bhh, int H);
nr_lstm_infer_fn nr_klstm_infer(int p);
/* The GRU step of models/cells.h's nr_gru_row_forward_after (reset after; same arguments, the
 * same bits in all its outputs: h', hnl and the activated gates in g) for path p: on avx512 the
 * kernel of models/kernels/gru_avx512.c (exp chains of 128 units side by side), on the other paths
 * the compiled C step. */
typedef void (*nr_gru_after_fn)(float *g, float *hnl, float *h, const float *gh, const float *bhh,
                                int H);
nr_gru_after_fn nr_kgru_after(int p);
/* ---- log-sum-exp -------------------------------------------------------------------------------
 * lse = m + log Σ_k exp(z_k - m) over z (n), m = max z (NaNs passed over), in double; *zmax = m
 * (may be NULL). The portable path: the C library's exp, k in increasing order (the bits of that
 * loop); avx2 and avx512: lanes of double, an exp of their own (lse_tmpl.h: within a few ulp),
 * summed in another order, so their bits differ from the portable path's (within 1e-14 relative,
 * tests/test_kernels.c). A translator's greedy step needs only this and the argmax of z. */
double nr_klse(int p, const float *z, int n, float *zmax);

/* Tests: y = f(x) over n values by the avx512 step's own functions (which: 0 nr_fexp,
 * 1 nr_fsigmoid, 2 nr_ftanh); returns -1 (nothing written) when the avx512 path is not usable. */
int nr_klstm_act(int which, float *y, const float *x, size_t n);

#endif

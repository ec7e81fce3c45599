/* models/math.c: products (our kernels or the CBLAS), activations, initialisers. */
#include "models/math.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/blas.h"
#include "models/kernels/kernels.h"

/* Products small enough that nlprnn's own kernels take them whatever the path: op(B) of at most
 * NR_KSMALL_BK floats (1 MiB) for 2 to 31 rows (nr_kgemm), and one row (nr_kgemv, on the portable
 * path only up to NR_KGEMV_TINY floats; models/kernels/kernels.h). Such products are what one
 * short text costs (the classifier's input projection of a review, (27,128)x(128,512), a
 * recurrent step at batch 1, (1,128)x(128,384) in ko-space, the LM's output (1,192)x(192,16000)),
 * and taking them here means a process that answers one text never loads the CBLAS
 * (common/blas.h: OpenBLAS's loading and start-up cost ~7 ms, more than the whole prediction).
 * Measured one core (docs/benchmarks.md "Start-up, run 6", OpenBLAS 0.3.21 with its Haswell
 * kernels; "One-row products", its own choice of kernels): from 2 rows both pack op(B), and ours
 * took 0.7-1.25x OpenBLAS's time on the AVX-512 and AVX2 paths at these sizes; one row, nr_kgemv
 * streams op(B) unpacked as OpenBLAS's sgemv does, at 0.77-1.29x its speed (AVX2 1.05-1.29x,
 * AVX-512 0.82-1.23x on the shipped models' recurrent steps and head). The portable path's kernels
 * are 2-3x slower than the CBLAS here (`bench_gemm --shape "small proj"`): tens of microseconds. */
#define NR_OWN_MROWS 32

static int own_small(int M, int N, int K)
{
    return M > 1 && M < NR_OWN_MROWS && (size_t)N * (size_t)K <= NR_KSMALL_BK;
}

/* C = alpha op(A) op(B) + beta C in plain loops: the last resort when neither the CBLAS nor our
 * kernels' block buffer is available. One float chain per element, k in increasing order. */
static void sgemm_loops(int transA, int transB, int M, int N, int K, float alpha, const float *A,
                        int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float acc = 0.0f;
            for (int k = 0; k < K; k++) {
                float a = transA ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                float b = transB ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                acc += a * b;
            }
            float *c = C + (size_t)i * ldc + j;
            *c = alpha * acc + (beta == 0.0f ? 0.0f : beta * *c);
        }
}

void nr_sgemm(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0) {
        /* C = beta * C: BLAS may not touch C at all when K = 0 */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                C[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(size_t)i * ldc + j];
        return;
    }
    /* our kernel where it was measured faster for this shape (models/kernels/kernels.h), and for
     * every small product (above); few rows of A (one row of op(A): A^T (K,1) with lda = 1 is
     * that row too) streaming op(B) */
    int kp = nr_kpath();
    if ((!transA || (M == 1 && lda == 1)) && nr_kgemv_use(kp, transB, M, N, K)) {
        nr_kgemv(kp, transB, M, N, K, alpha, A, transA ? K : lda, B, ldb, beta, C, ldc);
        return;
    }
    if ((nr_kgemm_use(kp, transA, transB, M, N, K, 0) || own_small(M, N, K)) &&
        nr_kgemm(kp, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) == 0)
        return;
    /* the CBLAS, loaded at its first use (common/blas.h); when it cannot be loaded, our kernels
     * (the reason: nr_blas_status) */
    if (nr_sgemm_cblas(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) == 0)
        return;
    if (nr_kgemm(kp, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) != 0)
        sgemm_loops(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

int nr_sgemm_packs(int transB, int M, int N, int K)
{
    int kp = nr_kpath();
    return M >= 1 && N >= 1 && K >= 1 && !nr_kgemv_use(kp, transB, M, N, K) &&
           (nr_kgemm_use(kp, 0, transB, M, N, K, 0) || own_small(M, N, K));
}

void nr_sgemm_pk(nr_pk *pk, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc)
{
    int kp = nr_kpath();
    /* nr_sgemm's route for A op(B) with K >= 1: where it is nr_kgemm, the packed copy */
    if (nr_sgemm_packs(transB, M, N, K)) {
        if (!(pk->valid && pk->B == B && pk->transB == transB && pk->K == K && pk->N == N &&
              pk->ldb == ldb && pk->path == kp)) {
            size_t need = nr_kpack_floats(kp, K, N);
            if (need > pk->cap) {
                float *nb = nr_filled_alloc(need, sizeof(float));
                if (!nb) { /* no copy: nr_sgemm packs block by block as before */
                    nr_sgemm(0, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
                    return;
                }
                free(pk->buf);
                pk->buf = nb, pk->cap = need;
            }
            nr_kpack(kp, pk->buf, transB, K, N, B, ldb);
            pk->B = B, pk->transB = transB, pk->K = K, pk->N = N, pk->ldb = ldb, pk->path = kp;
            pk->valid = 1;
        }
        nr_kgemm_packed(kp, 0, M, N, K, alpha, A, lda, pk->buf, beta, C, ldc);
        return;
    }
    nr_sgemm(0, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void nr_sgemm_pk_copy(nr_pk *pk, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *B, const nr_wcopy *Bc, int ldb, float beta, float *C, int ldc)
{
    int kp = nr_kpath();
    /* nr_sgemm's test for nr_kgemv (M, N, K >= 1: nr_sgemm handles the empty products first) */
    int gemv = Bc && M >= 1 && N >= 1 && K >= 1 && nr_kgemv_use(kp, 1, M, N, K);
    if (gemv && Bc->q && Bc->scale) {
        nr_kgemv_i8(kp, M, N, K, alpha, A, lda, Bc->q, Bc->scale, ldb, beta, C, ldc);
        return;
    }
    if (gemv && Bc->h && nr_kgemv_f16_usable(kp)) {
        nr_kgemv_f16(kp, M, N, K, alpha, A, lda, Bc->h, ldb, beta, C, ldc);
        return;
    }
    nr_sgemm_pk(pk, 1, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

double nr_lse(const float *z, int n) { return nr_klse(nr_kpath(), z, n, NULL); }

void nr_pk_stale(nr_pk *pk)
{
    pk->valid = 0;
}

void nr_pk_free(nr_pk *pk)
{
    if (!pk)
        return;
    free(pk->buf);
    pk->buf = NULL, pk->cap = 0, pk->valid = 0;
}

int nr_sgemm_cblas(int transA, int transB, int M, int N, int K, float alpha, const float *A,
                   int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    const nr_blas *blas = nr_blas_get();
    if (!blas)
        return -1;
    /* the CBLAS runs on this thread: nlprnn owns the threads (common/pool.h) */
    nr_blas_own();
    if (M == 1) {
        /* one row (batch-1 inference, single rows): C (1,N) = op(B)^T a, a = row of op(A);
         * sgemv avoids sgemm's packing, which dominates at this size */
        int inca = transA ? lda : 1;
        if (transB)
            blas->sgemv(NR_CBLAS_ROW_MAJOR, NR_CBLAS_NO_TRANS, N, K, alpha, B, ldb, A, inca, beta,
                        C, 1);
        else
            blas->sgemv(NR_CBLAS_ROW_MAJOR, NR_CBLAS_TRANS, K, N, alpha, B, ldb, A, inca, beta, C,
                        1);
        return 0;
    }
    blas->sgemm(NR_CBLAS_ROW_MAJOR, transA ? NR_CBLAS_TRANS : NR_CBLAS_NO_TRANS,
                transB ? NR_CBLAS_TRANS : NR_CBLAS_NO_TRANS, M, N, K, alpha, A, lda, B, ldb, beta,
                C, ldc);
    return 0;
}

void nr_copy(float *y, const float *x, size_t n)
{
    memcpy(y, x, n * sizeof(float));
}

void nr_axpy(float *y, float a, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] += a * x[i];
}

/* Eight partial sums, lane j taking the elements i = j (mod 8), then added pairwise in a fixed
 * tree ((0+1)+(2+3))+((4+5)+(6+7)), and the last n % 8 elements after them. A float's square is exact in double (48 bits of
 * mantissa), so whether the compiler vectorizes the lanes or fuses the multiply and add, each
 * addition rounds the same way: the same bits on every machine and kernel path. One accumulator
 * was a chain of dependent double additions, latency-bound (15 % of a language model's step at
 * one thread: the clipping norm over 3.4M gradients, docs/lm.md); eight are independent. */
double nr_sumsq(const float *x, size_t n)
{
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0; /* registers, not memory */
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float *p = x + i;
        a0 += (double)p[0] * p[0], a1 += (double)p[1] * p[1], a2 += (double)p[2] * p[2];
        a3 += (double)p[3] * p[3], a4 += (double)p[4] * p[4], a5 += (double)p[5] * p[5];
        a6 += (double)p[6] * p[6], a7 += (double)p[7] * p[7];
    }
    double s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
    for (; i < n; i++)
        s += (double)x[i] * x[i];
    return s;
}

float nr_sigmoid(float x)
{
    /* σ(x) = 1/(1+e^-x) for x >= 0, e^x/(1+e^x) otherwise: exp never overflows */
    if (x >= 0.0f)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

float nr_tanh(float x)
{
    return tanhf(x);
}

void nr_init_uniform(float *w, size_t n, float lo, float hi, nr_rng *rng)
{
    for (size_t i = 0; i < n; i++)
        w[i] = lo + (hi - lo) * nr_rng_uniform(rng);
}

void nr_init_glorot_uniform(float *w, int rows, int cols, nr_rng *rng)
{
    float a = sqrtf(6.0f / (float)(rows + cols));
    nr_init_uniform(w, (size_t)rows * cols, -a, a, rng);
}

int nr_init_orthogonal(float *w, int rows, int cols, nr_rng *rng, nlprnn_error *err)
{
    /* q (big,small) with orthonormal columns from a normal matrix by modified Gram-Schmidt;
     * that is the Q of QR with R's diagonal made positive (Keras: q *= sign(diag(r))). */
    int big = rows > cols ? rows : cols, small = rows > cols ? cols : rows;
    double *q = nr_malloc_array((size_t)big * small, sizeof(double)); // (small,big): column j at q+j*big
    if (!q)
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "orthogonal init: out of memory (%d x %d)",
                       rows, cols);
    /* draw the (big,small) normal matrix row by row, store its columns contiguously */
    for (int i = 0; i < big; i++)
        for (int j = 0; j < small; j++)
            q[(size_t)j * big + i] = nr_rng_normal(rng);
    for (int j = 0; j < small; j++) {
        double *qj = q + (size_t)j * big;
        for (int k = 0; k < j; k++) {
            const double *qk = q + (size_t)k * big;
            double d = 0.0;
            for (int i = 0; i < big; i++)
                d += qk[i] * qj[i];
            for (int i = 0; i < big; i++)
                qj[i] -= d * qk[i];
        }
        double nrm = 0.0;
        for (int i = 0; i < big; i++)
            nrm += qj[i] * qj[i];
        nrm = sqrt(nrm);
        if (nrm < 1e-12)
            nrm = 1.0; /* degenerate draw (probability 0) */
        for (int i = 0; i < big; i++)
            qj[i] /= nrm;
    }
    /* w (rows,cols): if rows >= cols, w[i][j] = q(i,j) (column j); else w = q^T */
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            w[(size_t)i * cols + j] =
                rows >= cols ? (float)q[(size_t)j * big + i] : (float)q[(size_t)i * big + j];
    free(q);
    return 0;
}

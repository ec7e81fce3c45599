/* models/math.c: CBLAS glue, activations, initialisers. */
#include "models/math.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/kernels/kernels.h"

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
    /* the CBLAS runs on this thread: nlprnn owns the threads (common/pool.h). Before any product,
     * ours included: once nlprnn has computed, OpenBLAS is single-threaded whichever path ran */
    nr_blas_own();
    /* our kernel where it was measured faster for this shape (models/kernels/kernels.h) */
    int kp = nr_kpath();
    if (nr_kgemm_use(kp, transA, transB, M, N, K, 0) &&
        nr_kgemm(kp, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) == 0)
        return;
    if (M == 1) {
        /* one row (batch-1 inference, single rows): C (1,N) = op(B)^T a, a = row of op(A);
         * sgemv avoids sgemm's packing, which dominates at this size */
        int inca = transA ? lda : 1;
        if (transB)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, N, K, alpha, B, ldb, A, inca, beta, C, 1);
        else
            cblas_sgemv(CblasRowMajor, CblasTrans, K, N, alpha, B, ldb, A, inca, beta, C, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
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

double nr_sumsq(const float *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
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

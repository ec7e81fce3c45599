/* models/kernels/kernels.c: path detection and dispatch for the GEMM kernels (see kernels.h). */
#include "models/kernels/kernels.h"

#include <pthread.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/blas.h"
#include "common/common.h"
#include "models/cells.h"
#include "models/gemv_f16.h"
#include "models/kernels/gemm_isa.h"
#include "models/kernels/lse_scalar.h"

/* ---- which path -------------------------------------------------------------------------------- */

static const char *const path_names[NR_KPATH_COUNT] = {"portable", "avx2", "avx512"};

const char *nr_kpath_name(int p)
{
    return p >= 0 && p < NR_KPATH_COUNT ? path_names[p] : NULL;
}

int nr_kpath_from_name(const char *name)
{
    for (int p = 0; name && p < NR_KPATH_COUNT; p++)
        if (!strcmp(name, path_names[p]))
            return p;
    return -1;
}

int nr_kpath_usable(int p)
{
    if (p == NR_KPATH_PORTABLE)
        return 1;
#ifdef NR_KERNELS_X86
    /* __builtin_cpu_supports also checks that the OS saves the vector state (XCR0) */
    __builtin_cpu_init();
    if (p == NR_KPATH_AVX2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (p == NR_KPATH_AVX512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#endif
    return 0;
}

int nr_kpath_best(void)
{
    for (int p = NR_KPATH_COUNT - 1; p > 0; p--)
        if (nr_kpath_usable(p))
            return p;
    return NR_KPATH_PORTABLE;
}

static pthread_once_t path_once = PTHREAD_ONCE_INIT;
static int path_default;              /* set once: NLPRNN_KERNEL or the best */
static _Atomic int path_forced = -1;  /* nr_kpath_set */

static void path_init(void)
{
    const char *env = getenv("NLPRNN_KERNEL");
    int p = env && *env ? nr_kpath_from_name(env) : -1;
    path_default = p >= 0 && nr_kpath_usable(p) ? p : nr_kpath_best();
}

int nr_kpath(void)
{
    int f = atomic_load_explicit(&path_forced, memory_order_relaxed);
    if (f >= 0)
        return f;
    pthread_once(&path_once, path_init);
    return path_default;
}

void nr_kpath_set(int p)
{
    atomic_store(&path_forced, p >= 0 && p < NR_KPATH_COUNT && nr_kpath_usable(p) ? p : -1);
}

/* ---- packing and products ---------------------------------------------------------------------- */

int nr_kpath_nr(int p)
{
    return p == NR_KPATH_AVX512 ? 16 : 8;
}

size_t nr_kpack_floats(int p, int K, int N)
{
    size_t nr = (size_t)nr_kpath_nr(p);
    return ((size_t)N + nr - 1) / nr * nr * (size_t)K;
}

void nr_kpack(int p, float *dst, int transB, int K, int N, const float *B, int ldb)
{
#ifdef NR_KERNELS_X86
    if (p == NR_KPATH_AVX512) {
        nr_kpack_avx512(dst, transB, K, N, B, ldb);
        return;
    }
    if (p == NR_KPATH_AVX2) {
        nr_kpack_avx2(dst, transB, K, N, B, ldb);
        return;
    }
#endif
    (void)p;
    nr_kpack_portable(dst, transB, K, N, B, ldb);
}

static _Atomic long kcount[3]; /* nr_kgemm, nr_kgemm_packed, nr_kgemv (and nr_kgemv_f16, _i8) */
static _Atomic long kcount_f16; /* nr_kgemv_f16 */
static _Atomic long kcount_i8;  /* nr_kgemv_i8 */

long nr_kgemm_count(int packed)
{
    return atomic_load_explicit(&kcount[packed ? 1 : 0], memory_order_relaxed);
}

long nr_kgemv_count(void)
{
    return atomic_load_explicit(&kcount[2], memory_order_relaxed);
}

void nr_kgemv(int p, int transB, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc)
{
    atomic_fetch_add_explicit(&kcount[2], 1, memory_order_relaxed);
#ifdef NR_KERNELS_X86
    if (p == NR_KPATH_AVX512) {
        nr_kgemv_avx512(transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    if (p == NR_KPATH_AVX2) {
        nr_kgemv_avx2(transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
#endif
    (void)p;
    nr_kgemv_portable(transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

int nr_kgemv_f16_usable(int p)
{
    /* the float16 kernels' own check (F16C from CPUID, asked once; the path usable) */
    return nr_f16_kernel_usable(p == NR_KPATH_AVX512 ? NR_F16_AVX512
                                : p == NR_KPATH_AVX2 ? NR_F16_AVX2
                                : p == NR_KPATH_PORTABLE ? NR_F16_SCALAR : -1);
}

void nr_kgemv_f16(int p, int M, int N, int K, float alpha, const float *A, int lda,
                  const uint16_t *B, int ldb, float beta, float *C, int ldc)
{
    atomic_fetch_add_explicit(&kcount[2], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&kcount_f16, 1, memory_order_relaxed);
#ifdef NR_KERNELS_X86
    if (p == NR_KPATH_AVX512) {
        nr_kgemv_f16_avx512(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    if (p == NR_KPATH_AVX2) {
        nr_kgemv_f16_avx2(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
#endif
    (void)p;
    nr_kgemv_f16_portable(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

long nr_kgemv_f16_count(void)
{
    return atomic_load_explicit(&kcount_f16, memory_order_relaxed);
}

void nr_kgemv_i8(int p, int M, int N, int K, float alpha, const float *A, int lda,
                 const int8_t *B, const float *scale, int ldb, float beta, float *C, int ldc)
{
    atomic_fetch_add_explicit(&kcount[2], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&kcount_i8, 1, memory_order_relaxed);
#ifdef NR_KERNELS_X86
    if (p == NR_KPATH_AVX512) {
        nr_kgemv_i8_avx512(M, N, K, alpha, A, lda, B, scale, ldb, beta, C, ldc);
        return;
    }
    if (p == NR_KPATH_AVX2) {
        nr_kgemv_i8_avx2(M, N, K, alpha, A, lda, B, scale, ldb, beta, C, ldc);
        return;
    }
#endif
    (void)p;
    nr_kgemv_i8_portable(M, N, K, alpha, A, lda, B, scale, ldb, beta, C, ldc);
}

long nr_kgemv_i8_count(void)
{
    return atomic_load_explicit(&kcount_i8, memory_order_relaxed);
}

void nr_kgemm_packed(int p, int transA, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *Bp, float beta, float *C, int ldc)
{
    atomic_fetch_add_explicit(&kcount[1], 1, memory_order_relaxed);
#ifdef NR_KERNELS_X86
    if (p == NR_KPATH_AVX512) {
        nr_kgemm_packed_avx512(transA, M, N, K, alpha, A, lda, Bp, beta, C, ldc);
        return;
    }
    if (p == NR_KPATH_AVX2) {
        nr_kgemm_packed_avx2(transA, M, N, K, alpha, A, lda, Bp, beta, C, ldc);
        return;
    }
#endif
    nr_kgemm_packed_portable(transA, M, N, K, alpha, A, lda, Bp, beta, C, ldc);
}

/* The per-thread block buffer (NR_KC x (NR_KNC_MAX + NR_KMC) floats, 640 KiB): made on a thread's
 * first product, freed when the thread ends (pthread key destructor). In huge pages
 * (nr_filled_alloc): a product's packing touches its pages at once, and the first touch of ~70
 * fresh 4 KiB pages cost ~0.6 ms of a one-review run, one 2 MiB page ~0.25 ms (docs/benchmarks.md
 * "Start-up, run 6"). */
static pthread_once_t buf_once = PTHREAD_ONCE_INIT;
static pthread_key_t buf_key;
static int buf_key_ok;

static void buf_key_init(void)
{
    buf_key_ok = pthread_key_create(&buf_key, free) == 0;
}

static float *thread_buf(void)
{
    pthread_once(&buf_once, buf_key_init);
    if (!buf_key_ok)
        return NULL;
    float *b = pthread_getspecific(buf_key);
    if (!b) {
        b = nr_filled_alloc((size_t)NR_KC * (NR_KNC_MAX + NR_KMC), sizeof(float)); /* 2 MiB aligned */
        if (b && pthread_setspecific(buf_key, b) != 0) {
            free(b);
            b = NULL;
        }
    }
    return b;
}

static _Atomic int buf_fail; /* nr_kgemm_fail_buffer */

void nr_kgemm_fail_buffer(int on)
{
    atomic_store(&buf_fail, on != 0);
}

int nr_kgemm(int p, int transA, int transB, int M, int N, int K, float alpha, const float *A,
             int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    float *buf = atomic_load_explicit(&buf_fail, memory_order_relaxed) ? NULL : thread_buf();
    if (!buf)
        return -1;
    atomic_fetch_add_explicit(&kcount[0], 1, memory_order_relaxed);
#ifdef NR_KERNELS_X86
    if (p == NR_KPATH_AVX512) {
        nr_kgemm_avx512(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, buf);
        return 0;
    }
    if (p == NR_KPATH_AVX2) {
        nr_kgemm_avx2(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, buf);
        return 0;
    }
#endif
    nr_kgemm_portable(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, buf);
    return 0;
}

/* ---- when to use them -------------------------------------------------------------------------- */

int nr_kgemv_use(int p, int transB, int M, int N, int K)
{
    size_t bk = (size_t)N * (size_t)K;
    if (p == NR_KPATH_PORTABLE)
        /* slower than a CBLAS's sgemv (0.3-0.5x, docs/benchmarks.md "One-row products") but
         * for tiny op(B) (a classifier's head) */
        return M == 1 && bk <= NR_KGEMV_TINY;
    /* one row: as fast as OpenBLAS's sgemv on the shipped models' shapes; also 2 to 31 rows of
     * a transposed op(B) too large for nr_sgemm's small products (the LM's output for the beams
     * of `next` and `fill`, (9..16,192)x(192,16000)): 0.96-3.3x OpenBLAS's sgemm at 2-31 rows
     * on AVX2 (its groups of 3 rows of A), 1.2-3.6x on AVX-512, and faster than our packing kernels
     * (docs/benchmarks.md, "One-row products" and "Few rows of a large B^T on AVX2") */
    return M == 1 || (transB && M < 32 && bk > NR_KSMALL_BK);
}

int nr_blas_core_avx512(const char *core)
{
    /* OpenBLAS 0.3.21's names of the cores it runs with AVX-512 sgemm kernels (its
     * driver/others/dynamic.c; a build for one core gives the name in lower case) */
    static const char *const avx512[] = {"skylakex", "cooperlake", "sapphirerapids"};
    for (size_t i = 0; core && i < sizeof avx512 / sizeof avx512[0]; i++)
        if (!strcasecmp(core, avx512[i]))
            return 1;
    return 0;
}

int nr_kgemm_rule(int p, int transA, int transB, int M, int N, int K, int packed,
                  const char *(*core)(void))
{
    switch (p) {
    case NR_KPATH_AVX512:
        /* packed weights: from 2 rows (one row: nr_kgemv streams W faster); packing inside the
         * call pays from about 32 rows */
        if (packed)
            return M >= 2;
        if (M < 32 || N < 32 || K < 16)
            return 0;
        /* A W^T, the forward products (the input projection, the inference table's rows in
         * models/encoder_proj.c, the LM's output): ours whatever the CBLAS, so that inference never
         * loads it (a fill's 46-276-row scoring included) */
        if (!transA && transB)
            return 1;
        /* dG^T X, dG W: the backward products of training (weight gradients, dX), the CBLAS
         * when it runs AVX-512 kernels */
        return !nr_blas_core_avx512(core ? core() : NULL);
    case NR_KPATH_AVX2:
        /* OpenBLAS's own AVX2 kernels tie at many rows; ours win for a few rows of a packed
         * weight, where OpenBLAS packs W every call. (2-31 rows of a large transposed op(B), the
         * LM's output for a few beams, go to nr_kgemv: nr_kgemv_use) */
        (void)transA, (void)transB, (void)K;
        return packed && M >= 2 && M <= 16;
    default:
        return 0; /* the portable kernels are slower than any CBLAS */
    }
}

int nr_kgemm_use(int p, int transA, int transB, int M, int N, int K, int packed)
{
    return nr_kgemm_rule(p, transA, transB, M, N, K, packed, nr_blas_corename);
}

/* ---- the LSTM inference step ------------------------------------------------------------------ */

nr_lstm_infer_fn nr_klstm_infer(int p)
{
#ifdef NR_KERNELS_X86
    if (p == NR_KPATH_AVX512 && nr_kpath_usable(p))
        return nr_lstm_row_forward_infer_avx512;
#endif
    (void)p;
    return nr_lstm_row_forward_infer;
}

/* ---- the GRU step (reset after) ---------------------------------------------------------------- */

nr_gru_after_fn nr_kgru_after(int p)
{
#ifdef NR_KERNELS_X86
    if (p == NR_KPATH_AVX512 && nr_kpath_usable(p))
        return nr_gru_row_forward_after_avx512;
#endif
    (void)p;
    return nr_gru_row_forward_after;
}

/* ---- log-sum-exp -------------------------------------------------------------------------------- */

double nr_klse(int p, const float *z, int n, float *zmax)
{
#ifdef NR_KERNELS_X86
    if (p == NR_KPATH_AVX512 && nr_kpath_usable(p))
        return nr_klse_avx512(z, n, zmax);
    if (p == NR_KPATH_AVX2 && nr_kpath_usable(p))
        return nr_klse_avx2(z, n, zmax);
#endif
    (void)p;
    double m = -INFINITY;
    for (int k = 0; k < n; k++)
        m = z[k] > m ? z[k] : m;
    if (zmax)
        *zmax = (float)m;
    return lse_scalar(z, n, m);
}

int nr_klstm_act(int which, float *y, const float *x, size_t n)
{
#ifdef NR_KERNELS_X86
    if (nr_kpath_usable(NR_KPATH_AVX512)) {
        nr_act_avx512(which, y, x, n);
        return 0;
    }
#endif
    (void)which, (void)y, (void)x, (void)n;
    return -1;
}

/* common/blas.h: the CBLAS, loaded when a product first needs it (internal, not installed).
 *
 *   nr_blas_get       the CBLAS's functions; loads the library at the first call (thread-safe)
 *   nr_blas_present   the same, but loads nothing: only a CBLAS nlprnn loaded or the process has
 *   nr_blas_loaded    1 once nlprnn has loaded it (asking loads nothing)
 *   nr_blas_status    0, or the error that kept it from loading
 *   nr_blas_try       load one list of libraries into a table (the loader itself; tests)
 *
 * libnlprnn does not link the CBLAS. Linked, its loading and start-up are paid by every process
 * that uses the library, also by the many that never make a product large enough to need it:
 * OpenBLAS 0.3.21 costs ~12,000 symbol relocations and starts its worker threads in its
 * constructor, ~7 ms of the ~11 ms `nlprnn --version` took (docs/benchmarks.md, "Start-up, run
 * 6"), while small products run on nlprnn's own kernels anyway (models/math.c, nr_sgemm). The
 * library named when nlprnn was built (NLPRNN_BLAS_SONAMES in CMakeLists.txt: by default the
 * soname of the CBLAS CMake found, e.g. libopenblas.so.0) is opened by that name with dlopen, so
 * the system's choice of CBLAS still applies (Debian's alternatives for libopenblas.so.0 and
 * libblas.so.3); the environment variable NLPRNN_BLAS, when set and not empty, names other ones
 * instead (sonames or paths, ':' between them, tried in order, symbols looked up in each).
 *
 * Resolved: cblas_sgemm and cblas_sgemv (required), OpenBLAS's openblas_set_num_threads,
 * openblas_get_num_threads, openblas_get_corename (the kernels it runs: nr_blas_corename, which
 * nr_sgemm's routing asks, models/kernels/kernels.h) and blas_thread_shutdown_ when present
 * (common/pool.h, nr_blas_own:
 * run right after loading, so the process never keeps OpenBLAS's spinning workers). A library
 * that does not load or lacks a required function: nr_blas_get returns NULL, nr_blas_status gives
 * NLPRNN_E_UNSUPPORTED with the library's name and the loader's reason, and nr_sgemm computes on
 * nlprnn's own kernels instead (the same products within rounding; slower for large ones).
 * Loading is tried once per process; the library stays loaded until the process ends.
 * The CBLAS must take 32-bit int sizes (LP64: Debian's libopenblas0, libblas3).
 */
#ifndef NR_COMMON_BLAS_H
#define NR_COMMON_BLAS_H

#include "nlprnn/base.h"

/* CBLAS's enum values (the same in every cblas.h) */
#define NR_CBLAS_ROW_MAJOR 101
#define NR_CBLAS_NO_TRANS 111
#define NR_CBLAS_TRANS 112

typedef struct nr_blas {
    /* cblas_sgemm / cblas_sgemv; the enum arguments are the NR_CBLAS_* values above */
    void (*sgemm)(int order, int transA, int transB, int M, int N, int K, float alpha,
                  const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);
    void (*sgemv)(int order, int trans, int M, int N, float alpha, const float *A, int lda,
                  const float *x, int incx, float beta, float *y, int incy);
    /* OpenBLAS's own API, NULL when the CBLAS lacks it */
    void (*set_num_threads)(int n);
    int (*get_num_threads)(void);
    int (*thread_shutdown)(void);
    char corename[64]; /* openblas_get_corename() at load ("SkylakeX", "Haswell"...); "" if none */
    char name[256]; /* the names it was loaded by, ':' between them */
} nr_blas;

/* The CBLAS, loaded (and its threads taken: nr_blas_own) at the first call; NULL when it cannot
 * be loaded (the reason: nr_blas_status). Cheap after the first call. */
const nr_blas *nr_blas_get(void);
/* The CBLAS when nlprnn has loaded it, or when the process has it already (an application that
 * links it: then it is taken now, which costs no loading); else NULL, and nothing is loaded. */
const nr_blas *nr_blas_present(void);
/* The kernel family the CBLAS runs as OpenBLAS names it (openblas_get_corename: "SkylakeX",
 * "Haswell", "Zen", ...: what OPENBLAS_CORETYPE or its CPU detection chose), loading the CBLAS at
 * the first call like nr_blas_get; "" for a CBLAS that does not say (not OpenBLAS) or cannot be
 * loaded. */
const char *nr_blas_corename(void);
/* 1 once nr_blas_get has loaded the CBLAS in this process. */
int nr_blas_loaded(void);
/* 0 when the CBLAS is loaded or was not needed yet; the error code of the failed load (and its
 * message in *err when err is not NULL) otherwise. */
int nr_blas_status(nlprnn_error *err);
/* Load the libraries of names (':' between them) with dlopen and resolve the functions above
 * into *b. 0, or NLPRNN_E_UNSUPPORTED naming the library and the reason (nothing kept loaded). */
int nr_blas_try(const char *names, nr_blas *b, nlprnn_error *err);

#endif

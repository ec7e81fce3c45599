/* common/blas.c: the CBLAS, loaded with dlopen when a product first needs it (common/blas.h). */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include "common/blas.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/pool.h"

/* the libraries to load: set by CMakeLists.txt (the CBLAS it found) */
#ifndef NLPRNN_BLAS_SONAMES
#error "NLPRNN_BLAS_SONAMES (the CBLAS shared libraries to load) must be defined by the build"
#endif

#define NR_BLAS_MAX_LIBS 4

static nr_blas blas_table;
static _Atomic int blas_state; /* 0 not tried, 1 loaded, -1 failed */
static nlprnn_error blas_err;
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

/* The first of the open libraries that has the symbol, or NULL. */
static void *sym(void *const *h, int n, const char *name)
{
    for (int i = 0; i < n; i++) {
        void *p = dlsym(h[i], name);
        if (p)
            return p;
    }
    return NULL;
}

int nr_blas_try(const char *names, nr_blas *b, nlprnn_error *err)
{
    memset(b, 0, sizeof *b);
    void *h[NR_BLAS_MAX_LIBS];
    int n = 0;
    const char *p = names ? names : "";
    while (*p) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char one[sizeof b->name];
        if (len == 0 || len >= sizeof one || n == NR_BLAS_MAX_LIBS) {
            for (int i = 0; i < n; i++)
                dlclose(h[i]);
            return nr_fail(err, NLPRNN_E_UNSUPPORTED, -1, -1,
                           "CBLAS '%s': expected 1 to %d library names (at most %zu bytes each) "
                           "separated by ':'", names, NR_BLAS_MAX_LIBS, sizeof one - 1);
        }
        memcpy(one, p, len);
        one[len] = '\0';
        /* local: the CBLAS's symbols do not become the application's */
        h[n] = dlopen(one, RTLD_NOW | RTLD_LOCAL);
        if (!h[n]) {
            const char *why = dlerror();
            for (int i = 0; i < n; i++)
                dlclose(h[i]);
            return nr_fail(err, NLPRNN_E_UNSUPPORTED, -1, -1,
                           "cannot load the CBLAS %s: %s; products run on nlprnn's own kernels",
                           one, why ? why : "unknown error");
        }
        n++;
        p += len;
        if (*p == ':')
            p++;
    }
    if (n == 0)
        return nr_fail(err, NLPRNN_E_UNSUPPORTED, -1, -1,
                       "no CBLAS library named; products run on nlprnn's own kernels");
    /* function pointers from dlsym's void * (POSIX guarantees the conversion) */
    *(void **)&b->sgemm = sym(h, n, "cblas_sgemm");
    *(void **)&b->sgemv = sym(h, n, "cblas_sgemv");
    if (!b->sgemm || !b->sgemv) {
        const char *missing = b->sgemm ? "cblas_sgemv" : "cblas_sgemm";
        for (int i = 0; i < n; i++)
            dlclose(h[i]);
        int rc = nr_fail(err, NLPRNN_E_UNSUPPORTED, -1, -1,
                         "the CBLAS %s has no %s; products run on nlprnn's own kernels", names,
                         missing);
        memset(b, 0, sizeof *b);
        return rc;
    }
    *(void **)&b->set_num_threads = sym(h, n, "openblas_set_num_threads");
    *(void **)&b->get_num_threads = sym(h, n, "openblas_get_num_threads");
    *(void **)&b->thread_shutdown = sym(h, n, "blas_thread_shutdown_");
    if (!b->set_num_threads || !b->get_num_threads)
        b->set_num_threads = NULL, b->get_num_threads = NULL, b->thread_shutdown = NULL;
    char *(*corename)(void);
    *(void **)&corename = sym(h, n, "openblas_get_corename");
    const char *core = corename ? corename() : NULL;
    snprintf(b->corename, sizeof b->corename, "%s", core ? core : "");
    snprintf(b->name, sizeof b->name, "%s", names);
    return 0; /* the handles stay open for the process's life */
}

static const char *blas_names(void)
{
    const char *env = getenv("NLPRNN_BLAS");
    return env && *env ? env : NLPRNN_BLAS_SONAMES;
}

static void blas_load(void)
{
    if (nr_blas_try(blas_names(), &blas_table, &blas_err) != 0) {
        atomic_store(&blas_state, -1);
        return;
    }
    atomic_store(&blas_state, 1);
    nr_blas_own(); /* one thread, no spinning workers (common/pool.h) */
}

const nr_blas *nr_blas_get(void)
{
    int s = atomic_load_explicit(&blas_state, memory_order_acquire);
    if (s == 0) {
        pthread_once(&blas_once, blas_load);
        s = atomic_load_explicit(&blas_state, memory_order_acquire);
    }
    return s == 1 ? &blas_table : NULL;
}

const nr_blas *nr_blas_present(void)
{
    int s = atomic_load_explicit(&blas_state, memory_order_acquire);
    if (s != 0)
        return s == 1 ? &blas_table : NULL;
    /* in the process already (an application that links a CBLAS): a symbol lookup, no file
     * opened; loading it then finds it mapped */
    if (!dlsym(RTLD_DEFAULT, "cblas_sgemm"))
        return NULL;
    return nr_blas_get();
}

const char *nr_blas_corename(void)
{
    const nr_blas *b = nr_blas_get();
    return b ? b->corename : "";
}

int nr_blas_loaded(void)
{
    return atomic_load_explicit(&blas_state, memory_order_acquire) == 1;
}

int nr_blas_status(nlprnn_error *err)
{
    if (atomic_load_explicit(&blas_state, memory_order_acquire) >= 0)
        return 0;
    if (err)
        *err = blas_err;
    return blas_err.code;
}

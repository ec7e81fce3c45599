/* tests/test_blas_own.c: nlprnn owns the threads (common/pool.h, nr_blas_own): loading a model
 * leaves no OpenBLAS worker thread in the process (OpenBLAS's pthreads build starts them when it
 * loads and they would spin ~0.1 s), OpenBLAS reports one thread, and the BLAS still computes (a
 * product through nr_sgemm against a plain loop) and the model still classifies. Where OpenBLAS
 * starts no worker (one core, OPENBLAS_NUM_THREADS=1, another BLAS) the thread count before the
 * load is 1 and the check is that it stays 1. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pool.h"
#include "models/math.h"
#include "nlprnn.h"
#include "testutil.h"

static int threads_now(void) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

int main(void) {
    int before = threads_now();
    if (before < 0) {
        fprintf(stderr, "test_blas_own: SKIP (no /proc/self/task)\n");
        return 77;
    }
    fprintf(stderr, "test_blas_own: %d thread(s) before the load, BLAS threads %d\n", before, nr_blas_threads());
    nlprnn_classifier *m = NULL;
    nlprnn_error err;
    int rc = nlprnn_classifier_load("ko", &m, &err);
    CHECK_MSG(rc == 0, "load ko: %s", err.message);
    CHECK_INT_EQ(threads_now(), 1);
    if (nr_blas_threads() != 0) CHECK_INT_EQ(nr_blas_threads(), 1); /* 0: not OpenBLAS */
    nlprnn_classifier_ctx *ctx = NULL;
    if (m && nlprnn_classifier_ctx_create(m, 1, &ctx, &err) == 0) {
        const char *doc = "정말 재미있고 감동적인 영화";
        float probs[16] = {0};
        CHECK_INT_EQ(nlprnn_classify(ctx, doc, strlen(doc), probs, NULL, &err), 0);
        CHECK_MSG(probs[0] + probs[1] > 0.999f && probs[1] > 0.5f, "probabilities %g %g", probs[0], probs[1]);
    } else {
        CHECK_MSG(0, "context: %s", err.message);
    }
    nlprnn_classifier_ctx_free(ctx);
    nlprnn_classifier_free(m);
    /* a product after the workers are gone: C = A B (5x7 times 7x3) against a plain loop */
    float a[35], b[21], c[15], ref[15];
    for (int i = 0; i < 35; i++) a[i] = (float)((i * 7) % 11) - 5.0f;
    for (int i = 0; i < 21; i++) b[i] = (float)((i * 5) % 9) * 0.25f - 1.0f;
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 3; j++) {
            double s = 0;
            for (int k = 0; k < 7; k++) s += (double)a[i * 7 + k] * b[k * 3 + j];
            ref[i * 3 + j] = (float)s;
        }
    nr_sgemm(0, 0, 5, 3, 7, 1.0f, a, 7, b, 3, 0.0f, c, 3);
    for (int i = 0; i < 15; i++) CHECK_NEAR(c[i], ref[i], 1e-4);
    CHECK_INT_EQ(threads_now(), 1);
    return nr_test_done("test_blas_own");
}

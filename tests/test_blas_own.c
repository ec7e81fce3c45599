/* tests/test_blas_own.c: the CBLAS is loaded when a product first needs it, and nlprnn owns its
 * threads (common/blas.h, common/pool.h).
 *
 *   1. This program (linked like an application, no CBLAS on its link line) starts without any
 *      BLAS mapped; loading the shipped classifier and classifying one short review maps none
 *      either (its products are small: nlprnn's own kernels, models/math.c) and starts no thread.
 *      On the vector paths (AVX2, AVX-512: one-row products and 2-31 rows of a large op(B) run
 *      on nr_kgemv) spacing one line with the shipped ko-space and `next` of one prefix with the
 *      shipped ko-lm map none either; on the AVX-512 path (32 rows and more on nr_kgemm) neither
 *      does `fill` of one blank (on AVX2 its scoring of the candidates, products of 46-276 rows,
 *      stays on the CBLAS, faster there). On the portable path those load the CBLAS.
 *   2. A product the CBLAS takes loads it: afterwards it is mapped, OpenBLAS reports one thread
 *      and no OpenBLAS worker thread is left (its pthreads build starts them when it loads and
 *      they would spin ~0.1 s). The CBLAS's products (sgemm and sgemv shapes) match a plain loop.
 *   3. The loader: a library that is not there, one without cblas_sgemm, an empty or malformed
 *      name list give NLPRNN_E_UNSUPPORTED naming the library and the reason.
 *   4. A process whose CBLAS cannot be loaded (NLPRNN_BLAS names a missing library: the test runs
 *      itself again so) computes every product on nlprnn's own kernels, correctly, and
 *      nr_blas_status says why; the classifier still classifies. When our kernels' block buffer
 *      cannot be allocated either (nr_kgemm_fail_buffer), nr_sgemm's last resort, plain loops,
 *      gives the kernels' results within the float32 bound, all four transpose cases.
 * Where OpenBLAS starts no worker (one core, OPENBLAS_NUM_THREADS=1, another BLAS) the thread
 * checks hold trivially. */
#define _GNU_SOURCE /* strcasestr */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/blas.h"
#include "common/pool.h"
#include "models/kernels/kernels.h"
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

/* 1 if a shared library whose name contains "blas" (any case: libopenblas, libblas, libcblas) is
 * mapped into this process (not this program, whose own name has it) */
static int blas_mapped(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return -1;
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        const char *slash = strrchr(line, '/');
        found = slash && !strncmp(slash, "/lib", 4) && strcasestr(slash, "blas") != NULL;
    }
    fclose(f);
    return found;
}

/* C (M,N) = op(A) op(B) through nr_sgemm against a double loop; the largest relative error */
static double product_error(int transB, int M, int N, int K) {
    float *a = malloc(sizeof(float) * (size_t)M * K), *b = malloc(sizeof(float) * (size_t)K * N),
          *c = malloc(sizeof(float) * (size_t)M * N);
    if (!a || !b || !c) abort();
    for (int i = 0; i < M * K; i++) a[i] = (float)((i * 7) % 11) * 0.125f - 0.6f;
    for (int i = 0; i < K * N; i++) b[i] = (float)((i * 5) % 9) * 0.25f - 1.0f;
    for (int i = 0; i < M * N; i++) c[i] = 1.0f;
    /* C = A op(B) + 0.5 C */
    nr_sgemm(0, transB, M, N, K, 1.0f, a, K, b, transB ? K : N, 0.5f, c, N);
    double worst = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0.5;
            for (int k = 0; k < K; k++)
                s += (double)a[i * K + k] * (transB ? b[j * K + k] : b[k * N + j]);
            double e = fabs(c[i * N + j] - s) / (fabs(s) + 1.0);
            if (e > worst) worst = e;
        }
    free(a);
    free(b);
    free(c);
    return worst;
}

/* products of the shapes that go to the CBLAS (models/math.c): one row with a large op(B)
 * (sgemv, both layouts), 40 rows x 8 columns (sgemm: our kernels take N >= 32), and small ones */
static void check_products(void) {
    CHECK_MSG(product_error(0, 1, 300, 200) < 1e-5, "sgemv (K,N) product wrong");
    CHECK_MSG(product_error(1, 1, 300, 200) < 1e-5, "sgemv (N,K) product wrong");
    CHECK_MSG(product_error(0, 40, 8, 50) < 1e-5, "sgemm 40x8x50 wrong");
    CHECK_MSG(product_error(1, 40, 8, 50) < 1e-5, "sgemm 40x8x50 (B^T) wrong");
    CHECK_MSG(product_error(0, 5, 3, 7) < 1e-5, "5x3x7 product wrong");
    CHECK_MSG(product_error(1, 27, 512, 128) < 1e-5, "27x512x128 product wrong");
}

static void classify_one(nlprnn_classifier *m) {
    nlprnn_error err;
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
}

/* space one line, then next and fill of one query with the shipped models; with check_blas,
 * that none of them maps a BLAS (on the paths where that holds, see the top) */
static void space_next_fill(int check_blas) {
    nlprnn_error err;
    int kp = nr_kpath(), vec = kp != NR_KPATH_PORTABLE;
    nlprnn_tagger *t = NULL;
    nlprnn_tagger_ctx *tc = NULL;
    CHECK_MSG(nlprnn_tagger_load("ko-space", &t, &err) == 0, "load ko-space: %s", err.message);
    if (t && nlprnn_tagger_ctx_create(t, 1, &tc, &err) == 0) {
        const char *line = "아버지가방에들어가신다";
        CHECK_INT_EQ(nlprnn_space(tc, line, strlen(line), 0, &err), 0);
        const char *out = nlprnn_space_text(tc, 0, NULL);
        CHECK_MSG(out && !strcmp(out, "아버지가방에 들어가신다"), "space: %s", out ? out : "(null)");
    }
    nlprnn_tagger_ctx_free(tc);
    nlprnn_tagger_free(t);
    if (check_blas && vec) CHECK_MSG(blas_mapped() == 0, "space of one line (%s) mapped a BLAS", nr_kpath_name(kp));
    nlprnn_lm *lm = NULL;
    nlprnn_lm_ctx *lc = NULL;
    CHECK_MSG(nlprnn_lm_load("ko", &lm, &err) == 0, "load ko-lm: %s", err.message);
    if (lm && nlprnn_lm_ctx_create(lm, &lc, &err) == 0) {
        nlprnn_lm_choice *c = NULL;
        size_t n = 0;
        const char *prefix = "이 영화 정말";
        CHECK_INT_EQ(nlprnn_lm_next(lc, prefix, strlen(prefix), 5, &c, &n, &err), 0);
        CHECK_MSG(n == 5 && c && c[0].prob > 0.0 && c[0].prob <= 1.0, "next: %zu answers", n);
        nlprnn_lm_choices_free(c, n);
        if (check_blas && vec)
            CHECK_MSG(blas_mapped() == 0, "next of one prefix (%s) mapped a BLAS", nr_kpath_name(kp));
        const char *blank = "이 영화 ___ 재밌다";
        c = NULL, n = 0;
        CHECK_INT_EQ(nlprnn_lm_fill(lc, blank, strlen(blank), NULL, 0, 5, &c, &n, &err), 0);
        CHECK_MSG(n == 5 && c && c[0].prob > c[4].prob, "fill: %zu answers", n);
        nlprnn_lm_choices_free(c, n);
        if (check_blas && kp == NR_KPATH_AVX512)
            CHECK_MSG(blas_mapped() == 0, "fill of one blank (%s) mapped a BLAS", nr_kpath_name(kp));
    } else {
        CHECK_MSG(0, "lm context: %s", err.message);
    }
    nlprnn_lm_ctx_free(lc);
    nlprnn_lm_free(lm);
}

/* nr_sgemm with neither a CBLAS nor the kernels' buffer (its plain loops) against nr_kgemm and a
 * double reference: each within (K+2) 2^-24 (|alpha| sum_k |a b| + |beta c|) of the reference */
static void check_loops(void) {
    static const int shapes[][3] = {{2, 3, 5}, {7, 33, 17}, {40, 8, 50}, {5, 70, 300}, {33, 129, 64}};
    nr_rng rng;
    nr_rng_seed(&rng, 3);
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++)
        for (int t = 0; t < 4; t++) {
            int M = shapes[si][0], N = shapes[si][1], K = shapes[si][2], tA = t & 1, tB = t >> 1;
            int lda = (tA ? M : K) + 1, ldb = (tB ? K : N) + 2, ldc = N + 1;
            float alpha = t == 3 ? 0.5f : 1.0f, beta = t == 0 ? 0.0f : -0.75f;
            size_t na = (size_t)(tA ? K : M) * lda, nb = (size_t)(tB ? N : K) * ldb, nc = (size_t)M * ldc;
            float *a = malloc(sizeof(float) * na), *b = malloc(sizeof(float) * nb);
            float *c0 = malloc(sizeof(float) * nc), *ck = malloc(sizeof(float) * nc), *cl = malloc(sizeof(float) * nc);
            if (!a || !b || !c0 || !ck || !cl) abort();
            nr_init_uniform(a, na, -1, 1, &rng);
            nr_init_uniform(b, nb, -1, 1, &rng);
            nr_init_uniform(c0, nc, -1, 1, &rng);
            memcpy(ck, c0, sizeof(float) * nc);
            memcpy(cl, c0, sizeof(float) * nc);
            CHECK_INT_EQ(nr_kgemm(nr_kpath(), tA, tB, M, N, K, alpha, a, lda, b, ldb, beta, ck, ldc), 0);
            long k0 = nr_kgemm_count(0) + nr_kgemv_count();
            nr_kgemm_fail_buffer(1);
            CHECK_INT_EQ(nr_kgemm(nr_kpath(), tA, tB, M, N, K, alpha, a, lda, b, ldb, beta, cl, ldc), -1);
            nr_sgemm(tA, tB, M, N, K, alpha, a, lda, b, ldb, beta, cl, ldc);
            nr_kgemm_fail_buffer(0);
            CHECK_MSG(nr_kgemm_count(0) + nr_kgemv_count() == k0, "%dx%dx%d: a kernel ran", M, N, K);
            int bad = 0;
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    double m, r = nr_test_ref_dot(tA, tB, K, a, lda, b, ldb, i, j, &m);
                    double c = c0[(size_t)i * ldc + j];
                    r = alpha * r + beta * c;
                    double bound = (K + 2) * ldexp(1.0, -24) * (fabs(alpha) * m + fabs(beta * c));
                    double el = cl[(size_t)i * ldc + j], ek = ck[(size_t)i * ldc + j];
                    bad += !(fabs(el - r) <= bound) || !(fabs(el - ek) <= 2 * bound);
                }
            CHECK_MSG(bad == 0, "plain loops %c%c %dx%dx%d: %d elements off", tA ? 'T' : 'N', tB ? 'T' : 'N', M, N, K, bad);
            free(a), free(b), free(c0), free(ck), free(cl);
        }
}

/* 4: run as a child with NLPRNN_BLAS naming a library that does not exist */
static int fallback_child(void) {
    nlprnn_classifier *m = NULL;
    nlprnn_error err;
    CHECK_MSG(nlprnn_classifier_load("ko", &m, &err) == 0, "load ko: %s", err.message);
    classify_one(m);
    nlprnn_classifier_free(m);
    space_next_fill(0);
    check_products(); /* the CBLAS's shapes too: computed by our kernels */
    check_loops();
    CHECK(nr_blas_get() == NULL);
    CHECK_INT_EQ(nr_blas_loaded(), 0);
    CHECK_INT_EQ(nr_blas_status(&err), NLPRNN_E_UNSUPPORTED);
    CHECK_MSG(strstr(err.message, "libnlprnn-no-such-blas.so.9") && strstr(err.message, "own kernels"),
              "status message: %s", err.message);
    CHECK_INT_EQ(nr_blas_threads(), 0);
    CHECK_INT_EQ(blas_mapped(), 0);
    return nr_test_done("test_blas_own (no CBLAS)");
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--fallback")) return fallback_child();
    int before = threads_now();
    if (before < 0 || blas_mapped() < 0) {
        fprintf(stderr, "test_blas_own: SKIP (no /proc/self/task or /proc/self/maps)\n");
        return 77;
    }
    nlprnn_error err;

    /* 1: nothing loaded for one short review */
    CHECK_INT_EQ(blas_mapped(), 0);
    nlprnn_classifier *m = NULL;
    int rc = nlprnn_classifier_load("ko", &m, &err);
    CHECK_MSG(rc == 0, "load ko: %s", err.message);
    classify_one(m);
    CHECK_INT_EQ(nr_blas_loaded(), 0);
    CHECK_INT_EQ(blas_mapped(), 0);
    CHECK_INT_EQ(nr_blas_status(&err), 0);
    CHECK_INT_EQ(threads_now(), before);
    space_next_fill(1);
    if (nr_kpath() == NR_KPATH_AVX512) {
        CHECK_INT_EQ(nr_blas_loaded(), 0);
        CHECK_INT_EQ(threads_now(), before);
    }

    /* 2: a CBLAS product loads it; its threads are taken at once */
    CHECK_MSG(product_error(0, 1, 300, 200) < 1e-5, "first CBLAS product wrong");
    const nr_blas *b = nr_blas_get();
    CHECK_MSG(b != NULL && nr_blas_loaded(), "the CBLAS did not load: %s",
              nr_blas_status(&err) ? err.message : "(no error)");
    if (b) {
        fprintf(stderr, "test_blas_own: CBLAS %s, %d thread(s)\n", b->name, nr_blas_threads());
        if (strcasestr(b->name, "blas")) CHECK_INT_EQ(blas_mapped(), 1);
    }
    CHECK_INT_EQ(threads_now(), 1);
    if (nr_blas_threads() != 0) CHECK_INT_EQ(nr_blas_threads(), 1); /* 0: not OpenBLAS */
    check_products();
    classify_one(m);
    nlprnn_classifier_free(m);
    CHECK_INT_EQ(threads_now(), 1);

    /* 3: the loader's errors */
    nr_blas t;
    CHECK_INT_EQ(nr_blas_try("libnlprnn-no-such-blas.so.9", &t, &err), NLPRNN_E_UNSUPPORTED);
    CHECK_MSG(strstr(err.message, "cannot load the CBLAS libnlprnn-no-such-blas.so.9"), "%s", err.message);
    CHECK(t.sgemm == NULL);
    CHECK_INT_EQ(nr_blas_try("libz.so.1", &t, &err), NLPRNN_E_UNSUPPORTED);
    CHECK_MSG(strstr(err.message, "libz.so.1 has no cblas_sgemm"), "%s", err.message);
    CHECK(t.sgemm == NULL && t.sgemv == NULL);
    CHECK_INT_EQ(nr_blas_try("", &t, &err), NLPRNN_E_UNSUPPORTED);
    CHECK_INT_EQ(nr_blas_try("libz.so.1::libm.so.6", &t, &err), NLPRNN_E_UNSUPPORTED);
    CHECK_MSG(strstr(err.message, "separated by ':'"), "%s", err.message);
    if (b) { /* the same names again: a second table of the same functions */
        char names[sizeof b->name];
        snprintf(names, sizeof names, "%s", b->name);
        CHECK_INT_EQ(nr_blas_try(names, &t, &err), 0);
        CHECK(t.sgemm == b->sgemm && t.sgemv == b->sgemv);
    }

    /* 4: no CBLAS at all: this program again, with NLPRNN_BLAS naming a missing library */
    pid_t pid = fork();
    if (pid == 0) {
        setenv("NLPRNN_BLAS", "libnlprnn-no-such-blas.so.9", 1);
        execl("/proc/self/exe", argv[0], "--fallback", (char *)NULL);
        _exit(127);
    }
    int st = -1;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the run without a CBLAS failed (status %d)", st);
    return nr_test_done("test_blas_own");
}

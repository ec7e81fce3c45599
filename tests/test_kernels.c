/* tests/test_kernels.c: the GEMM kernels of every path this CPU runs (models/kernels/kernels.h).
 *
 *   accuracy: nr_kgemm and nr_kgemm_packed against a double-precision reference on the same
 *             inputs, all four transpose cases, sizes 1, odd, and non-multiples of every vector
 *             width, panel width and k block (K = 255..257, 513), padded leading dimensions,
 *             unaligned pointers, alpha/beta cases (beta = 0 must not read C: it is NaN).
 *             Tolerance: the bound of a float32 sum of K+1 rounded terms,
 *               |C - ref| <= (K + 2) * 2^-24 * (|alpha| sum_k |a_ik b_kj| + |beta c_ij|),
 *             which any correct summation order meets and a lost or doubled term breaks;
 *             The same for nr_kgemv (the streaming few-row kernel) where A is not transposed,
 *             also 2-31 rows of a tall B^T (N = 1001: several blocks of B, every tail);
 *   bits:     per path, the packed and unpacked products are bit-identical, and a row gives
 *             the same bits alone (M = 1) as inside a batch (kernels.h, "Rounding"); nr_kgemv
 *             gives nr_kgemm's bits without transB, and with it (its own order of the sum) the
 *             same bits for an element alone, in a batch and at any column;
 *   float16:  nr_kgemv_f16 gives nr_kgemv's bits (transB) on the float32 widening of the same
 *             halves, every path, odd sizes (every tail of 8 and 16 lanes, K = 1..33, 300, 1001),
 *             1-9 rows of A, padded ldb, alpha/beta (beta = 0 must not read C: it is NaN); a
 *             one-chain sum of the same products differs somewhere (so the comparison sees the
 *             order); nr_sgemm_pk_copy with halves gives nr_sgemm's bits on both of its routes;
 *   int8:     nr_kgemv_i8 (int8 rows with a scale each) within the bound below of a double
 *             product of the widened weights fl(q * scale), and bit for bit nr_kgemv's (transB)
 *             on those float32 weights, every path, K = 1..33, 47, 63, 65, 300, 1001 (every tail
 *             of 8, 16 and 32 lanes), 1-5, 7, 9 rows of A, zero rows (scale 0), padded strides,
 *             alpha/beta; nr_sgemm_pk_copy with int8 rows gives nr_sgemm's bits on every route
 *             and reads the rows exactly where nr_sgemm takes nr_kgemv;
 *   packed once: nr_sgemm_pk (models/math.h) gives nr_sgemm's bits on every route, packs only
 *             where nr_sgemm runs nr_kgemm, repacks after nr_pk_stale or for another B;
 *   dispatch: path names, NLPRNN_KERNEL (the test runs itself with the variable set), the
 *             forced path (nr_kpath_set);
 *   routing:  nr_kgemm_rule with injected CBLAS corenames: on AVX-512 the weight gradients and
 *             dX (TN, NN) go to a CBLAS that runs AVX-512 kernels (SkylakeX...) and to ours for
 *             any other (Haswell, Zen, unknown, none); the forward products (NT: input
 *             projection, LM output) and packed ones to ours without asking the corename;
 *             nr_sgemm follows the rule;
 *   encoder:  forward and backward of LSTM, GRU (reset after and before) and SimpleRNN with each
 *             path forced agree with the portable path (CBLAS products) to 1e-4 relative (to
 *             |value| + 0.1; outputs agree to ~3e-7, gradients, sums over 45 rows through 9
 *             steps, to ~2e-5 for SimpleRNN), and the per-step products really ran through the
 *             packed kernels on the vector paths.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/blas.h"
#include "models/kernels/kernels.h"
#include "models/math.h"
#include "models/nn.h"
#include "models/quant.h"
#include "testutil.h"

static void fill(float *b, size_t n, nr_rng *rng)
{
    for (size_t k = 0; k < n; k++)
        b[k] = 2.0f * nr_rng_uniform(rng) - 1.0f;
}

/* one product case on path p; returns 0 if all elements are within the bound */
static int check_case(int p, int tA, int tB, int M, int N, int K, float alpha, float beta,
                      int pad, int off, nr_rng *rng)
{
    int lda = (tA ? M : K) + pad, ldb = (tB ? K : N) + pad, ldc = N + pad;
    size_t na = (size_t)(tA ? K : M) * lda + off, nb = (size_t)(tB ? N : K) * ldb + off;
    size_t nc = (size_t)M * ldc + off;
    float *A = malloc(sizeof(float) * na), *B = malloc(sizeof(float) * nb);
    float *C0 = malloc(sizeof(float) * nc), *C1 = malloc(sizeof(float) * nc),
          *C2 = malloc(sizeof(float) * nc), *C3 = malloc(sizeof(float) * nc);
    float *Bp = aligned_alloc(64, (sizeof(float) * nr_kpack_floats(p, K, N) + 127) / 64 * 64);
    fill(A, na, rng);
    fill(B, nb, rng);
    fill(C0, nc, rng);
    if (beta == 0.0f) /* must not be read */
        for (size_t k = 0; k < nc; k++)
            C0[k] = NAN;
    memcpy(C1, C0, sizeof(float) * nc);
    memcpy(C2, C0, sizeof(float) * nc);
    memcpy(C3, C0, sizeof(float) * nc);
    const float *a = A + off, *b = B + off;
    CHECK_INT_EQ(nr_kgemm(p, tA, tB, M, N, K, alpha, a, lda, b, ldb, beta, C1 + off, ldc), 0);
    nr_kpack(p, Bp, tB, K, N, b, ldb);
    nr_kgemm_packed(p, tA, M, N, K, alpha, a, lda, Bp, beta, C2 + off, ldc);
    if (!tA) /* the streaming kernel (A not transposed) */
        nr_kgemv(p, tB, M, N, K, alpha, a, lda, b, ldb, beta, C3 + off, ldc);
    int bad = 0, badv = 0;
    double worst = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double m, r = nr_test_ref_dot(tA, tB, K, a, lda, b, ldb, i, j, &m);
            double c = C0[off + (size_t)i * ldc + j];
            r = alpha * r + (beta != 0.0f ? beta * c : 0.0);
            double bound = (K + 2) * ldexp(1.0, -24) * (fabs(alpha) * m + (beta != 0.0f ? fabs(beta * c) : 0));
            double got = C1[off + (size_t)i * ldc + j];
            double e = fabs(got - r);
            if (!(e <= bound))
                bad++;
            if (!tA && !(fabs(C3[off + (size_t)i * ldc + j] - r) <= bound))
                badv++;
            worst = e / (bound + 1e-300) > worst ? e / (bound + 1e-300) : worst;
        }
    /* packed and unpacked: the same bits, and the streaming kernel's without transB (one chain per
     * element as the tiles'); nothing outside C written (padding, offset) */
    int same = !memcmp(C1, C2, sizeof(float) * nc);
    int samev = tA || tB || !memcmp(C1, C3, sizeof(float) * nc);
    int untouched = 1;
    for (size_t k = 0; k < nc; k++) {
        size_t q = k < (size_t)off ? (size_t)-1 : k - off;
        int inside = k >= (size_t)off && (int)(q / ldc) < M && (int)(q % ldc) < N;
        if (!inside)
            untouched &= memcmp(&C1[k], &C0[k], sizeof(float)) == 0 &&
                         (tA || memcmp(&C3[k], &C0[k], sizeof(float)) == 0);
    }
    CHECK_MSG(bad == 0 && badv == 0 && same && samev && untouched,
              "%s %c%c M=%d N=%d K=%d alpha=%g beta=%g pad=%d off=%d: %d elements over the bound "
              "(worst %.3g of it), %d of nr_kgemv, packed %s unpacked, nr_kgemv %s unpacked, "
              "outside C %s", nr_kpath_name(p), tA ? 'T' : 'N', tB ? 'T' : 'N', M, N, K, alpha,
              beta, pad, off, bad, worst, badv, same ? "==" : "!=", samev ? "==" : "!=",
              untouched ? "untouched" : "WRITTEN");
    free(A);
    free(B);
    free(C0);
    free(C1);
    free(C2);
    free(C3);
    free(Bp);
    return bad || badv || !same || !samev || !untouched;
}

static void test_accuracy(int p)
{
    static const int ms[] = {1, 2, 3, 5, 7, 8, 9, 13, 17, 33, 65};
    static const int ns[] = {1, 3, 8, 15, 16, 17, 33, 47, 49, 97, 530};
    static const int ks[] = {1, 2, 7, 16, 31, 255, 256, 257, 513};
    nr_rng rng;
    nr_rng_seed(&rng, 42 + p);
    int cases = 0, bad = 0;
    for (int t = 0; t < 4; t++)
        for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++)
            for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++) {
                /* every (M, N) pair with a rotating K, alpha/beta, padding and offset */
                size_t sel = mi * 7 + ni * 3 + (size_t)t;
                int K = ks[sel % (sizeof ks / sizeof *ks)];
                float alpha = sel % 5 == 3 ? 0.75f : 1.0f;
                float beta = sel % 3 == 0 ? 0.0f : sel % 3 == 1 ? 1.0f : -0.5f;
                int pad = (int)(sel % 4 == 1) * 3, off = (int)(sel % 2);
                bad += check_case(p, t & 1, t >> 1, ms[mi], ns[ni], K, alpha, beta, pad, off, &rng);
                cases++;
            }
    /* the shapes of the recurrent layers */
    bad += check_case(p, 0, 1, 64, 1024, 256, 1.0f, 0.0f, 0, 0, &rng);
    bad += check_case(p, 0, 0, 64, 256, 1024, 1.0f, 0.0f, 0, 0, &rng);
    bad += check_case(p, 1, 0, 1024, 256, 70, 1.0f, 1.0f, 0, 0, &rng);
    bad += check_case(p, 0, 1, 300, 600, 130, 1.0f, 1.0f, 0, 0, &rng);
    cases += 4;
    /* few rows of a tall B^T (the LM's output for a few beams: nr_kgemv's groups of rows of A,
     * blocks of rows of B, R-row blocks): N = 1001 spans several blocks of B and leaves tails of
     * every size (K = 192: blocks of 40 rows, 25 and 1 left; 129: 56, 49 = 12 x 4 + 1 left;
     * 517: 8; 7: one block), M = 2..7 and 10, 31 leave every remainder of the groups of 3 and 4 */
    static const int fm[] = {2, 3, 4, 5, 6, 7, 10, 31};
    static const int fk[] = {192, 129, 517, 7};
    for (size_t mi = 0; mi < sizeof fm / sizeof *fm; mi++)
        for (size_t ki = 0; ki < sizeof fk / sizeof *fk; ki++) {
            size_t sel = mi * 4 + ki;
            float beta = sel % 3 == 0 ? 0.0f : sel % 3 == 1 ? 1.0f : -0.5f;
            bad += check_case(p, 0, 1, fm[mi], 1001, fk[ki], sel % 2 ? 0.75f : 1.0f, beta,
                              (int)(sel % 4 == 1) * 3, (int)(sel % 2), &rng);
            cases++;
        }
    printf("%-8s %d product cases, %d outside the bound\n", nr_kpath_name(p), cases, bad);
}

/* a row alone (M = 1) gives the bits it has in a batch of M rows, packed and unpacked */
static void test_row_bits(int p)
{
    const int M = 22, N = 75, K = 300; /* M: groups of 3 (AVX2) and 4 (AVX-512) and a tail */
    nr_rng rng;
    nr_rng_seed(&rng, 9);
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * N * K);
    float *C = malloc(sizeof(float) * M * N), *c = malloc(sizeof(float) * N);
    float *Bp = aligned_alloc(64, (sizeof(float) * nr_kpack_floats(p, K, N) + 127) / 64 * 64);
    fill(A, (size_t)M * K, &rng);
    fill(B, (size_t)N * K, &rng);
    nr_kpack(p, Bp, 1, K, N, B, K);
    nr_kgemm_packed(p, 0, M, N, K, 1.0f, A, K, Bp, 0.0f, C, N);
    int same = 1;
    for (int i = 0; i < M; i++) {
        nr_kgemm_packed(p, 0, 1, N, K, 1.0f, A + (size_t)i * K, K, Bp, 0.0f, c, N);
        same &= !memcmp(c, C + (size_t)i * N, sizeof(float) * N);
        CHECK_INT_EQ(nr_kgemm(p, 0, 1, 1, N, K, 1.0f, A + (size_t)i * K, K, B, K, 0.0f, c, N), 0);
        same &= !memcmp(c, C + (size_t)i * N, sizeof(float) * N);
    }
    CHECK_MSG(same, "%s: a row alone differs from its row in the batch", nr_kpath_name(p));
    /* nr_kgemv with B^T (its own order of the sum): an element depends on its row of A and of B
     * only, so the same bits alone, in a batch of M rows (groups of 4), and column by column */
    nr_kgemv(p, 1, M, N, K, 1.0f, A, K, B, K, 0.0f, C, N);
    int samev = 1;
    for (int i = 0; i < M; i++) {
        nr_kgemv(p, 1, 1, N, K, 1.0f, A + (size_t)i * K, K, B, K, 0.0f, c, N);
        samev &= !memcmp(c, C + (size_t)i * N, sizeof(float) * N);
        for (int j = 0; j < N; j++) {
            float one;
            nr_kgemv(p, 1, 1, 1, K, 1.0f, A + (size_t)i * K, K, B + (size_t)j * K, K, 0.0f, &one, 1);
            samev &= !memcmp(&one, C + (size_t)i * N + j, sizeof one);
        }
    }
    CHECK_MSG(samev, "%s: nr_kgemv: an element depends on where it sits", nr_kpath_name(p));
    free(A);
    free(B);
    free(C);
    free(c);
    free(Bp);
}

static void test_dispatch(const char *self)
{
    for (int p = 0; p < NR_KPATH_COUNT; p++)
        CHECK_INT_EQ(nr_kpath_from_name(nr_kpath_name(p)), p);
    CHECK_INT_EQ(nr_kpath_from_name("avx-512"), -1);
    CHECK_INT_EQ(nr_kpath_from_name(NULL), -1);
    CHECK(nr_kpath_name(NR_KPATH_COUNT) == NULL);
    CHECK(nr_kpath_usable(NR_KPATH_PORTABLE));
    CHECK(nr_kpath_usable(nr_kpath_best()));
    /* NLPRNN_KERNEL, read by a fresh process: each usable path is taken, a bad name falls back */
    for (int p = -1; p < NR_KPATH_COUNT; p++) {
        if (p >= 0 && !nr_kpath_usable(p))
            continue;
        char *out = NULL;
        int rc = nr_test_run(&out, "NLPRNN_KERNEL=%s '%s' --print-path", p < 0 ? "bogus" : nr_kpath_name(p),
                             self);
        CHECK_INT_EQ(rc, 0);
        const char *want = nr_kpath_name(p < 0 ? nr_kpath_best() : p);
        CHECK_MSG(out && !strncmp(out, want, strlen(want)), "NLPRNN_KERNEL=%s: path %s, expected %s",
                  p < 0 ? "bogus" : nr_kpath_name(p), out ? out : "(none)", want);
        free(out);
    }
    /* the variable as CTest's caller set it (scripts/test.sh runs the suite once per path) */
    const char *env = getenv("NLPRNN_KERNEL");
    if (env && nr_kpath_from_name(env) >= 0 && nr_kpath_usable(nr_kpath_from_name(env)))
        CHECK_STR_EQ(nr_kpath_name(nr_kpath()), env);
    printf("path in force: %s (best on this CPU: %s)\n", nr_kpath_name(nr_kpath()),
           nr_kpath_name(nr_kpath_best()));
}

/* ---- routing by the CBLAS's kernels ------------------------------------------------------------ */

static int core_asked;
static const char *core_name;
static const char *core_fake(void)
{
    core_asked++;
    return core_name;
}

/* nr_kgemm_rule on path p for one shape with corename `core`; *asked: whether it asked */
static int rule_with(int p, const char *core, int tA, int tB, int M, int N, int K, int packed,
                     int *asked)
{
    core_name = core;
    core_asked = 0;
    int r = nr_kgemm_rule(p, tA, tB, M, N, K, packed, core_fake);
    *asked = core_asked;
    return r;
}

static void test_route(void)
{
    CHECK(nr_blas_core_avx512("SkylakeX"));
    CHECK(nr_blas_core_avx512("skylakex"));
    CHECK(nr_blas_core_avx512("Cooperlake"));
    CHECK(nr_blas_core_avx512("SapphireRapids"));
    CHECK(!nr_blas_core_avx512("Haswell"));
    CHECK(!nr_blas_core_avx512("Zen"));
    CHECK(!nr_blas_core_avx512(""));
    CHECK(!nr_blas_core_avx512(NULL));
    /* shapes nr_sgemm meets in training (the shipped classifier's, the LM's) */
    static const struct {
        int tA, tB, M, N, K, packed, ours_any, ours_avx512blas, asks;
    } cases[] = {
        {0, 1, 2048, 512, 128, 0, 1, 1, 0},  /* input projection X W_ih^T */
        {0, 1, 64, 512, 128, 0, 1, 1, 0},    /* one long text's projection, the table's 64 rows */
        {0, 1, 256, 16000, 192, 0, 1, 1, 0}, /* LM output (a fill's scoring: 46-276 rows) */
        {1, 0, 512, 128, 2048, 0, 1, 0, 1},  /* dW_ih = dG^T X */
        {1, 0, 16000, 192, 256, 0, 1, 0, 1}, /* the LM's dense dW */
        {0, 0, 2048, 128, 512, 0, 1, 0, 1},  /* dX = dG W_ih */
        {0, 0, 64, 256, 1024, 0, 1, 0, 1},   /* a backward step, W_hh not packed */
        {1, 1, 64, 64, 64, 0, 1, 0, 1},      /* TT */
        {0, 0, 64, 256, 1024, 1, 1, 1, 0},   /* a backward step on the packed W_hh */
        {0, 1, 2, 1024, 256, 1, 1, 1, 0},    /* a forward step of 2 rows, packed */
        {0, 0, 31, 128, 512, 0, 0, 0, 0},    /* fewer than 32 rows: not this rule's */
        {1, 0, 512, 16, 2048, 0, 0, 0, 0},   /* N < 32 (a classifier's head) */
    };
    const char *cores[] = {"SkylakeX", "Cooperlake", "Haswell", "Zen", "", NULL};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (size_t c = 0; c < sizeof cores / sizeof *cores; c++) {
            int asked, avx512 = nr_blas_core_avx512(cores[c]);
            int r = rule_with(NR_KPATH_AVX512, cores[c], cases[i].tA, cases[i].tB, cases[i].M,
                              cases[i].N, cases[i].K, cases[i].packed, &asked);
            int want = avx512 ? cases[i].ours_avx512blas : cases[i].ours_any;
            CHECK_MSG(r == want, "avx512, corename %s, %c%c %dx%dx%d%s: rule %d, expected %d",
                      cores[c] ? cores[c] : "(none)", cases[i].tA ? 'T' : 'N',
                      cases[i].tB ? 'T' : 'N', cases[i].M, cases[i].N, cases[i].K,
                      cases[i].packed ? " packed" : "", r, want);
            CHECK_MSG(asked == cases[i].asks, "avx512, %dx%dx%d: corename asked %d times, expected %d",
                      cases[i].M, cases[i].N, cases[i].K, asked, cases[i].asks);
            /* AVX2 and portable: the corename plays no part (AVX2: packed, 2-16 rows) */
            int want2 = cases[i].packed && cases[i].M >= 2 && cases[i].M <= 16;
            CHECK_INT_EQ(rule_with(NR_KPATH_AVX2, cores[c], cases[i].tA, cases[i].tB, cases[i].M,
                                   cases[i].N, cases[i].K, cases[i].packed, &asked), want2);
            CHECK_INT_EQ(asked, 0);
            CHECK_INT_EQ(rule_with(NR_KPATH_PORTABLE, cores[c], cases[i].tA, cases[i].tB,
                                   cases[i].M, cases[i].N, cases[i].K, cases[i].packed, &asked), 0);
        }
    /* no corename function: an unknown CBLAS keeps our kernel */
    CHECK(nr_kgemm_rule(NR_KPATH_AVX512, 1, 0, 512, 128, 2048, 0, NULL));
    /* nr_sgemm follows the rule with the loaded CBLAS's corename (dW_ih's shape) */
    if (nr_kpath_usable(NR_KPATH_AVX512)) {
        const int M = 64, N = 64, K = 64;
        float *A = calloc((size_t)M * K, sizeof(float)), *B = calloc((size_t)K * N, sizeof(float));
        float *C = calloc((size_t)M * N, sizeof(float));
        nr_kpath_set(NR_KPATH_AVX512);
        long k0 = nr_kgemm_count(0);
        nr_sgemm(1, 0, M, N, K, 1.0f, A, M, B, N, 0.0f, C, N);
        long ran = nr_kgemm_count(0) - k0;
        nr_kpath_set(-1);
        const char *core = nr_blas_corename();
        int ours = !nr_blas_core_avx512(core) || !nr_blas_get();
        printf("routing: CBLAS corename '%s': a 64x64x64 TN product on avx512 ran on %s\n", core,
               ran ? "our kernel" : "the CBLAS");
        CHECK_INT_EQ(ran > 0, ours);
        free(A);
        free(B);
        free(C);
    }
}

/* ---- nr_sgemm_pk: a weight packed once ---------------------------------------------------------
 * On path p, for shapes that nr_sgemm sends to each of its routes (one row: nr_kgemv; 2-31 rows of a
 * small op(B) and 32+ rows: nr_kgemm; 2-31 rows of a large B^T: nr_kgemv), nr_sgemm_pk gives
 * nr_sgemm's bits, the first time and again from its packed copy; it packs only where nr_sgemm
 * would run nr_kgemm; after the values of B change and nr_pk_stale, the new values' bits (without
 * it the copy would be used: shown by the stale result differing); another B repacks by itself. */
static void test_pk(int p)
{
    static const struct { int tB, M, N, K; int packs; } cases[] = {
        {1, 1, 384, 128, 0},   /* one row: nr_kgemv */
        {1, 5, 768, 256, 1},   /* 5 rows, op(B) 768x256 = 196,608 floats: small, nr_kgemm */
        {0, 7, 300, 129, 1},   /* B not transposed, small */
        {1, 64, 257, 513, 1},  /* 64 rows, NT: nr_kgemm on AVX-512 (on AVX2 by size: kernels.h) */
        {1, 9, 2001, 256, 0},  /* 9 rows of a large B^T (512K floats): nr_kgemv */
    };
    nr_rng rng;
    nr_rng_seed(&rng, 11);
    nr_kpath_set(p);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int tB = cases[i].tB, M = cases[i].M, N = cases[i].N, K = cases[i].K;
        int ldb = tB ? K : N;
        size_t nb = (size_t)K * N, nc = (size_t)M * N;
        float *A = malloc(sizeof(float) * (size_t)M * K), *B = malloc(sizeof(float) * nb);
        float *B2 = malloc(sizeof(float) * nb);
        float *C0 = malloc(sizeof(float) * nc), *C1 = malloc(sizeof(float) * nc);
        fill(A, (size_t)M * K, &rng);
        fill(B, nb, &rng);
        memcpy(B2, B, sizeof(float) * nb);
        nr_pk pk = {0};
        nr_sgemm(0, tB, M, N, K, 1.0f, A, K, B, ldb, 0.0f, C0, N);
        int same = 1;
        long pk0 = nr_kgemm_count(1);
        for (int rep = 0; rep < 3; rep++) {
            memset(C1, 0, sizeof(float) * nc);
            nr_sgemm_pk(&pk, tB, M, N, K, 1.0f, A, K, B, ldb, 0.0f, C1, N);
            same &= !memcmp(C0, C1, sizeof(float) * nc);
        }
        long ran = nr_kgemm_count(1) - pk0;
        /* whether it packed: the route of the shape on this path (checked below on AVX-512) */
        int packs = pk.valid;
        CHECK_MSG(same, "%s: nr_sgemm_pk %dx%dx%d tB=%d: not nr_sgemm's bits", nr_kpath_name(p), M, N,
                  K, tB);
        CHECK_MSG(ran == (packs ? 3 : 0), "%s: %dx%dx%d: %ld packed products, expected %d",
                  nr_kpath_name(p), M, N, K, ran, packs ? 3 : 0);
        if (p == NR_KPATH_AVX512) /* the routes measured for this path (kernels.h) */
            CHECK_MSG(packs == cases[i].packs, "%s: %dx%dx%d tB=%d: packed %d, expected %d",
                      nr_kpath_name(p), M, N, K, tB, packs, cases[i].packs);
        if (packs) {
            /* new values in the same B: stale copy without nr_pk_stale, the new bits with it */
            for (size_t k = 0; k < nb; k++) B[k] *= 0.5f;
            nr_sgemm(0, tB, M, N, K, 1.0f, A, K, B, ldb, 0.0f, C0, N);
            nr_sgemm_pk(&pk, tB, M, N, K, 1.0f, A, K, B, ldb, 0.0f, C1, N);
            CHECK_MSG(memcmp(C0, C1, sizeof(float) * nc) != 0, "%s: the copy was not used",
                      nr_kpath_name(p));
            nr_pk_stale(&pk);
            nr_sgemm_pk(&pk, tB, M, N, K, 1.0f, A, K, B, ldb, 0.0f, C1, N);
            CHECK_MSG(!memcmp(C0, C1, sizeof(float) * nc), "%s: after nr_pk_stale: not the new bits",
                      nr_kpath_name(p));
            /* another B (the old values, elsewhere): repacked without being told */
            nr_sgemm(0, tB, M, N, K, 1.0f, A, K, B2, ldb, 0.0f, C0, N);
            nr_sgemm_pk(&pk, tB, M, N, K, 1.0f, A, K, B2, ldb, 0.0f, C1, N);
            CHECK_MSG(!memcmp(C0, C1, sizeof(float) * nc), "%s: another B: not its bits",
                      nr_kpath_name(p));
        } else {
            CHECK_MSG(pk.buf == NULL, "%s: %dx%dx%d: allocated without packing", nr_kpath_name(p), M,
                      N, K);
        }
        nr_pk_free(&pk);
        nr_pk_free(NULL);
        free(A);
        free(B);
        free(B2);
        free(C0);
        free(C1);
    }
    nr_kpath_set(-1);
}

/* ---- the encoder on each path ------------------------------------------------------------------ */

typedef struct {
    float *out, *hn, *cn, *grad, *dx;
} run_out;

static double max_rel(const float *a, const float *b, size_t n)
{
    double m = 0.0;
    for (size_t k = 0; k < n; k++) {
        double d = fabs((double)a[k] - b[k]) / (fabs((double)b[k]) + 0.1);
        m = d > m ? d : m;
    }
    return m;
}

/* forward + backward of a 2-layer bidirectional encoder on path p (T = 9, B = 5, odd sizes) */
static void run_encoder(int p, int cell, int after, run_out *r, size_t *sizes)
{
    const int I = 13, H = 19, T = 9, B = 5, L = 2;
    nr_encoder_cfg cfg;
    nr_encoder_cfg_default(&cfg, I, H);
    cfg.cell = cell;
    cfg.gru_reset_after = after;
    cfg.layers = L;
    cfg.bidirectional = 1;
    nr_encoder enc;
    size_t np = nr_encoder_param_count(&cfg);
    float *par = calloc(np, sizeof(float));
    nr_rng rng;
    nr_rng_seed(&rng, 3);
    CHECK_INT_EQ(nr_encoder_bind(&enc, &cfg, par, NULL), 0);
    CHECK_INT_EQ(nr_encoder_init(&enc, &rng, NULL), 0);
    int O = enc.out_size, S = L * 2;
    size_t nx = (size_t)T * B * I, no = (size_t)T * B * O, ns = (size_t)S * B * H;
    float *x = malloc(sizeof(float) * nx), *dout = malloc(sizeof(float) * no);
    fill(x, nx, &rng);
    fill(dout, no, &rng);
    int lens[5] = {9, 9, 6, 4, 1};
    sizes[0] = no, sizes[1] = ns, sizes[2] = np, sizes[3] = nx;
    r->out = calloc(no, sizeof(float));
    r->hn = calloc(ns, sizeof(float));
    r->cn = calloc(ns, sizeof(float));
    r->grad = calloc(np, sizeof(float));
    r->dx = calloc(nx, sizeof(float));
    nr_kpath_set(p);
    nr_encoder_ws *ws = nr_encoder_ws_create(&enc, T, B, 1, 1, NULL);
    CHECK(ws != NULL);
    CHECK_INT_EQ(nr_encoder_forward(&enc, ws, r->out, r->hn, r->cn, x, lens, NULL, NULL, T, B,
                                    NULL, NULL), 0);
    CHECK_INT_EQ(nr_encoder_backward(&enc, ws, r->grad, r->dx, NULL, NULL, dout, NULL, NULL,
                                     NULL), 0);
    nr_kpath_set(-1);
    nr_encoder_ws_free(ws);
    free(par);
    free(x);
    free(dout);
}

static void free_run(run_out *r)
{
    free(r->out);
    free(r->hn);
    free(r->cn);
    free(r->grad);
    free(r->dx);
}

static void test_encoder(void)
{
    static const int cells[][2] = {{NR_CELL_LSTM, 1}, {NR_CELL_GRU, 1}, {NR_CELL_GRU, 0}, {NR_CELL_RNN, 1}};
    for (size_t ci = 0; ci < sizeof cells / sizeof *cells; ci++) {
        size_t sz[4];
        run_out ref;
        run_encoder(NR_KPATH_PORTABLE, cells[ci][0], cells[ci][1], &ref, sz);
        for (int p = 1; p < NR_KPATH_COUNT; p++) {
            if (!nr_kpath_usable(p))
                continue;
            long packed0 = nr_kgemm_count(1);
            run_out r;
            run_encoder(p, cells[ci][0], cells[ci][1], &r, sz);
            long used = nr_kgemm_count(1) - packed0;
            double e[5] = {max_rel(r.out, ref.out, sz[0]), max_rel(r.hn, ref.hn, sz[1]),
                           max_rel(r.cn, ref.cn, sz[1]), max_rel(r.grad, ref.grad, sz[2]),
                           max_rel(r.dx, ref.dx, sz[3])};
            double w = 0;
            for (int k = 0; k < 5; k++)
                w = e[k] > w ? e[k] : w;
            const char *nm = nr_cell_name(cells[ci][0]);
            printf("encoder %-4s%s %-7s: max relative difference to portable %.2g (out %.2g hn "
                   "%.2g grad %.2g dx %.2g), %ld packed products\n",
                   nm, cells[ci][1] ? "" : "-before", nr_kpath_name(p), w, e[0], e[1], e[3], e[4],
                   used);
            CHECK_MSG(w <= 1e-4, "encoder %s on %s: differs from portable by %.3g", nm,
                      nr_kpath_name(p), w);
            CHECK_MSG(used > 0, "encoder %s on %s: no step ran through the packed kernel", nm,
                      nr_kpath_name(p));
            free_run(&r);
        }
        free_run(&ref);
    }
}

/* nr_klse on path p against a long double reference: within 1e-14 relative (and 1e-14 absolute
 * near 0) over lengths 0..40, 999..1003 (every lane tail) and spreads of z up to 2000 (terms below
 * e^-708 vanish); the portable path gives the bits of the plain loop; NaNs are passed over by the
 * maximum and make the sum NaN; *zmax is the maximum. */
static void test_lse(int p)
{
    nr_rng rng;
    nr_rng_seed(&rng, 77 + (uint64_t)p);
    enum { NMAX = 1003 };
    float z[NMAX];
    static const float spread[] = {0.01f, 1.0f, 10.0f, 100.0f, 2000.0f};
    double worst = 0;
    for (int n = 0; n <= NMAX; n = n == 40 ? 999 : n + 1)
        for (size_t sp = 0; sp < sizeof spread / sizeof *spread; sp++) {
            float mx = -INFINITY;
            for (int k = 0; k < n; k++) {
                z[k] = (nr_rng_uniform(&rng) - 0.7f) * spread[sp];
                mx = z[k] > mx ? z[k] : mx;
            }
            long double s = 0;
            for (int k = 0; k < n; k++)
                s += expl((long double)z[k] - mx);
            long double want = n ? (long double)mx + logl(s) : -INFINITY;
            float got_max = 0;
            double got = nr_klse(p, z, n, &got_max);
            if (!n) {
                CHECK(isinf(got) && got < 0);
                continue;
            }
            CHECK(got_max == mx);
            double e = fabs((double)(got - want)) / (fabs((double)want) > 1 ? fabs((double)want) : 1);
            worst = e > worst ? e : worst;
            CHECK_MSG(e <= 1e-14, "%s: lse of %d values (spread %g): %.17g, want %.17Lg", nr_kpath_name(p), n,
                      (double)spread[sp], got, want);
            if (p == NR_KPATH_PORTABLE) { /* the plain loop's bits */
                double m = -INFINITY, ss = 0;
                for (int k = 0; k < n; k++)
                    m = z[k] > m ? z[k] : m;
                for (int k = 0; k < n; k++)
                    ss += exp(z[k] - m);
                CHECK(got == m + log(ss));
            }
        }
    /* a NaN: passed over by the maximum, NaN in the sum */
    for (int k = 0; k < 37; k++)
        z[k] = (float)k * 0.1f;
    z[5] = NAN;
    float m = 0;
    CHECK(isnan(nr_klse(p, z, 37, &m)));
    CHECK(m == z[36]);
    printf("%-8s lse: worst relative error %.2g\n", nr_kpath_name(p), worst);
}

/* halves of random values over several binades (some subnormal, some zero), never NaN/inf; f the
 * float32 value of each */
static void fill_f16(uint16_t *h, float *f, size_t n, nr_rng *rng)
{
    for (size_t k = 0; k < n; k++) {
        float x = (2.0f * nr_rng_uniform(rng) - 1.0f) * ldexpf(1.0f, (int)(nr_rng_uniform(rng) * 12) - 8);
        if (k % 97 == 5)
            x = 3e-6f * (2.0f * nr_rng_uniform(rng) - 1.0f); /* subnormal in float16 */
        if (k % 89 == 3)
            x = 0.0f;
        h[k] = nr_f32_to_f16(x);
        f[k] = nr_f16_to_f32(h[k]);
    }
}

/* int8 rows with a scale each, as a model file stores them (nr_quant_i8_row of random rows over
 * several binades; every 7th row all zero: scale 0), and f the float32 widening of each
 * (nr_dequant_i8_row: fl(q * scale)), row stride ld */
static void fill_i8(int8_t *q, float *sc, float *f, int rows, int cols, int ld, nr_rng *rng)
{
    float *x = malloc(sizeof(float) * (size_t)cols);
    for (int j = 0; j < rows; j++) {
        float mag = ldexpf(1.0f, (int)(nr_rng_uniform(rng) * 12) - 8);
        for (int k = 0; k < cols; k++)
            x[k] = j % 7 == 6 ? 0.0f : (2.0f * nr_rng_uniform(rng) - 1.0f) * mag;
        nr_quant_i8_row(q + (size_t)j * ld, &sc[j], x, (size_t)cols);
        for (int k = cols; k < ld; k++) /* padding: read by nobody */
            q[(size_t)j * ld + k] = (int8_t)(k * 37);
        nr_dequant_i8_row(f + (size_t)j * ld, q + (size_t)j * ld, sc[j], (size_t)ld);
    }
    free(x);
}

/* nr_sgemm_pk_copy with a float16 (i8 = 0) or int8 (1) copy of B = nr_sgemm on the widened B, bit
 * for bit: one row (the copy's kernel on the vector paths, where nr_sgemm takes nr_kgemv), 40 rows
 * (the packed kernel), 5 rows of a large B^T (nr_kgemv on the vector paths), one row of a tiny B
 * (nr_kgemv on every path); the copy's kernel runs exactly where nr_sgemm takes nr_kgemv */
static void check_pk_copy(int p, int i8, nr_rng *rng)
{
    static const int shapes[][3] = {{1, 2001, 300}, {40, 301, 129}, {5, 2049, 257}, {1, 24, 17}};
    nr_kpath_set(p);
    for (size_t c = 0; c < sizeof shapes / sizeof *shapes; c++) {
        int M = shapes[c][0], N = shapes[c][1], K = shapes[c][2];
        float *A = malloc(sizeof(float) * (size_t)M * K), *Bf = malloc(sizeof(float) * (size_t)N * K);
        float *sc = malloc(sizeof(float) * (size_t)N);
        uint16_t *Bh = malloc(sizeof(uint16_t) * (size_t)N * K);
        int8_t *Bq = malloc((size_t)N * K);
        float *C0 = malloc(sizeof(float) * (size_t)M * N), *C1 = malloc(sizeof(float) * (size_t)M * N);
        fill(A, (size_t)M * K, rng);
        if (i8)
            fill_i8(Bq, sc, Bf, N, K, K, rng);
        else
            fill_f16(Bh, Bf, (size_t)N * K, rng);
        nr_wcopy copy = i8 ? (nr_wcopy){NULL, Bq, sc} : (nr_wcopy){Bh, NULL, NULL};
        nr_pk pk = {0};
        nr_sgemm(0, 1, M, N, K, 1.0f, A, K, Bf, K, 0.0f, C0, N);
        long before = i8 ? nr_kgemv_i8_count() : nr_kgemv_f16_count();
        nr_sgemm_pk_copy(&pk, M, N, K, 1.0f, A, K, Bf, &copy, K, 0.0f, C1, N);
        int used = (i8 ? nr_kgemv_i8_count() : nr_kgemv_f16_count()) > before;
        CHECK_MSG(!memcmp(C0, C1, sizeof(float) * (size_t)M * N), "%s: nr_sgemm_pk_copy (%s; %d,%d,%d) != nr_sgemm",
                  nr_kpath_name(p), i8 ? "int8" : "float16", M, N, K);
        CHECK_INT_EQ(used, nr_kgemv_use(p, 1, M, N, K));
        nr_pk_free(&pk);
        free(A), free(Bf), free(sc), free(Bh), free(Bq), free(C0), free(C1);
    }
    nr_kpath_set(-1);
}

/* The one-row kernels of stored weight types, float16 (i8 = 0: nr_kgemv_f16) and int8 with a scale
 * per row (i8 = 1: nr_kgemv_i8), on path p, over one case grid: every tail of 8, 16 and 32 lanes
 * (K = 1..33, 47, 63, 65, 300, 1001), 1-5 rows of A (and 7, 9), N up to 75, padded strides,
 * alpha/beta (beta = 0 must not read C: it is NaN). Each case checks
 *   - bit for bit against nr_kgemv (transB) on the widened float32 matrix W (what the model would
 *     hold without the copy), so a model gives the same bits with or without the copy;
 *   - against a double-precision product with W, within the bound of a float32 sum (check_case's);
 * and one chain over k of the same products must differ from the kernel somewhere (so the bitwise
 * check would see a change of summation order). Then nr_sgemm_pk_copy with such a copy. */
static void test_kgemv_stored(int p, int i8)
{
    const char *fn = i8 ? "nr_kgemv_i8" : "nr_kgemv_f16";
    if (!i8 && !nr_kgemv_f16_usable(p)) {
        printf("%-8s nr_kgemv_f16 not run: no F16C\n", nr_kpath_name(p));
        return;
    }
    static const int Ks[] = {1, 2, 5, 7, 8, 9, 15, 16, 17, 23, 31, 32, 33, 47, 63, 65, 300, 1001};
    static const int Ms[] = {1, 2, 3, 4, 5, 7, 9};
    static const int Ns[] = {1, 3, 4, 7, 8, 9, 13, 75};
    static const float ab[][2] = {{1.0f, 0.0f}, {0.5f, 0.25f}, {-1.5f, 1.0f}};
    nr_rng rng;
    nr_rng_seed(&rng, i8 ? 18 : 16);
    int bad_bits = 0, bad_ref = 0, cases = 0, order_seen = 0;
    double worst = 0;
    for (size_t ik = 0; ik < sizeof Ks / sizeof *Ks; ik++)
        for (size_t im = 0; im < sizeof Ms / sizeof *Ms; im++)
            for (size_t in = 0; in < sizeof Ns / sizeof *Ns; in++) {
                int K = Ks[ik], M = Ms[im], N = Ns[in], pad = (int)((ik + in) % 3);
                int lda = K + pad, ldb = K + 2 * pad + (int)(im % 2), ldc = N + pad;
                const float *al = ab[(ik + im + in) % 3];
                float *A = malloc(sizeof(float) * (size_t)M * lda);
                float *Wf = malloc(sizeof(float) * (size_t)N * ldb), *sc = malloc(sizeof(float) * (size_t)N);
                uint16_t *Wh = malloc(sizeof(uint16_t) * (size_t)N * ldb);
                int8_t *Wq = malloc((size_t)N * ldb);
                float *C0 = malloc(sizeof(float) * (size_t)M * ldc), *C1 = malloc(sizeof(float) * (size_t)M * ldc);
                float *Cin = malloc(sizeof(float) * (size_t)M * ldc);
                fill(A, (size_t)M * lda, &rng);
                if (i8)
                    fill_i8(Wq, sc, Wf, N, K, ldb, &rng);
                else
                    fill_f16(Wh, Wf, (size_t)N * ldb, &rng);
                fill(Cin, (size_t)M * ldc, &rng);
                if (al[1] == 0.0f)
                    for (int i = 0; i < M * ldc; i++)
                        Cin[i] = NAN;
                memcpy(C0, Cin, sizeof(float) * (size_t)M * ldc);
                memcpy(C1, Cin, sizeof(float) * (size_t)M * ldc);
                nr_kgemv(p, 1, M, N, K, al[0], A, lda, Wf, ldb, al[1], C0, ldc);
                if (i8)
                    nr_kgemv_i8(p, M, N, K, al[0], A, lda, Wq, sc, ldb, al[1], C1, ldc);
                else
                    nr_kgemv_f16(p, M, N, K, al[0], A, lda, Wh, ldb, al[1], C1, ldc);
                if (memcmp(C0, C1, sizeof(float) * (size_t)M * ldc) && bad_bits++ < 3)
                    printf("%s: %s M=%d N=%d K=%d alpha=%g beta=%g: not nr_kgemv's bits\n", nr_kpath_name(p), fn,
                           M, N, K, al[0], al[1]);
                for (int i = 0; i < M; i++)
                    for (int j = 0; j < N; j++) {
                        /* the naive reference y = alpha sum_k a_k w_jk + beta c, in double; and the
                         * one float chain fma(a_k, w_jk, s) over k (compared when beta = 0) */
                        double ref = 0, mag = 0;
                        float chain = 0.0f;
                        for (int k = 0; k < K; k++) {
                            double t = (double)A[(size_t)i * lda + k] * Wf[(size_t)j * ldb + k];
                            ref += t, mag += fabs(t);
                            chain = fmaf(A[(size_t)i * lda + k], Wf[(size_t)j * ldb + k], chain);
                        }
                        float y = C1[(size_t)i * ldc + j];
                        double cin = al[1] != 0.0f ? Cin[(size_t)i * ldc + j] : 0.0;
                        ref = al[0] * ref + al[1] * cin;
                        mag = fabs(al[0]) * mag + fabs(al[1] * cin);
                        double e = fabs(y - ref), bound = (K + 2) * ldexp(1.0, -24) * mag;
                        if (!(e <= bound) && bad_ref++ < 3)
                            printf("%s: %s M=%d N=%d K=%d (%d,%d): %.9g vs %.9g (bound %.3g)\n", nr_kpath_name(p),
                                   fn, M, N, K, i, j, y, ref, bound);
                        if (mag > 0 && e / mag > worst)
                            worst = e / mag;
                        chain *= al[0];
                        if (al[1] == 0.0f && K >= 16)
                            order_seen |= memcmp(&chain, &y, sizeof y) != 0;
                    }
                cases++;
                free(A), free(Wf), free(sc), free(Wh), free(Wq), free(C0), free(C1), free(Cin);
            }
    CHECK_MSG(!bad_bits, "%s: %s differs from nr_kgemv in %d of %d cases", nr_kpath_name(p), fn, bad_bits, cases);
    CHECK_MSG(!bad_ref, "%s: %s beyond the bound of a float32 sum in %d elements", nr_kpath_name(p), fn, bad_ref);
    CHECK_MSG(order_seen, "%s: a one-chain sum never differed from %s", nr_kpath_name(p), fn);
    printf("%-8s %s: %d cases, nr_kgemv's bits; worst error / sum|terms| %.2g\n", nr_kpath_name(p), fn, cases, worst);

    check_pk_copy(p, i8, &rng);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--print-path")) {
        printf("%s\n", nr_kpath_name(nr_kpath()));
        return 0;
    }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = 0;
    test_dispatch(n > 0 ? self : argv[0]);
    for (int p = 0; p < NR_KPATH_COUNT; p++) {
        if (!nr_kpath_usable(p)) {
            printf("%-8s not run: this CPU lacks it\n", nr_kpath_name(p));
            continue;
        }
        test_accuracy(p);
        test_row_bits(p);
        test_pk(p);
        test_kgemv_stored(p, 0);
        test_kgemv_stored(p, 1);
        test_lse(p);
    }
    test_route();
    test_encoder();
    return nr_test_done("test_kernels");
}

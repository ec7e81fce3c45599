/* bench/bench_gemm.c: our GEMM kernels (models/kernels/kernels.h) against the CBLAS they may
 * replace, shape by shape, side by side in one run.
 *
 *   bench_gemm [--seconds S] [--shape NAME] [--rows M] [--path P] [--custom "OP M N K"]
 *
 * For each shape of the recurrent layers (list below: the encoder's forward step, backward step,
 * input projection, weight gradients and dX, the LM's output product, a 1024^3 square) it runs, in
 * turn and repeatedly for S seconds (default 1): CBLAS (cblas_sgemm, or cblas_sgemv for M = 1, as
 * nr_sgemm calls it: nr_sgemm_cblas, whatever nr_sgemm would route the shape to), and each usable
 * path's kernel, with op(B) packed inside the call ("ours")
 * and, for weight products, packed once beforehand ("ours, packed": the encoder packs W_hh once
 * per sequence), and for products of at most 31 rows of an untransposed A, nr_kgemv ("gemv":
 * op(B) streamed unpacked, what nr_sgemm runs for one row; also for more rows of a transposed
 * op(B)). Each variant is called twice in a
 * row and the second call timed: its operands are as warm as a weight used at every step is, for
 * every variant alike (the variant run before it used other buffers). Each figure is the fastest call's GFLOP/s (2MNK / time); the calls of all
 * variants are interleaved, so load on a shared machine hits them alike. Also prints the largest
 * relative error of each kernel against a double-precision reference. --rows M runs the shapes
 * (those whose name contains NAME) with M rows of op(A) instead of theirs. --path P (portable,
 * avx2, avx512) runs only that path's kernels beside the CBLAS. --custom "NT 2048 512 128" runs
 * one shape given by its transposes (op(A) then op(B), N or T) and M N K instead of the list.
 * The column "nr_sgemm" is the product as nr_sgemm routes it on the path in force (NLPRNN_KERNEL
 * or the best; models/math.c), beside the variants it chooses between.
 * The CBLAS is loaded and set as nlprnn sets it (common/blas.h, nr_blas_own: one thread, the
 * calling one), so no variable is needed; its name and thread count go to stderr.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/blas.h"
#include "models/kernels/kernels.h"
#include "models/math.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct {
    const char *name;
    int tA, tB, M, N, K, packed; /* packed: B is a weight (packable once) */
} shape;

static const shape shapes[] = {
    {"fwd step LSTM-256 b64 h(64,256) Whh^T", 0, 1, 64, 1024, 256, 1},
    {"fwd step LSTM-256 b32 (2 threads)", 0, 1, 32, 1024, 256, 1},
    {"fwd step LSTM-256 b8", 0, 1, 8, 1024, 256, 1},
    {"fwd step LSTM-256 b4", 0, 1, 4, 1024, 256, 1},
    {"fwd step LSTM-256 b2", 0, 1, 2, 1024, 256, 1},
    {"fwd step LSTM-256 b1", 0, 1, 1, 1024, 256, 1},
    {"fwd step GRU-256 b64", 0, 1, 64, 768, 256, 1},
    {"fwd step LSTM-512 b64", 0, 1, 64, 2048, 512, 1},
    {"fwd step LSTM-512 b1", 0, 1, 1, 2048, 512, 1},
    {"fwd step LSTM-128 b64 (classifier)", 0, 1, 64, 512, 128, 1},
    {"bwd step LSTM-256 b64 dG(64,1024) Whh", 0, 0, 64, 256, 1024, 1},
    {"bwd step LSTM-512 b64", 0, 0, 64, 512, 2048, 1},
    {"bwd step GRU-256 b64", 0, 0, 64, 256, 768, 1},
    {"proj LSTM-256 X(2048,128) Wih^T", 0, 1, 2048, 1024, 128, 1},
    {"proj LSTM-512 X(2048,128) Wih^T", 0, 1, 2048, 2048, 128, 1},
    {"dW_hh LSTM-256 dG^T(1024,2048) Hprev", 1, 0, 1024, 256, 2048, 0},
    {"dW_hh LSTM-256 half rows (2 threads)", 1, 0, 512, 256, 2048, 0},
    {"dW_ih LSTM-256 dG^T X", 1, 0, 1024, 128, 2048, 0},
    {"dX LSTM-256 dG(2048,1024) Wih", 0, 0, 2048, 128, 1024, 1},
    {"LM out 256 rows x V 16000, H 192", 0, 1, 256, 16000, 192, 1},
    {"LM out 8 rows x V 16000, H 192", 0, 1, 8, 16000, 192, 1},
    {"LM out 1 row x V 16000, H 192", 0, 1, 1, 16000, 192, 1},
    {"LM out 4 rows x V 16000, H 192", 0, 1, 4, 16000, 192, 1},
    {"LM out 9 rows x V 16000, H 192 (next: beams)", 0, 1, 9, 16000, 192, 1},
    {"LM out 16 rows x V 16000, H 192 (fill)", 0, 1, 16, 16000, 192, 1},
    /* one-row products of the shipped models at batch 1 (nr_sgemm: nr_kgemv) */
    {"b1 step ko-space GRU-128 h(1,128) Whh^T", 0, 1, 1, 384, 128, 1},
    {"b1 proj ko-space GRU-128 x(1,64) Wih^T", 0, 1, 1, 384, 64, 1},
    {"b1 step ko-lm LSTM-192 h(1,192) Whh^T", 0, 1, 1, 768, 192, 1},
    {"b1 step classifier BiLSTM-128 h(1,128) Whh^T", 0, 1, 1, 512, 128, 1},
    {"b1 bwd step LSTM-128 dG(1,512) Whh", 0, 0, 1, 128, 512, 1},
    {"b1 attention context al(1,40) S(40,256)", 0, 0, 1, 256, 40, 0},
    {"b1 head (1,256) W^T (2,256)", 0, 1, 1, 2, 256, 1},
    {"dense dW LM (V,H) += dy^T x, 256 rows", 1, 0, 16000, 192, 256, 0},
    {"square 1024^3 NN", 0, 0, 1024, 1024, 1024, 0},
    /* small products nr_sgemm gives to our kernels on every path (models/math.c, own_small):
     * one review's input projection X(T,128) Wih^T and neighbours of it */
    {"small proj 2 rows X(2,128) Wih^T", 0, 1, 2, 512, 128, 0},
    {"small proj 8 rows", 0, 1, 8, 512, 128, 0},
    {"small proj 27 rows (one review, classifier)", 0, 1, 27, 512, 128, 0},
    {"small proj 31 rows X(31,256) Wih^T LSTM-256", 0, 1, 31, 1024, 256, 0},
};

static void cblas_call(const shape *s, const float *A, int lda, const float *B, int ldb, float *C)
{
    /* the CBLAS itself: nr_sgemm would give many of these shapes to our kernels */
    nr_sgemm_cblas(s->tA, s->tB, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, 0.0f, C, s->N);
}

/* max over C of |C - ref| / (sum_k |a_ik b_kj| + tiny) */
static double rel_err(const shape *s, const float *A, int lda, const float *B, int ldb,
                      const float *C)
{
    double e = 0;
    int M = s->M, N = s->N, K = s->K;
    for (int i = 0; i < M; i += (M > 64 ? 17 : 1))
        for (int j = 0; j < N; j += (N > 64 ? 7 : 1)) {
            double r = 0, m = 0;
            for (int k = 0; k < K; k++) {
                double a = s->tA ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = s->tB ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                r += a * b;
                m += fabs(a * b);
            }
            double d = fabs(C[(size_t)i * N + j] - r) / (m + 1e-30);
            e = d > e ? d : e;
        }
    return e;
}

int main(int argc, char **argv)
{
    double seconds = 1.0;
    const char *only = NULL;
    int rows = 0, only_path = -1;
    shape custom = {"custom", 0, 0, 0, 0, 0, 0};
    for (int a = 1; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--seconds"))
            seconds = atof(argv[a + 1]);
        else if (!strcmp(argv[a], "--shape"))
            only = argv[a + 1];
        else if (!strcmp(argv[a], "--rows") && atoi(argv[a + 1]) > 0)
            rows = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--path") && nr_kpath_from_name(argv[a + 1]) >= 0)
            only_path = nr_kpath_from_name(argv[a + 1]);
        else if (!strcmp(argv[a], "--custom")) {
            char ta, tb;
            if (sscanf(argv[a + 1], " %c%c %d %d %d", &ta, &tb, &custom.M, &custom.N, &custom.K) != 5 ||
                !strchr("NT", ta) || !strchr("NT", tb) || custom.M < 1 || custom.N < 1 || custom.K < 1) {
                fprintf(stderr, "bench_gemm: --custom wants \"OP M N K\", e.g. \"NT 2048 512 128\"\n");
                return 2;
            }
            custom.tA = ta == 'T', custom.tB = tb == 'T', custom.packed = !custom.tA;
        }
        else {
            fprintf(stderr, "bench_gemm: unknown option %s\n", argv[a]);
            return 2;
        }
    }
    const nr_blas *blas = nr_blas_get();
    if (!blas) {
        nlprnn_error err;
        nr_blas_status(&err);
        fprintf(stderr, "bench_gemm: no CBLAS: %s\n", err.message);
        return 1;
    }
    nr_blas_own();
    fprintf(stderr, "bench_gemm: CBLAS %s, %d thread(s)\n", blas->name, nr_blas_threads());
    int paths[NR_KPATH_COUNT], np = 0;
    for (int p = 0; p < NR_KPATH_COUNT; p++)
        if (nr_kpath_usable(p) && (only_path < 0 || p == only_path))
            paths[np++] = p;
    nr_rng rng;
    nr_rng_seed(&rng, 7);
    printf("| shape | op | M | N | K | CBLAS GFLOP/s | nr_sgemm (%s) |", nr_kpath_name(nr_kpath()));
    for (int q = 0; q < np; q++)
        printf(" %s | %s packed | %s gemv |", nr_kpath_name(paths[q]), nr_kpath_name(paths[q]),
               nr_kpath_name(paths[q]));
    printf(" max rel. error (per path) | gemv max rel. error |\n|---|---|---|---|---|---|---|");
    for (int q = 0; q < np; q++)
        printf("---|---|---|");
    printf("---|---|\n");
    size_t nshapes = custom.M ? 1 : sizeof shapes / sizeof shapes[0];
    for (size_t si = 0; si < nshapes; si++) {
        shape sm = custom.M ? custom : shapes[si];
        const shape *s = &sm;
        if (only && !custom.M && !strstr(s->name, only))
            continue;
        if (rows)
            sm.M = rows;
        int M = s->M, N = s->N, K = s->K;
        int lda = s->tA ? M : K, ldb = s->tB ? K : N;
        float *A = malloc(sizeof(float) * (size_t)M * K), *B = malloc(sizeof(float) * (size_t)K * N);
        float *C = malloc(sizeof(float) * (size_t)M * N);
        float *Bp[NR_KPATH_COUNT];
        nr_init_uniform(A, (size_t)M * K, -1, 1, &rng);
        nr_init_uniform(B, (size_t)K * N, -1, 1, &rng);
        for (int q = 0; q < np; q++) {
            Bp[q] = aligned_alloc(64, (sizeof(float) * nr_kpack_floats(paths[q], K, N) + 127) / 64 * 64);
            nr_kpack(paths[q], Bp[q], s->tB, K, N, B, ldb);
        }
        int nv = 2 + 3 * np, gv = !s->tA && (M <= 31 || s->tB); /* nr_kgemv: A not transposed; more than 31 rows only with B^T */
        double best[2 + 3 * NR_KPATH_COUNT];
        for (int v = 0; v < nv; v++)
            best[v] = 1e30;
        double err[NR_KPATH_COUNT] = {0}, errv[NR_KPATH_COUNT] = {0};
        double t0 = now();
        int rounds = 0;
        while (rounds < 3 || (now() - t0 < seconds && rounds < 100000)) {
            for (int v = 0; v < nv; v++) {
                /* v 0 CBLAS, then per path: ours, ours packed, ours gemv; last nr_sgemm */
                int q = (v - 1) / 3, kind = v == nv - 1 ? 3 : (v - 1) % 3;
                if (v > 0 && kind == 2 && !gv)
                    continue;
                double st = 0;
                for (int warm = 1; warm >= 0; warm--) { /* time the second of two calls */
                    st = now();
                    if (v == 0)
                        cblas_call(s, A, lda, B, ldb, C);
                    else if (kind == 0)
                        nr_kgemm(paths[q], s->tA, s->tB, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, N);
                    else if (kind == 3)
                        nr_sgemm(s->tA, s->tB, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, N);
                    else if (kind == 1)
                        nr_kgemm_packed(paths[q], s->tA, M, N, K, 1.0f, A, lda, Bp[q], 0.0f, C, N);
                    else
                        nr_kgemv(paths[q], s->tB, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, N);
                }
                double dt = now() - st;
                best[v] = dt < best[v] ? dt : best[v];
                if (rounds == 0 && v > 0 && kind == 1)
                    err[q] = rel_err(s, A, lda, B, ldb, C);
                if (rounds == 0 && v > 0 && kind == 2)
                    errv[q] = rel_err(s, A, lda, B, ldb, C);
            }
            rounds++;
        }
        double fl = 2.0 * M * N * K;
        printf("| %s | %s%s | %d | %d | %d | %.1f | %.1f (%.2fx) |", s->name, s->tA ? "T" : "N",
               s->tB ? "T" : "N", M, N, K, fl / best[0] * 1e-9, fl / best[nv - 1] * 1e-9,
               best[0] / best[nv - 1]);
        for (int q = 0; q < np; q++) {
            printf(" %.1f (%.2fx) |", fl / best[1 + 3 * q] * 1e-9, best[0] / best[1 + 3 * q]);
            if (s->packed)
                printf(" %.1f (%.2fx) |", fl / best[2 + 3 * q] * 1e-9, best[0] / best[2 + 3 * q]);
            else
                printf(" - |");
            if (gv)
                printf(" %.1f (%.2fx) |", fl / best[3 + 3 * q] * 1e-9, best[0] / best[3 + 3 * q]);
            else
                printf(" - |");
        }
        printf(" ");
        for (int q = 0; q < np; q++)
            printf("%s%.1e", q ? " / " : "", err[q]);
        printf(" |%s", gv ? "" : " -");
        for (int q = 0; gv && q < np; q++)
            printf("%s%.1e", q ? " / " : " ", errv[q]);
        printf(" |\n");
        fflush(stdout);
        for (int q = 0; q < np; q++)
            free(Bp[q]);
        free(A);
        free(B);
        free(C);
    }
    return 0;
}

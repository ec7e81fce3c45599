/* bench/bench_rnn.c: speed of the recurrent core (one configuration per run, one result line).
 *
 *   bench_rnn --cell lstm|gru --mode train|infer|sgemm --input 128 --hidden 256 --batch 64 --len 32
 *             --threads 2 --seconds 2
 *
 *   train:  forward + backward + SGD update of a 1-layer encoder on random (len,batch,input) data
 *           with loss sum(out * r): prints tokens/s (= batch*len / median step time) and the
 *           step's GFLOP/s (2P + 3R flops, P = 2*len*batch*input*gates*hidden for the input
 *           projection, R = 2*len*batch*hidden*gates*hidden for the recurrence; no dx)
 *   infer:  forward only (inference workspace): prints sequences/s
 *   sgemm:  C(n,n) += A B with n = 1024 through nr_sgemm (our kernel of the path in force,
 *           models/kernels/kernels.h: with AVX-512 the fastest sgemm we have), split over
 *           --threads like the encoder splits its GEMMs (rows per thread): prints GFLOP/s (the
 *           peak we compare to)
 *   blas:   the same through cblas_sgemm directly (OpenBLAS with the kernels the environment
 *           pins, OPENBLAS_CORETYPE)
 *   fma:    a register-only loop of independent fused multiply-adds of the widest vectors the
 *           path in force has (24 chains of 16-float AVX-512 FMAs, or 12 of 8-float AVX2), on each
 *           of --threads threads: the arithmetic peak of the cores, no memory
 *   step:   only the recurrent GEMM of the forward steps: len times gh (batch, gates*hidden) =
 *           h W_hh^T as the encoder computes it (W_hh packed once for our kernel where that is
 *           the faster choice, nr_kgemm_use; else nr_sgemm): prints its GFLOP/s
 *           (batch-64 step: 2% of its time is the loop making the next h from gh)
 *   gemv:   only the recurrent products of one sequence at batch 1: len steps of gh = W_hh h
 *           (W_hh (gates*hidden, hidden), each step's h made from the last gh), as the encoder
 *           computes them: prints the sequences/s this part alone allows (a floor for
 *           batch-1 inference time) and the GB/s of W_hh it streams
 *   --weights f16 (infer, gemv, step): W_hh rounded to float16 and kept as float16 for the
 *           recurrent products (nr_encoder_attach_f16, models/gemv_f16.h: the products of those
 *           float16 values with float32 accumulation, as a shipped f16 model runs); the encoder
 *           uses it for steps with at most NR_F16_MAX_ROWS running sequences. Default f32.
 *
 * Output: one line "key=value ..." that bench/run_rnn.sh collects: figures from the median step
 * time, and best_* from the fastest step (on a shared machine the median includes the time the
 * process waited for a core; the fastest step is the least disturbed one). Run with OPENBLAS_NUM_THREADS=1
 * (the encoder splits work across its own threads; see models/encoder.h).
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "models/gemv_f16.h"
#include "models/kernels/kernels.h"
#include "models/nn.h"
#include "models/quant.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    const float *A, *B;
    float *C;
    int n;
} gemm_job;

static int use_blas; /* --mode blas: cblas_sgemm instead of nr_sgemm */

static void gemm_part(void *ctx, int i, int n)
{
    gemm_job *j = ctx;
    int r0, r1;
    nr_split_range(j->n, i, n, &r0, &r1);
    if (use_blas)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, j->n, j->n, 1.0f,
                    j->A + (size_t)r0 * j->n, j->n, j->B, j->n, 1.0f, j->C + (size_t)r0 * j->n,
                    j->n);
    else
        nr_sgemm(0, 0, r1 - r0, j->n, j->n, 1.0f, j->A + (size_t)r0 * j->n, j->n, j->B, j->n,
                 1.0f, j->C + (size_t)r0 * j->n, j->n);
}

/* --mode fma: ITERS iterations of independent FMA chains in registers; result kept so the loop
 * stays. Returns the flops done. */
#define FMA_ITERS 50000L
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#undef I /* <complex.h>'s, which immintrin.h may bring */
/* the chains must stay in registers: the loops over them fully unrolled */
#if defined(__clang__)
#define FMA_UNROLL _Pragma("clang loop unroll(full)")
#else
#define FMA_UNROLL _Pragma("GCC unroll 24")
#endif
__attribute__((target("avx512f"))) static double fma_avx512(float *sink)
{
    __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-3f), acc[24];
    FMA_UNROLL for (int k = 0; k < 24; k++)
        acc[k] = _mm512_set1_ps((float)k);
    for (long it = 0; it < FMA_ITERS; it++)
        FMA_UNROLL for (int k = 0; k < 24; k++)
            acc[k] = _mm512_fmadd_ps(acc[k], a, b);
    __m512 s = acc[0];
    for (int k = 1; k < 24; k++)
        s = _mm512_add_ps(s, acc[k]);
    *sink = _mm512_reduce_add_ps(s);
    return 2.0 * 16 * 24 * FMA_ITERS;
}
__attribute__((target("avx2,fma"))) static double fma_avx2(float *sink)
{
    __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(1e-3f), acc[12];
    FMA_UNROLL for (int k = 0; k < 12; k++)
        acc[k] = _mm256_set1_ps((float)k);
    for (long it = 0; it < FMA_ITERS; it++)
        FMA_UNROLL for (int k = 0; k < 12; k++)
            acc[k] = _mm256_fmadd_ps(acc[k], a, b);
    float v[8];
    __m256 s = acc[0];
    for (int k = 1; k < 12; k++)
        s = _mm256_add_ps(s, acc[k]);
    _mm256_storeu_ps(v, s);
    *sink = v[0];
    return 2.0 * 8 * 12 * FMA_ITERS;
}
#endif

typedef struct {
    double flops[NR_MAX_THREADS];
    float sink[NR_MAX_THREADS];
} fma_job;

static void fma_part(void *ctx, int i, int n)
{
    fma_job *j = ctx;
    (void)n;
    j->flops[i] = 0;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    int p = nr_kpath();
    if (p == NR_KPATH_AVX512)
        j->flops[i] = fma_avx512(&j->sink[i]);
    else if (p == NR_KPATH_AVX2)
        j->flops[i] = fma_avx2(&j->sink[i]);
#endif
}

/* --mode step / gemv: only the recurrent products of the forward steps, T times
 * gh (Bq, G*H) = h (Bq, H) W_hh^T through nr_sgemm as the encoder calls it (Bq = 1: sgemv).
 * Each step's h is made from the last gh (|h| ~ 0.5), so the steps run in order. */
static int recurrent_products(double *times, const char *cell, int Bq, int H, int T,
                              double seconds, int f16, nr_rng *rng)
{
    int G = !strcmp(cell, "gru") ? 3 : !strcmp(cell, "rnn") ? 1 : 4, GH = G * H, nt = 0;
    float *W = malloc(sizeof(float) * (size_t)GH * H), *h = malloc(sizeof(float) * Bq * H),
          *gh = malloc(sizeof(float) * (size_t)Bq * GH);
    uint16_t *W16 = malloc(sizeof(uint16_t) * (size_t)GH * H); // (GH,H) the float16 copy
    int kernel = nr_f16_kernel_best(), kp = nr_kpath();
    /* as the encoder: W_hh packed once for our kernel when it is the faster choice */
    float *Wp = aligned_alloc(64, (sizeof(float) * nr_kpack_floats(kp, H, GH) + 127) / 64 * 64);
    int packed = nr_kgemm_use(kp, 0, 1, Bq, GH, H, 1);
    nr_init_uniform(W, (size_t)GH * H, -0.1f, 0.1f, rng);
    for (size_t k = 0; k < (size_t)GH * H; k++)
        W16[k] = nr_f32_to_f16(W[k]);
    if (packed)
        nr_kpack(kp, Wp, 1, H, GH, W, H);
    nr_init_uniform(h, (size_t)Bq * H, -1, 1, rng);
    double t0 = now();
    for (int warm = 0; nt < 100000 && (warm < 3 || now() - t0 < seconds); warm++) {
        double s = now();
        for (int t = 0; t < T; t++) {
            if (f16)
                nr_gemm_f16(gh, GH, h, H, W16, H, GH, H, Bq, kernel);
            else if (packed)
                nr_kgemm_packed(kp, 0, Bq, GH, H, 1.0f, h, H, Wp, 0.0f, gh, GH);
            else
                nr_sgemm(0, 1, Bq, GH, H, 1.0f, h, H, W, H, 0.0f, gh, GH);
            for (int b = 0; b < Bq; b++)
                for (int j = 0; j < H; j++)
                    h[(size_t)b * H + j] = (gh[(size_t)b * GH + j] > 0.0f ? 0.5f : -0.5f) +
                                           1e-3f * gh[(size_t)b * GH + GH - H + j];
        }
        if (warm >= 3)
            times[nt++] = now() - s;
        else
            t0 = now();
    }
    qsort(times, nt, sizeof(double), cmp_d);
    double med = times[nt / 2], best = times[0], bytes = (f16 ? 2.0 : 4.0) * GH * H;
    double fl = 2.0 * T * Bq * GH * H;
    printf("mode=%s weights=%s cell=%s hidden=%d batch=%d len=%d mib=%.2f us_per_step=%.2f seqs_per_s=%.1f "
           "gbps=%.1f gflops=%.1f best_us_per_step=%.2f best_seqs_per_s=%.1f best_gbps=%.1f "
           "best_gflops=%.1f\n",
           Bq == 1 ? "gemv" : "step", f16 ? "f16" : "f32", cell, H, Bq, T, bytes / 1048576.0, med / T * 1e6, Bq / med,
           bytes * T / med * 1e-9, fl / med * 1e-9, best / T * 1e6, Bq / best,
           bytes * T / best * 1e-9, fl / best * 1e-9);
    free(W);
    free(Wp);
    free(W16);
    free(h);
    free(gh);
    return 0;
}

int main(int argc, char **argv)
{
    const char *cell = "lstm", *mode = "train", *weights = "f32";
    int I = 128, H = 256, B = 64, T = 32, threads = 1;
    double seconds = 2.0;
    for (int a = 1; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--cell"))
            cell = argv[a + 1];
        else if (!strcmp(argv[a], "--mode"))
            mode = argv[a + 1];
        else if (!strcmp(argv[a], "--input"))
            I = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--hidden"))
            H = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--batch"))
            B = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--len"))
            T = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--threads"))
            threads = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--seconds"))
            seconds = atof(argv[a + 1]);
        else if (!strcmp(argv[a], "--weights"))
            weights = argv[a + 1];
        else {
            fprintf(stderr, "bench_rnn: unknown option %s\n", argv[a]);
            return 2;
        }
    }
    int f16 = !strcmp(weights, "f16");
    if (!f16 && strcmp(weights, "f32")) {
        fprintf(stderr, "bench_rnn: --weights must be f32 or f16\n");
        return 2;
    }
    if (f16 && !strcmp(mode, "train")) {
        fprintf(stderr, "bench_rnn: --weights f16 is inference only (infer, gemv, step)\n");
        return 2;
    }
    nr_rng rng;
    nr_rng_seed(&rng, 1);
    double times[100000];
    int nt = 0;
    if (!strcmp(mode, "fma")) {
        fma_job j;
        double best = 0, fl = 0;
        double t0 = now();
        while (now() - t0 < seconds && nt < 100000) {
            double s = now();
            nr_parallel_run(threads, fma_part, &j);
            double dt = now() - s;
            fl = 0;
            for (int i = 0; i < threads; i++)
                fl += j.flops[i];
            times[nt++] = dt;
            best = fl / dt > best ? fl / dt : best;
        }
        if (fl == 0) {
            printf("mode=fma path=%s threads=%d gflops=0 best_gflops=0 (no vector path)\n",
                   nr_kpath_name(nr_kpath()), threads);
            return 0;
        }
        qsort(times, nt, sizeof(double), cmp_d);
        printf("mode=fma path=%s threads=%d gflops=%.1f best_gflops=%.1f\n",
               nr_kpath_name(nr_kpath()), threads, fl / times[nt / 2] * 1e-9, best * 1e-9);
        return 0;
    }
    use_blas = !strcmp(mode, "blas");
    if (!strcmp(mode, "sgemm") || use_blas) {
        int n = 1024;
        float *A = malloc(sizeof(float) * n * n), *Bm = malloc(sizeof(float) * n * n),
              *C = calloc((size_t)n * n, sizeof(float));
        nr_init_uniform(A, (size_t)n * n, -1, 1, &rng);
        nr_init_uniform(Bm, (size_t)n * n, -1, 1, &rng);
        gemm_job j = {A, Bm, C, n};
        nr_parallel_run(threads, gemm_part, &j);
        double t0 = now();
        while (now() - t0 < seconds && nt < 100000) {
            double s = now();
            nr_parallel_run(threads, gemm_part, &j);
            times[nt++] = now() - s;
        }
        qsort(times, nt, sizeof(double), cmp_d);
        double med = times[nt / 2];
        printf("mode=%s path=%s n=%d threads=%d gflops=%.1f best_gflops=%.1f\n", mode,
               use_blas ? "cblas" : nr_kpath_name(nr_kpath()), n, threads,
               2.0 * n * n * n / med * 1e-9, 2.0 * n * n * n / times[0] * 1e-9);
        free(A);
        free(Bm);
        free(C);
        return 0;
    }
    if (!strcmp(mode, "step") || !strcmp(mode, "gemv"))
        return recurrent_products(times, cell, !strcmp(mode, "gemv") ? 1 : B, H, T, seconds, f16,
                                  &rng);
    int training = !strcmp(mode, "train");
    nr_encoder_cfg cfg;
    nr_encoder_cfg_default(&cfg, I, H);
    cfg.cell = nr_cell_from_name(cell);
    if (cfg.cell < 0) {
        fprintf(stderr, "bench_rnn: unknown cell %s\n", cell);
        return 2;
    }
    nlprnn_error err;
    nr_encoder enc;
    size_t np = nr_encoder_param_count(&cfg);
    float *p = calloc(np, sizeof(float)), *g = calloc(np, sizeof(float));
    if (nr_encoder_bind(&enc, &cfg, p, &err) || nr_encoder_init(&enc, &rng, &err)) {
        fprintf(stderr, "bench_rnn: %s\n", err.message);
        return 1;
    }
    uint16_t *w16 = NULL;
    if (f16) { /* as a shipped f16 model: W_hh holds float16 values, kept as float16 too */
        for (int d = 0; d < enc.dirs; d++)
            for (size_t k = 0; k < (size_t)enc.gates * H * H; k++) {
                float *w = p + enc.slot[0][d].w_hh + k;
                *w = nr_f16_to_f32(nr_f32_to_f16(*w));
            }
        w16 = malloc(sizeof(uint16_t) * nr_encoder_whh_count(&enc));
        if (!w16 || nr_encoder_attach_f16(&enc, w16, &err)) {
            fprintf(stderr, "bench_rnn: %s\n", w16 ? err.message : "out of memory");
            return 1;
        }
    }
    nr_encoder_ws *ws = nr_encoder_ws_create(&enc, T, B, training, threads, &err);
    if (!ws) {
        fprintf(stderr, "bench_rnn: %s\n", err.message);
        return 1;
    }
    size_t nx = (size_t)T * B * I, no = (size_t)T * B * enc.out_size;
    float *x = malloc(nx * sizeof(float)), *y = malloc(no * sizeof(float)),
          *r = malloc(no * sizeof(float));
    nr_init_uniform(x, nx, -1, 1, &rng);
    nr_init_uniform(r, no, -1e-3f, 1e-3f, &rng);
    nr_optim opt;
    nr_optim_cfg ocfg;
    nr_optim_cfg_default(&ocfg, NR_OPT_SGD);
    nr_optim_init(&opt, &ocfg, np, NULL);
    for (int warm = 0; warm < 3; warm++) {
        nr_encoder_forward(&enc, ws, y, NULL, NULL, x, NULL, NULL, NULL, T, B, NULL, NULL);
        if (training)
            nr_encoder_backward(&enc, ws, g, NULL, NULL, NULL, r, NULL, NULL, NULL);
    }
    double t0 = now();
    while (now() - t0 < seconds && nt < 100000) {
        double s = now();
        nr_encoder_forward(&enc, ws, y, NULL, NULL, x, NULL, NULL, NULL, T, B, NULL, NULL);
        if (training) {
            memset(g, 0, np * sizeof(float));
            nr_encoder_backward(&enc, ws, g, NULL, NULL, NULL, r, NULL, NULL, NULL);
            nr_optim_step(&opt, p, g, 1e-3f);
        }
        times[nt++] = now() - s;
    }
    qsort(times, nt, sizeof(double), cmp_d);
    double med = times[nt / 2];
    /* forward: input projection P = 2 T B I G H, recurrence R = 2 T B H G H; backward: dW_ih (P),
     * dW_hh (R), dh per step (R); dx is not computed (the input needs no gradient) */
    double P = 2.0 * T * B * I * enc.gates * H, R = 2.0 * T * B * H * enc.gates * H;
    double flops = training ? 2 * P + 3 * R : P + R;
    printf("impl=nlprnn weights=%s cell=%s mode=%s input=%d hidden=%d batch=%d len=%d threads=%d iters=%d "
           "ms=%.3f tokens_per_s=%.0f seqs_per_s=%.1f gflops=%.1f best_ms=%.3f "
           "best_tokens_per_s=%.0f best_seqs_per_s=%.1f best_gflops=%.1f\n",
           weights, cell, mode, I, H, B, T, threads, nt, med * 1e3, B * T / med, B / med,
           flops / med * 1e-9, times[0] * 1e3, B * T / times[0], B / times[0],
           flops / times[0] * 1e-9);
    nr_optim_free(&opt);
    nr_encoder_ws_free(ws);
    free(w16);
    free(p);
    free(g);
    free(x);
    free(y);
    free(r);
    return 0;
}

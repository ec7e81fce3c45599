/* tests/test_lm_workers.c: data-parallel language-model training (tasks/lm/train.c: worker w of W
 * = threads takes a contiguous part of every batch, each into its own gradient block).
 *
 *   - the head: nr_sampled_softmax_xent_part over two parts of the rows, with the negatives drawn
 *     once and the whole batch's count, gives every row's dx with the bits of one call over all
 *     rows (nr_sampled_softmax_xent), the loss and the weight gradient to float rounding; the same
 *     for nr_softmax_xent_part
 *   - one step of SGD at threads 1, 2, 3 on a corpus of 300 words (8 negatives a batch): the weights
 *     agree to 1e-5, where a negative drawn in one run and not the other moves its output bias by
 *     about 0.01 (negatives drawn per part fail here by 0.08-0.16)
 *   - 26 steps (2 epochs) of SGD, full and sampled softmax: every weight at threads 2 and 3 within
 *     1e-4 of threads 1 (the same sums in another order; a part that divided by its own count
 *     instead of the batch's would be off by about lr times the gradient)
 *   - threads 2 twice: the same bits
 *   - checkpoints: a run stopped after its first step and resumed gives the bits of the run that
 *     was not stopped (threads 2); resuming with other threads, or with parallel changed so that a
 *     direction gets another number of workers, is refused (NLPRNN_E_INVALID_ARG)
 *   - embed-update lazy (only the table rows a batch used are stepped): with plain SGD and no
 *     clipping the bits of dense at threads 1 and 2 (every row with a gradient is reported); with
 *     the full softmax and a tied table refused
 *   - dropout between two layers: it changes the weights, threads 2 twice give the same bits, a
 *     stopped and resumed run the bits of the uninterrupted one
 *   - stream mode (bptt 5, 2 layers: each worker carries the states of its own streams): threads
 *     2 and 3 within 1e-4 of threads 1 after 2 epochs, LSTM and GRU; a run stopped after its
 *     first window and resumed (the checkpoint holds every stream's h and c) gives the bits of the
 *     run that was not stopped; resuming with another bptt is refused */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "models/head.h"
#include "tasks/lm/lm.h"
#include "nlprnn.h"
#include "testutil.h"

/* n lines of 3..8 words drawn from w0..w299 */
static void write_corpus(const char *file, int n, uint64_t seed) {
    FILE *fp = fopen(file, "w");
    CHECK(fp != NULL);
    if (!fp) return;
    nr_rng r;
    nr_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        int len = 3 + (int)nr_rng_below(&r, 6);
        for (int j = 0; j < len; j++) fprintf(fp, "%sw%d", j ? " " : "", (int)nr_rng_below(&r, 300));
        fputc('\n', fp);
    }
    fclose(fp);
}

/* ---- the head ---------------------------------------------------------------------------------- */

static void fill(float *a, size_t n, nr_rng *r, float scale) {
    for (size_t i = 0; i < n; i++) a[i] = scale * (float)(2 * nr_rng_uniform(r) - 1);
}

static double max_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= m)) m = d; /* NaN too */
    }
    return m;
}

static void test_head_parts(void) {
    enum { N = 40, IN = 12, C = 50, S = 9, CUT = 17 };
    nr_rng r;
    nr_rng_seed(&r, 7);
    float *params = calloc(nr_dense_param_count(IN, C), sizeof(float));
    float *x = malloc(sizeof(float) * N * IN);
    float *g1 = calloc(nr_dense_param_count(IN, C), sizeof(float));
    float *g2 = calloc(nr_dense_param_count(IN, C), sizeof(float));
    float *dx1 = calloc((size_t)N * IN, sizeof(float)), *dx2 = calloc((size_t)N * IN, sizeof(float));
    float *z1 = malloc(sizeof(float) * N * C), *z2 = malloc(sizeof(float) * N * C);
    int tgt[N];
    nr_dense d;
    nr_dense_bind(&d, IN, C, params);
    fill(params, nr_dense_param_count(IN, C), &r, 0.5f);
    fill(x, (size_t)N * IN, &r, 1.0f);
    for (int n = 0; n < N; n++) tgt[n] = n % 7 == 3 ? -1 : (int)nr_rng_below(&r, C);
    nr_sampled_softmax *a = nr_sampled_softmax_create(N, S, IN, C, NULL);
    nr_sampled_softmax *b = nr_sampled_softmax_create(N, S, IN, C, NULL);
    CHECK(a && b && params && x && g1 && g2 && dx1 && dx2 && z1 && z2);
    if (!a || !b || !params || !x || !g1 || !g2 || !dx1 || !dx2 || !z1 || !z2) goto done;
    /* one call over all rows */
    nr_rng draw;
    nr_rng_seed(&draw, 99);
    int cnt = 0;
    double l1 = nr_sampled_softmax_xent(a, &d, g1, dx1, x, tgt, N, &draw, &cnt);
    /* the same draw, once, shared by two parts (each its own object) */
    int ids[S], c0 = 0, c1 = 0;
    nr_rng_seed(&draw, 99);
    nr_sampled_softmax_draw(ids, S, C, &draw);
    double l2 = nr_sampled_softmax_xent_part(a, &d, g2, dx2, x, tgt, CUT, ids, 1.0 / cnt, &c0) +
                nr_sampled_softmax_xent_part(b, &d, g2, dx2 + (size_t)CUT * IN, x + (size_t)CUT * IN, tgt + CUT,
                                             N - CUT, ids, 1.0 / cnt, &c1);
    CHECK_INT_EQ(c0 + c1, cnt);
    CHECK(cnt > 0 && cnt < N);
    /* the rows' logits are products of CUT, N - CUT and N rows: the same bits where our kernels
     * run them, not with every CBLAS (OpenBLAS picks other kernels for other row counts; the
     * portable path, NLPRNN_KERNEL=portable, failed a bit-for-bit check): tolerances, still far
     * below what per-part negatives or divisors change (0.08-0.29 in the training checks below) */
    CHECK_NEAR(l2, l1, 1e-6 * fabs(l1));
    double ddx = max_diff(dx1, dx2, (size_t)N * IN);
    CHECK_MSG(ddx < 1e-6, "sampled: dx of the parts differs from one call by %g", ddx);
    double dg = max_diff(g1, g2, nr_dense_param_count(IN, C));
    CHECK_MSG(dg < 1e-6, "sampled: weight gradient of the parts differs by %g", dg);
    /* the full softmax */
    nr_dense_forward(&d, z1, x, N);
    memcpy(z2, z1, sizeof(float) * N * C);
    l1 = nr_softmax_xent(z1, z1, tgt, N, C, &cnt);
    l2 = nr_softmax_xent_part(z2, z2, tgt, CUT, C, 1.0 / cnt, &c0) +
         nr_softmax_xent_part(z2 + (size_t)CUT * C, z2 + (size_t)CUT * C, tgt + CUT, N - CUT, C, 1.0 / cnt, &c1);
    CHECK_INT_EQ(c0 + c1, cnt);
    CHECK_NEAR(l2, l1, 1e-12 * fabs(l1));
    CHECK_MSG(!memcmp(z1, z2, sizeof(float) * N * C), "full: dlogits of the parts differ from one call");
done:
    nr_sampled_softmax_free(a);
    nr_sampled_softmax_free(b);
    free(params);
    free(x);
    free(g1);
    free(g2);
    free(dx1);
    free(dx2);
    free(z1);
    free(z2);
}

/* ---- training ---------------------------------------------------------------------------------- */

static char g_tok[600], g_corpus[600];

/* Train with the common settings plus kv (NULL-terminated name, value pairs) into out; ctl may be
 * NULL. Returns the status, err filled. */
static int train(const char *out, const char *const *kv, const nlprnn_train_ctl *ctl, nlprnn_error *err) {
    static const char *const common[] = {"embed", "16", "hidden", "16", "batch", "16", "max-len", "16",
                                         "optimizer", "sgd", "lr", "0.5", "clip", "0", "seed", "3",
                                         "storage", "f32", "samples", "8", "directions", "forward", NULL};
    nlprnn_lm_params *p = NULL;
    nlprnn_lm_params_create(&p, NULL);
    CHECK(p != NULL);
    if (!p) return NLPRNN_E_NOMEM;
    int rc = nlprnn_lm_params_set(p, "tokenizer", g_tok, err);
    for (int i = 0; !rc && common[i]; i += 2) rc = nlprnn_lm_params_set(p, common[i], common[i + 1], err);
    for (int i = 0; !rc && kv[i]; i += 2) rc = nlprnn_lm_params_set(p, kv[i], kv[i + 1], err);
    CHECK_MSG(rc == 0, "params: %s", err->message);
    if (!rc) rc = nlprnn_lm_train_ctl(p, g_corpus, NULL, out, ctl, NULL, NULL, err);
    nlprnn_lm_params_free(p);
    return rc;
}

/* The trained forward network's weights (a copy) and where its output biases are. */
typedef struct trained {
    float *w;
    size_t n, boff; /* floats; offset of the output bias (V) */
    int V;
} trained;

static trained load_weights(const char *model) {
    trained t = {NULL, 0, 0, 0};
    nlprnn_lm *lm = NULL;
    nlprnn_error e;
    int rc = nlprnn_lm_load(model, &lm, &e);
    CHECK_MSG(rc == 0, "load %s: %s", model, e.message);
    if (rc) return t;
    const nr_lm_net *net = &lm->net[0];
    t.n = net->n_params;
    t.boff = (size_t)(net->out.b - net->params);
    t.V = net->cfg.vocab;
    t.w = malloc(t.n * sizeof(float));
    if (t.w) memcpy(t.w, net->params, t.n * sizeof(float));
    nlprnn_lm_free(lm);
    return t;
}

/* Train with kv and threads th (the model file removed afterwards). */
static trained train_threads(const char *tag, const char *const *kv, int th) {
    char out[600], name[64], thr[16];
    snprintf(name, sizeof name, "%s-t%d.nrm", tag, th);
    snprintf(out, sizeof out, "%s", nr_test_scratch(name));
    snprintf(thr, sizeof thr, "%d", th);
    const char *args[24];
    int k = 0;
    for (; kv[k] && k < 20; k++) args[k] = kv[k];
    args[k++] = "threads";
    args[k++] = thr;
    args[k] = NULL;
    nlprnn_error e;
    trained t = {NULL, 0, 0, 0};
    int rc = train(out, args, NULL, &e);
    CHECK_MSG(rc == 0, "%s threads %d: %s", tag, th, e.message);
    if (!rc) t = load_weights(out);
    unlink(out);
    return t;
}

/* Threads 2 and 3 against threads 1: every weight within tol (the output biases are printed apart:
 * a negative drawn in one run and not in the other would show there). */
static void compare_threads(const char *tag, const char *const *kv, double tol) {
    trained t1 = train_threads(tag, kv, 1);
    for (int th = 2; th <= 3 && t1.w; th++) {
        trained t = train_threads(tag, kv, th);
        CHECK(t.w != NULL && t.n == t1.n && t.boff == t1.boff);
        if (t.w && t.n == t1.n && t.boff == t1.boff) {
            double d = max_diff(t1.w, t.w, t.n), db = max_diff(t1.w + t.boff, t.w + t.boff, (size_t)t.V);
            printf("%s: threads %d against 1: weights within %.3g, output biases within %.3g\n", tag, th, d, db);
            CHECK_MSG(d <= tol, "%s: threads %d differs from threads 1 by %g (tolerance %g)", tag, th, d, tol);
        }
        free(t.w);
    }
    free(t1.w);
}

static volatile int g_stop = 1;

/* Train with kv into out; stop: stopped after the first step; resume: from the checkpoint. */
static int run_ctl(const char *out, const char *const *kv, int stop, int resume, nlprnn_error *e) {
    nlprnn_train_ctl *ctl = NULL;
    int rc = nlprnn_train_ctl_create(&ctl, e);
    CHECK(rc == 0);
    if (rc) return rc;
    nlprnn_train_ctl_set_stop(ctl, stop ? &g_stop : NULL);
    nlprnn_train_ctl_set_resume(ctl, resume);
    rc = train(out, kv, ctl, e);
    nlprnn_train_ctl_free(ctl);
    return rc;
}

/* A run of kv stopped after its first step; resumed with other (refused: NLPRNN_E_INVALID_ARG
 * naming `names`), then with kv: the bytes of the run that was not stopped. */
static void stop_resume(const char *tag, const char *const *kv, const char *const *other, const char *names) {
    char out[512], ref[600], partial[620];
    snprintf(out, sizeof out, "%s", nr_test_scratch(tag));
    snprintf(ref, sizeof ref, "%s.ref", out);
    snprintf(partial, sizeof partial, "%s.partial", out);
    nlprnn_error e;
    int rc = run_ctl(ref, kv, 0, 0, &e);
    CHECK_MSG(rc == 0, "%s: uninterrupted: %s", tag, e.message);
    rc = run_ctl(out, kv, 1, 0, &e);
    CHECK_MSG(rc == NLPRNN_E_INTERRUPTED, "%s: stopped: %d %s", tag, rc, e.message);
    rc = run_ctl(out, other, 0, 1, &e);
    CHECK_MSG(rc == NLPRNN_E_INVALID_ARG && strstr(e.message, names), "%s: resumed otherwise: %d %s", tag, rc,
              e.message);
    rc = run_ctl(out, kv, 0, 1, &e); /* the checkpoint is still there */
    CHECK_MSG(rc == 0, "%s: resumed: %s", tag, e.message);
    CHECK_MSG(!rc && nr_test_same_file(ref, out), "%s: the resumed run differs from the uninterrupted one", tag);
    unlink(out);
    unlink(ref);
    unlink(partial);
}

static void test_checkpoints(void) {
    static const char *const two[] = {"softmax", "sampled", "epochs", "2", "threads", "2", NULL};
    static const char *const one[] = {"softmax", "sampled", "epochs", "2", "threads", "1", NULL};
    stop_resume("threads", two, one, "threads=2");
    /* both directions at once with 2 threads: one worker each; resumed one after the other, the
     * same 2 threads would be 2 workers a direction */
    static const char *const par[] = {"softmax", "sampled", "epochs", "1", "threads", "2", "directions", "both",
                                      "parallel", "1", NULL};
    static const char *const seq[] = {"softmax", "sampled", "epochs", "1", "threads", "2", "directions", "both",
                                      "parallel", "0", NULL};
    stop_resume("parallel", par, seq, "1 worker per direction, this run has 2");
}

/* embed-update lazy: with plain SGD and no clipping, a row without gradient does not move either
 * way, so lazy gives the bits of dense when the rows each part reports cover every row it gave a
 * gradient (inputs, targets, negatives); at any threads. With the full softmax and a tied table it
 * is refused. */
static void test_lazy(void) {
    static const char *const dense[] = {"softmax", "sampled", "epochs", "2", "embed-update", "dense", NULL};
    static const char *const lazy[] = {"softmax", "sampled", "epochs", "2", "embed-update", "lazy", NULL};
    for (int th = 1; th <= 2; th++) {
        trained a = train_threads("dense", dense, th), b = train_threads("lazy", lazy, th);
        CHECK_MSG(a.w && b.w && a.n == b.n && !memcmp(a.w, b.w, a.n * sizeof(float)),
                  "threads %d: SGD with embed-update lazy differs from dense (%ld of %zu weights)", th,
                  a.w && b.w && a.n == b.n ? nr_test_count_differ(a.w, b.w, a.n) : -1L, a.n);
        free(a.w);
        free(b.w);
    }
    static const char *const full[] = {"softmax", "full", "epochs", "1", "embed-update", "lazy", NULL};
    nlprnn_error e;
    int rc = train(nr_test_scratch("lazy-full.nrm"), full, NULL, &e);
    CHECK_MSG(rc == NLPRNN_E_INVALID_ARG && strstr(e.message, "embed-update lazy"), "lazy + full: %d %s", rc,
              e.message);
}

/* dropout between two layers: it changes the weights (the masks are drawn), threads 2 twice give
 * the same bits (each part's masks from a stream of (step, worker)), and a run stopped and resumed
 * the bits of one that was not. */
static void test_dropout(void) {
    static const char *const none[] = {"softmax", "sampled", "epochs", "1", "layers", "2", "dropout", "0", NULL};
    static const char *const half[] = {"softmax", "sampled", "epochs", "1", "layers", "2", "dropout", "0.5", NULL};
    trained a = train_threads("nodrop", none, 2), b = train_threads("drop", half, 2), c = train_threads("drop", half, 2);
    CHECK_MSG(a.w && b.w && a.n == b.n && nr_test_count_differ(a.w, b.w, a.n) > 0, "dropout 0.5 changed nothing");
    CHECK_MSG(b.w && c.w && b.n == c.n && !memcmp(b.w, c.w, b.n * sizeof(float)), "dropout, threads 2: two runs differ");
    free(a.w);
    free(b.w);
    free(c.w);
    static const char *const two[] = {"softmax", "sampled", "epochs", "2", "layers", "2", "dropout", "0.5",
                                      "threads", "2", NULL};
    static const char *const one[] = {"softmax", "sampled", "epochs", "2", "layers", "2", "dropout", "0.5",
                                      "threads", "1", NULL};
    stop_resume("dropout", two, one, "threads=2");
}

/* stream mode: the threads agree (each worker its own streams' states) and a stopped run resumes
 * exactly (the states of the window it stopped after are in the checkpoint) */
static void test_stream(void) {
    static const char *const lstm[] = {"softmax", "sampled", "epochs", "2", "bptt", "5", "layers", "2", NULL};
    static const char *const gru[] = {"softmax", "full", "epochs", "2", "bptt", "5", "cell", "gru", NULL};
    compare_threads("stream-lstm", lstm, 1e-4);
    compare_threads("stream-gru", gru, 1e-4);
    static const char *const two[] = {"softmax", "sampled", "epochs", "2", "bptt", "5", "layers", "2",
                                      "threads", "2", NULL};
    static const char *const other[] = {"softmax", "sampled", "epochs", "2", "bptt", "6", "layers", "2",
                                        "threads", "2", NULL};
    stop_resume("stream", two, other, "bptt=5");
}

int main(void) {
    test_head_parts();
    nr_test_scratch_make("test_lm_workers");
    snprintf(g_corpus, sizeof g_corpus, "%s", nr_test_scratch("corpus.txt"));
    snprintf(g_tok, sizeof g_tok, "%s", nr_test_scratch("tok.tok"));
    write_corpus(g_corpus, 208, 11);
    int rc = nr_test_word_tokenizer_save(g_corpus, 400, g_tok);
    if (!rc) {
        /* one step (16 lines, batch 16) */
        static const char *const step1[] = {"softmax", "sampled", "max-lines", "16", "epochs", "1", NULL};
        compare_threads("step1", step1, 1e-5);
        /* 2 epochs of 13 batches */
        static const char *const sampled[] = {"softmax", "sampled", "epochs", "2", NULL};
        static const char *const full[] = {"softmax", "full", "epochs", "2", NULL};
        compare_threads("sampled", sampled, 1e-4);
        compare_threads("full", full, 1e-4);
        /* the same threads twice: the same bits */
        trained a = train_threads("again", sampled, 2), b = train_threads("again", sampled, 2);
        CHECK_MSG(a.w && b.w && a.n == b.n && !memcmp(a.w, b.w, a.n * sizeof(float)), "threads 2: two runs differ");
        free(a.w);
        free(b.w);
        test_checkpoints();
        test_lazy();
        test_dropout();
        test_stream();
    }
    nr_test_scratch_remove();
    return nr_test_done("test_lm_workers");
}

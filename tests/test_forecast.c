/* tests/test_forecast.c: the forecaster learns a clean sine wave to a small error quickly; the
 * baselines and metrics are exact on a series with a known answer; the scaler, the settings and
 * the predictions survive save/load; bad requests fail clearly; a run stopped by the stop flag
 * (mid-epoch) and by the progress callback (at an epoch's end) writes a checkpoint, and resuming
 * it gives a forecaster (weights, history, saved file) identical to the uninterrupted run's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tasks/forecast/forecaster.h"
#include "nlprnn.h"
#include "testutil.h"

static char tmpdir[256];

static nlprnn_forecaster_params *params(const char *const *kv) {
    nlprnn_forecaster_params *p = NULL;
    nlprnn_forecaster_params_create(&p, NULL);
    for (; kv && kv[0]; kv += 2) {
        nlprnn_error e;
        int rc = nlprnn_forecaster_params_set(p, kv[0], kv[1], &e);
        CHECK_MSG(rc == 0, "%s=%s: %s", kv[0], kv[1], e.message);
    }
    return p;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A clean sine of period 25, 800 rows: a small LSTM must get the test RMSE far below the
 * persistence forecast's and below 0.05 (the amplitude is 1). */
static void test_sine(void) {
    enum { N = 800 };
    double v[N];
    for (int i = 0; i < N; i++) v[i] = sin(2 * 3.14159265358979323846 * i / 25.0);
    nlprnn_series *s = NULL;
    CHECK_INT_EQ(nlprnn_series_create(v, N, 1, (const char *const[]){"value"}, &s, NULL), 0);
    const char *kv[] = {"cell", "lstm", "hidden", "16", "window", "20", "epochs", "12", "batch", "16",
                        "lr", "0.01", "seed", "3", NULL};
    nlprnn_forecaster_params *p = params(kv);
    nlprnn_forecaster *f = NULL;
    nlprnn_error e;
    double t0 = now();
    int rc = nlprnn_forecaster_train(s, p, NULL, NULL, &f, &e);
    double secs = now() - t0;
    CHECK_MSG(rc == 0, "%s", e.message);
    if (rc) goto out;
    double m[9];
    size_t cnt, first;
    CHECK_INT_EQ(nr_test_forecaster_eval(f, s, NLPRNN_PART_TEST, m, NULL, NULL, &cnt, &first, &e), 0);
    printf("sine: trained in %.2f s; test RMSE model %.4f, persistence %.4f, moving average %.4f\n",
           secs, m[0], m[3], m[6]);
    CHECK_INT_EQ(cnt, N - (size_t)(0.85 * N));
    CHECK_INT_EQ(first, (size_t)(0.85 * N));
    /* the windowing and the split come from the library, as the program draws them */
    int window = 0, horizon = 0, target = -1, features = 0;
    nlprnn_forecaster_dims(f, &window, &horizon, &target, &features);
    CHECK(window == 20 && horizon == 1 && target == 0 && features == 1);
    size_t r0 = 9, rn = 9;
    CHECK_INT_EQ(nlprnn_forecaster_split(f, N, NLPRNN_PART_TRAIN, &r0, &rn, &e), 0);
    CHECK(r0 == 0 && rn == (size_t)(0.7 * N));
    CHECK_INT_EQ(nlprnn_forecaster_split(f, N, NLPRNN_PART_VALID, &r0, &rn, &e), 0);
    CHECK(r0 == (size_t)(0.7 * N) && rn == (size_t)(0.15 * N));
    CHECK_INT_EQ(nlprnn_forecaster_split(f, N, NLPRNN_PART_TEST, &r0, &rn, &e), 0);
    CHECK(r0 == (size_t)(0.7 * N) + (size_t)(0.15 * N) && r0 + rn == N);
    CHECK_INT_EQ(nlprnn_forecaster_split(f, N, 7, &r0, &rn, &e), NLPRNN_E_INVALID_ARG);
    /* a result struct whose size does not reach the arrays is refused, not overrun */
    nlprnn_forecaster_eval small = {.size = offsetof(nlprnn_forecaster_eval, pred)};
    CHECK_INT_EQ(nlprnn_forecaster_evaluate(f, s, NLPRNN_PART_TEST, &small, &e), NLPRNN_E_INVALID_ARG);
    CHECK_MSG(m[NLPRNN_METRIC_RMSE] < 0.05, "test RMSE %g", m[0]);
    CHECK_MSG(m[0] < 0.5 * m[NLPRNN_FORECAST_PERSISTENCE * NLPRNN_METRICS], "model %g vs persistence %g",
              m[0], m[3]);
    /* the loss went down */
    int ep;
    const double *tl, *vl;
    nlprnn_forecaster_history(f, &ep, &tl, &vl);
    CHECK_INT_EQ(ep, 12);
    CHECK(tl[ep - 1] < tl[0] / 10);
    CHECK(isfinite(vl[0]));

    /* multi-step: 25 steps fed back from the end of the training part stay close to the sine */
    double out[25];
    CHECK_INT_EQ(nlprnn_forecaster_predict(f, v, 560, 25, out, &e), 0);
    double se = 0;
    for (int k = 0; k < 25; k++) se += (out[k] - v[560 + k]) * (out[k] - v[560 + k]);
    printf("sine: 25 steps fed back, RMSE %.4f\n", sqrt(se / 25));
    CHECK_MSG(sqrt(se / 25) < 0.2, "fed-back RMSE %g", sqrt(se / 25));

    /* save and load: settings, scaler (exact), history and predictions identical */
    char path[512];
    snprintf(path, sizeof path, "%s/sine.nrm", tmpdir);
    CHECK_INT_EQ(nlprnn_forecaster_save(f, path, &e), 0);
    nlprnn_forecaster *g = NULL;
    rc = nlprnn_forecaster_load(path, &g, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        CHECK_INT_EQ(g->sc.kind, f->sc.kind);
        CHECK(g->sc.a[0] == f->sc.a[0] && g->sc.b[0] == f->sc.b[0]);
        const char *names[] = {"cell", "hidden", "window", "horizon", "scaler", "scaler_a",
                               "scaler_b", "columns", "train", "valid", "lr", "seed", "best_epoch"};
        for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
            char a[256], b[256];
            CHECK_INT_EQ(nlprnn_forecaster_get(f, names[i], a, sizeof a, NULL), 0);
            CHECK_INT_EQ(nlprnn_forecaster_get(g, names[i], b, sizeof b, NULL), 0);
            CHECK_STR_EQ(b, a);
        }
        double m2[9], out2[25];
        CHECK_INT_EQ(nr_test_forecaster_eval(g, s, NLPRNN_PART_TEST, m2, NULL, NULL, NULL, NULL, &e), 0);
        for (int i = 0; i < 9; i++) CHECK(m2[i] == m[i]);
        CHECK_INT_EQ(nlprnn_forecaster_predict(g, v, 560, 25, out2, &e), 0);
        for (int k = 0; k < 25; k++) CHECK(out2[k] == out[k]);
        int ep2;
        const double *tl2, *vl2;
        nlprnn_forecaster_history(g, &ep2, &tl2, &vl2);
        CHECK_INT_EQ(ep2, ep);
        CHECK_NEAR(tl2[ep - 1], tl[ep - 1], 1e-6 * tl[ep - 1]);
    }
    nlprnn_forecaster_free(g);

    /* by name, like every kind (format/lookup.c): a bare name is a shipped model, looked for in
     * $NLPRNN_MODEL_DIR first; "ko" (the shipped classifier, in the build's models) is refused as
     * another kind; an unknown name is an I/O error naming the folders looked in */
    g = NULL;
    setenv("NLPRNN_MODEL_DIR", tmpdir, 1);
    rc = nlprnn_forecaster_load("sine", &g, &e);
    CHECK_MSG(rc == 0 && g, "load by name: %s", e.message);
    if (g) {
        double out3[25];
        CHECK_INT_EQ(nlprnn_forecaster_predict(g, v, 560, 25, out3, &e), 0);
        for (int k = 0; k < 25; k++) CHECK(out3[k] == out[k]);
    }
    nlprnn_forecaster_free(g);
    g = NULL;
    CHECK_INT_EQ(nlprnn_forecaster_load("no-such-forecaster", &g, &e), NLPRNN_E_IO);
    CHECK_MSG(strstr(e.message, "no shipped model named 'no-such-forecaster'") && strstr(e.message, tmpdir), "%s",
              e.message);
    CHECK(g == NULL);
    CHECK_INT_EQ(nlprnn_forecaster_load("ko", &g, &e), NLPRNN_E_UNSUPPORTED);
    CHECK_MSG(strstr(e.message, "ko.nrm"), "%s", e.message);
    unsetenv("NLPRNN_MODEL_DIR");

    /* a model file of another kind, and a file that is no model at all */
    FILE *fp = fopen(path, "r+b");
    if (fp) {
        fseek(fp, 8, SEEK_SET);
        fwrite("CLSF", 1, 4, fp);
        fclose(fp);
    }
    g = NULL;
    rc = nlprnn_forecaster_load(path, &g, &e);
    CHECK_MSG(rc != 0 && g == NULL, "a damaged file loaded");
    snprintf(path, sizeof path, "%s/not-a-model.nrm", tmpdir);
    fp = fopen(path, "wb");
    if (fp) {
        fputs("Date,Temp\n1981-01-01,20.7\n", fp);
        fclose(fp);
    }
    CHECK_INT_EQ(nlprnn_forecaster_load(path, &g, &e), NLPRNN_E_MAGIC);

    /* history shorter than the window */
    CHECK_INT_EQ(nlprnn_forecaster_predict(f, v, 5, 1, out, &e), NLPRNN_E_DATA);
out:
    nlprnn_forecaster_free(f);
    nlprnn_forecaster_params_free(p);
    nlprnn_series_free(s);
}

/* Baselines on a series with known answers: rows 0, 2, 4, ... (n = 40), window 4, horizon 1,
 * minmax scaling. Persistence is always 2 short; the moving average of 4 is 5 short. MAPE of
 * persistence over targets 2k: mean of 2/(2k). */
static void test_baselines_and_features(void) {
    enum { N = 40 };
    double v[N * 2];
    for (int i = 0; i < N; i++) v[2 * i] = 2.0 * i, v[2 * i + 1] = (i % 3) - 1.0;
    nlprnn_series *s = NULL;
    CHECK_INT_EQ(nlprnn_series_create(v, N, 2, NULL, &s, NULL), 0);
    const char *kv[] = {"cell", "gru", "hidden", "4", "window", "4", "epochs", "2", "batch", "8",
                        "ma", "4", "train", "0.5", "valid", "0.25", NULL};
    nlprnn_forecaster_params *p = params(kv);
    nlprnn_forecaster *f = NULL;
    nlprnn_error e;
    int rc = nlprnn_forecaster_train(s, p, NULL, NULL, &f, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        double m[9], *pred = NULL, *truth = NULL;
        size_t cnt = 0, first = 0;
        CHECK_INT_EQ(nr_test_forecaster_eval(f, s, NLPRNN_PART_TEST, m, &pred, &truth, &cnt, &first, &e), 0);
        CHECK_INT_EQ(cnt, 10);
        CHECK_INT_EQ(first, 30);
        for (size_t i = 0; i < cnt && truth; i++) CHECK(truth[i] == 2.0 * (double)(first + i));
        const double *pe = m + NLPRNN_FORECAST_PERSISTENCE * NLPRNN_METRICS;
        const double *ma = m + NLPRNN_FORECAST_MOVING_AVERAGE * NLPRNN_METRICS;
        CHECK_NEAR(pe[NLPRNN_METRIC_RMSE], 2, 1e-12);
        CHECK_NEAR(pe[NLPRNN_METRIC_MAE], 2, 1e-12);
        double mape = 0;
        for (int k = 30; k < 40; k++) mape += 2.0 / (2.0 * k);
        CHECK_NEAR(pe[NLPRNN_METRIC_MAPE], 100 * mape / 10, 1e-9);
        CHECK_NEAR(ma[NLPRNN_METRIC_RMSE], 5, 1e-12);
        CHECK_NEAR(ma[NLPRNN_METRIC_MAE], 5, 1e-12);
        /* model metrics are consistent with the returned predictions */
        double se = 0;
        for (size_t i = 0; i < cnt; i++) se += (pred[i] - truth[i]) * (pred[i] - truth[i]);
        CHECK_NEAR(m[NLPRNN_METRIC_RMSE], sqrt(se / (double)cnt), 1e-9);
        nlprnn_free(pred);
        nlprnn_free(truth);
        /* two features: feeding predictions back is refused, one step is fine */
        double out[3];
        CHECK_INT_EQ(nlprnn_forecaster_predict(f, v, N, 3, out, &e), NLPRNN_E_UNSUPPORTED);
        CHECK_MSG(strstr(e.message, "single-feature"), "%s", e.message);
        CHECK_INT_EQ(nlprnn_forecaster_predict(f, v, N, 1, out, &e), 0);
        CHECK(isfinite(out[0]));
        /* a series with other columns */
        nlprnn_series *one = NULL;
        CHECK_INT_EQ(nlprnn_series_create(v, N, 1, NULL, &one, NULL), 0);
        CHECK_INT_EQ(nr_test_forecaster_eval(f, one, NLPRNN_PART_TEST, m, NULL, NULL, NULL, NULL, &e), NLPRNN_E_INVALID_ARG);
        CHECK_MSG(strstr(e.message, "trained on 2"), "%s", e.message);
        nlprnn_series_free(one);
        char buf[128];
        CHECK_INT_EQ(nlprnn_forecaster_get(f, "columns", buf, sizeof buf, NULL), 0);
        CHECK_STR_EQ(buf, "x0,x1");
        /* minmax on the training rows only (rows 0..19): a = 0, b = 38 for feature 0 */
        CHECK_INT_EQ(nlprnn_forecaster_get(f, "scaler_a", buf, sizeof buf, NULL), 0);
        CHECK_STR_EQ(buf, "0,-1");
        CHECK_INT_EQ(nlprnn_forecaster_get(f, "scaler_b", buf, sizeof buf, NULL), 0);
        CHECK_STR_EQ(buf, "38,2");
    }
    nlprnn_forecaster_free(f);

    /* a training part shorter than window + horizon */
    nlprnn_forecaster_params_set(p, "train", "0.1", NULL);
    f = (nlprnn_forecaster *)1;
    CHECK_INT_EQ(nlprnn_forecaster_train(s, p, NULL, NULL, &f, &e), NLPRNN_E_DATA);
    CHECK(f == NULL);
    CHECK_MSG(strstr(e.message, "training part"), "%s", e.message);
    /* a series shorter than the window */
    nlprnn_forecaster_params_set(p, "train", "0.7", NULL);
    nlprnn_forecaster_params_set(p, "window", "45", NULL);
    CHECK_INT_EQ(nlprnn_forecaster_train(s, p, NULL, NULL, &f, &e), NLPRNN_E_DATA);
    CHECK_MSG(strstr(e.message, "window 45 + horizon 1 needs at least 46"), "%s", e.message);
    nlprnn_forecaster_params_free(p);
    nlprnn_series_free(s);
}

/* A rising line leaves the training range in the test part: in relative mode the model only has
 * to learn the constant step and tracks the line; its error is far below persistence's. */
static void test_relative(void) {
    enum { N = 300 };
    double v[N];
    for (int i = 0; i < N; i++) v[i] = 100 + 2.0 * i + 0.5 * sin(i * 0.7);
    nlprnn_series *s = NULL;
    CHECK_INT_EQ(nlprnn_series_create(v, N, 1, NULL, &s, NULL), 0);
    const char *kv[] = {"cell", "gru", "hidden", "8", "window", "10", "epochs", "15", "batch", "16",
                        "lr", "0.01", "relative", "1", "scaler", "standard", NULL};
    nlprnn_forecaster_params *p = params(kv);
    nlprnn_forecaster *f = NULL;
    nlprnn_error e;
    int rc = nlprnn_forecaster_train(s, p, NULL, NULL, &f, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        double m[9];
        CHECK_INT_EQ(nr_test_forecaster_eval(f, s, NLPRNN_PART_TEST, m, NULL, NULL, NULL, NULL, &e), 0);
        printf("relative: test RMSE model %.4f, persistence %.4f\n", m[0], m[3]);
        CHECK_MSG(m[0] < 0.25 * m[3], "relative model %g vs persistence %g", m[0], m[3]);
        char buf[64];
        CHECK_INT_EQ(nlprnn_forecaster_get(f, "scaler_a", buf, sizeof buf, NULL), 0);
        CHECK_STR_EQ(buf, "0");
        /* fed back 20 steps past the end of the data: still rising by about 2 per step */
        double out[20];
        CHECK_INT_EQ(nlprnn_forecaster_predict(f, v, N, 20, out, &e), 0);
        CHECK_MSG(fabs((out[19] - out[0]) / 19 - 2.0) < 0.3, "slope %g", (out[19] - out[0]) / 19);
        char path[512];
        snprintf(path, sizeof path, "%s/rel.nrm", tmpdir);
        CHECK_INT_EQ(nlprnn_forecaster_save(f, path, &e), 0);
        nlprnn_forecaster *g = NULL;
        CHECK_INT_EQ(nlprnn_forecaster_load(path, &g, &e), 0);
        double out2[20];
        if (g) {
            CHECK_INT_EQ(nlprnn_forecaster_get(g, "relative", buf, sizeof buf, NULL), 0);
            CHECK_STR_EQ(buf, "1");
            CHECK_INT_EQ(nlprnn_forecaster_predict(g, v, N, 20, out2, &e), 0);
            CHECK(memcmp(out, out2, sizeof out) == 0);
        }
        nlprnn_forecaster_free(g);
    }
    nlprnn_forecaster_free(f);
    nlprnn_forecaster_params_free(p);
    nlprnn_series_free(s);
}

static int stop_at_3(void *user, int epoch, double tl, double vl) {
    int *calls = user;
    (*calls)++;
    return epoch == 3 && isfinite(tl) && isfinite(vl);
}

/* Early stopping, the progress callback, a horizon of 3, and the validation part's rows. */
static void test_training_controls(void) {
    enum { N = 400 };
    double v[N];
    nr_rng rng;
    nr_rng_seed(&rng, 9);
    for (int i = 0; i < N; i++) v[i] = nr_rng_normal(&rng); /* noise: nothing to learn */
    nlprnn_series *s = NULL;
    CHECK_INT_EQ(nlprnn_series_create(v, N, 1, NULL, &s, NULL), 0);
    const char *kv[] = {"cell", "rnn", "hidden", "4", "window", "5", "epochs", "60", "patience", "2",
                        "lr", "0.02", "horizon", "3", NULL};
    nlprnn_forecaster_params *p = params(kv);
    nlprnn_forecaster *f = NULL;
    nlprnn_error e;
    CHECK_INT_EQ(nlprnn_forecaster_train(s, p, NULL, NULL, &f, &e), 0);
    if (f) {
        int ep;
        nlprnn_forecaster_history(f, &ep, NULL, NULL);
        char best[16];
        nlprnn_forecaster_get(f, "best_epoch", best, sizeof best, NULL);
        printf("patience 2: stopped after %d of 60 epochs, best %s\n", ep, best);
        CHECK(ep < 60);
        CHECK_INT_EQ(ep, atoi(best) + 2);
        /* horizon 3: the valid part's first target is row 280, its first window starts at 273 */
        double m[9], *pred = NULL, *truth = NULL;
        size_t cnt = 0, first = 0;
        CHECK_INT_EQ(nr_test_forecaster_eval(f, s, NLPRNN_PART_VALID, m, &pred, &truth, &cnt, &first, &e), 0);
        CHECK_INT_EQ(first, 280);
        CHECK_INT_EQ(cnt, 60);
        if (truth) CHECK(truth[0] == v[280] && truth[cnt - 1] == v[339]);
        /* persistence for horizon 3 is the window's last value, 3 rows before the target */
        double se = 0;
        for (size_t i = 0; i < cnt; i++) se += (v[first + i - 3] - v[first + i]) * (v[first + i - 3] - v[first + i]);
        CHECK_NEAR(m[NLPRNN_FORECAST_PERSISTENCE * NLPRNN_METRICS], sqrt(se / (double)cnt), 1e-9);
        nlprnn_free(pred);
        nlprnn_free(truth);
    }
    nlprnn_forecaster_free(f);
    /* the callback stops training: NLPRNN_E_INTERRUPTED and no model */
    int calls = 0;
    f = (nlprnn_forecaster *)1;
    CHECK_INT_EQ(nlprnn_forecaster_train(s, p, stop_at_3, &calls, &f, &e), NLPRNN_E_INTERRUPTED);
    CHECK(f == NULL);
    CHECK_INT_EQ(calls, 3);
    nlprnn_forecaster_params_free(p);
    nlprnn_series_free(s);
}

static int stop_after_epoch(void *user, int epoch, double tl, double vl) {
    (void)tl, (void)vl;
    return epoch == *(int *)user;
}

static long file_bytes(const char *path, unsigned char **out) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    *out = malloc((size_t)n + 1);
    if (!*out || fread(*out, 1, (size_t)n, fp) != (size_t)n) n = -1;
    fclose(fp);
    return n;
}

/* Checkpoints: interrupted twice (the stop flag already set stops after the first batch of epoch
 * 1; the progress callback stops after epoch 4), resumed twice, the same forecaster as one run. */
static void test_resume(void) {
    enum { N = 300 };
    double v[N];
    for (int i = 0; i < N; i++) v[i] = sin(i * 0.3) + 0.3 * sin(i * 0.07 + 1);
    nlprnn_series *s = NULL;
    CHECK_INT_EQ(nlprnn_series_create(v, N, 1, NULL, &s, NULL), 0);
    char ckpt[400], a[400], b[400];
    snprintf(ckpt, sizeof ckpt, "%s/fc.ckpt", tmpdir);
    snprintf(a, sizeof a, "%s/once.nrm", tmpdir);
    snprintf(b, sizeof b, "%s/resumed.nrm", tmpdir);
    const char *kv[] = {"cell", "gru", "hidden", "6", "window", "8", "epochs", "7", "batch", "20",
                        "lr", "0.02", "seed", "5", "checkpoint", ckpt, "checkpoint-every", "3", NULL};
    nlprnn_forecaster_params *p = params(kv);
    nlprnn_error e;
    nlprnn_forecaster *once = NULL, *res = NULL;
    CHECK_INT_EQ(nlprnn_forecaster_train(s, p, NULL, NULL, &once, &e), 0);
    nlprnn_train_ctl *ctl = NULL;
    CHECK_INT_EQ(nlprnn_train_ctl_create(&ctl, &e), 0);
    volatile int stop = 1;
    nlprnn_train_ctl_set_stop(ctl, &stop);
    remove(ckpt);
    int rc = nlprnn_forecaster_train_ctl(s, p, ctl, NULL, NULL, &res, &e);
    CHECK_INT_EQ(rc, NLPRNN_E_INTERRUPTED);
    CHECK_MSG(strstr(e.message, "epoch 1 batch 1") && strstr(e.message, ckpt), "%s", e.message);
    CHECK(res == NULL);
    CHECK(access(ckpt, F_OK) == 0);
    /* resume without a checkpoint parameter, or from a checkpoint made with other parameters */
    nlprnn_train_ctl_set_resume(ctl, 1);
    nlprnn_forecaster_params *q = params(kv);
    nlprnn_forecaster_params_set(q, "hidden", "7", NULL);
    CHECK_INT_EQ(nlprnn_forecaster_train_ctl(s, q, ctl, NULL, NULL, &res, &e), NLPRNN_E_STATE);
    CHECK_MSG(strstr(e.message, "hidden=6") && strstr(e.message, "hidden=7"), "%s", e.message);
    nlprnn_forecaster_params_set(q, "hidden", "6", NULL);
    nlprnn_forecaster_params_set(q, "checkpoint", "", NULL);
    CHECK_INT_EQ(nlprnn_forecaster_train_ctl(s, q, ctl, NULL, NULL, &res, &e), NLPRNN_E_INVALID_ARG);
    nlprnn_forecaster_params_free(q);
    /* resume, stop again after epoch 4 (progress callback), resume to the end */
    stop = 0;
    int at = 4;
    CHECK_INT_EQ(nlprnn_forecaster_train_ctl(s, p, ctl, stop_after_epoch, &at, &res, &e), NLPRNN_E_INTERRUPTED);
    CHECK_MSG(strstr(e.message, "after epoch 4"), "%s", e.message);
    rc = nlprnn_forecaster_train_ctl(s, p, ctl, NULL, NULL, &res, &e);
    CHECK_MSG(rc == 0, "resume: %s", e.message);
    if (once && res) {
        CHECK(once->n_params == res->n_params && !memcmp(once->params, res->params, once->n_params * sizeof(float)));
        CHECK_INT_EQ(once->epochs, res->epochs);
        CHECK_INT_EQ(once->best_epoch, res->best_epoch);
        CHECK(!memcmp(once->hist_train, res->hist_train, (size_t)once->epochs * sizeof(double)));
        CHECK(!memcmp(once->hist_valid, res->hist_valid, (size_t)once->epochs * sizeof(double)));
        CHECK_INT_EQ(nlprnn_forecaster_save(once, a, &e), 0);
        CHECK_INT_EQ(nlprnn_forecaster_save(res, b, &e), 0);
        unsigned char *x = NULL, *y = NULL;
        long nx = file_bytes(a, &x), ny = file_bytes(b, &y);
        CHECK(nx > 0 && nx == ny && !memcmp(x, y, (size_t)nx));
        free(x);
        free(y);
    }
    /* a checkpoint of another kind of task is refused */
    nlprnn_forecaster_free(res);
    res = NULL;
    nlprnn_forecaster_params_set(p, "checkpoint", a, NULL);
    CHECK_INT_EQ(nlprnn_forecaster_train_ctl(s, p, ctl, NULL, NULL, &res, &e), NLPRNN_E_UNSUPPORTED);
    nlprnn_train_ctl_free(ctl);
    nlprnn_forecaster_free(once);
    nlprnn_forecaster_free(res);
    nlprnn_forecaster_params_free(p);
    nlprnn_series_free(s);
}

static void test_params(void) {
    nlprnn_forecaster_params *p = NULL;
    nlprnn_forecaster_params_create(&p, NULL);
    nlprnn_error e;
    char buf[64];
    CHECK_INT_EQ(nlprnn_forecaster_params_set(p, "cell", "lstm2", &e), NLPRNN_E_INVALID_ARG);
    CHECK_MSG(strstr(e.message, "rnn | lstm | gru"), "%s", e.message);
    CHECK_INT_EQ(nlprnn_forecaster_params_set(p, "hidden", "0", &e), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_forecaster_params_set(p, "hidden", "12x", &e), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_forecaster_params_set(p, "valid", "1.5", &e), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_forecaster_params_set(p, "colour", "red", &e), NLPRNN_E_INVALID_ARG);
    CHECK_MSG(strstr(e.message, "'colour' does not exist"), "%s", e.message);
    CHECK_INT_EQ(nlprnn_forecaster_params_set(p, "scaler", "standard", &e), 0);
    CHECK_INT_EQ(nlprnn_forecaster_params_get(p, "scaler", buf, sizeof buf, &e), 0);
    CHECK_STR_EQ(buf, "standard");
    CHECK_INT_EQ(nlprnn_forecaster_params_get(p, "window", buf, sizeof buf, &e), 0);
    CHECK_STR_EQ(buf, "30");
    CHECK_INT_EQ(nlprnn_forecaster_params_get(p, "ma", buf, sizeof buf, &e), 0);
    CHECK_STR_EQ(buf, "30");
    nlprnn_forecaster_params_free(p);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nlprnn-test-forecast-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_params();
    test_baselines_and_features();
    test_sine();
    test_relative();
    test_training_controls();
    test_resume();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return nr_test_done("test_forecast");
}

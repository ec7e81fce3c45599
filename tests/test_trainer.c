/* tests/test_trainer.c: the one training loop (train/trainer.h) on a small task made here.
 *
 * The task: bags of 3 ids (a sparse table of V rows of D floats, the "embedding") -> mean of the
 * rows -> dot with a dense w (D) + b -> squared error against a target that a planted table
 * explains exactly. Batches come in a (seed, epoch)-shuffled order, split over workers. Checked:
 *   - the loss falls (a convex problem: the outcome is not chaotic), rows never touched stay as
 *     they were (sparse, lazy updates), 1 worker and 3 workers agree to float tolerance;
 *   - a run stopped by the progress callback mid-epoch, with a checkpoint every 2 batches, and
 *     resumed (twice) ends bit-identical to the uninterrupted run, with the same record;
 *   - the stop flag; a checkpoint of other parameters is refused naming both values;
 *   - patience on a scripted validation: stops after `patience` epochs without improvement and
 *     returns the best epoch's weights; a time budget ends training without error;
 *   - a run ended by its time budget returns the best validated epoch's weights, not the last
 *     ones (keep_last: the last ones); resuming its checkpoint gives the same; a budget spent
 *     before the first validation returns the last weights;
 *   - the learning-rate schedule reaches the progress record (linear decay to min_lr);
 *   - the configuration every task starts from (nr_train_cfg_std): the shared rows read by name
 *     from a task's table, cosine to min(min-lr, lr) or constant, the control object's stop flag,
 *     communicator and resume (the checkpoint opened, refused when it is another task's);
 *   - parameter groups (discriminative rates, gradual unfreezing): one SGD step a epoch with known
 *     gradients moves each group by lr * its scale; a frozen group is byte-identical after the
 *     step and its Adam moments are untouched (its first update after unfreezing is that of zero
 *     moments); groups that do not cover the block are refused; a run with groups stopped and
 *     resumed is bit-identical to the uninterrupted one;
 *   - averaged weights (cfg.ema): the training weights are byte-identical to a run without it;
 *     the result (no validation) is the recurrence a = d_t a + (1 - d_t) w, d_t = min(d, (1+t) /
 *     (10+t)), computed here from the epochs' weights (SGD, one step an epoch, 3 steps, d = 0.2:
 *     the warm-up and the cap both used); validation sees the average and keep-best keeps the
 *     best one; a run stopped mid-epoch and resumed is bit-identical (section EMAW); a checkpoint
 *     without EMAW is refused by a run with ema; d < 0, d >= 1 and NaN are refused; a checkpoint
 *     without a parameter's key resumes when the run has that row's default, not otherwise;
 *   - a parameter table in a model file's config (format/params.h): the rows round-trip, skipped
 *     rows are not stored, an optional row may be missing, a missing or refused value is a
 *     FORMAT error naming the section.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/params.h"
#include "models/math.h"
#include "format/modelfile.h"
#include "format/params.h"
#include "testutil.h"
#include "train/ctl.h"
#include "train/trainer.h"

enum { V = 20, D = 3, N = 96, UNUSED_ROW = 19 };

typedef struct toy_params {
    int hidden; /* not used by the task: a parameter that a resume must not change */
    double lr;
    int epochs;
} toy_params;

static const nr_param TOY_ROWS[] = {
    {"hidden", NR_PARAM_INT, offsetof(toy_params, hidden), 0, 1, 100, NULL, "4", "a size", 0},
    {"lr", NR_PARAM_DBL, offsetof(toy_params, lr), 0, 0, 1, NULL, "0.05", "learning rate", NR_PARAM_OPEN_LO},
    {"epochs", NR_PARAM_INT, offsetof(toy_params, epochs), 0, 1, 100, NULL, "6", "epochs", NR_PARAM_RESUME_OK},
};
static const nr_param_table TOY_TABLE = {"toy parameter", TOY_ROWS, 3};

/* A task's parameters with every row nr_train_cfg_std reads, and one it does not. */
typedef struct std_params {
    int epochs, patience, layers, keep;
    double lr, min_lr, clip, time_limit;
    char checkpoint[300];
    long long checkpoint_every;
} std_params;
#define SOFF(f) offsetof(std_params, f)
static const nr_param STD_ROWS[] = {
    {"layers", NR_PARAM_INT, SOFF(layers), 0, 1, 8, NULL, "2", "layers", 0},
    {"epochs", NR_PARAM_INT, SOFF(epochs), 0, 1, 100, NULL, "7", "epochs", 0},
    {"lr", NR_PARAM_DBL, SOFF(lr), 0, 0, 1, NULL, "0.004", "lr", NR_PARAM_OPEN_LO},
    {"min-lr", NR_PARAM_DBL, SOFF(min_lr), 0, 0, 1, NULL, "0.0004", "lowest lr", 0},
    {"clip", NR_PARAM_DBL, SOFF(clip), 0, 0, 100, NULL, "2.5", "clip", 0},
    {"patience", NR_PARAM_INT, SOFF(patience), 0, 0, 100, NULL, "3", "patience", 0},
    {"keep", NR_PARAM_ENUM, SOFF(keep), 0, 0, 0, "best last", "last", "weights kept", 0},
    {"time-limit", NR_PARAM_DBL, SOFF(time_limit), 0, 0, 1e9, NULL, "90", "seconds", 0},
    {"checkpoint", NR_PARAM_STR, SOFF(checkpoint), sizeof(((std_params *)0)->checkpoint), 0, 0, NULL, "", "file", 0},
    {"checkpoint-every", NR_PARAM_LL, SOFF(checkpoint_every), 0, 0, 1e15, NULL, "11", "batches", 0},
};
#undef SOFF
static const nr_param_table STD_TABLE = {"std parameter", STD_ROWS, sizeof STD_ROWS / sizeof *STD_ROWS};

typedef struct toy {
    float params[V * D + D + 1]; /* [table (V,D) | w (D) | b] */
    int ids[N][3];
    float y[N];
    size_t order[N];
    int B, nb, at;
    int rows_buf[16][3 * N];
    const double *script; /* scripted validation losses (NULL: none) */
    float snap[8][V * D + D + 1]; /* params at the end of each epoch */
    int stop_epoch;
    long long stop_batch; /* the progress callback stops here (-1: never) */
    int steps_seen;
    float last[V * D + D + 1]; /* params after the last step (the progress callback) */
    int sleep_epoch;           /* the first step of this epoch sleeps 2.5 s (-1: none) */
} toy;

static int toy_begin(void *self, int epoch, long long *batches, nlprnn_error *err) {
    (void)err;
    toy *t = self;
    for (size_t i = 0; i < N; i++) t->order[i] = i;
    nr_rng r;
    nr_rng_seed(&r, nr_seed_mix(7, 0xE, (uint64_t)epoch));
    nr_rng_shuffle(&r, t->order, N, sizeof *t->order);
    *batches = (N + t->B - 1) / t->B;
    return NLPRNN_OK;
}

static int toy_prepare(void *self, int epoch, long long batch, int *n, nlprnn_error *err) {
    (void)epoch, (void)err;
    toy *t = self;
    t->at = (int)batch * t->B;
    t->nb = N - t->at < t->B ? N - t->at : t->B;
    *n = t->nb;
    return NLPRNN_OK;
}

static int toy_step(void *self, int epoch, long long batch, int w, int W, float *grad, nr_step_stats *st,
                    const int **rows, size_t *n_rows, nlprnn_error *err) {
    (void)epoch, (void)batch, (void)err;
    toy *t = self;
    if (epoch == t->sleep_epoch && batch == 0 && w == 0) { /* spends a time budget of 2 s here */
        struct timespec ts = {2, 500000000L};
        while (nanosleep(&ts, &ts) != 0) continue;
    }
    int lo = 0, hi = 0;
    nr_split_range(t->nb, w, W, &lo, &hi);
    const float *tab = t->params, *wv = t->params + V * D;
    float b = t->params[V * D + D];
    size_t k = 0;
    for (int i = lo; i < hi; i++) {
        size_t ex = t->order[t->at + i];
        float h[D] = {0};
        for (int j = 0; j < 3; j++)
            for (int d = 0; d < D; d++) h[d] += tab[t->ids[ex][j] * D + d] / 3.0f;
        float pred = b;
        for (int d = 0; d < D; d++) pred += wv[d] * h[d];
        float e = pred - t->y[ex];
        st->loss += (double)e * e;
        float g = 2.0f * e / (float)t->nb; /* d(sum of the batch's squares / batch count) */
        for (int d = 0; d < D; d++) grad[V * D + d] += g * h[d];
        grad[V * D + D] += g;
        for (int j = 0; j < 3; j++) {
            for (int d = 0; d < D; d++) grad[t->ids[ex][j] * D + d] += g * wv[d] / 3.0f;
            t->rows_buf[w][k++] = t->ids[ex][j];
        }
    }
    st->count = hi - lo;
    st->tokens = 3.0 * (hi - lo);
    *rows = t->rows_buf[w];
    *n_rows = k;
    return NLPRNN_OK;
}

static int toy_validate(void *self, nr_valid *v, nlprnn_error *err) {
    (void)err;
    toy *t = self;
    v->has = 1;
    v->score = NAN;
    v->loss = t->script[t->steps_seen++];
    return NLPRNN_OK;
}

static void toy_epoch_done(void *self, int epoch, double train_loss, const nr_valid *v) {
    (void)train_loss, (void)v;
    toy *t = self;
    if (epoch < 8) memcpy(t->snap[epoch], t->params, sizeof t->params);
}

static int toy_write(void *self, nr_mf_writer *w, const char *tag, const float *params, nlprnn_error *err) {
    (void)self;
    nr_mf_buf b;
    nr_mf_buf_init(&b);
    size_t n = V * D + D + 1;
    int rc = nr_tensor_put(&b, "all", params, 1, &n, NR_DTYPE_F32, err);
    if (!rc) rc = nr_mf_add(w, tag, NR_MF_TENSORS, b.data, b.len, 0, err);
    nr_mf_buf_free(&b);
    return rc;
}

static int toy_read(void *self, const nr_mf_reader *r, const char *tag, float *params, nlprnn_error *err) {
    (void)self;
    size_t n = V * D + D + 1;
    return nr_mf_tensor_read(r, tag, "all", params, 1, &n, err);
}

static int on_progress(void *user, const nr_train_progress *p) {
    toy *t = user;
    if (p->phase == NR_TP_STEP) {
        memcpy(t->last, t->params, sizeof t->last);
        CHECK(p->batch >= 1 && p->batch <= p->batches && p->epoch >= 1 && p->epoch <= p->epochs);
        CHECK(p->lr > 0);
        if (p->epoch - 1 == t->stop_epoch && p->batch - 1 == t->stop_batch) return 1;
    }
    return 0;
}

static void toy_init(toy *t, int B) {
    memset(t, 0, sizeof *t);
    t->B = B;
    t->stop_batch = -1;
    t->sleep_epoch = -1;
    nr_rng r;
    nr_rng_seed(&r, 3);
    float planted[V];
    for (int i = 0; i < V; i++) planted[i] = nr_rng_uniform(&r) * 2 - 1;
    for (int i = 0; i < N; i++) {
        t->y[i] = 0;
        for (int j = 0; j < 3; j++) {
            t->ids[i][j] = (int)nr_rng_below(&r, V - 1); /* row V-1 never appears */
            t->y[i] += planted[t->ids[i][j]];
        }
    }
    for (size_t i = 0; i < sizeof t->params / sizeof *t->params; i++) t->params[i] = nr_rng_uniform(&r) * 0.2f - 0.1f;
}

static nr_task toy_task(toy *t) {
    nr_task k = {.self = t, .name = "toy", .params = t->params, .n_params = V * D + D + 1,
                 .sparse_rows = V, .sparse_dim = D, .sparse_skip = -1, .begin_epoch = toy_begin,
                 .prepare = toy_prepare, .step = toy_step, .write_weights = toy_write,
                 .read_weights = toy_read, .epoch_done = toy_epoch_done};
    return k;
}

static nr_train_cfg toy_cfg(toy *t, int workers, const char *ckpt, const toy_params *tp) {
    nr_train_cfg c;
    memset(&c, 0, sizeof c);
    c.epochs = tp->epochs;
    nr_optim_cfg_default(&c.optim, NR_OPT_ADAM);
    c.lr.kind = NR_LR_LINEAR;
    c.lr.base_lr = (float)tp->lr;
    c.lr.min_lr = (float)tp->lr / 10;
    c.clip = 0.5;
    c.workers = workers;
    c.checkpoint = ckpt;
    c.progress = on_progress;
    c.user = t;
    c.params = &TOY_TABLE;
    c.params_obj = tp;
    return c;
}

static double loss_of(const toy *t) {
    double s = 0;
    for (int i = 0; i < N; i++) {
        float h[D] = {0}, pred = t->params[V * D + D];
        for (int j = 0; j < 3; j++)
            for (int d = 0; d < D; d++) h[d] += t->params[t->ids[i][j] * D + d] / 3.0f;
        for (int d = 0; d < D; d++) pred += t->params[V * D + d] * h[d];
        s += (double)(pred - t->y[i]) * (pred - t->y[i]);
    }
    return s / N;
}

/* The gradient toy_step gives at params p for the whole set in epoch e's order (B = N). */
static void toy_grad(const float *p, int epoch, float *g) {
    static toy q;
    toy_init(&q, N);
    memcpy(q.params, p, sizeof q.params);
    long long nb;
    int n;
    toy_begin(&q, epoch, &nb, NULL);
    toy_prepare(&q, epoch, 0, &n, NULL);
    memset(g, 0, sizeof q.params);
    nr_step_stats st;
    memset(&st, 0, sizeof st);
    const int *rows;
    size_t nr;
    toy_step(&q, epoch, 0, 0, 1, g, &st, &rows, &nr, NULL);
}

enum { NP = V * D + D + 1 };

static void test_groups(const toy_params *tp, const char *ckpt) {
    /* groups: the table (sparse) x0.25 from epoch 2, w x0.5 from epoch 1, b x1 from epoch 1 */
    static const nr_param_group G[3] = {{0, V * D, 0.25f, 1}, {V * D, V * D + D, 0.5f, 0},
                                        {V * D + D, NP, 1.0f, 0}};
    static toy a;
    nlprnn_error e;
    toy_params t2 = *tp;
    t2.epochs = 2;
    float p0[NP], g0[NP], g1[NP];

    /* SGD, one step an epoch (B = N), constant rate, no clipping */
    toy_init(&a, N);
    memcpy(p0, a.params, sizeof p0);
    nr_task k = toy_task(&a);
    k.groups = G;
    k.n_groups = 3;
    nr_train_cfg c = toy_cfg(&a, 1, NULL, &t2);
    nr_optim_cfg_default(&c.optim, NR_OPT_SGD);
    c.lr.kind = NR_LR_CONSTANT;
    c.clip = 0;
    const float lr = (float)t2.lr;
    CHECK_INT_EQ(nr_train(&c, &k, NULL, &e), 0);
    toy_grad(p0, 0, g0);
    CHECK(!memcmp(a.snap[0], p0, V * D * sizeof(float))); /* frozen: byte-identical */
    for (int i = V * D; i < NP; i++) {
        float sc = i < V * D + D ? 0.5f : 1.0f;
        CHECK_NEAR(a.snap[0][i], p0[i] - lr * sc * g0[i], 1e-6);
    }
    toy_grad(a.snap[0], 1, g1);
    int moved = 0;
    for (int i = 0; i < NP; i++) {
        float sc = i < V * D ? 0.25f : i < V * D + D ? 0.5f : 1.0f;
        CHECK_NEAR(a.snap[1][i], a.snap[0][i] - lr * sc * g1[i], 1e-6);
        moved += i < V * D && a.snap[1][i] != a.snap[0][i];
    }
    CHECK_MSG(moved > 0, "the table did not train after unfreezing");

    /* Adam: the frozen table's moments stay zero, so its first update (step 2) is
     * lr * 0.25 * mhat / (sqrt(vhat) + eps) of the first moments of the epoch-1 gradient */
    toy_init(&a, N);
    c = toy_cfg(&a, 1, NULL, &t2);
    c.lr.kind = NR_LR_CONSTANT;
    c.clip = 0;
    CHECK_INT_EQ(nr_train(&c, &k, NULL, &e), 0);
    CHECK(!memcmp(a.snap[0], p0, V * D * sizeof(float)));
    toy_grad(a.snap[0], 1, g1);
    const double b1 = c.optim.beta1, b2 = c.optim.beta2, eps = c.optim.eps;
    for (int i = 0; i < V * D; i++) {
        if (g1[i] == 0.0f) continue; /* a row the step did not touch (lazy) */
        double mh = (1 - b1) * g1[i] / (1 - b1 * b1), vh = (1 - b2) * (double)g1[i] * g1[i] / (1 - b2 * b2);
        double want = a.snap[0][i] - lr * 0.25 * mh / (sqrt(vh) + eps);
        CHECK_MSG(fabs(a.snap[1][i] - want) < 1e-6, "table[%d]: %g, zero moments give %g", i,
                  (double)a.snap[1][i], want);
    }

    /* groups that leave a gap or do not reach the end are refused */
    static const nr_param_group bad[2] = {{0, V * D, 1.0f, 0}, {V * D + 1, NP, 1.0f, 0}};
    k.groups = bad;
    k.n_groups = 2;
    CHECK_INT_EQ(nr_train(&c, &k, NULL, &e), NLPRNN_E_INVALID_ARG);
    k.n_groups = 1;
    CHECK_INT_EQ(nr_train(&c, &k, NULL, &e), NLPRNN_E_INVALID_ARG);

    /* stopped in epoch 2 and resumed: bit-identical to the uninterrupted run */
    static toy u, r;
    toy_params t3 = *tp;
    t3.epochs = 3;
    static const nr_param_group G3[3] = {{0, V * D, 0.25f, 2}, {V * D, V * D + D, 0.5f, 1},
                                         {V * D + D, NP, 1.0f, 0}};
    toy_init(&u, 10);
    nr_task ku = toy_task(&u);
    ku.groups = G3;
    ku.n_groups = 3;
    nr_train_cfg cu = toy_cfg(&u, 2, NULL, &t3);
    CHECK_INT_EQ(nr_train(&cu, &ku, NULL, &e), 0);
    toy_init(&r, 10);
    nr_task kr = toy_task(&r);
    kr.groups = G3;
    kr.n_groups = 3;
    nr_train_cfg cr = toy_cfg(&r, 2, ckpt, &t3);
    r.stop_epoch = 1;
    r.stop_batch = 3;
    CHECK_INT_EQ(nr_train(&cr, &kr, NULL, &e), NLPRNN_E_INTERRUPTED);
    nr_mf_reader *rd = NULL;
    nr_conf conf;
    CHECK_INT_EQ(nr_ckpt_open(ckpt, "toy", &rd, &conf, &e), 0);
    toy_init(&r, 10);
    cr.resume = rd;
    CHECK_INT_EQ(nr_train(&cr, &kr, NULL, &e), 0);
    nr_conf_free(&conf);
    nr_mf_close(rd);
    CHECK(!memcmp(u.params, r.params, sizeof u.params));
    CHECK(memcmp(u.snap[0], p0, sizeof p0)); /* trained at all */
    unlink(ckpt);
}

/* Validation that records the weights it sees (the averaged ones with ema) and ranks them by the
 * script. */
static float seen[8][NP];
static int toy_validate_seen(void *self, nr_valid *v, nlprnn_error *err) {
    toy *t = self;
    if (t->steps_seen < 8) memcpy(seen[t->steps_seen], t->params, sizeof t->params);
    return toy_validate(self, v, err);
}

static void test_ema(const toy_params *tp, const char *ckpt) {
    static toy a, b, u, r;
    nlprnn_error e;
    toy_params t3 = *tp;
    t3.epochs = 3;
    const double d = 0.2;
    float p0[NP];

    /* SGD, one step an epoch, 3 epochs, no validation: the result is the average */
    toy_init(&a, N);
    toy_init(&b, N);
    memcpy(p0, a.params, sizeof p0);
    nr_task ka = toy_task(&a), kb = toy_task(&b);
    nr_train_cfg ca = toy_cfg(&a, 1, NULL, &t3), cb = toy_cfg(&b, 1, NULL, &t3);
    nr_optim_cfg_default(&ca.optim, NR_OPT_SGD);
    nr_optim_cfg_default(&cb.optim, NR_OPT_SGD);
    ca.lr.kind = cb.lr.kind = NR_LR_CONSTANT;
    ca.clip = cb.clip = 0;
    ca.ema = d;
    CHECK_INT_EQ(nr_train(&ca, &ka, NULL, &e), 0);
    CHECK_INT_EQ(nr_train(&cb, &kb, NULL, &e), 0);
    /* the training weights (each epoch's end) are those of the run without it, byte for byte */
    CHECK(!memcmp(a.snap, b.snap, 3 * sizeof a.snap[0]));
    CHECK(!memcmp(b.params, b.snap[2], sizeof b.params));
    double avg[NP], maxd = 0, moved = 0;
    for (int i = 0; i < NP; i++) avg[i] = p0[i];
    for (int t = 1; t <= 3; t++) {
        double dt = fmin(d, (1.0 + t) / (10.0 + t)); /* 0.1818, 0.2, 0.2 */
        for (int i = 0; i < NP; i++) avg[i] = dt * avg[i] + (1 - dt) * a.snap[t - 1][i];
    }
    for (int i = 0; i < NP; i++) {
        maxd = fmax(maxd, fabs(a.params[i] - avg[i]));
        moved = fmax(moved, fabs(a.params[i] - b.params[i]));
    }
    CHECK_MSG(maxd < 1e-6, "averaged weights: max difference %g from the recurrence", maxd);
    CHECK_MSG(moved > 1e-4, "the average is the last weights (difference %g)", moved);

    /* with validation: it sees the average; keep best keeps the best validated average */
    static const double script[] = {1.0, 0.5, 0.7};
    toy_init(&a, N);
    a.script = script;
    ka.validate = toy_validate_seen;
    nr_train_result res;
    CHECK_INT_EQ(nr_train(&ca, &ka, &res, &e), 0);
    CHECK_INT_EQ(res.best_epoch, 2);
    for (int i = 0; i < NP; i++) avg[i] = p0[i];
    for (int t = 1; t <= 3; t++) {
        double dt = fmin(d, (1.0 + t) / (10.0 + t));
        maxd = 0;
        for (int i = 0; i < NP; i++) {
            avg[i] = dt * avg[i] + (1 - dt) * a.snap[t - 1][i];
            maxd = fmax(maxd, fabs(seen[t - 1][i] - avg[i]));
        }
        CHECK_MSG(maxd < 1e-6, "validation %d saw weights %g from the average", t, maxd);
    }
    CHECK(!memcmp(a.params, seen[1], sizeof a.params));
    CHECK(!memcmp(a.snap, b.snap, 3 * sizeof a.snap[0])); /* validating the average changed nothing */

    /* stopped mid-epoch 2 (Adam, 10 batches an epoch, 2 workers) and resumed: bit-identical */
    toy_init(&u, 10);
    u.script = script;
    nr_task ku = toy_task(&u);
    ku.validate = toy_validate;
    nr_train_cfg cu = toy_cfg(&u, 2, NULL, &t3);
    cu.ema = 0.9;
    CHECK_INT_EQ(nr_train(&cu, &ku, NULL, &e), 0);
    toy_init(&r, 10);
    r.script = script;
    nr_task kr = toy_task(&r);
    kr.validate = toy_validate;
    nr_train_cfg cr = toy_cfg(&r, 2, ckpt, &t3);
    cr.ema = 0.9;
    r.stop_epoch = 1;
    r.stop_batch = 3;
    CHECK_INT_EQ(nr_train(&cr, &kr, NULL, &e), NLPRNN_E_INTERRUPTED);
    nr_mf_reader *rd = NULL;
    nr_conf conf;
    CHECK_INT_EQ(nr_ckpt_open(ckpt, "toy", &rd, &conf, &e), 0);
    CHECK(rd && nr_mf_find(rd, "EMAW") != NULL);
    int steps_seen = r.steps_seen;
    toy_init(&r, 10);
    r.script = script;
    r.steps_seen = steps_seen; /* the script goes on where the stopped run left it */
    cr.resume = rd;
    CHECK_INT_EQ(nr_train(&cr, &kr, NULL, &e), 0);
    nr_conf_free(&conf);
    nr_mf_close(rd);
    CHECK(!memcmp(u.params, r.params, sizeof u.params));

    /* a checkpoint made without ema: a run with it is refused, naming the missing section */
    toy_init(&r, 10);
    r.script = script;
    cr = toy_cfg(&r, 1, ckpt, &t3);
    r.stop_epoch = 1;
    r.stop_batch = 3;
    CHECK_INT_EQ(nr_train(&cr, &kr, NULL, &e), NLPRNN_E_INTERRUPTED);
    CHECK_INT_EQ(nr_ckpt_open(ckpt, "toy", &rd, &conf, &e), 0);
    CHECK(rd && nr_mf_find(rd, "EMAW") == NULL);
    toy_init(&r, 10);
    r.script = script;
    cr.resume = rd;
    cr.ema = 0.9;
    CHECK_INT_EQ(nr_train(&cr, &kr, NULL, &e), NLPRNN_E_FORMAT);
    CHECK_MSG(strstr(e.message, "EMAW") && strstr(e.message, "without ema"), "%s", e.message);
    nr_conf_free(&conf);
    nr_mf_close(rd);
    unlink(ckpt);

    /* bad decays */
    const double bad[] = {-0.1, 1.0, 1.5, NAN};
    for (int i = 0; i < 4; i++) {
        toy_init(&r, 10);
        cr = toy_cfg(&r, 1, NULL, &t3);
        cr.ema = bad[i];
        CHECK_INT_EQ(nr_train(&cr, &kr, NULL, &e), NLPRNN_E_INVALID_ARG);
        CHECK_MSG(strstr(e.message, "ema"), "%s", e.message);
    }

    /* a parameter added after a checkpoint was written: its key is missing there; a run with the
     * row's default resumes, another value is refused */
    static const nr_param ROWS2[] = {
        {"hidden", NR_PARAM_INT, offsetof(toy_params, hidden), 0, 1, 100, NULL, "4", "a size", 0},
        {"lr", NR_PARAM_DBL, offsetof(toy_params, lr), 0, 0, 1, NULL, "0.05", "learning rate", NR_PARAM_OPEN_HI},
    };
    const nr_param_table old = {"toy parameter", ROWS2, 1}, now = {"toy parameter", ROWS2, 2};
    toy_params tq = *tp;
    nr_mf_buf cb2;
    nr_mf_buf_init(&cb2);
    CHECK_INT_EQ(nr_ckpt_put_params(&cb2, &old, &tq, &e), 0);
    nr_mf_writer *w = NULL;
    CHECK_INT_EQ(nr_mf_writer_new(&w, NR_KIND_CHECKPOINT, &e), 0);
    CHECK_INT_EQ(nr_mf_add(w, "CONF", NR_MF_CONFIG, cb2.data, cb2.len, 0, &e), 0);
    CHECK_INT_EQ(nr_mf_writer_save(w, ckpt, &e), 0);
    nr_mf_writer_free(w);
    nr_mf_buf_free(&cb2);
    CHECK_INT_EQ(nr_mf_open_file(&rd, ckpt, NR_KIND_CHECKPOINT, &e), 0);
    CHECK_INT_EQ(nr_mf_get_conf(rd, "CONF", &conf, &e), 0);
    tq.lr = 0.05;
    CHECK_INT_EQ(nr_ckpt_check_params(&conf, &now, &tq, NLPRNN_E_STATE, &e), 0);
    tq.lr = 0.5;
    CHECK_INT_EQ(nr_ckpt_check_params(&conf, &now, &tq, NLPRNN_E_STATE, &e), NLPRNN_E_FORMAT);
    CHECK_MSG(strstr(e.message, "param.lr"), "%s", e.message);
    nr_conf_free(&conf);
    nr_mf_close(rd);
    unlink(ckpt);
    /* NR_PARAM_OPEN_HI: the upper end itself is refused, and the range says so */
    CHECK_INT_EQ(nr_params_set(&now, &tq, "lr", "1", &e), NLPRNN_E_INVALID_ARG);
    CHECK_MSG(strstr(e.message, "[0, 1)"), "%s", e.message);
    CHECK_INT_EQ(nr_params_set(&now, &tq, "lr", "0.999", &e), 0);
}

int main(void) {
    char dir[] = "/tmp/nlprnn-test-trainer-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char ckpt[300];
    snprintf(ckpt, sizeof ckpt, "%s/toy.ckpt", dir);
    toy_params tp;
    CHECK_INT_EQ(nr_params_reset(&TOY_TABLE, &tp, NULL), 0);
    CHECK_INT_EQ(nr_params_set(&TOY_TABLE, &tp, "epochs", "6", NULL), 0);
    nlprnn_error e;

    test_groups(&tp, ckpt);
    test_ema(&tp, ckpt);

    /* learning; untouched rows stay; 1 vs 3 workers */
    static toy a, b, c;
    toy_init(&a, 10);
    float unused[D];
    memcpy(unused, a.params + UNUSED_ROW * D, sizeof unused);
    double l0 = loss_of(&a);
    nr_task ka = toy_task(&a);
    nr_train_cfg ca = toy_cfg(&a, 3, NULL, &tp);
    nr_train_result ra;
    CHECK_INT_EQ(nr_train(&ca, &ka, &ra, &e), 0);
    double l1 = loss_of(&a);
    printf("toy: loss %.4f -> %.4f in %lld steps\n", l0, l1, ra.steps);
    CHECK_MSG(l1 < 0.5 * l0, "loss %g -> %g", l0, l1);
    CHECK_INT_EQ(ra.steps, 6 * 10);
    CHECK_INT_EQ(ra.epochs_run, 6);
    CHECK(!memcmp(unused, a.params + UNUSED_ROW * D, sizeof unused));
    toy_init(&b, 10);
    nr_task kb = toy_task(&b);
    nr_train_cfg cb = toy_cfg(&b, 1, NULL, &tp);
    CHECK_INT_EQ(nr_train(&cb, &kb, NULL, &e), 0);
    double maxd = 0;
    for (size_t i = 0; i < sizeof a.params / sizeof *a.params; i++)
        maxd = fmax(maxd, fabs((double)a.params[i] - (double)b.params[i]));
    CHECK_MSG(maxd < 1e-4, "1 vs 3 workers: max difference %g", maxd);

    /* stopped mid-epoch twice (progress callback), resumed: bit-identical to the run above */
    toy_init(&c, 10);
    nr_task kc = toy_task(&c);
    nr_train_cfg cc = toy_cfg(&c, 3, ckpt, &tp);
    cc.checkpoint_every = 2;
    c.stop_epoch = 1;
    c.stop_batch = 4;
    int rc = nr_train(&cc, &kc, NULL, &e);
    CHECK_INT_EQ(rc, NLPRNN_E_INTERRUPTED);
    CHECK_MSG(strstr(e.message, "epoch 2 batch 5") && strstr(e.message, ckpt), "%s", e.message);
    for (int round = 0; round < 2; round++) {
        nr_mf_reader *r = NULL;
        nr_conf conf;
        CHECK_INT_EQ(nr_ckpt_open(ckpt, "toy", &r, &conf, &e), 0);
        toy_init(&c, 10); /* a fresh process: the weights come from the checkpoint */
        c.stop_epoch = round == 0 ? 4 : -1;
        c.stop_batch = round == 0 ? 0 : -1;
        cc.resume = r;
        rc = nr_train(&cc, &kc, &ra, &e);
        CHECK_INT_EQ(rc, round == 0 ? NLPRNN_E_INTERRUPTED : 0);
        nr_conf_free(&conf);
        nr_mf_close(r);
    }
    CHECK(!memcmp(a.params, c.params, sizeof a.params));
    CHECK_INT_EQ(ra.steps, 60);
    CHECK_INT_EQ(ra.epochs_run, 6);

    /* the stop flag; other parameters on resume; a checkpoint of another task */
    toy_init(&c, 10);
    volatile int stop = 1;
    cc.stop = &stop;
    cc.resume = NULL;
    CHECK_INT_EQ(nr_train(&cc, &kc, NULL, &e), NLPRNN_E_INTERRUPTED);
    CHECK_MSG(strstr(e.message, "epoch 1 batch 1"), "%s", e.message);
    nr_mf_reader *r = NULL;
    nr_conf conf;
    CHECK_INT_EQ(nr_ckpt_open(ckpt, "toy", &r, &conf, &e), 0);
    toy_params other = tp;
    other.hidden = 5;
    nr_train_cfg co = toy_cfg(&c, 3, ckpt, &other);
    co.resume = r;
    CHECK_INT_EQ(nr_train(&co, &kc, NULL, &e), NLPRNN_E_STATE);
    CHECK_MSG(strstr(e.message, "hidden=4") && strstr(e.message, "hidden=5"), "%s", e.message);
    nr_conf_free(&conf);
    nr_mf_close(r);
    CHECK_INT_EQ(nr_ckpt_open(ckpt, "classifier", &r, &conf, &e), NLPRNN_E_UNSUPPORTED);
    cc.stop = NULL;

    /* patience on a scripted validation: best at epoch 2, then 2 worse epochs */
    static const double script[] = {1.0, 0.5, 0.7, 0.8, 0.1, 0.1};
    toy_init(&c, 10);
    c.script = script;
    kc.validate = toy_validate;
    nr_train_cfg cp = toy_cfg(&c, 1, NULL, &tp);
    cp.patience = 2;
    CHECK_INT_EQ(nr_train(&cp, &kc, &ra, &e), 0);
    CHECK_INT_EQ(ra.best_epoch, 2);
    CHECK_INT_EQ(ra.stopped_early, 1);
    CHECK_INT_EQ(ra.epochs_run, 4);
    CHECK(!memcmp(c.params, c.snap[1], sizeof c.params));
    kc.validate = NULL;

    /* a time budget ends training without error, after the step that spent it */
    toy_init(&c, 10);
    nr_train_cfg ct = toy_cfg(&c, 1, NULL, &tp);
    ct.time_limit = 1e-9;
    ct.lr_follows_time = 1;
    CHECK_INT_EQ(nr_train(&ct, &kc, &ra, &e), 0);
    CHECK_INT_EQ(ra.timed_out, 1);
    CHECK_INT_EQ(ra.steps, 1);
    CHECK_INT_EQ(ra.kept_best, 0);

    /* a time budget with validation: the result is the best validated epoch's weights (epoch 2
     * of the script), not the last step's. The budget (2 s) runs out in the first step of epoch 4,
     * which sleeps 2.5 s; should the machine stall > 2 s earlier, the budget ends sooner and the
     * checks follow the epochs actually validated. keep_last: the last step's weights. The
     * checkpoint of the timed-out run, resumed, has nothing left to do and gives the same. */
    kc.validate = toy_validate;
    char ckpt2[300];
    snprintf(ckpt2, sizeof ckpt2, "%s/timed.ckpt", dir);
    for (int keep_last = 0; keep_last < 2; keep_last++) {
        toy_init(&c, 10);
        c.script = script;
        c.sleep_epoch = 3;
        ct = toy_cfg(&c, 1, keep_last ? NULL : ckpt2, &tp);
        ct.time_limit = 2.0;
        ct.lr_follows_time = 1;
        ct.keep_last = keep_last;
        CHECK_INT_EQ(nr_train(&ct, &kc, &ra, &e), 0);
        CHECK_INT_EQ(ra.timed_out, 1);
        printf("time budget, keep %s: %d epochs validated, best %d, steps %lld\n", keep_last ? "last" : "best",
               ra.epochs_run, ra.best_epoch, ra.steps);
        CHECK(ra.epochs_run <= 3);
        int best = 0; /* the script's lowest loss among the validated epochs */
        for (int i = 0; i < ra.epochs_run; i++)
            if (!best || script[i] < script[best - 1]) best = i + 1;
        CHECK_INT_EQ(ra.best_epoch, best);
        CHECK_INT_EQ(ra.kept_best, !keep_last && best > 0);
        if (!keep_last && best > 0) {
            CHECK(!memcmp(c.params, c.snap[best - 1], sizeof c.params));
            CHECK(memcmp(c.params, c.last, sizeof c.params) != 0); /* steps came after the best */
            CHECK_NEAR(ra.best_loss, script[best - 1], 0);
            float got[V * D + D + 1];
            memcpy(got, c.params, sizeof got);
            nr_mf_reader *rr = NULL;
            nr_conf cf;
            CHECK_INT_EQ(nr_ckpt_open(ckpt2, "toy", &rr, &cf, &e), 0);
            toy_init(&c, 10); /* a fresh process: everything comes from the checkpoint */
            c.script = script;
            nr_train_cfg cr = ct;
            cr.resume = rr;
            nr_train_result res2;
            CHECK_INT_EQ(nr_train(&cr, &kc, &res2, &e), 0);
            CHECK(!memcmp(c.params, got, sizeof got));
            CHECK_INT_EQ(res2.best_epoch, best);
            CHECK_INT_EQ(res2.kept_best, 1);
            nr_conf_free(&cf);
            nr_mf_close(rr);
        } else {
            CHECK(!memcmp(c.params, c.last, sizeof c.params));
        }
    }
    unlink(ckpt2);
    kc.validate = NULL;

    /* the schedule: linear from lr to lr/10 over 60 steps */
    nr_lr_schedule s = {NR_LR_LINEAR, 0.05f, 0.005f, 0, 60};
    CHECK_NEAR(nr_lr_at(&s, 0), 0.05, 1e-8);
    CHECK_NEAR(nr_lr_at(&s, 30), 0.0275, 1e-7);
    CHECK_NEAR(nr_lr_at_progress(&s, 0, 0.5), 0.0275, 1e-7);
    CHECK_NEAR(nr_lr_at_progress(&s, 0, 2.0), 0.005, 1e-8);

    /* the parameter table */
    CHECK_INT_EQ(nr_params_set(&TOY_TABLE, &tp, "hidden", "101", &e), NLPRNN_E_INVALID_ARG);
    CHECK_MSG(strstr(e.message, "toy parameter hidden: '101' is not valid (expected 1..100)"), "%s", e.message);
    CHECK_INT_EQ(nr_params_set(&TOY_TABLE, &tp, "lr", "0", &e), NLPRNN_E_INVALID_ARG);
    /* ranges read as a person wrote them: the fewest digits that give the bound back exactly */
    {
        char range[64];
        nr_param d = {"d", NR_PARAM_DBL, 0, 0, 0, 0.9, NULL, "0.1", "a fraction", 0};
        nr_param_range(&d, range, sizeof range);
        CHECK_STR_EQ(range, "[0, 0.9]");
        nr_param o = {"o", NR_PARAM_DBL, 0, 0, 1e-3, 0.1 + 0.2, NULL, "0.1", "open", NR_PARAM_OPEN_LO};
        nr_param_range(&o, range, sizeof range);
        CHECK_STR_EQ(range, "(0.001, 0.30000000000000004]"); /* 0.1 + 0.2 needs all 17 digits */
        nr_param w = {"w", NR_PARAM_DBL, 0, 0, 0, 1e9, NULL, "0", "whole", 0};
        nr_param_range(&w, range, sizeof range);
        CHECK_STR_EQ(range, "[0, 1000000000]"); /* whole numbers as written, not 1e+09 */
    }
    CHECK_INT_EQ(nr_params_set(&TOY_TABLE, &tp, "hiden", "3", &e), NLPRNN_E_INVALID_ARG);
    CHECK_MSG(strstr(e.message, "'hiden' does not exist (known: hidden, lr, epochs)"), "%s", e.message);
    char buf[64];
    CHECK_INT_EQ(nr_params_get(&TOY_TABLE, &tp, "lr", buf, sizeof buf, &e), 0);
    CHECK_STR_EQ(buf, "0.050000000000000003");

    /* the configuration every task starts from: the shared rows by name, the control object */
    {
        std_params sp;
        memset(&sp, 0, sizeof sp);
        CHECK_INT_EQ(nr_params_reset(&STD_TABLE, &sp, NULL), 0);
        volatile int flag = 0;
        nr_comm one = {0};
        one.size = 1;
        struct nlprnn_train_ctl ctl = {&flag, 0, &one};
        nr_train_cfg g;
        CHECK_INT_EQ(nr_train_cfg_std(&g, "toy", &STD_TABLE, &sp, &ctl, &e), 0);
        CHECK_INT_EQ(g.epochs, 7);
        CHECK_INT_EQ(g.patience, 3);
        CHECK_INT_EQ(g.keep_last, 1);
        CHECK_NEAR(g.clip, 2.5, 0);
        CHECK_NEAR(g.time_limit, 90, 0);
        CHECK_INT_EQ(g.lr_follows_time, 1);
        CHECK(g.checkpoint == sp.checkpoint);
        CHECK_INT_EQ(g.checkpoint_every, 11);
        CHECK_INT_EQ(g.optim.kind, NR_OPT_ADAM);
        CHECK_NEAR(g.optim.lr, 0.004f, 0);
        CHECK_INT_EQ(g.lr.kind, NR_LR_COSINE);
        CHECK_NEAR(g.lr.base_lr, 0.004f, 0);
        CHECK_NEAR(g.lr.min_lr, 0.0004f, 0);
        CHECK_INT_EQ(g.workers, 1);
        CHECK(g.stop == &flag && g.comm == &one && g.params == &STD_TABLE && g.params_obj == &sp);
        CHECK(g.resume == NULL);
        nr_train_cfg_done(&g);
        /* min-lr above lr: the rate stays at lr; no time limit: the schedule follows steps */
        CHECK_INT_EQ(nr_params_set(&STD_TABLE, &sp, "min-lr", "0.5", NULL), 0);
        CHECK_INT_EQ(nr_params_set(&STD_TABLE, &sp, "time-limit", "0", NULL), 0);
        CHECK_INT_EQ(nr_train_cfg_std(&g, "toy", &STD_TABLE, &sp, NULL, &e), 0);
        CHECK_NEAR(g.lr.min_lr, 0.004f, 0);
        CHECK_INT_EQ(g.lr_follows_time, 0);
        CHECK(g.stop == NULL && g.comm == NULL);
        nr_train_cfg_done(&g);
        /* a table without min-lr (the toy's): a constant rate; rows it lacks stay 0 */
        CHECK_INT_EQ(nr_train_cfg_std(&g, "toy", &TOY_TABLE, &tp, NULL, &e), 0);
        CHECK_INT_EQ(g.lr.kind, NR_LR_CONSTANT);
        CHECK_NEAR(g.lr.base_lr, 0.05f, 0);
        CHECK_NEAR(g.lr.min_lr, 0.05f, 0);
        CHECK_INT_EQ(g.epochs, 6);
        CHECK(g.checkpoint == NULL && g.clip == 0 && g.patience == 0 && g.keep_last == 0);
        nr_train_cfg_done(&g);
        /* a type that does not match the row is not read */
        CHECK(nr_param_field(&STD_TABLE, &sp, "epochs", NR_PARAM_DBL) == NULL);
        CHECK(nr_param_field(&STD_TABLE, &sp, "epochs", NR_PARAM_INT) == &sp.epochs);
        /* resume: the checkpoint (the toy's, from the stop-flag run above) is opened ... */
        snprintf(sp.checkpoint, sizeof sp.checkpoint, "%s", ckpt);
        ctl.resume = 1;
        CHECK_INT_EQ(nr_train_cfg_std(&g, "toy", &STD_TABLE, &sp, &ctl, &e), 0);
        CHECK(g.resume != NULL);
        if (g.resume) CHECK_STR_EQ(nr_mf_kind(g.resume), NR_KIND_CHECKPOINT);
        nr_train_cfg_done(&g); /* ... and closed (ASan: no leak) */
        CHECK(g.resume == NULL);
        /* ... and refused when it is another task's */
        CHECK_INT_EQ(nr_train_cfg_std(&g, "tagger", &STD_TABLE, &sp, &ctl, &e), NLPRNN_E_UNSUPPORTED);
        CHECK_MSG(strstr(e.message, "checkpoint of a toy, not of a tagger"), "%s", e.message);
        CHECK(g.resume == NULL);
        nr_train_cfg_done(&g);
        sp.checkpoint[0] = 0;
        CHECK_INT_EQ(nr_train_cfg_std(&g, "toy", &STD_TABLE, &sp, &ctl, &e), NLPRNN_E_INVALID_ARG);
        nr_train_cfg_done(&g);
    }

    /* a parameter table in a model file's config section */
    {
        std_params sp, back;
        memset(&sp, 0, sizeof sp);
        memset(&back, 0, sizeof back);
        CHECK_INT_EQ(nr_params_reset(&STD_TABLE, &sp, NULL), 0);
        CHECK_INT_EQ(nr_params_reset(&STD_TABLE, &back, NULL), 0);
        CHECK_INT_EQ(nr_params_set(&STD_TABLE, &sp, "layers", "5", NULL), 0);
        CHECK_INT_EQ(nr_params_set(&STD_TABLE, &sp, "lr", "0.1", NULL), 0);
        CHECK_INT_EQ(nr_params_set(&STD_TABLE, &sp, "checkpoint", "x.ckpt", NULL), 0);
        static const char *const skip[] = {"checkpoint", "checkpoint-every", NULL};
        nr_mf_buf mb;
        nr_mf_buf_init(&mb);
        CHECK_INT_EQ(nr_params_to_conf(&mb, &STD_TABLE, &sp, skip, &e), 0);
        nr_conf cf;
        memset(&cf, 0, sizeof cf);
        CHECK_INT_EQ(nr_conf_parse(&cf, mb.data, mb.len, "m.nrm: section CONF", &e), 0);
        CHECK(nr_conf_has(&cf, "layers") && nr_conf_has(&cf, "min-lr") && !nr_conf_has(&cf, "checkpoint") &&
              !nr_conf_has(&cf, "checkpoint-every"));
        CHECK_INT_EQ(nr_params_from_conf(&cf, &STD_TABLE, &back, skip, NULL, &e), 0);
        CHECK_INT_EQ(back.layers, 5);
        CHECK(back.lr == 0.1);              /* exact: 17 digits */
        CHECK_STR_EQ(back.checkpoint, ""); /* not stored: the default */
        nr_conf_free(&cf);
        nr_mf_buf_free(&mb);
        /* a key missing: an error naming the section, unless the row is optional */
        nr_mf_buf_init(&mb);
        static const char *const skip2[] = {"checkpoint", "checkpoint-every", "layers", NULL};
        CHECK_INT_EQ(nr_params_to_conf(&mb, &STD_TABLE, &sp, skip2, &e), 0);
        memset(&cf, 0, sizeof cf);
        CHECK_INT_EQ(nr_conf_parse(&cf, mb.data, mb.len, "m.nrm: section CONF", &e), 0);
        CHECK_INT_EQ(nr_params_from_conf(&cf, &STD_TABLE, &back, skip, NULL, &e), NLPRNN_E_FORMAT);
        CHECK_MSG(strstr(e.message, "m.nrm: section CONF") && strstr(e.message, "layers"), "%s", e.message);
        static const char *const optional[] = {"layers", NULL};
        back.layers = 2;
        CHECK_INT_EQ(nr_params_from_conf(&cf, &STD_TABLE, &back, skip, optional, &e), 0);
        CHECK_INT_EQ(back.layers, 2);
        nr_conf_free(&cf);
        nr_mf_buf_free(&mb);
        /* a value the table refuses: a bad file (FORMAT), with the table's message */
        static const char bad[] = "layers=9\nepochs=7\nlr=0.1\nmin-lr=0.01\nclip=1\npatience=0\ntime-limit=0\n";
        memset(&cf, 0, sizeof cf);
        CHECK_INT_EQ(nr_conf_parse(&cf, bad, sizeof bad - 1, "m.nrm: section CONF", &e), 0);
        CHECK_INT_EQ(nr_params_from_conf(&cf, &STD_TABLE, &back, skip, NULL, &e), NLPRNN_E_FORMAT);
        CHECK_MSG(strstr(e.message, "m.nrm: section CONF: std parameter layers: '9' is not valid (expected 1..8)"),
                  "%s", e.message);
        nr_conf_free(&cf);
    }

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return nr_test_done("test_trainer");
}

/* tasks/forecast/train.c: the forecaster's parameters and its training task (train/trainer.h).
 *
 * What the task gives the trainer (docs/architecture.md walks through it):
 *   batch source   epoch e: the training windows in an order shuffled by one random stream
 *                  (seeded by `seed`, continued from the weight initialisation); batch b: windows
 *                  [b B, b B + B) of that order (over ranks: this rank's slice of them)
 *   step           gather the windows (corpora/series.h), forward, MSE, backward
 *   validation     MSE of the validation windows (the weights with the lowest one are kept)
 *   file sections  the data's shape and scaler (a resume must see the same series), the loss
 *                  history so far, the weights as tensor "params"
 * The order of epoch e is a function of (seed, e): a resumed run replays the shuffles of the
 * epochs before it, so the checkpoint holds no random state.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "format/modelfile.h"
#include "tasks/forecast/forecaster.h"
#include "train/ctl.h"
#include "train/trainer.h"

/* ---- parameters --------------------------------------------------------------------------- */

#define OFF(f) offsetof(struct nlprnn_forecaster_params, f)
static const nr_param ROWS[] = {
    {"cell", NR_PARAM_ENUM, OFF(cell), 0, 0, 0, "rnn lstm gru", "lstm", "recurrent cell", 0},
    {"hidden", NR_PARAM_INT, OFF(hidden), 0, 1, 4096, NULL, "32", "units per layer", 0},
    {"layers", NR_PARAM_INT, OFF(layers), 0, 1, NR_ENCODER_MAX_LAYERS, NULL, "1", "stacked layers", 0},
    {"window", NR_PARAM_INT, OFF(window), 0, 1, 100000, NULL, "30", "input steps", 0},
    {"horizon", NR_PARAM_INT, OFF(horizon), 0, 1, 100000, NULL, "1", "steps ahead of the window's end", 0},
    {"target", NR_PARAM_INT, OFF(target), 0, 0, 255, NULL, "0", "target column (index into the series' columns)", 0},
    {"scaler", NR_PARAM_ENUM, OFF(scaler), 0, 0, 0, "none minmax standard", "minmax",
     "scaling fitted on the training rows only", 0},
    {"relative", NR_PARAM_INT, OFF(relative), 0, 0, 1, NULL, "0",
     "1: windows and target relative to the window's last row", 0},
    {"train", NR_PARAM_DBL, OFF(train), 0, 0, 1, NULL, "0.7", "fraction of rows for training", NR_PARAM_OPEN_LO},
    {"valid", NR_PARAM_DBL, OFF(valid), 0, 0, 1, NULL, "0.15", "fraction of rows for validation", 0},
    {"epochs", NR_PARAM_INT, OFF(epochs), 0, 1, 1000000, NULL, "30", "passes over the training windows",
     NR_PARAM_RESUME_OK},
    {"batch", NR_PARAM_INT, OFF(batch), 0, 1, 65536, NULL, "32", "windows per batch", 0},
    {"lr", NR_PARAM_DBL, OFF(lr), 0, 0, 100, NULL, "0.005", "learning rate (Adam)", NR_PARAM_OPEN_LO},
    {"clip", NR_PARAM_DBL, OFF(clip), 0, 0, 1e30, NULL, "1", "clip gradients by global norm (0: off)", 0},
    {"ma", NR_PARAM_INT, OFF(ma), 0, 0, 100000, NULL, "0", "moving-average baseline length (0: window)", 0},
    {"patience", NR_PARAM_INT, OFF(patience), 0, 0, 1000000, NULL, "0",
     "stop after this many epochs without a lower validation loss (0: never)", NR_PARAM_RESUME_OK},
    {"threads", NR_PARAM_INT, OFF(threads), 0, 1, NR_MAX_THREADS, NULL, "1", "threads in the recurrence", 0},
    {"seed", NR_PARAM_U64, OFF(seed), 0, 0, 0, NULL, "1", "random seed", 0},
    {"checkpoint", NR_PARAM_STR, OFF(checkpoint), sizeof(((struct nlprnn_forecaster_params *)0)->checkpoint), 0, 0,
     NULL, "", "checkpoint file (\"\": none; forecast train: MODEL.ckpt)", NR_PARAM_RESUME_OK},
    {"checkpoint-every", NR_PARAM_LL, OFF(checkpoint_every), 0, 0, 1e15, NULL, "0",
     "also write the checkpoint every N batches (0: at epoch ends and on stop)", NR_PARAM_RESUME_OK},
};
#undef OFF
static const nr_param_table TABLE = {"forecast parameter", ROWS, sizeof ROWS / sizeof ROWS[0]};

const nr_param_table *nr_forecast_param_table(void) { return &TABLE; }

void nr_forecast_params_default(struct nlprnn_forecaster_params *p) {
    memset(p, 0, sizeof *p);
    nr_params_reset(&TABLE, p, NULL); /* the table's defaults are valid (test_forecast checks) */
}

int nlprnn_forecaster_params_create(nlprnn_forecaster_params **out, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast parameters: out is NULL");
    *out = malloc(sizeof **out);
    if (!*out) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast parameters: out of memory");
    nr_forecast_params_default(*out);
    return NLPRNN_OK;
}

void nlprnn_forecaster_params_free(nlprnn_forecaster_params *p) { free(p); }

int nlprnn_forecaster_params_set(nlprnn_forecaster_params *p, const char *name, const char *value,
                               nlprnn_error *err) {
    return nr_params_set(&TABLE, p, name, value, err);
}

int nlprnn_forecaster_param_info(int i, const char **name, const char **def, const char **help, char *range,
                                 size_t cap, nlprnn_error *err) {
    return nr_param_info(&TABLE, i, name, def, help, range, cap, err);
}

int nr_forecast_params_format(const struct nlprnn_forecaster_params *p, const char *name, char *buf,
                              size_t cap) {
    const nr_param *row = nr_param_find(&TABLE, name);
    if (!row) return 0;
    if (!strcmp(name, "ma")) snprintf(buf, cap, "%d", p->ma ? p->ma : p->window); /* the effective length */
    else nr_param_format(row, p, buf, cap);
    return 1;
}

int nlprnn_forecaster_params_get(const nlprnn_forecaster_params *p, const char *name, char *buf,
                               size_t cap, nlprnn_error *err) {
    if (!p || !name || !buf || !cap)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast parameter: NULL argument");
    char tmp[1200];
    if (!nr_forecast_params_format(p, name, tmp, sizeof tmp)) return nr_params_get(&TABLE, p, name, buf, cap, err);
    if (strlen(tmp) >= cap) return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "forecast parameter %s: buffer too small", name);
    memcpy(buf, tmp, strlen(tmp) + 1);
    return NLPRNN_OK;
}

/* ---- the training task ---------------------------------------------------------------------- */

typedef struct fc_task {
    nlprnn_forecaster *f;
    const nlprnn_series *s;
    const nr_comm *comm;   /* NULL: one process */
    float *z;              /* (n,F) the scaled series */
    size_t tr_first, tr_count, va_first, va_count;
    size_t *order;         /* (tr_count) window start rows in this epoch's order */
    int B;                 /* windows per batch */
    nr_fc_scratch sc;
    nr_rng rng, rng0;      /* the order's stream; rng0: its state after the weight initialisation */
    int begun;             /* the last epoch whose order is in `order` (-1: none) */
    size_t at;             /* the current batch: windows order[at .. at + nb) */
    int nb;
} fc_task;

static int fc_begin_epoch(void *self, int epoch, long long *batches, nlprnn_error *err) {
    (void)err;
    fc_task *t = self;
    if (epoch != t->begun + 1) { /* a resumed run: replay the shuffles of the epochs before */
        t->rng = t->rng0;
        for (size_t i = 0; i < t->tr_count; i++) t->order[i] = t->tr_first + i;
        t->begun = -1;
    }
    while (t->begun < epoch) {
        nr_rng_shuffle(&t->rng, t->order, t->tr_count, sizeof *t->order);
        t->begun++;
    }
    *batches = (long long)((t->tr_count + (size_t)t->B - 1) / (size_t)t->B);
    return NLPRNN_OK;
}

static int fc_prepare(void *self, int epoch, long long batch, int *n, nlprnn_error *err) {
    (void)epoch, (void)err;
    fc_task *t = self;
    size_t i = (size_t)batch * (size_t)t->B;
    int nb = t->tr_count - i < (size_t)t->B ? (int)(t->tr_count - i) : t->B;
    int lo = 0, hi = nb;
    if (t->comm && t->comm->size > 1) nr_split_range(nb, t->comm->rank, t->comm->size, &lo, &hi);
    t->at = i + (size_t)lo;
    t->nb = hi - lo;
    *n = t->nb;
    return NLPRNN_OK;
}

static int fc_step(void *self, int epoch, long long batch, int w, int W, float *grad, nr_step_stats *st,
                   const int **rows, size_t *n_rows, nlprnn_error *err) {
    (void)epoch, (void)batch, (void)w, (void)W, (void)rows, (void)n_rows;
    fc_task *t = self;
    if (t->nb <= 0) return NLPRNN_OK;
    double loss = 0;
    nr_fc_gather(&t->sc, t->f, t->z, t->order + t->at, t->nb);
    int rc = nr_fc_forward(&t->sc, t->f, t->nb, err);
    if (!rc) rc = nr_fc_backward(&t->sc, t->f, grad, t->nb, &loss, err);
    st->loss = loss * t->nb;
    st->count = t->nb;
    st->tokens = (double)t->nb * t->f->p.window;
    return rc;
}

static int fc_validate(void *self, nr_valid *v, nlprnn_error *err) {
    fc_task *t = self;
    v->has = t->va_count > 0;
    v->score = NAN;
    v->loss = NAN;
    if (!v->has) return NLPRNN_OK;
    return nr_fc_predict_range(t->f, t->z, t->va_first, t->va_count, NULL, &v->loss, err);
}

static void fc_epoch_done(void *self, int epoch, double train_loss, const nr_valid *v) {
    fc_task *t = self;
    t->f->hist_train[epoch] = train_loss;
    t->f->hist_valid[epoch] = v->has ? v->loss : NAN;
    t->f->epochs = epoch + 1;
}

/* The data's shape and scaler (exact), and the loss history of the epochs done. */
static int fc_save(void *self, nr_mf_writer *w, nr_mf_buf *conf, int epoch, long long batch,
                   nlprnn_error *err) {
    (void)epoch, (void)batch;
    fc_task *t = self;
    const nlprnn_forecaster *f = t->f;
    int rc = nr_conf_put_int(conf, "data.rows", (long long)t->s->n, err);
    if (!rc) rc = nr_conf_put_int(conf, "data.features", f->nfeat, err);
    for (int j = 0; !rc && j < f->nfeat; j++) {
        char key[64];
        snprintf(key, sizeof key, "data.scaler_a.%d", j);
        rc = nr_conf_put_float(conf, key, f->sc.a[j], err);
        snprintf(key, sizeof key, "data.scaler_b.%d", j);
        if (!rc) rc = nr_conf_put_float(conf, key, f->sc.b[j], err);
    }
    if (!rc) rc = nr_conf_put_int(conf, "history.epochs", f->epochs, err);
    if (!rc && f->epochs > 0) { /* doubles, little-endian: train[epochs] then valid[epochs] */
        size_t n = (size_t)f->epochs;
        unsigned char *raw = nr_malloc_array(n, 16);
        if (!raw) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        for (size_t i = 0; i < 2 * n; i++) {
            double d = i < n ? f->hist_train[i] : f->hist_valid[i - n];
            uint64_t u;
            memcpy(&u, &d, 8);
            for (int k = 0; k < 8; k++) raw[i * 8 + (size_t)k] = (unsigned char)(u >> (8 * k));
        }
        rc = nr_mf_add(w, "HIST", NR_MF_RAW, raw, n * 16, 0, err);
        free(raw);
    }
    return rc;
}

static int fc_load(void *self, const nr_mf_reader *r, const nr_conf *c, nlprnn_error *err) {
    fc_task *t = self;
    nlprnn_forecaster *f = t->f;
    long long rows = 0, feats = 0, ep = 0, done = 0;
    int rc = nr_conf_get_int(c, "data.rows", &rows, err);
    if (!rc) rc = nr_conf_get_int(c, "data.features", &feats, err);
    int same = !rc && rows == (long long)t->s->n && feats == f->nfeat;
    for (int j = 0; same && j < f->nfeat; j++) {
        char key[64];
        double a = 0, b = 0;
        snprintf(key, sizeof key, "data.scaler_a.%d", j);
        rc = nr_conf_get_float(c, key, &a, err);
        snprintf(key, sizeof key, "data.scaler_b.%d", j);
        if (!rc) rc = nr_conf_get_float(c, key, &b, err);
        same = !rc && a == f->sc.a[j] && b == f->sc.b[j];
    }
    if (rc) return rc;
    if (!same)
        return nr_fail(err, NLPRNN_E_STATE, -1, -1,
                       "%s: the checkpoint was made on other data (%lld rows of %lld columns, or another "
                       "scaling; this series: %zu rows of %d)",
                       c->where, rows, feats, t->s->n, f->nfeat);
    rc = nr_conf_get_int(c, "history.epochs", &ep, err);
    if (!rc) rc = nr_conf_get_int(c, "state.epoch", &done, err);
    if (!rc && (ep < 0 || ep > f->p.epochs || ep > done))
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: history.epochs = %lld is out of range", c->where, ep);
    if (rc || ep == 0) {
        f->epochs = 0;
        return rc;
    }
    const nr_mf_section *h = NULL;
    rc = nr_mf_require(r, "HIST", &h, err);
    if (!rc && h->raw_len != (uint64_t)ep * 16)
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: section HIST has %llu bytes, %lld epochs need %lld",
                     nr_mf_name(r), (unsigned long long)h->raw_len, ep, ep * 16);
    for (size_t i = 0; !rc && i < 2 * (size_t)ep; i++) {
        uint64_t u = 0;
        for (int k = 0; k < 8; k++) u |= (uint64_t)h->data[i * 8 + (size_t)k] << (8 * k);
        double d;
        memcpy(&d, &u, 8);
        if (i < (size_t)ep) f->hist_train[i] = d;
        else f->hist_valid[i - (size_t)ep] = d;
    }
    if (!rc) f->epochs = (int)ep;
    return rc;
}

static void fc_task_free(fc_task *t) {
    nr_fc_scratch_free(&t->sc);
    free(t->z);
    free(t->order);
}

/* Scaler, network, initial weights and the task's buffers for series s. */
static int fc_setup(fc_task *t, nlprnn_forecaster *f, const nlprnn_series *s, const nr_comm *comm,
                    nlprnn_error *err) {
    const struct nlprnn_forecaster_params *p = &f->p;
    memset(t, 0, sizeof *t);
    t->f = f;
    t->s = s;
    t->comm = comm;
    t->begun = -1;
    nr_split sp;
    int rc = nr_split_rows(&sp, s->n, p->train, p->valid, err);
    if (!rc) rc = nr_fc_check_series(f, s, err);
    if (rc) return rc;
    nr_split_samples(&sp, s->n, p->window, p->horizon, NLPRNN_PART_TRAIN, &t->tr_first, &t->tr_count);
    nr_split_samples(&sp, s->n, p->window, p->horizon, NLPRNN_PART_VALID, &t->va_first, &t->va_count);
    if (t->tr_count == 0)
        return nr_fail(err, NLPRNN_E_DATA, -1, -1,
                       "%s: the training part (%zu rows) is shorter than window %d + horizon %d",
                       nr_series_source(s), sp.n_train, p->window, p->horizon);
    f->names = nr_calloc_array((size_t)f->nfeat, sizeof *f->names);
    if (!f->names) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast: out of memory");
    for (int j = 0; j < f->nfeat; j++)
        if (!(f->names[j] = nr_strdup(s->names[j]))) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast: out of memory");
    if (p->relative) {
        /* fit on the first differences of the training rows, offset 0: z = x / b */
        size_t nd = sp.n_train > 1 ? sp.n_train - 1 : 0, F = (size_t)s->nfeat;
        double *d = nr_malloc_array(nd ? nd * F : 1, sizeof *d);
        if (!d) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast: out of memory");
        for (size_t i = 0; i < nd * F; i++) d[i] = s->x[i + F] - s->x[i];
        rc = nr_scaler_fit(&f->sc, p->scaler, d, nd, s->nfeat, (const char *const *)s->names, err);
        free(d);
        for (int j = 0; !rc && j < s->nfeat; j++) f->sc.a[j] = 0;
    } else {
        rc = nr_scaler_fit(&f->sc, p->scaler, s->x, sp.n_train, s->nfeat,
                           (const char *const *)s->names, err);
    }
    if (rc) {
        nr_fail_prefix(err, rc, NR_KEEP, NR_KEEP, "%.300s: ", nr_series_source(s));
        return rc;
    }
    rc = nr_fc_bind(f, NULL, err);
    if (rc) return rc;
    nr_rng_seed(&t->rng, p->seed);
    rc = nr_encoder_init(&f->enc, &t->rng, err);
    if (rc) return rc;
    nr_dense_init(&f->head, &t->rng);
    t->rng0 = t->rng;
    t->B = t->tr_count < (size_t)p->batch ? (int)t->tr_count : p->batch;
    rc = nr_fc_scale_series(f, s, &t->z, err);
    if (rc) return rc;
    t->order = nr_malloc_array(t->tr_count, sizeof *t->order);
    f->hist_train = nr_malloc_array((size_t)p->epochs, sizeof(double));
    f->hist_valid = nr_malloc_array((size_t)p->epochs, sizeof(double));
    if (!t->z || !t->order || !f->hist_train || !f->hist_valid)
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast: out of memory");
    for (size_t i = 0; i < t->tr_count; i++) t->order[i] = t->tr_first + i;
    return nr_fc_scratch_init(&t->sc, f, t->B, 1, err);
}

/* The trainer's progress -> the forecaster's per-epoch callback. */
typedef struct fc_progress {
    nlprnn_forecaster_progress_fn fn;
    void *user;
} fc_progress;

static int fc_on_progress(void *user, const nr_train_progress *pr) {
    fc_progress *c = user;
    if (pr->phase != NR_TP_EPOCH || !c->fn) return 0;
    return c->fn(c->user, pr->epoch, pr->loss, pr->valid.has ? pr->valid.loss : NAN);
}

int nlprnn_forecaster_train_ctl(const nlprnn_series *s, const nlprnn_forecaster_params *p,
                                const nlprnn_train_ctl *ctl, nlprnn_forecaster_progress_fn progress,
                                void *user, nlprnn_forecaster **out, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: out is NULL");
    *out = NULL;
    if (!s || !p) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: series or parameters are NULL");
    if (p->target >= s->nfeat)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "forecast: target column %d, but the series has %d column%s", p->target,
                       s->nfeat, s->nfeat == 1 ? "" : "s");
    int resume = ctl && ctl->resume;
    if (resume && !p->checkpoint[0])
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: resume needs the checkpoint parameter");
    nlprnn_forecaster *f = calloc(1, sizeof *f);
    if (!f) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast: out of memory");
    f->p = *p;
    f->nfeat = s->nfeat;
    fc_task t;
    nr_train_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    int rc = fc_setup(&t, f, s, ctl ? ctl->comm : NULL, err);
    if (!rc) rc = nr_train_cfg_std(&cfg, "forecaster", &TABLE, p, ctl, err);
    if (!rc) {
        nr_task task = {
            .self = &t,
            .name = "forecaster",
            .params = f->params,
            .n_params = f->n_params,
            .sparse_skip = -1,
            .begin_epoch = fc_begin_epoch,
            .prepare = fc_prepare,
            .step = fc_step,
            .validate = fc_validate,
            .save = fc_save,
            .load = fc_load,
            .epoch_done = fc_epoch_done,
            .flags = NR_TASK_LOCAL_MEAN,
        };
        fc_progress pc = {progress, user};
        cfg.progress = fc_on_progress;
        cfg.user = &pc;
        nr_train_result res;
        rc = nr_train(&cfg, &task, &res, err);
        if (!rc) f->best_epoch = res.best_epoch;
    }
    nr_train_cfg_done(&cfg);
    fc_task_free(&t);
    if (rc) {
        nlprnn_forecaster_free(f);
        return rc;
    }
    *out = f;
    return NLPRNN_OK;
}

int nlprnn_forecaster_train(const nlprnn_series *s, const nlprnn_forecaster_params *p,
                            nlprnn_forecaster_progress_fn progress, void *user,
                            nlprnn_forecaster **out, nlprnn_error *err) {
    return nlprnn_forecaster_train_ctl(s, p, NULL, progress, user, out, err);
}

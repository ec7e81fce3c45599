/* tasks/forecast/forecaster.c: many-to-one recurrent regression on numeric series, its baselines and
 * metrics, model files of kind "FCST", and the gradient-flow experiments of `nlprnn gradflow`. */
#include "tasks/forecast/forecaster.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "models/modelfile.h"

/* ---- parameters --------------------------------------------------------------------------- */

void nr_forecast_params_default(struct nlprnn_forecast_params *p) {
    memset(p, 0, sizeof *p);
    p->cell = NR_CELL_LSTM;
    p->hidden = 32;
    p->layers = 1;
    p->window = 30;
    p->horizon = 1;
    p->target = 0;
    p->scaler = NR_SCALER_MINMAX;
    p->train = 0.7;
    p->valid = 0.15;
    p->epochs = 30;
    p->batch = 32;
    p->lr = 0.005;
    p->clip = 1.0;
    p->ma = 0;
    p->patience = 0;
    p->threads = 1;
    p->relative = 0;
    p->seed = 1;
}

nlprnn_forecast_params *nlprnn_forecast_params_new(void) {
    nlprnn_forecast_params *p = malloc(sizeof *p);
    if (p) nr_forecast_params_default(p);
    return p;
}

void nlprnn_forecast_params_free(nlprnn_forecast_params *p) { free(p); }

static int parse_int(const char *v, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno || x < lo || x > hi) return 0;
    *out = (int)x;
    return 1;
}

static int parse_real(const char *v, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || errno || !isfinite(x) || x < lo || x > hi) return 0;
    *out = x;
    return 1;
}

int nlprnn_forecast_params_set(nlprnn_forecast_params *p, const char *name, const char *value,
                               nlprnn_error *err) {
    if (!p || !name || !value)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast parameter: NULL argument");
    int ok = 0;
    const char *range = "";
    if (!strcmp(name, "cell")) {
        int c = nr_cell_from_name(value);
        ok = c >= 0, range = "rnn, lstm or gru";
        if (ok) p->cell = c;
    } else if (!strcmp(name, "scaler")) {
        int k = nr_scaler_kind(value);
        ok = k >= 0, range = "minmax, standard or none";
        if (ok) p->scaler = k;
    } else if (!strcmp(name, "hidden")) {
        ok = parse_int(value, 1, 4096, &p->hidden), range = "1..4096";
    } else if (!strcmp(name, "layers")) {
        ok = parse_int(value, 1, NR_ENCODER_MAX_LAYERS, &p->layers), range = "1..16";
    } else if (!strcmp(name, "window")) {
        ok = parse_int(value, 1, 100000, &p->window), range = "1..100000";
    } else if (!strcmp(name, "horizon")) {
        ok = parse_int(value, 1, 100000, &p->horizon), range = "1..100000";
    } else if (!strcmp(name, "target")) {
        ok = parse_int(value, 0, 255, &p->target), range = "0..255";
    } else if (!strcmp(name, "epochs")) {
        ok = parse_int(value, 1, 1000000, &p->epochs), range = "1..1000000";
    } else if (!strcmp(name, "batch")) {
        ok = parse_int(value, 1, 65536, &p->batch), range = "1..65536";
    } else if (!strcmp(name, "ma")) {
        ok = parse_int(value, 0, 100000, &p->ma), range = "0..100000";
    } else if (!strcmp(name, "patience")) {
        ok = parse_int(value, 0, 1000000, &p->patience), range = "0..1000000";
    } else if (!strcmp(name, "relative")) {
        ok = parse_int(value, 0, 1, &p->relative), range = "0 or 1";
    } else if (!strcmp(name, "threads")) {
        ok = parse_int(value, 1, NR_MAX_THREADS, &p->threads), range = "1..16";
    } else if (!strcmp(name, "train")) {
        ok = parse_real(value, 1e-9, 1, &p->train), range = "(0, 1]";
    } else if (!strcmp(name, "valid")) {
        ok = parse_real(value, 0, 1, &p->valid), range = "[0, 1]";
    } else if (!strcmp(name, "lr")) {
        ok = parse_real(value, 1e-12, 100, &p->lr), range = "(0, 100]";
    } else if (!strcmp(name, "clip")) {
        ok = parse_real(value, 0, 1e30, &p->clip), range = ">= 0";
    } else if (!strcmp(name, "seed")) {
        char *end;
        errno = 0;
        unsigned long long s = strtoull(value, &end, 10);
        ok = end != value && !*end && !errno && value[0] != '-', range = "0..2^64-1";
        if (ok) p->seed = s;
    } else {
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "forecast parameter '%s' does not exist (cell, hidden, layers, window, "
                       "horizon, target, scaler, relative, train, valid, epochs, batch, lr, clip, "
                       "ma, patience, threads, seed)", name);
    }
    if (!ok)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "forecast parameter %s: '%s' is not valid (expected %s)", name, value, range);
    return 0;
}

/* Format one named setting of p into buf; 1 if the name is known. */
static int params_format(const struct nlprnn_forecast_params *p, const char *name, char *buf,
                         size_t cap) {
    if (!strcmp(name, "cell")) snprintf(buf, cap, "%s", nr_cell_name(p->cell));
    else if (!strcmp(name, "scaler")) snprintf(buf, cap, "%s", nr_scaler_name(p->scaler));
    else if (!strcmp(name, "hidden")) snprintf(buf, cap, "%d", p->hidden);
    else if (!strcmp(name, "layers")) snprintf(buf, cap, "%d", p->layers);
    else if (!strcmp(name, "window")) snprintf(buf, cap, "%d", p->window);
    else if (!strcmp(name, "horizon")) snprintf(buf, cap, "%d", p->horizon);
    else if (!strcmp(name, "target")) snprintf(buf, cap, "%d", p->target);
    else if (!strcmp(name, "epochs")) snprintf(buf, cap, "%d", p->epochs);
    else if (!strcmp(name, "batch")) snprintf(buf, cap, "%d", p->batch);
    else if (!strcmp(name, "ma")) snprintf(buf, cap, "%d", p->ma ? p->ma : p->window);
    else if (!strcmp(name, "patience")) snprintf(buf, cap, "%d", p->patience);
    else if (!strcmp(name, "threads")) snprintf(buf, cap, "%d", p->threads);
    else if (!strcmp(name, "relative")) snprintf(buf, cap, "%d", p->relative);
    else if (!strcmp(name, "train")) snprintf(buf, cap, "%.17g", p->train);
    else if (!strcmp(name, "valid")) snprintf(buf, cap, "%.17g", p->valid);
    else if (!strcmp(name, "lr")) snprintf(buf, cap, "%.17g", p->lr);
    else if (!strcmp(name, "clip")) snprintf(buf, cap, "%.17g", p->clip);
    else if (!strcmp(name, "seed")) snprintf(buf, cap, "%llu", (unsigned long long)p->seed);
    else return 0;
    return 1;
}

int nlprnn_forecast_params_get(const nlprnn_forecast_params *p, const char *name, char *buf,
                               size_t cap, nlprnn_error *err) {
    if (!p || !name || !buf || !cap)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast parameter: NULL argument");
    if (!params_format(p, name, buf, cap))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast parameter '%s' does not exist", name);
    return 0;
}

/* ---- the model: bind, batches, forward/backward --------------------------------------------- */

void nlprnn_forecaster_free(nlprnn_forecaster *f) {
    if (!f) return;
    if (f->names)
        for (int j = 0; j < f->nfeat; j++) free(f->names[j]);
    free(f->names);
    nr_scaler_free(&f->sc);
    free(f->params);
    free(f->hist_train);
    free(f->hist_valid);
    free(f);
}

/* Allocate and bind the parameter block for f->p and f->nfeat (values not initialised). */
/* Sizes of the network (n_enc, n_params) from the settings; with r, the file must hold that
 * many weights (checked before they are allocated). */
static int forecaster_bind(nlprnn_forecaster *f, const nr_mf_reader *r, nlprnn_error *err) {
    nr_encoder_cfg cfg;
    nr_encoder_cfg_default(&cfg, f->nfeat, f->p.hidden);
    cfg.cell = f->p.cell;
    cfg.layers = f->p.layers;
    f->n_enc = nr_encoder_param_count(&cfg);
    if (!f->n_enc) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: invalid encoder configuration");
    f->n_params = f->n_enc + nr_dense_param_count(f->p.hidden, 1);
    if (r) { /* sizes the file's weights cannot hold are a bad file, not a huge allocation */
        char sizes[160];
        snprintf(sizes, sizeof sizes, "features %d hidden %d layers %d cell %s", f->nfeat,
                 f->p.hidden, f->p.layers, nr_cell_name(f->p.cell));
        int rc = nr_mf_check_weight_count(r, "WGHT", f->n_params, sizes, err);
        if (rc) return rc;
    }
    f->params = nr_calloc_array(f->n_params, sizeof *f->params);
    if (!f->params) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast: out of memory");
    int rc = nr_encoder_bind(&f->enc, &cfg, f->params, err);
    if (rc) return rc;
    nr_dense_bind(&f->head, f->p.hidden, 1, f->params + f->n_enc);
    return 0;
}

/* Scratch for batches of up to max_B windows. */
typedef struct fc_scratch {
    nr_encoder_ws *ws;
    int max_B;
    float *x;    /* (W,B,F) */
    float *out;  /* (W,B,H) */
    float *hn;   /* (L,B,H) */
    float *cn;   /* (L,B,H) */
    float *pred; /* (B) */
    float *y;    /* (B) */
    float *dpred;/* (B) */
    float *dh;   /* (L,B,H): zero except the last layer */
} fc_scratch;

static void scratch_free(fc_scratch *s) {
    nr_encoder_ws_free(s->ws);
    free(s->x);
    free(s->out);
    free(s->hn);
    free(s->cn);
    free(s->pred);
    free(s->y);
    free(s->dpred);
    free(s->dh);
    memset(s, 0, sizeof *s);
}

static int scratch_init(fc_scratch *s, const nlprnn_forecaster *f, int max_B, int training,
                        nlprnn_error *err) {
    memset(s, 0, sizeof *s);
    size_t W = (size_t)f->p.window, B = (size_t)max_B, H = (size_t)f->p.hidden,
           L = (size_t)f->p.layers, F = (size_t)f->nfeat;
    s->max_B = max_B;
    s->ws = nr_encoder_ws_create(&f->enc, f->p.window, max_B, training, f->p.threads, err);
    if (!s->ws) return err && err->code ? err->code : NLPRNN_E_NOMEM;
    s->x = nr_malloc_array(W * B * F, sizeof(float));
    s->out = nr_malloc_array(W * B * H, sizeof(float));
    s->hn = nr_malloc_array(L * B * H, sizeof(float));
    s->cn = nr_malloc_array(L * B * H, sizeof(float));
    s->pred = nr_malloc_array(B, sizeof(float));
    s->y = nr_malloc_array(B, sizeof(float));
    s->dpred = nr_malloc_array(B, sizeof(float));
    s->dh = nr_calloc_array(L * B * H, sizeof(float));
    if (!s->x || !s->out || !s->hn || !s->cn || !s->pred || !s->y || !s->dpred || !s->dh) {
        scratch_free(s);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast: out of memory");
    }
    return 0;
}

/* Gather B windows into s->x (W,B,F) and targets into s->y from the scaled series z (n,F):
 * window b starts at row idx[b]. Relative mode: every row of a window and its target are taken
 * relative to the window's last row (x_t - x_last), so the model predicts the change from the
 * last value (persistence is a prediction of 0). */
static void gather(fc_scratch *s, const nlprnn_forecaster *f, const float *z, const size_t *idx,
                   int B) {
    size_t W = (size_t)f->p.window, F = (size_t)f->nfeat, tgt = (size_t)f->p.target;
    for (int b = 0; b < B; b++) {
        size_t r0 = idx[b];
        const float *last = z + (r0 + W - 1) * F; /* the window's last row */
        for (size_t t = 0; t < W; t++) {
            float *row = s->x + (t * (size_t)B + (size_t)b) * F;
            memcpy(row, z + (r0 + t) * F, F * sizeof(float));
            if (f->p.relative)
                for (size_t j = 0; j < F; j++) row[j] -= last[j];
        }
        s->y[b] = z[(r0 + W - 1 + (size_t)f->p.horizon) * F + tgt] - (f->p.relative ? last[tgt] : 0.0f);
    }
}

/* Forward of s->x (W,B,F): s->pred (B) in scaled units. */
static int forward(fc_scratch *s, const nlprnn_forecaster *f, int B, nlprnn_error *err) {
    int rc = nr_encoder_forward(&f->enc, s->ws, s->out, s->hn, s->cn, s->x, NULL, NULL, NULL,
                                f->p.window, B, NULL, err);
    if (rc) return rc;
    const float *hlast = s->hn + (size_t)(f->p.layers - 1) * (size_t)B * (size_t)f->p.hidden; /* (B,H) */
    nr_dense_forward(&f->head, s->pred, hlast, B);
    return 0;
}

/* MSE on s->y, backward into grad (n_params). Returns the loss via *loss. */
static int backward(fc_scratch *s, const nlprnn_forecaster *f, float *grad, int B, double *loss,
                    nlprnn_error *err) {
    size_t H = (size_t)f->p.hidden, off = (size_t)(f->p.layers - 1) * (size_t)B * H;
    *loss = nr_mse(s->dpred, s->pred, s->y, NULL, B, NULL);
    memset(s->dh, 0, (size_t)f->p.layers * (size_t)B * H * sizeof(float));
    nr_dense_backward(&f->head, grad + f->n_enc, s->dh + off, s->dpred, s->hn + off, B);
    return nr_encoder_backward(&f->enc, s->ws, grad, NULL, NULL, NULL, NULL, s->dh, NULL, err);
}

/* "temps.csv:12: column 'Temp'" (or "series: row 12: column 'x0'") for messages about row i. */
static void where_row(char *buf, size_t cap, const nlprnn_series *s, size_t i, size_t j) {
    if (s->lines)
        snprintf(buf, cap, "%.300s:%lld: column '%.100s'", nr_series_source(s), s->lines[i],
                 s->names[j]);
    else
        snprintf(buf, cap, "%.300s: row %zu: column '%.100s'", nr_series_source(s), i + 1,
                 s->names[j]);
}

/* The whole series scaled to float (n,F) into *out. A value whose scaled form is beyond the
 * float range the network computes in (1e308 among values of about 20) is NLPRNN_E_DATA naming
 * its file:line and column: it would otherwise run through the network as an infinity. */
static int scale_series(const nlprnn_forecaster *f, const nlprnn_series *s, float **out,
                        nlprnn_error *err) {
    size_t n = s->n, F = (size_t)f->nfeat;
    float *z = *out = nr_malloc_array(n * F, sizeof *z);
    if (!z) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast: out of memory");
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < F; j++) {
            double v = nr_scale(&f->sc, (int)j, s->x[i * F + j]);
            if (!(fabs(v) <= FLT_MAX)) {
                char w[512];
                where_row(w, sizeof w, s, i, j);
                free(z);
                *out = NULL;
                return nr_fail(err, NLPRNN_E_DATA, s->lines ? s->lines[i] : -1, -1,
                               "%s: value %g is %g in the model's scaled units, beyond the float "
                               "range the network computes in",
                               w, s->x[i * F + j], v);
            }
            z[i * F + j] = (float)v;
        }
    return NLPRNN_OK;
}

/* Predictions (scaled) for samples [first, first+count) into pred (count); mean MSE in *mse if
 * not NULL. */
static int predict_range(const nlprnn_forecaster *f, const float *z, size_t first, size_t count,
                         double *pred, double *mse, nlprnn_error *err) {
    fc_scratch s;
    int B = count < 256 ? (int)(count ? count : 1) : 256;
    int rc = scratch_init(&s, f, B, 0, err);
    if (rc) return rc;
    size_t idx[256];
    double se = 0;
    for (size_t i = 0; i < count; i += (size_t)B) {
        int nb = count - i < (size_t)B ? (int)(count - i) : B;
        for (int b = 0; b < nb; b++) idx[b] = first + i + (size_t)b;
        gather(&s, f, z, idx, nb);
        rc = forward(&s, f, nb, err);
        if (rc) break;
        for (int b = 0; b < nb; b++) {
            double d = (double)s.pred[b] - (double)s.y[b];
            se += d * d;
            if (pred) pred[i + (size_t)b] = s.pred[b];
        }
    }
    if (mse) *mse = count ? se / (double)count : NAN;
    scratch_free(&s);
    return rc;
}

/* ---- training ----------------------------------------------------------------------------- */

static int check_series(const nlprnn_forecaster *f, const nlprnn_series *s, nlprnn_error *err) {
    if (!s) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: series is NULL");
    if (s->nfeat != f->nfeat)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "%s: the series has %d column%s, the forecaster was trained on %d",
                       nr_series_source(s), s->nfeat, s->nfeat == 1 ? "" : "s", f->nfeat);
    size_t count;
    if (nlprnn_window_count(s->n, f->p.window, f->p.horizon, &count, NULL))
        return nlprnn_series_windows(s, f->p.target, f->p.window, f->p.horizon, 0, 1, NULL, NULL, err);
    return 0;
}

int nlprnn_forecaster_train(nlprnn_forecaster **out, const nlprnn_series *s,
                            const nlprnn_forecast_params *p, nlprnn_forecast_progress_fn progress,
                            void *user, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: out is NULL");
    *out = NULL;
    if (!s || !p) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: series or parameters are NULL");
    if (p->target >= s->nfeat)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "forecast: target column %d, but the series has %d column%s", p->target,
                       s->nfeat, s->nfeat == 1 ? "" : "s");
    nr_split sp;
    int rc = nr_split_rows(&sp, s->n, p->train, p->valid, err);
    if (rc) return rc;

    nlprnn_forecaster *f = calloc(1, sizeof *f);
    fc_scratch sc = {0};
    float *z = NULL, *grad = NULL, *best = NULL;
    size_t *order = NULL;
    nr_optim opt = {0};
    if (!f) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast: out of memory");
    f->p = *p;
    f->nfeat = s->nfeat;
    rc = check_series(f, s, err);
    if (rc) goto fail;
    size_t tr_first, tr_count, va_first, va_count;
    nr_split_samples(&sp, s->n, p->window, p->horizon, NLPRNN_PART_TRAIN, &tr_first, &tr_count);
    nr_split_samples(&sp, s->n, p->window, p->horizon, NLPRNN_PART_VALID, &va_first, &va_count);
    if (tr_count == 0) {
        rc = nr_fail(err, NLPRNN_E_DATA, -1, -1,
                     "%s: the training part (%zu rows) is shorter than window %d + horizon %d",
                     nr_series_source(s), sp.n_train, p->window, p->horizon);
        goto fail;
    }
    f->names = nr_calloc_array((size_t)f->nfeat, sizeof *f->names);
    if (!f->names) goto nomem;
    for (int j = 0; j < f->nfeat; j++)
        if (!(f->names[j] = nr_strdup(s->names[j]))) goto nomem;
    if (p->relative) {
        /* fit on the first differences of the training rows, offset 0: z = x / b */
        size_t nd = sp.n_train > 1 ? sp.n_train - 1 : 0, F = (size_t)s->nfeat;
        double *d = nr_malloc_array(nd ? nd * F : 1, sizeof *d);
        if (!d) goto nomem;
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
        goto fail;
    }
    rc = forecaster_bind(f, NULL, err);
    if (rc) goto fail;
    nr_rng rng;
    nr_rng_seed(&rng, p->seed);
    rc = nr_encoder_init(&f->enc, &rng, err);
    if (rc) goto fail;
    nr_dense_init(&f->head, &rng);

    int B = tr_count < (size_t)p->batch ? (int)tr_count : p->batch;
    rc = scale_series(f, s, &z, err);
    if (rc) goto fail;
    grad = nr_calloc_array(f->n_params, sizeof *grad);
    best = nr_malloc_array(f->n_params, sizeof *best);
    order = nr_malloc_array(tr_count, sizeof *order);
    f->hist_train = nr_malloc_array((size_t)p->epochs, sizeof(double));
    f->hist_valid = nr_malloc_array((size_t)p->epochs, sizeof(double));
    if (!z || !grad || !best || !order || !f->hist_train || !f->hist_valid) goto nomem;
    rc = scratch_init(&sc, f, B, 1, err);
    if (rc) goto fail;
    nr_optim_cfg ocfg;
    nr_optim_cfg_default(&ocfg, NR_OPT_ADAM);
    ocfg.lr = (float)p->lr;
    rc = nr_optim_init(&opt, &ocfg, f->n_params, err);
    if (rc) goto fail;
    for (size_t i = 0; i < tr_count; i++) order[i] = tr_first + i;

    double best_loss = INFINITY;
    int since_best = 0;
    for (int ep = 0; ep < p->epochs; ep++) {
        nr_rng_shuffle(&rng, order, tr_count, sizeof *order);
        double sum = 0;
        size_t seen = 0;
        for (size_t i = 0; i < tr_count; i += (size_t)B) {
            int nb = tr_count - i < (size_t)B ? (int)(tr_count - i) : B;
            gather(&sc, f, z, order + i, nb);
            double loss;
            rc = forward(&sc, f, nb, err);
            if (!rc) rc = backward(&sc, f, grad, nb, &loss, err);
            if (rc) goto fail;
            if (!isfinite(loss)) {
                rc = nr_fail(err, NLPRNN_E_NUMERIC, -1, -1,
                             "forecast: the training loss became %g in epoch %d (try a smaller lr "
                             "or clip)", loss, ep + 1);
                goto fail;
            }
            if (p->clip > 0) nr_clip_grad_norm(grad, f->n_params, p->clip);
            nr_optim_step(&opt, f->params, grad, (float)p->lr);
            memset(grad, 0, f->n_params * sizeof *grad);
            sum += loss * nb;
            seen += (size_t)nb;
        }
        double tl = sum / (double)seen, vl = NAN;
        if (va_count) {
            rc = predict_range(f, z, va_first, va_count, NULL, &vl, err);
            if (rc) goto fail;
        }
        f->hist_train[ep] = tl;
        f->hist_valid[ep] = vl;
        f->epochs = ep + 1;
        double crit = va_count ? vl : tl;
        if (!isfinite(crit)) {
            rc = nr_fail(err, NLPRNN_E_NUMERIC, -1, -1, "forecast: the loss became %g in epoch %d", crit, ep + 1);
            goto fail;
        }
        if (crit < best_loss || !va_count) {
            best_loss = crit;
            f->best_epoch = ep + 1;
            memcpy(best, f->params, f->n_params * sizeof *best);
            since_best = 0;
        } else {
            since_best++;
        }
        if (progress && progress(user, ep + 1, tl, vl)) {
            rc = nr_fail(err, NLPRNN_E_INTERRUPTED, -1, -1, "forecast: training stopped in epoch %d", ep + 1);
            goto fail;
        }
        if (p->patience > 0 && since_best >= p->patience) break;
    }
    memcpy(f->params, best, f->n_params * sizeof *best);
    scratch_free(&sc);
    nr_optim_free(&opt);
    free(z);
    free(grad);
    free(best);
    free(order);
    *out = f;
    return 0;
nomem:
    rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast: out of memory");
fail:
    scratch_free(&sc);
    nr_optim_free(&opt);
    free(z);
    free(grad);
    free(best);
    free(order);
    nlprnn_forecaster_free(f);
    return rc;
}

/* ---- evaluation --------------------------------------------------------------------------- */

/* RMSE, MAE, MAPE (percent over targets != 0) of pred against truth (n). When a sum overflows,
 * they are computed again relative to the largest error, so every metric is finite whenever
 * every error is. Returns -1, or the index of an error (or relative error, for MAPE) beyond the
 * double range. */
static long long metrics3(double *m, const double *pred, const double *truth, size_t n) {
    double mx = 0, mxr = 0, se = 0, ae = 0, ape = 0;
    size_t nz = 0;
    for (size_t i = 0; i < n; i++) {
        double d = pred[i] - truth[i], r = truth[i] != 0 ? fabs(d / truth[i]) : 0;
        if (!isfinite(d) || !isfinite(r)) return (long long)i;
        se += d * d;
        ae += fabs(d);
        ape += r;
        nz += truth[i] != 0;
        mx = fabs(d) > mx ? fabs(d) : mx;
        mxr = r > mxr ? r : mxr;
    }
    m[NLPRNN_METRIC_RMSE] = n ? sqrt(se / (double)n) : NAN;
    m[NLPRNN_METRIC_MAE] = n ? ae / (double)n : NAN;
    m[NLPRNN_METRIC_MAPE] = nz ? 100.0 * ape / (double)nz : NAN;
    if (isfinite(se) && isfinite(ae) && isfinite(100.0 * ape)) return -1;
    se = ae = ape = 0; /* again, in units of mx (mxr for ape) */
    for (size_t i = 0; i < n && mx > 0; i++) {
        double d = fabs(pred[i] - truth[i]) / mx;
        se += d * d;
        ae += d;
        if (truth[i] != 0 && mxr > 0) ape += fabs(pred[i] - truth[i]) / fabs(truth[i]) / mxr;
    }
    m[NLPRNN_METRIC_RMSE] = n ? mx * sqrt(se / (double)n) : NAN;
    m[NLPRNN_METRIC_MAE] = n ? mx * (ae / (double)n) : NAN;
    m[NLPRNN_METRIC_MAPE] = nz ? 100.0 * mxr * (ape / (double)nz) : NAN;
    if (nz && !isfinite(m[NLPRNN_METRIC_MAPE])) /* 100 * mxr beyond the range: name its row */
        for (size_t i = 0; i < n; i++)
            if (truth[i] != 0 && fabs(pred[i] - truth[i]) / fabs(truth[i]) == mxr) return (long long)i;
    return -1;
}

int nlprnn_forecaster_eval(const nlprnn_forecaster *f, const nlprnn_series *s, int part,
                           double *metrics, double **pred, double **truth, size_t *count,
                           size_t *first_row, nlprnn_error *err) {
    if (pred) *pred = NULL;
    if (truth) *truth = NULL;
    if (count) *count = 0;
    if (!f) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: forecaster is NULL");
    if (part < NLPRNN_PART_TRAIN || part > NLPRNN_PART_ALL)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: part %d is not 0..3", part);
    int rc = check_series(f, s, err);
    if (rc) return rc;
    nr_split sp;
    rc = nr_split_rows(&sp, s->n, f->p.train, f->p.valid, err);
    if (rc) return rc;
    size_t first, n;
    nr_split_samples(&sp, s->n, f->p.window, f->p.horizon, part, &first, &n);
    static const char *const part_names[] = {"training", "validation", "test", "whole"};
    if (n == 0)
        return nr_fail(err, NLPRNN_E_EMPTY, -1, -1, "%s: the %s part has no samples",
                       nr_series_source(s), part_names[part]);
    float *z = NULL;
    double *p = NULL, *y = NULL, *base = NULL;
    rc = scale_series(f, s, &z, err);
    if (rc) goto done;
    p = nr_malloc_array(n, sizeof *p), y = nr_malloc_array(n, sizeof *y),
    base = nr_malloc_array(n, sizeof *base);
    if (!p || !y || !base) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast: out of memory");
        goto done;
    }
    rc = predict_range(f, z, first, n, p, NULL, err);
    if (rc) goto done;
    size_t F = (size_t)f->nfeat, W = (size_t)f->p.window, tgt = (size_t)f->p.target;
    size_t ma = (size_t)(f->p.ma ? f->p.ma : f->p.window);
    for (size_t i = 0; i < n; i++) {
        size_t last = first + i + W - 1; /* the window's last row */
        p[i] = f->p.relative ? s->x[last * F + tgt] + p[i] * f->sc.b[tgt]
                             : nr_unscale(&f->sc, f->p.target, p[i]);
        y[i] = s->x[(last + (size_t)f->p.horizon) * F + tgt];
        if (!isfinite(p[i])) {
            char w[512];
            size_t row = last + (size_t)f->p.horizon;
            where_row(w, sizeof w, s, row, tgt);
            rc = nr_fail(err, NLPRNN_E_DATA, s->lines ? s->lines[row] : -1, -1,
                         "%s: the forecast for this row is beyond the double range in the "
                         "series' units (values too large to scale back)",
                         w);
            goto done;
        }
    }
    if (metrics) {
        long long bad = metrics3(metrics + NLPRNN_FORECAST_MODEL * NLPRNN_METRICS, p, y, n);
        const char *what = "the model's forecast";
        for (size_t i = 0; bad < 0 && i < n; i++) base[i] = s->x[(first + i + W - 1) * F + tgt];
        if (bad < 0) {
            bad = metrics3(metrics + NLPRNN_FORECAST_PERSISTENCE * NLPRNN_METRICS, base, y, n);
            what = "the persistence forecast";
        }
        for (size_t i = 0; bad < 0 && i < n; i++) {
            size_t last = first + i + W - 1, k = ma <= last + 1 ? ma : last + 1;
            double sum = 0;
            for (size_t r = last + 1 - k; r <= last; r++) sum += s->x[r * F + tgt];
            base[i] = sum / (double)k;
            if (!isfinite(base[i])) { /* the sum overflowed: divide first */
                sum = 0;
                for (size_t r = last + 1 - k; r <= last; r++) sum += s->x[r * F + tgt] / (double)k;
                base[i] = sum;
            }
        }
        if (bad < 0) {
            bad = metrics3(metrics + NLPRNN_FORECAST_MOVING_AVERAGE * NLPRNN_METRICS, base, y, n);
            what = "the moving-average forecast";
        }
        if (bad >= 0) {
            char w[512];
            size_t row = first + (size_t)bad + W - 1 + (size_t)f->p.horizon;
            where_row(w, sizeof w, s, row, tgt);
            rc = nr_fail(err, NLPRNN_E_DATA, s->lines ? s->lines[row] : -1, -1,
                         "%s: the error of %s at this row is beyond the double range (values "
                         "too large to measure)",
                         w, what);
            goto done;
        }
    }
    if (pred && truth) {
        *pred = p, *truth = y;
        p = y = NULL;
    }
    if (count) *count = n;
    if (first_row) *first_row = first + W - 1 + (size_t)f->p.horizon;
done:
    free(z);
    free(p);
    free(y);
    free(base);
    return rc;
}

int nlprnn_forecaster_predict(const nlprnn_forecaster *f, const double *history, size_t n,
                              int steps, double *out, nlprnn_error *err) {
    if (!f || !history || !out)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: NULL argument");
    if (steps < 1) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: steps %d < 1", steps);
    size_t W = (size_t)f->p.window, F = (size_t)f->nfeat;
    if (n < W)
        return nr_fail(err, NLPRNN_E_DATA, -1, -1,
                       "forecast: the history has %zu rows, the model's window is %zu", n, W);
    if (steps > 1 && (f->nfeat != 1 || f->p.horizon != 1))
        return nr_fail(err, NLPRNN_E_UNSUPPORTED, -1, -1,
                       "forecast: feeding predictions back (steps > 1) needs a single-feature "
                       "model with horizon 1 (this one has %d feature%s, horizon %d)",
                       f->nfeat, f->nfeat == 1 ? "" : "s", f->p.horizon);
    for (size_t i = (n - W) * F; i < n * F; i++)
        if (!isfinite(history[i]))
            return nr_fail(err, NLPRNN_E_DATA, -1, -1, "forecast: history value %zu is not finite", i);
    fc_scratch s;
    int rc = scratch_init(&s, f, 1, 0, err);
    if (rc) return rc;
    /* zw (W,F) holds the scaled window; it slides one step per prediction */
    float *zw = nr_malloc_array(W * F, sizeof *zw);
    if (!zw) {
        scratch_free(&s);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast: out of memory");
    }
    for (size_t t = 0; t < W && !rc; t++)
        for (size_t j = 0; j < F; j++) {
            double v = nr_scale(&f->sc, (int)j, history[(n - W + t) * F + j]);
            if (!(fabs(v) <= FLT_MAX)) {
                rc = nr_fail(err, NLPRNN_E_DATA, -1, -1,
                             "forecast: history row %zu, column %zu: value %g is %g in the "
                             "model's scaled units, beyond the float range the network computes in",
                             n - W + t + 1, j + 1, history[(n - W + t) * F + j], v);
                break;
            }
            zw[t * F + j] = (float)v;
        }
    size_t tgt = (size_t)f->p.target;
    for (int k = 0; k < steps && !rc; k++) {
        const float *last = zw + (W - 1) * F;
        for (size_t i = 0; i < W * F; i++) s.x[i] = zw[i] - (f->p.relative ? last[i % F] : 0.0f);
        rc = forward(&s, f, 1, err);
        if (rc) break;
        float znext = s.pred[0] + (f->p.relative ? last[tgt] : 0.0f); /* scaled value */
        out[k] = nr_unscale(&f->sc, f->p.target, znext);
        if (!isfinite(out[k]) || !isfinite(znext)) {
            rc = nr_fail(err, NLPRNN_E_DATA, -1, -1,
                         "forecast: prediction %d is beyond the double range in the series' "
                         "units (values too large to scale back)",
                         k + 1);
            break;
        }
        memmove(zw, zw + F, (W - 1) * F * sizeof(float));
        zw[(W - 1) * F] = znext;
    }
    free(zw);
    scratch_free(&s);
    return rc;
}

/* ---- settings and history ----------------------------------------------------------------- */

int nlprnn_forecaster_get(const nlprnn_forecaster *f, const char *name, char *buf, size_t cap,
                          nlprnn_error *err) {
    if (!f || !name || !buf || !cap)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: NULL argument");
    if (params_format(&f->p, name, buf, cap)) return 0;
    if (!strcmp(name, "features")) {
        snprintf(buf, cap, "%d", f->nfeat);
        return 0;
    }
    if (!strcmp(name, "best_epoch")) {
        snprintf(buf, cap, "%d", f->best_epoch);
        return 0;
    }
    int which = !strcmp(name, "columns") ? 0 : !strcmp(name, "scaler_a") ? 1 : !strcmp(name, "scaler_b") ? 2 : -1;
    if (which < 0)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: no setting '%s'", name);
    size_t used = 0;
    buf[0] = '\0';
    for (int j = 0; j < f->nfeat; j++) {
        int k = which == 0 ? snprintf(buf + used, cap - used, "%s%s", j ? "," : "", f->names[j])
                           : snprintf(buf + used, cap - used, "%s%.17g", j ? "," : "",
                                      which == 1 ? f->sc.a[j] : f->sc.b[j]);
        if (k < 0 || (size_t)k >= cap - used)
            return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "forecast: '%s' needs a larger buffer", name);
        used += (size_t)k;
    }
    return 0;
}

void nlprnn_forecaster_history(const nlprnn_forecaster *f, int *epochs, const double **train,
                               const double **valid) {
    if (epochs) *epochs = f ? f->epochs : 0;
    if (train) *train = f ? f->hist_train : NULL;
    if (valid) *valid = f ? f->hist_valid : NULL;
}

/* ---- model files -------------------------------------------------------------------------- */

/* Sections: CONF (settings, scaler a/b per feature as exact decimal), COLS (column names),
 * WGHT (tensors "params" (n_params) and "loss_train", "loss_valid" (epochs)). */

int nlprnn_forecaster_save(const nlprnn_forecaster *f, const char *path, nlprnn_error *err) {
    if (!f || !path) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: NULL argument");
    nr_mf_writer *w = NULL;
    nr_mf_buf conf, tens, cols;
    nr_mf_buf_init(&conf);
    nr_mf_buf_init(&tens);
    nr_mf_buf_init(&cols);
    int rc = nr_mf_writer_new(&w, NR_KIND_FORECASTER, err);
    static const char *const keys[] = {"cell", "hidden", "layers", "window", "horizon", "target",
                                       "scaler", "relative", "train", "valid", "epochs", "batch",
                                       "lr", "clip", "ma", "patience", "seed"};
    char v[64], key[64];
    for (size_t k = 0; !rc && k < sizeof keys / sizeof *keys; k++) {
        params_format(&f->p, keys[k], v, sizeof v);
        if (!strcmp(keys[k], "ma")) snprintf(v, sizeof v, "%d", f->p.ma);
        rc = nr_conf_put_str(&conf, keys[k], v, err);
    }
    if (!rc) rc = nr_conf_put_int(&conf, "features", f->nfeat, err);
    if (!rc) rc = nr_conf_put_int(&conf, "epochs_run", f->epochs, err);
    if (!rc) rc = nr_conf_put_int(&conf, "best_epoch", f->best_epoch, err);
    if (!rc) rc = nr_conf_put_int(&conf, "n_params", (long long)f->n_params, err);
    for (int j = 0; !rc && j < f->nfeat; j++) {
        snprintf(key, sizeof key, "scaler_a.%d", j);
        rc = nr_conf_put_float(&conf, key, f->sc.a[j], err);
        snprintf(key, sizeof key, "scaler_b.%d", j);
        if (!rc) rc = nr_conf_put_float(&conf, key, f->sc.b[j], err);
    }
    if (!rc) rc = nr_strings_put(&cols, (const char *const *)f->names, (size_t)f->nfeat, err);
    size_t shp = f->n_params;
    if (!rc) rc = nr_tensor_put(&tens, "params", f->params, 1, &shp, NR_DTYPE_F32, err);
    if (!rc && f->epochs > 0) {
        float *h = nr_malloc_array((size_t)f->epochs, sizeof *h);
        if (!h) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast: out of memory");
        size_t he = (size_t)f->epochs;
        for (int i = 0; !rc && i < f->epochs; i++) h[i] = (float)f->hist_train[i];
        if (!rc) rc = nr_tensor_put(&tens, "loss_train", h, 1, &he, NR_DTYPE_F32, err);
        for (int i = 0; !rc && i < f->epochs; i++) h[i] = (float)f->hist_valid[i];
        if (!rc) rc = nr_tensor_put(&tens, "loss_valid", h, 1, &he, NR_DTYPE_F32, err);
        free(h);
    }
    if (!rc) rc = nr_mf_add(w, "CONF", NR_MF_CONFIG, conf.data, conf.len, 0, err);
    if (!rc) rc = nr_mf_add(w, "COLS", NR_MF_STRINGS, cols.data, cols.len, 0, err);
    if (!rc) rc = nr_mf_add(w, "WGHT", NR_MF_TENSORS, tens.data, tens.len, 0, err);
    if (!rc) rc = nr_mf_writer_save(w, path, err);
    nr_mf_writer_free(w);
    nr_mf_buf_free(&conf);
    nr_mf_buf_free(&tens);
    nr_mf_buf_free(&cols);
    return rc;
}

static int conf_int(const nr_conf *c, const char *key, long lo, long hi, int *out, nlprnn_error *err) {
    long long v;
    int rc = nr_conf_get_int(c, key, &v, err);
    if (rc) return rc;
    if (v < lo || v > hi)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: %s = %lld is out of range %ld..%ld",
                       c->where, key, v, lo, hi);
    *out = (int)v;
    return 0;
}

int nlprnn_forecaster_load(nlprnn_forecaster **out, const char *path, nlprnn_error *err) {
    if (out) *out = NULL;
    if (!out || !path) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: NULL argument");
    *out = NULL;
    nr_mf_reader *r = NULL;
    nr_conf c = {0};
    const char **names = NULL;
    size_t ncols = 0;
    nlprnn_forecaster *f = NULL;
    int rc = nr_mf_open_file(&r, path, NR_KIND_FORECASTER, err);
    if (rc) return rc;
    rc = nr_mf_get_conf(r, "CONF", &c, err);
    if (rc) goto done;
    f = calloc(1, sizeof *f);
    if (!f) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast: out of memory");
        goto done;
    }
    nr_forecast_params_default(&f->p);
    static const char *const keys[] = {"cell", "hidden", "layers", "window", "horizon", "target",
                                       "scaler", "relative", "train", "valid", "epochs", "batch",
                                       "lr", "clip", "ma", "patience", "seed"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        const char *v;
        if (!strcmp(keys[k], "relative") && !nr_conf_has(&c, "relative")) continue; /* optional */
        rc = nr_conf_get_str(&c, keys[k], &v, err);
        if (rc) goto done;
        nlprnn_error e2;
        if (nlprnn_forecast_params_set(&f->p, keys[k], v, &e2)) {
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: %s", c.where, e2.message);
            goto done;
        }
    }
    rc = conf_int(&c, "features", 1, 256, &f->nfeat, err);
    if (!rc) rc = conf_int(&c, "epochs_run", 0, 1000000, &f->epochs, err);
    if (!rc) rc = conf_int(&c, "best_epoch", 0, 1000000, &f->best_epoch, err);
    if (rc) goto done;
    if (f->p.target >= f->nfeat) {
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: target %d but %d features", c.where,
                     f->p.target, f->nfeat);
        goto done;
    }
    f->sc.kind = f->p.scaler;
    f->sc.nfeat = f->nfeat;
    f->sc.a = nr_calloc_array((size_t)f->nfeat, sizeof(double));
    f->sc.b = nr_calloc_array((size_t)f->nfeat, sizeof(double));
    f->names = nr_calloc_array((size_t)f->nfeat, sizeof *f->names);
    if (!f->sc.a || !f->sc.b || !f->names) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast: out of memory");
        goto done;
    }
    for (int j = 0; j < f->nfeat; j++) {
        char key[64];
        snprintf(key, sizeof key, "scaler_a.%d", j);
        rc = nr_conf_get_float(&c, key, &f->sc.a[j], err);
        snprintf(key, sizeof key, "scaler_b.%d", j);
        if (!rc) rc = nr_conf_get_float(&c, key, &f->sc.b[j], err);
        if (rc) goto done;
        if (!isfinite(f->sc.a[j]) || !(f->sc.b[j] > 0) || !isfinite(f->sc.b[j]) ||
            (f->p.relative && f->sc.a[j] != 0)) {
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: scaler of feature %d is invalid (a %g, b %g)",
                         c.where, j, f->sc.a[j], f->sc.b[j]);
            goto done;
        }
    }
    rc = nr_mf_get_strings(r, "COLS", &names, &ncols, err);
    if (rc) goto done;
    if (ncols != (size_t)f->nfeat) {
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: %zu column names for %d features", path,
                     ncols, f->nfeat);
        goto done;
    }
    for (int j = 0; j < f->nfeat; j++)
        if (!(f->names[j] = nr_strdup(names[j]))) {
            rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast: out of memory");
            goto done;
        }
    rc = forecaster_bind(f, r, err);
    if (rc) goto done;
    size_t shp = f->n_params;
    rc = nr_mf_tensor_read(r, "WGHT", "params", f->params, 1, &shp, err); /* finite */
    if (rc) goto done;
    if (f->epochs > 0) {
        size_t he = (size_t)f->epochs;
        float *h = nr_malloc_array(he, sizeof *h);
        f->hist_train = nr_malloc_array(he, sizeof(double));
        f->hist_valid = nr_malloc_array(he, sizeof(double));
        if (!h || !f->hist_train || !f->hist_valid) {
            free(h);
            rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast: out of memory");
            goto done;
        }
        rc = nr_mf_tensor_read_nonfinite(r, "WGHT", "loss_train", h, 1, &he, err);
        for (size_t i = 0; !rc && i < he; i++) f->hist_train[i] = h[i];
        /* NaN where there was no validation part */
        if (!rc) rc = nr_mf_tensor_read_nonfinite(r, "WGHT", "loss_valid", h, 1, &he, err);
        for (size_t i = 0; !rc && i < he; i++) f->hist_valid[i] = h[i];
        free(h);
        if (rc) goto done;
    }
    *out = f;
    f = NULL;
done:
    free(names);
    nr_conf_free(&c);
    nr_mf_close(r);
    nlprnn_forecaster_free(f);
    return rc;
}

/* ---- gradient flow ------------------------------------------------------------------------ */

/* The network both gradient-flow experiments use: one encoder layer of `cell` (input size 1) and
 * a dense head to one output, in one flat block (params, grad: encoder first, then head); seeded
 * init with W_hh scaled by `gain`; a training workspace for (T, batch). */
typedef struct gf_net {
    nr_encoder enc;
    nr_dense head;
    nr_encoder_ws *ws;
    float *params, *grad; /* (ne + nd) */
    size_t ne, n;         /* encoder part, whole block */
} gf_net;

static void gf_net_free(gf_net *g) {
    nr_encoder_ws_free(g->ws);
    free(g->params);
    free(g->grad);
    memset(g, 0, sizeof *g);
}

static int gf_net_create(gf_net *g, int cell, int hidden, int T, int batch, double gain,
                         uint64_t seed, nlprnn_error *err) {
    memset(g, 0, sizeof *g);
    if (!isfinite(gain))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "gradflow: gain %g is not a finite number",
                       gain);
    nr_encoder_cfg cfg;
    nr_encoder_cfg_default(&cfg, 1, hidden);
    cfg.cell = cell;
    g->ne = nr_encoder_param_count(&cfg);
    if (!g->ne) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "gradflow: invalid cell %d", cell);
    g->n = g->ne + nr_dense_param_count(hidden, 1);
    g->params = nr_calloc_array(g->n, sizeof(float));
    g->grad = nr_calloc_array(g->n, sizeof(float));
    if (!g->params || !g->grad) {
        gf_net_free(g);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "gradflow: out of memory");
    }
    int rc = nr_encoder_bind(&g->enc, &cfg, g->params, err);
    if (rc) goto fail;
    nr_dense_bind(&g->head, hidden, 1, g->params + g->ne);
    nr_rng rng;
    nr_rng_seed(&rng, seed);
    rc = nr_encoder_init(&g->enc, &rng, err);
    if (rc) goto fail;
    nr_dense_init(&g->head, &rng);
    /* W_hh *= gain */
    size_t G = (size_t)g->enc.gates, H = (size_t)hidden;
    for (size_t i = 0; i < G * H * H; i++) g->params[g->enc.slot[0][0].w_hh + i] *= (float)gain;
    g->ws = nr_encoder_ws_create(&g->enc, T, batch, 1, 1, err);
    if (!g->ws) {
        rc = err && err->code ? err->code : NLPRNN_E_NOMEM;
        goto fail;
    }
    return NLPRNN_OK;
fail:
    gf_net_free(g);
    return rc;
}

/* dL/dh_k for k = T-t: run the encoder on x[0..k) to get (h_k, c_k), then on x[k..T) from that
 * state, backward from L(h_T) with dhn, and read dh0 = dL/dh_k (c_k held fixed: for the LSTM this
 * is the gradient through the hidden state, the cell state's own path is dc0). O(T^2) steps,
 * which for T in the hundreds and a small H is milliseconds. */
int nr_gradflow_norms(double *norms, int cell, int hidden, int T, int batch, double gain,
                      double gate_bias, uint64_t seed, nlprnn_error *err) {
    if (T < 2 || batch < 1 || hidden < 1 || !norms)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "gradflow: length >= 2, batch >= 1 and hidden >= 1 needed");
    gf_net g;
    int rc = gf_net_create(&g, cell, hidden, T, batch, gain, seed, err);
    if (rc) return rc;
    size_t H = (size_t)hidden, B = (size_t)batch, ne = g.ne;
    float *params = g.params, *grad = g.grad;
    nr_encoder *enc = &g.enc;
    nr_dense *head = &g.head;
    nr_encoder_ws *ws = g.ws;
    float *x = nr_malloc_array((size_t)T * B, sizeof(float)), *out = nr_malloc_array((size_t)T * B * H, sizeof(float));
    float *h = nr_malloc_array(B * H, sizeof(float)), *c = nr_malloc_array(B * H, sizeof(float));
    float *hT = nr_malloc_array(B * H, sizeof(float)), *dhT = nr_malloc_array(B * H, sizeof(float));
    float *dh0 = nr_malloc_array(B * H, sizeof(float)), *y = nr_malloc_array(B, sizeof(float));
    float *pred = nr_malloc_array(B, sizeof(float)), *dpred = nr_malloc_array(B, sizeof(float));
    if (!x || !out || !h || !c || !hT || !dhT || !dh0 || !y || !pred || !dpred) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "gradflow: out of memory");
        goto done;
    }
    /* the carry gate's input bias: LSTM forget gate f (block 1 of i,f,g,o), GRU update gate z
     * (block 1 of r,z,n); b_hh of that block is 0 at init */
    if (isfinite(gate_bias) && cell != NR_CELL_RNN)
        for (size_t i = 0; i < H; i++) params[enc->slot[0][0].b_ih + H + i] = (float)gate_bias;
    /* the same inputs and targets for every cell: a second stream from the seed */
    nr_rng data_rng;
    nr_rng_seed(&data_rng, seed ^ 0x9E3779B97F4A7C15ull);
    for (size_t i = 0; i < (size_t)T * B; i++) x[i] = nr_rng_normal(&data_rng);
    for (size_t b = 0; b < B; b++) y[b] = nr_rng_normal(&data_rng);
    /* dL/dh_T from the head and the MSE */
    rc = nr_encoder_forward(enc, ws, out, hT, NULL, x, NULL, NULL, NULL, T, batch, NULL, err);
    if (rc) goto done;
    nr_dense_forward(head, pred, hT, batch);
    nr_mse(dpred, pred, y, NULL, batch, NULL);
    memset(dhT, 0, B * H * sizeof(float));
    nr_dense_backward(head, grad + ne, dhT, dpred, hT, batch);
    for (int t = 0; t < T; t++) {
        int k = T - t; /* the state after k steps: h_k; the suffix has t steps */
        double sum = 0;
        if (t == 0) {
            memcpy(dh0, dhT, B * H * sizeof(float));
        } else {
            rc = nr_encoder_forward(enc, ws, out, h, cell == NR_CELL_LSTM ? c : NULL, x, NULL, NULL, NULL, k, batch, NULL, err);
            if (rc) goto done;
            rc = nr_encoder_forward(enc, ws, out, NULL, NULL, x + (size_t)k * B, NULL, h, cell == NR_CELL_LSTM ? c : NULL, t, batch, NULL, err);
            if (rc) goto done;
            memset(dh0, 0, B * H * sizeof(float));
            rc = nr_encoder_backward(enc, ws, grad, NULL, dh0, NULL, NULL, dhT, NULL, err);
            if (rc) goto done;
        }
        for (size_t b = 0; b < B; b++) sum += sqrt(nr_sumsq(dh0 + b * H, H));
        norms[t] = sum / (double)B;
    }
done:
    gf_net_free(&g);
    free(x), free(out), free(h), free(c), free(hT), free(dhT);
    free(dh0), free(y), free(pred), free(dpred);
    return rc;
}

/* Training on long sequences with plain SGD, with or without clipping by global norm.
 * Task: each sequence is a sine with a random phase and period (20..60 steps) plus N(0, 0.1^2)
 * noise; the target is the next value after step T. loss[s] and gnorm[s] (the norm before
 * clipping) for s = 0..steps-1. A step whose loss or gradient is not finite ends the run: the
 * rest of loss and gnorm is NaN and *diverged_at gets that step (else -1). */
int nr_gradflow_train(double *loss, double *gnorm, int *diverged_at, int cell, int hidden, int T,
                      int batch, double gain, double lr, double clip, int steps, uint64_t seed,
                      nlprnn_error *err) {
    if (T < 2 || batch < 1 || hidden < 1 || steps < 1 || !(lr > 0) || !isfinite(lr) ||
        !(clip >= 0) || !isfinite(clip) || !loss || !gnorm)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "gradflow: bad training arguments (length %d, batch %d, hidden %d, steps %d, "
                       "lr %g, clip %g%s)",
                       T, batch, hidden, steps, lr, clip, !loss || !gnorm ? ", a NULL output" : "");
    if (diverged_at) *diverged_at = -1;
    gf_net g;
    int rc = gf_net_create(&g, cell, hidden, T, batch, gain, seed, err);
    if (rc) return rc;
    size_t H = (size_t)hidden, B = (size_t)batch, ne = g.ne, n = g.n;
    float *params = g.params, *grad = g.grad;
    nr_encoder *enc = &g.enc;
    nr_dense *head = &g.head;
    nr_encoder_ws *ws = g.ws;
    float *x = nr_malloc_array((size_t)T * B, sizeof(float)), *out = nr_malloc_array((size_t)T * B * H, sizeof(float));
    float *hT = nr_malloc_array(B * H, sizeof(float)), *dhT = nr_malloc_array(B * H, sizeof(float));
    float *y = nr_malloc_array(B, sizeof(float)), *pred = nr_malloc_array(B, sizeof(float)),
          *dpred = nr_malloc_array(B, sizeof(float));
    if (!x || !out || !hT || !dhT || !y || !pred || !dpred) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "gradflow: out of memory");
        goto done;
    }
    nr_rng data_rng;
    nr_rng_seed(&data_rng, seed ^ 0x9E3779B97F4A7C15ull);
    int s = 0;
    for (; s < steps; s++) {
        for (size_t b = 0; b < B; b++) {
            double period = 20 + 40 * nr_rng_uniform(&data_rng), phase = 6.283185307179586 * nr_rng_uniform(&data_rng);
            for (int t = 0; t <= T; t++) {
                float v = (float)sin(phase + 6.283185307179586 * t / period) + 0.1f * nr_rng_normal(&data_rng);
                if (t < T) x[(size_t)t * B + b] = v; /* (T,B,1) */
                else y[b] = v;
            }
        }
        rc = nr_encoder_forward(enc, ws, out, hT, NULL, x, NULL, NULL, NULL, T, batch, NULL, err);
        if (rc) goto done;
        nr_dense_forward(head, pred, hT, batch);
        double l = nr_mse(dpred, pred, y, NULL, batch, NULL);
        memset(dhT, 0, B * H * sizeof(float));
        memset(grad, 0, n * sizeof(float));
        nr_dense_backward(head, grad + ne, dhT, dpred, hT, batch);
        rc = nr_encoder_backward(enc, ws, grad, NULL, NULL, NULL, NULL, dhT, NULL, err);
        if (rc) goto done;
        double gn = nr_clip_grad_norm(grad, n, clip);
        loss[s] = l;
        gnorm[s] = gn;
        if (!isfinite(l) || !isfinite(gn)) break;
        nr_axpy(params, (float)-lr, grad, n);
        int bad = 0;
        for (size_t i = 0; i < n && !bad; i++) bad = !isfinite(params[i]);
        if (bad) {
            s++;
            break;
        }
    }
    if (s < steps) {
        if (diverged_at) *diverged_at = s;
        for (; s < steps; s++) loss[s] = gnorm[s] = NAN;
    }
done:
    gf_net_free(&g);
    free(x), free(out), free(hT), free(dhT), free(y), free(pred), free(dpred);
    return rc;
}

int nlprnn_gradflow_norms(const char *cell, int hidden, int length, int batch, double gain,
                          double gate_bias, uint64_t seed, double *norms, nlprnn_error *err) {
    int c = nr_cell_from_name(cell);
    if (c < 0) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "gradflow: cell '%s' is not rnn, lstm or gru", cell ? cell : "(null)");
    return nr_gradflow_norms(norms, c, hidden, length, batch, gain, gate_bias, seed, err);
}

int nlprnn_gradflow_train(const char *cell, int hidden, int length, int batch, double gain,
                          double lr, double clip, int steps, uint64_t seed, double *loss,
                          double *grad_norm, int *diverged_at, nlprnn_error *err) {
    int c = nr_cell_from_name(cell);
    if (c < 0) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "gradflow: cell '%s' is not rnn, lstm or gru", cell ? cell : "(null)");
    return nr_gradflow_train(loss, grad_norm, diverged_at, c, hidden, length, batch, gain, lr, clip, steps, seed, err);
}

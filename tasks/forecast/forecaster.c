/* tasks/forecast/forecaster.c: many-to-one recurrent regression on numeric series (the network,
 * predictions, evaluation with its baselines and metrics). Model files: file.c; training: train.c. */
#include "tasks/forecast/forecaster.h"

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "format/modelfile.h"

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

int nr_fc_bind(nlprnn_forecaster *f, const nr_mf_reader *r, nlprnn_error *err) {
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

void nr_fc_scratch_free(nr_fc_scratch *s) {
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

int nr_fc_scratch_init(nr_fc_scratch *s, const nlprnn_forecaster *f, int max_B, int training,
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
        nr_fc_scratch_free(s);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast: out of memory");
    }
    return 0;
}

void nr_fc_gather(nr_fc_scratch *s, const nlprnn_forecaster *f, const float *z, const size_t *idx,
                  int B) {
    nr_series_gather(s->x, s->y, z, f->nfeat, f->p.window, f->p.horizon, f->p.target, f->p.relative, idx, B);
}

int nr_fc_forward(nr_fc_scratch *s, const nlprnn_forecaster *f, int B, nlprnn_error *err) {
    int rc = nr_encoder_forward(&f->enc, s->ws, s->out, s->hn, s->cn, s->x, NULL, NULL, NULL,
                                f->p.window, B, NULL, err);
    if (rc) return rc;
    const float *hlast = s->hn + (size_t)(f->p.layers - 1) * (size_t)B * (size_t)f->p.hidden; /* (B,H) */
    nr_dense_forward(&f->head, s->pred, hlast, B);
    return 0;
}

int nr_fc_backward(nr_fc_scratch *s, const nlprnn_forecaster *f, float *grad, int B, double *loss,
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

int nr_fc_scale_series(const nlprnn_forecaster *f, const nlprnn_series *s, float **out,
                       nlprnn_error *err) {
    size_t n = s->n, F = (size_t)f->nfeat;
    float *z = *out = nr_series_scaled(s, &f->sc);
    if (!z) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast: out of memory");
    /* a value whose scaled form is beyond the float range the network computes in (1e308 among
     * values of about 20) would run through the network as an infinity */
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
        }
    return NLPRNN_OK;
}

int nr_fc_predict_range(const nlprnn_forecaster *f, const float *z, size_t first, size_t count,
                         double *pred, double *mse, nlprnn_error *err) {
    nr_fc_scratch s;
    int B = count < 256 ? (int)(count ? count : 1) : 256;
    int rc = nr_fc_scratch_init(&s, f, B, 0, err);
    if (rc) return rc;
    size_t idx[256];
    double se = 0;
    for (size_t i = 0; i < count; i += (size_t)B) {
        int nb = count - i < (size_t)B ? (int)(count - i) : B;
        for (int b = 0; b < nb; b++) idx[b] = first + i + (size_t)b;
        nr_fc_gather(&s, f, z, idx, nb);
        rc = nr_fc_forward(&s, f, nb, err);
        if (rc) break;
        for (int b = 0; b < nb; b++) {
            double d = (double)s.pred[b] - (double)s.y[b];
            se += d * d;
            if (pred) pred[i + (size_t)b] = s.pred[b];
        }
    }
    if (mse) *mse = count ? se / (double)count : NAN;
    nr_fc_scratch_free(&s);
    return rc;
}

int nr_fc_check_series(const nlprnn_forecaster *f, const nlprnn_series *s, nlprnn_error *err) {
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

static int evaluate(const nlprnn_forecaster *f, const nlprnn_series *s, int part, double *metrics,
                    double **pred, double **truth, size_t *count, size_t *first_row,
                    nlprnn_error *err) {
    if (pred) *pred = NULL;
    if (truth) *truth = NULL;
    if (count) *count = 0;
    if (!f) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: forecaster is NULL");
    if (part < NLPRNN_PART_TRAIN || part > NLPRNN_PART_ALL)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: part %d is not 0..3", part);
    int rc = nr_fc_check_series(f, s, err);
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
    rc = nr_fc_scale_series(f, s, &z, err);
    if (rc) goto done;
    p = nr_malloc_array(n, sizeof *p), y = nr_malloc_array(n, sizeof *y),
    base = nr_malloc_array(n, sizeof *base);
    if (!p || !y || !base) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast: out of memory");
        goto done;
    }
    rc = nr_fc_predict_range(f, z, first, n, p, NULL, err);
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

int nlprnn_forecaster_evaluate(const nlprnn_forecaster *f, const nlprnn_series *s, int part,
                               nlprnn_forecaster_eval *res, nlprnn_error *err) {
    if (!res || res->size < offsetof(nlprnn_forecaster_eval, truth) + sizeof res->truth)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "forecast: evaluate: res is NULL or res->size (%zu) does not reach the truth",
                       res ? res->size : 0);
    res->pred = res->truth = NULL;
    return evaluate(f, s, part, &res->metrics[0][0], &res->pred, &res->truth, &res->count,
                    &res->first_row, err);
}

void nlprnn_forecaster_dims(const nlprnn_forecaster *f, int *window, int *horizon, int *target,
                            int *features) {
    if (window) *window = f ? f->p.window : 0;
    if (horizon) *horizon = f ? f->p.horizon : 0;
    if (target) *target = f ? f->p.target : 0;
    if (features) *features = f ? f->nfeat : 0;
}

int nlprnn_forecaster_split(const nlprnn_forecaster *f, size_t n, int part, size_t *first,
                            size_t *count, nlprnn_error *err) {
    if (!f || !first || !count) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: split: NULL argument");
    *first = *count = 0;
    if (part < NLPRNN_PART_TRAIN || part > NLPRNN_PART_ALL)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: part %d is not 0..3", part);
    nr_split sp;
    int rc = nr_split_rows(&sp, n, f->p.train, f->p.valid, err);
    if (rc) return rc;
    size_t at[4] = {0, sp.n_train, sp.n_train + sp.n_valid, 0};
    size_t len[4] = {sp.n_train, sp.n_valid, sp.n_test, n};
    *first = at[part];
    *count = len[part];
    return 0;
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
    nr_fc_scratch s;
    int rc = nr_fc_scratch_init(&s, f, 1, 0, err);
    if (rc) return rc;
    /* zw (W,F) holds the scaled window; it slides one step per prediction */
    float *zw = nr_malloc_array(W * F, sizeof *zw);
    if (!zw) {
        nr_fc_scratch_free(&s);
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
        rc = nr_fc_forward(&s, f, 1, err);
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
    nr_fc_scratch_free(&s);
    return rc;
}

/* ---- settings and history ----------------------------------------------------------------- */

int nlprnn_forecaster_get(const nlprnn_forecaster *f, const char *name, char *buf, size_t cap,
                          nlprnn_error *err) {
    if (!f || !name || !buf || !cap)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: NULL argument");
    if (nr_forecast_params_format(&f->p, name, buf, cap)) return 0;
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


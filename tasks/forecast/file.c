/* tasks/forecast/file.c: forecaster model files (kind "FCST").
 *
 * Sections: CONF (settings, scaler a/b per feature as exact decimal), COLS (column names),
 * WGHT (tensors "params" (n_params) and "loss_train", "loss_valid" (epochs)). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "format/modelfile.h"
#include "format/params.h"
#include "tasks/forecast/forecaster.h"

/* CONF holds every parameter of the table but these (the run's, not the model's) */
static const char *const NOT_STORED[] = {"threads", "checkpoint", "checkpoint-every", NULL};

int nlprnn_forecaster_save(const nlprnn_forecaster *f, const char *path, nlprnn_error *err) {
    if (!f || !path) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: NULL argument");
    nr_mf_writer *w = NULL;
    nr_mf_buf conf, tens, cols;
    nr_mf_buf_init(&conf);
    nr_mf_buf_init(&tens);
    nr_mf_buf_init(&cols);
    int rc = nr_mf_writer_new(&w, NR_KIND_FORECASTER, err);
    char key[64];
    if (!rc) rc = nr_params_to_conf(&conf, nr_forecast_param_table(), &f->p, NOT_STORED, err);
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

int nlprnn_forecaster_load(const char *path_or_name, nlprnn_forecaster **out, nlprnn_error *err) {
    if (out) *out = NULL;
    if (!out || !path_or_name) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "forecast: NULL argument");
    *out = NULL;
    char path[4096]; /* a bare name is a shipped model (format/lookup.c), like every kind's */
    int rc = nr_model_resolve(path_or_name, NULL, path, sizeof path, err);
    if (rc) return rc;
    nr_mf_reader *r = NULL;
    nr_conf c = {0};
    const char **names = NULL;
    size_t ncols = 0;
    nlprnn_forecaster *f = NULL;
    rc = nr_mf_open_file(&r, path, NR_KIND_FORECASTER, err);
    if (rc) return rc;
    rc = nr_mf_get_conf(r, "CONF", &c, err);
    if (rc) goto done;
    f = calloc(1, sizeof *f);
    if (!f) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "forecast: out of memory");
        goto done;
    }
    nr_forecast_params_default(&f->p);
    static const char *const added[] = {"relative", NULL}; /* files before it lack it */
    rc = nr_params_from_conf(&c, nr_forecast_param_table(), &f->p, NOT_STORED, added, err);
    if (!rc) rc = nr_conf_get_int_in(&c, "features", 1, 256, &f->nfeat, err);
    if (!rc) rc = nr_conf_get_int_in(&c, "epochs_run", 0, 1000000, &f->epochs, err);
    if (!rc) rc = nr_conf_get_int_in(&c, "best_epoch", 0, 1000000, &f->best_epoch, err);
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
    rc = nr_fc_bind(f, r, err);
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


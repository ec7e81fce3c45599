/* tasks/tag/file.c: tagger model files (kind "TAGR", docs/formats.md).
 *
 * Sections: CONF (every training parameter of the table but the checkpoint ones, the sizes, epochs
 * run, best epoch and its validation accuracy), UNIT (strings: unit i is string i; 0 "<pad>",
 * 1 "<unk>"), LABL (strings: label names), WGHT (tensor "params" (n_params) float32:
 * [embedding (V,E) | hints (3,E) | encoder | dense], tasks/tag/tagger.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "format/modelfile.h"
#include "format/params.h"
#include "tasks/tag/tagger.h"

static const char *const NOT_STORED[] = {"checkpoint", "checkpoint-every", "init-from", "keep", NULL}; /* CONF: the rest */

int nlprnn_tagger_save(const nlprnn_tagger *t, const char *path, nlprnn_error *err) {
    if (!t || !path) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tagger: NULL argument");
    const nr_param_table *tb = nr_tagger_param_table();
    nr_mf_writer *w = NULL;
    nr_mf_buf conf, tens, units, labels;
    nr_mf_buf_init(&conf);
    nr_mf_buf_init(&tens);
    nr_mf_buf_init(&units);
    nr_mf_buf_init(&labels);
    int rc = nr_mf_writer_new(&w, NR_KIND_TAGGER, err);
    if (!rc) rc = nr_params_to_conf(&conf, tb, &t->p, NOT_STORED, err);
    if (!rc) rc = nr_conf_put_int(&conf, "units", t->units.n, err);
    if (!rc) rc = nr_conf_put_int(&conf, "labels", t->labels.n, err);
    if (!rc) rc = nr_conf_put_int(&conf, "n_params", (long long)t->net.n_params, err);
    if (!rc) rc = nr_conf_put_int(&conf, "epochs_run", t->epochs_run, err);
    if (!rc) rc = nr_conf_put_int(&conf, "best_epoch", t->best_epoch, err);
    if (!rc && !isnan(t->best_score)) rc = nr_conf_put_float(&conf, "valid_accuracy", t->best_score, err);
    if (!rc) rc = nr_strings_put(&units, (const char *const *)t->units.names, (size_t)t->units.n, err);
    if (!rc) rc = nr_strings_put(&labels, (const char *const *)t->labels.names, (size_t)t->labels.n, err);
    size_t shp = t->net.n_params;
    if (!rc) rc = nr_tensor_put(&tens, "params", t->params, 1, &shp, NR_DTYPE_F32, err);
    if (!rc) rc = nr_mf_add(w, "CONF", NR_MF_CONFIG, conf.data, conf.len, 0, err);
    if (!rc) rc = nr_mf_add(w, "UNIT", NR_MF_STRINGS, units.data, units.len, 1, err);
    if (!rc) rc = nr_mf_add(w, "LABL", NR_MF_STRINGS, labels.data, labels.len, 0, err);
    if (!rc) rc = nr_mf_add(w, "WGHT", NR_MF_TENSORS, tens.data, tens.len, 0, err);
    if (!rc) rc = nr_mf_writer_save(w, path, err);
    nr_mf_writer_free(w);
    nr_mf_buf_free(&conf);
    nr_mf_buf_free(&tens);
    nr_mf_buf_free(&units);
    nr_mf_buf_free(&labels);
    return rc;
}

/* Strings section tag into map m; id i must be string i (a repeated string is a bad file). */
static int load_map(const nr_mf_reader *r, const char *tag, nr_label_map *m, nlprnn_error *err) {
    const char **s = NULL;
    size_t n = 0;
    int rc = nr_mf_get_strings(r, tag, &s, &n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        nlprnn_error e2;
        int id = nr_label_map_add(m, s[i], strlen(s[i]), &e2);
        if (id != (int)i)
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: section %s: entry %zu '%.100s' is %s", nr_mf_name(r),
                         tag, i, s[i], id < 0 ? e2.message : "repeated");
    }
    free(s);
    return rc;
}

int nlprnn_tagger_load(const char *path_or_name, nlprnn_tagger **out, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tagger: out is NULL");
    *out = NULL;
    char path[4096];
    int rc = nr_model_resolve(path_or_name, "ko-space", path, sizeof path, err);
    if (rc) return rc;
    nr_mf_reader *r = NULL;
    rc = nr_mf_open_file(&r, path, NR_KIND_TAGGER, err);
    if (rc) return rc;
    nr_conf c;
    memset(&c, 0, sizeof c);
    nlprnn_tagger *t = calloc(1, sizeof *t);
    if (!t) {
        nr_mf_close(r);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
    }
    nr_tagger_params_default(&t->p);
    nr_label_map_init(&t->units);
    nr_label_map_init(&t->labels);
    t->best_score = NAN;
    rc = nr_mf_get_conf(r, "CONF", &c, err);
    if (!rc) rc = nr_params_from_conf(&c, nr_tagger_param_table(), &t->p, NOT_STORED, NULL, err);
    long long nu = 0, nl = 0, np = 0, ep = 0, be = 0;
    if (!rc) rc = nr_conf_get_int(&c, "units", &nu, err);
    if (!rc) rc = nr_conf_get_int(&c, "labels", &nl, err);
    if (!rc) rc = nr_conf_get_int(&c, "n_params", &np, err);
    if (!rc) rc = nr_conf_get_int(&c, "epochs_run", &ep, err);
    if (!rc) rc = nr_conf_get_int(&c, "best_epoch", &be, err);
    if (!rc && nr_conf_has(&c, "valid_accuracy")) rc = nr_conf_get_float(&c, "valid_accuracy", &t->best_score, err);
    if (!rc) rc = load_map(r, "UNIT", &t->units, err);
    if (!rc) rc = load_map(r, "LABL", &t->labels, err);
    if (!rc && (nu != t->units.n || nl != t->labels.n || t->units.n < 2 || t->labels.n < 2 ||
                (t->p.format == NR_TAG_FORMAT_SPACING && t->labels.n != 2)))
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: %lld units and %lld labels in CONF, %d and %d in the file",
                     path, nu, nl, t->units.n, t->labels.n);
    if (!rc) {
        nr_encoder_cfg ec;
        nr_encoder_cfg_default(&ec, t->p.embed, t->p.hidden);
        ec.cell = t->p.cell;
        ec.layers = t->p.layers;
        ec.bidirectional = 1;
        size_t need = nr_tag_param_count(&ec, t->units.n, t->labels.n);
        char sizes[200];
        snprintf(sizes, sizeof sizes, "units %d labels %d embed %d hidden %d layers %d", t->units.n, t->labels.n,
                 t->p.embed, t->p.hidden, t->p.layers);
        rc = nr_mf_check_weight_count(r, "WGHT", need, sizes, err);
        if (!rc && (long long)need != np)
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: n_params %lld, the sizes (%s) need %zu", path, np, sizes, need);
    }
    if (!rc) rc = nr_tagger_bind(t, 0, err); /* every value read below */
    if (!rc) {
        size_t shp = t->net.n_params;
        rc = nr_mf_tensor_read(r, "WGHT", "params", t->params, 1, &shp, err);
    }
    if (!rc) {
        t->epochs_run = (int)ep;
        t->best_epoch = (int)be;
        t->path = nr_strdup(path);
        if (!t->path) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
    }
    if (!rc) nr_tagger_summarize(t);
    nr_conf_free(&c);
    nr_mf_close(r);
    if (rc) {
        nlprnn_tagger_free(t);
        return rc;
    }
    *out = t;
    return NLPRNN_OK;
}

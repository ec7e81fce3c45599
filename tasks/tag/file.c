/* tasks/tag/file.c: tagger model files (kind "TAGR", docs/formats.md).
 *
 * Sections: CONF (every training parameter of the table but those of NOT_STORED below: the
 * checkpoint ones, init-from and keep; the sizes, epochs run, best epoch and its validation accuracy), UNIT (strings: unit i is string i; 0 "<pad>",
 * 1 "<unk>"), LABL (strings: label names), WGHT (tensor "params" (n_params) float32, or float16
 * when CONF says store=f16: [embedding (V,E) | hints (3,E) | jamo | conv | encoder | dense],
 * tasks/tag/tagger.h).
 * "store" is written only when it is f16 (a file without it is float32, as every file before it),
 * so float32 files stay as they were and a build that does not know float16 tagger files refuses
 * one by the unknown parameter rather than misreading it. "jamo" likewise: written only when 1
 * (WGHT then holds the jamo tables (NR_JAMO_ROWS,E) after the hints), so files without jamo are
 * as before and older builds refuse a jamo model by the unknown parameter. "conv" and
 * "conv-channels" likewise: written only when conv > 0 (WGHT then holds Wc (F,K E) and bc (F)
 * after the jamo tables, and the encoder's first layer reads E + F inputs); the loader refuses a
 * conv that is not an odd width in 1..31 or channels outside 1..4096 (NLPRNN_E_FORMAT).
 *
 * An ensemble of N members (2..NR_TAG_MAX_ENS) in one file, as the translator's (tasks/translate/
 * file.c): member 1 is the sections above (a program that does not know ensembles reads member 1
 * alone), ENSM (config: members=N), and for member k = 2..N its own CFkk (its CONF) and WGkk (its
 * WGHT), kk = k - 1 as two digits: CF01, WG01, CF02, ... UNIT and LABL are stored once: every
 * member has the same units and labels (nlprnn_tagger_load_ensemble compares them exactly) and
 * its CONF gives their counts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "format/modelfile.h"
#include "format/params.h"
#include "tasks/tag/tagger.h"

static const char *const NOT_STORED[] = {"checkpoint", "checkpoint-every", "init-from", "keep", NULL}; /* CONF: the rest */

/* Parameters added after the first files were made: a file without them keeps the default. */
static const char *const ADDED_LATER[] = {"store", "ema", "jamo", "conv", "conv-channels", NULL};

enum { STORE_F32 = 0, STORE_F16 = 1 }; /* the choices of the parameter "store" */

/* Append one member: its configuration as conf_tag, its weights as wght_tag, stored as `store`
 * (STORE_*; -1: as the member says, t->p.store); member 1 (conf_tag "CONF") also writes UNIT and
 * LABL. */
static int put_member(nr_mf_writer *w, const nlprnn_tagger *t, const char *conf_tag, const char *wght_tag,
                      int store, nlprnn_error *err) {
    const nr_param_table *tb = nr_tagger_param_table();
    nr_mf_buf conf, tens, units, labels;
    nr_mf_buf_init(&conf);
    nr_mf_buf_init(&tens);
    nr_mf_buf_init(&units);
    nr_mf_buf_init(&labels);
    int first = !strcmp(conf_tag, "CONF");
    struct nlprnn_tagger_params p = t->p;
    if (store >= 0) p.store = store;
    const char *skip[10] = {NOT_STORED[0], NOT_STORED[1], NOT_STORED[2], NOT_STORED[3], NULL};
    int ns = 4;
    if (p.store == STORE_F32) skip[ns++] = "store"; /* float32 files as before */
    if (!(p.ema > 0)) skip[ns++] = "ema";           /* written only when used */
    if (!p.jamo) skip[ns++] = "jamo";               /* likewise: files without jamo as before */
    if (!p.conv) {                                  /* and without the convolution */
        skip[ns++] = "conv";
        skip[ns++] = "conv-channels";
    }
    int rc = nr_params_to_conf(&conf, tb, &p, skip, err);
    if (!rc) rc = nr_conf_put_int(&conf, "units", t->units.n, err);
    if (!rc) rc = nr_conf_put_int(&conf, "labels", t->labels.n, err);
    if (!rc) rc = nr_conf_put_int(&conf, "n_params", (long long)t->net.n_params, err);
    if (!rc) rc = nr_conf_put_int(&conf, "epochs_run", t->epochs_run, err);
    if (!rc) rc = nr_conf_put_int(&conf, "best_epoch", t->best_epoch, err);
    if (!rc && !isnan(t->best_score)) rc = nr_conf_put_float(&conf, "valid_accuracy", t->best_score, err);
    if (!rc && first) rc = nr_strings_put(&units, (const char *const *)t->units.names, (size_t)t->units.n, err);
    if (!rc && first) rc = nr_strings_put(&labels, (const char *const *)t->labels.names, (size_t)t->labels.n, err);
    size_t shp = t->net.n_params;
    if (!rc) rc = nr_tensor_put(&tens, "params", t->params, 1, &shp, p.store == STORE_F16 ? NR_DTYPE_F16 : NR_DTYPE_F32,
                                 err);
    if (!rc) rc = nr_mf_add(w, conf_tag, NR_MF_CONFIG, conf.data, conf.len, 0, err);
    if (!rc && first) rc = nr_mf_add(w, "UNIT", NR_MF_STRINGS, units.data, units.len, 1, err);
    if (!rc && first) rc = nr_mf_add(w, "LABL", NR_MF_STRINGS, labels.data, labels.len, 0, err);
    if (!rc) rc = nr_mf_add(w, wght_tag, NR_MF_TENSORS, tens.data, tens.len, 0, err);
    nr_mf_buf_free(&conf);
    nr_mf_buf_free(&tens);
    nr_mf_buf_free(&units);
    nr_mf_buf_free(&labels);
    return rc;
}

int nlprnn_tagger_save_stored(const nlprnn_tagger *t, const char *path, const char *store, nlprnn_error *err) {
    if (!t || !path) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tagger: NULL argument");
    int st = -1;
    if (store && strcmp(store, "keep")) {
        if (!strcmp(store, "f32")) st = STORE_F32;
        else if (!strcmp(store, "f16")) st = STORE_F16;
        else
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                           "tagger: store '%.40s' is not one of f32, f16, keep (tagger files have no int8)", store);
    }
    nr_mf_writer *w = NULL;
    int rc = nr_mf_writer_new(&w, NR_KIND_TAGGER, err);
    if (!rc) rc = put_member(w, t, "CONF", "WGHT", st, err);
    int N = 1 + t->n_more;
    if (!rc && N > 1) rc = nr_mf_put_members(w, N, err);
    for (int k = 1; !rc && k < N; k++) {
        char ct[8], wt[8];
        nr_mf_member_tags(k, ct, wt);
        rc = put_member(w, t->more[k - 1], ct, wt, st, err);
    }
    if (!rc) rc = nr_mf_writer_save(w, path, err);
    nr_mf_writer_free(w);
    return rc;
}

int nlprnn_tagger_save(const nlprnn_tagger *t, const char *path, nlprnn_error *err) {
    return nlprnn_tagger_save_stored(t, path, NULL, err);
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

/* Load one member from the sections conf_tag and wght_tag of r (and UNIT, LABL); where names it
 * in errors (the file, or the file and its section for a further member). */
static int load_member(const nr_mf_reader *r, const char *path, const char *where, const char *conf_tag,
                       const char *wght_tag, nlprnn_tagger **out, nlprnn_error *err) {
    *out = NULL;
    int rc = NLPRNN_OK;
    nr_conf c;
    memset(&c, 0, sizeof c);
    nlprnn_tagger *t = calloc(1, sizeof *t);
    if (!t) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
    nr_tagger_params_default(&t->p);
    nr_label_map_init(&t->units);
    nr_label_map_init(&t->labels);
    t->best_score = NAN;
    rc = nr_mf_get_conf(r, conf_tag, &c, err);
    if (!rc) rc = nr_params_from_conf(&c, nr_tagger_param_table(), &t->p, NOT_STORED, ADDED_LATER, err);
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
                     where, nu, nl, t->units.n, t->labels.n);
    if (!rc) {
        nr_encoder_cfg ec;
        nr_tag_front fr;
        nr_tagger_shape(&t->p, &ec, &fr);
        size_t need = nr_tag_param_count(&ec, t->units.n, t->labels.n, &fr);
        char sizes[200], cv[60] = "";
        if (t->p.conv) snprintf(cv, sizeof cv, " conv %d conv-channels %d", t->p.conv, t->p.conv_channels);
        snprintf(sizes, sizeof sizes, "units %d labels %d embed %d hidden %d layers %d%s%s", t->units.n,
                 t->labels.n, t->p.embed, t->p.hidden, t->p.layers, t->p.jamo ? " jamo 1" : "", cv);
        if (nr_tag_front_check(&fr))
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: conv %d is not an odd width (0: none)", where, t->p.conv);
        if (!rc) rc = nr_mf_check_weight_count(r, wght_tag, need, sizes, err);
        if (!rc && (long long)need != np)
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: n_params %lld, the sizes (%s) need %zu", where, np, sizes, need);
    }
    if (!rc) rc = nr_tagger_bind(t, 0, err); /* every value read below */
    if (!rc) {
        size_t shp = t->net.n_params;
        rc = nr_mf_tensor_read(r, wght_tag, "params", t->params, 1, &shp, err);
    }
    if (!rc) {
        t->epochs_run = (int)ep;
        t->best_epoch = (int)be;
        t->path = nr_strdup(path);
        if (!t->path) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
    }
    if (!rc) nr_tagger_summarize(t);
    nr_conf_free(&c);
    if (rc) {
        nlprnn_tagger_free(t);
        return rc;
    }
    *out = t;
    return NLPRNN_OK;
}

/* "ensemble of N taggers; member 1: " and member 1's summary. */
static void summarize_ensemble(nlprnn_tagger *t) {
    nr_tagger_summarize(t);
    if (!t->n_more) return;
    char one[sizeof t->summary];
    memcpy(one, t->summary, sizeof one);
    snprintf(t->summary, sizeof t->summary, "ensemble of %d taggers; member 1: %.340s", 1 + t->n_more, one);
}

int nr_tagger_load_reader(const nr_mf_reader *r, nlprnn_tagger **out, nlprnn_error *err) {
    *out = NULL;
    const char *path = nr_mf_name(r);
    nlprnn_tagger *t = NULL;
    int rc = load_member(r, path, path, "CONF", "WGHT", &t, err);
    int N = 1;
    if (!rc) rc = nr_mf_get_members(r, NR_TAG_MAX_ENS, &N, err);
    if (!rc && N > 1) {
        if (!(t->more = calloc((size_t)N - 1, sizeof *t->more)))
            rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
        for (int k = 1; !rc && k < N; k++) {
            char ct[8], wt[8], where[4200];
            nr_mf_member_tags(k, ct, wt);
            snprintf(where, sizeof where, "%s: section %s", path, ct);
            rc = load_member(r, path, where, ct, wt, &t->more[k - 1], err);
            if (!rc) t->n_more++;
            if (!rc && (t->more[k - 1]->p.format != t->p.format || t->more[k - 1]->labels.n != t->labels.n))
                rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: another format or label count than member 1", where);
        }
        if (!rc) summarize_ensemble(t);
    }
    if (rc) {
        nlprnn_tagger_free(t);
        return rc;
    }
    *out = t;
    return NLPRNN_OK;
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
    rc = nr_tagger_load_reader(r, out, err);
    nr_mf_close(r);
    return rc;
}

/* 1 when a and b have the same strings in the same order. */
static int same_map(const nr_label_map *a, const nr_label_map *b) {
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->names[i], b->names[i])) return 0;
    return 1;
}

int nlprnn_tagger_members(const nlprnn_tagger *t) { return t ? 1 + t->n_more : 0; }

int nlprnn_tagger_load_ensemble(const char *const *paths, size_t n, nlprnn_tagger **out, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tagger: out is NULL");
    *out = NULL;
    if (!paths || n < 1) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tagger: no model named");
    if (n > NR_TAG_MAX_ENS)
        return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "tagger: %zu models (at most %d members)", n, NR_TAG_MAX_ENS);
    nlprnn_tagger *t = NULL;
    int rc = nlprnn_tagger_load(paths[0], &t, err);
    for (size_t i = 1; !rc && i < n; i++) {
        nlprnn_tagger *u = NULL;
        rc = nlprnn_tagger_load(paths[i], &u, err);
        if (rc) break;
        if (u->p.format != t->p.format)
            rc = nr_fail(err, NLPRNN_E_UNSUPPORTED, -1, -1, "%s: a %s model, %s is a %s model: an ensemble's members are "
                         "of one kind", paths[i], u->p.format == NR_TAG_FORMAT_SPACING ? "spacing" : "token tagger",
                         paths[0], t->p.format == NR_TAG_FORMAT_SPACING ? "spacing" : "token tagger");
        else if (!same_map(&u->units, &t->units) || !same_map(&u->labels, &t->labels))
            rc = nr_fail(err, NLPRNN_E_UNSUPPORTED, -1, -1,
                         "%s: its %s (%d) differ from those of %s (%d): an ensemble's members must have the same "
                         "units and labels exactly", paths[i], !same_map(&u->units, &t->units) ? "units" : "labels",
                         !same_map(&u->units, &t->units) ? u->units.n : u->labels.n, paths[0],
                         !same_map(&u->units, &t->units) ? t->units.n : t->labels.n);
        else if (1 + t->n_more + 1 + u->n_more > NR_TAG_MAX_ENS)
            rc = nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "tagger: more than %d ensemble members", NR_TAG_MAX_ENS);
        nlprnn_tagger **m = rc ? NULL : realloc(t->more, (size_t)(t->n_more + 1 + u->n_more) * sizeof *m);
        if (!rc && !m) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tagger: out of memory");
        if (rc) {
            nlprnn_tagger_free(u);
            break;
        }
        t->more = m;
        t->more[t->n_more++] = u; /* u's own members (a packed file) follow it, flattened */
        for (int k = 0; k < u->n_more; k++) t->more[t->n_more++] = u->more[k];
        free(u->more);
        u->more = NULL, u->n_more = 0;
        nr_tagger_summarize(u);
    }
    if (rc) {
        nlprnn_tagger_free(t);
        return rc;
    }
    summarize_ensemble(t);
    *out = t;
    return NLPRNN_OK;
}

/* tasks/kinds.c: the one place that knows every kind of model file. nlprnn_model_file_describe
 * writes the container's description and a classifier's tokenizer and labels into a text, and
 * then validates the file with the public loader of its kind. A new task with a model file of its
 * own adds its kind to validate_by_loading. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "corpora/dataset.h"
#include "format/modelfile.h"
#include "nlprnn/classifier.h"
#include "nlprnn/forecast.h"
#include "nlprnn/lm.h"
#include "nlprnn/tagger.h"
#include "nlprnn/modelfile.h"
#include "nlprnn/translate.h"
#include "tasks/classify/classifier.h"

/* Load the file at path with the public loader of its kind and free the result: NLPRNN_OK or
 * the loader's error. Kinds without a loader of their own (checkpoints) pass. */
static int validate_by_loading(const char *kind, const char *path, nlprnn_error *err) {
    int rc = NLPRNN_OK;
    if (!strcmp(kind, NR_KIND_CLASSIFIER)) {
        nlprnn_classifier *m = NULL;
        rc = nlprnn_classifier_load(path, &m, err);
        nlprnn_classifier_free(m);
    } else if (!strcmp(kind, NR_KIND_LANGMODEL)) {
        nlprnn_lm *lm = NULL;
        rc = nlprnn_lm_load(path, &lm, err);
        nlprnn_lm_free(lm);
    } else if (!strcmp(kind, NR_KIND_FORECASTER)) {
        nlprnn_forecaster *f = NULL;
        rc = nlprnn_forecaster_load(path, &f, err);
        nlprnn_forecaster_free(f);
    } else if (!strcmp(kind, NR_KIND_TAGGER)) {
        nlprnn_tagger *t = NULL;
        rc = nlprnn_tagger_load(path, &t, err);
        nlprnn_tagger_free(t);
    } else if (!strcmp(kind, NR_KIND_TRANSLATOR)) {
        nlprnn_translator *t = NULL;
        rc = nlprnn_translator_load(path, &t, err);
        nlprnn_translator_free(t);
    }
    return rc;
}

int nlprnn_model_file_describe(const char *path_or_name, char **text, nlprnn_error *err) {
    if (!text) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "describe: NULL output");
    *text = NULL;
    char path[4096];
    int rc = nr_model_resolve(path_or_name, NULL, path, sizeof path, err);
    if (rc) return rc;
    nr_mf_reader *r = NULL;
    rc = nr_mf_open_file(&r, path, NULL, err);
    if (rc) return rc;
    nr_mf_buf b;
    nr_mf_buf_init(&b);
    rc = nr_mf_describe(r, &b, err);
    /* a classifier also gets its tokenizer and labels checked and summarised */
    if (!rc && !strcmp(nr_mf_kind(r), NR_KIND_CLASSIFIER)) {
        nr_clf_cfg cfg;
        nlprnn_tokenizer *tok = NULL;
        nr_label_map lm, nm;
        nr_label_map_init(&lm);
        nr_label_map_init(&nm);
        rc = nr_clf_load_parts(r, &cfg, &tok, &lm, err);
        if (!rc) rc = nr_clf_load_names(r, &lm, &nm, err);
        if (!rc) {
            rc = nr_mf_buf_printf(&b, err, "tokenizer: %s\nlabels:", nlprnn_tokenizer_describe(tok));
            for (int i = 0; !rc && i < lm.n; i++) rc = nr_mf_buf_printf(&b, err, " %s", lm.names[i]);
            if (!rc) rc = nr_mf_buf_printf(&b, err, "\n");
            if (!rc && nm.n) rc = nr_mf_buf_printf(&b, err, "label names:");
            for (int i = 0; !rc && i < nm.n; i++) rc = nr_mf_buf_printf(&b, err, " %s", nm.names[i]);
            if (!rc && nm.n) rc = nr_mf_buf_printf(&b, err, "\n");
        }
        nlprnn_tokenizer_free(tok);
        nr_label_map_free(&lm);
        nr_label_map_free(&nm);
    }
    if (!rc) rc = nr_mf_buf_put(&b, "", 1, err);
    char kind[8];
    snprintf(kind, sizeof kind, "%s", nr_mf_kind(r));
    nr_mf_close(r);
    /* a file that its own loader refuses (a missing tensor, a shape that does not fit the
     * configuration, non-finite weights ...) is not described as if it were fine */
    if (!rc) rc = validate_by_loading(kind, path, err);
    if (rc) {
        nr_mf_buf_free(&b);
        return rc;
    }
    *text = (char *)b.data;
    return NLPRNN_OK;
}

/* tasks/classify/labels.c: the classifier's label section (LABL): a label map (corpora/dataset.h)
 * stored as a strings section of the model-file container (format/modelfile.h). */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "corpora/dataset.h"
#include "format/modelfile.h"
#include "tasks/classify/classifier.h"

int nr_label_map_save(const nr_label_map *m, nr_mf_writer *w, const char *tag,
                      nlprnn_error *err) {
    nr_mf_buf b;
    nr_mf_buf_init(&b);
    int rc = nr_strings_put(&b, (const char *const *)m->names, (size_t)m->n, err);
    if (!rc) rc = nr_mf_add(w, tag, NR_MF_STRINGS, b.data, b.len, 0, err);
    nr_mf_buf_free(&b);
    return rc;
}

int nr_label_map_load(nr_label_map *m, const nr_mf_reader *r, const char *tag,
                      nlprnn_error *err) {
    nr_label_map_init(m);
    const char **strs = NULL;
    size_t n = 0;
    int rc = nr_mf_get_strings(r, tag, &strs, &n, err);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(strs[i]);
        if (nr_label_map_find(m, strs[i], len) >= 0) {
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: section %s: label \"%s\" twice",
                         nr_mf_name(r), tag, strs[i]);
            break;
        }
        rc = nr_label_map_add(m, strs[i], len, err);
        if (rc == NLPRNN_E_DATA) { /* a bad label inside a model file: the file is damaged */
            char why[sizeof err->message];
            snprintf(why, sizeof why, "%s", err ? err->message : "");
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: section %s: label %zu: %s",
                         nr_mf_name(r), tag, i + 1, why);
        }
        if (rc < 0) break;
        rc = 0;
    }
    free(strs);
    if (rc < 0) nr_label_map_free(m);
    return rc < 0 ? rc : NLPRNN_OK;
}

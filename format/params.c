/* format/params.c: a parameter table in a model file's config section (format/params.h). */
#include "format/params.h"

#include <string.h>

#include "common/common.h"

static int listed(const char *const *names, const char *name) {
    for (; names && *names; names++)
        if (!strcmp(*names, name)) return 1;
    return 0;
}

int nr_params_to_conf(nr_mf_buf *conf, const nr_param_table *t, const void *obj,
                      const char *const *skip, nlprnn_error *err) {
    int rc = NLPRNN_OK;
    for (size_t i = 0; !rc && i < t->n; i++) {
        if (listed(skip, t->rows[i].name)) continue;
        char v[1200];
        nr_param_format(&t->rows[i], obj, v, sizeof v);
        rc = nr_conf_put_str(conf, t->rows[i].name, v, err);
    }
    return rc;
}

int nr_params_from_conf(const nr_conf *c, const nr_param_table *t, void *obj,
                        const char *const *skip, const char *const *optional, nlprnn_error *err) {
    int rc = NLPRNN_OK;
    for (size_t i = 0; !rc && i < t->n; i++) {
        const char *name = t->rows[i].name, *v;
        if (listed(skip, name) || (listed(optional, name) && !nr_conf_has(c, name))) continue;
        rc = nr_conf_get_str(c, name, &v, err);
        nlprnn_error e2;
        if (!rc && nr_params_set(t, obj, name, v, &e2))
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: %s", c->where, e2.message);
    }
    return rc;
}

/* format/params.h: a task's parameter table (common/params.h) in a model file's config section.
 *
 * A model file records the parameters it was trained with as config keys named like the table's
 * rows, each value as nr_params_get formats it; loading sets them back through the table, so a
 * value the table refuses is a bad file, not a bad argument.
 *   skip      rows not stored (NULL-terminated names, or NULL): "checkpoint", "threads"...
 *   optional  rows a file may lack (keys added after files were shipped): their default stays
 */
#ifndef NR_FORMAT_PARAMS_H
#define NR_FORMAT_PARAMS_H

#include "common/params.h"
#include "format/modelfile.h"

/* Every row of t but the skipped ones, in the table's order, into conf. */
int nr_params_to_conf(nr_mf_buf *conf, const nr_param_table *t, const void *obj,
                      const char *const *skip, nlprnn_error *err);
/* The same rows from c into obj. A missing key (not optional) or a value the table refuses:
 * NLPRNN_E_FORMAT naming the section ("model.nrm: section CONF: ..."). */
int nr_params_from_conf(const nr_conf *c, const nr_param_table *t, void *obj,
                        const char *const *skip, const char *const *optional, nlprnn_error *err);

#endif

/* train/ctl.c: the control object of a training call (nlprnn/train.h). */
#include "train/ctl.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "format/modelfile.h"

int nlprnn_train_ctl_create(nlprnn_train_ctl **out, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "train control: out is NULL");
    *out = calloc(1, sizeof **out);
    return *out ? NLPRNN_OK : nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
}

void nlprnn_train_ctl_free(nlprnn_train_ctl *ctl) { free(ctl); }

void nlprnn_train_ctl_set_stop(nlprnn_train_ctl *ctl, const volatile int *stop) {
    if (ctl) ctl->stop = stop;
}

void nlprnn_train_ctl_set_resume(nlprnn_train_ctl *ctl, int resume) {
    if (ctl) ctl->resume = resume != 0;
}

void nlprnn_train_ctl_set_comm(nlprnn_train_ctl *ctl, const nlprnn_comm *comm) {
    if (ctl) ctl->comm = comm;
}

/* ---- the configuration every task starts from ------------------------------------------------ */

int nr_train_cfg_std(nr_train_cfg *cfg, const char *name, const nr_param_table *t, const void *obj,
                     const nlprnn_train_ctl *ctl, nlprnn_error *err) {
    memset(cfg, 0, sizeof *cfg);
    const int *i;
    const double *d;
    const long long *ll;
    const char *s;
    double lr = 0, min_lr = -1;
    if ((i = nr_param_field(t, obj, "epochs", NR_PARAM_INT))) cfg->epochs = *i;
    if ((i = nr_param_field(t, obj, "patience", NR_PARAM_INT))) cfg->patience = *i;
    if ((i = nr_param_field(t, obj, "keep", NR_PARAM_ENUM))) cfg->keep_last = *i == 1; /* "best last" */
    if ((d = nr_param_field(t, obj, "lr", NR_PARAM_DBL))) lr = *d;
    if ((d = nr_param_field(t, obj, "min-lr", NR_PARAM_DBL))) min_lr = *d < lr ? *d : lr;
    if ((d = nr_param_field(t, obj, "clip", NR_PARAM_DBL))) cfg->clip = *d;
    if ((d = nr_param_field(t, obj, "ema", NR_PARAM_DBL))) cfg->ema = *d;
    if ((d = nr_param_field(t, obj, "time-limit", NR_PARAM_DBL))) cfg->time_limit = *d;
    if ((s = nr_param_field(t, obj, "checkpoint", NR_PARAM_STR))) cfg->checkpoint = s;
    if ((ll = nr_param_field(t, obj, "checkpoint-every", NR_PARAM_LL))) cfg->checkpoint_every = *ll;
    nr_optim_cfg_default(&cfg->optim, NR_OPT_ADAM);
    cfg->optim.lr = (float)lr;
    cfg->lr.kind = min_lr >= 0 ? NR_LR_COSINE : NR_LR_CONSTANT;
    cfg->lr.base_lr = (float)lr;
    cfg->lr.min_lr = (float)(min_lr >= 0 ? min_lr : lr);
    cfg->lr_follows_time = cfg->time_limit > 0;
    cfg->workers = 1;
    cfg->params = t;
    cfg->params_obj = obj;
    cfg->stop = ctl ? ctl->stop : NULL;
    cfg->comm = ctl ? ctl->comm : NULL;
    if (!ctl || !ctl->resume) return NLPRNN_OK;
    nr_mf_reader *r = NULL;
    nr_conf c;
    int rc = nr_ckpt_open(cfg->checkpoint, name, &r, &c, err);
    nr_conf_free(&c);
    cfg->resume = cfg->opened = r;
    return rc;
}

void nr_train_cfg_done(nr_train_cfg *cfg) {
    nr_mf_close(cfg->opened);
    cfg->resume = cfg->opened = NULL;
}

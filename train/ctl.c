/* train/ctl.c: the control object of a training call (nlprnn/train.h). */
#include "train/ctl.h"

#include <stdlib.h>

#include "common/common.h"

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

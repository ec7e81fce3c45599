/* train/ctl.h: the control object of a training call (internal side of nlprnn/train.h). */
#ifndef NR_TRAIN_CTL_H
#define NR_TRAIN_CTL_H

#include "nlprnn/train.h"

struct nlprnn_train_ctl {
    const volatile int *stop; /* may be NULL */
    int resume;
    const nlprnn_comm *comm;  /* may be NULL */
};

#endif

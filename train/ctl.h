/* train/ctl.h: the control object of a training call (internal side of nlprnn/train.h), and the
 * trainer configuration every task starts from. */
#ifndef NR_TRAIN_CTL_H
#define NR_TRAIN_CTL_H

#include "nlprnn/train.h"
#include "train/trainer.h"

struct nlprnn_train_ctl {
    const volatile int *stop; /* may be NULL */
    int resume;
    const nlprnn_comm *comm;  /* may be NULL */
};

/* The configuration of a task's nr_train, filled the way every task fills it:
 *   - from the task's parameter table t (obj: its parameters), by name, the rows it has of
 *       epochs, lr, min-lr, clip, ema, patience, keep (enum "best last"), time-limit, checkpoint,
 *       checkpoint-every
 *     (a row the table lacks leaves the field 0), so each default stays in the task's table;
 *   - the optimizer Adam at lr; the learning rate cosine from lr down to min(min-lr, lr) when the
 *     table has min-lr, else constant; with a time limit the schedule follows the time budget;
 *   - one worker; t and obj recorded in checkpoints and checked on resume;
 *   - from ctl (may be NULL): the stop flag, the communicator and, when ctl asks to resume, the
 *     checkpoint opened into cfg->resume (it must be a checkpoint of task `name`).
 * The caller then sets workers, progress and user, and whatever its task does otherwise, calls
 * nr_train, and always nr_train_cfg_done (also after a failure here). */
/* The help line of the "ema" row every task's table has that takes it (trainer.h, "Averaged
 * weights"): a DBL row in [0, 1) with NR_PARAM_OPEN_HI, default "0". */
#define NR_TRAIN_EMA_HELP                                                                               \
    "decay d of an exponential moving average of the weights (0: off; e.g. 0.999): validation, --keep " \
    "and the model use the average, updated after every step with min(d, (1+t)/(10+t))"

int nr_train_cfg_std(nr_train_cfg *cfg, const char *name, const nr_param_table *t, const void *obj,
                     const nlprnn_train_ctl *ctl, nlprnn_error *err);
/* Close what nr_train_cfg_std opened (the checkpoint of a resume). */
void nr_train_cfg_done(nr_train_cfg *cfg);

#endif

/* nlprnn/train.h: what every training call shares (classifier, language model, forecaster).
 *
 * Every task trains with the same loop inside the library (epochs and batches, learning-rate
 * schedule, clipping, validation with the best weights kept, checkpoints). How a call runs is
 * given by an nlprnn_train_ctl, the same for every task:
 *
 *   stop     a flag the caller sets (from a signal handler): training writes a checkpoint after
 *            the current batch and returns NLPRNN_E_INTERRUPTED. The library installs no handler.
 *   resume   continue from the checkpoint: with the same data and parameters the result is
 *            bit-identical to an uninterrupted run.
 *   comm     data-parallel training over a group of processes (ranks), given explicitly: the
 *            library never looks for MPI by itself. A communicator comes from the optional
 *            component libnlprnn-mpi (nlprnn/dist.h); NULL trains in this process alone.
 *
 *   nlprnn_train_ctl *ctl = NULL;
 *   nlprnn_train_ctl_create(&ctl, &err);
 *   nlprnn_train_ctl_set_stop(ctl, &stop_flag);          // set by a SIGINT handler
 *   nlprnn_train_ctl_set_resume(ctl, resume);
 *   nlprnn_forecaster_train_ctl(series, params, ctl, progress, user, &f, &err);
 *   nlprnn_train_ctl_free(ctl);
 *
 * Thread rule: a control object belongs to one thread at a time; a communicator is used from the
 * thread that created it.
 */
#ifndef NLPRNN_TRAIN_H
#define NLPRNN_TRAIN_H

#include "nlprnn/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A group of processes that train one model together (data parallelism). Made by the optional
 *  component libnlprnn-mpi (nlprnn_dist_comm_create in nlprnn/dist.h). */
typedef struct nlprnn_comm nlprnn_comm;

/** This process's rank in c, 0..size-1 (0 for NULL). */
NLPRNN_API int nlprnn_comm_rank(const nlprnn_comm *c);
/** The number of ranks of c (1 for NULL). */
NLPRNN_API int nlprnn_comm_size(const nlprnn_comm *c);
/** Stop every rank of c with exit status `code` (when this rank failed alone, so that the others
 *  do not wait for it for ever). Returns without doing anything for NULL or a group of one. */
NLPRNN_API void nlprnn_comm_abort(const nlprnn_comm *c, int code);
/** Free a communicator (NULL is allowed). */
NLPRNN_API void nlprnn_comm_free(nlprnn_comm *c);

/** How a training call runs (see above). */
typedef struct nlprnn_train_ctl nlprnn_train_ctl;

/** A control object with the defaults: no stop flag, a fresh run, this process alone. */
NLPRNN_API int nlprnn_train_ctl_create(nlprnn_train_ctl **out, nlprnn_error *err);
/** Free a control object (NULL is allowed). The stop flag and the communicator stay the
 *  caller's. */
NLPRNN_API void nlprnn_train_ctl_free(nlprnn_train_ctl *ctl);
/** The stop flag (NULL: none). When *stop becomes non-zero, training saves a checkpoint after
 *  the current batch and returns NLPRNN_E_INTERRUPTED. */
NLPRNN_API void nlprnn_train_ctl_set_stop(nlprnn_train_ctl *ctl, const volatile int *stop);
/** 1: continue from the checkpoint (the task's "checkpoint" parameter names it); 0: a new run. */
NLPRNN_API void nlprnn_train_ctl_set_resume(nlprnn_train_ctl *ctl, int resume);
/** Train over the ranks of comm (NULL: this process alone). The communicator must outlive the
 *  training call. */
NLPRNN_API void nlprnn_train_ctl_set_comm(nlprnn_train_ctl *ctl, const nlprnn_comm *comm);

#ifdef __cplusplus
}
#endif
#endif

/* nlprnn/dist.h: data-parallel training over MPI.
 *
 * `mpirun -np N nlprnn train ...` runs N copies of the program (ranks); nlprnn_classifier_train()
 * and nlprnn_lm_train() then split every global batch over the ranks, average the gradients with
 * MPI_Allreduce and keep the parameters identical on every rank. Rank 0 alone writes checkpoints
 * and the model. See docs/scaling.md.
 *
 * The program (not the library) starts and stops MPI with these calls, once, from the main
 * thread: nlprnn_dist_init() before any training call, nlprnn_dist_finalize() before exiting.
 * A program that was not started by an MPI launcher (no OMPI_COMM_WORLD_SIZE, PMI_SIZE or
 * PMIX_RANK in the environment) never initializes MPI: it is rank 0 of 1 and behaves exactly as
 * a build without MPI. While more than one rank runs, only the thread that called
 * nlprnn_dist_init() may call the training functions (MPI_THREAD_FUNNELED).
 */
#ifndef NLPRNN_DIST_H
#define NLPRNN_DIST_H

#include "nlprnn/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/** 1 when this library was built with MPI (CMake option NLPRNN_MPI), else 0. */
NLPRNN_API int nlprnn_dist_available(void);

/** Join the MPI job when the program was started by an MPI launcher (mpirun, srun); otherwise do
 *  nothing. argc/argv are passed to MPI_Init_thread (may be NULL). Returns NLPRNN_E_UNSUPPORTED
 *  when a launcher started more than one process but the library was built without MPI (each
 *  copy would otherwise train alone and overwrite the others' files), NLPRNN_E_STATE when MPI
 *  cannot be initialized. Calling it again after success does nothing. */
NLPRNN_API int nlprnn_dist_init(int *argc, char ***argv, nlprnn_error *err);

/** This process's rank, 0..size-1 (0 when MPI is not running). */
NLPRNN_API int nlprnn_dist_rank(void);

/** The number of ranks of the job (1 when MPI is not running). */
NLPRNN_API int nlprnn_dist_size(void);

/** Stop every rank of the job with exit status `code` (MPI_Abort). Use it when this rank failed
 *  alone, so that the others do not wait for it for ever. Returns without doing anything when
 *  only one rank runs. */
NLPRNN_API void nlprnn_dist_abort(int code);

/** Leave the MPI job (MPI_Finalize) if nlprnn_dist_init() joined one; otherwise do nothing. */
NLPRNN_API void nlprnn_dist_finalize(void);

#ifdef __cplusplus
}
#endif
#endif

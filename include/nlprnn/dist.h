/* nlprnn/dist.h: data-parallel training over MPI -- the optional component libnlprnn-mpi.
 *
 * The core library (libnlprnn, nlprnn.h) links no MPI: a program that classifies or generates
 * text never loads it. A program that trains over MPI includes this header (it is not part of
 * nlprnn.h) and links libnlprnn-mpi as well (pkg-config nlprnn-mpi; CMake nlprnn::nlprnn_mpi),
 * which exists when nlprnn was built with MPI (CMake option NLPRNN_MPI).
 *
 * `mpirun -np N program ...` runs N copies of the program (ranks). The program, not the library,
 * joins the job and hands the library a communicator, explicitly:
 *
 *   nlprnn_dist_init(&argc, &argv, &err);             // once, from the main thread
 *   nlprnn_comm *comm = NULL;
 *   nlprnn_dist_comm_create(&comm, &err);              // MPI_COMM_WORLD (1 rank without mpirun)
 *   nlprnn_train_ctl_set_comm(ctl, comm);              // nlprnn/train.h
 *   nlprnn_classifier_train_ctl(p, train, valid, out, ctl, progress, user, &err);
 *   nlprnn_comm_free(comm);
 *   nlprnn_dist_finalize();                            // before exiting
 *
 * Training then splits every global batch over the ranks, averages the gradients with
 * MPI_Allreduce and keeps the parameters identical on every rank; rank 0 alone writes checkpoints
 * and the model. See docs/scaling.md. A program that was not started by an MPI launcher (no
 * OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK in the environment) never initializes MPI: it is
 * rank 0 of 1. While more than one rank runs, only the thread that called nlprnn_dist_init() may
 * call the training functions (MPI_THREAD_FUNNELED).
 */
#ifndef NLPRNN_DIST_H
#define NLPRNN_DIST_H

#include "nlprnn/base.h"
#include "nlprnn/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a function exported from libnlprnn-mpi. */
#if defined(NLPRNN_MPI_BUILDING) && defined(__GNUC__)
#define NLPRNN_MPI_API __attribute__((visibility("default")))
#else
#define NLPRNN_MPI_API
#endif

/** 1: this component was built with MPI (always 1 where libnlprnn-mpi exists). */
NLPRNN_MPI_API int nlprnn_dist_available(void);

/** Join the MPI job when the program was started by an MPI launcher (mpirun, srun); otherwise do
 *  nothing. argc/argv are passed to MPI_Init_thread (may be NULL). NLPRNN_E_STATE when MPI
 *  cannot be initialized. Calling it again after success does nothing. */
NLPRNN_MPI_API int nlprnn_dist_init(int *argc, char ***argv, nlprnn_error *err);

/** This process's rank, 0..size-1 (0 when MPI is not running). */
NLPRNN_MPI_API int nlprnn_dist_rank(void);

/** The number of ranks of the job (1 when MPI is not running). */
NLPRNN_MPI_API int nlprnn_dist_size(void);

/** A communicator of every rank of the job (MPI_COMM_WORLD; a group of one when MPI is not
 *  running), for nlprnn_train_ctl_set_comm(). Free it with nlprnn_comm_free() before
 *  nlprnn_dist_finalize(). */
NLPRNN_MPI_API int nlprnn_dist_comm_create(nlprnn_comm **out, nlprnn_error *err);

/** Stop every rank of the job with exit status `code` (MPI_Abort). Use it when this rank failed
 *  alone, so that the others do not wait for it for ever. Returns without doing anything when
 *  only one rank runs. */
NLPRNN_MPI_API void nlprnn_dist_abort(int code);

/** Leave the MPI job (MPI_Finalize) if nlprnn_dist_init() joined one; otherwise do nothing. */
NLPRNN_MPI_API void nlprnn_dist_finalize(void);

#ifdef __cplusplus
}
#endif
#endif

/* models/dist.h: the MPI layer of data-parallel training (internal, not installed).
 *
 * Every MPI call of the library is in models/dist.c. Built without MPI (NLPRNN_HAVE_MPI unset)
 * the same functions exist for a group of one rank: sums are the identity, broadcasts and checks
 * do nothing. Training code calls them unconditionally when d->size > 1 and never includes mpi.h.
 *
 * Collective calls (everything that takes a const nr_dist * except nr_dist_checksum) must be
 * made by every rank in the same order, from the thread that called nlprnn_dist_init().
 * A failing MPI call becomes NLPRNN_E_IO with the MPI error string; a rank that dies makes the
 * launcher (mpirun) stop the whole job.
 */
#ifndef NR_MODELS_DIST_H
#define NR_MODELS_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

/* Gradient buckets: 1 Mi floats = 4 MiB per MPI_Iallreduce. */
#define NR_DIST_BUCKET_FLOATS ((size_t)1 << 20)
/* Language-model training compares the ranks' weights every this many steps. */
#define NR_DIST_LM_CHECK_EVERY 100

typedef struct nr_dist {
    int rank, size;  /* size 1, rank 0 when MPI is not running */
} nr_dist;

/* The job this process belongs to (MPI_COMM_WORLD when MPI runs, else 1 rank). */
void nr_dist_world(nr_dist *d);

/* Reductions in flight (non-blocking all-reduces started by nr_dist_isum_f32). */
typedef struct nr_dist_pending {
    void *req;  /* MPI_Request[cap] */
    int n, cap;
} nr_dist_pending;

void nr_dist_pending_free(nr_dist_pending *p);

/* Start the sum over all ranks of buf[0..n), in place, as buckets of at most `bucket` floats
 * (MPI_Iallreduce each); the result is there after nr_dist_wait(). buf must not be touched
 * until then. */
int nr_dist_isum_f32(const nr_dist *d, nr_dist_pending *p, float *buf, size_t n, size_t bucket,
                     nlprnn_error *err);
/* Start the sum over all ranks of v[0..n) (doubles, in place, one request). */
int nr_dist_isum_f64(const nr_dist *d, nr_dist_pending *p, double *v, int n, nlprnn_error *err);
/* Start the bitwise OR over all ranks of v[0..n) (a bit set, in place, one request). */
int nr_dist_ior_u64(const nr_dist *d, nr_dist_pending *p, uint64_t *v, size_t n, nlprnn_error *err);
/* Wait for every reduction started in p. */
int nr_dist_wait(const nr_dist *d, nr_dist_pending *p, nlprnn_error *err);

/* Blocking sums in place over all ranks: v[0..n). Counts fit doubles exactly below 2^53. */
int nr_dist_sum_f64(const nr_dist *d, double *v, int n, nlprnn_error *err);

/* Blocking sum in place over all ranks of 64-bit integers v[0..n). */
int nr_dist_sum_i64(const nr_dist *d, long long *v, size_t n, nlprnn_error *err);
/* The largest *v over all ranks, in place. */
int nr_dist_max_i64(const nr_dist *d, long long *v, nlprnn_error *err);
/* g[0..n) = sum over ranks of scale * g (scale applied here first), bucketed; blocking. */
int nr_dist_sum_grad(const nr_dist *d, float *g, size_t n, float scale, nlprnn_error *err);

/* Concatenate every rank's mine[0..n) in rank order into *all (malloc'ed, *n_all entries);
 * counts (may be NULL) receives each rank's n (size entries). */
int nr_dist_allgather_i32(const nr_dist *d, const int32_t *mine, size_t n, int32_t **all,
                          size_t *n_all, size_t *counts, nlprnn_error *err);

/* Personalized exchange: send[sdispl[r] .. + scount[r]) goes to rank r, recv[rdispl[r] ..
 * + rcount[r]) comes from rank r (MPI_Alltoallv on int32). All arrays have size entries. */
int nr_dist_alltoall_i32(const nr_dist *d, const int32_t *send, const int *scount,
                         const int *sdispl, int32_t *recv, const int *rcount, const int *rdispl,
                         nlprnn_error *err);

/* Rank 0's buf[0..n) to every rank. */
int nr_dist_bcast_f32(const nr_dist *d, float *buf, size_t n, nlprnn_error *err);

/* 64-bit checksum of the bits of x[0..n) (order-sensitive; not cryptographic). */
uint64_t nr_dist_checksum(const float *x, size_t n);

/* Compare the checksum of x[0..n) over all ranks. When they differ, every rank returns
 * NLPRNN_E_STATE: "<what> differ between ranks after step <step> (checksums ... on rank i, ...
 * on rank j)". */
int nr_dist_check_same(const nr_dist *d, const float *x, size_t n, const char *what,
                       long long step, nlprnn_error *err);

/* Agree on a status: every rank passes its rc; when any rank has a non-zero rc, every rank
 * returns one (its own if it has one; else the first failing rank's code with the message
 * "rank R failed: <its status name>; see its message"). Ranks with rc == 0 keep err untouched
 * when all succeed. */
int nr_dist_agree(const nr_dist *d, int rc, nlprnn_error *err);

/* 1 when flag is non-zero on any rank. */
int nr_dist_any(const nr_dist *d, int flag, nlprnn_error *err);

#endif

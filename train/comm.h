/* train/comm.h: the communicator of data-parallel training (internal side of nlprnn/dist.h).
 *
 * A communicator is a group of processes (ranks) that train one model together. The core
 * library knows only this interface: a table of operations (all-reduce, gather, exchange,
 * broadcast) that an implementation fills in. The MPI implementation lives in the optional
 * component libnlprnn-mpi (dist/mpi.c); the core links no MPI. A caller passes a communicator
 * explicitly (nlprnn_train_ctl_set_comm); NULL, or a group of one, is this process alone and
 * every collective below is then a no-op (the operations are never called).
 *
 * Collective calls (everything here but nr_comm_checksum) must be made by every rank in the same
 * order, from the thread that created the communicator. A failing operation returns a status with
 * a message (the MPI implementation: NLPRNN_E_IO and MPI's error string); a rank that dies makes
 * the launcher stop the whole job.
 */
#ifndef NR_TRAIN_COMM_H
#define NR_TRAIN_COMM_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

/* Gradient buckets: 1 Mi floats = 4 MiB per all-reduce. */
#define NR_COMM_BUCKET_FLOATS ((size_t)1 << 20)

typedef struct nlprnn_comm nr_comm;

/* Element types and reduction operators of the operations. */
enum { NR_COMM_F32 = 0, NR_COMM_F64 = 1, NR_COMM_I64 = 2, NR_COMM_U64 = 3, NR_COMM_I32 = 4 };
enum { NR_COMM_SUM = 0, NR_COMM_MAX = 1, NR_COMM_MIN = 2, NR_COMM_BOR = 3 };

/* Reductions in flight (requests of the implementation). */
typedef struct nr_comm_pending {
    void *req;   /* the implementation's request array */
    int n, cap;
} nr_comm_pending;

typedef struct nr_comm_ops {
    /* Start an in-place reduction of buf[0..n) (n < 2^31) over all ranks; its request goes into p. */
    int (*iallreduce)(const nr_comm *c, nr_comm_pending *p, void *buf, size_t n, int type, int op,
                      nlprnn_error *err);
    /* Wait for every request in p (then p->n = 0). */
    int (*wait)(const nr_comm *c, nr_comm_pending *p, nlprnn_error *err);
    /* all[r * n + i] = rank r's mine[i] (n elements of type from every rank). */
    int (*allgather)(const nr_comm *c, const void *mine, void *all, size_t n, int type,
                     nlprnn_error *err);
    /* Rank r's mine[0..counts[r]) into out + displs[r] (int32). */
    int (*allgatherv_i32)(const nr_comm *c, const int32_t *mine, int n, int32_t *out,
                          const int *counts, const int *displs, nlprnn_error *err);
    /* send[sdispl[r] .. + scount[r]) to rank r, recv[rdispl[r] .. + rcount[r]) from rank r. */
    int (*alltoallv_i32)(const nr_comm *c, const int32_t *send, const int *scount,
                         const int *sdispl, int32_t *recv, const int *rcount, const int *rdispl,
                         nlprnn_error *err);
    /* Rank 0's buf[0..n) to every rank (n < 2^31). */
    int (*bcast)(const nr_comm *c, void *buf, size_t n, int type, nlprnn_error *err);
    /* Stop every rank with this exit status (may return when impossible). */
    void (*abort)(const nr_comm *c, int code);
    /* Release impl (nlprnn_comm_free). */
    void (*release)(nr_comm *c);
} nr_comm_ops;

struct nlprnn_comm {
    int rank, size;
    const nr_comm_ops *ops; /* NULL for a group of one */
    void *impl;             /* the implementation's handle (an MPI_Comm) */
};

/* The group of one: rank 0 of 1. */
void nr_comm_self(nr_comm *c);
/* *c = *from, or the group of one when from is NULL. */
void nr_comm_copy(nr_comm *c, const nr_comm *from);

void nr_comm_pending_free(nr_comm_pending *p);

/* Start the sum over all ranks of buf[0..n), in place, as buckets of at most `bucket` floats;
 * the result is there after nr_comm_wait(). buf must not be touched until then. */
int nr_comm_isum_f32(const nr_comm *c, nr_comm_pending *p, float *buf, size_t n, size_t bucket,
                     nlprnn_error *err);
/* Start the sum over all ranks of v[0..n) (doubles, in place, one request). */
int nr_comm_isum_f64(const nr_comm *c, nr_comm_pending *p, double *v, int n, nlprnn_error *err);
/* Start the bitwise OR over all ranks of v[0..n) (a bit set, in place, one request). */
int nr_comm_ior_u64(const nr_comm *c, nr_comm_pending *p, uint64_t *v, size_t n, nlprnn_error *err);
/* Wait for every reduction started in p. */
int nr_comm_wait(const nr_comm *c, nr_comm_pending *p, nlprnn_error *err);

/* Blocking sums in place over all ranks. Counts fit doubles exactly below 2^53. */
int nr_comm_sum_f64(const nr_comm *c, double *v, int n, nlprnn_error *err);
int nr_comm_sum_i64(const nr_comm *c, long long *v, size_t n, nlprnn_error *err);
/* The largest *v over all ranks, in place. */
int nr_comm_max_i64(const nr_comm *c, long long *v, nlprnn_error *err);
/* g[0..n) = sum over ranks of scale * g (scale applied here first), bucketed; blocking. */
int nr_comm_sum_grad(const nr_comm *c, float *g, size_t n, float scale, nlprnn_error *err);

/* Concatenate every rank's mine[0..n) in rank order into *all (malloc'ed, *n_all entries);
 * counts (may be NULL) receives each rank's n (size entries). */
int nr_comm_allgather_i32(const nr_comm *c, const int32_t *mine, size_t n, int32_t **all,
                          size_t *n_all, size_t *counts, nlprnn_error *err);
/* Personalized exchange of int32 (see nr_comm_ops.alltoallv_i32). All arrays have size entries. */
int nr_comm_alltoall_i32(const nr_comm *c, const int32_t *send, const int *scount,
                         const int *sdispl, int32_t *recv, const int *rcount, const int *rdispl,
                         nlprnn_error *err);
/* Rank 0's buf[0..n) to every rank. */
int nr_comm_bcast_f32(const nr_comm *c, float *buf, size_t n, nlprnn_error *err);

/* 64-bit checksum of the bits of x[0..n) (order-sensitive; not cryptographic). */
uint64_t nr_comm_checksum(const float *x, size_t n);
/* Compare the checksum of x[0..n) over all ranks. When they differ, every rank returns
 * NLPRNN_E_STATE: "<what> differ between ranks after step <step> (checksums ...)". */
int nr_comm_check_same(const nr_comm *c, const float *x, size_t n, const char *what,
                       long long step, nlprnn_error *err);
/* Agree on a status: every rank passes its rc; when any rank has a non-zero rc, every rank
 * returns one (its own if it has one; else the lowest failing code, from the lowest rank with it:
 * "rank R failed (<status name>); its own message says why"). */
int nr_comm_agree(const nr_comm *c, int rc, nlprnn_error *err);
/* 1 when flag is non-zero on any rank (a negative status when the exchange fails). */
int nr_comm_any(const nr_comm *c, int flag, nlprnn_error *err);

#endif

/* dist/mpi.c: the MPI communicator of data-parallel training (the optional component
 * libnlprnn-mpi; public side: include/nlprnn/dist.h, core side: train/comm.h).
 *
 * Every MPI call of nlprnn is in this file; the core library (libnlprnn) links no MPI and knows
 * only the operations table (nr_comm_ops) that this file fills in. MPI state is MPI's own
 * (MPI_Initialized / MPI_Finalized / MPI_COMM_WORLD): no global of ours. MPI_COMM_WORLD is
 * switched to MPI_ERRORS_RETURN at init, so that a failing call becomes an nlprnn_error instead
 * of killing the process from inside a library call.
 */
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlprnn/dist.h"
#include "train/comm.h"

/* This component uses only the core's public API and the operations table's types: it fills the
 * error record itself. */
static int fail(nlprnn_error *err, int code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        err->reserved = 0;
        err->line = err->offset = -1;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Set by an MPI launcher: Open MPI (mpirun), PMI-1/2 (MPICH hydra, srun --mpi=pmi2), PMIx. */
static const char *launcher_var(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE",
                                       "MV2_COMM_WORLD_SIZE", "PMIX_RANK"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) return vars[i];
    }
    return NULL;
}

static int running(void) {
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    return init && !fin;
}

static int mpi_fail(nlprnn_error *err, int mrc, const char *what) {
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(mrc, s, &len) != MPI_SUCCESS) snprintf(s, sizeof s, "MPI error %d", mrc);
    return fail(err, NLPRNN_E_IO, "MPI: %s failed: %.300s", what, s);
}

int nlprnn_dist_available(void) { return 1; }

int nlprnn_dist_init(int *argc, char ***argv, nlprnn_error *err) {
    if (running() || !launcher_var()) return NLPRNN_OK;
    int provided = 0;
    int mrc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (mrc != MPI_SUCCESS)
        return fail(err, NLPRNN_E_STATE, "MPI_Init_thread failed (error %d)", mrc);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    if (provided < MPI_THREAD_FUNNELED) {
        MPI_Finalize();
        return fail(err, NLPRNN_E_STATE,
                       "MPI offers thread level %d, training needs MPI_THREAD_FUNNELED", provided);
    }
    return NLPRNN_OK;
}

int nlprnn_dist_rank(void) {
    int r = 0;
    if (running()) MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int nlprnn_dist_size(void) {
    int s = 1;
    if (running()) MPI_Comm_size(MPI_COMM_WORLD, &s);
    return s;
}

void nlprnn_dist_abort(int code) {
    if (nlprnn_dist_size() > 1) MPI_Abort(MPI_COMM_WORLD, code);
}

void nlprnn_dist_finalize(void) {
    if (running()) MPI_Finalize();
}

/* ---- the operations ------------------------------------------------------------------------ */

static MPI_Comm world(const nr_comm *c) { return *(const MPI_Comm *)c->impl; }

static MPI_Datatype mpi_type(int type) {
    switch (type) {
    case NR_COMM_F32: return MPI_FLOAT;
    case NR_COMM_F64: return MPI_DOUBLE;
    case NR_COMM_I64: return MPI_LONG_LONG;
    case NR_COMM_U64: return MPI_UINT64_T;
    default: return MPI_INT32_T;
    }
}

static MPI_Op mpi_op(int op) {
    switch (op) {
    case NR_COMM_MAX: return MPI_MAX;
    case NR_COMM_MIN: return MPI_MIN;
    case NR_COMM_BOR: return MPI_BOR;
    default: return MPI_SUM;
    }
}

static int op_iallreduce(const nr_comm *c, nr_comm_pending *p, void *buf, size_t n, int type, int op,
                         nlprnn_error *err) {
    if (n > (size_t)0x7fffffff) return fail(err, NLPRNN_E_LIMIT, "MPI: %zu values in one reduction", n);
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 16;
        MPI_Request *nr = realloc(p->req, (size_t)cap * sizeof(MPI_Request));
        if (!nr) return fail(err, NLPRNN_E_NOMEM, "out of memory");
        p->req = nr;
        p->cap = cap;
    }
    int mrc = MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, mpi_type(type), mpi_op(op), world(c),
                             (MPI_Request *)p->req + p->n);
    if (mrc != MPI_SUCCESS) return mpi_fail(err, mrc, "MPI_Iallreduce");
    p->n++;
    return NLPRNN_OK;
}

static int op_wait(const nr_comm *c, nr_comm_pending *p, nlprnn_error *err) {
    (void)c;
    int mrc = MPI_Waitall(p->n, p->req, MPI_STATUSES_IGNORE);
    p->n = 0;
    return mrc == MPI_SUCCESS ? NLPRNN_OK : mpi_fail(err, mrc, "waiting for a reduction");
}

static int op_allgather(const nr_comm *c, const void *mine, void *all, size_t n, int type,
                        nlprnn_error *err) {
    int mrc = MPI_Allgather(mine, (int)n, mpi_type(type), all, (int)n, mpi_type(type), world(c));
    return mrc == MPI_SUCCESS ? NLPRNN_OK : mpi_fail(err, mrc, "MPI_Allgather");
}

static int op_allgatherv_i32(const nr_comm *c, const int32_t *mine, int n, int32_t *out, const int *counts,
                             const int *displs, nlprnn_error *err) {
    int mrc = MPI_Allgatherv(mine, n, MPI_INT32_T, out, counts, displs, MPI_INT32_T, world(c));
    return mrc == MPI_SUCCESS ? NLPRNN_OK : mpi_fail(err, mrc, "MPI_Allgatherv");
}

static int op_alltoallv_i32(const nr_comm *c, const int32_t *send, const int *scount, const int *sdispl,
                            int32_t *recv, const int *rcount, const int *rdispl, nlprnn_error *err) {
    int mrc = MPI_Alltoallv(send, scount, sdispl, MPI_INT32_T, recv, rcount, rdispl, MPI_INT32_T, world(c));
    return mrc == MPI_SUCCESS ? NLPRNN_OK : mpi_fail(err, mrc, "MPI_Alltoallv of the batch");
}

static int op_bcast(const nr_comm *c, void *buf, size_t n, int type, nlprnn_error *err) {
    int mrc = MPI_Bcast(buf, (int)n, mpi_type(type), 0, world(c));
    return mrc == MPI_SUCCESS ? NLPRNN_OK : mpi_fail(err, mrc, "MPI_Bcast of the parameters");
}

static void op_abort(const nr_comm *c, int code) { MPI_Abort(world(c), code); }

static void op_release(nr_comm *c) { free(c->impl); }

static const nr_comm_ops MPI_OPS = {op_iallreduce, op_wait, op_allgather, op_allgatherv_i32,
                                    op_alltoallv_i32, op_bcast, op_abort, op_release};

int nlprnn_dist_comm_create(nlprnn_comm **out, nlprnn_error *err) {
    if (!out) return fail(err, NLPRNN_E_INVALID_ARG, "communicator: out is NULL");
    *out = NULL;
    nr_comm *c = calloc(1, sizeof *c);
    MPI_Comm *w = malloc(sizeof *w);
    if (!c || !w) {
        free(c);
        free(w);
        return fail(err, NLPRNN_E_NOMEM, "out of memory");
    }
    c->rank = nlprnn_dist_rank();
    c->size = nlprnn_dist_size();
    *w = MPI_COMM_WORLD;
    c->impl = w;
    c->ops = c->size > 1 ? &MPI_OPS : NULL; /* a group of one needs no MPI call */
    if (!c->ops) {
        free(w);
        c->impl = NULL;
    }
    *out = c;
    return NLPRNN_OK;
}

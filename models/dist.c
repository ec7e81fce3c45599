/* models/dist.c: every MPI call of the library (see models/dist.h and include/nlprnn/dist.h).
 *
 * MPI state is MPI's own (MPI_Initialized / MPI_Finalized / MPI_COMM_WORLD): this file keeps no
 * global of its own. MPI_COMM_WORLD is switched to MPI_ERRORS_RETURN at init, so that a failing
 * call becomes an nlprnn_error instead of killing the process from inside the library.
 */
#include <stdlib.h>
#include <string.h>

#include "models/dist.h"
#include "nlprnn/dist.h"

#ifdef NLPRNN_HAVE_MPI
#include <mpi.h>
#endif

/* Set by an MPI launcher: Open MPI (mpirun), PMI-1/2 (MPICH hydra, srun --mpi=pmi2), PMIx. */
static const char *launcher_var(long *size) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE",
                                       "MV2_COMM_WORLD_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) {
            *size = strtol(v, NULL, 10);
            return vars[i];
        }
    }
    const char *r = getenv("PMIX_RANK");
    if (r && *r) {
        *size = 0; /* unknown */
        return "PMIX_RANK";
    }
    return NULL;
}

#ifdef NLPRNN_HAVE_MPI

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
    return nr_fail(err, NLPRNN_E_IO, -1, -1, "MPI: %s failed: %.300s", what, s);
}

int nlprnn_dist_available(void) {
    return 1;
}

int nlprnn_dist_init(int *argc, char ***argv, nlprnn_error *err) {
    long size = 0;
    if (running() || !launcher_var(&size)) return NLPRNN_OK;
    int provided = 0;
    int mrc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (mrc != MPI_SUCCESS)
        return nr_fail(err, NLPRNN_E_STATE, -1, -1, "MPI_Init_thread failed (error %d)", mrc);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    if (provided < MPI_THREAD_FUNNELED) {
        MPI_Finalize();
        return nr_fail(err, NLPRNN_E_STATE, -1, -1,
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

void nr_dist_world(nr_dist *d) {
    d->rank = nlprnn_dist_rank();
    d->size = nlprnn_dist_size();
}

void nr_dist_pending_free(nr_dist_pending *p) {
    free(p->req);
    memset(p, 0, sizeof *p);
}

/* Room for nb more requests in p. */
static int reserve(nr_dist_pending *p, size_t nb, nlprnn_error *err) {
    if ((size_t)p->n + nb <= (size_t)p->cap) return NLPRNN_OK;
    size_t cap = ((size_t)p->n + nb) * 2;
    MPI_Request *nr = nr_realloc_array(p->req, cap, sizeof(MPI_Request));
    if (!nr) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    p->req = nr;
    p->cap = (int)cap;
    return NLPRNN_OK;
}

int nr_dist_isum_f64(const nr_dist *d, nr_dist_pending *p, double *v, int n, nlprnn_error *err) {
    if (d->size <= 1 || n <= 0) return NLPRNN_OK;
    int rc = reserve(p, 1, err);
    if (rc) return rc;
    int mrc = MPI_Iallreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD,
                             (MPI_Request *)p->req + p->n);
    if (mrc != MPI_SUCCESS) return mpi_fail(err, mrc, "MPI_Iallreduce of the step's sums");
    p->n++;
    return NLPRNN_OK;
}

int nr_dist_ior_u64(const nr_dist *d, nr_dist_pending *p, uint64_t *v, size_t n, nlprnn_error *err) {
    if (d->size <= 1 || n == 0) return NLPRNN_OK;
    if (n > (size_t)0x7fffffff) return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "MPI: bit set too large");
    int rc = reserve(p, 1, err);
    if (rc) return rc;
    int mrc = MPI_Iallreduce(MPI_IN_PLACE, v, (int)n, MPI_UINT64_T, MPI_BOR, MPI_COMM_WORLD,
                             (MPI_Request *)p->req + p->n);
    if (mrc != MPI_SUCCESS) return mpi_fail(err, mrc, "MPI_Iallreduce of the rows seen");
    p->n++;
    return NLPRNN_OK;
}

int nr_dist_isum_f32(const nr_dist *d, nr_dist_pending *p, float *buf, size_t n, size_t bucket,
                     nlprnn_error *err) {
    if (d->size <= 1 || n == 0) return NLPRNN_OK;
    if (bucket == 0 || bucket > (size_t)1 << 30) bucket = NR_DIST_BUCKET_FLOATS;
    int rc = reserve(p, (n + bucket - 1) / bucket, err);
    if (rc) return rc;
    MPI_Request *req = p->req;
    for (size_t at = 0; at < n; at += bucket) {
        int cnt = (int)(n - at < bucket ? n - at : bucket);
        int mrc = MPI_Iallreduce(MPI_IN_PLACE, buf + at, cnt, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                                 &req[p->n]);
        if (mrc != MPI_SUCCESS) return mpi_fail(err, mrc, "MPI_Iallreduce of the gradient");
        p->n++;
    }
    return NLPRNN_OK;
}

int nr_dist_wait(const nr_dist *d, nr_dist_pending *p, nlprnn_error *err) {
    (void)d;
    if (p->n == 0) return NLPRNN_OK;
    int mrc = MPI_Waitall(p->n, p->req, MPI_STATUSES_IGNORE);
    p->n = 0;
    return mrc == MPI_SUCCESS ? NLPRNN_OK : mpi_fail(err, mrc, "waiting for the gradient sum");
}

int nr_dist_sum_f64(const nr_dist *d, double *v, int n, nlprnn_error *err) {
    if (d->size <= 1 || n <= 0) return NLPRNN_OK;
    int mrc = MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    return mrc == MPI_SUCCESS ? NLPRNN_OK : mpi_fail(err, mrc, "MPI_Allreduce");
}

int nr_dist_sum_i64(const nr_dist *d, long long *v, size_t n, nlprnn_error *err) {
    if (d->size <= 1) return NLPRNN_OK;
    for (size_t at = 0; at < n; at += NR_DIST_BUCKET_FLOATS) {
        int cnt = (int)(n - at < NR_DIST_BUCKET_FLOATS ? n - at : NR_DIST_BUCKET_FLOATS);
        int mrc = MPI_Allreduce(MPI_IN_PLACE, v + at, cnt, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
        if (mrc != MPI_SUCCESS) return mpi_fail(err, mrc, "MPI_Allreduce of counts");
    }
    return NLPRNN_OK;
}

int nr_dist_max_i64(const nr_dist *d, long long *v, nlprnn_error *err) {
    if (d->size <= 1) return NLPRNN_OK;
    int mrc = MPI_Allreduce(MPI_IN_PLACE, v, 1, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    return mrc == MPI_SUCCESS ? NLPRNN_OK : mpi_fail(err, mrc, "MPI_Allreduce (max)");
}

int nr_dist_sum_grad(const nr_dist *d, float *g, size_t n, float scale, nlprnn_error *err) {
    if (d->size <= 1) return NLPRNN_OK;
    if (scale != 1.0f)
        for (size_t i = 0; i < n; i++) g[i] *= scale;
    nr_dist_pending p = {0};
    int rc = nr_dist_isum_f32(d, &p, g, n, NR_DIST_BUCKET_FLOATS, err);
    int rc2 = nr_dist_wait(d, &p, err);
    nr_dist_pending_free(&p);
    return rc ? rc : rc2;
}

int nr_dist_allgather_i32(const nr_dist *d, const int32_t *mine, size_t n, int32_t **all,
                          size_t *n_all, size_t *counts, nlprnn_error *err) {
    *all = NULL;
    *n_all = 0;
    if (n > (size_t)0x7fffffff)
        return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "MPI: %zu values from one rank (limit 2^31)", n);
    int P = d->size;
    int *cnt = nr_malloc_array((size_t)P, sizeof(int)), *dsp = nr_malloc_array((size_t)P, sizeof(int));
    if (!cnt || !dsp) {
        free(cnt);
        free(dsp);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    }
    int me = (int)n, rc = NLPRNN_OK;
    int mrc = P > 1 ? MPI_Allgather(&me, 1, MPI_INT, cnt, 1, MPI_INT, MPI_COMM_WORLD) : MPI_SUCCESS;
    if (P <= 1) cnt[0] = me;
    if (mrc != MPI_SUCCESS) rc = mpi_fail(err, mrc, "MPI_Allgather");
    size_t tot = 0;
    for (int r = 0; r < P && !rc; r++) {
        if (tot > (size_t)0x7fffffff - (size_t)cnt[r])
            rc = nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "MPI: more than 2^31 values gathered");
        dsp[r] = (int)tot;
        tot += (size_t)cnt[r];
        if (counts) counts[r] = (size_t)cnt[r];
    }
    int32_t *out = rc ? NULL : nr_malloc_array(tot ? tot : 1, sizeof(int32_t));
    if (!rc && !out) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    if (!rc) {
        if (P > 1) {
            mrc = MPI_Allgatherv(mine, me, MPI_INT32_T, out, cnt, dsp, MPI_INT32_T, MPI_COMM_WORLD);
            if (mrc != MPI_SUCCESS) rc = mpi_fail(err, mrc, "MPI_Allgatherv");
        } else if (n) {
            memcpy(out, mine, n * sizeof(int32_t));
        }
    }
    free(cnt);
    free(dsp);
    if (rc) {
        free(out);
        return rc;
    }
    *all = out;
    *n_all = tot;
    return NLPRNN_OK;
}

int nr_dist_alltoall_i32(const nr_dist *d, const int32_t *send, const int *scount,
                         const int *sdispl, int32_t *recv, const int *rcount, const int *rdispl,
                         nlprnn_error *err) {
    if (d->size <= 1) {
        if (scount[0]) memcpy(recv + rdispl[0], send + sdispl[0], (size_t)scount[0] * sizeof(int32_t));
        return NLPRNN_OK;
    }
    int mrc = MPI_Alltoallv(send, scount, sdispl, MPI_INT32_T, recv, rcount, rdispl, MPI_INT32_T,
                            MPI_COMM_WORLD);
    return mrc == MPI_SUCCESS ? NLPRNN_OK : mpi_fail(err, mrc, "MPI_Alltoallv of the batch");
}

int nr_dist_bcast_f32(const nr_dist *d, float *buf, size_t n, nlprnn_error *err) {
    if (d->size <= 1) return NLPRNN_OK;
    for (size_t at = 0; at < n; at += NR_DIST_BUCKET_FLOATS) {
        int cnt = (int)(n - at < NR_DIST_BUCKET_FLOATS ? n - at : NR_DIST_BUCKET_FLOATS);
        int mrc = MPI_Bcast(buf + at, cnt, MPI_FLOAT, 0, MPI_COMM_WORLD);
        if (mrc != MPI_SUCCESS) return mpi_fail(err, mrc, "MPI_Bcast of the parameters");
    }
    return NLPRNN_OK;
}

int nr_dist_check_same(const nr_dist *d, const float *x, size_t n, const char *what,
                       long long step, nlprnn_error *err) {
    if (d->size <= 1) return NLPRNN_OK;
    uint64_t mine = nr_dist_checksum(x, n);
    uint64_t *all = nr_malloc_array((size_t)d->size, sizeof(uint64_t));
    if (!all) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    int mrc = MPI_Allgather(&mine, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, MPI_COMM_WORLD);
    int rc = NLPRNN_OK;
    if (mrc != MPI_SUCCESS) rc = mpi_fail(err, mrc, "MPI_Allgather of the parameter checksums");
    for (int r = 1; r < d->size && !rc; r++)
        if (all[r] != all[0])
            rc = nr_fail(err, NLPRNN_E_STATE, -1, -1,
                         "%s differ between ranks after step %lld (checksum %016llx on rank 0, "
                         "%016llx on rank %d): the ranks no longer train the same model",
                         what, step, (unsigned long long)all[0], (unsigned long long)all[r], r);
    free(all);
    return rc;
}

int nr_dist_agree(const nr_dist *d, int rc, nlprnn_error *err) {
    if (d->size <= 1) return rc;
    struct {
        int code, rank;
    } in = {rc, d->rank}, out = {0, 0};
    int mrc = MPI_Allreduce(&in, &out, 1, MPI_2INT, MPI_MINLOC, MPI_COMM_WORLD);
    if (mrc != MPI_SUCCESS) return rc ? rc : mpi_fail(err, mrc, "MPI_Allreduce of the status");
    if (rc || out.code == 0) return rc;
    return nr_fail(err, out.code, -1, -1, "rank %d failed (%s); its own message says why", out.rank,
                   nlprnn_status_name(out.code));
}

int nr_dist_any(const nr_dist *d, int flag, nlprnn_error *err) {
    if (d->size <= 1) return flag != 0;
    int in = flag != 0, out = 0;
    int mrc = MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return mrc == MPI_SUCCESS ? out : mpi_fail(err, mrc, "MPI_Allreduce of a flag");
}

#else /* no MPI: one rank */

int nlprnn_dist_available(void) {
    return 0;
}

int nlprnn_dist_init(int *argc, char ***argv, nlprnn_error *err) {
    (void)argc;
    (void)argv;
    long size = 0;
    const char *var = launcher_var(&size);
    if (var && size != 1)
        return nr_fail(err, NLPRNN_E_UNSUPPORTED, -1, -1,
                       "started by an MPI launcher (%s=%s) but this nlprnn was built without MPI: "
                       "every copy would train alone and overwrite the same files (install Open "
                       "MPI and rebuild; CMake option NLPRNN_MPI)",
                       var, getenv(var));
    return NLPRNN_OK;
}

int nlprnn_dist_rank(void) {
    return 0;
}

int nlprnn_dist_size(void) {
    return 1;
}

void nlprnn_dist_abort(int code) {
    (void)code;
}

void nlprnn_dist_finalize(void) {
}

void nr_dist_world(nr_dist *d) {
    d->rank = 0;
    d->size = 1;
}

void nr_dist_pending_free(nr_dist_pending *p) {
    free(p->req);
    memset(p, 0, sizeof *p);
}

int nr_dist_isum_f32(const nr_dist *d, nr_dist_pending *p, float *buf, size_t n, size_t bucket,
                     nlprnn_error *err) {
    (void)d, (void)p, (void)buf, (void)n, (void)bucket, (void)err;
    return NLPRNN_OK;
}

int nr_dist_isum_f64(const nr_dist *d, nr_dist_pending *p, double *v, int n, nlprnn_error *err) {
    (void)d, (void)p, (void)v, (void)n, (void)err;
    return NLPRNN_OK;
}

int nr_dist_ior_u64(const nr_dist *d, nr_dist_pending *p, uint64_t *v, size_t n, nlprnn_error *err) {
    (void)d, (void)p, (void)v, (void)n, (void)err;
    return NLPRNN_OK;
}

int nr_dist_wait(const nr_dist *d, nr_dist_pending *p, nlprnn_error *err) {
    (void)d, (void)p, (void)err;
    return NLPRNN_OK;
}

int nr_dist_sum_f64(const nr_dist *d, double *v, int n, nlprnn_error *err) {
    (void)d, (void)v, (void)n, (void)err;
    return NLPRNN_OK;
}

int nr_dist_sum_i64(const nr_dist *d, long long *v, size_t n, nlprnn_error *err) {
    (void)d, (void)v, (void)n, (void)err;
    return NLPRNN_OK;
}

int nr_dist_max_i64(const nr_dist *d, long long *v, nlprnn_error *err) {
    (void)d, (void)v, (void)err;
    return NLPRNN_OK;
}

int nr_dist_sum_grad(const nr_dist *d, float *g, size_t n, float scale, nlprnn_error *err) {
    (void)d, (void)g, (void)n, (void)scale, (void)err;
    return NLPRNN_OK;
}

int nr_dist_allgather_i32(const nr_dist *d, const int32_t *mine, size_t n, int32_t **all,
                          size_t *n_all, size_t *counts, nlprnn_error *err) {
    (void)d;
    *all = nr_malloc_array(n ? n : 1, sizeof(int32_t));
    *n_all = 0;
    if (!*all) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    if (n) memcpy(*all, mine, n * sizeof(int32_t));
    *n_all = n;
    if (counts) counts[0] = n;
    return NLPRNN_OK;
}

int nr_dist_alltoall_i32(const nr_dist *d, const int32_t *send, const int *scount,
                         const int *sdispl, int32_t *recv, const int *rcount, const int *rdispl,
                         nlprnn_error *err) {
    (void)d, (void)rcount, (void)err;
    if (scount[0]) memcpy(recv + rdispl[0], send + sdispl[0], (size_t)scount[0] * sizeof(int32_t));
    return NLPRNN_OK;
}

int nr_dist_bcast_f32(const nr_dist *d, float *buf, size_t n, nlprnn_error *err) {
    (void)d, (void)buf, (void)n, (void)err;
    return NLPRNN_OK;
}

int nr_dist_check_same(const nr_dist *d, const float *x, size_t n, const char *what,
                       long long step, nlprnn_error *err) {
    (void)d, (void)x, (void)n, (void)what, (void)step, (void)err;
    return NLPRNN_OK;
}

int nr_dist_agree(const nr_dist *d, int rc, nlprnn_error *err) {
    (void)d, (void)err;
    return rc;
}

int nr_dist_any(const nr_dist *d, int flag, nlprnn_error *err) {
    (void)d, (void)err;
    return flag != 0;
}

#endif

uint64_t nr_dist_checksum(const float *x, size_t n) {
    /* FNV-1a over 32-bit words, then a final avalanche (splitmix64's) */
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        uint32_t w;
        memcpy(&w, x + i, sizeof w);
        h = (h ^ w) * 0x100000001b3ull;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

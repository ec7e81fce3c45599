/* train/comm.c: collectives of data-parallel training over a communicator's operations (see
 * train/comm.h). A group of one never calls an operation: every collective is then a no-op. */
#include "train/comm.h"

#include <stdlib.h>
#include <string.h>

#include "nlprnn/train.h"

void nr_comm_self(nr_comm *c) {
    memset(c, 0, sizeof *c);
    c->size = 1;
}

void nr_comm_copy(nr_comm *c, const nr_comm *from) {
    if (from && from->size > 1 && from->ops) *c = *from;
    else nr_comm_self(c);
}

int nlprnn_comm_rank(const nlprnn_comm *c) { return c ? c->rank : 0; }
int nlprnn_comm_size(const nlprnn_comm *c) { return c ? c->size : 1; }

void nlprnn_comm_abort(const nlprnn_comm *c, int code) {
    if (c && c->size > 1 && c->ops && c->ops->abort) c->ops->abort(c, code);
}

void nlprnn_comm_free(nlprnn_comm *c) {
    if (!c) return;
    if (c->ops && c->ops->release) c->ops->release(c);
    free(c);
}

void nr_comm_pending_free(nr_comm_pending *p) {
    free(p->req);
    memset(p, 0, sizeof *p);
}

static int solo(const nr_comm *c) { return !c || c->size <= 1 || !c->ops; }

int nr_comm_isum_f32(const nr_comm *c, nr_comm_pending *p, float *buf, size_t n, size_t bucket,
                     nlprnn_error *err) {
    if (solo(c) || n == 0) return NLPRNN_OK;
    if (bucket == 0 || bucket > (size_t)1 << 30) bucket = NR_COMM_BUCKET_FLOATS;
    for (size_t at = 0; at < n; at += bucket) {
        int rc = c->ops->iallreduce(c, p, buf + at, n - at < bucket ? n - at : bucket, NR_COMM_F32,
                                    NR_COMM_SUM, err);
        if (rc) return rc;
    }
    return NLPRNN_OK;
}

int nr_comm_isum_f64(const nr_comm *c, nr_comm_pending *p, double *v, int n, nlprnn_error *err) {
    if (solo(c) || n <= 0) return NLPRNN_OK;
    return c->ops->iallreduce(c, p, v, (size_t)n, NR_COMM_F64, NR_COMM_SUM, err);
}

int nr_comm_ior_u64(const nr_comm *c, nr_comm_pending *p, uint64_t *v, size_t n, nlprnn_error *err) {
    if (solo(c) || n == 0) return NLPRNN_OK;
    if (n > (size_t)0x7fffffff) return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "communicator: bit set too large");
    return c->ops->iallreduce(c, p, v, n, NR_COMM_U64, NR_COMM_BOR, err);
}

int nr_comm_wait(const nr_comm *c, nr_comm_pending *p, nlprnn_error *err) {
    if (solo(c) || p->n == 0) return NLPRNN_OK;
    return c->ops->wait(c, p, err);
}

/* One blocking reduction of buf[0..n) in buckets of the operations' limit. */
static int reduce(const nr_comm *c, void *buf, size_t n, int type, int op, size_t elem,
                  nlprnn_error *err) {
    if (solo(c) || n == 0) return NLPRNN_OK;
    nr_comm_pending p = {0};
    int rc = NLPRNN_OK;
    for (size_t at = 0; at < n && !rc; at += NR_COMM_BUCKET_FLOATS) {
        size_t k = n - at < NR_COMM_BUCKET_FLOATS ? n - at : NR_COMM_BUCKET_FLOATS;
        rc = c->ops->iallreduce(c, &p, (char *)buf + at * elem, k, type, op, err);
        if (!rc) rc = c->ops->wait(c, &p, err);
    }
    nr_comm_pending_free(&p);
    return rc;
}

int nr_comm_sum_f64(const nr_comm *c, double *v, int n, nlprnn_error *err) {
    return n > 0 ? reduce(c, v, (size_t)n, NR_COMM_F64, NR_COMM_SUM, sizeof *v, err) : NLPRNN_OK;
}

int nr_comm_sum_i64(const nr_comm *c, long long *v, size_t n, nlprnn_error *err) {
    return reduce(c, v, n, NR_COMM_I64, NR_COMM_SUM, sizeof *v, err);
}

int nr_comm_max_i64(const nr_comm *c, long long *v, nlprnn_error *err) {
    return reduce(c, v, 1, NR_COMM_I64, NR_COMM_MAX, sizeof *v, err);
}

int nr_comm_sum_grad(const nr_comm *c, float *g, size_t n, float scale, nlprnn_error *err) {
    if (solo(c)) return NLPRNN_OK;
    if (scale != 1.0f)
        for (size_t i = 0; i < n; i++) g[i] *= scale;
    nr_comm_pending p = {0};
    int rc = nr_comm_isum_f32(c, &p, g, n, NR_COMM_BUCKET_FLOATS, err);
    int rc2 = nr_comm_wait(c, &p, err);
    nr_comm_pending_free(&p);
    return rc ? rc : rc2;
}

int nr_comm_allgather_i32(const nr_comm *c, const int32_t *mine, size_t n, int32_t **all,
                          size_t *n_all, size_t *counts, nlprnn_error *err) {
    *all = NULL;
    *n_all = 0;
    if (solo(c)) {
        *all = nr_malloc_array(n ? n : 1, sizeof(int32_t));
        if (!*all) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        if (n) memcpy(*all, mine, n * sizeof(int32_t));
        *n_all = n;
        if (counts) counts[0] = n;
        return NLPRNN_OK;
    }
    if (n > (size_t)0x7fffffff)
        return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "communicator: %zu values from one rank (limit 2^31)", n);
    int P = c->size;
    int *cnt = nr_malloc_array((size_t)P, sizeof(int)), *dsp = nr_malloc_array((size_t)P, sizeof(int));
    int32_t me = (int32_t)n;
    int rc = cnt && dsp ? NLPRNN_OK : nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    if (!rc) rc = c->ops->allgather(c, &me, cnt, 1, NR_COMM_I32, err);
    size_t tot = 0;
    for (int r = 0; r < P && !rc; r++) {
        if (tot > (size_t)0x7fffffff - (size_t)cnt[r])
            rc = nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "communicator: more than 2^31 values gathered");
        dsp[r] = (int)tot;
        tot += (size_t)cnt[r];
        if (counts) counts[r] = (size_t)cnt[r];
    }
    int32_t *out = rc ? NULL : nr_malloc_array(tot ? tot : 1, sizeof(int32_t));
    if (!rc && !out) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    if (!rc) rc = c->ops->allgatherv_i32(c, mine, (int)n, out, cnt, dsp, err);
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

int nr_comm_alltoall_i32(const nr_comm *c, const int32_t *send, const int *scount,
                         const int *sdispl, int32_t *recv, const int *rcount, const int *rdispl,
                         nlprnn_error *err) {
    if (solo(c)) {
        if (scount[0]) memcpy(recv + rdispl[0], send + sdispl[0], (size_t)scount[0] * sizeof(int32_t));
        return NLPRNN_OK;
    }
    return c->ops->alltoallv_i32(c, send, scount, sdispl, recv, rcount, rdispl, err);
}

int nr_comm_bcast_f32(const nr_comm *c, float *buf, size_t n, nlprnn_error *err) {
    if (solo(c)) return NLPRNN_OK;
    for (size_t at = 0; at < n; at += NR_COMM_BUCKET_FLOATS) {
        int rc = c->ops->bcast(c, buf + at, n - at < NR_COMM_BUCKET_FLOATS ? n - at : NR_COMM_BUCKET_FLOATS,
                               NR_COMM_F32, err);
        if (rc) return rc;
    }
    return NLPRNN_OK;
}

uint64_t nr_comm_checksum(const float *x, size_t n) {
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

int nr_comm_check_same(const nr_comm *c, const float *x, size_t n, const char *what,
                       long long step, nlprnn_error *err) {
    if (solo(c)) return NLPRNN_OK;
    uint64_t mine = nr_comm_checksum(x, n);
    uint64_t *all = nr_malloc_array((size_t)c->size, sizeof(uint64_t));
    if (!all) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    int rc = c->ops->allgather(c, &mine, all, 1, NR_COMM_U64, err);
    for (int r = 1; r < c->size && !rc; r++)
        if (all[r] != all[0])
            rc = nr_fail(err, NLPRNN_E_STATE, -1, -1,
                         "%s differ between ranks after step %lld (checksum %016llx on rank 0, "
                         "%016llx on rank %d): the ranks no longer train the same model",
                         what, step, (unsigned long long)all[0], (unsigned long long)all[r], r);
    free(all);
    return rc;
}

int nr_comm_agree(const nr_comm *c, int rc, nlprnn_error *err) {
    if (solo(c)) return rc;
    /* the lowest code, then the lowest rank with it: one minimum of code * 2^20 + rank */
    long long v = (long long)rc * (1ll << 20) + c->rank;
    nlprnn_error mine;
    int rc2 = reduce(c, &v, 1, NR_COMM_I64, NR_COMM_MIN, sizeof v, rc ? &mine : err);
    if (rc2) return rc ? rc : rc2;
    if (rc || v >= 0) return rc;
    long long code = v >> 20, rank = v & ((1ll << 20) - 1);
    return nr_fail(err, (int)code, -1, -1, "rank %lld failed (%s); its own message says why", rank,
                   nlprnn_status_name((int)code));
}

int nr_comm_any(const nr_comm *c, int flag, nlprnn_error *err) {
    if (solo(c)) return flag != 0;
    long long v = flag != 0;
    int rc = reduce(c, &v, 1, NR_COMM_I64, NR_COMM_MAX, sizeof v, err);
    return rc ? rc : (int)v;
}

/* train/trainer.c: the one training loop (see train/trainer.h for the contract).
 *
 * Every random draw of a run is the task's, and a function of what the task saves in the
 * checkpoint; everything else here is deterministic. So a checkpoint needs only the weights, the
 * optimizer state, the position (epoch, next batch), the best-so-far record and the running sums
 * of the epoch: a resumed run repeats exactly what the uninterrupted run would have done.
 */
#include "train/trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/pool.h"
#include "models/math.h"
#include "format/modelfile.h"

uint64_t nr_seed_mix(uint64_t a, uint64_t b, uint64_t c) {
    return a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full ^
           (c + 1) * 0x165667B19E3779F9ull;
}

/* ---- the state a checkpoint holds ---------------------------------------------------------------- */

typedef struct tstate {
    int epoch;            /* current epoch (0-based) */
    long long batch;      /* next batch of that epoch */
    double best_score, best_loss;
    int best_epoch;       /* 1-based, 0 = none yet */
    int bad_epochs;
    double ep_loss;       /* running sums of the current epoch */
    long long ep_correct, ep_count, ep_tokens;
    int stopped_early;
    double elapsed;       /* seconds trained before this run (time budgets) */
} tstate;

int nr_ckpt_put_rng(nr_mf_buf *conf, const char *key, const nr_rng *r, nlprnn_error *err) {
    int rc = NLPRNN_OK;
    for (int i = 0; i < 4 && !rc; i++) {
        char k[160], v[32];
        snprintf(k, sizeof k, "%s.%d", key, i);
        snprintf(v, sizeof v, "%016llx", (unsigned long long)r->s[i]);
        rc = nr_conf_put_str(conf, k, v, err);
    }
    return rc;
}

int nr_ckpt_get_rng(const nr_conf *conf, const char *key, nr_rng *r, nlprnn_error *err) {
    for (int i = 0; i < 4; i++) {
        char k[160], *end;
        const char *v;
        snprintf(k, sizeof k, "%s.%d", key, i);
        int rc = nr_conf_get_str(conf, k, &v, err);
        if (rc) return rc;
        unsigned long long x = strtoull(v, &end, 16);
        if (strlen(v) != 16 || *end)
            return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: %s = \"%.40s\" is not a random state",
                           conf->where, k, v);
        r->s[i] = (uint64_t)x;
    }
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: %s is the all-zero random state", conf->where, key);
    return NLPRNN_OK;
}

/* The trainer's working set. */
typedef struct trainer {
    const nr_train_cfg *cfg;
    const nr_task *task;
    nr_comm comm;
    float *grad, *best;
    float *ema, *wsave;                 /* (n_params) averaged weights and the training weights'
                                           place during validation (cfg.ema > 0), else NULL */
    float *wgrad[NR_TRAIN_MAX_WORKERS]; /* worker w > 0 accumulates here; worker 0 into grad */
    nr_optim opt;
    int *rows;                          /* (sparse_rows) the rows touched by the step, in order */
    unsigned char *seen;                /* (sparse_rows) */
    uint16_t *who;                      /* (sparse_rows) the workers that touched the row: bit w */
    uint64_t *bits;                     /* (sparse_rows / 64 + 1) over ranks: the rows as a bit set */
    float *rowbuf;                      /* (rows * dim) touched rows packed for the sum over ranks */
    size_t rowbuf_cap;
    size_t n_dense0;                    /* first element of the dense part */
} trainer;

static void trainer_free(trainer *t) {
    free(t->grad);
    free(t->best);
    free(t->ema);
    free(t->wsave);
    for (int w = 0; w < NR_TRAIN_MAX_WORKERS; w++) free(t->wgrad[w]);
    nr_optim_free(&t->opt);
    free(t->rows);
    free(t->seen);
    free(t->who);
    free(t->bits);
    free(t->rowbuf);
}

/* ---- checkpoints ------------------------------------------------------------------------------- */

/* A parameter block as the task stores it, or (the task gives no function) as one float32
 * tensor "params" of n_params. */
static int put_weights(const nr_task *k, nr_mf_writer *w, const char *tag, const float *params,
                       nlprnn_error *err) {
    if (k->write_weights) return k->write_weights(k->self, w, tag, params, err);
    nr_mf_buf b;
    nr_mf_buf_init(&b);
    size_t shp = k->n_params;
    int rc = nr_tensor_put(&b, "params", params, 1, &shp, NR_DTYPE_F32, err);
    if (!rc) rc = nr_mf_add(w, tag, NR_MF_TENSORS, b.data, b.len, 0, err);
    nr_mf_buf_free(&b);
    return rc;
}

static int get_weights(const nr_task *k, const nr_mf_reader *r, const char *tag, float *params,
                       nlprnn_error *err) {
    if (k->read_weights) return k->read_weights(k->self, r, tag, params, err);
    size_t shp = k->n_params;
    return nr_mf_tensor_read(r, tag, "params", params, 1, &shp, err);
}

static int save_checkpoint(trainer *t, const tstate *st, nlprnn_error *err) {
    const nr_train_cfg *cfg = t->cfg;
    const nr_task *k = t->task;
    nr_mf_writer *w = NULL;
    nr_mf_buf b;
    nr_mf_buf_init(&b);
    int rc = nr_mf_writer_new(&w, NR_KIND_CHECKPOINT, err);
    /* a checkpoint's weights are stored, not compressed: the float32 weights of a training run
     * compress to ~92 % at zlib's level 1 or 6, and deflating them was 13 % of the CPU of a
     * one-epoch `nlprnn train` (10K reviews, shipped shape), on the calling thread while the pool
     * waited (docs/benchmarks.md, "Threads", Run 3). Model files keep their compression. */
    if (!rc) rc = nr_mf_writer_set_compression(w, 0, err);
    if (!rc && k->save) rc = k->save(k->self, w, &b, st->epoch, st->batch, err);
    if (!rc) rc = nr_conf_put_str(&b, "checkpoint.of", k->name, err);
    if (!rc) rc = nr_conf_put_int(&b, "state.epoch", st->epoch, err);
    if (!rc) rc = nr_conf_put_int(&b, "state.batch", st->batch, err);
    if (!rc) rc = nr_conf_put_float(&b, "state.best_acc", st->best_score, err);
    if (!rc) rc = nr_conf_put_float(&b, "state.best_loss", st->best_loss, err);
    if (!rc) rc = nr_conf_put_int(&b, "state.best_epoch", st->best_epoch, err);
    if (!rc) rc = nr_conf_put_int(&b, "state.bad_epochs", st->bad_epochs, err);
    if (!rc) rc = nr_conf_put_float(&b, "state.ep_loss", st->ep_loss, err);
    if (!rc) rc = nr_conf_put_int(&b, "state.ep_correct", st->ep_correct, err);
    if (!rc) rc = nr_conf_put_int(&b, "state.ep_count", st->ep_count, err);
    if (!rc) rc = nr_conf_put_int(&b, "state.ep_tokens", st->ep_tokens, err);
    if (!rc) rc = nr_conf_put_int(&b, "state.optim_step", t->opt.step, err);
    if (!rc) rc = nr_conf_put_float(&b, "state.elapsed", st->elapsed, err);
    if (!rc) rc = nr_conf_put_int(&b, "state.stopped_early", st->stopped_early, err);
    /* the parameters the run was started with (a resume must use the same) */
    if (!rc && cfg->params) rc = nr_ckpt_put_params(&b, cfg->params, cfg->params_obj, err);
    if (!rc) rc = nr_mf_add(w, "CONF", NR_MF_CONFIG, b.data, b.len, 0, err);
    if (!rc) rc = put_weights(k, w, "WGHT", k->params, err);
    if (!rc) rc = put_weights(k, w, "BEST", t->best, err);
    if (!rc && t->ema) rc = put_weights(k, w, "EMAW", t->ema, err);
    if (!rc && nr_optim_state_size(&t->opt)) {
        nr_mf_buf ob;
        nr_mf_buf_init(&ob);
        size_t shape[1] = {t->opt.n};
        if (t->opt.m) rc = nr_tensor_put(&ob, "m", t->opt.m, 1, shape, NR_DTYPE_F32, err);
        if (!rc && t->opt.v) rc = nr_tensor_put(&ob, "v", t->opt.v, 1, shape, NR_DTYPE_F32, err);
        if (!rc) rc = nr_mf_add(w, "OPTM", NR_MF_TENSORS, ob.data, ob.len, 0, err);
        nr_mf_buf_free(&ob);
    }
    if (!rc) rc = nr_mf_writer_save(w, cfg->checkpoint, err);
    nr_mf_buf_free(&b);
    nr_mf_writer_free(w);
    return rc;
}

/* Rank 0 writes the checkpoint; every rank learns whether it worked. */
static int write_checkpoint(trainer *t, const tstate *st, nlprnn_error *err) {
    if (!t->cfg->checkpoint || !t->cfg->checkpoint[0]) return NLPRNN_OK;
    int rc = t->comm.rank == 0 ? save_checkpoint(t, st, err) : NLPRNN_OK;
    return nr_comm_agree(&t->comm, rc, err);
}

int nr_ckpt_open(const char *path, const char *of, nr_mf_reader **r, nr_conf *conf,
                 nlprnn_error *err) {
    *r = NULL;
    memset(conf, 0, sizeof *conf);
    if (!path || !path[0]) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "resume: no checkpoint file given");
    int rc = nr_mf_open_file(r, path, NR_KIND_CHECKPOINT, err);
    if (!rc) rc = nr_mf_get_conf(*r, "CONF", conf, err);
    const char *was = NULL;
    if (!rc) rc = nr_conf_get_str(conf, "checkpoint.of", &was, err);
    if (!rc && strcmp(was, of))
        rc = nr_fail(err, NLPRNN_E_UNSUPPORTED, -1, -1, "%s is a checkpoint of a %.40s, not of a %s", path, was, of);
    if (rc) {
        nr_conf_free(conf);
        memset(conf, 0, sizeof *conf);
        nr_mf_close(*r);
        *r = NULL;
    }
    return rc;
}

/* Row p's value in obj as a checkpoint stores it: UTF-8 whatever the caller gave. */
static void ckpt_param_text(const nr_param *p, const void *obj, char *out, size_t cap) {
    char raw[1200];
    nr_param_format(p, obj, raw, sizeof raw);
    nr_utf8_escape(raw, out, cap);
}

int nr_ckpt_put_params(nr_mf_buf *conf, const nr_param_table *t, const void *obj, nlprnn_error *err) {
    int rc = NLPRNN_OK;
    for (size_t i = 0; i < t->n && !rc; i++) {
        const nr_param *p = &t->rows[i];
        if (p->flags & NR_PARAM_RESUME_OK) continue;
        char key[160], val[4800];
        snprintf(key, sizeof key, "param.%s", p->name);
        ckpt_param_text(p, obj, val, sizeof val);
        rc = nr_conf_put_str(conf, key, val, err);
    }
    return rc;
}

/* Is text (row p's value as ckpt_param_text writes it) the row's default? A checkpoint written
 * before a parameter existed lacks its key, and its run had the default. */
static int param_is_default(const nr_param *p, const char *text) {
    union {
        double d;
        long long ll;
        uint64_t u;
        char s[4800];
    } def;
    nr_param q = *p;
    if (!p->def || (q.type == NR_PARAM_STR && q.size > sizeof def.s)) return 0;
    q.offset = 0;
    const nr_param_table one = {"parameter", &q, 1};
    memset(&def, 0, sizeof def);
    if (nr_params_set(&one, &def, q.name, q.def, NULL)) return 0;
    char dtext[4800];
    ckpt_param_text(&q, &def, dtext, sizeof dtext);
    return !strcmp(dtext, text);
}

int nr_ckpt_check_params(const nr_conf *c, const nr_param_table *t, const void *obj, int code,
                         nlprnn_error *err) {
    int rc = NLPRNN_OK;
    for (size_t i = 0; i < t->n && !rc; i++) {
        const nr_param *p = &t->rows[i];
        if (p->flags & NR_PARAM_RESUME_OK) continue;
        char key[160], val[4800];
        const char *saved;
        snprintf(key, sizeof key, "param.%s", p->name);
        ckpt_param_text(p, obj, val, sizeof val);
        if (!nr_conf_has(c, key) && param_is_default(p, val)) continue; /* added after the checkpoint */
        rc = nr_conf_get_str(c, key, &saved, err);
        if (rc) break;
        if (strcmp(saved, val))
            rc = nr_fail(err, code, -1, -1,
                         "%s: the checkpoint was made with %s=%s, this run has %s=%s (resume needs the "
                         "same parameters)",
                         c->where, p->name, saved, p->name, val);
    }
    return rc;
}

int nr_ckpt_check_path(const char *path, nlprnn_error *err) {
    FILE *fp = path && path[0] ? fopen(path, "rb") : NULL;
    if (!fp) return NLPRNN_OK;
    unsigned char h[12];
    size_t got = fread(h, 1, sizeof h, fp);
    fclose(fp);
    if (got == sizeof h && !memcmp(h, NR_MF_MAGIC, 8) && !memcmp(h + 8, NR_KIND_CHECKPOINT, 4)) return NLPRNN_OK;
    return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                   "%s exists and is not a training checkpoint; training writes its checkpoints there "
                   "and deletes them when done: choose another --checkpoint path (or remove the file)",
                   path);
}

void nr_ckpt_remove(const nr_train_cfg *cfg) {
    if (cfg->checkpoint && cfg->checkpoint[0] && (!cfg->comm || cfg->comm->rank == 0)) unlink(cfg->checkpoint);
}

/* An integer state key in [lo, hi]. */
static int get_state(const nr_conf *c, const char *key, long long lo, long long hi, long long *out,
                     nlprnn_error *err) {
    int rc = nr_conf_get_int(c, key, out, err);
    if (!rc && (*out < lo || *out > hi))
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: %s = %lld is out of range %lld..%lld", c->where, key,
                     *out, lo, hi);
    return rc;
}

/* Restore the trainer's state from the checkpoint (already opened, its kind checked). */
static int load_checkpoint(trainer *t, tstate *st, nlprnn_error *err) {
    const nr_train_cfg *cfg = t->cfg;
    const nr_task *k = t->task;
    const nr_mf_reader *r = cfg->resume;
    nr_conf c;
    int rc = nr_mf_get_conf(r, "CONF", &c, err);
    if (rc) return rc;
    /* the parameters must be the run's */
    if (cfg->params) rc = nr_ckpt_check_params(&c, cfg->params, cfg->params_obj, NLPRNN_E_STATE, err);
    /* the task first: its data, and its own (stricter) bounds of the state */
    if (!rc && k->load) rc = k->load(k->self, r, &c, err);
    long long v;
    if (!rc) rc = get_state(&c, "state.epoch", 0, 1000000000, &v, err);
    if (!rc) st->epoch = (int)v;
    if (!rc) rc = get_state(&c, "state.batch", 0, (long long)1 << 50, &st->batch, err);
    if (!rc) rc = get_state(&c, "state.best_epoch", 0, st->epoch + 1, &v, err);
    if (!rc) st->best_epoch = (int)v;
    if (!rc) rc = get_state(&c, "state.bad_epochs", 0, st->epoch + 1, &v, err);
    if (!rc) st->bad_epochs = (int)v;
    if (!rc) rc = get_state(&c, "state.ep_correct", 0, (long long)1 << 52, &st->ep_correct, err);
    if (!rc) rc = get_state(&c, "state.ep_count", 0, (long long)1 << 52, &st->ep_count, err);
    if (!rc) rc = get_state(&c, "state.ep_tokens", 0, (long long)1 << 60, &st->ep_tokens, err);
    if (!rc) rc = get_state(&c, "state.optim_step", 0, (long long)1 << 50, &t->opt.step, err);
    if (!rc) rc = nr_conf_get_float(&c, "state.best_acc", &st->best_score, err);
    if (!rc) rc = nr_conf_get_float(&c, "state.best_loss", &st->best_loss, err);
    if (!rc) rc = nr_conf_get_float(&c, "state.ep_loss", &st->ep_loss, err);
    st->elapsed = 0;
    if (!rc && nr_conf_has(&c, "state.elapsed")) rc = nr_conf_get_float(&c, "state.elapsed", &st->elapsed, err);
    if (!rc && (st->ep_correct > st->ep_count || !isfinite(st->ep_loss) || !(st->elapsed >= 0)))
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: inconsistent training state", c.where);
    if (!rc && nr_conf_has(&c, "state.stopped_early")) { /* absent in checkpoints of before 2026-12 */
        rc = get_state(&c, "state.stopped_early", 0, 1, &v, err);
        if (!rc) st->stopped_early = (int)v;
    }
    if (!rc) rc = get_weights(k, r, "WGHT", k->params, err);
    if (!rc) rc = get_weights(k, r, "BEST", t->best, err);
    if (!rc && t->ema) {
        if (!nr_mf_find(r, "EMAW"))
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                         "%s: no section EMAW (averaged weights): the checkpoint was made without ema; "
                         "resume it with ema 0, or start the run anew",
                         nr_mf_name(r));
        else
            rc = get_weights(k, r, "EMAW", t->ema, err);
    }
    size_t shape[1] = {k->n_params};
    if (!rc && t->opt.m) rc = nr_mf_tensor_read(r, "OPTM", "m", t->opt.m, 1, shape, err);
    if (!rc && t->opt.v) rc = nr_mf_tensor_read(r, "OPTM", "v", t->opt.v, 1, shape, err);
    /* Adam's moments: finite, and the second one (a mean of squares) not negative */
    for (size_t i = 0; !rc && t->opt.m && i < k->n_params; i++)
        if (!isfinite(t->opt.m[i]) || (t->opt.v && !(isfinite(t->opt.v[i]) && t->opt.v[i] >= 0)))
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                         "%s: section OPTM: optimizer state %zu is %g / %g (a moment must be finite, "
                         "the second one >= 0)",
                         nr_mf_name(r), i, t->opt.m[i], t->opt.v ? t->opt.v[i] : 0.0);
    nr_conf_free(&c);
    return rc;
}

/* ---- one step ---------------------------------------------------------------------------------- */

/* The workers of a step. */
typedef struct step_job {
    trainer *t;
    int epoch;
    long long batch;
    nr_step_stats st[NR_TRAIN_MAX_WORKERS];
    const int *rows[NR_TRAIN_MAX_WORKERS];
    size_t n_rows[NR_TRAIN_MAX_WORKERS];
    int rc[NR_TRAIN_MAX_WORKERS];
    nlprnn_error err[NR_TRAIN_MAX_WORKERS];
} step_job;

static void step_worker(void *vctx, int w, int nw) {
    step_job *j = vctx;
    trainer *t = j->t;
    memset(&j->st[w], 0, sizeof j->st[w]);
    j->rows[w] = NULL;
    j->n_rows[w] = 0;
    nlprnn_error_clear(&j->err[w]);
    j->rc[w] = t->task->step(t->task->self, j->epoch, j->batch, w, nw, w == 0 ? t->grad : t->wgrad[w],
                             &j->st[w], &j->rows[w], &j->n_rows[w], &j->err[w]);
    if (!j->rc[w] && !isfinite(j->st[w].loss)) j->rc[w] = NLPRNN_E_NUMERIC;
}

_Static_assert(NR_TRAIN_MAX_WORKERS <= 16, "trainer.who holds a bit per worker in 16 bits");

/* The touched rows of the sparse block, in order of first appearance over the workers; who[row]
 * gets bit w for each worker w that touched it (cleared by the reduction). */
static size_t collect_rows(trainer *t, const step_job *j, int W) {
    const nr_task *k = t->task;
    size_t n = 0;
    for (int w = 0; w < W; w++)
        for (size_t i = 0; i < j->n_rows[w]; i++) {
            int id = j->rows[w][i];
            if (id < 0 || (size_t)id >= k->sparse_rows || id == k->sparse_skip) continue;
            t->who[id] |= (uint16_t)(1u << w);
            if (t->seen[id]) continue;
            t->seen[id] = 1;
            t->rows[n++] = id;
        }
    for (size_t i = 0; i < n; i++) t->seen[t->rows[i]] = 0;
    return n;
}

/* y (n) += x (n) and x (n) = 0, 8 floats at a time (-O2 leaves a plain loop scalar; each element
 * is one float addition either way, so the bits are those of the plain loop); y and x apart. The
 * zeros are stored as x is read, so x's cache lines are fetched once. */
static void add_and_zero(float *restrict y, float *restrict x, size_t n) {
    typedef float v8f __attribute__((vector_size(32)));
    const v8f z = {0};
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        v8f a, b;
        memcpy(&a, y + j, sizeof a);
        memcpy(&b, x + j, sizeof b);
        memcpy(x + j, &z, sizeof z);
        a += b;
        memcpy(y + j, &a, sizeof a);
    }
    for (; j < n; j++) y[j] += x[j], x[j] = 0.0f;
}

/* Dense floats added at a time over all workers (kept in the first-level cache meanwhile) */
#define ADD_SPAN 2048

/* The reduction of a step's W worker blocks into grad, split over the pool: task i of n takes a
 * contiguous part of the dense elements and of the touched rows, and adds the workers' blocks
 * there in worker order 1..W-1 (ADD_SPAN floats, or a row, at a time). Every element gets the
 * same additions in the same order whatever n is, so grad has the bits of a one-thread reduction
 * (and of the reduction before it was split). */
/* Where part i of n of len elements starts (part(len, n, n) = len): the split of add_task and
 * upd_task. */
static size_t part(size_t len, int i, int n) {
    return len * (size_t)i / (size_t)n;
}

/* Floats a task of the sum of the workers' blocks (add_workers) or of the optimizer step (update)
 * takes at least: below that a task's start costs more than it saves. */
#define TASK_MIN_FLOATS ((size_t)1 << 15)

/* Run fn(ctx, i, n) for the n parts of work floats: n = work / TASK_MIN_FLOATS, at most the cores
 * and at most workers, on the pool when n > 1, else fn(ctx, 0, 1) on the calling thread. */
static void run_parts(size_t work, int workers, void (*fn)(void *, int, int), void *ctx) {
    size_t n = work / TASK_MIN_FLOATS;
    if (n > (size_t)nr_cpu_count()) n = (size_t)nr_cpu_count();
    if (n > (size_t)workers) n = (size_t)workers;
    if (n > 1) nr_parallel_run((int)n, fn, ctx);
    else fn(ctx, 0, 1);
}

typedef struct add_job {
    trainer *t;
    int W;
    size_t nrows;
} add_job;

static void add_task(void *vctx, int i, int n) {
    add_job *j = vctx;
    trainer *t = j->t;
    const nr_task *k = t->task;
    size_t d0 = t->n_dense0, E = (size_t)k->sparse_dim, nd = k->n_params - d0;
    size_t a = d0 + part(nd, i, n), b = d0 + part(nd, i + 1, n);
    size_t r0 = part(j->nrows, i, n), r1 = part(j->nrows, i + 1, n);
    for (size_t s = a; s < b; s += ADD_SPAN) {
        size_t m = b - s < ADD_SPAN ? b - s : ADD_SPAN;
        for (int w = 1; w < j->W; w++) add_and_zero(t->grad + s, t->wgrad[w] + s, m);
    }
    /* a row only from the workers that touched it: the others' blocks hold +0 there, and adding
     * +0 changes nothing but the sign of an exact zero sum (-0 + 0 = +0), for which every
     * optimizer here (models/optim.c) makes the same moments and the same step, except on a
     * weight that is itself exactly zero (p - lr * (-0) against p - lr * 0) */
    for (size_t r = r0; r < r1; r++) {
        size_t o = (size_t)t->rows[r] * E;
        for (int w = 1; w < j->W; w++)
            if (t->who[t->rows[r]] >> w & 1) add_and_zero(t->grad + o, t->wgrad[w] + o, E);
        t->who[t->rows[r]] = 0;
    }
}

/* Add the workers' blocks into grad (dense part and the touched rows) and zero them: on as many
 * tasks as the process has cores (at most W), each a part of the elements (add_task). */
static void add_workers(trainer *t, int W, size_t nrows) {
    if (W < 2) return;
    const nr_task *k = t->task;
    size_t work = (k->n_params - t->n_dense0 + nrows * (size_t)k->sparse_dim) * (size_t)(W - 1);
    add_job j = {t, W, nrows};
    run_parts(work, W, add_task, &j);
}

/* Over ranks, a task with a sparse block: the step's stats, the bit set of touched rows (OR: the
 * union, in ascending order on every rank) and the dense gradient in buckets are in flight
 * together; then the union's rows, packed. On return t->rows[0..*nrows) is the union and t->grad
 * holds the global gradient there and in the dense part. Workers' blocks are added first. */
static int sum_sparse_over_ranks(trainer *t, int W, size_t *nrows, double *stats, int nstats,
                                 nlprnn_error *err) {
    const nr_task *k = t->task;
    size_t np = k->n_params, ne = t->n_dense0, V = k->sparse_rows, E = (size_t)k->sparse_dim;
    size_t nbits = (V + 63) / 64;
    nr_comm_pending pend = {0};
    for (size_t i = 0; i < *nrows; i++) t->who[t->rows[i]] = 0; /* adds every worker's block here */
    memset(t->bits, 0, nbits * sizeof(uint64_t));
    for (size_t i = 0; i < *nrows; i++) t->bits[t->rows[i] >> 6] |= (uint64_t)1 << (t->rows[i] & 63);
    int rc = nr_comm_isum_f64(&t->comm, &pend, stats, nstats, err);
    if (!rc) rc = nr_comm_ior_u64(&t->comm, &pend, t->bits, nbits, err);
    for (size_t a = ne; a < np && !rc; a += NR_COMM_BUCKET_FLOATS) {
        size_t b = np - a < NR_COMM_BUCKET_FLOATS ? np : a + NR_COMM_BUCKET_FLOATS;
        for (int w = 1; w < W; w++) {
            float *g = t->wgrad[w];
            for (size_t i = a; i < b; i++) t->grad[i] += g[i];
            memset(g + a, 0, (b - a) * sizeof(float));
        }
        rc = nr_comm_isum_f32(&t->comm, &pend, t->grad + a, b - a, NR_COMM_BUCKET_FLOATS, err);
    }
    /* while those travel: this rank's rows, the workers' blocks added */
    for (int w = 1; w < W && !rc; w++)
        for (size_t i = 0; i < *nrows; i++) {
            float *dst = t->grad + (size_t)t->rows[i] * E, *src = t->wgrad[w] + (size_t)t->rows[i] * E;
            for (size_t q = 0; q < E; q++) dst[q] += src[q];
            memset(src, 0, E * sizeof(float));
        }
    int rc2 = nr_comm_wait(&t->comm, &pend, err);
    if (!rc) rc = rc2;
    size_t nu = 0;
    for (size_t wd = 0; wd < nbits && !rc; wd++)
        for (uint64_t m = t->bits[wd]; m; m &= m - 1)
            t->rows[nu++] = (int)(wd * 64 + (size_t)__builtin_ctzll(m));
    if (!rc && nu * E > t->rowbuf_cap) {
        free(t->rowbuf);
        t->rowbuf_cap = nu * E + E * 1024;
        t->rowbuf = nr_malloc_array(t->rowbuf_cap, sizeof(float));
        if (!t->rowbuf) {
            t->rowbuf_cap = 0;
            rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        }
    }
    if (!rc) {
        for (size_t i = 0; i < nu; i++)
            memcpy(t->rowbuf + i * E, t->grad + (size_t)t->rows[i] * E, E * sizeof(float));
        rc = nr_comm_isum_f32(&t->comm, &pend, t->rowbuf, nu * E, NR_COMM_BUCKET_FLOATS, err);
    }
    rc2 = nr_comm_wait(&t->comm, &pend, err);
    if (!rc) rc = rc2;
    nr_comm_pending_free(&pend);
    if (rc) return rc;
    for (size_t i = 0; i < nu; i++)
        memcpy(t->grad + (size_t)t->rows[i] * E, t->rowbuf + i * E, E * sizeof(float));
    *nrows = nu;
    return NLPRNN_OK;
}

/* Clip by the global norm over the parameters that train in this epoch (the dense part and the
 * touched embedding rows); optimizer update, each parameter group at lr * its scale; zero the
 * gradient there. A task without groups is one group {0, n_params, 1.0, from epoch 0}: the same
 * sums in the same order as a plain clip + step. A frozen group's weights and optimizer state stay
 * as they are (its gradient is dropped). */
/* The optimizer step of the elements of task i of n (update): the touched rows [r0, r1) of the
 * sparse block and the dense elements [lo, hi) of [d0, np): scaled by sc, stepped where their
 * group trains, then zeroed for the next step. Each element's step reads and writes that element
 * alone, so the split does not change a bit. */
typedef struct upd_job {
    trainer *t;
    size_t nrows;
    float sc, lr;
    int rows_on, epoch, ng;
    const nr_param_group *g;
} upd_job;

static void upd_task(void *vctx, int i, int n) {
    upd_job *j = vctx;
    trainer *t = j->t;
    const nr_task *k = t->task;
    size_t d0 = t->n_dense0, E = (size_t)k->sparse_dim, nd = k->n_params - d0;
    size_t r0 = part(j->nrows, i, n), r1 = part(j->nrows, i + 1, n);
    size_t lo = d0 + part(nd, i, n), hi = d0 + part(nd, i + 1, n);
    const nr_param_group *g = j->g;
    float sc = j->sc;
    if (j->rows_on) {
        for (size_t r = r0; sc != 1.0f && r < r1; r++)
            for (size_t q = 0; q < E; q++) t->grad[(size_t)t->rows[r] * E + q] *= sc;
        nr_optim_step_rows(&t->opt, k->params, t->grad, 0, (int)E, t->rows + r0, r1 - r0, j->lr * g[0].lr_scale);
    }
    for (int q = 0; q < j->ng; q++) {
        size_t b = g[q].begin > lo ? g[q].begin : lo, e = g[q].end < hi ? g[q].end : hi;
        if (j->epoch < g[q].first_epoch || e <= b) continue;
        for (size_t x = b; sc != 1.0f && x < e; x++) t->grad[x] *= sc;
        nr_optim_step_range(&t->opt, k->params, t->grad, b, e, j->lr * g[q].lr_scale);
    }
    memset(t->grad + lo, 0, (hi - lo) * sizeof(float));
    for (size_t r = r0; r < r1; r++) memset(t->grad + (size_t)t->rows[r] * E, 0, E * sizeof(float));
}

/* Clipping by the global norm (its sum of squares on the calling thread, in a fixed order) and the
 * optimizer step, split by elements over up to min(workers, cores) tasks (upd_task). */
static void update(trainer *t, size_t nrows, double clip, float lr, int epoch) {
    const nr_task *k = t->task;
    size_t np = k->n_params, d0 = t->n_dense0, E = (size_t)k->sparse_dim;
    const nr_param_group all = {0, np, 1.0f, 0};
    const nr_param_group *g = k->n_groups ? k->groups : &all;
    int ng = k->n_groups ? k->n_groups : 1;
    int rows_on = d0 > 0 && epoch >= g[0].first_epoch; /* the sparse block lies in group 0 */
    double ss = 0;
    for (int i = 0; i < ng; i++) {
        size_t b = g[i].begin > d0 ? g[i].begin : d0;
        if (epoch >= g[i].first_epoch && g[i].end > b) ss += nr_sumsq(t->grad + b, g[i].end - b);
    }
    for (size_t i = 0; rows_on && i < nrows; i++) ss += nr_sumsq(t->grad + (size_t)t->rows[i] * E, E);
    double norm = sqrt(ss);
    float sc = clip > 0 && norm > clip ? (float)(clip / (norm + 1e-6)) : 1.0f;
    upd_job j = {t, nrows, sc, lr, rows_on, epoch, ng, g};
    run_parts(np - d0 + nrows * E, t->cfg->workers, upd_task, &j);
    nr_optim_tick(&t->opt);
}

/* The averaged weights after optimizer step t (1-based): a = d_t a + (1 - d_t) w, d_t = min(d, (1 +
 * t) / (10 + t)) (trainer.h, "Averaged weights"). */
static void ema_update(trainer *t) {
    const nr_task *k = t->task;
    double s = (double)t->opt.step, d = t->cfg->ema, warm = (1.0 + s) / (10.0 + s);
    const float c = (float)(1.0 - (d < warm ? d : warm));
    float *a = t->ema;
    const float *w = k->params;
    for (size_t i = 0; i < k->n_params; i++) a[i] += c * (w[i] - a[i]);
}

/* ---- the loop ---------------------------------------------------------------------------------- */

static int report(trainer *t, nr_train_progress *pr, int phase, const char *msg) {
    if (!t->cfg->progress) return 0;
    pr->phase = phase;
    pr->message = msg;
    return t->cfg->progress(t->cfg->user, pr);
}

/* Stats exchanged over ranks each step: the sums, then flags. */
enum { S_LOSS, S_COUNT, S_CORRECT, S_TOKENS, S_STOP, S_FAILED, S_FAIL_RANK, S_FAIL_CODE, S_CLOCK, S_N };

static int setup(trainer *t, const nr_train_cfg *cfg, const nr_task *k, nlprnn_error *err) {
    memset(t, 0, sizeof *t);
    t->cfg = cfg;
    t->task = k;
    nr_comm_copy(&t->comm, cfg->comm);
    if (cfg->workers < 1 || cfg->workers > NR_TRAIN_MAX_WORKERS || cfg->epochs < 1 || !k->params ||
        !k->n_params || !k->begin_epoch || !k->prepare || !k->step ||
        !k->write_weights != !k->read_weights)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "trainer: invalid configuration of the %s",
                       k->name ? k->name : "task");
    size_t np = k->n_params;
    int groups_ok = k->n_groups >= 0 && (k->n_groups == 0 || (k->groups && k->groups[0].begin == 0 &&
                                                              k->groups[k->n_groups - 1].end == np));
    for (int i = 0; groups_ok && i < k->n_groups; i++) {
        const nr_param_group *g = &k->groups[i];
        groups_ok = g->begin < g->end && (i == 0 || g->begin == k->groups[i - 1].end) &&
                    g->lr_scale > 0 && isfinite(g->lr_scale) && g->first_epoch >= 0;
    }
    if (groups_ok && k->n_groups && k->sparse_rows)
        groups_ok = k->sparse_rows * (size_t)k->sparse_dim <= k->groups[0].end;
    if (!groups_ok)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "trainer: the %s's parameter groups do not cover its %zu parameters in order",
                       k->name ? k->name : "task", np);
    if (k->sparse_rows) {
        if (k->sparse_dim < 1 || k->sparse_rows > np / (size_t)k->sparse_dim)
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "trainer: sparse block larger than the parameters");
        t->n_dense0 = k->sparse_rows * (size_t)k->sparse_dim;
        t->rows = nr_malloc_array(k->sparse_rows, sizeof(int));
        t->seen = nr_calloc_array(k->sparse_rows, 1);
        t->who = nr_calloc_array(k->sparse_rows, sizeof(uint16_t));
        t->bits = nr_malloc_array(k->sparse_rows / 64 + 1, sizeof(uint64_t));
        if (!t->rows || !t->seen || !t->who || !t->bits) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    }
    t->grad = nr_big_calloc(np, sizeof(float));
    t->best = nr_big_alloc(np, sizeof(float));
    if (!t->grad || !t->best)
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory for %zu parameters", np);
    for (int w = 1; w < cfg->workers; w++)
        if (!(t->wgrad[w] = nr_big_calloc(np, sizeof(float))))
            return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory for %zu parameters", np);
    memcpy(t->best, k->params, np * sizeof(float));
    if (!(cfg->ema >= 0 && cfg->ema < 1)) /* also NaN */
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "trainer: ema %g is not in [0, 1) (0: off)", cfg->ema);
    if (cfg->ema > 0) {
        t->ema = nr_big_alloc(np, sizeof(float));
        t->wsave = nr_big_alloc(np, sizeof(float));
        if (!t->ema || !t->wsave)
            return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory for %zu averaged parameters", np);
        memcpy(t->ema, k->params, np * sizeof(float));
    }
    return nr_optim_init(&t->opt, &cfg->optim, np, err);
}

void nr_train_message(nr_train_progress_fn fn, void *user, int epochs, const char *msg) {
    if (!fn) return;
    nr_train_progress pr;
    memset(&pr, 0, sizeof pr);
    pr.phase = NR_TP_MESSAGE;
    pr.message = msg;
    pr.epochs = epochs;
    pr.loss = pr.accuracy = NAN;
    pr.valid.score = pr.valid.loss = NAN;
    fn(user, &pr);
}

int nr_train(const nr_train_cfg *cfg, const nr_task *k, nr_train_result *res, nlprnn_error *err) {
    trainer t;
    nr_train_result r0;
    if (!res) res = &r0;
    memset(res, 0, sizeof *res);
    int rc = setup(&t, cfg, k, err);
    const int dist = t.comm.size > 1;
    tstate st;
    memset(&st, 0, sizeof st);
    st.best_score = -1;
    st.best_loss = INFINITY;
    if (!rc && cfg->resume) rc = load_checkpoint(&t, &st, err);
    if (!rc && dist) { /* rank 0's weights (and optimizer state) everywhere */
        rc = nr_comm_bcast_f32(&t.comm, k->params, k->n_params, err);
        if (!rc) rc = nr_comm_bcast_f32(&t.comm, t.best, k->n_params, err);
        if (!rc && t.opt.m) rc = nr_comm_bcast_f32(&t.comm, t.opt.m, k->n_params, err);
        if (!rc && t.opt.v) rc = nr_comm_bcast_f32(&t.comm, t.opt.v, k->n_params, err);
        if (!rc && t.ema) rc = nr_comm_bcast_f32(&t.comm, t.ema, k->n_params, err);
    }
    if (rc) {
        trainer_free(&t);
        return rc;
    }

    nr_train_progress pr;
    memset(&pr, 0, sizeof pr);
    pr.epochs = cfg->epochs;
    pr.valid.score = pr.valid.loss = NAN;
    pr.best_epoch = st.best_epoch;
    const double t0 = nr_now_sec(), el0 = st.elapsed;
    nr_lr_schedule sched = cfg->lr;
    int want_stop = 0; /* the progress callback asked to stop (over ranks: agreed next step) */
    int timed_out = 0;
    double last_loss = NAN;
    for (; st.epoch < cfg->epochs && !st.stopped_early && !timed_out; st.epoch++, st.batch = 0) {
        long long nb = 0;
        rc = k->begin_epoch(k->self, st.epoch, &nb, err);
        if (rc) break;
        if (sched.total <= 0) sched.total = nb * cfg->epochs;
        if (st.batch == 0) {
            st.ep_loss = 0;
            st.ep_correct = st.ep_count = st.ep_tokens = 0;
        }
        if (st.batch > nb) {
            rc = nr_fail(err, NLPRNN_E_STATE, -1, -1, "resume: batch %lld of an epoch of %lld batches",
                         st.batch, nb);
            break;
        }
        pr.epoch = st.epoch + 1;
        pr.batches = nb;
        double te = nr_now_sec();
        long long tokens_run = 0, batches_run = 0;
        for (; st.batch < nb; st.batch++) {
            int B = 0;
            rc = k->prepare(k->self, st.epoch, st.batch, &B, err);
            if (rc) break;
            int W = cfg->workers < B ? cfg->workers : B;
            if (W < 1) W = 1;
            step_job job;
            job.t = &t;
            job.epoch = st.epoch;
            job.batch = st.batch;
            if (W > 1) nr_parallel_run(W, step_worker, &job);
            else step_worker(&job, 0, 1);
            double s[S_N] = {0};
            for (int w = 0; w < W && !rc; w++) {
                if (job.rc[w] == NLPRNN_E_NUMERIC) {
                    rc = nr_fail(err, NLPRNN_E_NUMERIC, -1, -1,
                                 "%s: training diverged: the loss became %g at epoch %d batch %lld; "
                                 "try a lower lr",
                                 k->name, job.st[w].loss, st.epoch + 1, st.batch + 1);
                } else if (job.rc[w]) {
                    rc = job.rc[w];
                    if (err) *err = job.err[w];
                }
                s[S_LOSS] += job.st[w].loss;
                s[S_COUNT] += job.st[w].count;
                s[S_CORRECT] += job.st[w].correct;
                s[S_TOKENS] += job.st[w].tokens;
            }
            size_t nrows = k->sparse_rows ? collect_rows(&t, &job, W) : 0;
            double el = el0 + nr_now_sec() - t0;
            int stop_all = 0;
            if (dist) { /* the step's sums, stop requests, failures and rank 0's clock, all ranks */
                double local_count = s[S_COUNT];
                s[S_STOP] = (cfg->stop && *cfg->stop) || want_stop;
                s[S_FAILED] = rc != 0;
                s[S_FAIL_RANK] = rc ? t.comm.rank + 1 : 0;
                s[S_FAIL_CODE] = rc;
                s[S_CLOCK] = t.comm.rank == 0 ? el : 0;
                nlprnn_error mine;
                int rc2;
                if (k->sparse_rows) {
                    rc2 = sum_sparse_over_ranks(&t, W, &nrows, s, S_N, rc ? &mine : err);
                } else {
                    rc2 = nr_comm_sum_f64(&t.comm, s, S_N, rc ? &mine : err);
                    if (!rc2 && !rc && !s[S_FAILED]) {
                        add_workers(&t, W, 0);
                        float scale = 1.0f;
                        if (k->flags & NR_TASK_LOCAL_MEAN)
                            scale = s[S_COUNT] > 0 ? (float)local_count / (float)s[S_COUNT] : 0.0f;
                        rc2 = nr_comm_sum_grad(&t.comm, t.grad, k->n_params, scale, err);
                    }
                }
                if (!rc) rc = rc2;
                if (!rc && s[S_FAILED] > 0) { /* another rank failed (its own message says why) */
                    int one = s[S_FAILED] == 1;
                    rc = nr_fail(err, one ? (int)s[S_FAIL_CODE] : NLPRNN_E_STATE, -1, -1,
                                 "rank %d failed at epoch %d batch %lld (%s); see its message",
                                 one ? (int)s[S_FAIL_RANK] - 1 : -1, st.epoch + 1, st.batch + 1,
                                 nlprnn_status_name(one ? (int)s[S_FAIL_CODE] : NLPRNN_E_STATE));
                }
                if (!rc && !isfinite(s[S_LOSS]))
                    rc = nr_fail(err, NLPRNN_E_NUMERIC, -1, -1,
                                 "%s: training diverged: the loss became %g at epoch %d batch %lld; "
                                 "try a lower lr",
                                 k->name, s[S_LOSS], st.epoch + 1, st.batch + 1);
                stop_all = s[S_STOP] > 0;
                el = s[S_CLOCK];
            } else if (!rc) {
                add_workers(&t, W, nrows);
            }
            if (rc) break;
            st.ep_loss += s[S_LOSS];
            st.ep_count += (long long)s[S_COUNT];
            st.ep_correct += (long long)s[S_CORRECT];
            st.ep_tokens += (long long)s[S_TOKENS];
            tokens_run += (long long)s[S_TOKENS];
            batches_run++;
            double prog = cfg->time_limit > 0 && cfg->lr_follows_time ? el / cfg->time_limit : 0.0;
            float lr = nr_lr_at_progress(&sched, t.opt.step, prog);
            update(&t, nrows, cfg->clip, lr, st.epoch);
            if (t.ema) ema_update(&t);
            if (dist && cfg->check_every > 0 && t.opt.step % cfg->check_every == 0) {
                rc = nr_comm_check_same(&t.comm, k->params, k->n_params, "the parameters", t.opt.step, err);
                if (rc) break;
            }

            /* progress */
            double ee = nr_now_sec() - te;
            pr.batch = st.batch + 1;
            pr.step = t.opt.step;
            pr.last.loss = s[S_LOSS];
            pr.last.count = s[S_COUNT];
            pr.last.correct = s[S_CORRECT];
            pr.last.tokens = s[S_TOKENS];
            pr.loss = st.ep_count ? st.ep_loss / (double)st.ep_count : NAN;
            pr.accuracy = st.ep_count ? (double)st.ep_correct / (double)st.ep_count : NAN;
            pr.tokens_per_sec = ee > 0 ? (double)tokens_run / ee : 0;
            pr.elapsed = el;
            pr.eta = ee / (double)batches_run * (double)(nb - st.batch - 1);
            pr.lr = lr;
            int user_stop = report(&t, &pr, NR_TP_STEP, NULL);
            int time_up = cfg->time_limit > 0 && el >= cfg->time_limit;
            if (!dist) {
                if ((cfg->stop && *cfg->stop) || user_stop) {
                    st.batch++;
                    rc = NLPRNN_E_INTERRUPTED;
                    break;
                }
            } else {
                want_stop |= user_stop; /* agreed on at the next step */
                if (stop_all) { /* every rank stops after the same batch */
                    st.batch++;
                    rc = NLPRNN_E_INTERRUPTED;
                    break;
                }
            }
            if (time_up) { /* the budget is spent: training ends here, without error */
                timed_out = 1;
                st.batch++;
                break;
            }
            if (cfg->checkpoint_every > 0 && (st.batch + 1) % cfg->checkpoint_every == 0 && st.batch + 1 < nb) {
                tstate cs = st;
                cs.batch = st.batch + 1;
                cs.elapsed = el;
                rc = write_checkpoint(&t, &cs, err);
                if (rc) break;
            }
        }
        last_loss = st.ep_count ? st.ep_loss / (double)st.ep_count : NAN;
        st.elapsed = el0 + nr_now_sec() - t0;
        if (rc == NLPRNN_E_INTERRUPTED) {
            int rc2 = write_checkpoint(&t, &st, err);
            if (rc2) rc = rc2;
            else if (cfg->checkpoint && cfg->checkpoint[0])
                nr_fail(err, NLPRNN_E_INTERRUPTED, -1, -1,
                        "interrupted at epoch %d batch %lld; checkpoint saved to %s (continue with --resume)",
                        st.epoch + 1, st.batch, cfg->checkpoint);
            else
                nr_fail(err, NLPRNN_E_INTERRUPTED, -1, -1, "%s: training stopped at epoch %d batch %lld",
                        k->name, st.epoch + 1, st.batch);
            break;
        }
        if (!rc && timed_out) { /* the budget is spent: a resumed run has nothing left to do */
            tstate cs = st;
            cs.epoch = cfg->epochs;
            cs.batch = 0;
            cs.ep_loss = 0;
            cs.ep_correct = cs.ep_count = cs.ep_tokens = 0;
            cs.stopped_early = 1;
            rc = write_checkpoint(&t, &cs, err);
        }
        if (rc || timed_out) break;

        /* end of epoch: validate, keep the best, early stopping */
        nr_valid v = {0, NAN, NAN};
        if (t.ema) { /* validate (and keep) the averaged weights; the training weights wait */
            memcpy(t.wsave, k->params, k->n_params * sizeof(float));
            memcpy(k->params, t.ema, k->n_params * sizeof(float));
        }
        if (k->validate) {
            report(&t, &pr, NR_TP_MESSAGE, "validating");
            rc = k->validate(k->self, &v, err);
            if (!rc && v.has && !isfinite(v.loss))
                rc = nr_fail(err, NLPRNN_E_NUMERIC, -1, -1, "%s: the validation loss became %g in epoch %d",
                             k->name, v.loss, st.epoch + 1);
            if (rc) {
                if (t.ema) memcpy(k->params, t.wsave, k->n_params * sizeof(float));
                break;
            }
        }
        if (!v.has) v.score = v.loss = NAN;
        int improved = !v.has || (isnan(v.score) ? v.loss < st.best_loss
                                                 : v.score > st.best_score ||
                                                       (v.score == st.best_score && v.loss < st.best_loss));
        if (improved) {
            if (v.has) {
                st.best_score = v.score;
                st.best_loss = v.loss;
            }
            st.best_epoch = st.epoch + 1;
            st.bad_epochs = 0;
            memcpy(t.best, k->params, k->n_params * sizeof(float));
        } else {
            st.bad_epochs++;
            if (cfg->patience > 0 && st.bad_epochs >= cfg->patience) st.stopped_early = 1;
        }
        if (t.ema) memcpy(k->params, t.wsave, k->n_params * sizeof(float));
        if (k->epoch_done) k->epoch_done(k->self, st.epoch, last_loss, &v);
        pr.epoch = st.epoch + 1;
        pr.valid = v;
        pr.best_epoch = st.best_epoch;
        pr.improved = improved;
        pr.elapsed = st.elapsed;
        pr.eta = 0;
        pr.loss = last_loss;
        int stop_now = report(&t, &pr, NR_TP_EPOCH, NULL);
        /* checkpoint at the start of the next epoch */
        tstate cs = st;
        cs.epoch = st.epoch + 1;
        cs.batch = 0;
        cs.ep_loss = 0;
        cs.ep_correct = cs.ep_count = cs.ep_tokens = 0;
        if (st.stopped_early) cs.epoch = cfg->epochs; /* nothing left to do on resume */
        rc = write_checkpoint(&t, &cs, err);
        if (rc) break;
        int stop_here = (cfg->stop && *cfg->stop) || stop_now || want_stop;
        if (dist) stop_here = nr_comm_any(&t.comm, stop_here, err);
        if (stop_here < 0) {
            rc = stop_here;
            break;
        }
        if (stop_here) {
            if (cfg->checkpoint && cfg->checkpoint[0])
                rc = nr_fail(err, NLPRNN_E_INTERRUPTED, -1, -1,
                             "interrupted after epoch %d; checkpoint saved to %s (continue with --resume)",
                             st.epoch + 1, cfg->checkpoint);
            else
                rc = nr_fail(err, NLPRNN_E_INTERRUPTED, -1, -1, "%s: training stopped after epoch %d",
                             k->name, st.epoch + 1);
            st.epoch++;
            break;
        }
    }
    res->epochs_run = st.epoch < cfg->epochs ? st.epoch : cfg->epochs;
    res->best_epoch = st.best_epoch;
    res->best_score = st.best_score;
    res->best_loss = st.best_loss;
    res->stopped_early = st.stopped_early;
    res->timed_out = timed_out;
    res->steps = t.opt.step;
    res->seconds = nr_now_sec() - t0;
    res->last_loss = last_loss;
    if (!rc) {
        /* the result: the best validated weights (whether the run ended on its epochs, its
         * patience or its time budget), or the last ones with keep_last, for a task without
         * validation (or without validation data), or when no epoch was validated (the budget ran
         * out in the first) */
        res->kept_best = !cfg->keep_last && k->validate && st.best_epoch > 0 && isfinite(st.best_loss);
        if (res->kept_best) memcpy(k->params, t.best, k->n_params * sizeof(float));
        else if (t.ema) memcpy(k->params, t.ema, k->n_params * sizeof(float));
        if (dist) rc = nr_comm_check_same(&t.comm, k->params, k->n_params, "the final weights", t.opt.step, err);
    }
    trainer_free(&t);
    return rc;
}

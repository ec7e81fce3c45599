/* tasks/tag/train.c: the tagger's parameters and its training task (train/trainer.h).
 *
 * What the task gives the trainer:
 *   batch source   epoch e: the training sentences in an order drawn from (seed, e); blocks of 64
 *                  batches are sorted by falling length (little padding), cut into batches, and
 *                  the batches shuffled; batch b of the epoch is the b-th of them
 *   step           worker w of W takes a contiguous part of the batch: units, labels and (spacing)
 *                  hints into its scratch, forward, softmax cross-entropy, backward
 *   validation     accuracy and mean loss over the held-out sentences (the best accuracy is kept)
 *   file sections  the data's size (a resume must see the same data), weights as tensor "params"
 * Hints of a spacing sentence: with probability `hints` the sentence is hinted: a drop rate d is
 * drawn from U(0, drop); each true space is given as NR_HINT_SPACE with probability 1 - d (else
 * NR_HINT_JOIN), each unit without a space gets NR_HINT_SPACE with probability `noise` (a wrong
 * space) and NR_HINT_JOIN otherwise; unhinted sentences get NR_HINT_NONE everywhere (spaces
 * removed). Every draw is a function of (seed, epoch, sentence), so a resumed run repeats them
 * and the checkpoint holds no random state.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/pool.h"
#include "corpora/dataset.h"
#include "format/modelfile.h"
#include "tasks/tag/tagger.h"
#include "train/ctl.h"
#include "train/trainer.h"

/* ---- parameters --------------------------------------------------------------------------- */

#define OFF(f) offsetof(struct nlprnn_tagger_params, f)
static const nr_param ROWS[] = {
    {"format", NR_PARAM_ENUM, OFF(format), 0, 0, 0, "tagged spacing", "spacing",
     "training data: token<TAB>label lines, or well-spaced text lines", 0},
    {"cell", NR_PARAM_ENUM, OFF(cell), 0, 0, 0, "rnn lstm gru", "gru", "recurrent cell", 0},
    {"embed", NR_PARAM_INT, OFF(embed), 0, 1, 4096, NULL, "64", "embedding size", 0},
    {"hidden", NR_PARAM_INT, OFF(hidden), 0, 1, 4096, NULL, "128", "units per layer and direction", 0},
    {"layers", NR_PARAM_INT, OFF(layers), 0, 1, NR_ENCODER_MAX_LAYERS, NULL, "2", "stacked bidirectional layers", 0},
    {"dropout", NR_PARAM_DBL, OFF(dropout), 0, 0, 0.9, NULL, "0.1", "dropout between layers (training)", 0},
    {"max-len", NR_PARAM_INT, OFF(max_len), 0, 4, 4096, NULL, "128",
     "units per training sequence (longer sentences are cut) and per inference window", 0},
    {"min-count", NR_PARAM_INT, OFF(min_count), 0, 1, 1000000, NULL, "2",
     "units seen fewer times are the unknown unit", 0},
    {"max-vocab", NR_PARAM_INT, OFF(max_vocab), 0, 3, NR_MAX_LABELS, NULL, "20000", "most units kept (with <pad>, <unk>)", 0},
    {"epochs", NR_PARAM_INT, OFF(epochs), 0, 1, 1000000, NULL, "5", "passes over the training sentences", 0},
    {"batch", NR_PARAM_INT, OFF(batch), 0, 1, 4096, NULL, "32", "sentences per batch", 0},
    {"lr", NR_PARAM_DBL, OFF(lr), 0, 0, 100, NULL, "0.003", "peak learning rate (Adam)", NR_PARAM_OPEN_LO},
    {"min-lr", NR_PARAM_DBL, OFF(min_lr), 0, 0, 100, NULL, "0.0003",
     "learning rate at the end (cosine decay over the epochs, or over the time limit)", 0},
    {"clip", NR_PARAM_DBL, OFF(clip), 0, 0, 1e30, NULL, "5", "clip gradients by global norm (0: off)", 0},
    {"ema", NR_PARAM_DBL, OFF(ema), 0, 0, 1, NULL, "0", NR_TRAIN_EMA_HELP, NR_PARAM_OPEN_HI},
    {"valid", NR_PARAM_DBL, OFF(valid), 0, 0, 0.5, NULL, "0.02",
     "fraction of the sentences held out for validation (chosen by the seed)", 0},
    {"time-limit", NR_PARAM_DBL, OFF(time_limit), 0, 0, 1e9, NULL, "0",
     "seconds of training at most (0: none); the learning rate follows the time", 0},
    {"patience", NR_PARAM_INT, OFF(patience), 0, 0, 1000000, NULL, "0",
     "stop after this many epochs without a better validation accuracy (0: never)", NR_PARAM_RESUME_OK},
    {"keep", NR_PARAM_ENUM, OFF(keep), 0, 0, 0, "best last", "best",
     "the weights training ends with: the best validated epoch's (also after a time limit) or the last",
     NR_PARAM_RESUME_OK},
    {"threads", NR_PARAM_INT, OFF(threads), 0, 1, NR_MAX_THREADS, NULL, "1", "workers per batch", 0},
    {"store", NR_PARAM_ENUM, OFF(store), 0, 0, 0, "f32 f16", "f32",
     "how the model file stores the weights (f16: half the size, rounded; the checkpoint keeps f32)",
     NR_PARAM_RESUME_OK},
    {"hints", NR_PARAM_DBL, OFF(hints), 0, 0, 1, NULL, "0.5",
     "spacing: fraction of training sentences that keep some of their spaces as hints", 0},
    {"drop", NR_PARAM_DBL, OFF(drop), 0, 0, 1, NULL, "0.8",
     "spacing: a hinted sentence drops each space with a rate drawn from U(0, drop)", 0},
    {"noise", NR_PARAM_DBL, OFF(noise), 0, 0, 0.5, NULL, "0",
     "spacing: rate of wrong spaces added to hinted sentences", 0},
    {"jamo", NR_PARAM_INT, OFF(jamo), 0, 0, 1, NULL, "0",
     "spacing: 1 adds embeddings of each Hangul syllable's initial, medial and final jamo to its input", 0},
    {"conv", NR_PARAM_INT, OFF(conv), 0, 0, NR_TAG_MAX_CONV, NULL, "0",
     "width of a convolution over each unit's input window in front of the encoder (odd; 0: none)", 0},
    {"conv-channels", NR_PARAM_INT, OFF(conv_channels), 0, 1, 4096, NULL, "64",
     "filters of that convolution (their ReLU outputs join the unit's input)", 0},
    {"seed", NR_PARAM_U64, OFF(seed), 0, 0, 0, NULL, "1", "random seed", 0},
    {"checkpoint", NR_PARAM_STR, OFF(checkpoint), sizeof(((struct nlprnn_tagger_params *)0)->checkpoint), 0, 0,
     NULL, "", "checkpoint file (\"\": none)", NR_PARAM_RESUME_OK},
    {"checkpoint-every", NR_PARAM_LL, OFF(checkpoint_every), 0, 0, 1e15, NULL, "0",
     "also write the checkpoint every N batches (0: at epoch ends and on stop)", NR_PARAM_RESUME_OK},
    {"init-from", NR_PARAM_STR, OFF(init_from), sizeof(((struct nlprnn_tagger_params *)0)->init_from), 0, 0,
     NULL, "", "start from this tagger model: its units, labels, network shape and weights (\"\": none)", 0},
};
#undef OFF
static const nr_param_table TABLE = {"tagger parameter", ROWS, sizeof ROWS / sizeof ROWS[0]};

const nr_param_table *nr_tagger_param_table(void) { return &TABLE; }

void nr_tagger_params_default(struct nlprnn_tagger_params *p) {
    memset(p, 0, sizeof *p);
    nr_params_reset(&TABLE, p, NULL);
}

int nlprnn_tagger_params_create(nlprnn_tagger_params **out, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tagger parameters: out is NULL");
    nlprnn_tagger_params *p = malloc(sizeof *p);
    if (p) nr_tagger_params_default(p);
    *out = p;
    return p ? NLPRNN_OK : nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tagger parameters: out of memory");
}

void nlprnn_tagger_params_free(nlprnn_tagger_params *p) { free(p); }

int nlprnn_tagger_params_set(nlprnn_tagger_params *p, const char *name, const char *value,
                             nlprnn_error *err) {
    if (!p || !name || !value) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tagger parameter: NULL argument");
    return nr_params_set(&TABLE, p, name, value, err);
}

int nlprnn_tagger_params_get(const nlprnn_tagger_params *p, const char *name, char *buf, size_t cap,
                             nlprnn_error *err) {
    if (!p || !name || !buf || !cap)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tagger parameter: NULL argument");
    return nr_params_get(&TABLE, p, name, buf, cap, err);
}

int nlprnn_tagger_param_info(int i, const char **name, const char **def, const char **help, char *range,
                             size_t cap, nlprnn_error *err) {
    return nr_param_info(&TABLE, i, name, def, help, range, cap, err);
}

/* ---- the training task ---------------------------------------------------------------------- */

#define SORT_BLOCK 64 /* batches per length-sorted block */

typedef struct tg_worker {
    nr_tag_scratch sc;
} tg_worker;

typedef struct tg_task {
    nlprnn_tagger *t;
    const nr_tag_data *d;
    const nr_comm *comm;
    size_t *train, n_train;  /* sentence indices */
    size_t *valid, n_valid;  /* sorted by falling length */
    size_t *order;           /* (n_train) this epoch's order, batches contiguous */
    size_t *bstart;          /* (batches + 1) */
    long long batches;
    int B, W;
    tg_worker wk[NR_TRAIN_MAX_WORKERS];
    /* the current batch (this rank's share) */
    size_t at, nb;
    double units;            /* real units in it */
    int epoch;
} tg_task;

static size_t sent_len(const nr_tag_data *d, size_t i) { return d->off[i + 1] - d->off[i]; }

static size_t tg_len(const void *d, size_t i) { return sent_len(d, i); }

static int tg_begin_epoch(void *self, int epoch, long long *batches, nlprnn_error *err) {
    tg_task *t = self;
    nr_rng rng;
    nr_rng_seed(&rng, nr_seed_mix(t->t->p.seed, (uint64_t)epoch, 1));
    long long nb = nr_batches_by_length(t->train, t->n_train, (size_t)t->B, (size_t)t->B * SORT_BLOCK, tg_len,
                                        t->d, &rng, t->order, t->bstart);
    if (nb < 0) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tagger: out of memory");
    t->batches = nb;
    t->epoch = epoch;
    *batches = nb;
    return NLPRNN_OK;
}

static int tg_prepare(void *self, int epoch, long long batch, int *n, nlprnn_error *err) {
    (void)epoch, (void)err;
    tg_task *t = self;
    size_t s0 = t->bstart[batch], s1 = t->bstart[batch + 1];
    int lo = 0, hi = (int)(s1 - s0);
    if (t->comm && t->comm->size > 1) nr_split_range((int)(s1 - s0), t->comm->rank, t->comm->size, &lo, &hi);
    t->at = s0 + (size_t)lo;
    t->nb = (size_t)(hi - lo);
    t->units = 0;
    for (size_t i = 0; i < t->nb; i++) t->units += (double)sent_len(t->d, t->order[t->at + i]);
    *n = (int)t->nb;
    return NLPRNN_OK;
}

/* Sentences idx[0..B) into the scratch (time-major), with hints drawn for `epoch` when hinted. */
static int fill_batch(nr_tag_scratch *s, const nr_tag_data *d, const struct nlprnn_tagger_params *p,
                      const size_t *idx, int B, int epoch, int training) {
    int T = 0;
    for (int b = 0; b < B; b++) {
        int L = (int)sent_len(d, idx[b]);
        s->len[b] = L;
        if (L > T) T = L;
    }
    for (int b = 0; b < B; b++) {
        const int *ids = d->ids + d->off[idx[b]];
        const uint16_t *lab = d->lab + d->off[idx[b]];
        const uint16_t *jam = d->jam + d->off[idx[b]];
        int L = s->len[b], hinted = 0;
        float drop = 0;
        nr_rng r;
        if (training && p->format == NR_TAG_FORMAT_SPACING && p->hints > 0) {
            /* the seed ^ "hints" in ASCII: a stream of its own, apart from the other draws of the
             * seed ("drop", "valid" below) */
            nr_rng_seed(&r, nr_seed_mix(p->seed ^ 0x68696e7473ull, (uint64_t)epoch, idx[b]));
            hinted = nr_rng_uniform(&r) < p->hints;
            drop = (float)p->drop * nr_rng_uniform(&r);
        }
        for (int t = 0; t < T; t++) {
            size_t k = (size_t)t * (size_t)B + (size_t)b;
            if (t >= L) {
                s->ids[k] = NR_UNIT_PAD;
                s->jam[k] = 0;
                s->hints[k] = NR_HINT_NONE;
                s->tgt[k] = -1;
                continue;
            }
            s->ids[k] = ids[t];
            s->jam[k] = jam[t];
            s->tgt[k] = lab[t];
            int h = NR_HINT_NONE;
            if (hinted) {
                if (lab[t] == NR_SPACE_YES) h = nr_rng_uniform(&r) < drop ? NR_HINT_JOIN : NR_HINT_SPACE;
                else h = t + 1 < L && nr_rng_uniform(&r) < (float)p->noise ? NR_HINT_SPACE : NR_HINT_JOIN;
            }
            s->hints[k] = h;
        }
    }
    return T;
}

static int tg_step(void *self, int epoch, long long batch, int w, int W, float *grad, nr_step_stats *st,
                   const int **rows, size_t *n_rows, nlprnn_error *err) {
    tg_task *t = self;
    int lo = 0, hi = 0;
    nr_split_range((int)t->nb, w, W, &lo, &hi);
    if (hi <= lo) return NLPRNN_OK;
    nr_tag_scratch *s = &t->wk[w].sc;
    const nlprnn_tagger *tg = t->t;
    int B = hi - lo;
    int T = fill_batch(s, t->d, &tg->p, t->order + t->at + lo, B, epoch, 1);
    /* dropout masks from (seed ^ "drop" in ASCII, epoch, batch * 64 + w): w < NR_TRAIN_MAX_WORKERS
     * (16) <= 64, so no two (batch, worker) pairs share a stream */
    nr_rng drng;
    nr_rng_seed(&drng, nr_seed_mix(tg->p.seed ^ 0x64726f70ull, (uint64_t)epoch, (uint64_t)batch * 64 + (uint64_t)w));
    int rc = nr_tag_forward(s, &tg->net, T, B, tg->p.dropout > 0 ? &drng : NULL, err);
    if (rc) return rc;
    double part = 0;
    for (int b = 0; b < B; b++) part += s->len[b];
    double loss = 0;
    int cnt = 0, ok = 0;
    size_t nr = 0;
    /* nr_tag_backward's gradient is of (scale / part) * the part's summed loss (every unit of the
     * part is counted): with scale = part / units, the part's summed loss / this rank's units, the
     * share NR_TASK_LOCAL_MEAN asks of a worker (train/trainer.h) */
    rc = nr_tag_backward(s, &tg->net, grad, T, B, t->units > 0 ? part / t->units : 0, &loss, &cnt, &ok, &nr, err);
    if (rc) return rc;
    st->loss = loss;
    st->count = cnt;
    st->correct = ok;
    st->tokens = part;
    *rows = s->rows;
    *n_rows = nr;
    return NLPRNN_OK;
}

static int tg_validate(void *self, nr_valid *v, nlprnn_error *err) {
    tg_task *t = self;
    v->has = t->n_valid > 0;
    v->score = v->loss = NAN;
    if (!v->has) return NLPRNN_OK;
    nr_tag_scratch *s = &t->wk[0].sc;
    const nlprnn_tagger *tg = t->t;
    double loss = 0, cnt = 0, ok = 0;
    int C = tg->net.C;
    for (size_t i = 0; i < t->n_valid; i += (size_t)t->B) {
        int B = t->n_valid - i < (size_t)t->B ? (int)(t->n_valid - i) : t->B;
        int T = fill_batch(s, t->d, &tg->p, t->valid + i, B, 0, 0);
        int rc = nr_tag_forward(s, &tg->net, T, B, NULL, err);
        if (rc) return rc;
        nr_tag_probs(s, &tg->net, T, B);
        for (size_t k = 0; k < (size_t)T * (size_t)B; k++) {
            int y = s->tgt[k];
            if (y < 0) continue;
            const float *pr = s->logits + k * (size_t)C;
            int best = 0;
            for (int c = 1; c < C; c++)
                if (pr[c] > pr[best]) best = c;
            ok += best == y;
            loss += -log(pr[y] > 1e-30f ? (double)pr[y] : 1e-30);
            cnt++;
        }
    }
    v->score = ok / cnt;
    v->loss = loss / cnt;
    return NLPRNN_OK;
}

static void tg_epoch_done(void *self, int epoch, double train_loss, const nr_valid *v) {
    (void)train_loss, (void)v;
    tg_task *t = self;
    t->t->epochs_run = epoch + 1;
}

static int tg_save(void *self, nr_mf_writer *w, nr_mf_buf *conf, int epoch, long long batch,
                   nlprnn_error *err) {
    (void)w, (void)epoch, (void)batch;
    tg_task *t = self;
    int rc = nr_conf_put_int(conf, "data.sentences", (long long)t->d->n, err);
    if (!rc) rc = nr_conf_put_int(conf, "data.units", (long long)t->d->n_units, err);
    if (!rc) rc = nr_conf_put_int(conf, "data.vocab", t->t->units.n, err);
    if (!rc) rc = nr_conf_put_int(conf, "data.labels", t->t->labels.n, err);
    return rc;
}

static int tg_load(void *self, const nr_mf_reader *r, const nr_conf *c, nlprnn_error *err) {
    (void)r;
    tg_task *t = self;
    long long ns = 0, nu = 0, nv = 0, nl = 0;
    int rc = nr_conf_get_int(c, "data.sentences", &ns, err);
    if (!rc) rc = nr_conf_get_int(c, "data.units", &nu, err);
    if (!rc) rc = nr_conf_get_int(c, "data.vocab", &nv, err);
    if (!rc) rc = nr_conf_get_int(c, "data.labels", &nl, err);
    if (rc) return rc;
    if (ns != (long long)t->d->n || nu != (long long)t->d->n_units || nv != t->t->units.n || nl != t->t->labels.n)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "%s: the checkpoint was made on other data (%lld sentences, %lld units, %lld unit "
                       "types, %lld labels; these files: %zu, %zu, %d, %d)",
                       c->where, ns, nu, nv, nl, t->d->n, t->d->n_units, t->t->units.n, t->t->labels.n);
    return NLPRNN_OK;
}

static void tg_task_free(tg_task *t) {
    for (int w = 0; w < NR_TRAIN_MAX_WORKERS; w++) nr_tag_scratch_free(&t->wk[w].sc);
    free(t->train);
    free(t->valid);
    free(t->order);
    free(t->bstart);
}

void nr_tagger_shape(const struct nlprnn_tagger_params *p, nr_encoder_cfg *ec, nr_tag_front *fr) {
    if (ec) {
        nr_encoder_cfg_default(ec, p->embed, p->hidden);
        ec->cell = p->cell;
        ec->layers = p->layers;
        ec->bidirectional = 1;
        ec->merge = NR_MERGE_CONCAT;
        ec->dropout = (float)p->dropout;
    }
    if (fr) *fr = (nr_tag_front){p->jamo, p->conv, p->conv_channels};
}

int nr_tagger_bind(nlprnn_tagger *t, int zeroed, nlprnn_error *err) {
    nr_tag_front fr;
    nr_tagger_shape(&t->p, &t->ec, &fr);
    int rc = nr_tag_net_bind(&t->net, &t->ec, t->units.n, t->labels.n, &fr, NULL, err);
    if (rc) return rc;
    free(t->params);
    t->params = zeroed ? nr_calloc_array(t->net.n_params, sizeof(float))
                       : nr_big_alloc(t->net.n_params, sizeof(float));
    if (!t->params) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tagger: out of memory");
    return nr_tag_net_bind(&t->net, &t->ec, t->units.n, t->labels.n, &fr, t->params, err);
}

static int tg_setup(tg_task *k, nlprnn_tagger *t, const nr_tag_data *d, const nr_comm *comm, nlprnn_error *err) {
    const struct nlprnn_tagger_params *p = &t->p;
    memset(k, 0, sizeof *k);
    k->t = t;
    k->d = d;
    k->comm = comm;
    k->W = p->threads;
    k->train = nr_malloc_array(d->n, sizeof *k->train);
    k->valid = nr_malloc_array(d->n, sizeof *k->valid);
    k->order = nr_malloc_array(d->n, sizeof *k->order);
    k->bstart = nr_malloc_array(d->n + 2, sizeof *k->bstart);
    if (!k->train || !k->valid || !k->order || !k->bstart) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tagger: out of memory");
    /* sentence i is held out when its draw from (seed ^ "valid" in ASCII, i) falls below `valid` */
    for (size_t i = 0; i < d->n; i++) {
        nr_rng r;
        nr_rng_seed(&r, nr_seed_mix(p->seed ^ 0x76616c6964ull, i, 0));
        if (nr_rng_uniform(&r) < p->valid) k->valid[k->n_valid++] = i;
        else k->train[k->n_train++] = i;
    }
    if (k->n_train == 0) return nr_fail(err, NLPRNN_E_DATA, -1, -1, "tagger: no training sentences left after holding out validation");
    if (nr_sort_by_length(k->valid, k->n_valid, tg_len, d)) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tagger: out of memory");
    k->B = k->n_train < (size_t)p->batch ? (int)k->n_train : p->batch;
    int rc = nr_tagger_bind(t, 1, err);
    if (rc) return rc;
    nr_rng rng;
    nr_rng_seed(&rng, p->seed);
    rc = nr_tag_net_init(&t->net, &rng, err);
    int maxT = 1;
    for (size_t i = 0; i < d->n; i++)
        if ((int)sent_len(d, i) > maxT) maxT = (int)sent_len(d, i);
    for (int w = 0; !rc && w < k->W; w++) rc = nr_tag_scratch_init(&k->wk[w].sc, &t->net, maxT, k->B, 1, 1, err);
    return rc;
}

/* The trainer's progress -> the tagger's two public forms: three numbers once per epoch
 * (nlprnn_tagger_train), or the record (nlprnn_tagger_train_ctl). */
typedef struct tg_epoch_cb {
    nlprnn_tagger_progress_fn fn;
    void *user;
} tg_epoch_cb;

static int tg_on_epoch(void *user, const nr_train_progress *pr) {
    tg_epoch_cb *c = user;
    if (pr->phase != NR_TP_EPOCH || !c->fn) return 0;
    return c->fn(c->user, pr->epoch, pr->loss, pr->valid.has ? pr->valid.score : NAN);
}

typedef struct tg_record_cb {
    nlprnn_tagger_progress_cb fn;
    void *user;
} tg_record_cb;

static int tg_on_record(void *user, const nr_train_progress *q) {
    tg_record_cb *c = user;
    if (!c->fn) return 0;
    nlprnn_tagger_progress pr;
    NR_PROGRESS_FILL_COMMON(pr, q);
    pr.accuracy = q->accuracy;
    pr.units_per_sec = q->tokens_per_sec;
    pr.valid_accuracy = q->phase == NR_TP_EPOCH && q->valid.has ? q->valid.score : NAN;
    int stop = c->fn(c->user, &pr);
    return q->phase == NR_TP_MESSAGE ? 0 : stop;
}

static int tagger_train(const char *const *paths, int n_paths, const nlprnn_tagger_params *p,
                        const nlprnn_train_ctl *ctl, nr_train_progress_fn progress, void *user,
                        nlprnn_tagger **out, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tagger: out is NULL");
    *out = NULL;
    if (!paths || n_paths < 1 || !p)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tagger: no training files or parameters");
    int resume = ctl && ctl->resume;
    if (resume && !p->checkpoint[0])
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tagger: resume needs the checkpoint parameter");
    nlprnn_tagger *t = calloc(1, sizeof *t);
    if (!t) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tagger: out of memory");
    t->p = *p;
    t->best_score = NAN;
    nr_label_map_init(&t->units);
    nr_label_map_init(&t->labels);
    nr_tag_data d;
    memset(&d, 0, sizeof d);
    tg_task k;
    memset(&k, 0, sizeof k);
    nr_train_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    /* fine-tuning (init-from): the initial model fixes the units, the labels and the shape */
    nlprnn_tagger *src = NULL;
    int rc = p->jamo && p->format != NR_TAG_FORMAT_SPACING
                 ? nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                           "tagger: jamo 1 is for spacing models (a unit of a token tagger is a whole token)")
                 : NLPRNN_OK;
    nr_tag_front fr;
    nr_tagger_shape(p, NULL, &fr);
    if (!rc && nr_tag_front_check(&fr))
        rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tagger: conv %d: the width is odd (1, 3, 5, ...), or 0 for none",
                     p->conv);
    if (!rc && p->init_from[0]) rc = nlprnn_tagger_load(p->init_from, &src, err);
    if (!rc && src && src->p.format != p->format)
        rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tagger: %s is a %s model, the training data is %s",
                     p->init_from, src->p.format == NR_TAG_FORMAT_SPACING ? "spacing" : "tagged",
                     p->format == NR_TAG_FORMAT_SPACING ? "spacing" : "tagged");
    if (!rc && src) {
        t->p.cell = src->p.cell;
        t->p.embed = src->p.embed;
        t->p.hidden = src->p.hidden;
        t->p.layers = src->p.layers;
        t->p.jamo = src->p.jamo;
        t->p.conv = src->p.conv;
        t->p.conv_channels = src->p.conv_channels;
    }
    if (!rc) nr_train_message(progress, user, p->epochs, "reading the training files");
    if (!rc) rc = nr_tag_read(&d, &t->units, &t->labels, p->format, paths, n_paths, p->max_len, err);
    if (!rc && src) rc = nr_tag_remap(&d, &t->units, &t->labels, &src->units, &src->labels, err);
    else if (!rc) rc = nr_tag_prune_units(&d, &t->units, p->min_count, p->max_vocab, err);
    if (!rc && t->labels.n < 2)
        rc = nr_fail(err, NLPRNN_E_DATA, -1, -1, "tagger: the training data has %d label%s (at least 2 are needed)",
                     t->labels.n, t->labels.n == 1 ? "" : "s");
    if (!rc) rc = tg_setup(&k, t, &d, ctl ? ctl->comm : NULL, err);
    if (!rc && src) {
        if (src->net.n_params != t->net.n_params)
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "tagger: %s: %zu parameters, the network built from it has %zu",
                         p->init_from, src->net.n_params, t->net.n_params);
        else
            memcpy(t->params, src->params, t->net.n_params * sizeof(float));
    }
    nlprnn_tagger_free(src);
    if (!rc) rc = nr_train_cfg_std(&cfg, "tagger", &TABLE, p, ctl, err);
    if (!rc) {
        nr_task task = {
            .self = &k,
            .name = "tagger",
            .params = t->params,
            .n_params = t->net.n_params,
            .sparse_rows = (size_t)t->net.V,
            .sparse_dim = t->net.E,
            .sparse_skip = NR_UNIT_PAD,
            .begin_epoch = tg_begin_epoch,
            .prepare = tg_prepare,
            .step = tg_step,
            .validate = tg_validate,
            .save = tg_save,
            .load = tg_load,
            .epoch_done = tg_epoch_done,
            .flags = NR_TASK_LOCAL_MEAN,
        };
        cfg.workers = k.W;
        cfg.progress = progress;
        cfg.user = user;
        nr_train_result res;
        rc = nr_train(&cfg, &task, &res, err);
        if (!rc) {
            t->best_epoch = res.best_epoch;
            t->best_score = k.n_valid && res.kept_best ? res.best_score : NAN;
            t->epochs_run = res.epochs_run;
            if (!res.kept_best && k.n_valid) { /* the last weights: their validation accuracy */
                nr_valid v;
                if (tg_validate(&k, &v, NULL) == 0) t->best_score = v.score;
            }
            nr_tagger_summarize(t);
        }
    }
    nr_train_cfg_done(&cfg);
    tg_task_free(&k);
    nr_tag_data_free(&d);
    if (rc) {
        nlprnn_tagger_free(t);
        return rc;
    }
    *out = t;
    return NLPRNN_OK;
}

int nlprnn_tagger_train(const char *const *paths, int n_paths, const nlprnn_tagger_params *p,
                        const nlprnn_train_ctl *ctl, nlprnn_tagger_progress_fn progress, void *user,
                        nlprnn_tagger **out, nlprnn_error *err) {
    tg_epoch_cb c = {progress, user};
    return tagger_train(paths, n_paths, p, ctl, tg_on_epoch, &c, out, err);
}

int nlprnn_tagger_train_ctl(const char *const *paths, int n_paths, const nlprnn_tagger_params *p,
                            const nlprnn_train_ctl *ctl, nlprnn_tagger_progress_cb progress, void *user,
                            nlprnn_tagger **out, nlprnn_error *err) {
    tg_record_cb c = {progress, user};
    return tagger_train(paths, n_paths, p, ctl, tg_on_record, &c, out, err);
}

/* tasks/lm/train.c: training: parameters, the corpus, the loop of one direction,
 * nlprnn_lm_train(_ctl).
 *
 * Language-model loss (one direction), for a sentence s = <bos> x_1 .. x_n <eos>:
 *     h_t = encoder(emb(s_0..s_t))           (T,B,H)
 *     z_t = W h_t + b                        (V)      W = table when tied
 *     L   = - mean over real positions of log softmax(z_t)[s_{t+1}]
 * Training batches are sentences of similar length, padded and masked (lengths per row), each
 * starting from a zero state, exactly as they are scored later; or, with bptt N > 0 (stream mode,
 * truncated backpropagation through time), windows of N steps of B streams of reviews laid out
 * back to back (tasks/lm/stream.h), each stream's state carried from one window to the next
 * (bptt-reset bos: zeroed at every review's <bos>, inside a window too, so that each review is
 * trained from a zero state as it is scored; the encoder's reset mask, models/encoder.h).
 */
#include "tasks/lm/lm.h"
#include "tasks/lm/stream.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "corpora/reader.h"
#include "format/modelfile.h"
#include "train/ctl.h"
#include "train/comm.h"
#include "train/trainer.h"

/* ================================================================================================
 * training
 * ============================================================================================== */

struct nlprnn_lm_params {
    char tokenizer[1024];
    char checkpoint[1024]; /* "": OUTPUT.ckpt; the directions' checkpoints are this + .fwd, .bwd */
    long long checkpoint_every;
    char init[1024]; /* warm start: a LANG model file (or shipped name) to continue training */
    int cell;        /* index into "lstm gru": the cell is NR_CELL_LSTM + cell */
    int directions;  /* index into "forward backward both": bit 0 forward, bit 1 backward of + 1 */
    int layers, embed, hidden, tied;
    int sampled, samples, lazy, batch, max_len, bptt, bptt_reset, optimizer, threads, epochs, storage, parallel;
    double lr, clip, dropout, time_limit;
    long long max_lines, valid_lines;
    uint64_t seed;
};
#define LM_DIRS(p) ((p)->directions + 1) /* 1 forward, 2 backward, 3 both */

#define OFF(f) offsetof(struct nlprnn_lm_params, f)
#define SZ(f) sizeof(((struct nlprnn_lm_params *)0)->f)
/* Rows without NR_PARAM_RESUME_OK are recorded in the checkpoints (param.*): a resumed run must
 * have the same. */
static const nr_param ROWS[] = {
    {"tokenizer", NR_PARAM_STR, OFF(tokenizer), SZ(tokenizer), 0, 0, NULL, "",
     "tokenizer file (required unless init is given)", 0},
    {"init", NR_PARAM_STR, OFF(init), SZ(init), 0, 0, NULL, "",
     "warm start: continue training this LANG model (file or shipped name; its architecture and tokenizer)", 0},
    {"cell", NR_PARAM_ENUM, OFF(cell), 0, 0, 0, "lstm gru", "lstm", "recurrent cell", 0},
    {"layers", NR_PARAM_INT, OFF(layers), 0, 1, NR_ENCODER_MAX_LAYERS, NULL, "1", "stacked layers", 0},
    {"embed", NR_PARAM_INT, OFF(embed), 0, 1, NR_MAX_EMBED, NULL, "256", "embedding size", 0},
    {"hidden", NR_PARAM_INT, OFF(hidden), 0, 1, NR_MAX_HIDDEN, NULL, "256", "units per layer (tied needs hidden = embed)", 0},
    {"tied", NR_PARAM_INT, OFF(tied), 0, 0, 1, NULL, "1", "1: the output matrix is the embedding table", 0},
    {"directions", NR_PARAM_ENUM, OFF(directions), 0, 0, 0, "forward backward both", "both",
     "the networks to train (backward alone is not a usable model)", 0},
    {"softmax", NR_PARAM_ENUM, OFF(sampled), 0, 0, 0, "full sampled", "sampled",
     "softmax of training (evaluation always uses the full one)", 0},
    {"samples", NR_PARAM_INT, OFF(samples), 0, 1, 1 << 20, NULL, "1024",
     "negative classes per batch of the sampled softmax", 0},
    {"embed-update", NR_PARAM_ENUM, OFF(lazy), 0, 0, 0, "dense lazy", "dense",
     "the embedding table: dense (every row every step) or lazy (the rows a batch used; tied: sampled only)", 0},
    {"batch", NR_PARAM_INT, OFF(batch), 0, 1, 4096, NULL, "64", "sentences per batch (bptt: streams; over MPI: per rank)", 0},
    {"max-len", NR_PARAM_INT, OFF(max_len), 0, 1, 4096, NULL, "64",
     "pieces per training sentence (longer ones are cut; sentence batches only)", 0},
    {"bptt", NR_PARAM_INT, OFF(bptt), 0, 0, 4096, NULL, "0",
     "0: sentence batches; N > 0: stream mode (truncated BPTT): the reviews back to back in `batch` "
     "streams, windows of N pieces, each stream's state carried to its next window", 0},
    {"bptt-reset", NR_PARAM_ENUM, OFF(bptt_reset), 0, 0, 0, "none bos", "none",
     "stream mode: none: a review starts from the state the review before it left; bos: every layer's "
     "state is zeroed at each review's <bos> (as fill, lm-eval and generate start), no gradient across it", 0},
    {"optimizer", NR_PARAM_ENUM, OFF(optimizer), 0, 0, 0, "sgd adam adamw", "adam", "optimizer", 0},
    {"threads", NR_PARAM_INT, OFF(threads), 0, 0, NR_MAX_THREADS, NULL, "0",
     "data-parallel workers, each a part of every batch (parallel 1: half to each direction; 0: the "
     "cores this process may use)", 0},
    {"epochs", NR_PARAM_INT, OFF(epochs), 0, 1, 100000, NULL, "1", "passes over the data (until time-limit)", 0},
    {"lr", NR_PARAM_DBL, OFF(lr), 0, 1e-9, 100, NULL, "0.003", "learning rate (decays linearly to lr/10)", 0},
    {"clip", NR_PARAM_DBL, OFF(clip), 0, 0, 1e9, NULL, "1", "clip gradients by global norm (0: off)", 0},
    {"dropout", NR_PARAM_DBL, OFF(dropout), 0, 0, 0.99, NULL, "0", "dropout between stacked layers", 0},
    {"max-lines", NR_PARAM_LL, OFF(max_lines), 0, 0, 9e18, NULL, "0", "read at most this many training lines (0: all)", 0},
    {"seed", NR_PARAM_U64, OFF(seed), 0, 0, 0, NULL, "1", "random seed", 0},
    {"time-limit", NR_PARAM_DBL, OFF(time_limit), 0, 0, 1e9, NULL, "0",
     "seconds per direction (0: none); the learning rate then follows time", NR_PARAM_RESUME_OK},
    {"parallel", NR_PARAM_INT, OFF(parallel), 0, 0, 1, NULL, "0",
     "1: train the two directions at the same time, threads/2 each (at least 1)", NR_PARAM_RESUME_OK},
    {"storage", NR_PARAM_ENUM, OFF(storage), 0, 0, 0, "f32 f16 int8", "f16",
     "how the saved weights are stored (biases: f32)", NR_PARAM_RESUME_OK},
    {"valid-lines", NR_PARAM_LL, OFF(valid_lines), 0, 0, 9e18, NULL, "2000",
     "lines of the validation file scored after training (0: all)", NR_PARAM_RESUME_OK},
    {"checkpoint", NR_PARAM_STR, OFF(checkpoint), SZ(checkpoint), 0, 0, NULL, "",
     "checkpoint file (\"\": MODEL.ckpt), a direction each: + .fwd, + .bwd", NR_PARAM_RESUME_OK},
    {"checkpoint-every", NR_PARAM_LL, OFF(checkpoint_every), 0, 0, 9e18, NULL, "0",
     "also write the checkpoint every N batches (0: each epoch, on stop, at the time limit)", NR_PARAM_RESUME_OK},
};
#undef OFF
#undef SZ
static const nr_param_table TABLE = {"language-model training parameter", ROWS, sizeof ROWS / sizeof ROWS[0]};

int nlprnn_lm_params_create(nlprnn_lm_params **out, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "language-model parameters: out is NULL");
    *out = calloc(1, sizeof **out);
    if (!*out) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "language-model parameters: out of memory");
    nr_params_reset(&TABLE, *out, NULL); /* the table's defaults are valid (test_params checks) */
    return 0;
}

void nlprnn_lm_params_free(nlprnn_lm_params *p) { free(p); }

int nlprnn_lm_params_set(nlprnn_lm_params *p, const char *name, const char *value, nlprnn_error *err) {
    if (!p || !name || !value) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "lm params set: NULL argument");
    return nr_params_set(&TABLE, p, name, value, err);
}

int nlprnn_lm_params_get(const nlprnn_lm_params *p, const char *name, char *buf, size_t cap,
                         nlprnn_error *err) {
    if (!p || !name || !buf || !cap) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "NULL argument");
    return nr_params_get(&TABLE, p, name, buf, cap, err);
}

int nlprnn_lm_param_info(int i, const char **name, const char **def, const char **help, char *range, size_t cap,
                         nlprnn_error *err) {
    return nr_param_info(&TABLE, i, name, def, help, range, cap, err);
}

/* The training corpus: every sentence as <bos> ids <eos>, ids renumbered by falling frequency. */
typedef struct corpus {
    int32_t *ids;     /* all sentences back to back (model ids) */
    size_t *start;    /* (n+1) */
    size_t n;
    int32_t *tok2m;   /* (V) tokenizer id -> model id */
    int32_t *m2tok;   /* (V) model id -> tokenizer id */
    long long *count; /* (V) occurrences of each model id (targets: <bos> not counted) */
    long long total;  /* sum of count */
    long long chars;
} corpus;

static void corpus_free(corpus *c) {
    free(c->ids);
    free(c->start);
    free(c->tok2m);
    free(c->m2tok);
    free(c->count);
    memset(c, 0, sizeof *c);
}

typedef struct rank_pair {
    long long count;
    int id;
} rank_pair;

static int cmp_rank(const void *a, const void *b) {
    const rank_pair *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return x->id - y->id;
}

/* Over MPI (D->size = N > 1, docs/scaling.md) each rank keeps the lines i with i % N == rank
 * (max_lines split evenly) and the piece counts, hence the model's id order, are summed over the
 * ranks, so that every rank numbers the pieces alike. */
static int load_corpus(const nlprnn_tokenizer *tok, const char *path, long long max_lines, const nr_comm *D,
                       corpus *c, nlprnn_error *err) {
    memset(c, 0, sizeof *c);
    int V = nlprnn_tokenizer_vocab_size(tok);
    nr_line_reader *rd = NULL;
    int rc = nr_line_reader_open(&rd, path, NULL, err);
    if (rc) return rc;
    nlprnn_encoding *enc = NULL;
    nlprnn_encoding_create(&enc, NULL);
    ivec ids = {0};
    size_t nstart = 0, cap = 0;
    long long *count = calloc((size_t)V, sizeof(long long));
    if (!enc || !count) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    nr_line line;
    if (max_lines > 0) max_lines = (max_lines + D->size - 1) / D->size;
    while (!rc && (max_lines <= 0 || (long long)nstart < max_lines)) {
        int got = nr_line_reader_next(rd, &line, err);
        if (got <= 0) {
            rc = got;
            break;
        }
        if ((line.lineno - 1) % D->size != D->rank) continue; /* another rank's line */
        rc = nlprnn_tokenizer_encode_flags(tok, line.text, line.len, NLPRNN_ENCODE_BOS | NLPRNN_ENCODE_EOS,
                                           enc, err);
        if (rc == NLPRNN_E_UTF8) {
            rc = nr_fail(err, NLPRNN_E_UTF8, line.lineno, line.offset, "%s:%lld: invalid UTF-8", path, line.lineno);
            break;
        }
        if (rc) break;
        size_t m = nlprnn_encoding_size(enc);
        if (m <= 2) continue;
        const int32_t *e = nlprnn_encoding_ids(enc);
        if (nstart + 2 > cap) {
            size_t nc = cap ? cap * 2 : 1024;
            size_t *ns = nr_realloc_array(c->start, nc, sizeof(size_t));
            if (!ns) {
                rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
                break;
            }
            c->start = ns;
            cap = nc;
        }
        c->start[nstart++] = ids.n;
        for (size_t i = 0; i < m && !rc; i++) {
            count[e[i]]++;
            if (nr_lm_ivec_push(&ids, e[i])) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        }
        c->chars += nr_lm_utf8_chars(line.text, line.len) + 1;
    }
    nr_line_reader_close(rd);
    nlprnn_encoding_free(enc);
    long long nall = (long long)nstart;
    if (D->size > 1) { /* counts over all ranks (every rank then orders the pieces alike) */
        rc = nr_comm_agree(D, rc, err);
        if (!rc) rc = nr_comm_sum_i64(D, count, (size_t)V, err);
        if (!rc) rc = nr_comm_sum_i64(D, &c->chars, 1, err);
        if (!rc) rc = nr_comm_sum_i64(D, &nall, 1, err);
    }
    if (!rc && nall == 0) rc = nr_fail(err, NLPRNN_E_EMPTY, -1, -1, "%s: no text to train on", path);
    if (!rc && nstart == 0) { /* this rank's share is empty (a tiny corpus over many ranks) */
        rc = nr_fail(err, NLPRNN_E_EMPTY, -1, -1, "%s: no line for rank %d of %d", path, D->rank, D->size);
    }
    if (!rc) {
        c->start[nstart] = ids.n;
        c->n = nstart;
        c->ids = ids.v;
        ids.v = NULL;
        rank_pair *rp = malloc((size_t)V * sizeof *rp);
        c->tok2m = malloc((size_t)V * sizeof(int32_t));
        c->m2tok = malloc((size_t)V * sizeof(int32_t));
        if (!rp || !c->tok2m || !c->m2tok) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        else {
            for (int i = 0; i < V; i++) {
                rp[i].count = count[i];
                rp[i].id = i;
            }
            qsort(rp, (size_t)V, sizeof *rp, cmp_rank);
            count[NLPRNN_ID_BOS] = 0; /* never a target */
            for (int r = 0; r < V; r++) {
                c->m2tok[r] = rp[r].id;
                c->tok2m[rp[r].id] = r;
            }
            for (int i = 0; i < V; i++) c->total += count[i];
            long long *mc = malloc((size_t)V * sizeof(long long));
            if (mc) {
                for (int r = 0; r < V; r++) mc[r] = count[c->m2tok[r]];
                c->count = mc;
            } else {
                rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
            }
            for (size_t i = 0; i < c->start[nstart]; i++) c->ids[i] = c->tok2m[c->ids[i]];
        }
        free(rp);
    }
    free(ids.v);
    free(count);
    if (rc) corpus_free(c);
    return rc;
}

typedef struct len_idx {
    int len;
    int idx;
} len_idx;

static int cmp_len_idx(const void *a, const void *b) {
    const len_idx *x = a, *y = b;
    if (x->len != y->len) return x->len - y->len;
    return x->idx - y->idx;
}

/* Copy a network with its vocabulary rows permuted (the embedding table, the output bias and
 * the untied output matrix; everything else as it is). The trainer numbers pieces by falling
 * training frequency: model row r is tokenizer row m2tok[r].
 *   to_tokenizer 1: dst row m2tok[r] = src row r   (trained network -> file order)
 *   to_tokenizer 0: dst row r = src row m2tok[r]   (loaded file -> trainer order, warm start) */
static void permute_rows(nr_lm_net *dst, const nr_lm_net *src, const int32_t *m2tok, int to_tokenizer) {
    const nr_lm_cfg *c = &src->cfg;
    memcpy(dst->params, src->params, src->n_params * sizeof(float));
    for (int r = 0; r < c->vocab; r++) {
        size_t d = (size_t)(to_tokenizer ? m2tok[r] : r), s0 = (size_t)(to_tokenizer ? r : m2tok[r]);
        memcpy(dst->emb.table + d * c->embed, src->emb.table + s0 * c->embed, (size_t)c->embed * sizeof(float));
        dst->out.b[d] = src->out.b[s0];
        if (!c->tied)
            memcpy(dst->out.w + d * c->hidden, src->out.w + s0 * c->hidden, (size_t)c->hidden * sizeof(float));
    }
}

/* ---- one direction on the one trainer (train/trainer.h) ------------------------------------------
 *
 * What the task gives the trainer:
 *   batch source   epoch e: the sentences shuffled, sorted by length inside windows of 100
 *                  batches, the batch order shuffled (a stream seeded by (seed, direction, e));
 *                  over MPI every rank batches its own lines and all take the largest rank's
 *                  number of batches (a rank with fewer starts its own over). Stream mode
 *                  (bptt > 0; one process): the sentences shuffled (the same stream), laid out as
 *                  `batch` streams (tasks/lm/stream.h); batch b is window b of every stream
 *   step           data-parallel over the batch: worker w of W takes the sentences
 *                  nr_split_range(nb, w, W) (contiguous) on its own state (lm_part: encoder
 *                  workspace, buffers, softmax scratch; made once; the workspaces share the packed
 *                  weights of a step) and runs embedding, encoder, full or sampled softmax and
 *                  backward into its own gradient block; the trainer adds the blocks in worker
 *                  order. The loss is the same function of the batch at any W: the sampled
 *                  softmax's negatives are drawn once a batch (lm_prepare, a stream seeded by
 *                  (seed, direction, e, b, rank)) and shared by the parts, and every part divides
 *                  by the count of the whole batch, so each row's loss and gradient have the bits
 *                  of W = 1 and only the sums over rows (weight gradients, the blocks' sum) are
 *                  added in another order. Dropout masks (dropout > 0) are drawn by each part from
 *                  a stream seeded by (that seed, w): they do depend on W. The gradient is the mean
 *                  over this rank's targets (NR_TASK_LOCAL_MEAN). W (lm_workers) is recorded in
 *                  the checkpoint: a resumed run must have the same.
 *   validation     none (the validation text is scored after training)
 *   file sections  the data's counts (a resume must see the same lines), the direction, the
 *                  parameters of the run, the weights (model order) as tensor "params"; stream
 *                  mode inside an epoch: every stream's state (section STRM, lm_save)
 * Every draw is a function of (seed, direction, epoch, batch, rank): a checkpoint holds no random
 * state. Learning rate: linear decay to lr/10 over the steps, or over the time budget when that
 * is further along (nr_lr_at_progress, the trainer's lr_follows_time). */

/* One worker's state: its part of a batch, at most Bw = ceil(batch / W) sentences (streams) of
 * T <= max_len (bptt) positions. Stream mode: worker w's streams are nr_split_range(batch, w, W),
 * the same every window, so it carries their states from one window to the next. */
typedef struct lm_part {
    nr_encoder_ws *ws;       /* one thread: the workers are the threads */
    nr_sampled_softmax *ss;  /* sampled softmax only */
    int *in, *tgt;           /* (T,Bw) (T,Bw) */
    int *rows;               /* (2 T Bw + S) table rows the part used (embed-update lazy) */
    float *x, *dx, *h, *dh;  /* (T,Bw,E) (T,Bw,E) (T,Bw,H) (T,Bw,H) */
    float *logits;           /* (T,Bw,V) full softmax only */
    float *h0, *c0, *hn, *cn; /* (L,Bw,H) stream mode: its streams' states in and out (c: LSTM) */
    uint8_t *reset;          /* (T,Bw) bptt-reset bos: 1 where the input is <bos> (the encoder zeroes
                              * the state before that step; models/encoder.h, "Resets") */
} lm_part;

typedef struct lm_task {
    const nlprnn_lm_params *p;
    const corpus *cp;
    const nr_comm *D;
    int dir;
    uint64_t seed;           /* seed * 2 + direction */
    nr_lm_net net;           /* model order (pieces by falling frequency) */
    int W;                   /* workers (parts of a batch) */
    lm_part part[NR_TRAIN_MAX_WORKERS];
    nr_encoder_packs *packs; /* the step's packed weights, shared by the parts (W > 1) */
    int *lens;               /* (B) this step's input positions of each sentence */
    int *neg, S;             /* (S) this step's negatives (sampled softmax), shared by the parts */
    len_idx *order;          /* (n) this epoch's sentence order */
    size_t nbatches, *batches;
    long long nsteps;        /* batches an epoch: the largest rank's */
    long long lines, pieces; /* over all ranks */
    uint64_t noise_seed;     /* this step's: negatives, and (mixed with w) the parts' dropout */
    size_t first;            /* this step's first sentence in order */
    int nb, count;           /* this step's sentences and targets */
    /* stream mode (bptt > 0) */
    nr_lm_stream st;         /* this epoch's streams */
    int32_t *sorder;         /* (n) this epoch's review order */
    float *sh, *sc;          /* (L,B,H) every stream's state after the last window (sc: LSTM) */
    int keep_state;          /* resumed inside an epoch: begin_epoch keeps the checkpoint's state */
} lm_task;

#define LM_STREAM(t) ((t)->p->bptt > 0)

static void lm_task_free(lm_task *t) {
    for (int w = 0; w < NR_TRAIN_MAX_WORKERS; w++) {
        lm_part *q = &t->part[w];
        nr_sampled_softmax_free(q->ss);
        nr_encoder_ws_free(q->ws);
        free(q->in);
        free(q->tgt);
        free(q->rows);
        free(q->x);
        free(q->dx);
        free(q->h);
        free(q->dh);
        free(q->logits);
        free(q->h0);
        free(q->c0);
        free(q->hn);
        free(q->cn);
        free(q->reset);
    }
    nr_encoder_packs_free(t->packs);
    nr_lm_net_free(&t->net);
    free(t->lens);
    free(t->neg);
    free(t->order);
    free(t->batches);
    nr_lm_stream_free(&t->st);
    free(t->sorder);
    free(t->sh);
    free(t->sc);
}

/* Allocate the W parts' state (once, before training). */
static int lm_parts_create(lm_task *t, nlprnn_error *err) {
    const nlprnn_lm_params *p = t->p;
    const nr_lm_cfg *c = &t->net.cfg;
    int Bw = (p->batch + t->W - 1) / t->W, V = c->vocab, Tm = LM_STREAM(t) ? p->bptt : p->max_len;
    int lstm = c->cell == NR_CELL_LSTM;
    size_t TB = (size_t)Tm * (size_t)Bw, LBH = (size_t)c->layers * (size_t)Bw * (size_t)c->hidden;
    for (int w = 0; w < t->W; w++) {
        lm_part *q = &t->part[w];
        q->in = nr_malloc_array(TB, sizeof(int));
        q->tgt = nr_malloc_array(TB, sizeof(int));
        q->x = nr_malloc_array(TB * c->embed, sizeof(float));
        q->dx = nr_malloc_array(TB * c->embed, sizeof(float));
        q->h = nr_malloc_array(TB * c->hidden, sizeof(float));
        q->dh = nr_malloc_array(TB * c->hidden, sizeof(float));
        q->logits = p->sampled ? NULL : nr_malloc_array(TB * (size_t)V, sizeof(float));
        q->rows = p->lazy ? nr_malloc_array(2 * TB + (size_t)t->S, sizeof(int)) : NULL;
        if (LM_STREAM(t)) {
            q->h0 = nr_malloc_array(LBH, sizeof(float));
            q->hn = nr_malloc_array(LBH, sizeof(float));
            q->c0 = lstm ? nr_malloc_array(LBH, sizeof(float)) : NULL;
            q->cn = lstm ? nr_malloc_array(LBH, sizeof(float)) : NULL;
            q->reset = p->bptt_reset ? nr_malloc_array(TB, sizeof(uint8_t)) : NULL;
        }
        if (!q->in || !q->tgt || !q->x || !q->dx || !q->h || !q->dh || (!p->sampled && !q->logits) ||
            (p->lazy && !q->rows) || (LM_STREAM(t) && (!q->h0 || !q->hn || (lstm && (!q->c0 || !q->cn)) || (p->bptt_reset && !q->reset))))
            return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory (training buffers of worker %d)", w);
        q->ws = nr_encoder_ws_create(&t->net.enc, Tm, Bw, 1, 1, err);
        if (!q->ws) return err && err->code ? err->code : NLPRNN_E_NOMEM;
        if (q->reset) nr_encoder_ws_set_reset(q->ws, q->reset); /* filled by every window (lm_step) */
        if (p->sampled) {
            q->ss = nr_sampled_softmax_create((int)TB, t->S, c->hidden, V, err);
            if (!q->ss) return err && err->code ? err->code : NLPRNN_E_NOMEM;
        }
    }
    /* the parts' workspaces pack the weights of a step once between them */
    int rc = t->W > 1 ? nr_encoder_packs_create(&t->packs, err) : NLPRNN_OK;
    for (int w = 0; w < t->W && !rc; w++) nr_encoder_ws_share_packs(t->part[w].ws, t->packs);
    return rc;
}

static int lm_begin_epoch(void *self, int epoch, long long *batches, nlprnn_error *err) {
    (void)err;
    lm_task *t = self;
    const corpus *cp = t->cp;
    size_t B = (size_t)t->p->batch;
    nr_rng rng;
    nr_rng_seed(&rng, nr_seed_mix(t->seed, 0x5F1E, (uint64_t)epoch));
    if (LM_STREAM(t)) {
        /* stream mode: the reviews shuffled, laid out as B streams; every state starts at zero
         * (except in the epoch a resumed run continues: the checkpoint's) */
        for (size_t i = 0; i < cp->n; i++) t->sorder[i] = (int32_t)i;
        nr_rng_shuffle(&rng, t->sorder, cp->n, sizeof(int32_t));
        nr_lm_stream_fill(&t->st, cp->ids, cp->start, t->sorder, cp->n, t->dir);
        size_t LBH = (size_t)t->net.cfg.layers * B * (size_t)t->net.cfg.hidden;
        if (!t->keep_state) {
            memset(t->sh, 0, LBH * sizeof(float));
            if (t->sc) memset(t->sc, 0, LBH * sizeof(float));
        }
        t->keep_state = 0;
        *batches = t->nsteps;
        return NLPRNN_OK;
    }
    /* batches: shuffle, then sort by length inside windows of 100 batches, then shuffle the
     * batch order (similar lengths share a batch; little padding) */
    for (size_t i = 0; i < cp->n; i++) {
        t->order[i].idx = (int)i;
        t->order[i].len = (int)(cp->start[i + 1] - cp->start[i]);
    }
    nr_rng_shuffle(&rng, t->order, cp->n, sizeof(len_idx));
    size_t win = B * 100;
    for (size_t i = 0; i < cp->n; i += win)
        qsort(t->order + i, cp->n - i < win ? cp->n - i : win, sizeof(len_idx), cmp_len_idx);
    for (size_t i = 0; i < t->nbatches; i++) t->batches[i] = i * B;
    nr_rng_shuffle(&rng, t->batches, t->nbatches, sizeof(size_t));
    *batches = t->nsteps;
    return NLPRNN_OK;
}

/* Batch b: its sentences (the parts lay out their own inputs), their lengths and targets, and the
 * negatives of the sampled softmax, drawn once for the whole batch. */
static int lm_prepare(void *self, int epoch, long long batch, int *n, nlprnn_error *err) {
    (void)err;
    lm_task *t = self;
    const corpus *cp = t->cp;
    int B = t->p->batch, Tm = t->p->max_len, nb;
    if (LM_STREAM(t)) { /* window `batch` of all B streams: its targets counted */
        nb = B;
        nr_lm_stream_window(&t->st, batch, 0, B, NULL, NULL, &t->count);
        t->nb = nb;
    } else {
        size_t first = t->batches[(size_t)batch % t->nbatches];
        nb = (int)(cp->n - first < (size_t)B ? cp->n - first : (size_t)B);
        t->count = 0;
        for (int b = 0; b < nb; b++) {
            int L = t->order[first + b].len - 1; /* input positions, each with a target */
            t->lens[b] = L > Tm ? Tm : L;
            t->count += t->lens[b];
        }
        t->first = first;
        t->nb = nb;
    }
    t->noise_seed = nr_seed_mix(nr_seed_mix(t->seed, (uint64_t)epoch + 0x40, (uint64_t)batch), 0xD157,
                                (uint64_t)t->D->rank);
    if (t->p->sampled) {
        nr_rng noise;
        nr_rng_seed(&noise, t->noise_seed);
        nr_sampled_softmax_draw(t->neg, t->S, t->net.cfg.vocab, &noise);
    }
    nr_encoder_packs_stale(t->packs); /* the weights changed since the last step */
    *n = nb;
    return NLPRNN_OK;
}

/* The inputs and targets of the batch's sentences lo..hi-1 into q, (T, hi - lo) time-major, padded
 * and masked; returns T, the longest of them. */
static int lm_fill_part(const lm_task *t, lm_part *q, int lo, int hi) {
    const corpus *cp = t->cp;
    int nb = hi - lo, dir = t->dir, T = 1;
    for (int b = lo; b < hi; b++)
        if (t->lens[b] > T) T = t->lens[b];
    for (int b = 0; b < nb; b++) {
        const len_idx *o = &t->order[t->first + (size_t)(lo + b)];
        const int32_t *s = cp->ids + cp->start[o->idx];
        int len = o->len, L = t->lens[lo + b]; /* <bos> ... <eos> */
        for (int i = 0; i < T; i++) {
            size_t k = (size_t)i * nb + b;
            if (i < L) {
                /* backward: <bos> x_n .. x_1 <eos>: position i of the reversed sentence */
                int a = dir ? (i == 0 ? 0 : len - 1 - i) : i;
                int tt = dir ? (i + 1 == len - 1 ? len - 1 : len - 2 - i) : i + 1;
                q->in[k] = s[a];
                q->tgt[k] = s[tt];
            } else {
                q->in[k] = cp->tok2m[NLPRNN_ID_PAD];
                q->tgt[k] = -1;
            }
        }
    }
    return T;
}

/* Stream mode: the states of the streams lo..hi-1, (L,B,H) rows of every layer <-> (L,nb,H).
 * to_part 1: the carried state into the part's h0/c0; 0: the part's hn/cn back (detached: only
 * values cross a window's start, never a gradient). Parts own disjoint streams. */
static void lm_stream_state(lm_task *t, lm_part *q, int lo, int hi, int to_part) {
    int L = t->net.cfg.layers, B = t->p->batch, nb = hi - lo;
    size_t H = (size_t)t->net.cfg.hidden, n = (size_t)nb * H;
    for (int l = 0; l < L; l++) {
        float *s = t->sh + ((size_t)l * B + (size_t)lo) * H, *x = (to_part ? q->h0 : q->hn) + (size_t)l * n;
        memcpy(to_part ? x : s, to_part ? s : x, n * sizeof(float));
        if (!t->sc) continue;
        s = t->sc + ((size_t)l * B + (size_t)lo) * H;
        x = (to_part ? q->c0 : q->cn) + (size_t)l * n;
        memcpy(to_part ? x : s, to_part ? s : x, n * sizeof(float));
    }
}

/* Worker w of W: the sentences (streams) nr_split_range(nb, w, W) forward and backward into grad
 * (its own block), the loss divided by the whole batch's targets (the trainer adds the blocks). */
static int lm_step(void *self, int epoch, long long batch, int w, int W, float *grad, nr_step_stats *st,
                   const int **rows, size_t *n_rows, nlprnn_error *err) {
    (void)epoch;
    lm_task *t = self;
    const nlprnn_lm_params *p = t->p;
    const nr_lm_net *net = &t->net;
    const int stream = LM_STREAM(t);
    int lo, hi;
    nr_split_range(t->nb, w, W, &lo, &hi);
    if (hi <= lo) return NLPRNN_OK;
    lm_part *q = &t->part[w];
    int T = stream ? nr_lm_stream_window(&t->st, batch, lo, hi, q->in, q->tgt, NULL) : lm_fill_part(t, q, lo, hi);
    int nb = hi - lo, N = T * nb, cnt = 0, V = net->cfg.vocab;
    /* every sentence has a target; a window may (in theory) have none */
    double loss, inv = t->count > 0 ? 1.0 / t->count : 0.0;
    nr_rng drop;
    if (p->dropout > 0) nr_rng_seed(&drop, nr_seed_mix(t->noise_seed, 0xD20, (uint64_t)w));
    if (stream) lm_stream_state(t, q, lo, hi, 1);
    /* bptt-reset bos: each review starts from a zero state, as it is scored and used (the window's
     * carried state still reaches the steps before the first <bos> of the window) */
    for (int k = 0; q->reset && k < N; k++) q->reset[k] = q->in[k] == t->st.bos;
    int rc = nr_embedding_forward(&net->emb, q->x, q->in, (size_t)N, err);
    if (!rc)
        rc = stream ? nr_encoder_forward(&net->enc, q->ws, q->h, q->hn, q->cn, q->x, NULL, q->h0, q->c0, T, nb,
                                         p->dropout > 0 ? &drop : NULL, err)
                    : nr_encoder_forward(&net->enc, q->ws, q->h, NULL, NULL, q->x, t->lens + lo, NULL, NULL, T,
                                         nb, p->dropout > 0 ? &drop : NULL, err);
    if (rc) return rc;
    memset(q->dh, 0, (size_t)N * net->cfg.hidden * sizeof(float));
    if (p->sampled) {
        loss = nr_sampled_softmax_xent_part(q->ss, &net->out, grad + net->out_off, q->dh, q->h, q->tgt, N,
                                            t->neg, inv, &cnt);
    } else {
        nr_dense_forward(&net->out, q->logits, q->h, N);
        loss = nr_softmax_xent_part(q->logits, q->logits, q->tgt, N, V, inv, &cnt);
        nr_dense_backward(&net->out, grad + net->out_off, q->dh, q->logits, q->h, N);
    }
    st->loss = loss * t->count; /* this part's summed loss (W = 1: mean * count, as before) */
    st->count = cnt;
    st->tokens = cnt;
    if (!isfinite(loss)) return NLPRNN_E_NUMERIC; /* the trainer says where */
    memset(q->dx, 0, (size_t)N * net->cfg.embed * sizeof(float));
    rc = nr_encoder_backward(&net->enc, q->ws, grad + net->enc_off, q->dx, NULL, NULL, q->dh, NULL, NULL, err);
    if (!rc) nr_embedding_backward(&net->emb, grad, q->dx, q->in, (size_t)N);
    if (!rc && stream) lm_stream_state(t, q, lo, hi, 0); /* the next window starts from here */
    if (!rc && p->lazy) { /* the table rows with a gradient: inputs; tied: targets and negatives too */
        size_t m = 0;
        for (int k = 0; k < N; k++) {
            /* sentence batches: no target = padding; a stream has none (its <eos> before a
             * <bos> has no target, but a gradient through the states that follow) */
            if (q->tgt[k] < 0 && !stream) continue;
            q->rows[m++] = q->in[k];
            if (net->cfg.tied && q->tgt[k] >= 0) q->rows[m++] = q->tgt[k];
        }
        for (int j = 0; net->cfg.tied && j < t->S; j++) q->rows[m++] = t->neg[j];
        *rows = q->rows;
        *n_rows = m;
    }
    return rc;
}

/* The checkpoint's language-model part: the direction, the data's counts and the parameters a
 * resumed run must share with it (every row of the table without NR_PARAM_RESUME_OK). Stream
 * mode, inside an epoch (batch > 0): every stream's state too, section STRM, tensors "h" and (LSTM)
 * "c" of (L,B,H), with lm.stream.state = 1; the streams themselves are a function of (seed,
 * direction, epoch), made again by begin_epoch. At an epoch's start the states are zero: not
 * stored. */
static int lm_save(void *self, nr_mf_writer *w, nr_mf_buf *conf, int epoch, long long batch,
                   nlprnn_error *err) {
    (void)epoch;
    lm_task *t = self;
    int rc = nr_conf_put_int(conf, "lm.direction", t->dir, err);
    if (!rc) rc = nr_conf_put_int(conf, "data.lines", t->lines, err);
    if (!rc) rc = nr_conf_put_int(conf, "data.pieces", t->pieces, err);
    if (!rc) rc = nr_conf_put_int(conf, "data.ranks", t->D->size, err);
    if (!rc) rc = nr_conf_put_int(conf, "lm.workers", t->W, err);
    if (!rc) rc = nr_ckpt_put_params(conf, &TABLE, t->p, err);
    if (!rc && LM_STREAM(t) && batch > 0) {
        size_t shp[3] = {(size_t)t->net.cfg.layers, (size_t)t->p->batch, (size_t)t->net.cfg.hidden};
        nr_mf_buf b;
        nr_mf_buf_init(&b);
        rc = nr_tensor_put(&b, "h", t->sh, 3, shp, NR_DTYPE_F32, err);
        if (!rc && t->sc) rc = nr_tensor_put(&b, "c", t->sc, 3, shp, NR_DTYPE_F32, err);
        if (!rc) rc = nr_mf_add(w, "STRM", NR_MF_TENSORS, b.data, b.len, 0, err);
        nr_mf_buf_free(&b);
        if (!rc) rc = nr_conf_put_int(conf, "lm.stream.state", 1, err);
    }
    return rc;
}

/* Resume: the checkpoint must be of this direction, these parameters and this data. */
static int lm_load(void *self, const nr_mf_reader *r, const nr_conf *c, nlprnn_error *err) {
    lm_task *t = self;
    long long dir = -1, lines = 0, pieces = 0, ranks = 0;
    int rc = nr_conf_get_int(c, "lm.direction", &dir, err);
    if (!rc) rc = nr_conf_get_int(c, "data.lines", &lines, err);
    if (!rc) rc = nr_conf_get_int(c, "data.pieces", &pieces, err);
    if (!rc) rc = nr_conf_get_int(c, "data.ranks", &ranks, err);
    if (rc) return rc;
    if (dir != t->dir)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: lm.direction = %lld, expected %d (the %s direction)",
                       c->where, dir, t->dir, t->dir ? "backward" : "forward");
    rc = nr_ckpt_check_params(c, &TABLE, t->p, NLPRNN_E_INVALID_ARG, err); /* the caller's to fix */
    /* the workers split every batch: their number is part of the arithmetic (a checkpoint of
     * before the split has no such key: not checked) */
    long long W = t->W;
    if (!rc && nr_conf_has(c, "lm.workers")) rc = nr_conf_get_int(c, "lm.workers", &W, err);
    if (!rc && W != t->W)
        rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                     "%s: the checkpoint was made with %lld worker%s per direction, this run has %d "
                     "(threads=%d%s, parallel=%d): resume with the run's threads and parallel",
                     c->where, W, W == 1 ? "" : "s", t->W, t->p->threads,
                     t->p->threads ? "" : ": the cores", t->p->parallel);
    if (!rc && (lines != t->lines || pieces != t->pieces || ranks != t->D->size))
        rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                     "%s: the checkpoint was made on other data or ranks (%lld lines, %lld pieces, %lld "
                     "ranks; this run: %lld, %lld, %d)",
                     c->where, lines, pieces, ranks, t->lines, t->pieces, t->D->size);
    /* stream mode inside an epoch: the streams' states (the same bptt and batch: checked above) */
    long long at = 0;
    if (!rc && LM_STREAM(t) && nr_conf_has(c, "state.batch")) rc = nr_conf_get_int(c, "state.batch", &at, err);
    if (!rc && LM_STREAM(t) && at > 0 && !nr_conf_has(c, "lm.stream.state"))
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: stream mode at batch %lld but no lm.stream.state", c->where,
                     at);
    if (!rc && LM_STREAM(t) && nr_conf_has(c, "lm.stream.state")) {
        size_t shp[3] = {(size_t)t->net.cfg.layers, (size_t)t->p->batch, (size_t)t->net.cfg.hidden};
        rc = nr_mf_tensor_read(r, "STRM", "h", t->sh, 3, shp, err);
        if (!rc && t->sc) rc = nr_mf_tensor_read(r, "STRM", "c", t->sc, 3, shp, err);
        if (!rc) t->keep_state = 1;
    }
    return rc;
}

/* The trainer's progress -> the language model's: every 50 steps, the mean loss since the last
 * report. */
typedef struct lm_progress_ctx {
    nlprnn_lm_progress_fn fn;
    void *user;
    int dir;
    double t0, loss_sum;
    long long loss_n, pieces;
} lm_progress_ctx;

static int lm_on_progress(void *user, const nr_train_progress *q) {
    lm_progress_ctx *c = user;
    if (q->phase != NR_TP_STEP) return 0;
    c->loss_sum += q->last.loss;
    c->loss_n += (long long)q->last.count;
    c->pieces += (long long)q->last.count;
    if (!c->fn || q->step % 50) return 0;
    nlprnn_lm_progress pr;
    memset(&pr, 0, sizeof pr);
    pr.size = sizeof pr;
    pr.phase = 1;
    pr.direction = c->dir;
    pr.epoch = q->epoch;
    pr.step = q->step;
    pr.loss = c->loss_sum / (double)(c->loss_n ? c->loss_n : 1);
    pr.elapsed = q->elapsed;
    double el = nr_now_sec() - c->t0;
    pr.tokens_per_sec = (double)c->pieces / (el > 0 ? el : 1e-9);
    pr.valid_ppl = NAN;
    c->loss_sum = 0;
    c->loss_n = 0;
    return c->fn(c->user, &pr);
}

/* Data-parallel workers of one direction: the threads, split between the two directions when
 * they train at the same time (parallel 1, both, one process: threads / 2 each, at least 1). */
static int lm_workers(const nlprnn_lm_params *p, const nr_comm *D) {
    int W = p->threads > 0 ? p->threads : nr_default_threads();
    if (p->parallel && LM_DIRS(p) == 3 && D->size == 1) W /= 2;
    if (W > NR_TRAIN_MAX_WORKERS) W = NR_TRAIN_MAX_WORKERS;
    return W < 1 ? 1 : W;
}

/* Train one direction; the result (tokenizer order) goes into *result, also when interrupted
 * (then NLPRNN_E_INTERRUPTED, after the checkpoint ckpt was written). start: the network to
 * continue from (tokenizer order, same configuration), or NULL for a fresh seeded start.
 * resume: the open checkpoint of this direction, or NULL. */
static int train_direction(const nlprnn_lm_params *p, const corpus *cp, int dir, const nr_lm_net *start,
                           const nr_comm *D, const char *ckpt, const nr_mf_reader *resume, nr_lm_net *result,
                           double *seconds, long long *steps_done, double *final_loss, const volatile int *stop,
                           nlprnn_lm_progress_fn progress, void *user, nlprnn_error *err) {
    lm_task t;
    memset(&t, 0, sizeof t);
    t.p = p;
    t.cp = cp;
    t.D = D;
    t.dir = dir;
    t.seed = p->seed * 2 + (uint64_t)dir;
    nr_lm_cfg cfg = result->cfg;
    int V = cfg.vocab, B = p->batch;
    t.W = lm_workers(p, D);
    if (t.W > B) t.W = B;
    t.S = p->samples < V ? p->samples : V - 1;
    double t0 = nr_now_sec();
    int rc = nr_lm_net_create(&t.net, &cfg, cp->tok2m[NLPRNN_ID_PAD], err);
    if (rc) return rc;
    /* the training network's dropout between stacked layers (--dropout): the encoder draws masks
     * only when its cfg.dropout > 0 (before 2026-12-06 it was never set, so --dropout did nothing);
     * set before the parts' workspaces are made, which size the masks by it */
    t.net.enc.cfg.dropout = (float)p->dropout;
    nr_rng rng;
    nr_rng_seed(&rng, t.seed);
    rc = nr_lm_net_init(&t.net, &rng, err);
    /* output bias = log unigram frequency (add-0.5 smoothed): the untrained model is the unigram
     * model, and rare pieces, which the sampled softmax seldom draws as negatives, start (and
     * stay) properly unlikely instead of at logit 0 */
    for (int r = 0; r < V && !rc; r++)
        t.net.out.b[r] = (float)log(((double)cp->count[r] + 0.5) / ((double)cp->total + 0.5 * V));
    if (!rc && start) permute_rows(&t.net, start, cp->m2tok, 0); /* warm start: replaces the init */
    t.lens = nr_malloc_array((size_t)B, sizeof(int));
    t.neg = nr_malloc_array((size_t)t.S, sizeof(int));
    t.order = nr_malloc_array(cp->n, sizeof(len_idx));
    t.nbatches = (cp->n + B - 1) / B;
    t.batches = nr_malloc_array(t.nbatches, sizeof(size_t));
    t.nsteps = (long long)t.nbatches; /* per epoch: the same on every rank */
    if (!rc && p->bptt > 0) { /* stream mode: windows of the B streams; every stream's state */
        size_t LBH = (size_t)cfg.layers * (size_t)B * (size_t)cfg.hidden;
        rc = nr_lm_stream_create(&t.st, cp->start[cp->n], B, p->bptt, cp->tok2m[NLPRNN_ID_BOS], err);
        t.sorder = nr_malloc_array(cp->n, sizeof(int32_t));
        t.sh = nr_calloc_array(LBH, sizeof(float));
        t.sc = cfg.cell == NR_CELL_LSTM ? nr_calloc_array(LBH, sizeof(float)) : NULL;
        if (!rc && (!t.sorder || !t.sh || (cfg.cell == NR_CELL_LSTM && !t.sc)))
            rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory (stream states)");
        t.nsteps = t.st.windows;
    }
    t.lines = (long long)cp->n;
    t.pieces = 0;
    for (size_t i = 0; i < cp->n; i++) t.pieces += (long long)(cp->start[i + 1] - cp->start[i]) - 1;
    if (!rc) rc = nr_comm_max_i64(D, &t.nsteps, err);
    if (!rc) rc = nr_comm_sum_i64(D, &t.lines, 1, err);
    if (!rc) rc = nr_comm_sum_i64(D, &t.pieces, 1, err);
    if (!rc && (!t.lens || !t.neg || !t.order || !t.batches))
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory (training buffers)");
    if (!rc) rc = lm_parts_create(&t, err);
    nr_train_result res;
    memset(&res, 0, sizeof res);
    res.last_loss = NAN;
    if (!rc) {
        nr_task task = {
            .self = &t,
            .name = "language model",
            .params = t.net.params,
            .n_params = t.net.n_params,
            /* embed-update lazy: the table is the trainer's sparse block (only the rows a batch
             * used are clipped and stepped: nr_optim_step_rows, PyTorch SparseAdam's "lazy" Adam) */
            .sparse_rows = p->lazy ? (size_t)V : 0,
            .sparse_dim = cfg.embed,
            .sparse_skip = -1,
            .begin_epoch = lm_begin_epoch,
            .prepare = lm_prepare,
            .step = lm_step,
            .save = lm_save,
            .load = lm_load,
            .flags = NR_TASK_LOCAL_MEAN,
        };
        lm_progress_ctx pc = {progress, user, dir, nr_now_sec(), 0, 0, 0};
        nr_train_cfg tc;
        memset(&tc, 0, sizeof tc);
        tc.epochs = p->epochs;
        nr_optim_cfg_default(&tc.optim, p->optimizer);
        tc.optim.lr = (float)p->lr;
        tc.lr = (nr_lr_schedule){.kind = NR_LR_LINEAR,
                                 .base_lr = (float)p->lr,
                                 .min_lr = (float)(p->lr / 10),
                                 .warmup = 0,
                                 .total = t.nsteps * p->epochs};
        tc.time_limit = p->time_limit;
        tc.lr_follows_time = 1;
        tc.clip = p->clip;
        tc.workers = t.W;
        tc.checkpoint = ckpt;
        tc.checkpoint_every = p->checkpoint_every;
        tc.check_every = 100; /* over ranks: compare the weights every 100 steps */
        tc.stop = stop;
        tc.progress = lm_on_progress;
        tc.user = &pc;
        tc.comm = D;
        tc.resume = resume;
        rc = nr_train(&tc, &task, &res, err);
    }
    *seconds = nr_now_sec() - t0;
    *steps_done = res.steps;
    *final_loss = res.last_loss;
    if (!rc || rc == NLPRNN_E_INTERRUPTED) permute_rows(result, &t.net, cp->m2tok, 1);
    lm_task_free(&t);
    return rc;
}

/* One direction's training as a job for nr_parallel_run (worker i trains direction i). */
typedef struct dir_job {
    const nlprnn_lm_params *p;
    const corpus *cp;
    int dir, active, rc;
    const nr_lm_net *start; /* warm start or NULL */
    const nr_comm *D;       /* MPI ranks (size 1 without) */
    const char *ckpt;       /* this direction's checkpoint */
    const nr_mf_reader *resume; /* its open checkpoint when resuming, or NULL */
    nr_lm_net *net;
    const volatile int *stop;
    nlprnn_lm_progress_fn progress;
    void *user;
    double seconds, loss;
    long long steps;
    int ran; /* training of this direction started (a stop may come before it does) */
    nlprnn_error err;
} dir_job;

static void dir_job_run(void *ctx, int i, int n) {
    (void)n;
    dir_job *j = (dir_job *)ctx + i;
    if (!j->active) return;
    j->ran = 1;
    nlprnn_error_clear(&j->err);
    j->rc = train_direction(j->p, j->cp, j->dir, j->start, j->D, j->ckpt, j->resume, j->net, &j->seconds,
                            &j->steps, &j->loss, j->stop, j->progress, j->user, &j->err);
}

static void say(nlprnn_lm_progress_fn progress, void *user, const char *msg) {
    if (!progress) return;
    nlprnn_lm_progress pr;
    memset(&pr, 0, sizeof pr);
    pr.size = sizeof pr;
    pr.phase = 0;
    pr.message = msg;
    pr.valid_ppl = NAN;
    progress(user, &pr);
}

/* A tokenizer file named for a warm start must be the model's own (same serialized bytes). */
static int same_tokenizer(const nlprnn_tokenizer *have, const char *path, const char *model,
                          nlprnn_error *err) {
    if (!path[0]) return NLPRNN_OK;
    nlprnn_tokenizer *t = NULL;
    void *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    int rc = nlprnn_tokenizer_load(path, &t, err);
    if (!rc) rc = nlprnn_tokenizer_save_memory(have, &a, &na, err);
    if (!rc) rc = nlprnn_tokenizer_save_memory(t, &b, &nb, err);
    if (!rc && (na != nb || memcmp(a, b, na)))
        rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                     "%s is not the tokenizer of %s (leave out --tokenizer to continue with the model's own)",
                     path, model);
    nlprnn_free(a);
    nlprnn_free(b);
    nlprnn_tokenizer_free(t);
    return rc;
}

int nlprnn_lm_train(const nlprnn_lm_params *p, const char *train_path, const char *valid_path,
                    const char *out_path, const volatile int *stop, nlprnn_lm_progress_fn progress,
                    void *user, nlprnn_error *err) {
    struct nlprnn_train_ctl ctl = {stop, 0, NULL};
    return nlprnn_lm_train_ctl(p, train_path, valid_path, out_path, &ctl, progress, user, err);
}

int nlprnn_lm_train_ctl(const nlprnn_lm_params *p, const char *train_path, const char *valid_path,
                        const char *out_path, const nlprnn_train_ctl *ctl,
                        nlprnn_lm_progress_fn progress, void *user, nlprnn_error *err) {
    const volatile int *stop = ctl ? ctl->stop : NULL;
    const int resume = ctl && ctl->resume;
    if (!p || !train_path || !out_path) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "lm train: NULL argument");
    if (!p->tokenizer[0] && !p->init[0])
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "no tokenizer given (parameter 'tokenizer')");
    /* An interrupted run never replaces the output (a finished model may be there): what it
     * trained goes to OUTPUT.partial, named in the message. Both paths are checked first. */
    char partial[1100], ckbase[1100], ckpt[2][1110];
    if (snprintf(partial, sizeof partial, "%s.partial", out_path) >= (int)sizeof partial ||
        snprintf(ckbase, sizeof ckbase, "%s%s", p->checkpoint[0] ? p->checkpoint : out_path,
                 p->checkpoint[0] ? "" : ".ckpt") >= (int)sizeof ckbase)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "output path too long: %s", out_path);
    /* one checkpoint a direction (they may train at the same time) */
    snprintf(ckpt[0], sizeof ckpt[0], "%s.fwd", ckbase);
    snprintf(ckpt[1], sizeof ckpt[1], "%s.bwd", ckbase);
    {
        /* --init may be a shipped model's name rather than a file here */
        const char *init_file = p->init[0] && access(p->init, F_OK) == 0 ? p->init : NULL;
        const char *files[] = {train_path, valid_path, p->tokenizer, init_file, out_path, partial, ckpt[0], ckpt[1]};
        /* each output against every other file */
        int rc = NLPRNN_OK;
        for (int k = 4; k < 8 && !rc; k++) {
            const char *others[7];
            for (int i = 0, m = 0; i < 8; i++)
                if (i != k) others[m++] = files[i];
            rc = nr_output_check(files[k], others, 7, err);
        }
        for (int d = 0; d < 2 && !rc && !resume; d++) rc = nr_ckpt_check_path(ckpt[d], err);
        if (rc) return rc;
    }
    nlprnn_tokenizer *tok = NULL;
    nlprnn_lm *init = NULL;
    nr_lm_cfg cfg = {NR_CELL_LSTM + p->cell, p->layers, p->embed, p->hidden, 0, p->tied};
    int rc = 0;
    if (p->init[0]) {
        /* warm start: the architecture and the tokenizer are the file's; a tokenizer given as
         * well must be the same one */
        rc = nlprnn_lm_load(p->init, &init, err);
        if (!rc) rc = same_tokenizer(init->tok, p->tokenizer, p->init, err);
        if (!rc) {
            void *buf = NULL;
            size_t n = 0;
            rc = nlprnn_tokenizer_save_memory(init->tok, &buf, &n, err);
            if (!rc) rc = nlprnn_tokenizer_load_memory(buf, n, &tok, err);
            nlprnn_free(buf);
        }
        if (rc) {
            nlprnn_lm_free(init);
            return rc;
        }
        cfg = init->net[0].cfg;
    } else {
        rc = nlprnn_tokenizer_load(p->tokenizer, &tok, err);
        if (rc) return rc;
        cfg.vocab = (int)nlprnn_tokenizer_vocab_size(tok);
    }
    if (p->lazy && cfg.tied && !p->sampled) {
        nlprnn_tokenizer_free(tok);
        nlprnn_lm_free(init);
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "embed-update lazy with a tied table needs softmax sampled (the full softmax uses every row)");
    }
    if (cfg.tied && cfg.embed != cfg.hidden) {
        nlprnn_tokenizer_free(tok);
        nlprnn_lm_free(init);
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tied embeddings need embed == hidden (got %d and %d)",
                       cfg.embed, cfg.hidden);
    }
    say(progress, user, "reading and encoding the training text");
    nr_comm D; /* over MPI: this rank's lines only; rank 0 alone scores and saves */
    nr_comm_copy(&D, ctl ? ctl->comm : NULL);
    if (p->bptt_reset && p->bptt == 0) {
        nlprnn_tokenizer_free(tok);
        nlprnn_lm_free(init);
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "bptt-reset bos is an option of stream mode (bptt N > 0); sentence batches start "
                       "every review from a zero state already");
    }
    if (p->bptt > 0 && D.size > 1) {
        /* each rank would carry its own streams' states, and only rank 0 writes the checkpoint */
        nlprnn_tokenizer_free(tok);
        nlprnn_lm_free(init);
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "bptt %d (stream mode) runs in one process, not over %d MPI ranks (use bptt 0 there)",
                       p->bptt, D.size);
    }
    corpus cp;
    rc = load_corpus(tok, train_path, p->max_lines, &D, &cp, err);
    if (rc) {
        nlprnn_tokenizer_free(tok);
        nlprnn_lm_free(init);
        return rc;
    }
    nr_lm_net nets[2];
    memset(nets, 0, sizeof nets);
    double secs[2] = {0, 0}, loss[2] = {NAN, NAN};
    long long steps[2] = {0, 0};
    int interrupted = 0;
    dir_job jobs[2];
    memset(jobs, 0, sizeof jobs);
    nr_mf_reader *ckr[2] = {NULL, NULL};
    nr_conf ckc[2];
    memset(ckc, 0, sizeof ckc);
    for (int d = 0, first = 1; d < 2 && !rc; d++) {
        if (!(LM_DIRS(p) & (1 << d))) continue;
        /* resume: the first direction's checkpoint must be there; a later one's is there when that
         * direction had started (else it starts now) */
        if (resume && (first || access(ckpt[d], F_OK) == 0))
            rc = nr_ckpt_open(ckpt[d], "language model", &ckr[d], &ckc[d], err);
        else if (!resume && D.rank == 0)
            unlink(ckpt[d]); /* an older run's (a checkpoint: checked above) is not this run's */
        first = 0;
        if (!rc) rc = nr_lm_net_create(&nets[d], &cfg, NLPRNN_ID_PAD, err);
        jobs[d].ckpt = ckpt[d];
        jobs[d].resume = ckr[d];
        jobs[d].p = p;
        jobs[d].cp = &cp;
        jobs[d].dir = d;
        jobs[d].net = &nets[d];
        jobs[d].start = init && init->has[d] ? &init->net[d] : NULL;
        jobs[d].D = &D;
        jobs[d].stop = stop;
        jobs[d].progress = progress;
        jobs[d].user = user;
        jobs[d].active = 1;
    }
    if (!rc && p->parallel && LM_DIRS(p) == 3 && D.size == 1) { /* over MPI: one direction after the other */
        /* both directions at once, half the threads each (they share only the read-only corpus;
         * lm_workers) */
        say(progress, user, "training the forward and the backward model in parallel");
        nr_parallel_run(2, dir_job_run, jobs);
    } else if (!rc) {
        for (int d = 0; d < 2; d++) {
            if (!jobs[d].active) continue;
            say(progress, user, d ? "training the backward model" : "training the forward model");
            dir_job_run(jobs, d, 2);
            if (jobs[d].rc) break;
        }
    }
    for (int d = 0; d < 2 && !rc; d++) {
        if (!jobs[d].active) continue;
        secs[d] = jobs[d].seconds;
        steps[d] = jobs[d].steps;
        loss[d] = jobs[d].loss;
        if (jobs[d].rc == NLPRNN_E_INTERRUPTED) {
            interrupted = 1;
        } else if (jobs[d].rc) {
            rc = jobs[d].rc;
            if (err) *err = jobs[d].err;
        }
    }
    /* interrupted: a direction stopped before it started is left out of the partial model */
    for (int d = 0; d < 2 && !rc && interrupted; d++)
        if (jobs[d].active && !jobs[d].ran) nr_lm_net_free(&nets[d]);
    for (int d = 0; d < 2; d++) {
        nr_conf_free(&ckc[d]);
        nr_mf_close(ckr[d]);
    }
    long long lines = (long long)cp.n;
    if (!rc) rc = nr_comm_sum_i64(&D, &lines, 1, err);
    corpus_free(&cp);
    nlprnn_lm_free(init);
    init = NULL;
    nlprnn_lm *lm = NULL;
    if (!rc && !nets[0].params && nets[1].params) {
        /* a backward-only model is stored as the file's forward slot would be misleading: refuse */
        rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "directions=backward alone is not a usable model; use both");
    }
    if (!rc && !nets[0].params) /* interrupted before the forward direction started */
        rc = interrupted ? nr_fail(err, NLPRNN_E_INTERRUPTED, -1, -1,
                                   "interrupted before training started; %s was not written", out_path)
                         : nr_fail(err, NLPRNN_E_STATE, -1, -1, "no model was trained");
    if (!rc) {
        rc = nr_lm_assemble(&lm, tok, &nets[0], &nets[1], nr_dtype_name(p->storage), err);
        if (!rc) tok = NULL;
    }
    char extra[2600], init_text[1024] = "", bptt_text[80] = "";
    if (p->bptt > 0)
        snprintf(bptt_text, sizeof bptt_text, "train.bptt=%d\n%s", p->bptt, p->bptt_reset ? "train.bptt_reset=bos\n" : "");
    if (p->init[0] && !strpbrk(p->init, "\r\n")) nr_utf8_escape(p->init, init_text, sizeof init_text);
    double vppl[2] = {NAN, NAN};
    if (!rc && valid_path && D.rank == 0 && !interrupted) {
        for (int d = 0; d < 2 && !rc; d++) {
            if (!lm->has[d]) continue;
            say(progress, user, "scoring the validation text");
            nlprnn_lm_eval ev;
            memset(&ev, 0, sizeof ev);
            ev.size = sizeof ev;
            rc = nlprnn_lm_evaluate(lm, valid_path, d, p->valid_lines, &ev, err);
            if (!rc) vppl[d] = ev.ppl;
            if (!rc && progress) {
                nlprnn_lm_progress pr;
                memset(&pr, 0, sizeof pr);
                pr.size = sizeof pr;
                pr.phase = 2;
                pr.direction = d;
                pr.step = steps[d];
                pr.loss = loss[d];
                pr.elapsed = secs[d];
                pr.valid_ppl = ev.ppl;
                progress(user, &pr);
            }
        }
    }
    if (!rc) {
        snprintf(extra, sizeof extra,
                 "train.lines=%lld\ntrain.softmax=%s\ntrain.samples=%d\ntrain.batch=%d\ntrain.max_len=%d\n"
                 "train.lr=%.17g\ntrain.seed=%llu\ntrain.steps.forward=%lld\ntrain.steps.backward=%lld\n"
                 "valid.ppl.forward=%.4f\nvalid.ppl.backward=%.4f\n%s%s%s%s%s",
                 lines, p->sampled ? "sampled" : "full", p->samples, p->batch, p->max_len, p->lr, (unsigned long long)p->seed,
                 steps[0], steps[1], vppl[0], vppl[1], bptt_text,
                 interrupted ? "train.interrupted=1\n" : "",
                 init_text[0] ? "train.init=" : "", init_text, init_text[0] ? "\n" : "");
        say(progress, user, interrupted ? "interrupted: saving what was trained" : "saving");
        if (D.rank == 0) rc = nr_lm_save(lm, interrupted ? partial : out_path, p->storage, extra, err);
    }
    rc = nr_comm_agree(&D, rc, err);
    /* the run is complete: the model replaces the checkpoints */
    for (int d = 0; d < 2 && !rc && !interrupted && D.rank == 0; d++)
        if (jobs[d].active) unlink(ckpt[d]);
    nlprnn_lm_free(lm);
    nr_lm_net_free(&nets[0]);
    nr_lm_net_free(&nets[1]);
    nlprnn_tokenizer_free(tok);
    if (!rc && interrupted) {
        char what[2][48];
        for (int d = 0; d < 2; d++) {
            if (!jobs[d].active) snprintf(what[d], sizeof what[d], "not asked for");
            else if (!jobs[d].ran) snprintf(what[d], sizeof what[d], "not started, left out");
            else snprintf(what[d], sizeof what[d], "%lld steps", steps[d]);
        }
        return nr_fail(err, NLPRNN_E_INTERRUPTED, -1, -1,
                       "interrupted: %s was not written; what was trained (forward: %s; backward: "
                       "%s) is saved to %s; checkpoint%s saved to %s%s%s (continue with --resume)",
                       out_path, what[0], what[1], partial, jobs[0].ran && jobs[1].ran ? "s" : "",
                       jobs[0].ran ? ckpt[0] : ckpt[1], jobs[0].ran && jobs[1].ran ? " and " : "",
                       jobs[0].ran && jobs[1].ran ? ckpt[1] : "");
    }
    return rc;
}

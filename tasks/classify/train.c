/* tasks/classify/train.c: the classifier's training parameters and its training task
 * (train/trainer.h: the one loop owns epochs, clipping, the optimizer, stop, progress, best
 * weights, patience, checkpoints and ranks).
 *
 * What the task gives the trainer:
 *   batch source   epoch e: nr_batches_make(lengths, batch, chunk 50, rng seeded by (seed, e)),
 *                  batches bucketed by length; batch b: its documents (over MPI ranks: this
 *                  rank's slice of the global batch, fetched from the ranks that hold them)
 *   step           worker w of W: its share of the batch; dropout stream seeded by
 *                  (seed, e, b, w); forward; softmax cross-entropy (mean over the global batch)
 *                  against the labels, or with soft-column against each row's soft targets
 *                  (distillation, see "soft targets"); backward; the embedding rows the share used (the sparse block; PAD is never
 *                  updated)
 *   validation     accuracy and mean loss of the validation part (the best accuracy is kept)
 *   file sections  the network's config keys, the tokenizer (TOKN) and the classes (LABL), the
 *                  data's counts and the parameters of the run (a resume must see the same),
 *                  the weights as the model file stores them (float32)
 * Every random draw is a function of (seed, epoch, batch), so a checkpoint holds no random
 * state: a resumed run repeats exactly what the uninterrupted run would have done.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "corpora/dataset.h"
#include "format/modelfile.h"
#include "tasks/classify/classifier.h"
#include "tasks/classify/data.h"
#include "train/comm.h"
#include "train/ctl.h"
#include "train/trainer.h"

/* ---- parameters --------------------------------------------------------------------------------- */

struct nlprnn_classifier_params {
    char tokenizer[1024], vectors[1024], init_from[1024], text_column[128], label_column[128],
        checkpoint[1024], label_names[1024], soft_column[128];
    int vocab, embed, cell, layers, bidirectional, hidden, pool, optimizer, schedule, epochs, batch,
        threads, patience, max_tokens, storage, skip_bad, checkpoint_every, dist_check_every, unfreeze;
    long long seed, max_examples;
    double dropout, lr, clip, weight_decay, valid, lr_layer_decay, temperature;
    double ema; /* decay of the averaged weights (0: off; train/trainer.h) */
};

#define OFF(f) offsetof(struct nlprnn_classifier_params, f)
#define SZ(f) sizeof(((struct nlprnn_classifier_params *)0)->f)
/* The order is the checkpoints' (param.* keys); rows with NR_PARAM_RESUME_OK are not recorded. */
static const nr_param ROWS[] = {
    {"tokenizer", NR_PARAM_STR, OFF(tokenizer), SZ(tokenizer), 0, 0, NULL, "",
     "a tokenizer file to reuse (\"\": train one on the training texts)", 0},
    {"vectors", NR_PARAM_STR, OFF(vectors), SZ(vectors), 0, 0, NULL, "", "pretrained word vectors (.vec) for the embedding", 0},
    {"init-from", NR_PARAM_STR, OFF(init_from), SZ(init_from), 0, 0, NULL, "",
     "a classifier whose tokenizer, embedding and encoder to start from (same sizes)", 0},
    {"text-column", NR_PARAM_STR, OFF(text_column), SZ(text_column), 0, 0, NULL, "",
     "the text column (\"\": document, text, sentence or review)", 0},
    {"label-column", NR_PARAM_STR, OFF(label_column), SZ(label_column), 0, 0, NULL, "", "the label column (\"\": label)", 0},
    {"soft-column", NR_PARAM_STR, OFF(soft_column), SZ(soft_column), 0, 0, NULL, "",
     "distillation: a TSV/CSV column of soft targets, one probability per class in class order "
     "(\"0.1 0.9\"); a row with one is trained on it, a row with an empty field on its label "
     "(\"\": labels only)", 0},
    {"temperature", NR_PARAM_DBL, OFF(temperature), 0, 0.05, 100, NULL, "1",
     "distillation temperature T of the soft targets: the loss is T^2 x the cross-entropy "
     "between q^(1/T) (renormalized) and softmax(logits / T)", 0},
    {"checkpoint", NR_PARAM_STR, OFF(checkpoint), SZ(checkpoint), 0, 0, NULL, "", "checkpoint file (\"\": MODEL.ckpt)",
     NR_PARAM_RESUME_OK},
    {"label-names", NR_PARAM_STR, OFF(label_names), SZ(label_names), 0, 0, NULL, "",
     "names the model prints for the data's labels: 0=negative,1=positive or negative,positive", 0},
    {"vocab", NR_PARAM_INT, OFF(vocab), 0, 64, NR_MAX_VOCAB, NULL, "16000", "vocabulary of a tokenizer trained here", 0},
    {"embed", NR_PARAM_INT, OFF(embed), 0, 1, NR_MAX_EMBED, NULL, "128", "embedding size", 0},
    {"cell", NR_PARAM_ENUM, OFF(cell), 0, 0, 0, "rnn lstm gru", "lstm", "recurrent cell", 0},
    {"layers", NR_PARAM_INT, OFF(layers), 0, 1, NR_ENCODER_MAX_LAYERS, NULL, "1", "stacked layers", 0},
    {"bidirectional", NR_PARAM_INT, OFF(bidirectional), 0, 0, 1, NULL, "1", "1: a backward layer beside each forward one", 0},
    {"hidden", NR_PARAM_INT, OFF(hidden), 0, 1, NR_MAX_HIDDEN, NULL, "128", "units per layer and direction", 0},
    {"pool", NR_PARAM_ENUM, OFF(pool), 0, 0, 0, "last mean max concat", "max",
     "pooling of the states over the document (concat: last, max and mean side by side)", 0},
    {"dropout", NR_PARAM_DBL, OFF(dropout), 0, 0, 0.95, NULL, "0.2",
     "dropout of the pooled features and between layers (training)", 0},
    {"optimizer", NR_PARAM_ENUM, OFF(optimizer), 0, 0, 0, "sgd adam adamw", "adam", "optimizer", 0},
    {"lr", NR_PARAM_DBL, OFF(lr), 0, 1e-7, 10, NULL, "0.002", "learning rate", 0},
    {"lr-schedule", NR_PARAM_ENUM, OFF(schedule), 0, 0, 0, "constant linear cosine stlr", "linear",
     "learning-rate schedule (linear, cosine: decay to lr/20; stlr: slanted triangular, up from "
     "lr/32 to lr in the first 10% of the steps, then down to lr/32)", 0},
    {"lr-layer-decay", NR_PARAM_DBL, OFF(lr_layer_decay), 0, 1, 100, NULL, "1",
     "discriminative rates: the head trains at lr, each layer below at the rate of the one above / "
     "this (the embedding lowest; 2.6 in ULMFiT; 1: one rate)", 0},
    {"unfreeze", NR_PARAM_INT, OFF(unfreeze), 0, 0, 1, NULL, "0",
     "1: gradual unfreezing: epoch 1 trains the head only, each further epoch one more layer from "
     "the top (the embedding last)", 0},
    {"clip", NR_PARAM_DBL, OFF(clip), 0, 0, 1e6, NULL, "5", "clip gradients by global norm (0: off)", 0},
    {"ema", NR_PARAM_DBL, OFF(ema), 0, 0, 1, NULL, "0", NR_TRAIN_EMA_HELP, NR_PARAM_OPEN_HI},
    {"weight-decay", NR_PARAM_DBL, OFF(weight_decay), 0, 0, 1, NULL, "0", "weight decay of the optimizer", 0},
    {"epochs", NR_PARAM_INT, OFF(epochs), 0, 1, 10000, NULL, "5", "passes over the training data", NR_PARAM_RESUME_OK},
    {"batch", NR_PARAM_INT, OFF(batch), 0, 1, 4096, NULL, "64", "documents per batch (over MPI: per rank)", 0},
    {"seed", NR_PARAM_LL, OFF(seed), 0, 0, 9.0e15, NULL, "1", "random seed", 0},
    {"threads", NR_PARAM_INT, OFF(threads), 0, 0, NR_MAX_THREADS, NULL, "0",
     "data-parallel parts of each batch (0: the cores this process may use; on resume the checkpoint's)", 0},
    {"valid", NR_PARAM_DBL, OFF(valid), 0, 0, 0.9, NULL, "0.05",
     "fraction of the training file held out when there is no validation file", 0},
    {"patience", NR_PARAM_INT, OFF(patience), 0, 0, 10000, NULL, "2",
     "stop after this many epochs without a better validation accuracy (0: never)", NR_PARAM_RESUME_OK},
    {"max-tokens", NR_PARAM_INT, OFF(max_tokens), 0, 1, NR_CLF_MAX_TOKENS, NULL, "256",
     "documents are cut to this many tokens", 0},
    {"max-examples", NR_PARAM_LL, OFF(max_examples), 0, 0, 9.0e15, NULL, "0",
     "read at most this many training examples (0: all)", 0},
    {"storage", NR_PARAM_ENUM, OFF(storage), 0, 0, 0, "f32 f16 int8", "f16", "how the saved weights are stored", 0},
    {"skip-bad", NR_PARAM_INT, OFF(skip_bad), 0, 0, 1, NULL, "0", "1: skip malformed rows of the data instead of failing", 0},
    {"checkpoint-every", NR_PARAM_INT, OFF(checkpoint_every), 0, 0, 1000000000, NULL, "0",
     "also write the checkpoint every N batches (0: at epoch ends)", NR_PARAM_RESUME_OK},
    {"dist-check-every", NR_PARAM_INT, OFF(dist_check_every), 0, 0, 1000000000, NULL, "100",
     "over MPI: compare the ranks' weights every N steps (0: at the end)", NR_PARAM_RESUME_OK},
};
#undef OFF
#undef SZ
static const nr_param_table TABLE = {"training parameter", ROWS, sizeof ROWS / sizeof ROWS[0]};

int nlprnn_classifier_params_create(nlprnn_classifier_params **out, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "classifier parameters: out is NULL");
    *out = calloc(1, sizeof **out);
    if (!*out) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "classifier parameters: out of memory");
    nr_params_reset(&TABLE, *out, NULL); /* the table's defaults are valid (test_api checks) */
    return 0;
}

void nlprnn_classifier_params_free(nlprnn_classifier_params *p) {
    free(p);
}

int nlprnn_classifier_params_set(nlprnn_classifier_params *p, const char *name, const char *value,
                                 nlprnn_error *err) {
    if (!p || !name || !value) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "training parameter: NULL argument");
    return nr_params_set(&TABLE, p, name, value, err);
}

int nlprnn_classifier_params_get(const nlprnn_classifier_params *p, const char *name, char *buf, size_t cap,
                                 nlprnn_error *err) {
    if (!p || !name || !buf || !cap)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "training parameter: NULL argument");
    return nr_params_get(&TABLE, p, name, buf, cap, err);
}

int nlprnn_classifier_param_info(int i, const char **name, const char **def, const char **help, char *range,
                                 size_t cap, nlprnn_error *err) {
    return nr_param_info(&TABLE, i, name, def, help, range, cap, err);
}

/* ---- checkpoints -------------------------------------------------------------------------------- */

static int state_range(const nr_conf *cf, const char *key, long long v, long long lo, long long hi,
                       long long nb, nlprnn_error *err) {
    if (v >= lo && v <= hi) return NLPRNN_OK;
    return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                   "%s: %s = %lld is outside its range [%lld, %lld] for this run (%lld batches an "
                   "epoch): not a checkpoint of this training",
                   cf->where, key, v, lo, hi, nb);
}

/* The position and record of a checkpoint, validated as strictly as a model file: every field in
 * its range and consistent with the others and with this run, whose training data (already
 * checked to be the checkpoint's: docs, tokens, valid_docs) give nb batches an epoch of at most
 * gbatch documents. A field out of range is NLPRNN_E_FORMAT naming the file, the key, the value
 * and the range. The task's load calls it before the trainer reads the state (train/trainer.c),
 * so a checkpoint of this task is held to these bounds. */
static int read_state(const nr_conf *cf, long long nb, long long gbatch, long long docs,
                      long long tokens, long long valid_docs, nlprnn_error *err) {
    static const char *const keys[] = {"state.epoch",      "state.batch",      "state.best_epoch",
                                       "state.bad_epochs", "state.ep_correct", "state.ep_count",
                                       "state.ep_tokens",  "state.optim_step", "state.stopped_early"};
    long long v[9] = {0};
    int rc = 0;
    for (int i = 0; i < 9 && !rc; i++) /* stopped_early: absent in checkpoints of before 2026-12 */
        if (i < 8 || nr_conf_has(cf, keys[i])) rc = nr_conf_get_int(cf, keys[i], &v[i], err);
    double best_acc = 0, best_loss = 0, ep_loss = 0;
    if (!rc) rc = nr_conf_get_float(cf, "state.best_acc", &best_acc, err);
    if (!rc) rc = nr_conf_get_float(cf, "state.best_loss", &best_loss, err);
    if (!rc) rc = nr_conf_get_float(cf, "state.ep_loss", &ep_loss, err);
    if (rc) return rc;
    const long long epoch = v[0], batch = v[1], stopped = v[8];
    /* in this order, so that each bound is computed from fields already in range */
    rc = state_range(cf, keys[0], epoch, 0, nr_param_find(&TABLE, "epochs")->hi, nb, err); /* epochs done */
    if (!rc) rc = state_range(cf, keys[8], stopped, 0, 1, nb, err);
    if (!rc) rc = state_range(cf, keys[1], batch, 0, stopped ? 0 : nb, nb, err); /* next batch */
    if (!rc) rc = state_range(cf, keys[2], v[2], 0, epoch, nb, err); /* 1-based, 0 = none */
    if (!rc) rc = state_range(cf, keys[3], v[3], 0, epoch, nb, err);
    /* this epoch's running sums: documents (every batch has one or more), correct ones, tokens
     * (every document has one or more) */
    if (!rc) rc = state_range(cf, keys[5], v[5], batch, batch * gbatch < docs ? batch * gbatch : docs, nb, err);
    if (!rc) rc = state_range(cf, keys[4], v[4], 0, v[5], nb, err);
    if (!rc) rc = state_range(cf, keys[6], v[6], v[5], batch ? tokens : 0, nb, err);
    /* one optimizer step a batch; a run stopped early did fewer than its epochs say */
    if (!rc) rc = state_range(cf, keys[7], v[7], stopped ? 0 : epoch * nb + batch, epoch * nb + batch, nb, err);
    if (rc) return rc;
    /* the validation record: none yet (-1, inf), or an accuracy and a loss when there is
     * validation data; without validation data it stays (-1, inf) */
    int none = v[2] == 0 || valid_docs == 0;
    int acc_ok = none ? best_acc == -1.0 : best_acc >= 0.0 && best_acc <= 1.0;
    int loss_ok = none ? isinf(best_loss) && best_loss > 0 : isfinite(best_loss) && best_loss >= 0;
    if (!acc_ok || !loss_ok)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: state.best_acc = %g, state.best_loss = %g: expected %s", cf->where,
                       best_acc, best_loss,
                       none ? "-1 and inf (no validated epoch)"
                            : "an accuracy in [0, 1] and a finite loss >= 0");
    if (!(isfinite(ep_loss) && ep_loss >= 0 && (batch > 0 || ep_loss == 0)))
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: state.ep_loss = %g: expected a finite sum >= 0 (0 at batch 0)",
                       cf->where, ep_loss);
    return NLPRNN_OK;
}

/* The paths of a run: the model and the checkpoint are written, the rest read. Before any work:
 * each output is absent or a regular file and none of the other files (nr_output_check); when
 * not resuming, an existing checkpoint path must hold a checkpoint (the run overwrites it and
 * deletes it at the end; it is no place for another file). */
static int check_paths(const nlprnn_classifier_params *p, const char *train_path, const char *valid_path,
                       const char *out_path, const char *ckpt, int resume, nlprnn_error *err) {
    const char *files[] = {train_path, valid_path, p->tokenizer, p->vectors, p->init_from, ckpt,
                           out_path};
    const size_t nf = sizeof files / sizeof files[0];
    int rc = nr_output_check(out_path, files, nf - 1, err);
    if (!rc) rc = nr_output_check(ckpt, files, nf - 2, err);
    if (!rc && !resume) rc = nr_ckpt_check_path(ckpt, err);
    return rc;
}


typedef struct token_lookup_ctx {
    const nlprnn_tokenizer *tok;
} token_lookup_ctx;

static int lookup_token(void *vctx, const char *token, size_t len) {
    token_lookup_ctx *c = vctx;
    char buf[512];
    if (len + 4 > sizeof buf) return -1;
    memcpy(buf, NLPRNN_WORD_START, 3);
    memcpy(buf + 3, token, len);
    buf[len + 3] = 0;
    /* the token as it is ("▁영화" from a piece-level .vec), else as a word start ("movie") */
    int32_t id = nlprnn_tokenizer_piece_id(c->tok, buf + 3);
    if (id < 0) id = nlprnn_tokenizer_piece_id(c->tok, buf);
    return id >= NLPRNN_NUM_SPECIAL_IDS ? id : -1;
}

typedef struct trainer {
    const nlprnn_classifier_params *p;      /* over MPI, batch is the global batch (N x the caller's) */
    int batch;                         /* the caller's batch: per rank */
    const char *ckpt;                  /* the checkpoint's path (for messages) */
    nr_clf_net net;
    float *params;
    int workers;                       /* data-parallel workers (the "threads" parameter) */
    nr_clf_scratch s[NR_MAX_THREADS];  /* one scratch per worker */
    nr_encoder_packs *packs;           /* the packed weights of a step, shared by the workers */
    nlprnn_tokenizer *tok;
    nr_label_map labels;
    nr_label_map names;                /* display names ("label-names"), or empty */
    nr_clf_tokset tr, va;
    nr_dataset dtr, dva;
    /* data parallelism over MPI ranks (D.size > 1; see "MPI" below). Counts are global. */
    nr_comm D;
    long long g_tr_docs, g_tr_tokens, g_va_docs;
    long long nb;      /* batches an epoch */
    size_t *glenz;     /* (g_tr_docs) tokens of global example j, the input of nr_batches_make */
    size_t *gpos;      /* (g_tr_docs) its position q in the global order: rank q % N holds it */
    int32_t *k2t;      /* (dtr.n) local example k -> index in tr, -1 when it has no token */
    int *xc;           /* (5 N) exchange counts: send count/displ, recv count/displ, cursor */
    int32_t *sbuf, *rbuf; /* batch exchange buffers */
    size_t sbuf_cap, rbuf_cap;
    /* the current epoch's batches and this rank's share of the current batch */
    nr_batches bt;
    const int32_t *docs[4096]; /* (B) */
    int lens[4096], labs[4096]; /* (B) */
    int B, Bg;                 /* this rank's examples, the global batch's */
    uint64_t seed;             /* the batch's dropout stream */
    nr_param_group groups[NR_ENCODER_MAX_LAYERS + 2]; /* embedding, layers 0..L-1, head */
    int n_groups;              /* 0: one rate, nothing frozen */
    /* distillation (soft-column): the soft targets, each training example's row of them (-1:
     * none), and the current batch's targets (B, C) and temperatures (B) */
    nr_clf_softset soft;
    int use_soft;
    int32_t *tr_soft;
    float *bq, *btemp;
} trainer;

static void trainer_free(trainer *t) {
    free(t->params);
    for (int w = 0; w < NR_MAX_THREADS; w++) nr_clf_scratch_free(&t->s[w]);
    nr_encoder_packs_free(t->packs);
    nlprnn_tokenizer_free(t->tok);
    nr_label_map_free(&t->labels);
    nr_label_map_free(&t->names);
    nr_clf_tokset_free(&t->tr);
    nr_clf_tokset_free(&t->va);
    nr_dataset_free(&t->dtr);
    nr_dataset_free(&t->dva);
    free(t->glenz);
    free(t->gpos);
    free(t->k2t);
    free(t->xc);
    free(t->sbuf);
    free(t->rbuf);
    nr_batches_free(&t->bt);
    nr_clf_softset_free(&t->soft);
    free(t->tr_soft);
    free(t->bq);
    free(t->btemp);
}

static int report(nlprnn_classifier_progress_fn cb, void *user, nlprnn_classifier_progress *pr,
                  int phase, const char *msg) {
    if (!cb) return 0;
    pr->phase = phase;
    pr->message = msg;
    return cb(user, pr);
}


/* Discriminative rates and gradual unfreezing (ULMFiT): the groups embedding, encoder layer
 * 0..L-1 (both directions), head, from the bottom. With decay X, group i of G trains at
 * lr / X^(G-1-i) (the head at lr); with unfreeze, the head from epoch 1, the top layer from epoch
 * 2, ..., the embedding from epoch G (1-based). Neither asked for: no groups (one rate). */
static int make_groups(const nr_clf_net *net, double decay, int unfreeze, nr_param_group *g) {
    if (decay == 1.0 && !unfreeze) return 0;
    const int L = net->cfg.layers, G = L + 2;
    g[0].begin = 0;
    g[0].end = net->n_emb;
    for (int l = 0; l < L; l++) {
        g[1 + l].begin = net->n_emb + net->enc.slot[l][0].w_ih; /* the layers are in order */
        g[1 + l].end = l + 1 < L ? net->n_emb + net->enc.slot[l + 1][0].w_ih : net->n_emb + net->n_enc;
    }
    g[G - 1].begin = net->n_emb + net->n_enc;
    g[G - 1].end = net->n_params;
    for (int i = 0; i < G; i++) {
        g[i].lr_scale = (float)pow(decay, -(double)(G - 1 - i));
        g[i].first_epoch = unfreeze ? G - 1 - i : 0;
    }
    return G;
}

/* ---- the task's callbacks (train/trainer.h) ------------------------------------------------------ */

static int fetch_slice(trainer *t, const size_t *idx, int Bg, int B, const int32_t **docs,
                       int *lens, int *labels, int *nslice, nlprnn_error *err);

/* Epoch e: the length-bucketed batches of the (global) training set, shuffled by (seed, e). */
static int clf_begin_epoch(void *self, int epoch, long long *batches, nlprnn_error *err) {
    trainer *t = self;
    nr_batches_free(&t->bt);
    nr_rng br;
    nr_rng_seed(&br, nr_seed_mix((uint64_t)t->p->seed, 0xBA7C, (uint64_t)epoch));
    int rc = t->D.size > 1
                 ? nr_batches_make(&t->bt, t->glenz, (size_t)t->g_tr_docs, (size_t)t->p->batch, 50, &br, err)
                 : nr_batches_make(&t->bt, t->tr.lenz, t->tr.n, (size_t)t->p->batch, 50, &br, err);
    *batches = rc ? 0 : (long long)t->bt.n_batches;
    return rc;
}

/* Batch b: this rank's documents (over MPI fetched from their owners: a collective call). */
static int clf_prepare(void *self, int epoch, long long batch, int *n, nlprnn_error *err) {
    trainer *t = self;
    size_t b0 = t->bt.start[batch], b1 = t->bt.start[batch + 1];
    int Bg = (int)(b1 - b0), B = Bg;
    if (t->D.size > 1) {
        int rc = fetch_slice(t, t->bt.idx + b0, Bg, t->batch, t->docs, t->lens, t->labs, &B, err);
        if (rc) return rc;
    } else {
        for (int b = 0; b < B; b++) {
            size_t ex = t->bt.idx[b0 + b];
            t->docs[b] = t->tr.ids + t->tr.off[ex];
            t->lens[b] = t->tr.len[ex];
            t->labs[b] = t->tr.label[ex];
        }
        if (t->use_soft) { /* soft rows: their targets at T; the others: one-hot at T = 1 */
            const int C = t->net.cfg.classes;
            for (int b = 0; b < B; b++) {
                int32_t r = t->tr_soft[t->bt.idx[b0 + b]];
                float *q = t->bq + (size_t)b * C;
                if (r >= 0) {
                    memcpy(q, t->soft.q + (size_t)r * C, (size_t)C * sizeof *q);
                    t->btemp[b] = (float)t->p->temperature;
                } else {
                    for (int c = 0; c < C; c++) q[c] = c == t->labs[b] ? 1.0f : 0.0f;
                    t->btemp[b] = 1.0f;
                }
            }
        }
    }
    t->B = B;
    t->Bg = Bg;
    nr_encoder_packs_stale(t->packs); /* the weights changed since the last step */
    t->seed = nr_seed_mix((uint64_t)t->p->seed, (uint64_t)epoch + 0xD0, (uint64_t)batch);
    if (t->D.size > 1) t->seed = nr_seed_mix(t->seed, 0xD157, (uint64_t)t->D.rank); /* own dropout masks */
    *n = B;
    return NLPRNN_OK;
}

/* Worker w of W: its share of the batch, forward, loss, backward into grad. The loss of the
 * batch is the mean over the global batch's Bg examples, so the share scales its dlogits by
 * Bw / Bg. */
static int clf_step(void *self, int epoch, long long batch, int w, int W, float *grad,
                    nr_step_stats *st, const int **rows, size_t *n_rows, nlprnn_error *err) {
    (void)epoch, (void)batch;
    trainer *t = self;
    int lo, hi;
    nr_split_range(t->B, w, W, &lo, &hi);
    int Bw = hi - lo, C = t->net.cfg.classes;
    if (Bw <= 0) return NLPRNN_OK;
    nr_clf_scratch *s = &t->s[w];
    for (int b = 0; b < Bw; b++) s->targets[b] = t->labs[lo + b];
    int T = nr_clf_fill_batch(s, t->docs + lo, t->lens + lo, Bw);
    nr_rng dr;
    nr_rng_seed(&dr, nr_seed_mix(t->seed, 0xD20, (uint64_t)w));
    int rc = nr_clf_forward(&t->net, s, T, Bw, &dr, err);
    if (rc) return rc;
    int pred[4096];
    nr_argmax_rows(pred, s->logits, Bw, C);
    for (int b = 0; b < Bw; b++) st->correct += pred[b] == s->targets[b];
    double loss = t->use_soft ? nr_softmax_xent_soft(s->dlogits, s->logits, t->bq + (size_t)lo * C,
                                                     t->btemp + lo, Bw, C)
                              : nr_softmax_xent(s->dlogits, s->logits, s->targets, Bw, C, NULL);
    st->loss = loss * Bw;
    st->count = Bw;
    for (int b = lo; b < hi; b++) st->tokens += t->lens[b];
    if (!isfinite(loss)) return NLPRNN_E_NUMERIC; /* the trainer says where */
    float scale = (float)Bw / (float)t->Bg;
    for (size_t i = 0; i < (size_t)Bw * C; i++) s->dlogits[i] *= scale;
    rc = nr_clf_backward(&t->net, s, grad, T, Bw, err);
    *rows = s->ids; /* (T, Bw) the embedding rows used; PAD is skipped by the trainer */
    *n_rows = (size_t)T * (size_t)Bw;
    return rc;
}

/* Validation: accuracy and mean loss of the current weights on the validation part (over MPI
 * each rank evaluates its shard and the confusion matrices are added). */
static int clf_validate(void *self, nr_valid *v, nlprnn_error *err) {
    trainer *t = self;
    int C = t->net.cfg.classes;
    v->has = t->g_va_docs > 0;
    v->score = v->loss = NAN;
    long long *cm = calloc((size_t)C * C, sizeof(long long));
    if (!cm) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    double ls = 0;
    long long n = 0;
    int rc = nr_clf_eval_dataset(&t->net, t->tok, &t->dva, t->p->threads, cm, &ls, &n, err);
    if (t->D.size > 1) { /* each rank evaluated its shard: add the confusion matrices */
        rc = nr_comm_agree(&t->D, rc, err);
        double *x = rc ? NULL : nr_malloc_array((size_t)C * C + 2, sizeof(double));
        if (!rc && !x) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        if (!rc) {
            for (size_t i = 0; i < (size_t)C * C; i++) x[i] = (double)cm[i];
            x[(size_t)C * C] = ls;
            x[(size_t)C * C + 1] = (double)n;
            rc = nr_comm_sum_f64(&t->D, x, C * C + 2, err);
            for (size_t i = 0; i < (size_t)C * C; i++) cm[i] = (long long)x[i];
            ls = x[(size_t)C * C];
            n = (long long)x[(size_t)C * C + 1];
        }
        free(x);
    }
    long long ok = 0;
    for (int k = 0; k < C; k++) ok += cm[(size_t)k * C + k];
    free(cm);
    v->score = n ? (double)ok / (double)n : NAN;
    v->loss = n ? ls / (double)n : NAN;
    return rc;
}

static int clf_write_weights(void *self, nr_mf_writer *w, const char *tag, const float *params,
                             nlprnn_error *err) {
    trainer *t = self;
    return nr_clf_put_weights(w, tag, &t->net, params, NR_DTYPE_F32, err);
}

static int clf_read_weights(void *self, const nr_mf_reader *r, const char *tag, float *params,
                            nlprnn_error *err) {
    trainer *t = self;
    return nr_clf_get_weights(r, tag, &t->net, params, err);
}

/* The checkpoint's classifier part: the network's config keys, the data's counts, the parameters
 * of the run (every one a resume may not change, as text), the tokenizer and the classes. */
static int clf_save(void *self, nr_mf_writer *w, nr_mf_buf *conf, int epoch, long long batch,
                    nlprnn_error *err) {
    (void)epoch, (void)batch;
    trainer *t = self;
    int rc = nr_clf_put_cfg(conf, &t->net.cfg, err);
    if (!rc) rc = nr_conf_put_int(conf, "data.train_docs", t->g_tr_docs, err);
    if (!rc) rc = nr_conf_put_int(conf, "data.train_tokens", t->g_tr_tokens, err);
    if (!rc) rc = nr_conf_put_int(conf, "data.valid_docs", t->g_va_docs, err);
    if (!rc) rc = nr_ckpt_put_params(conf, &TABLE, t->p, err);
    if (!rc) rc = nr_mf_add_tokenizer(w, "TOKN", t->tok, err);
    if (!rc) rc = nr_label_map_save(&t->labels, w, "LABL", err);
    return rc;
}

/* Resume: the checkpoint must be of this data (its parameters, tokenizer and classes were checked
 * before the data were tokenized) and its state must be in range for it (read_state). */
static int clf_load(void *self, const nr_mf_reader *r, const nr_conf *c, nlprnn_error *err) {
    (void)r;
    trainer *t = self;
    long long dn = 0, dv = 0, dt = 0;
    int rc = nr_conf_get_int(c, "data.train_docs", &dn, err);
    if (!rc) rc = nr_conf_get_int(c, "data.valid_docs", &dv, err);
    if (!rc) rc = nr_conf_get_int(c, "data.train_tokens", &dt, err);
    if (rc) return rc;
    if (dn != t->g_tr_docs || dv != t->g_va_docs || dt != t->g_tr_tokens)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "%s: the checkpoint was made on other data (%lld/%lld training docs, %lld/%lld "
                       "validation docs)",
                       t->ckpt, dn, t->g_tr_docs, dv, t->g_va_docs);
    return read_state(c, t->nb, t->p->batch, t->g_tr_docs, t->g_tr_tokens, t->g_va_docs, err);
}

/* The trainer's progress -> the classifier's public progress record. */
typedef struct clf_progress {
    nlprnn_classifier_progress_fn fn;
    void *user;
    nlprnn_classifier_progress *pr;
    double t0;
} clf_progress;

static int clf_on_progress(void *user, const nr_train_progress *q) {
    clf_progress *c = user;
    if (!c->fn) return 0;
    nlprnn_classifier_progress *pr = c->pr;
    pr->phase = q->phase;
    pr->message = q->phase == NR_TP_MESSAGE ? q->message : NULL;
    pr->elapsed = nr_now_sec() - c->t0;
    if (q->phase == NR_TP_STEP) {
        pr->epoch = q->epoch;
        pr->batch = q->batch;
        pr->batches = q->batches;
        pr->loss = q->loss;
        pr->accuracy = q->accuracy;
        pr->tokens_per_sec = q->tokens_per_sec;
        pr->eta = q->eta;
    } else if (q->phase == NR_TP_EPOCH) {
        pr->epoch = q->epoch;
        pr->loss = q->loss;
        pr->valid_accuracy = q->valid.has ? q->valid.score : NAN;
        pr->valid_loss = q->valid.has ? q->valid.loss : NAN;
        pr->best_epoch = q->best_epoch;
        pr->improved = q->improved;
        pr->eta = 0;
    }
    return c->fn(c->user, pr);
}


static int save_model(trainer *t, const float *weights, const char *out_path, int best_epoch, double best_acc,
                      const char *train_path, double train_sec, nlprnn_error *err) {
    nr_mf_writer *w = NULL;
    nr_mf_buf b;
    nr_mf_buf_init(&b);
    int rc = nr_mf_writer_new(&w, NR_KIND_CLASSIFIER, err);
    if (!rc) rc = nr_clf_put_cfg(&b, &t->net.cfg, err);
    if (!rc) rc = nr_conf_put_str(&b, "storage", nr_dtype_name(t->p->storage), err);
    if (!rc) {
        const char *bn = strrchr(train_path, '/');
        char name[1024];
        nr_utf8_escape(bn ? bn + 1 : train_path, name, sizeof name);
        rc = nr_conf_put_str(&b, "train.file", name, err);
    }
    if (!rc) rc = nr_conf_put_int(&b, "train.docs", t->g_tr_docs, err);
    if (!rc) rc = nr_conf_put_int(&b, "train.best_epoch", best_epoch, err);
    if (!rc && best_epoch) rc = nr_conf_put_float(&b, "train.valid_accuracy", best_acc, err);
    if (!rc) rc = nr_conf_put_float(&b, "train.seconds_last_run", train_sec, err);
    if (!rc && t->use_soft) rc = nr_conf_put_str(&b, "train.soft-column", t->p->soft_column, err);
    if (!rc && t->use_soft) rc = nr_conf_put_float(&b, "train.temperature", t->p->temperature, err);
    if (!rc && t->p->ema > 0) rc = nr_conf_put_float(&b, "train.ema", t->p->ema, err); /* only when used */
    static const char *const echo[] = {"optimizer", "lr", "lr-schedule", "lr-layer-decay", "unfreeze",
                                       "epochs", "batch", "seed", "threads", "dropout", "clip", "valid"};
    for (size_t i = 0; i < sizeof echo / sizeof echo[0] && !rc; i++) {
        char key[64], val[64];
        snprintf(key, sizeof key, "train.%s", echo[i]);
        nlprnn_classifier_params_get(t->p, echo[i], val, sizeof val, NULL);
        rc = nr_conf_put_str(&b, key, val, err);
    }
    if (!rc) rc = nr_mf_add(w, "CONF", NR_MF_CONFIG, b.data, b.len, 0, err);
    if (!rc) rc = nr_mf_add_tokenizer(w, "TOKN", t->tok, err);
    if (!rc) rc = nr_label_map_save(&t->labels, w, "LABL", err);
    if (!rc && t->names.n) rc = nr_label_map_save(&t->names, w, "LNAM", err);
    if (!rc) rc = nr_clf_put_weights(w, "WGHT", &t->net, weights, t->p->storage, err);
    if (!rc) rc = nr_mf_writer_save(w, out_path, err);
    nr_mf_buf_free(&b);
    nr_mf_writer_free(w);
    return rc;
}

/* Copy matching tensors from another model file into params: from a classifier (CLSF) the
 * embedding and encoder.* tensors of section WGHT; from a language model (LANG, tasks/lm/file.c) the
 * embedding and layers l<k>.* of its forward network (section WFWD) into direction 0 and of its

 * backward network (WBWD, when present) into direction 1. Shapes must match; the head is new. */
static int init_from_file(trainer *t, const char *path, nlprnn_error *err) {
    nr_mf_reader *r = NULL;
    int rc = nr_mf_open_file(&r, path, NULL, err);
    if (rc) return rc;
    int lm = !strcmp(nr_mf_kind(r), NR_KIND_LANGMODEL);
    nr_clf_tensor tt[4 + 4 * 2 * NR_ENCODER_MAX_LAYERS];
    int nt = nr_clf_tensors(&t->net, tt, (int)(sizeof tt / sizeof tt[0]));
    int matched = 0;
    for (int i = 0; i < nt && !rc; i++) {
        if (!strncmp(tt[i].name, "head.", 5)) continue;
        const char *tag = "WGHT", *name = tt[i].name;
        char lname[64];
        if (lm) {
            int l, d;
            char what[16];
            tag = "WFWD";
            if (sscanf(tt[i].name, "encoder.l%d.d%d.%15s", &l, &d, what) == 3) {
                tag = d ? "WBWD" : "WFWD";
                snprintf(lname, sizeof lname, "l%d.%s", l, what);
                name = lname;
            }
        }
        nr_tensor_info ti;
        if (nr_mf_tensor_info(r, tag, name, &ti, NULL) != 0) continue;
        if (!strcmp(name, "embedding") && ti.ndim == 2 && tt[i].ndim == 2 && ti.shape[1] != tt[i].shape[1]) {
            /* the usual mistake: sizes not given to match the file's (the hidden size follows
             * the embedding's for the shipped models: E = H) */
            rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                         "%s has embeddings of size %zu, this model %zu: pass --embed %zu (and the file's "
                         "--hidden; `nlprnn info %s` shows both)",
                         path, ti.shape[1], tt[i].shape[1], ti.shape[1], path);
            break;
        }
        rc = nr_mf_tensor_read(r, tag, name, t->params + tt[i].offset, tt[i].ndim, tt[i].shape, err);
        if (!rc) matched++;
    }
    if (!rc && matched == 0)
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                     "%s: no embedding or encoder tensor with this model's names and shapes", path);
    nr_mf_close(r);
    return rc;
}

/* How the training file is read (the same in one process and over MPI). */
static void load_opts(const nlprnn_classifier_params *p, nr_dataset_load_opts *o) {
    memset(o, 0, sizeof *o);
    nr_record_opts_default(&o->rec);
    o->rec.text_column = p->text_column[0] ? p->text_column : NULL;
    o->rec.label_column = p->label_column[0] ? p->label_column : NULL;
    o->rec.require_label = 1;
    o->rec.skip_bad = p->skip_bad;
    o->max_examples = (size_t)p->max_examples;
}

/* ---- MPI: the batch exchange --------------------------------------------------------------------
 * How the examples are dealt out to N ranks (example q of the global order to rank q % N) is in
 * data.c (nr_clf_data_load_shards). Every rank makes the same length-bucketed global batches;
 * global batch k goes to the ranks in slices of B (rank r: positions [rB, rB + B)); the token ids
 * of the slice come from their owners (MPI_Alltoallv, a few KB a step). */

/* After tokenizing the shard: the global example list (glenz, gpos) and counts, the same on
 * every rank. */
static int index_global(trainer *t, nlprnn_error *err) {
    size_t N = (size_t)t->D.size, nloc = t->dtr.n;
    int32_t *mine = nr_malloc_array(nloc + 1, sizeof *mine), *all = NULL;
    size_t *counts = nr_malloc_array(N, sizeof *counts), nall = 0;
    t->k2t = nr_malloc_array(nloc + 1, sizeof *t->k2t);
    if (!mine || !counts || !t->k2t) {
        free(mine);
        free(counts);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    }
    for (size_t k = 0; k < nloc; k++) mine[k] = 0, t->k2t[k] = -1;
    for (size_t x = 0; x < t->tr.n; x++) {
        mine[t->tr.src[x]] = t->tr.len[x];
        t->k2t[t->tr.src[x]] = (int32_t)x;
    }
    int rc = nr_comm_allgather_i32(&t->D, mine, nloc, &all, &nall, counts, err);
    free(mine);
    if (rc) {
        free(counts);
        return rc;
    }
    /* rank r's k-th value is position q = k N + r */
    size_t *displ = nr_malloc_array(N, sizeof *displ);
    t->glenz = nr_malloc_array(nall + 1, sizeof *t->glenz);
    t->gpos = nr_malloc_array(nall + 1, sizeof *t->gpos);
    if (!displ || !t->glenz || !t->gpos) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    size_t j = 0;
    long long tokens = 0;
    if (!rc) {
        for (size_t r = 0, at = 0; r < N; at += counts[r], r++) displ[r] = at;
        for (size_t q = 0; q < nall; q++) {
            size_t r = q % N, k = q / N;
            if (k >= counts[r]) continue; /* cannot happen: shards are q % N */
            int32_t len = all[displ[r] + k];
            if (len <= 0) continue;
            t->glenz[j] = (size_t)len;
            t->gpos[j] = q;
            j++;
            tokens += len;
        }
    }
    free(all);
    free(counts);
    free(displ);
    if (rc) return rc;
    t->g_tr_docs = (long long)j;
    t->g_tr_tokens = tokens;
    double v = (double)t->va.n;
    rc = nr_comm_sum_f64(&t->D, &v, 1, err);
    t->g_va_docs = (long long)v;
    int P = t->D.size;
    t->xc = nr_calloc_array((size_t)P * 5, sizeof(int));
    if (!rc && !t->xc)
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    return rc;
}

static int grow_i32(int32_t **buf, size_t *cap, size_t need, nlprnn_error *err) {
    if (need <= *cap) return NLPRNN_OK;
    size_t c = need + need / 2 + 1024;
    int32_t *nb = nr_realloc_array(*buf, c, sizeof(int32_t));
    if (!nb) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    *buf = nb;
    *cap = c;
    return NLPRNN_OK;
}

/* Fetch this rank's slice of global batch idx[0..Bg): positions [rank B, rank B + B) of it.
 * Every rank knows every example's owner and length, so the counts need no communication: each
 * owner sends [label, ids...] per example, in slice order. docs/lens/labels get the slice. */
static int fetch_slice(trainer *t, const size_t *idx, int Bg, int B, const int32_t **docs,
                       int *lens, int *labels, int *nslice, nlprnn_error *err) {
    int P = t->D.size, me = t->D.rank;
    int *sc = t->xc, *sd = sc + P, *rcn = sd + P, *rd = rcn + P, *cur = rd + P;
    memset(t->xc, 0, (size_t)P * 5 * sizeof(int));
    for (int s = 0; s < Bg; s++) {
        size_t j = idx[s];
        int dest = s / B, owner = (int)(t->gpos[j] % (size_t)P);
        if (owner == me) sc[dest] += 1 + (int)t->glenz[j];
        if (dest == me) rcn[owner] += 1 + (int)t->glenz[j];
    }
    size_t ns = 0, nr = 0;
    for (int r = 0; r < P; r++) {
        sd[r] = (int)ns;
        rd[r] = (int)nr;
        ns += (size_t)sc[r];
        nr += (size_t)rcn[r];
    }
    int rc = grow_i32(&t->sbuf, &t->sbuf_cap, ns + 1, err);
    if (!rc) rc = grow_i32(&t->rbuf, &t->rbuf_cap, nr + 1, err);
    if (rc) return rc;
    size_t at = 0;
    for (int s = 0; s < Bg; s++) { /* slices are in rank order, so this is per destination */
        size_t j = idx[s], q = t->gpos[j];
        if ((int)(q % (size_t)P) != me) continue;
        int x = t->k2t[q / (size_t)P];
        t->sbuf[at++] = t->tr.label[x];
        memcpy(t->sbuf + at, t->tr.ids + t->tr.off[x], (size_t)t->tr.len[x] * sizeof(int32_t));
        at += (size_t)t->tr.len[x];
    }
    rc = nr_comm_alltoall_i32(&t->D, t->sbuf, sc, sd, t->rbuf, rcn, rd, err);
    if (rc) return rc;
    int lo = me * B, hi = lo + B < Bg ? lo + B : Bg, b = 0;
    for (int s = lo; s < hi; s++, b++) {
        size_t j = idx[s];
        int owner = (int)(t->gpos[j] % (size_t)P);
        const int32_t *e = t->rbuf + rd[owner] + cur[owner];
        labels[b] = e[0];
        docs[b] = e + 1;
        lens[b] = (int)t->glenz[j];
        cur[owner] += 1 + lens[b];
    }
    *nslice = b;
    return NLPRNN_OK;
}

int nlprnn_classifier_train(const nlprnn_classifier_params *p, const char *train_path,
                            const char *valid_path, const char *out_path, int resume,
                            const volatile int *stop, nlprnn_classifier_progress_fn progress,
                            void *user, nlprnn_error *err) {
    struct nlprnn_train_ctl ctl = {stop, resume, NULL};
    return nlprnn_classifier_train_ctl(p, train_path, valid_path, out_path, &ctl, progress, user, err);
}

int nlprnn_classifier_train_ctl(const nlprnn_classifier_params *p, const char *train_path,
                                const char *valid_path, const char *out_path,
                                const nlprnn_train_ctl *ctl, nlprnn_classifier_progress_fn progress,
                                void *user, nlprnn_error *err) {
    if (!p || !train_path || !out_path)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "train: NULL argument");
    const int resume = ctl && ctl->resume;
    const volatile int *stop = ctl ? ctl->stop : NULL;
    trainer t;
    memset(&t, 0, sizeof t);
    nr_comm_copy(&t.D, ctl ? ctl->comm : NULL);
    const int dist = t.D.size > 1;
    /* over MPI, --batch is per rank: the global batch (saved in checkpoints) is N times it */
    nlprnn_classifier_params pg = *p;
    pg.batch = p->batch * t.D.size;
    /* threads 0: the cores this process may use, or on --resume the checkpoint's (below) */
    if (pg.threads == 0 && !resume) pg.threads = nr_default_threads();
    t.p = &pg;
    nr_label_map_init(&t.labels);
    nr_label_map_init(&t.names);
    nr_dataset_init(&t.dtr);
    nr_dataset_init(&t.dva);
    char ckpt[1100];
    snprintf(ckpt, sizeof ckpt, "%s", p->checkpoint[0] ? p->checkpoint : "");
    if (!ckpt[0]) snprintf(ckpt, sizeof ckpt, "%s.ckpt", out_path);
    char vocab_note[160];
    nlprnn_classifier_progress pr;
    memset(&pr, 0, sizeof pr);
    pr.size = sizeof pr;
    pr.epochs = p->epochs;
    pr.valid_loss = pr.valid_accuracy = NAN;
    double t0 = nr_now_sec();
    nr_mf_reader *cr = NULL;
    nr_conf ccf;
    memset(&ccf, 0, sizeof ccf);
    int rc = 0;

    rc = check_paths(p, train_path, valid_path, out_path, ckpt, resume, err);
    if (!rc && dist && p->soft_column[0])
        rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                     "--soft-column: soft targets are not supported over MPI ranks yet (train in one "
                     "process: --threads N)");
    if (dist) rc = nr_comm_agree(&t.D, rc, err);
    if (rc) goto done;
    t.batch = p->batch;
    t.ckpt = ckpt;
    report(progress, user, &pr, 0, "reading the corpus");
    if (dist && !resume && !p->init_from[0] && !p->tokenizer[0]) {
        rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                     "training on %d MPI ranks needs a tokenizer: --tokenizer FILE (make one with "
                     "'nlprnn tokenizer-train') or --init-from MODEL",
                     t.D.size);
        goto done;
    }
    nr_dataset_load_opts dopts;
    load_opts(p, &dopts);
    rc = dist ? nr_clf_data_load_shards(&dopts, p->valid, p->seed, &t.D, train_path, valid_path, &t.dtr,
                                        &t.dva, err)
              : nr_clf_data_load(&dopts, p->valid, p->seed, train_path, valid_path, &t.dtr, &t.dva, err);
    if (rc) goto done;

    /* tokenizer: from the checkpoint (resume), the init-from file, a file, or trained here */
    if (resume) {
        rc = nr_mf_open_file(&cr, ckpt, NR_KIND_CHECKPOINT, err);
        if (rc) goto done;
        nr_clf_cfg ccfg;
        nr_label_map cl;
        nr_label_map_init(&cl);
        rc = nr_clf_load_parts(cr, &ccfg, &t.tok, &cl, err);
        /* the classes, in the same order (an id is an index into this list) */
        int same = !rc && cl.n == t.dtr.labels.n;
        for (int i = 0; same && i < cl.n; i++) same = !strcmp(cl.names[i], t.dtr.labels.names[i]);
        if (!rc && !same) /* as for other data below: the caller's arguments do not fit */
            rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                         "%s: the checkpoint was made on other data (%d classes%s%s, the data have "
                         "%d%s%s)",
                         ckpt, cl.n, cl.n ? ": " : "", cl.n ? cl.names[0] : "", t.dtr.labels.n,
                         t.dtr.labels.n ? ": " : "", t.dtr.labels.n ? t.dtr.labels.names[0] : "");
        nr_label_map_free(&cl);
        if (!rc) rc = nr_mf_get_conf(cr, "CONF", &ccf, err);
        if (!rc && pg.threads == 0) {
            const char *v;
            long long n = 0;
            if (!nr_conf_get_str(&ccf, "param.threads", &v, NULL)) n = strtoll(v, NULL, 10);
            pg.threads = n >= 1 && n <= NR_MAX_THREADS ? (int)n : nr_default_threads();
        }
        /* the caller's arguments must fit the checkpoint */
        if (!rc) rc = nr_ckpt_check_params(&ccf, &TABLE, &pg, NLPRNN_E_INVALID_ARG, err);
        if (rc) goto done;
    } else if (p->init_from[0]) {
        nr_mf_reader *r = NULL;
        rc = nr_mf_open_file(&r, p->init_from, NULL, err);
        if (!rc) rc = nr_clf_get_tokenizer(r, &t.tok, err);
        nr_mf_close(r);
        if (rc) goto done;
    } else if (p->tokenizer[0]) {
        report(progress, user, &pr, 0, "loading the tokenizer");
        rc = nlprnn_tokenizer_load(p->tokenizer, &t.tok, err);
        if (rc) goto done;
    } else {
        report(progress, user, &pr, 0, "training the tokenizer");
        nlprnn_tokenizer_params *to = NULL;
        char vocab[32], threads[32];
        snprintf(vocab, sizeof vocab, "%d", p->vocab);
        snprintf(threads, sizeof threads, "%d", pg.threads);
        rc = nlprnn_tokenizer_params_create(&to, err);
        if (rc) goto done;
        rc = nlprnn_tokenizer_params_set(to, "vocab-size", vocab, err);
        if (!rc) rc = nlprnn_tokenizer_params_set(to, "threads", threads, err);
        if (!rc)
            rc = nlprnn_tokenizer_train_texts(to, (const char *const *)t.dtr.text, t.dtr.len, t.dtr.n,
                                              &t.tok, err);
        nlprnn_tokenizer_params_free(to);
        if (rc) goto done;
        if ((int)nlprnn_tokenizer_vocab_size(t.tok) < p->vocab) {
            /* a small corpus cannot give every id asked for: say so (the CLI prints warnings) */
            snprintf(vocab_note, sizeof vocab_note,
                     "warning: the training text gives a vocabulary of %d ids, %d were asked for (--vocab)",
                     (int)nlprnn_tokenizer_vocab_size(t.tok), p->vocab);
            report(progress, user, &pr, 0, vocab_note);
        }
    }
    rc = nr_label_map_copy(&t.labels, &t.dtr.labels, err);
    if (!rc) rc = nr_label_names_parse(&t.labels, p->label_names, &t.names, err);
    if (rc) goto done;

    report(progress, user, &pr, 0, "tokenizing");
    long long dropped = 0;
    rc = nr_clf_tokset_make(&t.tr, &t.dtr, t.tok, p->max_tokens, train_path, &dropped, err);
    if (!rc) rc = nr_clf_tokset_make(&t.va, &t.dva, t.tok, p->max_tokens, valid_path ? valid_path : train_path,
                              &dropped, err);
    if (dist) {
        rc = nr_comm_agree(&t.D, rc, err);
        if (!rc) rc = index_global(&t, err);
    } else {
        t.g_tr_docs = (long long)t.tr.n;
        t.g_tr_tokens = t.tr.tokens;
        t.g_va_docs = (long long)t.va.n;
    }
    if (rc) goto done;
    if (t.g_tr_docs == 0) {
        rc = nr_fail(err, NLPRNN_E_EMPTY, -1, -1, "%s: no training example with a token", train_path);
        goto done;
    }
    char soft_note[512];
    if (p->soft_column[0]) { /* one process (checked above) */
        report(progress, user, &pr, 0, "reading the soft targets");
        nr_dataset_load_opts so;
        load_opts(p, &so);
        rc = nr_clf_softset_load(&t.soft, train_path, &so, p->soft_column, &t.dtr.labels, p->temperature, err);
        if (rc) goto done;
        const int C = t.dtr.labels.n;
        t.tr_soft = nr_malloc_array(t.tr.n + 1, sizeof *t.tr_soft);
        t.bq = nr_malloc_array((size_t)p->batch * (size_t)C, sizeof *t.bq);
        t.btemp = nr_malloc_array((size_t)p->batch, sizeof *t.btemp);
        if (!t.tr_soft || !t.bq || !t.btemp) {
            rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
            goto done;
        }
        size_t with = 0;
        for (size_t x = 0; x < t.tr.n; x++) {
            t.tr_soft[x] = (int32_t)nr_clf_softset_find(&t.soft, t.dtr.lineno[t.tr.src[x]]);
            with += t.tr_soft[x] >= 0;
        }
        t.use_soft = 1;
        snprintf(soft_note, sizeof soft_note,
                 "soft targets (column \"%s\", temperature %g): %zu of %zu training examples, the "
                 "others their labels",
                 p->soft_column, p->temperature, with, t.tr.n);
        report(progress, user, &pr, 0, soft_note);
    }

    /* the network */
    nr_clf_cfg cfg = {.vocab = nlprnn_tokenizer_vocab_size(t.tok),
                      .embed = p->embed,
                      .cell = p->cell,
                      .layers = p->layers,
                      .bidirectional = p->bidirectional,
                      .hidden = p->hidden,
                      .pool = p->pool,
                      .classes = t.labels.n,
                      .max_tokens = p->max_tokens,
                      .dropout = (float)p->dropout};
    rc = nr_clf_net_bind(&t.net, &cfg, NULL, err);
    if (rc) goto done;
    size_t np = t.net.n_params;
    t.params = nr_calloc_array(np, sizeof(float));
    if (!t.params) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory for %zu parameters", np);
        goto done;
    }
    rc = nr_clf_net_bind(&t.net, &cfg, t.params, err);
    if (rc) goto done;
    if (t.net.n_emb != (size_t)cfg.vocab * (size_t)cfg.embed) { /* the sparse block below */
        rc = nr_fail(err, NLPRNN_E_STATE, -1, -1, "classifier: the embedding is not the first block");
        goto done;
    }

    /* batches an epoch (the global batch over MPI) */
    t.nb = (long long)(((size_t)t.g_tr_docs + (size_t)pg.batch - 1) / (size_t)pg.batch);
    if (!resume) { /* the initial weights (a resumed run reads them from the checkpoint) */
        nr_rng r;
        nr_rng_seed(&r, nr_seed_mix((uint64_t)p->seed, 0x1417, 2));
        nr_embedding_init(&t.net.emb, 0.05f, &r);
        rc = nr_encoder_init(&t.net.enc, &r, err);
        if (rc) goto done;
        nr_dense_init(&t.net.head, &r);
        if (p->init_from[0]) {
            report(progress, user, &pr, 0, "copying weights from the init-from file");
            rc = init_from_file(&t, p->init_from, err);
            if (rc) goto done;
        }
        if (p->vectors[0]) {
            report(progress, user, &pr, 0, "loading pretrained vectors");
            token_lookup_ctx lc = {t.tok};
            size_t matched = 0;
            rc = nr_embedding_load_vec(&t.net.emb, p->vectors, lookup_token, &lc, &matched, err);
            if (rc) goto done;
        }
    }

    t.n_groups = make_groups(&t.net, p->lr_layer_decay, p->unfreeze, t.groups);

    t.workers = pg.threads < p->batch ? pg.threads : p->batch;
    for (int w = 0; w < t.workers && !rc; w++) {
        int lo, hi;
        nr_split_range(p->batch, w, t.workers, &lo, &hi);
        rc = nr_clf_scratch_reserve(&t.s[w], &t.net, p->max_tokens, hi - lo, 1, 1, err);
    }
    /* the workers' workspaces pack the weights of a step once between them (several workers) */
    if (!rc && t.workers > 1) rc = nr_encoder_packs_create(&t.packs, err);
    for (int w = 0; w < t.workers && !rc; w++) nr_encoder_ws_share_packs(t.s[w].ws, t.packs);
    if (rc) goto done;

    nr_task task = {
        .self = &t,
        .name = "classifier",
        .params = t.params,
        .n_params = np,
        .sparse_rows = (size_t)cfg.vocab, /* the embedding table: only the rows a batch used */
        .sparse_dim = cfg.embed,
        .sparse_skip = NLPRNN_ID_PAD,
        .begin_epoch = clf_begin_epoch,
        .prepare = clf_prepare,
        .step = clf_step,
        .validate = t.g_va_docs ? clf_validate : NULL,
        .save = clf_save,
        .write_weights = clf_write_weights,
        .read_weights = clf_read_weights,
        .load = clf_load,
        .groups = t.n_groups ? t.groups : NULL,
        .n_groups = t.n_groups,
    };
    clf_progress pc = {progress, user, &pr, t0};
    nr_train_cfg tc;
    memset(&tc, 0, sizeof tc);
    tc.epochs = p->epochs;
    nr_optim_cfg_default(&tc.optim, p->optimizer);
    tc.optim.lr = (float)p->lr;
    tc.optim.weight_decay = (float)p->weight_decay;
    tc.lr = (nr_lr_schedule){.kind = p->schedule,
                             .base_lr = (float)p->lr,
                             .min_lr = (float)p->lr / 20.0f,
                             .warmup = 0,
                             .total = t.nb * p->epochs};
    tc.clip = p->clip;
    tc.ema = p->ema;
    tc.patience = p->patience;
    tc.workers = t.workers;
    tc.checkpoint = ckpt;
    tc.checkpoint_every = p->checkpoint_every;
    tc.check_every = p->dist_check_every;
    tc.stop = stop;
    tc.progress = clf_on_progress;
    tc.user = &pc;
    tc.comm = &t.D;
    tc.resume = cr;
    pr.batches = t.nb;
    nr_train_result res;
    rc = nr_train(&tc, &task, &res, err);
    if (rc) goto done;

    report(progress, user, &pr, 0, "saving the model");
    if (t.D.rank == 0)
        rc = save_model(&t, t.params, out_path, res.best_epoch, res.best_score, train_path,
                        nr_now_sec() - t0, err);
    rc = nr_comm_agree(&t.D, rc, err);
    if (!rc) nr_ckpt_remove(&tc); /* the run is complete: the model replaces the checkpoint */

done:
    nr_mf_close(cr);
    nr_conf_free(&ccf);
    trainer_free(&t);
    return rc;
}

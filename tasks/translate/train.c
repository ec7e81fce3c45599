/* tasks/translate/train.c: the translator's parameters, its pairs and its training task
 * (train/trainer.h).
 *
 * What the task gives the trainer:
 *   batch source   epoch e: the training pairs in an order drawn from (seed, e); blocks of 64
 *                  batches are sorted by falling source length (little padding), cut into
 *                  batches, and the batches shuffled; batch b of the epoch is the b-th of them
 *                  (with bpe-dropout p: every training pair is first encoded anew from its texts,
 *                  each merge skipped with probability p, the draws from (seed, e, pair, side))
 *   step           worker w of W takes a contiguous part of the batch: encode (the dropout masks
 *                  of the embeddings, the encoder and a_t drawn from (seed, epoch, batch, w)), teacher-forced decode, label-
 *                  smoothed cross-entropy per target token, backward
 *   validation     the loss per target token of the held-out pairs (the lowest is kept); pair i is
 *                  held out by a draw from (split-seed or, when it is 0, seed, i): nr_tr_held_out
 *   file sections  the data's size (a resume must see the same data), weights as tensor "params"
 * Tokenizers: trained before the network on the training pairs' texts (the held-out pairs too:
 * they come from the same file), deterministic, so a resumed run makes the same ones again.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/pool.h"
#include "corpora/dataset.h"
#include "corpora/reader.h"
#include "format/modelfile.h"
#include "models/nn.h"
#include "nlprnn/lm.h"
#include "tasks/translate/translate.h"
#include "train/ctl.h"
#include "train/trainer.h"

/* ---- parameters --------------------------------------------------------------------------- */

#define OFF(f) offsetof(struct nlprnn_translator_params, f)
#define SZ(f) sizeof(((struct nlprnn_translator_params *)0)->f)
static const nr_param ROWS[] = {
    {"src-col", NR_PARAM_STR, OFF(src_col), SZ(src_col), 0, 0, NULL, "ko", "source column (by the header line's name)", 0},
    {"tgt-col", NR_PARAM_STR, OFF(tgt_col), SZ(tgt_col), 0, 0, NULL, "en", "target column", 0},
    {"joint", NR_PARAM_INT, OFF(joint), 0, 0, 1, NULL, "0", "1: one subword vocabulary for both sides", 0},
    {"src-vocab", NR_PARAM_INT, OFF(src_vocab), 0, 262, 64000, NULL, "4000",
     "source subword vocabulary size (the joint one with joint=1)", 0},
    {"tgt-vocab", NR_PARAM_INT, OFF(tgt_vocab), 0, 262, 64000, NULL, "4000", "target subword vocabulary size", 0},
    {"src-tokenizer", NR_PARAM_STR, OFF(src_tokenizer), SZ(src_tokenizer), 0, 0, NULL, "",
     "source tokenizer file (nlprnn tokenizer-train) used instead of training one, so src-vocab is not used "
     "(the joint one with joint=1; \"\": train it)", 0},
    {"tgt-tokenizer", NR_PARAM_STR, OFF(tgt_tokenizer), SZ(tgt_tokenizer), 0, 0, NULL, "",
     "target tokenizer file used instead of training one, so tgt-vocab is not used (\"\": train it)", 0},
    {"src-lm", NR_PARAM_STR, OFF(src_lm), SZ(src_lm), 0, 0, NULL, "",
     "language model (nlprnn lm-train, the source tokenizer) to initialise the source embedding and the encoder's "
     "first layer from: its forward network gives the forward direction, its backward network the reverse one "
     "(\"\": none)", 0},
    {"tgt-lm", NR_PARAM_STR, OFF(tgt_lm), SZ(tgt_lm), 0, 0, NULL, "",
     "language model (the target tokenizer) whose forward network initialises the target embedding, the "
     "decoder's recurrent weights (W_hh, biases, the embedding's columns of W_ih) and the output layer "
     "(\"\": none)", 0},
    {"cell", NR_PARAM_ENUM, OFF(cell), 0, 0, 0, "lstm gru", "gru", "recurrent cell of the encoder and the decoder", 0},
    {"attention", NR_PARAM_ENUM, OFF(attention), 0, 0, 0, "general additive", "general",
     "Luong multiplicative (general) or Bahdanau additive attention", 0},
    {"embed", NR_PARAM_INT, OFF(embed), 0, 1, NR_MAX_EMBED, NULL, "256", "embedding size (both sides)", 0},
    {"hidden", NR_PARAM_INT, OFF(hidden), 0, 1, NR_MAX_HIDDEN, NULL, "256",
     "decoder units; the encoder has hidden/2 per direction when bidirectional", 0},
    {"layers", NR_PARAM_INT, OFF(layers), 0, 1, NR_ENCODER_MAX_LAYERS, NULL, "1", "encoder layers", 0},
    {"bidirectional", NR_PARAM_INT, OFF(bidirectional), 0, 0, 1, NULL, "1", "bidirectional encoder", 0},
    {"dropout", NR_PARAM_DBL, OFF(dropout), 0, 0, 0.5, NULL, "0.2", "dropout between encoder layers (training)", 0},
    {"emb-dropout", NR_PARAM_DBL, OFF(emb_dropout), 0, 0, 0.9, NULL, "0",
     "dropout on the source and target embeddings (training)", 0},
    {"out-dropout", NR_PARAM_DBL, OFF(out_dropout), 0, 0, 0.9, NULL, "0",
     "dropout on the decoder's attentional vector, before the output layer and input feeding (training)", 0},
    {"bpe-dropout", NR_PARAM_DBL, OFF(bpe_dropout), 0, 0, 1, NULL, "0",
     "BPE dropout: each merge skipped with this probability while a training pair is encoded, drawn anew "
     "every epoch (subword regularisation; validation and translation use the plain encoding)", 0},
    {"tied", NR_PARAM_INT, OFF(tied), 0, 0, 1, NULL, "0", "1: the output layer is the target embedding (embed = hidden)", 0},
    {"smoothing", NR_PARAM_DBL, OFF(smoothing), 0, 0, 0.5, NULL, "0.1", "label smoothing of the cross-entropy", 0},
    {"max-len", NR_PARAM_INT, OFF(max_len), 0, 2, NR_TR_MAX_SRC, NULL, "64",
     "pairs with more subword tokens on a side are left out of training", 0},
    {"epochs", NR_PARAM_INT, OFF(epochs), 0, 1, 1000000, NULL, "30", "passes over the training pairs", 0},
    {"batch", NR_PARAM_INT, OFF(batch), 0, 1, 4096, NULL, "32", "pairs per batch", 0},
    {"lr", NR_PARAM_DBL, OFF(lr), 0, 0, 100, NULL, "0.002", "peak learning rate (Adam)", NR_PARAM_OPEN_LO},
    {"min-lr", NR_PARAM_DBL, OFF(min_lr), 0, 0, 100, NULL, "0.0001",
     "learning rate at the end (cosine decay over the epochs, or over the time limit)", 0},
    {"clip", NR_PARAM_DBL, OFF(clip), 0, 0, 1e30, NULL, "5", "clip gradients by global norm (0: off)", 0},
    {"ema", NR_PARAM_DBL, OFF(ema), 0, 0, 1, NULL, "0", NR_TRAIN_EMA_HELP, NR_PARAM_OPEN_HI},
    {"valid", NR_PARAM_DBL, OFF(valid), 0, 0, 0.5, NULL, "0.05",
     "fraction of the pairs held out for validation (chosen by split-seed)", 0},
    {"time-limit", NR_PARAM_DBL, OFF(time_limit), 0, 0, 1e9, NULL, "0",
     "seconds of training at most (0: none); the learning rate follows the time", 0},
    {"patience", NR_PARAM_INT, OFF(patience), 0, 0, 1000000, NULL, "0",
     "stop after this many epochs without a lower validation loss (0: never)", NR_PARAM_RESUME_OK},
    {"keep", NR_PARAM_ENUM, OFF(keep), 0, 0, 0, "best last", "best",
     "the weights training ends with: the best validated epoch's (also after a time limit) or the last",
     NR_PARAM_RESUME_OK},
    {"threads", NR_PARAM_INT, OFF(threads), 0, 1, NR_MAX_THREADS, NULL, "1", "workers per batch", 0},
    {"store", NR_PARAM_ENUM, OFF(store), 0, 0, 0, "f32 f16 int8", "f32",
     "how the model file stores the weights (f16: half the size, rounded; int8: a quarter, each matrix row "
     "with its own scale, vectors f32)", NR_PARAM_RESUME_OK},
    {"word-reward", NR_PARAM_DBL, OFF(word_reward), 0, -5, 5, NULL, "0",
     "decoding default stored in the model file: greedy and beam search add it to the log-probability of "
     "each token written (translate --word-reward; options given when translating win)", NR_PARAM_RESUME_OK},
    {"min-ratio", NR_PARAM_DBL, OFF(min_ratio), 0, 0, 100, NULL, "0",
     "decoding default stored in the model file: no end before floor(R * source tokens) target tokens "
     "(translate --min-ratio)", NR_PARAM_RESUME_OK},
    {"min-from", NR_PARAM_INT, OFF(min_from), 0, 0, NR_TR_MAX_SRC, NULL, "0",
     "decoding default stored in the model file: min-ratio only for sources of at least N tokens; shorter "
     "ones have no minimum (0: every source; translate --min-from)", NR_PARAM_RESUME_OK},
    {"seed", NR_PARAM_U64, OFF(seed), 0, 0, 0, NULL, "1",
     "random seed: the initialisation, the order of the batches, the dropout masks", 0},
    {"split-seed", NR_PARAM_U64, OFF(split_seed), 0, 0, 0, NULL, "0",
     "seed of the held-out split (0: the seed), so that models that differ only in seed can hold out the "
     "same pairs (the tokenizers depend on neither seed)", 0},
    {"checkpoint", NR_PARAM_STR, OFF(checkpoint), SZ(checkpoint), 0, 0, NULL, "", "checkpoint file (\"\": none)",
     NR_PARAM_RESUME_OK},
    {"checkpoint-every", NR_PARAM_LL, OFF(checkpoint_every), 0, 0, 1e15, NULL, "0",
     "also write the checkpoint every N batches (0: at epoch ends and on stop)", NR_PARAM_RESUME_OK},
};
#undef OFF
#undef SZ
static const nr_param_table TABLE = {"translate parameter", ROWS, sizeof ROWS / sizeof ROWS[0]};

const nr_param_table *nr_translate_param_table(void) { return &TABLE; }

void nr_translate_params_default(struct nlprnn_translator_params *p) {
    memset(p, 0, sizeof *p);
    nr_params_reset(&TABLE, p, NULL);
}

int nlprnn_translator_params_create(nlprnn_translator_params **out, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate parameters: out is NULL");
    nlprnn_translator_params *p = malloc(sizeof *p);
    if (p) nr_translate_params_default(p);
    *out = p;
    return p ? NLPRNN_OK : nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate parameters: out of memory");
}

void nlprnn_translator_params_free(nlprnn_translator_params *p) { free(p); }

int nlprnn_translator_params_set(nlprnn_translator_params *p, const char *name, const char *value,
                                nlprnn_error *err) {
    if (!p || !name || !value)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate parameter: NULL argument");
    return nr_params_set(&TABLE, p, name, value, err);
}

int nlprnn_translator_params_get(const nlprnn_translator_params *p, const char *name, char *buf,
                                size_t cap, nlprnn_error *err) {
    if (!p || !name || !buf || !cap)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate parameter: NULL argument");
    return nr_params_get(&TABLE, p, name, buf, cap, err);
}

int nlprnn_translator_param_info(int i, const char **name, const char **def, const char **help,
                                char *range, size_t cap, nlprnn_error *err) {
    return nr_param_info(&TABLE, i, name, def, help, range, cap, err);
}

/* ---- the network's configuration ------------------------------------------------------------ */

void nr_translator_cfg(nr_s2s_cfg *cfg, const struct nlprnn_translator_params *p, int Vs, int Vt) {
    memset(cfg, 0, sizeof *cfg);
    cfg->Vs = Vs, cfg->Vt = Vt, cfg->embed = p->embed, cfg->hidden = p->hidden;
    int eh = p->bidirectional ? (p->hidden + 1) / 2 : p->hidden;
    nr_encoder_cfg_default(&cfg->enc, p->embed, eh);
    cfg->enc.cell = p->cell == 0 ? NR_CELL_LSTM : NR_CELL_GRU;
    cfg->enc.layers = p->layers;
    cfg->enc.bidirectional = p->bidirectional;
    cfg->enc.dropout = (float)p->dropout;
    cfg->cell = cfg->enc.cell;
    cfg->attention = p->attention == 0 ? NR_ATTN_GENERAL : NR_ATTN_ADDITIVE;
    cfg->tied = p->tied;
    cfg->emb_dropout = (float)p->emb_dropout;
    cfg->out_dropout = (float)p->out_dropout;
}

int nr_translator_bind(nlprnn_translator *t, nlprnn_error *err) {
    int rc = nr_s2s_bind(&t->net, &t->cfg, NULL, err);
    if (rc) return rc;
    free(t->params);
    t->params = nr_calloc_array(t->net.n_params, sizeof(float));
    if (!t->params) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
    return nr_s2s_bind(&t->net, &t->cfg, t->params, err);
}

void nr_translator_summarize(nlprnn_translator *t) {
    const struct nlprnn_translator_params *p = &t->p;
    char vl[64] = "none", dr[96] = "", bd[48] = "", one[512];
    if (!isnan(t->valid_loss)) snprintf(vl, sizeof vl, "%.4f", t->valid_loss);
    if (p->emb_dropout > 0 || p->out_dropout > 0)
        snprintf(dr, sizeof dr, ", dropout embeddings %g, output %g", p->emb_dropout, p->out_dropout);
    if (p->bpe_dropout > 0) snprintf(bd, sizeof bd, ", BPE dropout %g", p->bpe_dropout);
    snprintf(one, sizeof one,
             "translator %s -> %s: vocab %d/%d%s, %s, embed %d, hidden %d, encoder %d layer%s%s, %s "
             "attention%s%s%s, %zu parameters, %d epoch%s, best %d, validation loss %s",
             p->src_col, p->tgt_col, t->cfg.Vs, t->cfg.Vt, p->joint ? " (joint)" : "",
             p->cell == 0 ? "lstm" : "gru", p->embed, p->hidden, p->layers, p->layers == 1 ? "" : "s",
             p->bidirectional ? " bidirectional" : "", p->attention == 0 ? "general" : "additive",
             p->tied ? ", tied" : "", dr, bd, t->net.n_params, t->epochs_run, t->epochs_run == 1 ? "" : "s",
             t->best_epoch, vl);
    char ens[48] = "", deco[140] = "", from[32] = "";
    if (t->n_more) snprintf(ens, sizeof ens, "ensemble of %d translators; member 1: ", 1 + t->n_more);
    const nr_tr_deco *d = &t->deco;
    if (d->min_from) snprintf(from, sizeof from, ", min-from %d", d->min_from);
    if (nr_tr_deco_stored(d))
        snprintf(deco, sizeof deco, "; decoding defaults: word-reward %g, min-ratio %g%s%s", d->word_reward,
                 d->min_ratio, from,
                 d->combine < 0 ? "" : d->combine == NR_COMBINE_LOGP ? ", combine logp" : ", combine prob");
    snprintf(t->summary, sizeof t->summary, "%s%s%s", ens, one, deco);
}

int nr_tr_deco_stored(const nr_tr_deco *d) {
    return d->word_reward != 0 || d->min_ratio != 0 || d->combine >= 0 || d->min_from != 0;
}

int nr_tr_deco_set(nr_tr_deco *d, nlprnn_translator_opt opt, double v) {
    switch (opt) {
    case NLPRNN_TRANSLATE_WORD_REWARD: d->word_reward = v; return 1;
    case NLPRNN_TRANSLATE_MIN_RATIO: d->min_ratio = v; return 1;
    case NLPRNN_TRANSLATE_MIN_FROM: d->min_from = (int)v; return 1;
    case NLPRNN_TRANSLATE_COMBINE: d->combine = (int)v; return 1;
    default: return 0;
    }
}

/* ---- pairs ------------------------------------------------------------------------------------ */

void nr_tr_pairs_free(nr_tr_pairs *d) {
    if (d->stext)
        for (size_t i = 0; i < d->n; i++) free(d->stext[i]);
    if (d->ttext)
        for (size_t i = 0; i < d->n; i++) free(d->ttext[i]);
    free(d->stext), free(d->ttext), free(d->src), free(d->tgt), free(d->soff), free(d->toff);
    memset(d, 0, sizeof *d);
}

/* Field k of a tab-separated line (start and length); 0 when it has fewer fields. */
static int tsv_field(const char *s, size_t n, int k, const char **f, size_t *len) {
    size_t a = 0;
    for (int i = 0; i < k; i++) {
        const char *t = memchr(s + a, '\t', n - a);
        if (!t) return 0;
        a = (size_t)(t - s) + 1;
    }
    const char *t = memchr(s + a, '\t', n - a);
    *f = s + a;
    *len = t ? (size_t)(t - s) - a : n - a;
    return 1;
}

static char *dup_n(const char *s, size_t n) {
    char *c = malloc(n + 1);
    if (c) memcpy(c, s, n), c[n] = 0;
    return c;
}

static int column_of(const nr_line *h, const char *name) {
    const char *f;
    size_t len;
    for (int k = 0; tsv_field(h->text, h->len, k, &f, &len); k++)
        if (len == strlen(name) && !memcmp(f, name, len)) return k;
    return -1;
}

int nr_tr_read_tsv(nr_tr_pairs *d, const char *path, const char *src_col, const char *tgt_col,
                   nlprnn_error *err) {
    memset(d, 0, sizeof *d);
    nr_line_reader *lr = NULL;
    int rc = nr_line_reader_open(&lr, path, NULL, err);
    if (rc) return rc;
    nr_line ln;
    int cs = -1, ct = -1;
    size_t cap = 0;
    rc = nr_line_reader_next(lr, &ln, err);
    if (rc == 0) rc = nr_fail(err, NLPRNN_E_EMPTY, -1, -1, "%s: empty file (a header line naming the columns is needed)", path);
    if (rc == 1) {
        cs = column_of(&ln, src_col), ct = column_of(&ln, tgt_col);
        if (cs < 0 || ct < 0)
            rc = nr_fail(err, NLPRNN_E_DATA, 1, ln.offset, "%s:1: the header line has no column '%s'", path,
                         cs < 0 ? src_col : tgt_col);
        else if (cs == ct)
            rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "%s: the source and target columns are the same ('%s')",
                         path, src_col);
        else
            rc = 1;
    }
    while (rc == 1) {
        rc = nr_line_reader_next(lr, &ln, err);
        if (rc != 1) break;
        if (ln.len == 0) continue;
        const char *fs, *ft;
        size_t ls, lt;
        if (!tsv_field(ln.text, ln.len, cs, &fs, &ls) || !tsv_field(ln.text, ln.len, ct, &ft, &lt)) {
            rc = nr_fail(err, NLPRNN_E_DATA, ln.lineno, ln.offset, "%s:%lld: byte %lld: fewer columns than the header line",
                         path, ln.lineno, ln.offset);
            break;
        }
        if (d->n == cap) {
            cap = cap ? 2 * cap : 1024;
            char **a = nr_realloc_array(d->stext, cap, sizeof *a), **b = a ? nr_realloc_array(d->ttext, cap, sizeof *b) : NULL;
            if (a) d->stext = a;
            if (b) d->ttext = b;
            if (!a || !b) {
                rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
                break;
            }
        }
        d->stext[d->n] = dup_n(fs, ls);
        d->ttext[d->n] = dup_n(ft, lt);
        if (!d->stext[d->n] || !d->ttext[d->n]) {
            free(d->stext[d->n]), free(d->ttext[d->n]);
            rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
            break;
        }
        d->n++;
    }
    nr_line_reader_close(lr);
    if (rc < 0) {
        nr_tr_pairs_free(d);
        return rc;
    }
    if (d->n == 0) return nr_fail(err, NLPRNN_E_EMPTY, -1, -1, "%s: no pairs after the header line", path);
    return NLPRNN_OK;
}

int nr_tr_encode(nr_tr_pairs *d, const nlprnn_tokenizer *ts, const nlprnn_tokenizer *tt, int max_len,
                 int keep_text, nlprnn_error *err) {
    nlprnn_encoding *es = NULL, *et = NULL;
    nlprnn_encoding_create(&es, NULL);
    nlprnn_encoding_create(&et, NULL);
    size_t cs = 0, ct = 0, ns = 0, nt = 0, w = 0;
    d->soff = nr_malloc_array(d->n + 1, sizeof *d->soff);
    d->toff = nr_malloc_array(d->n + 1, sizeof *d->toff);
    int rc = !es || !et || !d->soff || !d->toff ? nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory") : 0;
    for (size_t i = 0; !rc && i < d->n; i++) {
        rc = nlprnn_tokenizer_encode(ts, d->stext[i], strlen(d->stext[i]), es, err);
        if (!rc) rc = nlprnn_tokenizer_encode(tt, d->ttext[i], strlen(d->ttext[i]), et, err);
        if (rc) break;
        size_t a = nlprnn_encoding_size(es), b = nlprnn_encoding_size(et);
        if (a == 0 || b == 0 || a > (size_t)max_len || b > (size_t)max_len) {
            d->skipped++;
            if (keep_text) {
                free(d->stext[i]), free(d->ttext[i]);
                d->stext[i] = d->ttext[i] = NULL;
            }
            continue;
        }
        if (ns + a > cs) {
            cs = (ns + a) * 2;
            int32_t *p = nr_realloc_array(d->src, cs, sizeof *p);
            if (!p) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
            else d->src = p;
        }
        if (!rc && nt + b > ct) {
            ct = (nt + b) * 2;
            int32_t *p = nr_realloc_array(d->tgt, ct, sizeof *p);
            if (!p) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
            else d->tgt = p;
        }
        if (rc) break;
        memcpy(d->src + ns, nlprnn_encoding_ids(es), a * sizeof(int32_t));
        memcpy(d->tgt + nt, nlprnn_encoding_ids(et), b * sizeof(int32_t));
        d->soff[w] = ns, d->toff[w] = nt;
        if (keep_text) { /* pair i becomes pair w (w <= i) */
            char *s = d->stext[i], *u = d->ttext[i];
            d->stext[i] = d->ttext[i] = NULL;
            d->stext[w] = s, d->ttext[w] = u;
        }
        ns += a, nt += b, w++;
    }
    if (!keep_text || rc) {
        for (size_t i = 0; i < d->n; i++) free(d->stext[i]), free(d->ttext[i]);
        free(d->stext), free(d->ttext);
        d->stext = d->ttext = NULL;
    }
    nlprnn_encoding_free(es);
    nlprnn_encoding_free(et);
    if (rc) return rc;
    d->n = w;
    d->soff[w] = ns, d->toff[w] = nt;
    if (w == 0) return nr_fail(err, NLPRNN_E_EMPTY, -1, -1, "translate: no pair within max-len %d tokens", max_len);
    return NLPRNN_OK;
}

/* Append ids[0..n) to e's side (ids, offsets, capacity) as pair i. */
static int put_side(int32_t **ids, size_t *cap, size_t *off, size_t i, const int32_t *v, size_t n) {
    size_t at = off[i];
    if (at + n > *cap) {
        size_t c = *cap ? *cap : 4096;
        while (c < at + n) c *= 2;
        int32_t *q = nr_realloc_array(*ids, c, sizeof *q);
        if (!q) return -1;
        *ids = q, *cap = c;
    }
    memcpy(*ids + at, v, n * sizeof *v);
    off[i + 1] = at + n;
    return 0;
}

int nr_tr_sample(nr_tr_pairs *e, const nr_tr_pairs *d, const nlprnn_tokenizer *ts, const nlprnn_tokenizer *tt,
                 double p, uint64_t seed, int epoch, int max_len, nlprnn_error *err) {
    if (!d->stext || !d->ttext)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: BPE dropout needs the pairs' texts");
    if (e->n != d->n || !e->soff) {
        free(e->soff), free(e->toff);
        e->soff = nr_malloc_array(d->n + 1, sizeof *e->soff);
        e->toff = nr_malloc_array(d->n + 1, sizeof *e->toff);
        e->n = d->n;
        if (!e->soff || !e->toff) {
            nr_tr_pairs_free(e);
            return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
        }
    }
    nlprnn_encoding *enc = NULL;
    int rc = nlprnn_encoding_create(&enc, err);
    e->soff[0] = e->toff[0] = 0;
    for (size_t i = 0; !rc && i < d->n; i++) {
        for (int side = 0; !rc && side < 2; side++) {
            const nlprnn_tokenizer *tk = side ? tt : ts;
            const char *txt = side ? d->ttext[i] : d->stext[i];
            /* seed ^ "bpe-drop" in ASCII: a stream of its own, apart from the other draws of the seed */
            uint64_t s = nr_seed_mix(seed ^ 0x6270652d64726f70ull, (uint64_t)epoch, 2 * (uint64_t)i + (uint64_t)side);
            rc = nlprnn_tokenizer_encode_sample(tk, txt, strlen(txt), 0, p, s, enc, err);
            if (rc) break;
            const int32_t *v = nlprnn_encoding_ids(enc);
            size_t n = nlprnn_encoding_size(enc);
            if (n == 0 || n > (size_t)max_len) { /* too long: the plain encoding */
                v = side ? d->tgt + d->toff[i] : d->src + d->soff[i];
                n = side ? d->toff[i + 1] - d->toff[i] : d->soff[i + 1] - d->soff[i];
            }
            if (side ? put_side(&e->tgt, &e->tcap, e->toff, i, v, n) : put_side(&e->src, &e->scap, e->soff, i, v, n))
                rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
        }
    }
    nlprnn_encoding_free(enc);
    return rc;
}

/* ---- the training task ---------------------------------------------------------------------- */

#define SORT_BLOCK 64 /* batches per length-sorted block */

typedef struct tr_task {
    nlprnn_translator *t;
    const nr_tr_pairs *d;    /* the plain encodings (validation) */
    const nr_tr_pairs *cur;  /* the epoch's training encodings: d, or e with BPE dropout */
    nr_tr_pairs e;           /* the epoch's sampled encodings (bpe-dropout > 0) */
    const nr_comm *comm;
    size_t *train, n_train, *valid, n_valid;
    size_t *order, *bstart;
    long long batches;
    int B, W, maxS, maxT;
    nr_s2s_ws *ws[NR_TRAIN_MAX_WORKERS];
    int *src[NR_TRAIN_MAX_WORKERS], *slen[NR_TRAIN_MAX_WORKERS], *tin[NR_TRAIN_MAX_WORKERS],
        *tout[NR_TRAIN_MAX_WORKERS];
    size_t at, nb;      /* the current batch (this rank's share) */
    double count;       /* target tokens (with <eos>) in it */
} tr_task;

static size_t slen_of(const nr_tr_pairs *d, size_t i) { return d->soff[i + 1] - d->soff[i]; }
static size_t tlen_of(const nr_tr_pairs *d, size_t i) { return d->toff[i + 1] - d->toff[i]; }

static size_t tr_len(const void *d, size_t i) { return slen_of(d, i); }

static int tr_begin_epoch(void *self, int epoch, long long *batches, nlprnn_error *err) {
    tr_task *k = self;
    const struct nlprnn_translator_params *p = &k->t->p;
    if (p->bpe_dropout > 0) {
        int rc = nr_tr_sample(&k->e, k->d, k->t->tsrc, k->t->ttgt, p->bpe_dropout, p->seed, epoch, p->max_len, err);
        if (rc) return rc;
        k->cur = &k->e;
    }
    nr_rng rng;
    nr_rng_seed(&rng, nr_seed_mix(k->t->p.seed, (uint64_t)epoch, 1));
    long long nb = nr_batches_by_length(k->train, k->n_train, (size_t)k->B, (size_t)k->B * SORT_BLOCK, tr_len,
                                        k->cur, &rng, k->order, k->bstart);
    if (nb < 0) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
    k->batches = nb;
    *batches = nb;
    return NLPRNN_OK;
}

static int tr_prepare(void *self, int epoch, long long batch, int *n, nlprnn_error *err) {
    (void)epoch, (void)err;
    tr_task *k = self;
    size_t s0 = k->bstart[batch], s1 = k->bstart[batch + 1];
    int lo = 0, hi = (int)(s1 - s0);
    if (k->comm && k->comm->size > 1) nr_split_range((int)(s1 - s0), k->comm->rank, k->comm->size, &lo, &hi);
    k->at = s0 + (size_t)lo;
    k->nb = (size_t)(hi - lo);
    k->count = 0;
    for (size_t i = 0; i < k->nb; i++) k->count += (double)tlen_of(k->cur, k->order[k->at + i]) + 1;
    *n = (int)k->nb;
    return NLPRNN_OK;
}

/* Pairs idx[0..B) of d into worker w's buffers, time-major: src (Ts,B), tin/tout (Tt,B). */
static void fill(tr_task *k, const nr_tr_pairs *d, int w, const size_t *idx, int B, int *Ts, int *Tt, double *ntok) {
    int S = 0, T = 0;
    *ntok = 0;
    for (int b = 0; b < B; b++) {
        int a = (int)slen_of(d, idx[b]), c = (int)tlen_of(d, idx[b]) + 1;
        S = a > S ? a : S;
        T = c > T ? c : T;
        k->slen[w][b] = a;
        *ntok += a + c;
    }
    for (int b = 0; b < B; b++) {
        const int32_t *s = d->src + d->soff[idx[b]], *y = d->tgt + d->toff[idx[b]];
        int a = k->slen[w][b], c = (int)tlen_of(d, idx[b]);
        for (int t = 0; t < S; t++) k->src[w][t * B + b] = t < a ? s[t] : NLPRNN_ID_PAD;
        for (int t = 0; t < T; t++) {
            k->tin[w][t * B + b] = t == 0 ? NLPRNN_ID_BOS : t <= c ? y[t - 1] : NLPRNN_ID_PAD;
            k->tout[w][t * B + b] = t < c ? y[t] : t == c ? NLPRNN_ID_EOS : -1;
        }
    }
    *Ts = S, *Tt = T;
}

static int tr_step(void *self, int epoch, long long batch, int w, int W, float *grad, nr_step_stats *st,
                   const int **rows, size_t *n_rows, nlprnn_error *err) {
    tr_task *k = self;
    *rows = NULL, *n_rows = 0;
    int lo = 0, hi = 0;
    nr_split_range((int)k->nb, w, W, &lo, &hi);
    if (hi <= lo) return NLPRNN_OK;
    const nlprnn_translator *t = k->t;
    int B = hi - lo, Ts, Tt;
    double ntok;
    fill(k, k->cur, w, k->order + k->at + lo, B, &Ts, &Tt, &ntok);
    /* dropout masks from (seed ^ "drop" in ASCII, epoch, batch * 64 + w): w < NR_TRAIN_MAX_WORKERS
     * (16) <= 64, so no two (batch, worker) pairs share a stream */
    nr_rng drng;
    nr_rng_seed(&drng, nr_seed_mix(t->p.seed ^ 0x64726f70ull, (uint64_t)epoch, (uint64_t)batch * 64 + (uint64_t)w));
    int rc = nr_s2s_encode(&t->net, k->ws[w], k->src[w], k->slen[w], Ts, B, &drng, err);
    if (!rc) rc = nr_s2s_decode_forward(&t->net, k->ws[w], k->tin[w], Tt, &drng, err);
    if (rc) return rc;
    long long cnt = 0;
    double loss = nr_s2s_loss(&t->net, k->ws[w], k->tout[w], (float)t->p.smoothing,
                              k->count > 0 ? (float)(1.0 / k->count) : 0.0f, grad, &cnt);
    rc = nr_s2s_backward(&t->net, k->ws[w], grad, err);
    if (rc) return rc;
    st->loss = loss;
    st->count = (double)cnt;
    st->tokens = ntok;
    return NLPRNN_OK;
}

static int tr_validate(void *self, nr_valid *v, nlprnn_error *err) {
    tr_task *k = self;
    v->has = k->n_valid > 0;
    v->score = v->loss = NAN;
    if (!v->has) return NLPRNN_OK;
    const nlprnn_translator *t = k->t;
    double loss = 0, cnt = 0;
    for (size_t i = 0; i < k->n_valid; i += (size_t)k->B) {
        int B = k->n_valid - i < (size_t)k->B ? (int)(k->n_valid - i) : k->B, Ts, Tt;
        double ntok;
        fill(k, k->d, 0, k->valid + i, B, &Ts, &Tt, &ntok);
        int rc = nr_s2s_encode(&t->net, k->ws[0], k->src[0], k->slen[0], Ts, B, NULL, err);
        if (!rc) rc = nr_s2s_decode_forward(&t->net, k->ws[0], k->tin[0], Tt, NULL, err);
        if (rc) return rc;
        long long c = 0;
        loss += nr_s2s_loss(&t->net, k->ws[0], k->tout[0], (float)t->p.smoothing, 0.0f, NULL, &c);
        cnt += (double)c;
    }
    v->loss = loss / cnt;
    return NLPRNN_OK;
}

static void tr_epoch_done(void *self, int epoch, double train_loss, const nr_valid *v) {
    (void)train_loss, (void)v;
    tr_task *k = self;
    k->t->epochs_run = epoch + 1;
}

static int tr_save(void *self, nr_mf_writer *w, nr_mf_buf *conf, int epoch, long long batch, nlprnn_error *err) {
    (void)w, (void)epoch, (void)batch;
    tr_task *k = self;
    int rc = nr_conf_put_int(conf, "data.pairs", (long long)k->d->n, err);
    if (!rc) rc = nr_conf_put_int(conf, "data.src_tokens", (long long)k->d->soff[k->d->n], err);
    if (!rc) rc = nr_conf_put_int(conf, "data.tgt_tokens", (long long)k->d->toff[k->d->n], err);
    if (!rc) rc = nr_conf_put_int(conf, "data.src_vocab", k->t->cfg.Vs, err);
    if (!rc) rc = nr_conf_put_int(conf, "data.tgt_vocab", k->t->cfg.Vt, err);
    return rc;
}

static int tr_load(void *self, const nr_mf_reader *r, const nr_conf *c, nlprnn_error *err) {
    (void)r;
    tr_task *k = self;
    long long np = 0, ns = 0, nt = 0, vs = 0, vt = 0;
    int rc = nr_conf_get_int(c, "data.pairs", &np, err);
    if (!rc) rc = nr_conf_get_int(c, "data.src_tokens", &ns, err);
    if (!rc) rc = nr_conf_get_int(c, "data.tgt_tokens", &nt, err);
    if (!rc) rc = nr_conf_get_int(c, "data.src_vocab", &vs, err);
    if (!rc) rc = nr_conf_get_int(c, "data.tgt_vocab", &vt, err);
    if (rc) return rc;
    if (np != (long long)k->d->n || ns != (long long)k->d->soff[k->d->n] || nt != (long long)k->d->toff[k->d->n] ||
        vs != k->t->cfg.Vs || vt != k->t->cfg.Vt)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "%s: the checkpoint was made on other data (%lld pairs, %lld/%lld tokens, vocabularies "
                       "%lld/%lld; this file: %zu, %zu/%zu, %d/%d)",
                       c->where, np, ns, nt, vs, vt, k->d->n, k->d->soff[k->d->n], k->d->toff[k->d->n],
                       k->t->cfg.Vs, k->t->cfg.Vt);
    return NLPRNN_OK;
}

int nr_tr_held_out(uint64_t seed, uint64_t split_seed, double valid, size_t i) {
    nr_rng r; /* S ^ "valid" in ASCII: a stream of its own */
    nr_rng_seed(&r, nr_seed_mix((split_seed ? split_seed : seed) ^ 0x76616c6964ull, i, 0));
    return nr_rng_uniform(&r) < valid;
}

static void tr_task_free(tr_task *k) {
    for (int w = 0; w < NR_TRAIN_MAX_WORKERS; w++) {
        nr_s2s_ws_free(k->ws[w]);
        free(k->src[w]), free(k->slen[w]), free(k->tin[w]), free(k->tout[w]);
    }
    free(k->train), free(k->valid), free(k->order), free(k->bstart);
    nr_tr_pairs_free(&k->e);
}

static int tr_setup(tr_task *k, nlprnn_translator *t, const nr_tr_pairs *d, const nr_comm *comm, nlprnn_error *err) {
    const struct nlprnn_translator_params *p = &t->p;
    memset(k, 0, sizeof *k);
    k->t = t, k->d = d, k->cur = d, k->comm = comm, k->W = p->threads;
    k->train = nr_malloc_array(d->n, sizeof *k->train);
    k->valid = nr_malloc_array(d->n, sizeof *k->valid);
    k->order = nr_malloc_array(d->n, sizeof *k->order);
    k->bstart = nr_malloc_array(d->n + 2, sizeof *k->bstart);
    if (!k->train || !k->valid || !k->order || !k->bstart)
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
    for (size_t i = 0; i < d->n; i++) {
        if (nr_tr_held_out(p->seed, p->split_seed, p->valid, i)) k->valid[k->n_valid++] = i;
        else k->train[k->n_train++] = i;
    }
    if (k->n_train == 0)
        return nr_fail(err, NLPRNN_E_DATA, -1, -1, "translate: no training pairs left after holding out validation");
    k->B = k->n_train < (size_t)p->batch ? (int)k->n_train : p->batch;
    for (size_t i = 0; i < d->n; i++) {
        k->maxS = (int)slen_of(d, i) > k->maxS ? (int)slen_of(d, i) : k->maxS;
        k->maxT = (int)tlen_of(d, i) + 1 > k->maxT ? (int)tlen_of(d, i) + 1 : k->maxT;
    }
    if (p->bpe_dropout > 0) /* a sampled side has up to max-len tokens */
        k->maxS = p->max_len, k->maxT = p->max_len + 1;
    nr_translator_cfg(&t->cfg, p, nlprnn_tokenizer_vocab_size(t->tsrc), nlprnn_tokenizer_vocab_size(t->ttgt));
    int rc = nr_translator_bind(t, err);
    if (rc) return rc;
    nr_rng rng;
    nr_rng_seed(&rng, p->seed);
    rc = nr_s2s_init(&t->net, &rng, err);
    for (int w = 0; !rc && w < k->W; w++) {
        size_t B = (size_t)k->B;
        k->ws[w] = nr_s2s_ws_create(&t->net, k->maxS, k->maxT, k->B, 1, err);
        if (!k->ws[w]) return err && err->code ? err->code : NLPRNN_E_NOMEM;
        k->src[w] = nr_malloc_array((size_t)k->maxS * B, sizeof(int));
        k->slen[w] = nr_malloc_array(B, sizeof(int));
        k->tin[w] = nr_malloc_array((size_t)k->maxT * B, sizeof(int));
        k->tout[w] = nr_malloc_array((size_t)k->maxT * B, sizeof(int));
        if (!k->src[w] || !k->slen[w] || !k->tin[w] || !k->tout[w])
            rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
    }
    return rc;
}

/* The trainer's progress -> the translator's two public forms: three numbers once per epoch
 * (nlprnn_translator_train), or the record (nlprnn_translator_train_ctl). */
typedef struct tr_epoch_cb {
    nlprnn_translator_progress_fn fn;
    void *user;
} tr_epoch_cb;

static int tr_on_epoch(void *user, const nr_train_progress *pr) {
    tr_epoch_cb *c = user;
    if (pr->phase != NR_TP_EPOCH || !c->fn) return 0;
    return c->fn(c->user, pr->epoch, pr->loss, pr->valid.has ? pr->valid.loss : NAN);
}

typedef struct tr_record_cb {
    nlprnn_translator_progress_cb fn;
    void *user;
} tr_record_cb;

static int tr_on_record(void *user, const nr_train_progress *q) {
    tr_record_cb *c = user;
    if (!c->fn) return 0;
    nlprnn_translator_progress pr;
    NR_PROGRESS_FILL_COMMON(pr, q);
    pr.tokens_per_sec = q->tokens_per_sec;
    int stop = c->fn(c->user, &pr);
    return q->phase == NR_TP_MESSAGE ? 0 : stop;
}

/* Train one tokenizer of vocab pieces on n texts (*out). */
static int train_tokenizer(int vocab, const char *const *texts, size_t n, nlprnn_tokenizer **out, nlprnn_error *err) {
    nlprnn_tokenizer_params *o = NULL;
    int rc = nlprnn_tokenizer_params_create(&o, err);
    char vs[32];
    snprintf(vs, sizeof vs, "%d", vocab);
    if (!rc) rc = nlprnn_tokenizer_params_set(o, "vocab-size", vs, err);
    if (!rc) rc = nlprnn_tokenizer_train_texts(o, texts, NULL, n, out, err);
    if (rc) nr_fail_prefix(err, rc, NR_KEEP, NR_KEEP, "translate: training the tokenizer: ");
    nlprnn_tokenizer_params_free(o);
    return rc;
}

/* Load a given tokenizer file (parameter `name`). */
static int load_tokenizer(const char *name, const char *path, nlprnn_tokenizer **out, nlprnn_error *err) {
    int rc = nlprnn_tokenizer_load(path, out, err);
    if (rc) nr_fail_prefix(err, rc, NR_KEEP, NR_KEEP, "translate: %s: ", name);
    return rc;
}

/* The tokenizer(s): the given files (src-tokenizer, tgt-tokenizer), else trained on the pairs'
 * texts with the defaults of nlprnn_tokenizer_params and vocab-size = src-vocab / tgt-vocab, as
 * `nlprnn tokenizer-train --vocab-size N` trains on the column's lines (one tokenizer on both
 * sides' texts, source then target of each pair, with joint=1). */
static int get_tokenizers(nlprnn_translator *t, const nr_tr_pairs *d, nlprnn_error *err) {
    const struct nlprnn_translator_params *p = &t->p;
    if (p->joint && p->tgt_tokenizer[0])
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "translate: tgt-tokenizer is not used with joint=1 (src-tokenizer gives the joint tokenizer)");
    if (p->src_tokenizer[0]) {
        int rc = load_tokenizer("src-tokenizer", p->src_tokenizer, &t->tsrc, err);
        if (rc) return rc;
    } else if (p->joint) {
        const char **texts = nr_malloc_array(2 * d->n + 1, sizeof *texts);
        if (!texts) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
        for (size_t i = 0; i < d->n; i++) texts[2 * i] = d->stext[i], texts[2 * i + 1] = d->ttext[i];
        int rc = train_tokenizer(p->src_vocab, texts, 2 * d->n, &t->tsrc, err);
        free(texts);
        if (rc) return rc;
    } else {
        int rc = train_tokenizer(p->src_vocab, (const char *const *)d->stext, d->n, &t->tsrc, err);
        if (rc) return rc;
    }
    if (p->joint) {
        t->ttgt = t->tsrc;
        return NLPRNN_OK;
    }
    if (p->tgt_tokenizer[0]) return load_tokenizer("tgt-tokenizer", p->tgt_tokenizer, &t->ttgt, err);
    return train_tokenizer(p->tgt_vocab, (const char *const *)d->ttext, d->n, &t->ttgt, err);
}

/* ---- initialisation from language models (src-lm, tgt-lm) ------------------------------------
 * A language model of tasks/lm (nlprnn lm-train: embedding (V,E) -> one LSTM/GRU layer of H
 * units -> dense (V)) trained with the translator's tokenizer of that side gives:
 *   src-lm:  emb_src <- the forward network's table; the encoder's layer 0, forward direction
 *            (W_ih, W_hh, b_ih, b_hh) <- the forward network's layer; reverse direction (when
 *            bidirectional) <- the backward network's layer (it reads the ids right to left, as
 *            the reverse direction does). Needs E = embed, H = the encoder's units per direction
 *            (hidden/2 when bidirectional). The encoder's other layers keep their initialisation.
 *   tgt-lm:  emb_tgt <- the forward network's table; the decoder's W_hh, b_ih, b_hh <- its layer's,
 *            and the first E columns of the decoder's W_ih (G*H, E+H) (those that multiply the
 *            embedding in x_t = [emb ; a_{t-1}]) <- its W_ih (G*H, E); the columns of a_{t-1}
 *            keep their initialisation. The output layer W_o, b_o <- the dense head (its W is
 *            the table when the LM is tied; with tied=1 here W_o is emb_tgt already, so b_o
 *            alone). Needs E = embed, H = hidden.
 * Row <pad> of the embeddings stays 0. Every other copied value is the LM's float bit for bit. The
 * bridge, the attention and W_c keep their initialisation. A mismatch (tokenizer, cell, GRU
 * variant, sizes, layers, a missing direction) is refused with NLPRNN_E_INVALID_ARG naming the
 * parameter, the file and what differs. The weights are read with nlprnn_lm_load and nlprnn_lm_weights
 * (the public API: a task does not include another task). */

/* rows x cols floats from src (row stride ss) to dst (row stride ds). */
static void copy_block(float *dst, size_t ds, const float *src, size_t ss, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) memcpy(dst + r * ds, src + r * ss, cols * sizeof *dst);
}

/* The embedding table (V,E) from src (V,E) but its <pad> row. */
static void copy_table(const nr_embedding *dst, const float *src) {
    size_t E = (size_t)dst->dim;
    for (int v = 0; v < dst->vocab; v++)
        if (v != dst->padding_id) memcpy(dst->table + (size_t)v * E, src + (size_t)v * E, E * sizeof(float));
}

/* One network of a language model, read through the public API (include/nlprnn/lm.h: a task
 * does not include another task): its sizes (both networks have the forward one's) and weights.
 * The encoder block is laid out per layer W_ih (G*H,E), W_hh (G*H,H), b_ih (G*H), b_hh (G*H); a GRU
 * resets after the product. */
typedef struct lm_net_view {
    int V, E, H, L, cell;
    const float *emb, *enc, *out_w, *out_b;
} lm_net_view;

/* View network dir of lm and check it against what the side needs: one layer of want->hidden
 * units of want->cell over embeddings of want->input_size, vocab V. */
static int lm_net(const char *name, const char *path, const nlprnn_lm *lm, int dir, const nr_encoder_cfg *want, int V,
                  lm_net_view *v, nlprnn_error *err) {
    const char *dn = dir == NLPRNN_LM_FORWARD ? "forward" : "backward";
    const char *cell = NULL;
    nlprnn_lm_dims(lm, &v->V, &v->E, &v->H, &v->L, &cell);
    v->cell = cell && !strcmp(cell, "lstm") ? NR_CELL_LSTM : cell && !strcmp(cell, "gru") ? NR_CELL_GRU : NR_CELL_RNN;
    if (dir == NLPRNN_LM_BACKWARD && !nlprnn_lm_has_backward(lm))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "translate: %s %s: the language model has no backward network (lm-train --directions both; "
                       "the encoder's reverse direction takes it)",
                       name, path);
    int rc = nlprnn_lm_weights(lm, dir, &v->emb, &v->enc, NULL, &v->out_w, &v->out_b, err);
    if (rc) {
        nr_fail_prefix(err, rc, NR_KEEP, NR_KEEP, "translate: %s %s: ", name, path);
        return rc;
    }
    const char *what = NULL;
    long long have = 0, need = 0;
    if (v->cell != want->cell)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: %s %s: the language model's cell is %s, the translator's %s",
                       name, path, nr_cell_name(v->cell), nr_cell_name(want->cell));
    if (v->cell == NR_CELL_GRU && !want->gru_reset_after)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "translate: %s %s: the language model's GRU resets after the product, the translator's before",
                       name, path);
    if (v->L != 1) what = "layers", have = v->L, need = 1;
    else if (v->E != want->input_size) what = "embedding size", have = v->E, need = want->input_size;
    else if (v->H != want->hidden) what = "hidden units", have = v->H, need = want->hidden;
    else if (v->V != V) what = "vocabulary size", have = v->V, need = V;
    if (what)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "translate: %s %s: the language model's %s network has %s %lld, the translator needs %lld%s", name,
                       path, dn, what, have, need,
                       !strcmp(what, "hidden units") && !strcmp(name, "src-lm")
                           ? " (the encoder's units per direction: hidden/2 when bidirectional)"
                           : "");
    return NLPRNN_OK;
}

/* Load the language model of parameter `name` (path) and check its tokenizer against tok. */
static int lm_open(const char *name, const char *path, const nlprnn_tokenizer *tok, const char *side, nlprnn_lm **lm,
                   nlprnn_error *err) {
    int rc = nlprnn_lm_load(path, lm, err);
    if (rc) {
        nr_fail_prefix(err, rc, NR_KEEP, NR_KEEP, "translate: %s: ", name);
        return rc;
    }
    const nlprnn_tokenizer *lt = nlprnn_lm_tokenizer(*lm);
    int same = nr_tokenizer_same(lt, tok);
    if (same < 0) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
    if (!same)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "translate: %s %s: the language model's tokenizer (%d pieces) is not the translator's %s "
                       "tokenizer (%d pieces): train the language model with it (the same tokenizer-train settings, "
                       "or give the file with %s-tokenizer)",
                       name, path, nlprnn_tokenizer_vocab_size(lt), side, nlprnn_tokenizer_vocab_size(tok), side);
    return NLPRNN_OK;
}

/* Layer 0 of a language model's encoder block (one direction) into slot a of enc. */
static void copy_layer0(nr_encoder *enc, const nr_rnn_slot *a, const float *src, size_t G, size_t H, size_t E) {
    size_t GH = G * H;
    memcpy(enc->params + a->w_ih, src, GH * E * sizeof(float));
    memcpy(enc->params + a->w_hh, src + GH * E, GH * H * sizeof(float));
    memcpy(enc->params + a->b_ih, src + GH * (E + H), GH * sizeof(float));
    memcpy(enc->params + a->b_hh, src + GH * (E + H + 1), GH * sizeof(float));
}

static int init_from_src_lm(nlprnn_translator *t, nlprnn_error *err) {
    const char *path = t->p.src_lm;
    nr_s2s *n = &t->net;
    nlprnn_lm *lm = NULL;
    lm_net_view v[2];
    int rc = lm_open("src-lm", path, t->tsrc, "src", &lm, err);
    for (int d = 0; !rc && d < n->enc.dirs; d++) rc = lm_net("src-lm", path, lm, d, &n->enc.cfg, t->cfg.Vs, &v[d], err);
    if (!rc) {
        copy_table(&n->src, v[NLPRNN_LM_FORWARD].emb);
        size_t G = (size_t)n->enc.gates, H = (size_t)n->enc.cfg.hidden, E = (size_t)n->E;
        for (int d = 0; d < n->enc.dirs; d++) copy_layer0(&n->enc, &n->enc.slot[0][d], v[d].enc, G, H, E);
    }
    nlprnn_lm_free(lm);
    return rc;
}

static int init_from_tgt_lm(nlprnn_translator *t, nlprnn_error *err) {
    const char *path = t->p.tgt_lm;
    nr_s2s *n = &t->net;
    nlprnn_lm *lm = NULL;
    nr_encoder_cfg want = n->enc.cfg; /* the decoder's cell is the encoder's */
    want.input_size = n->E, want.hidden = n->H;
    lm_net_view v;
    int rc = lm_open("tgt-lm", path, t->ttgt, "tgt", &lm, err);
    if (!rc) rc = lm_net("tgt-lm", path, lm, NLPRNN_LM_FORWARD, &want, t->cfg.Vt, &v, err);
    if (!rc) {
        size_t G = (size_t)n->G, H = (size_t)n->H, E = (size_t)n->E, X = (size_t)n->X, V = (size_t)t->cfg.Vt;
        size_t GH = G * H;
        copy_table(&n->tgt, v.emb);
        copy_block(n->params + n->o_wih, X, v.enc, E, GH, E);
        memcpy(n->params + n->o_whh, v.enc + GH * E, GH * H * sizeof(float));
        memcpy(n->params + n->o_bih, v.enc + GH * (E + H), GH * sizeof(float));
        memcpy(n->params + n->o_bhh, v.enc + GH * (E + H + 1), GH * sizeof(float));
        if (!t->cfg.tied) memcpy(n->params + n->o_wo, v.out_w, V * H * sizeof(float));
        memcpy(n->params + n->o_bo, v.out_b, V * sizeof(float));
    }
    nlprnn_lm_free(lm);
    return rc;
}

int nr_translator_init_from_lms(nlprnn_translator *t, nlprnn_error *err) {
    int rc = t->p.src_lm[0] ? init_from_src_lm(t, err) : NLPRNN_OK;
    if (!rc && t->p.tgt_lm[0]) rc = init_from_tgt_lm(t, err);
    return rc;
}

static int translator_train(const char *path, const nlprnn_translator_params *p, const nlprnn_train_ctl *ctl,
                            nr_train_progress_fn progress, void *user, nlprnn_translator **out, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: out is NULL");
    *out = NULL;
    if (!path || !p) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: no training file or parameters");
    int resume = ctl && ctl->resume;
    if (resume && !p->checkpoint[0])
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: resume needs the checkpoint parameter");
    if (p->tied && p->embed != p->hidden)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: tied=1 needs embed = hidden (%d != %d)",
                       p->embed, p->hidden);
    nlprnn_translator *t = calloc(1, sizeof *t);
    if (!t) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
    t->p = *p;
    t->valid_loss = NAN;
    t->deco = (nr_tr_deco){p->word_reward, p->min_ratio, -1, p->min_from};
    nr_tr_pairs d;
    memset(&d, 0, sizeof d);
    tr_task k;
    memset(&k, 0, sizeof k);
    nr_train_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    nr_train_message(progress, user, p->epochs, "reading the pairs");
    int rc = nr_tr_read_tsv(&d, path, p->src_col, p->tgt_col, err);
    if (!rc) nr_train_message(progress, user, p->epochs, "preparing the tokenizers");
    if (!rc) rc = get_tokenizers(t, &d, err);
    if (!rc) nr_train_message(progress, user, p->epochs, "tokenizing");
    if (!rc) rc = nr_tr_encode(&d, t->tsrc, t->ttgt, p->max_len, p->bpe_dropout > 0, err);
    if (!rc) rc = tr_setup(&k, t, &d, ctl ? ctl->comm : NULL, err);
    if (!rc) rc = nr_translator_init_from_lms(t, err);
    if (!rc) rc = nr_train_cfg_std(&cfg, "translator", &TABLE, p, ctl, err);
    if (!rc) {
        nr_task task = {
            .self = &k,
            .name = "translator",
            .params = t->params,
            .n_params = t->net.n_params,
            .sparse_skip = -1,
            .begin_epoch = tr_begin_epoch,
            .prepare = tr_prepare,
            .step = tr_step,
            .validate = tr_validate,
            .save = tr_save,
            .load = tr_load,
            .epoch_done = tr_epoch_done,
            .flags = NR_TASK_LOCAL_MEAN,
        };
        cfg.workers = k.W;
        cfg.progress = progress;
        cfg.user = user;
        nr_train_result res;
        rc = nr_train(&cfg, &task, &res, err);
        if (!rc) {
            t->best_epoch = res.best_epoch;
            t->epochs_run = res.epochs_run;
            if (k.n_valid) {
                nr_valid v;
                if (tr_validate(&k, &v, NULL) == 0) t->valid_loss = v.loss;
            }
            nr_translator_summarize(t);
        }
    }
    nr_train_cfg_done(&cfg);
    tr_task_free(&k);
    nr_tr_pairs_free(&d);
    if (rc) {
        nlprnn_translator_free(t);
        return rc;
    }
    *out = t;
    return NLPRNN_OK;
}

int nlprnn_translator_train(const char *path, const nlprnn_translator_params *p, const nlprnn_train_ctl *ctl,
                            nlprnn_translator_progress_fn progress, void *user, nlprnn_translator **out,
                            nlprnn_error *err) {
    tr_epoch_cb c = {progress, user};
    return translator_train(path, p, ctl, tr_on_epoch, &c, out, err);
}

int nlprnn_translator_train_ctl(const char *path, const nlprnn_translator_params *p, const nlprnn_train_ctl *ctl,
                                nlprnn_translator_progress_cb progress, void *user, nlprnn_translator **out,
                                nlprnn_error *err) {
    tr_record_cb c = {progress, user};
    return translator_train(path, p, ctl, tr_on_record, &c, out, err);
}

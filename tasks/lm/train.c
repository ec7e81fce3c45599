/* tasks/lm/train.c: training: parameters, the corpus, the loop of one direction,
 * nlprnn_lm_train(_ctl).
 *
 * Language-model loss (one direction), for a sentence s = <bos> x_1 .. x_n <eos>:
 *     h_t = encoder(emb(s_0..s_t))           (T,B,H)
 *     z_t = W h_t + b                        (V)      W = table when tied
 *     L   = - mean over real positions of log softmax(z_t)[s_{t+1}]
 * Training batches are sentences of similar length, padded and masked (lengths per row), each
 * starting from a zero state, exactly as they are scored later.
 */
#include "tasks/lm/lm.h"

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
#include "train/dist.h"

/* ================================================================================================
 * training
 * ============================================================================================== */

struct nlprnn_lm_params {
    char tokenizer[1024];
    char init[1024]; /* warm start: a LANG model file (or shipped name) to continue training */
    int cell, layers, embed, hidden, tied, dirs; /* dirs: bit 0 forward, bit 1 backward */
    int sampled, samples, batch, max_len, optimizer, threads, epochs, storage, parallel;
    double lr, clip, dropout, time_limit;
    long long max_lines, valid_lines;
    unsigned long long seed;
};

nlprnn_lm_params *nlprnn_lm_params_new(void) {
    nlprnn_lm_params *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->cell = NR_CELL_LSTM;
    p->layers = 1;
    p->embed = 256;
    p->hidden = 256;
    p->tied = 1;
    p->dirs = 3;
    p->sampled = 1;
    p->samples = 1024;
    p->batch = 64;
    p->max_len = 64;
    p->optimizer = NR_OPT_ADAM;
    p->threads = 1;
    p->epochs = 1;
    p->storage = NR_DTYPE_F16;
    p->lr = 0.003;
    p->clip = 1.0;
    p->valid_lines = 2000;
    p->seed = 1;
    p->parallel = 0;
    return p;
}

void nlprnn_lm_params_free(nlprnn_lm_params *p) { free(p); }

static int parse_ll(const char *v, long long lo, long long hi, long long *out) {
    char *e;
    long long x = strtoll(v, &e, 10);
    if (!*v || *e || x < lo || x > hi) return -1;
    *out = x;
    return 0;
}

static int parse_d(const char *v, double lo, double hi, double *out) {
    char *e;
    double x = strtod(v, &e);
    if (!*v || *e || !(x >= lo && x <= hi)) return -1;
    *out = x;
    return 0;
}

int nlprnn_lm_params_set(nlprnn_lm_params *p, const char *name, const char *value, nlprnn_error *err) {
    if (!p || !name || !value) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "lm params set: NULL argument");
    long long i = 0;
    double d = 0;
    int bad = 0;
#define INT_P(key, field, lo, hi)                                 \
    else if (!strcmp(name, key)) {                                \
        bad = parse_ll(value, lo, hi, &i);                        \
        if (!bad) p->field = (int)i;                              \
    }
#define DBL_P(key, field, lo, hi)                                 \
    else if (!strcmp(name, key)) {                                \
        bad = parse_d(value, lo, hi, &d);                         \
        if (!bad) p->field = d;                                   \
    }
    if (!strcmp(name, "tokenizer")) {
        if (strlen(value) >= sizeof p->tokenizer) bad = 1;
        else snprintf(p->tokenizer, sizeof p->tokenizer, "%s", value);
    } else if (!strcmp(name, "init")) {
        if (strlen(value) >= sizeof p->init) bad = 1;
        else snprintf(p->init, sizeof p->init, "%s", value);
    } else if (!strcmp(name, "cell")) {
        int c = nr_cell_from_name(value);
        bad = c != NR_CELL_LSTM && c != NR_CELL_GRU;
        if (!bad) p->cell = c;
    } else if (!strcmp(name, "directions")) {
        if (!strcmp(value, "forward")) p->dirs = 1;
        else if (!strcmp(value, "backward")) p->dirs = 2;
        else if (!strcmp(value, "both")) p->dirs = 3;
        else bad = 1;
    } else if (!strcmp(name, "softmax")) {
        if (!strcmp(value, "full")) p->sampled = 0;
        else if (!strcmp(value, "sampled")) p->sampled = 1;
        else bad = 1;
    } else if (!strcmp(name, "optimizer")) {
        if (!strcmp(value, "sgd")) p->optimizer = NR_OPT_SGD;
        else if (!strcmp(value, "adam")) p->optimizer = NR_OPT_ADAM;
        else if (!strcmp(value, "adamw")) p->optimizer = NR_OPT_ADAMW;
        else bad = 1;
    } else if (!strcmp(name, "storage")) {
        if (!strcmp(value, "f32")) p->storage = NR_DTYPE_F32;
        else if (!strcmp(value, "f16")) p->storage = NR_DTYPE_F16;
        else if (!strcmp(value, "int8")) p->storage = NR_DTYPE_I8;
        else bad = 1;
    } else if (!strcmp(name, "seed")) {
        bad = parse_ll(value, 0, LLONG_MAX, &i);
        if (!bad) p->seed = (unsigned long long)i;
    } else if (!strcmp(name, "max-lines")) {
        bad = parse_ll(value, 0, LLONG_MAX, &i);
        if (!bad) p->max_lines = i;
    } else if (!strcmp(name, "valid-lines")) {
        bad = parse_ll(value, 0, LLONG_MAX, &i);
        if (!bad) p->valid_lines = i;
    }
    INT_P("layers", layers, 1, NR_ENCODER_MAX_LAYERS)
    INT_P("embed", embed, 1, NR_MAX_EMBED)
    INT_P("hidden", hidden, 1, NR_MAX_HIDDEN)
    INT_P("tied", tied, 0, 1)
    INT_P("samples", samples, 1, 1 << 20)
    INT_P("batch", batch, 1, 4096)
    INT_P("max-len", max_len, 1, 4096)
    INT_P("threads", threads, 1, NR_MAX_THREADS)
    INT_P("parallel", parallel, 0, 1)
    INT_P("epochs", epochs, 1, 100000)
    DBL_P("lr", lr, 1e-9, 100)
    DBL_P("clip", clip, 0, 1e9)
    DBL_P("dropout", dropout, 0, 0.99)
    DBL_P("time-limit", time_limit, 0, 1e9)
    else return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "unknown language-model training parameter '%s'", name);
#undef INT_P
#undef DBL_P
    if (bad)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "bad value '%s' for training parameter '%s'", value, name);
    return NLPRNN_OK;
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
static int load_corpus(const nlprnn_tokenizer *tok, const char *path, long long max_lines, const nr_dist *D,
                       corpus *c, nlprnn_error *err) {
    memset(c, 0, sizeof *c);
    int V = nlprnn_tokenizer_vocab_size(tok);
    nr_line_reader *rd = NULL;
    int rc = nr_line_reader_open(&rd, path, NULL, err);
    if (rc) return rc;
    nlprnn_encoding *enc = nlprnn_encoding_create();
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
        rc = nr_dist_agree(D, rc, err);
        if (!rc) rc = nr_dist_sum_i64(D, count, (size_t)V, err);
        if (!rc) rc = nr_dist_sum_i64(D, &c->chars, 1, err);
        if (!rc) rc = nr_dist_sum_i64(D, &nall, 1, err);
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

/* Train one direction; the result (tokenizer order) goes into *result. start: the network to
 * continue from (tokenizer order, same configuration), or NULL for a fresh seeded start. */
/* Over MPI (D->size > 1): every rank batches its own lines (batch = p->batch per rank), all ranks
 * take the same number of steps per epoch (the largest rank's; a rank with fewer batches starts
 * its own over), the gradient is the mean over every rank's targets (each rank's mean weighted by
 * its share, summed with MPI_Allreduce), and stopping (signal, time limit) is agreed each step. */
static int train_direction(const nlprnn_lm_params *p, const corpus *cp, int dir, const nr_lm_net *start,
                           const nr_dist *D, nr_lm_net *result, double *seconds, long long *steps_done,
                           double *final_loss, const volatile int *stop, nlprnn_lm_progress_fn progress,
                           void *user, nlprnn_error *err) {
    nr_lm_cfg cfg = result->cfg;
    int V = cfg.vocab, B = p->batch, Tm = p->max_len;
    nr_lm_net net;
    int rc = nr_lm_net_create(&net, &cfg, cp->tok2m[NLPRNN_ID_PAD], err);
    if (rc) return rc;
    nr_rng rng;
    nr_rng_seed(&rng, p->seed * 2 + (uint64_t)dir);
    rc = nr_lm_net_init(&net, &rng, err);
    /* output bias = log unigram frequency (add-0.5 smoothed): the untrained model is the unigram
     * model, and rare pieces, which the sampled softmax seldom draws as negatives, start (and
     * stay) properly unlikely instead of at logit 0 */
    for (int r = 0; r < V && !rc; r++)
        net.out.b[r] = (float)log(((double)cp->count[r] + 0.5) / ((double)cp->total + 0.5 * V));
    if (!rc && start) permute_rows(&net, start, cp->m2tok, 0); /* warm start: replaces the init */
    if (!rc) rc = nr_dist_bcast_f32(D, net.params, net.n_params, err); /* rank 0's, everywhere */
    nr_rng noise, *nz = &rng; /* dropout and sampled negatives: each rank its own over MPI */
    nr_rng_seed(&noise, (p->seed * 2 + (uint64_t)dir) ^ (0x9E3779B97F4A7C15ull * (uint64_t)(D->rank + 1)));
    if (D->size > 1) nz = &noise;
    float *grad = nr_calloc_array(net.n_params, sizeof(float));
    size_t TB = (size_t)Tm * B;
    int *in = nr_malloc_array(TB, sizeof(int)), *tgt = nr_malloc_array(TB, sizeof(int));
    int *lens = nr_malloc_array((size_t)B, sizeof(int));
    float *x = nr_malloc_array(TB * cfg.embed, sizeof(float));
    float *dx = nr_malloc_array(TB * cfg.embed, sizeof(float));
    float *h = nr_malloc_array(TB * cfg.hidden, sizeof(float));
    float *dh = nr_malloc_array(TB * cfg.hidden, sizeof(float));
    float *logits = p->sampled ? NULL : nr_malloc_array(TB * (size_t)V, sizeof(float));
    len_idx *order = nr_malloc_array(cp->n, sizeof(len_idx));
    size_t nbatches = (cp->n + B - 1) / B;
    size_t *batches = nr_malloc_array(nbatches, sizeof(size_t));
    long long nsteps = (long long)nbatches; /* per epoch: the same on every rank */
    if (!rc) rc = nr_dist_max_i64(D, &nsteps, err);
    nr_encoder_ws *ws = NULL;
    nr_sampled_softmax *ss = NULL;
    nr_optim opt;
    memset(&opt, 0, sizeof opt);
    if (!rc && (!grad || !in || !tgt || !lens || !x || !dx || !h || !dh || (!p->sampled && !logits) ||
                !order || !batches))
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory (training buffers)");
    if (!rc) {
        ws = nr_encoder_ws_create(&net.enc, Tm, B, 1, p->threads, err);
        if (!ws) rc = err && err->code ? err->code : NLPRNN_E_NOMEM;
    }
    if (!rc && p->sampled) {
        int S = p->samples < V ? p->samples : V - 1;
        ss = nr_sampled_softmax_create((int)TB, S, cfg.hidden, V, err);
        if (!ss) rc = err && err->code ? err->code : NLPRNN_E_NOMEM;
    }
    if (!rc) {
        nr_optim_cfg oc;
        nr_optim_cfg_default(&oc, p->optimizer);
        oc.lr = (float)p->lr;
        rc = nr_optim_init(&opt, &oc, net.n_params, err);
    }
    double t0 = nr_now_sec(), loss_sum = 0;
    long long loss_n = 0, step = 0, pieces = 0;
    long long total_steps = nsteps * p->epochs;
    int want_stop = 0;
    int stopped = 0;
    for (int ep = 0; ep < p->epochs && !rc && !stopped; ep++) {
        /* batches: shuffle, then sort by length inside windows of 100 batches, then shuffle the
         * batch order (similar lengths share a batch; little padding) */
        for (size_t i = 0; i < cp->n; i++) {
            order[i].idx = (int)i;
            order[i].len = (int)(cp->start[i + 1] - cp->start[i]);
        }
        nr_rng_shuffle(&rng, order, cp->n, sizeof(len_idx));
        size_t win = (size_t)B * 100;
        for (size_t i = 0; i < cp->n; i += win)
            qsort(order + i, cp->n - i < win ? cp->n - i : win, sizeof(len_idx), cmp_len_idx);
        for (size_t i = 0; i < nbatches; i++) batches[i] = i * (size_t)B;
        nr_rng_shuffle(&rng, batches, nbatches, sizeof(size_t));
        for (size_t bi = 0; bi < (size_t)nsteps && !rc; bi++) {
            size_t first = batches[bi % nbatches];
            int nb = (int)(cp->n - first < (size_t)B ? cp->n - first : (size_t)B);
            int T = 1;
            for (int b = 0; b < nb; b++) {
                int L = order[first + b].len - 1; /* input positions */
                lens[b] = L > Tm ? Tm : L;
                if (lens[b] > T) T = lens[b];
            }
            for (int b = 0; b < nb; b++) {
                const int32_t *s = cp->ids + cp->start[order[first + b].idx];
                int n = order[first + b].len; /* <bos> ... <eos> */
                for (int t = 0; t < T; t++) {
                    size_t k = (size_t)t * nb + b;
                    if (t < lens[b]) {
                        /* backward: <bos> x_n .. x_1 <eos>: position t of the reversed sentence */
                        int a = dir ? (t == 0 ? 0 : n - 1 - t) : t;
                        int tt = dir ? (t + 1 == n - 1 ? n - 1 : n - 2 - t) : t + 1;
                        in[k] = s[a];
                        tgt[k] = s[tt];
                    } else {
                        in[k] = cp->tok2m[NLPRNN_ID_PAD];
                        tgt[k] = -1;
                    }
                }
            }
            int N = T * nb, cnt = 0;
            double loss;
            rc = nr_embedding_forward(&net.emb, x, in, (size_t)N, err);
            if (!rc)
                rc = nr_encoder_forward(&net.enc, ws, h, NULL, NULL, x, lens, NULL, NULL, T, nb,
                                        p->dropout > 0 ? nz : NULL, err);
            if (rc) break;
            memset(dh, 0, (size_t)N * cfg.hidden * sizeof(float));
            if (p->sampled) {
                loss = nr_sampled_softmax_xent(ss, &net.out, grad + net.out_off, dh, h, tgt, N, nz, &cnt);
            } else {
                nr_dense_forward(&net.out, logits, h, N);
                loss = nr_softmax_xent(logits, logits, tgt, N, V, &cnt);
                nr_dense_backward(&net.out, grad + net.out_off, dh, logits, h, N);
            }
            double el = nr_now_sec() - t0;
            int cnt_here = cnt;
            if (D->size > 1) { /* targets, loss, stop requests and rank 0's clock, over all ranks */
                double v[4] = {cnt, loss * cnt, (stop && *stop) || want_stop, D->rank ? 0 : el};
                rc = nr_dist_sum_f64(D, v, 4, err);
                if (rc) break;
                cnt = (int)v[0];
                loss = v[0] > 0 ? v[1] / v[0] : 0;
                want_stop = v[2] > 0;
                el = v[3];
            }
            if (!isfinite(loss)) {
                rc = nr_fail(err, NLPRNN_E_NUMERIC, -1, -1, "training diverged at step %lld (loss %g)", step, loss);
                break;
            }
            memset(dx, 0, (size_t)N * cfg.embed * sizeof(float));
            rc = nr_encoder_backward(&net.enc, ws, grad + net.enc_off, dx, NULL, NULL, dh, NULL, NULL, err);
            if (rc) break;
            nr_embedding_backward(&net.emb, grad, dx, in, (size_t)N);
            /* over MPI: this rank's mean weighted by its share of the targets, summed */
            if (D->size > 1)
                rc = nr_dist_sum_grad(D, grad, net.n_params, cnt ? (float)cnt_here / (float)cnt : 0.0f, err);
            if (rc) break;
            if (p->clip > 0) nr_clip_grad_norm(grad, net.n_params, p->clip);
            /* learning rate: linear decay to lr/10 over the steps or the time budget */
            double frac = (double)step / (double)(total_steps > 0 ? total_steps : 1);
            if (p->time_limit > 0 && el / p->time_limit > frac) frac = el / p->time_limit;
            if (frac > 1) frac = 1;
            nr_optim_step(&opt, net.params, grad, (float)(p->lr * (1.0 - 0.9 * frac)));
            memset(grad, 0, net.n_params * sizeof(float));
            step++;
            if (D->size > 1 && step % NR_DIST_LM_CHECK_EVERY == 0) {
                rc = nr_dist_check_same(D, net.params, net.n_params, "the language model's weights", step, err);
                if (rc) break;
            }
            pieces += cnt;
            loss_sum += loss * cnt;
            loss_n += cnt;
            if (progress && (step % 50 == 0)) {
                nlprnn_lm_progress pr;
                memset(&pr, 0, sizeof pr);
                pr.size = sizeof pr;
                pr.phase = 1;
                pr.direction = dir;
                pr.epoch = ep + 1;
                pr.step = step;
                pr.loss = loss_sum / (double)(loss_n ? loss_n : 1);
                pr.elapsed = el;
                pr.tokens_per_sec = (double)pieces / (el > 0 ? el : 1e-9);
                pr.valid_ppl = NAN;
                if (progress(user, &pr)) {
                    if (D->size > 1) want_stop = 1; /* agreed on at the next step */
                    else stopped = 1;
                }
                loss_sum = 0;
                loss_n = 0;
            }
            if (D->size > 1) { /* the agreed flags and rank 0's clock (el) decide */
                if (want_stop || (p->time_limit > 0 && el >= p->time_limit)) {
                    stopped = want_stop ? 2 : 1;
                    break;
                }
            } else if ((stop && *stop) || (p->time_limit > 0 && nr_now_sec() - t0 >= p->time_limit)) {
                stopped = (stop && *stop) ? 2 : 1;
                break;
            }
            if (stopped) break;
        }
    }
    if (!rc && D->size > 1)
        rc = nr_dist_check_same(D, net.params, net.n_params, "the language model's weights", step, err);
    *seconds = nr_now_sec() - t0;
    *steps_done = step;
    *final_loss = loss_n ? loss_sum / (double)loss_n : NAN;
    if (!rc) permute_rows(result, &net, cp->m2tok, 1);
    nr_optim_free(&opt);
    nr_sampled_softmax_free(ss);
    nr_encoder_ws_free(ws);
    nr_lm_net_free(&net);
    free(grad);
    free(in);
    free(tgt);
    free(lens);
    free(x);
    free(dx);
    free(h);
    free(dh);
    free(logits);
    free(order);
    free(batches);
    if (!rc && stopped == 2) return NLPRNN_E_INTERRUPTED;
    return rc;
}

/* One direction's training as a job for nr_parallel_run (worker i trains direction i). */
typedef struct dir_job {
    const nlprnn_lm_params *p;
    const corpus *cp;
    int dir, active, rc;
    const nr_lm_net *start; /* warm start or NULL */
    const nr_dist *D;       /* MPI ranks (size 1 without) */
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
    j->rc = train_direction(j->p, j->cp, j->dir, j->start, j->D, j->net, &j->seconds, &j->steps, &j->loss,
                            j->stop, j->progress, j->user, &j->err);
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
    if (ctl && ctl->resume)
        return nr_fail(err, NLPRNN_E_UNSUPPORTED, -1, -1, "language-model training does not resume yet");
    if (!p || !train_path || !out_path) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "lm train: NULL argument");
    if (!p->tokenizer[0] && !p->init[0])
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "no tokenizer given (parameter 'tokenizer')");
    /* An interrupted run never replaces the output (a finished model may be there): what it
     * trained goes to OUTPUT.partial, named in the message. Both paths are checked first. */
    char partial[1100];
    if (snprintf(partial, sizeof partial, "%s.partial", out_path) >= (int)sizeof partial)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "output path too long: %s", out_path);
    {
        /* --init may be a shipped model's name rather than a file here */
        const char *init_file = p->init[0] && access(p->init, F_OK) == 0 ? p->init : NULL;
        const char *for_out[] = {train_path, valid_path, p->tokenizer, init_file, partial};
        const char *for_partial[] = {train_path, valid_path, p->tokenizer, init_file, out_path};
        int rc = nr_output_check(out_path, for_out, 5, err);
        if (!rc) rc = nr_output_check(partial, for_partial, 5, err);
        if (rc) return rc;
    }
    nlprnn_tokenizer *tok = NULL;
    nlprnn_lm *init = NULL;
    nr_lm_cfg cfg = {p->cell, p->layers, p->embed, p->hidden, 0, p->tied};
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
    if (cfg.tied && cfg.embed != cfg.hidden) {
        nlprnn_tokenizer_free(tok);
        nlprnn_lm_free(init);
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tied embeddings need embed == hidden (got %d and %d)",
                       cfg.embed, cfg.hidden);
    }
    say(progress, user, "reading and encoding the training text");
    nr_dist D; /* over MPI: this rank's lines only; rank 0 alone scores and saves */
    nr_comm_copy(&D, ctl ? ctl->comm : NULL);
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
    for (int d = 0; d < 2 && !rc; d++) {
        if (!(p->dirs & (1 << d))) continue;
        rc = nr_lm_net_create(&nets[d], &cfg, NLPRNN_ID_PAD, err);
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
    if (!rc && p->parallel && p->dirs == 3 && D.size == 1) { /* over MPI: one direction after the other */
        /* both directions at once, one thread each (they share only the read-only corpus) */
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
    long long lines = (long long)cp.n;
    if (!rc) rc = nr_dist_sum_i64(&D, &lines, 1, err);
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
    char extra[2560], init_text[1024] = "";
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
                 "train.seconds.forward=%.1f\ntrain.seconds.backward=%.1f\n"
                 "valid.ppl.forward=%.4f\nvalid.ppl.backward=%.4f\n%s%s%s%s",
                 lines, p->sampled ? "sampled" : "full", p->samples, p->batch, p->max_len, p->lr, p->seed,
                 steps[0], steps[1], secs[0], secs[1], vppl[0], vppl[1],
                 interrupted ? "train.interrupted=1\n" : "",
                 init_text[0] ? "train.init=" : "", init_text, init_text[0] ? "\n" : "");
        say(progress, user, interrupted ? "interrupted: saving what was trained" : "saving");
        if (D.rank == 0) rc = nr_lm_save(lm, interrupted ? partial : out_path, p->storage, extra, err);
    }
    rc = nr_dist_agree(&D, rc, err);
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
                       "%s) is saved to %s (continue with --init %s)",
                       out_path, what[0], what[1], partial, partial);
    }
    return rc;
}

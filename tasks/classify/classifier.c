/* tasks/classify/classifier.c: the text classifier — network, model files, inference, evaluation.
 * Training lives in tasks/classify/train.c.
 *
 *   ids (T,B) -> embedding (T,B,E) -> encoder (T,B,O) -> pool (B,P) -> dropout (training)
 *       -> dense (B,C) -> softmax          (P = O, or 3 O for concat pooling: classifier.h)
 */
#include "tasks/classify/classifier.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corpora/dataset.h"
#include "format/modelfile.h"
#include "models/gemv_f16.h" /* nr_f16_widen */

/* ---- names ------------------------------------------------------------------------------------ */

static const char *const pool_names[] = {"last", "mean", "max", "concat"};

const char *nr_pool_name(int pool) {
    return pool >= 0 && pool < 4 ? pool_names[pool] : NULL;
}

int nr_pool_from_name(const char *name) {
    for (int i = 0; i < 4; i++)
        if (name && !strcmp(name, pool_names[i])) return i;
    return -1;
}

/* ---- the network -------------------------------------------------------------------------------- */

int nr_clf_net_bind(nr_clf_net *net, const nr_clf_cfg *cfg, float *params, nlprnn_error *err) {
    memset(net, 0, sizeof *net);
    net->cfg = *cfg;
    if (cfg->vocab < NLPRNN_NUM_SPECIAL_IDS + 1 || cfg->vocab > NR_MAX_VOCAB || cfg->embed < 1 ||
        cfg->embed > NR_MAX_EMBED || cfg->hidden < 1 || cfg->hidden > NR_MAX_HIDDEN ||
        cfg->layers < 1 || cfg->layers > NR_ENCODER_MAX_LAYERS ||
        (cfg->bidirectional != 0 && cfg->bidirectional != 1) || cfg->classes < 2 ||
        cfg->classes > NR_MAX_LABELS || cfg->max_tokens < 1 ||
        cfg->max_tokens > NR_CLF_MAX_TOKENS || nr_pool_name(cfg->pool) == NULL ||
        !nr_cell_name(cfg->cell) ||
        !(cfg->dropout >= 0.0f && cfg->dropout < 1.0f))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "classifier: invalid configuration (vocab %d, embed %d, hidden %d, layers %d, "
                       "bidirectional %d, classes %d, max_tokens %d, pool %d, cell %d, dropout %g)",
                       cfg->vocab, cfg->embed, cfg->hidden, cfg->layers, cfg->bidirectional,
                       cfg->classes, cfg->max_tokens, cfg->pool, cfg->cell, (double)cfg->dropout);
    nr_encoder_cfg ecfg;
    nr_encoder_cfg_default(&ecfg, cfg->embed, cfg->hidden);
    ecfg.cell = cfg->cell;
    ecfg.layers = cfg->layers;
    ecfg.bidirectional = cfg->bidirectional;
    ecfg.merge = NR_MERGE_CONCAT;
    ecfg.dropout = cfg->layers > 1 ? cfg->dropout : 0.0f;
    net->n_emb = nr_embedding_param_count(cfg->vocab, cfg->embed);
    net->n_enc = nr_encoder_param_count(&ecfg);
    if (!net->n_enc)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "classifier: invalid encoder configuration");
    int O = cfg->hidden * (cfg->bidirectional ? 2 : 1);
    net->pooled = cfg->pool == NR_POOL_CONCAT ? 3 * O : O;
    net->n_head = nr_dense_param_count(net->pooled, cfg->classes);
    net->n_params = net->n_emb + net->n_enc + net->n_head;
    net->params = params;
    if (!params) {
        net->enc.out_size = O;
        return NLPRNN_OK;
    }
    int rc = nr_embedding_bind(&net->emb, cfg->vocab, cfg->embed, NLPRNN_ID_PAD, params, err);
    if (rc) return rc;
    rc = nr_encoder_bind(&net->enc, &ecfg, params + net->n_emb, err);
    if (rc) return rc;
    nr_dense_bind(&net->head, net->pooled, cfg->classes, params + net->n_emb + net->n_enc);
    return NLPRNN_OK;
}

/* Scratch for forward (and backward) passes of up to max_T x max_B. */
int nr_clf_scratch_reserve(nr_clf_scratch *s, const nr_clf_net *net, int T, int B, int training,
                           int threads, nlprnn_error *err) {
    if (s->ws && T <= s->max_T && B <= s->max_B) return NLPRNN_OK;
    int nT = T > s->max_T ? T : s->max_T, nB = B > s->max_B ? B : s->max_B;
    /* round T up to a power of two (at most max_tokens) so a few growths cover every length */
    int p2 = 8;
    while (p2 < nT) p2 *= 2;
    if (p2 > net->cfg.max_tokens && nT <= net->cfg.max_tokens) p2 = net->cfg.max_tokens;
    nT = p2 > nT ? p2 : nT;
    nr_clf_scratch_free(s);
    int E = net->cfg.embed, O = net->enc.out_size, P = net->pooled, C = net->cfg.classes;
    size_t TB = (size_t)nT * nB;
    s->ws = nr_encoder_ws_create(&net->enc, nT, nB, training, threads, err);
    if (!s->ws) return err && err->code ? err->code : NLPRNN_E_NOMEM;
    s->ids = nr_malloc_array(TB, sizeof(int));
    s->lengths = nr_malloc_array((size_t)nB, sizeof(int));
    s->x = nr_malloc_array(TB * E, sizeof(float));
    s->out = nr_malloc_array(TB * O, sizeof(float));
    s->pooled = nr_malloc_array((size_t)nB * P, sizeof(float));
    s->logits = nr_malloc_array((size_t)nB * C, sizeof(float));
    s->argmax = nr_malloc_array((size_t)nB * O, sizeof(int));
    if (training) {
        s->dx = nr_malloc_array(TB * E, sizeof(float));
        s->dout = nr_malloc_array(TB * O, sizeof(float));
        s->dpooled = nr_malloc_array((size_t)nB * P, sizeof(float));
        s->dlogits = nr_malloc_array((size_t)nB * C, sizeof(float));
        s->mask = nr_malloc_array((size_t)nB * P, sizeof(float));
        s->dropped = nr_malloc_array((size_t)nB * P, sizeof(float));
        s->targets = nr_malloc_array((size_t)nB, sizeof(int));
    }
    if (!s->ids || !s->lengths || !s->x || !s->out || !s->pooled || !s->logits || !s->argmax ||
        (training && (!s->dx || !s->dout || !s->dpooled || !s->dlogits || !s->mask ||
                      !s->dropped || !s->targets))) {
        nr_clf_scratch_free(s);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "classifier: out of memory for %d x %d", nT, nB);
    }
    s->max_T = nT;
    s->max_B = nB;
    s->training = training;
    return NLPRNN_OK;
}

void nr_clf_scratch_free(nr_clf_scratch *s) {
    nr_encoder_ws_free(s->ws);
    free(s->ids);
    free(s->lengths);
    free(s->x);
    free(s->out);
    free(s->pooled);
    free(s->logits);
    free(s->argmax);
    free(s->dx);
    free(s->dout);
    free(s->dpooled);
    free(s->dlogits);
    free(s->mask);
    free(s->dropped);
    free(s->targets);
    int training = s->training;
    memset(s, 0, sizeof *s);
    s->training = training;
}

/* pooled (B,P) from out (T,B,O) over t < len[b]; argmax (B,O) records the max step (NULL: not
 * recorded). Concat: [last | max | mean], each O wide. */
static void pool_forward(const nr_clf_net *net, float *pooled, int *argmax, const float *out,
                         const int *len, int T, int B) {
    int O = net->enc.out_size, H = net->cfg.hidden, P = net->pooled;
    (void)T;
    for (int b = 0; b < B; b++) {
        float *p = pooled + (size_t)b * P;
        int L = len[b], pool = net->cfg.pool;
        if (pool == NR_POOL_LAST || pool == NR_POOL_CONCAT) {
            memcpy(p, out + ((size_t)(L - 1) * B + b) * O, (size_t)H * sizeof(float));
            if (net->cfg.bidirectional)
                memcpy(p + H, out + (size_t)b * O + H, (size_t)H * sizeof(float));
        }
        if (pool == NR_POOL_MEAN || pool == NR_POOL_CONCAT) {
            float *q = pool == NR_POOL_CONCAT ? p + 2 * O : p;
            memset(q, 0, (size_t)O * sizeof(float));
            for (int t = 0; t < L; t++) nr_axpy(q, 1.0f, out + ((size_t)t * B + b) * O, (size_t)O);
            float inv = 1.0f / (float)L;
            for (int o = 0; o < O; o++) q[o] *= inv;
        }
        if (pool == NR_POOL_MAX || pool == NR_POOL_CONCAT) {
            float *q = pool == NR_POOL_CONCAT ? p + O : p;
            memcpy(q, out + (size_t)b * O, (size_t)O * sizeof(float));
            if (!argmax) { /* inference: no arg max kept (the same maxima; a loop that vectorises) */
                for (int t = 1; t < L; t++) {
                    const float *r = out + ((size_t)t * B + b) * O;
                    for (int o = 0; o < O; o++) q[o] = r[o] > q[o] ? r[o] : q[o];
                }
                continue;
            }
            int *am = argmax + (size_t)b * O;
            for (int o = 0; o < O; o++) am[o] = 0;
            for (int t = 1; t < L; t++) {
                const float *r = out + ((size_t)t * B + b) * O;
                for (int o = 0; o < O; o++)
                    if (r[o] > q[o]) {
                        q[o] = r[o];
                        am[o] = t;
                    }
            }
        }
    }
}

/* dout (T,B,O) += the gradient of pooling given dpooled (B,P). */
static void pool_backward(const nr_clf_net *net, float *dout, const float *dpooled,
                          const int *argmax, const int *len, int T, int B) {
    int O = net->enc.out_size, H = net->cfg.hidden, P = net->pooled;
    (void)T;
    for (int b = 0; b < B; b++) {
        const float *dp = dpooled + (size_t)b * P;
        int L = len[b], pool = net->cfg.pool;
        if (pool == NR_POOL_LAST || pool == NR_POOL_CONCAT) {
            nr_axpy(dout + ((size_t)(L - 1) * B + b) * O, 1.0f, dp, (size_t)H);
            if (net->cfg.bidirectional) nr_axpy(dout + (size_t)b * O + H, 1.0f, dp + H, (size_t)H);
        }
        if (pool == NR_POOL_MEAN || pool == NR_POOL_CONCAT) {
            const float *dq = pool == NR_POOL_CONCAT ? dp + 2 * O : dp;
            for (int t = 0; t < L; t++)
                nr_axpy(dout + ((size_t)t * B + b) * O, 1.0f / (float)L, dq, (size_t)O);
        }
        if (pool == NR_POOL_MAX || pool == NR_POOL_CONCAT) {
            const float *dq = pool == NR_POOL_CONCAT ? dp + O : dp;
            const int *am = argmax + (size_t)b * O;
            for (int o = 0; o < O; o++) dout[((size_t)am[o] * B + b) * O + o] += dq[o];
        }
    }
}

/* nr_embedding_forward from the float16 table net->emb16: out (n,E) = widen(emb16[ids]), padding
 * rows zero, an id outside [0,V) the same error. The same bits as the float32 table's rows. */
static int embed_rows_f16(const nr_clf_net *net, float *out, const int *ids, size_t n, nlprnn_error *err) {
    size_t E = (size_t)net->cfg.embed;
    for (size_t k = 0; k < n; k++) {
        int id = ids[k];
        if (id < 0 || id >= net->cfg.vocab)
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "embedding: id %d at position %zu not in 0..%d",
                           id, k, net->cfg.vocab - 1);
        if (id == net->emb.padding_id) memset(out + k * E, 0, E * sizeof(float));
        else nr_f16_widen(out + k * E, net->emb16 + 2 * (size_t)id * E, E);
    }
    return NLPRNN_OK;
}

int nr_clf_forward(const nr_clf_net *net, nr_clf_scratch *s, int T, int B, nr_rng *dropout_rng,
                   nlprnn_error *err) {
    int P = net->pooled, rc = 0;
    int gather = s->ptab && !s->training && !dropout_rng && nr_encoder_table_ok(&net->enc, s->ws, T, B);
    if (!gather)
        rc = net->emb16 ? embed_rows_f16(net, s->x, s->ids, (size_t)T * B, err)
                        : nr_embedding_forward(&net->emb, s->x, s->ids, (size_t)T * B, err);
    if (rc) return rc;
    nr_encoder_ws_set_table(s->ws, gather ? s->ptab : NULL, s->ids);
    /* inference with max pooling: pooled by the encoder as the steps run (the same bits) */
    int fused = !s->training && !dropout_rng && net->cfg.pool == NR_POOL_MAX &&
                nr_encoder_ws_set_pool_max(&net->enc, s->ws, s->pooled);
    rc = nr_encoder_forward(&net->enc, s->ws, s->out, NULL, NULL, s->x, s->lengths, NULL, NULL, T, B,
                            dropout_rng, err);
    nr_encoder_ws_set_table(s->ws, NULL, NULL);
    nr_encoder_ws_set_pool_max(&net->enc, s->ws, NULL);
    if (rc) return rc;
    if (!fused) pool_forward(net, s->pooled, s->training ? s->argmax : NULL, s->out, s->lengths, T, B);
    const float *feat = s->pooled;
    if (dropout_rng && net->cfg.dropout > 0.0f) {
        /* inverted dropout on the pooled features: kept values are scaled by 1/(1-p) */
        float keep = 1.0f - net->cfg.dropout, scale = 1.0f / keep;
        for (size_t i = 0; i < (size_t)B * P; i++) {
            s->mask[i] = nr_rng_uniform(dropout_rng) < keep ? scale : 0.0f;
            s->dropped[i] = s->pooled[i] * s->mask[i];
        }
        feat = s->dropped;
    } else if (s->training) {
        for (size_t i = 0; i < (size_t)B * P; i++) s->mask[i] = 1.0f;
        memcpy(s->dropped, s->pooled, (size_t)B * P * sizeof(float));
        feat = s->dropped;
    }
    nr_dense_forward(&net->head, s->logits, feat, B);
    return NLPRNN_OK;
}

int nr_clf_backward(const nr_clf_net *net, nr_clf_scratch *s, float *grad, int T, int B,
                    nlprnn_error *err) {
    int O = net->enc.out_size, P = net->pooled, E = net->cfg.embed;
    size_t TB = (size_t)T * B;
    memset(s->dpooled, 0, (size_t)B * P * sizeof(float));
    nr_dense_backward(&net->head, grad + net->n_emb + net->n_enc, s->dpooled, s->dlogits, s->dropped,
                      B);
    for (size_t i = 0; i < (size_t)B * P; i++) s->dpooled[i] *= s->mask[i];
    memset(s->dout, 0, TB * O * sizeof(float));
    pool_backward(net, s->dout, s->dpooled, s->argmax, s->lengths, T, B);
    memset(s->dx, 0, TB * E * sizeof(float));
    int rc = nr_encoder_backward(&net->enc, s->ws, grad + net->n_emb, s->dx, NULL, NULL, s->dout,
                                 NULL, NULL, err);
    if (rc) return rc;
    nr_embedding_backward(&net->emb, grad, s->dx, s->ids, TB);
    return NLPRNN_OK;
}

/* Fill s->ids (T,B) time-major and s->lengths from B documents (ids, lengths), padding with
 * NLPRNN_ID_PAD. Returns T. */
int nr_clf_fill_batch(nr_clf_scratch *s, const int32_t *const *docs, const int *lens, int B) {
    int T = 1;
    for (int b = 0; b < B; b++)
        if (lens[b] > T) T = lens[b];
    for (int b = 0; b < B; b++) {
        s->lengths[b] = lens[b];
        for (int t = 0; t < T; t++) s->ids[(size_t)t * B + b] = t < lens[b] ? docs[b][t] : NLPRNN_ID_PAD;
    }
    return T;
}

int nr_clf_batch_max_T(const int *lens, int B) {
    int T = 1;
    for (int b = 0; b < B; b++)
        if (lens[b] > T) T = lens[b];
    return T;
}

/* ---- model files -------------------------------------------------------------------------------- */

/* Tensor names and shapes of the flat block, in order. Returns the count (<= cap). */
int nr_clf_tensors(const nr_clf_net *net, nr_clf_tensor *t, int cap) {
    int n = 0, G = net->enc.gates, H = net->cfg.hidden;
#define ADD(nm, off, d0, d1, nd)                                                     \
    do {                                                                             \
        if (n < cap) {                                                               \
            snprintf(t[n].name, sizeof t[n].name, "%s", nm);                         \
            t[n].offset = (off);                                                     \
            t[n].ndim = (nd);                                                        \
            t[n].shape[0] = (size_t)(d0);                                            \
            t[n].shape[1] = (size_t)(d1);                                            \
        }                                                                            \
        n++;                                                                         \
    } while (0)
    ADD("embedding", 0, net->cfg.vocab, net->cfg.embed, 2);
    for (int l = 0; l < net->cfg.layers; l++)
        for (int d = 0; d < net->enc.dirs; d++) {
            const nr_rnn_slot *sl = &net->enc.slot[l][d];
            char nm[64];
            size_t base = net->n_emb;
            snprintf(nm, sizeof nm, "encoder.l%d.d%d.w_ih", l, d);
            ADD(nm, base + sl->w_ih, G * H, sl->in, 2);
            snprintf(nm, sizeof nm, "encoder.l%d.d%d.w_hh", l, d);
            ADD(nm, base + sl->w_hh, G * H, H, 2);
            snprintf(nm, sizeof nm, "encoder.l%d.d%d.b_ih", l, d);
            ADD(nm, base + sl->b_ih, G * H, 0, 1);
            snprintf(nm, sizeof nm, "encoder.l%d.d%d.b_hh", l, d);
            ADD(nm, base + sl->b_hh, G * H, 0, 1);
        }
    size_t hb = net->n_emb + net->n_enc;
    ADD("head.w", hb, net->cfg.classes, net->pooled, 2);
    ADD("head.b", hb + (size_t)net->cfg.classes * net->pooled, net->cfg.classes, 0, 1);
#undef ADD
    return n;
}

int nr_clf_put_cfg(nr_mf_buf *b, const nr_clf_cfg *c, nlprnn_error *err) {
    int rc = 0;
    if (!rc) rc = nr_conf_put_int(b, "classifier.format", 1, err);
    if (!rc) rc = nr_conf_put_int(b, "vocab", c->vocab, err);
    if (!rc) rc = nr_conf_put_int(b, "embed", c->embed, err);
    if (!rc) rc = nr_conf_put_str(b, "cell", nr_cell_name(c->cell), err);
    if (!rc) rc = nr_conf_put_int(b, "layers", c->layers, err);
    if (!rc) rc = nr_conf_put_int(b, "bidirectional", c->bidirectional, err);
    if (!rc) rc = nr_conf_put_int(b, "hidden", c->hidden, err);
    if (!rc) rc = nr_conf_put_str(b, "pool", nr_pool_name(c->pool), err);
    if (!rc) rc = nr_conf_put_int(b, "classes", c->classes, err);
    if (!rc) rc = nr_conf_put_int(b, "max_tokens", c->max_tokens, err);
    if (!rc) rc = nr_conf_put_float(b, "dropout", c->dropout, err);
    return rc;
}

int nr_clf_get_cfg(const nr_conf *cf, nr_clf_cfg *c, nlprnn_error *err) {
    long long v[8];
    const char *cell, *pool;
    double dropout;
    /* the ranges training allows (models/nn.h): a file never asks for more */
    static const struct { const char *key; long long lo, hi; } keys[8] = {
        {"classifier.format", 0, 1 << 30},
        {"vocab", NLPRNN_NUM_SPECIAL_IDS + 1, NR_MAX_VOCAB},
        {"embed", 1, NR_MAX_EMBED},
        {"layers", 1, NR_ENCODER_MAX_LAYERS},
        {"bidirectional", 0, 1},
        {"hidden", 1, NR_MAX_HIDDEN},
        {"classes", 2, NR_MAX_LABELS},
        {"max_tokens", 1, NR_CLF_MAX_TOKENS}};
    for (int i = 0; i < 8; i++) {
        int rc = nr_conf_get_int(cf, keys[i].key, &v[i], err);
        if (rc) return rc;
        if (v[i] < keys[i].lo || v[i] > keys[i].hi)
            return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: %s = %lld is out of range %lld..%lld",
                           cf->where, keys[i].key, v[i], keys[i].lo, keys[i].hi);
    }
    if (v[0] != 1)
        return nr_fail(err, NLPRNN_E_VERSION, -1, -1,
                       "%s: classifier format %lld, this build reads format 1", cf->where, v[0]);
    int rc = nr_conf_get_str(cf, "cell", &cell, err);
    if (!rc) rc = nr_conf_get_str(cf, "pool", &pool, err);
    if (!rc) rc = nr_conf_get_float(cf, "dropout", &dropout, err);
    if (rc) return rc;
    memset(c, 0, sizeof *c);
    c->vocab = (int)v[1];
    c->embed = (int)v[2];
    c->layers = (int)v[3];
    c->bidirectional = (int)v[4];
    c->hidden = (int)v[5];
    c->classes = (int)v[6];
    c->max_tokens = (int)v[7];
    c->cell = nr_cell_from_name(cell);
    c->pool = nr_pool_from_name(pool);
    c->dropout = (float)dropout;
    if (c->cell < 0 || c->pool < 0)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: unknown cell '%s' or pool '%s'", cf->where,
                       cell, pool);
    nr_clf_net probe;
    rc = nr_clf_net_bind(&probe, c, NULL, err);
    if (rc) return nr_fail_prefix(err, NLPRNN_E_FORMAT, -1, -1, "%.300s: ", cf->where);
    return NLPRNN_OK;
}

int nr_clf_put_weights(nr_mf_writer *w, const char *tag, const nr_clf_net *net, const float *params,
                       int dtype, nlprnn_error *err) {
    nr_clf_tensor t[4 + 4 * 2 * NR_ENCODER_MAX_LAYERS];
    int nt = nr_clf_tensors(net, t, (int)(sizeof t / sizeof t[0]));
    nr_mf_buf b;
    nr_mf_buf_init(&b);
    int rc = 0;
    for (int i = 0; i < nt && !rc; i++)
        rc = nr_tensor_put(&b, t[i].name, params + t[i].offset, t[i].ndim, t[i].shape,
                           t[i].ndim == 1 ? NR_DTYPE_F32 : dtype, err);
    if (!rc) rc = nr_mf_add(w, tag, NR_MF_TENSORS, b.data, b.len, dtype == NR_DTYPE_F32, err);
    nr_mf_buf_free(&b);
    return rc;
}

int nr_clf_get_weights(const nr_mf_reader *r, const char *tag, const nr_clf_net *net, float *params,
                       nlprnn_error *err) {
    nr_clf_tensor t[4 + 4 * 2 * NR_ENCODER_MAX_LAYERS];
    int nt = nr_clf_tensors(net, t, (int)(sizeof t / sizeof t[0]));
    for (int i = 0; i < nt; i++) {
        int rc = nr_mf_tensor_read(r, tag, t[i].name, params + t[i].offset, t[i].ndim, t[i].shape, err);
        if (rc) return rc; /* non-finite values are refused there */
    }
    return NLPRNN_OK;
}

int nr_clf_get_tokenizer(const nr_mf_reader *r, nlprnn_tokenizer **tok, nlprnn_error *err) {
    const nr_mf_section *sec;
    int rc = nr_mf_require(r, "TOKN", &sec, err);
    if (rc) return rc;
    rc = nlprnn_tokenizer_load_memory(sec->data, (size_t)sec->raw_len, tok, err);
    if (rc) nr_fail_prefix(err, rc, NR_KEEP, NR_KEEP, "%.200s: section TOKN: ", nr_mf_name(r));
    return rc;
}

/* ---- loading ------------------------------------------------------------------------------------ */

struct nlprnn_classifier {
    nr_clf_net net;
    float *params;
    uint16_t *whh16; /* float16 W_hh of every layer/direction for inference, or NULL */
    void *emb_mem;   /* the model file's bytes, kept: net.emb16 points into them; or NULL */
    /* A model that keeps its embedding as float16 (net.emb16) fills the float32 table
     * net.emb.table on the first nr_model_net, once, under the model's own lock (threads sharing
     * the model may ask at the same time); until then the table's pages are not touched. */
    pthread_mutex_t emb_fill_mu;
    int emb_fill_mu_made; /* 1: emb_fill_mu is initialised (nlprnn_classifier_free destroys it) */
    int emb_filled;       /* 1: net.emb.table holds the embedding too (under emb_fill_mu) */
    nlprnn_tokenizer *tok;
    nr_label_map labels;  /* the labels as in the training data ("0", "1") */
    nr_label_map names;   /* their display names ("negative", "positive"), or empty (n = 0) */
    char *path;
    char summary[320];
};

/* The network with every float32 weight in place: a model that keeps its embedding as float16
 * fills the float32 table the first time (its own cache, under its own lock). */
const nr_clf_net *nr_model_net(const nlprnn_classifier *m) {
    if (m->net.emb16) {
        nlprnn_classifier *w = (nlprnn_classifier *)m; /* the lock and the cache are the model's */
        pthread_mutex_lock(&w->emb_fill_mu);
        if (!w->emb_filled) {
            nr_f16_widen(w->net.emb.table, m->net.emb16, m->net.n_emb);
            w->emb_filled = 1;
        }
        pthread_mutex_unlock(&w->emb_fill_mu);
    }
    return &m->net;
}

int nr_clf_load_names(const nr_mf_reader *r, const nr_label_map *labels, nr_label_map *names,
                      nlprnn_error *err) {
    nr_label_map_init(names);
    if (!nr_mf_find(r, "LNAM")) return NLPRNN_OK;
    int rc = nr_label_map_load(names, r, "LNAM", err);
    if (rc) return rc;
    if (names->n != labels->n) {
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: section LNAM: %d label names for %d labels",
                     nr_mf_name(r), names->n, labels->n);
    }
    for (int i = 0; i < names->n && !rc; i++) {
        int other = nr_label_map_find(labels, names->names[i], strlen(names->names[i]));
        if (other >= 0 && other != i)
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                         "%s: section LNAM: the name \"%s\" of label \"%s\" is another label",
                         nr_mf_name(r), names->names[i], labels->names[i]);
    }
    if (rc) nr_label_map_free(names);
    return rc;
}

int nr_clf_load_parts(const nr_mf_reader *r, nr_clf_cfg *cfg, nlprnn_tokenizer **tok,
                      nr_label_map *labels, nlprnn_error *err) {
    nr_conf cf;
    int rc = nr_mf_get_conf(r, "CONF", &cf, err);
    if (rc) return rc;
    rc = nr_clf_get_cfg(&cf, cfg, err);
    nr_conf_free(&cf);
    if (rc) return rc;
    rc = nr_clf_get_tokenizer(r, tok, err);
    if (rc) return rc;
    if (nlprnn_tokenizer_vocab_size(*tok) != cfg->vocab) {
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                     "%s: the tokenizer has %d ids but the embedding has %d rows", nr_mf_name(r),
                     (int)nlprnn_tokenizer_vocab_size(*tok), cfg->vocab);
        goto fail;
    }
    rc = nr_label_map_load(labels, r, "LABL", err);
    if (rc) goto fail;
    if (labels->n != cfg->classes) {
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: %d label names for %d classes", nr_mf_name(r),
                     labels->n, cfg->classes);
        nr_label_map_free(labels);
        goto fail;
    }
    return NLPRNN_OK;
fail:
    nlprnn_tokenizer_free(*tok);
    *tok = NULL;
    return rc;
}

/* A file that stores every recurrent matrix W_hh as float16: keep them as float16 too (beside the
 * float32 copy that training-style code reads), so batch-1 inference streams half the bytes per
 * step (models/gemv_f16.h). The products are those of the same float16 values. Any other storage,
 * or no memory for the copy: the float32 path alone, with the same results up to summation order. */
static void keep_whh_f16(nlprnn_classifier *m, const nr_mf_reader *r) {
    const nr_encoder *enc = &m->net.enc;
    for (int l = 0; l < enc->cfg.layers; l++)
        for (int d = 0; d < enc->dirs; d++) {
            char nm[64];
            nr_tensor_info ti;
            snprintf(nm, sizeof nm, "encoder.l%d.d%d.w_hh", l, d);
            if (nr_mf_tensor_info(r, "WGHT", nm, &ti, NULL) || ti.dtype != NR_DTYPE_F16) return;
        }
    /* filled right away: huge pages from 256 KiB (the shipped models: 512 KiB, 128 pages) */
    m->whh16 = nr_filled_alloc(nr_encoder_whh_count(enc), sizeof(uint16_t));
    if (!m->whh16) return;
    /* the halves as stored (nothing converted), checked against the float32 copy on attaching */
    size_t n = (size_t)enc->gates * enc->cfg.hidden * enc->cfg.hidden, at = 0;
    size_t shape[2] = {(size_t)enc->gates * enc->cfg.hidden, (size_t)enc->cfg.hidden};
    int rc = 0;
    for (int l = 0; !rc && l < enc->cfg.layers; l++)
        for (int d = 0; !rc && d < enc->dirs; d++, at += n) {
            char nm[64];
            snprintf(nm, sizeof nm, "encoder.l%d.d%d.w_hh", l, d);
            rc = nr_mf_tensor_read_f16(r, "WGHT", nm, m->whh16 + at, 2, shape, NULL);
        }
    if (rc || nr_encoder_attach_f16_filled(&m->net.enc, m->whh16, NULL)) {
        free(m->whh16);
        m->whh16 = NULL;
    }
}

/* nr_clf_get_weights for a model whose embedding is stored as float16: the embedding stays where
 * the file's bytes lie (net.emb16; the model keeps them, m->emb_mem; the float32 table stays
 * unfilled, its pages untouched, until nr_model_net), every other tensor goes into the float32
 * block. Otherwise nr_clf_get_weights. The embedding is the largest tensor (the shipped models: 2
 * of 2.3 million weights), and a one-review run reads a few dozen of its rows. */
static int get_weights(nlprnn_classifier *m, nr_mf_reader *r, nlprnn_error *err) {
    nr_tensor_info ti;
    if (nr_mf_tensor_info(r, "WGHT", "embedding", &ti, NULL) || ti.dtype != NR_DTYPE_F16)
        return nr_clf_get_weights(r, "WGHT", &m->net, m->params, err);
    nr_clf_tensor t[4 + 4 * 2 * NR_ENCODER_MAX_LAYERS];
    int nt = nr_clf_tensors(&m->net, t, (int)(sizeof t / sizeof t[0]));
    const unsigned char *emb;
    int rc = nr_mf_tensor_f16_bytes(r, "WGHT", t[0].name, t[0].ndim, t[0].shape, &emb, err);
    for (int i = 1; !rc && i < nt; i++)
        rc = nr_mf_tensor_read(r, "WGHT", t[i].name, m->params + t[i].offset, t[i].ndim, t[i].shape, err);
    if (rc) return rc;
    m->emb_mem = nr_mf_keep_memory(r, "WGHT");
    if (!m->emb_mem) { /* a reader of someone else's memory: a copy of the halves */
        m->emb_mem = nr_malloc_array(m->net.n_emb, 2);
        if (!m->emb_mem) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", nr_mf_name(r));
        memcpy(m->emb_mem, emb, 2 * m->net.n_emb);
        emb = m->emb_mem;
    }
    m->net.emb16 = emb;
    return NLPRNN_OK;
}

int nlprnn_classifier_load(const char *path_or_name, nlprnn_classifier **out, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "model load: NULL output handle");
    *out = NULL;
    char path[4096];
    int rc = nr_model_resolve(path_or_name, NULL, path, sizeof path, err);
    if (rc) return rc;
    nr_mf_reader *r = NULL;
    rc = nr_mf_open_file(&r, path, NR_KIND_CLASSIFIER, err);
    if (rc) return rc;
    nlprnn_classifier *m = calloc(1, sizeof *m);
    if (!m) {
        nr_mf_close(r);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
    }
    nr_label_map_init(&m->labels);
    nr_label_map_init(&m->names);
    nr_clf_cfg cfg;
    m->emb_fill_mu_made = pthread_mutex_init(&m->emb_fill_mu, NULL) == 0;
    rc = m->emb_fill_mu_made ? NLPRNN_OK
                             : nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: no mutex for the model", path);
    if (!rc) rc = nr_clf_load_parts(r, &cfg, &m->tok, &m->labels, err);
    if (!rc) rc = nr_clf_load_names(r, &m->labels, &m->names, err);
    if (!rc) rc = nr_clf_net_bind(&m->net, &cfg, NULL, err);
    if (!rc) { /* sizes the file's tensors cannot hold are a bad file, not a huge allocation */
        char sizes[160];
        snprintf(sizes, sizeof sizes, "vocab %d embed %d hidden %d layers %d bidirectional %d",
                 cfg.vocab, cfg.embed, cfg.hidden, cfg.layers, cfg.bidirectional);
        rc = nr_mf_check_weight_count(r, "WGHT", m->net.n_params, sizes, err);
    }
    if (!rc) {
        m->params = nr_big_alloc(m->net.n_params, sizeof(float));
        if (!m->params) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
    }
    if (!rc) rc = nr_clf_net_bind(&m->net, &cfg, m->params, err);
    if (!rc) rc = get_weights(m, r, err);
    const char *storage = "f32";
    if (!rc) {
        nr_tensor_info ti;
        if (nr_mf_tensor_info(r, "WGHT", "embedding", &ti, NULL) == 0)
            storage = nr_dtype_name(ti.dtype);
    }
    if (!rc) keep_whh_f16(m, r);
    nr_mf_close(r);
    if (!rc) {
        m->path = nr_strdup(path);
        if (!m->path) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
    }
    if (rc) {
        nlprnn_classifier_free(m);
        return rc;
    }
    snprintf(m->summary, sizeof m->summary,
             "cell=%s layers=%d bidirectional=%d embed=%d hidden=%d pool=%s classes=%d vocab=%d "
             "max_tokens=%d params=%zu storage=%s",
             nr_cell_name(cfg.cell), cfg.layers, cfg.bidirectional, cfg.embed, cfg.hidden,
             nr_pool_name(cfg.pool), cfg.classes, cfg.vocab, cfg.max_tokens, m->net.n_params, storage);
    *out = m;
    return NLPRNN_OK;
}

void nlprnn_classifier_free(nlprnn_classifier *m) {
    if (!m) return;
    free(m->params);
    free(m->whh16);
    free(m->emb_mem);
    nlprnn_tokenizer_free(m->tok);
    nr_label_map_free(&m->labels);
    nr_label_map_free(&m->names);
    free(m->path);
    if (m->emb_fill_mu_made) pthread_mutex_destroy(&m->emb_fill_mu);
    free(m);
}

int nlprnn_classifier_num_classes(const nlprnn_classifier *m) {
    return m ? m->net.cfg.classes : 0;
}
const char *nlprnn_classifier_label(const nlprnn_classifier *m, int i) {
    return m ? nr_label_map_name(m->names.n ? &m->names : &m->labels, i) : NULL;
}
const char *nlprnn_classifier_data_label(const nlprnn_classifier *m, int i) {
    return m ? nr_label_map_name(&m->labels, i) : NULL;
}
int nlprnn_classifier_max_tokens(const nlprnn_classifier *m) {
    return m ? m->net.cfg.max_tokens : 0;
}
const nlprnn_tokenizer *nlprnn_classifier_tokenizer(const nlprnn_classifier *m) {
    return m ? m->tok : NULL;
}
const char *nlprnn_classifier_path(const nlprnn_classifier *m) {
    return m ? m->path : NULL;
}
const char *nlprnn_classifier_summary(const nlprnn_classifier *m) {
    return m ? m->summary : NULL;
}
const nr_label_map *nr_model_labels(const nlprnn_classifier *m) {
    return &m->labels;
}
const nr_label_map *nr_model_label_names(const nlprnn_classifier *m) {
    return &m->names;
}

int nlprnn_classifier_relabel(const char *path_or_name, const char *label_names,
                              const char *out_path, nlprnn_error *err) {
    if (!path_or_name || !out_path)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "nlprnn_classifier_relabel: a model and an output path are needed");
    /* the model is loaded first: a file that cannot be used is not copied */
    nlprnn_classifier *m = NULL;
    int rc = nlprnn_classifier_load(path_or_name, &m, err);
    if (rc) return rc;
    nr_label_map names;
    rc = nr_label_names_parse(&m->labels, label_names, &names, err);
    nr_mf_reader *r = NULL;
    nr_mf_writer *w = NULL;
    if (!rc) rc = nr_mf_open_file(&r, m->path, NR_KIND_CLASSIFIER, err);
    if (!rc) rc = nr_mf_writer_new(&w, NR_KIND_CLASSIFIER, err);
    /* every section's bytes as they are (content, compression), LNAM replaced: right after
     * LABL; TOKN stored as nr_mf_add_tokenizer stores it (so relabelling re-saves an older
     * file in the current layout) */
    for (size_t i = 0; !rc && i < nr_mf_section_count(r); i++) {
        const nr_mf_section *sec = nr_mf_section_at(r, i);
        if (!strcmp(sec->tag, "LNAM")) continue;
        rc = nr_mf_add(w, sec->tag, sec->content, sec->data, (size_t)sec->raw_len,
                       sec->encoding == NR_MF_ZLIB && strcmp(sec->tag, "TOKN") != 0, err);
        if (!rc && !strcmp(sec->tag, "LABL") && names.n)
            rc = nr_label_map_save(&names, w, "LNAM", err);
    }
    if (!rc) rc = nr_mf_writer_save(w, out_path, err);
    nr_mf_writer_free(w);
    nr_mf_close(r);
    nr_label_map_free(&names);
    nlprnn_classifier_free(m);
    return rc;
}

/* ---- classifying -------------------------------------------------------------------------------- */

/* Token ids of documents, concatenated, and the encoding that makes them (one per worker). */
typedef struct tok_store {
    nlprnn_encoding *enc;
    int32_t *ids;
    size_t n, cap;
} tok_store;

struct nlprnn_classifier_ctx {
    const nlprnn_classifier *m;
    int threads;
    nr_clf_scratch s[NR_MAX_THREADS]; /* one per worker: batches are spread over the workers */
    /* ts[0].ids: the ids of the documents of a call (tok_off, tok_len); a batch call's workers
     * tokenize contiguous ranges of its documents into ts[w], appended to ts[0] after */
    tok_store ts[NR_MAX_THREADS];
    size_t *tok_off;   /* (n) */
    int *tok_len;      /* (n) */
    size_t *order;     /* (n) */
    size_t doc_cap;
    /* Layer 0's projection of every id, (V, dirs*G*H) (nr_encoder_project_rows), rows made when a
     * batch call first meets their id (ptab_have[id] = 1); ptab_state -1: not used (the kernel
     * path has no kernel for it, or it could not be made) */
    float *ptab;
    unsigned char *ptab_have;
    int ptab_state;
    int ptab_call; /* the current batch call gathers from ptab */
};

int nlprnn_classifier_ctx_create(const nlprnn_classifier *m, int threads, nlprnn_classifier_ctx **out,
                                 nlprnn_error *err) {
    if (out) *out = NULL;
    if (!out || !m) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "classifier context: NULL argument");
    if (threads < 0 || threads > NR_MAX_THREADS)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "classifier context: threads %d (must be 0..%d)",
                       threads, NR_MAX_THREADS);
    if (threads == 0) threads = nr_default_threads();
    nlprnn_classifier_ctx *c = calloc(1, sizeof *c);
    if (!c) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "classifier context: out of memory");
    c->m = m;
    c->threads = threads;
    int rc = nlprnn_encoding_create(&c->ts[0].enc, err);
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void nlprnn_classifier_ctx_free(nlprnn_classifier_ctx *c) {
    if (!c) return;
    for (int w = 0; w < NR_MAX_THREADS; w++) {
        nr_clf_scratch_free(&c->s[w]);
        nlprnn_encoding_free(c->ts[w].enc);
        free(c->ts[w].ids);
    }
    free(c->tok_off);
    free(c->tok_len);
    free(c->order);
    free(c->ptab);
    free(c->ptab_have);
    free(c);
}

void nr_clf_ctx_table(nlprnn_classifier_ctx *c, int on) {
    c->ptab_state = on ? 0 : -1;
}

size_t nr_clf_ctx_table_rows(const nlprnn_classifier_ctx *c) {
    size_t n = 0;
    for (int id = 0; c->ptab_have && id < c->m->net.cfg.vocab; id++) n += c->ptab_have[id] == 1;
    return n;
}

/* Batch calls of at least this many documents gather layer 0's projection from the context's table
 * (smaller ones would pay for the table's pages more than they save) */
#define NR_CLF_TABLE_MIN_DOCS 32
/* the most memory the table may take (the shipped model's: 16000 x 2 x 512 floats = 64 MiB) */
#define NR_CLF_TABLE_MAX_BYTES ((size_t)256 << 20)
/* ids computed per product */
#define NR_CLF_TABLE_CHUNK 256

/* Workers for n items of a call, at least `per` items each: 1..c->threads */
static size_t workers_for(const nlprnn_classifier_ctx *c, size_t n, size_t per) {
    size_t W = n / per;
    if (W > (size_t)c->threads) W = (size_t)c->threads;
    return W < 1 ? 1 : W;
}

/* Rows of c's projection table for the n ids (new ones, marked 2 in ptab_have) whose embeddings
 * are x (n, E), into rows (n, row) scratch then the table: 1 done, 0 failed (no kernel of ours on
 * this path, no memory). The caller marks the ids. */
static int table_rows(nlprnn_classifier_ctx *c, const int32_t *ids, int n, const float *x, float *rows) {
    const nr_encoder *enc = &c->m->net.enc;
    size_t row = (size_t)enc->dirs * enc->gates * enc->cfg.hidden;
    if (nr_encoder_project_rows(enc, x, n, rows, NULL)) return 0;
    for (int m = 0; m < n; m++) memcpy(c->ptab + (size_t)ids[m] * row, rows + (size_t)m * row, row * sizeof(float));
    return 1;
}

/* Worker w of nw makes the table rows of its contiguous part of the new ids, NR_CLF_TABLE_CHUNK at
 * a time (each row depends on its id alone, so who makes it does not change its bits; the table's
 * first-touch page faults are split too). */
typedef struct fill_job {
    nlprnn_classifier_ctx *c;
    const int32_t *ids;
    size_t n;
    int ok[NR_MAX_THREADS];
} fill_job;

static void fill_worker(void *vctx, int w, int nw) {
    fill_job *j = vctx;
    nlprnn_classifier_ctx *c = j->c;
    const nr_clf_net *net = &c->m->net;
    const nr_encoder *enc = &net->enc;
    int E = net->cfg.embed;
    size_t row = (size_t)enc->dirs * enc->gates * enc->cfg.hidden;
    size_t lo = j->n * (size_t)w / (size_t)nw, hi = j->n * (size_t)(w + 1) / (size_t)nw;
    float *x = nr_malloc_array((size_t)NR_CLF_TABLE_CHUNK * E, sizeof(float));
    float *rows = nr_malloc_array((size_t)NR_CLF_TABLE_CHUNK * row, sizeof(float));
    int ok = x && rows;
    for (size_t k0 = lo; ok && k0 < hi; k0 += NR_CLF_TABLE_CHUNK) {
        int n = (int)(hi - k0 < NR_CLF_TABLE_CHUNK ? hi - k0 : NR_CLF_TABLE_CHUNK);
        for (int m = 0; m < n; m++) {
            int32_t id = j->ids[k0 + (size_t)m];
            if (id == net->emb.padding_id) memset(x + (size_t)m * E, 0, (size_t)E * sizeof(float));
            else if (net->emb16) nr_f16_widen(x + (size_t)m * E, net->emb16 + 2 * (size_t)id * E, (size_t)E);
            else memcpy(x + (size_t)m * E, net->emb.table + (size_t)id * E, (size_t)E * sizeof(float));
        }
        ok = table_rows(c, j->ids + k0, n, x, rows);
    }
    free(x);
    free(rows);
    j->ok[w] = ok;
}

/* Rows of c's projection table for every id of the first ok documents of c->order that has none
 * yet, made on up to c->threads workers (at least NR_CLF_TABLE_CHUNK new ids each). Returns 1 when
 * the call's batches can gather from the table, 0 when they compute their projection as usual (a
 * path without our kernel, no memory, an id out of range; then the table is not tried again).
 * The rows are nr_encoder_project_rows's, whose bits are those of the batch's own product (see
 * nr_encoder_table_ok), so a document's probabilities do not depend on the table. */
static int table_fill(nlprnn_classifier_ctx *c, size_t ok) {
    const nr_clf_net *net = &c->m->net;
    const nr_encoder *enc = &net->enc;
    int V = net->cfg.vocab;
    size_t row = (size_t)enc->dirs * enc->gates * enc->cfg.hidden;
    if (c->ptab_state < 0) return 0;
    if (!c->ptab) {
        if ((size_t)V * row > NR_CLF_TABLE_MAX_BYTES / sizeof(float)) return c->ptab_state = -1, 0;
        c->ptab = nr_big_alloc((size_t)V * row, sizeof(float));
        c->ptab_have = calloc((size_t)V, 1);
        if (!c->ptab || !c->ptab_have) return c->ptab_state = -1, 0; /* freed with the context */
    }
    int32_t *ids = nr_malloc_array((size_t)V, sizeof(int32_t)); /* the new ids, each once */
    size_t n = 0;
    int usable = ids != NULL;
    for (size_t k = 0; usable && k < ok; k++) {
        size_t i = c->order[k];
        const int32_t *t = c->ts[0].ids + c->tok_off[i];
        for (int j = 0; j < c->tok_len[i]; j++) {
            int32_t id = t[j];
            if (id < 0 || id >= V) {
                usable = 0; /* the embedding's forward reports it */
                break;
            }
            if (c->ptab_have[id]) continue; /* made, or already in the list */
            c->ptab_have[id] = 2;
            ids[n++] = id;
        }
    }
    if (usable && n) {
        fill_job j;
        j.c = c;
        j.ids = ids;
        j.n = n;
        size_t W = workers_for(c, n, NR_CLF_TABLE_CHUNK);
        if (W > 1) nr_parallel_run((int)W, fill_worker, &j);
        else fill_worker(&j, 0, 1);
        for (size_t w = 0; w < W; w++) usable = usable && j.ok[w];
        if (!usable) c->ptab_state = -1;
    }
    for (size_t m = 0; m < n; m++) c->ptab_have[ids[m]] = (unsigned char)usable; /* made, or not */
    free(ids);
    return usable;
}

/* Tokenize document i and append its first max_tokens ids to the store ts (tok_off[i], tok_len[i];
 * a document that fails holds 0 ids). The text is encoded a part (about 1 MiB) at a time
 * (nlprnn_tokenizer_encode_part, whose parts together are exactly the whole encoding), so a
 * document of any length needs one part's memory; the parts past max_tokens ids are still
 * encoded, to check the whole text and count its tokens as a whole encode does. */
static int tokenize_doc(nlprnn_classifier_ctx *c, tok_store *ts, size_t i, const char *text, size_t len,
                        size_t *n_tokens, nlprnn_error *err) {
    size_t max_keep = (size_t)c->m->net.cfg.max_tokens, n = 0, keep = 0, pos = 0, at = ts->n;
    c->tok_off[i] = at;
    c->tok_len[i] = 0;
    do {
        int rc = nlprnn_tokenizer_encode_part(c->m->tok, text, len, &pos, 0, ts->enc, err);
        if (rc) return rc;
        size_t m = nlprnn_encoding_size(ts->enc), take = max_keep - keep < m ? max_keep - keep : m;
        n += m;
        if (!take) continue;
        if (at + keep + take > ts->cap) {
            size_t nc = (at + keep + take) * 2;
            int32_t *t = nr_realloc_array(ts->ids, nc, sizeof(int32_t));
            if (!t) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
            ts->ids = t;
            ts->cap = nc;
        }
        memcpy(ts->ids + at + keep, nlprnn_encoding_ids(ts->enc), take * sizeof(int32_t));
        keep += take;
    } while (pos < len);
    if (n_tokens) *n_tokens = n;
    if (n == 0) return nr_fail(err, NLPRNN_E_EMPTY, -1, -1, "empty document (no token)");
    c->tok_len[i] = (int)keep;
    ts->n = at + keep;
    return NLPRNN_OK;
}

/* A batch call's documents [lo, hi) of worker w: tokenized into ts[w], statuses set (and the
 * error records, when the caller asks for them). */
typedef struct tok_job {
    nlprnn_classifier_ctx *c;
    const char *const *texts;
    const size_t *lens;
    size_t n;
    int *status;
    nlprnn_error *errs;            /* (n) or NULL */
    size_t lo[NR_MAX_THREADS + 1]; /* worker w: documents [lo[w], lo[w+1]) */
} tok_job;

static void tok_worker(void *vctx, int w, int nw) {
    (void)nw;
    tok_job *j = vctx;
    tok_store *ts = &j->c->ts[w];
    ts->n = 0;
    for (size_t i = j->lo[w]; i < j->lo[w + 1]; i++) {
        nlprnn_error e1, *e = j->errs ? &j->errs[i] : &e1;
        /* a NULL text is an empty one when its length is given as 0, else a bad argument */
        const char *t = j->texts[i];
        size_t L = j->lens ? j->lens[i] : t ? strlen(t) : 1;
        if (t || !L) {
            j->status[i] = tokenize_doc(j->c, ts, i, t ? t : "", L, NULL, e);
        } else {
            j->status[i] = j->lens ? nr_fail(e, NLPRNN_E_INVALID_ARG, -1, -1,
                                             "document %zu: NULL text of length %zu", i, L)
                                   : nr_fail(e, NLPRNN_E_INVALID_ARG, -1, -1, "document %zu: NULL text", i);
            j->c->tok_off[i] = ts->n, j->c->tok_len[i] = 0;
        }
        if (!j->status[i] && j->errs) { /* a classified document's record: no error */
            memset(e, 0, sizeof *e);
            e->line = e->offset = -1;
        }
    }
}

/* Batch calls of at least this many documents per worker tokenize on the workers */
#define NR_CLF_TOK_MIN_DOCS 32

/* Tokenize a batch call's n documents (status[i]: 0 or the document's error; doc_errs[i], when
 * doc_errs is not NULL: its error record, cleared for a good one), on up to
 * c->threads workers, each a contiguous range, their ids then appended to ts[0] in order: the
 * same ids and offsets as one thread makes. Returns NLPRNN_E_NOMEM when some store could not
 * grow, else 0. */
static int tokenize_docs(nlprnn_classifier_ctx *c, const char *const *texts, const size_t *lens, size_t n,
                         int *status, nlprnn_error *doc_errs, nlprnn_error *err) {
    tok_job j;
    j.c = c;
    j.texts = texts;
    j.lens = lens;
    j.n = n;
    j.status = status;
    j.errs = doc_errs;
    size_t W = workers_for(c, n, NR_CLF_TOK_MIN_DOCS);
    for (size_t w = 1; w < W; w++)
        if (!c->ts[w].enc && nlprnn_encoding_create(&c->ts[w].enc, NULL)) W = w; /* fewer workers */
    for (size_t w = 0; w <= W; w++) j.lo[w] = n * w / W;
    if (W > 1) nr_parallel_run((int)W, tok_worker, &j);
    else tok_worker(&j, 0, 1);
    for (size_t w = 1; w < W; w++) { /* ts[w] after ts[0] */
        tok_store *a = &c->ts[0], *b = &c->ts[w];
        if (a->n + b->n > a->cap) {
            size_t nc = (a->n + b->n) * 2;
            int32_t *t = nr_realloc_array(a->ids, nc, sizeof(int32_t));
            if (!t) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
            a->ids = t;
            a->cap = nc;
        }
        if (b->n) memcpy(a->ids + a->n, b->ids, b->n * sizeof(int32_t));
        for (size_t i = j.lo[w]; i < j.lo[w + 1]; i++) c->tok_off[i] += a->n;
        a->n += b->n;
    }
    for (size_t i = 0; i < n; i++)
        if (status[i] == NLPRNN_E_NOMEM) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    return NLPRNN_OK;
}

static int reserve_docs(nlprnn_classifier_ctx *c, size_t n, nlprnn_error *err) {
    if (n <= c->doc_cap) return NLPRNN_OK;
    size_t *off = nr_realloc_array(c->tok_off, n, sizeof(size_t));
    if (off) c->tok_off = off;
    int *len = nr_realloc_array(c->tok_len, n, sizeof(int));
    if (len) c->tok_len = len;
    size_t *ord = nr_realloc_array(c->order, n, sizeof(size_t));
    if (ord) c->order = ord;
    if (!off || !len || !ord) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    c->doc_cap = n;
    return NLPRNN_OK;
}

/* Forward B documents (indices idx into the id store) with worker w's scratch and write softmax
 * rows to probs rows. */
static int run_batch(nlprnn_classifier_ctx *c, int w, const size_t *idx, int B, float *probs,
                     nlprnn_error *err) {
    const nr_clf_net *net = &c->m->net;
    int lens[NR_CLF_INFER_BATCH];
    const int32_t *docs[NR_CLF_INFER_BATCH];
    for (int b = 0; b < B; b++) {
        lens[b] = c->tok_len[idx[b]];
        docs[b] = c->ts[0].ids + c->tok_off[idx[b]];
    }
    nr_clf_scratch *s = &c->s[w];
    int T = nr_clf_batch_max_T(lens, B);
    int rc = nr_clf_scratch_reserve(s, net, T, B, 0, 1, err);
    if (rc) return rc;
    nr_encoder_ws_keep_pack(s->ws, 1); /* a loaded classifier's weights never change */
    nr_clf_fill_batch(s, docs, lens, B);
    s->ptab = c->ptab_call ? c->ptab : NULL;
    rc = nr_clf_forward(net, s, T, B, NULL, err);
    s->ptab = NULL;
    if (rc) return rc;
    int C = net->cfg.classes;
    nr_softmax_rows(s->logits, B, C);
    for (size_t i = 0; i < (size_t)B * C; i++)
        if (!(s->logits[i] >= 0.0f && s->logits[i] <= 1.0f)) /* NaN fails too */
            return nr_fail(err, NLPRNN_E_NUMERIC, -1, -1,
                           "%s: the classifier gives a non-finite probability (NaN or infinity): "
                           "its weights are out of any trained range",
                           c->m->path ? c->m->path : "model");
    for (int b = 0; b < B; b++)
        memcpy(probs + idx[b] * (size_t)C, s->logits + (size_t)b * C, (size_t)C * sizeof(float));
    return NLPRNN_OK;
}

/* Batches k = 0.. of the sorted documents (each batch fixed by the order, so its results do not
 * depend on who runs it), taken one at a time by the workers from a shared counter, the longest
 * first: workers that run faster (a free core) take more, and no worker is left with all the
 * long documents. */
typedef struct infer_job {
    nlprnn_classifier_ctx *c;
    size_t ok;
    float *probs;
    _Atomic int next; /* batches taken so far, counted from the last */
    int rc[NR_MAX_THREADS];
    nlprnn_error err[NR_MAX_THREADS];
} infer_job;

static void infer_worker(void *vctx, int w, int nw) {
    (void)nw;
    infer_job *j = vctx;
    int nb = (int)((j->ok + NR_CLF_INFER_BATCH - 1) / NR_CLF_INFER_BATCH);
    j->rc[w] = 0;
    for (int t; !j->rc[w] && (t = atomic_fetch_add(&j->next, 1)) < nb;) {
        size_t first = (size_t)(nb - 1 - t) * NR_CLF_INFER_BATCH;
        int B = (int)(j->ok - first < NR_CLF_INFER_BATCH ? j->ok - first : NR_CLF_INFER_BATCH);
        j->rc[w] = run_batch(j->c, w, j->c->order + first, B, j->probs, &j->err[w]);
    }
}

int nlprnn_classify(nlprnn_classifier_ctx *c, const char *text, size_t len, float *probs, size_t *n_tokens,
                    nlprnn_error *err) {
    if (!c || !text || !probs)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "nlprnn_classify: NULL argument");
    int rc = reserve_docs(c, 1, err);
    c->ts[0].n = 0;
    if (!rc) rc = tokenize_doc(c, &c->ts[0], 0, text, len, n_tokens, err);
    if (rc) return rc;
    size_t idx = 0;
    float tmp[256];
    c->ptab_call = 0;
    int C = c->m->net.cfg.classes;
    float *dst = C <= 256 ? tmp : probs;
    rc = run_batch(c, 0, &idx, 1, dst, err);
    if (!rc && dst != probs) memcpy(probs, dst, (size_t)C * sizeof(float));
    return rc;
}

/* nlprnn_classify_batch and nlprnn_classify_batch_errors (doc_errs may be NULL) */
static int classify_batch(nlprnn_classifier_ctx *c, const char *const *texts, const size_t *lens, size_t n,
                          float *probs, int *status, nlprnn_error *doc_errs, nlprnn_error *err) {
    int C = c->m->net.cfg.classes;
    int rc = reserve_docs(c, n, err);
    if (rc) return rc;
    size_t ok = 0;
    if (n) memset(probs, 0, n * (size_t)C * sizeof(float));
    rc = tokenize_docs(c, texts, lens, n, status, doc_errs, err);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++)
        if (!status[i]) c->order[ok++] = i;
    /* order by length (counting sort: lengths are <= max_tokens) */
    int maxT = c->m->net.cfg.max_tokens;
    size_t *cnt = calloc((size_t)maxT + 2, sizeof(size_t));
    size_t *tmp = nr_malloc_array(ok ? ok : 1, sizeof(size_t));
    if (!cnt || !tmp) {
        free(cnt);
        free(tmp);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    }
    for (size_t k = 0; k < ok; k++) cnt[c->tok_len[c->order[k]] + 1]++;
    for (int L = 1; L <= maxT + 1; L++) cnt[L] += cnt[L - 1];
    for (size_t k = 0; k < ok; k++) tmp[cnt[c->tok_len[c->order[k]]]++] = c->order[k];
    memcpy(c->order, tmp, ok * sizeof(size_t));
    free(cnt);
    free(tmp);
    /* layer 0's projection of a large call: gathered per id (table_fill) */
    c->ptab_call = ok >= NR_CLF_TABLE_MIN_DOCS && table_fill(c, ok);
    infer_job j;
    j.c = c;
    j.ok = ok;
    j.probs = probs;
    atomic_init(&j.next, 0);
    int nb = (int)((ok + NR_CLF_INFER_BATCH - 1) / NR_CLF_INFER_BATCH);
    int W = c->threads < nb ? c->threads : nb;
    if (W > 1) nr_parallel_run(W, infer_worker, &j);
    else if (W == 1) infer_worker(&j, 0, 1);
    c->ptab_call = 0;
    for (int w = 0; w < W && !rc; w++)
        if (j.rc[w]) {
            rc = j.rc[w];
            if (err) *err = j.err[w];
        }
    return rc;
}

int nlprnn_classify_batch(nlprnn_classifier_ctx *c, const char *const *texts, const size_t *lens, size_t n,
                          float *probs, int *status, nlprnn_error *err) {
    if (!c || (n && (!texts || !probs || !status)))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "nlprnn_classify_batch: NULL argument");
    return classify_batch(c, texts, lens, n, probs, status, NULL, err);
}

int nlprnn_classify_batch_errors(nlprnn_classifier_ctx *c, const char *const *texts, const size_t *lens,
                                 size_t n, float *probs, int *status, nlprnn_error *doc_errs,
                                 nlprnn_error *err) {
    if (!c || (n && (!texts || !probs || !status)))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "nlprnn_classify_batch_errors: NULL argument");
    return classify_batch(c, texts, lens, n, probs, status, doc_errs, err);
}

/* ---- evaluating --------------------------------------------------------------------------------- */

/* nlprnn_classifier_evaluate reads its corpus in parts of at most this many documents / about this
 * many bytes of text (a part may end one document past the byte bound) */
#define NR_CLF_EVAL_PART_DOCS 4096
#define NR_CLF_EVAL_PART_BYTES ((size_t)32 << 20)

int nr_clf_eval_dataset(const nr_clf_net *net, const nlprnn_tokenizer *tok, const nr_dataset *ds,
                        int threads, long long *confusion, double *loss_sum, long long *counted,
                        nlprnn_error *err);

static int evaluate(const nlprnn_classifier *m, const char *path, const char *text_column,
                    const char *label_column, int threads, long long **confusion,
                    long long *n_docs, long long *skipped, double *log_loss, nlprnn_error *err) {
    *confusion = NULL;
    if (!path) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "evaluate: NULL argument");
    int C = m->net.cfg.classes;
    nr_dataset_load_opts o;
    memset(&o, 0, sizeof o);
    nr_record_opts_default(&o.rec);
    o.rec.text_column = text_column && *text_column ? text_column : NULL;
    o.rec.label_column = label_column && *label_column ? label_column : NULL;
    o.rec.require_label = 1;
    o.fixed_labels = &m->labels;
    o.fixed_names = m->names.n ? &m->names : NULL; /* "negative" as good as "0" */
    o.max_examples = NR_CLF_EVAL_PART_DOCS;
    nr_record_reader *rr = NULL;
    int rc = nr_record_reader_open(&rr, path, &o.rec, err);
    if (rc) return rc;
    long long *cm = calloc((size_t)C * C, sizeof(long long));
    if (!cm) {
        nr_record_reader_close(rr);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    }
    /* the corpus is read a part at a time: memory stays bounded whatever its size */
    double loss = 0;
    long long counted = 0, read = 0, label_skips = 0;
    int has_labels = nr_record_reader_has_labels(rr);
    for (int more = 1; more && !rc;) {
        nr_dataset ds;
        nr_dataset_init(&ds);
        rc = nr_label_map_copy(&ds.labels, &m->labels, err);
        if (!rc) {
            more = nr_dataset_read_part(&ds, rr, &o, NR_CLF_EVAL_PART_BYTES, &label_skips, err);
            if (more < 0) rc = more;
        }
        if (!rc && ds.n) {
            double part_loss = 0;
            long long part_counted = 0;
            rc = nr_clf_eval_dataset(&m->net, m->tok, &ds, threads, cm, &part_loss,
                                     &part_counted, err);
            loss += part_loss;
            counted += part_counted;
            read += (long long)ds.n;
        }
        nr_dataset_free(&ds);
    }
    nr_record_stats st;
    nr_record_reader_stats(rr, &st);
    nr_record_reader_close(rr);
    if (!rc && counted == 0) { /* no accuracy over zero documents: say why there are none */
        const char *name = path && strcmp(path, "-") ? path : "<stdin>";
        if (!has_labels)
            rc = nr_fail(err, NLPRNN_E_DATA, -1, -1,
                         "%s: no labels: it was read as plain text, one document a line (%lld "
                         "lines); a labelled file is TSV or CSV with a header naming a label "
                         "column (a .tsv or .csv name), or fastText lines starting with __label__",
                         name, read);
        else if (read == 0 && st.skipped_empty == 0)
            rc = nr_fail(err, NLPRNN_E_DATA, -1, -1, "%s: no document to evaluate (no data row)",
                         name);
        else
            rc = nr_fail(err, NLPRNN_E_DATA, -1, -1,
                         "%s: no document to evaluate: %lld with an empty text, %lld that give no "
                         "token",
                         name, st.skipped_empty, read);
    }
    if (!rc) {
        *n_docs = counted;
        *skipped = read - counted + st.skipped_bad + st.skipped_empty + label_skips;
        *log_loss = counted ? loss / (double)counted : NAN;
        *confusion = cm;
    } else {
        free(cm);
    }
    return rc;
}

int nlprnn_classifier_evaluate(const nlprnn_classifier *m, const char *path, const char *text_column,
                               const char *label_column, int threads, nlprnn_classifier_eval *res,
                               nlprnn_error *err) {
    if (!m || !res || res->size < offsetof(nlprnn_classifier_eval, confusion) + sizeof res->confusion)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "evaluate: NULL argument, or res->size (%zu) does not reach the confusion matrix",
                       res ? res->size : 0);
    if (threads < 0 || threads > NR_MAX_THREADS)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "evaluate: threads %d (must be 0..%d)", threads,
                       NR_MAX_THREADS);
    long long *cm = NULL, n = 0, skipped = 0;
    double log_loss = 0;
    int rc = evaluate(m, path, text_column, label_column, threads, &cm, &n, &skipped, &log_loss, err);
    if (rc) return rc;
    int C = m->net.cfg.classes;
    long long correct = 0;
    double macro_f1 = 0;
    for (int k = 0; k < C; k++) {
        long long tp = cm[(size_t)k * C + k], pred = 0, sup = 0;
        for (int j = 0; j < C; j++) pred += cm[(size_t)j * C + k], sup += cm[(size_t)k * C + j];
        /* F1 = 2 P R / (P + R), P = tp / predicted, R = tp / support (0 when undefined) */
        double pr = pred ? (double)tp / (double)pred : 0, rcl = sup ? (double)tp / (double)sup : 0;
        macro_f1 += (pr + rcl > 0 ? 2 * pr * rcl / (pr + rcl) : 0) / C;
        correct += tp;
    }
    res->documents = n;
    res->skipped = skipped;
    res->classes = C;
    res->confusion = cm;
    if (NLPRNN_HAS_FIELD(nlprnn_classifier_eval, res, accuracy)) res->accuracy = (double)correct / (double)n;
    if (NLPRNN_HAS_FIELD(nlprnn_classifier_eval, res, log_loss)) res->log_loss = log_loss;
    if (NLPRNN_HAS_FIELD(nlprnn_classifier_eval, res, macro_f1)) res->macro_f1 = macro_f1;
    return 0;
}

int nlprnn_model_evaluate(const nlprnn_classifier *m, const char *path, const char *text_column,
                          const char *label_column, int threads, long long **confusion,
                          long long *n_docs, long long *skipped, double *log_loss,
                          nlprnn_error *err) {
    if (confusion) *confusion = NULL;
    if (!m || !path || !confusion || !n_docs || !skipped || !log_loss)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "evaluate: NULL argument");
    return evaluate(m, path, text_column, label_column, threads, confusion, n_docs, skipped, log_loss, err);
}

/* Classify every example of ds with the network (inference), adding to the confusion matrix
 * (C,C) and the summed log loss. Documents that do not tokenize (empty) are not counted.
 * One context with `threads` workers classifies the examples a call of NR_CLF_EVAL_CALL_DOCS at a
 * time (nlprnn_classify_batch spreads tokenizing, layer 0's table and the batches over them), and
 * the losses are summed in document order on the calling thread: the results are the same bits
 * for any thread count. (Before, each worker had its own context for a contiguous part of the
 * examples: every worker paid for its own projection table, whose pages alone cost more than
 * the validation of a few hundred documents at 8 threads, and the loss sum depended on the
 * thread count in its last bits.) */
#define NR_CLF_EVAL_CALL_DOCS 2048

int nr_clf_eval_dataset(const nr_clf_net *net, const nlprnn_tokenizer *tok, const nr_dataset *ds,
                        int threads, long long *confusion, double *loss_sum, long long *counted,
                        nlprnn_error *err) {
    /* a model view around the net so the context code can be reused */
    nlprnn_classifier view;
    memset(&view, 0, sizeof view);
    view.net = *net;
    view.tok = (nlprnn_tokenizer *)tok;
    int C = net->cfg.classes;
    int W = threads == 0 ? nr_default_threads() : threads < 1 ? 1
            : threads > NR_MAX_THREADS ? NR_MAX_THREADS : threads;
    size_t chunk = ds->n < NR_CLF_EVAL_CALL_DOCS ? ds->n : NR_CLF_EVAL_CALL_DOCS;
    if (chunk == 0) return NLPRNN_OK;
    nlprnn_classifier_ctx *c = NULL;
    int rc = nlprnn_classifier_ctx_create(&view, W, &c, err);
    if (rc) return rc;
    float *probs = nr_malloc_array(chunk * (size_t)C, sizeof(float));
    int *status = nr_malloc_array(chunk, sizeof(int));
    if (!probs || !status) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    for (size_t s0 = 0; s0 < ds->n && !rc; s0 += chunk) {
        size_t n = ds->n - s0 < chunk ? ds->n - s0 : chunk;
        rc = nlprnn_classify_batch(c, (const char *const *)ds->text + s0, ds->len + s0, n, probs, status, err);
        for (size_t i = 0; i < n && !rc; i++) {
            if (status[i]) continue;
            int y = ds->label[s0 + i];
            if (y < 0 || y >= C) continue;
            const float *p = probs + i * C;
            int best = 0;
            for (int k = 1; k < C; k++)
                if (p[k] > p[best]) best = k;
            confusion[(size_t)y * C + best]++;
            double py = p[y] > 1e-7f ? p[y] : 1e-7;
            *loss_sum += -log(py);
            (*counted)++;
        }
    }
    free(probs);
    free(status);
    nlprnn_classifier_ctx_free(c);
    return rc;
}

/* tasks/lm/lm.c: recurrent language models (forward and backward), their file format, scoring,
 * next-word search, fill-in-the-blank, sampling, evaluation and training.
 *
 * Shapes: time-major everywhere, (T,B,·); states (L,B,H); logits (rows,V).
 *
 * Language-model loss (one direction), for a sentence s = <bos> x_1 .. x_n <eos>:
 *     h_t = encoder(emb(s_0..s_t))           (T,B,H)
 *     z_t = W h_t + b                        (V)      W = table when tied
 *     L   = - mean over real positions of log softmax(z_t)[s_{t+1}]
 * Training batches are sentences of similar length, padded and masked (lengths per row), each
 * starting from a zero state, exactly as they are scored later.
 */
#include "tasks/lm/lm.h"

#include <ctype.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "corpora/reader.h"
#include "format/modelfile.h"
#include "train/dist.h"
#include "nlprnn/classifier.h"
#include "train/ctl.h"

#define LM_CHUNK_T 64     /* time steps per encoder call at inference */
#define LM_MAX_B 64       /* rows per encoder call at inference */
#define LM_LOGIT_ROWS 256 /* rows of logits computed at once */
#define LM_MAX_SPAN 4     /* pieces in a proposed fill answer */
#define LM_BEAM 16        /* beam width of the searches */

/* ================================================================================================
 * networks
 * ============================================================================================== */

static void encoder_cfg(nr_encoder_cfg *ec, const nr_lm_cfg *cfg) {
    nr_encoder_cfg_default(ec, cfg->embed, cfg->hidden);
    ec->cell = cfg->cell;
    ec->layers = cfg->layers;
}

/* The parameter block of one network: embedding (vocab, embed), then (tied) the output bias
 * (vocab) and the encoder, or (untied) the encoder and the output layer (vocab, hidden) + bias.
 * Returns the floats in all (0 for a configuration the encoder refuses). */
static size_t lm_layout(const nr_lm_cfg *cfg, size_t *enc_off, size_t *out_off) {
    nr_encoder_cfg ec;
    encoder_cfg(&ec, cfg);
    size_t ne = nr_embedding_param_count(cfg->vocab, cfg->embed);
    size_t nenc = nr_encoder_param_count(&ec);
    size_t nd = nr_dense_param_count(cfg->hidden, cfg->vocab);
    if (!nenc) return 0;
    if (cfg->tied) {
        *out_off = 0;
        *enc_off = ne + (size_t)cfg->vocab;
        return *enc_off + nenc;
    }
    *enc_off = ne;
    *out_off = ne + nenc;
    return *out_off + nd;
}

int nr_lm_net_create(nr_lm_net *net, const nr_lm_cfg *cfg, int padding_id, nlprnn_error *err) {
    memset(net, 0, sizeof *net);
    if (cfg->cell != NR_CELL_LSTM && cfg->cell != NR_CELL_GRU)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "language model cell must be lstm or gru");
    if (cfg->vocab < NLPRNN_NUM_SPECIAL_IDS || cfg->embed < 1 || cfg->hidden < 1 || cfg->layers < 1 ||
        cfg->layers > NR_ENCODER_MAX_LAYERS)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "bad language model sizes: vocab %d embed %d hidden %d layers %d", cfg->vocab,
                       cfg->embed, cfg->hidden, cfg->layers);
    if (cfg->tied && cfg->embed != cfg->hidden)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "tied embeddings need embed == hidden (got %d and %d)", cfg->embed,
                       cfg->hidden);
    nr_encoder_cfg ec;
    encoder_cfg(&ec, cfg);
    net->n_params = lm_layout(cfg, &net->enc_off, &net->out_off);
    if (!net->n_params) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "bad encoder configuration");
    net->cfg = *cfg;
    net->params = nr_big_alloc(net->n_params, sizeof(float));
    if (!net->params) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory (language model)");
    memset(net->params, 0, net->n_params * sizeof(float));
    int rc = nr_embedding_bind(&net->emb, cfg->vocab, cfg->embed, padding_id, net->params, err);
    if (!rc) rc = nr_encoder_bind(&net->enc, &ec, net->params + net->enc_off, err);
    if (rc) {
        nr_lm_net_free(net);
        return rc;
    }
    nr_dense_bind(&net->out, cfg->hidden, cfg->vocab, net->params + net->out_off);
    return NLPRNN_OK;
}

void nr_lm_net_free(nr_lm_net *net) {
    if (!net) return;
    free(net->params);
    memset(net, 0, sizeof *net);
}

int nr_lm_net_init(nr_lm_net *net, nr_rng *rng, nlprnn_error *err) {
    nr_embedding_init(&net->emb, 0.05f, rng);
    int rc = nr_encoder_init(&net->enc, rng, err);
    if (rc) return rc;
    if (!net->cfg.tied) nr_dense_init(&net->out, rng);
    memset(net->out.b, 0, (size_t)net->cfg.vocab * sizeof(float));
    return NLPRNN_OK;
}

/* ================================================================================================
 * the model object and its file
 * ============================================================================================== */

static const char *dtype_label(int d) { return d == NR_DTYPE_I8 ? "int8" : d == NR_DTYPE_F16 ? "f16" : "f32"; }

int nr_lm_assemble(nlprnn_lm **out, nlprnn_tokenizer *tok, nr_lm_net *fwd, nr_lm_net *bwd,
                   const char *storage, nlprnn_error *err) {
    nlprnn_lm *lm = calloc(1, sizeof *lm);
    int V = fwd->cfg.vocab;
    if (lm) lm->kind = malloc((size_t)V);
    if (!lm || !lm->kind) {
        free(lm);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory (language model)");
    }
    lm->tok = tok;
    lm->net[0] = *fwd;
    lm->has[0] = 1;
    memset(fwd, 0, sizeof *fwd);
    if (bwd && bwd->params) {
        lm->net[1] = *bwd;
        lm->has[1] = 1;
        memset(bwd, 0, sizeof *bwd);
    }
    for (int i = 0; i < V; i++) {
        if (nlprnn_tokenizer_piece_is_special(tok, i) || nlprnn_tokenizer_piece_is_byte(tok, i))
            lm->kind[i] = NR_PIECE_OTHER;
        else
            lm->kind[i] = nlprnn_tokenizer_piece_is_word_start(tok, i) ? NR_PIECE_START : NR_PIECE_INNER;
    }
    snprintf(lm->storage, sizeof lm->storage, "%s", storage ? storage : "f32");
    const nr_lm_cfg *c = &lm->net[0].cfg;
    snprintf(lm->summary, sizeof lm->summary,
             "cell=%s layers=%d embed=%d hidden=%d tied=%d vocab=%d directions=%d params=%zu storage=%s",
             nr_cell_name(c->cell), c->layers, c->embed, c->hidden, c->tied, c->vocab,
             1 + lm->has[1], lm->net[0].n_params + (lm->has[1] ? lm->net[1].n_params : 0),
             lm->storage);
    *out = lm;
    return NLPRNN_OK;
}

void nlprnn_lm_free(nlprnn_lm *lm) {
    if (!lm) return;
    nlprnn_tokenizer_free(lm->tok);
    nr_lm_net_free(&lm->net[0]);
    nr_lm_net_free(&lm->net[1]);
    free(lm->kind);
    free(lm);
}

const nlprnn_tokenizer *nlprnn_lm_tokenizer(const nlprnn_lm *lm) { return lm ? lm->tok : NULL; }
int nlprnn_lm_has_backward(const nlprnn_lm *lm) { return lm ? lm->has[1] : 0; }
const char *nlprnn_lm_summary(const nlprnn_lm *lm) { return lm ? lm->summary : NULL; }

void nlprnn_lm_dims(const nlprnn_lm *lm, int *vocab, int *embed, int *hidden, int *layers,
                    const char **cell) {
    static const nr_lm_cfg none; /* all 0: what a NULL model reports */
    const nr_lm_cfg *c = lm ? &lm->net[0].cfg : &none;
    if (vocab) *vocab = c->vocab;
    if (embed) *embed = c->embed;
    if (hidden) *hidden = c->hidden;
    if (layers) *layers = c->layers;
    if (cell) *cell = lm ? nr_cell_name(c->cell) : NULL;
}

void nlprnn_lm_forward_weights(const nlprnn_lm *lm, const float **embedding, const float **encoder,
                               size_t *n_encoder) {
    const nr_lm_net *n = lm ? &lm->net[0] : NULL;
    if (embedding) *embedding = n ? n->emb.table : NULL;
    if (encoder) *encoder = n ? n->enc.params : NULL;
    if (n_encoder) *n_encoder = n ? n->enc.n_params : 0;
}

/* One network's tensors: embedding, output bias (and matrix), per layer W_ih W_hh b_ih b_hh. */
static int put_net(nr_mf_buf *b, const nr_lm_net *n, int dtype, nlprnn_error *err) {
    const nr_lm_cfg *c = &n->cfg;
    size_t sh[2] = {(size_t)c->vocab, (size_t)c->embed};
    int rc = nr_tensor_put(b, "embedding", n->emb.table, 2, sh, dtype, err);
    size_t sv[1] = {(size_t)c->vocab};
    if (!rc) rc = nr_tensor_put(b, "out.bias", n->out.b, 1, sv, NR_DTYPE_F32, err);
    if (!rc && !c->tied) {
        size_t so[2] = {(size_t)c->vocab, (size_t)c->hidden};
        rc = nr_tensor_put(b, "out.weight", n->out.w, 2, so, dtype, err);
    }
    size_t GH = (size_t)n->enc.gates * (size_t)c->hidden;
    for (int l = 0; l < c->layers && !rc; l++) {
        const nr_rnn_slot *s = &n->enc.slot[l][0];
        char name[64];
        size_t s1[2] = {GH, (size_t)s->in}, s2[2] = {GH, (size_t)c->hidden}, s3[1] = {GH};
        snprintf(name, sizeof name, "l%d.w_ih", l);
        rc = nr_tensor_put(b, name, n->enc.params + s->w_ih, 2, s1, dtype, err);
        snprintf(name, sizeof name, "l%d.w_hh", l);
        if (!rc) rc = nr_tensor_put(b, name, n->enc.params + s->w_hh, 2, s2, dtype, err);
        snprintf(name, sizeof name, "l%d.b_ih", l);
        if (!rc) rc = nr_tensor_put(b, name, n->enc.params + s->b_ih, 1, s3, NR_DTYPE_F32, err);
        snprintf(name, sizeof name, "l%d.b_hh", l);
        if (!rc) rc = nr_tensor_put(b, name, n->enc.params + s->b_hh, 1, s3, NR_DTYPE_F32, err);
    }
    return rc;
}

static int get_net(const nr_mf_reader *r, const char *tag, nr_lm_net *n, nlprnn_error *err) {
    const nr_lm_cfg *c = &n->cfg;
    size_t sh[2] = {(size_t)c->vocab, (size_t)c->embed};
    int rc = nr_mf_tensor_read(r, tag, "embedding", n->emb.table, 2, sh, err);
    size_t sv[1] = {(size_t)c->vocab};
    if (!rc) rc = nr_mf_tensor_read(r, tag, "out.bias", n->out.b, 1, sv, err);
    if (!rc && !c->tied) {
        size_t so[2] = {(size_t)c->vocab, (size_t)c->hidden};
        rc = nr_mf_tensor_read(r, tag, "out.weight", n->out.w, 2, so, err);
    }
    size_t GH = (size_t)n->enc.gates * (size_t)c->hidden;
    for (int l = 0; l < c->layers && !rc; l++) {
        const nr_rnn_slot *s = &n->enc.slot[l][0];
        char name[64];
        size_t s1[2] = {GH, (size_t)s->in}, s2[2] = {GH, (size_t)c->hidden}, s3[1] = {GH};
        snprintf(name, sizeof name, "l%d.w_ih", l);
        rc = nr_mf_tensor_read(r, tag, name, n->enc.params + s->w_ih, 2, s1, err);
        snprintf(name, sizeof name, "l%d.w_hh", l);
        if (!rc) rc = nr_mf_tensor_read(r, tag, name, n->enc.params + s->w_hh, 2, s2, err);
        snprintf(name, sizeof name, "l%d.b_ih", l);
        if (!rc) rc = nr_mf_tensor_read(r, tag, name, n->enc.params + s->b_ih, 1, s3, err);
        snprintf(name, sizeof name, "l%d.b_hh", l);
        if (!rc) rc = nr_mf_tensor_read(r, tag, name, n->enc.params + s->b_hh, 1, s3, err);
    }
    return rc;
}

int nr_lm_save(const nlprnn_lm *lm, const char *path, int dtype, const char *extra_conf,
               nlprnn_error *err) {
    nr_mf_writer *w = NULL;
    nr_mf_buf conf, wb;
    nr_mf_buf_init(&conf);
    nr_mf_buf_init(&wb);
    void *tokbuf = NULL;
    size_t tokn = 0;
    const nr_lm_cfg *c = &lm->net[0].cfg;
    int rc = nr_mf_writer_new(&w, NR_KIND_LANGMODEL, err);
    if (!rc) rc = nr_conf_put_int(&conf, "lm.version", 1, err);
    if (!rc) rc = nr_conf_put_str(&conf, "cell", nr_cell_name(c->cell), err);
    if (!rc) rc = nr_conf_put_int(&conf, "layers", c->layers, err);
    if (!rc) rc = nr_conf_put_int(&conf, "embed", c->embed, err);
    if (!rc) rc = nr_conf_put_int(&conf, "hidden", c->hidden, err);
    if (!rc) rc = nr_conf_put_int(&conf, "vocab", c->vocab, err);
    if (!rc) rc = nr_conf_put_int(&conf, "tied", c->tied, err);
    if (!rc) rc = nr_conf_put_int(&conf, "backward", lm->has[1], err);
    if (!rc) rc = nr_conf_put_str(&conf, "storage", dtype_label(dtype), err);
    if (!rc && extra_conf) rc = nr_mf_buf_put(&conf, extra_conf, strlen(extra_conf), err);
    if (!rc) rc = nr_mf_add(w, "CONF", NR_MF_CONFIG, conf.data, conf.len, 1, err);
    if (!rc) rc = nlprnn_tokenizer_save_memory(lm->tok, &tokbuf, &tokn, err);
    if (!rc) rc = nr_mf_add(w, "TOKN", NR_MF_RAW, tokbuf, tokn, 1, err);
    for (int d = 0; d < 2 && !rc; d++) {
        if (!lm->has[d]) continue;
        wb.len = 0;
        rc = put_net(&wb, &lm->net[d], dtype, err);
        if (!rc) rc = nr_mf_add(w, d ? "WBWD" : "WFWD", NR_MF_TENSORS, wb.data, wb.len, 0, err);
    }
    if (!rc) rc = nr_mf_writer_save(w, path, err);
    nlprnn_free(tokbuf);
    nr_mf_buf_free(&conf);
    nr_mf_buf_free(&wb);
    nr_mf_writer_free(w);
    return rc;
}

static int conf_int(const nr_conf *cf, const char *key, int lo, int hi, int *out,
                    const char *where, nlprnn_error *err) {
    long long v;
    int rc = nr_conf_get_int(cf, key, &v, err);
    if (rc) return rc;
    if (v < lo || v > hi)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: %s=%lld is out of range %d..%d", where,
                       key, v, lo, hi);
    *out = (int)v;
    return NLPRNN_OK;
}

int nr_lm_load_reader(const nr_mf_reader *r, nlprnn_lm **out, nlprnn_error *err) {
    *out = NULL;
    const char *path = nr_mf_name(r);
    int rc = NLPRNN_OK;
    nr_conf cf;
    memset(&cf, 0, sizeof cf);
    nlprnn_tokenizer *tok = NULL;
    nr_lm_net net[2];
    memset(net, 0, sizeof net);
    nr_lm_cfg c;
    memset(&c, 0, sizeof c);
    const char *cell = NULL, *storage = "f32";
    int backward = 0;
    rc = nr_mf_get_conf(r, "CONF", &cf, err);
    if (rc) goto done;
    rc = nr_conf_get_str(&cf, "cell", &cell, err);
    if (!rc) {
        c.cell = nr_cell_from_name(cell);
        if (c.cell != NR_CELL_LSTM && c.cell != NR_CELL_GRU)
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: unknown cell '%s'", path, cell);
    }
    if (!rc) rc = conf_int(&cf, "layers", 1, NR_ENCODER_MAX_LAYERS, &c.layers, path, err);
    if (!rc) rc = conf_int(&cf, "embed", 1, NR_MAX_EMBED, &c.embed, path, err);
    if (!rc) rc = conf_int(&cf, "hidden", 1, NR_MAX_HIDDEN, &c.hidden, path, err);
    if (!rc) rc = conf_int(&cf, "vocab", NLPRNN_NUM_SPECIAL_IDS, NR_MAX_VOCAB, &c.vocab, path, err);
    if (!rc) rc = conf_int(&cf, "tied", 0, 1, &c.tied, path, err);
    if (!rc) rc = conf_int(&cf, "backward", 0, 1, &backward, path, err);
    if (!rc && nr_conf_has(&cf, "storage")) rc = nr_conf_get_str(&cf, "storage", &storage, err);
    if (!rc && c.tied && c.embed != c.hidden)
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                     "%s: tied=1 (output layer = embedding) needs embed = hidden, the file says "
                     "embed=%d hidden=%d",
                     path, c.embed, c.hidden);
    for (int d = 0; d <= backward && !rc; d++) { /* sizes the file's tensors cannot hold */
        size_t eo, oo;
        char sizes[160];
        snprintf(sizes, sizeof sizes, "vocab %d embed %d hidden %d layers %d tied %d", c.vocab,
                 c.embed, c.hidden, c.layers, c.tied);
        rc = nr_mf_check_weight_count(r, d ? "WBWD" : "WFWD", lm_layout(&c, &eo, &oo), sizes, err);
    }
    if (rc) goto done;
    const nr_mf_section *ts = NULL;
    rc = nr_mf_require(r, "TOKN", &ts, err);
    if (!rc) {
        rc = nlprnn_tokenizer_load_memory(ts->data, (size_t)ts->raw_len, &tok, err);
        if (rc) nr_fail_prefix(err, rc, NR_KEEP, NR_KEEP, "%.200s: section TOKN: ", path);
    }
    if (rc) goto done;
    if (nlprnn_tokenizer_vocab_size(tok) != c.vocab) {
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: the tokenizer has %d ids but the model %d",
                     path, (int)nlprnn_tokenizer_vocab_size(tok), c.vocab);
        goto done;
    }
    for (int d = 0; d <= backward && !rc; d++) {
        rc = nr_lm_net_create(&net[d], &c, NLPRNN_ID_PAD, err);
        if (!rc) rc = get_net(r, d ? "WBWD" : "WFWD", &net[d], err);
    }
    if (!rc) {
        rc = nr_lm_assemble(out, tok, &net[0], &net[1], storage, err);
        if (!rc) tok = NULL;
    }
done:
    nr_lm_net_free(&net[0]);
    nr_lm_net_free(&net[1]);
    nlprnn_tokenizer_free(tok);
    nr_conf_free(&cf);
    return rc;
}

static int load_file(const char *path, nlprnn_lm **out, nlprnn_error *err) {
    nr_mf_reader *r = NULL;
    int rc = nr_mf_open_file(&r, path, NR_KIND_LANGMODEL, err);
    if (rc) return rc;
    rc = nr_lm_load_reader(r, out, err);
    nr_mf_close(r);
    return rc;
}

int nlprnn_lm_load(const char *path_or_name, nlprnn_lm **out, nlprnn_error *err) {
    if (out) *out = NULL;
    if (!path_or_name || !*path_or_name || !out)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "no language model path or name given");
    *out = NULL;
    char path[4096];
    int rc = nr_model_resolve(path_or_name, "ko-lm", path, sizeof path, err);
    if (rc) return rc;
    return load_file(path, out, err);
}

/* ================================================================================================
 * context and the two inference primitives: score sequences, step a beam
 * ============================================================================================== */

struct nlprnn_lm_ctx {
    const nlprnn_lm *lm;
    nlprnn_encoding *enc;
    nr_encoder_ws *ws[2];
    int *in;          /* (LM_CHUNK_T*LM_MAX_B) input ids of a chunk */
    int lens[LM_MAX_B];
    float *x;         /* (LM_CHUNK_T*LM_MAX_B, E) */
    float *h;         /* (LM_CHUNK_T*LM_MAX_B, H) encoder outputs */
    float *rows;      /* (LM_LOGIT_ROWS, H) gathered outputs */
    int row_b[LM_LOGIT_ROWS];
    int row_tgt[LM_LOGIT_ROWS];
    float *logits;    /* (max(LM_LOGIT_ROWS, LM_MAX_B), V) */
    float *s[4];      /* (L,LM_MAX_B,H) h0 c0 hn cn */
    float *st[2];     /* (L,LM_MAX_B,H) scratch for reordering beams */
};

void nlprnn_lm_ctx_free(nlprnn_lm_ctx *ctx) {
    if (!ctx) return;
    nlprnn_encoding_free(ctx->enc);
    nr_encoder_ws_free(ctx->ws[0]);
    nr_encoder_ws_free(ctx->ws[1]);
    free(ctx->in);
    free(ctx->x);
    free(ctx->h);
    free(ctx->rows);
    free(ctx->logits);
    for (int i = 0; i < 4; i++) free(ctx->s[i]);
    for (int i = 0; i < 2; i++) free(ctx->st[i]);
    free(ctx);
}

nlprnn_lm_ctx *nlprnn_lm_ctx_create(const nlprnn_lm *lm) {
    if (!lm) return NULL;
    nlprnn_lm_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return NULL;
    const nr_lm_cfg *c = &lm->net[0].cfg;
    size_t TB = (size_t)LM_CHUNK_T * LM_MAX_B, LBH = (size_t)c->layers * LM_MAX_B * c->hidden;
    ctx->lm = lm;
    ctx->enc = nlprnn_encoding_create();
    for (int d = 0; d < 2; d++)
        if (lm->has[d]) ctx->ws[d] = nr_encoder_ws_create(&lm->net[d].enc, LM_CHUNK_T, LM_MAX_B, 0, 1, NULL);
    ctx->in = nr_malloc_array(TB, sizeof(int));
    ctx->x = nr_malloc_array(TB * (size_t)c->embed, sizeof(float));
    ctx->h = nr_malloc_array(TB * (size_t)c->hidden, sizeof(float));
    ctx->rows = nr_malloc_array((size_t)LM_LOGIT_ROWS * c->hidden, sizeof(float));
    ctx->logits = nr_malloc_array((size_t)LM_LOGIT_ROWS * c->vocab, sizeof(float));
    int ok = ctx->enc && ctx->ws[0] && (!lm->has[1] || ctx->ws[1]) && ctx->in && ctx->x && ctx->h &&
             ctx->rows && ctx->logits;
    for (int i = 0; i < 4; i++) ok = ok && (ctx->s[i] = nr_calloc_array(LBH, sizeof(float)));
    for (int i = 0; i < 2; i++) ok = ok && (ctx->st[i] = nr_calloc_array(LBH, sizeof(float)));
    if (!ok) {
        nlprnn_lm_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

/* In place: row (V) -> log softmax(row). */
static void log_softmax(float *z, int V) {
    float mx = z[0];
    for (int i = 1; i < V; i++) mx = z[i] > mx ? z[i] : mx;
    double s = 0;
    for (int i = 0; i < V; i++) s += exp((double)(z[i] - mx));
    float lse = mx + (float)log(s);
    for (int i = 0; i < V; i++) z[i] -= lse;
}

/* Log-probabilities of the gathered rows: lp[k] += log p(row_tgt[k]) for rows 0..n-1 into
 * acc[row_b[k]] (and per-piece into tok_lp when given). */
static void flush_rows(nlprnn_lm_ctx *ctx, const nr_lm_net *net, int n, double *acc) {
    int V = net->cfg.vocab;
    nr_dense_forward(&net->out, ctx->logits, ctx->rows, n); /* (n,V) */
    for (int k = 0; k < n; k++) {
        float *z = ctx->logits + (size_t)k * V;
        float mx = z[0];
        for (int i = 1; i < V; i++) mx = z[i] > mx ? z[i] : mx;
        double s = 0;
        for (int i = 0; i < V; i++) s += exp((double)(z[i] - mx));
        acc[ctx->row_b[k]] += (double)(z[ctx->row_tgt[k]] - mx) - log(s);
    }
}

static void broadcast_state(nlprnn_lm_ctx *ctx, int B);

/* lp[b] = sum_{t>=1} log p(seqs[b][t] | seqs[b][<t]) for B <= LM_MAX_B sequences of lens[b] >= 2
 * pieces (the first is the context start, usually <bos>). init (optional): a state (L,1,H) h then
 * c (2*L*H floats) that every row starts from instead of zeros. */
static int score_batch(nlprnn_lm_ctx *ctx, int dir, const int32_t *const *seqs, const int *lens,
                       int B, const float *init, double *lp, nlprnn_error *err) {
    const nr_lm_net *net = &ctx->lm->net[dir];
    const nr_lm_cfg *c = &net->cfg;
    int maxT = 0;
    for (int b = 0; b < B; b++) {
        lp[b] = 0;
        if (lens[b] - 1 > maxT) maxT = lens[b] - 1;
    }
    int nrow = 0;
    if (init) {
        size_t LH = (size_t)c->layers * c->hidden;
        memcpy(ctx->s[0], init, LH * sizeof(float));
        memcpy(ctx->s[1], init + LH, LH * sizeof(float));
        broadcast_state(ctx, B);
    }
    for (int t0 = 0; t0 < maxT; t0 += LM_CHUNK_T) {
        int Tc = maxT - t0 < LM_CHUNK_T ? maxT - t0 : LM_CHUNK_T;
        for (int b = 0; b < B; b++) {
            int rem = lens[b] - 1 - t0;
            ctx->lens[b] = rem < 1 ? 1 : rem > Tc ? Tc : rem;
            for (int t = 0; t < Tc; t++)
                ctx->in[t * B + b] = t < rem ? seqs[b][t0 + t] : NLPRNN_ID_PAD;
        }
        int rc = nr_embedding_forward(&net->emb, ctx->x, ctx->in, (size_t)Tc * B, err);
        if (rc) return rc;
        rc = nr_encoder_forward(&net->enc, ctx->ws[dir], ctx->h, ctx->s[2], ctx->s[3], ctx->x,
                                ctx->lens, t0 || init ? ctx->s[0] : NULL, t0 || init ? ctx->s[1] : NULL,
                                Tc, B, NULL, err);
        if (rc) return rc;
        size_t LBH = (size_t)c->layers * B * c->hidden;
        memcpy(ctx->s[0], ctx->s[2], LBH * sizeof(float));
        memcpy(ctx->s[1], ctx->s[3], LBH * sizeof(float));
        for (int t = 0; t < Tc; t++)
            for (int b = 0; b < B; b++) {
                if (t0 + t + 1 >= lens[b]) continue;
                memcpy(ctx->rows + (size_t)nrow * c->hidden, ctx->h + ((size_t)t * B + b) * c->hidden,
                       (size_t)c->hidden * sizeof(float));
                ctx->row_b[nrow] = b;
                ctx->row_tgt[nrow] = seqs[b][t0 + t + 1];
                if (++nrow == LM_LOGIT_ROWS) {
                    flush_rows(ctx, net, nrow, lp);
                    nrow = 0;
                }
            }
    }
    if (nrow) flush_rows(ctx, net, nrow, lp);
    return NLPRNN_OK;
}

/* Score any number of sequences in groups of LM_MAX_B. The longest prefix that all sequences
 * share is run once: lp then leaves out the log-probabilities of the shared pieces, a constant
 * common to all sequences (rankings and normalized probabilities are unchanged). */
static int run_prefix(nlprnn_lm_ctx *ctx, int dir, const int32_t *ids, int n, float *logp,
                      nlprnn_error *err);

static int score_many(nlprnn_lm_ctx *ctx, int dir, const int32_t *const *seqs, const int *lens,
                      int n, double *lp, nlprnn_error *err) {
    const nr_lm_cfg *c = &ctx->lm->net[dir].cfg;
    int P = n > 1 ? lens[0] - 1 : 0; /* shared pieces, keeping at least one piece to score */
    for (int i = 1; i < n && P > 0; i++) {
        int m = lens[i] - 1 < P ? lens[i] - 1 : P, k = 0;
        while (k < m && seqs[i][k] == seqs[0][k]) k++;
        P = k;
    }
    float *init = NULL, *logp = NULL;
    const int32_t **sub = NULL;
    int *sublen = NULL;
    int rc = NLPRNN_OK;
    if (P >= 2) { /* run pieces 0..P-2; scoring restarts at piece P-1 as the context start */
        size_t LH = (size_t)c->layers * c->hidden;
        init = nr_malloc_array(2 * LH, sizeof(float));
        logp = nr_malloc_array((size_t)c->vocab, sizeof(float));
        sub = nr_malloc_array((size_t)n, sizeof *sub);
        sublen = nr_malloc_array((size_t)n, sizeof *sublen);
        if (!init || !logp || !sub || !sublen) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        if (!rc) rc = run_prefix(ctx, dir, seqs[0], P - 1, logp, err);
        if (!rc) {
            memcpy(init, ctx->s[0], LH * sizeof(float));
            memcpy(init + LH, ctx->s[1], LH * sizeof(float));
            for (int i = 0; i < n; i++) {
                sub[i] = seqs[i] + (P - 1);
                sublen[i] = lens[i] - (P - 1);
            }
            seqs = sub;
            lens = sublen;
        }
    }
    for (int i = 0; i < n && !rc; i += LM_MAX_B) {
        int B = n - i < LM_MAX_B ? n - i : LM_MAX_B;
        rc = score_batch(ctx, dir, seqs + i, lens + i, B, init, lp + i, err);
    }
    free(init);
    free(logp);
    free(sub);
    free(sublen);
    return rc;
}

/* Run one sequence ids (n >= 1) from the zero state; the final state is left in row 0 of
 * ctx->s[0], ctx->s[1] (as (L,1,H)) and the log-softmax after the last piece in logp (V). */
static int run_prefix(nlprnn_lm_ctx *ctx, int dir, const int32_t *ids, int n, float *logp,
                      nlprnn_error *err) {
    const nr_lm_net *net = &ctx->lm->net[dir];
    const nr_lm_cfg *c = &net->cfg;
    size_t LH = (size_t)c->layers * c->hidden;
    int Tc = 0;
    for (int t0 = 0; t0 < n; t0 += LM_CHUNK_T) {
        Tc = n - t0 < LM_CHUNK_T ? n - t0 : LM_CHUNK_T;
        for (int t = 0; t < Tc; t++) ctx->in[t] = ids[t0 + t];
        int rc = nr_embedding_forward(&net->emb, ctx->x, ctx->in, (size_t)Tc, err);
        if (rc) return rc;
        rc = nr_encoder_forward(&net->enc, ctx->ws[dir], ctx->h, ctx->s[2], ctx->s[3], ctx->x, NULL,
                                t0 ? ctx->s[0] : NULL, t0 ? ctx->s[1] : NULL, Tc, 1, NULL, err);
        if (rc) return rc;
        memcpy(ctx->s[0], ctx->s[2], LH * sizeof(float));
        memcpy(ctx->s[1], ctx->s[3], LH * sizeof(float));
    }
    nr_dense_forward(&net->out, logp, ctx->h + (size_t)(Tc - 1) * c->hidden, 1);
    log_softmax(logp, c->vocab);
    return NLPRNN_OK;
}

/* One step of B <= LM_MAX_B rows: inputs ids (B), states ctx->s[0], s[1] (L,B,H) are replaced by
 * the new states; logp (B,V) receives the log-softmax of each row. */
static int step_rows(nlprnn_lm_ctx *ctx, int dir, const int *ids, int B, float *logp,
                     nlprnn_error *err) {
    const nr_lm_net *net = &ctx->lm->net[dir];
    const nr_lm_cfg *c = &net->cfg;
    int rc = nr_embedding_forward(&net->emb, ctx->x, ids, (size_t)B, err);
    if (rc) return rc;
    rc = nr_encoder_forward(&net->enc, ctx->ws[dir], ctx->h, ctx->s[2], ctx->s[3], ctx->x, NULL,
                            ctx->s[0], ctx->s[1], 1, B, NULL, err);
    if (rc) return rc;
    size_t LBH = (size_t)c->layers * B * c->hidden;
    memcpy(ctx->s[0], ctx->s[2], LBH * sizeof(float));
    memcpy(ctx->s[1], ctx->s[3], LBH * sizeof(float));
    nr_dense_forward(&net->out, logp, ctx->h, B);
    for (int b = 0; b < B; b++) log_softmax(logp + (size_t)b * c->vocab, c->vocab);
    return NLPRNN_OK;
}

/* States (L,Bold,H) in ctx->s[0..1] -> (L,Bnew,H) with row j = old row src[j]. */
static void reorder_states(nlprnn_lm_ctx *ctx, const int *src, int Bold, int Bnew) {
    const nr_lm_cfg *c = &ctx->lm->net[0].cfg;
    int H = c->hidden;
    for (int k = 0; k < 2; k++) {
        for (int l = 0; l < c->layers; l++)
            for (int j = 0; j < Bnew; j++)
                memcpy(ctx->st[k] + ((size_t)l * Bnew + j) * H,
                       ctx->s[k] + ((size_t)l * Bold + src[j]) * H, (size_t)H * sizeof(float));
        memcpy(ctx->s[k], ctx->st[k], (size_t)c->layers * Bnew * H * sizeof(float));
    }
}

/* Replicate row 0 of the states (L,1,H) to B rows. */
static void broadcast_state(nlprnn_lm_ctx *ctx, int B) {
    int src[LM_MAX_B] = {0};
    reorder_states(ctx, src, 1, B);
}

/* ================================================================================================
 * encoding helpers
 * ============================================================================================== */

/* Growable int32 vector. */
typedef struct ivec {
    int32_t *v;
    size_t n, cap;
} ivec;

static int ivec_push(ivec *a, int32_t x) {
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 64;
        int32_t *nv = nr_realloc_array(a->v, nc, sizeof(int32_t));
        if (!nv) return NLPRNN_E_NOMEM;
        a->v = nv;
        a->cap = nc;
    }
    a->v[a->n++] = x;
    return NLPRNN_OK;
}

/* <bos> ids <eos> of text for direction dir (the backward model reads the ids reversed) into a
 * new array *out (n pieces). */
static int encode_dir(nlprnn_lm_ctx *ctx, const char *text, size_t len, int dir, int32_t **out,
                      int *n, nlprnn_error *err) {
    int rc = nlprnn_tokenizer_encode(ctx->lm->tok, text, len, ctx->enc, err);
    if (rc) return rc;
    size_t m = nlprnn_encoding_size(ctx->enc);
    if (m > (1u << 24)) return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "text has too many pieces");
    const int32_t *ids = nlprnn_encoding_ids(ctx->enc);
    int32_t *s = nr_malloc_array(m + 2, sizeof(int32_t));
    if (!s) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    s[0] = NLPRNN_ID_BOS;
    for (size_t i = 0; i < m; i++) s[1 + i] = dir ? ids[m - 1 - i] : ids[i];
    s[m + 1] = NLPRNN_ID_EOS;
    *out = s;
    *n = (int)(m + 2);
    return NLPRNN_OK;
}

static int need_dir(const nlprnn_lm *lm, int dir, nlprnn_error *err) {
    if (dir != NLPRNN_LM_FORWARD && dir != NLPRNN_LM_BACKWARD)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "direction must be 0 (forward) or 1 (backward)");
    if (!lm->has[dir])
        return nr_fail(err, NLPRNN_E_UNSUPPORTED, -1, -1, "this language model has no backward network");
    return NLPRNN_OK;
}

/* A score or probability that is NaN or infinite: weights that are finite (the loader refuses
 * anything else) but so large that the arithmetic overflows. No such number is ever returned. */
static int not_finite(nlprnn_error *err, const char *what) {
    return nr_fail(err, NLPRNN_E_NUMERIC, -1, -1,
                   "the language model gives a non-finite %s (NaN or infinity): its weights are "
                   "out of any trained range",
                   what);
}

int nlprnn_lm_score(nlprnn_lm_ctx *ctx, const char *text, size_t len, int direction,
                    double *logprob, size_t *n_pred, nlprnn_error *err) {
    if (!ctx || !text || !logprob) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "lm score: NULL argument");
    int rc = need_dir(ctx->lm, direction, err);
    if (rc) return rc;
    int32_t *s = NULL;
    int n = 0;
    rc = encode_dir(ctx, text, len, direction, &s, &n, err);
    if (rc) return rc;
    const int32_t *seqs[1] = {s};
    rc = score_batch(ctx, direction, seqs, &n, 1, NULL, logprob, err);
    if (!rc && !isfinite(*logprob)) rc = not_finite(err, "log-probability");
    if (n_pred) *n_pred = (size_t)(n - 1);
    free(s);
    return rc;
}

void nlprnn_lm_choices_free(nlprnn_lm_choice *c, size_t n) {
    if (!c) return;
    for (size_t i = 0; i < n; i++) free(c[i].text);
    free(c);
}

/* ================================================================================================
 * beam search over pieces (next word, fill proposals)
 * ============================================================================================== */

typedef struct hyp {
    int32_t tok[LM_MAX_SPAN];
    int n;
    double lp;
} hyp;

/* A proposed answer: its text and best proposal score. */
typedef struct cand {
    char *text;
    double score;
} cand;

typedef struct cand_set {
    cand *c;
    size_t n, cap;
} cand_set;

static void cand_set_free(cand_set *s) {
    for (size_t i = 0; i < s->n; i++) free(s->c[i].text);
    free(s->c);
    memset(s, 0, sizeof *s);
}

/* Add (text, score), keeping the best score of a duplicate. Takes ownership of text. */
static int cand_add(cand_set *s, char *text, double score) {
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->c[i].text, text)) {
            if (score > s->c[i].score) s->c[i].score = score;
            free(text);
            return NLPRNN_OK;
        }
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 32;
        cand *nv = nr_realloc_array(s->c, nc, sizeof(cand));
        if (!nv) {
            free(text);
            return NLPRNN_E_NOMEM;
        }
        s->c = nv;
        s->cap = nc;
    }
    s->c[s->n].text = text;
    s->c[s->n].score = score;
    s->n++;
    return NLPRNN_OK;
}

static int cmp_cand_desc(const void *a, const void *b) {
    double x = ((const cand *)a)->score, y = ((const cand *)b)->score;
    return x < y ? 1 : x > y ? -1 : strcmp(((const cand *)a)->text, ((const cand *)b)->text);
}

/* Keep the best `cap` (score, index) pairs, sorted descending (insertion into a short list). */
typedef struct topk {
    double s[LM_BEAM * LM_BEAM];
    int i[LM_BEAM * LM_BEAM];
    int n, cap;
} topk;

static void topk_add(topk *t, double s, int i) {
    if (t->n == t->cap && s <= t->s[t->n - 1]) return;
    int j = t->n < t->cap ? t->n++ : t->n - 1;
    while (j > 0 && t->s[j - 1] < s) {
        t->s[j] = t->s[j - 1];
        t->i[j] = t->i[j - 1];
        j--;
    }
    t->s[j] = s;
    t->i[j] = i;
}

/* Search rules of a beam:
 *   dir          which network generates (pieces come in reading order of that network)
 *   first_kind   the kind the answer's FIRST piece (in text order) must have
 *   end_tok      >= 0: a hypothesis is complete with log p(end_tok | context, span) added;
 *                -1: completion adds log of the total probability of a word start or <eos>
 * Forward: span order = generation order; the first generated piece must be first_kind and the
 * rest NR_PIECE_INNER. Backward: generation runs right to left, so every generated piece but the
 * latest must be INNER, and a hypothesis is an answer when its latest piece is first_kind. */
typedef struct beam_rules {
    int dir;
    int first_kind;
    int end_tok;
} beam_rules;

static double completion(const nlprnn_lm *lm, const float *logp, int V, int end_tok) {
    if (end_tok >= 0) return logp[end_tok];
    double s = exp((double)logp[NLPRNN_ID_EOS]);
    for (int i = 0; i < V; i++)
        if (lm->kind[i] == NR_PIECE_START) s += exp((double)logp[i]);
    return log(s > 1e-300 ? s : 1e-300);
}

/* Decode a span (text order) into a trimmed word; NULL when it decodes to nothing. */
static char *span_text(const nlprnn_lm *lm, const int32_t *tok, int n, int reversed) {
    int32_t t[LM_MAX_SPAN];
    for (int i = 0; i < n; i++) t[i] = reversed ? tok[n - 1 - i] : tok[i];
    char *s = NULL;
    size_t len = 0;
    if (nlprnn_tokenizer_decode_alloc(lm->tok, t, (size_t)n, &s, &len, NULL)) return NULL;
    size_t a = 0;
    while (a < len && s[a] == ' ') a++;
    while (len > a && s[len - 1] == ' ') len--;
    if (len == a) {
        nlprnn_free(s);
        return NULL;
    }
    char *r = malloc(len - a + 1);
    if (r) {
        memcpy(r, s + a, len - a);
        r[len - a] = 0;
    }
    nlprnn_free(s);
    return r;
}

/* Beam search from the state after ctx_ids; every complete hypothesis goes into out with score
 * lp(span) + completion. */
static int beam_search(nlprnn_lm_ctx *ctx, const beam_rules *br, const int32_t *ctx_ids, int n_ctx,
                       int width, cand_set *out, nlprnn_error *err) {
    const nlprnn_lm *lm = ctx->lm;
    int V = lm->net[br->dir].cfg.vocab;
    if (width > LM_BEAM) width = LM_BEAM;
    float *logp = nr_malloc_array((size_t)LM_BEAM * V, sizeof(float));
    if (!logp) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    hyp beam[LM_BEAM], next[LM_BEAM];
    int nb = 1, rc;
    memset(beam, 0, sizeof beam);
    rc = run_prefix(ctx, br->dir, ctx_ids, n_ctx, logp, err);
    for (int depth = 0; depth < LM_MAX_SPAN && !rc && nb > 0; depth++) {
        topk tk;
        tk.n = 0;
        tk.cap = width;
        for (int b = 0; b < nb; b++) {
            const float *lp = logp + (size_t)b * V;
            for (int v = 0; v < V; v++) {
                int k = lm->kind[v];
                if (k == NR_PIECE_OTHER) continue;
                if (br->dir == NLPRNN_LM_FORWARD) {
                    if (depth == 0 ? k != br->first_kind : k != NR_PIECE_INNER) continue;
                } else if (k != NR_PIECE_INNER && k != br->first_kind) {
                    continue;
                }
                topk_add(&tk, beam[b].lp + lp[v], b * V + v);
            }
        }
        if (tk.n == 0) break; /* no piece may continue */
        for (int j = 0; j < tk.n; j++) {
            int b = tk.i[j] / V, v = tk.i[j] % V;
            next[j] = beam[b];
            next[j].tok[next[j].n++] = v;
            next[j].lp = tk.s[j];
        }
        int src[LM_BEAM], ids[LM_BEAM];
        for (int j = 0; j < tk.n; j++) {
            src[j] = tk.i[j] / V;
            ids[j] = tk.i[j] % V;
        }
        if (depth == 0) broadcast_state(ctx, tk.n);
        else reorder_states(ctx, src, nb, tk.n);
        nb = tk.n;
        memcpy(beam, next, (size_t)nb * sizeof(hyp));
        rc = step_rows(ctx, br->dir, ids, nb, logp, err);
        if (rc) break;
        /* record answers; drop hypotheses that cannot grow */
        int keep = 0, keep_src[LM_BEAM];
        for (int b = 0; b < nb; b++) {
            int last = beam[b].tok[beam[b].n - 1];
            int answer = 1, grow = 1;
            if (br->dir == NLPRNN_LM_BACKWARD) {
                answer = lm->kind[last] == br->first_kind;
                grow = lm->kind[last] == NR_PIECE_INNER;
            }
            if (answer) {
                double sc = beam[b].lp + completion(lm, logp + (size_t)b * V, V, br->end_tok);
                char *t = span_text(lm, beam[b].tok, beam[b].n, br->dir == NLPRNN_LM_BACKWARD);
                if (t && cand_add(out, t, sc)) {
                    rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
                    break;
                }
            }
            if (grow) keep_src[keep++] = b;
        }
        if (rc) break;
        if (keep < nb) {
            for (int j = 0; j < keep; j++) {
                beam[j] = beam[keep_src[j]];
                if (j != keep_src[j])
                    memcpy(logp + (size_t)j * V, logp + (size_t)keep_src[j] * V, (size_t)V * sizeof(float));
            }
            reorder_states(ctx, keep_src, nb, keep);
            nb = keep;
        }
    }
    free(logp);
    return rc;
}

/* ================================================================================================
 * next word
 * ============================================================================================== */

/* Answers from the candidates, best first. Probabilities are in [0, 1]: normalized over the
 * answers, or exp(score) of a log-probability (never above 0 but for rounding, cut at 1). */
static int choices_from(cand_set *cs, int k, int normalize, nlprnn_lm_choice **out, size_t *n,
                        nlprnn_error *err) {
    for (size_t i = 0; i < cs->n; i++)
        if (!isfinite(cs->c[i].score)) return not_finite(err, "score");
    if (cs->n > 1) qsort(cs->c, cs->n, sizeof(cand), cmp_cand_desc);
    size_t m = cs->n < (size_t)k ? cs->n : (size_t)k;
    nlprnn_lm_choice *c = calloc(m ? m : 1, sizeof *c);
    if (!c) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    double mx = m ? cs->c[0].score : 0, z = 0;
    for (size_t i = 0; i < m; i++) z += exp(cs->c[i].score - mx);
    for (size_t i = 0; i < m; i++) {
        c[i].text = cs->c[i].text;
        cs->c[i].text = NULL;
        c[i].score = cs->c[i].score;
        c[i].prob = normalize ? exp(cs->c[i].score - mx) / z : exp(fmin(cs->c[i].score, 0.0));
    }
    *out = c;
    *n = m;
    return NLPRNN_OK;
}

int nlprnn_lm_next(nlprnn_lm_ctx *ctx, const char *prefix, size_t len, int k,
                   nlprnn_lm_choice **out, size_t *n, nlprnn_error *err) {
    if (out) *out = NULL;
    if (n) *n = 0;
    if (!ctx || !prefix || !out || !n) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "lm next: NULL argument");
    if (k < 1 || k > 100) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "k must be in 1..100 (got %d)", k);
    int32_t *s = NULL;
    int m = 0;
    int rc = encode_dir(ctx, prefix, len, NLPRNN_LM_FORWARD, &s, &m, err);
    if (rc) return rc;
    cand_set cs = {0};
    beam_rules br = {NLPRNN_LM_FORWARD, NR_PIECE_START, -1};
    int width = k + 4 > LM_BEAM ? LM_BEAM : k + 4;
    rc = beam_search(ctx, &br, s, m - 1, width, &cs, err); /* context without the final <eos> */
    free(s);
    if (!rc) rc = choices_from(&cs, k, 0, out, n, err);
    cand_set_free(&cs);
    return rc;
}

/* ================================================================================================
 * fill in the blank
 * ============================================================================================== */

/* scores: cands[i].score += weight * (mean over the directions of log P(pre + cands[i] + suf)).
 * seqs, lens, lp: (nc) scratch; *buf: a reused text buffer. */
static int add_spliced_scores(nlprnn_lm_ctx *ctx, const char *pre, size_t npre, const char *suf,
                              size_t nsuf, cand *cands, size_t nc, double weight, int32_t **seqs,
                              int *lens, double *lp, char **buf, nlprnn_error *err) {
    int ndir = 1 + ctx->lm->has[1], rc = 0;
    for (int d = 0; d < ndir && !rc; d++) {
        for (size_t i = 0; i < nc && !rc; i++) {
            size_t cl = strlen(cands[i].text), tl = npre + cl + nsuf;
            char *nb = realloc(*buf, tl + 1);
            if (!nb) {
                rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
                break;
            }
            *buf = nb;
            memcpy(nb, pre, npre);
            memcpy(nb + npre, cands[i].text, cl);
            memcpy(nb + npre + cl, suf, nsuf);
            nb[tl] = 0;
            rc = encode_dir(ctx, nb, tl, d, &seqs[i], &lens[i], err);
            if (rc == NLPRNN_E_UTF8)
                rc = nr_fail(err, NLPRNN_E_UTF8, -1, -1, "candidate %zu ('%s') is not valid UTF-8", i + 1,
                             cands[i].text);
        }
        if (!rc) rc = score_many(ctx, d, (const int32_t *const *)seqs, lens, (int)nc, lp, err);
        for (size_t i = 0; i < nc; i++) {
            if (!rc) cands[i].score += weight * lp[i] / ndir;
            free(seqs[i]);
            seqs[i] = NULL;
        }
    }
    return rc;
}

/* Score the sentences prefix + cands[i] + suffix with both networks; score = mean of the
 * directions' log-probabilities, minus (when alpha != 0) alpha * the prior of the span: the
 * log-probability of the text fpre + cands[i] + fsuf (the blank's local frame) alone, mean of the
 * directions too. */
static int rank_sentences(nlprnn_lm_ctx *ctx, const char *pre, size_t npre, const char *suf,
                          size_t nsuf, const char *fpre, size_t nfpre, const char *fsuf, size_t nfsuf,
                          cand *cands, size_t nc, double alpha, nlprnn_error *err) {
    int32_t **seqs = calloc(nc ? nc : 1, sizeof *seqs);
    int *lens = calloc(nc ? nc : 1, sizeof *lens);
    double *lp = calloc(nc ? nc : 1, sizeof *lp);
    char *buf = NULL;
    int rc = (!seqs || !lens || !lp) ? nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory") : 0;
    for (size_t i = 0; i < nc; i++) cands[i].score = 0;
    if (!rc) rc = add_spliced_scores(ctx, pre, npre, suf, nsuf, cands, nc, 1.0, seqs, lens, lp, &buf, err);
    if (!rc && alpha != 0)
        rc = add_spliced_scores(ctx, fpre, nfpre, fsuf, nfsuf, cands, nc, -alpha, seqs, lens, lp, &buf, err);
    free(buf);
    free(seqs);
    free(lens);
    free(lp);
    return rc;
}

int nlprnn_lm_fill(nlprnn_lm_ctx *ctx, const char *text, size_t len, const char *const *candidates,
                   size_t n_cand, int k, nlprnn_lm_choice **out, size_t *n, nlprnn_error *err) {
    return nlprnn_lm_fill_calibrated(ctx, text, len, candidates, n_cand, k, 0.0, out, n, err);
}

int nlprnn_lm_fill_calibrated(nlprnn_lm_ctx *ctx, const char *text, size_t len,
                              const char *const *candidates, size_t n_cand, int k, double alpha,
                              nlprnn_lm_choice **out, size_t *n, nlprnn_error *err) {
    if (out) *out = NULL;
    if (n) *n = 0;
    if (!ctx || !text || !out || !n) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "lm fill: NULL argument");
    if (!candidates && n_cand)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "fill: %zu candidates but no array", n_cand);
    for (size_t i = 0; i < n_cand; i++)
        if (!candidates[i])
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "fill: candidate %zu is NULL", i + 1);
    if (k < 1 || k > 1000) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "k must be in 1..1000 (got %d)", k);
    if (!(alpha >= 0 && alpha <= 2))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "alpha must be in 0..2 (got %g)", alpha);
    const nlprnn_lm *lm = ctx->lm;
    int rc = nlprnn_tokenizer_encode(lm->tok, text, len, ctx->enc, err);
    if (rc) return rc;
    size_t m = nlprnn_encoding_size(ctx->enc);
    const int32_t *ids = nlprnn_encoding_ids(ctx->enc);
    const size_t *off = nlprnn_encoding_offsets(ctx->enc);
    long long blank = -1, nblank = 0, second = -1;
    for (size_t i = 0; i < m; i++)
        if (ids[i] == NLPRNN_ID_MASK) {
            if (nblank == 1) second = (long long)i;
            if (!nblank) blank = (long long)i;
            nblank++;
        }
    if (nblank == 0)
        return nr_fail(err, NLPRNN_E_DATA, -1, -1,
                       "no blank in the text: mark the missing word with ___ (two or more underscores) or [MASK]");
    if (nblank > 1)
        return nr_fail(err, NLPRNN_E_DATA, 1, (long long)off[2 * second],
                       "%lld blanks in the text (the second at byte %zu): fill takes exactly one", nblank,
                       off[2 * second]);
    /* A long text is cut to a window of NR_LM_FILL_CONTEXT pieces either side of the blank (the
     * networks are trained on sentences of at most max-len pieces, so farther context changes
     * little, and every candidate is scored over the whole text): the window starts at a word
     * start after whitespace and ends before whitespace, and is filled as the text. */
    if (blank > NR_LM_FILL_CONTEXT || (long long)m - 1 - blank > NR_LM_FILL_CONTEXT) {
        long long i0 = blank > NR_LM_FILL_CONTEXT ? blank - NR_LM_FILL_CONTEXT : 0;
        long long i1 = (long long)m - 1 - blank > NR_LM_FILL_CONTEXT ? blank + NR_LM_FILL_CONTEXT : (long long)m - 1;
        while (i0 > 0 && i0 < blank && !isspace((unsigned char)text[off[2 * i0] - 1])) i0++;
        while (i1 < (long long)m - 1 && i1 > blank && !isspace((unsigned char)text[off[2 * i1 + 1]])) i1--;
        size_t s0 = i0 > 0 ? off[2 * i0] : 0, s1 = i1 < (long long)m - 1 ? off[2 * i1 + 1] : len;
        if (s1 - s0 < len) /* always true; each cut makes the text strictly shorter */
            return nlprnn_lm_fill_calibrated(ctx, text + s0, s1 - s0, candidates, n_cand, k, alpha, out, n, err);
    }
    size_t b0 = off[2 * blank], b1 = off[2 * blank + 1];
    /* copies of the context pieces: the encoding is reused below */
    int32_t *left = nr_malloc_array((size_t)blank + 2, sizeof(int32_t));
    int32_t *right = nr_malloc_array(m - (size_t)blank + 2, sizeof(int32_t));
    if (!left || !right) {
        free(left);
        free(right);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    }
    left[0] = NLPRNN_ID_BOS;
    for (long long i = 0; i < blank; i++) left[1 + i] = ids[i];
    int nleft = (int)blank + 1;
    right[0] = NLPRNN_ID_BOS; /* right context, reversed, for the backward network */
    int nright = 1;
    for (long long i = (long long)m - 1; i > blank; i--) right[nright++] = ids[i];
    int32_t after = blank + 1 < (long long)m ? ids[blank + 1] : NLPRNN_ID_EOS;
    int32_t before = blank > 0 ? ids[blank - 1] : NLPRNN_ID_EOS;
    int first_kind = (b0 == 0 || isspace((unsigned char)text[b0 - 1])) ? NR_PIECE_START : NR_PIECE_INNER;

    cand_set cs = {0};
    if (candidates && n_cand) {
        /* rank exactly the candidates given (duplicates included) */
        cs.c = calloc(n_cand, sizeof(cand));
        if (!cs.c) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        for (size_t i = 0; i < n_cand && !rc; i++) {
            cs.c[i].text = nr_strdup(candidates[i] ? candidates[i] : "");
            if (!cs.c[i].text) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
            cs.n = cs.cap = i + 1;
        }
    } else {
        cand_set prop[2] = {{0}, {0}};
        beam_rules bf = {NLPRNN_LM_FORWARD, first_kind, after};
        rc = beam_search(ctx, &bf, left, nleft, LM_BEAM, &prop[0], err);
        if (!rc && lm->has[1]) {
            beam_rules bb = {NLPRNN_LM_BACKWARD, first_kind, before};
            rc = beam_search(ctx, &bb, right, nright, LM_BEAM, &prop[1], err);
        }
        for (int d = 0; d < 2; d++) {
            if (prop[d].n > 1) qsort(prop[d].c, prop[d].n, sizeof(cand), cmp_cand_desc);
            for (size_t i = 0; i < prop[d].n && !rc; i++) {
                if (i >= 24) break;
                rc = cand_add(&cs, prop[d].c[i].text, prop[d].c[i].score);
                prop[d].c[i].text = NULL;
                if (rc) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
            }
            cand_set_free(&prop[d]);
        }
    }
    free(left);
    free(right);
    /* the local frame of the blank (the prior's context, calibration only): the word before the
     * blank's word, then the blank's word with what is glued to it ("동네의 ___에") */
    size_t f0 = b0, f1 = b1;
    while (f0 > 0 && !isspace((unsigned char)text[f0 - 1])) f0--;
    while (f0 > 0 && isspace((unsigned char)text[f0 - 1])) f0--;
    while (f0 > 0 && !isspace((unsigned char)text[f0 - 1])) f0--;
    while (f1 < len && !isspace((unsigned char)text[f1])) f1++;
    if (!rc)
        rc = rank_sentences(ctx, text, b0, text + b1, len - b1, text + f0, b0 - f0, text + b1, f1 - b1,
                            cs.c, cs.n, alpha, err);
    if (!rc) rc = choices_from(&cs, k, 1, out, n, err);
    cand_set_free(&cs);
    return rc;
}

/* ================================================================================================
 * generation
 * ============================================================================================== */

typedef struct pv {
    float p;
    int v;
} pv;

static int cmp_pv_desc(const void *a, const void *b) {
    float x = ((const pv *)a)->p, y = ((const pv *)b)->p;
    if (x != y) return x < y ? 1 : -1;
    return ((const pv *)a)->v - ((const pv *)b)->v;
}

int nlprnn_lm_generate(nlprnn_lm_ctx *ctx, const char *prompt, size_t len, int max_tokens,
                       double temperature, int top_k, double top_p, uint64_t seed, char **out,
                       nlprnn_error *err) {
    if (out) *out = NULL;
    if (!ctx || !prompt || !out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "lm generate: NULL argument");
    if (max_tokens < 0 || max_tokens > 100000)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "max length must be in 0..100000 (got %d)", max_tokens);
    if (!(temperature > 0) || temperature > 100)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "temperature must be in (0,100] (got %g)", temperature);
    if (top_k < 0) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "top-k must be >= 0 (got %d)", top_k);
    if (!(top_p > 0 && top_p <= 1))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "top-p must be in (0,1] (got %g)", top_p);
    const nlprnn_lm *lm = ctx->lm;
    int V = lm->net[0].cfg.vocab;
    int32_t *s = NULL;
    int m = 0;
    int rc = encode_dir(ctx, prompt, len, NLPRNN_LM_FORWARD, &s, &m, err);
    if (rc) return rc;
    ivec seq = {0};
    float *logp = nr_malloc_array((size_t)V, sizeof(float));
    pv *pool = nr_malloc_array((size_t)V, sizeof(pv));
    if (!logp || !pool) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    for (int i = 1; i < m - 1 && !rc; i++) rc = ivec_push(&seq, s[i]);
    if (!rc) rc = run_prefix(ctx, NLPRNN_LM_FORWARD, s, m - 1, logp, err);
    nr_rng rng;
    nr_rng_seed(&rng, seed);
    for (int t = 0; t < max_tokens && !rc; t++) {
        /* p ∝ exp(logp / T) over allowed pieces (no <pad> <unk> <bos> <mask>) */
        float mx = -FLT_MAX;
        for (int v = 0; v < V; v++)
            if (v != NLPRNN_ID_PAD && v != NLPRNN_ID_UNK && v != NLPRNN_ID_BOS && v != NLPRNN_ID_MASK &&
                logp[v] > mx)
                mx = logp[v];
        int nc = 0;
        double z = 0;
        for (int v = 0; v < V; v++) {
            if (v == NLPRNN_ID_PAD || v == NLPRNN_ID_UNK || v == NLPRNN_ID_BOS || v == NLPRNN_ID_MASK) continue;
            float p = (float)exp((double)(logp[v] - mx) / temperature);
            pool[nc].p = p;
            pool[nc].v = v;
            z += p;
            nc++;
        }
        if (top_k > 0 || top_p < 1) {
            qsort(pool, (size_t)nc, sizeof(pv), cmp_pv_desc);
            if (top_k > 0 && top_k < nc) nc = top_k;
            double acc = 0, tot = 0;
            for (int i = 0; i < nc; i++) tot += pool[i].p;
            if (top_p < 1) {
                for (int i = 0; i < nc; i++) {
                    acc += pool[i].p;
                    if (acc >= top_p * tot) {
                        nc = i + 1;
                        break;
                    }
                }
            }
            z = 0;
            for (int i = 0; i < nc; i++) z += pool[i].p;
        }
        if (!(z > 0) || !isfinite(z)) {
            rc = not_finite(err, "probability");
            break;
        }
        double u = (double)nr_rng_uniform(&rng) * z, acc = 0;
        int pick = pool[nc - 1].v;
        for (int i = 0; i < nc; i++) {
            acc += pool[i].p;
            if (u < acc) {
                pick = pool[i].v;
                break;
            }
        }
        if (pick == NLPRNN_ID_EOS) break;
        rc = ivec_push(&seq, pick);
        if (rc) {
            rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
            break;
        }
        int one = pick;
        rc = step_rows(ctx, NLPRNN_LM_FORWARD, &one, 1, logp, err);
    }
    if (!rc) rc = nlprnn_tokenizer_decode_alloc(lm->tok, seq.v, seq.n, out, NULL, err);
    free(s);
    free(seq.v);
    free(logp);
    free(pool);
    return rc;
}

/* ================================================================================================
 * evaluation
 * ============================================================================================== */

static double now_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static long long utf8_chars(const char *s, size_t n) {
    long long c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

int nlprnn_lm_evaluate(const nlprnn_lm *lm, const char *path, int direction, long long max_lines,
                       nlprnn_lm_eval *res, nlprnn_error *err) {
    if (!lm || !path || !res) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "lm evaluate: NULL argument");
    int rc = need_dir(lm, direction, err);
    if (rc) return rc;
    size_t size = res->size ? res->size : sizeof *res;
    nlprnn_lm_eval r;
    memset(&r, 0, sizeof r);
    r.size = sizeof r;
    double t0 = now_sec();
    nlprnn_lm_ctx *ctx = nlprnn_lm_ctx_create(lm);
    if (!ctx) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    nr_line_reader *rd = NULL;
    rc = nr_line_reader_open(&rd, path, NULL, err);
    int32_t *seqs[LM_MAX_B];
    int lens[LM_MAX_B], nb = 0;
    double lp[LM_MAX_B];
    nr_line line;
    while (!rc) {
        int got = 0;
        if (max_lines <= 0 || r.lines < max_lines) {
            got = nr_line_reader_next(rd, &line, err);
            if (got < 0) {
                rc = got;
                break;
            }
        }
        if (got) {
            int32_t *s = NULL;
            int n = 0;
            nlprnn_error e2;
            nlprnn_error_clear(&e2);
            rc = encode_dir(ctx, line.text, line.len, direction, &s, &n, &e2);
            if (rc == NLPRNN_E_UTF8) {
                long long at = line.offset + (e2.offset > 0 ? e2.offset : 0);
                rc = nr_fail(err, NLPRNN_E_UTF8, line.lineno, at, "%s:%lld: byte %lld: invalid UTF-8",
                             path, line.lineno, at);
                break;
            }
            if (rc) {
                rc = nr_fail(err, rc, line.lineno, line.offset, "%s:%lld: %s", path, line.lineno, e2.message);
                break;
            }
            if (rc) break;
            if (n <= 2) { /* empty line */
                free(s);
                continue;
            }
            r.lines++;
            r.pieces += n - 1;
            r.chars += utf8_chars(line.text, line.len) + 1;
            seqs[nb] = s;
            lens[nb] = n;
            nb++;
        }
        if (nb == LM_MAX_B || (!got && nb)) {
            rc = score_batch(ctx, direction, (const int32_t *const *)seqs, lens, nb, NULL, lp, err);
            for (int i = 0; i < nb; i++) {
                r.nll -= lp[i];
                free(seqs[i]);
            }
            nb = 0;
        }
        if (!got) break;
    }
    for (int i = 0; i < nb; i++) free(seqs[i]);
    nr_line_reader_close(rd);
    nlprnn_lm_ctx_free(ctx);
    if (rc) return rc;
    if (!r.pieces) return nr_fail(err, NLPRNN_E_EMPTY, -1, -1, "%s: no text to evaluate", path);
    r.ppl = exp(r.nll / (double)r.pieces);
    r.bpc = r.nll / log(2.0) / (double)r.chars;
    if (!isfinite(r.ppl) || !isfinite(r.bpc))
        return nr_fail(err, NLPRNN_E_NUMERIC, -1, -1,
                       "the perplexity of %s is not a finite number (%g nats per piece): the "
                       "language model's weights are out of any trained range",
                       path, r.nll / (double)r.pieces);
    r.seconds = now_sec() - t0;
    memcpy(res, &r, size < sizeof r ? size : sizeof r);
    res->size = size;
    return NLPRNN_OK;
}

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
            if (ivec_push(&ids, e[i])) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        }
        c->chars += utf8_chars(line.text, line.len) + 1;
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
    double t0 = now_sec(), loss_sum = 0;
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
            double el = now_sec() - t0;
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
            } else if ((stop && *stop) || (p->time_limit > 0 && now_sec() - t0 >= p->time_limit)) {
                stopped = (stop && *stop) ? 2 : 1;
                break;
            }
            if (stopped) break;
        }
    }
    if (!rc && D->size > 1)
        rc = nr_dist_check_same(D, net.params, net.n_params, "the language model's weights", step, err);
    *seconds = now_sec() - t0;
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
        rc = nr_lm_assemble(&lm, tok, &nets[0], &nets[1], dtype_label(p->storage), err);
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

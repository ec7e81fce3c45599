/* tasks/lm/context.c: the inference context and its primitives (score sequences, step a beam),
 * encoding helpers, nlprnn_lm_score. */
#include "tasks/lm/lm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================================================
 * context and the two inference primitives: score sequences, step a beam
 * ============================================================================================== */

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

nlprnn_lm_ctx *nr_lm_ctx_new(const nlprnn_lm *lm) {
    if (!lm) return NULL;
    nlprnn_lm_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return NULL;
    const nr_lm_cfg *c = &lm->net[0].cfg;
    size_t TB = (size_t)LM_CHUNK_T * LM_MAX_B, LBH = (size_t)c->layers * LM_MAX_B * c->hidden;
    ctx->lm = lm;
    nlprnn_encoding_create(&ctx->enc, NULL);
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

int nlprnn_lm_ctx_create(const nlprnn_lm *lm, nlprnn_lm_ctx **out, nlprnn_error *err) {
    if (out) *out = NULL;
    if (!out || !lm) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "language model context: NULL argument");
    *out = nr_lm_ctx_new(lm);
    return *out ? 0 : nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "language model context: out of memory");
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


/* lp[b] = sum_{t>=1} log p(seqs[b][t] | seqs[b][<t]) for B <= LM_MAX_B sequences of lens[b] >= 2
 * pieces (the first is the context start, usually <bos>). init (optional): a state (L,1,H) h then
 * c (2*L*H floats) that every row starts from instead of zeros. */
int nr_lm_score_batch(nlprnn_lm_ctx *ctx, int dir, const int32_t *const *seqs, const int *lens,
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
        nr_lm_broadcast_state(ctx, B);
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


int nr_lm_score_many(nlprnn_lm_ctx *ctx, int dir, const int32_t *const *seqs, const int *lens,
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
        if (!rc) rc = nr_lm_run_prefix(ctx, dir, seqs[0], P - 1, logp, err);
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
        rc = nr_lm_score_batch(ctx, dir, seqs + i, lens + i, B, init, lp + i, err);
    }
    free(init);
    free(logp);
    free(sub);
    free(sublen);
    return rc;
}

/* Run one sequence ids (n >= 1) from the zero state; the final state is left in row 0 of
 * ctx->s[0], ctx->s[1] (as (L,1,H)) and the log-softmax after the last piece in logp (V). */
int nr_lm_run_prefix(nlprnn_lm_ctx *ctx, int dir, const int32_t *ids, int n, float *logp,
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
int nr_lm_step_rows(nlprnn_lm_ctx *ctx, int dir, const int *ids, int B, float *logp,
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
void nr_lm_reorder_states(nlprnn_lm_ctx *ctx, const int *src, int Bold, int Bnew) {
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
void nr_lm_broadcast_state(nlprnn_lm_ctx *ctx, int B) {
    int src[LM_MAX_B] = {0};
    nr_lm_reorder_states(ctx, src, 1, B);
}

/* ================================================================================================
 * encoding helpers
 * ============================================================================================== */

int nr_lm_ivec_push(ivec *a, int32_t x) {
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
int nr_lm_encode_dir(nlprnn_lm_ctx *ctx, const char *text, size_t len, int dir, int32_t **out,
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

int nr_lm_need_dir(const nlprnn_lm *lm, int dir, nlprnn_error *err) {
    if (dir != NLPRNN_LM_FORWARD && dir != NLPRNN_LM_BACKWARD)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "direction must be 0 (forward) or 1 (backward)");
    if (!lm->has[dir])
        return nr_fail(err, NLPRNN_E_UNSUPPORTED, -1, -1, "this language model has no backward network");
    return NLPRNN_OK;
}

/* A score or probability that is NaN or infinite: weights that are finite (the loader refuses
 * anything else) but so large that the arithmetic overflows. No such number is ever returned. */
int nr_lm_not_finite(nlprnn_error *err, const char *what) {
    return nr_fail(err, NLPRNN_E_NUMERIC, -1, -1,
                   "the language model gives a non-finite %s (NaN or infinity): its weights are "
                   "out of any trained range",
                   what);
}

int nlprnn_lm_score(nlprnn_lm_ctx *ctx, const char *text, size_t len, int direction,
                    double *logprob, size_t *n_pred, nlprnn_error *err) {
    if (!ctx || !text || !logprob) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "lm score: NULL argument");
    int rc = nr_lm_need_dir(ctx->lm, direction, err);
    if (rc) return rc;
    int32_t *s = NULL;
    int n = 0;
    rc = nr_lm_encode_dir(ctx, text, len, direction, &s, &n, err);
    if (rc) return rc;
    const int32_t *seqs[1] = {s};
    rc = nr_lm_score_batch(ctx, direction, seqs, &n, 1, NULL, logprob, err);
    if (!rc && !isfinite(*logprob)) rc = nr_lm_not_finite(err, "log-probability");
    if (n_pred) *n_pred = (size_t)(n - 1);
    free(s);
    return rc;
}

void nlprnn_lm_choices_free(nlprnn_lm_choice *c, size_t n) {
    if (!c) return;
    for (size_t i = 0; i < n; i++) free(c[i].text);
    free(c);
}

/* tasks/translate/net.c: the encoder-decoder with attention — bind, init, workspace, encode,
 * decoder step, teacher-forced forward, loss, backward (forward beside backward). The equations
 * and the parameter layout are in seq2seq.h. */
#include "tasks/translate/seq2seq.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/cells.h"
#include "models/math.h"

#define LOSS_CHUNK 256 /* rows of logits computed at once in nr_s2s_loss */

/* ---- bind and init ---------------------------------------------------------------------------- */

static int check_cfg(const nr_s2s_cfg *c, nlprnn_error *err) {
    if (c->Vs < 5 || c->Vt < 5)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "translate: vocabulary sizes %d/%d (at least 5: the special ids)", c->Vs, c->Vt);
    if (c->embed < 1 || c->hidden < 1)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: embed %d / hidden %d must be >= 1",
                       c->embed, c->hidden);
    if (c->cell != NR_CELL_LSTM && c->cell != NR_CELL_GRU)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: the decoder cell must be lstm or gru");
    if (c->attention != NR_ATTN_GENERAL && c->attention != NR_ATTN_ADDITIVE)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "translate: attention must be general or additive");
    if (c->tied && c->embed != c->hidden)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "translate: tied target embeddings need embed = hidden (%d != %d)", c->embed,
                       c->hidden);
    if (!(c->emb_dropout >= 0.0f && c->emb_dropout < 1.0f) || !(c->out_dropout >= 0.0f && c->out_dropout < 1.0f))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: dropout %g / %g not in [0,1)",
                       (double)c->emb_dropout, (double)c->out_dropout);
    if (c->enc.input_size != c->embed)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "translate: the encoder's input size %d is not the embedding size %d",
                       c->enc.input_size, c->embed);
    return 0;
}

/* Offsets of every part; returns the total (0 when the encoder config is invalid). */
static size_t layout(nr_s2s *n, const nr_s2s_cfg *c) {
    size_t nenc = nr_encoder_param_count(&c->enc);
    if (!nenc) return 0;
    size_t E = (size_t)c->embed, H = (size_t)c->hidden;
    size_t O = (size_t)c->enc.hidden * (c->enc.bidirectional && c->enc.merge == NR_MERGE_CONCAT ? 2 : 1);
    size_t G = c->cell == NR_CELL_LSTM ? 4 : 3, X = E + H, o = 0;
    n->E = (int)E, n->H = (int)H, n->O = (int)O, n->G = (int)G, n->X = (int)X;
    n->o_src = o, o += (size_t)c->Vs * E;
    n->o_tgt = o, o += (size_t)c->Vt * E;
    n->o_enc = o, o += nenc;
    n->o_wb = o, o += H * O;
    n->o_bb = o, o += H;
    n->o_wih = o, o += G * H * X;
    n->o_whh = o, o += G * H * H;
    n->o_bih = o, o += G * H;
    n->o_bhh = o, o += G * H;
    n->o_wa = o, o += H * O;
    if (c->attention == NR_ATTN_ADDITIVE) {
        n->o_wq = o, o += H * H;
        n->o_bq = o, o += H;
        n->o_v = o, o += H;
    } else {
        n->o_wq = n->o_bq = n->o_v = 0;
    }
    n->o_wc = o, o += H * (O + H);
    n->o_bc = o, o += H;
    if (c->tied) n->o_wo = n->o_tgt;
    else n->o_wo = o, o += (size_t)c->Vt * H;
    n->o_bo = o, o += (size_t)c->Vt;
    return o;
}

size_t nr_s2s_param_count(const nr_s2s_cfg *cfg) {
    nr_s2s n;
    if (check_cfg(cfg, NULL)) return 0;
    return layout(&n, cfg);
}

int nr_s2s_bind(nr_s2s *n, const nr_s2s_cfg *cfg, float *params, nlprnn_error *err) {
    memset(n, 0, sizeof *n);
    int rc = check_cfg(cfg, err);
    if (rc) return rc;
    n->cfg = *cfg;
    n->n_params = layout(n, cfg);
    if (!n->n_params)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: invalid encoder configuration");
    if (!params) return 0;
    n->params = params;
    if ((rc = nr_embedding_bind(&n->src, cfg->Vs, n->E, 0, params + n->o_src, err)) ||
        (rc = nr_embedding_bind(&n->tgt, cfg->Vt, n->E, 0, params + n->o_tgt, err)) ||
        (rc = nr_encoder_bind(&n->enc, &cfg->enc, params + n->o_enc, err)))
        return rc;
    return 0;
}

static void part(nr_s2s_part *p, int *k, const char *name, size_t off, size_t rows, size_t cols) {
    nr_s2s_part *q = &p[(*k)++];
    size_t len = strnlen(name, sizeof q->name - 1); /* the names here are short; cut, never overrun */
    memcpy(q->name, name, len);
    q->name[len] = '\0';
    q->off = off, q->rows = rows, q->cols = cols;
}

int nr_s2s_parts(const nr_s2s *n, nr_s2s_part *p) {
    const nr_s2s_cfg *c = &n->cfg;
    size_t E = (size_t)n->E, H = (size_t)n->H, O = (size_t)n->O, G = (size_t)n->G, X = (size_t)n->X;
    size_t GE = (size_t)n->enc.gates * (size_t)c->enc.hidden, HE = (size_t)c->enc.hidden;
    int k = 0;
    char nm[40]; /* "enc.L.D.W_ih": short, but sized for any int L, D (no -Wformat-truncation) */
    part(p, &k, "emb_src", n->o_src, (size_t)c->Vs, E);
    part(p, &k, "emb_tgt", n->o_tgt, (size_t)c->Vt, E);
    for (int l = 0; l < c->enc.layers; l++)
        for (int d = 0; d < n->enc.dirs; d++) {
            const nr_rnn_slot *s = &n->enc.slot[l][d];
            static const char *const what[4] = {"W_ih", "W_hh", "b_ih", "b_hh"};
            size_t off[4] = {s->w_ih, s->w_hh, s->b_ih, s->b_hh}, rows[4] = {GE, GE, 0, 0};
            size_t cols[4] = {(size_t)s->in, HE, GE, GE};
            for (int i = 0; i < 4; i++) {
                snprintf(nm, sizeof nm, "enc.%d.%d.%s", l, d, what[i]);
                part(p, &k, nm, n->o_enc + off[i], rows[i], cols[i]);
            }
        }
    part(p, &k, "W_b", n->o_wb, H, O);
    part(p, &k, "b_b", n->o_bb, 0, H);
    part(p, &k, "dec.W_ih", n->o_wih, G * H, X);
    part(p, &k, "dec.W_hh", n->o_whh, G * H, H);
    part(p, &k, "dec.b_ih", n->o_bih, 0, G * H);
    part(p, &k, "dec.b_hh", n->o_bhh, 0, G * H);
    part(p, &k, c->attention == NR_ATTN_ADDITIVE ? "W_k" : "W_a", n->o_wa, H, O);
    if (c->attention == NR_ATTN_ADDITIVE) {
        part(p, &k, "W_q", n->o_wq, H, H);
        part(p, &k, "b_q", n->o_bq, 0, H);
        part(p, &k, "v", n->o_v, 0, H);
    }
    part(p, &k, "W_c", n->o_wc, H, O + H);
    part(p, &k, "b_c", n->o_bc, 0, H);
    if (!c->tied) part(p, &k, "W_o", n->o_wo, (size_t)c->Vt, H);
    part(p, &k, "b_o", n->o_bo, 0, (size_t)c->Vt);
    return k;
}

int nr_s2s_init(const nr_s2s *n, nr_rng *rng, nlprnn_error *err) {
    float *p = n->params;
    int H = n->H, O = n->O, G = n->G;
    nr_embedding_init(&n->src, 0.1f, rng);
    nr_embedding_init(&n->tgt, 0.1f, rng);
    int rc = nr_encoder_init(&n->enc, rng, err);
    if (rc) return rc;
    nr_init_glorot_uniform(p + n->o_wb, H, O, rng);
    memset(p + n->o_bb, 0, (size_t)H * sizeof(float));
    nr_init_glorot_uniform(p + n->o_wih, G * H, n->X, rng);
    if ((rc = nr_init_orthogonal(p + n->o_whh, G * H, H, rng, err))) return rc;
    memset(p + n->o_bih, 0, (size_t)(2 * G * H) * sizeof(float));
    /* LSTM forget gate b_if = 1: remember by default early in training (as the encoder) */
    if (n->cfg.cell == NR_CELL_LSTM)
        for (int j = 0; j < H; j++) p[n->o_bih + (size_t)H + (size_t)j] = 1.0f;
    nr_init_glorot_uniform(p + n->o_wa, H, O, rng);
    if (n->cfg.attention == NR_ATTN_ADDITIVE) {
        nr_init_glorot_uniform(p + n->o_wq, H, H, rng);
        memset(p + n->o_bq, 0, (size_t)H * sizeof(float));
        nr_init_glorot_uniform(p + n->o_v, 1, H, rng);
    }
    nr_init_glorot_uniform(p + n->o_wc, H, O + H, rng);
    memset(p + n->o_bc, 0, (size_t)H * sizeof(float));
    if (!n->cfg.tied) nr_init_glorot_uniform(p + n->o_wo, n->cfg.Vt, H, rng);
    memset(p + n->o_bo, 0, (size_t)n->cfg.Vt * sizeof(float));
    return 0;
}

/* ---- workspace -------------------------------------------------------------------------------- */

struct nr_s2s_ws {
    int max_Ts, max_Tt, max_B, training;
    int Ts, B, Tt;        /* of the last encode / forward */
    nr_encoder_ws *ews;
    int *src;             /* (Ts,B) the last encode's ids */
    int *slen;            /* (B) */
    int *tin;             /* (Tt,B) the last forward's inputs */
    float *xs;            /* (Ts,B,E) */
    float *S;             /* (Ts,B,O) encoder outputs, 0 at padded steps */
    float *K;             /* (Ts,B,H) attention keys */
    float *m;             /* (B,O) masked mean of S */
    float *h0;            /* (B,H) */
    /* decoder, per step (Tt slots; 1 for inference) */
    float *X;             /* (Tt,B,E+H) inputs */
    float *Gt;            /* (Tt,B,G*H) activated gates */
    float *HNL;           /* (Tt,B,H) GRU: W_hn h + b_hn */
    float *Hs, *Cs;       /* (Tt+1,B,H) states, slot 0 = h_0, c_0 */
    float *A;             /* (Tt+1,B,H) attentional vectors, slot 0 = a_0 = 0 */
    float *AL;            /* (Tt,B,Ts) attention weights */
    float *HC;            /* (Tt,B,O+H) [ctx ; h] */
    float *gh;            /* (B,G*H) scratch: W_hh h */
    float *q;             /* (B,H) scratch: W_q h + b_q */
    float *logits;        /* (LOSS_CHUNK,Vt) */
    /* dropout masks of the last training forward: 0 or 1/(1-p) (training workspace) */
    float *ms;            /* (Ts,B,E) source embedding */
    float *mt;            /* (Tt,B,E) target embedding */
    float *ma;            /* (Tt,B,H) attentional vector */
    int drop_src, drop_dec; /* the last encode / forward drew masks */
    /* backward */
    float *dA;            /* (Tt,B,H) dL/da from the output layer (scaled) */
    float *dS, *dK;       /* (Ts,B,O), (Ts,B,H) */
    float *dh, *dc, *dq, *dpre, *dafed, *dhd; /* (B,H) */
    float *dgi, *dgh;     /* (B,G*H) */
    float *dx;            /* (B,E+H) */
    float *dhc;           /* (B,O+H) */
    float *dm;            /* (B,O) */
    float *dxs;           /* (Ts,B,E) */
    float *dal;           /* (Ts) dL/dα of one row */
    int has_forward, has_loss;
    /* the decoder's weights packed once per forward, loss or decoding (nr_sgemm_pk): made stale
     * when one starts (nr_s2s_decode_forward, nr_s2s_loss, nr_s2s_state_start), so the values of
     * the parameters may change between those calls (training); with keep_pack
     * (nr_s2s_ws_keep_pack: an immutable translator) nr_s2s_state_start leaves them valid, so a
     * decoding packs only when a pack is missing: once for the workspace's life. pk_k: the
     * keys' W_a / W_k (nr_s2s_encode), with keep_pack only, from the second encode on (encoded:
     * an encode ran since keep_pack was switched on; a single encode packs block by block in
     * nr_sgemm, as without keep_pack). */
    nr_pk pk_ih, pk_hh, pk_q, pk_c, pk_o, pk_k;
    int keep_pack, encoded;
    /* decoding from slots (nr_s2s_slots_begin): source memory copied out of the encodes, one
     * slot per decoder row for as long as the row lives, so rows of different encodes decode
     * together; allocated at the first use (inference), kept */
    float *slotS;         /* (max_B,max_Ts,O) each slot's S, its steps contiguous */
    float *slotK;         /* (max_B,max_Ts,H) each slot's K */
    int *slotlen;         /* (max_B) */
    int slots_on, slot_Ts; /* decoding from slots; the attention rows' length (alpha (R,slot_Ts)) */
    const float *ptab;    /* (Vs, dirs*G*He) layer 0's projection of source ids (nr_s2s_ws_set_table) */
    void *scr[2];         /* nr_s2s_ws_scratch's blocks, kept and grown */
    size_t scr_cap[2];
};

void nr_s2s_ws_free(nr_s2s_ws *w) {
    if (!w) return;
    nr_encoder_ws_free(w->ews);
    nr_pk *pks[] = {&w->pk_ih, &w->pk_hh, &w->pk_q, &w->pk_c, &w->pk_o, &w->pk_k};
    for (size_t i = 0; i < sizeof pks / sizeof *pks; i++) nr_pk_free(pks[i]);
    void *bufs[] = {w->src, w->slen, w->tin, w->xs, w->S, w->K, w->m, w->h0, w->X, w->Gt, w->HNL,
                    w->Hs, w->Cs, w->A, w->AL, w->HC, w->gh, w->q, w->logits, w->ms, w->mt, w->ma,
                    w->dA, w->dS, w->dK,
                    w->dh, w->dc, w->dq, w->dpre, w->dafed, w->dhd, w->dgi, w->dgh, w->dx, w->dhc,
                    w->dm, w->dxs, w->dal, w->slotS, w->slotK, w->slotlen, w->scr[0], w->scr[1]};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]);
    free(w);
}

nr_s2s_ws *nr_s2s_ws_create(const nr_s2s *n, int max_Ts, int max_Tt, int max_B, int training,
                            nlprnn_error *err) {
    if (max_Ts < 1 || max_Tt < 1 || max_B < 1) {
        nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: workspace sizes must be >= 1");
        return NULL;
    }
    nr_s2s_ws *w = calloc(1, sizeof *w);
    if (!w) {
        nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
        return NULL;
    }
    w->max_Ts = max_Ts, w->max_Tt = training ? max_Tt : 1, w->max_B = max_B, w->training = training;
    size_t Ts = (size_t)max_Ts, Tt = (size_t)w->max_Tt, B = (size_t)max_B, E = (size_t)n->E,
           H = (size_t)n->H, O = (size_t)n->O, GH = (size_t)n->G * H, X = (size_t)n->X;
    w->ews = nr_encoder_ws_create(&n->enc, max_Ts, max_B, training, 1, err);
    if (!w->ews) {
        nr_s2s_ws_free(w);
        return NULL;
    }
    int ok = 1;
#define ALLOC(p, cnt) ok &= ((p) = nr_calloc_array((size_t)(cnt) + 1, sizeof *(p))) != NULL
    ALLOC(w->src, Ts * B);
    ALLOC(w->slen, B);
    ALLOC(w->tin, Tt * B);
    ALLOC(w->xs, Ts * B * E);
    ALLOC(w->S, Ts * B * O);
    ALLOC(w->K, Ts * B * H);
    ALLOC(w->m, B * O);
    ALLOC(w->h0, B * H);
    ALLOC(w->X, Tt * B * X);
    ALLOC(w->Gt, Tt * B * GH);
    ALLOC(w->HNL, Tt * B * H);
    ALLOC(w->Hs, (Tt + 1) * B * H);
    ALLOC(w->Cs, (Tt + 1) * B * H);
    ALLOC(w->A, (Tt + 1) * B * H);
    ALLOC(w->AL, Tt * B * Ts);
    ALLOC(w->HC, Tt * B * (O + H));
    ALLOC(w->gh, B * GH);
    ALLOC(w->q, B * H);
    if (training) {
        ALLOC(w->logits, (size_t)LOSS_CHUNK * (size_t)n->cfg.Vt);
        ALLOC(w->ms, Ts * B * E);
        ALLOC(w->mt, Tt * B * E);
        ALLOC(w->ma, Tt * B * H);
        ALLOC(w->dA, Tt * B * H);
        ALLOC(w->dS, Ts * B * O);
        ALLOC(w->dK, Ts * B * H);
        ALLOC(w->dh, B * H);
        ALLOC(w->dc, B * H);
        ALLOC(w->dq, B * H);
        ALLOC(w->dpre, B * H);
        ALLOC(w->dafed, B * H);
        ALLOC(w->dhd, B * H);
        ALLOC(w->dgi, B * GH);
        ALLOC(w->dgh, B * GH);
        ALLOC(w->dx, B * X);
        ALLOC(w->dhc, B * (O + H));
        ALLOC(w->dm, B * O);
        ALLOC(w->dxs, Ts * B * E);
        ALLOC(w->dal, Ts);
    }
#undef ALLOC
    if (!ok) {
        nr_s2s_ws_free(w);
        nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory for a workspace");
        return NULL;
    }
    return w;
}

int nr_s2s_encoded_steps(const nr_s2s_ws *ws) { return ws->Ts; }

/* ---- dropout ------------------------------------------------------------------------------------
 * Inverted dropout: m_k = 0 with probability p, else 1/(1-p) (E[m] = 1); y = m ⊙ x, dx = m ⊙ dy. */

static void draw_mask(float *m, size_t n, float p, nr_rng *rng) {
    float keep = 1.0f / (1.0f - p);
    for (size_t k = 0; k < n; k++) m[k] = nr_rng_uniform(rng) < p ? 0.0f : keep;
}

static void mul_mask(float *x, const float *m, size_t n) {
    for (size_t k = 0; k < n; k++) x[k] *= m[k];
}

/* ---- encode: embedding, encoder, keys, bridge ------------------------------------------------ */

static float dotf(const float *a, const float *b, int n) {
    float s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

int nr_s2s_encode(const nr_s2s *n, nr_s2s_ws *ws, const int *src, const int *slen, int Ts, int B,
                  nr_rng *dropout_rng, nlprnn_error *err) {
    if (Ts < 1 || Ts > ws->max_Ts || B < 1 || B > ws->max_B)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "translate: a batch of %d sources of %d steps is beyond the workspace (%d, %d)",
                       B, Ts, ws->max_B, ws->max_Ts);
    for (int b = 0; b < B; b++)
        if (slen[b] < 1 || slen[b] > Ts)
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                           "translate: source %d has length %d (1..%d)", b, slen[b], Ts);
    int E = n->E, H = n->H, O = n->O, N = Ts * B;
    ws->Ts = Ts, ws->B = B, ws->has_forward = ws->has_loss = 0;
    memcpy(ws->src, src, (size_t)N * sizeof(int));
    memcpy(ws->slen, slen, (size_t)B * sizeof(int));
    int rc = nr_embedding_forward(&n->src, ws->xs, src, (size_t)N, err); // xs (Ts,B,E)
    if (rc) return rc;
    // xs = m ⊙ xs (source embedding dropout, training)
    ws->drop_src = ws->training && dropout_rng && n->cfg.emb_dropout > 0.0f;
    if (ws->drop_src) {
        draw_mask(ws->ms, (size_t)N * E, n->cfg.emb_dropout, dropout_rng);
        mul_mask(ws->xs, ws->ms, (size_t)N * E);
    }
    /* layer 0's projection gathered from the table where the forward's own product would run the
     * kernel that made its rows (the same bits; models/encoder.h) */
    int gather = ws->ptab && !ws->training && nr_encoder_table_ok(&n->enc, ws->ews, Ts, B);
    if (gather) nr_encoder_ws_set_table(ws->ews, ws->ptab, src);
    rc = nr_encoder_forward(&n->enc, ws->ews, ws->S, NULL, NULL, ws->xs, slen, NULL, NULL, Ts, B,
                            dropout_rng, err); // S (Ts,B,O)
    if (gather) nr_encoder_ws_set_table(ws->ews, NULL, NULL);
    if (rc) return rc;
    const float *P = n->params;
    // K (Ts*B,H) = S (Ts*B,O) W^T, W = W_a (general) or W_k (additive), (H,O): W's pack kept
    // from the second encode on by a workspace that keeps its packs (pk_k), else packed by each
    // product (the parameters may change between encodes: training)
    if (ws->keep_pack && ws->encoded)
        nr_sgemm_pk(&ws->pk_k, 1, N, H, O, 1.0f, ws->S, O, P + n->o_wa, O, 0.0f, ws->K, H);
    else
        nr_sgemm(0, 1, N, H, O, 1.0f, ws->S, O, P + n->o_wa, O, 0.0f, ws->K, H);
    ws->encoded = ws->keep_pack;
    // m (B,O) = Σ_{s<len} S_s / len   (S is 0 at padded steps)
    memset(ws->m, 0, (size_t)B * (size_t)O * sizeof(float));
    for (int s = 0; s < Ts; s++) nr_axpy(ws->m, 1.0f, ws->S + (size_t)s * B * O, (size_t)B * O);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < O; j++) ws->m[(size_t)b * O + j] /= (float)slen[b];
    // h_0 (B,H) = tanh(m W_b^T + b_b)
    nr_sgemm(0, 1, B, H, O, 1.0f, ws->m, O, P + n->o_wb, O, 0.0f, ws->h0, H);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++) {
            float *v = ws->h0 + (size_t)b * H + j;
            *v = tanhf(*v + P[n->o_bb + (size_t)j]);
        }
    return 0;
}

/* the decoder step's weights will be packed again at their next product (nr_sgemm_pk) */
static void stale_step_packs(nr_s2s_ws *ws) {
    nr_pk_stale(&ws->pk_ih);
    nr_pk_stale(&ws->pk_hh);
    nr_pk_stale(&ws->pk_q);
    nr_pk_stale(&ws->pk_c);
}

void nr_s2s_ws_keep_pack(nr_s2s_ws *ws, int on) {
    on = on && ws && !ws->training; /* a training workspace's parameters change at every step */
    if (!ws || ws->keep_pack == on) return;
    ws->keep_pack = on;
    stale_step_packs(ws); /* whatever was packed before is packed again at its next product */
    nr_pk_stale(&ws->pk_o);
    nr_pk_stale(&ws->pk_k);
    ws->encoded = 0;
    nr_encoder_ws_keep_pack(ws->ews, on);
}

void nr_s2s_ws_take_packs(nr_s2s_ws *to, nr_s2s_ws *from) {
    nr_pk *a[] = {&to->pk_ih, &to->pk_hh, &to->pk_q, &to->pk_c, &to->pk_o, &to->pk_k};
    nr_pk *b[] = {&from->pk_ih, &from->pk_hh, &from->pk_q, &from->pk_c, &from->pk_o, &from->pk_k};
    for (size_t i = 0; i < sizeof a / sizeof *a; i++) {
        nr_pk t = *a[i];
        *a[i] = *b[i];
        *b[i] = t;
        if (!to->keep_pack) nr_pk_stale(a[i]);
    }
    if (to->keep_pack) to->encoded = from->encoded;
    nr_encoder_ws_take_packs(to->ews, from->ews);
}

/* ---- one decoder step for R rows ---------------------------------------------------------------
 * In:  prev (R) tokens y_{t-1}; hprev, cprev, aprev (R,H); row_src (R) the source of each row
 *      (NULL: row r attends to source r); dropout masks mt (R,E) of the target embedding and
 *      ma (R,H) of the attentional vector (NULL: none).
 * Out: x (R,E+H), g (R,G*H) activated gates, hnl (R,H) (GRU), h, c (R,H), alpha (R,Ts),
 *      hc (R,O+H) = [ctx ; h], a (R,H). h/c/a may be hprev/cprev/aprev (in place). */
static void step_core(const nr_s2s *n, nr_s2s_ws *ws, int R, const int *row_src, const int *prev,
                      const float *mt, const float *ma, const float *hprev, const float *cprev,
                      const float *aprev, float *x, float *g, float *hnl, float *h, float *c,
                      float *alpha, float *hc, float *a) {
    const float *P = n->params;
    int E = n->E, H = n->H, O = n->O, X = n->X, GH = n->G * n->H, B = ws->B;
    int Ts = ws->slots_on ? ws->slot_Ts : ws->Ts; /* alpha's row length */
    // x_t = [emb_tgt(y_{t-1}) ; a_{t-1}]
    for (int r = 0; r < R; r++) {
        int id = prev[r];
        float *xr = x + (size_t)r * X;
        if (id > 0 && id < n->cfg.Vt) memcpy(xr, n->tgt.table + (size_t)id * E, (size_t)E * sizeof(float));
        else memset(xr, 0, (size_t)E * sizeof(float)); /* <pad> */
        if (mt) mul_mask(xr, mt + (size_t)r * E, (size_t)E);
        memcpy(xr + E, aprev + (size_t)r * H, (size_t)H * sizeof(float));
    }
    /* the compact copies of the weights (seq2seq.h) where the parameters cannot change */
    int cp = ws->keep_pack;
    // g (R,GH) = x W_ih^T + b_ih ; gh (R,GH) = hprev W_hh^T
    nr_sgemm_pk_copy(&ws->pk_ih, R, GH, X, 1.0f, x, X, P + n->o_wih, cp ? &n->c_wih : NULL, X, 0.0f, g, GH);
    for (int r = 0; r < R; r++) nr_axpy(g + (size_t)r * GH, 1.0f, P + n->o_bih, (size_t)GH);
    nr_sgemm_pk_copy(&ws->pk_hh, R, GH, H, 1.0f, hprev, H, P + n->o_whh, cp ? &n->c_whh : NULL, H, 0.0f, ws->gh,
                     GH);
    if (h != hprev) memcpy(h, hprev, (size_t)R * H * sizeof(float));
    if (c != cprev) memcpy(c, cprev, (size_t)R * H * sizeof(float));
    // the cell (models/cells.h): LSTM c' = f c + i g, h' = o tanh(c'); GRU h' = (1-z) n + z h
    for (int r = 0; r < R; r++) {
        size_t o = (size_t)r * H, og = (size_t)r * GH;
        if (n->cfg.cell == NR_CELL_LSTM)
            nr_lstm_row_forward(g + og, c + o, h + o, ws->gh + og, P + n->o_bhh, H);
        else
            nr_gru_row_forward_after(g + og, hnl + o, h + o, ws->gh + og, P + n->o_bhh, H);
    }
    // additive: q (R,H) = h W_q^T + b_q
    int additive = n->cfg.attention == NR_ATTN_ADDITIVE;
    if (additive) {
        nr_sgemm_pk(&ws->pk_q, 1, R, H, H, 1.0f, h, H, P + n->o_wq, H, 0.0f, ws->q, H);
        for (int r = 0; r < R; r++) nr_axpy(ws->q + (size_t)r * H, 1.0f, P + n->o_bq, (size_t)H);
    }
    // e_s, α = softmax over s < len, ctx = Σ α_s S_s ; hc = [ctx ; h]
    const float *v = P + n->o_v;
    for (int r = 0; r < R; r++) {
        int b = row_src ? row_src[r] : r, len;
        /* source b's memory: K_b (len,H) with rows ldk apart, S_b (len,O) with rows lds apart;
         * in the encode's (Ts,B,.) layout, or slot b's when decoding from slots */
        const float *Kb, *Sb;
        size_t ldk, lds;
        if (ws->slots_on) {
            len = ws->slotlen[b], ldk = (size_t)H, lds = (size_t)O;
            Kb = ws->slotK + (size_t)b * ws->max_Ts * H, Sb = ws->slotS + (size_t)b * ws->max_Ts * O;
        } else {
            len = ws->slen[b], ldk = (size_t)B * H, lds = (size_t)B * O;
            Kb = ws->K + (size_t)b * H, Sb = ws->S + (size_t)b * O;
        }
        float *al = alpha + (size_t)r * Ts, *hr = h + (size_t)r * H, *hcr = hc + (size_t)r * (O + H);
        float mx = -INFINITY;
        if (!additive) { // e (len) = K_b h
            nr_sgemm(0, 1, 1, len, H, 1.0f, hr, H, Kb, (int)ldk, 0.0f, al, len);
        } else {
            const float *q = ws->q + (size_t)r * H;
            for (int s = 0; s < len; s++) { // e = v · tanh(q + K_s)
                const float *k = Kb + (size_t)s * ldk;
                float e = 0;
                for (int j = 0; j < H; j++) e += v[j] * tanhf(q[j] + k[j]);
                al[s] = e;
            }
        }
        for (int s = 0; s < len; s++) mx = al[s] > mx ? al[s] : mx;
        float sum = 0;
        for (int s = 0; s < len; s++) sum += al[s] = expf(al[s] - mx);
        for (int s = 0; s < len; s++) al[s] /= sum;
        for (int s = len; s < Ts; s++) al[s] = 0;
        // ctx (O) = α^T S_b
        nr_sgemm(0, 0, 1, O, len, 1.0f, al, len, Sb, (int)lds, 0.0f, hcr, O);
        memcpy(hcr + O, hr, (size_t)H * sizeof(float));
    }
    // a (R,H) = tanh(hc W_c^T + b_c)
    nr_sgemm_pk_copy(&ws->pk_c, R, H, O + H, 1.0f, hc, O + H, P + n->o_wc, cp ? &n->c_wc : NULL, O + H, 0.0f, a,
                     H);
    for (int r = 0; r < R; r++)
        for (int j = 0; j < H; j++) a[(size_t)r * H + j] = tanhf(a[(size_t)r * H + j] + P[n->o_bc + (size_t)j]);
    // a = m ⊙ a (attentional vector dropout, training)
    if (ma) mul_mask(a, ma, (size_t)R * H);
}

/* ---- teacher-forced forward ------------------------------------------------------------------- */

int nr_s2s_decode_forward(const nr_s2s *n, nr_s2s_ws *ws, const int *tin, int Tt,
                          nr_rng *dropout_rng, nlprnn_error *err) {
    if (!ws->training)
        return nr_fail(err, NLPRNN_E_STATE, -1, -1, "translate: forward needs a training workspace");
    if (Tt < 1 || Tt > ws->max_Tt)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "translate: %d target steps is beyond the workspace (%d)", Tt, ws->max_Tt);
    int B = ws->B, E = n->E, H = n->H, O = n->O, X = n->X, GH = n->G * n->H, Ts = ws->Ts;
    size_t BH = (size_t)B * H;
    ws->Tt = Tt;
    float pe = n->cfg.emb_dropout, pa = n->cfg.out_dropout;
    ws->drop_dec = dropout_rng && (pe > 0.0f || pa > 0.0f);
    if (ws->drop_dec) { /* masks of 1 where a rate is 0: one code path below */
        size_t ne = (size_t)Tt * B * E, na = (size_t)Tt * BH;
        if (pe > 0.0f) draw_mask(ws->mt, ne, pe, dropout_rng);
        else for (size_t k = 0; k < ne; k++) ws->mt[k] = 1.0f;
        if (pa > 0.0f) draw_mask(ws->ma, na, pa, dropout_rng);
        else for (size_t k = 0; k < na; k++) ws->ma[k] = 1.0f;
    }
    memcpy(ws->tin, tin, (size_t)Tt * B * sizeof(int));
    ws->slots_on = 0;
    stale_step_packs(ws); // the parameters may have changed since the last forward
    memcpy(ws->Hs, ws->h0, BH * sizeof(float));  // h_0
    memset(ws->Cs, 0, BH * sizeof(float));        // c_0 = 0
    memset(ws->A, 0, BH * sizeof(float));         // a_0 = 0
    for (int t = 0; t < Tt; t++) {
        size_t tb = (size_t)t * B;
        step_core(n, ws, B, NULL, tin + tb, ws->drop_dec ? ws->mt + tb * E : NULL,
                  ws->drop_dec ? ws->ma + tb * H : NULL, ws->Hs + tb * H, ws->Cs + tb * H, ws->A + tb * H,
                  ws->X + tb * X, ws->Gt + tb * GH, ws->HNL + tb * H, ws->Hs + (tb + B) * H,
                  ws->Cs + (tb + B) * H, ws->AL + tb * Ts, ws->HC + tb * (O + H),
                  ws->A + (tb + B) * H);
    }
    ws->has_forward = 1;
    ws->has_loss = 0;
    return 0;
}

/* ---- output layer and loss ---------------------------------------------------------------------
 * Per counted row: z = W_o a + b_o, p = softmax(z),
 *   L = -(1-ε) log p_y - (ε/V) Σ_k log p_k ;  dL/dz_k = p_k - (1-ε) [k = y] - ε/V. */
double nr_s2s_loss(const nr_s2s *n, nr_s2s_ws *ws, const int *tout, float smoothing, float scale,
                   float *grad, long long *count) {
    const float *P = n->params;
    int H = n->H, V = n->cfg.Vt, N = ws->Tt * ws->B;
    const float *Arows = ws->A + (size_t)ws->B * H; // (Tt*B,H): a_1 .. a_Tt
    nr_pk_stale(&ws->pk_o);
    double total = 0;
    long long cnt = 0;
    double eps = smoothing;
    for (int r0 = 0; r0 < N; r0 += LOSS_CHUNK) {
        int nr = N - r0 < LOSS_CHUNK ? N - r0 : LOSS_CHUNK;
        float *z = ws->logits; // (nr,V)
        nr_sgemm_pk(&ws->pk_o, 1, nr, V, H, 1.0f, Arows + (size_t)r0 * H, H, P + n->o_wo, H, 0.0f, z, V);
        for (int i = 0; i < nr; i++) {
            float *zi = z + (size_t)i * V;
            int y = tout[r0 + i];
            if (y < 0 || y >= V) {
                if (grad) memset(zi, 0, (size_t)V * sizeof(float));
                continue;
            }
            double mx = -INFINITY, se = 0, sz = 0;
            for (int k = 0; k < V; k++) {
                zi[k] += P[n->o_bo + (size_t)k];
                mx = zi[k] > mx ? zi[k] : mx;
            }
            for (int k = 0; k < V; k++) {
                se += exp(zi[k] - mx);
                sz += zi[k];
            }
            double lse = mx + log(se);
            total += -(1.0 - eps) * (zi[y] - lse) - eps / V * (sz - (double)V * lse);
            cnt++;
            if (grad) {
                for (int k = 0; k < V; k++)
                    zi[k] = (float)(scale * (exp(zi[k] - lse) - eps / V));
                zi[y] -= (float)(scale * (1.0 - eps));
            }
        }
        if (grad) {
            // dW_o (V,H) += dz^T a ; db_o += colsum dz ; dA (nr,H) = dz W_o
            nr_sgemm(1, 0, V, H, nr, 1.0f, z, V, Arows + (size_t)r0 * H, H, 1.0f, grad + n->o_wo, H);
            for (int i = 0; i < nr; i++) nr_axpy(grad + n->o_bo, 1.0f, z + (size_t)i * V, (size_t)V);
            nr_sgemm(0, 0, nr, H, V, 1.0f, z, V, P + n->o_wo, H, 0.0f, ws->dA + (size_t)r0 * H, H);
        }
    }
    if (count) *count = cnt;
    ws->has_loss = grad != NULL;
    return total;
}

/* ---- backward ---------------------------------------------------------------------------------- */

static void colsum_add(float *g, const float *d, int rows, int cols) {
    for (int r = 0; r < rows; r++) nr_axpy(g, 1.0f, d + (size_t)r * cols, (size_t)cols);
}

int nr_s2s_backward(const nr_s2s *n, nr_s2s_ws *ws, float *grad, nlprnn_error *err) {
    if (!ws->training || !ws->has_forward || !ws->has_loss)
        return nr_fail(err, NLPRNN_E_STATE, -1, -1,
                       "translate: backward needs a forward and a loss with a gradient first");
    const float *P = n->params;
    int B = ws->B, Ts = ws->Ts, Tt = ws->Tt, E = n->E, H = n->H, O = n->O, X = n->X,
        GH = n->G * n->H, OH = O + H;
    size_t BH = (size_t)B * H;
    int additive = n->cfg.attention == NR_ATTN_ADDITIVE;
    const float *v = P + n->o_v;
    memset(ws->dh, 0, BH * sizeof(float));    // dL/dh_t from step t+1
    memset(ws->dc, 0, BH * sizeof(float));    // dL/dc_t from step t+1
    memset(ws->dafed, 0, BH * sizeof(float)); // dL/da_t through input feeding
    memset(ws->dS, 0, (size_t)Ts * B * O * sizeof(float));
    memset(ws->dK, 0, (size_t)Ts * B * H * sizeof(float));
    for (int t = Tt - 1; t >= 0; t--) {
        size_t tb = (size_t)t * B;
        const float *at = ws->A + (tb + B) * H, *hc = ws->HC + tb * OH, *ht = ws->Hs + (tb + B) * H,
                    *hprev = ws->Hs + tb * H, *cprev = ws->Cs + tb * H, *x = ws->X + tb * X,
                    *g = ws->Gt + tb * GH, *hnl = ws->HNL + tb * H, *al = ws->AL + tb * Ts;
        // a = m ⊙ tanh(pre): dpre = (dA + dafed) m (1 - tanh(pre)^2), tanh(pre) = a / m where m != 0
        if (ws->drop_dec) {
            const float *ma = ws->ma + tb * H;
            for (size_t i = 0; i < BH; i++) {
                float u = ma[i] != 0.0f ? at[i] / ma[i] : 0.0f;
                ws->dpre[i] = (ws->dA[tb * H + i] + ws->dafed[i]) * ma[i] * (1.0f - u * u);
            }
        } else {
            for (size_t i = 0; i < BH; i++)
                ws->dpre[i] = (ws->dA[tb * H + i] + ws->dafed[i]) * (1.0f - at[i] * at[i]);
        }
        // dW_c (H,O+H) += dpre^T hc ; db_c += colsum ; dhc (B,O+H) = dpre W_c
        nr_sgemm(1, 0, H, OH, B, 1.0f, ws->dpre, H, hc, OH, 1.0f, grad + n->o_wc, OH);
        colsum_add(grad + n->o_bc, ws->dpre, B, H);
        nr_sgemm(0, 0, B, OH, H, 1.0f, ws->dpre, H, P + n->o_wc, OH, 0.0f, ws->dhc, OH);
        for (int b = 0; b < B; b++) nr_axpy(ws->dh + (size_t)b * H, 1.0f, ws->dhc + (size_t)b * OH + O, (size_t)H);
        if (additive) { // q (B,H) = h W_q^T + b_q, recomputed
            nr_sgemm(0, 1, B, H, H, 1.0f, ht, H, P + n->o_wq, H, 0.0f, ws->q, H);
            for (int b = 0; b < B; b++) nr_axpy(ws->q + (size_t)b * H, 1.0f, P + n->o_bq, (size_t)H);
            memset(ws->dq, 0, BH * sizeof(float));
        }
        // attention: ctx = Σ α_s S_s ; α = softmax(e)
        for (int b = 0; b < B; b++) {
            int len = ws->slen[b];
            const float *alb = al + (size_t)b * Ts, *dctx = ws->dhc + (size_t)b * OH,
                        *hb = ht + (size_t)b * H;
            float *dhb = ws->dh + (size_t)b * H;
            float *dal = ws->dal;
            float dot = 0;
            for (int s = 0; s < len; s++) {
                size_t so = ((size_t)s * B + b) * O;
                dal[s] = dotf(dctx, ws->S + so, O);            // dα_s = dctx · S_s
                dot += alb[s] * dal[s];
                nr_axpy(ws->dS + so, alb[s], dctx, (size_t)O); // dS_s += α_s dctx
            }
            for (int s = 0; s < len; s++) {
                float de = alb[s] * (dal[s] - dot);            // de_s = α_s (dα_s - Σ α dα)
                size_t ko = ((size_t)s * B + b) * H;
                const float *k = ws->K + ko;
                if (!additive) { // e = h · K_s
                    nr_axpy(dhb, de, k, (size_t)H);
                    nr_axpy(ws->dK + ko, de, hb, (size_t)H);
                } else {         // e = v · u, u = tanh(q + K_s)
                    const float *q = ws->q + (size_t)b * H;
                    float *dqb = ws->dq + (size_t)b * H, *dk = ws->dK + ko, *dv = grad + n->o_v;
                    for (int j = 0; j < H; j++) {
                        float u = tanhf(q[j] + k[j]);
                        dv[j] += de * u;
                        float du = de * v[j] * (1.0f - u * u);
                        dk[j] += du;
                        dqb[j] += du;
                    }
                }
            }
        }
        if (additive) { // dh += dq W_q ; dW_q += dq^T h ; db_q += colsum dq
            nr_sgemm(0, 0, B, H, H, 1.0f, ws->dq, H, P + n->o_wq, H, 1.0f, ws->dh, H);
            nr_sgemm(1, 0, H, H, B, 1.0f, ws->dq, H, ht, H, 1.0f, grad + n->o_wq, H);
            colsum_add(grad + n->o_bq, ws->dq, B, H);
        }
        // the cell: d pre-activations (dgi for W_ih x + b_ih, dgh for W_hh h + b_hh). LSTM: a gate's
        // pre-activation is their sum, so both gradients are dgi; GRU (reset after): the candidate's
        // W_hn h + b_hn sits inside r *, so dgh differs from dgi there
        float *dgh = n->cfg.cell == NR_CELL_LSTM ? ws->dgi : ws->dgh;
        for (int b = 0; b < B; b++) {
            size_t o = (size_t)b * H, og = (size_t)b * GH;
            if (n->cfg.cell == NR_CELL_LSTM)
                nr_lstm_row_backward(ws->dgi + og, ws->dc + o, ws->dh + o, g + og, cprev + o, H);
            else
                nr_gru_row_backward_after(ws->dgi + og, ws->dgh + og, ws->dhd + o, ws->dh + o,
                                          g + og, hnl + o, hprev + o, H);
        }
        // dW_ih += dgi^T x ; db_ih ; dW_hh += dgh^T hprev ; db_hh ; dx = dgi W_ih ; dh = dgh W_hh (+ dhd)
        nr_sgemm(1, 0, GH, X, B, 1.0f, ws->dgi, GH, x, X, 1.0f, grad + n->o_wih, X);
        colsum_add(grad + n->o_bih, ws->dgi, B, GH);
        nr_sgemm(1, 0, GH, H, B, 1.0f, dgh, GH, hprev, H, 1.0f, grad + n->o_whh, H);
        colsum_add(grad + n->o_bhh, dgh, B, GH);
        nr_sgemm(0, 0, B, X, GH, 1.0f, ws->dgi, GH, P + n->o_wih, X, 0.0f, ws->dx, X);
        nr_sgemm(0, 0, B, H, GH, 1.0f, dgh, GH, P + n->o_whh, H, 0.0f, ws->dh, H);
        if (n->cfg.cell == NR_CELL_GRU) nr_axpy(ws->dh, 1.0f, ws->dhd, BH);
        // x = [m ⊙ emb(y_{t-1}) ; a_{t-1}]: scatter m ⊙ dx into the target embedding, feed da_{t-1} back
        if (ws->drop_dec)
            for (int b = 0; b < B; b++) mul_mask(ws->dx + (size_t)b * X, ws->mt + (tb + (size_t)b) * E, (size_t)E);
        for (int b = 0; b < B; b++) {
            int id = ws->tin[tb + (size_t)b];
            const float *dxb = ws->dx + (size_t)b * X;
            if (id > 0 && id < n->cfg.Vt) nr_axpy(grad + n->o_tgt + (size_t)id * E, 1.0f, dxb, (size_t)E);
            memcpy(ws->dafed + (size_t)b * H, dxb + E, (size_t)H * sizeof(float));
        }
    }
    // bridge: h_0 = tanh(W_b m + b_b): dpre = dh (1 - h_0^2); dW_b += dpre^T m; dm = dpre W_b
    for (size_t i = 0; i < BH; i++) ws->dpre[i] = ws->dh[i] * (1.0f - ws->h0[i] * ws->h0[i]);
    nr_sgemm(1, 0, H, O, B, 1.0f, ws->dpre, H, ws->m, O, 1.0f, grad + n->o_wb, O);
    colsum_add(grad + n->o_bb, ws->dpre, B, H);
    nr_sgemm(0, 0, B, O, H, 1.0f, ws->dpre, H, P + n->o_wb, O, 0.0f, ws->dm, O);
    for (int b = 0; b < B; b++)
        for (int s = 0; s < ws->slen[b]; s++)
            nr_axpy(ws->dS + ((size_t)s * B + b) * O, 1.0f / (float)ws->slen[b], ws->dm + (size_t)b * O, (size_t)O);
    // keys K = S W^T: dS += dK W ; dW += dK^T S
    int N = Ts * B;
    nr_sgemm(0, 0, N, O, H, 1.0f, ws->dK, H, P + n->o_wa, O, 1.0f, ws->dS, O);
    nr_sgemm(1, 0, H, O, N, 1.0f, ws->dK, H, ws->S, O, 1.0f, grad + n->o_wa, O);
    // encoder and source embedding
    memset(ws->dxs, 0, (size_t)N * E * sizeof(float));
    int rc = nr_encoder_backward(&n->enc, ws->ews, grad + n->o_enc, ws->dxs, NULL, NULL, ws->dS,
                                 NULL, NULL, err);
    if (rc) return rc;
    if (ws->drop_src) mul_mask(ws->dxs, ws->ms, (size_t)N * E); // xs = m ⊙ emb: d emb = m ⊙ dxs
    nr_embedding_backward(&n->src, grad + n->o_src, ws->dxs, ws->src, (size_t)N);
    ws->has_loss = 0;
    return 0;
}

/* ---- step-by-step decoding -------------------------------------------------------------------- */

void nr_s2s_state_start(const nr_s2s *n, nr_s2s_ws *ws, nr_s2s_state *st, const int *row_src,
                        int R) {
    size_t H = (size_t)n->H;
    if (!ws->keep_pack) { /* the parameters may have changed since the last decoding */
        stale_step_packs(ws);
        nr_pk_stale(&ws->pk_o);
    }
    ws->slots_on = 0; /* the rows attend to the last encode's sources */
    for (int r = 0; r < R; r++) {
        int b = row_src ? row_src[r] : r;
        memcpy(st->h + (size_t)r * H, ws->h0 + (size_t)b * H, H * sizeof(float));
    }
    memset(st->c, 0, (size_t)R * H * sizeof(float));
    memset(st->a, 0, (size_t)R * H * sizeof(float));
}

int nr_s2s_slots_begin(const nr_s2s *n, nr_s2s_ws *ws, int Ts, int rows, nlprnn_error *err) {
    if (Ts < 1 || Ts > ws->max_Ts || rows < 1 || rows > ws->max_B)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "translate: %d rows of sources of %d steps is beyond the workspace (%d, %d)", rows, Ts,
                       ws->max_B, ws->max_Ts);
    size_t BT = (size_t)ws->max_B * (size_t)ws->max_Ts;
    if (!ws->slotS) {
        ws->slotS = nr_calloc_array(BT * (size_t)n->O + 1, sizeof(float));
        ws->slotK = nr_calloc_array(BT * (size_t)n->H + 1, sizeof(float));
        ws->slotlen = nr_calloc_array((size_t)ws->max_B + 1, sizeof(int));
        if (!ws->slotS || !ws->slotK || !ws->slotlen) {
            free(ws->slotS), free(ws->slotK), free(ws->slotlen);
            ws->slotS = ws->slotK = NULL, ws->slotlen = NULL;
            return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory for the decoder's slots");
        }
    }
    if (!ws->keep_pack) { /* the parameters may have changed since the last decoding */
        stale_step_packs(ws);
        nr_pk_stale(&ws->pk_o);
    }
    ws->slots_on = 1, ws->slot_Ts = Ts;
    return 0;
}

void nr_s2s_slot_load(const nr_s2s *n, nr_s2s_ws *ws, int slot, int b, float *h0) {
    size_t H = (size_t)n->H, O = (size_t)n->O, B = (size_t)ws->B, len = (size_t)ws->slen[b];
    float *S = ws->slotS + (size_t)slot * ws->max_Ts * O, *K = ws->slotK + (size_t)slot * ws->max_Ts * H;
    for (size_t s = 0; s < len; s++) { // rows s of source b are B apart in (Ts,B,.)
        memcpy(S + s * O, ws->S + (s * B + (size_t)b) * O, O * sizeof(float));
        memcpy(K + s * H, ws->K + (s * B + (size_t)b) * H, H * sizeof(float));
    }
    ws->slotlen[slot] = (int)len;
    memcpy(h0, ws->h0 + (size_t)b * H, H * sizeof(float));
}

void nr_s2s_slots_end(nr_s2s_ws *ws) { ws->slots_on = 0; }

void *nr_s2s_ws_scratch(nr_s2s_ws *ws, int which, size_t bytes) {
    if (which < 0 || which > 1) return NULL;
    if (bytes > ws->scr_cap[which]) {
        size_t cap = bytes + bytes / 2; /* room to grow a little without another allocation */
        void *p = malloc(cap);
        if (!p) return NULL;
        free(ws->scr[which]);
        ws->scr[which] = p, ws->scr_cap[which] = cap;
    }
    return ws->scr[which];
}

void nr_s2s_ws_set_table(nr_s2s_ws *ws, const float *table) { ws->ptab = ws->training ? NULL : table; }

void nr_s2s_step(const nr_s2s *n, nr_s2s_ws *ws, nr_s2s_state *st, const int *row_src,
                 const int *prev, int R, float *logits, float *alpha) {
    float *al = alpha ? alpha : ws->AL;
    step_core(n, ws, R, row_src, prev, NULL, NULL, st->h, st->c, st->a, ws->X, ws->Gt, ws->HNL, st->h,
              st->c, al, ws->HC, st->a);
    if (logits) {
        int V = n->cfg.Vt, H = n->H;
        nr_sgemm_pk_copy(&ws->pk_o, R, V, H, 1.0f, st->a, H, n->params + n->o_wo, ws->keep_pack ? &n->c_wo : NULL,
                         H, 0.0f, logits, V);
        for (int r = 0; r < R; r++) nr_axpy(logits + (size_t)r * V, 1.0f, n->params + n->o_bo, (size_t)V);
    }
}

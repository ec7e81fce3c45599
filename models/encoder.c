/* models/encoder.c: the encoder stack: layers x directions of one cell kind, masking, dropout
 * between layers, forward and backward, split across threads (see models/encoder.h; the split of
 * one sequence's recurrent products between two threads is models/step_split.c). This file holds
 * the configuration, the parameters and the layer loop of nr_encoder_forward/backward; P and W are
 * models/encoder_proj.c, R models/encoder_recur.c, the workspace models/encoder_ws.c, and what
 * these files share models/encoder_impl.h.
 *
 * The work per layer, cuDNN style:
 *   forward   P: gates (T*B, G*H) = X (T*B, I) W_ih^T + b_ih       one GEMM per direction
 *             R: per step s: gh (B, G*H) = h W_hh^T                 one GEMM per step
 *                then the fused row kernel (models/cells.h) per sequence row
 *   backward  R: per step s (descending): row kernel -> dG rows, then dh_prev = dG W_hh (one GEMM)
 *             W: dW_ih += dG^T X, dW_hh += dG^T Hprev (one GEMM each over all T*B rows),
 *                db = column sums, dX = dG W_ih (one GEMM)
 *
 * Order of rows: time-major (t*B + b). Saved activations are in time order: row (t,b) holds the
 * gates computed at time t and the state h_prev/c_prev the step at time t started from. Step s of
 * direction d for sequence b works on time t = s (d = 0) or len[b]-1-s (d = 1); steps s >= len[b]
 * are skipped (the state carries through unchanged), so rows at t >= len[b] stay zero.
 */
#include "models/encoder_impl.h"

#include <stdlib.h>
#include <string.h>

#include "models/gemv_f16.h"
#include "models/math.h"
#include "models/quant.h"
#include "models/step_split.h"

void nr_encoder_cfg_default(nr_encoder_cfg *cfg, int input_size, int hidden)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->cell = NR_CELL_LSTM;
    cfg->input_size = input_size;
    cfg->hidden = hidden;
    cfg->layers = 1;
    cfg->merge = NR_MERGE_CONCAT;
    cfg->gru_reset_after = 1;
}

const char *nr_cell_name(int cell)
{
    switch (cell) {
    case NR_CELL_RNN: return "rnn";
    case NR_CELL_LSTM: return "lstm";
    case NR_CELL_GRU: return "gru";
    default: return NULL;
    }
}

int nr_cell_from_name(const char *name)
{
    if (!name)
        return -1;
    if (!strcmp(name, "rnn") || !strcmp(name, "simplernn"))
        return NR_CELL_RNN;
    if (!strcmp(name, "lstm"))
        return NR_CELL_LSTM;
    if (!strcmp(name, "gru"))
        return NR_CELL_GRU;
    return -1;
}

static int cell_gates(int cell)
{
    return cell == NR_CELL_LSTM ? 4 : cell == NR_CELL_GRU ? 3 : 1;
}

static int check_cfg(const nr_encoder_cfg *c, nlprnn_error *err)
{
    if (!c)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "encoder: no configuration");
    if (c->cell < NR_CELL_RNN || c->cell > NR_CELL_GRU)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "encoder: unknown cell kind %d", c->cell);
    if (c->input_size < 1 || c->hidden < 1 || c->input_size > (1 << 20) || c->hidden > (1 << 16))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "encoder: input size %d and hidden size %d must be in 1..2^20 and 1..2^16",
                       c->input_size, c->hidden);
    if (c->layers < 1 || c->layers > NR_ENCODER_MAX_LAYERS)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "encoder: %d layers (must be 1..%d)",
                       c->layers, NR_ENCODER_MAX_LAYERS);
    if (c->bidirectional != 0 && c->bidirectional != 1)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "encoder: bidirectional must be 0 or 1");
    if (c->merge != NR_MERGE_CONCAT && c->merge != NR_MERGE_SUM)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "encoder: unknown merge mode %d", c->merge);
    if (!(c->dropout >= 0.0f && c->dropout < 1.0f))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "encoder: dropout %g not in [0,1)",
                       (double)c->dropout);
    return 0;
}

/* Compute the slots of cfg (assumed valid); returns the parameter count. */
static size_t layout(const nr_encoder_cfg *c, nr_rnn_slot slot[][2], int *out_size)
{
    int G = cell_gates(c->cell), H = c->hidden, dirs = c->bidirectional ? 2 : 1;
    int O = H * (c->bidirectional && c->merge == NR_MERGE_CONCAT ? 2 : 1);
    size_t off = 0;
    for (int l = 0; l < c->layers; l++) {
        int in = l == 0 ? c->input_size : O;
        for (int d = 0; d < dirs; d++) {
            nr_rnn_slot s;
            s.in = in;
            s.w_ih = off;
            off += (size_t)G * H * in;
            s.w_hh = off;
            off += (size_t)G * H * H;
            s.b_ih = off;
            off += (size_t)G * H;
            s.b_hh = off;
            off += (size_t)G * H;
            if (slot)
                slot[l][d] = s;
        }
    }
    if (out_size)
        *out_size = O;
    return off;
}

size_t nr_encoder_param_count(const nr_encoder_cfg *cfg)
{
    if (check_cfg(cfg, NULL))
        return 0;
    return layout(cfg, NULL, NULL);
}

int nr_encoder_bind(nr_encoder *enc, const nr_encoder_cfg *cfg, float *params, nlprnn_error *err)
{
    int rc = check_cfg(cfg, err);
    if (rc)
        return rc;
    if (!enc || !params)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "encoder: NULL encoder or parameters");
    memset(enc, 0, sizeof *enc);
    enc->cfg = *cfg;
    enc->dirs = cfg->bidirectional ? 2 : 1;
    enc->gates = cell_gates(cfg->cell);
    enc->n_params = layout(cfg, enc->slot, &enc->out_size);
    enc->params = params;
    return 0;
}

int nr_encoder_init(const nr_encoder *enc, nr_rng *rng, nlprnn_error *err)
{
    int G = enc->gates, H = enc->cfg.hidden;
    for (int l = 0; l < enc->cfg.layers; l++)
        for (int d = 0; d < enc->dirs; d++) {
            const nr_rnn_slot *s = &enc->slot[l][d];
            nr_init_glorot_uniform(enc->params + s->w_ih, G * H, s->in, rng);
            int rc = nr_init_orthogonal(enc->params + s->w_hh, G * H, H, rng, err);
            if (rc)
                return rc;
            memset(enc->params + s->b_ih, 0, sizeof(float) * (size_t)G * H * 2);
            if (enc->cfg.cell == NR_CELL_LSTM)
                for (int j = 0; j < H; j++)
                    enc->params[s->b_ih + H + j] = 1.0f; /* forget gate: remember by default */
        }
    return 0;
}

/* ---- float16 recurrent weights (inference) ----------------------------------------------------- */

size_t nr_encoder_whh_count(const nr_encoder *enc)
{
    size_t GH = (size_t)enc->gates * enc->cfg.hidden;
    return (size_t)enc->cfg.layers * enc->dirs * GH * enc->cfg.hidden;
}

/* Point enc->whh_f16 at the W_hh halves of w16 (layer-major, then direction) and pick the kernel. */
static void attach_f16_pointers(nr_encoder *enc, uint16_t *w16)
{
    size_t n = (size_t)enc->gates * enc->cfg.hidden * enc->cfg.hidden, at = 0;
    for (int l = 0; l < enc->cfg.layers; l++)
        for (int d = 0; d < enc->dirs; d++, at += n)
            enc->whh_f16[l][d] = w16 + at;
    enc->f16_kernel = nr_f16_kernel_best();
}

int nr_encoder_attach_f16(nr_encoder *enc, uint16_t *w16, nlprnn_error *err)
{
    if (!enc || !enc->params || !w16)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "encoder: NULL encoder or f16 buffer");
    size_t n = (size_t)enc->gates * enc->cfg.hidden * enc->cfg.hidden, at = 0;
    for (int l = 0; l < enc->cfg.layers; l++)
        for (int d = 0; d < enc->dirs; d++, at += n) {
            const float *w = enc->params + enc->slot[l][d].w_hh; // (G*H,H)
            for (size_t k = 0; k < n; k++) {
                uint16_t h = nr_f32_to_f16(w[k]);
                if (nr_f16_to_f32(h) != w[k]) /* also rejects NaN (never equal) */
                    return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                                   "encoder: W_hh of layer %d direction %d, value %zu (%.9g) is "
                                   "not a float16 value",
                                   l, d, k, (double)w[k]);
                w16[at + k] = h;
            }
        }
    attach_f16_pointers(enc, w16);
    return 0;
}

int nr_encoder_attach_f16_filled(nr_encoder *enc, uint16_t *w16, nlprnn_error *err)
{
    if (!enc || !enc->params || !w16)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "encoder: NULL encoder or f16 buffer");
    enum { CHUNK = 512 };
    float wide[CHUNK];
    size_t n = (size_t)enc->gates * enc->cfg.hidden * enc->cfg.hidden, at = 0;
    for (int l = 0; l < enc->cfg.layers; l++)
        for (int d = 0; d < enc->dirs; d++, at += n) {
            const float *w = enc->params + enc->slot[l][d].w_hh; // (G*H,H)
            for (size_t k0 = 0; k0 < n; k0 += CHUNK) {
                size_t m = n - k0 < CHUNK ? n - k0 : CHUNK;
                nr_f16_widen(wide, (const unsigned char *)(w16 + at + k0), m);
                if (memcmp(wide, w + k0, m * sizeof(float)) == 0) continue;
                for (size_t k = 0; k < m; k++)
                    if (memcmp(&wide[k], &w[k0 + k], sizeof(float)))
                        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                                       "encoder: W_hh of layer %d direction %d, value %zu (%.9g): its "
                                       "float16 copy holds %.9g",
                                       l, d, k0 + k, (double)w[k0 + k], (double)wide[k]);
            }
        }
    attach_f16_pointers(enc, w16);
    return 0;
}

void nr_encoder_detach_f16(nr_encoder *enc)
{
    memset(enc->whh_f16, 0, sizeof enc->whh_f16);
}

/* ---- forward ---------------------------------------------------------------------------------- */

int nr_enc_effective_threads(const nr_encoder_ws *ws, int T, int B)
{
    int n = ws->nthreads < B ? ws->nthreads : B;
    return (long long)T * B < 8 ? 1 : n;
}

/* One forward call's arguments (nr_encoder_forward), for forward_layers and the split runner. */
typedef struct {
    const nr_encoder *enc;
    nr_encoder_ws *ws;
    float *out, *hn, *cn;
    const float *x, *h0, *c0;
    int T, B;
    nr_rng *dropout_rng;
    int nth;
} fwd_call;

/* All layers of a forward call, each as projection P then recurrence R (see the top). */
static void forward_layers(const fwd_call *F)
{
    const nr_encoder *enc = F->enc;
    nr_encoder_ws *ws = F->ws;
    float *out = F->out, *hn = F->hn, *cn = F->cn;
    const float *x = F->x, *h0 = F->h0, *c0 = F->c0;
    int T = F->T, B = F->B, nth = F->nth;
    nr_rng *dropout_rng = F->dropout_rng;
    int L = enc->cfg.layers, O = enc->out_size;
    size_t TBO = (size_t)T * B * O;
    for (int l = 0; l < L; l++) {
        layer_job J;
        memset(&J, 0, sizeof J);
        J.enc = enc;
        J.ws = ws;
        J.l = l;
        J.T = T;
        J.B = B;
        J.X = l == 0 ? x : (ws->training ? ws->ybuf[l - 1] : ws->ybuf[(l - 1) & 1]);
        J.Y = l == L - 1 ? out : (ws->training ? ws->ybuf[l] : ws->ybuf[l & 1]);
        J.h0 = h0;
        J.c0 = c0;
        J.hn = hn;
        J.cn = cn;
        nr_parallel_run(nth, nr_enc_fwd_project, &J);
        nr_enc_ws_pack(enc, ws, l, 0, (B + nth - 1) / nth, ws->maxlen);
        nr_parallel_run(nth, nr_enc_fwd_recur, &J);
        ws->dropped[l] = 0;
        if (l < L - 1 && ws->training && dropout_rng && enc->cfg.dropout > 0.0f) {
            /* inverted dropout on the next layer's input: keep with 1-p, scale by 1/(1-p) */
            float p = enc->cfg.dropout, scale = 1.0f / (1.0f - p);
            float *m = ws->mask[l], *y = J.Y;
            for (size_t k = 0; k < TBO; k++) {
                m[k] = nr_rng_uniform(dropout_rng) < p ? 0.0f : scale;
                y[k] *= m[k];
            }
            ws->dropped[l] = 1;
        }
    }
}

/* 1 if some (layer, direction) has a float16 W_hh */
static int has_f16(const nr_encoder *enc)
{
    for (int l = 0; l < enc->cfg.layers; l++)
        for (int d = 0; d < enc->dirs; d++)
            if (enc->whh_f16[l][d])
                return 1;
    return 0;
}

int nr_encoder_forward(const nr_encoder *enc, nr_encoder_ws *ws, float *out, float *hn, float *cn,
                       const float *x, const int *lengths, const float *h0, const float *c0, int T,
                       int B, nr_rng *dropout_rng, nlprnn_error *err)
{
    if (!enc || !ws || !out || !x)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "encoder forward: NULL argument");
    if (T < 1 || T > ws->max_T || B < 1 || B > ws->max_B)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "encoder forward: T=%d, B=%d outside the workspace (max T=%d, B=%d)", T, B,
                       ws->max_T, ws->max_B);
    const nr_encoder_cfg *c = &enc->cfg, *w = &ws->cfg;
    if (c->cell != w->cell || c->input_size != w->input_size || c->hidden != w->hidden ||
        c->layers != w->layers || c->bidirectional != w->bidirectional || c->merge != w->merge ||
        c->gru_reset_after != w->gru_reset_after ||
        (ws->training && c->dropout > 0.0f && w->dropout <= 0.0f && c->layers > 1))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "encoder forward: the workspace was made for another configuration");
    int maxlen = 0;
    for (int b = 0; b < B; b++) {
        int len = lengths ? lengths[b] : T;
        if (len < 1 || len > T) {
            ws->have_forward = 0;
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                           "encoder forward: length %d of sequence %d not in 1..%d", len, b, T);
        }
        ws->len[b] = len;
        maxlen = len > maxlen ? len : maxlen;
    }
    ws->T = T;
    ws->B = B;
    ws->maxlen = maxlen;
    ws->x = x;
    if (ws->keep_pack && ws->kp_ran && !ws->kept) /* the second forward: see kp_ran */
        nr_encoder_packs_create(&ws->kept, NULL);
    ws->kp_ran = ws->keep_pack;
    fwd_call F = {enc, ws, out, hn, cn, x, h0, c0, T, B, dropout_rng,
                  nr_enc_effective_threads(ws, T, B)};
    int split = F.nth == 1 && ws->nthreads >= 2 && !ws->training && (size_t)T * B >= 8 &&
                has_f16(enc) && nr_pool_workers_max() >= 1;
    if (split && !ws->helper && !ws->helper_failed) {
        /* the first such call makes the split state (once per workspace; if it cannot be made,
         * these calls run on one thread, with the same results) */
        ws->helper = nr_step_split_create();
        ws->helper_failed = ws->helper == NULL;
    }
    if (split && ws->helper) {
        /* batch-1 inference with float16 W_hh (one sequence: the fork-join split has nothing to
         * split): everything on the caller as with one thread, the recurrent products split with
         * a helper task (models/step_split.h). Batches of 2 or more keep the fork-join split by
         * sequences, measured faster at batch 4 and 8 than splitting each product. */
        nr_step_split_call_begin(ws->helper, ws->split_wait);
        ws->split = ws->helper;
        forward_layers(&F);
        ws->split = NULL;
        nr_step_split_call_end(ws->helper);
    } else {
        forward_layers(&F);
    }
    ws->have_forward = ws->training;
    return 0;
}

/* ---- backward --------------------------------------------------------------------------------- */

int nr_encoder_backward(const nr_encoder *enc, nr_encoder_ws *ws, float *grad, float *dx,
                        float *dh0, float *dc0, const float *dout, const float *dhn,
                        const float *dcn, nlprnn_error *err)
{
    if (!enc || !ws || !grad)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "encoder backward: NULL argument");
    if (!ws->training || !ws->have_forward)
        return nr_fail(err, NLPRNN_E_STATE, -1, -1,
                       "encoder backward: needs a training workspace after a forward call");
    int L = enc->cfg.layers, nth = nr_enc_effective_threads(ws, ws->T, ws->B);
    for (int l = L - 1; l >= 0; l--) {
        layer_job J;
        memset(&J, 0, sizeof J);
        J.enc = enc;
        J.ws = ws;
        J.l = l;
        J.T = ws->T;
        J.B = ws->B;
        J.X = l == 0 ? ws->x : ws->ybuf[l - 1];
        J.dY = l == L - 1 ? dout : ws->dy;
        J.dhn = dhn;
        J.dcn = dcn;
        J.dh0 = dh0;
        J.dc0 = dc0;
        J.grad = grad;
        if (l == 0) {
            J.dX = dx;
            J.dx_accumulate = 1;
        } else {
            J.dX = ws->dy; /* becomes dY of layer l-1 (dY of layer l is no longer read) */
            J.dmask = ws->dropped[l - 1] ? ws->mask[l - 1] : NULL;
        }
        nr_enc_ws_pack(enc, ws, l, 1, (ws->B + nth - 1) / nth, ws->maxlen);
        nr_parallel_run(nth, nr_enc_bwd_recur, &J);
        nr_parallel_run(nth, nr_enc_bwd_weights, &J);
    }
    return 0;
}

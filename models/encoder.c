/* models/encoder.c: the encoder stack: layers x directions of one cell kind, masking, dropout
 * between layers, forward and backward, split across threads (see models/encoder.h; the split of
 * one sequence's recurrent products between two threads is models/step_split.c). The recurrence R
 * is models/encoder_recur.c, the workspace models/encoder_ws.c; what the encoder's files share,
 * models/encoder_impl.h.
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
#include "models/kernels/kernels.h"
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

/* P: gates = X W_ih^T + b_ih over rows [r0, r1) of T*B; Y rows zeroed (not when pooling). Layer 0 with a table
 * (nr_encoder_ws_set_table): the gates of each running row (t < len[b]) are copied from the row
 * of its id, padded rows are left as they are (the recurrence never reads them). */
void nr_enc_fwd_project(void *ctx, int i, int n)
{
    layer_job *J = ctx;
    const nr_encoder *enc = J->enc;
    const nr_encoder_ws *ws = J->ws;
    int TB = J->T * J->B, GH = enc->gates * enc->cfg.hidden, r0, r1;
    nr_split_range(TB, i, n, &r0, &r1);
    if (r1 <= r0)
        return;
    if (J->l == 0 && ws->ptab) {
        size_t row = (size_t)enc->dirs * GH;
        /* the LSTM step reads the table's rows where they are (nr_enc_fwd_recur) */
        for (int d = 0; enc->cfg.cell != NR_CELL_LSTM && d < enc->dirs; d++) {
            float *G = gates_of(J->ws, 0, d);
            for (int r = r0; r < r1; r++)
                if (r / J->B < ws->len[r % J->B])
                    memcpy(G + (size_t)r * GH, ws->ptab + (size_t)ws->ptab_ids[r] * row + (size_t)d * GH,
                           sizeof(float) * GH);
        }
        if (!pools(J))
            memset(J->Y + (size_t)r0 * enc->out_size, 0, sizeof(float) * (size_t)(r1 - r0) * enc->out_size);
        return;
    }
    for (int d = 0; d < enc->dirs; d++) {
        const nr_rnn_slot *s = &enc->slot[J->l][d];
        float *G = gates_of(J->ws, J->l, d) + (size_t)r0 * GH; // (r1-r0, GH)
        const float *b = enc->params + s->b_ih;
        for (int r = 0; r < r1 - r0; r++)
            memcpy(G + (size_t)r * GH, b, sizeof(float) * GH);
        /* W_ih packed where nr_sgemm would pack it itself (the same kernel, the same bits): once
         * per training step for all the workspaces with shared packs (data-parallel training),
         * once for the workspace's life with keep_pack (a loaded model: not once per sentence).
         * The threads of this forward take it from the object under its lock: the first to
         * need it packs it, the others wait for it, then all read it. */
        nr_encoder_packs *pks = ws->keep_pack ? ws->kept : ws->shared;
        const float *pw = pks && nr_sgemm_packs(1, r1 - r0, GH, s->in)
                              ? nr_enc_shared_pack(pks, J->l, d, PK_IH, nr_kpath(), 1, s->in, GH,
                                                   enc->params + s->w_ih, s->in)
                              : NULL;
        if (pw)
            nr_kgemm_packed(nr_kpath(), 0, r1 - r0, GH, s->in, 1.0f, J->X + (size_t)r0 * s->in, s->in, pw,
                            1.0f, G, GH);
        else
            nr_sgemm(0, 1, r1 - r0, GH, s->in, 1.0f, J->X + (size_t)r0 * s->in, s->in,
                     enc->params + s->w_ih, s->in, 1.0f, G, GH);
    }
    if (!pools(J))
        memset(J->Y + (size_t)r0 * enc->out_size, 0, sizeof(float) * (size_t)(r1 - r0) * enc->out_size);
}

/* ---- layer 0's projection from a table (inference) ---- */


int nr_encoder_table_ok(const nr_encoder *enc, const nr_encoder_ws *ws, int T, int B)
{
    if (!enc || !ws || ws->training || T < 1 || B < 1)
        return 0;
    int p = nr_kpath(), nth = nr_enc_effective_threads(ws, T, B), GH = enc->gates * enc->cfg.hidden;
    int I = enc->cfg.input_size;
    for (int i = 0; i < nth; i++) {
        int r0, r1;
        nr_split_range(T * B, i, nth, &r0, &r1);
        if (r1 > r0 && !nr_kgemm_use(p, 0, 1, r1 - r0, GH, I, 0))
            return 0;
    }
    return 1;
}

/* Rows are computed NR_TABLE_ROWS at a time (a block of fewer is padded with zero rows, so every
 * product is one our kernel takes, as in nr_encoder_table_ok's calls). */
#define NR_TABLE_ROWS 64

int nr_encoder_project_rows(const nr_encoder *enc, const float *X, int M, float *rows,
                            nlprnn_error *err)
{
    int p = nr_kpath(), GH = enc->gates * enc->cfg.hidden, I = enc->cfg.input_size;
    int dirs = enc->dirs, ld = dirs * GH;
    if (!nr_kgemm_use(p, 0, 1, NR_TABLE_ROWS, GH, I, 0))
        return nr_fail(err, NLPRNN_E_STATE, -1, -1,
                       "encoder: no kernel of ours for the input projection on path %s",
                       nr_kpath_name(p));
    float *x = nr_malloc_array((size_t)NR_TABLE_ROWS * I, sizeof(float));
    float *g = nr_malloc_array((size_t)NR_TABLE_ROWS * ld, sizeof(float));
    int rc = x && g ? 0 : nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "encoder: out of memory");
    /* W_ih packed once for all the blocks (packed and unpacked products give the same bits,
     * models/kernels/kernels.h); without the memory, each block packs its own */
    size_t pkf = nr_kpack_floats(p, I, GH);
    float *pk = M > NR_TABLE_ROWS && nr_kgemm_use(p, 0, 1, NR_TABLE_ROWS, GH, I, 1)
                    ? nr_malloc_array(pkf * (size_t)dirs, sizeof(float))
                    : NULL;
    for (int d = 0; pk && d < dirs; d++)
        nr_kpack(p, pk + pkf * (size_t)d, 1, I, GH, enc->params + enc->slot[0][d].w_ih, I);
    for (int m0 = 0; !rc && m0 < M; m0 += NR_TABLE_ROWS) {
        int mb = M - m0 < NR_TABLE_ROWS ? M - m0 : NR_TABLE_ROWS;
        memcpy(x, X + (size_t)m0 * I, sizeof(float) * (size_t)mb * I);
        memset(x + (size_t)mb * I, 0, sizeof(float) * (size_t)(NR_TABLE_ROWS - mb) * I);
        for (int d = 0; !rc && d < dirs; d++) {
            const nr_rnn_slot *s = &enc->slot[0][d];
            for (int r = 0; r < NR_TABLE_ROWS; r++)
                memcpy(g + (size_t)r * ld + (size_t)d * GH, enc->params + s->b_ih, sizeof(float) * GH);
            /* as nr_enc_fwd_project: G = b_ih, G += X W_ih^T */
            if (pk)
                nr_kgemm_packed(p, 0, NR_TABLE_ROWS, GH, I, 1.0f, x, I, pk + pkf * (size_t)d, 1.0f,
                                g + (size_t)d * GH, ld);
            else if (nr_kgemm(p, 0, 1, NR_TABLE_ROWS, GH, I, 1.0f, x, I, enc->params + s->w_ih, I, 1.0f,
                              g + (size_t)d * GH, ld))
                rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "encoder: out of memory");
        }
        if (!rc)
            memcpy(rows + (size_t)m0 * ld, g, sizeof(float) * (size_t)mb * ld);
    }
    free(pk);
    free(x);
    free(g);
    return rc;
}

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


/* W: weight gradients over all T*B rows (gate rows split across threads) and dX (rows split). */
void nr_enc_bwd_weights(void *ctx, int i, int n)
{
    layer_job *J = ctx;
    const nr_encoder *enc = J->enc;
    nr_encoder_ws *ws = J->ws;
    int TB = J->T * J->B, H = enc->cfg.hidden, GH = enc->gates * H, l = J->l;
    int gru_before = enc->cfg.cell == NR_CELL_GRU && !enc->cfg.gru_reset_after;
    int g0, g1, r0, r1;
    nr_split_range(GH, i, n, &g0, &g1);
    nr_split_range(TB, i, n, &r0, &r1);
    for (int d = 0; d < enc->dirs; d++) {
        const nr_rnn_slot *s = &enc->slot[l][d];
        const float *dgi = ws->dgi[d], *dgh = ws->dgh[d];
        int I = s->in;
        if (g1 > g0) {
            int ng = g1 - g0;
            /* dW_ih[g0:g1] (ng,I) += dGi[:, g0:g1]^T (ng,TB) X (TB,I) */
            nr_sgemm(1, 0, ng, I, TB, 1.0f, dgi + g0, GH, J->X, I, 1.0f,
                     J->grad + s->w_ih + (size_t)g0 * I, I);
            /* dW_hh[g0:g1] (ng,H) += dGh^T Hprev ; GRU reset-before: rows >= 2H use r*h */
            int split = gru_before ? 2 * H : GH;
            if (g0 < split) {
                int e = g1 < split ? g1 : split;
                nr_sgemm(1, 0, e - g0, H, TB, 1.0f, dgh + g0, GH, ws->hprev[l][d], H, 1.0f,
                         J->grad + s->w_hh + (size_t)g0 * H, H);
            }
            if (g1 > split) {
                int bgn = g0 > split ? g0 : split;
                nr_sgemm(1, 0, g1 - bgn, H, TB, 1.0f, dgh + bgn, GH, ws->hnl[l][d], H, 1.0f,
                         J->grad + s->w_hh + (size_t)bgn * H, H);
            }
            /* db_ih += column sums of dGi, db_hh += column sums of dGh */
            float *dbi = J->grad + s->b_ih, *dbh = J->grad + s->b_hh;
            for (int r = 0; r < TB; r++) {
                const float *a = dgi + (size_t)r * GH, *c = dgh + (size_t)r * GH;
                for (int k = g0; k < g1; k++) {
                    dbi[k] += a[k];
                    dbh[k] += c[k];
                }
            }
        }
        if (J->dX && r1 > r0) {
            /* dX rows (r1-r0, I) (+)= dGi (r1-r0, GH) W_ih (GH, I) */
            float beta = (J->dx_accumulate || d > 0) ? 1.0f : 0.0f;
            /* with shared packs, W_ih packed once a step for all the workspaces (as in the
             * projection): the kernel nr_sgemm would run after packing it itself, the same bits */
            const float *pw = ws->shared && !ws->keep_pack && nr_sgemm_packs(0, r1 - r0, I, GH)
                                  ? nr_enc_shared_pack(ws->shared, l, d, PK_IH_BWD, nr_kpath(), 0,
                                                       GH, I, enc->params + s->w_ih, I)
                                  : NULL;
            if (pw)
                nr_kgemm_packed(nr_kpath(), 0, r1 - r0, I, GH, 1.0f, dgi + (size_t)r0 * GH, GH, pw, beta,
                                J->dX + (size_t)r0 * I, I);
            else
                nr_sgemm(0, 0, r1 - r0, I, GH, 1.0f, dgi + (size_t)r0 * GH, GH, enc->params + s->w_ih,
                         I, beta, J->dX + (size_t)r0 * I, I);
        }
    }
    if (J->dX && J->dmask && r1 > r0) {
        int I = enc->slot[l][0].in;
        float *dxr = J->dX + (size_t)r0 * I;
        const float *m = J->dmask + (size_t)r0 * I;
        for (size_t k = 0; k < (size_t)(r1 - r0) * I; k++)
            dxr[k] *= m[k];
    }
}

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

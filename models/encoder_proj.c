/* models/encoder_proj.c: the products of a layer over all its T*B rows at once, forward beside
 * backward: P, the input projection (gates = X W_ih^T + b_ih, one GEMM per direction), and W, its
 * backward with the weight gradients of the recurrence (dW_ih, dW_hh, db, dX); and layer 0's
 * projection from a table of rows per input id (inference). The layer loop that runs them is
 * models/encoder.c; what the encoder's files share, models/encoder_impl.h.
 */
#include <stdlib.h>
#include <string.h>

#include "models/encoder_impl.h"
#include "models/kernels/kernels.h"
#include "models/math.h"

/* ---- P and W: the input projection and its backward ------------------------------------------- */

/* P: gates (T*B, G*H) = X (T*B, I) W_ih^T (I, G*H) + b_ih (G*H), per direction, over rows [r0, r1)
 * of T*B (task i of n); Y (T*B, O) rows zeroed (not when pooling). Layer 0 with a table
 * (nr_encoder_ws_set_table): the gates of each running row (t < len[b]) are copied from the row
 * of its id (not for an LSTM, whose step reads the table's row in place), padded rows are left as
 * they are (the recurrence never reads them). */
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

/* W: weight gradients over all T*B rows (the G*H gate rows split across threads: dW_ih (G*H, I),
 * dW_hh (G*H, H), db_ih, db_hh (G*H) from dGi, dGh (T*B, G*H), X (T*B, I) and Hprev (T*B, H), or
 * r*h for a reset-before GRU's candidate rows) and dX (T*B, I) (+)= the directions' dGi W_ih (rows
 * split), times layer l-1's dropout mask. */
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

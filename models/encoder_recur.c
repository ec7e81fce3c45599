/* models/encoder_recur.c: R, the recurrence of one layer, forward beside backward: nr_enc_fwd_recur
 * and its mirror nr_enc_bwd_recur (BPTT) run both directions for one thread's sequences; each
 * cell's step of a row (the row kernels of models/cells.h, and what the forward keeps for the
 * backward); the per-step products with W_hh (float16, packed float32 or nr_sgemm) and the packing
 * of W_hh for them. The layer loop that runs them is models/encoder.c; what the encoder's files
 * share, models/encoder_impl.h.
 */
#include <string.h>

#include "models/cells.h"
#include "models/encoder_impl.h"
#include "models/gemv_f16.h"
#include "models/kernels/kernels.h"
#include "models/math.h"
#include "models/step_split.h"

/* ---- the per-step products with W_hh, and its packs for them ---------------------------------- */

/* Rows up to which the float16 kernel beats our packed float32 one on the same (f16-exact)
 * weights, when a pack is made (bench_rnn --mode step --weights f16 vs bench_gemm, LSTM hidden
 * 256, one core: AVX-512 f16 99/106/105 GFLOP/s at 2/4/8 rows, the packed AVX-512 float32 kernel
 * 73/129/152; the AVX2 f16 kernel beats the packed AVX2 one up to 8 rows). */
static int f16_rows(const nr_encoder *enc)
{
    return enc->f16_kernel == NR_F16_AVX512 ? 3 : NR_F16_MAX_ROWS;
}

/* One recurrent product of a forward step for the na running rows:
 *   C (na, N) = A (na, H) W^T,   W = rows [row0, row0+N) of W_hh (G*H,H) of (layer l, direction d)
 * from the float16 copy when the encoder has one and this is an inference call with few rows
 * (models/gemv_f16.h), else from the packed W_hh of this recurrence (nr_enc_ws_pack) with our
 * kernel, else from the float32 W_hh through nr_sgemm. */
static void fwd_product(const nr_encoder *enc, const nr_encoder_ws *ws, int l, int d, float *C,
                        int ldc, const float *A, int lda, int row0, int N, int na)
{
    int H = enc->cfg.hidden;
    const uint16_t *w16 = enc->whh_f16[l][d];
    int hn = row0 > 0; /* GRU reset-before: the product with W_hn */
    if (w16 && na > f16_rows(enc) && ws->kp_ok[d][hn] &&
        nr_kgemm_use(ws->kp_path, 0, 1, na, N, H, 1))
        w16 = NULL; /* the packed float32 kernel is faster here (same values, see f16_rows) */
    if (w16 && !ws->training && na <= NR_F16_MAX_ROWS && ws->split)
        nr_step_split_product(ws->split, C, ldc, A, lda, w16 + (size_t)row0 * H, N, H, na,
                              enc->f16_kernel);
    else if (w16 && !ws->training && na <= NR_F16_MAX_ROWS)
        nr_gemm_f16(C, ldc, A, lda, w16 + (size_t)row0 * H, H, N, H, na, enc->f16_kernel);
    else if (ws->kp_ok[d][hn] && nr_kgemm_use(ws->kp_path, 0, 1, na, N, H, 1))
        nr_kgemm_packed(ws->kp_path, 0, na, N, H, 1.0f, A, lda, ws->kpu[d][hn], 0.0f, C, ldc);
    else
        nr_sgemm(0, 1, na, N, H, 1.0f, A, lda, enc->params + enc->slot[l][d].w_hh + (size_t)row0 * H,
                 H, 0.0f, C, ldc);
}

/* One recurrent product of a backward step for the na running rows, fwd_product's mirror:
 *   C (na, H) = A (na, K) W,   W = rows [row0, row0+K) of W_hh (G*H,H) of (layer l, direction d)
 * from the packed W_hh of this recurrence (nr_enc_ws_pack) with our kernel, else through
 * nr_sgemm. */
static void bwd_product(const nr_encoder *enc, const nr_encoder_ws *ws, int l, int d, float *C,
                        const float *A, int lda, int row0, int K, int na)
{
    int H = enc->cfg.hidden;
    int hn = row0 > 0; /* GRU reset-before: the product with W_hn */
    if (ws->kp_ok[d][hn] && nr_kgemm_use(ws->kp_path, 0, 0, na, H, K, 1))
        nr_kgemm_packed(ws->kp_path, 0, na, H, K, 1.0f, A, lda, ws->kpu[d][hn], 0.0f, C, H);
    else
        nr_sgemm(0, 0, na, H, K, 1.0f, A, lda, enc->params + enc->slot[l][d].w_hh + (size_t)row0 * H,
                 H, 0.0f, C, H);
}

/* Pack layer l's W_hh for the per-step products of its forward (bwd = 0) or backward (bwd = 1)
 * recurrence, when our kernel is the faster choice for steps of `rows` rows (the most a thread
 * has), on the calling thread before the threads start. Forward: C (na, K2) = h W_hh[0:K2]^T and
 * (GRU reset-before) (r*h) W_hn^T; backward: dG (na, K2) W_hh[0:K2] and dn W_hn. Skipped for
 * recurrences too short to repay the pack (steps < 4; not with shared packs, which cost a part
 * nothing once another part made them: a part of a few short reviews otherwise packed W_hh in
 * nr_sgemm at every step) and for those that the float16 kernel runs whole (inference,
 * rows <= f16_rows). */
void nr_enc_ws_pack(const nr_encoder *enc, nr_encoder_ws *ws, int l, int bwd, int rows, int steps)
{
    int H = enc->cfg.hidden, GH = enc->gates * H, p = nr_kpath();
    int before = enc->cfg.cell == NR_CELL_GRU && !enc->cfg.gru_reset_after, K2 = before ? 2 * H : GH;
    memset(ws->kp_ok, 0, sizeof ws->kp_ok);
    ws->kp_path = p;
    int f16 = !bwd && !ws->training && rows <= f16_rows(enc) && enc->whh_f16[l][0];
    int shared = ws->shared && !ws->keep_pack;
    if ((steps < 4 && !shared) || f16 ||
        !(bwd ? nr_kgemm_use(p, 0, 0, rows, H, K2, 1) : nr_kgemm_use(p, 0, 1, rows, K2, H, 1)))
        return;
    int key = ((l * 2 + bwd) * NR_KPATH_COUNT + p) + 1;
    if (ws->keep_pack && ws->kp_key == key) { /* made by an earlier call, still valid */
        for (int d = 0; d < enc->dirs; d++)
            ws->kp_ok[d][0] = 1, ws->kp_ok[d][1] = before;
        return;
    }
    ws->kp_key = ws->keep_pack ? key : 0;
    nr_encoder_packs *sh = ws->keep_pack ? NULL : ws->shared;
    for (int d = 0; d < enc->dirs; d++) {
        const float *W = enc->params + enc->slot[l][d].w_hh; // (G*H, H)
        const float *c = sh ? nr_enc_shared_pack(sh, l, d, bwd ? PK_BWD : PK_FWD, p, !bwd,
                                                 bwd ? K2 : H, bwd ? H : K2, W, H)
                            : NULL;
        if (!c)
            nr_kpack(p, ws->kpk[d][0], !bwd, bwd ? K2 : H, bwd ? H : K2, W, H);
        ws->kpu[d][0] = c ? c : ws->kpk[d][0];
        ws->kp_ok[d][0] = 1;
        if (before) {
            c = sh ? nr_enc_shared_pack(sh, l, d, bwd ? PK_BWD_HN : PK_FWD_HN, p, !bwd, H, H,
                                        W + (size_t)2 * H * H, H)
                   : NULL;
            if (!c)
                nr_kpack(p, ws->kpk[d][1], !bwd, H, H, W + (size_t)2 * H * H, H);
            ws->kpu[d][1] = c ? c : ws->kpk[d][1];
            ws->kp_ok[d][1] = 1;
        }
    }
}

/* ---- R: the recurrence, forward beside backward ------------------------------------------------
 * nr_enc_fwd_recur and its mirror nr_enc_bwd_recur run the steps of both directions for one
 * thread's sequences [b0, b1), each in three parts: *_begin (the state entering the first step),
 * the steps, *_end (the state after the last). Step s of direction d is at time t = s (d = 0) or
 * len[b]-1-s (d = 1) of sequence b (step_time); a sequence with len[b] <= s skips it (its state
 * carries through), and a step's products cover only the running rows [a0, a1) (active_rows).
 * Training runs the row kernels of models/cells.h and keeps, per (layer, direction), what the
 * backward reads: the activated gates (in place of the x-projection), hprev, cprev (LSTM) and
 * hnl (GRU). Inference keeps nothing and has three things of its own: the kernel path's LSTM
 * and GRU steps (fwd_row_infer), layer 0's LSTM gates read from a table of rows per id
 * (fwd_table_*) and max pooling over time fused into the steps (pool_max_row, fwd_outputs). */

/* The rows [*lo, *hi) of [b0, b1) that span every sequence still running at step s (len > s):
 * the per-step GEMMs skip finished sequences at the ends (all of them if the batch is sorted by
 * falling length, as packed sequences are). Returns hi - lo. */
static int active_rows(const int *len, int b0, int b1, int s, int *lo, int *hi)
{
    int a = b0, b = b1;
    while (a < b && len[a] <= s)
        a++;
    while (b > a && len[b - 1] <= s)
        b--;
    *lo = a;
    *hi = b;
    return b - a;
}

/* 1 if direction d's state is zeroed before its step at time t of sequence b (length len): a
 * segment starts at t with reset[t][b] set. Forward: the state entering t (a segment's first
 * step); reverse: the state entering t when a segment starts at t + 1 (t is the last step of its
 * segment, the reverse direction's first). The zeroed state is a constant: nothing before the
 * reset reaches anything after it, in values or gradients (encoder.h, "Resets"). */
static int reset_before(const nr_encoder_ws *ws, int d, int t, int b, int len)
{
    if (!ws->reset)
        return 0;
    int tr = d == 0 ? t : t + 1; /* where the segment the step belongs to starts / ends */
    return tr < len && ws->reset[(size_t)tr * ws->B + b] != 0;
}

/* Thread i of n's sequences [*b0, *b1) (the batch split in contiguous blocks); returns the steps
 * it runs: the longest of their lengths (0: no sequence) */
static int thread_seqs(const layer_job *J, int i, int n, int *b0, int *b1)
{
    int m = 0;
    nr_split_range(J->B, i, n, b0, b1);
    for (int b = *b0; b < *b1; b++)
        m = J->ws->len[b] > m ? J->ws->len[b] : m;
    return m;
}

/* The time of step s of direction d in a sequence of length len */
static inline int step_time(int d, int s, int len)
{
    return d == 0 ? s : len - 1 - s;
}

/* Offset of the (B,H) slice of (layer J->l, direction d) in the states (L*dirs,B,H): h0, c0, hn,
 * cn, dhn, dcn, dh0, dc0 */
static size_t state_slice(const layer_job *J, int d)
{
    return (size_t)(J->l * J->enc->dirs + d) * J->B * J->enc->cfg.hidden;
}

/* The first of direction d's H columns in an output row (O): d*H with bidirectional concat, else
 * 0 (unidirectional, or both directions summed into the same H columns) */
static int out_col(const nr_encoder *enc, int d)
{
    return enc->dirs == 2 && enc->cfg.merge == NR_MERGE_CONCAT ? d * enc->cfg.hidden : 0;
}

/* dst (n) := src[off .. off+n), or 0 when src is NULL (no state given) */
static void load_or_zero(float *dst, const float *src, size_t off, int n)
{
    if (src)
        memcpy(dst, src + off, sizeof(float) * n);
    else
        memset(dst, 0, sizeof(float) * n);
}

/* Fetch the cache lines of [p, p + bytes) (a table row read a little later). */
static inline void prefetch_bytes(const void *p, size_t bytes)
{
    for (size_t k = 0; k < bytes; k += 64)
        __builtin_prefetch((const char *)p + k);
}

/* y (n) += x (n), y and x apart, 4 floats at a time (-O2 leaves the plain loop scalar) */
static inline void add_row(float *restrict y, const float *restrict x, int n)
{
    typedef float v4f __attribute__((vector_size(16)));
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        v4f a, b;
        memcpy(&a, y + j, sizeof a);
        memcpy(&b, x + j, sizeof b);
        a += b;
        memcpy(y + j, &a, sizeof a);
    }
    for (; j < n; j++)
        y[j] += x[j];
}

/* Max pooling over time of one direction's outputs y_t = 0 + h_t (the value Y would hold: +0 for
 * a -0), q (n) the pooled row, as pool_forward computes it from Y over t ascending:
 *   q = y_0, then q = y_t > q ? y_t : q for t = 1, 2, ...
 * which is y_0 when y_0 is NaN, else the largest non-NaN y_t (equal values are equal bits). The
 * forward direction visits t ascending: the same rule (first: the first step). The backward one
 * visits t descending and gets the same result by replacing a NaN q by y (q = y_t > q || q is NaN
 * ? y_t : q) and, at t = 0 (last), taking y_0 when it is NaN. */
static inline void pool_max_row(float *restrict q, const float *restrict h, int n, int first, int last_t0)
{
    typedef float v4f __attribute__((vector_size(16)));
    typedef int v4i __attribute__((vector_size(16)));
    const v4f zero = {0.0f, 0.0f, 0.0f, 0.0f};
    int j = 0;
    for (; j + 4 <= n; j += 4) { /* 4 at a time, as the scalar loop below */
        v4f y, a;
        memcpy(&y, h + j, sizeof y);
        y = zero + y;
        memcpy(&a, q + j, sizeof a);
        v4i take = first ? (v4i){-1, -1, -1, -1} : (y > a) | (a != a);
        if (last_t0)
            take |= y != y;
        v4i r = ((v4i)y & take) | ((v4i)a & ~take);
        memcpy(q + j, &r, sizeof r);
    }
    for (; j < n; j++) {
        float y = 0.0f + h[j];
        if (first || y > q[j] || q[j] != q[j] || (last_t0 && y != y))
            q[j] = y;
    }
}

/* One direction's forward recurrence on one thread (fwd_dir_of): what its steps read and write */
typedef struct {
    int d, B, H, GH, cell, after, training;
    const float *bhh; /* (G*H) b_hh */
    float *gates;     /* (T,B,G*H) x-projection in, activated gates out (inference: not kept) */
    float *h, *c;     /* (B,H) running state; c: LSTM */
    float *gh;        /* (B,G*H) h W_hh^T of the step (GRU reset-before: r,z; then n from r*h) */
    float *rh;        /* (B,H) GRU reset-before: r*h of the step */
    /* training: kept for nr_enc_bwd_recur (NULL at inference) */
    float *hprev, *cprev, *hnl; /* (T,B,H) the state each step started from; LSTM c; GRU hnl */
    /* inference only (NULL in training) */
    nr_lstm_infer_fn lstm;      /* the kernel path's LSTM step (kernels.h: the bits of cells.h's) */
    nr_gru_after_fn gru_after;  /* the kernel path's GRU reset-after step (the same bits) */
    float *hnls;                /* (B,H) GRU reset-after: W_hn h + b_hn of the step, not kept */
    const float *tab;           /* layer 0, LSTM: (V, dirs*G*H) table at this direction's G*H */
    const int *ids;             /* (T,B) the ids whose table rows are the gates */
    size_t tab_ld;              /* dirs*G*H */
    float *pool;                /* (B,O) max pooling of the outputs, instead of Y (last layer) */
} fwd_dir;

static fwd_dir fwd_dir_of(const layer_job *J, int d)
{
    const nr_encoder *enc = J->enc;
    nr_encoder_ws *ws = J->ws;
    int l = J->l, H = enc->cfg.hidden, GH = enc->gates * H;
    fwd_dir D = {.d = d, .B = J->B, .H = H, .GH = GH, .cell = enc->cfg.cell,
                 .after = enc->cfg.gru_reset_after, .training = ws->training,
                 .bhh = enc->params + enc->slot[l][d].b_hh, .gates = gates_of(ws, l, d),
                 .h = ws->hcur[d], .c = ws->ccur[d], .gh = ws->gh[d], .rh = ws->rh[d]};
    if (ws->training) {
        D.hprev = ws->hprev[l][d];
        D.cprev = ws->cprev[l][d];
        D.hnl = ws->hnl[l][d];
        return D;
    }
    D.lstm = nr_klstm_infer(nr_kpath());
    D.gru_after = nr_kgru_after(nr_kpath());
    D.hnls = ws->hnls[d];
    if (l == 0 && ws->ptab && D.cell == NR_CELL_LSTM) {
        D.tab_ld = (size_t)enc->dirs * GH;
        D.tab = ws->ptab + (size_t)d * GH;
        D.ids = ws->ptab_ids;
    }
    D.pool = pools(J) ? ws->pool_max : NULL;
    return D;
}

/* Forward, before direction d's first step, for sequences [b0, b1):
 *   h[b] (H) := h0[l,d,b] or 0;  c[b] (H) := c0[l,d,b] or 0 (LSTM)
 * training: hprev, cprev, hnl (T,B,H) := 0 at the padded times t >= len[b] (no step writes those
 * rows; the weight gradients' GEMMs, nr_enc_bwd_weights, read every row) */
static void fwd_begin(const layer_job *J, const fwd_dir *D, int b0, int b1)
{
    const int *len = J->ws->len;
    int B = D->B, H = D->H;
    size_t st = state_slice(J, D->d);
    for (int b = b0; b < b1; b++) {
        load_or_zero(D->h + (size_t)b * H, J->h0, st + (size_t)b * H, H);
        if (D->cell == NR_CELL_LSTM)
            load_or_zero(D->c + (size_t)b * H, J->c0, st + (size_t)b * H, H);
        for (int t = len[b]; D->training && t < J->T; t++) {
            size_t row = (size_t)t * B + b;
            memset(D->hprev + row * H, 0, sizeof(float) * H);
            if (D->cprev)
                memset(D->cprev + row * H, 0, sizeof(float) * H);
            if (D->hnl)
                memset(D->hnl + row * H, 0, sizeof(float) * H);
        }
    }
}

/* Forward, after direction d's last step: hn[l,d,b] := h[b], cn[l,d,b] := c[b] (LSTM), when asked */
static void fwd_end(const layer_job *J, const fwd_dir *D, int b0, int b1)
{
    int H = D->H;
    size_t st = state_slice(J, D->d);
    for (int b = b0; b < b1; b++) {
        if (J->hn)
            memcpy(J->hn + st + (size_t)b * H, D->h + (size_t)b * H, sizeof(float) * H);
        if (J->cn && D->cell == NR_CELL_LSTM)
            memcpy(J->cn + st + (size_t)b * H, D->c + (size_t)b * H, sizeof(float) * H);
    }
}

/* Resets before step s (encoder.h, "Resets"): h[b] (and c[b]) := 0 for each running row whose
 * segment starts at this step, before the product: gh = 0 W_hh^T, the step runs from a zero state
 * (and training keeps hprev = 0) */
static void fwd_resets(const nr_encoder_ws *ws, const fwd_dir *D, int s, int b0, int b1)
{
    int H = D->H;
    for (int b = b0; b < b1; b++) {
        int len = ws->len[b];
        if (s >= len || !reset_before(ws, D->d, step_time(D->d, s, len), b, len))
            continue;
        memset(D->h + (size_t)b * H, 0, sizeof(float) * H);
        if (D->cell == NR_CELL_LSTM)
            memset(D->c + (size_t)b * H, 0, sizeof(float) * H);
    }
}

/* Forward, training: the step of row (t,b) = `row` of sequence b, after gh[b] = h[b] W_hh^T.
 * Keeps what nr_enc_bwd_recur reads, then runs the cell's row kernel (models/cells.h; equations
 * and gate order: models/encoder.h), g = gates[row] (G*H): x-projection in, activated gates out:
 *   hprev[row] := h;  LSTM: cprev[row] := c
 *   RNN          h := tanh(g + gh + b_hh)
 *   LSTM         i,f,g,o := σ,σ,tanh,σ(g + gh + b_hh);  c := f*c + i*g;  h := o*tanh(c)
 *   GRU after    r,z,n with hnl[row] := W_hn h + b_hn (n = tanh(g_n + r*hnl));  h := (1-z)*n + z*h
 *   GRU before   r,z (n and h after the second product, nr_enc_fwd_recur);  rh[b] := r*h;
 *                hnl[row] := r*h */
static inline void fwd_row_train(const fwd_dir *D, int b, size_t row)
{
    int H = D->H;
    float *g = D->gates + row * D->GH, *h = D->h + (size_t)b * H, *c = D->c + (size_t)b * H;
    const float *gh = D->gh + (size_t)b * D->GH;
    memcpy(D->hprev + row * H, h, sizeof(float) * H);
    if (D->cell == NR_CELL_LSTM)
        memcpy(D->cprev + row * H, c, sizeof(float) * H);
    switch (D->cell) {
    case NR_CELL_RNN:
        nr_rnn_row_forward(g, h, gh, D->bhh, H);
        break;
    case NR_CELL_LSTM:
        nr_lstm_row_forward(g, c, h, gh, D->bhh, H);
        break;
    default:
        if (D->after) {
            nr_gru_row_forward_after(g, D->hnl + row * H, h, gh, D->bhh, H);
        } else {
            nr_gru_row_forward_before_rz(g, D->rh + (size_t)b * H, h, gh, D->bhh, H);
            memcpy(D->hnl + row * H, D->rh + (size_t)b * H, sizeof(float) * H);
        }
        break;
    }
}

/* Layer 0's LSTM gates from the table (inference): the row (G*H) of the id at time t of sequence b */
static inline const float *fwd_table_row(const fwd_dir *D, int t, int b)
{
    return D->tab + (size_t)D->ids[(size_t)t * D->B + b] * D->tab_ld;
}

/* The table rows of the first step of the running rows [a0, a1), fetched while the step's product
 * runs (those of later steps: one row at a time, after the row's step, fwd_row_infer) */
static void fwd_table_prefetch_first(const fwd_dir *D, const int *len, int a0, int a1)
{
    for (int b = a0; b < a1; b++)
        prefetch_bytes(fwd_table_row(D, step_time(D->d, 0, len[b]), b), sizeof(float) * (size_t)D->GH);
}

/* Forward, inference: the step of row (t,b) = `row` of sequence b (len), step s, after gh[b] =
 * h[b] W_hh^T. The same equations as fwd_row_train, nothing kept (the same bits: kernels.h):
 *   RNN          h := tanh(g + gh + b_hh)                          (g not kept)
 *   LSTM         c, h from g, or with a table from the row of this step's id (read in place,
 *                then the row of the next step's id prefetched, ahead of the next product)
 *   GRU after    the path's step; W_hn h + b_hn into the scratch hnls[b]
 *   GRU before   r,z;  rh[b] := r*h (n and h after the second product, nr_enc_fwd_recur) */
static inline void fwd_row_infer(const fwd_dir *D, int b, int s, int len, size_t row)
{
    int H = D->H;
    float *g = D->gates + row * D->GH, *h = D->h + (size_t)b * H, *c = D->c + (size_t)b * H;
    const float *gh = D->gh + (size_t)b * D->GH;
    switch (D->cell) {
    case NR_CELL_RNN:
        nr_rnn_row_forward(g, h, gh, D->bhh, H);
        break;
    case NR_CELL_LSTM:
        if (!D->tab) {
            D->lstm(g, c, h, gh, D->bhh, H);
            break;
        }
        D->lstm(fwd_table_row(D, step_time(D->d, s, len), b), c, h, gh, D->bhh, H);
        if (s + 1 < len)
            prefetch_bytes(fwd_table_row(D, step_time(D->d, s + 1, len), b), sizeof(float) * (size_t)D->GH);
        break;
    default:
        if (D->after)
            D->gru_after(g, D->hnls + (size_t)b * H, h, gh, D->bhh, H);
        else
            nr_gru_row_forward_before_rz(g, D->rh + (size_t)b * H, h, gh, D->bhh, H);
        break;
    }
}

/* The outputs of step s (the state h[b] once the step is done), for the running rows of [b0, b1):
 *   Y[t,b] (H columns of direction d, from out_col) += h[b]     (Y zeroed by nr_enc_fwd_project)
 * or at inference, pooling, q[b] (the same columns of pool (B,O)) := max(q[b], h[b]) (pool_max_row) */
static void fwd_outputs(const layer_job *J, const fwd_dir *D, int s, int b0, int b1)
{
    const int *len = J->ws->len;
    int H = D->H, O = J->enc->out_size, yoff = out_col(J->enc, D->d);
    for (int b = b0; b < b1; b++) {
        if (s >= len[b])
            continue;
        int t = step_time(D->d, s, len[b]);
        if (D->pool)
            pool_max_row(D->pool + (size_t)b * O + yoff, D->h + (size_t)b * H, H, s == 0, D->d == 1 && t == 0);
        else
            add_row(J->Y + ((size_t)t * D->B + b) * O + yoff, D->h + (size_t)b * H, H);
    }
}

/* R, forward: the recurrence of both directions for sequences [b0, b1) (thread i of n); its
 * mirror, nr_enc_bwd_recur, follows. Per direction: fwd_begin; then per step s, for the running
 * rows [a0, a1) (na rows):
 *   h, c := 0 where a segment starts                                 (fwd_resets)
 *   gh (na, K) = h (na, H) W_hh[0:K]^T       K = G*H (GRU reset-before: 2H, the r and z blocks)
 *   per row: the cell's step -> gates, h, c                          (fwd_row_train / _infer)
 *   GRU reset-before: gh_n (na, H) = (r*h) (na, H) W_hn^T;  per row n and h (cells.h)
 *   per row: Y[t] += h, or the max pooling                           (fwd_outputs)
 * then fwd_end. */
void nr_enc_fwd_recur(void *ctx, int i, int n)
{
    layer_job *J = ctx;
    const nr_encoder *enc = J->enc;
    nr_encoder_ws *ws = J->ws;
    int B = J->B, H = enc->cfg.hidden, GH = enc->gates * H, l = J->l, b0, b1;
    int gru_before = enc->cfg.cell == NR_CELL_GRU && !enc->cfg.gru_reset_after;
    int K = gru_before ? 2 * H : GH;
    int maxlen = thread_seqs(J, i, n, &b0, &b1);
    if (maxlen == 0)
        return;
    for (int d = 0; d < enc->dirs; d++) {
        fwd_dir D = fwd_dir_of(J, d);
        fwd_begin(J, &D, b0, b1);
        for (int s = 0; s < maxlen; s++) {
            int a0, a1, na = active_rows(ws->len, b0, b1, s, &a0, &a1);
            if (D.tab && s == 0)
                fwd_table_prefetch_first(&D, ws->len, a0, a1);
            if (ws->reset)
                fwd_resets(ws, &D, s, b0, b1);
            /* gh (na, K) = h (na, H) W_hh[0:K]^T */
            fwd_product(enc, ws, l, d, D.gh + (size_t)a0 * GH, GH, D.h + (size_t)a0 * H, H, 0, K, na);
            for (int b = b0; b < b1; b++) {
                int len = ws->len[b];
                if (s >= len)
                    continue;
                size_t row = (size_t)step_time(d, s, len) * B + b;
                if (D.training)
                    fwd_row_train(&D, b, row);
                else
                    fwd_row_infer(&D, b, s, len, row);
            }
            if (gru_before) { /* the second product: gh_n (na, H) = (r*h) W_hn^T, then n and h */
                fwd_product(enc, ws, l, d, D.gh + (size_t)a0 * GH + 2 * H, GH, D.rh + (size_t)a0 * H,
                            H, 2 * H, H, na);
                for (int b = b0; b < b1; b++) {
                    int len = ws->len[b];
                    if (s >= len)
                        continue;
                    size_t row = (size_t)step_time(d, s, len) * B + b;
                    nr_gru_row_forward_before_n(D.gates + row * GH, D.h + (size_t)b * H,
                                                D.gh + (size_t)b * GH + 2 * H, D.bhh + 2 * H, H);
                }
            }
            fwd_outputs(J, &D, s, b0, b1);
        }
        fwd_end(J, &D, b0, b1);
    }
}

/* Backward, before direction d's first step (the forward's last), for sequences [b0, b1):
 *   dh[b] (H) := dhn[l,d,b] or 0;  dc[b] (H) := dcn[l,d,b] (LSTM) or 0
 *   dGi, dGh (T,B,G*H) := 0 at the padded times t >= len[b] (no step writes those rows; the
 *   weight gradients' GEMMs, nr_enc_bwd_weights, read every row) */
static void bwd_begin(const layer_job *J, int d, int b0, int b1)
{
    const nr_encoder *enc = J->enc;
    nr_encoder_ws *ws = J->ws;
    int B = J->B, H = enc->cfg.hidden, GH = enc->gates * H;
    float *dgi = ws->dgi[d], *dgh = ws->dgh[d];
    const float *dcn = enc->cfg.cell == NR_CELL_LSTM ? J->dcn : NULL;
    size_t st = state_slice(J, d);
    for (int b = b0; b < b1; b++) {
        load_or_zero(ws->dh[d] + (size_t)b * H, J->dhn, st + (size_t)b * H, H);
        load_or_zero(ws->dc[d] + (size_t)b * H, dcn, st + (size_t)b * H, H);
        for (int t = ws->len[b]; t < J->T; t++) {
            size_t row = (size_t)t * B + b;
            memset(dgi + row * GH, 0, sizeof(float) * GH);
            if (dgh != dgi)
                memset(dgh + row * GH, 0, sizeof(float) * GH);
        }
    }
}

/* Backward, after direction d's last step (the forward's first): dh0[l,d,b] += dh[b],
 * dc0[l,d,b] += dc[b] (LSTM), when asked */
static void bwd_end(const layer_job *J, int d, int b0, int b1)
{
    const nr_encoder_ws *ws = J->ws;
    int H = J->enc->cfg.hidden, lstm = J->enc->cfg.cell == NR_CELL_LSTM;
    size_t st = state_slice(J, d);
    for (int b = b0; b < b1; b++) {
        if (J->dh0)
            nr_axpy(J->dh0 + st + (size_t)b * H, 1.0f, ws->dh[d] + (size_t)b * H, H);
        if (J->dc0 && lstm)
            nr_axpy(J->dc0 + st + (size_t)b * H, 1.0f, ws->dc[d] + (size_t)b * H, H);
    }
}

/* Backward, training: the step of row (t,b) = `row` of sequence b, fwd_row_train's mirror, with
 * dh[b] (H) = dL/dh' (later steps and dY[t]) and the kept gates[row] (activated), cprev[row],
 * hnl[row], hprev[row] (models/cells.h):
 *   RNN          dgs[b] (H) := dh * (1 - h'^2)
 *   LSTM         dgs[b] (4H) := d(i,f,g,o pre-activations);  dc[b] := dL/dc (in: dL/dc')
 *   GRU after    dgi[row] (3H) := d(W_ih x + b_ih), dgs[b] (3H) := d(W_hh h + b_hh);
 *                dhd[b] (H) := dh * z, the direct path to dL/dh
 *   GRU before   dgs[b] z and n blocks, dhd[b] := dh * z (the r block after the W_hn product,
 *                nr_enc_bwd_recur) */
static inline void bwd_row(const layer_job *J, int d, int b, size_t row)
{
    const nr_encoder *enc = J->enc;
    nr_encoder_ws *ws = J->ws;
    int l = J->l, H = enc->cfg.hidden, GH = enc->gates * H;
    float *dgs = ws->dgs[d] + (size_t)b * GH, *dh = ws->dh[d] + (size_t)b * H;
    const float *g = ws->gates[l][d] + row * GH;
    switch (enc->cfg.cell) {
    case NR_CELL_RNN:
        nr_rnn_row_backward(dgs, dh, g, H);
        break;
    case NR_CELL_LSTM:
        nr_lstm_row_backward(dgs, ws->dc[d] + (size_t)b * H, dh, g, ws->cprev[l][d] + row * H, H);
        break;
    default:
        if (enc->cfg.gru_reset_after)
            nr_gru_row_backward_after(ws->dgi[d] + row * GH, dgs, ws->dhd[d] + (size_t)b * H, dh, g,
                                      ws->hnl[l][d] + row * H, ws->hprev[l][d] + row * H, H);
        else
            nr_gru_row_backward_before_zn(dgs, ws->dhd[d] + (size_t)b * H, dh, g,
                                          ws->hprev[l][d] + row * H, H);
        break;
    }
}

/* R, backward: BPTT of both directions for sequences [b0, b1) (thread i of n), nr_enc_fwd_recur's
 * mirror. Per direction: bwd_begin; then per step s, descending, for the running rows [a0, a1)
 * (na rows):
 *   per row: dh += dY[t] (the direction's columns);  the cell's backward row kernel -> dG_h row
 *            (dgs), and dG_i (GRU reset-after), from the kept gates, cprev, hnl, hprev
 *   GRU reset-before: drh (na, H) = dn_pre (na, H) W_hn;  per row dr_pre and the r*h path
 *   tmp (na, H) = dG_h (na, K) W_hh[0:K]       K = G*H (GRU reset-before: 2H)
 *   per row: dh := tmp (+ the direct path dhd, GRU), 0 where the step's segment started
 *            (a reset);  dGh[row] := dgs[b]
 * then bwd_end. */
void nr_enc_bwd_recur(void *ctx, int i, int n)
{
    layer_job *J = ctx;
    const nr_encoder *enc = J->enc;
    nr_encoder_ws *ws = J->ws;
    int B = J->B, H = enc->cfg.hidden, GH = enc->gates * H, O = enc->out_size, l = J->l, b0, b1;
    int cell = enc->cfg.cell, gru_before = cell == NR_CELL_GRU && !enc->cfg.gru_reset_after;
    int K = gru_before ? 2 * H : GH;
    int maxlen = thread_seqs(J, i, n, &b0, &b1);
    if (maxlen == 0)
        return;
    for (int d = 0; d < enc->dirs; d++) {
        float *gates = ws->gates[l][d], *hprev = ws->hprev[l][d];
        float *dh = ws->dh[d], *dc = ws->dc[d], *dgs = ws->dgs[d], *tmp = ws->tmp[d];
        float *dhd = ws->dhd[d], *dgh = ws->dgh[d];
        int yoff = out_col(enc, d);
        bwd_begin(J, d, b0, b1);
        for (int s = maxlen - 1; s >= 0; s--) {
            for (int b = b0; b < b1; b++) {
                int len = ws->len[b];
                float *dgsb = dgs + (size_t)b * GH;
                if (s >= len) {
                    memset(dgsb, 0, sizeof(float) * GH);
                    continue;
                }
                int t = step_time(d, s, len);
                size_t row = (size_t)t * B + b;
                float *dhb = dh + (size_t)b * H;
                if (J->dY) {
                    const float *dy = J->dY + row * O + yoff;
                    for (int j = 0; j < H; j++)
                        dhb[j] += dy[j];
                }
                bwd_row(J, d, b, row);
            }
            int a0, a1, na = active_rows(ws->len, b0, b1, s, &a0, &a1);
            if (gru_before) {
                /* drh (na,H) = dn_pre (na,H) W_hn (H,H), then dr_pre and the r*h path */
                bwd_product(enc, ws, l, d, ws->drh[d] + (size_t)a0 * H, dgs + (size_t)a0 * GH + 2 * H, GH,
                            2 * H, H, na);
                for (int b = b0; b < b1; b++) {
                    int len = ws->len[b];
                    if (s >= len)
                        continue;
                    int t = step_time(d, s, len);
                    size_t row = (size_t)t * B + b;
                    nr_gru_row_backward_before_r(dgs + (size_t)b * GH, dhd + (size_t)b * H,
                                                 ws->drh[d] + (size_t)b * H, gates + row * GH,
                                                 hprev + row * H, H);
                }
            }
            /* tmp (na, H) = dG_h (na, K) W_hh[0:K] (K, H) */
            bwd_product(enc, ws, l, d, tmp + (size_t)a0 * H, dgs + (size_t)a0 * GH, GH, 0, K, na);
            for (int b = b0; b < b1; b++) {
                int len = ws->len[b];
                if (s >= len)
                    continue; /* state passed through: dh unchanged */
                int t = step_time(d, s, len);
                size_t row = (size_t)t * B + b;
                float *dhb = dh + (size_t)b * H;
                const float *tb = tmp + (size_t)b * H;
                if (cell == NR_CELL_GRU) {
                    const float *dd = dhd + (size_t)b * H;
                    for (int j = 0; j < H; j++)
                        dhb[j] = tb[j] + dd[j];
                } else {
                    memcpy(dhb, tb, sizeof(float) * H);
                }
                /* a reset before this step: the state it started from was the constant 0, so
                 * dL/dh_prev = dL/dc_prev = 0 (nothing flows to the steps before) */
                if (reset_before(ws, d, t, b, len)) {
                    memset(dhb, 0, sizeof(float) * H);
                    if (cell == NR_CELL_LSTM)
                        memset(dc + (size_t)b * H, 0, sizeof(float) * H);
                }
                memcpy(dgh + row * GH, dgs + (size_t)b * GH, sizeof(float) * GH);
            }
        }
        bwd_end(J, d, b0, b1);
    }
}

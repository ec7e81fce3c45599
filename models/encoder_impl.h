/* models/encoder_impl.h: the encoder's private side, shared by its source files (internal, not
 * installed; the rest of the library uses models/encoder.h).
 *
 * The encoder's files, along the pipeline of one call (the work per layer: models/encoder.c's top):
 *   encoder.c        configuration, parameter layout, init, float16 W_hh; nr_encoder_forward and
 *                    nr_encoder_backward: the layer loop (forward P then R, backward R then W)
 *   encoder_ws.c     the workspace (its buffers, its settings) and the packed weights that
 *                    workspaces share (nr_encoder_packs)
 *   encoder_proj.c   P, the input projection, beside W, its backward (weight gradients, dX);
 *                    layer 0's projection from a table of rows per input id
 *   encoder_recur.c  R: the recurrence, forward beside backward (nr_enc_fwd_recur and its mirror
 *                    nr_enc_bwd_recur), each cell's step of a row, the per-step products with W_hh
 * A function one file defines and another calls is named nr_enc_* and declared here; the shared
 * library exports none of them (hidden visibility; scripts/check-abi.sh checks the list).
 */
#ifndef NR_MODELS_ENCODER_IMPL_H
#define NR_MODELS_ENCODER_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "models/encoder.h"

/* ---- the workspace (nr_encoder_ws_create) ----------------------------------------------------- */

struct nr_encoder_ws {
    int max_T, max_B, training, nthreads;
    nr_encoder_cfg cfg; /* the configuration the buffers were sized for */
    int T, B, have_forward, maxlen;
    int *len;          /* (max_B) lengths of the last forward */
    const float *x;    /* input of the last forward (training) */
    /* training: per (layer, dir); inference: only [0][d], reused by every layer */
    float *gates[NR_ENCODER_MAX_LAYERS][2]; /* (T,B,G*H) x-projection, then activated gates */
    float *hprev[NR_ENCODER_MAX_LAYERS][2]; /* (T,B,H) state each step started from (training) */
    float *cprev[NR_ENCODER_MAX_LAYERS][2]; /* (T,B,H) LSTM cell state the step started from */
    float *hnl[NR_ENCODER_MAX_LAYERS][2];   /* (T,B,H) GRU: W_hn h + b_hn (after) or r*h (before) */
    float *ybuf[NR_ENCODER_MAX_LAYERS];     /* (T,B,O) output of layer l < L-1 = input of l+1 */
    float *mask[NR_ENCODER_MAX_LAYERS];     /* (T,B,O) dropout mask on ybuf[l] (training) */
    int dropped[NR_ENCODER_MAX_LAYERS];     /* mask[l] applied in the last forward */
    float *hcur[2], *ccur[2];               /* (B,H) running state */
    float *gh[2];                           /* (B,G*H) recurrent GEMM result of one step */
    float *rh[2];                           /* (B,H) GRU reset-before: r*h of one step (inference) */
    float *hnls[2];                         /* (B,H) GRU reset-after scratch (inference) */
    /* backward */
    float *dgi[2], *dgh[2]; /* (T,B,G*H) d pre-activations, x side and h side (same unless GRU-after) */
    float *dy;              /* (T,B,O) dL/d(output of layer l-1) */
    float *dh[2], *dc[2];   /* (B,H) running dL/dh, dL/dc */
    float *dgs[2];          /* (B,G*H) step rows of dG (h side), GEMM input */
    float *tmp[2];          /* (B,H) dG W_hh of one step */
    float *dhd[2];          /* (B,H) direct path dL/dh_prev (GRU) */
    float *drh[2];          /* (B,H) GRU reset-before: dL/d(r*h) */
    /* W_hh packed for our GEMM kernels (models/kernels/kernels.h) for the per-step products of
     * one layer's recurrence, made before it (ws_pack): [d][0] the main product, [d][1] the GRU
     * reset-before product with W_hn; kp_ok[d][i]: valid for path kp_path in this recurrence */
    float *kpk[2][2];
    int kp_ok[2][2], kp_path;
    /* what the products of the recurrence read: kpk, or the copies of `shared` */
    const float *kpu[2][2];
    /* nr_encoder_ws_share_packs: packed weights shared with other workspaces (NULL: none) */
    struct nr_encoder_packs *shared;
    /* nr_encoder_ws_keep_pack: the weights never change while the workspace lives, so kpk, once
     * made for (layer, direction of the recurrence, path) kp_key (0: none), is reused by later
     * calls, and so are the packs of W_ih in `kept` (every layer and direction), made from the
     * second forward on (kp_ran: a forward ran since keep_pack was switched on): a single forward
     * (one sentence, then exit) packs block by block as without keep_pack, not paying for the
     * pages of copies it would never reuse. NULL (not yet, or without the memory): nr_sgemm
     * packs as without. */
    int keep_pack, kp_key, kp_ran;
    struct nr_encoder_packs *kept;
    float *block;                   /* the buffers above, 64-byte aligned in block_raw */
    void *block_raw;                /* calloc'ed: freed */
    struct nr_step_split *helper;   /* batch-1 split state of a 2-thread inference workspace */
    int helper_failed;              /* it could not be made: do not retry on every call */
    int split_wait;                 /* tests: nr_encoder_ws_split_wait */
    struct nr_step_split *split;    /* set during a call that splits its products with it */
    /* layer 0's projection gathered from a table of rows per input id (nr_encoder_ws_set_table;
     * NULL = computed): ptab (V, dirs*G*H), ptab_ids (T,B) the ids of the next forward */
    const float *ptab;
    const int *ptab_ids;
    /* nr_encoder_ws_set_pool_max: (B,O) where the next forwards put the maximum over each
     * sequence's steps of the last layer's outputs instead of writing them (NULL: not asked) */
    float *pool_max;
    /* nr_encoder_ws_set_reset: (T,B) where the next forwards (and the backward of each) zero the
     * state: a new segment of sequence b starts at time t where reset[t*B+b] != 0 (NULL: none) */
    const uint8_t *reset;
};

/* ---- packed weights shared by workspaces (nr_encoder_packs) ------------------------------------ */

/* what a shared copy is of: W_ih for the projection (transposed) and for the backward's dX (as
 * it is), W_hh (and the GRU's W_hn) for the forward and the backward recurrence */
enum { PK_IH, PK_IH_BWD, PK_FWD, PK_FWD_HN, PK_BWD, PK_BWD_HN, PK_KINDS };

/* op(W) packed for path p (nr_kpack(p, ., trans, K, N, W, ldw)) in slot (l, d, kind) of pk: made
 * by the first caller since the last nr_encoder_packs_stale, under pk's lock (the others wait for
 * it), read by all until the next stale. NULL without the memory (the caller packs its own). */
const float *nr_enc_shared_pack(nr_encoder_packs *pk, int l, int d, int kind, int p, int trans,
                                int K, int N, const float *W, int ldw);

/* ---- one layer of a call: what its tasks read and write --------------------------------------- */

/* One layer of a forward or backward call, as the tasks of nr_parallel_run see it (task i of n
 * takes its part of the rows, gate rows or sequences) */
typedef struct {
    const nr_encoder *enc;
    nr_encoder_ws *ws;
    int l, T, B;
    const float *X; /* (T,B,I) layer input */
    float *Y;       /* (T,B,O) layer output */
    const float *h0, *c0;
    float *hn, *cn;
    /* backward */
    const float *dY;
    const float *dhn, *dcn;
    float *dh0, *dc0;
    float *grad;
    float *dX;      /* (T,B,I) where dX goes, or NULL */
    int dx_accumulate;
    const float *dmask; /* mask to apply to dX (rows of layer l-1's dropout), or NULL */
} layer_job;

/* The gates buffer of (layer l, direction d): per layer when training, layer 0's (reused by every
 * layer) at inference */
static inline float *gates_of(nr_encoder_ws *ws, int l, int d)
{
    return ws->training ? ws->gates[l][d] : ws->gates[0][d];
}

/* 1 if J's layer gives its outputs to the workspace's max pooling instead of Y (the last layer of a
 * forward after nr_encoder_ws_set_pool_max) */
static inline int pools(const layer_job *J)
{
    return J->ws->pool_max && J->l == J->enc->cfg.layers - 1;
}

/* Threads worth starting for a (T,B) call: at most one per sequence, none for tiny calls (a thread
 * start costs tens of microseconds). Depends only on the shapes and nthreads. */
int nr_enc_effective_threads(const nr_encoder_ws *ws, int T, int B);

/* ---- the three phases of a layer, each a task of nr_parallel_run (ctx: the layer_job) --------- */

/* P: gates = X W_ih^T + b_ih over the task's rows of T*B (or layer 0's rows from a table) */
void nr_enc_fwd_project(void *ctx, int i, int n);

/* R: the recurrence of both directions for the task's sequences, forward and backward (BPTT) */
void nr_enc_fwd_recur(void *ctx, int i, int n);
void nr_enc_bwd_recur(void *ctx, int i, int n);

/* W: weight gradients over all T*B rows (the task's gate rows) and dX (the task's rows) */
void nr_enc_bwd_weights(void *ctx, int i, int n);

/* Pack layer l's W_hh for the per-step products of its forward (bwd = 0) or backward (bwd = 1)
 * recurrence, on the calling thread before the threads start (rows: the most a thread has) */
void nr_enc_ws_pack(const nr_encoder *enc, nr_encoder_ws *ws, int l, int bwd, int rows, int steps);

#endif

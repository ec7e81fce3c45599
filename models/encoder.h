/* models/encoder.h: SimpleRNN / LSTM / GRU cells and the encoder stack (internal, not installed).
 *
 * ---- Equations and gate order ------------------------------------------------------------------
 * Gate blocks are stored in PyTorch's order, so PyTorch weights load by plain copy (docs/math.md
 * has the mapping to Keras, whose LSTM order is i,f,c,o = ours with g named c, and whose GRU
 * order is z,r,h — a permutation of our r,z,n).  x = layer input, h = previous state, σ = sigmoid.
 *
 *   SimpleRNN (G=1):   h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
 *
 *   LSTM (G=4, blocks i,f,g,o):
 *     i = σ(W_ii x + b_ii + W_hi h + b_hi)      input gate
 *     f = σ(W_if x + b_if + W_hf h + b_hf)      forget gate (b_if = 1 at init, b_hf = 0)
 *     g = tanh(W_ig x + b_ig + W_hg h + b_hg)   cell candidate
 *     o = σ(W_io x + b_io + W_ho h + b_ho)      output gate
 *     c' = f * c + i * g ;  h' = o * tanh(c')
 *
 *   GRU (G=3, blocks r,z,n):
 *     r = σ(W_ir x + b_ir + W_hr h + b_hr)      reset gate
 *     z = σ(W_iz x + b_iz + W_hz h + b_hz)      update gate
 *     reset after  (gru_reset_after=1, PyTorch/cuDNN, Keras reset_after=True, the default):
 *       n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
 *     reset before (gru_reset_after=0, Keras reset_after=False / original Cho et al.):
 *       n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)
 *     h' = (1 - z) * n + z * h
 *
 * ---- Parameter layout (one flat float block, PyTorch order) -------------------------------------
 * For layer l = 0..L-1, for direction d = 0 (forward), 1 (reverse, if bidirectional):
 *     W_ih (G*H, I_l)   W_hh (G*H, H)   b_ih (G*H)   b_hh (G*H)
 * with I_0 = input size and I_l = out size of layer l-1 (2H for concat, H for sum/unidirectional).
 * nr_encoder_param_count() gives the total; the gradient block has the same layout.
 * Init (nr_encoder_init): W_ih Glorot uniform, W_hh orthogonal (columns orthonormal, as Keras),
 * biases 0, except the LSTM forget gate: b_if = 1 (Jozefowicz et al. 2015: remember by default, so
 * gradients flow through c early in training; Keras unit_forget_bias=True).
 *
 * ---- Shapes at the call --------------------------------------------------------------------------
 * Time-major: x (T,B,I), out (T,B,O) with O = H, or 2H for bidirectional concat. States h0/c0/hn/cn
 * are (L*dirs,B,H), index l*dirs + d (PyTorch's h_n order). lengths (B), 1 <= len[b] <= T, or NULL
 * for all T. Masking: for t >= len[b] the output row is 0 and the state does not change; hn/cn is
 * the state after each sequence's last real step; the reverse direction starts at t = len[b]-1.
 * So a sequence gives identical outputs and gradients alone or padded in a batch (tested).
 * Speed: the per-step GEMMs skip finished sequences at the two ends of the batch (of each thread's
 * part), so a batch sorted by falling length (like PyTorch's packed sequences) wastes no work.
 * Streaming/stateful use: pass the hn/cn of one call as h0/c0 of the next.
 *
 * ---- Resets (nr_encoder_ws_set_reset) -------------------------------------------------------------
 * reset (T,B), optional: reset[t*B+b] != 0 starts a new segment of sequence b at time t (t < len[b]):
 * every layer's state h (and c) is zeroed there, as if the segment were a sequence of its own:
 *   forward direction:  h_{t-1} := 0 (and c_{t-1} := 0) before the step at t
 *   reverse direction:  h_{t}   := 0 before its step at t - 1 (the segment before ends at t - 1)
 * h0/c0 then reach only the first segment (forward) and the last (reverse). The zero is a
 * constant: the backward gives dL/dh_prev = dL/dc_prev = 0 there, so nothing before a reset
 * (values or gradients) affects anything after it. Outputs and gradients equal those of the
 * segments run separately from zero states (to rounding: other GEMM shapes; tested).
 *
 * ---- Threads --------------------------------------------------------------------------------------
 * An nr_encoder (config + bound weights) is read-only in forward/backward and may be shared by any
 * number of threads. A workspace belongs to one caller thread at a time. A workspace made with
 * nthreads > 1 splits each call into min(nthreads, B) tasks (one when T*B < 8) that run on the
 * library's thread pool (common/pool.h: at most as many at once as the process has cores), as a
 * fork-join per phase:
 *   input projection and dx: rows of (T*B) split in contiguous blocks;
 *   the recurrence: the batch split in contiguous blocks (sequences are independent);
 *   weight gradients: the rows of dW (the G*H gate rows) split, each summed over all T*B rows.
 * Batch-1 inference (one sequence: nothing for that split) with a float16 W_hh instead runs as on
 * one thread, except that each recurrent product y = W_hh h of a step is split by rows of W_hh
 * between the caller and a helper task it posts to the pool (on 2 cores or more; the task stays
 * while products keep coming, across the calls of a stream of sequences, and leaves 50 us after
 * the last): the rows come in 4 blocks that the two claim from a shared atomic counter, so a
 * helper that is late or descheduled delays a step by at most the block it holds; neither waits
 * awake for more than tens of microseconds (models/step_split.h). Each element of the product comes from
 * its own row of W_hh, so the results are the bits of the 1-thread workspace whoever computes a
 * block (test_pipe_infer.c).
 * Every output element is computed by exactly one task with a summation order fixed by the
 * shapes and nthreads, so the same seed, data and nthreads give bit-identical results, however
 * many cores run the tasks. The CBLAS runs on the calling thread (nr_sgemm, nr_blas_own).
 * Data-parallel training with one workspace and one gradient block per task also works (reduce
 * blocks in a fixed order).
 *
 * ---- Gradients -------------------------------------------------------------------------------------
 * Every backward output accumulates (+=): the parameter gradient, dx, dh0, dc0. Zero them first.
 */
#ifndef NR_MODELS_ENCODER_H
#define NR_MODELS_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

typedef enum nr_cell { NR_CELL_RNN = 0, NR_CELL_LSTM = 1, NR_CELL_GRU = 2 } nr_cell;
typedef enum nr_merge { NR_MERGE_CONCAT = 0, NR_MERGE_SUM = 1 } nr_merge;

#define NR_ENCODER_MAX_LAYERS 16

typedef struct nr_encoder_cfg {
    int cell;            /* nr_cell */
    int input_size;      /* I >= 1 */
    int hidden;          /* H >= 1 */
    int layers;          /* L, 1..NR_ENCODER_MAX_LAYERS */
    int bidirectional;   /* 0 or 1 */
    int merge;           /* nr_merge: how the two directions combine (each layer's output) */
    int gru_reset_after; /* GRU only: 1 = PyTorch/cuDNN (default), 0 = Keras reset-before */
    float dropout;       /* in [0,1): inverted dropout on each layer's input for layers 1..L-1,
                            training only (a forward with a non-NULL rng) */
} nr_encoder_cfg;

/* Fill a config with the defaults: LSTM, 1 layer, unidirectional, concat, reset-after, no dropout. */
void nr_encoder_cfg_default(nr_encoder_cfg *cfg, int input_size, int hidden);

/* Where one (layer, direction) lives in the flat block: element offsets, so the same slot
 * addresses parameters and gradients. */
typedef struct nr_rnn_slot {
    size_t w_ih, w_hh, b_ih, b_hh; /* offsets of W_ih (G*H,in), W_hh (G*H,H), b_ih, b_hh (G*H) */
    int in;                        /* input size of this layer */
} nr_rnn_slot;

typedef struct nr_encoder {
    nr_encoder_cfg cfg;
    int dirs;        /* 1 or 2 */
    int gates;       /* G: 1 (RNN), 4 (LSTM), 3 (GRU) */
    int out_size;    /* O: H * (bidirectional && concat ? 2 : 1) */
    size_t n_params; /* = nr_encoder_param_count(cfg) */
    float *params;   /* bound block, not owned */
    nr_rnn_slot slot[NR_ENCODER_MAX_LAYERS][2];
    /* Float16 recurrent weights for inference (nr_encoder_attach_f16; NULL = none, the default):
     * whh_f16[l][d] = W_hh (G*H,H) of layer l, direction d as IEEE binary16, holding exactly the
     * values of the float32 W_hh in params. Inference workspaces use them for the per-step
     * products of steps with at most NR_F16_MAX_ROWS running sequences (batch-1 inference reads
     * half the bytes; the products are the same, only the float32 summation order differs from
     * CBLAS's: results agree to ~1e-6 relative, not bit for bit). Training never reads them. */
    const uint16_t *whh_f16[NR_ENCODER_MAX_LAYERS][2];
    int f16_kernel; /* enum nr_f16_kernel (models/gemv_f16.h): set by nr_encoder_attach_f16 */
} nr_encoder;

/* The float16 path handles steps with at most this many running sequences; more go to CBLAS,
 * whose GEMM reuses each loaded weight across many rows (measured with bench_rnn --mode step,
 * LSTM hidden 256, one core: f16 12.9/22/27/55 us per step at 2/3/4/8 rows, OpenBLAS 64/80/70/90). */
#define NR_F16_MAX_ROWS 8

/* Number of floats the parameters of cfg take (0 if cfg is invalid). */
size_t nr_encoder_param_count(const nr_encoder_cfg *cfg);
/* Check cfg (clear message on error) and bind enc to params (nr_encoder_param_count floats,
 * caller-owned). Does not initialise values. */
int nr_encoder_bind(nr_encoder *enc, const nr_encoder_cfg *cfg, float *params, nlprnn_error *err);
/* Seeded initialisation of the bound parameters (see the layout comment above). */
int nr_encoder_init(const nr_encoder *enc, nr_rng *rng, nlprnn_error *err);

/* Halves that nr_encoder_attach_f16 needs: the W_hh (G*H,H) of every layer and direction. */
size_t nr_encoder_whh_count(const nr_encoder *enc);
/* Copy every W_hh of the bound float32 parameters into w16 (nr_encoder_whh_count halves,
 * caller-owned, must outlive the encoder's use) as float16, point enc->whh_f16 at it and pick the
 * fastest kernel for this CPU (enc->f16_kernel; a test may then set NR_F16_SCALAR). Every value
 * must already be a float16 value (a model file that stores W_hh as f16, loaded to float32), so
 * nothing is rounded: otherwise NLPRNN_E_INVALID_ARG naming the first such value, and nothing is
 * attached. Call after the weights are final; a change to W_hh afterwards is not seen. */
int nr_encoder_attach_f16(nr_encoder *enc, uint16_t *w16, nlprnn_error *err);
/* The same when w16 already holds the halves (read from the model file as they are stored,
 * nr_mf_tensor_read_f16): nothing is converted; every half is checked to widen to the float32
 * W_hh bit for bit (8 halves an instruction, nr_f16_widen), NLPRNN_E_INVALID_ARG naming the first
 * that does not, and then nothing is attached. */
int nr_encoder_attach_f16_filled(nr_encoder *enc, uint16_t *w16, nlprnn_error *err);
/* Forget the float16 weights (inference uses the float32 W_hh again). */
void nr_encoder_detach_f16(nr_encoder *enc);

/* Per-thread workspace for calls with T <= max_T and B <= max_B. training = 1 keeps what backward
 * needs (gates, states, dropout masks); 0 is smaller and faster (inference only). nthreads >= 1:
 * see "Threads" above. Made once, reused for every call: forward/backward never allocate. */
typedef struct nr_encoder_ws nr_encoder_ws;
nr_encoder_ws *nr_encoder_ws_create(const nr_encoder *enc, int max_T, int max_B, int training,
                                    int nthreads, nlprnn_error *err);
void nr_encoder_ws_free(nr_encoder_ws *ws); /* NULL is allowed */

/* Forward.
 *   out (T,B,O)            outputs of the last layer (0 at padded steps)
 *   hn, cn (L*dirs,B,H)    optional (NULL): final states (cn: LSTM only, else ignored)
 *   x (T,B,I)              input; with a training workspace it must stay unchanged until backward
 *   lengths (B)            optional (NULL = all T)
 *   h0, c0 (L*dirs,B,H)    optional (NULL = zeros)
 *   dropout_rng            NULL = no dropout (inference); else draws the inter-layer dropout masks
 * Returns 0, or NLPRNN_E_INVALID_ARG (T/B out of the workspace's range, bad length) with a message. */
int nr_encoder_forward(const nr_encoder *enc, nr_encoder_ws *ws, float *out, float *hn, float *cn,
                       const float *x, const int *lengths, const float *h0, const float *c0, int T,
                       int B, nr_rng *dropout_rng, nlprnn_error *err);

/* Layer 0's input projection from a table (inference on inputs that are rows of a table, such as
 * an embedding): the projection of a row x is
 *   P(x) (dirs, G*H) = [b_ih + x W_ih^T of each direction]
 * so for inputs x_id taken from a table of V rows, P can be computed once per id and gathered.
 * nr_encoder_project_rows computes M rows P(X[m]) into rows (M, dirs*G*H) with our GEMM kernel,
 * in exactly the arithmetic of the forward's own projection when that product runs our kernel
 * (bias first, then the product with beta = 1; every element is summed over k in the same order
 * whatever its row and M); it fails (NLPRNN_E_STATE) on a kernel path that has no such kernel.
 * nr_encoder_table_ok says whether a (T,B) forward on ws would run our kernel for its projection:
 * only then do the gathered rows have the bits the forward would compute. nr_encoder_ws_set_table
 * makes the next forwards (until set to NULL) take layer 0's projection from the table:
 * ids (T,B) the id of every row, each running row's id must have its row in table
 * (V, dirs*G*H); x is then not read by layer 0. Ignored by a training workspace. */
int nr_encoder_table_ok(const nr_encoder *enc, const nr_encoder_ws *ws, int T, int B);
int nr_encoder_project_rows(const nr_encoder *enc, const float *X, int M, float *rows,
                            nlprnn_error *err);
void nr_encoder_ws_set_table(nr_encoder_ws *ws, const float *table, const int *ids);

/* Resets (see "Resets" above) for the next forwards on ws and the backward of each, until set to
 * NULL (the default: none). reset (T,B) of the call's T and B, caller-owned, unchanged until the
 * backward of the forward that read it. */
void nr_encoder_ws_set_reset(nr_encoder_ws *ws, const uint8_t *reset);

/* Max pooling over time fused into the recurrence (inference): the next forwards on ws (until
 * set to NULL) put into pooled (B,O) the maximum over t < len[b] of the last layer's outputs, in
 * the bits the same maximum computed from out (T,B,O) over t ascending has (q = y_0, then
 * q = y_t > q ? y_t : q; the classifier's max pooling), and leave the last layer's rows of out
 * unwritten (out must still be given). Returns 1 when set; 0 (nothing set: pool from out) for a
 * training workspace or two directions summed (NR_MERGE_SUM), and for pooled NULL. */
int nr_encoder_ws_set_pool_max(const nr_encoder *enc, nr_encoder_ws *ws, float *pooled);

/* on = 1: the encoder's weights will not change while ws lives (an immutable loaded model), so
 * the packed copies of W_hh that the per-step products use (made before each recurrence) are made
 * once and kept for later calls with the same layer and kernel path instead of made again per
 * call, and W_ih's packs for the projection (where nr_sgemm would pack it: every layer and
 * direction, kept in an nr_encoder_packs the workspace owns) are made by the first call after the
 * first (a workspace used once packs as without keeping) that needs them and kept for the
 * workspace's life. 0 (the default, and what training needs): packed
 * every call; switching off drops the kept packs. Ignored (stays 0) for a training workspace,
 * whose weights change at every step. nr_encoder_ws_take_packs hands the kept W_ih packs of
 * `from` to `to` (both keeping: a larger workspace replacing a smaller one for the same model);
 * from keeps to's (none, for a new one). */
void nr_encoder_ws_keep_pack(nr_encoder_ws *ws, int on);
void nr_encoder_ws_take_packs(nr_encoder_ws *to, nr_encoder_ws *from);

/* Packed weights shared by workspaces whose calls all read the same weights at the same time:
 * data-parallel training, where each worker has its own workspace for its part of the batch and
 * every one of them would otherwise pack the same W_hh (and W_ih, where our kernel projects) for
 * each step. A workspace given one (nr_encoder_ws_share_packs; NULL: none, the default) takes its
 * copies from it: the first workspace to need a copy after nr_encoder_packs_stale makes it (under
 * the object's lock; the others wait for it), the others read it. The copies are those the
 * workspace would make itself (nr_kpack on the same path), so the results have the same bits.
 * The owner calls nr_encoder_packs_stale after every change of the weights and before the next
 * calls (never while a call runs). Not used by a workspace with keep_pack (which keeps its own). */
typedef struct nr_encoder_packs nr_encoder_packs;
int nr_encoder_packs_create(nr_encoder_packs **out, nlprnn_error *err);
void nr_encoder_packs_free(nr_encoder_packs *pk); /* NULL: nothing */
void nr_encoder_packs_stale(nr_encoder_packs *pk);
void nr_encoder_ws_share_packs(nr_encoder_ws *ws, nr_encoder_packs *pk);
/* Tests: the copies pk has made so far (each made once per stale and slot, by whichever caller). */
unsigned long nr_encoder_packs_made(nr_encoder_packs *pk);

/* Tests of the batch-1 split (see "Threads"): on = 1 makes split calls of this workspace wait for
 * the helper task to run and to finish a block of each product before the caller claims any, and
 * keeps the helper until the call ends (otherwise the caller computes whatever the helper has not
 * claimed); the count is of products the helper took part in so far (0 for a workspace that never
 * split: one thread, or one core). */
void nr_encoder_ws_split_wait(nr_encoder_ws *ws, int on);
long nr_encoder_ws_split_products(const nr_encoder_ws *ws);

/* Backward of the last forward on this (training) workspace.
 *   grad (n_params)        += dL/dparams (same layout as the parameters)
 *   dx (T,B,I)             optional: += dL/dx
 *   dh0, dc0 (L*dirs,B,H)  optional: += dL/dh0, dL/dc0
 *   dout (T,B,O)           dL/dout (rows at padded steps are ignored); NULL = zeros
 *   dhn, dcn (L*dirs,B,H)  optional: dL/dhn, dL/dcn
 * Returns NLPRNN_E_STATE if the workspace is not a training one or saw no forward. */
int nr_encoder_backward(const nr_encoder *enc, nr_encoder_ws *ws, float *grad, float *dx,
                        float *dh0, float *dc0, const float *dout, const float *dhn,
                        const float *dcn, nlprnn_error *err);

/* Name of a cell kind ("rnn", "lstm", "gru"), or NULL; and back (-1 if unknown). */
const char *nr_cell_name(int cell);
int nr_cell_from_name(const char *name);

#endif

/* tasks/translate/seq2seq.h: the encoder-decoder with attention (internal side of
 * nlprnn/translate.h).
 *
 * Many-to-many, unsynchronised: a source sequence read whole, a target sequence written token by
 * token (Bahdanau et al. 2015, Luong et al. 2015).
 *
 * ---- The network -------------------------------------------------------------------------------
 *   source ids (Ts,B) -> embedding (Vs,E) -> xs (Ts,B,E)
 *   -> encoder (models/encoder.h: stacked, optionally bidirectional LSTM/GRU, masked by the source
 *      lengths) -> S (Ts,B,O)                            O = the encoder's output size
 *   bridge:   m = mean of S over the real source steps (B,O);  h_0 = tanh(W_b m + b_b) (B,H);
 *             c_0 = 0 (LSTM); a_0 = 0
 *   keys:     general:  K = S W_a^T (Ts,B,H)       additive:  K = S W_k^T (Ts,B,H)
 *   decoder step t = 1..Tt (one LSTM/GRU layer, H units, gate order of models/encoder.h):
 *     x_t   = [ emb_tgt(y_{t-1}) ; a_{t-1} ]                     (E+H)  input feeding (Luong)
 *     h_t   = cell(x_t, h_{t-1}, c_{t-1})                        (H)
 *     score e_{t,s}, for the source steps s < len (masked: the others get weight 0):
 *       general (Luong, multiplicative):  e = h_t · K_s               = h_t^T W_a S_s
 *       additive (Bahdanau):              e = v · tanh(W_q h_t + b_q + K_s)
 *     α_t   = softmax_s(e_t)                                      (Ts)
 *     ctx_t = Σ_s α_{t,s} S_s                                     (O)
 *     a_t   = tanh(W_c [ctx_t ; h_t] + b_c)                       (H)  the attentional vector
 *     z_t   = W_o a_t + b_o                                       (Vt) W_o = emb_tgt when tied (E = H)
 *   dropout (training only: a forward given an rng; off at inference), inverted: a mask m of
 *   0 (probability p) or 1/(1-p) per element, so the expected value is unchanged:
 *     emb_dropout:  xs = m ⊙ emb_src(src),  and emb_tgt(y_{t-1}) -> m_t ⊙ emb_tgt(y_{t-1}) in x_t
 *     out_dropout:  a_t -> m_t ⊙ a_t, before both the output layer and the input feeding
 *     backward: the same masks multiply the gradients (d emb = m ⊙ dx; d pre-a = m ⊙ da (1-a^2))
 *   loss (teacher forcing, y_0 = <bos>, targets y_1..y_n <eos>; padded targets ignored), with
 *   label smoothing ε (0 = plain cross-entropy), p = softmax(z):
 *       L = -(1-ε) log p_y - (ε/Vt) Σ_k log p_k ;   dL/dz = p - (1-ε) onehot(y) - ε/Vt
 *
 * Masking on both sides: the encoder ignores source steps >= len (models/encoder.h), attention
 * gives them weight 0 and the bridge's mean leaves them out; target steps past a sentence's end
 * have target -1 and contribute no loss and no gradient. So a pair gives the same loss and
 * gradient alone or padded in a batch (tests/test_translate.c).
 *
 * ---- One flat parameter block ------------------------------------------------------------------
 *   [ emb_src (Vs,E) | emb_tgt (Vt,E) | encoder | W_b (H,O) b_b (H)
 *   | W_ih (G*H,E+H) W_hh (G*H,H) b_ih (G*H) b_hh (G*H)
 *   | general: W_a (H,O)   additive: W_k (H,O) W_q (H,H) b_q (H) v (H)
 *   | W_c (H,O+H) b_c (H) | W_o (Vt,H) unless tied | b_o (Vt) ]
 * Id 0 (<pad>) of both embeddings is padding: zero, never updated.
 *
 * ---- Threads -------------------------------------------------------------------------------------
 * A bound nr_s2s is read-only in every function here; a workspace belongs to one thread.
 *
 * The task's files:
 *   net.c     the network: bind, init, workspace, encode, decoder step, forward, loss, backward
 *   search.c  greedy, sampled and beam search, batches and streams of sources, attention weights
 *   bleu.c    BLEU and chrF as sacrebleu computes them
 *   file.c    model files of kind "TRNS"
 *   train.c   the parameter table, the pairs, the training task run by the one trainer (train/)
 *   api.c     the public functions of nlprnn/translate.h
 */
#ifndef NR_TASKS_SEQ2SEQ_H
#define NR_TASKS_SEQ2SEQ_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "embed/embedding.h"
#include "models/encoder.h"
#include "models/math.h"

enum { NR_ATTN_GENERAL = 0, NR_ATTN_ADDITIVE = 1 };

typedef struct nr_s2s_cfg {
    int Vs, Vt;          /* source and target vocabulary sizes (ids 0..4 are the tokenizer's specials) */
    int embed;           /* E */
    int hidden;          /* H: decoder units (the encoder has enc.hidden per direction) */
    nr_encoder_cfg enc;  /* the encoder (enc.input_size = E) */
    int cell;            /* decoder cell: NR_CELL_LSTM or NR_CELL_GRU (GRU: reset after) */
    int attention;       /* NR_ATTN_* */
    int tied;            /* 1: W_o = emb_tgt (needs E = H) */
    float emb_dropout;   /* [0,1): inverted dropout on the source and target embeddings (training) */
    float out_dropout;   /* [0,1): inverted dropout on the attentional vector a_t (training) */
} nr_s2s_cfg;

typedef struct nr_s2s {
    nr_s2s_cfg cfg;
    int E, H, O, G, X;   /* X = E + H, the decoder's input size */
    nr_embedding src, tgt;
    nr_encoder enc;
    float *params;       /* bound block, not owned */
    size_t n_params;
    /* offsets into the block */
    size_t o_src, o_tgt, o_enc, o_wb, o_bb, o_wih, o_whh, o_bih, o_bhh;
    size_t o_wa, o_wq, o_bq, o_v; /* o_wa is W_a (general) or W_k (additive) */
    size_t o_wc, o_bc, o_wo, o_bo;
    /* compact copies (models/math.h, nr_wcopy) of the decoder's W_ih (G*H,X), W_hh (G*H,H),
     * W_c (H,O+H) and W_o (Vt,H) holding exactly the values at params + o_wih, ... (all NULL:
     * none; not owned; all four or none): set by the translator loaded from a file that stores
     * them so, as float16 halves or as int8 rows with a scale each (the file's bytes). A step in
     * a workspace that keeps its packs (nr_s2s_ws_keep_pack: the parameters do not change) reads
     * them where its product is nr_kgemv's (one row, or 2-31 rows of W_ih/W_hh/W_o:
     * nr_sgemm_pk_copy): the same bits, half or a quarter of the bytes (the weights of a step at
     * batch 1 do not fit in L2). Training never sets them. */
    nr_wcopy c_wih, c_whh, c_wc, c_wo;
} nr_s2s;

/* Floats of the block for cfg (0: invalid cfg). */
size_t nr_s2s_param_count(const nr_s2s_cfg *cfg);
/* Check cfg (clear messages) and bind to params (nr_s2s_param_count floats; NULL only to learn
 * n_params). */
int nr_s2s_bind(nr_s2s *n, const nr_s2s_cfg *cfg, float *params, nlprnn_error *err);
/* The parts of the block, in the order they lie in it (docs/formats.md, TRNS int8 weights): the
 * matrices (rows, cols) and the vectors (rows = 0: cols values), named as the file names them
 * ("emb_src", "enc.0.0.W_ih", ..., "dec.W_ih", ..., "b_o"); they tile [0, n_params) with no gap
 * and no overlap (a tied W_o is emb_tgt, not a part of its own). n must be bound to a block (the
 * encoder's slots). Returns the number of parts (at most NR_S2S_MAX_PARTS). */
#define NR_S2S_MAX_PARTS (4 * 2 * NR_ENCODER_MAX_LAYERS + 20)
typedef struct nr_s2s_part {
    char name[24];
    size_t off, rows, cols; /* rows 0: a vector of cols values */
} nr_s2s_part;
int nr_s2s_parts(const nr_s2s *n, nr_s2s_part *parts);
/* Seeded init: embeddings U(-0.1,0.1) (padding rows 0), the encoder's init, dense weights Glorot,
 * W_hh orthogonal, biases 0 except the LSTM forget gate's b_if = 1. */
int nr_s2s_init(const nr_s2s *n, nr_rng *rng, nlprnn_error *err);

/* Workspace of one thread: batches of up to max_B pairs, max_Ts source and max_Tt target steps.
 * training = 1 keeps what backward needs. For search, max_B is the beam width (rows decoded at
 * once) and the source batch is 1. */
typedef struct nr_s2s_ws nr_s2s_ws;
nr_s2s_ws *nr_s2s_ws_create(const nr_s2s *n, int max_Ts, int max_Tt, int max_B, int training,
                            nlprnn_error *err);
void nr_s2s_ws_free(nr_s2s_ws *ws);
/* on = 1: n's parameters will not change while ws lives (a loaded translator is immutable), so
 * the decoder's packed weights (nr_sgemm_pk) made by one decoding are kept for the next ones
 * (nr_s2s_state_start leaves them valid), so is the attention keys' packed W_a / W_k (from the
 * second encode on: a workspace used once does not pay for a copy), and the encoder keeps its
 * packed W_hh and W_ih (nr_encoder_ws_keep_pack; W_ih from its second forward on): a
 * translation context packs once, not once per sentence. 0 (the default, what training needs):
 * packed again at every encode, decoding, forward and loss. Ignored (stays 0) for a training
 * workspace. The same bits either way. */
void nr_s2s_ws_keep_pack(nr_s2s_ws *ws, int on);
/* Move from's packs (the decoder's, the keys', the encoder's kept W_ih) into to (to's go to from,
 * to be freed with it): a workspace made larger for the same n keeps the packs of the one it
 * replaces (they stay valid only when to keeps its packs). */
void nr_s2s_ws_take_packs(nr_s2s_ws *to, nr_s2s_ws *from);

/* Scratch of at least `bytes` owned by ws, block which = 0 (the searches of search.c) or 1 (their
 * callers in search.c): kept for the workspace's life and reused, grown when asked for more (the
 * contents are not kept then), so a context's searches stop allocating once it is large enough.
 * NULL: out of memory. */
void *nr_s2s_ws_scratch(nr_s2s_ws *ws, int which, size_t bytes);

/* Layer 0 of the encoder from a table (inference): table (Vs, dirs*G*He) holds
 * nr_encoder_project_rows of the source embedding's rows (models/encoder.h), at least those of
 * every id the next encodes read; the encodes gather them where the bits are the same as their
 * own product's (nr_encoder_table_ok), until set to NULL. Not owned. Ignored by a training
 * workspace. */
void nr_s2s_ws_set_table(nr_s2s_ws *ws, const float *table);

/* Encode a source batch: src (Ts,B) time-major ids, lengths slen (B), 1 <= slen[b] <= Ts.
 * Fills the memory (S, K) and h_0 of the workspace. dropout_rng: draws the source embedding's
 * and the encoder's inter-layer dropout masks (training workspace only; NULL = no dropout). */
int nr_s2s_encode(const nr_s2s *n, nr_s2s_ws *ws, const int *src, const int *slen, int Ts, int B,
                  nr_rng *dropout_rng, nlprnn_error *err);

/* Teacher-forced forward after nr_s2s_encode: tin (Tt,B) decoder inputs (<bos> y_1 ..), padded
 * with 0. Keeps every step's state for backward (training workspace). dropout_rng: draws the
 * target embedding's and the attentional vector's dropout masks (NULL = no dropout). */
int nr_s2s_decode_forward(const nr_s2s *n, nr_s2s_ws *ws, const int *tin, int Tt,
                          nr_rng *dropout_rng, nlprnn_error *err);
/* The output layer and the loss of the last forward: tout (Tt,B) targets (-1 = padding).
 * Returns the SUMMED loss over counted targets (*count of them). With grad != NULL (training
 * workspace) it adds scale * dL/d(W_o, b_o) into grad and keeps scale * dL/da for backward. */
double nr_s2s_loss(const nr_s2s *n, nr_s2s_ws *ws, const int *tout, float smoothing, float scale,
                   float *grad, long long *count);
/* Backward of the last forward and loss through the decoder, attention, bridge, encoder and both
 * embeddings: grad (n_params) += the gradient of scale * L. */
int nr_s2s_backward(const nr_s2s *n, nr_s2s_ws *ws, float *grad, nlprnn_error *err);
/* The source rows the last backward touched are not tracked: both embeddings are dense blocks
 * for the trainer. */

/* ---- step-by-step decoding (search.c uses these) -------------------------------------------------
 * A decoder state of R rows, each row attending to source b = row_src[r] of the last encode. */
typedef struct nr_s2s_state {
    float *h, *c, *a; /* (R,H) each */
} nr_s2s_state;
/* Rows of h_0 / c_0 / a_0 for each row's source (state rows r <- encoded source row_src[r]). */
void nr_s2s_state_start(const nr_s2s *n, nr_s2s_ws *ws, nr_s2s_state *st, const int *row_src,
                        int R);
/* One step for R rows: prev (R) the previous tokens; st is advanced in place; logits (R,Vt) get
 * the output layer's scores (NULL: not computed); alpha (R,Ts) the attention weights (may be
 * NULL). */
void nr_s2s_step(const nr_s2s *n, nr_s2s_ws *ws, nr_s2s_state *st, const int *row_src,
                 const int *prev, int R, float *logits, float *alpha);
/* Decoding from slots: a stream of sources longer than the workspace's batch decodes with its rows
 * refilled as they finish (search.c), each row attending to the memory of its own source, copied
 * out of whichever encode made it into the row's slot (max_B slots of max_Ts steps).
 *   nr_s2s_slots_begin  start decoding `rows` rows (1..max_B) from slots (allocated at the first
 *                       use; NLPRNN_E_INVALID_ARG beyond the workspace, NLPRNN_E_NOMEM);
 *                       Ts (1..max_Ts): the longest source of the stream, the row length of
 *                       nr_s2s_step's alpha (R,Ts) from now on; row_src[r] of nr_s2s_step is then
 *                       row r's slot. Stales the packs as nr_s2s_state_start does.
 *   nr_s2s_slot_load    source b (0..B) of the last nr_s2s_encode into slot (its S, K and length),
 *                       and its h_0 (H) into h0 (the row's state)
 *   nr_s2s_slots_end    back to the last encode's layout (nr_s2s_state_start also goes back)
 * The products are those of the encode's layout with other strides: the same bits. */
int nr_s2s_slots_begin(const nr_s2s *n, nr_s2s_ws *ws, int Ts, int rows, nlprnn_error *err);
void nr_s2s_slot_load(const nr_s2s *n, nr_s2s_ws *ws, int slot, int b, float *h0);
void nr_s2s_slots_end(nr_s2s_ws *ws);
/* The source length Ts of the last encode. */
int nr_s2s_encoded_steps(const nr_s2s_ws *ws);

/* ---- ensembles (search.c) -------------------------------------------------------------------------
 * Members that share the target vocabulary (Vt) are decoded together: each keeps its own encoder
 * memory, decoder state and attention (its own workspace), and at each step their next-token
 * distributions p_m (Vt) are combined into one:
 *   NR_COMBINE_PROB  log p = log( (1/N) Σ_m p_m )        the mean of the probabilities (fairseq)
 *   NR_COMBINE_LOGP  log p = (1/N) Σ_m log p_m           the mean of the log-probabilities (Marian;
 *                                                        not renormalised: Σ_k p_k <= 1)
 * Greedy search takes the argmax of the combined log p, beam search extends by it, sampling draws
 * from softmax(log p / T); the reported log-probability is the sum of the combined log p of the
 * tokens written and the end; the attention rows are the members' mean. With one member every
 * function is the single model's (the same code path and the same floats).
 * Word reward r (`reward`; 0 = none, the functions as without it): greedy and beam search rank by
 * the combined log p of each written token plus r (the end gets no reward), so r > 0 makes the
 * outputs longer (greedy writes <eos> only when log p(<eos>) exceeds every other token's
 * log p + r) and r < 0 shorter; beam search sums the rewarded values and normalises that sum
 * (logp + r * len) / (len + 1)^len_alpha. Sampling does not use it. The reported
 * log-probability stays the model's (without the reward).
 * Minimum length (`min_ratio`, `min_from`): for a source of slen >= min_from tokens, before
 * floor(min_ratio * slen) tokens are written (capped at the length limit) <eos> may not be chosen
 * (greedy: the best other token; beam: no <eos> candidates; sampling: drawn from the other
 * tokens); a source shorter than min_from tokens has no minimum. min_ratio 0 = none, min_from 0 =
 * every source; both 0: the functions as without them. */
#define NR_S2S_MAX_ENS 32
enum { NR_COMBINE_PROB = 0, NR_COMBINE_LOGP = 1 };
typedef struct nr_s2s_ens {
    int n;                       /* members, 1..NR_S2S_MAX_ENS */
    const nr_s2s *const *net;    /* (n) bound networks, all with the same cfg.Vt */
    nr_s2s_ws *const *ws;        /* (n) a workspace each (same capacity rules as one model) */
    int combine;                 /* NR_COMBINE_* */
    double reward;               /* the word reward of greedy and beam search (0: none) */
    double min_ratio;            /* no <eos> before floor(min_ratio * source tokens) target tokens
                                    (at most the length limit; 0: none): every search */
    int min_from;                /* ... for sources of at least min_from tokens only (0: all) */
} nr_s2s_ens;

/* ---- search (search.c) ---------------------------------------------------------------------------
 * Translate one source sentence src (slen ids, no <bos>/<eos>) into out (at most max_len target
 * ids, without <bos> and <eos>; *out_len of them). ws: made with max_Ts >= slen, max_B >= beam.
 *   greedy: the most probable token at each step, until <eos> or max_len tokens.
 *   beam:   width W >= 1 hypotheses; each step keeps the W best extensions by summed log-
 *           probability; a hypothesis ending in <eos> is finished with the normalised score
 *           logp / len^len_alpha (len counts the tokens and the <eos>; len_alpha 0 = none); the
 *           search ends when W hypotheses are finished or max_len tokens are written (the live
 *           ones then count as finished); the best finished one is returned. Ties go to the
 *           lower token id and the earlier hypothesis, so width 1 is exactly greedy.
 * attn (optional): (max_len+1, slen) the attention weights of each output step (the last row is
 * the step that wrote <eos>, when it did); *logp (optional): the summed log-probability of the
 * output and its <eos>. */
int nr_s2s_beam(const nr_s2s *n, nr_s2s_ws *ws, const int *src, int slen, int beam,
                float len_alpha, int max_len, int *out, int *out_len, float *attn, double *logp,
                nlprnn_error *err);
int nr_s2s_greedy(const nr_s2s *n, nr_s2s_ws *ws, const int *src, int slen, int max_len, int *out,
                  int *out_len, float *attn, double *logp, nlprnn_error *err);
/* The same for an ensemble (one member: exactly the functions above). */
int nr_s2s_ens_beam(const nr_s2s_ens *e, const int *src, int slen, int beam, float len_alpha,
                    int max_len, int *out, int *out_len, float *attn, double *logp, nlprnn_error *err);
int nr_s2s_ens_greedy(const nr_s2s_ens *e, const int *src, int slen, int max_len, int *out,
                      int *out_len, float *attn, double *logp, nlprnn_error *err);

/* Greedy or sampled decoding of B sources together (one encoder pass over the padded batch, then
 * each decoder step for all unfinished rows at once; a row leaves when it writes <eos>): the same
 * outputs as one source at a time, up to float rounding of the batched products.
 *   src (Ts,B) time-major, padded; slen (B); max_len (B) target tokens at most (<= out_stride);
 *   sm: NULL or !sm->on = greedy (nr_s2s_greedy's rule); else sampling: each step draws from
 *       softmax(z / temperature) over the ids that may be written, cut to the top_k highest
 *       logits (0: all); source b's draws come from an rng seeded with sm->seed alone, so a
 *       source gives the same sample alone or in any batch;
 *   out (B, out_stride) the tokens (without <eos>), out_len (B); logp (B) the summed model
 *   log-probability (temperature 1, whole vocabulary) of the tokens and the <eos>;
 *   attn: NULL, or with B = 1 the (max_len+1, slen) attention rows.
 * ws: made with max_Ts >= Ts and max_B >= B. */
typedef struct nr_s2s_sample {
    int on;
    float temperature; /* > 0 */
    int top_k;         /* 0: all */
    uint64_t seed;
} nr_s2s_sample;
/* A stream of n sources decoded greedily or by sampling (as above) in at most B rows at once: the
 * first B sources start together (one encode), and whenever a row writes <eos> the next source
 * takes its place (the sources encoded B at a time, as their turn comes; each row attends to its
 * own source's memory: nr_s2s_slots_begin), so the products keep B rows until the last sources.
 * The sources start in the order given: longest first keeps the encodes' padding small. Each
 * source's outputs are those it gets alone (nr_s2s_ens_decode_batch with B = 1), up to the
 * rounding of the products: a product of one row, of 2-31 rows of a large weight and of 32 rows
 * or more sum in different orders (models/kernels/gemv_tmpl.h), so the rows decoded beside a
 * source can move its log-probability in the last bits (and its tokens only at a near-tie).
 *   job (n): src (slen ids), max_len, out (room for max_len tokens) given; out_len and logp set.
 *   attn: NULL, or with n = 1 the (max_len+1, slen) attention rows.
 * ws: made with max_Ts >= the longest slen and max_B >= min(B, n). */
typedef struct nr_s2s_job {
    const int *src;
    int slen, max_len;
    int *out;
    int out_len;   /* set: tokens written (without <eos>) */
    double logp;   /* set: their summed log-probability, with the <eos> */
} nr_s2s_job;
int nr_s2s_ens_decode_stream(const nr_s2s_ens *e, nr_s2s_job *job, int n, int B, const nr_s2s_sample *sm,
                             float *attn, nlprnn_error *err);
int nr_s2s_decode_batch(const nr_s2s *n, nr_s2s_ws *ws, const int *src, const int *slen, int Ts, int B,
                        const int *max_len, const nr_s2s_sample *sm, int *out, int out_stride,
                        int *out_len, double *logp, float *attn, nlprnn_error *err);
int nr_s2s_ens_decode_batch(const nr_s2s_ens *e, const int *src, const int *slen, int Ts, int B,
                            const int *max_len, const nr_s2s_sample *sm, int *out, int out_stride,
                            int *out_len, double *logp, float *attn, nlprnn_error *err);

#endif

/* tasks/lm/lm.h: the language model's internals (not installed).
 *
 * One network = embedding (V,E) -> encoder (LSTM/GRU, L layers, unidirectional) -> dense (V).
 * All parameters live in one flat block; the gradient block has the same layout:
 *
 *   tied   (E == H):  [ table (V,E) | out bias (V) | encoder ]
 *                     the dense head is bound at the block's start, so its W is the table and its
 *                     b follows it: nr_dense's own [W | b] layout, and the dense backward adds the
 *                     output gradient into the embedding rows with no extra copy.
 *   untied:           [ table (V,E) | encoder | out W (V,H) | out b (V) ]
 *
 * A backward (right-to-left) network is the same network trained on <bos> reversed(ids) <eos>.
 * In a saved file, rows are in tokenizer-id order. During training, ids are renumbered by falling
 * training frequency (so the log-uniform sampler of the sampled softmax matches the data); the
 * rows are put back in tokenizer order before saving.
 *
 * Shapes: time-major everywhere, (T,B,.); states (L,B,H); logits (rows,V).
 *
 * The files, one job each: net.c (networks), file.c (the model object and its LANG file),
 * context.c (inference context, scoring, stepping), search.c (next word, fill), generate.c,
 * eval.c, train.c (parameters, corpus, training).
 */
#ifndef NR_TASKS_LM_LM_H
#define NR_TASKS_LM_LM_H

#include "format/modelfile.h"
#include "models/nn.h"
#include "nlprnn/lm.h"

typedef struct nr_lm_cfg {
    int cell;    /* NR_CELL_LSTM or NR_CELL_GRU */
    int layers;  /* L >= 1 */
    int embed;   /* E */
    int hidden;  /* H */
    int vocab;   /* V */
    int tied;    /* 1: output matrix = embedding table (needs E == H) */
} nr_lm_cfg;

typedef struct nr_lm_net {
    nr_lm_cfg cfg;
    size_t n_params;     /* floats in the block */
    size_t enc_off;      /* offset of the encoder's parameters */
    size_t out_off;      /* offset of the dense head ([W | b]) */
    float *params;       /* owned block */
    nr_embedding emb;
    nr_encoder enc;
    nr_dense out;
} nr_lm_net;

/* Check cfg, allocate a zeroed block and bind every layer to it. padding_id: the embedding's
 * padding row (-1 for none). */
int nr_lm_net_create(nr_lm_net *net, const nr_lm_cfg *cfg, int padding_id, nlprnn_error *err);
void nr_lm_net_free(nr_lm_net *net);
/* Seeded initialisation (embedding U(-0.05,0.05), encoder as models/encoder.h, dense Glorot). */
int nr_lm_net_init(nr_lm_net *net, nr_rng *rng, nlprnn_error *err);

struct nlprnn_lm {
    nlprnn_tokenizer *tok;
    nr_lm_net net[2];         /* [NLPRNN_LM_FORWARD], [NLPRNN_LM_BACKWARD] */
    int has[2];
    unsigned char *kind;      /* (V) piece classes, see NR_PIECE_* */
    char storage[8];
    char summary[256];
};

/* Piece classes used by the searches (next, fill, generate). */
/* fill keeps at most this many pieces of context on each side of the blank (see lm.c) */
#define NR_LM_FILL_CONTEXT 256

#define NR_PIECE_INNER 0   /* continues a word */
#define NR_PIECE_START 1   /* begins a word ("▁...") */
#define NR_PIECE_OTHER 2   /* special or byte piece: never proposed as (part of) a word */

/* Build an nlprnn_lm around a tokenizer (taken over) and networks (taken over); fills kind and
 * summary. */
int nr_lm_assemble(nlprnn_lm **out, nlprnn_tokenizer *tok, nr_lm_net *fwd, nr_lm_net *bwd,
                   const char *storage, nlprnn_error *err);
/* Load a language model from an opened "LANG" file (nlprnn_lm_load without the file reading;
 * the fuzzer tests/fuzz/fuzz_lm_load.c feeds it files from memory). *out is NULL on error. */
int nr_lm_load_reader(const nr_mf_reader *r, nlprnn_lm **out, nlprnn_error *err);
/* Save atomically as a "LANG" model file. dtype: NR_DTYPE_F32 / F16 / I8 for the matrices;
 * extra_conf: additional "key=value\n" lines (training record), may be NULL. */
int nr_lm_save(const nlprnn_lm *lm, const char *path, int dtype, const char *extra_conf,
               nlprnn_error *err);

/* ---- inference (context.c): sizes, the context, the two primitives -------------------------- */

#define LM_CHUNK_T 64     /* time steps per encoder call at inference */
#define LM_MAX_B 64       /* rows per encoder call at inference */
#define LM_LOGIT_ROWS 256 /* rows of logits computed at once */
#define LM_MAX_SPAN 4     /* pieces in a proposed fill answer */
#define LM_MAX_GLUE 4     /* pieces of the text glued after a blank that a proposal may absorb */
#define LM_FILL_KEEP 24   /* proposals kept from each of the two fill searches */
#define LM_FILL_JOINT 24  /* one-piece fill proposals that fit both sides (joint_proposals) */
#define LM_BEAM 16        /* beam width of the searches */

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

/* A new inference context for lm (nlprnn_lm_ctx_create without the error record), NULL when lm is
 * NULL or out of memory. */
nlprnn_lm_ctx *nr_lm_ctx_new(const nlprnn_lm *lm);

/* lp[b] = sum_{t>=1} log p(seqs[b][t] | seqs[b][<t]) for B <= LM_MAX_B sequences of lens[b] >= 2
 * pieces (the first is the context start, usually <bos>). init (optional): a state (L,1,H) h then
 * c (2*L*H floats) that every row starts from instead of zeros. */
int nr_lm_score_batch(nlprnn_lm_ctx *ctx, int dir, const int32_t *const *seqs, const int *lens,
                      int B, const float *init, double *lp, nlprnn_error *err);
/* Any number of sequences in groups of LM_MAX_B, the longest shared prefix run once (lp leaves out
 * its constant log-probabilities). */
int nr_lm_score_many(nlprnn_lm_ctx *ctx, int dir, const int32_t *const *seqs, const int *lens,
                     int n, double *lp, nlprnn_error *err);
/* Run ids[0..n) through direction dir from a zero state: the states (L,1,H) end in ctx->s[0..1],
 * logp (V) receives the log-softmax after the last piece. */
int nr_lm_run_prefix(nlprnn_lm_ctx *ctx, int dir, const int32_t *ids, int n, float *logp,
                     nlprnn_error *err);
/* One step of B <= LM_MAX_B rows: inputs ids (B), states ctx->s[0], s[1] (L,B,H) are replaced by
 * the new states; logp (B,V) receives the log-softmax of each row. */
int nr_lm_step_rows(nlprnn_lm_ctx *ctx, int dir, const int *ids, int B, float *logp,
                    nlprnn_error *err);
/* States (L,Bold,H) in ctx->s[0..1] -> (L,Bnew,H) with row j = old row src[j]. */
void nr_lm_reorder_states(nlprnn_lm_ctx *ctx, const int *src, int Bold, int Bnew);
/* Row 0 of the states (L,1,H) copied to rows 0..B-1. */
void nr_lm_broadcast_state(nlprnn_lm_ctx *ctx, int B);

/* Growable int32 vector. */
typedef struct ivec {
    int32_t *v;
    size_t n, cap;
} ivec;

int nr_lm_ivec_push(ivec *a, int32_t x);
/* <bos> ids <eos> of text for direction dir (the backward model reads the ids reversed) into a
 * new array *out (n pieces). */
int nr_lm_encode_dir(nlprnn_lm_ctx *ctx, const char *text, size_t len, int dir, int32_t **out,
                     int *n, nlprnn_error *err);
/* NLPRNN_E_NUMERIC for a score or probability that is NaN or infinite ("the language model gives
 * a non-finite <what>"): finite weights so large that the arithmetic overflows. */
int nr_lm_not_finite(nlprnn_error *err, const char *what);
/* NLPRNN_OK when lm has direction dir, else the error saying why. */
int nr_lm_need_dir(const nlprnn_lm *lm, int dir, nlprnn_error *err);
/* Code points in s[0..n) (counts the bytes that do not continue a sequence). */
long long nr_lm_utf8_chars(const char *s, size_t n);
/* Floats in the block of cfg; *enc_off, *out_off: where the encoder and the dense head start. */
size_t nr_lm_layout(const nr_lm_cfg *cfg, size_t *enc_off, size_t *out_off);

#endif

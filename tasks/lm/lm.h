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
 */
#ifndef NR_MODELS_LM_H
#define NR_MODELS_LM_H

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

#endif

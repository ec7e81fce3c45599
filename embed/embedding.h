/* embed/embedding.h: the embedding table (internal, not installed).
 *
 *   table (V,D) in the caller's flat parameter block; forward out[n] = table[ids[n]].
 *   A padding id (or -1 for none) has a row that is zero at init, is never updated by backward
 *   (its gradient stays 0) and always looks up as zeros.
 *   Backward is sparse: only the rows of the ids seen get gradient (+=); nr_embedding_touched_rows
 *   lists them so an optimizer can update only those rows (nr_optim_step_rows).
 *   Pretrained vectors: the word2vec/GloVe/fastText text format (.vec): an optional header line
 *   "count dim", then "token v1 v2 ... vD" per line. Tokens are matched to ids by a caller
 *   callback or a piece list (no tokenizer dependency); unmatched table rows keep their values.
 *
 * The table is read-only in forward and may be shared by threads.
 */
#ifndef NR_EMBED_EMBEDDING_H
#define NR_EMBED_EMBEDDING_H

#include <stddef.h>

#include "common/common.h"

typedef struct nr_embedding {
    int vocab;      /* V */
    int dim;        /* D */
    int padding_id; /* -1 = none */
    float *table;   /* (V,D), not owned */
} nr_embedding;

size_t nr_embedding_param_count(int vocab, int dim); /* V*D */
int nr_embedding_bind(nr_embedding *e, int vocab, int dim, int padding_id, float *params,
                      nlprnn_error *err);
/* table ~ U(-scale, scale) (scale <= 0: 0.05, Keras's default), padding row = 0. */
void nr_embedding_init(const nr_embedding *e, float scale, nr_rng *rng);

/* out (n,D) = table[ids] (n = T*B for time-major ids (T,B)). An id of padding_id gives zeros;
 * any id outside [0,V) gives NLPRNN_E_INVALID_ARG naming its position. */
int nr_embedding_forward(const nr_embedding *e, float *out, const int *ids, size_t n,
                         nlprnn_error *err);
/* dtable (V,D) += scatter of dout (n,D) by ids; padding ids and ids outside [0,V) are skipped. */
void nr_embedding_backward(const nr_embedding *e, float *dtable, const float *dout, const int *ids,
                           size_t n);
/* Sorted distinct ids of ids (n) that are in [0,V) and not padding, written to rows (capacity n);
 * returns how many. seen (V bytes) is caller scratch, all 0 on entry and on return. */
size_t nr_embedding_touched_rows(int *rows, const int *ids, size_t n, const nr_embedding *e,
                                 unsigned char *seen);

/* Maps a token (len bytes, not NUL-terminated) to its id, or -1 if not in the vocabulary. */
typedef int (*nr_token_lookup_fn)(void *ctx, const char *token, size_t len);

/* Read a .vec text file and copy every vector whose token maps to an id into the table.
 * The vector dimension must equal D. *n_matched (optional) = table rows filled. Errors name the
 * file, line and byte offset (bad number, wrong dimension, invalid line). */
int nr_embedding_load_vec(const nr_embedding *e, const char *path, nr_token_lookup_fn lookup,
                          void *ctx, size_t *n_matched, nlprnn_error *err);
/* The same with the vocabulary as a piece list: pieces[id] is the token of id (n_pieces <= V). */
int nr_embedding_load_vec_pieces(const nr_embedding *e, const char *path,
                                 const char *const *pieces, int n_pieces, size_t *n_matched,
                                 nlprnn_error *err);
/* Write the table as a .vec text file, atomically: "V D", then "piece v1 ... vD" per row in id
 * order (pieces[id] is the token of row id), values with 9 significant digits, which read back
 * as the same floats. A piece that is empty or holds a space, tab, CR or LF (the format's
 * separators) is NLPRNN_E_INVALID_ARG naming its id. */
int nr_embedding_save_vec(const nr_embedding *e, const char *path, const char *const *pieces,
                          nlprnn_error *err);

#endif

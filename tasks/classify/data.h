/* tasks/classify/data.h: the classifier training's data (internal, not installed): the
 * labelled examples read from the training and validation files (one process, or each MPI
 * rank's shard of them), tokenized into one id array, and the soft targets of distillation.
 *
 *   file(s) --nr_clf_data_load / _shards--> nr_dataset (texts, labels, line numbers)
 *           --nr_clf_tokset_make--> nr_clf_tokset (ids, offsets, lengths, labels)
 *   soft-column --nr_clf_softset_load--> nr_clf_softset (line number -> C probabilities)
 *
 * Used by tasks/classify/train.c (the training task). Every function returns NLPRNN_OK or an
 * error code with err set (file:line: byte where a record is at fault).
 */
#ifndef NR_TASKS_CLASSIFY_DATA_H
#define NR_TASKS_CLASSIFY_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "corpora/dataset.h"
#include "nlprnn.h"
#include "train/comm.h"

/* ---- tokenized examples ---- */
typedef struct nr_clf_tokset {
    size_t n;
    int32_t *ids;    /* concatenated */
    size_t *off;     /* (n) */
    int *len;        /* (n) tokens kept (<= max_tokens) */
    size_t *lenz;    /* (n) the same as size_t for nr_batches_make */
    int *label;      /* (n) */
    size_t *src;     /* (n) index of the example in the dataset it was made from */
    long long tokens;
} nr_clf_tokset;

/* Tokenize the labelled examples of ds (name: the file, for messages); documents with no token
 * or no label are dropped and counted in *dropped; each keeps at most max_tokens ids. */
int nr_clf_tokset_make(nr_clf_tokset *t, const nr_dataset *ds, const nlprnn_tokenizer *tok, int max_tokens,
                       const char *name, long long *dropped, nlprnn_error *err);
void nr_clf_tokset_free(nr_clf_tokset *t);

/* ---- soft targets (distillation; the format is described in data.c) ---- */
typedef struct nr_clf_softset {
    size_t n;          /* rows with a soft target, in file order (lineno increasing) */
    long long *lineno; /* (n) */
    float *q;          /* (n, C) */
} nr_clf_softset;

/* Second pass over the training file (the same reader options o0 as the examples): the rows'
 * soft targets of column `column`, C = labels->n probabilities each, sharpened or flattened at
 * `temperature`. */
int nr_clf_softset_load(nr_clf_softset *s, const char *path, const nr_dataset_load_opts *o0,
                        const char *column, const nr_label_map *labels, double temperature,
                        nlprnn_error *err);
/* The soft-target row of the example that starts at line lineno, or -1. */
long long nr_clf_softset_find(const nr_clf_softset *s, long long lineno);
void nr_clf_softset_free(nr_clf_softset *s);

/* ---- reading the examples ---- */
/* One process: the training file into dtr (at least 2 classes), the validation file into dva,
 * or without one the seeded split of a fraction `valid` of dtr (nr_dataset_split, seed mixed
 * with 0x5EED), or nothing. */
int nr_clf_data_load(const nr_dataset_load_opts *opts, double valid, long long seed, const char *train_path,
                     const char *valid_path, nr_dataset *dtr, nr_dataset *dva, nlprnn_error *err);
/* N > 1 ranks: the same examples in the same global order, each rank keeping its shard (the
 * comment above nr_clf_data_load_shards in data.c). */
int nr_clf_data_load_shards(const nr_dataset_load_opts *opts, double valid, long long seed,
                            const nr_comm *D, const char *train_path, const char *valid_path,
                            nr_dataset *dtr, nr_dataset *dva, nlprnn_error *err);

#endif

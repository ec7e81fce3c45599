/* corpora/dataset.h: labelled texts in memory, label maps, shuffling, splitting and batching
 * (internal, not installed).
 *
 *   corpus file --nr_dataset_load--> nr_dataset (texts + label ids, one arena)
 *        nr_dataset_shuffle / nr_dataset_split (seeded, deterministic)
 *        per-example lengths (e.g. token counts) --nr_batches_make--> batches bucketed by length
 *
 * Labels are kept as strings (what the file says: "0", "pos", "__label__x" without its prefix)
 * and mapped to class ids 0..n-1 by an nr_label_map. A map built from training data is sorted
 * (numerically when every name is an integer, else bytewise) so the ids do not depend on the
 * order of the rows; it is saved inside the classifier's model file (nr_label_map_save, tasks/classify/) and, at evaluation
 * time, a label that is not in the saved map is an error naming file:line.
 *
 * Randomness comes only from the nr_rng passed in: the same seed gives the same order on every
 * machine. Passing rng = NULL means "no shuffling" (documented per function), never a hidden RNG.
 *
 * Thread rule: a dataset is plain data; read it from any number of threads, modify it from one.
 */
#ifndef NR_CORPORA_DATASET_H
#define NR_CORPORA_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "corpora/reader.h"

/* ---- label maps --------------------------------------------------------------------------- */

#define NR_MAX_LABELS 65536      /* more distinct labels than this is NLPRNN_E_LIMIT */
#define NR_MAX_LABEL_BYTES 1024  /* a longer label name is NLPRNN_E_DATA */

typedef struct nr_label_map {
    char **names;      /* (n) NUL-terminated names, id = index */
    int n;
    int cap;
    uint32_t *slots;   /* open-addressing hash: id + 1, 0 = empty; (nslots) */
    size_t nslots;
} nr_label_map;

void nr_label_map_init(nr_label_map *m);
void nr_label_map_free(nr_label_map *m);
/* Id of name[0..len), or -1 when absent. */
int nr_label_map_find(const nr_label_map *m, const char *name, size_t len);
/* Id of name, adding it if absent; negative status on error: NLPRNN_E_DATA for a name that
 * nr_label_check refuses (message without a file name: callers add theirs), NLPRNN_E_LIMIT for
 * too many labels, NLPRNN_E_NOMEM. */
int nr_label_map_add(nr_label_map *m, const char *name, size_t len, nlprnn_error *err);
/* Is name (len bytes) a usable label? Labels are printed as a column of TSV output (classify,
 * eval --format tsv), so a label is 1..NR_MAX_LABEL_BYTES bytes of valid UTF-8 without control
 * characters (U+0000-U+001F: TAB, line feed, carriage return, ...; U+007F). Returns NLPRNN_OK,
 * or NLPRNN_E_DATA with a message saying what is wrong and where (no file name). */
int nr_label_check(const char *name, size_t len, nlprnn_error *err);
/* Name of an id (NULL when out of range). */
const char *nr_label_map_name(const nr_label_map *m, int id);
/* Sort the names (numeric order when all are integers, else bytewise) and renumber. If remap is
 * not NULL it receives old id -> new id (m->n entries). */
int nr_label_map_sort(nr_label_map *m, int *remap, nlprnn_error *err);
int nr_label_map_copy(nr_label_map *dst, const nr_label_map *src, nlprnn_error *err);

/* Display names for the labels of `labels` (a classifier's "label names": the data say "0" and
 * "1", the model prints "negative" and "positive"). spec is either
 *   "DATA=NAME,DATA=NAME,..."  names for some labels (the others keep their own), or
 *   "NAME,NAME,..."            one name per class, in class order (labels->n of them);
 * items are separated by newlines instead of commas when spec holds a newline. names is
 * initialized here: labels->n names by class id, or empty (n = 0) when spec is NULL or "" or
 * names every class as its data label. A name must be a usable label (nr_label_check), the names
 * distinct, and no name may be another class's data label (an evaluation file may use either).
 * Errors: NLPRNN_E_INVALID_ARG saying which item is wrong (message without a file name). */
int nr_label_names_parse(const nr_label_map *labels, const char *spec, nr_label_map *names,
                         nlprnn_error *err);
/* names (as nr_label_names_parse gives them) back to the positional spec "NAME\nNAME..."; a
 * malloc'ed string ("" when names is empty), NULL when out of memory. */
char *nr_label_names_join(const nr_label_map *names);

/* ---- datasets ----------------------------------------------------------------------------- */

typedef struct nr_dataset_block nr_dataset_block; /* arena block (private) */

typedef struct nr_dataset {
    size_t n;             /* examples */
    size_t cap;
    char **text;          /* (n) NUL-terminated UTF-8, in the arena */
    size_t *len;          /* (n) bytes, NUL excluded */
    int32_t *label;       /* (n) class ids, -1 when the corpus has no labels */
    long long *lineno;    /* (n) source line, for messages */
    nr_label_map labels;  /* id -> name */
    int has_labels;
    nr_dataset_block *arena;
} nr_dataset;

void nr_dataset_init(nr_dataset *ds);
void nr_dataset_free(nr_dataset *ds);
/* Append one example (text copied). label: a class id of ds->labels, or -1. */
int nr_dataset_add(nr_dataset *ds, const char *text, size_t len, int32_t label, long long lineno,
                   nlprnn_error *err);

/* Options for loading; zero-initialize, then set what you need. */
typedef struct nr_dataset_load_opts {
    nr_record_opts rec;               /* how to read the file (nr_record_opts_default first) */
    const nr_label_map *fixed_labels; /* NULL: build the map from the file, then sort it.
                                         Else: use this map (copied into ds->labels); a label
                                         not in it is NLPRNN_E_DATA naming file:line (or a
                                         skipped bad row with rec.skip_bad) */
    const nr_label_map *fixed_names;  /* with fixed_labels, or NULL: the same classes' display
                                         names; a label not in fixed_labels that is one of these
                                         is that class */
    size_t max_examples;              /* 0 = no limit; else stop after this many */
} nr_dataset_load_opts;

/* Read a whole corpus file into ds (initialized here). stats (may be NULL) receives the reader's
 * counts (skipped empty and bad rows, multi-label lines). On error ds is left empty. */
int nr_dataset_load(nr_dataset *ds, const char *path, const nr_dataset_load_opts *opts,
                    nr_record_stats *stats, nlprnn_error *err);
/* The streaming form, for corpora read once (evaluation): append records of rr to ds (whose
 * label map is the fixed map when opts->fixed_labels is set, else grown as labels appear) until
 * the input ends (returns 0) or ds holds opts->max_examples examples or about max_bytes bytes of
 * text (0: no limit) (returns 1: empty ds and call again for the next part). Unknown labels
 * skipped under opts->rec.skip_bad are added to *label_skips. Negative on error. */
int nr_dataset_read_part(nr_dataset *ds, nr_record_reader *rr, const nr_dataset_load_opts *opts,
                         size_t max_bytes, long long *label_skips, nlprnn_error *err);
/* The same from memory (used by tests and fuzzers). */
int nr_dataset_load_mem(nr_dataset *ds, const char *name, const void *data, size_t n,
                        const nr_dataset_load_opts *opts, nr_record_stats *stats,
                        nlprnn_error *err);

/* Shuffle the examples in place (Fisher-Yates driven by rng; rng must not be NULL). */
void nr_dataset_shuffle(nr_dataset *ds, nr_rng *rng);
/* Move the last round(n * valid_fraction) examples into valid (initialized here, same label
 * map), after shuffling ds with rng when rng is not NULL. valid_fraction in [0, 1).
 * With 0 < valid_fraction and n >= 2, both parts get at least one example. */
int nr_dataset_split(nr_dataset *ds, double valid_fraction, nr_rng *rng, nr_dataset *valid,
                     nlprnn_error *err);
/* Per-class counts: counts has ds->labels.n entries (examples with label -1 are not counted). */
void nr_dataset_class_counts(const nr_dataset *ds, long long *counts);

/* ---- batches bucketed by length ----------------------------------------------------------- */

/* Batches over examples 0..n-1: batch b holds idx[start[b] .. start[b+1]). */
typedef struct nr_batches {
    size_t n_batches;
    size_t *start;  /* (n_batches + 1) */
    size_t *idx;    /* (n) example indices, batch after batch */
} nr_batches;

/* Make batches of batch_size examples (the last may be smaller) with similar lengths:
 *   1. order the examples randomly (rng), or keep 0..n-1 when rng is NULL;
 *   2. cut that order into chunks of chunk_batches * batch_size examples and sort each chunk by
 *      lengths[] (stable: equal lengths keep their random order);
 *   3. cut each chunk into batches, then shuffle the order of all batches (rng; not when NULL).
 * chunk_batches = 0 sorts everything as one chunk; 1 gives no bucketing at all.
 * Deterministic for a given seed. b is initialized here; free it with nr_batches_free. */
int nr_batches_make(nr_batches *b, const size_t *lengths, size_t n, size_t batch_size,
                    size_t chunk_batches, nr_rng *rng, nlprnn_error *err);
void nr_batches_free(nr_batches *b);

/* One epoch's batches of the tagger and the translator (tasks/tag, tasks/translate), in caller
 * arrays (allocated once, reused every epoch):
 *   1. order = idx[0..n) shuffled by rng;
 *   2. each block of `block` examples of that order sorted longest first (len(data, i) of example
 *      i; ties: the lower index first);
 *   3. cut into batches of batch_size (the last may be smaller), whose order is shuffled by rng
 *      (the same stream, after step 1); order is rewritten batch after batch, bstart[k] the
 *      start of batch k, bstart[batches] = n.
 * Unlike nr_batches_make, batches may straddle a block boundary (the cut runs over the whole
 * sorted order). Returns the number of batches, or -1 when out of memory. */
/* Sort idx[0..n) longest first by len(data, i) (ties: the lower index first), in place; step 2
 * of nr_batches_by_length on one block. 0, or -1 when out of memory. */
int nr_sort_by_length(size_t *idx, size_t n, size_t (*len)(const void *data, size_t i), const void *data);
long long nr_batches_by_length(const size_t *idx, size_t n, size_t batch_size, size_t block,
                               size_t (*len)(const void *data, size_t i), const void *data,
                               nr_rng *rng, size_t *order, size_t *bstart);

#endif

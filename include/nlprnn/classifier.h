/* nlprnn/classifier.h: many-to-one text classification (sentiment and the like).
 *
 *   text -> tokenizer -> ids (at most max_tokens, the rest is cut off) -> embedding (V,E)
 *        -> encoder: SimpleRNN | LSTM | GRU, L layers, optionally bidirectional
 *        -> pooling over time: last | mean | max | concat (the three side by side)
 *        -> dropout (training) -> dense (C) -> softmax
 *
 * A model file (kind "CLSF", see docs/classify.md and docs/formats.md) holds everything: the
 * configuration, the tokenizer (normalization settings included), the label names and the
 * weights (float32, float16 or int8). Shipped models are found by name ("ko", "en").
 *
 * Thread rule: an nlprnn_classifier is immutable after loading and may be shared by any number
 * of threads (a model stored as float16 makes its float32 embedding once, the first time it is
 * exported, under its own lock). An nlprnn_classifier_ctx holds one thread's scratch (tokenizer
 * encoding, activations); give each thread its own. Training parameters belong to one thread at
 * a time.
 */
#ifndef NLPRNN_CLASSIFIER_H
#define NLPRNN_CLASSIFIER_H

#include "nlprnn/base.h"
#include "nlprnn/tokenizer.h"
#include "nlprnn/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Documents longer than this many tokens are cut to their first NLPRNN_CLASSIFY_MAX_TOKENS
 *  tokens by default (a model may store a smaller limit: nlprnn_classifier_max_tokens). */
#define NLPRNN_CLASSIFY_MAX_TOKENS 512

/* ---- loading ------------------------------------------------------------------------------ */

/** A loaded classifier: immutable, shareable between threads. */
typedef struct nlprnn_classifier nlprnn_classifier;

/** Load a classifier from a path, or, when `path_or_name` is a bare name without '/' or '.'
 *  (like "ko" or "en"), from the shipped model of that name (nlprnn_model_find in
 *  nlprnn/modelfile.h) — never from a file or folder of that name in the current folder (write
 *  "./NAME" for such a file). A file that is not an nlprnn model, of another kind, another format
 *  version, truncated or corrupt is refused (NLPRNN_E_MAGIC, _UNSUPPORTED, _VERSION, _TRUNCATED,
 *  _CHECKSUM, _FORMAT) with a message naming the file and what is wrong. */
NLPRNN_API int nlprnn_classifier_load(const char *path_or_name, nlprnn_classifier **out,
                                      nlprnn_error *err);
/** Free a classifier. NULL is allowed. */
NLPRNN_API void nlprnn_classifier_free(nlprnn_classifier *m);

/** Number of classes C. */
NLPRNN_API int nlprnn_classifier_num_classes(const nlprnn_classifier *m);
/** Name of class i, as outputs print it: its display name when the model file has label names
 *  ("negative", "positive": `nlprnn train --label-names`, nlprnn_classifier_relabel), else its label as
 *  in the training data ("0", "1", "pos" ...). NULL when out of range. Lives as long as m. */
NLPRNN_API const char *nlprnn_classifier_label(const nlprnn_classifier *m, int i);
/** Label of class i as in the training data ("0", "1"), whatever its display name; NULL when out
 *  of range. Evaluation files may use either (nlprnn_classifier_evaluate). Lives as long as m. */
NLPRNN_API const char *nlprnn_classifier_data_label(const nlprnn_classifier *m, int i);
/** Copy the classifier model file path_or_name to out_path (atomically; it may be the same
 *  file) with new display names for its labels; every other byte of content (configuration,
 *  tokenizer, weights) is kept, so the copy classifies exactly as the original. label_names is
 *  "DATA=NAME,DATA=NAME,..." (e.g. "0=negative,1=positive": the classes not named keep their
 *  label) or one NAME per class in class order ("negative,positive"); NULL or "" removes the
 *  names. Names are 1..1024 bytes of UTF-8 without control characters, distinct, and none may
 *  be another class's data label. Errors: NLPRNN_E_INVALID_ARG for a bad label_names (the message
 *  says which item), those of nlprnn_classifier_load for the file, NLPRNN_E_IO writing. */
NLPRNN_API int nlprnn_classifier_relabel(const char *path_or_name, const char *label_names,
                                         const char *out_path, nlprnn_error *err);
/** Documents are cut to this many tokens. */
NLPRNN_API int nlprnn_classifier_max_tokens(const nlprnn_classifier *m);
/** The model's tokenizer (owned by the model). */
NLPRNN_API const nlprnn_tokenizer *nlprnn_classifier_tokenizer(const nlprnn_classifier *m);
/** The path the model was loaded from. */
NLPRNN_API const char *nlprnn_classifier_path(const nlprnn_classifier *m);
/** One line describing the architecture, e.g.
 *  "cell=lstm layers=1 bidirectional=1 embed=128 hidden=128 pool=max classes=2 vocab=16000
 *   params=2410370 storage=f16". Lives as long as m. */
NLPRNN_API const char *nlprnn_classifier_summary(const nlprnn_classifier *m);

/* ---- classifying ---------------------------------------------------------------------------- */

/** Per-thread scratch for classifying with one model. */
typedef struct nlprnn_classifier_ctx nlprnn_classifier_ctx;

/** A context for m. `threads` 1..16: nlprnn_classify_batch spreads its batches of 64 documents
 *  over that many threads (each with its own scratch in the context); 0: as many as the cores
 *  this process may use (its CPU affinity), at most 16. Results do not depend on it. The threads
 *  are the library's own pool (never more running at once than there are cores); the BLAS runs
 *  on the calling thread (see docs/api.md "Threads"). The model must outlive the context.
 *  NLPRNN_E_INVALID_ARG when threads is out of range, NLPRNN_E_NOMEM when out of memory. */
NLPRNN_API int nlprnn_classifier_ctx_create(const nlprnn_classifier *m, int threads,
                                            nlprnn_classifier_ctx **out, nlprnn_error *err);
/** Free a context. NULL is allowed. */
NLPRNN_API void nlprnn_classifier_ctx_free(nlprnn_classifier_ctx *ctx);

/** Classify one document text[0..len) (UTF-8). probs receives C class probabilities (summing
 *  to 1). *n_tokens (optional) receives the token count before cutting; a count above
 *  nlprnn_classifier_max_tokens means the document was cut. Errors: NLPRNN_E_UTF8 (err->offset is
 *  the byte offset of the first bad byte, err->line its line), NLPRNN_E_EMPTY (no token: empty
 *  or whitespace-only text). */
NLPRNN_API int nlprnn_classify(nlprnn_classifier_ctx *ctx, const char *text, size_t len,
                               float *probs, size_t *n_tokens, nlprnn_error *err);

/** Classify n documents at once (faster: they are batched by length). probs (n,C) row-major.
 *  status (n) receives each document's own status (0, NLPRNN_E_UTF8, NLPRNN_E_EMPTY); a failed
 *  document's row of probs is all zeros; a NULL text is that document's NLPRNN_E_INVALID_ARG
 *  (NLPRNN_E_EMPTY when lens gives it length 0). lens may be NULL for NUL-terminated texts. The
 *  return
 *  value is 0 unless the whole call failed (out of memory, bad argument). */
NLPRNN_API int nlprnn_classify_batch(nlprnn_classifier_ctx *ctx, const char *const *texts,
                                     const size_t *lens, size_t n, float *probs, int *status,
                                     nlprnn_error *err);

/** nlprnn_classify_batch that also says where each failed document is bad. doc_errs (n,
 *  optional: NULL gives exactly nlprnn_classify_batch) receives one error record per document:
 *  for a document that fails with NLPRNN_E_UTF8 or NLPRNN_E_EMPTY, the record nlprnn_classify
 *  gives for that text (code, err->offset the byte offset in texts[i] of the first NUL byte or
 *  invalid UTF-8 byte, err->line its 1-based line in the text, the message); for a NULL text,
 *  NLPRNN_E_INVALID_ARG naming the document; for a classified document, code 0, line and
 *  offset -1 and an empty message. doc_errs[i].code is status[i]. nlprnn_error's layout is
 *  fixed, so the array's stride never changes. probs, status and the return value as
 *  nlprnn_classify_batch, the same bits; when the whole call fails, status and doc_errs hold
 *  nothing to read. */
NLPRNN_API int nlprnn_classify_batch_errors(nlprnn_classifier_ctx *ctx, const char *const *texts,
                                            const size_t *lens, size_t n, float *probs, int *status,
                                            nlprnn_error *doc_errs, nlprnn_error *err);

/* ---- evaluating ------------------------------------------------------------------------------ */

/** What nlprnn_classifier_evaluate finds. The caller sets `size` = sizeof(nlprnn_classifier_eval)
 *  before the call; the library fills the fields that size reaches (fields may be added at the
 *  end). */
typedef struct nlprnn_classifier_eval {
    size_t size;          /**< set by the caller: sizeof(nlprnn_classifier_eval) */
    long long documents;  /**< documents classified */
    long long skipped;    /**< documents that could not be classified (empty, invalid UTF-8,
                               skipped rows) */
    int classes;          /**< C */
    long long *confusion; /**< (C*C): row = true class, column = predicted class; free it with
                               nlprnn_free */
    double accuracy;      /**< correct / documents */
    double log_loss;      /**< mean -log p(true class), probabilities clamped at 1e-7 */
    double macro_f1;      /**< mean over the classes of F1 = 2PR / (P + R) (0 where undefined) */
} nlprnn_classifier_eval;

/** Evaluate c on a labelled corpus (TSV/CSV with a header, or fastText lines; ".gz" is fine; a
 *  file not named .tsv/.csv/.ft whose first line starts with "__label__" is read as fastText).
 *  A label that the classifier does not know is NLPRNN_E_DATA naming file:line. `threads` as for
 *  nlprnn_classifier_ctx_create; text_column / label_column may be NULL for the defaults
 *  ("document" (or "text", "sentence", "review") and "label"). A file that gives no document to
 *  evaluate (no labels, e.g. plain text lines; only empty texts; no text that gives a token) is
 *  NLPRNN_E_DATA saying which, never a result over zero documents. */
NLPRNN_API int nlprnn_classifier_evaluate(const nlprnn_classifier *c, const char *path,
                                          const char *text_column, const char *label_column,
                                          int threads, nlprnn_classifier_eval *res,
                                          nlprnn_error *err);

/* ---- training -------------------------------------------------------------------------------- */

/** Training parameters (opaque), set by name (so new ones never break the ABI). Each parameter,
 *  its default, range and meaning is listed by `nlprnn train --help` and docs/cli.md, both made
 *  from the one table nlprnn_classifier_param_info reads. Notes on some of them:
 *    tokenizer     "" trains a BPE tokenizer of `vocab` ids on the training texts
 *    init-from     a classifier (CLSF) or language model (LANG) whose tokenizer, embedding and
 *                  encoder to start from (the same sizes are required)
 *    lr-schedule   linear and cosine decay to lr/20; stlr: slanted triangular (ULMFiT)
 *    pool          concat: the last state, the maximum and the mean side by side (3x features)
 *    lr-layer-decay, unfreeze  ULMFiT's discriminative rates and gradual unfreezing over the
 *                  groups embedding, encoder layers, head (docs/classify.md)
 *    threads       data-parallel parts of each batch, each on a thread of the library's pool;
 *                  0 = the cores this process may use (at most 16; on resume: the checkpoint's).
 *                  The result depends on seed and threads (recorded in the model as
 *                  train.threads), not on how many cores run the parts
 *    patience      the best epoch's weights are kept
 *    text-column, label-column  "" = "document" (or "text", "sentence", "review") and "label"
 *    label-names   labels not named keep their own; nlprnn_classifier_label gives them
 *    checkpoint    "" = "<out>.ckpt"
 *    dist-check-every  over MPI (nlprnn/dist.h), where "batch" is per rank
 */
typedef struct nlprnn_classifier_params nlprnn_classifier_params;

/** New training parameters with every default. NLPRNN_E_NOMEM when out of memory. */
NLPRNN_API int nlprnn_classifier_params_create(nlprnn_classifier_params **out, nlprnn_error *err);
/** Free training parameters. NULL is allowed. */
NLPRNN_API void nlprnn_classifier_params_free(nlprnn_classifier_params *p);
/** Set one parameter from text ("hidden", "64"). Unknown names and bad values fail with
 *  NLPRNN_E_INVALID_ARG naming them. */
NLPRNN_API int nlprnn_classifier_params_set(nlprnn_classifier_params *p, const char *name,
                                            const char *value, nlprnn_error *err);
/** The current value as text (into buf, cap bytes), or NLPRNN_E_INVALID_ARG. */
NLPRNN_API int nlprnn_classifier_params_get(const nlprnn_classifier_params *p, const char *name,
                                            char *buf, size_t cap, nlprnn_error *err);
/** Help for parameter i (0..): its name, default, accepted range and one line of help (pointers
 *  into static storage; each may be NULL; range: cap bytes, or NULL); NLPRNN_E_INVALID_ARG past
 *  the last. `nlprnn train --help` lists the parameters so. */
NLPRNN_API int nlprnn_classifier_param_info(int i, const char **name, const char **def,
                                            const char **help, char *range, size_t cap,
                                            nlprnn_error *err);

/** What the progress callback sees. The library allocates it and sets `size`; fields may be
 *  added at the end (read one only when NLPRNN_HAS_FIELD says `size` reaches it). */
typedef struct nlprnn_classifier_progress {
    size_t size;             /**< set by the library: its sizeof(nlprnn_classifier_progress) */
    int phase;               /**< 0 = preparing (message set), 1 = training step, 2 = epoch done */
    const char *message;     /**< phase 0: what is being done ("training the tokenizer"), or a
                                  warning that begins with "warning:" (e.g. a smaller vocabulary
                                  than asked for) */
    int epoch;               /**< 1-based epoch */
    int epochs;              /**< total epochs */
    long long batch;         /**< 1-based batch in the epoch */
    long long batches;       /**< batches per epoch */
    double loss;             /**< running mean training loss of the epoch so far */
    double accuracy;         /**< running training accuracy of the epoch so far */
    double tokens_per_sec;   /**< training speed of the epoch so far */
    double elapsed;          /**< seconds since the (re)start */
    double eta;              /**< estimated seconds left in the epoch */
    double valid_loss;       /**< phase 2: validation loss (NaN without a validation part) */
    double valid_accuracy;   /**< phase 2: validation accuracy (NaN without one) */
    int best_epoch;          /**< epoch of the best validation accuracy so far */
    int improved;            /**< phase 2: 1 when this epoch is the best so far */
} nlprnn_classifier_progress;

/** Called during training; return non-zero to stop (like the stop flag). */
typedef int (*nlprnn_classifier_progress_fn)(void *user, const nlprnn_classifier_progress *p);

/** Train a classifier on a labelled corpus file and save it to out_path (atomically).
 *  valid_path: a labelled validation file, or NULL to hold out the "valid" fraction.
 *  A checkpoint (kind "CKPT": weights, optimizer state, position, best weights) is written
 *  atomically after every epoch and when stopping. resume = 1 continues from the checkpoint:
 *  with the same data, parameters and threads the result is bit-identical to an uninterrupted
 *  run; other parameters or other data than the checkpoint's are NLPRNN_E_INVALID_ARG naming
 *  them. A loss that becomes NaN or infinite is NLPRNN_E_NUMERIC (lower lr). stop: when *stop becomes non-zero (a signal handler of the caller sets it), training
 *  saves a checkpoint after the current batch and returns NLPRNN_E_INTERRUPTED. The library
 *  installs no signal handler. */
NLPRNN_API int nlprnn_classifier_train(const nlprnn_classifier_params *p, const char *train_path,
                                       const char *valid_path, const char *out_path, int resume,
                                       const volatile int *stop,
                                       nlprnn_classifier_progress_fn progress, void *user,
                                       nlprnn_error *err);
/** nlprnn_classifier_train run as ctl says (nlprnn/train.h): its stop flag and resume replace
 *  the arguments of the same names; with a communicator of N ranks (libnlprnn-mpi) every rank
 *  calls it with the same arguments, keeps 1/N of the corpus, and "batch" is per rank. ctl NULL:
 *  no stop flag, a fresh run, this process alone. */
NLPRNN_API int nlprnn_classifier_train_ctl(const nlprnn_classifier_params *p, const char *train_path,
                                           const char *valid_path, const char *out_path,
                                           const nlprnn_train_ctl *ctl,
                                           nlprnn_classifier_progress_fn progress, void *user,
                                           nlprnn_error *err);

/* ---- deprecated (0.1 names, kept for one release: docs/api.md "Changes in 0.2") ------------ */

/** Deprecated: the old name of nlprnn_classifier. */
typedef struct nlprnn_classifier nlprnn_model NLPRNN_DEPRECATED("use nlprnn_classifier");
/** Deprecated: the old name of nlprnn_classifier_ctx. */
typedef struct nlprnn_classifier_ctx nlprnn_context NLPRNN_DEPRECATED("use nlprnn_classifier_ctx");
/** Deprecated: the old name of nlprnn_classifier_params. */
typedef struct nlprnn_classifier_params nlprnn_train_params
    NLPRNN_DEPRECATED("use nlprnn_classifier_params");
/** Deprecated: the old name of nlprnn_classifier_progress (same struct, same layout; the struct
 *  tag is now nlprnn_classifier_progress, so code that spelled `struct nlprnn_train_progress`
 *  uses a typedef name instead). */
typedef struct nlprnn_classifier_progress nlprnn_train_progress
    NLPRNN_DEPRECATED("use nlprnn_classifier_progress");
/** Deprecated: the old name of nlprnn_classifier_progress_fn. */
typedef nlprnn_classifier_progress_fn nlprnn_train_progress_fn
    NLPRNN_DEPRECATED("use nlprnn_classifier_progress_fn");

/** Deprecated: nlprnn_classifier_load. */
NLPRNN_API int nlprnn_model_load(const char *path_or_name, nlprnn_classifier **out,
                                 nlprnn_error *err) NLPRNN_DEPRECATED("use nlprnn_classifier_load");
/** Deprecated: nlprnn_classifier_free (NULL is allowed). */
NLPRNN_API void nlprnn_model_free(nlprnn_classifier *m) NLPRNN_DEPRECATED("use nlprnn_classifier_free");
/** Deprecated: nlprnn_classifier_num_classes. */
NLPRNN_API int nlprnn_model_num_classes(const nlprnn_classifier *m)
    NLPRNN_DEPRECATED("use nlprnn_classifier_num_classes");
/** Deprecated: nlprnn_classifier_label. */
NLPRNN_API const char *nlprnn_model_label(const nlprnn_classifier *m, int i)
    NLPRNN_DEPRECATED("use nlprnn_classifier_label");
/** Deprecated: nlprnn_classifier_data_label. */
NLPRNN_API const char *nlprnn_model_data_label(const nlprnn_classifier *m, int i)
    NLPRNN_DEPRECATED("use nlprnn_classifier_data_label");
/** Deprecated: nlprnn_classifier_relabel. */
NLPRNN_API int nlprnn_model_relabel(const char *path_or_name, const char *label_names,
                                    const char *out_path, nlprnn_error *err)
    NLPRNN_DEPRECATED("use nlprnn_classifier_relabel");
/** Deprecated: nlprnn_classifier_max_tokens. */
NLPRNN_API int nlprnn_model_max_tokens(const nlprnn_classifier *m)
    NLPRNN_DEPRECATED("use nlprnn_classifier_max_tokens");
/** Deprecated: nlprnn_classifier_tokenizer. */
NLPRNN_API const nlprnn_tokenizer *nlprnn_model_tokenizer(const nlprnn_classifier *m)
    NLPRNN_DEPRECATED("use nlprnn_classifier_tokenizer");
/** Deprecated: nlprnn_classifier_path. */
NLPRNN_API const char *nlprnn_model_path(const nlprnn_classifier *m)
    NLPRNN_DEPRECATED("use nlprnn_classifier_path");
/** Deprecated: nlprnn_classifier_summary. */
NLPRNN_API const char *nlprnn_model_summary(const nlprnn_classifier *m)
    NLPRNN_DEPRECATED("use nlprnn_classifier_summary");
/** Deprecated: nlprnn_classifier_ctx_create (this one gives NULL when out of memory or threads is
 *  out of range). */
NLPRNN_API nlprnn_classifier_ctx *nlprnn_context_create(const nlprnn_classifier *m, int threads)
    NLPRNN_DEPRECATED("use nlprnn_classifier_ctx_create");
/** Deprecated: nlprnn_classifier_ctx_free (NULL is allowed). */
NLPRNN_API void nlprnn_context_free(nlprnn_classifier_ctx *ctx)
    NLPRNN_DEPRECATED("use nlprnn_classifier_ctx_free");
/** Deprecated: nlprnn_classifier_evaluate, whose nlprnn_classifier_eval holds these figures. */
NLPRNN_API int nlprnn_model_evaluate(const nlprnn_classifier *m, const char *path,
                                     const char *text_column, const char *label_column,
                                     int threads, long long **confusion, long long *n_docs,
                                     long long *skipped, double *log_loss, nlprnn_error *err)
    NLPRNN_DEPRECATED("use nlprnn_classifier_evaluate");
/** Deprecated: nlprnn_classifier_params_create (this one gives NULL when out of memory). */
NLPRNN_API nlprnn_classifier_params *nlprnn_train_params_new(void)
    NLPRNN_DEPRECATED("use nlprnn_classifier_params_create");
/** Deprecated: nlprnn_classifier_params_free (NULL is allowed). */
NLPRNN_API void nlprnn_train_params_free(nlprnn_classifier_params *p)
    NLPRNN_DEPRECATED("use nlprnn_classifier_params_free");
/** Deprecated: nlprnn_classifier_params_set. */
NLPRNN_API int nlprnn_train_params_set(nlprnn_classifier_params *p, const char *name,
                                       const char *value, nlprnn_error *err)
    NLPRNN_DEPRECATED("use nlprnn_classifier_params_set");
/** Deprecated: nlprnn_classifier_params_get. */
NLPRNN_API int nlprnn_train_params_get(const nlprnn_classifier_params *p, const char *name,
                                       char *buf, size_t cap, nlprnn_error *err)
    NLPRNN_DEPRECATED("use nlprnn_classifier_params_get");

#ifdef __cplusplus
}
#endif
#endif

/* nlprnn/tagger.h: sequence tagging (one label per input unit) and Korean word spacing.
 *
 *   units -> embedding (+ hint) [+ jamo embeddings] [; a convolution's features] -> stacked
 *   bidirectional GRU/LSTM/SimpleRNN (parameter cell) -> a softmax per unit -> labels
 * (the bracketed parts only with the parameters jamo=1 and conv=K: docs/spacing.md, "Jamo
 * features" and "Convolution in front"; tasks/tag/tagger.h has the equations)
 *
 * A tagger is trained from one of two kinds of data (parameter "format"):
 *   tagged   `token<TAB>label` lines, a blank line between sentences (a part-of-speech or
 *            named-entity tagger): a unit is a token, the label set comes from the data.
 *   spacing  well-spaced text, one sentence (or paragraph) a line: a unit is one character (Unicode
 *            code point after NFC normalisation) with the white space removed, and its label says
 *            whether a space follows it. Training can keep part of the true spaces as hints (and
 *            add wrong ones), so the model also fixes partly spaced text.
 * docs/spacing.md describes both, the file format and the measured accuracy.
 *
 *   nlprnn_tagger *t;  nlprnn_tagger_ctx *ctx;
 *   nlprnn_tagger_load("ko-space", &t, &err);            // the shipped Korean spacing model
 *   nlprnn_tagger_ctx_create(t, 1, &ctx, &err);          // one per thread
 *   nlprnn_space(ctx, "오늘은날씨가정말좋습니다", len, 0, &err);
 *   const char *out = nlprnn_space_text(ctx, 0, &n);     // "오늘은 날씨가 정말 좋습니다"
 *
 * Thread rule: a trained or loaded nlprnn_tagger is immutable and may be shared by threads; a
 * context belongs to one thread at a time (its results stay valid until its next call).
 * Parameter objects belong to one thread at a time.
 */
#ifndef NLPRNN_TAGGER_H
#define NLPRNN_TAGGER_H

#include <stddef.h>

#include "nlprnn/base.h"
#include "nlprnn/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- training parameters ------------------------------------------------------------------ */

/** Training parameters, set by name (`nlprnn space-train --help` lists them with their
 *  defaults and ranges; the table in tasks/tag/train.c is the one place they are defined):
 *  format (tagged | spacing), cell, embed, hidden, layers, dropout, max-len, min-count,
 *  max-vocab, epochs, batch, lr, min-lr, clip, ema, valid, time-limit, patience, keep, threads,
 *  store, hints, drop, noise, jamo, conv, conv-channels, seed, checkpoint, checkpoint-every,
 *  init-from. */
typedef struct nlprnn_tagger_params nlprnn_tagger_params;

/** New parameters with the defaults (NLPRNN_E_NOMEM when out of memory). */
NLPRNN_API int nlprnn_tagger_params_create(nlprnn_tagger_params **out, nlprnn_error *err);
/** Free parameters (NULL is allowed). */
NLPRNN_API void nlprnn_tagger_params_free(nlprnn_tagger_params *p);
/** Set one parameter from text ("hidden", "128"); unknown names and values out of range are
 *  NLPRNN_E_INVALID_ARG naming them. */
NLPRNN_API int nlprnn_tagger_params_set(nlprnn_tagger_params *p, const char *name,
                                        const char *value, nlprnn_error *err);
/** The value of a parameter as text into buf (cap bytes), or NLPRNN_E_INVALID_ARG. */
NLPRNN_API int nlprnn_tagger_params_get(const nlprnn_tagger_params *p, const char *name, char *buf,
                                        size_t cap, nlprnn_error *err);
/** Help for parameter i (0..): its name, default, accepted range and one line of help (pointers
 *  into static storage); NLPRNN_E_INVALID_ARG past the last. */
NLPRNN_API int nlprnn_tagger_param_info(int i, const char **name, const char **def,
                                        const char **help, char *range, size_t cap,
                                        nlprnn_error *err);

/* ---- the tagger --------------------------------------------------------------------------- */

/** A trained tagger: its settings, units, labels and weights. Immutable (see the thread rule). */
typedef struct nlprnn_tagger nlprnn_tagger;

/** Progress of training, once per epoch: epoch (1-based), mean training loss, validation
 *  accuracy (NaN without validation data). Return non-zero to stop (like the stop flag).
 *  nlprnn_tagger_train_ctl's nlprnn_tagger_progress_cb also reports steps, speed and time left. */
typedef int (*nlprnn_tagger_progress_fn)(void *user, int epoch, double train_loss,
                                         double valid_accuracy);

/** Train a tagger on n_paths files (.gz read too; "-" is standard input) of the parameters'
 *  format. A fraction "valid" of the sentences (chosen by the seed) is held out for validation;
 *  the weights of the epoch with the best validation accuracy are kept (with "keep" = best, the
 *  default; "last": the last epoch's). Bad data is
 *  NLPRNN_E_DATA / NLPRNN_E_UTF8 naming file:line: byte. ctl may be NULL (see nlprnn/train.h:
 *  stop flag, resume from the "checkpoint" parameter). */
NLPRNN_API int nlprnn_tagger_train(const char *const *paths, int n_paths,
                                   const nlprnn_tagger_params *p, const nlprnn_train_ctl *ctl,
                                   nlprnn_tagger_progress_fn progress, void *user,
                                   nlprnn_tagger **out, nlprnn_error *err);
/** What the progress callback of nlprnn_tagger_train_ctl sees. The library allocates it and sets
 *  `size`; fields may be added at the end (read one only when NLPRNN_HAS_FIELD says `size` reaches
 *  it). A unit is what the model labels: a character of a spacing model, a token of a tagger. */
typedef struct nlprnn_tagger_progress {
    size_t size;             /**< set by the library: its sizeof(nlprnn_tagger_progress) */
    int phase;               /**< 0 = a message (what is being done: "reading the training
                                  files", "validating"), 1 = a training step done, 2 = an epoch
                                  done (validated) */
    const char *message;     /**< phase 0: the message (NULL otherwise) */
    int epoch;               /**< 1-based epoch (0 in a message before the first) */
    int epochs;              /**< epochs asked for (the "epochs" parameter) */
    long long batch;         /**< 1-based batch in the epoch (phase 2: the batches done) */
    long long batches;       /**< batches per epoch */
    long long steps;         /**< optimizer steps since the start of training (a resumed run
                                  counts those before the checkpoint too) */
    double loss;             /**< running mean training loss (nats per unit) of the epoch so far;
                                  phase 2: the epoch's */
    double accuracy;         /**< running training accuracy per unit of the epoch so far */
    double units_per_sec;    /**< training speed of the epoch so far, units per second */
    double lr;               /**< the learning rate of the last step */
    double elapsed;          /**< seconds of training (a resumed run counts those before) */
    double eta;              /**< estimated seconds left in the epoch (0 in phase 2) */
    double valid_loss;       /**< phase 2: validation loss per unit (NaN without validation) */
    double valid_accuracy;   /**< phase 2: validation accuracy (NaN without validation) */
    int best_epoch;          /**< epoch of the best validation accuracy so far (0: none yet) */
    int improved;            /**< phase 2: 1 when this epoch is the best so far */
} nlprnn_tagger_progress;

/** The progress callback of nlprnn_tagger_train_ctl: called on the training thread after every
 *  optimizer step (phase 1: a caller that draws throttles itself, as `nlprnn space-train` redraws
 *  at most 5 times a second), once at the end of every epoch (phase 2) and for messages (phase 0).
 *  Return non-zero from a phase 1 or 2 call to stop (like the stop flag: the checkpoint is
 *  written, NLPRNN_E_INTERRUPTED); the return value of a phase 0 call is ignored. */
typedef int (*nlprnn_tagger_progress_cb)(void *user, const nlprnn_tagger_progress *p);

/** nlprnn_tagger_train with a progress record instead of three numbers once per epoch: the steps,
 *  the speed and an estimate of the time left while an epoch runs (see nlprnn_tagger_progress).
 *  The same training, bit for bit; progress may be NULL. */
NLPRNN_API int nlprnn_tagger_train_ctl(const char *const *paths, int n_paths,
                                       const nlprnn_tagger_params *p, const nlprnn_train_ctl *ctl,
                                       nlprnn_tagger_progress_cb progress, void *user,
                                       nlprnn_tagger **out, nlprnn_error *err);
/** Save to a model file (kind "TAGR", docs/formats.md), written atomically (an ensemble: one file
 *  with every member). */
NLPRNN_API int nlprnn_tagger_save(const nlprnn_tagger *t, const char *path, nlprnn_error *err);
/** nlprnn_tagger_save with the weights of every member stored as `store`: "f32", "f16" (half the
 *  size, each weight rounded to float16; loads back as float32) or NULL / "keep" (each member as it
 *  was trained or loaded: its "store" parameter). There is no int8 for taggers. Else
 *  NLPRNN_E_INVALID_ARG. */
NLPRNN_API int nlprnn_tagger_save_stored(const nlprnn_tagger *t, const char *path, const char *store,
                                         nlprnn_error *err);
/** Load a model file, or a shipped model by bare name ("ko" stands for "ko-space"; see
 *  nlprnn_model_find for the folders). */
NLPRNN_API int nlprnn_tagger_load(const char *path_or_name, nlprnn_tagger **out,
                                  nlprnn_error *err);
/** Load several model files (or shipped names) as one ENSEMBLE tagger: for every input unit the
 *  members' label distributions are averaged (the mean of the probabilities, (1/N) sum p_m; for a
 *  spacing model's two labels, the mean probability of a space, a space where it is above 0.5),
 *  then the label decided as by one model (argmax). Tagging, spacing in every mode (NLPRNN_SPACE_KEEP
 *  hints go to every member) and the probabilities reported are the combined ones. Every member
 *  must be of one kind with the same units and labels, compared exactly: else NLPRNN_E_UNSUPPORTED
 *  naming the file that differs. A file that is itself an ensemble adds all its members; at most
 *  32 (NLPRNN_E_LIMIT). n = 1 is nlprnn_tagger_load. nlprnn_tagger_save writes an ensemble as ONE
 *  file (units and labels stored once, docs/formats.md) that nlprnn_tagger_load reads back whole. */
NLPRNN_API int nlprnn_tagger_load_ensemble(const char *const *paths, size_t n, nlprnn_tagger **out,
                                           nlprnn_error *err);
/** The members of t: 1 for one model, N for an ensemble (0 for NULL). */
NLPRNN_API int nlprnn_tagger_members(const nlprnn_tagger *t);
/** Free a tagger (NULL is allowed). */
NLPRNN_API void nlprnn_tagger_free(nlprnn_tagger *t);
/** 1 for a spacing model, 0 for a tagger of tokens (-1 for NULL). */
NLPRNN_API int nlprnn_tagger_is_spacing(const nlprnn_tagger *t);
/** Number of labels (0 for NULL). */
NLPRNN_API int nlprnn_tagger_num_labels(const nlprnn_tagger *t);
/** Name of label i, or NULL. */
NLPRNN_API const char *nlprnn_tagger_label(const nlprnn_tagger *t, int i);
/** Number of known units (the vocabulary, padding and unknown included; 0 for NULL). */
NLPRNN_API int nlprnn_tagger_num_units(const nlprnn_tagger *t);
/** A one-line description: format, cell, sizes, parameters, epochs, validation accuracy. Valid
 *  while t lives. */
NLPRNN_API const char *nlprnn_tagger_summary(const nlprnn_tagger *t);

/* ---- contexts: tag and space ---------------------------------------------------------------- */

/** Per-thread state for tagging and spacing: scratch memory and the results of the last call. */
typedef struct nlprnn_tagger_ctx nlprnn_tagger_ctx;

/** Make a context for t (which must outlive it). threads: 1..16 threads for a batch's sequences
 *  (0: the cores, at most 16). */
NLPRNN_API int nlprnn_tagger_ctx_create(const nlprnn_tagger *t, int threads,
                                        nlprnn_tagger_ctx **out, nlprnn_error *err);
/** Free a context (NULL is allowed). */
NLPRNN_API void nlprnn_tagger_ctx_free(nlprnn_tagger_ctx *ctx);

/** Tag n tokens (a sentence) with a tagger trained on tagged data: labels (n) get the label ids
 *  and probs (n, may be NULL) their probabilities. An unknown token is the unknown unit. */
NLPRNN_API int nlprnn_tag(nlprnn_tagger_ctx *ctx, const char *const *tokens, size_t n, int *labels,
                          float *probs, nlprnn_error *err);

/** Flags of nlprnn_space / nlprnn_space_batch. */
enum {
    NLPRNN_SPACE_KEEP = 1 /**< keep the input's spaces (a run of white space becomes one space)
                               and give them to the model as hints: it only adds spaces; without
                               this flag white space is removed first */
};

/** Respace one text with a spacing model: the result (nlprnn_space_text(ctx, 0)) is the text in
 *  NFC with white space removed (or, with NLPRNN_SPACE_KEEP, runs of it made one space) and a
 *  single space (U+0020) where the model puts one. Invalid
 *  UTF-8 or a NUL byte is NLPRNN_E_UTF8 with err->offset = the byte in text. */
NLPRNN_API int nlprnn_space(nlprnn_tagger_ctx *ctx, const char *text, size_t len, unsigned flags,
                            nlprnn_error *err);
/** Respace n texts at once (faster: one batch, split over the context's threads). status (n)
 *  gets each text's status (0, NLPRNN_E_UTF8, or NLPRNN_E_INVALID_ARG for a NULL text with
 *  lens[i] > 0); the call fails only for bad arguments or memory. */
NLPRNN_API int nlprnn_space_batch(nlprnn_tagger_ctx *ctx, const char *const *texts,
                                  const size_t *lens, size_t n, unsigned flags, int *status,
                                  nlprnn_error *err);
/** The respaced text i of the last call (NUL-terminated; *len gets its bytes when len is not
 *  NULL), valid until the next call on ctx; NULL when out of range or the text failed. */
NLPRNN_API const char *nlprnn_space_text(const nlprnn_tagger_ctx *ctx, size_t i, size_t *len);
/** Units (characters) of text i of the last call (0 when out of range). */
NLPRNN_API size_t nlprnn_space_units(const nlprnn_tagger_ctx *ctx, size_t i);
/** Unit j of text i of the last call: *end = byte offset in the respaced text just after the
 *  unit, *p_space = the model's probability that a space follows it, *space = 1 when the result
 *  has one (the last unit never does). NLPRNN_E_INVALID_ARG when out of range. */
NLPRNN_API int nlprnn_space_unit(const nlprnn_tagger_ctx *ctx, size_t i, size_t j, size_t *end,
                                 float *p_space, int *space, nlprnn_error *err);

#ifdef __cplusplus
}
#endif
#endif

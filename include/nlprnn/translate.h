/* nlprnn/translate.h: sequence to sequence — an encoder-decoder with attention that translates
 * (many to many, unsynchronised), and the BLEU and chrF scores.
 *
 *   source text -> subword ids -> embedding -> stacked bidirectional LSTM/GRU encoder
 *   -> a LSTM/GRU decoder with attention (Luong "general" or Bahdanau "additive") and input
 *   feeding -> target subword ids, one at a time (greedy or beam search) -> target text
 *
 * Training reads pairs from a TSV file with a header line naming the columns (the source and
 * target columns are parameters) and trains the project's subword tokenizer on each side
 * (or one joint tokenizer). docs/translate.md describes the network, the files and the measured
 * scores.
 *
 *   nlprnn_translator *t;  nlprnn_translator_ctx *ctx;
 *   nlprnn_translator_load("ko-en", &t, &err);            // a file, or a shipped model by name
 *   nlprnn_translator_ctx_create(t, &ctx, &err);          // one per thread
 *   nlprnn_translate(ctx, "고마워요.", len, &err);
 *   const char *out = nlprnn_translate_text(ctx, NULL);   // "Thank you."
 *
 * Thread rule: a trained or loaded nlprnn_translator is immutable and may be shared by threads
 * (nlprnn_translator_set_default is the one call that changes it: make it before sharing); a
 * context belongs to one thread at a time (its results stay valid until its next call).
 * Parameter objects belong to one thread at a time. The score functions keep no state.
 */
#ifndef NLPRNN_TRANSLATE_H
#define NLPRNN_TRANSLATE_H

#include <stddef.h>

#include "nlprnn/base.h"
#include "nlprnn/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- training parameters ------------------------------------------------------------------ */

/** Training parameters, set by name (`nlprnn translate-train --help` lists them with their
 *  defaults and ranges; the table in tasks/translate/train.c is the one place they are defined):
 *  src-col, tgt-col, joint, src-vocab, tgt-vocab, src-tokenizer, tgt-tokenizer, src-lm, tgt-lm,
 *  cell, attention, embed, hidden, layers, bidirectional, dropout, emb-dropout, out-dropout,
 *  bpe-dropout, tied, smoothing, max-len, epochs, batch, lr, min-lr, clip, ema, valid, time-limit,
 *  patience, keep, threads, store, word-reward, min-ratio, min-from, seed, split-seed,
 *  checkpoint, checkpoint-every. word-reward, min-ratio and min-from are not used by training:
 *  they are the decoding defaults the model file stores (nlprnn_translator_set_default).
 *  src-tokenizer / tgt-tokenizer: tokenizer files used instead of training them; src-lm / tgt-lm:
 *  language models (nlprnn_lm_train, made with those tokenizers) the encoder and the decoder are
 *  initialised from (docs/translate.md, "Language-model pretraining"); a language model that does
 *  not fit (tokenizer, cell, sizes) is NLPRNN_E_INVALID_ARG naming the parameter, the file and
 *  what differs. */
typedef struct nlprnn_translator_params nlprnn_translator_params;

/** New parameters with the defaults (NLPRNN_E_NOMEM when out of memory). */
NLPRNN_API int nlprnn_translator_params_create(nlprnn_translator_params **out, nlprnn_error *err);
/** Free parameters (NULL is allowed). */
NLPRNN_API void nlprnn_translator_params_free(nlprnn_translator_params *p);
/** Set one parameter from text ("hidden", "256"); unknown names and values out of range are
 *  NLPRNN_E_INVALID_ARG naming them. */
NLPRNN_API int nlprnn_translator_params_set(nlprnn_translator_params *p, const char *name,
                                            const char *value, nlprnn_error *err);
/** The value of a parameter as text into buf (cap bytes), or NLPRNN_E_INVALID_ARG. */
NLPRNN_API int nlprnn_translator_params_get(const nlprnn_translator_params *p, const char *name,
                                            char *buf, size_t cap, nlprnn_error *err);
/** Help for parameter i (0..): its name, default, accepted range and one line of help (pointers
 *  into static storage); NLPRNN_E_INVALID_ARG past the last. */
NLPRNN_API int nlprnn_translator_param_info(int i, const char **name, const char **def,
                                            const char **help, char *range, size_t cap,
                                            nlprnn_error *err);

/* ---- the translator ------------------------------------------------------------------------- */

/** A trained translator: its settings, tokenizers and weights. Immutable (see the thread rule). */
typedef struct nlprnn_translator nlprnn_translator;

/** Progress of training, once per epoch: epoch (1-based), mean training loss per target token,
 *  validation loss per target token (NaN without validation pairs). Return non-zero to stop
 *  (like the stop flag). nlprnn_translator_train_ctl's nlprnn_translator_progress_cb also reports
 *  steps, speed and time left. */
typedef int (*nlprnn_translator_progress_fn)(void *user, int epoch, double train_loss,
                                             double valid_loss);

/** Train a translator on the pairs of a TSV file (.gz read too; "-" is standard input) whose
 *  header line names the columns "src-col" and "tgt-col". A fraction "valid" of the pairs
 *  (chosen by "split-seed", or by "seed" when it is 0) is held out; the weights of the epoch with
 *  the lowest validation loss are kept (with "keep" = best, the default; "last": the last
 *  weights). Bad data is NLPRNN_E_DATA / NLPRNN_E_UTF8 naming file:line: byte. ctl may be NULL
 *  (see nlprnn/train.h: stop flag, resume from the "checkpoint" parameter). */
NLPRNN_API int nlprnn_translator_train(const char *path, const nlprnn_translator_params *p,
                                       const nlprnn_train_ctl *ctl,
                                       nlprnn_translator_progress_fn progress, void *user,
                                       nlprnn_translator **out, nlprnn_error *err);
/** What the progress callback of nlprnn_translator_train_ctl sees. The library allocates it and
 *  sets `size`; fields may be added at the end (read one only when NLPRNN_HAS_FIELD says `size`
 *  reaches it). */
typedef struct nlprnn_translator_progress {
    size_t size;             /**< set by the library: its sizeof(nlprnn_translator_progress) */
    int phase;               /**< 0 = a message (what is being done: "reading the pairs",
                                  "validating"), 1 = a training step done, 2 = an epoch done
                                  (validated) */
    const char *message;     /**< phase 0: the message (NULL otherwise) */
    int epoch;               /**< 1-based epoch (0 in a message before the first) */
    int epochs;              /**< epochs asked for (the "epochs" parameter) */
    long long batch;         /**< 1-based batch in the epoch (phase 2: the batches done) */
    long long batches;       /**< batches per epoch */
    long long steps;         /**< optimizer steps since the start of training (a resumed run
                                  counts those before the checkpoint too) */
    double loss;             /**< running mean training loss per target token of the epoch so
                                  far; phase 2: the epoch's */
    double tokens_per_sec;   /**< training speed of the epoch so far: source and target pieces
                                  per second */
    double lr;               /**< the learning rate of the last step */
    double elapsed;          /**< seconds of training (a resumed run counts those before) */
    double eta;              /**< estimated seconds left in the epoch (0 in phase 2) */
    double valid_loss;       /**< phase 2: validation loss per target token (NaN without
                                  validation pairs) */
    int best_epoch;          /**< epoch of the lowest validation loss so far (0: none yet) */
    int improved;            /**< phase 2: 1 when this epoch is the best so far */
} nlprnn_translator_progress;

/** The progress callback of nlprnn_translator_train_ctl: called on the training thread after
 *  every optimizer step (phase 1: a caller that draws throttles itself), once at the end of every
 *  epoch (phase 2) and for messages (phase 0). Return non-zero from a phase 1 or 2 call to stop
 *  (like the stop flag: the checkpoint is written, NLPRNN_E_INTERRUPTED); the return value of a
 *  phase 0 call is ignored. */
typedef int (*nlprnn_translator_progress_cb)(void *user, const nlprnn_translator_progress *p);

/** nlprnn_translator_train with a progress record instead of three numbers once per epoch: the
 *  steps, the speed and an estimate of the time left while an epoch runs (see
 *  nlprnn_translator_progress). The same training, bit for bit; progress may be NULL. */
NLPRNN_API int nlprnn_translator_train_ctl(const char *path, const nlprnn_translator_params *p,
                                           const nlprnn_train_ctl *ctl,
                                           nlprnn_translator_progress_cb progress, void *user,
                                           nlprnn_translator **out, nlprnn_error *err);
/** Save to a model file (kind "TRNS", docs/formats.md), written atomically. */
NLPRNN_API int nlprnn_translator_save(const nlprnn_translator *t, const char *path,
                                      nlprnn_error *err);
/** nlprnn_translator_save with the weights of every member stored as `store`: "f32", "f16" (half
 *  the size, rounded), "int8" (a quarter: each matrix row quantized with its own float32 scale,
 *  value error at most scale/2; vectors float32; the file says format version 2, which builds
 *  before it refuse) or NULL / "keep" (each member as it was trained or loaded: its "store"
 *  parameter). Another name is NLPRNN_E_INVALID_ARG. Loading reads every storage back as float32. */
NLPRNN_API int nlprnn_translator_save_stored(const nlprnn_translator *t, const char *path,
                                             const char *store, nlprnn_error *err);
/** Load a model file, or a shipped model by bare name (e.g. "ko-en"; see nlprnn_model_find for
 *  the folders). A damaged or inconsistent file is an error naming the file and section. */
NLPRNN_API int nlprnn_translator_load(const char *path_or_name, nlprnn_translator **out,
                                      nlprnn_error *err);
/** Load several model files (or shipped names) as one ENSEMBLE translator: at each decoding step
 *  the members' next-token distributions are combined (NLPRNN_TRANSLATE_COMBINE; greedy, beam
 *  search, sampling and batches all combine them), each member keeping its own encoder states and
 *  attention; the attention weights of the results are the members' mean. A file that is itself an
 *  ensemble adds all its members. Every member must have the same source and target tokenizers,
 *  compared byte for byte: else NLPRNN_E_UNSUPPORTED naming the file that differs and the side.
 *  n = 1 is nlprnn_translator_load. nlprnn_translator_save writes an ensemble as ONE file (the
 *  tokenizers stored once, docs/formats.md) that nlprnn_translator_load reads back whole. At most
 *  32 members (NLPRNN_E_LIMIT). */
NLPRNN_API int nlprnn_translator_load_ensemble(const char *const *paths, size_t n,
                                               nlprnn_translator **out, nlprnn_error *err);
/** The members of t: 1 for one model, N for an ensemble (0 for NULL). */
NLPRNN_API int nlprnn_translator_members(const nlprnn_translator *t);
/** Free a translator (NULL is allowed). */
NLPRNN_API void nlprnn_translator_free(nlprnn_translator *t);
/** A one-line description: columns, sizes, cell, attention, epochs, validation loss. Valid while
 *  t lives ("" for NULL). */
NLPRNN_API const char *nlprnn_translator_summary(const nlprnn_translator *t);

/** The name of the source column (target = 0) or the target column (target = 1) the translator
 *  was trained on ("ko", "en"); NULL for NULL. */
NLPRNN_API const char *nlprnn_translator_column(const nlprnn_translator *t, int target);

/** The tokenizer of the source side (target = 0) or of the target side (target = 1): the same
 *  one for both when the translator was trained with a joint tokenizer. Owned by t, valid while
 *  t lives; NULL for NULL. */
NLPRNN_API const nlprnn_tokenizer *nlprnn_translator_tokenizer(const nlprnn_translator *t,
                                                               int target);

/* ---- contexts: translate ------------------------------------------------------------------- */

/** Per-thread state for translating: scratch memory, the search options and the result of the
 *  last call. */
typedef struct nlprnn_translator_ctx nlprnn_translator_ctx;

/** Make a context for t (which must outlive it), with the default search options: the library's,
 *  and for the word reward, the minimum length and the combination rule the defaults stored in
 *  t's model file (nlprnn_translator_get_default); nlprnn_translator_ctx_set overrides them. */
NLPRNN_API int nlprnn_translator_ctx_create(const nlprnn_translator *t, nlprnn_translator_ctx **out,
                                            nlprnn_error *err);
/** Free a context (NULL is allowed). */
NLPRNN_API void nlprnn_translator_ctx_free(nlprnn_translator_ctx *ctx);

/** Search options (values never change; new options get new numbers). */
typedef enum nlprnn_translator_opt {
    NLPRNN_TRANSLATE_BEAM = 1,      /**< beam width 1..64; 1 (the default) is greedy search */
    NLPRNN_TRANSLATE_LEN_ALPHA = 2, /**< length normalisation: a finished hypothesis scores
                                         logp / len^alpha; 0..5, default 1 */
    NLPRNN_TRANSLATE_MAX_RATIO = 3, /**< at most ceil(ratio * source tokens) + 5 target tokens;
                                         0.1..100, default 3 */
    NLPRNN_TRANSLATE_SAMPLE = 4,    /**< 1: sample each token instead of searching (the beam width
                                         is not used); 0 (the default): greedy or beam search */
    NLPRNN_TRANSLATE_TEMPERATURE = 5, /**< sampling: draw from softmax(logits / T); 0.01..100,
                                           default 1 */
    NLPRNN_TRANSLATE_TOP_K = 6,     /**< sampling: only the K most probable tokens; 0 (the default)
                                         = all; 0..1000000 */
    NLPRNN_TRANSLATE_SEED = 7,      /**< sampling: the seed, an integer 0..2^53 (default 1). Every
                                         text's draws start from the seed alone: the same text, seed
                                         and options give the same translation, alone or in a batch */
    NLPRNN_TRANSLATE_COMBINE = 8,   /**< ensembles: how the N members' next-token distributions p_m
                                         become one. 1: the mean of the log-probabilities,
                                         (1/N) Σ log p_m (as Marian; not renormalised); 0: the mean
                                         of the probabilities, log((1/N) Σ p_m) (as fairseq).
                                         Default: the model file's stored rule, else 1 (it measured
                                         better on the held-out pairs; docs/translate.md, "Ensembles").
                                         Greedy takes its argmax, beam search sums it, sampling draws
                                         from softmax(it / T); the log-probability of a translation is
                                         its sum. No effect with one member */
    NLPRNN_TRANSLATE_BATCH = 9,     /**< nlprnn_translate_batch: texts decoded at once (the rows of
                                         its products), 1..1024, default 64. A text that finishes
                                         makes room for the next, so a call may give more texts;
                                         the translations do not depend on it. Memory: about 12
                                         bytes times the rows, the longest text's tokens and the
                                         decoder's width plus the encoder's output width */
    NLPRNN_TRANSLATE_WORD_REWARD = 10, /**< greedy and beam search: r added to the log-probability
                                         of every token written (not the end) when choosing, so
                                         r > 0 gives longer translations, r < 0 shorter; beam
                                         search normalises the rewarded sum, (logp + r*len) /
                                         (len+1)^alpha. The reported log-probability stays the
                                         model's; sampling does not use it. -5..5, default: the
                                         model file's stored default (nlprnn_translator_get_default;
                                         the shipped ko-en stores 0.9, docs/translate.md), else 0 */
    NLPRNN_TRANSLATE_MIN_RATIO = 11, /**< no end before floor(ratio * source tokens) target tokens
                                         (at most the length limit of MAX_RATIO): greedy and beam
                                         search and sampling; 0..100, default: the model file's
                                         stored default, else 0 (none). Only for sources of at
                                         least MIN_FROM tokens */
    NLPRNN_TRANSLATE_MIN_FROM = 12  /**< the minimum length of MIN_RATIO applies to sources of at
                                         least N source tokens; a shorter source has none (its
                                         output as with MIN_RATIO 0). An integer 0..1024; 0 = every
                                         source (as before the option). Default: the model file's
                                         stored default, else 0 */
} nlprnn_translator_opt;

/** Set a search option; NLPRNN_E_INVALID_ARG naming it when unknown or out of range. */
NLPRNN_API int nlprnn_translator_ctx_set(nlprnn_translator_ctx *ctx, nlprnn_translator_opt opt,
                                         double value, nlprnn_error *err);

/** Store a decoding default in t: the value of opt that contexts created afterwards start with,
 *  written into the model file by nlprnn_translator_save (section DECO, docs/formats.md) and read
 *  back by nlprnn_translator_load. Only NLPRNN_TRANSLATE_WORD_REWARD, NLPRNN_TRANSLATE_MIN_RATIO,
 *  NLPRNN_TRANSLATE_MIN_FROM and NLPRNN_TRANSLATE_COMBINE are stored (another option is
 *  NLPRNN_E_INVALID_ARG, as is a value out of the range of nlprnn_translator_ctx_set). A file
 *  without stored defaults gives word reward 0, minimum ratio 0, min-from 0 and the library's
 *  combination rule (1); an ensemble loaded from several files
 *  keeps the first file's. This changes t: call it before t is shared or has contexts (contexts
 *  made before keep their options). */
NLPRNN_API int nlprnn_translator_set_default(nlprnn_translator *t, nlprnn_translator_opt opt,
                                             double value, nlprnn_error *err);
/** The value of opt that a new context of t starts with (*value): the model's stored default for
 *  the options above, else the library's. NLPRNN_E_INVALID_ARG for an unknown option or NULL. */
NLPRNN_API int nlprnn_translator_get_default(const nlprnn_translator *t, nlprnn_translator_opt opt,
                                             double *value, nlprnn_error *err);

/** Translate one text (UTF-8, len bytes; text may be NULL when len is 0). Invalid UTF-8 is NLPRNN_E_UTF8 with err->offset = the
 *  byte in text; a text of more than 1024 source tokens is NLPRNN_E_LIMIT. An empty text
 *  translates to an empty text. */
NLPRNN_API int nlprnn_translate(nlprnn_translator_ctx *ctx, const char *text, size_t len,
                                nlprnn_error *err);
/** The translation of the last call (NUL-terminated; *len gets its bytes when len is not NULL),
 *  valid until the next call on ctx; NULL before any. */
NLPRNN_API const char *nlprnn_translate_text(const nlprnn_translator_ctx *ctx, size_t *len);
/** The summed log-probability of the last translation and its end (NaN before any). */
NLPRNN_API double nlprnn_translate_logprob(const nlprnn_translator_ctx *ctx);
/** Source tokens of the last call (0 before any or for NULL). */
NLPRNN_API size_t nlprnn_translate_src_len(const nlprnn_translator_ctx *ctx);
/** Target tokens of the last call, without the end (0 before any or for NULL). */
NLPRNN_API size_t nlprnn_translate_tgt_len(const nlprnn_translator_ctx *ctx);
/** The subword piece of source token i (or, with target = 1, of target token i) of the last
 *  call; NULL when out of range. */
NLPRNN_API const char *nlprnn_translate_piece(const nlprnn_translator_ctx *ctx, int target,
                                              size_t i);
/** The attention weights of the last call: a (tgt_len + 1, src_len) row-major matrix, row j the
 *  weights over the source tokens when target token j was written (the last row: the end);
 *  each row sums to 1. NULL before any call or for an empty source. */
NLPRNN_API const float *nlprnn_translate_attention(const nlprnn_translator_ctx *ctx);

/** Translate n texts together (greedy search or sampling: the texts are ordered by length and
 *  decoded NLPRNN_TRANSLATE_BATCH at a time, one decoder step for all of them at once, a finished
 *  text's place taken by the next; faster than one by one; with a beam width above 1 the texts
 *  are translated one by one). The results are those of nlprnn_translate on each text, up to
 *  float rounding. Read them with nlprnn_translate_batch_text and
 *  nlprnn_translate_batch_logprob (valid until the next call on ctx; the single-text results
 *  are cleared). Invalid UTF-8 in text i is NLPRNN_E_UTF8 with err->line = i + 1 and
 *  err->offset = the byte; texts[i] may be NULL when lens[i] is 0. */
NLPRNN_API int nlprnn_translate_batch(nlprnn_translator_ctx *ctx, const char *const *texts,
                                      const size_t *lens, size_t n, nlprnn_error *err);
/** Translation i of the last nlprnn_translate_batch (NUL-terminated; *len its bytes when len is
 *  not NULL); NULL when i is out of range. */
NLPRNN_API const char *nlprnn_translate_batch_text(const nlprnn_translator_ctx *ctx, size_t i,
                                                   size_t *len);
/** The summed log-probability of translation i of the last batch (NaN when out of range). */
NLPRNN_API double nlprnn_translate_batch_logprob(const nlprnn_translator_ctx *ctx, size_t i);

/* ---- scores ---------------------------------------------------------------------------------- */

/** Corpus BLEU of n hypotheses against one reference each, as sacrebleu computes it by default
 *  (13a tokenizer, exp smoothing, cased, n-grams 1-4), in 0..100. detail (may be NULL) gets 8
 *  numbers: the 4 n-gram precisions (percent), the brevity penalty, the length ratio, the
 *  hypothesis and reference token counts. Texts must be valid UTF-8: else NLPRNN_E_UTF8 with
 *  err->line = the 1-based segment and err->offset = the byte. */
NLPRNN_API int nlprnn_bleu(const char *const *hyps, const char *const *refs, size_t n,
                           double *score, double *detail, nlprnn_error *err);
/** Corpus chrF of n hypotheses against one reference each, as sacrebleu computes it by default
 *  (character n-grams 1-6, beta 2, white space removed), in 0..100. Errors as nlprnn_bleu. */
NLPRNN_API int nlprnn_chrf(const char *const *hyps, const char *const *refs, size_t n,
                           double *score, nlprnn_error *err);

/* ---- deprecated (the first names, kept until 0.3: docs/api.md "Changes in 0.2") ------------ */

/** Deprecated: the old name of nlprnn_translator_params. */
typedef struct nlprnn_translator_params nlprnn_translate_params
    NLPRNN_DEPRECATED("use nlprnn_translator_params");
/** Deprecated: the old name of nlprnn_translator_ctx. */
typedef struct nlprnn_translator_ctx nlprnn_translate_ctx
    NLPRNN_DEPRECATED("use nlprnn_translator_ctx");
/** Deprecated: the old name of nlprnn_translator_opt (the option values keep their names). */
typedef enum nlprnn_translator_opt nlprnn_translate_opt
    NLPRNN_DEPRECATED("use nlprnn_translator_opt");
/** Deprecated: the old name of nlprnn_translator_progress_fn. */
typedef nlprnn_translator_progress_fn nlprnn_translate_progress_fn
    NLPRNN_DEPRECATED("use nlprnn_translator_progress_fn");

/** Deprecated: nlprnn_translator_params_create. */
NLPRNN_API int nlprnn_translate_params_create(nlprnn_translator_params **out, nlprnn_error *err)
    NLPRNN_DEPRECATED("use nlprnn_translator_params_create");
/** Deprecated: nlprnn_translator_params_free (NULL is allowed). */
NLPRNN_API void nlprnn_translate_params_free(nlprnn_translator_params *p)
    NLPRNN_DEPRECATED("use nlprnn_translator_params_free");
/** Deprecated: nlprnn_translator_params_set. */
NLPRNN_API int nlprnn_translate_params_set(nlprnn_translator_params *p, const char *name,
                                           const char *value, nlprnn_error *err)
    NLPRNN_DEPRECATED("use nlprnn_translator_params_set");
/** Deprecated: nlprnn_translator_params_get. */
NLPRNN_API int nlprnn_translate_params_get(const nlprnn_translator_params *p, const char *name,
                                           char *buf, size_t cap, nlprnn_error *err)
    NLPRNN_DEPRECATED("use nlprnn_translator_params_get");
/** Deprecated: nlprnn_translator_param_info. */
NLPRNN_API int nlprnn_translate_param_info(int i, const char **name, const char **def,
                                           const char **help, char *range, size_t cap,
                                           nlprnn_error *err)
    NLPRNN_DEPRECATED("use nlprnn_translator_param_info");
/** Deprecated: nlprnn_translator_ctx_create. */
NLPRNN_API int nlprnn_translate_ctx_create(const nlprnn_translator *t, nlprnn_translator_ctx **out,
                                           nlprnn_error *err)
    NLPRNN_DEPRECATED("use nlprnn_translator_ctx_create");
/** Deprecated: nlprnn_translator_ctx_free (NULL is allowed). */
NLPRNN_API void nlprnn_translate_ctx_free(nlprnn_translator_ctx *ctx)
    NLPRNN_DEPRECATED("use nlprnn_translator_ctx_free");
/** Deprecated: nlprnn_translator_ctx_set. */
NLPRNN_API int nlprnn_translate_ctx_set(nlprnn_translator_ctx *ctx, nlprnn_translator_opt opt,
                                        double value, nlprnn_error *err)
    NLPRNN_DEPRECATED("use nlprnn_translator_ctx_set");

#ifdef __cplusplus
}
#endif
#endif

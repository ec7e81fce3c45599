/* nlprnn/lm.h: recurrent language models: next-word prediction, fill-in-the-blank, generation.
 *
 *   text -> tokenizer -> <bos> ids <eos> -> embedding (V,E) -> LSTM | GRU, L layers
 *        -> dense (V) (tied: the embedding table is the output matrix) -> softmax over pieces
 *
 * A language-model file (kind "LANG", docs/lm.md and docs/formats.md) holds the configuration,
 * the tokenizer and one or two networks: a forward model p(x_t | x_<t) and, optionally, a
 * backward model trained on the reversed token sequences p(x_t | x_>t). Fill-in-the-blank uses
 * both: every candidate sentence is scored by both and the two log-probabilities are averaged.
 * The shipped Korean model is found by name "ko" (file ko-lm.nrm, searched like classifiers:
 * $NLPRNN_MODEL_DIR, the share/nlprnn/models of the prefix (or build folder) it runs from,
 * $XDG_DATA_HOME/nlprnn/models; nlprnn_model_find).
 *
 * Thread rule: an nlprnn_lm is immutable after loading and may be shared by any number of
 * threads. An nlprnn_lm_ctx holds one thread's scratch (encoding, activations, logits); give
 * each thread its own. Training state belongs to the calling thread.
 */
#ifndef NLPRNN_LM_H
#define NLPRNN_LM_H

#include "nlprnn/base.h"
#include "nlprnn/tokenizer.h"
#include "nlprnn/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- loading ------------------------------------------------------------------------------ */

/** A loaded language model: immutable, shareable between threads. */
typedef struct nlprnn_lm nlprnn_lm;

/** Load a language model from a path, or from a shipped model by bare name: "ko" loads
 *  "ko-lm.nrm", any other bare name N loads "N.nrm" (see nlprnn_model_find for the folders;
 *  a bare name never means a file in the current folder: write "./N" for one).
 *  A file that is not an nlprnn model, of another kind (e.g. a classifier), another format
 *  version, truncated or corrupt is refused with a message naming the file. */
NLPRNN_API int nlprnn_lm_load(const char *path_or_name, nlprnn_lm **out, nlprnn_error *err);
/** Free a model. NULL is allowed. */
NLPRNN_API void nlprnn_lm_free(nlprnn_lm *lm);
/** The model's tokenizer (owned by the model). */
NLPRNN_API const nlprnn_tokenizer *nlprnn_lm_tokenizer(const nlprnn_lm *lm);
/** 1 when the file holds a backward (right-to-left) model besides the forward one. */
NLPRNN_API int nlprnn_lm_has_backward(const nlprnn_lm *lm);
/** One line describing the model, e.g. "cell=lstm layers=1 embed=256 hidden=256 tied=1
 *  vocab=8000 directions=2 params=4624896 storage=f16". Lives as long as lm. */
NLPRNN_API const char *nlprnn_lm_summary(const nlprnn_lm *lm);

/** Sizes of the forward network: vocabulary V, embedding E, hidden H, layers L, and the cell
 *  name ("lstm" or "gru"). Any pointer may be NULL. */
NLPRNN_API void nlprnn_lm_dims(const nlprnn_lm *lm, int *vocab, int *embed, int *hidden,
                               int *layers, const char **cell);

/** Weight sharing with a classifier (pre-training, then fine-tuning): the forward network's
 *  embedding table (V,E), rows in tokenizer-id order, and its encoder parameters, a flat block
 *  of *n_encoder floats in the PyTorch layout of models/encoder.h (per layer: W_ih (G*H,in),
 *  W_hh (G*H,H), b_ih (G*H), b_hh (G*H); gate order i,f,g,o for LSTM, r,z,n for GRU, GRU
 *  reset-after). The pointers stay valid while lm lives. */
NLPRNN_API void nlprnn_lm_forward_weights(const nlprnn_lm *lm, const float **embedding,
                                          const float **encoder, size_t *n_encoder);

/** Every weight of one network, `direction` NLPRNN_LM_FORWARD or NLPRNN_LM_BACKWARD, for starting
 *  another model from it (the translator's --src-lm / --tgt-lm): the embedding table (V,E) in
 *  tokenizer-id order, the encoder block (*n_encoder floats in the layout of
 *  nlprnn_lm_forward_weights; a GRU resets after the product), the output layer's matrix (V,H:
 *  the embedding table itself when the model is tied) and its bias (V). Both networks have the
 *  sizes nlprnn_lm_dims reports. Any output pointer may be NULL; the pointers stay valid while lm
 *  lives. NLPRNN_E_INVALID_ARG (the outputs NULL / 0) for another direction or a model without
 *  that network (nlprnn_lm_has_backward). */
NLPRNN_API int nlprnn_lm_weights(const nlprnn_lm *lm, int direction, const float **embedding,
                                 const float **encoder, size_t *n_encoder, const float **out_w,
                                 const float **out_b, nlprnn_error *err);

/* ---- per-thread context --------------------------------------------------------------------- */

/** Per-thread scratch for one model (encoding, activations, logits). */
typedef struct nlprnn_lm_ctx nlprnn_lm_ctx;
/** A new context for lm. The model must outlive the context. NLPRNN_E_NOMEM when out of
 *  memory. */
NLPRNN_API int nlprnn_lm_ctx_create(const nlprnn_lm *lm, nlprnn_lm_ctx **out, nlprnn_error *err);
/** Free a context. NULL is allowed. */
NLPRNN_API void nlprnn_lm_ctx_free(nlprnn_lm_ctx *ctx);

/** One answer of next / fill: a word (or span) and its probability. Its layout never changes:
 *  the answers come back in an array, whose stride a new field would change (more about an
 *  answer would come through new functions). */
typedef struct nlprnn_lm_choice {
    char *text;     /**< UTF-8, NUL-terminated (owned by the array) */
    double prob;    /**< probability (see each function for what it is relative to) */
    double score;   /**< the log-probability the ranking used (natural log) */
} nlprnn_lm_choice;

/** Free an array of n choices returned by nlprnn_lm_next or nlprnn_lm_fill. NULL is allowed. */
NLPRNN_API void nlprnn_lm_choices_free(nlprnn_lm_choice *c, size_t n);

/* ---- scoring ------------------------------------------------------------------------------- */

/** Direction of a network: the forward one reads left to right. */
#define NLPRNN_LM_FORWARD 0
/** Direction of a network: the backward one reads the pieces right to left. */
#define NLPRNN_LM_BACKWARD 1

/** log p(<bos> text <eos>) under one direction (natural log, sum over the predicted pieces,
 *  <eos> included). *n_pred (optional) = number of predicted pieces (tokens + 1). Errors:
 *  NLPRNN_E_UTF8 (err->offset = byte offset), NLPRNN_E_UNSUPPORTED (no backward model). Empty
 *  text is allowed: it scores p(<eos> | <bos>). */
NLPRNN_API int nlprnn_lm_score(nlprnn_lm_ctx *ctx, const char *text, size_t len, int direction,
                               double *logprob, size_t *n_pred, nlprnn_error *err);

/* ---- next word --------------------------------------------------------------------------------- */

/** The k most probable next WORDS after prefix (a word = one word-start piece and the pieces
 *  glued to it; the answer's probability includes the end of the word, i.e. the piece after it
 *  is a word start or <eos>). *out (n entries, best first) gets model probabilities, not
 *  renormalized. An empty prefix gives the most probable first words of a text. k in 1..100. */
NLPRNN_API int nlprnn_lm_next(nlprnn_lm_ctx *ctx, const char *prefix, size_t len, int k,
                              nlprnn_lm_choice **out, size_t *n, nlprnn_error *err);

/* ---- fill in the blank ----------------------------------------------------------------------- */

/** Fill the one blank ("___", any run of two or more underscores, or "[MASK]") of text.
 *  The blank may stand anywhere (start, end, glued to a particle as in "___에").
 *  candidates (n_cand > 0): rank exactly those strings, each put in place of the blank.
 *  candidates NULL / n_cand 0: propose words of 1..4 pieces with a beam over tokens from the
 *  forward model (left context) and the backward model (right context), plus one-piece words
 *  that fit both sides (log p_fwd(v|left) + log p_bwd(v|right) - log unigram(v)), then rank
 *  them; text glued after the blank ("___에") is proposed with the answer, as the tokenizer
 *  merges it ("▁극장에"); docs/lm.md describes the searches.
 *  Ranking: nlprnn_lm_fill_calibrated with alpha = NLPRNN_LM_FILL_ALPHA, the same as
 *  `nlprnn fill` (so the library, the program and examples/fill_blank.c give the same numbers):
 *  each full sentence is scored by the forward and, when present, the backward model (mean of
 *  the two log-probabilities), minus alpha times the answer's prior; `score` is that value.
 *  *out receives the best min(k, answers) answers, best first; `prob` is softmax(score) over
 *  EVERY answer ranked (all the candidates, or all the proposals, at most 72), so it does not
 *  depend on k: the probabilities of the answers returned sum to 1 only when k covers them all.
 *  *n may be 0 when no answer can be proposed (e.g. a model whose pieces are all special or
 *  byte pieces). Errors (NLPRNN_E_DATA, with err->offset at the second blank where there is one):
 *  no blank in the text; more than one blank. Text that is only a blank is valid (the sentence
 *  is the answer alone). k in 1..1000. A long text is cut to a window of 256 pieces on each
 *  side of the blank (at whitespace) before the search and the scoring, so the time stays
 *  bounded; the blank is found, and a second blank refused, in the whole text. */
NLPRNN_API int nlprnn_lm_fill(nlprnn_lm_ctx *ctx, const char *text, size_t len,
                              const char *const *candidates, size_t n_cand, int k,
                              nlprnn_lm_choice **out, size_t *n, nlprnn_error *err);

/** Calibration strength of nlprnn_lm_fill and the default of `nlprnn fill` (chosen on cloze
 *  validation items disjoint from the cloze benchmark's, docs/lm.md). */
#define NLPRNN_LM_FILL_ALPHA 0.1

/** nlprnn_lm_fill with calibrated ranking (a pointwise-mutual-information correction against
 *  "surface form competition": frequent generic words winning because they are frequent, not
 *  because they fit). Each answer s is ranked by
 *      score(s) = log P(sentence with s) - alpha * log P_prior(s)
 *  where log P(sentence with s) is the mean of the forward and backward models' log-probabilities
 *  of the sentence with s in the blank, and log P_prior(s) is the model's own log-probability of s in a neutral context: the
 *  blank's local frame alone as a whole text (the word before the blank's word, then the blank's
 *  word with s and what is glued to it: "동네의 s에" for "... 우리 동네의 ___에 간다."), mean of
 *  the same directions. So the score is the pointwise mutual information of s with the rest of
 *  the sentence given its local frame (up to alpha). alpha = 0 is
 *  the plain sentence probability; alpha = 1 is full PMI; nlprnn_lm_fill is alpha =
 *  NLPRNN_LM_FILL_ALPHA. The proposals (without candidates) do not depend on alpha, only their
 *  ranking does. Probabilities are softmax(score) over every answer ranked, as nlprnn_lm_fill.
 *  alpha in [0, 2], else NLPRNN_E_INVALID_ARG; other arguments and errors as nlprnn_lm_fill. */
NLPRNN_API int nlprnn_lm_fill_calibrated(nlprnn_lm_ctx *ctx, const char *text, size_t len,
                                         const char *const *candidates, size_t n_cand, int k,
                                         double alpha, nlprnn_lm_choice **out, size_t *n,
                                         nlprnn_error *err);

/* ---- generation ------------------------------------------------------------------------------ */

/** Sample a continuation of prompt (one piece at a time, forward model) until <eos> or
 *  max_tokens pieces. temperature > 0 divides the logits; top_k > 0 keeps the k most probable
 *  pieces (0: all); top_p in (0,1] keeps the smallest set whose mass reaches top_p (1: all).
 *  The same seed, prompt, options and model give the same text. *out = the prompt (normalized)
 *  followed by the continuation, NUL-terminated; free it with nlprnn_free. */
NLPRNN_API int nlprnn_lm_generate(nlprnn_lm_ctx *ctx, const char *prompt, size_t len,
                                  int max_tokens, double temperature, int top_k, double top_p,
                                  uint64_t seed, char **out, nlprnn_error *err);

/* ---- evaluation ------------------------------------------------------------------------------ */

/** Evaluation of a text file (one text a line, ".gz" read too). Fields may be added at the end. */
typedef struct nlprnn_lm_eval {
    size_t size;            /**< sizeof(nlprnn_lm_eval) as the caller knows it (set it) */
    long long lines;        /**< lines scored (empty lines are skipped) */
    long long pieces;       /**< predicted pieces: tokens + one <eos> per line */
    long long chars;        /**< Unicode characters of the scored lines + one per line (newline) */
    double nll;             /**< total negative log-likelihood, nats */
    double ppl;             /**< perplexity per piece = exp(nll / pieces) */
    double bpc;             /**< bits per character = nll / ln 2 / chars */
    double seconds;         /**< wall time */
} nlprnn_lm_eval;

/** Score every non-empty line of path with one direction (max_lines > 0: only the first
 *  max_lines). Errors name the file, line and byte (invalid UTF-8). */
NLPRNN_API int nlprnn_lm_evaluate(const nlprnn_lm *lm, const char *path, int direction,
                                  long long max_lines, nlprnn_lm_eval *res, nlprnn_error *err);

/* ---- training ------------------------------------------------------------------------------- */

/** Training parameters (opaque), set by name. Each parameter, its default, range and meaning is
 *  listed by `nlprnn lm-train --help` and docs/cli.md, both made from the one table
 *  nlprnn_lm_param_info reads. Notes on some of them:
 *    init         warm start from a LANG model: cell, layers, embed, hidden, tied and the
 *                 tokenizer are then the model's (those parameters are ignored; a tokenizer given
 *                 as well must be the same), and each direction the file holds starts from its
 *                 weights (the optimizer state starts fresh)
 *    samples      the sampled softmax draws them log-uniformly over the pieces ranked by
 *                 training frequency
 *    batch        sentences bucketed by length, masked
 *    epochs       ignored once time-limit is reached
 *    checkpoint   "" = "<out>.ckpt"; each direction has its own: this name + ".fwd" and + ".bwd"
 *                 (deleted when the model is saved)
 */
typedef struct nlprnn_lm_params nlprnn_lm_params;

/** New training parameters with every default. NLPRNN_E_NOMEM when out of memory. */
NLPRNN_API int nlprnn_lm_params_create(nlprnn_lm_params **out, nlprnn_error *err);
/** Free training parameters. NULL is allowed. */
NLPRNN_API void nlprnn_lm_params_free(nlprnn_lm_params *p);
/** Set one parameter from text; unknown names and bad values are NLPRNN_E_INVALID_ARG. */
NLPRNN_API int nlprnn_lm_params_set(nlprnn_lm_params *p, const char *name, const char *value,
                                    nlprnn_error *err);
/** The current value of a parameter as text (into buf, cap bytes): "lstm", "256", "0.003".
 *  An unknown name is NLPRNN_E_INVALID_ARG, a buffer too small NLPRNN_E_LIMIT. */
NLPRNN_API int nlprnn_lm_params_get(const nlprnn_lm_params *p, const char *name, char *buf,
                                    size_t cap, nlprnn_error *err);
/** Help for parameter i (0..): its name, default, accepted range and one line of help (pointers
 *  into static storage; each may be NULL; range: cap bytes, or NULL); NLPRNN_E_INVALID_ARG past
 *  the last. `nlprnn lm-train --help` lists the parameters so. */
NLPRNN_API int nlprnn_lm_param_info(int i, const char **name, const char **def, const char **help,
                                    char *range, size_t cap, nlprnn_error *err);

/** What the progress callback sees. Fields may be added at the end (check `size`). */
typedef struct nlprnn_lm_progress {
    size_t size;            /**< sizeof(nlprnn_lm_progress) of the library */
    int phase;              /**< 0 preparing (message), 1 training step, 2 direction done */
    const char *message;    /**< phase 0: what is being done */
    int direction;          /**< NLPRNN_LM_FORWARD or NLPRNN_LM_BACKWARD */
    int epoch;              /**< 1-based */
    long long step;         /**< batches done in this direction */
    double loss;            /**< running mean training loss (nats per piece) */
    double tokens_per_sec;  /**< pieces per second in this direction */
    double elapsed;         /**< seconds in this direction */
    double valid_ppl;       /**< phase 2: validation perplexity (NaN without validation) */
} nlprnn_lm_progress;

/** Called during training (from the training thread, or from both direction threads with
 *  parallel=1); return non-zero to stop like *stop. */
typedef int (*nlprnn_lm_progress_fn)(void *user, const nlprnn_lm_progress *p);

/** Train a language model on a text file (one text a line) and save it atomically to out_path.
 *  valid_path may be NULL. stop: when *stop becomes non-zero, training of the current direction
 *  ends after the current batch, its checkpoint is written, out_path is left as it was, what
 *  was trained is saved to out_path + ".partial" and NLPRNN_E_INTERRUPTED returned.
 *  progress may be NULL; a non-zero return from it stops like *stop. */
NLPRNN_API int nlprnn_lm_train(const nlprnn_lm_params *p, const char *train_path,
                               const char *valid_path, const char *out_path,
                               const volatile int *stop, nlprnn_lm_progress_fn progress,
                               void *user, nlprnn_error *err);
/** nlprnn_lm_train run as ctl says (nlprnn/train.h): its stop flag replaces the argument of that
 *  name; with a communicator of N ranks (libnlprnn-mpi) every rank calls it with the same
 *  arguments, keeps every N-th line, and "batch" is per rank. Resume continues from the
 *  directions' checkpoints: with the same data, parameters and number of ranks the model is
 *  byte-identical to an uninterrupted run (other parameters or data are NLPRNN_E_INVALID_ARG
 *  naming them; a missing first checkpoint is NLPRNN_E_IO). ctl NULL: no stop flag, a fresh run,
 *  this process alone. */
NLPRNN_API int nlprnn_lm_train_ctl(const nlprnn_lm_params *p, const char *train_path,
                                   const char *valid_path, const char *out_path,
                                   const nlprnn_train_ctl *ctl, nlprnn_lm_progress_fn progress,
                                   void *user, nlprnn_error *err);

/* ---- deprecated (0.1 names, kept for one release: docs/api.md "Changes in 0.2") ------------ */

/** Deprecated: nlprnn_lm_params_create (this one gives NULL when out of memory). */
NLPRNN_API nlprnn_lm_params *nlprnn_lm_params_new(void) NLPRNN_DEPRECATED("use nlprnn_lm_params_create");

#ifdef __cplusplus
}
#endif
#endif

/* nlprnn/forecast.h: numeric sequences — series from CSV, windowing, and a recurrent forecaster.
 *
 *   CSV column(s) -> series (n rows, F features) -> windows of `window` steps -> SimpleRNN/LSTM/GRU
 *   -> dense head -> the target column `horizon` steps after the window's last step.
 *
 * Windowing (the chapter's example): the series [16, 8, 32, 9, 23, 11, 19] with window 3 and
 * horizon 1 gives the samples [16,8,32]->9, [8,32,9]->23, [32,9,23]->11, [9,23,11]->19. Sample i
 * takes rows i .. i+window-1 as input and row i+window-1+horizon of the target column as target.
 *
 * Splits are chronological: the first `train` fraction of the rows is the training part, the next
 * `valid` fraction the validation part, the rest the test part. A sample belongs to the part that
 * holds its target row (its inputs may reach back into the previous part, as in any forecast).
 * The scaler (min-max or standard, per feature) is fitted on the training rows only and is stored
 * in the model file, so predictions take and return values in the series' own units.
 *
 * Thread rule: a trained or loaded nlprnn_forecaster is immutable; nlprnn_forecaster_evaluate()
 * and nlprnn_forecaster_predict() may be called on it from several threads at once (each call
 * uses its own scratch memory). Series and parameter objects belong to one thread at a time.
 */
#ifndef NLPRNN_FORECAST_H
#define NLPRNN_FORECAST_H

#include <stdint.h>

#include "nlprnn/base.h"
#include "nlprnn/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- series ------------------------------------------------------------------------------- */

/** A numeric series: n rows of F features (double precision, row-major), with column names and,
 *  when read from a file, the file name and the line of every row (for error messages). */
typedef struct nlprnn_series nlprnn_series;

/** Read columns of a CSV file (RFC 4180 quoting, LF or CRLF, optional final newline; at most
 *  1 GiB, 1024 fields a row and 256 columns read, NLPRNN_E_LIMIT beyond). The first
 *  line is the header; `columns` names `ncolumns` columns to read, in that order (the first one is
 *  the default target). An empty file, a header without rows, an unknown column, a row with too
 *  few fields, a missing value (empty cell, NA, NaN, null, ?), a non-numeric cell and a value
 *  beyond +-1e150 (whose square, in an error or a variance, would not be a finite number) are
 *  errors whose message names the file, the line and the byte offset ("temps.csv:12: byte 340:
 *  column 'Temp': missing value"). */
NLPRNN_API int nlprnn_series_load_csv(const char *path, const char *const *columns, int ncolumns,
                                      nlprnn_series **out, nlprnn_error *err);
/** Make a series from memory: `values` is (n, nfeatures) row-major; `names` may be NULL
 *  (columns are then called x0, x1, ...; so is a column whose name is NULL). Values must be
 *  finite and within +-1e150 (NLPRNN_E_DATA otherwise, as for nlprnn_series_load_csv). */
NLPRNN_API int nlprnn_series_create(const double *values, size_t n, int nfeatures,
                                    const char *const *names, nlprnn_series **out,
                                    nlprnn_error *err);
/** The chapter's noisy sine wave: one column "value" of `length` rows (2..10^8),
 *  x_t = sin(2 pi t / period) + noise * N(0, 1), the noise from a generator seeded with `seed`
 *  (the same seed gives the same series on every machine, the series `nlprnn forecast sine`
 *  wrote in 0.1). period > 0, noise >= 0. */
NLPRNN_API int nlprnn_series_create_sine(size_t length, double period, double noise, uint64_t seed,
                                         nlprnn_series **out, nlprnn_error *err);
/** Free a series (NULL is allowed). */
NLPRNN_API void nlprnn_series_free(nlprnn_series *s);
/** Number of rows (0 for NULL). */
NLPRNN_API size_t nlprnn_series_length(const nlprnn_series *s);
/** Number of features (columns) per row (0 for NULL). */
NLPRNN_API int nlprnn_series_features(const nlprnn_series *s);
/** The values, (length, features) row-major; valid until the series is freed. */
NLPRNN_API const double *nlprnn_series_values(const nlprnn_series *s);
/** The name of column j (0 <= j < features), or NULL. */
NLPRNN_API const char *nlprnn_series_column(const nlprnn_series *s, int j);

/** Number of samples a series of n rows gives: n - window - horizon + 1 (count may be NULL to
 *  check the sizes only). Fails with
 *  NLPRNN_E_DATA when that is less than 1, and with NLPRNN_E_INVALID_ARG when window or horizon
 *  is less than 1. */
NLPRNN_API int nlprnn_window_count(size_t n, int window, int horizon, size_t *count,
                                   nlprnn_error *err);
/** Cut samples first .. first+count-1 out of a series (values (n, nfeatures)):
 *  x (count, window, nfeatures) gets the inputs and y (count) the target column `target` (each
 *  may be NULL). Both are in the series' units (no scaling). Errors as nlprnn_window_count, and NLPRNN_E_INVALID_ARG
 *  when the range is beyond the last sample. When `s` came from a file, the message of a series
 *  shorter than window + horizon names the file and its last line. */
NLPRNN_API int nlprnn_series_windows(const nlprnn_series *s, int target, int window, int horizon,
                                     size_t first, size_t count, double *x, double *y,
                                     nlprnn_error *err);

/* ---- training parameters ------------------------------------------------------------------ */

/** Training parameters, set by name so that new ones never break the ABI. Each parameter, its
 *  default, range and meaning is listed by `nlprnn forecast --help` and docs/cli.md, both made
 *  from the one table nlprnn_forecaster_param_info reads. Notes on some of them:
 *    scaler   fitted on the training rows only
 *    relative 1: the model sees each window minus its last row and predicts the change of the
 *             target from its last value (the scaler is then fitted on the first differences of
 *             the training rows, offset 0); for series such as prices whose test part leaves the
 *             training part's range
 *    train, valid  fractions of the rows, in time order (test: the rest)
 *    ma       0: the moving-average baseline is as long as the window
 *    checkpoint  for nlprnn_forecaster_train_ctl ("": none)
 *  The weights of the epoch with the lowest validation loss are kept (the last epoch's when
 *  there is no validation part). */
typedef struct nlprnn_forecaster_params nlprnn_forecaster_params;

/** New parameters with the defaults above. NLPRNN_E_NOMEM when out of memory. */
NLPRNN_API int nlprnn_forecaster_params_create(nlprnn_forecaster_params **out, nlprnn_error *err);
/** Free parameters (NULL is allowed). */
NLPRNN_API void nlprnn_forecaster_params_free(nlprnn_forecaster_params *p);
/** Set one parameter from text ("hidden", "64"). Unknown names and out-of-range values fail with
 *  NLPRNN_E_INVALID_ARG and a message naming them. */
NLPRNN_API int nlprnn_forecaster_params_set(nlprnn_forecaster_params *p, const char *name,
                                            const char *value, nlprnn_error *err);
/** The current value of a parameter as text (into buf of size cap), or NLPRNN_E_INVALID_ARG. */
NLPRNN_API int nlprnn_forecaster_params_get(const nlprnn_forecaster_params *p, const char *name,
                                            char *buf, size_t cap, nlprnn_error *err);
/** Help for parameter i (0..): its name, default, accepted range and one line of help (pointers
 *  into static storage; each may be NULL; range: cap bytes, or NULL); NLPRNN_E_INVALID_ARG past
 *  the last. `nlprnn forecast --help` lists the parameters so. */
NLPRNN_API int nlprnn_forecaster_param_info(int i, const char **name, const char **def,
                                            const char **help, char *range, size_t cap,
                                            nlprnn_error *err);

/* ---- the forecaster ----------------------------------------------------------------------- */

/** A trained forecaster: configuration, scaler, column names, weights and loss history.
 *  Immutable once trained or loaded (see the thread rule above). */
typedef struct nlprnn_forecaster nlprnn_forecaster;

/** Called after every epoch with the mean training loss and the validation loss (MSE in scaled
 *  units; NaN when there is no validation part). Return non-zero to stop training (the call then
 *  fails with NLPRNN_E_INTERRUPTED and no model). */
typedef int (*nlprnn_forecaster_progress_fn)(void *user, int epoch, double train_loss,
                                             double valid_loss);

/** Train a forecaster on a series. Fails with NLPRNN_E_NUMERIC when the loss becomes NaN or
 *  infinite. The same as nlprnn_forecaster_train_ctl with ctl NULL. */
NLPRNN_API int nlprnn_forecaster_train(const nlprnn_series *s, const nlprnn_forecaster_params *p,
                                       nlprnn_forecaster_progress_fn progress, void *user,
                                       nlprnn_forecaster **out, nlprnn_error *err);
/** Train a forecaster, run as ctl says (nlprnn/train.h; NULL: no stop flag, a fresh run, this
 *  process alone). With the parameter "checkpoint" set, a checkpoint (kind "CKPT": weights,
 *  optimizer state, position, best weights, loss history) is written atomically after every
 *  epoch (and every "checkpoint-every" batches) and when stopping; a stop (the flag, or a
 *  non-zero return of the progress callback) then returns NLPRNN_E_INTERRUPTED after writing it,
 *  and a resumed run on the same series with the same parameters gives a forecaster
 *  bit-identical to an uninterrupted run. The caller removes the checkpoint when it no longer
 *  needs it. Over the ranks of a communicator each rank takes a slice of every batch. */
NLPRNN_API int nlprnn_forecaster_train_ctl(const nlprnn_series *s,
                                           const nlprnn_forecaster_params *p,
                                           const nlprnn_train_ctl *ctl,
                                           nlprnn_forecaster_progress_fn progress, void *user,
                                           nlprnn_forecaster **out, nlprnn_error *err);
/** Save as an nlprnn model file of kind "FCST" (configuration, scaler, column names, loss
 *  history, weights), written atomically. */
NLPRNN_API int nlprnn_forecaster_save(const nlprnn_forecaster *f, const char *path,
                                      nlprnn_error *err);
/** Load a model file of kind "FCST" from a path or, when `path_or_name` is a bare name without
 *  '/' or '.', from the shipped (installed) model of that name (nlprnn_model_find in
 *  nlprnn/modelfile.h: $NLPRNN_MODEL_DIR first), like every kind's loader; never from a file of
 *  that name in the current folder (write "./NAME"). Other kinds fail with NLPRNN_E_UNSUPPORTED,
 *  non-model files with NLPRNN_E_MAGIC, damaged ones with the model-file codes (checksum,
 *  truncated, format), each naming the file; a name with no such model NLPRNN_E_IO naming the
 *  folders looked in. */
NLPRNN_API int nlprnn_forecaster_load(const char *path_or_name, nlprnn_forecaster **out,
                                      nlprnn_error *err);
/** Free a forecaster (NULL is allowed). */
NLPRNN_API void nlprnn_forecaster_free(nlprnn_forecaster *f);

/** A forecaster's settings as text (same names as the parameters, plus "features" and
 *  "columns" (comma-separated), "scaler_a" and "scaler_b" (per-feature offsets and divisors:
 *  scaled = (x - a) / b), "best_epoch"). */
NLPRNN_API int nlprnn_forecaster_get(const nlprnn_forecaster *f, const char *name, char *buf,
                                     size_t cap, nlprnn_error *err);
/** The loss history: *epochs entries in train[] and valid[] (owned by f; valid is NaN where
 *  there was no validation part). */
NLPRNN_API void nlprnn_forecaster_history(const nlprnn_forecaster *f, int *epochs,
                                          const double **train, const double **valid);

/** Which part of a series to evaluate. */
enum { NLPRNN_PART_TRAIN = 0, NLPRNN_PART_VALID = 1, NLPRNN_PART_TEST = 2, NLPRNN_PART_ALL = 3 };
/** Rows of the metrics table filled by nlprnn_forecaster_evaluate(). */
enum {
    NLPRNN_FORECAST_MODEL = 0,          /**< the recurrent forecaster */
    NLPRNN_FORECAST_PERSISTENCE = 1,    /**< the target's last value in the window */
    NLPRNN_FORECAST_MOVING_AVERAGE = 2, /**< mean of the target's last `ma` values */
    NLPRNN_FORECAST_METHODS = 3
};
/** Columns of the metrics table. MAPE is in percent and skips targets equal to 0. */
enum { NLPRNN_METRIC_RMSE = 0, NLPRNN_METRIC_MAE = 1, NLPRNN_METRIC_MAPE = 2, NLPRNN_METRICS = 3 };

/** The windowing of f: `window` input rows, the target `horizon` rows after the window's last
 *  one, `target` its column (an index into the training series' columns), `features` columns.
 *  Any pointer may be NULL. */
NLPRNN_API void nlprnn_forecaster_dims(const nlprnn_forecaster *f, int *window, int *horizon,
                                       int *target, int *features);

/** The rows [*first, *first + *count) of one part (NLPRNN_PART_*) of a series of n rows under
 *  f's chronological split (the fractions it was trained with; rows, not samples: a sample
 *  belongs to the part that holds its target row). */
NLPRNN_API int nlprnn_forecaster_split(const nlprnn_forecaster *f, size_t n, int part,
                                       size_t *first, size_t *count, nlprnn_error *err);

/** What nlprnn_forecaster_evaluate finds. The caller sets `size` = sizeof(nlprnn_forecaster_eval)
 *  before the call; the library fills the fields that size reaches (fields may be added at the
 *  end). */
typedef struct nlprnn_forecaster_eval {
    size_t size;       /**< set by the caller: sizeof(nlprnn_forecaster_eval) */
    size_t count;      /**< samples evaluated */
    size_t first_row;  /**< the row of the first sample's target */
    double metrics[NLPRNN_FORECAST_METHODS][NLPRNN_METRICS]; /**< [method][metric]: RMSE, MAE,
                            MAPE (series units) of the model and of both baselines */
    double *pred;      /**< (count) the model's predictions; free with nlprnn_free */
    double *truth;     /**< (count) the targets; free with nlprnn_free */
} nlprnn_forecaster_eval;

/** Evaluate on one part (NLPRNN_PART_*) of a series with the same columns as the training series
 *  (the split fractions and the scaler are the forecaster's own). NLPRNN_E_EMPTY when the part
 *  has no sample. Every metric is a finite number: a forecast or an error beyond the double range
 *  is NLPRNN_E_DATA naming the file, line and column of the row. */
NLPRNN_API int nlprnn_forecaster_evaluate(const nlprnn_forecaster *f, const nlprnn_series *s,
                                          int part, nlprnn_forecaster_eval *res,
                                          nlprnn_error *err);

/** Predict `steps` values of the target after the end of `history` ((n, features) row-major,
 *  series units, n >= window; only its last `window` rows are used). Step 1 is the model's
 *  forecast `horizon` steps after the last row; with steps > 1 every prediction is appended to
 *  the window and fed back, which needs a single-feature model with horizon 1
 *  (NLPRNN_E_UNSUPPORTED otherwise). */
NLPRNN_API int nlprnn_forecaster_predict(const nlprnn_forecaster *f, const double *history,
                                         size_t n, int steps, double *out, nlprnn_error *err);

/* ---- vanishing and exploding gradients (the experiments behind `nlprnn gradflow`) ---------- */

/** The norm of the gradient of the loss at the last step with respect to the hidden state t steps
 *  back: norms[t] = mean over `batch` sequences of ||dL/dh_{T-t}||, t = 0 .. length-1, where
 *  L = squared error of a dense head on h_T of a one-layer `cell` ("rnn", "lstm", "gru") of
 *  `hidden` units, freshly initialised from `seed` (Glorot inputs, orthogonal recurrent weights
 *  multiplied by `gain`), on standard-normal inputs that are the same for every cell. For the LSTM
 *  the cell state c_{T-t} is held fixed (the gradient through h_{T-t}; the paths through later
 *  cell states are included). When `gate_bias` is finite, the input bias of the carry gate (the
 *  LSTM's forget gate, the GRU's update gate) is set to it, as training does when a task needs
 *  long memory; NaN keeps the initialisation (LSTM 1, GRU 0). SimpleRNN ignores it. A gain that
 *  is not a finite number is NLPRNN_E_INVALID_ARG. */
NLPRNN_API int nlprnn_gradflow_norms(const char *cell, int hidden, int length, int batch,
                                     double gain, double gate_bias, uint64_t seed,
                                     double *norms, nlprnn_error *err);
/** Train a one-layer `cell` with plain SGD (rate lr) for `steps` batches of noisy sines of
 *  `length` steps (target: the next value), recurrent weights multiplied by `gain` at init, with
 *  clipping by global norm when clip > 0. loss[s] gets the batch MSE and grad_norm[s] the
 *  gradient norm before clipping. A run that diverges (non-finite loss, gradient or weights) is a
 *  result, not an error: *diverged_at (may be NULL) gets its step and the remaining entries are
 *  NaN; otherwise *diverged_at = -1. gain, lr > 0 and clip >= 0 must be finite numbers
 *  (NLPRNN_E_INVALID_ARG otherwise). */
NLPRNN_API int nlprnn_gradflow_train(const char *cell, int hidden, int length, int batch,
                                     double gain, double lr, double clip, int steps,
                                     uint64_t seed, double *loss, double *grad_norm,
                                     int *diverged_at, nlprnn_error *err);

/* ---- deprecated (0.1 names, kept for one release: docs/api.md "Changes in 0.2") ------------ */

/** Deprecated: the old name of nlprnn_forecaster_params. */
typedef struct nlprnn_forecaster_params nlprnn_forecast_params
    NLPRNN_DEPRECATED("use nlprnn_forecaster_params");
/** Deprecated: the old name of nlprnn_forecaster_progress_fn. */
typedef nlprnn_forecaster_progress_fn nlprnn_forecast_progress_fn
    NLPRNN_DEPRECATED("use nlprnn_forecaster_progress_fn");
/** Deprecated: nlprnn_series_load_csv (the out-handle came first). */
NLPRNN_API int nlprnn_series_read_csv(nlprnn_series **out, const char *path,
                                      const char *const *columns, int ncolumns, nlprnn_error *err)
    NLPRNN_DEPRECATED("use nlprnn_series_load_csv");
/** Deprecated: nlprnn_series_create (the out-handle came first). */
NLPRNN_API int nlprnn_series_from_values(nlprnn_series **out, const double *values, size_t n,
                                         int nfeatures, const char *const *names,
                                         nlprnn_error *err)
    NLPRNN_DEPRECATED("use nlprnn_series_create");
/** Deprecated: nlprnn_forecaster_params_create (this one gives NULL when out of memory). */
NLPRNN_API nlprnn_forecaster_params *nlprnn_forecast_params_new(void)
    NLPRNN_DEPRECATED("use nlprnn_forecaster_params_create");
/** Deprecated: nlprnn_forecaster_params_free (NULL is allowed). */
NLPRNN_API void nlprnn_forecast_params_free(nlprnn_forecaster_params *p)
    NLPRNN_DEPRECATED("use nlprnn_forecaster_params_free");
/** Deprecated: nlprnn_forecaster_params_set. */
NLPRNN_API int nlprnn_forecast_params_set(nlprnn_forecaster_params *p, const char *name,
                                          const char *value, nlprnn_error *err)
    NLPRNN_DEPRECATED("use nlprnn_forecaster_params_set");
/** Deprecated: nlprnn_forecaster_params_get. */
NLPRNN_API int nlprnn_forecast_params_get(const nlprnn_forecaster_params *p, const char *name,
                                          char *buf, size_t cap, nlprnn_error *err)
    NLPRNN_DEPRECATED("use nlprnn_forecaster_params_get");

#ifdef __cplusplus
}
#endif
#endif

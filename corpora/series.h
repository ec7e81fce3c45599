/* corpora/series.h: numeric series (internal side of nlprnn/forecast.h).
 *
 *   CSV -> nlprnn_series (n, F) doubles -> split (train | valid | test by row) -> scaler fitted
 *   on the training rows -> windows (S, W, F) floats for the encoder, targets (S) floats.
 */
#ifndef NR_SERIES_H
#define NR_SERIES_H

#include <stddef.h>

#include "nlprnn/forecast.h"

struct nlprnn_series {
    size_t n;          /* rows */
    int nfeat;         /* features (columns) per row */
    double *x;         /* (n, nfeat) row-major */
    char **names;      /* nfeat column names */
    long long *lines;  /* (n) 1-based source line of each row, or NULL when not from a file */
    char *source;      /* file name, or NULL */
};

/* Series values must lie within +-NR_SERIES_MAX_ABS: squared errors, variances and scaled values
 * of such values stay finite doubles (a value of 1e308 would make them infinite). Beyond it a
 * value is NLPRNN_E_DATA naming file:line (or the row of nlprnn_series_from_values). */
#define NR_SERIES_MAX_ABS 1e150

/* ---- chronological split ------------------------------------------------------------------ */

/* Row boundaries: train rows [0, n_train), valid rows [n_train, n_train + n_valid), test rows
 * [n_train + n_valid, n). Row counts are floor(frac * n). */
typedef struct nr_split {
    size_t n_train, n_valid, n_test;
} nr_split;

int nr_split_rows(nr_split *sp, size_t n, double train_frac, double valid_frac, nlprnn_error *err);

/* Samples whose target row lies in part (NLPRNN_PART_*): sample indices [*first, *first+*count).
 * A sample i has target row i + window - 1 + horizon. *count may be 0. */
void nr_split_samples(const nr_split *sp, size_t n, int window, int horizon, int part,
                      size_t *first, size_t *count);

/* ---- scaling ------------------------------------------------------------------------------ */

enum { NR_SCALER_NONE = 0, NR_SCALER_MINMAX = 1, NR_SCALER_STANDARD = 2 };

/* scaled = (x - a[j]) / b[j] for feature j.
 *   minmax:   a = min, b = max - min    (maps the training rows to [0, 1])
 *   standard: a = mean, b = std (population)
 *   none:     a = 0, b = 1
 * b is set to 1 where it would be 0 (a constant feature). */
typedef struct nr_scaler {
    int kind;
    int nfeat;
    double *a;  /* (nfeat) */
    double *b;  /* (nfeat) */
} nr_scaler;

const char *nr_scaler_name(int kind);
int nr_scaler_kind(const char *name);  /* -1 when unknown */
/* Fit on rows [0, rows) of x (n >= rows, nfeat columns). Allocates a and b. A statistic that
 * overflows the double range (a range max - min or a standard deviation of values near 1e308)
 * is NLPRNN_E_DATA naming the column (names[j], or its index when names is NULL). */
int nr_scaler_fit(nr_scaler *sc, int kind, const double *x, size_t rows, int nfeat,
                  const char *const *names, nlprnn_error *err);
void nr_scaler_free(nr_scaler *sc);
static inline double nr_scale(const nr_scaler *sc, int j, double v) { return (v - sc->a[j]) / sc->b[j]; }
static inline double nr_unscale(const nr_scaler *sc, int j, double v) { return v * sc->b[j] + sc->a[j]; }

/* The series scaled to float: z (n, F), z[i F + j] = (float) nr_scale(sc, j, row i, feature j).
 * NULL when out of memory. */
float *nr_series_scaled(const nlprnn_series *s, const nr_scaler *sc);

/* Windows by their first row, in the encoder's time-major layout, from a scaled series z (n, F):
 *   x (W, B, F): x[(t B + b) F + j] = z[(idx[b] + t) F + j]
 *   y (B):       z[(idx[b] + W - 1 + horizon) F + target]
 * relative = 1: every row of a window and its target are taken relative to the window's last
 * row (x_t - x_last), so a model predicts the change from the last value (persistence is 0).
 * y may be NULL. The caller checked the range (idx[b] + W - 1 + horizon < n). */
void nr_series_gather(float *x, float *y, const float *z, int nfeat, int window, int horizon,
                      int target, int relative, const size_t *idx, int B);

/* A description of where the series came from, for messages: "temps.csv" or "series". */
const char *nr_series_source(const nlprnn_series *s);

#endif

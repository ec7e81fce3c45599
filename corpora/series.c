/* corpora/series.c: numeric series from CSV, windowing, chronological split, scaling. */
#include "corpora/series.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

#define NR_SERIES_MAX_BYTES ((size_t)1 << 30)
#define NR_SERIES_MAX_COLUMNS 256

/* ---- series objects ----------------------------------------------------------------------- */

void nlprnn_series_free(nlprnn_series *s) {
    if (!s) return;
    if (s->names)
        for (int j = 0; j < s->nfeat; j++) free(s->names[j]);
    free(s->names);
    free(s->x);
    free(s->lines);
    free(s->source);
    free(s);
}

size_t nlprnn_series_length(const nlprnn_series *s) { return s ? s->n : 0; }
int nlprnn_series_features(const nlprnn_series *s) { return s ? s->nfeat : 0; }
const double *nlprnn_series_values(const nlprnn_series *s) { return s ? s->x : NULL; }
const char *nlprnn_series_column(const nlprnn_series *s, int j) {
    return s && j >= 0 && j < s->nfeat ? s->names[j] : NULL;
}
const char *nr_series_source(const nlprnn_series *s) {
    return s && s->source ? s->source : "series";
}

static nlprnn_series *series_new(int nfeat) {
    nlprnn_series *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->nfeat = nfeat;
    s->names = nr_calloc_array((size_t)nfeat, sizeof *s->names);
    if (!s->names) {
        free(s);
        return NULL;
    }
    return s;
}

int nlprnn_series_create(const double *values, size_t n, int nfeatures, const char *const *names,
                         nlprnn_series **out, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "series: out is NULL");
    *out = NULL;
    if (nfeatures < 1 || nfeatures > NR_SERIES_MAX_COLUMNS)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "series: %d features (must be 1..%d)", nfeatures, NR_SERIES_MAX_COLUMNS);
    if (n == 0) return nr_fail(err, NLPRNN_E_EMPTY, -1, -1, "series: no values");
    if (!values) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "series: values is NULL");
    for (size_t i = 0; i < n * (size_t)nfeatures; i++)
        if (!(fabs(values[i]) <= NR_SERIES_MAX_ABS)) /* NaN fails too */
            return nr_fail(err, NLPRNN_E_DATA, -1, -1,
                           "series: value %zu (row %zu, feature %d) is %s", i,
                           i / (size_t)nfeatures, (int)(i % (size_t)nfeatures),
                           isfinite(values[i]) ? "beyond +-1e150, the range nlprnn computes with"
                                               : "not finite");
    nlprnn_series *s = series_new(nfeatures);
    if (!s) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "series: out of memory");
    s->n = n;
    s->x = nr_malloc_array(n * (size_t)nfeatures, sizeof *s->x);
    if (!s->x) goto nomem;
    memcpy(s->x, values, n * (size_t)nfeatures * sizeof *s->x);
    for (int j = 0; j < nfeatures; j++) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "x%d", j);
        s->names[j] = nr_strdup(names && names[j] ? names[j] : tmp);
        if (!s->names[j]) goto nomem;
    }
    *out = s;
    return 0;
nomem:
    nlprnn_series_free(s);
    return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "series: out of memory");
}

/* ---- CSV reading -------------------------------------------------------------------------- */

/* One field of the current record: its (unquoted) text and where it started. */
typedef struct csv_field {
    char *text;        /* unquoted, NUL-terminated (points into the scratch buffer) */
    long long offset;  /* byte offset of the field's first byte in the file */
} csv_field;

typedef struct csv_reader {
    const char *buf;
    size_t n, pos;
    long long line;      /* 1-based line of the next record's first byte */
    const char *path;
    char *scratch;       /* unquoted copies of the current record's fields */
    size_t scratch_cap;
    csv_field *fields;
    int nfields, cap_fields;
} csv_reader;

/* Read one record starting at r->pos into r->fields. Returns 1 when a record was read, 0 at the
 * end of the input, a negative status on error. *rec_line gets the record's first line. */
static int csv_next(csv_reader *r, long long *rec_line, nlprnn_error *err) {
    if (r->pos >= r->n) return 0;
    *rec_line = r->line;
    r->nfields = 0;
    size_t used = 0;
    /* the record is never longer than the rest of the input, so reserve that much once */
    size_t need = r->n - r->pos + 1;
    if (need > r->scratch_cap) {
        char *p = realloc(r->scratch, need);
        if (!p) return nr_fail(err, NLPRNN_E_NOMEM, r->line, (long long)r->pos, "%s: out of memory", r->path);
        r->scratch = p;
        r->scratch_cap = need;
    }
    for (;;) {
        if (r->nfields == r->cap_fields) {
            int nc = r->cap_fields ? 2 * r->cap_fields : 16;
            if (nc > 4 * NR_SERIES_MAX_COLUMNS)
                return nr_fail(err, NLPRNN_E_LIMIT, r->line, (long long)r->pos,
                               "%s:%lld: byte %zu: more than %d fields in a row", r->path,
                               r->line, r->pos, 4 * NR_SERIES_MAX_COLUMNS);
            csv_field *f = nr_realloc_array(r->fields, (size_t)nc, sizeof *f);
            if (!f) return nr_fail(err, NLPRNN_E_NOMEM, r->line, (long long)r->pos, "%s: out of memory", r->path);
            r->fields = f;
            r->cap_fields = nc;
        }
        csv_field *fld = &r->fields[r->nfields++];
        fld->offset = (long long)r->pos;
        fld->text = r->scratch + used;
        if (r->pos < r->n && r->buf[r->pos] == '"') {
            long long qline = r->line, qoff = (long long)r->pos;
            r->pos++;
            for (;;) {
                if (r->pos >= r->n)
                    return nr_fail(err, NLPRNN_E_DATA, qline, qoff,
                                   "%s:%lld: byte %lld: quoted field is not closed", r->path,
                                   qline, qoff);
                char c = r->buf[r->pos++];
                if (c == '"') {
                    if (r->pos < r->n && r->buf[r->pos] == '"') {
                        r->scratch[used++] = '"';
                        r->pos++;
                        continue;
                    }
                    break;
                }
                if (c == '\n') r->line++;
                if (c == '\0')
                    return nr_fail(err, NLPRNN_E_DATA, r->line, (long long)r->pos - 1,
                                   "%s:%lld: byte %zu: NUL byte in a field", r->path, r->line,
                                   r->pos - 1);
                r->scratch[used++] = c;
            }
            if (r->pos < r->n && r->buf[r->pos] != ',' && r->buf[r->pos] != '\n' &&
                r->buf[r->pos] != '\r')
                return nr_fail(err, NLPRNN_E_DATA, r->line, (long long)r->pos,
                               "%s:%lld: byte %zu: unexpected character after a closing quote",
                               r->path, r->line, r->pos);
        } else {
            while (r->pos < r->n && r->buf[r->pos] != ',' && r->buf[r->pos] != '\n' &&
                   r->buf[r->pos] != '\r') {
                if (r->buf[r->pos] == '\0')
                    return nr_fail(err, NLPRNN_E_DATA, r->line, (long long)r->pos,
                                   "%s:%lld: byte %zu: NUL byte in a field", r->path, r->line,
                                   r->pos);
                r->scratch[used++] = r->buf[r->pos++];
            }
        }
        r->scratch[used++] = '\0';
        if (r->pos >= r->n) break;
        char c = r->buf[r->pos];
        if (c == ',') {
            r->pos++;
            continue;
        }
        /* end of record: \n, \r\n or a lone \r */
        r->pos++;
        if (c == '\r' && r->pos < r->n && r->buf[r->pos] == '\n') r->pos++;
        r->line++;
        break;
    }
    return 1;
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
    return s;
}

static int is_missing(const char *s) {
    static const char *const marks[] = {"", "na", "n/a", "nan", "null", "none", "?", "-"};
    for (size_t i = 0; i < sizeof marks / sizeof *marks; i++) {
        const char *a = s, *b = marks[i];
        while (*a && *b && tolower((unsigned char)*a) == *b) a++, b++;
        if (!*a && !*b) return 1;
    }
    return 0;
}

/* Parse a decimal number (digits, sign, point, exponent; no hex, no inf/nan). */
static int parse_number(const char *s, double *v) {
    if (!*s) return 0;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p) && !strchr("+-.eE", *p)) return 0;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(d)) return 0;
    *v = d;
    return 1;
}

int nlprnn_series_load_csv(const char *path, const char *const *columns, int ncolumns,
                           nlprnn_series **out, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "series: out is NULL");
    *out = NULL;
    if (!path) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "series: path is NULL");
    if (!columns || ncolumns < 1 || ncolumns > NR_SERIES_MAX_COLUMNS)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "%s: name 1..%d columns to read", path,
                       NR_SERIES_MAX_COLUMNS);
    for (int k = 0; k < ncolumns; k++)
        if (!columns[k] || !*columns[k])
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "%s: column name %d is empty", path, k + 1);

    char *buf = NULL;
    size_t n = 0;
    int rc = nr_read_file(path, &buf, &n, NR_SERIES_MAX_BYTES, err);
    if (rc) return rc;
    csv_reader r = {.buf = buf, .n = n, .pos = 0, .line = 1, .path = path};
    int *colidx = NULL;
    nlprnn_series *s = NULL;
    size_t cap = 0;

    if (n >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) r.pos = 3; /* UTF-8 byte-order mark */
    /* blank content (only whitespace/newlines) counts as empty */
    size_t k0 = r.pos;
    while (k0 < n && (buf[k0] == ' ' || buf[k0] == '\t' || buf[k0] == '\r' || buf[k0] == '\n')) k0++;
    if (k0 == n) {
        rc = nr_fail(err, NLPRNN_E_EMPTY, 1, 0, "%s:1: byte 0: empty file (expected a header line naming the columns)", path);
        goto done;
    }

    long long line;
    rc = csv_next(&r, &line, err);
    if (rc < 0) goto done;
    colidx = nr_malloc_array((size_t)ncolumns, sizeof *colidx);
    s = series_new(ncolumns);
    if (!colidx || !s) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
        goto done;
    }
    int maxidx = 0;
    for (int k = 0; k < ncolumns; k++) {
        colidx[k] = -1;
        for (int f = 0; f < r.nfields; f++)
            if (!strcmp(trim(r.fields[f].text), columns[k])) {
                colidx[k] = f;
                break;
            }
        if (colidx[k] < 0) {
            char have[300] = "";
            for (int f = 0; f < r.nfields && strlen(have) < 250; f++) {
                strncat(have, f ? ", " : "", sizeof have - strlen(have) - 1);
                strncat(have, r.fields[f].text, sizeof have - strlen(have) - 1);
            }
            rc = nr_fail(err, NLPRNN_E_DATA, line, 0,
                         "%s:%lld: no column '%s' in the header (columns: %s)", path, line,
                         columns[k], have);
            goto done;
        }
        if (colidx[k] > maxidx) maxidx = colidx[k];
        s->names[k] = nr_strdup(columns[k]);
        if (!s->names[k]) {
            rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
            goto done;
        }
    }
    long long header_line = line;

    for (;;) {
        size_t rec_start = r.pos;
        rc = csv_next(&r, &line, err);
        if (rc < 0) goto done;
        if (rc == 0) break;
        /* an empty last line (the file ends with a newline, or blank lines at the end) */
        if (r.nfields == 1 && r.fields[0].text[0] == '\0') {
            size_t k = r.pos;
            while (k < n && (buf[k] == '\r' || buf[k] == '\n' || buf[k] == ' ')) k++;
            if (k == n) break;
        }
        if (r.nfields <= maxidx) {
            int k = 0;
            while (colidx[k] < r.nfields) k++; /* the first wanted column the row lacks */
            rc = nr_fail(err, NLPRNN_E_DATA, line, (long long)rec_start,
                         "%s:%lld: byte %zu: row has %d field%s, column '%s' is field %d", path,
                         line, rec_start, r.nfields, r.nfields == 1 ? "" : "s", columns[k],
                         colidx[k] + 1);
            goto done;
        }
        if (s->n == cap) {
            size_t nc = cap ? 2 * cap : 1024;
            double *x = nr_realloc_array(s->x, nc * (size_t)ncolumns, sizeof *x);
            if (!x) {
                rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
                goto done;
            }
            s->x = x;
            long long *ln = nr_realloc_array(s->lines, nc, sizeof *ln);
            if (!ln) {
                rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
                goto done;
            }
            s->lines = ln;
            cap = nc;
        }
        for (int k = 0; k < ncolumns; k++) {
            csv_field *fld = &r.fields[colidx[k]];
            char *t = trim(fld->text);
            double v;
            if (is_missing(t)) {
                rc = nr_fail(err, NLPRNN_E_DATA, line, fld->offset,
                             "%s:%lld: byte %lld: column '%s': missing value%s%s%s", path, line,
                             fld->offset, columns[k], *t ? " \"" : "", t, *t ? "\"" : "");
                goto done;
            }
            if (!parse_number(t, &v)) {
                rc = nr_fail(err, NLPRNN_E_DATA, line, fld->offset,
                             "%s:%lld: byte %lld: column '%s': not a number: \"%.40s\"", path,
                             line, fld->offset, columns[k], t);
                goto done;
            }
            if (!(fabs(v) <= NR_SERIES_MAX_ABS)) {
                rc = nr_fail(err, NLPRNN_E_DATA, line, fld->offset,
                             "%s:%lld: byte %lld: column '%s': value %.40s is beyond +-1e150, "
                             "the range nlprnn computes with (its square must be a finite number)",
                             path, line, fld->offset, columns[k], t);
                goto done;
            }
            s->x[s->n * (size_t)ncolumns + (size_t)k] = v;
        }
        s->lines[s->n] = line;
        s->n++;
    }
    if (s->n == 0) {
        rc = nr_fail(err, NLPRNN_E_EMPTY, header_line, -1,
                     "%s:%lld: the file has a header but no data rows", path, header_line);
        goto done;
    }
    s->source = nr_strdup(path);
    if (!s->source) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
        goto done;
    }
    *out = s;
    s = NULL;
    rc = 0;
done:
    nlprnn_series_free(s);
    free(colidx);
    free(r.fields);
    free(r.scratch);
    free(buf);
    return rc;
}

/* ---- windowing ---------------------------------------------------------------------------- */

int nlprnn_window_count(size_t n, int window, int horizon, size_t *count, nlprnn_error *err) {
    if (count) *count = 0;
    if (window < 1 || horizon < 1)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "windowing: window (%d) and horizon (%d) must be at least 1", window, horizon);
    size_t need = (size_t)window + (size_t)horizon;
    if (n < need)
        return nr_fail(err, NLPRNN_E_DATA, -1, -1,
                       "windowing: the series has %zu rows, fewer than window %d + horizon %d = %zu",
                       n, window, horizon, need);
    if (count) *count = n - need + 1;
    return 0;
}

/* The short-series error with the file and the line of the last row when known. */
static int short_series(const nlprnn_series *s, int window, int horizon, nlprnn_error *err) {
    size_t need = (size_t)window + (size_t)horizon;
    if (s->lines && s->n > 0) {
        long long last = s->lines[s->n - 1];
        return nr_fail(err, NLPRNN_E_DATA, last, -1,
                       "%s:%lld: the series ends after %zu rows; window %d + horizon %d needs at "
                       "least %zu", nr_series_source(s), last, s->n, window, horizon, need);
    }
    return nr_fail(err, NLPRNN_E_DATA, -1, -1,
                   "%s: the series has %zu rows; window %d + horizon %d needs at least %zu",
                   nr_series_source(s), s->n, window, horizon, need);
}

int nlprnn_series_windows(const nlprnn_series *s, int target, int window, int horizon,
                          size_t first, size_t count, double *x, double *y, nlprnn_error *err) {
    if (!s) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "windowing: series is NULL");
    if (target < 0 || target >= s->nfeat)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "windowing: target column %d is not in 0..%d", target, s->nfeat - 1);
    size_t total;
    int rc = nlprnn_window_count(s->n, window, horizon, &total, err);
    if (rc == NLPRNN_E_DATA) return short_series(s, window, horizon, err);
    if (rc) return rc;
    if (first > total || count > total - first)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "windowing: samples %zu..%zu asked, the series gives %zu", first,
                       first + count, total);
    size_t F = (size_t)s->nfeat, W = (size_t)window;
    for (size_t i = 0; i < count; i++) {
        size_t row = first + i;
        if (x) memcpy(x + i * W * F, s->x + row * F, W * F * sizeof *x); /* (count, W, F) */
        if (y) y[i] = s->x[(row + W - 1 + (size_t)horizon) * F + (size_t)target];
    }
    return 0;
}

float *nr_series_scaled(const nlprnn_series *s, const nr_scaler *sc) {
    size_t n = s->n, F = (size_t)s->nfeat;
    float *z = nr_malloc_array(n * F, sizeof *z);
    if (!z) return NULL;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < F; j++) z[i * F + j] = (float)nr_scale(sc, (int)j, s->x[i * F + j]);
    return z;
}

void nr_series_gather(float *x, float *y, const float *z, int nfeat, int window, int horizon,
                      int target, int relative, const size_t *idx, int B) {
    size_t W = (size_t)window, F = (size_t)nfeat, tgt = (size_t)target;
    for (int b = 0; b < B; b++) {
        size_t r0 = idx[b];
        const float *last = z + (r0 + W - 1) * F; /* the window's last row */
        for (size_t t = 0; t < W; t++) {
            float *row = x + (t * (size_t)B + (size_t)b) * F; /* (W,B,F) */
            memcpy(row, z + (r0 + t) * F, F * sizeof(float));
            if (relative)
                for (size_t j = 0; j < F; j++) row[j] -= last[j];
        }
        if (y) y[b] = z[(r0 + W - 1 + (size_t)horizon) * F + tgt] - (relative ? last[tgt] : 0.0f);
    }
}

/* ---- split -------------------------------------------------------------------------------- */

int nr_split_rows(nr_split *sp, size_t n, double train_frac, double valid_frac, nlprnn_error *err) {
    if (!(train_frac > 0 && train_frac <= 1 && valid_frac >= 0 && train_frac + valid_frac <= 1.0 + 1e-12))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "split: train %.3g and valid %.3g must be fractions with train > 0 and "
                       "train + valid <= 1", train_frac, valid_frac);
    sp->n_train = (size_t)floor(train_frac * (double)n);
    sp->n_valid = (size_t)floor(valid_frac * (double)n);
    if (sp->n_train > n) sp->n_train = n;
    if (sp->n_valid > n - sp->n_train) sp->n_valid = n - sp->n_train;
    sp->n_test = n - sp->n_train - sp->n_valid;
    return 0;
}

void nr_split_samples(const nr_split *sp, size_t n, int window, int horizon, int part,
                      size_t *first, size_t *count) {
    size_t lag = (size_t)window - 1 + (size_t)horizon; /* target row = sample + lag */
    size_t lo, hi;                                     /* target rows [lo, hi) */
    switch (part) {
    case NLPRNN_PART_TRAIN: lo = 0, hi = sp->n_train; break;
    case NLPRNN_PART_VALID: lo = sp->n_train, hi = sp->n_train + sp->n_valid; break;
    case NLPRNN_PART_TEST: lo = sp->n_train + sp->n_valid, hi = n; break;
    default: lo = 0, hi = n; break;
    }
    if (lo < lag) lo = lag;
    *first = lo - lag;
    *count = hi > lo ? hi - lo : 0;
}

/* ---- scaling ------------------------------------------------------------------------------ */

const char *nr_scaler_name(int kind) {
    switch (kind) {
    case NR_SCALER_MINMAX: return "minmax";
    case NR_SCALER_STANDARD: return "standard";
    default: return "none";
    }
}

int nr_scaler_kind(const char *name) {
    if (!name) return -1;
    if (!strcmp(name, "minmax")) return NR_SCALER_MINMAX;
    if (!strcmp(name, "standard")) return NR_SCALER_STANDARD;
    if (!strcmp(name, "none")) return NR_SCALER_NONE;
    return -1;
}

void nr_scaler_free(nr_scaler *sc) {
    if (!sc) return;
    free(sc->a);
    free(sc->b);
    sc->a = sc->b = NULL;
}

int nr_scaler_fit(nr_scaler *sc, int kind, const double *x, size_t rows, int nfeat,
                  const char *const *names, nlprnn_error *err) {
    sc->kind = kind;
    sc->nfeat = nfeat;
    sc->a = nr_calloc_array((size_t)nfeat, sizeof *sc->a);
    sc->b = nr_calloc_array((size_t)nfeat, sizeof *sc->b);
    if (!sc->a || !sc->b) {
        nr_scaler_free(sc);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "scaler: out of memory");
    }
    if (rows == 0 && kind != NR_SCALER_NONE) {
        nr_scaler_free(sc);
        return nr_fail(err, NLPRNN_E_EMPTY, -1, -1, "scaler: no training rows to fit on");
    }
    for (int j = 0; j < nfeat; j++) {
        double a = 0, b = 1;
        if (kind == NR_SCALER_MINMAX) {
            double lo = x[j], hi = x[j];
            for (size_t i = 1; i < rows; i++) {
                double v = x[i * (size_t)nfeat + (size_t)j];
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
            a = lo, b = hi - lo;
        } else if (kind == NR_SCALER_STANDARD) {
            double mean = 0, m2 = 0; /* Welford */
            for (size_t i = 0; i < rows; i++) {
                double v = x[i * (size_t)nfeat + (size_t)j], d = v - mean;
                mean += d / (double)(i + 1);
                m2 += d * (v - mean);
            }
            a = mean, b = sqrt(m2 / (double)rows);
        }
        if (!isfinite(a) || !isfinite(b)) {
            char col[32];
            snprintf(col, sizeof col, "%d", j);
            nr_scaler_free(sc);
            return nr_fail(err, NLPRNN_E_DATA, -1, -1,
                           "column '%s': the %s of its training rows overflows the double range "
                           "(values too large to scale)",
                           names && names[j] ? names[j] : col,
                           kind == NR_SCALER_MINMAX ? "range (max - min)" : "standard deviation");
        }
        if (!(b > 0)) b = 1; /* a constant feature */
        sc->a[j] = a;
        sc->b[j] = b;
    }
    return 0;
}

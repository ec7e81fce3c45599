/* corpora/reader.c: streaming line reader (plain, gzip, stdin, memory) and record readers
 * (TSV, CSV, one text a line, fastText) on top of it. See reader.h for the contract. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "common/common.h"
#include "corpora/dataset.h"
#include "corpora/reader.h"

#define CHUNK ((size_t)1 << 16)

/* ---- line reader -------------------------------------------------------------------------- */

struct nr_line_reader {
    char *name;
    gzFile gz;                   /* NULL for memory input */
    const unsigned char *mem;    /* memory input */
    size_t mem_len;
    unsigned char *ibuf;         /* (CHUNK) input buffer for gz */
    const unsigned char *in;     /* current input window */
    size_t in_pos, in_len;
    long long in_base;           /* stream offset of in[0] */
    int eof;                     /* the source has no more bytes */
    int fatal;                   /* sticky error code (I/O, truncation) */
    nlprnn_error fatal_err;
    char *line;                  /* assembled line */
    size_t line_len, line_cap;
    char *rep;                   /* line with U+FFFD replacements */
    size_t rep_cap;
    size_t max_line;
    int utf8_mode;
    long long lineno;
    long long replacements;
};

static int grow(char **buf, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    size_t ncap = *cap ? *cap : 256;
    while (ncap < need) ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    char *nb = realloc(*buf, ncap);
    if (!nb) return -1;
    *buf = nb;
    *cap = ncap;
    return 0;
}

static int reader_alloc(nr_line_reader **out, const char *name, const nr_line_opts *opts,
                        nlprnn_error *err) {
    nr_line_reader *r = calloc(1, sizeof *r);
    if (r) r->name = nr_strdup(name);
    if (!r || !r->name) {
        free(r);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", name);
    }
    r->max_line = opts && opts->max_line ? opts->max_line : NR_DEFAULT_MAX_LINE;
    r->utf8_mode = opts ? opts->utf8_mode : NR_UTF8_STRICT;
    if (r->max_line > SIZE_MAX / 4) r->max_line = SIZE_MAX / 4;
    *out = r;
    return NLPRNN_OK;
}

int nr_line_reader_open(nr_line_reader **out, const char *path, const nr_line_opts *opts,
                        nlprnn_error *err) {
    *out = NULL;
    if (!path) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "no input path given");
    if (opts && opts->utf8_mode != NR_UTF8_STRICT && opts->utf8_mode != NR_UTF8_REPLACE)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "%s: unknown UTF-8 mode %d", path,
                       opts->utf8_mode);
    int is_stdin = strcmp(path, "-") == 0;
    nr_line_reader *r;
    int rc = reader_alloc(&r, is_stdin ? "<stdin>" : path, opts, err);
    if (rc) return rc;
    r->ibuf = malloc(CHUNK);
    if (!r->ibuf) {
        nr_line_reader_close(r);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
    }
    if (is_stdin) {
        int fd = dup(0);
        r->gz = fd >= 0 ? gzdopen(fd, "rb") : NULL;
        if (!r->gz && fd >= 0) close(fd);
    } else {
        errno = 0;
        r->gz = gzopen(path, "rb");
    }
    if (!r->gz) {
        int e = errno;
        nr_line_reader_close(r);
        return nr_fail(err, NLPRNN_E_IO, -1, -1, "%s: cannot open: %s", path,
                       e ? strerror(e) : "out of memory");
    }
    gzbuffer(r->gz, (unsigned)CHUNK);
    r->in = r->ibuf;
    *out = r;
    return NLPRNN_OK;
}

int nr_line_reader_open_mem(nr_line_reader **out, const char *name, const void *data, size_t n,
                            const nr_line_opts *opts, nlprnn_error *err) {
    *out = NULL;
    if (!name) name = "<memory>";
    if (!data && n) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "%s: no data", name);
    if (opts && opts->utf8_mode != NR_UTF8_STRICT && opts->utf8_mode != NR_UTF8_REPLACE)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "%s: unknown UTF-8 mode %d", name,
                       opts->utf8_mode);
    nr_line_reader *r;
    int rc = reader_alloc(&r, name, opts, err);
    if (rc) return rc;
    r->mem = data;
    r->mem_len = n;
    r->in = data;
    r->in_len = n;
    r->eof = 1;
    *out = r;
    return NLPRNN_OK;
}

const char *nr_line_reader_name(const nr_line_reader *r) { return r->name; }
long long nr_line_reader_replacements(const nr_line_reader *r) { return r->replacements; }

void nr_line_reader_close(nr_line_reader *r) {
    if (!r) return;
    if (r->gz) gzclose(r->gz);
    free(r->ibuf);
    free(r->line);
    free(r->rep);
    free(r->name);
    free(r);
}

static int set_fatal(nr_line_reader *r, nlprnn_error *err, int code, long long off,
                     const char *what) {
    r->fatal = code;
    nr_fail(&r->fatal_err, code, r->lineno, off, "%s:%lld: byte %lld: %s", r->name, r->lineno,
            off, what);
    if (err) *err = r->fatal_err;
    return code;
}

/* Refill the input window from the gzip stream. Returns 1 with bytes, 0 at a clean end, or a
 * negative status (I/O error, truncated or corrupt gzip stream). */
static int refill(nr_line_reader *r, nlprnn_error *err) {
    r->in_base += (long long)r->in_len;
    r->in_pos = r->in_len = 0;
    if (r->eof) return 0;
    int got = gzread(r->gz, r->ibuf, (unsigned)CHUNK);
    int zerr = Z_OK;
    const char *msg = got <= 0 ? gzerror(r->gz, &zerr) : NULL;
    if (got > 0) {
        r->in_len = (size_t)got;
        return 1;
    }
    r->eof = 1;
    if (got == 0 && zerr == Z_OK) return 0;
    /* A damaged corpus is bad input data (NLPRNN_E_DATA, program exit 3), not a damaged
     * model or tokenizer file (NLPRNN_E_TRUNCATED / _FORMAT, exit 5). */
    if (zerr == Z_BUF_ERROR)
        return set_fatal(r, err, NLPRNN_E_DATA, r->in_base,
                         "the gzip stream ends early (truncated file)");
    if (zerr == Z_ERRNO) {
        char what[200];
        snprintf(what, sizeof what, "read error: %s", strerror(errno));
        return set_fatal(r, err, NLPRNN_E_IO, r->in_base, what);
    }
    char what[300];
    snprintf(what, sizeof what, "corrupt gzip stream: %s", msg ? msg : "unknown error");
    return set_fatal(r, err, zerr == Z_DATA_ERROR ? NLPRNN_E_DATA : NLPRNN_E_IO, r->in_base,
                     what);
}

/* Replace invalid sequences of line[0..len) by U+FFFD into r->rep. */
static int replace_invalid(nr_line_reader *r, size_t first_bad, nlprnn_error *err) {
    const unsigned char *s = (const unsigned char *)r->line;
    size_t n = r->line_len;
    /* worst case: every byte becomes 3 */
    if (n > (SIZE_MAX - 1) / 3 || grow(&r->rep, &r->rep_cap, 3 * n + 1))
        return nr_fail(err, NLPRNN_E_NOMEM, r->lineno, -1, "%s:%lld: out of memory", r->name,
                       r->lineno);
    memcpy(r->rep, s, first_bad);
    size_t o = first_bad, i = first_bad;
    while (i < n) {
        size_t bad = 0, k = nr_utf8_seq(s + i, n - i, &bad);
        if (k) {
            memcpy(r->rep + o, s + i, k);
            o += k;
            i += k;
        } else {
            memcpy(r->rep + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += bad;
            r->replacements++;
        }
    }
    r->rep[o] = '\0';
    char *t = r->line;
    size_t tc = r->line_cap;
    r->line = r->rep;
    r->line_cap = r->rep_cap;
    r->line_len = o;
    r->rep = t;
    r->rep_cap = tc;
    return NLPRNN_OK;
}

int nr_line_reader_next(nr_line_reader *r, nr_line *line, nlprnn_error *err) {
    if (r->fatal) {
        if (err) *err = r->fatal_err;
        return r->fatal;
    }
    r->line_len = 0;
    long long start = r->in_base + (long long)r->in_pos;
    int overlong = 0, any = 0, rc;
    for (;;) {
        if (r->in_pos >= r->in_len) {
            if (r->mem) {
                r->in_base += (long long)r->in_len;
                r->in_pos = r->in_len = 0;
                r->in = r->mem; /* keep a valid pointer; no more bytes */
                r->mem_len = 0;
                rc = 0;
            } else {
                rc = refill(r, err);
            }
            if (rc < 0) return rc;
            if (rc == 0) {
                if (!any) return 0; /* clean end, no partial line */
                break;              /* last line without "\n" */
            }
        }
        any = 1;
        const unsigned char *p = r->in + r->in_pos;
        size_t avail = r->in_len - r->in_pos;
        const unsigned char *nl = memchr(p, '\n', avail);
        size_t seg = nl ? (size_t)(nl - p) : avail;
        if (!overlong) {
            /* max_line + 1 leaves room for a "\r" that the "\n" will strip */
            if (r->line_len + seg > r->max_line + 1) {
                overlong = 1;
            } else {
                if (grow(&r->line, &r->line_cap, r->line_len + seg + 1))
                    return nr_fail(err, NLPRNN_E_NOMEM, r->lineno + 1, start,
                                   "%s:%lld: out of memory", r->name, r->lineno + 1);
                memcpy(r->line + r->line_len, p, seg);
                r->line_len += seg;
            }
        }
        r->in_pos += seg + (nl ? 1 : 0);
        if (nl) break;
    }
    r->lineno++;
    if (!overlong && r->line_len > 0 && r->line[r->line_len - 1] == '\r' &&
        r->in_base + (long long)r->in_pos > start + (long long)r->line_len) /* ended by "\n" */
        r->line_len--;
    if (r->lineno == 1 && !overlong && r->line_len >= 3 && !memcmp(r->line, "\xEF\xBB\xBF", 3)) {
        /* a byte order mark at the start of the stream is not text; offsets still count it */
        memmove(r->line, r->line + 3, r->line_len - 3);
        r->line_len -= 3;
        start += 3;
    }
    if (overlong || r->line_len > r->max_line)
        return nr_fail(err, NLPRNN_E_LIMIT, r->lineno, start,
                       "%s:%lld: line is longer than the limit of %zu bytes", r->name, r->lineno,
                       r->max_line);
    if (!r->line) {
        if (grow(&r->line, &r->line_cap, 1))
            return nr_fail(err, NLPRNN_E_NOMEM, r->lineno, start, "%s: out of memory", r->name);
    }
    r->line[r->line_len] = '\0';
    size_t bad = nr_utf8_check(r->line, r->line_len);
    if (bad < r->line_len) {
        if (r->utf8_mode != NR_UTF8_REPLACE)
            return nr_fail(err, NLPRNN_E_UTF8, r->lineno, start + (long long)bad,
                           "%s:%lld: byte %lld: invalid UTF-8 (0x%02X)", r->name, r->lineno,
                           start + (long long)bad, (unsigned char)r->line[bad]);
        rc = replace_invalid(r, bad, err);
        if (rc) return rc;
    }
    line->text = r->line;
    line->len = r->line_len;
    line->lineno = r->lineno;
    line->offset = start;
    return 1;
}

/* ---- records ------------------------------------------------------------------------------ */

void nr_record_opts_default(nr_record_opts *o) {
    memset(o, 0, sizeof *o);
    o->format = NR_FORMAT_AUTO;
    o->line.max_line = NR_DEFAULT_MAX_LINE;
    o->line.utf8_mode = NR_UTF8_STRICT;
}

static int ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

int nr_record_format_for_path(const char *path) {
    if (!path) return NR_FORMAT_LINES;
    if (ends_with(path, ".tsv") || ends_with(path, ".tsv.gz")) return NR_FORMAT_TSV;
    if (ends_with(path, ".csv") || ends_with(path, ".csv.gz")) return NR_FORMAT_CSV;
    if (ends_with(path, ".ft") || ends_with(path, ".ft.gz") || ends_with(path, ".fasttext") ||
        ends_with(path, ".fasttext.gz"))
        return NR_FORMAT_FASTTEXT;
    return NR_FORMAT_LINES;
}

struct nr_record_reader {
    nr_line_reader *lr;
    int format;
    int skip_bad, keep_empty;
    size_t max_record;
    int ncols;            /* header columns (TSV/CSV) */
    int text_col, label_col, extra_col;
    int has_labels;
    char *rec;            /* CSV: unescaped fields, NUL-separated */
    size_t rec_len, rec_cap;
    size_t *fstart;       /* CSV field starts in rec */
    size_t *flen;
    long long *fpos;      /* CSV field starts in the stream (byte offsets) */
    int fcap;
    const char **tf;      /* TSV field pointers into the line */
    size_t *tl;
    nr_record_stats st;
    int peeked;             /* line 1 was read to find the format: next_line returns it again */
    int peek_rc;
    nr_line peek;
    nlprnn_error peek_err;
};

static int is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t') return 0;
    return 1;
}

static int next_line(nr_record_reader *r, nr_line *ln, nlprnn_error *err) {
    if (r->peeked) {
        r->peeked = 0;
        *ln = r->peek;
        if (r->peek_rc < 0 && err) *err = r->peek_err;
        return r->peek_rc;
    }
    return nr_line_reader_next(r->lr, ln, err); /* (a byte order mark is skipped there) */
}

/* Make room for `n` fields. */
static int field_room(nr_record_reader *r, int n) {
    if (n <= r->fcap) return 0;
    int nc = r->fcap ? r->fcap * 2 : 16;
    while (nc < n) nc *= 2;
    size_t *a = realloc(r->fstart, (size_t)nc * sizeof *a);
    if (!a) return -1;
    r->fstart = a;
    size_t *b = realloc(r->flen, (size_t)nc * sizeof *b);
    if (!b) return -1;
    r->flen = b;
    const char **c = realloc(r->tf, (size_t)nc * sizeof *c);
    if (!c) return -1;
    r->tf = c;
    size_t *d = realloc(r->tl, (size_t)nc * sizeof *d);
    if (!d) return -1;
    r->tl = d;
    long long *e = realloc(r->fpos, (size_t)nc * sizeof *e);
    if (!e) return -1;
    r->fpos = e;
    r->fcap = nc;
    return 0;
}

/* Split a TSV line into r->tf/r->tl; returns the field count or -1 (out of memory). */
static int split_tsv(nr_record_reader *r, const char *s, size_t n) {
    int k = 0;
    size_t i = 0;
    for (;;) {
        const char *tab = memchr(s + i, '\t', n - i);
        size_t e = tab ? (size_t)(tab - s) : n;
        if (field_room(r, k + 1)) return -1;
        r->tf[k] = s + i;
        r->tl[k] = e - i;
        k++;
        if (!tab) break;
        i = e + 1;
    }
    return k;
}

static int rec_put(nr_record_reader *r, const char *s, size_t n) {
    if (grow(&r->rec, &r->rec_cap, r->rec_len + n + 1)) return -1;
    memcpy(r->rec + r->rec_len, s, n);
    r->rec_len += n;
    return 0;
}

/* Parse one CSV record (RFC 4180) that starts with line *ln, reading continuation lines while a
 * quoted field is open. Fields land in r->rec (NUL-terminated each), r->fstart/r->flen.
 * Returns the field count, 0 at the end of input, or a negative status. */
static int read_csv(nr_record_reader *r, nr_line *first, nlprnn_error *err) {
    nr_line ln;
    int rc = next_line(r, &ln, err);
    if (rc <= 0) return rc;
    *first = ln;
    r->rec_len = 0;
    int k = 0;
    size_t i = 0;
    const char *s = ln.text;
    size_t n = ln.len;
    const char *name = nr_line_reader_name(r->lr);
    for (;;) { /* one field per iteration */
        if (field_room(r, k + 1)) goto oom;
        r->fstart[k] = r->rec_len;
        r->fpos[k] = ln.offset + (long long)i;
        if (i < n && s[i] == '"') {
            i++;
            for (;;) {
                const char *q = memchr(s + i, '"', n - i);
                if (!q) { /* the quoted field goes on in the next line */
                    if (rec_put(r, s + i, n - i) || rec_put(r, "\n", 1)) goto oom;
                    if (r->rec_len > r->max_record)
                        return nr_fail(err, NLPRNN_E_LIMIT, first->lineno, first->offset,
                                       "%s:%lld: record is longer than the limit of %zu bytes",
                                       name, first->lineno, r->max_record);
                    rc = next_line(r, &ln, err);
                    if (rc < 0) return rc;
                    if (rc == 0)
                        return nr_fail(err, NLPRNN_E_DATA, first->lineno, first->offset,
                                       "%s:%lld: quoted field is never closed", name,
                                       first->lineno);
                    s = ln.text;
                    n = ln.len;
                    i = 0;
                    continue;
                }
                size_t qi = (size_t)(q - s);
                if (rec_put(r, s + i, qi - i)) goto oom;
                if (qi + 1 < n && s[qi + 1] == '"') { /* "" is one " */
                    if (rec_put(r, "\"", 1)) goto oom;
                    i = qi + 2;
                    continue;
                }
                i = qi + 1;
                break;
            }
            if (i < n && s[i] != ',')
                return nr_fail(err, NLPRNN_E_DATA, ln.lineno, ln.offset + (long long)i,
                               "%s:%lld: byte %lld: unexpected character after a quoted field",
                               name, ln.lineno, ln.offset + (long long)i);
        } else {
            const char *c = memchr(s + i, ',', n - i);
            size_t e = c ? (size_t)(c - s) : n;
            if (rec_put(r, s + i, e - i)) goto oom;
            i = e;
        }
        r->flen[k] = r->rec_len - r->fstart[k];
        if (rec_put(r, "", 0) || grow(&r->rec, &r->rec_cap, r->rec_len + 1)) goto oom;
        r->rec[r->rec_len++] = '\0';
        k++;
        if (i >= n) break;
        i++; /* skip ',' */
        if (i == n) { /* a trailing ',' ends with one more empty field */
            if (field_room(r, k + 1)) goto oom;
            r->fstart[k] = r->rec_len;
            r->fpos[k] = ln.offset + (long long)i;
            r->flen[k] = 0;
            if (grow(&r->rec, &r->rec_cap, r->rec_len + 1)) goto oom;
            r->rec[r->rec_len++] = '\0';
            k++;
            break;
        }
    }
    return k;
oom:
    return nr_fail(err, NLPRNN_E_NOMEM, first->lineno, first->offset, "%s:%lld: out of memory",
                   name, first->lineno);
}

static const char *const default_text_cols[] = {"document", "text", "sentence", "review"};

/* Read the header of a TSV/CSV file and resolve the columns. */
static int read_header(nr_record_reader *r, const nr_record_opts *o, nlprnn_error *err) {
    const char *name = nr_line_reader_name(r->lr);
    nr_line ln;
    int k;
    if (r->format == NR_FORMAT_CSV) {
        k = read_csv(r, &ln, err);
        if (k < 0) return k;
        if (k > 0) {
            for (int j = 0; j < k; j++) {
                r->tf[j] = r->rec + r->fstart[j];
                r->tl[j] = r->flen[j];
            }
        }
    } else {
        int rc = next_line(r, &ln, err);
        if (rc < 0) return rc;
        k = rc == 0 ? 0 : split_tsv(r, ln.text, ln.len);
        if (k < 0) return nr_fail(err, NLPRNN_E_NOMEM, 1, 0, "%s: out of memory", name);
    }
    if (k == 0) return nr_fail(err, NLPRNN_E_EMPTY, -1, -1, "%s: empty file (no header line)",
                               name);
    r->ncols = k;
    r->text_col = r->label_col = r->extra_col = -1;
    for (int j = 0; j < k; j++) {
        if (o->extra_column && strlen(o->extra_column) == r->tl[j] &&
            !memcmp(o->extra_column, r->tf[j], r->tl[j]))
            r->extra_col = j;
        if (o->text_column) {
            if (strlen(o->text_column) == r->tl[j] && !memcmp(o->text_column, r->tf[j], r->tl[j]))
                r->text_col = j;
        }
        const char *lc = o->label_column ? o->label_column : "label";
        if (*lc && strlen(lc) == r->tl[j] && !memcmp(lc, r->tf[j], r->tl[j])) r->label_col = j;
    }
    if (!o->text_column) {
        for (size_t d = 0; d < sizeof default_text_cols / sizeof *default_text_cols; d++) {
            for (int j = 0; j < k && r->text_col < 0; j++)
                if (strlen(default_text_cols[d]) == r->tl[j] &&
                    !memcmp(default_text_cols[d], r->tf[j], r->tl[j]))
                    r->text_col = j;
            if (r->text_col >= 0) break;
        }
    }
    int need_label = o->require_label || (o->label_column && *o->label_column);
    int need_extra = o->extra_column != NULL;
    if (r->text_col < 0 || (need_label && r->label_col < 0) || (need_extra && r->extra_col < 0)) {
        char cols[300];
        size_t used = 0;
        cols[0] = '\0';
        for (int j = 0; j < k && used + 8 < sizeof cols; j++) {
            int w = snprintf(cols + used, sizeof cols - used, "%s\"%.*s\"", j ? ", " : "",
                             (int)(r->tl[j] > 40 ? 40 : r->tl[j]), r->tf[j]);
            if (w < 0) break;
            used += (size_t)w;
            if (used >= sizeof cols) used = sizeof cols - 1;
        }
        if (r->text_col < 0)
            return nr_fail(err, NLPRNN_E_DATA, 1, 0,
                           "%s:1: no text column \"%s\" in the header (columns: %s)", name,
                           o->text_column ? o->text_column : "document", cols);
        if (need_label && r->label_col < 0)
            return nr_fail(err, NLPRNN_E_DATA, 1, 0,
                           "%s:1: no label column \"%s\" in the header (columns: %s)", name,
                           o->label_column && *o->label_column ? o->label_column : "label", cols);
        return nr_fail(err, NLPRNN_E_DATA, 1, 0,
                       "%s:1: no column \"%s\" in the header (columns: %s)", name,
                       o->extra_column, cols);
    }
    r->has_labels = r->label_col >= 0;
    return NLPRNN_OK;
}

static int open_common(nr_record_reader **out, nr_line_reader *lr, const char *path,
                       const nr_record_opts *opts, nlprnn_error *err) {
    nr_record_opts def;
    if (!opts) {
        nr_record_opts_default(&def);
        opts = &def;
    }
    nr_record_reader *r = calloc(1, sizeof *r);
    if (!r) {
        nr_line_reader_close(lr);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
    }
    r->lr = lr;
    r->format = opts->format == NR_FORMAT_AUTO ? nr_record_format_for_path(path) : opts->format;
    r->skip_bad = opts->skip_bad;
    r->keep_empty = opts->keep_empty;
    r->max_record = opts->line.max_line ? opts->line.max_line : NR_DEFAULT_MAX_LINE;
    r->text_col = r->label_col = r->extra_col = -1;
    int rc = NLPRNN_OK;
    if (r->format < NR_FORMAT_TSV || r->format > NR_FORMAT_FASTTEXT) {
        rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "%s: unknown record format %d", path,
                     opts->format);
    } else if (r->format == NR_FORMAT_TSV || r->format == NR_FORMAT_CSV) {
        rc = read_header(r, opts, err);
    } else if (opts->extra_column) {
        rc = nr_fail(err, NLPRNN_E_DATA, -1, -1,
                     "%s: a column \"%s\" needs a TSV or CSV file with a header line (the file "
                     "is read as %s)",
                     path, opts->extra_column,
                     r->format == NR_FORMAT_FASTTEXT ? "fastText lines" : "one text a line");
    } else {
        if (opts->format == NR_FORMAT_AUTO && r->format == NR_FORMAT_LINES) {
            /* the name says nothing (not .tsv/.csv/.ft): fastText lines are told by their
             * content, the first line starting with __label__ */
            r->peek_rc = next_line(r, &r->peek, &r->peek_err);
            r->peeked = 1;
            if (r->peek_rc == 1) {
                size_t i = strspn(r->peek.text, " \t");
                if (r->peek.len - i >= 9 && !memcmp(r->peek.text + i, "__label__", 9))
                    r->format = NR_FORMAT_FASTTEXT;
            }
        }
        r->has_labels = r->format == NR_FORMAT_FASTTEXT;
    }
    if (rc) {
        nr_record_reader_close(r);
        return rc;
    }
    *out = r;
    return NLPRNN_OK;
}

int nr_record_reader_open(nr_record_reader **out, const char *path, const nr_record_opts *opts,
                          nlprnn_error *err) {
    *out = NULL;
    nr_line_reader *lr;
    int rc = nr_line_reader_open(&lr, path, opts ? &opts->line : NULL, err);
    if (rc) return rc;
    return open_common(out, lr, path, opts, err);
}

int nr_record_reader_open_mem(nr_record_reader **out, const char *name, const void *data,
                              size_t n, const nr_record_opts *opts, nlprnn_error *err) {
    *out = NULL;
    nr_line_reader *lr;
    int rc = nr_line_reader_open_mem(&lr, name, data, n, opts ? &opts->line : NULL, err);
    if (rc) return rc;
    return open_common(out, lr, nr_line_reader_name(lr), opts, err);
}

int nr_record_reader_has_labels(const nr_record_reader *r) { return r->has_labels; }
int nr_record_reader_format(const nr_record_reader *r) { return r->format; }
const char *nr_record_reader_name(const nr_record_reader *r) {
    return nr_line_reader_name(r->lr);
}

void nr_record_reader_stats(const nr_record_reader *r, nr_record_stats *st) {
    *st = r->st;
    st->replacements = nr_line_reader_replacements(r->lr);
}

void nr_record_reader_close(nr_record_reader *r) {
    if (!r) return;
    nr_line_reader_close(r->lr);
    free(r->rec);
    free(r->fstart);
    free(r->flen);
    free(r->tf);
    free(r->tl);
    free(r->fpos);
    free(r);
}

#define FT_PREFIX "__label__"
#define FT_PREFIX_LEN 9

/* Parse one record from the next line(s). Returns 1, 0 at the end, 2 for "skip this row as
 * empty", or a negative status for a malformed row. */
static int parse_one(nr_record_reader *r, nr_record *rec, nlprnn_error *err) {
    const char *name = nr_line_reader_name(r->lr);
    nr_line ln;
    int rc;
    memset(rec, 0, sizeof *rec);
    if (r->format == NR_FORMAT_CSV) {
        int k = read_csv(r, &ln, err);
        if (k <= 0) return k;
        rec->lineno = ln.lineno;
        rec->offset = ln.offset;
        if (k == 1 && r->flen[0] == 0 && r->ncols > 1) return 2; /* blank line */
        if (k != r->ncols)
            return nr_fail(err, NLPRNN_E_DATA, ln.lineno, ln.offset,
                           "%s:%lld: %d field%s, the header has %d", name, ln.lineno, k,
                           k == 1 ? "" : "s", r->ncols);
        rec->text = r->rec + r->fstart[r->text_col];
        rec->text_len = r->flen[r->text_col];
        if (r->label_col >= 0) {
            rec->label = r->rec + r->fstart[r->label_col];
            rec->label_len = r->flen[r->label_col];
        }
        if (r->extra_col >= 0) {
            rec->extra = r->rec + r->fstart[r->extra_col];
            rec->extra_len = r->flen[r->extra_col];
            rec->extra_offset = r->fpos[r->extra_col];
        }
    } else {
        rc = next_line(r, &ln, err);
        if (rc <= 0) return rc;
        rec->lineno = ln.lineno;
        rec->offset = ln.offset;
        if (r->format == NR_FORMAT_LINES) {
            rec->text = ln.text;
            rec->text_len = ln.len;
        } else if (r->format == NR_FORMAT_TSV) {
            if (ln.len == 0 && r->ncols > 1) return 2;
            int k = split_tsv(r, ln.text, ln.len);
            if (k < 0)
                return nr_fail(err, NLPRNN_E_NOMEM, ln.lineno, ln.offset, "%s: out of memory",
                               name);
            if (k != r->ncols)
                return nr_fail(err, NLPRNN_E_DATA, ln.lineno, ln.offset,
                               "%s:%lld: %d field%s, the header has %d", name, ln.lineno, k,
                               k == 1 ? "" : "s", r->ncols);
            /* fields point into the line buffer; terminate them in place */
            char *base = (char *)ln.text;
            for (int j = 0; j < k; j++) base[(r->tf[j] - ln.text) + r->tl[j]] = '\0';
            rec->text = r->tf[r->text_col];
            rec->text_len = r->tl[r->text_col];
            if (r->label_col >= 0) {
                rec->label = r->tf[r->label_col];
                rec->label_len = r->tl[r->label_col];
            }
            if (r->extra_col >= 0) {
                rec->extra = r->tf[r->extra_col];
                rec->extra_len = r->tl[r->extra_col];
                rec->extra_offset = ln.offset + (long long)(r->tf[r->extra_col] - ln.text);
            }
        } else { /* fastText */
            char *s = (char *)ln.text;
            size_t n = ln.len, i = 0;
            while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
            if (i == n) return 2;
            int nlab = 0;
            while (i + FT_PREFIX_LEN <= n && !memcmp(s + i, FT_PREFIX, FT_PREFIX_LEN)) {
                size_t b = i + FT_PREFIX_LEN, e = b;
                while (e < n && s[e] != ' ' && s[e] != '\t') e++;
                if (nlab == 0) {
                    rec->label = s + b;
                    rec->label_len = e - b;
                }
                nlab++;
                i = e;
                while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
                if (nlab == 1) s[e] = '\0'; /* terminate the first label (at e == n: the NUL) */
            }
            if (nlab == 0)
                return nr_fail(err, NLPRNN_E_DATA, ln.lineno, ln.offset,
                               "%s:%lld: no __label__ at the start of the line", name,
                               ln.lineno);
            if (nlab > 1) {
                rec->extra_labels = nlab - 1;
                r->st.multi_label++;
            }
            rec->text = s + i;
            rec->text_len = n - i;
        }
    }
    if (rec->label && rec->label_len == 0)
        return nr_fail(err, NLPRNN_E_DATA, rec->lineno, rec->offset, "%s:%lld: empty label", name,
                       rec->lineno);
    if (rec->label) { /* e.g. a quoted CSV label with a TAB or a line feed inside */
        nlprnn_error why;
        if (nr_label_check(rec->label, rec->label_len, &why))
            return nr_fail(err, NLPRNN_E_DATA, rec->lineno, rec->offset, "%s:%lld: %s", name,
                           rec->lineno, why.message);
    }
    if (!r->keep_empty && is_blank(rec->text, rec->text_len)) return 2;
    return 1;
}

int nr_record_reader_next(nr_record_reader *r, nr_record *rec, nlprnn_error *err) {
    for (;;) {
        nlprnn_error local;
        nlprnn_error *e = err ? err : &local;
        int rc = parse_one(r, rec, e);
        if (rc == 1) {
            r->st.records++;
            return 1;
        }
        if (rc == 0) return 0;
        if (rc == 2) {
            r->st.skipped_empty++;
            continue;
        }
        /* A bad row is skipped; a damaged stream (a corrupt or truncated gzip stream, a read
         * error) is not a row: the line reader stays failed, and skipping would loop for ever. */
        int recoverable = (rc == NLPRNN_E_DATA || rc == NLPRNN_E_UTF8 || rc == NLPRNN_E_LIMIT) &&
                          !r->lr->fatal;
        if (!r->skip_bad || !recoverable) return rc;
        if (!r->st.skipped_bad) {
            r->st.first_bad_line = e->line;
            r->st.first_bad = *e;
        }
        r->st.skipped_bad++;
        nlprnn_error_clear(e);
    }
}

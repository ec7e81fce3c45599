/* corpora/reader.h: streaming readers for text corpora (internal, not installed).
 *
 *   file or stdin -> (gzip) -> nr_line_reader  -> lines: number, byte offset, UTF-8 checked
 *                              nr_record_reader -> records: text + label string (TSV, CSV,
 *                                                  one text a line, fastText __label__ lines)
 *
 * Both readers stream: they hold one line (one record) at a time, never the whole file.
 *
 * Files are opened through zlib (gzopen/gzread), which reads plain files and gzip files alike,
 * including several concatenated gzip members. A gzip stream that ends early (truncated download)
 * or is corrupt is NLPRNN_E_DATA ("the gzip stream ends early (truncated file)", "corrupt gzip
 * stream: ..."), never a silent end of file: a damaged corpus is bad input data, while
 * NLPRNN_E_TRUNCATED / _FORMAT are kept for model and tokenizer files (the program maps them to
 * different exit codes, 3 and 5). The path "-" reads standard input.
 *
 * Line numbers are 1-based; byte offsets are 0-based and count bytes of the *uncompressed*
 * stream, so "reviews.tsv.gz:12: byte 40" points into `zcat reviews.tsv.gz`.
 *
 * A UTF-8 byte order mark (EF BB BF) at the start of the stream is not text: line 1 is returned
 * without it (its offset, 3, still counts it).
 *
 * Lines end at "\n"; a "\r" right before the "\n" is stripped too (a lone "\r" elsewhere is
 * kept as text). The last line needs no "\n". A line longer than max_line bytes (without its ending) is
 * NLPRNN_E_LIMIT naming file:line; it is never buffered whole, so no input can exhaust memory.
 *
 * Every line is checked for UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above
 * U+10FFFF). Invalid bytes are NLPRNN_E_UTF8 "file:line: byte N: invalid UTF-8" (N is the
 * offset in the stream), or, with NR_UTF8_REPLACE, each maximal invalid subsequence becomes
 * U+FFFD (EF BF BD), as the Unicode standard recommends; the count of replacements is kept.
 *
 * Errors NLPRNN_E_UTF8 and NLPRNN_E_LIMIT are recoverable: the reader has consumed the bad line
 * and the next call returns the following line (this is how "skip bad rows" works). I/O errors
 * and truncation are final: every later call returns the same code.
 *
 * Thread rule: one reader belongs to one thread at a time. Nothing is global.
 */
#ifndef NR_CORPORA_READER_H
#define NR_CORPORA_READER_H

#include <stddef.h>
#include <stdint.h>

#include "nlprnn/base.h"

/* ---- lines -------------------------------------------------------------------------------- */

#define NR_DEFAULT_MAX_LINE ((size_t)16 << 20) /* 16 MiB: longer lines are NLPRNN_E_LIMIT */

enum nr_utf8_mode {
    NR_UTF8_STRICT = 0,  /* invalid UTF-8 is NLPRNN_E_UTF8 */
    NR_UTF8_REPLACE = 1  /* invalid sequences become U+FFFD */
};

typedef struct nr_line_opts {
    size_t max_line;     /* bytes per line, ending excluded; 0 means NR_DEFAULT_MAX_LINE */
    int utf8_mode;       /* enum nr_utf8_mode */
} nr_line_opts;

/* One line, valid until the next call on the same reader. */
typedef struct nr_line {
    const char *text;    /* NUL-terminated, without "\n" / "\r\n" */
    size_t len;          /* bytes, NUL excluded (a line may contain no NUL: UTF-8 allows U+0000,
                            so an embedded NUL is kept and counted in len) */
    long long lineno;    /* 1-based line number */
    long long offset;    /* byte offset of the line's first byte in the uncompressed stream */
} nr_line;

typedef struct nr_line_reader nr_line_reader;

/* Open path ("-" = stdin) for reading lines. opts may be NULL (defaults). The reader keeps a
 * copy of the path for messages (its base name is not shortened). */
int nr_line_reader_open(nr_line_reader **out, const char *path, const nr_line_opts *opts,
                        nlprnn_error *err);
/* Read lines from memory (n bytes, not copied: data must outlive the reader). `name` is used in
 * messages. The bytes are taken as they are (no gzip decoding). */
int nr_line_reader_open_mem(nr_line_reader **out, const char *name, const void *data, size_t n,
                            const nr_line_opts *opts, nlprnn_error *err);
/* Next line: returns 1 with *line filled, 0 at the end of the input, or a negative status.
 * After NLPRNN_E_UTF8 / NLPRNN_E_LIMIT the next call continues with the next line. */
int nr_line_reader_next(nr_line_reader *r, nr_line *line, nlprnn_error *err);
/* The name used in messages (the path, "<stdin>" for "-", or the name given to open_mem). */
const char *nr_line_reader_name(const nr_line_reader *r);
/* Number of U+FFFD replacements made so far (NR_UTF8_REPLACE). */
long long nr_line_reader_replacements(const nr_line_reader *r);
/* Close and free; NULL is allowed. */
void nr_line_reader_close(nr_line_reader *r);

/* ---- records ------------------------------------------------------------------------------ */

enum nr_record_format {
    NR_FORMAT_AUTO = 0,  /* by name: *.tsv[.gz] -> TSV, *.csv[.gz] -> CSV, *.ft / *.fasttext
                            [.gz] -> FASTTEXT; any other name by content: FASTTEXT when the
                            first line starts with "__label__" (after spaces), else LINES */
    NR_FORMAT_TSV,       /* header line; fields split at every TAB, no quoting */
    NR_FORMAT_CSV,       /* header line; RFC 4180: "," separated, "..." quoting, "" inside
                            quotes is one ", a quoted field may span lines */
    NR_FORMAT_LINES,     /* one text a line, no labels */
    NR_FORMAT_FASTTEXT   /* "__label__pos __label__x some text": labels first, then the text */
};

typedef struct nr_record_opts {
    int format;                /* enum nr_record_format */
    const char *text_column;   /* TSV/CSV header name of the text; NULL: "document", else
                                  "text", "sentence", "review" (the first present) */
    const char *label_column;  /* TSV/CSV header name of the label; NULL: "label"; "" means
                                  the file has no labels */
    int require_label;         /* 1: a missing label column in the header is an error */
    const char *extra_column;  /* TSV/CSV: the header name of one more column returned as
                                  rec->extra (a classifier's soft targets); NULL: none. Missing
                                  in the header is NLPRNN_E_DATA naming the columns */
    nr_line_opts line;         /* line limits and UTF-8 mode */
    int skip_bad;              /* 1: skip malformed rows (missing column, invalid UTF-8, too
                                  long) and count them; 0: stop with the error */
    int keep_empty;            /* 0 (default): rows whose text is empty (or only spaces) are
                                  skipped and counted; 1: returned as empty texts */
} nr_record_opts;

/* Defaults: AUTO format, default columns, strict UTF-8, stop on bad rows, skip empty texts. */
void nr_record_opts_default(nr_record_opts *o);

/* One record, valid until the next call on the same reader. */
typedef struct nr_record {
    const char *text;    /* NUL-terminated */
    size_t text_len;
    const char *label;   /* NUL-terminated label name, or NULL when the format has no label */
    size_t label_len;
    long long lineno;    /* line where the record starts (1-based) */
    long long offset;    /* byte offset of that line in the uncompressed stream */
    int extra_labels;    /* fastText: labels after the first one, ignored (counted in stats) */
    const char *extra;   /* the extra_column's field (NUL-terminated), or NULL when not asked */
    size_t extra_len;
    long long extra_offset; /* byte offset of the field's first byte in the uncompressed stream
                               (CSV: of the field, quote included) */
} nr_record;

/* What a reader skipped or noticed so far; callers report it ("skipped 5 empty reviews"). */
typedef struct nr_record_stats {
    long long records;        /* records returned */
    long long skipped_bad;    /* malformed rows skipped (skip_bad) */
    long long skipped_empty;  /* empty texts skipped (keep_empty = 0) */
    long long multi_label;    /* fastText lines with more than one label (first one taken) */
    long long replacements;   /* U+FFFD replacements (NR_UTF8_REPLACE) */
    long long first_bad_line; /* line of the first skipped malformed row, or 0 */
    nlprnn_error first_bad;   /* its error (code 0 when none) */
} nr_record_stats;

typedef struct nr_record_reader nr_record_reader;

/* Open a corpus file ("-" = stdin). opts may be NULL (defaults). For TSV/CSV the header is read
 * here: a missing text column (or a missing label column with require_label) is NLPRNN_E_DATA
 * naming the columns that are there. An empty file is NLPRNN_E_EMPTY. */
int nr_record_reader_open(nr_record_reader **out, const char *path, const nr_record_opts *opts,
                          nlprnn_error *err);
/* The same over memory (not copied; no gzip decoding). */
int nr_record_reader_open_mem(nr_record_reader **out, const char *name, const void *data,
                              size_t n, const nr_record_opts *opts, nlprnn_error *err);
/* Next record: 1 with *rec filled, 0 at the end, negative on error. A malformed row is
 * NLPRNN_E_DATA (wrong field count, no label), NLPRNN_E_UTF8 or NLPRNN_E_LIMIT, naming
 * file:line; with skip_bad it is counted and skipped instead. */
int nr_record_reader_next(nr_record_reader *r, nr_record *rec, nlprnn_error *err);
/* Whether records carry labels (TSV/CSV with a label column, fastText). */
int nr_record_reader_has_labels(const nr_record_reader *r);
/* The resolved format (never AUTO). */
int nr_record_reader_format(const nr_record_reader *r);
const char *nr_record_reader_name(const nr_record_reader *r);
void nr_record_reader_stats(const nr_record_reader *r, nr_record_stats *st);
void nr_record_reader_close(nr_record_reader *r);

/* Resolve NR_FORMAT_AUTO for a path (see the enum). */
int nr_record_format_for_path(const char *path);

#endif

/* common/params.h: the one parameter mechanism (internal, not installed), and number parsing.
 *
 * A task's parameters are a plain C struct described by a table: one row per parameter with its
 * name, type, the field's offset, its range or choices, its default (as text) and a line of
 * help. From the table, and nothing else:
 *   nr_params_reset   sets every default (so a default is written once: in the table)
 *   nr_params_set     parses and range-checks a value given as text ("hidden", "64")
 *   nr_params_get     formats the current value as text (doubles with 17 digits: exact)
 *   nr_param_range    the accepted values as text ("1..4096", "rnn | lstm | gru")
 * The public *_params_set/get functions and checkpoints (which record the parameters a run started
 * with), --help (the public *_param_info: nr_param_info) and the model files' CONF sections
 * (format/params.h) are made from the same rows. Every task's parameters are on such a table
 * (tasks/<task>/train.c, ROWS[]).
 *
 *   static const nr_param rows[] = {
 *       {"hidden", NR_PARAM_INT, offsetof(struct p, hidden), 0, 1, 4096, NULL, "32", "units per layer", 0},
 *       {"cell", NR_PARAM_ENUM, offsetof(struct p, cell), 0, 0, 0, "rnn lstm gru", "lstm", "cell", 0},
 *   };
 *   static const nr_param_table table = {"forecast parameter", rows, sizeof rows / sizeof *rows};
 */
#ifndef NR_COMMON_PARAMS_H
#define NR_COMMON_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "nlprnn/base.h"

typedef enum nr_param_type {
    NR_PARAM_STR = 0,  /* char[size], NUL-terminated */
    NR_PARAM_INT = 1,  /* int in [lo, hi] */
    NR_PARAM_LL = 2,   /* long long in [lo, hi] */
    NR_PARAM_U64 = 3,  /* uint64_t in [0, 2^64-1] (seeds) */
    NR_PARAM_DBL = 4,  /* double in [lo, hi] (finite) */
    NR_PARAM_ENUM = 5  /* int: the index of the value in `choices` */
} nr_param_type;

/* Flags of a parameter. */
enum {
    NR_PARAM_RESUME_OK = 1, /* a resumed run may change it (it does not change what came before) */
    NR_PARAM_OPEN_LO = 2,   /* DBL: lo itself is not allowed (the range is (lo, hi]) */
    NR_PARAM_OPEN_HI = 4    /* DBL: hi itself is not allowed (the range is [lo, hi)) */
};

typedef struct nr_param {
    const char *name;    /* "hidden": [a-z0-9-]+ */
    int type;            /* nr_param_type */
    size_t offset;       /* of the field in the parameter struct */
    size_t size;         /* NR_PARAM_STR: bytes of the char array */
    double lo, hi;       /* numeric types: the inclusive range */
    const char *choices; /* NR_PARAM_ENUM: the names, separated by single spaces */
    const char *def;     /* the default, as text (as nr_params_set takes it) */
    const char *help;    /* one line for --help and the docs */
    unsigned flags;      /* NR_PARAM_* flags */
} nr_param;

typedef struct nr_param_table {
    const char *what;    /* for messages: "forecast parameter" */
    const nr_param *rows;
    size_t n;
} nr_param_table;

/* The row called name, or NULL. */
const nr_param *nr_param_find(const nr_param_table *t, const char *name);
/* The field of obj that row `name` describes when the table has that row with type `type`, else
 * NULL: code that serves several tasks reads the parameters they share (train/ctl.c: epochs, lr,
 * clip...) by name, so their defaults stay in each task's table. */
const void *nr_param_field(const nr_param_table *t, const void *obj, const char *name, int type);
/* Set every parameter of obj to its default. Fails only when a table's default is invalid (a
 * bug in the table: NLPRNN_E_STATE naming it). */
int nr_params_reset(const nr_param_table *t, void *obj, nlprnn_error *err);
/* Parse value into obj's field. Errors (NLPRNN_E_INVALID_ARG):
 *   "<what> 'colour' does not exist (known: cell, hidden, ...)"
 *   "<what> hidden: 'x' is not valid (expected 1..4096)" */
int nr_params_set(const nr_param_table *t, void *obj, const char *name, const char *value,
                  nlprnn_error *err);
/* The value of name in obj as text into buf (cap bytes); NLPRNN_E_INVALID_ARG for an unknown
 * name, NLPRNN_E_LIMIT when buf is too small. */
int nr_params_get(const nr_param_table *t, const void *obj, const char *name, char *buf,
                  size_t cap, nlprnn_error *err);
/* The same for a row (never fails for cap >= 32 and numbers; strings are cut to fit). */
void nr_param_format(const nr_param *p, const void *obj, char *buf, size_t cap);
/* What a row accepts, as text: "1..4096", "[0, 0.9]", "rnn | lstm | gru", "text". */
void nr_param_range(const nr_param *p, char *buf, size_t cap);
/* Row i for --help (the public *_param_info functions): its name, default and help (static
 * strings; each pointer may be NULL) and its range into range (cap bytes; NULL: not wanted).
 * NLPRNN_E_INVALID_ARG past the last row. */
int nr_param_info(const nr_param_table *t, int i, const char **name, const char **def, const char **help,
                  char *range, size_t cap, nlprnn_error *err);

/* ---- number parsing (the one place for it) -------------------------------------------------- */

/* The whole of s is a decimal integer in [lo, hi] (no spaces, no '+'): 1, else 0. */
int nr_parse_ll(const char *s, long long lo, long long hi, long long *out);
/* The whole of s is a decimal unsigned 64-bit integer (no sign): 1, else 0. */
int nr_parse_u64(const char *s, uint64_t *out);
/* The whole of s is a finite number in [lo, hi] (strtod syntax, no leading space): 1, else 0. */
int nr_parse_double(const char *s, double lo, double hi, double *out);

#endif

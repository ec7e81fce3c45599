/* common/params.c: table-driven parameters and number parsing (see common/params.h). */
#include "common/params.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

/* ---- numbers ---------------------------------------------------------------------------------- */

int nr_parse_ll(const char *s, long long lo, long long hi, long long *out) {
    if (!s || !*s || *s == ' ' || *s == '+' || *s == '\t') return 0;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (*end || errno || x < lo || x > hi) return 0;
    *out = x;
    return 1;
}

int nr_parse_u64(const char *s, uint64_t *out) {
    if (!s || *s < '0' || *s > '9') return 0;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (*end || errno) return 0;
    *out = (uint64_t)x;
    return 1;
}

int nr_parse_double(const char *s, double lo, double hi, double *out) {
    if (!s || !*s || *s == ' ' || *s == '\t') return 0;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (*end || !isfinite(x) || !(x >= lo && x <= hi)) return 0;
    *out = x;
    return 1;
}

/* ---- tables ----------------------------------------------------------------------------------- */

const nr_param *nr_param_find(const nr_param_table *t, const char *name) {
    for (size_t i = 0; name && i < t->n; i++)
        if (!strcmp(t->rows[i].name, name)) return &t->rows[i];
    return NULL;
}

const void *nr_param_field(const nr_param_table *t, const void *obj, const char *name, int type) {
    const nr_param *p = nr_param_find(t, name);
    return p && p->type == type ? (const char *)obj + p->offset : NULL;
}

/* Index of v among the space-separated names of choices, or -1. */
static int choice_index(const char *choices, const char *v) {
    size_t n = strlen(v);
    int idx = 0;
    for (const char *s = choices; *s; idx++) {
        const char *e = strchr(s, ' ');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        if (l == n && !strncmp(s, v, n)) return idx;
        if (!e) break;
        s = e + 1;
    }
    return -1;
}

/* Name number idx of choices into buf. */
static void choice_name(const char *choices, int idx, char *buf, size_t cap) {
    const char *s = choices;
    for (int i = 0; i < idx && s; i++) {
        s = strchr(s, ' ');
        if (s) s++;
    }
    if (!s || idx < 0) {
        snprintf(buf, cap, "%d", idx);
        return;
    }
    const char *e = strchr(s, ' ');
    snprintf(buf, cap, "%.*s", e ? (int)(e - s) : (int)strlen(s), s);
}

/* v in the fewest significant digits that read back as v (0.9, not 0.90000000000000002): what a
 * person reads in --help and in error messages. */
static void shortest_double(char *buf, size_t cap, double v) {
    if (v == floor(v) && fabs(v) < 1e15) { /* whole numbers as written: 100, not 1e+02 */
        snprintf(buf, cap, "%.0f", v);
        return;
    }
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, cap, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) return;
    }
}

void nr_param_range(const nr_param *p, char *buf, size_t cap) {
    switch (p->type) {
    case NR_PARAM_STR: snprintf(buf, cap, "text of at most %zu bytes", p->size ? p->size - 1 : 0); break;
    case NR_PARAM_ENUM: {
        size_t at = 0;
        buf[0] = 0;
        for (const char *s = p->choices; *s && at + 1 < cap;) {
            const char *e = strchr(s, ' ');
            int l = e ? (int)(e - s) : (int)strlen(s);
            int k = snprintf(buf + at, cap - at, "%s%.*s", at ? " | " : "", l, s);
            if (k < 0) break;
            at += (size_t)k < cap - at ? (size_t)k : cap - at - 1;
            if (!e) break;
            s = e + 1;
        }
        break;
    }
    case NR_PARAM_DBL: {
        char lo[32], hi[32];
        shortest_double(lo, sizeof lo, p->lo);
        shortest_double(hi, sizeof hi, p->hi);
        snprintf(buf, cap, "%c%s, %s%c", p->flags & NR_PARAM_OPEN_LO ? '(' : '[', lo, hi,
                 p->flags & NR_PARAM_OPEN_HI ? ')' : ']');
        break;
    }
    case NR_PARAM_U64: snprintf(buf, cap, "0..18446744073709551615"); break;
    default: snprintf(buf, cap, "%.0f..%.0f", p->lo, p->hi); break;
    }
}

int nr_param_info(const nr_param_table *t, int i, const char **name, const char **def, const char **help,
                  char *range, size_t cap, nlprnn_error *err) {
    if (i < 0 || (size_t)i >= t->n)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "%s %d: there are %zu", t->what, i, t->n);
    const nr_param *r = &t->rows[i];
    if (name) *name = r->name;
    if (def) *def = r->def;
    if (help) *help = r->help;
    if (range && cap) nr_param_range(r, range, cap);
    return NLPRNN_OK;
}

/* The row called name, or NLPRNN_E_INVALID_ARG naming the known ones. */
static int find_or_fail(const nr_param_table *t, const char *name, const nr_param **row, nlprnn_error *err) {
    *row = nr_param_find(t, name);
    if (*row) return NLPRNN_OK;
    char known[400];
    size_t at = 0;
    known[0] = 0;
    for (size_t i = 0; i < t->n && at + 1 < sizeof known; i++) {
        int k = snprintf(known + at, sizeof known - at, "%s%s", i ? ", " : "", t->rows[i].name);
        if (k < 0) break;
        at += (size_t)k < sizeof known - at ? (size_t)k : sizeof known - at - 1;
    }
    return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "%s '%.100s' does not exist (known: %s)", t->what,
                   name ? name : "(null)", known);
}

/* Parse value for row p into the field; 1 when it is valid. */
static int parse_into(const nr_param *p, void *obj, const char *value) {
    char *field = (char *)obj + p->offset;
    switch (p->type) {
    case NR_PARAM_STR:
        if (strlen(value) >= p->size) return 0;
        memcpy(field, value, strlen(value) + 1);
        return 1;
    case NR_PARAM_ENUM: {
        int i = choice_index(p->choices, value);
        if (i < 0) return 0;
        *(int *)field = i;
        return 1;
    }
    case NR_PARAM_DBL: {
        double x;
        if (!nr_parse_double(value, p->lo, p->hi, &x)) return 0;
        if ((p->flags & NR_PARAM_OPEN_LO) && x == p->lo) return 0;
        if ((p->flags & NR_PARAM_OPEN_HI) && x == p->hi) return 0;
        *(double *)field = x;
        return 1;
    }
    case NR_PARAM_U64: {
        uint64_t x;
        if (!nr_parse_u64(value, &x)) return 0;
        *(uint64_t *)field = x;
        return 1;
    }
    case NR_PARAM_INT:
    case NR_PARAM_LL: {
        long long x;
        if (!nr_parse_ll(value, (long long)p->lo, (long long)p->hi, &x)) return 0;
        if (p->type == NR_PARAM_INT) *(int *)field = (int)x;
        else *(long long *)field = x;
        return 1;
    }
    default: return 0;
    }
}

int nr_params_set(const nr_param_table *t, void *obj, const char *name, const char *value,
                  nlprnn_error *err) {
    if (!obj || !name || !value)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "%s: NULL argument", t->what);
    const nr_param *p;
    int rc = find_or_fail(t, name, &p, err);
    if (rc) return rc;
    if (!parse_into(p, obj, value)) {
        char range[200];
        nr_param_range(p, range, sizeof range);
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "%s %s: '%.100s' is not valid (expected %s)",
                       t->what, name, value, range);
    }
    return NLPRNN_OK;
}

int nr_params_reset(const nr_param_table *t, void *obj, nlprnn_error *err) {
    for (size_t i = 0; i < t->n; i++)
        if (!parse_into(&t->rows[i], obj, t->rows[i].def ? t->rows[i].def : ""))
            return nr_fail(err, NLPRNN_E_STATE, -1, -1, "%s %s: the table's default '%s' is invalid",
                           t->what, t->rows[i].name, t->rows[i].def ? t->rows[i].def : "(null)");
    return NLPRNN_OK;
}

void nr_param_format(const nr_param *p, const void *obj, char *buf, size_t cap) {
    const char *field = (const char *)obj + p->offset;
    switch (p->type) {
    case NR_PARAM_STR: snprintf(buf, cap, "%s", field); break;
    case NR_PARAM_ENUM: choice_name(p->choices, *(const int *)field, buf, cap); break;
    case NR_PARAM_DBL: snprintf(buf, cap, "%.17g", *(const double *)field); break;
    case NR_PARAM_U64: snprintf(buf, cap, "%llu", (unsigned long long)*(const uint64_t *)field); break;
    case NR_PARAM_INT: snprintf(buf, cap, "%d", *(const int *)field); break;
    default: snprintf(buf, cap, "%lld", *(const long long *)field); break;
    }
}

int nr_params_get(const nr_param_table *t, const void *obj, const char *name, char *buf,
                  size_t cap, nlprnn_error *err) {
    if (!obj || !name || !buf || !cap)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "%s: NULL argument", t->what);
    const nr_param *p;
    int rc = find_or_fail(t, name, &p, err);
    if (rc) return rc;
    char tmp[1200];
    nr_param_format(p, obj, tmp, sizeof tmp);
    if (strlen(tmp) >= cap) return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "%s %s: buffer too small", t->what, name);
    memcpy(buf, tmp, strlen(tmp) + 1);
    return NLPRNN_OK;
}

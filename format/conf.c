/* format/conf.c: the text of config sections (content NR_MF_CONFIG), both directions:
 * "key=value\n" lines written into a section's buffer (nr_conf_put_int, _float, _str: keys
 * checked, values escaped, floats exact) and parsed back (nr_conf_parse: every line, key, escape
 * and UTF-8 checked, duplicate keys found by sorting; typed getters by binary search), and
 * nr_mf_get_conf, which parses a section of an open file. Interface: format/modelfile.h. The
 * section around the text is added by nr_mf_add (format/modelfile_write.c) and checked at open
 * (format/modelfile_read.c: validate runs nr_conf_parse once on every config section).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "format/modelfile.h"

/* ---- writing: one key=value line each ----------------------------------------------------- */

static int valid_key(const char *k) {
    size_t n = strlen(k);
    if (n == 0 || n > 128) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

static int conf_line(nr_mf_buf *b, const char *key, const char *val, int escape,
                     nlprnn_error *err) {
    if (!key || !valid_key(key))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "config key \"%s\" must be 1-128 characters from A-Z a-z 0-9 _ . -",
                       key ? key : "(null)");
    size_t before = b->len;
    int rc = nr_mf_buf_put(b, key, strlen(key), err);
    if (!rc) rc = nr_mf_buf_put(b, "=", 1, err);
    for (const char *p = val; !rc && *p; p++) {
        const char *e = NULL;
        if (escape) {
            if (*p == '\\') e = "\\\\";
            else if (*p == '\n') e = "\\n";
            else if (*p == '\t') e = "\\t";
            else if (*p == '\r') e = "\\r";
        }
        rc = e ? nr_mf_buf_put(b, e, 2, err) : nr_mf_buf_put(b, p, 1, err);
    }
    if (!rc) rc = nr_mf_buf_put(b, "\n", 1, err);
    if (rc) b->len = before;
    return rc;
}

int nr_conf_put_int(nr_mf_buf *b, const char *key, long long v, nlprnn_error *err) {
    char s[32];
    snprintf(s, sizeof s, "%lld", v);
    return conf_line(b, key, s, 0, err);
}

int nr_conf_put_float(nr_mf_buf *b, const char *key, double v, nlprnn_error *err) {
    char s[48];
    if (isnan(v)) snprintf(s, sizeof s, "nan");
    else if (isinf(v)) snprintf(s, sizeof s, v > 0 ? "inf" : "-inf");
    else snprintf(s, sizeof s, "%.17g", v);
    return conf_line(b, key, s, 0, err);
}

int nr_conf_put_str(nr_mf_buf *b, const char *key, const char *v, nlprnn_error *err) {
    if (!v) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "config key %s: NULL value", key);
    if (nr_utf8_check(v, strlen(v)) != strlen(v))
        return nr_fail(err, NLPRNN_E_UTF8, -1, -1, "config key %s: value is not valid UTF-8",
                       key);
    return conf_line(b, key, v, 1, err);
}

/* ---- reading: parse the lines, then typed getters ----------------------------------------- */

void nr_conf_free(nr_conf *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->keys[i]);
        free(c->vals[i]);
    }
    free(c->keys);
    free(c->vals);
    free(c->sorted);
    free(c->where);
    memset(c, 0, sizeof *c);
}

/* strcmp order; equal keys by line, so the first duplicate found is the earliest pair */
static int cmp_conf_key(const void *a, const void *b) {
    const nr_conf_key *x = a, *y = b;
    int d = strcmp(x->key, y->key);
    return d ? d : (x->line > y->line) - (x->line < y->line);
}

int nr_conf_parse(nr_conf *c, const void *data, size_t n, const char *where, nlprnn_error *err) {
    memset(c, 0, sizeof *c);
    c->where = nr_strdup(where ? where : "config");
    if (!c->where) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    const char *s = data;
    size_t lines = 0;
    for (size_t i = 0; i < n; i++) { /* memchr: fast over long values */
        const char *nl = memchr(s + i, '\n', n - i);
        if (!nl) break;
        lines++;
        i = (size_t)(nl - s);
    }
    if (lines > NR_CONF_MAX_KEYS) {
        int rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: %zu keys (more than the limit of %d)",
                         c->where, lines, NR_CONF_MAX_KEYS);
        nr_conf_free(c);
        return rc;
    }
    c->keys = nr_calloc_array(lines ? lines : 1, sizeof *c->keys);
    c->vals = nr_calloc_array(lines ? lines : 1, sizeof *c->vals);
    c->sorted = nr_calloc_array(lines ? lines : 1, sizeof *c->sorted);
    if (!c->keys || !c->vals || !c->sorted) {
        nr_conf_free(c);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    }
    size_t pos = 0;
    long long lineno = 0;
    int rc = NLPRNN_OK;
    while (pos < n) {
        lineno++;
        const char *nl = memchr(s + pos, '\n', n - pos);
        if (!nl) {
            rc = nr_fail(err, NLPRNN_E_FORMAT, lineno, (long long)pos,
                         "%s: line %lld does not end with a newline", c->where, lineno);
            break;
        }
        size_t e = (size_t)(nl - s);
        const char *eq = memchr(s + pos, '=', e - pos);
        if (!eq) {
            rc = nr_fail(err, NLPRNN_E_FORMAT, lineno, (long long)pos,
                         "%s: line %lld has no '='", c->where, lineno);
            break;
        }
        size_t klen = (size_t)(eq - (s + pos));
        char *key = malloc(klen + 1), *val = malloc(e - (size_t)(eq - s)); /* >= value + NUL */
        if (!key || !val) {
            free(key);
            free(val);
            rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
            break;
        }
        memcpy(key, s + pos, klen);
        key[klen] = '\0';
        c->keys[c->n] = key;
        c->vals[c->n] = val;
        c->n++;
        if (!valid_key(key) || memchr(s + pos, '\0', klen)) {
            rc = nr_fail(err, NLPRNN_E_FORMAT, lineno, (long long)pos,
                         "%s: line %lld: invalid key", c->where, lineno);
            break;
        }
        size_t o = 0;
        for (const char *v = eq + 1; v < nl; v++) {
            if (*v != '\\') {
                val[o++] = *v;
                continue;
            }
            char x = v + 1 < nl ? v[1] : '\0';
            if (x == '\\') val[o++] = '\\';
            else if (x == 'n') val[o++] = '\n';
            else if (x == 't') val[o++] = '\t';
            else if (x == 'r') val[o++] = '\r';
            else {
                rc = nr_fail(err, NLPRNN_E_FORMAT, lineno, (long long)(v - s),
                             "%s: key %s: bad escape in the value", c->where, key);
                break;
            }
            v++;
        }
        if (rc) break;
        val[o] = '\0';
        if (nr_utf8_check(val, o) != o || memchr(val, '\0', o)) {
            rc = nr_fail(err, NLPRNN_E_FORMAT, lineno, (long long)pos,
                         "%s: key %s: value is not valid UTF-8", c->where, key);
            break;
        }
        pos = e + 1;
    }
    if (!rc) { /* duplicates: sort, then compare neighbours */
        for (size_t i = 0; i < c->n; i++) {
            c->sorted[i].key = c->keys[i];
            c->sorted[i].line = i;
        }
        qsort(c->sorted, c->n, sizeof *c->sorted, cmp_conf_key);
        for (size_t i = 1; i < c->n && !rc; i++)
            if (!strcmp(c->sorted[i - 1].key, c->sorted[i].key)) {
                size_t a = c->sorted[i - 1].line, b = c->sorted[i].line; /* a < b: stable by line */
                rc = nr_fail(err, NLPRNN_E_FORMAT, (long long)b + 1, -1,
                             "%s: key %s appears twice (lines %zu and %zu)", c->where,
                             c->sorted[i].key, a + 1, b + 1);
            }
    }
    if (rc) nr_conf_free(c);
    return rc;
}


int nr_mf_get_conf(const nr_mf_reader *r, const char *tag, nr_conf *c, nlprnn_error *err) {
    memset(c, 0, sizeof *c);
    const nr_mf_section *s;
    int rc = nr_mf_require_content(r, tag, NR_MF_CONFIG, &s, err);
    if (rc) return rc;
    char where[512];
    snprintf(where, sizeof where, "%s: section %s", nr_mf_name(r), s->tag);
    return nr_conf_parse(c, s->data, (size_t)s->raw_len, where, err);
}

static const char *conf_find(const nr_conf *c, const char *key) {
    if (!key) return NULL;
    size_t lo = 0, hi = c->n; /* binary search in c->sorted */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = strcmp(c->sorted[mid].key, key);
        if (!d) return c->vals[c->sorted[mid].line];
        if (d < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

int nr_conf_has(const nr_conf *c, const char *key) { return conf_find(c, key) != NULL; }

int nr_conf_get_str(const nr_conf *c, const char *key, const char **out, nlprnn_error *err) {
    *out = conf_find(c, key);
    if (!*out)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: missing key \"%s\"", c->where, key);
    return NLPRNN_OK;
}

int nr_conf_get_int(const nr_conf *c, const char *key, long long *out, nlprnn_error *err) {
    const char *v;
    int rc = nr_conf_get_str(c, key, &v, err);
    if (rc) return rc;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || errno || *v == ' ' || *v == '+')
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: key \"%s\" = \"%.100s\" is not an integer", c->where, key, v);
    *out = x;
    return NLPRNN_OK;
}

int nr_conf_get_int_in(const nr_conf *c, const char *key, long long lo, long long hi, int *out,
                       nlprnn_error *err) {
    long long v;
    int rc = nr_conf_get_int(c, key, &v, err);
    if (rc) return rc;
    if (v < lo || v > hi)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: %s=%lld is out of range %lld..%lld", c->where,
                       key, v, lo, hi);
    *out = (int)v;
    return NLPRNN_OK;
}

int nr_conf_get_float(const nr_conf *c, const char *key, double *out, nlprnn_error *err) {
    const char *v;
    int rc = nr_conf_get_str(c, key, &v, err);
    if (rc) return rc;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (!*v || *end || *v == ' ' || (errno == ERANGE && isinf(x)))
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: key \"%s\" = \"%.100s\" is not a number", c->where, key, v);
    *out = x;
    return NLPRNN_OK;
}

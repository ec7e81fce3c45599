/* format/safetensors.c: the safetensors reader and writer (see safetensors.h for the format and
 * the rules a file must follow). The header's JSON is read by a small strict parser made for it:
 * objects, arrays, strings (all escapes, surrogate pairs, UTF-8 checked), non-negative integers;
 * anything else (fractions, exponents, negative numbers, true/false/null) is refused where the
 * format has no place for it. */
#include "format/safetensors.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "models/quant.h"

static const char *const dtype_names[NR_ST_NUM_DTYPES] = {
    "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16",
    "BF16", "I32", "U32", "F32", "F64", "I64", "U64"};
static const unsigned char dtype_sizes[NR_ST_NUM_DTYPES] = {1, 1, 1, 1, 1, 2, 2, 2,
                                                             2, 4, 4, 4, 8, 8, 8};

const char *nr_st_dtype_name(int dtype) {
    return dtype >= 0 && dtype < NR_ST_NUM_DTYPES ? dtype_names[dtype] : NULL;
}

size_t nr_st_dtype_size(int dtype) {
    return dtype >= 0 && dtype < NR_ST_NUM_DTYPES ? dtype_sizes[dtype] : 0;
}

static int dtype_from_name(const char *s) {
    for (int i = 0; i < NR_ST_NUM_DTYPES; i++)
        if (!strcmp(s, dtype_names[i])) return i;
    return -1;
}

/* Length of the valid UTF-8 sequence at s[0..n) (1..4), or 0 when it is not valid (overlong,
 * surrogate, above U+10FFFF, cut short). */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (!k || c > 0xF4 || k > n) return 0;
    for (size_t i = 1; i < k; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && s[1] < 0xA0) return 0;               /* overlong */
    if (c == 0xED && s[1] >= 0xA0) return 0;              /* surrogate */
    if (c == 0xF0 && s[1] < 0x90) return 0;               /* overlong */
    if (c == 0xF4 && s[1] >= 0x90) return 0;              /* above U+10FFFF */
    return k;
}

static int valid_utf8(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(u + i, n - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

/* ================================================================================================
 * reading
 * ============================================================================================== */

struct nr_st_file {
    char *name;
    unsigned char *owned;       /* the file's bytes when read by nr_st_open_file */
    const unsigned char *data;  /* the data region (after the header) */
    uint64_t data_len;
    nr_st_tensor *t;            /* (nt) sorted by begin */
    size_t nt, tcap;
    size_t *by_name;            /* (nt) indices into t, sorted by name */
    char **mkey, **mval;        /* (nm) metadata in header order */
    size_t nm, mcap;
};

typedef struct json {
    const unsigned char *p, *end, *start;
    const char *file;
    nlprnn_error *err;
} json;

#define HEADER_BASE 8 /* file offset of the header's first byte */

static int jfail(json *j, const char *what) {
    long long off = HEADER_BASE + (long long)(j->p - j->start);
    return nr_fail(j->err, NLPRNN_E_FORMAT, -1, off, "%s: byte %lld: header JSON: %s", j->file, off,
                   what);
}

static void jws(json *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static int jexpect(json *j, char c, const char *what) {
    jws(j);
    if (j->p >= j->end || *j->p != (unsigned char)c) return jfail(j, what);
    j->p++;
    return NLPRNN_OK;
}

static int hex4(const unsigned char *s, unsigned *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = s[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        *v = *v * 16 + d;
    }
    return 0;
}

/* A JSON string into a malloc'ed NUL-terminated buffer; a string holding U+0000 is refused (no
 * name or value of the format needs one, and C strings cannot hold it). */
static int jstring(json *j, char **out) {
    *out = NULL;
    jws(j);
    if (j->p >= j->end || *j->p != '"') return jfail(j, "expected a string");
    j->p++;
    const unsigned char *s = j->p;
    size_t cap = 0;
    while (s < j->end && *s != '"') { /* the decoded text is never longer than the encoded one */
        if (*s == '\\' && s + 1 < j->end) s++;
        s++;
        cap++;
    }
    if (s >= j->end) return jfail(j, "a string does not end");
    char *buf = malloc((size_t)(s - j->p) + 1);
    if (!buf) return nr_fail(j->err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", j->file);
    size_t n = 0;
    while (*j->p != '"') {
        unsigned c = *j->p;
        if (c < 0x20) {
            free(buf);
            return jfail(j, "a control character inside a string (write it as \\u00XX)");
        }
        if (c != '\\') {
            size_t k = utf8_seq(j->p, (size_t)(j->end - j->p));
            if (!k) {
                free(buf);
                return jfail(j, "invalid UTF-8 inside a string");
            }
            memcpy(buf + n, j->p, k);
            n += k;
            j->p += k;
            continue;
        }
        unsigned e = j->p[1];
        unsigned cp;
        switch (e) {
        case '"': cp = '"'; break;
        case '\\': cp = '\\'; break;
        case '/': cp = '/'; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            if (j->end - j->p < 6 || hex4(j->p + 2, &cp)) {
                free(buf);
                return jfail(j, "a \\u escape needs 4 hexadecimal digits");
            }
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                free(buf);
                return jfail(j, "a lone low surrogate in a \\u escape");
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (j->end - j->p < 12 || j->p[6] != '\\' || j->p[7] != 'u' || hex4(j->p + 8, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF) {
                    free(buf);
                    return jfail(j, "a high surrogate in a \\u escape without its low surrogate");
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                j->p += 6;
            }
            j->p += 4;
            break;
        default:
            free(buf);
            return jfail(j, "an unknown escape in a string");
        }
        j->p += 2;
        if (cp == 0) {
            free(buf);
            return jfail(j, "a string holds U+0000");
        }
        /* encode cp as UTF-8 (at most as long as its escape) */
        if (cp < 0x80) buf[n++] = (char)cp;
        else if (cp < 0x800) {
            buf[n++] = (char)(0xC0 | (cp >> 6));
            buf[n++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            buf[n++] = (char)(0xE0 | (cp >> 12));
            buf[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            buf[n++] = (char)(0x80 | (cp & 0x3F));
        } else {
            buf[n++] = (char)(0xF0 | (cp >> 18));
            buf[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
            buf[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            buf[n++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    j->p++;
    buf[n] = 0;
    *out = buf;
    return NLPRNN_OK;
}

/* A non-negative JSON integer (no sign, fraction or exponent) that fits in 64 bits. */
static int juint(json *j, uint64_t *v, const char *what) {
    jws(j);
    const unsigned char *s = j->p;
    if (s >= j->end || *s < '0' || *s > '9') return jfail(j, what);
    uint64_t x = 0;
    while (s < j->end && *s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');
        if (x > (UINT64_MAX - d) / 10) return jfail(j, "an integer does not fit in 64 bits");
        x = x * 10 + d;
        s++;
    }
    if (s - j->p > 1 && *j->p == '0') return jfail(j, "an integer with a leading zero");
    if (s < j->end && (*s == '.' || *s == 'e' || *s == 'E')) return jfail(j, what);
    j->p = s;
    *v = x;
    return NLPRNN_OK;
}

/* '[' u64 (',' u64)* ']' or '[' ']' into v (at most cap values); *n receives the count. */
static int juint_array(json *j, uint64_t *v, int cap, int *n, const char *what) {
    *n = 0;
    int rc = jexpect(j, '[', what);
    if (rc) return rc;
    jws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return NLPRNN_OK;
    }
    for (;;) {
        if (*n == cap) return jfail(j, what);
        rc = juint(j, &v[*n], what);
        if (rc) return rc;
        (*n)++;
        jws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        return jexpect(j, ']', "expected ',' or ']' in a list of integers");
    }
}

static int add_meta(nr_st_file *f, char *key, char *val, nlprnn_error *err) {
    if (f->nm == f->mcap) {
        size_t nc = f->mcap ? f->mcap * 2 : 8;
        char **k = nr_realloc_array(f->mkey, nc, sizeof(char *));
        if (k) f->mkey = k;
        char **v = nr_realloc_array(f->mval, nc, sizeof(char *));
        if (v) f->mval = v;
        if (!k || !v) {
            free(key);
            free(val);
            return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", f->name);
        }
        f->mcap = nc;
    }
    f->mkey[f->nm] = key;
    f->mval[f->nm] = val;
    f->nm++;
    return NLPRNN_OK;
}

static int parse_metadata(json *j, nr_st_file *f) {
    int rc = jexpect(j, '{', "__metadata__ must be an object of strings");
    if (rc) return rc;
    jws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return NLPRNN_OK;
    }
    for (;;) {
        const unsigned char *at = j->p;
        char *key = NULL, *val = NULL;
        rc = jstring(j, &key);
        if (!rc) rc = jexpect(j, ':', "expected ':' after a metadata key");
        if (!rc) {
            jws(j);
            if (j->p >= j->end || *j->p != '"') {
                free(key);
                return jfail(j, "a metadata value must be a string");
            }
            rc = jstring(j, &val);
        }
        if (rc) {
            free(key);
            return rc;
        }
        for (size_t i = 0; i < f->nm; i++)
            if (!strcmp(f->mkey[i], key)) {
                j->p = at;
                free(key);
                free(val);
                return jfail(j, "a metadata key appears twice");
            }
        if (!*key || strlen(key) > NR_ST_MAX_NAME) {
            j->p = at;
            free(key);
            free(val);
            return jfail(j, "a metadata key is empty or longer than 1024 bytes");
        }
        rc = add_meta(f, key, val, j->err);
        if (rc) return rc;
        jws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        return jexpect(j, '}', "expected ',' or '}' in __metadata__");
    }
}

/* One tensor entry: an object with exactly dtype, shape and data_offsets. name is taken over. */
static int parse_tensor(json *j, nr_st_file *f, char *name) {
    if (f->nt == f->tcap) {
        if (f->nt >= NR_ST_MAX_TENSORS) {
            free(name);
            return nr_fail(j->err, NLPRNN_E_LIMIT, -1, -1, "%s: more than %d tensors", f->name,
                           NR_ST_MAX_TENSORS);
        }
        size_t nc = f->tcap ? f->tcap * 2 : 16;
        nr_st_tensor *t = nr_realloc_array(f->t, nc, sizeof *t);
        if (!t) {
            free(name);
            return nr_fail(j->err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", f->name);
        }
        f->t = t;
        f->tcap = nc;
    }
    nr_st_tensor *t = &f->t[f->nt++];
    memset(t, 0, sizeof *t);
    t->name = name;
    t->dtype = -1;
    int have_shape = 0, have_off = 0;
    int rc = jexpect(j, '{', "a tensor entry must be an object {dtype, shape, data_offsets}");
    if (rc) return rc;
    for (;;) {
        const unsigned char *at = j->p;
        char *field = NULL;
        rc = jstring(j, &field);
        if (!rc) rc = jexpect(j, ':', "expected ':' after a field name");
        if (rc) {
            free(field);
            return rc;
        }
        if (!strcmp(field, "dtype")) {
            char *d = NULL;
            free(field);
            if (t->dtype >= 0) return j->p = at, jfail(j, "dtype appears twice");
            rc = jstring(j, &d);
            if (rc) return rc;
            t->dtype = dtype_from_name(d);
            free(d);
            if (t->dtype < 0)
                return j->p = at, jfail(j, "unknown dtype (BOOL U8 I8 F8_E5M2 F8_E4M3 I16 U16 F16 "
                                           "BF16 I32 U32 F32 F64 I64 U64)");
        } else if (!strcmp(field, "shape")) {
            free(field);
            if (have_shape) return j->p = at, jfail(j, "shape appears twice");
            uint64_t v[NR_ST_MAX_DIMS];
            int n;
            rc = juint_array(j, v, NR_ST_MAX_DIMS, &n,
                             "shape must be a list of at most 8 non-negative integers");
            if (rc) return rc;
            t->ndim = n;
            t->count = 1;
            for (int i = 0; i < n; i++) {
                if (v[i] > SIZE_MAX || (v[i] && t->count > SIZE_MAX / v[i]))
                    return j->p = at, jfail(j, "the shape's element count overflows");
                t->shape[i] = (size_t)v[i];
                t->count *= (size_t)v[i];
            }
            have_shape = 1;
        } else if (!strcmp(field, "data_offsets")) {
            free(field);
            if (have_off) return j->p = at, jfail(j, "data_offsets appears twice");
            uint64_t v[2];
            int n;
            rc = juint_array(j, v, 2, &n, "data_offsets must be [BEGIN, END]");
            if (rc) return rc;
            if (n != 2) return j->p = at, jfail(j, "data_offsets must be [BEGIN, END]");
            if (v[1] < v[0]) return j->p = at, jfail(j, "data_offsets END is before BEGIN");
            t->begin = v[0];
            t->end = v[1];
            have_off = 1;
        } else {
            free(field);
            return j->p = at, jfail(j, "unknown field in a tensor entry (dtype, shape, data_offsets)");
        }
        jws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        rc = jexpect(j, '}', "expected ',' or '}' in a tensor entry");
        if (rc) return rc;
        break;
    }
    if (t->dtype < 0 || !have_shape || !have_off)
        return nr_fail(j->err, NLPRNN_E_FORMAT, -1, -1, "%s: tensor '%.200s' lacks %s", f->name,
                       t->name, t->dtype < 0 ? "its dtype" : !have_shape ? "its shape" : "data_offsets");
    size_t es = nr_st_dtype_size(t->dtype);
    if (t->count > SIZE_MAX / es || (uint64_t)(t->count * es) != t->end - t->begin)
        return nr_fail(j->err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: tensor '%.200s': %zu elements of %s are %zu bytes, but data_offsets "
                       "[%llu, %llu) hold %llu",
                       f->name, t->name, t->count, dtype_names[t->dtype], t->count * es,
                       (unsigned long long)t->begin, (unsigned long long)t->end,
                       (unsigned long long)(t->end - t->begin));
    return NLPRNN_OK;
}

static int cmp_begin(const void *a, const void *b) {
    const nr_st_tensor *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int cmp_name_idx(const void *a, const void *b, void *ctx) {
    const nr_st_file *f = ctx;
    return strcmp(f->t[*(const size_t *)a].name, f->t[*(const size_t *)b].name);
}

/* Merge sort of indices by name (qsort has no context argument; qsort_r is not C11). */
static void sort_by_name(nr_st_file *f, size_t *idx, size_t *tmp, size_t n) {
    if (n < 2) return;
    size_t h = n / 2;
    sort_by_name(f, idx, tmp, h);
    sort_by_name(f, idx + h, tmp, n - h);
    size_t i = 0, k = h, o = 0;
    while (i < h && k < n) tmp[o++] = cmp_name_idx(&idx[k], &idx[i], f) < 0 ? idx[k++] : idx[i++];
    while (i < h) tmp[o++] = idx[i++];
    while (k < n) tmp[o++] = idx[k++];
    memcpy(idx, tmp, n * sizeof *idx);
}

static int parse_header(nr_st_file *f, const unsigned char *h, size_t hn, nlprnn_error *err) {
    json j = {h, h + hn, h, f->name, err};
    jws(&j);
    if (j.p >= j.end || *j.p != '{')
        return nr_fail(err, NLPRNN_E_MAGIC, -1, HEADER_BASE + (long long)(j.p - h),
                       "%s: not a safetensors file (its header does not start with a JSON object)",
                       f->name);
    j.p++;
    jws(&j);
    int seen_meta = 0;
    if (j.p < j.end && *j.p == '}') {
        j.p++;
    } else {
        for (;;) {
            const unsigned char *at = j.p;
            char *key = NULL;
            int rc = jstring(&j, &key);
            if (!rc) rc = jexpect(&j, ':', "expected ':' after a name");
            if (rc) {
                free(key);
                return rc;
            }
            if (!strcmp(key, "__metadata__")) {
                free(key);
                if (seen_meta) return j.p = at, jfail(&j, "__metadata__ appears twice");
                seen_meta = 1;
                rc = parse_metadata(&j, f);
            } else if (strlen(key) > NR_ST_MAX_NAME) {
                free(key);
                return j.p = at, jfail(&j, "a tensor name is longer than 1024 bytes");
            } else {
                rc = parse_tensor(&j, f, key);
            }
            if (rc) return rc;
            jws(&j);
            if (j.p < j.end && *j.p == ',') {
                j.p++;
                continue;
            }
            rc = jexpect(&j, '}', "expected ',' or '}' after a tensor entry");
            if (rc) return rc;
            break;
        }
    }
    jws(&j);
    if (j.p != j.end) return jfail(&j, "text after the header's object (only spaces may pad it)");
    return NLPRNN_OK;
}

static int validate_layout(nr_st_file *f, nlprnn_error *err) {
    size_t n = f->nt;
    f->by_name = nr_malloc_array(n ? n : 1, sizeof(size_t));
    size_t *tmp = nr_malloc_array(n ? n : 1, sizeof(size_t));
    if (!f->by_name || !tmp) {
        free(tmp);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", f->name);
    }
    /* the data's tiling: sorted by BEGIN, each range starts where the previous one ended */
    if (n > 1) qsort(f->t, n, sizeof *f->t, cmp_begin); /* f->t is NULL when there are none */
    uint64_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const nr_st_tensor *t = &f->t[i];
        if (t->end > f->data_len) {
            free(tmp);
            return nr_fail(err, NLPRNN_E_TRUNCATED, -1, -1,
                           "%s: tensor '%.200s' ends at byte %llu of the data, which has %llu bytes "
                           "(the file is truncated)",
                           f->name, t->name, (unsigned long long)t->end,
                           (unsigned long long)f->data_len);
        }
        if (t->begin != at) {
            int rc = t->begin < at
                         ? nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                                   "%s: tensor '%.200s' [%llu, %llu) overlaps tensor '%.200s' [%llu, "
                                   "%llu)",
                                   f->name, t->name, (unsigned long long)t->begin,
                                   (unsigned long long)t->end, f->t[i - 1].name,
                                   (unsigned long long)f->t[i - 1].begin,
                                   (unsigned long long)f->t[i - 1].end)
                         : nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                                   "%s: data bytes [%llu, %llu) belong to no tensor (before tensor "
                                   "'%.200s')",
                                   f->name, (unsigned long long)at, (unsigned long long)t->begin,
                                   t->name);
            free(tmp);
            return rc;
        }
        at = t->end;
    }
    if (at != f->data_len) {
        free(tmp);
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: data bytes [%llu, %llu) at the end of the file belong to no tensor",
                       f->name, (unsigned long long)at, (unsigned long long)f->data_len);
    }
    for (size_t i = 0; i < n; i++) {
        f->t[i].data = f->data + f->t[i].begin;
        f->by_name[i] = i;
    }
    sort_by_name(f, f->by_name, tmp, n);
    free(tmp);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(f->t[f->by_name[i]].name, f->t[f->by_name[i - 1]].name))
            return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: tensor '%.200s' appears twice", f->name,
                           f->t[f->by_name[i]].name);
    return NLPRNN_OK;
}

int nr_st_open_mem(nr_st_file **out, const void *data, size_t n, const char *name,
                   nlprnn_error *err) {
    *out = NULL;
    const unsigned char *b = data;
    if (!name) name = "<memory>";
    if (n < 8)
        return nr_fail(err, n ? NLPRNN_E_TRUNCATED : NLPRNN_E_EMPTY, -1, (long long)n,
                       "%s: %zu bytes: a safetensors file starts with an 8-byte header length", name,
                       n);
    uint64_t hn = 0;
    for (int i = 7; i >= 0; i--) hn = hn << 8 | b[i];
    if (hn > n - 8) {
        if (hn > NR_ST_MAX_HEADER) /* no header of the format: another kind of file */
            return nr_fail(err, NLPRNN_E_MAGIC, -1, 0,
                           "%s: not a safetensors file (its first 8 bytes give a header length of "
                           "%llu bytes, more than the file's %zu)",
                           name, (unsigned long long)hn, n);
        return nr_fail(err, NLPRNN_E_TRUNCATED, -1, (long long)n,
                       "%s: the header is %llu bytes but the file ends after %zu (truncated, or not "
                       "a safetensors file)",
                       name, (unsigned long long)hn, n - 8);
    }
    if (hn > NR_ST_MAX_HEADER)
        return nr_fail(err, NLPRNN_E_LIMIT, -1, 0,
                       "%s: header length %llu is over the limit of %llu bytes", name,
                       (unsigned long long)hn, (unsigned long long)NR_ST_MAX_HEADER);
    nr_st_file *f = calloc(1, sizeof *f);
    if (f) f->name = nr_strdup(name);
    if (!f || !f->name) {
        free(f);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", name);
    }
    f->data = b + 8 + hn;
    f->data_len = n - 8 - hn;
    int rc = parse_header(f, b + 8, (size_t)hn, err);
    if (!rc) rc = validate_layout(f, err);
    if (rc) {
        nr_st_close(f);
        return rc;
    }
    *out = f;
    return NLPRNN_OK;
}

int nr_st_open_file(nr_st_file **out, const char *path, nlprnn_error *err) {
    *out = NULL;
    char *buf = NULL;
    size_t n = 0;
    int rc = nr_read_file(path, &buf, &n, NR_ST_MAX_FILE, err);
    if (rc) return rc;
    rc = nr_st_open_mem(out, buf, n, path, err);
    if (rc) {
        free(buf);
        return rc;
    }
    (*out)->owned = (unsigned char *)buf;
    return NLPRNN_OK;
}

void nr_st_close(nr_st_file *f) {
    if (!f) return;
    for (size_t i = 0; i < f->nt; i++) free((char *)f->t[i].name);
    for (size_t i = 0; i < f->nm; i++) {
        free(f->mkey[i]);
        free(f->mval[i]);
    }
    free(f->t);
    free(f->by_name);
    free(f->mkey);
    free(f->mval);
    free(f->owned);
    free(f->name);
    free(f);
}

const char *nr_st_name(const nr_st_file *f) { return f->name; }
size_t nr_st_count(const nr_st_file *f) { return f->nt; }
const nr_st_tensor *nr_st_at(const nr_st_file *f, size_t i) { return i < f->nt ? &f->t[i] : NULL; }

const nr_st_tensor *nr_st_find(const nr_st_file *f, const char *name) {
    size_t lo = 0, hi = f->nt;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(f->t[f->by_name[mid]].name, name);
        if (!c) return &f->t[f->by_name[mid]];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const char *nr_st_meta(const nr_st_file *f, const char *key) {
    for (size_t i = 0; i < f->nm; i++)
        if (!strcmp(f->mkey[i], key)) return f->mval[i];
    return NULL;
}

size_t nr_st_meta_count(const nr_st_file *f) { return f->nm; }

void nr_st_meta_at(const nr_st_file *f, size_t i, const char **key, const char **value) {
    *key = i < f->nm ? f->mkey[i] : NULL;
    *value = i < f->nm ? f->mval[i] : NULL;
}

static uint64_t le(const unsigned char *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = v << 8 | p[i];
    return v;
}

int nr_st_read_f32(const nr_st_file *f, const nr_st_tensor *t, float *out, nlprnn_error *err) {
    const unsigned char *p = t->data;
    switch (t->dtype) {
    case NR_ST_F32:
        for (size_t i = 0; i < t->count; i++) {
            uint32_t u = (uint32_t)le(p + 4 * i, 4);
            memcpy(&out[i], &u, 4);
        }
        break;
    case NR_ST_F16:
        for (size_t i = 0; i < t->count; i++) out[i] = nr_f16_to_f32((uint16_t)le(p + 2 * i, 2));
        break;
    case NR_ST_BF16:
        for (size_t i = 0; i < t->count; i++) {
            uint32_t u = (uint32_t)le(p + 2 * i, 2) << 16;
            memcpy(&out[i], &u, 4);
        }
        break;
    case NR_ST_F64:
        for (size_t i = 0; i < t->count; i++) {
            uint64_t u = le(p + 8 * i, 8);
            double d;
            memcpy(&d, &u, 8);
            out[i] = (float)d;
            if (isfinite(d) && !isfinite(out[i]))
                return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                               "%s: tensor '%.200s': element %zu (%g) is beyond float32's range",
                               f->name, t->name, i, d);
        }
        break;
    default:
        return nr_fail(err, NLPRNN_E_UNSUPPORTED, -1, -1,
                       "%s: tensor '%.200s' has dtype %s; weights are read from F32, F16, BF16 or "
                       "F64",
                       f->name, t->name, dtype_names[t->dtype]);
    }
    for (size_t i = 0; i < t->count; i++)
        if (!isfinite(out[i]))
            return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                           "%s: tensor '%.200s': element %zu is not finite", f->name, t->name, i);
    return NLPRNN_OK;
}

/* ================================================================================================
 * writing
 * ============================================================================================== */

typedef struct st_entry {
    char *name;
    int dtype, ndim;
    size_t shape[NR_ST_MAX_DIMS];
    unsigned char *bytes;
    size_t nbytes;
} st_entry;

struct nr_st_writer {
    st_entry *t;
    size_t nt, tcap;
    char **mkey, **mval;
    size_t nm, mcap;
};

int nr_st_writer_new(nr_st_writer **out, nlprnn_error *err) {
    *out = calloc(1, sizeof **out);
    return *out ? NLPRNN_OK : nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "safetensors: out of memory");
}

void nr_st_writer_free(nr_st_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->nt; i++) {
        free(w->t[i].name);
        free(w->t[i].bytes);
    }
    for (size_t i = 0; i < w->nm; i++) {
        free(w->mkey[i]);
        free(w->mval[i]);
    }
    free(w->t);
    free(w->mkey);
    free(w->mval);
    free(w);
}

static int check_name(const char *what, const char *s, nlprnn_error *err) {
    size_t n = strlen(s);
    if (!n || n > NR_ST_MAX_NAME || !valid_utf8(s, n))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "safetensors: %s '%.200s' is empty, longer than %d bytes or not UTF-8", what, s,
                       NR_ST_MAX_NAME);
    return NLPRNN_OK;
}

int nr_st_put_meta(nr_st_writer *w, const char *key, const char *value, nlprnn_error *err) {
    int rc = check_name("metadata key", key, err);
    if (rc) return rc;
    if (!valid_utf8(value, strlen(value)))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "safetensors: the value of metadata key '%.200s' is not UTF-8", key);
    for (size_t i = 0; i < w->nm; i++)
        if (!strcmp(w->mkey[i], key))
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                           "safetensors: metadata key '%.200s' given twice", key);
    if (w->nm == w->mcap) {
        size_t nc = w->mcap ? w->mcap * 2 : 8;
        char **k = nr_realloc_array(w->mkey, nc, sizeof(char *));
        if (k) w->mkey = k;
        char **v = nr_realloc_array(w->mval, nc, sizeof(char *));
        if (v) w->mval = v;
        if (!k || !v) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "safetensors: out of memory");
        w->mcap = nc;
    }
    w->mkey[w->nm] = nr_strdup(key);
    w->mval[w->nm] = nr_strdup(value);
    if (!w->mkey[w->nm] || !w->mval[w->nm]) {
        free(w->mkey[w->nm]);
        free(w->mval[w->nm]);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "safetensors: out of memory");
    }
    w->nm++;
    return NLPRNN_OK;
}

int nr_st_put_f32(nr_st_writer *w, const char *name, const float *data, int ndim,
                  const size_t *shape, int dtype, nlprnn_error *err) {
    int rc = check_name("tensor name", name, err);
    if (rc) return rc;
    if (!strcmp(name, "__metadata__") || (dtype != NR_ST_F32 && dtype != NR_ST_F16) || ndim < 0 ||
        ndim > NR_ST_MAX_DIMS)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "safetensors: tensor '%.200s': bad name, dtype or rank", name);
    for (size_t i = 0; i < w->nt; i++)
        if (!strcmp(w->t[i].name, name))
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                           "safetensors: tensor '%.200s' given twice", name);
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] && count > SIZE_MAX / 8 / shape[i])
            return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "safetensors: tensor '%.200s' is too large",
                           name);
        count *= shape[i];
    }
    if (w->nt == w->tcap) {
        size_t nc = w->tcap ? w->tcap * 2 : 16;
        st_entry *t = nr_realloc_array(w->t, nc, sizeof *t);
        if (!t) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "safetensors: out of memory");
        w->t = t;
        w->tcap = nc;
    }
    st_entry *e = &w->t[w->nt];
    memset(e, 0, sizeof *e);
    e->dtype = dtype;
    e->ndim = ndim;
    for (int i = 0; i < ndim; i++) e->shape[i] = shape[i];
    e->nbytes = count * nr_st_dtype_size(dtype);
    e->name = nr_strdup(name);
    e->bytes = malloc(e->nbytes ? e->nbytes : 1);
    if (!e->name || !e->bytes) {
        free(e->name);
        free(e->bytes);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "safetensors: out of memory");
    }
    for (size_t i = 0; i < count; i++) {
        if (dtype == NR_ST_F32) {
            uint32_t u;
            memcpy(&u, &data[i], 4);
            for (int k = 0; k < 4; k++) e->bytes[4 * i + k] = (unsigned char)(u >> (8 * k));
        } else {
            uint16_t h = nr_f32_to_f16(data[i]);
            e->bytes[2 * i] = (unsigned char)h;
            e->bytes[2 * i + 1] = (unsigned char)(h >> 8);
        }
    }
    w->nt++;
    return NLPRNN_OK;
}

/* A growable text for the header. */
typedef struct sbuf {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t nc = (b->n + n + 1) * 2;
        char *p = realloc(b->s, nc);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = nc;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

/* A JSON string: quotes, backslashes and control characters escaped; UTF-8 as is. */
static void sb_json(sbuf *b, const char *s) {
    sb_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            sb_put(b, e, 2);
        } else if (*p < 0x20) {
            char e[8];
            snprintf(e, sizeof e, "\\u%04x", *p);
            sb_put(b, e, 6);
        } else {
            sb_put(b, (const char *)p, 1);
        }
    }
    sb_put(b, "\"", 1);
}

int nr_st_writer_to_mem(const nr_st_writer *w, unsigned char **data, size_t *n, nlprnn_error *err) {
    *data = NULL;
    *n = 0;
    sbuf h = {0};
    char num[64];
    sb_str(&h, "{");
    if (w->nm) {
        sb_str(&h, "\"__metadata__\":{");
        for (size_t i = 0; i < w->nm; i++) {
            if (i) sb_str(&h, ",");
            sb_json(&h, w->mkey[i]);
            sb_str(&h, ":");
            sb_json(&h, w->mval[i]);
        }
        sb_str(&h, "}");
    }
    size_t off = 0;
    for (size_t i = 0; i < w->nt; i++) {
        const st_entry *e = &w->t[i];
        if (i || w->nm) sb_str(&h, ",");
        sb_json(&h, e->name);
        sb_str(&h, ":{\"dtype\":\"");
        sb_str(&h, dtype_names[e->dtype]);
        sb_str(&h, "\",\"shape\":[");
        for (int k = 0; k < e->ndim; k++) {
            snprintf(num, sizeof num, "%s%zu", k ? "," : "", e->shape[k]);
            sb_str(&h, num);
        }
        snprintf(num, sizeof num, "],\"data_offsets\":[%zu,%zu]}", off, off + e->nbytes);
        sb_str(&h, num);
        off += e->nbytes;
    }
    sb_str(&h, "}");
    while (h.n % 8) sb_str(&h, " "); /* 8 + header: every tensor starts 8-byte aligned */
    if (h.oom || h.n > NR_ST_MAX_HEADER) {
        free(h.s);
        return nr_fail(err, h.oom ? NLPRNN_E_NOMEM : NLPRNN_E_LIMIT, -1, -1,
                       "safetensors: %s", h.oom ? "out of memory" : "the header is over 100 MB");
    }
    size_t total = 8 + h.n + off;
    unsigned char *buf = malloc(total);
    if (!buf) {
        free(h.s);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "safetensors: out of memory");
    }
    for (int k = 0; k < 8; k++) buf[k] = (unsigned char)((uint64_t)h.n >> (8 * k));
    memcpy(buf + 8, h.s, h.n);
    size_t at = 8 + h.n;
    for (size_t i = 0; i < w->nt; i++) {
        memcpy(buf + at, w->t[i].bytes, w->t[i].nbytes);
        at += w->t[i].nbytes;
    }
    free(h.s);
    *data = buf;
    *n = total;
    return NLPRNN_OK;
}

int nr_st_writer_save(const nr_st_writer *w, const char *path, nlprnn_error *err) {
    unsigned char *buf = NULL;
    size_t n = 0;
    int rc = nr_st_writer_to_mem(w, &buf, &n, err);
    if (!rc) rc = nr_atomic_write_file(path, buf, n, err);
    free(buf);
    return rc;
}

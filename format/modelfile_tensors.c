/* format/modelfile_tensors.c: tensor and string-list sections (contents NR_MF_TENSORS and
 * NR_MF_STRINGS), both directions, along the way a tensor travels: its payload written into a
 * section's buffer (nr_tensor_put: float32, float16 or int8 rows with their scales;
 * nr_strings_put), indexed and checked when the file is opened (nr_mf_parse_tensors,
 * nr_mf_parse_strings, called by the reader's validate), and read back by name with its shape
 * checked (nr_mf_tensor_read: widened to float32, every value finite; _f16 and _i8 as stored).
 * Interface: format/modelfile.h; the section around a payload is added by nr_mf_add
 * (format/modelfile_write.c) and validated at open (format/modelfile_read.c); the reader's
 * structs: format/modelfile_impl.h.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "format/modelfile_impl.h"
#include "models/gemv_f16.h" /* nr_f16_widen */
#include "models/quant.h"

/* ---- a tensor's payload: count, rows, bytes ----------------------------------------------- */

/* count = prod(shape) with overflow check; the limit keeps byte sizes far from SIZE_MAX. */
#define NR_TENSOR_MAX_COUNT ((uint64_t)1 << 36)

static int shape_count(int ndim, const uint64_t *shape, uint64_t *count) {
    uint64_t c = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] > 0xFFFFFFFFu) return -1;
        if (shape[i] && c > NR_TENSOR_MAX_COUNT / shape[i]) return -1;
        c *= shape[i];
    }
    *count = c;
    return 0;
}

/* rows of an int8 tensor: the last dimension is a row */
static uint64_t i8_rows(int ndim, const uint64_t *shape, uint64_t count) {
    uint64_t cols = ndim ? shape[ndim - 1] : 1;
    return cols ? count / cols : 0;
}

static uint64_t payload_bytes(int dtype, int ndim, const uint64_t *shape, uint64_t count) {
    switch (dtype) {
    case NR_DTYPE_F32: return 4 * count;
    case NR_DTYPE_F16: return 2 * count;
    default: return 4 * i8_rows(ndim, shape, count) + count;
    }
}

const char *nr_dtype_name(int dtype) {
    return dtype == NR_DTYPE_F32 ? "f32" : dtype == NR_DTYPE_F16 ? "f16" : "int8";
}

/* ---- writing ------------------------------------------------------------------------------ */

int nr_tensor_put(nr_mf_buf *b, const char *name, const float *data, int ndim,
                  const size_t *shape, int dtype, nlprnn_error *err) {
    size_t nlen = name ? strlen(name) : 0;
    if (nlen == 0 || nlen > NR_TENSOR_MAX_NAME || nr_utf8_check(name, nlen) != nlen)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "tensor name must be 1-%d bytes of UTF-8", NR_TENSOR_MAX_NAME);
    if (ndim < 0 || ndim > NR_TENSOR_MAX_DIMS || (ndim && !shape))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tensor %s: %d dimensions", name, ndim);
    if (dtype < NR_DTYPE_F32 || dtype > NR_DTYPE_I8)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tensor %s: unknown storage type %d",
                       name, dtype);
    uint64_t sh[NR_TENSOR_MAX_DIMS], count;
    for (int i = 0; i < ndim; i++) sh[i] = shape[i];
    if (shape_count(ndim, sh, &count))
        return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "tensor %s: too many elements", name);
    if (count && !data)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tensor %s: no data", name);
    if (dtype != NR_DTYPE_F32)
        for (uint64_t i = 0; i < count; i++)
            if (!isfinite(data[i]))
                return nr_fail(err, NLPRNN_E_NUMERIC, -1, -1,
                               "tensor %s: element %" PRIu64 " is not finite; store it as f32",
                               name, i);
    uint64_t pb = payload_bytes(dtype, ndim, sh, count);
    size_t head = 2 + nlen + 2 + 4 * (size_t)ndim;
    if (pb > SIZE_MAX - head || nr_mf_buf_reserve(b, head + (size_t)pb))
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tensor %s: out of memory", name);
    unsigned char *o = b->data + b->len;
    put_u16(o, (uint16_t)nlen);
    memcpy(o + 2, name, nlen);
    o += 2 + nlen;
    o[0] = (unsigned char)dtype;
    o[1] = (unsigned char)ndim;
    o += 2;
    for (int i = 0; i < ndim; i++, o += 4) put_u32(o, (uint32_t)sh[i]);
    if (dtype == NR_DTYPE_F32) {
        for (uint64_t i = 0; i < count; i++, o += 4) {
            uint32_t u;
            memcpy(&u, &data[i], 4);
            put_u32(o, u);
        }
    } else if (dtype == NR_DTYPE_F16) {
        for (uint64_t i = 0; i < count; i++, o += 2) put_u16(o, nr_f32_to_f16(data[i]));
    } else {
        uint64_t rows = i8_rows(ndim, sh, count), cols = rows ? count / rows : 0;
        unsigned char *q = o + 4 * rows;
        for (uint64_t r = 0; r < rows; r++) {
            float scale;
            nr_quant_i8_row((int8_t *)(q + r * cols), &scale, data + r * cols, (size_t)cols);
            uint32_t u;
            memcpy(&u, &scale, 4);
            put_u32(o + 4 * r, u);
        }
    }
    b->len += head + (size_t)pb;
    return NLPRNN_OK;
}

int nr_strings_put(nr_mf_buf *b, const char *const *strs, size_t n, nlprnn_error *err) {
    if (n > 0xFFFFFFFFu) return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "too many strings");
    size_t before = b->len;
    unsigned char u[4];
    put_u32(u, (uint32_t)n);
    int rc = nr_mf_buf_put(b, u, 4, err);
    for (size_t i = 0; !rc && i < n; i++) {
        size_t len = strlen(strs[i]);
        if (len > 0xFFFFFFFFu || nr_utf8_check(strs[i], len) != len) {
            rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "string %zu is not valid UTF-8", i);
            break;
        }
        put_u32(u, (uint32_t)len);
        rc = nr_mf_buf_put(b, u, 4, err);
        if (!rc) rc = nr_mf_buf_put(b, strs[i], len, err);
    }
    if (rc) b->len = before;
    return rc;
}

/* ---- at open: index and check every tensor and string ------------------------------------- */

static int cmp_tensor_name(const void *a, const void *b) {
    const tensor_entry *x = *(const tensor_entry *const *)a, *y = *(const tensor_entry *const *)b;
    return strcmp(x->name, y->name);
}

/* Index and validate a tensor section. */
int nr_mf_parse_tensors(const nr_mf_reader *r, rsection *s, nlprnn_error *err) {
    const unsigned char *p = s->pub.data;
    uint64_t n = s->pub.raw_len, pos = 0;
    size_t cap = 0;
    const char *tag = s->pub.tag;
#define TBAD(...) nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)pos, __VA_ARGS__)
    while (pos < n) {
        if (n - pos < 2) return TBAD("%s: section %s: tensor entry cut at byte %" PRIu64, r->name, tag, pos);
        size_t nlen = get_u16(p + pos);
        if (nlen == 0 || nlen > NR_TENSOR_MAX_NAME || n - pos - 2 < nlen + 2)
            return TBAD("%s: section %s: bad tensor entry at byte %" PRIu64, r->name, tag, pos);
        const char *nm = (const char *)p + pos + 2;
        if (nr_utf8_check(nm, nlen) != nlen || memchr(nm, '\0', nlen))
            return TBAD("%s: section %s: tensor name at byte %" PRIu64 " is not valid UTF-8",
                        r->name, tag, pos);
        uint64_t q = pos + 2 + nlen;
        int dtype = p[q], ndim = p[q + 1];
        q += 2;
        if (dtype > NR_DTYPE_I8 || ndim > NR_TENSOR_MAX_DIMS || n - q < 4 * (uint64_t)ndim)
            return TBAD("%s: section %s: tensor \"%.*s\": bad storage type or shape", r->name,
                        tag, (int)nlen, nm);
        tensor_entry t;
        memset(&t, 0, sizeof t);
        t.dtype = dtype;
        t.ndim = ndim;
        for (int i = 0; i < ndim; i++, q += 4) t.shape[i] = get_u32(p + q);
        if (shape_count(ndim, t.shape, &t.count))
            return TBAD("%s: section %s: tensor \"%.*s\": too many elements", r->name, tag,
                        (int)nlen, nm);
        t.payload_len = payload_bytes(dtype, ndim, t.shape, t.count);
        if (n - q < t.payload_len)
            return TBAD("%s: section %s: tensor \"%.*s\": data cut short", r->name, tag,
                        (int)nlen, nm);
        t.payload = p + q;
        if (dtype == NR_DTYPE_I8) {
            uint64_t rows = i8_rows(ndim, t.shape, t.count);
            for (uint64_t i = 0; i < rows; i++) {
                uint32_t u = get_u32(t.payload + 4 * i);
                float sc;
                memcpy(&sc, &u, 4);
                if (!isfinite(sc) || sc < 0.0f)
                    return TBAD("%s: section %s: tensor \"%.*s\": bad scale in row %" PRIu64,
                                r->name, tag, (int)nlen, nm, i);
            }
        }
        if (s->nt == cap) {
            size_t nc = cap ? cap * 2 : 16;
            tensor_entry *nt = nr_realloc_array(s->t, nc, sizeof *nt);
            if (!nt) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", r->name);
            s->t = nt;
            cap = nc;
        }
        t.name = malloc(nlen + 1);
        if (!t.name) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", r->name);
        memcpy(t.name, nm, nlen);
        t.name[nlen] = '\0';
        s->t[s->nt++] = t;
        pos = q + t.payload_len;
    }
    if (s->nt > 1) { /* names must be unique */
        const tensor_entry **sorted = nr_malloc_array(s->nt, sizeof *sorted);
        if (!sorted) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", r->name);
        for (size_t i = 0; i < s->nt; i++) sorted[i] = &s->t[i];
        qsort(sorted, s->nt, sizeof *sorted, cmp_tensor_name);
        for (size_t i = 1; i < s->nt; i++)
            if (!strcmp(sorted[i - 1]->name, sorted[i]->name)) {
                int rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                                 "%s: section %s: tensor \"%s\" appears twice", r->name, tag,
                                 sorted[i]->name);
                free(sorted);
                return rc;
            }
        free(sorted);
    }
#undef TBAD
    return NLPRNN_OK;
}

int nr_mf_parse_strings(const nr_mf_reader *r, rsection *s, nlprnn_error *err) {
    const unsigned char *p = s->pub.data;
    uint64_t n = s->pub.raw_len;
    const char *tag = s->pub.tag;
    if (n < 4)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: section %s: no string count", r->name,
                       tag);
    uint64_t count = get_u32(p), pos = 4;
    if (count > (n - 4) / 4)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: section %s: %" PRIu64 " strings cannot fit in %" PRIu64 " bytes",
                       r->name, tag, count, n);
    s->strs = nr_malloc_array(count ? (size_t)count : 1, sizeof *s->strs);
    s->strbuf = malloc((size_t)n + (size_t)count + 1);
    if (!s->strs || !s->strbuf)
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", r->name);
    size_t o = 0;
    for (uint64_t i = 0; i < count; i++) {
        if (n - pos < 4)
            return nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)pos,
                           "%s: section %s: string %" PRIu64 " cut short", r->name, tag, i);
        uint64_t len = get_u32(p + pos);
        pos += 4;
        if (n - pos < len)
            return nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)pos,
                           "%s: section %s: string %" PRIu64 " cut short", r->name, tag, i);
        const char *str = (const char *)p + pos;
        if (nr_utf8_check(str, (size_t)len) != len || memchr(str, '\0', (size_t)len))
            return nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)pos,
                           "%s: section %s: string %" PRIu64 " is not valid UTF-8", r->name,
                           tag, i);
        memcpy(s->strbuf + o, str, (size_t)len);
        s->strs[i] = s->strbuf + o;
        o += (size_t)len;
        s->strbuf[o++] = '\0';
        pos += len;
    }
    s->nstr = (size_t)count;
    if (pos != n)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)pos,
                       "%s: section %s: %" PRIu64 " bytes after the last string", r->name, tag,
                       n - pos);
    return NLPRNN_OK;
}

/* ---- reading: by name, the shape checked -------------------------------------------------- */

static void fill_info(const tensor_entry *t, nr_tensor_info *info) {
    memset(info, 0, sizeof *info);
    info->name = t->name;
    info->dtype = t->dtype;
    info->ndim = t->ndim;
    for (int i = 0; i < t->ndim; i++) info->shape[i] = (size_t)t->shape[i];
    info->count = (size_t)t->count;
    info->stored_bytes = (size_t)t->payload_len;
}

size_t nr_mf_tensor_count(const nr_mf_reader *r, const char *tag) {
    const rsection *s = nr_mf_find_rs(r, tag);
    return s && s->pub.content == NR_MF_TENSORS ? s->nt : 0;
}

int nr_mf_check_weight_count(const nr_mf_reader *r, const char *tag, size_t needed,
                             const char *sizes, nlprnn_error *err) {
    size_t held = 0, nt = nr_mf_tensor_count(r, tag);
    for (size_t i = 0; i < nt; i++) {
        nr_tensor_info ti;
        if (nr_mf_tensor_at(r, tag, i, &ti, NULL) == 0) held += ti.count;
    }
    if (needed == 0 || needed > held)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: impossible sizes in the configuration (%s): they need %zu weights, "
                       "section %s holds %zu",
                       r->name, sizes, needed, tag, held);
    return NLPRNN_OK;
}

int nr_mf_tensor_at(const nr_mf_reader *r, const char *tag, size_t i, nr_tensor_info *info,
                    nlprnn_error *err) {
    const rsection *s;
    int rc = nr_mf_require_rs(r, tag, NR_MF_TENSORS, &s, err);
    if (rc) return rc;
    if (i >= s->nt)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "%s: section %s has %zu tensors",
                       r->name, tag, s->nt);
    fill_info(&s->t[i], info);
    return NLPRNN_OK;
}

static int find_tensor(const nr_mf_reader *r, const char *tag, const char *name,
                       const tensor_entry **out, nlprnn_error *err) {
    const rsection *s;
    int rc = nr_mf_require_rs(r, tag, NR_MF_TENSORS, &s, err);
    if (rc) return rc;
    for (size_t i = 0; i < s->nt; i++)
        if (!strcmp(s->t[i].name, name)) {
            *out = &s->t[i];
            return NLPRNN_OK;
        }
    return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: section %s has no tensor \"%s\"", r->name,
                   tag, name);
}

int nr_mf_tensor_info(const nr_mf_reader *r, const char *tag, const char *name,
                      nr_tensor_info *info, nlprnn_error *err) {
    const tensor_entry *t;
    int rc = find_tensor(r, tag, name, &t, err);
    if (rc) return rc;
    fill_info(t, info);
    return NLPRNN_OK;
}

void nr_mf_shape_text(char *out, size_t cap, int ndim, const uint64_t *shape) {
    size_t o = 0;
    o += (size_t)snprintf(out, cap, "[");
    for (int i = 0; i < ndim && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%" PRIu64, i ? ", " : "", shape[i]);
    if (o < cap) snprintf(out + o, cap - o, "]");
}

/* The tensor `name` of section tag with the expected shape, or NLPRNN_E_FORMAT naming both. */
static int find_shaped(const nr_mf_reader *r, const char *tag, const char *name, int ndim,
                       const size_t *shape, const tensor_entry **out, nlprnn_error *err) {
    const tensor_entry *t;
    int rc = find_tensor(r, tag, name, &t, err);
    if (rc) return rc;
    *out = t;
    int same = ndim == t->ndim;
    for (int i = 0; same && i < ndim; i++) same = shape[i] == t->shape[i];
    if (!same) {
        char want[200], have[200];
        uint64_t w[NR_TENSOR_MAX_DIMS] = {0};
        int wn = ndim < 0 ? 0 : ndim > NR_TENSOR_MAX_DIMS ? NR_TENSOR_MAX_DIMS : ndim;
        for (int i = 0; i < wn; i++) w[i] = shape[i];
        nr_mf_shape_text(want, sizeof want, wn, w);
        nr_mf_shape_text(have, sizeof have, t->ndim, t->shape);
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: section %s: tensor \"%s\" has shape %s, expected %s", r->name, tag,
                       name, have, want);
    }
    return NLPRNN_OK;
}

static int nonfinite_fail(const nr_mf_reader *r, const char *tag, const char *name, uint64_t i,
                          int nan, nlprnn_error *err) {
    return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                   "%s: section %s: tensor \"%s\": element %" PRIu64
                   " is %s (weights must be finite numbers)",
                   r->name, tag, name, i, nan ? "NaN" : "infinite");
}

static int tensor_read(const nr_mf_reader *r, const char *tag, const char *name, float *out,
                       int ndim, const size_t *shape, int finite, nlprnn_error *err) {
    const tensor_entry *t;
    int rc = find_shaped(r, tag, name, ndim, shape, &t, err);
    if (rc) return rc;
    const unsigned char *p = t->payload;
    if (t->dtype == NR_DTYPE_F32) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* the file's little-endian words are the host's floats: one copy, then the finiteness
         * test on the bits (a float is NaN or infinite when its 8 exponent bits are all ones),
         * a loop the compiler vectorizes; the scalar test below finds the element for the
         * message */
        memcpy(out, p, 4 * (size_t)t->count);
        if (finite) {
            uint32_t bad = 0;
            for (uint64_t i = 0; i < t->count; i++) {
                uint32_t u;
                memcpy(&u, p + 4 * i, 4);
                bad |= (uint32_t)((u & 0x7F800000u) == 0x7F800000u);
            }
            finite = bad != 0; /* from here: whether the scalar test must look for it */
        }
#else
        for (uint64_t i = 0; i < t->count; i++) {
            uint32_t u = get_u32(p + 4 * i);
            memcpy(&out[i], &u, 4);
        }
#endif
    } else if (t->dtype == NR_DTYPE_F16) {
        nr_f16_widen(out, p, (size_t)t->count);
    } else {
        uint64_t rows = i8_rows(t->ndim, t->shape, t->count), cols = rows ? t->count / rows : 0;
        const int8_t *q = (const int8_t *)(p + 4 * rows);
        for (uint64_t rr = 0; rr < rows; rr++) {
            uint32_t u = get_u32(p + 4 * rr);
            float sc;
            memcpy(&sc, &u, 4);
            nr_dequant_i8_row(out + rr * cols, q + rr * cols, sc, (size_t)cols);
        }
    }
    for (uint64_t i = 0; finite && i < t->count; i++)
        if (!isfinite(out[i])) return nonfinite_fail(r, tag, name, i, isnan(out[i]), err);
    return NLPRNN_OK;
}

int nr_mf_tensor_f16_bytes(const nr_mf_reader *r, const char *tag, const char *name, int ndim,
                           const size_t *shape, const unsigned char **out, nlprnn_error *err) {
    *out = NULL;
    const tensor_entry *t;
    int rc = find_shaped(r, tag, name, ndim, shape, &t, err);
    if (rc) return rc;
    if (t->dtype != NR_DTYPE_F16)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: section %s: tensor \"%s\" is not stored as float16",
                       r->name, tag, name);
    /* a half is NaN or infinite when its 5 exponent bits are all ones (models/gemv_f16.h) */
    const unsigned char *p = t->payload;
    size_t k = nr_f16_first_nonfinite(p, (size_t)t->count);
    if (k < t->count)
        return nonfinite_fail(r, tag, name, k, ((p[2 * k + 1] & 3u) | p[2 * k]) != 0, err);
    *out = p;
    return NLPRNN_OK;
}

int nr_mf_tensor_read_f16(const nr_mf_reader *r, const char *tag, const char *name, uint16_t *out,
                          int ndim, const size_t *shape, nlprnn_error *err) {
    const unsigned char *p;
    int rc = nr_mf_tensor_f16_bytes(r, tag, name, ndim, shape, &p, err);
    if (rc) return rc;
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    for (size_t i = 0; i < n; i++) out[i] = get_u16(p + 2 * i);
    return NLPRNN_OK;
}

int nr_mf_tensor_read_i8(const nr_mf_reader *r, const char *tag, const char *name, int8_t *q,
                         float *scale, int ndim, const size_t *shape, nlprnn_error *err) {
    const tensor_entry *t;
    int rc = find_shaped(r, tag, name, ndim, shape, &t, err);
    if (rc) return rc;
    if (t->dtype != NR_DTYPE_I8)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: section %s: tensor \"%s\" is not stored as int8",
                       r->name, tag, name);
    /* the payload: rows little-endian float32 scales, then the rows' bytes */
    uint64_t rows = i8_rows(t->ndim, t->shape, t->count);
    const unsigned char *p = t->payload;
    for (uint64_t rr = 0; rr < rows; rr++) {
        uint32_t u = get_u32(p + 4 * rr);
        memcpy(&scale[rr], &u, 4);
    }
    memcpy(q, p + 4 * rows, (size_t)t->count);
    return NLPRNN_OK;
}

int nr_mf_tensor_read(const nr_mf_reader *r, const char *tag, const char *name, float *out,
                      int ndim, const size_t *shape, nlprnn_error *err) {
    return tensor_read(r, tag, name, out, ndim, shape, 1, err);
}

int nr_mf_tensor_read_nonfinite(const nr_mf_reader *r, const char *tag, const char *name,
                                float *out, int ndim, const size_t *shape, nlprnn_error *err) {
    return tensor_read(r, tag, name, out, ndim, shape, 0, err);
}

int nr_mf_get_strings(const nr_mf_reader *r, const char *tag, const char ***strs, size_t *n,
                      nlprnn_error *err) {
    *strs = NULL;
    *n = 0;
    const rsection *s;
    int rc = nr_mf_require_rs(r, tag, NR_MF_STRINGS, &s, err);
    if (rc) return rc;
    const char **a = nr_malloc_array(s->nstr ? s->nstr : 1, sizeof *a);
    if (!a) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", r->name);
    for (size_t i = 0; i < s->nstr; i++) a[i] = s->strs[i];
    *strs = a;
    *n = s->nstr;
    return NLPRNN_OK;
}

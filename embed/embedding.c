/* embed/embedding.c: embedding table: lookup, sparse gradient, pretrained .vec loading. */
#include "embed/embedding.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

size_t nr_embedding_param_count(int vocab, int dim)
{
    return vocab > 0 && dim > 0 ? (size_t)vocab * dim : 0;
}

int nr_embedding_bind(nr_embedding *e, int vocab, int dim, int padding_id, float *params,
                      nlprnn_error *err)
{
    if (vocab < 1 || dim < 1)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "embedding: vocabulary %d and dimension %d must be >= 1", vocab, dim);
    if (padding_id < -1 || padding_id >= vocab)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "embedding: padding id %d not in -1..%d", padding_id, vocab - 1);
    if (!params)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "embedding: NULL parameters");
    e->vocab = vocab;
    e->dim = dim;
    e->padding_id = padding_id;
    e->table = params;
    return 0;
}

void nr_embedding_init(const nr_embedding *e, float scale, nr_rng *rng)
{
    if (!(scale > 0.0f))
        scale = 0.05f;
    size_t n = (size_t)e->vocab * e->dim;
    for (size_t k = 0; k < n; k++)
        e->table[k] = -scale + 2.0f * scale * nr_rng_uniform(rng);
    if (e->padding_id >= 0)
        memset(e->table + (size_t)e->padding_id * e->dim, 0, sizeof(float) * e->dim);
}

int nr_embedding_forward(const nr_embedding *e, float *out, const int *ids, size_t n,
                         nlprnn_error *err)
{
    size_t D = (size_t)e->dim;
    for (size_t k = 0; k < n; k++) {
        int id = ids[k];
        if (id < 0 || id >= e->vocab)
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                           "embedding: id %d at position %zu not in 0..%d", id, k, e->vocab - 1);
        if (id == e->padding_id)
            memset(out + k * D, 0, sizeof(float) * D);
        else
            memcpy(out + k * D, e->table + (size_t)id * D, sizeof(float) * D);
    }
    return 0;
}

void nr_embedding_backward(const nr_embedding *e, float *dtable, const float *dout, const int *ids,
                           size_t n)
{
    size_t D = (size_t)e->dim;
    for (size_t k = 0; k < n; k++) {
        int id = ids[k];
        if (id < 0 || id >= e->vocab || id == e->padding_id)
            continue;
        float *g = dtable + (size_t)id * D;
        const float *d = dout + k * D;
        for (size_t j = 0; j < D; j++)
            g[j] += d[j];
    }
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

size_t nr_embedding_touched_rows(int *rows, const int *ids, size_t n, const nr_embedding *e,
                                 unsigned char *seen)
{
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        int id = ids[k];
        if (id < 0 || id >= e->vocab || id == e->padding_id || seen[id])
            continue;
        seen[id] = 1;
        rows[m++] = id;
    }
    /* sorted order without a comparison sort: walk the marks in rows' id range */
    int lo = e->vocab, hi = -1;
    for (size_t k = 0; k < m; k++) {
        lo = rows[k] < lo ? rows[k] : lo;
        hi = rows[k] > hi ? rows[k] : hi;
    }
    size_t w = 0;
    if ((size_t)(hi - lo + 1) <= 8 * m + 64) {
        for (int id = lo; id <= hi && m; id++)
            if (seen[id]) {
                rows[w++] = id;
                seen[id] = 0;
            }
    } else { /* ids spread wide: sort the list instead */
        for (size_t k = 0; k < m; k++)
            seen[rows[k]] = 0;
        qsort(rows, m, sizeof(int), cmp_int);
        w = m;
    }
    return w;
}


/* ---- pretrained vectors (.vec text) ----------------------------------------------------------- */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int nr_embedding_load_vec(const nr_embedding *e, const char *path, nr_token_lookup_fn lookup,
                          void *ctx, size_t *n_matched, nlprnn_error *err)
{
    if (n_matched)
        *n_matched = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return nr_fail(err, NLPRNN_E_IO, -1, -1, "%s: cannot open: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, matched = 0;
    long long lineno = 0, offset = 0;
    ssize_t got;
    int rc = 0, D = e->dim;
    unsigned char *filled = calloc((size_t)e->vocab, 1);
    float *vec = nr_malloc_array((size_t)D, sizeof(float));
    if (!filled || !vec) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
        goto done;
    }
    while ((got = getline(&line, &cap, fp)) > 0) {
        lineno++;
        long long start = offset;
        offset += got;
        if (memchr(line, 0, (size_t)got)) {
            rc = nr_fail(err, NLPRNN_E_FORMAT, lineno, start, "%s:%lld: byte %lld: NUL byte in line",
                         path, lineno, start);
            goto done;
        }
        char *p = line;
        while (*p && is_space(*p))
            p++;
        if (!*p)
            continue; /* blank line */
        char *tok = p;
        while (*p && !is_space(*p))
            p++;
        size_t toklen = (size_t)(p - tok);
        /* the numbers after the token */
        int k = 0;
        char *q = p;
        for (;;) {
            while (*q && is_space(*q))
                q++;
            if (!*q)
                break;
            char *endp;
            errno = 0;
            float v = strtof(q, &endp);
            if (endp == q || (*endp && !is_space(*endp))) {
                if (lineno == 1)
                    break; /* not a header; reported below as a vector line */
                rc = nr_fail(err, NLPRNN_E_FORMAT, lineno, start + (q - line),
                             "%s:%lld: byte %lld: not a number", path, lineno,
                             start + (long long)(q - line));
                goto done;
            }
            if (k < D)
                vec[k] = v;
            k++;
            q = endp;
        }
        if (lineno == 1 && k == 1) {
            /* header "count dim" */
            long dim = strtol(p, NULL, 10);
            if (dim != D) {
                rc = nr_fail(err, NLPRNN_E_FORMAT, 1, 0,
                             "%s:1: header says dimension %ld, the table has %d", path, dim, D);
                goto done;
            }
            continue;
        }
        if (k != D) {
            rc = nr_fail(err, NLPRNN_E_FORMAT, lineno, start + (long long)(p - line),
                         "%s:%lld: byte %lld: %d numbers after the token, expected %d", path,
                         lineno, start + (long long)(p - line), k, D);
            goto done;
        }
        int id = lookup(ctx, tok, toklen);
        if (id < 0 || id >= e->vocab || id == e->padding_id)
            continue;
        memcpy(e->table + (size_t)id * D, vec, sizeof(float) * D);
        if (!filled[id]) {
            filled[id] = 1;
            matched++;
        }
    }
    if (ferror(fp))
        rc = nr_fail(err, NLPRNN_E_IO, lineno, offset, "%s: read error after line %lld", path,
                     lineno);
done:
    free(line);
    free(filled);
    free(vec);
    fclose(fp);
    if (n_matched)
        *n_matched = matched;
    return rc;
}

/* A piece list as a lookup: open addressing over FNV-1a hashes. */
typedef struct {
    const char *const *pieces;
    int *slots; /* (cap) piece id or -1 */
    size_t cap;
} piece_map;

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t k = 0; k < n; k++) {
        h ^= (unsigned char)s[k];
        h *= 1099511628211ull;
    }
    return h;
}

static int piece_lookup(void *ctx, const char *tok, size_t len)
{
    piece_map *m = ctx;
    for (size_t k = fnv1a(tok, len) & (m->cap - 1);; k = (k + 1) & (m->cap - 1)) {
        int id = m->slots[k];
        if (id < 0)
            return -1;
        const char *pc = m->pieces[id];
        if (strlen(pc) == len && memcmp(pc, tok, len) == 0)
            return id;
    }
}

int nr_embedding_load_vec_pieces(const nr_embedding *e, const char *path,
                                 const char *const *pieces, int n_pieces, size_t *n_matched,
                                 nlprnn_error *err)
{
    if (n_pieces < 0 || n_pieces > e->vocab)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "%s: %d pieces for a table of %d rows", path, n_pieces, e->vocab);
    piece_map m;
    m.pieces = pieces;
    m.cap = 16;
    while (m.cap < 2 * (size_t)n_pieces)
        m.cap *= 2;
    m.slots = nr_malloc_array(m.cap, sizeof(int));
    if (!m.slots)
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
    for (size_t k = 0; k < m.cap; k++)
        m.slots[k] = -1;
    for (int id = 0; id < n_pieces; id++) {
        if (!pieces[id])
            continue;
        size_t len = strlen(pieces[id]);
        if (piece_lookup(&m, pieces[id], len) >= 0)
            continue; /* duplicate piece: the first id wins */
        size_t k = fnv1a(pieces[id], len) & (m.cap - 1);
        while (m.slots[k] >= 0)
            k = (k + 1) & (m.cap - 1);
        m.slots[k] = id;
    }
    int rc = nr_embedding_load_vec(e, path, piece_lookup, &m, n_matched, err);
    free(m.slots);
    return rc;
}

int nr_embedding_save_vec(const nr_embedding *e, const char *path, const char *const *pieces,
                          nlprnn_error *err)
{
    for (int id = 0; id < e->vocab; id++)
        if (!pieces[id] || !*pieces[id] || strpbrk(pieces[id], " \t\r\n"))
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                           "%s: piece %d is empty or holds whitespace: a .vec file cannot hold it",
                           path, id);
    nr_atomic_file af;
    int rc = nr_atomic_open(&af, path, err);
    if (rc)
        return rc;
    fprintf(af.fp, "%d %d\n", e->vocab, e->dim);
    for (int id = 0; id < e->vocab; id++) {
        const float *row = e->table + (size_t)id * e->dim;
        fputs(pieces[id], af.fp);
        for (int k = 0; k < e->dim; k++)
            fprintf(af.fp, " %.9g", (double)row[k]);
        fputc('\n', af.fp);
    }
    return nr_atomic_commit(&af, err);
}

/* tasks/tag/data.c: training data of the tagger: files -> sentences of (unit id, label).
 *
 *   spacing  one text a line (well spaced); units = the characters of nr_units_of_text, label
 *            "space" when white space follows the unit in the line, else "none"; a line without
 *            characters is skipped.
 *   tagged   `token<TAB>label` a line, a blank line (or only white space) ends a sentence; a
 *            line with no TAB, an empty token or an empty label is NLPRNN_E_DATA naming
 *            file:line: byte. Labels are sorted (nr_label_map_sort) so ids do not depend on
 *            the order of the rows.
 * Files go through corpora/reader.h: gzip, standard input "-", UTF-8 checked, BOM skipped.
 * Distinct units beyond NR_MAX_LABELS become the unknown unit.
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "corpora/reader.h"
#include "tasks/tag/tagger.h"

void nr_tag_data_free(nr_tag_data *d) {
    free(d->off);
    free(d->ids);
    free(d->lab);
    free(d->jam);
    memset(d, 0, sizeof *d);
}

typedef struct reader_state {
    nr_tag_data *d;
    size_t cap_sent;
    long long *count; /* (cap_count) occurrences per unit id */
    size_t cap_count;
    int max_len;
    size_t sent_begin; /* first unit of the sentence being read */
} reader_state;

/* Append a unit: its id, label and jamo code (nr_jamo_code of its text; 0 for tokens). */
static int push_unit(reader_state *st, int id, int lab, uint16_t jam, nlprnn_error *err) {
    nr_tag_data *d = st->d;
    if (d->n_units == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 65536;
        int *ni = realloc(d->ids, nc * sizeof *ni);
        if (ni) d->ids = ni;
        uint16_t *nl = realloc(d->lab, nc * sizeof *nl);
        if (nl) d->lab = nl;
        uint16_t *nj = realloc(d->jam, nc * sizeof *nj);
        if (nj) d->jam = nj;
        if (!ni || !nl || !nj) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tagger data: out of memory");
        d->cap = nc;
    }
    if ((size_t)id >= st->cap_count) {
        size_t nc = st->cap_count ? st->cap_count * 2 : 4096;
        while (nc <= (size_t)id) nc *= 2;
        long long *c = realloc(st->count, nc * sizeof *c);
        if (!c) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tagger data: out of memory");
        memset(c + st->cap_count, 0, (nc - st->cap_count) * sizeof *c);
        st->count = c;
        st->cap_count = nc;
    }
    st->count[id]++;
    d->ids[d->n_units] = id;
    d->lab[d->n_units] = (uint16_t)lab;
    d->jam[d->n_units] = jam;
    d->n_units++;
    return NLPRNN_OK;
}

/* End the sentence being read: cut it into pieces of at most max_len units. */
static int end_sentence(reader_state *st, nlprnn_error *err) {
    nr_tag_data *d = st->d;
    size_t b = st->sent_begin;
    while (b < d->n_units) {
        size_t e = d->n_units - b > (size_t)st->max_len ? b + (size_t)st->max_len : d->n_units;
        if (d->n + 2 > st->cap_sent) {
            size_t nc = st->cap_sent ? st->cap_sent * 2 : 4096;
            size_t *no = realloc(d->off, nc * sizeof *no);
            if (!no) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tagger data: out of memory");
            d->off = no;
            st->cap_sent = nc;
        }
        d->off[d->n] = b;
        d->off[d->n + 1] = e;
        d->n++;
        b = e;
    }
    st->sent_begin = d->n_units;
    return NLPRNN_OK;
}

static int unit_id(nr_label_map *units, const char *s, size_t len) {
    int id = nr_label_map_find(units, s, len);
    if (id >= 0) return id;
    if (units->n >= NR_MAX_LABELS) return NR_UNIT_UNK;
    return nr_label_map_add(units, s, len, NULL);
}

static int read_file(reader_state *st, nr_label_map *units, nr_label_map *labels, int format,
                     const char *path, nlprnn_error *err) {
    nr_line_reader *r = NULL;
    int rc = nr_line_reader_open(&r, path, NULL, err);
    if (rc) return rc;
    const char *name = nr_line_reader_name(r);
    nr_units u;
    memset(&u, 0, sizeof u);
    nr_line ln;
    long long lines = 0;
    while ((rc = nr_line_reader_next(r, &ln, err)) == 1) {
        lines++;
        if (format == NR_TAG_FORMAT_SPACING) {
            nlprnn_error e1;
            rc = nr_units_of_text(&u, ln.text, ln.len, &e1);
            if (rc) { /* not bad UTF-8 (the reader checked it): a NUL byte, or no memory */
                long long at = ln.offset + (e1.offset >= 0 ? e1.offset : 0);
                rc = nr_fail(err, rc, ln.lineno, at, "%s:%lld: byte %lld: %s", name, ln.lineno, at,
                             e1.message);
                break;
            }
            for (size_t i = 0; !rc && i < u.n; i++) {
                const char *us = u.text + u.start[i];
                size_t ul = u.start[i + 1] - u.start[i];
                int id = unit_id(units, us, ul);
                if (id < 0) id = NR_UNIT_UNK; /* a control character: the unknown unit */
                rc = push_unit(st, id, u.space_after[i] ? NR_SPACE_YES : NR_SPACE_NONE, nr_jamo_code(us, ul), err);
            }
            if (!rc) rc = end_sentence(st, err);
            if (rc) break;
            continue;
        }
        /* tagged: token<TAB>label, blank line = end of sentence */
        size_t k = 0;
        while (k < ln.len && (ln.text[k] == ' ' || ln.text[k] == '\t')) k++;
        if (k == ln.len) {
            rc = end_sentence(st, err);
            if (rc) break;
            continue;
        }
        const char *tab = memchr(ln.text, '\t', ln.len);
        size_t tl = tab ? (size_t)(tab - ln.text) : 0, ll = tab ? ln.len - tl - 1 : 0;
        if (!tab || tl == 0 || ll == 0 || memchr(tab + 1, '\t', ll)) {
            rc = nr_fail(err, NLPRNN_E_DATA, ln.lineno, ln.offset,
                         "%s:%lld: byte %lld: expected token<TAB>label (one TAB, neither empty)", name,
                         ln.lineno, ln.offset);
            break;
        }
        nlprnn_error e2;
        int lab = nr_label_map_add(labels, tab + 1, ll, &e2);
        int id = lab < 0 ? lab : nr_label_map_find(units, ln.text, tl);
        if (lab >= 0 && id < 0) {
            id = units->n >= NR_MAX_LABELS ? NR_UNIT_UNK : nr_label_map_add(units, ln.text, tl, &e2);
            if (id < 0 && e2.code == NLPRNN_E_DATA) id = NR_UNIT_UNK; /* control characters */
        }
        if (lab < 0 || id < 0) {
            long long at = ln.offset + (lab < 0 ? (long long)tl + 1 : 0);
            rc = nr_fail(err, e2.code == NLPRNN_E_DATA ? NLPRNN_E_DATA : e2.code, ln.lineno, at,
                         "%s:%lld: byte %lld: %s %s", name, ln.lineno, at, lab < 0 ? "label" : "token",
                         e2.message);
            break;
        }
        rc = push_unit(st, id, lab, 0, err);
        if (rc) break;
    }
    if (rc == 0) rc = end_sentence(st, err);
    if (rc == 0 && lines == 0)
        rc = nr_fail(err, NLPRNN_E_EMPTY, -1, -1, "%s: no lines", name);
    nr_units_free(&u);
    nr_line_reader_close(r);
    return rc;
}

int nr_tag_read(nr_tag_data *d, nr_label_map *units, nr_label_map *labels, int format,
                const char *const *paths, int n_paths, int max_len, nlprnn_error *err) {
    memset(d, 0, sizeof *d);
    reader_state st;
    memset(&st, 0, sizeof st);
    st.d = d;
    st.max_len = max_len;
    int rc = NLPRNN_OK;
    if (units->n == 0) {
        if (nr_label_map_add(units, "<pad>", 5, err) != NR_UNIT_PAD ||
            nr_label_map_add(units, "<unk>", 5, err) != NR_UNIT_UNK)
            return err ? err->code : NLPRNN_E_NOMEM;
    }
    if (format == NR_TAG_FORMAT_SPACING && labels->n == 0) {
        if (nr_label_map_add(labels, "none", 4, err) != NR_SPACE_NONE ||
            nr_label_map_add(labels, "space", 5, err) != NR_SPACE_YES)
            return err ? err->code : NLPRNN_E_NOMEM;
    }
    for (int f = 0; !rc && f < n_paths; f++)
        rc = read_file(&st, units, labels, format, paths[f], err);
    if (!rc && d->n == 0)
        rc = nr_fail(err, NLPRNN_E_EMPTY, -1, -1, "tagger: the training files hold no sentence");
    if (!rc && format == NR_TAG_FORMAT_TAGGED) {
        int *remap = nr_malloc_array((size_t)labels->n, sizeof *remap);
        if (!remap) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tagger data: out of memory");
        if (!rc) rc = nr_label_map_sort(labels, remap, err);
        for (size_t i = 0; !rc && i < d->n_units; i++) d->lab[i] = (uint16_t)remap[d->lab[i]];
        free(remap);
    }
    free(st.count);
    if (rc) nr_tag_data_free(d);
    return rc;
}

typedef struct ucount {
    long long count;
    int id;
    const char *name;
} ucount;

static int by_count(const void *a, const void *b) {
    const ucount *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return strcmp(x->name, y->name);
}

int nr_tag_prune_units(nr_tag_data *d, nr_label_map *units, int min_count, int max_vocab,
                       nlprnn_error *err) {
    int V = units->n;
    ucount *uc = nr_calloc_array((size_t)V, sizeof *uc);
    int *remap = nr_malloc_array((size_t)V, sizeof *remap);
    nr_label_map keep;
    nr_label_map_init(&keep);
    int rc = uc && remap ? NLPRNN_OK : nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tagger: out of memory");
    for (int i = 0; !rc && i < V; i++) {
        uc[i].id = i;
        uc[i].name = units->names[i];
    }
    for (size_t i = 0; !rc && i < d->n_units; i++) uc[d->ids[i]].count++;
    if (!rc) qsort(uc + 2, (size_t)(V - 2), sizeof *uc, by_count); /* <pad>, <unk> stay first */
    for (int i = 0; !rc && i < V; i++) remap[i] = NR_UNIT_UNK;
    for (int i = 0; !rc && i < V; i++) {
        const ucount *c = &uc[i];
        if (i >= 2 && (c->count < min_count || keep.n >= max_vocab)) continue;
        int id = nr_label_map_add(&keep, c->name, strlen(c->name), err);
        if (id < 0) rc = id;
        else remap[c->id] = id;
    }
    for (size_t i = 0; !rc && i < d->n_units; i++) d->ids[i] = remap[d->ids[i]];
    if (!rc) {
        nr_label_map_free(units);
        *units = keep;
    } else {
        nr_label_map_free(&keep);
    }
    free(uc);
    free(remap);
    return rc;
}

int nr_tag_remap(nr_tag_data *d, nr_label_map *units, nr_label_map *labels, const nr_label_map *to_units,
                 const nr_label_map *to_labels, nlprnn_error *err) {
    int *uremap = nr_malloc_array((size_t)units->n, sizeof *uremap);
    int *lremap = nr_malloc_array((size_t)labels->n, sizeof *lremap);
    nr_label_map nu, nl;
    nr_label_map_init(&nu);
    nr_label_map_init(&nl);
    int rc = uremap && lremap ? NLPRNN_OK : nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tagger: out of memory");
    for (int i = 0; !rc && i < units->n; i++) {
        int id = i == NR_UNIT_PAD ? NR_UNIT_PAD
                                  : nr_label_map_find(to_units, units->names[i], strlen(units->names[i]));
        uremap[i] = id < 0 ? NR_UNIT_UNK : id;
    }
    for (int i = 0; !rc && i < labels->n; i++) {
        lremap[i] = nr_label_map_find(to_labels, labels->names[i], strlen(labels->names[i]));
        if (lremap[i] < 0)
            rc = nr_fail(err, NLPRNN_E_DATA, -1, -1,
                         "tagger: the training data has the label '%s', which the initial model does not have",
                         labels->names[i]);
    }
    if (!rc) rc = nr_label_map_copy(&nu, to_units, err);
    if (!rc) rc = nr_label_map_copy(&nl, to_labels, err);
    if (!rc) {
        for (size_t i = 0; i < d->n_units; i++) {
            d->ids[i] = uremap[d->ids[i]];
            d->lab[i] = (uint16_t)lremap[d->lab[i]];
        }
        nr_label_map_free(units);
        nr_label_map_free(labels);
        *units = nu;
        *labels = nl;
    } else {
        nr_label_map_free(&nu);
        nr_label_map_free(&nl);
    }
    free(uremap);
    free(lremap);
    return rc;
}

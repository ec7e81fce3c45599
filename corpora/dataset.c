/* corpora/dataset.c: label maps, in-memory datasets, seeded shuffle/split, length-bucketed
 * batches. See dataset.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "corpora/dataset.h"

/* ---- label maps --------------------------------------------------------------------------- */

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

void nr_label_map_init(nr_label_map *m) { memset(m, 0, sizeof *m); }

void nr_label_map_free(nr_label_map *m) {
    if (!m) return;
    for (int i = 0; i < m->n; i++) free(m->names[i]);
    free(m->names);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

int nr_label_map_find(const nr_label_map *m, const char *name, size_t len) {
    if (!m->nslots) return -1;
    size_t mask = m->nslots - 1, i = (size_t)hash_bytes(name, len) & mask;
    for (;;) {
        uint32_t s = m->slots[i];
        if (!s) return -1;
        const char *nm = m->names[s - 1];
        if (strlen(nm) == len && memcmp(nm, name, len) == 0) return (int)(s - 1);
        i = (i + 1) & mask;
    }
}

static int rehash(nr_label_map *m, size_t nslots) {
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots) return -1;
    for (int id = 0; id < m->n; id++) {
        size_t i = (size_t)hash_bytes(m->names[id], strlen(m->names[id])) & (nslots - 1);
        while (slots[i]) i = (i + 1) & (nslots - 1);
        slots[i] = (uint32_t)id + 1;
    }
    free(m->slots);
    m->slots = slots;
    m->nslots = nslots;
    return 0;
}

int nr_label_check(const char *name, size_t len, nlprnn_error *err) {
    if (len == 0) return nr_fail(err, NLPRNN_E_DATA, -1, -1, "empty label name");
    if (len > NR_MAX_LABEL_BYTES)
        return nr_fail(err, NLPRNN_E_DATA, -1, -1, "label name of %zu bytes (the limit is %d)",
                       len, NR_MAX_LABEL_BYTES);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 0x20 && c != 0x7F) continue;
        /* the label is shown up to the bad byte only: the rest could break the message too */
        return nr_fail(err, NLPRNN_E_DATA, -1, -1,
                       "label \"%.*s...\" contains %s (byte 0x%02X at byte %zu of the label): labels "
                       "are printed in tab-separated output, so they may not contain TAB, line "
                       "feed or other control characters",
                       (int)(i < 64 ? i : 64), name,
                       c == '\t' ? "a TAB" : c == '\n' ? "a line feed" : c == '\r' ? "a carriage return"
                                                                       : "a control character",
                       c, i);
    }
    size_t bad = nr_utf8_check(name, len);
    if (bad < len)
        return nr_fail(err, NLPRNN_E_DATA, -1, -1, "label is not valid UTF-8 (byte %zu of the label)",
                       bad);
    return NLPRNN_OK;
}

int nr_label_map_add(nr_label_map *m, const char *name, size_t len, nlprnn_error *err) {
    int id = nr_label_map_find(m, name, len);
    if (id >= 0) return id;
    int rc = nr_label_check(name, len, err);
    if (rc) return rc;
    if (m->n >= NR_MAX_LABELS)
        return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "more than %d distinct labels",
                       NR_MAX_LABELS);
    if (m->n == m->cap) {
        int nc = m->cap ? m->cap * 2 : 8;
        char **nn = realloc(m->names, (size_t)nc * sizeof *nn);
        if (!nn) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        m->names = nn;
        m->cap = nc;
    }
    if ((size_t)(m->n + 1) * 2 > m->nslots && rehash(m, m->nslots ? m->nslots * 2 : 16))
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    char *copy = malloc(len + 1);
    if (!copy) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    memcpy(copy, name, len);
    copy[len] = '\0';
    id = m->n++;
    m->names[id] = copy;
    size_t i = (size_t)hash_bytes(name, len) & (m->nslots - 1);
    while (m->slots[i]) i = (i + 1) & (m->nslots - 1);
    m->slots[i] = (uint32_t)id + 1;
    return id;
}

const char *nr_label_map_name(const nr_label_map *m, int id) {
    return id >= 0 && id < m->n ? m->names[id] : NULL;
}

/* An integer label: optional '-', 1..18 digits. */
static int int_label(const char *s, long long *v) {
    const char *p = s;
    if (*p == '-') p++;
    size_t nd = strspn(p, "0123456789");
    if (nd == 0 || nd > 18 || p[nd]) return 0;
    *v = strtoll(s, NULL, 10);
    return 1;
}

typedef struct { const char *name; long long v; int old; } label_key;

static int cmp_numeric(const void *a, const void *b) {
    const label_key *x = a, *y = b;
    return x->v < y->v ? -1 : x->v > y->v;
}
static int cmp_bytes(const void *a, const void *b) {
    const label_key *x = a, *y = b;
    return strcmp(x->name, y->name);
}

int nr_label_map_sort(nr_label_map *m, int *remap, nlprnn_error *err) {
    if (m->n == 0) return NLPRNN_OK;
    label_key *k = nr_malloc_array((size_t)m->n, sizeof *k);
    char **names = nr_malloc_array((size_t)m->n, sizeof *names);
    if (!k || !names) {
        free(k);
        free(names);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    }
    int numeric = 1;
    for (int i = 0; i < m->n; i++) {
        k[i].name = m->names[i];
        k[i].old = i;
        if (!int_label(m->names[i], &k[i].v)) numeric = 0;
    }
    qsort(k, (size_t)m->n, sizeof *k, numeric ? cmp_numeric : cmp_bytes);
    for (int i = 0; i < m->n; i++) {
        names[i] = (char *)k[i].name;
        if (remap) remap[k[i].old] = i;
    }
    free(m->names);
    m->names = names;
    m->cap = m->n;
    free(k);
    if (rehash(m, m->nslots)) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    return NLPRNN_OK;
}

/* One item of a label-names spec: [s, e). */
static int names_item(nr_label_map *names, const nr_label_map *labels, int id, const char *s,
                      size_t len, nlprnn_error *err) {
    nlprnn_error e1;
    if (nr_label_check(s, len, &e1))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "label names: the name of label \"%s\": %s",
                       labels->names[id], e1.message);
    int other = nr_label_map_find(labels, s, len);
    if (other >= 0 && other != id)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "label names: \"%.*s\" is label \"%s\"'s data label, it cannot name label "
                       "\"%s\"",
                       (int)(len > 64 ? 64 : len), s, labels->names[other], labels->names[id]);
    free(names->names[id]);
    names->names[id] = malloc(len + 1);
    if (!names->names[id]) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    memcpy(names->names[id], s, len);
    names->names[id][len] = 0;
    return NLPRNN_OK;
}

int nr_label_names_parse(const nr_label_map *labels, const char *spec, nr_label_map *names,
                         nlprnn_error *err) {
    nr_label_map_init(names);
    if (!spec || !*spec) return NLPRNN_OK;
    int C = labels->n;
    char **tmp = calloc((size_t)C + 1, sizeof *tmp);
    if (!tmp) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    nr_label_map work = {tmp, C, C, NULL, 0}; /* names by id while parsing (no hash) */
    char sep = strchr(spec, '\n') ? '\n' : ',';
    int keyed = strchr(spec, '=') != NULL, rc = NLPRNN_OK, pos = 0;
    for (const char *s = spec; s && !rc;) {
        const char *e = strchr(s, sep);
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (keyed) {
            const char *eq = memchr(s, '=', len);
            int id = eq ? nr_label_map_find(labels, s, (size_t)(eq - s)) : -1;
            if (!eq)
                rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                             "label names: \"%.*s\" is not DATA=NAME (write every item so, or "
                             "give one NAME per class)", (int)(len > 64 ? 64 : len), s);
            else if (id < 0)
                rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                             "label names: no label \"%.*s\" (the model's %d labels are %s%s%s%s)",
                             (int)(eq - s > 64 ? 64 : eq - s), s, C, labels->names[0],
                             C > 1 ? ", " : "", C > 1 ? labels->names[1] : "", C > 2 ? ", ..." : "");
            else if (work.names[id])
                rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                             "label names: label \"%s\" is named twice", labels->names[id]);
            else
                rc = names_item(&work, labels, id, eq + 1, len - (size_t)(eq + 1 - s), err);
        } else if (pos >= C) {
            rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                         "label names: more than %d names for %d classes", C, C);
        } else {
            rc = names_item(&work, labels, pos, s, len, err);
        }
        pos++;
        s = e ? e + 1 : NULL;
    }
    if (!rc && !keyed && pos != C)
        rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "label names: %d names for %d classes",
                     pos, C);
    /* every class gets a name (its data label when none was given); the names must be distinct */
    int same = 1;
    for (int i = 0; i < C && !rc; i++) {
        const char *nm = work.names[i] ? work.names[i] : labels->names[i];
        if (strcmp(nm, labels->names[i])) same = 0;
        if (nr_label_map_find(names, nm, strlen(nm)) >= 0)
            rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                         "label names: \"%s\" names two classes", nm);
        else {
            int id = nr_label_map_add(names, nm, strlen(nm), err);
            if (id < 0) rc = id;
        }
    }
    for (int i = 0; i < C; i++) free(work.names[i]);
    free(tmp);
    if (rc || same) nr_label_map_free(names);
    return rc;
}

char *nr_label_names_join(const nr_label_map *names) {
    size_t n = 1;
    for (int i = 0; i < names->n; i++) n += strlen(names->names[i]) + 1;
    char *s = malloc(n);
    if (!s) return NULL;
    size_t at = 0;
    s[0] = 0;
    for (int i = 0; i < names->n; i++) {
        size_t l = strlen(names->names[i]);
        if (i) s[at++] = '\n';
        memcpy(s + at, names->names[i], l + 1);
        at += l;
    }
    return s;
}

int nr_label_map_copy(nr_label_map *dst, const nr_label_map *src, nlprnn_error *err) {
    nr_label_map_init(dst);
    for (int i = 0; i < src->n; i++) {
        int rc = nr_label_map_add(dst, src->names[i], strlen(src->names[i]), err);
        if (rc < 0) {
            nr_label_map_free(dst);
            return rc;
        }
    }
    return NLPRNN_OK;
}

/* ---- datasets ----------------------------------------------------------------------------- */

#define BLOCK_BYTES ((size_t)1 << 20)

struct nr_dataset_block {
    nr_dataset_block *next;
    size_t used, cap;
    char data[];
};

void nr_dataset_init(nr_dataset *ds) {
    memset(ds, 0, sizeof *ds);
    nr_label_map_init(&ds->labels);
}

void nr_dataset_free(nr_dataset *ds) {
    if (!ds) return;
    nr_dataset_block *b = ds->arena;
    while (b) {
        nr_dataset_block *nx = b->next;
        free(b);
        b = nx;
    }
    free(ds->text);
    free(ds->len);
    free(ds->label);
    free(ds->lineno);
    nr_label_map_free(&ds->labels);
    memset(ds, 0, sizeof *ds);
}

static char *arena_alloc(nr_dataset *ds, size_t n) {
    nr_dataset_block *b = ds->arena;
    if (!b || b->cap - b->used < n) {
        /* blocks grow 16 KiB, 32 KiB, ... up to 1 MiB: small sets stay small */
        size_t cap = !b ? (size_t)16 << 10 : b->cap >= BLOCK_BYTES / 2 ? BLOCK_BYTES : b->cap * 2;
        if (cap < n) cap = n;
        if (cap > SIZE_MAX - sizeof *b) return NULL;
        nr_dataset_block *nb = malloc(sizeof *nb + cap);
        if (!nb) return NULL;
        nb->used = 0;
        nb->cap = cap;
        /* a big one-off block goes behind the current one so the current keeps filling */
        if (b && n > BLOCK_BYTES && cap == n) {
            nb->next = b->next;
            b->next = nb;
            nb->used = n;
            return nb->data;
        }
        nb->next = b;
        ds->arena = b = nb;
    }
    char *p = b->data + b->used;
    b->used += n;
    return p;
}

int nr_dataset_add(nr_dataset *ds, const char *text, size_t len, int32_t label, long long lineno,
                   nlprnn_error *err) {
    if (ds->n == ds->cap) {
        size_t nc = ds->cap ? ds->cap * 2 : 1024;
        char **t = nr_realloc_array(ds->text, nc, sizeof *t);
        if (t) ds->text = t;
        size_t *l = t ? nr_realloc_array(ds->len, nc, sizeof *l) : NULL;
        if (l) ds->len = l;
        int32_t *y = l ? nr_realloc_array(ds->label, nc, sizeof *y) : NULL;
        if (y) ds->label = y;
        long long *ln = y ? nr_realloc_array(ds->lineno, nc, sizeof *ln) : NULL;
        if (ln) ds->lineno = ln;
        if (!ln) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "dataset: out of memory");
        ds->cap = nc;
    }
    if (len == SIZE_MAX) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "dataset: out of memory");
    char *p = arena_alloc(ds, len + 1);
    if (!p) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "dataset: out of memory");
    memcpy(p, text, len);
    p[len] = '\0';
    ds->text[ds->n] = p;
    ds->len[ds->n] = len;
    ds->label[ds->n] = label;
    ds->lineno[ds->n] = lineno;
    ds->n++;
    return NLPRNN_OK;
}

int nr_dataset_read_part(nr_dataset *ds, nr_record_reader *rr, const nr_dataset_load_opts *opts,
                         size_t max_bytes, long long *label_skips, nlprnn_error *err) {
    const char *name = nr_record_reader_name(rr);
    int rc = NLPRNN_OK;
    size_t bytes = 0;
    ds->has_labels = nr_record_reader_has_labels(rr);
    nr_record rec;
    for (;;) {
        if (opts->max_examples && ds->n >= opts->max_examples) return 1;
        if (max_bytes && bytes >= max_bytes) return 1;
        rc = nr_record_reader_next(rr, &rec, err);
        if (rc <= 0) break;
        int32_t y = -1;
        if (rec.label) {
            int id = nr_label_map_find(&ds->labels, rec.label, rec.label_len);
            if (id < 0 && opts->fixed_labels && opts->fixed_names)
                id = nr_label_map_find(opts->fixed_names, rec.label, rec.label_len);
            if (id < 0 && opts->fixed_labels) {
                if (opts->rec.skip_bad) {
                    ++*label_skips;
                    continue;
                }
                rc = nr_fail(err, NLPRNN_E_DATA, rec.lineno, rec.offset,
                             "%s:%lld: unknown label \"%.*s\" (the model knows %d label%s)",
                             name, rec.lineno, (int)(rec.label_len > 64 ? 64 : rec.label_len),
                             rec.label, ds->labels.n, ds->labels.n == 1 ? "" : "s");
                break;
            }
            if (id < 0) {
                id = nr_label_map_add(&ds->labels, rec.label, rec.label_len, err);
                if (id < 0) {
                    rc = id;
                    if (rc == NLPRNN_E_DATA || rc == NLPRNN_E_LIMIT)
                        rc = nr_fail_prefix(err, rc, rec.lineno, rec.offset, "%s:%lld: ", name,
                                            rec.lineno);
                    break;
                }
            }
            y = id;
        }
        rc = nr_dataset_add(ds, rec.text, rec.text_len, y, rec.lineno, err);
        if (rc) break;
        bytes += rec.text_len + 1;
    }
    return rc < 0 ? rc : 0;
}

static int load_from(nr_dataset *ds, nr_record_reader *rr, const nr_dataset_load_opts *opts,
                     nr_record_stats *stats, nlprnn_error *err) {
    const char *name = nr_record_reader_name(rr);
    long long label_skips = 0;
    int rc = NLPRNN_OK;
    if (opts->fixed_labels) rc = nr_label_map_copy(&ds->labels, opts->fixed_labels, err);
    if (!rc) rc = nr_dataset_read_part(ds, rr, opts, 0, &label_skips, err);
    if (rc > 0) rc = NLPRNN_OK; /* stopped at max_examples */
    if (stats) {
        nr_record_reader_stats(rr, stats);
        stats->skipped_bad += label_skips;
        stats->records -= label_skips;
    }
    if (rc < 0) return rc;
    if (!opts->fixed_labels && ds->labels.n > 1) {
        int *remap = nr_malloc_array((size_t)ds->labels.n, sizeof *remap);
        if (!remap) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", name);
        rc = nr_label_map_sort(&ds->labels, remap, err);
        if (!rc)
            for (size_t i = 0; i < ds->n; i++)
                if (ds->label[i] >= 0) ds->label[i] = remap[ds->label[i]];
        free(remap);
    }
    return rc;
}

static int load_common(nr_dataset *ds, nr_record_reader *rr, const nr_dataset_load_opts *opts,
                       nr_record_stats *stats, nlprnn_error *err) {
    int rc = load_from(ds, rr, opts, stats, err);
    nr_record_reader_close(rr);
    if (rc) nr_dataset_free(ds);
    return rc;
}

int nr_dataset_load(nr_dataset *ds, const char *path, const nr_dataset_load_opts *opts,
                    nr_record_stats *stats, nlprnn_error *err) {
    nr_dataset_init(ds);
    if (stats) memset(stats, 0, sizeof *stats);
    nr_dataset_load_opts def;
    if (!opts) {
        memset(&def, 0, sizeof def);
        nr_record_opts_default(&def.rec);
        opts = &def;
    }
    nr_record_reader *rr;
    int rc = nr_record_reader_open(&rr, path, &opts->rec, err);
    if (rc) return rc;
    return load_common(ds, rr, opts, stats, err);
}

int nr_dataset_load_mem(nr_dataset *ds, const char *name, const void *data, size_t n,
                        const nr_dataset_load_opts *opts, nr_record_stats *stats,
                        nlprnn_error *err) {
    nr_dataset_init(ds);
    if (stats) memset(stats, 0, sizeof *stats);
    nr_dataset_load_opts def;
    if (!opts) {
        memset(&def, 0, sizeof def);
        nr_record_opts_default(&def.rec);
        opts = &def;
    }
    nr_record_reader *rr;
    int rc = nr_record_reader_open_mem(&rr, name, data, n, &opts->rec, err);
    if (rc) return rc;
    return load_common(ds, rr, opts, stats, err);
}

static void swap_examples(nr_dataset *ds, size_t i, size_t j) {
    char *t = ds->text[i];
    ds->text[i] = ds->text[j];
    ds->text[j] = t;
    size_t l = ds->len[i];
    ds->len[i] = ds->len[j];
    ds->len[j] = l;
    int32_t y = ds->label[i];
    ds->label[i] = ds->label[j];
    ds->label[j] = y;
    long long ln = ds->lineno[i];
    ds->lineno[i] = ds->lineno[j];
    ds->lineno[j] = ln;
}

void nr_dataset_shuffle(nr_dataset *ds, nr_rng *rng) {
    /* Fisher-Yates, same draws as nr_rng_shuffle */
    for (size_t i = ds->n; i > 1; i--) {
        size_t j = (size_t)nr_rng_below(rng, i);
        if (j != i - 1) swap_examples(ds, i - 1, j);
    }
}

int nr_dataset_split(nr_dataset *ds, double valid_fraction, nr_rng *rng, nr_dataset *valid,
                     nlprnn_error *err) {
    nr_dataset_init(valid);
    if (!(valid_fraction >= 0.0 && valid_fraction < 1.0))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "validation fraction %g is outside [0, 1)", valid_fraction);
    int rc = nr_label_map_copy(&valid->labels, &ds->labels, err);
    if (rc) return rc;
    valid->has_labels = ds->has_labels;
    if (rng) nr_dataset_shuffle(ds, rng);
    size_t k = (size_t)(valid_fraction * (double)ds->n + 0.5);
    if (valid_fraction > 0.0 && ds->n >= 2) {
        if (k == 0) k = 1;
        if (k >= ds->n) k = ds->n - 1;
    }
    if (k > ds->n) k = ds->n;
    size_t first = ds->n - k;
    for (size_t i = first; i < ds->n; i++) {
        rc = nr_dataset_add(valid, ds->text[i], ds->len[i], ds->label[i], ds->lineno[i], err);
        if (rc) {
            nr_dataset_free(valid);
            return rc;
        }
    }
    ds->n = first; /* the moved texts stay in ds's arena, unused */
    return NLPRNN_OK;
}

void nr_dataset_class_counts(const nr_dataset *ds, long long *counts) {
    for (int c = 0; c < ds->labels.n; c++) counts[c] = 0;
    for (size_t i = 0; i < ds->n; i++)
        if (ds->label[i] >= 0 && ds->label[i] < ds->labels.n) counts[ds->label[i]]++;
}

/* ---- batches ------------------------------------------------------------------------------ */

typedef struct { size_t len, pos, idx; } len_key;

static int cmp_len(const void *a, const void *b) {
    const len_key *x = a, *y = b;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos; /* stable */
}

typedef struct len_idx {
    size_t len, idx;
} len_idx;

static int by_len_desc(const void *a, const void *b) {
    const len_idx *x = a, *y = b;
    if (x->len != y->len) return x->len > y->len ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* li: scratch of n entries (NULL: allocated here) */
static int sort_by_length(size_t *idx, size_t n, size_t (*len)(const void *data, size_t i), const void *data,
                          len_idx *li) {
    len_idx *own = li ? NULL : nr_malloc_array(n + 1, sizeof *own);
    if (!li && !(li = own)) return -1;
    for (size_t i = 0; i < n; i++) li[i] = (len_idx){len(data, idx[i]), idx[i]};
    qsort(li, n, sizeof *li, by_len_desc);
    for (size_t i = 0; i < n; i++) idx[i] = li[i].idx;
    free(own);
    return 0;
}

int nr_sort_by_length(size_t *idx, size_t n, size_t (*len)(const void *data, size_t i), const void *data) {
    return sort_by_length(idx, n, len, data, NULL);
}

long long nr_batches_by_length(const size_t *idx, size_t n, size_t batch_size, size_t block,
                               size_t (*len)(const void *data, size_t i), const void *data,
                               nr_rng *rng, size_t *order, size_t *bstart) {
    memcpy(order, idx, n * sizeof *order);
    nr_rng_shuffle(rng, order, n, sizeof *order);
    long long nb = (long long)((n + batch_size - 1) / batch_size);
    len_idx *li = nr_malloc_array(block, sizeof *li);
    size_t *perm = nr_malloc_array((size_t)nb, sizeof *perm), *tmp = nr_malloc_array(n, sizeof *tmp);
    if (!li || !perm || !tmp) {
        free(li), free(perm), free(tmp);
        return -1;
    }
    for (size_t b = 0; b < n; b += block) sort_by_length(order + b, n - b < block ? n - b : block, len, data, li);
    /* batch k = order[k B, k B + B); the batches' order shuffled */
    for (long long k = 0; k < nb; k++) perm[k] = (size_t)k;
    nr_rng_shuffle(rng, perm, (size_t)nb, sizeof *perm);
    size_t w = 0;
    for (long long k = 0; k < nb; k++) {
        size_t s0 = perm[k] * batch_size, s1 = s0 + batch_size < n ? s0 + batch_size : n;
        bstart[k] = w;
        for (size_t i = s0; i < s1; i++) tmp[w++] = order[i];
    }
    bstart[nb] = w;
    memcpy(order, tmp, n * sizeof *tmp);
    free(li), free(perm), free(tmp);
    return nb;
}

void nr_batches_free(nr_batches *b) {
    if (!b) return;
    free(b->start);
    free(b->idx);
    memset(b, 0, sizeof *b);
}

int nr_batches_make(nr_batches *b, const size_t *lengths, size_t n, size_t batch_size,
                    size_t chunk_batches, nr_rng *rng, nlprnn_error *err) {
    memset(b, 0, sizeof *b);
    if (batch_size == 0)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "batch size must be at least 1");
    size_t nb = n / batch_size + (n % batch_size != 0);
    size_t *order = nr_malloc_array(n ? n : 1, sizeof *order);
    len_key *keys = nr_malloc_array(n ? n : 1, sizeof *keys);
    size_t *bstart = nr_malloc_array(nb + 1, sizeof *bstart);
    size_t *perm = nr_malloc_array(nb ? nb : 1, sizeof *perm);
    b->idx = nr_malloc_array(n ? n : 1, sizeof *b->idx);
    b->start = nr_malloc_array(nb + 1, sizeof *b->start);
    if (!order || !keys || !bstart || !perm || !b->idx || !b->start) {
        free(order);
        free(keys);
        free(bstart);
        free(perm);
        nr_batches_free(b);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "batches: out of memory");
    }
    for (size_t i = 0; i < n; i++) order[i] = i;
    if (rng) nr_rng_shuffle(rng, order, n, sizeof *order);
    size_t chunk = chunk_batches == 0 || chunk_batches > n / batch_size + 1
                       ? n
                       : chunk_batches * batch_size;
    if (chunk == 0) chunk = 1;
    for (size_t c0 = 0; c0 < n; c0 += chunk) {
        size_t c1 = c0 + chunk < n ? c0 + chunk : n;
        for (size_t i = c0; i < c1; i++) {
            keys[i].len = lengths ? lengths[order[i]] : 0;
            keys[i].pos = i;
            keys[i].idx = order[i];
        }
        if (chunk_batches != 1) qsort(keys + c0, c1 - c0, sizeof *keys, cmp_len);
        for (size_t i = c0; i < c1; i++) order[i] = keys[i].idx;
    }
    /* batches never straddle a chunk boundary: cut each chunk separately */
    size_t k = 0;
    for (size_t c0 = 0; c0 < n; c0 += chunk) {
        size_t c1 = c0 + chunk < n ? c0 + chunk : n;
        for (size_t s = c0; s < c1; s += batch_size) bstart[k++] = s;
    }
    bstart[k] = n;
    nb = k;
    for (size_t i = 0; i < nb; i++) perm[i] = i;
    if (rng) nr_rng_shuffle(rng, perm, nb, sizeof *perm);
    size_t o = 0;
    for (size_t i = 0; i < nb; i++) {
        size_t s = bstart[perm[i]], e = bstart[perm[i] + 1];
        b->start[i] = o;
        for (size_t j = s; j < e; j++) b->idx[o++] = order[j];
    }
    b->start[nb] = o;
    b->n_batches = nb;
    free(order);
    free(keys);
    free(bstart);
    free(perm);
    return NLPRNN_OK;
}

/* tasks/classify/data.c: the classifier training's data (data.h): reading the labelled
 * examples (one process, or each MPI rank's shard), tokenizing them, and the soft targets of
 * distillation. The training task that uses them is train.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/params.h"
#include "tasks/classify/data.h"
#include "train/trainer.h" /* nr_seed_mix */

/* ---- tokenized data ----------------------------------------------------------------------------- */

void nr_clf_tokset_free(nr_clf_tokset *t) {
    free(t->ids);
    free(t->off);
    free(t->len);
    free(t->lenz);
    free(t->label);
    free(t->src);
    memset(t, 0, sizeof *t);
}

/* Tokenize the labelled examples of ds; documents with no token are dropped (counted). */
int nr_clf_tokset_make(nr_clf_tokset *t, const nr_dataset *ds, const nlprnn_tokenizer *tok, int max_tokens,
                       const char *name, long long *dropped, nlprnn_error *err) {
    memset(t, 0, sizeof *t);
    nlprnn_encoding *enc = NULL;
    nlprnn_encoding_create(&enc, NULL);
    size_t cap = ds->n * 16 + 16;
    t->ids = nr_malloc_array(cap, sizeof(int32_t));
    t->off = nr_malloc_array(ds->n + 1, sizeof(size_t));
    t->len = nr_malloc_array(ds->n + 1, sizeof(int));
    t->lenz = nr_malloc_array(ds->n + 1, sizeof(size_t));
    t->label = nr_malloc_array(ds->n + 1, sizeof(int));
    t->src = nr_malloc_array(ds->n + 1, sizeof(size_t));
    if (!enc || !t->ids || !t->off || !t->len || !t->lenz || !t->label || !t->src) {
        nlprnn_encoding_free(enc);
        nr_clf_tokset_free(t);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    }
    size_t at = 0;
    for (size_t i = 0; i < ds->n; i++) {
        int rc = nlprnn_tokenizer_encode(tok, ds->text[i], ds->len[i], enc, err);
        if (rc) {
            nr_fail_prefix(err, rc, ds->lineno[i], NR_KEEP, "%.200s:%lld: ", name, ds->lineno[i]);
            nlprnn_encoding_free(enc);
            nr_clf_tokset_free(t);
            return rc;
        }
        size_t n = nlprnn_encoding_size(enc);
        if (n == 0 || ds->label[i] < 0) {
            (*dropped)++;
            continue;
        }
        if (n > (size_t)max_tokens) n = (size_t)max_tokens;
        if (at + n > cap) {
            cap = (at + n) * 2;
            int32_t *ni = nr_realloc_array(t->ids, cap, sizeof(int32_t));
            if (!ni) {
                nlprnn_encoding_free(enc);
                nr_clf_tokset_free(t);
                return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
            }
            t->ids = ni;
        }
        memcpy(t->ids + at, nlprnn_encoding_ids(enc), n * sizeof(int32_t));
        t->off[t->n] = at;
        t->len[t->n] = (int)n;
        t->lenz[t->n] = n;
        t->label[t->n] = ds->label[i];
        t->src[t->n] = i;
        t->n++;
        at += n;
        t->tokens += (long long)n;
    }
    nlprnn_encoding_free(enc);
    return NLPRNN_OK;
}

/* ---- soft targets (distillation) ---------------------------------------------------------------
 *
 * The soft-column of the training file gives a row a target distribution over the C classes, in
 * class order (the labels sorted as nr_label_map_sort sorts them: "0 1" for labels 0 and 1),
 * numbers separated by spaces or commas, each in [0, 1], summing to 1 within 1e-3 (renormalized
 * here). An empty field: the row trains on its label alone. The column is read in a second pass
 * over the file after the examples (same reader options, so the same records) and matched to
 * them by line number, which a record's start makes unique: the validation split and the
 * length-bucketed batches may then order the examples as they like. A malformed soft target is
 * an error naming file:line: byte (--skip-bad does not skip it: the row was read as an example).
 * At temperature T the targets are q^(1/T) renormalized, that is softmax(teacher logits / T). */

void nr_clf_softset_free(nr_clf_softset *s) {
    free(s->lineno);
    free(s->q);
    memset(s, 0, sizeof *s);
}

/* The class names in class order, "0, 1", for messages. */
static void class_list(const nr_label_map *labels, char *buf, size_t cap) {
    size_t at = 0;
    buf[0] = '\0';
    for (int c = 0; c < labels->n && at + 1 < cap; c++) {
        int w = snprintf(buf + at, cap - at, "%s%s", c ? ", " : "", labels->names[c]);
        if (w < 0) break;
        at += (size_t)w;
        if (at >= cap) at = cap - 1;
    }
    if (at + 1 >= cap && cap > 4) memcpy(buf + cap - 4, "...", 4);
}

/* Parse one soft target field (C probabilities) into q; errors name file:line: byte. */
static int parse_soft(const char *name, const nr_record *rec, const nr_label_map *labels,
                      double temperature, float *q, nlprnn_error *err) {
    const int C = labels->n;
    const char *f = rec->extra;
    size_t n = rec->extra_len, i = 0;
    int k = 0;
    double sum = 0, v[64];
    char classes[200];
    while (i < n) {
        while (i < n && (f[i] == ' ' || f[i] == ',')) i++;
        if (i >= n) break;
        size_t b = i;
        while (i < n && f[i] != ' ' && f[i] != ',') i++;
        char num[64];
        double x = 0;
        int ok = i - b < sizeof num;
        if (ok) {
            memcpy(num, f + b, i - b);
            num[i - b] = '\0';
            ok = nr_parse_double(num, 0.0, 1.0, &x);
        }
        if (!ok)
            return nr_fail(err, NLPRNN_E_DATA, rec->lineno, rec->extra_offset + (long long)b,
                           "%s:%lld: byte %lld: soft target \"%.*s\" is not a probability (a number "
                           "in [0, 1])",
                           name, rec->lineno, rec->extra_offset + (long long)b,
                           (int)(i - b > 40 ? 40 : i - b), f + b);
        if (k < C && k < (int)(sizeof v / sizeof v[0])) v[k] = x;
        k++;
        sum += x;
    }
    if (k != C) {
        class_list(labels, classes, sizeof classes);
        return nr_fail(err, NLPRNN_E_DATA, rec->lineno, rec->extra_offset,
                       "%s:%lld: byte %lld: %d soft target%s, the data have %d classes (one "
                       "probability each, in this order: %s)",
                       name, rec->lineno, rec->extra_offset, k, k == 1 ? "" : "s", C, classes);
    }
    if (C > (int)(sizeof v / sizeof v[0]))
        return nr_fail(err, NLPRNN_E_LIMIT, rec->lineno, rec->extra_offset,
                       "%s:%lld: soft targets: at most %d classes", name, rec->lineno,
                       (int)(sizeof v / sizeof v[0]));
    if (fabs(sum - 1.0) > 1e-3)
        return nr_fail(err, NLPRNN_E_DATA, rec->lineno, rec->extra_offset,
                       "%s:%lld: byte %lld: the soft targets \"%.*s\" sum to %.6g, not 1 (within "
                       "0.001)",
                       name, rec->lineno, rec->extra_offset, (int)(n > 80 ? 80 : n), f, sum);
    double z = 0;
    for (int c = 0; c < C; c++) z += v[c] = temperature == 1.0 ? v[c] : pow(v[c], 1.0 / temperature);
    if (!(z > 0))
        return nr_fail(err, NLPRNN_E_DATA, rec->lineno, rec->extra_offset,
                       "%s:%lld: byte %lld: the soft targets vanish at temperature %g", name,
                       rec->lineno, rec->extra_offset, temperature);
    for (int c = 0; c < C; c++) q[c] = (float)(v[c] / z);
    return NLPRNN_OK;
}

/* Second pass over the training file: the rows' soft targets (see above). */
int nr_clf_softset_load(nr_clf_softset *s, const char *path, const nr_dataset_load_opts *o0,
                        const char *column, const nr_label_map *labels, double temperature,
                        nlprnn_error *err) {
    memset(s, 0, sizeof *s);
    nr_dataset_load_opts o = *o0;
    o.rec.extra_column = column;
    nr_record_reader *rr = NULL;
    int rc = nr_record_reader_open(&rr, path, &o.rec, err);
    if (rc) return rc;
    const char *name = nr_record_reader_name(rr);
    const int C = labels->n;
    size_t cap = 0, records = 0;
    nr_record rec;
    while (!(o.max_examples && records >= o.max_examples)) {
        rc = nr_record_reader_next(rr, &rec, err);
        if (rc <= 0) break;
        records++;
        size_t blank = 0;
        while (blank < rec.extra_len && rec.extra[blank] == ' ') blank++;
        if (blank == rec.extra_len) continue; /* no soft target: the label */
        if (s->n == cap) {
            cap = cap ? 2 * cap : 4096;
            long long *nl = nr_realloc_array(s->lineno, cap, sizeof *nl);
            if (nl) s->lineno = nl;
            float *nq = nr_realloc_array(s->q, cap, (size_t)C * sizeof *nq);
            if (nq) s->q = nq;
            if (!nl || !nq) {
                rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
                break;
            }
        }
        rc = parse_soft(name, &rec, labels, temperature, s->q + s->n * (size_t)C, err);
        if (rc) break;
        s->lineno[s->n++] = rec.lineno;
    }
    nr_record_reader_close(rr);
    if (rc < 0) nr_clf_softset_free(s);
    return rc < 0 ? rc : NLPRNN_OK;
}

/* The soft-target row of the example that starts at line lineno, or -1. */
long long nr_clf_softset_find(const nr_clf_softset *s, long long lineno) {
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->lineno[mid] < lineno) lo = mid + 1;
        else hi = mid;
    }
    return lo < s->n && s->lineno[lo] == lineno ? (long long)lo : -1;
}

int nr_clf_data_load(const nr_dataset_load_opts *opts, double valid, long long seed, const char *train_path,
                     const char *valid_path, nr_dataset *dtr, nr_dataset *dva, nlprnn_error *err) {
    nr_dataset_load_opts o = *opts;
    int rc = nr_dataset_load(dtr, train_path, &o, NULL, err);
    if (rc) return rc;
    if (dtr->labels.n < 2)
        return nr_fail(err, NLPRNN_E_DATA, -1, -1, "%s: needs at least 2 classes, found %d", train_path,
                       dtr->labels.n);
    if (valid_path) {
        o.fixed_labels = &dtr->labels;
        o.max_examples = 0;
        rc = nr_dataset_load(dva, valid_path, &o, NULL, err);
    } else if (valid > 0) {
        nr_rng r;
        nr_rng_seed(&r, nr_seed_mix((uint64_t)seed, 0x5EED, 1));
        rc = nr_dataset_split(dtr, valid, &r, dva, err);
    } else {
        nr_dataset_init(dva);
    }
    return rc;
}
/* ---- MPI: each rank's shard -------------------------------------------------------------------
 *
 * With N > 1 ranks (mpirun -np N; train/comm.h) every rank streams the corpus but keeps only its
 * shard. The global order of the training examples is the one a one-process run has (file order,
 * or the seeded shuffle of the validation split); the example at position q belongs to rank
 * q % N, as its (q / N)-th local example. Validation examples are dealt out the same way by their
 * position in the validation part. Every rank tokenizes its shard, the token counts are gathered
 * (4 bytes per example), and every rank makes the same length-bucketed global batches with
 * nr_batches_make as the one-process run would with batch N * B. Global batch k goes to the
 * ranks in slices of B (rank r: positions [rB, rB + B)); the token ids of the slice come from
 * their owners (MPI_Alltoallv, a few KB a step). The loss is the mean over the global batch, so
 * each rank's gradient is scaled by 1 / (global count) and the ranks' gradients are summed.
 * The same data order for every N is what makes N ranks x batch B equal one rank x batch N*B
 * (up to float summation order) and a checkpoint resumable with another N. */

/* One pass over a corpus: count the records (up to max when max > 0) and, when labels is not
 * NULL, collect their label names; with fixed != NULL an unknown label is an error (or skipped
 * with skip_bad), as nr_dataset_load does. */
static int count_records(const char *path, const nr_dataset_load_opts *o, nr_label_map *labels,
                         size_t *n, nlprnn_error *err) {
    *n = 0;
    nr_record_reader *rr = NULL;
    int rc = nr_record_reader_open(&rr, path, &o->rec, err);
    if (rc) return rc;
    const char *name = nr_record_reader_name(rr);
    nr_record rec;
    while (!(o->max_examples && *n >= o->max_examples)) {
        rc = nr_record_reader_next(rr, &rec, err);
        if (rc <= 0) break;
        if (rec.label && nr_label_map_find(labels, rec.label, rec.label_len) < 0) {
            if (o->fixed_labels) {
                if (o->rec.skip_bad) continue;
                rc = nr_fail(err, NLPRNN_E_DATA, rec.lineno, rec.offset,
                             "%s:%lld: unknown label \"%.*s\" (the model knows %d label%s)", name,
                             rec.lineno, (int)(rec.label_len > 64 ? 64 : rec.label_len), rec.label,
                             labels->n, labels->n == 1 ? "" : "s");
                break;
            }
            int id = nr_label_map_add(labels, rec.label, rec.label_len, err);
            if (id < 0) {
                rc = id;
                break;
            }
        }
        (*n)++;
    }
    nr_record_reader_close(rr);
    return rc < 0 ? rc : NLPRNN_OK;
}

/* Put ds's examples in the order of slot[] (a permutation of 0..n-1). */
static int reorder(nr_dataset *ds, const size_t *slot, nlprnn_error *err) {
    size_t n = ds->n;
    char **text = nr_malloc_array(n + 1, sizeof *text);
    size_t *len = nr_malloc_array(n + 1, sizeof *len);
    int32_t *label = nr_malloc_array(n + 1, sizeof *label);
    long long *lineno = nr_malloc_array(n + 1, sizeof *lineno);
    int rc = text && len && label && lineno ? NLPRNN_OK
                                            : nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    if (!rc) {
        for (size_t i = 0; i < n; i++) {
            text[slot[i]] = ds->text[i];
            len[slot[i]] = ds->len[i];
            label[slot[i]] = ds->label[i];
            lineno[slot[i]] = ds->lineno[i];
        }
        memcpy(ds->text, text, n * sizeof *text);
        memcpy(ds->len, len, n * sizeof *len);
        memcpy(ds->label, label, n * sizeof *label);
        memcpy(ds->lineno, lineno, n * sizeof *lineno);
    }
    free(text);
    free(len);
    free(label);
    free(lineno);
    return rc;
}

/* Second pass: keep this rank's records. Record i (counted as count_records does) has global
 * position pos[i] (i itself when pos is NULL); positions q < ntr are training examples, kept in
 * tr at slot q / N when q % N == rank; the others are validation examples v = q - ntr, kept in
 * va when v % N == rank (va may be NULL when ntr covers every record). labels: the final map. */
static int load_shard(const char *path, const nr_dataset_load_opts *o, const nr_label_map *labels,
                      const size_t *pos, size_t ntr, const nr_comm *D, nr_dataset *tr,
                      nr_dataset *va, nlprnn_error *err) {
    nr_record_reader *rr = NULL;
    int rc = nr_record_reader_open(&rr, path, &o->rec, err);
    if (rc) return rc;
    size_t N = (size_t)D->size, me = (size_t)D->rank, i = 0, cap = 0;
    size_t *slot = NULL; /* (tr->n) slot of each kept training example */
    nr_record rec;
    while (!(o->max_examples && i >= o->max_examples)) {
        rc = nr_record_reader_next(rr, &rec, err);
        if (rc <= 0) break;
        int32_t y = -1;
        if (rec.label) {
            y = nr_label_map_find(labels, rec.label, rec.label_len);
            if (y < 0) continue; /* an unknown label skipped with skip_bad (count_records) */
        }
        size_t q = pos ? pos[i] : i;
        i++;
        int train = q < ntr;
        size_t at = train ? q : q - ntr;
        if (at % N != me) continue;
        if (train && tr->n == cap) {
            cap = cap ? 2 * cap : 1024;
            size_t *ns = nr_realloc_array(slot, cap, sizeof *slot);
            if (!ns) {
                rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
                break;
            }
            slot = ns;
        }
        if (train) slot[tr->n] = at / N;
        rc = nr_dataset_add(train ? tr : va, rec.text, rec.text_len, y, rec.lineno, err);
        if (rc) break;
    }
    nr_record_reader_close(rr);
    if (rc >= 0 && pos && tr->n) rc = reorder(tr, slot, err);
    free(slot);
    return rc < 0 ? rc : NLPRNN_OK;
}

int nr_clf_data_load_shards(const nr_dataset_load_opts *opts, double valid, long long seed,
                            const nr_comm *D, const char *train_path, const char *valid_path,
                            nr_dataset *dtr, nr_dataset *dva, nlprnn_error *err) {
    nr_dataset_load_opts o = *opts;
    nr_label_map labels;
    nr_label_map_init(&labels);
    size_t n = 0, nva = 0, *perm = NULL, *pos = NULL;
    int rc = count_records(train_path, &o, &labels, &n, err);
    if (!rc) rc = nr_label_map_sort(&labels, NULL, err);
    if (!rc && labels.n < 2)
        rc = nr_fail(err, NLPRNN_E_DATA, -1, -1, "%s: needs at least 2 classes, found %d", train_path,
                     labels.n);
    size_t ntr = n;
    if (!rc && !valid_path && valid > 0) {
        /* the positions nr_dataset_split gives: the same Fisher-Yates draws, last k held out */
        perm = nr_malloc_array(n + 1, sizeof *perm);
        pos = nr_malloc_array(n + 1, sizeof *pos);
        if (!perm || !pos) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        if (!rc) {
            nr_rng r;
            nr_rng_seed(&r, nr_seed_mix((uint64_t)seed, 0x5EED, 1));
            for (size_t i = 0; i < n; i++) perm[i] = i;
            for (size_t i = n; i > 1; i--) {
                size_t j = (size_t)nr_rng_below(&r, i), x = perm[i - 1];
                perm[i - 1] = perm[j];
                perm[j] = x;
            }
            for (size_t q = 0; q < n; q++) pos[perm[q]] = q;
            size_t k = (size_t)(valid * (double)n + 0.5);
            if (n >= 2) {
                if (k == 0) k = 1;
                if (k >= n) k = n - 1;
            }
            if (k > n) k = n;
            ntr = n - k;
        }
    }
    free(perm);
    if (!rc) {
        rc = nr_label_map_copy(&dtr->labels, &labels, err);
        if (!rc) rc = nr_label_map_copy(&dva->labels, &labels, err);
        dtr->has_labels = dva->has_labels = 1;
    }
    if (!rc) rc = load_shard(train_path, &o, &labels, pos, ntr, D, dtr, dva, err);
    free(pos);
    if (!rc && valid_path) {
        o.fixed_labels = &labels;
        o.max_examples = 0;
        rc = count_records(valid_path, &o, &labels, &nva, err);
        if (!rc) rc = load_shard(valid_path, &o, &labels, NULL, 0, D, dva, dva, err);
    }
    nr_label_map_free(&labels);
    return rc;
}

/* tasks/tag/api.c: the public functions of nlprnn/tagger.h: the tagger's accessors, contexts,
 * tagging and spacing.
 *
 * Inference over a long sequence runs in windows of W = max-len units (the training length) that
 * overlap by M = W/4 on each side: window k covers [s, s+W) with s = k (W - 2M) and decides the
 * units [s+M, s+W-M) (the first from 0, the last to the end), so every decided unit sees at
 * least M units of context on both sides where the text has them. The windows of a batch of texts
 * run together, longest first, max_B at a time, split over the context's threads by the encoder.
 *
 * An ensemble (nlprnn_tagger_load_ensemble) runs each member in turn, with its own windows (its
 * own max-len) and scratch, over the same units and hints, and combines per unit by the MEAN OF
 * THE MEMBERS' PROBABILITIES, p(label) = (1/N) sum_m p_m(label), summed in member order and
 * divided by N; the label is the argmax of that mean (first on ties, as one model). For a
 * spacing model's two labels this is the mean of the members' probabilities of a space, and a
 * space where it exceeds that of none (> 0.5). One member takes the single model's path
 * unchanged (the same floats).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/pool.h"
#include "tasks/tag/tagger.h"

/* Windows a context runs in one forward: the batch of each member's scratch (made for CTX_MAX_B
 * windows of max-len units), so a call on many texts runs ceil(windows / 64) forwards per member.
 * No measurement chose 64 over other values. */
#define CTX_MAX_B 64

void nlprnn_tagger_free(nlprnn_tagger *t) {
    if (!t) return;
    for (int k = 0; k < t->n_more; k++) nlprnn_tagger_free(t->more[k]);
    free(t->more);
    nr_label_map_free(&t->units);
    nr_label_map_free(&t->labels);
    free(t->params);
    free(t->path);
    free(t);
}

void nr_tagger_summarize(nlprnn_tagger *t) {
    char acc[40] = "none", cv[48] = "";
    if (!isnan(t->best_score)) snprintf(acc, sizeof acc, "%.4f", t->best_score);
    if (t->p.conv) snprintf(cv, sizeof cv, " + conv %d x %d", t->p.conv, t->p.conv_channels);
    snprintf(t->summary, sizeof t->summary,
             "%s tagger: %d units, %d labels, embed %d%s%s, %d x bidirectional %s %d, %zu parameters, "
             "%d epochs (best %d), validation accuracy %s",
             t->p.format == NR_TAG_FORMAT_SPACING ? "spacing" : "token", t->units.n, t->labels.n,
             t->p.embed, t->p.jamo ? " + jamo" : "", cv, t->p.layers, nr_cell_name(t->p.cell), t->p.hidden, t->net.n_params,
             t->epochs_run, t->best_epoch, acc);
}

int nlprnn_tagger_is_spacing(const nlprnn_tagger *t) {
    return t ? t->p.format == NR_TAG_FORMAT_SPACING : -1;
}
int nlprnn_tagger_num_labels(const nlprnn_tagger *t) { return t ? t->labels.n : 0; }
const char *nlprnn_tagger_label(const nlprnn_tagger *t, int i) {
    return t ? nr_label_map_name(&t->labels, i) : NULL;
}
int nlprnn_tagger_num_units(const nlprnn_tagger *t) { return t ? t->units.n : 0; }
const char *nlprnn_tagger_summary(const nlprnn_tagger *t) { return t ? t->summary : NULL; }

/* ---- contexts ------------------------------------------------------------------------------- */

typedef struct txt {
    nr_units u;
    float *p;           /* (n) probability of a space after unit j (spacing), of its label (tag) */
    int *lab;           /* (n) argmax label */
    size_t *end;        /* (n) byte offset after unit j in out */
    unsigned char *sp;  /* (n) a space follows in out */
    size_t cap;
    char *out;
    size_t out_len, out_cap;
    int status;
} txt;

typedef struct win {
    size_t text, s, len, keep_lo, keep_hi;
} win;

struct nlprnn_tagger_ctx {
    const nlprnn_tagger *t;
    int N;              /* members */
    nr_tag_scratch sc[NR_TAG_MAX_ENS]; /* one a member */
    float *acc;         /* (units of all texts, C) ensemble: summed probabilities */
    size_t cap_acc;
    txt *tx;
    size_t n_tx, cap_tx;
    win *wins;
    size_t n_wins, cap_wins;
    int *ids;           /* (units of all texts) */
    int *hints;
    uint16_t *jam;      /* jamo codes (nr_jamo_code) */
    size_t cap_ids;
};

int nlprnn_tagger_ctx_create(const nlprnn_tagger *t, int threads, nlprnn_tagger_ctx **out,
                             nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tagger context: out is NULL");
    *out = NULL;
    if (!t) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tagger context: the tagger is NULL");
    if (threads < 0 || threads > NR_MAX_THREADS)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tagger context: threads %d is not in 0..%d", threads,
                       NR_MAX_THREADS);
    if (threads == 0) threads = nr_default_threads();
    nlprnn_tagger_ctx *c = calloc(1, sizeof *c);
    if (!c) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tagger context: out of memory");
    c->t = t;
    c->N = 1 + t->n_more;
    for (int m = 0; m < c->N; m++) {
        const nlprnn_tagger *tm = m ? t->more[m - 1] : t;
        int rc = nr_tag_scratch_init(&c->sc[m], &tm->net, tm->p.max_len, CTX_MAX_B, 0, threads, err);
        if (rc) {
            for (int k = 0; k < m; k++) nr_tag_scratch_free(&c->sc[k]);
            free(c);
            return rc;
        }
    }
    *out = c;
    return NLPRNN_OK;
}

void nlprnn_tagger_ctx_free(nlprnn_tagger_ctx *c) {
    if (!c) return;
    for (int m = 0; m < c->N; m++) nr_tag_scratch_free(&c->sc[m]);
    free(c->acc);
    for (size_t i = 0; i < c->cap_tx; i++) {
        txt *x = &c->tx[i];
        nr_units_free(&x->u);
        free(x->p);
        free(x->lab);
        free(x->end);
        free(x->sp);
        free(x->out);
    }
    free(c->tx);
    free(c->wins);
    free(c->ids);
    free(c->hints);
    free(c->jam);
    free(c);
}

static int grow_texts(nlprnn_tagger_ctx *c, size_t n, nlprnn_error *err) {
    if (n <= c->cap_tx) return NLPRNN_OK;
    txt *t = realloc(c->tx, n * sizeof *t);
    if (!t) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tagger: out of memory");
    memset(t + c->cap_tx, 0, (n - c->cap_tx) * sizeof *t);
    c->tx = t;
    c->cap_tx = n;
    return NLPRNN_OK;
}

/* Room for n units of results in x. */
static int grow_units(txt *x, size_t n, nlprnn_error *err) {
    if (n <= x->cap) return NLPRNN_OK;
    size_t nc = n < 64 ? 64 : n;
    float *p = realloc(x->p, nc * sizeof *p);
    if (p) x->p = p;
    int *l = realloc(x->lab, nc * sizeof *l);
    if (l) x->lab = l;
    size_t *e = realloc(x->end, nc * sizeof *e);
    if (e) x->end = e;
    unsigned char *s = realloc(x->sp, nc);
    if (s) x->sp = s;
    if (!p || !l || !e || !s) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tagger: out of memory");
    x->cap = nc;
    return NLPRNN_OK;
}

static int add_win(nlprnn_tagger_ctx *c, win w, nlprnn_error *err) {
    if (c->n_wins == c->cap_wins) {
        size_t nc = c->cap_wins ? c->cap_wins * 2 : 256;
        win *nw = realloc(c->wins, nc * sizeof *nw);
        if (!nw) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tagger: out of memory");
        c->wins = nw;
        c->cap_wins = nc;
    }
    c->wins[c->n_wins++] = w;
    return NLPRNN_OK;
}

static int by_win_len(const void *a, const void *b) {
    const win *x = a, *y = b;
    if (x->len != y->len) return x->len > y->len ? -1 : 1;
    if (x->text != y->text) return x->text < y->text ? -1 : 1;
    return x->s < y->s ? -1 : x->s > y->s;
}

/* Run member m (tm, its scratch c->sc[m]) over texts 0..n_tx-1 whose units are
 * c->ids/c->hints/c->jam from base[i] (count[i] units): with acc NULL tx[i].p and tx[i].lab get each unit's result (one
 * model); else each unit's C probabilities are added to acc (+ (base[i] + j) C). */
static int run_member(nlprnn_tagger_ctx *c, const nlprnn_tagger *tm, nr_tag_scratch *sc, const size_t *base,
                      const size_t *count, float *acc, nlprnn_error *err) {
    size_t W = (size_t)tm->p.max_len, M = W / 4, S = W - 2 * M;
    c->n_wins = 0;
    int rc = NLPRNN_OK;
    for (size_t i = 0; !rc && i < c->n_tx; i++) {
        size_t n = count[i];
        if (c->tx[i].status || n == 0) continue;
        for (size_t s = 0;; s += S) {
            size_t e = s + W < n ? s + W : n;
            win w = {i, s, e - s, s ? s + M : 0, e == n ? n : e - M};
            rc = add_win(c, w, err);
            if (rc || e == n) break;
        }
    }
    if (rc) return rc;
    if (c->n_wins > 1) qsort(c->wins, c->n_wins, sizeof *c->wins, by_win_len); /* wins may be NULL when empty */
    int C = tm->net.C;
    for (size_t g = 0; g < c->n_wins; g += CTX_MAX_B) {
        int B = c->n_wins - g < CTX_MAX_B ? (int)(c->n_wins - g) : CTX_MAX_B;
        const win *wg = c->wins + g;
        int T = (int)wg[0].len;
        for (int b = 0; b < B; b++) {
            sc->len[b] = (int)wg[b].len;
            const int *ids = c->ids + base[wg[b].text] + wg[b].s;
            const int *hints = c->hints + base[wg[b].text] + wg[b].s;
            const uint16_t *jam = c->jam + base[wg[b].text] + wg[b].s;
            for (int k = 0; k < T; k++) {
                size_t at = (size_t)k * (size_t)B + (size_t)b;
                int real = k < (int)wg[b].len;
                sc->ids[at] = real ? ids[k] : NR_UNIT_PAD;
                sc->hints[at] = real ? hints[k] : NR_HINT_NONE;
                sc->jam[at] = real ? jam[k] : 0;
            }
        }
        rc = nr_tag_forward(sc, &tm->net, T, B, NULL, err);
        if (rc) return rc;
        nr_tag_probs(sc, &tm->net, T, B);
        for (int b = 0; b < B; b++) {
            txt *x = &c->tx[wg[b].text];
            for (size_t j = wg[b].keep_lo; j < wg[b].keep_hi; j++) {
                const float *pr = sc->logits + ((j - wg[b].s) * (size_t)B + (size_t)b) * (size_t)C;
                if (acc) {
                    float *a = acc + (base[wg[b].text] + j) * (size_t)C;
                    for (int k = 0; k < C; k++) a[k] += pr[k];
                    continue;
                }
                int best = 0;
                for (int k = 1; k < C; k++)
                    if (pr[k] > pr[best]) best = k;
                x->lab[j] = best;
                x->p[j] = tm->p.format == NR_TAG_FORMAT_SPACING ? pr[NR_SPACE_YES] : pr[best];
            }
        }
    }
    return NLPRNN_OK;
}

/* Run the tagger (every member of an ensemble) over texts 0..n_tx-1 whose units are
 * c->ids/c->hints/c->jam from base[i] (count[i] units): tx[i].p and tx[i].lab get each unit's result. */
static int run(nlprnn_tagger_ctx *c, const size_t *base, const size_t *count, nlprnn_error *err) {
    const nlprnn_tagger *t = c->t;
    if (c->N == 1) return run_member(c, t, &c->sc[0], base, count, NULL, err);
    size_t total = 0, C = (size_t)t->net.C;
    for (size_t i = 0; i < c->n_tx; i++)
        if (!c->tx[i].status && base[i] + count[i] > total) total = base[i] + count[i];
    if (total * C > c->cap_acc) {
        float *a = realloc(c->acc, total * C * sizeof *a);
        if (!a) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tagger: out of memory");
        c->acc = a;
        c->cap_acc = total * C;
    }
    if (total) memset(c->acc, 0, total * C * sizeof *c->acc);
    for (int m = 0; m < c->N; m++) {
        int rc = run_member(c, m ? t->more[m - 1] : t, &c->sc[m], base, count, c->acc, err);
        if (rc) return rc;
    }
    float nf = (float)c->N;
    for (size_t i = 0; i < c->n_tx; i++) {
        txt *x = &c->tx[i];
        if (x->status) continue;
        for (size_t j = 0; j < count[i]; j++) {
            float *pr = c->acc + (base[i] + j) * C;
            for (size_t k = 0; k < C; k++) pr[k] /= nf; /* the mean */
            int best = 0;
            for (int k = 1; k < (int)C; k++)
                if (pr[k] > pr[best]) best = k;
            x->lab[j] = best;
            x->p[j] = t->p.format == NR_TAG_FORMAT_SPACING ? pr[NR_SPACE_YES] : pr[best];
        }
    }
    return NLPRNN_OK;
}

static int grow_ids(nlprnn_tagger_ctx *c, size_t n, nlprnn_error *err) {
    if (n <= c->cap_ids) return NLPRNN_OK;
    size_t nc = n < 1024 ? 1024 : n;
    int *i = realloc(c->ids, nc * sizeof *i);
    if (i) c->ids = i;
    int *h = realloc(c->hints, nc * sizeof *h);
    if (h) c->hints = h;
    uint16_t *j = realloc(c->jam, nc * sizeof *j);
    if (j) c->jam = j;
    if (!i || !h || !j) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tagger: out of memory");
    c->cap_ids = nc;
    return NLPRNN_OK;
}

int nlprnn_tag(nlprnn_tagger_ctx *c, const char *const *tokens, size_t n, int *labels, float *probs,
               nlprnn_error *err) {
    if (!c || (!tokens && n) || (!labels && n))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tag: NULL argument");
    if (c->t->p.format != NR_TAG_FORMAT_TAGGED)
        return nr_fail(err, NLPRNN_E_UNSUPPORTED, -1, -1, "tag: a spacing model tags text with nlprnn_space");
    int rc = grow_texts(c, 1, err);
    if (!rc) rc = grow_units(&c->tx[0], n, err);
    if (!rc) rc = grow_ids(c, n, err);
    if (rc) return rc;
    c->n_tx = 1;
    c->tx[0].status = 0;
    c->tx[0].u.n = 0;
    for (size_t i = 0; i < n; i++) {
        if (!tokens[i]) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tag: token %zu is NULL", i);
        int id = nr_label_map_find(&c->t->units, tokens[i], strlen(tokens[i]));
        c->ids[i] = id < 0 ? NR_UNIT_UNK : id;
        c->hints[i] = NR_HINT_NONE;
        c->jam[i] = 0; /* token taggers have no jamo */
    }
    size_t base = 0;
    rc = run(c, &base, &n, err);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) {
        labels[i] = c->tx[0].lab[i];
        if (probs) probs[i] = c->tx[0].p[i];
    }
    return NLPRNN_OK;
}

/* The respaced text of x from its units and decisions. */
static int build_output(txt *x, int keep, nlprnn_error *err) {
    size_t need = x->u.len + x->u.n + 1;
    if (need > x->out_cap) {
        char *o = realloc(x->out, need);
        if (!o) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "space: out of memory");
        x->out = o;
        x->out_cap = need;
    }
    size_t w = 0;
    for (size_t j = 0; j < x->u.n; j++) {
        size_t a = x->u.start[j], b = x->u.start[j + 1];
        memcpy(x->out + w, x->u.text + a, b - a);
        w += b - a;
        x->end[j] = w;
        x->sp[j] = j + 1 < x->u.n && (x->lab[j] == NR_SPACE_YES || (keep && x->u.space_after[j]));
        if (x->sp[j]) x->out[w++] = ' ';
    }
    x->out[w] = 0;
    x->out_len = w;
    return NLPRNN_OK;
}

int nlprnn_space_batch(nlprnn_tagger_ctx *c, const char *const *texts, const size_t *lens, size_t n,
                       unsigned flags, int *status, nlprnn_error *err) {
    if (!c || (n && (!texts || !lens || !status)))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "space: NULL argument");
    if (c->t->p.format != NR_TAG_FORMAT_SPACING)
        return nr_fail(err, NLPRNN_E_UNSUPPORTED, -1, -1, "space: the model is a token tagger, not a spacing model");
    if (flags & ~(unsigned)NLPRNN_SPACE_KEEP)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "space: unknown flags 0x%x", flags);
    int rc = grow_texts(c, n, err);
    if (rc) return rc;
    c->n_tx = n;
    size_t *base = nr_malloc_array(n + 1, sizeof *base), *count = nr_malloc_array(n + 1, sizeof *count);
    if (!base || !count) {
        free(base);
        free(count);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "space: out of memory");
    }
    size_t total = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        txt *x = &c->tx[i];
        nlprnn_error e2;
        x->status = texts[i] || !lens[i] ? nr_units_of_text(&x->u, texts[i] ? texts[i] : "", lens[i], &e2)
                                         : NLPRNN_E_INVALID_ARG;
        x->out_len = 0;
        if (x->status == NLPRNN_E_NOMEM) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "space: out of memory");
        if (x->status) x->u.n = 0;
        status[i] = x->status;
        base[i] = total;
        count[i] = x->u.n;
        total += x->u.n;
        if (!rc) rc = grow_units(x, x->u.n, err);
    }
    if (!rc) rc = grow_ids(c, total, err);
    for (size_t i = 0; !rc && i < n; i++) {
        txt *x = &c->tx[i];
        for (size_t j = 0; j < x->u.n; j++) {
            const char *s = x->u.text + x->u.start[j];
            size_t sl = x->u.start[j + 1] - x->u.start[j];
            int id = nr_label_map_find(&c->t->units, s, sl);
            c->ids[base[i] + j] = id < 0 ? NR_UNIT_UNK : id;
            c->jam[base[i] + j] = nr_jamo_code(s, sl); /* of the character: an unknown one keeps its jamo */
            c->hints[base[i] + j] = !(flags & NLPRNN_SPACE_KEEP) ? NR_HINT_NONE
                                    : x->u.space_after[j]        ? NR_HINT_SPACE
                                                                 : NR_HINT_JOIN;
        }
    }
    if (!rc) rc = run(c, base, count, err);
    for (size_t i = 0; !rc && i < n; i++)
        if (!c->tx[i].status) rc = build_output(&c->tx[i], (flags & NLPRNN_SPACE_KEEP) != 0, err);
    free(base);
    free(count);
    if (rc) c->n_tx = 0;
    return rc;
}

int nlprnn_space(nlprnn_tagger_ctx *c, const char *text, size_t len, unsigned flags, nlprnn_error *err) {
    int st = 0;
    int rc = nlprnn_space_batch(c, &text, &len, 1, flags, &st, err);
    if (rc) return rc;
    if (st == NLPRNN_E_UTF8) { /* say where: the units' check knows the byte */
        nlprnn_error e2;
        nr_units_of_text(&c->tx[0].u, text, len, &e2);
        c->tx[0].u.n = 0;
        return nr_fail(err, st, -1, e2.offset, "byte %lld: %s", e2.offset, e2.message);
    }
    if (st) return nr_fail(err, st, -1, -1, "space: %s", nlprnn_status_text(st));
    return NLPRNN_OK;
}

const char *nlprnn_space_text(const nlprnn_tagger_ctx *c, size_t i, size_t *len) {
    if (!c || i >= c->n_tx || c->tx[i].status || !c->tx[i].out) {
        if (len) *len = 0;
        if (c && i < c->n_tx && !c->tx[i].status) return ""; /* an empty text */
        return NULL;
    }
    if (len) *len = c->tx[i].out_len;
    return c->tx[i].out;
}

size_t nlprnn_space_units(const nlprnn_tagger_ctx *c, size_t i) {
    return c && i < c->n_tx && !c->tx[i].status ? c->tx[i].u.n : 0;
}

int nlprnn_space_unit(const nlprnn_tagger_ctx *c, size_t i, size_t j, size_t *end, float *p_space, int *space,
                      nlprnn_error *err) {
    if (!c || i >= c->n_tx || c->tx[i].status || j >= c->tx[i].u.n)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "space: text %zu unit %zu is out of range", i, j);
    const txt *x = &c->tx[i];
    if (end) *end = x->end[j];
    if (p_space) *p_space = x->p[j];
    if (space) *space = x->sp[j];
    return NLPRNN_OK;
}

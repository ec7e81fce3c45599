/* tasks/lm/search.c: beam search over pieces and what uses it: next word (nlprnn_lm_next), fill
 * in the blank (nlprnn_lm_fill*). */
#include "tasks/lm/lm.h"

#include <ctype.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================================================
 * beam search over pieces (next word, fill proposals)
 * ============================================================================================== */

typedef struct hyp {
    int32_t tok[LM_MAX_SPAN + LM_MAX_GLUE];
    int n;
    double lp;
} hyp;

/* A proposed answer: its text and best proposal score. */
typedef struct cand {
    char *text;
    double score;
    int drop; /* marked to be left out (drop_punct_variants, drop_echoes; then compact_marked) */
} cand;

typedef struct cand_set {
    cand *c;
    size_t n, cap;
} cand_set;

static void cand_set_free(cand_set *s) {
    for (size_t i = 0; i < s->n; i++) free(s->c[i].text);
    free(s->c);
    memset(s, 0, sizeof *s);
}

/* Add (text, score), keeping the best score of a duplicate. Takes ownership of text. */
static int cand_add(cand_set *s, char *text, double score) {
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->c[i].text, text)) {
            if (score > s->c[i].score) s->c[i].score = score;
            free(text);
            return NLPRNN_OK;
        }
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 32;
        cand *nv = nr_realloc_array(s->c, nc, sizeof(cand));
        if (!nv) {
            free(text);
            return NLPRNN_E_NOMEM;
        }
        s->c = nv;
        s->cap = nc;
    }
    s->c[s->n].text = text;
    s->c[s->n].score = score;
    s->c[s->n].drop = 0;
    s->n++;
    return NLPRNN_OK;
}

static int cmp_cand_desc(const void *a, const void *b) {
    double x = ((const cand *)a)->score, y = ((const cand *)b)->score;
    return x < y ? 1 : x > y ? -1 : strcmp(((const cand *)a)->text, ((const cand *)b)->text);
}

/* Keep the best `cap` (score, index) pairs, sorted descending (insertion into a short list). */
typedef struct topk {
    double s[LM_BEAM * LM_BEAM];
    int i[LM_BEAM * LM_BEAM];
    int n, cap;
} topk;

static void topk_add(topk *t, double s, int i) {
    if (t->n == t->cap && s <= t->s[t->n - 1]) return;
    int j = t->n < t->cap ? t->n++ : t->n - 1;
    while (j > 0 && t->s[j - 1] < s) {
        t->s[j] = t->s[j - 1];
        t->i[j] = t->i[j - 1];
        j--;
    }
    t->s[j] = s;
    t->i[j] = i;
}

/* Search rules of a beam:
 *   dir          which network generates (pieces come in reading order of that network)
 *   first_kind   the kind the answer's FIRST piece (in text order) must have
 *   end_tok      >= 0: a hypothesis is complete with log p(end_tok | context, span) added;
 *                -1: completion adds log of the total probability of a word start or <eos>
 *   glue, nglue  text glued after the blank up to the next white space ("에" of "___에"), or
 *                nglue 0. The span then covers the answer AND the glue, so the answer's last
 *                piece may merge with it as the tokenizer merges it ("▁극장에", not
 *                "▁극장" "에"); a span is an answer when its text ends with the glue, and the
 *                answer is the text before it. The context (the caller's) leaves the glue's
 *                pieces out.
 * Forward: span order = generation order; the first generated piece must be first_kind and the
 * rest NR_PIECE_INNER. Backward: generation runs right to left, so every generated piece but the
 * latest must be INNER, and a hypothesis is an answer when its latest piece is first_kind. */
typedef struct beam_rules {
    int dir;
    int first_kind;
    int end_tok;
    const char *glue;
    size_t nglue;
} beam_rules;

/* With glue: 1 when the text t (a span's, text order) may still become "answer + glue" by
 * growing in the search's direction: forward (growing rightwards) always; backward (growing
 * leftwards) when t ends with the glue or is a proper end of it ("서" of "에서"). */
static int glue_compatible(const beam_rules *br, const char *t, size_t n) {
    if (br->dir == NLPRNN_LM_FORWARD) return 1;
    if (n >= br->nglue) return !memcmp(t + n - br->nglue, br->glue, br->nglue);
    return !memcmp(br->glue + br->nglue - n, t, n);
}

/* The answer of a span's text t that should end with the glue: t cut before the glue (and the
 * white space before it), in place. 0 when t does not end with the glue or nothing is left. */
static int cut_glue(char *t, const char *glue, size_t nglue) {
    size_t tl = strlen(t);
    if (tl <= nglue || memcmp(t + tl - nglue, glue, nglue)) return 0;
    tl -= nglue;
    while (tl > 0 && isspace((unsigned char)t[tl - 1])) tl--;
    t[tl] = 0;
    return tl > 0;
}

static double completion(const nlprnn_lm *lm, const float *logp, int V, int end_tok) {
    if (end_tok >= 0) return logp[end_tok];
    double s = exp((double)logp[NLPRNN_ID_EOS]);
    for (int i = 0; i < V; i++)
        if (lm->kind[i] == NR_PIECE_START) s += exp((double)logp[i]);
    return log(s > 1e-300 ? s : 1e-300);
}

/* Decode a span (text order) into a trimmed word; NULL when it decodes to nothing. */
static char *span_text(const nlprnn_lm *lm, const int32_t *tok, int n, int reversed) {
    int32_t t[LM_MAX_SPAN + LM_MAX_GLUE];
    for (int i = 0; i < n; i++) t[i] = reversed ? tok[n - 1 - i] : tok[i];
    char *s = NULL;
    size_t len = 0;
    if (nlprnn_tokenizer_decode_alloc(lm->tok, t, (size_t)n, &s, &len, NULL)) return NULL;
    size_t a = 0;
    while (a < len && s[a] == ' ') a++;
    while (len > a && s[len - 1] == ' ') len--;
    if (len == a) {
        nlprnn_free(s);
        return NULL;
    }
    char *r = malloc(len - a + 1);
    if (r) {
        memcpy(r, s + a, len - a);
        r[len - a] = 0;
    }
    nlprnn_free(s);
    return r;
}

/* Beam search from the state after ctx_ids; every complete hypothesis goes into out with score
 * lp(span) + completion. */
static int beam_search(nlprnn_lm_ctx *ctx, const beam_rules *br, const int32_t *ctx_ids, int n_ctx,
                       int width, cand_set *out, float *logp0, nlprnn_error *err) {
    const nlprnn_lm *lm = ctx->lm;
    int V = lm->net[br->dir].cfg.vocab;
    if (width > LM_BEAM) width = LM_BEAM;
    float *logp = nr_malloc_array((size_t)LM_BEAM * V, sizeof(float));
    unsigned char *glue_ok0 = NULL; /* backward with glue: pieces that may end the span's text */
    if (logp && br->nglue && br->dir == NLPRNN_LM_BACKWARD) {
        glue_ok0 = calloc((size_t)V, 1);
        for (int v = 0; glue_ok0 && v < V; v++) {
            const char *p = nlprnn_tokenizer_piece(lm->tok, v);
            if (!p || lm->kind[v] == NR_PIECE_OTHER) continue;
            if (lm->kind[v] == NR_PIECE_START) p += strlen(NLPRNN_WORD_START); /* "▁극장에" */
            size_t pl = strlen(p);
            /* a word-start piece must hold more than the glue (the answer starts in it) */
            glue_ok0[v] = lm->kind[v] == NR_PIECE_START ? pl > br->nglue && glue_compatible(br, p, pl)
                                                        : pl > 0 && glue_compatible(br, p, pl);
        }
    }
    if (!logp || (br->nglue && br->dir == NLPRNN_LM_BACKWARD && !glue_ok0)) {
        free(logp);
        free(glue_ok0);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    }
    hyp beam[LM_BEAM], next[LM_BEAM];
    int nb = 1, rc, max_depth = LM_MAX_SPAN + (br->nglue ? LM_MAX_GLUE : 0);
    memset(beam, 0, sizeof beam);
    rc = nr_lm_run_prefix(ctx, br->dir, ctx_ids, n_ctx, logp, err);
    if (!rc && logp0) memcpy(logp0, logp, (size_t)V * sizeof(float));
    for (int depth = 0; depth < max_depth && !rc && nb > 0; depth++) {
        topk tk;
        tk.n = 0;
        tk.cap = width;
        for (int b = 0; b < nb; b++) {
            const float *lp = logp + (size_t)b * V;
            for (int v = 0; v < V; v++) {
                int k = lm->kind[v];
                if (k == NR_PIECE_OTHER) continue;
                if (br->dir == NLPRNN_LM_FORWARD) {
                    if (depth == 0 ? k != br->first_kind : k != NR_PIECE_INNER) continue;
                } else if (k != NR_PIECE_INNER && k != br->first_kind) {
                    continue;
                } else if (depth == 0 && br->nglue && !glue_ok0[v]) {
                    continue; /* the text's last piece must end with (a part of) the glue */
                }
                topk_add(&tk, beam[b].lp + lp[v], b * V + v);
            }
        }
        if (tk.n == 0) break; /* no piece may continue */
        for (int j = 0; j < tk.n; j++) {
            int b = tk.i[j] / V, v = tk.i[j] % V;
            next[j] = beam[b];
            next[j].tok[next[j].n++] = v;
            next[j].lp = tk.s[j];
        }
        int src[LM_BEAM], ids[LM_BEAM];
        for (int j = 0; j < tk.n; j++) {
            src[j] = tk.i[j] / V;
            ids[j] = tk.i[j] % V;
        }
        if (depth == 0) nr_lm_broadcast_state(ctx, tk.n);
        else nr_lm_reorder_states(ctx, src, nb, tk.n);
        nb = tk.n;
        memcpy(beam, next, (size_t)nb * sizeof(hyp));
        rc = nr_lm_step_rows(ctx, br->dir, ids, nb, logp, err);
        if (rc) break;
        /* record answers; drop hypotheses that cannot grow */
        int keep = 0, keep_src[LM_BEAM];
        for (int b = 0; b < nb; b++) {
            int last = beam[b].tok[beam[b].n - 1];
            int answer = 1, grow = beam[b].n < max_depth;
            if (br->dir == NLPRNN_LM_BACKWARD) {
                answer = lm->kind[last] == br->first_kind;
                grow = grow && lm->kind[last] == NR_PIECE_INNER;
            }
            char *t = NULL;
            if (answer || br->nglue) {
                t = span_text(lm, beam[b].tok, beam[b].n, br->dir == NLPRNN_LM_BACKWARD);
                if (!t) answer = 0;
            }
            if (t && br->nglue) {
                grow = grow && glue_compatible(br, t, strlen(t));
                answer = answer && cut_glue(t, br->glue, br->nglue);
            }
            if (answer) {
                double sc = beam[b].lp + completion(lm, logp + (size_t)b * V, V, br->end_tok);
                if (cand_add(out, t, sc)) {
                    rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
                    break;
                }
                t = NULL; /* owned by out */
            }
            free(t);
            if (grow) keep_src[keep++] = b;
        }
        if (rc) break;
        if (keep < nb) {
            for (int j = 0; j < keep; j++) {
                beam[j] = beam[keep_src[j]];
                if (j != keep_src[j])
                    memcpy(logp + (size_t)j * V, logp + (size_t)keep_src[j] * V, (size_t)V * sizeof(float));
            }
            nr_lm_reorder_states(ctx, keep_src, nb, keep);
            nb = keep;
        }
    }
    free(logp);
    free(glue_ok0);
    return rc;
}

/* ================================================================================================
 * next word
 * ============================================================================================== */

/* The best k of cs, best first. normalize: prob = softmax(score) over EVERY answer of cs (all
 * the candidates, or all the proposals), so a probability does not depend on k; else
 * prob = exp(score) of a log-probability (never above 0 but for rounding, cut at 1). */
static int choices_from(cand_set *cs, int k, int normalize, nlprnn_lm_choice **out, size_t *n,
                        nlprnn_error *err) {
    for (size_t i = 0; i < cs->n; i++)
        if (!isfinite(cs->c[i].score)) return nr_lm_not_finite(err, "score");
    if (cs->n > 1) qsort(cs->c, cs->n, sizeof(cand), cmp_cand_desc);
    size_t m = cs->n < (size_t)k ? cs->n : (size_t)k;
    nlprnn_lm_choice *c = calloc(m ? m : 1, sizeof *c);
    if (!c) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    double mx = m ? cs->c[0].score : 0, z = 0;
    for (size_t i = 0; i < cs->n; i++) z += exp(cs->c[i].score - mx);
    for (size_t i = 0; i < m; i++) {
        c[i].text = cs->c[i].text;
        cs->c[i].text = NULL;
        c[i].score = cs->c[i].score;
        c[i].prob = normalize ? exp(cs->c[i].score - mx) / z : exp(fmin(cs->c[i].score, 0.0));
    }
    *out = c;
    *n = m;
    return NLPRNN_OK;
}

int nlprnn_lm_next(nlprnn_lm_ctx *ctx, const char *prefix, size_t len, int k,
                   nlprnn_lm_choice **out, size_t *n, nlprnn_error *err) {
    if (out) *out = NULL;
    if (n) *n = 0;
    if (!ctx || !prefix || !out || !n) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "lm next: NULL argument");
    if (k < 1 || k > 100) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "k must be in 1..100 (got %d)", k);
    int32_t *s = NULL;
    int m = 0;
    int rc = nr_lm_encode_dir(ctx, prefix, len, NLPRNN_LM_FORWARD, &s, &m, err);
    if (rc) return rc;
    cand_set cs = {0};
    beam_rules br = {NLPRNN_LM_FORWARD, NR_PIECE_START, -1, NULL, 0};
    int width = k + 4 > LM_BEAM ? LM_BEAM : k + 4;
    rc = beam_search(ctx, &br, s, m - 1, width, &cs, NULL, err); /* context without the final <eos> */
    free(s);
    if (!rc) rc = choices_from(&cs, k, 0, out, n, err);
    cand_set_free(&cs);
    return rc;
}

/* ================================================================================================
 * fill in the blank
 * ============================================================================================== */

/* scores: cands[i].score += weight * (mean over the directions of log P(pre + cands[i] + suf)).
 * seqs, lens, lp: (nc) scratch; *buf: a reused text buffer. */
static int add_spliced_scores(nlprnn_lm_ctx *ctx, const char *pre, size_t npre, const char *suf,
                              size_t nsuf, cand *cands, size_t nc, double weight, int32_t **seqs,
                              int *lens, double *lp, char **buf, nlprnn_error *err) {
    int ndir = 1 + ctx->lm->has[1], rc = 0;
    for (int d = 0; d < ndir && !rc; d++) {
        for (size_t i = 0; i < nc && !rc; i++) {
            size_t cl = strlen(cands[i].text), tl = npre + cl + nsuf;
            char *nb = realloc(*buf, tl + 1);
            if (!nb) {
                rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
                break;
            }
            *buf = nb;
            memcpy(nb, pre, npre);
            memcpy(nb + npre, cands[i].text, cl);
            memcpy(nb + npre + cl, suf, nsuf);
            nb[tl] = 0;
            rc = nr_lm_encode_dir(ctx, nb, tl, d, &seqs[i], &lens[i], err);
            if (rc == NLPRNN_E_UTF8)
                rc = nr_fail(err, NLPRNN_E_UTF8, -1, -1, "candidate %zu ('%s') is not valid UTF-8", i + 1,
                             cands[i].text);
        }
        if (!rc) rc = nr_lm_score_many(ctx, d, (const int32_t *const *)seqs, lens, (int)nc, lp, err);
        for (size_t i = 0; i < nc; i++) {
            if (!rc) cands[i].score += weight * lp[i] / ndir;
            free(seqs[i]);
            seqs[i] = NULL;
        }
    }
    return rc;
}

/* Score the sentences prefix + cands[i] + suffix with both networks; score = mean of the
 * directions' log-probabilities, minus (when alpha != 0) alpha * the prior of the span: the
 * log-probability of the text fpre + cands[i] + fsuf (the blank's local frame) alone, mean of the
 * directions too. */
static int rank_sentences(nlprnn_lm_ctx *ctx, const char *pre, size_t npre, const char *suf,
                          size_t nsuf, const char *fpre, size_t nfpre, const char *fsuf, size_t nfsuf,
                          cand *cands, size_t nc, double alpha, nlprnn_error *err) {
    int32_t **seqs = calloc(nc ? nc : 1, sizeof *seqs);
    int *lens = calloc(nc ? nc : 1, sizeof *lens);
    double *lp = calloc(nc ? nc : 1, sizeof *lp);
    char *buf = NULL;
    int rc = (!seqs || !lens || !lp) ? nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory") : 0;
    for (size_t i = 0; i < nc; i++) cands[i].score = 0;
    if (!rc) rc = add_spliced_scores(ctx, pre, npre, suf, nsuf, cands, nc, 1.0, seqs, lens, lp, &buf, err);
    if (!rc && alpha != 0)
        rc = add_spliced_scores(ctx, fpre, nfpre, fsuf, nfsuf, cands, nc, -alpha, seqs, lens, lp, &buf, err);
    free(buf);
    free(seqs);
    free(lens);
    free(lp);
    return rc;
}

/* Leave out the proposals marked drop, the others keep their order. When every proposal is
 * marked (a tiny model proposing nothing but echoes), none is dropped and the marks are cleared:
 * an answer of marked words beats no answer. */
static void compact_marked(cand_set *cs) {
    size_t keep = 0;
    for (size_t i = 0; i < cs->n; i++) keep += !cs->c[i].drop;
    if (keep == 0) {
        for (size_t i = 0; i < cs->n; i++) cs->c[i].drop = 0;
        return;
    }
    keep = 0;
    for (size_t i = 0; i < cs->n; i++) {
        if (cs->c[i].drop)
            free(cs->c[i].text);
        else
            cs->c[keep++] = cs->c[i];
    }
    cs->n = keep;
}

/* Open proposals that are another proposal followed by ASCII punctuation ("좋은데..", "좋은데,"
 * beside "좋은데") are left out: the searches propose such variants of one word side by side,
 * and they fill the top answers with one word. A variant whose bare word is not proposed stays.
 * The effect on the cloze benchmark is in docs/lm.md. */
static void drop_punct_variants(cand_set *cs) {
    /* first mark the variants, then drop them */
    for (size_t i = 0; i < cs->n; i++) {
        const char *t = cs->c[i].text;
        size_t n = strlen(t), bare = n;
        while (bare > 0 && ispunct((unsigned char)t[bare - 1])) bare--;
        for (size_t j = 0; j < cs->n && bare > 0 && bare < n; j++)
            if (j != i && strlen(cs->c[j].text) == bare && !memcmp(cs->c[j].text, t, bare)) {
                cs->c[i].drop = 1;
                break;
            }
    }
    compact_marked(cs);
}

/* Open proposals that repeat a neighbouring word are left out: for "배우들의 ___ 연기가 돋보였다."
 * the networks rank 배우들의 first (a span seen just before is easy to predict again), but a
 * blank is almost never the word beside it. Applies when the blank stands alone between white
 * space (or the text's ends); the neighbours are the whole words either side. The effect on the
 * cloze benchmark is in docs/lm.md. Candidates given by the caller are never dropped. */
static void drop_echoes(cand_set *cs, const char *text, size_t len, size_t b0, size_t b1) {
    int alone = (b0 == 0 || isspace((unsigned char)text[b0 - 1])) &&
                (b1 == len || isspace((unsigned char)text[b1]));
    if (!alone) return;
    size_t w[2][2]; /* [before, after] x [start, end) */
    size_t e = b0;
    while (e > 0 && isspace((unsigned char)text[e - 1])) e--;
    size_t s = e;
    while (s > 0 && !isspace((unsigned char)text[s - 1])) s--;
    w[0][0] = s, w[0][1] = e;
    s = b1;
    while (s < len && isspace((unsigned char)text[s])) s++;
    e = s;
    while (e < len && !isspace((unsigned char)text[e])) e++;
    w[1][0] = s, w[1][1] = e;
    for (size_t i = 0; i < cs->n; i++) {
        size_t n = strlen(cs->c[i].text);
        for (int k = 0; k < 2; k++)
            if (w[k][1] > w[k][0] && n == w[k][1] - w[k][0] && !memcmp(cs->c[i].text, text + w[k][0], n))
                cs->c[i].drop = 1;
    }
    compact_marked(cs);
}

/* Proposals of one piece that fit both sides: every piece v that may be a whole answer (its kind
 * is first_kind; with glue, its text ends with the glue and holds more than it, "▁극장에") scored
 *
 *     joint(v) = log p_fwd(v | left) + log p_bwd(v | right) - log u(v)
 *
 * where p_fwd(. | left) and p_bwd(. | right) are the two networks' distributions at the blank
 * (lpf, lpb: the first steps of the two beam searches) and u the model's unigram estimate,
 * softmax of the output bias (mean of the directions' log). Under independence of the two sides
 * given v, p(v | left, right) is proportional to p(v|left) p(v|right) / p(v): a single-piece
 * answer that neither one-sided search ranks high can still fit both sides best. The best
 * `keep` go into out (text: the piece without the glue). */
static int joint_proposals(nlprnn_lm_ctx *ctx, const float *lpf, const float *lpb, int first_kind,
                           const char *glue, size_t nglue, int keep, cand_set *out, nlprnn_error *err) {
    const nlprnn_lm *lm = ctx->lm;
    int V = lm->net[0].cfg.vocab;
    if (keep > LM_BEAM * LM_BEAM) keep = LM_BEAM * LM_BEAM;
    double uz[2] = {0, 0}, umax[2] = {-DBL_MAX, -DBL_MAX};
    for (int d = 0; d < 2; d++) /* log-sum-exp of the biases */
        for (int v = 0; v < V; v++) umax[d] = fmax(umax[d], lm->net[d].out.b[v]);
    for (int d = 0; d < 2; d++) {
        for (int v = 0; v < V; v++) uz[d] += exp((double)lm->net[d].out.b[v] - umax[d]);
        uz[d] = umax[d] + log(uz[d]);
    }
    topk tk;
    tk.n = 0;
    tk.cap = keep;
    for (int v = 0; v < V; v++) {
        if (lm->kind[v] != first_kind) continue;
        if (nglue) {
            const char *p = nlprnn_tokenizer_piece(lm->tok, v);
            if (!p) continue;
            if (lm->kind[v] == NR_PIECE_START) p += strlen(NLPRNN_WORD_START);
            size_t pl = strlen(p);
            if (pl <= nglue || memcmp(p + pl - nglue, glue, nglue)) continue;
        }
        double logu = 0.5 * ((lm->net[0].out.b[v] - uz[0]) + (lm->net[1].out.b[v] - uz[1]));
        topk_add(&tk, (double)lpf[v] + (double)lpb[v] - logu, v);
    }
    for (int j = 0; j < tk.n; j++) {
        int32_t v = tk.i[j];
        char *t = span_text(lm, &v, 1, 0);
        if (!t) continue;
        if (nglue && !cut_glue(t, glue, nglue)) {
            free(t);
            continue;
        }
        if (cand_add(out, t, tk.s[j])) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    }
    return NLPRNN_OK;
}

int nlprnn_lm_fill(nlprnn_lm_ctx *ctx, const char *text, size_t len, const char *const *candidates,
                   size_t n_cand, int k, nlprnn_lm_choice **out, size_t *n, nlprnn_error *err) {
    return nlprnn_lm_fill_calibrated(ctx, text, len, candidates, n_cand, k, NLPRNN_LM_FILL_ALPHA,
                                     out, n, err);
}

int nlprnn_lm_fill_calibrated(nlprnn_lm_ctx *ctx, const char *text, size_t len,
                              const char *const *candidates, size_t n_cand, int k, double alpha,
                              nlprnn_lm_choice **out, size_t *n, nlprnn_error *err) {
    if (out) *out = NULL;
    if (n) *n = 0;
    if (!ctx || !text || !out || !n) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "lm fill: NULL argument");
    if (!candidates && n_cand)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "fill: %zu candidates but no array", n_cand);
    for (size_t i = 0; i < n_cand; i++)
        if (!candidates[i])
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "fill: candidate %zu is NULL", i + 1);
    if (k < 1 || k > 1000) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "k must be in 1..1000 (got %d)", k);
    if (!(alpha >= 0 && alpha <= 2))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "alpha must be in 0..2 (got %g)", alpha);
    const nlprnn_lm *lm = ctx->lm;
    int rc = nlprnn_tokenizer_encode(lm->tok, text, len, ctx->enc, err);
    if (rc) return rc;
    size_t m = nlprnn_encoding_size(ctx->enc);
    const int32_t *ids = nlprnn_encoding_ids(ctx->enc);
    const size_t *off = nlprnn_encoding_offsets(ctx->enc);
    long long blank = -1, nblank = 0, second = -1;
    for (size_t i = 0; i < m; i++)
        if (ids[i] == NLPRNN_ID_MASK) {
            if (nblank == 1) second = (long long)i;
            if (!nblank) blank = (long long)i;
            nblank++;
        }
    if (nblank == 0)
        return nr_fail(err, NLPRNN_E_DATA, -1, -1,
                       "no blank in the text: mark the missing word with ___ (two or more underscores) or [MASK]");
    if (nblank > 1)
        return nr_fail(err, NLPRNN_E_DATA, 1, (long long)off[2 * second],
                       "%lld blanks in the text (the second at byte %zu): fill takes exactly one", nblank,
                       off[2 * second]);
    /* A long text is cut to a window of NR_LM_FILL_CONTEXT pieces either side of the blank (the
     * networks are trained on sentences of at most max-len pieces, so farther context changes
     * little, and every candidate is scored over the whole text): the window starts at a word
     * start after whitespace and ends before whitespace, and is filled as the text. */
    if (blank > NR_LM_FILL_CONTEXT || (long long)m - 1 - blank > NR_LM_FILL_CONTEXT) {
        long long i0 = blank > NR_LM_FILL_CONTEXT ? blank - NR_LM_FILL_CONTEXT : 0;
        long long i1 = (long long)m - 1 - blank > NR_LM_FILL_CONTEXT ? blank + NR_LM_FILL_CONTEXT : (long long)m - 1;
        while (i0 > 0 && i0 < blank && !isspace((unsigned char)text[off[2 * i0] - 1])) i0++;
        while (i1 < (long long)m - 1 && i1 > blank && !isspace((unsigned char)text[off[2 * i1 + 1]])) i1--;
        size_t s0 = i0 > 0 ? off[2 * i0] : 0, s1 = i1 < (long long)m - 1 ? off[2 * i1 + 1] : len;
        if (s1 - s0 < len) /* always true; each cut makes the text strictly shorter */
            return nlprnn_lm_fill_calibrated(ctx, text + s0, s1 - s0, candidates, n_cand, k, alpha, out, n, err);
    }
    size_t b0 = off[2 * blank], b1 = off[2 * blank + 1];
    /* copies of the context pieces: the encoding is reused below */
    int32_t *left = nr_malloc_array((size_t)blank + 2, sizeof(int32_t));
    int32_t *right = nr_malloc_array(m - (size_t)blank + 2, sizeof(int32_t));
    if (!left || !right) {
        free(left);
        free(right);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    }
    left[0] = NLPRNN_ID_BOS;
    for (long long i = 0; i < blank; i++) left[1 + i] = ids[i];
    int nleft = (int)blank + 1;
    /* the glue: text glued after the blank up to white space ("에" of "___에"), in kglue pieces;
     * proposals absorb it (see beam_rules) when it is 1..LM_MAX_GLUE whole pieces */
    size_t g1 = b1;
    while (g1 < len && !isspace((unsigned char)text[g1])) g1++;
    long long kglue = 0;
    while (blank + 1 + kglue < (long long)m && off[2 * (blank + 1 + kglue)] < g1) kglue++;
    if (g1 == b1 || kglue > LM_MAX_GLUE || (kglue > 0 && off[2 * (blank + kglue) + 1] != g1)) kglue = 0;
    right[0] = NLPRNN_ID_BOS; /* right context, reversed, for the backward network */
    int nright = 1;
    for (long long i = (long long)m - 1; i > blank + kglue; i--) right[nright++] = ids[i];
    int nright_glue = nright; /* the same with the glue's pieces, for the search without glue */
    for (long long i = blank + kglue; i > blank; i--) right[nright_glue++] = ids[i];
    int32_t after = blank + 1 < (long long)m ? ids[blank + 1] : NLPRNN_ID_EOS;
    int32_t after_glue = blank + 1 + kglue < (long long)m ? ids[blank + 1 + kglue] : NLPRNN_ID_EOS;
    int32_t before = blank > 0 ? ids[blank - 1] : NLPRNN_ID_EOS;
    int first_kind = (b0 == 0 || isspace((unsigned char)text[b0 - 1])) ? NR_PIECE_START : NR_PIECE_INNER;

    cand_set cs = {0};
    if (candidates && n_cand) {
        /* rank exactly the candidates given (duplicates included) */
        cs.c = calloc(n_cand, sizeof(cand));
        if (!cs.c) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        for (size_t i = 0; i < n_cand && !rc; i++) {
            cs.c[i].text = nr_strdup(candidates[i] ? candidates[i] : "");
            if (!cs.c[i].text) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
            cs.n = cs.cap = i + 1;
        }
    } else {
        /* proposals: the forward search, the backward search, the joint one-piece proposals */
        cand_set prop[3] = {{0}, {0}, {0}};
        int V = lm->net[0].cfg.vocab;
        float *lp0[2] = {nr_malloc_array((size_t)V, sizeof(float)), nr_malloc_array((size_t)V, sizeof(float))};
        if (!lp0[0] || !lp0[1]) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        const char *glue = text + b1;
        size_t nglue = kglue ? g1 - b1 : 0;
        beam_rules bf = {NLPRNN_LM_FORWARD, first_kind, nglue ? after_glue : after, glue, nglue};
        if (!rc) rc = beam_search(ctx, &bf, left, nleft, LM_BEAM, &prop[0], lp0[0], err);
        if (!rc && nglue && prop[0].n == 0) { /* nothing ends with the glue: search without it */
            beam_rules b2 = {NLPRNN_LM_FORWARD, first_kind, after, NULL, 0};
            rc = beam_search(ctx, &b2, left, nleft, LM_BEAM, &prop[0], NULL, err);
        }
        if (!rc && lm->has[1]) {
            beam_rules bb = {NLPRNN_LM_BACKWARD, first_kind, before, glue, nglue};
            rc = beam_search(ctx, &bb, right, nglue ? nright : nright_glue, LM_BEAM, &prop[1], lp0[1], err);
            if (!rc && nglue && prop[1].n == 0) {
                beam_rules b2 = {NLPRNN_LM_BACKWARD, first_kind, before, NULL, 0};
                rc = beam_search(ctx, &b2, right, nright_glue, LM_BEAM, &prop[1], NULL, err);
            }
            if (!rc) rc = joint_proposals(ctx, lp0[0], lp0[1], first_kind, glue, nglue, LM_FILL_JOINT, &prop[2], err);
        }
        for (int d = 0; d < 3; d++) {
            if (prop[d].n > 1) qsort(prop[d].c, prop[d].n, sizeof(cand), cmp_cand_desc);
            for (size_t i = 0; i < prop[d].n && i < (size_t)(d == 2 ? LM_FILL_JOINT : LM_FILL_KEEP) && !rc; i++) {
                rc = cand_add(&cs, prop[d].c[i].text, prop[d].c[i].score);
                prop[d].c[i].text = NULL;
                if (rc) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
            }
            cand_set_free(&prop[d]);
        }
        free(lp0[0]);
        free(lp0[1]);
        if (!rc) drop_punct_variants(&cs);
        if (!rc) drop_echoes(&cs, text, len, b0, b1);
    }
    free(left);
    free(right);
    /* the local frame of the blank (the prior's context, calibration only): the word before the
     * blank's word, then the blank's word with what is glued to it ("동네의 ___에") */
    size_t f0 = b0, f1 = b1;
    while (f0 > 0 && !isspace((unsigned char)text[f0 - 1])) f0--;
    while (f0 > 0 && isspace((unsigned char)text[f0 - 1])) f0--;
    while (f0 > 0 && !isspace((unsigned char)text[f0 - 1])) f0--;
    while (f1 < len && !isspace((unsigned char)text[f1])) f1++;
    if (!rc)
        rc = rank_sentences(ctx, text, b0, text + b1, len - b1, text + f0, b0 - f0, text + b1, f1 - b1,
                            cs.c, cs.n, alpha, err);
    if (!rc) rc = choices_from(&cs, k, 1, out, n, err);
    cand_set_free(&cs);
    return rc;
}

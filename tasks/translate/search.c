/* tasks/translate/search.c: greedy and beam search over the decoder of net.c (seq2seq.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nlprnn/tokenizer.h"
#include "tasks/translate/seq2seq.h"

/* logp (V) = log softmax(z (V)), in double. */
static void log_softmax(double *logp, const float *z, int V) {
    double mx = -INFINITY, s = 0;
    for (int k = 0; k < V; k++) mx = z[k] > mx ? z[k] : mx;
    for (int k = 0; k < V; k++) s += exp(z[k] - mx);
    double lse = mx + log(s);
    for (int k = 0; k < V; k++) logp[k] = z[k] - lse;
}

/* ---- greedy and sampled decoding of a batch ------------------------------------------------------ */

typedef struct zk {
    float z;
    int k;
} zk;

static int by_z_desc(const void *a, const void *b) {
    const zk *x = a, *y = b;
    if (x->z != y->z) return x->z > y->z ? -1 : 1;
    return x->k - y->k; /* ties: the lower id first */
}

/* The next token of one row: greedy (sm == NULL or !sm->on) is the argmax of z over the ids that
 * may be written (ties: the lower id); sampling draws from softmax(z / T) over those ids, cut to
 * the top_k highest (0: all). scratch: (V) entries. */
static int pick(const float *z, int V, const nr_s2s_sample *sm, nr_rng *rng, zk *scratch) {
    if (!sm || !sm->on) {
        int y = -1;
        for (int k = 0; k < V; k++)
            if (k != NLPRNN_ID_PAD && k != NLPRNN_ID_BOS && (y < 0 || z[k] > z[y])) y = k;
        return y;
    }
    int n = 0;
    for (int k = 0; k < V; k++)
        if (k != NLPRNN_ID_PAD && k != NLPRNN_ID_BOS) scratch[n++] = (zk){z[k], k};
    if (sm->top_k > 0 && sm->top_k < n) {
        qsort(scratch, (size_t)n, sizeof *scratch, by_z_desc);
        n = sm->top_k;
    }
    // w_k = exp((z_k - max z) / T); draw u in [0, Σ w) and walk the cumulative sums
    float mx = -INFINITY;
    for (int i = 0; i < n; i++) mx = scratch[i].z > mx ? scratch[i].z : mx;
    double sum = 0;
    for (int i = 0; i < n; i++) sum += exp((double)(scratch[i].z - mx) / sm->temperature);
    double u = (double)nr_rng_uniform(rng) * sum, acc = 0;
    for (int i = 0; i < n; i++) {
        acc += exp((double)(scratch[i].z - mx) / sm->temperature);
        if (u < acc) return scratch[i].k;
    }
    return scratch[n - 1].k; /* u rounded up to the sum */
}

int nr_s2s_decode_batch(const nr_s2s *n, nr_s2s_ws *ws, const int *src, const int *slen, int Ts, int B,
                        const int *max_len, const nr_s2s_sample *sm, int *out, int out_stride,
                        int *out_len, double *logp, float *attn, nlprnn_error *err) {
    for (int b = 0; b < B; b++)
        if (max_len[b] < 0 || max_len[b] > out_stride)
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: max length %d (room %d)", max_len[b],
                           out_stride);
    if (attn && B != 1)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: attention rows of one source only");
    int rc = nr_s2s_encode(n, ws, src, slen, Ts, B, NULL, err);
    if (rc) return rc;
    int V = n->cfg.Vt, H = n->H;
    size_t BH = (size_t)B * H;
    float *sb = calloc(3 * BH, sizeof(float)), *z = malloc((size_t)B * V * sizeof(float));
    float *al = malloc((size_t)B * Ts * sizeof(float));
    double *lp = malloc((size_t)V * sizeof(double));
    int *act = malloc((size_t)B * sizeof(int)), *prev = malloc((size_t)B * sizeof(int));
    nr_rng *rng = malloc((size_t)B * sizeof(nr_rng));
    zk *scratch = malloc((size_t)V * sizeof(zk));
    if (!sb || !z || !al || !lp || !act || !prev || !rng || !scratch) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory in the search");
        goto done;
    }
    nr_s2s_state st = {sb, sb + BH, sb + 2 * BH};
    // row r decodes source act[r]; finished rows leave (the rows are kept packed)
    for (int b = 0; b < B; b++) {
        act[b] = b, prev[b] = NLPRNN_ID_BOS, out_len[b] = 0, logp[b] = 0;
        if (sm && sm->on) nr_rng_seed(&rng[b], sm->seed); /* each source's draws: from the seed alone */
    }
    nr_s2s_state_start(n, ws, &st, act, B);
    int R = B;
    for (int t = 0; R > 0; t++) {
        nr_s2s_step(n, ws, &st, act, prev, R, z, al);
        int keep = 0;
        for (int r = 0; r < R; r++) {
            int b = act[r];
            const float *zr = z + (size_t)r * V;
            log_softmax(lp, zr, V);
            if (attn) memcpy(attn + (size_t)t * slen[0], al, (size_t)slen[0] * sizeof(float));
            int y = t == max_len[b] ? NLPRNN_ID_EOS /* no room for another token */
                                    : pick(zr, V, sm, &rng[b], scratch);
            logp[b] += lp[y];
            if (y == NLPRNN_ID_EOS) continue;
            out[(size_t)b * out_stride + out_len[b]++] = y;
            if (keep != r) { /* pack: row r moves to row keep */
                memcpy(st.h + (size_t)keep * H, st.h + (size_t)r * H, (size_t)H * sizeof(float));
                memcpy(st.c + (size_t)keep * H, st.c + (size_t)r * H, (size_t)H * sizeof(float));
                memcpy(st.a + (size_t)keep * H, st.a + (size_t)r * H, (size_t)H * sizeof(float));
            }
            act[keep] = b, prev[keep] = y, keep++;
        }
        R = keep;
    }
done:
    free(sb), free(z), free(al), free(lp), free(act), free(prev), free(rng), free(scratch);
    return rc;
}

int nr_s2s_greedy(const nr_s2s *n, nr_s2s_ws *ws, const int *src, int slen, int max_len, int *out,
                  int *out_len, float *attn, double *logp, nlprnn_error *err) {
    if (max_len < 0)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: max length %d", max_len);
    double lp = 0;
    int rc = nr_s2s_decode_batch(n, ws, src, &slen, slen, 1, &max_len, NULL, out, max_len, out_len, &lp, attn,
                                 err);
    if (!rc && logp) *logp = lp;
    return rc;
}

/* One hypothesis of the beam: its tokens and attention rows live in the search's arrays. */
typedef struct hyp {
    double logp;
    int len;      /* tokens written (without <eos>) */
    int done;     /* ended with <eos> */
    double score; /* normalised score (finished ones) */
} hyp;

typedef struct cand {
    double logp;
    int row, tok;
} cand;

/* Is candidate a better than b: higher log-probability; ties to the earlier row, then lower id. */
static int cand_better(const cand *a, const cand *b) {
    if (a->logp != b->logp) return a->logp > b->logp;
    if (a->row != b->row) return a->row < b->row;
    return a->tok < b->tok;
}

int nr_s2s_beam(const nr_s2s *n, nr_s2s_ws *ws, const int *src, int slen, int beam,
                float len_alpha, int max_len, int *out, int *out_len, float *attn, double *logp,
                nlprnn_error *err) {
    if (beam < 1 || max_len < 0)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: beam %d / max length %d",
                       beam, max_len);
    int one = slen;
    int rc = nr_s2s_encode(n, ws, src, &one, slen, 1, NULL, err);
    if (rc) return rc;
    int W = beam, V = n->cfg.Vt, H = n->H, L = max_len + 1, Ts = slen;
    size_t WH = (size_t)W * H;
    /* live hypotheses: state (W rows), tokens (W,L), attention (W,L,Ts); finished: the same */
    float *sb = calloc(6 * WH, sizeof(float));
    float *z = malloc((size_t)W * V * sizeof(float));
    double *lp = malloc((size_t)V * sizeof(double));
    int *tok = calloc((size_t)2 * W * L, sizeof(int)), *ftok = calloc((size_t)W * L, sizeof(int));
    float *al = calloc((size_t)2 * W * L * Ts, sizeof(float)), *fal = calloc((size_t)W * L * Ts, sizeof(float));
    float *step_al = malloc((size_t)W * Ts * sizeof(float));
    cand *cs = malloc((size_t)W * W * sizeof(cand));
    hyp *live = calloc((size_t)2 * W, sizeof(hyp)), *fin = calloc((size_t)W, sizeof(hyp));
    int *prev = malloc((size_t)W * sizeof(int)), *row_src = calloc((size_t)W, sizeof(int));
    if (!sb || !z || !lp || !tok || !ftok || !al || !fal || !step_al || !cs || !live || !fin ||
        !prev || !row_src) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory in the search");
        goto done;
    }
    nr_s2s_state st = {sb, sb + WH, sb + 2 * WH}, nx = {sb + 3 * WH, sb + 4 * WH, sb + 5 * WH};
    int *ltok = tok, *ntok = tok + (size_t)W * L;
    float *lal = al, *nal = al + (size_t)W * L * Ts;
    hyp *lh = live, *nh = live + W;
    int R = 1, nfin = 0;
    nr_s2s_state_start(n, ws, &st, row_src, 1);
    lh[0] = (hyp){0, 0, 0, 0};
    for (int t = 0; R > 0 && nfin < W; t++) {
        for (int r = 0; r < R; r++) prev[r] = t == 0 ? NLPRNN_ID_BOS : ltok[(size_t)r * L + t - 1];
        nr_s2s_step(n, ws, &st, row_src, prev, R, z, step_al);
        /* the W best extensions of each row, then the W best over all rows */
        int nc = 0;
        for (int r = 0; r < R; r++) {
            log_softmax(lp, z + (size_t)r * V, V);
            if (t == max_len) { /* no room for another token: only <eos> */
                cs[nc++] = (cand){lh[r].logp + lp[NLPRNN_ID_EOS], r, NLPRNN_ID_EOS};
                continue;
            }
            cand *top = cs + nc;
            int k = 0;
            for (int y = 0; y < V; y++) {
                cand c = {lh[r].logp + lp[y], r, y};
                if (y == NLPRNN_ID_PAD || y == NLPRNN_ID_BOS) continue; /* never written */
                if (k == W && !cand_better(&c, &top[W - 1])) continue;
                int i = k < W ? k++ : W - 1;
                while (i > 0 && cand_better(&c, &top[i - 1])) top[i] = top[i - 1], i--;
                top[i] = c;
            }
            nc += k;
        }
        /* sort the candidates (insertion: at most W*W) */
        for (int i = 1; i < nc; i++) {
            cand c = cs[i];
            int j = i;
            while (j > 0 && cand_better(&c, &cs[j - 1])) cs[j] = cs[j - 1], j--;
            cs[j] = c;
        }
        int nR = 0;
        for (int i = 0; i < nc && nR < W && nfin < W; i++) {
            const cand *c = &cs[i];
            const float *pal = lal + (size_t)c->row * L * Ts, *sal = step_al + (size_t)c->row * Ts;
            const int *ptok = ltok + (size_t)c->row * L;
            if (c->tok == NLPRNN_ID_EOS) {
                hyp *f = &fin[nfin];
                f->logp = c->logp, f->len = t, f->done = 1;
                f->score = len_alpha > 0 ? c->logp / pow((double)(t + 1), len_alpha) : c->logp;
                memcpy(ftok + (size_t)nfin * L, ptok, (size_t)t * sizeof(int));
                memcpy(fal + (size_t)nfin * L * Ts, pal, (size_t)t * Ts * sizeof(float));
                memcpy(fal + ((size_t)nfin * L + t) * Ts, sal, (size_t)Ts * sizeof(float));
                nfin++;
                continue;
            }
            nh[nR] = (hyp){c->logp, t + 1, 0, 0};
            memcpy(ntok + (size_t)nR * L, ptok, (size_t)t * sizeof(int));
            ntok[(size_t)nR * L + t] = c->tok;
            memcpy(nal + (size_t)nR * L * Ts, pal, (size_t)t * Ts * sizeof(float));
            memcpy(nal + ((size_t)nR * L + t) * Ts, sal, (size_t)Ts * sizeof(float));
            memcpy(nx.h + (size_t)nR * H, st.h + (size_t)c->row * H, (size_t)H * sizeof(float));
            memcpy(nx.c + (size_t)nR * H, st.c + (size_t)c->row * H, (size_t)H * sizeof(float));
            memcpy(nx.a + (size_t)nR * H, st.a + (size_t)c->row * H, (size_t)H * sizeof(float));
            nR++;
        }
        /* swap the double buffers */
        nr_s2s_state ts = st; st = nx; nx = ts;
        int *tt = ltok; ltok = ntok; ntok = tt;
        float *ta = lal; lal = nal; nal = ta;
        hyp *th = lh; lh = nh; nh = th;
        R = nR;
    }
    /* the best finished hypothesis (earliest on ties) */
    int best = 0;
    for (int i = 1; i < nfin; i++)
        if (fin[i].score > fin[best].score) best = i;
    if (nfin == 0) { /* cannot happen: at t == max_len every row ends with <eos> */
        rc = nr_fail(err, NLPRNN_E_STATE, -1, -1, "translate: the search finished nothing");
        goto done;
    }
    *out_len = fin[best].len;
    memcpy(out, ftok + (size_t)best * L, (size_t)fin[best].len * sizeof(int));
    if (attn) memcpy(attn, fal + (size_t)best * L * Ts, (size_t)(fin[best].len + 1) * Ts * sizeof(float));
    if (logp) *logp = fin[best].logp;
done:
    free(sb), free(z), free(lp), free(tok), free(ftok), free(al), free(fal), free(step_al);
    free(cs), free(live), free(fin), free(prev), free(row_src);
    return rc;
}

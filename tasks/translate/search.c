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

int nr_s2s_greedy(const nr_s2s *n, nr_s2s_ws *ws, const int *src, int slen, int max_len, int *out,
                  int *out_len, float *attn, double *logp, nlprnn_error *err) {
    if (max_len < 0)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: max length %d", max_len);
    int one = slen;
    int rc = nr_s2s_encode(n, ws, src, &one, slen, 1, NULL, err);
    if (rc) return rc;
    int V = n->cfg.Vt, H = n->H, row = 0;
    float *sb = calloc((size_t)3 * H, sizeof(float)), *z = malloc((size_t)V * sizeof(float));
    float *sal = malloc((size_t)slen * sizeof(float));
    double *lp = malloc((size_t)V * sizeof(double));
    if (!sb || !z || !sal || !lp) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory in the search");
        goto done;
    }
    nr_s2s_state st = {sb, sb + H, sb + 2 * H};
    nr_s2s_state_start(n, ws, &st, &row, 1);
    double sum = 0;
    int prev = NLPRNN_ID_BOS, len = 0;
    for (int t = 0;; t++) {
        nr_s2s_step(n, ws, &st, &row, &prev, 1, z, sal);
        log_softmax(lp, z, V);
        if (attn) memcpy(attn + (size_t)t * slen, sal, (size_t)slen * sizeof(float));
        int y = -1; /* argmax over the ids that may be written (ties: the lower id) */
        for (int k = 0; k < V; k++)
            if (k != NLPRNN_ID_PAD && k != NLPRNN_ID_BOS && (y < 0 || lp[k] > lp[y])) y = k;
        if (t == max_len) y = NLPRNN_ID_EOS; /* no room for another token */
        sum += lp[y];
        if (y == NLPRNN_ID_EOS) break;
        out[len++] = prev = y;
    }
    *out_len = len;
    if (logp) *logp = sum;
done:
    free(sb), free(z), free(sal), free(lp);
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

/* tasks/translate/search.c: decoding over the decoder of net.c (seq2seq.h): greedy and sampled
 * decoding of a stream of sources in rows refilled as they finish (nr_s2s_ens_decode_stream, and
 * nr_s2s_ens_decode_batch over it), greedy and beam search of one source; for one model or an
 * ensemble of members whose next-token distributions are combined at each step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/math.h"
#include "nlprnn/tokenizer.h"
#include "tasks/translate/seq2seq.h"

/* logp (V) = log softmax(z (V)) = z - lse(z), in double (nr_lse: models/math.h). */
static void log_softmax(double *logp, const float *z, int V) {
    double lse = nr_lse(z, V);
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

/* Greedy's choice: the argmax over the ids that may be written (not <eos> when no_eos) of z[k] (floats; d == NULL) or
 * d[k] (doubles) plus the word reward for every id but <eos> (seq2seq.h); ties: the lower id.
 * Comparing z[k] + r with z[eos] is comparing log p, as log softmax only shifts z. With r = 0
 * the comparisons are those of the plain argmax. */
static int argmax_rewarded(const float *z, const double *d, int V, double r, int no_eos) {
    int y = -1;
    double best = 0;
    for (int k = 0; k < V; k++) {
        if (k == NLPRNN_ID_PAD || k == NLPRNN_ID_BOS || (no_eos && k == NLPRNN_ID_EOS)) continue;
        double v = (d ? d[k] : (double)z[k]) + (k == NLPRNN_ID_EOS ? 0.0 : r);
        if (y < 0 || v > best) y = k, best = v;
    }
    return y;
}

/* The next token of one row: greedy (sm == NULL or !sm->on) is the argmax of z over the ids that
 * may be written (ties: the lower id); sampling draws from softmax(z / T) over those ids, cut to
 * the top_k highest (0: all). scratch: (V) entries. */
static int pick(const float *z, int V, const nr_s2s_sample *sm, nr_rng *rng, zk *scratch, double reward,
                int no_eos) {
    if (!sm || !sm->on) return argmax_rewarded(z, NULL, V, reward, no_eos);
    int n = 0;
    for (int k = 0; k < V; k++)
        if (k != NLPRNN_ID_PAD && k != NLPRNN_ID_BOS && !(no_eos && k == NLPRNN_ID_EOS)) scratch[n++] = (zk){z[k], k};
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

/* ---- ensembles: steps, combination, attention ---------------------------------------------------- */

/* ---- the searches' buffers ---------------------------------------------------------------------------
 * A search's buffers are carved out of one block of its first member's workspace
 * (nr_s2s_ws_scratch, kept and reused): a first pass with base NULL sizes them, a second takes
 * them, each at a multiple of 64 bytes. So a context's searches allocate nothing once its
 * workspace's block has grown to the largest search. */
typedef struct carve {
    char *base;
    size_t used;
} carve;

static void *take(carve *c, size_t n, size_t size) {
    size_t at = (c->used + 63) & ~(size_t)63;
    c->used = at + n * size;
    return c->base ? c->base + at : NULL;
}

/* The members' states of R rows: member m's h, c, a (R,H_m) each. */
static void take_states(carve *c, const nr_s2s_ens *e, size_t R, nr_s2s_state *st) {
    for (int m = 0; m < e->n; m++) {
        size_t RH = R * (size_t)e->net[m]->H;
        float *b = take(c, 3 * RH, sizeof(float));
        st[m] = (nr_s2s_state){b, b ? b + RH : NULL, b ? b + 2 * RH : NULL};
    }
}

/* Row `from` of every member's state (src) to row `to` (dst). */
static void state_copy_row(const nr_s2s_ens *e, nr_s2s_state *dst, int to, const nr_s2s_state *src, int from) {
    for (int m = 0; m < e->n; m++) {
        size_t H = (size_t)e->net[m]->H;
        memcpy(dst[m].h + (size_t)to * H, src[m].h + (size_t)from * H, H * sizeof(float));
        memcpy(dst[m].c + (size_t)to * H, src[m].c + (size_t)from * H, H * sizeof(float));
        memcpy(dst[m].a + (size_t)to * H, src[m].a + (size_t)from * H, H * sizeof(float));
    }
}

/* One decoder step of every member for R rows: member m's logits at z + m*zs (R,Vt) and
 * attention at al + m*as (R,Ts). */
static void ens_step(const nr_s2s_ens *e, nr_s2s_state *st, const int *row_src, const int *prev, int R, float *z,
                     size_t zs, float *al, size_t as) {
    for (int m = 0; m < e->n; m++)
        nr_s2s_step(e->net[m], e->ws[m], &st[m], row_src, prev, R, z + (size_t)m * zs, al + (size_t)m * as);
}

/* lp (V) = the combined log-probabilities of row r (seq2seq.h, ensembles) from the members'
 * logits z (member m at z + m*zs, (R,V)); tmp (n*V) scratch. One member: log_softmax(z_r). */
static void combine(const nr_s2s_ens *e, const float *z, size_t zs, int r, int V, double *lp, double *tmp) {
    if (e->n == 1) {
        log_softmax(lp, z + (size_t)r * V, V);
        return;
    }
    for (int m = 0; m < e->n; m++) log_softmax(tmp + (size_t)m * V, z + (size_t)m * zs + (size_t)r * V, V);
    double ln = log((double)e->n);
    for (int k = 0; k < V; k++) {
        if (e->combine == NR_COMBINE_LOGP) { // (1/N) Σ_m log p_m
            double s = 0;
            for (int m = 0; m < e->n; m++) s += tmp[(size_t)m * V + k];
            lp[k] = s / e->n;
        } else { // log (1/N) Σ_m p_m = mx + log Σ_m exp(log p_m - mx) - log N
            double mx = -INFINITY, s = 0;
            for (int m = 0; m < e->n; m++) mx = tmp[(size_t)m * V + k] > mx ? tmp[(size_t)m * V + k] : mx;
            for (int m = 0; m < e->n; m++) s += exp(tmp[(size_t)m * V + k] - mx);
            lp[k] = mx + log(s) - ln;
        }
    }
}

/* The attention row r (Ts) averaged over the members (member m at al + m*as, (R,Ts)) into dst. */
static void mean_attn(const nr_s2s_ens *e, const float *al, size_t as, int r, int Ts, float *dst) {
    for (int s = 0; s < Ts; s++) {
        float a = 0;
        for (int m = 0; m < e->n; m++) a += al[(size_t)m * as + (size_t)r * Ts + s];
        dst[s] = e->n == 1 ? a : a / (float)e->n;
    }
}

/* The fewest tokens a source of slen tokens is translated into (seq2seq.h): floor(min_ratio *
 * slen), at most max_len; 0 when slen < min_from. */
static int min_len(const nr_s2s_ens *e, int slen, int max_len) {
    if (!(e->min_ratio > 0) || slen < e->min_from) return 0;
    double m = floor(e->min_ratio * slen);
    return m < max_len ? (int)m : max_len;
}

static int ens_check(const nr_s2s_ens *e, nlprnn_error *err) {
    if (!e || e->n < 1 || e->n > NR_S2S_MAX_ENS)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: %d members (1..%d)", e ? e->n : 0,
                       NR_S2S_MAX_ENS);
    for (int m = 1; m < e->n; m++)
        if (e->net[m]->cfg.Vt != e->net[0]->cfg.Vt)
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: member %d has %d target ids, member 1 %d",
                           m + 1, e->net[m]->cfg.Vt, e->net[0]->cfg.Vt);
    return NLPRNN_OK;
}

/* ---- greedy and sampled decoding of a stream of sources -------------------------------------------- */

/* Greedy with one member: y = the argmax of z (V) over the ids that may be written, with the word
 * reward r and without <eos> when no_eos (ties: the lower id), as pick(); returns log softmax(z)_y,
 * as log_softmax() computes it (the same bits), without writing the V log-probabilities. */
static double greedy_one(const float *z, int V, double r, int no_eos, int *y) {
    int a = argmax_rewarded(z, NULL, V, r, no_eos);
    *y = a;
    return z[a] - nr_lse(z, V);
}

int nr_s2s_ens_decode_stream(const nr_s2s_ens *e, nr_s2s_job *job, int n, int B, const nr_s2s_sample *sm,
                             float *attn, nlprnn_error *err) {
    int rc = ens_check(e, err);
    if (rc) return rc;
    if (n < 0 || B < 1)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: %d sources in %d rows", n, B);
    if (attn && n != 1)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: attention rows of one source only");
    int Tm = 0; /* the longest source */
    for (int i = 0; i < n; i++) {
        if (job[i].slen < 1 || !job[i].src || job[i].max_len < 0 || (job[i].max_len > 0 && !job[i].out))
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: source %d: length %d, max length %d", i,
                           job[i].slen, job[i].max_len);
        Tm = job[i].slen > Tm ? job[i].slen : Tm;
    }
    if (n == 0) return NLPRNN_OK;
    if (B > n) B = n;
    int N = e->n, V = e->net[0]->cfg.Vt, sampling = sm && sm->on;
    size_t zs = (size_t)B * V, as = (size_t)B * Tm; /* one member's logits (B,V) and attention (B,Tm) */
    nr_s2s_state st[NR_S2S_MAX_ENS];
    float *z, *al, *zf;
    double *lp, *tmp;
    int *act, *prev, *slot, *fr, *gsrc, *gslen;
    nr_rng *rng;
    zk *scratch;
    carve c = {NULL, 0};
    for (int pass = 0; pass < 2; pass++) { /* size, then take */
        take_states(&c, e, (size_t)B, st);
        z = take(&c, (size_t)N * zs, sizeof(float)), al = take(&c, (size_t)N * as, sizeof(float));
        zf = take(&c, N > 1 ? (size_t)V : 0, sizeof(float)); /* combined log p as floats (sampling) */
        lp = take(&c, (size_t)V, sizeof(double)), tmp = take(&c, (size_t)N * V, sizeof(double));
        /* row r decodes job act[r] from slot slot[r]; fr: the free slots; gsrc (Tm,B), gslen (B):
         * the sources of one encode; rng (B): a slot's */
        act = take(&c, (size_t)B, sizeof(int)), prev = take(&c, (size_t)B, sizeof(int));
        slot = take(&c, (size_t)B, sizeof(int)), fr = take(&c, (size_t)B, sizeof(int));
        gsrc = take(&c, (size_t)Tm * B, sizeof(int)), gslen = take(&c, (size_t)B, sizeof(int));
        rng = take(&c, (size_t)B, sizeof(nr_rng));
        scratch = take(&c, (size_t)V, sizeof(zk));
        if (!pass && !(c.base = nr_s2s_ws_scratch(e->ws[0], 0, c.used)))
            return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory in the search");
        c.used = 0;
    }
    for (int m = 0; m < N && !rc; m++) rc = nr_s2s_slots_begin(e->net[m], e->ws[m], Tm, B, err);
    if (rc) goto done;
    int nfree = B;
    for (int k = 0; k < B; k++) fr[k] = B - 1 - k;
    /* jobs [g0, next) are the last encode's; [started, n) not started yet; act[r] < 0: row r's
     * text has ended (a hole) */
    int R = 0, next = 0, g0 = 0, started = 0;
    for (;;) {
        /* refill: the holes, then new rows, take the next jobs where they are (encoding the next B
         * jobs together when the last encode's are all started) */
        for (int r = 0; started < n; r++) {
            while (r < R && act[r] >= 0) r++;
            if (r == R) {
                if (R == B) break;
                R++;
            }
            if (started == next) {
                int G = n - next < B ? n - next : B, Ts = 0;
                for (int g = 0; g < G; g++) Ts = job[next + g].slen > Ts ? job[next + g].slen : Ts;
                memset(gsrc, 0, (size_t)Ts * G * sizeof(int));
                for (int g = 0; g < G; g++) { // gsrc (Ts,G) time-major, padded with 0
                    gslen[g] = job[next + g].slen;
                    for (int s = 0; s < gslen[g]; s++) gsrc[(size_t)s * G + g] = job[next + g].src[s];
                }
                for (int m = 0; m < N && !rc; m++) rc = nr_s2s_encode(e->net[m], e->ws[m], gsrc, gslen, Ts, G, NULL, err);
                if (rc) goto done;
                g0 = next, next += G;
            }
            int i = started++, sl = fr[--nfree];
            for (int m = 0; m < N; m++) {
                size_t H = (size_t)e->net[m]->H;
                nr_s2s_slot_load(e->net[m], e->ws[m], sl, i - g0, st[m].h + (size_t)r * H);
                memset(st[m].c + (size_t)r * H, 0, H * sizeof(float)); /* c_0 = 0, a_0 = 0 */
                memset(st[m].a + (size_t)r * H, 0, H * sizeof(float));
            }
            act[r] = i, prev[r] = NLPRNN_ID_BOS, slot[r] = sl;
            job[i].out_len = 0, job[i].logp = 0;
            if (sampling) nr_rng_seed(&rng[sl], sm->seed); /* each source's draws: from the seed alone */
        }
        /* no more jobs: the last rows move into the holes (a row's results do not depend on
         * where it is) */
        for (int q = 0; q < R;) {
            if (act[q] >= 0) {
                q++;
                continue;
            }
            if (q < --R) {
                state_copy_row(e, st, q, st, R);
                act[q] = act[R], prev[q] = prev[R], slot[q] = slot[R];
            }
        }
        if (R == 0) break;
        ens_step(e, st, slot, prev, R, z, zs, al, as);
        for (int r = 0; r < R; r++) {
            nr_s2s_job *j = &job[act[r]];
            int t = j->out_len, y; /* step t of this row */
            int no_eos = t < min_len(e, j->slen, j->max_len);
            if (attn) mean_attn(e, al, as, 0, j->slen, attn + (size_t)t * j->slen);
            if (N == 1 && !sampling) { /* greedy with one model: the argmax and its log p only */
                double l = greedy_one(z + (size_t)r * V, V, e->reward, no_eos, &y);
                if (t == j->max_len) { /* no room for another token */
                    combine(e, z, zs, r, V, lp, tmp);
                    y = NLPRNN_ID_EOS, l = lp[y];
                }
                j->logp += l;
            } else {
                combine(e, z, zs, r, V, lp, tmp);
                if (t == j->max_len) y = NLPRNN_ID_EOS; /* no room for another token */
                else if (N == 1) y = pick(z + (size_t)r * V, V, sm, &rng[slot[r]], scratch, e->reward, no_eos); /* the model's logits */
                else if (sampling) {
                    for (int k = 0; k < V; k++) zf[k] = (float)lp[k]; /* softmax(log p / T) */
                    y = pick(zf, V, sm, &rng[slot[r]], scratch, 0, no_eos);
                } else {
                    y = argmax_rewarded(NULL, lp, V, e->reward, no_eos); /* of the combined log p (ties: the lower id) */
                }
                j->logp += lp[y];
            }
            if (y == NLPRNN_ID_EOS) { /* the row's text has ended: a hole; its slot is free */
                fr[nfree++] = slot[r];
                act[r] = -1;
                continue;
            }
            j->out[j->out_len++] = y;
            prev[r] = y;
        }
    }
done:
    for (int m = 0; m < N; m++) nr_s2s_slots_end(e->ws[m]);
    return rc;
}

int nr_s2s_ens_decode_batch(const nr_s2s_ens *e, const int *src, const int *slen, int Ts, int B,
                            const int *max_len, const nr_s2s_sample *sm, int *out, int out_stride,
                            int *out_len, double *logp, float *attn, nlprnn_error *err) {
    if (B < 1 || Ts < 1)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: %d sources of %d steps", B, Ts);
    for (int b = 0; b < B; b++) {
        if (max_len[b] < 0 || max_len[b] > out_stride)
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: max length %d (room %d)", max_len[b],
                           out_stride);
        if (slen[b] < 1 || slen[b] > Ts)
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: source %d has length %d (1..%d)", b,
                           slen[b], Ts);
    }
    /* the sources as rows (B,Ts) and a job each, all in B rows */
    carve c = {NULL, 0};
    take(&c, (size_t)B * Ts, sizeof(int)), take(&c, (size_t)B, sizeof(nr_s2s_job));
    c.base = nr_s2s_ws_scratch(e->ws[0], 1, c.used), c.used = 0;
    if (!c.base) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory in the search");
    int *rows = take(&c, (size_t)B * Ts, sizeof(int));
    nr_s2s_job *job = take(&c, (size_t)B, sizeof(nr_s2s_job));
    for (int b = 0; b < B; b++) {
        for (int s = 0; s < slen[b]; s++) rows[(size_t)b * Ts + s] = src[(size_t)s * B + b];
        job[b] = (nr_s2s_job){rows + (size_t)b * Ts, slen[b], max_len[b], out + (size_t)b * out_stride, 0, 0};
    }
    int rc = nr_s2s_ens_decode_stream(e, job, B, B, sm, attn, err);
    for (int b = 0; !rc && b < B; b++) out_len[b] = job[b].out_len, logp[b] = job[b].logp;
    return rc;
}

int nr_s2s_decode_batch(const nr_s2s *n, nr_s2s_ws *ws, const int *src, const int *slen, int Ts, int B,
                        const int *max_len, const nr_s2s_sample *sm, int *out, int out_stride,
                        int *out_len, double *logp, float *attn, nlprnn_error *err) {
    nr_s2s_ens e = {1, &n, &ws, NR_COMBINE_PROB, 0, 0, 0};
    return nr_s2s_ens_decode_batch(&e, src, slen, Ts, B, max_len, sm, out, out_stride, out_len, logp, attn, err);
}

int nr_s2s_ens_greedy(const nr_s2s_ens *e, const int *src, int slen, int max_len, int *out, int *out_len,
                      float *attn, double *logp, nlprnn_error *err) {
    if (max_len < 0)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: max length %d", max_len);
    double lp = 0;
    int rc = nr_s2s_ens_decode_batch(e, src, &slen, slen, 1, &max_len, NULL, out, max_len, out_len, &lp, attn, err);
    if (!rc && logp) *logp = lp;
    return rc;
}

int nr_s2s_greedy(const nr_s2s *n, nr_s2s_ws *ws, const int *src, int slen, int max_len, int *out,
                  int *out_len, float *attn, double *logp, nlprnn_error *err) {
    nr_s2s_ens e = {1, &n, &ws, NR_COMBINE_PROB, 0, 0, 0};
    return nr_s2s_ens_greedy(&e, src, slen, max_len, out, out_len, attn, logp, err);
}

/* One hypothesis of the beam: its tokens and attention rows live in the search's arrays. */
typedef struct hyp {
    double logp;  /* the model's log-probability */
    double sum;   /* what the search ranks by: logp + reward * len */
    int len;      /* tokens written (without <eos>) */
    int done;     /* ended with <eos> */
    double score; /* normalised score (finished ones) */
} hyp;

typedef struct cand {
    double sum, logp; /* the rewarded sum the search ranks by, the model's log-probability */
    int row, tok;
} cand;

/* Is candidate a better than b: higher rewarded sum; ties to the earlier row, then lower id. */
static int cand_better(const cand *a, const cand *b) {
    if (a->sum != b->sum) return a->sum > b->sum;
    if (a->row != b->row) return a->row < b->row;
    return a->tok < b->tok;
}

int nr_s2s_ens_beam(const nr_s2s_ens *e, const int *src, int slen, int beam, float len_alpha, int max_len,
                    int *out, int *out_len, float *attn, double *logp, nlprnn_error *err) {
    int rc = ens_check(e, err);
    if (rc) return rc;
    if (beam < 1 || max_len < 0)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: beam %d / max length %d",
                       beam, max_len);
    int one = slen;
    for (int m = 0; m < e->n && !rc; m++) rc = nr_s2s_encode(e->net[m], e->ws[m], src, &one, slen, 1, NULL, err);
    if (rc) return rc;
    int N = e->n, W = beam, V = e->net[0]->cfg.Vt, L = max_len + 1, Ts = slen;
    size_t zs = (size_t)W * V, as = (size_t)W * Ts; /* one member's logits (W,V) and attention (W,Ts) */
    /* live hypotheses: each member's state (W rows, twice: this step's and the next), tokens (W,L),
     * attention (W,L,Ts); finished: tokens and attention */
    nr_s2s_state st[NR_S2S_MAX_ENS], nx[NR_S2S_MAX_ENS];
    float *z, *al, *fal, *step_al, *mal;
    double *lp, *tmp;
    int *tok, *ftok, *prev, *row_src;
    cand *cs;
    hyp *live, *fin;
    carve bk = {NULL, 0};
    for (int pass = 0; pass < 2; pass++) { /* size, then take */
        take_states(&bk, e, (size_t)W, st), take_states(&bk, e, (size_t)W, nx);
        z = take(&bk, (size_t)N * zs, sizeof(float));
        lp = take(&bk, (size_t)V, sizeof(double)), tmp = take(&bk, (size_t)N * V, sizeof(double));
        tok = take(&bk, (size_t)2 * W * L, sizeof(int)), ftok = take(&bk, (size_t)W * L, sizeof(int));
        al = take(&bk, (size_t)2 * W * L * Ts, sizeof(float)), fal = take(&bk, (size_t)W * L * Ts, sizeof(float));
        step_al = take(&bk, (size_t)N * as, sizeof(float)); /* (N,W,Ts) the members' */
        mal = N > 1 ? take(&bk, as, sizeof(float)) : step_al; /* (W,Ts) their mean */
        cs = take(&bk, (size_t)W * W, sizeof(cand));
        live = take(&bk, (size_t)2 * W, sizeof(hyp)), fin = take(&bk, (size_t)W, sizeof(hyp));
        prev = take(&bk, (size_t)W, sizeof(int)), row_src = take(&bk, (size_t)W, sizeof(int));
        if (!pass && !(bk.base = nr_s2s_ws_scratch(e->ws[0], 0, bk.used)))
            return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory in the search");
        bk.used = 0;
    }
    memset(row_src, 0, (size_t)W * sizeof(int)); /* every row attends to the one source */
    int *ltok = tok, *ntok = tok + (size_t)W * L;
    float *lal = al, *nal = al + (size_t)W * L * Ts;
    hyp *lh = live, *nh = live + W;
    int R = 1, nfin = 0, min_tok = min_len(e, slen, max_len);
    for (int m = 0; m < N; m++) nr_s2s_state_start(e->net[m], e->ws[m], &st[m], row_src, 1);
    lh[0] = (hyp){0, 0, 0, 0, 0};
    for (int t = 0; R > 0 && nfin < W; t++) {
        for (int r = 0; r < R; r++) prev[r] = t == 0 ? NLPRNN_ID_BOS : ltok[(size_t)r * L + t - 1];
        ens_step(e, st, row_src, prev, R, z, zs, step_al, as);
        if (N > 1)
            for (int r = 0; r < R; r++) mean_attn(e, step_al, as, r, Ts, mal + (size_t)r * Ts);
        /* the W best extensions of each row, then the W best over all rows */
        int nc = 0;
        for (int r = 0; r < R; r++) {
            combine(e, z, zs, r, V, lp, tmp);
            if (t == max_len) { /* no room for another token: only <eos> */
                cs[nc++] = (cand){lh[r].sum + lp[NLPRNN_ID_EOS], lh[r].logp + lp[NLPRNN_ID_EOS], r, NLPRNN_ID_EOS};
                continue;
            }
            cand *top = cs + nc;
            int k = 0;
            for (int y = 0; y < V; y++) {
                cand c = {lh[r].sum + lp[y] + (y == NLPRNN_ID_EOS ? 0.0 : e->reward), lh[r].logp + lp[y], r, y};
                if (y == NLPRNN_ID_PAD || y == NLPRNN_ID_BOS) continue; /* never written */
                if (y == NLPRNN_ID_EOS && t < min_tok) continue;       /* too short to end */
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
            const float *pal = lal + (size_t)c->row * L * Ts, *sal = mal + (size_t)c->row * Ts;
            const int *ptok = ltok + (size_t)c->row * L;
            if (c->tok == NLPRNN_ID_EOS) {
                hyp *f = &fin[nfin];
                f->logp = c->logp, f->sum = c->sum, f->len = t, f->done = 1;
                f->score = len_alpha > 0 ? c->sum / pow((double)(t + 1), len_alpha) : c->sum;
                memcpy(ftok + (size_t)nfin * L, ptok, (size_t)t * sizeof(int));
                memcpy(fal + (size_t)nfin * L * Ts, pal, (size_t)t * Ts * sizeof(float));
                memcpy(fal + ((size_t)nfin * L + t) * Ts, sal, (size_t)Ts * sizeof(float));
                nfin++;
                continue;
            }
            nh[nR] = (hyp){c->logp, c->sum, t + 1, 0, 0};
            memcpy(ntok + (size_t)nR * L, ptok, (size_t)t * sizeof(int));
            ntok[(size_t)nR * L + t] = c->tok;
            memcpy(nal + (size_t)nR * L * Ts, pal, (size_t)t * Ts * sizeof(float));
            memcpy(nal + ((size_t)nR * L + t) * Ts, sal, (size_t)Ts * sizeof(float));
            state_copy_row(e, nx, nR, st, c->row);
            nR++;
        }
        /* swap the double buffers */
        for (int m = 0; m < N; m++) {
            nr_s2s_state ts = st[m]; st[m] = nx[m]; nx[m] = ts;
        }
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
    return rc;
}

int nr_s2s_beam(const nr_s2s *n, nr_s2s_ws *ws, const int *src, int slen, int beam, float len_alpha, int max_len,
                int *out, int *out_len, float *attn, double *logp, nlprnn_error *err) {
    nr_s2s_ens e = {1, &n, &ws, NR_COMBINE_PROB, 0, 0, 0};
    return nr_s2s_ens_beam(&e, src, slen, beam, len_alpha, max_len, out, out_len, attn, logp, err);
}

/* tasks/tag/tagger.c: the tagger's network (tasks/tag/tagger.h) and the units of a text.
 *
 * Forward, for a batch of B sequences of at most T units (time-major):
 *   x[t,b] = E[ids[t,b]] + Hint[hints[t,b]]       (T,B,E)   (E[0] = 0: padding)
 *   with jamo, (i,m,f) = the rows of jam[t,b] (nr_jamo_rows), real steps only:
 *   x[t,b] += Ji[i] + Jm[m] + Jf[f]                 (T,B,E)   Ji (20,E), Jm (22,E), Jf (29,E)
 *   with conv (width K = 2r+1, F filters; tasks/tag/tagger.h), for real steps t < len[b], x read
 *   as 0 at steps outside [0, len[b]) ('same' padding):
 *   a[t,b,f] = bc[f] + sum_k sum_e Wc[f, k E + e] x[t+k-r, b, e]   (T,B,F)
 *   c[t,b,f] = relu(a[t,b,f]) ; c = 0 at padded steps            (T,B,F)
 *   u[t,b] = [x[t,b] ; c[t,b]]                                   (T,B,E+F)   (without conv u = x)
 *   out = encoder(u, lengths)                        (T,B,O)   (0 at padded steps)
 *   z[t,b] = W out[t,b] + b                          (T*B,C)
 * Loss: L = scale / N * sum over real steps of -log softmax(z[t,b])[y[t,b]], N = real steps.
 * Backward (the same order reversed):
 *   dz = scale * (softmax(z) - onehot(y)) / N       (T*B,C)   (0 at padded steps)
 *   dW += dz^T out ; db += colsum dz ; dout = dz W   (T,B,O)
 *   du = encoder backward(dout)                      (T,B,E+F)
 *   with conv: dx = du[:, :, :E] ; da = du[:, :, E:] * [c > 0] (real steps, else 0)   (T,B,F)
 *     dbc += colsum da ; for each offset k (d = k - r), over the steps t with 0 <= t+d < T:
 *     dWc[:, kE:kE+E] += da[t]^T x[t+d] ; dx[t+d] += da[t] Wc[:, kE:kE+E]
 *     (dx at padded steps is discarded below: no parameter made those x)
 *   dE[ids[t,b]] += dx[t,b] ; dHint[hints[t,b]] += dx[t,b]   (real steps only)
 *   with jamo: dJi[i] += dx[t,b] ; dJm[m] += dx[t,b] ; dJf[f] += dx[t,b]   (real steps only)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "common/common.h"
#include "corpora/reader.h"
#include "models/math.h"
#include "tasks/tag/tagger.h"

uint16_t nr_jamo_code(const char *s, size_t len) {
    /* U+AC00..U+D7A3 are three bytes each in UTF-8: a unit of another length is no syllable */
    utf8proc_int32_t cp;
    if (len != 3 || utf8proc_iterate((const utf8proc_uint8_t *)s, 3, &cp) != 3 || cp < 0xAC00 || cp > 0xD7A3)
        return 0;
    /* s = (initial * 21 + medial) * 28 + final: 588 = 21 medials x 28 finals per initial */
    unsigned syl = cp - 0xAC00, ini = syl / 588, med = (syl % 588) / 28, fin = syl % 28;
    return (uint16_t)(((1 + ini) * NR_JAMO_M + (1 + med)) * NR_JAMO_F + (1 + fin));
}

int nr_tag_front_check(const nr_tag_front *fr) {
    if (!fr || fr->conv == 0) return 0;
    return fr->conv >= 1 && fr->conv <= NR_TAG_MAX_CONV && fr->conv % 2 == 1 && fr->channels >= 1 &&
                   fr->channels <= 4096
               ? 0
               : -1;
}

/* The encoder's configuration: ec with the input E (+ F with conv). */
static nr_encoder_cfg enc_cfg(const nr_encoder_cfg *ec, const nr_tag_front *fr) {
    nr_encoder_cfg e = *ec;
    if (fr && fr->conv) e.input_size += fr->channels;
    return e;
}

size_t nr_tag_param_count(const nr_encoder_cfg *ec, int V, int C, const nr_tag_front *fr) {
    if (nr_tag_front_check(fr)) return 0;
    nr_encoder_cfg e = enc_cfg(ec, fr);
    size_t ne = nr_encoder_param_count(&e), E = (size_t)ec->input_size;
    if (!ne || V < 2 || C < 1 || ec->input_size < 1) return 0;
    int O = ec->hidden * (ec->bidirectional && ec->merge == NR_MERGE_CONCAT ? 2 : 1);
    size_t nconv = fr && fr->conv ? (size_t)fr->channels * ((size_t)fr->conv * E + 1) : 0;
    return nr_embedding_param_count(V, ec->input_size) + (size_t)NR_HINTS * E +
           (fr && fr->jamo ? (size_t)NR_JAMO_ROWS * E : 0) + nconv + ne + nr_dense_param_count(O, C);
}

int nr_tag_net_bind(nr_tag_net *net, const nr_encoder_cfg *ec, int V, int C, const nr_tag_front *fr,
                    float *params, nlprnn_error *err) {
    memset(net, 0, sizeof *net);
    size_t n = nr_tag_param_count(ec, V, C, fr);
    if (!n)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "tagger: invalid sizes (units %d, labels %d, embed %d, hidden %d, layers %d, conv %d x %d)",
                       V, C, ec->input_size, ec->hidden, ec->layers, fr ? fr->conv : 0, fr ? fr->channels : 0);
    nr_encoder_cfg e = enc_cfg(ec, fr);
    net->V = V;
    net->E = ec->input_size;
    net->C = C;
    net->n_params = n;
    net->jamo = fr && fr->jamo;
    net->K = fr && fr->conv ? fr->conv : 0;
    net->F = net->K ? fr->channels : 0;
    net->I = net->E + net->F;
    net->off_hint = nr_embedding_param_count(V, net->E);
    net->off_jamo = net->off_hint + (size_t)NR_HINTS * (size_t)net->E;
    net->off_conv = net->off_jamo + (net->jamo ? (size_t)NR_JAMO_ROWS * (size_t)net->E : 0);
    net->off_enc = net->off_conv + (size_t)net->F * ((size_t)net->K * (size_t)net->E + 1);
    net->off_head = net->off_enc + nr_encoder_param_count(&e);
    if (!params) return NLPRNN_OK;
    int rc = nr_embedding_bind(&net->emb, V, net->E, NR_UNIT_PAD, params, err);
    if (!rc) rc = nr_encoder_bind(&net->enc, &e, params + net->off_enc, err);
    if (rc) return rc;
    net->hint = params + net->off_hint;
    if (net->jamo) {
        net->jamo_i = params + net->off_jamo;
        net->jamo_m = net->jamo_i + (size_t)NR_JAMO_I * (size_t)net->E;
        net->jamo_f = net->jamo_m + (size_t)NR_JAMO_M * (size_t)net->E;
    }
    if (net->K) {
        net->conv_w = params + net->off_conv;
        net->conv_b = net->conv_w + (size_t)net->F * (size_t)net->K * (size_t)net->E;
    }
    nr_dense_bind(&net->head, net->enc.out_size, C, params + net->off_head);
    return NLPRNN_OK;
}

int nr_tag_net_init(const nr_tag_net *net, nr_rng *rng, nlprnn_error *err) {
    nr_embedding_init(&net->emb, 0.05f, rng);
    memset(net->hint, 0, sizeof(float) * NR_HINTS * (size_t)net->E);
    if (net->jamo) memset(net->jamo_i, 0, sizeof(float) * NR_JAMO_ROWS * (size_t)net->E);
    int rc = nr_encoder_init(&net->enc, rng, err);
    if (!rc) nr_dense_init(&net->head, rng);
    if (!rc && net->K) { /* Wc U(-a, a), a = 1/sqrt(K E); bc 0 */
        size_t nw = (size_t)net->F * (size_t)net->K * (size_t)net->E;
        float a = 1.0f / sqrtf((float)net->K * (float)net->E);
        for (size_t k = 0; k < nw; k++) net->conv_w[k] = -a + 2.0f * a * nr_rng_uniform(rng);
        memset(net->conv_b, 0, sizeof(float) * (size_t)net->F);
    }
    return rc;
}

void nr_tag_scratch_free(nr_tag_scratch *s) {
    nr_encoder_ws_free(s->ws);
    free(s->ids);
    free(s->hints);
    free(s->jam);
    free(s->tgt);
    free(s->len);
    free(s->x);
    free(s->cv);
    free(s->u);
    free(s->out);
    free(s->logits);
    free(s->dout);
    free(s->dx);
    free(s->du);
    free(s->rows);
    free(s->seen);
    memset(s, 0, sizeof *s);
}

int nr_tag_scratch_init(nr_tag_scratch *s, const nr_tag_net *net, int max_T, int max_B,
                        int training, int nthreads, nlprnn_error *err) {
    memset(s, 0, sizeof *s);
    s->max_T = max_T;
    s->max_B = max_B;
    s->training = training;
    size_t TB = (size_t)max_T * (size_t)max_B, O = (size_t)net->enc.out_size;
    s->ws = nr_encoder_ws_create(&net->enc, max_T, max_B, training, nthreads, err);
    if (!s->ws) return err ? err->code : NLPRNN_E_NOMEM;
    s->ids = nr_calloc_array(TB, sizeof *s->ids);
    s->hints = nr_calloc_array(TB, sizeof *s->hints);
    s->jam = nr_calloc_array(TB, sizeof *s->jam);
    s->tgt = nr_calloc_array(TB, sizeof *s->tgt);
    s->len = nr_calloc_array((size_t)max_B, sizeof *s->len);
    s->x = nr_calloc_array(TB * (size_t)net->E, sizeof *s->x);
    s->out = nr_calloc_array(TB * O, sizeof *s->out);
    s->logits = nr_calloc_array(TB * (size_t)net->C, sizeof *s->logits);
    int ok = s->ids && s->hints && s->jam && s->tgt && s->len && s->x && s->out && s->logits;
    if (ok && net->K) {
        s->cv = nr_calloc_array(TB * (size_t)net->F, sizeof *s->cv);
        s->u = nr_calloc_array(TB * (size_t)net->I, sizeof *s->u);
        ok = s->cv && s->u;
    }
    if (ok && training) {
        s->dout = nr_calloc_array(TB * O, sizeof *s->dout);
        s->dx = nr_calloc_array(TB * (size_t)net->E, sizeof *s->dx);
        s->rows = nr_calloc_array(TB, sizeof *s->rows);
        s->seen = nr_calloc_array((size_t)net->V, 1);
        ok = s->dout && s->dx && s->rows && s->seen;
        if (ok && net->K) ok = (s->du = nr_calloc_array(TB * (size_t)net->I, sizeof *s->du)) != NULL;
    }
    if (!ok) {
        nr_tag_scratch_free(s);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tagger: out of memory");
    }
    return NLPRNN_OK;
}

/* The convolution's forward: s->cv (T,B,F) = c, s->u (T,B,E+F) = [x ; c] from s->x (T,B,E) whose
 * rows at padded steps are zero (made so here), so a window reaching past a sentence's end reads
 * zeros; steps before 0 or from T on are left out of the sums. One product per offset k (shift
 * d = k - r): the M = (T - |d|) B rows of steps t in [max(0,-d), min(T,T-d)) take
 *   a[t] (M,F) += x[t+d] (M,E) Wc[:, kE:kE+E]^T (E,F)
 * (rows of step t are contiguous in time-major order, so a shift is an offset of d B rows). */
static void conv_forward(nr_tag_scratch *s, const nr_tag_net *net, int T, int B) {
    size_t E = (size_t)net->E, F = (size_t)net->F, I = (size_t)net->I, TB = (size_t)T * (size_t)B;
    int K = net->K, r = K / 2;
    for (int t = 0; t < T; t++)
        for (int b = 0; b < B; b++)
            if (t >= s->len[b]) memset(s->x + ((size_t)t * B + b) * E, 0, sizeof(float) * E);
    for (size_t i = 0; i < TB; i++) memcpy(s->cv + i * F, net->conv_b, sizeof(float) * F); /* a = bc */
    for (int k = 0; k < K; k++) {
        int d = k - r, t0 = d < 0 ? -d : 0, t1 = d > 0 ? T - d : T;
        if (t1 <= t0) continue;
        nr_sgemm(0, 1, (t1 - t0) * B, (int)F, (int)E, 1.0f, s->x + (size_t)(t0 + d) * B * E, (int)E,
                 net->conv_w + (size_t)k * E, K * (int)E, 1.0f, s->cv + (size_t)t0 * B * F, (int)F);
    }
    /* c = relu(a) at real steps, 0 at padded ones; u = [x ; c] */
    for (int t = 0; t < T; t++)
        for (int b = 0; b < B; b++) {
            size_t i = (size_t)t * B + b;
            float *c = s->cv + i * F, *u = s->u + i * I;
            if (t >= s->len[b]) memset(c, 0, sizeof(float) * F);
            else
                for (size_t f = 0; f < F; f++) c[f] = c[f] > 0.0f ? c[f] : 0.0f;
            memcpy(u, s->x + i * E, sizeof(float) * E);
            memcpy(u + E, c, sizeof(float) * F);
        }
}

/* The convolution's backward, after the encoder's into s->du (T,B,E+F): s->dx (T,B,E) = du's x
 * part plus what flows back through the convolution; dWc, dbc into gconv (F K E + F, +=). s->cv
 * becomes da = dc * [c > 0] (0 at padded steps). The products mirror the forward's per offset:
 *   dWc[:, kE:kE+E] (F,E) += da[t]^T (F,M) x[t+d] (M,E)
 *   dx[t+d] (M,E) += da[t] (M,F) Wc[:, kE:kE+E] (F,E) */
static void conv_backward(nr_tag_scratch *s, const nr_tag_net *net, float *gconv, int T, int B) {
    size_t E = (size_t)net->E, F = (size_t)net->F, I = (size_t)net->I;
    int K = net->K, r = K / 2;
    float *gw = gconv, *gb = gconv + F * (size_t)K * E;
    for (int t = 0; t < T; t++)
        for (int b = 0; b < B; b++) {
            size_t i = (size_t)t * B + b;
            const float *du = s->du + i * I;
            float *c = s->cv + i * F;
            memcpy(s->dx + i * E, du, sizeof(float) * E);
            if (t >= s->len[b]) {
                memset(c, 0, sizeof(float) * F);
                continue;
            }
            for (size_t f = 0; f < F; f++) {
                c[f] = c[f] > 0.0f ? du[E + f] : 0.0f; /* da */
                gb[f] += c[f];                         /* dbc += colsum da */
            }
        }
    for (int k = 0; k < K; k++) {
        int d = k - r, t0 = d < 0 ? -d : 0, t1 = d > 0 ? T - d : T;
        if (t1 <= t0) continue;
        int M = (t1 - t0) * B;
        const float *da = s->cv + (size_t)t0 * B * F;
        nr_sgemm(1, 0, (int)F, (int)E, M, 1.0f, da, (int)F, s->x + (size_t)(t0 + d) * B * E, (int)E, 1.0f,
                 gw + (size_t)k * E, K * (int)E);
        nr_sgemm(0, 0, M, (int)E, (int)F, 1.0f, da, (int)F, net->conv_w + (size_t)k * E, K * (int)E, 1.0f,
                 s->dx + (size_t)(t0 + d) * B * E, (int)E);
    }
}

int nr_tag_forward(nr_tag_scratch *s, const nr_tag_net *net, int T, int B, nr_rng *rng,
                   nlprnn_error *err) {
    if (T < 1 || B < 1 || T > s->max_T || B > s->max_B)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tagger: batch %dx%d exceeds %dx%d", T, B,
                       s->max_T, s->max_B);
    size_t TB = (size_t)T * (size_t)B, E = (size_t)net->E;
    /* x (T,B,E) = E[ids] + Hint[hints], zero at padded steps */
    int rc = nr_embedding_forward(&net->emb, s->x, s->ids, TB, err);
    if (rc) return rc;
    for (size_t i = 0; i < TB; i++) {
        if (s->ids[i] == NR_UNIT_PAD) continue;
        const float *h = net->hint + (size_t)s->hints[i] * E;
        float *x = s->x + i * E;
        for (size_t k = 0; k < E; k++) x[k] += h[k];
    }
    /* x[t,b] += Ji[i] + Jm[m] + Jf[f], (i,m,f) the rows of jam[t,b]; each (E) */
    for (size_t i = 0; net->jamo && i < TB; i++) {
        if (s->ids[i] == NR_UNIT_PAD) continue;
        int ji, jm, jf;
        nr_jamo_rows(s->jam[i], &ji, &jm, &jf);
        const float *a = net->jamo_i + (size_t)ji * E, *b = net->jamo_m + (size_t)jm * E,
                    *c = net->jamo_f + (size_t)jf * E;
        float *x = s->x + i * E;
        for (size_t k = 0; k < E; k++) x[k] += a[k] + b[k] + c[k];
    }
    if (net->K) conv_forward(s, net, T, B); /* u = [x ; c] (T,B,E+F) */
    rc = nr_encoder_forward(&net->enc, s->ws, s->out, NULL, NULL, net->K ? s->u : s->x, s->len, NULL, NULL,
                            T, B, rng, err);
    if (rc) return rc;
    nr_dense_forward(&net->head, s->logits, s->out, (int)TB); /* (T*B,C) */
    return NLPRNN_OK;
}

int nr_tag_backward(nr_tag_scratch *s, const nr_tag_net *net, float *grad, int T, int B,
                    double scale, double *loss_sum, int *count, int *correct, size_t *n_rows,
                    nlprnn_error *err) {
    int N = T * B, C = net->C, cnt = 0, ok = 0;
    size_t E = (size_t)net->E, O = (size_t)net->enc.out_size;
    for (int i = 0; i < N; i++) { /* accuracy before the logits become gradients */
        if (s->tgt[i] < 0) continue;
        const float *z = s->logits + (size_t)i * C;
        int best = 0;
        for (int c = 1; c < C; c++)
            if (z[c] > z[best]) best = c;
        ok += best == s->tgt[i];
    }
    double mean = nr_softmax_xent(s->logits, s->logits, s->tgt, N, C, &cnt); /* dz, in place */
    *loss_sum = mean * cnt;
    *count = cnt;
    *correct = ok;
    *n_rows = 0;
    if (!cnt) return NLPRNN_OK;
    float sc = (float)scale;
    for (size_t i = 0; i < (size_t)N * (size_t)C; i++) s->logits[i] *= sc;
    memset(s->dout, 0, sizeof(float) * (size_t)N * O);
    nr_dense_backward(&net->head, grad + net->off_head, s->dout, s->logits, s->out, N);
    float *dxe = net->K ? s->du : s->dx; /* d(encoder input) (T,B,I) */
    memset(dxe, 0, sizeof(float) * (size_t)N * (size_t)net->I);
    int rc = nr_encoder_backward(&net->enc, s->ws, grad + net->off_enc, dxe, NULL, NULL, s->dout,
                                 NULL, NULL, err);
    if (rc) return rc;
    if (net->K) conv_backward(s, net, grad + net->off_conv, T, B); /* du -> dx, dWc, dbc */
    nr_embedding_backward(&net->emb, grad, s->dx, s->ids, (size_t)N);
    float *gh = grad + net->off_hint;
    for (int i = 0; i < N; i++) {
        if (s->ids[i] == NR_UNIT_PAD) continue;
        float *g = gh + (size_t)s->hints[i] * E;
        const float *d = s->dx + (size_t)i * E;
        for (size_t k = 0; k < E; k++) g[k] += d[k];
    }
    /* dJi[i] += dx[t,b] ; dJm[m] += dx[t,b] ; dJf[f] += dx[t,b]: the forward's sum, scattered */
    for (int i = 0; net->jamo && i < N; i++) {
        if (s->ids[i] == NR_UNIT_PAD) continue;
        int ji, jm, jf;
        nr_jamo_rows(s->jam[i], &ji, &jm, &jf);
        float *gi = grad + net->off_jamo + (size_t)ji * E;
        float *gm = grad + net->off_jamo + ((size_t)NR_JAMO_I + (size_t)jm) * E;
        float *gf = grad + net->off_jamo + ((size_t)NR_JAMO_I + NR_JAMO_M + (size_t)jf) * E;
        const float *d = s->dx + (size_t)i * E;
        for (size_t k = 0; k < E; k++) {
            gi[k] += d[k];
            gm[k] += d[k];
            gf[k] += d[k];
        }
    }
    *n_rows = nr_embedding_touched_rows(s->rows, s->ids, (size_t)N, &net->emb, s->seen);
    return NLPRNN_OK;
}

void nr_tag_probs(nr_tag_scratch *s, const nr_tag_net *net, int T, int B) {
    nr_softmax_rows(s->logits, T * B, net->C);
}

/* ---- units of a text --------------------------------------------------------------------------- */

void nr_units_free(nr_units *u) {
    free(u->text);
    free(u->start);
    free(u->space_after);
    memset(u, 0, sizeof *u);
}

static int is_white(utf8proc_int32_t c) {
    if (c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') return 1;
    return utf8proc_category(c) == UTF8PROC_CATEGORY_ZS;
}

int nr_units_of_text(nr_units *u, const char *s, size_t n, nlprnn_error *err) {
    size_t bad = nr_utf8_check(s, n);
    if (bad == n)
        for (size_t i = 0; i < n; i++)
            if (!s[i]) {
                bad = i;
                break;
            }
    if (bad < n) {
        int rc = nr_fail(err, NLPRNN_E_UTF8, -1, (long long)bad, "%s",
                         s[bad] ? "invalid UTF-8" : "a NUL byte");
        return rc;
    }
    utf8proc_uint8_t *nfc = NULL;
    utf8proc_ssize_t m = 0;
    if (n) {
        m = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &nfc,
                         UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (m < 0) {
            return nr_fail(err, m == UTF8PROC_ERROR_NOMEM ? NLPRNN_E_NOMEM : NLPRNN_E_UTF8, -1, -1,
                           "NFC: %s", utf8proc_errmsg(m));
        }
    }
    /* at most m units and m bytes */
    size_t need = (size_t)m + 1;
    if (need > u->cap_n) {
        size_t *st = realloc(u->start, (need + 1) * sizeof *st);
        if (st) u->start = st;
        unsigned char *sa = realloc(u->space_after, need);
        if (sa) u->space_after = sa;
        if (!st || !sa) {
            free(nfc);
            return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        }
        u->cap_n = need;
    }
    if (need > u->cap_text) {
        char *t = realloc(u->text, need);
        if (!t) {
            free(nfc);
            return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        }
        u->text = t;
        u->cap_text = need;
    }
    u->n = 0;
    u->len = 0;
    for (utf8proc_ssize_t i = 0; i < m;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(nfc + i, m - i, &c);
        if (k <= 0) k = 1, c = 0xFFFD; /* cannot happen: validated above */
        if (is_white(c)) {
            if (u->n) u->space_after[u->n - 1] = 1;
        } else {
            u->start[u->n] = u->len;
            u->space_after[u->n] = 0;
            memcpy(u->text + u->len, nfc + i, (size_t)k);
            u->len += (size_t)k;
            u->n++;
        }
        i += k;
    }
    if (u->n) u->space_after[u->n - 1] = 0;
    u->start[u->n] = u->len;
    u->text[u->len] = 0;
    free(nfc);
    return NLPRNN_OK;
}

/* tests/test_grad.c: finite-difference gradient checks for every layer and loss of the recurrent
 * core: SimpleRNN, LSTM, GRU (reset after and before), stacked, bidirectional (concat and sum),
 * masked, with dropout, initial and final states, with resets (nr_encoder_ws_set_reset); embedding; dense; softmax cross-entropy (with
 * ignored rows); soft-target cross-entropy with temperatures (and by hand); sampled softmax;
 * sigmoid BCE; MSE; the classifier's network end to end with each pooling (last, mean, max,
 * concat = last + max + mean), bidirectional and not.
 *
 * Method: for each parameter tensor (and each input: x, h0, c0) draw a random unit direction u,
 * compare the analytic directional derivative g.u with a central difference of the loss along u
 * (Richardson-extrapolated, O(h^4)); the loss is summed in double. A self-test corrupts one
 * gradient element and requires the check to fail, so the check can fail.
 */
#include <stdlib.h>
#include <string.h>

#include "models/nn.h"
#include "tasks/classify/classifier.h"
#include "testutil.h"

typedef double (*loss_fn)(void *ctx);

/* Directional check of g (n) for p (n) along a random unit direction. Returns 1 if it agrees. */
static int dir_check(const char *what, float *p, const float *g, size_t n, loss_fn f, void *ctx,
                     nr_rng *rng, int report)
{
    double *u = malloc(n * sizeof(double));
    float *save = malloc(n * sizeof(float));
    double nrm = 0.0, an = 0.0;
    for (size_t k = 0; k < n; k++) {
        u[k] = nr_rng_normal(rng);
        nrm += u[k] * u[k];
    }
    nrm = sqrt(nrm);
    for (size_t k = 0; k < n; k++) {
        u[k] /= nrm;
        an += u[k] * g[k];
    }
    memcpy(save, p, n * sizeof(float));
    double fd[2];
    for (int r = 0; r < 2; r++) {
        double h = r == 0 ? 2e-2 : 1e-2, lp, lm;
        for (size_t k = 0; k < n; k++)
            p[k] = (float)(save[k] + h * u[k]);
        lp = f(ctx);
        for (size_t k = 0; k < n; k++)
            p[k] = (float)(save[k] - h * u[k]);
        lm = f(ctx);
        fd[r] = (lp - lm) / (2 * h);
    }
    memcpy(p, save, n * sizeof(float));
    double num = (4.0 * fd[1] - fd[0]) / 3.0;
    double tol = 2e-3 * fmax(fabs(num), fabs(an)) + 2e-4;
    int ok = fabs(num - an) <= tol;
    if (!ok && report)
        fprintf(stderr, "  %s: analytic %.8g, numeric %.8g (diff %.3g, tol %.3g)\n", what, an, num,
                fabs(num - an), tol);
    free(u);
    free(save);
    return ok;
}

/* ---- encoder ---------------------------------------------------------------------------------- */

typedef struct {
    nr_encoder enc;
    nr_encoder_ws *ws;
    int T, B, I, H, S; /* S = L*dirs */
    int *len;
    float *x, *h0, *c0, *out, *hn, *cn;
    float *r_out, *r_hn, *r_cn; /* random loss weights */
    nr_rng drop;                /* dropout rng, re-seeded before every forward */
} enc_case;

static double enc_loss(void *ctx)
{
    enc_case *c = ctx;
    nr_rng_seed(&c->drop, 99);
    int rc = nr_encoder_forward(&c->enc, c->ws, c->out, c->hn, c->cn, c->x, c->len, c->h0, c->c0,
                                c->T, c->B, &c->drop, NULL);
    if (rc)
        return NAN;
    size_t no = (size_t)c->T * c->B * c->enc.out_size, ns = (size_t)c->S * c->B * c->H;
    double L = 0.0;
    for (size_t k = 0; k < no; k++)
        L += (double)c->out[k] * c->r_out[k];
    for (size_t k = 0; k < ns; k++) {
        L += (double)c->hn[k] * c->r_hn[k];
        if (c->enc.cfg.cell == NR_CELL_LSTM)
            L += (double)c->cn[k] * c->r_cn[k];
    }
    return L;
}

static float *rand_buf(size_t n, float scale, nr_rng *rng)
{
    float *b = malloc((n ? n : 1) * sizeof(float));
    for (size_t k = 0; k < n; k++)
        b[k] = scale * (2.0f * nr_rng_uniform(rng) - 1.0f);
    return b;
}

static void check_encoder(int cell, int reset_after, int layers, int bidi, int merge, float dropout,
                          int masked, int nthreads, int resets)
{
    char name[160];
    snprintf(name, sizeof name, "%s%s L=%d bidi=%d merge=%s drop=%.1f masked=%d threads=%d resets=%d",
             nr_cell_name(cell), cell == NR_CELL_GRU ? (reset_after ? "(after)" : "(before)") : "",
             layers, bidi, merge == NR_MERGE_SUM ? "sum" : "concat", (double)dropout, masked,
             nthreads, resets);
    nr_rng rng;
    nr_rng_seed(&rng, 1234 + cell * 7 + layers * 3 + bidi);
    enc_case c;
    memset(&c, 0, sizeof c);
    nr_encoder_cfg cfg;
    nr_encoder_cfg_default(&cfg, 4, 3);
    cfg.cell = cell;
    cfg.gru_reset_after = reset_after;
    cfg.layers = layers;
    cfg.bidirectional = bidi;
    cfg.merge = merge;
    cfg.dropout = dropout;
    c.T = 5;
    c.B = 3;
    c.I = 4;
    c.H = 3;
    size_t np = nr_encoder_param_count(&cfg);
    CHECK(np > 0);
    float *params = calloc(np, sizeof(float)), *grad = calloc(np, sizeof(float));
    nlprnn_error err;
    CHECK_INT_EQ(nr_encoder_bind(&c.enc, &cfg, params, &err), 0);
    CHECK_INT_EQ(nr_encoder_init(&c.enc, &rng, &err), 0);
    for (size_t k = 0; k < np; k++) /* non-zero biases, larger weights: exercise every term */
        params[k] += 0.3f * (2.0f * nr_rng_uniform(&rng) - 1.0f);
    c.S = layers * (bidi ? 2 : 1);
    c.ws = nr_encoder_ws_create(&c.enc, c.T, c.B, 1, nthreads, &err);
    CHECK(c.ws != NULL);
    int lens[3] = {5, 3, 1};
    c.len = masked ? lens : NULL;
    /* resets (T=5, B=3): sequence 0 at t = 2 and 4, sequence 1 at t = 0 and 2 (its last step when
     * masked), sequence 2 at t = 0 */
    static const uint8_t reset[5][3] = {{0, 1, 1}, {0, 0, 0}, {1, 1, 0}, {0, 0, 0}, {1, 0, 0}};
    if (resets)
        nr_encoder_ws_set_reset(c.ws, &reset[0][0]);
    size_t nx = (size_t)c.T * c.B * c.I, ns = (size_t)c.S * c.B * c.H,
           no = (size_t)c.T * c.B * c.enc.out_size;
    c.x = rand_buf(nx, 1.0f, &rng);
    c.h0 = rand_buf(ns, 0.5f, &rng);
    c.c0 = rand_buf(ns, 0.5f, &rng);
    c.out = calloc(no, sizeof(float));
    c.hn = calloc(ns, sizeof(float));
    c.cn = calloc(ns, sizeof(float));
    c.r_out = rand_buf(no, 1.0f, &rng);
    c.r_hn = rand_buf(ns, 1.0f, &rng);
    c.r_cn = rand_buf(ns, 1.0f, &rng);
    float *dx = calloc(nx, sizeof(float)), *dh0 = calloc(ns, sizeof(float)),
          *dc0 = calloc(ns, sizeof(float));
    double L0 = enc_loss(&c);
    CHECK(isfinite(L0));
    CHECK_INT_EQ(nr_encoder_backward(&c.enc, c.ws, grad, dx, dh0, dc0, c.r_out, c.r_hn,
                                     cell == NR_CELL_LSTM ? c.r_cn : NULL, &err),
                 0);
    if (masked) { /* padded output rows are zero, their dx rows too */
        int zero_out = 1, zero_dx = 1;
        for (int b = 0; b < c.B; b++)
            for (int t = lens[b]; t < c.T; t++) {
                for (int j = 0; j < c.enc.out_size; j++)
                    zero_out &= c.out[((size_t)t * c.B + b) * c.enc.out_size + j] == 0.0f;
                for (int j = 0; j < c.I; j++)
                    zero_dx &= dx[((size_t)t * c.B + b) * c.I + j] == 0.0f;
            }
        CHECK_MSG(zero_out && zero_dx, "%s: padded rows not zero", name);
    }
    int all_ok = 1;
    for (int l = 0; l < layers; l++)
        for (int d = 0; d < (bidi ? 2 : 1); d++) {
            const nr_rnn_slot *s = &c.enc.slot[l][d];
            size_t G = (size_t)c.enc.gates * c.H;
            struct { const char *n; size_t off, len; } t[4] = {
                {"W_ih", s->w_ih, G * s->in}, {"W_hh", s->w_hh, G * c.H},
                {"b_ih", s->b_ih, G}, {"b_hh", s->b_hh, G}};
            for (int k = 0; k < 4; k++) {
                char what[200];
                snprintf(what, sizeof what, "%s: layer %d dir %d %s", name, l, d, t[k].n);
                int ok = dir_check(what, params + t[k].off, grad + t[k].off, t[k].len, enc_loss,
                                   &c, &rng, 1);
                CHECK_MSG(ok, "%s", what);
                all_ok &= ok;
            }
        }
    char what[200];
    snprintf(what, sizeof what, "%s: dx", name);
    CHECK_MSG(dir_check(what, c.x, dx, nx, enc_loss, &c, &rng, 1), "%s", what);
    snprintf(what, sizeof what, "%s: dh0", name);
    CHECK_MSG(dir_check(what, c.h0, dh0, ns, enc_loss, &c, &rng, 1), "%s", what);
    if (cell == NR_CELL_LSTM) {
        snprintf(what, sizeof what, "%s: dc0", name);
        CHECK_MSG(dir_check(what, c.c0, dc0, ns, enc_loss, &c, &rng, 1), "%s", what);
    }
    if (all_ok) { /* the check must be able to fail: corrupt one element of W_hh's gradient */
        const nr_rnn_slot *s = &c.enc.slot[layers - 1][0];
        size_t n = (size_t)c.enc.gates * c.H * c.H;
        float keep = grad[s->w_hh + 1];
        double gn = sqrt(nr_sumsq(grad + s->w_hh, n));
        grad[s->w_hh + 1] += (float)(0.5 * gn + 0.1);
        int fails = 0;
        for (int rep = 0; rep < 3; rep++)
            fails += !dir_check("corrupted", params + s->w_hh, grad + s->w_hh, n, enc_loss, &c,
                                &rng, 0);
        CHECK_MSG(fails >= 2, "%s: a corrupted gradient passed the check %d of 3 times", name,
                  3 - fails);
        grad[s->w_hh + 1] = keep;
    }
    nr_encoder_ws_free(c.ws);
    free(params);
    free(grad);
    free(c.x);
    free(c.h0);
    free(c.c0);
    free(c.out);
    free(c.hn);
    free(c.cn);
    free(c.r_out);
    free(c.r_hn);
    free(c.r_cn);
    free(dx);
    free(dh0);
    free(dc0);
}

/* ---- heads and losses ------------------------------------------------------------------------- */

typedef struct {
    nr_dense d;
    int N, in, C, kind; /* 0 softmax, 1 bce, 2 mse, 3 sampled, 4 soft targets */
    float *x, *logits, *dlog;
    int *targets;
    float *ft, *mask;
    float *q, temp[6]; /* soft targets (N,C) and temperatures (N) */
    nr_sampled_softmax *ss;
    float *sgrad, *sdx; /* for the sampled loss (computes its own gradients) */
} head_case;

static double head_loss(void *ctx)
{
    head_case *h = ctx;
    if (h->kind == 3) {
        nr_rng r;
        nr_rng_seed(&r, 5);
        memset(h->sgrad, 0, nr_dense_param_count(h->in, h->C) * sizeof(float));
        memset(h->sdx, 0, (size_t)h->N * h->in * sizeof(float));
        return nr_sampled_softmax_xent(h->ss, &h->d, h->sgrad, h->sdx, h->x, h->targets, h->N, &r,
                                       NULL);
    }
    nr_dense_forward(&h->d, h->logits, h->x, h->N);
    if (h->kind == 0)
        return nr_softmax_xent(h->dlog, h->logits, h->targets, h->N, h->C, NULL);
    if (h->kind == 4)
        return nr_softmax_xent_soft(h->dlog, h->logits, h->q, h->temp, h->N, h->C);
    if (h->kind == 1)
        return nr_sigmoid_bce(h->dlog, h->logits, h->ft, h->mask, h->N * h->C, NULL);
    return nr_mse(h->dlog, h->logits, h->ft, h->mask, h->N * h->C, NULL);
}

static void check_head(int kind)
{
    static const char *names[] = {"dense+softmax_xent", "dense+sigmoid_bce", "dense+mse",
                                  "sampled_softmax", "dense+softmax_xent_soft"};
    nr_rng rng;
    nr_rng_seed(&rng, 77 + kind);
    head_case h;
    memset(&h, 0, sizeof h);
    h.kind = kind;
    h.N = 6;
    h.in = 5;
    h.C = kind == 3 ? 40 : 4;
    size_t np = nr_dense_param_count(h.in, h.C);
    float *p = calloc(np, sizeof(float)), *g = calloc(np, sizeof(float));
    nr_dense_bind(&h.d, h.in, h.C, p);
    nr_dense_init(&h.d, &rng);
    for (int k = 0; k < h.C; k++)
        h.d.b[k] = 0.2f * (2.0f * nr_rng_uniform(&rng) - 1.0f);
    h.x = rand_buf((size_t)h.N * h.in, 1.0f, &rng);
    h.logits = calloc((size_t)h.N * h.C, sizeof(float));
    h.dlog = calloc((size_t)h.N * h.C, sizeof(float));
    h.targets = malloc(h.N * sizeof(int));
    for (int n = 0; n < h.N; n++)
        h.targets[n] = (int)nr_rng_below(&rng, (uint64_t)h.C);
    h.targets[2] = -1; /* ignored row */
    h.ft = rand_buf((size_t)h.N * h.C, 1.0f, &rng);
    h.mask = malloc((size_t)h.N * h.C * sizeof(float));
    for (int k = 0; k < h.N * h.C; k++) {
        if (kind == 1)
            h.ft[k] = h.ft[k] > 0 ? 1.0f : 0.0f;
        h.mask[k] = k % 5 == 3 ? 0.0f : 1.0f;
    }
    /* soft targets: random distributions (one row one-hot, one with a zero), temperatures 0.5-4 */
    h.q = calloc((size_t)h.N * h.C, sizeof(float));
    for (int n = 0; n < h.N; n++) {
        double sum = 0;
        for (int k = 0; k < h.C; k++)
            sum += h.q[n * h.C + k] = n == 1 ? (k == 2) : n == 3 && k == 0 ? 0.0f : 0.05f + nr_rng_uniform(&rng);
        for (int k = 0; k < h.C; k++)
            h.q[n * h.C + k] = (float)(h.q[n * h.C + k] / sum);
        h.temp[n] = n == 0 ? 1.0f : 0.5f + 3.5f * nr_rng_uniform(&rng);
    }
    float *dx = calloc((size_t)h.N * h.in, sizeof(float));
    if (kind == 3) {
        h.ss = nr_sampled_softmax_create(4, 8, h.in, h.C, NULL); /* 4 < N: rows in chunks */
        h.sgrad = calloc(np, sizeof(float));
        h.sdx = calloc((size_t)h.N * h.in, sizeof(float));
        head_loss(&h);
        memcpy(g, h.sgrad, np * sizeof(float));
        memcpy(dx, h.sdx, (size_t)h.N * h.in * sizeof(float));
    } else {
        head_loss(&h);
        nr_dense_backward(&h.d, g, dx, h.dlog, h.x, h.N);
        if (kind == 0) { /* the ignored row has zero gradient */
            int z = 1;
            for (int k = 0; k < h.C; k++)
                z &= h.dlog[2 * h.C + k] == 0.0f;
            CHECK_MSG(z, "softmax: ignored row got a gradient");
        }
    }
    char what[100];
    snprintf(what, sizeof what, "%s: W,b", names[kind]);
    CHECK_MSG(dir_check(what, p, g, np, head_loss, &h, &rng, 1), "%s", what);
    snprintf(what, sizeof what, "%s: b", names[kind]);
    CHECK_MSG(dir_check(what, h.d.b, g + (size_t)h.in * h.C, (size_t)h.C, head_loss, &h, &rng, 1),
              "%s", what);
    snprintf(what, sizeof what, "%s: dx", names[kind]);
    CHECK_MSG(dir_check(what, h.x, dx, (size_t)h.N * h.in, head_loss, &h, &rng, 1), "%s", what);
    /* corrupted gradient must fail */
    g[0] += 1.0f;
    CHECK_MSG(!dir_check("corrupted", p, g, 1, head_loss, &h, &rng, 0),
              "%s: corrupted gradient passed", names[kind]);
    nr_sampled_softmax_free(h.ss);
    free(h.sgrad);
    free(h.sdx);
    free(p);
    free(g);
    free(h.x);
    free(h.logits);
    free(h.dlog);
    free(h.targets);
    free(h.ft);
    free(h.mask);
    free(h.q);
    free(dx);
}

/* Soft targets by hand: logits (0, ln 3) give softmax (1/4, 3/4); with q = (1/2, 1/2) and T = 1
 * the loss is -(ln(1/4) + ln(3/4)) / 2 and the gradient (1/4 - 1/2, 3/4 - 1/2) / N. At T = 2 the
 * logits become (0, ln 3 / 2): softmax (1 / (1 + √3), √3 / (1 + √3)), loss 4 x the cross-entropy,
 * gradient 2 (softmax - q) / N. A one-hot q at T = 1 is nr_softmax_xent. */
static void check_soft_by_hand(void)
{
    float z[4] = {0.0f, (float)log(3.0), 0.0f, (float)log(3.0)}, q[4] = {0.5f, 0.5f, 0.5f, 0.5f};
    float d[4], t[2] = {1.0f, 2.0f};
    double l = nr_softmax_xent_soft(d, z, q, t, 2, 2);
    double a = 1.0 / (1.0 + sqrt(3.0)), b = 1.0 - a;
    double l0 = -(log(0.25) + log(0.75)) / 2, l1 = 4.0 * -(log(a) + log(b)) / 2;
    CHECK_MSG(fabs(l - (l0 + l1) / 2) < 1e-6, "soft loss %.9g, expected %.9g", l, (l0 + l1) / 2);
    CHECK(fabs(d[0] - (0.25 - 0.5) / 2) < 1e-6 && fabs(d[1] - (0.75 - 0.5) / 2) < 1e-6);
    CHECK(fabs(d[2] - 2 * (a - 0.5) / 2) < 1e-6 && fabs(d[3] - 2 * (b - 0.5) / 2) < 1e-6);
    float z2[6] = {0.3f, -1.2f, 2.0f, 1.0f, 0.5f, -0.25f}, oh[6] = {0, 0, 1, 1, 0, 0}, d1[6], d2[6];
    int y[2] = {2, 0};
    double ls = nr_softmax_xent_soft(d1, z2, oh, NULL, 2, 3), lh = nr_softmax_xent(d2, z2, y, 2, 3, NULL);
    CHECK_MSG(fabs(ls - lh) < 1e-9, "one-hot soft %.12g, hard %.12g", ls, lh);
    for (int k = 0; k < 6; k++)
        CHECK(fabs(d1[k] - d2[k]) < 1e-7);
}

/* ---- embedding (through a dense+softmax head, so the gradient is non-trivial) ------------------ */

typedef struct {
    nr_embedding e;
    nr_dense d;
    int ids[8], targets[8];
    float emb[8 * 3], logits[8 * 4], dlog[8 * 4];
} emb_case;

static double emb_loss(void *ctx)
{
    emb_case *c = ctx;
    nr_embedding_forward(&c->e, c->emb, c->ids, 8, NULL);
    nr_dense_forward(&c->d, c->logits, c->emb, 8);
    return nr_softmax_xent(c->dlog, c->logits, c->targets, 8, 4, NULL);
}

static void check_embedding(void)
{
    nr_rng rng;
    nr_rng_seed(&rng, 3);
    emb_case c;
    float table[6 * 3], dtable[6 * 3] = {0}, hp[4 * 3 + 4], hg[4 * 3 + 4] = {0}, demb[8 * 3] = {0};
    CHECK_INT_EQ(nr_embedding_bind(&c.e, 6, 3, 0, table, NULL), 0);
    nr_embedding_init(&c.e, 0.5f, &rng);
    CHECK(table[0] == 0.0f && table[1] == 0.0f && table[2] == 0.0f);
    nr_dense_bind(&c.d, 3, 4, hp);
    nr_dense_init(&c.d, &rng);
    int ids[8] = {1, 2, 0, 2, 5, 4, 0, 1};
    for (int k = 0; k < 8; k++) {
        c.ids[k] = ids[k];
        c.targets[k] = k % 4;
    }
    emb_loss(&c);
    nr_dense_backward(&c.d, hg, demb, c.dlog, c.emb, 8);
    nr_embedding_backward(&c.e, dtable, demb, c.ids, 8);
    CHECK(dtable[0] == 0.0f && dtable[1] == 0.0f && dtable[2] == 0.0f); /* padding row */
    CHECK(dtable[9] == 0.0f && dtable[10] == 0.0f && dtable[11] == 0.0f); /* id 3 unused */
    CHECK_MSG(dir_check("embedding table", table + 3, dtable + 3, 15, emb_loss, &c, &rng, 1),
              "embedding gradient");
    unsigned char seen[6] = {0};
    int rows[8];
    size_t m = nr_embedding_touched_rows(rows, c.ids, 8, &c.e, seen);
    CHECK_INT_EQ(m, 4);
    CHECK(rows[0] == 1 && rows[1] == 2 && rows[2] == 4 && rows[3] == 5);
    int bad[2] = {1, 6};
    nlprnn_error err;
    CHECK_INT_EQ(nr_embedding_forward(&c.e, c.emb, bad, 2, &err), NLPRNN_E_INVALID_ARG);
    CHECK(strstr(err.message, "position 1") != NULL);
}

/* ---- the classifier: embedding -> encoder -> pooling -> dense -> softmax ------------------------ */

typedef struct {
    nr_clf_net net;
    nr_clf_scratch s;
    int T, B;
    int targets[3];
} clf_case;

static double clf_loss(void *ctx)
{
    clf_case *c = ctx;
    if (nr_clf_forward(&c->net, &c->s, c->T, c->B, NULL, NULL))
        return NAN;
    for (int b = 0; b < c->B; b++)
        c->s.targets[b] = c->targets[b];
    return nr_softmax_xent(c->s.dlogits, c->s.logits, c->s.targets, c->B, c->net.cfg.classes, NULL);
}

static void check_classifier(int pool, int bidi)
{
    char what[100];
    nr_rng rng;
    /* a point where no maximum over time is within the difference steps of another step's (max
     * pooling is not differentiable there): the seed is chosen so (40 was one with a near tie) */
    nr_rng_seed(&rng, 50 + pool * 2 + bidi);
    clf_case c;
    memset(&c, 0, sizeof c);
    nr_clf_cfg cfg = {.vocab = NLPRNN_NUM_SPECIAL_IDS + 9, .embed = 4, .cell = NR_CELL_LSTM,
                      .layers = 1, .bidirectional = bidi, .hidden = 3, .pool = pool, .classes = 3,
                      .max_tokens = 8, .dropout = 0.0f};
    CHECK_INT_EQ(nr_clf_net_bind(&c.net, &cfg, NULL, NULL), 0);
    size_t np = c.net.n_params;
    int O = 3 * (bidi ? 2 : 1);
    CHECK_INT_EQ(c.net.pooled, pool == NR_POOL_CONCAT ? 3 * O : O);
    float *p = calloc(np, sizeof(float)), *g = calloc(np, sizeof(float));
    CHECK_INT_EQ(nr_clf_net_bind(&c.net, &cfg, p, NULL), 0);
    for (size_t k = 0; k < np; k++)
        p[k] = 0.8f * (2.0f * nr_rng_uniform(&rng) - 1.0f);
    memset(p, 0, (size_t)cfg.embed * sizeof(float) * NLPRNN_ID_PAD); /* rows below PAD unused */
    CHECK_INT_EQ(nr_clf_scratch_reserve(&c.s, &c.net, 8, 3, 1, 1, NULL), 0);
    /* three documents of 5, 3 and 1 tokens (padded to T = 5) */
    static const int32_t d0[] = {5, 7, 9, 6, 12}, d1[] = {8, 11, 5}, d2[] = {10};
    const int32_t *docs[3] = {d0, d1, d2};
    int lens[3] = {5, 3, 1};
    c.B = 3;
    c.T = nr_clf_fill_batch(&c.s, docs, lens, 3);
    c.targets[0] = 2, c.targets[1] = 0, c.targets[2] = 1;
    clf_loss(&c);
    CHECK_INT_EQ(nr_clf_backward(&c.net, &c.s, g, c.T, c.B, NULL), 0);
    snprintf(what, sizeof what, "classifier pool %s bidi %d: head", nr_pool_name(pool), bidi);
    size_t hb = c.net.n_emb + c.net.n_enc;
    CHECK_MSG(dir_check(what, p + hb, g + hb, c.net.n_head, clf_loss, &c, &rng, 1), "%s", what);
    snprintf(what, sizeof what, "classifier pool %s bidi %d: encoder", nr_pool_name(pool), bidi);
    CHECK_MSG(dir_check(what, p + c.net.n_emb, g + c.net.n_emb, c.net.n_enc, clf_loss, &c, &rng, 1),
              "%s", what);
    snprintf(what, sizeof what, "classifier pool %s bidi %d: embedding", nr_pool_name(pool), bidi);
    CHECK_MSG(dir_check(what, p, g, c.net.n_emb, clf_loss, &c, &rng, 1), "%s", what);
    /* a wrong gradient of the encoder fails the check (it reaches the loss through the pooling) */
    for (size_t k = c.net.n_emb; k < hb; k++)
        g[k] *= 2.0f;
    CHECK_MSG(!dir_check("corrupted", p + c.net.n_emb, g + c.net.n_emb, c.net.n_enc, clf_loss, &c,
                         &rng, 0),
              "classifier pool %s: corrupted gradient passed", nr_pool_name(pool));
    nr_clf_scratch_free(&c.s);
    free(p);
    free(g);
}

int main(void)
{
    for (int pool = NR_POOL_LAST; pool <= NR_POOL_CONCAT; pool++)
        for (int bidi = 0; bidi <= 1; bidi++)
            check_classifier(pool, bidi);
    for (int cell = NR_CELL_RNN; cell <= NR_CELL_GRU; cell++) {
        for (int ra = 1; ra >= (cell == NR_CELL_GRU ? 0 : 1); ra--) {
            check_encoder(cell, ra, 1, 0, NR_MERGE_CONCAT, 0.0f, 0, 1, 0);
            check_encoder(cell, ra, 1, 0, NR_MERGE_CONCAT, 0.0f, 1, 1, 0);
            check_encoder(cell, ra, 2, 1, NR_MERGE_CONCAT, 0.0f, 1, 2, 0);
            check_encoder(cell, ra, 2, 1, NR_MERGE_SUM, 0.3f, 1, 1, 0);
            check_encoder(cell, ra, 3, 0, NR_MERGE_CONCAT, 0.2f, 1, 2, 0);
            check_encoder(cell, ra, 1, 0, NR_MERGE_CONCAT, 0.0f, 0, 1, 1);
            check_encoder(cell, ra, 2, 1, NR_MERGE_CONCAT, 0.0f, 1, 2, 1);
        }
    }
    for (int k = 0; k < 5; k++)
        check_head(k);
    check_soft_by_hand();
    check_embedding();
    return nr_test_done("test_grad");
}

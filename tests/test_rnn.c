/* tests/test_rnn.c: behaviour of the recurrent core beyond gradients:
 *   masking: a sequence alone and the same sequence padded inside a batch give the same outputs,
 *            final states and gradients (every cell, 2 layers, bidirectional);
 *   streaming: two calls carrying hn/cn equal one call over the whole sequence;
 *   resets: a batch with reset marks (2 threads) equals its segments run alone from zero states
 *            (outputs, states, gradients), every cell, 2 layers, bidirectional;
 *   threads: the same nthreads gives bit-identical results; 1 vs 2 threads agree closely;
 *   shared packs (data-parallel training): workspaces of the parts of a batch that share their
 *            packed weights (nr_encoder_packs), run at once on threads, give the bits of workspaces
 *            that pack their own, before and after the weights change (stale); without the stale
 *            they compute with the old copies, so the check can fail;
 *   init: orthogonal recurrent weights, forget-gate bias 1, zero biases, same seed same weights;
 *   optimizers, clipping, schedules: exact values on small cases;
 *   embedding .vec loading and its error messages; argument errors;
 *   lazy workspace: a workspace sized for many long sequences and used for one short one touches
 *            few of its pages (the tagger's one-sentence request: 33 MB, 8,400 pages, were zeroed
 *            at creation), and computes what a workspace of the exact size computes, bit for bit.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "models/kernels/kernels.h"
#include "models/nn.h"
#include "testutil.h"

static void fill(float *b, size_t n, float scale, nr_rng *rng)
{
    for (size_t k = 0; k < n; k++)
        b[k] = scale * (2.0f * nr_rng_uniform(rng) - 1.0f);
}

static double max_rel(const float *a, const float *b, size_t n)
{
    double m = 0.0;
    for (size_t k = 0; k < n; k++) {
        double d = fabs((double)a[k] - b[k]) / (fabs((double)b[k]) + 0.1); /* abs floor 1e-6 */
        m = d > m ? d : m;
    }
    return m;
}

typedef struct {
    nr_encoder enc;
    float *p;
    size_t np;
} model;

static void make_model(model *m, int cell, int layers, int bidi, int I, int H, uint64_t seed)
{
    nr_encoder_cfg cfg;
    nr_encoder_cfg_default(&cfg, I, H);
    cfg.cell = cell;
    cfg.layers = layers;
    cfg.bidirectional = bidi;
    m->np = nr_encoder_param_count(&cfg);
    m->p = calloc(m->np, sizeof(float));
    nr_rng rng;
    nr_rng_seed(&rng, seed);
    CHECK_INT_EQ(nr_encoder_bind(&m->enc, &cfg, m->p, NULL), 0);
    CHECK_INT_EQ(nr_encoder_init(&m->enc, &rng, NULL), 0);
    for (size_t k = 0; k < m->np; k++)
        m->p[k] += 0.1f * (2.0f * nr_rng_uniform(&rng) - 1.0f);
}

/* sequence `s` (len 4) alone vs at batch row 1 of a (T=7,B=3) batch with lengths {7,4,2} */
static void test_masking(int cell)
{
    const int I = 5, H = 4, L = 2, Tb = 7, Bb = 3, len1 = 4;
    model m;
    make_model(&m, cell, L, 1, I, H, 11 + cell);
    int O = m.enc.out_size, S = L * 2;
    nr_rng rng;
    nr_rng_seed(&rng, 5);
    float *xb = calloc((size_t)Tb * Bb * I, 4), *x1 = calloc((size_t)len1 * I, 4);
    fill(xb, (size_t)Tb * Bb * I, 1.0f, &rng);
    for (int t = 0; t < len1; t++)
        memcpy(x1 + (size_t)t * I, xb + ((size_t)t * Bb + 1) * I, (size_t)I * 4);
    for (int t = len1; t < Tb; t++) /* garbage in the padding must not matter */
        for (int j = 0; j < I; j++)
            xb[((size_t)t * Bb + 1) * I + j] = 1e3f;
    float *dy1 = calloc((size_t)len1 * O, 4), *dyb = calloc((size_t)Tb * Bb * O, 4);
    fill(dy1, (size_t)len1 * O, 1.0f, &rng);
    for (int t = 0; t < len1; t++)
        memcpy(dyb + ((size_t)t * Bb + 1) * O, dy1 + (size_t)t * O, (size_t)O * 4);
    for (int t = len1; t < Tb; t++) /* dout at padded steps is ignored */
        for (int j = 0; j < O; j++)
            dyb[((size_t)t * Bb + 1) * O + j] = 7.0f;
    float *dhn1 = calloc((size_t)S * H, 4), *dhnb = calloc((size_t)S * Bb * H, 4);
    fill(dhn1, (size_t)S * H, 1.0f, &rng);
    for (int s = 0; s < S; s++)
        memcpy(dhnb + ((size_t)s * Bb + 1) * H, dhn1 + (size_t)s * H, (size_t)H * 4);
    int lens[3] = {Tb, len1, 2};
    float *y1 = calloc((size_t)len1 * O, 4), *yb = calloc((size_t)Tb * Bb * O, 4);
    float *hn1 = calloc((size_t)S * H, 4), *hnb = calloc((size_t)S * Bb * H, 4);
    float *cn1 = calloc((size_t)S * H, 4), *cnb = calloc((size_t)S * Bb * H, 4);
    float *g1 = calloc(m.np, 4), *gb = calloc(m.np, 4);
    float *dx1 = calloc((size_t)len1 * I, 4), *dxb = calloc((size_t)Tb * Bb * I, 4);
    nr_encoder_ws *w1 = nr_encoder_ws_create(&m.enc, len1, 1, 1, 1, NULL);
    nr_encoder_ws *wb = nr_encoder_ws_create(&m.enc, Tb, Bb, 1, 1, NULL);
    CHECK_INT_EQ(nr_encoder_forward(&m.enc, w1, y1, hn1, cn1, x1, NULL, NULL, NULL, len1, 1, NULL, NULL), 0);
    CHECK_INT_EQ(nr_encoder_forward(&m.enc, wb, yb, hnb, cnb, xb, lens, NULL, NULL, Tb, Bb, NULL, NULL), 0);
    CHECK_INT_EQ(nr_encoder_backward(&m.enc, w1, g1, dx1, NULL, NULL, dy1, dhn1, NULL, NULL), 0);
    /* zero the loss weights of the other rows: then their gradient contributions are zero */
    for (int t = 0; t < Tb; t++)
        for (int b = 0; b < Bb; b += 2)
            memset(dyb + ((size_t)t * Bb + b) * O, 0, (size_t)O * 4);
    CHECK_INT_EQ(nr_encoder_backward(&m.enc, wb, gb, dxb, NULL, NULL, dyb, dhnb, NULL, NULL), 0);
    double e_y = 0, e_h = 0, e_dx = 0;
    int pad_zero = 1;
    for (int t = 0; t < Tb; t++) {
        const float *rb = yb + ((size_t)t * Bb + 1) * O;
        if (t < len1) {
            double e = max_rel(rb, y1 + (size_t)t * O, (size_t)O);
            e_y = e > e_y ? e : e_y;
            e = max_rel(dxb + ((size_t)t * Bb + 1) * I, dx1 + (size_t)t * I, (size_t)I);
            e_dx = e > e_dx ? e : e_dx;
        } else {
            for (int j = 0; j < O; j++)
                pad_zero &= rb[j] == 0.0f;
            for (int j = 0; j < I; j++)
                pad_zero &= dxb[((size_t)t * Bb + 1) * I + j] == 0.0f;
        }
    }
    for (int s = 0; s < S; s++) {
        double e = max_rel(hnb + ((size_t)s * Bb + 1) * H, hn1 + (size_t)s * H, (size_t)H);
        e_h = e > e_h ? e : e_h;
        if (cell == NR_CELL_LSTM) {
            e = max_rel(cnb + ((size_t)s * Bb + 1) * H, cn1 + (size_t)s * H, (size_t)H);
            e_h = e > e_h ? e : e_h;
        }
    }
    double e_g = max_rel(gb, g1, m.np);
    CHECK_MSG(e_y < 1e-5 && e_h < 1e-5, "%s masking: outputs differ (rel %g, states %g)",
              nr_cell_name(cell), e_y, e_h);
    CHECK_MSG(e_g < 1e-4 && e_dx < 1e-4, "%s masking: gradients differ (params %g, dx %g)",
              nr_cell_name(cell), e_g, e_dx);
    CHECK_MSG(pad_zero, "%s masking: padded output/dx rows not zero", nr_cell_name(cell));
    nr_encoder_ws_free(w1);
    nr_encoder_ws_free(wb);
    free(m.p);
    free(xb); free(x1); free(dy1); free(dyb); free(dhn1); free(dhnb); free(y1); free(yb);
    free(hn1); free(hnb); free(cn1); free(cnb); free(g1); free(gb); free(dx1); free(dxb);
}

/* one call over T=6 == two calls of 3 carrying the state */
static void test_streaming(int cell)
{
    const int I = 3, H = 5, T = 6, B = 2, L = 2;
    model m;
    make_model(&m, cell, L, 0, I, H, 21 + cell);
    nr_rng rng;
    nr_rng_seed(&rng, 8);
    float x[6 * 2 * 3], y[6 * 2 * 5], ya[3 * 2 * 5], yb2[3 * 2 * 5];
    float hn[2 * 2 * 5], cn[2 * 2 * 5], h1[2 * 2 * 5], c1[2 * 2 * 5], h2[2 * 2 * 5], c2[2 * 2 * 5];
    fill(x, sizeof x / 4, 1.0f, &rng);
    nr_encoder_ws *ws = nr_encoder_ws_create(&m.enc, T, B, 0, 1, NULL);
    CHECK_INT_EQ(nr_encoder_forward(&m.enc, ws, y, hn, cn, x, NULL, NULL, NULL, T, B, NULL, NULL), 0);
    CHECK_INT_EQ(nr_encoder_forward(&m.enc, ws, ya, h1, c1, x, NULL, NULL, NULL, 3, B, NULL, NULL), 0);
    CHECK_INT_EQ(nr_encoder_forward(&m.enc, ws, yb2, h2, c2, x + 3 * B * I, NULL, h1, c1, 3, B, NULL, NULL), 0);
    double e = fmax(max_rel(ya, y, sizeof ya / 4), max_rel(yb2, y + 3 * B * H, sizeof yb2 / 4));
    e = fmax(e, max_rel(h2, hn, sizeof hn / 4));
    if (cell == NR_CELL_LSTM)
        e = fmax(e, max_rel(c2, cn, sizeof cn / 4));
    CHECK_MSG(e < 1e-5, "%s streaming differs from one call (rel %g)", nr_cell_name(cell), e);
    (void)L;
    nr_encoder_ws_free(ws);
    free(m.p);
}

/* Resets (nr_encoder_ws_set_reset): 3 streams of T=8 with segments starting where reset is set,
 * 2 layers, bidirectional, on 2 threads, against every segment run as a sequence of its own from
 * zero states (1 thread): outputs, final states (forward: the last segment's; reverse: the first
 * segment's), parameter and input gradients (dout and dhn given to the matching pieces). */
static void test_resets(int cell)
{
    enum { I = 4, H = 5, L = 2, T = 8, B = 3 };
    /* segments: stream 0 [0,3) [3,8); stream 1 [0,1) [1,5) [5,6) [6,8); stream 2 [0,8) */
    static const uint8_t reset[T][B] = {{1, 1, 0}, {0, 1, 0}, {0, 0, 0}, {1, 0, 0},
                                        {0, 0, 0}, {0, 1, 0}, {0, 1, 0}, {0, 0, 0}};
    model m;
    make_model(&m, cell, L, 1, I, H, 41 + cell);
    int O = m.enc.out_size, S = L * 2;
    nr_rng rng;
    nr_rng_seed(&rng, 12);
    size_t nx = (size_t)T * B * I, ny = (size_t)T * B * O, ns = (size_t)S * B * H;
    float *x = malloc(nx * 4), *dy = malloc(ny * 4), *dhn = malloc(ns * 4), *dcn = malloc(ns * 4);
    fill(x, nx, 1.0f, &rng);
    fill(dy, ny, 1.0f, &rng);
    fill(dhn, ns, 1.0f, &rng);
    fill(dcn, ns, 1.0f, &rng);
    float *y = calloc(ny, 4), *hn = calloc(ns, 4), *cn = calloc(ns, 4), *g = calloc(m.np, 4), *dx = calloc(nx, 4);
    float *y1 = calloc(ny, 4), *hn1 = calloc(ns, 4), *cn1 = calloc(ns, 4), *g1 = calloc(m.np, 4),
          *dx1 = calloc(nx, 4);
    nr_encoder_ws *ws = nr_encoder_ws_create(&m.enc, T, B, 1, 2, NULL);
    nr_encoder_ws_set_reset(ws, &reset[0][0]);
    CHECK_INT_EQ(nr_encoder_forward(&m.enc, ws, y, hn, cn, x, NULL, NULL, NULL, T, B, NULL, NULL), 0);
    CHECK_INT_EQ(nr_encoder_backward(&m.enc, ws, g, dx, NULL, NULL, dy, dhn, cell == NR_CELL_LSTM ? dcn : NULL, NULL), 0);
    /* the pieces, one call each */
    nr_encoder_ws *w1 = nr_encoder_ws_create(&m.enc, T, 1, 1, 1, NULL);
    float xs[T * I], ys[T * 2 * H], dys[T * 2 * H], dxs[T * I], hs[S * H], cs[S * H], dhs[S * H], dcs[S * H];
    for (int b = 0; b < B; b++)
        for (int t0 = 0; t0 < T;) {
            int t1 = t0 + 1;
            while (t1 < T && !reset[t1][b])
                t1++;
            int n = t1 - t0, first = t0 == 0, last = t1 == T;
            for (int t = 0; t < n; t++) {
                memcpy(xs + t * I, x + ((size_t)(t0 + t) * B + b) * I, I * 4);
                memcpy(dys + t * O, dy + ((size_t)(t0 + t) * B + b) * O, (size_t)O * 4);
            }
            /* dhn: forward slots to the last piece, reverse slots to the first */
            for (int k = 0; k < S; k++) {
                int use = (k % 2 == 0) ? last : first;
                for (int j = 0; j < H; j++) {
                    dhs[k * H + j] = use ? dhn[((size_t)k * B + b) * H + j] : 0.0f;
                    dcs[k * H + j] = use ? dcn[((size_t)k * B + b) * H + j] : 0.0f;
                }
            }
            memset(dxs, 0, sizeof dxs);
            CHECK_INT_EQ(nr_encoder_forward(&m.enc, w1, ys, hs, cs, xs, NULL, NULL, NULL, n, 1, NULL, NULL), 0);
            CHECK_INT_EQ(nr_encoder_backward(&m.enc, w1, g1, dxs, NULL, NULL, dys, dhs,
                                             cell == NR_CELL_LSTM ? dcs : NULL, NULL), 0);
            for (int t = 0; t < n; t++) {
                memcpy(y1 + ((size_t)(t0 + t) * B + b) * O, ys + t * O, (size_t)O * 4);
                memcpy(dx1 + ((size_t)(t0 + t) * B + b) * I, dxs + t * I, I * 4);
            }
            for (int k = 0; k < S; k++)
                if ((k % 2 == 0) ? last : first) {
                    memcpy(hn1 + ((size_t)k * B + b) * H, hs + k * H, H * 4);
                    memcpy(cn1 + ((size_t)k * B + b) * H, cs + k * H, H * 4);
                }
            t0 = t1;
        }
    double e_y = fmax(max_rel(y, y1, ny), max_rel(hn, hn1, ns));
    if (cell == NR_CELL_LSTM)
        e_y = fmax(e_y, max_rel(cn, cn1, ns));
    double e_g = fmax(max_rel(g, g1, m.np), max_rel(dx, dx1, nx));
    CHECK_MSG(e_y < 1e-5, "%s resets: outputs/states differ from the pieces run alone (rel %g)", nr_cell_name(cell), e_y);
    CHECK_MSG(e_g < 1e-4, "%s resets: gradients differ from the pieces run alone (rel %g)", nr_cell_name(cell), e_g);
    /* and without the resets they differ (the test can fail) */
    nr_encoder_ws_set_reset(ws, NULL);
    CHECK_INT_EQ(nr_encoder_forward(&m.enc, ws, y, hn, cn, x, NULL, NULL, NULL, T, B, NULL, NULL), 0);
    CHECK_MSG(max_rel(y, y1, ny) > 1e-3, "%s: without resets the outputs equal the pieces'", nr_cell_name(cell));
    nr_encoder_ws_free(ws);
    nr_encoder_ws_free(w1);
    free(m.p);
    free(x); free(dy); free(dhn); free(dcn); free(y); free(hn); free(cn); free(g); free(dx);
    free(y1); free(hn1); free(cn1); free(g1); free(dx1);
}

static void test_threads(void)
{
    const int I = 16, H = 24, T = 9, B = 7;
    model m;
    make_model(&m, NR_CELL_LSTM, 2, 1, I, H, 31);
    nr_rng rng;
    nr_rng_seed(&rng, 9);
    size_t nx = (size_t)T * B * I, ny = (size_t)T * B * m.enc.out_size;
    float *x = malloc(nx * 4), *dy = malloc(ny * 4);
    fill(x, nx, 1.0f, &rng);
    fill(dy, ny, 1.0f, &rng);
    int lens[7] = {9, 3, 5, 9, 1, 8, 2};
    float *y[3], *g[3], *dx[3];
    int nth[3] = {2, 2, 1};
    for (int r = 0; r < 3; r++) {
        y[r] = calloc(ny, 4);
        g[r] = calloc(m.np, 4);
        dx[r] = calloc(nx, 4);
        nr_encoder_ws *ws = nr_encoder_ws_create(&m.enc, T, B, 1, nth[r], NULL);
        CHECK_INT_EQ(nr_encoder_forward(&m.enc, ws, y[r], NULL, NULL, x, lens, NULL, NULL, T, B, NULL, NULL), 0);
        CHECK_INT_EQ(nr_encoder_backward(&m.enc, ws, g[r], dx[r], NULL, NULL, dy, NULL, NULL, NULL), 0);
        nr_encoder_ws_free(ws);
    }
    CHECK_MSG(!memcmp(y[0], y[1], ny * 4) && !memcmp(g[0], g[1], m.np * 4) &&
                  !memcmp(dx[0], dx[1], nx * 4),
              "2 threads: two runs are not bit-identical");
    double e = fmax(max_rel(y[0], y[2], ny), fmax(max_rel(g[0], g[2], m.np), max_rel(dx[0], dx[2], nx)));
    CHECK_MSG(e < 1e-4, "1 vs 2 threads differ (rel %g)", e);
    for (int r = 0; r < 3; r++) {
        free(y[r]);
        free(g[r]);
        free(dx[r]);
    }
    free(x);
    free(dy);
    free(m.p);
}

/* One part of a batch for test_shared_packs: forward + backward on its own workspace. */
typedef struct {
    const model *m;
    nr_encoder_ws *ws;
    const float *x, *dy;
    const int *lens;
    int T, B;
    float *y, *g, *dx;
    int rc;
} part_run;

static void *run_part(void *arg)
{
    part_run *r = arg;
    size_t ny = (size_t)r->T * r->B * r->m->enc.out_size, nx = (size_t)r->T * r->B * r->m->enc.cfg.input_size;
    memset(r->y, 0, ny * 4);
    memset(r->g, 0, r->m->np * 4);
    memset(r->dx, 0, nx * 4);
    r->rc = nr_encoder_forward(&r->m->enc, r->ws, r->y, NULL, NULL, r->x, r->lens, NULL, NULL, r->T, r->B, NULL, NULL);
    if (!r->rc)
        r->rc = nr_encoder_backward(&r->m->enc, r->ws, r->g, r->dx, NULL, NULL, r->dy, NULL, NULL, NULL);
    return NULL;
}

/* T = 3: recurrences too short for a pack of their own take the shared one (nr_enc_ws_pack) */
static void test_shared_packs(int cell, int T)
{
    enum { W = 3, Bw = 8 };
    const int I = 64, H = 64;
    model m;
    make_model(&m, cell, 2, 1, I, H, 77);
    if (cell == NR_CELL_GRU) { /* reset-before: the second packed product (W_hn) too */
        nr_encoder_cfg cfg = m.enc.cfg;
        cfg.gru_reset_after = 0;
        CHECK_INT_EQ(nr_encoder_bind(&m.enc, &cfg, m.p, NULL), 0);
    }
    size_t O = (size_t)m.enc.out_size, nx = (size_t)T * Bw * I, ny = (size_t)T * Bw * O;
    nr_rng rng;
    nr_rng_seed(&rng, 5);
    float *x = malloc(W * nx * 4), *dy = malloc(W * ny * 4);
    fill(x, W * nx, 1.0f, &rng);
    fill(dy, W * ny, 1.0f, &rng);
    int lens[W][Bw];
    for (int w = 0; w < W; w++)
        for (int b = 0; b < Bw; b++)
            lens[w][b] = T - (w + b) % (T < 5 ? T : 5);
    nr_encoder_packs *pk = NULL;
    CHECK_INT_EQ(nr_encoder_packs_create(&pk, NULL), 0);
    part_run own[W], sh[W];
    for (int w = 0; w < W; w++) {
        for (int k = 0; k < 2; k++) {
            part_run *r = k ? &sh[w] : &own[w];
            r->m = &m;
            r->ws = nr_encoder_ws_create(&m.enc, T, Bw, 1, 1, NULL);
            r->x = x + w * nx;
            r->dy = dy + w * ny;
            r->lens = lens[w];
            r->T = T;
            r->B = Bw;
            r->y = malloc(ny * 4);
            r->g = malloc(m.np * 4);
            r->dx = malloc(nx * 4);
        }
        nr_encoder_ws_share_packs(sh[w].ws, pk);
    }
    /* round 0: as made; round 1: the weights changed, stale; round 2: changed again, no stale */
    for (int round = 0; round < 3; round++) {
        if (round > 0)
            for (size_t k = 0; k < m.np; k++)
                m.p[k] *= 0.9f;
        if (round == 1)
            nr_encoder_packs_stale(pk);
        unsigned long before = nr_encoder_packs_made(pk);
        pthread_t th[W];
        for (int w = 0; w < W; w++)
            run_part(&own[w]);
        for (int w = 0; w < W; w++)
            CHECK_INT_EQ(pthread_create(&th[w], NULL, run_part, &sh[w]), 0);
        for (int w = 0; w < W; w++)
            pthread_join(th[w], NULL);
        int same = 1;
        for (int w = 0; w < W; w++) {
            CHECK_INT_EQ(own[w].rc, 0);
            CHECK_INT_EQ(sh[w].rc, 0);
            same = same && !memcmp(own[w].y, sh[w].y, ny * 4) && !memcmp(own[w].g, sh[w].g, m.np * 4) &&
                   !memcmp(own[w].dx, sh[w].dx, nx * 4);
        }
        unsigned long made = nr_encoder_packs_made(pk) - before;
        printf("shared packs, %s, T = %d, round %d: %lu copies made for %d workspaces (kernel path %s)\n",
               nr_cell_name(cell), T, round, made, W, nr_kpath_name(nr_kpath()));
        if (round < 2) {
            CHECK_MSG(same, "%s round %d: shared packs change the results", nr_cell_name(cell), round);
        } else if (nr_encoder_packs_made(pk) > 0) {
            CHECK_MSG(!same, "%s: without the stale the old copies should have been used", nr_cell_name(cell));
            CHECK_INT_EQ(made, 0);
        }
    }
    /* where our packed kernel runs the recurrence (the paths with kernels), the copies are made
     * once per (layer, direction, kind) and stale, not once per workspace */
    if (nr_kgemm_use(nr_kpath(), 0, 1, Bw, m.enc.gates * H, H, 1))
        CHECK_MSG(nr_encoder_packs_made(pk) > 0, "no shared copy was made");
    for (int w = 0; w < W; w++)
        for (int k = 0; k < 2; k++) {
            part_run *r = k ? &sh[w] : &own[w];
            nr_encoder_ws_free(r->ws);
            free(r->y);
            free(r->g);
            free(r->dx);
        }
    nr_encoder_packs_free(pk);
    free(x);
    free(dy);
    free(m.p);
}

static void test_init(void)
{
    model a, b;
    nr_encoder_cfg cfg;
    nr_encoder_cfg_default(&cfg, 7, 6);
    size_t np = nr_encoder_param_count(&cfg);
    CHECK_INT_EQ(np, 4 * 6 * 7 + 4 * 6 * 6 + 2 * 4 * 6);
    for (int k = 0; k < 2; k++) {
        model *m = k ? &b : &a;
        m->p = calloc(np, 4);
        nr_rng rng;
        nr_rng_seed(&rng, 42);
        CHECK_INT_EQ(nr_encoder_bind(&m->enc, &cfg, m->p, NULL), 0);
        CHECK_INT_EQ(nr_encoder_init(&m->enc, &rng, NULL), 0);
    }
    CHECK(!memcmp(a.p, b.p, np * 4));
    const nr_rnn_slot *s = &a.enc.slot[0][0];
    /* W_hh (24,6): columns orthonormal */
    double worst = 0.0;
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
            double d = 0.0;
            for (int r = 0; r < 24; r++)
                d += (double)a.p[s->w_hh + r * 6 + i] * a.p[s->w_hh + r * 6 + j];
            worst = fmax(worst, fabs(d - (i == j)));
        }
    CHECK_MSG(worst < 1e-5, "W_hh columns not orthonormal (%g)", worst);
    /* Glorot limit sqrt(6/(7+24)) */
    float lim = sqrtf(6.0f / 31.0f), mx = 0.0f;
    for (int k = 0; k < 24 * 7; k++)
        mx = fmaxf(mx, fabsf(a.p[s->w_ih + k]));
    CHECK(mx <= lim && mx > 0.8f * lim);
    for (int k = 0; k < 24; k++) {
        CHECK(a.p[s->b_ih + k] == (k >= 6 && k < 12 ? 1.0f : 0.0f));
        CHECK(a.p[s->b_hh + k] == 0.0f);
    }
    nlprnn_error err;
    cfg.layers = 0;
    CHECK_INT_EQ(nr_encoder_param_count(&cfg), 0);
    CHECK_INT_EQ(nr_encoder_bind(&a.enc, &cfg, a.p, &err), NLPRNN_E_INVALID_ARG);
    CHECK(strstr(err.message, "layers") != NULL);
    cfg.layers = 1;
    CHECK_INT_EQ(nr_encoder_bind(&a.enc, &cfg, a.p, NULL), 0);
    nr_encoder_ws *ws = nr_encoder_ws_create(&a.enc, 4, 2, 0, 1, NULL);
    float x[5 * 3 * 7] = {0}, y[5 * 3 * 6];
    CHECK_INT_EQ(nr_encoder_forward(&a.enc, ws, y, NULL, NULL, x, NULL, NULL, NULL, 5, 2, NULL, &err),
                 NLPRNN_E_INVALID_ARG);
    int badlen[2] = {4, 0};
    CHECK_INT_EQ(nr_encoder_forward(&a.enc, ws, y, NULL, NULL, x, badlen, NULL, NULL, 4, 2, NULL, &err),
                 NLPRNN_E_INVALID_ARG);
    CHECK(strstr(err.message, "sequence 1") != NULL);
    float gdummy[1];
    CHECK_INT_EQ(nr_encoder_backward(&a.enc, ws, gdummy, NULL, NULL, NULL, NULL, NULL, NULL, &err),
                 NLPRNN_E_STATE);
    /* a workspace made for another configuration is refused */
    nr_encoder other;
    nr_encoder_cfg ocfg = cfg;
    ocfg.hidden = 7;
    float *op = calloc(nr_encoder_param_count(&ocfg), 4);
    CHECK_INT_EQ(nr_encoder_bind(&other, &ocfg, op, NULL), 0);
    CHECK_INT_EQ(nr_encoder_forward(&other, ws, y, NULL, NULL, x, NULL, NULL, NULL, 4, 2, NULL, &err),
                 NLPRNN_E_INVALID_ARG);
    CHECK(strstr(err.message, "another configuration") != NULL);
    free(op);
    nr_encoder_ws_free(ws);
    free(a.p);
    free(b.p);
}

static void test_optim(void)
{
    /* Adam, one step from zero state: p -= lr * g / (|g| + eps) (bias corrections cancel) */
    float p[3] = {1.0f, -2.0f, 0.5f}, g[3] = {0.5f, -0.25f, 0.0f};
    nr_optim o;
    nr_optim_cfg cfg;
    nr_optim_cfg_default(&cfg, NR_OPT_ADAM);
    CHECK_INT_EQ(nr_optim_init(&o, &cfg, 3, NULL), 0);
    nr_optim_step(&o, p, g, 0.1f);
    CHECK_NEAR(p[0], 0.9, 1e-6);
    CHECK_NEAR(p[1], -1.9, 1e-6);
    CHECK_NEAR(p[2], 0.5, 1e-9);
    CHECK_INT_EQ(o.step, 1);
    CHECK_INT_EQ(nr_optim_state_size(&o), 6);
    /* second step, same gradient: m̂ = g, v̂ = g^2 -> again lr */
    nr_optim_step(&o, p, g, 0.1f);
    CHECK_NEAR(p[0], 0.8, 1e-6);
    nr_optim_free(&o);
    /* AdamW: decoupled decay p -= lr wd p before the Adam step */
    float q[1] = {2.0f}, gq[1] = {1.0f};
    nr_optim_cfg_default(&cfg, NR_OPT_ADAMW);
    cfg.weight_decay = 0.5f;
    CHECK_INT_EQ(nr_optim_init(&o, &cfg, 1, NULL), 0);
    nr_optim_step(&o, q, gq, 0.1f);
    CHECK_NEAR(q[0], 2.0 - 0.1 * 0.5 * 2.0 - 0.1, 1e-6);
    nr_optim_free(&o);
    /* SGD momentum 0.9: v1 = g, v2 = 0.9 g + g */
    float r[1] = {0.0f}, gr[1] = {1.0f};
    nr_optim_cfg_default(&cfg, NR_OPT_SGD);
    cfg.momentum = 0.9f;
    CHECK_INT_EQ(nr_optim_init(&o, &cfg, 1, NULL), 0);
    nr_optim_step(&o, r, gr, 0.1f);
    nr_optim_step(&o, r, gr, 0.1f);
    CHECK_NEAR(r[0], -0.1 - 0.19, 1e-6);
    nr_optim_free(&o);
    cfg.momentum = 1.5f;
    CHECK_INT_EQ(nr_optim_init(&o, &cfg, 1, NULL), NLPRNN_E_INVALID_ARG);
    /* clipping */
    float c[2] = {3.0f, 4.0f};
    CHECK_NEAR(nr_clip_grad_norm(c, 2, 1.0), 5.0, 1e-9);
    CHECK_NEAR(c[0], 0.6, 1e-5);
    CHECK_NEAR(c[1], 0.8, 1e-5);
    float v[3] = {-2.0f, 0.5f, 3.0f};
    CHECK_INT_EQ(nr_clip_grad_value(v, 3, 1.0f), 2);
    CHECK(v[0] == -1.0f && v[1] == 0.5f && v[2] == 1.0f);
    /* schedules */
    nr_lr_schedule s = {NR_LR_COSINE, 1.0f, 0.0f, 10, 110};
    CHECK_NEAR(nr_lr_at(&s, 0), 0.1, 1e-7);
    CHECK_NEAR(nr_lr_at(&s, 9), 1.0, 1e-7);
    CHECK_NEAR(nr_lr_at(&s, 60), 0.5, 1e-6);
    CHECK_NEAR(nr_lr_at(&s, 110), 0.0, 1e-7);
    s.kind = NR_LR_LINEAR;
    CHECK_NEAR(nr_lr_at(&s, 35), 0.75, 1e-6);
    s.kind = NR_LR_CONSTANT;
    CHECK_NEAR(nr_lr_at(&s, 1000), 1.0, 0);
    /* slanted triangular (ULMFiT, cut_frac 0.1, ratio 32) over 1000 steps of peak 0.32: from
     * 0.01 up to 0.32 at step 100, then down to 0.01 at step 1000; min_lr is not used */
    nr_lr_schedule st = {NR_LR_STLR, 0.32f, 0.123f, 0, 1000};
    CHECK_NEAR(nr_lr_at(&st, 0), 0.01, 1e-7);
    CHECK_NEAR(nr_lr_at(&st, 50), 0.01 + 0.5 * 0.31, 1e-6);
    CHECK_NEAR(nr_lr_at(&st, 100), 0.32, 1e-6);
    CHECK_NEAR(nr_lr_at(&st, 550), 0.01 + 0.5 * 0.31, 1e-6);
    CHECK_NEAR(nr_lr_at(&st, 1000), 0.01, 1e-7);
    CHECK_NEAR(nr_lr_at(&st, 5000), 0.01, 1e-7); /* past the end: the floor */
    CHECK_NEAR(nr_lr_at_progress(&st, 0, 0.1), 0.32, 1e-6); /* following a time budget */
}

static void test_vec(void)
{
    char path[] = "/tmp/nlprnn_test_vec_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *txt = "3 2\nthe 0.5 -1\ncat 2 3e-1\nunknown 9 9\n";
    CHECK(write(fd, txt, strlen(txt)) == (ssize_t)strlen(txt));
    close(fd);
    float table[4 * 2] = {0};
    nr_embedding e;
    CHECK_INT_EQ(nr_embedding_bind(&e, 4, 2, 0, table, NULL), 0);
    const char *pieces[4] = {"<pad>", "cat", "dog", "the"};
    size_t matched = 0;
    nlprnn_error err;
    CHECK_INT_EQ(nr_embedding_load_vec_pieces(&e, path, pieces, 4, &matched, &err), 0);
    CHECK_INT_EQ(matched, 2);
    CHECK(table[2] == 2.0f && table[3] == 0.3f && table[6] == 0.5f && table[7] == -1.0f);
    CHECK(table[4] == 0.0f && table[0] == 0.0f);
    /* a bad number: file, line and byte offset in the message */
    FILE *fp = fopen(path, "w");
    fputs("the 0.5 -1\ncat 2 x3\n", fp);
    fclose(fp);
    CHECK_INT_EQ(nr_embedding_load_vec_pieces(&e, path, pieces, 4, NULL, &err), NLPRNN_E_FORMAT);
    CHECK_INT_EQ(err.line, 2);
    CHECK_INT_EQ(err.offset, 17);
    CHECK(strstr(err.message, ":2: byte 17: not a number") != NULL);
    fp = fopen(path, "w");
    fputs("the 0.5 -1 4\n", fp);
    fclose(fp);
    CHECK_INT_EQ(nr_embedding_load_vec_pieces(&e, path, pieces, 4, NULL, &err), NLPRNN_E_FORMAT);
    CHECK(strstr(err.message, "3 numbers after the token, expected 2") != NULL);
    fp = fopen(path, "w");
    fputs("10 3\nthe 0.5 -1 4\n", fp);
    fclose(fp);
    CHECK_INT_EQ(nr_embedding_load_vec_pieces(&e, path, pieces, 4, NULL, &err), NLPRNN_E_FORMAT);
    CHECK(strstr(err.message, "header says dimension 3") != NULL);
    unlink(path);
    CHECK_INT_EQ(nr_embedding_load_vec_pieces(&e, path, pieces, 4, NULL, &err), NLPRNN_E_IO);
}

static long minor_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

/* the shipped spacing model's shape: GRU, 2 bidirectional layers, input 64, hidden 128; its
 * context's workspace is 128 steps x 64 sequences (~33 MB) */
static void test_ws_lazy(void)
{
    const int I = 64, H = 128, T = 11, BIG_T = 128, BIG_B = 64;
    model m;
    make_model(&m, NR_CELL_GRU, 2, 1, I, H, 77);
    nr_rng rng;
    nr_rng_seed(&rng, 5);
    float *x = malloc(sizeof(float) * T * I), *y1 = malloc(sizeof(float) * T * 2 * H),
          *y2 = malloc(sizeof(float) * T * 2 * H);
    fill(x, (size_t)T * I, 1.0f, &rng);
    nr_encoder_ws *small = nr_encoder_ws_create(&m.enc, T, 1, 0, 1, NULL);
    CHECK(small != NULL);
    CHECK_INT_EQ(nr_encoder_forward(&m.enc, small, y1, NULL, NULL, x, NULL, NULL, NULL, T, 1, NULL, NULL), 0);
    /* the block: 2 dirs x T*B x 3H gates + T*B x 2H of layer 0's output, 4 bytes each */
    long pages = (long)BIG_T * BIG_B * (2 * 3 * H + 2 * H) * 4 / 4096;
    long f0 = minor_faults();
    nr_encoder_ws *big = nr_encoder_ws_create(&m.enc, BIG_T, BIG_B, 0, 1, NULL);
    CHECK(big != NULL);
    CHECK_INT_EQ(nr_encoder_forward(&m.enc, big, y2, NULL, NULL, x, NULL, NULL, NULL, T, 1, NULL, NULL), 0);
    long used = minor_faults() - f0;
    CHECK_MSG(used < pages / 4, "a %dx%d workspace used for %dx1 took %ld page faults (block: %ld pages)",
              BIG_T, BIG_B, T, used, pages);
    CHECK_MSG(!memcmp(y1, y2, sizeof(float) * T * 2 * H),
              "a large workspace computes other outputs than one of the exact size");
    nr_encoder_ws_free(big);
    nr_encoder_ws_free(small);
    free(x);
    free(y1);
    free(y2);
    free(m.p);
}

int main(void)
{
    for (int cell = NR_CELL_RNN; cell <= NR_CELL_GRU; cell++) {
        test_masking(cell);
        test_streaming(cell);
        test_resets(cell);
    }
    test_threads();
    test_shared_packs(NR_CELL_LSTM, 12);
    test_shared_packs(NR_CELL_GRU, 12);
    test_shared_packs(NR_CELL_LSTM, 3);
    test_shared_packs(NR_CELL_GRU, 3);
    test_init();
    test_optim();
    test_vec();
    test_ws_lazy();
    return nr_test_done("test_rnn");
}

/* tests/test_lstm_infer.c: the LSTM inference step of each kernel path (nr_klstm_infer,
 * models/kernels/kernels.h) gives the bits of the C step (models/lstm.c), which the golden
 * records of the shipped classifier depend on.
 *
 *   1. The avx512 step's exp, sigmoid and tanh (nr_klstm_act) against models/cells.h's nr_fexp,
 *      nr_fsigmoid, nr_ftanh: every 4099th float32 bit pattern (1,047,809 inputs: every sign,
 *      exponent, NaN and infinity) plus chosen values (the clamps and the 0.625 switch of tanh
 *      and the floats beside them, zeros, subnormals), bit for bit (a NaN only has to be a NaN).
 *      NLPRNN_TEST_EXHAUSTIVE=1 checks all 2^32 inputs instead (about 4 minutes of CPU).
 *   2. The step of every usable path against nr_lstm_row_forward_infer and the training step
 *      nr_lstm_row_forward (the same c and h): H = 1..300 (the 64-unit blocks, the 16-unit ones
 *      and a masked tail), pre-activations at scales 1e-3..1e3, with NaN, infinities and signed
 *      zeros in some rows; nothing written past H.
 *   3. nr_encoder_ws_keep_pack: a bidirectional LSTM's inference forwards on a workspace that keeps
 *      its packed W_hh and W_ih between calls give the bits of a fresh workspace's, call after
 *      call, on every path; and the packs really are kept (packed products counted): after W_hh
 *      and W_ih change (W_ih where the projection packs it), a keeping workspace still computes
 *      with the old packs (the contract: the weights must not change), and switching keeping off
 *      makes it pack again (the new weights' bits).
 *   4. nr_encoder_ws_set_pool_max: the maximum over time fused into the recurrence equals, bit for
 *      bit, the classifier's max pooling of a plain forward's outputs (q = y_0, then q = y_t > q ?
 *      y_t : q, t ascending), one and two directions, ragged lengths, on every path; also with NaN
 *      inputs at the first, a middle and the last step of some rows (the forward direction's NaN
 *      runs to the end, the backward one's to t = 0: both NaN rules of the fused pooling); a
 *      summed merge and a training workspace refuse it.
 * Without the avx512 path (another CPU) part 1 is skipped, said on stderr; parts 2-4 still check
 * the paths there are. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/cells.h"
#include "models/encoder.h"
#include "models/kernels/kernels.h"
#include "models/math.h"
#include "testutil.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
#define urand() nr_test_urand(&rng_state) /* [0, 1) */
#define same_bits nr_test_same_bits

static float ref_act(int which, float x)
{
    return which == 0 ? nr_fexp(x) : which == 1 ? nr_fsigmoid(x) : nr_ftanh(x);
}

/* 1. f over the bit patterns u = start, start + step, ... (and the chosen values) */
static void test_act(void)
{
    static const char *const names[3] = {"exp", "sigmoid", "tanh"};
    const char *ex = getenv("NLPRNN_TEST_EXHAUSTIVE");
    uint64_t step = ex && *ex == '1' ? 1 : 4099;
    size_t N = 1 << 16;
    float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float));
    CHECK(x && y);
    if (!x || !y || nr_klstm_act(0, y, x, 1) < 0) {
        if (x && y)
            fprintf(stderr, "test_lstm_infer: no avx512 path on this CPU: part 1 skipped\n");
        free(x);
        free(y);
        return;
    }
    static const float chosen[] = {0.0f, -0.0f, 1.0f, -1.0f, 87.0f, -87.0f, 88.0f, -88.0f, 44.0f,
                                   -44.0f, 0.625f, -0.625f, 1e-45f, -1e-45f, 1e-39f, 3e38f, -3e38f,
                                   87.33654f, -87.33654f, 88.72283f, 0.5f, 2.0f, 1e-7f};
    for (int which = 0; which < 3; which++) {
        long bad = 0, n_all = 0;
        /* the chosen values and their neighbours one ulp away */
        size_t n = 0;
        for (size_t i = 0; i < sizeof chosen / sizeof chosen[0]; i++)
            for (int d = -2; d <= 2; d++) {
                uint32_t u;
                memcpy(&u, &chosen[i], sizeof u);
                u += (uint32_t)d;
                memcpy(&x[n++], &u, sizeof u);
            }
        for (uint64_t base = 0;; base += (uint64_t)N * step) {
            for (uint64_t k = base; n < N && k < ((uint64_t)1 << 32); k += step) {
                uint32_t u = (uint32_t)k;
                memcpy(&x[n++], &u, sizeof u);
            }
            if (!n)
                break;
            nr_klstm_act(which, y, x, n);
            for (size_t i = 0; i < n; i++) {
                float r = ref_act(which, x[i]);
                if (!same_bits(r, y[i]) && bad++ < 5)
                    fprintf(stderr, "%s(%a): avx512 %a, C %a\n", names[which], (double)x[i],
                            (double)y[i], (double)r);
            }
            n_all += (long)n;
            n = 0;
            if (base + (uint64_t)N * step >= ((uint64_t)1 << 32))
                break;
        }
        CHECK_MSG(bad == 0, "%s: %ld of %ld inputs differ", names[which], bad, n_all);
        fprintf(stderr, "test_lstm_infer: %s: %ld inputs, %ld differ\n", names[which], n_all, bad);
    }
    free(x);
    free(y);
}

/* 2. the step of path p, H units, against the C steps */
static void test_step(int p, int H, float scale, int specials)
{
    size_t G = 4 * (size_t)H;
    float *g = malloc(G * sizeof(float)), *g2 = malloc(G * sizeof(float));
    float *gh = malloc(G * sizeof(float)), *b = malloc(G * sizeof(float));
    float *c0 = malloc((H + 16) * sizeof(float)), *c1 = malloc((H + 16) * sizeof(float));
    float *c2 = malloc((H + 16) * sizeof(float)), *h1 = malloc((H + 16) * sizeof(float));
    float *h2 = malloc((H + 16) * sizeof(float)), *h0 = malloc((H + 16) * sizeof(float));
    CHECK(g && g2 && gh && b && c0 && c1 && c2 && h1 && h2 && h0);
    if (!(g && g2 && gh && b && c0 && c1 && c2 && h1 && h2 && h0))
        goto out;
    for (size_t i = 0; i < G; i++) {
        g[i] = (urand() - 0.5f) * 2.0f * scale;
        gh[i] = (urand() - 0.5f) * scale;
        b[i] = (urand() - 0.5f) * 0.2f;
    }
    for (int j = 0; j < H + 16; j++) {
        c0[j] = c1[j] = c2[j] = j < H ? (urand() - 0.5f) * 4.0f * scale : 12345.0f;
        h0[j] = h1[j] = h2[j] = j < H ? 0.0f : 12345.0f;
    }
    if (specials) {
        float sp[] = {NAN, INFINITY, -INFINITY, -0.0f, 0.0f, 87.5f, -88.5f, 0.625f, -0.625f, 44.5f};
        for (size_t k = 0; k < sizeof sp / sizeof sp[0]; k++) {
            size_t i = (size_t)(urand() * (float)G);
            g[i] = sp[k];
            gh[i] = k % 2 ? -0.0f : 0.0f;
            if (k >= 3)
                c0[i % (size_t)H] = c1[i % (size_t)H] = c2[i % (size_t)H] = sp[k] * 0.5f;
        }
    }
    memcpy(g2, g, G * sizeof(float));
    nr_klstm_infer(p)(g, c1, h1, gh, b, H);
    nr_lstm_row_forward(g2, c0, h0, gh, b, H); /* the training step: gates written back to g2 */
    nr_lstm_row_forward_infer(g, c2, h2, gh, b, H);
    long bad = 0;
    for (int j = 0; j < H + 16; j++)
        bad += !same_bits(c1[j], c0[j]) || !same_bits(h1[j], h0[j]) || !same_bits(c1[j], c2[j]) ||
               !same_bits(h1[j], h2[j]);
    CHECK_MSG(bad == 0, "path %s, H %d, scale %g%s: %ld units differ", nr_kpath_name(p), H,
              (double)scale, specials ? ", with specials" : "", bad);
out:
    free(g);
    free(g2);
    free(gh);
    free(b);
    free(c0);
    free(c1);
    free(c2);
    free(h0);
    free(h1);
    free(h2);
}

/* out (T,B,2H) of a forward of enc on ws over x (T,B,I) with the lengths len */
static void forward(const nr_encoder *enc, nr_encoder_ws *ws, float *out, const float *x, const int *len,
                    int T, int B)
{
    nlprnn_error err;
    CHECK_INT_EQ(nr_encoder_forward(enc, ws, out, NULL, NULL, x, len, NULL, NULL, T, B, NULL, &err), 0);
}

/* 3. keeping the packed W_hh between calls, path p */
static void test_keep_pack(int p)
{
    enum { I = 16, H = 64, T = 12, B = 16 };
    nr_kpath_set(p);
    nr_encoder_cfg cfg;
    nr_encoder_cfg_default(&cfg, I, H);
    cfg.bidirectional = 1;
    nr_encoder enc;
    nr_rng rng;
    nr_rng_seed(&rng, 15);
    size_t np = nr_encoder_param_count(&cfg), n_out = (size_t)T * B * 2 * H;
    float *par = malloc(np * sizeof(float)), *x = malloc((size_t)T * B * I * sizeof(float));
    float *ref = malloc(n_out * sizeof(float)), *got = malloc(n_out * sizeof(float));
    int len[B];
    CHECK(par && x && ref && got);
    if (!par || !x || !ref || !got)
        goto out;
    CHECK_INT_EQ(nr_encoder_bind(&enc, &cfg, par, NULL), 0);
    CHECK_INT_EQ(nr_encoder_init(&enc, &rng, NULL), 0);
    for (size_t i = 0; i < (size_t)T * B * I; i++)
        x[i] = urand() * 2.0f - 1.0f;
    for (int b = 0; b < B; b++)
        len[b] = T - b % 5; /* ragged */
    nr_encoder_ws *fresh = nr_encoder_ws_create(&enc, T, B, 0, 1, NULL);
    nr_encoder_ws *keep = nr_encoder_ws_create(&enc, T, B, 0, 1, NULL);
    CHECK(fresh && keep);
    if (fresh && keep) {
        nr_encoder_ws_keep_pack(keep, 1);
        forward(&enc, fresh, ref, x, len, T, B);
        for (int call = 0; call < 3; call++) {
            long packed = nr_kgemm_count(1);
            forward(&enc, keep, got, x, len, T, B);
            CHECK_MSG(memcmp(ref, got, n_out * sizeof(float)) == 0, "path %s, call %d: kept pack differs",
                      nr_kpath_name(p), call);
            if (call == 2 && nr_kgemm_count(1) > packed) { /* the steps ran on a pack: is it kept? */
                /* W_hh of both directions changed, and W_ih too where the projection (T*B rows,
                 * one thread) packs it (nr_sgemm_packs: the kept pack of W_ih is used there) */
                int ih = nr_sgemm_packs(1, T * B, 4 * H, I);
                for (size_t k = 0; k < (size_t)4 * H * H; k++)
                    par[enc.slot[0][0].w_hh + k] *= 0.5f, par[enc.slot[0][1].w_hh + k] *= 0.5f;
                for (size_t k = 0; ih && k < (size_t)4 * H * I; k++)
                    par[enc.slot[0][0].w_ih + k] *= 0.5f, par[enc.slot[0][1].w_ih + k] *= 0.5f;
                forward(&enc, keep, got, x, len, T, B);
                CHECK_MSG(memcmp(ref, got, n_out * sizeof(float)) == 0,
                          "path %s: a kept pack is not used after W_hh%s changed", nr_kpath_name(p),
                          ih ? " and W_ih" : "");
                nr_encoder_ws_keep_pack(keep, 0);
                forward(&enc, keep, got, x, len, T, B);
                forward(&enc, fresh, ref, x, len, T, B);
                CHECK_MSG(memcmp(ref, got, n_out * sizeof(float)) == 0,
                          "path %s: keeping off did not pack the new W_hh%s", nr_kpath_name(p),
                          ih ? " and W_ih" : "");
                fprintf(stderr, "test_lstm_infer: path %s: the packed W_hh%s kept between calls\n",
                        nr_kpath_name(p), ih ? " and W_ih are" : " is");
            }
        }
    }
    nr_encoder_ws_free(fresh);
    nr_encoder_ws_free(keep);
out:
    free(par);
    free(x);
    free(ref);
    free(got);
    nr_kpath_set(-1);
}

/* 4. fused max pooling, path p, dirs 1 or 2 */
static void test_pool_max(int p, int bidir)
{
    enum { I = 8, H = 20, T = 9, B = 7 };
    nr_kpath_set(p);
    nr_encoder_cfg cfg;
    nr_encoder_cfg_default(&cfg, I, H);
    cfg.bidirectional = bidir;
    nr_encoder enc;
    nr_rng rng;
    nr_rng_seed(&rng, 16);
    int O = bidir ? 2 * H : H;
    size_t np = nr_encoder_param_count(&cfg), n_out = (size_t)T * B * O;
    float *par = malloc(np * sizeof(float)), *x = malloc((size_t)T * B * I * sizeof(float));
    float *out = malloc(n_out * sizeof(float)), *ref = malloc((size_t)B * O * sizeof(float));
    float *got = malloc((size_t)B * O * sizeof(float));
    int len[B] = {9, 9, 8, 6, 5, 1, 3};
    CHECK(par && x && out && ref && got);
    if (!par || !x || !out || !ref || !got)
        goto out;
    CHECK_INT_EQ(nr_encoder_bind(&enc, &cfg, par, NULL), 0);
    CHECK_INT_EQ(nr_encoder_init(&enc, &rng, NULL), 0);
    for (int nan = 0; nan <= 1; nan++) {
        for (size_t i = 0; i < (size_t)T * B * I; i++)
            x[i] = urand() * 4.0f - 2.0f;
        if (nan) { /* rows 1, 2, 3: NaN at the first, a middle and the last step */
            x[((size_t)0 * B + 1) * I] = NAN;
            x[((size_t)4 * B + 2) * I] = NAN;
            x[((size_t)5 * B + 3) * I] = NAN;
        }
        nr_encoder_ws *a = nr_encoder_ws_create(&enc, T, B, 0, 1, NULL), *f = nr_encoder_ws_create(&enc, T, B, 0, 1, NULL);
        CHECK(a && f);
        if (a && f) {
            forward(&enc, a, out, x, len, T, B);
            for (int b = 0; b < B; b++) /* the classifier's max pooling (pool_forward) */
                for (int o = 0; o < O; o++) {
                    float q = out[(size_t)b * O + o];
                    for (int t = 1; t < len[b]; t++) {
                        float r = out[((size_t)t * B + b) * O + o];
                        q = r > q ? r : q;
                    }
                    ref[(size_t)b * O + o] = q;
                }
            CHECK_INT_EQ(nr_encoder_ws_set_pool_max(&enc, f, got), 1);
            for (size_t i = 0; i < n_out; i++)
                out[i] = 7.0f;
            forward(&enc, f, out, x, len, T, B);
            CHECK_INT_EQ(nr_encoder_ws_set_pool_max(&enc, f, NULL), 0);
            long bad = 0, nans = 0, untouched = 0;
            for (int i = 0; i < B * O; i++) {
                bad += !same_bits(ref[i], got[i]);
                nans += ref[i] != ref[i];
            }
            for (size_t i = 0; i < n_out; i++)
                untouched += out[i] == 7.0f;
            CHECK_MSG(bad == 0, "path %s, dirs %d, NaN %d: %ld pooled values differ", nr_kpath_name(p),
                      bidir + 1, nan, bad);
            CHECK_MSG(nan ? nans > 0 && nans < B * O : nans == 0, "NaN %d: %ld NaN pooled values", nan, nans);
            CHECK_MSG(untouched == (long)n_out, "the outputs were written (%ld of %zu untouched)", untouched, n_out);
        }
        nr_encoder_ws_free(a);
        nr_encoder_ws_free(f);
    }
    if (bidir) { /* a summed merge, a training workspace: refused */
        nr_encoder_cfg c2 = cfg;
        c2.merge = NR_MERGE_SUM;
        nr_encoder e2;
        CHECK_INT_EQ(nr_encoder_bind(&e2, &c2, par, NULL), 0);
        nr_encoder_ws *w2 = nr_encoder_ws_create(&e2, T, B, 0, 1, NULL), *w3 = nr_encoder_ws_create(&enc, T, B, 1, 1, NULL);
        CHECK(w2 && w3);
        CHECK_INT_EQ(nr_encoder_ws_set_pool_max(&e2, w2, got), 0);
        CHECK_INT_EQ(nr_encoder_ws_set_pool_max(&enc, w3, got), 0);
        nr_encoder_ws_free(w2);
        nr_encoder_ws_free(w3);
    }
out:
    free(par);
    free(x);
    free(out);
    free(ref);
    free(got);
    nr_kpath_set(-1);
}

int main(void)
{
    test_act();
    static const int Hs[] = {1, 5, 15, 16, 17, 31, 48, 63, 64, 65, 100, 127, 128, 129, 192, 256, 300};
    for (int p = 0; p < NR_KPATH_COUNT; p++) {
        if (!nr_kpath_usable(p))
            continue;
        for (size_t i = 0; i < sizeof Hs / sizeof Hs[0]; i++)
            for (float scale = 1e-3f; scale < 2e3f; scale *= 10.0f)
                for (int sp = 0; sp < 2; sp++)
                    test_step(p, Hs[i], scale, sp);
    }
    for (int p = 0; p < NR_KPATH_COUNT; p++)
        if (nr_kpath_usable(p)) {
            test_keep_pack(p);
            test_pool_max(p, 0);
            test_pool_max(p, 1);
        }
    CHECK(nr_klstm_infer(NR_KPATH_PORTABLE) == nr_lstm_row_forward_infer);
    CHECK(nr_klstm_infer(NR_KPATH_AVX2) == nr_lstm_row_forward_infer);
    if (nr_kpath_usable(NR_KPATH_AVX512))
        CHECK(nr_klstm_infer(NR_KPATH_AVX512) != nr_lstm_row_forward_infer);
    return nr_test_done("test_lstm_infer");
}

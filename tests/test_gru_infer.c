/* tests/test_gru_infer.c: the GRU reset-after step of each kernel path (nr_kgru_after,
 * models/kernels/kernels.h) gives the bits of the C step (nr_gru_row_forward_after, models/gru.c)
 * in every output (h', hnl and the activated gates r,z,n written back into g), which the golden
 * records of the shipped spacing model depend on.
 *
 *   1. The step of every usable path against the C step: H = 1..300 (the 128-, 64- and 16-unit
 *      blocks and a masked tail), pre-activations at scales 1e-3..1e3, with NaN, infinities,
 *      signed zeros and values beside the clamps in some rows (also in h); nothing written past H.
 *   2. Encoder level: a 2-layer bidirectional reset-after GRU's inference forward (the path's step)
 *      equals, bit for bit, a training workspace's forward (always the C step) on the same path,
 *      ragged lengths, with and without NaN inputs.
 * (The step's exp, sigmoid and tanh are lstm_avx512.c's, checked by test_lstm_infer.) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/cells.h"
#include "models/encoder.h"
#include "models/kernels/kernels.h"
#include "testutil.h"

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
#define urand() nr_test_urand(&rng_state) /* [0, 1) */
#define same_bits nr_test_same_bits
#define differ nr_test_count_differ

/* 1. the step of path p, H units, against the C step */
static void test_step(int p, int H, float scale, int specials)
{
    size_t G = 3 * (size_t)H, P = 16; /* P sentinels past each array's end */
    float *g1 = malloc((G + P) * sizeof(float)), *g2 = malloc((G + P) * sizeof(float));
    float *gh = malloc(G * sizeof(float)), *b = malloc(G * sizeof(float));
    float *h1 = malloc((H + P) * sizeof(float)), *h2 = malloc((H + P) * sizeof(float));
    float *l1 = malloc((H + P) * sizeof(float)), *l2 = malloc((H + P) * sizeof(float));
    CHECK(g1 && g2 && gh && b && h1 && h2 && l1 && l2);
    if (!(g1 && g2 && gh && b && h1 && h2 && l1 && l2))
        goto out;
    for (size_t i = 0; i < G + P; i++) {
        g1[i] = i < G ? (urand() - 0.5f) * 2.0f * scale : 12345.0f;
        if (i < G) {
            gh[i] = (urand() - 0.5f) * scale;
            b[i] = (urand() - 0.5f) * 0.2f;
        }
    }
    for (size_t j = 0; j < (size_t)H + P; j++) {
        h1[j] = j < (size_t)H ? (urand() - 0.5f) * 2.0f : 12345.0f;
        l1[j] = l2[j] = 6789.0f;
    }
    if (specials) {
        float sp[] = {NAN, INFINITY, -INFINITY, -0.0f, 0.0f, 87.5f, -88.5f, 0.625f, -0.625f, 44.5f, 1e30f, -1e30f};
        for (size_t k = 0; k < sizeof sp / sizeof sp[0]; k++) {
            size_t i = (size_t)(urand() * (float)G);
            g1[i] = sp[k];
            gh[(i + 7) % G] = k % 2 ? -sp[k] : sp[k];
            if (k % 3 == 0)
                h1[i % (size_t)H] = sp[k];
        }
    }
    memcpy(g2, g1, (G + P) * sizeof(float));
    memcpy(h2, h1, (H + P) * sizeof(float));
    nr_kgru_after(p)(g1, l1, h1, gh, b, H);
    nr_gru_row_forward_after(g2, l2, h2, gh, b, H);
    long bad_h = differ(h1, h2, H + P), bad_l = differ(l1, l2, H + P), bad_g = differ(g1, g2, G + P);
    long past = (h1[H] != 12345.0f) + (l1[H + P - 1] != 6789.0f) + (g1[G] != 12345.0f);
    CHECK_MSG(bad_h == 0 && bad_l == 0 && bad_g == 0 && past == 0,
              "path %s, H %d, scale %g%s: h %ld, hnl %ld, gates %ld differ, %ld written past H",
              nr_kpath_name(p), H, (double)scale, specials ? ", with specials" : "", bad_h, bad_l, bad_g, past);
out:
    free(g1);
    free(g2);
    free(gh);
    free(b);
    free(h1);
    free(h2);
    free(l1);
    free(l2);
}

/* 2. an inference forward of a 2-layer bidirectional GRU (reset after) = a training forward */
static void test_encoder(int p, int H)
{
    enum { I = 24, T = 11, B = 9 };
    nr_kpath_set(p);
    nr_encoder_cfg cfg;
    nr_encoder_cfg_default(&cfg, I, H);
    cfg.cell = NR_CELL_GRU;
    cfg.gru_reset_after = 1;
    cfg.bidirectional = 1;
    cfg.layers = 2;
    nr_encoder enc;
    nr_rng rng;
    nr_rng_seed(&rng, 17);
    size_t np = nr_encoder_param_count(&cfg), n_out = (size_t)T * B * 2 * H;
    float *par = malloc(np * sizeof(float)), *x = malloc((size_t)T * B * I * sizeof(float));
    float *ref = malloc(n_out * sizeof(float)), *got = malloc(n_out * sizeof(float));
    int len[B] = {11, 11, 10, 7, 5, 1, 3, 9, 2};
    CHECK(par && x && ref && got);
    if (!par || !x || !ref || !got)
        goto out;
    CHECK_INT_EQ(nr_encoder_bind(&enc, &cfg, par, NULL), 0);
    CHECK_INT_EQ(nr_encoder_init(&enc, &rng, NULL), 0);
    for (int nan = 0; nan <= 1; nan++) {
        for (size_t i = 0; i < (size_t)T * B * I; i++)
            x[i] = (urand() * 2.0f - 1.0f) * (i % 7 == 0 ? 30.0f : 2.0f);
        if (nan)
            x[((size_t)3 * B + 1) * I + 2] = NAN, x[((size_t)0 * B + 4) * I] = INFINITY;
        nr_encoder_ws *inf = nr_encoder_ws_create(&enc, T, B, 0, 1, NULL);
        nr_encoder_ws *trn = nr_encoder_ws_create(&enc, T, B, 1, 1, NULL);
        CHECK(inf && trn);
        if (inf && trn) {
            nlprnn_error err;
            memset(ref, 0, n_out * sizeof(float));
            memset(got, 0, n_out * sizeof(float));
            CHECK_INT_EQ(nr_encoder_forward(&enc, trn, ref, NULL, NULL, x, len, NULL, NULL, T, B, NULL, &err), 0);
            CHECK_INT_EQ(nr_encoder_forward(&enc, inf, got, NULL, NULL, x, len, NULL, NULL, T, B, NULL, &err), 0);
            long bad = differ(ref, got, n_out), nans = 0;
            for (size_t i = 0; i < n_out; i++)
                nans += got[i] != got[i];
            CHECK_MSG(bad == 0, "path %s, H %d, NaN %d: %ld of %zu outputs differ (inference vs training)",
                      nr_kpath_name(p), H, nan, bad, n_out);
            CHECK_MSG(nan ? nans > 0 : nans == 0, "NaN %d: %ld NaN outputs", nan, nans);
        }
        nr_encoder_ws_free(inf);
        nr_encoder_ws_free(trn);
    }
out:
    free(par);
    free(x);
    free(ref);
    free(got);
    nr_kpath_set(-1);
}

int main(void)
{
    static const int Hs[] = {1, 5, 15, 16, 17, 31, 48, 63, 64, 65, 100, 127, 128, 129, 143, 144, 192, 255, 256, 257, 300};
    int usable = 0;
    for (int p = 0; p < NR_KPATH_COUNT; p++) {
        if (!nr_kpath_usable(p))
            continue;
        usable++;
        for (int H = 1; H <= 300; H++) /* every tail once */
            test_step(p, H, 1.0f, H % 2);
        for (size_t i = 0; i < sizeof Hs / sizeof Hs[0]; i++)
            for (float scale = 1e-3f; scale < 2e3f; scale *= 10.0f)
                for (int sp = 0; sp < 2; sp++)
                    test_step(p, Hs[i], scale, sp);
        test_encoder(p, 20);
        test_encoder(p, 128);
    }
    CHECK(usable > 0);
    CHECK(nr_kgru_after(NR_KPATH_PORTABLE) == nr_gru_row_forward_after);
    CHECK(nr_kgru_after(NR_KPATH_AVX2) == nr_gru_row_forward_after);
    if (nr_kpath_usable(NR_KPATH_AVX512))
        CHECK(nr_kgru_after(NR_KPATH_AVX512) != nr_gru_row_forward_after);
    else
        fprintf(stderr, "test_gru_infer: no avx512 path on this CPU: the C step's paths only\n");
    return nr_test_done("test_gru_infer");
}

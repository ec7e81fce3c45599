/* tests/test_lstm_infer.c: the LSTM inference step of each kernel path (nr_klstm_infer,
 * models/kernels/kernels.h) gives the bits of the C step (models/lstm.c), which the golden
 * records of the shipped classifier depend on.
 *
 *   1. The avx512 step's exp, sigmoid and tanh (nr_klstm_act) against models/cells.h's nr_fexp,
 *      nr_fsigmoid, nr_ftanh: every 4099th float32 bit pattern (1,047,809 inputs: every sign,
 *      exponent, NaN and infinity) plus chosen values (the clamps and the 0.625 switch of tanh
 *      and the floats beside them, zeros, subnormals), bit for bit (a NaN only has to be a NaN).
 *      NLPRNN_TEST_EXHAUSTIVE=1 checks all 2^32 inputs instead (about a minute).
 *   2. The step of every usable path against nr_lstm_row_forward_infer and the training step
 *      nr_lstm_row_forward (the same c and h): H = 1..300 (the 64-unit blocks, the 16-unit ones
 *      and a masked tail), pre-activations at scales 1e-3..1e3, with NaN, infinities and signed
 *      zeros in some rows; nothing written past H.
 * Without the avx512 path (another CPU) part 1 is skipped, said on stderr; part 2 still checks the
 * paths there are. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/cells.h"
#include "models/kernels/kernels.h"
#include "testutil.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static float urand(void) /* [0, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)(rng_state >> 40) / 16777216.0f;
}

static int same_bits(float a, float b)
{
    return (a != a && b != b) || memcmp(&a, &b, sizeof a) == 0;
}

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
    CHECK(nr_klstm_infer(NR_KPATH_PORTABLE) == nr_lstm_row_forward_infer);
    CHECK(nr_klstm_infer(NR_KPATH_AVX2) == nr_lstm_row_forward_infer);
    if (nr_kpath_usable(NR_KPATH_AVX512))
        CHECK(nr_klstm_infer(NR_KPATH_AVX512) != nr_lstm_row_forward_infer);
    return nr_test_done("test_lstm_infer");
}

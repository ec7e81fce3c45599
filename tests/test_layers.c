/* tests/test_layers.c: the public Keras-like layer API (nlprnn/layers.h), through nlprnn.h only.
 *   the chapter's example: SimpleRNN(4) on a [32, 10, 8] batch -> [32, 4]; with
 *   return_sequences -> [32, 10, 4]; the last output equals the last step of the sequence output;
 *   states [layers*dirs, batch, units]; bidirectional Keras semantics; streaming with states;
 *   training with MSE + Adam learns a small task (loss falls by 10x), SGD+clipping works too;
 *   backward through return_sequences=0 matches a finite difference; option and state errors.
 */
#include <stdlib.h>
#include <string.h>

#include "nlprnn.h"
#include "testutil.h"

static void fill(float *b, size_t n, unsigned *s)
{
    for (size_t k = 0; k < n; k++) {
        *s = *s * 1664525u + 1013904223u;
        b[k] = (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

static void test_keras_example(void)
{
    nlprnn_error err;
    float *x = malloc(32 * 10 * 8 * sizeof(float));
    unsigned s = 1;
    fill(x, 32 * 10 * 8, &s);
    nlprnn_layer *rnn = NULL;
    nlprnn_layer_create(NLPRNN_LAYER_SIMPLERNN, 8, 4, 42, &rnn, &err);
    CHECK(rnn != NULL);
    int dims[3];
    CHECK_INT_EQ(nlprnn_layer_output_shape(rnn, 32, 10, dims), 2);
    CHECK(dims[0] == 32 && dims[1] == 4);
    float out[32 * 4], seq[32 * 10 * 4], h[32 * 4];
    CHECK_INT_EQ(nlprnn_layer_forward(rnn, out, h, NULL, x, 32, 10, NULL, NULL, NULL, 0, &err), 0);
    CHECK_INT_EQ(nlprnn_layer_set_option(rnn, NLPRNN_LAYER_RETURN_SEQUENCES, 1, &err), 0);
    CHECK_INT_EQ(nlprnn_layer_output_shape(rnn, 32, 10, dims), 3);
    CHECK(dims[0] == 32 && dims[1] == 10 && dims[2] == 4);
    CHECK_INT_EQ(nlprnn_layer_forward(rnn, seq, NULL, NULL, x, 32, 10, NULL, NULL, NULL, 0, &err), 0);
    int same = 1, bounded = 1;
    for (int b = 0; b < 32; b++)
        for (int j = 0; j < 4; j++) {
            same &= out[b * 4 + j] == seq[(b * 10 + 9) * 4 + j] && h[b * 4 + j] == out[b * 4 + j];
            bounded &= fabsf(out[b * 4 + j]) < 1.0f;
        }
    CHECK_MSG(same, "last output != last step of the sequence output / final state");
    CHECK(bounded);
    CHECK_INT_EQ(nlprnn_layer_state_size(rnn, 32), 32 * 4);
    /* 8*4 + 4*4 + 4 + 4 weights, PyTorch layout */
    CHECK_INT_EQ(nlprnn_layer_param_count(rnn), 56);
    nlprnn_layer_free(rnn);
    free(x);
}

static void test_bidirectional_and_lengths(void)
{
    nlprnn_error err;
    enum { B = 3, T = 6, F = 5, U = 4 };
    float x[B * T * F];
    unsigned s = 7;
    fill(x, sizeof x / 4, &s);
    int lens[B] = {6, 2, 4};
    nlprnn_layer *l = NULL;
    nlprnn_layer_create(NLPRNN_LAYER_GRU, F, U, 3, &l, &err);
    CHECK_INT_EQ(nlprnn_layer_set_option(l, NLPRNN_LAYER_BIDIRECTIONAL, 1, &err), 0);
    CHECK_INT_EQ(nlprnn_layer_set_option(l, NLPRNN_LAYER_LAYERS, 2, &err), 0);
    CHECK_INT_EQ(nlprnn_layer_state_size(l, B), 2 * 2 * B * U);
    float last[B * 2 * U], seq[B * T * 2 * U], hs[2 * 2 * B * U];
    CHECK_INT_EQ(nlprnn_layer_forward(l, last, hs, NULL, x, B, T, lens, NULL, NULL, 0, &err), 0);
    CHECK_INT_EQ(nlprnn_layer_set_option(l, NLPRNN_LAYER_RETURN_SEQUENCES, 1, &err), 0);
    CHECK_INT_EQ(nlprnn_layer_forward(l, seq, NULL, NULL, x, B, T, lens, NULL, NULL, 0, &err), 0);
    int ok = 1;
    for (int b = 0; b < B; b++)
        for (int j = 0; j < U; j++) {
            ok &= last[b * 2 * U + j] == seq[(b * T + lens[b] - 1) * 2 * U + j];  /* forward */
            ok &= last[b * 2 * U + U + j] == seq[(b * T + 0) * 2 * U + U + j];    /* reverse */
            ok &= hs[(2 * B + b) * U + j] == last[b * 2 * U + j];                 /* top fwd state */
            ok &= hs[(3 * B + b) * U + j] == last[b * 2 * U + U + j];             /* top rev state */
            for (int t = lens[b]; t < T; t++)
                ok &= seq[(b * T + t) * 2 * U + j] == 0.0f;
        }
    CHECK_MSG(ok, "bidirectional last-step/state/padding semantics");
    int bad[B] = {6, 0, 4};
    CHECK_INT_EQ(nlprnn_layer_forward(l, seq, NULL, NULL, x, B, T, bad, NULL, NULL, 0, &err),
                 NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_layer_set_option(l, NLPRNN_LAYER_LAYERS, 0, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_layer_set_option(l, 99, 0, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_layer_backward(l, NULL, NULL, NULL, NULL, NULL, NULL, &err), NLPRNN_E_STATE);
    nlprnn_layer_free(l);
}

/* streaming: two calls of 3 steps carrying the LSTM state == one call of 6 */
static void test_streaming(void)
{
    nlprnn_error err;
    enum { B = 2, T = 6, F = 3, U = 5 };
    float x[B * T * F], xa[B * 3 * F], xb[B * 3 * F];
    unsigned s = 9;
    fill(x, sizeof x / 4, &s);
    for (int b = 0; b < B; b++) {
        memcpy(xa + b * 3 * F, x + b * T * F, 3 * F * 4);
        memcpy(xb + b * 3 * F, x + (b * T + 3) * F, 3 * F * 4);
    }
    nlprnn_layer *l = NULL;
    nlprnn_layer_create(NLPRNN_LAYER_LSTM, F, U, 5, &l, &err);
    float y[B * U], h[B * U], c[B * U], y2[B * U], h1[B * U], c1[B * U];
    CHECK_INT_EQ(nlprnn_layer_forward(l, y, h, c, x, B, T, NULL, NULL, NULL, 0, &err), 0);
    CHECK_INT_EQ(nlprnn_layer_forward(l, y2, h1, c1, xa, B, 3, NULL, NULL, NULL, 0, &err), 0);
    CHECK_INT_EQ(nlprnn_layer_forward(l, y2, h1, c1, xb, B, 3, NULL, h1, c1, 0, &err), 0);
    double e = 0;
    for (int k = 0; k < B * U; k++)
        e = fmax(e, fmax(fabs(y2[k] - y[k]), fabs(c1[k] - c[k])));
    CHECK_MSG(e < 1e-6, "stateful streaming differs by %g", e);
    nlprnn_layer_free(l);
}

/* a finite difference through the public API: loss = sum(out * r), d/dw along every 7th weight;
 * kind 0: LSTM; kind 1: bidirectional GRU (sum merge) with lengths; kind 2: bidirectional
 * 2-layer SimpleRNN (concat) */
static void test_backward_fd(int kind)
{
    nlprnn_error err;
    enum { B = 2, T = 4, F = 3, U = 3 };
    float x[B * T * F], r[B * 2 * U], out[B * 2 * U], dx[B * T * F] = {0};
    unsigned s = 11;
    fill(x, sizeof x / 4, &s);
    fill(r, sizeof r / 4, &s);
    int lens[B] = {4, 2}, *lp = kind == 1 ? lens : NULL;
    nlprnn_layer *l = NULL;
    nlprnn_layer_create(kind == 0 ? NLPRNN_LAYER_LSTM : kind == 1 ? NLPRNN_LAYER_GRU
                                                                        : NLPRNN_LAYER_SIMPLERNN,
                                          F, U, 8, &l, &err);
    if (kind > 0)
        CHECK_INT_EQ(nlprnn_layer_set_option(l, NLPRNN_LAYER_BIDIRECTIONAL, 1, &err), 0);
    if (kind == 1)
        CHECK_INT_EQ(nlprnn_layer_set_option(l, NLPRNN_LAYER_MERGE_SUM, 1, &err), 0);
    if (kind == 2)
        CHECK_INT_EQ(nlprnn_layer_set_option(l, NLPRNN_LAYER_LAYERS, 2, &err), 0);
    int dims[3];
    nlprnn_layer_output_shape(l, B, T, dims);
    int O = dims[1];
    size_t n = nlprnn_layer_param_count(l);
    float *w = malloc(n * 4);
    nlprnn_layer_get_weights(l, w, n, &err);
    CHECK_INT_EQ(nlprnn_layer_forward(l, out, NULL, NULL, x, B, T, lp, NULL, NULL, 1, &err), 0);
    CHECK_INT_EQ(nlprnn_layer_backward(l, dx, NULL, NULL, r, NULL, NULL, &err), 0);
    const float *g = nlprnn_layer_grad(l);
    int bad = 0;
    for (size_t k = 0; k < n; k += 7) {
        double lplus = 0, lm = 0, h = 1e-2;
        float keep = w[k];
        w[k] = keep + (float)h;
        nlprnn_layer_set_weights(l, w, n, &err);
        nlprnn_layer_forward(l, out, NULL, NULL, x, B, T, lp, NULL, NULL, 0, &err);
        for (int j = 0; j < B * O; j++)
            lplus += (double)out[j] * r[j];
        w[k] = keep - (float)h;
        nlprnn_layer_set_weights(l, w, n, &err);
        nlprnn_layer_forward(l, out, NULL, NULL, x, B, T, lp, NULL, NULL, 0, &err);
        for (int j = 0; j < B * O; j++)
            lm += (double)out[j] * r[j];
        w[k] = keep;
        double fd = (lplus - lm) / (2 * h);
        if (fabs(fd - g[k]) > 2e-3 + 1e-2 * fabs(fd)) {
            fprintf(stderr, "  kind %d weight %zu: analytic %g numeric %g\n", kind, k, (double)g[k], fd);
            bad++;
        }
    }
    CHECK_INT_EQ(bad, 0);
    nlprnn_layer_set_weights(l, w, n, &err);
    CHECK_INT_EQ(nlprnn_layer_set_weights(l, w, n - 1, &err), NLPRNN_E_INVALID_ARG);
    free(w);
    nlprnn_layer_free(l);
}

/* learn y = mean of the sequence's first feature, as the last output's first unit; returns the
 * final loss relative to the loss of the trivial all-zero prediction */
static double train(int kind, int opt_kind, int steps)
{
    nlprnn_error err;
    enum { B = 16, T = 8, F = 2, U = 8 };
    nlprnn_layer *l = NULL;
    nlprnn_layer_create(kind, F, U, 1, &l, &err);
    nlprnn_optimizer *o = NULL;
    nlprnn_optimizer_create(opt_kind, &o, &err);
    if (opt_kind == NLPRNN_OPT_SGD) {
        CHECK_INT_EQ(nlprnn_optimizer_set_option(o, NLPRNN_OPTIMIZER_LR, 0.3, &err), 0);
        CHECK_INT_EQ(nlprnn_optimizer_set_option(o, NLPRNN_OPTIMIZER_MOMENTUM, 0.9, &err), 0);
        CHECK_INT_EQ(nlprnn_optimizer_set_option(o, NLPRNN_OPTIMIZER_CLIP_NORM, 1.0, &err), 0);
    } else {
        CHECK_INT_EQ(nlprnn_optimizer_set_option(o, NLPRNN_OPTIMIZER_LR, 0.01, &err), 0);
    }
    float x[B * T * F], y[B * U];
    unsigned s = 3;
    double zero = 0, last = 0; /* zero: the loss of always predicting 0 */
    for (int it = 0; it < steps; it++) {
        fill(x, sizeof x / 4, &s);
        memset(y, 0, sizeof y);
        for (int b = 0; b < B; b++) {
            double m = 0;
            for (int t = 0; t < T; t++)
                m += x[(b * T + t) * F];
            for (int j = 0; j < U; j++)
                y[b * U + j] = (float)(j == 0 ? m / T : 0.0);
        }
        double loss;
        CHECK_INT_EQ(nlprnn_layer_train_step(l, o, x, B, T, NULL, y, &loss, &err), 0);
        if (it >= steps - 20) {
            last += loss / 20;
            for (int k = 0; k < B * U; k++)
                zero += (double)y[k] * y[k] / (B * U) / 20;
        }
    }
    nlprnn_optimizer_free(o);
    nlprnn_layer_free(l);
    return last / zero;
}

int main(void)
{
    test_keras_example();
    test_bidirectional_and_lengths();
    test_streaming();
    for (int kind = 0; kind < 3; kind++)
        test_backward_fd(kind);
    double r1 = train(NLPRNN_LAYER_LSTM, NLPRNN_OPT_ADAM, 400);
    double r2 = train(NLPRNN_LAYER_GRU, NLPRNN_OPT_ADAMW, 400);
    double r3 = train(NLPRNN_LAYER_LSTM, NLPRNN_OPT_SGD, 400);
    double r4 = train(NLPRNN_LAYER_SIMPLERNN, NLPRNN_OPT_ADAM, 400);
    printf("loss / zero-predictor loss: LSTM+Adam %.4f, GRU+AdamW %.4f, LSTM+SGD %.4f, "
           "SimpleRNN+Adam %.4f\n", r1, r2, r3, r4);
    CHECK_MSG(r1 < 0.1, "LSTM + Adam: loss is %.3f of the zero predictor's", r1);
    CHECK_MSG(r2 < 0.1, "GRU + AdamW: loss is %.3f of the zero predictor's", r2);
    CHECK_MSG(r3 < 0.1, "LSTM + SGD momentum + clipping: loss is %.3f of the zero predictor's", r3);
    /* a SimpleRNN learns this 8-step average more slowly; it must still beat the trivial answer */
    CHECK_MSG(r4 < 0.8, "SimpleRNN + Adam: loss is %.3f of the zero predictor's", r4);
    return nr_test_done("test_layers");
}

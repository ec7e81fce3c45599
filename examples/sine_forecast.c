/* examples/sine_forecast.c: the chapter's sine-wave forecaster, built from the layer API.
 *
 *   sine_forecast [--cell rnn|lstm|gru] [--units N] [--window T] [--epochs N] [--noise S]
 *                 [--seed N]
 *
 * The Keras model of the chapter,
 *     model = Sequential([LSTM(16, input_shape=(T, 1)), Dense(1)])
 *     model.compile(optimizer="adam", loss="mse")
 * written with libnlprnn: an nlprnn_layer (LSTM, 16 units, return_sequences = 0) maps a window
 * [batch, T, 1] to [batch, 16]; a dense head (16 -> 1) written out below maps that to the next
 * value. Training: forward (training = 1), the head's MSE gradient, nlprnn_layer_backward, one
 * Adam step for the layer (nlprnn_optimizer) and one for the head (a few lines here).
 *
 * The series is sin(2*pi*t/50) (+ optional Gaussian noise) for t = 0..999; windows of T steps
 * predict the value right after. The first 80% of windows train, the rest test. The program
 * prints the loss every 5 epochs and, at the end, the test RMSE of the model beside the RMSE of
 * persistence (predicting the window's last value). Uses only the installed public header. */
#include <nlprnn.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 1000
#define BATCH 32

static const double PI = 3.14159265358979323846;

/* A small seeded generator for the noise and the head's initial weights (xorshift64*). */
static uint64_t rng_state;
static double uniform(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}
static double normal(void) {
    double u = uniform(), v = uniform();
    return sqrt(-2.0 * log(u + 1e-300)) * cos(2.0 * PI * v);
}

/* Adam for the head's parameters (the layer has its own nlprnn_optimizer). */
typedef struct {
    float *m, *v;
    int t;
} adam;
static void adam_step(adam *a, float *p, const float *g, int n, float lr) {
    const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    a->t++;
    float c1 = 1.0f - powf(b1, (float)a->t), c2 = 1.0f - powf(b2, (float)a->t);
    for (int i = 0; i < n; i++) {
        a->m[i] = b1 * a->m[i] + (1 - b1) * g[i];
        a->v[i] = b2 * a->v[i] + (1 - b2) * g[i] * g[i];
        p[i] -= lr * (a->m[i] / c1) / (sqrtf(a->v[i] / c2) + eps);
    }
}

static int fail(const char *what, int rc, const nlprnn_error *err) {
    fprintf(stderr, "sine_forecast: %s: %s (%s)\n", what, err->message, nlprnn_status_name(rc));
    return 1;
}

int main(int argc, char **argv) {
    int kind = NLPRNN_LAYER_LSTM, units = 16, T = 20, epochs = 30;
    double noise = 0.0;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: %s [--cell rnn|lstm|gru] [--units N] [--window T] [--epochs N] "
                   "[--noise S] [--seed N]\n", argv[0]);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "sine_forecast: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--cell")) {
            kind = !strcmp(v, "rnn") ? NLPRNN_LAYER_SIMPLERNN
                   : !strcmp(v, "gru") ? NLPRNN_LAYER_GRU
                   : !strcmp(v, "lstm") ? NLPRNN_LAYER_LSTM : -1;
        } else if (!strcmp(a, "--units")) {
            units = atoi(v);
        } else if (!strcmp(a, "--window")) {
            T = atoi(v);
        } else if (!strcmp(a, "--epochs")) {
            epochs = atoi(v);
        } else if (!strcmp(a, "--noise")) {
            noise = atof(v);
        } else if (!strcmp(a, "--seed")) {
            seed = strtoull(v, NULL, 10);
        } else {
            fprintf(stderr, "sine_forecast: unknown option %s\n", a);
            return 2;
        }
    }
    if (kind < 0 || units < 1 || units > 1024 || T < 1 || T > 500 || epochs < 0 ||
        epochs > 10000 || !(noise >= 0)) {
        fprintf(stderr, "sine_forecast: option out of range (see --help)\n");
        return 2;
    }
    rng_state = seed * 0x9E3779B97F4A7C15ull + 1;

    /* The series and its windows: x [count, T, 1], y [count]. */
    static float series[N];
    for (int t = 0; t < N; t++) series[t] = (float)(sin(2 * PI * t / 50.0) + noise * normal());
    int count = N - T, ntrain = count * 8 / 10, ntest = count - ntrain;
    float *x = malloc(sizeof(float) * (size_t)count * (size_t)T);
    float *y = malloc(sizeof(float) * (size_t)count);
    float *h = malloc(sizeof(float) * BATCH * (size_t)units);  /* layer output [B, units] */
    float *dh = malloc(sizeof(float) * BATCH * (size_t)units); /* its gradient */
    float *head = calloc((size_t)units + 1, sizeof(float));     /* w [units], b */
    float *ghead = calloc((size_t)units + 1, sizeof(float));
    adam head_opt = {calloc((size_t)units + 1, sizeof(float)),
                     calloc((size_t)units + 1, sizeof(float)), 0};
    int *order = malloc(sizeof(int) * (size_t)ntrain);
    if (!x || !y || !h || !dh || !head || !ghead || !head_opt.m || !head_opt.v || !order) {
        fprintf(stderr, "sine_forecast: out of memory\n");
        return 1;
    }
    for (int i = 0; i < count; i++) {
        memcpy(x + (size_t)i * T, series + i, sizeof(float) * (size_t)T);
        y[i] = series[i + T];
    }
    for (int j = 0; j < units; j++) head[j] = (float)((uniform() * 2 - 1) / sqrt(units));

    /* The recurrent layer and its optimizer. */
    nlprnn_error err;
    nlprnn_layer *layer = NULL;
    nlprnn_layer_create(kind, 1, units, seed, &layer, &err);
    if (!layer) return fail("nlprnn_layer_create", err.code, &err);
    nlprnn_optimizer *opt = NULL;
    nlprnn_optimizer_create(NLPRNN_OPT_ADAM, &opt, &err);
    if (!opt) return fail("nlprnn_optimizer_create", err.code, &err);
    int rc = nlprnn_optimizer_set_option(opt, NLPRNN_OPTIMIZER_LR, 0.01, &err);
    if (!rc) rc = nlprnn_optimizer_set_option(opt, NLPRNN_OPTIMIZER_CLIP_NORM, 1.0, &err);
    if (rc) return fail("nlprnn_optimizer_set_option", rc, &err);
    printf("model: %s(%d) -> Dense(1), %zu + %d parameters, window %d, %d train / %d test "
           "windows\n", kind == NLPRNN_LAYER_LSTM ? "LSTM" : kind == NLPRNN_LAYER_GRU ? "GRU"
                                                                            : "SimpleRNN",
           units, nlprnn_layer_param_count(layer), units + 1, T, ntrain, ntest);

    for (int i = 0; i < ntrain; i++) order[i] = i;
    float *xb = malloc(sizeof(float) * BATCH * (size_t)T), yb[BATCH];
    if (!xb) return 1;
    for (int epoch = 1; epoch <= epochs; epoch++) {
        for (int i = ntrain - 1; i > 0; i--) { /* shuffle */
            int j = (int)(uniform() * (i + 1)), tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        double sum = 0;
        for (int first = 0; first < ntrain; first += BATCH) {
            int B = ntrain - first < BATCH ? ntrain - first : BATCH;
            for (int b = 0; b < B; b++) {
                memcpy(xb + (size_t)b * T, x + (size_t)order[first + b] * T, sizeof(float) * T);
                yb[b] = y[order[first + b]];
            }
            rc = nlprnn_layer_forward(layer, h, NULL, NULL, xb, B, T, NULL, NULL, NULL, 1, &err);
            if (rc) return fail("nlprnn_layer_forward", rc, &err);
            /* Dense head and MSE: p = h.w + b, loss = mean (p - y)^2. */
            memset(ghead, 0, sizeof(float) * ((size_t)units + 1));
            for (int b = 0; b < B; b++) {
                const float *hb = h + (size_t)b * units;
                float p = head[units];
                for (int j = 0; j < units; j++) p += hb[j] * head[j];
                float d = 2.0f * (p - yb[b]) / (float)B; /* d loss / d p */
                sum += (double)(p - yb[b]) * (p - yb[b]);
                for (int j = 0; j < units; j++) {
                    ghead[j] += d * hb[j];
                    dh[(size_t)b * units + j] = d * head[j];
                }
                ghead[units] += d;
            }
            rc = nlprnn_layer_backward(layer, NULL, NULL, NULL, dh, NULL, NULL, &err);
            if (!rc) rc = nlprnn_optimizer_step(opt, layer, NULL, &err);
            if (rc) return fail("backward/step", rc, &err);
            adam_step(&head_opt, head, ghead, units + 1, 0.01f);
        }
        if (epoch % 5 == 0 || epoch == epochs)
            printf("epoch %3d  train MSE %.6f\n", epoch, sum / ntrain);
    }

    /* Test RMSE of the model and of persistence (the window's last value). */
    double se = 0, se_persist = 0;
    for (int first = ntrain; first < count; first += BATCH) {
        int B = count - first < BATCH ? count - first : BATCH;
        rc = nlprnn_layer_forward(layer, h, NULL, NULL, x + (size_t)first * T, B, T, NULL, NULL,
                                  NULL, 0, &err);
        if (rc) return fail("nlprnn_layer_forward", rc, &err);
        for (int b = 0; b < B; b++) {
            float p = head[units];
            for (int j = 0; j < units; j++) p += h[(size_t)b * units + j] * head[j];
            double e = p - y[first + b], e0 = x[(size_t)(first + b) * T + T - 1] - y[first + b];
            se += e * e;
            se_persist += e0 * e0;
        }
    }
    printf("test RMSE: model %.4f, persistence %.4f\n", sqrt(se / ntest), sqrt(se_persist / ntest));

    nlprnn_optimizer_free(opt);
    nlprnn_layer_free(layer);
    free(x);
    free(y);
    free(h);
    free(dh);
    free(head);
    free(ghead);
    free(head_opt.m);
    free(head_opt.v);
    free(order);
    free(xb);
    return 0;
}

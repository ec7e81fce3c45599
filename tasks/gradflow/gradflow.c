/* tasks/gradflow/gradflow.c: the vanishing/exploding-gradient experiments behind `nlprnn gradflow`
 * (declared in nlprnn/forecast.h and tasks/gradflow/gradflow.h). */
#include "tasks/gradflow/gradflow.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "models/nn.h"

/* The network both gradient-flow experiments use: one encoder layer of `cell` (input size 1) and
 * a dense head to one output, in one flat block (params, grad: encoder first, then head); seeded
 * init with W_hh scaled by `gain`; a training workspace for (T, batch). */
typedef struct gf_net {
    nr_encoder enc;
    nr_dense head;
    nr_encoder_ws *ws;
    float *params, *grad; /* (ne + nd) */
    size_t ne, n;         /* encoder part, whole block */
} gf_net;

static void gf_net_free(gf_net *g) {
    nr_encoder_ws_free(g->ws);
    free(g->params);
    free(g->grad);
    memset(g, 0, sizeof *g);
}

static int gf_net_create(gf_net *g, int cell, int hidden, int T, int batch, double gain,
                         uint64_t seed, nlprnn_error *err) {
    memset(g, 0, sizeof *g);
    if (!isfinite(gain))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "gradflow: gain %g is not a finite number",
                       gain);
    nr_encoder_cfg cfg;
    nr_encoder_cfg_default(&cfg, 1, hidden);
    cfg.cell = cell;
    g->ne = nr_encoder_param_count(&cfg);
    if (!g->ne) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "gradflow: invalid cell %d", cell);
    g->n = g->ne + nr_dense_param_count(hidden, 1);
    g->params = nr_calloc_array(g->n, sizeof(float));
    g->grad = nr_calloc_array(g->n, sizeof(float));
    if (!g->params || !g->grad) {
        gf_net_free(g);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "gradflow: out of memory");
    }
    int rc = nr_encoder_bind(&g->enc, &cfg, g->params, err);
    if (rc) goto fail;
    nr_dense_bind(&g->head, hidden, 1, g->params + g->ne);
    nr_rng rng;
    nr_rng_seed(&rng, seed);
    rc = nr_encoder_init(&g->enc, &rng, err);
    if (rc) goto fail;
    nr_dense_init(&g->head, &rng);
    /* W_hh *= gain */
    size_t G = (size_t)g->enc.gates, H = (size_t)hidden;
    for (size_t i = 0; i < G * H * H; i++) g->params[g->enc.slot[0][0].w_hh + i] *= (float)gain;
    g->ws = nr_encoder_ws_create(&g->enc, T, batch, 1, 1, err);
    if (!g->ws) {
        rc = err && err->code ? err->code : NLPRNN_E_NOMEM;
        goto fail;
    }
    return NLPRNN_OK;
fail:
    gf_net_free(g);
    return rc;
}

/* dL/dh_k for k = T-t: run the encoder on x[0..k) to get (h_k, c_k), then on x[k..T) from that
 * state, backward from L(h_T) with dhn, and read dh0 = dL/dh_k (c_k held fixed: for the LSTM this
 * is the gradient through the hidden state, the cell state's own path is dc0). O(T^2) steps,
 * which for T in the hundreds and a small H is milliseconds. */
int nr_gradflow_norms(double *norms, int cell, int hidden, int T, int batch, double gain,
                      double gate_bias, uint64_t seed, nlprnn_error *err) {
    if (T < 2 || batch < 1 || hidden < 1 || !norms)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "gradflow: length >= 2, batch >= 1 and hidden >= 1 needed");
    gf_net g;
    int rc = gf_net_create(&g, cell, hidden, T, batch, gain, seed, err);
    if (rc) return rc;
    size_t H = (size_t)hidden, B = (size_t)batch, ne = g.ne;
    float *params = g.params, *grad = g.grad;
    nr_encoder *enc = &g.enc;
    nr_dense *head = &g.head;
    nr_encoder_ws *ws = g.ws;
    float *x = nr_malloc_array((size_t)T * B, sizeof(float)), *out = nr_malloc_array((size_t)T * B * H, sizeof(float));
    float *h = nr_malloc_array(B * H, sizeof(float)), *c = nr_malloc_array(B * H, sizeof(float));
    float *hT = nr_malloc_array(B * H, sizeof(float)), *dhT = nr_malloc_array(B * H, sizeof(float));
    float *dh0 = nr_malloc_array(B * H, sizeof(float)), *y = nr_malloc_array(B, sizeof(float));
    float *pred = nr_malloc_array(B, sizeof(float)), *dpred = nr_malloc_array(B, sizeof(float));
    if (!x || !out || !h || !c || !hT || !dhT || !dh0 || !y || !pred || !dpred) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "gradflow: out of memory");
        goto done;
    }
    /* the carry gate's input bias: LSTM forget gate f (block 1 of i,f,g,o), GRU update gate z
     * (block 1 of r,z,n); b_hh of that block is 0 at init */
    if (isfinite(gate_bias) && cell != NR_CELL_RNN)
        for (size_t i = 0; i < H; i++) params[enc->slot[0][0].b_ih + H + i] = (float)gate_bias;
    /* the same inputs and targets for every cell: a second stream from the seed */
    nr_rng data_rng;
    nr_rng_seed(&data_rng, seed ^ 0x9E3779B97F4A7C15ull);
    for (size_t i = 0; i < (size_t)T * B; i++) x[i] = nr_rng_normal(&data_rng);
    for (size_t b = 0; b < B; b++) y[b] = nr_rng_normal(&data_rng);
    /* dL/dh_T from the head and the MSE */
    rc = nr_encoder_forward(enc, ws, out, hT, NULL, x, NULL, NULL, NULL, T, batch, NULL, err);
    if (rc) goto done;
    nr_dense_forward(head, pred, hT, batch);
    nr_mse(dpred, pred, y, NULL, batch, NULL);
    memset(dhT, 0, B * H * sizeof(float));
    nr_dense_backward(head, grad + ne, dhT, dpred, hT, batch);
    for (int t = 0; t < T; t++) {
        int k = T - t; /* the state after k steps: h_k; the suffix has t steps */
        double sum = 0;
        if (t == 0) {
            memcpy(dh0, dhT, B * H * sizeof(float));
        } else {
            rc = nr_encoder_forward(enc, ws, out, h, cell == NR_CELL_LSTM ? c : NULL, x, NULL, NULL, NULL, k, batch, NULL, err);
            if (rc) goto done;
            rc = nr_encoder_forward(enc, ws, out, NULL, NULL, x + (size_t)k * B, NULL, h, cell == NR_CELL_LSTM ? c : NULL, t, batch, NULL, err);
            if (rc) goto done;
            memset(dh0, 0, B * H * sizeof(float));
            rc = nr_encoder_backward(enc, ws, grad, NULL, dh0, NULL, NULL, dhT, NULL, err);
            if (rc) goto done;
        }
        for (size_t b = 0; b < B; b++) sum += sqrt(nr_sumsq(dh0 + b * H, H));
        norms[t] = sum / (double)B;
    }
done:
    gf_net_free(&g);
    free(x), free(out), free(h), free(c), free(hT), free(dhT);
    free(dh0), free(y), free(pred), free(dpred);
    return rc;
}

/* Training on long sequences with plain SGD, with or without clipping by global norm.
 * Task: each sequence is a sine with a random phase and period (20..60 steps) plus N(0, 0.1^2)
 * noise; the target is the next value after step T. loss[s] and gnorm[s] (the norm before
 * clipping) for s = 0..steps-1. A step whose loss or gradient is not finite ends the run: the
 * rest of loss and gnorm is NaN and *diverged_at gets that step (else -1). */
int nr_gradflow_train(double *loss, double *gnorm, int *diverged_at, int cell, int hidden, int T,
                      int batch, double gain, double lr, double clip, int steps, uint64_t seed,
                      nlprnn_error *err) {
    if (T < 2 || batch < 1 || hidden < 1 || steps < 1 || !(lr > 0) || !isfinite(lr) ||
        !(clip >= 0) || !isfinite(clip) || !loss || !gnorm)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "gradflow: bad training arguments (length %d, batch %d, hidden %d, steps %d, "
                       "lr %g, clip %g%s)",
                       T, batch, hidden, steps, lr, clip, !loss || !gnorm ? ", a NULL output" : "");
    if (diverged_at) *diverged_at = -1;
    gf_net g;
    int rc = gf_net_create(&g, cell, hidden, T, batch, gain, seed, err);
    if (rc) return rc;
    size_t H = (size_t)hidden, B = (size_t)batch, ne = g.ne, n = g.n;
    float *params = g.params, *grad = g.grad;
    nr_encoder *enc = &g.enc;
    nr_dense *head = &g.head;
    nr_encoder_ws *ws = g.ws;
    float *x = nr_malloc_array((size_t)T * B, sizeof(float)), *out = nr_malloc_array((size_t)T * B * H, sizeof(float));
    float *hT = nr_malloc_array(B * H, sizeof(float)), *dhT = nr_malloc_array(B * H, sizeof(float));
    float *y = nr_malloc_array(B, sizeof(float)), *pred = nr_malloc_array(B, sizeof(float)),
          *dpred = nr_malloc_array(B, sizeof(float));
    if (!x || !out || !hT || !dhT || !y || !pred || !dpred) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "gradflow: out of memory");
        goto done;
    }
    nr_rng data_rng;
    nr_rng_seed(&data_rng, seed ^ 0x9E3779B97F4A7C15ull);
    int s = 0;
    for (; s < steps; s++) {
        for (size_t b = 0; b < B; b++) {
            double period = 20 + 40 * nr_rng_uniform(&data_rng), phase = 6.283185307179586 * nr_rng_uniform(&data_rng);
            for (int t = 0; t <= T; t++) {
                float v = (float)sin(phase + 6.283185307179586 * t / period) + 0.1f * nr_rng_normal(&data_rng);
                if (t < T) x[(size_t)t * B + b] = v; /* (T,B,1) */
                else y[b] = v;
            }
        }
        rc = nr_encoder_forward(enc, ws, out, hT, NULL, x, NULL, NULL, NULL, T, batch, NULL, err);
        if (rc) goto done;
        nr_dense_forward(head, pred, hT, batch);
        double l = nr_mse(dpred, pred, y, NULL, batch, NULL);
        memset(dhT, 0, B * H * sizeof(float));
        memset(grad, 0, n * sizeof(float));
        nr_dense_backward(head, grad + ne, dhT, dpred, hT, batch);
        rc = nr_encoder_backward(enc, ws, grad, NULL, NULL, NULL, NULL, dhT, NULL, err);
        if (rc) goto done;
        double gn = nr_clip_grad_norm(grad, n, clip);
        loss[s] = l;
        gnorm[s] = gn;
        if (!isfinite(l) || !isfinite(gn)) break;
        nr_axpy(params, (float)-lr, grad, n);
        int bad = 0;
        for (size_t i = 0; i < n && !bad; i++) bad = !isfinite(params[i]);
        if (bad) {
            s++;
            break;
        }
    }
    if (s < steps) {
        if (diverged_at) *diverged_at = s;
        for (; s < steps; s++) loss[s] = gnorm[s] = NAN;
    }
done:
    gf_net_free(&g);
    free(x), free(out), free(hT), free(dhT), free(y), free(pred), free(dpred);
    return rc;
}

int nlprnn_gradflow_norms(const char *cell, int hidden, int length, int batch, double gain,
                          double gate_bias, uint64_t seed, double *norms, nlprnn_error *err) {
    int c = nr_cell_from_name(cell);
    if (c < 0) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "gradflow: cell '%s' is not rnn, lstm or gru", cell ? cell : "(null)");
    return nr_gradflow_norms(norms, c, hidden, length, batch, gain, gate_bias, seed, err);
}

int nlprnn_gradflow_train(const char *cell, int hidden, int length, int batch, double gain,
                          double lr, double clip, int steps, uint64_t seed, double *loss,
                          double *grad_norm, int *diverged_at, nlprnn_error *err) {
    int c = nr_cell_from_name(cell);
    if (c < 0) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "gradflow: cell '%s' is not rnn, lstm or gru", cell ? cell : "(null)");
    return nr_gradflow_train(loss, grad_norm, diverged_at, c, hidden, length, batch, gain, lr, clip, steps, seed, err);
}

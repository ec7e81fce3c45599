/* tasks/forecast/forecaster.h: the recurrent forecaster (internal side of nlprnn/forecast.h).
 *
 *   scaled window x (W,B,F) -> encoder (SimpleRNN/LSTM/GRU, L layers) -> h_W of the last layer
 *   (B,H) -> dense (H -> 1) -> prediction (B) ; loss = MSE against the scaled target (B).
 *
 * Parameters live in one flat block: [encoder | dense]. The scaler (corpora/series.h) maps the
 * series' units to the model's and back; it is fitted on the training rows only.
 */
#ifndef NR_TASKS_FORECASTER_H
#define NR_TASKS_FORECASTER_H

#include <stdint.h>

#include "corpora/series.h"
#include "models/nn.h"
#include "nlprnn/forecast.h"

struct nlprnn_forecast_params {
    int cell;         /* nr_cell */
    int hidden, layers;
    int window, horizon, target;
    int scaler;       /* NR_SCALER_* */
    double train, valid;
    int epochs, batch;
    double lr, clip;
    int ma, patience, threads;
    int relative;     /* 1: windows and targets relative to the window's last row */
    uint64_t seed;
};

struct nlprnn_forecaster {
    struct nlprnn_forecast_params p; /* the settings it was trained with */
    int nfeat;
    char **names;      /* (nfeat) column names, the target is names[p.target] */
    nr_scaler sc;      /* (nfeat) */
    nr_encoder enc;
    nr_dense head;
    float *params;     /* (n_params) [encoder | dense] */
    size_t n_params, n_enc;
    int epochs;        /* epochs run (length of the history) */
    int best_epoch;    /* 1-based epoch whose weights were kept */
    double *hist_train, *hist_valid; /* (epochs) */
};

/* Defaults as documented in nlprnn/forecast.h. */
void nr_forecast_params_default(struct nlprnn_forecast_params *p);

/* ---- gradient flow through time (nlprnn gradflow) ------------------------------------------ */

/* ||dL/dh_{T-t}|| for t = 0..T-1 (norms (T)), the mean over `batch` sequences of the per-sequence
 * L2 norm; L = MSE of a dense head on h_T of a 1-layer encoder of `cell`, freshly initialised
 * (seed) with W_hh multiplied by gain; when gate_bias is finite, the input bias of the carry
 * gate (LSTM forget gate, GRU update gate) is set to it (NaN keeps the init: 1 and 0). Inputs:
 * standard-normal (T,batch,1), the same for every cell with the same seed. */
int nr_gradflow_norms(double *norms, int cell, int hidden, int T, int batch, double gain,
                      double gate_bias, uint64_t seed, nlprnn_error *err);

/* Plain-SGD training on long noisy sines (target: the next value), W_hh scaled by gain at init,
 * clipping by global norm when clip > 0: loss (steps), gnorm (steps, before clipping). When the
 * run diverges (a non-finite loss, gradient or weight) *diverged_at gets the step and the rest is
 * NaN; otherwise -1. */
int nr_gradflow_train(double *loss, double *gnorm, int *diverged_at, int cell, int hidden, int T,
                      int batch, double gain, double lr, double clip, int steps, uint64_t seed,
                      nlprnn_error *err);

#endif

/* tasks/gradflow/gradflow.h: gradient flow through time (`nlprnn gradflow`; internal side of the
 * gradflow part of nlprnn/forecast.h). */
#ifndef NR_TASKS_GRADFLOW_H
#define NR_TASKS_GRADFLOW_H

#include <stdint.h>

#include "nlprnn/forecast.h"

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

/* models/head.h: dense layer and losses (internal, not installed). The head is separate from the
 * encoder: the encoder never sees labels.
 *
 *   dense:                 y = x W^T + b            W (out,in), b (out); flat block [W | b]
 *   softmax cross-entropy: p = softmax(z), L = -log p[target], mean over counted rows
 *   sampled softmax:       the same over {target} ∪ S sampled classes, logits corrected by -log Q
 *   sigmoid BCE:           L = -(y log σ(z) + (1-y) log(1-σ(z))), computed stably from z
 *   mean squared error:    L = (pred - target)^2, mean over counted elements
 *
 * Losses return the mean loss (double) and WRITE (not accumulate) the gradient of that mean with
 * respect to their input (dlogits / dpred). Rows or elements that are ignored get gradient 0.
 * Backward of dense accumulates (+=) into the gradient slice and into dx.
 */
#ifndef NR_MODELS_HEAD_H
#define NR_MODELS_HEAD_H

#include <stddef.h>

#include "common/common.h"

/* ---- dense ------------------------------------------------------------------------------------ */

typedef struct nr_dense {
    int in, out;
    float *w; /* (out,in) */
    float *b; /* (out) */
} nr_dense;

size_t nr_dense_param_count(int in, int out); /* out*in + out */
/* Bind to params (W first, then b); a gradient block of the same size uses the same layout. */
void nr_dense_bind(nr_dense *d, int in, int out, float *params);
/* W Glorot uniform, b = 0. */
void nr_dense_init(const nr_dense *d, nr_rng *rng);
/* y (N,out) = x (N,in) W^T + b */
void nr_dense_forward(const nr_dense *d, float *y, const float *x, int N);
/* grad (out*in + out) += [dy^T x | colsum(dy)] ; dx (N,in) += dy W (dx optional).
 * x is the forward input, dy (N,out). */
void nr_dense_backward(const nr_dense *d, float *grad, float *dx, const float *dy, const float *x,
                       int N);

/* ---- softmax cross-entropy ------------------------------------------------------------------- */

/* logits (N,C), targets (N): rows with target < 0 are ignored (mask/padding). Writes probs-style
 * gradient dlogits (N,C) = (softmax - onehot) / count. *count (optional) = counted rows.
 * Returns the mean loss over counted rows (0 if none). dlogits may alias logits. */
double nr_softmax_xent(float *dlogits, const float *logits, const int *targets, int N, int C,
                       int *count);
/* The same for one part of a batch whose rows are split over several calls: dlogits divided by
 * the whole batch's counted rows, given as inv = 1 / count (so each row has the bits of one call
 * over the whole batch); returns this call's summed loss times inv; *count = this call's rows. */
double nr_softmax_xent_part(float *dlogits, const float *logits, const int *targets, int N, int C,
                            double inv, int *count);
/* Soft targets (distillation, Hinton et al. 2015): q (N,C) a probability distribution per row
 * (each row >= 0, summing to 1: the caller checks), temp (N) a temperature per row (NULL: 1).
 * Row n's loss is T^2 * -sum_c q[c] log softmax(z / T)[c] with T = temp[n] (the cross-entropy:
 * the KL divergence from q plus q's entropy; T^2 keeps the gradient's scale as T changes), and
 * dlogits (N,C) = T (softmax(z / T) - q) / N. With T = 1 and a one-hot q it is nr_softmax_xent.
 * Returns the mean loss over the N rows. dlogits may alias logits. */
double nr_softmax_xent_soft(float *dlogits, const float *logits, const float *q, const float *temp,
                            int N, int C);
/* argmax of each row: pred (N) */
void nr_argmax_rows(int *pred, const float *logits, int N, int C);
/* In-place softmax of each row of z (N,C). */
void nr_softmax_rows(float *z, int N, int C);

/* Sampled softmax for large vocabularies (training only; evaluate with the full softmax).
 * S negative classes are drawn once per call from a log-uniform (Zipf) distribution over 0..C-1
 * (ids ordered by falling frequency, as vocabularies are), shared by all rows:
 *     Q(k) = log((k+2)/(k+1)) / log(C+1)
 * Row i scores {target_i} ∪ samples with logits z_k = x_i·w_k + b_k - log(S·Q(k)); a sample equal
 * to the row's target is removed (logit -inf). Loss = mean over counted rows of -log p(target).
 * Gradients: grad (dense layout of d) += only on the rows of the target and sampled classes;
 * dx (N,in) += (optional). Any N works (rows go in chunks of max_N); d must have the in and C
 * the object was made for (else the result is NaN). */
typedef struct nr_sampled_softmax nr_sampled_softmax;
nr_sampled_softmax *nr_sampled_softmax_create(int max_N, int n_samples, int in, int C,
                                              nlprnn_error *err);
void nr_sampled_softmax_free(nr_sampled_softmax *s);
double nr_sampled_softmax_xent(nr_sampled_softmax *s, const nr_dense *d, float *grad, float *dx,
                               const float *x, const int *targets, int N, nr_rng *rng,
                               int *count);
/* The draw nr_sampled_softmax_xent makes first, alone: S classes into ids (S) from rng. */
void nr_sampled_softmax_draw(int *ids, int S, int C, nr_rng *rng);
/* One part of a batch whose rows are split over several calls (data-parallel training, one object
 * per part): nr_sampled_softmax_xent with the negatives given, ids (the object's S classes, drawn
 * once for the whole batch with nr_sampled_softmax_draw), and inv = 1 / the counted rows of the
 * whole batch in place of 1 / this call's. Every row's loss, dx and logit gradients then have the
 * bits of one call over the whole batch with that draw (grad is a sum over rows: its order
 * differs). Returns this call's summed loss times inv; *count (optional) = this call's counted
 * rows. */
double nr_sampled_softmax_xent_part(nr_sampled_softmax *s, const nr_dense *d, float *grad, float *dx,
                                    const float *x, const int *targets, int N, const int *ids,
                                    double inv, int *count);

/* ---- binary cross-entropy and MSE ------------------------------------------------------------ */

/* logits (N), targets (N) in [0,1], mask (N) optional (0 = ignore). Writes dlogits (N) =
 * (σ(z) - y) / count. Returns the mean loss. */
double nr_sigmoid_bce(float *dlogits, const float *logits, const float *targets, const float *mask,
                      int N, int *count);
/* pred, target, mask (N) (mask optional). Writes dpred (N) = 2 (pred - target) / count.
 * Returns the mean of the squared errors. */
double nr_mse(float *dpred, const float *pred, const float *target, const float *mask, int N,
              int *count);

#endif

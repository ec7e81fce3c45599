/* models/nn.h: everything a model (classifier, language model, forecaster) builds on.
 *
 *   math.h     CBLAS glue, activations, seeded initialisers, fork-join threads
 *   encoder.h  SimpleRNN / LSTM / GRU, stacked, bidirectional, masked; forward + backward
 *   head.h     dense layer, softmax / sampled softmax cross-entropy, sigmoid BCE, MSE
 *   optim.h    SGD(momentum) / Adam / AdamW over a flat block, clipping, LR schedules
 *   embed/embedding.h  embedding table (ids -> vectors, sparse gradient, .vec loading)
 *
 * The pattern (llm.c style): a model puts all its parameters in one float block, binds each layer
 * to a slice (nr_X_param_count / nr_X_bind), and keeps a gradient block of the same size; backward
 * functions accumulate (+=) into slices of it, the optimizer updates the whole block at once.
 * Example:
 *   size_t ne = nr_embedding_param_count(V, D), nenc = nr_encoder_param_count(&ecfg),
 *          nh = nr_dense_param_count(enc.out_size, C);
 *   float *p = calloc(ne + nenc + nh), *g = calloc(...same...);
 *   nr_embedding_bind(&emb, V, D, pad, p, err); nr_encoder_bind(&enc, &ecfg, p + ne, err);
 *   nr_dense_bind(&head, enc.out_size, C, p + ne + nenc);
 *   forward: nr_embedding_forward -> nr_encoder_forward -> pick last/pool -> nr_dense_forward
 *            -> nr_softmax_xent (writes dlogits)
 *   backward: nr_dense_backward(g + ne + nenc) -> nr_encoder_backward(g + ne) ->
 *             nr_embedding_backward(g); nr_clip_grad_norm; nr_optim_step; zero g.
 */
#ifndef NR_MODELS_NN_H
#define NR_MODELS_NN_H

#include "embed/embedding.h"
#include "models/encoder.h"
#include "models/head.h"
#include "models/math.h"
#include "models/optim.h"

/* Size limits shared by the trainers (the ranges of their parameters) and the loaders (a model
 * file whose configuration goes beyond one is refused with NLPRNN_E_FORMAT): a file can never ask
 * for a network that training could not have made. Layers: NR_ENCODER_MAX_LAYERS. */
#define NR_MAX_EMBED 4096        /* embedding size E */
#define NR_MAX_HIDDEN 4096       /* hidden units H per layer and direction */
#define NR_MAX_VOCAB 1000000     /* ids: the largest tokenizer vocabulary (tokenizer options) */
#define NR_CLF_MAX_TOKENS 65536  /* tokens a classifier reads of a document */

#endif

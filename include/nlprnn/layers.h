/* nlprnn/layers.h: Keras-like recurrent layers and optimizers (part of nlprnn.h).
 *
 * A layer is SimpleRNN, LSTM or GRU with `units` hidden units, optionally stacked and
 * bidirectional. It takes a batch-major array [batch, timesteps, features] (row-major floats, as a
 * Keras/NumPy array) and gives
 *     return_sequences = 0 (default): [batch, units']            the output at the last real step
 *     return_sequences = 1:           [batch, timesteps, units'] every step (0 at padded steps)
 * with units' = 2*units for a bidirectional layer with concatenated directions, else units.
 * With return_sequences = 0 and a bidirectional layer, the reverse direction contributes its output
 * at t = 0 (its last step), as Keras does. Final states [layers*dirs, batch, units] (Keras
 * return_state; index = layer*dirs + direction) are available from every call and can be passed
 * back as the initial state of the next call (stateful / streaming use).
 *
 *   // the chapter's example: an RNN layer of 4 units on a [32, 10, 8] batch
 *   nlprnn_layer *rnn = NULL;
 *   nlprnn_layer_create(NLPRNN_LAYER_SIMPLERNN, 8, 4, 42, &rnn, &err);
 *   float out[32 * 4];
 *   nlprnn_layer_forward(rnn, out, NULL, NULL, input, 32, 10, NULL, NULL, NULL, 0, &err); // [32, 4]
 *   nlprnn_layer_set_option(rnn, NLPRNN_LAYER_RETURN_SEQUENCES, 1, &err);
 *   float seq[32 * 10 * 4];
 *   nlprnn_layer_forward(rnn, seq, NULL, NULL, input, 32, 10, NULL, NULL, NULL, 0, &err); // [32, 10, 4]
 *
 * Weights are initialised from the seed (Glorot uniform input kernels, orthogonal recurrent
 * kernels, zero biases, LSTM forget-gate bias 1) and stored in PyTorch's layout and gate order
 * (LSTM i,f,g,o; GRU r,z,n): per layer and direction W_ih [gates*units, in], W_hh
 * [gates*units, units], b_ih, b_hh [gates*units]. docs/math.md gives the equations and the mapping
 * to Keras's kernels.
 *
 * Training: nlprnn_layer_forward(..., training=1, ...) keeps what backward needs;
 * nlprnn_layer_backward() accumulates parameter gradients; an nlprnn_optimizer applies them
 * (and zeroes them). nlprnn_layer_train_step() does the three for a mean-squared-error loss.
 *
 * Thread rule: a layer or optimizer belongs to one thread at a time (it holds scratch memory and
 * gradients). Different layers may be used by different threads at the same time.
 */
#ifndef NLPRNN_LAYERS_H
#define NLPRNN_LAYERS_H

#include "nlprnn/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A recurrent layer (opaque): weights, gradients and scratch memory. One thread at a time. */
typedef struct nlprnn_layer nlprnn_layer;
/** An optimizer (opaque) with its state (momentum / Adam moments), bound to one layer. */
typedef struct nlprnn_optimizer nlprnn_optimizer;

/** Cell kinds. */
typedef enum nlprnn_layer_kind {
    NLPRNN_LAYER_SIMPLERNN = 0, /**< h' = tanh(W_ih x + b_ih + W_hh h + b_hh) */
    NLPRNN_LAYER_LSTM = 1,
    NLPRNN_LAYER_GRU = 2
} nlprnn_layer_kind;

/** Layer options (nlprnn_layer_set_option). Options marked (*) change the weight shapes: setting
 *  them re-initialises the weights from the seed and clears gradients. */
typedef enum nlprnn_layer_option {
    NLPRNN_LAYER_RETURN_SEQUENCES = 0, /**< 0 (default) or 1 */
    NLPRNN_LAYER_LAYERS = 1,           /**< (*) stacked layers, 1..16 (default 1) */
    NLPRNN_LAYER_BIDIRECTIONAL = 2,    /**< (*) 0 (default) or 1 */
    NLPRNN_LAYER_MERGE_SUM = 3,        /**< (*) bidirectional: 0 = concatenate (default), 1 = sum */
    NLPRNN_LAYER_GRU_RESET_AFTER = 4,  /**< (*) GRU: 1 = PyTorch/cuDNN/Keras default, 0 = reset before */
    NLPRNN_LAYER_DROPOUT = 5,          /**< dropout between stacked layers in [0,1), training only */
    NLPRNN_LAYER_THREADS = 6           /**< threads per call, 1..16 (default 1) */
} nlprnn_layer_option;

/** Create a layer for inputs of `features` per step with `units` hidden units, weights
 *  initialised from `seed`. NLPRNN_E_INVALID_ARG for an unknown kind or sizes out of range. */
NLPRNN_API int nlprnn_layer_create(int kind, int features, int units, uint64_t seed,
                                   nlprnn_layer **out, nlprnn_error *err);
/** Free a layer; NULL is allowed. */
NLPRNN_API void nlprnn_layer_free(nlprnn_layer *layer);
/** Set an option (see nlprnn_layer_option). */
NLPRNN_API int nlprnn_layer_set_option(nlprnn_layer *layer, int option, double value,
                                       nlprnn_error *err);
/** Read an option's current value. */
NLPRNN_API double nlprnn_layer_get_option(const nlprnn_layer *layer, int option);

/** Output shape for a [batch, timesteps, features] input: writes dims (up to 3) and returns the
 *  number of dimensions (2 or 3). */
NLPRNN_API int nlprnn_layer_output_shape(const nlprnn_layer *layer, int batch, int timesteps,
                                         int dims[3]);
/** Number of floats of a state array: layers * dirs * batch * units. */
NLPRNN_API size_t nlprnn_layer_state_size(const nlprnn_layer *layer, int batch);

/** Run the layer.
 *  output       [batch, units'] or [batch, timesteps, units'] (see nlprnn_layer_output_shape)
 *  state_h/c    optional outputs [layers*dirs, batch, units] (state_c: LSTM only)
 *  input        [batch, timesteps, features]
 *  lengths      optional [batch]: real steps of each sequence (1..timesteps); the rest is padding
 *               and does not affect any output or gradient
 *  initial_h/c  optional initial states, same shape as state_h/c (NULL = zeros)
 *  training     1 = keep what nlprnn_layer_backward needs and apply dropout; 0 = inference */
NLPRNN_API int nlprnn_layer_forward(nlprnn_layer *layer, float *output, float *state_h,
                                    float *state_c, const float *input, int batch, int timesteps,
                                    const int *lengths, const float *initial_h,
                                    const float *initial_c, int training, nlprnn_error *err);
/** Backward of the last training forward: d_output has the output's shape (NULL = zeros),
 *  d_state_h/c the states' shape (optional). Accumulates parameter gradients in the layer;
 *  d_input ([batch, timesteps, features], optional) and d_initial_h/c (optional) receive += . */
NLPRNN_API int nlprnn_layer_backward(nlprnn_layer *layer, float *d_input, float *d_initial_h,
                                     float *d_initial_c, const float *d_output,
                                     const float *d_state_h, const float *d_state_c,
                                     nlprnn_error *err);
/** Set the accumulated gradients to zero. */
NLPRNN_API void nlprnn_layer_zero_grad(nlprnn_layer *layer);

/** Number of weights (PyTorch layout, see above). */
NLPRNN_API size_t nlprnn_layer_param_count(const nlprnn_layer *layer);
/** Copy the weights into dst (n must equal nlprnn_layer_param_count). */
NLPRNN_API int nlprnn_layer_get_weights(const nlprnn_layer *layer, float *dst, size_t n,
                                        nlprnn_error *err);
/** Replace the weights with src (n must equal nlprnn_layer_param_count). */
NLPRNN_API int nlprnn_layer_set_weights(nlprnn_layer *layer, const float *src, size_t n,
                                        nlprnn_error *err);
/** The accumulated gradient (param_count floats), read-only. */
NLPRNN_API const float *nlprnn_layer_grad(const nlprnn_layer *layer);

/* ---- optimizers -------------------------------------------------------------------------------- */

/** Optimizer kinds (nlprnn_optimizer_create). */
typedef enum nlprnn_optimizer_kind {
    NLPRNN_OPT_SGD = 0,  /**< SGD with optional (Nesterov) momentum */
    NLPRNN_OPT_ADAM = 1,
    NLPRNN_OPT_ADAMW = 2 /**< Adam with decoupled weight decay */
} nlprnn_optimizer_kind;

/** Optimizer options (nlprnn_optimizer_set_option). */
typedef enum nlprnn_optimizer_option {
    NLPRNN_OPTIMIZER_LR = 0,           /**< learning rate (default 0.01 SGD, 0.001 Adam/AdamW) */
    NLPRNN_OPTIMIZER_MOMENTUM = 1,     /**< SGD momentum in [0,1) (default 0) */
    NLPRNN_OPTIMIZER_NESTEROV = 2,     /**< SGD: 1 = Nesterov */
    NLPRNN_OPTIMIZER_BETA1 = 3,        /**< Adam (0.9) */
    NLPRNN_OPTIMIZER_BETA2 = 4,        /**< Adam (0.999) */
    NLPRNN_OPTIMIZER_EPSILON = 5,      /**< Adam (1e-8) */
    NLPRNN_OPTIMIZER_WEIGHT_DECAY = 6, /**< L2 (SGD/Adam) or decoupled (AdamW, default 0.01) */
    NLPRNN_OPTIMIZER_CLIP_NORM = 7,    /**< clip gradients to this global L2 norm (0 = off) */
    NLPRNN_OPTIMIZER_CLIP_VALUE = 8    /**< clip each gradient to [-v, v] (0 = off) */
} nlprnn_optimizer_option;

/** Create an optimizer of a kind (defaults as listed in nlprnn_optimizer_option). */
NLPRNN_API int nlprnn_optimizer_create(int kind, nlprnn_optimizer **out, nlprnn_error *err);
NLPRNN_API void nlprnn_optimizer_free(nlprnn_optimizer *opt); /**< NULL is allowed */
/** Set an option; state-shaping options must be set before the first step. */
NLPRNN_API int nlprnn_optimizer_set_option(nlprnn_optimizer *opt, int option, double value,
                                           nlprnn_error *err);
/** Apply the layer's accumulated gradient (clipping first if set) and zero it. The optimizer
 *  binds to the first layer it steps; stepping another layer is NLPRNN_E_STATE. *grad_norm
 *  (optional) receives the gradient norm before clipping. */
NLPRNN_API int nlprnn_optimizer_step(nlprnn_optimizer *opt, nlprnn_layer *layer, double *grad_norm,
                                     nlprnn_error *err);

/** One training step with a mean-squared-error loss between the layer's output and `target`
 *  (output's shape; padded steps are excluded): forward, backward, optimizer step.
 *  *loss (optional) receives the loss before the update. */
NLPRNN_API int nlprnn_layer_train_step(nlprnn_layer *layer, nlprnn_optimizer *opt,
                                       const float *input, int batch, int timesteps,
                                       const int *lengths, const float *target, double *loss,
                                       nlprnn_error *err);

#ifdef __cplusplus
}
#endif
#endif

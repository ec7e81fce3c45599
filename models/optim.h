/* models/optim.h: optimizers over the flat parameter block, clipping and learning-rate schedules
 * (internal, not installed).
 *
 *   SGD (momentum μ, optional Nesterov):  v = μ v + g ;  p -= lr * (nesterov ? g + μ v : v)
 *                                          (weight_decay wd adds wd * p to g first, L2 style)
 *   Adam:   g += wd * p (L2, if wd > 0) ; m = β1 m + (1-β1) g ; v = β2 v + (1-β2) g^2
 *           p -= lr * (m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + eps)
 *   AdamW:  as Adam without the L2 term, plus decoupled decay p -= lr * wd * p
 *           (Loshchilov & Hutter; PyTorch's AdamW)
 *
 * The state (m, v, step) is plain arrays so a checkpoint can save and restore it
 * (nr_optim_state_size / the public fields). Same inputs -> bit-identical updates.
 */
#ifndef NR_MODELS_OPTIM_H
#define NR_MODELS_OPTIM_H

#include <stddef.h>

#include "common/common.h"

typedef enum nr_optim_kind { NR_OPT_SGD = 0, NR_OPT_ADAM = 1, NR_OPT_ADAMW = 2 } nr_optim_kind;

typedef struct nr_optim_cfg {
    int kind;           /* nr_optim_kind */
    float lr;           /* base learning rate (the schedule scales it) */
    float momentum;     /* SGD: μ (0 = plain SGD) */
    int nesterov;       /* SGD: 1 = Nesterov momentum */
    float beta1, beta2; /* Adam/AdamW (0.9, 0.999) */
    float eps;          /* Adam/AdamW (1e-8) */
    float weight_decay; /* SGD/Adam: L2 added to the gradient; AdamW: decoupled */
} nr_optim_cfg;

/* Defaults: kind as given, lr 1e-3 (Adam/AdamW) or 0.01 (SGD), momentum 0, betas 0.9/0.999,
 * eps 1e-8, weight_decay 0 (0.01 for AdamW). */
void nr_optim_cfg_default(nr_optim_cfg *cfg, int kind);

typedef struct nr_optim {
    nr_optim_cfg cfg;
    size_t n;        /* number of parameters */
    long long step;  /* updates done so far (Adam bias correction uses step) */
    float *m;        /* (n) SGD velocity / Adam first moment (NULL for plain SGD) */
    float *v;        /* (n) Adam second moment (NULL for SGD) */
} nr_optim;

int nr_optim_init(nr_optim *o, const nr_optim_cfg *cfg, size_t n, nlprnn_error *err);
void nr_optim_free(nr_optim *o); /* frees m, v; NULL allowed */
/* Number of floats in the state arrays: 0, n (m) or 2n (m then v). */
size_t nr_optim_state_size(const nr_optim *o);

/* One update of params (n) from grad (n) with learning rate lr (usually nr_lr_at(...)).
 * Increments step. grad is not modified. */
void nr_optim_step(nr_optim *o, float *params, const float *grad, float lr);
/* Partial updates for a block with a sparse part (e.g. an embedding table), in one training step:
 *   nr_optim_step_range(o, p, g, begin, end, lr)   the update on elements [begin, end);
 *   nr_optim_step_rows(o, p, g, base, dim, rows, n_rows, lr)  the update on rows[0..n_rows) of a
 *       (rows,dim) matrix starting at element `base` ("lazy" Adam, like PyTorch's SparseAdam);
 *   then nr_optim_tick(o) once. Neither partial call increments step; both use step+1 for Adam's
 *   bias correction, as nr_optim_step does. */
void nr_optim_step_rows(nr_optim *o, float *params, const float *grad, size_t base, int dim,
                        const int *rows, size_t n_rows, float lr);
void nr_optim_step_range(nr_optim *o, float *params, const float *grad, size_t begin, size_t end,
                         float lr);
/* Advance the step counter (after partial updates with _rows/_range). */
void nr_optim_tick(nr_optim *o);

/* Scale grad (n) so that its global L2 norm is at most max_norm (if max_norm > 0).
 * Returns the norm before clipping. */
double nr_clip_grad_norm(float *grad, size_t n, double max_norm);
/* Clamp every element of grad (n) to [-clip, clip] (if clip > 0). Returns how many were clamped. */
size_t nr_clip_grad_value(float *grad, size_t n, float clip);

/* ---- learning-rate schedules ------------------------------------------------------------------ */

typedef enum nr_lr_kind { NR_LR_CONSTANT = 0, NR_LR_LINEAR = 1, NR_LR_COSINE = 2, NR_LR_STLR = 3 } nr_lr_kind;

/* Slanted triangular rates (Howard & Ruder 2018, ULMFiT): cut_frac and ratio of the paper. */
#define NR_STLR_CUT_FRAC 0.1
#define NR_STLR_RATIO 32.0

typedef struct nr_lr_schedule {
    int kind;          /* nr_lr_kind */
    float base_lr;     /* peak rate */
    float min_lr;      /* floor reached at total_steps (linear/cosine) */
    long long warmup;  /* steps of linear warm-up from 0 to base_lr (all kinds) */
    long long total;   /* total steps (linear/cosine decay from warmup to total) */
} nr_lr_schedule;

/* The rate for step s (0-based):
 *   s < warmup:  base_lr * (s+1) / warmup
 *   constant:    base_lr
 *   linear:      base_lr + (min_lr - base_lr) * p,           p = (s-warmup)/(total-warmup) in [0,1]
 *   cosine:      min_lr + (base_lr - min_lr) * (1 + cos(pi p)) / 2
 *   stlr:        base_lr * (1 + q (ratio - 1)) / ratio,  q = p / cut_frac while p < cut_frac, else
 *                1 - (p - cut_frac) / (1 - cut_frac)  (min_lr unused: the floor is base_lr / ratio;
 *                the paper's cut = floor(T cut_frac) with p = t / T, here without the floor) */
float nr_lr_at(const nr_lr_schedule *s, long long step);
/* The same after warm-up with the progress p = max((s-warmup)/(total-warmup), min_progress) (in
 * [0, 1]): a schedule that follows a time budget passes elapsed / budget as min_progress. */
float nr_lr_at_progress(const nr_lr_schedule *s, long long step, double min_progress);

#endif

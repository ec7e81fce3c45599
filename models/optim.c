/* models/optim.c: SGD(momentum) / Adam / AdamW over a flat block, clipping, LR schedules
 * (equations in models/optim.h). */
#include "models/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void nr_optim_cfg_default(nr_optim_cfg *cfg, int kind)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = kind;
    cfg->lr = kind == NR_OPT_SGD ? 0.01f : 1e-3f;
    cfg->beta1 = 0.9f;
    cfg->beta2 = 0.999f;
    cfg->eps = 1e-8f;
    cfg->weight_decay = kind == NR_OPT_ADAMW ? 0.01f : 0.0f;
}

int nr_optim_init(nr_optim *o, const nr_optim_cfg *cfg, size_t n, nlprnn_error *err)
{
    memset(o, 0, sizeof *o);
    if (!cfg || cfg->kind < NR_OPT_SGD || cfg->kind > NR_OPT_ADAMW)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "optimizer: unknown kind");
    if (!(cfg->lr >= 0.0f) || !(cfg->momentum >= 0.0f && cfg->momentum < 1.0f) ||
        !(cfg->beta1 >= 0.0f && cfg->beta1 < 1.0f) || !(cfg->beta2 >= 0.0f && cfg->beta2 < 1.0f) ||
        !(cfg->eps >= 0.0f) || !(cfg->weight_decay >= 0.0f))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "optimizer: lr %g, momentum %g, betas %g/%g, eps %g, weight decay %g: "
                       "out of range",
                       (double)cfg->lr, (double)cfg->momentum, (double)cfg->beta1,
                       (double)cfg->beta2, (double)cfg->eps, (double)cfg->weight_decay);
    o->cfg = *cfg;
    o->n = n;
    int need_m = cfg->kind != NR_OPT_SGD || cfg->momentum > 0.0f;
    int need_v = cfg->kind != NR_OPT_SGD;
    if (need_m && !(o->m = nr_big_calloc(n ? n : 1, sizeof(float))))
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "optimizer: out of memory (%zu floats)", n);
    if (need_v && !(o->v = nr_big_calloc(n ? n : 1, sizeof(float)))) {
        free(o->m);
        o->m = NULL;
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "optimizer: out of memory (%zu floats)", n);
    }
    return 0;
}

void nr_optim_free(nr_optim *o)
{
    if (!o)
        return;
    free(o->m);
    free(o->v);
    o->m = o->v = NULL;
}

size_t nr_optim_state_size(const nr_optim *o)
{
    return (o->m ? o->n : 0) + (o->v ? o->n : 0);
}

/* The update of elements [a, b) of params, with t = step + 1. */
static void update(nr_optim *o, float *p, const float *g, size_t a, size_t b, float lr)
{
    const nr_optim_cfg *c = &o->cfg;
    float wd = c->weight_decay;
    if (c->kind == NR_OPT_SGD) {
        float mu = c->momentum;
        for (size_t k = a; k < b; k++) {
            float gk = g[k] + wd * p[k];
            if (o->m) {
                o->m[k] = mu * o->m[k] + gk; // v = μ v + g
                gk = c->nesterov ? gk + mu * o->m[k] : o->m[k];
            }
            p[k] -= lr * gk;
        }
        return;
    }
    double t = (double)(o->step + 1);
    float b1 = c->beta1, b2 = c->beta2;
    float bc1 = (float)(1.0 - pow(b1, t)), bc2 = (float)(1.0 - pow(b2, t));
    float sbc2 = sqrtf(bc2);
    int decoupled = c->kind == NR_OPT_ADAMW;
    for (size_t k = a; k < b; k++) {
        float gk = decoupled ? g[k] : g[k] + wd * p[k];
        if (decoupled)
            p[k] -= lr * wd * p[k]; // p -= lr wd p (decoupled decay)
        o->m[k] = b1 * o->m[k] + (1.0f - b1) * gk;
        o->v[k] = b2 * o->v[k] + (1.0f - b2) * gk * gk;
        // p -= lr m̂ / (sqrt(v̂) + eps), m̂ = m / bc1, v̂ = v / bc2
        p[k] -= lr * (o->m[k] / bc1) / (sqrtf(o->v[k]) / sbc2 + c->eps);
    }
}

void nr_optim_step(nr_optim *o, float *params, const float *grad, float lr)
{
    update(o, params, grad, 0, o->n, lr);
    o->step++;
}

void nr_optim_step_range(nr_optim *o, float *params, const float *grad, size_t begin, size_t end,
                         float lr)
{
    if (end > o->n)
        end = o->n;
    if (begin < end)
        update(o, params, grad, begin, end, lr);
}

void nr_optim_step_rows(nr_optim *o, float *params, const float *grad, size_t base, int dim,
                        const int *rows, size_t n_rows, float lr)
{
    for (size_t r = 0; r < n_rows; r++) {
        size_t a = base + (size_t)rows[r] * dim;
        if (rows[r] >= 0 && a + dim <= o->n)
            update(o, params, grad, a, a + dim, lr);
    }
}

void nr_optim_tick(nr_optim *o)
{
    o->step++;
}

double nr_clip_grad_norm(float *grad, size_t n, double max_norm)
{
    double s = 0.0;
    for (size_t k = 0; k < n; k++)
        s += (double)grad[k] * grad[k];
    double norm = sqrt(s);
    if (max_norm > 0.0 && norm > max_norm) {
        float scale = (float)(max_norm / (norm + 1e-6));
        for (size_t k = 0; k < n; k++)
            grad[k] *= scale;
    }
    return norm;
}

size_t nr_clip_grad_value(float *grad, size_t n, float clip)
{
    size_t clamped = 0;
    if (!(clip > 0.0f))
        return 0;
    for (size_t k = 0; k < n; k++) {
        if (grad[k] > clip) {
            grad[k] = clip;
            clamped++;
        } else if (grad[k] < -clip) {
            grad[k] = -clip;
            clamped++;
        }
    }
    return clamped;
}

float nr_lr_at(const nr_lr_schedule *s, long long step)
{
    return nr_lr_at_progress(s, step, 0.0);
}

float nr_lr_at_progress(const nr_lr_schedule *s, long long step, double min_progress)
{
    if (step < 0)
        step = 0;
    if (s->warmup > 0 && step < s->warmup)
        return s->base_lr * (float)(step + 1) / (float)s->warmup;
    if (s->kind == NR_LR_CONSTANT)
        return s->base_lr;
    if (s->total <= s->warmup && min_progress <= 0.0)
        return s->base_lr;
    double p = s->total > s->warmup ? (double)(step - s->warmup) / (double)(s->total - s->warmup) : 0.0;
    if (p < min_progress)
        p = min_progress;
    p = p > 1.0 ? 1.0 : p;
    if (s->kind == NR_LR_LINEAR)
        return (float)(s->base_lr + (s->min_lr - s->base_lr) * p);
    if (s->kind == NR_LR_STLR) {
        /* up for the first cut_frac of training, then down; lowest rate base_lr / ratio */
        double q = p < NR_STLR_CUT_FRAC ? p / NR_STLR_CUT_FRAC : 1.0 - (p - NR_STLR_CUT_FRAC) / (1.0 - NR_STLR_CUT_FRAC);
        return (float)(s->base_lr * (1.0 + q * (NR_STLR_RATIO - 1.0)) / NR_STLR_RATIO);
    }
    return (float)(s->min_lr + (s->base_lr - s->min_lr) * (1.0 + cos(3.14159265358979323846 * p)) / 2.0);
}

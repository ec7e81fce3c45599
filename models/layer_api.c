/* models/layer_api.c: the public Keras-like layer and optimizer API (include/nlprnn/layers.h) on
 * top of the internal encoder. The API is batch-major [batch, timesteps, features]; the encoder is
 * time-major (T,B,I): inputs and outputs are transposed in scratch buffers that grow with the
 * largest shape seen and are then reused. */
#include "nlprnn/layers.h"

#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "models/nn.h"

struct nlprnn_layer {
    nr_encoder_cfg cfg;
    nr_encoder enc;
    uint64_t seed;
    int return_sequences, nthreads;
    float *params, *grad; /* (n_params) */
    /* scratch, grown on demand */
    nr_encoder_ws *ws;
    int ws_T, ws_B, ws_training;
    float *xt;   /* (T,B,I) time-major input */
    float *yt;   /* (T,B,O) time-major output */
    float *dyt;  /* (T,B,O) */
    float *dxt;  /* (T,B,I) */
    float *hn, *cn, *dhn; /* (L*dirs,B,H) */
    size_t cap_x, cap_y, cap_s, cap_t;
    float *ty, *tdy, *tmask; /* train_step: output, its gradient, loss mask (cap_t) */
    int *len;    /* (B) */
    int cap_len;
    nr_rng drop_rng;
    /* the last forward (for backward) */
    int T, B, fwd_training, have_len;
};

struct nlprnn_optimizer {
    nr_optim_cfg cfg;
    nr_optim opt;
    const nlprnn_layer *bound;
    double clip_norm, clip_value;
};

static int reinit(nlprnn_layer *l, nlprnn_error *err)
{
    size_t n = nr_encoder_param_count(&l->cfg);
    if (!n)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "layer: invalid configuration");
    float *p = nr_calloc_array(n, sizeof(float)), *g = nr_calloc_array(n, sizeof(float));
    if (!p || !g) {
        free(p);
        free(g);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "layer: out of memory (%zu weights)", n);
    }
    nr_encoder enc;
    int rc = nr_encoder_bind(&enc, &l->cfg, p, err);
    nr_rng rng;
    nr_rng_seed(&rng, l->seed);
    if (!rc)
        rc = nr_encoder_init(&enc, &rng, err);
    if (rc) {
        free(p);
        free(g);
        return rc;
    }
    free(l->params);
    free(l->grad);
    l->params = p;
    l->grad = g;
    l->enc = enc;
    nr_encoder_ws_free(l->ws);
    l->ws = NULL;
    l->ws_T = l->ws_B = 0;
    l->fwd_training = 0;
    nr_rng_seed(&l->drop_rng, l->seed ^ 0x9e3779b97f4a7c15ull);
    return 0;
}

int nlprnn_layer_create(int kind, int features, int units, uint64_t seed, nlprnn_layer **out,
                        nlprnn_error *err)
{
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "layer: out is NULL");
    *out = NULL;
    if (kind < NLPRNN_LAYER_SIMPLERNN || kind > NLPRNN_LAYER_GRU)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "layer: unknown kind %d", kind);
    nlprnn_layer *l = calloc(1, sizeof *l);
    if (!l) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "layer: out of memory");
    nr_encoder_cfg_default(&l->cfg, features, units);
    l->cfg.cell = kind; /* nlprnn_layer_kind values equal nr_cell values */
    l->seed = seed;
    l->nthreads = 1;
    int rc = reinit(l, err);
    if (rc) {
        free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void nlprnn_layer_free(nlprnn_layer *l)
{
    if (!l)
        return;
    nr_encoder_ws_free(l->ws);
    free(l->params);
    free(l->grad);
    free(l->xt);
    free(l->yt);
    free(l->dyt);
    free(l->dxt);
    free(l->hn);
    free(l->cn);
    free(l->dhn);
    free(l->len);
    free(l->ty);
    free(l->tdy);
    free(l->tmask);
    free(l);
}

int nlprnn_layer_set_option(nlprnn_layer *l, int option, double value, nlprnn_error *err)
{
    if (!l)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "layer set_option: NULL layer");
    nr_encoder_cfg c = l->cfg;
    int iv = (int)value;
    int is_int = (double)iv == value;
    switch (option) {
    case NLPRNN_LAYER_RETURN_SEQUENCES:
        if (!is_int || (iv != 0 && iv != 1))
            break;
        l->return_sequences = iv;
        return 0;
    case NLPRNN_LAYER_THREADS:
        if (!is_int || iv < 1 || iv > NR_MAX_THREADS)
            break;
        l->nthreads = iv;
        nr_encoder_ws_free(l->ws);
        l->ws = NULL;
        l->ws_T = l->ws_B = 0;
        l->fwd_training = 0;
        return 0;
    case NLPRNN_LAYER_DROPOUT:
        if (!(value >= 0.0 && value < 1.0))
            break;
        c.dropout = (float)value;
        if (nr_encoder_param_count(&c) == 0)
            break;
        l->cfg = c;
        l->enc.cfg.dropout = c.dropout;
        nr_encoder_ws_free(l->ws); /* masks may be needed now */
        l->ws = NULL;
        l->ws_T = l->ws_B = 0;
        l->fwd_training = 0;
        return 0;
    case NLPRNN_LAYER_LAYERS:
    case NLPRNN_LAYER_BIDIRECTIONAL:
    case NLPRNN_LAYER_MERGE_SUM:
    case NLPRNN_LAYER_GRU_RESET_AFTER:
        if (!is_int)
            break;
        if (option == NLPRNN_LAYER_LAYERS)
            c.layers = iv;
        else if (option == NLPRNN_LAYER_BIDIRECTIONAL)
            c.bidirectional = iv;
        else if (option == NLPRNN_LAYER_MERGE_SUM)
            c.merge = iv ? NR_MERGE_SUM : NR_MERGE_CONCAT;
        else
            c.gru_reset_after = iv != 0;
        if (nr_encoder_param_count(&c) == 0)
            break;
        {
            nr_encoder_cfg old = l->cfg;
            l->cfg = c;
            int rc = reinit(l, err);
            if (rc)
                l->cfg = old;
            return rc;
        }
    default:
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "layer: unknown option %d", option);
    }
    return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "layer: value %g out of range for option %d",
                   value, option);
}

double nlprnn_layer_get_option(const nlprnn_layer *l, int option)
{
    if (!l)
        return NAN;
    switch (option) {
    case NLPRNN_LAYER_RETURN_SEQUENCES: return l->return_sequences;
    case NLPRNN_LAYER_LAYERS: return l->cfg.layers;
    case NLPRNN_LAYER_BIDIRECTIONAL: return l->cfg.bidirectional;
    case NLPRNN_LAYER_MERGE_SUM: return l->cfg.merge == NR_MERGE_SUM;
    case NLPRNN_LAYER_GRU_RESET_AFTER: return l->cfg.gru_reset_after;
    case NLPRNN_LAYER_DROPOUT: return l->cfg.dropout;
    case NLPRNN_LAYER_THREADS: return l->nthreads;
    default: return -1.0;
    }
}

int nlprnn_layer_output_shape(const nlprnn_layer *l, int batch, int timesteps, int dims[3])
{
    if (!l || !dims)
        return 0;
    dims[0] = batch;
    if (l->return_sequences) {
        dims[1] = timesteps;
        dims[2] = l->enc.out_size;
        return 3;
    }
    dims[1] = l->enc.out_size;
    return 2;
}

size_t nlprnn_layer_state_size(const nlprnn_layer *l, int batch)
{
    if (!l || batch < 0)
        return 0;
    return (size_t)l->cfg.layers * l->enc.dirs * (size_t)batch * l->cfg.hidden;
}

/* Grow a set of buffers that share one capacity to n floats (contents are not kept). */
static int grow(size_t *cap, size_t n, float **a, float **b, float **c)
{
    if (n <= *cap)
        return 0;
    float **bufs[3] = {a, b, c};
    for (int k = 0; k < 3; k++) {
        if (!bufs[k])
            continue;
        float *q = realloc(*bufs[k], n * sizeof(float));
        if (!q)
            return -1;
        *bufs[k] = q;
    }
    *cap = n;
    return 0;
}

/* Make the scratch fit (T,B) and the training mode. */
static int prepare(nlprnn_layer *l, int T, int B, int training, nlprnn_error *err)
{
    if (!l->ws || T > l->ws_T || B > l->ws_B || (training && !l->ws_training)) {
        int nT = T > l->ws_T ? T : l->ws_T, nB = B > l->ws_B ? B : l->ws_B;
        int tr = training || l->ws_training;
        nr_encoder_ws *ws = nr_encoder_ws_create(&l->enc, nT, nB, tr, l->nthreads, err);
        if (!ws)
            return err ? err->code : NLPRNN_E_NOMEM;
        nr_encoder_ws_free(l->ws);
        l->ws = ws;
        l->ws_T = nT;
        l->ws_B = nB;
        l->ws_training = tr;
        l->fwd_training = 0;
    }
    size_t nx = (size_t)T * B * l->cfg.input_size, ny = (size_t)T * B * l->enc.out_size;
    if (grow(&l->cap_x, nx, &l->xt, &l->dxt, NULL) ||
        grow(&l->cap_y, ny, &l->yt, &l->dyt, NULL) ||
        grow(&l->cap_s, nlprnn_layer_state_size(l, B), &l->hn, &l->cn, &l->dhn))
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "layer: out of memory for batch %d x %d", B, T);
    if (B > l->cap_len) {
        int *q = realloc(l->len, (size_t)B * sizeof(int));
        if (!q)
            return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "layer: out of memory");
        l->len = q;
        l->cap_len = B;
    }
    return 0;
}

int nlprnn_layer_forward(nlprnn_layer *l, float *output, float *state_h, float *state_c,
                         const float *input, int batch, int timesteps, const int *lengths,
                         const float *initial_h, const float *initial_c, int training,
                         nlprnn_error *err)
{
    if (!l || !output || !input)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "layer forward: NULL argument");
    if (batch < 1 || timesteps < 1)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "layer forward: batch %d and timesteps %d must be >= 1", batch, timesteps);
    int rc = prepare(l, timesteps, batch, training, err);
    if (rc)
        return rc;
    int T = timesteps, B = batch, I = l->cfg.input_size, O = l->enc.out_size, H = l->cfg.hidden;
    for (int b = 0; b < B; b++) {
        int len = lengths ? lengths[b] : T;
        if (len < 1 || len > T)
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                           "layer forward: length %d of sequence %d not in 1..%d", len, b, T);
        l->len[b] = len;
    }
    /* [B,T,I] -> (T,B,I) */
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            memcpy(l->xt + ((size_t)t * B + b) * I, input + ((size_t)b * T + t) * I,
                   sizeof(float) * I);
    rc = nr_encoder_forward(&l->enc, l->ws, l->yt, l->hn, l->cn, l->xt, l->len, initial_h,
                            initial_c, T, B, training ? &l->drop_rng : NULL, err);
    if (rc)
        return rc;
    if (l->return_sequences) {
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                memcpy(output + ((size_t)b * T + t) * O, l->yt + ((size_t)t * B + b) * O,
                       sizeof(float) * O);
    } else {
        /* forward direction at t = len-1, reverse direction at t = 0 (Keras) */
        for (int b = 0; b < B; b++) {
            float *o = output + (size_t)b * O;
            memcpy(o, l->yt + ((size_t)(l->len[b] - 1) * B + b) * O, sizeof(float) * O);
            if (l->enc.dirs == 2) {
                const float *y0 = l->yt + (size_t)b * O;
                if (l->cfg.merge == NR_MERGE_CONCAT)
                    memcpy(o + H, y0 + H, sizeof(float) * H);
                else { /* sum: fwd part of row len-1 plus reverse part of row 0, from states */
                    const float *hf = l->hn + ((size_t)(l->cfg.layers - 1) * 2 * B + b) * H;
                    const float *hb = l->hn + ((size_t)((l->cfg.layers - 1) * 2 + 1) * B + b) * H;
                    for (int j = 0; j < H; j++)
                        o[j] = hf[j] + hb[j];
                }
            }
        }
    }
    size_t ns = nlprnn_layer_state_size(l, B);
    if (state_h)
        memcpy(state_h, l->hn, ns * sizeof(float));
    if (state_c)
        memcpy(state_c, l->cfg.cell == NR_CELL_LSTM ? l->cn : l->hn, ns * sizeof(float));
    l->T = T;
    l->B = B;
    l->fwd_training = training ? 1 : 0;
    return 0;
}

int nlprnn_layer_backward(nlprnn_layer *l, float *d_input, float *d_initial_h, float *d_initial_c,
                          const float *d_output, const float *d_state_h, const float *d_state_c,
                          nlprnn_error *err)
{
    if (!l)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "layer backward: NULL layer");
    if (!l->fwd_training)
        return nr_fail(err, NLPRNN_E_STATE, -1, -1,
                       "layer backward: needs a forward call with training = 1 first");
    int T = l->T, B = l->B, I = l->cfg.input_size, O = l->enc.out_size, H = l->cfg.hidden;
    size_t ns = nlprnn_layer_state_size(l, B);
    memset(l->dyt, 0, sizeof(float) * (size_t)T * B * O);
    const float *dhn = d_state_h;
    if (d_output && l->return_sequences) {
        for (int b = 0; b < B; b++)
            for (int t = 0; t < l->len[b]; t++)
                memcpy(l->dyt + ((size_t)t * B + b) * O, d_output + ((size_t)b * T + t) * O,
                       sizeof(float) * O);
    } else if (d_output) {
        /* the last-step output is (a merge of) the top layer's final states: route its gradient
         * to dhn, which the encoder injects at each sequence's last real step */
        if (d_state_h)
            memcpy(l->dhn, d_state_h, ns * sizeof(float));
        else
            memset(l->dhn, 0, ns * sizeof(float));
        int top = (l->cfg.layers - 1) * l->enc.dirs;
        for (int b = 0; b < B; b++) {
            const float *g = d_output + (size_t)b * O;
            for (int d = 0; d < l->enc.dirs; d++) {
                float *dst = l->dhn + ((size_t)(top + d) * B + b) * H;
                const float *src = l->cfg.merge == NR_MERGE_CONCAT ? g + d * H : g;
                for (int j = 0; j < H; j++)
                    dst[j] += src[j];
            }
        }
        dhn = l->dhn;
    }
    float *dx = NULL;
    if (d_input) {
        dx = l->dxt;
        memset(dx, 0, sizeof(float) * (size_t)T * B * I);
    }
    int rc = nr_encoder_backward(&l->enc, l->ws, l->grad, dx, d_initial_h, d_initial_c, l->dyt,
                                 dhn, l->cfg.cell == NR_CELL_LSTM ? d_state_c : NULL, err);
    if (rc)
        return rc;
    if (d_input)
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++) {
                float *o = d_input + ((size_t)b * T + t) * I;
                const float *s = dx + ((size_t)t * B + b) * I;
                for (int j = 0; j < I; j++)
                    o[j] += s[j];
            }
    return 0;
}

void nlprnn_layer_zero_grad(nlprnn_layer *l)
{
    if (!l)
        return;
    memset(l->grad, 0, sizeof(float) * l->enc.n_params);
}

size_t nlprnn_layer_param_count(const nlprnn_layer *l)
{
    return l ? l->enc.n_params : 0;
}

int nlprnn_layer_get_weights(const nlprnn_layer *l, float *dst, size_t n, nlprnn_error *err)
{
    if (!l || !dst)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "layer get_weights: NULL argument");
    if (n != l->enc.n_params)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "layer: %zu weights asked, it has %zu",
                       n, l->enc.n_params);
    memcpy(dst, l->params, n * sizeof(float));
    return 0;
}

int nlprnn_layer_set_weights(nlprnn_layer *l, const float *src, size_t n, nlprnn_error *err)
{
    if (!l || !src)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "layer set_weights: NULL argument");
    if (n != l->enc.n_params)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "layer: %zu weights given, it has %zu",
                       n, l->enc.n_params);
    memcpy(l->params, src, n * sizeof(float));
    return 0;
}

const float *nlprnn_layer_grad(const nlprnn_layer *l)
{
    return l ? l->grad : NULL;
}

/* ---- optimizers -------------------------------------------------------------------------------- */

int nlprnn_optimizer_create(int kind, nlprnn_optimizer **out, nlprnn_error *err)
{
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "optimizer: out is NULL");
    *out = NULL;
    if (kind < NLPRNN_OPT_SGD || kind > NLPRNN_OPT_ADAMW)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "optimizer: unknown kind %d", kind);
    nlprnn_optimizer *o = calloc(1, sizeof *o);
    if (!o) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "optimizer: out of memory");
    nr_optim_cfg_default(&o->cfg, kind); /* nlprnn_optimizer_kind values equal nr_optim_kind */
    *out = o;
    return 0;
}

void nlprnn_optimizer_free(nlprnn_optimizer *o)
{
    if (!o)
        return;
    nr_optim_free(&o->opt);
    free(o);
}

int nlprnn_optimizer_set_option(nlprnn_optimizer *o, int option, double value, nlprnn_error *err)
{
    if (!o)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "optimizer set_option: NULL optimizer");
    nr_optim_cfg c = o->cfg;
    switch (option) {
    case NLPRNN_OPTIMIZER_LR: c.lr = (float)value; break;
    case NLPRNN_OPTIMIZER_MOMENTUM: c.momentum = (float)value; break;
    case NLPRNN_OPTIMIZER_NESTEROV: c.nesterov = value != 0.0; break;
    case NLPRNN_OPTIMIZER_BETA1: c.beta1 = (float)value; break;
    case NLPRNN_OPTIMIZER_BETA2: c.beta2 = (float)value; break;
    case NLPRNN_OPTIMIZER_EPSILON: c.eps = (float)value; break;
    case NLPRNN_OPTIMIZER_WEIGHT_DECAY: c.weight_decay = (float)value; break;
    case NLPRNN_OPTIMIZER_CLIP_NORM:
    case NLPRNN_OPTIMIZER_CLIP_VALUE:
        if (!(value >= 0.0))
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "optimizer: clip %g must be >= 0",
                           value);
        if (option == NLPRNN_OPTIMIZER_CLIP_NORM)
            o->clip_norm = value;
        else
            o->clip_value = value;
        return 0;
    default:
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "optimizer: unknown option %d", option);
    }
    if (o->bound && option == NLPRNN_OPTIMIZER_MOMENTUM && (c.momentum > 0) != (o->cfg.momentum > 0))
        return nr_fail(err, NLPRNN_E_STATE, -1, -1,
                       "optimizer: momentum must be switched on before the first step");
    nr_optim probe;
    int rc = nr_optim_init(&probe, &c, 0, err); /* validates the values */
    nr_optim_free(&probe);
    if (rc)
        return rc;
    o->cfg = c;
    o->opt.cfg = c;
    return 0;
}

int nlprnn_optimizer_step(nlprnn_optimizer *o, nlprnn_layer *l, double *grad_norm,
                          nlprnn_error *err)
{
    if (!o || !l)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "optimizer step: NULL argument");
    if (!o->bound) {
        int rc = nr_optim_init(&o->opt, &o->cfg, l->enc.n_params, err);
        if (rc)
            return rc;
        o->bound = l;
    } else if (o->bound != l || o->opt.n != l->enc.n_params) {
        return nr_fail(err, NLPRNN_E_STATE, -1, -1,
                       "optimizer step: this optimizer belongs to another layer (or the layer "
                       "changed shape)");
    }
    size_t n = l->enc.n_params;
    double norm = nr_clip_grad_norm(l->grad, n, o->clip_norm);
    if (grad_norm)
        *grad_norm = norm;
    if (!(norm == norm) || norm > 1e30)
        return nr_fail(err, NLPRNN_E_NUMERIC, -1, -1, "optimizer step: gradient norm is %g", norm);
    nr_clip_grad_value(l->grad, n, (float)o->clip_value);
    nr_optim_step(&o->opt, l->params, l->grad, o->cfg.lr);
    nlprnn_layer_zero_grad(l);
    return 0;
}

int nlprnn_layer_train_step(nlprnn_layer *l, nlprnn_optimizer *opt, const float *input, int batch,
                            int timesteps, const int *lengths, const float *target, double *loss,
                            nlprnn_error *err)
{
    if (!l || !opt || !input || !target)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "train step: NULL argument");
    if (batch < 1 || timesteps < 1)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "train step: batch %d and timesteps %d must be >= 1", batch, timesteps);
    int dims[3];
    int nd = nlprnn_layer_output_shape(l, batch, timesteps, dims);
    size_t ny = (size_t)dims[0] * dims[1] * (nd == 3 ? dims[2] : 1);
    if (grow(&l->cap_t, ny, &l->ty, &l->tdy, &l->tmask))
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "train step: out of memory");
    float *y = l->ty, *dy = l->tdy, *mask = NULL;
    int rc = nlprnn_layer_forward(l, y, NULL, NULL, input, batch, timesteps, lengths, NULL, NULL,
                                  1, err);
    if (rc)
        return rc;
    if (nd == 3 && lengths) { /* padded steps are not part of the loss */
        mask = l->tmask;
        size_t O = (size_t)dims[2];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < timesteps; t++)
                for (size_t j = 0; j < O; j++)
                    mask[((size_t)b * timesteps + t) * O + j] = t < lengths[b] ? 1.0f : 0.0f;
    }
    double L = nr_mse(dy, y, target, mask, (int)ny, NULL);
    if (loss)
        *loss = L;
    if (!(L == L))
        return nr_fail(err, NLPRNN_E_NUMERIC, -1, -1, "train step: loss is NaN");
    rc = nlprnn_layer_backward(l, NULL, NULL, NULL, dy, NULL, NULL, err);
    if (!rc)
        rc = nlprnn_optimizer_step(opt, l, NULL, err);
    return rc;
}

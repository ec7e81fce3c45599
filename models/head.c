/* models/head.c: dense layer and losses (see models/head.h for the equations). */
#include "models/head.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/math.h"

/* ---- dense ------------------------------------------------------------------------------------ */

size_t nr_dense_param_count(int in, int out)
{
    return (size_t)in * out + out;
}

void nr_dense_bind(nr_dense *d, int in, int out, float *params)
{
    d->in = in;
    d->out = out;
    d->w = params;
    d->b = params + (size_t)in * out;
}

void nr_dense_init(const nr_dense *d, nr_rng *rng)
{
    nr_init_glorot_uniform(d->w, d->out, d->in, rng);
    memset(d->b, 0, sizeof(float) * d->out);
}

void nr_dense_forward(const nr_dense *d, float *y, const float *x, int N)
{
    // y (N,out) = b ; y += x (N,in) W^T (in,out)
    for (int n = 0; n < N; n++)
        memcpy(y + (size_t)n * d->out, d->b, sizeof(float) * d->out);
    nr_sgemm(0, 1, N, d->out, d->in, 1.0f, x, d->in, d->w, d->in, 1.0f, y, d->out);
}

void nr_dense_backward(const nr_dense *d, float *grad, float *dx, const float *dy, const float *x,
                       int N)
{
    float *dw = grad, *db = grad + (size_t)d->in * d->out;
    // dW (out,in) += dy^T (out,N) x (N,in)
    nr_sgemm(1, 0, d->out, d->in, N, 1.0f, dy, d->out, x, d->in, 1.0f, dw, d->in);
    // db (out) += column sums of dy
    for (int n = 0; n < N; n++)
        nr_axpy(db, 1.0f, dy + (size_t)n * d->out, d->out);
    // dx (N,in) += dy (N,out) W (out,in)
    if (dx)
        nr_sgemm(0, 0, N, d->in, d->out, 1.0f, dy, d->out, d->w, d->in, 1.0f, dx, d->in);
}

/* ---- softmax cross-entropy ------------------------------------------------------------------- */

void nr_softmax_rows(float *z, int N, int C)
{
    for (int n = 0; n < N; n++) {
        float *r = z + (size_t)n * C, mx = -FLT_MAX;
        for (int c = 0; c < C; c++)
            mx = r[c] > mx ? r[c] : mx;
        double s = 0.0;
        for (int c = 0; c < C; c++) {
            r[c] = expf(r[c] - mx);
            s += r[c];
        }
        float inv = (float)(1.0 / s);
        for (int c = 0; c < C; c++)
            r[c] *= inv;
    }
}

void nr_argmax_rows(int *pred, const float *logits, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const float *r = logits + (size_t)n * C;
        int best = 0;
        for (int c = 1; c < C; c++)
            if (r[c] > r[best])
                best = c;
        pred[n] = best;
    }
}

/* Rows with a target in 0..C-1. */
static int counted_rows(const int *targets, int N, int C)
{
    int cnt = 0;
    for (int n = 0; n < N; n++)
        cnt += targets[n] >= 0 && targets[n] < C;
    return cnt;
}

double nr_softmax_xent(float *dlogits, const float *logits, const int *targets, int N, int C,
                       int *count)
{
    int cnt = counted_rows(targets, N, C);
    return nr_softmax_xent_part(dlogits, logits, targets, N, C, cnt ? 1.0 / cnt : 0.0, count);
}

double nr_softmax_xent_part(float *dlogits, const float *logits, const int *targets, int N, int C,
                            double inv, int *count)
{
    if (count)
        *count = counted_rows(targets, N, C);
    double loss = 0.0;
    for (int n = 0; n < N; n++) {
        const float *z = logits + (size_t)n * C;
        float *dz = dlogits + (size_t)n * C;
        int y = targets[n];
        if (y < 0 || y >= C) {
            memset(dz, 0, sizeof(float) * C);
            continue;
        }
        // L = logsumexp(z) - z[y] ; dz = (softmax(z) - onehot(y)) / count
        float mx = -FLT_MAX;
        for (int c = 0; c < C; c++)
            mx = z[c] > mx ? z[c] : mx;
        double s = 0.0;
        for (int c = 0; c < C; c++)
            s += exp((double)z[c] - mx);
        double lse = mx + log(s);
        loss += lse - z[y];
        float zy = z[y];
        for (int c = 0; c < C; c++)
            dz[c] = (float)(exp((double)z[c] - lse) * inv);
        dz[y] = (float)((exp((double)zy - lse) - 1.0) * inv);
    }
    return loss * inv;
}

double nr_softmax_xent_soft(float *dlogits, const float *logits, const float *q, const float *temp,
                            int N, int C)
{
    double loss = 0.0, inv = N > 0 ? 1.0 / N : 0.0;
    for (int n = 0; n < N; n++) {
        const float *z = logits + (size_t)n * C, *qn = q + (size_t)n * C;
        float *dz = dlogits + (size_t)n * C;
        double T = temp ? temp[n] : 1.0, mx = -DBL_MAX, s = 0.0;
        // u = z / T; L = T^2 (logsumexp(u) - sum q u) (sum q = 1); dz = T (softmax(u) - q) / N
        for (int c = 0; c < C; c++)
            mx = z[c] / T > mx ? z[c] / T : mx;
        for (int c = 0; c < C; c++)
            s += exp(z[c] / T - mx);
        double lse = mx + log(s), l = 0.0;
        for (int c = 0; c < C; c++)
            l += qn[c] > 0.0f ? qn[c] * (lse - z[c] / T) : 0.0;
        loss += T * T * l;
        for (int c = 0; c < C; c++) {
            double p = exp(z[c] / T - lse);
            dz[c] = (float)(T * (p - qn[c]) * inv);
        }
    }
    return loss * inv;
}

/* ---- sampled softmax -------------------------------------------------------------------------- */

struct nr_sampled_softmax {
    int max_N, S, in, C;
    int *ids;       /* (S) sampled classes */
    float *logq;    /* (S) log(S * Q(k)) */
    float *w;       /* (S,in) gathered rows of W */
    float *z;       /* (max_N,S) sampled logits, then their gradient */
    float *dws;     /* (S,in) gradient for the gathered rows */
    float *zt;      /* (max_N) true-class logits */
};

nr_sampled_softmax *nr_sampled_softmax_create(int max_N, int n_samples, int in, int C,
                                              nlprnn_error *err)
{
    if (max_N < 1 || n_samples < 1 || in < 1 || C < 2) {
        nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                "sampled softmax: max_N %d, samples %d, in %d, classes %d out of range", max_N,
                n_samples, in, C);
        return NULL;
    }
    nr_sampled_softmax *s = calloc(1, sizeof *s);
    if (s) {
        s->max_N = max_N;
        s->S = n_samples;
        s->in = in;
        s->C = C;
        s->ids = nr_malloc_array((size_t)n_samples, sizeof(int));
        s->logq = nr_malloc_array((size_t)n_samples, sizeof(float));
        s->w = nr_malloc_array((size_t)n_samples * in, sizeof(float));
        s->dws = nr_malloc_array((size_t)n_samples * in, sizeof(float));
        s->z = nr_malloc_array((size_t)max_N * n_samples, sizeof(float));
        s->zt = nr_malloc_array((size_t)max_N, sizeof(float));
    }
    if (!s || !s->ids || !s->logq || !s->w || !s->dws || !s->z || !s->zt) {
        nr_sampled_softmax_free(s);
        nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "sampled softmax: out of memory");
        return NULL;
    }
    return s;
}

void nr_sampled_softmax_free(nr_sampled_softmax *s)
{
    if (!s)
        return;
    free(s->ids);
    free(s->logq);
    free(s->w);
    free(s->dws);
    free(s->z);
    free(s->zt);
    free(s);
}

/* log(S * Q(k)), Q(k) = log((k+2)/(k+1)) / log(C+1) */
static float log_expected(int k, int S, int C)
{
    return (float)(log((double)S) + log(log((k + 2.0) / (k + 1.0)) / log(C + 1.0)));
}

void nr_sampled_softmax_draw(int *ids, int S, int C, nr_rng *rng)
{
    /* k = floor(exp(u * log(C+1))) - 1 is log-uniform over 0..C-1 */
    for (int j = 0; j < S; j++) {
        double u = nr_rng_uniform(rng);
        int k = (int)floor(exp(u * log(C + 1.0))) - 1;
        ids[j] = k < 0 ? 0 : k >= C ? C - 1 : k;
    }
}

double nr_sampled_softmax_xent(nr_sampled_softmax *s, const nr_dense *d, float *grad, float *dx,
                               const float *x, const int *targets, int N, nr_rng *rng,
                               int *count)
{
    if (d->in != s->in || d->out != s->C)
        return NAN; /* made for another head shape */
    nr_sampled_softmax_draw(s->ids, s->S, s->C, rng);
    int cnt = counted_rows(targets, N, s->C);
    return nr_sampled_softmax_xent_part(s, d, grad, dx, x, targets, N, s->ids, cnt ? 1.0 / cnt : 0.0,
                                        count);
}

double nr_sampled_softmax_xent_part(nr_sampled_softmax *s, const nr_dense *d, float *grad, float *dx,
                                    const float *x, const int *targets, int N, const int *ids,
                                    double inv, int *count)
{
    int S = s->S, in = d->in, C = d->out;
    if (in != s->in || C != s->C)
        return NAN; /* made for another head shape */
    /* the sampled rows of W and their expected counts */
    for (int j = 0; j < S; j++) {
        int k = ids[j];
        s->ids[j] = k;
        s->logq[j] = log_expected(k, S, C);
        memcpy(s->w + (size_t)j * in, d->w + (size_t)k * in, sizeof(float) * in);
    }
    if (count)
        *count = counted_rows(targets, N, C);
    double loss = 0.0;
    float *dW = grad, *db = grad + (size_t)in * C;
    /* rows in chunks of max_N (the size of the logit scratch) */
    for (int n0 = 0; n0 < N; n0 += s->max_N) {
        int m = N - n0 < s->max_N ? N - n0 : s->max_N;
        const float *xc = x + (size_t)n0 * in;
        // z (m,S) = x (m,in) Ws^T (in,S)
        nr_sgemm(0, 1, m, S, in, 1.0f, xc, in, s->w, in, 0.0f, s->z, S);
        for (int r = 0; r < m; r++) {
            float *z = s->z + (size_t)r * S;
            int y = targets[n0 + r];
            if (y < 0 || y >= C) {
                memset(z, 0, sizeof(float) * S);
                continue;
            }
            const float *xn = xc + (size_t)r * in;
            double zt = d->b[y] - log_expected(y, S, C);
            for (int k = 0; k < in; k++)
                zt += (double)xn[k] * d->w[(size_t)y * in + k];
            double mx = zt;
            for (int j = 0; j < S; j++) {
                z[j] = s->ids[j] == y ? -INFINITY : z[j] + d->b[s->ids[j]] - s->logq[j];
                mx = z[j] > mx ? z[j] : mx;
            }
            double sum = exp(zt - mx);
            for (int j = 0; j < S; j++)
                sum += exp((double)z[j] - mx);
            double lse = mx + log(sum);
            loss += lse - zt;
            /* dz = (p - onehot) / count ; the true class sits outside z */
            double dzt = (exp(zt - lse) - 1.0) * inv;
            for (int j = 0; j < S; j++)
                z[j] = (float)(exp((double)z[j] - lse) * inv);
            float *dwy = dW + (size_t)y * in;
            for (int k = 0; k < in; k++)
                dwy[k] += (float)dzt * xn[k];
            db[y] += (float)dzt;
            if (dx)
                nr_axpy(dx + (size_t)(n0 + r) * in, (float)dzt, d->w + (size_t)y * in, in);
        }
        // dWs (S,in) = dz^T (S,m) x (m,in), scattered to the sampled rows; db += column sums
        nr_sgemm(1, 0, S, in, m, 1.0f, s->z, S, xc, in, 0.0f, s->dws, in);
        for (int j = 0; j < S; j++) {
            nr_axpy(dW + (size_t)s->ids[j] * in, 1.0f, s->dws + (size_t)j * in, in);
            float sb = 0.0f;
            for (int r = 0; r < m; r++)
                sb += s->z[(size_t)r * S + j];
            db[s->ids[j]] += sb;
        }
        // dx (m,in) += dz (m,S) Ws (S,in)
        if (dx)
            nr_sgemm(0, 0, m, in, S, 1.0f, s->z, S, s->w, in, 1.0f, dx + (size_t)n0 * in, in);
    }
    return loss * inv;
}

/* ---- binary cross-entropy and MSE ------------------------------------------------------------ */

double nr_sigmoid_bce(float *dlogits, const float *logits, const float *targets, const float *mask,
                      int N, int *count)
{
    int cnt = 0;
    for (int n = 0; n < N; n++)
        cnt += !mask || mask[n] != 0.0f;
    if (count)
        *count = cnt;
    double loss = 0.0, inv = cnt ? 1.0 / cnt : 0.0;
    for (int n = 0; n < N; n++) {
        if (mask && mask[n] == 0.0f) {
            dlogits[n] = 0.0f;
            continue;
        }
        double z = logits[n], y = targets[n];
        // L = max(z,0) - z y + log(1 + exp(-|z|)) ; dL/dz = σ(z) - y
        loss += (z > 0 ? z : 0) - z * y + log1p(exp(-fabs(z)));
        dlogits[n] = (float)((1.0 / (1.0 + exp(-z)) - y) * inv);
    }
    return loss * inv;
}

double nr_mse(float *dpred, const float *pred, const float *target, const float *mask, int N,
              int *count)
{
    int cnt = 0;
    for (int n = 0; n < N; n++)
        cnt += !mask || mask[n] != 0.0f;
    if (count)
        *count = cnt;
    double loss = 0.0, inv = cnt ? 1.0 / cnt : 0.0;
    for (int n = 0; n < N; n++) {
        if (mask && mask[n] == 0.0f) {
            dpred[n] = 0.0f;
            continue;
        }
        double e = (double)pred[n] - target[n];
        loss += e * e;
        dpred[n] = (float)(2.0 * e * inv);
    }
    return loss * inv;
}
